/* vb-clip-bf16.c: the CLIP tower's layers in bf16 storage (vb_clip_set_bf16), as a model
 * cast to bf16 runs them in PyTorch: the residual stream, every layer's activations and
 * its product weights in bf16, the products on bf16 tensor cores accumulating in fp32,
 * each output rounded once where it is stored; LayerNorm statistics, softmax and quick
 * GELU computed in fp32. Per layer: LayerNorm, the q|k|v product with its bias, fused
 * attention, the out product added to the stream in its epilogue, LayerNorm, fc1 with its
 * bias, quick GELU in place, fc2 added to the stream: eight ops, no fp32 round trips.
 * The embedding stays fp32 (a few per cent of the work) and is rounded once on entry. */
#include "config.h"

#include "vb-clip-private.h"

#include <math.h>

#include "vb-error.h"

#define OP(name, ...) m->ops->name (m->ops->ctx, __VA_ARGS__)
#define VIT(name, ...) m->vit->name (m->ops->ctx, __VA_ARGS__)

/* a layer's products in m->w16, rounded once: the weights qkv (3D × D), o (D × D),
 * fc1 (F × D), fc2 (D × F), then their biases; each part starts 16-byte aligned */
typedef enum { W_QKV, W_O, W_FC1, W_FC2, B_QKV, B_O, B_FC1, B_FC2, N_PARTS } Part;

/* the part's values */
static int64_t
part_count (const VbClipConfig *c, Part part)
{
  int64_t D = c->width, F = c->mlp;
  const int64_t n[N_PARTS] = { 3 * D * D, D * D, F * D, D * F, 3 * D, D, F, D };
  return n[part];
}

static int64_t
part_offset (const VbClipConfig *c, Part part)
{
  int64_t off = 0;
  for (int i = 0; i < (int) part; i++)
    off += (part_count (c, i) + 7) / 8 * 8;
  return off;
}

static int64_t
layer_w16 (const VbClipConfig *c)
{
  return part_offset (c, N_PARTS);
}

gboolean
vb_clip_bf16_supported (const VbOps *ops, const VbVitOps *vit)
{
  return ops->to_bf16 != NULL && vit->layernorm_forward_b16 != NULL
         && vit->attention_forward_bf16 != NULL
         && vit->linear_b16 != NULL && vit->widen_rows != NULL;
}

void
vb_clip_bf16_clear (VbClip *m)
{
  void **bufs[] = { (void **) &m->x16, (void **) &m->ln16, (void **) &m->big16,
                    (void **) &m->attn16 };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    vb_clip_buf_free (m, bufs[i]);
}

void
vb_clip_bf16_free_weights (VbClip *m)
{
  vb_clip_buf_free (m, (void **) &m->w16);
}

gboolean
vb_clip_bf16_plan (VbClip *m, int B)
{
  VbClipPlanSizes s;
  size_t h = sizeof (VbBf16);
  vb_clip_plan_sizes (&m->cfg, B, &s);
  m->x16 = vb_clip_buf_alloc (m, s.x16 * h);
  m->ln16 = vb_clip_buf_alloc (m, s.ln16 * h);
  m->big16 = vb_clip_buf_alloc (m, s.big16 * h);
  m->attn16 = vb_clip_buf_alloc (m, s.attn16 * h);
  return m->x16 && m->ln16 && m->big16 && m->attn16;
}

gboolean
vb_clip_bf16_weights (VbClip *m)
{
  const VbClipConfig *c = &m->cfg;
  int64_t per = layer_w16 (c);
  if (m->w16 == NULL
      && (m->w16 = vb_clip_buf_alloc (m, (size_t) (per * c->layers) * sizeof (VbBf16))) == NULL)
    return FALSE;
  for (int l = 0; l < c->layers; l++)
    {
      const VbClipLayerOffsets *o = &m->layers[l];
      const int64_t src[N_PARTS] = { o->qkv_w, o->o_w, o->fc1_w, o->fc2_w,
                                     o->qkv_b, o->o_b, o->fc1_b, o->fc2_b };
      for (int i = 0; i < N_PARTS; i++)
        OP (to_bf16, m->w16 + l * per + part_offset (c, i), m->dparams + src[i], NULL, 1,
            part_count (c, i));
    }
  return TRUE;
}

void
vb_clip_bf16_enter (VbClip *m, int B)
{
  const VbClipConfig *c = &m->cfg;
  OP (to_bf16, m->x16, m->h, NULL, 1, (int64_t) B * vb_clip_config_tokens (c) * c->width);
}

/* the CPU's ops say −1 when their fp32 copies found no room; a GPU's record it */
static gboolean
op_ok (VbClip *m, int rc, const char *what, GError **error)
{
  if (rc == 0)
    return TRUE;
  if (m->ops->on_host)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                 "CLIP forward (bf16): out of memory for the %s", what);
  else
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "CLIP forward (bf16) on %s: %s", m->ops->name,
                   m->ops->sync (m->ops->ctx));
      m->ops->clear_error (m->ops->ctx);
    }
  return FALSE;
}

gboolean
vb_clip_bf16_layer (VbClip *m, int l, int B, GError **error)
{
  const VbClipConfig *c = &m->cfg;
  const VbClipLayerOffsets *o = &m->layers[l];
  const float *P = m->dparams;
  int D = c->width, F = c->mlp, N = vb_clip_config_tokens (c), dh = D / c->heads;
  int64_t rows = (int64_t) B * N;
  const VbBf16 *w = m->w16 + l * layer_w16 (c);
#define W(part) (w + part_offset (c, part))

  /* attention branch: the out product added to the stream in its epilogue */
  if (!op_ok (m, VIT (layernorm_forward_b16, m->ln16, m->mean, m->rstd, m->x16, P + o->ln1_w,
                      P + o->ln1_b, rows, D, c->eps), "layer norm", error)
      || !op_ok (m, VIT (linear_b16, m->big16, m->ln16, W (W_QKV), W (B_QKV), rows, D, 3 * D,
                         VB_LINEAR_B16_STORE), "q, k, v", error)
      || !op_ok (m, VIT (attention_forward_bf16, m->attn16, m->big16, B, N, c->heads, dh,
                         1.0f / sqrtf ((float) dh)), "attention", error)
      || !op_ok (m, VIT (linear_b16, m->x16, m->attn16, W (W_O), W (B_O), rows, D, D,
                         VB_LINEAR_B16_ADD), "out projection", error))
    return FALSE;

  /* MLP branch: fc1 with its quick GELU in one product's epilogue (all rows at once:
   * passes of 2048 to 8192 rows, meant to keep the hidden activations in L2 between fc1, GELU
   * and fc2 when they were apart, measured 2.6 to 6 % slower at 224 px) */
  gboolean ok = op_ok (m, VIT (layernorm_forward_b16, m->ln16, m->mean, m->rstd, m->x16,
                               P + o->ln2_w, P + o->ln2_b, rows, D, c->eps), "layer norm", error)
                && op_ok (m, VIT (linear_b16, m->big16, m->ln16, W (W_FC1), W (B_FC1), rows, D, F,
                                  VB_LINEAR_B16_QUICK_GELU), "MLP", error)
                && op_ok (m, VIT (linear_b16, m->x16, m->big16, W (W_FC2), W (B_FC2), rows, F, D,
                                  VB_LINEAR_B16_ADD), "MLP", error);
  return ok;
#undef W
}
