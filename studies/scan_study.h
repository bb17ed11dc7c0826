/* scan_study.h: what the scan studies share (scan_segments.cu, scan_pairs.cu): a
 * simplified copy of kernels/cuda/scan.cu's one-state bf16 SS2D forward (row routes only,
 * the same step arithmetic: softplus with its series, 2^(Δ·A·log2 e) on the hardware
 * exponential, 8 steps a chunk loaded before their arithmetic), its arguments, the one-thread-
 * a-sequence walk, and the inputs at VMamba-T's value ranges. */
#pragma once

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

/* a problem's inputs (VMamba-T's ranges at initialisation), two outputs and two sets of
 * checkpoints to compare; freed with the object */
struct ScanData
{
  Args a;
  size_t nu, nkd, nbc, nck;
  bf16 *u, *dt, *y0, *y1;
  float *Bs, *Cs, *A2, *bias, *Ds, *ck0, *ck1;

  ScanData (int B, int L, int K, int D)
  {
    a.B = B, a.L = L, a.K = K, a.D = D;
    nu = (size_t) B * L * D, nkd = nu * K, nbc = (size_t) B * L * K;
    nck = (size_t) B * K * ((L + S - 1) / S) * D;
    CK (cudaMalloc (&u, nu * 2)); CK (cudaMalloc (&dt, nkd * 2));
    CK (cudaMalloc (&y0, nkd * 2)); CK (cudaMalloc (&y1, nkd * 2));
    CK (cudaMalloc (&Bs, nbc * 4)); CK (cudaMalloc (&Cs, nbc * 4));
    CK (cudaMalloc (&A2, (size_t) K * D * 4)); CK (cudaMalloc (&bias, (size_t) K * D * 4));
    CK (cudaMalloc (&Ds, (size_t) K * D * 4));
    CK (cudaMalloc (&ck0, nck * 4)); CK (cudaMalloc (&ck1, nck * 4));
    study_fill_launch (u, nu, 1, -2.0f, 2.0f);
    /* Δ at initialisation: softplus (z + bias) in about [1e-3, 0.1] */
    study_fill_launch (dt, nkd, 2, -1.0f, 1.0f);
    study_fill_launch (Bs, nbc, 3, -1.0f, 1.0f);
    study_fill_launch (Cs, nbc, 4, -1.0f, 1.0f);
    study_fill_launch (A2, (size_t) K * D, 5, -16.0f * LOG2E, -1.0f * LOG2E);
    study_fill_launch (bias, (size_t) K * D, 6, -6.0f, -3.0f);
    study_fill_launch (Ds, (size_t) K * D, 7, 0.5f, 1.5f);
    a.u = u, a.dt = dt, a.Bs = Bs, a.Cs = Cs, a.A2 = A2, a.bias = bias, a.Ds = Ds;
  }
  ~ScanData ()
  {
    CK (cudaFree (u)); CK (cudaFree (dt)); CK (cudaFree (y0)); CK (cudaFree (y1));
    CK (cudaFree (Bs)); CK (cudaFree (Cs)); CK (cudaFree (A2)); CK (cudaFree (bias));
    CK (cudaFree (Ds)); CK (cudaFree (ck0)); CK (cudaFree (ck1));
  }
  /* the engine's channels a block: 128 where they divide D, else 96 (96, 192) */
  dim3 block () const { return dim3 (a.D % 128 == 0 ? 128 : 96); }
  dim3 grid (dim3 blk) const { return dim3 ((a.D + blk.x - 1) / blk.x, a.B * a.K); }
};
