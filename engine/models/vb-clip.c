/* vb-clip.c: the CLIP tower's forward (clip-projectors.md §1.3–§1.4): patch embedding,
 * class token and positions, pre_layrnorm, pre-norm transformer layers, and LLaVA's
 * choice of hidden state. Every op goes through the model's backend tables (vb-ops.h for
 * products, LayerNorm and adds, vb-vit-ops.h for the rest), so the same code runs on the
 * CPU (the reference) and on a GPU. */
#include "config.h"

#include "vb-clip-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-vit-backend.h"

/* every op goes through the model's backend tables */
#define OP(name, ...) m->ops->name (m->ops->ctx, __VA_ARGS__)
#define VIT(name, ...) m->vit->name (m->ops->ctx, __VA_ARGS__)

VbClip *
vb_clip_new (const VbClipConfig *cfg, GError **error)
{
  if (!vb_clip_config_validate (cfg, error))
    return NULL;
  g_autoptr (VbClip) m = g_new0 (VbClip, 1);
  m->cfg = *cfg;
  m->ops = vb_cpu_ops ();
  m->vit = vb_cpu_vit_ops ();
  if (!vb_clip_build_tensors (m, error))
    return NULL;
  m->dparams = m->params;
  m->weights_description = g_strdup ("no weights (zeros)");
  return g_steal_pointer (&m);
}

void *
vb_clip_buf_alloc (VbClip *m, size_t bytes)
{
  bytes = MAX (bytes, 1);
  if (m->ops->on_host)
    return g_try_malloc (bytes);
  return m->ops->alloc (m->ops->ctx, bytes);
}

void
vb_clip_buf_free (VbClip *m, void **p)
{
  if (*p != NULL)
    {
      if (m->ops->on_host)
        g_free (*p);
      else
        m->ops->free (m->ops->ctx, *p);
    }
  *p = NULL;
}

/* a float work buffer in the backend's memory (NULL when there is no room) */
static float *
balloc (VbClip *m, int64_t floats)
{
  return vb_clip_buf_alloc (m, (size_t) MAX (floats, 1) * sizeof (float));
}

static void
plan_clear (VbClip *m)
{
  float **bufs[] = { &m->h, &m->ln, &m->big, &m->attn, &m->cols, &m->mean, &m->rstd,
                     &m->d_pixels, &m->d_feat, &m->d_pooled };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    vb_clip_buf_free (m, (void **) bufs[i]);
  vb_clip_bf16_clear (m);
  m->plan_B = 0;
  m->patch_chunk = 0;
}

/* the backend's parameter copy, when it is not the host buffer */
static void
free_backend_params (VbClip *m)
{
  vb_clip_bf16_free_weights (m);
  if (m->dparams != NULL && m->dparams != m->params)
    m->ops->free (m->ops->ctx, m->dparams);
  m->dparams = m->params;
}

void
vb_clip_free (VbClip *m)
{
  if (m == NULL)
    return;
  plan_clear (m);
  free_backend_params (m);
  g_clear_pointer (&m->tensors, g_ptr_array_unref);
  g_clear_pointer (&m->by_name, g_hash_table_unref);
  g_free (m->layers);
  g_free (m->params);
  g_free (m->projection);
  g_free (m->weights_description);
  g_free (m);
}

const VbClipConfig *
vb_clip_config (VbClip *m)
{
  return &m->cfg;
}

int64_t
vb_clip_n_params (VbClip *m)
{
  return m->n_params;
}

guint
vb_clip_n_tensors (VbClip *m)
{
  return m->tensors->len;
}

const VbClipTensorInfo *
vb_clip_tensor (VbClip *m, guint i)
{
  g_return_val_if_fail (i < m->tensors->len, NULL);
  return g_ptr_array_index (m->tensors, i);
}

const VbClipTensorInfo *
vb_clip_find_tensor (VbClip *m, const char *name)
{
  return g_hash_table_lookup (m->by_name, name);
}

float *
vb_clip_params (VbClip *m)
{
  m->params_dirty = TRUE;     /* the caller may write: upload again before a forward */
  return m->params;
}

void
vb_clip_set_stage_hook (VbClip *m, VbClipStageHook hook, gpointer user_data)
{
  m->stage_hook = hook;
  m->stage_data = user_data;
}


/* ---- backends --------------------------------------------------------------------------- */

gboolean
vb_clip_use_backend (VbClip *m, const VbOps *ops, GError **error)
{
  const VbVitOps *vit = vb_vit_ops_for (ops, error);
  if (vit == NULL)
    return FALSE;
  if (ops == m->ops)
    return TRUE;
  if (m->bf16 && !vb_clip_bf16_supported (ops, vit))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "the CLIP tower is set to bf16 storage, which %s does not offer", ops->name);
      return FALSE;
    }
  float *dparams = m->params;
  if (!ops->on_host)
    {
      dparams = ops->alloc (ops->ctx, (size_t) m->n_params * sizeof (float));
      if (dparams == NULL)
        {
          g_autofree char *why = g_strdup (ops->sync (ops->ctx));
          ops->clear_error (ops->ctx);
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                       "cannot hold the CLIP tower's %" G_GINT64_FORMAT " parameters on %s: %s",
                       m->n_params, ops->name, why ? why : "out of memory");
          return FALSE;
        }
    }
  plan_clear (m);
  free_backend_params (m);
  m->ops = ops;
  m->vit = vit;
  m->dparams = dparams;
  m->params_dirty = TRUE;
  return TRUE;
}

const VbOps *
vb_clip_backend (VbClip *m)
{
  return m->ops;
}

gboolean
vb_clip_set_bf16 (VbClip *m, gboolean bf16, GError **error)
{
  if (bf16 && !vb_clip_bf16_supported (m->ops, m->vit))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "%s has no bf16 ops for the CLIP tower", m->ops->name);
      return FALSE;
    }
  if (m->bf16 != bf16)
    {
      plan_clear (m);                 /* the buffers differ */
      vb_clip_bf16_free_weights (m);
      m->bf16 = bf16;
    }
  return TRUE;
}

gboolean
vb_clip_bf16 (VbClip *m)
{
  return m->bf16;
}

/* a failure the backend recorded (GPU work is checked once per call), as a GError */
static gboolean
backend_ok (VbClip *m, const char *what, GError **error)
{
  const char *why = m->ops->sync (m->ops->ctx);
  if (why == NULL)
    return TRUE;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s on %s: %s", what,
               m->ops->name, why);
  m->ops->clear_error (m->ops->ctx);
  return FALSE;
}

/* ---- forward ------------------------------------------------------------------------- */

static gboolean
plan (VbClip *m, int B, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  VbClipPlanSizes s;

  if (m->plan_B == B)
    return TRUE;
  plan_clear (m);
  vb_clip_plan_sizes (c, B, &s);
  /* a GPU cuts every image's patches at once (one batched product); the CPU one at a time */
  m->patch_chunk = m->ops->on_host ? 1 : B;
  m->h = balloc (m, s.h);
  m->ln = balloc (m, s.ln);
  m->big = balloc (m, s.big);
  m->attn = balloc (m, s.attn);
  m->cols = balloc (m, s.cols * m->patch_chunk);
  m->mean = balloc (m, s.mean);
  m->rstd = balloc (m, s.rstd);
  gboolean ok = m->h && m->ln && m->big && m->attn && m->cols && m->mean && m->rstd
                && (!m->bf16 || vb_clip_bf16_plan (m, B));
  if (ok && !m->ops->on_host)
    {
      int G = vb_clip_config_grid (c);
      m->d_pixels = balloc (m, (int64_t) B * c->in_chans * c->image_size * c->image_size);
      m->d_feat = balloc (m, (int64_t) B * G * G * c->width);
      m->d_pooled = balloc (m, (int64_t) B * c->width);
      ok = m->d_pixels && m->d_feat && m->d_pooled;
    }
  if (!ok)
    {
      g_autofree char *why = NULL;
      if (!m->ops->on_host)
        {
          why = g_strdup (m->ops->sync (m->ops->ctx));
          m->ops->clear_error (m->ops->ctx);
        }
      plan_clear (m);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for a CLIP forward of %d images on %s (%" G_GINT64_FORMAT
                   " MB)%s%s", B, m->ops->name, vb_clip_activation_bytes (&m->cfg, B, m->bf16) >> 20,
                   why ? ": " : "", why ? why : "");
      return FALSE;
    }
  m->plan_B = B;
  return TRUE;
}

/* the host parameters into the backend (and their bf16 copy), when they may have changed */
static gboolean
sync_params (VbClip *m, GError **error)
{
  gboolean weights16 = m->bf16 && (m->params_dirty || m->w16 == NULL);
  if (m->params_dirty && !m->ops->on_host)
    m->ops->upload (m->ops->ctx, m->dparams, m->params, (size_t) m->n_params * sizeof (float));
  m->params_dirty = FALSE;
  if (weights16 && !vb_clip_bf16_weights (m))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "no room for the CLIP tower's bf16 weights on %s", m->ops->name);
      if (!m->ops->on_host)
        m->ops->clear_error (m->ops->ctx);
      return FALSE;
    }
  return TRUE;
}

static void
stage_done (VbClip *m, int stage)
{
  if (m->stage_hook == NULL)
    return;
  if (!m->ops->on_host)
    m->ops->sync (m->ops->ctx);   /* the gap between calls times the device's work */
  m->stage_hook (stage, m->stage_data);
}

/* pixels (backend memory) → hidden_states[0] in m->h */
static gboolean
embed (VbClip *m, const float *pixels, int B)
{
  const VbClipConfig *c = &m->cfg;
  int D = c->width, N = vb_clip_config_tokens (c), G = vb_clip_config_grid (c);
  int CPP = c->in_chans * c->patch_size * c->patch_size;
  int64_t image = (int64_t) c->in_chans * c->image_size * c->image_size;
  const float *P = m->dparams;

  /* patch_chunk images at a time: their patch tokens land after each class-token row,
   * one product per image batched into one call (one plain product on the CPU) */
  for (int b0 = 0; b0 < B; b0 += m->patch_chunk)
    {
      int nb = MIN (m->patch_chunk, B - b0);
      VIT (patchify, m->cols, pixels + b0 * image, nb, c->in_chans, c->image_size,
           c->patch_size);
      OP (linear_forward_groups, m->h + ((int64_t) b0 * N + 1) * D, D, (int64_t) N * D,
          m->cols, CPP, (int64_t) G * G * CPP, P + m->patch_w, 0, nb, (int64_t) G * G, CPP, D);
    }
  VIT (add_embeddings, m->h, P + m->cls, P + m->pos, B, N, D);
  OP (layernorm_forward, m->ln, m->mean, m->rstd, m->h, P + m->pre_w, P + m->pre_b,
      (int64_t) B * N, D, c->eps);
  float *t = m->h;            /* the normalised tokens become the residual stream */
  m->h = m->ln;
  m->ln = t;
  if (m->bf16)
    vb_clip_bf16_enter (m, B);
  stage_done (m, 0);
  return TRUE;
}

/* hidden_states[l] → hidden_states[l + 1], in place in m->h */
static gboolean
layer_forward (VbClip *m, int l, int B, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  const VbClipLayerOffsets *o = &m->layers[l];
  const float *P = m->dparams;
  int D = c->width, F = c->mlp, dh = D / c->heads;
  int64_t rows = (int64_t) B * vb_clip_config_tokens (c);

  /* attention branch */
  OP (layernorm_forward, m->ln, m->mean, m->rstd, m->h, P + o->ln1_w, P + o->ln1_b, rows, D,
      c->eps);
  OP (linear_forward, m->big, 3 * D, m->ln, D, P + o->qkv_w, P + o->qkv_b, rows, D, 3 * D);
  if (VIT (attention_forward, m->attn, m->big, B, vb_clip_config_tokens (c), c->heads, dh,
           1.0f / sqrtf ((float) dh)) != 0)
    {
      if (!m->ops->on_host)
        return backend_ok (m, "attention", error);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for the attention scratch");
      return FALSE;
    }
  OP (linear_forward, m->ln, D, m->attn, D, P + o->o_w, P + o->o_b, rows, D, D);
  OP (add, m->h, m->h, m->ln, rows * D);

  /* MLP branch */
  OP (layernorm_forward, m->ln, m->mean, m->rstd, m->h, P + o->ln2_w, P + o->ln2_b, rows, D,
      c->eps);
  OP (linear_forward, m->big, F, m->ln, D, P + o->fc1_w, P + o->fc1_b, rows, D, F);
  VIT (quick_gelu_forward, m->big, m->big, rows * F);
  OP (linear_forward, m->ln, D, m->big, F, P + o->fc2_w, P + o->fc2_b, rows, F, D);
  OP (add, m->h, m->h, m->ln, rows * D);
  stage_done (m, l + 1);
  return TRUE;
}

/* layer l in the model's storage: the state moves on in m->h, or in the bf16 stream */
static gboolean
run_layer (VbClip *m, int l, int B, GError **error)
{
  if (!m->bf16)
    return layer_forward (m, l, B, error);
  if (!vb_clip_bf16_layer (m, l, B, error))
    return FALSE;
  stage_done (m, l + 1);
  return TRUE;
}

/* rows of the current state (from element `offset` on, rows of ld_src) into dst, widened
 * from the bf16 stream in bf16 storage */
static void
state_rows (VbClip *m, float *dst, int64_t ld_dst, int64_t offset, int64_t ld_src,
            int64_t rows, int64_t cols)
{
  if (m->bf16)
    VIT (widen_rows, dst, ld_dst, m->x16 + offset, ld_src, rows, cols);
  else
    VIT (copy_rows, dst, ld_dst, m->h + offset, ld_src, rows, cols);
}

/* the checks and the plan every forward starts with */
static gboolean
begin (VbClip *m, const float *pixels, int B, GError **error)
{
  if (B < 1 || pixels == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "a CLIP forward needs at least one image");
      return FALSE;
    }
  return plan (m, B, error) && sync_params (m, error);
}

/* The forward on backend memory: features (B, G², D) and pooled (B, D) where asked;
 * the last state stays in m->h (run_all: every layer, else LLaVA's layers − 1). */
static gboolean
forward_core (VbClip *m, const float *pixels, int B, float *features, gboolean run_all,
              float *pooled, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  int L = c->layers, D = c->width, N = vb_clip_config_tokens (c);
  /* LLaVA reads hidden_states[-2]: the last layer only matters for last and pooled */
  int n_run = run_all ? L : L - 1;

  if (!embed (m, pixels, B))
    return FALSE;
  for (int l = 0; l <= n_run; l++)
    {
      if (l == L - 1 && features)     /* the state now is hidden_states[L − 1] */
        state_rows (m, features, (int64_t) (N - 1) * D, D, (int64_t) N * D, B,
                    (int64_t) (N - 1) * D);
      if (l < n_run && !run_layer (m, l, B, error))
        return FALSE;
    }
  if (pooled)
    {
      /* post_layernorm of each image's class token */
      state_rows (m, m->attn, D, 0, (int64_t) N * D, B, D);
      OP (layernorm_forward, pooled, m->mean, m->rstd, m->attn, m->dparams + m->post_w,
          m->dparams + m->post_b, B, D, c->eps);
    }
  return TRUE;
}

gboolean
vb_clip_forward_on_backend (VbClip *m, const float *pixels, int B, const VbClipOutputs *out,
                            GError **error)
{
  const VbClipConfig *c = &m->cfg;
  gboolean run_all = out->last || out->pooled;

  if (!begin (m, pixels, B, error)
      || !forward_core (m, pixels, B, out->features, run_all, out->pooled, error))
    return FALSE;
  if (out->last)
    {
      int64_t n = (int64_t) B * vb_clip_config_tokens (c) * c->width;
      state_rows (m, out->last, n, 0, n, 1, n);
    }
  return backend_ok (m, "CLIP forward", error);
}

gboolean
vb_clip_forward (VbClip *m, const float *pixels, int B, const VbClipOutputs *out,
                 GError **error)
{
  const VbClipConfig *c = &m->cfg;
  int D = c->width, N = vb_clip_config_tokens (c), G = vb_clip_config_grid (c);
  gboolean run_all = out->last || out->pooled;

  if (m->ops->on_host)
    {
      if (!begin (m, pixels, B, error)
          || !forward_core (m, pixels, B, out->features, run_all, out->pooled, error))
        return FALSE;
      if (out->last)
        state_rows (m, out->last, (int64_t) B * N * D, 0, (int64_t) B * N * D, 1,
                    (int64_t) B * N * D);
      return TRUE;
    }

  /* a device: pixels up, outputs down (the last state straight from the stream) */
  if (!begin (m, pixels, B, error))
    return FALSE;
  OP (upload, m->d_pixels, pixels,
      (size_t) B * c->in_chans * c->image_size * c->image_size * sizeof (float));
  if (!forward_core (m, m->d_pixels, B, out->features ? m->d_feat : NULL, run_all,
                     out->pooled ? m->d_pooled : NULL, error))
    return FALSE;
  if (out->features)
    OP (download, out->features, m->d_feat, (size_t) B * G * G * D * sizeof (float));
  if (out->last)
    {
      if (m->bf16)      /* widened where it is, then down */
        state_rows (m, m->h, (int64_t) B * N * D, 0, (int64_t) B * N * D, 1,
                    (int64_t) B * N * D);
      OP (download, out->last, m->h, (size_t) B * N * D * sizeof (float));
    }
  if (out->pooled)
    OP (download, out->pooled, m->d_pooled, (size_t) B * D * sizeof (float));
  return backend_ok (m, "CLIP forward", error);
}

gboolean
vb_clip_hidden_state (VbClip *m, const float *pixels, int B, int k, float *out,
                      GError **error)
{
  const VbClipConfig *c = &m->cfg;
  size_t bytes = (size_t) B * vb_clip_config_tokens (c) * c->width * sizeof (float);

  if (k < 0 || k > c->layers)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "hidden state %d does not exist: the tower has %d layers (states 0 to %d)",
                   k, c->layers, c->layers);
      return FALSE;
    }
  if (!begin (m, pixels, B, error))
    return FALSE;
  const float *px = pixels;
  if (!m->ops->on_host)
    {
      OP (upload, m->d_pixels, pixels,
          (size_t) B * c->in_chans * c->image_size * c->image_size * sizeof (float));
      px = m->d_pixels;
    }
  if (!embed (m, px, B))
    return FALSE;
  for (int l = 0; l < k; l++)
    if (!run_layer (m, l, B, error))
      return FALSE;
  if (m->bf16)
    {
      int64_t n = (int64_t) B * vb_clip_config_tokens (c) * c->width;
      state_rows (m, m->h, n, 0, n, 1, n);
    }
  if (m->ops->on_host)
    {
      memcpy (out, m->h, bytes);
      return TRUE;
    }
  OP (download, out, m->h, bytes);
  return backend_ok (m, "CLIP forward", error);
}
