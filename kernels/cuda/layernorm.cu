/* layernorm.cu: LayerNorm over the last dimension, fp32, the arithmetic of
 * kernels/cpu/layernorm.c.
 *
 * Fast path (c % 4 == 0, c ≤ 1024, 16-byte aligned rows): a group of G = 8, 16 or 32
 * lanes per row, each lane holding NV float4s of the row in registers, so a row is read
 * once; statistics are reduced by xor shuffles inside the group (every lane ends with the
 * same bits). The backward computes din and the dγ/dβ partials in the same pass: block
 * ch owns a fixed row chunk (boundaries depend on n only), its groups' sums are added in
 * group order through shared memory, and a final kernel adds the chunks in a fixed
 * order: no atomics, bit-identical runs. Other shapes take a warp per row with the
 * lanes striding the channels, and the partials in a second pass.
 *
 * The forward kernels are templated on the output: fp32, or bf16 (the bf16-storage
 * forward: the same arithmetic, each output rounded once to nearest-even, four of them
 * stored as one 8-byte word on the fast path), and on MERGE: the row loaded as the sum of
 * K group rows of ys (n, K, c), added in k order as the group sum adds them (scan.cu), and
 * written to y on the way (SS2D's cross-merge fused into its out_norm); and on the
 * input: fp32, or bf16 rows widened (the CLIP tower's bf16 path). */
#include <stdint.h>

#include <type_traits>

#include <cuda_bf16.h>

#include "vb-cuda-private.h"
#include "vb-cuda-vit.h"

#define THREADS 256
#define WARPS (THREADS / 32)
/* row chunks for the parameter-gradient partials: depend on n only (determinism);
 * ROWS_PER_CHUNK, halved down to MIN_ROWS_PER_CHUNK while there would be fewer than
 * MIN_CHUNKS blocks (at 64 px VMamba-T's deep stages ran 64 blocks: 16 µs a backward) */
#define ROWS_PER_CHUNK 32
#define MIN_ROWS_PER_CHUNK 8
#define MIN_CHUNKS 256
#define MAX_CHUNKS 1024
/* partial blocks of the generic path: 32 channels (one warp, coalesced) × LANES rows */
#define LANES 8
/* fast path: at most 8 float4s per lane, 32 lanes */
#define MAX_NV 8

static __device__ __forceinline__ float
warp_sum (float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

/* sum over an aligned group of G lanes; all 32 lanes of the warp take part */
template <int G>
static __device__ __forceinline__ float
group_sum (float v)
{
#pragma unroll
  for (int o = G / 2; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

static __device__ __forceinline__ float
sum4 (float4 v)
{
  return ((v.x + v.y) + v.z) + v.w;
}

/* one output, and four consecutive ones (16-byte aligned fp32, 8-byte aligned bf16) */
static __device__ __forceinline__ void store1 (float *p, float v) { *p = v; }
static __device__ __forceinline__ void
store1 (__nv_bfloat16 *p, float v)
{
  *p = __float2bfloat16_rn (v);
}

static __device__ __forceinline__ void
store4 (float *p, float4 v)
{
  *reinterpret_cast<float4 *> (p) = v;
}

static __device__ __forceinline__ void
store4 (__nv_bfloat16 *p, float4 v)
{
  __align__ (8) __nv_bfloat162 h[2] = { __floats2bfloat162_rn (v.x, v.y),
                                        __floats2bfloat162_rn (v.z, v.w) };
  *reinterpret_cast<uint2 *> (p) = *reinterpret_cast<const uint2 *> (h);
}

/* ---- fast path: G lanes per row, NV float4s per lane ------------------------------ */

/* a lane's NV float4s of row r (zeros past the row, or for r ≥ n: ok false) as the sum
 * of the K group rows of ys (n, K, c), in k order: the group sum's additions (scan.cu
 * group_sum_kernel: x[0], then + x[k]), so y has its bits; written to y. Groups outer,
 * so a group's NV loads are in flight together. */
/* four values of the group rows as one load: a float4 of fp32 ys, or 8 bytes of bf16
 * (bf16 storage), widened */
template <typename TI>
using Vec4 = typename std::conditional<std::is_same<TI, float>::value, float4, uint2>::type;

static __device__ __forceinline__ float4 widen4 (float4 v) { return v; }

static __device__ __forceinline__ float4
widen4 (uint2 raw)
{
  float2 a = __bfloat1622float2 (*reinterpret_cast<const __nv_bfloat162 *> (&raw.x));
  float2 b = __bfloat1622float2 (*reinterpret_cast<const __nv_bfloat162 *> (&raw.y));
  return make_float4 (a.x, a.y, b.x, b.y);
}

static __device__ __forceinline__ float widen (float x) { return x; }
static __device__ __forceinline__ float widen (__nv_bfloat16 x) { return __bfloat162float (x); }

/* row r of y (c floats) ← the lane's float4s of v */
template <int G, int NV>
static __device__ __forceinline__ void
store_row_vec (float *y, const float4 (&v)[NV], int64_t r, int lane, int c)
{
  float4 *y4 = reinterpret_cast<float4 *> (y + r * c);
#pragma unroll
  for (int k = 0; k < NV; k++)
    if (lane + k * G < c >> 2)
      y4[lane + k * G] = v[k];
}

template <int G, int NV, typename TI>
static __device__ __forceinline__ void
merge_row_vec (float4 (&v)[NV], float *y, const TI *ys, int K, int64_t r, bool ok, int lane,
               int c)
{
  const int c4 = c >> 2;
  const Vec4<TI> *z4 = reinterpret_cast<const Vec4<TI> *> (ys + r * K * c);

#pragma unroll
  for (int k = 0; k < NV; k++)
    {
      int j = lane + k * G;
      v[k] = ok && j < c4 ? widen4 (z4[j]) : make_float4 (0.0f, 0.0f, 0.0f, 0.0f);
    }
  for (int g = 1; g < K; g++)
    {
      const Vec4<TI> *zg = z4 + (int64_t) g * c4;
#pragma unroll
      for (int k = 0; k < NV; k++)
        {
          int j = lane + k * G;
          if (ok && j < c4)
            {
              float4 b = widen4 (zg[j]);
              v[k] = make_float4 (v[k].x + b.x, v[k].y + b.y, v[k].z + b.z, v[k].w + b.w);
            }
        }
    }
  if (ok)
    store_row_vec<G, NV> (y, v, r, lane, c);
}

/* the residual step before a LayerNorm: y = x + (branch + bias)·scale[row / sample_rows],
 * as residual_add computes it (bias, scale NULL: none) */
struct Resid
{
  const float *branch, *bias, *scale;
  int sample_rows;
};

template <int G, int NV>
static __device__ __forceinline__ void
resid_row_vec (float4 (&v)[NV], float *y, const float *x, const Resid &rd, int64_t r, bool ok,
               int lane, int c)
{
  const int c4 = c >> 2;
  const float4 *x4 = reinterpret_cast<const float4 *> (x + r * c);
  const float4 *t4 = reinterpret_cast<const float4 *> (rd.branch + r * c);
  const float4 *b4 = reinterpret_cast<const float4 *> (rd.bias);
  float s = 1.0f;
  if (ok && rd.scale != NULL)
    {
      int unused;
      s = rd.scale[vb_div_index (r, rd.sample_rows, &unused)];
    }
#pragma unroll
  for (int k = 0; k < NV; k++)
    {
      int j = lane + k * G;
      v[k] = make_float4 (0.0f, 0.0f, 0.0f, 0.0f);
      if (!ok || j >= c4)
        continue;
      float4 a = x4[j], t = t4[j];
      if (b4 != NULL)
        {
          float4 b = b4[j];
          t = make_float4 (t.x + b.x, t.y + b.y, t.z + b.z, t.w + b.w);
        }
      if (rd.scale != NULL)   /* the product not fused into the add, as the CPU's */
        t = make_float4 (__fmul_rn (t.x, s), __fmul_rn (t.y, s), __fmul_rn (t.z, s),
                         __fmul_rn (t.w, s));
      v[k] = make_float4 (a.x + t.x, a.y + t.y, a.z + t.z, a.w + t.w);
    }
  if (ok)
    store_row_vec<G, NV> (y, v, r, lane, c);
}

/* the row a LayerNorm forward normalises: `in` itself (fp32, or bf16 widened); MERGE: the
 * sum of `in` = ys (n, K, c) of TI over the groups; RESID: the residual step on `in` = x
 * (fp32). MERGE and RESID write the row to y. */
enum { LN_ROWS, LN_MERGE, LN_RESID };

template <int G, int NV, typename T, int MODE, typename TI>
static __global__ void __launch_bounds__ (THREADS)
ln_fwd_vec_kernel (T *out, float *y, float *mean, float *rstd, const TI *in, int K,
                   const float *gamma, const float *beta, int64_t n, int c, float eps,
                   Resid rd)
{
  const int c4 = c >> 2;
  const int lane = threadIdx.x % G;
  const int per_warp = 32 / G;
  const int64_t warp = ((int64_t) blockIdx.x * THREADS + threadIdx.x) / 32;
  const int64_t stride = (int64_t) gridDim.x * THREADS / G;
  const float4 *g4 = reinterpret_cast<const float4 *> (gamma);
  const float4 *b4 = reinterpret_cast<const float4 *> (beta);

  /* the loop bound is uniform across the warp, so the shuffles see all 32 lanes */
  for (int64_t base = warp * per_warp; base < n; base += stride)
    {
      int64_t r = base + (threadIdx.x % 32) / G;
      bool ok = r < n;
      const Vec4<TI> *x4 = reinterpret_cast<const Vec4<TI> *> (in + r * c);
      float4 v[NV];
      float s = 0.0f, q = 0.0f, mu, rs;

      if constexpr (MODE == LN_MERGE)
        merge_row_vec<G, NV, TI> (v, y, in, K, r, ok, lane, c);
      else if constexpr (MODE == LN_RESID)
        resid_row_vec<G, NV> (v, y, reinterpret_cast<const float *> (in), rd, r, ok, lane, c);
#pragma unroll
      for (int k = 0; k < NV; k++)
        {
          int j = lane + k * G;
          if constexpr (MODE == LN_ROWS)
            v[k] = ok && j < c4 ? widen4 (x4[j]) : make_float4 (0.0f, 0.0f, 0.0f, 0.0f);
          s += sum4 (v[k]);
        }
      mu = group_sum<G> (s) / c;
      /* two passes over the registers: the centred sum of squares does not cancel */
#pragma unroll
      for (int k = 0; k < NV; k++)
        if (lane + k * G < c4)
          {
            float dx = v[k].x - mu, dy = v[k].y - mu, dz = v[k].z - mu, dw = v[k].w - mu;
            q += ((dx * dx + dy * dy) + dz * dz) + dw * dw;
          }
      rs = 1.0f / sqrtf (group_sum<G> (q) / c + eps);
      if (!ok)
        continue;
      T *orow = out + r * c;
#pragma unroll
      for (int k = 0; k < NV; k++)
        {
          int j = lane + k * G;
          if (j < c4)
            {
              float4 gm = g4[j], bt = b4[j], o;
              o.x = (v[k].x - mu) * rs * gm.x + bt.x;
              o.y = (v[k].y - mu) * rs * gm.y + bt.y;
              o.z = (v[k].z - mu) * rs * gm.z + bt.z;
              o.w = (v[k].w - mu) * rs * gm.w + bt.w;
              store4 (orow + 4 * j, o);
            }
        }
      if (lane == 0)
        {
          mean[r] = mu;
          rstd[r] = rs;
        }
    }
}

/* Block ch handles rows [n·ch/n_chunks, n·(ch + 1)/n_chunks), group k of the block rows
 * r0 + k, r0 + k + groups, ...; din (when DIN) and, when PARAM, part_g[ch, j] =
 * Σ dout[r, j]·x̂[r, j], part_b[ch, j] = Σ dout[r, j] over the chunk. Dynamic shared
 * memory: (THREADS / G)·c floats. din16 (not NULL, DIN): also din · scale[r / sample_rows]
 * (scale NULL: 1) rounded to bf16, as to_bf16 would from din; din NULL: din16 alone. */
template <int G, int NV, bool DIN, bool PARAM>
static __global__ void __launch_bounds__ (THREADS)
ln_bwd_vec_kernel (float *din, float *part_g, float *part_b, const float *dout, const float *in,
                   const float *mean, const float *rstd, const float *gamma, int64_t n, int c,
                   int64_t n_chunks, bool acc, __nv_bfloat16 *din16, const float *scale,
                   int sample_rows)
{
  extern __shared__ float red[];
  const int groups = THREADS / G;
  const int c4 = c >> 2;
  const int lane = threadIdx.x % G;
  const int group = threadIdx.x / G;
  const int64_t ch = blockIdx.x;
  const int64_t r0 = n * ch / n_chunks, r1 = n * (ch + 1) / n_chunks;
  const float4 *gm4 = reinterpret_cast<const float4 *> (gamma);
  float4 ag[NV], ab[NV];

#pragma unroll
  for (int k = 0; k < NV; k++)
    {
      ag[k] = make_float4 (0.0f, 0.0f, 0.0f, 0.0f);
      ab[k] = ag[k];
    }

  /* warp-uniform trip count: groups of one warp are consecutive */
  for (int64_t base = r0 + (group / (32 / G)) * (32 / G); base < r1; base += groups)
    {
      int64_t r = base + group % (32 / G);
      bool ok = r < r1;
      const float4 *x4 = reinterpret_cast<const float4 *> (in + r * c);
      const float4 *d4 = reinterpret_cast<const float4 *> (dout + r * c);
      float mu = ok ? mean[r] : 0.0f, rs = ok ? rstd[r] : 0.0f;
      float4 xm[NV], g[NV];
      float sq = 0.0f, sqx = 0.0f;

#pragma unroll
      for (int k = 0; k < NV; k++)
        {
          int j = lane + k * G;
          float4 x = make_float4 (0.0f, 0.0f, 0.0f, 0.0f);
          g[k] = x;
          if (ok && j < c4)
            {
              x = x4[j];
              g[k] = d4[j];
            }
          xm[k] = make_float4 (x.x - mu, x.y - mu, x.z - mu, x.w - mu);
          /* the CPU's expressions: g·((x − μ)·rstd), q·(x − μ)·rstd */
          if (PARAM)
            {
              ag[k].x += g[k].x * (xm[k].x * rs);
              ag[k].y += g[k].y * (xm[k].y * rs);
              ag[k].z += g[k].z * (xm[k].z * rs);
              ag[k].w += g[k].w * (xm[k].w * rs);
              ab[k].x += g[k].x;
              ab[k].y += g[k].y;
              ab[k].z += g[k].z;
              ab[k].w += g[k].w;
            }
          if (DIN && j < c4)
            {
              float4 gm = gm4[j];
              float q;
              q = g[k].x * gm.x;
              sq += q;
              sqx += q * xm[k].x * rs;
              q = g[k].y * gm.y;
              sq += q;
              sqx += q * xm[k].y * rs;
              q = g[k].z * gm.z;
              sq += q;
              sqx += q * xm[k].z * rs;
              q = g[k].w * gm.w;
              sq += q;
              sqx += q * xm[k].w * rs;
            }
        }
      if (DIN)
        {
          float mq = group_sum<G> (sq) / c, mqx = group_sum<G> (sqx) / c;
          if (ok)
            {
              float4 *o4 = din != NULL ? reinterpret_cast<float4 *> (din + r * c) : NULL;
              uint2 *o16 = din16 != NULL ? reinterpret_cast<uint2 *> (din16 + r * c) : NULL;
              float s16 = 1.0f;
              if (scale != NULL)
                {
                  int unused;
                  s16 = scale[vb_div_index (r, sample_rows, &unused)];
                }
#pragma unroll
              for (int k = 0; k < NV; k++)
                {
                  int j = lane + k * G;
                  if (j < c4)
                    {
                      float4 gm = gm4[j], o;
                      o.x = rs * (g[k].x * gm.x - mq - (xm[k].x * rs) * mqx);
                      o.y = rs * (g[k].y * gm.y - mq - (xm[k].y * rs) * mqx);
                      o.z = rs * (g[k].z * gm.z - mq - (xm[k].z * rs) * mqx);
                      o.w = rs * (g[k].w * gm.w - mq - (xm[k].w * rs) * mqx);
                      if (o4 != NULL && acc)   /* the residual stream's gradient, added */
                        {
                          float4 p = o4[j];
                          o = make_float4 (p.x + o.x, p.y + o.y, p.z + o.z, p.w + o.w);
                        }
                      if (o4 != NULL)
                        o4[j] = o;
                      if (o16 != NULL)
                        {
                          __nv_bfloat162 lo = __floats2bfloat162_rn (o.x * s16, o.y * s16);
                          __nv_bfloat162 hi = __floats2bfloat162_rn (o.z * s16, o.w * s16);
                          o16[j] = make_uint2 (*reinterpret_cast<unsigned int *> (&lo),
                                               *reinterpret_cast<unsigned int *> (&hi));
                        }
                    }
                }
            }
        }
    }

  if (PARAM)
    /* the groups' sums, added in group order; dγ, then dβ */
    for (int pass = 0; pass < 2; pass++)
      {
        float4 *mine = reinterpret_cast<float4 *> (red + group * c);
#pragma unroll
        for (int k = 0; k < NV; k++)
          if (lane + k * G < c4)
            mine[lane + k * G] = pass == 0 ? ag[k] : ab[k];
        __syncthreads ();
        float *dst = (pass == 0 ? part_g : part_b) + ch * c;
        for (int j = threadIdx.x; j < c; j += THREADS)
          {
            float s = 0.0f;
            for (int k = 0; k < groups; k++)
              s += red[k * c + j];
            dst[j] = s;
          }
        __syncthreads ();
      }
}

/* ---- generic path: a warp per row --------------------------------------------------- */

/* MERGE as ln_fwd_vec_kernel: each lane sums its channels' K group values in k order,
 * writes them to y and reads them back from there (its own writes) for the later passes */
template <typename T, bool MERGE, typename TI>
static __global__ void
ln_fwd_kernel (T *out, float *y, float *mean, float *rstd, const TI *in, int K,
               const float *gamma, const float *beta, int64_t n, int c, float eps)
{
  int lane = threadIdx.x & 31;
  int64_t stride = (int64_t) gridDim.x * WARPS;

  /* r is uniform across the warp, so the shuffles see all 32 lanes */
  for (int64_t r = (int64_t) blockIdx.x * WARPS + threadIdx.x / 32; r < n; r += stride)
    {
      /* MERGE reads its sums back from y; else the row of `in`, widened */
      const float *x = MERGE ? y + r * c : NULL;
      const TI *xi = in + r * c;
      T *o = out + r * c;
#define X(j) (MERGE ? x[j] : widen (xi[j]))
      float s = 0.0f, v = 0.0f, mu, rs;

      if (MERGE)
        {
          const TI *z = in + r * K * c;
          float *yr = y + r * c;
          for (int j = lane; j < c; j += 32)
            {
              float a = widen (z[j]);
              for (int g = 1; g < K; g++)
                a += widen (z[(int64_t) g * c + j]);
              yr[j] = a;
              s += a;
            }
        }
      else
        for (int j = lane; j < c; j += 32)
          s += X (j);
      mu = warp_sum (s) / c;
      /* two passes: the centred sum of squares does not cancel catastrophically */
      for (int j = lane; j < c; j += 32)
        {
          float d = X (j) - mu;
          v += d * d;
        }
      rs = 1.0f / sqrtf (warp_sum (v) / c + eps);
      for (int j = lane; j < c; j += 32)
        store1 (&o[j], (X (j) - mu) * rs * gamma[j] + beta[j]);
#undef X
      if (lane == 0)
        {
          mean[r] = mu;
          rstd[r] = rs;
        }
    }
}

static __global__ void
ln_bwd_din_kernel (float *din, const float *dout, const float *in, const float *mean,
                   const float *rstd, const float *gamma, int64_t n, int c, bool acc)
{
  int lane = threadIdx.x & 31;
  int64_t stride = (int64_t) gridDim.x * WARPS;

  for (int64_t r = (int64_t) blockIdx.x * WARPS + threadIdx.x / 32; r < n; r += stride)
    {
      const float *x = in + r * c, *g = dout + r * c;
      float *d = din + r * c;
      float mu = mean[r], rs = rstd[r];
      float sq = 0.0f, sqx = 0.0f, mq, mqx;

      for (int j = lane; j < c; j += 32)
        {
          float q = g[j] * gamma[j];
          sq += q;
          sqx += q * (x[j] - mu) * rs;
        }
      mq = warp_sum (sq) / c;
      mqx = warp_sum (sqx) / c;
      for (int j = lane; j < c; j += 32)
        {
          float xh = (x[j] - mu) * rs, v = rs * (g[j] * gamma[j] - mq - xh * mqx);
          d[j] = acc ? d[j] + v : v;
        }
    }
}

/* part_g[ch, j] = Σ_{r in chunk ch} dout[r, j]·x̂[r, j], part_b[ch, j] = Σ dout[r, j];
 * grid (⌈c/32⌉, n_chunks), block (32, LANES) */
static __global__ void
ln_bwd_partials_kernel (float *part_g, float *part_b, const float *dout, const float *in,
                        const float *mean, const float *rstd, int64_t n, int c,
                        int64_t n_chunks)
{
  __shared__ float sg[LANES][32], sb[LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int j = blockIdx.x * 32 + tx;
  int64_t ch = blockIdx.y;
  int64_t r0 = n * ch / n_chunks, r1 = n * (ch + 1) / n_chunks;
  float dg = 0.0f, db = 0.0f;

  if (j < c)
    for (int64_t r = r0 + ty; r < r1; r += LANES)
      {
        float g = dout[r * c + j];
        dg += g * ((in[r * c + j] - mean[r]) * rstd[r]);
        db += g;
      }
  sg[ty][tx] = dg;
  sb[ty][tx] = db;
  __syncthreads ();
  if (ty == 0 && j < c)
    {
      float a = 0.0f, b = 0.0f;
      for (int k = 0; k < LANES; k++)
        {
          a += sg[k][tx];
          b += sb[k][tx];
        }
      part_g[ch * c + j] = a;
      part_b[ch * c + j] = b;
    }
}

static unsigned int
row_blocks (int64_t n)
{
  int64_t b = (n + WARPS - 1) / WARPS;
  return (unsigned int) (b > 65536 ? 65536 : b);
}

/* whether c and the pointers suit the fast path; its lanes per row G, float4s per lane NV */
static bool
vec_shape (int c, const void *p0, const void *p1, const void *p2, const void *p3, int *G,
           int *NV)
{
  if (c % 4 != 0 || c > 4 * 32 * MAX_NV)
    return false;
  if ((((uintptr_t) p0 | (uintptr_t) p1 | (uintptr_t) p2 | (uintptr_t) p3) & 15u) != 0)
    return false;
  int c4 = c / 4, best = -1;
  /* least idle lane slots; on a tie the wider group (fewer registers per lane) */
  for (int g = 32; g >= 8; g /= 2)
    {
      int nv = (c4 + g - 1) / g;
      if (nv > MAX_NV)
        continue;
      int waste = nv * g - c4;
      if (best < 0 || waste < best)
        {
          best = waste;
          *G = g;
          *NV = nv;
        }
    }
  return best >= 0;
}

#define NV_CASES(F, G)                                                                   \
  case 1: F (G, 1); break;                                                               \
  case 2: F (G, 2); break;                                                               \
  case 3: F (G, 3); break;                                                               \
  case 4: F (G, 4); break;                                                               \
  case 5: F (G, 5); break;                                                               \
  case 6: F (G, 6); break;                                                               \
  case 7: F (G, 7); break;                                                               \
  case 8: F (G, 8); break

#define DISPATCH(F, G_, NV_)                                                             \
  do {                                                                                   \
    if ((G_) == 8)                                                                       \
      switch (NV_) { NV_CASES (F, 8); default: break; }                                  \
    else if ((G_) == 16)                                                                 \
      switch (NV_) { NV_CASES (F, 16); default: break; }                                 \
    else                                                                                 \
      switch (NV_) { NV_CASES (F, 32); default: break; }                                 \
  } while (0)

static bool
out_aligned (const float *p)
{
  return ((uintptr_t) p & 15u) == 0;
}

static bool
out_aligned (const __nv_bfloat16 *p)
{
  return ((uintptr_t) p & 7u) == 0;
}

/* y NULL: LayerNorm (in); else the merge: `in` is ys (n, K, c), y = Σ_k ys written and
 * normalised. The kernel is chosen as the plain forward on y would choose it (the fast
 * path where c suits it and y, out are aligned), ys having to be 16-byte aligned too:
 * with ys aligned as y (device allocations are) every output has the unfused ops' bits. */
template <typename T, typename TI>
static void
layernorm_forward (VbCuda *cu, T *out, float *y, float *mean, float *rstd, const TI *in,
                   int K, const float *gamma, const float *beta, int64_t n, int c, float eps,
                   const char *what)
{
  int G = 0, NV = 0;
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0 || K <= 0)
    return;
  if (vec_shape (c, in, y != NULL ? (const void *) y : (const void *) in, gamma, beta, &G, &NV)
      && out_aligned (out))
    {
      int64_t b = (n + THREADS / G - 1) / (THREADS / G);
      unsigned int blocks = (unsigned int) (b > 65536 ? 65536 : b);
#define FWD(G, NV)                                                                       \
  do {                                                                                   \
    if (y != NULL)                                                                       \
      ln_fwd_vec_kernel<G, NV, T, LN_MERGE, TI><<<blocks, THREADS, 0, cu->stream>>> (      \
          out, y, mean, rstd, in, K, gamma, beta, n, c, eps, Resid ());                  \
    else                                                                                 \
      ln_fwd_vec_kernel<G, NV, T, LN_ROWS, TI><<<blocks, THREADS, 0, cu->stream>>> (       \
          out, y, mean, rstd, in, K, gamma, beta, n, c, eps, Resid ());                  \
  } while (0)
      DISPATCH (FWD, G, NV);
#undef FWD
    }
  else if (y != NULL)
    ln_fwd_kernel<T, true, TI><<<row_blocks (n), THREADS, 0, cu->stream>>> (
        out, y, mean, rstd, in, K, gamma, beta, n, c, eps);
  else
    ln_fwd_kernel<T, false, TI><<<row_blocks (n), THREADS, 0, cu->stream>>> (
        out, y, mean, rstd, in, K, gamma, beta, n, c, eps);
  VB_CUDA_LAUNCHED (cu, what);
}

extern "C" void
vb_cuda_layernorm_forward (VbCuda *cu, float *out, float *mean, float *rstd,
                           const float *in, const float *gamma, const float *beta,
                           int64_t n, int c, float eps)
{
  layernorm_forward (cu, out, NULL, mean, rstd, in, 1, gamma, beta, n, c, eps,
                     "layernorm forward");
}

extern "C" void
vb_cuda_layernorm_forward_bf16 (VbCuda *cu, VbBf16 *out, float *mean, float *rstd,
                                const float *in, const float *gamma, const float *beta,
                                int64_t n, int c, float eps)
{
  layernorm_forward (cu, reinterpret_cast<__nv_bfloat16 *> (out), NULL, mean, rstd, in, 1,
                     gamma, beta, n, c, eps, "layernorm forward (bf16)");
}

/* residual_add then the bf16 LayerNorm of its output, in one pass where the float4 kernels
 * of both would run (c % 4 == 0, every row operand 16-byte aligned): the same expressions,
 * so the same bits; else the two ops */
extern "C" void
vb_cuda_residual_layernorm_forward_bf16 (VbCuda *cu, float *y, VbBf16 *out16, float *mean,
                                         float *rstd, const float *x, const float *branch,
                                         const float *bias, const float *scale, int B,
                                         const float *gamma, const float *beta, int64_t n,
                                         int c, float eps)
{
  int G = 0, NV = 0;
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0 || B <= 0)
    return;
  __nv_bfloat16 *out = reinterpret_cast<__nv_bfloat16 *> (out16);
  if (vec_shape (c, x, y, gamma, beta, &G, &NV) && out_aligned (out)
      && ((uintptr_t) branch & 15u) == 0 && ((uintptr_t) bias & 15u) == 0)
    {
      Resid rd = { branch, bias, scale, (int) (n / B) };
      int64_t b = (n + THREADS / G - 1) / (THREADS / G);
      unsigned int blocks = (unsigned int) (b > 65536 ? 65536 : b);
#define RES(G, NV)                                                                       \
  ln_fwd_vec_kernel<G, NV, __nv_bfloat16, LN_RESID, float><<<blocks, THREADS, 0,          \
                                                            cu->stream>>> (              \
      out, y, mean, rstd, x, 1, gamma, beta, n, c, eps, rd)
      DISPATCH (RES, G, NV);
#undef RES
      VB_CUDA_LAUNCHED (cu, "residual add + layernorm forward (bf16)");
      return;
    }
  vb_cuda_residual_add (cu, y, x, branch, bias, c, scale, B, n / B * c);
  vb_cuda_layernorm_forward_bf16 (cu, out16, mean, rstd, y, gamma, beta, n, c, eps);
}

extern "C" int
vb_cuda_layernorm_forward_b16 (VbCuda *cu, VbBf16 *out, float *mean, float *rstd,
                               const VbBf16 *in, const float *gamma, const float *beta,
                               int64_t n, int c, float eps)
{
  layernorm_forward (cu, reinterpret_cast<__nv_bfloat16 *> (out), NULL, mean, rstd,
                     reinterpret_cast<const __nv_bfloat16 *> (in), 1, gamma, beta, n, c, eps,
                     "layernorm forward (bf16 in and out)");
  return cu->error[0] == '\0' ? 0 : -1;
}

extern "C" void
vb_cuda_merge_layernorm_forward (VbCuda *cu, float *y, float *out, VbBf16 *out16, float *mean,
                                 float *rstd, const float *ys, int K, const float *gamma,
                                 const float *beta, int64_t n, int c, float eps)
{
  if (out != NULL)
    layernorm_forward (cu, out, y, mean, rstd, ys, K, gamma, beta, n, c, eps,
                       "merge + layernorm forward");
  else
    layernorm_forward (cu, reinterpret_cast<__nv_bfloat16 *> (out16), y, mean, rstd, ys, K,
                       gamma, beta, n, c, eps, "merge + layernorm forward (bf16)");
}

extern "C" void
vb_cuda_merge_bf16_layernorm_forward (VbCuda *cu, float *y, VbBf16 *out16, float *mean,
                                      float *rstd, const VbBf16 *ys16, int K,
                                      const float *gamma, const float *beta, int64_t n, int c,
                                      float eps)
{
  layernorm_forward (cu, reinterpret_cast<__nv_bfloat16 *> (out16), y, mean, rstd,
                     reinterpret_cast<const __nv_bfloat16 *> (ys16), K, gamma, beta, n, c, eps,
                     "merge (bf16) + layernorm forward (bf16)");
}

/* din16: also din · scale[row / sample_rows] in bf16 where the vector kernel runs, or
 * din16 alone (din NULL: the caller has checked the vector kernel runs); false when it did
 * not (din16 left to the caller) */
static bool
layernorm_backward (VbCuda *cu, float *din, bool acc, __nv_bfloat16 *din16, const float *scale,
                    int sample_rows, float *dgamma, float *dbeta, const float *dout,
                    const float *in, const float *mean, const float *rstd, const float *gamma,
                    int64_t n, int c)
{
  int G = 0, NV = 0;
  bool param = dgamma != NULL || dbeta != NULL;
  if (n <= 0 || c <= 0)
    return true;
  if (din == NULL && din16 == NULL && !param)
    return true;

  int rows = vb_cuda_chunk_rows (n, 1, ROWS_PER_CHUNK, MIN_ROWS_PER_CHUNK, MIN_CHUNKS);
  int64_t n_chunks = (n + rows - 1) / rows;
  if (n_chunks > MAX_CHUNKS)
    n_chunks = MAX_CHUNKS;
  float *part = NULL;
  if (param)
    {
      part = vb_cuda_param_partials (cu, (size_t) (2 * n_chunks * c));
      if (part == NULL)
        return true;
    }

  bool fused16 = din16 != NULL && ((uintptr_t) din16 & 7u) == 0;
  bool want_din = din != NULL || fused16;
  if (vec_shape (c, din != NULL ? din : dout, dout, in, gamma, &G, &NV))
    {
      size_t shm = (size_t) (THREADS / G) * c * sizeof (float);
      float *pg = part, *pb = param ? part + n_chunks * c : NULL;
      unsigned int blocks = (unsigned int) n_chunks;
#define BWD(G, NV)                                                                       \
  do {                                                                                   \
    if (want_din && param)                                                               \
      ln_bwd_vec_kernel<G, NV, true, true><<<blocks, THREADS, shm, cu->stream>>> (          \
          din, pg, pb, dout, in, mean, rstd, gamma, n, c, n_chunks, acc,                 \
          fused16 ? din16 : NULL, scale, sample_rows);                                   \
    else if (want_din)                                                                   \
      ln_bwd_vec_kernel<G, NV, true, false><<<blocks, THREADS, 0, cu->stream>>> (           \
          din, pg, pb, dout, in, mean, rstd, gamma, n, c, n_chunks, acc,                 \
          fused16 ? din16 : NULL, scale, sample_rows);                                   \
    else                                                                                 \
      ln_bwd_vec_kernel<G, NV, false, true><<<blocks, THREADS, shm, cu->stream>>> (         \
          din, pg, pb, dout, in, mean, rstd, gamma, n, c, n_chunks, acc,                 \
          fused16 ? din16 : NULL, scale, sample_rows);                                   \
  } while (0)
      DISPATCH (BWD, G, NV);
#undef BWD
      if (!VB_CUDA_LAUNCHED (cu, "layernorm backward"))
        return true;
    }
  else
    {
      fused16 = false;
      if (din != NULL)
        {
          ln_bwd_din_kernel<<<row_blocks (n), THREADS, 0, cu->stream>>> (din, dout, in, mean,
                                                                         rstd, gamma, n, c,
                                                                         acc);
          if (!VB_CUDA_LAUNCHED (cu, "layernorm backward (din)"))
            return true;
        }
      if (param)
        {
          ln_bwd_partials_kernel<<<dim3 ((unsigned int) ((c + 31) / 32),
                                         (unsigned int) n_chunks),
                                   dim3 (32, LANES), 0, cu->stream>>> (
              part, part + n_chunks * c, dout, in, mean, rstd, n, c, n_chunks);
          if (!VB_CUDA_LAUNCHED (cu, "layernorm backward (partials)"))
            return true;
        }
    }

  /* dγ, dβ += the chunks' sums (queued while the context defers them) */
  if (dgamma != NULL)
    vb_cuda_param_sum (cu, dgamma, part, c, c, (int) n_chunks);
  if (dbeta != NULL)
    vb_cuda_param_sum (cu, dbeta, part + n_chunks * c, c, c, (int) n_chunks);
  return fused16 || din16 == NULL;
}

extern "C" void
vb_cuda_layernorm_backward (VbCuda *cu, float *din, int accumulate, float *dgamma, float *dbeta,
                            const float *dout, const float *in,
                            const float *mean, const float *rstd, const float *gamma,
                            int64_t n, int c)
{
  VB_CUDA_GUARD (cu);
  layernorm_backward (cu, din, accumulate != 0, NULL, NULL, 1, dgamma, dbeta, dout, in, mean,
                      rstd, gamma, n, c);
}

/* din16 alone where the vector kernel runs (16-byte rows, 8-byte aligned din16), else
 * through din_work and a conversion */
extern "C" void
vb_cuda_layernorm_backward_bf16 (VbCuda *cu, VbBf16 *din16, float *din_work, float *dgamma,
                                 float *dbeta, const float *dout, const float *in,
                                 const float *mean, const float *rstd, const float *gamma,
                                 int64_t n, int c)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0)
    return;
  int G, NV;
  __nv_bfloat16 *d16 = reinterpret_cast<__nv_bfloat16 *> (din16);
  if (((uintptr_t) din16 & 7u) == 0 && vec_shape (c, dout, dout, in, gamma, &G, &NV))
    layernorm_backward (cu, NULL, false, d16, NULL, 1, dgamma, dbeta, dout, in, mean, rstd,
                        gamma, n, c);
  else
    {
      layernorm_backward (cu, din_work, false, NULL, NULL, 1, dgamma, dbeta, dout, in, mean,
                          rstd, gamma, n, c);
      vb_cuda_to_bf16 (cu, din16, din_work, NULL, 1, n * c);
    }
}

extern "C" void
vb_cuda_layernorm_backward_acc_bf16 (VbCuda *cu, float *din, VbBf16 *din16, const float *scale,
                                     int B, float *dgamma, float *dbeta, const float *dout,
                                     const float *in, const float *mean, const float *rstd,
                                     const float *gamma, int64_t n, int c)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0 || B <= 0)
    return;
  /* no din, no copy of it: the plain backward */
  __nv_bfloat16 *d16 = din != NULL ? reinterpret_cast<__nv_bfloat16 *> (din16) : NULL;
  if (!layernorm_backward (cu, din, true, d16, scale, (int) (n / B), dgamma, dbeta, dout, in,
                           mean, rstd, gamma, n, c))
    vb_cuda_to_bf16 (cu, din16, din, scale, B, n / B * c);
}
