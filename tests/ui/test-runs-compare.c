/* The Runs page's live monitor and the Compare page, on a database of real tiny runs
 * trained through the job queue (16 px Fashion-MNIST, two scan modes, plus a run whose
 * evaluation protocol card differs: another eval batch):
 *
 * - Compare: sorting by Top-1 orders rows by the database's values; a chosen baseline
 *   gives Δ and %Δ cells computed from the database; the img/s Δ of the run measured
 *   under another protocol is "≠ protocol" (red, tooltip naming the field), never a
 *   number, and the throughput chart says so; the best Top-1 is bold; the curves overlay
 *   one series per run in the bars' colours.
 * - Runs: the charts hold Top-1 and Top-5, train and eval img/s with the database's
 *   point counts; the epoch x axis changes the charts' x range; the log has the epoch
 *   result lines; Pause holds training and Continue resumes it; Cancel and the close
 *   dialog's "Stop Run" return to the main loop at once (within RETURN_MS); a cancelled
 *   run resumes from its checkpoint.
 *
 * 1280×800 screenshots of both pages go to $VB_ARTIFACT_DIR (default: this build folder). */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-ui-test.h"
#include "vb-window.h"

static char *tiny_path;

/* ---- fixtures ------------------------------------------------------------------------------ */

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-ui-rc-XXXXXX", 256, 64);
  tiny_path = vb_ui_test_write_tiny_scan (128, 2);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void
start (VbSession          *session,
       const char * const *overrides)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (vb_session_start (session, tiny_path, overrides, &error), !=, 0);
  g_assert_no_error (error);
}

static double
last_epoch_value (VbStore    *store,
                  gint64      run_id,
                  gboolean    top5)
{
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run_id, NULL);
  g_assert_cmpuint (epochs->len, >, 0);
  VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, epochs->len - 1);
  return top5 ? m->val_top5 : m->val_top1;
}

static double
eval_img_per_s (VbStore *store,
                gint64   run_id)
{
  g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, run_id, NULL);
  for (guint i = 0; i < tp->len; i++)
    {
      VbThroughputRecord *t = g_ptr_array_index (tp, i);
      if (g_str_equal (t->kind, "eval"))
        return t->img_per_s;
    }
  g_assert_not_reached ();
}

static void
assert_cell (VbComparePage *compare,
             guint          row,
             const char    *column,
             const char    *want)
{
  g_autofree char *got = vb_compare_page_dup_cell (compare, row, column);
  g_assert_cmpstr (got, ==, want);
}

/* ---- Compare ------------------------------------------------------------------------------- */

/* Row → Δ cells against baseline base, from the database's values. */
static void
check_deltas (VbComparePage *compare,
              VbStore       *store,
              gint64         base,
              gint64         odd_protocol)
{
  double b1 = last_epoch_value (store, base, FALSE), b5 = last_epoch_value (store, base, TRUE);
  double bt = eval_img_per_s (store, base);

  g_assert_cmpint (vb_compare_page_get_baseline (compare), ==, base);
  for (guint row = 0; row < vb_compare_page_get_n_rows (compare); row++)
    {
      gint64 id = vb_compare_page_get_row_run (compare, row);
      double t1 = last_epoch_value (store, id, FALSE), t5 = last_epoch_value (store, id, TRUE);
      double tp = eval_img_per_s (store, id);
      if (id == base)
        {
          assert_cell (compare, row, "ΔTop-1", "baseline");
          assert_cell (compare, row, "Δimg/s", "baseline");
          continue;
        }
      g_autofree char *d1 = g_strdup_printf ("%+.2f", t1 - b1);
      g_autofree char *p1 = g_strdup_printf ("%+.1f %%", 100 * (t1 - b1) / fabs (b1));
      g_autofree char *d5 = g_strdup_printf ("%+.2f", t5 - b5);
      assert_cell (compare, row, "ΔTop-1", d1);
      assert_cell (compare, row, "%ΔTop-1", p1);
      assert_cell (compare, row, "ΔTop-5", d5);

      gboolean bold, flagged;
      g_autofree char *tooltip = NULL;
      g_assert_true (vb_compare_page_get_cell_style (compare, row, "Δimg/s", &bold, &flagged,
                                                     &tooltip));
      gboolean differs = id == odd_protocol || base == odd_protocol;
      if (differs)
        {
          /* refused: a flag, never a number */
          assert_cell (compare, row, "Δimg/s", "≠ protocol");
          assert_cell (compare, row, "%Δimg/s", "≠ protocol");
          g_assert_true (flagged);
          g_assert_nonnull (tooltip);
          g_assert_nonnull (strstr (tooltip, "batch 32 vs 16") ? tooltip
                                                                : strstr (tooltip, "batch 16 vs 32"));
        }
      else
        {
          g_autofree char *dt = g_strdup_printf ("%+.1f", tp - bt);
          g_autofree char *pt = g_strdup_printf ("%+.1f %%", 100 * (tp - bt) / fabs (bt));
          assert_cell (compare, row, "Δimg/s", dt);
          assert_cell (compare, row, "%Δimg/s", pt);
          g_assert_false (flagged);
        }
    }

  /* the throughput bars: the same refusal, and the caption says so */
  VbBarChart *tp_chart = vb_compare_page_get_throughput_chart (compare);
  g_assert_nonnull (tp_chart);
  g_assert_nonnull (strstr (tp_chart->caption, "≠ protocol"));
  g_assert_nonnull (strstr (tp_chart->caption, "batch"));
}

static void
check_sorted (VbComparePage *compare,
              VbStore       *store,
              gboolean       ascending)
{
  g_assert_true (vb_compare_page_sort_by (compare, "Top-1", ascending));
  double prev = ascending ? -INFINITY : INFINITY;
  for (guint row = 0; row < vb_compare_page_get_n_rows (compare); row++)
    {
      gint64 id = vb_compare_page_get_row_run (compare, row);
      double top1 = last_epoch_value (store, id, FALSE);
      g_autofree char *want = g_strdup_printf ("%.2f", top1);
      assert_cell (compare, row, "Top-1", want);
      if (ascending)
        g_assert_cmpfloat (top1, >=, prev);
      else
        g_assert_cmpfloat (top1, <=, prev);
      prev = top1;
    }
}

static void
test_compare (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_window ("compare.db", 1280, 800, &session);
  VbComparePage *compare = vb_window_get_compare_page (window);
  VbStore *store = vb_session_get_store (session);

  /* the two scan modes as one group, then a 2-dir run evaluated at another batch */
  start (session, NULL);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 400));
  const char *odd[] = { "model.scan=2dir", "train.eval_batch_size=16", "train.seed=8", NULL };
  start (session, odd);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 400));
  g_assert_cmpuint (vb_window_get_n_toasts (window), ==, 0);

  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (runs->len, ==, 3);
  gint64 ids[3];
  for (guint i = 0; i < 3; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, 2 - i);   /* oldest first */
      g_assert_cmpint (r->status, ==, VB_RUN_DONE);
      ids[i] = r->id;
    }

  /* the group shown first stays shown; then the three runs picked by hand */
  vb_window_set_page (window, "compare");
  vb_compare_page_refresh (compare);
  g_assert_cmpstr (vb_compare_page_get_group (compare), ==,
                   ((VbRunRecord *) g_ptr_array_index (runs, 2))->group_id);
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 2);
  vb_compare_page_show_runs (compare, ids, 3);
  g_assert_null (vb_compare_page_get_group (compare));
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 3);
  for (guint row = 0; row < 3; row++)
    g_assert_cmpint (vb_compare_page_get_row_run (compare, row), ==, ids[row]);
  /* the default baseline is the first run */
  g_assert_cmpint (vb_compare_page_get_baseline (compare), ==, ids[0]);

  /* sorting by Top-1, both ways, follows the database's values */
  check_sorted (compare, store, FALSE);
  check_sorted (compare, store, TRUE);

  /* the best Top-1 is bold, in whatever row it is */
  double best = -INFINITY;
  for (guint i = 0; i < 3; i++)
    best = MAX (best, last_epoch_value (store, ids[i], FALSE));
  for (guint row = 0; row < 3; row++)
    {
      gboolean bold, flagged;
      g_assert_true (vb_compare_page_get_cell_style (compare, row, "Top-1", &bold, &flagged, NULL));
      double top1 = last_epoch_value (store, vb_compare_page_get_row_run (compare, row), FALSE);
      g_assert_cmpint (bold, ==, top1 == best);
      g_assert_false (flagged);
    }

  /* Δ against each baseline in turn: the numbers, and the refused img/s Δ */
  check_deltas (compare, store, ids[0], ids[2]);
  g_assert_true (vb_compare_page_set_baseline (compare, ids[1]));
  check_deltas (compare, store, ids[1], ids[2]);
  g_assert_true (vb_compare_page_set_baseline (compare, ids[2]));
  check_deltas (compare, store, ids[2], ids[2]);
  /* the bar of a refused Δ says so too */
  VbBarChart *tp_chart = vb_compare_page_get_throughput_chart (compare);
  g_autofree char *bar_delta = vb_bar_chart_format_delta (tp_chart, 0, 0);
  g_assert_cmpstr (bar_delta, ==, "≠ protocol");

  /* no baseline: no Δ */
  g_assert_true (vb_compare_page_set_baseline (compare, 0));
  for (guint row = 0; row < 3; row++)
    assert_cell (compare, row, "ΔTop-1", "");
  g_autofree char *md = vb_compare_page_dup_table (compare, VB_TABLE_MARKDOWN);
  g_assert_null (strstr (md, "ΔTop-1"));

  /* the exported table has the page's baseline */
  g_assert_true (vb_compare_page_set_baseline (compare, ids[1]));
  g_autofree char *md2 = vb_compare_page_dup_table (compare, VB_TABLE_MARKDOWN);
  g_auto (GStrv) lines = g_strsplit (md2, "\n", -1);
  for (guint i = 2; lines[i] && *lines[i]; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("| %" G_GINT64_FORMAT " |", ids[1]);
      if (g_str_has_prefix (lines[i], prefix))
        g_assert_nonnull (strstr (lines[i], "baseline"));
    }

  /* curves: one series per run with its epochs, in the colour of its bar */
  VbLineChart *curves = vb_compare_page_get_curves_chart (compare);
  VbBarChart *acc = vb_compare_page_get_accuracy_chart (compare);
  g_assert_cmpuint (curves->series->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      VbSeries *s = g_ptr_array_index (curves->series, i);
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, ids[i], NULL);
      g_assert_cmpuint (vb_series_get_length (s), ==, epochs->len);
      VbBarSeries *bars = g_ptr_array_index (acc->series, 0);
      g_assert_cmpint (s->color_index, ==, vb_bar_series_get_color (bars, i));
      VbBarSeries *tp_bars = g_ptr_array_index (vb_compare_page_get_throughput_chart (compare)->series, 0);
      g_assert_cmpint (s->color_index, ==, vb_bar_series_get_color (tp_bars, i));
    }

  /* the screenshot: Δ against the first run, so the odd protocol's row is flagged */
  g_assert_true (vb_compare_page_set_baseline (compare, ids[0]));
  g_assert_true (vb_compare_page_sort_by (compare, "Top-1", FALSE));
  vb_ui_test_save_window_screenshot (window, "compare-baseline.png");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- Runs: the live monitor ------------------------------------------------------------------ */

typedef struct {
  VbWindow  *window;
  VbSession *session;
  gint64     run_id;
  gint64     step;
} Live;

static gboolean
run_active (gpointer data)
{
  Live *st = data;
  return vb_session_get_active_run (st->session) != 0;
}

/* two evaluations recorded and shown */
static gboolean
two_epochs (gpointer data)
{
  Live *st = data;
  VbRunsPage *runs = vb_window_get_runs_page (st->window);
  VbLineChart *acc = vb_runs_page_get_chart (runs, "accuracy");
  return acc != NULL && vb_series_get_length (g_ptr_array_index (acc->series, 0)) >= 2;
}

static gboolean
paused (gpointer data)
{
  Live *st = data;
  return vb_session_get_paused (st->session)
         && gtk_widget_get_visible (vb_runs_page_get_unpause_button (vb_window_get_runs_page (st->window)));
}

static gboolean
stepping (gpointer data)
{
  Live *st = data;
  return !vb_session_get_paused (st->session) && vb_session_get_status (st->session)->step > st->step;
}

static gboolean
run_cancelled (gpointer data)
{
  Live *st = data;
  g_autoptr (VbRunRecord) r = vb_store_get_run (vb_session_get_store (st->session), st->run_id, NULL);
  return r->status == VB_RUN_CANCELLED && !vb_session_get_busy (st->session);
}

static gboolean
resumed (gpointer data)
{
  Live *st = data;
  const VbJobStatus *s = vb_session_get_status (st->session);
  return vb_session_get_active_run (st->session) == st->run_id && s->phase
         && g_str_equal (s->phase, "train") && s->step > st->step;
}

static double
series_max_x (VbLineChart *chart,
              guint        series)
{
  VbSeries *s = g_ptr_array_index (chart->series, series);
  double m = -INFINITY;
  for (guint i = 0; i < vb_series_get_length (s); i++)
    m = MAX (m, g_array_index (s->x, double, i));
  return m;
}

/* A command button must return to the main loop at once; a blocking one would wait for
 * the job thread. Generous, because CI machines are shared and can stall for a few
 * hundred milliseconds on their own. */
#define RETURN_MS 1000

static gint64
click_ms (GtkWidget *button)
{
  gint64 t0 = g_get_monotonic_time ();
  g_signal_emit_by_name (button, "clicked");
  return (g_get_monotonic_time () - t0) / 1000;
}

static void
test_live_monitor (void)
{
  Live st = { 0 };
  st.window = vb_ui_test_new_window ("live.db", 1280, 800, &st.session);
  g_object_add_weak_pointer (G_OBJECT (st.window), (gpointer *) &st.window);
  VbRunsPage *runs = vb_window_get_runs_page (st.window);
  VbStore *store = vb_session_get_store (st.session);

  const char *long_run[] = { "model.scan=4dir", "train.epochs=300", NULL };
  start (st.session, long_run);
  vb_window_set_page (st.window, "runs");
  g_assert_true (vb_ui_test_wait_until (run_active, &st, 60));
  st.run_id = vb_session_get_active_run (st.session);
  g_assert_true (vb_runs_page_select_run (runs, st.run_id));
  g_assert_true (vb_ui_test_wait_until (two_epochs, &st, 120));

  /* Pause: the engine holds, the step stands still, Continue shows */
  GtkWidget *pause = vb_runs_page_get_pause_button (runs);
  g_assert_true (gtk_widget_get_visible (pause));
  g_assert_cmpint (click_ms (pause), <, RETURN_MS);
  g_assert_true (vb_ui_test_wait_until (paused, &st, 10));
  g_assert_false (gtk_widget_get_visible (pause));
  st.step = vb_session_get_status (st.session)->step;
  vb_ui_test_spin (1.2);
  g_assert_cmpint (vb_session_get_status (st.session)->step, ==, st.step);
  g_assert_nonnull (strstr (vb_runs_page_get_progress_text (runs), "paused"));

  /* while paused the database holds still: the charts have its point counts */
  vb_runs_page_set_x_axis (runs, VB_X_AXIS_EPOCH);
  vb_runs_page_set_x_axis (runs, VB_X_AXIS_STEP);
  g_autoptr (GArray) steps = vb_store_get_step_metrics (store, st.run_id, NULL);
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, st.run_id, NULL);
  g_assert_cmpuint (epochs->len, >=, 2);
  VbLineChart *acc = vb_runs_page_get_chart (runs, "accuracy");
  VbLineChart *tp = vb_runs_page_get_chart (runs, "throughput");
  g_assert_cmpuint (acc->series->len, ==, 2);
  g_assert_cmpstr (((VbSeries *) g_ptr_array_index (acc->series, 1))->name, ==, "top-5");
  g_assert_cmpuint (vb_series_get_length (g_ptr_array_index (acc->series, 0)), ==, epochs->len);
  g_assert_cmpuint (vb_series_get_length (g_ptr_array_index (acc->series, 1)), ==, epochs->len);
  g_assert_cmpstr (((VbSeries *) g_ptr_array_index (tp->series, 0))->name, ==, "train img/s");
  g_assert_cmpuint (vb_series_get_length (g_ptr_array_index (tp->series, 0)), ==, steps->len);
  g_assert_cmpuint (vb_series_get_length (g_ptr_array_index (tp->series, 1)), ==, epochs->len);
  for (guint i = 0; i < epochs->len; i++)
    {
      VbSeries *top5 = g_ptr_array_index (acc->series, 1);
      g_assert_cmpfloat (g_array_index (top5->y, double, i), ==,
                         g_array_index (epochs, VbEpochMetric, i).val_top5);
    }

  /* step axis: x runs to the last step; epoch axis: to the epochs done */
  gint64 last_step = g_array_index (steps, VbStepMetric, steps->len - 1).step;
  g_assert_cmpfloat (series_max_x (acc, 0), >, epochs->len);
  g_assert_cmpfloat (series_max_x (tp, 0), ==, (double) last_step);
  vb_runs_page_set_x_axis (runs, VB_X_AXIS_EPOCH);
  g_assert_cmpint (vb_runs_page_get_x_axis (runs), ==, VB_X_AXIS_EPOCH);
  acc = vb_runs_page_get_chart (runs, "accuracy");
  tp = vb_runs_page_get_chart (runs, "throughput");
  VbLineChart *loss = vb_runs_page_get_chart (runs, "loss");
  g_assert_cmpint (acc->x_axis, ==, VB_X_AXIS_EPOCH);
  g_assert_cmpfloat (series_max_x (acc, 0), ==, g_array_index (epochs, VbEpochMetric, epochs->len - 1).epoch);
  g_assert_cmpfloat (series_max_x (tp, 0), <=, epochs->len + 1);
  g_assert_cmpfloat (series_max_x (loss, 0), <, (double) last_step);
  g_assert_false (loss->x_auto);
  g_assert_cmpfloat (loss->x_max, <=, epochs->len + 1);
  g_assert_cmpfloat (loss->x_max, >=, epochs->len);

  /* the log: one line per evaluated epoch, with its numbers */
  g_autofree char *log = vb_runs_page_dup_log (runs);
  for (guint i = 0; i < epochs->len; i++)
    {
      VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, i);
      g_autofree char *want = g_strdup_printf ("epoch %d/300: ", m->epoch);
      g_autofree char *top1 = g_strdup_printf ("top-1 %.2f %% · top-5 %.2f %%", m->val_top1, m->val_top5);
      const char *line = strstr (log, want);
      g_assert_nonnull (line);
      g_autofree char *first = g_strndup (line, strcspn (line, "\n"));
      g_assert_nonnull (strstr (first, top1));
    }
  g_assert_nonnull (strstr (log, "started on cpu"));
  g_assert_true (gtk_text_view_get_monospace (GTK_TEXT_VIEW (vb_runs_page_get_log_view (runs))));
  g_assert_false (gtk_text_view_get_editable (GTK_TEXT_VIEW (vb_runs_page_get_log_view (runs))));

  /* Continue: steps go on */
  g_assert_cmpint (click_ms (vb_runs_page_get_unpause_button (runs)), <, RETURN_MS);
  g_assert_true (vb_ui_test_wait_until (stepping, &st, 20));
  vb_runs_page_set_x_axis (runs, VB_X_AXIS_STEP);
  vb_ui_test_spin (1.5);
  vb_ui_test_save_window_screenshot (st.window, "runs-monitor.png");

  /* Cancel returns at once; the engine then ends the run cancelled */
  GtkWidget *cancel = vb_runs_page_get_cancel_button (runs);
  g_assert_true (gtk_widget_get_visible (cancel));
  g_assert_cmpint (click_ms (cancel), <, RETURN_MS);
  g_assert_true (vb_ui_test_wait_until (run_cancelled, &st, 30));
  vb_ui_test_spin (0.3);
  g_autofree char *log2 = vb_runs_page_dup_log (runs);
  g_assert_nonnull (strstr (log2, "cancelled after"));

  /* Resume from the checkpoint: the same run trains on */
  GtkWidget *resume = vb_runs_page_get_resume_button (runs);
  g_assert_true (gtk_widget_get_visible (resume));
  g_assert_true (gtk_widget_get_sensitive (resume));
  g_autoptr (GArray) before = vb_store_get_epoch_metrics (store, st.run_id, NULL);
  st.step = 0;
  g_assert_cmpint (click_ms (resume), <, RETURN_MS);
  g_assert_true (vb_ui_test_wait_until (resumed, &st, 60));
  g_autoptr (VbRunRecord) r = vb_store_get_run (store, st.run_id, NULL);
  g_assert_cmpint (r->status, ==, VB_RUN_RUNNING);
  g_assert_cmpint (vb_session_get_status (st.session)->epoch, >=, (int) before->len);
  g_assert_true (gtk_widget_get_visible (vb_runs_page_get_cancel_button (runs)));

  /* closing: "Stop Run" returns at once too; the window closes when the engine is done */
  gtk_window_close (GTK_WINDOW (st.window));
  vb_ui_test_spin (0.2);
  AdwMessageDialog *dialog = vb_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  gint64 t0 = g_get_monotonic_time ();
  adw_message_dialog_response (dialog, "stop");
  g_assert_cmpint ((g_get_monotonic_time () - t0) / 1000, <, RETURN_MS);
  g_assert_true (vb_ui_test_wait_until (run_cancelled, &st, 30));
  vb_ui_test_spin (0.3);
  g_assert_null (st.window);
  g_assert_finalize_object (st.session);
}

/* ---- a run started from the CLI on the same database ---------------------------------------- */

typedef struct {
  VbRunsPage *page;
  guint       n_before;
  gint64      run_id;      /* the CLI's run, once listed */
} CliWatch;

static gboolean
cli_run_listed (gpointer data)
{
  CliWatch *w = data;
  vb_runs_page_refresh (w->page);
  if (vb_runs_page_get_n_runs (w->page) <= w->n_before)
    return FALSE;
  w->run_id = w->n_before + 1;   /* ids count from 1 in a fresh database */
  return vb_runs_page_get_run_status (w->page, w->run_id) != NULL;
}

static gboolean
cli_run_done (gpointer data)
{
  CliWatch *w = data;
  return g_strcmp0 (vb_runs_page_get_run_status (w->page, w->run_id), "done") == 0;
}

/* The app open on a database while visionbench-cli (the real program) runs an
 * experiment into it: the run appears on the Runs page and ends there as done, without
 * anything done in the app. */
static void
test_cli_run_appears (void)
{
  const char *cli = g_getenv ("VB_CLI");
  if (cli == NULL || !g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("VB_CLI does not name the built visionbench-cli");
      return;
    }
  VbSession *session = NULL;
  VbWindow *window = vb_ui_test_new_window ("cli.db", 1280, 800, &session);
  CliWatch w = { vb_window_get_runs_page (window), 0, 0 };
  w.n_before = vb_runs_page_get_n_runs (w.page);
  g_autofree char *db = vb_ui_test_path ("cli.db");

  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (launcher, "VISIONBENCH_PRESETS", vb_ui_test_presets_dir (), TRUE);
  g_autoptr (GSubprocess) proc =
    g_subprocess_launcher_spawn (launcher, &error, cli, "run", "tiny-scan", "--db", db,
                                 "--set", "model.scan=4dir", NULL);
  g_assert_no_error (error);

  g_assert_true (vb_ui_test_wait_until (cli_run_listed, &w, 60));
  g_assert_true (vb_ui_test_wait_until (cli_run_done, &w, 120));
  g_assert_true (g_subprocess_wait_check (proc, NULL, &error));
  g_assert_no_error (error);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/runs-compare/compare", test_compare);
  g_test_add_func ("/vb/ui/runs-compare/live-monitor", test_live_monitor);
  g_test_add_func ("/vb/ui/runs-compare/cli-run-appears", test_cli_run_appears);
  int status = vb_ui_test_run ();

  g_free (tiny_path);
  return status;
}
