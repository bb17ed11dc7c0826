/* vb-compare-page.h: an experiment group → the study's side-by-side table and a Top-1
 * bar chart. */
#pragma once

#include <adwaita.h>

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

G_END_DECLS
