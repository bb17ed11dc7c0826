/* vb-optim.h: AdamW over a model's flat parameter buffer with the official VMamba
 * parameter groups (decay per VbParamInfo.decay), global-norm gradient clipping, and the
 * cosine schedule with a linear warm-up prefix (timm CosineLRScheduler, per iteration). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "vb-ops.h"

G_BEGIN_DECLS

typedef struct {
  double lr;            /* peak learning rate */
  double min_lr;        /* end of the cosine */
  double warmup_lr;     /* start of the warm-up (1e-6 in the official recipe) */
  int64_t warmup_steps;
  int64_t total_steps;
} VbLrSchedule;

double vb_lr_at (const VbLrSchedule *schedule, int64_t step);   /* step counts from 0 */

typedef struct {
  int64_t n;            /* parameters */
  float  *m, *v;        /* moments on the host, owned (checkpoints read and write these) */
  const VbOps *ops;     /* the backend the update runs on */
  float  *dm, *dv;      /* its copies of the moments (m, v themselves on the CPU) */
  uint8_t *decay;       /* per parameter: 1 = weight decay applies */
  uint8_t *ddecay;      /* the backend's copy (decay itself on the CPU) */
  /* one step's scalars, written on the host (page-locked on the GPU) and copied without
   * waiting, and their backend copy; the squared gradient norm in backend memory. One
   * fused pass updates the whole buffer: no value comes back to the host mid-step. */
  VbAdamwScalars *sc_host, *dsc;
  double  *dsumsq;
  gboolean staged;      /* sc_host already holds the next update's scalars */
  int64_t step;         /* optimizer steps taken */
  float beta1, beta2, eps, weight_decay;
} VbAdamW;

/* decay_mask: n bytes (copied). */
VbAdamW *vb_adamw_new  (int64_t n, const uint8_t *decay_mask, float weight_decay);
/* the same on a backend (params and grads then live there); NULL when its memory is short */
VbAdamW *vb_adamw_new_on (const VbOps *ops, int64_t n, const uint8_t *decay_mask,
                          float weight_decay);
void     vb_adamw_free (VbAdamW *opt);
/* One AdamW step over the whole buffer, queued on the backend without waiting; the _clipped
 * form first scales the gradient to a global L2 norm of at most max_norm (≤ 0: none),
 * reading the norm where it was computed. The step's scalars travel asynchronously: sync
 * the backend before the next update (a training step ends with one). */
void     vb_adamw_update (VbAdamW *opt, float *params, const float *grads, float lr);
void     vb_adamw_update_clipped (VbAdamW *opt, float *params, const float *grads, float lr,
                                  double max_norm);
/* The host's share of the next update done ahead (the step count and its scalars, in the
 * staging its copy reads), so that a replayed graph finds them; that update then uses
 * these, whatever its lr. */
void     vb_adamw_stage (VbAdamW *opt, float lr);
/* the gradient norm before clipping of the last _clipped update (after a sync) */
double   vb_adamw_last_grad_norm (VbAdamW *opt);
/* host m, v ← backend (before a checkpoint is written); backend ← host (after one is read) */
void     vb_adamw_moments_from_backend (VbAdamW *opt);
void     vb_adamw_moments_to_backend   (VbAdamW *opt);

/* Scales host grads so their global L2 norm is at most max_norm (≤ 0: no clipping), with
 * vb_clip_factor's arithmetic (the fused update's on a backend). Returns the norm before
 * clipping. */
double   vb_clip_grad_norm (float *grads, int64_t n, double max_norm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbAdamW, vb_adamw_free)

G_END_DECLS
