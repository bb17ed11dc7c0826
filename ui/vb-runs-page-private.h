/* vb-runs-page-private.h: the Runs page's struct, shared by the list (vb-runs-page.c) and
 * the monitor of the selected run (vb-runs-monitor.c). */
#pragma once

#include "vb-charts.h"
#include "vb-runs-page.h"

G_BEGIN_DECLS

struct _VbRunsPage
{
  AdwBin       parent_instance;

  VbSession   *session;
  GPtrArray   *runs;             /* VbRunRecord*, newest first */
  char        *signature;        /* ids and statuses of runs, to skip needless rebuilds */
  gboolean     follow_next;
  gboolean     rebuilding;

  GtkWidget   *list;
  GtkWidget   *stack;
  /* monitor */
  gint64       run_id;           /* selected, 0 = none */
  VbRunRecord *record;
  int          epochs;           /* from the run's config, 0 when unknown */
  gboolean     projector;        /* a projector-study run: loss charts instead of accuracy */
  VbXAxisKind  x_axis;           /* of all three charts */
  gint64       last_db_step;
  gint64       last_chart_load;
  gint64       cancelled_run;    /* Cancel was pressed for this run */
  gint64       resumed_run;      /* Resume was pressed for this run */
  int          live_epoch;       /* the epoch of the last live snapshot shown */
  GtkWidget   *title;
  GtkWidget   *status_label;
  GtkWidget   *x_dropdown;
  GtkWidget   *pause_button;
  GtkWidget   *unpause_button;
  GtkWidget   *resume_button;
  GtkWidget   *cancel_button;
  GtkWidget   *progress;
  GtkWidget   *detail;
  GtkWidget   *error_label;
  GtkWidget   *info;
  GtkWidget   *loss_chart;
  GtkWidget   *acc_chart;
  GtkWidget   *tp_chart;
  GtkWidget   *gpus;             /* VbRunsGpus: per-GPU rows of a data-parallel run */
  GtkWidget   *log_view;
};

GtkWidget *vb_runs_monitor_build    (VbRunsPage        *self);
/* Re-reads the selected run's record (and, with reload_charts, its metrics). */
void       vb_runs_monitor_load     (VbRunsPage        *self,
                                     gboolean           reload_charts);
/* The engine's snapshot changed: the live run's progress. */
void       vb_runs_monitor_progress (VbRunsPage        *self,
                                     const VbJobStatus *status);

/* The X axis menu changed self->x_axis: notify::x-axis. */
void       vb_runs_page_notify_x_axis (VbRunsPage        *self);

G_END_DECLS
