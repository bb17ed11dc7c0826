/* vb-cpu-vit.h: the CPU ops of a ViT forward (CLIP's vision tower, clip-projectors.md
 * §1.3), fp32, forward only: the tower is frozen in the projector study.
 *
 * Same rules as vb-cpu-ops.h: token tensors are (rows, features) row-major, weights keep
 * PyTorch's layout, kernels never exit or print, shapes are trusted, OpenMP work is split
 * so that every output element is computed by one thread in a fixed order: results are
 * bit-identical for any OMP_NUM_THREADS. The products (patch embedding, q/k/v, out,
 * fc1, fc2) use vb_linear_forward; LayerNorm and the residual add are vb-cpu-ops.h's.
 */
#pragma once

#include <stdint.h>

#include "vb-cpu-ops.h"   /* VbBf16 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- patch embedding as im2col ----------------------------------------------------
 * A convolution with kernel = stride = P, no padding, becomes one product with the
 * (D, C, P, P) weight viewed as (D, C·P·P): this writes the left operand.
 * pixels (C, S, S) of one image, channel-first; cols (G², C·P·P) with G = S / P, token
 * index gy·G + gx, each row in (c, ky, kx) order. */
void vb_vit_patchify (float *cols, const float *pixels, int C, int S, int P);

/* ---- class token and position embeddings -------------------------------------------
 * x (B, N, D), rows 1 … N−1 of each image already hold the patch embeddings:
 * row 0 = cls + pos[0], row j += pos[j]. pos (N, D), cls (D). */
void vb_vit_add_embeddings (float *x, const float *cls, const float *pos, int B, int N, int D);

/* ---- quick GELU (CLIP's activation): out = x·σ(1.702·x); out may alias in --------- */
void vb_quick_gelu_forward (float *out, const float *in, int64_t n);

/* ---- multi-head self-attention, no mask --------------------------------------------
 * qkv (B, N, 3·D) with D = heads·head_dim: each token row is [q | k | v], head h uses
 * columns h·head_dim … (h+1)·head_dim − 1 of each third. out (B, N, D), heads
 * concatenated in head order:
 *   out_h = softmax(q_h·k_hᵀ · scale) · v_h, the softmax max-subtracted, in fp32.
 * Returns 0, or −1 when its per-thread scratch ((head_dim + 4)·N + 4·head_dim floats)
 * could not be allocated (out is then incomplete). */
int vb_attention_forward (float *out, const float *qkv, int B, int N, int heads, int head_dim,
                          float scale);

/* ---- bf16 storage, inference (the tower's bf16 path, vb-clip-bf16.c) -------------
 * Tensors of VbBf16 (vb-cpu-ops.h: an fp32's top 16 bits, rounded to nearest-even).
 * Each op is its fp32 op above on the inputs widened exactly, every bf16 output rounded
 * once; they return 0, or −1 when their fp32 copies could not be allocated (nothing
 * written then). mean and rstd (n floats) as vb_layernorm_forward's.
 *   layernorm_forward_b16   out = bf16 (LayerNorm (in)), in bf16
 *   quick_gelu_forward_bf16 out = bf16 (in·σ(1.702·in)); out may alias in
 *   attention_forward_bf16  out (B, N, D) = bf16 (vb_attention_forward (qkv))
 *   linear_b16              out (n, out_f) = bf16 (epi (in·wᵀ + b)), b a bf16 bias (as a
 *                           bf16 module holds it; NULL: none); in (n, in_f), w (out_f,
 *                           in_f); the epilogues of VbLinearB16Epi below
 *   widen_rows              dst[r·ld_dst + c] = float (src[r·ld_src + c]) */
int  vb_layernorm_forward_b16 (VbBf16 *out, float *mean, float *rstd, const VbBf16 *in,
                               const float *gamma, const float *beta, int64_t n, int c,
                               float eps);
int  vb_quick_gelu_forward_bf16 (VbBf16 *out, const VbBf16 *in, int64_t n);
int  vb_attention_forward_bf16 (VbBf16 *out, const VbBf16 *qkv, int B, int N, int heads,
                                int head_dim, float scale);
/* what linear_b16 makes of p = in·wᵀ + b (fp32) before its one rounding */
typedef enum
{
  VB_LINEAR_B16_STORE = 0,       /* out = bf16 (p) */
  VB_LINEAR_B16_ADD = 1,         /* out = bf16 (p + out): a residual branch's output
                                  * product added to the stream in place */
  VB_LINEAR_B16_QUICK_GELU = 2,  /* out = bf16 (p·σ(1.702·p)): CLIP's fc1 and activation */
  VB_LINEAR_B16_GATE = 3,        /* the Gated projector: w's and b's rows interleaved in
                                  * blocks of 8, a block of value rows then the gate's, so
                                  * out (n, out_f / 2) = bf16 (v ⊙ σ(g)) (out_f a multiple of
                                  * 16; the CPU returns −1 otherwise) */
} VbLinearB16Epi;

int  vb_linear_b16 (VbBf16 *out, const VbBf16 *in, const VbBf16 *w, const VbBf16 *b, int64_t n,
                    int in_f, int out_f, int epi);
void vb_widen_rows (float *dst, int64_t ld_dst, const VbBf16 *src, int64_t ld_src,
                    int64_t rows, int64_t cols);

#ifdef __cplusplus
}
#endif
