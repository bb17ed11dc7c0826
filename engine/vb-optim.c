#include "config.h"

#include "vb-optim.h"

#include <math.h>
#include <string.h>

#include "vb-cpu-ops.h"

double
vb_lr_at (const VbLrSchedule *s, int64_t step)
{
  if (step < s->warmup_steps)
    return s->warmup_lr + (double) step * (s->lr - s->warmup_lr) / (double) s->warmup_steps;
  int64_t span = s->total_steps - s->warmup_steps;
  if (span <= 0)
    return s->lr;
  double t = (double) (step - s->warmup_steps) / (double) span;
  t = MIN (t, 1.0);
  return s->min_lr + 0.5 * (s->lr - s->min_lr) * (1.0 + cos (G_PI * t));
}

VbAdamW *
vb_adamw_new (int64_t n, const uint8_t *decay_mask, float weight_decay)
{
  VbAdamW *opt = g_new0 (VbAdamW, 1);
  opt->n = n;
  opt->m = g_new0 (float, MAX (n, 1));
  opt->v = g_new0 (float, MAX (n, 1));
  opt->decay = g_memdup2 (decay_mask, n);
  opt->beta1 = 0.9f;
  opt->beta2 = 0.999f;
  opt->eps = 1e-8f;
  opt->weight_decay = weight_decay;
  return opt;
}

void
vb_adamw_free (VbAdamW *opt)
{
  if (opt == NULL)
    return;
  g_free (opt->m);
  g_free (opt->v);
  g_free (opt->decay);
  g_free (opt);
}

void
vb_adamw_update (VbAdamW *opt, float *params, const float *grads, float lr)
{
  opt->step++;
  /* runs of equal decay flag share one kernel call */
  int64_t i = 0;
  while (i < opt->n)
    {
      int64_t j = i;
      while (j < opt->n && opt->decay[j] == opt->decay[i])
        j++;
      vb_adamw_step (params + i, grads + i, opt->m + i, opt->v + i, j - i, lr, opt->beta1,
                     opt->beta2, opt->eps, opt->decay[i] ? opt->weight_decay : 0.0f, opt->step);
      i = j;
    }
}

double
vb_clip_grad_norm (float *grads, int64_t n, double max_norm)
{
  double norm = sqrt (vb_sum_squares (grads, n));
  if (max_norm > 0 && norm > max_norm)
    vb_scale (grads, (float) (max_norm / (norm + 1e-6)), n);
  return norm;
}
