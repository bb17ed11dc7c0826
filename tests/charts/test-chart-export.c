/* test-chart-export.c: PNG, SVG and PDF export of the charts, the errors of a failed
 * export, and sample figures written as test artefacts (to $VB_ARTIFACT_DIR if set,
 * else the build directory) for a person to look at. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-charts.h"

static char *tmp_dir;

/* ---- sample figures --------------------------------------------------------------- */

/* Training loss of the scan-direction ablation: three runs, mean ± std over seeds for
 * the baseline, EMA smoothing over raw ghosts. */
static VbLineChart *
sample_line_chart (void)
{
  VbLineChart *chart = vb_line_chart_new ();
  const char *names[] = { "4-dir (Cross-Scan)", "2-dir", "1-dir" };
  const double floor_loss[] = { 0.92, 1.01, 1.18 };
  GRand *rand = g_rand_new_with_seed (42);

  vb_line_chart_set_title (chart, "Synthetic test data: training loss");
  vb_line_chart_set_labels (chart, "Step", "Cross-entropy loss");
  vb_line_chart_set_caption (chart, "Generated curves, not a measurement · band: mean ± std "
                                    "· VisionBench " PACKAGE_VERSION);
  chart->smoothing = 0.6;
  for (int k = 0; k < 3; k++)
    {
      VbSeries *s = vb_line_chart_add_series (chart, vb_series_new (names[k], k));
      for (int step = 0; step <= 30000; step += 50)
        {
          double t = step / 30000.0;
          double mean = floor_loss[k] + (4.6 - floor_loss[k]) * exp (-t * 9) + 0.08 * (1 - t);
          double noise = (0.18 - 0.1 * t) * g_rand_double_range (rand, -1, 1);
          if (k == 0)
            {
              double sd = 0.05 + 0.1 * exp (-t * 6);
              vb_series_append_band (s, step, mean + noise, mean - sd, mean + sd);
            }
          else
            vb_series_append (s, step, mean + noise);
        }
    }
  g_rand_free (rand);
  return chart;
}

static VbBarChart *
sample_bar_chart (void)
{
  VbBarChart *chart = vb_bar_chart_new ();
  const char *sizes[] = { "64 px", "128 px", "224 px" };
  const double top1[3][3] = {
    { 61.3, 71.8, 76.4 },   /* 4-dir */
    { 60.1, 70.9, 75.2 },   /* 2-dir */
    { 57.8, 68.2, 73.1 },   /* 1-dir */
  };

  vb_bar_chart_set_title (chart, "Synthetic test data: Top-1");
  vb_bar_chart_set_y_label (chart, "Top-1 (%)");
  vb_bar_chart_set_caption (chart, "Mean of 3 seeds, whiskers: min–max · Δ against 4-dir at the same "
                                   "resolution · 100 classes, 300 epochs");
  vb_bar_chart_add_category (chart, "4-dir (Cross-Scan)");
  vb_bar_chart_add_category (chart, "2-dir");
  vb_bar_chart_add_category (chart, "1-dir");
  for (int s = 0; s < 3; s++)
    {
      VbBarSeries *series = vb_bar_chart_add_series (chart, vb_bar_series_new (sizes[s], s));
      double v[3] = { top1[0][s], top1[1][s], top1[2][s] };
      vb_bar_series_set_values (series, v, 3);
      for (int c = 0; c < 3; c++)
        vb_bar_series_set_error (series, c, v[c] - 0.4 - 0.1 * c, v[c] + 0.3 + 0.1 * s);
    }
  chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
  chart->baseline_index = 0;
  return chart;
}

static VbBarChart *
sample_throughput_chart (void)
{
  VbBarChart *chart = vb_bar_chart_new ();
  VbBarSeries *infer = vb_bar_series_new ("Inference (bf16)", 5);
  VbBarSeries *train = vb_bar_series_new ("Train step (bf16)", 4);
  const double vi[] = { 1686, 2410, 3275 };
  const double vt[] = { 512, 731, 1003 };

  vb_bar_chart_set_title (chart, "Synthetic test data: throughput");
  vb_bar_chart_set_y_label (chart, "img/s");
  vb_bar_chart_set_caption (chart, "visionbench-reference protocol: 8 warm-up + 20 timed steps, CUDA events, "
                                   "median of 5 repeats · 1-dir train run used fp32: its Δ is refused");
  vb_bar_chart_add_category (chart, "4-dir");
  vb_bar_chart_add_category (chart, "2-dir");
  vb_bar_chart_add_category (chart, "1-dir");
  vb_bar_series_set_values (infer, vi, 3);
  vb_bar_series_set_values (train, vt, 3);
  vb_bar_series_set_incomparable (train, 2, TRUE);
  vb_bar_chart_add_series (chart, infer);
  vb_bar_chart_add_series (chart, train);
  chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
  chart->baseline_index = 0;
  chart->delta_percent = TRUE;
  return chart;
}

static VbLineChart *
sample_wall_time_chart (void)
{
  VbLineChart *chart = vb_line_chart_new ();
  const char *names[] = { "Linear", "LowRank", "MLP", "Gated", "LoRA" };
  GRand *rand = g_rand_new_with_seed (5);

  vb_line_chart_set_title (chart, "Synthetic test data: validation accuracy");
  vb_line_chart_set_labels (chart, NULL, "Accuracy (%)");
  chart->x_axis = VB_X_AXIS_WALL_TIME;
  chart->smoothing_kind = VB_SMOOTHING_GAUSSIAN;
  chart->smoothing = 3;
  for (int k = 0; k < 5; k++)
    {
      VbSeries *s = vb_line_chart_add_series (chart, vb_series_new (names[k], k));
      double rate = 0.9 + 0.15 * k;
      for (double t = 0; t <= 2.5 * 3600 * (1 + 0.1 * k); t += 60)
        vb_series_append (s, t, 40 + (25 + 3 * k) * (1 - exp (-t / 3600.0 * rate))
                                + g_rand_double_range (rand, -1.2, 1.2));
    }
  g_rand_free (rand);
  return chart;
}

/* ---- helpers ---------------------------------------------------------------------- */

static void
draw_line_cb (cairo_t *cr,
              double   width,
              double   height,
              gpointer user_data)
{
  vb_line_chart_draw (cr, user_data, width, height, NULL);
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static guint8 *
read_file (const char *path,
           gsize      *len)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, len, &error));
  g_assert_no_error (error);
  return (guint8 *) contents;
}

static gboolean
contains_bytes (const guint8 *data,
                gsize         len,
                const char   *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* ---- tests ------------------------------------------------------------------------ */

static void
test_format_from_path (void)
{
  VbChartFormat f;

  g_assert_true (vb_chart_format_from_path ("a/b/fig.PNG", &f));
  g_assert_cmpint (f, ==, VB_CHART_FORMAT_PNG);
  g_assert_true (vb_chart_format_from_path ("fig.svg", &f));
  g_assert_cmpint (f, ==, VB_CHART_FORMAT_SVG);
  g_assert_true (vb_chart_format_from_path ("fig.pdf", &f));
  g_assert_cmpint (f, ==, VB_CHART_FORMAT_PDF);
  g_assert_false (vb_chart_format_from_path ("fig.jpeg", &f));
  g_assert_false (vb_chart_format_from_path ("dir.png/fig", &f));
  g_assert_false (vb_chart_format_from_path ("fig", &f));
}

static void
test_export_png (void)
{
  g_autoptr(VbLineChart) chart = sample_line_chart ();
  g_autofree char *path = tmp_path ("loss.png");
  g_autoptr(GError) error = NULL;

  g_assert_true (vb_line_chart_export (chart, NULL, path, VB_CHART_FORMAT_PNG, 800, 500, &error));
  g_assert_no_error (error);

  cairo_surface_t *png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, 800);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, 500);
  /* a real picture, not a blank */
  const guint8 *data = cairo_image_surface_get_data (png);
  int stride = cairo_image_surface_get_stride (png);
  guint32 first = *(const guint32 *) data;
  guint differing = 0;
  for (int y = 0; y < 500; y++)
    for (int x = 0; x < 800; x++)
      if (*(const guint32 *) (data + y * stride + 4 * x) != first)
        differing++;
  g_assert_cmpuint (differing, >, 800 * 500 / 50);
  cairo_surface_destroy (png);

  /* at 2× for a slide: twice the pixels, same picture */
  VbChartExportOptions options = { 2.0, "Loss", NULL };
  g_autofree char *path2 = tmp_path ("loss@2x.png");
  g_assert_true (vb_chart_export_full (draw_line_cb, chart, path2, VB_CHART_FORMAT_PNG, 800, 500, &options, &error));
  g_assert_no_error (error);
  png = cairo_image_surface_create_from_png (path2);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, 1600);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, 1000);
  cairo_surface_destroy (png);

  /* in memory too (clipboard) */
  g_autoptr(GBytes) bytes = vb_chart_render (draw_line_cb, chart, VB_CHART_FORMAT_PNG, 300, 200, NULL, &error);
  g_assert_no_error (error);
  gsize len;
  const guint8 *b = g_bytes_get_data (bytes, &len);
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpmem (b, 8, "\x89PNG\r\n\x1a\n", 8);
}

static void
test_export_pdf (void)
{
  g_autoptr(VbLineChart) chart = sample_line_chart ();
  g_autofree char *path = tmp_path ("loss.pdf");
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true (vb_line_chart_export (chart, NULL, path, VB_CHART_FORMAT_PDF, 800, 500, &error));
  g_assert_no_error (error);
  g_autofree guint8 *data = read_file (path, &len);
  g_assert_cmpuint (len, >, 5000);
  g_assert_cmpmem (data, 5, "%PDF-", 5);
  /* the trailer is there: the file was finished */
  g_assert_nonnull (g_strstr_len ((const char *) data + len - MIN (len, 1024), MIN (len, 1024), "%%EOF"));
  /* the document information names the program */
  g_assert_true (contains_bytes (data, len, "VisionBench"));
}

typedef struct {
  guint elements;
  char *root;
  gboolean in_metadata;
  GString *metadata;
} SvgScan;

static void
svg_start (GMarkupParseContext *context,
           const char          *element,
           const char         **names,
           const char         **values,
           gpointer             user_data,
           GError             **error)
{
  SvgScan *scan = user_data;

  if (scan->elements++ == 0)
    scan->root = g_strdup (element);
  if (strcmp (element, "metadata") == 0)
    scan->in_metadata = TRUE;
}

static void
svg_end (GMarkupParseContext *context,
         const char          *element,
         gpointer             user_data,
         GError             **error)
{
  SvgScan *scan = user_data;

  if (strcmp (element, "metadata") == 0)
    scan->in_metadata = FALSE;
}

static void
svg_text (GMarkupParseContext *context,
          const char          *text,
          gsize                len,
          gpointer             user_data,
          GError             **error)
{
  SvgScan *scan = user_data;

  if (scan->in_metadata)
    g_string_append_len (scan->metadata, text, len);
}

static void
test_export_svg (void)
{
  g_autoptr(VbLineChart) chart = sample_line_chart ();
  g_autofree char *path = tmp_path ("loss.svg");
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true (vb_line_chart_export (chart, NULL, path, VB_CHART_FORMAT_SVG, 800, 500, &error));
  g_assert_no_error (error);
  g_autofree guint8 *data = read_file (path, &len);
  g_assert_nonnull (g_strstr_len ((const char *) data, len, "<svg"));

  const GMarkupParser parser = { svg_start, svg_end, svg_text, NULL, NULL };
  SvgScan scan = { 0, NULL, FALSE, g_string_new (NULL) };
  GMarkupParseContext *context = g_markup_parse_context_new (&parser, 0, &scan, NULL);
  g_assert_true (g_markup_parse_context_parse (context, (const char *) data, len, &error));
  g_assert_no_error (error);
  g_assert_true (g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);
  g_markup_parse_context_free (context);

  g_assert_cmpstr (scan.root, ==, "svg");
  g_assert_cmpuint (scan.elements, >, 50);
  /* provenance: smoothing and series travel with the figure */
  g_assert_nonnull (strstr (scan.metadata->str, "EMA 0.60"));
  g_assert_nonnull (strstr (scan.metadata->str, "4-dir (Cross-Scan)"));
  g_free (scan.root);
  g_string_free (scan.metadata, TRUE);
}

static void
test_export_errors (void)
{
  g_autoptr(VbLineChart) chart = sample_line_chart ();
  const char *bad = "/nonexistent-visionbench-dir/sub/loss.png";
  const VbChartFormat formats[] = { VB_CHART_FORMAT_PNG, VB_CHART_FORMAT_SVG, VB_CHART_FORMAT_PDF };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (vb_line_chart_export (chart, NULL, bad, formats[i], 800, 500, &error));
      g_assert_error (error, VB_CHART_ERROR, VB_CHART_ERROR_IO);
      g_assert_nonnull (strstr (error->message, bad));
      g_test_message ("%s", error->message);
    }

  /* a directory where the file should be */
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (vb_line_chart_export (chart, NULL, tmp_dir, VB_CHART_FORMAT_PNG, 800, 500, &error));
    g_assert_error (error, VB_CHART_ERROR, VB_CHART_ERROR_IO);
    g_assert_nonnull (strstr (error->message, tmp_dir));
  }

  /* a size Cairo cannot make: the message names the file too */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = tmp_path ("empty.png");
    g_assert_false (vb_line_chart_export (chart, NULL, path, VB_CHART_FORMAT_PNG, 0, 500, &error));
    g_assert_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }

  /* no temporary files are left behind */
  g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_null (strstr (name, ".XXXXXX"));
}

static void
test_artefacts (void)
{
  const char *dir = g_getenv ("VB_ARTIFACT_DIR");
  g_autoptr(GError) error = NULL;
  VbChartStyle dark;

  if (dir == NULL || *dir == '\0')
    dir = VB_CHARTS_ARTIFACT_DIR;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);

  g_autoptr(VbLineChart) line = sample_line_chart ();
  g_autoptr(VbBarChart) bars = sample_bar_chart ();
  g_autoptr(VbBarChart) throughput = sample_throughput_chart ();
  g_autoptr(VbLineChart) wall = sample_wall_time_chart ();
  g_autoptr(VbLineChart) empty = vb_line_chart_new ();
  vb_line_chart_set_title (empty, "Run 12: training loss");
  vb_line_chart_set_labels (empty, NULL, "Loss");
  vb_chart_style_init_presentation (&dark, VB_CHART_THEME_DARK);

  struct {
    const char *name;
    gboolean    bar;
    gconstpointer chart;
    const VbChartStyle *style;
    double w, h;
  } figures[] = {
    { "chart-line.png", FALSE, line, NULL, 900, 560 },
    { "chart-line.svg", FALSE, line, NULL, 900, 560 },
    { "chart-line.pdf", FALSE, line, NULL, 900, 560 },
    { "chart-bar.png", TRUE, bars, NULL, 900, 560 },
    { "chart-bar-throughput.png", TRUE, throughput, NULL, 720, 480 },
    { "chart-line-walltime-presentation-dark.png", FALSE, wall, &dark, 1280, 720 },
    { "chart-line-empty.png", FALSE, empty, NULL, 640, 400 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (figures); i++)
    {
      g_autofree char *path = g_build_filename (dir, figures[i].name, NULL);
      VbChartFormat format;
      g_assert_true (vb_chart_format_from_path (path, &format));
      if (figures[i].bar)
        g_assert_true (vb_bar_chart_export (figures[i].chart, figures[i].style, path, format,
                                            figures[i].w, figures[i].h, &error));
      else
        g_assert_true (vb_line_chart_export (figures[i].chart, figures[i].style, path, format,
                                             figures[i].w, figures[i].h, &error));
      g_assert_no_error (error);
      g_test_message ("artefact: %s", path);
    }
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_unlink (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("vb-charts-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/charts/export/format-from-path", test_format_from_path);
  g_test_add_func ("/charts/export/png", test_export_png);
  g_test_add_func ("/charts/export/pdf", test_export_pdf);
  g_test_add_func ("/charts/export/svg", test_export_svg);
  g_test_add_func ("/charts/export/errors", test_export_errors);
  g_test_add_func ("/charts/export/artefacts", test_artefacts);

  ret = g_test_run ();
  rm_rf (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
