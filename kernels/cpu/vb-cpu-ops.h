/* vb-cpu-ops.h: the CPU reference implementation of every op VMamba needs (fp32).
 *
 * Layout: channel-last. An image tensor is (B, H, W, C), a token tensor (rows, C);
 * the per-pixel arithmetic is identical to the official NCHW model, only the memory
 * order differs (see shared/specs/vmamba.md §1.1). Weights keep PyTorch's layout so
 * checkpoints load without transposes.
 *
 * Gradient rule: gradients with respect to activations are written (=); gradients with
 * respect to parameters are accumulated (+=), so a caller zeroes them once per step.
 * The exceptions are the `accumulate` flags of vb_linear_backward and
 * vb_layernorm_backward for din (a residual stream's gradient added to in place).
 *
 * Kernels never allocate more than scratch, never exit, never print; shapes are trusted
 * (the engine validates them). Multithreaded with OpenMP where it pays; results do not
 * depend on the thread count for a fixed OMP_NUM_THREADS.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- linear / 1x1 convolution ----------------------------------------------------
 * out[n, o] = Σ_i in[n, i] · w[o, i] + b[o]    b may be NULL
 * Row strides (ld_*) let the SS2D per-group projections read a slice of a wider row;
 * pass the feature count for a dense tensor. The forward runs on the own thin-product
 * kernel where the build has AVX2+FMA or AVX-512 (gemm_nt.c), else on OpenBLAS; the
 * backward products run on OpenBLAS. */
void vb_linear_forward (float *out, int64_t ld_out,
                        const float *in, int64_t ld_in,
                        const float *w, const float *b,
                        int64_t n, int in_f, int out_f);
/* Which product the forward uses: 1 = own kernel where available (the default),
 * 0 = OpenBLAS everywhere (for A/B benchmarks). Returns whether the own kernel is in
 * use afterwards. Set it before any work starts; it is not synchronised. */
int vb_cpu_use_own_gemm (int enable);
/* the forward product in use, for protocol cards: "own AVX-512 12x32 kernel", "OpenBLAS sgemm" */
const char *vb_cpu_gemm_name (void);
/* din[n, i] (=, or += when accumulate) = Σ_o dout[n, o] · w[o, i]   (skipped if din NULL)
 * dw[o, i] += Σ_n dout[n, o] · in[n, i]                             (skipped if dw NULL)
 * db[o]    += Σ_n dout[n, o]                                        (skipped if db NULL) */
void vb_linear_backward (float *din, int64_t ld_din, int accumulate,
                         float *dw, float *db,
                         const float *dout, int64_t ld_dout,
                         const float *in, int64_t ld_in,
                         const float *w,
                         int64_t n, int in_f, int out_f);

/* ---- 3x3, stride 2, padding 1 convolution (stem, downsample) ----------------------
 * in (B, H, W, cin) → out (B, Ho, Wo, cout), Ho = (H + 1) / 2, Wo = (W + 1) / 2.
 * w (cout, cin, 3, 3) PyTorch layout; b (cout) or NULL. */
void vb_conv3x3s2_forward (float *out, const float *in, const float *w, const float *b,
                           int B, int H, int W, int cin, int cout);
void vb_conv3x3s2_backward (float *din, float *dw, float *db,
                            const float *dout, const float *in, const float *w,
                            int B, int H, int W, int cin, int cout);

/* ---- depthwise 3x3, stride 1, padding 1, no bias ---------------------------------
 * in, out (B, H, W, C); w (C, 1, 3, 3). */
void vb_dwconv3x3_forward (float *out, const float *in, const float *w,
                           int B, int H, int W, int C);
void vb_dwconv3x3_backward (float *din, float *dw,
                            const float *dout, const float *in, const float *w,
                            int B, int H, int W, int C);
/* the depthwise conv fused with the SiLU after it (VMamba's SS2D), defined as the
 * composition of the ops it replaces:
 *   forward:  pre = dwconv3x3 (in); out = SiLU (pre); out16 = bf16 (out) (VbBf16, the
 *             "bf16 storage" rounding below); out and out16 each written when not NULL
 *   backward: vb_dwconv3x3_backward with dout = SiLU'(pre)·dsilu (din and din16 = bf16
 *             (din) each written when not NULL, dw +=) */
void vb_dwconv3x3_silu_forward (float *pre, float *out, uint16_t *out16, const float *in,
                                const float *w, int B, int H, int W, int C);
void vb_dwconv3x3_silu_backward (float *din, uint16_t *din16, float *dw, const float *dsilu,
                                 const float *pre,
                                 const float *in, const float *w, int B, int H, int W, int C);

/* ---- LayerNorm over the last dimension (LayerNorm2d per pixel) -------------------
 * in, out (n, c); mean, rstd (n) saved for the backward; gamma, beta (c). */
void vb_layernorm_forward (float *out, float *mean, float *rstd,
                           const float *in, const float *gamma, const float *beta,
                           int64_t n, int c, float eps);
void vb_layernorm_backward (float *din, int accumulate, float *dgamma, float *dbeta,
                            const float *dout, const float *in,
                            const float *mean, const float *rstd, const float *gamma,
                            int64_t n, int c);
/* SS2D's cross-merge fused into the LayerNorm after it (out_norm), defined as the
 * composition of the ops it replaces:
 *   vb_group_sum (y, ys, n, K, c, 0);   y (n, c) written: the backward's `in`
 *   then vb_layernorm_forward (out, mean, rstd, y, ...) when out is not NULL, else
 *   vb_layernorm_forward_bf16 (out16, ...) (VbBf16, "bf16 storage" below)
 * ys (n, K, c): the K groups' rows, added in k order; y must not overlap ys. */
void vb_merge_layernorm_forward (float *y, float *out, uint16_t *out16, float *mean,
                                 float *rstd, const float *ys, int K, const float *gamma,
                                 const float *beta, int64_t n, int c, float eps);

/* ---- elementwise activations (in-place forward allowed: out == in) ---------------- */
void vb_gelu_forward (float *out, const float *in, int64_t n);   /* exact erf form */
void vb_gelu_backward (float *din, const float *dout, const float *in, int64_t n);
void vb_silu_forward (float *out, const float *in, int64_t n);
void vb_silu_backward (float *din, const float *dout, const float *in, int64_t n);

/* out[i] = a[i] + b[i] (out may alias a or b) */
void vb_add (float *out, const float *a, const float *b, int64_t n);

/* ---- cross-scan / cross-merge (shared/specs/vmamba.md §3) -------------------------
 * The two are adjoint: the backward of cross-scan is cross-merge and vice versa. */
typedef enum {
  VB_SCAN_4DIR = 0,     /* row-fwd, col-fwd, row-rev, col-rev (v05) */
  VB_SCAN_2DIR = 1,     /* row-fwd, row-fwd, row-rev, row-rev (v052d, K = 4) */
  VB_SCAN_1DIR = 2,     /* row-fwd ×4 (v051d, K = 4) */
  VB_SCAN_LEAN2DIR = 3, /* row-fwd, row-rev (K = 2, VisionBench-only) */
} VbScanMode;

int vb_scan_mode_groups (VbScanMode mode);                 /* K: 4, 4, 4, 2 */
/* flat pixel index p = h·W + w read by group k at sequence position l */
int64_t vb_scan_gather_index (VbScanMode mode, int k, int64_t l, int H, int W);

/* u (B, H·W, D) → xs (B, L, K, D): xs[b, l, k, :] = u[b, g_k(l), :] */
void vb_cross_scan_forward (float *xs, const float *u, int B, int H, int W, int D, VbScanMode mode);
/* ys (B, L, K, D) → y (B, H·W, D): y[b, p, :] = Σ_k ys[b, g_k⁻¹(p), k, :] */
void vb_cross_merge_forward (float *y, const float *ys, int B, int H, int W, int D, VbScanMode mode);

/* ---- selective scan (shared/specs/vmamba.md §2.4, §5.1) ---------------------------
 * u, delta, y: (B, L, K·D); channel c belongs to group k = c / D.
 * A (K·D, N) — the real, negative A (the model maps A = −exp(A_logs));
 * Bs, Cs: (B, L, K, N), shared by the D channels of a group; Dskip, dbias: (K·D).
 *   Δ = softplus(delta + dbias) (threshold 20); h_t = exp(Δ·A)·h_{t−1} + Δ·B_t·u_t;
 *   y_t = Σ_n C_t·h_t + Dskip·u_t.  State in fp32 (double accumulation not required). */
void vb_selective_scan_forward (float *y,
                                const float *u, const float *delta, const float *A,
                                const float *Bs, const float *Cs,
                                const float *Dskip, const float *dbias,
                                int B, int L, int K, int D, int N);
/* du, ddelta, dBs, dCs written (=); dA, dDskip, ddbias accumulated (+=).
 * Recomputes the states internally (no saved h). */
void vb_selective_scan_backward (float *du, float *ddelta, float *dA,
                                 float *dBs, float *dCs, float *dDskip, float *ddbias,
                                 const float *dy,
                                 const float *u, const float *delta, const float *A,
                                 const float *Bs, const float *Cs,
                                 const float *Dskip, const float *dbias,
                                 int B, int L, int K, int D, int N);

/* ---- the SS2D scan, cross-scan as an index map (specs/kernels.md §3–4) ------------
 * Everything in spatial order p = h·W + w, L = H·W: u and dy (B, L, D), read by all K
 * groups; delta, yk, duk, ddelta (B, L, K, D); Bs, Cs (B, L, K, N); A, Dskip, dbias as
 * above. Group k visits vb_scan_gather_index (mode, k, t, H, W) at step t and writes
 * its output at that position: the same numbers as cross-scan → selective scan → scatter,
 * without the permuted copies. Σ_k yk (vb_group_sum) is the cross-merge; Σ_k duk the
 * cross-scan's backward. Written / accumulated as the plain op. */
void vb_ss2d_scan_forward (float *yk, const float *u, const float *delta, const float *A,
                           const float *Bs, const float *Cs, const float *Dskip,
                           const float *dbias, int B, int H, int W, int K, int D, int N,
                           VbScanMode mode);
void vb_ss2d_scan_backward (float *duk, float *ddelta, float *dA, float *dBs, float *dCs,
                            float *dDskip, float *ddbias, const float *dy, const float *u,
                            const float *delta, const float *A, const float *Bs,
                            const float *Cs, const float *Dskip, const float *dbias, int B,
                            int H, int W, int K, int D, int N, VbScanMode mode);
/* Backends may keep the fp32 state every VB_SCAN_CKPT_STEPS steps from the forward for
 * the backward (the GPU does; the CPU recomputes): vb_scan_ckpt_floats of them. */
#define VB_SCAN_CKPT_STEPS 8
static inline int64_t
vb_scan_ckpt_floats (int B, int64_t L, int K, int D, int N)
{
  return (int64_t) B * K * ((L + VB_SCAN_CKPT_STEPS - 1) / VB_SCAN_CKPT_STEPS) * N * D;
}
/* out (rows, D) = (accumulate: +=) Σ_k in (rows, K, D), the groups added in order */
void vb_group_sum (float *out, const float *in, int64_t rows, int K, int D, int accumulate);

/* ---- global average pool over tokens: in (B, L, C) → out (B, C) ------------------- */
void vb_avgpool_forward (float *out, const float *in, int B, int L, int C);
void vb_avgpool_backward (float *din, const float *dout, int B, int L, int C);

/* ---- softmax cross-entropy with label smoothing (PyTorch semantics) ---------------
 * target = (1 − ε)·onehot(label) + ε / classes; loss = mean over the batch.
 * probs (B, classes) saved for the backward. Returns the mean loss. */
float vb_softmax_xent_forward (float *probs, const float *logits, const int *labels,
                               int B, int classes, float smoothing);
/* dlogits = (probs − target) / B · dloss  (written) */
void vb_softmax_xent_backward (float *dlogits, const float *probs, const int *labels,
                               int B, int classes, float smoothing, float dloss);

/* ---- drop path (stochastic depth) --------------------------------------------------
 * out[b, :] = in[b, :] · scale[b]; scale[b] ∈ {0, 1/(1−p)} drawn by the caller's RNG, so
 * the kernels stay free of random state. */
void vb_drop_path_forward (float *out, const float *in, const float *scale,
                           int B, int64_t per_sample);
void vb_drop_path_backward (float *din, const float *dout, const float *scale,
                            int B, int64_t per_sample);
/* A residual branch joining the stream, in one pass: out = x + (branch + bias[i % c])·
 * scale[b] for sample b's i-th value (bias NULL: no bias, so the branch's product need
 * not add it; scale NULL: 1, no drop path). out may alias x or branch. Its backward is
 * drop path's (the bias's gradient the column sum of the scaled gradient). */
void vb_residual_add (float *out, const float *x, const float *branch, const float *bias,
                      int c, const float *scale, int B, int64_t per_sample);

/* ---- optimizer -------------------------------------------------------------------
 * PyTorch AdamW (decoupled decay): p −= lr·wd·p; m, v moments; bias-corrected step.
 * step counts from 1. */
void vb_adamw_step (float *param, const float *grad, float *m, float *v, int64_t n,
                    float lr, float beta1, float beta2, float eps, float weight_decay,
                    int64_t step);
/* One step's AdamW scalars, computed as vb_adamw_step computes them (in double, rounded
 * when applied), so that a fused pass over a whole buffer gives the same bits. */
typedef struct {
  float beta1, beta2, eps, decay, step_size, bc2_sqrt, one_m_b1, one_m_b2;
} VbAdamwScalars;
void vb_adamw_scalars (VbAdamwScalars *sc, float lr, float beta1, float beta2, float eps,
                       float weight_decay, int64_t step);
/* AdamW over a whole buffer in one pass: decayed where decay_mask[i] (all, if NULL), the
 * gradient first scaled by the clip factor max_norm / (‖g‖ + 1e-6) where ‖g‖ = √*sumsq
 * exceeds max_norm > 0 (sumsq NULL: no clipping). The same bits as vb_scale then
 * vb_adamw_step per run of equal decay flag. */
void vb_adamw_fused (float *param, const float *grad, float *m, float *v,
                     const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc,
                     const double *sumsq, float max_norm);
/* the clip factor applied to the gradient: 1 when not clipping */
float vb_clip_factor (const double *sumsq, float max_norm);
/* Σ x² in double, in a fixed order (deterministic). */
double vb_sum_squares (const float *x, int64_t n);
void vb_scale (float *x, float s, int64_t n);

/* ---- bf16 storage (precision "bf16": specs/kernels.md §7) ------------------------
 * The block products' operands (weights, the LayerNorm and GELU outputs that feed them,
 * the gradients they multiply) held as bf16: the top 16 bits of an fp32, rounded to
 * nearest-even (NaN stays NaN). Each op is its fp32 op with the bf16 inputs widened
 * (exactly) and every bf16 output rounded once at the end; fp32 outputs stay fp32. These
 * CPU versions are the reference the GPU's are checked against, not a fast path. */
typedef uint16_t VbBf16;

static inline VbBf16
vb_bf16_from_float (float f)
{
  union { float f; uint32_t u; } v = { f };
  if ((v.u & 0x7fffffffu) > 0x7f800000u)   /* NaN: keep it a (quiet) NaN */
    return (VbBf16) ((v.u >> 16) | 0x40u);
  return (VbBf16) ((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

static inline float
vb_bf16_to_float (VbBf16 h)
{
  union { uint32_t u; float f; } v = { (uint32_t) h << 16 };
  return v.f;
}

/* dst[b·per_sample + i] = bf16 (src[...] · scale[b]) (scale NULL: no scaling) */
void vb_to_bf16 (VbBf16 *dst, const float *src, const float *scale, int B, int64_t per_sample);
/* out = in·wᵀ + b as vb_linear_forward, written to exactly one of out (fp32) and out16;
 * into out16 the bias is taken rounded to bf16 (as a bf16 module holds it) */
void vb_linear_forward_bf16 (float *out, VbBf16 *out16, int64_t ld_out, const VbBf16 *in,
                             int64_t ld_in, const VbBf16 *w, const float *b, int64_t n,
                             int in_f, int out_f);
/* as vb_linear_backward: din written (=) to din or din16 (both NULL: skipped), dw and db
 * accumulated (+=) in fp32 */
void vb_linear_backward_bf16 (float *din, VbBf16 *din16, int64_t ld_din, float *dw, float *db,
                              const VbBf16 *dout, int64_t ld_dout, const VbBf16 *in,
                              int64_t ld_in, const VbBf16 *w, int64_t n, int in_f, int out_f);
void vb_layernorm_forward_bf16 (VbBf16 *out, float *mean, float *rstd, const float *in,
                                const float *gamma, const float *beta, int64_t n, int c,
                                float eps);
/* GELU on (rows, c) with the bias b (c) of the product that wrote `in` added first (in
 * fp32; b NULL: none): the bias + GELU epilogue, so the product writes no bias */
void vb_gelu_forward_bf16 (VbBf16 *out, const VbBf16 *in, const float *b, int64_t rows, int c);
/* the backward also sums the bias's gradient when db is not NULL: db += Σ over rows of din
 * as stored (widened), vb_linear_backward_bf16's db for the product that wrote `in` */
void vb_gelu_backward_bf16 (VbBf16 *din, float *db, const VbBf16 *dout, const VbBf16 *in,
                            const float *b, int64_t rows, int c);
/* vb_conv3x3s2_forward / _backward with bf16 products: the tensors stay fp32 (same
 * parameters, layouts and rules: out and din written, dw and db accumulated), the
 * products' operands are rounded to bf16 and accumulate in fp32:
 *   out  = conv (bf16 (in), bf16 (w)) + b
 *   dw  += wgrad (bf16 (in), bf16 (dout))     db += colsum (dout), in fp32, unrounded
 *   din  = dgrad (bf16 (dout), bf16 (w))
 * and the column gradient dcols (bf16 (dout)·bf16 (w), one (pixel, tap) row per output
 * pixel) is stored in bf16 before col2im adds its at most 4 terms per input element in
 * fp32. The reference rounds copies and calls the fp32 ops, rounding dcols likewise. */
void vb_conv3x3s2_forward_bf16 (float *out, const float *in, const float *w, const float *b,
                                int B, int H, int W, int cin, int cout);
void vb_conv3x3s2_backward_bf16 (float *din, float *dw, float *db, const float *dout,
                                 const float *in, const float *w, int B, int H, int W, int cin,
                                 int cout);
/* the Δ products' aligned operands (vb-ops.h ssm_split_xdbl_bf16 and the next three) */
void vb_ssm_split_xdbl_bf16 (float *Bs, float *Cs, VbBf16 *dtlow16, const float *xdbl,
                             int64_t rows, int K, int R, int N, int Rp);
void vb_ssm_join_xdbl_bf16 (VbBf16 *dxdbl16, const float *ddtlow, const float *dBs,
                            const float *dCs, int64_t rows, int K, int R, int N, int Rp);
void vb_pad_cols_bf16 (VbBf16 *dst, const float *src, int64_t rows, int cols, int cols_p);
void vb_unpad_add_cols (float *dst, const float *src, int64_t rows, int cols, int cols_p);
/* vb_ss2d_scan_forward / _backward with the per-group tensors delta, yk, duk, ddelta
 * (B, L, K, D) and the input u (B, L, D) as bf16: u and delta widened, yk, duk, ddelta
 * rounded once where stored (duk, ddelta NULL: skipped); everything else (dy, Bs, Cs, A,
 * Dskip, dbias, their gradients, the state) fp32, as in the plain op */
void vb_ss2d_scan_forward_bf16 (VbBf16 *yk, const VbBf16 *u, const VbBf16 *delta, const float *A,
                                const float *Bs, const float *Cs, const float *Dskip,
                                const float *dbias, int B, int H, int W, int K, int D, int N,
                                VbScanMode mode);
void vb_ss2d_scan_backward_bf16 (VbBf16 *duk, VbBf16 *ddelta, float *dA, float *dBs, float *dCs,
                                 float *dDskip, float *ddbias, const VbBf16 *dy, const VbBf16 *u,
                                 const VbBf16 *delta, const float *A, const float *Bs,
                                 const float *Cs, const float *Dskip, const float *dbias, int B,
                                 int H, int W, int K, int D, int N, VbScanMode mode);
/* vb_group_sum of the widened in (rows, K, D): fp32 sums, the groups added in order */
void vb_group_sum_bf16 (float *out, const VbBf16 *in, int64_t rows, int K, int D,
                        int accumulate);
/* vb_merge_layernorm_forward on bf16 group rows: vb_group_sum_bf16, then
 * vb_layernorm_forward_bf16 */
void vb_merge_bf16_layernorm_forward (float *y, VbBf16 *out16, float *mean, float *rstd,
                                      const VbBf16 *ys16, int K, const float *gamma,
                                      const float *beta, int64_t n, int c, float eps);
/* vb_residual_add (y, x, branch, bias, c, scale, B, n·c / B), then
 * vb_layernorm_forward_bf16 of y: a residual stream's step and the next branch's operand */
void vb_residual_layernorm_forward_bf16 (float *y, VbBf16 *out16, float *mean, float *rstd,
                                         const float *x, const float *branch,
                                         const float *bias, const float *scale, int B,
                                         const float *gamma, const float *beta, int64_t n,
                                         int c, float eps);
/* din16 = vb_layernorm_backward's din (not accumulated; din_work holds it in fp32 on the
 * way) rounded to bf16 */
void vb_layernorm_backward_bf16 (VbBf16 *din16, float *din_work, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *mean,
                                 const float *rstd, const float *gamma, int64_t n, int c);
/* vb_layernorm_backward accumulating into din, then din16 = vb_to_bf16 (din, scale, B,
 * n·c / B): a residual stream's gradient and the next branch's product operand */
void vb_layernorm_backward_acc_bf16 (float *din, VbBf16 *din16, const float *scale, int B,
                                     float *dgamma, float *dbeta, const float *dout,
                                     const float *in, const float *mean, const float *rstd,
                                     const float *gamma, int64_t n, int c);

#ifdef __cplusplus
}
#endif
