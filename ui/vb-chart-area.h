/* vb-chart-area.h: thin GtkDrawingArea wrappers around the ui/charts drawing functions.
 * The area owns the chart it shows; setting a new one redraws. Colours follow the
 * libadwaita light or dark style. */
#pragma once

#include <gtk/gtk.h>

#include "vb-charts.h"

G_BEGIN_DECLS

GtkWidget *vb_chart_area_new            (void);
/* Takes chart (NULL clears). */
void       vb_chart_area_set_line_chart (GtkWidget   *area,
                                         VbLineChart *chart);
void       vb_chart_area_set_bar_chart  (GtkWidget   *area,
                                         VbBarChart  *chart);
void       vb_chart_area_set_scatter_chart (GtkWidget      *area,
                                            VbScatterChart *chart);
VbLineChart *vb_chart_area_get_line_chart (GtkWidget *area);
VbScatterChart *vb_chart_area_get_scatter_chart (GtkWidget *area);
VbBarChart  *vb_chart_area_get_bar_chart  (GtkWidget *area);
void       vb_chart_area_set_stacked_bar_chart (GtkWidget         *area,
                                                VbStackedBarChart *chart);
VbStackedBarChart *vb_chart_area_get_stacked_bar_chart (GtkWidget *area);

G_END_DECLS
