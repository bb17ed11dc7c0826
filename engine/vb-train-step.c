/* vb-train-step.c: a step recorded once as a graph and replayed (see vb-train-step.h). */
#include "config.h"

#include "vb-train-step.h"

#include <string.h>

#include "vb-error.h"
#include "vb-profile.h"

/* what a recorded graph depends on: every pointer and value baked into its launches */
typedef struct {
  VbVmamba *model;
  VbAdamW *opt;
  const float *images, *params;
  guint64 plan;           /* the activation buffers' plan: a new one moved them */
  int B, H, W;
  gboolean training;
  float smoothing;
  double max_norm;
} Key;

struct _VbStepGraph {
  gboolean use_graphs;
  const VbOps *ops;
  void *graph;            /* the backend's replayable step, or NULL */
  Key key;
  int warm;               /* steps launched op by op with this key */
  gboolean replayed;      /* the last step was a replay */
  VbStepExchange exchange;
};

VbStepGraph *
vb_step_graph_new (gboolean use_graphs)
{
  VbStepGraph *g = g_new0 (VbStepGraph, 1);
  g->use_graphs = use_graphs && g_getenv ("VB_NO_GRAPHS") == NULL;
  return g;
}

static void
drop_graph (VbStepGraph *g)
{
  if (g->graph != NULL)
    g->ops->graph_free (g->ops->ctx, g->graph);
  g->graph = NULL;
  g->warm = 0;
}

void
vb_step_graph_free (VbStepGraph *g)
{
  if (g == NULL)
    return;
  drop_graph (g);
  g_free (g);
}

const char *
vb_step_graph_mode (VbStepGraph *g)
{
  return g->replayed ? "CUDA graph" : "op by op";
}

void
vb_step_graph_set_exchange (VbStepGraph *g, const VbStepExchange *exchange)
{
  drop_graph (g);   /* a recorded step holds the old exchange's work, or none */
  if (exchange != NULL)
    g->exchange = *exchange;
  else
    memset (&g->exchange, 0, sizeof g->exchange);
}

/* the step's device work, in order; nothing waits */
static gboolean
queue_step (const VbStepExchange *x, const Key *k, const int *labels, float lr,
            GError **error)
{
  /* drop-path draws are staged: the forward draws nothing */
  if (!vb_vmamba_forward_queue (k->model, k->images, k->B, k->H, k->W, k->training, NULL,
                                error))
    return FALSE;
  if (!k->training)
    return TRUE;
  vb_vmamba_loss_queue (k->model, labels, k->smoothing);
  if (x->after_loss != NULL)
    x->after_loss (x->user_data);
  vb_vmamba_zero_grad (k->model);
  vb_vmamba_backward (k->model, NULL);
  if (x->before_update != NULL)
    x->before_update (x->user_data);
  VB_PROF ("adamw", vb_adamw_update_clipped (k->opt, vb_vmamba_backend_params (k->model),
                                             vb_vmamba_backend_grads (k->model), lr,
                                             k->max_norm));
  return TRUE;
}

static gboolean
same_key (const Key *a, const Key *b)
{
  return a->model == b->model && a->opt == b->opt && a->images == b->images
         && a->params == b->params && a->plan == b->plan && a->B == b->B && a->H == b->H
         && a->W == b->W && a->training == b->training && a->smoothing == b->smoothing
         && a->max_norm == b->max_norm;
}

static gboolean
run (VbStepGraph *g, Key *k, const int *labels, VbRng *rng, float lr, GError **error)
{
  const VbOps *ops = vb_vmamba_backend (k->model);
  /* the plan must hold before anything is staged or recorded */
  if (vb_vmamba_input_buffer (k->model, k->B, k->H, k->W, k->training, error) == NULL)
    return FALSE;
  k->params = vb_vmamba_backend_params (k->model);
  k->plan = vb_vmamba_plan_id (k->model);
  if (g->ops != ops || !same_key (k, &g->key))
    {
      drop_graph (g);
      g->ops = ops;
      g->key = *k;
    }
  /* the host's share, into the staging the recorded copies read */
  if (k->training)
    {
      vb_vmamba_stage_step (k->model, labels, rng);
      vb_adamw_stage (k->opt, lr);
      labels = vb_vmamba_staged_labels (k->model);   /* the loss reads the staging */
    }
  g->replayed = FALSE;
  if (g->graph != NULL)
    {
      ops->graph_launch (ops->ctx, g->graph);
      g->replayed = TRUE;
      return TRUE;
    }
  /* record after one warm-up step (it sizes every scratch buffer: a recorded step may not
   * allocate); never while profiling, which waits after each op */
  gboolean record = g->use_graphs && g->warm >= 1 && !vb_profile_on
                    && ops->capture_begin (ops->ctx);
  g->warm++;
  if (!queue_step (&g->exchange, k, labels, lr, error))
    {
      if (record)   /* end the recording; what it holds is not wanted */
        {
          void *partial = ops->capture_end (ops->ctx);
          if (partial != NULL)
            ops->graph_free (ops->ctx, partial);
        }
      return FALSE;
    }
  if (!record)
    return TRUE;
  g->graph = ops->capture_end (ops->ctx);
  if (g->graph == NULL)
    {
      /* not recordable here: launch op by op from now on, as vb_step_graph_mode then
       * says (the recorded launches did not run, so the step runs now; its host share is
       * staged already) */
      ops->clear_error (ops->ctx);
      g->use_graphs = FALSE;
      if (k->training)
        {
          vb_vmamba_keep_staged (k->model);
          k->opt->staged = TRUE;
        }
      return queue_step (&g->exchange, k, labels, lr, error);
    }
  ops->graph_launch (ops->ctx, g->graph);
  g->replayed = TRUE;
  return TRUE;
}

gboolean
vb_step_graph_train (VbStepGraph *g, VbVmamba *model, VbAdamW *opt, const float *images,
                     int B, int H, int W, const int *labels, float smoothing, VbRng *rng,
                     float lr, double max_norm, GError **error)
{
  Key k = { model, opt, images, NULL, 0, B, H, W, TRUE, smoothing, max_norm };
  return run (g, &k, labels, rng, lr, error);
}

gboolean
vb_step_graph_eval (VbStepGraph *g, VbVmamba *model, const float *images, int B, int H,
                    int W, GError **error)
{
  Key k = { model, NULL, images, NULL, 0, B, H, W, FALSE, 0.0f, 0.0 };
  return run (g, &k, NULL, NULL, 0.0f, error);
}
