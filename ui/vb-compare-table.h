/* vb-compare-table.h: the Compare page's table as a GtkColumnView: one VbCompareItem per
 * run, every column sortable (numeric columns by value, missing values last), Δ and %Δ
 * against a baseline run, the best value of each metric in bold, and the comparability
 * guard on img/s: a Δ between different protocol cards is "≠ protocol" in red, with the
 * differing fields in its tooltip. Items are immutable: a new baseline means new items. */
#pragma once

#include <gtk/gtk.h>

#include "vb-compare.h"

G_BEGIN_DECLS

typedef enum {
  VB_COMPARE_COL_MODEL,
  VB_COMPARE_COL_DIRS,
  VB_COMPARE_COL_IMG_SIZE,
  VB_COMPARE_COL_TOP1,
  VB_COMPARE_COL_TOP1_DELTA,
  VB_COMPARE_COL_TOP1_PCT,
  VB_COMPARE_COL_TOP5,
  VB_COMPARE_COL_TOP5_DELTA,
  VB_COMPARE_COL_TOP5_PCT,
  VB_COMPARE_COL_IPS,
  VB_COMPARE_COL_IPS_DELTA,
  VB_COMPARE_COL_IPS_PCT,
  VB_COMPARE_COL_PARAMS,
  VB_COMPARE_COL_FLOPS,
  /* the projector study's columns (clip-projectors.md §3.1, §4), shown instead */
  VB_COMPARE_COL_PROJECTOR,
  VB_COMPARE_COL_SEED,
  VB_COMPARE_COL_TEST_LOSS,
  VB_COMPARE_COL_TEST_LOSS_DELTA,
  VB_COMPARE_COL_PROXY_TOP1,
  VB_COMPARE_COL_PROXY_TOP1_DELTA,
  VB_COMPARE_COL_PARAMS_M,
  VB_COMPARE_COL_FLOPS_M,
  VB_COMPARE_COL_RUNTIME,
  VB_COMPARE_COL_RUNTIME_PCT,
  VB_COMPARE_COL_ENCODER,
  VB_COMPARE_COL_STATUS,
  VB_COMPARE_N_COLUMNS
} VbCompareColumn;

/* The column's name, as its header shows it ("Top-1", "ΔTop-1", "%ΔTop-1", "img/s", ...). */
const char *vb_compare_column_name      (VbCompareColumn  column);
/* -1 when no column has that name. */
int         vb_compare_column_from_name (const char      *name);

#define VB_TYPE_COMPARE_ITEM (vb_compare_item_get_type ())
G_DECLARE_FINAL_TYPE (VbCompareItem, vb_compare_item, VB, COMPARE_ITEM, GObject)

gint64   vb_compare_item_get_run_id (VbCompareItem   *self);
/* The cell's text; bold: the best value of its metric column; flagged: a refused Δ
 * (red); tooltip: why, or NULL. Any out pointer may be NULL. */
char    *vb_compare_item_format     (VbCompareItem   *self,
                                     VbCompareColumn  column,
                                     gboolean        *bold,
                                     gboolean        *flagged,
                                     char           **tooltip);

/* Items for rows (VbCompareRow*, in table order), with macs (one per row, 0 = unknown)
 * and cards (char* eval protocol cards, one per row, NULL = none); Δ against row
 * baseline (-1: none). */
GListStore *vb_compare_items_new        (GPtrArray       *rows,
                                         const gint64    *macs,
                                         GPtrArray       *cards,
                                         int              baseline);

/* A column view over items, sorted by the column the user clicks; *sorted is the model
 * in display order (owned by the view). */
GtkWidget  *vb_compare_table_new        (GtkSortListModel **sorted);
/* Shows the projector study's columns (and Status) instead of the VMamba ones. */
void        vb_compare_table_set_projector (GtkWidget     *view,
                                            gboolean       projector);
/* Whether the column is one of the projector study's. */
gboolean    vb_compare_column_is_projector (VbCompareColumn column);
GtkColumnViewColumn *vb_compare_table_get_column (GtkWidget       *view,
                                                  VbCompareColumn  column);

G_END_DECLS
