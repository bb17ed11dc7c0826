/* ssm_glue.c: the selective scan's small glue ops (A from A_logs, dA_logs, the (B, C)
 * columns of x_dbl), as ops so that the GPU backend can run them where the data is. */
#include "config.h"

#include <math.h>

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
