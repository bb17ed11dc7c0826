/* ops_table.c: the CPU ops as a VbOps table (the context is unused). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vb-ops.h"

static void *cpu_alloc (void *c, size_t bytes) { (void) c; return calloc (1, bytes > 0 ? bytes : 1); }
static void cpu_free (void *c, void *p) { (void) c; free (p); }
static void cpu_copy (void *c, void *dst, const void *src, size_t bytes) { (void) c; memcpy (dst, src, bytes); }
static void cpu_zero (void *c, void *dst, size_t bytes) { (void) c; memset (dst, 0, bytes); }
static void *cpu_alloc_host (void *c, size_t bytes) { return cpu_alloc (c, bytes); }
static void cpu_free_host (void *c, void *p) { cpu_free (c, p); }
/* the CPU runs every op as it is called: nothing to record */
static int cpu_capture_begin (void *c) { (void) c; return 0; }
static void *cpu_capture_end (void *c) { (void) c; return NULL; }
static void cpu_graph_launch (void *c, void *g) { (void) c; (void) g; }
static void cpu_graph_free (void *c, void *g) { (void) c; (void) g; }
static const char *cpu_sync (void *c) { (void) c; return NULL; }
static void cpu_clear_error (void *c) { (void) c; }
static int cpu_set_matmul (void *c, int mode) { (void) c; return mode == VB_MATMUL_FP32; }
static size_t cpu_memory_used (void *c) { (void) c; return 0; }

/* each wrapper drops the context and calls the CPU op of the same name */
#define WRAP(ret, name, params, args) \
  static ret cpu_##name params { (void) ctx; WRAP_CALL_##ret (vb_##name args); }
#define WRAP_CALL_void(call) call
#define WRAP_CALL_float(call) return call
#define WRAP_CALL_double(call) return call

WRAP (void, linear_forward, (void *ctx, float *out, int64_t ld_out, const float *in, int64_t ld_in, const float *w, const float *b, int64_t n, int in_f, int out_f),
      (out, ld_out, in, ld_in, w, b, n, in_f, out_f))
WRAP (void, linear_backward, (void *ctx, float *din, int64_t ld_din, int accumulate, float *dw, float *db, const float *dout, int64_t ld_dout, const float *in, int64_t ld_in, const float *w, int64_t n, int in_f, int out_f),
      (din, ld_din, accumulate, dw, db, dout, ld_dout, in, ld_in, w, n, in_f, out_f))
static void
cpu_linear_forward_groups (void *ctx, float *out, int64_t ld_out, int64_t out_gstride,
                           const float *in, int64_t ld_in, int64_t in_gstride,
                           const float *w, int64_t w_gstride, int groups,
                           int64_t n, int in_f, int out_f)
{
  (void) ctx;
  for (int g = 0; g < groups; g++)
    vb_linear_forward (out + g * out_gstride, ld_out, in + g * in_gstride, ld_in,
                       w + g * w_gstride, NULL, n, in_f, out_f);
}

static void
cpu_linear_backward_groups (void *ctx, float *din, int64_t ld_din, int64_t din_gstride,
                            int accumulate, float *dw, int64_t w_gstride,
                            const float *dout, int64_t ld_dout, int64_t dout_gstride,
                            const float *in, int64_t ld_in, int64_t in_gstride,
                            const float *w, int groups, int64_t n, int in_f, int out_f)
{
  (void) ctx;
  for (int g = 0; g < groups; g++)
    vb_linear_backward (din + g * din_gstride, ld_din, accumulate, dw + g * w_gstride, NULL,
                        dout + g * dout_gstride, ld_dout, in + g * in_gstride, ld_in,
                        w + g * w_gstride, n, in_f, out_f);
}

/* the groups' products on bf16 operands, a group at a time */
static void
cpu_linear_forward_groups_bf16 (void *ctx, VbBf16 *out16, int64_t ld_out, int64_t out_gstride,
                                const VbBf16 *in, int64_t ld_in, int64_t in_gstride,
                                const VbBf16 *w, int64_t w_gstride, int groups, int64_t n,
                                int in_f, int out_f)
{
  (void) ctx;
  for (int g = 0; g < groups; g++)
    vb_linear_forward_bf16 (NULL, out16 + g * out_gstride, ld_out, in + g * in_gstride, ld_in,
                            w + g * w_gstride, NULL, n, in_f, out_f);
}

static void
cpu_linear_backward_groups_bf16 (void *ctx, float *din, int64_t ld_din, int64_t din_gstride,
                                 float *dw, int64_t w_gstride, const VbBf16 *dout,
                                 int64_t ld_dout, int64_t dout_gstride, const VbBf16 *in,
                                 int64_t ld_in, int64_t in_gstride, const VbBf16 *w, int groups,
                                 int64_t n, int in_f, int out_f)
{
  (void) ctx;
  for (int g = 0; g < groups; g++)
    vb_linear_backward_bf16 (din ? din + g * din_gstride : NULL, NULL, ld_din,
                             dw ? dw + g * w_gstride : NULL, NULL, dout + g * dout_gstride,
                             ld_dout, in + g * in_gstride, ld_in, w + g * w_gstride, n, in_f,
                             out_f);
}

WRAP (void, conv3x3s2_forward, (void *ctx, float *out, const float *in, const float *w, const float *b, int B, int H, int W, int cin, int cout),
      (out, in, w, b, B, H, W, cin, cout))
WRAP (void, conv3x3s2_backward, (void *ctx, float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B, int H, int W, int cin, int cout),
      (din, dw, db, dout, in, w, B, H, W, cin, cout))
WRAP (void, dwconv3x3_silu_forward, (void *ctx, float *pre, float *out, VbBf16 *out16, const float *in, const float *w, int B, int H, int W, int C),
      (pre, out, out16, in, w, B, H, W, C))
WRAP (void, dwconv3x3_silu_backward, (void *ctx, float *din, VbBf16 *din16, float *dw, const float *dsilu, const float *pre, const float *in, const float *w, int B, int H, int W, int C),
      (din, din16, dw, dsilu, pre, in, w, B, H, W, C))
WRAP (void, layernorm_forward, (void *ctx, float *out, float *mean, float *rstd, const float *in, const float *gamma, const float *beta, int64_t n, int c, float eps),
      (out, mean, rstd, in, gamma, beta, n, c, eps))
WRAP (void, layernorm_backward, (void *ctx, float *din, int accumulate, float *dgamma, float *dbeta, const float *dout, const float *in, const float *mean, const float *rstd, const float *gamma, int64_t n, int c),
      (din, accumulate, dgamma, dbeta, dout, in, mean, rstd, gamma, n, c))
WRAP (void, gelu_forward, (void *ctx, float *out, const float *in, int64_t n), (out, in, n))
WRAP (void, gelu_backward, (void *ctx, float *din, const float *dout, const float *in, int64_t n), (din, dout, in, n))
WRAP (void, add, (void *ctx, float *out, const float *a, const float *b, int64_t n), (out, a, b, n))
WRAP (void, drop_path_backward, (void *ctx, float *din, const float *dout, const float *scale, int B, int64_t per_sample),
      (din, dout, scale, B, per_sample))
WRAP (void, residual_add, (void *ctx, float *out, const float *x, const float *branch, const float *bias, int c, const float *scale, int B, int64_t per_sample),
      (out, x, branch, bias, c, scale, B, per_sample))
/* the CPU keeps no checkpoints: its backward recomputes the states */
/* K·D·N floats (zeroed); like the model's own buffers, a failure here has no way out */
static float *
a_buffer (int K, int D, int N)
{
  float *x = calloc ((size_t) K * D * N + 1, sizeof (float));
  if (x == NULL)
    abort ();
  return x;
}

/* A = −exp (A_logs) for the vb-cpu-ops.h scans, which take A itself; free it */
static float *
a_of_logs (const float *A_logs, int K, int D, int N)
{
  float *A = a_buffer (K, D, N);
  vb_ssm_neg_exp (A, A_logs, (int64_t) K * D * N);
  return A;
}

/* dA_logs += dA · A (the chain through A = −exp (A_logs)); frees dA and A */
static void
acc_log_gradient (float *dA_logs, float *dA, float *A, int K, int D, int N)
{
  if (dA_logs != NULL)
    vb_ssm_mul_acc (dA_logs, dA, A, (int64_t) K * D * N);
  free (dA);
  free (A);
}

static void
cpu_ss2d_scan_forward (void *ctx, float *yk, float *hck, const float *u, const float *delta,
                       const float *A_logs, const float *Bs, const float *Cs,
                       const float *Dskip, const float *dbias, int B, int H, int W, int K,
                       int D, int N, VbScanMode mode)
{
  float *A = a_of_logs (A_logs, K, D, N);
  vb_ss2d_scan_forward (yk, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  free (A);
}

static void
cpu_ss2d_scan_backward (void *ctx, float *duk, float *ddelta, float *dA_logs, float *dBs,
                        float *dCs, float *dDskip, float *ddbias, const float *dy,
                        const float *hck, const float *u, const float *delta,
                        const float *A_logs, const float *Bs, const float *Cs,
                        const float *Dskip, const float *dbias, int B, int H, int W, int K,
                        int D, int N, VbScanMode mode)
{
  float *A = a_of_logs (A_logs, K, D, N), *dA = a_buffer (K, D, N);
  vb_ss2d_scan_backward (duk, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, u, delta, A, Bs, Cs,
                         Dskip, dbias, B, H, W, K, D, N, mode);
  acc_log_gradient (dA_logs, dA, A, K, D, N);
}

static void
cpu_ss2d_scan_forward_bf16 (void *ctx, VbBf16 *yk, float *hck, const VbBf16 *u,
                            const VbBf16 *delta, const float *A_logs, const float *Bs,
                            const float *Cs, const float *Dskip, const float *dbias, int B,
                            int H, int W, int K, int D, int N, VbScanMode mode)
{
  float *A = a_of_logs (A_logs, K, D, N);
  vb_ss2d_scan_forward_bf16 (yk, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  free (A);
}

static void
cpu_ss2d_scan_backward_bf16 (void *ctx, VbBf16 *duk, VbBf16 *ddelta, float *dA_logs,
                             float *dBs, float *dCs, float *dDskip, float *ddbias,
                             const VbBf16 *dy, const float *hck, const VbBf16 *u,
                             const VbBf16 *delta, const float *A_logs, const float *Bs,
                             const float *Cs, const float *Dskip, const float *dbias, int B,
                             int H, int W, int K, int D, int N, VbScanMode mode)
{
  float *A = a_of_logs (A_logs, K, D, N), *dA = a_buffer (K, D, N);
  vb_ss2d_scan_backward_bf16 (duk, ddelta, dA, dBs, dCs, dDskip, ddbias, dy, u, delta, A, Bs,
                              Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  acc_log_gradient (dA_logs, dA, A, K, D, N);
}

WRAP (void, group_sum, (void *ctx, float *out, const float *in, int64_t rows, int K, int D, int accumulate),
      (out, in, rows, K, D, accumulate))
WRAP (void, group_sum_bf16, (void *ctx, float *out, const VbBf16 *in, int64_t rows, int K, int D, int accumulate),
      (out, in, rows, K, D, accumulate))
WRAP (void, ssm_split_bc, (void *ctx, float *Bs, float *Cs, const float *xdbl, int64_t rows, int K, int R, int N),
      (Bs, Cs, xdbl, rows, K, R, N))
WRAP (void, ssm_join_bc, (void *ctx, float *dxdbl, const float *dBs, const float *dCs, int64_t rows, int K, int R, int N),
      (dxdbl, dBs, dCs, rows, K, R, N))
WRAP (void, avgpool_forward, (void *ctx, float *out, const float *in, int B, int L, int C), (out, in, B, L, C))
WRAP (void, avgpool_backward, (void *ctx, float *din, const float *dout, int B, int L, int C), (din, dout, B, L, C))
WRAP (void, softmax_xent_backward, (void *ctx, float *dlogits, const float *probs, const int *labels, int B, int classes, float smoothing, float dloss),
      (dlogits, probs, labels, B, classes, smoothing, dloss))
WRAP (void, scale, (void *ctx, float *x, float s, int64_t n), (x, s, n))
WRAP (void, adamw_fused, (void *ctx, float *param, const float *grad, float *m, float *v, const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc, const double *sumsq, float max_norm),
      (param, grad, m, v, decay_mask, n, sc, sumsq, max_norm))

WRAP (void, ssm_split_xdbl_bf16, (void *ctx, float *Bs, float *Cs, VbBf16 *dtlow16, const float *xdbl, int64_t rows, int K, int R, int N, int Rp),
      (Bs, Cs, dtlow16, xdbl, rows, K, R, N, Rp))
WRAP (void, ssm_join_xdbl_bf16, (void *ctx, VbBf16 *dxdbl16, const float *ddtlow, const float *dBs, const float *dCs, int64_t rows, int K, int R, int N, int Rp),
      (dxdbl16, ddtlow, dBs, dCs, rows, K, R, N, Rp))
WRAP (void, pad_cols_bf16, (void *ctx, VbBf16 *dst, const float *src, int64_t rows, int cols, int cols_p),
      (dst, src, rows, cols, cols_p))
WRAP (void, unpad_add_cols, (void *ctx, float *dst, const float *src, int64_t rows, int cols, int cols_p),
      (dst, src, rows, cols, cols_p))
WRAP (void, to_bf16, (void *ctx, VbBf16 *dst, const float *src, const float *scale, int B, int64_t per_sample),
      (dst, src, scale, B, per_sample))
WRAP (void, residual_layernorm_forward_bf16, (void *ctx, float *y, VbBf16 *out16, float *mean, float *rstd, const float *x, const float *branch, const float *bias, const float *scale, int B, const float *gamma, const float *beta, int64_t n, int c, float eps),
      (y, out16, mean, rstd, x, branch, bias, scale, B, gamma, beta, n, c, eps))
WRAP (void, layernorm_backward_bf16, (void *ctx, VbBf16 *din16, float *din_work, float *dgamma, float *dbeta, const float *dout, const float *in, const float *mean, const float *rstd, const float *gamma, int64_t n, int c),
      (din16, din_work, dgamma, dbeta, dout, in, mean, rstd, gamma, n, c))
WRAP (void, layernorm_backward_acc_bf16, (void *ctx, float *din, VbBf16 *din16, const float *scale, int B, float *dgamma, float *dbeta, const float *dout, const float *in, const float *mean, const float *rstd, const float *gamma, int64_t n, int c),
      (din, din16, scale, B, dgamma, dbeta, dout, in, mean, rstd, gamma, n, c))
WRAP (void, linear_forward_bf16, (void *ctx, float *out, VbBf16 *out16, int64_t ld_out, const VbBf16 *in, int64_t ld_in, const VbBf16 *w, const float *b, int64_t n, int in_f, int out_f),
      (out, out16, ld_out, in, ld_in, w, b, n, in_f, out_f))
WRAP (void, linear_backward_bf16, (void *ctx, float *din, VbBf16 *din16, int64_t ld_din, float *dw, float *db, const VbBf16 *dout, int64_t ld_dout, const VbBf16 *in, int64_t ld_in, const VbBf16 *w, int64_t n, int in_f, int out_f),
      (din, din16, ld_din, dw, db, dout, ld_dout, in, ld_in, w, n, in_f, out_f))
WRAP (void, layernorm_forward_bf16, (void *ctx, VbBf16 *out, float *mean, float *rstd, const float *in, const float *gamma, const float *beta, int64_t n, int c, float eps),
      (out, mean, rstd, in, gamma, beta, n, c, eps))
WRAP (void, merge_bf16_layernorm_forward, (void *ctx, float *y, VbBf16 *out16, float *mean, float *rstd, const VbBf16 *ys16, int K, const float *gamma, const float *beta, int64_t n, int c, float eps),
      (y, out16, mean, rstd, ys16, K, gamma, beta, n, c, eps))
WRAP (void, merge_layernorm_forward, (void *ctx, float *y, float *out, VbBf16 *out16, float *mean, float *rstd, const float *ys, int K, const float *gamma, const float *beta, int64_t n, int c, float eps),
      (y, out, out16, mean, rstd, ys, K, gamma, beta, n, c, eps))
WRAP (void, gelu_forward_bf16, (void *ctx, VbBf16 *out, const VbBf16 *in, const float *b, int64_t rows, int c),
      (out, in, b, rows, c))
WRAP (void, gelu_backward_bf16, (void *ctx, VbBf16 *din, float *db, const VbBf16 *dout, const VbBf16 *in, const float *b, int64_t rows, int c),
      (din, db, dout, in, b, rows, c))
WRAP (void, conv3x3s2_forward_bf16, (void *ctx, float *out, const float *in, const float *w, const float *b, int B, int H, int W, int cin, int cout),
      (out, in, w, b, B, H, W, cin, cout))
WRAP (void, conv3x3s2_backward_bf16, (void *ctx, float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B, int H, int W, int cin, int cout),
      (din, dw, db, dout, in, w, B, H, W, cin, cout))

static void
cpu_softmax_xent_loss (void *ctx, float *probs, float *loss, const float *logits,
                       const int *labels, int B, int classes, float smoothing)
{
  *loss = vb_softmax_xent_forward (probs, logits, labels, B, classes, smoothing);
}

static void
cpu_sum_squares_to (void *ctx, double *out, const float *x, int64_t n)
{
  *out = vb_sum_squares (x, n);
}

static const VbOps cpu_ops = {
  .name = "cpu", .ctx = NULL, .on_host = 1,
  .alloc = cpu_alloc, .free = cpu_free, .upload = cpu_copy, .download = cpu_copy,
  .zero = cpu_zero, .alloc_host = cpu_alloc_host, .free_host = cpu_free_host,
  .upload_async = cpu_copy, .capture_begin = cpu_capture_begin,
  .capture_end = cpu_capture_end, .graph_launch = cpu_graph_launch,
  .graph_free = cpu_graph_free, .sync = cpu_sync, .clear_error = cpu_clear_error, .set_matmul = cpu_set_matmul,
  .memory_used = cpu_memory_used,
  .linear_forward = cpu_linear_forward, .linear_backward = cpu_linear_backward,
  .linear_forward_groups = cpu_linear_forward_groups,
  .linear_backward_groups = cpu_linear_backward_groups,
  .conv3x3s2_forward = cpu_conv3x3s2_forward, .conv3x3s2_backward = cpu_conv3x3s2_backward,
  .dwconv3x3_silu_forward = cpu_dwconv3x3_silu_forward,
  .dwconv3x3_silu_backward = cpu_dwconv3x3_silu_backward,
  .layernorm_forward = cpu_layernorm_forward, .layernorm_backward = cpu_layernorm_backward,
  .gelu_forward = cpu_gelu_forward, .gelu_backward = cpu_gelu_backward,
  .add = cpu_add,
  .drop_path_backward = cpu_drop_path_backward,
  .residual_add = cpu_residual_add,
  .ss2d_scan_forward = cpu_ss2d_scan_forward, .ss2d_scan_backward = cpu_ss2d_scan_backward,
  .ss2d_scan_forward_bf16 = cpu_ss2d_scan_forward_bf16,
  .ss2d_scan_backward_bf16 = cpu_ss2d_scan_backward_bf16,
  .group_sum = cpu_group_sum, .group_sum_bf16 = cpu_group_sum_bf16,
  .ssm_split_bc = cpu_ssm_split_bc, .ssm_join_bc = cpu_ssm_join_bc,
  .avgpool_forward = cpu_avgpool_forward, .avgpool_backward = cpu_avgpool_backward,
  .softmax_xent_backward = cpu_softmax_xent_backward,
  .scale = cpu_scale, .softmax_xent_loss = cpu_softmax_xent_loss,
  .sum_squares_to = cpu_sum_squares_to,
  .adamw_fused = cpu_adamw_fused,
  .to_bf16 = cpu_to_bf16, .linear_forward_bf16 = cpu_linear_forward_bf16,
  .layernorm_backward_bf16 = cpu_layernorm_backward_bf16,
  .layernorm_backward_acc_bf16 = cpu_layernorm_backward_acc_bf16,
  .residual_layernorm_forward_bf16 = cpu_residual_layernorm_forward_bf16,
  .linear_backward_bf16 = cpu_linear_backward_bf16,
  .linear_forward_groups_bf16 = cpu_linear_forward_groups_bf16,
  .linear_backward_groups_bf16 = cpu_linear_backward_groups_bf16,
  .layernorm_forward_bf16 = cpu_layernorm_forward_bf16,
  .merge_layernorm_forward = cpu_merge_layernorm_forward,
  .merge_bf16_layernorm_forward = cpu_merge_bf16_layernorm_forward,
  .gelu_forward_bf16 = cpu_gelu_forward_bf16, .gelu_backward_bf16 = cpu_gelu_backward_bf16,
  .conv3x3s2_forward_bf16 = cpu_conv3x3s2_forward_bf16,
  .conv3x3s2_backward_bf16 = cpu_conv3x3s2_backward_bf16,
  .ssm_split_xdbl_bf16 = cpu_ssm_split_xdbl_bf16,
  .ssm_join_xdbl_bf16 = cpu_ssm_join_xdbl_bf16,
  .pad_cols_bf16 = cpu_pad_cols_bf16, .unpad_add_cols = cpu_unpad_add_cols,
};

const VbOps *
vb_cpu_ops (void)
{
  return &cpu_ops;
}
