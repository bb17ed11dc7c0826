/* gating.cu: the sigmoid gate of the Gated projector, y = σ(a) ⊙ v (vb-cuda-vit.h;
 * the CPU op is kernels/cpu/gating.c). */
#include <cuda_bf16.h>

#include "vb-cuda-private.h"
#include "vb-cuda-vit.h"

#define THREADS 256

static __global__ void
gate_forward_kernel (float *y, float *s, const float *a, const float *v, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      /* a is read before s is written: s may alias a */
      float g = 1.0f / (1.0f + expf (-a[i]));
      s[i] = g;
      y[i] = g * v[i];
    }
}

static __global__ void
gate_backward_kernel (float *da, float *dv, const float *dy, const float *s, const float *v,
                      int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      float g = s[i], d = dy[i];
      da[i] = d * v[i] * g * (1.0f - g);
      dv[i] = d * g;
    }
}

extern "C" void
vb_cuda_sigmoid_gate_forward (VbCuda *cu, float *y, float *s, const float *a, const float *v,
                              int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  gate_forward_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, s, a, v, n);
  VB_CUDA_LAUNCHED (cu, "sigmoid gate forward");
}

extern "C" void
vb_cuda_sigmoid_gate_backward (VbCuda *cu, float *da, float *dv, const float *dy,
                               const float *s, const float *v, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  gate_backward_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (da, dv, dy, s,
                                                                                 v, n);
  VB_CUDA_LAUNCHED (cu, "sigmoid gate backward");
}

/* y[r, c] = bf16 (σ(a)·v), a = av[r, c], v = av[r, C + c]: the Gated projector's bf16
 * inference after its stacked product, as kernels/cpu/gating.c computes it; V values a
 * thread (8: 16-byte loads and stores, when C and the rows allow) */
static __device__ __forceinline__ float
gate (float a, float v)
{
  return 1.0f / (1.0f + expf (-a)) * v;
}

template <int V>
static __global__ void
gate_forward_bf16_kernel (__nv_bfloat16 *y, const __nv_bfloat16 *av, int64_t rows, int C)
{
  int CV = C / V;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < rows * CV;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      int cv;
      int64_t r = vb_div_index (i, CV, &cv);
      const __nv_bfloat16 *a = av + r * 2 * C + cv * V, *v = a + C;
      __nv_bfloat16 *o = y + r * C + cv * V;
      if constexpr (V == 8)
        {
          union { uint4 u; __nv_bfloat16 h[8]; } ua, uv, uo;
          ua.u = *reinterpret_cast<const uint4 *> (a);
          uv.u = *reinterpret_cast<const uint4 *> (v);
#pragma unroll
          for (int k = 0; k < 8; k++)
            uo.h[k] = __float2bfloat16_rn (gate (__bfloat162float (ua.h[k]),
                                                 __bfloat162float (uv.h[k])));
          *reinterpret_cast<uint4 *> (o) = uo.u;
        }
      else
        o[0] = __float2bfloat16_rn (gate (__bfloat162float (a[0]), __bfloat162float (v[0])));
    }
}

extern "C" void
vb_cuda_sigmoid_gate_forward_bf16 (VbCuda *cu, VbBf16 *y, const VbBf16 *av, int64_t rows, int C)
{
  VB_CUDA_GUARD (cu);
  if (rows <= 0 || C <= 0)
    return;
  __nv_bfloat16 *o = (__nv_bfloat16 *) y;
  const __nv_bfloat16 *x = (const __nv_bfloat16 *) av;
  if (C % 8 == 0 && (uintptr_t) y % 16 == 0 && (uintptr_t) av % 16 == 0)
    gate_forward_bf16_kernel<8><<<vb_cuda_blocks (rows * C / 8, THREADS), THREADS, 0,
                                  cu->stream>>> (o, x, rows, C);
  else
    gate_forward_bf16_kernel<1><<<vb_cuda_blocks (rows * C, THREADS), THREADS, 0,
                                  cu->stream>>> (o, x, rows, C);
  VB_CUDA_LAUNCHED (cu, "sigmoid gate forward (bf16)");
}
