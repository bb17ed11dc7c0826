/* flash_attention.cu: unmasked multi-head self-attention on bf16 storage as one kernel,
 * FlashAttention-2's forward (vb-cuda-vit.h vb_cuda_attention_forward_bf16).
 *
 * A block takes the query rows of one (image, head), a warp MT × 16 of them (MT = 1 or 2),
 * and walks the keys in tiles of BLOCK_N: S = q·kᵀ on bf16 tensor cores (mma.sync
 * m16n8k16, fp32 accumulators), an online softmax in fp32 registers (running max and sum,
 * the output rescaled when the max grows; one FMA and one exp2 a score), then O += P·v
 * with P rounded to bf16 as the A operand. Neither the scores nor P ever reach memory: the
 * bytes are q, k, v read once a query tile and O written once. q, k and v are read in
 * place from the qkv rows (head h at column h·dh of each third), through cp.async into
 * shared memory, k and v double-buffered and waited for apart, so the next tile's k loads
 * during this tile's P·v and its v during the next S; rows are padded by 8 values so
 * ldmatrix's eight row addresses fall in different banks. Key rows past N are loaded as
 * zeros and their scores masked to −∞; a warp whose rows all lie past N helps load and
 * skips the arithmetic. (Measured on the H200 in docs/benchmarks.md: about 160 TFLOP/s at
 * 577 tokens, latency-bound with the tensor pipes half busy.)
 *
 * head_dim a multiple of 16 up to 128 (CLIP ViT-L/14: 64); other shapes, or operands not
 * 16-byte aligned, take attention.cu's path on widened copies. */
#include <math.h>
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-async.h"      /* cp.async */
#include "vb-cuda-mma.h"        /* ldmatrix, mma.sync, pack_bf16x2 */
#include "vb-cuda-fastmath.h"   /* vb_ex2: a weight below 2^−126 is 0; 2^−∞ = 0 */
#include "vb-cuda-private.h"
#include "vb-cuda-ops.h"   /* vb_cuda_to_bf16 */
#include "vb-cuda-vit.h"

#define WARPS 4        /* a block's warps, each MT × 16 query rows (8: measured 4-6 % slower) */
#define THREADS (WARPS * 32)
#define BLOCK_N 64     /* keys a tile */
#define PAD 8          /* bf16 values of padding a shared-memory row */

/* ---- the kernel --------------------------------------------------------------------- */

/* rows [r0, r0 + ROWS) of one head's q, k or v (row stride ld values) into a shared tile;
 * rows at or past N become zeros */
template <int HD, int ROWS>
static __device__ __forceinline__ void
load_tile (uint32_t tile, const __nv_bfloat16 *base, int64_t ld, int r0, int N)
{
  constexpr int CHUNKS = HD / 8;          /* 16-byte pieces a row */
  constexpr int PASS = THREADS / CHUNKS;  /* rows a pass of the block */
  static_assert (ROWS % PASS == 0, "whole passes");
  const int c = threadIdx.x % CHUNKS, r = threadIdx.x / CHUNKS;
#pragma unroll
  for (int k = 0; k < ROWS / PASS; k++)
    {
      int row = r + k * PASS;
      bool valid = r0 + row < N;
      const __nv_bfloat16 *src = base + (valid ? (int64_t) (r0 + row) * ld : 0) + c * 8;
      cp_async16 (tile + (row * (HD + PAD) + c * 8) * 2, src, valid);
    }
}

/* One key tile's work for a warp's MT × 16 query rows, in two halves so the block can
 * wait for k and for v apart: scores (S = q·kᵀ and the online softmax, P left in s), then
 * pv (O += P·v). MASK: the tile reaches past N (its chunks of 16 keys wholly past N are
 * skipped, the rest of its keys past N masked to −∞). */
#define ROW_BYTES(HD) (((HD) + PAD) * 2)
#define NS (BLOCK_N / 8)                  /* n8 tiles of S */

template <int HD, int MT, bool MASK>
static __device__ __forceinline__ void
scores (float (&s)[MT][NS][4], float (&o)[MT][HD / 8][4], float (&m_run)[MT][2],
        float (&l_run)[MT][2], const uint32_t (&qf)[MT][HD / 16][4], uint32_t k_addr, int kv0,
        int N, float scale_log2, int lane)
{
  constexpr int ROW = ROW_BYTES (HD);
  constexpr int KD = HD / 16;        /* k16 steps of q·kᵀ */
  constexpr int ND = HD / 8;         /* n8 tiles of O */
  const int t = lane % 4;
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int j = 0; j < NS; j++)
      s[mt][j][0] = s[mt][j][1] = s[mt][j][2] = s[mt][j][3] = 0.0f;

  /* S: each k fragment, loaded once, serves the warp's MT row tiles */
#pragma unroll
  for (int jj = 0; jj < NS / 2; jj++)
    {
      if (MASK && kv0 + jj * 16 >= N)
        continue;
#pragma unroll
      for (int kk = 0; kk < KD; kk++)
        {
          uint32_t kf[4];
          ldmatrix_x4 (kf, k_addr + jj * 16 * ROW + kk * 32);
#pragma unroll
          for (int mt = 0; mt < MT; mt++)
            {
              mma_bf16 (s[mt][2 * jj], qf[mt][kk], kf[0], kf[1]);
              mma_bf16 (s[mt][2 * jj + 1], qf[mt][kk], kf[2], kf[3]);
            }
        }
    }

  /* online softmax: per row tile, rows g (values 0, 1) and g + 8 (values 2, 3). The
   * running max is of the unscaled scores (scale > 0), so each weight is one FMA and one
   * exp2: 2^(s·scale·log2 e − m·scale·log2 e). */
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
    {
      float mx[2] = { m_run[mt][0], m_run[mt][1] };
#pragma unroll
      for (int j = 0; j < NS; j++)
#pragma unroll
        for (int e = 0; e < 4; e++)
          {
            if (MASK && kv0 + j * 8 + 2 * t + (e & 1) >= N)
              s[mt][j][e] = -INFINITY;
            mx[e / 2] = fmaxf (mx[e / 2], s[mt][j][e]);
          }
      float ms[2];
#pragma unroll
      for (int r = 0; r < 2; r++)
        {
          mx[r] = fmaxf (mx[r], __shfl_xor_sync (0xffffffffu, mx[r], 1));
          mx[r] = fmaxf (mx[r], __shfl_xor_sync (0xffffffffu, mx[r], 2));
          /* every tile holds a key below N: the max is finite from the first on */
          float alpha = vb_ex2 ((m_run[mt][r] - mx[r]) * scale_log2);
          m_run[mt][r] = mx[r];
          ms[r] = mx[r] * scale_log2;
          l_run[mt][r] *= alpha;
#pragma unroll
          for (int j = 0; j < ND; j++)
            {
              o[mt][j][2 * r] *= alpha;
              o[mt][j][2 * r + 1] *= alpha;
            }
        }
#pragma unroll
      for (int j = 0; j < NS; j++)
#pragma unroll
        for (int e = 0; e < 4; e++)
          {
            float p = vb_ex2 (fmaf (s[mt][j][e], scale_log2, -ms[e / 2]));
            s[mt][j][e] = p;
            l_run[mt][e / 2] += p;      /* this thread's share; the quad's added at the end */
          }
    }
}

/* O += P·v, P as bf16 A fragments straight from the score registers; each v fragment,
 * loaded once, serves the MT row tiles */
template <int HD, int MT, bool MASK>
static __device__ __forceinline__ void
pv (float (&o)[MT][HD / 8][4], const float (&s)[MT][NS][4], uint32_t v_addr, int kv0, int N,
    int lane)
{
  constexpr int ROW = ROW_BYTES (HD);
  constexpr int ND = HD / 8;
#pragma unroll
  for (int kk = 0; kk < NS / 2; kk++)
    {
      if (MASK && kv0 + kk * 16 >= N)
        continue;
      uint32_t pa[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; mt++)
        {
          pa[mt][0] = pack_bf16x2 (s[mt][2 * kk][0], s[mt][2 * kk][1]);
          pa[mt][1] = pack_bf16x2 (s[mt][2 * kk][2], s[mt][2 * kk][3]);
          pa[mt][2] = pack_bf16x2 (s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
          pa[mt][3] = pack_bf16x2 (s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
#pragma unroll
      for (int dd = 0; dd < ND / 2; dd++)
        {
          uint32_t vf[4];
          ldmatrix_x4_trans (vf, v_addr + kk * 16 * ROW + dd * 32);
#pragma unroll
          for (int mt = 0; mt < MT; mt++)
            {
              mma_bf16 (o[mt][2 * dd], pa[mt], vf[0], vf[1]);
              mma_bf16 (o[mt][2 * dd + 1], pa[mt], vf[2], vf[3]);
            }
        }
    }
}

/* A block: WARPS warps of MT × 16 query rows each, BM = WARPS · MT · 16 rows. MT = 2
 * halves the shared-memory reads per product (each k and v fragment feeds two row tiles)
 * and the times each head's k and v are read from L2. Launch bounds: as many blocks an SM
 * as the registers allow without spills (left alone, ptxas took 128 registers for
 * head_dim 64 and spilled). */
template <int HD, int MT>
static __global__ void
__launch_bounds__ (THREADS, MT == 1 ? (HD <= 32 ? 4 : HD == 64 ? 3 : 2) : 2)
flash_attention_kernel (__nv_bfloat16 *out, const __nv_bfloat16 *qkv, int N, int heads,
                        int q_tiles, float scale_log2)
{
  constexpr int LDS = HD + PAD;
  constexpr int KD = HD / 16;
  constexpr int ND = HD / 8;
  constexpr int BM = WARPS * MT * 16;
  /* q (BM rows), then two buffers of BLOCK_N rows of k, then two of v */
  extern __shared__ __align__ (16) __nv_bfloat16 smem[];

  const int64_t D = (int64_t) heads * HD, ld = 3 * D;
  const int64_t bh = blockIdx.x / q_tiles;
  const int q0 = (int) (blockIdx.x % q_tiles) * BM;
  const int64_t b = bh / heads, h = bh % heads;
  const __nv_bfloat16 *qb = qkv + b * N * ld + h * HD;
  const __nv_bfloat16 *kb = qb + D, *vb = qb + 2 * D;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;     /* the fragment's row group and column pair */
  const int row0 = q0 + warp * MT * 16;     /* the warp's first query row */
  const bool active = row0 < N;
  const int kv_tiles = (N + BLOCK_N - 1) / BLOCK_N;
  /* this lane's ldmatrix row addresses (bytes, shared space): q as A fragments; k (its
   * rows the n index) as B fragments of q·kᵀ; v through the transposing load as B
   * fragments of P·v; the tiles' offsets are added to these */
  const uint32_t s_base = (uint32_t) __cvta_generic_to_shared (smem);
  const uint32_t sq = s_base, sk = sq + BM * LDS * 2, sv = sk + 2 * BLOCK_N * LDS * 2;
  const uint32_t q_addr = s_base + ((warp * MT * 16 + (lane % 8) + ((lane / 8) % 2) * 8) * LDS
                                    + (lane / 16) * 8) * 2;
  const uint32_t k_addr = s_base + (BM * LDS + ((lane % 8) + (lane / 16) * 8) * LDS
                                    + ((lane / 8) % 2) * 8) * 2;
  const uint32_t v_addr = s_base + ((BM + 2 * BLOCK_N) * LDS
                                    + ((lane % 8) + ((lane / 8) % 2) * 8) * LDS
                                    + (lane / 16) * 8) * 2;

  load_tile<HD, BM> (sq, qb, ld, q0, N);
  load_tile<HD, BLOCK_N> (sk, kb, ld, 0, N);
  cp_async_commit ();
  load_tile<HD, BLOCK_N> (sv, vb, ld, 0, N);
  cp_async_commit ();

  uint32_t qf[MT][KD][4];
  float o[MT][ND][4];
  float m_run[MT][2], l_run[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
    {
      m_run[mt][0] = m_run[mt][1] = -INFINITY;
      l_run[mt][0] = l_run[mt][1] = 0.0f;
#pragma unroll
      for (int j = 0; j < ND; j++)
        o[mt][j][0] = o[mt][j][1] = o[mt][j][2] = o[mt][j][3] = 0.0f;
    }

  /* Copies in flight as FlashAttention-2 keeps them: at the top of tile it, k and v of it
   * (the oldest groups); k of it + 1 is issued once S of it is done (its buffer last held
   * k of it − 1, which every warp finished before the barrier above), v of it + 1 once
   * P·v of it is done; each wait leaves the one newer group in flight. */
  for (int it = 0; it < kv_tiles; it++)
    {
      const int kv0 = it * BLOCK_N;
      const bool more = it + 1 < kv_tiles, full = kv0 + BLOCK_N <= N;
      const uint32_t buf = (it & 1) * BLOCK_N * LDS * 2, next = BLOCK_N * LDS * 2 - buf;
      float s[MT][NS][4];

      cp_async_wait<1> ();                 /* k of it (and q) landed; v of it may not */
      __syncthreads ();
      if (active)
        {
          if (it == 0)
            {
#pragma unroll
              for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int kk = 0; kk < KD; kk++)
                  ldmatrix_x4 (qf[mt][kk], q_addr + (mt * 16 * LDS + kk * 16) * 2);
            }
          if (full)
            scores<HD, MT, false> (s, o, m_run, l_run, qf, k_addr + buf, kv0, N, scale_log2,
                                   lane);
          else
            scores<HD, MT, true> (s, o, m_run, l_run, qf, k_addr + buf, kv0, N, scale_log2,
                                  lane);
        }
      if (more)
        {
          load_tile<HD, BLOCK_N> (sk + next, kb, ld, kv0 + BLOCK_N, N);
          cp_async_commit ();
          cp_async_wait<1> ();               /* v of it landed; k of it + 1 may not */
        }
      else
        cp_async_wait<0> ();
      __syncthreads ();
      if (active)
        {
          if (full)
            pv<HD, MT, false> (o, s, v_addr + buf, kv0, N, lane);
          else
            pv<HD, MT, true> (o, s, v_addr + buf, kv0, N, lane);
        }
      if (more)
        {
          load_tile<HD, BLOCK_N> (sv + next, vb, ld, kv0 + BLOCK_N, N);
          cp_async_commit ();
        }
    }

  if (!active)
    return;
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int r = 0; r < 2; r++)
      {
        float l = l_run[mt][r];
        l += __shfl_xor_sync (0xffffffffu, l, 1);
        l += __shfl_xor_sync (0xffffffffu, l, 2);
        int row = row0 + mt * 16 + g + 8 * r;
        if (row >= N)
          continue;
        float inv = 1.0f / l;
        __nv_bfloat16 *orow = out + (b * N + row) * D + h * HD;
#pragma unroll
        for (int j = 0; j < ND; j++)
          *reinterpret_cast<__nv_bfloat162 *> (orow + j * 8 + 2 * t)
              = __floats2bfloat162_rn (o[mt][j][2 * r] * inv, o[mt][j][2 * r + 1] * inv);
      }
}

template <int HD, int MT>
static bool
launch (VbCuda *cu, __nv_bfloat16 *out, const __nv_bfloat16 *qkv, int B, int N, int heads,
        float scale)
{
  constexpr int BM = WARPS * MT * 16;
  const size_t smem = (size_t) (BM + 4 * BLOCK_N) * (HD + PAD) * sizeof (__nv_bfloat16);
  /* above 48 KiB a kernel must ask for its shared memory (on each device: asked each time) */
  if (smem > 48 * 1024
      && !vb_cuda_check_rt (cu, cudaFuncSetAttribute (flash_attention_kernel<HD, MT>,
                                                      cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                      (int) smem),
                            "attention (bf16): shared memory"))
    return false;
  int q_tiles = (N + BM - 1) / BM;
  int64_t blocks = (int64_t) B * heads * q_tiles;
  flash_attention_kernel<HD, MT><<<(unsigned int) blocks, THREADS, smem, cu->stream>>> (
      out, qkv, N, heads, q_tiles, scale * 1.4426950408889634f);
  return VB_CUDA_LAUNCHED (cu, "attention forward (bf16, fused)");
}

/* widened copies through attention.cu's fp32 path, rounded once (other head sizes,
 * misaligned operands) */
static int
attention_widened (VbCuda *cu, __nv_bfloat16 *out, const __nv_bfloat16 *qkv, int B, int N,
                   int heads, int head_dim, float scale)
{
  int64_t D = (int64_t) heads * head_dim, rows = (int64_t) B * N;
  float *x = NULL, *o = NULL;
  if (!vb_cuda_check_rt (cu, cudaMallocAsync (&x, (size_t) rows * 4 * D * sizeof (float),
                                              cu->stream),
                         "attention (bf16): widened copies"))
    return -1;
  o = x + rows * 3 * D;
  vb_cuda_widen_rows (cu, x, rows * 3 * D, reinterpret_cast<const VbBf16 *> (qkv), rows * 3 * D,
                      1, rows * 3 * D);
  int rc = vb_cuda_attention_forward (cu, o, x, B, N, heads, head_dim, scale);
  if (rc == 0)
    vb_cuda_to_bf16 (cu, reinterpret_cast<VbBf16 *> (out), o, NULL, 1, rows * D);
  cudaFreeAsync (x, cu->stream);
  return rc == 0 && cu->error[0] == '\0' ? 0 : -1;
}

extern "C" int
vb_cuda_attention_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *qkv, int B, int N,
                                int heads, int head_dim, float scale)
{
  VB_CUDA_GUARD_RET (cu, -1);
  if (B <= 0 || N <= 0 || heads <= 0 || head_dim <= 0)
    return 0;
  __nv_bfloat16 *o = reinterpret_cast<__nv_bfloat16 *> (out);
  const __nv_bfloat16 *x = reinterpret_cast<const __nv_bfloat16 *> (qkv);
  bool aligned = (uintptr_t) out % 16 == 0 && (uintptr_t) qkv % 16 == 0;
  bool ok;
  if (!aligned)
    return attention_widened (cu, o, x, B, N, heads, head_dim, scale);
  int sm90 = vb_cuda_attention_sm90 (cu, out, qkv, B, N, heads, head_dim, scale);
  if (sm90 != 0)
    return sm90 > 0 ? 0 : -1;
  /* two row tiles a warp halve the shared-memory reads per product but waste more rows
   * past N in a block of 128: measured faster at 577 tokens, slower at 257 */
  bool two = N > 384;
  switch (head_dim)
    {
    case 16: ok = two ? launch<16, 2> (cu, o, x, B, N, heads, scale)
                      : launch<16, 1> (cu, o, x, B, N, heads, scale); break;
    case 32: ok = two ? launch<32, 2> (cu, o, x, B, N, heads, scale)
                      : launch<32, 1> (cu, o, x, B, N, heads, scale); break;
    case 64: ok = two ? launch<64, 2> (cu, o, x, B, N, heads, scale)
                      : launch<64, 1> (cu, o, x, B, N, heads, scale); break;
    case 128: ok = launch<128, 1> (cu, o, x, B, N, heads, scale); break;
    default: return attention_widened (cu, o, x, B, N, heads, head_dim, scale);
    }
  return ok ? 0 : -1;
}
