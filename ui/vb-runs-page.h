/* vb-runs-page.h: every run in the database with its status, and a monitor for the
 * selected one: progress with ETA, loss and top-1 charts, error, Cancel. */
#pragma once

#include <adwaita.h>

#include "vb-session.h"

G_BEGIN_DECLS

#define VB_TYPE_RUNS_PAGE (vb_runs_page_get_type ())
G_DECLARE_FINAL_TYPE (VbRunsPage, vb_runs_page, VB, RUNS_PAGE, AdwBin)

GtkWidget  *vb_runs_page_new               (VbSession  *session);
/* Selects the next run the engine starts (after Run on the Experiments page). */
void        vb_runs_page_follow_next_run   (VbRunsPage *self);
/* Re-reads the runs from the database now (also done on job events and every second). */
void        vb_runs_page_refresh           (VbRunsPage *self);
gboolean    vb_runs_page_select_run        (VbRunsPage *self,
                                            gint64      run_id);
gint64      vb_runs_page_get_selected_run  (VbRunsPage *self);
/* The status shown in the list for run_id ("running", "done", ...); NULL when the
 * run is not listed. */
const char *vb_runs_page_get_run_status    (VbRunsPage *self,
                                            gint64      run_id);
guint       vb_runs_page_get_n_runs        (VbRunsPage *self);
/* The monitor's progress text and the number of points in its loss chart. */
const char *vb_runs_page_get_progress_text (VbRunsPage *self);
guint       vb_runs_page_get_n_loss_points (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_cancel_button (VbRunsPage *self);

G_END_DECLS
