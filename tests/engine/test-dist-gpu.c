/* Data-parallel training through NCCL on the GPU machine (skipped without a GPU or NCCL;
 * the two-GPU tests skip on one GPU): a world of one through the NCCL path is bit for bit
 * the one-device run; two GPUs, each with half of every batch, train the same model as
 * one GPU with the whole batch, to the rounding of a different summation order; the
 * data-parallel bench reports the world's throughput. The data is a small IDX set written
 * here (the device machine has no Debian dataset). */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-checkpoint.h"
#include "vb-bench.h"
#include "vb-device.h"
#include "vb-engine-test.h"
#include "vb-error.h"
#include "vb-safetensors.h"
#include "vb-trainer.h"

#define N_TRAIN 512
#define N_TEST  128

/* class c: a bright bar at row 2c + noise, so a few steps learn something */
static void
write_idx (const char *dir, const char *prefix, guint32 n)
{
  g_autofree char *img_path = g_strdup_printf ("%s/%s-images-idx3-ubyte", dir, prefix);
  g_autofree char *lab_path = g_strdup_printf ("%s/%s-labels-idx1-ubyte", dir, prefix);
  GByteArray *img = g_byte_array_new (), *lab = g_byte_array_new ();
  guint8 head_img[16] = { 0, 0, 8, 3, n >> 24, n >> 16, n >> 8, n, 0, 0, 0, 28, 0, 0, 0, 28 };
  guint8 head_lab[8] = { 0, 0, 8, 1, n >> 24, n >> 16, n >> 8, n };
  g_byte_array_append (img, head_img, 16);
  g_byte_array_append (lab, head_lab, 8);
  VbRng rng;
  vb_rng_init (&rng, n);
  for (guint32 i = 0; i < n; i++)
    {
      guint8 c = (guint8) (i % 10), px[28 * 28];
      for (int p = 0; p < 28 * 28; p++)
        px[p] = (guint8) (vb_rng_below (&rng, 60) + (p / 28 / 2 == c ? 180 : 0));
      g_byte_array_append (img, px, sizeof px);
      g_byte_array_append (lab, &c, 1);
    }
  g_assert_true (g_file_set_contents (img_path, (char *) img->data, img->len, NULL));
  g_assert_true (g_file_set_contents (lab_path, (char *) lab->data, lab->len, NULL));
  g_byte_array_unref (img);
  g_byte_array_unref (lab);
}

static char *data_dir;

static char *
config_json (int gpus, const char *precision)
{
  return g_strdup_printf (
    "{\"run_name\": \"dp\", \"device\": \"cuda\","
    " \"model\": {\"dims\": 16, \"depths\": [1, 2], \"scan\": \"4dir\", \"drop_path\": 0.2},"
    " \"data\": {\"dataset\": \"fashion-mnist\", \"path\": \"%s\", \"img_size\": 32,"
    "          \"workers\": 2, \"scale_min\": 0.5},"
    " \"train\": {\"epochs\": 2, \"batch_size\": 32, \"lr\": 0.003, \"warmup_epochs\": 0.2,"
    "           \"eval_batch_size\": 50, \"seed\": 5, \"precision\": \"%s\", \"gpus\": %d}}",
    data_dir, precision, gpus);
}

typedef struct {
  VbTrainResult result;
  GArray *losses;
  float *params;
  int64_t n;
} Trained;

static void
record_cb (const VbProgress *p, gpointer user_data)
{
  GArray *losses = user_data;
  if (g_str_equal (p->phase, "train") && p->step > (int64_t) losses->len)
    {
      double loss = p->loss;
      g_array_append_val (losses, loss);
    }
}

/* trains, and reads the checkpoint's parameters back */
static gboolean
train (int gpus, const char *precision, Trained *t, GError **error)
{
  g_autofree char *json = config_json (gpus, precision);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (vb_run_config_from_json (&cfg, json_node_get_object (json_parser_get_root (parser)),
                                          NULL));
  g_autofree char *ckpt = g_dir_make_tmp ("vb-dp-XXXXXX", NULL);
  t->losses = g_array_new (FALSE, FALSE, sizeof (double));
  VbTrainHooks hooks = { record_cb, NULL, t->losses };
  if (!vb_train_run (&cfg, json, NULL, 0, ckpt, NULL, &hooks, &t->result, error))
    return FALSE;
  g_autoptr (VbTensorDict) dict = vb_safetensors_load (t->result.checkpoint_path, error);
  g_assert_nonnull (dict);
  /* every parameter (not the optimizer's moments), in the file's order, one flat array */
  GArray *all = g_array_new (FALSE, FALSE, sizeof (float));
  for (guint i = 0; i < vb_tensor_dict_size (dict); i++)
    {
      const VbTensorEntry *e = vb_tensor_dict_index (dict, i);
      if (!g_str_has_prefix (e->name, "optimizer."))
        g_array_append_vals (all, e->data, e->numel);
    }
  t->n = all->len;
  t->params = (float *) g_array_free (all, FALSE);
  g_remove (t->result.checkpoint_path);
  g_rmdir (ckpt);
  return TRUE;
}

static void
trained_clear (Trained *t)
{
  vb_train_result_clear (&t->result);
  g_clear_pointer (&t->losses, g_array_unref);
  g_clear_pointer (&t->params, g_free);
}

/* NULL after a skip: no GPU, fewer than `gpus` of them, or no NCCL */
static gboolean
have_gpus (int gpus)
{
  if (vb_engine_test_gpu_or_skip () == NULL)
    return FALSE;
  g_autoptr (GError) error = NULL;
  if (vb_device_gpu_ops (gpus - 1, &error) == NULL)
    {
      g_test_skip (error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
skip_without_nccl (GError *error)
{
  if (error != NULL && strstr (error->message, "NCCL") != NULL
      && (strstr (error->message, "cannot load") || strstr (error->message, "no NCCL")))
    {
      g_test_skip (error->message);
      return TRUE;
    }
  return FALSE;
}

/* a world of one: the same launches plus an average over one rank, which is exact */
static void
check_world_of_one (const char *precision)
{
  if (!have_gpus (1))
    return;
  Trained one = { 0 }, dp = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (train (0, precision, &one, &error));
  if (!train (1, precision, &dp, &error) && skip_without_nccl (error))
    return;
  g_assert_no_error (error);
  g_assert_cmpuint (dp.losses->len, ==, one.losses->len);
  g_assert_cmpmem (dp.losses->data, dp.losses->len * sizeof (double), one.losses->data,
                   one.losses->len * sizeof (double));
  g_assert_cmpint (dp.n, ==, one.n);
  g_assert_cmpmem (dp.params, dp.n * sizeof (float), one.params, one.n * sizeof (float));
  g_assert_cmpfloat (dp.result.top1, ==, one.result.top1);
  g_assert_cmpfloat (dp.result.val_loss, ==, one.result.val_loss);
  g_test_message ("%s, world of one: %u steps, loss %.4f → %.4f, top-1 %.1f, identical",
                  precision, one.losses->len, g_array_index (one.losses, double, 0),
                  g_array_index (one.losses, double, one.losses->len - 1), one.result.top1);
  trained_clear (&one);
  trained_clear (&dp);
}

/* two GPUs with 16 images each against one with 32: the same images, masks and updates;
 * only the order of the gradient's sums differs */
static void
check_two_gpus (const char *precision, double param_tol)
{
  if (!have_gpus (2))
    return;
  Trained one = { 0 }, dp = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (train (0, precision, &one, &error));
  if (!train (2, precision, &dp, &error) && skip_without_nccl (error))
    return;
  g_assert_no_error (error);
  g_assert_cmpuint (dp.losses->len, ==, one.losses->len);
  double worst = 0;
  for (guint i = 0; i < one.losses->len; i++)
    {
      double a = g_array_index (one.losses, double, i), b = g_array_index (dp.losses, double, i);
      worst = MAX (worst, fabs (a - b) / fabs (a));
    }
  double perr = vb_engine_test_rel_l2 (dp.params, one.params, one.n);
  g_test_message ("%s, two GPUs vs one: %u steps, worst loss difference %.2e, parameters %.2e, "
                  "top-1 %.1f vs %.1f, validation loss %.5f vs %.5f", precision,
                  one.losses->len, worst, perr, dp.result.top1, one.result.top1,
                  dp.result.val_loss, one.result.val_loss);
  g_assert_cmpfloat (worst, <, 1e-3);
  g_assert_cmpfloat (perr, <, param_tol);
  g_assert_cmpfloat (fabs (dp.result.val_loss - one.result.val_loss), <,
                     1e-2 * one.result.val_loss);
  g_assert_cmpfloat (fabs (dp.result.top1 - one.result.top1), <=, 2.0);
  /* the world's throughput counts both GPUs' images */
  g_assert_cmpfloat (dp.result.train_img_per_s, >, 0);
  trained_clear (&one);
  trained_clear (&dp);
}

/* A rank that fails while the other goes on: rank 0 (the rank that hears the job's cancel)
 * stops before its `at`-th step. The world must stop with rank 0's error, whatever rank 1
 * was doing: before the first step, rank 1 goes on into its own, whose first launches
 * grow the scratch buffer with a cudaFree that waits for the collectives queued before
 * it, which rank 0 never joins (the abort of the whole process's world frees it). */
static gboolean
stop_at (gpointer data)
{
  int *calls_left = data;
  return (*calls_left)-- <= 0;
}

static void
check_failed_rank (int at)
{
  if (!have_gpus (2))
    return;
  g_autofree char *json = config_json (2, "fp32");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_auto (VbRunConfig) cfg = { 0 };
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (vb_run_config_from_json (&cfg, root, NULL));
  int calls_left = at;
  VbTrainHooks hooks = { NULL, stop_at, &calls_left };
  g_auto (VbTrainResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = vb_train_run (&cfg, json, NULL, 0, NULL, NULL, &hooks, &result, &error);
  double took = (g_get_monotonic_time () - t0) / 1e6;
  if (!ok && skip_without_nccl (error))
    return;
  g_assert_false (ok);
  g_test_message ("rank 0 failing before its step %d: the run stopped after %.1f s: %s", at,
                  took, error->message);
  /* the failing rank's error with its code, not rank 1's "stopped by another rank" */
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED);
  g_assert_true (g_str_has_prefix (error->message, "rank 0 of 2 (GPU 0): "));
  g_assert_cmpfloat (took, <, 60);
}

static void test_failed_rank_first_step (void) { check_failed_rank (0); }
static void test_failed_rank_mid_run (void) { check_failed_rank (5); }

static void test_world_of_one_fp32 (void) { check_world_of_one ("fp32"); }
static void test_world_of_one_bf16 (void) { check_world_of_one ("bf16"); }
static void test_two_gpus_fp32 (void) { check_two_gpus ("fp32", 1e-4); }
static void test_two_gpus_bf16 (void) { check_two_gpus ("bf16", 1e-2); }

static void
test_bench (void)
{
  int gpus = vb_device_gpu_ops (1, NULL) != NULL ? 2 : 1;
  if (!have_gpus (1))
    return;
  static const int depths[] = { 1, 2 };
  VbVmambaConfig cfg;
  vb_vmamba_config_scaled (&cfg, 16, depths, 2, 10);
  VbBenchProtocol p = { 8, 32, 1, 3, 1, TRUE, FALSE, "cuda", "bf16", gpus };
  g_auto (VbBenchResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  if (!vb_bench_run (&cfg, &p, &r, &error) && skip_without_nccl (error))
    return;
  g_assert_no_error (error);
  g_assert_cmpint (r.gpus, ==, gpus);
  g_assert_cmpfloat (r.img_per_s, ==, gpus * 8 / r.median_s);
  g_assert_cmpfloat (r.per_gpu_img_per_s, >, 0);
  g_autofree char *card = vb_bench_protocol_json (&p, &r);
  g_assert_nonnull (strstr (card, "\"batch_is\": \"per GPU\""));
  g_test_message ("bench on %d GPU%s: %.0f img/s (%.0f per GPU)", gpus, gpus > 1 ? "s" : "",
                  r.img_per_s, r.per_gpu_img_per_s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  data_dir = g_dir_make_tmp ("vb-dp-data-XXXXXX", NULL);
  write_idx (data_dir, "train", N_TRAIN);
  write_idx (data_dir, "t10k", N_TEST);
  g_test_add_func ("/vb/dist-gpu/world-of-one-fp32", test_world_of_one_fp32);
  g_test_add_func ("/vb/dist-gpu/world-of-one-bf16", test_world_of_one_bf16);
  g_test_add_func ("/vb/dist-gpu/two-gpus-fp32", test_two_gpus_fp32);
  g_test_add_func ("/vb/dist-gpu/two-gpus-bf16", test_two_gpus_bf16);
  g_test_add_func ("/vb/dist-gpu/bench", test_bench);
  g_test_add_func ("/vb/dist-gpu/failed-rank-first-step", test_failed_rank_first_step);
  g_test_add_func ("/vb/dist-gpu/failed-rank-mid-run", test_failed_rank_mid_run);
  int rc = g_test_run ();
  g_autoptr (GFile) dir = g_file_new_for_path (data_dir);
  for (const char *const *f = (const char *const[]) { "train-images-idx3-ubyte",
                                                      "train-labels-idx1-ubyte",
                                                      "t10k-images-idx3-ubyte",
                                                      "t10k-labels-idx1-ubyte", NULL }; *f; f++)
    {
      g_autofree char *path = g_build_filename (data_dir, *f, NULL);
      g_remove (path);
    }
  g_rmdir (data_dir);
  return rc;
}
