/* scan_ring.cu: the one-state SS2D scan with bf16 storage (VMamba's training path) fed by a
 * shared-memory ring (specs/kernels.md §3–4). scan.cu's kernels load each step's u, Δ, dy,
 * B and C with a thread's own loads: one load and its address arithmetic per value and
 * step, and each chunk's loads waited for right before its arithmetic — at stage 1 (2.9
 * warps a scheduler) half the issue slots went unused waiting for them (ncu, session 14).
 * Here each warp owns its 32 channels' ring: a chunk's rows are fetched by the warp's lanes
 * together, 16 bytes a copy (cp.async), STAGES − 1 chunks ahead of the arithmetic, which
 * reads them from shared memory at fixed offsets; the outputs (y; du and dz) are staged a
 * chunk at a time and written 16 bytes a lane by position. The routes are the same
 * arithmetic (a lane computes the position of one step of the chunk it fetches), the
 * arithmetic of every step is the same functions as scan.cu's (vb-cuda-scan.h): the same
 * bits. Taken where the shapes fit (vb_scan_ring_fits); VB_SCAN_NO_RING=1 turns it off. */
#include "vb-cuda-scan.h"
#include "vb-cuda-async.h"
#include "vb-cuda-mma.h"   /* pack_bf16x2 */

namespace
{

typedef __nv_bfloat16 bf16;
constexpr int S = VB_SCAN_CKPT_STEPS;
constexpr unsigned FULL_MASK = 0xffffffffu;
/* chunks in flight: the forward's arithmetic is short, so it looks further ahead; the
 * backward's stages are twice the size and its blocks fewer a multiprocessor */
constexpr int FWD_STAGES = 4, BACK_STAGES = 3;

static_assert (S == 8, "a chunk's rows: 8 steps × 32 channels, a 16-byte copy a lane");

/* one chunk of a warp's forward inputs: u and Δ's input for its 32 channels, B and C of
 * its group, and the steps' positions (for the outputs) */
struct __align__ (16) FwdStage
{
  bf16 u[S][32], z[S][32];
  float2 bc[S];           /* (B, C) of each step: one 8-byte load */
  int pos[S];
};

/* the outputs are staged in fp32 and rounded as they leave (store_rows): a bf16 store into
 * shared memory took a conversion, a byte shuffle and the store a step */
struct FwdRing
{
  FwdStage st[FWD_STAGES];
  __align__ (16) float y[S][32];
};

/* the backward's: plus dy and the state at the chunk's start (the checkpoint) */
struct __align__ (16) BackStage
{
  bf16 u[S][32], z[S][32];
  float g[S][32];
  float h0[32];
  float2 bc[S];
  int pos[S];
};

struct BackRing
{
  BackStage st[BACK_STAGES];
  __align__ (16) float du[S][32], dz[S][32];
};

/* A lane's share of every chunk's copies, fixed for the kernel: its sources at position 0
 * and their row strides in bytes (an address is then one 32 × 32 → 64-bit multiply-add:
 * the signed 32-bit offsets before took five instructions an address, a third of the
 * backward's per-chunk work), and its steps. Lane l copies 16 bytes (part l & 3) of u's and
 * Δ's rows of step l >> 2; lanes 0–7 (8–15) B (C) of step l & 7; in the backward dy's rows
 * l >> 3 and 4 + (l >> 3) (part l & 7), and lanes 16–23 a quarter of the checkpoint. */
struct LanePlan
{
  const char *u, *z, *bc, *g, *ck;
  uint32_t u_row, z_row, bc_row, g_row, ck_row;   /* ck_row: bytes a chunk */
  int su, sg, s8, part, gpart, lane, L;
  Route rt;
};

__device__ __forceinline__ const char *
at_row (const char *base, int pos, uint32_t row_bytes)
{
  return base + (uint64_t) (uint32_t) pos * row_bytes;
}

__device__ __forceinline__ LanePlan
lane_plan_of (const ScanArgs<bf16> &a, const Lane &ln, const float *dy, const float *hck)
{
  LanePlan lp;
  int d0 = ln.d & ~31, KD = a.K * a.D;
  lp.lane = threadIdx.x & 31;
  lp.su = lp.lane >> 2;
  lp.sg = lp.lane >> 3;
  lp.s8 = lp.lane & 7;
  lp.part = (lp.lane & 3) * 8;
  lp.gpart = (lp.lane & 7) * 4;
  lp.L = a.L;
  int64_t u0 = (int64_t) ln.b * a.L * a.u_stride + (int64_t) ln.k * a.u_group + d0;
  lp.u = (const char *) (a.u + u0 + lp.part);
  lp.z = (const char *) (a.delta + (int64_t) ln.b * a.L * KD + (int64_t) ln.k * a.D + d0
                         + lp.part);
  int64_t bc0 = ((int64_t) ln.b * a.L * a.K + ln.k) * a.N;
  lp.bc = (const char *) (lp.lane < 8 ? a.Bs + bc0 : a.Cs + bc0);
  lp.g = dy != NULL ? (const char *) (dy + u0 + lp.gpart) : NULL;
  int chunks = (a.L + S - 1) / S;
  lp.ck = hck != NULL ? (const char *) (hck + ((int64_t) ln.b * a.K + ln.k) * chunks * a.D + d0
                                        + (lp.lane & 7) * 4)
                      : NULL;
  lp.u_row = (uint32_t) a.u_stride * 2;
  lp.z_row = (uint32_t) KD * 2;
  lp.bc_row = (uint32_t) (a.K * a.N) * 4;
  lp.g_row = (uint32_t) a.u_stride * 4;
  lp.ck_row = (uint32_t) a.D * 4;
  lp.rt = route_for (a.mode, ln.k, a.H, a.W);
  return lp;
}

/* Where a lane's next fetch reads: the position of step t = 8·j + (lane & 7) of the chunk
 * j it fetches next, and t mod n (the route's run). Fetches go chunk by chunk, forward or
 * backward, so the position steps by 8 without a division (a division a lane and chunk
 * was a fifth of the backward's per-chunk overhead): route_for's arithmetic, 8 steps at a
 * time. Steps past the sequence's end get positions nobody reads. */
struct RouteWalk
{
  int p, h;
};

__device__ __forceinline__ RouteWalk
route_walk_at (const Route &rt, int j, int lane)
{
  RouteWalk rw;
  rw.p = pos_at (rt, j * S + (lane & 7), rw.h);
  return rw;
}

__device__ __forceinline__ void
route_walk_next (const Route &rt, RouteWalk &rw)
{
  rw.p += S * rt.d1;
  rw.h += S;
  while (rw.h >= rt.n)
    {
      rw.h -= rt.n;
      rw.p += rt.d2;
    }
}

__device__ __forceinline__ void
route_walk_prev (const Route &rt, RouteWalk &rw)
{
  rw.p -= S * rt.d1;
  rw.h -= S;
  while (rw.h < 0)
    {
      rw.h += rt.n;
      rw.p -= rt.d2;
    }
}

/* The copies of a chunk common to both directions (LanePlan), and the positions recorded.
 * p8: the position of the lane's step l & 7 (RouteWalk); the u and Δ lanes take theirs by
 * a shuffle. FULL: every step there (all chunks but one), no guards. */
template <bool FULL, typename Stage>
__device__ __forceinline__ void
fetch_common (const LanePlan &lp, Stage &st, int p8, int steps)
{
  int pu = __shfl_sync (FULL_MASK, p8, lp.su);
  if (FULL || lp.su < steps)
    {
      cp_async16 (shared_addr (&st.u[lp.su][lp.part]), at_row (lp.u, pu, lp.u_row), true);
      cp_async16 (shared_addr (&st.z[lp.su][lp.part]), at_row (lp.z, pu, lp.z_row), true);
    }
  if ((FULL || lp.s8 < steps) && lp.lane < 16)
    {
      float2 &bc = st.bc[lp.s8];
      cp_async4 (shared_addr (lp.lane < 8 ? &bc.x : &bc.y), at_row (lp.bc, p8, lp.bc_row));
      if (lp.lane < 8)
        st.pos[lp.s8] = p8;
    }
}

/* chunk j, whose step positions rw holds; rw moves on to chunk j + 1 */
__device__ __forceinline__ void
fetch_forward (const LanePlan &lp, FwdStage &st, int j, RouteWalk &rw)
{
  int steps = min (S, lp.L - j * S);
  if (steps == S)
    fetch_common<true> (lp, st, rw.p, S);
  else
    fetch_common<false> (lp, st, rw.p, steps);
  route_walk_next (lp.rt, rw);
}

template <bool FULL>
__device__ __forceinline__ void
fetch_backward_steps (const LanePlan &lp, BackStage &st, int j, int p8, int steps)
{
  fetch_common<FULL> (lp, st, p8, steps);
  int p0 = __shfl_sync (FULL_MASK, p8, lp.sg), p1 = __shfl_sync (FULL_MASK, p8, lp.sg + 4);
  if (FULL || lp.sg < steps)
    cp_async16 (shared_addr (&st.g[lp.sg][lp.gpart]), at_row (lp.g, p0, lp.g_row), true);
  if (FULL || lp.sg + 4 < steps)
    cp_async16 (shared_addr (&st.g[lp.sg + 4][lp.gpart]), at_row (lp.g, p1, lp.g_row), true);
  if (lp.lane >= 16 && lp.lane < 24)
    cp_async16 (shared_addr (&st.h0[(lp.lane - 16) * 4]), at_row (lp.ck, j, lp.ck_row), true);
}

/* plus dy's rows and the checkpoint; rw moves on to chunk j − 1 */
__device__ __forceinline__ void
fetch_backward (const LanePlan &lp, BackStage &st, int j, RouteWalk &rw)
{
  int steps = min (S, lp.L - j * S);
  if (steps == S)
    fetch_backward_steps<true> (lp, st, j, rw.p, S);
  else
    fetch_backward_steps<false> (lp, st, j, rw.p, steps);
  route_walk_prev (lp.rt, rw);
}

/* a staged output chunk (rows of 32 fp32 values) rounded to bf16 (to nearest even, as
 * to_kd: pack_bf16x2) and written by position,
 * 16 bytes a lane: row l >> 2, part l & 3; out at position 0 of the lane's part, rows
 * row_bytes apart */
__device__ __forceinline__ void
store_rows (char *out, const float (&rows)[S][32], const int *pos, uint32_t row_bytes,
            int steps, const LanePlan &lp)
{
  if (lp.su < steps)
    {
      float4 a = *(const float4 *) &rows[lp.su][lp.part];
      float4 b = *(const float4 *) &rows[lp.su][lp.part + 4];
      uint4 v = make_uint4 (pack_bf16x2 (a.x, a.y), pack_bf16x2 (a.z, a.w), pack_bf16x2 (b.x, b.y),
                            pack_bf16x2 (b.z, b.w));
      *(uint4 *) at_row (out, pos[lp.su], row_bytes) = v;
    }
}

/* the forward's steps of one chunk from its stage (scan.cu's forward_chunk, NT = 1): the
 * stage's values first, then the steps. Read step by step, each step's loads waited for
 * the previous step's store of y into shared memory (the compiler cannot tell the two
 * apart), which serialised the steps: one dependent chain a warp, stalled on it. */
template <bool FULL, bool WRITE>
__device__ __forceinline__ void
forward_steps (const FwdStage &st, float (&y)[S][32], int lane, int steps, float &h, float A2,
               float ds, float bias)
{
  float ut[S], zt[S];
  float2 bc[S];
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        ut[s] = __bfloat162float (st.u[s][lane]);
        zt[s] = __bfloat162float (st.z[s][lane]) + bias;
        bc[s] = st.bc[s];
      }
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        float yt = one_state_step (h, zt[s], ut[s], bc[s].x, bc[s].y, A2, ds);
        if (WRITE)
          y[s][lane] = yt;
      }
}

/* Forward: y (WRITE) and the state at every chunk start (if hck not NULL). One ring a
 * warp, no block barriers: whole warps are active (the launch checks D). */
template <bool WRITE>
static __global__ void __launch_bounds__ (128, 6)
scan_ring_forward_kernel (ScanArgs<bf16> a, bf16 *y, float *hck)
{
  __shared__ FwdRing rings[SCAN_MAX_WARPS];
  FwdRing &ring = rings[threadIdx.x >> 5];
  Lane ln = lane_of (a);
  LanePlan lp = lane_plan_of (a, ln, NULL, NULL);
  int64_t c = (int64_t) ln.k * a.D + ln.d;
  float A2 = a_of (a, c, 0) * LOG2E, h = 0.0f;
  float ds = a.Dskip != NULL ? a.Dskip[c] : 0.0f, bias = a.dbias != NULL ? a.dbias[c] : 0.0f;
  float *ck = hck != NULL ? ckpt_of (hck, a, ln) : NULL;
  /* y like Δ: the lane's part of its row at position 0 */
  char *yw = WRITE ? (char *) y + (lp.z - (const char *) a.delta) : NULL;
  int chunks = (a.L + S - 1) / S;
  RouteWalk rw = route_walk_at (lp.rt, 0, lp.lane);
#pragma unroll
  for (int q = 0; q < FWD_STAGES - 1; q++)
    {
      if (q < chunks)
        fetch_forward (lp, ring.st[q], q, rw);
      cp_async_commit ();
    }
  for (int j = 0; j < chunks; j++)
    {
      /* chunk j's copies (this lane's) done; the barrier shows every lane's */
      cp_async_wait<FWD_STAGES - 2> ();
      __syncwarp ();
      const FwdStage &st = ring.st[j % FWD_STAGES];
      if (ck != NULL)
        ck[(int64_t) j * a.D] = h;
      int steps = min (S, a.L - j * S);
      if (steps == S)
        forward_steps<true, WRITE> (st, ring.y, lp.lane, S, h, A2, ds, bias);
      else
        forward_steps<false, WRITE> (st, ring.y, lp.lane, steps, h, A2, ds, bias);
      if (WRITE)
        {
          __syncwarp ();
          store_rows (yw, ring.y, st.pos, lp.z_row, steps, lp);
        }
      /* the stage chunk j − 1 used: every lane left it at this chunk's barrier */
      int q = j + FWD_STAGES - 1;
      if (q < chunks)
        fetch_forward (lp, ring.st[q % FWD_STAGES], q, rw);
      cp_async_commit ();
    }
}

/* the backward's per-step outputs into the warp's staging rows (scan.cu's GlobalSink
 * writes them by position) */
struct RingSink
{
  float (*du)[32], (*dz)[32];
  int lane;
  __device__ __forceinline__ void
  store (const BackState<1> &, int s, int, float dz_t, float du_t) const
  {
    dz[s][lane] = dz_t;
    du[s][lane] = du_t;
  }
};

/* one chunk of the backward from its stage (scan.cu's backward_steps, NT = 1) */
template <bool FULL>
__device__ __forceinline__ void
backward_stage (BackState<1> &st, const BackStage &sg, BackRing &ring, int lane, int steps,
                float (&v)[2 * S], bool active)
{
  float ut[S], dl[S], gt[S], Bt[S][1], Ct[S][1];
  int pt[S];
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        pt[s] = s;
        ut[s] = __bfloat162float (sg.u[s][lane]);
        dl[s] = __bfloat162float (sg.z[s][lane]) + st.bias;
        gt[s] = sg.g[s][lane];
        float2 bc = sg.bc[s];
        Bt[s][0] = bc.x;
        Ct[s][0] = bc.y;
      }
  const float h0[1] = { sg.h0[lane] };
  RingSink sink = { ring.du, ring.dz, lane };
  /* every lane active (whole warps of channels): no inactive lanes' copy of the walk */
  backward_math<1, S, FULL> (1, active, st, h0, 0, steps, v, NULL, sink, ut, dl, gt, Bt, Ct, pt);
}

/* Chunk j's (dB, dC) summed over the warp's 32 channels (reduce_scatter16: lanes 2i and
 * 2i + 1 hold value i = 2·step + {B, C}), written into the warp's slice of out.dbc (64
 * contiguous bytes: bc_slot), which scan.cu sums over the slices tile by tile in the order
 * the direct kernels sum a block's warps (the same bits); with a single warp of channels
 * into dB / dC by position (0 + v: the direct kernels' sum from zero, −0 included). No
 * block barrier, where scan.cu's kernels meet once a chunk: a block's warps never wait for
 * each other. */
__device__ __forceinline__ void
warp_bc_sums (const ScanArgs<bf16> &a, const Lane &ln, const BackOut<bf16> &out,
              const BackStage &sg, int j, int steps, float (&v)[2 * S], int lane)
{
  reduce_scatter16 (v, lane);
  int i = lane >> 1, s = i >> 1, which = i & 1;
  if ((lane & 1) != 0 || s >= steps)
    return;
  int warps = blockDim.x >> 5, slices = gridDim.x * warps;
  if (slices == 1)
    {
      int64_t row = ((int64_t) ln.b * a.L + sg.pos[s]) * a.K + ln.k;
      float *dst = which == 0 ? out.dB : out.dC;
      if (dst != NULL)
        dst[row] = 0.0f + v[0];
    }
  else
    out.dbc[bc_slot (a, blockIdx.x * warps + (threadIdx.x >> 5), j * S) * 2 + i] = v[0];
}

/* Backward: chunks last to first, each from its checkpoint (vmamba.md §5.1). */
static __global__ void __launch_bounds__ (128, 4)
scan_ring_backward_kernel (ScanArgs<bf16> a, BackOut<bf16> out)
{
  __shared__ BackRing rings[SCAN_MAX_WARPS];
  BackRing &ring = rings[threadIdx.x >> 5];
  Lane ln = lane_of (a);
  LanePlan lp = lane_plan_of (a, ln, out.dy, out.hck);
  BackState<1> st = back_state_of<1> (a, ln, out);
  /* du and dz like Δ: the lane's part of its row at position 0 */
  int64_t part = lp.z - (const char *) a.delta;
  char *du = out.du != NULL ? (char *) out.du + part : NULL;
  char *dz = out.ddelta != NULL ? (char *) out.ddelta + part : NULL;
  int chunks = (a.L + S - 1) / S;
  /* the i-th chunk taken is chunk chunks − 1 − i, in stage i mod BACK_STAGES */
  RouteWalk rw = route_walk_at (lp.rt, chunks - 1, lp.lane);
#pragma unroll
  for (int i = 0; i < BACK_STAGES - 1; i++)
    {
      if (i < chunks)
        fetch_backward (lp, ring.st[i], chunks - 1 - i, rw);
      cp_async_commit ();
    }
  for (int i = 0; i < chunks; i++)
    {
      int j = chunks - 1 - i, steps = min (S, a.L - j * S);
      cp_async_wait<BACK_STAGES - 2> ();
      __syncwarp ();
      const BackStage &sg = ring.st[i % BACK_STAGES];
      float v[2 * S];
#pragma unroll
      for (int q = 0; q < 2 * S; q++)
        v[q] = 0.0f;
      if (steps == S)
        backward_stage<true> (st, sg, ring, lp.lane, S, v, ln.active);
      else
        backward_stage<false> (st, sg, ring, lp.lane, steps, v, ln.active);
      warp_bc_sums (a, ln, out, sg, j, steps, v, lp.lane);
      __syncwarp ();   /* the staged du and dz: every lane's */
      if (du != NULL)
        store_rows (du, ring.du, sg.pos, lp.z_row, steps, lp);
      if (dz != NULL)
        store_rows (dz, ring.dz, sg.pos, lp.z_row, steps, lp);
      int q = i + BACK_STAGES - 1;
      if (q < chunks)
        fetch_backward (lp, ring.st[q % BACK_STAGES], chunks - 1 - q, rw);
      cp_async_commit ();
    }
  param_partials<1> (a, ln, out, st);
}

bool
aligned16 (const void *p)
{
  return ((uintptr_t) p & 15) == 0;
}

} // namespace

bool
vb_scan_ring_fits (const VbCuda *cu, const ScanArgs<bf16> &a, int ct, const void *const *bufs,
                   int n_bufs)
{
  if (cu->scan_ring_off || a.N != 1 || a.D % 32 != 0 || a.D % ct != 0 || a.u_stride % 8 != 0
      || (a.K * a.D) % 8 != 0 || ct > 32 * SCAN_MAX_WARPS)
    return false;
  if (!aligned16 (a.u) || !aligned16 (a.delta))
    return false;
  for (int i = 0; i < n_bufs; i++)
    if (bufs[i] != NULL && !aligned16 (bufs[i]))
      return false;
  return true;
}

void
vb_scan_ring_forward (VbCuda *cu, const ScanArgs<bf16> &a, int B, bf16 *y, float *hck, int ct)
{
  dim3 grid (a.D / ct, B * a.K);
  cu->scan_ring_launches++;
  if (y != NULL)
    scan_ring_forward_kernel<true><<<grid, ct, 0, cu->stream>>> (a, y, hck);
  else
    scan_ring_forward_kernel<false><<<grid, ct, 0, cu->stream>>> (a, y, hck);
}

void
vb_scan_ring_backward (VbCuda *cu, const ScanArgs<bf16> &a, int B, const BackOut<bf16> &out,
                       int ct)
{
  dim3 grid (a.D / ct, B * a.K);
  cu->scan_ring_launches++;
  scan_ring_backward_kernel<<<grid, ct, 0, cu->stream>>> (a, out);
}

extern "C" int64_t
vb_cuda_scan_ring_launches (const VbCuda *cu)
{
  return cu->scan_ring_launches;
}
