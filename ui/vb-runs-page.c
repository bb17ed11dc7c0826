/* vb-runs-page.c: the Runs page. The list is read from the database (so runs the CLI
 * starts on the same file show up) on every job event and once a second, and rebuilt
 * only when a run appears, disappears or changes status. The monitor combines the
 * database's step and epoch metrics with the engine's live snapshot for the run this
 * process is training. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-chart-area.h"
#include "vb-runs-page.h"

#define CHART_RELOAD_US (G_USEC_PER_SEC)

struct _VbRunsPage
{
  AdwBin       parent_instance;

  VbSession   *session;
  GPtrArray   *runs;             /* VbRunRecord*, newest first */
  char        *signature;        /* ids and statuses of runs, to skip needless rebuilds */
  gboolean     follow_next;
  gboolean     rebuilding;

  GtkWidget   *list;
  GtkWidget   *stack;
  /* monitor */
  gint64       run_id;           /* selected, 0 = none */
  VbRunRecord *record;
  int          epochs;           /* from the run's config, 0 when unknown */
  gint64       last_db_step;
  gint64       last_chart_load;
  gint64       cancelled_run;    /* Cancel was pressed for this run */
  int          live_epoch;       /* the epoch of the last live snapshot shown */
  GtkWidget   *title;
  GtkWidget   *status_label;
  GtkWidget   *cancel_button;
  GtkWidget   *progress;
  GtkWidget   *detail;
  GtkWidget   *error_label;
  GtkWidget   *info;
  GtkWidget   *loss_chart;
  GtkWidget   *top1_chart;
};

G_DEFINE_FINAL_TYPE (VbRunsPage, vb_runs_page, ADW_TYPE_BIN)

static void load_monitor (VbRunsPage *self, gboolean reload_charts);

static void
format_duration (double s,
                 char  *buf,
                 gsize  n)
{
  if (!isfinite (s) || s < 0)
    g_strlcpy (buf, "—", n);
  else if (s >= 3600)
    g_snprintf (buf, n, "%d:%02d:%02d", (int) s / 3600, (int) s / 60 % 60, (int) s % 60);
  else
    g_snprintf (buf, n, "%d:%02d", (int) s / 60, (int) s % 60);
}

static int
config_epochs (const char *config_json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (config_json == NULL || !json_parser_load_from_data (parser, config_json, -1, NULL))
    return 0;
  JsonNode *root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  JsonObject *train = json_object_get_object_member (json_node_get_object (root), "train");
  if (train == NULL || !json_object_has_member (train, "epochs"))
    return 0;
  return (int) json_object_get_int_member (train, "epochs");
}

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
    load_monitor (self, TRUE);
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
  load_monitor (self, TRUE);
}

/* ---- the monitor --------------------------------------------------------------------------- */

static VbLineChart *
new_line_chart (const char  *title,
                VbXAxisKind  x_axis,
                const char  *y_label)
{
  VbLineChart *chart = vb_line_chart_new ();
  vb_line_chart_set_title (chart, title);
  vb_line_chart_set_labels (chart, NULL, y_label);
  chart->x_axis = x_axis;
  return chart;
}

static void
load_charts (VbRunsPage *self)
{
  VbStore *store = vb_session_get_store (self->session);
  g_autoptr (GError) error = NULL;
  int color = self->run_id >= 0 ? (int) (self->run_id % VB_CHART_PALETTE_SIZE) : 0;

  self->last_chart_load = g_get_monotonic_time ();
  self->last_db_step = -1;

  VbLineChart *loss = new_line_chart ("Training loss", VB_X_AXIS_STEP, "Loss");
  loss->smoothing_kind = VB_SMOOTHING_EMA;
  loss->smoothing = 0.6;
  VbSeries *train = vb_line_chart_add_series (loss, vb_series_new ("train loss", color));
  g_autoptr (GArray) steps = vb_store_get_step_metrics (store, self->run_id, &error);
  for (guint i = 0; steps && i < steps->len; i++)
    {
      VbStepMetric *m = &g_array_index (steps, VbStepMetric, i);
      vb_series_append (train, (double) m->step, m->loss);
      self->last_db_step = m->step;
    }
  vb_chart_area_set_line_chart (self->loss_chart, loss);

  VbLineChart *top1 = new_line_chart ("Top-1 accuracy", VB_X_AXIS_EPOCH, "Top-1 (%)");
  VbSeries *val = vb_line_chart_add_series (top1, vb_series_new ("validation top-1", color));
  VbSeries *train_top1 = NULL;
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, self->run_id, NULL);
  for (guint i = 0; epochs && i < epochs->len; i++)
    {
      VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, i);
      vb_series_append (val, m->epoch, m->val_top1);
      if (isfinite (m->train_top1))
        {
          if (train_top1 == NULL)
            {
              train_top1 = vb_line_chart_add_series (top1, vb_series_new ("train top-1", color));
              train_top1->dashed = TRUE;
            }
          vb_series_append (train_top1, m->epoch, m->train_top1);
        }
    }
  /* epochs so far (at least 1), not the planned total: a 500-epoch run stays readable */
  top1->x_auto = FALSE;
  top1->x_min = 0;
  top1->x_max = MAX (1, epochs ? (int) epochs->len : 0);
  vb_chart_area_set_line_chart (self->top1_chart, top1);
}

/* Progress from the engine's snapshot: the run this process is training. */
static void
show_live (VbRunsPage        *self,
           const VbJobStatus *s)
{
  char eta[32], buf[256];

  format_duration (s->eta_s, eta, sizeof eta);
  double fraction = s->total_steps > 0 ? (double) s->step / (double) s->total_steps : 0;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), CLAMP (fraction, 0, 1));
  g_snprintf (buf, sizeof buf, "%s · epoch %d/%d · step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
              " · ETA %s", s->phase ? s->phase : "starting", MIN (s->epoch + 1, MAX (s->epochs, 1)),
              s->epochs, s->step, s->total_steps, eta);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), buf);

  g_autoptr (GString) d = g_string_new (NULL);
  if (isfinite (s->loss))
    g_string_append_printf (d, "loss %.4f", s->loss);
  if (isfinite (s->lr) && s->lr > 0)
    g_string_append_printf (d, "%slr %.3g", d->len ? " · " : "", s->lr);
  if (isfinite (s->img_per_s) && s->img_per_s > 0)
    g_string_append_printf (d, "%s%.0f img/s", d->len ? " · " : "", s->img_per_s);
  if (isfinite (s->val_top1))
    g_string_append_printf (d, "%sval top-1 %.2f %%", d->len ? " · " : "", s->val_top1);
  if (s->n_runs > 1)
    g_string_append_printf (d, "%srun %d of %d", d->len ? " · " : "", s->index + 1, s->n_runs);
  gtk_label_set_text (GTK_LABEL (self->detail), d->str);

  /* the newest step, before the store's next flush reaches the database */
  VbLineChart *loss = vb_chart_area_get_line_chart (self->loss_chart);
  if (loss != NULL && loss->series->len > 0 && s->step > self->last_db_step
      && isfinite (s->loss) && s->phase && g_str_equal (s->phase, "train"))
    {
      VbSeries *series = g_ptr_array_index (loss->series, 0);
      guint n = vb_series_get_length (series);
      if (n == 0 || g_array_index (series->x, double, n - 1) < (double) s->step)
        {
          vb_series_append (series, (double) s->step, s->loss);
          gtk_widget_queue_draw (self->loss_chart);
        }
    }
}

/* Progress from the database: a finished run, or one another process is training. */
static void
show_recorded (VbRunsPage *self)
{
  char buf[256], wall[32];
  VbRunRecord *r = self->record;
  VbLineChart *loss = vb_chart_area_get_line_chart (self->loss_chart);
  VbLineChart *top1 = vb_chart_area_get_line_chart (self->top1_chart);
  guint n_steps = loss && loss->series->len ? vb_series_get_length (g_ptr_array_index (loss->series, 0)) : 0;
  guint n_epochs = top1 && top1->series->len ? vb_series_get_length (g_ptr_array_index (top1->series, 0)) : 0;

  double fraction = r->status == VB_RUN_DONE ? 1.0
                    : self->epochs > 0 ? (double) n_epochs / self->epochs : 0;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), CLAMP (fraction, 0, 1));

  g_autoptr (GArray) steps = vb_store_get_step_metrics (vb_session_get_store (self->session),
                                                        self->run_id, NULL);
  double wall_s = NAN;
  if (steps && steps->len > 0)
    wall_s = g_array_index (steps, VbStepMetric, steps->len - 1).wall_s;
  format_duration (wall_s, wall, sizeof wall);
  g_snprintf (buf, sizeof buf, "%s · epoch %u/%d · step %" G_GINT64_FORMAT " · %s",
              vb_run_status_to_string (r->status), n_epochs, self->epochs,
              self->last_db_step < 0 ? 0 : self->last_db_step, wall);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), buf);

  g_autoptr (GString) d = g_string_new (NULL);
  if (top1 && n_epochs > 0)
    {
      VbSeries *val = g_ptr_array_index (top1->series, 0);
      double last = g_array_index (val->y, double, n_epochs - 1);
      if (isfinite (last))
        g_string_append_printf (d, "val top-1 %.2f %%", last);
    }
  if (n_steps > 0)
    {
      VbSeries *train = g_ptr_array_index (loss->series, 0);
      g_string_append_printf (d, "%sfinal loss %.4f", d->len ? " · " : "",
                              g_array_index (train->y, double, n_steps - 1));
    }
  gtk_label_set_text (GTK_LABEL (self->detail), d->str);
}

static void
load_monitor (VbRunsPage *self,
              gboolean    reload_charts)
{
  g_autoptr (GError) error = NULL;

  if (self->run_id == 0)
    {
      g_clear_pointer (&self->record, vb_run_record_free);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      return;
    }
  VbRunRecord *record = vb_store_get_run (vb_session_get_store (self->session), self->run_id,
                                          &error);
  if (record == NULL)
    {
      self->run_id = 0;
      load_monitor (self, FALSE);
      return;
    }
  g_clear_pointer (&self->record, vb_run_record_free);
  self->record = record;
  self->epochs = config_epochs (record->config_json);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "monitor");

  gtk_label_set_text (GTK_LABEL (self->title), record->name ? record->name : "(unnamed)");
  gtk_label_set_text (GTK_LABEL (self->status_label), vb_run_status_to_string (record->status));
  gboolean live = vb_session_get_active_run (self->session) == record->id;
  gtk_widget_set_visible (self->cancel_button, live);
  gtk_widget_set_sensitive (self->cancel_button, live && self->cancelled_run != record->id);

  gtk_label_set_text (GTK_LABEL (self->error_label), record->error_message ? record->error_message : "");
  gtk_widget_set_visible (self->error_label, record->error_message != NULL);

  g_autofree char *created = g_strndup (record->created_at ? record->created_at : "", 19);
  g_autofree char *info = g_strdup_printf ("Run #%" G_GINT64_FORMAT " · preset %s · group %s · "
                                           "seed %" G_GINT64_FORMAT " · device %s · created %s",
                                           record->id, record->preset ? record->preset : "—",
                                           record->group_id ? record->group_id : "—",
                                           record->seed, record->device ? record->device : "—",
                                           created);
  gtk_label_set_text (GTK_LABEL (self->info), info);

  if (reload_charts)
    load_charts (self);
  if (live)
    show_live (self, vb_session_get_status (self->session));
  else
    show_recorded (self);
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
    load_monitor (self, TRUE);
}

static void
progress_cb (VbRunsPage *self)
{
  const VbJobStatus *s = vb_session_get_status (self->session);

  if (self->run_id == 0 || s->run_id != self->run_id || self->record == NULL)
    return;
  if (vb_session_get_active_run (self->session) != self->run_id)
    return;
  /* a new epoch has a new evaluation: show it now rather than within the second */
  if (g_get_monotonic_time () - self->last_chart_load > CHART_RELOAD_US
      || s->epoch != self->live_epoch)
    load_charts (self);
  self->live_epoch = s->epoch;
  show_live (self, s);
}

static void
tick_cb (VbRunsPage *self)
{
  vb_runs_page_refresh (self);
  /* a run another process trains: follow its metrics in the database */
  if (self->record != NULL && self->record->status == VB_RUN_RUNNING
      && vb_session_get_active_run (self->session) != self->run_id)
    load_monitor (self, TRUE);
}

static void
cancel_clicked_cb (VbRunsPage *self)
{
  self->cancelled_run = self->run_id;
  vb_session_cancel_run (self->session, self->run_id);
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), "Cancelling after this step…");
}

/* ---- construction -------------------------------------------------------------------------- */

static GtkWidget *
chart_card (GtkWidget *area)
{
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (frame, "card");
  gtk_widget_add_css_class (frame, "chart-card");
  gtk_widget_set_size_request (area, 280, 240);
  gtk_box_append (GTK_BOX (frame), area);
  gtk_widget_set_hexpand (frame, TRUE);
  gtk_widget_set_vexpand (frame, TRUE);
  return frame;
}

static GtkWidget *
build_monitor (VbRunsPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);

  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_selectable (GTK_LABEL (self->title), TRUE);
  gtk_widget_add_css_class (self->title, "title-3");
  gtk_box_append (GTK_BOX (head), self->title);
  self->status_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_box_append (GTK_BOX (head), self->status_label);
  self->cancel_button = gtk_button_new_with_mnemonic ("_Cancel Run");
  gtk_widget_add_css_class (self->cancel_button, "destructive-action");
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cancel_clicked_cb), self);
  gtk_box_append (GTK_BOX (head), self->cancel_button);
  gtk_box_append (GTK_BOX (box), head);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_box_append (GTK_BOX (box), self->progress);

  self->detail = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->detail), 0);
  gtk_widget_add_css_class (self->detail, "numeric");
  gtk_box_append (GTK_BOX (box), self->detail);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->error_label), TRUE);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_box_append (GTK_BOX (box), self->error_label);

  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_set_homogeneous (GTK_BOX (charts), TRUE);
  self->loss_chart = vb_chart_area_new ();
  self->top1_chart = vb_chart_area_new ();
  gtk_box_append (GTK_BOX (charts), chart_card (self->loss_chart));
  gtk_box_append (GTK_BOX (charts), chart_card (self->top1_chart));
  gtk_box_append (GTK_BOX (box), charts);

  self->info = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->info), 0);
  gtk_label_set_wrap (GTK_LABEL (self->info), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->info), TRUE);
  gtk_widget_add_css_class (self->info, "caption");
  gtk_widget_add_css_class (self->info, "dim-label");
  gtk_box_append (GTK_BOX (box), self->info);
  return box;
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
vb_runs_page_class_init (VbRunsPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vb_runs_page_dispose;
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
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (monitor_scroller), build_monitor (self));
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
      load_monitor (self, TRUE);
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

GtkWidget *
vb_runs_page_get_cancel_button (VbRunsPage *self)
{
  g_return_val_if_fail (VB_IS_RUNS_PAGE (self), NULL);
  return self->cancel_button;
}
