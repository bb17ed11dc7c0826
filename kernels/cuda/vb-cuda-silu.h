/* vb-cuda-silu.h: SiLU and the gradient through it, one definition for the elementwise
 * op (elementwise.cu) and the depthwise convolution's fused forms (dwconv.cu), so that
 * fused and unfused repeat each other bit for bit. The hardware exponential and an
 * approximate division (2 ulp each, relative error of SiLU about 1e-6 on [−10, 10]):
 * expf and an IEEE division were half the fused depthwise kernels' instructions. */
#pragma once

static __device__ __forceinline__ float
vb_silu (float x)
{
  return __fdividef (x, 1.0f + __expf (-x));
}

/* g·SiLU'(x) = g·s·(1 + x·(1 − s)), s = σ(x) (s → 0 where the exponential overflows) */
static __device__ __forceinline__ float
vb_silu_grad (float g, float x)
{
  float s = __fdividef (1.0f, 1.0f + __expf (-x));
  return g * s * (1.0f + x * (1.0f - s));
}
