/* vb-clip-params.c: the CLIP tower's named parameter table (Hugging Face keys and
 * shapes, clip-projectors.md §1.2, §7.2), seeded random weights, and loading by name. */
#include "config.h"

#include "vb-clip-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-param-table.h"
#include "vb-rng.h"
#include "vb-safetensors.h"

#define PREFIX "vision_model."

static void
tensor_info_free (gpointer p)
{
  VbClipTensorInfo *info = p;
  g_free (info->name);
  g_free (info);
}

/* Appends a tensor (name after "vision_model.") and returns its offset. */
G_GNUC_PRINTF (7, 8) static int64_t
add (VbClip *m, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *suffix = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  VbClipTensorInfo *info = g_new0 (VbClipTensorInfo, 1);
  int64_t dims[4] = { d0, d1, d2, d3 };
  info->name = g_strconcat (PREFIX, suffix, NULL);
  info->ndim = ndim;
  info->numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      info->shape[i] = dims[i];
      info->numel *= dims[i];
    }
  info->offset = m->n_params;
  m->n_params += info->numel;
  g_ptr_array_add (m->tensors, info);
  return info->offset;
}

gboolean
vb_clip_build_tensors (VbClip *m, GError **error)
{
  const VbClipConfig *cfg = &m->cfg;
  int64_t D = cfg->width, F = cfg->mlp, P = cfg->patch_size;
  int64_t N = vb_clip_config_tokens (cfg);

  m->tensors = g_ptr_array_new_with_free_func (tensor_info_free);
  m->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  m->n_params = 0;

  m->cls = add (m, 1, D, 0, 0, 0, "embeddings.class_embedding");
  m->patch_w = add (m, 4, D, cfg->in_chans, P, P, "embeddings.patch_embedding.weight");
  m->pos = add (m, 2, N, D, 0, 0, "embeddings.position_embedding.weight");
  m->pre_w = add (m, 1, D, 0, 0, 0, "pre_layrnorm.weight");   /* sic: the real key */
  m->pre_b = add (m, 1, D, 0, 0, 0, "pre_layrnorm.bias");

  m->layers = g_new0 (VbClipLayerOffsets, cfg->layers);
  for (int l = 0; l < cfg->layers; l++)
    {
      VbClipLayerOffsets *o = &m->layers[l];
      const char *p = "encoder.layers";
      o->ln1_w = add (m, 1, D, 0, 0, 0, "%s.%d.layer_norm1.weight", p, l);
      o->ln1_b = add (m, 1, D, 0, 0, 0, "%s.%d.layer_norm1.bias", p, l);
      /* q, k, v back to back: one (3·D, D) product and one (3·D) bias */
      o->qkv_w = add (m, 2, D, D, 0, 0, "%s.%d.self_attn.q_proj.weight", p, l);
      add (m, 2, D, D, 0, 0, "%s.%d.self_attn.k_proj.weight", p, l);
      add (m, 2, D, D, 0, 0, "%s.%d.self_attn.v_proj.weight", p, l);
      o->qkv_b = add (m, 1, D, 0, 0, 0, "%s.%d.self_attn.q_proj.bias", p, l);
      add (m, 1, D, 0, 0, 0, "%s.%d.self_attn.k_proj.bias", p, l);
      add (m, 1, D, 0, 0, 0, "%s.%d.self_attn.v_proj.bias", p, l);
      o->o_w = add (m, 2, D, D, 0, 0, "%s.%d.self_attn.out_proj.weight", p, l);
      o->o_b = add (m, 1, D, 0, 0, 0, "%s.%d.self_attn.out_proj.bias", p, l);
      o->ln2_w = add (m, 1, D, 0, 0, 0, "%s.%d.layer_norm2.weight", p, l);
      o->ln2_b = add (m, 1, D, 0, 0, 0, "%s.%d.layer_norm2.bias", p, l);
      o->fc1_w = add (m, 2, F, D, 0, 0, "%s.%d.mlp.fc1.weight", p, l);
      o->fc1_b = add (m, 1, F, 0, 0, 0, "%s.%d.mlp.fc1.bias", p, l);
      o->fc2_w = add (m, 2, D, F, 0, 0, "%s.%d.mlp.fc2.weight", p, l);
      o->fc2_b = add (m, 1, D, 0, 0, 0, "%s.%d.mlp.fc2.bias", p, l);
    }
  m->post_w = add (m, 1, D, 0, 0, 0, "post_layernorm.weight");
  m->post_b = add (m, 1, D, 0, 0, 0, "post_layernorm.bias");

  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbClipTensorInfo *info = g_ptr_array_index (m->tensors, t);
      g_hash_table_insert (m->by_name, info->name, info);
    }

  m->params = g_try_malloc0 (m->n_params * sizeof (float));
  if (m->params == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "out of memory for %" G_GINT64_FORMAT " CLIP parameters", m->n_params);
      return FALSE;
    }
  return TRUE;
}

/* ---- random weights ------------------------------------------------------------------ */

/* Box–Muller keeping both values of each pair: 300 M normals for ViT-L take half the
 * time of vb_rng_normal, which discards the sine */
static void
fill_normal (float *p, int64_t n, float std, VbRng *rng)
{
  for (int64_t i = 0; i < n; i += 2)
    {
      double u1 = ((vb_rng_next_u64 (rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
      double u2 = (vb_rng_next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
      double r = sqrt (-2.0 * log (u1)), a = 2.0 * G_PI * u2;
      p[i] = (float) (std * r * cos (a));
      if (i + 1 < n)
        p[i + 1] = (float) (std * r * sin (a));
    }
}

static void
fill_const (float *p, int64_t n, float v)
{
  for (int64_t i = 0; i < n; i++)
    p[i] = v;
}

void
vb_clip_init_random (VbClip *m, uint64_t seed)
{
  const VbClipConfig *cfg = &m->cfg;
  int64_t D = cfg->width, F = cfg->mlp, N = vb_clip_config_tokens (cfg);
  int64_t CPP = (int64_t) cfg->in_chans * cfg->patch_size * cfg->patch_size;
  float *P = m->params;
  VbRng rng;

  vb_rng_init (&rng, seed);
  /* Hugging Face's CLIP initialisation (factor 1, initializer_range 0.02): random
   * weights of the published tower's scale, so timings and activation ranges are
   * representative; biases 0, LayerNorms 1 and 0 */
  float in_std = 1.0f / sqrtf ((float) D) / sqrtf (2.0f * cfg->layers);
  float out_std = 1.0f / sqrtf ((float) D);
  float fc_std = 1.0f / sqrtf (2.0f * D);

  memset (P, 0, m->n_params * sizeof (float));
  fill_normal (P + m->cls, D, 1.0f / sqrtf ((float) D), &rng);
  fill_normal (P + m->patch_w, D * CPP, 0.02f, &rng);
  fill_normal (P + m->pos, N * D, 0.02f, &rng);
  fill_const (P + m->pre_w, D, 1.0f);
  for (int l = 0; l < cfg->layers; l++)
    {
      VbClipLayerOffsets *o = &m->layers[l];
      fill_const (P + o->ln1_w, D, 1.0f);
      fill_normal (P + o->qkv_w, 3 * D * D, in_std, &rng);
      fill_normal (P + o->o_w, D * D, out_std, &rng);
      fill_const (P + o->ln2_w, D, 1.0f);
      fill_normal (P + o->fc1_w, F * D, fc_std, &rng);
      fill_normal (P + o->fc2_w, D * F, in_std, &rng);
    }
  fill_const (P + m->post_w, D, 1.0f);

  g_clear_pointer (&m->projection, g_free);
  m->projection_rows = 0;
  g_free (m->weights_description);
  m->weights_description = g_strdup_printf ("random weights (seed %" G_GUINT64_FORMAT ")",
                                            (guint64) seed);
  m->params_dirty = TRUE;     /* the backend's copy is stale */
}

/* ---- by name ------------------------------------------------------------------------- */

static gboolean
is_skipped (VbTensorDict *dict, const char *name)
{
  GPtrArray *skipped = vb_tensor_dict_skipped (dict);
  for (guint i = 0; skipped != NULL && i < skipped->len; i++)
    if (g_strcmp0 (g_ptr_array_index (skipped, i), name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
vb_clip_load_dict (VbClip *m, VbTensorDict *dict, const char *source, GError **error)
{
  g_auto (VbParamCheck) check = { 0 };

  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbClipTensorInfo *info = g_ptr_array_index (m->tensors, t);
      if (vb_tensor_dict_lookup (dict, info->name) == NULL && is_skipped (dict, info->name))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: tensor %s is not stored as F32, F16, BF16 or F64", source,
                       info->name);
          return FALSE;
        }
      if (!vb_param_check_tensor (&check, dict, info->name, info->ndim, info->shape, source,
                                  "the CLIP tower", "", error))
        return FALSE;
    }

  /* keys outside vision_model. (text tower, logit_scale…) are another model's business;
   * inside it, anything unknown means another architecture or a bad export */
  for (guint t = 0; t < vb_tensor_dict_size (dict); t++)
    {
      VbTensorEntry *e = vb_tensor_dict_index (dict, t);
      if (g_str_has_prefix (e->name, PREFIX) && !g_str_has_suffix (e->name, ".position_ids")
          && g_hash_table_lookup (m->by_name, e->name) == NULL)
        vb_param_check_unexpected (&check, e->name);
    }
  if (!vb_param_check_finish (&check, source, "the CLIP tower", error))
    return FALSE;

  VbTensorEntry *proj = vb_tensor_dict_lookup (dict, "visual_projection.weight");
  if (proj != NULL && (proj->ndim != 2 || proj->shape[1] != m->cfg.width))
    {
      g_autofree char *got = vb_shape_to_string (proj->ndim, proj->shape);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: tensor visual_projection.weight has shape %s, expected (rows, %d)",
                   source, got, m->cfg.width);
      return FALSE;
    }

  for (guint t = 0; t < m->tensors->len; t++)
    {
      VbClipTensorInfo *info = g_ptr_array_index (m->tensors, t);
      VbTensorEntry *e = vb_tensor_dict_lookup (dict, info->name);
      memcpy (m->params + info->offset, e->data, info->numel * sizeof (float));
    }
  g_clear_pointer (&m->projection, g_free);
  m->projection_rows = 0;
  if (proj != NULL)
    {
      m->projection = g_memdup2 (proj->data, proj->numel * sizeof (float));
      m->projection_rows = (int) proj->shape[0];
    }
  g_free (m->weights_description);
  m->weights_description = g_strdup_printf ("weights from %s", source);
  m->params_dirty = TRUE;
  return TRUE;
}

gboolean
vb_clip_load_file (VbClip *m, const char *path, GError **error)
{
  g_autoptr (VbTensorDict) dict = vb_safetensors_load (path, error);
  if (dict == NULL)
    return FALSE;
  return vb_clip_load_dict (m, dict, path, error);
}

VbClip *
vb_clip_new_from_file (const char *path, int heads, GError **error)
{
  VbClipConfig cfg;
  g_autoptr (VbTensorDict) dict = vb_safetensors_load (path, error);
  if (dict == NULL || !vb_clip_config_from_dict (dict, heads, &cfg, path, error))
    return NULL;
  g_autoptr (VbClip) m = vb_clip_new (&cfg, error);
  if (m == NULL || !vb_clip_load_dict (m, dict, path, error))
    return NULL;
  return g_steal_pointer (&m);
}

const char *
vb_clip_weights_description (VbClip *m)
{
  return m->weights_description;
}

const float *
vb_clip_projection (VbClip *m, int *rows)
{
  if (rows != NULL)
    *rows = m->projection_rows;
  return m->projection;
}
