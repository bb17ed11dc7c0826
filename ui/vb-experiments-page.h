/* vb-experiments-page.h: preset cards → a form (data set with a pre-flight check, training
 * fields, grids over resolutions, scan modes and seeds) with inline validation → Run or
 * Queue; clone & edit of a stored run. */
#pragma once

#include <adwaita.h>

#include "vb-session.h"

G_BEGIN_DECLS

#define VB_TYPE_EXPERIMENTS_PAGE (vb_experiments_page_get_type ())
G_DECLARE_FINAL_TYPE (VbExperimentsPage, vb_experiments_page, VB, EXPERIMENTS_PAGE, AdwBin)

GtkWidget  *vb_experiments_page_new            (VbSession         *session);
/* Shows the form of the preset named name, as clicking its card does. */
gboolean    vb_experiments_page_select_preset  (VbExperimentsPage *self,
                                                const char        *name);
/* Types text into the form field of a dotted config key ("data.n_classes",
 * "data.train_fraction", "data.split_seed", "train.epochs", "train.batch_size", "train.lr",
 * "data.train_limit", "train.seed" (a list: "0,1,2")). */
gboolean    vb_experiments_page_set_field      (VbExperimentsPage *self,
                                                const char        *key,
                                                const char        *text);
/* Ticks or unticks a scan mode ("4dir", "2dir", "1dir"). */
gboolean    vb_experiments_page_set_scan_mode  (VbExperimentsPage *self,
                                                const char        *mode,
                                                gboolean           active);
const char *vb_experiments_page_get_field      (VbExperimentsPage *self,
                                                const char        *key);
/* The inline message label under a field (also "model.scan", "data.img_size",
 * "data.path"); visible while the field is invalid. */
GtkWidget  *vb_experiments_page_get_field_message (VbExperimentsPage *self,
                                                   const char        *key);
gboolean    vb_experiments_page_get_scan_mode  (VbExperimentsPage *self,
                                                const char        *mode);
/* Ticks or unticks an image size offered by the form (64, 128, 224, the preset's). */
gboolean    vb_experiments_page_set_resolution (VbExperimentsPage *self,
                                                int                size,
                                                gboolean           active);
gboolean    vb_experiments_page_get_resolution (VbExperimentsPage *self,
                                                int                size);
/* kind: "fashion-mnist", "image-folder" or "cifar10"; path "" is the built-in set. */
gboolean    vb_experiments_page_set_dataset    (VbExperimentsPage *self,
                                                const char        *kind,
                                                const char        *path);
const char *vb_experiments_page_get_dataset    (VbExperimentsPage  *self,
                                                const char        **path);
/* Presses Check Dataset: the check runs on a worker thread. */
void        vb_experiments_page_check_dataset  (VbExperimentsPage *self);
gboolean    vb_experiments_page_get_checking   (VbExperimentsPage *self);
/* What the check row says now (the result, or why it failed). */
const char *vb_experiments_page_get_check_message (VbExperimentsPage *self);
/* The problems the form shows now, one a line; NULL when it is valid. */
char       *vb_experiments_page_dup_problems   (VbExperimentsPage *self);
/* The overrides Run would submit (NULL-terminated). */
GStrv       vb_experiments_page_dup_overrides  (VbExperimentsPage *self);
/* The equivalent visionbench-cli command line shown under the form. */
const char *vb_experiments_page_get_command    (VbExperimentsPage *self);
/* The edited preset Run and Queue would submit; NULL when the preset file serves. */
const char *vb_experiments_page_get_edited_preset (VbExperimentsPage *self);
GtkWidget  *vb_experiments_page_get_run_button (VbExperimentsPage *self);
GtkWidget  *vb_experiments_page_get_queue_button (VbExperimentsPage *self);
/* A projector-study preset (model.arch "projector"): ticks or unticks a projector
 * ("proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora"). */
gboolean    vb_experiments_page_set_projector  (VbExperimentsPage *self,
                                                const char        *id,
                                                gboolean           active);
gboolean    vb_experiments_page_get_projector  (VbExperimentsPage *self,
                                                const char        *id);
/* The encoder weights file, as the file chooser sets it ("" = seeded random weights). */
gboolean    vb_experiments_page_set_weights    (VbExperimentsPage *self,
                                                const char        *path);
/* What the form says beside the weights ("results will say random weights"). */
const char *vb_experiments_page_get_weights_hint (VbExperimentsPage *self);
/* A projector-study preset: LoRA's frozen base, model.lora_base, "identity" or
 * "linear-classes-0-4". */
gboolean    vb_experiments_page_set_lora_base (VbExperimentsPage *self,
                                               const char        *id);
const char *vb_experiments_page_get_lora_base (VbExperimentsPage *self);
/* A clip-profile preset (model.arch "clip-profile"): profile.layers, "llava" or "all". */
gboolean    vb_experiments_page_set_profile_layers (VbExperimentsPage *self,
                                                    const char        *id);
const char *vb_experiments_page_get_profile_layers (VbExperimentsPage *self);
/* Whether the form of the chosen preset has the field of a dotted key (the text fields'
 * keys, "model.scan", "data.img_size", "model.projector", "model.lora_base",
 * "model.clip_weights", "profile.layers", "data.path"): a projector study's form has no scan modes, a VMamba
 * form no projectors, a clip-profile's no data set. */
gboolean    vb_experiments_page_has_field      (VbExperimentsPage *self,
                                                const char        *key);
/* Clone & edit: selects the run's preset and fills the form from the run's stored
 * config (data set, fields, image size, scan mode, seed). */
gboolean    vb_experiments_page_load_run       (VbExperimentsPage  *self,
                                                gint64              run_id,
                                                GError            **error);

G_END_DECLS
