/* vb-vmamba-config.c: VMamba configurations, scan-mode names, inference of a
 * configuration from an official state dict (§12.3), and the cost formulas (§9, §10). */
#include "config.h"

#include "vb-vmamba-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-param-table.h"

void
vb_vmamba_config_scaled (VbVmambaConfig *cfg, int dims0, const int *depths, int n_stages,
                         int num_classes)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->n_stages = n_stages;
  for (int i = 0; i < n_stages; i++)
    {
      cfg->depths[i] = depths[i];
      cfg->dims[i] = dims0 << i;
      cfg->dt_rank[i] = 0;
    }
  cfg->d_state = 1;
  cfg->ssm_ratio = 1.0;
  cfg->scan = VB_SCAN_4DIR;
  cfg->num_classes = num_classes;
  cfg->in_chans = 3;
  cfg->drop_path_rate = 0.2f;
}

void
vb_vmamba_config_tiny (VbVmambaConfig *cfg, int num_classes)
{
  static const int depths[] = { 2, 2, 8, 2 };
  vb_vmamba_config_scaled (cfg, 96, depths, 4, num_classes);
}

int
vb_vmamba_config_d_inner (const VbVmambaConfig *cfg, int stage)
{
  return (int) lround (cfg->ssm_ratio * cfg->dims[stage]);
}

int
vb_vmamba_config_dt_rank (const VbVmambaConfig *cfg, int stage)
{
  if (cfg->dt_rank[stage] > 0)
    return cfg->dt_rank[stage];
  return (cfg->dims[stage] + 15) / 16;
}

gboolean
vb_vmamba_config_validate (const VbVmambaConfig *cfg, GError **error)
{
#define BAD(...) G_STMT_START { g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID, __VA_ARGS__); return FALSE; } G_STMT_END
  if (cfg->n_stages < 1 || cfg->n_stages > VB_VMAMBA_MAX_STAGES)
    BAD ("VMamba needs 1 to %d stages, not %d", VB_VMAMBA_MAX_STAGES, cfg->n_stages);
  if (cfg->dims[0] < 2 || cfg->dims[0] % 2 != 0)
    BAD ("model.dims must be an even number ≥ 2 (the stem's hidden width is dims/2), not %d",
         cfg->dims[0]);
  for (int i = 0; i < cfg->n_stages; i++)
    {
      if (cfg->depths[i] < 1 || cfg->depths[i] > 64)
        BAD ("model.depths[%d] must be between 1 and 64, not %d", i, cfg->depths[i]);
      if (i > 0 && cfg->dims[i] != 2 * cfg->dims[i - 1])
        BAD ("stage widths must double: dims[%d] = %d, dims[%d] = %d",
             i - 1, cfg->dims[i - 1], i, cfg->dims[i]);
      if (vb_vmamba_config_d_inner (cfg, i) < 1)
        BAD ("model.ssm_ratio %.3g gives no SSM channels", cfg->ssm_ratio);
    }
  if (cfg->d_state < 1 || cfg->d_state > 64)
    BAD ("model.d_state must be between 1 and 64, not %d", cfg->d_state);
  if (cfg->num_classes < 1 || cfg->num_classes > 100000)
    BAD ("model.num_classes must be between 1 and 100000, not %d", cfg->num_classes);
  if (cfg->in_chans < 1 || cfg->in_chans > 16)
    BAD ("in_chans must be between 1 and 16, not %d", cfg->in_chans);
  if (cfg->drop_path_rate < 0 || cfg->drop_path_rate >= 1)
    BAD ("model.drop_path must be in [0, 1), not %g", cfg->drop_path_rate);
  if ((int) cfg->scan < 0 || cfg->scan > VB_SCAN_LEAN2DIR)
    BAD ("unknown scan mode %d", (int) cfg->scan);
  return TRUE;
#undef BAD
}

static const char *const scan_names[] = { "4dir", "2dir", "1dir", "lean2dir" };
static const char *const scan_labels[] = {
  "4-dir (Cross-Scan)", "2-dir (Bidi-Scan)", "1-dir (Unidi-Scan)", "lean 2-dir (K = 2)"
};

const char *
vb_scan_mode_to_string (VbScanMode mode)
{
  g_return_val_if_fail ((unsigned) mode <= VB_SCAN_LEAN2DIR, "?");
  return scan_names[mode];
}

const char *
vb_scan_mode_label (VbScanMode mode)
{
  g_return_val_if_fail ((unsigned) mode <= VB_SCAN_LEAN2DIR, "?");
  return scan_labels[mode];
}

gboolean
vb_scan_mode_from_string (const char *s, VbScanMode *mode)
{
  for (int i = 0; i <= VB_SCAN_LEAN2DIR; i++)
    if (g_strcmp0 (s, scan_names[i]) == 0)
      {
        *mode = i;
        return TRUE;
      }
  return FALSE;
}

/* ---- inference from a state dict ----------------------------------------------------- */

/* every tensor the inference reads: a wrong file fails here, naming what it is not */
static VbTensorEntry *
need (VbTensorDict *dict, const char *name, int ndim, const char *source, GError **error)
{
  return vb_param_table_need (dict, name, ndim, source, "VMamba checkpoint", error);
}

gboolean
vb_vmamba_config_from_dict (VbTensorDict *dict, VbScanMode scan, VbVmambaConfig *cfg,
                            const char *source, GError **error)
{
  memset (cfg, 0, sizeof *cfg);
  VbTensorEntry *stem = need (dict, "patch_embed.0.weight", 4, source, error);
  if (stem == NULL)
    return FALSE;
  cfg->in_chans = (int) stem->shape[1];

  int n_stages = 0;
  while (n_stages < VB_VMAMBA_MAX_STAGES + 1)
    {
      g_autofree char *name = g_strdup_printf ("layers.%d.blocks.0.norm.weight", n_stages);
      if (vb_tensor_dict_lookup (dict, name) == NULL)
        break;
      n_stages++;
    }
  if (n_stages < 1 || n_stages > VB_VMAMBA_MAX_STAGES)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "%s: found %d stages (layers.I.blocks.0.*); VisionBench supports 1 to %d",
                   source, n_stages, VB_VMAMBA_MAX_STAGES);
      return FALSE;
    }
  cfg->n_stages = n_stages;

  for (int i = 0; i < n_stages; i++)
    {
      int depth = 0;
      for (;;)
        {
          g_autofree char *name = g_strdup_printf ("layers.%d.blocks.%d.norm.weight", i, depth);
          if (vb_tensor_dict_lookup (dict, name) == NULL)
            break;
          depth++;
        }
      cfg->depths[i] = depth;
      g_autofree char *norm = g_strdup_printf ("layers.%d.blocks.0.norm.weight", i);
      g_autofree char *inp = g_strdup_printf ("layers.%d.blocks.0.op.in_proj.weight", i);
      g_autofree char *dtw = g_strdup_printf ("layers.%d.blocks.0.op.dt_projs_weight", i);
      g_autofree char *alog = g_strdup_printf ("layers.%d.blocks.0.op.A_logs", i);
      g_autofree char *fc1 = g_strdup_printf ("layers.%d.blocks.0.mlp.fc1.weight", i);
      VbTensorEntry *e_norm = need (dict, norm, 1, source, error);
      VbTensorEntry *e_in = e_norm ? need (dict, inp, 2, source, error) : NULL;
      VbTensorEntry *e_dt = e_in ? need (dict, dtw, 3, source, error) : NULL;
      VbTensorEntry *e_a = e_dt ? need (dict, alog, 2, source, error) : NULL;
      if (e_a == NULL)
        return FALSE;
      if (vb_tensor_dict_lookup (dict, fc1) == NULL)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: no MLP branch (%s missing): this VMamba variant is not supported",
                       source, fc1);
          return FALSE;
        }
      int C = (int) e_norm->shape[0];
      int D = (int) e_dt->shape[1];
      int K = (int) e_dt->shape[0];
      cfg->dims[i] = C;
      cfg->dt_rank[i] = (int) e_dt->shape[2];
      cfg->d_state = (int) e_a->shape[1];
      cfg->ssm_ratio = (double) D / C;
      if (e_in->shape[0] == 2 * D)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: %s has %" G_GINT64_FORMAT " rows = 2·d_inner: a gated (z) SS2D, "
                       "which VisionBench does not implement", source, inp, e_in->shape[0]);
          return FALSE;
        }
      int want_k = vb_scan_mode_groups (scan);
      if (K != want_k)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s: the checkpoint has K = %d scan groups, but scan mode %s needs K = %d%s",
                       source, K, vb_scan_mode_to_string (scan), want_k,
                       K == 2 ? " (a K = 2 checkpoint can only be lean 2-dir)" : "");
          return FALSE;
        }
      g_autofree char *mlp_name = g_strdup (fc1);
      VbTensorEntry *e_fc1 = vb_tensor_dict_lookup (dict, mlp_name);
      if (e_fc1->ndim != 2 || e_fc1->shape[0] != 4 * C)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: %s is not (4·C, C): only MLP ratio 4 is supported", source, fc1);
          return FALSE;
        }
    }
  VbTensorEntry *head = vb_tensor_dict_lookup (dict, "classifier.head.weight");
  cfg->num_classes = head && head->ndim == 2 ? (int) head->shape[0] : 1000;
  cfg->scan = scan;
  cfg->drop_path_rate = 0.0f;
  /* "auto" rank is recorded as 0 so the config prints like the official one */
  for (int i = 0; i < n_stages; i++)
    if (cfg->dt_rank[i] == (cfg->dims[i] + 15) / 16)
      cfg->dt_rank[i] = 0;
  return vb_vmamba_config_validate (cfg, error);
}

/* ---- costs ----------------------------------------------------------------------------- */

void
vb_vmamba_stage_shapes (const VbVmambaConfig *cfg, int H, int W, int *H1, int *W1,
                        VbStageShape *stages)
{
  int h = (H + 1) / 2, w = (W + 1) / 2;
  *H1 = h;
  *W1 = w;
  h = (h + 1) / 2;
  w = (w + 1) / 2;
  for (int i = 0; i < cfg->n_stages; i++)
    {
      if (i > 0)
        {
          h = (h + 1) / 2;
          w = (w + 1) / 2;
        }
      VbStageShape *s = &stages[i];
      s->H = h;
      s->W = w;
      s->C = cfg->dims[i];
      s->D = vb_vmamba_config_d_inner (cfg, i);
      s->R = vb_vmamba_config_dt_rank (cfg, i);
      s->Rp = (s->R + 7) / 8 * 8;
      s->N = cfg->d_state;
      s->K = vb_scan_mode_groups (cfg->scan);
      s->M = 4 * s->C;
    }
}

int64_t
vb_vmamba_macs (const VbVmambaConfig *cfg, int H, int W)
{
  int H1, W1;
  VbStageShape st[VB_VMAMBA_MAX_STAGES];
  vb_vmamba_stage_shapes (cfg, H, W, &H1, &W1, st);
  int64_t C0 = cfg->dims[0], half = C0 / 2;
  int64_t L1 = (int64_t) H1 * W1, L0 = (int64_t) st[0].H * st[0].W;
  /* stem: conv, LN (5 per element), conv, LN; GELU counts 0 */
  int64_t macs = L1 * half * cfg->in_chans * 9 + 5 * half * L1 + L0 * C0 * half * 9 + 5 * C0 * L0;
  for (int i = 0; i < cfg->n_stages; i++)
    {
      const VbStageShape *s = &st[i];
      int64_t L = (int64_t) s->H * s->W, C = s->C, D = s->D, R = s->R, N = s->N, K = s->K;
      int64_t block = C * D * L                 /* in_proj */
                      + 9 * D * L               /* depthwise conv */
                      + K * (R + 2 * N) * D * L /* x_proj */
                      + K * D * R * L           /* dt_proj */
                      + K * D * L * (9 * N + 1) /* selective scan incl. D skip */
                      + 5 * D * L               /* out_norm */
                      + D * C * L               /* out_proj */
                      + 10 * C * L              /* norm, norm2 */
                      + 2 * C * s->M * L;       /* fc1, fc2 */
      macs += block * cfg->depths[i];
      if (i + 1 < cfg->n_stages)
        {
          int64_t Lp = (int64_t) st[i + 1].H * st[i + 1].W;
          macs += 9 * C * 2 * C * Lp + 5 * 2 * C * Lp;
        }
    }
  const VbStageShape *last = &st[cfg->n_stages - 1];
  int64_t L4 = (int64_t) last->H * last->W;
  macs += 5 * last->C * L4 + last->C * L4 + (int64_t) last->C * cfg->num_classes;
  return macs;
}

int64_t
vb_vmamba_param_count (const VbVmambaConfig *cfg)
{
  int64_t C0 = cfg->dims[0], half = C0 / 2;
  int64_t n = half * cfg->in_chans * 9 + half + 2 * half + C0 * half * 9 + C0 + 2 * C0;
  for (int i = 0; i < cfg->n_stages; i++)
    {
      int64_t C = cfg->dims[i], D = vb_vmamba_config_d_inner (cfg, i);
      int64_t R = vb_vmamba_config_dt_rank (cfg, i), N = cfg->d_state;
      int64_t K = vb_scan_mode_groups (cfg->scan), M = 4 * C;
      int64_t block = 2 * C                      /* norm */
                      + D * C + D * 9            /* in_proj, depthwise conv */
                      + K * (R + 2 * N) * D      /* x_proj */
                      + K * D * R + K * D        /* dt_projs weight, bias */
                      + K * D * N + K * D        /* A_logs, Ds */
                      + 2 * D + C * D            /* out_norm, out_proj */
                      + 2 * C                    /* norm2 */
                      + M * C + M + C * M + C;   /* fc1, fc2 */
      n += block * cfg->depths[i];
      if (i + 1 < cfg->n_stages)
        n += 2 * C * C * 9 + 2 * C + 2 * (2 * C);
    }
  int64_t C4 = cfg->dims[cfg->n_stages - 1];
  n += 2 * C4 + C4 * cfg->num_classes + cfg->num_classes;
  return n;
}

int64_t
vb_vmamba_activation_bytes (const VbVmambaConfig *cfg, int H, int W, gboolean bf16)
{
  return vb_vmamba_plan (NULL, cfg, 1, H, W, TRUE, bf16);
}
