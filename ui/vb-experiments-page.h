/* vb-experiments-page.h: preset cards → a form with inline validation → Run. */
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
/* Types text into the form field of a dotted config key ("train.epochs",
 * "train.batch_size", "train.lr", "data.train_limit", "train.seed"). */
gboolean    vb_experiments_page_set_field      (VbExperimentsPage *self,
                                                const char        *key,
                                                const char        *text);
/* Ticks or unticks a scan mode ("4dir", "2dir", "1dir"). */
gboolean    vb_experiments_page_set_scan_mode  (VbExperimentsPage *self,
                                                const char        *mode,
                                                gboolean           active);
/* The problems the form shows now, one a line; NULL when it is valid. */
char       *vb_experiments_page_dup_problems   (VbExperimentsPage *self);
/* The overrides Run would submit (NULL-terminated). */
GStrv       vb_experiments_page_dup_overrides  (VbExperimentsPage *self);
/* The equivalent visionbench-cli command line shown under the form. */
const char *vb_experiments_page_get_command    (VbExperimentsPage *self);
GtkWidget  *vb_experiments_page_get_run_button (VbExperimentsPage *self);

G_END_DECLS
