/* vb-runs-page.c: the Runs page. The list is read from the database (so runs the CLI
 * starts on the same file show up) on every job event and once a second, and rebuilt
 * only when a run appears, disappears or changes status. The monitor of the selected
 * run lives in vb-runs-monitor.c. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-chart-area.h"
#include "vb-runs-page-private.h"

G_DEFINE_FINAL_TYPE (VbRunsPage, vb_runs_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_X_AXIS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


static VbRunRecord *
find_run (VbRunsPage *self,
          gint64      run_id)
{
  for (guint i = 0; self->runs && i < self->runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (self->runs, i);
      if (r->id == run_id)
        return r;
    }
  return NULL;
}

/* ---- the list ------------------------------------------------------------------------------ */

static GtkWidget *
make_row (VbRunRecord *r)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);

  GtkWidget *name = gtk_label_new (r->name ? r->name : "(unnamed)");
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_tooltip_text (name, r->name);
  gtk_box_append (GTK_BOX (box), name);

  const char *status = vb_run_status_to_string (r->status);
  g_autofree char *created = g_strndup (r->created_at ? r->created_at : "", 16);
  for (char *p = created; *p; p++)
    if (*p == 'T')
      *p = ' ';
  g_autofree char *sub = g_strdup_printf ("#%" G_GINT64_FORMAT " · %s · %s", r->id, status,
                                          created);
  GtkWidget *subtitle = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "run-status");
  gtk_widget_add_css_class (subtitle, status);
  if (r->status != VB_RUN_RUNNING && r->status != VB_RUN_FAILED)
    gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_box_append (GTK_BOX (box), subtitle);

  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data (G_OBJECT (row), "vb-run-id", GINT_TO_POINTER ((int) r->id));
  return row;
}

static void
select_row_for (VbRunsPage *self,
                gint64      run_id)
{
  for (GtkWidget *c = gtk_widget_get_first_child (self->list); c; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_LIST_BOX_ROW (c)
        && GPOINTER_TO_INT (g_object_get_data (G_OBJECT (c), "vb-run-id")) == (int) run_id)
      {
        gtk_list_box_select_row (GTK_LIST_BOX (self->list), GTK_LIST_BOX_ROW (c));
        return;
      }
}

void
vb_runs_page_refresh (VbRunsPage *self)
{
  g_return_if_fail (VB_IS_RUNS_PAGE (self));

  g_autoptr (GError) error = NULL;
  GPtrArray *runs = vb_store_list_runs (vb_session_get_store (self->session), VB_RUN_ANY, NULL,
                                        500, &error);
  if (runs == NULL)
    {
      g_debug ("listing runs: %s", error->message);
      return;
    }
  g_autoptr (GString) sig = g_string_new (NULL);
  for (guint i = 0; i < runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      g_string_append_printf (sig, "%" G_GINT64_FORMAT ":%d;", r->id, r->status);
    }
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  self->runs = runs;
  if (g_strcmp0 (sig->str, self->signature) == 0)
    return;
  g_free (self->signature);
  self->signature = g_string_free (g_steal_pointer (&sig), FALSE);

  self->rebuilding = TRUE;
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->list), child);
  for (guint i = 0; i < runs->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->list), make_row (g_ptr_array_index (runs, i)));
  if (self->run_id != 0)
    select_row_for (self, self->run_id);
  self->rebuilding = FALSE;

  /* the selected run's status may have changed: refresh what the monitor says */
  if (self->run_id != 0)
    vb_runs_monitor_load (self, TRUE);
}

static void
row_selected_cb (VbRunsPage    *self,
                 GtkListBoxRow *row)
{
  if (self->rebuilding)
    return;
  gint64 id = row ? GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "vb-run-id")) : 0;
  if (id == self->run_id)
    return;
  self->run_id = id;
  self->follow_next = FALSE;
  vb_runs_monitor_load (self, TRUE);
}

/* ---- session signals ----------------------------------------------------------------------- */

static void
job_event_cb (VbRunsPage       *self,
              const VbJobEvent *event)
{
  vb_runs_page_refresh (self);
  if (event->kind == VB_JOB_EVENT_RUN_STARTED && self->follow_next)
    {
      self->follow_next = FALSE;
      vb_runs_page_select_run (self, event->run_id);
      return;
    }
  if (self->run_id != 0 && self->run_id == event->run_id)
    vb_runs_monitor_load (self, TRUE);
}

static void
progress_cb (VbRunsPage *self)
{
  vb_runs_monitor_progress (self, vb_session_get_status (self->session));
}

static void
tick_cb (VbRunsPage *self)
{
  vb_runs_page_refresh (self);
  /* a run another process trains: follow its metrics in the database */
  if (self->record != NULL && self->record->status == VB_RUN_RUNNING
      && vb_session_get_active_run (self->session) != self->run_id)
    vb_runs_monitor_load (self, TRUE);
}

static void
vb_runs_page_dispose (GObject *object)
{
  VbRunsPage *self = VB_RUNS_PAGE (object);

  adw_bin_set_child (ADW_BIN (self), NULL);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_clear_pointer (&self->record, vb_run_record_free);
  g_clear_pointer (&self->signature, g_free);

  G_OBJECT_CLASS (vb_runs_page_parent_class)->dispose (object);
}

static void
vb_runs_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  VbRunsPage *self = VB_RUNS_PAGE (object);

  switch (prop_id)
    {
    case PROP_X_AXIS:
      g_value_set_int (value, self->x_axis);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vb_runs_page_class_init (VbRunsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vb_runs_page_dispose;
  object_class->get_property = vb_runs_page_get_property;

  /* read-only: vb_runs_page_set_x_axis() sets it; the window keeps it in GSettings */
  properties[PROP_X_AXIS] =
    g_param_spec_int ("x-axis", NULL, NULL, VB_X_AXIS_STEP, VB_X_AXIS_COUNT, VB_X_AXIS_STEP,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

void
vb_runs_page_notify_x_axis (VbRunsPage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_AXIS]);
}

static void
vb_runs_page_init (VbRunsPage *self)
{
}

GtkWidget *
vb_runs_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbRunsPage *self = g_object_new (VB_TYPE_RUNS_PAGE, NULL);
  self->session = g_object_ref (session);

  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_position (GTK_PANED (paned), 340);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);

  self->list = gtk_list_box_new ();
  gtk_widget_add_css_class (self->list, "navigation-sidebar");
  GtkWidget *placeholder = gtk_label_new ("No runs yet: start one on the Experiments page");
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_list_box_set_placeholder (GTK_LIST_BOX (self->list), placeholder);
  g_signal_connect_swapped (self->list, "row-selected", G_CALLBACK (row_selected_cb), self);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->list);
  gtk_widget_set_size_request (scroller, 260, -1);
  gtk_paned_set_start_child (GTK_PANED (paned), scroller);

  self->stack = gtk_stack_new ();
  GtkWidget *empty = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "view-list-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), "No run selected");
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   "Pick a run on the left to see its progress and curves");
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  GtkWidget *monitor_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (monitor_scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (monitor_scroller), vb_runs_monitor_build (self));
  gtk_stack_add_named (GTK_STACK (self->stack), monitor_scroller, "monitor");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  gtk_paned_set_end_child (GTK_PANED (paned), self->stack);

  adw_bin_set_child (ADW_BIN (self), paned);

  g_signal_connect_swapped (session, "job-event", G_CALLBACK (job_event_cb), self);
  g_signal_connect_swapped (session, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect_swapped (session, "tick", G_CALLBACK (tick_cb), self);
  vb_runs_page_refresh (self);
  return GTK_WIDGET (self);
}

/* ---- programmatic access ------------------------------------------------------------------- */

void
vb_runs_page_follow_next_run (VbRunsPage *self)
{
  g_return_if_fail (VB_IS_RUNS_PAGE (self));
  self->follow_next = TRUE;
}

gboolean
vb_runs_page_select_run (VbRunsPage *self,
                         gint64      run_id)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), FALSE);

  if (find_run (self, run_id) == NULL)
    vb_runs_page_refresh (self);
  if (find_run (self, run_id) == NULL)
    return FALSE;
  select_row_for (self, run_id);
  if (self->run_id != run_id)
    {
      self->run_id = run_id;
      vb_runs_monitor_load (self, TRUE);
    }
  return TRUE;
}

gint64
vb_runs_page_get_selected_run (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), 0);
  return self->run_id;
}

const char *
vb_runs_page_get_run_status (VbRunsPage *self,
                             gint64      run_id)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  VbRunRecord *r = find_run (self, run_id);
  return r ? vb_run_status_to_string (r->status) : NULL;
}

guint
vb_runs_page_get_n_runs (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), 0);
  return self->runs ? self->runs->len : 0;
}

const char *
vb_runs_page_get_progress_text (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return gtk_progress_bar_get_text (GTK_PROGRESS_BAR (self->progress));
}

guint
vb_runs_page_get_n_loss_points (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), 0);
  VbLineChart *loss = vb_chart_area_get_line_chart (self->loss_chart);
  if (loss == NULL || loss->series->len == 0)
    return 0;
  return vb_series_get_length (g_ptr_array_index (loss->series, 0));
}

VbLineChart *
vb_runs_page_get_chart (VbRunsPage *self,
                        const char *name)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);

  if (g_strcmp0 (name, "loss") == 0)
    return vb_chart_area_get_line_chart (self->loss_chart);
  if (g_strcmp0 (name, "accuracy") == 0)
    return vb_chart_area_get_line_chart (self->acc_chart);
  if (g_strcmp0 (name, "throughput") == 0)
    return vb_chart_area_get_line_chart (self->tp_chart);
  return NULL;
}

void
vb_runs_page_set_x_axis (VbRunsPage  *self,
                         VbXAxisKind  x_axis)
{
  g_return_if_fail (VB_IS_RUNS_PAGE (self));

  guint i = x_axis == VB_X_AXIS_EPOCH ? 1 : x_axis == VB_X_AXIS_WALL_TIME ? 2 : 0;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->x_dropdown), i);
}

VbXAxisKind
vb_runs_page_get_x_axis (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), VB_X_AXIS_STEP);
  return self->x_axis;
}

char *
vb_runs_page_dup_log (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);

  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->log_view));
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

GtkWidget *
vb_runs_page_get_log_view (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->log_view;
}

GtkWidget *
vb_runs_page_get_cancel_button (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->cancel_button;
}

GtkWidget *
vb_runs_page_get_pause_button (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->pause_button;
}

GtkWidget *
vb_runs_page_get_unpause_button (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->unpause_button;
}

GtkWidget *
vb_runs_page_get_resume_button (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->resume_button;
}
