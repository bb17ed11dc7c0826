/* elementwise.cu: GELU (exact erf form), SiLU, the residual add and drop path, fp32;
 * GELU on bf16 storage and the fp32 → bf16 conversion (bf16 storage, vb-cpu-ops.h).
 * Memory-bound: when every pointer is 16-byte aligned each thread moves float4s (the
 * n % 4 tail goes to the first threads), on bf16 data 16 bytes = 8 values at a time (the
 * n % 8 tail likewise), else one value per thread. Grid-stride loops. bf16 inputs are
 * widened exactly, the fp32 formula applied, the result rounded to nearest-even once.
 * No __restrict__, since the forward ops may run in place (out == in, out == a or b) and
 * every thread reads its elements before writing them. */
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-fastmath.h"
#include "vb-cuda-lanes.h"
#include "vb-cuda-private.h"
#include "vb-cuda-silu.h"

#define THREADS 256

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

/* Φ(x), the normal distribution function (GELU(x) = x·Φ(x), exact GELU as
 * kernels/cpu/activations.c), through erfc (Numerical Recipes' erfcc: relative error below
 * 1.2e-7 everywhere, so Φ keeps its relative accuracy where it is tiny, x ≪ 0) on the
 * hardware reciprocal and exponential (vb-cuda-fastmath.h). PDF: also e2 = exp(−x²/2), for φ (one more
 * exponential; without it exp(−x²/2 + poly) is one). erff and expf made the bf16 GELU
 * kernels bound by their instructions (39 a value forward). */
template <bool PDF>
static __device__ __forceinline__ float
normal_cdf (float x, float &e2)
{
  float z = fabsf (x) * 0.70710678118654752f;
  float t = vb_rcp (1.0f + 0.5f * z);
  float p = fmaf (t, 0.17087277f, -0.82215223f);
  p = fmaf (t, p, 1.48851587f);
  p = fmaf (t, p, -1.13520398f);
  p = fmaf (t, p, 0.27886807f);
  p = fmaf (t, p, -0.18628806f);
  p = fmaf (t, p, 0.09678418f);
  p = fmaf (t, p, 0.37409196f);
  p = fmaf (t, p, 1.00002368f);
  p = fmaf (t, p, -1.26551223f);
  float half_erfc;   /* ½·erfc (|x|/√2) = Φ (−|x|) */
  if constexpr (PDF)
    {
      e2 = vb_exp (-z * z);
      half_erfc = 0.5f * t * e2 * vb_exp (p);
    }
  else
    half_erfc = 0.5f * t * vb_exp (p - z * z);
  return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

struct Gelu
{
  static __device__ __forceinline__ float f (float x)
  {
    float unused;
    return x * normal_cdf<false> (x, unused);
  }
  /* GELU'(x) = Φ(x) + x·φ(x) */
  static __device__ __forceinline__ float df (float g, float x)
  {
    float e2, cdf = normal_cdf<true> (x, e2);
    return g * (cdf + x * (0.3989422804014327f * e2));
  }
};

struct Silu
{
  static __device__ __forceinline__ float f (float x) { return vb_silu (x); }
  static __device__ __forceinline__ float df (float g, float x) { return vb_silu_grad (g, x); }
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

static __host__ __device__ bool
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

/* the column of element e of a row-major (·, c) tensor */
static __device__ __forceinline__ int
col_of (int64_t e, int c)
{
  int col;
  vb_div_index (e, c, &col);
  return col;
}

/* x + (t + bias)·s, as the CPU computes it: the product is not fused into the add */
static __device__ __forceinline__ float
residual (float x, float t, const float *bias, int col, const float *scale, float s)
{
  if (bias != NULL)
    t += bias[col];
  return x + (scale != NULL ? __fmul_rn (t, s) : t);
}

static __global__ void
residual_add_kernel (float *out, const float *x, const float *branch, const float *bias,
                     int c, const float *scale, int B, int64_t per_sample)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = scale != NULL ? scale[b] : 1.0f;
      int64_t base = (int64_t) b * per_sample;
      GRID_STRIDE (i, per_sample)
        out[base + i] = residual (x[base + i], branch[base + i], bias, col_of (i, c), scale, s);
    }
}

/* on float4s: per_sample and c multiples of 4, every pointer aligned */
static __global__ void
residual_add4_kernel (float *out, const float *x, const float *branch, const float *bias,
                      int c, const float *scale, int B, int64_t per4)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = scale != NULL ? scale[b] : 1.0f;
      int64_t base = (int64_t) b * per4;
      GRID_STRIDE (i, per4)
        {
          float4 v = reinterpret_cast<const float4 *> (x)[base + i];
          float4 t = reinterpret_cast<const float4 *> (branch)[base + i];
          int col = col_of (4 * i, c);
          v.x = residual (v.x, t.x, bias, col, scale, s);
          v.y = residual (v.y, t.y, bias, col + 1, scale, s);
          v.z = residual (v.z, t.z, bias, col + 2, scale, s);
          v.w = residual (v.w, t.w, bias, col + 3, scale, s);
          reinterpret_cast<float4 *> (out)[base + i] = v;
        }
    }
}

extern "C" void
vb_cuda_residual_add (VbCuda *cu, float *out, const float *x, const float *branch,
                      const float *bias, int c, const float *scale, int B, int64_t per_sample)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || per_sample <= 0)
    return;
  bool vec = per_sample % 4 == 0 && c % 4 == 0 && aligned16 (out) && aligned16 (x)
             && aligned16 (branch) && (bias == NULL || aligned16 (bias));
  int64_t per = vec ? per_sample / 4 : per_sample;
  /* as scale_rows: ~16 waves in all whatever B is */
  unsigned int by = (unsigned int) (B < 65535 ? B : 65535);
  unsigned int bx = vb_cuda_blocks (per, THREADS);
  unsigned int cap = (unsigned int) (16384 / by > 0 ? 16384 / by : 1);
  dim3 grid (bx < cap ? bx : cap, by);
  if (vec)
    residual_add4_kernel<<<grid, THREADS, 0, cu->stream>>> (out, x, branch, bias, c, scale, B,
                                                            per);
  else
    residual_add_kernel<<<grid, THREADS, 0, cu->stream>>> (out, x, branch, bias, c, scale, B,
                                                           per);
  VB_CUDA_LAUNCHED (cu, "residual add");
}

extern "C" void
vb_cuda_drop_path_backward (VbCuda *cu, float *din, const float *dout, const float *scale,
                            int B, int64_t per_sample)
{
  scale_rows (cu, din, dout, scale, B, per_sample, "drop path backward");
}

/* ---- bf16 storage ------------------------------------------------------------------- */

typedef __nv_bfloat16 bf16;

/* 8 bf16 at a 16-byte aligned p, widened */
static __device__ __forceinline__ void
load8 (float f[8], const bf16 *p)
{
  uint4 raw = *reinterpret_cast<const uint4 *> (p);
  const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *> (&raw);
#pragma unroll
  for (int k = 0; k < 4; k++)
    {
      float2 t = __bfloat1622float2 (h[k]);
      f[2 * k] = t.x;
      f[2 * k + 1] = t.y;
    }
}

/* 8 values rounded to bf16, stored at a 16-byte aligned p */
static __device__ __forceinline__ void
store8 (bf16 *p, const float f[8])
{
  __align__ (16) __nv_bfloat162 h[4];
#pragma unroll
  for (int k = 0; k < 4; k++)
    h[k] = __floats2bfloat162_rn (f[2 * k], f[2 * k + 1]);
  *reinterpret_cast<uint4 *> (p) = *reinterpret_cast<const uint4 *> (h);
}

/* x, widened, plus the bias of its column when there is one (the fused bias of a product
 * that wrote x without it) */
static __device__ __forceinline__ float
biased (const bf16 *x, int64_t i, const float *bias, int c)
{
  float v = __bfloat162float (x[i]);
  return bias != NULL ? v + bias[col_of (i, c)] : v;
}

/* 8 values at x + 8i, the bias of their columns added: c % 8 == 0, so all in one row */
static __device__ __forceinline__ void
load8_biased (float f[8], const bf16 *x, int64_t i, const float *bias, int c)
{
  load8 (f, x + 8 * i);
  if (bias != NULL)
    {
      const float *b = bias + col_of (8 * i, c);
      if (aligned16 (b))   /* two 16-byte loads where the parameter's offset allows */
        {
          float4 lo = __ldg (reinterpret_cast<const float4 *> (b));
          float4 hi = __ldg (reinterpret_cast<const float4 *> (b) + 1);
          f[0] += lo.x;
          f[1] += lo.y;
          f[2] += lo.z;
          f[3] += lo.w;
          f[4] += hi.x;
          f[5] += hi.y;
          f[6] += hi.z;
          f[7] += hi.w;
        }
      else
#pragma unroll
        for (int k = 0; k < 8; k++)
          f[k] += b[k];
    }
}

/* out = Op (in + bias) */
template <typename Op>
static __global__ void
unary_bf16_kernel (bf16 *out, const bf16 *in, const float *bias, int c, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = __float2bfloat16_rn (Op::f (biased (in, i, bias, c)));
}

template <typename Op>
static __global__ void
unary_bf16x8_kernel (bf16 *out, const bf16 *in, const float *bias, int c, int64_t n)
{
  int64_t n8 = n >> 3;
  GRID_STRIDE (i, n8)
    {
      float x[8];
      load8_biased (x, in, i, bias, c);
#pragma unroll
      for (int k = 0; k < 8; k++)
        x[k] = Op::f (x[k]);
      store8 (out + 8 * i, x);
    }
  int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
  if (t < (n & 7))
    out[8 * n8 + t] = __float2bfloat16_rn (Op::f (biased (in, 8 * n8 + t, bias, c)));
}

/* out = Op (a, b + bias) */
template <typename Op>
static __global__ void
binary_bf16_kernel (bf16 *out, const bf16 *a, const bf16 *b, const float *bias, int c,
                    int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = __float2bfloat16_rn (Op::f (__bfloat162float (a[i]), biased (b, i, bias, c)));
}

template <typename Op>
static __global__ void
binary_bf16x8_kernel (bf16 *out, const bf16 *a, const bf16 *b, const float *bias, int c,
                      int64_t n)
{
  int64_t n8 = n >> 3;
  GRID_STRIDE (i, n8)
    {
      float x[8], y[8];
      load8 (x, a + 8 * i);
      load8_biased (y, b, i, bias, c);
#pragma unroll
      for (int k = 0; k < 8; k++)
        x[k] = Op::f (x[k], y[k]);
      store8 (out + 8 * i, x);
    }
  int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
  if (t < (n & 7))
    {
      int64_t j = 8 * n8 + t;
      out[j] = __float2bfloat16_rn (Op::f (__bfloat162float (a[j]), biased (b, j, bias, c)));
    }
}

/* the 8-wide path: 16-byte aligned data, and rows of whole 8-value groups under a bias */
static bool
by_eight (const void *a, const void *b, const void *c, const float *bias, int cols)
{
  return aligned16 (a) && aligned16 (b) && (c == NULL || aligned16 (c))
         && (bias == NULL || cols % 8 == 0);
}

extern "C" void
vb_cuda_gelu_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, const float *b,
                           int64_t rows, int c)
{
  bf16 *o = reinterpret_cast<bf16 *> (out);
  const bf16 *x = reinterpret_cast<const bf16 *> (in);
  int64_t n = rows * c;

  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  if (by_eight (out, in, NULL, b, c))
    unary_bf16x8_kernel<Gelu><<<vb_cuda_blocks ((n + 7) / 8, THREADS), THREADS, 0,
                                cu->stream>>> (o, x, b, c, n);
  else
    unary_bf16_kernel<Gelu><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (o, x, b,
                                                                                      c, n);
  VB_CUDA_LAUNCHED (cu, "gelu forward (bf16)");
}

/* The bias + GELU backward that also sums the bias's gradient: din = bf16 (dout · GELU'
 * (in + b)) and, for each chunk of `rows` rows, the column sums of din as stored into
 * part[chunk, col] (the product's backward would read din again to sum them). Thread
 * (x, y) holds the 8 columns (blockIdx.x·GB_VECS + x)·8 (one 16-byte vector a row) and
 * rows y, y + GB_LANES, … of its chunk; the lanes' sums are added in lane order. 16
 * vectors a row of the block: VMamba-T's 384 … 3072 hidden columns fill every block (32
 * left a quarter of the threads idle at 384). c % 8 == 0. */
#define GB_VECS 16
#define GB_LANES 16
static __global__ void __launch_bounds__ (GB_VECS * GB_LANES)
gelu_backward_bias_kernel (bf16 *din, float *part, const bf16 *dout, const bf16 *in,
                           const float *bias, int64_t n_rows, int c, int rows)
{
  __shared__ float red[GB_LANES][GB_VECS * 8];
  int v = blockIdx.x * GB_VECS + threadIdx.x, lane = threadIdx.y;
  int64_t r0 = (int64_t) blockIdx.y * rows, r1 = min (n_rows, r0 + rows);
  bool live = v * 8 < c;
  float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f }, b[8];
#pragma unroll
  for (int k = 0; k < 8; k++)
    b[k] = live && bias != NULL ? bias[v * 8 + k] : 0.0f;
  if (live)
    {
#pragma unroll 4
      for (int64_t r = r0 + lane; r < r1; r += GB_LANES)
        {
          int64_t e = r * c + (int64_t) v * 8;
          float g[8], x[8];
          load8 (g, dout + e);
          load8 (x, in + e);
#pragma unroll
          for (int k = 0; k < 8; k++)
            {
              /* (x + b) as biased () adds it: no bias adds nothing */
              float d = Gelu::df (g[k], bias != NULL ? x[k] + b[k] : x[k]);
              g[k] = __bfloat162float (__float2bfloat16_rn (d));
              s[k] += g[k];
            }
          store8 (din + e, g);
        }
    }
  store_lane_sums8<GB_LANES, GB_VECS> (red, s, lane, live,
                                       part + blockIdx.y * (int64_t) c + v * 8);
}

extern "C" void
vb_cuda_gelu_backward_bf16 (VbCuda *cu, VbBf16 *din, float *db, const VbBf16 *dout,
                            const VbBf16 *in, const float *b, int64_t rows, int c)
{
  bf16 *d = reinterpret_cast<bf16 *> (din);
  const bf16 *g = reinterpret_cast<const bf16 *> (dout), *x = reinterpret_cast<const bf16 *> (in);
  int64_t n = rows * c;

  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  if (db != NULL && c % 8 == 0 && by_eight (din, dout, in, b, c))
    {
      int col_blocks = (c / 8 + GB_VECS - 1) / GB_VECS;
      /* chunks of 1024 rows, halved (to 64) until the launch has 1024 blocks, about a wave
       * of the H200's 132 SMs (with 256 blocks and 32 × 8 threads the pass took 0.779 ms
       * of a 128 px step, with these two changes 0.598) */
      int chunk = vb_cuda_chunk_rows (rows, col_blocks, 1024, 64, 1024);
      int chunks = (int) ((rows + chunk - 1) / chunk);
      float *part = vb_cuda_param_partials (cu, (size_t) chunks * c);
      if (part == NULL)
        return;
      gelu_backward_bias_kernel<<<dim3 (col_blocks, chunks), dim3 (GB_VECS, GB_LANES), 0,
                                  cu->stream>>> (d, part, g, x, b, rows, c, chunk);
      if (VB_CUDA_LAUNCHED (cu, "gelu backward + bias gradient (bf16)"))
        vb_cuda_param_sum (cu, db, part, c, c, chunks);
      return;
    }
  if (by_eight (din, dout, in, b, c))
    binary_bf16x8_kernel<Bwd<Gelu>><<<vb_cuda_blocks ((n + 7) / 8, THREADS), THREADS, 0,
                                      cu->stream>>> (d, g, x, b, c, n);
  else
    binary_bf16_kernel<Bwd<Gelu>><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
        d, g, x, b, c, n);
  if (VB_CUDA_LAUNCHED (cu, "gelu backward (bf16)") && db != NULL)
    vb_cuda_colsum_acc_bf16 (cu, db, din, c, rows, c);
}

/* dst[b·per + i] = bf16 (src[b·per + i] · scale[b]) (SCALE false: bf16 (src[...])), one grid
 * row (y) per sample. The 8-wide kernel needs 16-byte aligned row bases (both bases
 * aligned and per % 8 == 0, or a single row); the per % 8 tail goes to the first threads. */
template <bool SCALE>
static __global__ void
to_bf16x8_kernel (bf16 *dst, const float *src, const float *scale, int B, int64_t per)
{
  int64_t per8 = per >> 3;
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = SCALE ? scale[b] : 1.0f;
      const float *x = src + (int64_t) b * per;
      bf16 *o = dst + (int64_t) b * per;
      GRID_STRIDE (i, per8)
        {
          float4 u = reinterpret_cast<const float4 *> (x)[2 * i];
          float4 v = reinterpret_cast<const float4 *> (x)[2 * i + 1];
          float f[8] = { u.x, u.y, u.z, u.w, v.x, v.y, v.z, v.w };
          if (SCALE)
            {
#pragma unroll
              for (int k = 0; k < 8; k++)
                f[k] *= s;
            }
          store8 (o + 8 * i, f);
        }
      int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
      if (t < (per & 7))
        o[8 * per8 + t] = __float2bfloat16_rn (SCALE ? x[8 * per8 + t] * s : x[8 * per8 + t]);
    }
}

template <bool SCALE>
static __global__ void
to_bf16_kernel (bf16 *dst, const float *src, const float *scale, int B, int64_t per)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = SCALE ? scale[b] : 1.0f;
      const float *x = src + (int64_t) b * per;
      bf16 *o = dst + (int64_t) b * per;
      GRID_STRIDE (i, per)
        o[i] = __float2bfloat16_rn (SCALE ? x[i] * s : x[i]);
    }
}

extern "C" void
vb_cuda_to_bf16 (VbCuda *cu, VbBf16 *dst, const float *src, const float *scale, int B,
                 int64_t per_sample)
{
  bf16 *d = reinterpret_cast<bf16 *> (dst);

  VB_CUDA_GUARD (cu);
  if (B <= 0 || per_sample <= 0)
    return;
  /* without factors the samples are one row */
  int rows = scale != NULL ? B : 1;
  int64_t per = scale != NULL ? per_sample : (int64_t) B * per_sample;
  bool vec = aligned16 (dst) && aligned16 (src) && (rows == 1 || per % 8 == 0);
  /* ~16 waves of 256-thread blocks in total whatever B is (as scale_rows) */
  unsigned int by = (unsigned int) (rows < 65535 ? rows : 65535);
  unsigned int bx = vb_cuda_blocks (vec ? (per + 7) / 8 : per, THREADS);
  unsigned int cap = (unsigned int) (16384 / by > 0 ? 16384 / by : 1);
  dim3 grid (bx < cap ? bx : cap, by);
  if (vec && scale != NULL)
    to_bf16x8_kernel<true><<<grid, THREADS, 0, cu->stream>>> (d, src, scale, rows, per);
  else if (vec)
    to_bf16x8_kernel<false><<<grid, THREADS, 0, cu->stream>>> (d, src, scale, rows, per);
  else if (scale != NULL)
    to_bf16_kernel<true><<<grid, THREADS, 0, cu->stream>>> (d, src, scale, rows, per);
  else
    to_bf16_kernel<false><<<grid, THREADS, 0, cu->stream>>> (d, src, scale, rows, per);
  VB_CUDA_LAUNCHED (cu, "to bf16");
}
