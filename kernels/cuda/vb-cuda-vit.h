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
 */
#pragma once

#include <stdint.h>

#include "vb-cuda.h"
#include "vb-cpu-ops.h"   /* VbBf16 */

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

/* the VbVitOps table of these ops (vb-cuda-vit-table.c); its entries take the VbCuda *
 * as their context. Static, never freed. */
struct VbVitOps;
const struct VbVitOps *vb_cuda_vit_ops (void);

#ifdef __cplusplus
}
#endif
