/* conv3x3s2.c: 3×3 / stride 2 / padding 1 convolution as im2col + sgemm.
 *
 * Channel-last im2col orders a patch as (ky, kx, ci) so each tap copies cin contiguous
 * floats; the PyTorch weight (cout, cin, 3, 3) is permuted to match once per call.
 * Batches are processed in chunks of whole samples so the column buffer stays bounded,
 * and the input gradient is gathered per pixel (no scatter), so it is thread-count
 * independent. */
#include "config.h"

#include <cblas.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

/* column buffer budget per chunk, in floats (32 MiB) */
#define COLS_BUDGET (8 * 1024 * 1024)
/* below this many elements a thread team costs more than it saves */
#define PAR_MIN 16384

static int
samples_per_chunk (int B, int64_t per_sample)
{
  int64_t s = COLS_BUDGET / (per_sample > 0 ? per_sample : 1);
  if (s < 1)
    s = 1;
  return s > B ? B : (int) s;
}

/* w (cout, cin, 3, 3) → wt (cout, 3, 3, cin) */
static void
permute_weight (float *wt, const float *w, int cin, int cout)
{
  for (int o = 0; o < cout; o++)
    for (int ci = 0; ci < cin; ci++)
      for (int t = 0; t < 9; t++)
        wt[((int64_t) o * 9 + t) * cin + ci] = w[((int64_t) o * cin + ci) * 9 + t];
}

static void
im2col (float *cols, const float *in, int nb, int H, int W, int cin)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t rows = (int64_t) nb * Ho * Wo;
  int64_t K = 9 * (int64_t) cin;

#pragma omp parallel for schedule(static) if (rows * K > PAR_MIN)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t b = r / ((int64_t) Ho * Wo);
      int oy = (int) (r / Wo % Ho), ox = (int) (r % Wo);
      float *dst = cols + r * K;

      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
          {
            int y = 2 * oy - 1 + ky, x = 2 * ox - 1 + kx;
            float *d = dst + (ky * 3 + kx) * cin;
            if (y < 0 || y >= H || x < 0 || x >= W)
              memset (d, 0, (size_t) cin * sizeof (float));
            else
              memcpy (d, in + (((b * H) + y) * W + x) * cin, (size_t) cin * sizeof (float));
          }
    }
}

/* din[b, y, x, :] = Σ over the taps that read (y, x) of dcols[(b, oy, ox), tap, :] */
static void
col2im_gather (float *din, const float *dcols, int nb, int H, int W, int cin)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t rows = (int64_t) nb * H;

#pragma omp parallel for schedule(static) if (rows * W * cin > PAR_MIN)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t b = r / H;
      int y = (int) (r % H);

      for (int x = 0; x < W; x++)
        {
          float *d = din + ((b * H + y) * W + x) * cin;
          memset (d, 0, (size_t) cin * sizeof (float));
          for (int ky = 0; ky < 3; ky++)
            {
              int ty = y + 1 - ky, oy = ty / 2;
              if (ty < 0 || (ty & 1) || oy >= Ho)
                continue;
              for (int kx = 0; kx < 3; kx++)
                {
                  int tx = x + 1 - kx, ox = tx / 2;
                  if (tx < 0 || (tx & 1) || ox >= Wo)
                    continue;
                  const float *s = dcols + ((b * Ho + oy) * Wo + ox) * K + (ky * 3 + kx) * cin;
                  for (int ci = 0; ci < cin; ci++)
                    d[ci] += s[ci];
                }
            }
        }
    }
}

void
vb_conv3x3s2_forward (float *out, const float *in, const float *w, const float *b,
                      int B, int H, int W, int cin, int cout)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t per_sample = (int64_t) Ho * Wo * K;
  int chunk = samples_per_chunk (B, per_sample);
  float *wt, *cols;

  if (B <= 0 || Ho <= 0 || Wo <= 0 || cout <= 0)
    return;

  wt = malloc ((size_t) cout * K * sizeof (float));
  cols = malloc ((size_t) chunk * per_sample * sizeof (float));
  if (wt == NULL || cols == NULL)
    goto out;
  permute_weight (wt, w, cin, cout);

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;

      im2col (cols, in + (int64_t) b0 * H * W * cin, nb, H, W, cin);
      vb_linear_forward (out + (int64_t) b0 * Ho * Wo * cout, cout, cols, K, wt, b,
                         rows, (int) K, cout);
    }

out:
  free (wt);
  free (cols);
}

void
vb_conv3x3s2_backward (float *din, float *dw, float *db,
                       const float *dout, const float *in, const float *w,
                       int B, int H, int W, int cin, int cout)
{
  vb_cpu_conv3x3s2_backward (din, dw, db, dout, in, w, B, H, W, cin, cout, 0);
}

void
vb_cpu_conv3x3s2_backward (float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int B, int H, int W, int cin,
                           int cout, int bf16_dcols)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t per_sample = (int64_t) Ho * Wo * K;
  int chunk = samples_per_chunk (B, per_sample);
  float *wt = NULL, *dwt = NULL, *cols = NULL;

  if (B <= 0 || Ho <= 0 || Wo <= 0 || cout <= 0)
    return;

  if (db != NULL)
    vb_cpu_colsum_acc (db, dout, (int64_t) B * Ho * Wo, cout, cout);
  if (din == NULL && dw == NULL)
    return;

  /* one buffer serves as the im2col matrix and then as the column gradient */
  cols = malloc ((size_t) chunk * per_sample * sizeof (float));
  wt = malloc ((size_t) cout * K * sizeof (float));
  if (dw != NULL)
    dwt = calloc ((size_t) cout * K, sizeof (float));
  if (cols == NULL || wt == NULL || (dw != NULL && dwt == NULL))
    goto out;
  permute_weight (wt, w, cin, cout);

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      const float *dout_c = dout + (int64_t) b0 * Ho * Wo * cout;

      if (dw != NULL)
        {
          im2col (cols, in + (int64_t) b0 * H * W * cin, nb, H, W, cin);
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                       cout, (blasint) K, (blasint) rows,
                       1.0f, dout_c, cout, cols, (blasint) K,
                       1.0f, dwt, (blasint) K);
        }
      if (din != NULL)
        {
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                       (blasint) rows, (blasint) K, cout,
                       1.0f, dout_c, cout, wt, (blasint) K,
                       0.0f, cols, (blasint) K);
          if (bf16_dcols)
            for (int64_t i = 0; i < rows * K; i++)
              cols[i] = vb_bf16_to_float (vb_bf16_from_float (cols[i]));
          col2im_gather (din + (int64_t) b0 * H * W * cin, cols, nb, H, W, cin);
        }
    }

  if (dw != NULL)
    for (int o = 0; o < cout; o++)
      for (int ci = 0; ci < cin; ci++)
        for (int t = 0; t < 9; t++)
          dw[((int64_t) o * cin + ci) * 9 + t] += dwt[((int64_t) o * 9 + t) * cin + ci];

out:
  free (wt);
  free (dwt);
  free (cols);
}
