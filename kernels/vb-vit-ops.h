/* vb-vit-ops.h: the ops the CLIP tower and the projectors need beyond vb-ops.h's table,
 * as a second, small table with the same conventions: each entry has the semantics of
 * the CPU op of the same name (cpu/vb-cpu-vit.h, cpu/vb-cpu-gating.h), the backend's
 * context first (the VbOps table's ctx: NULL for the CPU, a VbCuda * for CUDA) and every
 * tensor pointer in that backend's memory. Kept apart from vb-ops.h so the CLIP work
 * does not touch the table every model shares; a model holds both tables
 * (vb_vit_ops_for picks the one that matches a VbOps). */
#pragma once

#include <stdint.h>

#include "vb-cpu-vit.h"   /* VbLinearB16Epi */
#include "vb-ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VbVitOps VbVitOps;

struct VbVitOps
{
  const char *name;          /* "cpu", "cuda": the VbOps table's name it goes with */

  /* im2col of a kernel = stride = P convolution for B images: pixels (B, C, S, S),
   * cols (B·G², C·P·P), image b's tokens at rows b·G² … (vb_vit_patchify per image) */
  void (*patchify) (void *ctx, float *cols, const float *pixels, int B, int C, int S, int P);
  /* x (B, N, D): row 0 of each image = cls + pos[0], row j += pos[j] */
  void (*add_embeddings) (void *ctx, float *x, const float *cls, const float *pos, int B,
                          int N, int D);
  /* out = x·σ(1.702·x); out may alias in */
  void (*quick_gelu_forward) (void *ctx, float *out, const float *in, int64_t n);
  /* unmasked multi-head self-attention, qkv (B, N, 3·heads·head_dim) → out (B, N, D);
   * returns 0, or −1 when its scratch could not be had (the CUDA op then records the
   * error in its context, and sync reports it) */
  int (*attention_forward) (void *ctx, float *out, const float *qkv, int B, int N, int heads,
                            int head_dim, float scale);
  /* the Gated projector's gate: s = σ(a), y = s ⊙ v (s may alias a); backward writes
   * da = dy ⊙ v ⊙ s(1 − s), dv = dy ⊙ s */
  void (*sigmoid_gate_forward) (void *ctx, float *y, float *s, const float *a, const float *v,
                                int64_t n);
  void (*sigmoid_gate_backward) (void *ctx, float *da, float *dv, const float *dy,
                                 const float *s, const float *v, int64_t n);
  /* bf16 storage, inference: y (rows × C) = bf16 (σ(a) ⊙ v), [a | v] the rows × 2C
   * stacked product, widened; σ and the product in fp32 */
  void (*sigmoid_gate_forward_bf16) (void *ctx, VbBf16 *y, const VbBf16 *av, int64_t rows,
                                     int C);
  /* bf16 storage, inference (the tower's bf16 path): cpu/vb-cpu-vit.h's ops of the same
   * names. The GPU's fused attention rounds the softmax weights to bf16 before their
   * product with v (FlashAttention's arithmetic), within the bf16 tolerance of the CPU's.
   * The ints: 0, or −1 when scratch could not be had (recorded in a GPU's context). */
  int (*layernorm_forward_b16) (void *ctx, VbBf16 *out, float *mean, float *rstd,
                                const VbBf16 *in, const float *gamma, const float *beta,
                                int64_t rows, int c, float eps);
  int (*quick_gelu_forward_bf16) (void *ctx, VbBf16 *out, const VbBf16 *in, int64_t n);
  int (*attention_forward_bf16) (void *ctx, VbBf16 *out, const VbBf16 *qkv, int B, int N,
                                 int heads, int head_dim, float scale);
  /* epi: a VbLinearB16Epi (the GPU's quick GELU and gate run in the product's epilogue
   * on Hopper, rounded once as the CPU; elsewhere after a rounded product: ≈ 1 step) */
  int (*linear_b16) (void *ctx, VbBf16 *out, const VbBf16 *in, const VbBf16 *w,
                     const VbBf16 *b, int64_t rows, int in_f, int out_f, int epi);
  void (*widen_rows) (void *ctx, float *dst, int64_t ld_dst, const VbBf16 *src,
                      int64_t ld_src, int64_t rows, int64_t cols);
  /* dst[r·ld_dst + c] = src[r·ld_src + c] for r < rows, c < cols (a strided copy inside
   * the backend's memory: a token subset, the class rows) */
  void (*copy_rows) (void *ctx, float *dst, int64_t ld_dst, const float *src, int64_t ld_src,
                     int64_t rows, int64_t cols);
};

/* the CPU's table (cpu/vit_ops_table.c); static, never freed */
const VbVitOps *vb_cpu_vit_ops (void);

#ifdef __cplusplus
}
#endif
