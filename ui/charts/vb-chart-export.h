/* vb-chart-export.h: one drawing function, three file formats. The chart is drawn by
 * the same code as on screen into a Cairo PNG (image), SVG or PDF surface, assembled in
 * memory and written atomically (a failed export leaves no half-written file). SVG and
 * PDF files carry the figure's provenance (ux.md §5.5): a <title> and <metadata> element
 * in SVG, Title / Subject / Creator in the PDF document information. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "vb-chart-data.h"
#include "vb-chart-style.h"

G_BEGIN_DECLS

#define VB_CHART_ERROR (vb_chart_error_quark ())

typedef enum {
  VB_CHART_ERROR_FAILED,   /* Cairo could not render */
  VB_CHART_ERROR_IO,       /* the file could not be written */
  VB_CHART_ERROR_INVALID,  /* bad size, format or file name */
} VbChartError;

GQuark vb_chart_error_quark (void);

typedef enum {
  VB_CHART_FORMAT_PNG,
  VB_CHART_FORMAT_SVG,
  VB_CHART_FORMAT_PDF,
} VbChartFormat;

/* Draws a chart of width × height user units into cr. */
typedef void (*VbChartDrawFunc) (cairo_t *cr,
                                 double   width,
                                 double   height,
                                 gpointer user_data);

typedef struct {
  double      scale;      /* PNG pixels per user unit (2 = "@2x", 300/96 ≈ 300 dpi); ≤ 0 = 1 */
  const char *title;      /* SVG <title>, PDF Title; NULL = none */
  const char *metadata;   /* provenance text: SVG <metadata>, PDF Subject; NULL = none */
} VbChartExportOptions;

/* From the file name's extension (.png, .svg, .pdf; any case). */
gboolean    vb_chart_format_from_path  (const char    *path,
                                        VbChartFormat *format);
const char *vb_chart_format_to_string  (VbChartFormat  format);

/* width and height: user units — PNG pixels at scale 1, SVG px, PDF points (1/72 in). */
GBytes  *vb_chart_render        (VbChartDrawFunc             draw,
                                 gpointer                    user_data,
                                 VbChartFormat               format,
                                 double                      width,
                                 double                      height,
                                 const VbChartExportOptions *options,
                                 GError                    **error);
gboolean vb_chart_export        (VbChartDrawFunc             draw,
                                 gpointer                    user_data,
                                 const char                 *path,
                                 VbChartFormat               format,
                                 double                      width,
                                 double                      height,
                                 GError                    **error);
gboolean vb_chart_export_full   (VbChartDrawFunc             draw,
                                 gpointer                    user_data,
                                 const char                 *path,
                                 VbChartFormat               format,
                                 double                      width,
                                 double                      height,
                                 const VbChartExportOptions *options,
                                 GError                    **error);

/* Conveniences: the chart's title and vb_*_chart_describe() become the metadata.
 * style NULL: light theme. vb_scatter_chart_export() is declared with its chart. */
gboolean vb_line_chart_export   (const VbLineChart          *chart,
                                 const VbChartStyle         *style,
                                 const char                 *path,
                                 VbChartFormat               format,
                                 double                      width,
                                 double                      height,
                                 GError                    **error);
gboolean vb_bar_chart_export    (const VbBarChart           *chart,
                                 const VbChartStyle         *style,
                                 const char                 *path,
                                 VbChartFormat               format,
                                 double                      width,
                                 double                      height,
                                 GError                    **error);

G_END_DECLS
