/* bf16.c: the bf16-storage ops as their fp32 ops on widened copies (vb-cpu-ops.h): the
 * reference the GPU's bf16 kernels are checked against, and what lets the model's bf16
 * path run (slowly) on the CPU in tests. */
#include "config.h"

#include <stdlib.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

static float *
dense (int64_t elems)
{
  float *x = calloc ((size_t) (elems > 0 ? elems : 1), sizeof (float));
  if (x == NULL)
    abort ();   /* a test-sized reference: nothing to fall back to */
  return x;
}

/* rows × cols of a strided bf16 matrix as a dense fp32 one (caller frees) */
static float *
widen (const VbBf16 *src, int64_t rows, int64_t cols, int64_t ld)
{
  float *dst = dense (rows * cols);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      dst[r * cols + c] = vb_bf16_to_float (src[r * ld + c]);
  return dst;
}

static void
narrow (VbBf16 *dst, int64_t ld, const float *src, int64_t rows, int64_t cols)
{
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      dst[r * ld + c] = vb_bf16_from_float (src[r * cols + c]);
}

void
vb_to_bf16 (VbBf16 *dst, const float *src, const float *scale, int B, int64_t per_sample)
{
  for (int b = 0; b < B; b++)
    for (int64_t i = 0; i < per_sample; i++)
      {
        int64_t j = (int64_t) b * per_sample + i;
        dst[j] = vb_bf16_from_float (scale != NULL ? src[j] * scale[b] : src[j]);
      }
}

void
vb_linear_forward_bf16 (float *out, VbBf16 *out16, int64_t ld_out, const VbBf16 *in,
                        int64_t ld_in, const VbBf16 *w, const float *b, int64_t n, int in_f,
                        int out_f)
{
  if (n <= 0)
    return;
  float *x = widen (in, n, in_f, ld_in), *wf = widen (w, out_f, in_f, in_f);
  if (out != NULL)
    vb_linear_forward (out, ld_out, x, in_f, wf, b, n, in_f, out_f);
  else
    {
      /* a bf16 out takes the bias at bf16 precision, as a module cast to bf16 holds it
       * (and as cuBLASLt's bias epilogue, whose bias has the output's type, adds it) */
      float *y = dense (n * out_f), *b16 = NULL;
      if (b != NULL)
        {
          b16 = dense (out_f);
          for (int o = 0; o < out_f; o++)
            b16[o] = vb_bf16_to_float (vb_bf16_from_float (b[o]));
        }
      vb_linear_forward (y, out_f, x, in_f, wf, b16, n, in_f, out_f);
      narrow (out16, ld_out, y, n, out_f);
      free (b16);
      free (y);
    }
  free (x);
  free (wf);
}

void
vb_linear_backward_bf16 (float *din, VbBf16 *din16, int64_t ld_din, float *dw, float *db,
                         const VbBf16 *dout, int64_t ld_dout, const VbBf16 *in, int64_t ld_in,
                         const VbBf16 *w, int64_t n, int in_f, int out_f)
{
  if (n <= 0)   /* nothing written, nothing to accumulate */
    return;
  float *dy = widen (dout, n, out_f, ld_dout), *x = widen (in, n, in_f, ld_in);
  float *wf = widen (w, out_f, in_f, in_f);
  float *dx = din16 != NULL ? dense (n * in_f) : NULL;
  vb_linear_backward (din16 != NULL ? dx : din, din16 != NULL ? in_f : ld_din, 0, dw, db, dy,
                      out_f, x, in_f, wf, n, in_f, out_f);
  if (din16 != NULL)
    narrow (din16, ld_din, dx, n, in_f);
  free (dx);
  free (dy);
  free (x);
  free (wf);
}

void
vb_layernorm_forward_bf16 (VbBf16 *out, float *mean, float *rstd, const float *in,
                           const float *gamma, const float *beta, int64_t n, int c, float eps)
{
  float *y = dense (n * c);
  vb_layernorm_forward (y, mean, rstd, in, gamma, beta, n, c, eps);
  narrow (out, c, y, n, c);
  free (y);
}

/* (rows, c) widened, with b (c) added to every row when not NULL */
static float *
widen_biased (const VbBf16 *in, const float *b, int64_t rows, int c)
{
  float *x = widen (in, rows, c, c);
  if (b != NULL)
    for (int64_t r = 0; r < rows; r++)
      for (int j = 0; j < c; j++)
        x[r * c + j] += b[j];
  return x;
}

void
vb_merge_bf16_layernorm_forward (float *y, VbBf16 *out16, float *mean, float *rstd,
                                 const VbBf16 *ys16, int K, const float *gamma,
                                 const float *beta, int64_t n, int c, float eps)
{
  vb_group_sum_bf16 (y, ys16, n, K, c, 0);
  vb_layernorm_forward_bf16 (out16, mean, rstd, y, gamma, beta, n, c, eps);
}

void
vb_residual_layernorm_forward_bf16 (float *y, VbBf16 *out16, float *mean, float *rstd,
                                    const float *x, const float *branch, const float *bias,
                                    const float *scale, int B, const float *gamma,
                                    const float *beta, int64_t n, int c, float eps)
{
  vb_residual_add (y, x, branch, bias, c, scale, B, n * c / B);
  vb_layernorm_forward_bf16 (out16, mean, rstd, y, gamma, beta, n, c, eps);
}

void
vb_layernorm_backward_acc_bf16 (float *din, VbBf16 *din16, const float *scale, int B,
                                float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *mean, const float *rstd,
                                const float *gamma, int64_t n, int c)
{
  vb_layernorm_backward (din, 1, dgamma, dbeta, dout, in, mean, rstd, gamma, n, c);
  vb_to_bf16 (din16, din, scale, B, n * c / B);
}

void
vb_layernorm_backward_bf16 (VbBf16 *din16, float *din_work, float *dgamma, float *dbeta,
                            const float *dout, const float *in, const float *mean,
                            const float *rstd, const float *gamma, int64_t n, int c)
{
  vb_layernorm_backward (din_work, 0, dgamma, dbeta, dout, in, mean, rstd, gamma, n, c);
  vb_to_bf16 (din16, din_work, NULL, 1, n * c);
}

void
vb_gelu_forward_bf16 (VbBf16 *out, const VbBf16 *in, const float *b, int64_t rows, int c)
{
  int64_t n = rows * c;
  float *x = widen_biased (in, b, rows, c);
  vb_gelu_forward (x, x, n);
  narrow (out, n, x, 1, n);
  free (x);
}

void
vb_gelu_backward_bf16 (VbBf16 *din, float *db, const VbBf16 *dout, const VbBf16 *in,
                       const float *b, int64_t rows, int c)
{
  int64_t n = rows * c;
  float *dy = widen (dout, 1, n, n), *x = widen_biased (in, b, rows, c);
  vb_gelu_backward (dy, dy, x, n);
  narrow (din, n, dy, 1, n);
  if (db != NULL && n > 0)
    {
      /* the stored values, as the product's backward would sum them */
      float *stored = widen (din, 1, n, n);
      vb_cpu_colsum_acc (db, stored, rows, c, c);
      free (stored);
    }
  free (dy);
  free (x);
}

/* a copy of x (n values) with every value rounded to bf16 and widened back (caller frees) */
static float *
rounded (const float *x, int64_t n)
{
  float *r = dense (n);
  for (int64_t i = 0; i < n; i++)
    r[i] = vb_bf16_to_float (vb_bf16_from_float (x[i]));
  return r;
}

void
vb_conv3x3s2_forward_bf16 (float *out, const float *in, const float *w, const float *b, int B,
                           int H, int W, int cin, int cout)
{
  if (B <= 0 || H <= 0 || W <= 0 || cout <= 0)
    return;
  float *x = rounded (in, (int64_t) B * H * W * cin);
  float *wr = rounded (w, (int64_t) cout * cin * 9);
  vb_conv3x3s2_forward (out, x, wr, b, B, H, W, cin, cout);
  free (x);
  free (wr);
}

void
vb_conv3x3s2_backward_bf16 (float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, int B, int H, int W, int cin,
                            int cout)
{
  if (B <= 0 || H <= 0 || W <= 0 || cout <= 0)
    return;
  /* the bias gradient sums the unrounded dout */
  if (db != NULL)
    vb_conv3x3s2_backward (NULL, NULL, db, dout, in, w, B, H, W, cin, cout);
  if (din == NULL && dw == NULL)
    return;
  int64_t n_out = (int64_t) B * ((H + 1) / 2) * ((W + 1) / 2) * cout;
  float *dy = rounded (dout, n_out);
  float *x = dw != NULL ? rounded (in, (int64_t) B * H * W * cin) : NULL;
  float *wr = din != NULL ? rounded (w, (int64_t) cout * cin * 9) : NULL;
  /* (the fp32 op reads w, and in, even where their product is skipped) */
  vb_cpu_conv3x3s2_backward (din, dw, NULL, dy, x != NULL ? x : in, wr != NULL ? wr : w, B, H,
                             W, cin, cout, 1);
  free (dy);
  free (x);
  free (wr);
}

/* ---- the SS2D scan with u, delta, yk, duk, ddelta stored as bf16 ------------------- */

void
vb_ss2d_scan_forward_bf16 (VbBf16 *yk, const VbBf16 *u, const VbBf16 *delta, const float *A,
                           const float *Bs, const float *Cs, const float *Dskip,
                           const float *dbias, int B, int H, int W, int K, int D, int N,
                           VbScanMode mode)
{
  int64_t n = (int64_t) B * H * W * K * D, nu = (int64_t) B * H * W * D;
  if (n <= 0)
    return;
  float *uw = widen (u, 1, nu, nu), *dl = widen (delta, 1, n, n), *y = dense (n);
  vb_ss2d_scan_forward (y, uw, dl, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  narrow (yk, n, y, 1, n);
  free (uw);
  free (dl);
  free (y);
}

void
vb_ss2d_scan_backward_bf16 (VbBf16 *duk, VbBf16 *ddelta, float *dA, float *dBs, float *dCs,
                            float *dDskip, float *ddbias, const VbBf16 *dy, const VbBf16 *u,
                            const VbBf16 *delta, const float *A, const float *Bs,
                            const float *Cs, const float *Dskip, const float *dbias, int B,
                            int H, int W, int K, int D, int N, VbScanMode mode)
{
  int64_t n = (int64_t) B * H * W * K * D, nu = (int64_t) B * H * W * D;
  if (n <= 0)
    return;
  float *uw = widen (u, 1, nu, nu), *dl = widen (delta, 1, n, n), *g = widen (dy, 1, nu, nu);
  float *du = duk != NULL ? dense (n) : NULL, *dd = ddelta != NULL ? dense (n) : NULL;
  vb_ss2d_scan_backward (du, dd, dA, dBs, dCs, dDskip, ddbias, g, uw, dl, A, Bs, Cs, Dskip,
                         dbias, B, H, W, K, D, N, mode);
  free (uw);
  free (g);
  if (duk != NULL)
    narrow (duk, n, du, 1, n);
  if (ddelta != NULL)
    narrow (ddelta, n, dd, 1, n);
  free (dl);
  free (du);
  free (dd);
}

void
vb_group_sum_bf16 (float *out, const VbBf16 *in, int64_t rows, int K, int D, int accumulate)
{
  if (rows <= 0 || K <= 0 || D <= 0)
    return;
  float *x = widen (in, rows, (int64_t) K * D, (int64_t) K * D);
  vb_group_sum (out, x, rows, K, D, accumulate);
  free (x);
}
