/* vb-run-charts.h: the Runs page's three charts of one run, from the database's step and
 * epoch metrics, free of widgets: loss, Top-1 and Top-5 (one chart), img/s, all against
 * the same x axis (step, epoch or wall time). Per-step series are drawn raw and faint
 * with an EMA over them; per-epoch series are drawn as logged. */
#pragma once

#include "vb-charts.h"
#include "vb-store.h"

G_BEGIN_DECLS

typedef struct {
  VbLineChart *loss;         /* series 0: train loss per step */
  VbLineChart *accuracy;     /* series 0: val top-1, series 1: val top-5, per epoch */
  VbLineChart *throughput;   /* series 0: train img/s per step, series 1: eval img/s per epoch */
} VbRunCharts;

/* steps: VbStepMetric, epochs: VbEpochMetric (either may be NULL); color: the run's
 * palette index. The charts belong to the caller. */
void   vb_run_charts_build   (GArray      *steps,
                              GArray      *epochs,
                              VbXAxisKind  x_axis,
                              int          color,
                              VbRunCharts *out);
/* A projector-study run's charts (model.arch "projector"): loss is the Mode A training
 * loss 1 − cos per step; accuracy becomes the per-epoch losses the study records (series
 * 0: validation 1 − cos, series 1: the epoch's mean training loss), since it logs no
 * per-epoch accuracy; throughput as for any run. */
void   vb_run_charts_build_projector (GArray      *steps,
                                      GArray      *epochs,
                                      VbXAxisKind  x_axis,
                                      int          color,
                                      VbRunCharts *out);
/* Where a step lands on x_axis. */
double vb_run_charts_step_x  (const VbStepMetric  *m,
                              VbXAxisKind          x_axis);
/* Where the end of an epoch lands on x_axis: the epoch, its wall time, or the last step
 * logged in it (NaN when no step is). */
double vb_run_charts_epoch_x (const VbEpochMetric *m,
                              GArray              *steps,
                              VbXAxisKind          x_axis);

G_END_DECLS
