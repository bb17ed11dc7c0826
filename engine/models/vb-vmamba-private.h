/* vb-vmamba-private.h: the model struct, shared by the files that build, run and
 * cost a VMamba. Offsets are in floats into the flat parameter (and gradient) buffer. */
#pragma once

#include "vb-ops.h"
#include "vb-vmamba.h"

typedef struct {
  int64_t norm_w, norm_b;
  int64_t in_proj, conv, x_proj, dt_w, dt_b, A_logs, Ds, on_w, on_b, out_proj;
  int64_t norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} VbBlockOffsets;

/* What one VSS block saves for its backward (channel-last, B·L rows). */
typedef struct {
  const float *x_in;                    /* borrowed: previous block's x_out or stage input */
  float *ln1, *ln1_mean, *ln1_rstd;     /* (BL, C) */
  float *u0, *u1, *u;                   /* (BL, D): in_proj output, depthwise conv output, SiLU */
  float *dts;                           /* (BL, K, D) raw Δ, spatial order */
  float *hck;                           /* the scan's state checkpoints (vb_scan_ckpt_floats) */
  float *xdbl;                          /* (BL, K·(R+2N)) */
  float *Bs, *Cs;                       /* (BL, K, N) */
  float *y, *yln, *yln_mean, *yln_rstd; /* (BL, D) merged scan output, out_norm output */
  float *x_mid;                         /* (BL, C) after the SS2D residual */
  float *ln2, *ln2_mean, *ln2_rstd;     /* (BL, C) */
  float *h1, *g;                        /* (BL, M) fc1 output, GELU output */
  float *x_out;                         /* (BL, C) */
  /* bf16 storage: the block products' activation operands in bf16 instead (ln1, yln, ln2,
   * h1, g, u are then NULL; the scan reads u16 too), Δ itself in bf16 (dts is then NULL),
   * and the Δ projection's operands zero-padded to Rp columns a group (aligned for
   * cuBLAS: vb-ops.h ssm_split_xdbl_bf16): x_dbl's dt_low columns (BL, K·Rp) and dt_proj's
   * weight rounded once a forward (K·D, Rp) */
  VbBf16 *ln1_16, *u16, *yln16, *ln2_16, *h1_16, *g16, *dtlow16, *dtw16, *dts16;
  float *dp1, *dp2;                     /* (B) drop-path scales, NULL at evaluation */
} VbBlockActs;

typedef struct {
  int H, W;                             /* map size of each stage */
  int C, D, R, N, K, M;
  int Rp;                               /* R rounded up to 8: the Δ products' padded width */
} VbStageShape;

struct _VbVmamba {
  VbVmambaConfig cfg;
  GPtrArray *tensors;                   /* VbParamInfo*, official order */
  GHashTable *by_name;
  int64_t n_params;
  float *params, *grads;                /* host: init, load, save, tests */
  /* the backend every op runs on (the CPU unless vb_vmamba_use_backend), and its copies of
   * the parameters and gradients (the host buffers themselves on the CPU) */
  const VbOps *ops;
  float *dparams, *dgrads;
  /* bf16 storage of the block products' operands (vb_vmamba_set_bf16): the weights'
   * bf16 copy in backend memory, refreshed from dparams at every forward */
  gboolean bf16;
  VbBf16 *dparams16;

  /* parameter offsets */
  int64_t stem_c1_w, stem_c1_b, stem_ln1_w, stem_ln1_b, stem_c2_w, stem_c2_b, stem_ln2_w, stem_ln2_b;
  VbBlockOffsets *blocks[VB_VMAMBA_MAX_STAGES];
  int64_t down_w[VB_VMAMBA_MAX_STAGES], down_b[VB_VMAMBA_MAX_STAGES];
  int64_t down_ln_w[VB_VMAMBA_MAX_STAGES], down_ln_b[VB_VMAMBA_MAX_STAGES];
  int64_t head_ln_w, head_ln_b, head_w, head_b;
  float drop_rate[VB_VMAMBA_MAX_STAGES][64];   /* per block */

  /* the plan: buffers for one (B, H, W) */
  int plan_B, plan_H, plan_W;
  guint64 plan_id;                      /* changes with every new plan: its buffers moved */
  gboolean plan_training;               /* the plan holds the backward's buffers too */
  float *plan_arena;                    /* everything below, one allocation (backend memory) */
  VbStageShape stage[VB_VMAMBA_MAX_STAGES];
  int H1, W1;                           /* after the first stem conv */
  float *images;                        /* (B, H, W, in) copy of the input */
  float *s_c1, *s_ln1, *s_ln1_mean, *s_ln1_rstd, *s_g, *s_c2;
  float *stage_in[VB_VMAMBA_MAX_STAGES], *stage_in_mean[VB_VMAMBA_MAX_STAGES],
        *stage_in_rstd[VB_VMAMBA_MAX_STAGES];
  float *down_c[VB_VMAMBA_MAX_STAGES];  /* downsample conv output before its LN */
  VbBlockActs *acts[VB_VMAMBA_MAX_STAGES];
  float *head_ln, *head_mean, *head_rstd, *pooled, *logits, *probs;
  int *labels;                          /* backend memory */
  float *logits_host;                   /* host copy of the logits (B, classes) */
  gboolean logits_stale;                /* a training forward left them on the backend */
  float *loss;                          /* the last loss (backend memory, one float) */
  float *dp_all;                        /* every block's (dp1, dp2), in block order (backend) */
  /* host staging the backend copies from without waiting (page-locked on the GPU; on the
   * CPU the input stages in `images` itself): drop-path scales, labels, the input */
  float *dp_host;
  int *labels_host;
  float *images_host;
  int shard_offset, shard_global;      /* data parallel: rows of a global batch (0, 0: none) */
  VbGradReadyFunc grad_ready;          /* told as the backward finishes gradient suffixes */
  gpointer grad_ready_data;
  gboolean dp_staged;                   /* dp_host already drawn for the next forward */
  float smoothing;
  gboolean have_backward_state;         /* last forward was in training mode */

  /* scratch shared by all blocks (sized for the largest) */
  float *s_ys, *s_o;
  float *d_x, *d_x2, *d_tmp, *d_br, *d_ln, *d_g, *d_h1, *d_yln, *d_y, *d_us, *d_dts,
        *d_xdbl, *d_Bs, *d_Cs, *d_u, *d_u0, *d_pooled, *d_logits;
  /* bf16 storage: the gradients entering the block products (d_g, d_h1 are then NULL),
   * and the scan's per-route outputs and gradients (s_ys, d_us, d_dts are then NULL) */
  VbBf16 *d_br16, *d_g16, *d_h1_16, *d_xdbl16, *d_u0_16, *s_ys16, *d_us16, *d_dts16, *d_y16;
  /* bf16 storage: the Δ projection's padded gradients, dt_low's (BL, K·Rp) and the
   * weight's (K·D, Rp) (d_xdbl is then NULL: x_dbl's gradient is d_xdbl16 alone) */
  float *d_dtlow, *d_dtw;
};

/* every op goes through the model's backend table (a VbVmamba *m in scope) */
#define OP(name, ...) m->ops->name (m->ops->ctx, __VA_ARGS__)
#define LN_EPS 1e-5f

/* A block's MLP branch not yet added to the stream: x_out = x_mid + scale · (m->s_o +
 * fc2_b), done by the next block of the stage in its first LayerNorm's pass */
typedef struct
{
  float *x_out;
  const float *x_mid, *fc2_b, *scale;
} VbPendingJoin;

/* vb-vmamba-block.c: one VSS block's forward (x_in → a->x_out, saving what its backward
 * reads) and backward (dx holds ∂ℓ/∂x_out on entry and ∂ℓ/∂x_in on return). join: the
 * block before's pending branch, whose sum is x_in (NULL: x_in is complete). With a next
 * block in the stage (has_next) the block may leave its own MLP branch pending: TRUE, and
 * *pending filled, when it did. */
gboolean vb_vmamba_block_forward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
                                  VbBlockActs *a, const float *x_in, float rate,
                                  gboolean training, const VbPendingJoin *join,
                                  gboolean has_next, VbPendingJoin *pending);
/* the backend's queued parameter sums run now and the queue reopens: for a gradient
 * read before the backward's end (vb-vmamba.c) */
void vb_vmamba_param_sums_sync (VbVmamba *m);
/* br16_ready: the MLP branch's bf16 gradient operand already in m->d_br16; before: the
 * block before this one in its stage (NULL: none), whose MLP operand the last LayerNorm
 * backward may write: TRUE when it did */
gboolean vb_vmamba_block_backward (VbVmamba *m, const VbStageShape *s, const VbBlockOffsets *o,
                                   const VbBlockActs *a, float *dx, float rate,
                                   gboolean br16_ready, const VbBlockActs *before,
                                   float before_rate);

/* vb-vmamba-params.c */
gboolean vb_vmamba_build_tensors (VbVmamba *model, GError **error);

/* vb-vmamba-plan.c: sizes every buffer for (B, H, W) in the model's backend memory; with
 * model == NULL only counts the bytes of saved activations (for
 * vb_vmamba_activation_bytes, in bf16 storage when bf16). Without training, the backward's buffers are left out
 * (an evaluation-only plan). −1 when an allocation failed (the plan is then empty). */
int64_t  vb_vmamba_plan (VbVmamba *model, const VbVmambaConfig *cfg, int B, int H, int W,
                         gboolean training, gboolean bf16);
void     vb_vmamba_plan_clear (VbVmamba *model);
void     vb_vmamba_stage_shapes (const VbVmambaConfig *cfg, int H, int W, int *H1, int *W1,
                                 VbStageShape *stages);
