/* vb-ops.h: one backend's ops as a table, so the model code runs unchanged on the CPU
 * (the reference) and on the GPU. Each entry has the semantics of the CPU op of the same
 * name in cpu/vb-cpu-ops.h, with the backend's context first and every tensor pointer
 * in the backend's memory (host memory for the CPU, device memory for CUDA). The CPU
 * table is vb_cpu_ops (); the CUDA table vb_cuda_ops () (cuda/vb-cuda-table.h). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vb-cpu-ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VbOps VbOps;

struct VbOps
{
  const char *name;          /* "cpu", "cuda" */
  void       *ctx;           /* the backend's context (VbCuda *; NULL for the CPU) */
  int         on_host;       /* tensors are host memory: upload/download are copies */

  /* memory: alloc returns zeroed memory, or NULL (error() says why) */
  void       *(*alloc)     (void *ctx, size_t bytes);
  void        (*free)      (void *ctx, void *ptr);
  void        (*upload)    (void *ctx, void *dst, const void *host_src, size_t bytes);
  void        (*download)  (void *ctx, void *host_dst, const void *src, size_t bytes);
  void        (*zero)      (void *ctx, void *dst, size_t bytes);
  /* host memory the backend copies from fastest (page-locked on the GPU), and a copy from
   * it that waits for nothing: the source must stay as it is until the next sync */
  void       *(*alloc_host)   (void *ctx, size_t bytes);
  void        (*free_host)    (void *ctx, void *ptr);
  void        (*upload_async) (void *ctx, void *dst, const void *host_src, size_t bytes);
  /* ops queued between capture_begin (1 when the backend records: the GPU) and
   * capture_end are recorded as a graph, not run; graph_launch replays one (its host
   * sources are read again: page-locked staging holds the step's new values) */
  int         (*capture_begin) (void *ctx);
  void       *(*capture_end)   (void *ctx);
  void        (*graph_launch)  (void *ctx, void *graph);
  void        (*graph_free)    (void *ctx, void *graph);
  /* the parameter gradients' last sums over the batch (LayerNorm's dγ and dβ, biases,
   * the depthwise conv's weight) queued from param_sums_defer until param_sums_flush,
   * which runs them together: the gradients are complete only after the flush. NULL where
   * each op finishes its own (the CPU). */
  void        (*param_sums_defer) (void *ctx);
  void        (*param_sums_flush) (void *ctx);
  /* waits for queued work; the first failure since the last clear, or NULL */
  const char *(*sync)      (void *ctx);
  void        (*clear_error) (void *ctx);
  /* how matrix products compute, tensors staying fp32 in memory: VB_MATMUL_FP32 strict
   * fp32 (the default: parity with the CPU), VB_MATMUL_TF32 on TF32 tensor cores,
   * VB_MATMUL_BF16 on bf16 tensor cores (operands rounded to bf16 for the product, fp32
   * accumulation); returns whether the backend has that mode (every backend has fp32) */
#define VB_MATMUL_FP32 0
#define VB_MATMUL_TF32 1
#define VB_MATMUL_BF16 2
  int         (*set_matmul) (void *ctx, int mode);
  /* bytes of the backend's memory in use by this process (0 where not known: the CPU) */
  size_t      (*memory_used) (void *ctx);

  void (*linear_forward) (void *ctx, float *out, int64_t ld_out, const float *in, int64_t ld_in,
                          const float *w, const float *b, int64_t n, int in_f, int out_f);
  void (*linear_backward) (void *ctx, float *din, int64_t ld_din, int accumulate, float *dw,
                           float *db, const float *dout, int64_t ld_dout, const float *in,
                           int64_t ld_in, const float *w, int64_t n, int in_f, int out_f);
  /* G independent products without bias, operand g at base + g·gstride (the SS2D groups'
   * x/dt projections): one batched call on the GPU */
  void (*linear_forward_groups) (void *ctx, float *out, int64_t ld_out, int64_t out_gstride,
                                 const float *in, int64_t ld_in, int64_t in_gstride,
                                 const float *w, int64_t w_gstride, int groups,
                                 int64_t n, int in_f, int out_f);
  void (*linear_backward_groups) (void *ctx, float *din, int64_t ld_din, int64_t din_gstride,
                                  int accumulate, float *dw, int64_t w_gstride,
                                  const float *dout, int64_t ld_dout, int64_t dout_gstride,
                                  const float *in, int64_t ld_in, int64_t in_gstride,
                                  const float *w, int groups, int64_t n, int in_f, int out_f);
  void (*conv3x3s2_forward) (void *ctx, float *out, const float *in, const float *w,
                             const float *b, int B, int H, int W, int cin, int cout);
  void (*conv3x3s2_backward) (void *ctx, float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int B, int H, int W, int cin,
                              int cout);
  /* the depthwise conv with SiLU fused (vb-cpu-ops.h vb_dwconv3x3_silu_*): pre = dwconv
   * (in), out = SiLU (pre) and out16 = bf16 (out), each when not NULL; the backward takes SiLU's
   * output gradient and applies SiLU' where it loads it (din and its bf16 rounding din16
   * written where not NULL, dw accumulated) */
  void (*dwconv3x3_silu_forward) (void *ctx, float *pre, float *out, VbBf16 *out16,
                                  const float *in, const float *w, int B, int H, int W, int C);
  void (*dwconv3x3_silu_backward) (void *ctx, float *din, VbBf16 *din16, float *dw,
                                   const float *dsilu, const float *pre, const float *in,
                                   const float *w, int B, int H, int W, int C);
  void (*layernorm_forward) (void *ctx, float *out, float *mean, float *rstd, const float *in,
                             const float *gamma, const float *beta, int64_t n, int c, float eps);
  void (*layernorm_backward) (void *ctx, float *din, int accumulate, float *dgamma,
                              float *dbeta, const float *dout, const float *in,
                              const float *mean, const float *rstd, const float *gamma,
                              int64_t n, int c);
  void (*gelu_forward) (void *ctx, float *out, const float *in, int64_t n);
  void (*gelu_backward) (void *ctx, float *din, const float *dout, const float *in, int64_t n);
  void (*add) (void *ctx, float *out, const float *a, const float *b, int64_t n);
  void (*drop_path_backward) (void *ctx, float *din, const float *dout, const float *scale,
                              int B, int64_t per_sample);
  /* out = x + (branch + bias)·scale: a branch's bias, drop path and residual add in one
   * pass (vb-cpu-ops.h vb_residual_add) */
  void (*residual_add) (void *ctx, float *out, const float *x, const float *branch,
                        const float *bias, int c, const float *scale, int B,
                        int64_t per_sample);
  /* the SS2D scan with the cross-scan as an index map (vb-cpu-ops.h vb_ss2d_scan_*), and
   * the group sum that merges its outputs. A as the models hold it: A_logs, A = −exp
   * (A_logs); the backward accumulates ∂ℓ/∂A_logs = ∂ℓ/∂A · A into dA_logs (on the CPU
   * vb_ssm_neg_exp before, vb_ssm_mul_acc after the vb-cpu-ops.h scan). hck:
   * vb_scan_ckpt_floats () floats the forward may fill with states and the backward may
   * read back (NULL: none kept; the CPU keeps none) */
  void (*ss2d_scan_forward) (void *ctx, float *yk, float *hck, const float *u,
                             const float *delta, const float *A_logs, const float *Bs,
                             const float *Cs, const float *Dskip, const float *dbias, int B,
                             int H, int W, int K, int D, int N, VbScanMode mode);
  void (*ss2d_scan_backward) (void *ctx, float *duk, float *ddelta, float *dA_logs, float *dBs,
                              float *dCs, float *dDskip, float *ddbias, const float *dy,
                              const float *hck, const float *u, const float *delta,
                              const float *A_logs, const float *Bs, const float *Cs,
                              const float *Dskip, const float *dbias, int B, int H, int W,
                              int K, int D, int N, VbScanMode mode);
  /* the same with u, delta, yk, duk, ddelta and dy stored as bf16 (vb-cpu-ops.h
   * vb_ss2d_scan_*_bf16): u, delta and dy widened, the three outputs rounded once where
   * stored */
  void (*ss2d_scan_forward_bf16) (void *ctx, VbBf16 *yk, float *hck, const VbBf16 *u,
                                  const VbBf16 *delta, const float *A_logs, const float *Bs,
                                  const float *Cs, const float *Dskip, const float *dbias,
                                  int B, int H, int W, int K, int D, int N, VbScanMode mode);
  void (*ss2d_scan_backward_bf16) (void *ctx, VbBf16 *duk, VbBf16 *ddelta, float *dA_logs,
                                   float *dBs, float *dCs, float *dDskip, float *ddbias,
                                   const VbBf16 *dy, const float *hck, const VbBf16 *u,
                                   const VbBf16 *delta, const float *A_logs, const float *Bs,
                                   const float *Cs, const float *Dskip, const float *dbias,
                                   int B, int H, int W, int K, int D, int N, VbScanMode mode);
  void (*group_sum) (void *ctx, float *out, const float *in, int64_t rows, int K, int D,
                     int accumulate);
  /* group_sum of a bf16 input, summed in fp32 */
  void (*group_sum_bf16) (void *ctx, float *out, const VbBf16 *in, int64_t rows, int K, int D,
                          int accumulate);
  /* the SSM's small glue: (B, C) out of / into x_dbl */
  void (*ssm_split_bc) (void *ctx, float *Bs, float *Cs, const float *xdbl, int64_t rows, int K,
                        int R, int N);
  void (*ssm_join_bc) (void *ctx, float *dxdbl, const float *dBs, const float *dCs, int64_t rows,
                       int K, int R, int N);
  void (*avgpool_forward) (void *ctx, float *out, const float *in, int B, int L, int C);
  void (*avgpool_backward) (void *ctx, float *din, const float *dout, int B, int L, int C);
  void (*softmax_xent_backward) (void *ctx, float *dlogits, const float *probs,
                                 const int *labels, int B, int classes, float smoothing,
                                 float dloss);
  /* nothing waits: the loss and Σ x² land in backend memory, and one AdamW pass over the
   * whole buffer (vb_adamw_fused; mask, scalars and sumsq in backend memory) clips by the
   * norm where it lies */
  void (*softmax_xent_loss) (void *ctx, float *probs, float *loss, const float *logits,
                             const int *labels, int B, int classes, float smoothing);
  void (*sum_squares_to) (void *ctx, double *out, const float *x, int64_t n);
  void (*adamw_fused) (void *ctx, float *param, const float *grad, float *m, float *v,
                       const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc,
                       const double *sumsq, float max_norm);
  void (*scale) (void *ctx, float *x, float s, int64_t n);

  /* bf16 storage (vb-cpu-ops.h "bf16 storage"): the block products' operands as bf16,
   * the products accumulating in fp32 on bf16 tensor cores (on the CPU: the fp32 ops on
   * widened copies, the reference) */
  void (*to_bf16) (void *ctx, VbBf16 *dst, const float *src, const float *scale, int B,
                   int64_t per_sample);
  /* residual_add (y, x, branch, bias, c, scale, B, n·c / B), then layernorm_forward_bf16
   * of y, in one pass (NULL: the backend has only the two ops) */
  void (*residual_layernorm_forward_bf16) (void *ctx, float *y, VbBf16 *out16, float *mean,
                                           float *rstd, const float *x, const float *branch,
                                           const float *bias, const float *scale, int B,
                                           const float *gamma, const float *beta, int64_t n,
                                           int c, float eps);
  /* layernorm_backward's din written as bf16 alone (din16, not accumulated: the out_norm's
   * gradient the bf16 scan reads), dγ and dβ added as there; din_work: n·c floats the
   * backend may use on the way */
  void (*layernorm_backward_bf16) (void *ctx, VbBf16 *din16, float *din_work, float *dgamma,
                                   float *dbeta, const float *dout, const float *in,
                                   const float *mean, const float *rstd, const float *gamma,
                                   int64_t n, int c);
  /* layernorm_backward accumulating into din, then to_bf16 (din16, din, scale, B, n·c / B)
   * in the same pass (NULL: the backend has only the two ops) */
  void (*layernorm_backward_acc_bf16) (void *ctx, float *din, VbBf16 *din16,
                                       const float *scale, int B, float *dgamma,
                                       float *dbeta, const float *dout, const float *in,
                                       const float *mean, const float *rstd,
                                       const float *gamma, int64_t n, int c);
  void (*linear_forward_bf16) (void *ctx, float *out, VbBf16 *out16, int64_t ld_out,
                               const VbBf16 *in, int64_t ld_in, const VbBf16 *w,
                               const float *b, int64_t n, int in_f, int out_f);
  /* the groups' products (linear_*_groups) on bf16 operands: a bf16 out; din written */
  void (*linear_forward_groups_bf16) (void *ctx, VbBf16 *out16, int64_t ld_out,
                                      int64_t out_gstride, const VbBf16 *in, int64_t ld_in,
                                      int64_t in_gstride, const VbBf16 *w, int64_t w_gstride,
                                      int groups, int64_t n, int in_f, int out_f);
  void (*linear_backward_groups_bf16) (void *ctx, float *din, int64_t ld_din,
                                       int64_t din_gstride, float *dw, int64_t w_gstride,
                                       const VbBf16 *dout, int64_t ld_dout, int64_t dout_gstride,
                                       const VbBf16 *in, int64_t ld_in, int64_t in_gstride,
                                       const VbBf16 *w, int groups, int64_t n, int in_f,
                                       int out_f);
  void (*linear_backward_bf16) (void *ctx, float *din, VbBf16 *din16, int64_t ld_din,
                                float *dw, float *db, const VbBf16 *dout, int64_t ld_dout,
                                const VbBf16 *in, int64_t ld_in, const VbBf16 *w, int64_t n,
                                int in_f, int out_f);
  void (*layernorm_forward_bf16) (void *ctx, VbBf16 *out, float *mean, float *rstd,
                                  const float *in, const float *gamma, const float *beta,
                                  int64_t n, int c, float eps);
  /* the cross-merge fused into the LayerNorm after it: y (n, c) = Σ_k ys (n, K, c) in k
   * order (written: the LayerNorm's backward reads it), then LayerNorm (y) into exactly one
   * of out (fp32) or out16 (bf16); mean, rstd as layernorm_forward */
  void (*merge_layernorm_forward) (void *ctx, float *y, float *out, VbBf16 *out16,
                                   float *mean, float *rstd, const float *ys, int K,
                                   const float *gamma, const float *beta, int64_t n, int c,
                                   float eps);
  /* the same on bf16 group rows (group_sum_bf16 then layernorm_forward_bf16) */
  void (*merge_bf16_layernorm_forward) (void *ctx, float *y, VbBf16 *out16, float *mean,
                                        float *rstd, const VbBf16 *ys16, int K,
                                        const float *gamma, const float *beta, int64_t n,
                                        int c, float eps);
  void (*gelu_forward_bf16) (void *ctx, VbBf16 *out, const VbBf16 *in, const float *b,
                             int64_t rows, int c);
  /* db (accumulated, may be NULL): the bias b's gradient, Σ over rows of din as stored */
  void (*gelu_backward_bf16) (void *ctx, VbBf16 *din, float *db, const VbBf16 *dout,
                              const VbBf16 *in, const float *b, int64_t rows, int c);
  /* the 3×3 stride-2 convolutions with bf16 products: fp32 tensors in and out, the
   * operands rounded to bf16 inside (vb-cpu-ops.h vb_conv3x3s2_*_bf16) */
  void (*conv3x3s2_forward_bf16) (void *ctx, float *out, const float *in, const float *w,
                                  const float *b, int B, int H, int W, int cin, int cout);
  void (*conv3x3s2_backward_bf16) (void *ctx, float *din, float *dw, float *db,
                                   const float *dout, const float *in, const float *w, int B,
                                   int H, int W, int cin, int cout);
  /* The Δ products' operands aligned (specs/kernels.md §3): each group's dt_low padded
   * with zeros to Rp columns, a multiple of 8, so that cuBLAS takes its aligned kernels
   * without copying operands. ssm_split_xdbl_bf16: x_dbl's (B, C) as ssm_split_bc, and
   * its dt_low columns rounded to bf16 into rows of K·Rp. ssm_join_xdbl_bf16: the x_dbl
   * gradient (rows of K·(R + 2N)) in bf16, its dt_low columns from ddtlow's rows of K·Rp,
   * its (dB, dC) from dBs, dCs. The zeros add exact zeros: the products' values are the
   * unpadded ones. */
  void (*ssm_split_xdbl_bf16) (void *ctx, float *Bs, float *Cs, VbBf16 *dtlow16,
                               const float *xdbl, int64_t rows, int K, int R, int N, int Rp);
  void (*ssm_join_xdbl_bf16) (void *ctx, VbBf16 *dxdbl16, const float *ddtlow,
                              const float *dBs, const float *dCs, int64_t rows, int K, int R,
                              int N, int Rp);
  /* dst (rows × cols_p) = bf16 (src (rows × cols)), the columns past cols zero;
   * unpad_add_cols: dst (rows × cols) += the first cols of each of src's cols_p-wide rows */
  void (*pad_cols_bf16) (void *ctx, VbBf16 *dst, const float *src, int64_t rows, int cols,
                         int cols_p);
  void (*unpad_add_cols) (void *ctx, float *dst, const float *src, int64_t rows, int cols,
                          int cols_p);
};

/* the reference backend; static, never freed */
const VbOps *vb_cpu_ops (void);

/* the SSM glue on the CPU, shared with the CPU table */
void vb_ssm_neg_exp (float *A, const float *A_logs, int64_t n);
void vb_ssm_mul_acc (float *out, const float *a, const float *b, int64_t n);
/* xdbl rows hold K groups of (dt_low (R), B (N), C (N)); Bs, Cs (rows, K, N) */
void vb_ssm_split_bc (float *Bs, float *Cs, const float *xdbl, int64_t rows, int K, int R, int N);
/* writes the B and C columns of dxdbl (the dt_low columns are left as they are) */
void vb_ssm_join_bc (float *dxdbl, const float *dBs, const float *dCs, int64_t rows, int K, int R,
                     int N);

#ifdef __cplusplus
}
#endif
