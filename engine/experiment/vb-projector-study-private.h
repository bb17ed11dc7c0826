/* vb-projector-study-private.h: the pieces of the projector study that live in their
 * own files: the linear probe, the runtime protocol, the ridge control and Mode B. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "vb-feature-cache.h"
#include "vb-projector.h"
#include "vb-trainer.h"

G_BEGIN_DECLS

/* §4.3 fallback: multinomial logistic regression on features standardised with the
 * train split's statistics (full batch, AdamW, a fixed number of steps, zero start, so
 * deterministic), trained on train, evaluated on test. Returns the accuracy in percent. */
double vb_linear_probe_accuracy (const float *train, const int *train_labels, int n_train,
                                 const float *test, const int *test_labels, int n_test,
                                 int dim, int classes);

typedef struct {
  int         inputs;          /* images (200) */
  int         tokens;          /* T per image */
  int         warmup, timed, repeats;
  int         threads;
  const char *input_source;    /* what the inputs are, for the card */
  const char *precision;       /* the card's precision: NULL or "fp32" (strict), "tf32",
                                * "bf16" (as the projector's backend was set to compute) */
} VbRuntimeProtocol;

/* The study's projector `name` at encoder width D (§3's shapes scaled: MLP hidden 2·D,
 * LowRank rank D/4; LoRA's rank and alpha as given). */
gboolean vb_projector_study_config (const char *name, int D, int lora_rank, double lora_alpha,
                                    VbProjConfig *pc, GError **error);

/* The protocol's timing helpers, shared with the clip-profile experiment: a monotonic
 * clock in ms at ns resolution, an in-place sort, and numpy's default quantile of a
 * sorted array. */
#define VB_RUNTIME_CLOCK "monotonic (clock_gettime, ns)"
double vb_runtime_clock_ms (void);
void   vb_runtime_sort     (double *values, int n);
double vb_runtime_quantile (const double *sorted, int n, double q);

/* §5: one inference forward over all inputs·T rows per call; warm-up calls, then timed
 * calls (monotonic clock; on a GPU each call is waited for, and x is device memory), the
 * whole measurement `repeats` times. Returns the median ms
 * per call over every timed call, and its protocol card (JSON object, new reference) in
 * *card. FALSE with VB_ENGINE_ERROR_CANCELLED when hooks ask to stop between calls. */
gboolean vb_projector_runtime (VbProjector *p, const float *x, const VbRuntimeProtocol *proto,
                               const VbTrainHooks *hooks, double *median_ms, JsonNode **card,
                               GError **error);

/* §4.6 closed-form ridge from mean-pooled X (n, d) to y (n, d): solves
 * (XcᵀXc + λI) W = XcᵀYs by Cholesky, Xc centred, Ys the targets standardised per
 * dimension (§4.3; the prediction is mapped back to y's units). λ is a small multiple of
 * XcᵀXc's mean diagonal (vb-projector-ridge.c). */
typedef struct {
  int     d;
  double  lambda;
  double *x_mean, *y_mean, *y_sd;
  double *w;                   /* (d, d): z_s = (x − x_mean)·W */
} VbRidge;

gboolean vb_ridge_fit             (VbRidge *r, const float *x, const float *y, int n, int d,
                                   GError **error);
void     vb_ridge_predict         (const VbRidge *r, const float *x, int n, float *z);
/* ‖(XcᵀXc + λI)W − XcᵀYs‖ / ‖XcᵀYs‖ (Frobenius) on the data it was fitted to */
double   vb_ridge_normal_residual (const VbRidge *r, const float *x, const float *y, int n);
void     vb_ridge_clear           (VbRidge *r);

/* the top r eigenpairs of the symmetric (n, n) a (vb-symeig.c): values largest first,
 * vectors (n, r) orthonormal columns. Subspace iteration with Rayleigh–Ritz until the
 * largest ‖A v − θ v‖ / ‖A‖_F is at most tol or max_iter is spent; TRUE when converged
 * (the best iterate is written either way). */
typedef struct {
  int      iterations;
  double   residual;
  gboolean converged;
} VbSymeigInfo;

gboolean vb_symeig_top (const double *a, int n, int r, int max_iter, double tol,
                        double *values, double *vectors, VbSymeigInfo *info);

/* §4.6 reduced-rank regression at rank r from a fitted ridge (same x): out is a VbRidge
 * whose W is ridge's W·V_r·V_rᵀ, V_r the top r eigenvectors of ŶᵀŶ, Ŷ = Xc·W
 * (vb-projector-rrr.c); vb_ridge_predict applies it */
gboolean vb_rrr_fit (VbRidge *out, const VbRidge *ridge, const float *x, int n, int rank,
                     VbSymeigInfo *info, GError **error);

/* §4.4 Mode B: per-dimension token statistics of a split (train), and the metrics */
typedef struct {
  int     d;
  double *mean, *inv_sd;
} VbTokenStats;

typedef struct {
  double std_mse, raw_mse, cos, r2;
} VbReconMetrics;

void     vb_token_stats_compute (VbTokenStats *s, const VbFeatureSet *fs, int first, int count);
void     vb_token_stats_clear   (VbTokenStats *s);
/* one batch of rows tokens: returns the standardised MSE, writes its gradient to dxhat,
 * and the raw MSE and mean cosine to logged (may be NULL) */
double   vb_recon_batch (const float *xhat, const float *x, int64_t rows,
                         const VbTokenStats *s, float *dxhat, VbReconMetrics *logged);
/* held-out: standardised MSE, R² of the standardised tokens, raw MSE, mean cosine, over
 * the images idx[0..count) (idx NULL: the count from first); x and xhat hold chunk·T·D
 * floats */
gboolean vb_recon_eval  (VbProjector *p, const VbFeatureSet *fs, const int *idx, int first,
                         int count, int chunk, float *x, float *xhat, const VbTokenStats *s,
                         VbReconMetrics *out, GError **error);

/* §4.4's control: rank-r PCA of the standardised tokens, fitted on train
 * (vb-projector-pca.c) */
typedef struct {
  int          rank;
  double       train_std_mse, test_std_mse, test_r2;
  VbSymeigInfo eig;
} VbPcaControl;

gboolean vb_pca_control (const VbFeatureSet *fs, int train_first, int n_train, int test_first,
                         int n_test, const VbTokenStats *st, int rank, VbPcaControl *out,
                         GError **error);

#define VB_RECON_WARNING \
  "Mode B warning: Linear, MLP, Gated and LoRA with an identity base can all reach ≈ 0 " \
  "reconstruction loss (identity is in or near their function class; LoRA with an identity " \
  "base starts at exactly 0); only LowRank is constrained (its optimum is PCA at its rank). " \
  "Mode B says nothing about alignment."

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbRidge, vb_ridge_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbTokenStats, vb_token_stats_clear)

/* ---- one run's outcome and its result file (vb-projector-result.c) ------------------------- */

typedef struct {
  double loss, cos, std_mse, r2;
} VbStudyMetrics;

typedef struct {
  const VbRunConfig *cfg;
  const VbFeatureSet *fs;
  const VbStudySubset *subset;
  VbProjector *p;
  int best_epoch;
  double best_val, train_loss;
  VbStudyMetrics test, identity, ridge;
  double probe_z, probe_y, probe_identity, probe_ridge;
  double head_z, head_y, head_ridge;   /* target-space head (target_head_accuracy) */
  double train_std_mse, ridge_train_std_mse, ridge_lambda, ridge_residual;
  VbReconMetrics recon_test, recon_train;   /* Mode B: test, last epoch's logged means */
  /* LowRank runs only (rank 0 otherwise): §4.6 reduced-rank control, §4.4 PCA control */
  int rrr_rank;
  VbStudyMetrics rrr;
  double rrr_train_std_mse, probe_rrr, head_rrr;
  VbSymeigInfo rrr_eig;
  VbPcaControl pca;
  double runtime_ms, runtime_merged_ms;
  int64_t train_act_bytes, runtime_act_bytes;
  /* LoRA's frozen base (§4.5; identity for every other projector) and, for the trained
   * one, its stage: the Linear on classes 0–4 */
  VbLoraBase lora_base;
  int base_train_images, base_val_images, base_best_epoch;
  double base_best_val, base_train_loss;
} VbStudyOutcome;

gboolean vb_projector_study_write_result (const char *path, const VbStudyOutcome *o,
                                          GError **error);

/* LoRA's trained base (model.lora_base "linear-classes-0-4") is trained on the classes
 * below this one */
#define VB_LORA_BASE_CLASSES 5

/* vb_projector_study_run, handing back (for tests, when non-NULL) the kept projector and
 * the Linear of LoRA's trained base as its stage left it (NULL without one). */
gboolean vb_projector_study_run_full (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                                      const char *run_dir, const VbTrainHooks *hooks,
                                      VbTrainResult *result, VbProjector **kept,
                                      VbProjector **base, GError **error);

/* ---- one run's state and its training (vb-projector-train.c) ---------------------------- */

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
} VbStudyRun;


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
} VbStudyStage;

typedef struct {
  int            best_epoch, epochs_done;
  double         best_val, train_loss;
  VbReconMetrics recon_train;   /* Mode B: the last epoch's logged means */
} VbStudyStageOutcome;

static inline gboolean
vb_study_cancelled (const VbTrainHooks *hooks)
{
  return hooks && hooks->should_cancel && hooks->should_cancel (hooks->user_data);
}

static inline void
vb_study_report (const VbTrainHooks *hooks, const VbProgress *p)
{
  if (hooks && hooks->progress)
    hooks->progress (p, hooks->user_data);
}

/* cos(z, y) and, when dz is non-NULL, dz = −scale · ∂cos/∂z (the loss is 1 − cos) */
double   vb_study_cosine (const float *z, const float *y, int D, float *dz, double scale);
/* ẑ = mean over tokens of f(x_t) for `count` images: idx[0..count) when idx is given, else
 * the ones from `first`; chunk images a call (x, y: scratch for chunk images' tokens) */
gboolean vb_study_predict (VbProjector *p, const VbFeatureSet *fs, const int *idx, int first,
                           int count, int chunk, float *x, float *y, float *z, GError **error);
/* §4.5's recipe on p over the stage's images; the best-validation parameters left in p */
gboolean vb_study_train_stage (VbStudyRun *r, VbProjector *p, const VbStudyStage *st,
                               const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                               const VbTrainHooks *hooks, VbProgress *prog,
                               VbStudyStageOutcome *so, GError **error);
/* §4.5's optional LoRA base: a Linear trained on classes 0–4 becomes r->p's frozen base */
gboolean vb_study_train_lora_base (VbStudyRun *r, const VbRunConfig *cfg, const VbOps *ops,
                                   const VbTrainHooks *hooks, VbProgress *prog,
                                   VbStudyOutcome *o, GError **error);

G_END_DECLS
