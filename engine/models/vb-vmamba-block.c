/* vb-vmamba-block.c: one VSS block, forward and backward (shared/specs/vmamba.md §2.3,
 * §5): the SS2D branch then the MLP branch, each joining the residual stream through drop
 * path. Strict fp32 / TF32, or bf16 storage (vb_vmamba_set_bf16): the products' operands,
 * Δ and the scan's per-route tensors in bf16, the stream and the scan state fp32. Each
 * branch leaves its output in the scratch m->s_o. */
#include "config.h"

#include "vb-vmamba-private.h"

#include "vb-profile.h"

/* The Δ projection's bf16 weight on Rp columns a group: where R is a multiple of 8 already
 * the parameters' own bf16 copy, else the padded copy the forward makes */
static const VbBf16 *
dt_weight16 (const VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
             const VbBlockActs *a)
{
  return s->R == s->Rp ? m->dparams16 + o->dt_w : a->dtw16;
}

/* SS2D: LN → in_proj → depthwise conv + SiLU → x and Δ projections → the scan along every
 * route → their merge → out_norm → out_proj */
static void
ss2d_forward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o, VbBlockActs *a,
              gboolean training, const VbPendingJoin *join)
{
  const float *P = m->dparams;
  int B = m->plan_B, C = s->C, D = s->D, R = s->R, N = s->N, K = s->K, Rp = s->Rp;
  int64_t L = (int64_t) s->H * s->W, BL = B * L, KD = (int64_t) K * D, RN = R + 2 * N;
  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;
  const float *x_in = a->x_in;

  if (bf16)
    {
      if (join != NULL)   /* the block before's MLP branch joins the stream: x_in */
        VB_PROF ("layernorm",
                 OP (residual_layernorm_forward_bf16, join->x_out, a->ln1_16, a->ln1_mean,
                     a->ln1_rstd, join->x_mid, m->s_o, join->fc2_b, join->scale, B,
                     P + o->norm_w, P + o->norm_b, BL, C, LN_EPS));
      else
        VB_PROF ("layernorm",
                 OP (layernorm_forward_bf16, a->ln1_16, a->ln1_mean, a->ln1_rstd, x_in,
                     P + o->norm_w, P + o->norm_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, a->u0, NULL, D, a->ln1_16, C, P16 + o->in_proj, NULL,
                   BL, C, D));
    }
  else
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward, a->ln1, a->ln1_mean, a->ln1_rstd, x_in, P + o->norm_w,
                   P + o->norm_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, a->u0, D, a->ln1, C, P + o->in_proj, NULL, BL, C, D));
    }
  /* u1 = dwconv (u0), u = SiLU (u1) in one pass; in bf16 storage u is kept only as bf16
   * (the x projection's operand and the scan's input) */
  VB_PROF ("dwconv3x3",
           OP (dwconv3x3_silu_forward, a->u1, bf16 ? NULL : a->u, bf16 ? a->u16 : NULL, a->u0,
               P + o->conv, B, s->H, s->W, D));
  /* Everything per token stays in spatial order: the scan reads each group's route
   * through an index map (specs/kernels.md §3), so there are no permuted copies and the
   * K groups' x projections are one product, x_dbl = [W_x[0]; …; W_x[K−1]]·u. */
  if (bf16)
    VB_PROF ("x/dt_proj (GEMM)",
             OP (linear_forward_bf16, a->xdbl, NULL, K * RN, a->u16, D, P16 + o->x_proj, NULL,
                 BL, D, (int) (K * RN)));
  else
    VB_PROF ("x/dt_proj (GEMM)",
             OP (linear_forward, a->xdbl, K * RN, a->u, D, P + o->x_proj, NULL, BL, D,
                 (int) (K * RN)));
  /* dts[k] = W_dt[k]·dt_low[k]; group k's output at the positions it visited, their sum
   * the cross-merge. In bf16 storage Δ and the groups' outputs (K·D values a token) are
   * bf16: their traffic was the largest of the step. */
  float *hck = training ? a->hck : NULL;
  if (bf16)
    {
      /* the Δ products on operands padded to Rp columns a group: cuBLAS's aligned
       * kernels, no copies (the zeros add exact zeros) */
      VB_PROF ("x/dt_proj (GEMM)",
               OP (ssm_split_xdbl_bf16, a->Bs, a->Cs, a->dtlow16, a->xdbl, BL, K, R, N, Rp));
      if (R != Rp)
        VB_PROF ("x/dt_proj (GEMM)",
                 OP (pad_cols_bf16, a->dtw16, P + o->dt_w, KD, R, Rp));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_forward_groups_bf16, a->dts16, KD, D, a->dtlow16, K * Rp, Rp,
                   dt_weight16 (m, s, o, a), (int64_t) D * Rp, K, BL, Rp, D));
      VB_PROF ("selective scan",
               OP (ss2d_scan_forward_bf16, m->s_ys16, hck, a->u16, a->dts16, P + o->A_logs,
                   a->Bs, a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N,
                   m->cfg.scan));
      /* the cross-merge inside the LayerNorm after it: y is written for the backward */
      VB_PROF ("layernorm",
               OP (merge_bf16_layernorm_forward, a->y, a->yln16, a->yln_mean, a->yln_rstd,
                   m->s_ys16, K, P + o->on_w, P + o->on_b, BL, D, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, m->s_o, NULL, C, a->yln16, D, P16 + o->out_proj, NULL,
                   BL, D, C));
    }
  else
    {
      OP (ssm_split_bc, a->Bs, a->Cs, a->xdbl, BL, K, R, N);
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_forward_groups, a->dts, KD, D, a->xdbl, K * RN, RN, P + o->dt_w,
                   (int64_t) D * R, K, BL, R, D));
      VB_PROF ("selective scan",
               OP (ss2d_scan_forward, m->s_ys, hck, a->u, a->dts, P + o->A_logs, a->Bs,
                   a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N, m->cfg.scan));
      /* the cross-merge inside the LayerNorm after it: y is written for the backward */
      VB_PROF ("layernorm",
               OP (merge_layernorm_forward, a->y, a->yln, NULL, a->yln_mean, a->yln_rstd,
                   m->s_ys, K, P + o->on_w, P + o->on_b, BL, D, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, m->s_o, C, a->yln, D, P + o->out_proj, NULL, BL, D, C));
    }
}

/* MLP: LN → fc1 → GELU → fc2, fc2's bias left to the residual add. First the SS2D
 * branch joins the stream: x_mid = x_in + dp1 · s_o (in bf16 storage in the LayerNorm's
 * pass, where the backend has the fused op). */
static void
mlp_forward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o, VbBlockActs *a,
             const float *x_in, const float *dp1)
{
  const float *P = m->dparams;
  int B = m->plan_B, C = s->C, M = s->M;
  int64_t BL = B * (int64_t) s->H * s->W;
  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;

  if (bf16 && m->ops->residual_layernorm_forward_bf16 != NULL)
    VB_PROF ("layernorm",
             OP (residual_layernorm_forward_bf16, a->x_mid, a->ln2_16, a->ln2_mean,
                 a->ln2_rstd, x_in, m->s_o, NULL, dp1, B, P + o->norm2_w, P + o->norm2_b, BL,
                 C, LN_EPS));
  else
    {
      VB_PROF ("add/drop-path",
               OP (residual_add, a->x_mid, x_in, m->s_o, NULL, C, dp1, B, BL / B * C));
      if (bf16)
        VB_PROF ("layernorm",
                 OP (layernorm_forward_bf16, a->ln2_16, a->ln2_mean, a->ln2_rstd, a->x_mid,
                     P + o->norm2_w, P + o->norm2_b, BL, C, LN_EPS));
    }
  if (bf16)
    {
      /* fc1's bias joins in the GELU (bias + GELU epilogue): h1 is kept without it */
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, NULL, a->h1_16, M, a->ln2_16, C, P16 + o->fc1_w, NULL,
                   BL, C, M));
      VB_PROF ("gelu/silu",
               OP (gelu_forward_bf16, a->g16, a->h1_16, P + o->fc1_b, BL, M));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward_bf16, m->s_o, NULL, C, a->g16, M, P16 + o->fc2_w, NULL, BL,
                   M, C));
    }
  else
    {
      VB_PROF ("layernorm",
               OP (layernorm_forward, a->ln2, a->ln2_mean, a->ln2_rstd, a->x_mid,
                   P + o->norm2_w, P + o->norm2_b, BL, C, LN_EPS));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, a->h1, M, a->ln2, C, P + o->fc1_w, P + o->fc1_b, BL, C, M));
      VB_PROF ("gelu/silu",
               OP (gelu_forward, a->g, a->h1, BL * M));
      VB_PROF ("linear (GEMM)",
               OP (linear_forward, m->s_o, C, a->g, M, P + o->fc2_w, NULL, BL, M, C));
    }
}

gboolean
vb_vmamba_block_forward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
                         VbBlockActs *a, const float *x_in, float rate, gboolean training,
                         const VbPendingJoin *join, gboolean has_next, VbPendingJoin *pending)
{
  const float *P = m->dparams;
  int B = m->plan_B, C = s->C;
  int64_t L = (int64_t) s->H * s->W;
  /* each branch joins the stream through drop path in one pass, fc2's bias with it */
  const float *dp1 = training && rate > 0.0f ? a->dp1 : NULL;
  const float *dp2 = training && rate > 0.0f ? a->dp2 : NULL;

  g_assert (join == NULL || (m->bf16 && join->x_out == x_in));
  a->x_in = x_in;
  ss2d_forward (m, s, o, a, training, join);
  mlp_forward (m, s, o, a, x_in, dp1);
  if (has_next && m->bf16 && m->ops->residual_layernorm_forward_bf16 != NULL)
    {
      *pending = (VbPendingJoin) { a->x_out, a->x_mid, P + o->fc2_b, dp2 };
      return TRUE;
    }
  VB_PROF ("add/drop-path",
           OP (residual_add, a->x_out, a->x_mid, m->s_o, P + o->fc2_b, C, dp2, B, L * C));
  return FALSE;
}

/* a branch's share of the stream's gradient dx, drop path applied (scale NULL: none): in
 * bf16 storage rounded once into m->d_br16 for the product (NULL returned), else dx
 * itself or m->d_br */
static const float *
branch_gradient (VbVmamba *m, float *dx, const float *scale, int B, int64_t per_sample)
{
  if (m->bf16)
    {
      OP (to_bf16, m->d_br16, dx, scale, B, per_sample);
      return NULL;
    }
  if (scale == NULL)
    return dx;
  OP (drop_path_backward, m->d_br, dx, scale, B, per_sample);
  return m->d_br;
}

/* A pre-norm LayerNorm's backward, added onto the stream's gradient dx in place (the
 * residual's backward). In bf16 storage with a branch's backward next (next16: TRUE), the
 * same pass also rounds that branch's share (drop path scale; NULL: none) into m->d_br16:
 * TRUE when it did. */
static gboolean
stream_layernorm_backward (VbVmamba *m, float *dx, gboolean next16, const float *scale,
                           float *dgamma, float *dbeta, const float *x, const float *mean,
                           const float *rstd, const float *gamma, int64_t BL, int C)
{
  if (m->bf16 && next16 && m->ops->layernorm_backward_acc_bf16 != NULL)
    {
      VB_PROF ("layernorm",
               OP (layernorm_backward_acc_bf16, dx, m->d_br16, scale, m->plan_B, dgamma, dbeta,
                   m->d_ln, x, mean, rstd, gamma, BL, C));
      return TRUE;
    }
  VB_PROF ("layernorm",
           OP (layernorm_backward, dx, 1, dgamma, dbeta, m->d_ln, x, mean, rstd, gamma, BL, C));
  return FALSE;
}

/* x_out = x_mid + dp (fc2 (gelu (fc1 (ln2 (x_mid))))): dx holds ∂ℓ/∂x_out on entry and
 * ∂ℓ/∂x_mid on return (br16_ready: the branch's share already in m->d_br16). TRUE when
 * the SS2D branch's share of ∂ℓ/∂x_mid (drop path dp1 applied) is left in m->d_br16. */
static gboolean
mlp_backward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
              const VbBlockActs *a, float *dx, gboolean dropping, gboolean br16_ready)
{
  const float *P = m->dparams;
  float *G = m->dgrads;
  int B = m->plan_B, C = s->C, M = s->M;
  int64_t L = (int64_t) s->H * s->W, BL = B * L;
  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;

  const float *dbr = NULL;
  if (!br16_ready)
    VB_PROF ("add/drop-path",
             dbr = branch_gradient (m, dx, dropping ? a->dp2 : NULL, B, L * C));
  if (bf16)
    {
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, NULL, m->d_g16, M, G + o->fc2_w, G + o->fc2_b,
                   m->d_br16, C, a->g16, M, P16 + o->fc2_w, BL, M, C));
      /* fc1's bias gradient summed in the GELU's backward, which writes d_h1 */
      VB_PROF ("gelu/silu",
               OP (gelu_backward_bf16, m->d_h1_16, G + o->fc1_b, m->d_g16, a->h1_16,
                   P + o->fc1_b, BL, M));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, m->d_ln, NULL, C, G + o->fc1_w, NULL, m->d_h1_16, M,
                   a->ln2_16, C, P16 + o->fc1_w, BL, C, M));
    }
  else
    {
      VB_PROF ("linear (GEMM)",
               OP (linear_backward, m->d_g, M, 0, G + o->fc2_w, G + o->fc2_b, dbr, C, a->g, M,
                   P + o->fc2_w, BL, M, C));
      VB_PROF ("gelu/silu",
               OP (gelu_backward, m->d_h1, m->d_g, a->h1, BL * M));
      VB_PROF ("linear (GEMM)",
               OP (linear_backward, m->d_ln, C, 0, G + o->fc1_w, G + o->fc1_b, m->d_h1, M,
                   a->ln2, C, P + o->fc1_w, BL, C, M));
    }
  return stream_layernorm_backward (m, dx, TRUE, dropping ? a->dp1 : NULL, G + o->norm2_w,
                                    G + o->norm2_b, a->x_mid, a->ln2_mean, a->ln2_rstd,
                                    P + o->norm2_w, BL, C);
}

/* x_mid = x_in + dp (out_proj (out_norm (merge (scan (...))))): dx holds ∂ℓ/∂x_mid on
 * entry and ∂ℓ/∂x_in on return (br16_ready: the branch's share already in m->d_br16).
 * next16, next_scale: as stream_layernorm_backward's, for the block before in the stage. */
static gboolean
ss2d_backward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
               const VbBlockActs *a, float *dx, gboolean dropping, gboolean br16_ready,
               gboolean next16, const float *next_scale)
{
  const float *P = m->dparams;
  float *G = m->dgrads;
  int B = m->plan_B, C = s->C, D = s->D, R = s->R, N = s->N, K = s->K, Rp = s->Rp;
  int64_t L = (int64_t) s->H * s->W, BL = B * L, KD = (int64_t) K * D, RN = R + 2 * N;
  const VbBf16 *P16 = m->dparams16;
  gboolean bf16 = m->bf16;

  const float *dbr = NULL;
  if (!br16_ready)
    VB_PROF ("add/drop-path",
             dbr = branch_gradient (m, dx, dropping ? a->dp1 : NULL, B, L * C));
  if (bf16)
    VB_PROF ("linear (GEMM)",
             OP (linear_backward_bf16, m->d_yln, NULL, D, G + o->out_proj, NULL, m->d_br16, C,
                 a->yln16, D, P16 + o->out_proj, BL, D, C));
  else
    VB_PROF ("linear (GEMM)",
             OP (linear_backward, m->d_yln, D, 0, G + o->out_proj, NULL, dbr, C, a->yln, D,
                 P + o->out_proj, BL, D, C));
  /* bf16 storage: the scan reads the gradient as bf16 (specs/kernels.md §4: g), its
   * largest input, read once by every group */
  if (bf16)
    VB_PROF ("layernorm",
             OP (layernorm_backward_bf16, m->d_y16, m->d_y, G + o->on_w, G + o->on_b,
                 m->d_yln, a->y, a->yln_mean, a->yln_rstd, P + o->on_w, BL, D));
  else
    VB_PROF ("layernorm",
             OP (layernorm_backward, m->d_y, 0, G + o->on_w, G + o->on_b, m->d_yln, a->y,
                 a->yln_mean, a->yln_rstd, P + o->on_w, BL, D));
  /* the cross-merge's backward needs no kernel: every group reads d_y at its positions;
   * the scan takes A = −exp (A_logs) as A_logs and returns A_logs's gradient */
  /* then dt_proj, writing the dt_low columns of d_xdbl */
  if (bf16)
    {
      VB_PROF ("selective scan",
               OP (ss2d_scan_backward_bf16, m->d_us16, m->d_dts16, G + o->A_logs, m->d_Bs,
                   m->d_Cs, G + o->Ds, G + o->dt_b, m->d_y16, a->hck, a->u16, a->dts16,
                   P + o->A_logs, a->Bs, a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D,
                   N, m->cfg.scan));
      /* on the forward's padded operands: dt_low's gradient padded too (joined with
       * (dB, dC) below), the weight's summed in padded rows, then added unpadded (R a
       * multiple of 8: no padding, summed in place) */
      float *d_dtw = R == Rp ? G + o->dt_w : m->d_dtw;
      if (R != Rp)
        m->ops->zero (m->ops->ctx, m->d_dtw, KD * Rp * sizeof (float));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_groups_bf16, m->d_dtlow, K * Rp, Rp, d_dtw,
                   (int64_t) D * Rp, m->d_dts16, KD, D, a->dtlow16, K * Rp, Rp,
                   dt_weight16 (m, s, o, a), K, BL, Rp, D));
      if (R != Rp)
        {
          /* the padded sums may be queued (the backend's narrow weight-gradient kernel):
           * they are complete before their columns are added */
          vb_vmamba_param_sums_sync (m);
          VB_PROF ("x/dt_proj (GEMM)",
                   OP (unpad_add_cols, G + o->dt_w, m->d_dtw, KD, R, Rp));
        }
    }
  else
    {
      VB_PROF ("selective scan",
               OP (ss2d_scan_backward, m->d_us, m->d_dts, G + o->A_logs, m->d_Bs, m->d_Cs,
                   G + o->Ds, G + o->dt_b, m->d_y, a->hck, a->u, a->dts, P + o->A_logs,
                   a->Bs, a->Cs, P + o->Ds, P + o->dt_b, B, s->H, s->W, K, D, N,
                   m->cfg.scan));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_groups, m->d_xdbl, K * RN, RN, 0, G + o->dt_w,
                   (int64_t) D * R, m->d_dts, KD, D, a->xdbl, K * RN, RN, P + o->dt_w, K, BL, R,
                   D));
    }
  /* x_proj, all groups in one product: d_u = Σ_k W_x[k]ᵀ·dx_dbl[k] */
  if (bf16)
    {
      VB_PROF ("x/dt_proj (GEMM)",
               OP (ssm_join_xdbl_bf16, m->d_xdbl16, m->d_dtlow, m->d_Bs, m->d_Cs, BL, K, R, N,
                   Rp));
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward_bf16, m->d_u, NULL, D, G + o->x_proj, NULL, m->d_xdbl16,
                   K * RN, a->u16, D, P16 + o->x_proj, BL, D, (int) (K * RN)));
    }
  else
    {
      OP (ssm_join_bc, m->d_xdbl, m->d_Bs, m->d_Cs, BL, K, R, N);
      VB_PROF ("x/dt_proj (GEMM)",
               OP (linear_backward, m->d_u, D, 0, G + o->x_proj, NULL, m->d_xdbl, K * RN,
                   a->u, D, P + o->x_proj, BL, D, (int) (K * RN)));
    }
  /* plus the scan's Σ_k du_k: the cross-scan's backward */
  if (bf16)
    VB_PROF ("cross-scan/merge",
             OP (group_sum_bf16, m->d_u, m->d_us16, BL, K, D, 1));
  else
    VB_PROF ("cross-scan/merge",
             OP (group_sum, m->d_u, m->d_us, BL, K, D, 1));
  /* SiLU's backward inside the depthwise conv's loads; in bf16 storage its input gradient
   * comes out rounded for in_proj's product, with no fp32 copy */
  VB_PROF ("dwconv3x3",
           OP (dwconv3x3_silu_backward, bf16 ? NULL : m->d_u0, bf16 ? m->d_u0_16 : NULL,
               G + o->conv, m->d_u, a->u1, a->u0, P + o->conv, B, s->H, s->W, D));
  if (bf16)
    {
      VB_PROF ("linear (GEMM)",
               OP (linear_backward_bf16, m->d_ln, NULL, C, G + o->in_proj, NULL, m->d_u0_16, D,
                   a->ln1_16, C, P16 + o->in_proj, BL, C, D));
    }
  else
    VB_PROF ("linear (GEMM)",
             OP (linear_backward, m->d_ln, C, 0, G + o->in_proj, NULL, m->d_u0, D, a->ln1, C,
                 P + o->in_proj, BL, C, D));
  return stream_layernorm_backward (m, dx, next16, next_scale, G + o->norm_w, G + o->norm_b,
                                    a->x_in, a->ln1_mean, a->ln1_rstd, P + o->norm_w, BL, C);
}

gboolean
vb_vmamba_block_backward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
                          const VbBlockActs *a, float *dx, float rate, gboolean br16_ready,
                          const VbBlockActs *before, float before_rate)
{
  gboolean ss2d_ready = mlp_backward (m, s, o, a, dx, rate > 0.0f, br16_ready);
  return ss2d_backward (m, s, o, a, dx, rate > 0.0f, ss2d_ready, before != NULL,
                        before != NULL && before_rate > 0.0f ? before->dp2 : NULL);
}
