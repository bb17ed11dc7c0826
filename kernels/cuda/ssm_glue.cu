/* ssm_glue.cu: the selective scan's glue ops on the GPU (kernels/cpu/ssm_glue.c). */
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-private.h"

#define GRID_STRIDE(i, total)                                                          \
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < (total);       \
       i += (int64_t) gridDim.x * blockDim.x)

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

/* One thread a (row, group) i: x_dbl's part i·RN… holds (dt_low (R), B (N), C (N)).
 * dt_low goes to the Rp-wide bf16 row i·Rp…, zeros after it, as 16-byte vectors where
 * the rows allow (Rp % 8 == 0 and an aligned dtlow16: VMamba's case) */
static __global__ void
split_xdbl_bf16_kernel (float *Bs, float *Cs, __nv_bfloat16 *dtlow16, const float *xdbl,
                        int64_t rows, int K, int R, int N, int Rp, bool vec)
{
  int RN = R + 2 * N;
  GRID_STRIDE (i, rows * K)
    {
      const float *x = xdbl + i * RN;
      for (int n = 0; n < N; n++)
        {
          Bs[i * N + n] = x[R + n];
          Cs[i * N + n] = x[R + N + n];
        }
      __nv_bfloat16 *d = dtlow16 + i * Rp;
      for (int j0 = 0; j0 < Rp; j0 += 8)
        {
          union { __nv_bfloat16 h[8]; uint4 u; } v;
#pragma unroll
          for (int e = 0; e < 8; e++)
            v.h[e] = __float2bfloat16_rn (j0 + e < R ? x[j0 + e] : 0.0f);
          if (vec)
            *reinterpret_cast<uint4 *> (d + j0) = v.u;
          else
            for (int e = 0; e < 8 && j0 + e < Rp; e++)
              d[j0 + e] = v.h[e];
        }
    }
}

/* one thread a (row, group) i: the bf16 gradient of x_dbl's part i·RN…, in bf16 pairs (4-byte
 * stores; RN is even, R + 2N with VMamba's even R) where PAIRS, else one value a store */
template <bool PAIRS>
static __global__ void
join_xdbl_bf16_kernel (__nv_bfloat16 *dxdbl16, const float *ddtlow, const float *dBs,
                       const float *dCs, int64_t rows, int K, int R, int N, int Rp)
{
  int RN = R + 2 * N;
  GRID_STRIDE (i, rows * K)
    {
      __nv_bfloat16 *d = dxdbl16 + i * RN;
      const float *g = ddtlow + i * Rp, *b = dBs + i * N, *c = dCs + i * N;
      auto value = [&] (int j) {
        return j < R ? g[j] : j < R + N ? b[j - R] : c[j - R - N];
      };
      if constexpr (PAIRS)
        for (int j = 0; j < RN; j += 2)
          *reinterpret_cast<__nv_bfloat162 *> (d + j)
            = __floats2bfloat162_rn (value (j), value (j + 1));
      else
        for (int j = 0; j < RN; j++)
          d[j] = __float2bfloat16_rn (value (j));
    }
}

static __global__ void
pad_cols_bf16_kernel (__nv_bfloat16 *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  GRID_STRIDE (i, rows * cols_p)
    {
      int j;
      int64_t r = vb_div_index (i, cols_p, &j);
      dst[i] = __float2bfloat16_rn (j < cols ? src[r * cols + j] : 0.0f);
    }
}

static __global__ void
unpad_add_cols_kernel (float *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  GRID_STRIDE (i, rows * cols)
    {
      int j;
      int64_t r = vb_div_index (i, cols, &j);
      dst[i] += src[r * cols_p + j];
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

extern "C" void
vb_cuda_ssm_split_xdbl_bf16 (VbCuda *cu, float *Bs, float *Cs, VbBf16 *dtlow16,
                             const float *xdbl, int64_t rows, int K, int R, int N, int Rp)
{
  bool vec = Rp % 8 == 0 && (uintptr_t) dtlow16 % 16 == 0;
  LAUNCH (cu, split_xdbl_bf16_kernel, rows * K, "split x_dbl (bf16)", Bs, Cs,
          (__nv_bfloat16 *) dtlow16, xdbl, rows, K, R, N, Rp, vec);
}

extern "C" void
vb_cuda_ssm_join_xdbl_bf16 (VbCuda *cu, VbBf16 *dxdbl16, const float *ddtlow, const float *dBs,
                            const float *dCs, int64_t rows, int K, int R, int N, int Rp)
{
  if ((R + 2 * N) % 2 == 0 && (uintptr_t) dxdbl16 % 4 == 0)
    LAUNCH (cu, join_xdbl_bf16_kernel<true>, rows * K, "join x_dbl's gradient (bf16)",
            (__nv_bfloat16 *) dxdbl16, ddtlow, dBs, dCs, rows, K, R, N, Rp);
  else
    LAUNCH (cu, join_xdbl_bf16_kernel<false>, rows * K, "join x_dbl's gradient (bf16)",
            (__nv_bfloat16 *) dxdbl16, ddtlow, dBs, dCs, rows, K, R, N, Rp);
}

extern "C" void
vb_cuda_pad_cols_bf16 (VbCuda *cu, VbBf16 *dst, const float *src, int64_t rows, int cols,
                       int cols_p)
{
  LAUNCH (cu, pad_cols_bf16_kernel, rows * cols_p, "pad columns (bf16)",
          (__nv_bfloat16 *) dst, src, rows, cols, cols_p);
}

extern "C" void
vb_cuda_unpad_add_cols (VbCuda *cu, float *dst, const float *src, int64_t rows, int cols,
                        int cols_p)
{
  LAUNCH (cu, unpad_add_cols_kernel, rows * cols, "add unpadded columns", dst, src, rows, cols,
          cols_p);
}
