/* vb-chart-export.c: PNG, SVG and PDF export through Cairo surfaces. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-export.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vb-bar-chart.h"
#include "vb-line-chart.h"
#include "vb-scatter-chart.h"
#include "vb-stacked-bar-chart.h"

G_DEFINE_QUARK (vb-chart-error-quark, vb_chart_error)

/* largest PNG side we agree to allocate */
#define MAX_PNG_SIDE 16384

gboolean
vb_chart_format_from_path (const char    *path,
                           VbChartFormat *format)
{
  const char *dot;

  g_return_val_if_fail (path != NULL, FALSE);
  dot = strrchr (path, '.');
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return FALSE;
  if (g_ascii_strcasecmp (dot, ".png") == 0)
    *format = VB_CHART_FORMAT_PNG;
  else if (g_ascii_strcasecmp (dot, ".svg") == 0)
    *format = VB_CHART_FORMAT_SVG;
  else if (g_ascii_strcasecmp (dot, ".pdf") == 0)
    *format = VB_CHART_FORMAT_PDF;
  else
    return FALSE;
  return TRUE;
}

const char *
vb_chart_format_to_string (VbChartFormat format)
{
  switch (format)
    {
    case VB_CHART_FORMAT_PNG:
      return "PNG";
    case VB_CHART_FORMAT_SVG:
      return "SVG";
    case VB_CHART_FORMAT_PDF:
      return "PDF";
    default:
      return "unknown";
    }
}

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* A copy of the SVG with <title> and <metadata> right after the root <svg ...> tag. */
static GByteArray *
add_svg_metadata (GByteArray                 *svg,
                  const VbChartExportOptions *options)
{
  const char *data = (const char *) svg->data;
  const char *root, *end;
  GByteArray *out;
  GString *extra;

  if (options == NULL || (options->title == NULL && options->metadata == NULL))
    return svg;
  root = g_strstr_len (data, svg->len, "<svg");
  if (root == NULL)
    return svg;
  end = memchr (root, '>', svg->len - (root - data));
  if (end == NULL)
    return svg;

  extra = g_string_new ("\n");
  if (options->title != NULL)
    {
      g_autofree char *t = g_markup_escape_text (options->title, -1);
      g_string_append_printf (extra, "<title>%s</title>\n", t);
    }
  if (options->metadata != NULL)
    {
      g_autofree char *m = g_markup_escape_text (options->metadata, -1);
      g_string_append_printf (extra, "<metadata id=\"visionbench-provenance\">VisionBench %s; %s</metadata>\n",
                              PACKAGE_VERSION, m);
    }
  gsize head = (gsize) (end + 1 - data);
  out = g_byte_array_sized_new (svg->len + extra->len);
  g_byte_array_append (out, svg->data, head);
  g_byte_array_append (out, (const guint8 *) extra->str, extra->len);
  g_byte_array_append (out, svg->data + head, svg->len - head);
  g_string_free (extra, TRUE);
  g_byte_array_unref (svg);
  return out;
}

GBytes *
vb_chart_render (VbChartDrawFunc             draw,
                 gpointer                    user_data,
                 VbChartFormat               format,
                 double                      width,
                 double                      height,
                 const VbChartExportOptions *options,
                 GError                    **error)
{
  double scale = options != NULL && options->scale > 0 ? options->scale : 1.0;
  cairo_surface_t *surface = NULL;
  cairo_status_t status;
  GByteArray *buf;
  cairo_t *cr;

  g_return_val_if_fail (draw != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(width >= 1 && height >= 1 && isfinite (width) && isfinite (height) && isfinite (scale)))
    {
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID,
                   "Invalid chart size %g × %g", width, height);
      return NULL;
    }

  buf = g_byte_array_new ();
  switch (format)
    {
    case VB_CHART_FORMAT_PNG:
      {
        double pw = ceil (width * scale), ph = ceil (height * scale);
        if (pw > MAX_PNG_SIDE || ph > MAX_PNG_SIDE)
          {
            g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID,
                         "A %g × %g pixel PNG is too large (at most %d pixels a side)", pw, ph, MAX_PNG_SIDE);
            g_byte_array_unref (buf);
            return NULL;
          }
        surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) pw, (int) ph);
      }
      break;
    case VB_CHART_FORMAT_SVG:
      surface = cairo_svg_surface_create_for_stream (append_cb, buf, width, height);
      cairo_svg_surface_restrict_to_version (surface, CAIRO_SVG_VERSION_1_1);
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
      break;
    case VB_CHART_FORMAT_PDF:
      surface = cairo_pdf_surface_create_for_stream (append_cb, buf, width, height);
      cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "VisionBench " PACKAGE_VERSION);
      if (options != NULL && options->title != NULL)
        cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, options->title);
      if (options != NULL && options->metadata != NULL)
        cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_SUBJECT, options->metadata);
      break;
    default:
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID, "Unknown chart format %d", (int) format);
      g_byte_array_unref (buf);
      return NULL;
    }

  status = cairo_surface_status (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    {
      cr = cairo_create (surface);
      if (format == VB_CHART_FORMAT_PNG)
        cairo_scale (cr, scale, scale);
      draw (cr, width, height, user_data);
      status = cairo_status (cr);
      cairo_destroy (cr);
    }
  if (status == CAIRO_STATUS_SUCCESS)
    {
      if (format == VB_CHART_FORMAT_PNG)
        {
          cairo_surface_flush (surface);
          status = cairo_surface_write_to_png_stream (surface, append_cb, buf);
        }
      else
        {
          cairo_surface_finish (surface);
          status = cairo_surface_status (surface);
        }
    }
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_FAILED, "Could not render the chart as %s: %s",
                   vb_chart_format_to_string (format), cairo_status_to_string (status));
      g_byte_array_unref (buf);
      return NULL;
    }
  if (format == VB_CHART_FORMAT_SVG)
    buf = add_svg_metadata (buf, options);
  return g_byte_array_free_to_bytes (buf);
}

/* Writes next to the target and renames over it: no half-written file on failure. */
static gboolean
write_atomically (const char *path,
                  GBytes     *bytes,
                  GError    **error)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  int fd, saved;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_IO, "Could not write chart to “%s”: %s",
                   display, g_strerror (saved));
      return FALSE;
    }
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          saved = n < 0 ? errno : EIO;
          close (fd);
          g_unlink (tmp);
          g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_IO, "Could not write chart to “%s”: %s",
                       display, g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  if (close (fd) != 0 || g_rename (tmp, path) != 0)
    {
      saved = errno;
      g_unlink (tmp);
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_IO, "Could not write chart to “%s”: %s",
                   display, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
vb_chart_export_full (VbChartDrawFunc             draw,
                      gpointer                    user_data,
                      const char                 *path,
                      VbChartFormat               format,
                      double                      width,
                      double                      height,
                      const VbChartExportOptions *options,
                      GError                    **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  bytes = vb_chart_render (draw, user_data, format, width, height, options, error);
  if (bytes == NULL)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_prefix_error (error, "Could not export “%s”: ", display);
      return FALSE;
    }
  return write_atomically (path, bytes, error);
}

gboolean
vb_chart_export (VbChartDrawFunc draw,
                 gpointer        user_data,
                 const char     *path,
                 VbChartFormat   format,
                 double          width,
                 double          height,
                 GError        **error)
{
  return vb_chart_export_full (draw, user_data, path, format, width, height, NULL, error);
}

/* ---- the conveniences: one chart, its title and description as the metadata ---- */

typedef struct {
  gconstpointer       chart;
  const VbChartStyle *style;
} Closure;

static void
draw_line_cb (cairo_t *cr,
              double   width,
              double   height,
              gpointer user_data)
{
  Closure *c = user_data;

  vb_line_chart_draw (cr, c->chart, width, height, c->style);
}

static void
draw_bar_cb (cairo_t *cr,
             double   width,
             double   height,
             gpointer user_data)
{
  Closure *c = user_data;

  vb_bar_chart_draw (cr, c->chart, width, height, c->style);
}

static void
draw_scatter_cb (cairo_t *cr,
                 double   width,
                 double   height,
                 gpointer user_data)
{
  Closure *c = user_data;

  vb_scatter_chart_draw (cr, c->chart, width, height, c->style);
}

static void
draw_stacked_cb (cairo_t *cr,
                 double   width,
                 double   height,
                 gpointer user_data)
{
  Closure *c = user_data;

  vb_stacked_bar_chart_draw (cr, c->chart, width, height, c->style);
}

static gboolean
export_chart (VbChartDrawFunc     draw,
              gconstpointer       chart,
              const VbChartStyle *style,
              const char         *title,
              const char         *metadata,
              const char         *path,
              VbChartFormat       format,
              double              width,
              double              height,
              GError            **error)
{
  Closure c = { chart, style };
  VbChartExportOptions options = { 1.0, title, metadata };

  return vb_chart_export_full (draw, &c, path, format, width, height, &options, error);
}

gboolean
vb_line_chart_export (const VbLineChart  *chart,
                      const VbChartStyle *style,
                      const char         *path,
                      VbChartFormat       format,
                      double              width,
                      double              height,
                      GError            **error)
{
  g_return_val_if_fail (chart != NULL, FALSE);
  g_autofree char *meta = vb_line_chart_describe (chart);
  return export_chart (draw_line_cb, chart, style, chart->title, meta, path, format, width,
                       height, error);
}

gboolean
vb_bar_chart_export (const VbBarChart   *chart,
                     const VbChartStyle *style,
                     const char         *path,
                     VbChartFormat       format,
                     double              width,
                     double              height,
                     GError            **error)
{
  g_return_val_if_fail (chart != NULL, FALSE);
  g_autofree char *meta = vb_bar_chart_describe (chart);
  return export_chart (draw_bar_cb, chart, style, chart->title, meta, path, format, width,
                       height, error);
}

gboolean
vb_scatter_chart_export (const VbScatterChart *chart,
                         const VbChartStyle   *style,
                         const char           *path,
                         VbChartFormat         format,
                         double                width,
                         double                height,
                         GError              **error)
{
  g_return_val_if_fail (chart != NULL, FALSE);
  g_autofree char *meta = vb_scatter_chart_describe (chart);
  return export_chart (draw_scatter_cb, chart, style, chart->title, meta, path, format, width,
                       height, error);
}

gboolean
vb_stacked_bar_chart_export (const VbStackedBarChart *chart,
                             const VbChartStyle      *style,
                             const char              *path,
                             VbChartFormat            format,
                             double                   width,
                             double                   height,
                             GError                 **error)
{
  g_return_val_if_fail (chart != NULL, FALSE);
  g_autofree char *meta = vb_stacked_bar_chart_describe (chart);
  return export_chart (draw_stacked_cb, chart, style, chart->title, meta, path, format, width,
                       height, error);
}
