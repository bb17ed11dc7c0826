/* test-scatter-chart.c: the accuracy/size trade-off scatter, drawn into image surfaces:
 * each point lands where its values say (larger x to the right, larger y higher, at the
 * axis positions vb_scatter_chart_get_point reports) and is filled with its palette
 * colour; every label is drawn (ink in its box) inside the plot; no pixel of any point
 * colour lies outside the plot area, even for a point on the range's edge with a long
 * label, and a point beyond a fixed range is not drawn; error bars reach their ends; a
 * chart without a finite point draws no point; the SVG export carries the points as
 * provenance. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "chart-pixels.h"
#include "vb-charts.h"

#define W 640
#define H 400

static cairo_surface_t *
render (const VbScatterChart *chart,
        const VbChartStyle   *style)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  vb_scatter_chart_draw (cr, chart, W, H, style);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  return s;
}

/* Five projectors: params (M) and Proxy Top-1 (%), as the study's scatter has them. */
static VbScatterChart *
study_chart (void)
{
  static const struct { const char *name; double params, top1, spread; } rows[] = {
    { "proj-linear", 1.05, 41.2, 1.0 }, { "proj-lowrank", 0.52, 38.5, 0.8 },
    { "proj-mlp", 4.20, 44.9, 1.5 },    { "proj-gated", 2.10, 43.0, 0.0 },
    { "proj-lora", 1.07, 40.1, 2.0 },
  };
  VbScatterChart *chart = vb_scatter_chart_new ();

  vb_scatter_chart_set_title (chart, "Accuracy / size trade-off");
  vb_scatter_chart_set_labels (chart, "Params (M)", "Proxy Top-1 (%)");
  vb_scatter_chart_set_caption (chart, "Mean over seeds; bars: ± std");
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      VbScatterPoint *p = vb_scatter_chart_add_point (chart, rows[i].name, (int) i, rows[i].params,
                                                      rows[i].top1);
      if (rows[i].spread > 0)
        {
          p->y_lo = rows[i].top1 - rows[i].spread;
          p->y_hi = rows[i].top1 + rows[i].spread;
        }
    }
  return chart;
}

static void
test_positions (void)
{
  VbChartStyle style;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  g_autoptr (VbScatterChart) chart = study_chart ();
  cairo_surface_t *s = render (chart, &style);
  VbChartLayout layout;
  vb_scatter_chart_get_layout (chart, W, H, &style, &layout);
  g_assert_cmpfloat (layout.plot.width, >, W / 2);
  g_assert_cmpfloat (layout.plot.height, >, H / 3);

  double x[5], y[5];
  for (guint i = 0; i < 5; i++)
    {
      VbChartRect label;
      g_assert_true (vb_scatter_chart_get_point (chart, W, H, &style, i, &x[i], &y[i], &label));
      g_assert_true (vb_chart_rect_contains (&layout.plot, x[i], y[i]));
      /* the centre carries the point's colour */
      const VbRgba *c = vb_chart_style_series_color (&style, (int) i);
      g_assert_true (chart_near_color (chart_pixel (s, (int) x[i], (int) y[i]), c, 3));
      /* the label is inside the plot and has ink (dark text on the light background) */
      g_assert_cmpfloat (label.width, >, 10);
      g_assert_cmpfloat (label.x, >=, layout.plot.x);
      g_assert_cmpfloat (label.y, >=, layout.plot.y);
      g_assert_cmpfloat (label.x + label.width, <=, layout.plot.x + layout.plot.width + 0.5);
      g_assert_cmpfloat (label.y + label.height, <=, layout.plot.y + layout.plot.height + 0.5);
      guint ink = 0;
      for (int py = (int) label.y; py < (int) (label.y + label.height); py++)
        for (int px = (int) label.x; px < (int) (label.x + label.width); px++)
          ink += chart_near_color (chart_pixel (s, px, py), &style.text, 40);
      g_assert_cmpuint (ink, >, 10);
    }
  /* order along the axes follows the values: lowrank (0.52) < linear (1.05) < lora (1.07)
   * < gated < mlp to the right; mlp (44.9) highest, lowrank (38.5) lowest */
  g_assert_cmpfloat (x[1], <, x[0]);
  g_assert_cmpfloat (x[0], <, x[4]);
  g_assert_cmpfloat (x[4], <, x[3]);
  g_assert_cmpfloat (x[3], <, x[2]);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpfloat (y[2], <=, y[i]);
      g_assert_cmpfloat (y[1], >=, y[i]);
    }
  /* linear: scale check, (x − x_lowrank) / (x_mlp − x_lowrank) as in the data */
  g_assert_cmpfloat (fabs ((x[0] - x[1]) / (x[2] - x[1]) - (1.05 - 0.52) / (4.20 - 0.52)), <, 0.01);

  /* the error bar of mlp (±1.5) reaches above and below the dot */
  const VbRgba *c2 = vb_chart_style_series_color (&style, 2);
  double unit = (y[1] - y[2]) / (44.9 - 38.5);    /* pixels per percentage point */
  g_assert_true (chart_near_color (chart_pixel (s, (int) x[2], (int) (y[2] - 1.3 * unit)), c2, 3));
  g_assert_true (chart_near_color (chart_pixel (s, (int) x[2], (int) (y[2] + 1.3 * unit)), c2, 3));
  cairo_surface_write_to_png (s, VB_CHARTS_ARTIFACT_DIR "/scatter-study.png");
  cairo_surface_destroy (s);
}

/* No pixel of a point colour outside the plot rectangle. */
static void
assert_points_inside (const VbScatterChart *chart,
                      const VbChartStyle   *style,
                      cairo_surface_t      *s)
{
  VbChartLayout layout;
  vb_scatter_chart_get_layout (chart, W, H, style, &layout);
  for (guint i = 0; i < chart->points->len; i++)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      const VbRgba *c = vb_chart_style_series_color (style, pt->color_index);
      guint outside = 0, inside = 0;
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          if (chart_near_color (chart_pixel (s, x, y), c, 2))
            {
              /* the frame line itself is 1 px at the rectangle's edge */
              gboolean in = x >= layout.plot.x - 1 && x <= layout.plot.x + layout.plot.width + 1
                            && y >= layout.plot.y - 1 && y <= layout.plot.y + layout.plot.height + 1;
              outside += !in;
              inside += in;
            }
      g_assert_cmpuint (outside, ==, 0);
      g_assert_cmpuint (inside, >, 0);
    }
}

static void
test_inside (void)
{
  VbChartStyle style;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  g_autoptr (VbScatterChart) chart = study_chart ();
  cairo_surface_t *s = render (chart, &style);
  assert_points_inside (chart, &style, s);
  cairo_surface_destroy (s);

  /* a fixed range with points on its corners and long labels: clipped, labels moved in */
  g_autoptr (VbScatterChart) edge = vb_scatter_chart_new ();
  edge->x_auto = edge->y_auto = FALSE;
  edge->x_min = 0;
  edge->x_max = 10;
  edge->y_min = 0;
  edge->y_max = 100;
  VbScatterPoint *p = vb_scatter_chart_add_point (edge, "a long label on the top right corner",
                                                  1, 10, 100);
  p->y_lo = 80;
  p->y_hi = 120;
  vb_scatter_chart_add_point (edge, "bottom left, also with a long label", 2, 0, 0);
  s = render (edge, &style);
  assert_points_inside (edge, &style, s);
  VbChartLayout layout;
  vb_scatter_chart_get_layout (edge, W, H, &style, &layout);
  for (guint i = 0; i < 2; i++)
    {
      VbChartRect label;
      g_assert_true (vb_scatter_chart_get_point (edge, W, H, &style, i, NULL, NULL, &label));
      g_assert_cmpfloat (label.x, >=, layout.plot.x);
      g_assert_cmpfloat (label.x + label.width, <=, layout.plot.x + layout.plot.width + 0.5);
      g_assert_cmpfloat (label.y, >=, layout.plot.y);
      g_assert_cmpfloat (label.y + label.height, <=, layout.plot.y + layout.plot.height + 0.5);
    }
  cairo_surface_destroy (s);

  /* a point beyond a fixed range is not drawn at all */
  vb_scatter_chart_add_point (edge, "gone", 3, 50, 50);
  g_assert_false (vb_scatter_chart_get_point (edge, W, H, &style, 2, NULL, NULL, NULL));
}

static void
test_empty_and_export (void)
{
  g_autoptr (VbScatterChart) empty = vb_scatter_chart_new ();
  vb_scatter_chart_add_point (empty, "nan", 0, NAN, 1);
  cairo_surface_t *s = render (empty, NULL);
  g_assert_false (vb_scatter_chart_get_point (empty, W, H, NULL, 0, NULL, NULL, NULL));
  cairo_surface_destroy (s);

  g_autoptr (VbScatterChart) chart = study_chart ();
  g_autofree char *dir = g_dir_make_tmp ("vb-scatter-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "trade-off.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_scatter_chart_export (chart, NULL, path, VB_CHART_FORMAT_SVG, W, H, &error));
  g_assert_no_error (error);
  g_autofree char *svg = NULL;
  g_assert_true (g_file_get_contents (path, &svg, NULL, NULL));
  g_assert_nonnull (strstr (svg, "proj-mlp (4.2, 44.9"));
  g_assert_nonnull (strstr (svg, "Accuracy / size trade-off"));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scatter-chart/positions", test_positions);
  g_test_add_func ("/scatter-chart/inside-plot", test_inside);
  g_test_add_func ("/scatter-chart/empty-and-export", test_empty_and_export);
  return g_test_run ();
}
