/* vb-clip-resize.c: Pillow's bicubic resize of 8-bit images, reproduced exactly
 * (src/libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc and the 8bpc
 * passes), because CLIPImageProcessor resizes through Pillow and OpenCV's bicubic
 * (a = −0.75, no antialiasing) would give other pixels (clip-projectors.md §1.5). */
#include "config.h"

#include "vb-clip-preprocess.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"

#define PRECISION_BITS (32 - 8 - 2)

typedef struct {
  int  ksize;      /* weights per output pixel (stride of k) */
  int *first;      /* first input index per output pixel */
  int *count;      /* inputs used per output pixel */
  int *k;          /* fixed-point weights, out_size × ksize */
} Coeffs;

static double
bicubic (double x)
{
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static void
coeffs_clear (Coeffs *c)
{
  g_clear_pointer (&c->first, g_free);
  g_clear_pointer (&c->count, g_free);
  g_clear_pointer (&c->k, g_free);
}

/* in doubles and in Pillow's order, so the rounded weights are Pillow's */
static void
coeffs_init (Coeffs *c, int in_size, int out_size)
{
  double scale = (double) in_size / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 2.0 * filterscale;
  g_autofree double *w = NULL;

  c->ksize = (int) ceil (support) * 2 + 1;
  c->first = g_new (int, out_size);
  c->count = g_new (int, out_size);
  c->k = g_new0 (int, (gsize) out_size * c->ksize);
  w = g_new (double, c->ksize);

  for (int xx = 0; xx < out_size; xx++)
    {
      double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      int xmax = (int) (center + support + 0.5);
      xmin = MAX (xmin, 0);
      xmax = MIN (xmax, in_size) - xmin;
      for (int x = 0; x < xmax; x++)
        {
          w[x] = bicubic ((x + xmin - center + 0.5) * ss);
          ww += w[x];
        }
      for (int x = 0; x < xmax; x++)
        {
          double v = ww != 0.0 ? w[x] / ww : w[x];
          c->k[(gsize) xx * c->ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                                                  : (int) (0.5 + v * (1 << PRECISION_BITS));
        }
      c->first[xx] = xmin;
      c->count[xx] = xmax;
    }
}

static guint8
clip8 (int acc)
{
  if (acc < 0)
    return 0;
  acc >>= PRECISION_BITS;
  return acc > 255 ? 255 : (guint8) acc;
}

/* one pass along x (sample step = channels) or y (step = a row): each of `n_lines`
 * lines (in_line / out_line apart) gets `out_len` samples, out_step apart */
static void
resample_pass (guint8 *dst, const guint8 *src, const Coeffs *c, int out_len,
               int64_t in_step, int64_t out_step, int n_lines, int64_t in_line, int64_t out_line)
{
  for (int i = 0; i < n_lines; i++)
    for (int o = 0; o < out_len; o++)
      {
        const int *k = c->k + (gsize) o * c->ksize;
        const guint8 *s = src + i * in_line + c->first[o] * in_step;
        int acc = 1 << (PRECISION_BITS - 1);
        for (int t = 0; t < c->count[o]; t++)
          acc += s[t * in_step] * k[t];
        dst[i * out_line + o * out_step] = clip8 (acc);
      }
}

gboolean
vb_clip_resize_bicubic (const VbImage *in, int out_w, int out_h, VbImage *out, GError **error)
{
  int W = in->width, H = in->height, C = in->channels;
  g_autofree guint8 *tmp = NULL;
  const guint8 *src = in->pixels;

  if (W < 1 || H < 1 || C < 1 || C > 4 || in->pixels == NULL || out_w < 1 || out_h < 1
      || out_w > 65536 || out_h > 65536)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "cannot resize a %d×%d×%d image to %d×%d", W, H, C, out_w, out_h);
      return FALSE;
    }

  if (out_w != W)
    {
      Coeffs cx = { 0 };
      coeffs_init (&cx, W, out_w);
      tmp = g_new (guint8, (gsize) out_w * H * C);
      for (int ch = 0; ch < C; ch++)
        resample_pass (tmp + ch, src + ch, &cx, out_w, C, C, H, (int64_t) W * C,
                       (int64_t) out_w * C);
      coeffs_clear (&cx);
      src = tmp;
    }

  out->width = out_w;
  out->height = out_h;
  out->channels = C;
  out->pixels = g_new (guint8, (gsize) out_w * out_h * C);
  if (out_h != H)
    {
      /* columns are the lines: the sample step is a row, lines are one sample apart */
      Coeffs cy = { 0 };
      coeffs_init (&cy, H, out_h);
      resample_pass (out->pixels, src, &cy, out_h, (int64_t) out_w * C, (int64_t) out_w * C,
                     out_w * C, 1, 1);
      coeffs_clear (&cy);
    }
  else
    memcpy (out->pixels, src, (gsize) out_w * out_h * C);
  return TRUE;
}
