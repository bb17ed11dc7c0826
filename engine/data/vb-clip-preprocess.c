/* vb-clip-preprocess.c: CLIPImageProcessor's steps (clip-projectors.md §1.5) and
 * LLaVA-1.5's pad-to-square, on the engine's 8-bit images. */
#include "config.h"

#include "vb-clip-preprocess.h"

#include <string.h>

#include "vb-error.h"

const float vb_clip_mean[3] = { 0.48145466f, 0.4578275f, 0.40821073f };
const float vb_clip_std[3] = { 0.26862954f, 0.26130258f, 0.27577711f };

static gboolean
check_image (const VbImage *img, GError **error)
{
  if (img->width < 1 || img->height < 1 || img->pixels == NULL
      || (img->channels != 1 && img->channels != 3))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "CLIP preprocessing needs a grey or RGB image, got %d×%d×%d",
                   img->width, img->height, img->channels);
      return FALSE;
    }
  return TRUE;
}

gboolean
vb_clip_pad_to_square (const VbImage *in, VbImage *out, GError **error)
{
  if (!check_image (in, error))
    return FALSE;
  int W = in->width, H = in->height, C = in->channels, S = MAX (W, H);
  int top = (S - H) / 2, left = (S - W) / 2;

  out->width = out->height = S;
  out->channels = 3;
  out->pixels = g_new (guint8, (gsize) S * S * 3);
  for (int64_t p = 0; p < (int64_t) S * S; p++)
    for (int c = 0; c < 3; c++)
      out->pixels[p * 3 + c] = (guint8) (255 * vb_clip_mean[c]);   /* truncated, as LLaVA */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        out->pixels[(((int64_t) y + top) * S + x + left) * 3 + c] =
          in->pixels[((int64_t) y * W + x) * C + (C == 1 ? 0 : c)];
  return TRUE;
}

gboolean
vb_clip_preprocess (const VbImage *img, int size, gboolean pad_square, float *out,
                    GError **error)
{
  g_auto (VbImage) padded = { 0 };
  g_auto (VbImage) resized = { 0 };

  if (!check_image (img, error))
    return FALSE;
  if (size < 1 || size > 4096)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "CLIP preprocessing: bad output size %d", size);
      return FALSE;
    }
  if (pad_square && img->width != img->height)
    {
      if (!vb_clip_pad_to_square (img, &padded, error))
        return FALSE;
      img = &padded;
    }

  /* short side → size, long side int(size·long/short) in doubles, as
   * CLIPImageProcessor computes it */
  int W = img->width, H = img->height, new_w, new_h;
  if (W <= H)
    {
      new_w = size;
      new_h = (int) ((double) size * H / W);
    }
  else
    {
      new_h = size;
      new_w = (int) ((double) size * W / H);
    }
  if (!vb_clip_resize_bicubic (img, new_w, new_h, &resized, error))
    return FALSE;

  int top = (new_h - size) / 2, left = (new_w - size) / 2, C = resized.channels;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < size; y++)
      for (int x = 0; x < size; x++)
        {
          guint8 p = resized.pixels[(((int64_t) y + top) * new_w + x + left) * C
                                    + (C == 1 ? 0 : c)];
          /* rescale in double then float, normalise in float: the processor's order */
          float v = (float) (p * (1.0 / 255.0));
          out[((int64_t) c * size + y) * size + x] = (v - vb_clip_mean[c]) / vb_clip_std[c];
        }
  return TRUE;
}
