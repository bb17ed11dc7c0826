/* vb-train-step.h: one VMamba training step (forward, loss, backward, clipped AdamW) or
 * evaluation forward queued on the model's backend without waiting. On a backend that
 * records graphs (the GPU), the step after a warm-up one is captured as a CUDA graph and
 * later steps with the same buffers replay it with one launch: the host only stages the
 * step's drop-path draws, labels and optimizer scalars in page-locked memory the graph
 * copies from. Bit for bit the same arithmetic as the launches it records. */
#pragma once

#include "vb-optim.h"
#include "vb-rng.h"
#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct _VbStepGraph VbStepGraph;

/* use_graphs FALSE (or VB_NO_GRAPHS in the environment): always launch op by op */
VbStepGraph *vb_step_graph_new  (gboolean use_graphs);
void         vb_step_graph_free (VbStepGraph *g);

/* images: the model's input staging or input buffer (vb_vmamba_input_staging /
 * _input_buffer) for (B, H, W); labels: B ints. Queued only: sync the backend, then read
 * vb_vmamba_loss_read and vb_adamw_last_grad_norm. */
gboolean vb_step_graph_train (VbStepGraph *g, VbVmamba *model, VbAdamW *opt,
                              const float *images, int B, int H, int W, const int *labels,
                              float smoothing, VbRng *rng, float lr, double max_norm,
                              GError **error);
/* an evaluation forward, queued only (logits through vb_vmamba_logits after a sync) */
gboolean vb_step_graph_eval (VbStepGraph *g, VbVmamba *model, const float *images, int B,
                             int H, int W, GError **error);
/* Data parallel: what a training step shares with the other ranks, queued on the backend
 * inside the step (and so recorded into its graph): after_loss right after the loss,
 * before_update after the backward, before the optimizer reads the gradients. */
typedef struct {
  void (*after_loss) (gpointer user_data);
  void (*before_update) (gpointer user_data);
  gpointer user_data;
} VbStepExchange;
/* NULL: nothing shared (one device) */
void vb_step_graph_set_exchange (VbStepGraph *g, const VbStepExchange *exchange);

/* how the last step ran: "CUDA graph", "op by op" */
const char *vb_step_graph_mode (VbStepGraph *g);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbStepGraph, vb_step_graph_free)

G_END_DECLS
