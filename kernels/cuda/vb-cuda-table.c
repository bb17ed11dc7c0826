/* vb-cuda-table.c: the CUDA ops as a VbOps table: each entry casts the context and
 * calls vb_cuda_<op> (vb-cuda-ops.h). Ops that return a value wait for it. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "vb-cuda-ops.h"
#include "vb-cuda-table.h"

static void *
cu_alloc (void *ctx, size_t bytes)
{
  void *p = vb_cuda_alloc (ctx, bytes);
  if (p != NULL)
    vb_cuda_memset (ctx, p, 0, bytes);
  return p;
}

static void cu_free (void *ctx, void *p) { vb_cuda_free (ctx, p); }
static void cu_upload (void *ctx, void *dst, const void *src, size_t n) { vb_cuda_upload (ctx, dst, src, n); }
static void cu_download (void *ctx, void *dst, const void *src, size_t n) { vb_cuda_download (ctx, dst, src, n); }
static void cu_zero (void *ctx, void *dst, size_t n) { vb_cuda_memset (ctx, dst, 0, n); }
static void cu_clear_error (void *ctx) { vb_cuda_clear_error (ctx); }
/* VB_MATMUL_* (vb-ops.h) as VB_CUDA_MATMUL_* */
static int
cu_set_matmul (void *ctx, int mode)
{
  static const int cuda_mode[] = { [VB_MATMUL_FP32] = VB_CUDA_MATMUL_FP32,
                                   [VB_MATMUL_TF32] = VB_CUDA_MATMUL_TF32,
                                   [VB_MATMUL_BF16] = VB_CUDA_MATMUL_BF16 };
  return mode >= 0 && mode < (int) (sizeof cuda_mode / sizeof cuda_mode[0])
         && vb_cuda_set_matmul (ctx, cuda_mode[mode]);
}
static size_t cu_memory_used (void *ctx) { return vb_cuda_memory_used (ctx); }

static const char *
cu_sync (void *ctx)
{
  vb_cuda_sync (ctx);
  return vb_cuda_error (ctx);
}

static void
cu_softmax_xent_loss (void *ctx, float *probs, float *loss, const float *logits,
                      const int *labels, int B, int classes, float smoothing)
{
  vb_cuda_softmax_xent_forward (ctx, probs, loss, logits, labels, B, classes, smoothing);
}

static void
cu_sum_squares_to (void *ctx, double *out, const float *x, int64_t n)
{
  vb_cuda_sum_squares (ctx, out, x, n);
}

static void
cu_adamw_fused (void *ctx, float *param, const float *grad, float *m, float *v,
                const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc,
                const double *sumsq, float max_norm)
{
  vb_cuda_adamw_fused (ctx, param, grad, m, v, decay_mask, n, sc, sumsq, max_norm);
}

static void *
cu_alloc_host (void *ctx, size_t bytes)
{
  return vb_cuda_alloc_host (ctx, bytes);
}

static void
cu_free_host (void *ctx, void *ptr)
{
  vb_cuda_free_host (ctx, ptr);
}

static void
cu_upload_async (void *ctx, void *dst, const void *src, size_t bytes)
{
  vb_cuda_upload_async (ctx, dst, src, bytes);
}

static int
cu_capture_begin (void *ctx)
{
  return vb_cuda_capture_begin (ctx);
}

static void *
cu_capture_end (void *ctx)
{
  return vb_cuda_capture_end (ctx);
}

static void
cu_param_sums_defer (void *ctx)
{
  vb_cuda_param_sums_defer (ctx);
}

static void
cu_param_sums_flush (void *ctx)
{
  vb_cuda_param_sums_flush (ctx);
}

static void
cu_graph_launch (void *ctx, void *graph)
{
  vb_cuda_graph_launch (ctx, graph);
}

static void
cu_graph_free (void *ctx, void *graph)
{
  vb_cuda_graph_free (ctx, graph);
}

static void
cu_linear_forward (void *ctx, float *out, int64_t ld_out, const float *in, int64_t ld_in, const float *w, const float *b, int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_forward (ctx, out, ld_out, in, ld_in, w, b, n, in_f, out_f);
}

static void
cu_linear_backward (void *ctx, float *din, int64_t ld_din, int accumulate, float *dw, float *db, const float *dout, int64_t ld_dout, const float *in, int64_t ld_in, const float *w, int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_backward (ctx, din, ld_din, accumulate, dw, db, dout, ld_dout, in, ld_in, w, n, in_f, out_f);
}

static void
cu_linear_forward_groups (void *ctx, float *out, int64_t ld_out, int64_t out_gstride,
                          const float *in, int64_t ld_in, int64_t in_gstride, const float *w,
                          int64_t w_gstride, int groups, int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_forward_groups (ctx, out, ld_out, out_gstride, in, ld_in, in_gstride, w,
                                 w_gstride, groups, n, in_f, out_f);
}

static void
cu_linear_backward_groups (void *ctx, float *din, int64_t ld_din, int64_t din_gstride,
                           int accumulate, float *dw, int64_t w_gstride, const float *dout,
                           int64_t ld_dout, int64_t dout_gstride, const float *in,
                           int64_t ld_in, int64_t in_gstride, const float *w, int groups,
                           int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_backward_groups (ctx, din, ld_din, din_gstride, accumulate, dw, w_gstride,
                                  dout, ld_dout, dout_gstride, in, ld_in, in_gstride, w, groups,
                                  n, in_f, out_f);
}

static void
cu_conv3x3s2_forward (void *ctx, float *out, const float *in, const float *w, const float *b, int B, int H, int W, int cin, int cout)
{
  vb_cuda_conv3x3s2_forward (ctx, out, in, w, b, B, H, W, cin, cout);
}

static void
cu_conv3x3s2_backward (void *ctx, float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B, int H, int W, int cin, int cout)
{
  vb_cuda_conv3x3s2_backward (ctx, din, dw, db, dout, in, w, B, H, W, cin, cout);
}

static void
cu_dwconv3x3_silu_forward (void *ctx, float *pre, float *out, VbBf16 *out16, const float *in, const float *w, int B, int H, int W, int C)
{
  vb_cuda_dwconv3x3_silu_forward (ctx, pre, out, out16, in, w, B, H, W, C);
}

static void
cu_dwconv3x3_silu_backward (void *ctx, float *din, VbBf16 *din16, float *dw, const float *dsilu, const float *pre, const float *in, const float *w, int B, int H, int W, int C)
{
  vb_cuda_dwconv3x3_silu_backward (ctx, din, din16, dw, dsilu, pre, in, w, B, H, W, C);
}

static void
cu_layernorm_forward (void *ctx, float *out, float *mean, float *rstd, const float *in, const float *gamma, const float *beta, int64_t n, int c, float eps)
{
  vb_cuda_layernorm_forward (ctx, out, mean, rstd, in, gamma, beta, n, c, eps);
}

static void
cu_layernorm_backward (void *ctx, float *din, int accumulate, float *dgamma, float *dbeta, const float *dout, const float *in, const float *mean, const float *rstd, const float *gamma, int64_t n, int c)
{
  vb_cuda_layernorm_backward (ctx, din, accumulate, dgamma, dbeta, dout, in, mean, rstd, gamma,
                              n, c);
}

static void
cu_gelu_forward (void *ctx, float *out, const float *in, int64_t n)
{
  vb_cuda_gelu_forward (ctx, out, in, n);
}

static void
cu_gelu_backward (void *ctx, float *din, const float *dout, const float *in, int64_t n)
{
  vb_cuda_gelu_backward (ctx, din, dout, in, n);
}

static void
cu_add (void *ctx, float *out, const float *a, const float *b, int64_t n)
{
  vb_cuda_add (ctx, out, a, b, n);
}

static void
cu_residual_add (void *ctx, float *out, const float *x, const float *branch, const float *bias,
                 int c, const float *scale, int B, int64_t per_sample)
{
  vb_cuda_residual_add (ctx, out, x, branch, bias, c, scale, B, per_sample);
}

static void
cu_drop_path_backward (void *ctx, float *din, const float *dout, const float *scale, int B, int64_t per_sample)
{
  vb_cuda_drop_path_backward (ctx, din, dout, scale, B, per_sample);
}

static void
cu_ss2d_scan_forward (void *ctx, float *yk, float *hck, const float *u, const float *delta, const float *A, const float *Bs, const float *Cs, const float *Dskip, const float *dbias, int B, int H, int W, int K, int D, int N, VbScanMode mode)
{
  vb_cuda_ss2d_scan_forward (ctx, yk, hck, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
}

static void
cu_ss2d_scan_backward (void *ctx, float *duk, float *ddelta, float *dA, float *dBs, float *dCs, float *dDskip, float *ddbias, const float *dy, const float *hck, const float *u, const float *delta, const float *A, const float *Bs, const float *Cs, const float *Dskip, const float *dbias, int B, int H, int W, int K, int D, int N, VbScanMode mode)
{
  vb_cuda_ss2d_scan_backward (ctx, duk, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, hck, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
}

static void
cu_ss2d_scan_forward_bf16 (void *ctx, VbBf16 *yk, float *hck, const VbBf16 *u,
                           const VbBf16 *delta, const float *A, const float *Bs, const float *Cs,
                           const float *Dskip, const float *dbias, int B, int H, int W, int K,
                           int D, int N, VbScanMode mode)
{
  vb_cuda_ss2d_scan_forward_bf16 (ctx, yk, hck, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K,
                                  D, N, mode);
}

static void
cu_ss2d_scan_backward_bf16 (void *ctx, VbBf16 *duk, VbBf16 *ddelta, float *dA, float *dBs,
                            float *dCs, float *dDskip, float *ddbias, const VbBf16 *dy,
                            const float *hck, const VbBf16 *u, const VbBf16 *delta,
                            const float *A, const float *Bs, const float *Cs,
                            const float *Dskip, const float *dbias, int B, int H, int W, int K,
                            int D, int N, VbScanMode mode)
{
  vb_cuda_ss2d_scan_backward_bf16 (ctx, duk, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, hck, u,
                                   delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
}

static void
cu_group_sum (void *ctx, float *out, const float *in, int64_t rows, int K, int D, int accumulate)
{
  vb_cuda_group_sum (ctx, out, in, rows, K, D, accumulate);
}

static void
cu_group_sum_bf16 (void *ctx, float *out, const VbBf16 *in, int64_t rows, int K, int D,
                   int accumulate)
{
  vb_cuda_group_sum_bf16 (ctx, out, in, rows, K, D, accumulate);
}

static void
cu_ssm_split_bc (void *ctx, float *Bs, float *Cs, const float *xdbl, int64_t rows, int K, int R, int N)
{
  vb_cuda_ssm_split_bc (ctx, Bs, Cs, xdbl, rows, K, R, N);
}

static void
cu_ssm_join_bc (void *ctx, float *dxdbl, const float *dBs, const float *dCs, int64_t rows, int K, int R, int N)
{
  vb_cuda_ssm_join_bc (ctx, dxdbl, dBs, dCs, rows, K, R, N);
}

static void
cu_ssm_split_xdbl_bf16 (void *ctx, float *Bs, float *Cs, VbBf16 *dtlow16, const float *xdbl,
                        int64_t rows, int K, int R, int N, int Rp)
{
  vb_cuda_ssm_split_xdbl_bf16 (ctx, Bs, Cs, dtlow16, xdbl, rows, K, R, N, Rp);
}

static void
cu_ssm_join_xdbl_bf16 (void *ctx, VbBf16 *dxdbl16, const float *ddtlow, const float *dBs,
                       const float *dCs, int64_t rows, int K, int R, int N, int Rp)
{
  vb_cuda_ssm_join_xdbl_bf16 (ctx, dxdbl16, ddtlow, dBs, dCs, rows, K, R, N, Rp);
}

static void
cu_pad_cols_bf16 (void *ctx, VbBf16 *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  vb_cuda_pad_cols_bf16 (ctx, dst, src, rows, cols, cols_p);
}

static void
cu_unpad_add_cols (void *ctx, float *dst, const float *src, int64_t rows, int cols, int cols_p)
{
  vb_cuda_unpad_add_cols (ctx, dst, src, rows, cols, cols_p);
}

static void
cu_avgpool_forward (void *ctx, float *out, const float *in, int B, int L, int C)
{
  vb_cuda_avgpool_forward (ctx, out, in, B, L, C);
}

static void
cu_avgpool_backward (void *ctx, float *din, const float *dout, int B, int L, int C)
{
  vb_cuda_avgpool_backward (ctx, din, dout, B, L, C);
}

static void
cu_softmax_xent_backward (void *ctx, float *dlogits, const float *probs, const int *labels, int B, int classes, float smoothing, float dloss)
{
  vb_cuda_softmax_xent_backward (ctx, dlogits, probs, labels, B, classes, smoothing, dloss);
}

static void
cu_scale (void *ctx, float *x, float s, int64_t n)
{
  vb_cuda_scale (ctx, x, s, n);
}

static void
cu_residual_layernorm_forward_bf16 (void *ctx, float *y, VbBf16 *out16, float *mean, float *rstd,
                                    const float *x, const float *branch, const float *bias,
                                    const float *scale, int B, const float *gamma,
                                    const float *beta, int64_t n, int c, float eps)
{
  vb_cuda_residual_layernorm_forward_bf16 (ctx, y, out16, mean, rstd, x, branch, bias, scale, B,
                                           gamma, beta, n, c, eps);
}

static void
cu_layernorm_backward_bf16 (void *ctx, VbBf16 *din16, float *din_work, float *dgamma,
                            float *dbeta, const float *dout, const float *in, const float *mean,
                            const float *rstd, const float *gamma, int64_t n, int c)
{
  vb_cuda_layernorm_backward_bf16 (ctx, din16, din_work, dgamma, dbeta, dout, in, mean, rstd,
                                   gamma, n, c);
}

static void
cu_layernorm_backward_acc_bf16 (void *ctx, float *din, VbBf16 *din16, const float *scale, int B,
                                float *dgamma, float *dbeta, const float *dout, const float *in,
                                const float *mean, const float *rstd, const float *gamma,
                                int64_t n, int c)
{
  vb_cuda_layernorm_backward_acc_bf16 (ctx, din, din16, scale, B, dgamma, dbeta, dout, in, mean,
                                       rstd, gamma, n, c);
}

static void
cu_to_bf16 (void *ctx, VbBf16 *dst, const float *src, const float *scale, int B,
            int64_t per_sample)
{
  vb_cuda_to_bf16 (ctx, dst, src, scale, B, per_sample);
}

static void
cu_linear_forward_bf16 (void *ctx, float *out, VbBf16 *out16, int64_t ld_out, const VbBf16 *in,
                        int64_t ld_in, const VbBf16 *w, const float *b, int64_t n, int in_f,
                        int out_f)
{
  vb_cuda_linear_forward_bf16 (ctx, out, out16, ld_out, in, ld_in, w, b, n, in_f, out_f);
}

static void
cu_linear_forward_groups_bf16 (void *ctx, VbBf16 *out16, int64_t ld_out, int64_t out_gstride,
                               const VbBf16 *in, int64_t ld_in, int64_t in_gstride,
                               const VbBf16 *w, int64_t w_gstride, int groups, int64_t n,
                               int in_f, int out_f)
{
  vb_cuda_linear_forward_groups_bf16 (ctx, out16, ld_out, out_gstride, in, ld_in, in_gstride, w,
                                      w_gstride, groups, n, in_f, out_f);
}

static void
cu_linear_backward_groups_bf16 (void *ctx, float *din, int64_t ld_din, int64_t din_gstride,
                                float *dw, int64_t w_gstride, const VbBf16 *dout,
                                int64_t ld_dout, int64_t dout_gstride, const VbBf16 *in,
                                int64_t ld_in, int64_t in_gstride, const VbBf16 *w, int groups,
                                int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_backward_groups_bf16 (ctx, din, ld_din, din_gstride, dw, w_gstride, dout,
                                       ld_dout, dout_gstride, in, ld_in, in_gstride, w, groups,
                                       n, in_f, out_f);
}

static void
cu_linear_backward_bf16 (void *ctx, float *din, VbBf16 *din16, int64_t ld_din, float *dw,
                         float *db, const VbBf16 *dout, int64_t ld_dout, const VbBf16 *in,
                         int64_t ld_in, const VbBf16 *w, int64_t n, int in_f, int out_f)
{
  vb_cuda_linear_backward_bf16 (ctx, din, din16, ld_din, dw, db, dout, ld_dout, in, ld_in, w, n,
                                in_f, out_f);
}

static void
cu_layernorm_forward_bf16 (void *ctx, VbBf16 *out, float *mean, float *rstd, const float *in,
                           const float *gamma, const float *beta, int64_t n, int c, float eps)
{
  vb_cuda_layernorm_forward_bf16 (ctx, out, mean, rstd, in, gamma, beta, n, c, eps);
}

static void
cu_merge_bf16_layernorm_forward (void *ctx, float *y, VbBf16 *out16, float *mean, float *rstd,
                                 const VbBf16 *ys16, int K, const float *gamma,
                                 const float *beta, int64_t n, int c, float eps)
{
  vb_cuda_merge_bf16_layernorm_forward (ctx, y, out16, mean, rstd, ys16, K, gamma, beta, n, c,
                                        eps);
}

static void
cu_merge_layernorm_forward (void *ctx, float *y, float *out, VbBf16 *out16, float *mean,
                            float *rstd, const float *ys, int K, const float *gamma,
                            const float *beta, int64_t n, int c, float eps)
{
  vb_cuda_merge_layernorm_forward (ctx, y, out, out16, mean, rstd, ys, K, gamma, beta, n, c,
                                   eps);
}

static void
cu_gelu_forward_bf16 (void *ctx, VbBf16 *out, const VbBf16 *in, const float *b, int64_t rows,
                      int c)
{
  vb_cuda_gelu_forward_bf16 (ctx, out, in, b, rows, c);
}

static void
cu_gelu_backward_bf16 (void *ctx, VbBf16 *din, float *db, const VbBf16 *dout, const VbBf16 *in,
                       const float *b, int64_t rows, int c)
{
  vb_cuda_gelu_backward_bf16 (ctx, din, db, dout, in, b, rows, c);
}

static void
cu_conv3x3s2_forward_bf16 (void *ctx, float *out, const float *in, const float *w,
                           const float *b, int B, int H, int W, int cin, int cout)
{
  vb_cuda_conv3x3s2_forward_bf16 (ctx, out, in, w, b, B, H, W, cin, cout);
}

static void
cu_conv3x3s2_backward_bf16 (void *ctx, float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, int B, int H, int W, int cin,
                            int cout)
{
  vb_cuda_conv3x3s2_backward_bf16 (ctx, din, dw, db, dout, in, w, B, H, W, cin, cout);
}

VbOps *
vb_cuda_ops_new (VbCuda *cu)
{
  VbOps *ops = calloc (1, sizeof *ops);
  if (ops == NULL)
    return NULL;
  ops->name = "cuda";
  ops->ctx = cu;
  ops->on_host = 0;
  ops->alloc = cu_alloc;
  ops->free = cu_free;
  ops->upload = cu_upload;
  ops->download = cu_download;
  ops->zero = cu_zero;
  ops->sync = cu_sync;
  ops->clear_error = cu_clear_error;
  ops->set_matmul = cu_set_matmul;
  ops->memory_used = cu_memory_used;
  ops->linear_forward = cu_linear_forward;
  ops->linear_backward = cu_linear_backward;
  ops->linear_forward_groups = cu_linear_forward_groups;
  ops->linear_backward_groups = cu_linear_backward_groups;
  ops->conv3x3s2_forward = cu_conv3x3s2_forward;
  ops->conv3x3s2_backward = cu_conv3x3s2_backward;
  ops->dwconv3x3_silu_forward = cu_dwconv3x3_silu_forward;
  ops->dwconv3x3_silu_backward = cu_dwconv3x3_silu_backward;
  ops->layernorm_forward = cu_layernorm_forward;
  ops->layernorm_backward = cu_layernorm_backward;
  ops->gelu_forward = cu_gelu_forward;
  ops->gelu_backward = cu_gelu_backward;
  ops->add = cu_add;
  ops->drop_path_backward = cu_drop_path_backward;
  ops->residual_add = cu_residual_add;
  ops->ss2d_scan_forward = cu_ss2d_scan_forward;
  ops->ss2d_scan_backward = cu_ss2d_scan_backward;
  ops->ss2d_scan_forward_bf16 = cu_ss2d_scan_forward_bf16;
  ops->ss2d_scan_backward_bf16 = cu_ss2d_scan_backward_bf16;
  ops->group_sum = cu_group_sum;
  ops->group_sum_bf16 = cu_group_sum_bf16;
  ops->ssm_split_bc = cu_ssm_split_bc;
  ops->ssm_join_bc = cu_ssm_join_bc;
  ops->ssm_split_xdbl_bf16 = cu_ssm_split_xdbl_bf16;
  ops->ssm_join_xdbl_bf16 = cu_ssm_join_xdbl_bf16;
  ops->pad_cols_bf16 = cu_pad_cols_bf16;
  ops->unpad_add_cols = cu_unpad_add_cols;
  ops->avgpool_forward = cu_avgpool_forward;
  ops->avgpool_backward = cu_avgpool_backward;
  ops->softmax_xent_backward = cu_softmax_xent_backward;
  ops->softmax_xent_loss = cu_softmax_xent_loss;
  ops->sum_squares_to = cu_sum_squares_to;
  ops->adamw_fused = cu_adamw_fused;
  ops->scale = cu_scale;
  ops->alloc_host = cu_alloc_host;
  ops->free_host = cu_free_host;
  ops->upload_async = cu_upload_async;
  ops->capture_begin = cu_capture_begin;
  ops->capture_end = cu_capture_end;
  ops->graph_launch = cu_graph_launch;
  ops->param_sums_defer = cu_param_sums_defer;
  ops->param_sums_flush = cu_param_sums_flush;
  ops->graph_free = cu_graph_free;
  ops->to_bf16 = cu_to_bf16;
  ops->layernorm_backward_bf16 = cu_layernorm_backward_bf16;
  ops->layernorm_backward_acc_bf16 = cu_layernorm_backward_acc_bf16;
  ops->residual_layernorm_forward_bf16 = cu_residual_layernorm_forward_bf16;
  ops->linear_forward_bf16 = cu_linear_forward_bf16;
  ops->linear_backward_bf16 = cu_linear_backward_bf16;
  ops->linear_forward_groups_bf16 = cu_linear_forward_groups_bf16;
  ops->linear_backward_groups_bf16 = cu_linear_backward_groups_bf16;
  ops->layernorm_forward_bf16 = cu_layernorm_forward_bf16;
  ops->merge_layernorm_forward = cu_merge_layernorm_forward;
  ops->merge_bf16_layernorm_forward = cu_merge_bf16_layernorm_forward;
  ops->gelu_forward_bf16 = cu_gelu_forward_bf16;
  ops->gelu_backward_bf16 = cu_gelu_backward_bf16;
  ops->conv3x3s2_forward_bf16 = cu_conv3x3s2_forward_bf16;
  ops->conv3x3s2_backward_bf16 = cu_conv3x3s2_backward_bf16;
  return ops;
}

void
vb_cuda_ops_free (VbOps *ops)
{
  free (ops);
}
