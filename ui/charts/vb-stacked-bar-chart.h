/* vb-stacked-bar-chart.h: horizontal stacked bars on one linear value axis, as one pure
 * Cairo drawing function: where a forward's time goes, one bar per resolution, a segment
 * per stage (the clip-profile study). Every bar shares the series (the legend) and the
 * scale; a segment's length is its value, its boundaries on whole pixels. Series from
 * alt_from on are alternatives to each other, not parts of one pass: a marker at the end
 * of the series before them says where the common part ends (the caption says the rest).
 * Each bar's total is written after it; bars, marker and totals stay inside the plot. */
#pragma once

#include <cairo.h>

#include "vb-chart-export.h"
#include "vb-chart-style.h"
#include "vb-charts-types.h"

G_BEGIN_DECLS

typedef struct {
  char *name;            /* the legend's entry */
  int   color_index;     /* palette index */
} VbStackSeries;

typedef struct {
  char      *label;      /* left of the bar: "224 px" */
  GArray    *values;     /* double per series; ≤ 0 or not finite: no segment */
  GPtrArray *parts;      /* per series, NULL or a GArray of doubles: the segment drawn as
                          * these parts in proportion, shaded in turn (a model's layers) */
} VbStackBar;

typedef struct {
  char      *title;      /* NULL = none */
  char      *x_label;    /* say the unit: "ms per image" */
  char      *caption;
  char      *unit;       /* after each bar's total: "ms"; NULL = none */
  guint      alt_from;   /* first alternative series; G_MAXUINT = none */
  GPtrArray *series;     /* VbStackSeries*, owned */
  GPtrArray *bars;       /* VbStackBar*, owned, top to bottom */
} VbStackedBarChart;

VbStackedBarChart *vb_stacked_bar_chart_new         (void);
void               vb_stacked_bar_chart_free        (VbStackedBarChart *chart);
void               vb_stacked_bar_chart_set_title   (VbStackedBarChart *chart,
                                                     const char        *title);
void               vb_stacked_bar_chart_set_labels  (VbStackedBarChart *chart,
                                                     const char        *x_label,
                                                     const char        *unit);
void               vb_stacked_bar_chart_set_caption (VbStackedBarChart *chart,
                                                     const char        *caption);
/* Appends a series; returns its index. */
guint              vb_stacked_bar_chart_add_series  (VbStackedBarChart *chart,
                                                     const char        *name,
                                                     int                color_index);
/* Appends a bar with n values in series order (missing ones: no segment). */
void               vb_stacked_bar_chart_add_bar     (VbStackedBarChart *chart,
                                                     const char        *label,
                                                     const double      *values,
                                                     guint              n);
/* Bar b's segment of series s drawn as n parts in proportion to parts[], every other one
 * in a lighter shade of the series' colour (one stage made of several, as a tower's
 * layers); the segment's length stays its value. */
void               vb_stacked_bar_chart_set_parts   (VbStackedBarChart *chart,
                                                     guint              b,
                                                     guint              s,
                                                     const double      *parts,
                                                     guint              n);
/* The segments bar b draws. */
guint              vb_stacked_bar_chart_n_segments  (const VbStackedBarChart *chart,
                                                     guint                    b);

void     vb_stacked_bar_chart_draw        (cairo_t                 *cr,
                                           const VbStackedBarChart *chart,
                                           double                   width,
                                           double                   height,
                                           const VbChartStyle      *style);
void     vb_stacked_bar_chart_get_layout  (const VbStackedBarChart *chart,
                                           double                   width,
                                           double                   height,
                                           const VbChartStyle      *style,
                                           VbChartLayout           *layout);
/* Where bar b's segment of series s lands at this size; FALSE when it draws none. */
gboolean vb_stacked_bar_chart_get_segment (const VbStackedBarChart *chart,
                                           double                   width,
                                           double                   height,
                                           const VbChartStyle      *style,
                                           guint                    b,
                                           guint                    s,
                                           VbChartRect             *rect);
/* Provenance for export metadata. */
char    *vb_stacked_bar_chart_describe    (const VbStackedBarChart *chart);
/* PNG, SVG or PDF, as vb_bar_chart_export() (and beside it, in vb-chart-export.c);
 * style NULL: light theme. */
gboolean vb_stacked_bar_chart_export      (const VbStackedBarChart *chart,
                                           const VbChartStyle      *style,
                                           const char              *path,
                                           VbChartFormat            format,
                                           double                   width,
                                           double                   height,
                                           GError                 **error);

G_END_DECLS
