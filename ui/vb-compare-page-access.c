/* vb-compare-page-access.c: programmatic access to the Compare page, for tests and the
 * window's actions: the shown group, cells as text and as drawn, sorting, the baseline,
 * and the charts' data. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-chart-area.h"
#include "vb-compare-page-private.h"
#include "vb-compare-profile-table.h"
#include "vb-compare-table.h"

gboolean
vb_compare_page_select_group (VbComparePage *self,
                              const char    *group_id)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  vb_compare_page_refresh (self);
  for (guint g = 0; g < self->groups->len; g++)
    if (g_strcmp0 (g_ptr_array_index (self->groups, g), group_id) == 0)
      {
        if (self->chosen != NULL && gtk_drop_down_get_selected (GTK_DROP_DOWN (self->dropdown)) == g)
          gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown), GTK_INVALID_LIST_POSITION);
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown), g);
        return TRUE;
      }
  return FALSE;
}


const char *
vb_compare_page_get_group (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return self->chosen ? NULL : self->group;
}

guint
vb_compare_page_get_n_rows (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->sorted));
}

static VbCompareItem *
item_at (VbComparePage *self,
         guint          row)
{
  return g_list_model_get_item (G_LIST_MODEL (self->sorted), row);
}

char *
vb_compare_page_dup_cell (VbComparePage *self,
                          guint          row,
                          const char    *column)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);

  int c = vb_compare_column_from_name (column);
  g_autoptr (VbCompareItem) item = item_at (self, row);
  if (item == NULL || c < 0)
    return NULL;
  return vb_compare_item_format (item, c, NULL, NULL, NULL);
}

gboolean
vb_compare_page_get_cell_style (VbComparePage  *self,
                                guint           row,
                                const char     *column,
                                gboolean       *bold,
                                gboolean       *flagged,
                                char          **tooltip)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  int c = vb_compare_column_from_name (column);
  g_autoptr (VbCompareItem) item = item_at (self, row);
  if (item == NULL || c < 0)
    return FALSE;
  g_free (vb_compare_item_format (item, c, bold, flagged, tooltip));
  return TRUE;
}

gint64
vb_compare_page_get_row_run (VbComparePage *self,
                             guint          row)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), 0);

  g_autoptr (VbCompareItem) item = item_at (self, row);
  return item ? vb_compare_item_get_run_id (item) : 0;
}

gboolean
vb_compare_page_sort_by (VbComparePage *self,
                         const char    *column,
                         gboolean       ascending)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  int c = vb_compare_column_from_name (column);
  if (c < 0)
    return FALSE;
  gtk_column_view_sort_by_column (GTK_COLUMN_VIEW (self->view),
                                  vb_compare_table_get_column (self->view, c),
                                  ascending ? GTK_SORT_ASCENDING : GTK_SORT_DESCENDING);
  return TRUE;
}

gboolean
vb_compare_page_set_baseline (VbComparePage *self,
                              gint64         run_id)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  for (guint i = 0; self->rows && i < self->rows->len; i++)
    if (((VbCompareRow *) g_ptr_array_index (self->rows, i))->run_id == run_id)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->baseline_dropdown), i + 1);
        return TRUE;
      }
  if (run_id != 0)
    return FALSE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->baseline_dropdown), 0);
  return TRUE;
}

gint64
vb_compare_page_get_baseline (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), 0);

  if (self->rows == NULL || self->baseline < 0)
    return 0;
  return ((VbCompareRow *) g_ptr_array_index (self->rows, self->baseline))->run_id;
}

VbBarChart *
vb_compare_page_get_accuracy_chart (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_chart_area_get_bar_chart (self->chart);
}

VbScatterChart *
vb_compare_page_get_scatter_chart (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_chart_area_get_scatter_chart (self->chart);
}

gboolean
vb_compare_page_is_projector (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);
  return self->projector;
}

const char *
vb_compare_page_get_notice (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return gtk_widget_get_visible (self->notice) ? gtk_label_get_text (GTK_LABEL (self->notice))
                                               : NULL;
}

gboolean
vb_compare_page_column_is_visible (VbComparePage *self,
                                   const char    *column)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  int c = vb_compare_column_from_name (column);
  return c >= 0 && gtk_column_view_column_get_visible (vb_compare_table_get_column (self->view, c));
}

VbBarChart *
vb_compare_page_get_throughput_chart (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_chart_area_get_bar_chart (self->tp_chart);
}

VbLineChart *
vb_compare_page_get_curves_chart (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_chart_area_get_line_chart (self->curves_chart);
}

gboolean
vb_compare_page_is_clip_profile (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);
  return self->clip_profile;
}

VbStackedBarChart *
vb_compare_page_get_stacked_chart (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_chart_area_get_stacked_bar_chart (self->chart);
}

guint
vb_compare_page_get_profile_blocks (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), 0);
  return gtk_widget_get_visible (self->profile_card)
         ? vb_compare_profile_tables_n_blocks (self->profile_tables) : 0;
}

const char *
vb_compare_page_get_profile_cell (VbComparePage *self,
                                  guint          block,
                                  guint          row,
                                  guint          column)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return vb_compare_profile_tables_get_cell (self->profile_tables, block, row, column);
}
