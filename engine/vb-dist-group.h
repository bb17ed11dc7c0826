/* vb-dist-group.h: the data-parallel ranks of this process, one thread and one GPU each,
 * joined into one NCCL world with the ranks of the job's other processes (vb-dist.h).
 *
 * Every rank holds the whole model and takes a shard of each global batch; its
 * gradients are averaged over the world in buckets while its backward still runs (the
 * last layers' first), so every rank's optimizer takes the same step. A rank that fails
 * stops the others of its process at once; a peer process that fails or vanishes is
 * noticed through NCCL's error, or when nothing has moved for VB_DIST_TIMEOUT_S seconds
 * (300 by default). */
#pragma once

#include "vb-train-step.h"
#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct _VbDistGroup VbDistGroup;
typedef struct _VbDistRank VbDistRank;

/* This process's share of the world: `gpus` GPUs of its host, the rest of the world from
 * the launcher's environment; makes or fetches the world's NCCL id. Joins nothing yet.
 * An error when the build has no CUDA backend or NCCL cannot be loaded. */
VbDistGroup *vb_dist_group_new      (int gpus, GError **error);
void         vb_dist_group_free     (VbDistGroup *group);
int          vb_dist_group_world    (VbDistGroup *group);
/* "2 GPUs in 1 process, NCCL 2.28.9" */
const char  *vb_dist_group_describe (VbDistGroup *group);

/* Runs func once per local rank, local rank 0 on the calling thread and each other on a
 * thread of its own, after the rank has made its GPU current and joined the world; returns
 * when all have returned. When a rank fails, the others stop; the error returned is the
 * first failure's own (not a "stopped by another rank"), naming the rank and its GPU. */
typedef gboolean (*VbDistRankFunc) (VbDistRank *rank, gpointer data, GError **error);
gboolean     vb_dist_group_run      (VbDistGroup *group, VbDistRankFunc func, gpointer data,
                                     GError **error);

int          vb_dist_rank_index     (VbDistRank *rank);   /* in the world, 0 writes results */
int          vb_dist_rank_world     (VbDistRank *rank);
int          vb_dist_rank_gpu       (VbDistRank *rank);   /* the device index it drives */
int          vb_dist_rank_local     (VbDistRank *rank);   /* among this process's ranks */
const VbOps *vb_dist_rank_ops       (VbDistRank *rank);

/* The model's training steps through `graph` share their gradients (averaged in buckets
 * during the backward) and their loss (averaged) with the other ranks. */
void         vb_dist_rank_attach    (VbDistRank *rank, VbVmamba *model, VbStepGraph *graph);
/* the model's parameters ← rank 0's (the runs start from one set of weights) */
gboolean     vb_dist_rank_broadcast_params (VbDistRank *rank, VbVmamba *model, GError **error);
/* waits for the rank's queued work while watching the world (vb_nccl_wait) */
gboolean     vb_dist_rank_wait      (VbDistRank *rank, GError **error);
/* while held (a paused job), the other ranks of this process wait without a deadline */
void         vb_dist_rank_hold      (VbDistRank *rank, gboolean hold);
/* values[0..n) ← their sum over the ranks */
gboolean     vb_dist_rank_sum       (VbDistRank *rank, double *values, int n, GError **error);
/* all[r·n + i] ← rank r's mine[i], for every rank r */
gboolean     vb_dist_rank_gather    (VbDistRank *rank, const double *mine, int n, double *all,
                                     GError **error);

/* TRUE once this process gave up a world whose peer stopped answering (see
 * vb_nccl_world_lost): a program should then end with _exit after writing its results */
gboolean     vb_dist_world_lost     (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbDistGroup, vb_dist_group_free)

G_END_DECLS
