/* vb-compare-export.h: what the Compare page writes to files and the clipboard, with no
 * widget in sight so tests call it directly: the table through the engine's
 * vb_compare_render() (the CLI's CSV, Markdown and LaTeX), the Top-1 bar chart through
 * the chart library's PNG, SVG and PDF export. */
#pragma once

#include <gdk/gdk.h>

#include "vb-charts.h"
#include "vb-compare.h"

G_BEGIN_DECLS

/* .csv, .md (or .markdown), .tex; any case. */
gboolean    vb_compare_table_format_from_path (const char         *path,
                                               VbTableFormat      *format);
/* The Top-1 chart of the rows (oldest first), Δ against the first when there are two or
 * more. group may be NULL. */
VbBarChart *vb_compare_bar_chart              (GPtrArray          *rows,
                                               const char         *group);
/* The same with Δ against row baseline (-1: none); each bar in its run's colour. */
VbBarChart *vb_compare_accuracy_chart         (GPtrArray          *rows,
                                               const char         *group,
                                               int                 baseline);
/* The row the Δ column compares against: the first run, or -1 for a single run. */
int         vb_compare_baseline_index         (GPtrArray          *rows);
/* Writes the table atomically; the format comes from the file name. */
gboolean    vb_compare_export_table           (GPtrArray          *rows,
                                               const char         *path,
                                               GError            **error);
/* The same with the Δ column against row baseline (-1: none), as the page shows it. */
gboolean    vb_compare_export_table_with_baseline (GPtrArray      *rows,
                                                   int             baseline,
                                                   const char     *path,
                                                   GError        **error);
/* Writes the chart at width × height (PNG pixels, SVG px, PDF points); the format comes
 * from the file name. style NULL: light theme. */
gboolean    vb_compare_export_chart           (const VbBarChart   *chart,
                                               const VbChartStyle *style,
                                               const char         *path,
                                               double              width,
                                               double              height,
                                               GError            **error);
/* The chart as an image for the clipboard (width × height pixels, white background). */
GdkTexture *vb_compare_chart_texture          (const VbBarChart   *chart,
                                               const VbChartStyle *style,
                                               int                 width,
                                               int                 height);
/* The projector study's trade-off scatter, as the two above. */
gboolean    vb_compare_export_scatter         (const VbScatterChart *chart,
                                               const VbChartStyle   *style,
                                               const char           *path,
                                               double                width,
                                               double                height,
                                               GError              **error);
GdkTexture *vb_compare_scatter_texture        (const VbScatterChart *chart,
                                               const VbChartStyle   *style,
                                               int                   width,
                                               int                   height);
/* The clip-profile's stacked bar, as the two above. */
gboolean    vb_compare_export_stacked         (const VbStackedBarChart *chart,
                                               const VbChartStyle      *style,
                                               const char              *path,
                                               double                   width,
                                               double                   height,
                                               GError                 **error);
GdkTexture *vb_compare_stacked_texture        (const VbStackedBarChart *chart,
                                               const VbChartStyle      *style,
                                               int                      width,
                                               int                      height);
/* Exports rows or chart by the file's extension: a table (.csv .md .tex) or the chart
 * (.png .svg .pdf). */
gboolean    vb_compare_export                 (GPtrArray          *rows,
                                               const VbBarChart   *chart,
                                               const char         *path,
                                               double              width,
                                               double              height,
                                               GError            **error);
gboolean    vb_compare_export_with_baseline   (GPtrArray          *rows,
                                               int                 baseline,
                                               const VbBarChart   *chart,
                                               const char         *path,
                                               double              width,
                                               double              height,
                                               GError            **error);

G_END_DECLS
