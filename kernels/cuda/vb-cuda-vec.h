/* vb-cuda-vec.h: VW consecutive channels as one value (Vec<VW>) and their loads and
 * stores: float4 / float2 accesses for VW = 4 / 2 (the pointer aligned to match), bf16
 * rounded to nearest-even as vb_bf16_from_float and widened exactly. For the .cu files
 * of the channel-last kernels (conv.cu, dwconv.cu). */
#pragma once

#include <cuda_bf16.h>

#include "vb-cuda.h"

/* VW consecutive channels */
template <int VW> struct Vec
{
  float v[VW];
};

template <int VW>
static __device__ __forceinline__ Vec<VW>
vzero ()
{
  Vec<VW> r;
#pragma unroll
  for (int e = 0; e < VW; e++)
    r.v[e] = 0.0f;
  return r;
}

template <int VW>
static __device__ __forceinline__ Vec<VW>
vload (const float *p)
{
  Vec<VW> r;
  if constexpr (VW == 2)
    {
      float2 t = *reinterpret_cast<const float2 *> (p);
      r.v[0] = t.x;
      r.v[1] = t.y;
    }
  else if constexpr (VW % 4 == 0)
    {
#pragma unroll
      for (int e = 0; e < VW; e += 4)
        {
          float4 t = *reinterpret_cast<const float4 *> (p + e);
          r.v[e] = t.x;
          r.v[e + 1] = t.y;
          r.v[e + 2] = t.z;
          r.v[e + 3] = t.w;
        }
    }
  else
    {
#pragma unroll
      for (int e = 0; e < VW; e++)
        r.v[e] = p[e];
    }
  return r;
}

template <int VW>
static __device__ __forceinline__ void
vstore (float *p, const Vec<VW> &x)
{
  if constexpr (VW == 2)
    *reinterpret_cast<float2 *> (p) = make_float2 (x.v[0], x.v[1]);
  else if constexpr (VW % 4 == 0)
    {
#pragma unroll
      for (int e = 0; e < VW; e += 4)
        *reinterpret_cast<float4 *> (p + e) = make_float4 (x.v[e], x.v[e + 1], x.v[e + 2],
                                                           x.v[e + 3]);
    }
  else
    {
#pragma unroll
      for (int e = 0; e < VW; e++)
        p[e] = x.v[e];
    }
}

/* bf16 as its bits (VbBf16): rounded to nearest-even as vb_bf16_from_float, widened
 * exactly; element 0 of a pair in the low half of a 32-bit word */
static __device__ __forceinline__ unsigned int
bf16_bits (float x)
{
  return __bfloat16_as_ushort (__float2bfloat16_rn (x));
}

static __device__ __forceinline__ unsigned int
bf16_pair (float lo, float hi)
{
  return bf16_bits (lo) | bf16_bits (hi) << 16;
}

/* VW bf16 rounded from x: one 16-byte store for VW = 8, one 8-byte store for VW = 4, one
 * 4-byte store for VW = 2 */
template <int VW>
static __device__ __forceinline__ void
vstore (VbBf16 *p, const Vec<VW> &x)
{
  if constexpr (VW == 8)
    *reinterpret_cast<uint4 *> (p) = make_uint4 (bf16_pair (x.v[0], x.v[1]),
                                                 bf16_pair (x.v[2], x.v[3]),
                                                 bf16_pair (x.v[4], x.v[5]),
                                                 bf16_pair (x.v[6], x.v[7]));
  else if constexpr (VW == 4)
    *reinterpret_cast<uint2 *> (p) = make_uint2 (bf16_pair (x.v[0], x.v[1]),
                                                 bf16_pair (x.v[2], x.v[3]));
  else if constexpr (VW == 2)
    *reinterpret_cast<unsigned int *> (p) = bf16_pair (x.v[0], x.v[1]);
  else
    {
#pragma unroll
      for (int e = 0; e < VW; e++)
        p[e] = (VbBf16) bf16_bits (x.v[e]);
    }
}

/* VW bf16 widened to fp32 (exact) */
template <int VW>
static __device__ __forceinline__ Vec<VW>
vload (const VbBf16 *p)
{
  Vec<VW> r;
  if constexpr (VW % 4 == 0)
    {
      unsigned int u[VW / 2];
      if constexpr (VW == 8)
        {
          uint4 t = *reinterpret_cast<const uint4 *> (p);
          u[0] = t.x;
          u[1] = t.y;
          u[2] = t.z;
          u[3] = t.w;
        }
      else
        {
          uint2 t = *reinterpret_cast<const uint2 *> (p);
          u[0] = t.x;
          u[1] = t.y;
        }
#pragma unroll
      for (int e = 0; e < VW / 2; e++)
        {
          r.v[2 * e] = __uint_as_float (u[e] << 16);
          r.v[2 * e + 1] = __uint_as_float (u[e] & 0xFFFF0000u);
        }
    }
  else
    {
#pragma unroll
      for (int e = 0; e < VW; e++)
        r.v[e] = __uint_as_float ((unsigned int) p[e] << 16);
    }
  return r;
}
