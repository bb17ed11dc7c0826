/* attention_sm90.cu: unmasked multi-head self-attention on bf16 storage for head_dim 64 (CLIP
 * ViT-L/14's) on Hopper's wgmma: FlashAttention's forward as flash_attention.cu computes it
 * (online softmax in fp32 registers, P rounded to bf16 for P·v, neither S nor P in memory),
 * with the products on the warpgroup tensor-core instructions, which mma.sync reaches only
 * about two thirds of.
 *
 * A block is one warpgroup and 64 query rows of one (image, head). q, and k and v in tiles
 * of 64 keys, come straight from the qkv rows by TMA (one 2-D map over all B·N rows: head h
 * at column h·64 of each third; 128-byte rows in the 128-byte swizzle), k and v through a
 * ring of STAGES tiles on mbarriers. A tile: S = q·kᵀ (wgmma, both operands in shared
 * memory), keys past N masked to −∞ (TMA has read the next image's rows there, or zeros
 * past the last), the online softmax, then O += P·v (wgmma with P as the A operand in
 * registers, v as an MN-major operand read where TMA put it); the next tile's S is issued
 * before this tile's softmax, so it runs meanwhile, and three blocks a multiprocessor overlap
 * one's softmax with another's products. sm_90a only; measured in docs/benchmarks.md
 * ("Session 13": 4.85 → 4.7 ms of a 336 px CLIP forward against 9.6 with mma.sync). */
#include <math.h>
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-fastmath.h"   /* vb_ex2 */
#include "vb-cuda-private.h"
#include "vb-cuda-mma.h"    /* pack_bf16x2 */
#include "vb-cuda-sm90.h"

#define HD 64          /* head_dim */
#define BM 64          /* query rows a block */
#define BN 64          /* keys a tile */
#define STAGES 4   /* a stage is refilled a tile after its use: 1.5 tiles ahead */
#define TILE_BYTES (BN * HD * 2)   /* one of k or v: 64 rows of 128 bytes */
#define SMEM_BYTES (1024 + (1 + 2 * STAGES) * TILE_BYTES + (1 + STAGES) * 8)

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)   /* (else unused) */
/* the online softmax of one tile's scores (this thread's rows g and g + 8: s[4j + v], v < 2
 * row g, else g + 8; columns 8j + 2t + v % 2): keys from kv0 at or past N masked, the running
 * max and sum updated, the weights into pw (s, a product's accumulators, only read: written
 * while other products run, ptxas would serialise them all); alpha: the factors O is to be
 * rescaled by (left to the caller: the previous tile's P·v may still be adding into O) */
template <bool MASK>
static __device__ __forceinline__ void
softmax_tile (const float (&s)[32], float (&pw)[32], float (&alpha)[2], float (&m_run)[2],
              float (&l_run)[2], int kv0, int N, float scale_log2, int t)
{
  float mx[2] = { m_run[0], m_run[1] }, sv[32];
#pragma unroll
  for (int i = 0; i < 32; i++)
    {
      sv[i] = MASK && kv0 + 8 * (i / 4) + 2 * t + (i & 1) >= N ? -INFINITY : s[i];
      mx[(i / 2) & 1] = fmaxf (mx[(i / 2) & 1], sv[i]);
    }
  float ms[2];
#pragma unroll
  for (int r = 0; r < 2; r++)
    {
      mx[r] = fmaxf (mx[r], __shfl_xor_sync (0xffffffffu, mx[r], 1));
      mx[r] = fmaxf (mx[r], __shfl_xor_sync (0xffffffffu, mx[r], 2));
      /* every tile holds a key below N: the max is finite from the first on */
      alpha[r] = vb_ex2 ((m_run[r] - mx[r]) * scale_log2);
      m_run[r] = mx[r];
      ms[r] = mx[r] * scale_log2;
      l_run[r] *= alpha[r];
    }
#pragma unroll
  for (int i = 0; i < 32; i++)
    {
      pw[i] = vb_ex2 (fmaf (sv[i], scale_log2, -ms[(i / 2) & 1]));
      l_run[(i / 2) & 1] += pw[i];   /* this thread's share; the quad's added at the end */
    }
}

/* keeps the compiler from moving a register's definitions or uses across this point (the
 * accumulators of products in flight: CUTLASS's warpgroup_fence_operand) */
static __device__ __forceinline__ void
fence_regs (float (&r)[32])
{
#pragma unroll
  for (int i = 0; i < 32; i++)
    asm volatile ("" : "+f"(r[i])::"memory");
}
#endif

static __global__ void __launch_bounds__ (128, 3)
attention_sm90_kernel (const __grid_constant__ CUtensorMap map, __nv_bfloat16 *out, int N,
                       int heads, int q_tiles, float scale_log2)
{
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ unsigned char smem_raw[];
  const uint32_t base = ((uint32_t) __cvta_generic_to_shared (smem_raw) + 1023) & ~1023u;
  const uint32_t sq = base, sk = sq + TILE_BYTES, sv = sk + STAGES * TILE_BYTES;
  const uint32_t q_bar = sv + STAGES * TILE_BYTES, full = q_bar + 8;

  const int D = heads * HD;
  const int bh = blockIdx.x / q_tiles, q0 = blockIdx.x % q_tiles * BM;
  const int b = bh / heads, h = bh % heads, row_base = b * N;
  const int kv_tiles = (N + BN - 1) / BN;
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32, g = lane / 4, t = lane % 4;

  auto load_kv = [&] (int it) {
    const int st = it % STAGES;
    mbar_arrive_expect_tx (full + 8 * st, 2 * TILE_BYTES);
    tma_load_2d (sk + st * TILE_BYTES, &map, full + 8 * st, D + h * HD, row_base + it * BN);
    tma_load_2d (sv + st * TILE_BYTES, &map, full + 8 * st, 2 * D + h * HD, row_base + it * BN);
  };
  if (threadIdx.x == 0)
    {
      mbar_init (q_bar, 1);
      for (int s = 0; s < STAGES; s++)
        mbar_init (full + 8 * s, 1);
      mbar_init_fence ();
      mbar_arrive_expect_tx (q_bar, TILE_BYTES);
      tma_load_2d (sq, &map, q_bar, h * HD, row_base + q0);
      for (int it = 0; it < STAGES && it < kv_tiles; it++)
        load_kv (it);
    }
  __syncthreads ();

  /* S of tile it into sd, issued (the products run while the caller goes on) */
  auto issue_scores = [&] (float (&sd)[32], int it) {
    const int st = it % STAGES;
    mbar_wait (full + 8 * st, (it / STAGES) & 1);
    wgmma_fence ();
    fence_regs (sd);
    wgmma_m64n64k16_ss_first (sd, wgmma_desc_sw128 (sq), wgmma_desc_sw128 (sk + st * TILE_BYTES));
#pragma unroll
    for (int kk = 1; kk < HD / 16; kk++)
      wgmma_m64n64k16_ss (sd, wgmma_desc_sw128 (sq + 32 * kk),
                          wgmma_desc_sw128 (sk + st * TILE_BYTES + 32 * kk), 1);
    wgmma_commit ();
    fence_regs (sd);
  };
  float o[32], s0[32], s1[32];
  float m_run[2] = { -INFINITY, -INFINITY }, l_run[2] = { 0.0f, 0.0f };
#pragma unroll
  for (int i = 0; i < 32; i++)
    o[i] = 0.0f;
  /* Tile it, its scores in cur: the next tile's S is issued first, so the tensor cores
   * compute it, and the previous tile's P·v, during this tile's softmax (FlashAttention-3's
   * overlap within a warpgroup); then O is rescaled and this tile's P·v issued. */
  auto step = [&] (float (&cur)[32], float (&nxt)[32], int it) {
    const bool more = it + 1 < kv_tiles;
    const int kv0 = it * BN;
    if (more)
      issue_scores (nxt, it + 1);
    float alpha[2], pw[32];
    if (kv0 + BN <= N)
      softmax_tile<false> (cur, pw, alpha, m_run, l_run, kv0, N, scale_log2, t);
    else
      softmax_tile<true> (cur, pw, alpha, m_run, l_run, kv0, N, scale_log2, t);
    /* the previous P·v and the next S done: nothing in flight while O is rescaled and P
     * packed (a register a product reads, written while products run, makes ptxas
     * serialise every product) */
    wgmma_wait<0> ();
    if (it > 0)
      {
        /* every warp's products have read tile it − 1's stage: refill it */
        __syncthreads ();
        if (threadIdx.x == 0 && it - 1 + STAGES < kv_tiles)
          load_kv (it - 1 + STAGES);
      }
    /* keys 16kk … as A fragments: S's column blocks 2kk and 2kk + 1 */
    uint32_t pa[BN / 16][4];
#pragma unroll
    for (int kk = 0; kk < BN / 16; kk++)
      {
        pa[kk][0] = pack_bf16x2 (pw[8 * kk], pw[8 * kk + 1]);
        pa[kk][1] = pack_bf16x2 (pw[8 * kk + 2], pw[8 * kk + 3]);
        pa[kk][2] = pack_bf16x2 (pw[8 * kk + 4], pw[8 * kk + 5]);
        pa[kk][3] = pack_bf16x2 (pw[8 * kk + 6], pw[8 * kk + 7]);
      }
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
      for (int r = 0; r < 2; r++)
        {
          o[4 * j + 2 * r] *= alpha[r];
          o[4 * j + 2 * r + 1] *= alpha[r];
        }
    wgmma_fence ();
    fence_regs (o);
    /* v's rows 16kk …: 16 rows of 128 bytes on */
    const uint32_t vt = sv + it % STAGES * TILE_BYTES;
#pragma unroll
    for (int kk = 0; kk < BN / 16; kk++)
      wgmma_m64n64k16_rs_mn (o, pa[kk], wgmma_desc_sw128 (vt + 2048 * kk));
    wgmma_commit ();   /* this P·v runs on into the next tile's softmax */
    fence_regs (o);
  };
  mbar_wait (q_bar, 0);
  issue_scores (s0, 0);
  wgmma_wait<0> ();
  for (int it = 0; it < kv_tiles; it += 2)
    {
      step (s0, s1, it);
      if (it + 1 < kv_tiles)
        step (s1, s0, it + 1);
    }
  wgmma_wait<0> ();

  /* this thread's rows: 16w + g and + 8 of the block's */
#pragma unroll
  for (int r = 0; r < 2; r++)
    {
      float l = l_run[r];
      l += __shfl_xor_sync (0xffffffffu, l, 1);
      l += __shfl_xor_sync (0xffffffffu, l, 2);
      const int row = q0 + 16 * w + g + 8 * r;
      if (row >= N)
        continue;
      const float inv = 1.0f / l;
      __nv_bfloat16 *orow = out + ((int64_t) row_base + row) * D + h * HD;
#pragma unroll
      for (int j = 0; j < 8; j++)
        *reinterpret_cast<uint32_t *> (orow + 8 * j + 2 * t)
            = pack_bf16x2 (o[4 * j + 2 * r] * inv, o[4 * j + 2 * r + 1] * inv);
    }
#endif
}

/* 1 when it ran, 0 when the device or the shapes do not fit (nothing queued), −1 on a
 * failure (recorded) */
int
vb_cuda_attention_sm90 (VbCuda *cu, VbBf16 *out, const VbBf16 *qkv, int B, int N, int heads,
                        int head_dim, float scale)
{
  const int64_t rows = (int64_t) B * N, D = (int64_t) heads * head_dim;
  if (cu->sm90_off || cu->cc_major != 9 || cu->cc_minor != 0 || head_dim != HD
      || (uintptr_t) qkv % 16 != 0 || (uintptr_t) out % 4 != 0 || rows + BN >= INT32_MAX
      || 3 * D >= INT32_MAX || !(scale > 0.0f))
    return 0;
  CUtensorMap map;
  char err[200];
  if (vb_sm90_tensor_map_bf16 (&map, qkv, (uint64_t) rows, (uint64_t) (3 * D), (uint64_t) (3 * D),
                               BN, err, sizeof err) != 0)
    {
      if (cu->error[0] == '\0')
        snprintf (cu->error, sizeof cu->error, "attention (bf16, sm_90): %s", err);
      return -1;
    }
  if (!vb_cuda_check_rt (cu, cudaFuncSetAttribute (attention_sm90_kernel,
                                                   cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   SMEM_BYTES),
                         "attention (bf16, sm_90): shared memory"))
    return -1;
  const int q_tiles = (N + BM - 1) / BM;
  const int64_t blocks = (int64_t) B * heads * q_tiles;
  if (blocks >= INT32_MAX)
    return 0;
  attention_sm90_kernel<<<(unsigned int) blocks, 128, SMEM_BYTES, cu->stream>>> (
      map, reinterpret_cast<__nv_bfloat16 *> (out), N, heads, q_tiles,
      scale * 1.4426950408889634f);
  return VB_CUDA_LAUNCHED (cu, "attention forward (bf16, sm_90)") ? 1 : -1;
}
