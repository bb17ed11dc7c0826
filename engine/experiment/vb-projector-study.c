/* vb-projector-study.c: one projector-study run: features, Mode A or Mode B training,
 * test evaluation, the §4.6 controls, runtime and the records (clip-projectors.md
 * §4.1–§4.6, §5). */
#include "config.h"

#include "vb-projector-study.h"

#include <math.h>
#include <string.h>

#include "vb-clip.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-feature-cache.h"
#include "vb-optim.h"
#include "vb-projector-study-private.h"
#include "vb-rng.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static gboolean
cancelled (const VbTrainHooks *hooks)
{
  return hooks && hooks->should_cancel && hooks->should_cancel (hooks->user_data);
}

static void
report (const VbTrainHooks *hooks, const VbProgress *p)
{
  if (hooks && hooks->progress)
    hooks->progress (p, hooks->user_data);
}

/* The study's shapes at the encoder width D: §3 defines them at D = 1024 (MLP hidden
 * 2·D, LowRank rank D/4); a small test encoder keeps the same ratios. */
gboolean
vb_projector_study_config (const char *name, int D, int lora_rank, double lora_alpha,
                           VbProjConfig *pc, GError **error)
{
  if (!vb_projector_config_from_name (name, pc, error))
    return FALSE;
  pc->in_f = pc->out_f = D;
  if (pc->kind == VB_PROJ_MLP)
    pc->hidden = 2 * D;
  else if (pc->kind == VB_PROJ_LOWRANK)
    pc->rank = MAX (1, D / 4);
  else if (pc->kind == VB_PROJ_LORA)
    {
      pc->rank = lora_rank;
      pc->alpha = (float) lora_alpha;
    }
  return vb_projector_config_validate (pc, error);
}

static gboolean
projector_config (const VbRunConfig *cfg, int D, VbProjConfig *pc, GError **error)
{
  return vb_projector_study_config (cfg->proj.projector, D, cfg->proj.lora_rank,
                                    cfg->proj.lora_alpha, pc, error);
}

/* cos(z, y) and, when dz is non-NULL, dz = −scale · ∂cos/∂z (the loss is 1 − cos) */
static double
cosine (const float *z, const float *y, int D, float *dz, double scale)
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
static gboolean
predict (VbProjector *p, const VbFeatureSet *fs, const int *idx, int first, int count,
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

static double
mean_loss (const float *z, const float *y, int n, int D)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += 1.0 - cosine (z + (gsize) i * D, y + (gsize) i * D, D, NULL, 0);
  return n ? s / n : NAN;
}

/* §4.3: cosine, and MSE and R² of targets standardised per dimension with the train
 * split's statistics (raw MSE would be ruled by a few large dimensions) */
static VbStudyMetrics
test_metrics (const float *z, const float *y, int n, const float *ytrain, int n_train, int D)
{
  VbStudyMetrics m = { mean_loss (z, y, n, D), 0, 0, 0 };
  m.cos = 1.0 - m.loss;
  double se = 0, ss = 0;
  for (int k = 0; k < D; k++)
    {
      double s = 0, s2 = 0, t = 0;
      for (int i = 0; i < n_train; i++)
        {
          double v = ytrain[(gsize) i * D + k];
          s += v;
          s2 += v * v;
        }
      double mu = s / n_train, sd = sqrt (MAX (s2 / n_train - mu * mu, 0.0) + 1e-12);
      for (int i = 0; i < n; i++)
        t += (y[(gsize) i * D + k] - mu) / sd;
      double tmean = t / n;
      for (int i = 0; i < n; i++)
        {
          double ys = (y[(gsize) i * D + k] - mu) / sd, zs = (z[(gsize) i * D + k] - mu) / sd;
          se += (zs - ys) * (zs - ys);
          ss += (ys - tmean) * (ys - tmean);
        }
    }
  m.std_mse = se / ((double) n * D);
  m.r2 = ss > 0 ? 1.0 - se / ss : NAN;
  return m;
}

/* x̄ per image: the ridge control's input (mean pooling commutes with a linear map) */
static float *
pooled_tokens (const VbFeatureSet *fs, int first, int count)
{
  int T = fs->tokens, D = fs->width;
  float *out = g_new0 (float, (gsize) count * D);
  g_autofree float *x = g_new (float, (gsize) T * D);
  for (int i = 0; i < count; i++)
    {
      vb_feature_set_tokens (fs, first + i, x);
      for (int t = 0; t < T; t++)
        for (int k = 0; k < D; k++)
          out[(gsize) i * D + k] += x[(gsize) t * D + k] / T;
    }
  return out;
}

/* rows scaled to unit norm: the target-space head below is, like zero-shot, blind to
 * ẑ's norm (Mode A's loss leaves it free) */
static float *
unit_rows (const float *v, int n, int D)
{
  float *out = g_new (float, (gsize) n * D);
  for (int i = 0; i < n; i++)
    {
      double s = 0;
      for (int k = 0; k < D; k++)
        s += (double) v[(gsize) i * D + k] * v[(gsize) i * D + k];
      double inv = 1.0 / MAX (sqrt (s), 1e-12);
      for (int k = 0; k < D; k++)
        out[(gsize) i * D + k] = (float) (v[(gsize) i * D + k] * inv);
    }
  return out;
}

/* the zero-shot stand-in a shuffled-pair run can fail: a probe fixed in target space
 * (trained on train-split y), applied to test ẑ. The ẑ probe cannot fail that way: it is
 * retrained on ẑ and recovers classes from any invertible f. */
static double
target_head_accuracy (const float *ytrain, const int *ltrain, int ntr, const float *ztest,
                      const int *ltest, int nte, int D, int classes)
{
  g_autofree float *yu = unit_rows (ytrain, ntr, D);
  g_autofree float *zu = unit_rows (ztest, nte, D);
  return vb_linear_probe_accuracy (yu, ltrain, ntr, zu, ltest, nte, D, classes);
}

/* §5 inputs: the cached features of the first inputs/classes test images of each class,
 * or seeded synthetic tokens when the test split is smaller (content does not change a
 * dense forward's cost) */
static float *
runtime_inputs (const VbStudySubset *s, const VbFeatureSet *fs, int inputs, guint64 seed,
                const char **source)
{
  int T = fs->tokens, D = fs->width, nc = s->n_classes;
  float *x = g_new (float, (gsize) inputs * T * D);
  int per = inputs / MAX (nc, 1);
  if (inputs % nc == 0 && per <= s->count[VB_SPLIT_TEST])
    {
      g_autofree int *seen = g_new0 (int, nc);
      int k = 0;
      for (int i = 0; i < s->count[VB_SPLIT_TEST] && k < inputs; i++)
        {
          int idx = s->start[VB_SPLIT_TEST] + i, c = g_array_index (s->label, int, idx);
          if (seen[c]++ < per)
            vb_feature_set_tokens (fs, idx, x + (gsize) (k++) * T * D);
        }
      *source = "cached features of the first test images of each class";
      return x;
    }
  VbRng rng;
  vb_rng_init (&rng, seed ^ 0x5eed5eedULL);
  for (gsize q = 0; q < (gsize) inputs * T * D; q++)
    x[q] = vb_rng_normal (&rng);
  *source = "synthetic N(0, 1) tokens (the test split has too few images per class)";
  return x;
}

/* ---- the run ----------------------------------------------------------------------------- */

typedef struct {
  VbStudySubset subset;
  VbFeatureSet fs;
  VbProjector *p;
  VbProjector *base;           /* LoRA on a trained base: that Linear, as its stage left it */
  float *x, *y, *dy, *dz, *ztrain, *zval, *ztest, *rt;
  float *rt_dev;               /* a GPU's copy of rt, and the table it came from */
  const VbOps *rt_ops;
  int *pair;
  VbTokenStats stats;   /* Mode B */
} Run;

static void
run_clear (Run *r)
{
  vb_study_subset_clear (&r->subset);
  vb_feature_set_clear (&r->fs);
  g_clear_pointer (&r->p, vb_projector_free);
  g_clear_pointer (&r->base, vb_projector_free);
  g_free (r->x);
  g_free (r->y);
  g_free (r->dy);
  g_free (r->dz);
  g_free (r->ztrain);
  g_free (r->zval);
  g_free (r->ztest);
  g_free (r->rt);
  if (r->rt_dev != NULL)
    r->rt_ops->free (r->rt_ops->ctx, r->rt_dev);
  g_free (r->pair);
  vb_token_stats_clear (&r->stats);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static const int *
labels_of (const VbStudySubset *s, VbStudySplit split)
{
  return &g_array_index (s->label, int, s->start[split]);
}

static gboolean
record_runtime (VbStore *store, gint64 run_id, const char *kind, double ms, int inputs,
                JsonNode *card, GError **error)
{
  if (store == NULL || run_id <= 0)
    return TRUE;
  g_autofree char *json = json_to_string (card, FALSE);
  return vb_store_add_throughput (store, run_id, kind, ms > 0 ? inputs / (ms / 1e3) : 0, json,
                                  error);
}

/* Mode A's test metrics, the probes and the §4.6 controls, the kept model in r->p */
static gboolean
evaluate_alignment (Run *r, VbStudyOutcome *o, int EB, GError **error)
{
  int D = r->fs.width, nc = r->subset.n_classes;
  int ntr = r->subset.count[VB_SPLIT_TRAIN], nte = r->subset.count[VB_SPLIT_TEST];
  const float *ytr = r->fs.y + (gsize) r->subset.start[VB_SPLIT_TRAIN] * D;
  const float *yte = r->fs.y + (gsize) r->subset.start[VB_SPLIT_TEST] * D;
  int tr0 = r->subset.start[VB_SPLIT_TRAIN], te0 = r->subset.start[VB_SPLIT_TEST];
  const int *ltr = labels_of (&r->subset, VB_SPLIT_TRAIN);
  const int *lte = labels_of (&r->subset, VB_SPLIT_TEST);
  if (!predict (r->p, &r->fs, NULL, tr0, ntr, EB, r->x, r->y, r->ztrain, error)
      || !predict (r->p, &r->fs, NULL, te0, nte, EB, r->x, r->y, r->ztest, error))
    return FALSE;
  o->test = test_metrics (r->ztest, yte, nte, ytr, ntr, D);
  o->train_std_mse = test_metrics (r->ztrain, ytr, ntr, ytr, ntr, D).std_mse;
  o->probe_z = vb_linear_probe_accuracy (r->ztrain, ltr, ntr, r->ztest, lte, nte, D, nc);
  o->probe_y = vb_linear_probe_accuracy (ytr, ltr, ntr, yte, lte, nte, D, nc);
  o->head_z = target_head_accuracy (ytr, ltr, ntr, r->ztest, lte, nte, D, nc);
  o->head_y = target_head_accuracy (ytr, ltr, ntr, yte, lte, nte, D, nc);
  /* §4.6 identity control: ẑ = mean of the raw tokens */
  {
    VbProjConfig ic = { .kind = VB_PROJ_LORA, .in_f = D, .out_f = D, .rank = 1, .alpha = 1 };
    g_autoptr (VbProjector) id = vb_projector_new (&ic, error);
    if (id == NULL)
      return FALSE;
    vb_projector_init_weights (id, 0);   /* LoRA with B = 0 is its identity base */
    if (!predict (id, &r->fs, NULL, tr0, ntr, EB, r->x, r->y, r->ztrain, error)
        || !predict (id, &r->fs, NULL, te0, nte, EB, r->x, r->y, r->ztest, error))
      return FALSE;
    o->identity = test_metrics (r->ztest, yte, nte, ytr, ntr, D);
    o->probe_identity = vb_linear_probe_accuracy (r->ztrain, ltr, ntr, r->ztest, lte, nte, D,
                                                  nc);
  }
  /* §4.6 ridge control, on the true pairs even in a shuffled run: the optimum it shows */
  {
    g_autofree float *xtr = pooled_tokens (&r->fs, tr0, ntr);
    g_autofree float *xte = pooled_tokens (&r->fs, te0, nte);
    g_auto (VbRidge) ridge = { 0 };
    if (!vb_ridge_fit (&ridge, xtr, ytr, ntr, D, error))
      return FALSE;
    o->ridge_lambda = ridge.lambda;
    o->ridge_residual = vb_ridge_normal_residual (&ridge, xtr, ytr, ntr);
    vb_ridge_predict (&ridge, xtr, ntr, r->ztrain);
    vb_ridge_predict (&ridge, xte, nte, r->ztest);
    o->ridge_train_std_mse = test_metrics (r->ztrain, ytr, ntr, ytr, ntr, D).std_mse;
    o->ridge = test_metrics (r->ztest, yte, nte, ytr, ntr, D);
    o->probe_ridge = vb_linear_probe_accuracy (r->ztrain, ltr, ntr, r->ztest, lte, nte, D, nc);
    o->head_ridge = target_head_accuracy (ytr, ltr, ntr, r->ztest, lte, nte, D, nc);
    /* §4.6 reduced-rank control at LowRank's own rank (D/4: 256 at D = 1024), only on
     * LowRank runs: it answers their question, and the eigen solve costs seconds */
    const VbProjConfig *pc = vb_projector_config (r->p);
    if (pc->kind == VB_PROJ_LOWRANK)
      {
        g_auto (VbRidge) rrr = { 0 };
        o->rrr_rank = MIN (pc->rank, D);
        if (!vb_rrr_fit (&rrr, &ridge, xtr, ntr, o->rrr_rank, &o->rrr_eig, error))
          return FALSE;
        vb_ridge_predict (&rrr, xtr, ntr, r->ztrain);
        vb_ridge_predict (&rrr, xte, nte, r->ztest);
        o->rrr_train_std_mse = test_metrics (r->ztrain, ytr, ntr, ytr, ntr, D).std_mse;
        o->rrr = test_metrics (r->ztest, yte, nte, ytr, ntr, D);
        o->probe_rrr = vb_linear_probe_accuracy (r->ztrain, ltr, ntr, r->ztest, lte, nte, D,
                                                 nc);
        o->head_rrr = target_head_accuracy (ytr, ltr, ntr, r->ztest, lte, nte, D, nc);
      }
  }
  return TRUE;
}

/* The images one training stage sees, as feature-set indices: its training images, the
 * image whose target each one trains against (Mode A; itself unless the pairs are
 * shuffled) and its validation images. */
typedef struct {
  const char *phase;          /* progress: "train", or "base" for LoRA's trained base */
  const int  *train, *target;
  int         n_train;
  const int  *val;
  int         n_val;
  gboolean    record;         /* step and epoch metrics into the store (the run's own) */
} Stage;

typedef struct {
  int            best_epoch, epochs_done;
  double         best_val, train_loss;
  VbReconMetrics recon_train;   /* Mode B: the last epoch's logged means */
} StageOutcome;

/* validation loss of Mode A: mean 1 − cos(ẑ_i, y of val[i]) */
static double
val_loss (const float *z, const VbFeatureSet *fs, const int *val, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += 1.0 - cosine (z + (gsize) i * fs->width, fs->y + (gsize) val[i] * fs->width,
                       fs->width, NULL, 0);
  return n ? s / n : NAN;
}

/* §4.5's recipe on one projector: AdamW with warm-up and cosine decay over the stage's
 * training images, batch order from (seed, epoch), global-norm clipping; the
 * best-validation parameters are left in p */
static gboolean
train_stage (Run *r, VbProjector *p, const Stage *st, const VbRunConfig *cfg, VbStore *store,
             gint64 run_id, const VbTrainHooks *hooks, VbProgress *prog, StageOutcome *so,
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
  *so = (StageOutcome) { 0, 0, INFINITY, NAN, { 0 } };
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
          if (cancelled (hooks))
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
              loss += 1.0 - cosine (zb, yb, D, z, 1.0 / bs);
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
          report (hooks, prog);
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
      report (hooks, prog);
      gint64 e0 = g_get_monotonic_time ();
      double val;   /* §4.5: best validation cosine (A) / standardised MSE (B) */
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
          if (!predict (p, &r->fs, st->val, 0, nva, EB, r->x, r->y, r->zval, error))
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
static gboolean
train_lora_base (Run *r, const VbRunConfig *cfg, const VbOps *ops, const VbTrainHooks *hooks,
                 VbProgress *prog, VbStudyOutcome *o, GError **error)
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
  Stage st = { "base", train, target, ntr, val, nva, FALSE };
  StageOutcome so;
  if (!train_stage (r, r->base, &st, cfg, NULL, 0, hooks, prog, &so, error))
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

gboolean
vb_projector_study_run (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                        const char *run_dir, const VbTrainHooks *hooks, VbTrainResult *result,
                        GError **error)
{
  return vb_projector_study_run_full (cfg, store, run_id, run_dir, hooks, result, NULL, NULL,
                                      error);
}

gboolean
vb_projector_study_run_full (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                             const char *run_dir, const VbTrainHooks *hooks,
                             VbTrainResult *result, VbProjector **kept, VbProjector **base,
                             GError **error)
{
  memset (result, 0, sizeof *result);
  result->top1 = result->top5 = NAN;
  vb_set_num_threads (cfg->threads);
  const VbProjStudyConfig *pcfg = &cfg->proj;
  VbProgress prog = { .phase = "load", .epochs = cfg->epochs, .val_top1 = NAN };
  report (hooks, &prog);

  g_auto (Run) r = { 0 };
  if (!vb_study_subset_load (&r.subset, cfg->data_path, pcfg->train_per_class,
                             pcfg->val_per_class, pcfg->test_per_class, error))
    return FALSE;
  result->dataset_fingerprint = g_strdup (r.subset.fingerprint);
  if (store && run_id > 0)
    vb_store_set_dataset_fingerprint (store, run_id, r.subset.fingerprint, NULL);

  /* the encoder and the projector run on the run's device (the runner has already
   * fallen back to the CPU, with a note, where no GPU is usable) */
  const VbOps *ops = vb_device_ops (cfg->device, error);
  if (ops == NULL)
    return FALSE;
  VbFeatureEncoder enc = { pcfg->clip_weights, pcfg->clip_seed, cfg->img_size,
                           pcfg->clip_layers, pcfg->clip_width, pcfg->clip_heads,
                           pcfg->extract_batch, ops };
  if (!vb_feature_set_get (&r.subset, &enc, hooks, &r.fs, error))
    return FALSE;
  int T = r.fs.tokens, D = r.fs.width;

  VbProjConfig pc;
  if (!projector_config (cfg, D, &pc, error) || (r.p = vb_projector_new (&pc, error)) == NULL
      || !vb_projector_use_backend (r.p, ops, error))
    return FALSE;
  vb_projector_init_weights (r.p, cfg->seed);
  result->params = vb_projector_n_params (r.p);
  result->macs = vb_projector_macs_per_token (&pc, FALSE) * T;
  if (store && run_id > 0)
    vb_store_set_run_stats (store, run_id, result->params, result->macs, NULL);

  int B = cfg->batch_size, EB = cfg->eval_batch_size, bmax = MAX (B, EB);
  int ntr = r.subset.count[VB_SPLIT_TRAIN], nva = r.subset.count[VB_SPLIT_VAL];
  int nte = r.subset.count[VB_SPLIT_TEST];
  r.x = g_new (float, (gsize) bmax * T * D);
  r.y = g_new (float, (gsize) bmax * T * D);
  r.dy = g_new (float, (gsize) B * T * D);
  r.dz = g_new (float, (gsize) B * D);
  r.ztrain = g_new (float, (gsize) ntr * D);
  r.zval = g_new (float, (gsize) nva * D);
  r.ztest = g_new (float, (gsize) nte * D);
  r.pair = g_new (int, ntr);   /* image i trains against y of image pair[i] */
  for (int i = 0; i < ntr; i++)
    r.pair[i] = i;
  if (pcfg->shuffled_pairs)
    {
      VbRng prng;   /* its own stream: the batch order stays that of the normal run */
      vb_rng_init (&prng, cfg->seed ^ 0x5ff1ed5a1125ULL);
      vb_rng_shuffle_int (&prng, r.pair, ntr);
    }
  gboolean recon = pcfg->reconstruction;
  if (recon)
    vb_token_stats_compute (&r.stats, &r.fs, r.subset.start[VB_SPLIT_TRAIN], ntr);

  VbStudyOutcome o = { cfg, &r.fs, &r.subset, r.p, 0, INFINITY, NAN };
  o.lora_base = pc.kind == VB_PROJ_LORA ? pcfg->lora_base : VB_LORA_BASE_IDENTITY;
  if (o.lora_base == VB_LORA_BASE_LINEAR_0_4
      && !train_lora_base (&r, cfg, ops, hooks, &prog, &o, error))
    return FALSE;

  /* the run's own stage: every training image against its target, all validation images */
  int tr0 = r.subset.start[VB_SPLIT_TRAIN], va0 = r.subset.start[VB_SPLIT_VAL];
  g_autofree int *train = g_new (int, ntr);
  g_autofree int *target = g_new (int, ntr);
  g_autofree int *val = g_new (int, nva);
  for (int i = 0; i < ntr; i++)
    {
      train[i] = tr0 + i;
      target[i] = tr0 + r.pair[i];
    }
  for (int i = 0; i < nva; i++)
    val[i] = va0 + i;
  Stage st = { "train", train, target, ntr, val, nva, TRUE };
  StageOutcome so;
  gboolean trained = train_stage (&r, r.p, &st, cfg, store, run_id, hooks, &prog, &so, error);
  result->epochs_done = so.epochs_done;
  if (!trained)
    return FALSE;
  o.best_epoch = so.best_epoch;
  o.best_val = so.best_val;
  o.train_loss = so.train_loss;
  o.recon_train = so.recon_train;

  /* the kept model meets the test split once */
  prog.phase = "test";
  report (hooks, &prog);
  if (recon)
    {
      if (!vb_recon_eval (r.p, &r.fs, NULL, r.subset.start[VB_SPLIT_TEST], nte, EB, r.x, r.y,
                          &r.stats, &o.recon_test, error))
        return FALSE;
      /* §4.4's control, LowRank's optimum, on LowRank runs at their rank */
      if (pc.kind == VB_PROJ_LOWRANK
          && !vb_pca_control (&r.fs, r.subset.start[VB_SPLIT_TRAIN], ntr,
                              r.subset.start[VB_SPLIT_TEST], nte, &r.stats, MIN (pc.rank, D),
                              &o.pca, error))
        return FALSE;
    }
  else if (!evaluate_alignment (&r, &o, EB, error))
    return FALSE;
  result->top1 = recon ? NAN : o.probe_z;
  result->val_loss = o.best_val;
  result->train_loss = o.train_loss;

  /* §5 runtime, with its protocol card */
  prog.phase = "runtime";
  report (hooks, &prog);
  const char *source = NULL;
  r.rt = runtime_inputs (&r.subset, &r.fs, pcfg->rt_inputs, cfg->seed, &source);
  VbRuntimeProtocol proto = { pcfg->rt_inputs, T, pcfg->rt_warmup, pcfg->rt_timed,
                              pcfg->rt_repeats, cfg->threads, source };
  /* §5: the inputs already sit where the projector runs */
  const float *rt = r.rt;
  if (!ops->on_host)
    {
      size_t bytes = (size_t) pcfg->rt_inputs * T * D * sizeof (float);
      if ((r.rt_dev = ops->alloc (ops->ctx, bytes)) == NULL)
        {
          const char *why = ops->sync (ops->ctx);
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                       "no room for the runtime protocol's inputs on %s: %s", ops->name,
                       why ? why : "out of memory");
          ops->clear_error (ops->ctx);
          return FALSE;
        }
      r.rt_ops = ops;
      ops->upload (ops->ctx, r.rt_dev, r.rt, bytes);
      rt = r.rt_dev;
    }
  g_autoptr (JsonNode) card = NULL;
  if (!vb_projector_runtime (r.p, rt, &proto, hooks, &o.runtime_ms, &card, error)
      || !record_runtime (store, run_id, "projector-forward", o.runtime_ms, proto.inputs, card,
                          error))
    return FALSE;
  o.runtime_merged_ms = NAN;
  if (vb_projector_merge (r.p))
    {
      g_autoptr (JsonNode) mcard = NULL;
      if (!vb_projector_runtime (r.p, rt, &proto, hooks, &o.runtime_merged_ms, &mcard, error)
          || !record_runtime (store, run_id, "projector-forward-merged", o.runtime_merged_ms,
                              proto.inputs, mcard, error))
        return FALSE;
    }
  o.train_act_bytes = vb_projector_activation_bytes_per_token (&pc, TRUE) * B * T;
  o.runtime_act_bytes = vb_projector_activation_bytes_per_token (&pc, FALSE) * proto.inputs * T;

  if (run_dir != NULL)
    {
      if (g_mkdir_with_parents (run_dir, 0755) != 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot create %s", run_dir);
          return FALSE;
        }
      g_autofree char *path = g_build_filename (run_dir, VB_PROJECTOR_RESULT_FILE, NULL);
      if (!vb_projector_study_write_result (path, &o, error))
        return FALSE;
      if (store && run_id > 0
          && !vb_store_add_artifact (store, run_id, VB_PROJECTOR_RESULT_KIND, path, error))
        return FALSE;
    }
  if (kept != NULL)
    *kept = g_steal_pointer (&r.p);
  if (base != NULL)
    *base = g_steal_pointer (&r.base);
  return TRUE;
}
