/* test-bar-colors.c: one colour per bar (a run's colour on the Compare page, the same as
 * its curve): each bar is filled with its category's palette colour, an unset category
 * keeps the series colour, and a refused Δ ("≠ protocol") still draws the bar. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <math.h>

#include "vb-charts.h"

#define W 640
#define H 400

/* The colour at the middle of a bar, 0..255 per channel. */
static void
bar_pixel (cairo_surface_t  *surface,
           const VbBarChart *chart,
           guint             category,
           guint8            rgb[3])
{
  VbChartRect r;
  g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, NULL, category, 0, &r));
  int x = (int) (r.x + r.width / 2), y = (int) (r.y + r.height / 2);
  cairo_surface_flush (surface);
  const guint8 *p = cairo_image_surface_get_data (surface)
                    + y * cairo_image_surface_get_stride (surface) + x * 4;
  /* ARGB32 little endian: B G R A, opaque here */
  rgb[0] = p[2];
  rgb[1] = p[1];
  rgb[2] = p[0];
}

static void
assert_color (const guint8 rgb[3],
              const VbRgba *want)
{
  g_assert_cmpint (ABS (rgb[0] - (int) round (want->r * 255)), <=, 2);
  g_assert_cmpint (ABS (rgb[1] - (int) round (want->g * 255)), <=, 2);
  g_assert_cmpint (ABS (rgb[2] - (int) round (want->b * 255)), <=, 2);
}

static VbBarChart *
three_runs (void)
{
  VbBarChart *chart = vb_bar_chart_new ();
  const double values[] = { 120, 150, 90 };

  vb_bar_chart_set_title (chart, "Throughput");
  vb_bar_chart_set_y_label (chart, "img/s");
  vb_bar_chart_add_category (chart, "4-dir");
  vb_bar_chart_add_category (chart, "2-dir");
  vb_bar_chart_add_category (chart, "2-dir, batch 16");
  VbBarSeries *s = vb_bar_chart_add_series (chart, vb_bar_series_new ("img/s", 0));
  vb_bar_series_set_values (s, values, 3);
  return chart;
}

static void
test_per_category_colors (void)
{
  VbChartStyle style;
  g_autoptr (VbBarChart) chart = three_runs ();
  VbBarSeries *s = g_ptr_array_index (chart->series, 0);

  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  g_assert_cmpint (vb_bar_series_get_color (s, 0), ==, 0);
  vb_bar_series_set_color (s, 0, 3);
  vb_bar_series_set_color (s, 2, 5);
  g_assert_cmpint (vb_bar_series_get_color (s, 0), ==, 3);
  g_assert_cmpint (vb_bar_series_get_color (s, 1), ==, 0);   /* left unset: −1 */
  g_assert_cmpint (vb_bar_series_get_color (s, 2), ==, 5);
  g_assert_cmpint (vb_bar_series_get_color (s, 7), ==, 0);   /* past the array */

  /* Δ against the first, refused for the third: the bar is drawn all the same */
  chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
  chart->baseline_index = 0;
  vb_bar_series_set_incomparable (s, 2, TRUE);
  g_autofree char *refused = vb_bar_chart_format_delta (chart, 2, 0);
  g_assert_cmpstr (refused, ==, "≠ protocol");

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  vb_bar_chart_draw (cr, chart, W, H, &style);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);

  guint8 rgb[3];
  bar_pixel (surface, chart, 0, rgb);
  assert_color (rgb, vb_chart_style_series_color (&style, 3));
  bar_pixel (surface, chart, 1, rgb);
  assert_color (rgb, vb_chart_style_series_color (&style, 0));
  bar_pixel (surface, chart, 2, rgb);
  assert_color (rgb, vb_chart_style_series_color (&style, 5));
  cairo_surface_destroy (surface);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/charts/bar/category-colors", test_per_category_colors);
  return g_test_run ();
}
