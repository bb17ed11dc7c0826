/* vb-chart-frame.h: the text around the plot that every chart type lays out and draws
 * alike: the title above it, the caption under it, the y-axis title turned at its left,
 * the tick labels and "No data yet" inside it. A chart type keeps its plan; these fill
 * the plan's fields and move the edge of the room left for the plot. */
#pragma once

#include "vb-chart-private.h"

G_BEGIN_DECLS

/* A GDestroyNotify for arrays of layouts that may hold NULL. */
void         vb_chart_unref_layout  (gpointer             layout);
/* The height of one line of role's text. */
double       vb_chart_line_height   (VbChartText         *t,
                                     VbTextRole           role);
/* A layout per tick, NULL for a minor one; the widest and tallest label go to max_w and
 * max_h (either may be NULL). */
GPtrArray   *vb_chart_tick_layouts  (VbChartText         *t,
                                     GArray              *ticks,
                                     double              *max_w,
                                     double              *max_h);

/* Each returns NULL, taking no room, for a NULL or empty text. The title takes room
 * from *top, the caption from *bottom (both inner_w wide at most, from x = pad), the
 * y-axis title from *left. */
PangoLayout *vb_chart_plan_title    (VbChartText         *t,
                                     const char          *title,
                                     double               pad,
                                     double               inner_w,
                                     double              *top,
                                     VbChartRect         *box);
PangoLayout *vb_chart_plan_caption  (VbChartText         *t,
                                     const char          *caption,
                                     double               pad,
                                     double               inner_w,
                                     double              *bottom,
                                     VbChartRect         *box);
PangoLayout *vb_chart_plan_y_title  (VbChartText         *t,
                                     const char          *y_label,
                                     double               plot_h,
                                     double              *left);

/* The title at box->title and the y-axis title left of box->plot, pad from the edge. */
void         vb_chart_draw_titles   (VbChartText         *t,
                                     PangoLayout         *title,
                                     PangoLayout         *y_title,
                                     const VbChartLayout *box,
                                     double               pad,
                                     const VbChartStyle  *style);
/* The caption at box->caption and the message in the middle of box->plot. */
void         vb_chart_draw_notes    (VbChartText         *t,
                                     PangoLayout         *caption,
                                     PangoLayout         *message,
                                     const VbChartLayout *box,
                                     const VbChartStyle  *style);

G_END_DECLS
