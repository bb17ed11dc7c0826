/* linear.cu: per-row matrix products on cuBLAS (row-major data seen as column-major
 * transposes) in the context's matmul mode (strict fp32 by default; TF32 or bf16 tensor
 * cores on request, vb_cuda_set_matmul), the bf16-storage products (bf16 operands, fp32
 * accumulation, any mode; a bf16 out with bias through cuBLASLt's bias epilogue), and the
 * bias gradient as a fixed-order column sum (fp32 in
 * every mode, of fp32 or bf16 data). */
#include <stdlib.h>
#include <string.h>

#include <cuda_bf16.h>

#include "vb-cuda-lanes.h"
#include "vb-cuda-private.h"
#include "vb-cuda-vit.h"

/* Rows per partial of a column sum: COLSUM_ROWS, halved (down to COLSUM_MIN_ROWS) while
 * the launch would have fewer than COLSUM_BLOCKS blocks. Boundaries depend on the shape
 * only, so the bits do not depend on the GPU. At 64 px VMamba-T's MLP bias gradients ran
 * 12–64 blocks of 128 rows a thread: 20 µs a sum of a few MB. */
#define COLSUM_ROWS 1024
#define COLSUM_MIN_ROWS 64
#define COLSUM_BLOCKS 256

/* ---- products in the context's matmul mode ---------------------------------------------- *
 * fp32 and tf32: cublasSgemm, the handle's math mode deciding. bf16: both operands rounded
 * to bf16 (nearest-even) into a staging buffer, then a bf16 × bf16 product accumulating in
 * fp32 into the fp32 C (cublasGemmEx, CUBLAS_COMPUTE_32F). The rounding is ours, not left
 * to cuBLAS: on fp32 operands CUBLAS_COMPUTE_32F_FAST_16BF "allows" bf16 or TF32, and on an
 * H200 (cuBLAS 13.1) a 1000 × 96 × 384 product came out as TF32's (2.6e-4 from the CPU's,
 * like TF32; 2.1e-3 from the product of bf16-rounded operands) while the VMamba-T training
 * step got 2.1× slower. */

#define BF16_ALIGN 8   /* staged leading dimensions and strides: multiples of 16 bytes */

/* dst[(b·vecs + v)·ld_dst + e] = bf16 (src[b·stride + v·ld + e]) for e < len: `batch`
 * column-major operands of `vecs` columns of `len` values, repacked */
static __global__ void
to_bf16_kernel (__nv_bfloat16 *dst, int64_t ld_dst, const float *src, int64_t ld,
                int64_t stride, int64_t vecs, int64_t len, int64_t rows)
{
  /* rows (= b·vecs + v) across blockIdx.y, values across x: divisions once per row, not
   * per element */
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y)
    {
      int64_t bi = row / vecs, v = row - bi * vecs;
      const float *s = src + bi * stride + v * ld;
      __nv_bfloat16 *d = dst + row * ld_dst;
      for (int64_t e = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; e < len;
           e += (int64_t) gridDim.x * blockDim.x)
        d[e] = __float2bfloat16_rn (s[e]);
    }
}

/* the staging buffer (its own, so operands may live in the scratch buffer); NULL + error */
static void *
stage (VbCuda *cu, size_t bytes)
{
  if (cu->error[0] != '\0')
    return NULL;
  if (bytes > cu->stage_bytes)
    {
      /* cudaFree waits for the products still reading the old buffer */
      cudaStreamSynchronize (cu->stream);
      cudaFree (cu->stage);
      cu->stage = NULL;
      cu->stage_bytes = 0;
      if (!vb_cuda_check_rt (cu, cudaMalloc (&cu->stage, bytes), "bf16 staging cudaMalloc"))
        return NULL;
      cu->stage_bytes = bytes;
    }
  return cu->stage;
}

/* an operand X of op(X) (rows × cols) as cuBLAS stores it: `vecs` columns of `len` values */
typedef struct
{
  const float   *src;
  int64_t        ld, stride, vecs, len;
  int64_t        ld16, stride16;   /* its bf16 copy, packed */
  __nv_bfloat16 *copy;
} Operand;

static void
operand_init (Operand *o, cublasOperation_t op, int rows, int cols, const float *src,
              int ld, int64_t stride)
{
  o->src = src;
  o->ld = ld;
  o->stride = stride;
  o->len = op == CUBLAS_OP_N ? rows : cols;
  o->vecs = op == CUBLAS_OP_N ? cols : rows;
  o->ld16 = (o->len + BF16_ALIGN - 1) / BF16_ALIGN * BF16_ALIGN;
  o->stride16 = o->vecs * o->ld16;
}

static int
operand_round (VbCuda *cu, Operand *o, int batch, const char *what)
{
  int64_t rows = (int64_t) batch * o->vecs, xb = (o->len + 127) / 128;
  dim3 grid ((unsigned int) (xb > 65535 ? 65535 : (xb < 1 ? 1 : xb)),
             (unsigned int) (rows > 65535 ? 65535 : (rows < 1 ? 1 : rows)));
  to_bf16_kernel<<<grid, 128, 0, cu->stream>>> (o->copy, o->ld16, o->src, o->ld, o->stride,
                                                o->vecs, o->len, rows);
  return VB_CUDA_LAUNCHED (cu, what);
}

static int
gemm_bf16 (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
           const float *alpha, const float *a, int lda, int64_t stride_a,
           const float *b, int ldb, int64_t stride_b, const float *beta,
           float *c, int ldc, int64_t stride_c, int batch, const char *what)
{
  Operand oa, ob;
  operand_init (&oa, ta, m, k, a, lda, stride_a);
  operand_init (&ob, tb, k, n, b, ldb, stride_b);
  size_t elems_a = (size_t) batch * oa.stride16, elems_b = (size_t) batch * ob.stride16;
  oa.copy = (__nv_bfloat16 *) stage (cu, (elems_a + elems_b) * sizeof (__nv_bfloat16));
  if (oa.copy == NULL)
    return 0;
  ob.copy = oa.copy + elems_a;   /* elems_a is a multiple of BF16_ALIGN */
  if (!operand_round (cu, &oa, batch, what) || !operand_round (cu, &ob, batch, what))
    return 0;
  if (batch == 1)
    return vb_cuda_check_blas (cu, cublasGemmEx (cu->blas, ta, tb, m, n, k, alpha,
                                                 oa.copy, CUDA_R_16BF, (int) oa.ld16,
                                                 ob.copy, CUDA_R_16BF, (int) ob.ld16, beta,
                                                 c, CUDA_R_32F, ldc,
                                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                               what);
  return vb_cuda_check_blas (cu, cublasGemmStridedBatchedEx (cu->blas, ta, tb, m, n, k, alpha,
                                                             oa.copy, CUDA_R_16BF,
                                                             (int) oa.ld16, oa.stride16,
                                                             ob.copy, CUDA_R_16BF,
                                                             (int) ob.ld16, ob.stride16, beta,
                                                             c, CUDA_R_32F, ldc, stride_c,
                                                             batch, CUBLAS_COMPUTE_32F,
                                                             CUBLAS_GEMM_DEFAULT),
                             what);
}

int
vb_cuda_gemm (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
              const float *alpha, const float *a, int lda, const float *b, int ldb,
              const float *beta, float *c, int ldc, const char *what)
{
  if (cu->matmul == VB_CUDA_MATMUL_BF16 && m > 0 && n > 0 && k > 0)
    return gemm_bf16 (cu, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1,
                      what);
  return vb_cuda_check_blas (cu, cublasSgemm (cu->blas, ta, tb, m, n, k, alpha, a, lda, b, ldb,
                                              beta, c, ldc),
                             what);
}

int
vb_cuda_gemm_strided (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb,
                      int m, int n, int k, const float *alpha,
                      const float *a, int lda, int64_t stride_a,
                      const float *b, int ldb, int64_t stride_b, const float *beta,
                      float *c, int ldc, int64_t stride_c, int batch, const char *what)
{
  if (cu->matmul == VB_CUDA_MATMUL_BF16 && m > 0 && n > 0 && k > 0 && batch > 0)
    return gemm_bf16 (cu, ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta,
                      c, ldc, stride_c, batch, what);
  return vb_cuda_check_blas (cu, cublasSgemmStridedBatched (cu->blas, ta, tb, m, n, k, alpha,
                                                            a, lda, stride_a, b, ldb, stride_b,
                                                            beta, c, ldc, stride_c, batch),
                             what);
}

/* fp32 and bf16 elements: widened exactly, stored rounded to nearest-even */
static __device__ __forceinline__ float to_float (float x) { return x; }
static __device__ __forceinline__ float to_float (__nv_bfloat16 x) { return __bfloat162float (x); }
static __device__ __forceinline__ void store (float *p, float v) { *p = v; }
static __device__ __forceinline__ void store (__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn (v); }

/* out[r, :] = b for every row (the product then accumulates onto it); rows across
 * blockIdx.y, columns across x: no division per element (a 64-bit one per element made
 * this fill cost more than a ViT-L product's memory traffic). A bf16 out holds b rounded. */
template <typename T>
static __global__ void
fill_rows_kernel (T *out, int64_t ld_out, const float *b, int64_t n, int out_f)
{
  for (int64_t r = blockIdx.y; r < n; r += gridDim.y)
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < out_f; o += gridDim.x * blockDim.x)
      store (&out[r * ld_out + o], b[o]);
}

template <typename T>
static int
fill_rows (VbCuda *cu, T *out, int64_t ld_out, const float *b, int64_t n, int out_f,
           const char *what)
{
  dim3 grid ((out_f + 255) / 256 > 65535 ? 65535 : (out_f + 255) / 256,
             n > 65535 ? 65535 : (unsigned int) n);
  fill_rows_kernel<T><<<grid, 256, 0, cu->stream>>> (out, ld_out, b, n, out_f);
  return VB_CUDA_LAUNCHED (cu, what);
}

/* part[chunk, o] = Σ rows of the chunk of x[:, o] (x fp32 or bf16, the sum fp32) */
template <typename T>
static __global__ void
colsum_partial_kernel (float *part, const T *x, int64_t ld, int64_t n, int cols, int rows)
{
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  int64_t r0 = (int64_t) blockIdx.y * rows, r1 = min (n, r0 + rows);
  if (o >= cols)
    return;
  float s = 0.0f;
  /* unrolled so that several loads are in flight; the additions keep their order */
#pragma unroll 8
  for (int64_t r = r0; r < r1; r++)
    s += to_float (x[r * ld + o]);
  part[(int64_t) blockIdx.y * cols + o] = s;
}

/* The same partials for bf16 rows of 8-column vectors: a thread owns 8 columns (one
 * 16-byte load a row, a warp 512 contiguous bytes) and every COLSUM_LANES-th row of the
 * chunk; the lanes' sums are then added in lane order, so the bits do not depend on how
 * the launch is scheduled. The scalar kernel's 2-byte loads left the column sums of the
 * MLP's bias gradients at a third of the memory rate. */
#define COLSUM_LANES 8
static __global__ void __launch_bounds__ (32 * COLSUM_LANES)
colsum_partial_bf16x8_kernel (float *part, const __nv_bfloat16 *x, int64_t ld, int64_t n,
                              int cols, int rows)
{
  __shared__ float red[COLSUM_LANES][32 * 8];
  int v = blockIdx.x * 32 + threadIdx.x, lane = threadIdx.y;
  int64_t r0 = (int64_t) blockIdx.y * rows, r1 = min (n, r0 + rows);
  bool live = v * 8 < cols;
  float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
  if (live)
    {
#pragma unroll 4
      for (int64_t r = r0 + lane; r < r1; r += COLSUM_LANES)
        {
          uint4 q = *reinterpret_cast<const uint4 *> (x + r * ld + (int64_t) v * 8);
          const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *> (&q);
#pragma unroll
          for (int k = 0; k < 4; k++)
            {
              float2 f = __bfloat1622float2 (h[k]);
              s[2 * k] += f.x;
              s[2 * k + 1] += f.y;
            }
        }
    }
  store_lane_sums8<COLSUM_LANES, 32> (red, s, lane, live,
                                      part + (int64_t) blockIdx.y * cols + v * 8);
}

static bool
vectors_of_8 (const __nv_bfloat16 *x, int64_t ld, int cols)
{
  return cols % 8 == 0 && ld % 8 == 0 && ((uintptr_t) x & 15u) == 0;
}
static bool vectors_of_8 (const float *, int64_t, int) { return false; }

/* acc[o] += Σ_r x[r·ld + o] (r < n), deterministic */
template <typename T>
static void
colsum_acc (VbCuda *cu, float *acc, const T *x, int64_t ld, int64_t n, int cols)
{
  bool vec = vectors_of_8 (x, ld, cols);
  int col_blocks = vec ? (cols / 8 + 31) / 32 : (cols + 127) / 128;
  int rows = vb_cuda_chunk_rows (n, col_blocks, COLSUM_ROWS, COLSUM_MIN_ROWS, COLSUM_BLOCKS);
  int chunks = (int) ((n + rows - 1) / rows);
  float *part = vb_cuda_param_partials (cu, (size_t) chunks * cols);
  if (part == NULL)
    return;
  if (vec)
    colsum_partial_bf16x8_kernel<<<dim3 (col_blocks, chunks), dim3 (32, COLSUM_LANES), 0,
                                   cu->stream>>> (
        part, reinterpret_cast<const __nv_bfloat16 *> (x), ld, n, cols, rows);
  else
    colsum_partial_kernel<T><<<dim3 (col_blocks, chunks), 128, 0, cu->stream>>> (part, x, ld, n,
                                                                              cols, rows);
  if (VB_CUDA_LAUNCHED (cu, "column sum"))
    vb_cuda_param_sum (cu, acc, part, cols, cols, chunks);
}

void
vb_cuda_colsum_acc_bf16 (VbCuda *cu, float *acc, const VbBf16 *x, int64_t ld, int64_t n,
                         int cols)
{
  colsum_acc (cu, acc, reinterpret_cast<const __nv_bfloat16 *> (x), ld, n, cols);
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
      if (!fill_rows (cu, out, ld_out, b, n, out_f, "linear bias"))
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
  vb_cuda_gemm (cu, CUBLAS_OP_T, CUBLAS_OP_N, out_f, (int) n, in_f,
                &one, w, in_f, in, (int) ld_in, &beta, out, (int) ld_out, "linear forward");
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
        vb_cuda_gemm (cu, CUBLAS_OP_N, CUBLAS_OP_N, in_f, (int) n, out_f,
                      &one, w, in_f, dout, (int) ld_dout,
                      accumulate ? &one : &zero, din, (int) ld_din, "linear backward (input)");
      else if (!accumulate)
        vb_cuda_check_rt (cu, cudaMemset2DAsync (din, ld_din * sizeof (float), 0,
                                                 in_f * sizeof (float), n, cu->stream),
                          "linear backward (no outputs)");
    }

  if (dw != NULL && in_f > 0 && out_f > 0)
    /* dw^T (in_f × out_f) += in^T (in_f × n) · dout (n × out_f) */
    vb_cuda_gemm (cu, CUBLAS_OP_N, CUBLAS_OP_T, in_f, out_f, (int) n,
                  &one, in, (int) ld_in, dout, (int) ld_dout, &one, dw, in_f,
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
  vb_cuda_gemm_strided (cu, CUBLAS_OP_T, CUBLAS_OP_N, out_f, (int) n, in_f, &one,
                        w, in_f, w_gstride, in, (int) ld_in, in_gstride, &zero,
                        out, (int) ld_out, out_gstride, groups, "grouped linear forward");
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
    vb_cuda_gemm_strided (cu, CUBLAS_OP_N, CUBLAS_OP_N, in_f, (int) n, out_f, &one,
                          w, in_f, w_gstride, dout, (int) ld_dout, dout_gstride,
                          accumulate ? &one : &zero, din, (int) ld_din, din_gstride, groups,
                          "grouped linear backward (input)");
  /* The weight gradients sum over all n rows: one product per group, where cuBLAS splits
   * that long sum across the GPU; batched, it did not (the step took 2× longer). */
  if (dw != NULL)
    for (int g = 0; g < groups; g++)
      vb_cuda_gemm (cu, CUBLAS_OP_N, CUBLAS_OP_T, in_f, out_f, (int) n, &one,
                    in + g * in_gstride, (int) ld_in, dout + g * dout_gstride, (int) ld_dout,
                    &one, dw + g * w_gstride, in_f, "grouped linear backward (weight)");
}

/* ---- bf16 storage: products of bf16 operands ------------------------------------------ *
 * The operands are the caller's bf16 tensors as they lie (no staging, so the context's
 * matmul mode and its bf16 staging buffer play no part): cublasGemmEx with bf16 A and B,
 * fp32 accumulation (CUBLAS_COMPUTE_32F) into an fp32 or bf16 C, rounded once.
 *
 * A bf16 C is only ever written with β = 0: with β = 1 onto a bf16 C (the bias filled in
 * first, as the fp32 path does) cuBLAS rounded the product to bf16 before adding C, so
 * where bias and product cancel the result was off by many ulps (on an H200, cuBLAS 13:
 * acc = −0.56775, b = 0.46686 gave −0.099609 = bf16 (bf16 (acc) + bf16 (b)), the CPU's
 * bf16 (acc + b) = −0.101074: 3 ulps; 15 ulps elsewhere). A bf16 output with bias goes
 * through fp32 products in scratch instead (linear_forward_bf16_bias). */

#define BIAS_CHUNK_FLOATS (8 << 20)   /* fp32 products per pass of the bf16-with-bias path */

/* rows a pass of the bf16-with-bias path's fp32 fallback: 1 … n */
static int64_t
bias_chunk_rows (int64_t n, int out_f)
{
  int64_t chunk = BIAS_CHUNK_FLOATS / out_f;
  return chunk < 1 ? 1 : chunk > n ? n : chunk;
}

static cudaDataType_t data_type (const float *) { return CUDA_R_32F; }
static cudaDataType_t data_type (const __nv_bfloat16 *) { return CUDA_R_16BF; }

/* column-major C (m × n) = op(A)·op(B) + β·C on bf16 A and B (vb-cuda-private.h), `batch`
 * such products with operand i at base + i·stride. The handle's math mode is set to the default for the call and put back: in the fp32 matmul
 * mode the handle is pedantic, which may keep an explicit compute type off the tensor
 * cores. Into a bf16 C reductions (split-K partials) stay fp32 too, so C is rounded once. */
static int
gemm_bf16_batched (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                   const VbBf16 *a, int lda, int64_t stride_a, const VbBf16 *b, int ldb,
                   int64_t stride_b, float beta, void *c, cudaDataType_t c_type, int ldc,
                   int64_t stride_c, int batch, const char *what)
{
  const float one = 1.0f;
  cublasMath_t mode, want = c_type == CUDA_R_16BF
                            ? (cublasMath_t) (CUBLAS_DEFAULT_MATH
                                              | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)
                            : CUBLAS_DEFAULT_MATH;
  int ok;

  if (!vb_cuda_check_blas (cu, cublasGetMathMode (cu->blas, &mode), what))
    return 0;
  if (mode != want && !vb_cuda_check_blas (cu, cublasSetMathMode (cu->blas, want), what))
    return 0;
  if (batch == 1)
    ok = vb_cuda_check_blas (cu, cublasGemmEx (cu->blas, ta, tb, m, n, k, &one,
                                               a, CUDA_R_16BF, lda, b, CUDA_R_16BF, ldb, &beta,
                                               c, c_type, ldc,
                                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                             what);
  else
    ok = vb_cuda_check_blas (cu, cublasGemmStridedBatchedEx (cu->blas, ta, tb, m, n, k, &one,
                                                             a, CUDA_R_16BF, lda, stride_a,
                                                             b, CUDA_R_16BF, ldb, stride_b,
                                                             &beta, c, c_type, ldc, stride_c,
                                                             batch, CUBLAS_COMPUTE_32F,
                                                             CUBLAS_GEMM_DEFAULT),
                             what);
  if (mode != want)
    ok = vb_cuda_check_blas (cu, cublasSetMathMode (cu->blas, mode), what) && ok;
  return ok;
}

int
vb_cuda_gemm_bf16 (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                   const VbBf16 *a, int lda, const VbBf16 *b, int ldb, float beta, void *c,
                   cudaDataType_t c_type, int ldc, const char *what)
{
  return gemm_bf16_batched (cu, ta, tb, m, n, k, a, lda, 0, b, ldb, 0, beta, c, c_type, ldc, 0,
                            1, what);
}

/* the same into an fp32 or bf16 C, its type from the pointer's */
template <typename T>
static int
gemm_bf16_ops (VbCuda *cu, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
               const VbBf16 *a, int lda, const VbBf16 *b, int ldb, float beta, T *c, int ldc,
               const char *what)
{
  return vb_cuda_gemm_bf16 (cu, ta, tb, m, n, k, a, lda, b, ldb, beta, c, data_type (c), ldc,
                            what);
}

/* out[r, o] = bf16 (epi (y[r, o] + b[o])) for `rows` rows (a VbLinearB16Epi; for the gate,
 * o < out_f / 2 from y's interleaved blocks of 8 value then 8 gate columns), y dense
 * (rows × out_f, fp32 or an already rounded bf16 product), b bf16 or NULL; rows across
 * blockIdx.y, columns across x (as fill_rows_kernel). The exact expf of the CPU's ops. */
template <typename T>
static __global__ void
epilogue_round_kernel (__nv_bfloat16 *out, int64_t ld_out, const T *y,
                       const __nv_bfloat16 *b, int64_t rows, int out_f, int epi)
{
  const int cols = epi == VB_LINEAR_B16_GATE ? out_f / 2 : out_f;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < cols; o += gridDim.x * blockDim.x)
      {
        int col = epi == VB_LINEAR_B16_GATE ? o / 8 * 16 + o % 8 : o;
        float v = (float) y[r * out_f + col] + (b != NULL ? __bfloat162float (b[col]) : 0.0f);
        if (epi == VB_LINEAR_B16_ADD)
          v += __bfloat162float (out[r * ld_out + o]);
        else if (epi == VB_LINEAR_B16_QUICK_GELU)
          v = v / (1.0f + expf (-1.702f * v));
        else if (epi == VB_LINEAR_B16_GATE)
          {
            float g = (float) y[r * out_f + col + 8]
                      + (b != NULL ? __bfloat162float (b[col + 8]) : 0.0f);
            v = 1.0f / (1.0f + expf (-g)) * v;   /* as the CPU's gate */
          }
        out[r * ld_out + o] = __float2bfloat16_rn (v);
      }
}

static __global__ void
round_bf16_kernel (__nv_bfloat16 *dst, const float *src, int n)
{
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    dst[i] = __float2bfloat16_rn (src[i]);
}

/* the bias product's plan for a shape (found false: cuBLASLt has no algorithm for it) */
static VbLtPlan *
lt_plan (VbCuda *cu, int64_t n, int in_f, int out_f, int64_t ld_in, int64_t ld_out)
{
  const int64_t key[VB_LT_KEY] = { n, in_f, out_f, ld_in, ld_out, 0 };
  bool made;
  VbLtPlan *p = vb_cuda_lt_plan_slot (&cu->lt_plans, key, &made);
  if (p == NULL || !made)
    return p;
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
  /* column-major: out^T (out_f × n) = W (in_f × out_f)^T · in^T (in_f × n) */
  if (cublasLtMatmulDescCreate (&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS
      && cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) == 0
      && cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) == 0
      && cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi,
                                         sizeof epi) == 0
      && cublasLtMatrixLayoutCreate (&p->la, CUDA_R_16BF, in_f, out_f, in_f) == 0
      && cublasLtMatrixLayoutCreate (&p->lb, CUDA_R_16BF, in_f, n, ld_in) == 0
      && cublasLtMatrixLayoutCreate (&p->lc, CUDA_R_16BF, out_f, n, ld_out) == 0)
    /* split sums added in fp32, never in the output's bf16: each output rounded once */
    vb_cuda_lt_plan_choose (cu, p, CUBLASLT_REDUCTION_SCHEME_NONE
                                       | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE);
  return p;
}

/* out (n rows of out_f, ld_out) = bf16 (in·Wᵀ + b16) in one cuBLASLt product, the bias in
 * its epilogue (cuBLAS's GemmEx has none). 0 when cuBLASLt offers no algorithm for the
 * shape (nothing recorded: the caller takes the other path). */
static int
linear_bias_lt (VbCuda *cu, __nv_bfloat16 *out, int64_t ld_out, const VbBf16 *in, int64_t ld_in,
                const VbBf16 *w, const __nv_bfloat16 *b16, int64_t n, int in_f, int out_f,
                bool residual)
{
  if (!vb_cuda_lt_ready (cu))
    return 0;
  VbLtPlan *p = lt_plan (cu, n, in_f, out_f, ld_in, ld_out);
  if (p == NULL || !p->found
      || cublasLtMatmulDescSetAttribute (p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b16,
                                         sizeof b16) != CUBLAS_STATUS_SUCCESS)
    return 0;
  /* residual: β = 1 with C = D = out, in place (cuBLASLt allows C == D of one layout) */
  const float one = 1.0f, beta = residual ? 1.0f : 0.0f;
  vb_cuda_check_blas (cu, cublasLtMatmul (cu->lt, p->op, &one, w, p->la, in, p->lb, &beta, out,
                                          p->lc, out, p->lc, &p->algo, cu->blas_workspace,
                                          VB_CUDA_BLAS_WORKSPACE, cu->stream),
                      "linear forward (bf16, bias epilogue)");
  return 1;
}

/* cuBLASLt's bias epilogue rounds each output once only with operands it can take 16
 * bytes at a time: measured on the H200, its tensor-core kernels gave the rounded-once
 * value (384,356 of 384,384 outputs of a 96 → 384 product, the rest one step off by the
 * sums' order), but for a 5 → 7 product with 12-value output rows all 259 outputs were
 * bf16 (bf16 (x·w) + b), the product rounded before the bias was added (173 were the
 * rounded-once value) */
static bool
lt_rounds_once (const void *in, int64_t ld_in, const void *w, const void *out, int64_t ld_out,
                int in_f, int out_f)
{
  return in_f % 8 == 0 && out_f % 8 == 0 && ld_in % 8 == 0 && ld_out % 8 == 0
         && (uintptr_t) in % 16 == 0 && (uintptr_t) w % 16 == 0 && (uintptr_t) out % 16 == 0;
}

/* out = bf16 (epi (in·Wᵀ + b16)), b16 a bf16 bias or NULL, epi a VbLinearB16Epi (out has
 * out_f / 2 columns for the gate): stored, with the quick GELU or with the gate, in the
 * epilogue of gemm_sm90.cu's product where it runs (as fast as cuBLASLt's where both run:
 * docs/benchmarks.md), else the activation and the gate after cuBLASLt's bias product as
 * passes of their own; stored and added, one cuBLASLt product with the bias in its
 * epilogue where that rounds once (add: β = 1 on C = D = out, in place, which cuBLASLt
 * allows for one layout); else (unaligned operands, no bias) the fp32 product of a chunk of
 * rows into y (β = 0), then epilogue_round_kernel. y: scratch for chunk rows (NULL: taken
 * here, so b16 must not live in the scratch then). in_f > 0 */
static void
linear_bf16_b16 (VbCuda *cu, __nv_bfloat16 *out, int64_t ld_out, const VbBf16 *in, int64_t ld_in,
                 const VbBf16 *w, const __nv_bfloat16 *b16, int64_t n, int in_f, int out_f,
                 int epi, float *y)
{
  int64_t done = 0;   /* rows written by the paths below before the fp32 one */
  /* our product where it fits, but adding onto out (its epilogue there reads and writes C
   * from the registers: cuBLASLt's is as fast) */
  if (epi != VB_LINEAR_B16_ADD && ld_in == in_f
      && vb_cuda_gemm_sm90 (cu, epi, reinterpret_cast<VbBf16 *> (out), ld_out, in, w,
                            reinterpret_cast<const VbBf16 *> (b16), n, out_f, in_f) != 0)
    return;   /* ran, or failed and recorded */
  if (epi == VB_LINEAR_B16_QUICK_GELU || epi == VB_LINEAR_B16_GATE)
    {
      /* off Hopper: cuBLASLt's bias product rounded to bf16, then the activation or the
       * gate as a pass of its own (rounding twice: ≈ 1 step) */
      if (b16 != NULL && (uintptr_t) b16 % 16 == 0
          && lt_rounds_once (in, ld_in, w, out, ld_out, in_f, out_f))
        {
          if (epi == VB_LINEAR_B16_QUICK_GELU && ld_out == out_f)
            {
              if (linear_bias_lt (cu, out, ld_out, in, ld_in, w, b16, n, in_f, out_f, false))
                {
                  vb_cuda_quick_gelu_forward_bf16 (cu, reinterpret_cast<VbBf16 *> (out),
                                                   reinterpret_cast<VbBf16 *> (out), n * out_f);
                  return;
                }
            }
          else if (epi == VB_LINEAR_B16_GATE && y == NULL)
            {
              /* the product's chunks of rows in the scratch (128 MiB at most) */
              int64_t chunk = ((int64_t) 128 << 20) / ((int64_t) out_f * 2);
              chunk = chunk < 1 ? 1 : chunk > n ? n : chunk;
              __nv_bfloat16 *p = (__nv_bfloat16 *) vb_cuda_scratch (cu, (size_t) chunk * out_f * 2);
              if (p == NULL)
                return;
              for (; done < n; done += chunk)
                {
                  int64_t rows = n - done < chunk ? n - done : chunk;
                  if (!linear_bias_lt (cu, p, out_f, in + done * ld_in, ld_in, w, b16, rows,
                                       in_f, out_f, false))
                    break;   /* no algorithm: the fp32 path takes the rest */
                  dim3 grid ((out_f / 2 + 127) / 128 > 65535 ? 65535 : (out_f / 2 + 127) / 128,
                             rows > 65535 ? 65535 : (unsigned int) rows);
                  epilogue_round_kernel<<<grid, 128, 0, cu->stream>>> (
                      out + done * ld_out, ld_out, p, (const __nv_bfloat16 *) NULL, rows, out_f, epi);
                  if (!VB_CUDA_LAUNCHED (cu, "linear gate (bf16)"))
                    return;
                }
              if (done == n)
                return;
            }
        }
    }
  else if (b16 != NULL && lt_rounds_once (in, ld_in, w, out, ld_out, in_f, out_f)
           && (uintptr_t) b16 % 16 == 0
           && linear_bias_lt (cu, out, ld_out, in, ld_in, w, b16, n, in_f, out_f,
                              epi == VB_LINEAR_B16_ADD))
    return;
  int64_t chunk = bias_chunk_rows (n, out_f);
  if (y == NULL
      && (y = (float *) vb_cuda_scratch (cu, (size_t) chunk * out_f * sizeof (float))) == NULL)
    return;
  for (int64_t r0 = done; r0 < n; r0 += chunk)
    {
      int64_t rows = n - r0 < chunk ? n - r0 : chunk;
      /* y (rows × out_f, row-major, dense) = y^T column-major = W^T^T · in^T */
      if (!gemm_bf16_ops (cu, CUBLAS_OP_T, CUBLAS_OP_N, out_f, (int) rows, in_f, w, in_f,
                          in + r0 * ld_in, (int) ld_in, 0.0f, y, out_f,
                          "linear forward (bf16)"))
        return;
      dim3 grid ((out_f + 127) / 128 > 65535 ? 65535 : (out_f + 127) / 128,
                 rows > 65535 ? 65535 : (unsigned int) rows);
      epilogue_round_kernel<<<grid, 128, 0, cu->stream>>> (out + r0 * ld_out, ld_out, y, b16,
                                                           rows, out_f, epi);
      if (!VB_CUDA_LAUNCHED (cu, "linear epilogue (bf16)"))
        return;
    }
}

/* a bf16 out with an fp32 bias, as the CPU computes it: bf16 (product + bf16 (b)), rounded
 * once (the bias at bf16 precision, as a module cast to bf16 holds it, and as cuBLASLt's
 * bias epilogue takes it: its bias has the output's type): b rounded into scratch, then
 * linear_bf16_b16. (Not GemmEx into a bf16 C holding the bias with β = 1: measured, that
 * rounds the product before adding C.) in_f > 0 */
static void
linear_forward_bf16_bias (VbCuda *cu, __nv_bfloat16 *out, int64_t ld_out, const VbBf16 *in,
                          int64_t ld_in, const VbBf16 *w, const float *b, int64_t n, int in_f,
                          int out_f)
{
  /* scratch: the rounded bias (16-byte aligned, as cuBLASLt wants it), then the rows */
  size_t bias_bytes = ((size_t) out_f * sizeof (__nv_bfloat16) + 255) / 256 * 256;
  char *room = (char *) vb_cuda_scratch (cu, bias_bytes + (size_t) bias_chunk_rows (n, out_f)
                                                          * out_f * sizeof (float));
  if (room == NULL)
    return;
  __nv_bfloat16 *b16 = (__nv_bfloat16 *) room;
  round_bf16_kernel<<<(out_f + 255) / 256, 256, 0, cu->stream>>> (b16, b, out_f);
  if (VB_CUDA_LAUNCHED (cu, "linear bias (bf16)"))
    linear_bf16_b16 (cu, out, ld_out, in, ld_in, w, b16, n, in_f, out_f, VB_LINEAR_B16_STORE,
                     (float *) (room + bias_bytes));
}

/* vb_cuda_linear_forward on bf16 operands into an fp32 out, or a bf16 out without bias
 * (β = 0) or without inputs (in_f = 0: the bias, rounded, or zeros) */
template <typename T>
static void
linear_forward_bf16 (VbCuda *cu, T *out, int64_t ld_out, const VbBf16 *in, int64_t ld_in,
                     const VbBf16 *w, const float *b, int64_t n, int in_f, int out_f)
{
  float beta = 0.0f;

  if (b != NULL)
    {
      if (!fill_rows (cu, out, ld_out, b, n, out_f, "linear bias (bf16)"))
        return;
      beta = 1.0f;
    }
  if (in_f <= 0)
    {
      if (b == NULL)
        vb_cuda_check_rt (cu, cudaMemset2DAsync (out, ld_out * sizeof (T), 0,
                                                 out_f * sizeof (T), n, cu->stream),
                          "linear (bf16, no inputs)");
      return;
    }
  /* out (n × out_f, row-major) = out^T column-major = W^T^T · in^T */
  gemm_bf16_ops (cu, CUBLAS_OP_T, CUBLAS_OP_N, out_f, (int) n, in_f, w, in_f,
                 in, (int) ld_in, beta, out, (int) ld_out, "linear forward (bf16)");
}

extern "C" void
vb_cuda_linear_forward_bf16 (VbCuda *cu, float *out, VbBf16 *out16, int64_t ld_out,
                             const VbBf16 *in, int64_t ld_in, const VbBf16 *w,
                             const float *b, int64_t n, int in_f, int out_f)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || out_f <= 0)
    return;
  if (out != NULL)
    linear_forward_bf16 (cu, out, ld_out, in, ld_in, w, b, n, in_f, out_f);
  else if (b != NULL && in_f > 0)
    linear_forward_bf16_bias (cu, reinterpret_cast<__nv_bfloat16 *> (out16), ld_out, in, ld_in,
                              w, b, n, in_f, out_f);
  else
    linear_forward_bf16 (cu, reinterpret_cast<__nv_bfloat16 *> (out16), ld_out, in, ld_in, w,
                         b, n, in_f, out_f);
}

/* din^T (in_f × n) = W^T (in_f × out_f) · dout^T (out_f × n), written */
extern "C" int
vb_cuda_linear_b16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, const VbBf16 *w,
                    const VbBf16 *b, int64_t n, int in_f, int out_f, int epi)
{
  VB_CUDA_GUARD_RET (cu, -1);
  if (epi < VB_LINEAR_B16_STORE || epi > VB_LINEAR_B16_GATE
      || (epi == VB_LINEAR_B16_GATE && out_f % 16 != 0))
    {
      snprintf (cu->error, sizeof cu->error, "linear (bf16): epilogue %d on %d outputs", epi,
                out_f);
      return -1;
    }
  if (n <= 0 || out_f <= 0 || in_f <= 0)   /* (the tower has no empty products) */
    return 0;
  __nv_bfloat16 *o = reinterpret_cast<__nv_bfloat16 *> (out);
  const __nv_bfloat16 *b16 = reinterpret_cast<const __nv_bfloat16 *> (b);
  int64_t ld_out = epi == VB_LINEAR_B16_GATE ? out_f / 2 : out_f;
  if (b16 != NULL || epi == VB_LINEAR_B16_QUICK_GELU || epi == VB_LINEAR_B16_GATE)
    linear_bf16_b16 (cu, o, ld_out, in, in_f, w, b16, n, in_f, out_f, epi, NULL);
  else
    {
      /* no bias: zeros (16-byte aligned) in front of the fallback's rows in the scratch,
       * for cuBLASLt's bias epilogue */
      size_t bias_bytes = ((size_t) out_f * sizeof (__nv_bfloat16) + 255) / 256 * 256;
      char *room = (char *) vb_cuda_scratch (cu, bias_bytes + (size_t) bias_chunk_rows (n, out_f)
                                                              * out_f * sizeof (float));
      if (room == NULL
          || !vb_cuda_check_rt (cu, cudaMemsetAsync (room, 0, bias_bytes, cu->stream),
                                "linear (bf16): zero bias"))
        return -1;
      linear_bf16_b16 (cu, o, out_f, in, in_f, w, (const __nv_bfloat16 *) room, n, in_f, out_f,
                       epi, (float *) (room + bias_bytes));
    }
  return cu->error[0] == '\0' ? 0 : -1;
}

template <typename T>
static void
linear_din_bf16 (VbCuda *cu, T *din, int64_t ld_din, const VbBf16 *dout, int64_t ld_dout,
                 const VbBf16 *w, int64_t n, int in_f, int out_f)
{
  if (out_f > 0)
    gemm_bf16_ops (cu, CUBLAS_OP_N, CUBLAS_OP_N, in_f, (int) n, out_f, w, in_f,
                   dout, (int) ld_dout, 0.0f, din, (int) ld_din,
                   "linear backward (bf16, input)");
  else
    vb_cuda_check_rt (cu, cudaMemset2DAsync (din, ld_din * sizeof (T), 0, in_f * sizeof (T),
                                             n, cu->stream),
                      "linear backward (bf16, no outputs)");
}

extern "C" void
vb_cuda_linear_backward_bf16 (VbCuda *cu, float *din, VbBf16 *din16, int64_t ld_din,
                              float *dw, float *db, const VbBf16 *dout, int64_t ld_dout,
                              const VbBf16 *in, int64_t ld_in, const VbBf16 *w, int64_t n,
                              int in_f, int out_f)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;

  if (in_f > 0)
    {
      if (din16 != NULL)
        linear_din_bf16 (cu, reinterpret_cast<__nv_bfloat16 *> (din16), ld_din, dout, ld_dout,
                         w, n, in_f, out_f);
      else if (din != NULL)
        linear_din_bf16 (cu, din, ld_din, dout, ld_dout, w, n, in_f, out_f);
    }

  /* dw^T (in_f × out_f) += in^T (in_f × n) · dout (n × out_f), fp32: split over the rows
   * by us where the sums are queued (wgrad.cu), else by cuBLAS */
  if (dw != NULL && in_f > 0 && out_f > 0
      && !vb_cuda_wgrad_split (cu, dw, in, ld_in, dout, ld_dout, n, in_f, out_f))
    gemm_bf16_ops (cu, CUBLAS_OP_N, CUBLAS_OP_T, in_f, out_f, (int) n, in, (int) ld_in,
                   dout, (int) ld_dout, 1.0f, dw, in_f, "linear backward (bf16, weight)");

  if (db != NULL && out_f > 0)
    colsum_acc (cu, db, reinterpret_cast<const __nv_bfloat16 *> (dout), ld_dout, n, out_f);
}

/* ---- the SS2D groups' Δ projections on bf16 storage -----------------------------------
 * Group g's rank-R input (dt_low) is R columns at g·(R + 2N) of x_dbl. With R or those
 * offsets not multiples of 8 elements, cuBLAS falls back to 2-element-aligned kernels
 * (wmma tiles of 16 or 32): 4 ms of a VMamba-T training step at 224 went to products of a
 * few MFLOP each. So misaligned operands are first copied into aligned scratch, their
 * rows zero-padded to Rp = R rounded up to 8 (the padding's zeros add exact zeros to
 * every sum), and the products run on those. */

#define PAD_TO 8

/* dst[r·dld + g·dgs + j] (+)= j < cols_in ? src[r·sld + g·sgs + j] : 0 for j < cols_out,
 * r < rows, g < groups: one thread a (row, group), its cols_in loads issued before its
 * stores; 2-byte rows of whole 16-byte vectors stored as such */
template <typename T, bool ACC>
static __global__ void
copy_padded_kernel (T *dst, int64_t dld, int64_t dgs, const T *src, int64_t sld, int64_t sgs,
                    int64_t rows, int groups, int cols_out, int cols_in)
{
  constexpr int V = 16 / sizeof (T);
  bool vec = !ACC && cols_out % V == 0 && (uintptr_t) dst % 16 == 0 && dld % V == 0
             && dgs % V == 0;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < rows * groups;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      int g;
      int64_t r = vb_div_index (i, groups, &g);
      const T *s = src + r * sld + g * sgs;
      T *d = dst + r * dld + g * dgs;
      for (int j0 = 0; j0 < cols_out; j0 += V)
        {
          union { T t[V]; uint4 u; } v;
#pragma unroll
          for (int k = 0; k < V; k++)
            v.t[k] = j0 + k < cols_in ? s[j0 + k] : T (0);
          if (vec)
            *reinterpret_cast<uint4 *> (d + j0) = v.u;
          else
#pragma unroll
            for (int k = 0; k < V; k++)
              if (j0 + k < cols_out)
                {
                  if constexpr (ACC)
                    d[j0 + k] += v.t[k];
                  else
                    d[j0 + k] = v.t[k];
                }
        }
    }
}

template <typename T, bool ACC = false>
static int
copy_padded (VbCuda *cu, T *dst, int64_t dld, int64_t dgs, const T *src, int64_t sld,
             int64_t sgs, int64_t rows, int groups, int cols_out, int cols_in, const char *what)
{
  copy_padded_kernel<T, ACC><<<vb_cuda_blocks (rows * groups, 256), 256, 0, cu->stream>>> (
      dst, dld, dgs, src, sld, sgs, rows, groups, cols_out, cols_in);
  return VB_CUDA_LAUNCHED (cu, what);
}

static bool
aligned_operand (const void *p, int64_t ld, int64_t gstride)
{
  return (uintptr_t) p % 16 == 0 && ld % PAD_TO == 0 && gstride % PAD_TO == 0;
}

/* the groups' rank-R operands as they are, or copied zero-padded to Rp columns: inputs
 * (n rows, ld Rp·groups, group stride Rp) and weights (groups × out_f rows of Rp) */
typedef struct
{
  const VbBf16 *in, *w;
  int64_t ld_in, in_gstride, w_gstride;
  int rp;
} GroupOperands;

static int
group_operands (VbCuda *cu, GroupOperands *op, unsigned short *room, const VbBf16 *in,
                int64_t ld_in, int64_t in_gstride, const VbBf16 *w, int64_t w_gstride,
                int groups, int64_t n, int in_f, int out_f)
{
  if (aligned_operand (in, ld_in, in_gstride) && aligned_operand (w, in_f, w_gstride))
    {
      *op = (GroupOperands) { in, w, ld_in, in_gstride, w_gstride, in_f };
      return 1;
    }
  int rp = (in_f + PAD_TO - 1) / PAD_TO * PAD_TO;
  unsigned short *in_p = room, *w_p = room + n * groups * rp;
  *op = (GroupOperands) { (const VbBf16 *) in_p, (const VbBf16 *) w_p, (int64_t) groups * rp,
                          rp, (int64_t) out_f * rp, rp };
  return copy_padded (cu, in_p, op->ld_in, rp, (const unsigned short *) in, ld_in, in_gstride,
                      n, groups, rp, in_f, "grouped linear (bf16, padded input)")
         && copy_padded (cu, w_p, rp, op->w_gstride, (const unsigned short *) w, in_f,
                         w_gstride, out_f, groups, rp, in_f,
                         "grouped linear (bf16, padded weight)");
}

/* scratch for group_operands and `extra` floats after it (16-byte aligned) */
static unsigned short *
group_room (VbCuda *cu, int groups, int64_t n, int in_f, int out_f, int64_t extra, float **after)
{
  int rp = (in_f + PAD_TO - 1) / PAD_TO * PAD_TO;
  int64_t halves = ((n + out_f) * groups * rp + 7) / 8 * 8;
  unsigned short *room = (unsigned short *) vb_cuda_scratch (
      cu, (size_t) halves * 2 + (size_t) extra * sizeof (float));
  if (room != NULL && after != NULL)
    *after = (float *) (room + halves);
  return room;
}

extern "C" void
vb_cuda_linear_forward_groups_bf16 (VbCuda *cu, VbBf16 *out16, int64_t ld_out,
                                    int64_t out_gstride, const VbBf16 *in, int64_t ld_in,
                                    int64_t in_gstride, const VbBf16 *w, int64_t w_gstride,
                                    int groups, int64_t n, int in_f, int out_f)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || out_f <= 0 || groups <= 0)
    return;
  if (in_f <= 0)
    {
      for (int g = 0; g < groups; g++)
        vb_cuda_check_rt (cu, cudaMemset2DAsync (out16 + g * out_gstride,
                                                 ld_out * sizeof (VbBf16), 0,
                                                 out_f * sizeof (VbBf16), n, cu->stream),
                          "grouped linear forward (bf16, no inputs)");
      return;
    }
  unsigned short *room = group_room (cu, groups, n, in_f, out_f, 0, NULL);
  GroupOperands op;
  if (room == NULL
      || !group_operands (cu, &op, room, in, ld_in, in_gstride, w, w_gstride, groups, n, in_f,
                          out_f))
    return;
  /* as vb_cuda_linear_forward_groups, into a bf16 out rounded once */
  gemm_bf16_batched (cu, CUBLAS_OP_T, CUBLAS_OP_N, out_f, (int) n, op.rp, op.w, op.rp,
                     op.w_gstride, op.in, (int) op.ld_in, op.in_gstride, 0.0f, out16,
                     CUDA_R_16BF, (int) ld_out, out_gstride, groups,
                     "grouped linear forward (bf16)");
}

extern "C" void
vb_cuda_linear_backward_groups_bf16 (VbCuda *cu, float *din, int64_t ld_din,
                                     int64_t din_gstride, float *dw, int64_t w_gstride,
                                     const VbBf16 *dout, int64_t ld_dout, int64_t dout_gstride,
                                     const VbBf16 *in, int64_t ld_in, int64_t in_gstride,
                                     const VbBf16 *w, int groups, int64_t n, int in_f,
                                     int out_f)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || groups <= 0 || in_f <= 0 || out_f <= 0)
    return;
  int rp = (in_f + PAD_TO - 1) / PAD_TO * PAD_TO;
  /* after the operands: din's padded rows, dw's padded columns (w and dw have the same
   * group stride) */
  int64_t din_floats = (n * groups * rp + 3) / 4 * 4, dw_floats = (int64_t) groups * out_f * rp;
  float *after = NULL;
  unsigned short *room = group_room (cu, groups, n, in_f, out_f, din_floats + dw_floats, &after);
  GroupOperands op;
  if (room == NULL
      || !group_operands (cu, &op, room, in, ld_in, in_gstride, w, w_gstride, groups, n, in_f,
                          out_f))
    return;
  /* copied operands: the results go through aligned scratch too */
  bool padded = op.in != in;
  if (din != NULL)
    {
      /* din (n × in_f per group) = dout · W, into the padded rows first when padded */
      float *d = padded ? after : din;
      int64_t ld = padded ? (int64_t) groups * rp : ld_din, gs = padded ? rp : din_gstride;
      if (!gemm_bf16_batched (cu, CUBLAS_OP_N, CUBLAS_OP_N, op.rp, (int) n, out_f, op.w, op.rp,
                              op.w_gstride, dout, (int) ld_dout, dout_gstride, 0.0f, d,
                              CUDA_R_32F, (int) ld, gs, groups,
                              "grouped linear backward (bf16, input)")
          || (padded && !copy_padded (cu, din, ld_din, din_gstride, (const float *) d, ld, gs,
                                      n, groups, in_f, in_f,
                                      "grouped linear backward (bf16, input rows)")))
        return;
    }
  /* narrow inputs where the sums are queued: all groups in one launch of ours (the
   * operands as given: their padding is the caller's); else one product per group, as the
   * fp32 version: cuBLAS splits each long sum over n */
  if (dw != NULL && !padded
      && vb_cuda_wgrad_groups (cu, dw, w_gstride, in, ld_in, in_gstride, dout, ld_dout,
                               dout_gstride, groups, n, in_f, out_f))
    dw = NULL;
  if (dw != NULL)
    for (int g = 0; g < groups; g++)
      {
        float *d = padded ? after + din_floats + (int64_t) g * out_f * rp : dw + g * w_gstride;
        if (!vb_cuda_gemm_bf16 (cu, CUBLAS_OP_N, CUBLAS_OP_T, op.rp, out_f, (int) n,
                                op.in + g * op.in_gstride, (int) op.ld_in,
                                dout + g * dout_gstride, (int) ld_dout, padded ? 0.0f : 1.0f, d,
                                CUDA_R_32F, op.rp, "grouped linear backward (bf16, weight)"))
          return;
      }
  /* dw (out_f rows of in_f per group) += the padded sums' first in_f columns */
  if (dw != NULL && padded)
    copy_padded<float, true> (cu, dw, in_f, w_gstride, after + din_floats, rp,
                              (int64_t) out_f * rp, out_f, groups, in_f, in_f,
                              "grouped linear backward (bf16, weight columns)");
}
