/* vb-projector-study-private.h: the pieces of the projector study that live in their
 * own files: the linear probe and the runtime protocol. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

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
 * calls (monotonic clock), the whole measurement `repeats` times. Returns the median ms
 * per call over every timed call, and its protocol card (JSON object, new reference) in
 * *card. FALSE with VB_ENGINE_ERROR_CANCELLED when hooks ask to stop between calls. */
gboolean vb_projector_runtime (VbProjector *p, const float *x, const VbRuntimeProtocol *proto,
                               const VbTrainHooks *hooks, double *median_ms, JsonNode **card,
                               GError **error);

G_END_DECLS
