/* The clip-profile in the app, end to end: the form's plan (GTK-free: which fields a
 * clip-profile preset has, the small tower's check against profile.layers, the image
 * sizes as the grid axis data.img_size); the real clip-profile preset's form shows the
 * profile's fields (image sizes 224 and 336, encoder weights with "results will say
 * random weights", layers, batch, warm-up, timed, repeats, the Advanced expander's small
 * tower) and none of VMamba's, the projector study's or a data set's, and its command
 * follows the form; then a tiny profile (3 layers, width 64, 28 and 42 px) runs for real
 * through the job queue. The Compare page shows a per-stage table per resolution with
 * the database's values, a stacked bar per resolution with a segment per stage group
 * (patch embedding, layers, five projectors), the random-weights notice; exports (CSV,
 * Markdown, LaTeX, PNG, SVG, PDF) and both clipboard copies work. 1280×800 screenshots
 * of the form and the Compare page go to $VB_ARTIFACT_DIR. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-compare.h"
#include "vb-experiments-plan.h"
#include "vb-ui-test.h"
#include "vb-window.h"

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-clip-profile-XXXXXX", 16, 8);
  vb_ui_test_copy_presets ("clip-profile.json");
  /* a tower small enough for seconds (tests/engine/test-clip-profile.c's) */
  g_free (vb_ui_test_write_preset ("clip-profile-tiny",
    "{\"name\": \"clip-profile-tiny\", \"title\": \"Tiny CLIP profile (test)\","
    " \"description\": \"Three-layer random encoder, 28 and 42 px.\","
    " \"base\": {"
    "  \"model\": {\"arch\": \"clip-profile\", \"clip_weights\": \"\", \"clip_seed\": 0,"
    "   \"clip_layers\": 3, \"clip_width\": 64, \"clip_heads\": 2, \"lora_rank\": 8,"
    "   \"lora_alpha\": 16.0},"
    "  \"data\": {\"img_size\": 28},"
    "  \"profile\": {\"layers\": \"llava\", \"batch\": 1, \"warmup\": 1, \"timed\": 3,"
    "   \"repeats\": 1},"
    "  \"train\": {\"seed\": 0, \"precision\": \"fp32\", \"threads\": 2},"
    "  \"device\": \"cpu\"},"
    " \"grid\": {\"data.img_size\": [28, 42]},"
    " \"labels\": {\"data.img_size\": \"Image size\"}}"));
}

static int
field_index (const char *key)
{
  for (guint i = 0; i < VB_FORM_N_FIELDS; i++)
    if (g_str_equal (vb_form_fields[i].key, key))
      return (int) i;
  return -1;
}

/* ---- the plan, without GTK ----------------------------------------------------------------- */

static void
test_plan (void)
{
  const VbFormArch clp = VB_FORM_ARCH_CLIP_PROFILE;

  /* the profile's fields and the tower's; nothing of training, data or the study */
  g_assert_true (vb_form_field_in_form (field_index ("profile.timed"), clp));
  g_assert_true (vb_form_field_in_form (field_index ("model.clip_layers"), clp));
  g_assert_true (vb_form_field_in_form (field_index ("model.clip_layers"), VB_FORM_ARCH_PROJECTOR));
  g_assert_false (vb_form_field_in_form (field_index ("profile.timed"), VB_FORM_ARCH_PROJECTOR));
  g_assert_false (vb_form_field_in_form (field_index ("profile.timed"), VB_FORM_ARCH_VMAMBA));
  static const char *const not_profile[] = {
    "train.epochs", "train.seed", "train.lr", "data.n_classes", "data.train_limit",
    "model.lora_rank", "data.train_per_class",
  };
  for (guint i = 0; i < G_N_ELEMENTS (not_profile); i++)
    g_assert_false (vb_form_field_in_form (field_index (not_profile[i]), clp));
  /* the projector study's form is what it was */
  g_assert_true (vb_form_field_applies (field_index ("train.seed"), TRUE));
  g_assert_false (vb_form_field_applies (field_index ("profile.batch"), TRUE));

  g_autofree char *message = NULL;
  g_assert_null (vb_experiments_plan_parse_field (field_index ("profile.timed"), "0", &message));
  g_assert_nonnull (strstr (message, "at least 1"));
  g_clear_pointer (&message, g_free);
  g_auto (GStrv) warmup = vb_experiments_plan_parse_field (field_index ("profile.warmup"), "0",
                                                           &message);
  g_assert_cmpstr (warmup[0], ==, "0");

  /* a one-layer tower cannot stop at LLaVA's layer, as the engine says */
  g_assert_null (vb_experiments_plan_check_profile (0, 0, 0, "llava"));
  g_assert_null (vb_experiments_plan_check_profile (3, 64, 2, "llava"));
  g_assert_null (vb_experiments_plan_check_profile (1, 64, 2, "all"));
  g_autofree char *one = vb_experiments_plan_check_profile (1, 64, 2, "llava");
  g_assert_nonnull (strstr (one, "at least 2"));
  g_autofree char *partial = vb_experiments_plan_check_profile (3, 0, 2, "llava");
  g_assert_nonnull (strstr (partial, "together"));

  /* the real preset; one size of the axis and all layers are overrides */
  g_autofree char *path = g_build_filename (vb_ui_test_presets_dir (), "clip-profile.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vb_experiments_plan_arch (preset), ==, clp);
  g_assert_false (vb_experiments_plan_is_projector (preset));
  g_auto (VbExperimentsPlan) plan = { 0 };
  vb_experiments_plan_init (&plan);
  const char *both[] = { "224", "336", NULL }, *small[] = { "224", NULL }, *all[] = { "all", NULL };
  vb_experiments_plan_add_values (&plan, preset, "data.img_size", both, FALSE, "224");
  g_assert_cmpuint (plan.overrides->len, ==, 0);
  vb_experiments_plan_add_values (&plan, preset, "data.img_size", small, FALSE, "224");
  vb_experiments_plan_add_values (&plan, preset, "profile.layers", all, TRUE, "llava");
  g_assert_cmpuint (plan.edits->len, ==, 0);
  g_autofree char *cmd = vb_experiments_plan_command ("clip-profile", NULL, plan.overrides);
  g_assert_cmpstr (cmd, ==, "visionbench-cli run clip-profile --set data.img_size=224 "
                            "--set profile.layers=all");
}

/* ---- the form of the real preset ----------------------------------------------------------- */

static void
test_form (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("form.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);

  g_assert_true (vb_experiments_page_select_preset (page, "clip-profile"));
  static const char *const shown[] = {
    "data.img_size", "model.clip_weights", "profile.layers", "profile.batch", "profile.warmup",
    "profile.timed", "profile.repeats", "model.clip_layers", "model.clip_width",
    "model.clip_heads",
  };
  static const char *const hidden[] = {
    "data.path", "model.scan", "model.projector", "model.lora_rank", "model.lora_base",
    "train.epochs", "train.batch_size", "train.lr", "train.seed", "data.n_classes",
    "data.train_limit", "data.train_per_class",
  };
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    g_assert_true (vb_experiments_page_has_field (page, shown[i]));
  for (guint i = 0; i < G_N_ELEMENTS (hidden); i++)
    g_assert_false (vb_experiments_page_has_field (page, hidden[i]));
  g_assert_null (vb_experiments_page_get_dataset (page, NULL));
  g_assert_true (vb_experiments_page_get_resolution (page, 224));
  g_assert_true (vb_experiments_page_get_resolution (page, 336));
  g_assert_cmpstr (vb_experiments_page_get_profile_layers (page), ==, "llava");
  g_assert_cmpstr (vb_experiments_page_get_field (page, "profile.timed"), ==, "3");
  g_assert_cmpstr (vb_experiments_page_get_field (page, "profile.warmup"), ==, "1");
  g_assert_nonnull (strstr (vb_experiments_page_get_weights_hint (page),
                            "results will say random weights"));

  /* the preset as it is: nothing to fix, the plain command, Run offered */
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run clip-profile");
  g_assert_true (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
  g_assert_true (gtk_widget_get_sensitive (vb_experiments_page_get_queue_button (page)));
  vb_ui_test_save_window_screenshot (window, "clip-profile-form.png");

  /* no size ticked is a problem; one size, all layers, the full protocol are overrides */
  vb_experiments_page_set_resolution (page, 224, FALSE);
  vb_experiments_page_set_resolution (page, 336, FALSE);
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "data.img_size")));
  g_assert_false (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
  vb_experiments_page_set_resolution (page, 336, TRUE);
  g_assert_true (vb_experiments_page_set_profile_layers (page, "all"));
  vb_experiments_page_set_field (page, "profile.timed", "20");
  vb_experiments_page_set_field (page, "profile.warmup", "8");
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                   "visionbench-cli run clip-profile --set data.img_size=336 "
                   "--set profile.layers=all --set profile.warmup=8 --set profile.timed=20");
  /* a bad count is flagged under its field */
  vb_experiments_page_set_field (page, "profile.repeats", "0");
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "profile.repeats")));
  vb_experiments_page_set_field (page, "profile.repeats", "1");
  /* a one-layer tower cannot stop at LLaVA's layer */
  g_assert_true (vb_experiments_page_set_profile_layers (page, "llava"));
  vb_experiments_page_set_field (page, "model.clip_layers", "1");
  vb_experiments_page_set_field (page, "model.clip_width", "64");
  vb_experiments_page_set_field (page, "model.clip_heads", "2");
  g_autofree char *one = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (one, "at least 2"));
  vb_experiments_page_set_field (page, "model.clip_layers", "3");
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), "--set model.clip_layers=3"));
  /* a weights file that is not there is flagged */
  vb_experiments_page_set_weights (page, "/nonexistent/clip.safetensors");
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "model.clip_weights")));
  vb_experiments_page_set_weights (page, "");
  g_assert_null (vb_experiments_page_dup_problems (page));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- a tiny profile, for real -------------------------------------------------------------- */

static void
check_exports (VbComparePage *compare)
{
  g_autofree char *csv = vb_ui_test_export (compare, "profile", "csv");
  g_autofree char *md = vb_ui_test_export (compare, "profile", "md");
  g_autofree char *tex = vb_ui_test_export (compare, "profile", "tex");
  g_autofree char *svg = vb_ui_test_export (compare, "profile", "svg");
  g_free (vb_ui_test_export (compare, "profile", "png"));
  g_free (vb_ui_test_export (compare, "profile", "pdf"));
  g_assert_true (g_str_has_prefix (csv, "Run,Img,Stage,Kind,ms"));
  g_assert_nonnull (strstr (csv, ",42,proj-gated,projector,"));
  g_assert_nonnull (strstr (md, "random weights"));
  g_assert_nonnull (strstr (tex, "GMAC/s"));
  g_assert_nonnull (strstr (svg, "stacked bar chart"));
  vb_ui_test_check_copies (compare, "| Stage |");
}

/* block b's table against the profile the run's result file holds */
static void
check_table (VbComparePage       *compare,
             guint                b,
             const VbClipProfile *p)
{
  static const char *const head[] = { "Stage", "ms", "% of total", "MACs (G)", "GMAC/s" };
  for (guint c = 0; c < G_N_ELEMENTS (head); c++)
    g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, 0, c), ==, head[c]);
  double enc = vb_clip_profile_encoder_ms (p);
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      g_autofree char *ms = g_strdup_printf ("%.3f", s->ms);
      g_autofree char *macs = g_strdup_printf ("%.4g", s->macs / 1e9);
      g_autofree char *share = g_strdup_printf ("%.1f", 100.0 * s->ms
                                                / (s->kind == VB_STAGE_PROJECTOR ? enc + s->ms : enc));
      g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, i + 1, 0), ==, s->name);
      g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, i + 1, 1), ==, ms);
      g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, i + 1, 2), ==, share);
      g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, i + 1, 3), ==, macs);
    }
  g_autofree char *enc_ms = g_strdup_printf ("%.3f", enc);
  g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, p->stages->len + 1, 0), ==,
                   "Encoder total");
  g_assert_cmpstr (vb_compare_page_get_profile_cell (compare, b, p->stages->len + 1, 1), ==, enc_ms);
}

static void
test_profile (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("profile.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  VbStore *store = vb_session_get_store (session);

  g_assert_true (vb_experiments_page_select_preset (page, "clip-profile-tiny"));
  g_assert_true (vb_experiments_page_get_resolution (page, 28));
  g_assert_true (vb_experiments_page_get_resolution (page, 42));
  g_assert_false (vb_experiments_page_get_resolution (page, 224));
  g_assert_cmpstr (vb_experiments_page_get_field (page, "model.clip_layers"), ==, "3");
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                   "visionbench-cli run clip-profile-tiny");
  /* through the queue, as Queue does while the engine is idle */
  GtkWidget *queue = vb_experiments_page_get_queue_button (page);
  g_assert_true (gtk_widget_get_sensitive (queue));
  gtk_widget_activate (queue);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_busy, session, 30));
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 300));
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

  VbComparePage *compare = vb_window_get_compare_page (window);
  vb_window_set_page (window, "compare");
  vb_compare_page_refresh (compare);
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 2);
  g_assert_true (vb_compare_page_is_clip_profile (compare));
  g_assert_false (vb_compare_page_is_projector (compare));

  /* a table per resolution, with the values of the runs' result files */
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, ids, 2, NULL);
  g_assert_cmpuint (vb_compare_page_get_profile_blocks (compare), ==, 2);
  for (guint b = 0; b < 2; b++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, b);
      g_assert_nonnull (r->profile);
      g_assert_cmpint (r->profile->img_size, ==, b == 0 ? 28 : 42);
      /* 3 layers, up to hidden_states[-2]: embedding, 2 layers, 5 projectors */
      g_assert_cmpuint (r->profile->stages->len, ==, 1 + 2 + 5);
      check_table (compare, b, r->profile);
    }

  /* the stacked bar: one bar per resolution, embedding + layers + five projectors */
  VbStackedBarChart *bar = vb_compare_page_get_stacked_chart (compare);
  g_assert_nonnull (bar);
  g_assert_null (vb_compare_page_get_accuracy_chart (compare));
  g_assert_null (vb_compare_page_get_scatter_chart (compare));
  g_assert_cmpuint (bar->bars->len, ==, 2);
  g_assert_cmpuint (bar->series->len, ==, 7);
  g_assert_cmpuint (bar->alt_from, ==, 2);
  for (guint b = 0; b < 2; b++)
    {
      VbStackBar *one = g_ptr_array_index (bar->bars, b);
      g_assert_cmpstr (one->label, ==, b == 0 ? "28 px" : "42 px");
      g_assert_cmpuint (vb_stacked_bar_chart_n_segments (bar, b), ==, 7);
      /* the layers' segment is the layer stages' time */
      const VbClipProfile *p = ((VbCompareRow *) g_ptr_array_index (rows, b))->profile;
      double layers = 0;
      for (guint i = 0; i < p->stages->len; i++)
        if (g_array_index (p->stages, VbProfileStage, i).kind == VB_STAGE_LAYER)
          layers += g_array_index (p->stages, VbProfileStage, i).ms;
      g_assert_cmpfloat (fabs (g_array_index (one->values, double, 1) - layers), <, 1e-9);
    }
  g_assert_nonnull (strstr (bar->caption, "alternatives"));
  g_assert_null (vb_compare_page_get_curves_chart (compare));

  const char *notice = vb_compare_page_get_notice (compare);
  g_assert_nonnull (notice);
  g_assert_nonnull (strstr (notice, "Random encoder weights"));

  vb_ui_test_spin (0.5);
  vb_ui_test_save_window_screenshot (window, "clip-profile-compare.png");
  check_exports (compare);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/clip-profile/plan", test_plan);
  g_test_add_func ("/vb/ui/clip-profile/form", test_form);
  g_test_add_func ("/vb/ui/clip-profile/profile", test_profile);
  return vb_ui_test_run ();
}
