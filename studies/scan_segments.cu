/* scan_segments.cu: a study for issue 4's scans, to run next session: does splitting each
 * sequence into G segments (a carry pass, then the scan from each segment's carry) speed up
 * the one-state SS2D forward where sequences are long and few (VMamba-T's stage 1: 49,152
 * sequences of 3136 steps at 224 px, 2.87 warps a scheduler, an instruction issued on half the
 * cycles, 45 % of the stalls on global loads: docs/benchmarks.md, session 12)?
 *
 * h_t = a_t·h_{t−1} + b_t is linear in h: over a segment from a zero state it ends at H with
 * the product P = Π a_t, so a segment's true start state is carried in order: h_in(s + 1) =
 * P_s·h_in(s) + H_s. Pass 1 runs the first G − 1 segments of every sequence from zero (no y,
 * no C, no checkpoints: fewer loads and instructions a step), pass 2 runs all G segments from
 * their carried state as the engine's forward does (y and fp32 checkpoints every 8 steps). G
 * times the threads in pass 2; pass 1 has G − 1 times.
 *
 * The kernels here are a simplified copy of kernels/cuda/scan.cu's one-state bf16 forward
 * (row routes only, the same step arithmetic: softplus with its series, 2^(Δ·A·log2 e) on the
 * hardware exponential, 8 steps a chunk loaded before their arithmetic): the baseline and the
 * segmented form are timed side by side, and the segmented y and checkpoints compared with the
 * baseline's (reassociation only: relative L2 ~1e-6 expected).
 *   nvcc -O2 -gencode arch=compute_90a,code=sm_90a studies/scan_segments.cu -o seg && ./seg
 * Run in session 13 (docs/benchmarks.md, VMamba "Session 13"): at best 1.12× at stage 1 (G = 8),
 * slower at stage 2; the scan is bound by its instructions a step, not by latency: dropped. */
#include <cmath>

#include "../kernels/cuda/vb-cuda-fastmath.h"   /* vb_ex2: the engine's 2^x */
#include "study.h"

typedef __nv_bfloat16 bf16;
#define S 8             /* steps a chunk (the engine's VB_SCAN_CKPT_STEPS) */
#define LOG2E 1.4426950408889634f

/* Δ = softplus(z) as scan.cu's softplus_sel (threshold 20, series below e = 0.1) */
static __device__ __forceinline__ float
softplus (float z)
{
  float e = vb_ex2 (fminf (z, 20.0f) * LOG2E);
  float series = e * (1.0f + e * (-0.5f + e * (1.0f / 3.0f + e * (-0.25f + e * 0.2f))));
  float lg2;
  asm volatile ("lg2.approx.ftz.f32 %0, %1;" : "=f"(lg2) : "f"(1.0f + e));
  float lg = e < 0.1f ? series : lg2 * 0.693147182f;
  return z > 20.0f ? z : lg;
}

struct Args
{
  const bf16 *u;        /* [B][L][D] */
  const bf16 *dt;       /* [B][L][K][D] */
  const float *Bs, *Cs; /* [B][L][K] */
  const float *A2, *bias, *Ds;   /* [K][D]: A·log2 e, Δ's bias, the skip */
  int B, L, K, D;
};

/* one thread: image b, group k, channel d, steps [t0, t1) from state h (t0, t1 multiples of
 * S but the sequence's end); WRITE: y and the checkpoints (the state at each chunk's start);
 * returns the end state and, with PROD, the product of the a_t in *prod */
template <bool WRITE, bool PROD>
static __device__ __forceinline__ float
walk (const Args &a, int b, int k, int d, int t0, int t1, float h, bf16 *y, float *hck, float *prod)
{
  const int KD = a.K * a.D, c = k * a.D + d;
  const float A2 = a.A2[c], bias = a.bias[c], ds = a.Ds[c];
  const bf16 *u = a.u + (size_t) b * a.L * a.D + d;
  const bf16 *dt = a.dt + (size_t) b * a.L * KD + c;
  const float *Bp = a.Bs + (size_t) b * a.L * a.K + k, *Cp = a.Cs + (size_t) b * a.L * a.K + k;
  bf16 *yl = y + (size_t) b * a.L * KD + c;
  const int chunks = (a.L + S - 1) / S;
  float *ck = hck + ((size_t) (b * a.K + k) * chunks) * a.D + d;
  float P = 1.0f;
  for (int t = t0; t < t1; t += S)
    {
      if (WRITE)
        ck[(size_t) (t / S) * a.D] = h;
      int n = min (S, t1 - t);
      float uv[S], z[S], Bv[S], Cv[S];
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            uv[s] = __bfloat162float (u[(size_t) (t + s) * a.D]);
            z[s] = __bfloat162float (dt[(size_t) (t + s) * KD]) + bias;
            Bv[s] = Bp[(size_t) (t + s) * a.K];
            if (WRITE)
              Cv[s] = Cp[(size_t) (t + s) * a.K];
          }
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            float dl = softplus (z[s]), at = vb_ex2 (dl * A2);
            h = at * h + dl * Bv[s] * uv[s];
            if (PROD)
              P *= at;
            if (WRITE)
              yl[(size_t) (t + s) * KD] = __float2bfloat16 (Cv[s] * h + ds * uv[s]);
          }
    }
  if (PROD)
    *prod = P;
  return h;
}

/* the engine's design: one thread a sequence */
static __global__ void __launch_bounds__ (128, 6)
scan_whole (Args a, bf16 *y, float *hck)
{
  int d = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y / a.K, k = blockIdx.y % a.K;
  if (d >= a.D)
    return;
  walk<true, false> (a, b, k, d, 0, a.L, 0.0f, y, hck, nullptr);
}

/* pass 1: segments 0 … G − 2 from a zero state: carry[b][k][seg][d] = (P, H) */
static __global__ void __launch_bounds__ (128, 6)
scan_carries (Args a, int G, int seg_len, float2 *carry)
{
  int d = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y / a.K, k = blockIdx.y % a.K;
  int seg = blockIdx.z;
  if (d >= a.D)
    return;
  float P;
  float H = walk<false, true> (a, b, k, d, seg * seg_len, (seg + 1) * seg_len, 0.0f, nullptr,
                               nullptr, &P);
  carry[((size_t) (b * a.K + k) * G + seg) * a.D + d] = make_float2 (P, H);
}

/* pass 2: every segment from its carried state */
static __global__ void __launch_bounds__ (128, 6)
scan_segments (Args a, int G, int seg_len, const float2 *carry, bf16 *y, float *hck)
{
  int d = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y / a.K, k = blockIdx.y % a.K;
  int seg = blockIdx.z;
  if (d >= a.D)
    return;
  float h = 0.0f;
  for (int s = 0; s < seg; s++)
    {
      float2 c = carry[((size_t) (b * a.K + k) * G + s) * a.D + d];
      h = c.x * h + c.y;
    }
  walk<true, false> (a, b, k, d, seg * seg_len, min (a.L, (seg + 1) * seg_len), h, y, hck,
                     nullptr);
}

int
main ()
{
  /* (L, D): VMamba-T's stages 1 and 2 at 224 px, stage 1 at 128 px; batch 128, K = 4 */
  const int cases[][2] = { { 3136, 96 }, { 784, 192 }, { 1024, 96 } };
  for (auto &cs : cases)
    {
      Args a;
      a.B = 128, a.K = 4, a.L = cs[0], a.D = cs[1];
      size_t nu = (size_t) a.B * a.L * a.D, nkd = nu * a.K, nbc = (size_t) a.B * a.L * a.K;
      int chunks = (a.L + S - 1) / S;
      size_t nck = (size_t) a.B * a.K * chunks * a.D;
      bf16 *u, *dt, *y0, *y1;
      float *Bs, *Cs, *A2, *bias, *Ds, *ck0, *ck1;
      float2 *carry;
      CK (cudaMalloc (&u, nu * 2)); CK (cudaMalloc (&dt, nkd * 2));
      CK (cudaMalloc (&y0, nkd * 2)); CK (cudaMalloc (&y1, nkd * 2));
      CK (cudaMalloc (&Bs, nbc * 4)); CK (cudaMalloc (&Cs, nbc * 4));
      CK (cudaMalloc (&A2, a.K * a.D * 4)); CK (cudaMalloc (&bias, a.K * a.D * 4));
      CK (cudaMalloc (&Ds, a.K * a.D * 4));
      CK (cudaMalloc (&ck0, nck * 4)); CK (cudaMalloc (&ck1, nck * 4));
      CK (cudaMalloc (&carry, (size_t) a.B * a.K * 8 * a.D * sizeof (float2)));
      study_fill_launch (u, nu, 1, -2.0f, 2.0f);
      /* Δ at initialisation: softplus (z + bias) in about [1e-3, 0.1] */
      study_fill_launch (dt, nkd, 2, -1.0f, 1.0f);
      study_fill_launch (Bs, nbc, 3, -1.0f, 1.0f);
      study_fill_launch (Cs, nbc, 4, -1.0f, 1.0f);
      study_fill_launch (A2, (size_t) a.K * a.D, 5, -16.0f * LOG2E, -1.0f * LOG2E);
      study_fill_launch (bias, (size_t) a.K * a.D, 6, -6.0f, -3.0f);
      study_fill_launch (Ds, (size_t) a.K * a.D, 7, 0.5f, 1.5f);
      a.u = u, a.dt = dt, a.Bs = Bs, a.Cs = Cs, a.A2 = A2, a.bias = bias, a.Ds = Ds;
      /* the engine's channels a block: 128 where they divide D, else 96 (96, 192) */
      dim3 block (a.D % 128 == 0 ? 128 : 96), grid ((a.D + block.x - 1) / block.x, a.B * a.K);
      float t_whole = study_median_ms ([&] { scan_whole<<<grid, block>>> (a, y0, ck0); });
      CK (cudaDeviceSynchronize ());
      printf ("L %d D %d: one thread a sequence %.1f us (%d sequences)\n", a.L, a.D, t_whole * 1e3,
              a.B * a.K * a.D);
      for (int G = 2; G <= 8; G *= 2)
        {
          /* segments of whole chunks */
          int seg_len = (a.L + G - 1) / G;
          seg_len = (seg_len + S - 1) / S * S;
          if (seg_len * (G - 1) >= a.L)
            continue;
          dim3 g1 (grid.x, grid.y, G - 1), g2 (grid.x, grid.y, G);
          auto run = [&] {
            scan_carries<<<g1, block>>> (a, G, seg_len, carry);
            scan_segments<<<g2, block>>> (a, G, seg_len, carry, y1, ck1);
          };
          float t1 = study_median_ms ([&] { scan_carries<<<g1, block>>> (a, G, seg_len, carry); });
          float t2 = study_median_ms (run);
          CK (cudaDeviceSynchronize ());
          printf ("  G %d: carries %.1f us, both passes %.1f us (%.2fx); y rel L2 %.2g, "
                  "checkpoints %.2g\n",
                  G, t1 * 1e3, t2 * 1e3, t_whole / t2, study_rel_l2 (y1, y0, nkd),
                  study_rel_l2 (ck1, ck0, nck));
        }
      CK (cudaFree (u)); CK (cudaFree (dt)); CK (cudaFree (y0)); CK (cudaFree (y1));
      CK (cudaFree (Bs)); CK (cudaFree (Cs)); CK (cudaFree (A2)); CK (cudaFree (bias));
      CK (cudaFree (Ds)); CK (cudaFree (ck0)); CK (cudaFree (ck1)); CK (cudaFree (carry));
    }
  return 0;
}
