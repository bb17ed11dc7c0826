/* ssm_glue.c: the selective scan's small glue ops (A from A_logs, dA_logs, the (B, C)
 * columns of x_dbl, the Δ products' zero-padded bf16 operands), as ops so that the GPU
 * backend can run them where the data is. */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"
#include "vb-ops.h"

void
vb_ssm_neg_exp (float *A, const float *A_logs, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    A[i] = -expf (A_logs[i]);
}

void
vb_ssm_mul_acc (float *out, const float *a, const float *b, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    out[i] += a[i] * b[i];
}

void
vb_ssm_split_bc (float *Bs, float *Cs, const float *xdbl, int64_t rows, int K, int R, int N)
{
  int RN = R + 2 * N;
  for (int64_t r = 0; r < rows; r++)
    for (int k = 0; k < K; k++)
      for (int n = 0; n < N; n++)
        {
          Bs[(r * K + k) * N + n] = xdbl[r * K * RN + k * RN + R + n];
          Cs[(r * K + k) * N + n] = xdbl[r * K * RN + k * RN + R + N + n];
        }
}

void
vb_ssm_join_bc (float *dxdbl, const float *dBs, const float *dCs, int64_t rows, int K, int R,
                int N)
{
  int RN = R + 2 * N;
  for (int64_t r = 0; r < rows; r++)
    for (int k = 0; k < K; k++)
      for (int n = 0; n < N; n++)
        {
          dxdbl[r * K * RN + k * RN + R + n] = dBs[(r * K + k) * N + n];
          dxdbl[r * K * RN + k * RN + R + N + n] = dCs[(r * K + k) * N + n];
        }
}

void
vb_ssm_split_xdbl_bf16 (float *Bs, float *Cs, VbBf16 *dtlow16, const float *xdbl, int64_t rows,
                        int K, int R, int N, int Rp)
{
  int RN = R + 2 * N;
  vb_ssm_split_bc (Bs, Cs, xdbl, rows, K, R, N);
  for (int64_t r = 0; r < rows; r++)
    for (int k = 0; k < K; k++)
      for (int j = 0; j < Rp; j++)
        dtlow16[(r * K + k) * Rp + j]
          = j < R ? vb_bf16_from_float (xdbl[r * K * RN + k * RN + j]) : 0;
}

void
vb_ssm_join_xdbl_bf16 (VbBf16 *dxdbl16, const float *ddtlow, const float *dBs,
                       const float *dCs, int64_t rows, int K, int R, int N, int Rp)
{
  int RN = R + 2 * N;
  for (int64_t r = 0; r < rows; r++)
    for (int k = 0; k < K; k++)
      {
        VbBf16 *d = dxdbl16 + r * K * RN + k * RN;
        for (int j = 0; j < R; j++)
          d[j] = vb_bf16_from_float (ddtlow[(r * K + k) * Rp + j]);
        for (int n = 0; n < N; n++)
          {
            d[R + n] = vb_bf16_from_float (dBs[(r * K + k) * N + n]);
            d[R + N + n] = vb_bf16_from_float (dCs[(r * K + k) * N + n]);
          }
      }
}

void
vb_pad_cols_bf16 (VbBf16 *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  for (int64_t r = 0; r < rows; r++)
    for (int j = 0; j < cols_p; j++)
      dst[r * cols_p + j] = j < cols ? vb_bf16_from_float (src[r * cols + j]) : 0;
}

void
vb_unpad_add_cols (float *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  for (int64_t r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++)
      dst[r * cols + j] += src[r * cols_p + j];
}
