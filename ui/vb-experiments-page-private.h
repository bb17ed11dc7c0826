/* vb-experiments-page-private.h: the Experiments page's struct and what its files share:
 * the page and its layout (vb-experiments-page.c), the data set section and its check
 * (-dataset.c), the training fields and their inline validation (-fields.c), and the
 * outcome of the form: problems, command, Run and Queue (-submit.c), and the projector
 * study's section (-projector.c) for model.arch "projector", the clip-profile's
 * (-clip-profile.c) for "clip-profile". The form's values
 * become overrides in vb-experiments-plan.c, which needs no GTK. */
#pragma once

#include "vb-experiments-page.h"
#include "vb-experiments-plan.h"

G_BEGIN_DECLS

#define N_FIELDS  VB_FORM_N_FIELDS
#define N_SCANS   3          /* scan modes offered: 4dir, 2dir, 1dir */
#define N_PROJECTORS VB_FORM_N_PROJECTORS
#define MAX_SIZES 8          /* image sizes offered at most */

typedef enum {
  CHECK_NONE,       /* the current settings were never checked */
  CHECK_RUNNING,
  CHECK_OK,
  CHECK_FAILED,
} CheckState;

struct _VbExperimentsPage
{
  AdwBin        parent_instance;

  VbSession    *session;
  GPtrArray    *presets;              /* VbPreset*, owned */
  VbPreset     *preset;               /* the chosen one (in presets) */
  char         *preset_text;          /* its file, for edited presets */
  int           extra_size;           /* a cloned run's image size the choices lack; 0 none */

  GtkWidget    *flow;
  GtkWidget    *form_box;             /* holds the form of the chosen preset */
  GtkWidget    *kind_drop;
  GtkWidget    *path_label;
  GtkWidget    *choose_button;
  GtkWidget    *builtin_button;
  GtkWidget    *path_message;
  GtkWidget    *check_button;
  GtkWidget    *check_spinner;
  GtkWidget    *check_label;
  GtkWidget    *entries[N_FIELDS];
  GtkWidget    *messages[N_FIELDS];
  GtkWidget    *size_checks[MAX_SIZES];
  int           sizes[MAX_SIZES];
  guint         n_sizes;
  GtkWidget    *size_box, *size_message;
  GtkWidget    *scan_checks[N_SCANS];
  GtkWidget    *scan_box, *scan_message;
  GtkWidget    *cuda_toggle;          /* the Device row's CUDA choice */
  GtkWidget    *precision_toggles[3]; /* fp32, tf32, bf16: the last two with CUDA only */
  /* data parallel (train.gpus): VMamba forms whose preset has the field; NULL otherwise */
  GtkWidget    *gpus_spin;            /* offered with CUDA and a usable GPU only */
  GtkWidget    *gpus_notes;           /* under it: why it is not offered, or the message */
  GtkWidget    *gpus_note, *gpus_message;
  /* the projector study's section (model.arch "projector"); NULL for other presets */
  gboolean      projector;
  GtkWidget    *proj_checks[N_PROJECTORS];
  GtkWidget    *proj_box, *proj_message;
  GtkWidget    *lora_base_checks[VB_FORM_N_LORA_BASES];   /* model.lora_base, a radio group */
  GtkWidget    *lora_base_box;
  GtkWidget    *weights_label, *weights_hint, *weights_clear, *weights_message;
  GtkWidget    *encoder_message;      /* the tower's and the per-class counts' checks */
  GtkWidget    *advanced;             /* the expander */
  GtkNativeDialog *weights_chooser;
  char         *weights;              /* model.clip_weights ("" = seeded random) */
  /* the clip-profile's section (model.arch "clip-profile"): no data set, no training */
  gboolean      clip_profile;
  GtkWidget    *layers_checks[VB_FORM_N_PROFILE_LAYERS];
  GtkWidget    *layers_box;
  GtkWidget    *problems_label;
  GtkWidget    *command_label;
  GtkWidget    *edited_label;
  GtkWidget    *status_label;
  GtkWidget    *run_button;
  GtkWidget    *queue_button;
  GtkNativeDialog *chooser;

  char         *path;                 /* data.path of the form ("" = built-in) */
  char         *command;
  char         *edited_json;          /* the edited preset, NULL when the file does */
  char         *edited_path;

  /* the data set check of the settings in check_key */
  CheckState    check_state;
  char         *check_key;
  char         *check_message;
  GCancellable *check_cancellable;
  gboolean      updating;             /* filling the form: no updates until done */
};

/* vb-experiments-page.c: the form's layout */
GtkWidget *vb_experiments_page_new_message_label   (void);
/* A titled card holding a grid: titles | controls | hints, messages under controls. */
GtkGrid   *vb_experiments_page_add_section         (VbExperimentsPage *self,
                                                    const char        *title);
void       vb_experiments_page_add_row             (GtkGrid           *grid,
                                                    const char        *title,
                                                    const char        *hint,
                                                    GtkWidget         *control,
                                                    GtkWidget         *message);
/* Flags widget and shows message under it; NULL clears both. */
void       vb_experiments_page_set_field_message   (GtkWidget         *widget,
                                                    GtkWidget         *label,
                                                    const char        *message);
/* What a file chooser's Select does with the chosen path. */
typedef void (*VbExperimentsPathFunc) (VbExperimentsPage *self,
                                       const char        *path);
/* A modal native chooser kept in *slot until it closes, Select calling chosen; the caller
 * adds filters or a start folder and shows it. NULL while *slot holds one open already. */
GtkFileChooser *vb_experiments_page_new_chooser    (VbExperimentsPage     *self,
                                                    GtkNativeDialog      **slot,
                                                    const char            *title,
                                                    GtkFileChooserAction   action,
                                                    VbExperimentsPathFunc  chosen);

/* vb-experiments-dataset.c: the data set section */
const char *vb_experiments_dataset_kind            (VbExperimentsPage *self);
/* whether text field i applies to the chosen kind of data set */
gboolean   vb_experiments_dataset_field_applies    (VbExperimentsPage *self,
                                                    guint              i);
void       vb_experiments_dataset_build            (VbExperimentsPage *self);
/* the section's widgets for the settings now; starts the built-in set's check */
void       vb_experiments_dataset_update           (VbExperimentsPage *self);
/* data.dataset, data.path and the check's verdict */
void       vb_experiments_dataset_collect          (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
void       vb_experiments_dataset_fill             (VbExperimentsPage *self,
                                                    JsonObject        *config);

/* vb-experiments-fields.c: the text fields, image sizes, scan modes, device, precision
 * and GPUs */
/* The image sizes row: standard sizes, the preset's and a cloned run's, ascending. */
void       vb_experiments_fields_build_sizes       (VbExperimentsPage *self,
                                                    GtkGrid           *grid,
                                                    const int         *standard,
                                                    guint              n_standard,
                                                    const char        *title,
                                                    const char        *hint);
void       vb_experiments_fields_collect_sizes     (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
/* The CPU / CUDA choice (CUDA offered where a GPU is usable, else the reason in its
 * tooltip), and its value as the plan's "device". */
GtkWidget *vb_experiments_fields_new_device_choice (VbExperimentsPage *self);
void       vb_experiments_fields_collect_device    (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
/* The ticked ids of checks as values of key; "tick at least one" under box otherwise. */
void       vb_experiments_fields_collect_checks    (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan,
                                                    const char        *key,
                                                    GtkWidget        **checks,
                                                    guint              n,
                                                    const char *const *ids,
                                                    gboolean           is_string,
                                                    const char        *fallback,
                                                    GtkWidget         *box,
                                                    GtkWidget         *message_label,
                                                    const char        *title);
void       vb_experiments_fields_add_entry         (VbExperimentsPage *self,
                                                    GtkGrid           *grid,
                                                    guint              i);
void       vb_experiments_fields_build_training    (VbExperimentsPage *self);
/* validates every field, marks bad ones and adds their values to plan */
void       vb_experiments_fields_collect           (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
void       vb_experiments_fields_fill              (VbExperimentsPage *self,
                                                    JsonObject        *config);

/* vb-experiments-projector.c: the projector study's section (projectors, LoRA's rank,
 * alpha and base, encoder weights, image size, the "Advanced" expander) */
void       vb_experiments_projector_build          (VbExperimentsPage *self);
/* projectors, weights, image sizes and the cross-field checks */
void       vb_experiments_projector_collect        (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
void       vb_experiments_projector_fill           (VbExperimentsPage *self,
                                                    JsonObject        *config);
void       vb_experiments_projector_clear          (VbExperimentsPage *self);
/* what the clip-profile's section shares: the weights row, the "Advanced" expander of
 * arch's fields, the weights' check and value, a run's weights */
void       vb_experiments_projector_build_weights  (VbExperimentsPage *self,
                                                    GtkGrid           *grid);
void       vb_experiments_projector_build_advanced (VbExperimentsPage *self,
                                                    GtkGrid           *grid,
                                                    VbFormArch         arch,
                                                    const char        *title);
void       vb_experiments_projector_collect_weights (VbExperimentsPage *self,
                                                     VbExperimentsPlan *plan);
void       vb_experiments_projector_fill_weights   (VbExperimentsPage *self,
                                                    JsonObject        *config);
/* The entry of key as a whole number (0 when the form has none). */
gint64     vb_experiments_page_entry_int           (VbExperimentsPage *self,
                                                    const char        *key);

/* vb-experiments-clip-profile.c: the clip-profile's section (image sizes, weights, layers,
 * the timing protocol, the "Advanced" expander) in place of the data set and training */
void       vb_experiments_clip_profile_build       (VbExperimentsPage *self);
void       vb_experiments_clip_profile_collect     (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
void       vb_experiments_clip_profile_fill        (VbExperimentsPage *self,
                                                    JsonObject        *config);
void       vb_experiments_clip_profile_clear       (VbExperimentsPage *self);

/* vb-experiments-submit.c: the end of the form */
void       vb_experiments_submit_build             (VbExperimentsPage *self);
/* Checks the whole form, marks bad fields and fills plan. */
void       vb_experiments_submit_collect           (VbExperimentsPage *self,
                                                    VbExperimentsPlan *plan);
/* Brings every widget up to date with the form's values; "changed" handlers call it. */
void       vb_experiments_page_update              (VbExperimentsPage *self);

G_END_DECLS
