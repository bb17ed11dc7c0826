/* gating.cu: the sigmoid gate of the Gated projector, y = σ(a) ⊙ v (vb-cuda-vit.h;
 * the CPU op is kernels/cpu/gating.c). */
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
