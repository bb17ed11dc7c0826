/* vb-projector-train.c: the projector study's training (clip-projectors.md §4.5): the
 * recipe on one projector over a stage's images, the Mode A loss, pooled predictions, and
 * LoRA's optional trained base. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-optim.h"
#include "vb-projector-study-private.h"
#include "vb-rng.h"

/* cos(z, y) and, when dz is non-NULL, dz = −scale · ∂cos/∂z (the loss is 1 − cos) */
double
vb_study_cosine (const float *z, const float *y, int D, float *dz, double scale)
{
  double zy = 0, zz = 0, yy = 0;
  for (int k = 0; k < D; k++)
    {
      zy += (double) z[k] * y[k];
      zz += (double) z[k] * z[k];
      yy += (double) y[k] * y[k];
    }
  double nz = MAX (sqrt (zz), 1e-8), ny = MAX (sqrt (yy), 1e-8), c = zy / (nz * ny);
  if (dz != NULL)
    for (int k = 0; k < D; k++)
      dz[k] = (float) (-scale * (y[k] / (nz * ny) - c * z[k] / (nz * nz)));
  return c;
}

/* ẑ = mean over tokens of f(x_t) for `count` images: idx[0..count) when idx is given,
 * else the ones from `first`; chunk images a call */
gboolean
vb_study_predict (VbProjector *p, const VbFeatureSet *fs, const int *idx, int first, int count,
                  int chunk, float *x, float *y, float *z, GError **error)
{
  int T = fs->tokens, D = fs->width;
  for (int i0 = 0; i0 < count; i0 += chunk)
    {
      int bs = MIN (chunk, count - i0);
      for (int b = 0; b < bs; b++)
        vb_feature_set_tokens (fs, idx ? idx[i0 + b] : first + i0 + b, x + (gsize) b * T * D);
      if (!vb_projector_forward_host (p, y, x, (int64_t) bs * T, FALSE, error))
        return FALSE;
      for (int b = 0; b < bs; b++)
        {
          float *zb = z + (gsize) (i0 + b) * D;
          memset (zb, 0, sizeof (float) * D);
          for (int t = 0; t < T; t++)
            for (int k = 0; k < D; k++)
              zb[k] += y[((gsize) b * T + t) * D + k];
          for (int k = 0; k < D; k++)
            zb[k] /= T;
        }
    }
  return TRUE;
}

/* validation loss of Mode A: mean 1 − cos(ẑ_i, y of val[i]) */
static double
val_loss (const float *z, const VbFeatureSet *fs, const int *val, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += 1.0 - vb_study_cosine (z + (gsize) i * fs->width, fs->y + (gsize) val[i] * fs->width,
                       fs->width, NULL, 0);
  return n ? s / n : NAN;
}

/* §4.5's recipe on one projector: AdamW with warm-up and cosine decay over the stage's
 * training images, batch order from (seed, epoch), global-norm clipping; the
 * best-validation parameters are left in p */
gboolean
vb_study_train_stage (VbStudyRun *r, VbProjector *p, const VbStudyStage *st,
                      const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                      const VbTrainHooks *hooks, VbProgress *prog, VbStudyStageOutcome *so,
                      GError **error)
{
  int T = r->fs.tokens, D = r->fs.width, B = cfg->batch_size, EB = cfg->eval_batch_size;
  int ntr = st->n_train, nva = st->n_val;
  gboolean recon = cfg->proj.reconstruction;
  int64_t n_train = vb_projector_n_trainable (p), n_params = vb_projector_n_params (p);
  g_autoptr (VbAdamW) opt = vb_adamw_new (n_train, vb_projector_decay_mask (p),
                                          (float) cfg->weight_decay);
  g_autofree float *best = g_new (float, n_params);
  g_autofree int *perm = g_new (int, ntr);
  VbReconMetrics logged_sum = { 0 };

  int steps_per_epoch = (ntr + B - 1) / B;
  VbLrSchedule sched = {
    .lr = cfg->lr, .min_lr = cfg->min_lr, .warmup_lr = cfg->warmup_lr,
    .warmup_steps = (int64_t) llround (cfg->warmup_epochs * steps_per_epoch),
    .total_steps = (int64_t) cfg->epochs * steps_per_epoch,
  };
  *so = (VbStudyStageOutcome) { 0, 0, INFINITY, NAN, { 0 } };
  gint64 start = g_get_monotonic_time ();
  int64_t step = 0;
  prog->total_steps = sched.total_steps;
  prog->step = 0;
  for (int epoch = 0; epoch < cfg->epochs; epoch++)
    {
      prog->phase = st->phase;
      prog->epoch = epoch + 1;
      for (int i = 0; i < ntr; i++)
        perm[i] = i;
      VbRng rng;   /* batch order from (seed, epoch), as §4.5's seeds ask */
      vb_rng_init (&rng, cfg->seed * 0x9e3779b97f4a7c15ULL + (guint64) epoch + 1);
      vb_rng_shuffle_int (&rng, perm, ntr);
      double loss_sum = 0, busy = 0;
      logged_sum = (VbReconMetrics) { 0 };
      for (int i0 = 0; i0 < ntr; i0 += B)
        {
          if (vb_study_cancelled (hooks))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                           "cancelled at step %" G_GINT64_FORMAT, step);
              return FALSE;
            }
          gint64 t0 = g_get_monotonic_time ();
          int bs = MIN (B, ntr - i0);
          for (int b = 0; b < bs; b++)
            vb_feature_set_tokens (&r->fs, st->train[perm[i0 + b]], r->x + (gsize) b * T * D);
          if (!vb_projector_forward_host (p, r->y, r->x, (int64_t) bs * T, TRUE, error))
            return FALSE;
          double loss = 0;
          if (recon)
            {
              VbReconMetrics lg;
              loss = vb_recon_batch (r->y, r->x, (int64_t) bs * T, &r->stats, r->dy, &lg);
              logged_sum.raw_mse += lg.raw_mse * bs;
              logged_sum.cos += lg.cos * bs;
            }
          for (int b = 0; b < bs && !recon; b++)
            {
              float *z = r->dz + (gsize) b * D;   /* ẑ first, then its gradient in place */
              g_autofree float *zb = g_new0 (float, D);
              for (int t = 0; t < T; t++)
                for (int k = 0; k < D; k++)
                  zb[k] += r->y[((gsize) b * T + t) * D + k];
              for (int k = 0; k < D; k++)
                zb[k] /= T;
              const float *yb = r->fs.y + (gsize) st->target[perm[i0 + b]] * D;
              loss += 1.0 - vb_study_cosine (zb, yb, D, z, 1.0 / bs);
              /* the mean over tokens hands each token 1/T of ẑ's gradient */
              for (int t = 0; t < T; t++)
                for (int k = 0; k < D; k++)
                  r->dy[((gsize) b * T + t) * D + k] = z[k] / T;
            }
          if (!recon)
            loss /= bs;
          if (!isfinite (loss))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_DIVERGED,
                           "the loss became %s at step %" G_GINT64_FORMAT " (epoch %d)",
                           isnan (loss) ? "NaN" : "infinite", step, epoch + 1);
              return FALSE;
            }
          vb_projector_zero_grad (p);
          vb_projector_backward_host (p, NULL, r->dy, (int64_t) bs * T);
          /* clipping and AdamW on the host's copies (on a GPU the gradients come down and
           * the updated parameters go back up: a few MB a step) */
          float *grads = vb_projector_grads_from_backend (p);
          if (!vb_projector_backend_ok (p, error))
            return FALSE;
          double gnorm = vb_clip_grad_norm (grads, n_train, cfg->clip_grad);
          double lr = vb_lr_at (&sched, step);
          vb_adamw_update (opt, vb_projector_params (p), grads, (float) lr);
          vb_projector_params_to_backend (p);
          double dt = (g_get_monotonic_time () - t0) / 1e6;
          busy += dt;
          step++;
          loss_sum += loss * bs;
          double elapsed = (g_get_monotonic_time () - start) / 1e6;
          prog->step = step;
          prog->loss = loss;
          prog->lr = lr;
          prog->img_per_s = bs / MAX (dt, 1e-9);
          prog->eta_s = elapsed / step * (sched.total_steps - step);
          vb_study_report (hooks, prog);
          if (st->record && store && run_id > 0)
            {
              VbStepMetric sm = { step, epoch + (double) (i0 + bs) / ntr, loss, lr, gnorm,
                                  bs / MAX (dt, 1e-9), elapsed };
              if (!vb_store_add_step_metric (store, run_id, &sm, error))
                return FALSE;
            }
        }
      /* validation picks the model kept (§4.5: best validation cosine) */
      prog->phase = st->record ? "eval" : st->phase;
      vb_study_report (hooks, prog);
      gint64 e0 = g_get_monotonic_time ();
      double val;   /* §4.5: best validation vb_study_cosine (A) / standardised MSE (B) */
      if (recon)
        {
          VbReconMetrics vm;
          if (!vb_recon_eval (p, &r->fs, st->val, 0, nva, EB, r->x, r->y, &r->stats, &vm,
                              error))
            return FALSE;
          val = vm.std_mse;
        }
      else
        {
          if (!vb_study_predict (p, &r->fs, st->val, 0, nva, EB, r->x, r->y, r->zval, error))
            return FALSE;
          val = val_loss (r->zval, &r->fs, st->val, nva);
        }
      double eval_s = (g_get_monotonic_time () - e0) / 1e6;
      so->train_loss = loss_sum / ntr;
      so->recon_train.raw_mse = logged_sum.raw_mse / ntr;
      so->recon_train.cos = logged_sum.cos / ntr;
      if (val < so->best_val)
        {
          so->best_val = val;
          so->best_epoch = epoch + 1;
          memcpy (best, vb_projector_params (p), sizeof (float) * n_params);
        }
      so->epochs_done = epoch + 1;
      if (st->record && store && run_id > 0)
        {
          VbEpochMetric em = { epoch + 1, so->train_loss, NAN, val, NAN, NAN,
                               busy > 0 ? ntr / busy : NAN, eval_s > 0 ? nva / eval_s : NAN,
                               (g_get_monotonic_time () - start) / 1e6 };
          if (!vb_store_add_epoch_metric (store, run_id, &em, error))
            return FALSE;
        }
    }
  if (so->best_epoch > 0)
    {
      memcpy (vb_projector_params (p), best, sizeof (float) * n_params);
      vb_projector_params_to_backend (p);
    }
  return TRUE;
}

/* §4.5's optional LoRA base: the Linear trained with the run's recipe and seed on the
 * training images of classes 0–4 only (validated on theirs), in the same Mode and with
 * the same targets as the run (Mode B standardises with the whole train split's token
 * statistics, so the base and the adaptation minimise the same loss); its best-validation
 * W and b become LoRA's frozen W₀ and b₀. r->pair is set. */
gboolean
vb_study_train_lora_base (VbStudyRun *r, const VbRunConfig *cfg, const VbOps *ops,
                          const VbTrainHooks *hooks, VbProgress *prog, VbStudyOutcome *o,
                          GError **error)
{
  const VbStudySubset *s = &r->subset;
  int D = r->fs.width, tr0 = s->start[VB_SPLIT_TRAIN], va0 = s->start[VB_SPLIT_VAL];
  g_autofree int *train = g_new (int, s->count[VB_SPLIT_TRAIN]);
  g_autofree int *target = g_new (int, s->count[VB_SPLIT_TRAIN]);
  g_autofree int *val = g_new (int, s->count[VB_SPLIT_VAL]);
  int ntr = 0, nva = 0;
  for (int i = 0; i < s->count[VB_SPLIT_TRAIN]; i++)
    if (g_array_index (s->label, int, tr0 + i) < VB_LORA_BASE_CLASSES)
      {
        train[ntr] = tr0 + i;
        target[ntr++] = tr0 + r->pair[i];
      }
  for (int i = 0; i < s->count[VB_SPLIT_VAL]; i++)
    if (g_array_index (s->label, int, va0 + i) < VB_LORA_BASE_CLASSES)
      val[nva++] = va0 + i;
  if (ntr == 0 || nva == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "LoRA's base (Linear on classes 0–4): the subset has no training or "
                   "validation images of classes 0–4");
      return FALSE;
    }
  VbProjConfig lc;
  if (!vb_projector_study_config ("proj-linear", D, cfg->proj.lora_rank, cfg->proj.lora_alpha,
                                  &lc, error)
      || (r->base = vb_projector_new (&lc, error)) == NULL
      || !vb_projector_use_backend (r->base, ops, error))
    return FALSE;
  vb_projector_init_weights (r->base, cfg->seed);
  VbStudyStage st = { "base", train, target, ntr, val, nva, FALSE };
  VbStudyStageOutcome so;
  if (!vb_study_train_stage (r, r->base, &st, cfg, NULL, 0, hooks, prog, &so, error))
    {
      g_prefix_error (error, "LoRA's base (Linear on classes 0–4): ");
      return FALSE;
    }
  vb_projector_params_from_backend (r->base);
  o->base_train_images = ntr;
  o->base_val_images = nva;
  o->base_best_epoch = so.best_epoch;
  o->base_best_val = so.best_val;
  o->base_train_loss = so.train_loss;
  return vb_projector_set_lora_base (r->p, r->base, error);
}

