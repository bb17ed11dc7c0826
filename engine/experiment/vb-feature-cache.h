/* vb-feature-cache.h: the projector study's encoder features (clip-projectors.md §4.2),
 * extracted once and kept on disk under $XDG_CACHE_HOME/visionbench/features/.
 *
 * Per image: X = the patch tokens of hidden_states[-2] (LLaVA's projector input, T × D,
 * stored F16) and y = pooler_output (D, F32). A file is named by the SHA-256 of
 * everything the features depend on: the weights (file content hash, or "random seed
 * N"), the image size, the preprocessing, the encoder shape and the selected images
 * (VbStudySubset fingerprint). Its header names every one of those keys, and a trailing
 * SHA-256 covers the whole file; a file whose keys, sizes, labels or checksum do not
 * match is rebuilt, never trusted.
 *
 * File layout (little-endian):
 *   "VBFEAT01" | u64 header length | header JSON (space-padded to 8 bytes) |
 *   labels i32[n] | X f16[n, T, D] | y f32[n, D] (each section 8-byte aligned) |
 *   SHA-256 of all the bytes before it (32 bytes)
 */
#pragma once

#include "vb-ops.h"
#include "vb-study-subset.h"
#include "vb-trainer.h"

G_BEGIN_DECLS

typedef struct {
  const char *weights_path;   /* HF CLIP safetensors; NULL or "" = random weights */
  guint64     seed;           /* random weights' seed */
  int         image_size;     /* S */
  int         layers, width, heads;   /* all 0: ViT-L/14; else a small tower */
  int         batch;          /* images per encoder forward */
  const VbOps *ops;           /* where the encoder runs (NULL: the CPU); not part of the
                               * cache key: fp32 on either device, stored as F16 */
} VbFeatureEncoder;

typedef struct {
  int            n, tokens, width;
  const guint16 *x;           /* (n, T, D) F16, in the mapped file */
  const float   *y;           /* (n, D) */
  char          *path;
  char          *key;         /* hex SHA-256 */
  char          *status;      /* "reused", "built" or "rebuilt (why)" */
  char          *weights;     /* "random weights (seed 0)" / "weights from PATH" */
  char          *encoder;     /* "CLIP ViT-L/14 224 px" or "small CLIP (layers 2, …)" */
  gboolean       random_weights;
  GMappedFile   *file;
} VbFeatureSet;

void     vb_feature_set_clear (VbFeatureSet *set);

/* The features of every image of subset (in subset order): read from the cache when a
 * valid file exists, else extracted (progress phase "features", cancellable between
 * batches: VB_ENGINE_ERROR_CANCELLED, no file left behind) and written. */
gboolean vb_feature_set_get   (const VbStudySubset *subset, const VbFeatureEncoder *enc,
                               const VbTrainHooks *hooks, VbFeatureSet *out, GError **error);

/* X of image i as fp32 (T·D floats) */
void     vb_feature_set_tokens (const VbFeatureSet *set, int i, float *out);

/* How many extractions (encoder passes over a subset) this process has run: tests
 * tell a cache hit from a rebuild with it. */
guint    vb_feature_cache_n_extractions (void);

/* IEEE half, round to nearest even (the inverse of vb_half_to_float) */
guint16  vb_float_to_half (float f);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbFeatureSet, vb_feature_set_clear)

G_END_DECLS
