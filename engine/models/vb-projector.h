/* vb-projector.h: the five projectors of the LLaVA projector study
 * (shared/specs/clip-projectors.md §3), per token on (rows, in) matrices, with explicit
 * forward and backward on the CPU ops.
 *
 * Like the VMamba model, one flat parameter buffer and one gradient buffer are carved by
 * a table of named tensors (PyTorch layout, Linear weights (out, in)). Trainable tensors
 * come first and frozen ones (LoRA's base) last, so an optimizer runs on the prefix
 * [0, vb_projector_n_trainable) of both buffers; frozen gradients stay zero.
 *
 * Study widths (1024 → 1024), parameters total / trainable, MACs per token:
 *   proj-linear   y = W·x + b                         1,049,600 / all      1,048,576
 *   proj-lowrank  y = U·(V·x), r 256, no biases         524,288 / all        524,288
 *   proj-mlp      y = W₂·GELU(W₁·x + b₁) + b₂, 2048   4,197,376 / all      4,194,304
 *   proj-gated    y = σ(W_g·x + b_g) ⊙ (W_v·x + b_v)  2,099,200 / all      2,097,152
 *   proj-lora     y = W₀·x + b₀ + (α/r)·B·(A·x),      1,065,984 / 16,384   1,064,960
 *                 r 8, α 16, W₀ b₀ frozen                                  (merged 1,048,576)
 * BENCHMARKS.md's PyTorch LowRank has a bias on its second factor (525,312); `up_bias`
 * reproduces that module for timing comparisons, but the study's count is 524,288 (§5).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "vb-ops.h"
#include "vb-tensor-dict.h"

G_BEGIN_DECLS

typedef enum {
  VB_PROJ_LINEAR,
  VB_PROJ_LOWRANK,
  VB_PROJ_MLP,
  VB_PROJ_GATED,
  VB_PROJ_LORA,
  VB_PROJ_N_KINDS
} VbProjKind;

typedef struct {
  VbProjKind kind;
  int      in_f, out_f;
  int      hidden;     /* MLP only: hidden width (2048) */
  int      rank;       /* LowRank (256) and LoRA (8) */
  float    alpha;      /* LoRA only: the adapter is scaled by alpha / rank (16) */
  gboolean up_bias;    /* LowRank only: bias on U (BENCHMARKS.md's module); FALSE */
} VbProjConfig;

/* "proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora" */
const char *vb_projector_kind_name (VbProjKind kind);
/* The study configuration (§3) of a kind. */
void        vb_projector_config_default (VbProjKind kind, VbProjConfig *cfg);
/* The study configuration named `name`; FALSE (and INVALID) for an unknown name. */
gboolean    vb_projector_config_from_name (const char *name, VbProjConfig *cfg,
                                           GError **error);
gboolean    vb_projector_config_validate (const VbProjConfig *cfg, GError **error);

/* ---- costs, from the configuration alone ---- */

int64_t vb_projector_param_count     (const VbProjConfig *cfg);   /* total, biases included */
int64_t vb_projector_trainable_count (const VbProjConfig *cfg);   /* LoRA: A and B only */
/* Weights only, bias adds excluded (§3.1). merged: LoRA with its adapter folded in. */
int64_t vb_projector_macs_per_token  (const VbProjConfig *cfg, gboolean merged);
/* Bytes this engine holds per token (fp32) besides the caller's input: the output and
 * the forward's intermediates (unmerged), plus the backward's scratch when training. */
int64_t vb_projector_activation_bytes_per_token (const VbProjConfig *cfg, gboolean training);

/* Everything `info --model proj-*` prints, at the study widths. */
typedef struct {
  const char *name;                  /* static */
  int64_t params, trainable, frozen;
  int64_t macs_per_token;            /* unmerged */
  int64_t macs_per_token_merged;     /* = macs_per_token except for LoRA */
  int64_t param_bytes;               /* fp32 parameters, frozen included */
  int64_t train_state_bytes;         /* gradients + AdamW moments of the trainable part */
  int64_t act_bytes_per_token_train;
  int64_t act_bytes_per_token_infer;
} VbProjInfo;

gboolean vb_projector_info (const char *name, VbProjInfo *info, GError **error);
/* the five names in study order, NULL-terminated (static) */
const char *const *vb_projector_names (void);

/* ---- the model ---- */

typedef struct {
  const char *name;      /* e.g. "fc1.weight", "lora_A.weight" (PyTorch module keys) */
  int         ndim;      /* 1 or 2 */
  int64_t     shape[2];
  int64_t     offset;    /* in floats, into params / grads */
  int64_t     numel;
  gboolean    trainable;
  gboolean    decay;     /* AdamW decay: 2-D trainable tensors */
} VbProjTensor;

typedef struct _VbProjector VbProjector;

VbProjector *vb_projector_new         (const VbProjConfig *cfg, GError **error);
VbProjector *vb_projector_new_by_name (const char *name, GError **error);
void         vb_projector_free        (VbProjector *p);
const VbProjConfig *vb_projector_config (VbProjector *p);

int64_t      vb_projector_n_params    (VbProjector *p);
int64_t      vb_projector_n_trainable (VbProjector *p);   /* prefix of params / grads */
guint        vb_projector_n_tensors   (VbProjector *p);
const VbProjTensor *vb_projector_tensor      (VbProjector *p, guint i);
const VbProjTensor *vb_projector_find_tensor (VbProjector *p, const char *name);
float       *vb_projector_params      (VbProjector *p);
float       *vb_projector_grads       (VbProjector *p);
/* n_trainable bytes, 1 where AdamW decays (for vb_adamw_new over the prefix) */
uint8_t     *vb_projector_decay_mask  (VbProjector *p);

/* §3 initialisation, seeded: PyTorch's default Linear init U(±1/√fan_in) for weights and
 * biases; LoRA A the same (Kaiming-uniform, a = √5), B = 0, and the frozen base the
 * identity with zero bias (§4.5; torch.eye(out, in) when the widths differ). A trained
 * base is loaded by name afterwards, or copied from a Linear (vb_projector_set_lora_base). */
void         vb_projector_init_weights (VbProjector *p, uint64_t seed);

/* Copy every tensor by name; all must be present with the right shape, none left over.
 * `source` names the file in error messages. */
gboolean     vb_projector_load_dict (VbProjector *p, VbTensorDict *dict,
                                     const char *source, GError **error);
VbTensorDict *vb_projector_to_dict (VbProjector *p);

/* §4.5's optional LoRA base: a Linear projector's weight and bias (its host buffers, as
 * training leaves them) copied exactly into LoRA's frozen W₀ and b₀, A and B untouched.
 * INVALID unless `lora` is a LoRA and `linear` a Linear of the same widths. */
gboolean     vb_projector_set_lora_base (VbProjector *lora, VbProjector *linear,
                                         GError **error);

/* ---- backends ----
 * Every op runs on the projector's backend: the CPU (the default and the reference) or
 * a GPU table from vb_device_ops. The host buffers (vb_projector_params / _grads) stay
 * what initialisation, loading, export and the LoRA merge work on: init and load copy
 * the parameters to the backend themselves; after writing through vb_projector_params,
 * call vb_projector_params_to_backend. On a GPU, x, y, dy and dx of forward and
 * backward are device memory, and so are vb_projector_backend_params / _grads (for an
 * optimizer on the device); _from_backend copies the backend's values back to the host
 * buffers and returns them. FALSE (the projector stays where it was) when the backend
 * lacks the ops or the room. */
gboolean     vb_projector_use_backend  (VbProjector *p, const VbOps *ops, GError **error);
const VbOps *vb_projector_backend      (VbProjector *p);
float       *vb_projector_backend_params (VbProjector *p);
float       *vb_projector_backend_grads  (VbProjector *p);
void         vb_projector_params_to_backend (VbProjector *p);
float       *vb_projector_params_from_backend (VbProjector *p);
float       *vb_projector_grads_from_backend  (VbProjector *p);
/* the backend's first failure since the last check (a GPU's queued work), as a GError;
 * TRUE when there was none */
gboolean     vb_projector_backend_ok   (VbProjector *p, GError **error);

/* y (rows, out_f) = f(x (rows, in_f)), both in the backend's memory; y must not alias x. training saves what the
 * backward needs (the caller keeps x alive until then) and uses LoRA unmerged;
 * otherwise a merged LoRA runs its one merged product. */
gboolean     vb_projector_forward  (VbProjector *p, float *y, const float *x, int64_t rows,
                                    gboolean training, GError **error);
/* After a training forward of the same x and rows: gradients accumulate (+=) into
 * grads (trainable tensors only); dx (rows, in_f) is written when non-NULL. */
void         vb_projector_backward (VbProjector *p, float *dx, const float *dy,
                                    const float *x, int64_t rows);
/* The same two with x, y, dy and dx in host memory on every backend: on a GPU they pass
 * through device buffers the projector keeps (the backward reuses the x its training
 * forward uploaded, so no x is passed). The gradients stay on the backend
 * (vb_projector_grads_from_backend). */
gboolean     vb_projector_forward_host  (VbProjector *p, float *y, const float *x,
                                         int64_t rows, gboolean training, GError **error);
void         vb_projector_backward_host (VbProjector *p, float *dx, const float *dy,
                                         int64_t rows);
void         vb_projector_zero_grad (VbProjector *p);

/* LoRA at inference: W = W₀ + (α/r)·B·A into a separate buffer (the parameters stay
 * as they are, so training can go on). A training forward or a load drops it; merge
 * again after changing parameters. No-op (FALSE) for the other kinds. */
gboolean     vb_projector_merge    (VbProjector *p);
gboolean     vb_projector_is_merged (VbProjector *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbProjector, vb_projector_free)

G_END_DECLS
