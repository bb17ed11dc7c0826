/* wgrad_reduction.cu: how should VMamba-T's weight gradients (dWᵀ += Xᵀ·dY, bf16 operands,
 * fp32 accumulation into an fp32 gradient, K = the batch's tokens ≫ M·N) be split over K?
 * For every product shape of a bf16 training step at one image size, times:
 *   gemmex    cublasGemmEx as the engine calls it (cuBLAS picks; split-K with a separate
 *             reduction kernel when it likes)
 *   lt-any    cuBLASLt's first heuristic, any reduction scheme
 *   lt-inpl   cuBLASLt restricted to no split or an in-place split (no reduction kernel)
 *   lt-none   cuBLASLt restricted to no split
 *   batchS    our own split: S strided-batched products (no split each) into S partials
 *             (the partials' sum, one more pass, not timed here)
 * Each figure: one call's kernels captured as a CUDA graph, replayed 50 times, mean µs; the
 * graph's kernel count beside it; "det" when two calls gave the same bits.
 *   nvcc -O2 -gencode arch=compute_90a,code=sm_90a studies/wgrad_reduction.cu -lcublasLt -lcublas
 *   ./a.out IMG [BATCH] */
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "study.h"   /* CK */

static cudaStream_t st;
static cublasHandle_t blas;
static cublasLtHandle_t lt;
static void *ws;
static const size_t WS = 32u << 20;

struct Shape { const char *name; int in_f, out_f; long n; int blocks; };

static __global__ void fill (__nv_bfloat16 *p, size_t n, unsigned seed)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += gridDim.x * (size_t) blockDim.x)
    {
      unsigned h = (unsigned) i * 2654435761u ^ seed;
      h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15;
      p[i] = __float2bfloat16 (((h & 0xffff) / 65536.0f - 0.5f));
    }
}

typedef void (*Call) (const Shape &, const __nv_bfloat16 *, const __nv_bfloat16 *, float *, int);

static void call_gemmex (const Shape &s, const __nv_bfloat16 *x, const __nv_bfloat16 *dy, float *dw, int)
{
  float one = 1.0f;
  CK (cublasGemmEx (blas, CUBLAS_OP_N, CUBLAS_OP_T, s.in_f, s.out_f, (int) s.n, &one, x, CUDA_R_16BF,
                    s.in_f, dy, CUDA_R_16BF, s.out_f, &one, dw, CUDA_R_32F, s.in_f,
                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

/* cuBLASLt with a reduction-scheme mask; batch > 1: our own split into partials (β = 0) */
static bool lt_call (const Shape &s, const __nv_bfloat16 *x, const __nv_bfloat16 *dy, float *dw,
                     uint32_t mask, int batch, bool run)
{
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t la, lb, lc;
  cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_T;
  long k = s.n / batch;
  CK (cublasLtMatmulDescCreate (&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  CK (cublasLtMatmulDescSetAttribute (op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  CK (cublasLtMatmulDescSetAttribute (op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  CK (cublasLtMatrixLayoutCreate (&la, CUDA_R_16BF, s.in_f, k, s.in_f));
  CK (cublasLtMatrixLayoutCreate (&lb, CUDA_R_16BF, s.out_f, k, s.out_f));
  CK (cublasLtMatrixLayoutCreate (&lc, CUDA_R_32F, s.in_f, s.out_f, s.in_f));
  if (batch > 1)
    {
      int64_t sa = k * s.in_f, sb = k * s.out_f, sc = (int64_t) s.in_f * s.out_f;
      CK (cublasLtMatrixLayoutSetAttribute (la, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
      CK (cublasLtMatrixLayoutSetAttribute (lb, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
      CK (cublasLtMatrixLayoutSetAttribute (lc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
      CK (cublasLtMatrixLayoutSetAttribute (la, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sa, sizeof sa));
      CK (cublasLtMatrixLayoutSetAttribute (lb, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sb, sizeof sb));
      CK (cublasLtMatrixLayoutSetAttribute (lc, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sc, sizeof sc));
    }
  cublasLtMatmulPreference_t pref;
  CK (cublasLtMatmulPreferenceCreate (&pref));
  size_t wsb = WS;
  CK (cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb));
  CK (cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof mask));
  cublasLtMatmulHeuristicResult_t h;
  int found = 0;
  cublasLtMatmulAlgoGetHeuristic (lt, op, la, lb, lc, lc, pref, 1, &h, &found);
  if (found && run)
    {
      float one = 1.0f, beta = batch > 1 ? 0.0f : 1.0f;
      CK (cublasLtMatmul (lt, op, &one, x, la, dy, lb, &beta, dw, lc, dw, lc, &h.algo, ws, WS, st));
    }
  cublasLtMatmulPreferenceDestroy (pref);
  cublasLtMatrixLayoutDestroy (la);
  cublasLtMatrixLayoutDestroy (lb);
  cublasLtMatrixLayoutDestroy (lc);
  cublasLtMatmulDescDestroy (op);
  return found > 0;
}

static uint32_t g_mask;
static void call_lt (const Shape &s, const __nv_bfloat16 *x, const __nv_bfloat16 *dy, float *dw, int batch)
{
  lt_call (s, x, dy, dw, g_mask, batch, true);
}

/* mean µs a call over 50 graph replays, kernels a call; NaN when no algorithm */
static double time_call (Call f, const Shape &s, const __nv_bfloat16 *x, const __nv_bfloat16 *dy,
                         float *dw, int batch, size_t *kernels)
{
  cudaGraph_t g;
  cudaGraphExec_t ge;
  f (s, x, dy, dw, batch); /* warm (plans, workspace) */
  CK (cudaStreamSynchronize (st));
  CK (cudaStreamBeginCapture (st, cudaStreamCaptureModeGlobal));
  f (s, x, dy, dw, batch);
  CK (cudaStreamEndCapture (st, &g));
  CK (cudaGraphGetNodes (g, NULL, kernels));
  const int reps = 50;
  cudaGraph_t g2;
  CK (cudaStreamBeginCapture (st, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < reps; i++)
    f (s, x, dy, dw, batch);
  CK (cudaStreamEndCapture (st, &g2));
  CK (cudaGraphInstantiate (&ge, g2, 0));
  CK (cudaGraphLaunch (ge, st));
  cudaEvent_t a, b;
  cudaEventCreate (&a);
  cudaEventCreate (&b);
  CK (cudaEventRecord (a, st));
  CK (cudaGraphLaunch (ge, st));
  CK (cudaEventRecord (b, st));
  CK (cudaEventSynchronize (b));
  float ms;
  cudaEventElapsedTime (&ms, a, b);
  cudaGraphExecDestroy (ge);
  cudaGraphDestroy (g);
  cudaGraphDestroy (g2);
  return ms * 1000.0 / reps;
}

static bool same_bits (Call f, const Shape &s, const __nv_bfloat16 *x, const __nv_bfloat16 *dy,
                       float *dw, int batch)
{
  size_t bytes = (size_t) s.in_f * s.out_f * batch * 4;
  std::vector<char> h1 (bytes), h2 (bytes);
  CK (cudaMemsetAsync (dw, 0, bytes, st));
  f (s, x, dy, dw, batch);
  CK (cudaMemcpyAsync (h1.data (), dw, bytes, cudaMemcpyDeviceToHost, st));
  CK (cudaMemsetAsync (dw, 0, bytes, st));
  f (s, x, dy, dw, batch);
  CK (cudaMemcpyAsync (h2.data (), dw, bytes, cudaMemcpyDeviceToHost, st));
  CK (cudaStreamSynchronize (st));
  return memcmp (h1.data (), h2.data (), bytes) == 0;
}

int main (int argc, char **argv)
{
  int img = argc > 1 ? atoi (argv[1]) : 64, B = argc > 2 ? atoi (argv[2]) : 128;
  CK (cudaStreamCreate (&st));
  CK (cublasCreate (&blas));
  CK (cublasSetStream (blas, st));
  CK (cublasLtCreate (&lt));
  CK (cudaMalloc (&ws, WS));
  CK (cublasSetWorkspace (blas, ws, WS));
  std::vector<Shape> shapes;
  static char names[64][32];
  int ni = 0;
  for (int s = 0; s < 4; s++)
    {
      int C = 96 << s, R = (C + 15) / 16, side = img / 4 >> s;
      long n = (long) B * side * side;
      struct { const char *what; int in_f, out_f; } w[] = {
        { "in_proj", C, C }, { "x_proj", C, 4 * (R + 2) }, { "out_proj", C, C },
        { "fc1", C, 4 * C }, { "fc2", 4 * C, C } };
      for (auto &e : w)
        {
          snprintf (names[ni], sizeof names[ni], "s%d %s", s + 1, e.what);
          shapes.push_back ({ names[ni++], e.in_f, e.out_f, n, s == 2 ? 8 : 2 });
        }
    }
  size_t maxx = 0, maxy = 0, maxw = 0;
  for (auto &s : shapes)
    {
      maxx = std::max (maxx, (size_t) s.n * s.in_f);
      maxy = std::max (maxy, (size_t) s.n * s.out_f);
      maxw = std::max (maxw, (size_t) s.in_f * s.out_f * 16);
    }
  __nv_bfloat16 *x, *dy;
  float *dw;
  CK (cudaMalloc (&x, maxx * 2));
  CK (cudaMalloc (&dy, maxy * 2));
  CK (cudaMalloc (&dw, maxw * 4));
  fill<<<1024, 256, 0, st>>> (x, maxx, 1);
  fill<<<1024, 256, 0, st>>> (dy, maxy, 2);
  CK (cudaMemsetAsync (dw, 0, maxw * 4, st));
  printf ("img %d batch %d: mean µs a call (kernels a call, det = same bits twice)\n", img, B);
  printf ("%-14s %6s %5s %5s | %-16s %-16s %-16s %-16s | batch2 batch4 batch8 batch16\n", "shape",
          "n", "in", "out", "gemmex", "lt-any", "lt-inpl", "lt-none");
  double tot[8] = { 0 };
  for (auto &s : shapes)
    {
      printf ("%-14s %6ld %5d %5d |", s.name, s.n, s.in_f, s.out_f);
      struct { Call f; uint32_t mask; } cf[] = {
        { call_gemmex, 0 }, { call_lt, CUBLASLT_REDUCTION_SCHEME_MASK },
        { call_lt, CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_INPLACE },
        { call_lt, CUBLASLT_REDUCTION_SCHEME_NONE } };
      int ci = 0;
      for (auto &c : cf)
        {
          g_mask = c.mask;
          if (c.f == call_lt && !lt_call (s, x, dy, dw, c.mask, 1, false))
            {
              printf (" %-16s", "none");
              ci++;
              continue;
            }
          size_t kn = 0;
          double us = time_call (c.f, s, x, dy, dw, 1, &kn);
          bool det = same_bits (c.f, s, x, dy, dw, 1);
          char cell[32];
          snprintf (cell, sizeof cell, "%.1f (%zu%s)", us, kn, det ? " det" : " NONDET");
          printf (" %-16s", cell);
          tot[ci++] += us * s.blocks;
        }
      printf (" |");
      g_mask = CUBLASLT_REDUCTION_SCHEME_NONE;
      for (int b = 2; b <= 16; b *= 2, ci++)
        {
          if (s.n % b || !lt_call (s, x, dy, dw, g_mask, b, false))
            {
              printf ("   none");
              continue;
            }
          size_t kn = 0;
          double us = time_call (call_lt, s, x, dy, dw, b, &kn);
          printf (" %6.1f", us);
          tot[ci] += us * s.blocks;
        }
      printf ("\n");
    }
  printf ("%-33s |", "sum × blocks (2,2,8,2)");
  for (int i = 0; i < 4; i++)
    printf (" %-16.1f", tot[i]);
  printf (" |");
  for (int i = 4; i < 8; i++)
    printf (" %6.1f", tot[i]);
  printf ("\n");
  return 0;
}
