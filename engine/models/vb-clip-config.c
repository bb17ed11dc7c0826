/* vb-clip-config.c: CLIP tower configurations, their costs (clip-projectors.md §1.2,
 * §1.7), and the configuration implied by a Hugging Face weight file. */
#include "config.h"

#include "vb-clip-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-param-table.h"

void
vb_clip_config_vit_l14 (VbClipConfig *cfg, int image_size)
{
  cfg->image_size = image_size;
  cfg->patch_size = 14;
  cfg->width = 1024;
  cfg->layers = 24;
  cfg->heads = 16;
  cfg->mlp = 4096;
  cfg->in_chans = 3;
  cfg->eps = 1e-5f;
}

void
vb_clip_config_small (VbClipConfig *cfg, int image_size, int width, int layers, int heads)
{
  vb_clip_config_vit_l14 (cfg, image_size);
  cfg->width = width;
  cfg->layers = layers;
  cfg->heads = heads;
  cfg->mlp = 4 * width;
}

gboolean
vb_clip_config_validate (const VbClipConfig *cfg, GError **error)
{
  const char *why = NULL;

  if (cfg->patch_size < 1 || cfg->image_size < cfg->patch_size)
    why = "image size and patch size must be positive, the image at least one patch";
  else if (cfg->image_size % cfg->patch_size != 0)
    why = "the image size must be a multiple of the patch size";
  else if (cfg->width < 1 || cfg->heads < 1 || cfg->width % cfg->heads != 0)
    why = "the width must be a positive multiple of the head count";
  else if (cfg->layers < 1 || cfg->mlp < 1 || cfg->in_chans < 1 || cfg->in_chans > 4)
    why = "layers and MLP width must be positive, channels 1 to 4";
  else if (!(cfg->eps > 0.0f))
    why = "the LayerNorm epsilon must be positive";
  else if ((int64_t) vb_clip_config_tokens (cfg) * cfg->width > G_MAXINT / 4)
    why = "the image is too large for this width";
  if (why != NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "CLIP configuration (image %d, patch %d, width %d, %d layers, %d heads, "
                   "MLP %d): %s", cfg->image_size, cfg->patch_size, cfg->width, cfg->layers,
                   cfg->heads, cfg->mlp, why);
      return FALSE;
    }
  return TRUE;
}

int
vb_clip_config_grid (const VbClipConfig *cfg)
{
  return cfg->image_size / cfg->patch_size;
}

int
vb_clip_config_tokens (const VbClipConfig *cfg)
{
  int G = vb_clip_config_grid (cfg);
  return G * G + 1;
}

int64_t
vb_clip_param_count (const VbClipConfig *cfg)
{
  int64_t D = cfg->width, F = cfg->mlp, N = vb_clip_config_tokens (cfg);
  int64_t patch = D * cfg->in_chans * cfg->patch_size * cfg->patch_size;
  int64_t layer = 4 * (D * D + D) + 2 * 2 * D + (F * D + F) + (D * F + D);
  return patch + D + N * D + 2 * D + cfg->layers * layer + 2 * D;
}

int64_t
vb_clip_macs (const VbClipConfig *cfg, int n_layers)
{
  int64_t D = cfg->width, F = cfg->mlp, G = vb_clip_config_grid (cfg);
  int64_t N = G * G + 1;
  int64_t patch = G * G * D * cfg->in_chans * cfg->patch_size * cfg->patch_size;
  /* q, k, v, out: 4·N·D²; MLP: 2·N·D·F; scores and attention·V: 2·N²·D */
  return patch + n_layers * (4 * N * D * D + 2 * N * D * F + 2 * N * N * D);
}

void
vb_clip_plan_sizes (const VbClipConfig *cfg, int B, VbClipPlanSizes *s)
{
  int64_t D = cfg->width, N = vb_clip_config_tokens (cfg), G = vb_clip_config_grid (cfg);
  int64_t rows = (int64_t) B * N;
  s->h = rows * D;                              /* the residual stream */
  s->ln = rows * D;                             /* LayerNorm output, then branch output */
  s->big = rows * MAX (3 * D, (int64_t) cfg->mlp);   /* q|k|v, then the MLP hidden */
  s->attn = rows * D;                           /* heads concatenated */
  s->cols = G * G * cfg->in_chans * cfg->patch_size * cfg->patch_size;   /* one image */
  s->mean = rows;
  s->rstd = rows;
  s->x16 = s->ln16 = s->attn16 = rows * D;      /* bf16 storage: as h, ln, attn */
  s->big16 = s->big;
}

int64_t
vb_clip_activation_bytes (const VbClipConfig *cfg, int batch, gboolean bf16)
{
  VbClipPlanSizes s;
  vb_clip_plan_sizes (cfg, batch, &s);
  int64_t bytes = (s.h + s.ln + s.big + s.attn + s.cols + s.mean + s.rstd) * (int64_t) sizeof (float);
  if (bf16)
    bytes += (s.x16 + s.ln16 + s.big16 + s.attn16) * (int64_t) sizeof (VbBf16);
  return bytes;
}

/* ---- inference from a weight file ------------------------------------------------------ */

/* every tensor the inference reads: a wrong file fails here, naming what it is not */
static VbTensorEntry *
need (VbTensorDict *dict, const char *name, int ndim, const char *source, GError **error)
{
  return vb_param_table_need (dict, name, ndim, source, "Hugging Face CLIP vision file", error);
}

gboolean
vb_clip_config_from_dict (VbTensorDict *dict, int heads, VbClipConfig *cfg,
                          const char *source, GError **error)
{
  const char *pre = "vision_model.";
  g_autofree char *patch_name = g_strconcat (pre, "embeddings.patch_embedding.weight", NULL);
  g_autofree char *pos_name = g_strconcat (pre, "embeddings.position_embedding.weight", NULL);
  g_autofree char *fc1_name = g_strconcat (pre, "encoder.layers.0.mlp.fc1.weight", NULL);

  memset (cfg, 0, sizeof *cfg);
  VbTensorEntry *patch = need (dict, patch_name, 4, source, error);
  VbTensorEntry *pos = patch ? need (dict, pos_name, 2, source, error) : NULL;
  VbTensorEntry *fc1 = pos ? need (dict, fc1_name, 2, source, error) : NULL;
  if (fc1 == NULL)
    return FALSE;

  cfg->width = (int) patch->shape[0];
  cfg->in_chans = (int) patch->shape[1];
  cfg->patch_size = (int) patch->shape[2];
  cfg->mlp = (int) fc1->shape[0];
  cfg->eps = 1e-5f;
  cfg->heads = heads > 0 ? heads : MAX (cfg->width / 64, 1);
  /* the position table fixes the native image size: N − 1 = G² */
  int64_t G = (int64_t) llround (sqrt ((double) (pos->shape[0] - 1)));
  if (G < 1 || G * G + 1 != pos->shape[0] || patch->shape[2] != patch->shape[3])
    {
      g_autofree char *s = vb_shape_to_string (pos->ndim, pos->shape);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: tensor %s has shape %s: not a square grid plus a class token",
                   source, pos_name, s);
      return FALSE;
    }
  cfg->image_size = (int) (G * cfg->patch_size);
  for (;;)
    {
      g_autofree char *name = g_strdup_printf ("%sencoder.layers.%d.layer_norm1.weight", pre,
                                               cfg->layers);
      if (vb_tensor_dict_lookup (dict, name) == NULL)
        break;
      cfg->layers++;
    }
  if (!vb_clip_config_validate (cfg, error))
    {
      g_prefix_error (error, "%s: ", source);
      return FALSE;
    }
  return TRUE;
}
