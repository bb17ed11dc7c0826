/* vb-window.h: the main window: a header bar with a view switcher over the Experiments,
 * Runs, Compare and Scan Explorer pages, a main menu, a toast overlay for engine errors,
 * a shortcuts window (Ctrl+?), Preferences (Ctrl+comma) and presentation mode (F5). */
#pragma once

#include <adwaita.h>

#include "vb-compare-page.h"
#include "vb-experiments-page.h"
#include "vb-runs-page.h"
#include "vb-scan-page.h"
#include "vb-session.h"

G_BEGIN_DECLS

#define VB_TYPE_WINDOW (vb_window_get_type ())
G_DECLARE_FINAL_TYPE (VbWindow, vb_window, VB, WINDOW, AdwApplicationWindow)

/* app may be NULL (tests). */
VbWindow          *vb_window_new                  (GtkApplication *app,
                                                   VbSession      *session);
VbSession         *vb_window_get_session          (VbWindow       *self);
VbExperimentsPage *vb_window_get_experiments_page (VbWindow       *self);
VbRunsPage        *vb_window_get_runs_page        (VbWindow       *self);
VbComparePage     *vb_window_get_compare_page     (VbWindow       *self);
VbScanPage        *vb_window_get_scan_page        (VbWindow       *self);
/* "experiments", "runs", "compare" or "scan". */
void               vb_window_set_page             (VbWindow       *self,
                                                   const char     *name);
const char        *vb_window_get_page             (VbWindow       *self);
/* The presentation mode window (F5) and the Preferences window (Ctrl+comma) while they
 * are open; NULL otherwise. */
GtkWidget         *vb_window_get_presentation     (VbWindow       *self);
GtkWidget         *vb_window_get_preferences      (VbWindow       *self);
/* Shows message in a toast (engine errors go there too). */
void               vb_window_toast                (VbWindow       *self,
                                                   const char     *message);
/* The number of toasts shown so far, and the last one's text (for tests). */
guint              vb_window_get_n_toasts         (VbWindow       *self);
const char        *vb_window_get_last_toast       (VbWindow       *self);

G_END_DECLS
