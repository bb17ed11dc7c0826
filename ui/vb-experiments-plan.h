/* vb-experiments-plan.h: what the Experiments form asks for, without GTK. The form's text
 * fields (what each accepts), the preset's own values, and the plan built from the form:
 * problems for the user, "key=value" overrides that --set can say on the preset file, and
 * edits that need an edited preset (a key the file lacks, a list for a key that is no grid
 * axis); then the edited preset's text and path, and the equivalent CLI command. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "vb-preset.h"

G_BEGIN_DECLS

typedef enum {
  VB_FORM_FIELD_INT,
  VB_FORM_FIELD_REAL,
  VB_FORM_FIELD_INT_LIST,     /* "0,1,2": one run per value */
} VbFormFieldKind;

/* Where a field sits in the form. */
typedef enum {
  VB_FORM_SECTION_DATA,
  VB_FORM_SECTION_TRAIN,
  VB_FORM_SECTION_PROJECTOR,  /* the projector study's own section */
  VB_FORM_SECTION_ADVANCED,   /* the study's "Advanced" expander */
  VB_FORM_SECTION_PROFILE,    /* the clip-profile's own section */
} VbFormSection;

/* Which presets show a field, by their model.arch: flags, so a field can belong to
 * several forms (the encoder's size to the projector study's and the profile's). */
typedef enum {
  VB_FORM_ARCH_VMAMBA       = 1 << 0,   /* any arch but the two below */
  VB_FORM_ARCH_PROJECTOR    = 1 << 1,   /* "projector" */
  VB_FORM_ARCH_CLIP_PROFILE = 1 << 2,   /* "clip-profile": no training, no data set */
  VB_FORM_ARCH_ANY          = VB_FORM_ARCH_VMAMBA | VB_FORM_ARCH_PROJECTOR,   /* training */
  VB_FORM_ARCH_ENCODER      = VB_FORM_ARCH_PROJECTOR | VB_FORM_ARCH_CLIP_PROFILE,
} VbFormArch;

typedef struct {
  const char      *key;
  const char      *title;
  const char      *hint;
  const char      *fallback;      /* the run config's default, for a preset without the key */
  VbFormFieldKind  kind;
  double           min, max;
  gboolean         min_exclusive, max_exclusive;
  gboolean         folder_only;   /* image-folder data sets only */
  VbFormSection    section;
  VbFormArch       arch;
} VbFormField;

/* The entry fields, in the order their overrides are written; those before
 * VB_FORM_FIRST_TRAIN_FIELD belong to the data set section. */
#define VB_FORM_N_FIELDS 20
#define VB_FORM_FIRST_TRAIN_FIELD 3
extern const VbFormField vb_form_fields[VB_FORM_N_FIELDS];

/* Whether field i is part of the form of a preset with (projector) or without
 * model.arch "projector". */
gboolean    vb_form_field_applies             (guint        i,
                                               gboolean     projector);
/* Whether field i is part of the form of a preset of arch (one flag). */
gboolean    vb_form_field_in_form             (guint        i,
                                               VbFormArch   arch);

/* ---- the projector study (model.arch "projector", clip-projectors.md §3–§5) ---- */

typedef struct {
  const char *id;       /* model.projector */
  const char *label;
} VbFormChoice;

#define VB_FORM_N_PROJECTORS 5
extern const VbFormChoice vb_form_projectors[VB_FORM_N_PROJECTORS];

/* The CLIP tower: layers, width and heads all 0 (ViT-L/14) or all set, width a multiple
 * of heads; LoRA's rank at most the width (1024 for ViT-L/14). NULL when fine, else a
 * message for the user. */
char       *vb_experiments_plan_check_encoder (gint64       layers,
                                               gint64       width,
                                               gint64       heads,
                                               gint64       lora_rank);
/* CIFAR-10 has 5,000 training and 1,000 test images a class (§4.1): train + validation
 * come from the training files. NULL when they fit. */
char       *vb_experiments_plan_check_per_class (gint64     train,
                                                 gint64     val,
                                                 gint64     test);
/* model.lora_base: LoRA's frozen base, "identity" or "linear-classes-0-4" (§4.5) */
#define VB_FORM_N_LORA_BASES 2
extern const VbFormChoice vb_form_lora_bases[VB_FORM_N_LORA_BASES];

/* ---- the clip-profile (model.arch "clip-profile", vb-clip-profile.h) ---- */

/* profile.layers: "llava" (up to hidden_states[-2]) or "all" */
#define VB_FORM_N_PROFILE_LAYERS 2
extern const VbFormChoice vb_form_profile_layers[VB_FORM_N_PROFILE_LAYERS];

/* The tower as for the study (LoRA's rank stays the preset's), and a small tower that
 * stops at LLaVA's layer needs a penultimate one: layers 0 (ViT-L/14) or at least 2.
 * NULL when fine. */
char       *vb_experiments_plan_check_profile (gint64       layers,
                                               gint64       width,
                                               gint64       heads,
                                               const char  *profile_layers);

/* The encoder weights file: "" is fine (seeded random weights), else an existing
 * .safetensors file. NULL when fine. */
char       *vb_experiments_plan_check_weights (const char  *path);

/* ---- data parallel (train.gpus: VMamba only, engine/vb-run-config.c) ---- */

/* Whether the preset has train.gpus (the VMamba presets carry "gpus": 0): only then does
 * the form offer data parallel, as an override of that field. */
gboolean    vb_experiments_plan_has_gpus      (VbPreset    *preset);

/* One value of field i, or for a list field comma-separated values without repeats, as
 * canonical texts; NULL with a message for the user when the text is not valid. */
GStrv       vb_experiments_plan_parse_field   (guint        i,
                                               const char  *text,
                                               char       **message);

/* ---- the preset's values ---- */

/* The member at a dotted key, or NULL. */
JsonNode   *vb_experiments_plan_lookup        (JsonObject  *obj,
                                               const char  *key);
/* A number or string node as canonical text; NULL for anything else. */
char       *vb_experiments_plan_node_to_text  (JsonNode    *node);
/* The member at a dotted key as canonical text, or NULL. */
char       *vb_experiments_plan_dup_text      (JsonObject  *obj,
                                               const char  *key);
/* TRUE for a projector-study preset (model.arch "projector" in its base). */
gboolean    vb_experiments_plan_is_projector  (VbPreset    *preset);
/* The form a preset gets: VB_FORM_ARCH_PROJECTOR, _CLIP_PROFILE or _VMAMBA. */
VbFormArch  vb_experiments_plan_arch          (VbPreset    *preset);
/* The preset's values of key as canonical texts: the axis values when it is an axis,
 * else the base value, else fallback. */
GStrv       vb_experiments_plan_preset_values (VbPreset    *preset,
                                               const char  *key,
                                               const char  *fallback);

/* ---- the plan ---- */

typedef struct {
  char    *key;
  GStrv    values;      /* canonical texts, one or more */
  gboolean is_string;
} VbExperimentsEdit;

typedef struct {
  GPtrArray *problems;    /* char*, for the user */
  GPtrArray *overrides;   /* char* "key=value": what --set can say on the preset file */
  GPtrArray *edits;       /* VbExperimentsEdit*: what needs an edited preset */
} VbExperimentsPlan;

void        vb_experiments_plan_init          (VbExperimentsPlan  *plan);
void        vb_experiments_plan_clear         (VbExperimentsPlan  *plan);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbExperimentsPlan, vb_experiments_plan_clear)

/* values against the preset: nothing when they agree (as a set), else an override, or an
 * edit when --set cannot say it (a key the file lacks, a list for a key that is no axis) */
void        vb_experiments_plan_add_values    (VbExperimentsPlan  *plan,
                                               VbPreset           *preset,
                                               const char         *key,
                                               const char * const *values,
                                               gboolean            is_string,
                                               const char         *fallback);
/* train.gpus = gpus (0 = one device) for a preset that has the field, else nothing. The
 * batch size is the global batch, so it must split evenly over the GPUs: when batch_size
 * does not, no override but a problem, which is returned (plan owns it); else NULL. */
const char *vb_experiments_plan_add_gpus      (VbExperimentsPlan  *plan,
                                               VbPreset           *preset,
                                               gint64              gpus,
                                               gint64              batch_size);
/* The problems, one a line; NULL when there are none. */
char       *vb_experiments_plan_dup_problems  (VbExperimentsPlan  *plan);

/* The preset file's text with the edits: base fields added, lists as new grid axes; NULL
 * when the text does not parse. */
char       *vb_experiments_plan_edited_preset (const char         *preset_text,
                                               GPtrArray          *edits);
/* Where the edited preset is saved: beside the database, named by content, so the
 * command shown is the file written. */
char       *vb_experiments_plan_edited_path   (const char         *db_path,
                                               const char         *preset_name,
                                               const char         *json);
/* "visionbench-cli run PRESET --set KEY=VALUE… [--device DEVICE]": PRESET is the edited
 * preset's path when there is one, else the preset's name. */
char       *vb_experiments_plan_command       (const char         *preset_name,
                                               const char         *edited_path,
                                               GPtrArray          *overrides);

G_END_DECLS
