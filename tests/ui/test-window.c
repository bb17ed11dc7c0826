/* The desktop app's main window, driven as a user would: the Experiments form flags bad
 * values and keeps Run insensitive; Run on a tiny preset queues the job, switches to the
 * Runs page, which shows the run live and then finished; the Compare page shows the group
 * with Top-1 exactly as the database has it, exports it (CSV with the database's numbers,
 * PNG, SVG, PDF) and copies it to the clipboard; the Scan Explorer follows its mode,
 * stage, resolution and step, and plays to the end; the window's key bindings are the
 * ones the shortcuts window lists; closing during a run asks first, and "Stop Run" leaves
 * the run cancelled in the database. A 1280×800 screenshot of each page is written to
 * $VB_ARTIFACT_DIR (default: this test's build folder). */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-application.h"
#include "vb-ui-test.h"
#include "vb-window.h"

/* ---- fixtures: a tiny Fashion-MNIST subset and a tiny preset ---------------------------- */

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-ui-XXXXXX", 256, 64);
  /* the real presets, for the cards, plus a tiny one that trains in seconds */
  vb_ui_test_copy_presets (NULL);
  g_free (vb_ui_test_write_tiny_scan (256, 3));
}

/* ---- the form ------------------------------------------------------------------------------ */

static void
test_form_validation (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("form.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);

  g_assert_cmpstr (vb_window_get_page (window), ==, "experiments");
  g_assert_true (vb_experiments_page_select_preset (page, "tiny-scan"));
  GtkWidget *run = vb_experiments_page_get_run_button (page);
  g_assert_nonnull (run);
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_true (gtk_widget_get_sensitive (run));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run tiny-scan");

  static const struct { const char *key, *text; } bad[] = {
    { "train.epochs", "abc" }, { "train.epochs", "0" }, { "train.epochs", "2.5" },
    { "train.batch_size", "-8" }, { "train.lr", "0" }, { "train.lr", "fast" },
    { "data.train_limit", "-1" }, { "train.seed", "" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *good = NULL;
      g_assert_true (vb_experiments_page_set_field (page, bad[i].key, bad[i].text));
      g_autofree char *problems = vb_experiments_page_dup_problems (page);
      g_assert_nonnull (problems);
      g_assert_false (gtk_widget_get_sensitive (run));
      /* clicking anyway starts nothing */
      gtk_widget_activate (run);
      vb_ui_test_spin (0.4);   /* a button emits clicked at the end of its activate animation */
      g_assert_false (vb_session_get_busy (session));
      g_assert_true (vb_experiments_page_set_field (page, bad[i].key,
                                                    g_str_equal (bad[i].key, "train.lr") ? "0.005"
                                                    : g_str_equal (bad[i].key, "train.epochs") ? "3"
                                                    : g_str_equal (bad[i].key, "train.batch_size") ? "8"
                                                    : g_str_equal (bad[i].key, "train.seed") ? "7"
                                                    : "256"));
      g_assert_null (vb_experiments_page_dup_problems (page));
      g_assert_true (gtk_widget_get_sensitive (run));
    }

  /* scan modes: at least one */
  vb_experiments_page_set_scan_mode (page, "4dir", FALSE);
  vb_experiments_page_set_scan_mode (page, "2dir", FALSE);
  g_autofree char *none = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (none, "Scan modes"));
  g_assert_false (gtk_widget_get_sensitive (run));
  vb_experiments_page_set_scan_mode (page, "4dir", TRUE);
  vb_experiments_page_set_scan_mode (page, "1dir", TRUE);
  g_assert_true (gtk_widget_get_sensitive (run));

  /* only changed values become overrides, and the command shows them */
  vb_experiments_page_set_field (page, "train.epochs", "2");
  vb_experiments_page_set_field (page, "train.lr", "1e-3");
  g_auto (GStrv) overrides = vb_experiments_page_dup_overrides (page);
  g_assert_cmpuint (g_strv_length (overrides), ==, 3);
  g_assert_cmpstr (overrides[0], ==, "train.epochs=2");
  g_assert_cmpstr (overrides[1], ==, "train.lr=0.001");
  g_assert_cmpstr (overrides[2], ==, "model.scan=[\"4dir\",\"1dir\"]");
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), "--set train.epochs=2"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- Compare exports -------------------------------------------------------------------- */

/* records: the group's runs, newest first (the table shows them oldest first). */
static void
check_compare_exports (VbComparePage *compare,
                       VbStore       *store,
                       GPtrArray     *records)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *csv_path = vb_ui_test_path ("compare.csv");
  g_assert_true (vb_compare_page_export (compare, csv_path, &error));
  g_assert_no_error (error);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, records->len + 2);
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  int c_run = -1, c_top1 = -1;
  for (int c = 0; header[c]; c++)
    {
      if (g_str_equal (header[c], "Run"))
        c_run = c;
      if (g_str_equal (header[c], "Top-1 (%)"))
        c_top1 = c;
    }
  g_assert_cmpint (c_run, >=, 0);
  g_assert_cmpint (c_top1, >=, 0);
  for (guint row = 0; row < records->len; row++)
    {
      VbRunRecord *r = g_ptr_array_index (records, records->len - 1 - row);
      g_auto (GStrv) cells = g_strsplit (lines[row + 1], ",", -1);
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, r->id, NULL);
      double top1 = g_array_index (epochs, VbEpochMetric, epochs->len - 1).val_top1;
      g_assert_cmpint (g_ascii_strtoll (cells[c_run], NULL, 10), ==, r->id);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (cells[c_top1], NULL), top1, 0.005 + 1e-9);
    }

  /* the chart at the chosen size, in three formats */
  int w, h;
  vb_compare_page_get_chart_size (compare, &w, &h);
  g_autofree char *png_path = vb_ui_test_path ("compare.png");
  g_assert_true (vb_compare_page_export (compare, png_path, &error));
  g_autoptr (GdkTexture) png = gdk_texture_new_from_filename (png_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (png), ==, w);
  g_assert_cmpint (gdk_texture_get_height (png), ==, h);
  g_autofree char *svg_path = vb_ui_test_path ("compare.svg");
  g_assert_true (vb_compare_page_export (compare, svg_path, &error));
  g_autofree char *svg = NULL;
  g_assert_true (g_file_get_contents (svg_path, &svg, NULL, NULL));
  g_assert_nonnull (strstr (svg, "<svg"));
  g_assert_nonnull (strstr (svg, "</svg>"));
  g_autofree char *pdf_path = vb_ui_test_path ("compare.pdf");
  g_assert_true (vb_compare_page_export (compare, pdf_path, &error));
  g_autofree char *pdf = NULL;
  gsize pdf_len;
  g_assert_true (g_file_get_contents (pdf_path, &pdf, &pdf_len, NULL));
  g_assert_true (g_str_has_prefix (pdf, "%PDF-"));

  /* Copy: the Markdown table on the clipboard */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (compare), "compare.copy-table", NULL));
  g_autofree char *copied = vb_ui_test_clipboard_text (GTK_WIDGET (compare));
  g_autofree char *md = vb_compare_page_dup_table (compare, VB_TABLE_MARKDOWN);
  g_assert_nonnull (md);
  g_assert_cmpstr (copied, ==, md);
  g_assert_true (g_str_has_prefix (copied, "| Run |"));
}

/* ---- Run → Runs → Compare --------------------------------------------------------------- */

typedef struct {
  VbWindow *window;
  VbSession *session;
  gboolean shot_live;
} RunState;

static gboolean
run_finished (gpointer data)
{
  RunState *st = data;
  return !vb_session_get_busy (st->session);
}

static gboolean
run_selected (gpointer data)
{
  RunState *st = data;
  return vb_runs_page_get_selected_run (vb_window_get_runs_page (st->window)) != 0;
}

static void
test_run_to_compare (void)
{
  RunState st = { 0 };
  st.window = vb_ui_test_new_exact_window ("runs.db", 1280, 800, &st.session);
  VbExperimentsPage *page = vb_window_get_experiments_page (st.window);
  VbRunsPage *runs = vb_window_get_runs_page (st.window);
  VbComparePage *compare = vb_window_get_compare_page (st.window);

  g_assert_cmpuint (vb_runs_page_get_n_runs (runs), ==, 0);
  g_assert_true (vb_experiments_page_select_preset (page, "tiny-scan"));
  vb_experiments_page_set_field (page, "train.epochs", "2");
  vb_experiments_page_set_field (page, "data.train_limit", "128");
  vb_experiments_page_set_field (page, "train.seed", "3");
  g_assert_null (vb_experiments_page_dup_problems (page));
  vb_ui_test_save_window_screenshot (st.window, "experiments.png");

  /* Run, as a click does */
  gtk_widget_activate (vb_experiments_page_get_run_button (page));
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_busy, st.session, 5));
  g_assert_cmpstr (vb_window_get_page (st.window), ==, "runs");
  g_assert_true (vb_ui_test_wait_until (run_selected, &st, 60));
  gint64 first = vb_runs_page_get_selected_run (runs);
  g_assert_nonnull (vb_runs_page_get_run_status (runs, first));

  g_assert_true (vb_ui_test_wait_until (run_finished, &st, 400));
  g_assert_cmpuint (vb_window_get_n_toasts (st.window), ==, 0);

  /* both runs of the grid are listed, done, with the form's values in their config */
  VbStore *store = vb_session_get_store (st.session);
  g_autoptr (GPtrArray) records = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (records->len, ==, 2);
  vb_runs_page_refresh (runs);
  g_assert_cmpuint (vb_runs_page_get_n_runs (runs), ==, 2);
  const char *group = ((VbRunRecord *) g_ptr_array_index (records, 0))->group_id;
  for (guint i = 0; i < records->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (records, i);
      g_assert_cmpint (r->status, ==, VB_RUN_DONE);
      g_assert_cmpstr (vb_runs_page_get_run_status (runs, r->id), ==, "done");
      g_assert_cmpstr (r->group_id, ==, group);
      g_assert_cmpint (r->seed, ==, 3);
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, r->config_json, -1, NULL));
      JsonObject *config = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (config, "data"),
                                                   "train_limit"), ==, 128);
      g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (config, "train"),
                                                   "epochs"), ==, 2);
    }
  g_assert_true (vb_runs_page_select_run (runs, first));
  g_assert_cmpuint (vb_runs_page_get_n_loss_points (runs), >, 8);
  g_assert_nonnull (strstr (vb_runs_page_get_progress_text (runs), "done"));
  vb_ui_test_save_window_screenshot (st.window, "runs.png");

  /* Compare: the newest group, oldest run first, Top-1 as the database has it */
  vb_window_set_page (st.window, "compare");
  vb_compare_page_refresh (compare);
  g_assert_cmpstr (vb_compare_page_get_group (compare), ==, group);
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 2);
  for (guint row = 0; row < 2; row++)
    {
      VbRunRecord *r = g_ptr_array_index (records, 1 - row);
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, r->id, NULL);
      g_assert_cmpuint (epochs->len, ==, 2);
      double top1 = g_array_index (epochs, VbEpochMetric, epochs->len - 1).val_top1;
      g_assert_true (isfinite (top1));
      g_autofree char *want = g_strdup_printf ("%.2f", top1);
      g_autofree char *got = vb_compare_page_dup_cell (compare, row, "Top-1");
      g_assert_cmpstr (got, ==, want);
      g_autofree char *dirs = vb_compare_page_dup_cell (compare, row, "Dirs");
      g_assert_nonnull (strstr (dirs, row == 0 ? "4" : "2"));
      g_autofree char *status = vb_compare_page_dup_cell (compare, row, "Status");
      g_assert_cmpstr (status, ==, "done");
      g_autofree char *size = vb_compare_page_dup_cell (compare, row, "ImgSize");
      g_assert_cmpstr (size, ==, "16");
    }
  vb_ui_test_save_window_screenshot (st.window, "compare.png");
  check_compare_exports (compare, store, records);

  gtk_window_destroy (GTK_WINDOW (st.window));
  g_assert_finalize_object (st.session);
}

/* ---- Scan Explorer -------------------------------------------------------------------- */

static gboolean
not_playing (gpointer data)
{
  return !vb_scan_page_get_playing (data);
}

static void
test_scan_explorer (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("scan.db", 1280, 800, &session);
  VbScanPage *scan = vb_window_get_scan_page (window);
  VbScanView view;

  vb_window_set_page (window, "scan");
  g_assert_cmpstr (vb_window_get_page (window), ==, "scan");

  /* 2-dir at stage 3 of 224 px: a 14 × 14 grid, four routes */
  g_assert_true (vb_scan_page_set_mode (scan, "2dir"));
  g_assert_true (vb_scan_page_set_stage (scan, 3));
  g_assert_true (vb_scan_page_set_resolution (scan, 224));
  g_assert_false (vb_scan_page_set_resolution (scan, 100));
  g_assert_false (vb_scan_page_set_mode (scan, "8dir"));
  g_assert_cmpuint (vb_scan_page_get_n_steps (scan), ==, 196);
  vb_scan_page_set_step (scan, 60);
  vb_scan_page_get_view (scan, &view);
  g_assert_cmpint (view.mode, ==, VB_SCAN_VIEW_2DIR);
  g_assert_cmpint (view.rows, ==, 14);
  g_assert_cmpint (view.cols, ==, 14);
  g_assert_cmpuint (view.step, ==, 60);
  vb_ui_test_save_window_screenshot (window, "scan-explorer.png");

  /* a smaller grid clamps the step */
  g_assert_true (vb_scan_page_set_stage (scan, 4));
  g_assert_cmpuint (vb_scan_page_get_n_steps (scan), ==, 49);
  g_assert_cmpuint (vb_scan_page_get_step (scan), ==, 49);

  /* 4-dir at stage 2: play advances, pause stops */
  g_assert_true (vb_scan_page_set_mode (scan, "4dir"));
  g_assert_true (vb_scan_page_set_stage (scan, 2));
  vb_scan_page_set_step (scan, 10);
  vb_scan_page_set_playing (scan, TRUE);
  vb_ui_test_spin (0.6);
  guint played = vb_scan_page_get_step (scan);
  g_assert_cmpuint (played, >, 10);
  vb_scan_page_set_playing (scan, FALSE);
  guint paused = vb_scan_page_get_step (scan);
  vb_ui_test_spin (0.3);
  g_assert_cmpuint (vb_scan_page_get_step (scan), ==, paused);

  /* play runs to the end of the sequence and stops there */
  vb_scan_page_set_step (scan, vb_scan_page_get_n_steps (scan) - 3);
  vb_scan_page_set_playing (scan, TRUE);
  g_assert_true (vb_ui_test_wait_until (not_playing, scan, 10));
  g_assert_cmpuint (vb_scan_page_get_step (scan), ==, vb_scan_page_get_n_steps (scan));

  /* Vim: one grid of 16-px patches plus the class token */
  g_assert_true (vb_scan_page_set_mode (scan, "vim"));
  g_assert_cmpuint (vb_scan_page_get_n_steps (scan), ==, 14 * 14 + 1);
  vb_scan_page_set_step (scan, 120);
  vb_ui_test_save_window_screenshot (window, "scan-explorer-vim.png");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- shortcuts -------------------------------------------------------------------------- */

static void
collect_accels (GtkWidget *widget,
                GPtrArray *accels)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (widget))
    {
      g_autofree char *accel = NULL;
      g_object_get (widget, "accelerator", &accel, NULL);
      /* the window's search page holds copies of every shortcut: count each once */
      if (!g_ptr_array_find_with_equal_func (accels, accel, g_str_equal, NULL))
        g_ptr_array_add (accels, g_steal_pointer (&accel));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect_accels (c, accels);
}

static gboolean
listed (GPtrArray  *accels,
        const char *accel)
{
  guint key, want_key;
  GdkModifierType mods, want_mods;

  g_assert_true (gtk_accelerator_parse (accel, &want_key, &want_mods));
  for (guint i = 0; i < accels->len; i++)
    if (gtk_accelerator_parse (g_ptr_array_index (accels, i), &key, &mods)
        && key == want_key && mods == want_mods)
      return TRUE;
  return FALSE;
}

static void
test_shortcuts (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("keys.db", 1280, 800, &session);
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  g_autoptr (GPtrArray) listed_accels = g_ptr_array_new_with_free_func (g_free);
  collect_accels (GTK_WIDGET (overlay), listed_accels);

  /* every key binding of the window, listed; and the pages it reaches */
  static const struct { const char *accel, *page; } pages[] = {
    { "<Control>1", "experiments" }, { "<Control>2", "runs" },
    { "<Control>3", "compare" }, { "<Control>4", "scan" },
  };
  guint n_bindings = 0, n_pages = 0;
  gboolean help = FALSE, fullscreen = FALSE, prefs = FALSE, present = FALSE;
  g_autoptr (GPtrArray) shortcuts = vb_ui_test_dup_named_shortcuts (GTK_WIDGET (window));
  for (guint i = 0; i < shortcuts->len; i++)
    {
      VbUiShortcut *s = g_ptr_array_index (shortcuts, i);
      GtkShortcutAction *action = gtk_shortcut_get_action (s->shortcut);
      const char *name = s->action_name;
      if (!g_str_has_prefix (name, "window.show-page") && !g_str_equal (name, "window.toggle-fullscreen")
          && !g_str_equal (name, "win.show-help-overlay") && !g_str_equal (name, "window.preferences")
          && !g_str_equal (name, "window.presentation"))
        continue;   /* GTK's own bindings */
      g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (s->shortcut));
      g_test_message ("binding %s → %s", trigger, name);
      g_assert_true (listed (listed_accels, trigger));
      n_bindings++;
      fullscreen |= g_str_equal (name, "window.toggle-fullscreen") && g_str_equal (trigger, "F11");
      prefs |= g_str_equal (name, "window.preferences") && g_str_equal (trigger, "<Control>comma");
      present |= g_str_equal (name, "window.presentation") && g_str_equal (trigger, "F5");
      for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
        if (g_str_equal (trigger, pages[p].accel))
          {
            vb_window_set_page (window, p == 0 ? "runs" : "experiments");
            g_assert_true (gtk_shortcut_action_activate (action, GTK_SHORTCUT_ACTION_EXCLUSIVE,
                                                         GTK_WIDGET (window),
                                                         gtk_shortcut_get_arguments (s->shortcut)));
            g_assert_cmpstr (vb_window_get_page (window), ==, pages[p].page);
            n_pages++;
          }
      if (g_str_equal (name, "win.show-help-overlay"))
        {
          /* Ctrl+? opens the shortcuts window */
          g_assert_cmpstr (trigger, ==, "<Control>question");
          g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));
          g_assert_true (gtk_shortcut_action_activate (action, GTK_SHORTCUT_ACTION_EXCLUSIVE,
                                                       GTK_WIDGET (window), NULL));
          g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
          gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);
          help = TRUE;
        }
    }
  g_assert_cmpuint (n_pages, ==, G_N_ELEMENTS (pages));
  g_assert_true (help);
  g_assert_true (fullscreen);
  g_assert_true (prefs);
  g_assert_true (present);
  /* the shortcuts window lists nothing that is not bound: window bindings + app's Ctrl+Q */
  g_assert_cmpuint (listed_accels->len, ==, n_bindings + 1);
  g_assert_true (listed (listed_accels, "<Control>q"));
  g_autoptr (VbApplication) app = vb_application_new ();
  g_auto (GStrv) quit = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
  g_assert_nonnull (quit);
  g_assert_cmpstr (quit[0], ==, "<Control>q");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- closing during a run ------------------------------------------------------------- */

/* training, shown on the Runs page, with a few points in the loss chart */
static gboolean
training (gpointer data)
{
  RunState *st = data;
  VbRunsPage *runs = vb_window_get_runs_page (st->window);
  const VbJobStatus *s = vb_session_get_status (st->session);
  return vb_session_get_active_run (st->session) != 0
         && vb_runs_page_get_selected_run (runs) == vb_session_get_active_run (st->session)
         && s->phase && g_str_equal (s->phase, "train") && s->epoch >= 1
         && vb_runs_page_get_n_loss_points (runs) >= 8;
}

static gboolean
window_closed (gpointer data)
{
  return ((RunState *) data)->window == NULL;
}

static void
test_close_during_run (void)
{
  RunState st = { 0 };
  st.window = vb_ui_test_new_exact_window ("close.db", 1280, 800, &st.session);
  VbExperimentsPage *page = vb_window_get_experiments_page (st.window);
  g_object_add_weak_pointer (G_OBJECT (st.window), (gpointer *) &st.window);

  g_assert_true (vb_experiments_page_select_preset (page, "tiny-scan"));
  vb_experiments_page_set_scan_mode (page, "2dir", FALSE);
  vb_experiments_page_set_field (page, "train.epochs", "500");
  gtk_widget_activate (vb_experiments_page_get_run_button (page));
  g_assert_true (vb_ui_test_wait_until (training, &st, 60));
  gint64 run_id = vb_session_get_active_run (st.session);
  VbRunsPage *runs = vb_window_get_runs_page (st.window);
  g_assert_cmpstr (vb_window_get_page (st.window), ==, "runs");
  g_assert_nonnull (strstr (vb_runs_page_get_progress_text (runs), "ETA"));
  g_assert_true (gtk_widget_get_visible (vb_runs_page_get_cancel_button (runs)));
  vb_ui_test_save_window_screenshot (st.window, "runs-live.png");

  /* close: the window stays and asks */
  gtk_window_close (GTK_WINDOW (st.window));
  vb_ui_test_spin (0.2);
  g_assert_nonnull (st.window);
  AdwMessageDialog *dialog = vb_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (dialog, "stop"));
  g_assert_true (adw_message_dialog_has_response (dialog, "background"));
  vb_ui_test_save_window_screenshot (st.window, "close-dialog.png");

  /* "keep" leaves everything as it was */
  adw_message_dialog_response (dialog, "keep");
  vb_ui_test_spin (0.2);
  g_assert_nonnull (st.window);
  g_assert_true (vb_session_get_busy (st.session));

  /* "stop": the run ends cancelled, recorded, and the window closes */
  gtk_window_close (GTK_WINDOW (st.window));
  vb_ui_test_spin (0.2);
  dialog = vb_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "stop");
  /* the window closes when the engine reports the cancelled job finished: soon, but on
   * a loaded machine not within a fixed fraction of a second */
  g_assert_true (vb_ui_test_wait_until (window_closed, &st, 30));
  g_autoptr (VbRunRecord) r = vb_store_get_run (vb_session_get_store (st.session), run_id, NULL);
  g_assert_nonnull (r);
  g_assert_cmpint (r->status, ==, VB_RUN_CANCELLED);
  g_assert_false (vb_session_get_busy (st.session));
  g_assert_finalize_object (st.session);
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/experiments/validation", test_form_validation);
  g_test_add_func ("/vb/ui/window/run-to-compare", test_run_to_compare);
  g_test_add_func ("/vb/ui/window/scan-explorer", test_scan_explorer);
  g_test_add_func ("/vb/ui/window/shortcuts", test_shortcuts);
  g_test_add_func ("/vb/ui/window/close-during-run", test_close_during_run);
  return vb_ui_test_run ();
}
