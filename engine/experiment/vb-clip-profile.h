/* vb-clip-profile.h: where one CLIP forward's time goes, stage by stage, next to the five
 * projectors (model.arch "clip-profile"; shared/specs/clip-projectors.md §1.7, §5).
 * GTK-free and synchronous like vb_train_run; the runner calls it for model.arch
 * "clip-profile", one run per image size.
 *
 * Stages, in run order: "patch embedding" (patch conv, class and position embeddings,
 * pre_layrnorm), "layer 0" … one per transformer layer run, then "proj-linear" …
 * "proj-lora", each over the image's patch tokens (G² = 256 at 224 px, 576 at 336 px).
 * profile.layers "llava" (default) stops where LLaVA reads its features,
 * hidden_states[-2], i.e. after layers − 1 layers (23 of ViT-L's 24); "all" runs every
 * layer. The encoder stages are timed inside one forward through vb_clip's stage hook
 * (the forward is not copied); the projectors with the §5 runtime protocol
 * (vb_projector_runtime) on the features that forward produced. Every time is a median
 * over warm-up-free timed calls, per image (a call's time ÷ batch). Multiply-adds come
 * from the models' own counts (vb_clip_macs, vb_projector_macs_per_token, LoRA
 * unmerged), so the encoder stages add up to vb_clip_macs (cfg, layers run).
 *
 * The run records a throughput row "clip-forward" (img/s of the whole encoder forward
 * with its protocol card) and the per-stage table as a JSON artifact of kind
 * VB_CLIP_PROFILE_RESULT_KIND, which vb_clip_profile_load reads back for the Compare
 * table and a stacked bar. */
#pragma once

#include <stdint.h>

#include "vb-trainer.h"

G_BEGIN_DECLS

#define VB_CLIP_PROFILE_RESULT_KIND "clip-profile-result"
#define VB_CLIP_PROFILE_RESULT_FILE "clip-profile-result.json"

typedef enum {
  VB_STAGE_EMBEDDING,
  VB_STAGE_LAYER,
  VB_STAGE_PROJECTOR,
} VbStageKind;

typedef struct {
  char       *name;       /* "patch embedding", "layer 7", "proj-mlp" */
  VbStageKind kind;
  double      ms;         /* median per image */
  double      iqr_ms;     /* per image */
  int64_t     macs;       /* multiply-adds per image */
} VbProfileStage;

/* One run's profile, as its result file holds it. */
typedef struct {
  int      img_size;
  int      tokens;        /* patch tokens per image (the projectors' rows) */
  int      layers_run, layers_total;
  int      batch, threads;
  gboolean random_weights;
  char    *encoder;       /* "CLIP ViT-L/14 336 px" */
  char    *weights;       /* "random weights (seed 0)" / "weights from PATH" */
  double   forward_ms;    /* the whole encoder forward, median per image */
  double   img_per_s;     /* of the encoder forward */
  GArray  *stages;        /* VbProfileStage, run order */
} VbClipProfile;

void     vb_clip_profile_clear (VbClipProfile *profile);
gboolean vb_clip_profile_load  (const char *path, VbClipProfile *out, GError **error);
/* sums over the encoder stages (embedding and layers) */
double   vb_clip_profile_encoder_ms   (const VbClipProfile *profile);
int64_t  vb_clip_profile_encoder_macs (const VbClipProfile *profile);

/* A stacked bar's data (GTK-free, for the CLI's text bar and the GUI's chart):
 * segments in order, names and ms per image. Layers are one segment ("layers 0–22");
 * the five projectors, which are alternatives, are one segment each. */
typedef struct {
  char   *label;          /* "224 px" */
  guint   n;
  char  **names;          /* n, NULL-terminated */
  double *ms;             /* n */
  VbStageKind *kinds;     /* n */
} VbStackedBar;

void     vb_clip_profile_bar  (const VbClipProfile *profile, VbStackedBar *out);
void     vb_stacked_bar_clear (VbStackedBar *bar);

/* The run: result->macs = the encoder stages' multiply-adds per image, params = the
 * tower's. Cancel (between calls): VB_ENGINE_ERROR_CANCELLED. */
gboolean vb_clip_profile_run (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                              const char *run_dir, const VbTrainHooks *hooks,
                              VbTrainResult *result, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbClipProfile, vb_clip_profile_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbStackedBar, vb_stacked_bar_clear)

G_END_DECLS
