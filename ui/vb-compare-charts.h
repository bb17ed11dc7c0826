/* vb-compare-charts.h: the Compare page's charts, free of widgets: throughput bars with the
 * comparability guard, and every run's training curves overlaid. A run keeps one colour
 * in every view (vb_compare_run_color()), so a bar and its curve match. */
#pragma once

#include "vb-charts.h"
#include "vb-compare.h"

G_BEGIN_DECLS

typedef enum {
  VB_COMPARE_CURVE_VAL_TOP1,     /* validation top-1 against epoch */
  VB_COMPARE_CURVE_TRAIN_LOSS,   /* training loss against step, smoothed */
} VbCompareCurve;

/* The palette index of a run, the same on the Runs page. */
int          vb_compare_run_color        (gint64          run_id);
/* Bar labels: "4-dir (Cross-Scan) #12". */
char        *vb_compare_row_label        (const VbCompareRow *row);

/* Evaluation img/s per run (rows in table order), Δ against row baseline (-1: none).
 * cards: char* eval protocol cards, one per row (NULL = none). A bar whose card differs
 * from the baseline's (or, without one, from the first row's) gets no Δ but "≠ protocol",
 * and the caption names the fields that differ. */
VbBarChart  *vb_compare_throughput_chart (GPtrArray      *rows,
                                          GPtrArray      *cards,
                                          int             baseline);
/* One bar per row (rows in table order), labelled and coloured as its run; the bar is the
 * double at offset value of VbCompareRow, unit names the axis and the series. Δ against
 * row baseline (-1: none), with two rows or more. */
VbBarChart  *vb_compare_rows_chart       (GPtrArray      *rows,
                                          int             baseline,
                                          const char     *title,
                                          const char     *unit,
                                          int             decimals,
                                          glong           value);
/* An empty chart of runs' curves: against epochs, or against steps smoothed. */
VbLineChart *vb_compare_curves_new       (const char     *title,
                                          const char     *y_label,
                                          gboolean        per_epoch);
/* Appends run_id's curve to series: per epoch the double at offset epoch_metric of
 * VbEpochMetric, else the training loss per step. */
void         vb_compare_curve_append     (VbSeries       *series,
                                          VbStore        *store,
                                          gint64          run_id,
                                          gboolean        per_epoch,
                                          glong           epoch_metric);
/* One series per run, coloured as its bars. */
VbLineChart *vb_compare_curves_chart     (VbStore        *store,
                                          GPtrArray      *rows,
                                          VbCompareCurve  curve);

G_END_DECLS
