/* vb-cuda-fastmath.h: the special functions as single MUFU instructions. Without .ftz,
 * ex2.approx, rcp.approx and div.approx are each wrapped in a denormal test and two
 * scalings (four instructions for one). What flushing changes: a result below 2^−126 becomes 0 (e^x for x < −87.3: every use
 * here adds it to 1 or scales something by it), and so does a denormal argument (2^x of
 * one is 1 either way; 1/x of one is not taken: the arguments are ≥ 1). */
#pragma once

/* 2^x (max relative error 2^−22.5); 2^−∞ = 0 */
static __device__ __forceinline__ float
vb_ex2 (float x)
{
  float y;
  asm ("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

/* e^x as 2^(x·log2 e), __expf's own two instructions */
static __device__ __forceinline__ float
vb_exp (float x)
{
  return vb_ex2 (x * 1.4426950408889634f);
}

/* 1/x (max relative error 2^−23) */
static __device__ __forceinline__ float
vb_rcp (float x)
{
  float y;
  asm ("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
