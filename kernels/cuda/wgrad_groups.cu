/* wgrad_groups.cu: the weight gradients of a grouped bf16 product with narrow inputs —
 * VMamba's Δ projection, dWₖᵀ (R × D) += dt_lowₖᵀ·dtsₖ over the batch's rows for each
 * group k, R ≤ 48 — in one launch for all groups, as partials queued for the parameter
 * sums (param_sums.cu).
 *
 * cuBLAS ran each group's product split over the rows with a reduction kernel of its own:
 * eight launches a block and ~110 µs for stage 1 at 128 px (ncu, base clocks), where
 * reading dts once takes ~35. Here a block takes a chunk of rows of one group and 128
 * output channels, both operands staged in shared memory 64 rows at a time, the products
 * on the tensor cores. Partials per (chunk, group, channel, input) in a fixed order: runs
 * repeat bit for bit. */
#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-async.h"   /* cp.async */
#include "vb-cuda-mma.h"     /* ldmatrix, mma.sync */
#include "vb-cuda-private.h"

#define WG_THREADS 128     /* output channels a block */
#define WG_SUB 64          /* rows staged at a time */
#define WG_MIN_BLOCKS 1056 /* eight blocks an SM of the H200 */
/* the partials' bytes at most (the queue's limit: more would be summed at once) */
#define WG_MAX_PARTIALS ((size_t) 16 << 20)

/* shared-memory rows padded by 8 values: 16-byte pieces an odd number apart, so that
 * ldmatrix's eight row addresses fall in different banks */
#define WG_PAD 8

/* part[chunk][g][o][i] = Σ over the chunk's rows r of in[r][g][i]·dout[r][g][o], i < IT
 * (= in_f, a multiple of 8): per WG_SUB rows a product (IT × WG_SUB)·(WG_SUB × 128) on the
 * bf16 tensor cores (mma.sync m16n8k16, fp32 accumulators; IT rounded up to 16 with zero
 * columns), each warp 32 of the block's 128 channels. Both operands go through shared memory
 * by 16-byte asynchronous copies into two buffers: the next rows land while these are
 * summed. (fp32 FMAs a thread and channel were bound by their instructions: 44 µs a
 * stage-3 launch at 128 px.) */
template <int IT>
static __global__ void __launch_bounds__ (WG_THREADS)
wgrad_groups_kernel (float *__restrict__ part, const __nv_bfloat16 *__restrict__ in,
                     int64_t ld_in, int64_t in_gs, const __nv_bfloat16 *__restrict__ dout,
                     int64_t ld_dout, int64_t dout_gs, int64_t n, int out_f, int rows)
{
  static_assert (IT % 8 == 0 && WG_THREADS == 128 && WG_SUB % 16 == 0, "tiles");
  constexpr int MT = (IT + 15) / 16;                     /* m16 tiles of i */
  constexpr int XLD = MT * 16 + WG_PAD, DLD = WG_THREADS + WG_PAD;
  constexpr int XV = IT / 8, DV = WG_THREADS / 8;        /* 16-byte pieces a staged row */
  __shared__ __align__ (16) __nv_bfloat16 xs[2][WG_SUB][XLD];
  __shared__ __align__ (16) __nv_bfloat16 ds[2][WG_SUB][DLD];
  const int g = blockIdx.y, o0 = blockIdx.z * WG_THREADS;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t r0 = (int64_t) blockIdx.x * rows, r1 = min (n, r0 + rows);
  const __nv_bfloat16 *xg = in + g * in_gs, *dg = dout + g * dout_gs + o0;

  /* the i columns past IT of the last m tile stay zero: never copied into */
  if constexpr (MT * 16 > IT)
    for (int e = threadIdx.x; e < 2 * WG_SUB; e += WG_THREADS)
      *reinterpret_cast<uint4 *> (&xs[e / WG_SUB][e % WG_SUB][IT]) = make_uint4 (0, 0, 0, 0);

  /* rows s0… into buffer b; rows past the chunk and channels past out_f land as zeros */
  auto stage = [&] (int b, int64_t s0) {
    int sub = (int) min ((int64_t) WG_SUB, r1 - s0);
    for (int e = threadIdx.x; e < WG_SUB * XV; e += WG_THREADS)
      {
        int r = e / XV, v = e % XV;
        bool ok = r < sub;
        cp_async16 (shared_addr (&xs[b][r][v * 8]), ok ? xg + (s0 + r) * ld_in + v * 8 : xg, ok);
      }
    for (int e = threadIdx.x; e < WG_SUB * DV; e += WG_THREADS)
      {
        int r = e / DV, v = e % DV;
        bool ok = r < sub && o0 + v * 8 < out_f;
        cp_async16 (shared_addr (&ds[b][r][v * 8]),
                    ok ? dg + (s0 + r) * ld_dout + v * 8 : dg, ok);
      }
    cp_async_commit ();
  };

  float acc[MT][4][4];
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
      acc[mt][nt][0] = acc[mt][nt][1] = acc[mt][nt][2] = acc[mt][nt][3] = 0.0f;
  /* ldmatrix rows of this lane (matrix lane / 8, its row lane % 8): A = xᵀ through the
   * transposing load (stored [row][i]: k = row, m = i), B = dout likewise ([row][o]) */
  const int j = lane / 8, lr = lane % 8;
  const int a_row = (j / 2) * 8 + lr, a_col = (j % 2) * 8;          /* k, m of the A pieces */
  const int b_row = (j % 2) * 8 + lr, b_col = warp * 32 + (j / 2) * 8;   /* k, n of B */

  stage (0, r0);
  int b = 0;
  for (int64_t s0 = r0; s0 < r1; s0 += WG_SUB, b ^= 1)
    {
      if (s0 + WG_SUB < r1)
        {
          stage (b ^ 1, s0 + WG_SUB);   /* its buffer's last readers passed the barrier below */
          cp_async_wait<1> ();
        }
      else
        cp_async_wait<0> ();
      __syncthreads ();
      /* zero rows past the chunk add +0: every staged row is summed */
#pragma unroll
      for (int kk = 0; kk < WG_SUB / 16; kk++)
        {
          uint32_t af[MT][4], bf[2][4];
#pragma unroll
          for (int mt = 0; mt < MT; mt++)
            ldmatrix_x4_trans (af[mt], shared_addr (&xs[b][kk * 16 + a_row][mt * 16 + a_col]));
#pragma unroll
          for (int h = 0; h < 2; h++)
            ldmatrix_x4_trans (bf[h], shared_addr (&ds[b][kk * 16 + b_row][b_col + h * 16]));
#pragma unroll
          for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
              mma_bf16 (acc[mt][nt], af[mt], bf[nt / 2][(nt % 2) * 2],
                        bf[nt / 2][(nt % 2) * 2 + 1]);
        }
      __syncthreads ();   /* this buffer is free for the stage after next */
    }
  /* accumulator (mt, nt): i = 16·mt + lane / 4 (+ 8 for c2, c3), o = 8·nt + 2·(lane % 4)
   * (+ 1 for c1, c3) within the warp's 32 channels */
  float *p = part + ((int64_t) blockIdx.x * gridDim.y + g) * out_f * IT;
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
      for (int c = 0; c < 4; c++)
        {
          int i = mt * 16 + lane / 4 + (c / 2) * 8;
          int o = o0 + warp * 32 + nt * 8 + 2 * (lane % 4) + c % 2;
          if (i < IT && o < out_f)
            p[(int64_t) o * IT + i] = acc[mt][nt][c];
        }
}

template <int IT>
static void
launch (VbCuda *cu, float *part, const VbBf16 *in, int64_t ld_in, int64_t in_gs,
        const VbBf16 *dout, int64_t ld_dout, int64_t dout_gs, int groups, int64_t n, int out_f,
        int64_t chunks, int rows)
{
  dim3 grid ((unsigned int) chunks, (unsigned int) groups,
             (unsigned int) ((out_f + WG_THREADS - 1) / WG_THREADS));
  wgrad_groups_kernel<IT><<<grid, WG_THREADS, 0, cu->stream>>> (
      part, reinterpret_cast<const __nv_bfloat16 *> (in), ld_in, in_gs,
      reinterpret_cast<const __nv_bfloat16 *> (dout), ld_dout, dout_gs, n, out_f, rows);
}

extern "C" int
vb_cuda_wgrad_groups (VbCuda *cu, float *dw, int64_t w_gstride, const VbBf16 *in,
                      int64_t ld_in, int64_t in_gstride, const VbBf16 *dout, int64_t ld_dout,
                      int64_t dout_gstride, int groups, int64_t n, int in_f, int out_f)
{
  /* the widths instantiated (VMamba-T's Δ ranks padded: 8, 16, 24, 48; two buffers of
   * 64 rows fit the 48 KiB of static shared memory up to 48), 16-byte rows of
   * both operands, and the groups' gradients one after another (one queued sum for all) */
  bool width_ok = in_f == 8 || in_f == 16 || in_f == 24 || in_f == 32 || in_f == 48;
  if (!width_ok || groups <= 0 || n <= 0 || out_f <= 0 || out_f % 8 != 0 || ld_in % 8 != 0
      || in_gstride % 8 != 0 || ld_dout % 8 != 0 || dout_gstride % 8 != 0
      || (uintptr_t) in % 16 != 0 || (uintptr_t) dout % 16 != 0
      || w_gstride != (int64_t) out_f * in_f)
    return 0;
  size_t cells = (size_t) groups * out_f * in_f;
  int col_blocks = groups * ((out_f + WG_THREADS - 1) / WG_THREADS);
  int rows = vb_cuda_chunk_rows (n, col_blocks, 4096, WG_SUB, WG_MIN_BLOCKS);
  while ((size_t) ((n + rows - 1) / rows) * cells * sizeof (float) > WG_MAX_PARTIALS)
    rows *= 2;
  int64_t chunks = (n + rows - 1) / rows;
  /* only where the sum is queued (at once, cuBLAS is as good) */
  float *part = vb_cuda_param_partials_queued (cu, chunks * cells);
  if (part == NULL)
    return 0;
  decltype (&launch<8>) run = in_f == 8    ? launch<8>
                              : in_f == 16 ? launch<16>
                              : in_f == 24 ? launch<24>
                              : in_f == 32 ? launch<32>
                                           : launch<48>;
  run (cu, part, in, ld_in, in_gstride, dout, ld_dout, dout_gstride, groups, n, out_f, chunks,
       rows);
  if (!VB_CUDA_LAUNCHED (cu, "grouped linear backward (bf16, narrow weights)"))
    return 1;
  /* dw[g][o][i] += Σ_chunk part[chunk][g][o][i] */
  vb_cuda_param_sum (cu, dw, part, (int64_t) cells, (int) cells, (int) chunks);
  return 1;
}
