/* vb-clip.c: the CLIP tower's forward on the CPU (clip-projectors.md §1.3–§1.4):
 * patch embedding, class token and positions, pre_layrnorm, pre-norm transformer
 * layers, and LLaVA's choice of hidden state. */
#include "config.h"

#include "vb-clip-private.h"

#include <math.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-vit.h"
#include "vb-error.h"

VbClip *
vb_clip_new (const VbClipConfig *cfg, GError **error)
{
  if (!vb_clip_config_validate (cfg, error))
    return NULL;
  g_autoptr (VbClip) m = g_new0 (VbClip, 1);
  m->cfg = *cfg;
  if (!vb_clip_build_tensors (m, error))
    return NULL;
  m->weights_description = g_strdup ("no weights (zeros)");
  return g_steal_pointer (&m);
}

static void
plan_clear (VbClip *m)
{
  g_clear_pointer (&m->h, g_free);
  g_clear_pointer (&m->ln, g_free);
  g_clear_pointer (&m->big, g_free);
  g_clear_pointer (&m->attn, g_free);
  g_clear_pointer (&m->cols, g_free);
  g_clear_pointer (&m->mean, g_free);
  g_clear_pointer (&m->rstd, g_free);
  m->plan_B = 0;
}

void
vb_clip_free (VbClip *m)
{
  if (m == NULL)
    return;
  plan_clear (m);
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
  return m->params;
}

void
vb_clip_set_stage_hook (VbClip *m, VbClipStageHook hook, gpointer user_data)
{
  m->stage_hook = hook;
  m->stage_data = user_data;
}

/* ---- forward ------------------------------------------------------------------------- */

static gboolean
plan (VbClip *m, int B, GError **error)
{
  VbClipPlanSizes s;

  if (m->plan_B == B)
    return TRUE;
  plan_clear (m);
  vb_clip_plan_sizes (&m->cfg, B, &s);
  m->h = g_try_malloc (s.h * sizeof (float));
  m->ln = g_try_malloc (s.ln * sizeof (float));
  m->big = g_try_malloc (s.big * sizeof (float));
  m->attn = g_try_malloc (s.attn * sizeof (float));
  m->cols = g_try_malloc (s.cols * sizeof (float));
  m->mean = g_try_malloc (s.mean * sizeof (float));
  m->rstd = g_try_malloc (s.rstd * sizeof (float));
  if (!m->h || !m->ln || !m->big || !m->attn || !m->cols || !m->mean || !m->rstd)
    {
      plan_clear (m);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for a CLIP forward of %d images (%" G_GINT64_FORMAT " MB)",
                   B, vb_clip_activation_bytes (&m->cfg, B) >> 20);
      return FALSE;
    }
  m->plan_B = B;
  return TRUE;
}

/* pixels → hidden_states[0] in m->h */
static gboolean
embed (VbClip *m, const float *pixels, int B, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  int D = c->width, N = vb_clip_config_tokens (c), G = vb_clip_config_grid (c);
  int CPP = c->in_chans * c->patch_size * c->patch_size;
  int64_t image = (int64_t) c->in_chans * c->image_size * c->image_size;
  const float *P = m->params;

  if (B < 1 || pixels == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "a CLIP forward needs at least one image");
      return FALSE;
    }
  if (!plan (m, B, error))
    return FALSE;

  /* one image at a time: its patch tokens land after its class-token row */
  for (int b = 0; b < B; b++)
    {
      vb_vit_patchify (m->cols, pixels + b * image, c->in_chans, c->image_size, c->patch_size);
      vb_linear_forward (m->h + ((int64_t) b * N + 1) * D, D, m->cols, CPP, P + m->patch_w,
                         NULL, (int64_t) G * G, CPP, D);
    }
  vb_vit_add_embeddings (m->h, P + m->cls, P + m->pos, B, N, D);
  vb_layernorm_forward (m->ln, m->mean, m->rstd, m->h, P + m->pre_w, P + m->pre_b,
                        (int64_t) B * N, D, c->eps);
  float *t = m->h;            /* the normalised tokens become the residual stream */
  m->h = m->ln;
  m->ln = t;
  if (m->stage_hook)
    m->stage_hook (0, m->stage_data);
  return TRUE;
}

/* hidden_states[l] → hidden_states[l + 1], in place in m->h */
static gboolean
layer_forward (VbClip *m, int l, int B, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  const VbClipLayerOffsets *o = &m->layers[l];
  const float *P = m->params;
  int D = c->width, F = c->mlp, dh = D / c->heads;
  int64_t rows = (int64_t) B * vb_clip_config_tokens (c);

  /* attention branch */
  vb_layernorm_forward (m->ln, m->mean, m->rstd, m->h, P + o->ln1_w, P + o->ln1_b, rows, D,
                        c->eps);
  vb_linear_forward (m->big, 3 * D, m->ln, D, P + o->qkv_w, P + o->qkv_b, rows, D, 3 * D);
  if (vb_attention_forward (m->attn, m->big, B, vb_clip_config_tokens (c), c->heads, dh,
                            1.0f / sqrtf ((float) dh)) != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for the attention scratch");
      return FALSE;
    }
  vb_linear_forward (m->ln, D, m->attn, D, P + o->o_w, P + o->o_b, rows, D, D);
  vb_add (m->h, m->h, m->ln, rows * D);

  /* MLP branch */
  vb_layernorm_forward (m->ln, m->mean, m->rstd, m->h, P + o->ln2_w, P + o->ln2_b, rows, D,
                        c->eps);
  vb_linear_forward (m->big, F, m->ln, D, P + o->fc1_w, P + o->fc1_b, rows, D, F);
  vb_quick_gelu_forward (m->big, m->big, rows * F);
  vb_linear_forward (m->ln, D, m->big, F, P + o->fc2_w, P + o->fc2_b, rows, F, D);
  vb_add (m->h, m->h, m->ln, rows * D);
  if (m->stage_hook)
    m->stage_hook (l + 1, m->stage_data);
  return TRUE;
}

/* the current state's patch tokens (class token dropped): (B, G², D) */
static void
copy_patch_tokens (VbClip *m, int B, float *out)
{
  int D = m->cfg.width, N = vb_clip_config_tokens (&m->cfg);
  for (int b = 0; b < B; b++)
    memcpy (out + (int64_t) b * (N - 1) * D, m->h + ((int64_t) b * N + 1) * D,
            (size_t) (N - 1) * D * sizeof (float));
}

gboolean
vb_clip_forward (VbClip *m, const float *pixels, int B, const VbClipOutputs *out,
                 GError **error)
{
  const VbClipConfig *c = &m->cfg;
  int L = c->layers, D = c->width, N = vb_clip_config_tokens (c);
  /* LLaVA reads hidden_states[-2]: the last layer only matters for last and pooled */
  int n_run = (out->last || out->pooled) ? L : L - 1;

  if (!embed (m, pixels, B, error))
    return FALSE;
  for (int l = 0; l <= n_run; l++)
    {
      if (l == L - 1 && out->features)       /* the state now is hidden_states[L − 1] */
        copy_patch_tokens (m, B, out->features);
      if (l < n_run && !layer_forward (m, l, B, error))
        return FALSE;
    }
  if (out->last)
    memcpy (out->last, m->h, (size_t) B * N * D * sizeof (float));
  if (out->pooled)
    {
      /* post_layernorm of each image's class token */
      for (int b = 0; b < B; b++)
        memcpy (m->attn + (int64_t) b * D, m->h + (int64_t) b * N * D, D * sizeof (float));
      vb_layernorm_forward (out->pooled, m->mean, m->rstd, m->attn, m->params + m->post_w,
                            m->params + m->post_b, B, D, c->eps);
    }
  return TRUE;
}

gboolean
vb_clip_hidden_state (VbClip *m, const float *pixels, int B, int k, float *out,
                      GError **error)
{
  const VbClipConfig *c = &m->cfg;

  if (k < 0 || k > c->layers)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "hidden state %d does not exist: the tower has %d layers (states 0 to %d)",
                   k, c->layers, c->layers);
      return FALSE;
    }
  if (!embed (m, pixels, B, error))
    return FALSE;
  for (int l = 0; l < k; l++)
    if (!layer_forward (m, l, B, error))
      return FALSE;
  memcpy (out, m->h, (size_t) B * vb_clip_config_tokens (c) * c->width * sizeof (float));
  return TRUE;
}
