/* scan_pairs.cu: a study for issue 4's scans: does a thread walking two (or four) adjacent
 * channels speed up the one-state SS2D forward? A pair shares each step's (B, C) loads and
 * the route's address arithmetic, and reads u and Δ and writes y four bytes at a time; the
 * price is half the threads. Timed against one channel a thread at VMamba-T's four stage
 * shapes at 224 px and stage 1 at 128 px, y and the checkpoints compared bit for bit.
 *   nvcc -O2 -std=c++17 -gencode arch=compute_90a,code=sm_90a studies/scan_pairs.cu -o pairs && ./pairs
 * Run in session 14 (docs/benchmarks.md, VMamba "Session 14"): a first pair walk with
 * scan_whole's 64-bit indexing (removed since) was 2.2–2.5× scan_whole, but scan_whole is
 * 2.3× slower than the engine's kernel; with the engine's addressing (`scan_lean<C>`) two
 * channels a thread gain nothing at stage 1 (561 against 565 µs: half the warps), 1.7× at stage 2
 * (314 → 180, partly the block shape), four channels 1.5× at stage 3. What the engine took
 * instead: the shared-memory ring (kernels/cuda/scan_ring.cu). */
#include "scan_study.h"

/* ---- the engine's addressing (kernels/cuda/scan.cu, session 14's correction) ------------
 * scan_study.h's walk indexes with 64-bit products every step; the engine keeps per-lane base
 * pointers hidden from the optimiser (`opaque`) and 32-bit offsets, which made its stage-1
 * forward about 2.3× faster than `scan_whole` (≈ 700 against 1624 µs). So the comparison
 * that decides is this one: the same lean addressing with C = 1, 2 or 4 adjacent channels a
 * thread (u, Δ and y moved 2·C bytes at a time, (B, C) and the offsets shared by the C). */
template <typename P>
static __device__ __forceinline__ P *
opaque (P *p)
{
  asm ("" : "+l"(p));
  return p;
}

template <int C> struct Word;
template <> struct Word<1> { typedef unsigned short T; };
template <> struct Word<2> { typedef unsigned int T; };
template <> struct Word<4> { typedef uint2 T; };

/* channel i of a word of C bf16 values, widened exactly */
static __device__ __forceinline__ float bf_at (unsigned short w, int) { return __uint_as_float ((unsigned) w << 16); }
static __device__ __forceinline__ float
bf_at (unsigned int w, int i)
{
  return __uint_as_float (i == 0 ? w << 16 : w & 0xffff0000u);
}
static __device__ __forceinline__ float
bf_at (uint2 w, int i)
{
  return bf_at (i < 2 ? w.x : w.y, i & 1);
}
static __device__ __forceinline__ unsigned
bf_bits (float v)
{
  return __bfloat16_as_ushort (__float2bfloat16_rn (v));
}
static __device__ __forceinline__ void pack (unsigned short &w, const float *v) { w = (unsigned short) bf_bits (v[0]); }
static __device__ __forceinline__ void pack (unsigned int &w, const float *v) { w = bf_bits (v[0]) | bf_bits (v[1]) << 16; }
static __device__ __forceinline__ void
pack (uint2 &w, const float *v)
{
  pack (w.x, v);
  pack (w.y, v + 2);
}

template <int C>
static __global__ void __launch_bounds__ (128, C == 1 ? 6 : 4)
scan_lean (Args a, bf16 *y, float *hck)
{
  typedef typename Word<C>::T W;
  const int lane = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (C * lane >= a.D || row >= a.B * a.K)
    return;
  const int b = row / a.K, k = row % a.K, d = C * lane, KD = a.K * a.D, c = k * a.D + d;
  float A2[C], bias[C], ds[C], h[C];
#pragma unroll
  for (int i = 0; i < C; i++)
    A2[i] = a.A2[c + i], bias[i] = a.bias[c + i], ds[i] = a.Ds[c + i], h[i] = 0.0f;
  const W *u = opaque ((const W *) (a.u + (size_t) b * a.L * a.D + d));
  const W *dt = opaque ((const W *) (a.dt + (size_t) b * a.L * KD + c));
  const float *Bp = opaque (a.Bs + (size_t) b * a.L * a.K + k);
  const float *Cp = opaque (a.Cs + (size_t) b * a.L * a.K + k);
  W *yl = opaque ((W *) (y + (size_t) b * a.L * KD + c));
  const int chunks = (a.L + S - 1) / S, us = a.D / C, ks = KD / C;
  float *ck = opaque (hck + ((size_t) (b * a.K + k) * chunks) * a.D + d);
  for (int t = 0; t < a.L; t += S)
    {
#pragma unroll
      for (int i = 0; i < C; i++)
        ck[(t / S) * a.D + i] = h[i];
      const int n = min (S, a.L - t);
      W uw[S], zw[S];
      float Bv[S], Cv[S];
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            uw[s] = __ldg (u + (t + s) * us);
            zw[s] = __ldg (dt + (t + s) * ks);
            Bv[s] = __ldg (Bp + (t + s) * a.K);
            Cv[s] = __ldg (Cp + (t + s) * a.K);
          }
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            float out[C];
#pragma unroll
            for (int i = 0; i < C; i++)
              {
                const float uu = bf_at (uw[s], i);
                const float dl = softplus (bf_at (zw[s], i) + bias[i]);
                h[i] = vb_ex2 (dl * A2[i]) * h[i] + dl * Bv[s] * uu;
                out[i] = Cv[s] * h[i] + ds[i] * uu;
              }
            W w;
            pack (w, out);
            yl[(t + s) * ks] = w;
          }
    }
}

/* time scan_lean<C> on sd (into y1, ck1), compare with y0/ck0; returns µs */
template <int C>
static float
time_lean (ScanData &sd)
{
  const Args &a = sd.a;
  const int lanes = a.D / C, bx = lanes < 128 ? lanes : 128, by = 128 / bx > 0 ? 128 / bx : 1;
  dim3 blk (bx, by), grd ((lanes + bx - 1) / bx, (a.B * a.K + by - 1) / by);
  CK (cudaMemset (sd.y1, 0, sd.nkd * 2));
  float ms = study_median_ms ([&] { scan_lean<C><<<grd, blk>>> (a, sd.y1, sd.ck1); });
  CK (cudaDeviceSynchronize ());
  printf ("   lean C=%d: %7.1f us, y rel L2 %.2g, ckpt %.2g\n", C, ms * 1e3,
          study_rel_l2 (sd.y1, sd.y0, sd.nkd), study_rel_l2 (sd.ck1, sd.ck0, sd.nck));
  return ms;
}

int
main ()
{
  /* (L, D): VMamba-T's stages 1–4 at 224 px, stage 1 at 128 px; batch 128, K = 4 */
  const int cases[][2] = { { 3136, 96 }, { 784, 192 }, { 196, 384 }, { 49, 768 }, { 1024, 96 } };
  for (auto &cs : cases)
    {
      ScanData sd (128, cs[0], 4, cs[1]);
      const Args &a = sd.a;
      dim3 block = sd.block (), grid = sd.grid (block);
      /* the reference outputs, and scan_whole's time (its 64-bit indexing: the slow baseline
       * the first version of this study measured against) */
      float t_whole = study_median_ms ([&] { scan_whole<<<grid, block>>> (a, sd.y0, sd.ck0); });
      CK (cudaDeviceSynchronize ());
      printf ("L %4d D %3d: scan_whole %7.1f us\n", a.L, a.D, t_whole * 1e3);
      time_lean<1> (sd);
      time_lean<2> (sd);
      time_lean<4> (sd);
    }
  return 0;
}
