#include "config.h"

#include "vb-predict.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "vb-checkpoint.h"
#include "vb-error.h"
#include "vb-transform.h"

void
vb_prediction_clear (VbPrediction *p)
{
  g_clear_pointer (&p->logits, g_free);
}

static gboolean
load_image (const char *path, VbImage *img, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new_from_file (path, &local);
  if (pb == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: cannot decode the image: %s", path, local->message);
      return FALSE;
    }
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int nc = gdk_pixbuf_get_n_channels (pb), stride = gdk_pixbuf_get_rowstride (pb);
  const guint8 *src = gdk_pixbuf_read_pixels (pb);
  img->width = w;
  img->height = h;
  img->channels = 3;
  img->pixels = g_malloc ((size_t) w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (img->pixels + ((size_t) y * w + x) * 3, src + (size_t) y * stride + x * nc, 3);
  return TRUE;
}

gboolean
vb_predict_image (const char *weights_path, VbScanMode scan, const char *image_path, int size,
                  VbPrediction *out, GError **error)
{
  memset (out, 0, sizeof *out);
  g_autoptr (VbTensorDict) dict = vb_weights_load (weights_path, FALSE, error);
  if (dict == NULL)
    return FALSE;
  VbVmambaConfig cfg;
  if (!vb_vmamba_config_from_dict (dict, scan, &cfg, weights_path, error))
    return FALSE;
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, error);
  if (model == NULL || !vb_vmamba_load_dict (model, dict, FALSE, weights_path, error))
    return FALSE;

  g_auto (VbImage) img = { 0 };
  if (!load_image (image_path, &img, error))
    return FALSE;
  VbTransformSpec spec;
  vb_transform_spec_init (&spec, size, FALSE);
  g_autofree float *x = g_new (float, (size_t) size * size * 3);
  if (!vb_transform_apply (&spec, &img, NULL, x, error))
    return FALSE;
  if (!vb_vmamba_forward (model, x, 1, size, size, FALSE, NULL, error))
    return FALSE;

  out->n_classes = cfg.num_classes;
  out->logits = g_memdup2 (vb_vmamba_logits (model), cfg.num_classes * sizeof (float));
  out->n_top = MIN (5, cfg.num_classes);
  for (int k = 0; k < out->n_top; k++)
    {
      int best = -1;
      for (int c = 0; c < cfg.num_classes; c++)
        {
          gboolean taken = FALSE;
          for (int j = 0; j < k; j++)
            taken |= out->top5[j] == c;
          if (!taken && (best < 0 || out->logits[c] > out->logits[best]))
            best = c;
        }
      out->top5[k] = best;
    }
  return TRUE;
}
