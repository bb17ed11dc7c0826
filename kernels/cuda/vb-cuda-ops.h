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

void vb_cuda_layernorm_forward (VbCuda *cu, float *out, float *mean, float *rstd,
                                const float *in, const float *gamma, const float *beta,
                                int64_t n, int c, float eps);
void vb_cuda_layernorm_backward (VbCuda *cu, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in,
                                 const float *mean, const float *rstd, const float *gamma,
                                 int64_t n, int c);

void vb_cuda_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n);
void vb_cuda_gelu_backward (VbCuda *cu, float *din, const float *dout, const float *in,
                            int64_t n);
void vb_cuda_silu_forward (VbCuda *cu, float *out, const float *in, int64_t n);
void vb_cuda_silu_backward (VbCuda *cu, float *din, const float *dout, const float *in,
                            int64_t n);
void vb_cuda_add (VbCuda *cu, float *out, const float *a, const float *b, int64_t n);
/* scale: device array of B factors */
void vb_cuda_drop_path_forward (VbCuda *cu, float *out, const float *in, const float *scale,
                                int B, int64_t per_sample);
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

/* the SS2D scan of vb-cpu-ops.h. hck: vb_scan_ckpt_floats () floats of checkpoints the
 * forward writes and the backward reads; NULL in the forward: none kept, NULL in the
 * backward: a forward sweep recomputes them (into scratch) */
void vb_cuda_ss2d_scan_forward (VbCuda *cu, float *yk, float *hck, const float *u,
                                const float *delta, const float *A, const float *Bs,
                                const float *Cs, const float *Dskip, const float *dbias, int B,
                                int H, int W, int K, int D, int N, VbScanMode mode);
void vb_cuda_ss2d_scan_backward (VbCuda *cu, float *duk, float *ddelta, float *dA, float *dBs,
                                 float *dCs, float *dDskip, float *ddbias, const float *dy,
                                 const float *hck, const float *u, const float *delta,
                                 const float *A, const float *Bs, const float *Cs,
                                 const float *Dskip, const float *dbias, int B, int H, int W,
                                 int K, int D, int N, VbScanMode mode);
void vb_cuda_group_sum (VbCuda *cu, float *out, const float *in, int64_t rows, int K, int D,
                        int accumulate);

/* the SSM glue of vb-ops.h (vb_ssm_*) */
void vb_cuda_ssm_neg_exp (VbCuda *cu, float *A, const float *A_logs, int64_t n);
void vb_cuda_ssm_mul_acc (VbCuda *cu, float *out, const float *a, const float *b, int64_t n);
void vb_cuda_ssm_split_bc (VbCuda *cu, float *Bs, float *Cs, const float *xdbl, int64_t rows,
                           int K, int R, int N);
void vb_cuda_ssm_join_bc (VbCuda *cu, float *dxdbl, const float *dBs, const float *dCs,
                          int64_t rows, int K, int R, int N);

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

#ifdef __cplusplus
}
#endif
