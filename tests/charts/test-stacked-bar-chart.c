/* test-stacked-bar-chart.c: the clip-profile stacked bars, drawn into image surfaces: each
 * segment's width is its value on the chart's one scale within a pixel, across bars too,
 * and it is filled with its series' colour; each bar has as many segments as it has
 * positive values; the legend shows a swatch of every series; no series colour lies
 * outside the plot but in the legend's swatches; a chart without data (no bars, or bars
 * of zeros) draws "No data yet" and no segment; a segment in parts shades every other part;
 * PNG, SVG and PDF exports are written and the SVG carries the values as provenance. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "chart-pixels.h"
#include "vb-charts.h"

#define W 720
#define H 420
#define N_SERIES 7

static const char *const names[N_SERIES] = {
  "patch embedding", "layers 0–1", "proj-linear", "proj-lowrank", "proj-mlp", "proj-gated",
  "proj-lora",
};
static const int colors[N_SERIES] = { 6, 5, 0, 1, 2, 3, 4 };

static cairo_surface_t *
render (const VbStackedBarChart *chart,
        const VbChartStyle      *style)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  vb_stacked_bar_chart_draw (cr, chart, W, H, style);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  return s;
}

/* Two resolutions as a small encoder's profile has them: ms per image. */
static VbStackedBarChart *
profile_chart (void)
{
  static const double at224[N_SERIES] = { 2.0, 30.0, 1.5, 0.9, 4.0, 3.0, 2.2 };
  static const double at336[N_SERIES] = { 4.5, 71.0, 3.4, 2.0, 9.1, 6.8, 5.0 };
  VbStackedBarChart *chart = vb_stacked_bar_chart_new ();

  vb_stacked_bar_chart_set_title (chart, "Where the time goes");
  vb_stacked_bar_chart_set_labels (chart, "ms per image", "ms");
  vb_stacked_bar_chart_set_caption (chart, "The projectors are alternatives, side by side.");
  for (guint s = 0; s < N_SERIES; s++)
    vb_stacked_bar_chart_add_series (chart, names[s], colors[s]);
  chart->alt_from = 2;
  vb_stacked_bar_chart_add_bar (chart, "224 px", at224, N_SERIES);
  vb_stacked_bar_chart_add_bar (chart, "336 px", at336, N_SERIES);
  return chart;
}

static void
test_proportional (void)
{
  VbStackedBarChart *chart = profile_chart ();
  VbChartStyle style;
  VbChartLayout box;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  cairo_surface_t *s = render (chart, &style);
  cairo_surface_write_to_png (s, VB_CHARTS_ARTIFACT_DIR "/stacked-bar-profile.png");
  vb_stacked_bar_chart_get_layout (chart, W, H, &style, &box);

  /* the scale: the longer bar's end over its total */
  VbStackBar *longer = g_ptr_array_index (chart->bars, 1);
  double total = 0;
  for (guint k = 0; k < N_SERIES; k++)
    total += g_array_index (longer->values, double, k);
  VbChartRect last;
  g_assert_true (vb_stacked_bar_chart_get_segment (chart, W, H, &style, 1, N_SERIES - 1, &last));
  double scale = (last.x + last.width - box.plot.x) / total;
  g_assert_cmpfloat (scale, >, 1.0);

  for (guint b = 0; b < 2; b++)
    {
      VbStackBar *bar = g_ptr_array_index (chart->bars, b);
      double end = box.plot.x;
      g_assert_cmpuint (vb_stacked_bar_chart_n_segments (chart, b), ==, N_SERIES);
      for (guint k = 0; k < N_SERIES; k++)
        {
          VbChartRect r;
          double v = g_array_index (bar->values, double, k);
          g_assert_true (vb_stacked_bar_chart_get_segment (chart, W, H, &style, b, k, &r));
          /* within a pixel of its value on the one scale, and right after the one before */
          g_assert_cmpfloat (fabs (r.width - v * scale), <=, 1.0);
          g_assert_cmpfloat (fabs (r.x - end), <, 0.01);
          end = r.x + r.width;
          g_assert_true (vb_chart_rect_contains (&box.plot, r.x, r.y));
          g_assert_true (vb_chart_rect_contains (&box.plot, r.x + r.width - 1, r.y + r.height - 1));
          /* filled with its colour, away from the edges */
          if (r.width >= 6)
            g_assert_true (chart_near_color (chart_pixel (s, (int) (r.x + r.width / 2), (int) (r.y + r.height / 2)),
                                       vb_chart_style_series_color (&style, colors[k]), 2));
        }
    }
  cairo_surface_destroy (s);
  vb_stacked_bar_chart_free (chart);
}

static void
test_legend_and_inside (void)
{
  VbStackedBarChart *chart = profile_chart ();
  VbChartStyle style;
  VbChartLayout box;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  cairo_surface_t *s = render (chart, &style);
  vb_stacked_bar_chart_get_layout (chart, W, H, &style, &box);

  /* the legend: under the plot, a swatch of each series */
  g_assert_cmpfloat (box.legend.height, >, 0);
  g_assert_cmpfloat (box.legend.y, >=, box.plot.y + box.plot.height);
  for (guint k = 0; k < N_SERIES; k++)
    {
      const VbRgba *c = vb_chart_style_series_color (&style, colors[k]);
      gboolean found = FALSE;
      for (int y = (int) box.legend.y; y < (int) (box.legend.y + box.legend.height) && !found; y++)
        for (int x = (int) box.legend.x; x < (int) (box.legend.x + box.legend.width) && !found; x++)
          found = chart_near_color (chart_pixel (s, x, y), c, 2);
      g_assert_true (found);
    }

  /* no series colour outside the plot but in the legend */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        if (vb_chart_rect_contains (&box.plot, x, y) || vb_chart_rect_contains (&box.legend, x, y))
          continue;
        for (guint k = 0; k < N_SERIES; k++)
          if (chart_near_color (chart_pixel (s, x, y), vb_chart_style_series_color (&style, colors[k]), 2))
            g_error ("series %u's colour at %d,%d, outside the plot", k, x, y);
      }
  cairo_surface_destroy (s);
  vb_stacked_bar_chart_free (chart);
}

/* ink of the muted text colour near the plot's centre: the message */
static gboolean
has_message (cairo_surface_t     *s,
             const VbChartLayout *box,
             const VbChartStyle  *style)
{
  int cx = (int) (box->plot.x + box->plot.width / 2), cy = (int) (box->plot.y + box->plot.height / 2);
  for (int y = cy - 10; y <= cy + 10; y++)
    for (int x = cx - 60; x <= cx + 60; x++)
      if (chart_near_color (chart_pixel (s, x, y), &style->muted_text, 40)
          && !chart_near_color (chart_pixel (s, x, y), &style->background, 40))
        return TRUE;
  return FALSE;
}

static void
assert_empty (VbStackedBarChart *chart)
{
  VbChartStyle style;
  VbChartLayout box;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  cairo_surface_t *s = render (chart, &style);
  vb_stacked_bar_chart_get_layout (chart, W, H, &style, &box);
  g_assert_true (has_message (s, &box, &style));
  for (guint b = 0; b < chart->bars->len; b++)
    {
      g_assert_cmpuint (vb_stacked_bar_chart_n_segments (chart, b), ==, 0);
      for (guint k = 0; k < chart->series->len; k++)
        g_assert_false (vb_stacked_bar_chart_get_segment (chart, W, H, &style, b, k, NULL));
    }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (guint k = 0; k < N_SERIES; k++)
        g_assert_false (chart_near_color (chart_pixel (s, x, y), vb_chart_style_series_color (&style, colors[k]), 2));
  cairo_surface_destroy (s);
}

/* A segment drawn in parts (a tower's layers): the parts at their proportions, every
 * other one lighter than the series' colour and the rest in it; the segment's length
 * unchanged */
static void
test_parts (void)
{
  VbStackedBarChart *chart = profile_chart ();
  VbChartStyle style;
  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  VbChartRect before, after;
  g_assert_true (vb_stacked_bar_chart_get_segment (chart, W, H, &style, 1, 1, &before));
  static const double layers[3] = { 1.0, 2.0, 1.0 };   /* of the 71 ms: 17.75, 35.5, 17.75 */
  vb_stacked_bar_chart_set_parts (chart, 1, 1, layers, 3);
  g_assert_true (vb_stacked_bar_chart_get_segment (chart, W, H, &style, 1, 1, &after));
  g_assert_cmpfloat (before.width, ==, after.width);
  cairo_surface_t *s = render (chart, &style);
  cairo_surface_write_to_png (s, VB_CHARTS_ARTIFACT_DIR "/stacked-bar-parts.png");
  const VbRgba *c = vb_chart_style_series_color (&style, colors[1]);
  int y = (int) (after.y + after.height / 2);
  const double centres[3] = { 0.125, 0.5, 0.875 };   /* of the segment's width */
  for (int i = 0; i < 3; i++)
    {
      const guint8 *px = chart_pixel (s, (int) (after.x + centres[i] * after.width), y);
      if (i == 1)
        {
          g_assert_false (chart_near_color (px, c, 8));
          /* lighter: towards the light style's background */
          g_assert_cmpint (px[0] + px[1] + px[2], >, (int) round ((c->r + c->g + c->b) * 255));
        }
      else
        g_assert_true (chart_near_color (px, c, 2));
    }
  /* the boundary between the first and the second part sits at a quarter */
  int edge = -1;
  for (int x = (int) after.x; x < (int) (after.x + after.width); x++)
    if (!chart_near_color (chart_pixel (s, x, y), c, 8))
      {
        edge = x;
        break;
      }
  g_assert_cmpfloat (fabs (edge - (after.x + after.width / 4)), <=, 1.5);
  cairo_surface_destroy (s);
  vb_stacked_bar_chart_free (chart);
}

static void
test_empty (void)
{
  VbStackedBarChart *chart = vb_stacked_bar_chart_new ();
  vb_stacked_bar_chart_set_title (chart, "Where the time goes");
  assert_empty (chart);

  /* bars whose values are all zero or missing: no data either */
  static const double zeros[2] = { 0, NAN };
  for (guint s = 0; s < N_SERIES; s++)
    vb_stacked_bar_chart_add_series (chart, names[s], colors[s]);
  vb_stacked_bar_chart_add_bar (chart, "224 px", zeros, 2);
  assert_empty (chart);
  vb_stacked_bar_chart_free (chart);
}

static void
test_export (void)
{
  VbStackedBarChart *chart = profile_chart ();
  static const struct { VbChartFormat format; const char *ext; } formats[] = {
    { VB_CHART_FORMAT_PNG, "png" }, { VB_CHART_FORMAT_SVG, "svg" }, { VB_CHART_FORMAT_PDF, "pdf" },
  };
  g_autofree char *dir = g_dir_make_tmp ("vb-stacked-XXXXXX", NULL);

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("profile.%s", formats[f].ext);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = NULL;
      gsize len = 0;
      g_assert_true (vb_stacked_bar_chart_export (chart, NULL, path, formats[f].format, W, H, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &text, &len, NULL));
      g_assert_cmpuint (len, >, 100);
      if (formats[f].format == VB_CHART_FORMAT_SVG)
        {
          g_assert_nonnull (strstr (text, "stacked bar chart"));
          g_assert_nonnull (strstr (text, "proj-mlp 9.1"));
        }
      g_unlink (path);
    }
  g_rmdir (dir);
  vb_stacked_bar_chart_free (chart);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stacked-bar-chart/proportional", test_proportional);
  g_test_add_func ("/stacked-bar-chart/legend-and-inside", test_legend_and_inside);
  g_test_add_func ("/stacked-bar-chart/parts", test_parts);
  g_test_add_func ("/stacked-bar-chart/empty", test_empty);
  g_test_add_func ("/stacked-bar-chart/export", test_export);
  return g_test_run ();
}
