/* vb-optim.h: AdamW over a model's flat parameter buffer with the official VMamba
 * parameter groups (decay per VbParamInfo.decay), global-norm gradient clipping, and the
 * cosine schedule with a linear warm-up prefix (timm CosineLRScheduler, per iteration). */
#pragma once

#include <glib.h>
#include <stdint.h>

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
  float  *m, *v;        /* moments, owned */
  uint8_t *decay;       /* per parameter: 1 = weight decay applies */
  int64_t step;         /* optimizer steps taken */
  float beta1, beta2, eps, weight_decay;
} VbAdamW;

/* decay_mask: n bytes (copied). */
VbAdamW *vb_adamw_new  (int64_t n, const uint8_t *decay_mask, float weight_decay);
void     vb_adamw_free (VbAdamW *opt);
void     vb_adamw_update (VbAdamW *opt, float *params, const float *grads, float lr);

/* Scales grads so their global L2 norm is at most max_norm (≤ 0: no clipping).
 * Returns the norm before clipping. */
double   vb_clip_grad_norm (float *grads, int64_t n, double max_norm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbAdamW, vb_adamw_free)

G_END_DECLS
