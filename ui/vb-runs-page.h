/* vb-runs-page.h: every run in the database with its status, and a monitor for the
 * selected one: progress with ETA; loss, Top-1/Top-5 and img/s charts against step,
 * epoch or wall time; the run's log; error; Pause/Continue and Cancel for the run this
 * process trains, Resume for a stopped run with a checkpoint. */
#pragma once

#include <adwaita.h>

#include "vb-charts.h"
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
/* The monitor's charts: "loss" (train loss per step), "accuracy" (series 0 val top-1,
 * series 1 val top-5, per epoch), "throughput" (series 0 train img/s per step, series 1
 * eval img/s per epoch); NULL for another name or no run. For a projector-study run,
 * "loss" is 1 − cos per step and "accuracy" its per-epoch losses (series 0 validation,
 * series 1 the epoch's mean training loss): the study logs no accuracy per epoch. */
VbLineChart *vb_runs_page_get_chart        (VbRunsPage  *self,
                                            const char  *name);
/* The x axis of all three charts (step, epoch or wall time), as the X axis menu sets it;
 * the read-only "x-axis" property (an int) notifies each change. */
void        vb_runs_page_set_x_axis        (VbRunsPage  *self,
                                            VbXAxisKind  x_axis);
VbXAxisKind vb_runs_page_get_x_axis        (VbRunsPage  *self);
/* The log view's text (free it). */
char       *vb_runs_page_dup_log           (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_log_view      (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_cancel_button (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_pause_button  (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_unpause_button (VbRunsPage *self);
GtkWidget  *vb_runs_page_get_resume_button (VbRunsPage *self);

G_END_DECLS
