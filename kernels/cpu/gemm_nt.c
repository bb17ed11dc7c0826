/* gemm_nt.c: out = in · Wᵀ (+ bias) for the forward of every Linear and im2col convolution.
 *
 * VMamba's products are thin: K = 27…768 inputs, N = 8…3072 outputs, M = tokens of a
 * batch. OpenBLAS reached ~40 GFLOP/s on them on two AVX-512 cores (docs/benchmarks.md),
 * a fraction of the machine. Here W is packed once per call into K×NR panels (NR = two
 * vectors, zero-padded), and a register-blocked MR×NR micro-kernel sweeps the full K for
 * each output tile, with the bias as its starting value. Every output element is
 * computed by one thread over k = 0…K-1 in order, so the result does not depend on the
 * thread count. Builds without AVX2+FMA use OpenBLAS (vb_gemm_nt_available () says so).
 *
 * This file is compiled with floating-point contraction allowed: the micro-kernel's
 * fused multiply-adds are the point of it. */
#include "config.h"

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

#if defined (__AVX512F__) || (defined (__AVX2__) && defined (__FMA__))
#define VB_GEMM_NT 1
#include <immintrin.h>
#endif

#ifdef VB_GEMM_NT

#ifdef __AVX512F__
/* 12 rows × 32 columns: 24 accumulators + 2 B vectors + 1 broadcast of 32 registers */
#define VL 16
#define MR 12
typedef __m512 vec;
#define vec_load(p)        _mm512_loadu_ps (p)
#define vec_store(p, v)    _mm512_storeu_ps ((p), (v))
#define vec_bcast(x)       _mm512_set1_ps (x)
#define vec_zero()         _mm512_setzero_ps ()
#define vec_fma(a, b, c)   _mm512_fmadd_ps ((a), (b), (c))
#else
/* 6 rows × 16 columns: 12 accumulators + 2 B vectors + 1 broadcast of 16 registers */
#define VL 8
#define MR 6
typedef __m256 vec;
#define vec_load(p)        _mm256_loadu_ps (p)
#define vec_store(p, v)    _mm256_storeu_ps ((p), (v))
#define vec_bcast(x)       _mm256_set1_ps (x)
#define vec_zero()         _mm256_setzero_ps ()
#define vec_fma(a, b, c)   _mm256_fmadd_ps ((a), (b), (c))
#endif

#define NR (2 * VL)

/* A tile's working set: rows of `in` over the full K plus the panels it sweeps, sized
 * to stay in a core's L2. */
#define TILE_ROW_BLOCKS 8
#define TILE_PANEL_BYTES (256 * 1024)

/* c[r][0..NR) = init + Σ_k a[r][k] · bp[k][0..NR) for r < MR. `a` rows past `mr` repeat
 * the last valid row (their results are computed and not stored by the caller). */
static inline void
micro_kernel (int64_t K, const float *a, int64_t lda, int mr,
              const float *bp, float *c, int64_t ldc, const float *init, int accumulate)
{
  const float *row[MR];
  vec acc[MR][2];

#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
    {
      row[r] = a + (r < mr ? r : mr - 1) * lda;
      if (accumulate)
        {
          acc[r][0] = vec_load (c + r * ldc);
          acc[r][1] = vec_load (c + r * ldc + VL);
        }
      else if (init != NULL)
        {
          acc[r][0] = vec_load (init);
          acc[r][1] = vec_load (init + VL);
        }
      else
        acc[r][0] = acc[r][1] = vec_zero ();
    }

  for (int64_t k = 0; k < K; k++)
    {
      vec b0 = vec_load (bp + k * NR);
      vec b1 = vec_load (bp + k * NR + VL);
#pragma GCC unroll 16
      for (int r = 0; r < MR; r++)
        {
          vec x = vec_bcast (row[r][k]);
          acc[r][0] = vec_fma (x, b0, acc[r][0]);
          acc[r][1] = vec_fma (x, b1, acc[r][1]);
        }
    }

#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
    {
      vec_store (c + r * ldc, acc[r][0]);
      vec_store (c + r * ldc + VL, acc[r][1]);
    }
}

/* One MR×NR output tile; partial tiles go through a local buffer. */
static void
tile (float *out, int64_t ld_out, const float *in, int64_t ld_in,
      const float *panel, const float *bias_panel,
      int64_t K, int mr, int nr, int accumulate)
{
  float t[MR * NR];

  if (mr == MR && nr == NR)
    {
      micro_kernel (K, in, ld_in, mr, panel, out, ld_out, bias_panel, accumulate);
      return;
    }

  if (accumulate)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++)
        t[r * NR + j] = (r < mr && j < nr) ? out[r * ld_out + j] : 0.0f;
  micro_kernel (K, in, ld_in, mr, panel, t, NR, bias_panel, accumulate);
  for (int r = 0; r < mr; r++)
    memcpy (out + r * ld_out, t + r * NR, (size_t) nr * sizeof (float));
}

/* panels[p][k][j] = w[(p·NR + j)·K + k], zero past N; bias likewise padded */
static void
pack_weight (float *panels, float *bias_pad, const float *w, const float *b,
             int64_t K, int N, int n_panels)
{
#pragma omp parallel for schedule(static) if (K * N > 65536)
  for (int p = 0; p < n_panels; p++)
    {
      float *dst = panels + (int64_t) p * K * NR;
      for (int j = 0; j < NR; j++)
        {
          int col = p * NR + j;
          if (col < N)
            for (int64_t k = 0; k < K; k++)
              dst[k * NR + j] = w[(int64_t) col * K + k];
          else
            for (int64_t k = 0; k < K; k++)
              dst[k * NR + j] = 0.0f;
        }
    }
  if (bias_pad != NULL)
    for (int j = 0; j < n_panels * NR; j++)
      bias_pad[j] = (b != NULL && j < N) ? b[j] : 0.0f;
}

int
vb_gemm_nt_available (void)
{
  return 1;
}

const char *
vb_gemm_nt_name (void)
{
#ifdef __AVX512F__
  return "own AVX-512 12x32 kernel";
#else
  return "own AVX2 6x16 kernel";
#endif
}

int
vb_gemm_nt (float *out, int64_t ld_out, const float *in, int64_t ld_in,
            const float *w, const float *b, int64_t M, int N, int K, int accumulate)
{
  int n_panels = (N + NR - 1) / NR;
  int64_t row_blocks = (M + MR - 1) / MR;
  int64_t panel_bytes = (int64_t) K * NR * (int64_t) sizeof (float);
  int panels_per_tile = (int) (TILE_PANEL_BYTES / (panel_bytes > 0 ? panel_bytes : 1));
  int64_t m_tiles, n_tiles;
  float *panels, *bias_pad;

  if (panels_per_tile < 1)
    panels_per_tile = 1;
  if (panels_per_tile > n_panels)
    panels_per_tile = n_panels;
  m_tiles = (row_blocks + TILE_ROW_BLOCKS - 1) / TILE_ROW_BLOCKS;
  n_tiles = (n_panels + panels_per_tile - 1) / panels_per_tile;

  panels = aligned_alloc (64, ((size_t) n_panels * K * NR + (size_t) n_panels * NR)
                              * sizeof (float));
  if (panels == NULL)
    return 0;
  bias_pad = panels + (size_t) n_panels * K * NR;
  pack_weight (panels, bias_pad, w, b, K, N, n_panels);

#pragma omp parallel for schedule(static) if (M * N * (int64_t) K > 262144)
  for (int64_t t = 0; t < m_tiles * n_tiles; t++)
    {
      int64_t rb0 = (t / n_tiles) * TILE_ROW_BLOCKS;
      int64_t rb1 = rb0 + TILE_ROW_BLOCKS < row_blocks ? rb0 + TILE_ROW_BLOCKS : row_blocks;
      int p0 = (int) (t % n_tiles) * panels_per_tile;
      int p1 = p0 + panels_per_tile < n_panels ? p0 + panels_per_tile : n_panels;

      for (int p = p0; p < p1; p++)
        {
          const float *panel = panels + (int64_t) p * K * NR;
          int nr = N - p * NR < NR ? N - p * NR : NR;
          for (int64_t rb = rb0; rb < rb1; rb++)
            {
              int64_t r0 = rb * MR;
              int mr = M - r0 < MR ? (int) (M - r0) : MR;
              tile (out + r0 * ld_out + (int64_t) p * NR, ld_out, in + r0 * ld_in, ld_in,
                    panel, b != NULL ? bias_pad + p * NR : NULL, K, mr, nr, accumulate);
            }
        }
    }

  free (panels);
  return 1;
}

#else /* no AVX2+FMA: the caller uses OpenBLAS */

int
vb_gemm_nt_available (void)
{
  return 0;
}

const char *
vb_gemm_nt_name (void)
{
  return "none";
}

int
vb_gemm_nt (float *out, int64_t ld_out, const float *in, int64_t ld_in,
            const float *w, const float *b, int64_t M, int N, int K, int accumulate)
{
  (void) out; (void) ld_out; (void) in; (void) ld_in; (void) w; (void) b;
  (void) M; (void) N; (void) K; (void) accumulate;
  return 0;
}

#endif
