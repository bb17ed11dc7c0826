/* linear.cu: per-row matrix products on cuBLAS (row-major data seen as column-major
 * transposes), fp32 without TF32, and the bias gradient as a fixed-order column sum. */
#include "vb-cuda-private.h"

#define COLSUM_ROWS 1024   /* rows per partial: boundaries depend on the shape only */

/* out[r, :] = b for every row (the product then accumulates onto it) */
static __global__ void
fill_rows_kernel (float *out, int64_t ld_out, const float *b, int64_t n, int out_f)
{
  int64_t total = n * out_f;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total;
       i += (int64_t) gridDim.x * blockDim.x)
    out[(i / out_f) * ld_out + i % out_f] = b[i % out_f];
}

/* part[chunk, o] = Σ rows of the chunk of x[:, o] */
static __global__ void
colsum_partial_kernel (float *part, const float *x, int64_t ld, int64_t n, int cols)
{
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  int64_t r0 = (int64_t) blockIdx.y * COLSUM_ROWS, r1 = min (n, r0 + COLSUM_ROWS);
  if (o >= cols)
    return;
  float s = 0.0f;
  for (int64_t r = r0; r < r1; r++)
    s += x[r * ld + o];
  part[(int64_t) blockIdx.y * cols + o] = s;
}

/* acc[o] += Σ_chunk part[chunk, o], in chunk order */
static __global__ void
colsum_final_kernel (float *acc, const float *part, int chunks, int cols)
{
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= cols)
    return;
  float s = 0.0f;
  for (int ch = 0; ch < chunks; ch++)
    s += part[(int64_t) ch * cols + o];
  acc[o] += s;
}

/* acc[o] += Σ_r x[r·ld + o] (r < n), deterministic */
static void
colsum_acc (VbCuda *cu, float *acc, const float *x, int64_t ld, int64_t n, int cols)
{
  int chunks = (int) ((n + COLSUM_ROWS - 1) / COLSUM_ROWS);
  float *part = (float *) vb_cuda_scratch (cu, (size_t) chunks * cols * sizeof (float));
  if (part == NULL)
    return;
  dim3 grid ((cols + 127) / 128, chunks);
  colsum_partial_kernel<<<grid, 128, 0, cu->stream>>> (part, x, ld, n, cols);
  if (!VB_CUDA_LAUNCHED (cu, "column sum"))
    return;
  colsum_final_kernel<<<(cols + 127) / 128, 128, 0, cu->stream>>> (acc, part, chunks, cols);
  VB_CUDA_LAUNCHED (cu, "column sum");
}

extern "C" void
vb_cuda_linear_forward (VbCuda *cu, float *out, int64_t ld_out,
                        const float *in, int64_t ld_in,
                        const float *w, const float *b,
                        int64_t n, int in_f, int out_f)
{
  float one = 1.0f, beta = 0.0f;

  VB_CUDA_GUARD (cu);
  if (n <= 0 || out_f <= 0)
    return;
  if (b != NULL)
    {
      fill_rows_kernel<<<vb_cuda_blocks (n * out_f, 256), 256, 0, cu->stream>>> (out, ld_out, b,
                                                                                 n, out_f);
      if (!VB_CUDA_LAUNCHED (cu, "linear bias"))
        return;
      beta = 1.0f;
    }
  if (in_f <= 0)
    {
      if (b == NULL)
        vb_cuda_check_rt (cu, cudaMemset2DAsync (out, ld_out * sizeof (float), 0,
                                                 out_f * sizeof (float), n, cu->stream),
                          "linear (no inputs)");
      return;
    }
  /* out (n × out_f, row-major) = out^T column-major = W^T^T · in^T */
  vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_T, CUBLAS_OP_N,
                                       out_f, (int) n, in_f,
                                       &one, w, in_f, in, (int) ld_in,
                                       &beta, out, (int) ld_out),
                      "linear forward");
}

extern "C" void
vb_cuda_linear_backward (VbCuda *cu, float *din, int64_t ld_din, int accumulate,
                         float *dw, float *db,
                         const float *dout, int64_t ld_dout,
                         const float *in, int64_t ld_in,
                         const float *w,
                         int64_t n, int in_f, int out_f)
{
  float one = 1.0f, zero = 0.0f;

  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;

  if (din != NULL && in_f > 0)
    {
      if (out_f > 0)
        /* din^T (in_f × n) = W^T (in_f × out_f) · dout^T (out_f × n) */
        vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_N,
                                             in_f, (int) n, out_f,
                                             &one, w, in_f, dout, (int) ld_dout,
                                             accumulate ? &one : &zero, din, (int) ld_din),
                            "linear backward (input)");
      else if (!accumulate)
        vb_cuda_check_rt (cu, cudaMemset2DAsync (din, ld_din * sizeof (float), 0,
                                                 in_f * sizeof (float), n, cu->stream),
                          "linear backward (no outputs)");
    }

  if (dw != NULL && in_f > 0 && out_f > 0)
    /* dw^T (in_f × out_f) += in^T (in_f × n) · dout (n × out_f) */
    vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_T,
                                         in_f, out_f, (int) n,
                                         &one, in, (int) ld_in, dout, (int) ld_dout,
                                         &one, dw, in_f),
                        "linear backward (weight)");

  if (db != NULL && out_f > 0)
    colsum_acc (cu, db, dout, ld_dout, n, out_f);
}

extern "C" void
vb_cuda_linear_forward_groups (VbCuda *cu, float *out, int64_t ld_out, int64_t out_gstride,
                               const float *in, int64_t ld_in, int64_t in_gstride,
                               const float *w, int64_t w_gstride, int groups,
                               int64_t n, int in_f, int out_f)
{
  float one = 1.0f, zero = 0.0f;

  VB_CUDA_GUARD (cu);
  if (n <= 0 || out_f <= 0 || groups <= 0)
    return;
  if (in_f <= 0)
    {
      for (int g = 0; g < groups; g++)
        vb_cuda_linear_forward (cu, out + g * out_gstride, ld_out, NULL, 0, NULL, NULL, n, 0,
                                out_f);
      return;
    }
  /* as vb_cuda_linear_forward, once per group, in one call */
  vb_cuda_check_blas (cu, cublasSgemmStridedBatched (cu->blas, CUBLAS_OP_T, CUBLAS_OP_N,
                                                     out_f, (int) n, in_f, &one,
                                                     w, in_f, w_gstride,
                                                     in, (int) ld_in, in_gstride, &zero,
                                                     out, (int) ld_out, out_gstride, groups),
                      "grouped linear forward");
}

extern "C" void
vb_cuda_linear_backward_groups (VbCuda *cu, float *din, int64_t ld_din, int64_t din_gstride,
                                int accumulate, float *dw, int64_t w_gstride,
                                const float *dout, int64_t ld_dout, int64_t dout_gstride,
                                const float *in, int64_t ld_in, int64_t in_gstride,
                                const float *w, int groups, int64_t n, int in_f, int out_f)
{
  float one = 1.0f, zero = 0.0f;

  VB_CUDA_GUARD (cu);
  if (n <= 0 || groups <= 0)
    return;
  if (in_f <= 0 || out_f <= 0)
    {
      /* the degenerate shapes take the one-group path, which handles them */
      for (int g = 0; g < groups; g++)
        vb_cuda_linear_backward (cu, din ? din + g * din_gstride : NULL, ld_din, accumulate,
                                 dw ? dw + g * w_gstride : NULL, NULL, dout + g * dout_gstride,
                                 ld_dout, in + g * in_gstride, ld_in, w + g * w_gstride, n, in_f,
                                 out_f);
      return;
    }
  if (din != NULL)
    vb_cuda_check_blas (cu, cublasSgemmStridedBatched (cu->blas, CUBLAS_OP_N, CUBLAS_OP_N,
                                                       in_f, (int) n, out_f, &one,
                                                       w, in_f, w_gstride,
                                                       dout, (int) ld_dout, dout_gstride,
                                                       accumulate ? &one : &zero,
                                                       din, (int) ld_din, din_gstride, groups),
                        "grouped linear backward (input)");
  /* The weight gradients sum over all n rows: one product per group, where cuBLAS splits
   * that long sum across the GPU; batched, it did not (the step took 2× longer). */
  if (dw != NULL)
    for (int g = 0; g < groups; g++)
      vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_T,
                                           in_f, out_f, (int) n, &one,
                                           in + g * in_gstride, (int) ld_in,
                                           dout + g * dout_gstride, (int) ld_dout, &one,
                                           dw + g * w_gstride, in_f),
                          "grouped linear backward (weight)");
}
