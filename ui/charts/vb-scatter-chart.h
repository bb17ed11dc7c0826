/* vb-scatter-chart.h: labelled points on two linear axes, as one pure Cairo drawing
 * function: an accuracy/size trade-off (ux.md §4.10), one point per model with its name
 * beside it and, for repeated runs, a vertical error bar (the spread over seeds). Points,
 * bars and labels stay inside the plot area: labels flip to the point's left, and move
 * down or up, when they would leave it. */
#pragma once

#include <cairo.h>

#include "vb-chart-export.h"
#include "vb-chart-style.h"
#include "vb-charts-types.h"

G_BEGIN_DECLS

typedef struct {
  char   *label;         /* drawn beside the point; NULL = none */
  int     color_index;   /* palette index, as the runs' colours */
  double  x, y;          /* a point with a non-finite coordinate is not drawn */
  double  y_lo, y_hi;    /* error bar ends in y units; NaN = no bar */
} VbScatterPoint;

typedef struct {
  char      *title;      /* NULL = none */
  char      *x_label;    /* say the unit: "Params (M)" */
  char      *y_label;
  char      *caption;
  gboolean   x_auto;     /* TRUE: range from the data (and bars), padded */
  double     x_min, x_max;
  gboolean   y_auto;
  double     y_min, y_max;
  GPtrArray *points;     /* VbScatterPoint*, owned */
} VbScatterChart;

VbScatterChart *vb_scatter_chart_new         (void);
void            vb_scatter_chart_free        (VbScatterChart *chart);
void            vb_scatter_chart_set_title   (VbScatterChart *chart,
                                              const char     *title);
void            vb_scatter_chart_set_labels  (VbScatterChart *chart,
                                              const char     *x_label,
                                              const char     *y_label);
void            vb_scatter_chart_set_caption (VbScatterChart *chart,
                                              const char     *caption);
/* Appends a point without an error bar; returns it for setting one. */
VbScatterPoint *vb_scatter_chart_add_point   (VbScatterChart *chart,
                                              const char     *label,
                                              int             color_index,
                                              double          x,
                                              double          y);

void     vb_scatter_chart_draw       (cairo_t              *cr,
                                      const VbScatterChart *chart,
                                      double                width,
                                      double                height,
                                      const VbChartStyle   *style);
void     vb_scatter_chart_get_layout (const VbScatterChart *chart,
                                      double                width,
                                      double                height,
                                      const VbChartStyle   *style,
                                      VbChartLayout        *layout);
/* Where point i's centre and its label's box land at this size. FALSE when the point is
 * not drawn (out of range, non-finite). label may be NULL. */
gboolean vb_scatter_chart_get_point  (const VbScatterChart *chart,
                                      double                width,
                                      double                height,
                                      const VbChartStyle   *style,
                                      guint                 i,
                                      double               *x,
                                      double               *y,
                                      VbChartRect          *label);
/* Provenance for export metadata. */
char    *vb_scatter_chart_describe   (const VbScatterChart *chart);
/* PNG, SVG or PDF, as vb_bar_chart_export() (and beside it, in vb-chart-export.c);
 * style NULL: light theme. */
gboolean vb_scatter_chart_export     (const VbScatterChart *chart,
                                      const VbChartStyle   *style,
                                      const char           *path,
                                      VbChartFormat         format,
                                      double                width,
                                      double                height,
                                      GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbScatterChart, vb_scatter_chart_free)

G_END_DECLS
