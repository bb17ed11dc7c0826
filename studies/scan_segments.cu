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
#include "scan_study.h"

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
      ScanData sd (128, cs[0], 4, cs[1]);
      Args &a = sd.a;
      size_t nkd = sd.nkd, nck = sd.nck;
      bf16 *y0 = sd.y0, *y1 = sd.y1;
      float *ck0 = sd.ck0, *ck1 = sd.ck1;
      float2 *carry;
      CK (cudaMalloc (&carry, (size_t) a.B * a.K * 8 * a.D * sizeof (float2)));
      dim3 block = sd.block (), grid = sd.grid (block);
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
      CK (cudaFree (carry));
    }
  return 0;
}
