/* vb-projector-bf16.c: a projector's bf16-storage inference twin (vb-projector-bf16.h). */
#include "config.h"

#include "vb-projector-bf16.h"

#include <string.h>

#include "vb-error.h"
#include "vb-projector-private.h"

struct _VbProjBf16 {
  VbProjector *p;              /* borrowed: without a ViT table its biases are read from
                                * its backend copy at each forward */
  const VbOps *ops;
  VbBf16 *w1, *w2;             /* the products' weights (LoRA: merged into w1; Gated:
                                * both weights in w1, interleaved or stacked) */
  VbBf16 *gated_b16;           /* Gated, interleaved: its two biases so, rounded */
  VbBf16 *b1_16, *b2_16;       /* the other products' biases, rounded (with the ViT table's
                                * bf16-bias product: on a GPU one launch, no rounding pass) */
  float *gated_b;              /* Gated, stacked: its two biases stacked, [b_a; b_v] */
  int64_t rows_cap;
  VbBf16 *mid16, *mid16b;      /* lowrank t; mlp h and GELU(h); gated, stacked: [a | v] */
};

#define OPS(name, ...) b->ops->name (b->ops->ctx, __VA_ARGS__)

static void *
backend_alloc (VbProjBf16 *b, size_t bytes)
{
  return b->ops->on_host ? g_try_malloc (bytes) : b->ops->alloc (b->ops->ctx, bytes);
}

static void
backend_free (VbProjBf16 *b, void *ptr)
{
  if (ptr == NULL)
    return;
  if (b->ops->on_host)
    g_free (ptr);
  else
    b->ops->free (b->ops->ctx, ptr);
}

static void
free_rows (VbProjBf16 *b)
{
  backend_free (b, b->mid16);
  backend_free (b, b->mid16b);
  b->mid16 = b->mid16b = NULL;
  b->rows_cap = 0;
}

void
vb_proj_bf16_free (VbProjBf16 *b)
{
  if (b == NULL)
    return;
  free_rows (b);
  backend_free (b, b->w1);
  backend_free (b, b->w2);
  backend_free (b, b->gated_b);
  backend_free (b, b->gated_b16);
  backend_free (b, b->b1_16);
  backend_free (b, b->b2_16);
  g_free (b);
}

/* `bytes` of host data copied to the backend */
static void *
upload (VbProjBf16 *b, const void *h, size_t bytes)
{
  void *d = backend_alloc (b, bytes);
  if (d != NULL)
    {
      if (b->ops->on_host)
        memcpy (d, h, bytes);
      else
        b->ops->upload (b->ops->ctx, d, h, bytes);
    }
  return d;
}

/* a host fp32 weight rounded (nearest-even) into a bf16 copy on the backend */
static VbBf16 *
upload_rounded (VbProjBf16 *b, const float *w, int64_t n)
{
  g_autofree VbBf16 *h = g_new (VbBf16, n);
  for (int64_t i = 0; i < n; i++)
    h[i] = vb_bf16_from_float (w[i]);
  return upload (b, h, (size_t) n * sizeof (VbBf16));
}

/* The Gated projector as one product, x·[W_v; W_g]ᵀ + [b_v; b_g] twice as wide, the gate
 * in its epilogue: linear_b16's VB_LINEAR_B16_GATE, the rows of the two weights (and
 * biases) interleaved in blocks of 8, a block of value rows then the gate's (out_f a
 * multiple of 8). Else stacked, [a | v] = x·[W_a; W_v]ᵀ + [b_a; b_v] rounded, then the gate
 * on its halves. Either way the two products read x once between them. */
static gboolean
gate_interleaved (const VbProjector *p)
{
  return p->cfg.out_f % 8 == 0 && p->vit->linear_b16 != NULL;
}

static gboolean
stack_gated (VbProjBf16 *b, const float *host)
{
  VbProjector *p = b->p;
  int in = p->cfg.in_f, out = p->cfg.out_f;
  int64_t n = (int64_t) out * in;
  const float *wg = host + p->off[T_W1], *wv = host + p->off[T_W2];
  const float *bg = host + p->off[T_B1], *bv = host + p->off[T_B2];
  g_autofree float *w = g_new (float, 2 * n);
  g_autofree float *bias = g_new (float, 2 * out);
  if (gate_interleaved (p))
    {
      for (int q = 0; q < out / 8; q++)
        {
          int64_t block = (int64_t) 16 * q * in, rows = (int64_t) 8 * q * in;
          memcpy (w + block, wv + rows, (size_t) 8 * in * sizeof (float));
          memcpy (w + block + 8 * in, wg + rows, (size_t) 8 * in * sizeof (float));
          memcpy (bias + 16 * q, bv + 8 * q, 8 * sizeof (float));
          memcpy (bias + 16 * q + 8, bg + 8 * q, 8 * sizeof (float));
        }
      b->w1 = upload_rounded (b, w, 2 * n);
      b->gated_b16 = upload_rounded (b, bias, 2 * out);
      return b->w1 != NULL && b->gated_b16 != NULL;
    }
  memcpy (w, wg, (size_t) n * sizeof (float));
  memcpy (w + n, wv, (size_t) n * sizeof (float));
  memcpy (bias, bg, (size_t) out * sizeof (float));
  memcpy (bias + out, bv, (size_t) out * sizeof (float));
  b->w1 = upload_rounded (b, w, 2 * n);
  b->gated_b = upload (b, bias, (size_t) 2 * out * sizeof (float));
  return b->w1 != NULL && b->gated_b != NULL;
}

static gboolean
no_room (VbProjBf16 *b, const char *what, GError **error)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
               "%s in bf16: no room for %s on %s", vb_projector_kind_name (b->p->cfg.kind),
               what, b->ops->name);
  return FALSE;
}

VbProjBf16 *
vb_proj_bf16_new (VbProjector *p, GError **error)
{
  const VbProjConfig *c = &p->cfg;
  g_autoptr (VbProjBf16) b = g_new0 (VbProjBf16, 1);
  b->p = p;
  b->ops = p->ops;
  if (b->ops->linear_forward_bf16 == NULL || b->ops->gelu_forward_bf16 == NULL
      || b->ops->to_bf16 == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "%s: the %s backend has no bf16 products", vb_projector_kind_name (c->kind),
                   b->ops->name);
      return NULL;
    }
  /* the host parameters as the backend has them; LoRA folded into one weight */
  const float *host = vb_projector_params_from_backend (p);
  if (c->kind == VB_PROJ_GATED)
    {
      if (p->vit == NULL
          || (p->vit->sigmoid_gate_forward_bf16 == NULL && !gate_interleaved (p)))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: the %s backend has no bf16 gate", vb_projector_kind_name (c->kind),
                       b->ops->name);
          return NULL;
        }
      if (!stack_gated (b, host))
        {
          no_room (b, "the weights", error);
          return NULL;
        }
      return g_steal_pointer (&b);
    }
  const float *w1 = host + p->off[T_W1];
  if (c->kind == VB_PROJ_LORA)
    {
      vb_projector_merge (p);
      w1 = p->merged_w;
    }
  int64_t n1 = c->kind == VB_PROJ_LOWRANK ? (int64_t) c->rank * c->in_f
               : c->kind == VB_PROJ_MLP ? (int64_t) c->hidden * c->in_f
               : (int64_t) c->out_f * c->in_f;
  b->w1 = upload_rounded (b, w1, n1);
  if (b->w1 != NULL && p->off[T_W2] >= 0)
    {
      int64_t n2 = c->kind == VB_PROJ_LOWRANK ? (int64_t) c->out_f * c->rank
                   : c->kind == VB_PROJ_MLP ? (int64_t) c->out_f * c->hidden
                   : (int64_t) c->out_f * c->in_f;
      b->w2 = upload_rounded (b, host + p->off[T_W2], n2);
    }
  if (b->w1 == NULL || (p->off[T_W2] >= 0 && b->w2 == NULL))
    {
      no_room (b, "the weights", error);
      return NULL;
    }
  if (p->vit != NULL && p->vit->linear_b16 != NULL
      && ((p->off[T_B1] >= 0 && (b->b1_16 = upload_rounded (b, host + p->off[T_B1],
                                                            c->kind == VB_PROJ_MLP ? c->hidden
                                                                                   : c->out_f))
                                    == NULL)
          || (p->off[T_B2] >= 0
              && (b->b2_16 = upload_rounded (b, host + p->off[T_B2], c->out_f)) == NULL)))
    {
      no_room (b, "the biases", error);
      return NULL;
    }
  return g_steal_pointer (&b);
}

/* the CPU's ops say −1 when their fp32 copies found no room; a GPU's record the failure */
static gboolean
product_failed (VbProjBf16 *b, GError **error)
{
  const char *name = vb_projector_kind_name (b->p->cfg.kind);
  if (b->ops->on_host)
    return no_room (b, "the product's fp32 copies", error);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s in bf16 on %s: %s", name,
               b->ops->name, b->ops->sync (b->ops->ctx));
  b->ops->clear_error (b->ops->ctx);
  return FALSE;
}

/* the intermediates for `rows` rows */
static gboolean
ensure_rows (VbProjBf16 *b, int64_t rows, GError **error)
{
  const VbProjConfig *c = &b->p->cfg;
  if (rows <= b->rows_cap)
    return TRUE;
  free_rows (b);
  gboolean ok = TRUE;
  if (c->kind == VB_PROJ_LOWRANK || c->kind == VB_PROJ_MLP)
    {
      int64_t w = c->kind == VB_PROJ_LOWRANK ? c->rank : c->hidden;
      ok = (b->mid16 = backend_alloc (b, (size_t) (rows * w) * sizeof (VbBf16))) != NULL
           && (c->kind != VB_PROJ_MLP
               || (b->mid16b = backend_alloc (b, (size_t) (rows * w) * sizeof (VbBf16)))
                  != NULL);
    }
  else if (c->kind == VB_PROJ_GATED && b->gated_b16 == NULL)   /* stacked: [a | v] */
    ok = (b->mid16 = backend_alloc (b, (size_t) (rows * 2 * c->out_f) * sizeof (VbBf16)))
         != NULL;
  if (!ok)
    {
      free_rows (b);
      return no_room (b, "the intermediates", error);
    }
  b->rows_cap = rows;
  return TRUE;
}

/* y (rows × out) = bf16 (x·wᵀ + bias): the ViT table's bf16-bias product on the bias
 * rounded at setup (b16), else the ops' product rounding the fp32 one (b32, or none) */
static gboolean
biased_product (VbProjBf16 *b, VbBf16 *y, const VbBf16 *x, const VbBf16 *w, const VbBf16 *b16,
                const float *b32, int64_t rows, int in, int out, GError **error)
{
  if (b16 == NULL)
    {
      OPS (linear_forward_bf16, NULL, y, out, x, in, w, b32, rows, in, out);
      return TRUE;
    }
  if (b->p->vit->linear_b16 (b->ops->ctx, y, x, w, b16, rows, in, out, VB_LINEAR_B16_STORE) == 0)
    return TRUE;
  return product_failed (b, error);
}

gboolean
vb_proj_bf16_forward (VbProjBf16 *b, VbBf16 *y, const VbBf16 *x, int64_t rows,
                      GError **error)
{
  VbProjector *p = b->p;
  const VbProjConfig *c = &p->cfg;
  int in = c->in_f, out = c->out_f, r = c->rank, h = c->hidden;
  const float *b1 = p->off[T_B1] >= 0 ? p->dparams + p->off[T_B1] : NULL;
  const float *b2 = p->off[T_B2] >= 0 ? p->dparams + p->off[T_B2] : NULL;

  if (rows <= 0)
    return TRUE;
  if (!ensure_rows (b, rows, error))
    return FALSE;
  switch (c->kind)
    {
    case VB_PROJ_LINEAR:
    case VB_PROJ_LORA:
      return biased_product (b, y, x, b->w1, b->b1_16, b1, rows, in, out, error);
    case VB_PROJ_LOWRANK:
      OPS (linear_forward_bf16, NULL, b->mid16, r, x, in, b->w1, NULL, rows, in, r);
      return biased_product (b, y, b->mid16, b->w2, b->b2_16, b2, rows, r, out, error);
    case VB_PROJ_MLP:
      /* fc1's bias in its product's epilogue, then the GELU (as PyTorch's bf16 modules) */
      if (!biased_product (b, b->mid16, x, b->w1, b->b1_16, b1, rows, in, h, error))
        return FALSE;
      OPS (gelu_forward_bf16, b->mid16b, b->mid16, NULL, rows, h);
      return biased_product (b, y, b->mid16b, b->w2, b->b2_16, b2, rows, h, out, error);
    case VB_PROJ_GATED:
      if (b->gated_b16 != NULL)
        {
          /* y = σ(a) ⊙ v from the fp32 product, rounded once */
          if (p->vit->linear_b16 (b->ops->ctx, y, x, b->w1, b->gated_b16, rows, in, 2 * out,
                                  VB_LINEAR_B16_GATE) != 0)
            return product_failed (b, error);
          break;
        }
      /* [a | v] rounded to bf16 (as in a module cast to bf16), then y = σ(a) ⊙ v */
      OPS (linear_forward_bf16, NULL, b->mid16, 2 * out, x, in, b->w1, b->gated_b, rows, in,
           2 * out);
      p->vit->sigmoid_gate_forward_bf16 (b->ops->ctx, y, b->mid16, rows, out);
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}
