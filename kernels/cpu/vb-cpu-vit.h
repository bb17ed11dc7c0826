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

#ifdef __cplusplus
}
#endif
