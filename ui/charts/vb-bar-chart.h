/* vb-bar-chart.h: grouped bars (categories × series) as one pure Cairo drawing function,
 * for Top-1, img/s or memory comparisons. Each bar carries its value; with a baseline
 * (a category or a series) the others also carry their Δ ("+1.2", "−0.8 %"), coloured by
 * whether it is an improvement, or a red "≠ protocol" where the measurements are not
 * comparable (ux.md §5.2). Optional whiskers show the spread of repeated measurements. */
#pragma once

#include <cairo.h>

#include "vb-chart-data.h"
#include "vb-chart-style.h"
#include "vb-charts-types.h"

G_BEGIN_DECLS

void     vb_bar_chart_draw         (cairo_t            *cr,
                                    const VbBarChart   *chart,
                                    double              width,
                                    double              height,
                                    const VbChartStyle *style);
void     vb_bar_chart_get_layout   (const VbBarChart   *chart,
                                    double              width,
                                    double              height,
                                    const VbChartStyle *style,
                                    VbChartLayout      *layout);
/* The rectangle of one bar as drawn at this size (before clipping to the plot).
 * FALSE when the value is missing or the indices are out of range. */
gboolean vb_bar_chart_get_bar_rect (const VbBarChart   *chart,
                                    double              width,
                                    double              height,
                                    const VbChartStyle *style,
                                    guint               category,
                                    guint               series,
                                    VbChartRect        *rect);
/* The Δ label of (category, series) against the baseline, as drawn: "+1.2", "−3.4 %",
 * "±0", "≠ protocol"; NULL when the bar has no Δ (no baseline, it is the baseline, or a
 * value is missing). */
char    *vb_bar_chart_format_delta (const VbBarChart   *chart,
                                    guint               category,
                                    guint               series);
/* Provenance for export metadata. */
char    *vb_bar_chart_describe     (const VbBarChart   *chart);

G_END_DECLS
