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

static double
mean_loss (const float *z, const float *y, int n, int D)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += 1.0 - vb_study_cosine (z + (gsize) i * D, y + (gsize) i * D, D, NULL, 0);
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

static void
run_clear (VbStudyRun *r)
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
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbStudyRun, run_clear)

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
evaluate_alignment (VbStudyRun *r, VbStudyOutcome *o, int EB, GError **error)
{
  int D = r->fs.width, nc = r->subset.n_classes;
  int ntr = r->subset.count[VB_SPLIT_TRAIN], nte = r->subset.count[VB_SPLIT_TEST];
  const float *ytr = r->fs.y + (gsize) r->subset.start[VB_SPLIT_TRAIN] * D;
  const float *yte = r->fs.y + (gsize) r->subset.start[VB_SPLIT_TEST] * D;
  int tr0 = r->subset.start[VB_SPLIT_TRAIN], te0 = r->subset.start[VB_SPLIT_TEST];
  const int *ltr = labels_of (&r->subset, VB_SPLIT_TRAIN);
  const int *lte = labels_of (&r->subset, VB_SPLIT_TEST);
  if (!vb_study_predict (r->p, &r->fs, NULL, tr0, ntr, EB, r->x, r->y, r->ztrain, error)
      || !vb_study_predict (r->p, &r->fs, NULL, te0, nte, EB, r->x, r->y, r->ztest, error))
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
    if (!vb_study_predict (id, &r->fs, NULL, tr0, ntr, EB, r->x, r->y, r->ztrain, error)
        || !vb_study_predict (id, &r->fs, NULL, te0, nte, EB, r->x, r->y, r->ztest, error))
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
  vb_study_report (hooks, &prog);

  g_auto (VbStudyRun) r = { 0 };
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
      && !vb_study_train_lora_base (&r, cfg, ops, hooks, &prog, &o, error))
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
  VbStudyStage st = { "train", train, target, ntr, val, nva, TRUE };
  VbStudyStageOutcome so;
  gboolean trained = vb_study_train_stage (&r, r.p, &st, cfg, store, run_id, hooks, &prog,
                                           &so, error);
  result->epochs_done = so.epochs_done;
  if (!trained)
    return FALSE;
  o.best_epoch = so.best_epoch;
  o.best_val = so.best_val;
  o.train_loss = so.train_loss;
  o.recon_train = so.recon_train;

  /* the kept model meets the test split once */
  prog.phase = "test";
  vb_study_report (hooks, &prog);
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
  vb_study_report (hooks, &prog);
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
