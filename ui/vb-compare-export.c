/* vb-compare-export.c: the Compare page's files, free of widgets. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-compare-export.h"

#include <string.h>

#include "vb-compare-charts.h"
#include "vb-error.h"

gboolean
vb_compare_table_format_from_path (const char    *path,
                                   VbTableFormat *format)
{
  const char *dot = path ? strrchr (path, '.') : NULL;

  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return FALSE;
  if (g_ascii_strcasecmp (dot, ".csv") == 0)
    *format = VB_TABLE_CSV;
  else if (g_ascii_strcasecmp (dot, ".md") == 0 || g_ascii_strcasecmp (dot, ".markdown") == 0)
    *format = VB_TABLE_MARKDOWN;
  else if (g_ascii_strcasecmp (dot, ".tex") == 0)
    *format = VB_TABLE_LATEX;
  else
    return FALSE;
  return TRUE;
}

int
vb_compare_baseline_index (GPtrArray *rows)
{
  return rows != NULL && rows->len > 1 ? 0 : -1;
}

/* how the accuracy was measured, for the caption: each run's validation split at its
 * input size ("at 32 px", or "at 64–224 px" when the runs differ) */
static char *
accuracy_protocol (GPtrArray *rows)
{
  int lo = G_MAXINT, hi = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      const VbCompareRow *r = g_ptr_array_index (rows, i);
      if (r->img_size > 0)
        {
          lo = MIN (lo, r->img_size);
          hi = MAX (hi, r->img_size);
        }
    }
  if (hi == 0)
    return g_strdup ("Top-1 on each run's validation split");
  if (lo == hi)
    return g_strdup_printf ("Top-1 on each run's validation split at %d px", lo);
  return g_strdup_printf ("Top-1 on each run's validation split at %d–%d px", lo, hi);
}

VbBarChart *
vb_compare_accuracy_chart (GPtrArray  *rows,
                           const char *group,
                           int         baseline)
{
  if (baseline >= (int) rows->len)
    baseline = -1;
  VbBarChart *chart = vb_compare_rows_chart (rows, baseline, "Top-1 accuracy", "Top-1 (%)", 2,
                                             G_STRUCT_OFFSET (VbCompareRow, top1));
  g_autofree char *against = baseline >= 0 && rows->len > 1
    ? g_strdup_printf (" · Δ against #%" G_GINT64_FORMAT,
                       ((VbCompareRow *) g_ptr_array_index (rows, baseline))->run_id)
    : g_strdup ("");
  g_autofree char *measured = accuracy_protocol (rows);
  g_autofree char *caption = g_strdup_printf ("%s%s%s%u run%s%s · %s",
                                              group ? "Group " : "", group ? group : "",
                                              group ? " · " : "",
                                              rows->len, rows->len == 1 ? "" : "s", against,
                                              measured);
  vb_bar_chart_set_caption (chart, caption);
  return chart;
}

VbBarChart *
vb_compare_bar_chart (GPtrArray  *rows,
                      const char *group)
{
  return vb_compare_accuracy_chart (rows, group, vb_compare_baseline_index (rows));
}

gboolean
vb_compare_export_table (GPtrArray   *rows,
                         const char  *path,
                         GError     **error)
{
  return vb_compare_export_table_with_baseline (rows, vb_compare_baseline_index (rows), path,
                                                error);
}

gboolean
vb_compare_export_table_with_baseline (GPtrArray   *rows,
                                       int          baseline,
                                       const char  *path,
                                       GError     **error)
{
  VbTableFormat format;

  g_return_val_if_fail (rows != NULL && path != NULL, FALSE);
  if (!vb_compare_table_format_from_path (path, &format))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "cannot tell the table format from “%s” (use .csv, .md or .tex)", path);
      return FALSE;
    }
  g_autofree char *text = vb_compare_render (rows, baseline, format);
  /* written to a temporary file and renamed: a failed export leaves no half a table */
  return g_file_set_contents (path, text, -1, error);
}

/* The image format from path's extension, or an error that names the ones there are. */
static gboolean
image_format (const char     *path,
              VbChartFormat  *format,
              GError        **error)
{
  if (vb_chart_format_from_path (path, format))
    return TRUE;
  g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID,
               "cannot tell the image format from “%s” (use .png, .svg or .pdf)", path);
  return FALSE;
}

gboolean
vb_compare_export_chart (const VbBarChart   *chart,
                         const VbChartStyle *style,
                         const char         *path,
                         double              width,
                         double              height,
                         GError            **error)
{
  VbChartFormat format;

  g_return_val_if_fail (chart != NULL && path != NULL, FALSE);
  if (!image_format (path, &format, error))
    return FALSE;
  return vb_bar_chart_export (chart, style, path, format, width, height, error);
}

/* width × height pixels on white, drawn by whichever chart is given */
static GdkTexture *
texture_of (const VbBarChart        *bar,
            const VbScatterChart    *scatter,
            const VbStackedBarChart *stacked,
            const VbChartStyle      *style,
            int                      width,
            int                      height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (bar != NULL)
    vb_bar_chart_draw (cr, bar, width, height, style);
  else if (scatter != NULL)
    vb_scatter_chart_draw (cr, scatter, width, height, style);
  else
    vb_stacked_bar_chart_draw (cr, stacked, width, height, style);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* Cairo's ARGB32 is premultiplied in native byte order: GDK_MEMORY_DEFAULT */
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes = g_bytes_new (cairo_image_surface_get_data (surface),
                                          (gsize) stride * height);
  cairo_surface_destroy (surface);
  return gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
}

GdkTexture *
vb_compare_chart_texture (const VbBarChart   *chart,
                          const VbChartStyle *style,
                          int                 width,
                          int                 height)
{
  g_return_val_if_fail (chart != NULL && width > 0 && height > 0, NULL);
  return texture_of (chart, NULL, NULL, style, width, height);
}

GdkTexture *
vb_compare_scatter_texture (const VbScatterChart *chart,
                            const VbChartStyle   *style,
                            int                   width,
                            int                   height)
{
  g_return_val_if_fail (chart != NULL && width > 0 && height > 0, NULL);
  return texture_of (NULL, chart, NULL, style, width, height);
}

gboolean
vb_compare_export_scatter (const VbScatterChart *chart,
                           const VbChartStyle   *style,
                           const char           *path,
                           double                width,
                           double                height,
                           GError              **error)
{
  VbChartFormat format;

  g_return_val_if_fail (chart != NULL && path != NULL, FALSE);
  if (!image_format (path, &format, error))
    return FALSE;
  return vb_scatter_chart_export (chart, style, path, format, width, height, error);
}

GdkTexture *
vb_compare_stacked_texture (const VbStackedBarChart *chart,
                            const VbChartStyle      *style,
                            int                      width,
                            int                      height)
{
  g_return_val_if_fail (chart != NULL && width > 0 && height > 0, NULL);
  return texture_of (NULL, NULL, chart, style, width, height);
}

gboolean
vb_compare_export_stacked (const VbStackedBarChart *chart,
                           const VbChartStyle      *style,
                           const char              *path,
                           double                   width,
                           double                   height,
                           GError                 **error)
{
  VbChartFormat format;

  g_return_val_if_fail (chart != NULL && path != NULL, FALSE);
  if (!image_format (path, &format, error))
    return FALSE;
  return vb_stacked_bar_chart_export (chart, style, path, format, width, height, error);
}

gboolean
vb_compare_export (GPtrArray         *rows,
                   const VbBarChart  *chart,
                   const char        *path,
                   double             width,
                   double             height,
                   GError           **error)
{
  return vb_compare_export_with_baseline (rows, vb_compare_baseline_index (rows), chart, path,
                                          width, height, error);
}

gboolean
vb_compare_export_with_baseline (GPtrArray         *rows,
                                 int                baseline,
                                 const VbBarChart  *chart,
                                 const char        *path,
                                 double             width,
                                 double             height,
                                 GError           **error)
{
  VbTableFormat table;
  VbChartFormat image;

  if (vb_compare_table_format_from_path (path, &table))
    return vb_compare_export_table_with_baseline (rows, baseline, path, error);
  if (vb_chart_format_from_path (path, &image) && chart == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID, "there is no chart to export");
      return FALSE;
    }
  if (vb_chart_format_from_path (path, &image))
    return vb_compare_export_chart (chart, NULL, path, width, height, error);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "cannot export to “%s”: use .csv, .md, .tex, .png, .svg or .pdf", path);
  return FALSE;
}
