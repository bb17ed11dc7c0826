/* vb-projector.c: building a projector and its forward and backward on the CPU ops.
 *
 * What each kind saves in a training forward (rows × width):
 *   linear   nothing (the backward needs only x)
 *   lowrank  act1 = t = V·x (r)
 *   mlp      act1 = h = W₁·x + b₁, act2 = GELU(h) (hidden)
 *   gated    act1 = σ(W_g·x + b_g), act2 = v = W_v·x + b_v (out)
 *   lora     act1 = t = A·x (r); act2 holds u = B·t in the forward and du in the backward
 */
#include "config.h"

#include "vb-projector-private.h"

#include <string.h>

#include "vb-cpu-gating.h"
#include "vb-cpu-ops.h"
#include "vb-error.h"

VbProjector *
vb_projector_new (const VbProjConfig *cfg, GError **error)
{
  g_autoptr(VbProjector) p = NULL;

  if (!vb_projector_config_validate (cfg, error))
    return NULL;
  p = g_new0 (VbProjector, 1);
  p->cfg = *cfg;
  if (!vb_projector_build_tensors (p, error))
    return NULL;
  return g_steal_pointer (&p);
}

VbProjector *
vb_projector_new_by_name (const char *name, GError **error)
{
  VbProjConfig cfg;

  if (!vb_projector_config_from_name (name, &cfg, error))
    return NULL;
  return vb_projector_new (&cfg, error);
}

void
vb_projector_free (VbProjector *p)
{
  if (p == NULL)
    return;
  vb_projector_free_tensors (p);
  g_free (p->act1);
  g_free (p->act2);
  g_free (p->scratch1);
  g_free (p->scratch2);
  g_free (p);
}

const VbProjConfig *vb_projector_config (VbProjector *p) { return &p->cfg; }
int64_t vb_projector_n_params (VbProjector *p) { return p->n_params; }
int64_t vb_projector_n_trainable (VbProjector *p) { return p->n_trainable; }
guint vb_projector_n_tensors (VbProjector *p) { return p->tensors->len; }
float *vb_projector_params (VbProjector *p) { return p->params; }
float *vb_projector_grads (VbProjector *p) { return p->grads; }
uint8_t *vb_projector_decay_mask (VbProjector *p) { return p->decay_mask; }

const VbProjTensor *
vb_projector_tensor (VbProjector *p, guint i)
{
  g_return_val_if_fail (i < p->tensors->len, NULL);
  return g_ptr_array_index (p->tensors, i);
}

const VbProjTensor *
vb_projector_find_tensor (VbProjector *p, const char *name)
{
  for (guint i = 0; i < p->tensors->len; i++)
    {
      VbProjTensor *t = g_ptr_array_index (p->tensors, i);
      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}

void
vb_projector_zero_grad (VbProjector *p)
{
  memset (p->grads, 0, p->n_params * sizeof (float));
}

/* Grows the activation and scratch buffers to `rows`. */
static gboolean
ensure_rows (VbProjector *p, int64_t rows, GError **error)
{
  int64_t act[2], scratch[2];
  float **bufs[4] = { &p->act1, &p->act2, &p->scratch1, &p->scratch2 };

  if (rows <= p->rows_cap)
    return TRUE;
  vb_projector_buffer_widths (&p->cfg, act, scratch);
  int64_t widths[4] = { act[0], act[1], scratch[0], scratch[1] };
  for (int i = 0; i < 4; i++)
    {
      g_clear_pointer (bufs[i], g_free);
      if (widths[i] > 0 && (*bufs[i] = g_try_malloc (rows * widths[i] * sizeof (float))) == NULL)
        {
          p->rows_cap = 0;
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                       "%s: out of memory for the activations of %" G_GINT64_FORMAT " tokens",
                       vb_projector_kind_name (p->cfg.kind), rows);
          return FALSE;
        }
    }
  p->rows_cap = rows;
  return TRUE;
}

#define PW(slot) (p->off[slot] >= 0 ? p->params + p->off[slot] : NULL)
#define GW(slot) (p->off[slot] >= 0 ? p->grads + p->off[slot] : NULL)

gboolean
vb_projector_forward (VbProjector *p, float *y, const float *x, int64_t rows,
                      gboolean training, GError **error)
{
  const VbProjConfig *c = &p->cfg;
  int in = c->in_f, out = c->out_f, r = c->rank, h = c->hidden;

  p->rows_saved = 0;
  if (rows <= 0)
    return TRUE;
  if (!ensure_rows (p, rows, error))
    return FALSE;

  switch (c->kind)
    {
    case VB_PROJ_LINEAR:
      vb_linear_forward (y, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
      break;
    case VB_PROJ_LOWRANK:
      vb_linear_forward (p->act1, r, x, in, PW (T_W1), NULL, rows, in, r);
      vb_linear_forward (y, out, p->act1, r, PW (T_W2), PW (T_B2), rows, r, out);
      break;
    case VB_PROJ_MLP:
      vb_linear_forward (p->act1, h, x, in, PW (T_W1), PW (T_B1), rows, in, h);
      vb_gelu_forward (p->act2, p->act1, rows * h);
      vb_linear_forward (y, out, p->act2, h, PW (T_W2), PW (T_B2), rows, h, out);
      break;
    case VB_PROJ_GATED:
      vb_linear_forward (p->act1, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
      vb_linear_forward (p->act2, out, x, in, PW (T_W2), PW (T_B2), rows, in, out);
      vb_sigmoid_gate_forward (y, p->act1, p->act1, p->act2, rows * out);
      break;
    case VB_PROJ_LORA:
      if (training)
        p->merged = FALSE;    /* the parameters are about to change */
      if (p->merged)
        {
          vb_linear_forward (y, out, x, in, p->merged_w, PW (T_B1), rows, in, out);
          break;
        }
      {
        float s = c->alpha / (float) r;
        int64_t n = rows * out;
        vb_linear_forward (y, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
        vb_linear_forward (p->act1, r, x, in, PW (T_A), NULL, rows, in, r);
        vb_linear_forward (p->act2, out, p->act1, r, PW (T_B), NULL, rows, r, out);
        vb_scale (p->act2, s, n);
        vb_add (y, y, p->act2, n);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  if (training)
    p->rows_saved = rows;
  return TRUE;
}

void
vb_projector_backward (VbProjector *p, float *dx, const float *dy, const float *x,
                       int64_t rows)
{
  const VbProjConfig *c = &p->cfg;
  int in = c->in_f, out = c->out_f, r = c->rank, h = c->hidden;

  g_return_if_fail (rows == p->rows_saved);
  if (rows <= 0)
    return;

  switch (c->kind)
    {
    case VB_PROJ_LINEAR:
      vb_linear_backward (dx, in, 0, GW (T_W1), GW (T_B1), dy, out, x, in, PW (T_W1),
                          rows, in, out);
      break;
    case VB_PROJ_LOWRANK:
      /* dt = dy·U, dU += dyᵀ·t; then dx = dt·V, dV += dtᵀ·x */
      vb_linear_backward (p->scratch1, r, 0, GW (T_W2), GW (T_B2), dy, out, p->act1, r,
                          PW (T_W2), rows, r, out);
      vb_linear_backward (dx, in, 0, GW (T_W1), NULL, p->scratch1, r, x, in, PW (T_W1),
                          rows, in, r);
      break;
    case VB_PROJ_MLP:
      vb_linear_backward (p->scratch1, h, 0, GW (T_W2), GW (T_B2), dy, out, p->act2, h,
                          PW (T_W2), rows, h, out);
      /* dh = dg · GELU'(h), in place (elementwise, same index) */
      vb_gelu_backward (p->scratch1, p->scratch1, p->act1, rows * h);
      vb_linear_backward (dx, in, 0, GW (T_W1), GW (T_B1), p->scratch1, h, x, in, PW (T_W1),
                          rows, in, h);
      break;
    case VB_PROJ_GATED:
      vb_sigmoid_gate_backward (p->scratch1, p->scratch2, dy, p->act1, p->act2, rows * out);
      vb_linear_backward (dx, in, 0, GW (T_W1), GW (T_B1), p->scratch1, out, x, in,
                          PW (T_W1), rows, in, out);
      vb_linear_backward (dx, in, 1, GW (T_W2), GW (T_B2), p->scratch2, out, x, in,
                          PW (T_W2), rows, in, out);
      break;
    case VB_PROJ_LORA:
      {
        /* base frozen: only its input gradient. Adapter: du = s·dy, dt = du·B,
         * dB += duᵀ·t, dx += dt·A, dA += dtᵀ·x */
        float s = c->alpha / (float) r;
        int64_t n = rows * out;
        float *du = p->act2;
        vb_linear_backward (dx, in, 0, NULL, NULL, dy, out, x, in, PW (T_W1), rows, in, out);
        memcpy (du, dy, n * sizeof (float));
        vb_scale (du, s, n);
        vb_linear_backward (p->scratch1, r, 0, GW (T_B), NULL, du, out, p->act1, r, PW (T_B),
                            rows, r, out);
        vb_linear_backward (dx, in, 1, GW (T_A), NULL, p->scratch1, r, x, in, PW (T_A),
                            rows, in, r);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}
