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
  opt->decay = g_malloc0 (MAX (n, 1));
  memcpy (opt->decay, decay_mask, n);
  opt->sc_host = ops->alloc_host (ops->ctx, sizeof (VbAdamwScalars));
  if (ops->on_host)
    {
      opt->dm = opt->m;
      opt->dv = opt->v;
      opt->ddecay = opt->decay;
      opt->dsc = opt->sc_host;
      opt->dsumsq = g_new0 (double, 1);
    }
  else
    {
      opt->dm = ops->alloc (ops->ctx, MAX (n, 1) * sizeof (float));
      opt->dv = ops->alloc (ops->ctx, MAX (n, 1) * sizeof (float));
      opt->ddecay = ops->alloc (ops->ctx, MAX (n, 1));
      opt->dsc = ops->alloc (ops->ctx, sizeof (VbAdamwScalars));
      opt->dsumsq = ops->alloc (ops->ctx, sizeof (double));
    }
  if (opt->sc_host == NULL || opt->dm == NULL || opt->dv == NULL || opt->ddecay == NULL
      || opt->dsc == NULL || opt->dsumsq == NULL)
    {
      ops->clear_error (ops->ctx);
      vb_adamw_free (opt);
      return NULL;
    }
  if (!ops->on_host)
    ops->upload (ops->ctx, opt->ddecay, opt->decay, n);
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
  const VbOps *ops = opt->ops;
  if (ops->on_host)
    g_free (opt->dsumsq);
  else
    {
      ops->free (ops->ctx, opt->dm);
      ops->free (ops->ctx, opt->dv);
      ops->free (ops->ctx, opt->ddecay);
      ops->free (ops->ctx, opt->dsc);
      ops->free (ops->ctx, opt->dsumsq);
    }
  if (opt->sc_host != NULL)
    ops->free_host (ops->ctx, opt->sc_host);
  g_free (opt->m);
  g_free (opt->v);
  g_free (opt->decay);
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

static void
update (VbAdamW *opt, float *params, const float *grads, float lr, const double *sumsq,
        double max_norm)
{
  const VbOps *ops = opt->ops;
  if (!opt->staged)
    vb_adamw_stage (opt, lr);
  opt->staged = FALSE;
  if (!ops->on_host)
    ops->upload_async (ops->ctx, opt->dsc, opt->sc_host, sizeof (VbAdamwScalars));
  ops->adamw_fused (ops->ctx, params, grads, opt->dm, opt->dv, opt->ddecay, opt->n, opt->dsc,
                    sumsq, (float) max_norm);
}

void
vb_adamw_stage (VbAdamW *opt, float lr)
{
  opt->step++;
  vb_adamw_scalars (opt->sc_host, lr, opt->beta1, opt->beta2, opt->eps, opt->weight_decay,
                    opt->step);
  opt->staged = TRUE;
}

void
vb_adamw_update (VbAdamW *opt, float *params, const float *grads, float lr)
{
  update (opt, params, grads, lr, NULL, 0);
}

void
vb_adamw_update_clipped (VbAdamW *opt, float *params, const float *grads, float lr,
                         double max_norm)
{
  opt->ops->sum_squares_to (opt->ops->ctx, opt->dsumsq, grads, opt->n);
  update (opt, params, grads, lr, opt->dsumsq, max_norm);
}

double
vb_adamw_last_grad_norm (VbAdamW *opt)
{
  double s = 0;
  opt->ops->download (opt->ops->ctx, &s, opt->dsumsq, sizeof s);
  return sqrt (s);
}

double
vb_clip_grad_norm (float *grads, int64_t n, double max_norm)
{
  double sumsq = vb_sum_squares (grads, n);
  float factor = vb_clip_factor (&sumsq, (float) max_norm);
  if (factor != 1.0f)
    vb_scale (grads, factor, n);
  return sqrt (sumsq);
}
