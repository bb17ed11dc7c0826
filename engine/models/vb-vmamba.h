/* vb-vmamba.h: VMamba (SS2D) with explicit forward and backward, llm.c style.
 *
 * One flat parameter buffer and one gradient buffer, carved by a table of named tensors
 * whose names and shapes are the official state-dict keys (shared/specs/vmamba.md §12.2),
 * so checkpoints load by name. Activations are channel-last (B, H, W, C); a plan sized
 * for one (batch, height, width) holds everything the backward needs.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "vb-cpu-ops.h"
#include "vb-ops.h"
#include "vb-rng.h"
#include "vb-tensor-dict.h"

G_BEGIN_DECLS

#define VB_VMAMBA_MAX_STAGES 4

typedef struct {
  int        n_stages;                     /* 4 for every published model */
  int        depths[VB_VMAMBA_MAX_STAGES];
  int        dims[VB_VMAMBA_MAX_STAGES];   /* stage widths; dims[i+1] = 2·dims[i] */
  int        dt_rank[VB_VMAMBA_MAX_STAGES];/* 0 = "auto" = ceil(C/16) */
  int        d_state;                      /* N */
  double     ssm_ratio;                    /* D = ssm_ratio · C */
  VbScanMode scan;
  int        num_classes;
  int        in_chans;                     /* 3 */
  float      drop_path_rate;               /* linear over all blocks */
} VbVmambaConfig;

/* VMamba-T (shared/specs/vmamba.md §1.1) with num_classes classes. */
void vb_vmamba_config_tiny (VbVmambaConfig *cfg, int num_classes);
/* dims0 doubling per stage, the given depths, everything else as VMamba-T. */
void vb_vmamba_config_scaled (VbVmambaConfig *cfg, int dims0, const int *depths, int n_stages,
                              int num_classes);
gboolean vb_vmamba_config_validate (const VbVmambaConfig *cfg, GError **error);
int  vb_vmamba_config_d_inner (const VbVmambaConfig *cfg, int stage);
int  vb_vmamba_config_dt_rank (const VbVmambaConfig *cfg, int stage);
const char *vb_scan_mode_to_string (VbScanMode mode);          /* "4dir", "2dir", "1dir", "lean2dir" */
gboolean    vb_scan_mode_from_string (const char *s, VbScanMode *mode);
/* Human label for tables; lean 2-dir must never pass for the paper's Bidi-Scan. */
const char *vb_scan_mode_label (VbScanMode mode);

typedef struct {
  char    *name;
  int      ndim;
  int64_t  shape[4];
  int64_t  offset;      /* in floats, into params / grads */
  int64_t  numel;
  gboolean decay;       /* AdamW weight decay, official grouping (§6) */
} VbParamInfo;

typedef struct _VbVmamba VbVmamba;

VbVmamba   *vb_vmamba_new          (const VbVmambaConfig *cfg, GError **error);
void        vb_vmamba_free         (VbVmamba *model);
const VbVmambaConfig *vb_vmamba_config (VbVmamba *model);

int64_t     vb_vmamba_n_params     (VbVmamba *model);
guint       vb_vmamba_n_tensors    (VbVmamba *model);
const VbParamInfo *vb_vmamba_tensor (VbVmamba *model, guint i);
const VbParamInfo *vb_vmamba_find_tensor (VbVmamba *model, const char *name);
/* The host copies. On the CPU backend they are what the ops use; on another backend
 * call vb_vmamba_params_to_backend after writing the host parameters (init and load do
 * it themselves) and the *_from_backend functions before reading them. */
float      *vb_vmamba_params       (VbVmamba *model);
float      *vb_vmamba_grads        (VbVmamba *model);

/* Moves the model onto a backend (vb_cpu_ops (), or the CUDA table): its parameters and
 * gradients are copied there, every forward and backward op runs there. The table must
 * outlive the model (or the next call). */
gboolean    vb_vmamba_use_backend  (VbVmamba *model, const VbOps *ops, GError **error);
const VbOps *vb_vmamba_backend     (VbVmamba *model);
/* bf16 storage (precision "bf16", specs/kernels.md §7): the block products' operands
 * (weights, the LayerNorm and GELU outputs that feed them, the gradients they multiply)
 * held as bf16, the products accumulating in fp32; master weights, the residual stream,
 * the scan, LayerNorm statistics, loss and optimizer stay fp32. Off by default (strict
 * fp32). The next forward plans its buffers anew when this changes. */
void        vb_vmamba_set_bf16     (VbVmamba *model, gboolean bf16);
gboolean    vb_vmamba_bf16         (VbVmamba *model);
/* the backend's parameter and gradient buffers (for the optimizer) */
float      *vb_vmamba_backend_params (VbVmamba *model);
float      *vb_vmamba_backend_grads  (VbVmamba *model);
void        vb_vmamba_params_to_backend   (VbVmamba *model);
float      *vb_vmamba_params_from_backend (VbVmamba *model);   /* returns the host copy */
float      *vb_vmamba_grads_from_backend  (VbVmamba *model);

/* Official initialisation (§6), seeded. */
void        vb_vmamba_init_weights (VbVmamba *model, uint64_t seed);
/* Re-initialise only the classifier head (fine-tuning on a new class count). */
void        vb_vmamba_init_head    (VbVmamba *model, VbRng *rng);

/* Copy tensors by name from a dict. Every expected key must be present with the right
 * shape and no key may be left over, except classifier.head.* when skip_head is TRUE.
 * `source` names the file for error messages. */
gboolean    vb_vmamba_load_dict    (VbVmamba *model, VbTensorDict *dict, gboolean skip_head,
                                    const char *source, GError **error);
/* All parameters, by official name (copies). */
VbTensorDict *vb_vmamba_to_dict    (VbVmamba *model);
/* Infer depths, dims, d_state, dt_rank, ssm_ratio and class count from an official state
 * dict (§12.3). The scan mode cannot be inferred: it is taken from `scan`. */
gboolean    vb_vmamba_config_from_dict (VbTensorDict *dict, VbScanMode scan,
                                        VbVmambaConfig *cfg, const char *source,
                                        GError **error);

/* Forward. images: (B, H, W, in_chans) channel-last. Writes logits (B, classes) into an
 * internal buffer returned by vb_vmamba_logits. training = TRUE saves what the backward
 * needs and draws drop-path masks from rng (may be NULL when drop_path_rate is 0); it
 * waits for nothing on the GPU (the logits are fetched when vb_vmamba_logits asks, and
 * are checked for non-finite values only at evaluation: a training step checks its loss). */
gboolean    vb_vmamba_forward      (VbVmamba *model, const float *images, int B, int H, int W,
                                    gboolean training, VbRng *rng, GError **error);
const float *vb_vmamba_logits      (VbVmamba *model);
/* The forward's work queued on the backend and nothing waited for, at evaluation too (the
 * logits then come back through vb_vmamba_logits): the part a CUDA graph records. */
gboolean    vb_vmamba_forward_queue (VbVmamba *model, const float *images, int B, int H,
                                     int W, gboolean training, VbRng *rng, GError **error);
/* The host's share of the next training step, done ahead: the drop-path draws and the
 * labels written into the page-locked staging the step copies from (so that a replayed
 * graph finds them). The next training forward then draws nothing. */
void        vb_vmamba_stage_step   (VbVmamba *model, const int *labels, VbRng *rng);
/* the staged draws serve the next forward again (a recording that did not run them) */
void        vb_vmamba_keep_staged  (VbVmamba *model);
const int  *vb_vmamba_staged_labels (VbVmamba *model);
/* a number that changes whenever the activation buffers are planned anew (anything that
 * kept their addresses, as a recorded graph does, is stale then) */
guint64     vb_vmamba_plan_id      (VbVmamba *model);
/* The backend buffer the forward reads its (B, H, W, in_chans) input from: fill it once
 * (ops->upload) and pass it as `images` to keep the input resident, as a benchmark whose
 * input already sits on the GPU does. Valid until the batch or size changes, or a
 * training forward follows an evaluation-only plan (training: plan for training now). */
float      *vb_vmamba_input_buffer (VbVmamba *model, int B, int H, int W, gboolean training,
                                    GError **error);
/* Host memory the next forward's input can be written to and read from without a
 * synchronous copy: page-locked staging on the GPU (passed as `images`, it is copied in
 * the stream's order), the input buffer itself on the CPU. Valid as vb_vmamba_input_buffer. */
float      *vb_vmamba_input_staging (VbVmamba *model, int B, int H, int W, gboolean training,
                                     GError **error);
/* Mean softmax cross-entropy with label smoothing of the last forward: _queue computes it
 * on the backend without waiting, _read fetches it (after the step's work); vb_vmamba_loss
 * does both. */
void        vb_vmamba_loss_queue   (VbVmamba *model, const int *labels, float smoothing);
float       vb_vmamba_loss_read    (VbVmamba *model);
/* where the last loss lives on the backend (one float): a data-parallel step averages it
 * over the ranks in place */
float      *vb_vmamba_loss_buffer  (VbVmamba *model);
float       vb_vmamba_loss         (VbVmamba *model, const int *labels, float smoothing);
/* Data parallel: this model's B images are rows [offset, offset + B) of a global batch of
 * global_b. The drop-path draws are then made for the global batch and this slice kept,
 * so every image gets the mask a one-device run gives it. (0, 0): not sharded. */
void        vb_vmamba_set_batch_shard (VbVmamba *model, int offset, int global_b);
/* Told during the backward each time a suffix of the gradient buffer is final:
 * grads[from, n_params) do not change again in this backward (it runs through the
 * parameters in the reverse of their order). A data-parallel run starts averaging there,
 * overlapping the rest of the backward. NULL: nobody is told. */
typedef void (*VbGradReadyFunc) (gpointer user_data, int64_t from);
void        vb_vmamba_set_grad_ready (VbVmamba *model, VbGradReadyFunc func, gpointer user_data);
/* Backward from the last loss; accumulates into the gradient buffer (zero it first with
 * vb_vmamba_zero_grad). dimages (B, H, W, in_chans) is written when non-NULL. */
void        vb_vmamba_backward     (VbVmamba *model, float *dimages);
void        vb_vmamba_zero_grad    (VbVmamba *model);

/* Costs. MACs in the published fvcore convention (§9.1); activation bytes = what this
 * engine keeps for the backward, per image, at H×W. */
int64_t     vb_vmamba_macs         (const VbVmambaConfig *cfg, int H, int W);
int64_t     vb_vmamba_param_count  (const VbVmambaConfig *cfg);
int64_t     vb_vmamba_activation_bytes (const VbVmambaConfig *cfg, int H, int W,
                                        gboolean bf16);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbVmamba, vb_vmamba_free)

G_END_DECLS
