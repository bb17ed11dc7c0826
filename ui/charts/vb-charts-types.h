/* vb-charts-types.h: geometry shared by the chart drawing functions. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* In the user units of the cairo_t a chart is drawn into (pixels on screen). */
typedef struct {
  double x, y, width, height;
} VbChartRect;

/* Where a chart of a given size puts its parts; a rectangle with zero size is absent. */
typedef struct {
  VbChartRect plot;     /* data are clipped to this; axes run along its left and bottom */
  VbChartRect title;
  VbChartRect legend;
  VbChartRect caption;
} VbChartLayout;

static inline gboolean
vb_chart_rect_contains (const VbChartRect *r,
                        double             x,
                        double             y)
{
  return x >= r->x && x < r->x + r->width && y >= r->y && y < r->y + r->height;
}

G_END_DECLS
