/* vb-compare-page.c: the Compare page. The groups come from the database's runs (one
 * group per preset invocation, newest first); the table rows come from vb_compare_rows(),
 * the same rows the CLI's compare prints, plus FLOPs from the run record. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-chart-area.h"
#include "vb-compare-export.h"
#include "vb-compare-page.h"
#include "vb-compare.h"
#include "vb-error.h"
#include "vb-window.h"

/* chart export sizes offered (PNG pixels, SVG px, PDF points) */
static const struct { int width, height; } chart_sizes[] = {
  { 640, 400 }, { 960, 600 }, { 1280, 800 }, { 1920, 1200 },
};
#define DEFAULT_CHART_SIZE 1

static const char *const columns[] = {
  "Model", "Dirs", "ImgSize", "Top-1", "Top-5", "img/s", "Params", "FLOPs", "Status",
};
#define N_COLUMNS G_N_ELEMENTS (columns)

static const char *const column_tips[] = {
  NULL, "Scan directions of the SS2D blocks", "Input resolution (px)",
  "Validation top-1 accuracy after the last epoch (%)", "Validation top-5 accuracy (%)",
  "Evaluation throughput (images per second); the protocol is in the run's throughput card",
  "Trainable parameters", "Multiply–accumulates per image (fvcore's FLOPs, as VMamba reports)",
  NULL,
};

struct _VbComparePage
{
  AdwBin      parent_instance;

  VbSession  *session;
  GPtrArray  *groups;          /* char* group ids, newest first */
  char       *groups_signature;
  char       *group;           /* shown */
  char       *rows_signature;  /* statuses of the shown group's runs */
  GPtrArray  *cells;           /* GStrv per row, N_COLUMNS each */
  GPtrArray  *rows;            /* VbCompareRow*, the shown table's rows for exports */
  gboolean    updating;

  GtkWidget  *dropdown;
  GtkStringList *labels;
  GtkWidget  *stack;
  GtkWidget  *grid;
  GtkWidget  *chart;
  GtkWidget  *caption;
  GtkWidget  *size_dropdown;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (VbComparePage, vb_compare_page, ADW_TYPE_BIN)

static char *
format_si (double v)
{
  if (!isfinite (v) || v <= 0)
    return g_strdup ("—");
  if (v >= 1e9)
    return g_strdup_printf ("%.2fG", v / 1e9);
  if (v >= 1e6)
    return g_strdup_printf ("%.2fM", v / 1e6);
  if (v >= 1e3)
    return g_strdup_printf ("%.1fk", v / 1e3);
  return g_strdup_printf ("%.0f", v);
}

static char *
format_num (double      v,
            const char *fmt)
{
  return isfinite (v) ? g_strdup_printf (fmt, v) : g_strdup ("—");
}

static GtkWidget *
cell_label (const char *text,
            gboolean    header,
            gboolean    numeric)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0 : 0.0);
  gtk_widget_set_hexpand (label, !numeric);
  if (header)
    gtk_widget_add_css_class (label, "heading");
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  gtk_widget_set_margin_start (label, 8);
  gtk_widget_set_margin_end (label, 8);
  gtk_widget_set_margin_top (label, 4);
  gtk_widget_set_margin_bottom (label, 4);
  return label;
}

/* Exports and copying need a table. */
static void
update_actions (VbComparePage *self)
{
  gboolean has_rows = self->rows != NULL && self->rows->len > 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.export", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.copy-table", has_rows);
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
  g_autofree char *name = g_strdup_printf ("compare-%s.%s", self->group ? self->group : "table", ext);
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

static void
show_group (VbComparePage *self)
{
  VbStore *store = vb_session_get_store (self->session);
  g_autoptr (GError) error = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->grid)) != NULL)
    gtk_grid_remove (GTK_GRID (self->grid), child);
  g_ptr_array_set_size (self->cells, 0);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->rows_signature, g_free);
  vb_chart_area_set_bar_chart (self->chart, NULL);
  update_actions (self);

  if (self->group == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      return;
    }
  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, self->group, 0, &error);
  if (runs == NULL || runs->len == 0)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      return;
    }
  /* grid order: oldest first */
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GString) sig = g_string_new (NULL);
  for (guint i = runs->len; i-- > 0;)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      g_array_append_val (ids, r->id);
      g_string_append_printf (sig, "%" G_GINT64_FORMAT ":%d;", r->id, r->status);
    }
  self->rows_signature = g_string_free (g_steal_pointer (&sig), FALSE);
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  if (rows == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->caption), error->message);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "table");
      return;
    }

  for (guint c = 0; c < N_COLUMNS; c++)
    {
      GtkWidget *h = cell_label (columns[c], TRUE, c >= 2 && c <= 7);
      if (column_tips[c])
        gtk_widget_set_tooltip_text (h, column_tips[c]);
      gtk_grid_attach (GTK_GRID (self->grid), h, (int) c, 0, 1, 1);
    }
  GtkWidget *sep = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_grid_attach (GTK_GRID (self->grid), sep, 0, 1, N_COLUMNS, 1);

  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, r->run_id, NULL);
      GStrv cells = g_new0 (char *, N_COLUMNS + 1);
      cells[0] = g_strdup (r->model);
      cells[1] = g_strdup (r->scan);
      cells[2] = r->img_size > 0 ? g_strdup_printf ("%d", r->img_size) : g_strdup ("—");
      cells[3] = format_num (r->top1, "%.2f");
      cells[4] = format_num (r->top5, "%.2f");
      cells[5] = format_num (r->eval_img_per_s, "%.1f");
      cells[6] = format_si ((double) r->params);
      cells[7] = format_si (rec ? (double) rec->macs : NAN);
      cells[8] = g_strdup (r->status);
      g_ptr_array_add (self->cells, cells);

      for (guint c = 0; c < N_COLUMNS; c++)
        {
          GtkWidget *l = cell_label (cells[c], FALSE, c >= 2 && c <= 7);
          if (c == 0)
            gtk_widget_set_tooltip_text (l, r->name);
          if (c == 8 && g_strcmp0 (r->status, "done") != 0)
            gtk_widget_add_css_class (l, g_strcmp0 (r->status, "failed") == 0 ? "error" : "dim-label");
          gtk_grid_attach (GTK_GRID (self->grid), l, (int) c, (int) i + 2, 1, 1);
        }
    }
  vb_chart_area_set_bar_chart (self->chart, vb_compare_bar_chart (rows, self->group));
  self->rows = g_steal_pointer (&rows);
  update_actions (self);
  gtk_label_set_text (GTK_LABEL (self->caption), "");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "table");
}

static void
dropdown_selected_cb (VbComparePage *self)
{
  if (self->updating)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->dropdown));
  const char *group = i < self->groups->len ? g_ptr_array_index (self->groups, i) : NULL;
  if (g_strcmp0 (group, self->group) == 0)
    return;
  g_free (self->group);
  self->group = g_strdup (group);
  show_group (self);
}

void
vb_compare_page_refresh (VbComparePage *self)
{
  g_return_if_fail (VB_IS_COMPARE_PAGE (self));

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) runs = vb_store_list_runs (vb_session_get_store (self->session),
                                                   VB_RUN_ANY, NULL, 0, &error);
  if (runs == NULL)
    return;

  /* groups in order of their newest run; a label from the preset and the first run's time */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) sig = g_string_new (NULL);
  g_autoptr (GString) rows_sig = g_string_new (NULL);
  for (guint i = 0; i < runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      if (r->group_id == NULL || g_hash_table_contains (seen, r->group_id))
        continue;
      g_hash_table_add (seen, r->group_id);
      g_ptr_array_add (groups, g_strdup (r->group_id));
      g_string_append_printf (sig, "%s;", r->group_id);
    }
  if (self->group != NULL)
    for (guint i = runs->len; i-- > 0;)
      {
        VbRunRecord *r = g_ptr_array_index (runs, i);
        if (g_strcmp0 (r->group_id, self->group) == 0)
          g_string_append_printf (rows_sig, "%" G_GINT64_FORMAT ":%d;", r->id, r->status);
      }

  if (g_strcmp0 (sig->str, self->groups_signature) != 0)
    {
      g_free (self->groups_signature);
      self->groups_signature = g_string_free (g_steal_pointer (&sig), FALSE);
      g_ptr_array_unref (self->groups);
      self->groups = g_steal_pointer (&groups);

      g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
      for (guint g = 0; g < self->groups->len; g++)
        {
          const char *id = g_ptr_array_index (self->groups, g);
          const char *preset = NULL, *created = NULL;
          guint n = 0;
          for (guint i = 0; i < runs->len; i++)
            {
              VbRunRecord *r = g_ptr_array_index (runs, i);
              if (g_strcmp0 (r->group_id, id) != 0)
                continue;
              n++;
              preset = r->preset;
              created = r->created_at;
            }
          g_autofree char *when = g_strndup (created ? created : "", 16);
          for (char *p = when; *p; p++)
            if (*p == 'T')
              *p = ' ';
          g_ptr_array_add (labels, g_strdup_printf ("%s · %s · %u run%s", preset ? preset : id,
                                                    when, n, n == 1 ? "" : "s"));
        }
      g_ptr_array_add (labels, NULL);

      self->updating = TRUE;
      guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->labels));
      gtk_string_list_splice (self->labels, 0, n_old, (const char * const *) labels->pdata);
      guint keep = GTK_INVALID_LIST_POSITION;
      for (guint g = 0; g < self->groups->len; g++)
        if (g_strcmp0 (g_ptr_array_index (self->groups, g), self->group) == 0)
          keep = g;
      if (keep == GTK_INVALID_LIST_POSITION && self->groups->len > 0)
        keep = 0;   /* the newest group when nothing was shown (or it is gone) */
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown), keep);
      self->updating = FALSE;

      const char *group = keep < self->groups->len ? g_ptr_array_index (self->groups, keep) : NULL;
      if (g_strcmp0 (group, self->group) != 0)
        {
          g_free (self->group);
          self->group = g_strdup (group);
          show_group (self);
          return;
        }
    }
  /* a run of the shown group finished or was added: redo the table */
  if (self->group != NULL && g_strcmp0 (rows_sig->str, self->rows_signature) != 0)
    show_group (self);
}

static void
job_event_cb (VbComparePage    *self,
              const VbJobEvent *event)
{
  vb_compare_page_refresh (self);
}

static void
vb_compare_page_dispose (GObject *object)
{
  VbComparePage *self = VB_COMPARE_PAGE (object);

  adw_bin_set_child (ADW_BIN (self), NULL);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_pointer (&self->groups_signature, g_free);
  g_clear_pointer (&self->rows_signature, g_free);
  g_clear_pointer (&self->group, g_free);

  G_OBJECT_CLASS (vb_compare_page_parent_class)->dispose (object);
}

static void
vb_compare_page_class_init (VbComparePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = vb_compare_page_dispose;
  /* parameter: the file extension, which picks the format (csv md tex png svg pdf) */
  gtk_widget_class_install_action (widget_class, "compare.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "compare.copy-table", NULL, copy_table_action);
}

static void
vb_compare_page_init (VbComparePage *self)
{
  self->groups = g_ptr_array_new_with_free_func (g_free);
  self->cells = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
}

GtkWidget *
vb_compare_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbComparePage *self = g_object_new (VB_TYPE_COMPARE_PAGE, NULL);
  self->session = g_object_ref (session);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);

  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new_with_mnemonic ("Experiment _group");
  gtk_box_append (GTK_BOX (bar), label);
  self->labels = gtk_string_list_new (NULL);
  self->dropdown = gtk_drop_down_new (G_LIST_MODEL (self->labels), NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->dropdown);
  gtk_widget_set_hexpand (self->dropdown, TRUE);
  g_signal_connect_swapped (self->dropdown, "notify::selected",
                            G_CALLBACK (dropdown_selected_cb), self);
  gtk_box_append (GTK_BOX (bar), self->dropdown);

  static const char *const size_labels[] = { "640 × 400", "960 × 600", "1280 × 800", "1920 × 1200", NULL };
  GtkWidget *size_label = gtk_label_new_with_mnemonic ("Chart _size");
  self->size_dropdown = gtk_drop_down_new_from_strings (size_labels);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->size_dropdown), DEFAULT_CHART_SIZE);
  gtk_widget_set_tooltip_text (self->size_dropdown,
                               "Size of exported charts: PNG pixels, SVG px, PDF points");
  gtk_label_set_mnemonic_widget (GTK_LABEL (size_label), self->size_dropdown);
  gtk_box_append (GTK_BOX (bar), size_label);
  gtk_box_append (GTK_BOX (bar), self->size_dropdown);

  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) tables = g_menu_new ();
  g_menu_append (tables, "Table as _CSV…", "compare.export::csv");
  g_menu_append (tables, "Table as _Markdown…", "compare.export::md");
  g_menu_append (tables, "Table as _LaTeX…", "compare.export::tex");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (tables));
  g_autoptr (GMenu) charts = g_menu_new ();
  g_menu_append (charts, "Chart as _PNG…", "compare.export::png");
  g_menu_append (charts, "Chart as _SVG…", "compare.export::svg");
  g_menu_append (charts, "Chart as P_DF…", "compare.export::pdf");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (charts));
  GtkWidget *export = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (export), "Export");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (export, "Save the table or the chart to a file");
  gtk_box_append (GTK_BOX (bar), export);

  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (copy), "compare.copy-table");
  gtk_widget_set_tooltip_text (copy, "Copy the table as Markdown");
  gtk_box_append (GTK_BOX (bar), copy);
  gtk_box_append (GTK_BOX (box), bar);

  self->stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->stack, TRUE);
  GtkWidget *empty = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "view-grid-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), "Nothing to compare yet");
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   "Runs of one experiment appear here side by side once they exist");
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");

  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *table_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (table_card, "card");
  gtk_widget_add_css_class (table_card, "compare-table");
  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 4);
  gtk_widget_set_margin_top (self->grid, 8);
  gtk_widget_set_margin_bottom (self->grid, 8);
  gtk_widget_set_margin_start (self->grid, 8);
  gtk_widget_set_margin_end (self->grid, 8);
  gtk_box_append (GTK_BOX (table_card), self->grid);
  gtk_box_append (GTK_BOX (content), table_card);

  GtkWidget *chart_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (chart_card, "card");
  gtk_widget_add_css_class (chart_card, "chart-card");
  self->chart = vb_chart_area_new ();
  gtk_widget_set_size_request (self->chart, 400, 300);
  gtk_box_append (GTK_BOX (chart_card), self->chart);
  gtk_box_append (GTK_BOX (content), chart_card);

  self->caption = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->caption), 0);
  gtk_label_set_selectable (GTK_LABEL (self->caption), TRUE);
  gtk_widget_add_css_class (self->caption, "caption");
  gtk_widget_add_css_class (self->caption, "dim-label");
  gtk_box_append (GTK_BOX (content), self->caption);

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  gtk_stack_add_named (GTK_STACK (self->stack), scroller, "table");
  gtk_box_append (GTK_BOX (box), self->stack);

  adw_bin_set_child (ADW_BIN (self), box);

  g_signal_connect_swapped (session, "job-event", G_CALLBACK (job_event_cb), self);
  g_signal_connect_swapped (session, "tick", G_CALLBACK (vb_compare_page_refresh), self);
  update_actions (self);
  vb_compare_page_refresh (self);
  if (self->group == NULL)
    gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  return GTK_WIDGET (self);
}

gboolean
vb_compare_page_select_group (VbComparePage *self,
                              const char    *group_id)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), FALSE);

  vb_compare_page_refresh (self);
  for (guint g = 0; g < self->groups->len; g++)
    if (g_strcmp0 (g_ptr_array_index (self->groups, g), group_id) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown), g);
        return TRUE;
      }
  return FALSE;
}

const char *
vb_compare_page_get_group (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);
  return self->group;
}

guint
vb_compare_page_get_n_rows (VbComparePage *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), 0);
  return self->cells->len;
}

char *
vb_compare_page_dup_cell (VbComparePage *self,
                          guint          row,
                          const char    *column)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);

  if (row >= self->cells->len)
    return NULL;
  for (guint c = 0; c < N_COLUMNS; c++)
    if (g_strcmp0 (columns[c], column) == 0)
      return g_strdup (((GStrv) g_ptr_array_index (self->cells, row))[c]);
  return NULL;
}

char *
vb_compare_page_dup_table (VbComparePage *self,
                           VbTableFormat  format)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (self), NULL);

  if (self->rows == NULL || self->rows->len == 0)
    return NULL;
  return vb_compare_render (self->rows, vb_compare_baseline_index (self->rows), format);
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
  return vb_compare_export (self->rows, vb_chart_area_get_bar_chart (self->chart), path, width,
                            height, error);
}
