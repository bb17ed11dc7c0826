/* scan_ring.cu: the one-state SS2D scan with bf16 storage (VMamba's training path) fed by a
 * shared-memory ring (specs/kernels.md §3–4). scan.cu's kernels load each step's u, Δ, dy,
 * B and C with a thread's own loads: one load and its address arithmetic per value and
 * step, and each chunk's loads waited for right before its arithmetic. Here a half warp
 * owns a unit of 32 channels of one sequence, two adjacent channels a lane: its lanes
 * fetch a chunk's rows together, 16 bytes a copy (cp.async), STAGES − 1 chunks ahead of
 * the arithmetic, which reads them from shared memory at fixed offsets (u, Δ, dy and the
 * outputs in pairs; (B, C), the copies, the positions and the (dB, dC) reduction serve both
 * channels: 89 → 62 instructions a channel-step in the backward, session 15). The outputs
 * (y; du and dz) are staged a chunk at a time as bf16 pairs and written 16 bytes a lane by
 * position in the next chunk's iteration, with that iteration's copies and the (dB, dC)
 * reduction: one straight block of code with the arithmetic, which the scheduler
 * interleaves. The routes are the same arithmetic, the arithmetic of every step is the
 * same functions as scan.cu's (vb-cuda-scan.h): the same bits. Blocks of two warps, or of
 * three holding whole sequences in step (in_step_blocks). Taken where the shapes fit
 * (vb_scan_ring_fits); VB_SCAN_NO_RING=1 turns it off. */
#include "vb-cuda-scan.h"
#include "vb-cuda-async.h"
#include "vb-cuda-mma.h"   /* pack_bf16x2 */

namespace
{

typedef __nv_bfloat16 bf16;
constexpr int S = VB_SCAN_CKPT_STEPS, UNIT = 32;
constexpr unsigned FULL_MASK = 0xffffffffu;
/* chunks in flight: more is not better (5 made every stage slower; the backward's stage 1
 * took 621–623 µs with 3, 631–644 with 4, its other stages the same within the calls'
 * spread; the forward's the same with 3 or 4; with the in-step blocks of session 16, 4
 * backward stages or 5 forward ones left stage 1 the same); two or three warps a block
 * (in_step_blocks) */
constexpr int FWD_STAGES = 4, BACK_STAGES = 3;

static_assert (S == 8, "a chunk's rows: 8 steps × 32 channels, 16-byte copies");

/* Where a block's half-warp rings start: 64 bytes past a multiple of 128, so that the two
 * halves of a warp, reading or writing a row's 4-byte pairs in one instruction, meet the
 * 32 banks in opposite halves. At the rings' natural sizes they met 2-way bank conflicts
 * on every such access (ncu, stage 1: 43 % of the forward's shared-load wavefronts, 52 %
 * of the backward's shared-store ones). */
constexpr size_t
ring_stride (size_t bytes)
{
  return (bytes + 63) / 128 * 128 + 64;
}

/* the half warp's ring in the block's shared memory */
template <typename Ring>
__device__ __forceinline__ Ring &
ring_of_half (char *rings)
{
  return *(Ring *) (rings + (threadIdx.x >> 4) * ring_stride (sizeof (Ring)));
}

__device__ __forceinline__ const char *
at_row (const char *base, int pos, uint32_t row_bytes)
{
  return base + (uint64_t) (uint32_t) pos * row_bytes;
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

/* a half warp's unit: sequence seq = b·K + k, channels 32·g …; past the last unit a half
 * would compute a copy of it (the shuffles need every lane) and write nothing (every mode
 * has K = 2 or 4 groups, so the units come in pairs; the guard keeps an odd count safe) */
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

/* one chunk of a unit's inputs both directions read: u and Δ's input of its 32 channels,
 * (B, C) of each step (one 8-byte load) and the steps' positions (for the outputs) */
struct __align__ (16) UnitRows
{
  bf16 u[S][UNIT], z[S][UNIT];
  float2 bc[S];
  int pos[S];
};

/* the backward's: plus dy and the state at the chunk's start (the checkpoint) */
struct __align__ (16) BackStage
{
  UnitRows in;
  bf16 g[S][UNIT];
  float h0[UNIT];
};

/* Lane m (0–15) of a half warp's share of its unit's copies, fixed for the kernel: its
 * sources at position 0 and their row strides in bytes (an address is one 32 × 32 →
 * 64-bit multiply-add); 16 bytes (part m & 3) of u's, Δ's and in the backward dy's rows
 * of steps m >> 2 and 4 + (m >> 2); B (m < 8) or C of step m & 7; in the backward, lanes
 * m < 8, 16 bytes each of the checkpoint. Shuffles take the positions from lane base +
 * step. */
struct HalfPlan
{
  const char *u, *z, *g, *bc, *ck;
  uint32_t u_row, z_row, g_row, bc_row, ck_row;   /* ck_row: bytes a chunk */
  int m, base, L;
  Route rt;
};

__device__ __forceinline__ HalfPlan
half_plan_of (const ScanArgs<bf16> &a, const Unit &un, const bf16 *dy, const float *hck)
{
  HalfPlan hp;
  int d0 = un.g * UNIT, KD = a.K * a.D, chunks = (a.L + S - 1) / S;
  hp.m = threadIdx.x & 15;
  hp.base = threadIdx.x & 16;
  hp.L = a.L;
  int64_t u0 = (int64_t) un.b * a.L * a.u_stride + (int64_t) un.k * a.u_group + d0;
  int part = (hp.m & 3) * 8, ckpart = (hp.m & 7) * 4;
  hp.u = (const char *) (a.u + u0 + part);
  hp.z = (const char *) (a.delta + (int64_t) un.b * a.L * KD + (int64_t) un.k * a.D + d0 + part);
  hp.g = dy != NULL ? (const char *) (dy + u0 + part) : NULL;
  int64_t bc0 = ((int64_t) un.b * a.L * a.K + un.k) * a.N;
  hp.bc = (const char *) (hp.m < 8 ? a.Bs + bc0 : a.Cs + bc0);
  hp.ck = hck != NULL ? (const char *) (hck + (int64_t) un.seq * chunks * a.D + d0 + ckpart)
                      : NULL;
  hp.u_row = (uint32_t) a.u_stride * 2;
  hp.z_row = (uint32_t) KD * 2;
  hp.g_row = (uint32_t) a.u_stride * 2;
  hp.bc_row = (uint32_t) (a.K * a.N) * 4;
  hp.ck_row = (uint32_t) a.D * 4;
  hp.rt = route_for (a.mode, un.k, a.H, a.W);
  return hp;
}

/* a chunk's UnitRows copies, and into g (not NULL) dy's rows; p8: the position of the
 * lane's step m & 7 */
template <bool FULL>
__device__ __forceinline__ void
fetch_rows (const HalfPlan &hp, UnitRows &st, bf16 (*g)[UNIT], int p8, int steps)
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
          if (g != NULL)
            cp_async16 (shared_addr (&g[s][(m & 3) * 8]), at_row (hp.g, p, hp.g_row), true);
        }
    }
  if (FULL || (m & 7) < steps)
    {
      float2 &bc = st.bc[m & 7];
      cp_async4 (shared_addr (m < 8 ? &bc.x : &bc.y), at_row (hp.bc, p8, hp.bc_row));
      if (m < 8)
        st.pos[m] = p8;
    }
}

/* chunk j's copies into a forward stage … */
template <bool FULL>
__device__ __forceinline__ void
fetch_stage (const HalfPlan &hp, UnitRows &st, int, int p8, int steps)
{
  fetch_rows<FULL> (hp, st, NULL, p8, steps);
}

/* … or a backward one: plus dy's rows and the checkpoint */
template <bool FULL>
__device__ __forceinline__ void
fetch_stage (const HalfPlan &hp, BackStage &st, int j, int p8, int steps)
{
  fetch_rows<FULL> (hp, st.in, st.g, p8, steps);
  if (hp.m < 8)
    cp_async16 (shared_addr (&st.h0[hp.m * 4]), at_row (hp.ck, j, hp.ck_row), true);
}

/* chunk j (whole or the sequence's last, partial one), whose step positions rw holds; rw
 * moves on to the next chunk fetched: j + 1 in the forward, j − 1 in the backward */
template <bool BACK, typename Stage>
__device__ __forceinline__ void
fetch_chunk (const HalfPlan &hp, Stage &st, int j, RouteWalk &rw)
{
  int steps = min (S, hp.L - j * S);
  if (steps == S)
    fetch_stage<true> (hp, st, j, rw.p, S);
  else
    fetch_stage<false> (hp, st, j, rw.p, steps);
  if (BACK)
    route_walk_prev (hp.rt, rw);
  else
    route_walk_next (hp.rt, rw);
}

/* the chunk's u and Δ's input of the lane's two channels, widened exactly (bf16 pairs) */
template <bool FULL>
__device__ __forceinline__ void
read_pairs (const UnitRows &st, int m, int steps, float (&ut)[2][S], float (&zt)[2][S],
            const float (&bias)[2])
{
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        uint32_t uw = *(const uint32_t *) &st.u[s][2 * m];
        uint32_t zw = *(const uint32_t *) &st.z[s][2 * m];
        ut[0][s] = __uint_as_float (uw << 16);
        ut[1][s] = __uint_as_float (uw & 0xffff0000u);
        zt[0][s] = __uint_as_float (zw << 16) + bias[0];
        zt[1][s] = __uint_as_float (zw & 0xffff0000u) + bias[1];
      }
}

/* *p = v where store, as one predicated instruction: written in C, the compiler made a
 * branch of the guarded loads and stores, which split the iteration's code in blocks the
 * scheduler cannot interleave */
__device__ __forceinline__ void
store16_if (bool store, const char *p, uint4 v)
{
  asm volatile ("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, %0, 0;\n\t"
                "@p st.global.v4.b32 [%1], {%2, %3, %4, %5};\n\t}"
                :: "r"((int) store), "l"(p), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w));
}

__device__ __forceinline__ void
store4_if (bool store, const float *p, float x)
{
  asm volatile ("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, %0, 0;\n\t@p st.global.f32 [%1], %2;\n\t}"
                :: "r"((int) store), "l"(p), "f"(x));
}

__device__ __forceinline__ void
store8_if (bool store, const float *p, float x, float y)
{
  asm volatile ("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, %0, 0;\n\t"
                "@p st.global.v2.f32 [%1], {%2, %3};\n\t}"
                :: "r"((int) store), "l"(p), "f"(x), "f"(y));
}

/* A computed chunk's staged outputs, written in the next chunk's iteration: its steps,
 * staging buffer and the positions of the lane's rows (steps m >> 2 and 4 + (m >> 2)) */
struct RowsPending
{
  int steps, buf, pos_row[2];
};

__device__ __forceinline__ void
rows_pending_of (RowsPending &rp, const UnitRows &st, int steps, int buf, int m)
{
  rp.steps = steps;
  rp.buf = buf;
  rp.pos_row[0] = st.pos[m >> 2];
  rp.pos_row[1] = st.pos[4 + (m >> 2)];
}

/* staged bf16 pairs written by position, 16 bytes a lane (part m & 3 of its two rows); out
 * at position 0 of the lane's part */
__device__ __forceinline__ void
store_unit_rows (const char *out, const uint32_t (&rows)[S][UNIT / 2], const RowsPending &rp,
                 int m, bool active, uint32_t row_bytes)
{
#pragma unroll
  for (int r = 0; r < 2; r++)
    {
      int sr = (m >> 2) + 4 * r;
      store16_if (active && sr < rp.steps, at_row (out, rp.pos_row[r], row_bytes),
                  *(const uint4 *) &rows[sr][(m & 3) * 4]);
    }
}

/* ---- forward ------------------------------------------------------------------------- */

/* a half warp's ring; y staged as rounded bf16 pairs, two buffers (written a chunk later) */
struct FwdRing
{
  UnitRows st[FWD_STAGES];
  __align__ (16) uint32_t y[2][S][UNIT / 2];
};

/* a unit's forward walk: its copies, its channels' constants and states, its outputs */
struct FwdWalk
{
  ScanArgs<bf16> a;
  Unit un;
  HalfPlan hp;
  RouteWalk rw;
  float h[2], A2[2], ds[2], bias[2];
  const float *ck;
  const char *y;
  int chunks;
};

/* Iteration i: chunk i from stage i mod FWD_STAGES, after the fetch of chunk i +
 * FWD_STAGES − 1 and the previous chunk's y rows. MAIN: the iterations with a whole chunk
 * to fetch and to compute (all but the first and the last few), one straight block. */
template <bool WRITE, bool MAIN, bool IN_STEP>
__device__ __forceinline__ void
fwd_iteration (FwdWalk &w, FwdRing &ring, RowsPending &rp, int i)
{
  int m = w.hp.m, steps = min (S, w.a.L - i * S), q = i + FWD_STAGES - 1;
  /* chunk i's copies (this lane's) done; the barrier shows every lane's, and the previous
   * chunk's staged y */
  cp_async_wait<FWD_STAGES - 2> ();
  __syncwarp ();
  if (IN_STEP)
    __syncthreads ();   /* the block's units in step (in_step_blocks) */
  /* into the stage chunk i − 1 used (all lanes left it at the barrier) */
  if (MAIN)
    {
      fetch_stage<true> (w.hp, ring.st[q % FWD_STAGES], q, w.rw.p, S);
      route_walk_next (w.hp.rt, w.rw);
    }
  else if (q < w.chunks)
    fetch_chunk<false> (w.hp, ring.st[q % FWD_STAGES], q, w.rw);
  cp_async_commit ();
  if (WRITE && (MAIN || i > 0))
    store_unit_rows (w.y, ring.y[rp.buf], rp, m, w.un.active, w.hp.z_row);
  /* the state at the chunk's start */
  const float *ck = w.ck != NULL ? w.ck + (int64_t) i * w.a.D : NULL;
  store8_if (ck != NULL && w.un.active, ck, w.h[0], w.h[1]);
  const UnitRows &st = ring.st[i % FWD_STAGES];
  float ut[2][S], zt[2][S];
  read_pairs<MAIN> (st, m, steps, ut, zt, w.bias);
#pragma unroll
  for (int s = 0; s < S; s++)
    if (MAIN || s < steps)
      {
        float2 bc = st.bc[s];
        float y0 = one_state_step (w.h[0], zt[0][s], ut[0][s], bc.x, bc.y, w.A2[0], w.ds[0]);
        float y1 = one_state_step (w.h[1], zt[1][s], ut[1][s], bc.x, bc.y, w.A2[1], w.ds[1]);
        if (WRITE)   /* rounded to nearest even, as to_kd */
          ring.y[i & 1][s][m] = pack_bf16x2 (y0, y1);
      }
  rows_pending_of (rp, st, steps, i & 1, m);
}

/* Forward: y (WRITE) and the state at every chunk start (if hck not NULL); blocks of W
 * warps, IN_STEP a barrier a chunk (in_step_blocks) */
template <bool WRITE, int W, bool IN_STEP>
static __global__ void __launch_bounds__ (32 * W, W == 2 ? 8 : 5)
scan_ring_forward_kernel (ScanArgs<bf16> a, bf16 *y, float *hck, int units)
{
  __shared__ __align__ (16) char rings[2 * W * ring_stride (sizeof (FwdRing))];
  FwdRing &ring = ring_of_half<FwdRing> (rings);
  FwdWalk w;
  w.a = a;
  w.un = unit_of (a, units);
  w.hp = half_plan_of (a, w.un, NULL, NULL);
  int m = w.hp.m, d = w.un.g * UNIT + 2 * m;
  w.chunks = (a.L + S - 1) / S;
#pragma unroll
  for (int c = 0; c < 2; c++)
    {
      int64_t kd = (int64_t) w.un.k * a.D + d + c;
      w.h[c] = 0.0f;
      w.A2[c] = a_of (a, kd, 0) * LOG2E;
      w.ds[c] = a.Dskip != NULL ? a.Dskip[kd] : 0.0f;
      w.bias[c] = a.dbias != NULL ? a.dbias[kd] : 0.0f;
    }
  w.ck = hck != NULL ? hck + (int64_t) w.un.seq * w.chunks * a.D + d : NULL;
  /* y like Δ: the lane's part of its row at position 0 */
  w.y = WRITE ? (const char *) y + (w.hp.z - (const char *) a.delta) : NULL;
  w.rw = route_walk_at (w.hp.rt, 0, m);
#pragma unroll
  for (int q = 0; q < FWD_STAGES - 1; q++)
    {
      if (q < w.chunks)
        fetch_chunk<false> (w.hp, ring.st[q], q, w.rw);
      cp_async_commit ();
    }
  RowsPending rp;
  fwd_iteration<WRITE, false, IN_STEP> (w, ring, rp, 0);
  int i = 1;
  for (; i + FWD_STAGES < w.chunks; i++)   /* chunk i + FWD_STAGES − 1 whole, and chunk i */
    fwd_iteration<WRITE, true, IN_STEP> (w, ring, rp, i);
  for (; i < w.chunks; i++)
    fwd_iteration<WRITE, false, IN_STEP> (w, ring, rp, i);
  if (WRITE)
    {
      __syncwarp ();   /* the last chunk's staged y: every lane's */
      store_unit_rows (w.y, ring.y[rp.buf], rp, m, w.un.active, w.hp.z_row);
    }
}

/* ---- backward ------------------------------------------------------------------------ */

/* a half warp's ring; du and dz staged as rounded bf16 pairs, two buffers */
struct BackRing
{
  BackStage st[BACK_STAGES];
  __align__ (16) uint32_t du[2][S][UNIT / 2], dz[2][S][UNIT / 2];
};

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
  const float bias[2] = { st[0].bias, st[1].bias };
  read_pairs<FULL> (sg.in, m, steps, ut, dl, bias);
#pragma unroll
  for (int s = 0; s < S; s++)
    if (FULL || s < steps)
      {
        pt[s] = s;
        uint32_t gw = *(const uint32_t *) &sg.g[s][2 * m];
        gt[0][s] = __uint_as_float (gw << 16);
        gt[1][s] = __uint_as_float (gw & 0xffff0000u);
        float2 bc = sg.in.bc[s];
        Bt[s][0] = bc.x;
        Ct[s][0] = bc.y;
      }
  float2 h = *(const float2 *) &sg.h0[2 * m];
  const float h00[1] = { h.x }, h01[1] = { h.y };
  float du0[S], dz0[S];
  FirstSink first = { du0, dz0 };
  SecondSink second = { du0, dz0, ring.du[buf], ring.dz[buf], m };
  backward_math<1, S, FULL, KEEP_BU> (1, active, st[0], h00, 0, steps, v, NULL, first, ut[0],
                                      dl[0], gt[0], Bt, Ct, pt);
  backward_math<1, S, FULL, KEEP_BU | ADD_BC> (1, active, st[1], h01, 0, steps, v, NULL,
                                               second, ut[1], dl[1], gt[1], Bt, Ct, pt);
}

/* The backward's pending chunk: its staged rows, plus its (dB, dC) sums (v, not reduced
 * yet), its chunk index and the position of the lane's (dB, dC) step (scatter_value (m) >>
 * 1: with one unit of channels they go to dB / dC by position). Finished in the next
 * chunk's iteration, where the compiler interleaves the work with that chunk's arithmetic
 * (run after it, its dependent shuffles, stores and copies took 48 % of the stall samples
 * at stage 1 for a quarter of the instructions). */
struct Pending
{
  RowsPending rows;
  float v[2 * S];
  int j, pos_bc;
};

/* The chunk's (dB, dC) summed over the unit's 32 channels (the half warp's reduce-scatter:
 * the same tree as scan.cu's warps), written into the unit's slice of out.dbc (64
 * contiguous bytes: bc_slot), which scan.cu sums over the slices tile by tile in the order
 * the direct kernels sum a block's warps (the same bits), or with one unit of channels
 * into dB / dC by position (0 + v: the direct kernels' sum from zero; the slices' −0 the
 * same). Then its du and dz rows. No block barrier, where scan.cu's kernels meet once a
 * chunk. */
__device__ __forceinline__ void
finish_chunk (const ScanArgs<bf16> &a, const Unit &un, const BackOut<bf16> &out,
              const BackRing &ring, Pending &pd, int m, int seqs, const char *du,
              const char *dz, uint32_t row_bytes)
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
  float *p = dst != NULL ? dst + at : NULL;
  store4_if (un.active && s < pd.rows.steps && p != NULL, p, 0.0f + pd.v[0]);
  store_unit_rows (du, ring.du[pd.rows.buf], pd.rows, m, un.active, row_bytes);
  store_unit_rows (dz, ring.dz[pd.rows.buf], pd.rows, m, un.active, row_bytes);
}

/* a unit's backward walk */
struct BackWalk
{
  ScanArgs<bf16> a;
  BackOut<bf16> out;
  Unit un;
  HalfPlan hp;
  BackState<1> st[2];
  RouteWalk rw;
  const char *du, *dz;
  int chunks, seqs;
};

/* Iteration i: chunk j = chunks − 1 − i from stage i mod BACK_STAGES, after the fetch of
 * chunk j − BACK_STAGES + 1 and the previous chunk's finish, each kind of iteration one
 * straight block: the first (its chunk may be partial; the fetch checked), the main ones
 * (FETCH) and the last few (nothing left to fetch). One instance for the first and the
 * last with runtime checks took 244 registers and stage 4 (7 chunks) 6 % longer. */
template <bool FIRST, bool FETCH, bool IN_STEP>
__device__ __forceinline__ void
back_iteration (BackWalk &w, BackRing &ring, Pending &pd, int i)
{
  int m = w.hp.m, j = w.chunks - 1 - i, steps = min (S, w.a.L - j * S);
  int q = i + BACK_STAGES - 1;
  cp_async_wait<BACK_STAGES - 2> ();
  __syncwarp ();
  if (IN_STEP)
    __syncthreads ();   /* the block's units in step (in_step_blocks) */
  /* into the stage chunk i − 1 used; chunks after the first are whole */
  if (FETCH)
    {
      fetch_stage<true> (w.hp, ring.st[q % BACK_STAGES], w.chunks - 1 - q, w.rw.p, S);
      route_walk_prev (w.hp.rt, w.rw);
    }
  else if (FIRST && q < w.chunks)
    fetch_chunk<true> (w.hp, ring.st[q % BACK_STAGES], w.chunks - 1 - q, w.rw);
  cp_async_commit ();
  if (!FIRST)
    finish_chunk (w.a, w.un, w.out, ring, pd, m, w.seqs, w.du, w.dz, w.hp.z_row);
  const BackStage &sg = ring.st[i % BACK_STAGES];
  float v[2 * S];
#pragma unroll
  for (int k = 0; k < 2 * S; k++)
    v[k] = 0.0f;
  backward_pair<!FIRST> (w.st, sg, ring, i & 1, m, steps, v, w.un.active);
#pragma unroll
  for (int k = 0; k < 2 * S; k++)
    pd.v[k] = v[k];
  rows_pending_of (pd.rows, sg.in, steps, i & 1, m);
  pd.j = j;
  pd.pos_bc = sg.in.pos[scatter_value (m) >> 1];
}

/* Backward: chunks last to first, each from its checkpoint (vmamba.md §5.1). About 210
 * registers (at 168 ptxas spilled): four two-warp blocks an SM, or two three-warp ones. */
template <int W, bool IN_STEP>
static __global__ void __launch_bounds__ (32 * W, W == 2 ? 4 : 2)
scan_ring_backward_kernel (ScanArgs<bf16> a, BackOut<bf16> out, int units, int seqs)
{
  __shared__ __align__ (16) char rings[2 * W * ring_stride (sizeof (BackRing))];
  BackRing &ring = ring_of_half<BackRing> (rings);
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
  w.du = (const char *) out.du + part;
  w.dz = (const char *) out.ddelta + part;
  w.chunks = (a.L + S - 1) / S;
  /* the i-th chunk taken is chunk chunks − 1 − i (only the first may be partial) */
  w.rw = route_walk_at (w.hp.rt, w.chunks - 1, m);
#pragma unroll
  for (int i = 0; i < BACK_STAGES - 1; i++)
    {
      if (i < w.chunks)
        fetch_chunk<true> (w.hp, ring.st[i], w.chunks - 1 - i, w.rw);
      cp_async_commit ();
    }
  Pending pd;
  back_iteration<true, false, IN_STEP> (w, ring, pd, 0);
  int i = 1;
  for (; i + BACK_STAGES <= w.chunks; i++)   /* chunk chunks − i − BACK_STAGES to fetch */
    back_iteration<false, true, IN_STEP> (w, ring, pd, i);
  for (; i < w.chunks; i++)
    back_iteration<false, false, IN_STEP> (w, ring, pd, i);
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
      || (a.K * a.D) % 8 != 0)
    return false;
  if (!aligned16 (a.u) || !aligned16 (a.delta))
    return false;
  for (int i = 0; i < n_bufs; i++)
    if (bufs[i] != NULL && !aligned16 (bufs[i]))
      return false;
  return true;
}

/* The block's shape. The units of one sequence read each position's rows (u, dy: 64 bytes
 * of a row of D channels a unit; Δ: of a row of K·D) in turn. Left to themselves the half
 * warps drift apart, and VMamba-T's stage 1 (three units a sequence, 56 × 56 steps) moved
 * about 2.75 TB/s at any batch: its time in proportion to the batch from one warp a
 * scheduler to four. Where a sequence has three or six units (stages 1 and 2), a block of
 * three warps holds whole sequences and meets at a barrier every chunk: stage 1's backward
 * 624 → 551 µs, its forward 367 → 331 (session 16; stage 2 the same within the calls'
 * spread). Elsewhere two warps and no barrier: at the backward's 208 registers two
 * three-warp blocks fit an SM (six warps) against four of two warps, and stages 3 and 4
 * (twelve and 24 units a sequence, several waves) ran slower with them (backward 113 → 142
 * µs); a barrier in two-warp blocks, whose four units are parts of sequences, changed those
 * stages by ±2 %, and clusters of two-warp blocks holding whole sequences cost more than
 * they gave (docs/benchmarks.md, session 16). */
static bool
in_step_blocks (const ScanArgs<bf16> &a)
{
  int units = a.D / UNIT;
  return units == 3 || units == 6;
}

template <int W, bool IN_STEP>
static void
launch_forward (VbCuda *cu, const ScanArgs<bf16> &a, int units, bf16 *y, float *hck)
{
  dim3 grid ((units + 2 * W - 1) / (2 * W));
  if (y != NULL)
    scan_ring_forward_kernel<true, W, IN_STEP><<<grid, 32 * W, 0, cu->stream>>> (a, y, hck,
                                                                                units);
  else
    scan_ring_forward_kernel<false, W, IN_STEP><<<grid, 32 * W, 0, cu->stream>>> (a, y, hck,
                                                                                 units);
}

template <int W, bool IN_STEP>
static void
launch_backward (VbCuda *cu, const ScanArgs<bf16> &a, int units, int seqs,
                 const BackOut<bf16> &out)
{
  dim3 grid ((units + 2 * W - 1) / (2 * W));
  scan_ring_backward_kernel<W, IN_STEP><<<grid, 32 * W, 0, cu->stream>>> (a, out, units, seqs);
}

void
vb_scan_ring_forward (VbCuda *cu, const ScanArgs<bf16> &a, int B, bf16 *y, float *hck)
{
  int units = B * a.K * (a.D / UNIT);
  cu->scan_ring_launches++;
  cu->scan_ring_in_step_launches += in_step_blocks (a);
  if (in_step_blocks (a))
    launch_forward<3, true> (cu, a, units, y, hck);
  else
    launch_forward<2, false> (cu, a, units, y, hck);
}

void
vb_scan_ring_backward (VbCuda *cu, const ScanArgs<bf16> &a, int B, const BackOut<bf16> &out)
{
  int units = B * a.K * (a.D / UNIT);
  cu->scan_ring_launches++;
  cu->scan_ring_in_step_launches += in_step_blocks (a);
  if (in_step_blocks (a))
    launch_backward<3, true> (cu, a, units, B * a.K, out);
  else
    launch_backward<2, false> (cu, a, units, B * a.K, out);
}

extern "C" int64_t
vb_cuda_scan_ring_launches (const VbCuda *cu)
{
  return cu->scan_ring_launches;
}

extern "C" int64_t
vb_cuda_scan_ring_in_step_launches (const VbCuda *cu)
{
  return cu->scan_ring_in_step_launches;
}
