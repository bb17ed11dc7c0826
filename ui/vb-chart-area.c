/* vb-chart-area.c: a drawing area that draws a VbLineChart, a VbBarChart, a
 * VbScatterChart or a VbStackedBarChart (the first one set, in that order). */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <adwaita.h>

#include "vb-chart-area.h"

#define LINE_KEY "vb-line-chart"
#define BAR_KEY "vb-bar-chart"
#define SCATTER_KEY "vb-scatter-chart"
#define STACKED_KEY "vb-stacked-bar-chart"

static void
draw_cb (GtkDrawingArea *area,
         cairo_t        *cr,
         int             width,
         int             height,
         gpointer        user_data)
{
  VbChartStyle style;
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());

  vb_chart_style_init (&style, dark ? VB_CHART_THEME_DARK : VB_CHART_THEME_LIGHT);
  /* the card behind the chart is the background: keep the theme's */
  style.draw_background = FALSE;

  VbLineChart *line = g_object_get_data (G_OBJECT (area), LINE_KEY);
  VbBarChart *bar = g_object_get_data (G_OBJECT (area), BAR_KEY);
  VbScatterChart *scatter = g_object_get_data (G_OBJECT (area), SCATTER_KEY);
  VbStackedBarChart *stacked = g_object_get_data (G_OBJECT (area), STACKED_KEY);
  if (line != NULL)
    vb_line_chart_draw (cr, line, width, height, &style);
  else if (bar != NULL)
    vb_bar_chart_draw (cr, bar, width, height, &style);
  else if (scatter != NULL)
    vb_scatter_chart_draw (cr, scatter, width, height, &style);
  else if (stacked != NULL)
    vb_stacked_bar_chart_draw (cr, stacked, width, height, &style);
}

static void
dark_changed_cb (AdwStyleManager *manager,
                 GParamSpec      *pspec,
                 GtkWidget       *area)
{
  gtk_widget_queue_draw (area);
}

GtkWidget *
vb_chart_area_new (void)
{
  GtkWidget *area = gtk_drawing_area_new ();

  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_cb, NULL, NULL);
  gtk_widget_set_hexpand (area, TRUE);
  gtk_widget_set_vexpand (area, TRUE);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (dark_changed_cb), area, 0);
  return area;
}

void
vb_chart_area_set_line_chart (GtkWidget   *area,
                              VbLineChart *chart)
{
  g_object_set_data_full (G_OBJECT (area), LINE_KEY, chart,
                          (GDestroyNotify) vb_line_chart_free);
  gtk_widget_queue_draw (area);
}

void
vb_chart_area_set_bar_chart (GtkWidget  *area,
                             VbBarChart *chart)
{
  g_object_set_data_full (G_OBJECT (area), BAR_KEY, chart,
                          (GDestroyNotify) vb_bar_chart_free);
  gtk_widget_queue_draw (area);
}

void
vb_chart_area_set_scatter_chart (GtkWidget      *area,
                                 VbScatterChart *chart)
{
  g_object_set_data_full (G_OBJECT (area), SCATTER_KEY, chart,
                          (GDestroyNotify) vb_scatter_chart_free);
  gtk_widget_queue_draw (area);
}

VbScatterChart *
vb_chart_area_get_scatter_chart (GtkWidget *area)
{
  return g_object_get_data (G_OBJECT (area), SCATTER_KEY);
}

VbLineChart *
vb_chart_area_get_line_chart (GtkWidget *area)
{
  return g_object_get_data (G_OBJECT (area), LINE_KEY);
}

VbBarChart *
vb_chart_area_get_bar_chart (GtkWidget *area)
{
  return g_object_get_data (G_OBJECT (area), BAR_KEY);
}

void
vb_chart_area_set_stacked_bar_chart (GtkWidget         *area,
                                     VbStackedBarChart *chart)
{
  g_object_set_data_full (G_OBJECT (area), STACKED_KEY, chart,
                          (GDestroyNotify) vb_stacked_bar_chart_free);
  gtk_widget_queue_draw (area);
}

VbStackedBarChart *
vb_chart_area_get_stacked_bar_chart (GtkWidget *area)
{
  return g_object_get_data (G_OBJECT (area), STACKED_KEY);
}
