/* vb-trainer.h: one run, start to finish: data, model, AdamW, the epoch loop,
 * evaluation (Top-1/Top-5), checkpoints, and throughput with its protocol card.
 * GTK-free and synchronous: the job thread and the CLI both call it. */
#pragma once

#include "vb-run-config.h"
#include "vb-store.h"

G_BEGIN_DECLS

typedef struct {
  const char *phase;          /* "load", "train", "eval" */
  int     epoch;              /* 1-based, during training */
  int     epochs;
  int64_t step;               /* steps done */
  int64_t total_steps;
  double  loss;               /* latest training loss */
  double  lr;
  double  img_per_s;          /* training throughput so far */
  double  eta_s;              /* seconds left, estimated */
  double  val_top1;           /* last evaluation, NAN before the first */
  const char *gpus;           /* data parallel: every GPU's img/s and memory, one line
                               * ("rank 0 (GPU 0) 1412 img/s 18.9 GiB · …"); NULL otherwise */
} VbProgress;

typedef struct {
  void     (*progress)      (const VbProgress *progress, gpointer user_data);
  gboolean (*should_cancel) (gpointer user_data);
  gpointer user_data;
} VbTrainHooks;

typedef struct {
  double  top1, top5;         /* percent, last epoch */
  double  val_loss, train_loss;
  double  train_img_per_s, eval_img_per_s;
  int64_t params, macs;
  int     epochs_done;
  guint64 skipped_images;
  char   *checkpoint_path;
  char   *dataset_fingerprint;
} VbTrainResult;

void     vb_train_result_clear (VbTrainResult *result);

/* Runs the training; with cfg->gpus ≥ 1, data parallel over that many GPUs of this host
 * (and the processes the launcher's environment names, vb-dist.h) through NCCL: the
 * batch size stays the global batch, each GPU takes an equal shard of it, and rank 0
 * alone writes the database and the checkpoints. store/run_id may be NULL/0 (no database).
 * The checkpoint goes to checkpoint_dir/last.safetensors after every epoch (NULL: no checkpoint). resume_from:
 * a checkpoint of this same config to continue from (NULL: start fresh).
 * On cancel: returns FALSE with VB_ENGINE_ERROR_CANCELLED, keeping the last checkpoint;
 * on a NaN or infinite loss: VB_ENGINE_ERROR_DIVERGED, keeping the last good checkpoint. */
gboolean vb_train_run (const VbRunConfig *cfg, const char *config_json, VbStore *store,
                       gint64 run_id, const char *checkpoint_dir, const char *resume_from,
                       const VbTrainHooks *hooks, VbTrainResult *result, GError **error);

void     vb_set_num_threads (int n);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbTrainResult, vb_train_result_clear)

G_END_DECLS
