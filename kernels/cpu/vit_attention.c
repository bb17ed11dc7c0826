/* vit_attention.c: unmasked multi-head self-attention forward (ViT / CLIP).
 *
 * Work is split into (image, head, block of query rows) tasks. A task copies its head's
 * keys transposed (head_dim, N padded to JB), so both products run as register blocks
 * of QB query rows × JB keys (or features) over contiguous memory, vectorised without
 * reassociating any sum: scores add over the head features in order, outputs over the
 * keys in order. A full score row (N floats) is small even at 577 tokens, so no
 * flash-style tiling is needed (spec §1.8). */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "vb-cpu-private.h"
#include "vb-cpu-vit.h"

/* query rows per task: enough work to amortise the key transpose, small enough that
 * one image's heads still give every thread something to do */
#define ROWS_PER_TASK 64

/* kt (dh, Np): keys transposed, columns N … Np − 1 zero */
static void
transpose_keys (float *kt, int64_t Np, const float *k, int64_t ld, int N, int dh)
{
  for (int d = 0; d < dh; d++)
    for (int64_t j = N; j < Np; j++)
      kt[d * Np + j] = 0.0f;
  for (int j = 0; j < N; j++)
    for (int d = 0; d < dh; d++)
      kt[(int64_t) d * Np + j] = k[j * ld + d];
}

/* query rows handled together: each key and value row loaded once serves all of them */
#define QB 4
/* keys per register block (one AVX-512 vector, two AVX2 ones); kt rows are padded to it */
#define JB 16

/* QB query rows (rows past nr repeat the last one and are not stored):
 * s = q·Kᵀ·scale, p = exp(s − max), out = (Σ_j p_j·v_j) / Σ_j p_j. Every sum runs in
 * the same order as for a single row, so the grouping does not change a bit. */
static void
attend_rows (float *out, int64_t ld_out, const float *q, const float *kt, int64_t Np,
             const float *v, int64_t ld, float *s, float *o, int nr, int N, int dh, float scale)
{
  const float *qr[QB];
  float *sr[QB], *orow[QB], inv[QB];

  for (int r = 0; r < QB; r++)
    {
      qr[r] = q + (r < nr ? r : nr - 1) * ld;
      sr[r] = s + (int64_t) r * N;
      orow[r] = o + (int64_t) r * dh;
      for (int d = 0; d < dh; d++)
        orow[r][d] = 0.0f;
    }

  /* a block of JB keys × QB rows stays in registers over the whole head dimension */
  for (int j0 = 0; j0 < N; j0 += JB)
    {
      float acc[QB][JB] = { { 0.0f } };
      for (int d = 0; d < dh; d++)
        {
          const float *kd = kt + (int64_t) d * Np + j0;
          for (int r = 0; r < QB; r++)
            {
              float qd = qr[r][d];
#pragma omp simd
              for (int jj = 0; jj < JB; jj++)
                acc[r][jj] += qd * kd[jj];
            }
        }
      int nj = N - j0 < JB ? N - j0 : JB;
      for (int r = 0; r < QB; r++)
        for (int jj = 0; jj < nj; jj++)
          sr[r][j0 + jj] = acc[r][jj];
    }

  for (int r = 0; r < QB; r++)
    {
      float *sj = sr[r], mx = -INFINITY, sum = 0.0f;
      for (int j = 0; j < N; j++)
        {
          sj[j] *= scale;
          mx = sj[j] > mx ? sj[j] : mx;
        }
#pragma omp simd
      for (int j = 0; j < N; j++)
        sj[j] = expf (sj[j] - mx);
      for (int j = 0; j < N; j++)     /* in order: the same sum for any thread count */
        sum += sj[j];
      inv[r] = 1.0f / sum;
    }

  if (dh % JB == 0)
    /* a block of JB features × QB rows stays in registers over all keys */
    for (int d0 = 0; d0 < dh; d0 += JB)
      {
        float acc[QB][JB] = { { 0.0f } };
        for (int j = 0; j < N; j++)
          {
            const float *vj = v + j * ld + d0;
            for (int r = 0; r < QB; r++)
              {
                float p = sr[r][j];
#pragma omp simd
                for (int dd = 0; dd < JB; dd++)
                  acc[r][dd] += p * vj[dd];
              }
          }
        for (int r = 0; r < QB; r++)
          for (int dd = 0; dd < JB; dd++)
            orow[r][d0 + dd] = acc[r][dd];
      }
  else
    for (int j = 0; j < N; j++)
      {
        const float *vj = v + j * ld;
        for (int r = 0; r < QB; r++)
          {
            float p = sr[r][j], *od = orow[r];
#pragma omp simd
            for (int d = 0; d < dh; d++)
              od[d] += p * vj[d];
          }
      }

  for (int r = 0; r < nr; r++)
    for (int d = 0; d < dh; d++)
      out[r * ld_out + d] = orow[r][d] * inv[r];
}

int
vb_attention_forward (float *out, const float *qkv, int B, int N, int heads, int head_dim,
                      float scale)
{
  int64_t D = (int64_t) heads * head_dim, ld = 3 * D;
  int64_t Np = (N + JB - 1) / JB * JB;
  int64_t row_blocks = (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
  int64_t n_tasks = (int64_t) B * heads * row_blocks;
  int failed = 0;

  if (B <= 0 || N <= 0 || heads <= 0 || head_dim <= 0)
    return 0;

#pragma omp parallel if (n_tasks > 1)
  {
    float *kt = malloc (((size_t) head_dim * Np + (size_t) QB * (N + head_dim)) * sizeof (float));
    float *s = kt ? kt + (size_t) head_dim * Np : NULL;
    float *o = s ? s + (size_t) QB * N : NULL;
    int64_t kt_of = -1;     /* which (image, head) kt holds */

    if (kt == NULL)
      {
#pragma omp atomic write
        failed = 1;
      }

#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tasks; t++)
      {
        int64_t bh = t / row_blocks, rb = t % row_blocks;
        int64_t b = bh / heads, h = bh % heads;
        const float *base = qkv + b * N * ld + h * head_dim;
        int i0 = (int) (rb * ROWS_PER_TASK);
        int i1 = i0 + ROWS_PER_TASK < N ? i0 + ROWS_PER_TASK : N;

        if (kt == NULL)
          continue;
        if (kt_of != bh)
          {
            transpose_keys (kt, Np, base + D, ld, N, head_dim);
            kt_of = bh;
          }
        for (int i = i0; i < i1; i += QB)
          attend_rows (out + (b * N + i) * D + h * head_dim, D, base + i * ld, kt, Np,
                       base + 2 * D, ld, s, o, i1 - i < QB ? i1 - i : QB, N, head_dim, scale);
      }
    free (kt);
  }
  return failed ? -1 : 0;
}
