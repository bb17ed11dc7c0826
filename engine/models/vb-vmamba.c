/* vb-vmamba.c: VMamba forward and backward through the backend's ops (shared/specs/vmamba.md
 * §1.3–§2.6 forward, §5 backward): stem, downsampling, head, and the blocks in order
 * (vb-vmamba-block.c). Channel-last throughout; every "linear" is a per-pixel matrix
 * product over B·H·W rows. */
#include "config.h"

#include "vb-vmamba-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-profile.h"

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
  /* a shard draws the global batch's masks and keeps its rows */
  int lo = 0, all = B;
  if (m->shard_global > 0)
    {
      lo = m->shard_offset;
      all = m->shard_global;
    }
  for (int i = 0; i < m->cfg.n_stages; i++)
    for (int j = 0; j < m->cfg.depths[i]; j++)
      for (int k = 0; k < 2; k++, h += B)
        {
          float rate = m->drop_rate[i][j];
          for (int b = 0; b < all; b++)
            {
              float keep = rate <= 0.0f || rng == NULL
                           ? 1.0f : vb_rng_uniform (rng) < rate ? 0.0f : 1.0f / (1.0f - rate);
              if (b >= lo && b < lo + B)
                h[b - lo] = keep;
            }
        }
}

void
vb_vmamba_set_batch_shard (VbVmamba *m, int offset, int global_b)
{
  m->shard_offset = offset;
  m->shard_global = global_b;
}

void
vb_vmamba_set_grad_ready (VbVmamba *m, VbGradReadyFunc func, gpointer user_data)
{
  m->grad_ready = func;
  m->grad_ready_data = user_data;
}

/* the backend may queue the parameter gradients' last sums (LayerNorm's, the biases', the
 * depthwise conv's, the scan's, the weight products' slices) to run them together
 * (VB_PARAM_SUMS_AT_ONCE=1: not, for comparison) */
static void
defer_param_sums (VbVmamba *m)
{
  static int at_once = -1;
  if (at_once < 0)
    at_once = g_getenv ("VB_PARAM_SUMS_AT_ONCE") != NULL;
  if (m->ops->param_sums_defer != NULL && !at_once)
    m->ops->param_sums_defer (m->ops->ctx);
}

/* the gradients of the parameters from offset `from` on are complete (0: all): the
 * queued sums run first, then whoever waits for them is told */
static void
grads_final_from (VbVmamba *m, int64_t from)
{
  if (m->grad_ready == NULL && from != 0)
    return;
  if (m->ops->param_sums_flush != NULL)
    m->ops->param_sums_flush (m->ops->ctx);
  if (m->grad_ready != NULL)
    m->grad_ready (m->grad_ready_data, from);
  if (from != 0)
    defer_param_sums (m);
}

void
vb_vmamba_param_sums_sync (VbVmamba *m)
{
  if (m->ops->param_sums_flush == NULL)
    return;
  m->ops->param_sums_flush (m->ops->ctx);
  defer_param_sums (m);
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
      VbPendingJoin pending = { 0 };
      gboolean joining = FALSE;   /* the block before's MLP branch still to join x */
      for (int j = 0; j < cfg->depths[i]; j++)
        {
          VbPendingJoin join = pending;
          joining = vb_vmamba_block_forward (m, s, &m->blocks[i][j], &m->acts[i][j], x,
                                             m->drop_rate[i][j], training,
                                             joining ? &join : NULL, j + 1 < cfg->depths[i],
                                             &pending);
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

float *
vb_vmamba_loss_buffer (VbVmamba *m)
{
  return m->loss;
}

float
vb_vmamba_loss (VbVmamba *m, const int *labels, float smoothing)
{
  vb_vmamba_loss_queue (m, labels, smoothing);
  return vb_vmamba_loss_read (m);
}

/* ---- backward ----------------------------------------------------------------------------- */


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

  defer_param_sums (m);
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
  grads_final_from (m, m->head_ln_w);

  for (int i = cfg->n_stages - 1; i >= 0; i--)
    {
      const VbStageShape *s = &m->stage[i];
      int64_t rows = (int64_t) B * s->H * s->W;
      gboolean br16_ready = FALSE;
      for (int j = cfg->depths[i] - 1; j >= 0; j--)
        {
          br16_ready = vb_vmamba_block_backward (m, s, &m->blocks[i][j], &m->acts[i][j], dx,
                                                 m->drop_rate[i][j], br16_ready,
                                                 j > 0 ? &m->acts[i][j - 1] : NULL,
                                                 j > 0 ? m->drop_rate[i][j - 1] : 0.0f);
          grads_final_from (m, m->blocks[i][j].norm_w);   /* a block's first tensor */
        }
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
          grads_final_from (m, m->down_w[i - 1]);
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
  grads_final_from (m, 0);
}
