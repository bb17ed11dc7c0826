/* vb-clip-private.h: the CLIP tower's struct, shared by the files that build, load and
 * run it. Offsets are in floats into the flat parameter buffer. */
#pragma once

#include "vb-clip.h"
#include "vb-ops.h"
#include "vb-vit-ops.h"

typedef struct {
  int64_t ln1_w, ln1_b;
  int64_t qkv_w, qkv_b;     /* q, k, v weights (3·D, D) and biases (3·D), back to back */
  int64_t o_w, o_b;
  int64_t ln2_w, ln2_b;
  int64_t fc1_w, fc1_b, fc2_w, fc2_b;
} VbClipLayerOffsets;

struct _VbClip {
  VbClipConfig cfg;
  GPtrArray *tensors;               /* VbClipTensorInfo*, table order */
  GHashTable *by_name;
  int64_t n_params;
  float *params;

  int64_t cls, patch_w, pos, pre_w, pre_b, post_w, post_b;
  VbClipLayerOffsets *layers;

  float *projection;                /* visual_projection.weight, or NULL */
  int projection_rows;
  char *weights_description;
  VbClipStageHook stage_hook;       /* vb_clip_set_stage_hook */
  gpointer stage_data;

  /* the backend every op runs on (vb_clip_use_backend; the CPU by default) and the
   * parameters in its memory (= params on the CPU), uploaded again before a forward
   * once params_dirty says the host copy changed */
  const VbOps *ops;
  const VbVitOps *vit;
  float *dparams;
  gboolean params_dirty;

  /* work buffers for plan_B images (vb-clip.c), in the backend's memory; cols holds
   * patch_chunk images (1 on the CPU, plan_B on a GPU); the d_* buffers exist only on a
   * device backend: the host API's pixels, features and pooled outputs pass through
   * them */
  int plan_B, patch_chunk;
  float *h, *ln, *big, *attn, *cols, *mean, *rstd;
  float *d_pixels, *d_feat, *d_pooled;
};

/* Floats of each work buffer for B images (vb-clip-config.c); the plan allocates
 * exactly these, and vb_clip_activation_bytes adds them up. */
typedef struct {
  int64_t h, ln, big, attn, cols, mean, rstd;
} VbClipPlanSizes;

void     vb_clip_plan_sizes (const VbClipConfig *cfg, int B, VbClipPlanSizes *sizes);

/* vb-clip-params.c */
gboolean vb_clip_build_tensors (VbClip *model, GError **error);
