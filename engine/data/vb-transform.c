/* vb-transform.c: crops, resampling, flips and normalisation. The geometry follows
 * torchvision (RandomResizedCrop, Resize + CenterCrop); the resampling follows PIL's
 * bilinear filter, whose support widens with the scale when shrinking, so downscaled
 * ImageNet images are antialiased like PIL's. Intermediate values stay in float. */
#include "config.h"

#include "vb-transform.h"
#include "vb-error.h"

#include <math.h>
#include <string.h>

void
vb_transform_spec_init (VbTransformSpec *spec, int out_size, gboolean train)
{
  static const float mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float std[3] = { 0.229f, 0.224f, 0.225f };

  memset (spec, 0, sizeof *spec);
  spec->out_size = out_size;
  spec->train = train;
  spec->scale_min = 0.08f;
  spec->hflip = TRUE;
  memcpy (spec->mean, mean, sizeof mean);
  memcpy (spec->std, std, sizeof std);
}

/* Weights of one output axis: for each output i, the first source index and the
 * normalised triangle-filter weights over [first, first + n). */
typedef struct {
  int    *first;
  int    *count;
  double *w;        /* out · ksize */
  int     ksize;
} Kernel;

static void
kernel_init (Kernel *k, int in_size, double x0, double box, int out_size)
{
  double scale = box / out_size;
  double support = scale > 1.0 ? scale : 1.0;   /* filter radius in source pixels */

  k->ksize = (int) ceil (support) * 2 + 1;
  k->first = g_new (int, out_size);
  k->count = g_new (int, out_size);
  k->w = g_new0 (double, (gsize) out_size * k->ksize);
  for (int i = 0; i < out_size; i++)
    {
      double center = x0 + (i + 0.5) * scale;
      int lo = (int) floor (center - support + 0.5);
      int hi = (int) floor (center + support + 0.5);
      double total = 0.0;
      double *w = k->w + (gsize) i * k->ksize;

      lo = MAX (lo, 0);
      hi = MIN (hi, in_size);
      if (hi - lo > k->ksize)
        hi = lo + k->ksize;
      if (hi <= lo)
        {
          /* box entirely outside (cannot happen for valid crops): nearest edge pixel */
          lo = CLAMP ((int) floor (center), 0, in_size - 1);
          hi = lo + 1;
        }
      for (int j = lo; j < hi; j++)
        {
          double t = fabs ((j + 0.5 - center) / support);
          double v = t < 1.0 ? 1.0 - t : 0.0;
          w[j - lo] = v;
          total += v;
        }
      if (total > 0.0)
        for (int j = 0; j < hi - lo; j++)
          w[j] /= total;
      else
        w[0] = 1.0;
      k->first[i] = lo;
      k->count[i] = hi - lo;
    }
}

static void
kernel_clear (Kernel *k)
{
  g_free (k->first);
  g_free (k->count);
  g_free (k->w);
}

void
vb_resample_box (const VbImage *img, double x0, double y0, double bw, double bh,
                 int out_w, int out_h, float *out)
{
  int ch = img->channels;
  Kernel kx, ky;
  int row_lo, row_hi;
  float *tmp;

  kernel_init (&kx, img->width, x0, bw, out_w);
  kernel_init (&ky, img->height, y0, bh, out_h);

  /* horizontal pass over the rows the vertical pass will need */
  row_lo = ky.first[0];
  row_hi = ky.first[out_h - 1] + ky.count[out_h - 1];
  for (int i = 0; i < out_h; i++)
    {
      row_lo = MIN (row_lo, ky.first[i]);
      row_hi = MAX (row_hi, ky.first[i] + ky.count[i]);
    }
  tmp = g_new (float, (gsize) (row_hi - row_lo) * out_w * ch);
  for (int y = row_lo; y < row_hi; y++)
    {
      const guint8 *src = img->pixels + (gsize) y * img->width * ch;
      float *dst = tmp + (gsize) (y - row_lo) * out_w * ch;
      for (int x = 0; x < out_w; x++)
        {
          const double *w = kx.w + (gsize) x * kx.ksize;
          const guint8 *s = src + (gsize) kx.first[x] * ch;
          for (int c = 0; c < ch; c++)
            {
              double acc = 0.0;
              for (int j = 0; j < kx.count[x]; j++)
                acc += w[j] * s[j * ch + c];
              dst[x * ch + c] = (float) acc;
            }
        }
    }
  /* vertical pass */
  for (int y = 0; y < out_h; y++)
    {
      const double *w = ky.w + (gsize) y * ky.ksize;
      const float *s = tmp + (gsize) (ky.first[y] - row_lo) * out_w * ch;
      float *dst = out + (gsize) y * out_w * ch;
      for (int x = 0; x < out_w * ch; x++)
        {
          double acc = 0.0;
          for (int j = 0; j < ky.count[y]; j++)
            acc += w[j] * s[(gsize) j * out_w * ch + x];
          dst[x] = (float) acc;
        }
    }
  g_free (tmp);
  kernel_clear (&kx);
  kernel_clear (&ky);
}

/* torchvision's RandomResizedCrop.get_params, with ratio (3/4, 4/3). */
static void
random_resized_box (VbRng *rng, int width, int height, float scale_min,
                    int *bx, int *by, int *bw, int *bh)
{
  double area = (double) width * height;
  double log_lo = log (3.0 / 4.0), log_hi = log (4.0 / 3.0);
  double in_ratio;

  for (int attempt = 0; attempt < 10; attempt++)
    {
      double target = area * vb_rng_range (rng, scale_min, 1.0f);
      double ratio = exp (log_lo + (log_hi - log_lo) * vb_rng_uniform (rng));
      int w = (int) floor (sqrt (target * ratio) + 0.5);
      int h = (int) floor (sqrt (target / ratio) + 0.5);
      if (w > 0 && w <= width && h > 0 && h <= height)
        {
          *by = (int) vb_rng_below (rng, (guint64) (height - h + 1));
          *bx = (int) vb_rng_below (rng, (guint64) (width - w + 1));
          *bw = w;
          *bh = h;
          return;
        }
    }
  /* fallback: the whole image, clamped to the ratio range, centred */
  in_ratio = (double) width / height;
  if (in_ratio < 3.0 / 4.0)
    {
      *bw = width;
      *bh = (int) floor (width / (3.0 / 4.0) + 0.5);
    }
  else if (in_ratio > 4.0 / 3.0)
    {
      *bh = height;
      *bw = (int) floor (height * (4.0 / 3.0) + 0.5);
    }
  else
    {
      *bw = width;
      *bh = height;
    }
  *bw = MIN (*bw, width);
  *bh = MIN (*bh, height);
  *bx = (width - *bw) / 2;
  *by = (height - *bh) / 2;
}

gboolean
vb_transform_apply (const VbTransformSpec *spec, const VbImage *img, VbRng *rng, float *out,
                    GError **error)
{
  int S = spec->out_size;
  int ch = img->channels;
  gboolean flip = FALSE;
  g_autofree float *raw = NULL;
  float scale[3], shift[3];

  if (S <= 0 || S > 8192 || img->pixels == NULL || img->width <= 0 || img->height <= 0
      || (ch != 1 && ch != 3))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "cannot transform a %d×%d image with %d channels to %d×%d",
                   img->width, img->height, ch, S, S);
      return FALSE;
    }
  if (spec->train && rng == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "a training transform needs a random generator");
      return FALSE;
    }

  raw = g_new (float, (gsize) S * S * ch);
  if (spec->train)
    {
      int bx, by, bw, bh;
      float smin = spec->scale_min > 0.0f && spec->scale_min <= 1.0f ? spec->scale_min : 0.08f;

      random_resized_box (rng, img->width, img->height, smin, &bx, &by, &bw, &bh);
      vb_resample_box (img, bx, by, bw, bh, S, S, raw);
      if (spec->hflip)
        flip = vb_rng_uniform (rng) < 0.5f;
    }
  else if (img->width == S && img->height == S)
    {
      for (gsize i = 0; i < (gsize) S * S * ch; i++)
        raw[i] = img->pixels[i];
    }
  else
    {
      /* resize the shorter side to round(S / 0.875), the longer in proportion
       * (truncated, as torchvision does), then take the centre S×S of that */
      int shorter = (int) floor (S / 0.875 + 0.5);
      int rw, rh, left, top;
      double sx, sy;

      if (img->width <= img->height)
        {
          rw = shorter;
          rh = (int) ((gint64) shorter * img->height / img->width);
        }
      else
        {
          rh = shorter;
          rw = (int) ((gint64) shorter * img->width / img->height);
        }
      left = (rw - S) / 2;
      top = (rh - S) / 2;
      /* cropping after a resize equals resampling the matching source box */
      sx = (double) img->width / rw;
      sy = (double) img->height / rh;
      vb_resample_box (img, left * sx, top * sy, S * sx, S * sy, S, S, raw);
    }

  for (int c = 0; c < 3; c++)
    {
      float sd = spec->std[c] != 0.0f ? spec->std[c] : 1.0f;
      scale[c] = 1.0f / (255.0f * sd);
      shift[c] = spec->mean[c] / sd;
    }
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      {
        int sxi = flip ? S - 1 - x : x;
        const float *s = raw + ((gsize) y * S + sxi) * ch;
        float *d = out + ((gsize) y * S + x) * 3;
        for (int c = 0; c < 3; c++)
          d[c] = s[ch == 3 ? c : 0] * scale[c] - shift[c];
      }
  return TRUE;
}
