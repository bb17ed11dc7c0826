/* vb-compare-page-actions.c: what the Compare page's buttons do: exports, Copy, and
 * picking runs by hand. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-compare-export.h"
#include "vb-compare-page-private.h"
#include "vb-chart-area.h"
#include "vb-error.h"
#include "vb-window.h"

/* chart export sizes offered (PNG pixels, SVG px, PDF points) */
static const struct { int width, height; } chart_sizes[] = {
  { 640, 400 }, { 960, 600 }, { 1280, 800 }, { 1920, 1200 },
};
#define DEFAULT_CHART_SIZE 1

/* Exports and copying need a table. */
void
vb_compare_page_update_actions (VbComparePage *self)
{
  gboolean has_rows = self->rows != NULL && self->rows->len > 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.export", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.copy-table", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.copy-chart", has_rows);
}

static void
toast (VbComparePage *self,
       const char    *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (VB_IS_WINDOW (root))
    vb_window_toast (VB_WINDOW (root), message);
}

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     VbComparePage   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr (GError) error = NULL;

      if (path == NULL)
        toast (self, "Exports go to local files only");
      else if (!vb_compare_page_export (self, path, &error))
        {
          g_autofree char *msg = g_strdup_printf ("Export failed: %s", error->message);
          toast (self, msg);
        }
      else
        {
          g_autofree char *base = g_path_get_basename (path);
          g_autofree char *msg = g_strdup_printf ("Exported %s", base);
          toast (self, msg);
        }
    }
  g_clear_object (&self->chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  VbComparePage *self = VB_COMPARE_PAGE (widget);
  const char *ext = g_variant_get_string (parameter, NULL);
  GtkRoot *root = gtk_widget_get_root (widget);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new ("Export", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  g_autofree char *name = g_strdup_printf ("compare-%s.%s",
                                           self->group && !self->chosen ? self->group : "table", ext);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *pattern = g_strdup_printf ("*.%s", ext);
  gtk_file_filter_add_pattern (filter, pattern);
  gtk_file_filter_set_name (filter, pattern);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
copy_table_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  VbComparePage *self = VB_COMPARE_PAGE (widget);
  g_autofree char *table = vb_compare_page_dup_table (self, VB_TABLE_MARKDOWN);

  if (table == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), table);
  toast (self, "Table copied as Markdown");
}

/* the first chart (Top-1 bars, the trade-off scatter or the stacked bar), at the export size chosen on the
 * page, as an image */
static void
copy_chart_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  VbComparePage *self = VB_COMPARE_PAGE (widget);
  const VbBarChart *chart = vb_chart_area_get_bar_chart (self->chart);
  const VbScatterChart *scatter = vb_chart_area_get_scatter_chart (self->chart);
  const VbStackedBarChart *stacked = vb_chart_area_get_stacked_bar_chart (self->chart);
  guint size = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->size_dropdown));
  if ((chart == NULL && scatter == NULL && stacked == NULL) || size >= G_N_ELEMENTS (chart_sizes))
    return;
  int w = chart_sizes[size].width, h = chart_sizes[size].height;
  g_autoptr (GdkTexture) texture = chart != NULL ? vb_compare_chart_texture (chart, NULL, w, h)
                                   : scatter != NULL ? vb_compare_scatter_texture (scatter, NULL, w, h)
                                   : vb_compare_stacked_texture (stacked, NULL, w, h);
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (widget), texture);
  toast (self, "Chart copied as an image");
}

/* ---- picking runs -------------------------------------------------------------------------- */

static void
compare_picked_cb (GtkButton     *button,
                   VbComparePage *self)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* the list is newest first; the table wants oldest first, as a group's */
  for (GtkWidget *c = gtk_widget_get_last_child (self->pick_list); c; c = gtk_widget_get_prev_sibling (c))
    {
      GtkWidget *check = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (c));
      if (GTK_IS_CHECK_BUTTON (check) && gtk_check_button_get_active (GTK_CHECK_BUTTON (check)))
        {
          gint64 id = g_ascii_strtoll (g_object_get_data (G_OBJECT (check), "vb-run-id"), NULL, 10);
          g_array_append_val (ids, id);
        }
    }
  GtkWidget *popover = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_POPOVER);
  if (popover != NULL)
    gtk_popover_popdown (GTK_POPOVER (popover));
  if (ids->len > 0)
    vb_compare_page_show_runs (self, (const gint64 *) ids->data, ids->len);
}

static void
picker_show_cb (GtkWidget     *popover,
                VbComparePage *self)
{
  GtkWidget *child;
  g_autoptr (GPtrArray) runs = vb_store_list_runs (vb_session_get_store (self->session), VB_RUN_ANY,
                                                   NULL, 200, NULL);

  while ((child = gtk_widget_get_first_child (self->pick_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->pick_list), child);
  for (guint i = 0; runs && i < runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      g_autofree char *label = g_strdup_printf ("#%" G_GINT64_FORMAT " %s · %s", r->id,
                                                r->name ? r->name : "", vb_run_status_to_string (r->status));
      GtkWidget *check = gtk_check_button_new_with_label (label);
      g_object_set_data_full (G_OBJECT (check), "vb-run-id",
                              g_strdup_printf ("%" G_GINT64_FORMAT, r->id), g_free);
      for (guint k = 0; k < (self->rows ? self->rows->len : 0); k++)
        if (((VbCompareRow *) g_ptr_array_index (self->rows, k))->run_id == r->id)
          gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
      gtk_list_box_append (GTK_LIST_BOX (self->pick_list), check);
    }
}

GtkWidget *
vb_compare_page_build_picker (VbComparePage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();

  self->pick_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->pick_list), GTK_SELECTION_NONE);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 360);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->pick_list);
  gtk_box_append (GTK_BOX (box), scroller);
  GtkWidget *button = gtk_button_new_with_mnemonic ("_Compare Selected");
  gtk_widget_add_css_class (button, "suggested-action");
  g_signal_connect (button, "clicked", G_CALLBACK (compare_picked_cb), self);
  gtk_box_append (GTK_BOX (box), button);

  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  g_signal_connect (popover, "show", G_CALLBACK (picker_show_cb), self);
  return popover;
}

/* ---- class --------------------------------------------------------------------------------- */

void
vb_compare_page_class_init_actions (GtkWidgetClass *widget_class)
{
  /* parameter: the file extension, which picks the format (csv md tex png svg pdf) */
  gtk_widget_class_install_action (widget_class, "compare.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "compare.copy-table", NULL, copy_table_action);
  gtk_widget_class_install_action (widget_class, "compare.copy-chart", NULL, copy_chart_action);
}

GtkWidget *
vb_compare_page_new_size_dropdown (void)
{
  static const char *const size_labels[] = { "640 × 400", "960 × 600", "1280 × 800", "1920 × 1200", NULL };
  GtkWidget *dropdown = gtk_drop_down_new_from_strings (size_labels);

  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), DEFAULT_CHART_SIZE);
  gtk_widget_set_tooltip_text (dropdown, "Size of exported charts: PNG pixels, SVG px, PDF points");
  return dropdown;
}

void
vb_compare_page_get_chart_size (VbComparePage *self,
                                int           *width,
                                int           *height)
{
  g_return_if_fail (VB_IS_COMPARE_PAGE (self));

  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->size_dropdown));
  if (i >= G_N_ELEMENTS (chart_sizes))
    i = DEFAULT_CHART_SIZE;
  *width = chart_sizes[i].width;
  *height = chart_sizes[i].height;
}

char *
vb_compare_page_dup_table (VbComparePage *self,
                           VbTableFormat  format)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);

  if (self->rows == NULL || self->rows->len == 0)
    return NULL;
  return vb_compare_render (self->rows, self->baseline, format);
}

gboolean
vb_compare_page_export (VbComparePage  *self,
                        const char     *path,
                        GError        **error)
{
  int width, height;

  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  if (self->rows == NULL || self->rows->len == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID, "there is no table to export");
      return FALSE;
    }
  vb_compare_page_get_chart_size (self, &width, &height);
  VbChartFormat image;
  const VbScatterChart *scatter = vb_chart_area_get_scatter_chart (self->chart);
  /* a projector study's chart is its trade-off scatter; tables go the same way for both */
  if (scatter != NULL && vb_chart_format_from_path (path, &image))
    return vb_compare_export_scatter (scatter, NULL, path, width, height, error);
  /* a clip-profile's chart is its stacked bar */
  const VbStackedBarChart *stacked = vb_chart_area_get_stacked_bar_chart (self->chart);
  if (stacked != NULL && vb_chart_format_from_path (path, &image))
    return vb_compare_export_stacked (stacked, NULL, path, width, height, error);
  return vb_compare_export_with_baseline (self->rows, self->baseline,
                                          vb_chart_area_get_bar_chart (self->chart), path, width,
                                          height, error);
}
