/* vb-cpu-private.h: helpers shared by the CPU kernels (not part of the ABI). */
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* glibc's libmvec has SIMD variants of these; declaring them `declare simd` lets the
 * `#pragma omp simd` loops call the 4-wide versions (libm.so pulls in libmvec as
 * needed). Vector and scalar variants may differ in the last bit, so loops that use
 * them split work at boundaries that do not depend on the thread count. */
#if defined (__GLIBC__) && defined (__x86_64__) && defined (_OPENMP)
#pragma omp declare simd notinbranch
extern float expf (float);
#if __GLIBC_PREREQ (2, 35)
#pragma omp declare simd notinbranch
extern float log1pf (float);
#pragma omp declare simd notinbranch
extern float erff (float);
#endif
#endif

/* elementwise loops: fixed blocks, so the split between vector body and scalar tail
 * is the same for any thread count */
#define VB_CPU_BLOCK 4096

/* Reductions over rows are split into chunks whose boundaries depend only on the row
 * count, never on the thread count, and the chunk partials are summed in chunk order:
 * the result is bit-identical for any OMP_NUM_THREADS. */
#define VB_CPU_ROWS_PER_CHUNK 256
#define VB_CPU_MAX_CHUNKS 64

static inline int64_t
vb_cpu_n_chunks (int64_t rows)
{
  int64_t n = (rows + VB_CPU_ROWS_PER_CHUNK - 1) / VB_CPU_ROWS_PER_CHUNK;
  if (n > VB_CPU_MAX_CHUNKS)
    n = VB_CPU_MAX_CHUNKS;
  return n < 1 ? 1 : n;
}

static inline int64_t
vb_cpu_chunk_start (int64_t rows, int64_t n_chunks, int64_t i)
{
  return rows * i / n_chunks;
}

/* acc[j] += Σ_i x[i·ld + j] for i < rows, j < cols */
static inline void
vb_cpu_colsum_acc (float *acc, const float *x, int64_t rows, int64_t ld, int cols)
{
  int64_t n_chunks = vb_cpu_n_chunks (rows);
  float *part;

  if (n_chunks == 1)
    {
      for (int64_t i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
          acc[j] += x[i * ld + j];
      return;
    }

  part = calloc ((size_t) n_chunks * cols, sizeof (float));
  if (part == NULL)
    {
      /* out of memory: fall back to the serial sum (other order, still deterministic) */
      for (int64_t i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
          acc[j] += x[i * ld + j];
      return;
    }

#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < n_chunks; ch++)
    {
      float *p = part + ch * cols;
      int64_t i0 = vb_cpu_chunk_start (rows, n_chunks, ch);
      int64_t i1 = vb_cpu_chunk_start (rows, n_chunks, ch + 1);
      for (int64_t i = i0; i < i1; i++)
        for (int j = 0; j < cols; j++)
          p[j] += x[i * ld + j];
    }

  for (int64_t ch = 0; ch < n_chunks; ch++)
    for (int j = 0; j < cols; j++)
      acc[j] += part[ch * cols + j];
  free (part);
}

/* out[M, N] = in[M, K] · w[N, K]ᵀ (+ b[N]), or += onto out when accumulate (gemm_nt.c).
 * Returns 0 (and does nothing) when the build has no kernel for this machine or
 * memory for the packed weight is short: the caller falls back to OpenBLAS. */
/* vb_conv3x3s2_backward, the column gradient rounded to bf16 before col2im sums it when
 * bf16_dcols (as the GPU's bf16 version stores it) */
void vb_cpu_conv3x3s2_backward (float *din, float *dw, float *db, const float *dout,
                                const float *in, const float *w, int B, int H, int W, int cin,
                                int cout, int bf16_dcols);

int vb_gemm_nt_available (void);
const char *vb_gemm_nt_name (void);
int vb_gemm_nt (float *out, int64_t ld_out, const float *in, int64_t ld_in,
                const float *w, const float *b, int64_t M, int N, int K, int accumulate);
