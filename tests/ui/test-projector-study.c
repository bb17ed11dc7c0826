/* The projector study in the app, end to end: the form's plan (GTK-free: which fields a
 * projector preset has, the encoder, per-class and weights checks, the projectors as
 * the grid axis model.projector); the real projector-study preset's form shows the
 * study's fields (projectors, LoRA, encoder weights with "results will say random
 * weights", image size, the Advanced expander) and none of VMamba's (scan modes, split
 * fields, training images) and needs a CIFAR-10 folder; then a tiny study (two projectors
 * × one seed, a 2-layer encoder with random weights, CIFAR-10-format batches written
 * here) runs for real through the job queue after the folder passes Check Dataset. The
 * Runs page's loss chart holds the database's loss points, its per-epoch chart the
 * validation losses; the Compare page shows the study's columns with the database's
 * test loss per projector, sorts, computes Δ against the baseline, shows the
 * random-weights notice and a trade-off scatter with one point per projector; exports
 * (CSV, Markdown, LaTeX, PNG, SVG, PDF) and both clipboard copies work. 1280×800
 * screenshots of the form and the Compare page go to $VB_ARTIFACT_DIR. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-compare.h"
#include "vb-experiments-plan.h"
#include "vb-test-util.h"
#include "vb-test-cifar.h"
#include "vb-ui-test.h"
#include "vb-window.h"

#define RECORD (1 + 3 * 1024)

static char *cifar_dir;

/* ---- fixtures ------------------------------------------------------------------------------ */

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-proj-XXXXXX", 64, 20);
  vb_ui_test_copy_presets ("projector-study.json");

  /* 25 training and 10 test images a class */
  cifar_dir = vb_ui_test_path ("cifar");
  vb_test_make_cifar (cifar_dir, 50, 100);

  /* the study's preset, tiny: all five projectors in the file, the form keeps two */
  g_free (vb_ui_test_write_preset ("projector-tiny",
    "{\"name\": \"projector-tiny\", \"title\": \"Tiny projector study (test)\","
    " \"description\": \"Two-layer random encoder, 56 px, a few images a class.\","
    " \"base\": {"
    "  \"model\": {\"arch\": \"projector\", \"projector\": \"proj-linear\", \"lora_rank\": 8,"
    "    \"lora_alpha\": 16.0, \"clip_weights\": \"\", \"clip_seed\": 0, \"clip_layers\": 2,"
    "    \"clip_width\": 32, \"clip_heads\": 2},"
    "  \"data\": {\"dataset\": \"cifar10\", \"path\": \"\", \"img_size\": 56,"
    "    \"train_per_class\": 20, \"val_per_class\": 5, \"test_per_class\": 10},"
    "  \"train\": {\"epochs\": 3, \"batch_size\": 16, \"lr\": 0.003, \"min_lr\": 0.0,"
    "    \"warmup_lr\": 0.0, \"warmup_epochs\": 0.3, \"weight_decay\": 0.0, \"clip_grad\": 1.0,"
    "    \"seed\": 0, \"eval_batch_size\": 32, \"threads\": 2},"
    "  \"runtime\": {\"inputs\": 20, \"warmup\": 1, \"timed\": 3, \"repeats\": 2},"
    "  \"device\": \"cpu\"},"
    " \"grid\": {\"model.projector\": [\"proj-linear\", \"proj-lowrank\", \"proj-mlp\","
    "   \"proj-gated\", \"proj-lora\"], \"train.seed\": [0]},"
    " \"labels\": {\"model.projector\": \"Projector\", \"train.seed\": \"Seed\"}}"));
}

static gboolean
not_checking (gpointer data)
{
  return !vb_experiments_page_get_checking (data);
}

static gboolean
runs_page_has_loss (gpointer data)
{
  return vb_runs_page_get_n_loss_points (data) > 0;
}

/* ---- the plan, without GTK ----------------------------------------------------------------- */

static int
field_index (const char *key)
{
  for (guint i = 0; i < VB_FORM_N_FIELDS; i++)
    if (g_str_equal (vb_form_fields[i].key, key))
      return (int) i;
  return -1;
}

static void
test_plan (void)
{
  /* which fields a projector study's form has */
  g_assert_true (vb_form_field_applies (field_index ("model.lora_rank"), TRUE));
  g_assert_false (vb_form_field_applies (field_index ("model.lora_rank"), FALSE));
  g_assert_false (vb_form_field_applies (field_index ("data.train_limit"), TRUE));
  g_assert_false (vb_form_field_applies (field_index ("data.n_classes"), TRUE));
  g_assert_true (vb_form_field_applies (field_index ("train.seed"), TRUE));
  g_assert_true (vb_form_field_applies (field_index ("train.seed"), FALSE));

  /* field ranges: alpha must be positive, the tower's layers at most 64 */
  g_autofree char *message = NULL;
  g_assert_null (vb_experiments_plan_parse_field (field_index ("model.lora_alpha"), "0", &message));
  g_assert_nonnull (strstr (message, "above 0"));
  g_clear_pointer (&message, g_free);
  g_auto (GStrv) layers = vb_experiments_plan_parse_field (field_index ("model.clip_layers"), "2",
                                                           &message);
  g_assert_cmpstr (layers[0], ==, "2");

  /* the tower: all three or none, width a multiple of heads, LoRA's rank within it */
  g_assert_null (vb_experiments_plan_check_encoder (0, 0, 0, 8));
  g_assert_null (vb_experiments_plan_check_encoder (2, 32, 2, 8));
  g_autofree char *partial = vb_experiments_plan_check_encoder (2, 0, 2, 8);
  g_assert_nonnull (strstr (partial, "together"));
  g_autofree char *heads = vb_experiments_plan_check_encoder (2, 30, 4, 8);
  g_assert_nonnull (strstr (heads, "multiple"));
  g_autofree char *rank = vb_experiments_plan_check_encoder (2, 32, 2, 64);
  g_assert_nonnull (strstr (rank, "at most the encoder width, 32"));
  g_autofree char *rank_l14 = vb_experiments_plan_check_encoder (0, 0, 0, 2048);
  g_assert_nonnull (strstr (rank_l14, "1024"));

  g_assert_null (vb_experiments_plan_check_per_class (500, 100, 200));
  g_autofree char *too_many = vb_experiments_plan_check_per_class (4950, 100, 200);
  g_assert_nonnull (strstr (too_many, "5,000"));
  g_autofree char *too_many_test = vb_experiments_plan_check_per_class (5, 5, 1001);
  g_assert_nonnull (too_many_test);

  g_assert_null (vb_experiments_plan_check_weights (""));
  g_autofree char *not_st = vb_experiments_plan_check_weights ("/tmp/clip.bin");
  g_assert_nonnull (strstr (not_st, ".safetensors"));
  g_autofree char *missing = vb_experiments_plan_check_weights ("/nonexistent/clip.safetensors");
  g_assert_nonnull (strstr (missing, "does not exist"));

  /* the real preset is a projector study; two of its five projectors are an override of
   * the grid axis, and no edited preset */
  g_autofree char *path = g_build_filename (vb_ui_test_presets_dir (), "projector-study.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (vb_experiments_plan_is_projector (preset));
  g_auto (VbExperimentsPlan) plan = { 0 };
  vb_experiments_plan_init (&plan);
  const char *two[] = { "proj-linear", "proj-mlp", NULL };
  vb_experiments_plan_add_values (&plan, preset, "model.projector", two, TRUE, "proj-linear");
  g_assert_cmpuint (plan.overrides->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (plan.overrides, 0), ==,
                   "model.projector=[\"proj-linear\",\"proj-mlp\"]");
  g_assert_cmpuint (plan.edits->len, ==, 0);
  g_autofree char *cmd = vb_experiments_plan_command ("projector-study", NULL, plan.overrides);
  g_assert_nonnull (strstr (cmd, "--set 'model.projector=[\"proj-linear\",\"proj-mlp\"]'"));
}

/* ---- the form of the real preset ----------------------------------------------------------- */

static void
test_form (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("form.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);

  g_assert_true (vb_experiments_page_select_preset (page, "projector-study"));
  static const char *const shown[] = {
    "data.path", "model.projector", "model.lora_rank", "model.lora_alpha", "model.lora_base",
    "model.clip_weights",
    "data.img_size", "model.clip_layers", "model.clip_width", "model.clip_heads",
    "train.epochs", "train.batch_size", "train.lr", "train.seed",
  };
  static const char *const hidden[] = {
    "model.scan", "data.n_classes", "data.train_fraction", "data.split_seed", "data.train_limit",
  };
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    g_assert_true (vb_experiments_page_has_field (page, shown[i]));
  for (guint i = 0; i < G_N_ELEMENTS (hidden); i++)
    g_assert_false (vb_experiments_page_has_field (page, hidden[i]));
  for (guint p = 0; p < VB_FORM_N_PROJECTORS; p++)
    g_assert_true (vb_experiments_page_get_projector (page, vb_form_projectors[p].id));
  g_assert_true (vb_experiments_page_get_resolution (page, 224));
  g_assert_false (vb_experiments_page_get_resolution (page, 336));
  g_assert_nonnull (strstr (vb_experiments_page_get_weights_hint (page), "results will say random weights"));
  const char *path = NULL;
  g_assert_cmpstr (vb_experiments_page_get_dataset (page, &path), ==, "cifar10");

  /* the CIFAR-10 folder is required; no projector ticked is a problem too */
  g_autofree char *problems = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (problems, "Choose the data set"));
  g_assert_false (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
  vb_ui_test_save_window_screenshot (window, "projector-form.png");
  for (guint p = 0; p < VB_FORM_N_PROJECTORS; p++)
    vb_experiments_page_set_projector (page, vb_form_projectors[p].id, FALSE);
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "model.projector")));
  vb_experiments_page_set_projector (page, "proj-mlp", TRUE);
  g_assert_false (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "model.projector")));
  /* a weights file that is not there is flagged; the chooser's "Random" undoes it */
  vb_experiments_page_set_weights (page, "/nonexistent/clip.safetensors");
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "model.clip_weights")));
  g_assert_null (strstr (vb_experiments_page_get_weights_hint (page), "random weights"));
  vb_experiments_page_set_weights (page, "");
  /* a partial small encoder is refused */
  vb_experiments_page_set_field (page, "model.clip_layers", "2");
  g_autofree char *partial = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (partial, "together"));
  vb_experiments_page_set_field (page, "model.clip_width", "64");
  vb_experiments_page_set_field (page, "model.clip_heads", "2");
  g_autofree char *more = vb_experiments_page_dup_problems (page);
  g_assert_null (strstr (more, "together"));
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), "--set model.clip_layers=2"));
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), "--set model.projector=proj-mlp"));

  /* LoRA's base (§4.5): the identity by default, the trained Linear one click away */
  g_assert_cmpstr (vb_experiments_page_get_lora_base (page), ==, "identity");
  g_assert_null (strstr (vb_experiments_page_get_command (page), "lora_base"));
  g_assert_true (vb_experiments_page_set_lora_base (page, "linear-classes-0-4"));
  g_assert_cmpstr (vb_experiments_page_get_lora_base (page), ==, "linear-classes-0-4");
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page),
                            "--set model.lora_base=linear-classes-0-4"));
  g_assert_false (vb_experiments_page_set_lora_base (page, "linear"));
  g_assert_true (vb_experiments_page_set_lora_base (page, "identity"));
  g_assert_null (strstr (vb_experiments_page_get_command (page), "lora_base"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- a tiny study, for real ---------------------------------------------------------------- */

static VbCompareRow *
row_of (GPtrArray *rows,
        gint64     run_id)
{
  for (guint i = 0; i < rows->len; i++)
    if (((VbCompareRow *) g_ptr_array_index (rows, i))->run_id == run_id)
      return g_ptr_array_index (rows, i);
  return NULL;
}

static void
check_exports (VbComparePage *compare)
{
  g_autofree char *csv = vb_ui_test_export (compare, "study", "csv");
  g_autofree char *md = vb_ui_test_export (compare, "study", "md");
  g_autofree char *tex = vb_ui_test_export (compare, "study", "tex");
  g_autofree char *svg = vb_ui_test_export (compare, "study", "svg");
  g_free (vb_ui_test_export (compare, "study", "png"));
  g_free (vb_ui_test_export (compare, "study", "pdf"));
  g_assert_true (g_str_has_prefix (csv, "Run,Projector,Seed,Test loss"));
  g_assert_nonnull (strstr (md, "random weights"));
  g_assert_nonnull (strstr (tex, "Proxy Top-1"));
  g_assert_nonnull (strstr (svg, "scatter chart"));
  vb_ui_test_check_copies (compare, "| Projector |");
}

static void
test_study (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("study.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  VbStore *store = vb_session_get_store (session);

  /* two projectors of the five; the folder passes Check Dataset */
  g_assert_true (vb_experiments_page_select_preset (page, "projector-tiny"));
  g_assert_true (vb_experiments_page_get_resolution (page, 56));
  vb_experiments_page_set_projector (page, "proj-lowrank", FALSE);
  vb_experiments_page_set_projector (page, "proj-gated", FALSE);
  vb_experiments_page_set_projector (page, "proj-lora", FALSE);
  g_assert_true (vb_experiments_page_set_dataset (page, "cifar10", cifar_dir));
  vb_experiments_page_check_dataset (page);
  g_assert_true (vb_ui_test_wait_until (not_checking, page, 60));
  g_test_message ("check: %s", vb_experiments_page_get_check_message (page));
  g_assert_null (vb_experiments_page_dup_problems (page));
  const char *command = vb_experiments_page_get_command (page);
  g_test_message ("command: %s", command);
  g_autofree char *want_path = g_strdup_printf ("--set data.path=%s", cifar_dir);
  g_assert_true (g_str_has_prefix (command, "visionbench-cli run projector-tiny "));
  g_assert_nonnull (strstr (command, want_path));
  g_assert_nonnull (strstr (command, "--set 'model.projector=[\"proj-linear\",\"proj-mlp\"]'"));
  GtkWidget *run = vb_experiments_page_get_run_button (page);
  g_assert_true (gtk_widget_get_sensitive (run));
  gtk_widget_activate (run);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_busy, session, 30));
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 400));
  g_assert_cmpuint (vb_window_get_n_toasts (window), ==, 0);

  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (runs->len, ==, 2);
  gint64 ids[2];
  for (guint i = 0; i < 2; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, 1 - i);   /* oldest first */
      g_assert_cmpint (r->status, ==, VB_RUN_DONE);
      ids[i] = r->id;
    }

  /* Runs page: the database's loss points per step, its validation loss per epoch */
  VbRunsPage *runs_page = vb_window_get_runs_page (window);
  vb_window_set_page (window, "runs");
  vb_runs_page_refresh (runs_page);
  g_assert_true (vb_runs_page_select_run (runs_page, ids[0]));
  g_assert_true (vb_ui_test_wait_until (runs_page_has_loss, runs_page, 10));
  g_autoptr (GArray) steps = vb_store_get_step_metrics (store, ids[0], NULL);
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, ids[0], NULL);
  g_assert_cmpuint (steps->len, >, 0);
  g_assert_cmpuint (epochs->len, ==, 3);
  g_assert_cmpuint (vb_runs_page_get_n_loss_points (runs_page), ==, steps->len);
  VbLineChart *loss = vb_runs_page_get_chart (runs_page, "loss");
  g_assert_nonnull (strstr (loss->title, "1 − cos"));
  VbSeries *loss_series = g_ptr_array_index (loss->series, 0);
  for (guint i = 0; i < steps->len; i++)
    g_assert_cmpfloat (g_array_index (loss_series->y, double, i), ==,
                       g_array_index (steps, VbStepMetric, i).loss);
  VbLineChart *per_epoch = vb_runs_page_get_chart (runs_page, "accuracy");
  g_assert_nonnull (strstr (per_epoch->title, "Loss per epoch"));
  VbSeries *val = g_ptr_array_index (per_epoch->series, 0);
  g_assert_cmpuint (vb_series_get_length (val), ==, epochs->len);
  for (guint e = 0; e < epochs->len; e++)
    g_assert_cmpfloat (g_array_index (val->y, double, e), ==,
                       g_array_index (epochs, VbEpochMetric, e).val_loss);
  g_autofree char *log = vb_runs_page_dup_log (runs_page);
  g_assert_null (strstr (log, "top-1"));

  /* Compare page: the study's columns with the database's values */
  VbComparePage *compare = vb_window_get_compare_page (window);
  vb_window_set_page (window, "compare");
  vb_compare_page_refresh (compare);
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 2);
  g_assert_true (vb_compare_page_is_projector (compare));
  g_assert_true (vb_compare_page_column_is_visible (compare, "Test loss"));
  g_assert_true (vb_compare_page_column_is_visible (compare, "Encoder"));
  g_assert_false (vb_compare_page_column_is_visible (compare, "Dirs"));
  g_assert_false (vb_compare_page_column_is_visible (compare, "Top-5"));
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, ids, 2, NULL);
  for (guint row = 0; row < 2; row++)
    {
      VbCompareRow *r = row_of (rows, vb_compare_page_get_row_run (compare, row));
      g_assert_nonnull (r);
      g_assert_true (isfinite (r->test_loss));
      g_autofree char *loss_text = g_strdup_printf ("%.4f", r->test_loss);
      g_autofree char *cell = vb_compare_page_dup_cell (compare, row, "Test loss");
      g_assert_cmpstr (cell, ==, loss_text);
      g_autofree char *projector = vb_compare_page_dup_cell (compare, row, "Projector");
      g_assert_cmpstr (projector, ==, row == 0 ? "proj-linear" : "proj-mlp");
      g_autofree char *encoder = vb_compare_page_dup_cell (compare, row, "Encoder");
      g_assert_nonnull (strstr (encoder, "random weights"));
    }
  /* Δ against the baseline (the first run) */
  g_assert_cmpint (vb_compare_page_get_baseline (compare), ==, ids[0]);
  g_autofree char *base_cell = vb_compare_page_dup_cell (compare, 0, "ΔTest loss");
  g_assert_cmpstr (base_cell, ==, "baseline");
  g_autofree char *delta = vb_compare_page_dup_cell (compare, 1, "ΔTest loss");
  g_autofree char *want_delta = g_strdup_printf ("%+.4f", row_of (rows, ids[1])->test_loss
                                                          - row_of (rows, ids[0])->test_loss);
  g_assert_cmpstr (delta, ==, want_delta);
  /* sortable: lowest test loss first */
  g_assert_true (vb_compare_page_sort_by (compare, "Test loss", TRUE));
  g_assert_cmpfloat (row_of (rows, vb_compare_page_get_row_run (compare, 0))->test_loss, <=,
                     row_of (rows, vb_compare_page_get_row_run (compare, 1))->test_loss);
  gboolean bold = FALSE;
  g_assert_true (vb_compare_page_get_cell_style (compare, 0, "Test loss", &bold, NULL, NULL));
  g_assert_true (bold);

  const char *notice = vb_compare_page_get_notice (compare);
  g_assert_nonnull (notice);
  g_assert_nonnull (strstr (notice, "random weights"));

  /* the trade-off: one labelled point per projector at its params and Proxy Top-1 */
  VbScatterChart *scatter = vb_compare_page_get_scatter_chart (compare);
  g_assert_nonnull (scatter);
  g_assert_null (vb_compare_page_get_accuracy_chart (compare));
  g_assert_cmpuint (scatter->points->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      VbScatterPoint *pt = g_ptr_array_index (scatter->points, i);
      VbCompareRow *r = row_of (rows, ids[i]);
      g_assert_cmpstr (pt->label, ==, r->model);
      g_assert_cmpfloat (fabs (pt->x - r->params / 1e6), <, 1e-9);
      g_assert_cmpfloat (fabs (pt->y - r->proxy_top1), <, 1e-9);
    }
  VbLineChart *curves = vb_compare_page_get_curves_chart (compare);
  g_assert_cmpuint (curves->series->len, ==, 2);
  g_assert_nonnull (strstr (curves->title, "per projector"));

  vb_ui_test_save_window_screenshot (window, "projector-compare.png");
  check_exports (compare);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

int
main (int argc, char *argv[])
{
  /* the feature cache goes under the test's folder, not the user's */
  g_autofree char *cache = g_dir_make_tmp ("vb-proj-cache-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/projector-study/plan", test_plan);
  g_test_add_func ("/vb/ui/projector-study/form", test_form);
  g_test_add_func ("/vb/ui/projector-study/study", test_study);
  int status = vb_ui_test_run ();
  vb_test_rm_rf (cache);
  return status;
}
