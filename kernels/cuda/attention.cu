/* attention.cu: unmasked multi-head self-attention forward (ViT / CLIP), vb-cuda-vit.h.
 *
 * The token rows hold [q | k | v] with head h at columns h·dh … of each third, so a head
 * is a strided view whose stride differs between images and heads. One kernel copies
 * q, k and v head-major, (image, head, token, dh), so both products run as single
 * strided-batched calls over every (image, head) pair in the context's matmul mode
 * (vb_cuda_gemm_strided: strict fp32, TF32 or bf16 operands); a warp-per-row softmax in
 * fp32 sits between them, and a last kernel puts the heads back side by side. The full
 * score matrix is kept (577² floats per head at 336 px: spec §1.8 finds a non-flash
 * implementation adequate); images are taken in chunks so the scratch stays bounded. */
#include <math.h>

#include "vb-cuda-private.h"
#include "vb-cuda-vit.h"

#define THREADS 256
#define WARPS_PER_BLOCK (THREADS / 32)

/* One block per token row, its (part, head) slices across threadIdx.y and each slice's
 * features across threadIdx.x: the indices come from one division per row and one per
 * slice, never per element, and a warp moves 32 consecutive floats. */
#define SPLIT_X 32
#define SPLIT_Y 8

static unsigned int
row_blocks (int64_t rows)
{
  return (unsigned int) (rows > (1 << 20) ? (1 << 20) : rows);
}

/* q, k, v (3, nb, heads, N, dh) ← qkv (nb, N, 3, heads, dh) */
static __global__ void
split_heads_kernel (float *qkvh, const float *qkv, int N, int heads, int dh, int64_t per_part,
                    int64_t rows)
{
  int64_t D = (int64_t) heads * dh;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    {
      int64_t b = row / N, t = row - b * N;
      const float *src = qkv + row * 3 * D;
      /* column c = part·D + h·dh + d = ph·dh + d with ph = part·heads + h */
      for (int ph = threadIdx.y; ph < 3 * heads; ph += blockDim.y)
        {
          int part = ph / heads, h = ph - part * heads;
          const float *s = src + (int64_t) ph * dh;
          float *o = qkvh + part * per_part + ((b * heads + h) * N + t) * dh;
          for (int d = threadIdx.x; d < dh; d += blockDim.x)
            o[d] = s[d];
        }
    }
}

/* out (nb, N, heads·dh) ← o (nb, heads, N, dh) */
static __global__ void
merge_heads_kernel (float *out, const float *o, int N, int heads, int dh, int64_t rows)
{
  int64_t D = (int64_t) heads * dh;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    {
      int64_t b = row / N, t = row - b * N;
      float *dst = out + row * D;
      for (int h = threadIdx.y; h < heads; h += blockDim.y)
        {
          const float *s = o + ((b * heads + h) * N + t) * dh;
          for (int d = threadIdx.x; d < dh; d += blockDim.x)
            dst[(int64_t) h * dh + d] = s[d];
        }
    }
}

/* s[r, :] ← softmax (s[r, :]) for r < rows, one warp per row: max, then Σ exp, then the
 * normalised values (exp recomputed: the row stays in L1). Lane sums in a fixed order
 * and a fixed butterfly: the same bits every run. */
static __global__ void
softmax_rows_kernel (float *s, int64_t rows, int n)
{
  int lane = threadIdx.x % 32;
  for (int64_t row = (int64_t) blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32; row < rows;
       row += (int64_t) gridDim.x * WARPS_PER_BLOCK)
    {
      float *x = s + row * n;
      float mx = -INFINITY;
      for (int j = lane; j < n; j += 32)
        mx = fmaxf (mx, x[j]);
      for (int off = 16; off > 0; off /= 2)
        mx = fmaxf (mx, __shfl_xor_sync (0xffffffffu, mx, off));
      float sum = 0.0f;
      for (int j = lane; j < n; j += 32)
        sum += expf (x[j] - mx);
      for (int off = 16; off > 0; off /= 2)
        sum += __shfl_xor_sync (0xffffffffu, sum, off);
      float inv = 1.0f / sum;
      for (int j = lane; j < n; j += 32)
        x[j] = expf (x[j] - mx) * inv;
    }
}

extern "C" int
vb_cuda_attention_forward (VbCuda *cu, float *out, const float *qkv, int B, int N, int heads,
                           int head_dim, float scale)
{
  return vb_cuda_attention_forward_chunked (cu, out, qkv, B, N, heads, head_dim, scale, 0);
}

extern "C" int
vb_cuda_attention_forward_chunked (VbCuda *cu, float *out, const float *qkv, int B, int N,
                                   int heads, int head_dim, float scale, int max_images)
{
  if (cu->error[0] != '\0')
    return -1;
  if (B <= 0 || N <= 0 || heads <= 0 || head_dim <= 0)
    return 0;

  int64_t D = (int64_t) heads * head_dim;
  int64_t per_image = 3 * N * D + (int64_t) heads * N * N + N * D;   /* floats */
  int64_t chunk = (int64_t) (VB_CUDA_ATTN_SCRATCH_BYTES / sizeof (float)) / per_image;
  if (max_images > 0 && chunk > max_images)
    chunk = max_images;
  chunk = chunk < 1 ? 1 : (chunk > B ? B : chunk);
  float *scratch = (float *) vb_cuda_scratch (cu, (size_t) (chunk * per_image) * sizeof (float));
  if (scratch == NULL)
    return -1;

  const float one = 1.0f, zero = 0.0f;
  for (int64_t b0 = 0; b0 < B; b0 += chunk)
    {
      int64_t nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t per_part = nb * N * D;                 /* one of q, k, v, head-major */
      int batch = (int) (nb * heads);
      int64_t hs = (int64_t) N * head_dim;           /* one head's q (or k, v, o) */
      float *q = scratch, *k = q + per_part, *v = k + per_part;
      float *sc = v + per_part, *o = sc + (int64_t) batch * N * N;

      int64_t rows = nb * N;
      dim3 threads (SPLIT_X, SPLIT_Y);
      split_heads_kernel<<<row_blocks (rows), threads, 0, cu->stream>>> (
          q, qkv + b0 * N * 3 * D, N, heads, head_dim, per_part, rows);
      if (!VB_CUDA_LAUNCHED (cu, "attention: heads apart"))
        return -1;
      /* S (N_q, N_k) row-major = (N_k × N_q) column-major = op(K)ᵀ · Q, K and Q stored as
       * (dh × N) column-major; the scale rides on α */
      if (!vb_cuda_gemm_strided (cu, CUBLAS_OP_T, CUBLAS_OP_N, N, N, head_dim, &scale,
                                 k, head_dim, hs, q, head_dim, hs, &zero,
                                 sc, N, (int64_t) N * N, batch, "attention scores"))
        return -1;
      int64_t score_rows = (int64_t) batch * N;
      softmax_rows_kernel<<<vb_cuda_blocks (score_rows, WARPS_PER_BLOCK), THREADS, 0,
                            cu->stream>>> (sc, score_rows, N);
      if (!VB_CUDA_LAUNCHED (cu, "attention softmax"))
        return -1;
      /* O (N_q, dh) row-major = (dh × N_q) column-major = V (dh × N_k) · P (N_k × N_q) */
      if (!vb_cuda_gemm_strided (cu, CUBLAS_OP_N, CUBLAS_OP_N, head_dim, N, N, &one,
                                 v, head_dim, hs, sc, N, (int64_t) N * N, &zero,
                                 o, head_dim, hs, batch, "attention values"))
        return -1;
      merge_heads_kernel<<<row_blocks (rows), threads, 0, cu->stream>>> (
          out + b0 * N * D, o, N, heads, head_dim, rows);
      if (!VB_CUDA_LAUNCHED (cu, "attention: heads together"))
        return -1;
    }
  return 0;
}
