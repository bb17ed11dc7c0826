/* vb-cuda-vit-table.c: the CUDA ops of vb-cuda-vit.h as a VbVitOps table (vb-vit-ops.h);
 * each entry casts the context (the VbCuda * of the CUDA VbOps table) and calls the op. */
#include "config.h"

#include "vb-cuda-vit.h"
#include "vb-vit-ops.h"

static void
cu_patchify (void *ctx, float *cols, const float *pixels, int B, int C, int S, int P)
{
  vb_cuda_vit_patchify (ctx, cols, pixels, B, C, S, P);
}

static void
cu_add_embeddings (void *ctx, float *x, const float *cls, const float *pos, int B, int N, int D)
{
  vb_cuda_vit_add_embeddings (ctx, x, cls, pos, B, N, D);
}

static void
cu_quick_gelu_forward (void *ctx, float *out, const float *in, int64_t n)
{
  vb_cuda_quick_gelu_forward (ctx, out, in, n);
}

static int
cu_attention_forward (void *ctx, float *out, const float *qkv, int B, int N, int heads,
                      int head_dim, float scale)
{
  return vb_cuda_attention_forward (ctx, out, qkv, B, N, heads, head_dim, scale);
}

static void
cu_sigmoid_gate_forward (void *ctx, float *y, float *s, const float *a, const float *v,
                         int64_t n)
{
  vb_cuda_sigmoid_gate_forward (ctx, y, s, a, v, n);
}

static void
cu_sigmoid_gate_backward (void *ctx, float *da, float *dv, const float *dy, const float *s,
                          const float *v, int64_t n)
{
  vb_cuda_sigmoid_gate_backward (ctx, da, dv, dy, s, v, n);
}

static void
cu_sigmoid_gate_forward_bf16 (void *ctx, VbBf16 *y, const VbBf16 *av, int64_t rows, int C)
{
  vb_cuda_sigmoid_gate_forward_bf16 (ctx, y, av, rows, C);
}

static void
cu_copy_rows (void *ctx, float *dst, int64_t ld_dst, const float *src, int64_t ld_src,
              int64_t rows, int64_t cols)
{
  vb_cuda_copy_rows (ctx, dst, ld_dst, src, ld_src, rows, cols);
}

static int
cu_layernorm_forward_b16 (void *ctx, VbBf16 *out, float *mean, float *rstd, const VbBf16 *in,
                          const float *gamma, const float *beta, int64_t rows, int c, float eps)
{
  return vb_cuda_layernorm_forward_b16 (ctx, out, mean, rstd, in, gamma, beta, rows, c, eps);
}

static int
cu_quick_gelu_forward_bf16 (void *ctx, VbBf16 *out, const VbBf16 *in, int64_t n)
{
  return vb_cuda_quick_gelu_forward_bf16 (ctx, out, in, n);
}

static int
cu_attention_forward_bf16 (void *ctx, VbBf16 *out, const VbBf16 *qkv, int B, int N, int heads,
                           int head_dim, float scale)
{
  return vb_cuda_attention_forward_bf16 (ctx, out, qkv, B, N, heads, head_dim, scale);
}

static int
cu_linear_b16 (void *ctx, VbBf16 *out, const VbBf16 *in, const VbBf16 *w, const VbBf16 *b,
               int64_t rows, int in_f, int out_f, int epi)
{
  return vb_cuda_linear_b16 (ctx, out, in, w, b, rows, in_f, out_f, epi);
}

static void
cu_widen_rows (void *ctx, float *dst, int64_t ld_dst, const VbBf16 *src, int64_t ld_src,
               int64_t rows, int64_t cols)
{
  vb_cuda_widen_rows (ctx, dst, ld_dst, src, ld_src, rows, cols);
}

static const VbVitOps cuda_vit_ops = {
  .name = "cuda",
  .patchify = cu_patchify,
  .add_embeddings = cu_add_embeddings,
  .quick_gelu_forward = cu_quick_gelu_forward,
  .attention_forward = cu_attention_forward,
  .sigmoid_gate_forward = cu_sigmoid_gate_forward,
  .sigmoid_gate_backward = cu_sigmoid_gate_backward,
  .sigmoid_gate_forward_bf16 = cu_sigmoid_gate_forward_bf16,
  .copy_rows = cu_copy_rows,
  .layernorm_forward_b16 = cu_layernorm_forward_b16,
  .quick_gelu_forward_bf16 = cu_quick_gelu_forward_bf16,
  .attention_forward_bf16 = cu_attention_forward_bf16,
  .linear_b16 = cu_linear_b16,
  .widen_rows = cu_widen_rows,
};

const struct VbVitOps *
vb_cuda_vit_ops (void)
{
  return &cuda_vit_ops;
}
