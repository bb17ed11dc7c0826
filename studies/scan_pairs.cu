/* scan_pairs.cu: a study for issue 4's scans, to run next session: does a thread walking two
 * adjacent channels speed up the one-state SS2D forward? scan_segments.cu (session 13) found
 * the forward bound by its instructions a step once the multiprocessors hold enough warps,
 * not by latency: at stage 1, eight times the threads ran only 1.85× faster. A pair of
 * channels shares each step's (B, C) loads and the route's address arithmetic, and reads u
 * and Δ and writes y four bytes at a time (the channels are adjacent in memory): per channel
 * and step, two loads instead of four and half a store and its address. The price: half the
 * threads (stage 1 at 224 px: 24,576 pairs, 1.45 warps a scheduler) and more registers.
 *
 * Timed against the engine's design (one thread a sequence, scan_study.h) at VMamba-T's four
 * stage shapes at 224 px and stage 1 at 128 px; y and the checkpoints compared bit for bit
 * (the same arithmetic a channel, in the same order).
 *   nvcc -O2 -std=c++17 -gencode arch=compute_90a,code=sm_90a studies/scan_pairs.cu -o pairs && ./pairs
 * Not yet run on a GPU (written at the end of session 13, without device time left). */
#include "scan_study.h"

typedef __nv_bfloat162 bf162;

/* channels d, d + 1 (d even) of image b, group k, the whole sequence from a zero state */
static __device__ __forceinline__ void
walk_pair (const Args &a, int b, int k, int d, bf16 *y, float *hck)
{
  const int KD = a.K * a.D, c = k * a.D + d;
  const float2 A2 = make_float2 (a.A2[c], a.A2[c + 1]);
  const float2 bias = make_float2 (a.bias[c], a.bias[c + 1]);
  const float2 ds = make_float2 (a.Ds[c], a.Ds[c + 1]);
  const bf162 *u = reinterpret_cast<const bf162 *> (a.u + (size_t) b * a.L * a.D + d);
  const bf162 *dt = reinterpret_cast<const bf162 *> (a.dt + (size_t) b * a.L * KD + c);
  const float *Bp = a.Bs + (size_t) b * a.L * a.K + k, *Cp = a.Cs + (size_t) b * a.L * a.K + k;
  bf162 *yl = reinterpret_cast<bf162 *> (y + (size_t) b * a.L * KD + c);
  const int chunks = (a.L + S - 1) / S, ud = a.D / 2, kd = KD / 2;
  float2 *ck = reinterpret_cast<float2 *> (hck + ((size_t) (b * a.K + k) * chunks) * a.D + d);
  float h0 = 0.0f, h1 = 0.0f;
  for (int t = 0; t < a.L; t += S)
    {
      ck[(size_t) (t / S) * ud] = make_float2 (h0, h1);
      const int n = min (S, a.L - t);
      bf162 uv[S], zv[S];
      float Bv[S], Cv[S];
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            uv[s] = u[(size_t) (t + s) * ud];
            zv[s] = dt[(size_t) (t + s) * kd];
            Bv[s] = Bp[(size_t) (t + s) * a.K];
            Cv[s] = Cp[(size_t) (t + s) * a.K];
          }
#pragma unroll
      for (int s = 0; s < S; s++)
        if (s < n)
          {
            const float2 uu = __bfloat1622float2 (uv[s]), zz = __bfloat1622float2 (zv[s]);
            const float d0 = softplus (zz.x + bias.x), d1 = softplus (zz.y + bias.y);
            h0 = vb_ex2 (d0 * A2.x) * h0 + d0 * Bv[s] * uu.x;
            h1 = vb_ex2 (d1 * A2.y) * h1 + d1 * Bv[s] * uu.y;
            yl[(size_t) (t + s) * kd]
                = __floats2bfloat162_rn (Cv[s] * h0 + ds.x * uu.x, Cv[s] * h1 + ds.y * uu.y);
          }
    }
}

/* x: pairs of channels; y: (image, group) rows, several a block where D is small */
static __global__ void __launch_bounds__ (128, 5)
scan_pairs (Args a, bf16 *y, float *hck)
{
  const int pair = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (2 * pair >= a.D || row >= a.B * a.K)
    return;
  walk_pair (a, row / a.K, row % a.K, 2 * pair, y, hck);
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
      float t_whole = study_median_ms ([&] { scan_whole<<<grid, block>>> (a, sd.y0, sd.ck0); });
      /* 96 to 128 threads a block: the pairs of one row, or of two rows where D = 96 */
      const int pairs = a.D / 2, bx = pairs < 128 ? pairs : 128, by = bx < 64 ? 96 / bx : 1;
      dim3 pblock (bx, by), pgrid ((pairs + bx - 1) / bx, (a.B * a.K + by - 1) / by);
      float t_pairs = study_median_ms ([&] { scan_pairs<<<pgrid, pblock>>> (a, sd.y1, sd.ck1); });
      CK (cudaDeviceSynchronize ());
      printf ("L %4d D %3d: one channel a thread %7.1f us, two %7.1f us (%.2fx); y rel L2 %.2g, "
              "checkpoints %.2g\n",
              a.L, a.D, t_whole * 1e3, t_pairs * 1e3, t_whole / t_pairs,
              study_rel_l2 (sd.y1, sd.y0, sd.nkd), study_rel_l2 (sd.ck1, sd.ck0, sd.nck));
    }
  return 0;
}
