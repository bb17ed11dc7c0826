/* scan_ring.cu: the one-state SS2D scan with bf16 storage (VMamba's training path) fed by a
 * shared-memory ring (specs/kernels.md §3–4). scan.cu's kernels load each step's u, Δ, dy,
 * B and C with a thread's own loads: one load and its address arithmetic per value and
 * step, and each chunk's loads waited for right before its arithmetic — at stage 1 (2.9
 * warps a scheduler) half the issue slots went unused waiting for them (ncu, session 14).
 * Here the lanes fetch a chunk's rows together, 16 bytes a copy (cp.async), STAGES − 1
 * chunks ahead of the arithmetic, which reads them from shared memory at fixed offsets;
 * the outputs (y; du and dz) are staged a chunk at a time and written 16 bytes a lane by
 * position. The forward gives each warp 32 channels, one a lane; the backward, bound by
 * its instruction count, gives each half warp 32 channels, two adjacent ones a lane
 * (their u, Δ, dy and outputs move in pairs, (B, C) and the chunk's copies, positions and
 * (dB, dC) reduction serve both). The routes are the same arithmetic, the arithmetic of
 * every step is the same functions as scan.cu's (vb-cuda-scan.h): the same bits. Taken
 * where the shapes fit (vb_scan_ring_fits); VB_SCAN_NO_RING=1 turns it off. */
#include "vb-cuda-scan.h"
#include "vb-cuda-async.h"
#include "vb-cuda-mma.h"   /* pack_bf16x2 */

namespace
{

typedef __nv_bfloat16 bf16;
constexpr int S = VB_SCAN_CKPT_STEPS;
constexpr unsigned FULL_MASK = 0xffffffffu;
/* chunks in flight (with 3 the backward's warps waited for their copies: 7 % of its
 * stall samples at stage 1) */
constexpr int FWD_STAGES = 4, BACK_STAGES = 4;

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

/* A forward lane's share of every chunk's copies, fixed for the kernel: its sources at
 * position 0 and their row strides in bytes (an address is then one 32 × 32 → 64-bit
 * multiply-add: the signed 32-bit offsets before took five instructions an address), and
 * its steps. Lane l copies 16 bytes (part l & 3) of u's and Δ's rows of step l >> 2;
 * lanes 0–7 (8–15) B (C) of step l & 7. */
struct LanePlan
{
  const char *u, *z, *bc;
  uint32_t u_row, z_row, bc_row;
  int su, s8, part, lane, L;
  Route rt;
};

__device__ __forceinline__ const char *
at_row (const char *base, int pos, uint32_t row_bytes)
{
  return base + (uint64_t) (uint32_t) pos * row_bytes;
}

__device__ __forceinline__ LanePlan
lane_plan_of (const ScanArgs<bf16> &a, const Lane &ln)
{
  LanePlan lp;
  int d0 = ln.d & ~31, KD = a.K * a.D;
  lp.lane = threadIdx.x & 31;
  lp.su = lp.lane >> 2;
  lp.s8 = lp.lane & 7;
  lp.part = (lp.lane & 3) * 8;
  lp.L = a.L;
  lp.u = (const char *) (a.u + (int64_t) ln.b * a.L * a.u_stride + (int64_t) ln.k * a.u_group
                         + d0 + lp.part);
  lp.z = (const char *) (a.delta + (int64_t) ln.b * a.L * KD + (int64_t) ln.k * a.D + d0
                         + lp.part);
  int64_t bc0 = ((int64_t) ln.b * a.L * a.K + ln.k) * a.N;
  lp.bc = (const char *) (lp.lane < 8 ? a.Bs + bc0 : a.Cs + bc0);
  lp.u_row = (uint32_t) a.u_stride * 2;
  lp.z_row = (uint32_t) KD * 2;
  lp.bc_row = (uint32_t) (a.K * a.N) * 4;
  lp.rt = route_for (a.mode, ln.k, a.H, a.W);
  return lp;
}

/* Where a lane's next fetch reads: the position of step t = 8·j + (lane & 7) of the chunk
 * j it fetches next, and t mod n (the route's run). Fetches go chunk by chunk, forward or
 * backward, so the position steps by 8 without a division (a division a lane and chunk
 * was a fifth of the backward's per-chunk overhead) and without a branch (a loop over the
 * runs kept the fetch out of the arithmetic's block): 8 = q·n + r steps are q whole runs
 * (jump8) and r steps, plus one more jump d2 where those wrap. Steps past the sequence's
 * ends get positions nobody reads. */
struct RouteWalk
{
  int p, h;
  int jump8, r;   /* q·(n·d1 + d2) + r·d1, and r */
};

__device__ __forceinline__ RouteWalk
route_walk_at (const Route &rt, int j, int lane)
{
  RouteWalk rw;
  rw.p = pos_at (rt, j * S + (lane & 7), rw.h);
  int q = S / rt.n;
  rw.r = S - q * rt.n;
  rw.jump8 = q * (rt.n * rt.d1 + rt.d2) + rw.r * rt.d1;
  return rw;
}

__device__ __forceinline__ void
route_walk_next (const Route &rt, RouteWalk &rw)
{
  rw.p += rw.jump8;
  rw.h += rw.r;
  bool wrap = rw.h >= rt.n;
  rw.h = wrap ? rw.h - rt.n : rw.h;
  rw.p = wrap ? rw.p + rt.d2 : rw.p;
}

__device__ __forceinline__ void
route_walk_prev (const Route &rt, RouteWalk &rw)
{
  rw.p -= rw.jump8;
  rw.h -= rw.r;
  bool wrap = rw.h < 0;
  rw.h = wrap ? rw.h + rt.n : rw.h;
  rw.p = wrap ? rw.p - rt.d2 : rw.p;
}

/* A forward chunk's copies (LanePlan), and the positions recorded. p8: the position of
 * the lane's step l & 7 (RouteWalk); the u and Δ lanes take theirs by a shuffle. FULL:
 * every step there (all chunks but one), no guards. */
template <bool FULL>
__device__ __forceinline__ void
fetch_steps (const LanePlan &lp, FwdStage &st, int p8, int steps)
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
    fetch_steps<true> (lp, st, rw.p, S);
  else
    fetch_steps<false> (lp, st, rw.p, steps);
  route_walk_next (lp.rt, rw);
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
  LanePlan lp = lane_plan_of (a, ln);
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

/* ---- backward: a half warp a unit of 32 channels, two adjacent channels a lane ---------- */

/* the backward's blocks: two warps, four units (32 channels of one sequence each) */
constexpr int BACK_WARPS = 2, UNIT = 32;

/* one chunk of a unit's inputs: u, Δ's input and dy of its 32 channels, (B, C), the
 * state at the chunk's start (the checkpoint) and the steps' positions */
struct __align__ (16) BackStage
{
  bf16 u[S][UNIT], z[S][UNIT];
  float g[S][UNIT];
  float h0[UNIT];
  float2 bc[S];
  int pos[S];
};

/* a half warp's ring; du and dz staged as rounded bf16 pairs (a lane's two channels), in
 * two buffers: a chunk's are written out while the next chunk's are computed */
struct BackRing
{
  BackStage st[BACK_STAGES];
  __align__ (16) uint32_t du[2][S][UNIT / 2], dz[2][S][UNIT / 2];
};

/* a half warp's unit: sequence seq = b·K + k, channels 32·g …; past the last unit a half
 * computes a copy of it (the shuffles need every lane) and writes nothing */
struct Unit
{
  int b, k, g, seq;
  bool active;
};

__device__ __forceinline__ Unit
unit_of (const ScanArgs<bf16> &a, int units)
{
  int groups = a.D / UNIT, i = (int) ((blockIdx.x * blockDim.x + threadIdx.x) >> 4);
  Unit un;
  un.active = i < units;
  i = un.active ? i : units - 1;
  un.seq = i / groups;
  un.g = i - un.seq * groups;
  un.b = un.seq / a.K;
  un.k = un.seq - un.b * a.K;
  return un;
}

/* Lane m (0–15) of a half warp's share of its unit's copies, fixed for the kernel (as
 * LanePlan): 16 bytes (part m & 3) of u's and Δ's rows of steps m >> 2 and 4 + (m >> 2);
 * of dy's (part m & 7) steps m >> 3, + 2, + 4, + 6; B (m < 8) or C of step m & 7; lanes
 * m < 8 a quarter of the checkpoint. Shuffles take positions from lane base + step. */
struct HalfPlan
{
  const char *u, *z, *g, *bc, *ck;
  uint32_t u_row, z_row, g_row, bc_row, ck_row;   /* ck_row: bytes a chunk */
  int m, base, L;
  Route rt;
};

__device__ __forceinline__ HalfPlan
half_plan_of (const ScanArgs<bf16> &a, const Unit &un, const float *dy, const float *hck)
{
  HalfPlan hp;
  int d0 = un.g * UNIT, KD = a.K * a.D, chunks = (a.L + S - 1) / S;
  hp.m = threadIdx.x & 15;
  hp.base = threadIdx.x & 16;
  hp.L = a.L;
  int64_t u0 = (int64_t) un.b * a.L * a.u_stride + (int64_t) un.k * a.u_group + d0;
  int part = (hp.m & 3) * 8, gpart = (hp.m & 7) * 4;
  hp.u = (const char *) (a.u + u0 + part);
  hp.z = (const char *) (a.delta + (int64_t) un.b * a.L * KD + (int64_t) un.k * a.D + d0 + part);
  hp.g = (const char *) (dy + u0 + gpart);
  int64_t bc0 = ((int64_t) un.b * a.L * a.K + un.k) * a.N;
  hp.bc = (const char *) (hp.m < 8 ? a.Bs + bc0 : a.Cs + bc0);
  hp.ck = (const char *) (hck + (int64_t) un.seq * chunks * a.D + d0 + gpart);
  hp.u_row = (uint32_t) a.u_stride * 2;
  hp.z_row = (uint32_t) KD * 2;
  hp.g_row = (uint32_t) a.u_stride * 4;
  hp.bc_row = (uint32_t) (a.K * a.N) * 4;
  hp.ck_row = (uint32_t) a.D * 4;
  hp.rt = route_for (a.mode, un.k, a.H, a.W);
  return hp;
}

/* chunk j's copies; p8: the position of the lane's step m & 7 */
template <bool FULL>
__device__ __forceinline__ void
fetch_back_steps (const HalfPlan &hp, BackStage &st, int j, int p8, int steps)
{
  int m = hp.m;
#pragma unroll
  for (int r = 0; r < 2; r++)
    {
      int s = (m >> 2) + 4 * r, p = __shfl_sync (FULL_MASK, p8, hp.base | s);
      if (FULL || s < steps)
        {
          cp_async16 (shared_addr (&st.u[s][(m & 3) * 8]), at_row (hp.u, p, hp.u_row), true);
          cp_async16 (shared_addr (&st.z[s][(m & 3) * 8]), at_row (hp.z, p, hp.z_row), true);
        }
    }
#pragma unroll
  for (int r = 0; r < 4; r++)
    {
      int s = (m >> 3) + 2 * r, p = __shfl_sync (FULL_MASK, p8, hp.base | s);
      if (FULL || s < steps)
        cp_async16 (shared_addr (&st.g[s][(m & 7) * 4]), at_row (hp.g, p, hp.g_row), true);
    }
  if (FULL || (m & 7) < steps)
    {
      float2 &bc = st.bc[m & 7];
      cp_async4 (shared_addr (m < 8 ? &bc.x : &bc.y), at_row (hp.bc, p8, hp.bc_row));
      if (m < 8)
        st.pos[m] = p8;
    }
  if (m < 8)
    cp_async16 (shared_addr (&st.h0[m * 4]), at_row (hp.ck, j, hp.ck_row), true);
}

/* chunk j, whose step positions rw holds; rw moves on to chunk j − 1 */
__device__ __forceinline__ void
fetch_backward (const HalfPlan &hp, BackStage &st, int j, RouteWalk &rw)
{
  int steps = min (S, hp.L - j * S);
  if (steps == S)
    fetch_back_steps<true> (hp, st, j, rw.p, S);
  else
    fetch_back_steps<false> (hp, st, j, rw.p, steps);
  route_walk_prev (hp.rt, rw);
}

/* the first channel's outputs held in registers until the second's are there */
struct FirstSink
{
  float (&du)[S], (&dz)[S];
  __device__ __forceinline__ void
  store (const BackState<1> &, int s, int, float dz_t, float du_t) const
  {
    dz[s] = dz_t;
    du[s] = du_t;
  }
};

/* the second's: both rounded to bf16 (to nearest even, as to_kd) into the staging rows */
struct SecondSink
{
  const float (&du0)[S], (&dz0)[S];
  uint32_t (*du)[UNIT / 2], (*dz)[UNIT / 2];
  int m;
  __device__ __forceinline__ void
  store (const BackState<1> &, int s, int, float dz_t, float du_t) const
  {
    dz[s][m] = pack_bf16x2 (dz0[s], dz_t);
    du[s][m] = pack_bf16x2 (du0[s], du_t);
  }
};

/* one chunk of the lane's two channels from its stage (scan.cu's backward_steps, NT = 1):
 * the stage's values first, then the two channels' walks, which the compiler interleaves;
 * v: (dB, dC) of each step, the two channels added (the reduction tree's first level) */
template <bool FULL>
__device__ __forceinline__ void
backward_pair (BackState<1> (&st)[2], const BackStage &sg, BackRing &ring, int buf, int m,
               int steps, float (&v)[2 * S], bool active)
{
  float ut[2][S], dl[2][S], gt[2][S], Bt[S][1], Ct[S][1];
  int pt[S];
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        pt[s] = s;
        uint32_t uw = *(const uint32_t *) &sg.u[s][2 * m];
        uint32_t zw = *(const uint32_t *) &sg.z[s][2 * m];
        ut[0][s] = __uint_as_float (uw << 16);              /* bf16 widened exactly */
        ut[1][s] = __uint_as_float (uw & 0xffff0000u);
        dl[0][s] = __uint_as_float (zw << 16) + st[0].bias;
        dl[1][s] = __uint_as_float (zw & 0xffff0000u) + st[1].bias;
        float2 g = *(const float2 *) &sg.g[s][2 * m];
        gt[0][s] = g.x;
        gt[1][s] = g.y;
        float2 bc = sg.bc[s];
        Bt[s][0] = bc.x;
        Ct[s][0] = bc.y;
      }
  float2 h = *(const float2 *) &sg.h0[2 * m];
  const float h00[1] = { h.x }, h01[1] = { h.y };
  float du0[S], dz0[S];
  FirstSink first = { du0, dz0 };
  SecondSink second = { du0, dz0, ring.du[buf], ring.dz[buf], m };
  backward_math<1, S, FULL> (1, active, st[0], h00, 0, steps, v, NULL, first, ut[0], dl[0],
                             gt[0], Bt, Ct, pt);
  backward_math<1, S, FULL, true> (1, active, st[1], h01, 0, steps, v, NULL, second, ut[1],
                                   dl[1], gt[1], Bt, Ct, pt);
}

/* *p = v where store, as one predicated instruction: written in C, the compiler made a
 * branch of the guarded loads and stores, which split the iteration's code in blocks the
 * scheduler cannot interleave */
__device__ __forceinline__ void
store16_if (bool store, const char *p, uint4 v)
{
  asm volatile ("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, %0, 0;\n\t"
                "@p st.global.v4.b32 [%1], {%2, %3, %4, %5};\n\t}"
                :: "r"((int) store), "l"(p), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w)
);
}

/* A computed chunk's work left for the next chunk's iteration, where the compiler can
 * interleave it with that chunk's arithmetic (run after it, this work's dependent
 * shuffles, stores and copies took 48 % of the stall samples at stage 1 for a quarter of
 * the instructions): its (dB, dC) sums (v, not reduced yet), the positions its stores
 * need (pos_bc: step scatter_value (m) >> 1; pos_row: steps m >> 2 and 4 + (m >> 2)) and
 * its staging buffer. */
struct Pending
{
  float v[2 * S];
  int j, steps, buf, pos_bc, pos_row[2];
};

__device__ __forceinline__ void
pending_of (Pending &pd, const BackStage &sg, int j, int steps, int buf, int m)
{
  pd.j = j;
  pd.steps = steps;
  pd.buf = buf;
  pd.pos_bc = sg.pos[scatter_value (m) >> 1];
  pd.pos_row[0] = sg.pos[m >> 2];
  pd.pos_row[1] = sg.pos[4 + (m >> 2)];
}

/* The chunk's (dB, dC) summed over the unit's 32 channels (the half warp's reduce-scatter:
 * the same tree as scan.cu's warps), written into the unit's slice of out.dbc (64
 * contiguous bytes: bc_slot), which scan.cu sums over the slices tile by tile in the order
 * the direct kernels sum a block's warps (the same bits), or with one unit of channels
 * into dB / dC by position (0 + v: the direct kernels' sum from zero; the slices' −0 the
 * same). Then its du and dz rows by position, 16 bytes a lane: steps m >> 2 and 4 +
 * (m >> 2), part m & 3. Predicated stores, no branches: the work stays in one block with
 * the arithmetic. No block barrier, where scan.cu's kernels meet once a chunk. */
__device__ __forceinline__ void
finish_chunk (const ScanArgs<bf16> &a, const Unit &un, const BackOut<bf16> &out,
              const BackRing &ring, Pending &pd, int m, int seqs, char *du, char *dz,
              uint32_t row_bytes)
{
  reduce_scatter_half (pd.v, m);
  int i = scatter_value (m), s = i >> 1;
  float *dst = out.dbc;
  int64_t at = bc_slot (a, un.g, un.seq, seqs, pd.j * S) * 2 + i;
  if (a.D == UNIT)
    {
      dst = (i & 1) == 0 ? out.dB : out.dC;
      at = ((int64_t) un.b * a.L + pd.pos_bc) * a.K + un.k;
    }
  if (un.active && s < pd.steps && dst != NULL)
    dst[at] = 0.0f + pd.v[0];
#pragma unroll
  for (int r = 0; r < 2; r++)
    {
      int sr = (m >> 2) + 4 * r;
      bool store = un.active && sr < pd.steps;
      store16_if (store, at_row (du, pd.pos_row[r], row_bytes),
                  *(const uint4 *) &ring.du[pd.buf][sr][(m & 3) * 4]);
      store16_if (store, at_row (dz, pd.pos_row[r], row_bytes),
                  *(const uint4 *) &ring.dz[pd.buf][sr][(m & 3) * 4]);
    }
}

/* The state of a unit's walk, and iteration i of it: chunk j = chunks − 1 − i from stage
 * i mod BACK_STAGES, after the fetch of chunk j − BACK_STAGES + 1 (FETCH) and the previous
 * chunk's finish (PENDING). Each of the three kinds of iteration (the first, whose chunk
 * may be partial; the main one; the last few, nothing left to fetch) is one block of
 * straight-line code. */
struct BackWalk
{
  ScanArgs<bf16> a;
  BackOut<bf16> out;
  Unit un;
  HalfPlan hp;
  BackState<1> st[2];
  RouteWalk rw;
  char *du, *dz;
  int chunks, seqs;
};

template <bool FETCH, bool PENDING, bool FULL>
__device__ __forceinline__ void
back_iteration (BackWalk &w, BackRing &ring, Pending &pd, int i)
{
  int m = w.hp.m, j = w.chunks - 1 - i, steps = min (S, w.a.L - j * S);
  /* chunk i's copies (this lane's) done; the barrier shows every lane's, and the previous
   * chunk's staged du and dz */
  cp_async_wait<BACK_STAGES - 2> ();
  __syncwarp ();
  int q = i + BACK_STAGES - 1;
  /* into the stage chunk i − 1 used (all lanes left it at the barrier); never partial */
  if (FETCH)
    {
      fetch_back_steps<true> (w.hp, ring.st[q % BACK_STAGES], w.chunks - 1 - q, w.rw.p, S);
      route_walk_prev (w.hp.rt, w.rw);
    }
  cp_async_commit ();
  if (PENDING)
    finish_chunk (w.a, w.un, w.out, ring, pd, m, w.seqs, w.du, w.dz, w.hp.z_row);
  const BackStage &sg = ring.st[i % BACK_STAGES];
  float v[2 * S];
#pragma unroll
  for (int k = 0; k < 2 * S; k++)
    v[k] = 0.0f;
  backward_pair<FULL> (w.st, sg, ring, i & 1, m, steps, v, w.un.active);
#pragma unroll
  for (int k = 0; k < 2 * S; k++)
    pd.v[k] = v[k];
  pending_of (pd, sg, j, steps, i & 1, m);
}

/* Backward: chunks last to first, each from its checkpoint (vmamba.md §5.1), the lane's
 * two channels. About 220 registers (at 168 ptxas spilled): four blocks an SM. */
static __global__ void __launch_bounds__ (32 * BACK_WARPS, 4)
scan_ring_backward_kernel (ScanArgs<bf16> a, BackOut<bf16> out, int units, int seqs)
{
  __shared__ BackRing rings[2 * BACK_WARPS];
  BackRing &ring = rings[threadIdx.x >> 4];
  BackWalk w;
  w.a = a;
  w.out = out;
  w.seqs = seqs;
  w.un = unit_of (a, units);
  w.hp = half_plan_of (a, w.un, out.dy, out.hck);
  int m = w.hp.m, d = w.un.g * UNIT + 2 * m;
  const Lane ln[2] = { { w.un.b, w.un.k, d, w.un.active },
                       { w.un.b, w.un.k, d + 1, w.un.active } };
  w.st[0] = back_state_of<1> (a, ln[0], out);
  w.st[1] = back_state_of<1> (a, ln[1], out);
  /* du and dz like Δ: the lane's part of its row at position 0 (the ring is taken only
   * where both are asked for) */
  int64_t part = w.hp.z - (const char *) a.delta;
  w.du = (char *) out.du + part;
  w.dz = (char *) out.ddelta + part;
  w.chunks = (a.L + S - 1) / S;
  /* the i-th chunk taken is chunk chunks − 1 − i (only the first may be partial) */
  w.rw = route_walk_at (w.hp.rt, w.chunks - 1, m);
#pragma unroll
  for (int i = 0; i < BACK_STAGES - 1; i++)
    {
      if (i < w.chunks)
        fetch_backward (w.hp, ring.st[i], w.chunks - 1 - i, w.rw);
      cp_async_commit ();
    }
  Pending pd;
  int last_fetch = w.chunks - BACK_STAGES;   /* the last iteration with a chunk to fetch */
  if (last_fetch >= 0)
    back_iteration<true, false, false> (w, ring, pd, 0);
  else
    back_iteration<false, false, false> (w, ring, pd, 0);
  int i = 1;
  for (; i <= last_fetch; i++)
    back_iteration<true, true, true> (w, ring, pd, i);
  for (; i < w.chunks; i++)
    back_iteration<false, true, true> (w, ring, pd, i);
  __syncwarp ();   /* the last chunk's staged du and dz: every lane's */
  finish_chunk (a, w.un, out, ring, pd, m, seqs, w.du, w.dz, w.hp.z_row);
  param_partials<1> (a, ln[0], out, w.st[0]);
  param_partials<1> (a, ln[1], out, w.st[1]);
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
vb_scan_ring_backward (VbCuda *cu, const ScanArgs<bf16> &a, int B, const BackOut<bf16> &out)
{
  int units = B * a.K * (a.D / UNIT), per_block = 2 * BACK_WARPS;
  cu->scan_ring_launches++;
  scan_ring_backward_kernel<<<(units + per_block - 1) / per_block, 32 * BACK_WARPS, 0,
                              cu->stream>>> (a, out, units, B * a.K);
}

extern "C" int64_t
vb_cuda_scan_ring_launches (const VbCuda *cu)
{
  return cu->scan_ring_launches;
}
