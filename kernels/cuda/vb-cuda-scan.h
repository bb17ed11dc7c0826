/* vb-cuda-scan.h: what the SS2D scan's two kernel families share (scan.cu: each thread
 * loads its own inputs; scan_ring.cu: a warp's inputs staged in a shared-memory ring): the
 * routes as arithmetic, the step arithmetic, a thread's view of its sequence, the
 * backward's carried state and its reductions. Both families compute each step with the
 * same functions, so that they give the same bits. */
#pragma once

#include <stdint.h>

#include <cuda_bf16.h>

#include "vb-cuda-fastmath.h"   /* single-instruction 2^x, 1/x */
#include "vb-cuda-private.h"

#define SOFTPLUS_THRESHOLD 20.0f

/* ---- routes (shared/specs/vmamba.md §3.2, as kernels/cpu/cross_scan.c) ---------------- */

enum { ROW_FWD, COL_FWD, ROW_REV, COL_REV };

__device__ __forceinline__ int
route_of (int mode, int k)
{
  switch (mode)
    {
    case VB_SCAN_4DIR: return k;                              /* row, col, row-rev, col-rev */
    case VB_SCAN_2DIR: return k < 2 ? ROW_FWD : ROW_REV;
    case VB_SCAN_LEAN2DIR: return k == 1 ? ROW_REV : ROW_FWD;
    default: return ROW_FWD;                                  /* 1-dir */
    }
}


/* The per-group tensors (delta, y, du, ddelta: T = float or __nv_bfloat16): loaded and
 * widened exactly, stored rounded once to nearest-even (`p[i] = to_kd<T> (v)`, the fp32
 * kernels' own store expression). All arithmetic is fp32 either way, so both storages run
 * the same instructions between loads and stores. */
__device__ __forceinline__ float ld_kd (const float *p) { return __ldg (p); }
__device__ __forceinline__ float
ld_kd (const __nv_bfloat16 *p)
{
  return __bfloat162float (__ldg (p));
}
template <typename T> __device__ __forceinline__ T to_kd (float v);
template <> __device__ __forceinline__ float to_kd<float> (float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16
to_kd<__nv_bfloat16> (float v)
{
  return __float2bfloat16_rn (v);
}

/* ---- selective scan (specs/kernels.md §3–4) --------------------------------------------- */

/* Where a scan reads. Group k visits position pos_k(t) at step t: its cross-scan route on
 * an H×W map (the plain op: the identity, H = 1, W = L). u and dy rows are u_stride
 * values apart with group k's channels at k·u_group (plain op: K·D and D; SS2D: D and 0,
 * one u and dy shared by all groups). u, dy, delta, y, du, ddelta: of T (float, or bf16
 * storage), the last four (B, L, K·D);
 * Bs, Cs: (B, L, K, N), all indexed by position. */
template <typename T>
struct ScanArgs
{
  const T *u;             /* the input of the storage type: bf16 storage reads u16 */
  const T *delta;
  const float *A, *Bs, *Cs, *Dskip, *dbias;
  int L, H, W, K, D, N, mode;
  int64_t u_stride, u_group;
  /* A holds A's logs (the SS2D ops): A = −exp (A_logs) is taken per lane, and the
   * backward's partials are ∂ℓ/∂A_logs = ∂ℓ/∂A · A */
  int a_logs;
};

/* state n's A for channel c */
template <typename T>
__device__ __forceinline__ float
a_of (const ScanArgs<T> &a, int64_t c, int n)
{
  float v = a.A[c * a.N + n];
  return a.a_logs ? -expf (v) : v;
}

/* A route as arithmetic, so that one copy of the scan's code serves every route (four
 * inlined copies overflowed the instruction cache: a third of the backward's stalls):
 * step t visits start + (t mod n)·d1 + (t div n)·(n·d1 + d2), i.e. n steps of d1, then a
 * jump of d2. Column routes go down (up) a column of n = H rows, then wrap to the next
 * (previous) column; row routes never wrap (n = L). */
struct Route
{
  int start, d1, d2, n;
};

/* group k's route: down the columns (col) or along the rows, from the map's end (rev) */
__device__ __forceinline__ void
route_shape (int mode, int k, bool &col, bool &rev)
{
  int r = route_of (mode, k);
  col = r == COL_FWD || r == COL_REV;
  rev = r == ROW_REV || r == COL_REV;
}

__device__ __forceinline__ Route
route_for (int mode, int k, int H, int W)
{
  int L = H * W;
  bool col, rev;
  route_shape (mode, k, col, rev);
  Route rt;
  rt.start = rev ? L - 1 : 0;
  rt.d1 = (col ? W : 1) * (rev ? -1 : 1);
  rt.d2 = col ? (rev ? L - 1 : 1 - L) : 0;
  rt.n = col ? H : L;
  return rt;
}

/* the step at which group k's route visits row r, column c: route_for inverted (a
 * reversed route counts from the map's far corner) */
__device__ __forceinline__ int
step_at (int mode, int k, int H, int W, int r, int c)
{
  bool col, rev;
  route_shape (mode, k, col, rev);
  int rr = rev ? H - 1 - r : r, cc = rev ? W - 1 - c : c;
  return col ? cc * H + rr : rr * W + cc;
}

/* the position of step t, and h = t mod n, the step's place in its run */
__device__ __forceinline__ int
pos_at (const Route &r, int t, int &h)
{
  int q = t / r.n;
  h = t - q * r.n;
  return r.start + h * r.d1 + q * (r.n * r.d1 + r.d2);
}

/* the next step's position, without divisions or branches */
__device__ __forceinline__ int
pos_next (const Route &r, int p, int &h)
{
  h++;
  p += r.d1;
  bool wrap = h == r.n;
  h = wrap ? 0 : h;
  return wrap ? p + r.d2 : p;
}

/* a = e^(Δ·A) is computed as 2^(Δ·A·log2 e): A is scaled once per thread */
#define LOG2E 1.4426950408889634f

/* Δ = softplus(z) with PyTorch's threshold 20 and σ(z) = dΔ/dz, from one exponential,
 * both candidates computed and selected (a branch around special functions stops the
 * compiler from interleaving the unrolled steps). log(1 + e) by the hardware logarithm
 * where e ≥ 0.1 (absolute error ≈ 2.4e-7, relative ≤ 2.5e-6 there) and by its series
 * below (truncation ≤ e⁵/6 relative): both far inside the fp32 parity tolerance, at a
 * fraction of log1pf's instructions. */
__device__ __forceinline__ float
softplus_sel (float z, float &sig)
{
  float e = vb_exp (fminf (z, SOFTPLUS_THRESHOLD));
  float series = __fmaf_rn (e, __fmaf_rn (e, 0.2f, -0.25f), 1.0f / 3.0f);
  series = __fmul_rn (e, __fmaf_rn (e, __fmaf_rn (e, series, -0.5f), 1.0f));
  /* volatile: left to itself the compiler branched around the logarithm where the series
   * is taken, splitting every step into its own blocks */
  float lg2;
  asm volatile ("lg2.approx.ftz.f32 %0, %1;" : "=f"(lg2) : "f"(1.0f + e));
  float lg = e < 0.1f ? series : __fmul_rn (lg2, 0.693147182f);
  sig = __fmul_rn (e, vb_rcp (1.0f + e));
  return z > SOFTPLUS_THRESHOLD ? z : lg;
}

__device__ __forceinline__ float
softplus_sel (float z)
{
  float unused;
  return softplus_sel (z, unused);
}

/* One thread's view: image b, group k, channel d (threads past D compute a copy of
 * channel D−1 so that they can join barriers and shuffles; they write nothing and add
 * zeros) */
struct Lane
{
  int b, k, d;
  bool active;
};

template <typename T>
__device__ __forceinline__ Lane
lane_of (const ScanArgs<T> &a)
{
  Lane ln;
  int d = blockIdx.x * blockDim.x + threadIdx.x;
  ln.b = blockIdx.y / a.K;
  ln.k = blockIdx.y % a.K;
  ln.active = d < a.D;
  ln.d = ln.active ? d : a.D - 1;
  return ln;
}

/* p, hidden from the optimiser: a lane's own pointer, offset each step by a warp-uniform
 * p·stride. Left alone, the compiler split lane pointers back into base + 64-bit element
 * offset and redid the sign extension, scaling and 64-bit addition for every load: 7
 * instructions an address, a third of the forward's. */
template <typename P>
__device__ __forceinline__ P *
opaque (P *p)
{
  asm ("" : "+l"(p));
  return p;
}

/* The thread's inputs at position 0 of its image, group and channel (add p × stride:
 * 32-bit products, as an image's offsets fit in 32 bits; launch checks it), and the
 * offset of its outputs (y, du, ddelta: kd + p·KD) */
template <typename T>
struct Bases
{
  const T *u;
  const T *delta;
  const float *Bs, *Cs;
  const T *dy;
  int64_t kd;
  int us, KD, KN;
  Route rt;               /* the positions this thread's group visits */
};

template <typename T>
__device__ __forceinline__ Bases<T>
bases_of (const ScanArgs<T> &a, const Lane &ln, const T *dy)
{
  Bases<T> o;
  o.KD = a.K * a.D;
  o.KN = a.K * a.N;
  o.us = (int) a.u_stride;
  int64_t u = (int64_t) ln.b * a.L * a.u_stride + (int64_t) ln.k * a.u_group + ln.d;
  int64_t bc = ((int64_t) ln.b * a.L * a.K + ln.k) * a.N;
  o.kd = (int64_t) ln.b * a.L * o.KD + (int64_t) ln.k * a.D + ln.d;
  o.u = opaque (a.u + u);
  o.dy = dy != NULL ? opaque (dy + u) : NULL;
  o.delta = opaque (a.delta + o.kd);
  o.Bs = opaque (a.Bs + bc);
  o.Cs = opaque (a.Cs + bc);
  o.rt = route_for (a.mode, ln.k, a.H, a.W);
  return o;
}

/* h_t per chunk start: hck[((b·K + k)·chunks + j)·N + n][D] */
template <typename T>
__device__ __forceinline__ float *
ckpt_of (float *hck, const ScanArgs<T> &a, const Lane &ln)
{
  int chunks = (a.L + VB_SCAN_CKPT_STEPS - 1) / VB_SCAN_CKPT_STEPS;
  return hck + ((int64_t) ln.b * a.K + ln.k) * chunks * a.N * a.D + ln.d;
}

/* The step arithmetic is written with explicit roundings (__fmaf_rn, __fmul_rn,
 * __fadd_rn): left to contract products into additions itself, the compiler fused
 * different products in the two kernel families (which product of a·b + c·d it keeps
 * rounded depends on the code around it), and their outputs differed in the last bit. */

/* h ← a·h + Δ·(B·u) with a = 2^(Δ·A·log2 e) (A2 = A·log2 e); B·u first: the backward
 * keeps it for its walk */
__device__ __forceinline__ float
state_update (float h, float dl, float A2, float B, float u)
{
  return __fmaf_rn (vb_ex2 (__fmul_rn (dl, A2)), h, __fmul_rn (dl, __fmul_rn (B, u)));
}

/* one step of the recurrence for all states; the forward, the backward's recomputation and
 * its catch-up walk share it, so all see the same states */
template <int NT>
__device__ __forceinline__ void
state_step (float (&h)[NT], const float (&A2)[NT], float dl, float ut, const float *Bp, int N)
{
#pragma unroll
  for (int n = 0; n < NT; n++)
    h[n] = n < N ? state_update (h[n], dl, A2[n], __ldg (Bp + n), ut) : 0.0f;
}

/* sum over the 32 lanes of a warp, in a fixed order; valid in lane 0 */
__device__ __forceinline__ float
warp_sum (float v)
{
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync (0xffffffffu, v, off);
  return v;
}

/* Reduce-scatter of 16 values by halving exchanges (15 shuffles rather than 5·16), the
 * lowest lane bit first: a round of MASK leaves KEEP values a lane. The tree is fixed by
 * channel bits, lowest first, so that a lane holding two adjacent channels (scan_ring.cu)
 * adds them itself as the first level and then reaches the same sums, bit for bit, as a
 * warp of one channel a lane. */
template <int KEEP, int MASK>
__device__ __forceinline__ void
scatter_round (float (&v)[16], int lane)
{
  bool upper = (lane & MASK) != 0;
#pragma unroll
  for (int i = 0; i < KEEP; i++)
    {
      float send = upper ? v[i] : v[i + KEEP];
      float keep = upper ? v[i + KEEP] : v[i];
      v[i] = keep + __shfl_xor_sync (0xffffffffu, send, MASK);
    }
}

/* over each half warp (lane bits 0–3): afterwards lane l holds in v[0] its half's sum of
 * value scatter_value (l) */
__device__ __forceinline__ void
reduce_scatter_half (float (&v)[16], int lane)
{
  scatter_round<8, 1> (v, lane);
  scatter_round<4, 2> (v, lane);
  scatter_round<2, 4> (v, lane);
  scatter_round<1, 8> (v, lane);
}

/* which value lane l holds: its bits 0–3 reversed (the first round splits the values'
 * upper and lower halves) */
__device__ __forceinline__ int
scatter_value (int lane)
{
  return (int) (__brev ((unsigned) lane) >> 28);
}

/* over the whole warp: lanes l and l + 16 hold the sum of value scatter_value (l) */
__device__ __forceinline__ void
reduce_scatter16 (float (&v)[16], int lane)
{
  reduce_scatter_half (v, lane);
  v[0] += __shfl_xor_sync (0xffffffffu, v[0], 16);
}

#define SCAN_MAX_WARPS 4

template <typename T>
struct BackOut
{
  T *du, *ddelta;
  float *dbc;             /* (dB, dC) pairs: [tile][(b·L + p)·K + k][2N] */
  float *dB, *dC;         /* or, with one channel tile, dBs / dCs themselves */
  float *part_p;          /* [b][K·D][N + 2]: dA, dDskip, ddbias per image */
  const T *dy;            /* the storage type's: bf16 storage reads dy as bf16 */
  const float *hck;
};

/* what a backward thread carries from chunk to chunk */
template <int NT>
struct BackState
{
  float An[NT], A2[NT], lam[NT], anext[NT], accA[NT];
  float ds, bias, accD, accdb;
  bool store_du, store_ddelta;   /* an active lane's outputs that are asked for */
};

/* one step of the one-state forward from z = Δ's input + bias: h ← a·h + Δ·B·u with
 * a = 2^(Δ·A·log2 e); returns y = C·h + Ds·u before its rounding */
__device__ __forceinline__ float
one_state_step (float &h, float z, float u, float B, float C, float A2, float ds)
{
  float dl = softplus_sel (z);
  h = state_update (h, dl, A2, B, u);
  return __fmaf_rn (C, h, __fmul_rn (ds, u));
}

/* Steps s0 … s0 + sub − 1 of a chunk from their inputs and the state h0 at step s0:
 * recompute the states, then walk back. The inputs by step: u; z = Δ's input + bias,
 * replaced by Δ; dy; (B, C) of each state; the positions (for outputs stored by
 * position). FULL chunks run unguarded, so the compiler can interleave the steps. (dB,
 * dC) go to v (N = 1: reduced later for the whole chunk; see OPT) or straight into the
 * warp's slots; du and dz to the sink (Sink::store). N is the block's state count (the shuffles
 * stay convergent); an inactive lane adds exact zeros. The inputs as arrays, not a struct
 * of them: with the struct ptxas spilled the one-state backward at its 128 registers. */
/* backward_math's options: ADD_BC adds (dB, dC) to what v holds (a lane's second channel);
 * KEEP_BU keeps B_t·u_t in registers from the recomputation to the walk (one state; eight
 * registers the direct kernels do not have at 128) */
enum { ADD_BC = 1, KEEP_BU = 2 };

template <int NT, int SUB, bool FULL, int OPT = 0, typename Sink>
__device__ __forceinline__ void
backward_math (int N, bool active, BackState<NT> &st, const float (&h0)[NT], int s0, int sub,
               float (&v)[NT == 1 ? 2 * VB_SCAN_CKPT_STEPS : 1], float *red, const Sink &sink,
               const float (&ut)[SUB], float (&dl)[SUB], const float (&gt)[SUB],
               const float (&Bt)[SUB][NT], const float (&Ct)[SUB][NT], const int (&pt)[SUB])
{
  /* a_t kept from the recomputation with one state (and B_t·u_t: KEEP_BU); with more they
   * are recomputed (registers) */
  constexpr bool keep_bu = NT == 1 && (OPT & KEEP_BU) != 0;
  float hist[SUB + 1][NT], at[NT == 1 ? SUB : 1], bu[keep_bu ? SUB : 1], sg[SUB];
  /* recompute the states */
#pragma unroll
  for (int n = 0; n < NT; n++)
    hist[0][n] = h0[n];
#pragma unroll
  for (int s = 0; s < SUB; s++)
    if (FULL || s < sub)
      {
        dl[s] = softplus_sel (dl[s], sg[s]);
#pragma unroll
        for (int n = 0; n < NT; n++)
          {
            float an = vb_ex2 (__fmul_rn (dl[s], st.A2[n]));
            float b_u = __fmul_rn (Bt[s][n], ut[s]);
            if constexpr (NT == 1)
              at[s] = an;
            if constexpr (keep_bu)
              bu[s] = b_u;
            /* state_update's arithmetic, a_t and B_t·u_t kept */
            hist[s + 1][n] = __fmaf_rn (an, hist[s][n], __fmul_rn (dl[s], b_u));
          }
      }
  /* walk back: λ_t = g_t·C_t + a_{t+1}·λ_{t+1} */
#pragma unroll
  for (int s = SUB - 1; s >= 0; s--)
    if (FULL || s < sub)
      {
        float g = gt[s], dut = __fmul_rn (st.ds, g), ddl = 0.0f;
        st.accD = __fmaf_rn (g, ut[s], st.accD);
#pragma unroll
        for (int n = 0; n < NT; n++)
          if (n < N)   /* N is the block's: the shuffles below stay convergent */
            {
              float an, b_u;
              if constexpr (NT == 1)
                an = at[s];
              else
                an = vb_ex2 (__fmul_rn (dl[s], st.A2[n]));
              if constexpr (keep_bu)
                b_u = bu[s];
              else
                b_u = __fmul_rn (Bt[s][n], ut[s]);
              float l = __fmaf_rn (g, Ct[s][n], __fmul_rn (st.anext[n], st.lam[n]));
              float ahp = __fmul_rn (an, hist[s][n]);          /* a_t·h_{t−1} */
              float ldl = __fmul_rn (l, dl[s]);
              st.lam[n] = l;
              st.anext[n] = an;
              dut = __fmaf_rn (ldl, Bt[s][n], dut);
              /* ∂ℓ/∂Δ_t: λ_t·(B_t·u_t + A·a_t·h_{t−1}), the first state's term ddl itself
               * (0 + x: an instruction a step) */
              float term = __fmul_rn (l, __fmaf_rn (st.An[n], ahp, b_u));
              ddl = n == 0 ? term : __fadd_rn (ddl, term);
              st.accA[n] = __fmaf_rn (ldl, ahp, st.accA[n]);
              /* an inactive lane's state is a stale copy: it adds exact zeros */
              float vB = active ? __fmul_rn (ldl, ut[s]) : 0.0f;
              float vC = active ? __fmul_rn (g, hist[s + 1][n]) : 0.0f;
              if constexpr (NT == 1)
                {
                  constexpr bool add = (OPT & ADD_BC) != 0;
                  v[s * 2] = add ? __fadd_rn (v[s * 2], vB) : vB;
                  v[s * 2 + 1] = add ? __fadd_rn (v[s * 2 + 1], vC) : vC;
                }
              else
                {
                  float sB = warp_sum (vB), sC = warp_sum (vC);
                  if ((threadIdx.x & 31) == 0)
                    {
                      red[((s0 + s) * NT + n) * 2] = sB;
                      red[((s0 + s) * NT + n) * 2 + 1] = sC;
                    }
                }
            }
        float dz = __fmul_rn (ddl, sg[s]);
        st.accdb = __fadd_rn (st.accdb, dz);
        sink.store (st, s, pt[s], dz, dut);
      }
}

/* a backward lane's carried state at the start (the last chunk) */
template <int NT, typename T>
__device__ __forceinline__ BackState<NT>
back_state_of (const ScanArgs<T> &a, const Lane &ln, const BackOut<T> &out)
{
  int64_t c = (int64_t) ln.k * a.D + ln.d;
  BackState<NT> st;
  st.ds = a.Dskip != NULL ? a.Dskip[c] : 0.0f;
  st.bias = a.dbias != NULL ? a.dbias[c] : 0.0f;
  st.accD = st.accdb = 0.0f;
  st.store_du = ln.active && out.du != NULL;
  st.store_ddelta = ln.active && out.ddelta != NULL;
#pragma unroll
  for (int n = 0; n < NT; n++)
    {
      st.An[n] = n < a.N ? a_of (a, c, n) : 0.0f;
      st.A2[n] = st.An[n] * LOG2E;
      st.lam[n] = st.anext[n] = st.accA[n] = 0.0f;
    }
  return st;
}

/* where slice `slice`'s (dB, dC) sums of step t of sequence seq (image b, group k: b·K +
 * k, of seqs) begin in out.dbc, in units of N (dB, dC) pairs: slices, then sequences, then
 * steps in route order, so that a chunk's sums are written contiguously (scan.cu's
 * reduction maps the steps to positions) */
template <typename T>
__device__ __forceinline__ int64_t
bc_slot (const ScanArgs<T> &a, int slice, int seq, int seqs, int t)
{
  return ((int64_t) slice * seqs + seq) * a.L + t;
}

/* per-image partials of the batch-summed parameter gradients: dA or dA_logs (N), dDskip,
 * ddbias */
template <int NT, typename T>
__device__ __forceinline__ void
param_partials (const ScanArgs<T> &a, const Lane &ln, const BackOut<T> &out,
                const BackState<NT> &st)
{
  if (!ln.active)
    return;
  int64_t c = (int64_t) ln.k * a.D + ln.d;
  float *pp = out.part_p + ((int64_t) ln.b * a.K * a.D + c) * (a.N + 2);
#pragma unroll
  for (int n = 0; n < NT; n++)
    if (n < a.N)
      pp[n] = a.a_logs ? st.accA[n] * st.An[n] : st.accA[n];
  pp[a.N] = st.accD;
  pp[a.N + 1] = st.accdb;
}

/* scan_ring.cu: the one-state kernels with bf16 storage whose inputs a shared-memory ring
 * stages, where the shapes fit them: one state, whole units of 32 channels (D a multiple
 * of 32, and of ct, the direct kernels' channels a block, whose tiles order the (dB, dC)
 * sums), 16-byte rows, the buffers (bufs, NULL skipped)
 * 16-byte aligned, and the context not told otherwise (VB_SCAN_NO_RING). The same bits as
 * scan.cu's kernels, on a grid of their own (half warps of 32 channels); the backward sums
 * (dB, dC) into out.dbc by 32 channels. */
bool vb_scan_ring_fits (const VbCuda *cu, const ScanArgs<__nv_bfloat16> &a, int ct,
                        const void *const *bufs, int n_bufs);
void vb_scan_ring_forward (VbCuda *cu, const ScanArgs<__nv_bfloat16> &a, int B,
                           __nv_bfloat16 *y, float *hck);
void vb_scan_ring_backward (VbCuda *cu, const ScanArgs<__nv_bfloat16> &a, int B,
                            const BackOut<__nv_bfloat16> &out);
