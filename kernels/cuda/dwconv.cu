/* dwconv.cu: the depthwise 3×3 convolution (stride 1, padding 1, no bias), NHWC, fp32,
 * with the arithmetic of kernels/cpu/dwconv3x3.c, and its SiLU fusion (VMamba's SS2D):
 * the forward can also write SiLU (pre) and its bf16 rounding, and the backward reads the
 * gradient through the SiLU, dsilu·SiLU'(pre), where it loads it, so that is never stored.
 *
 * Tiles through shared memory: a block takes TYR × TXC output pixels of one image and CTV
 * channel vectors (VW channels each), loads its input tile with the one-pixel halo once
 * (every thread a few independent loads, all in flight together), then each thread works
 * down one column of the tile from shared memory. The strip kernels this replaces slid a
 * 3×3 window along a row in registers: 106 registers, 18 % occupancy, each column's loads
 * waited for in turn, about a quarter of the memory rate. Taps are added in the CPU's
 * order; out-of-image taps, which the CPU skips, read the tile's zero halo and add +0.
 *
 * The weight gradient sums each block's pixels into a partial per (tile, tap, channel),
 * in a fixed order, and a second kernel adds the partials in a fixed order: no atomics,
 * runs repeat bit for bit. */
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-private.h"
#include "vb-cuda-silu.h"
#include "vb-cuda-vec.h"

/* at most this many threads a block: CTV channel vectors × TXC columns */
#define DW_THREADS 256
/* output rows a block (fewer when the image has fewer) */
#define DW_ROWS 8

template <int VW>
static __device__ __forceinline__ Vec<VW>
vsilu (const Vec<VW> &x)
{
  Vec<VW> r;
#pragma unroll
  for (int e = 0; e < VW; e++)
    r.v[e] = vb_silu (x.v[e]);
  return r;
}

template <int VW>
static __device__ __forceinline__ Vec<VW>
vsilu_grad (const Vec<VW> &g, const Vec<VW> &x)
{
  Vec<VW> r;
#pragma unroll
  for (int e = 0; e < VW; e++)
    r.v[e] = vb_silu_grad (g.v[e], x.v[e]);
  return r;
}

/* A launch's tiling. Columns: the width split evenly into ⌈W/32⌉ tiles; channel vectors:
 * the largest power of two that fits beside them (so 96, 192, 384 and 768 channels split
 * evenly at VW = 4). grid (tiles_x · tiles_y, n_ct, B), block (CTV, TXC). */
typedef struct
{
  int CV, CTV, n_ct, TXC, tiles_x, TYR, tiles_y;
} DwTile;

static DwTile
dw_tile (int H, int W, int C, int vw)
{
  DwTile t;
  t.CV = C / vw;
  t.tiles_x = (W + 31) / 32;
  t.TXC = (W + t.tiles_x - 1) / t.tiles_x;
  t.CTV = 1;
  while (t.CTV * 2 * t.TXC <= DW_THREADS && t.CTV * 2 <= t.CV)
    t.CTV *= 2;
  t.TYR = H < DW_ROWS ? H : DW_ROWS;
  /* the tile within the 48 KiB of shared memory a block gets without asking */
  while (t.CTV > 1
         && (size_t) (t.TYR + 2) * (t.TXC + 2) * t.CTV * vw * sizeof (float) > 48 * 1024)
    t.CTV /= 2;
  t.n_ct = (t.CV + t.CTV - 1) / t.CTV;
  t.tiles_y = (H + t.TYR - 1) / t.TYR;
  return t;
}

/* the tile's input, halo included, in floats: [(TYR + 2)·(TXC + 2)][CTV][VW] */
static size_t
dw_tile_floats (const DwTile &t, int vw)
{
  return (size_t) (t.TYR + 2) * (t.TXC + 2) * t.CTV * vw;
}

/* where a block's tile starts */
struct TileAt
{
  int b, y0, x0, cv0;
};

static __device__ __forceinline__ TileAt
tile_at (const DwTile &t)
{
  TileAt a;
  a.b = blockIdx.z;
  a.y0 = (blockIdx.x / t.tiles_x) * t.TYR;
  a.x0 = (blockIdx.x % t.tiles_x) * t.TXC;
  a.cv0 = blockIdx.y * t.CTV;
  return a;
}

/* s ← the tile of src with its halo (zeros outside the image and past the channels); with
 * DSILU src·SiLU'(pre). Thread (cv, tx) loads its channel vector at tile columns tx and,
 * for the two halo columns past TXC, tx + TXC, down all rows: no index divisions (the
 * flat index's three runtime divisions were a sixth of the forward's instructions). Rows
 * go BATCH at a time, every load of a batch issued before its stores: a loop of
 * load-then-store would wait for every load in turn. */
#define LOAD_BATCH 5

template <int VW, bool DSILU, int BATCH = LOAD_BATCH>
static __device__ __forceinline__ void
load_tile (Vec<VW> *s, const float *__restrict__ src, const float *__restrict__ pre,
           const DwTile &t, const TileAt &a, int H, int W, int C)
{
  int cv = threadIdx.x, tx = threadIdx.y, cols = t.TXC + 2, rows = t.TYR + 2;
  int c = (a.cv0 + cv) * VW;
  for (int cx = tx; cx < cols; cx += t.TXC)
    {
      int x = a.x0 + cx - 1;
      bool col_in = c < C && x >= 0 && x < W;
      int64_t at0 = ((int64_t) a.b * H * W + x) * C + c;   /* (y = 0, x, c) */
      for (int r0 = 0; r0 < rows; r0 += BATCH)
        {
          Vec<VW> v[BATCH], q[BATCH];
          bool in[BATCH];
#pragma unroll
          for (int j = 0; j < BATCH; j++)
            {
              int y = a.y0 + r0 + j - 1;
              in[j] = col_in && r0 + j < rows && y >= 0 && y < H;
              v[j] = q[j] = vzero<VW> ();
              if (in[j])
                {
                  int64_t at = at0 + (int64_t) y * W * C;
                  v[j] = vload<VW> (src + at);
                  if constexpr (DSILU)
                    q[j] = vload<VW> (pre + at);
                }
            }
#pragma unroll
          for (int j = 0; j < BATCH; j++)
            if (r0 + j < rows)
              s[((r0 + j) * cols + cx) * t.CTV + cv]
                = DSILU && in[j] ? vsilu_grad<VW> (v[j], q[j]) : v[j];
        }
    }
}

/* dst[b, y, x, c] = Σ_taps w[c, tap]·src[b, y + s·(ky − 1), x + s·(kx − 1), c]: SIGN = +1
 * is the forward, −1 the input gradient (the rotated kernel). With SILU the forward also
 * writes act = SiLU (dst) and, when act16 is not NULL, bf16 (act); with DSILU the input
 * gradient reads src·SiLU'(pre) in place of src; with SIGN < 0 act16, when not NULL,
 * receives dst rounded to bf16 (the next product's operand). dst may be NULL. */
template <int VW, int SIGN, bool SILU>
static __global__ void __launch_bounds__ (DW_THREADS)
dw_tile_kernel (float *__restrict__ dst, float *__restrict__ act, VbBf16 *__restrict__ act16,
                const float *__restrict__ src, const float *__restrict__ pre,
                const float *__restrict__ w, int H, int W, int C, DwTile t)
{
  constexpr bool EPILOGUE = SILU && SIGN > 0, DSILU = SILU && SIGN < 0;
  extern __shared__ float4 dw_shared[];
  Vec<VW> *s = reinterpret_cast<Vec<VW> *> (dw_shared);
  TileAt a = tile_at (t);
  load_tile<VW, DSILU> (s, src, pre, t, a, H, W, C);
  __syncthreads ();

  int cv = threadIdx.x, tx = threadIdx.y;
  int x = a.x0 + tx, c0 = (a.cv0 + cv) * VW;
  if (x >= W || c0 >= C)
    return;
  float wk[9][VW];
#pragma unroll
  for (int e = 0; e < VW; e++)
#pragma unroll
    for (int k = 0; k < 9; k++)
      wk[k][e] = w[(int64_t) (c0 + e) * 9 + k];
  /* Taps outside the image read the tile's zeros: the CPU skips them, and adding w·0 = +0
   * changes no sum (finite weights; a −0 sum may come out +0) */
  int row_step = (t.TXC + 2) * t.CTV;
  const Vec<VW> *col = s + tx * t.CTV + cv;   /* tile row 0, column tx */
  for (int r = 0; r < t.TYR; r++)
    {
      int y = a.y0 + r;
      if (y >= H)
        break;
      Vec<VW> acc = vzero<VW> ();
      const Vec<VW> *p = col + r * row_step;
#pragma unroll
      for (int ky = 0; ky < 3; ky++)
#pragma unroll
        for (int kx = 0; kx < 3; kx++)
          {
            /* the tap's input sits at tile row r + ri, column tx + ci */
            int ri = SIGN > 0 ? ky : 2 - ky, ci = SIGN > 0 ? kx : 2 - kx;
            Vec<VW> v = p[ri * row_step + ci * t.CTV];
#pragma unroll
            for (int e = 0; e < VW; e++)
              acc.v[e] += wk[ky * 3 + kx][e] * v.v[e];
          }
      int64_t at = (((int64_t) a.b * H + y) * W + x) * C + c0;
      if (dst != nullptr)
        vstore<VW> (dst + at, acc);
      if constexpr (EPILOGUE)
        {
          Vec<VW> sv = vsilu<VW> (acc);
          if (act != nullptr)
            vstore<VW> (act + at, sv);
          if (act16 != nullptr)
            vstore<VW> (act16 + at, sv);
        }
      else if (act16 != nullptr)
        vstore<VW> (act16 + at, acc);
    }
}

/* part[tile, tap, c] = Σ over the tile's pixels of dout[pixel, c]·in[pixel + tap offset, c]
 * (dout·SiLU'(pre) with DSILU), tile = (b · tiles_y + tile row) · tiles_x + tile column:
 * each thread sums its column's rows in order, then the columns are added in order */
template <int VW, bool DSILU>
static __global__ void __launch_bounds__ (DW_THREADS)
dw_wgrad_tile_kernel (float *__restrict__ part, const float *__restrict__ dout,
                      const float *__restrict__ pre, const float *__restrict__ in, int H,
                      int W, int C, DwTile t)
{
  extern __shared__ float4 dw_shared[];
  Vec<VW> *s = reinterpret_cast<Vec<VW> *> (dw_shared);
  TileAt a = tile_at (t);
  load_tile<VW, false> (s, in, nullptr, t, a, H, W, C);
  __syncthreads ();

  int cv = threadIdx.x, tx = threadIdx.y, cols = t.TXC + 2;
  int x = a.x0 + tx, c0 = (a.cv0 + cv) * VW;
  Vec<VW> acc[9];
#pragma unroll
  for (int k = 0; k < 9; k++)
    acc[k] = vzero<VW> ();
  if (x < W && c0 < C)
    for (int r = 0; r < t.TYR; r++)
      {
        int y = a.y0 + r;
        if (y >= H)
          break;
        int64_t at = (((int64_t) a.b * H + y) * W + x) * C + c0;
        Vec<VW> g = vload<VW> (dout + at);
        if constexpr (DSILU)
          g = vsilu_grad<VW> (g, vload<VW> (pre + at));
        /* out-of-image taps read the tile's zeros and add +0 (as in the forward) */
        const Vec<VW> *p = s + (r * cols + tx) * t.CTV + cv;
#pragma unroll
        for (int ky = 0; ky < 3; ky++)
#pragma unroll
          for (int kx = 0; kx < 3; kx++)
            {
              Vec<VW> v = p[(ky * cols + kx) * t.CTV];
#pragma unroll
              for (int e = 0; e < VW; e++)
                acc[ky * 3 + kx].v[e] += g.v[e] * v.v[e];
            }
      }
  /* the columns' sums added in column order, through shared memory (the tile is no
   * longer read): red[tx][tap][cv] */
  __syncthreads ();
#pragma unroll
  for (int k = 0; k < 9; k++)
    s[(tx * 9 + k) * t.CTV + cv] = acc[k];
  __syncthreads ();
  int64_t tile = ((int64_t) a.b * t.tiles_y + a.y0 / t.TYR) * t.tiles_x + a.x0 / t.TXC;
  int tid = threadIdx.y * blockDim.x + threadIdx.x;
  for (int i = tid; i < 9 * t.CTV; i += blockDim.x * blockDim.y)
    {
      int k = i / t.CTV, v = i % t.CTV, c = (a.cv0 + v) * VW;
      if (c >= C)
        continue;
      Vec<VW> sum = vzero<VW> ();
      for (int l = 0; l < t.TXC; l++)
        {
          Vec<VW> p = s[(l * 9 + k) * t.CTV + v];
#pragma unroll
          for (int e = 0; e < VW; e++)
            sum.v[e] += p.v[e];
        }
      vstore<VW> (part + (tile * 9 + k) * C + c, sum);
    }
}

/* The widest of 4, 2, 1 channels a thread that divides C and that every buffer's
 * alignment allows (NULL ones aside; bf16 ones hold half the bytes) */
static int
dw_width (int C, const void *a, const void *b, const void *c, const void *d, const void *h)
{
  const void *f32[] = { a, b, c, d };
  for (int w = 4; w > 1; w /= 2)
    {
      bool ok = C % w == 0 && (uintptr_t) h % (2u * w) == 0;
      for (int i = 0; i < 4; i++)
        ok = ok && (uintptr_t) f32[i] % (4u * w) == 0;
      if (ok)
        return w;
    }
  return 1;
}

static dim3
dw_grid (const DwTile &t, int B)
{
  return dim3 ((unsigned int) (t.tiles_x * t.tiles_y), (unsigned int) t.n_ct, (unsigned int) B);
}

template <int VW, int SIGN, bool SILU>
static void
dw_tile_launch (VbCuda *cu, float *dst, float *act, VbBf16 *act16, const float *src,
                const float *pre, const float *w, int B, int H, int W, int C)
{
  DwTile t = dw_tile (H, W, C, VW);
  size_t shm = dw_tile_floats (t, VW) * sizeof (float);
  dw_tile_kernel<VW, SIGN, SILU><<<dw_grid (t, B), dim3 (t.CTV, t.TXC), shm, cu->stream>>> (
      dst, act, act16, src, pre, w, H, W, C, t);
}

/* the stencil at the widest vector the buffers allow */
template <int SIGN, bool SILU>
static void
dw_stencil (VbCuda *cu, float *dst, float *act, VbBf16 *act16, const float *src,
            const float *pre, const float *w, int B, int H, int W, int C)
{
  switch (dw_width (C, dst, act, src, pre, act16))
    {
    case 4: dw_tile_launch<4, SIGN, SILU> (cu, dst, act, act16, src, pre, w, B, H, W, C); break;
    case 2: dw_tile_launch<2, SIGN, SILU> (cu, dst, act, act16, src, pre, w, B, H, W, C); break;
    default: dw_tile_launch<1, SIGN, SILU> (cu, dst, act, act16, src, pre, w, B, H, W, C); break;
    }
}

extern "C" void
vb_cuda_dwconv3x3_forward (VbCuda *cu, float *out, const float *in, const float *w,
                           int B, int H, int W, int C)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || C <= 0)
    return;
  dw_stencil<1, false> (cu, out, nullptr, nullptr, in, nullptr, w, B, H, W, C);
  VB_CUDA_LAUNCHED (cu, "dwconv3x3 forward");
}

/* pre = dwconv3x3 (in), out = SiLU (pre), out16 = bf16 (out) in one pass (out, out16 may
 * be NULL) */
extern "C" void
vb_cuda_dwconv3x3_silu_forward (VbCuda *cu, float *pre, float *out, VbBf16 *out16,
                                const float *in, const float *w, int B, int H, int W, int C)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || C <= 0)
    return;
  dw_stencil<1, true> (cu, pre, out, out16, in, nullptr, w, B, H, W, C);
  VB_CUDA_LAUNCHED (cu, "dwconv3x3 silu forward");
}

template <int VW, bool DSILU>
static void
dw_wgrad_launch (VbCuda *cu, float *part, const float *dout, const float *pre, const float *in,
                 int B, int H, int W, int C, const DwTile &t)
{
  /* the tile, then the columns' partial sums in the same room */
  size_t shm = dw_tile_floats (t, VW);
  size_t red = (size_t) t.TXC * 9 * t.CTV * VW;
  shm = (shm > red ? shm : red) * sizeof (float);
  dw_wgrad_tile_kernel<VW, DSILU><<<dw_grid (t, B), dim3 (t.CTV, t.TXC), shm, cu->stream>>> (
      part, dout, pre, in, H, W, C, t);
}

/* the depthwise backward; with DSILU dout is the gradient into the SiLU after the conv
 * (dsilu), read as dsilu·SiLU'(pre) by both kernels; din16 (when not NULL) receives din
 * rounded to bf16 */
template <bool DSILU>
static void
dw_backward (VbCuda *cu, float *din, VbBf16 *din16, float *dw, const float *dout,
             const float *pre, const float *in, const float *w, int B, int H, int W, int C)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || C <= 0)
    return;
  if (din != NULL || din16 != NULL)
    {
      dw_stencil<-1, DSILU> (cu, din, nullptr, din16, dout, pre, w, B, H, W, C);
      if (!VB_CUDA_LAUNCHED (cu, DSILU ? "dwconv3x3 silu backward (din)"
                                       : "dwconv3x3 backward (din)"))
        return;
    }
  if (dw == NULL)
    return;
  int vw = dw_width (C, dout, in, DSILU ? pre : NULL, NULL, NULL);
  DwTile t = dw_tile (H, W, C, vw);
  int64_t n_tiles = (int64_t) B * t.tiles_y * t.tiles_x;
  float *part = vb_cuda_param_partials (cu, (size_t) n_tiles * 9 * C);
  if (part == NULL)
    return;
  if (vw == 4)
    dw_wgrad_launch<4, DSILU> (cu, part, dout, pre, in, B, H, W, C, t);
  else if (vw == 2)
    dw_wgrad_launch<2, DSILU> (cu, part, dout, pre, in, B, H, W, C, t);
  else
    dw_wgrad_launch<1, DSILU> (cu, part, dout, pre, in, B, H, W, C, t);
  if (!VB_CUDA_LAUNCHED (cu, DSILU ? "dwconv3x3 silu backward (dw partials)"
                                   : "dwconv3x3 backward (dw partials)"))
    return;
  /* dw[c, tap] += Σ_tile part[tile, tap, c] */
  const VbParamMap taps_to_channels = { 1, 1, C };
  vb_cuda_param_sum_map (cu, dw, part, 9 * (int64_t) C, 9 * C, (int) n_tiles,
                         taps_to_channels);
}

extern "C" void
vb_cuda_dwconv3x3_backward (VbCuda *cu, float *din, float *dw,
                            const float *dout, const float *in, const float *w,
                            int B, int H, int W, int C)
{
  dw_backward<false> (cu, din, nullptr, dw, dout, nullptr, in, w, B, H, W, C);
}

extern "C" void
vb_cuda_dwconv3x3_silu_backward (VbCuda *cu, float *din, VbBf16 *din16, float *dw,
                                 const float *dsilu, const float *pre, const float *in,
                                 const float *w, int B, int H, int W, int C)
{
  dw_backward<true> (cu, din, din16, dw, dsilu, pre, in, w, B, H, W, C);
}
