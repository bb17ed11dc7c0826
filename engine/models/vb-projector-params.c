/* vb-projector-params.c: the named tensor table of each projector kind (PyTorch module
 * keys, as tests/reference/projectors_ref.py names them), the §3 initialisation, loading
 * and exporting by name, and the LoRA merge. */
#include "config.h"

#include "vb-projector-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-param-table.h"
#include "vb-rng.h"

static void
tensor_free (gpointer data)
{
  VbProjTensor *t = data;
  g_free ((char *) t->name);
  g_free (t);
}

static void
add (VbProjector *p, VbProjSlot slot, const char *name, int64_t d0, int64_t d1,
     gboolean trainable)
{
  VbProjTensor *t = g_new0 (VbProjTensor, 1);

  t->name = g_strdup (name);
  t->ndim = d1 > 0 ? 2 : 1;
  t->shape[0] = d0;
  t->shape[1] = d1 > 0 ? d1 : 0;
  t->numel = d1 > 0 ? d0 * d1 : d0;
  t->offset = p->n_params;
  t->trainable = trainable;
  t->decay = trainable && t->ndim == 2;
  p->off[slot] = t->offset;
  p->n_params += t->numel;
  if (trainable)
    p->n_trainable += t->numel;
  g_ptr_array_add (p->tensors, t);
}

void
vb_projector_buffer_widths (const VbProjConfig *cfg, int64_t act[2], int64_t scratch[2])
{
  int64_t r = cfg->rank, h = cfg->hidden, out = cfg->out_f;

  act[0] = act[1] = scratch[0] = scratch[1] = 0;
  switch (cfg->kind)
    {
    case VB_PROJ_LOWRANK:             /* t = V·x; backward dt */
      act[0] = r;
      scratch[0] = r;
      break;
    case VB_PROJ_MLP:                 /* h, GELU(h); backward dg, reused as dh */
      act[0] = act[1] = h;
      scratch[0] = h;
      break;
    case VB_PROJ_GATED:               /* σ(a), v; backward da, dv */
      act[0] = act[1] = out;
      scratch[0] = scratch[1] = out;
      break;
    case VB_PROJ_LORA:                /* t = A·x, u = B·t (reused for du); backward dt */
      act[0] = r;
      act[1] = out;
      scratch[0] = r;
      break;
    default:
      break;
    }
}

gboolean
vb_projector_build_tensors (VbProjector *p, GError **error)
{
  const VbProjConfig *c = &p->cfg;
  int64_t in = c->in_f, out = c->out_f, r = c->rank, h = c->hidden;

  p->tensors = g_ptr_array_new_with_free_func (tensor_free);
  for (int s = 0; s < T_COUNT; s++)
    p->off[s] = -1;

  switch (c->kind)
    {
    case VB_PROJ_LINEAR:
      add (p, T_W1, "linear.weight", out, in, TRUE);
      add (p, T_B1, "linear.bias", out, 0, TRUE);
      break;
    case VB_PROJ_LOWRANK:
      add (p, T_W1, "down.weight", r, in, TRUE);
      add (p, T_W2, "up.weight", out, r, TRUE);
      if (c->up_bias)
        add (p, T_B2, "up.bias", out, 0, TRUE);
      break;
    case VB_PROJ_MLP:
      add (p, T_W1, "fc1.weight", h, in, TRUE);
      add (p, T_B1, "fc1.bias", h, 0, TRUE);
      add (p, T_W2, "fc2.weight", out, h, TRUE);
      add (p, T_B2, "fc2.bias", out, 0, TRUE);
      break;
    case VB_PROJ_GATED:
      add (p, T_W1, "gate.weight", out, in, TRUE);
      add (p, T_B1, "gate.bias", out, 0, TRUE);
      add (p, T_W2, "value.weight", out, in, TRUE);
      add (p, T_B2, "value.bias", out, 0, TRUE);
      break;
    case VB_PROJ_LORA:
      /* trainable first, so the optimizer's range is a prefix */
      add (p, T_A, "lora_A.weight", r, in, TRUE);
      add (p, T_B, "lora_B.weight", out, r, TRUE);
      add (p, T_W1, "base.weight", out, in, FALSE);
      add (p, T_B1, "base.bias", out, 0, FALSE);
      break;
    default:
      g_assert_not_reached ();
    }

  p->params = g_try_malloc0 (p->n_params * sizeof (float));
  p->grads = g_try_malloc0 (p->n_params * sizeof (float));
  p->decay_mask = g_try_malloc0 (MAX (p->n_trainable, 1));
  if (c->kind == VB_PROJ_LORA)
    p->merged_w = g_try_malloc0 (in * out * sizeof (float));
  if (p->params == NULL || p->grads == NULL || p->decay_mask == NULL
      || (c->kind == VB_PROJ_LORA && p->merged_w == NULL))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "%s: out of memory for %" G_GINT64_FORMAT " parameters",
                   vb_projector_kind_name (c->kind), p->n_params);
      return FALSE;
    }
  for (guint i = 0; i < p->tensors->len; i++)
    {
      VbProjTensor *t = g_ptr_array_index (p->tensors, i);
      if (t->trainable && t->decay)
        memset (p->decay_mask + t->offset, 1, t->numel);
    }
  return TRUE;
}

void
vb_projector_free_tensors (VbProjector *p)
{
  g_clear_pointer (&p->tensors, g_ptr_array_unref);
  g_clear_pointer (&p->params, g_free);
  g_clear_pointer (&p->grads, g_free);
  g_clear_pointer (&p->decay_mask, g_free);
  g_clear_pointer (&p->merged_w, g_free);
}

/* ---- initialisation ---- */

static void
fill_uniform (float *x, int64_t n, float bound, VbRng *rng)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = vb_rng_range (rng, -bound, bound);
}

/* PyTorch's nn.Linear default: kaiming_uniform(a = √5) → U(±1/√fan_in), bias the same */
static void
init_linear (VbProjector *p, VbProjSlot w, VbProjSlot b, int64_t out, int64_t in, VbRng *rng)
{
  float bound = 1.0f / sqrtf ((float) in);

  fill_uniform (p->params + p->off[w], out * in, bound, rng);
  if (b != T_COUNT && p->off[b] >= 0)
    fill_uniform (p->params + p->off[b], out, bound, rng);
}

void
vb_projector_init_weights (VbProjector *p, uint64_t seed)
{
  const VbProjConfig *c = &p->cfg;
  int64_t in = c->in_f, out = c->out_f, r = c->rank, h = c->hidden;
  float *P = p->params;
  VbRng rng;

  vb_rng_init (&rng, seed);
  p->merged = FALSE;
  switch (c->kind)
    {
    case VB_PROJ_LINEAR:
      init_linear (p, T_W1, T_B1, out, in, &rng);
      break;
    case VB_PROJ_LOWRANK:
      init_linear (p, T_W1, T_COUNT, r, in, &rng);
      init_linear (p, T_W2, T_B2, out, r, &rng);
      break;
    case VB_PROJ_MLP:
      init_linear (p, T_W1, T_B1, h, in, &rng);
      init_linear (p, T_W2, T_B2, out, h, &rng);
      break;
    case VB_PROJ_GATED:
      init_linear (p, T_W1, T_B1, out, in, &rng);
      init_linear (p, T_W2, T_B2, out, in, &rng);
      break;
    case VB_PROJ_LORA:
      /* B = 0: the adapted model starts as exactly the base (§3) */
      init_linear (p, T_A, T_COUNT, r, in, &rng);
      memset (P + p->off[T_B], 0, out * r * sizeof (float));
      /* a frozen random base is meaningless; identity with zero bias is §4.5's */
      memset (P + p->off[T_W1], 0, out * in * sizeof (float));
      for (int64_t k = 0; k < MIN (in, out); k++)
        P[p->off[T_W1] + k * in + k] = 1.0f;
      memset (P + p->off[T_B1], 0, out * sizeof (float));
      break;
    default:
      g_assert_not_reached ();
    }
  vb_projector_upload_params (p);
}

/* ---- by name ---- */

gboolean
vb_projector_load_dict (VbProjector *p, VbTensorDict *dict, const char *source,
                        GError **error)
{
  guint used = 0;

  for (guint i = 0; i < p->tensors->len; i++)
    {
      VbProjTensor *t = g_ptr_array_index (p->tensors, i);
      VbTensorEntry *e = vb_tensor_dict_lookup (dict, t->name);
      gboolean same = e != NULL && vb_param_table_same_shape (e, t->ndim, t->shape);

      if (e == NULL)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s: %s needs tensor \"%s\", which is missing", source,
                       vb_projector_kind_name (p->cfg.kind), t->name);
          return FALSE;
        }
      if (!same)
        {
          g_autofree char *want = vb_shape_to_string (t->ndim, t->shape);
          g_autofree char *got = vb_shape_to_string (e->ndim, e->shape);
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s: tensor \"%s\" is %s, %s needs %s", source, t->name, got,
                       vb_projector_kind_name (p->cfg.kind), want);
          return FALSE;
        }
      used++;
    }
  if (used != vb_tensor_dict_size (dict))
    for (guint i = 0; i < vb_tensor_dict_size (dict); i++)
      {
        const char *name = vb_tensor_dict_index (dict, i)->name;
        if (vb_projector_find_tensor (p, name) == NULL)
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                         "%s: unexpected tensor \"%s\" for %s", source, name,
                         vb_projector_kind_name (p->cfg.kind));
            return FALSE;
          }
      }

  /* every check passed: only now overwrite, so a failed load leaves the model intact */
  for (guint i = 0; i < p->tensors->len; i++)
    {
      VbProjTensor *t = g_ptr_array_index (p->tensors, i);
      VbTensorEntry *e = vb_tensor_dict_lookup (dict, t->name);
      memcpy (p->params + t->offset, e->data, t->numel * sizeof (float));
    }
  p->merged = FALSE;
  vb_projector_upload_params (p);
  return TRUE;
}

VbTensorDict *
vb_projector_to_dict (VbProjector *p)
{
  VbTensorDict *dict = vb_tensor_dict_new ();

  vb_projector_params_from_backend (p);     /* a GPU's training is on the device */
  for (guint i = 0; i < p->tensors->len; i++)
    {
      VbProjTensor *t = g_ptr_array_index (p->tensors, i);
      vb_tensor_dict_add_copy (dict, t->name, t->ndim, t->shape, p->params + t->offset);
    }
  return dict;
}

/* ---- LoRA's base ---- */

gboolean
vb_projector_set_lora_base (VbProjector *lora, VbProjector *linear, GError **error)
{
  const VbProjConfig *lc = &lora->cfg, *bc = &linear->cfg;
  int64_t in = lc->in_f, out = lc->out_f;

  if (lc->kind != VB_PROJ_LORA || bc->kind != VB_PROJ_LINEAR || bc->in_f != in
      || bc->out_f != out)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "a LoRA base comes from a Linear of the same widths: %s %d → %d cannot "
                   "take %s %d → %d", vb_projector_kind_name (lc->kind), lc->in_f, lc->out_f,
                   vb_projector_kind_name (bc->kind), bc->in_f, bc->out_f);
      return FALSE;
    }
  memcpy (lora->params + lora->off[T_W1], linear->params + linear->off[T_W1],
          (gsize) out * in * sizeof (float));
  memcpy (lora->params + lora->off[T_B1], linear->params + linear->off[T_B1],
          (gsize) out * sizeof (float));
  lora->merged = FALSE;
  vb_projector_upload_params (lora);
  return TRUE;
}

/* ---- LoRA merge ---- */

gboolean
vb_projector_merge (VbProjector *p)
{
  const VbProjConfig *c = &p->cfg;
  int64_t in = c->in_f, out = c->out_f, r = c->rank;
  const float *W = p->params + p->off[T_W1];
  const float *A = p->params + p->off[T_A], *B = p->params + p->off[T_B];
  float s = c->alpha / (float) c->rank;

  if (c->kind != VB_PROJ_LORA)
    return FALSE;
  vb_projector_params_from_backend (p);     /* W, A and B as the backend has them */
  /* W + s·B·A; r is small (8), so a plain loop in a fixed order costs little and is
   * the same on every machine */
  for (int64_t o = 0; o < out; o++)
    for (int64_t i = 0; i < in; i++)
      {
        float acc = 0.0f;
        for (int64_t k = 0; k < r; k++)
          acc += B[o * r + k] * A[k * in + i];
        p->merged_w[o * in + i] = W[o * in + i] + s * acc;
      }
  if (!p->ops->on_host)
    p->ops->upload (p->ops->ctx, p->dmerged, p->merged_w, (size_t) in * out * sizeof (float));
  p->merged = TRUE;
  return TRUE;
}

gboolean
vb_projector_is_merged (VbProjector *p)
{
  return p->merged;
}
