/* vb-cuda-private.h: what the .cu files share: the context struct, error recording,
 * launch checks and scratch memory. */
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "vb-cuda.h"
#include "vb-cuda-ops.h"

struct VbCuda
{
  int            device;
  cudaStream_t   stream;
  cublasHandle_t blas;
  int            matmul;          /* VB_CUDA_MATMUL_*: how vb_cuda_gemm* compute */
  void          *stage;           /* bf16 mode: the products' operands rounded to bf16 */
  size_t         stage_bytes;
  void          *scratch;
  size_t         scratch_bytes;
  double        *scalar;          /* 16 bytes of device memory for ops that return a value */
  void          *blas_workspace;  /* cuBLAS's own, fixed: a captured graph may not allocate */
  cublasLtHandle_t lt;            /* for the products with an epilogue; made on first use */
  struct VbLtPlans *lt_plans;     /* the bias products' plans by shape (linear.cu) */
  struct VbParamSums *param_sums; /* queued parameter-gradient sums (param_sums.cu) */
  struct VbLtPlans *wgrad_plans;  /* the weight-gradient slices' plans (wgrad.cu) */
  int            cc_major, cc_minor, sms;   /* the device's compute capability, multiprocessors */
  bool           sm90_off;        /* VB_NO_SM90 set: our Hopper kernels (gemm_sm90.cu,
                                   * attention_sm90.cu) never run: A/B runs, the fallbacks' tests */
  bool           scan_ring_off;   /* VB_SCAN_NO_RING set: the bf16 SS2D scan never takes
                                   * scan_ring.cu's kernels (A/B runs, same-bits tests) */
  int64_t        scan_ring_launches;   /* the launches that took them (tests) */
  int64_t        scan_ring_in_step_launches;   /* of those, on blocks in step (tests) */
  char           error[256];
  char           describe[320];
};

/* A cuBLASLt product's plan (lt_plans.cu): its descriptors and the algorithm the heuristic
 * chose, cached by key (whatever tells the caller's shapes apart) */
#define VB_LT_KEY 6
typedef struct
{
  int64_t key[VB_LT_KEY];
  bool found;                      /* the heuristic offered an algorithm */
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t la, lb, lc;
  cublasLtMatmulAlgo_t algo;
} VbLtPlan;
struct VbLtPlans;
/* the cached plan of key, or (*made) a cleared one holding key for the caller to describe
 * and then vb_cuda_lt_plan_choose; NULL when out of memory */
VbLtPlan *vb_cuda_lt_plan_slot (struct VbLtPlans **plans, const int64_t key[VB_LT_KEY],
                                bool *made);
/* the heuristic's first algorithm for p's descriptors, with the context's workspace and
 * the reduction schemes of mask (found stays false without one) */
void vb_cuda_lt_plan_choose (VbCuda *cu, VbLtPlan *p, uint32_t reduction_mask);
void vb_cuda_lt_plans_free (struct VbLtPlans *plans);
/* the context's cuBLASLt handle, made on first use: false when it cannot be */
bool vb_cuda_lt_ready (VbCuda *cu);

/* C (M × ldc, bf16) = epilogue (A·Wᵀ + b) on gemm_sm90.cuh's product (epi: its Epi): 1 when
 * it ran, 0 when the device or the shapes do not fit it (nothing queued, nothing recorded:
 * the caller takes another path), −1 on a launch failure (recorded) */
int vb_cuda_gemm_sm90 (VbCuda *cu, int epi, VbBf16 *C, int64_t ldc, const VbBf16 *A,
                       const VbBf16 *W, const VbBf16 *bias, int64_t M, int N, int K);

/* vb_cuda_attention_forward_bf16 on Hopper's wgmma (head_dim 64): 1 when it ran, 0 when
 * the device or the shapes do not fit (nothing queued), −1 on a failure (recorded) */
int vb_cuda_attention_sm90 (VbCuda *cu, VbBf16 *out, const VbBf16 *qkv, int B, int N, int heads,
                            int head_dim, float scale);

/* bytes of blas_workspace (cuBLAS and cuBLASLt take turns with it on the one stream) */
#define VB_CUDA_BLAS_WORKSPACE (32u << 20)

/* record the first failure; returns 1 when `ok` */
int vb_cuda_check_rt (VbCuda *cu, cudaError_t err, const char *what);
int vb_cuda_check_blas (VbCuda *cu, cublasStatus_t st, const char *what);
/* after a launch: records a launch failure (bad configuration, ...) */
#define VB_CUDA_LAUNCHED(cu, name) vb_cuda_check_rt ((cu), cudaGetLastError (), (name))
/* an op does nothing once the context holds an error */
#define VB_CUDA_GUARD(cu) do { if ((cu)->error[0] != '\0') return; } while (0)
#define VB_CUDA_GUARD_RET(cu, v) do { if ((cu)->error[0] != '\0') return (v); } while (0)

/* column-major C (m × n) = α·op(A)·op(B) + β·C on fp32 data, in the context's matmul mode:
 * cublasSgemm (strict fp32 or TF32, by the handle's math mode), or in bf16 mode A and B
 * rounded to bf16 (nearest-even, into a staging buffer of the context's own) and multiplied
 * on bf16 tensor cores with fp32 accumulation into C (cublasGemmEx, CUBLAS_COMPUTE_32F); the
 * strided form runs `batch` such products, operand i at base + i·stride. 1 when cuBLAS
 * accepted it (else the error is recorded). */
int vb_cuda_gemm (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                  const float *alpha, const float *a, int lda, const float *b, int ldb,
                  const float *beta, float *c, int ldc, const char *what);
int vb_cuda_gemm_strided (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb,
                          int m, int n, int k, const float *alpha,
                          const float *a, int lda, int64_t stride_a,
                          const float *b, int ldb, int64_t stride_b, const float *beta,
                          float *c, int ldc, int64_t stride_c, int batch, const char *what);

/* column-major C (m × n) = op(A)·op(B) + β·C on A and B stored as bf16, fp32 accumulation
 * (CUBLAS_COMPUTE_32F) into C of c_type (CUDA_R_32F, or CUDA_R_16BF rounded once): the
 * bf16-storage products, whatever the context's matmul mode. 1 when cuBLAS accepted it. */
int vb_cuda_gemm_bf16 (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                       int k, const VbBf16 *a, int lda, const VbBf16 *b, int ldb, float beta,
                       void *c, cudaDataType_t c_type, int ldc, const char *what);

/* A parameter gradient's last sum (param_sums.cu): out[k] += Σ_ch part[ch·ld + k] for
 * k < cols, the chunks ch < chunks added in a fixed order. Partials taken from
 * vb_cuda_param_partials: while the context defers (the ops table's param_sums_defer), the
 * sum is queued until param_sums_flush and the partials stay put until then; otherwise
 * they are scratch, summed at once. vb_cuda_param_partials_queued: room only while
 * deferring, else NULL (no error): for an op whose partials otherwise share its own
 * scratch. */
float *vb_cuda_param_partials (VbCuda *cu, size_t floats);
float *vb_cuda_param_partials_queued (VbCuda *cu, size_t floats);
void vb_cuda_param_sum (VbCuda *cu, float *out, const float *part, int64_t ld, int cols,
                        int chunks);
/* the same with output k's partial at column (k / g)·gs + k % g of a chunk's row (g = N,
 * gs = N + 2: N values of every (N + 2)), its sum added to out[k], or with tc > 0
 * (partials in (tap, channel) order for a (channel, tap) weight of tc channels) to
 * out[k % tc · (cols / tc) + k / tc] */
typedef struct
{
  int g, gs, tc;
} VbParamMap;
void vb_cuda_param_sum_map (VbCuda *cu, float *out, const float *part, int64_t ld, int cols,
                            int chunks, VbParamMap map);
void vb_cuda_param_sums_free (struct VbParamSums *p);

/* dw (fp32, in_f × out_f as dwᵀ column-major) += inᵀ·dout over n rows of bf16 operands,
 * split over the rows into partials summed by the parameter-sum queue (wgrad.cu): 1 when
 * done so, 0 when the shape, the operands or the context (not queueing) leave it to the
 * caller's product */
int vb_cuda_wgrad_split (VbCuda *cu, float *dw, const VbBf16 *in, int64_t ld_in,
                         const VbBf16 *dout, int64_t ld_dout, int64_t n, int in_f, int out_f);

/* acc[o] += Σ_r x[r·ld + o] over n rows of bf16 (a bias's gradient; linear.cu) */
void vb_cuda_colsum_acc_bf16 (VbCuda *cu, float *acc, const VbBf16 *x, int64_t ld, int64_t n,
                              int cols);

/* Rows a chunk for a pass that sums n rows chunk by chunk in col_blocks blocks of columns:
 * `most` (fewer partials to add), halved down to `fewest` while the launch would have
 * fewer than `blocks` blocks (a few blocks each walking long chunks leave the GPU idle) */
static inline int
vb_cuda_chunk_rows (int64_t n, int col_blocks, int most, int fewest, int64_t blocks)
{
  int rows = most;
  while (rows > fewest && (n + rows - 1) / rows * col_blocks < blocks)
    rows /= 2;
  return rows;
}

/* scratch valid until the next call (ops on one stream run in order, so reuse is safe);
 * NULL + error on failure */
void *vb_cuda_scratch (VbCuda *cu, size_t bytes);

static inline unsigned int
vb_cuda_blocks (int64_t n, int threads)
{
  int64_t b = (n + threads - 1) / threads;
  return (unsigned int) (b > 1048576 ? 1048576 : (b < 1 ? 1 : b));
}

/* e / d (returned) and e % d (*rem) for an element index: in 32 bits while e fits, as it
 * nearly always does (a 64-bit division is a long subroutine, and elementwise kernels
 * would take one per element) */
static __device__ __forceinline__ int64_t
vb_div_index (int64_t e, int d, int *rem)
{
  if (e <= 0xffffffffll)
    {
      unsigned int q = (unsigned int) e / (unsigned int) d;
      *rem = (int) ((unsigned int) e - q * (unsigned int) d);
      return q;
    }
  int64_t q = e / d;
  *rem = (int) (e - q * d);
  return q;
}
