/* vb-vmamba-params.c: the named parameter table (official state-dict keys and shapes,
 * shared/specs/vmamba.md §12.2), the official initialisation (§6), and loading or
 * exporting parameters by name. */
#include "config.h"

#include "vb-vmamba-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-param-table.h"

static void
param_info_free (gpointer p)
{
  VbParamInfo *info = p;
  g_free (info->name);
  g_free (info);
}

/* Appends a tensor to the table and returns its offset. The official optimizer builder
 * skips weight decay only for 1-D tensors and names ending in ".bias" (§6). */
static int64_t
add (VbVmamba *m, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  VbParamInfo *info = g_new0 (VbParamInfo, 1);
  info->name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  int64_t dims[4] = { d0, d1, d2, d3 };
  info->ndim = ndim;
  info->numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      info->shape[i] = dims[i];
      info->numel *= dims[i];
    }
  info->offset = m->n_params;
  info->decay = ndim > 1 && !g_str_has_suffix (info->name, ".bias");
  m->n_params += info->numel;
  g_ptr_array_add (m->tensors, info);
  return info->offset;
}

gboolean
vb_vmamba_build_tensors (VbVmamba *m, GError **error)
{
  const VbVmambaConfig *cfg = &m->cfg;
  m->tensors = g_ptr_array_new_with_free_func (param_info_free);
  m->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  m->n_params = 0;

  int64_t C0 = cfg->dims[0], half = C0 / 2;
  m->stem_c1_w = add (m, 4, half, cfg->in_chans, 3, 3, "patch_embed.0.weight");
  m->stem_c1_b = add (m, 1, half, 0, 0, 0, "patch_embed.0.bias");
  m->stem_ln1_w = add (m, 1, half, 0, 0, 0, "patch_embed.2.weight");
  m->stem_ln1_b = add (m, 1, half, 0, 0, 0, "patch_embed.2.bias");
  m->stem_c2_w = add (m, 4, C0, half, 3, 3, "patch_embed.5.weight");
  m->stem_c2_b = add (m, 1, C0, 0, 0, 0, "patch_embed.5.bias");
  m->stem_ln2_w = add (m, 1, C0, 0, 0, 0, "patch_embed.7.weight");
  m->stem_ln2_b = add (m, 1, C0, 0, 0, 0, "patch_embed.7.bias");

  for (int i = 0; i < cfg->n_stages; i++)
    {
      int64_t C = cfg->dims[i], D = vb_vmamba_config_d_inner (cfg, i);
      int64_t R = vb_vmamba_config_dt_rank (cfg, i), N = cfg->d_state;
      int64_t K = vb_scan_mode_groups (cfg->scan), M = 4 * C;
      m->blocks[i] = g_new0 (VbBlockOffsets, cfg->depths[i]);
      for (int j = 0; j < cfg->depths[i]; j++)
        {
          VbBlockOffsets *o = &m->blocks[i][j];
          const char *p = "layers";
          o->norm_w = add (m, 1, C, 0, 0, 0, "%s.%d.blocks.%d.norm.weight", p, i, j);
          o->norm_b = add (m, 1, C, 0, 0, 0, "%s.%d.blocks.%d.norm.bias", p, i, j);
          o->x_proj = add (m, 3, K, R + 2 * N, D, 0, "%s.%d.blocks.%d.op.x_proj_weight", p, i, j);
          o->A_logs = add (m, 2, K * D, N, 0, 0, "%s.%d.blocks.%d.op.A_logs", p, i, j);
          o->Ds = add (m, 1, K * D, 0, 0, 0, "%s.%d.blocks.%d.op.Ds", p, i, j);
          o->dt_w = add (m, 3, K, D, R, 0, "%s.%d.blocks.%d.op.dt_projs_weight", p, i, j);
          o->dt_b = add (m, 2, K, D, 0, 0, "%s.%d.blocks.%d.op.dt_projs_bias", p, i, j);
          o->on_w = add (m, 1, D, 0, 0, 0, "%s.%d.blocks.%d.op.out_norm.weight", p, i, j);
          o->on_b = add (m, 1, D, 0, 0, 0, "%s.%d.blocks.%d.op.out_norm.bias", p, i, j);
          o->in_proj = add (m, 2, D, C, 0, 0, "%s.%d.blocks.%d.op.in_proj.weight", p, i, j);
          o->conv = add (m, 4, D, 1, 3, 3, "%s.%d.blocks.%d.op.conv2d.weight", p, i, j);
          o->out_proj = add (m, 2, C, D, 0, 0, "%s.%d.blocks.%d.op.out_proj.weight", p, i, j);
          o->norm2_w = add (m, 1, C, 0, 0, 0, "%s.%d.blocks.%d.norm2.weight", p, i, j);
          o->norm2_b = add (m, 1, C, 0, 0, 0, "%s.%d.blocks.%d.norm2.bias", p, i, j);
          o->fc1_w = add (m, 2, M, C, 0, 0, "%s.%d.blocks.%d.mlp.fc1.weight", p, i, j);
          o->fc1_b = add (m, 1, M, 0, 0, 0, "%s.%d.blocks.%d.mlp.fc1.bias", p, i, j);
          o->fc2_w = add (m, 2, C, M, 0, 0, "%s.%d.blocks.%d.mlp.fc2.weight", p, i, j);
          o->fc2_b = add (m, 1, C, 0, 0, 0, "%s.%d.blocks.%d.mlp.fc2.bias", p, i, j);
        }
      if (i + 1 < cfg->n_stages)
        {
          m->down_w[i] = add (m, 4, 2 * C, C, 3, 3, "layers.%d.downsample.1.weight", i);
          m->down_b[i] = add (m, 1, 2 * C, 0, 0, 0, "layers.%d.downsample.1.bias", i);
          m->down_ln_w[i] = add (m, 1, 2 * C, 0, 0, 0, "layers.%d.downsample.3.weight", i);
          m->down_ln_b[i] = add (m, 1, 2 * C, 0, 0, 0, "layers.%d.downsample.3.bias", i);
        }
    }
  int64_t C4 = cfg->dims[cfg->n_stages - 1];
  m->head_ln_w = add (m, 1, C4, 0, 0, 0, "classifier.norm.weight");
  m->head_ln_b = add (m, 1, C4, 0, 0, 0, "classifier.norm.bias");
  m->head_w = add (m, 2, cfg->num_classes, C4, 0, 0, "classifier.head.weight");
  m->head_b = add (m, 1, cfg->num_classes, 0, 0, 0, "classifier.head.bias");

  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbParamInfo *info = g_ptr_array_index (m->tensors, t);
      g_hash_table_insert (m->by_name, info->name, info);
    }

  m->params = g_try_malloc0 (m->n_params * sizeof (float));
  m->grads = g_try_malloc0 (m->n_params * sizeof (float));
  if (m->params == NULL || m->grads == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for %" G_GINT64_FORMAT " parameters", m->n_params);
      return FALSE;
    }

  /* stochastic depth: linear from 0 to drop_path_rate over all blocks */
  int total = 0, idx = 0;
  for (int i = 0; i < cfg->n_stages; i++)
    total += cfg->depths[i];
  for (int i = 0; i < cfg->n_stages; i++)
    for (int j = 0; j < cfg->depths[i]; j++, idx++)
      m->drop_rate[i][j] = total > 1 ? cfg->drop_path_rate * idx / (total - 1) : 0.0f;
  return TRUE;
}

/* ---- initialisation ---------------------------------------------------------------------- */

static void
fill_uniform (float *p, int64_t n, float bound, VbRng *rng)
{
  for (int64_t i = 0; i < n; i++)
    p[i] = vb_rng_range (rng, -bound, bound);
}

static void
fill_trunc_normal (float *p, int64_t n, VbRng *rng)
{
  for (int64_t i = 0; i < n; i++)
    p[i] = vb_rng_trunc_normal (rng, 0.02f, 2.0f);
}

static void
fill_const (float *p, int64_t n, float v)
{
  for (int64_t i = 0; i < n; i++)
    p[i] = v;
}

static void
init_conv (float *w, float *b, int64_t cout, int64_t fan_in, VbRng *rng)
{
  /* PyTorch Conv2d default: kaiming_uniform(a = √5) → U(±1/√fan_in), bias the same */
  float bound = 1.0f / sqrtf ((float) fan_in);
  fill_uniform (w, cout * fan_in, bound, rng);
  if (b != NULL)
    fill_uniform (b, cout, bound, rng);
}

void
vb_vmamba_init_head (VbVmamba *m, VbRng *rng)
{
  int64_t C4 = m->cfg.dims[m->cfg.n_stages - 1];
  fill_trunc_normal (m->params + m->head_w, (int64_t) m->cfg.num_classes * C4, rng);
  fill_const (m->params + m->head_b, m->cfg.num_classes, 0.0f);
  vb_vmamba_params_to_backend (m);
}

void
vb_vmamba_init_weights (VbVmamba *m, uint64_t seed)
{
  const VbVmambaConfig *cfg = &m->cfg;
  float *P = m->params;
  VbRng rng;
  vb_rng_init (&rng, seed);

  int64_t C0 = cfg->dims[0], half = C0 / 2;
  init_conv (P + m->stem_c1_w, P + m->stem_c1_b, half, cfg->in_chans * 9, &rng);
  fill_const (P + m->stem_ln1_w, half, 1.0f);
  fill_const (P + m->stem_ln1_b, half, 0.0f);
  init_conv (P + m->stem_c2_w, P + m->stem_c2_b, C0, half * 9, &rng);
  fill_const (P + m->stem_ln2_w, C0, 1.0f);
  fill_const (P + m->stem_ln2_b, C0, 0.0f);

  for (int i = 0; i < cfg->n_stages; i++)
    {
      int64_t C = cfg->dims[i], D = vb_vmamba_config_d_inner (cfg, i);
      int64_t R = vb_vmamba_config_dt_rank (cfg, i), N = cfg->d_state;
      int64_t K = vb_scan_mode_groups (cfg->scan), M = 4 * C;
      for (int j = 0; j < cfg->depths[i]; j++)
        {
          VbBlockOffsets *o = &m->blocks[i][j];
          fill_const (P + o->norm_w, C, 1.0f);
          fill_const (P + o->norm_b, C, 0.0f);
          fill_trunc_normal (P + o->in_proj, D * C, &rng);
          fill_uniform (P + o->conv, D * 9, 1.0f / 3.0f, &rng);
          /* x_proj: a temporary Linear(D → R+2N)'s default init, untouched afterwards */
          fill_uniform (P + o->x_proj, K * (R + 2 * N) * D, 1.0f / sqrtf ((float) D), &rng);
          /* dt_proj weight: U(±R^-0.5) ("random" dt_init, dt_scale 1) */
          fill_uniform (P + o->dt_w, K * D * R, 1.0f / sqrtf ((float) R), &rng);
          /* dt bias: inverse softplus of a log-uniform dt in [1e-3, 0.1], clamped ≥ 1e-4 */
          for (int64_t c = 0; c < K * D; c++)
            {
              double dt = exp (vb_rng_range (&rng, logf (1e-3f), logf (0.1f)));
              dt = MAX (dt, 1e-4);
              P[o->dt_b + c] = (float) (dt + log (-expm1 (-dt)));
            }
          /* S4D-real: A_logs row = log(1 … N) */
          for (int64_t c = 0; c < K * D; c++)
            for (int64_t n = 0; n < N; n++)
              P[o->A_logs + c * N + n] = logf ((float) (n + 1));
          fill_const (P + o->Ds, K * D, 1.0f);
          fill_const (P + o->on_w, D, 1.0f);
          fill_const (P + o->on_b, D, 0.0f);
          fill_trunc_normal (P + o->out_proj, C * D, &rng);
          fill_const (P + o->norm2_w, C, 1.0f);
          fill_const (P + o->norm2_b, C, 0.0f);
          fill_trunc_normal (P + o->fc1_w, M * C, &rng);
          fill_const (P + o->fc1_b, M, 0.0f);
          fill_trunc_normal (P + o->fc2_w, C * M, &rng);
          fill_const (P + o->fc2_b, C, 0.0f);
        }
      if (i + 1 < cfg->n_stages)
        {
          init_conv (P + m->down_w[i], P + m->down_b[i], 2 * C, C * 9, &rng);
          fill_const (P + m->down_ln_w[i], 2 * C, 1.0f);
          fill_const (P + m->down_ln_b[i], 2 * C, 0.0f);
        }
    }
  int64_t C4 = cfg->dims[cfg->n_stages - 1];
  fill_const (P + m->head_ln_w, C4, 1.0f);
  fill_const (P + m->head_ln_b, C4, 0.0f);
  vb_vmamba_init_head (m, &rng);
}

/* ---- by name ------------------------------------------------------------------------------ */

/* a head for another class count is the usual mismatch: say how to fine-tune anyway */
#define HEAD_HINT " (use --strip-head to fine-tune on another class count)"

static gboolean
is_head (const char *name)
{
  return g_str_has_prefix (name, "classifier.head.");
}

gboolean
vb_vmamba_load_dict (VbVmamba *m, VbTensorDict *dict, gboolean skip_head, const char *source,
                     GError **error)
{
  g_auto (VbParamCheck) check = { 0 };

  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbParamInfo *info = g_ptr_array_index (m->tensors, t);
      if (skip_head && is_head (info->name))
        continue;
      if (!vb_param_check_tensor (&check, dict, info->name, info->ndim, info->shape, source,
                                  "the model", is_head (info->name) ? HEAD_HINT : "", error))
        return FALSE;
    }
  for (guint t = 0; t < vb_tensor_dict_size (dict); t++)
    {
      VbTensorEntry *e = vb_tensor_dict_index (dict, t);
      if (skip_head && is_head (e->name))
        continue;
      if (g_hash_table_lookup (m->by_name, e->name) == NULL)
        vb_param_check_unexpected (&check, e->name);
    }
  if (!vb_param_check_finish (&check, source, "the model", error))
    return FALSE;
  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbParamInfo *info = g_ptr_array_index (m->tensors, t);
      if (skip_head && is_head (info->name))
        continue;
      VbTensorEntry *e = vb_tensor_dict_lookup (dict, info->name);
      memcpy (m->params + info->offset, e->data, info->numel * sizeof (float));
    }
  vb_vmamba_params_to_backend (m);
  return TRUE;
}

VbTensorDict *
vb_vmamba_to_dict (VbVmamba *m)
{
  VbTensorDict *dict = vb_tensor_dict_new ();
  vb_vmamba_params_from_backend (m);
  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbParamInfo *info = g_ptr_array_index (m->tensors, t);
      vb_tensor_dict_add_copy (dict, info->name, info->ndim, info->shape,
                               m->params + info->offset);
    }
  return dict;
}
