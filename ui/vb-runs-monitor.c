/* vb-runs-monitor.c: the Runs page's monitor of the selected run. It combines the
 * database's step and epoch metrics (re-read at most once a second, and at each new
 * epoch) with the engine's live snapshot for the run this process is training; a run
 * another process trains is followed through the database alone. Pause, Cancel and
 * Resume only send commands: the engine answers through the session's signals, so no
 * button ever waits for the job thread. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-chart-area.h"
#include "vb-run-charts.h"
#include "vb-run-log.h"
#include "vb-runs-gpus.h"
#include "vb-runs-page-private.h"

#define CHART_RELOAD_US (G_USEC_PER_SEC)

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

/* model.arch "projector": a projector-study run, whose charts differ */
static gboolean
config_is_projector (const char *config_json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (config_json == NULL || !json_parser_load_from_data (parser, config_json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *model = json_object_has_member (root, "model")
                      ? json_object_get_object_member (root, "model") : NULL;
  return model != NULL
         && g_strcmp0 (json_object_get_string_member_with_default (model, "arch", ""),
                       "projector") == 0;
}

static guint
series_length (GtkWidget *area,
               guint      series)
{
  VbLineChart *chart = vb_chart_area_get_line_chart (area);
  if (chart == NULL || series >= chart->series->len)
    return 0;
  return vb_series_get_length (g_ptr_array_index (chart->series, series));
}

static double
series_last (GtkWidget *area,
             guint      series)
{
  VbLineChart *chart = vb_chart_area_get_line_chart (area);
  guint n = series_length (area, series);
  if (n == 0)
    return NAN;
  VbSeries *s = g_ptr_array_index (chart->series, series);
  return g_array_index (s->y, double, n - 1);
}

/* ---- log ----------------------------------------------------------------------------------- */

/* Replaces the text only when it changed, so a reader's scroll position survives ticks. */
static void
set_log (VbRunsPage *self,
         const char *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->log_view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  g_autofree char *old = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  if (g_strcmp0 (old, text) == 0)
    return;
  gtk_text_buffer_set_text (buffer, text, -1);
  /* the newest event in view; the view scrolls once its lines are laid out */
  GtkTextMark *mark = gtk_text_buffer_get_mark (buffer, "vb-end");
  gtk_text_buffer_get_end_iter (buffer, &end);
  if (mark == NULL)
    mark = gtk_text_buffer_create_mark (buffer, "vb-end", &end, FALSE);
  else
    gtk_text_buffer_move_mark (buffer, mark, &end);
  gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (self->log_view), mark, 0.0, TRUE, 0.0, 1.0);
}

/* ---- charts -------------------------------------------------------------------------------- */

static void
load_charts (VbRunsPage *self)
{
  VbStore *store = vb_session_get_store (self->session);
  VbRunCharts charts;

  self->last_chart_load = g_get_monotonic_time ();
  self->last_db_step = -1;
  g_autoptr (GArray) steps = vb_store_get_step_metrics (store, self->run_id, NULL);
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, self->run_id, NULL);
  if (steps != NULL && steps->len > 0)
    self->last_db_step = g_array_index (steps, VbStepMetric, steps->len - 1).step;

  /* the run's colour, the same as on the Compare page */
  int color = (int) (self->run_id % VB_CHART_PALETTE_SIZE);
  if (self->projector)
    vb_run_charts_build_projector (steps, epochs, self->x_axis, color, &charts);
  else
    vb_run_charts_build (steps, epochs, self->x_axis, color, &charts);
  vb_chart_area_set_line_chart (self->loss_chart, charts.loss);
  vb_chart_area_set_line_chart (self->acc_chart, charts.accuracy);
  vb_chart_area_set_line_chart (self->tp_chart, charts.throughput);

  if (self->record != NULL)
    {
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, self->run_id, NULL);
      vb_runs_gpus_set_throughput (VB_RUNS_GPUS (self->gpus), tp);
      g_autofree char *log = vb_run_log_build (self->record, epochs, steps, tp, self->epochs);
      set_log (self, log);
    }
}

static void
update_buttons (VbRunsPage *self)
{
  VbRunRecord *r = self->record;
  gboolean live = r != NULL && vb_session_get_active_run (self->session) == r->id;
  gboolean paused = live && vb_session_get_paused (self->session);
  gboolean resumable = r != NULL && !live && r->checkpoint_path != NULL
                       && (r->status == VB_RUN_CANCELLED || r->status == VB_RUN_INTERRUPTED
                           || r->status == VB_RUN_FAILED)
                       && g_file_test (r->checkpoint_path, G_FILE_TEST_IS_REGULAR);

  gtk_widget_set_visible (self->pause_button, live && !paused);
  if (paused)
    gtk_widget_set_sensitive (self->pause_button, TRUE);   /* for when it shows again */
  gtk_widget_set_visible (self->unpause_button, paused);
  gtk_widget_set_visible (self->cancel_button, live);
  gtk_widget_set_sensitive (self->cancel_button, live && self->cancelled_run != r->id);
  gtk_widget_set_visible (self->resume_button, resumable);
  gtk_widget_set_sensitive (self->resume_button, resumable && self->resumed_run != r->id);
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
  g_snprintf (buf, sizeof buf, "%s%s · epoch %d/%d · step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
              " · ETA %s", s->paused ? "paused · " : "", s->phase ? s->phase : "starting",
              MIN (s->epoch + 1, MAX (s->epochs, 1)), s->epochs, s->step, s->total_steps, eta);
  if (self->cancelled_run != self->run_id)
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
  /* a data-parallel run: each GPU's share, on a line of its own */
  if (s->gpus != NULL)
    g_string_append_printf (d, "\n%s", s->gpus);
  gtk_label_set_text (GTK_LABEL (self->detail), d->str);

  /* the newest step, before the store's next flush reaches the database */
  VbLineChart *loss = vb_chart_area_get_line_chart (self->loss_chart);
  if (self->x_axis == VB_X_AXIS_STEP && loss != NULL && loss->series->len > 0
      && s->step > self->last_db_step && isfinite (s->loss) && s->phase
      && g_str_equal (s->phase, "train"))
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

/* A projector run's summary: the best validation loss (the model the study keeps) and
 * the last training loss; it logs no accuracy per epoch. */
static void
show_recorded_projector (VbRunsPage *self,
                         GString    *d)
{
  VbLineChart *chart = vb_chart_area_get_line_chart (self->acc_chart);
  guint n = series_length (self->acc_chart, 0);
  double best = INFINITY;
  int best_epoch = 0;

  for (guint i = 0; i < n; i++)
    {
      VbSeries *val = g_ptr_array_index (chart->series, 0);
      double v = g_array_index (val->y, double, i);
      if (isfinite (v) && v < best)
        {
          best = v;
          best_epoch = (int) i + 1;
        }
    }
  if (isfinite (best))
    g_string_append_printf (d, "best val loss %.4f (epoch %d)", best, best_epoch);
  if (series_length (self->loss_chart, 0) > 0)
    g_string_append_printf (d, "%sfinal train loss %.4f", d->len ? " · " : "",
                            series_last (self->loss_chart, 0));
}

/* Progress from the database: a finished run, or one another process is training. */
static void
show_recorded (VbRunsPage *self)
{
  char buf[256], wall[32];
  VbRunRecord *r = self->record;
  guint n_epochs = series_length (self->acc_chart, 0);

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
  if (self->projector)
    {
      show_recorded_projector (self, d);
      gtk_label_set_text (GTK_LABEL (self->detail), d->str);
      return;
    }
  double top1 = series_last (self->acc_chart, 0), top5 = series_last (self->acc_chart, 1);
  if (isfinite (top1))
    g_string_append_printf (d, "val top-1 %.2f %%", top1);
  if (isfinite (top5))
    g_string_append_printf (d, "%stop-5 %.2f %%", d->len ? " · " : "", top5);
  if (series_length (self->loss_chart, 0) > 0)
    g_string_append_printf (d, "%sfinal loss %.4f", d->len ? " · " : "",
                            series_last (self->loss_chart, 0));
  gtk_label_set_text (GTK_LABEL (self->detail), d->str);
}

void
vb_runs_monitor_load (VbRunsPage *self,
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
      vb_runs_monitor_load (self, FALSE);
      return;
    }
  g_clear_pointer (&self->record, vb_run_record_free);
  self->record = record;
  self->epochs = config_epochs (record->config_json);
  self->projector = config_is_projector (record->config_json);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "monitor");

  gtk_label_set_text (GTK_LABEL (self->title), record->name ? record->name : "(unnamed)");
  gtk_label_set_text (GTK_LABEL (self->status_label), vb_run_status_to_string (record->status));
  gboolean live = vb_session_get_active_run (self->session) == record->id;
  if (live && self->resumed_run == record->id)
    self->resumed_run = 0;   /* the resumed run is training again */
  update_buttons (self);

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

void
vb_runs_monitor_progress (VbRunsPage        *self,
                          const VbJobStatus *s)
{
  if (self->run_id == 0 || s->run_id != self->run_id || self->record == NULL)
    return;
  if (vb_session_get_active_run (self->session) != self->run_id)
    return;
  /* a new epoch has a new evaluation: show it now rather than within the second */
  if (g_get_monotonic_time () - self->last_chart_load > CHART_RELOAD_US
      || s->epoch != self->live_epoch)
    load_charts (self);
  self->live_epoch = s->epoch;
  update_buttons (self);
  show_live (self, s);
}

/* ---- buttons ------------------------------------------------------------------------------- */

static void
cancel_clicked_cb (VbRunsPage *self)
{
  /* a command only: the run ends at the next step and the engine reports it */
  self->cancelled_run = self->run_id;
  vb_session_cancel_run (self->session, self->run_id);
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), "Cancelling after this step…");
}

static void
pause_clicked_cb (VbRunsPage *self)
{
  vb_session_pause (self->session);
  gtk_widget_set_sensitive (self->pause_button, FALSE);
}

static void
unpause_clicked_cb (VbRunsPage *self)
{
  vb_session_unpause (self->session);
}

static void
resume_clicked_cb (VbRunsPage *self)
{
  g_autoptr (GError) error = NULL;

  if (self->record == NULL)
    return;
  if (vb_session_resume_run (self->session, self->run_id, &error) == 0)
    {
      gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
      gtk_widget_set_visible (self->error_label, TRUE);
      return;
    }
  self->resumed_run = self->run_id;
  self->cancelled_run = 0;
  gtk_widget_set_sensitive (self->resume_button, FALSE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), "Resuming from the checkpoint…");
}

static void
x_axis_changed_cb (VbRunsPage *self)
{
  static const VbXAxisKind kinds[] = { VB_X_AXIS_STEP, VB_X_AXIS_EPOCH, VB_X_AXIS_WALL_TIME };
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->x_dropdown));

  VbXAxisKind x_axis = kinds[MIN (i, G_N_ELEMENTS (kinds) - 1)];
  if (x_axis == self->x_axis)
    return;
  self->x_axis = x_axis;
  if (self->run_id != 0)
    vb_runs_monitor_load (self, TRUE);
  vb_runs_page_notify_x_axis (self);
}

/* ---- construction -------------------------------------------------------------------------- */

static GtkWidget *
chart_card (GtkWidget *area)
{
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (frame, "card");
  gtk_widget_add_css_class (frame, "chart-card");
  gtk_widget_set_size_request (area, 220, 240);
  gtk_box_append (GTK_BOX (frame), area);
  gtk_widget_set_hexpand (frame, TRUE);
  gtk_widget_set_vexpand (frame, TRUE);
  return frame;
}

static GtkWidget *
head_button (GtkWidget  *head,
             const char *mnemonic,
             const char *tooltip,
             GCallback   callback,
             gpointer    self)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (mnemonic);
  gtk_widget_set_tooltip_text (button, tooltip);
  g_signal_connect_swapped (button, "clicked", callback, self);
  gtk_box_append (GTK_BOX (head), button);
  return button;
}

static GtkWidget *
build_log (VbRunsPage *self)
{
  self->log_view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->log_view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (self->log_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->log_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->log_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->log_view), 8);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->log_view), 8);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->log_view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (self->log_view), 6);
  gtk_widget_add_css_class (self->log_view, "run-log");

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->log_view);
  gtk_widget_set_size_request (scroller, -1, 150);
  gtk_widget_add_css_class (scroller, "card");
  gtk_widget_set_overflow (scroller, GTK_OVERFLOW_HIDDEN);
  return scroller;
}

GtkWidget *
vb_runs_monitor_build (VbRunsPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);

  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
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

  static const char *const axes[] = { "Step", "Epoch", "Wall time", NULL };
  GtkWidget *x_label = gtk_label_new_with_mnemonic ("_X axis");
  gtk_widget_add_css_class (x_label, "dim-label");
  self->x_dropdown = gtk_drop_down_new_from_strings (axes);
  gtk_label_set_mnemonic_widget (GTK_LABEL (x_label), self->x_dropdown);
  gtk_widget_set_tooltip_text (self->x_dropdown, "What the three charts plot against");
  g_signal_connect_swapped (self->x_dropdown, "notify::selected", G_CALLBACK (x_axis_changed_cb), self);
  gtk_box_append (GTK_BOX (head), x_label);
  gtk_box_append (GTK_BOX (head), self->x_dropdown);

  self->pause_button = head_button (head, "_Pause", "Hold training at the next step",
                                    G_CALLBACK (pause_clicked_cb), self);
  self->unpause_button = head_button (head, "C_ontinue", "Go on training",
                                      G_CALLBACK (unpause_clicked_cb), self);
  gtk_widget_add_css_class (self->unpause_button, "suggested-action");
  self->resume_button = head_button (head, "_Resume", "Continue this run from its last checkpoint",
                                     G_CALLBACK (resume_clicked_cb), self);
  gtk_widget_add_css_class (self->resume_button, "suggested-action");
  self->cancel_button = head_button (head, "_Cancel Run",
                                     "Stop after this step; the checkpoint is kept for Resume",
                                     G_CALLBACK (cancel_clicked_cb), self);
  gtk_widget_add_css_class (self->cancel_button, "destructive-action");
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

  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_box_set_homogeneous (GTK_BOX (charts), TRUE);
  self->loss_chart = vb_chart_area_new ();
  self->acc_chart = vb_chart_area_new ();
  self->tp_chart = vb_chart_area_new ();
  gtk_box_append (GTK_BOX (charts), chart_card (self->loss_chart));
  gtk_box_append (GTK_BOX (charts), chart_card (self->acc_chart));
  gtk_box_append (GTK_BOX (charts), chart_card (self->tp_chart));
  gtk_box_append (GTK_BOX (box), charts);

  self->gpus = vb_runs_gpus_new ();
  gtk_box_append (GTK_BOX (box), self->gpus);

  gtk_box_append (GTK_BOX (box), build_log (self));

  self->info = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->info), 0);
  gtk_label_set_wrap (GTK_LABEL (self->info), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->info), TRUE);
  gtk_widget_add_css_class (self->info, "caption");
  gtk_widget_add_css_class (self->info, "dim-label");
  gtk_box_append (GTK_BOX (box), self->info);
  return box;
}
