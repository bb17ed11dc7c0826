/* vit.cu: the ViT embedding step (im2col of the patch convolution, class token and
 * positions), CLIP's quick GELU (fp32 and bf16 storage) and strided row copies
 * (vb-cuda-vit.h). Elementwise,
 * one thread per output element over a grid-stride loop; every fp32 result is computed as
 * the CPU op computes it, so they agree to the last bit but for expf's. */
#include <cuda_bf16.h>

#include "vb-cuda-fastmath.h"
#include "vb-cuda-private.h"
#include "vb-cuda-vit.h"

#define THREADS 256

/* One block per patch row (image b, token t = gy·G + gx): its C·P pixel rows across
 * threadIdx.y, each row's P pixels across threadIdx.x; the indices come from divisions
 * per row, never per element.
 * cols[(b·G² + t)·CPP + (c·P + ky)·P + kx] = pixels[b, c, gy·P + ky, gx·P + kx] */
static __global__ void
patchify_kernel (float *cols, const float *pixels, int C, int S, int P, int G, int64_t rows)
{
  int64_t cpp = (int64_t) C * P * P, gg = (int64_t) G * G;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    {
      int64_t b = row / gg, t = row - b * gg;
      int gy = (int) (t / G), gx = (int) (t - (int64_t) gy * G);
      float *dst = cols + row * cpp;
      for (int cky = threadIdx.y; cky < C * P; cky += blockDim.y)
        {
          int c = cky / P, ky = cky - c * P;
          const float *src = pixels + ((b * C + c) * S + (int64_t) gy * P + ky) * S
                             + (int64_t) gx * P;
          for (int kx = threadIdx.x; kx < P; kx += blockDim.x)
            dst[(int64_t) cky * P + kx] = src[kx];
        }
    }
}

static unsigned int
row_blocks (int64_t rows)
{
  return (unsigned int) (rows > (1 << 20) ? (1 << 20) : (rows < 1 ? 1 : rows));
}

extern "C" void
vb_cuda_vit_patchify (VbCuda *cu, float *cols, const float *pixels, int B, int C, int S, int P)
{
  VB_CUDA_GUARD (cu);
  int G = P > 0 ? S / P : 0;
  int64_t rows = (int64_t) B * G * G;
  if (rows <= 0 || C <= 0)
    return;
  dim3 threads (16, 16);
  patchify_kernel<<<row_blocks (rows), threads, 0, cu->stream>>> (cols, pixels, C, S, P, G,
                                                                   rows);
  VB_CUDA_LAUNCHED (cu, "vit patchify");
}

/* one block per token row: row 0 of an image = cls + pos[0], row j += pos[j] */
static __global__ void
add_embeddings_kernel (float *x, const float *cls, const float *pos, int N, int D,
                       int64_t rows)
{
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    {
      int j = (int) (row % N);
      float *xr = x + row * D;
      const float *pj = pos + (int64_t) j * D;
      if (j == 0)
        for (int d = threadIdx.x; d < D; d += blockDim.x)
          xr[d] = cls[d] + pj[d];
      else
        for (int d = threadIdx.x; d < D; d += blockDim.x)
          xr[d] += pj[d];
    }
}

extern "C" void
vb_cuda_vit_add_embeddings (VbCuda *cu, float *x, const float *cls, const float *pos, int B,
                            int N, int D)
{
  VB_CUDA_GUARD (cu);
  int64_t rows = (int64_t) B * N;
  if (rows <= 0 || D <= 0)
    return;
  add_embeddings_kernel<<<row_blocks (rows), THREADS, 0, cu->stream>>> (x, cls, pos, N, D,
                                                                        rows);
  VB_CUDA_LAUNCHED (cu, "vit class and position embeddings");
}

static __device__ __forceinline__ float
quick_gelu (float x)
{
  return x * (1.0f / (1.0f + expf (-1.702f * x)));
}

static __global__ void
quick_gelu_kernel (float *out, const float *in, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      out[i] = quick_gelu (in[i]);
    }
}

extern "C" void
vb_cuda_quick_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  quick_gelu_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, n);
  VB_CUDA_LAUNCHED (cu, "quick gelu forward");
}

/* bf16 storage: the hardware exponential and reciprocal (vb-cuda-fastmath.h; within a
 * few fp32 ulps of the CPU's, so within one bf16 ulp once rounded): the exact forms made
 * the kernel wait on its instructions */
static __device__ __forceinline__ float
quick_gelu_fast (float x)
{
  return x * vb_rcp (1.0f + vb_exp (-1.702f * x));
}

/* VW values a thread: 16 (two 16-byte loads in flight, then their stores), 8 (one), 1 */
template <int VW>
static __global__ void
quick_gelu_bf16_kernel (__nv_bfloat16 *out, const __nv_bfloat16 *in, int64_t n_vec)
{
  constexpr int Q = VW >= 8 ? VW / 8 : 1;   /* 16-byte words a thread */
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n_vec;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      if constexpr (VW >= 8)
        {
          uint4 raw[Q];
#pragma unroll
          for (int q = 0; q < Q; q++)
            raw[q] = reinterpret_cast<const uint4 *> (in)[i * Q + q];
#pragma unroll
          for (int q = 0; q < Q; q++)
            {
              __nv_bfloat162 *h = reinterpret_cast<__nv_bfloat162 *> (&raw[q]);
#pragma unroll
              for (int e = 0; e < 4; e++)
                {
                  float2 f = __bfloat1622float2 (h[e]);
                  h[e] = __floats2bfloat162_rn (quick_gelu_fast (f.x), quick_gelu_fast (f.y));
                }
              reinterpret_cast<uint4 *> (out)[i * Q + q] = raw[q];
            }
        }
      else
        out[i] = __float2bfloat16_rn (quick_gelu_fast (__bfloat162float (in[i])));
    }
}

extern "C" int
vb_cuda_quick_gelu_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, int64_t n)
{
  VB_CUDA_GUARD_RET (cu, -1);
  if (n <= 0)
    return 0;
  __nv_bfloat16 *o = reinterpret_cast<__nv_bfloat16 *> (out);
  const __nv_bfloat16 *x = reinterpret_cast<const __nv_bfloat16 *> (in);
  bool vec = (uintptr_t) out % 16 == 0 && (uintptr_t) in % 16 == 0;
  if (vec && n % 16 == 0)
    quick_gelu_bf16_kernel<16><<<vb_cuda_blocks (n / 16, THREADS), THREADS, 0, cu->stream>>> (
        o, x, n / 16);
  else if (vec && n % 8 == 0)
    quick_gelu_bf16_kernel<8><<<vb_cuda_blocks (n / 8, THREADS), THREADS, 0, cu->stream>>> (
        o, x, n / 8);
  else
    quick_gelu_bf16_kernel<1><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (o, x,
                                                                                       n);
  return VB_CUDA_LAUNCHED (cu, "quick gelu forward (bf16)") ? 0 : -1;
}

static __global__ void
widen_rows_kernel (float *dst, int64_t ld_dst, const __nv_bfloat16 *src, int64_t ld_src,
                   int64_t rows, int64_t cols)
{
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)
    for (int64_t c = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; c < cols;
         c += (int64_t) gridDim.x * blockDim.x)
      dst[r * ld_dst + c] = __bfloat162float (src[r * ld_src + c]);
}

extern "C" void
vb_cuda_widen_rows (VbCuda *cu, float *dst, int64_t ld_dst, const VbBf16 *src, int64_t ld_src,
                    int64_t rows, int64_t cols)
{
  VB_CUDA_GUARD (cu);
  if (rows <= 0 || cols <= 0)
    return;
  int64_t bx = (cols + THREADS - 1) / THREADS;
  dim3 grid ((unsigned int) (bx > 1024 ? 1024 : bx), (unsigned int) (rows > 65535 ? 65535 : rows));
  widen_rows_kernel<<<grid, THREADS, 0, cu->stream>>> (
      dst, ld_dst, reinterpret_cast<const __nv_bfloat16 *> (src), ld_src, rows, cols);
  VB_CUDA_LAUNCHED (cu, "widen rows (bf16)");
}

extern "C" void
vb_cuda_copy_rows (VbCuda *cu, float *dst, int64_t ld_dst, const float *src, int64_t ld_src,
                   int64_t rows, int64_t cols)
{
  VB_CUDA_GUARD (cu);
  if (rows <= 0 || cols <= 0)
    return;
  vb_cuda_check_rt (cu, cudaMemcpy2DAsync (dst, (size_t) ld_dst * sizeof (float), src,
                                           (size_t) ld_src * sizeof (float),
                                           (size_t) cols * sizeof (float), (size_t) rows,
                                           cudaMemcpyDeviceToDevice, cu->stream),
                    "copy rows");
}
