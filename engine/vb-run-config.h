/* vb-run-config.h: one run's settings, read from an expanded preset config (JSON, the
 * schema of the files in data/presets). Every field has a default, so a preset names only
 * what it changes; a field of the wrong type is an error naming the field. */
#pragma once

#include <json-glib/json-glib.h>

#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct {
  char   *run_name;
  char   *device;             /* "cpu" or "cuda" (builds with the CUDA backend) */

  /* model */
  VbVmambaConfig model;
  char   *init_from;          /* .pth or .safetensors; "" = none */
  gboolean strip_head;
  gboolean use_ema;           /* read model_ema from an official checkpoint */

  /* data */
  char   *dataset;            /* fashion-mnist, image-folder, cifar10, idx */
  char   *data_path;
  int     img_size;
  int     train_limit;        /* 0 = all */
  int     val_limit;          /* 0 = all */
  int     n_classes;          /* image-folder: classes chosen by seed (0 = all) */
  char  **class_list;         /* image-folder: these class folders, in this order (NULL = by
                               * n_classes); data.classes */
  guint64 split_seed;
  double  train_fraction;
  int     workers;
  double  scale_min;          /* random resized crop: smallest area fraction */
  gboolean hflip;

  /* train */
  char   *mode;               /* "scratch" or "finetune" */
  int     epochs;
  int     batch_size;
  double  lr, min_lr, warmup_lr, warmup_epochs, weight_decay, label_smoothing, clip_grad;
  guint64 seed;
  int     eval_batch_size;
  char   *precision;          /* "fp32" */
  int     threads;
} VbRunConfig;

gboolean vb_run_config_from_json (VbRunConfig *cfg, JsonObject *config, GError **error);
void     vb_run_config_clear     (VbRunConfig *cfg);
/* TRUE when the run starts from pretrained weights. */
gboolean vb_run_config_is_finetune (const VbRunConfig *cfg);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbRunConfig, vb_run_config_clear)

G_END_DECLS
