/* vb-cuda-vit.h: the CUDA ops of the CLIP tower and the projectors beyond vb-cuda-ops.h,
 * fp32, with the semantics and layouts of their CPU ops (kernels/cpu/vb-cpu-vit.h,
 * vb-cpu-gating.h); every pointer is device memory, `cu` comes first, ops are queued on
 * the context's stream and record their first failure in it (vb_cuda_error).
 *
 *   patchify         pixels (B, C, S, S) → cols (B·G², C·P·P), G = S / P, rows in
 *                    (c, ky, kx) order, image b's tokens at rows b·G² …          (=)
 *   add_embeddings   x (B, N, D): row 0 = cls + pos[0], row j += pos[j]         (in place)
 *   quick_gelu       out = x·σ(1.702·x), out may alias in                       (=)
 *   attention        qkv (B, N, 3·D) [q | k | v], D = heads·head_dim → out (B, N, D):
 *                    q, k, v copied head-major, S = q·kᵀ·scale and O = softmax(S)·v as
 *                    two strided-batched products over (image, head) in the context's
 *                    matmul mode, a warp-per-row softmax in fp32 (max-subtracted)   (=)
 *   sigmoid gate     y = σ(a) ⊙ v, s = σ(a) (s may alias a); backward
 *                    da = dy ⊙ v ⊙ s(1 − s), dv = dy ⊙ s                            (=)
 *   copy_rows        dst[r·ld_dst + c] = src[r·ld_src + c]                          (=)
 *
 * bf16 storage, inference (the tower's bf16 path; cpu/vb-cpu-vit.h's ops of the same
 * names; the ints 0, or −1 with the error recorded):
 *   layernorm_b16    layernorm.cu's kernels on bf16 rows widened, bf16 out          (=)
 *   quick_gelu_bf16  eight values a thread where 16-byte aligned                    (=)
 *   attention_bf16   flash_attention.cu: one fused kernel (head_dim 16, 32, 64, 128;
 *                    else widened through the fp32 path), P rounded to bf16 for P·v  (≈)
 *   linear_b16       out = bf16 (epi (in·wᵀ + b)), b bf16, epi a VbLinearB16Epi: stored,
 *                    with the quick GELU or the gate in the epilogue of our own Hopper
 *                    product (gemm_sm90.cu) where device and shapes fit it (else the
 *                    activation and gate as passes after cuBLASLt's rounded product: ≈ 1
 *                    step); added (β = 1 on C = D = out) and elsewhere, one cuBLASLt
 *                    product with the bias in its epilogue where its operands are 16-byte
 *                    aligned; else an fp32 product and an epilogue pass; in_f > 0. Adding,
 *                    some of cuBLASLt's kernels round the product before adding out
 *                    (measured: up to a fifth of the outputs one step from the
 *                    rounded-once sum)                                          (≈ 1 step)
 *   widen_rows       dst (fp32) ← src (bf16), strided rows                          (=)
 */
#pragma once

#include <stdint.h>

#include "vb-cuda.h"
#include "vb-cpu-ops.h"   /* VbBf16 */
#include "vb-cpu-vit.h"   /* VbLinearB16Epi */

#ifdef __cplusplus
extern "C" {
#endif

void vb_cuda_vit_patchify (VbCuda *cu, float *cols, const float *pixels, int B, int C, int S,
                           int P);
void vb_cuda_vit_add_embeddings (VbCuda *cu, float *x, const float *cls, const float *pos,
                                 int B, int N, int D);
void vb_cuda_quick_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n);
/* scratch: (3·N·D + heads·N² + N·D) floats per image, images taken in chunks of at most
 * VB_CUDA_ATTN_SCRATCH_BYTES (one image at least); 0, or −1 with the error recorded */
#define VB_CUDA_ATTN_SCRATCH_BYTES ((size_t) 1 << 30)
int  vb_cuda_attention_forward (VbCuda *cu, float *out, const float *qkv, int B, int N,
                                int heads, int head_dim, float scale);
/* the same with at most max_images images per chunk (> 0; for tests of the chunking) */
int  vb_cuda_attention_forward_chunked (VbCuda *cu, float *out, const float *qkv, int B, int N,
                                        int heads, int head_dim, float scale, int max_images);
void vb_cuda_sigmoid_gate_forward (VbCuda *cu, float *y, float *s, const float *a,
                                   const float *v, int64_t n);
void vb_cuda_sigmoid_gate_backward (VbCuda *cu, float *da, float *dv, const float *dy,
                                    const float *s, const float *v, int64_t n);
void vb_cuda_sigmoid_gate_forward_bf16 (VbCuda *cu, VbBf16 *y, const VbBf16 *av, int64_t rows,
                                        int C);
void vb_cuda_copy_rows (VbCuda *cu, float *dst, int64_t ld_dst, const float *src,
                        int64_t ld_src, int64_t rows, int64_t cols);

int  vb_cuda_layernorm_forward_b16 (VbCuda *cu, VbBf16 *out, float *mean, float *rstd,
                                    const VbBf16 *in, const float *gamma, const float *beta,
                                    int64_t n, int c, float eps);
int  vb_cuda_quick_gelu_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, int64_t n);
int  vb_cuda_attention_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *qkv, int B, int N,
                                     int heads, int head_dim, float scale);
int  vb_cuda_linear_b16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, const VbBf16 *w,
                         const VbBf16 *b, int64_t n, int in_f, int out_f, int epi);
void vb_cuda_widen_rows (VbCuda *cu, float *dst, int64_t ld_dst, const VbBf16 *src,
                         int64_t ld_src, int64_t rows, int64_t cols);

/* the VbVitOps table of these ops (vb-cuda-vit-table.c); its entries take the VbCuda *
 * as their context. Static, never freed. */
struct VbVitOps;
const struct VbVitOps *vb_cuda_vit_ops (void);

#ifdef __cplusplus
}
#endif
