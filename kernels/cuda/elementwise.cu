/* elementwise.cu: GELU (exact erf form), SiLU, the residual add and drop path, fp32.
 * Memory-bound: when every pointer is 16-byte aligned each thread moves float4s (the
 * n % 4 tail goes to the first threads), else one float per thread. Grid-stride loops.
 * No __restrict__, since the forward ops may run in place (out == in, out == a or b) and
 * every thread reads its elements before writing them. */
#include <stdint.h>

#include "vb-cuda-private.h"

#define THREADS 256

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

/* the formulas of kernels/cpu/activations.c, in the same order */
struct Gelu
{
  static __device__ __forceinline__ float f (float x)
  {
    return 0.5f * x * (1.0f + erff (x * 0.70710678118654752f));
  }
  /* GELU'(x) = Φ(x) + x·φ(x) */
  static __device__ __forceinline__ float df (float g, float x)
  {
    float cdf = 0.5f * (1.0f + erff (x * 0.70710678118654752f));
    float pdf = 0.3989422804014327f * expf (-0.5f * x * x);
    return g * (cdf + x * pdf);
  }
};

struct Silu
{
  static __device__ __forceinline__ float f (float x) { return x / (1.0f + expf (-x)); }
  /* SiLU'(x) = s·(1 + x·(1 − s)), s = σ(x) */
  static __device__ __forceinline__ float df (float g, float x)
  {
    float s = 1.0f / (1.0f + expf (-x));
    return g * s * (1.0f + x * (1.0f - s));
  }
};

/* binary ops on (a, b): the backward passes (dout, in), the add (a, b) */
template <typename Op> struct Bwd
{
  static __device__ __forceinline__ float f (float a, float b) { return Op::df (a, b); }
};

struct Add
{
  static __device__ __forceinline__ float f (float a, float b) { return a + b; }
};

template <typename Op>
static __global__ void
unary_kernel (float *out, const float *in, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = Op::f (in[i]);
}

template <typename Op>
static __global__ void
unary4_kernel (float *out, const float *in, int64_t n)
{
  int64_t n4 = n >> 2;
  GRID_STRIDE (i, n4)
    {
      float4 x = reinterpret_cast<const float4 *> (in)[i];
      x.x = Op::f (x.x);
      x.y = Op::f (x.y);
      x.z = Op::f (x.z);
      x.w = Op::f (x.w);
      reinterpret_cast<float4 *> (out)[i] = x;
    }
  int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
  if (t < (n & 3))
    out[4 * n4 + t] = Op::f (in[4 * n4 + t]);
}

template <typename Op>
static __global__ void
binary_kernel (float *out, const float *a, const float *b, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = Op::f (a[i], b[i]);
}

template <typename Op>
static __global__ void
binary4_kernel (float *out, const float *a, const float *b, int64_t n)
{
  int64_t n4 = n >> 2;
  GRID_STRIDE (i, n4)
    {
      float4 x = reinterpret_cast<const float4 *> (a)[i];
      float4 y = reinterpret_cast<const float4 *> (b)[i];
      x.x = Op::f (x.x, y.x);
      x.y = Op::f (x.y, y.y);
      x.z = Op::f (x.z, y.z);
      x.w = Op::f (x.w, y.w);
      reinterpret_cast<float4 *> (out)[i] = x;
    }
  int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
  if (t < (n & 3))
    out[4 * n4 + t] = Op::f (a[4 * n4 + t], b[4 * n4 + t]);
}

static bool
aligned16 (const void *p)
{
  return ((uintptr_t) p & 15u) == 0;
}

template <typename Op>
static void
launch_unary (VbCuda *cu, float *out, const float *in, int64_t n, const char *what)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  if (aligned16 (out) && aligned16 (in))
    unary4_kernel<Op><<<vb_cuda_blocks ((n + 3) / 4, THREADS), THREADS, 0, cu->stream>>> (
        out, in, n);
  else
    unary_kernel<Op><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, n);
  VB_CUDA_LAUNCHED (cu, what);
}

template <typename Op>
static void
launch_binary (VbCuda *cu, float *out, const float *a, const float *b, int64_t n,
               const char *what)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  if (aligned16 (out) && aligned16 (a) && aligned16 (b))
    binary4_kernel<Op><<<vb_cuda_blocks ((n + 3) / 4, THREADS), THREADS, 0, cu->stream>>> (
        out, a, b, n);
  else
    binary_kernel<Op><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, a, b, n);
  VB_CUDA_LAUNCHED (cu, what);
}

/* one grid row (y) per sample, so the sample's factor needs no division per element */
static __global__ void
scale_rows_kernel (float *out, const float *in, const float *scale, int B, int64_t per_sample)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = scale[b];
      float *o = out + (int64_t) b * per_sample;
      const float *x = in + (int64_t) b * per_sample;
      GRID_STRIDE (i, per_sample)
        o[i] = x[i] * s;
    }
}

/* the same on float4s: per_sample % 4 == 0 and both bases aligned */
static __global__ void
scale_rows4_kernel (float *out, const float *in, const float *scale, int B, int64_t per4)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = scale[b];
      float4 *o = reinterpret_cast<float4 *> (out) + (int64_t) b * per4;
      const float4 *x = reinterpret_cast<const float4 *> (in) + (int64_t) b * per4;
      GRID_STRIDE (i, per4)
        {
          float4 v = x[i];
          v.x *= s;
          v.y *= s;
          v.z *= s;
          v.w *= s;
          o[i] = v;
        }
    }
}

extern "C" void
vb_cuda_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n)
{
  launch_unary<Gelu> (cu, out, in, n, "gelu forward");
}

extern "C" void
vb_cuda_gelu_backward (VbCuda *cu, float *din, const float *dout, const float *in, int64_t n)
{
  launch_binary<Bwd<Gelu>> (cu, din, dout, in, n, "gelu backward");
}

extern "C" void
vb_cuda_silu_forward (VbCuda *cu, float *out, const float *in, int64_t n)
{
  launch_unary<Silu> (cu, out, in, n, "silu forward");
}

extern "C" void
vb_cuda_silu_backward (VbCuda *cu, float *din, const float *dout, const float *in, int64_t n)
{
  launch_binary<Bwd<Silu>> (cu, din, dout, in, n, "silu backward");
}

extern "C" void
vb_cuda_add (VbCuda *cu, float *out, const float *a, const float *b, int64_t n)
{
  launch_binary<Add> (cu, out, a, b, n, "add");
}

static void
scale_rows (VbCuda *cu, float *out, const float *in, const float *scale, int B,
            int64_t per_sample, const char *what)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || per_sample <= 0)
    return;
  bool vec = per_sample % 4 == 0 && aligned16 (out) && aligned16 (in);
  int64_t per = vec ? per_sample / 4 : per_sample;
  /* ~16 waves of 256-thread blocks in total whatever B is; gridDim.y is capped at 65535 */
  unsigned int by = (unsigned int) (B < 65535 ? B : 65535);
  unsigned int bx = vb_cuda_blocks (per, THREADS);
  unsigned int cap = (unsigned int) (16384 / by > 0 ? 16384 / by : 1);
  dim3 grid (bx < cap ? bx : cap, by);
  if (vec)
    scale_rows4_kernel<<<grid, THREADS, 0, cu->stream>>> (out, in, scale, B, per);
  else
    scale_rows_kernel<<<grid, THREADS, 0, cu->stream>>> (out, in, scale, B, per);
  VB_CUDA_LAUNCHED (cu, what);
}

extern "C" void
vb_cuda_drop_path_forward (VbCuda *cu, float *out, const float *in, const float *scale,
                           int B, int64_t per_sample)
{
  scale_rows (cu, out, in, scale, B, per_sample, "drop path forward");
}

extern "C" void
vb_cuda_drop_path_backward (VbCuda *cu, float *din, const float *dout, const float *scale,
                            int B, int64_t per_sample)
{
  scale_rows (cu, din, dout, scale, B, per_sample, "drop path backward");
}
