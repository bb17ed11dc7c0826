/* vb-compare-page.h: an experiment group → the study's side-by-side table and a Top-1
 * bar chart, with exports (table as CSV, Markdown, LaTeX; chart as PNG, SVG, PDF) and
 * "Copy table" (Markdown on the clipboard). */
#pragma once

#include <adwaita.h>

#include "vb-compare.h"
#include "vb-session.h"

G_BEGIN_DECLS

#define VB_TYPE_COMPARE_PAGE (vb_compare_page_get_type ())
G_DECLARE_FINAL_TYPE (VbComparePage, vb_compare_page, VB, COMPARE_PAGE, AdwBin)

GtkWidget  *vb_compare_page_new          (VbSession     *session);
/* Re-reads the groups (and the shown group's runs) from the database. */
void        vb_compare_page_refresh      (VbComparePage *self);
gboolean    vb_compare_page_select_group (VbComparePage *self,
                                          const char    *group_id);
const char *vb_compare_page_get_group    (VbComparePage *self);
guint       vb_compare_page_get_n_rows   (VbComparePage *self);
/* The text of a table cell: row from 0 (header excluded), column by its header
 * ("Model", "Dirs", "ImgSize", "Top-1", "Top-5", "img/s", "Params", "FLOPs", "Status",
 * "Run"). NULL when out of range. */
char       *vb_compare_page_dup_cell     (VbComparePage *self,
                                          guint          row,
                                          const char    *column);
/* The shown table as the CLI renders it; NULL when there is none. */
char       *vb_compare_page_dup_table    (VbComparePage *self,
                                          VbTableFormat  format);
/* The chart size chosen for exports. */
void        vb_compare_page_get_chart_size (VbComparePage *self,
                                            int           *width,
                                            int           *height);
/* What the Export menu does after the file chooser: the table or the chart, by path's
 * extension (.csv .md .tex .png .svg .pdf). */
gboolean    vb_compare_page_export       (VbComparePage *self,
                                          const char    *path,
                                          GError       **error);

G_END_DECLS
