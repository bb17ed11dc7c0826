/* vit_ops_table.c: the CPU's VbVitOps table (vb-vit-ops.h): each entry drops the
 * context and calls the CPU op. */
#include "config.h"

#include <string.h>

#include "vb-cpu-gating.h"
#include "vb-cpu-vit.h"
#include "vb-vit-ops.h"

static void
cpu_patchify (void *ctx, float *cols, const float *pixels, int B, int C, int S, int P)
{
  int64_t G = S / P, image = (int64_t) C * S * S, per = G * G * C * P * P;
  (void) ctx;
  for (int b = 0; b < B; b++)
    vb_vit_patchify (cols + b * per, pixels + b * image, C, S, P);
}

static void
cpu_add_embeddings (void *ctx, float *x, const float *cls, const float *pos, int B, int N,
                    int D)
{
  (void) ctx;
  vb_vit_add_embeddings (x, cls, pos, B, N, D);
}

static void
cpu_quick_gelu_forward (void *ctx, float *out, const float *in, int64_t n)
{
  (void) ctx;
  vb_quick_gelu_forward (out, in, n);
}

static int
cpu_attention_forward (void *ctx, float *out, const float *qkv, int B, int N, int heads,
                       int head_dim, float scale)
{
  (void) ctx;
  return vb_attention_forward (out, qkv, B, N, heads, head_dim, scale);
}

static void
cpu_sigmoid_gate_forward (void *ctx, float *y, float *s, const float *a, const float *v,
                          int64_t n)
{
  (void) ctx;
  vb_sigmoid_gate_forward (y, s, a, v, n);
}

static void
cpu_sigmoid_gate_backward (void *ctx, float *da, float *dv, const float *dy, const float *s,
                           const float *v, int64_t n)
{
  (void) ctx;
  vb_sigmoid_gate_backward (da, dv, dy, s, v, n);
}

static void
cpu_sigmoid_gate_forward_bf16 (void *ctx, VbBf16 *y, const VbBf16 *av, int64_t rows, int C)
{
  (void) ctx;
  vb_sigmoid_gate_forward_bf16 (y, av, rows, C);
}

static void
cpu_copy_rows (void *ctx, float *dst, int64_t ld_dst, const float *src, int64_t ld_src,
               int64_t rows, int64_t cols)
{
  (void) ctx;
  for (int64_t r = 0; r < rows; r++)
    memcpy (dst + r * ld_dst, src + r * ld_src, (size_t) cols * sizeof (float));
}

static int
cpu_layernorm_forward_b16 (void *ctx, VbBf16 *out, float *mean, float *rstd, const VbBf16 *in,
                           const float *gamma, const float *beta, int64_t rows, int c, float eps)
{
  (void) ctx;
  return vb_layernorm_forward_b16 (out, mean, rstd, in, gamma, beta, rows, c, eps);
}

static int
cpu_quick_gelu_forward_bf16 (void *ctx, VbBf16 *out, const VbBf16 *in, int64_t n)
{
  (void) ctx;
  return vb_quick_gelu_forward_bf16 (out, in, n);
}

static int
cpu_attention_forward_bf16 (void *ctx, VbBf16 *out, const VbBf16 *qkv, int B, int N,
                            int heads, int head_dim, float scale)
{
  (void) ctx;
  return vb_attention_forward_bf16 (out, qkv, B, N, heads, head_dim, scale);
}

static int
cpu_linear_b16 (void *ctx, VbBf16 *out, const VbBf16 *in, const VbBf16 *w, const VbBf16 *b,
                int64_t rows, int in_f, int out_f, int epi)
{
  (void) ctx;
  return vb_linear_b16 (out, in, w, b, rows, in_f, out_f, epi);
}

static void
cpu_widen_rows (void *ctx, float *dst, int64_t ld_dst, const VbBf16 *src, int64_t ld_src,
                int64_t rows, int64_t cols)
{
  (void) ctx;
  vb_widen_rows (dst, ld_dst, src, ld_src, rows, cols);
}

static const VbVitOps cpu_vit_ops = {
  .name = "cpu",
  .patchify = cpu_patchify,
  .add_embeddings = cpu_add_embeddings,
  .quick_gelu_forward = cpu_quick_gelu_forward,
  .attention_forward = cpu_attention_forward,
  .sigmoid_gate_forward = cpu_sigmoid_gate_forward,
  .sigmoid_gate_backward = cpu_sigmoid_gate_backward,
  .sigmoid_gate_forward_bf16 = cpu_sigmoid_gate_forward_bf16,
  .copy_rows = cpu_copy_rows,
  .layernorm_forward_b16 = cpu_layernorm_forward_b16,
  .quick_gelu_forward_bf16 = cpu_quick_gelu_forward_bf16,
  .attention_forward_bf16 = cpu_attention_forward_bf16,
  .linear_b16 = cpu_linear_b16,
  .widen_rows = cpu_widen_rows,
};

const VbVitOps *
vb_cpu_vit_ops (void)
{
  return &cpu_vit_ops;
}
