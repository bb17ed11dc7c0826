/* ssm_glue.cu: the selective scan's glue ops on the GPU (kernels/cpu/ssm_glue.c). */
#include "vb-cuda-private.h"

#define GRID_STRIDE(i, total)                                                          \
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < (total);       \
       i += (int64_t) gridDim.x * blockDim.x)

static __global__ void
neg_exp_kernel (float *A, const float *A_logs, int64_t n)
{
  GRID_STRIDE (i, n)
    A[i] = -expf (A_logs[i]);
}

static __global__ void
mul_acc_kernel (float *out, const float *a, const float *b, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] += a[i] * b[i];
}

/* one thread per (row, group, state) */
static __global__ void
split_bc_kernel (float *Bs, float *Cs, const float *xdbl, int64_t rows, int K, int R, int N)
{
  int RN = R + 2 * N;
  GRID_STRIDE (i, rows * K * N)
    {
      int64_t rk = i / N;
      int n = (int) (i % N);
      const float *x = xdbl + rk * RN + R;     /* row r, group k: rk·RN = r·K·RN + k·RN */
      Bs[i] = x[n];
      Cs[i] = x[N + n];
    }
}

static __global__ void
join_bc_kernel (float *dxdbl, const float *dBs, const float *dCs, int64_t rows, int K, int R,
                int N)
{
  int RN = R + 2 * N;
  GRID_STRIDE (i, rows * K * N)
    {
      int64_t rk = i / N;
      int n = (int) (i % N);
      float *x = dxdbl + rk * RN + R;
      x[n] = dBs[i];
      x[N + n] = dCs[i];
    }
}

#define LAUNCH(cu, kernel, total, name, ...)                                             \
  do {                                                                                   \
    VB_CUDA_GUARD (cu);                                                                  \
    if ((total) <= 0)                                                                    \
      return;                                                                            \
    kernel<<<vb_cuda_blocks ((total), 256), 256, 0, (cu)->stream>>> (__VA_ARGS__);       \
    VB_CUDA_LAUNCHED ((cu), (name));                                                     \
  } while (0)

extern "C" void
vb_cuda_ssm_neg_exp (VbCuda *cu, float *A, const float *A_logs, int64_t n)
{
  LAUNCH (cu, neg_exp_kernel, n, "A = -exp(A_logs)", A, A_logs, n);
}

extern "C" void
vb_cuda_ssm_mul_acc (VbCuda *cu, float *out, const float *a, const float *b, int64_t n)
{
  LAUNCH (cu, mul_acc_kernel, n, "out += a*b", out, a, b, n);
}

extern "C" void
vb_cuda_ssm_split_bc (VbCuda *cu, float *Bs, float *Cs, const float *xdbl, int64_t rows, int K,
                      int R, int N)
{
  LAUNCH (cu, split_bc_kernel, rows * K * N, "split (B, C)", Bs, Cs, xdbl, rows, K, R, N);
}

extern "C" void
vb_cuda_ssm_join_bc (VbCuda *cu, float *dxdbl, const float *dBs, const float *dCs, int64_t rows,
                     int K, int R, int N)
{
  LAUNCH (cu, join_bc_kernel, rows * K * N, "join (dB, dC)", dxdbl, dBs, dCs, rows, K, R, N);
}
