/* dwconv3x3.c: depthwise 3×3, stride 1, padding 1, no bias, channel-last.
 * The weight is transposed to (tap, C) so the channel loop is contiguous. */
#include "config.h"

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

/* below this many elements a thread team costs more than it saves */
#define PAR_MIN 16384

static float *
transpose_weight (const float *w, int C)
{
  float *wt = malloc ((size_t) 9 * C * sizeof (float));
  if (wt != NULL)
    for (int c = 0; c < C; c++)
      for (int t = 0; t < 9; t++)
        wt[(int64_t) t * C + c] = w[(int64_t) c * 9 + t];
  return wt;
}

/* acc[c] += Σ_taps wt[tap, c] · src[pixel(y + dy·s, x + dx·s), c], s = +1 (forward)
 * or −1 with the taps mirrored (input gradient = full convolution, kernel rotated) */
static void
stencil (float *dst, const float *src, const float *wt, int B, int H, int W, int C, int sign)
{
  int64_t rows = (int64_t) B * H;

#pragma omp parallel for schedule(static) if (rows * W * C > PAR_MIN)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t b = r / H;
      int y = (int) (r % H);

      for (int x = 0; x < W; x++)
        {
          float *o = dst + ((b * H + y) * W + x) * C;
          memset (o, 0, (size_t) C * sizeof (float));
          for (int ky = 0; ky < 3; ky++)
            {
              int sy = y + sign * (ky - 1);
              if (sy < 0 || sy >= H)
                continue;
              for (int kx = 0; kx < 3; kx++)
                {
                  int sx = x + sign * (kx - 1);
                  if (sx < 0 || sx >= W)
                    continue;
                  const float *s = src + ((b * H + sy) * W + sx) * C;
                  const float *k = wt + (ky * 3 + kx) * (int64_t) C;
                  for (int c = 0; c < C; c++)
                    o[c] += k[c] * s[c];
                }
            }
        }
    }
}

void
vb_dwconv3x3_forward (float *out, const float *in, const float *w,
                      int B, int H, int W, int C)
{
  float *wt = transpose_weight (w, C);
  if (wt == NULL)
    return;
  stencil (out, in, wt, B, H, W, C, +1);
  free (wt);
}

void
vb_dwconv3x3_backward (float *din, float *dw,
                       const float *dout, const float *in, const float *w,
                       int B, int H, int W, int C)
{
  if (din != NULL)
    {
      float *wt = transpose_weight (w, C);
      if (wt == NULL)
        return;
      stencil (din, dout, wt, B, H, W, C, -1);
      free (wt);
    }

  if (dw != NULL)
    {
      int64_t rows = (int64_t) B * H;
      int64_t n_chunks = vb_cpu_n_chunks (rows);
      float *part = calloc ((size_t) n_chunks * 9 * C, sizeof (float));
      if (part == NULL)
        return;

      /* per-chunk partials (tap, C), summed in chunk order: thread-count independent */
#pragma omp parallel for schedule(static) if (n_chunks > 1)
      for (int64_t ch = 0; ch < n_chunks; ch++)
        {
          float *p = part + ch * 9 * C;
          int64_t r0 = vb_cpu_chunk_start (rows, n_chunks, ch);
          int64_t r1 = vb_cpu_chunk_start (rows, n_chunks, ch + 1);

          for (int64_t r = r0; r < r1; r++)
            {
              int64_t b = r / H;
              int y = (int) (r % H);
              for (int x = 0; x < W; x++)
                {
                  const float *g = dout + ((b * H + y) * W + x) * C;
                  for (int ky = 0; ky < 3; ky++)
                    {
                      int sy = y + ky - 1;
                      if (sy < 0 || sy >= H)
                        continue;
                      for (int kx = 0; kx < 3; kx++)
                        {
                          int sx = x + kx - 1;
                          if (sx < 0 || sx >= W)
                            continue;
                          const float *s = in + ((b * H + sy) * W + sx) * C;
                          float *pk = p + (ky * 3 + kx) * (int64_t) C;
                          for (int c = 0; c < C; c++)
                            pk[c] += g[c] * s[c];
                        }
                    }
                }
            }
        }

      for (int64_t ch = 0; ch < n_chunks; ch++)
        for (int c = 0; c < C; c++)
          for (int t = 0; t < 9; t++)
            dw[(int64_t) c * 9 + t] += part[(ch * 9 + t) * C + c];
      free (part);
    }
}

/* ---- fused with the SiLU after it: exactly the composition of the unfused ops -------- */

static float *
dense (int64_t elems)
{
  float *x = malloc ((size_t) (elems > 0 ? elems : 1) * sizeof (float));
  if (x == NULL)
    abort ();   /* a test-sized reference: nothing to fall back to */
  return x;
}

void
vb_dwconv3x3_silu_forward (float *pre, float *out, uint16_t *out16, const float *in,
                           const float *w, int B, int H, int W, int C)
{
  int64_t n = (int64_t) B * H * W * C;
  if (n <= 0)
    return;
  vb_dwconv3x3_forward (pre, in, w, B, H, W, C);
  /* out NULL: only its bf16 rounding is wanted */
  float *o = out != NULL ? out : dense (n);
  vb_silu_forward (o, pre, n);
  if (out16 != NULL)
    vb_to_bf16 (out16, o, NULL, 1, n);
  if (o != out)
    free (o);
}

void
vb_dwconv3x3_silu_backward (float *din, uint16_t *din16, float *dw, const float *dsilu,
                            const float *pre, const float *in, const float *w, int B, int H,
                            int W, int C)
{
  int64_t n = (int64_t) B * H * W * C;
  if (n <= 0 || (din == NULL && din16 == NULL && dw == NULL))
    return;
  float *dpre = dense (n);
  vb_silu_backward (dpre, dsilu, pre, n);
  /* the bf16 din is the fp32 one rounded once */
  float *d32 = din == NULL && din16 != NULL ? dense (n) : din;
  vb_dwconv3x3_backward (d32, dw, dpre, in, w, B, H, W, C);
  if (din16 != NULL)
    vb_to_bf16 (din16, d32, NULL, 1, n);
  if (d32 != din)
    free (d32);
  free (dpre);
}
