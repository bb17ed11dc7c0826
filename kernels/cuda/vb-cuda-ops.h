/* vb-cuda-ops.h: the CUDA backend's ops, fp32, with the semantics, layouts and
 * accumulation rules of kernels/cpu/vb-cpu-ops.h (read that header for each op); every
 * pointer is device memory and `cu` comes first. Ops are queued on the context's
 * stream and return at once. Differences from the CPU entry points are noted.
 * Reductions (parameter gradients, losses, norms) use fixed-order partials, never
 * atomics, so results repeat bit for bit. */
#pragma once

#include <stdint.h>

#include "vb-cpu-ops.h"
#include "vb-cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cuBLAS in the context's matmul mode (vb_cuda_set_matmul): plain fp32 (no TF32) by default,
 * so that mode can be checked against the CPU */
void vb_cuda_linear_forward (VbCuda *cu, float *out, int64_t ld_out,
                             const float *in, int64_t ld_in,
                             const float *w, const float *b,
                             int64_t n, int in_f, int out_f);
void vb_cuda_linear_backward (VbCuda *cu, float *din, int64_t ld_din, int accumulate,
                              float *dw, float *db,
                              const float *dout, int64_t ld_dout,
                              const float *in, int64_t ld_in,
                              const float *w,
                              int64_t n, int in_f, int out_f);

/* G products without bias, operand g at base + g·gstride, as one strided-batched call */
void vb_cuda_linear_forward_groups (VbCuda *cu, float *out, int64_t ld_out, int64_t out_gstride,
                                    const float *in, int64_t ld_in, int64_t in_gstride,
                                    const float *w, int64_t w_gstride, int groups,
                                    int64_t n, int in_f, int out_f);
void vb_cuda_linear_backward_groups (VbCuda *cu, float *din, int64_t ld_din,
                                     int64_t din_gstride, int accumulate, float *dw,
                                     int64_t w_gstride, const float *dout, int64_t ld_dout,
                                     int64_t dout_gstride, const float *in, int64_t ld_in,
                                     int64_t in_gstride, const float *w, int groups,
                                     int64_t n, int in_f, int out_f);

void vb_cuda_conv3x3s2_forward (VbCuda *cu, float *out, const float *in, const float *w,
                                const float *b, int B, int H, int W, int cin, int cout);
void vb_cuda_conv3x3s2_backward (VbCuda *cu, float *din, float *dw, float *db,
                                 const float *dout, const float *in, const float *w,
                                 int B, int H, int W, int cin, int cout);

void vb_cuda_dwconv3x3_forward (VbCuda *cu, float *out, const float *in, const float *w,
                                int B, int H, int W, int C);
void vb_cuda_dwconv3x3_backward (VbCuda *cu, float *din, float *dw,
                                 const float *dout, const float *in, const float *w,
                                 int B, int H, int W, int C);
/* fused with the SiLU after the conv (vb_dwconv3x3_silu_*): the forward stencil writes
 * pre, SiLU (pre) and out16 (when not NULL) in one pass; the backward kernels read
 * dsilu·SiLU'(pre) where the plain ones read dout, so it is never stored, and write din
 * and/or its bf16 rounding din16 (the input of a bf16 product: no fp32 copy is needed).
 * Same results as the unfused GPU ops (dwconv3x3 + silu (+ to_bf16); silu_backward +
 * dwconv3x3 (+ to_bf16)) */
void vb_cuda_dwconv3x3_silu_forward (VbCuda *cu, float *pre, float *out, VbBf16 *out16,
                                     const float *in, const float *w, int B, int H, int W,
                                     int C);
void vb_cuda_dwconv3x3_silu_backward (VbCuda *cu, float *din, VbBf16 *din16, float *dw,
                                      const float *dsilu, const float *pre, const float *in,
                                      const float *w, int B, int H, int W, int C);

void vb_cuda_layernorm_forward (VbCuda *cu, float *out, float *mean, float *rstd,
                                const float *in, const float *gamma, const float *beta,
                                int64_t n, int c, float eps);
void vb_cuda_layernorm_backward (VbCuda *cu, float *din, int accumulate, float *dgamma,
                                 float *dbeta,
                                 const float *dout, const float *in,
                                 const float *mean, const float *rstd, const float *gamma,
                                 int64_t n, int c);
void vb_cuda_residual_layernorm_forward_bf16 (VbCuda *cu, float *y, VbBf16 *out16,
                                              float *mean, float *rstd, const float *x,
                                              const float *branch, const float *bias,
                                              const float *scale, int B, const float *gamma,
                                              const float *beta, int64_t n, int c, float eps);
void vb_cuda_layernorm_backward_bf16 (VbCuda *cu, VbBf16 *din16, float *din_work,
                                      float *dgamma, float *dbeta, const float *dout,
                                      const float *in, const float *mean, const float *rstd,
                                      const float *gamma, int64_t n, int c);
void vb_cuda_layernorm_backward_acc_bf16 (VbCuda *cu, float *din, VbBf16 *din16,
                                          const float *scale, int B, float *dgamma,
                                          float *dbeta, const float *dout, const float *in,
                                          const float *mean, const float *rstd,
                                          const float *gamma, int64_t n, int c);

void vb_cuda_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n);
void vb_cuda_gelu_backward (VbCuda *cu, float *din, const float *dout, const float *in,
                            int64_t n);
void vb_cuda_silu_forward (VbCuda *cu, float *out, const float *in, int64_t n);
void vb_cuda_silu_backward (VbCuda *cu, float *din, const float *dout, const float *in,
                            int64_t n);
void vb_cuda_add (VbCuda *cu, float *out, const float *a, const float *b, int64_t n);
/* scale: device array of B factors */
void vb_cuda_residual_add (VbCuda *cu, float *out, const float *x, const float *branch,
                           const float *bias, int c, const float *scale, int B,
                           int64_t per_sample);
void vb_cuda_drop_path_backward (VbCuda *cu, float *din, const float *dout,
                                 const float *scale, int B, int64_t per_sample);

/* d_state N ≤ VB_CUDA_SCAN_MAX_N (a larger N records an error) */
#define VB_CUDA_SCAN_MAX_N 4
void vb_cuda_selective_scan_forward (VbCuda *cu, float *y,
                                     const float *u, const float *delta, const float *A,
                                     const float *Bs, const float *Cs,
                                     const float *Dskip, const float *dbias,
                                     int B, int L, int K, int D, int N);
void vb_cuda_selective_scan_backward (VbCuda *cu, float *du, float *ddelta, float *dA,
                                      float *dBs, float *dCs, float *dDskip, float *ddbias,
                                      const float *dy,
                                      const float *u, const float *delta, const float *A,
                                      const float *Bs, const float *Cs,
                                      const float *Dskip, const float *dbias,
                                      int B, int L, int K, int D, int N);

/* the SS2D scan of vb-cpu-ops.h, parameterized as the models are: A_logs in, A = −exp
 * (A_logs), and the backward accumulates ∂ℓ/∂A_logs (= ∂ℓ/∂A · A) into dA_logs. hck:
 * vb_scan_ckpt_floats () floats of checkpoints the forward writes and the backward reads;
 * NULL in the forward: none kept, NULL in the backward: a forward sweep recomputes them
 * (into scratch) */
void vb_cuda_ss2d_scan_forward (VbCuda *cu, float *yk, float *hck, const float *u,
                                const float *delta, const float *A_logs, const float *Bs,
                                const float *Cs, const float *Dskip, const float *dbias, int B,
                                int H, int W, int K, int D, int N, VbScanMode mode);
void vb_cuda_ss2d_scan_backward (VbCuda *cu, float *duk, float *ddelta, float *dA_logs, float *dBs,
                                 float *dCs, float *dDskip, float *ddbias, const float *dy,
                                 const float *hck, const float *u, const float *delta,
                                 const float *A_logs, const float *Bs, const float *Cs,
                                 const float *Dskip, const float *dbias, int B, int H, int W,
                                 int K, int D, int N, VbScanMode mode);
/* the same with u (B, L, D) and delta, yk, duk, ddelta (B, L, K, D) stored as bf16
 * (vb_ss2d_scan_*_bf16): the fp32 kernels instantiated for bf16, which widen each u and
 * delta as they load it and round each output once as they store it; hck, the state and
 * every other tensor fp32. Given the same (widened) u and delta, the same arithmetic as the
 * fp32 ops */
void vb_cuda_ss2d_scan_forward_bf16 (VbCuda *cu, VbBf16 *yk, float *hck, const VbBf16 *u,
                                     const VbBf16 *delta, const float *A_logs, const float *Bs,
                                     const float *Cs, const float *Dskip, const float *dbias,
                                     int B, int H, int W, int K, int D, int N, VbScanMode mode);
void vb_cuda_ss2d_scan_backward_bf16 (VbCuda *cu, VbBf16 *duk, VbBf16 *ddelta, float *dA_logs,
                                      float *dBs, float *dCs, float *dDskip, float *ddbias,
                                      const VbBf16 *dy, const float *hck, const VbBf16 *u,
                                      const VbBf16 *delta, const float *A_logs, const float *Bs,
                                      const float *Cs, const float *Dskip, const float *dbias,
                                      int B, int H, int W, int K, int D, int N,
                                      VbScanMode mode);
/* how many SS2D scan launches queued on cu took the bf16 one-state kernels fed by a
 * shared-memory ring (scan_ring.cu; not with VB_SCAN_NO_RING set), counted as they are
 * queued (a recorded graph's replays add nothing): tests assert which kernels ran */
int64_t vb_cuda_scan_ring_launches (const VbCuda *cu);
/* of those, how many ran on blocks of three warps holding whole sequences in step (where a
 * sequence has 3 or 6 units of 32 channels: D = 96 or 192) */
int64_t vb_cuda_scan_ring_in_step_launches (const VbCuda *cu);
void vb_cuda_group_sum (VbCuda *cu, float *out, const float *in, int64_t rows, int K, int D,
                        int accumulate);
/* in (rows, K, D) bf16, summed in fp32 in the group sum's order: the bits of
 * vb_cuda_group_sum on the widened input */
void vb_cuda_group_sum_bf16 (VbCuda *cu, float *out, const VbBf16 *in, int64_t rows, int K,
                             int D, int accumulate);

/* the SSM glue of vb-ops.h (vb_ssm_*) */
void vb_cuda_ssm_split_bc (VbCuda *cu, float *Bs, float *Cs, const float *xdbl, int64_t rows,
                           int K, int R, int N);
void vb_cuda_ssm_join_bc (VbCuda *cu, float *dxdbl, const float *dBs, const float *dCs,
                          int64_t rows, int K, int R, int N);
/* the Δ products' zero-padded bf16 operands (vb-ops.h ssm_split_xdbl_bf16 and the next
 * three) */
void vb_cuda_ssm_split_xdbl_bf16 (VbCuda *cu, float *Bs, float *Cs, VbBf16 *dtlow16,
                                  const float *xdbl, int64_t rows, int K, int R, int N, int Rp);
void vb_cuda_ssm_join_xdbl_bf16 (VbCuda *cu, VbBf16 *dxdbl16, const float *ddtlow,
                                 const float *dBs, const float *dCs, int64_t rows, int K, int R,
                                 int N, int Rp);
void vb_cuda_pad_cols_bf16 (VbCuda *cu, VbBf16 *dst, const float *src, int64_t rows, int cols,
                            int cols_p);
void vb_cuda_unpad_add_cols (VbCuda *cu, float *dst, const float *src, int64_t rows, int cols,
                             int cols_p);

void vb_cuda_avgpool_forward (VbCuda *cu, float *out, const float *in, int B, int L, int C);
void vb_cuda_avgpool_backward (VbCuda *cu, float *din, const float *dout, int B, int L, int C);

/* labels: device ints; the mean loss is written to *loss (device), not returned */
void vb_cuda_softmax_xent_forward (VbCuda *cu, float *probs, float *loss, const float *logits,
                                   const int *labels, int B, int classes, float smoothing);
void vb_cuda_softmax_xent_backward (VbCuda *cu, float *dlogits, const float *probs,
                                    const int *labels, int B, int classes, float smoothing,
                                    float dloss);

void vb_cuda_adamw_step (VbCuda *cu, float *param, const float *grad, float *m, float *v,
                         int64_t n, float lr, float beta1, float beta2, float eps,
                         float weight_decay, int64_t step);
/* vb_adamw_fused of vb-cpu-ops.h; decay_mask, sc and sumsq in device memory */
void vb_cuda_adamw_fused (VbCuda *cu, float *param, const float *grad, float *m, float *v,
                          const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc,
                          const double *sumsq, float max_norm);
/* Σ x² in double, fixed order, written to *out (device) */
void vb_cuda_sum_squares (VbCuda *cu, double *out, const float *x, int64_t n);
void vb_cuda_scale (VbCuda *cu, float *x, float s, int64_t n);

/* ---- bf16 storage (vb-cpu-ops.h "bf16 storage") ------------------------------------
 * VbBf16 operands, rounded to nearest-even as the CPU rounds. The products run on bf16
 * tensor cores (cublasGemmEx, fp32 accumulation) whatever the context's matmul mode, on
 * the caller's bf16 data directly (no staging). The one difference from the CPU: the
 * products add in another order (a bf16 output may differ by one rounding). */
/* dst[b·per_sample + i] = bf16 (src[...] · scale[b]); scale (B factors, device) or NULL */
void vb_cuda_to_bf16 (VbCuda *cu, VbBf16 *dst, const float *src, const float *scale, int B,
                      int64_t per_sample);
/* out = in·wᵀ + b into exactly one of out (fp32; used when not NULL) and out16 (bf16) */
void vb_cuda_linear_forward_bf16 (VbCuda *cu, float *out, VbBf16 *out16, int64_t ld_out,
                                  const VbBf16 *in, int64_t ld_in, const VbBf16 *w,
                                  const float *b, int64_t n, int in_f, int out_f);
/* din written (=) to din16 (bf16; used when not NULL) or din (fp32), both NULL: skipped;
 * dw and db accumulated (+=) in fp32 */
/* the groups' products on bf16 operands: the forward into a bf16 out (rounded once), the
 * backward's din (fp32) written, dw (fp32) accumulated, as the fp32 grouped products */
void vb_cuda_linear_forward_groups_bf16 (VbCuda *cu, VbBf16 *out16, int64_t ld_out,
                                         int64_t out_gstride, const VbBf16 *in, int64_t ld_in,
                                         int64_t in_gstride, const VbBf16 *w, int64_t w_gstride,
                                         int groups, int64_t n, int in_f, int out_f);
void vb_cuda_linear_backward_groups_bf16 (VbCuda *cu, float *din, int64_t ld_din,
                                          int64_t din_gstride, float *dw, int64_t w_gstride,
                                          const VbBf16 *dout, int64_t ld_dout,
                                          int64_t dout_gstride, const VbBf16 *in, int64_t ld_in,
                                          int64_t in_gstride, const VbBf16 *w, int groups,
                                          int64_t n, int in_f, int out_f);
/* the backward's dw alone for narrow inputs (in_f 8, 16, 24, 32 or 48: VMamba's Δ
 * projection; out_f, the row strides and group strides multiples of 8, 16-byte aligned
 * operands; the groups' dw w_gstride = out_f·in_f apart), all groups in one launch into
 * partials summed by the parameter-sum queue (wgrad_groups.cu): 1 when done so, 0 (nothing
 * done) when the shape, the operands or the context (not queueing) leave it to cuBLAS.
 * vb_cuda_linear_backward_groups_bf16 takes it where it can. */
int vb_cuda_wgrad_groups (VbCuda *cu, float *dw, int64_t w_gstride, const VbBf16 *in,
                          int64_t ld_in, int64_t in_gstride, const VbBf16 *dout,
                          int64_t ld_dout, int64_t dout_gstride, int groups, int64_t n,
                          int in_f, int out_f);
void vb_cuda_linear_backward_bf16 (VbCuda *cu, float *din, VbBf16 *din16, int64_t ld_din,
                                   float *dw, float *db, const VbBf16 *dout, int64_t ld_dout,
                                   const VbBf16 *in, int64_t ld_in, const VbBf16 *w, int64_t n,
                                   int in_f, int out_f);
/* the fp32 forward's arithmetic, each output rounded once to bf16; mean, rstd fp32 */
void vb_cuda_layernorm_forward_bf16 (VbCuda *cu, VbBf16 *out, float *mean, float *rstd,
                                     const float *in, const float *gamma, const float *beta,
                                     int64_t n, int c, float eps);
/* vb_merge_layernorm_forward: the LayerNorm forward kernel (fp32 out when not NULL, else
 * bf16 out16) loading its row as the sum of ys's K group rows, in the group sum's order, and
 * writing that row to y. y, out (or out16), mean and rstd have the bits of vb_cuda_group_sum
 * then vb_cuda_layernorm_forward(_bf16) on y whenever ys is 16-byte aligned as y is (device
 * allocations are: both then take the same kernel); y must not overlap ys */
/* the same on bf16 group rows (bf16 storage's per-route outputs), summed in fp32 in the
 * bf16 group sum's order, into a bf16 out */
void vb_cuda_merge_bf16_layernorm_forward (VbCuda *cu, float *y, VbBf16 *out16, float *mean,
                                           float *rstd, const VbBf16 *ys16, int K,
                                           const float *gamma, const float *beta, int64_t n,
                                           int c, float eps);
void vb_cuda_merge_layernorm_forward (VbCuda *cu, float *y, float *out, VbBf16 *out16,
                                      float *mean, float *rstd, const float *ys, int K,
                                      const float *gamma, const float *beta, int64_t n, int c,
                                      float eps);
/* on (rows, c), b (c) added to in first when not NULL; in place allowed (out == in) */
void vb_cuda_gelu_forward_bf16 (VbCuda *cu, VbBf16 *out, const VbBf16 *in, const float *b,
                                int64_t rows, int c);
/* db (accumulated, may be NULL): b's gradient, the column sums of din as stored, summed in
 * the same pass where c % 8 == 0 (queued with the parameter sums) */
void vb_cuda_gelu_backward_bf16 (VbCuda *cu, VbBf16 *din, float *db, const VbBf16 *dout,
                                 const VbBf16 *in, const float *b, int64_t rows, int c);
/* vb_conv3x3s2_*_bf16: fp32 tensors in and out as vb_cuda_conv3x3s2_*, the operands
 * rounded to bf16 on the way into the products (an im2col matrix of bf16 rounded once
 * from the fp32 input, the permuted weight and dout as bf16), fp32 accumulation; db sums
 * the unrounded dout in fp32. One more rounding than the CPU's: the column gradient
 * dcols = bf16 (dout)·bf16 (w) is stored as bf16 before col2im adds its (at most 4) terms
 * per input element in fp32, so din differs by those roundings (≤ 2⁻⁸ of Σ |terms|). */
void vb_cuda_conv3x3s2_forward_bf16 (VbCuda *cu, float *out, const float *in, const float *w,
                                     const float *b, int B, int H, int W, int cin, int cout);
void vb_cuda_conv3x3s2_backward_bf16 (VbCuda *cu, float *din, float *dw, float *db,
                                      const float *dout, const float *in, const float *w,
                                      int B, int H, int W, int cin, int cout);

#ifdef __cplusplus
}
#endif
