/* The desktop app's main window, driven as a user would: the Experiments form flags bad
 * values and keeps Run insensitive; Run on a tiny preset queues the job, switches to the
 * Runs page, which shows the run live and then finished; the Compare page shows the group
 * with Top-1 exactly as the database has it; closing during a run asks first, and
 * "Stop Run" leaves the run cancelled in the database. A 1280×800 screenshot of each page
 * is written to $VB_ARTIFACT_DIR (default: this test's build folder). */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-test-fmnist.h"
#include "vb-window.h"

static char *tmp_dir;
static char *subset_dir;
static char *presets_dir;
static const char *artifact_dir;

/* ---- fixtures: a tiny Fashion-MNIST subset and a tiny preset ---------------------------- */

static void
make_fixtures (void)
{
  tmp_dir = g_dir_make_tmp ("vb-ui-XXXXXX", NULL);
  subset_dir = g_build_filename (tmp_dir, "fashion-mnist", NULL);
  presets_dir = g_build_filename (tmp_dir, "presets", NULL);
  g_assert_cmpint (g_mkdir (subset_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (presets_dir, 0700), ==, 0);
  vb_test_write_fashion_mnist_subset (subset_dir, 256, 64);

  /* the real presets, for the cards, plus a tiny one that trains in seconds */
  g_autoptr (GDir) dir = g_dir_open (VB_SOURCE_PRESETS_DIR, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      {
        g_autofree char *from = g_build_filename (VB_SOURCE_PRESETS_DIR, name, NULL);
        g_autofree char *to = g_build_filename (presets_dir, name, NULL);
        g_autofree char *text = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (from, &text, &len, NULL));
        g_assert_true (g_file_set_contents (to, text, len, NULL));
      }
  g_autofree char *tiny = g_strdup_printf (
    "{\"name\": \"tiny-scan\", \"title\": \"Tiny scan directions (test)\","
    " \"description\": \"A very small VMamba on 16 px Fashion-MNIST, 4-dir against 2-dir.\","
    " \"base\": {\"device\": \"cpu\","
    "  \"model\": {\"dims\": 8, \"depths\": [1, 1], \"scan\": \"4dir\", \"drop_path\": 0.1},"
    "  \"data\": {\"dataset\": \"fashion-mnist\", \"path\": \"%s\", \"img_size\": 16,"
    "           \"train_limit\": 256, \"val_limit\": 32, \"workers\": 1, \"scale_min\": 0.5},"
    "  \"train\": {\"epochs\": 3, \"batch_size\": 8, \"lr\": 0.005, \"warmup_epochs\": 0.2,"
    "            \"eval_batch_size\": 32, \"threads\": 1, \"seed\": 7}},"
    " \"grid\": {\"model.scan\": [\"4dir\", \"2dir\"]}, \"labels\": {\"model.scan\": \"Dirs\"}}",
    subset_dir);
  g_autofree char *tiny_path = g_build_filename (presets_dir, "tiny-scan.json", NULL);
  g_assert_true (g_file_set_contents (tiny_path, tiny, -1, NULL));
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

/* ---- helpers ------------------------------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

/* Iterates the main context until cond holds; the session ticks every second, so a
 * blocking iteration always wakes up. */
static gboolean
wait_until (Condition cond,
            gpointer  data,
            double    timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static void
spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), TRUE);
}

static gboolean
session_busy (gpointer data)
{
  return vb_session_get_busy (data);
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

/* The window's content (header bar and page) rendered to a PNG. */
static void
save_screenshot (VbWindow   *window,
                 const char *name)
{
  GtkWidget *content = adw_application_window_get_content (ADW_APPLICATION_WINDOW (window));

  spin (0.3);   /* let layout and the charts' first draw happen */
  int w = gtk_widget_get_width (content);
  int h = gtk_widget_get_height (content);
  g_assert_cmpint (w, >, 0);
  g_assert_cmpint (h, >, 0);

  /* a widget waiting for a new allocation snapshots to nothing: let the frame clock run */
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (content);
  g_autoptr (GskRenderNode) node = NULL;
  for (int tries = 0; node == NULL && tries < 200; tries++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        spin (0.02);
    }
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  g_autoptr (GdkTexture) texture =
    gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_autofree char *path = g_build_filename (artifact_dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %dx%d: %s", w, h, path);
}

static VbWindow *
new_window (const char *db, VbSession **out_session)
{
  g_autoptr (GError) error = NULL;
  VbSession *session = vb_session_new (db, presets_dir, &error);
  g_assert_no_error (error);
  VbWindow *window = vb_window_new (NULL, session);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_until (is_mapped, window, 20));

  /* screenshots are of the content at 1280×800: make up for any decoration */
  GtkWidget *content = adw_application_window_get_content (ADW_APPLICATION_WINDOW (window));
  spin (0.3);
  int w, h;
  gtk_window_get_default_size (GTK_WINDOW (window), &w, &h);
  gtk_window_set_default_size (GTK_WINDOW (window), w + 1280 - gtk_widget_get_width (content),
                               h + 800 - gtk_widget_get_height (content));
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((gtk_widget_get_width (content) != 1280 || gtk_widget_get_height (content) != 800)
         && g_get_monotonic_time () < end)
    spin (0.05);
  g_assert_cmpint (gtk_widget_get_width (content), ==, 1280);
  g_assert_cmpint (gtk_widget_get_height (content), ==, 800);
  *out_session = session;
  return window;
}

static char *
new_db_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* ---- the form ------------------------------------------------------------------------------ */

static void
test_form_validation (void)
{
  g_autofree char *db = new_db_path ("form.db");
  VbSession *session;
  VbWindow *window = new_window (db, &session);
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
      spin (0.4);   /* a button emits clicked at the end of its activate animation */
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
  g_autofree char *db = new_db_path ("runs.db");
  RunState st = { 0 };
  st.window = new_window (db, &st.session);
  VbExperimentsPage *page = vb_window_get_experiments_page (st.window);
  VbRunsPage *runs = vb_window_get_runs_page (st.window);
  VbComparePage *compare = vb_window_get_compare_page (st.window);

  g_assert_cmpuint (vb_runs_page_get_n_runs (runs), ==, 0);
  g_assert_true (vb_experiments_page_select_preset (page, "tiny-scan"));
  vb_experiments_page_set_field (page, "train.epochs", "2");
  vb_experiments_page_set_field (page, "data.train_limit", "128");
  vb_experiments_page_set_field (page, "train.seed", "3");
  g_assert_null (vb_experiments_page_dup_problems (page));
  save_screenshot (st.window, "experiments.png");

  /* Run, as a click does */
  gtk_widget_activate (vb_experiments_page_get_run_button (page));
  g_assert_true (wait_until (session_busy, st.session, 5));
  g_assert_cmpstr (vb_window_get_page (st.window), ==, "runs");
  g_assert_true (wait_until (run_selected, &st, 60));
  gint64 first = vb_runs_page_get_selected_run (runs);
  g_assert_nonnull (vb_runs_page_get_run_status (runs, first));

  g_assert_true (wait_until (run_finished, &st, 400));
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
  save_screenshot (st.window, "runs.png");

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
  save_screenshot (st.window, "compare.png");

  gtk_window_destroy (GTK_WINDOW (st.window));
  g_assert_finalize_object (st.session);
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

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *tops = gtk_window_get_toplevels ();   /* not ours */
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (tops, i);
      if (ADW_IS_MESSAGE_DIALOG (w))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static void
test_close_during_run (void)
{
  g_autofree char *db = new_db_path ("close.db");
  RunState st = { 0 };
  st.window = new_window (db, &st.session);
  VbExperimentsPage *page = vb_window_get_experiments_page (st.window);
  g_object_add_weak_pointer (G_OBJECT (st.window), (gpointer *) &st.window);

  g_assert_true (vb_experiments_page_select_preset (page, "tiny-scan"));
  vb_experiments_page_set_scan_mode (page, "2dir", FALSE);
  vb_experiments_page_set_field (page, "train.epochs", "500");
  gtk_widget_activate (vb_experiments_page_get_run_button (page));
  g_assert_true (wait_until (training, &st, 60));
  gint64 run_id = vb_session_get_active_run (st.session);
  VbRunsPage *runs = vb_window_get_runs_page (st.window);
  g_assert_cmpstr (vb_window_get_page (st.window), ==, "runs");
  g_assert_nonnull (strstr (vb_runs_page_get_progress_text (runs), "ETA"));
  g_assert_true (gtk_widget_get_visible (vb_runs_page_get_cancel_button (runs)));
  save_screenshot (st.window, "runs-live.png");

  /* close: the window stays and asks */
  gtk_window_close (GTK_WINDOW (st.window));
  spin (0.2);
  g_assert_nonnull (st.window);
  AdwMessageDialog *dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (dialog, "stop"));
  g_assert_true (adw_message_dialog_has_response (dialog, "background"));
  save_screenshot (st.window, "close-dialog.png");

  /* "keep" leaves everything as it was */
  adw_message_dialog_response (dialog, "keep");
  spin (0.2);
  g_assert_nonnull (st.window);
  g_assert_true (vb_session_get_busy (st.session));

  /* "stop": the run ends cancelled, recorded, and the window closes */
  gtk_window_close (GTK_WINDOW (st.window));
  spin (0.2);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "stop");
  spin (0.2);
  g_assert_null (st.window);
  g_autoptr (VbRunRecord) r = vb_store_get_run (vb_session_get_store (st.session), run_id, NULL);
  g_assert_nonnull (r);
  g_assert_cmpint (r->status, ==, VB_RUN_CANCELLED);
  g_assert_false (vb_session_get_busy (st.session));
  g_assert_finalize_object (st.session);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  /* screenshots show end states, not CSS transitions half way */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* what AdwApplication does for the app: the style sheet from the resource base path */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/visionbench/VisionBench/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (!vb_test_have_fashion_mnist ())
    {
      g_print ("SKIP: Debian's dataset-fashion-mnist is not installed\n");
      return 77;
    }
  artifact_dir = g_getenv ("VB_ARTIFACT_DIR");
  if (artifact_dir == NULL || *artifact_dir == '\0')
    artifact_dir = g_getenv ("VB_UI_BUILDDIR");
  if (artifact_dir == NULL || *artifact_dir == '\0')
    artifact_dir = ".";
  g_mkdir_with_parents (artifact_dir, 0755);
  make_fixtures ();

  g_test_add_func ("/vb/ui/experiments/validation", test_form_validation);
  g_test_add_func ("/vb/ui/window/run-to-compare", test_run_to_compare);
  g_test_add_func ("/vb/ui/window/close-during-run", test_close_during_run);
  int status = g_test_run ();

  rm_rf (tmp_dir);
  return status;
}
