/* vb-vmamba.c: VMamba forward and backward on the CPU kernels (shared/specs/vmamba.md
 * §1.3–§2.6 forward, §5 backward). Channel-last throughout; every "linear" is a
 * per-pixel matrix product over B·H·W rows. */
#include "config.h"

#include "vb-vmamba-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-profile.h"

#define LN_EPS 1e-5f
/* every op goes through the model's backend table */
#define OP(name, ...) m->ops->name (m->ops->ctx, __VA_ARGS__)

VbVmamba *
vb_vmamba_new (const VbVmambaConfig *cfg, GError **error)
{
  if (!vb_vmamba_config_validate (cfg, error))
    return NULL;
  g_autoptr (VbVmamba) m = g_new0 (VbVmamba, 1);
  m->cfg = *cfg;
  m->ops = vb_cpu_ops ();
  if (!vb_vmamba_build_tensors (m, error))
    return NULL;
  m->dparams = m->params;
  m->dgrads = m->grads;
  return g_steal_pointer (&m);
}

static void
free_backend_copies (VbVmamba *m)
{
  if (m->dparams16 != NULL)
    m->ops->free (m->ops->ctx, m->dparams16);
  m->dparams16 = NULL;
  if (m->ops != NULL && !m->ops->on_host)
    {
      m->ops->free (m->ops->ctx, m->dparams);
      m->ops->free (m->ops->ctx, m->dgrads);
    }
  m->dparams = m->params;
  m->dgrads = m->grads;
}

gboolean
vb_vmamba_use_backend (VbVmamba *m, const VbOps *ops, GError **error)
{
  size_t bytes = (size_t) m->n_params * sizeof (float);

  vb_vmamba_plan_clear (m);
  free_backend_copies (m);
  m->ops = ops;
  if (ops->on_host)
    return TRUE;
  m->dparams = ops->alloc (ops->ctx, bytes);
  m->dgrads = m->dparams != NULL ? ops->alloc (ops->ctx, bytes) : NULL;
  if (m->dgrads == NULL)
    {
      g_autofree char *why = g_strdup (ops->sync (ops->ctx));
      ops->clear_error (ops->ctx);
      ops->free (ops->ctx, m->dparams);
      m->dparams = m->params;
      m->dgrads = m->grads;
      m->ops = vb_cpu_ops ();
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot hold the model's %" G_GINT64_FORMAT " parameters on %s: %s",
                   m->n_params, ops->name, why ? why : "out of memory");
      return FALSE;
    }
  vb_vmamba_params_to_backend (m);
  return TRUE;
}

const VbOps *vb_vmamba_backend (VbVmamba *m) { return m->ops; }
gboolean vb_vmamba_bf16 (VbVmamba *m) { return m->bf16; }

void
vb_vmamba_set_bf16 (VbVmamba *m, gboolean bf16)
{
  if (m->bf16 == !!bf16)
    return;
  vb_vmamba_plan_clear (m);   /* the next forward plans for the other storage */
  if (m->dparams16 != NULL)
    m->ops->free (m->ops->ctx, m->dparams16);
  m->dparams16 = NULL;
  m->bf16 = !!bf16;
}
float *vb_vmamba_backend_params (VbVmamba *m) { return m->dparams; }
float *vb_vmamba_backend_grads (VbVmamba *m) { return m->dgrads; }

void
vb_vmamba_params_to_backend (VbVmamba *m)
{
  if (!m->ops->on_host)
    m->ops->upload (m->ops->ctx, m->dparams, m->params, (size_t) m->n_params * sizeof (float));
}

float *
vb_vmamba_params_from_backend (VbVmamba *m)
{
  if (!m->ops->on_host)
    m->ops->download (m->ops->ctx, m->params, m->dparams, (size_t) m->n_params * sizeof (float));
  return m->params;
}

float *
vb_vmamba_grads_from_backend (VbVmamba *m)
{
  if (!m->ops->on_host)
    m->ops->download (m->ops->ctx, m->grads, m->dgrads, (size_t) m->n_params * sizeof (float));
  return m->grads;
}

void
vb_vmamba_free (VbVmamba *m)
{
  if (m == NULL)
    return;
  vb_vmamba_plan_clear (m);
  free_backend_copies (m);
  for (int i = 0; i < VB_VMAMBA_MAX_STAGES; i++)
    g_free (m->blocks[i]);
  g_clear_pointer (&m->by_name, g_hash_table_unref);
  g_clear_pointer (&m->tensors, g_ptr_array_unref);
  g_free (m->params);
  g_free (m->grads);
  g_free (m);
}

const VbVmambaConfig *vb_vmamba_config (VbVmamba *m) { return &m->cfg; }
int64_t vb_vmamba_n_params (VbVmamba *m) { return m->n_params; }
guint vb_vmamba_n_tensors (VbVmamba *m) { return m->tensors->len; }
float *vb_vmamba_params (VbVmamba *m) { return m->params; }
float *vb_vmamba_grads (VbVmamba *m) { return m->grads; }
const float *
vb_vmamba_logits (VbVmamba *m)
{
  if (m->logits_stale)   /* after a training forward: fetched on demand */
    {
      m->ops->download (m->ops->ctx, m->logits_host, m->logits,
                        (size_t) m->plan_B * m->cfg.num_classes * sizeof (float));
      m->logits_stale = FALSE;
    }
  return m->logits_host;
}

const VbParamInfo *
vb_vmamba_tensor (VbVmamba *m, guint i)
{
  g_return_val_if_fail (i < m->tensors->len, NULL);
  return g_ptr_array_index (m->tensors, i);
}

const VbParamInfo *
vb_vmamba_find_tensor (VbVmamba *m, const char *name)
{
  return g_hash_table_lookup (m->by_name, name);
}

void
vb_vmamba_zero_grad (VbVmamba *m)
{
  m->ops->zero (m->ops->ctx, m->dgrads, (size_t) m->n_params * sizeof (float));
}

/* ---- forward ------------------------------------------------------------------------------ */

/* Every block's per-image drop-path scales for this step, drawn on the host in block order
 * (dp1, then dp2: one RNG stream whatever the backend) into the page-locked staging; an
 * evaluation forward uses none of them and draws nothing. */
static void
draw_drop_paths (VbVmamba *m, int B, VbRng *rng)
{
  float *h = m->dp_host;
  for (int i = 0; i < m->cfg.n_stages; i++)
    for (int j = 0; j < m->cfg.depths[i]; j++)
      for (int k = 0; k < 2; k++, h += B)
        {
          float rate = m->drop_rate[i][j];
          for (int b = 0; b < B; b++)
            h[b] = rate <= 0.0f || rng == NULL
                   ? 1.0f : vb_rng_uniform (rng) < rate ? 0.0f : 1.0f / (1.0f - rate);
        }
}

static size_t
drop_path_bytes (VbVmamba *m)
{
  size_t blocks = 0;
  for (int i = 0; i < m->cfg.n_stages; i++)
    blocks += m->cfg.depths[i];
  return 2 * blocks * m->plan_B * sizeof (float);
}

void
vb_vmamba_stage_step (VbVmamba *m, const int *labels, VbRng *rng)
{
  draw_drop_paths (m, m->plan_B, rng);
  m->dp_staged = TRUE;
  if (labels != m->labels_host)
    memcpy (m->labels_host, labels, m->plan_B * sizeof (int));
}

void vb_vmamba_keep_staged (VbVmamba *m) { m->dp_staged = TRUE; }
guint64 vb_vmamba_plan_id (VbVmamba *m) { return m->plan_id; }
const int *vb_vmamba_staged_labels (VbVmamba *m) { return m->labels_host; }

/* the 3×3 stride-2 convolutions (stem, downsampling): on bf16-rounded operands in bf16
 * storage, their tensors fp32 either way */
static void
conv_forward (VbVmamba *m, float *out, const float *in, const float *w, const float *b, int B,
              int H, int W, int cin, int cout)
{
  (m->bf16 ? m->ops->conv3x3s2_forward_bf16 : m->ops->conv3x3s2_forward) (
      m->ops->ctx, out, in, w, b, B, H, W, cin, cout);
}

static void
conv_backward (VbVmamba *m, float *din, float *dw, float *db, const float *dout,
               const float *in, const float *w, int B, int H, int W, int cin, int cout)
{
  (m->bf16 ? m->ops->conv3x3s2_backward_bf16 : m->ops->conv3x3s2_backward) (
      m->ops->ctx, din, dw, db, dout, in, w, B, H, W, cin, cout);
}

static void
block_forward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o, VbBlockActs *a,
               const float *x_in, float rate, gboolean training)
{
  const float *P = m->dparams;
  int B = m->plan_B, C = s->C, D = s->D, R = s->R, N = s->N, K = s->K, M = s->M;
  int64_t L = (int64_t) s->H * s->W, BL = B * L, KD = (int64_t) K * D, RN = R + 2 * N;

  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;

  a->x_in = x_in;
  /* SS2D: in_proj → depthwise conv → SiLU → cross-scan */
  if (bf16)
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward_bf16, a->ln1_16, a->ln1_mean, a->ln1_rstd, x_in,
                   P + o->norm_w, P + o->norm_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, a->u0, NULL, D, a->ln1_16, C, P16 + o->in_proj, NULL,
                   BL, C, D));
    }
  else
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward, a->ln1, a->ln1_mean, a->ln1_rstd, x_in, P + o->norm_w,
                   P + o->norm_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, a->u0, D, a->ln1, C, P + o->in_proj, NULL, BL, C, D));
    }
  /* u1 = dwconv (u0), u = SiLU (u1) (and its bf16 copy for the x projection) in one pass */
  VB_PROF ("dwconv3x3",
           OP (dwconv3x3_silu_forward, a->u1, a->u, bf16 ? a->u16 : NULL, a->u0, P + o->conv, B,
               s->H, s->W, D));
  /* Everything per token stays in spatial order: the scan reads each group's route
   * through an index map (specs/kernels.md §3), so there are no permuted copies and the
   * K groups' x projections are one product, x_dbl = [W_x[0]; …; W_x[K−1]]·u. */
  if (bf16)
    VB_PROF ("x/dt_proj (GEMM)",
             OP (linear_forward_bf16, a->xdbl, NULL, K * RN, a->u16, D, P16 + o->x_proj, NULL,
                 BL, D, (int) (K * RN)));
  else
    VB_PROF ("x/dt_proj (GEMM)",
             OP (linear_forward, a->xdbl, K * RN, a->u, D, P + o->x_proj, NULL, BL, D,
                 (int) (K * RN)));
  /* dts[k] = W_dt[k]·dt_low[k]; group k's output at the positions it visited, their sum
   * the cross-merge. In bf16 storage Δ and the groups' outputs (K·D values a token) are
   * bf16: their traffic was the largest of the step. */
  OP (ssm_split_bc, a->Bs, a->Cs, a->xdbl, BL, K, R, N);
  OP (neg_exp, m->s_A, P + o->A_logs, KD * N);
  float *hck = training ? a->hck : NULL;
  if (bf16)
    {
      VB_PROF ("x/dt_proj (GEMM)",
               OP (to_bf16, a->xdbl16, a->xdbl, NULL, 1, BL * K * RN));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_forward_groups_bf16, a->dts16, KD, D, a->xdbl16, K * RN, RN,
                   P16 + o->dt_w, (int64_t) D * R, K, BL, R, D));
      VB_PROF ("selective scan",
               OP (ss2d_scan_forward_bf16, m->s_ys16, hck, a->u, a->dts16, m->s_A, a->Bs,
                   a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N, m->cfg.scan));
      VB_PROF ("cross-scan/merge",
               OP (group_sum_bf16, a->y, m->s_ys16, BL, K, D, 0));
      VB_PROF ("layernorm",
               OP (layernorm_forward_bf16, a->yln16, a->yln_mean, a->yln_rstd, a->y,
                   P + o->on_w, P + o->on_b, BL, D, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, m->s_o, NULL, C, a->yln16, D, P16 + o->out_proj, NULL,
                   BL, D, C));
    }
  else
    {
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_forward_groups, a->dts, KD, D, a->xdbl, K * RN, RN, P + o->dt_w,
                   (int64_t) D * R, K, BL, R, D));
      VB_PROF ("selective scan",
               OP (ss2d_scan_forward, m->s_ys, hck, a->u, a->dts, m->s_A, a->Bs, a->Cs,
                   P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N, m->cfg.scan));
      /* the cross-merge inside the LayerNorm after it: y is written for the backward */
      VB_PROF ("layernorm",
               OP (merge_layernorm_forward, a->y, a->yln, NULL, a->yln_mean, a->yln_rstd,
                   m->s_ys, K, P + o->on_w, P + o->on_b, BL, D, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, m->s_o, C, a->yln, D, P + o->out_proj, NULL, BL, D, C));
    }
  /* the branch joins the stream through drop path, in one pass */
  const float *dp1 = training && rate > 0.0f ? a->dp1 : NULL;
  const float *dp2 = training && rate > 0.0f ? a->dp2 : NULL;
  VB_PROF ("add/drop-path",
           OP (residual_add, a->x_mid, x_in, m->s_o, NULL, C, dp1, B, L * C));

  /* MLP branch */
  if (bf16)
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward_bf16, a->ln2_16, a->ln2_mean, a->ln2_rstd, a->x_mid,
                   P + o->norm2_w, P + o->norm2_b, BL, C, LN_EPS));
      /* fc1's bias joins in the GELU (bias + GELU epilogue): h1 is kept without it */
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, NULL, a->h1_16, M, a->ln2_16, C, P16 + o->fc1_w, NULL,
                   BL, C, M));
      VB_PROF ("gelu/silu",
               OP (gelu_forward_bf16, a->g16, a->h1_16, P + o->fc1_b, BL, M));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, m->s_o, NULL, C, a->g16, M, P16 + o->fc2_w, NULL, BL,
                   M, C));
    }
  else
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward, a->ln2, a->ln2_mean, a->ln2_rstd, a->x_mid,
                   P + o->norm2_w, P + o->norm2_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, a->h1, M, a->ln2, C, P + o->fc1_w, P + o->fc1_b, BL, C, M));
      VB_PROF ("gelu/silu",
               OP (gelu_forward, a->g, a->h1, BL * M));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, m->s_o, C, a->g, M, P + o->fc2_w, NULL, BL, M, C));
    }
  /* fc2's bias joins with the residual add */
  VB_PROF ("add/drop-path",
           OP (residual_add, a->x_out, a->x_mid, m->s_o, P + o->fc2_b, C, dp2, B, L * C));
}

static gboolean
all_finite (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* the plan in place serves a (B, H, W) forward; a training one also its backward */
static gboolean
plan_fits (VbVmamba *m, int B, int H, int W, gboolean training)
{
  return m->plan_B == B && m->plan_H == H && m->plan_W == W
         && (m->plan_training || !training);
}

/* the backend's first error becomes a GError; the backend is ready for the next step */
static gboolean
backend_failed (VbVmamba *m, const char *what, GError **error)
{
  const char *why = m->ops->sync (m->ops->ctx);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "%s on %s: %s", what, m->ops->name,
               why ? why : "out of memory");
  m->ops->clear_error (m->ops->ctx);
  return FALSE;
}

gboolean
vb_vmamba_forward_queue (VbVmamba *m, const float *images, int B, int H, int W,
                         gboolean training, VbRng *rng, GError **error)
{
  const VbVmambaConfig *cfg = &m->cfg;
  if (B < 1 || H < 1 || W < 1 || H > 4096 || W > 4096)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "invalid input size %d×%d×%d", B, H, W);
      return FALSE;
    }
  gboolean staged = images == m->images_host && images != NULL;
  if (!plan_fits (m, B, H, W, training))
    {
      if (staged)   /* replanning would free the buffer the input sits in */
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "the input staging buffer was sized for another batch or image size");
          return FALSE;
        }
      if (vb_vmamba_plan (m, cfg, B, H, W, training, m->bf16) < 0)
        return backend_failed (m, "cannot hold the activations", error);
    }
  const float *P = m->dparams;
  int64_t C0 = cfg->dims[0], half = C0 / 2;
  int64_t rows1 = (int64_t) B * m->H1 * m->W1;
  int64_t rows0 = (int64_t) B * m->stage[0].H * m->stage[0].W;

  size_t in_bytes = (size_t) B * H * W * cfg->in_chans * sizeof (float);
  if (staged && images != m->images)   /* page-locked: the copy joins the queue */
    m->ops->upload_async (m->ops->ctx, m->images, images, in_bytes);
  else if (images != m->images)        /* else already in place (vb_vmamba_input_buffer) */
    m->ops->upload (m->ops->ctx, m->images, images, in_bytes);
  if (training)
    {
      /* drawn now unless vb_vmamba_stage_step did; copied in the stream's order, so a
       * replayed graph reads the step's new draws */
      if (!m->dp_staged)
        draw_drop_paths (m, B, rng);
      m->dp_staged = FALSE;
      m->ops->upload_async (m->ops->ctx, m->dp_all, m->dp_host, drop_path_bytes (m));
    }
  if (m->bf16)   /* this step's weights, rounded once for all the block products */
    {
      if (m->dparams16 == NULL
          && (m->dparams16 = m->ops->alloc (m->ops->ctx,
                                            (size_t) m->n_params * sizeof (VbBf16))) == NULL)
        return backend_failed (m, "cannot hold the bf16 weights", error);
      OP (to_bf16, m->dparams16, P, NULL, 1, m->n_params);
    }
  /* stem: conv → LN → GELU → conv → LN */
  VB_PROF ("conv3x3 s2",
           conv_forward (m, m->s_c1, m->images, P + m->stem_c1_w, P + m->stem_c1_b, B, H, W,
                         cfg->in_chans, (int) half));
  VB_PROF ("layernorm",
           OP (layernorm_forward, m->s_ln1, m->s_ln1_mean, m->s_ln1_rstd, m->s_c1,
               P + m->stem_ln1_w, P + m->stem_ln1_b, rows1, (int) half, LN_EPS));
  VB_PROF ("gelu/silu",
           OP (gelu_forward, m->s_g, m->s_ln1, rows1 * half));
  VB_PROF ("conv3x3 s2",
           conv_forward (m, m->s_c2, m->s_g, P + m->stem_c2_w, P + m->stem_c2_b, B, m->H1,
                         m->W1, (int) half, (int) C0));
  VB_PROF ("layernorm",
           OP (layernorm_forward, m->stage_in[0], m->stage_in_mean[0], m->stage_in_rstd[0],
               m->s_c2, P + m->stem_ln2_w, P + m->stem_ln2_b, rows0, (int) C0, LN_EPS));

  const float *x = NULL;
  for (int i = 0; i < cfg->n_stages; i++)
    {
      const VbStageShape *s = &m->stage[i];
      int64_t rows = (int64_t) B * s->H * s->W;
      if (i > 0)
        {
          const VbStageShape *prev = &m->stage[i - 1];
          VB_PROF ("conv3x3 s2",
                   conv_forward (m, m->down_c[i - 1], x, P + m->down_w[i - 1],
                                 P + m->down_b[i - 1], B, prev->H, prev->W, prev->C, s->C));
          VB_PROF ("layernorm",
                   OP (layernorm_forward, m->stage_in[i], m->stage_in_mean[i],
                       m->stage_in_rstd[i], m->down_c[i - 1], P + m->down_ln_w[i - 1],
                       P + m->down_ln_b[i - 1], rows, s->C, LN_EPS));
        }
      x = m->stage_in[i];
      for (int j = 0; j < cfg->depths[i]; j++)
        {
          block_forward (m, s, &m->blocks[i][j], &m->acts[i][j], x, m->drop_rate[i][j],
                         training);
          x = m->acts[i][j].x_out;
        }
    }
  /* head: LN → mean pool → linear */
  const VbStageShape *last = &m->stage[cfg->n_stages - 1];
  int64_t L4 = (int64_t) last->H * last->W;
  VB_PROF ("layernorm",
           OP (layernorm_forward, m->head_ln, m->head_mean, m->head_rstd, x, P + m->head_ln_w,
               P + m->head_ln_b, B * L4, last->C, LN_EPS));
  VB_PROF ("head",
           OP (avgpool_forward, m->pooled, m->head_ln, B, (int) L4, last->C));
  VB_PROF ("linear (GEMM)",
           OP (linear_forward, m->logits, cfg->num_classes, m->pooled, last->C, P + m->head_w,
               P + m->head_b, B, last->C, cfg->num_classes));
  m->have_backward_state = training;
  /* the logits come back only when asked for (a training step checks its loss instead) */
  m->logits_stale = TRUE;
  return TRUE;
}

gboolean
vb_vmamba_forward (VbVmamba *m, const float *images, int B, int H, int W, gboolean training,
                   VbRng *rng, GError **error)
{
  const VbVmambaConfig *cfg = &m->cfg;
  if (!vb_vmamba_forward_queue (m, images, B, H, W, training, rng, error))
    return FALSE;
  if (training)
    return TRUE;
  m->logits_stale = FALSE;
  m->ops->download (m->ops->ctx, m->logits_host, m->logits,
                    (size_t) B * cfg->num_classes * sizeof (float));
  if (m->ops->sync (m->ops->ctx) != NULL)
    return backend_failed (m, "the forward pass failed", error);
  if (!all_finite (m->logits_host, (int64_t) B * cfg->num_classes))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_DIVERGED,
                   "the forward pass produced NaN or infinite logits");
      return FALSE;
    }
  return TRUE;
}

float *
vb_vmamba_input_buffer (VbVmamba *m, int B, int H, int W, gboolean training, GError **error)
{
  if (!plan_fits (m, B, H, W, training)
      && vb_vmamba_plan (m, &m->cfg, B, H, W, training, m->bf16) < 0)
    {
      backend_failed (m, "cannot hold the activations", error);
      return NULL;
    }
  return m->images;
}

float *
vb_vmamba_input_staging (VbVmamba *m, int B, int H, int W, gboolean training, GError **error)
{
  return vb_vmamba_input_buffer (m, B, H, W, training, error) != NULL ? m->images_host : NULL;
}

void
vb_vmamba_loss_queue (VbVmamba *m, const int *labels, float smoothing)
{
  if (labels != m->labels_host)
    memcpy (m->labels_host, labels, m->plan_B * sizeof (int));
  m->ops->upload_async (m->ops->ctx, m->labels, m->labels_host, m->plan_B * sizeof (int));
  m->smoothing = smoothing;
  OP (softmax_xent_loss, m->probs, m->loss, m->logits, m->labels, m->plan_B,
      m->cfg.num_classes, smoothing);
}

float
vb_vmamba_loss_read (VbVmamba *m)
{
  float loss = NAN;
  m->ops->download (m->ops->ctx, &loss, m->loss, sizeof loss);
  return loss;
}

float
vb_vmamba_loss (VbVmamba *m, const int *labels, float smoothing)
{
  vb_vmamba_loss_queue (m, labels, smoothing);
  return vb_vmamba_loss_read (m);
}

/* ---- backward ----------------------------------------------------------------------------- */

/* dx holds ∂ℓ/∂x_out on entry and ∂ℓ/∂x_in on return. */
static void
block_backward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
                const VbBlockActs *a, float *dx, float rate)
{
  const float *P = m->dparams;
  float *G = m->dgrads;
  int B = m->plan_B, C = s->C, D = s->D, R = s->R, N = s->N, K = s->K, M = s->M;
  int64_t L = (int64_t) s->H * s->W, BL = B * L, KD = (int64_t) K * D, RN = R + 2 * N;
  gboolean dropping = rate > 0.0f;
  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;

  /* MLP branch: x_out = x_mid + dp(fc2(gelu(fc1(ln2(x_mid))))) */
  const float *dbr = dx;
  if (bf16)
    {
      /* the branch's gradient, drop path applied, rounded once for the product */
      VB_PROF ("add/drop-path",
               OP (to_bf16, m->d_br16, dx, dropping ? a->dp2 : NULL, B, L * C));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, NULL, m->d_g16, M, G + o->fc2_w, G + o->fc2_b,
                   m->d_br16, C, a->g16, M, P16 + o->fc2_w, BL, M, C));
      VB_PROF ("gelu/silu",
               OP (gelu_backward_bf16, m->d_h1_16, m->d_g16, a->h1_16, P + o->fc1_b, BL, M));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, m->d_ln, NULL, C, G + o->fc1_w, G + o->fc1_b,
                   m->d_h1_16, M, a->ln2_16, C, P16 + o->fc1_w, BL, C, M));
    }
  else
    {
      if (dropping)
        {
          VB_PROF ("add/drop-path",
                   OP (drop_path_backward, m->d_br, dx, a->dp2, B, L * C));
          dbr = m->d_br;
        }
      VB_PROF ("linear (GEMM)",
               OP (linear_backward, m->d_g, M, 0, G + o->fc2_w, G + o->fc2_b, dbr, C, a->g, M,
                   P + o->fc2_w, BL, M, C));
      VB_PROF ("gelu/silu",
               OP (gelu_backward, m->d_h1, m->d_g, a->h1, BL * M));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward, m->d_ln, C, 0, G + o->fc1_w, G + o->fc1_b, m->d_h1, M,
                   a->ln2, C, P + o->fc1_w, BL, C, M));
    }
  /* added onto the stream's gradient in place: the residual's backward */
  VB_PROF ("layernorm",
           OP (layernorm_backward, dx, 1, G + o->norm2_w, G + o->norm2_b, m->d_ln, a->x_mid,
               a->ln2_mean, a->ln2_rstd, P + o->norm2_w, BL, C));

  /* SS2D branch: x_mid = x_in + dp(out_proj(out_norm(merge(scan(...))))) */
  dbr = dx;
  if (bf16)
    {
      VB_PROF ("add/drop-path",
               OP (to_bf16, m->d_br16, dx, dropping ? a->dp1 : NULL, B, L * C));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, m->d_yln, NULL, D, G + o->out_proj, NULL, m->d_br16, C,
                   a->yln16, D, P16 + o->out_proj, BL, D, C));
    }
  else
    {
      if (dropping)
        {
          VB_PROF ("add/drop-path",
                   OP (drop_path_backward, m->d_br, dx, a->dp1, B, L * C));
          dbr = m->d_br;
        }
      VB_PROF ("linear (GEMM)",
               OP (linear_backward, m->d_yln, D, 0, G + o->out_proj, NULL, dbr, C, a->yln, D,
                   P + o->out_proj, BL, D, C));
    }
  VB_PROF ("layernorm",
           OP (layernorm_backward, m->d_y, 0, G + o->on_w, G + o->on_b, m->d_yln, a->y,
               a->yln_mean, a->yln_rstd, P + o->on_w, BL, D));
  /* the cross-merge's backward needs no kernel: every group reads d_y at its positions */
  OP (neg_exp, m->s_A, P + o->A_logs, KD * N);
  m->ops->zero (m->ops->ctx, m->s_dA, KD * N * sizeof (float));
  /* then dt_proj, writing the dt_low columns of d_xdbl */
  if (bf16)
    {
      VB_PROF ("selective scan",
               OP (ss2d_scan_backward_bf16, m->d_us16, m->d_dts16, m->s_dA, m->d_Bs, m->d_Cs,
                   G + o->Ds, G + o->dt_b, m->d_y, a->hck, a->u, a->dts16, m->s_A, a->Bs,
                   a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N, m->cfg.scan));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_groups_bf16, m->d_xdbl, K * RN, RN, G + o->dt_w,
                   (int64_t) D * R, m->d_dts16, KD, D, a->xdbl16, K * RN, RN, P16 + o->dt_w,
                   K, BL, R, D));
    }
  else
    {
      VB_PROF ("selective scan",
               OP (ss2d_scan_backward, m->d_us, m->d_dts, m->s_dA, m->d_Bs, m->d_Cs, G + o->Ds,
                   G + o->dt_b, m->d_y, a->hck, a->u, a->dts, m->s_A, a->Bs, a->Cs, P + o->Ds,
                   P + o->dt_b, B, s->H, s->W, K, D, N, m->cfg.scan));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_groups, m->d_xdbl, K * RN, RN, 0, G + o->dt_w,
                   (int64_t) D * R, m->d_dts, KD, D, a->xdbl, K * RN, RN, P + o->dt_w, K, BL, R,
                   D));
    }
  /* A = −exp(A_logs) ⇒ dA_logs = dA · A */
  OP (mul_acc, G + o->A_logs, m->s_dA, m->s_A, KD * N);
  OP (ssm_join_bc, m->d_xdbl, m->d_Bs, m->d_Cs, BL, K, R, N);
  /* x_proj, all groups in one product: d_u = Σ_k W_x[k]ᵀ·dx_dbl[k] */
  if (bf16)
    {
      VB_PROF ("x/dt_proj (GEMM)",
               OP (to_bf16, m->d_xdbl16, m->d_xdbl, NULL, 1, BL * K * RN));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_bf16, m->d_u, NULL, D, G + o->x_proj, NULL, m->d_xdbl16,
                   K * RN, a->u16, D, P16 + o->x_proj, BL, D, (int) (K * RN)));
    }
  else
    VB_PROF ("x/dt_proj (GEMM)",
             OP (linear_backward, m->d_u, D, 0, G + o->x_proj, NULL, m->d_xdbl, K * RN, a->u,
                 D, P + o->x_proj, BL, D, (int) (K * RN)));
  /* plus the scan's Σ_k du_k: the cross-scan's backward */
  if (bf16)
    VB_PROF ("cross-scan/merge",
             OP (group_sum_bf16, m->d_u, m->d_us16, BL, K, D, 1));
  else
    VB_PROF ("cross-scan/merge",
             OP (group_sum, m->d_u, m->d_us, BL, K, D, 1));
  /* SiLU's backward inside the depthwise conv's loads */
  VB_PROF ("dwconv3x3",
           OP (dwconv3x3_silu_backward, m->d_u0, G + o->conv, m->d_u, a->u1, a->u0, P + o->conv,
               B, s->H, s->W, D));
  if (bf16)
    {
      VB_PROF ("linear (GEMM)",
               OP (to_bf16, m->d_u0_16, m->d_u0, NULL, 1, BL * D));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, m->d_ln, NULL, C, G + o->in_proj, NULL, m->d_u0_16, D,
                   a->ln1_16, C, P16 + o->in_proj, BL, C, D));
    }
  else
    VB_PROF ("linear (GEMM)",
             OP (linear_backward, m->d_ln, C, 0, G + o->in_proj, NULL, m->d_u0, D, a->ln1, C,
                 P + o->in_proj, BL, C, D));
  VB_PROF ("layernorm",
           OP (layernorm_backward, dx, 1, G + o->norm_w, G + o->norm_b, m->d_ln, a->x_in,
               a->ln1_mean, a->ln1_rstd, P + o->norm_w, BL, C));
}

void
vb_vmamba_backward (VbVmamba *m, float *dimages)
{
  g_return_if_fail (m->have_backward_state);
  const VbVmambaConfig *cfg = &m->cfg;
  const float *P = m->dparams;
  float *G = m->dgrads;
  int B = m->plan_B;
  int64_t C0 = cfg->dims[0], half = C0 / 2;
  int64_t rows1 = (int64_t) B * m->H1 * m->W1;
  int64_t rows0 = (int64_t) B * m->stage[0].H * m->stage[0].W;

  VB_PROF ("head",
           OP (softmax_xent_backward, m->d_logits, m->probs, m->labels, B, cfg->num_classes,
               m->smoothing, 1.0f));
  const VbStageShape *last = &m->stage[cfg->n_stages - 1];
  int64_t L4 = (int64_t) last->H * last->W;
  VB_PROF ("linear (GEMM)",
           OP (linear_backward, m->d_pooled, last->C, 0, G + m->head_w, G + m->head_b,
               m->d_logits, cfg->num_classes, m->pooled, last->C, P + m->head_w, B, last->C,
               cfg->num_classes));
  VB_PROF ("head",
           OP (avgpool_backward, m->d_ln, m->d_pooled, B, (int) L4, last->C));
  int last_depth = cfg->depths[cfg->n_stages - 1];
  const float *x_last = m->acts[cfg->n_stages - 1][last_depth - 1].x_out;
  float *dx = m->d_x, *dx_other = m->d_x2;
  VB_PROF ("layernorm",
           OP (layernorm_backward, dx, 0, G + m->head_ln_w, G + m->head_ln_b, m->d_ln, x_last,
               m->head_mean, m->head_rstd, P + m->head_ln_w, B * L4, last->C));

  for (int i = cfg->n_stages - 1; i >= 0; i--)
    {
      const VbStageShape *s = &m->stage[i];
      int64_t rows = (int64_t) B * s->H * s->W;
      for (int j = cfg->depths[i] - 1; j >= 0; j--)
        block_backward (m, s, &m->blocks[i][j], &m->acts[i][j], dx, m->drop_rate[i][j]);
      /* dx is now ∂ℓ/∂stage_in[i] */
      if (i > 0)
        {
          const VbStageShape *prev = &m->stage[i - 1];
          VB_PROF ("layernorm",
                   OP (layernorm_backward, m->d_tmp, 0, G + m->down_ln_w[i - 1],
                       G + m->down_ln_b[i - 1], dx, m->down_c[i - 1], m->stage_in_mean[i],
                       m->stage_in_rstd[i], P + m->down_ln_w[i - 1], rows, s->C));
          const float *x_prev = m->acts[i - 1][cfg->depths[i - 1] - 1].x_out;
          VB_PROF ("conv3x3 s2",
                   conv_backward (m, dx_other, G + m->down_w[i - 1], G + m->down_b[i - 1],
                                  m->d_tmp, x_prev, P + m->down_w[i - 1], B, prev->H, prev->W,
                                  prev->C, s->C));
          float *t = dx;
          dx = dx_other;
          dx_other = t;
        }
    }
  /* stem, in reverse */
  VB_PROF ("layernorm",
           OP (layernorm_backward, m->d_tmp, 0, G + m->stem_ln2_w, G + m->stem_ln2_b, dx, m->s_c2,
               m->stage_in_mean[0], m->stage_in_rstd[0], P + m->stem_ln2_w, rows0, (int) C0));
  VB_PROF ("conv3x3 s2",
           conv_backward (m, dx_other, G + m->stem_c2_w, G + m->stem_c2_b, m->d_tmp, m->s_g,
                          P + m->stem_c2_w, B, m->H1, m->W1, (int) half, (int) C0));
  VB_PROF ("gelu/silu",
           OP (gelu_backward, m->d_ln, dx_other, m->s_ln1, rows1 * half));
  VB_PROF ("layernorm",
           OP (layernorm_backward, m->d_tmp, 0, G + m->stem_ln1_w, G + m->stem_ln1_b, m->d_ln,
               m->s_c1, m->s_ln1_mean, m->s_ln1_rstd, P + m->stem_ln1_w, rows1, (int) half));
  VB_PROF ("conv3x3 s2",
           conv_backward (m, dimages, G + m->stem_c1_w, G + m->stem_c1_b, m->d_tmp, m->images,
                          P + m->stem_c1_w, B, m->plan_H, m->plan_W, cfg->in_chans,
                          (int) half));
}
