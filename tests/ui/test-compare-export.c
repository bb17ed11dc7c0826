/* test-compare-export.c: the Compare page's exports without a display. A database with
 * three runs of one group (one without an evaluation) → the table as CSV parses back to
 * the database's numbers, Markdown and LaTeX have a line per run; the Top-1 chart as
 * PNG loads (Cairo and gdk-pixbuf) at the chosen size, as SVG parses as XML, as PDF has
 * a header and a trailer; an unknown extension writes nothing. */
#include "config.h"

#include <cairo.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-compare-export.h"

typedef struct {
  char      *dir;
  VbStore   *store;
  gint64     ids[3];
  GPtrArray *rows;
} Fixture;

static const double top1[] = { 71.234, 68.5, NAN };
static const double top5[] = { 97.01, 96.5, NAN };
static const double eval_tp[] = { 1234.56, 2000.04, NAN };
static const gint64 params[] = { 30249064, 30249064, 29584360 };
static const char *const scans[] = { "4dir", "2dir", "lean2dir" };

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("vb-compare-export-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = vb_store_open (":memory:", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *config = g_strdup_printf (
        "{\"model\": {\"dims\": 24, \"depths\": [1, 1, 2, 1], \"scan\": \"%s\"},"
        " \"data\": {\"img_size\": 64}}", scans[i]);
      g_autofree char *name = g_strdup_printf ("run, \"number\" %u", i);
      VbRunRecord fields = {
        .name = name, .preset = (char *) "scan-study", .group_id = (char *) "g-1",
        .status = VB_RUN_QUEUED, .config_json = config, .seed = 1, .device = (char *) "cpu",
      };
      g_assert_true (vb_store_create_run (f->store, &fields, &f->ids[i], &error));
      g_assert_true (vb_store_set_run_stats (f->store, f->ids[i], params[i], 0, &error));
      if (!isnan (top1[i]))
        {
          VbEpochMetric m = { .epoch = 1, .val_top1 = top1[i] - 10, .val_top5 = top5[i] - 10 };
          g_assert_true (vb_store_add_epoch_metric (f->store, f->ids[i], &m, &error));
          m = (VbEpochMetric) { .epoch = 2, .val_top1 = top1[i], .val_top5 = top5[i] };
          g_assert_true (vb_store_add_epoch_metric (f->store, f->ids[i], &m, &error));
          g_assert_true (vb_store_add_throughput (f->store, f->ids[i], "eval", eval_tp[i], "{}",
                                                 &error));
        }
      g_assert_no_error (error);
    }
  g_assert_true (vb_store_flush (f->store, &error));
  f->rows = vb_compare_rows (f->store, f->ids, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->rows->len, ==, 3);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_ptr_array_unref (f->rows);
  vb_store_close (f->store);
}

static char *
export (Fixture    *f,
        const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbBarChart) chart = vb_compare_bar_chart (f->rows, "g-1");
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (vb_compare_export (f->rows, chart, path, 640, 400, &error));
  g_assert_no_error (error);
  return path;
}

static char *
read_text (const char *path,
           gsize      *len)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, len, NULL));
  return text;
}

/* RFC 4180 fields of one line (quotes doubled inside quoted fields). */
static GStrv
csv_split (const char *line)
{
  g_autoptr (GStrvBuilder) fields = g_strv_builder_new ();
  g_autoptr (GString) field = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = line;; p++)
    {
      if (quoted && *p == '"' && p[1] == '"')
        g_string_append_c (field, *p++);
      else if (*p == '"')
        quoted = !quoted;
      else if ((*p == ',' && !quoted) || *p == '\0')
        {
          g_strv_builder_add (fields, field->str);
          g_string_truncate (field, 0);
          if (*p == '\0')
            break;
        }
      else
        g_string_append_c (field, *p);
    }
  return g_strv_builder_end (fields);
}

static int
column (GStrv       header,
        const char *name)
{
  for (int c = 0; header[c]; c++)
    if (g_str_equal (header[c], name))
      return c;
  g_error ("no column %s", name);
}

static void
assert_number (const char *cell,
               double      want,
               double      tolerance)
{
  if (isnan (want))
    {
      g_assert_cmpstr (cell, ==, "—");
      return;
    }
  char *end = NULL;
  double got = g_ascii_strtod (cell, &end);
  g_assert_true (end != cell && *end == '\0');
  g_assert_cmpfloat_with_epsilon (got, want, tolerance);
}

static void
test_csv_round_trip (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *path = export (f, "table.csv");
  g_autofree char *text = read_text (path, NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpuint (g_strv_length (lines), ==, 3 + 2);   /* header, 3 rows, empty after \n */
  g_assert_cmpstr (lines[4], ==, "");
  g_auto (GStrv) header = csv_split (lines[0]);
  int c_run = column (header, "Run"), c_params = column (header, "Params");
  int c_top1 = column (header, "Top-1 (%)"), c_top5 = column (header, "Top-5 (%)");
  int c_delta = column (header, "ΔTop-1"), c_eval = column (header, "Eval img/s");
  int c_scan = column (header, "Scan");

  for (guint i = 0; i < 3; i++)
    {
      g_auto (GStrv) cells = csv_split (lines[i + 1]);
      g_assert_cmpuint (g_strv_length (cells), ==, g_strv_length (header));
      /* the database's own numbers, not the rows the export was given */
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (f->store, f->ids[i], NULL);
      double db_top1 = epochs->len ? g_array_index (epochs, VbEpochMetric, epochs->len - 1).val_top1 : NAN;
      double db_top5 = epochs->len ? g_array_index (epochs, VbEpochMetric, epochs->len - 1).val_top5 : NAN;
      g_autoptr (VbRunRecord) run = vb_store_get_run (f->store, f->ids[i], NULL);

      g_assert_cmpint (g_ascii_strtoll (cells[c_run], NULL, 10), ==, run->id);
      g_assert_cmpint (g_ascii_strtoll (cells[c_params], NULL, 10), ==, run->params);
      assert_number (cells[c_top1], db_top1, 0.005 + 1e-9);
      assert_number (cells[c_top5], db_top5, 0.005 + 1e-9);
      assert_number (cells[c_eval], eval_tp[i], 0.05 + 1e-9);
      if (i == 0)
        g_assert_cmpstr (cells[c_delta], ==, "baseline");
      else
        assert_number (cells[c_delta], db_top1 - top1[0], 0.005 + 1e-9);
      g_assert_nonnull (strstr (cells[c_scan], i == 0 ? "4-dir" : i == 1 ? "2-dir" : "lean"));
    }
}

static void
test_markdown_and_latex (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *md_path = export (f, "table.md");
  g_autofree char *md = read_text (md_path, NULL);
  g_auto (GStrv) lines = g_strsplit (md, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2 + 3 + 1);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_true (g_str_has_prefix (lines[i], "| "));
      g_assert_true (g_str_has_suffix (lines[i], " |"));
    }
  g_assert_nonnull (strstr (lines[1], "---"));
  g_assert_nonnull (strstr (lines[2], "71.23"));

  g_autofree char *tex_path = export (f, "table.TEX");
  g_autofree char *tex = read_text (tex_path, NULL);
  g_assert_true (g_str_has_prefix (tex, "\\begin{tabular}{"));
  g_assert_true (g_str_has_suffix (tex, "\\end{tabular}\n"));
  guint n_rows = 0;
  for (const char *p = tex; (p = strstr (p, "\\\\\n")) != NULL; p++)
    n_rows++;
  g_assert_cmpuint (n_rows, ==, 1 + 3);
  g_assert_nonnull (strstr (tex, "68.50"));
}

static void
test_png (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *path = export (f, "chart.png");
  cairo_surface_t *surface = cairo_image_surface_create_from_png (path);

  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, 640);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, 400);
  /* not blank: the bars are in a palette colour, not the white background */
  cairo_surface_flush (surface);
  const guint8 *px = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  guint coloured = 0;
  for (int y = 0; y < 400; y++)
    for (int x = 0; x < 640; x++)
      {
        const guint8 *p = px + y * stride + x * 4;
        coloured += ABS (p[0] - p[2]) > 60;   /* blue and red channels far apart */
      }
  g_assert_cmpuint (coloured, >, 2000);
  cairo_surface_destroy (surface);

  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 640);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 400);
}

/* Copy chart: the texture for the clipboard has the size asked for and shows the bars */
static void
test_chart_texture (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (VbBarChart) chart = vb_compare_bar_chart (f->rows, "g-1");
  /* the caption says how the numbers were measured, in every export and copy */
  g_assert_nonnull (strstr (chart->caption, "Top-1 on each run's validation split"));
  g_autoptr (GdkTexture) texture = vb_compare_chart_texture (chart, NULL, 640, 400);

  g_assert_cmpint (gdk_texture_get_width (texture), ==, 640);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 400);
  g_autofree guint8 *px = g_malloc (640 * 400 * 4);
  gdk_texture_download (texture, px, 640 * 4);   /* B8G8R8A8 premultiplied, like Cairo's */
  guint coloured = 0, opaque = 0;
  for (int i = 0; i < 640 * 400; i++)
    {
      coloured += ABS (px[4 * i] - px[4 * i + 2]) > 60;
      opaque += px[4 * i + 3] == 255;
    }
  g_assert_cmpuint (coloured, >, 2000);          /* the bars, as in the PNG export */
  g_assert_cmpuint (opaque, ==, 640 * 400);      /* on the white background */
}

typedef struct {
  guint depth, n_elements;
  char *root;
  gboolean has_title;
} SvgCheck;

static void
svg_start (GMarkupParseContext *context,
           const char          *element,
           const char         **names,
           const char         **values,
           gpointer             user_data,
           GError             **error)
{
  SvgCheck *c = user_data;
  if (c->depth++ == 0)
    c->root = g_strdup (element);
  c->n_elements++;
  c->has_title |= g_str_equal (element, "title");
}

static void
svg_end (GMarkupParseContext *context,
         const char          *element,
         gpointer             user_data,
         GError             **error)
{
  ((SvgCheck *) user_data)->depth--;
}

static void
test_svg (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *path = export (f, "chart.svg");
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  static const GMarkupParser parser = { svg_start, svg_end, NULL, NULL, NULL };
  SvgCheck check = { 0 };
  g_autoptr (GError) error = NULL;
  GMarkupParseContext *ctx = g_markup_parse_context_new (&parser, 0, &check, NULL);

  /* GMarkup does not take the <?xml?> declaration's neighbours kindly: parse from <svg */
  const char *start = strstr (text, "<svg");
  g_assert_nonnull (start);
  g_assert_true (g_markup_parse_context_parse (ctx, start, len - (start - text), &error));
  g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
  g_assert_no_error (error);
  g_markup_parse_context_free (ctx);
  g_assert_cmpstr (check.root, ==, "svg");
  g_assert_cmpuint (check.depth, ==, 0);
  g_assert_cmpuint (check.n_elements, >, 10);
  g_assert_true (check.has_title);
  g_assert_nonnull (strstr (text, "width=\"640"));
  g_free (check.root);
}

/* PDF streams hold NUL bytes: search the whole buffer, not a C string */
static gboolean
contains (const char *data,
          gsize       len,
          const char *needle)
{
  gsize n = strlen (needle);
  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
test_pdf (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *path = export (f, "chart.pdf");
  gsize len;
  g_autofree char *text = read_text (path, &len);

  g_assert_cmpuint (len, >, 200);
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  g_assert_true (contains (text, len, "trailer"));
  g_assert_true (contains (text, len, "startxref"));
  /* the end-of-file marker, maybe followed by a newline */
  g_assert_true (contains (text + len - 8, 8, "%%EOF"));
  /* 640 × 400 points */
  g_assert_true (contains (text, len, "/MediaBox [ 0 0 640 400 ]"));
}

static void
test_bad_extension (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbBarChart) chart = vb_compare_bar_chart (f->rows, NULL);
  g_autofree char *path = g_build_filename (f->dir, "table.xlsx", NULL);

  g_assert_false (vb_compare_export (f->rows, chart, path, 640, 400, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_autofree char *png = g_build_filename (f->dir, "chart.png", NULL);
  g_assert_false (vb_compare_export (f->rows, NULL, png, 640, 400, &error));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/vb/compare-export/csv-round-trip", test_csv_round_trip);
  ADD ("/vb/compare-export/markdown-latex", test_markdown_and_latex);
  ADD ("/vb/compare-export/png", test_png);
  ADD ("/vb/compare-export/chart-texture", test_chart_texture);
  ADD ("/vb/compare-export/svg", test_svg);
  ADD ("/vb/compare-export/pdf", test_pdf);
  ADD ("/vb/compare-export/bad-extension", test_bad_extension);
#undef ADD
  return g_test_run ();
}
