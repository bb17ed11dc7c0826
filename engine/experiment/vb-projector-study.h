/* vb-projector-study.h: one run of the projector study (clip-projectors.md §3–§5),
 * GTK-free and synchronous like vb_train_run, which the runner calls instead for
 * model.arch "projector".
 *
 * The run loads the §4.1 CIFAR-10 subset, gets the encoder features from the cache
 * (vb-feature-cache.h), trains the projector in Mode A (alignment proxy, §4.3): ẑ =
 * mean over tokens of f(x_t), loss 1 − cos(ẑ, y), AdamW with warm-up and cosine decay,
 * global-norm clipping, the best-validation model kept (§4.5); then evaluates it once
 * on test, measures the forward runtime over the §5 inputs, and records everything:
 * step and epoch metrics, a throughput row per runtime with its protocol card, and the
 * results (test loss, cosine, R², linear-probe accuracy, parameters, MACs, memory, the
 * encoder and whether its weights are random) as a JSON artifact of kind
 * VB_PROJECTOR_RESULT_KIND in run_dir.
 *
 * Proxy Top-1 is the §4.3 fallback, a linear probe on ẑ: no CLIP text embeddings ship
 * with VisionBench yet. Mode A results also carry the §4.6 controls (identity, closed-form
 * ridge) and a target-space head (a probe trained on y, applied to ẑ) that a
 * train.shuffled_pairs run drives to chance. train.mode "reconstruction" trains Mode B
 * (§4.4) instead and stores its interpretation warning in the result. */
#pragma once

#include "vb-trainer.h"

G_BEGIN_DECLS

#define VB_PROJECTOR_RESULT_KIND "projector-result"
#define VB_PROJECTOR_RESULT_FILE "projector-result.json"

/* result->top1 = the proxy accuracy (percent), val_loss = the best validation loss.
 * Cancel: VB_ENGINE_ERROR_CANCELLED; a NaN or infinite loss: VB_ENGINE_ERROR_DIVERGED. */
gboolean vb_projector_study_run (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                                 const char *run_dir, const VbTrainHooks *hooks,
                                 VbTrainResult *result, GError **error);

G_END_DECLS
