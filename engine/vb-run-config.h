/* vb-run-config.h: one run's settings, read from an expanded preset config (JSON, the
 * schema of the files in data/presets). Every field has a default, so a preset names only
 * what it changes; a field of the wrong type is an error naming the field. */
#pragma once

#include <json-glib/json-glib.h>

#include "vb-vmamba.h"

G_BEGIN_DECLS

/* model.lora_base: LoRA's frozen W₀ and b₀ in the projector study (§4.5) */
typedef enum {
  VB_LORA_BASE_IDENTITY,        /* "identity": W₀ = I, b₀ = 0 (the default) */
  VB_LORA_BASE_LINEAR_0_4,      /* "linear-classes-0-4": the Linear trained with the run's
                                 * recipe and seed on the training images of classes 0–4
                                 * only; the adapters are then trained on all classes */
  VB_LORA_BASE_N
} VbLoraBase;

/* "identity", "linear-classes-0-4" */
const char *vb_lora_base_name  (VbLoraBase base);
/* what results print: "identity", "Linear on classes 0–4" */
const char *vb_lora_base_label (VbLoraBase base);
gboolean    vb_lora_base_from_name (const char *name, VbLoraBase *base);

/* model.arch "projector": the projector study (shared/specs/clip-projectors.md §3–§5).
 * The encoder is ViT-L/14 unless clip_layers, clip_width and clip_heads are all set (a
 * small tower for tests and small machines). */
typedef struct {
  char   *projector;          /* model.projector: proj-linear … proj-lora */
  int     lora_rank;          /* model.lora_rank (8) */
  double  lora_alpha;         /* model.lora_alpha (16) */
  VbLoraBase lora_base;       /* model.lora_base ("identity"); proj-lora only, the other
                               * projectors ignore it */
  char   *clip_weights;       /* model.clip_weights: HF safetensors; "" = seeded random */
  guint64 clip_seed;          /* model.clip_seed: the random weights' seed */
  int     clip_layers, clip_width, clip_heads;   /* 0 = ViT-L/14 */
  int     train_per_class;    /* data.train_per_class (500, §4.1) */
  int     val_per_class;      /* data.val_per_class (100) */
  int     test_per_class;     /* data.test_per_class (200) */
  int     extract_batch;      /* data.extract_batch: images per encoder forward (8) */
  int     rt_inputs, rt_warmup, rt_timed, rt_repeats;   /* runtime.* (200, 8, 20, 3; §5) */
  gboolean reconstruction;    /* train.mode "reconstruction": Mode B (§4.4); else Mode A */
  gboolean shuffled_pairs;    /* train.shuffled_pairs: §4.6 control, targets permuted */
} VbProjStudyConfig;

/* model.arch "clip-profile": runtime and multiply-adds per stage of one CLIP forward and
 * of the five projectors (vb-clip-profile.h). The encoder is read into VbProjStudyConfig's
 * clip_* fields (and lora_rank, lora_alpha), as for the study; the rest is the profile
 * section. */
typedef struct {
  char   *layers;             /* profile.layers: "llava" (layers − 1) or "all" */
  int     batch;              /* profile.batch: images per forward (1) */
  int     warmup, timed, repeats;   /* profile.* (1, 3, 1): few, ViT-L is slow on a CPU */
  char   *precision;          /* profile.precision: "fp32" (strict), "tf32" or "bf16" matrix
                               * products; the latter two on the GPU only (a CPU run
                               * computes fp32 and its card says so) */
} VbClipProfileConfig;

typedef struct {
  char   *run_name;
  char   *device;             /* "cpu" or "cuda" (builds with the CUDA backend) */

  /* model */
  char   *arch;               /* "vmamba", "projector" or "clip-profile" */
  VbVmambaConfig model;       /* arch vmamba */
  VbProjStudyConfig proj;     /* arch projector; the encoder of clip-profile */
  VbClipProfileConfig profile;   /* arch clip-profile */
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
  char   *mode;               /* "scratch" or "finetune"; projector: "alignment" (Mode A, the
                               * default) or "reconstruction" (Mode B) */
  int     epochs;
  int     batch_size;
  double  lr, min_lr, warmup_lr, warmup_epochs, weight_decay, label_smoothing, clip_grad;
  guint64 seed;
  int     eval_batch_size;
  char   *precision;          /* "fp32" */
  int     threads;
  int     gpus;               /* train.gpus: 0 = one device; N ≥ 1 = data parallel over N
                               * GPUs of this host through NCCL (vb-dist-group.h) */
} VbRunConfig;

gboolean vb_run_config_from_json (VbRunConfig *cfg, JsonObject *config, GError **error);
void     vb_run_config_clear     (VbRunConfig *cfg);
/* TRUE when the run starts from pretrained weights. */
gboolean vb_run_config_is_finetune (const VbRunConfig *cfg);
/* TRUE for a projector-study run (model.arch "projector"). */
gboolean vb_run_config_is_projector (const VbRunConfig *cfg);
/* TRUE for a clip-profile run (model.arch "clip-profile"). */
gboolean vb_run_config_is_clip_profile (const VbRunConfig *cfg);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbRunConfig, vb_run_config_clear)

G_END_DECLS
