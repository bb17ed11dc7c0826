/* vb-projector-private.h: the projector struct, shared by the files that build, run and
 * cost it. Offsets are in floats into the flat parameter (and gradient) buffer; -1 marks
 * a tensor the kind does not have. */
#pragma once

#include "vb-projector.h"
#include "vb-vit-ops.h"

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

  /* the backend (vb_projector_use_backend; the CPU by default) and the parameters,
   * gradients and merged LoRA weight in its memory (the host buffers on the CPU); the
   * act and scratch buffers above live in its memory too */
  const VbOps    *ops;
  const VbVitOps *vit;
  float          *dparams, *dgrads, *dmerged;
  /* a device backend's staging for the host-memory calls: x (rows_host × in_f) as the
   * last _host forward uploaded it, y / dy (× out_f), dx (× in_f) */
  int64_t         rows_host;
  float          *hx, *hy, *hdx;
  const float    *host_x;      /* on the CPU: the x of the last _host forward */
};

/* vb-projector.c: the host parameters into the backend's copy (no-op on the CPU) */
void     vb_projector_upload_params (VbProjector *p);
/* vb-projector-params.c */
gboolean vb_projector_build_tensors (VbProjector *p, GError **error);
void     vb_projector_free_tensors  (VbProjector *p);
/* widths of act1/act2 and scratch1/scratch2 per row, per kind */
void     vb_projector_buffer_widths (const VbProjConfig *cfg, int64_t act[2], int64_t scratch[2]);
