/* vb-cuda-silu.h: SiLU and the gradient through it, one definition for the elementwise
 * op (elementwise.cu) and the depthwise convolution's fused forms (dwconv.cu), so that
 * fused and unfused repeat each other bit for bit. The hardware exponential and
 * reciprocal (vb-cuda-fastmath.h; relative error of SiLU about 1e-6 on [−10, 10]): expf
 * and an IEEE division were half the fused depthwise kernels' instructions. For x < −87
 * the exponential overflows and SiLU is 0·x (s = 0), as before. */
#pragma once

#include "vb-cuda-fastmath.h"

static __device__ __forceinline__ float
vb_silu (float x)
{
  return x * vb_rcp (1.0f + vb_exp (-x));
}

/* g·SiLU'(x) = g·s·(1 + x·(1 − s)), s = σ(x) (s → 0 where the exponential overflows) */
static __device__ __forceinline__ float
vb_silu_grad (float g, float x)
{
  float s = vb_rcp (1.0f + vb_exp (-x));
  return g * s * (1.0f + x * (1.0f - s));
}
