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
vb_adamw_new_on (const VbOps *ops, int64_t n, const uint8_t *decay_mask, float weight_decay)
{
  VbAdamW *opt = g_new0 (VbAdamW, 1);
  opt->n = n;
  opt->m = g_new0 (float, MAX (n, 1));
  opt->v = g_new0 (float, MAX (n, 1));
  opt->ops = ops;
  opt->decay = g_memdup2 (decay_mask, n);
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (int64_t));
  for (int64_t i = 0; i < n; i++)
    if (i == 0 || decay_mask[i] != decay_mask[i - 1])
      g_array_append_val (runs, i);
  opt->n_runs = runs->len;
  g_array_append_val (runs, n);
  opt->runs = (int64_t *) g_array_free (runs, FALSE);
  if (ops->on_host)
    {
      opt->dm = opt->m;
      opt->dv = opt->v;
    }
  else
    {
      opt->dm = ops->alloc (ops->ctx, MAX (n, 1) * sizeof (float));
      opt->dv = opt->dm != NULL ? ops->alloc (ops->ctx, MAX (n, 1) * sizeof (float)) : NULL;
      if (opt->dv == NULL)
        {
          ops->clear_error (ops->ctx);
          vb_adamw_free (opt);
          return NULL;
        }
    }
  opt->beta1 = 0.9f;
  opt->beta2 = 0.999f;
  opt->eps = 1e-8f;
  opt->weight_decay = weight_decay;
  return opt;
}

VbAdamW *
vb_adamw_new (int64_t n, const uint8_t *decay_mask, float weight_decay)
{
  return vb_adamw_new_on (vb_cpu_ops (), n, decay_mask, weight_decay);
}

void
vb_adamw_free (VbAdamW *opt)
{
  if (opt == NULL)
    return;
  if (!opt->ops->on_host)
    {
      opt->ops->free (opt->ops->ctx, opt->dm);
      opt->ops->free (opt->ops->ctx, opt->dv);
    }
  g_free (opt->m);
  g_free (opt->v);
  g_free (opt->decay);
  g_free (opt->runs);
  g_free (opt);
}

void
vb_adamw_moments_from_backend (VbAdamW *opt)
{
  if (opt->ops->on_host)
    return;
  opt->ops->download (opt->ops->ctx, opt->m, opt->dm, opt->n * sizeof (float));
  opt->ops->download (opt->ops->ctx, opt->v, opt->dv, opt->n * sizeof (float));
}

void
vb_adamw_moments_to_backend (VbAdamW *opt)
{
  if (opt->ops->on_host)
    return;
  opt->ops->upload (opt->ops->ctx, opt->dm, opt->m, opt->n * sizeof (float));
  opt->ops->upload (opt->ops->ctx, opt->dv, opt->v, opt->n * sizeof (float));
}

void
vb_adamw_update (VbAdamW *opt, float *params, const float *grads, float lr)
{
  const VbOps *ops = opt->ops;
  opt->step++;
  /* runs of equal decay flag share one kernel call */
  for (int64_t r = 0; r < opt->n_runs; r++)
    {
      int64_t i = opt->runs[r], len = opt->runs[r + 1] - i;
      ops->adamw_step (ops->ctx, params + i, grads + i, opt->dm + i, opt->dv + i, len, lr,
                       opt->beta1, opt->beta2, opt->eps,
                       opt->decay[i] ? opt->weight_decay : 0.0f, opt->step);
    }
}

double
vb_clip_grad_norm_on (const VbOps *ops, float *grads, int64_t n, double max_norm)
{
  double norm = sqrt (ops->sum_squares (ops->ctx, grads, n));
  if (max_norm > 0 && norm > max_norm)
    ops->scale (ops->ctx, grads, (float) (max_norm / (norm + 1e-6)), n);
  return norm;
}

double
vb_clip_grad_norm (float *grads, int64_t n, double max_norm)
{
  return vb_clip_grad_norm_on (vb_cpu_ops (), grads, n, max_norm);
}
