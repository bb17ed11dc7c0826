/* vb-projector-private.h: the projector struct, shared by the files that build, run and
 * cost it. Offsets are in floats into the flat parameter (and gradient) buffer; -1 marks
 * a tensor the kind does not have. */
#pragma once

#include "vb-projector.h"

/* The tensors every kind draws from; each kind uses a subset (vb-projector-params.c). */
typedef enum {
  T_W1, T_B1,   /* linear / lowrank V (down) / mlp fc1 / gated gate / lora base */
  T_W2, T_B2,   /* lowrank U (up) / mlp fc2 / gated value */
  T_A, T_B,     /* lora_A (r, in), lora_B (out, r) */
  T_COUNT
} VbProjSlot;

struct _VbProjector {
  VbProjConfig cfg;
  GPtrArray   *tensors;        /* VbProjTensor*, trainable first */
  int64_t      off[T_COUNT];
  int64_t      n_params, n_trainable;
  float       *params, *grads;
  uint8_t     *decay_mask;

  /* saved by a training forward, (rows, width) each; which ones a kind uses is listed in
   * vb-projector.c */
  int64_t      rows_cap, rows_saved;
  float       *act1, *act2;    /* mlp: h, GELU(h); gated: σ(a), v; lowrank/lora: V·x or A·x */
  float       *scratch1, *scratch2;

  float       *merged_w;       /* lora: W₀ + (α/r)·B·A, valid while `merged` */
  gboolean     merged;
};

/* vb-projector-params.c */
gboolean vb_projector_build_tensors (VbProjector *p, GError **error);
void     vb_projector_free_tensors  (VbProjector *p);
/* widths of act1/act2 and scratch1/scratch2 per row, per kind */
void     vb_projector_buffer_widths (const VbProjConfig *cfg, int64_t act[2], int64_t scratch[2]);
