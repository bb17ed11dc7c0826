/* The Runs page's "GPUs" section, on a real database: a finished data-parallel run with
 * "train gpu 1" and "train gpu 0" rows (written in that order) shows a two-row table in
 * rank order with the cards' GPU, img/s and memory in GiB, and the caption "64 images
 * per GPU, 128 per step"; a run without such rows hides the section; an epoch's
 * replacement of a row (vb_store_set_throughput) replaces the table row rather than
 * adding one; a run whose cards are garbage shows "–" in their cells. The section on its
 * own: every kind of broken card (not JSON, not an object, mistyped, negative, NULL) and
 * non-finite rates give "–", never a warning or a crash; kinds that are not
 * "train gpu R" are left out; one broken card does not hide another's batch sizes.
 *
 * Screenshots: runs-gpus.png (the window, 1280×800, the two-GPU run selected) and
 * runs-gpus-section.png (the section alone) go to $VB_ARTIFACT_DIR (default: this build
 * folder). */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-run-log.h"
#include "vb-runs-gpus.h"
#include "vb-ui-test.h"
#include "vb-window.h"

#define CARD_FORMAT \
  "{\"protocol\": \"visionbench-run\", \"mode\": \"train step, one rank of a data-parallel run\"," \
  " \"rank\": %d, \"gpu\": %d, \"memory_bytes\": %s," \
  " \"memory\": \"device memory in use (cudaMemGetInfo), whole GPU\"," \
  " \"statistic\": \"median of the epoch's timed steps\", \"gpus\": 2, \"per_gpu_batch\": 64," \
  " \"global_batch\": 128, \"data_parallel\": \"NCCL all-reduce of gradients\"}"

/* ---- helpers ------------------------------------------------------------------------------- */

static VbRunsGpus *
find_gpus (GtkWidget *widget)
{
  if (VB_IS_RUNS_GPUS (widget))
    return VB_RUNS_GPUS (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      VbRunsGpus *found = find_gpus (c);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gint64
finished_run (VbStore    *store,
              const char *name)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  VbRunRecord fields = {
    .name = (char *) name, .preset = (char *) "dp-test", .status = VB_RUN_QUEUED,
    .config_json = (char *) "{\"train\": {\"epochs\": 2}}", .seed = 1, .device = (char *) "cuda",
  };

  g_assert_true (vb_store_create_run (store, &fields, &id, &error));
  g_assert_true (vb_store_set_status (store, id, VB_RUN_RUNNING, NULL, &error));
  /* curves, so the screenshot shows the section among real-looking charts */
  for (int step = 1; step <= 40; step++)
    {
      VbStepMetric s = { .step = step, .epoch = step / 20.0, .loss = 2.3 * exp (-step / 15.0) + 0.3,
                         .lr = 1e-3, .grad_norm = NAN, .img_per_s = 2790 + step % 7,
                         .wall_s = step * 0.5 };
      g_assert_true (vb_store_add_step_metric (store, id, &s, &error));
    }
  for (int epoch = 1; epoch <= 2; epoch++)
    {
      VbEpochMetric m = { .epoch = epoch, .train_loss = 1.4 / epoch, .val_loss = 1.2 / epoch,
                          .val_top1 = 55.0 + 6.5 * epoch, .val_top5 = 90.0 + 2.5 * epoch,
                          .img_per_s_train = 2800, .img_per_s_eval = 5100, .wall_s = 10.0 * epoch };
      g_assert_true (vb_store_add_epoch_metric (store, id, &m, &error));
    }
  g_assert_true (vb_store_flush (store, &error));
  g_assert_true (vb_store_add_throughput (store, id, "eval", 5100.0, "{\"batch\": 256}", &error));
  g_assert_no_error (error);
  return id;
}

static void
set_gpu_row (VbStore *store,
             gint64   run_id,
             int      rank,
             double   img_per_s,
             gint64   memory_bytes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kind = g_strdup_printf ("train gpu %d", rank);
  g_autofree char *bytes = g_strdup_printf ("%" G_GINT64_FORMAT, memory_bytes);
  g_autofree char *card = g_strdup_printf (CARD_FORMAT, rank, rank, bytes);

  g_assert_true (vb_store_set_throughput (store, run_id, kind, img_per_s, card, &error));
  g_assert_no_error (error);
}

static void
select_run (VbRunsPage *runs,
            gint64      run_id)
{
  g_assert_true (vb_runs_page_select_run (runs, run_id));
  vb_ui_test_spin (0.2);
}

static void
assert_cell (VbRunsGpus *gpus,
             guint       row,
             const char *column,
             const char *want)
{
  g_autofree char *got = vb_runs_gpus_dup_cell (gpus, row, column);
  g_assert_cmpstr (got, ==, want);
}

/* ---- the page ------------------------------------------------------------------------------ */

static void
check_two_gpus (VbRunsGpus *gpus,
                const char *rate_1)
{
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gpus)));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (gpus)));
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, 2);
  /* rank order, though rank 1 was written first */
  assert_cell (gpus, 0, "Rank", "0");
  assert_cell (gpus, 1, "Rank", "1");
  assert_cell (gpus, 0, "GPU", "0");
  assert_cell (gpus, 1, "GPU", "1");
  assert_cell (gpus, 0, "img/s", "1412.4");
  assert_cell (gpus, 1, "img/s", rate_1);
  assert_cell (gpus, 0, "Memory (GiB)", "18.9");   /* 20293894144 B */
  assert_cell (gpus, 1, "Memory (GiB)", "20.0");
  g_assert_null (vb_runs_gpus_dup_cell (gpus, 2, "Rank"));
  g_assert_null (vb_runs_gpus_dup_cell (gpus, 0, "Power"));
  g_autofree char *text = vb_runs_gpus_dup_text (gpus);
  g_assert_nonnull (strstr (text, "1412"));
  g_assert_cmpstr (vb_runs_gpus_get_caption (gpus), ==, "64 images per GPU, 128 per step");
}

static void
test_page (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_window ("gpus.db", 1280, 800, &session);
  VbRunsPage *runs = vb_window_get_runs_page (window);
  VbStore *store = vb_session_get_store (session);
  g_autoptr (GError) error = NULL;

  gint64 plain = finished_run (store, "single GPU");
  g_assert_true (vb_store_add_throughput (store, plain, "train", 2800.0, "{\"batch\": 64}", &error));
  g_assert_true (vb_store_set_status (store, plain, VB_RUN_DONE, NULL, &error));
  gint64 garbage = finished_run (store, "garbage cards");
  g_assert_true (vb_store_set_throughput (store, garbage, "train gpu 0", 1000.0, "{not json",
                                          &error));
  g_assert_true (vb_store_set_throughput (store, garbage, "train gpu 1", 999.0,
                                          "{\"gpu\": \"one\", \"memory_bytes\": [1], "
                                          "\"per_gpu_batch\": \"64\", \"global_batch\": null}",
                                          &error));
  g_assert_true (vb_store_set_status (store, garbage, VB_RUN_DONE, NULL, &error));
  gint64 dp = finished_run (store, "data-parallel, 2 GPUs");
  set_gpu_row (store, dp, 1, 1398.0, G_GINT64_CONSTANT (21474836480));
  set_gpu_row (store, dp, 0, 1412.4, G_GINT64_CONSTANT (20293894144));
  g_assert_true (vb_store_set_status (store, dp, VB_RUN_DONE, NULL, &error));
  g_assert_no_error (error);

  vb_window_set_page (window, "runs");
  vb_runs_page_refresh (runs);
  VbRunsGpus *gpus = find_gpus (GTK_WIDGET (runs));
  g_assert_nonnull (gpus);

  select_run (runs, dp);
  check_two_gpus (gpus, "1398.0");
  vb_ui_test_save_window_screenshot (window, "runs-gpus.png");
  vb_ui_test_save_screenshot (GTK_WINDOW (window), GTK_WIDGET (gpus), 0, 0, "runs-gpus-section.png");

  /* no "train gpu R" rows: no section */
  select_run (runs, plain);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gpus)));

  /* the next epoch replaces rank 1's row: still two rows, the new figure */
  set_gpu_row (store, dp, 1, 1405.5, G_GINT64_CONSTANT (21474836480));
  select_run (runs, dp);
  check_two_gpus (gpus, "1405.5");

  /* garbage cards: dashes, the rates still shown */
  select_run (runs, garbage);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gpus)));
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, 2);
  for (guint row = 0; row < 2; row++)
    {
      assert_cell (gpus, row, "GPU", "–");
      assert_cell (gpus, row, "Memory (GiB)", "–");
    }
  assert_cell (gpus, 0, "img/s", "1000.0");
  g_assert_cmpstr (vb_runs_gpus_get_caption (gpus), ==, "– images per GPU, – per step");
  vb_ui_test_save_screenshot (GTK_WINDOW (window), GTK_WIDGET (gpus), 0, 0,
                              "runs-gpus-garbage.png");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- the section on its own ---------------------------------------------------------------- */

static void
add_record (GPtrArray  *rows,
            const char *kind,
            double      img_per_s,
            const char *card)
{
  VbThroughputRecord *t = g_new0 (VbThroughputRecord, 1);
  t->id = rows->len + 1;
  t->kind = g_strdup (kind);
  t->img_per_s = img_per_s;
  t->protocol_json = g_strdup (card);
  g_ptr_array_add (rows, t);
}

static void
test_garbage_cards (void)
{
  static const char *const cards[] = {
    NULL, "", "{not json", "[1, 2]", "\"a string\"", "null", "{}",
    "{\"gpu\": \"one\", \"memory_bytes\": \"lots\", \"per_gpu_batch\": 64.5, \"global_batch\": -1}",
    "{\"gpu\": true, \"memory_bytes\": null, \"per_gpu_batch\": [64], \"global_batch\": {}}",
    "{\"gpu\": -1, \"memory_bytes\": -5, \"gpu\": 1.5}",
    "{\"gpu\": {\"id\": 1}, \"memory_bytes\": [1], \"per_gpu_batch\": null}",
  };
  static const double rates[] = { NAN, INFINITY, -1 };
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_throughput_record_free);
  VbRunsGpus *gpus = VB_RUNS_GPUS (g_object_ref_sink (vb_runs_gpus_new ()));

  /* not GPU rows: left out */
  add_record (rows, NULL, 1, "{}");
  add_record (rows, "eval", 1, "{}");
  add_record (rows, "train gpu", 1, "{}");
  add_record (rows, "train gpu x", 1, "{}");
  add_record (rows, "train gpu -1", 1, "{}");
  add_record (rows, "train gpu 1 ", 1, "{}");
  add_record (rows, "train gpu 99999999999999999999", 1, "{}");
  vb_runs_gpus_set_throughput (gpus, rows);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gpus)));
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cards); i++)
    {
      g_autofree char *kind = g_strdup_printf ("train gpu %u", i);
      add_record (rows, kind, rates[i % G_N_ELEMENTS (rates)], cards[i]);
    }
  vb_runs_gpus_set_throughput (gpus, rows);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gpus)));
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, G_N_ELEMENTS (cards));
  for (guint row = 0; row < G_N_ELEMENTS (cards); row++)
    {
      g_autofree char *rank = g_strdup_printf ("%u", row);
      assert_cell (gpus, row, "Rank", rank);
      assert_cell (gpus, row, "GPU", "–");
      assert_cell (gpus, row, "img/s", "–");
      assert_cell (gpus, row, "Memory (GiB)", "–");
    }
  g_assert_cmpstr (vb_runs_gpus_get_caption (gpus), ==, "– images per GPU, – per step");

  /* one good card among broken ones gives the batch sizes; a rank written twice keeps
   * the later figure */
  add_record (rows, "train gpu 3", 1234.0,
              "{\"gpu\": 3, \"memory_bytes\": 1073741824.0, \"per_gpu_batch\": 32, \"global_batch\": 352}");
  vb_runs_gpus_set_throughput (gpus, rows);
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, G_N_ELEMENTS (cards));
  assert_cell (gpus, 3, "GPU", "3");
  assert_cell (gpus, 3, "img/s", "1234.0");
  assert_cell (gpus, 3, "Memory (GiB)", "1.0");
  g_assert_cmpstr (vb_runs_gpus_get_caption (gpus), ==, "32 images per GPU, 352 per step");

  /* none at all */
  vb_runs_gpus_set_throughput (gpus, NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gpus)));
  g_assert_cmpuint (vb_runs_gpus_get_n_rows (gpus), ==, 0);
  g_assert_finalize_object (gpus);
}

/* The run log says what each throughput line is: a GPU's share (its GPU, memory and
 * per-GPU batch) and, on the run's own card, how many GPUs it spread over */
static void
test_run_log (void)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_throughput_record_free);
  add_record (rows, "train", 5600.0,
              "{\"batch\": 128, \"threads\": 2, \"precision\": \"bf16\", \"device\": \"cuda\", "
              "\"gpus\": 2, \"per_gpu_batch\": 64, \"global_batch\": 128}");
  add_record (rows, "train gpu 1", 1398.0,
              "{\"rank\": 1, \"gpu\": 1, \"memory_bytes\": 21474836480, \"per_gpu_batch\": 64}");
  add_record (rows, "train gpu 0", 1400.0, "{\"rank\": \"zero\", \"gpu\": [0]}");
  VbRunRecord r = { .id = 3, .name = (char *) "dp", .status = VB_RUN_DONE };
  g_autofree char *log = vb_run_log_build (&r, NULL, NULL, rows, 0);
  g_test_message ("%s", log);
  g_assert_nonnull (strstr (log, "throughput train: 5600.0 img/s (batch 128, threads 2, bf16, "
                                 "cuda, data parallel on 2 GPUs)"));
  g_assert_nonnull (strstr (log, "throughput train gpu 1: 1398.0 img/s (GPU 1, 20.0 GiB, 64 "
                                 "images a step)"));
  /* a mistyped card: no crash, nothing invented */
  g_assert_nonnull (strstr (log, "throughput train gpu 0: 1400.0 img/s (GPU -1, 0.0 GiB, 0 "
                                 "images a step)"));
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  vb_ui_test_make_dirs ("vb-ui-gpus-XXXXXX", 64, 16);

  g_test_add_func ("/vb/ui/runs-gpus/page", test_page);
  g_test_add_func ("/vb/ui/runs-gpus/garbage-cards", test_garbage_cards);
  g_test_add_func ("/vb/ui/runs-gpus/run-log", test_run_log);
  return vb_ui_test_run ();
}
