/* vb-projector.c: building a projector and its forward and backward, every op through
 * the projector's backend tables (vb-ops.h, vb-vit-ops.h): the CPU's by default, a GPU's
 * after vb_projector_use_backend.
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

#include "vb-error.h"
#include "vb-vit-backend.h"

#define OP(name, ...) p->ops->name (p->ops->ctx, __VA_ARGS__)
#define VIT(name, ...) p->vit->name (p->ops->ctx, __VA_ARGS__)

VbProjector *
vb_projector_new (const VbProjConfig *cfg, GError **error)
{
  g_autoptr(VbProjector) p = NULL;

  if (!vb_projector_config_validate (cfg, error))
    return NULL;
  p = g_new0 (VbProjector, 1);
  p->cfg = *cfg;
  p->ops = vb_cpu_ops ();
  p->vit = vb_cpu_vit_ops ();
  if (!vb_projector_build_tensors (p, error))
    return NULL;
  p->dparams = p->params;
  p->dgrads = p->grads;
  p->dmerged = p->merged_w;
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

/* a buffer in the backend's memory (NULL when there is no room) */
static float *
balloc (VbProjector *p, int64_t floats)
{
  size_t bytes = (size_t) MAX (floats, 1) * sizeof (float);
  return p->ops->on_host ? g_try_malloc (bytes) : p->ops->alloc (p->ops->ctx, bytes);
}

static void
bfree (VbProjector *p, float **buf)
{
  if (*buf != NULL)
    {
      if (p->ops->on_host)
        g_free (*buf);
      else
        p->ops->free (p->ops->ctx, *buf);
    }
  *buf = NULL;
}

/* the forward's saved activations and the backward's scratch */
static void
free_acts (VbProjector *p)
{
  bfree (p, &p->act1);
  bfree (p, &p->act2);
  bfree (p, &p->scratch1);
  bfree (p, &p->scratch2);
  p->rows_cap = 0;
  p->rows_saved = 0;
}

/* those and the host calls' staging */
static void
free_rows (VbProjector *p)
{
  free_acts (p);
  bfree (p, &p->hx);
  bfree (p, &p->hy);
  bfree (p, &p->hdx);
  p->rows_host = 0;
}

/* the backend's copies, where they are not the host buffers */
static void
free_backend_copies (VbProjector *p)
{
  if (!p->ops->on_host)
    {
      bfree (p, &p->dparams);
      bfree (p, &p->dgrads);
      bfree (p, &p->dmerged);
    }
  p->dparams = p->params;
  p->dgrads = p->grads;
  p->dmerged = p->merged_w;
}

void
vb_projector_free (VbProjector *p)
{
  if (p == NULL)
    return;
  if (p->ops != NULL)
    {
      free_rows (p);
      free_backend_copies (p);
    }
  vb_projector_free_tensors (p);
  g_free (p);
}

gboolean
vb_projector_use_backend (VbProjector *p, const VbOps *ops, GError **error)
{
  const VbVitOps *vit = vb_vit_ops_for (ops, error);
  if (vit == NULL)
    return FALSE;
  if (ops == p->ops)
    return TRUE;
  const VbOps *old_ops = p->ops;
  size_t bytes = (size_t) p->n_params * sizeof (float);
  float *dparams = p->params, *dgrads = p->grads, *dmerged = p->merged_w;
  if (!ops->on_host)
    {
      dparams = ops->alloc (ops->ctx, bytes);
      dgrads = dparams ? ops->alloc (ops->ctx, bytes) : NULL;
      dmerged = NULL;
      if (dgrads != NULL && p->merged_w != NULL)
        dmerged = ops->alloc (ops->ctx, (size_t) p->cfg.in_f * p->cfg.out_f * sizeof (float));
      if (dgrads == NULL || (p->merged_w != NULL && dmerged == NULL))
        {
          g_autofree char *why = g_strdup (ops->sync (ops->ctx));
          ops->clear_error (ops->ctx);
          ops->free (ops->ctx, dparams);
          ops->free (ops->ctx, dgrads);
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                       "cannot hold %s's %" G_GINT64_FORMAT " parameters on %s: %s",
                       vb_projector_kind_name (p->cfg.kind), p->n_params, ops->name,
                       why ? why : "out of memory");
          return FALSE;
        }
    }
  /* the backend starts from the host's parameters and gradients (the old backend's,
   * when that was a device) */
  if (!old_ops->on_host)
    {
      vb_projector_params_from_backend (p);
      vb_projector_grads_from_backend (p);
    }
  free_rows (p);
  free_backend_copies (p);
  p->ops = ops;
  p->vit = vit;
  p->dparams = dparams;
  p->dgrads = dgrads;
  p->dmerged = dmerged;
  p->merged = FALSE;
  if (!ops->on_host)
    {
      ops->upload (ops->ctx, p->dparams, p->params, bytes);
      ops->upload (ops->ctx, p->dgrads, p->grads, bytes);
    }
  return TRUE;
}

const VbOps *vb_projector_backend (VbProjector *p) { return p->ops; }
float *vb_projector_backend_params (VbProjector *p) { return p->dparams; }
float *vb_projector_backend_grads (VbProjector *p) { return p->dgrads; }

void
vb_projector_upload_params (VbProjector *p)
{
  if (!p->ops->on_host)
    p->ops->upload (p->ops->ctx, p->dparams, p->params, (size_t) p->n_params * sizeof (float));
}

void
vb_projector_params_to_backend (VbProjector *p)
{
  p->merged = FALSE;      /* the parameters changed */
  vb_projector_upload_params (p);
}

float *
vb_projector_params_from_backend (VbProjector *p)
{
  if (!p->ops->on_host)
    p->ops->download (p->ops->ctx, p->params, p->dparams, (size_t) p->n_params * sizeof (float));
  return p->params;
}

float *
vb_projector_grads_from_backend (VbProjector *p)
{
  if (!p->ops->on_host)
    p->ops->download (p->ops->ctx, p->grads, p->dgrads, (size_t) p->n_params * sizeof (float));
  return p->grads;
}

gboolean
vb_projector_backend_ok (VbProjector *p, GError **error)
{
  const char *why = p->ops->sync (p->ops->ctx);
  if (why == NULL)
    return TRUE;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s on %s: %s",
               vb_projector_kind_name (p->cfg.kind), p->ops->name, why);
  p->ops->clear_error (p->ops->ctx);
  return FALSE;
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
  OP (zero, p->dgrads, (size_t) p->n_params * sizeof (float));
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
  free_acts (p);
  for (int i = 0; i < 4; i++)
    if (widths[i] > 0 && (*bufs[i] = balloc (p, rows * widths[i])) == NULL)
      {
        g_autofree char *why = NULL;
        if (!p->ops->on_host)
          {
            why = g_strdup (p->ops->sync (p->ops->ctx));
            p->ops->clear_error (p->ops->ctx);
          }
        free_acts (p);
        g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                     "%s: out of memory for the activations of %" G_GINT64_FORMAT
                     " tokens on %s%s%s", vb_projector_kind_name (p->cfg.kind), rows,
                     p->ops->name, why ? ": " : "", why ? why : "");
        return FALSE;
      }
  p->rows_cap = rows;
  return TRUE;
}

#define PW(slot) (p->off[slot] >= 0 ? p->dparams + p->off[slot] : NULL)
#define GW(slot) (p->off[slot] >= 0 ? p->dgrads + p->off[slot] : NULL)

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
      OP (linear_forward, y, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
      break;
    case VB_PROJ_LOWRANK:
      OP (linear_forward, p->act1, r, x, in, PW (T_W1), NULL, rows, in, r);
      OP (linear_forward, y, out, p->act1, r, PW (T_W2), PW (T_B2), rows, r, out);
      break;
    case VB_PROJ_MLP:
      OP (linear_forward, p->act1, h, x, in, PW (T_W1), PW (T_B1), rows, in, h);
      OP (gelu_forward, p->act2, p->act1, rows * h);
      OP (linear_forward, y, out, p->act2, h, PW (T_W2), PW (T_B2), rows, h, out);
      break;
    case VB_PROJ_GATED:
      OP (linear_forward, p->act1, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
      OP (linear_forward, p->act2, out, x, in, PW (T_W2), PW (T_B2), rows, in, out);
      VIT (sigmoid_gate_forward, y, p->act1, p->act1, p->act2, rows * out);
      break;
    case VB_PROJ_LORA:
      if (training)
        p->merged = FALSE;    /* the parameters are about to change */
      if (p->merged)
        {
          OP (linear_forward, y, out, x, in, p->dmerged, PW (T_B1), rows, in, out);
          break;
        }
      {
        float s = c->alpha / (float) r;
        int64_t n = rows * out;
        OP (linear_forward, y, out, x, in, PW (T_W1), PW (T_B1), rows, in, out);
        OP (linear_forward, p->act1, r, x, in, PW (T_A), NULL, rows, in, r);
        OP (linear_forward, p->act2, out, p->act1, r, PW (T_B), NULL, rows, r, out);
        OP (scale, p->act2, s, n);
        OP (add, y, y, p->act2, n);
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
      OP (linear_backward, dx, in, 0, GW (T_W1), GW (T_B1), dy, out, x, in, PW (T_W1),
                          rows, in, out);
      break;
    case VB_PROJ_LOWRANK:
      /* dt = dy·U, dU += dyᵀ·t; then dx = dt·V, dV += dtᵀ·x */
      OP (linear_backward, p->scratch1, r, 0, GW (T_W2), GW (T_B2), dy, out, p->act1, r,
                          PW (T_W2), rows, r, out);
      OP (linear_backward, dx, in, 0, GW (T_W1), NULL, p->scratch1, r, x, in, PW (T_W1),
                          rows, in, r);
      break;
    case VB_PROJ_MLP:
      OP (linear_backward, p->scratch1, h, 0, GW (T_W2), GW (T_B2), dy, out, p->act2, h,
                          PW (T_W2), rows, h, out);
      /* dh = dg · GELU'(h), in place (elementwise, same index) */
      OP (gelu_backward, p->scratch1, p->scratch1, p->act1, rows * h);
      OP (linear_backward, dx, in, 0, GW (T_W1), GW (T_B1), p->scratch1, h, x, in, PW (T_W1),
                          rows, in, h);
      break;
    case VB_PROJ_GATED:
      VIT (sigmoid_gate_backward, p->scratch1, p->scratch2, dy, p->act1, p->act2, rows * out);
      OP (linear_backward, dx, in, 0, GW (T_W1), GW (T_B1), p->scratch1, out, x, in,
                          PW (T_W1), rows, in, out);
      OP (linear_backward, dx, in, 1, GW (T_W2), GW (T_B2), p->scratch2, out, x, in,
                          PW (T_W2), rows, in, out);
      break;
    case VB_PROJ_LORA:
      {
        /* base frozen: only its input gradient. Adapter: du = s·dy, dt = du·B,
         * dB += duᵀ·t, dx += dt·A, dA += dtᵀ·x */
        float s = c->alpha / (float) r;
        int64_t n = rows * out;
        float *du = p->act2;
        OP (linear_backward, dx, in, 0, NULL, NULL, dy, out, x, in, PW (T_W1), rows, in, out);
        VIT (copy_rows, du, n, dy, n, 1, n);
        OP (scale, du, s, n);
        OP (linear_backward, p->scratch1, r, 0, GW (T_B), NULL, du, out, p->act1, r, PW (T_B),
                            rows, r, out);
        OP (linear_backward, dx, in, 1, GW (T_A), NULL, p->scratch1, r, x, in, PW (T_A),
                            rows, in, r);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* ---- host memory on any backend ---------------------------------------------------------- */

/* the device staging for `rows` host rows (a device backend only) */
static gboolean
ensure_host_rows (VbProjector *p, int64_t rows, GError **error)
{
  const VbProjConfig *c = &p->cfg;
  if (rows <= p->rows_host)
    return TRUE;
  bfree (p, &p->hx);
  bfree (p, &p->hy);
  bfree (p, &p->hdx);
  p->rows_host = 0;
  p->hx = balloc (p, rows * c->in_f);
  p->hy = balloc (p, rows * c->out_f);
  p->hdx = balloc (p, rows * c->in_f);
  if (p->hx == NULL || p->hy == NULL || p->hdx == NULL)
    {
      g_autofree char *why = g_strdup (p->ops->sync (p->ops->ctx));
      p->ops->clear_error (p->ops->ctx);
      bfree (p, &p->hx);
      bfree (p, &p->hy);
      bfree (p, &p->hdx);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "%s: no room for %" G_GINT64_FORMAT " tokens on %s: %s",
                   vb_projector_kind_name (c->kind), rows, p->ops->name,
                   why ? why : "out of memory");
      return FALSE;
    }
  p->rows_host = rows;
  return TRUE;
}

gboolean
vb_projector_forward_host (VbProjector *p, float *y, const float *x, int64_t rows,
                           gboolean training, GError **error)
{
  const VbProjConfig *c = &p->cfg;
  p->host_x = x;
  if (p->ops->on_host || rows <= 0)
    return vb_projector_forward (p, y, x, rows, training, error);
  if (!ensure_host_rows (p, rows, error))
    return FALSE;
  OP (upload, p->hx, x, (size_t) rows * c->in_f * sizeof (float));
  if (!vb_projector_forward (p, p->hy, p->hx, rows, training, error))
    return FALSE;
  OP (download, y, p->hy, (size_t) rows * c->out_f * sizeof (float));
  return vb_projector_backend_ok (p, error);
}

void
vb_projector_backward_host (VbProjector *p, float *dx, const float *dy, int64_t rows)
{
  const VbProjConfig *c = &p->cfg;
  g_return_if_fail (rows == p->rows_saved);
  if (p->ops->on_host || rows <= 0)
    {
      vb_projector_backward (p, dx, dy, p->host_x, rows);
      return;
    }
  g_return_if_fail (rows <= p->rows_host);
  /* dy through the y staging (the forward's y is no longer needed) */
  OP (upload, p->hy, dy, (size_t) rows * c->out_f * sizeof (float));
  vb_projector_backward (p, dx ? p->hdx : NULL, p->hy, p->hx, rows);
  if (dx != NULL)
    OP (download, dx, p->hdx, (size_t) rows * c->in_f * sizeof (float));
}
