/* vb-presentation-table.h: the presentation's comparison table, drawn with Cairo and
 * Pango in the chart style: read once from the Compare page's public cells (its sort
 * order, best values bold, refused Δs red), each run marked with its chart colour, and
 * scaled to fit the view, type as large as the room allows. Text columns whose value is
 * the same in every row (Model, Dirs, ImgSize) are said once above the table. */
#pragma once

#include <cairo.h>

#include "vb-compare-page.h"

G_BEGIN_DECLS

typedef struct {
  GPtrArray *columns;   /* char* headers: "Run", then the Compare columns shown */
  GArray    *folded;    /* gboolean per column: the same in every row, said once */
  GPtrArray *cells;     /* char* plain text, row-major, columns->len per row */
  GArray    *styles;    /* guint8 per cell: CELL_BOLD | CELL_FLAGGED */
  GArray    *colors;    /* int per row: the run's palette index */
  guint      n_rows;
} VbPresentationTable;

void        vb_presentation_table_read  (VbPresentationTable       *table,
                                         VbComparePage             *compare);
void        vb_presentation_table_clear (VbPresentationTable       *table);
void        vb_presentation_table_draw  (const VbPresentationTable *table,
                                         cairo_t                   *cr,
                                         double                     width,
                                         double                     height,
                                         const VbChartStyle        *style);
/* The cell's text (a folded column's too); NULL when absent. */
const char *vb_presentation_table_get   (const VbPresentationTable *table,
                                         guint                      row,
                                         const char                *column);

G_END_DECLS
