/* vb-checkpoint.h: VisionBench's own checkpoints and weight import.
 *
 * A checkpoint is ONE safetensors file (written atomically: temp file, fsync, rename), so a
 * run killed while saving keeps its previous checkpoint intact. It holds the parameters
 * under their official names, the AdamW moments as "optimizer.exp_avg.<name>" and
 * "optimizer.exp_avg_sq.<name>", and in __metadata__ a "visionbench" JSON document with
 * the run's config, epoch, step and optimizer step, enough to resume exactly. */
#pragma once

#include "vb-optim.h"
#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct {
  int     epoch;            /* epochs completed */
  int64_t step;             /* training steps completed */
  char   *config_json;      /* the run's full config */
  double  val_top1;
} VbCheckpointInfo;

void     vb_checkpoint_info_clear (VbCheckpointInfo *info);

gboolean vb_checkpoint_save (const char *path, VbVmamba *model, VbAdamW *opt,
                             const VbCheckpointInfo *info, GError **error);
/* Loads parameters (and moments when opt is non-NULL) into a model of the same config. */
gboolean vb_checkpoint_load (const char *path, VbVmamba *model, VbAdamW *opt,
                             VbCheckpointInfo *info, GError **error);

/* Weights for fine-tuning or prediction: an official PyTorch .pth/.pt (model, or
 * model_ema when use_ema), or a safetensors file (a VisionBench checkpoint or a plain
 * state dict). Optimizer entries are dropped. */
VbTensorDict *vb_weights_load (const char *path, gboolean use_ema, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbCheckpointInfo, vb_checkpoint_info_clear)

G_END_DECLS
