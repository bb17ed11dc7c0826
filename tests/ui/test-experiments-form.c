/* The Experiments form, driven as a user would: invalid values (batch 0, learning rate
 * "abc", no scan mode) are flagged under their fields and keep Run and Queue insensitive;
 * valid values show the matching `--set` pairs in the command, and value lists the preset
 * file cannot hold make an edited preset; Check Dataset on a folder with a class of too
 * few images names that class's folder and keeps Run insensitive, a good folder passes;
 * two tiny runs queued one after the other finish in order in the database; "Clone &
 * edit" (win.clone-run) fills the form with a finished run's config; CUDA is offered only
 * where vb_device_ops ("cuda") opens a GPU, else its tooltip says why. "GPUs (data
 * parallel)" (train.gpus) is offered with CUDA and a usable GPU only, else says why; a batch
 * size that does not split over the GPUs is flagged under it; it is in the VMamba forms of
 * presets that have train.gpus, not in the projector study's, the clip-profile's or a
 * preset's without the field. A 1280×800 screenshot of the page, and one of the Training
 * section, go to $VB_ARTIFACT_DIR (default: this test's build folder). */
#include "config.h"

#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "vb-device.h"
#include "vb-experiments-plan.h"
#include "vb-test-fmnist.h"
#include "vb-ui-test.h"
#include "vb-window.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-form-XXXXXX", 128, 40);

  /* one of the real presets (a grid over model.scan) and a one-run preset that trains in
   * a second or two */
  vb_ui_test_copy_presets ("ss2d-directions.json");
  g_autofree char *base = vb_test_tiny_base_json (vb_ui_test_subset_dir (), 64, 20, 1, 20);
  g_autofree char *tiny = g_strdup_printf (
    "{\"name\": \"tiny-one\", \"title\": \"Tiny run (test)\","
    " \"description\": \"A very small VMamba on 16 px Fashion-MNIST, one run.\","
    " \"base\": %s}",
    base);
  g_free (vb_ui_test_write_preset ("tiny-one", tiny));
}

/* root/<class>/NNN.png, n[c] small PNGs per class */
static void
write_image_folder (const char         *root,
                    const char * const *classes,
                    const int          *n)
{
  for (int c = 0; classes[c] != NULL; c++)
    {
      g_autofree char *dir = g_build_filename (root, classes[c], NULL);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      for (int i = 0; i < n[c]; i++)
        {
          g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 12, 12);
          gdk_pixbuf_fill (pb, (guint32) (c * 0x40000000u + i * 0x10100u) | 0xff);
          g_autofree char *name = g_strdup_printf ("%03d.png", i);
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_assert_true (gdk_pixbuf_save (pb, path, "png", NULL, NULL));
        }
    }
}

/* ---- helpers ------------------------------------------------------------------------------- */

static gboolean
not_checking (gpointer data)
{
  return !vb_experiments_page_get_checking (data);
}

static gboolean
has_class (GtkWidget  *widget,
           const char *css_class)
{
  return gtk_widget_has_css_class (widget, css_class);
}

/* ---- invalid values ------------------------------------------------------------------------ */

static void
test_invalid_values (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("invalid.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  GtkWidget *run = NULL, *queue = NULL;

  g_assert_true (vb_experiments_page_select_preset (page, "tiny-one"));
  run = vb_experiments_page_get_run_button (page);
  queue = vb_experiments_page_get_queue_button (page);
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_true (gtk_widget_get_sensitive (run));
  g_assert_true (gtk_widget_get_sensitive (queue));

  vb_experiments_page_set_field (page, "train.batch_size", "0");
  vb_experiments_page_set_field (page, "train.lr", "abc");
  vb_experiments_page_set_scan_mode (page, "4dir", FALSE);
  g_assert_false (gtk_widget_get_sensitive (run));
  g_assert_false (gtk_widget_get_sensitive (queue));
  static const struct { const char *key, *says; } bad[] = {
    { "train.batch_size", "at least 1" }, { "train.lr", "“abc” is not a number" },
    { "model.scan", "tick at least one" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GtkWidget *message = vb_experiments_page_get_field_message (page, bad[i].key);
      g_assert_nonnull (message);
      g_assert_true (gtk_widget_get_visible (message));
      g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (message)), bad[i].says));
    }
  GtkWidget *lr_message = vb_experiments_page_get_field_message (page, "train.lr");
  g_assert_true (has_class (gtk_widget_get_prev_sibling (lr_message), "error")
                 || gtk_widget_get_visible (lr_message));
  /* the epochs field is fine and says nothing */
  g_assert_false (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "train.epochs")));
  /* seeds: a list, each a whole number, no repeats */
  vb_experiments_page_set_field (page, "train.seed", "1,x");
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "train.seed")));
  vb_experiments_page_set_field (page, "train.seed", "1,1");
  g_autofree char *twice = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (twice, "listed twice"));

  /* a click starts nothing */
  gtk_widget_activate (queue);
  vb_ui_test_spin (0.4);
  g_assert_false (vb_session_get_busy (session));

  /* fixed again: the messages go, Run comes back */
  vb_experiments_page_set_field (page, "train.batch_size", "8");
  vb_experiments_page_set_field (page, "train.lr", "0.005");
  vb_experiments_page_set_field (page, "train.seed", "7");
  vb_experiments_page_set_scan_mode (page, "4dir", TRUE);
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_false (gtk_widget_get_visible (lr_message));
  g_assert_true (gtk_widget_get_sensitive (run));

  /* the screenshot shows a flagged field */
  vb_experiments_page_set_field (page, "train.lr", "abc");
  vb_ui_test_save_window_screenshot (window, "experiments-form.png");
  /* and the end of the page: seeds, command, Run and Queue, scrolled into view */
  GtkWidget *scroller = gtk_widget_get_ancestor (run, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >, gtk_adjustment_get_page_size (adj));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  vb_ui_test_save_window_screenshot (window, "experiments-form-end.png");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- the command --------------------------------------------------------------------------- */

static void
test_command (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("command.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);

  g_assert_true (vb_experiments_page_select_preset (page, "tiny-one"));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run tiny-one");
  vb_experiments_page_set_field (page, "train.epochs", "2");
  vb_experiments_page_set_field (page, "train.batch_size", "4");
  vb_experiments_page_set_field (page, "train.lr", "1e-2");
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                   "visionbench-cli run tiny-one --set train.epochs=2 --set train.batch_size=4"
                   " --set train.lr=0.01");
  g_assert_null (vb_experiments_page_get_edited_preset (page));

  /* one other size and seed: still --set; two seeds need a grid the file lacks */
  vb_experiments_page_set_resolution (page, 16, FALSE);
  vb_experiments_page_set_resolution (page, 64, TRUE);
  vb_experiments_page_set_field (page, "train.seed", "3");
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), " --set data.img_size=64"));
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), " --set train.seed=3"));
  vb_experiments_page_set_field (page, "train.seed", "0,1,2");
  const char *cmd = vb_experiments_page_get_command (page);
  g_assert_true (g_str_has_prefix (cmd, "visionbench-cli run "));
  g_assert_nonnull (strstr (cmd, "edited-presets"));
  g_assert_null (strstr (cmd, "train.seed"));
  g_assert_nonnull (strstr (cmd, " --set train.epochs=2"));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, vb_experiments_page_get_edited_preset (page),
                                             -1, NULL));
  JsonObject *grid = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                    "grid");
  JsonArray *seeds = json_object_get_array_member (grid, "train.seed");
  g_assert_cmpuint (json_array_get_length (seeds), ==, 3);
  g_assert_cmpint (json_array_get_int_element (seeds, 2), ==, 2);

  /* the real preset's scan axis takes a list through --set */
  g_assert_true (vb_experiments_page_select_preset (page, "ss2d-directions"));
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run ss2d-directions");
  vb_experiments_page_set_scan_mode (page, "1dir", FALSE);
  g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                   "visionbench-cli run ss2d-directions --set 'model.scan=[\"4dir\",\"2dir\"]'");
  /* bf16 is shown, not offered; CUDA only with a GPU (see /device) */
  g_assert_null (vb_experiments_page_dup_problems (page));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- the device ---------------------------------------------------------------------------- */

/* The toggle button labelled label under widget, or NULL. */
static GtkWidget *
find_toggle (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_TOGGLE_BUTTON (widget)
      && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_toggle (c, label);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_device (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("device.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  g_autoptr (GError) error = NULL;
  const VbOps *ops = vb_device_ops ("cuda", &error);

  g_assert_true (vb_experiments_page_select_preset (page, "tiny-one"));
  GtkWidget *cpu = find_toggle (GTK_WIDGET (page), "CPU");
  GtkWidget *cuda = find_toggle (GTK_WIDGET (page), "CUDA");
  GtkWidget *fp32 = find_toggle (GTK_WIDGET (page), "fp32");
  GtkWidget *tf32 = find_toggle (GTK_WIDGET (page), "tf32");
  GtkWidget *bf16 = find_toggle (GTK_WIDGET (page), "bf16");
  g_assert_nonnull (cpu);
  g_assert_nonnull (cuda);
  g_assert_nonnull (fp32);
  g_assert_nonnull (tf32);
  g_assert_nonnull (bf16);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (cpu)));
  /* tensor-core products are offered with the GPU only */
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (fp32)));
  g_assert_false (gtk_widget_get_sensitive (tf32));
  g_assert_false (gtk_widget_get_sensitive (bf16));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (bf16), "on the GPU"));

  if (ops == NULL)
    {
      /* no usable GPU (or no CUDA in this build): shown, not offered, and the tooltip
       * gives the engine's reason */
      const char *why = error->message;
      if (g_str_has_prefix (why, "device cuda: "))
        why += strlen ("device cuda: ");
      g_test_message ("CUDA is not offered: %s", why);
      g_assert_false (gtk_widget_get_sensitive (cuda));
      g_assert_nonnull (gtk_widget_get_tooltip_text (cuda));
      g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (cuda), why));
      g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run tiny-one");
    }
  else
    {
      g_test_message ("CUDA is offered: %s", vb_device_describe (ops));
      g_assert_true (gtk_widget_get_sensitive (cuda));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (cuda), TRUE);
      g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (cpu)));
      g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                       "visionbench-cli run tiny-one --device cuda");
      g_auto (GStrv) overrides = vb_experiments_page_dup_overrides (page);
      g_assert_true (g_strv_contains ((const char * const *) overrides, "device=cuda"));
      g_assert_null (vb_experiments_page_dup_problems (page));
      /* TF32 products on the GPU; back on the CPU the choice returns to fp32 */
      g_assert_true (gtk_widget_get_sensitive (tf32));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (tf32), TRUE);
      g_assert_cmpstr (vb_experiments_page_get_command (page), ==,
                       "visionbench-cli run tiny-one --set train.precision=tf32 --device cuda");
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (cpu), TRUE);
      g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (fp32)));
      g_assert_false (gtk_widget_get_sensitive (tf32));
      g_assert_cmpstr (vb_experiments_page_get_command (page), ==, "visionbench-cli run tiny-one");
    }

  /* the command puts the device where the CLI's usage does, whatever this machine has */
  g_autoptr (GPtrArray) overrides = g_ptr_array_new ();
  g_ptr_array_add (overrides, "train.epochs=2");
  g_ptr_array_add (overrides, "device=cuda");
  g_ptr_array_add (overrides, "train.seed=3");
  g_autofree char *cmd = vb_experiments_plan_command ("tiny-one", NULL, overrides);
  g_assert_cmpstr (cmd, ==, "visionbench-cli run tiny-one --set train.epochs=2 --set train.seed=3"
                            " --device cuda");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- the data set check -------------------------------------------------------------------- */

static void
test_check_dataset (void)
{
  g_autofree char *bad = vb_ui_test_path ("bad-folder");
  g_autofree char *good = vb_ui_test_path ("good-folder");
  static const char *const classes[] = { "ant", "bee", "cat", NULL };
  static const int too_few[] = { 10, 2, 10 }, enough[] = { 10, 10, 10 };
  write_image_folder (bad, classes, too_few);
  write_image_folder (good, classes, enough);

  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("check.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  g_assert_true (vb_experiments_page_select_preset (page, "tiny-one"));
  GtkWidget *run = vb_experiments_page_get_run_button (page);

  /* an image folder without a folder, then unchecked: both refuse */
  g_assert_true (vb_experiments_page_set_dataset (page, "image-folder", ""));
  g_assert_false (gtk_widget_get_sensitive (run));
  g_assert_true (gtk_widget_get_visible (vb_experiments_page_get_field_message (page, "data.path")));
  vb_experiments_page_set_dataset (page, "image-folder", bad);
  g_autofree char *unchecked = vb_experiments_page_dup_problems (page);
  g_assert_nonnull (strstr (unchecked, "Check Dataset"));
  g_assert_false (gtk_widget_get_sensitive (run));

  vb_experiments_page_set_field (page, "data.n_classes", "3");
  vb_experiments_page_check_dataset (page);
  g_assert_true (vb_ui_test_wait_until (not_checking, page, 60));
  g_autofree char *folder = g_build_filename (bad, "bee", NULL);
  const char *says = vb_experiments_page_get_check_message (page);
  g_test_message ("bad folder: %s", says);
  g_assert_nonnull (strstr (says, folder));
  g_assert_false (gtk_widget_get_sensitive (run));

  vb_experiments_page_set_dataset (page, "image-folder", good);
  vb_experiments_page_check_dataset (page);
  g_assert_true (vb_ui_test_wait_until (not_checking, page, 60));
  says = vb_experiments_page_get_check_message (page);
  g_test_message ("good folder: %s", says);
  g_assert_nonnull (strstr (says, "30 images"));
  g_assert_null (vb_experiments_page_dup_problems (page));
  g_assert_true (gtk_widget_get_sensitive (run));
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), "--set data.dataset=image-folder"));
  /* a changed setting needs a new check */
  vb_experiments_page_set_field (page, "data.split_seed", "5");
  g_assert_false (gtk_widget_get_sensitive (run));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- queue two, then clone ------------------------------------------------------------------ */

static void
test_queue_and_clone (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("queue.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  g_assert_true (vb_experiments_page_select_preset (page, "tiny-one"));
  GtkWidget *queue = vb_experiments_page_get_queue_button (page);

  vb_experiments_page_set_field (page, "train.seed", "11");
  gtk_widget_activate (queue);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_busy, session, 5));
  /* Run means now: not while a job runs; Queue still takes the next one */
  g_assert_false (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
  vb_experiments_page_set_field (page, "train.seed", "12");
  vb_experiments_page_set_field (page, "train.batch_size", "16");
  vb_experiments_page_set_scan_mode (page, "2dir", TRUE);
  vb_experiments_page_set_scan_mode (page, "4dir", FALSE);
  g_assert_true (gtk_widget_get_sensitive (queue));
  gtk_widget_activate (queue);
  vb_ui_test_spin (0.4);
  g_assert_cmpstr (vb_window_get_page (window), ==, "experiments");
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 300));

  VbStore *store = vb_session_get_store (session);
  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (runs->len, ==, 2);
  VbRunRecord *second = g_ptr_array_index (runs, 0), *first = g_ptr_array_index (runs, 1);
  g_assert_cmpint (first->status, ==, VB_RUN_DONE);
  g_assert_cmpint (second->status, ==, VB_RUN_DONE);
  g_assert_cmpint (first->seed, ==, 11);
  g_assert_cmpint (second->seed, ==, 12);
  g_assert_cmpint (first->id, <, second->id);
  /* in order: the second started after the first finished */
  g_assert_cmpstr (first->finished_at, <=, second->started_at);

  /* clone & edit through the window action, from another page */
  vb_window_set_page (window, "runs");
  vb_experiments_page_select_preset (page, "ss2d-directions");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.clone-run", "x", second->id);
  g_assert_cmpstr (vb_window_get_page (window), ==, "experiments");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, second->config_json, -1, NULL));
  JsonObject *config = json_node_get_object (json_parser_get_root (parser));
  JsonObject *train = json_object_get_object_member (config, "train");
  JsonObject *data = json_object_get_object_member (config, "data");
  g_autofree char *epochs = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (train, "epochs"));
  g_autofree char *batch = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (train, "batch_size"));
  g_autofree char *seed = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (train, "seed"));
  g_assert_cmpstr (vb_experiments_page_get_field (page, "train.epochs"), ==, epochs);
  g_assert_cmpstr (vb_experiments_page_get_field (page, "train.batch_size"), ==, batch);
  g_assert_cmpstr (vb_experiments_page_get_field (page, "train.batch_size"), ==, "16");
  g_assert_cmpstr (vb_experiments_page_get_field (page, "train.seed"), ==, seed);
  g_assert_cmpfloat (g_ascii_strtod (vb_experiments_page_get_field (page, "train.lr"), NULL), ==,
                     json_object_get_double_member (train, "lr"));
  g_assert_true (vb_experiments_page_get_resolution (page, (int) json_object_get_int_member (data, "img_size")));
  g_assert_false (vb_experiments_page_get_resolution (page, 64));
  g_assert_true (vb_experiments_page_get_scan_mode (page, "2dir"));
  g_assert_false (vb_experiments_page_get_scan_mode (page, "4dir"));
  const char *path = NULL;
  g_assert_cmpstr (vb_experiments_page_get_dataset (page, &path), ==, "fashion-mnist");
  g_assert_cmpstr (path, ==, json_object_get_string_member (data, "path"));
  g_assert_null (vb_experiments_page_dup_problems (page));

  /* an unknown run is a toast, not a crash */
  guint toasts = vb_window_get_n_toasts (window);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.clone-run", "x", (gint64) 9999);
  g_assert_cmpuint (vb_window_get_n_toasts (window), ==, toasts + 1);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- GPUs: data parallel ------------------------------------------------------------------- */

/* the row's title: its no-break space keeps "(data parallel)" together */
#define GPUS_TITLE "GPUs (data\u00a0parallel)"

/* The label under widget whose text holds text (exact: equal to it), or NULL. */
static GtkWidget *
find_label (GtkWidget  *widget,
            const char *text,
            gboolean    exact)
{
  if (GTK_IS_LABEL (widget))
    {
      const char *t = gtk_label_get_text (GTK_LABEL (widget));
      if (exact ? g_str_equal (t, text) : strstr (t, text) != NULL)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label (c, text, exact);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The spin button of the GPUs row, or NULL when the form has none. */
static GtkWidget *
find_gpus_spin (GtkWidget *widget)
{
  if (GTK_IS_SPIN_BUTTON (widget) && g_str_equal (gtk_widget_get_name (widget), "train.gpus"))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_gpus_spin (c);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
has_gpus_override (VbExperimentsPage *page)
{
  g_auto (GStrv) overrides = vb_experiments_page_dup_overrides (page);
  for (guint i = 0; overrides[i] != NULL; i++)
    if (g_str_has_prefix (overrides[i], "train.gpus="))
      return TRUE;
  return FALSE;
}

/* With GPUs: CUDA offers the row; a batch that does not split is flagged under it and
 * keeps Run insensitive; a good one gives the override; the CPU takes it back to 0. */
static void
check_gpus_offered (VbExperimentsPage *page,
                    GtkWidget         *spin,
                    int                n_gpus)
{
  GtkWidget *cuda = find_toggle (GTK_WIDGET (page), "CUDA");
  GtkWidget *message = vb_experiments_page_get_field_message (page, "train.gpus");
  int gpus = MIN (n_gpus, 2);

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find_toggle (GTK_WIDGET (page), "CPU")), TRUE);
  g_assert_false (gtk_widget_get_sensitive (spin));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (spin), "Choose the CUDA device"));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (cuda), TRUE);
  g_assert_true (gtk_widget_get_sensitive (spin));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), gpus);
  g_autofree char *expected = g_strdup_printf ("--set train.gpus=%d", gpus);
  g_assert_nonnull (strstr (vb_experiments_page_get_command (page), expected));
  g_assert_null (vb_experiments_page_dup_problems (page));
  if (gpus == 2)
    {
      vb_experiments_page_set_field (page, "train.batch_size", "127");
      g_assert_true (gtk_widget_get_visible (message));
      g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (message)), "multiple of 2"));
      g_assert_false (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
      g_assert_false (has_gpus_override (page));
      vb_experiments_page_set_field (page, "train.batch_size", "128");
      g_assert_false (gtk_widget_get_visible (message));
    }
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find_toggle (GTK_WIDGET (page), "CPU")), TRUE);
  g_assert_false (gtk_widget_get_sensitive (spin));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)), ==, 0);
  g_assert_false (has_gpus_override (page));
}

static void
test_gpus (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("gpus.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  g_autoptr (GError) error = NULL;
  int n_gpus = 0;

  while (n_gpus < 16 && vb_device_gpu_ops (n_gpus, n_gpus == 0 ? &error : NULL) != NULL)
    n_gpus++;
  g_assert_true (vb_experiments_page_select_preset (page, "ss2d-directions"));
  GtkWidget *spin = find_gpus_spin (GTK_WIDGET (page));
  g_assert_nonnull (spin);
  g_assert_nonnull (find_label (GTK_WIDGET (page), GPUS_TITLE, TRUE));
  g_assert_nonnull (find_label (GTK_WIDGET (page), "gradients are averaged through NCCL", FALSE));
  GtkWidget *message = vb_experiments_page_get_field_message (page, "train.gpus");
  g_assert_nonnull (message);
  g_assert_false (gtk_widget_get_visible (message));

  if (n_gpus == 0)
    {
      /* no GPU (or no CUDA in this build): shown, not offered, and the row gives the
       * engine's reason, under it and in its tooltip */
      const char *why = error->message;
      if (g_str_has_prefix (why, "device cuda: "))
        why += strlen ("device cuda: ");
      g_test_message ("GPUs are not offered: %s", why);
      g_assert_false (gtk_widget_get_sensitive (spin));
      g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)), ==, 0);
      g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (spin), why));
      GtkWidget *note = find_label (GTK_WIDGET (page), "Needs a CUDA GPU: ", FALSE);
      g_assert_nonnull (note);
      g_assert_true (gtk_widget_is_visible (note));
      g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (note)), why));
      /* nothing to say about it: no override, no problem, Run offered */
      g_assert_false (has_gpus_override (page));
      g_assert_null (vb_experiments_page_dup_problems (page));
      g_assert_true (gtk_widget_get_sensitive (vb_experiments_page_get_run_button (page)));
    }
  else
    {
      g_test_message ("GPUs offered: %d", n_gpus);
      check_gpus_offered (page, spin, n_gpus);
    }

  /* the Training section as it looks here */
  GtkWidget *heading = find_label (GTK_WIDGET (page), "Training", TRUE);
  g_assert_nonnull (heading);
  vb_ui_test_save_screenshot (GTK_WINDOW (window), gtk_widget_get_next_sibling (heading), 0, 0,
                              "experiments-form-gpus.png");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* What the form submits for a chosen GPU count, whatever this machine has: the code the
 * row's value goes through (the batch check, then the override) with forced values. */
static void
test_gpus_plan (void)
{
  g_autofree char *ss2d_path = g_build_filename (vb_ui_test_presets_dir (), "ss2d-directions.json", NULL);
  g_autofree char *tiny_path = g_build_filename (vb_ui_test_presets_dir (), "tiny-one.json", NULL);
  g_autoptr (VbPreset) ss2d = vb_preset_load (ss2d_path, NULL);
  g_autoptr (VbPreset) tiny = vb_preset_load (tiny_path, NULL);
  g_assert_nonnull (ss2d);
  g_assert_nonnull (tiny);
  g_assert_true (vb_experiments_plan_has_gpus (ss2d));
  g_assert_false (vb_experiments_plan_has_gpus (tiny));

  /* two GPUs, a batch of 128: a --set pair (the preset has the field) */
  g_auto (VbExperimentsPlan) plan = { 0 };
  vb_experiments_plan_init (&plan);
  g_assert_null (vb_experiments_plan_add_gpus (&plan, ss2d, 2, 128));
  g_assert_cmpuint (plan.problems->len, ==, 0);
  g_assert_cmpuint (plan.edits->len, ==, 0);
  g_assert_cmpuint (plan.overrides->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (plan.overrides, 0), ==, "train.gpus=2");
  g_autofree char *cmd = vb_experiments_plan_command ("ss2d-directions", NULL, plan.overrides);
  g_assert_cmpstr (cmd, ==, "visionbench-cli run ss2d-directions --set train.gpus=2");

  /* one device is the preset's 0: nothing to say */
  g_auto (VbExperimentsPlan) one = { 0 };
  vb_experiments_plan_init (&one);
  g_assert_null (vb_experiments_plan_add_gpus (&one, ss2d, 0, 127));
  g_assert_cmpuint (one.overrides->len + one.problems->len + one.edits->len, ==, 0);

  /* 127 does not split over 2: a problem (the one shown under the row), no override */
  g_auto (VbExperimentsPlan) odd = { 0 };
  vb_experiments_plan_init (&odd);
  const char *says = vb_experiments_plan_add_gpus (&odd, ss2d, 2, 127);
  g_assert_nonnull (says);
  g_assert_nonnull (strstr (says, "multiple of 2"));
  g_assert_cmpuint (odd.problems->len, ==, 1);
  g_assert_cmpuint (odd.overrides->len, ==, 0);

  /* a preset without the field: no data parallel, no edited preset either */
  g_auto (VbExperimentsPlan) none = { 0 };
  vb_experiments_plan_init (&none);
  g_assert_null (vb_experiments_plan_add_gpus (&none, tiny, 2, 8));
  g_assert_cmpuint (none.overrides->len + none.problems->len + none.edits->len, ==, 0);
}

/* Only VMamba trains data parallel: no GPUs row in the other forms. */
static void
test_gpus_hidden (void)
{
  /* here, not in the fixtures: the other cases' pages keep their two cards */
  vb_ui_test_copy_presets ("projector-study.json");
  vb_ui_test_copy_presets ("clip-profile.json");
  VbSession *session;
  VbWindow *window = vb_ui_test_new_exact_window ("gpus-hidden.db", 1280, 800, &session);
  VbExperimentsPage *page = vb_window_get_experiments_page (window);
  static const char *const presets[] = { "projector-study", "clip-profile", "tiny-one" };

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_test_message ("preset %s", presets[i]);
      g_assert_true (vb_experiments_page_select_preset (page, presets[i]));
      g_assert_null (find_gpus_spin (GTK_WIDGET (page)));
      g_assert_null (find_label (GTK_WIDGET (page), GPUS_TITLE, TRUE));
      g_assert_null (vb_experiments_page_get_field_message (page, "train.gpus"));
      g_assert_false (has_gpus_override (page));
      g_assert_null (strstr (vb_experiments_page_get_command (page), "train.gpus"));
    }
  /* and back in a VMamba form that has it */
  g_assert_true (vb_experiments_page_select_preset (page, "ss2d-directions"));
  g_assert_nonnull (find_gpus_spin (GTK_WIDGET (page)));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/experiments-form/invalid", test_invalid_values);
  g_test_add_func ("/vb/ui/experiments-form/command", test_command);
  g_test_add_func ("/vb/ui/experiments-form/device", test_device);
  g_test_add_func ("/vb/ui/experiments-form/check-dataset", test_check_dataset);
  g_test_add_func ("/vb/ui/experiments-form/queue-and-clone", test_queue_and_clone);
  g_test_add_func ("/vb/ui/experiments-form/gpus", test_gpus);
  g_test_add_func ("/vb/ui/experiments-form/gpus-plan", test_gpus_plan);
  g_test_add_func ("/vb/ui/experiments-form/gpus-hidden", test_gpus_hidden);
  return vb_ui_test_run ();
}
