/* gemm_sm90.cuh: a bf16 product of our own on Hopper's tensor cores, for the epilogues
 * cuBLASLt lacks: C (M × N) = epilogue (A · Wᵀ + b), A (M × K) and W (N × K, nn.Linear's
 * weight) row-major bf16, fp32 accumulation, C bf16. Epilogues: the bias (optionally added
 * onto C: a residual stream), the bias then CLIP's quick GELU (fc1 and its activation in one
 * pass), and the Gated projector's σ gate (W's rows interleaved in blocks of 8: value rows,
 * then the gate's; C has N / 2 columns).
 *
 * The kernel (the CUTLASS "warp-specialised persistent" shape, written out): one block a
 * multiprocessor, looping over 128 × 256 tiles of C; warpgroup 0 gives its registers back
 * and one of its threads streams 64-wide K slices of A and W by TMA into a ring of stages
 * (3 or 4: what the epilogue's staging leaves of shared memory; 128-byte swizzle, completion
 * counted on an mbarrier a stage); warpgroups 1 and 2 each take 64 rows of the tile: wgmma
 * m64n256k16 straight from shared memory, one K slice's products in flight while the next is
 * issued, a stage handed back once its products are done; the epilogue into shared-memory
 * boxes that a TMA store takes (the bias-add one from the registers), while the producer
 * already loads the next tile. sm_90a only: elsewhere the kernel is empty, and the engine
 * launches it only on a 9.0 device (vb_sm90_gemm_fits). Measured against cuBLAS in
 * studies/gemm_sm90.cu (docs/benchmarks.md, "Session 13").
 *
 * Kept free of the engine's types so that studies/ can time and check the very kernel the
 * engine runs (kernels/cuda/gemm_sm90.cu wraps it). */
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "vb-cuda-fastmath.h"
#include "vb-cuda-mma.h"    /* pack_bf16x2 */
#include "vb-cuda-sm90.h"

namespace vb_sm90
{
typedef __nv_bfloat16 bf16;

enum Epi
{
  EPI_BIAS,        /* C = A·Wᵀ + b */
  EPI_BIAS_ADD,    /* C += A·Wᵀ + b */
  EPI_QUICK_GELU,  /* C = quick_gelu (A·Wᵀ + b) */
  EPI_GATED,       /* C[:, j] = (v_j + b) · σ(g_j + b'), v and g interleaved by 8 columns */
};

constexpr int BM = 128, BN = 256, BK = 64, THREADS = 384;
constexpr int A_BYTES = BM * BK * 2, B_BYTES = BN * BK * 2;
constexpr int SMEM_LIMIT = 227 * 1024;   /* a block's opt-in shared memory on sm_90 */

/* per epilogue: the staged ones write a consumer's 64 rows into shared memory (64-column
 * boxes in the 128-byte swizzle) and hand them to a TMA store, so that the next tile's
 * products start at once; the one adding onto C reads C and stores from the registers. The
 * stages take what shared memory is left. */
template <int EPI>
struct Config
{
  static constexpr bool STAGED = EPI != EPI_BIAS_ADD;
  static constexpr int OUT_COLS = EPI == EPI_GATED ? BN / 2 : BN;   /* a tile's C columns */
  static constexpr int BOX_BYTES = 64 * 64 * 2;                      /* 64 rows × 64 columns */
  static constexpr int C_BYTES = STAGED ? 2 * (OUT_COLS / 64) * BOX_BYTES : 0;
  static constexpr int STAGES = (SMEM_LIMIT - 1024 - C_BYTES - 256) / (A_BYTES + B_BYTES);
  static constexpr int SMEM_BYTES = 1024 + STAGES * (A_BYTES + B_BYTES) + C_BYTES + 2 * STAGES * 8;
  static_assert (STAGES >= 3, "too little shared memory left for the stages");
};

struct Params
{
  bf16 *C;
  const bf16 *bias;   /* N values (in W's row order), or NULL */
  int M, N, K;
  int ldc;            /* C's row stride, in values */
};

static __device__ __forceinline__ float2
bias_pair (const bf16 *bias, int col)
{
  if (bias == nullptr)
    return make_float2 (0.0f, 0.0f);
  return __bfloat1622float2 (*reinterpret_cast<const __nv_bfloat162 *> (bias + col));
}

static __device__ __forceinline__ float
quick_gelu_epi (float x)
{
  return x * vb_rcp (1.0f + vb_exp (-1.702f * x));
}

/* the consumer warpgroup's 64 × 256 accumulators (rows from row0, columns from col0: the
 * product's, W's rows) out; cbuf: its staging boxes (STAGED epilogues) */
template <int EPI>
static __device__ __forceinline__ void
epilogue (const Params &p, const CUtensorMap &map_c, const float (&d)[128], int row0, int col0,
          uint32_t cbuf, int half)
{
  typedef Config<EPI> Cfg;
  const int lane = threadIdx.x % 32, w = (threadIdx.x % 128) / 32;
  const int rr = 16 * w + lane / 4, t = lane % 4;   /* row within the 64; rr + 8 the other */
  const bool leader = threadIdx.x % 128 == 0;
  if constexpr (Cfg::STAGED)
    {
      /* the previous tile's stores have read the boxes */
      if (leader)
        bulk_wait_all<true> ();
      named_barrier (1 + half, 128);
    }
  /* one pair of adjacent output columns oc, oc + 1 (within the tile's) of row rr + 8·hi */
  auto put = [&] (int hi, int oc, float x, float y) {
    const int r = rr + 8 * hi;
    if constexpr (Cfg::STAGED)
      {
        /* box oc / 64; its 16-byte piece (oc % 64) / 8 in the swizzle: conflict-free, the
         * eight rows of a warp's store land on eight different pieces */
        uint32_t at = cbuf + (oc / 64) * Cfg::BOX_BYTES + r * 128
                      + ((((oc % 64) / 8) ^ (r & 7)) << 4) + (oc % 8) * 2;
        uint32_t v = pack_bf16x2 (x, y);
        asm volatile ("st.shared.u32 [%0], %1;\n" ::"r"(at), "r"(v) : "memory");
      }
    else if (row0 + r < p.M)
      {
        bf16 *c = p.C + (size_t) (row0 + r) * p.ldc + col0 + oc;
        if constexpr (EPI == EPI_BIAS_ADD)
          {
            float2 o = __bfloat1622float2 (*reinterpret_cast<const __nv_bfloat162 *> (c));
            x += o.x, y += o.y;
          }
        *reinterpret_cast<uint32_t *> (c) = pack_bf16x2 (x, y);
      }
  };
  if constexpr (EPI == EPI_GATED)
    {
#pragma unroll
      for (int q = 0; q < 16; q++)
        {
          const int vc = 16 * q + 2 * t;   /* value columns; the gate's 8 on */
          const float2 bv = bias_pair (p.bias, col0 + vc), bg = bias_pair (p.bias, col0 + vc + 8);
          const float *v = d + 8 * q, *g = d + 8 * q + 4;
          auto gate = [] (float x, float z) { return x * vb_rcp (1.0f + vb_exp (-z)); };
          put (0, 8 * q + 2 * t, gate (v[0] + bv.x, g[0] + bg.x), gate (v[1] + bv.y, g[1] + bg.y));
          put (1, 8 * q + 2 * t, gate (v[2] + bv.x, g[2] + bg.x), gate (v[3] + bv.y, g[3] + bg.y));
        }
    }
  else
    {
#pragma unroll
      for (int j = 0; j < 32; j++)
        {
          const int oc = 8 * j + 2 * t;
          const float2 b = bias_pair (p.bias, col0 + oc);
          float x0 = d[4 * j] + b.x, x1 = d[4 * j + 1] + b.y;
          float x2 = d[4 * j + 2] + b.x, x3 = d[4 * j + 3] + b.y;
          if constexpr (EPI == EPI_QUICK_GELU)
            {
              x0 = quick_gelu_epi (x0), x1 = quick_gelu_epi (x1);
              x2 = quick_gelu_epi (x2), x3 = quick_gelu_epi (x3);
            }
          put (0, oc, x0, x1);
          put (1, oc, x2, x3);
        }
    }
  if constexpr (Cfg::STAGED)
    {
      fence_proxy_async_shared ();
      named_barrier (1 + half, 128);
      if (leader)
        {
          const int out_col0 = EPI == EPI_GATED ? col0 / 2 : col0;
#pragma unroll
          for (int b = 0; b < Cfg::OUT_COLS / 64; b++)
            tma_store_2d (&map_c, cbuf + b * Cfg::BOX_BYTES, out_col0 + 64 * b, row0);
          bulk_commit ();
        }
    }
}

template <int EPI>
static __global__ void __launch_bounds__ (THREADS, 1)
gemm_kernel (const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_w,
             const __grid_constant__ CUtensorMap map_c, Params p)
{
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ unsigned char smem_raw[];
  /* the swizzled tiles want 1024-byte alignment */
  const uint32_t base = ((uint32_t) __cvta_generic_to_shared (smem_raw) + 1023) & ~1023u;
  typedef Config<EPI> Cfg;
  constexpr int STAGES = Cfg::STAGES;
  const uint32_t sa = base, sw = base + STAGES * A_BYTES, sc = sw + STAGES * B_BYTES;
  const uint32_t full = sc + Cfg::C_BYTES, empty = full + STAGES * 8;
  const int wg = threadIdx.x / 128;
  if (threadIdx.x == 0)
    {
      for (int s = 0; s < STAGES; s++)
        {
          mbar_init (full + 8 * s, 1);    /* the producer's arrival + the TMA bytes */
          mbar_init (empty + 8 * s, 2);   /* one arrival a consumer warpgroup */
        }
      mbar_init_fence ();
    }
  __syncthreads ();

  const int tiles_n = p.N / BN, tiles = (p.M + BM - 1) / BM * tiles_n, KT = p.K / BK;
  int s = 0;
  uint32_t phase = 0;
  if (wg == 0)
    {
      regs_release<40> ();
      if (threadIdx.x != 0)
        return;
      for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x)
        {
          const int m0 = tile / tiles_n * BM, n0 = tile % tiles_n * BN;
          for (int kt = 0; kt < KT; kt++)
            {
              mbar_wait (empty + 8 * s, phase ^ 1);
              mbar_arrive_expect_tx (full + 8 * s, A_BYTES + B_BYTES);
              tma_load_2d (sa + s * A_BYTES, &map_a, full + 8 * s, kt * BK, m0);
              tma_load_2d (sw + s * B_BYTES, &map_w, full + 8 * s, kt * BK, n0);
              if (++s == STAGES)
                s = 0, phase ^= 1;
            }
        }
      return;
    }

  regs_claim<232> ();
  const int half = wg - 1;   /* rows 64·half … of the tile */
  const bool leader = threadIdx.x % 128 == 0;
  float d[128];
#pragma unroll
  for (int i = 0; i < 128; i++)
    d[i] = 0.0f;
  for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x)
    {
      const int m0 = tile / tiles_n * BM, n0 = tile % tiles_n * BN;
      int prev = -1;
      for (int kt = 0; kt < KT; kt++)
        {
          mbar_wait (full + 8 * s, phase);
          const uint32_t at = sa + s * A_BYTES + half * 64 * 128, wt = sw + s * B_BYTES;
          wgmma_fence ();
#pragma unroll
          for (int kk = 0; kk < BK / 16; kk++)
            wgmma_m64n256k16 (d, wgmma_desc_sw128 (at + 32 * kk), wgmma_desc_sw128 (wt + 32 * kk),
                              kt > 0 || kk > 0);
          wgmma_commit ();
          /* the slice before this one is done: its stage goes back to the producer */
          wgmma_wait<1> ();
          if (prev >= 0 && leader)
            mbar_arrive (empty + 8 * prev);
          prev = s;
          if (++s == STAGES)
            s = 0, phase ^= 1;
        }
      wgmma_wait<0> ();
      if (leader)
        mbar_arrive (empty + 8 * prev);
      epilogue<EPI> (p, map_c, d, m0 + 64 * half, n0, sc + half * (Cfg::C_BYTES / 2), half);
    }
  if (Cfg::STAGED && leader)
    bulk_wait_all<false> ();   /* the last stores done before the block's memory goes */
#endif
}

/* ---- host side ---------------------------------------------------------------------------- */

/* whether the product runs here: a 9.0 device (sm_90a code), K a multiple of 64, N of 256,
 * 16-byte aligned A, W and C with 16-byte rows, a 4-byte aligned bias */
static inline bool
vb_sm90_gemm_fits (int cc_major, int cc_minor, const void *C, int64_t ldc, const void *A,
                   const void *W, const void *bias, int64_t M, int64_t N, int64_t K)
{
  return cc_major == 9 && cc_minor == 0 && M > 0 && M < INT32_MAX - BM && N > 0 && N % BN == 0
         && N < INT32_MAX && (M / BM + 1) * (N / BN) < INT32_MAX   /* the tile count, an int */
         && K > 0 && K % BK == 0 && K < INT32_MAX && ldc % 8 == 0
         && ldc < INT32_MAX && (uintptr_t) A % 16 == 0 && (uintptr_t) W % 16 == 0
         && (uintptr_t) C % 16 == 0 && (uintptr_t) bias % 4 == 0;
}

template <int EPI>
static cudaError_t
launch (cudaStream_t stream, dim3 grid, const CUtensorMap &map_a, const CUtensorMap &map_w,
        const CUtensorMap &map_c, const Params &p)
{
  /* the opt-in to more than 48 KiB of shared memory is the current device's: asked each time
   * (data parallel runs one process over several devices) */
  const int smem = Config<EPI>::SMEM_BYTES;
  cudaError_t e = cudaFuncSetAttribute (gemm_kernel<EPI>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess)
    return e;
  gemm_kernel<EPI><<<grid, THREADS, smem, stream>>> (map_a, map_w, map_c, p);
  return cudaGetLastError ();
}

/* launches the product on `stream` over at most `blocks` blocks (the multiprocessors), C
 * with N columns (N / 2 for EPI_GATED) ldc values apart; the shapes as vb_sm90_gemm_fits
 * wants them. 0 on success, else -1 with a message in err */
static inline int
vb_sm90_gemm (cudaStream_t stream, int blocks, Epi epi, bf16 *C, int ldc, const bf16 *A,
              const bf16 *W, const bf16 *bias, int M, int N, int K, char *err, size_t err_len)
{
  const int out_cols = epi == EPI_GATED ? N / 2 : N;
  CUtensorMap map_a, map_w, map_c;
  if (vb_sm90_tensor_map_bf16 (&map_a, A, (uint64_t) M, (uint64_t) K, (uint64_t) K, BM, err,
                               err_len) != 0
      || vb_sm90_tensor_map_bf16 (&map_w, W, (uint64_t) N, (uint64_t) K, (uint64_t) K, BN, err,
                                  err_len) != 0
      || vb_sm90_tensor_map_bf16 (&map_c, C, (uint64_t) M, (uint64_t) out_cols, (uint64_t) ldc,
                                  64, err, err_len) != 0)
    return -1;
  const Params p = { C, bias, M, N, K, ldc };
  const int tiles = (M + BM - 1) / BM * (N / BN);
  const dim3 grid (tiles < blocks ? tiles : blocks);
  cudaError_t e = cudaErrorInvalidValue;
  switch (epi)
    {
    case EPI_BIAS: e = launch<EPI_BIAS> (stream, grid, map_a, map_w, map_c, p); break;
    case EPI_BIAS_ADD: e = launch<EPI_BIAS_ADD> (stream, grid, map_a, map_w, map_c, p); break;
    case EPI_QUICK_GELU: e = launch<EPI_QUICK_GELU> (stream, grid, map_a, map_w, map_c, p); break;
    case EPI_GATED: e = launch<EPI_GATED> (stream, grid, map_a, map_w, map_c, p); break;
    }
  if (e != cudaSuccess)
    {
      snprintf (err, err_len, "the sm_90 product: %s", cudaGetErrorString (e));
      return -1;
    }
  return 0;
}

} /* namespace vb_sm90 */
