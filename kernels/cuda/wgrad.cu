/* wgrad.cu: a bf16 product's weight gradient dWᵀ += inᵀ·dout, summed over the batch's n
 * rows (n ≫ in_f·out_f in VMamba's first stages), split over those rows by us.
 *
 * cuBLAS splits such a product over the rows itself and adds the slices in a reduction
 * kernel of its own: one more launch a product, 98 a bf16 VMamba-T training step at
 * 128 px. While the context queues the parameter sums (param_sums.cu), the product runs
 * here instead: S strided-batched cuBLASLt products that may not split again, each on
 * n / S rows, into S fp32 partials whose sum joins the queue. Measured on the H200 for
 * every weight-gradient shape of that step (studies/wgrad_reduction.cu): at 64 px the
 * products took 472 µs a step through cuBLAS's own split, and the best fixed split of each
 * shape 30 % less than cuBLAS's for stages 1–2; rows a slice below a few hundred lose. */
#include "vb-cuda-private.h"

/* rows a slice at least, slices at most, and the partials' bytes at most (more goes to
 * cuBLAS: the queue would sum them at once anyway, param_sums.cu) */
#define WGRAD_MIN_ROWS 512
#define WGRAD_MAX_SPLIT 16
#define WGRAD_MAX_PARTIALS ((size_t) 16 << 20)

/* the slices of n rows: the largest power of two within the bounds above, 1 for none
 * (two slices measured no faster than cuBLAS's own, before their sum). A slice has at
 * least a 512th of the product's cells in rows: stage 3's MLP weights (590k cells) lost
 * in 4 slices of 512 rows (64 px: 7.3 µs against cuBLAS's 6.7, and their partials to
 * sum), won in 4 of 2048 (128 px: 15.5 against 18.7). */
static int
wgrad_split (int64_t n, int in_f, int out_f)
{
  int64_t cells = (int64_t) in_f * out_f, min_rows = cells / 512;
  if (min_rows < WGRAD_MIN_ROWS)
    min_rows = WGRAD_MIN_ROWS;
  int s = 1;
  while (s < WGRAD_MAX_SPLIT && n % (2 * s) == 0 && n / (2 * s) >= min_rows
         && (size_t) (2 * s * cells) * sizeof (float) <= WGRAD_MAX_PARTIALS)
    s *= 2;
  return s >= 4 ? s : 1;
}

/* one matrix layout of `split` slices of cols rows (column-major: rows × cols, ld) */
static bool
sliced_layout (cublasLtMatrixLayout_t *l, cudaDataType_t type, int64_t rows, int64_t cols,
               int64_t ld, int split, int64_t stride)
{
  return cublasLtMatrixLayoutCreate (l, type, rows, cols, ld) == CUBLAS_STATUS_SUCCESS
         && cublasLtMatrixLayoutSetAttribute (*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &split,
                                              sizeof split) == CUBLAS_STATUS_SUCCESS
         && cublasLtMatrixLayoutSetAttribute (*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                              &stride, sizeof stride) == CUBLAS_STATUS_SUCCESS;
}

/* the slices' plan for a shape (found false: cuBLASLt offers no algorithm) */
static VbLtPlan *
wgrad_plan (VbCuda *cu, int64_t n, int in_f, int out_f, int64_t ld_in, int64_t ld_dout,
            int split)
{
  const int64_t key[VB_LT_KEY] = { n, in_f, out_f, ld_in, ld_dout, split };
  bool made;
  VbLtPlan *p = vb_cuda_lt_plan_slot (&cu->wgrad_plans, key, &made);
  if (p == NULL || !made)
    return p;
  int64_t k = n / split;
  cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_T;
  /* column-major, slice i: part_i (in_f × out_f) = in_i (in_f × k) · dout_iᵀ (k × out_f) */
  if (cublasLtMatmulDescCreate (&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS
      && cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) == 0
      && cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) == 0
      && sliced_layout (&p->la, CUDA_R_16BF, in_f, k, ld_in, split, k * ld_in)
      && sliced_layout (&p->lb, CUDA_R_16BF, out_f, k, ld_dout, split, k * ld_dout)
      && sliced_layout (&p->lc, CUDA_R_32F, in_f, out_f, in_f, split, (int64_t) in_f * out_f))
    /* no split of cuBLASLt's own: the slices are ours */
    vb_cuda_lt_plan_choose (cu, p, CUBLASLT_REDUCTION_SCHEME_NONE);
  return p;
}

int
vb_cuda_wgrad_split (VbCuda *cu, float *dw, const VbBf16 *in, int64_t ld_in,
                     const VbBf16 *dout, int64_t ld_dout, int64_t n, int in_f, int out_f)
{
  int split = wgrad_split (n, in_f, out_f);
  /* 16-byte operands for the tensor-core kernels, slices included */
  if (split == 1 || ld_in % 8 != 0 || ld_dout % 8 != 0 || (uintptr_t) in % 16 != 0
      || (uintptr_t) dout % 16 != 0)
    return 0;
  /* only where the sum is queued (at once, cuBLAS's own split is as good): asked first,
   * so that products summed at once make no plan. A shape without an algorithm leaves its
   * room in the arena unused until the flush. */
  size_t cells = (size_t) in_f * out_f;
  float *part = vb_cuda_param_partials_queued (cu, split * cells);
  if (part == NULL || !vb_cuda_lt_ready (cu))
    return 0;
  VbLtPlan *p = wgrad_plan (cu, n, in_f, out_f, ld_in, ld_dout, split);
  if (p == NULL || !p->found)
    return 0;
  const float one = 1.0f, zero = 0.0f;
  if (!vb_cuda_check_blas (cu, cublasLtMatmul (cu->lt, p->op, &one, in, p->la, dout, p->lb,
                                               &zero, part, p->lc, part, p->lc, &p->algo,
                                               cu->blas_workspace, VB_CUDA_BLAS_WORKSPACE,
                                               cu->stream),
                           "linear backward (bf16, weight slices)"))
    return 1;
  vb_cuda_param_sum (cu, dw, part, (int64_t) cells, (int) cells, split);
  return 1;
}
