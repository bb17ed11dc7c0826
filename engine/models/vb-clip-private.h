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

  /* bf16 storage (vb_clip_set_bf16, vb-clip-bf16.c): the layers' product weights rounded
   * into w16 (made again once params_dirty says the host copy changed), the residual
   * stream x16 and the layers' bf16 work buffers, planned with the others; the embedding
   * still runs in h, and h, ln, attn serve the outputs */
  gboolean bf16;
  VbBf16 *w16;
  VbBf16 *x16, *ln16, *big16, *attn16;
};

/* Floats of each work buffer for B images, and bf16 values of the bf16 layers' ones
 * (vb-clip-config.c); the plans allocate exactly these, and vb_clip_activation_bytes adds
 * them up. */
typedef struct {
  int64_t h, ln, big, attn, cols, mean, rstd;
  int64_t x16, ln16, big16, attn16;
} VbClipPlanSizes;

void     vb_clip_plan_sizes (const VbClipConfig *cfg, int B, VbClipPlanSizes *sizes);

/* work buffers in the backend's memory (vb-clip.c): NULL when there is no room; free
 * takes the address of the pointer and clears it */
void    *vb_clip_buf_alloc (VbClip *m, size_t bytes);
void     vb_clip_buf_free  (VbClip *m, void **p);

/* vb-clip-bf16.c: the bf16-storage layers */
gboolean vb_clip_bf16_supported    (const VbOps *ops, const VbVitOps *vit);
gboolean vb_clip_bf16_plan         (VbClip *m, int B);
void     vb_clip_bf16_clear        (VbClip *m);
gboolean vb_clip_bf16_weights      (VbClip *m);
void     vb_clip_bf16_free_weights (VbClip *m);
/* x16 = bf16 (h): hidden_states[0] into the bf16 stream */
void     vb_clip_bf16_enter        (VbClip *m, int B);
/* hidden_states[l] → hidden_states[l + 1] in x16 */
gboolean vb_clip_bf16_layer        (VbClip *m, int l, int B, GError **error);

/* vb-clip-params.c */
gboolean vb_clip_build_tensors (VbClip *model, GError **error);
