/* vb-compare-export.c: the Compare page's files, free of widgets. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-compare-export.h"

#include <string.h>

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

VbBarChart *
vb_compare_bar_chart (GPtrArray  *rows,
                      const char *group)
{
  VbBarChart *chart = vb_bar_chart_new ();
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

  vb_bar_chart_set_title (chart, "Top-1 accuracy");
  vb_bar_chart_set_y_label (chart, "Top-1 (%)");
  chart->show_values = TRUE;
  chart->value_decimals = 2;
  chart->higher_is_better = TRUE;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      vb_bar_chart_add_category (chart, r->scan);
      g_array_append_val (values, r->top1);
    }
  VbBarSeries *series = vb_bar_chart_add_series (chart, vb_bar_series_new ("Top-1 (%)", 0));
  vb_bar_series_set_values (series, (const double *) values->data, values->len);
  if (rows->len > 1)
    {
      chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
      chart->baseline_index = 0;
    }
  g_autofree char *caption = g_strdup_printf ("%s%s%s%u run%s · Δ against the first run",
                                              group ? "Group " : "", group ? group : "",
                                              group ? " · " : "",
                                              rows->len, rows->len == 1 ? "" : "s");
  vb_bar_chart_set_caption (chart, caption);
  return chart;
}

gboolean
vb_compare_export_table (GPtrArray   *rows,
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
  g_autofree char *text = vb_compare_render (rows, vb_compare_baseline_index (rows), format);
  /* written to a temporary file and renamed: a failed export leaves no half a table */
  return g_file_set_contents (path, text, -1, error);
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
  if (!vb_chart_format_from_path (path, &format))
    {
      g_set_error (error, VB_CHART_ERROR, VB_CHART_ERROR_INVALID,
                   "cannot tell the image format from “%s” (use .png, .svg or .pdf)", path);
      return FALSE;
    }
  return vb_bar_chart_export (chart, style, path, format, width, height, error);
}

gboolean
vb_compare_export (GPtrArray         *rows,
                   const VbBarChart  *chart,
                   const char        *path,
                   double             width,
                   double             height,
                   GError           **error)
{
  VbTableFormat table;
  VbChartFormat image;

  if (vb_compare_table_format_from_path (path, &table))
    return vb_compare_export_table (rows, path, error);
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
