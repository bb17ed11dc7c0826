/* vb-line-chart.h: a line chart of training curves as one pure Cairo drawing function.
 *
 * The same call draws into a widget's snapshot (gtk_snapshot_append_cairo), an export
 * surface or a test image; it keeps no state and needs no display. Each series is
 * smoothed on its full data (vb_smooth()), then decimated per pixel column, keeping the
 * first, lowest, highest and last point of each column (M4), so spikes survive and 10⁶
 * points draw fast; nothing is ever randomly subsampled. With smoothing on, the raw
 * series stays visible as a faint ghost line under the smoothed one, and the legend says
 * which method was used. Data are clipped to the plot rectangle; NaN and ±Inf points
 * break the line; a chart with no finite point shows its axes and "No data yet". */
#pragma once

#include <cairo.h>

#include "vb-chart-data.h"
#include "vb-chart-style.h"
#include "vb-charts-types.h"

G_BEGIN_DECLS

/* style NULL: the light theme. width and height in cr's user units. */
void        vb_line_chart_draw          (cairo_t            *cr,
                                         const VbLineChart  *chart,
                                         double              width,
                                         double              height,
                                         const VbChartStyle *style);
/* Where vb_line_chart_draw() puts the plot, title, legend and caption at this size. */
void        vb_line_chart_get_layout    (const VbLineChart  *chart,
                                         double              width,
                                         double              height,
                                         const VbChartStyle *style,
                                         VbChartLayout      *layout);
VbChartRect vb_line_chart_get_plot_rect (const VbLineChart  *chart,
                                         double              width,
                                         double              height,
                                         const VbChartStyle *style);
/* Provenance for export metadata: axis, ranges, smoothing, series names. */
char       *vb_line_chart_describe      (const VbLineChart  *chart);

G_END_DECLS
