/* scan.cu: the selective scan, the SS2D scan that reads its routes through an index map,
 * and the group sum that merges them, fp32, with the semantics of kernels/cpu; the SS2D
 * scan and the group sum also with their K·D-wide per-group tensors (delta, yk, duk,
 * ddelta) stored as bf16: the same kernels, instantiated for that storage type.
 *
 * One thread per (image, group, channel) walks its route with the state in registers
 * (specs/kernels.md §3): a chunk's loads issued together, then its steps, unguarded
 * except in the tail chunk; the forward keeps the state every VB_SCAN_CKPT_STEPS steps,
 * from which the backward recomputes each chunk and walks it back (§4), reducing dB/dC
 * across the block once per chunk. Each step is one straight run of instructions (no
 * branches: the scans are bound by their instruction count, docs/benchmarks.md session
 * 9). VMamba's training path (bf16 storage, one state, whole warps of channels) takes
 * scan_ring.cu's kernels instead, whose inputs a shared-memory ring stages (specs §3): the
 * same step arithmetic (vb-cuda-scan.h), the same bits. bf16 storage reads dy as bf16
 * (the spec's g); not yet from the spec: bf16 storage of (B, C). Every reduction has a
 * fixed order: no atomics, results repeat bit for bit. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "vb-cuda-scan.h"

/* a + b for the group sum's float and float4 rows */
template <typename V>
__device__ __forceinline__ V vadd (V a, V b);
template <>
__device__ __forceinline__ float vadd (float a, float b) { return a + b; }
template <>
__device__ __forceinline__ float4
vadd (float4 a, float4 b)
{
  return make_float4 (a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}

/* A chunk's values of one per-group input, by step: z = delta + bias (softplus's
 * argument; BIAS) or u. fp32 storage: loaded (with the bias added). bf16 storage: the
 * raw values kept two to a register until their step, where they are widened (and the
 * bias added: the same sum). Packed, z and u take eight registers fewer once the loads
 * land: the one-state forward fits 80 registers (six blocks an SM, one wave of stage 2's
 * 96-thread blocks), the one-state backward its 128. */
template <typename T, bool BIAS>
struct ChunkVals
{
  float v[VB_SCAN_CKPT_STEPS];
  __device__ __forceinline__ void
  load (int s, const T *p, float bias)
  {
    v[s] = BIAS ? ld_kd (p) + bias : ld_kd (p);
  }
  __device__ __forceinline__ float
  at (int s, float) const
  {
    return v[s];
  }
};

template <bool BIAS>
struct ChunkVals<__nv_bfloat16, BIAS>
{
  static_assert (VB_SCAN_CKPT_STEPS % 2 == 0, "bf16 pairs");
  unsigned int v[VB_SCAN_CKPT_STEPS / 2];
  /* steps are loaded in order: the odd step's pair already holds the even one */
  __device__ __forceinline__ void
  load (int s, const __nv_bfloat16 *p, float)
  {
    unsigned int raw = __ldg ((const unsigned short *) p);
    v[s / 2] = s % 2 == 0 ? raw : v[s / 2] | raw << 16;
  }
  __device__ __forceinline__ float
  at (int s, float bias) const
  {
    unsigned int w = v[s / 2];
    float x = __uint_as_float (s % 2 == 0 ? w << 16 : w & 0xffff0000u);
    return BIAS ? x + bias : x;
  }
};

/* one chunk's inputs in registers ((B, C) only with one state: sixteen would not fit) */
template <int NT, typename T>
struct ChunkIn
{
  static constexpr int S = VB_SCAN_CKPT_STEPS, PB = NT == 1 ? S : 1;
  ChunkVals<T, false> ut;
  ChunkVals<T, true> zt;
  float Bt[PB], Ct[PB];
  int pt[S];
};

/* the loads of the next `steps` steps from position p, all issued before the chunk's
 * arithmetic (they do not depend on the state). Loading a chunk ahead instead cost more
 * registers than it hid latency (measured: stage 3 forward 0.27 → 0.36 ms). */
template <int NT, bool FULL, typename T>
__device__ __forceinline__ void
load_chunk (ChunkIn<NT, T> &in, const ScanArgs<T> &a, const Bases<T> &o, int steps, int &p,
            int &hrow, float bias)
{
#pragma unroll
  for (int s = 0; s < ChunkIn<NT, T>::S; s++)
    if (FULL || s < steps)
      {
        in.pt[s] = p;
        in.ut.load (s, o.u + p * o.us, 0.0f);
        in.zt.load (s, o.delta + p * o.KD, bias);
        if constexpr (NT == 1)
          {
            in.Bt[s] = __ldg (o.Bs + p * o.KN);
            in.Ct[s] = __ldg (o.Cs + p * o.KN);
          }
        p = pos_next (o.rt, p, hrow);
      }
}

/* NT: the state count the registers are sized for (1, or VB_CUDA_SCAN_MAX_N) */
template <int NT, bool FULL, bool WRITE, typename T>
__device__ __forceinline__ void
forward_chunk (const ChunkIn<NT, T> &in, const ScanArgs<T> &a, const Bases<T> &o, T *y,
               int steps, float (&h)[NT], const float (&A2)[NT], float ds, float bias)
{
#pragma unroll
  for (int s = 0; s < ChunkIn<NT, T>::S; s++)
    if (FULL || s < steps)
      {
        float ut = in.ut.at (s, 0.0f), yt;
        if constexpr (NT == 1)
          yt = one_state_step (h[0], in.zt.at (s, bias), ut, in.Bt[s], in.Ct[s], A2[0], ds);
        else
          {
            float dl = softplus_sel (in.zt.at (s, bias)), ysum = 0.0f;
            const float *Bp = o.Bs + in.pt[s] * o.KN, *Cp = o.Cs + in.pt[s] * o.KN;
            state_step<NT> (h, A2, dl, ut, Bp, a.N);
#pragma unroll
            for (int n = 0; n < NT; n++)
              if (n < a.N)
                ysum = __fmaf_rn (__ldg (Cp + n), h[n], ysum);
            yt = __fmaf_rn (ds, ut, ysum);
          }
        if constexpr (WRITE)
          y[in.pt[s] * o.KD] = to_kd<T> (yt);
      }
}

/* Forward: y (WRITE) and the fp32 state at every chunk start (if hck not NULL). WRITE is
 * a template argument so that the store is not a branch in every step (the backward's
 * recomputing sweep writes no y). Loading the next chunk ahead in registers was tried
 * twice: slower at stage 3 (registers, fewer warps), and no faster at stage 1 where the
 * registers cost no warps (717 against 695 µs): the scan is bound by its instructions. */
template <int NT, bool WRITE, typename T>
__device__ __forceinline__ void
forward_walk (const ScanArgs<T> &a, const Lane &ln, T *y, float *hck)
{
  constexpr int S = VB_SCAN_CKPT_STEPS;
  Bases<T> o = bases_of<T> (a, ln, NULL);
  int64_t c = (int64_t) ln.k * a.D + ln.d;
  float A2[NT], h[NT];
  float ds = a.Dskip != NULL ? a.Dskip[c] : 0.0f, bias = a.dbias != NULL ? a.dbias[c] : 0.0f;
  float *ck = hck != NULL ? ckpt_of (hck, a, ln) : NULL;
  T *yl = WRITE ? opaque (y + o.kd) : NULL;   /* the lane's output at position 0 */
#pragma unroll
  for (int n = 0; n < NT; n++)
    {
      A2[n] = n < a.N ? a_of (a, c, n) * LOG2E : 0.0f;
      h[n] = 0.0f;
    }
  int hrow, p = pos_at (o.rt, 0, hrow);
  int full = a.L / S;
  for (int j = 0; j * S < a.L; j++)
    {
      if (ck != NULL)
#pragma unroll
        for (int n = 0; n < NT; n++)
          if (n < a.N)
            ck[((int64_t) j * a.N + n) * a.D] = h[n];
      ChunkIn<NT, T> in;
      if (j < full)
        {
          load_chunk<NT, true> (in, a, o, S, p, hrow, bias);
          forward_chunk<NT, true, WRITE> (in, a, o, yl, S, h, A2, ds, bias);
        }
      else
        {
          load_chunk<NT, false> (in, a, o, a.L - j * S, p, hrow, bias);
          forward_chunk<NT, false, WRITE> (in, a, o, yl, a.L - j * S, h, A2, ds, bias);
        }
    }
}

/* the minimum-blocks hint keeps the one-state bf16 forward at 80 registers (6 blocks of
 * 128 per SM; one wave of 96-thread blocks at stage 2); the fp32 one, its chunk in whole
 * registers, needs 96 not to spill, and NT = 4 (not VMamba-T's) more still. Lanes past D
 * leave at once: no barriers in the forward. */
template <int NT, bool WRITE, typename T>
static __global__ void __launch_bounds__ (128, NT == 1 ? (sizeof (T) == 2 ? 6 : 5) : 2)
scan_forward_kernel (ScanArgs<T> a, T *y, float *hck)
{
  Lane ln = lane_of (a);
  if (!ln.active)
    return;
  forward_walk<NT, WRITE> (a, ln, y, hck);
}

/* the lane's outputs at the position of a step (out.du, out.ddelta: the lane's, at
 * position 0); one flag a store, set once: each store predicated, not a branch in the step */
template <typename T>
struct GlobalSink
{
  T *du, *ddelta;
  int KD;
  template <int NT>
  __device__ __forceinline__ void
  store (const BackState<NT> &st, int, int p, float dz, float dut) const
  {
    int pk = p * KD;
    if (st.store_ddelta)
      ddelta[pk] = to_kd<T> (dz);
    if (st.store_du)
      du[pk] = to_kd<T> (dut);
  }
};

/* Steps s0 … s0 + sub − 1 of a chunk from the state h0 at step s0: every load first (they
 * do not depend on the state, so they overlap), then backward_math. */
template <int NT, int SUB, bool FULL, typename T>
__device__ __forceinline__ void
backward_steps (const ScanArgs<T> &a, const Lane &ln, const Bases<T> &o, const BackOut<T> &out,
                BackState<NT> &st, const float (&h0)[NT], int p, int hrow, int s0, int sub,
                float (&v)[NT == 1 ? 2 * VB_SCAN_CKPT_STEPS : 1], float *red)
{
  float ut[SUB], dl[SUB], gt[SUB], Bt[SUB][NT], Ct[SUB][NT];
  int pt[SUB];
#pragma unroll
  for (int s = 0; s < SUB; s++)
    if (FULL || s < sub)
      {
        pt[s] = p;
        ut[s] = ld_kd (o.u + p * o.us);
        dl[s] = ld_kd (o.delta + p * o.KD) + st.bias;
        gt[s] = ld_kd (o.dy + p * o.us);   /* an inactive lane's: channel D − 1's */
#pragma unroll
        for (int n = 0; n < NT; n++)
          {
            Bt[s][n] = n < a.N ? __ldg (o.Bs + p * o.KN + n) : 0.0f;
            Ct[s][n] = n < a.N ? __ldg (o.Cs + p * o.KN + n) : 0.0f;
          }
        p = pos_next (o.rt, p, hrow);
      }
  GlobalSink<T> sink = { out.du, out.ddelta, o.KD };
  backward_math<NT, SUB, FULL> (a.N, ln.active, st, h0, s0, sub, v, red, sink, ut, dl, gt, Bt,
                                Ct, pt);
}

/* One chunk of the backward. With N = 1 its states sit in registers; with more states
 * the chunk is taken SUB steps at a time, last first, each catching up from the
 * checkpoint, so that the registers hold. */
template <int NT, bool FULL, typename T>
__device__ __forceinline__ void
backward_chunk (const ScanArgs<T> &a, const Lane &ln, const Bases<T> &o, const BackOut<T> &out,
                BackState<NT> &st, const float *ck, int j, int steps,
                float (&v)[NT == 1 ? 2 * VB_SCAN_CKPT_STEPS : 1], float *red)
{
  constexpr int S = VB_SCAN_CKPT_STEPS, SUB = NT == 1 ? S : 2;
  for (int q = (steps - 1) / SUB; q >= 0; q--)
    {
      int s0 = q * SUB;
      float h[NT];
      int hrow, p = pos_at (o.rt, j * S, hrow);
#pragma unroll
      for (int n = 0; n < NT; n++)
        h[n] = n < a.N ? ck[((int64_t) j * a.N + n) * a.D] : 0.0f;
      for (int s = 0; s < s0; s++)   /* catch up to step s0 (never with N = 1) */
        {
          float u0 = ld_kd (o.u + p * o.us);
          float d0 = softplus_sel (ld_kd (o.delta + p * o.KD) + st.bias);
          state_step<NT> (h, st.A2, d0, u0, o.Bs + p * o.KN, a.N);
          p = pos_next (o.rt, p, hrow);
        }
      backward_steps<NT, SUB, FULL> (a, ln, o, out, st, h, p, hrow, s0,
                                        min (SUB, steps - s0), v, red);
    }
}

/* the direct backward's block reduction: per chunk, each warp's (dB, dC) sums of every step: [warp][(step·NT + n)·2 + {B, C}] */
template <int NT>
struct ScanShared
{
  float red[2][SCAN_MAX_WARPS][2 * VB_SCAN_CKPT_STEPS * NT];
};

/* a thread's place in its block and grid, read once (read in every chunk, they cost the
 * one-state backward registers it does not have) */
struct BlockPlace
{
  int lane, warp, warps, tiles;
};

__device__ __forceinline__ BlockPlace
block_place ()
{
  BlockPlace bp = { (int) threadIdx.x & 31, (int) threadIdx.x >> 5, (int) blockDim.x >> 5,
                    (int) gridDim.x };
  return bp;
}

/* Chunk j's (dB, dC) summed over the block's channels: within each warp (v: N = 1; with
 * more states backward_math left them in the warp's slots), then over the warps in warp
 * order (no atomics: the same sums every run), into dB / dC or this channel tile's slice.
 * A barrier of the whole block. */
template <int NT, typename T>
__device__ __forceinline__ void
chunk_bc_sums (const ScanArgs<T> &a, const Lane &ln, const BackOut<T> &out, ScanShared<NT> &sh,
               const BlockPlace &bp, int j, int steps,
               float (&v)[NT == 1 ? 2 * VB_SCAN_CKPT_STEPS : 1], const Route &rt)
{
  constexpr int S = VB_SCAN_CKPT_STEPS, V = 2 * S * NT;
  int warps = bp.warps, tiles = bp.tiles, t0 = j * S;
  if constexpr (NT == 1)
    {
      reduce_scatter16 (v, bp.lane);
      if (bp.lane < 16)
        sh.red[j & 1][bp.warp][scatter_value (bp.lane)] = v[0];
    }
  __syncthreads ();
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    {
      int s = i / (2 * NT), n = (i >> 1) % NT, which = i & 1;
      if (s >= steps || n >= a.N)
        continue;
      float sum = 0.0f;
      for (int w = 0; w < warps; w++)
        sum += sh.red[j & 1][w][i];
      if (tiles == 1)
        {
          int hh, ps = pos_at (rt, t0 + s, hh);
          int64_t row = ((int64_t) ln.b * a.L + ps) * a.K + ln.k;
          float *dst = which == 0 ? out.dB : out.dC;
          if (dst != NULL)
            dst[row * a.N + n] = sum;
        }
      else   /* by route step: a chunk's sums are contiguous (bc_slot) */
        out.dbc[(bc_slot (a, blockIdx.x, blockIdx.y, gridDim.y, t0 + s) * a.N + n) * 2
                 + which] = sum;
    }
}

/* Backward: chunks last to first, each from its checkpoint (vmamba.md §5.1). */
template <int NT, typename T>
__device__ __forceinline__ void
backward_walk (const ScanArgs<T> &a, const Lane &ln, const BackOut<T> &out,
               ScanShared<NT> &sh)
{
  constexpr int S = VB_SCAN_CKPT_STEPS, V = 2 * S * NT;
  Bases<T> o = bases_of (a, ln, out.dy);
  BlockPlace bp = block_place ();
  int chunks = (a.L + S - 1) / S;
  BackState<NT> st = back_state_of<NT> (a, ln, out);
  /* the per-step outputs through the lane's own pointers (see opaque) */
  BackOut<T> lane_out = out;
  lane_out.du = st.store_du ? opaque (out.du + o.kd) : NULL;
  lane_out.ddelta = st.store_ddelta ? opaque (out.ddelta + o.kd) : NULL;
  const float *ck = ckpt_of ((float *) out.hck, a, ln);

  for (int j = chunks - 1; j >= 0; j--)
    {
      int steps = min (S, a.L - j * S);
      float *red = sh.red[j & 1][bp.warp];
      float v[NT == 1 ? V : 1];
#pragma unroll
      for (int i = 0; i < (NT == 1 ? V : 1); i++)
        v[i] = 0.0f;
      if (steps == S)
        backward_chunk<NT, true> (a, ln, o, lane_out, st, ck, j, S, v, red);
      else
        backward_chunk<NT, false> (a, ln, o, lane_out, st, ck, j, steps, v, red);
      chunk_bc_sums<NT> (a, ln, out, sh, bp, j, steps, v, o.rt);
    }

  param_partials<NT> (a, ln, out, st);
}

/* at most 128 registers for one state: no spills, and 4 blocks an SM instead of 3 at
 * VMamba-T's 162 (the backward is latency-bound: more warps hide more) */
template <int NT, typename T>
static __global__ void __launch_bounds__ (128, NT == 1 ? 4 : 1)
scan_backward_kernel (ScanArgs<T> a, BackOut<T> out)
{
  __shared__ ScanShared<NT> sh;
  Lane ln = lane_of (a);
  backward_walk<NT> (a, ln, out, sh);
}

/* dBs, dCs (written) = Σ over channel tiles of the per-tile sums, in tile order; the sums
 * by route step (bc_slot). A tile's sum comes in per_tile slices (the ring kernels'
 * 32-channel units: scan_ring.cu), added in order first, as the direct kernels add their
 * warps' sums within a block: the same bits. A thread an output element, in the outputs'
 * order (the writes coalesce), its step found by inverting the route: indexed by step,
 * the kernel cost four 64-bit divisions an element and wrote 4 bytes in every 16. */
template <int PER_TILE>   /* per_tile when it is 3 or 4 (the loads unrolled), else 0 */
static __global__ void
scan_reduce_bc_kernel (float *dBs, float *dCs, const float *dbc, int B, int L, int H, int W,
                       int K, int N, int mode, int tiles, int per_tile)
{
  if (PER_TILE > 0)
    per_tile = PER_TILE;
  int64_t total = (int64_t) B * K * L * N;   /* a slice's (dB, dC) pairs, and the outputs */
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      /* i = ((b·L + p)·K + k)·N + n */
      int kn, p;
      int b = (int) vb_div_index (vb_div_index (i, K * N, &kn), L, &p);
      int k = kn / N, n = kn - k * N, r = p / W, t = step_at (mode, k, H, W, r, p - r * W);
      const float2 *pair = (const float2 *) dbc + ((int64_t) (b * K + k) * L + t) * N + n;
      float sB = 0.0f, sC = 0.0f;
      for (int tile = 0; tile < tiles; tile++)
        {
          float tB = 0.0f, tC = 0.0f;
#pragma unroll
          for (int w = 0; w < (PER_TILE > 0 ? PER_TILE : per_tile); w++, pair += total)
            {
              float2 bc = *pair;
              tB += bc.x;
              tC += bc.y;
            }
          sB += tB;
          sC += tC;
        }
      if (dBs != NULL)
        dBs[i] = sB;
      if (dCs != NULL)
        dCs[i] = sC;
    }
}

static int
check_state_count (VbCuda *cu, int N)
{
  if (N >= 1 && N <= VB_CUDA_SCAN_MAX_N)
    return 1;
  snprintf (cu->error, sizeof cu->error,
            "selective scan: d_state %d is not supported on the GPU (1 to %d)", N,
            VB_CUDA_SCAN_MAX_N);
  return 0;
}

static size_t
round_up4 (size_t n)
{
  return (n + 3) / 4 * 4;
}

/* channels per block: 128, 96, 64 or 32, whichever leaves the fewest idle threads in the
 * last tile (D = 96 → 96, 192 → 96, 384 → 128) */
static int
channels_per_block (int D)
{
  int best = 128, idle = 1 << 30;
  for (int ct = 128; ct >= 32; ct -= 32)
    {
      int waste = (D + ct - 1) / ct * ct - D;
      if (waste < idle)
        {
          best = ct;
          idle = waste;
        }
    }
  return best;
}

template <typename T>
static ScanArgs<T>
scan_args (const T *u, const T *delta, const float *A, const float *Bs, const float *Cs,
           const float *Dskip, const float *dbias, int L, int H, int W, int K, int D, int N,
           VbScanMode mode, int ss2d)
{
  /* the SS2D ops: one u shared by the groups, A as its logs */
  ScanArgs<T> a = { u, delta, A, Bs, Cs, Dskip, dbias, L, H, W, K, D, N, (int) mode,
                 ss2d ? D : (int64_t) K * D, ss2d ? 0 : D, ss2d };
  return a;
}

/* the kernels index within an image in 32 bits */
template <typename T>
static int
offsets_fit (VbCuda *cu, const ScanArgs<T> &a)
{
  int64_t widest = (int64_t) a.K * (a.D > a.N ? a.D : a.N);
  if (a.u_stride > widest)
    widest = a.u_stride;
  if ((int64_t) a.L * widest < INT32_MAX)
    return 1;
  snprintf (cu->error, sizeof cu->error,
            "selective scan: a %d-token sequence of %" PRId64 " channels is too large for the GPU",
            a.L, widest);
  return 0;
}

/* the one-state bf16 scans' ring kernels (scan_ring.cu) where they fit: true when queued */
template <typename T>
static bool
ring_forward (VbCuda *cu, const ScanArgs<T> &a, int B, T *y, float *hck, int ct)
{
  if constexpr (sizeof (T) == 2)
    {
      const void *bufs[] = { y, hck };
      if (vb_scan_ring_fits (cu, a, ct, bufs, 2))
        {
          vb_scan_ring_forward (cu, a, B, y, hck);
          return true;
        }
    }
  return false;
}

template <typename T>
static bool
ring_backward_fits (VbCuda *cu, const ScanArgs<T> &a, int ct, const T *du, const T *ddelta,
                    const T *dy, const float *hck)
{
  if constexpr (sizeof (T) == 2)
    {
      /* the ring's stores are predicated, not branches: both outputs asked for */
      const void *bufs[] = { du, ddelta, dy, hck };
      return du != NULL && ddelta != NULL && vb_scan_ring_fits (cu, a, ct, bufs, 4);
    }
  return false;
}

template <typename T>
static void
ring_backward (VbCuda *cu, const ScanArgs<T> &a, int B, const BackOut<T> &out)
{
  if constexpr (sizeof (T) == 2)
    vb_scan_ring_backward (cu, a, B, out);
}

template <typename T>
static void
launch_forward (VbCuda *cu, const ScanArgs<T> &a, int B, T *y, float *hck)
{
  if (!offsets_fit (cu, a))
    return;
  int ct = channels_per_block (a.D);
  dim3 grid ((a.D + ct - 1) / ct, B * a.K);
  if (ring_forward (cu, a, B, y, hck, ct))
    ;
  else if (a.N == 1 && y != NULL)
    scan_forward_kernel<1, true, T><<<grid, ct, 0, cu->stream>>> (a, y, hck);
  else if (a.N == 1)
    scan_forward_kernel<1, false, T><<<grid, ct, 0, cu->stream>>> (a, y, hck);
  else if (y != NULL)
    scan_forward_kernel<VB_CUDA_SCAN_MAX_N, true, T><<<grid, ct, 0, cu->stream>>> (a, y, hck);
  else
    scan_forward_kernel<VB_CUDA_SCAN_MAX_N, false, T><<<grid, ct, 0, cu->stream>>> (a, y, hck);
  VB_CUDA_LAUNCHED (cu, "selective scan forward");
}

template <typename T>
static void
launch_backward (VbCuda *cu, const ScanArgs<T> &a, int B, T *du, T *ddelta, float *dA,
                 float *dBs, float *dCs, float *dDskip, float *ddbias, const T *dy,
                 const float *hck)
{
  if (!offsets_fit (cu, a))
    return;
  int ct = channels_per_block (a.D), tiles = (a.D + ct - 1) / ct;
  int chunks = (a.L + VB_SCAN_CKPT_STEPS - 1) / VB_SCAN_CKPT_STEPS;
  int64_t rows = (int64_t) B * a.L * a.K, KD = (int64_t) a.K * a.D;
  /* (dB, dC) partial sums by channel tile, or with the ring kernels by 32 channels (no
   * block barrier there), summed tile by tile below */
  bool ring = ring_backward_fits (cu, a, ct, du, ddelta, dy, hck);
  int per_tile = ring ? ct / 32 : 1, slices = tiles * per_tile;
  /* each part of the scratch a multiple of 16 bytes: the ring copies checkpoints by 16 */
  size_t n_bc = slices > 1 ? round_up4 ((size_t) slices * rows * 2 * a.N) : 0;
  size_t n_p = (size_t) B * KD * (a.N + 2);
  size_t n_ck = hck == NULL ? (size_t) B * a.K * chunks * a.N * a.D : 0;
  /* the parameters' partials where the context queues their sums, else in the scratch */
  float *part_p = vb_cuda_param_partials_queued (cu, n_p);
  size_t own_p = part_p == NULL ? round_up4 (n_p) : 0;
  float *dbc = (float *) vb_cuda_scratch (cu, (n_bc + own_p + n_ck) * sizeof (float));
  if (dbc == NULL)
    return;
  if (part_p == NULL)
    part_p = dbc + n_bc;
  if (hck == NULL)
    {
      /* no checkpoints from the forward: a forward sweep writes them */
      float *ck = dbc + n_bc + own_p;
      launch_forward<T> (cu, a, B, NULL, ck);
      hck = ck;
    }
  BackOut<T> out = { du, ddelta, dbc, dBs, dCs, part_p, dy, hck };
  dim3 grid (tiles, B * a.K);
  if (ring)
    ring_backward (cu, a, B, out);
  else if (a.N == 1)
    scan_backward_kernel<1, T><<<grid, ct, 0, cu->stream>>> (a, out);
  else
    scan_backward_kernel<VB_CUDA_SCAN_MAX_N, T><<<grid, ct, 0, cu->stream>>> (a, out);
  if (!VB_CUDA_LAUNCHED (cu, "selective scan backward"))
    return;
  if (slices > 1)
    {
      unsigned int blocks = vb_cuda_blocks (rows * a.N, 128);
      if (per_tile == 3)
        scan_reduce_bc_kernel<3><<<blocks, 128, 0, cu->stream>>> (
          dBs, dCs, dbc, B, a.L, a.H, a.W, a.K, a.N, a.mode, tiles, per_tile);
      else if (per_tile == 4)
        scan_reduce_bc_kernel<4><<<blocks, 128, 0, cu->stream>>> (
          dBs, dCs, dbc, B, a.L, a.H, a.W, a.K, a.N, a.mode, tiles, per_tile);
      else
        scan_reduce_bc_kernel<0><<<blocks, 128, 0, cu->stream>>> (
          dBs, dCs, dbc, B, a.L, a.H, a.W, a.K, a.N, a.mode, tiles, per_tile);
      if (!VB_CUDA_LAUNCHED (cu, "selective scan backward (dB, dC)"))
        return;
    }
  /* dA (or dA_logs), dDskip, ddbias += Σ_b the images' partials: N, 1 and 1 of every
   * N + 2 values of a channel's */
  int V = a.N + 2;
  const VbParamMap states = { a.N, V, 0 }, one = { 1, V, 0 };
  vb_cuda_param_sum_map (cu, dA, part_p, KD * V, (int) KD * a.N, B, states);
  vb_cuda_param_sum_map (cu, dDskip, part_p + a.N, KD * V, (int) KD, B, one);
  vb_cuda_param_sum_map (cu, ddbias, part_p + a.N + 1, KD * V, (int) KD, B, one);
}

extern "C" void
vb_cuda_selective_scan_forward (VbCuda *cu, float *y,
                                const float *u, const float *delta, const float *A,
                                const float *Bs, const float *Cs,
                                const float *Dskip, const float *dbias,
                                int B, int L, int K, int D, int N)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_forward (cu, scan_args (u, delta, A, Bs, Cs, Dskip, dbias, L, 1, L, K, D, N,
                                 VB_SCAN_1DIR, 0), B, y, NULL);
}

extern "C" void
vb_cuda_selective_scan_backward (VbCuda *cu, float *du, float *ddelta, float *dA,
                                 float *dBs, float *dCs, float *dDskip, float *ddbias,
                                 const float *dy,
                                 const float *u, const float *delta, const float *A,
                                 const float *Bs, const float *Cs,
                                 const float *Dskip, const float *dbias,
                                 int B, int L, int K, int D, int N)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_backward (cu, scan_args (u, delta, A, Bs, Cs, Dskip, dbias, L, 1, L, K, D, N,
                                  VB_SCAN_1DIR, 0), B, du, ddelta, dA, dBs, dCs, dDskip,
                   ddbias, dy, NULL);
}

extern "C" void
vb_cuda_ss2d_scan_forward (VbCuda *cu, float *yk, float *hck, const float *u,
                           const float *delta, const float *A_logs, const float *Bs,
                           const float *Cs, const float *Dskip, const float *dbias, int B,
                           int H, int W, int K, int D, int N, VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_forward (cu, scan_args (u, delta, A_logs, Bs, Cs, Dskip, dbias, H * W, H, W, K, D,
                                 N, mode, 1), B, yk, hck);
}

extern "C" void
vb_cuda_ss2d_scan_backward (VbCuda *cu, float *duk, float *ddelta, float *dA_logs, float *dBs,
                            float *dCs, float *dDskip, float *ddbias, const float *dy,
                            const float *hck, const float *u, const float *delta,
                            const float *A_logs, const float *Bs, const float *Cs,
                            const float *Dskip, const float *dbias, int B, int H, int W,
                            int K, int D, int N, VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_backward (cu, scan_args (u, delta, A_logs, Bs, Cs, Dskip, dbias, H * W, H, W, K, D,
                                  N, mode, 1), B, duk, ddelta, dA_logs, dBs, dCs, dDskip, ddbias,
                   dy, hck);
}

extern "C" void
vb_cuda_ss2d_scan_forward_bf16 (VbCuda *cu, VbBf16 *yk, float *hck, const VbBf16 *u,
                                const VbBf16 *delta, const float *A_logs, const float *Bs,
                                const float *Cs, const float *Dskip, const float *dbias, int B,
                                int H, int W, int K, int D, int N, VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_forward (cu, scan_args ((const __nv_bfloat16 *) u, (const __nv_bfloat16 *) delta,
                                 A_logs, Bs, Cs, Dskip, dbias, H * W, H, W, K, D, N, mode, 1), B,
                  (__nv_bfloat16 *) yk, hck);
}

extern "C" void
vb_cuda_ss2d_scan_backward_bf16 (VbCuda *cu, VbBf16 *duk, VbBf16 *ddelta, float *dA_logs,
                                 float *dBs, float *dCs, float *dDskip, float *ddbias,
                                 const VbBf16 *dy, const float *hck, const VbBf16 *u,
                                 const VbBf16 *delta, const float *A_logs, const float *Bs,
                                 const float *Cs, const float *Dskip, const float *dbias, int B,
                                 int H, int W, int K, int D, int N, VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  launch_backward (cu, scan_args ((const __nv_bfloat16 *) u, (const __nv_bfloat16 *) delta,
                                  A_logs, Bs, Cs, Dskip, dbias, H * W, H, W, K, D, N, mode, 1), B,
                   (__nv_bfloat16 *) duk,
                   (__nv_bfloat16 *) ddelta, dA_logs, dBs, dCs, dDskip, ddbias,
                   (const __nv_bfloat16 *) dy, hck);
}

/* ---- group sum: out (rows, D) (+)= Σ_k in (rows, K, D) ------------------------------------ */

/* an input element (I) as the fp32 value (V) the sum adds: fp32 as it is, bf16 widened
 * exactly (four of them from one 8-byte load, in memory order) */
__device__ __forceinline__ float widen (float x) { return x; }
__device__ __forceinline__ float4 widen (float4 x) { return x; }
__device__ __forceinline__ float widen (__nv_bfloat16 x) { return __bfloat162float (x); }
__device__ __forceinline__ float4
widen (uint2 x)
{
  return make_float4 (__uint_as_float (x.x << 16), __uint_as_float (x.x & 0xffff0000u),
                      __uint_as_float (x.y << 16), __uint_as_float (x.y & 0xffff0000u));
}

template <typename V, typename I>
static __global__ void
group_sum_kernel (V *out, const I *in, int64_t rows, int K, int Dv, int accumulate)
{
  int64_t total = rows * Dv;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      int d;
      int64_t r = vb_div_index (i, Dv, &d);
      const I *x = in + r * K * Dv + d;
      /* groups added in order k = 0…K−1 after the old value, as on the CPU */
      V acc = accumulate ? vadd (out[i], widen (x[0])) : widen (x[0]);
      for (int k = 1; k < K; k++)
        acc = vadd (acc, widen (x[(int64_t) k * Dv]));
      out[i] = acc;
    }
}

extern "C" void
vb_cuda_group_sum (VbCuda *cu, float *out, const float *in, int64_t rows, int K, int D,
                   int accumulate)
{
  VB_CUDA_GUARD (cu);
  if (rows <= 0 || D <= 0 || K <= 0)
    return;
  if (D % 4 == 0)
    group_sum_kernel<float4><<<vb_cuda_blocks (rows * D / 4, 256), 256, 0, cu->stream>>> (
      (float4 *) out, (const float4 *) in, rows, K, D / 4, accumulate);
  else
    group_sum_kernel<float><<<vb_cuda_blocks (rows * D, 256), 256, 0, cu->stream>>> (
      out, in, rows, K, D, accumulate);
  VB_CUDA_LAUNCHED (cu, "group sum");
}

extern "C" void
vb_cuda_group_sum_bf16 (VbCuda *cu, float *out, const VbBf16 *in, int64_t rows, int K, int D,
                        int accumulate)
{
  VB_CUDA_GUARD (cu);
  if (rows <= 0 || D <= 0 || K <= 0)
    return;
  /* four channels a thread (8-byte loads, 16-byte stores) where rows keep that alignment */
  if (D % 4 == 0 && (uintptr_t) out % 16 == 0 && (uintptr_t) in % 8 == 0)
    group_sum_kernel<float4><<<vb_cuda_blocks (rows * D / 4, 256), 256, 0, cu->stream>>> (
      (float4 *) out, (const uint2 *) in, rows, K, D / 4, accumulate);
  else
    group_sum_kernel<float><<<vb_cuda_blocks (rows * D, 256), 256, 0, cu->stream>>> (
      out, (const __nv_bfloat16 *) in, rows, K, D, accumulate);
  VB_CUDA_LAUNCHED (cu, "group sum (bf16)");
}
