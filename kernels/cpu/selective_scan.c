/* selective_scan.c: the selective scan of shared/specs/vmamba.md §2.4 and its
 * backward (§5.1), fp32 state.
 *
 * One task per (batch, group): the group's D channels share B_t and C_t, and in the
 * (B, L, K·D) layout they are contiguous, so time runs in the outer loop and channels
 * in the inner, vectorised loop. Tasks never share outputs; the parameter gradients
 * (summed over the batch) go through per-batch partials that are added in batch order,
 * so every result is independent of the thread count. */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

#define SOFTPLUS_THRESHOLD 20.0f
/* below this many (step, channel, state) updates one thread is faster */
#define PAR_MIN 4096

/* Δ = softplus(delta + dbias) over the D channels of a group; σ(z) = dΔ/dz when
 * sig != NULL. Written so that GCC vectorises it (libmvec): every call unconditional,
 * only plain selects on the results. */
static inline void
softplus_row (float *restrict dl, float *restrict sig, const float *restrict delta,
              const float *restrict dbias, int D)
{
  if (sig != NULL)
    {
#pragma omp simd
      for (int d = 0; d < D; d++)
        {
          float z = delta[d] + dbias[d];
          float sp = log1pf (expf (z));
          dl[d] = z <= SOFTPLUS_THRESHOLD ? sp : z;
          sig[d] = 1.0f / (1.0f + expf (-z));
        }
    }
  else
    {
#pragma omp simd
      for (int d = 0; d < D; d++)
        {
          float z = delta[d] + dbias[d];
          float sp = log1pf (expf (z));
          dl[d] = z <= SOFTPLUS_THRESHOLD ? sp : z;
        }
    }
}

/* Where a scan reads: group k visits position pos(k, t) at step t (the identity for the
 * plain op; the cross-scan route for the SS2D op), and u / dy rows are u_stride floats
 * apart, group k's channels at k·u_group (K·D and D for the plain op, D and 0 when the
 * groups share one u). delta, y, du, ddelta are (B, L, K·D) either way. */
typedef struct {
  VbScanMode mode;
  int H, W;                  /* H = 0: the identity route */
  int64_t u_stride, u_group;
} ScanMap;

static inline int64_t
scan_pos (const ScanMap *map, int k, int t)
{
  return map->H == 0 ? t : vb_scan_gather_index (map->mode, k, t, map->H, map->W);
}

/* One time step of the recurrence for the D channels of a group: a (N, D) receives
 * exp(Δ·A), h (N, D) is updated in place, ysum (D) = Σ_n C_n·h_n. The forward and the
 * backward's recomputation share it, so both see the same states. */
static inline void
scan_step (float *restrict h, float *restrict a, float *restrict ysum,
           const float *restrict At, const float *restrict dl,
           const float *restrict ut, const float *Bt, const float *Ct, int D, int N)
{
  for (int d = 0; d < D; d++)
    ysum[d] = 0.0f;
  for (int n = 0; n < N; n++)
    {
      const float *restrict An = At + (int64_t) n * D;
      float *restrict hn = h + (int64_t) n * D;
      float *restrict an = a + (int64_t) n * D;
      float Bn = Bt[n], Cn = Ct[n];

#pragma omp simd
      for (int d = 0; d < D; d++)
        {
          an[d] = expf (dl[d] * An[d]);
          hn[d] = an[d] * hn[d] + dl[d] * Bn * ut[d];
          ysum[d] += Cn * hn[d];
        }
    }
}

/* per-task copies of the group's parameters: A transposed to (N, D); zeros for the
 * optional Dskip / dbias */
static void
load_group (float *At, float *ds, float *bias, const float *A, const float *Dskip,
            const float *dbias, int c0, int D, int N)
{
  for (int n = 0; n < N; n++)
    for (int d = 0; d < D; d++)
      At[(int64_t) n * D + d] = A[(int64_t) (c0 + d) * N + n];
  for (int d = 0; d < D; d++)
    {
      ds[d] = Dskip != NULL ? Dskip[c0 + d] : 0.0f;
      bias[d] = dbias != NULL ? dbias[c0 + d] : 0.0f;
    }
}

static void
scan_forward (float *y, const float *u, const float *delta, const float *A, const float *Bs,
              const float *Cs, const float *Dskip, const float *dbias, int B, int L, int K,
              int D, int N, const ScanMap *map)
{
  int64_t KD = (int64_t) K * D;
  int tasks = B * K;
  int64_t work = (int64_t) B * L * KD * N;

#pragma omp parallel if (tasks > 1 && work > PAR_MIN)
  {
    size_t nd = (size_t) N * D;
    float *mem = malloc ((3 * nd + 4 * (size_t) D) * sizeof (float));

#pragma omp for schedule(static)
    for (int task = 0; task < tasks; task++)
      {
        int b = task / K, k = task % K, c0 = k * D;
        float *At = mem, *h = At + nd, *a = h + nd;
        float *ds = a + nd, *bias = ds + D, *dl = bias + D, *ysum = dl + D;

        if (mem == NULL)
          continue;
        load_group (At, ds, bias, A, Dskip, dbias, c0, D, N);
        memset (h, 0, nd * sizeof (float));

        for (int t = 0; t < L; t++)
          {
            int64_t p = scan_pos (map, k, t);
            int64_t row = ((int64_t) b * L + p) * KD + c0;
            int64_t bc = (((int64_t) b * L + p) * K + k) * N;
            const float *ut = u + ((int64_t) b * L + p) * map->u_stride + k * map->u_group;
            float *yt = y + row;

            softplus_row (dl, NULL, delta + row, bias, D);
            scan_step (h, a, ysum, At, dl, ut, Bs + bc, Cs + bc, D, N);
#pragma omp simd
            for (int d = 0; d < D; d++)
              yt[d] = ysum[d] + ds[d] * ut[d];
          }
      }
    free (mem);
  }
}

static void
scan_backward (float *du, float *ddelta, float *dA, float *dBs, float *dCs, float *dDskip,
               float *ddbias, const float *dy, const float *u, const float *delta,
               const float *A, const float *Bs, const float *Cs, const float *Dskip,
               const float *dbias, int B, int L, int K, int D, int N, const ScanMap *map)
{
  int64_t KD = (int64_t) K * D;
  int tasks = B * K;
  int64_t work = (int64_t) B * L * KD * N;
  /* per-batch partials of the batch-summed gradients: dA (KD·N), dDskip (KD), ddbias (KD) */
  float *part = calloc ((size_t) B * KD * (N + 2), sizeof (float));

  if (part == NULL)
    return;

#pragma omp parallel if (tasks > 1 && work > PAR_MIN)
  {
    /* (N, D) blocks: At, λ, a_{t+1}, dA accumulator, then the recomputed history:
     * h_t for t = −1 … L−1 and a_t for t = 0 … L−1 (N, D each), Δ_t and σ(z_t) (D
     * each); then rows of D: Dskip, dbias, ysum, du, dΔ */
    size_t nd = (size_t) N * D;
    size_t floats = 4 * nd + (size_t) (L + 1) * nd + (size_t) L * nd
                    + 2 * (size_t) L * D + 5 * (size_t) D;
    float *mem = malloc (floats * sizeof (float));

#pragma omp for schedule(static)
    for (int task = 0; task < tasks; task++)
      {
        int b = task / K, k = task % K, c0 = k * D;
        float *At = mem, *lam = At + nd, *anext = lam + nd, *accA = anext + nd;
        float *hh = accA + nd, *ah = hh + (size_t) (L + 1) * nd;
        float *dlh = ah + (size_t) L * nd, *sgh = dlh + (size_t) L * D;
        float *ds = sgh + (size_t) L * D, *bias = ds + D, *ysum = bias + D;
        float *dut = ysum + D, *ddl = dut + D;
        float *pA = part + (size_t) b * KD * N + (size_t) c0 * N;
        float *pD = part + (size_t) B * KD * N + (size_t) b * KD + c0;
        float *pdb = part + (size_t) B * KD * (N + 1) + (size_t) b * KD + c0;

        if (mem == NULL)
          continue;
        load_group (At, ds, bias, A, Dskip, dbias, c0, D, N);

        /* recompute: hh[t + 1] = h_t (hh[0] = h_{−1} = 0), ah[t] = a_t, Δ_t, σ(z_t) */
        memset (hh, 0, nd * sizeof (float));
        for (int t = 0; t < L; t++)
          {
            int64_t p = scan_pos (map, k, t);
            int64_t row = ((int64_t) b * L + p) * KD + c0;
            int64_t bc = (((int64_t) b * L + p) * K + k) * N;
            const float *ut = u + ((int64_t) b * L + p) * map->u_stride + k * map->u_group;
            float *h = hh + (size_t) (t + 1) * nd;
            float *dl = dlh + (size_t) t * D;

            memcpy (h, h - nd, nd * sizeof (float));
            softplus_row (dl, sgh + (size_t) t * D, delta + row, bias, D);
            scan_step (h, ah + (size_t) t * nd, ysum, At, dl, ut, Bs + bc, Cs + bc, D, N);
          }

        /* reverse sweep: λ_t = g_t·C_t + a_{t+1}·λ_{t+1} */
        memset (lam, 0, nd * sizeof (float));
        memset (anext, 0, nd * sizeof (float));
        memset (accA, 0, nd * sizeof (float));
        for (int t = L - 1; t >= 0; t--)
          {
            int64_t p = scan_pos (map, k, t);
            int64_t row = ((int64_t) b * L + p) * KD + c0;
            int64_t bc = (((int64_t) b * L + p) * K + k) * N;
            int64_t urow = ((int64_t) b * L + p) * map->u_stride + k * map->u_group;
            const float *restrict ut = u + urow, *restrict g = dy + urow;
            const float *restrict dl = dlh + (size_t) t * D, *restrict sig = sgh + (size_t) t * D;

#pragma omp simd
            for (int d = 0; d < D; d++)
              {
                dut[d] = ds[d] * g[d];
                ddl[d] = 0.0f;
                pD[d] += g[d] * ut[d];
              }

            for (int n = 0; n < N; n++)
              {
                const float *restrict An = At + (size_t) n * D;
                const float *restrict hn = hh + (size_t) (t + 1) * nd + (size_t) n * D;
                const float *restrict hpn = hh + (size_t) t * nd + (size_t) n * D;
                const float *restrict an = ah + (size_t) t * nd + (size_t) n * D;
                float *restrict ln = lam + (size_t) n * D, *restrict nx = anext + (size_t) n * D;
                float *restrict acc = accA + (size_t) n * D;
                float Bn = Bs[bc + n], Cn = Cs[bc + n];
                float sB = 0.0f, sC = 0.0f;

#pragma omp simd reduction(+:sB, sC)
                for (int d = 0; d < D; d++)
                  {
                    float l = g[d] * Cn + nx[d] * ln[d];
                    float ahp = an[d] * hpn[d];   /* a_t·h_{t−1} */
                    ln[d] = l;
                    nx[d] = an[d];
                    sC += g[d] * hn[d];
                    sB += l * dl[d] * ut[d];
                    dut[d] += l * Bn * dl[d];
                    ddl[d] += l * Bn * ut[d] + l * An[d] * ahp;
                    acc[d] += l * dl[d] * ahp;
                  }
                if (dBs != NULL)
                  dBs[bc + n] = sB;
                if (dCs != NULL)
                  dCs[bc + n] = sC;
              }

#pragma omp simd
            for (int d = 0; d < D; d++)
              {
                float dz = ddl[d] * sig[d];
                if (ddelta != NULL)
                  ddelta[row + d] = dz;
                if (du != NULL)
                  du[row + d] = dut[d];
                pdb[d] += dz;
              }
          }

        for (int n = 0; n < N; n++)
          for (int d = 0; d < D; d++)
            pA[(size_t) d * N + n] = accA[(size_t) n * D + d];
      }
    free (mem);
  }

  /* batch-summed parameter gradients, in batch order */
  for (int b = 0; b < B; b++)
    {
      const float *pA = part + (size_t) b * KD * N;
      const float *pD = part + (size_t) B * KD * N + (size_t) b * KD;
      const float *pdb = part + (size_t) B * KD * (N + 1) + (size_t) b * KD;
      if (dA != NULL)
        for (int64_t i = 0; i < KD * N; i++)
          dA[i] += pA[i];
      if (dDskip != NULL)
        for (int64_t i = 0; i < KD; i++)
          dDskip[i] += pD[i];
      if (ddbias != NULL)
        for (int64_t i = 0; i < KD; i++)
          ddbias[i] += pdb[i];
    }
  free (part);
}

void
vb_selective_scan_forward (float *y, const float *u, const float *delta, const float *A,
                           const float *Bs, const float *Cs, const float *Dskip,
                           const float *dbias, int B, int L, int K, int D, int N)
{
  ScanMap map = { VB_SCAN_1DIR, 0, 0, (int64_t) K * D, D };
  scan_forward (y, u, delta, A, Bs, Cs, Dskip, dbias, B, L, K, D, N, &map);
}

void
vb_selective_scan_backward (float *du, float *ddelta, float *dA, float *dBs, float *dCs,
                            float *dDskip, float *ddbias, const float *dy, const float *u,
                            const float *delta, const float *A, const float *Bs,
                            const float *Cs, const float *Dskip, const float *dbias, int B,
                            int L, int K, int D, int N)
{
  ScanMap map = { VB_SCAN_1DIR, 0, 0, (int64_t) K * D, D };
  scan_backward (du, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, u, delta, A, Bs, Cs, Dskip,
                 dbias, B, L, K, D, N, &map);
}

void
vb_ss2d_scan_forward (float *yk, const float *u, const float *delta, const float *A,
                      const float *Bs, const float *Cs, const float *Dskip, const float *dbias,
                      int B, int H, int W, int K, int D, int N, VbScanMode mode)
{
  ScanMap map = { mode, H, W, D, 0 };
  scan_forward (yk, u, delta, A, Bs, Cs, Dskip, dbias, B, H * W, K, D, N, &map);
}

void
vb_ss2d_scan_backward (float *duk, float *ddelta, float *dA, float *dBs, float *dCs,
                       float *dDskip, float *ddbias, const float *dy, const float *u,
                       const float *delta, const float *A, const float *Bs, const float *Cs,
                       const float *Dskip, const float *dbias, int B, int H, int W, int K,
                       int D, int N, VbScanMode mode)
{
  ScanMap map = { mode, H, W, D, 0 };
  scan_backward (duk, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, u, delta, A, Bs, Cs, Dskip,
                 dbias, B, H * W, K, D, N, &map);
}

void
vb_group_sum (float *out, const float *in, int64_t rows, int K, int D, int accumulate)
{
#pragma omp parallel for schedule(static) if (rows * K * D > 32768)
  for (int64_t r = 0; r < rows; r++)
    {
      float *restrict o = out + r * D;
      const float *restrict x = in + r * K * D;
      for (int d = 0; d < D; d++)
        {
          float s = accumulate ? o[d] : 0.0f;
          for (int k = 0; k < K; k++)   /* groups in order, as the cross-merge */
            s += x[(int64_t) k * D + d];
          o[d] = s;
        }
    }
}
