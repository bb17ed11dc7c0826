/* test-projector-study.c: the projector study end to end on real files: CIFAR-10-format
 * batches written by the test (vb-test-cifar.h: class-coloured blocks on noise),
 * a tiny CLIP tower with random weights, the feature cache (written once, reused,
 * rebuilt when corrupt or mismatched), two projectors trained through the runner into a
 * real SQLite store, the runtime protocol card, the compare table and the
 * random-weights notice, cancel, the run config, the §4.6 ridge and shuffled-pair
 * controls and §4.4 Mode B, §4.5's LoRA on the Linear trained on classes 0–4, the eigen
 * solver and LowRank's closed-form controls (§4.6 reduced-rank regression, §4.4 PCA). */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-engine-test.h"
#include "vb-compare.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-feature-cache.h"
#include "vb-preset.h"
#include "vb-projector-study-private.h"
#include "vb-projector-study.h"
#include "vb-rng.h"
#include "vb-run-config.h"
#include "vb-runner.h"
#include "vb-test-cifar.h"
#include "vb-test-util.h"

#define TRAIN_PER_FILE 50     /* 5 files: 25 images a class */
#define TEST_RECORDS   100    /* 10 a class */

static char *tmp_dir;

static char *
make_cifar (void)
{
  char *dir = g_build_filename (tmp_dir, "cifar", NULL);
  vb_test_make_cifar (dir, TRAIN_PER_FILE, TEST_RECORDS);
  return dir;
}

static const VbFeatureEncoder tiny_encoder = { NULL, 0, 56, 2, 32, 2, 8 };

static void
assert_same_features (const VbFeatureSet *a, const VbFeatureSet *b)
{
  g_assert_cmpint (a->n, ==, b->n);
  g_assert_cmpint (a->tokens, ==, b->tokens);
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpmem (a->x, (gsize) a->n * a->tokens * a->width * 2,
                   b->x, (gsize) b->n * b->tokens * b->width * 2);
  g_assert_cmpmem (a->y, (gsize) a->n * a->width * 4, b->y, (gsize) b->n * b->width * 4);
}

static void
test_cache (void)
{
  g_autofree char *dir = make_cifar ();
  g_autoptr (GError) error = NULL;
  g_auto (VbStudySubset) subset = { 0 };
  g_assert_true (vb_study_subset_load (&subset, dir, 20, 5, 10, &error));
  g_assert_no_error (error);
  g_assert_cmpint (subset.count[VB_SPLIT_TRAIN], ==, 200);
  g_assert_cmpint (subset.count[VB_SPLIT_VAL], ==, 50);
  g_assert_cmpint (subset.count[VB_SPLIT_TEST], ==, 100);
  /* §4.1: the first 20 of class 0 in file order are records 0, 10, …, 190 */
  g_assert_cmpint (g_array_index (subset.index, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (subset.index, int, 1), ==, 1);
  g_assert_cmpint (g_array_index (subset.index, int, subset.start[VB_SPLIT_VAL]), ==, 200);

  guint before = vb_feature_cache_n_extractions ();
  g_auto (VbFeatureSet) first = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &first, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (first.status, ==, "built");
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 1);
  g_assert_cmpint (first.n, ==, 350);
  g_assert_cmpint (first.tokens, ==, 16);
  g_assert_cmpint (first.width, ==, 32);
  g_assert_true (first.random_weights);
  g_autofree char *expected_dir = g_build_filename (g_get_user_cache_dir (), "visionbench",
                                                    "features", NULL);
  g_assert_true (g_str_has_prefix (first.path, expected_dir));

  /* a second get reads the file: no extraction */
  g_auto (VbFeatureSet) second = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &second, &error));
  g_assert_cmpstr (second.status, ==, "reused");
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 1);
  assert_same_features (&first, &second);

  /* one flipped byte in the middle of the features: detected and rebuilt, same content */
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (first.path, &contents, &len, NULL));
  contents[len / 2] ^= 0x40;
  g_autofree char *corrupt_path = g_strdup (first.path);
  g_assert_true (g_file_set_contents (corrupt_path, contents, (gssize) len, NULL));
  g_auto (VbFeatureSet) third = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &third, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (third.status, "rebuilt"));
  g_assert_nonnull (strstr (third.status, "checksum"));
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 2);
  assert_same_features (&second, &third);

  /* a truncated file too */
  g_assert_true (g_file_set_contents (corrupt_path, contents, (gssize) len - 100, NULL));
  g_auto (VbFeatureSet) fourth = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &fourth, &error));
  g_assert_true (g_str_has_prefix (fourth.status, "rebuilt"));
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 3);

  /* other weights (seed 1) name another file; a valid file of seed 0 put in its place
   * is refused by its header's keys, not trusted */
  VbFeatureEncoder other = tiny_encoder;
  other.seed = 1;
  g_auto (VbFeatureSet) fifth = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &other, NULL, &fifth, &error));
  g_assert_cmpstr (fifth.status, ==, "built");
  g_assert_cmpstr (fifth.path, !=, first.path);
  g_autofree char *good = NULL;
  g_assert_true (g_file_get_contents (first.path, &good, &len, NULL));
  g_assert_true (g_file_set_contents (fifth.path, good, (gssize) len, NULL));
  g_auto (VbFeatureSet) sixth = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &other, NULL, &sixth, &error));
  g_assert_nonnull (strstr (sixth.status, "keys do not match"));
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 5);
  assert_same_features (&fifth, &sixth);
}

/* ---- a study through the runner ---------------------------------------------------------- */

static char *
study_preset_with (const char *cifar, const char *projectors, const char *grid_extra)
{
  return g_strdup_printf (
    "{\"name\": \"study-test\", \"base\": {"
    " \"model\": {\"arch\": \"projector\", \"projector\": \"proj-linear\", \"clip_weights\": \"\","
    "   \"lora_base\": \"identity\","
    "   \"clip_seed\": 0, \"clip_layers\": 2, \"clip_width\": 32, \"clip_heads\": 2},"
    " \"data\": {\"dataset\": \"cifar10\", \"path\": \"%s\", \"img_size\": 56,"
    "   \"train_per_class\": 20, \"val_per_class\": 5, \"test_per_class\": 10},"
    " \"train\": {\"epochs\": 8, \"batch_size\": 16, \"lr\": 0.003, \"min_lr\": 0.0,"
    "   \"warmup_lr\": 0.0, \"warmup_epochs\": 0.3, \"weight_decay\": 0.0, \"clip_grad\": 1.0,"
    "   \"seed\": 0, \"eval_batch_size\": 32, \"threads\": 2, \"mode\": \"alignment\","
    "   \"shuffled_pairs\": false},"
    " \"runtime\": {\"inputs\": 20, \"warmup\": 1, \"timed\": 3, \"repeats\": 2},"
    " \"device\": \"cpu\"},"
    " \"grid\": {\"model.projector\": %s, \"train.seed\": [0]%s}}", cifar, projectors,
    grid_extra);
}

static char *
study_preset (const char *cifar, const char *projectors)
{
  return study_preset_with (cifar, projectors, "");
}

static double
mean_loss (GArray *steps, guint from, guint to)
{
  double s = 0;
  for (guint i = from; i < to; i++)
    s += g_array_index (steps, VbStepMetric, i).loss;
  return s / (to - from);
}

static void
test_run (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autofree char *json = study_preset (cifar, "[\"proj-linear\", \"proj-mlp\"]");
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (json, &error);
  g_assert_no_error (error);
  g_autofree char *db = g_build_filename (tmp_dir, "study", "runs.db", NULL);
  g_autoptr (VbStore) store = vb_store_open (db, &error);
  g_assert_no_error (error);

  guint before = vb_feature_cache_n_extractions ();
  g_autofree char *group = NULL;
  g_autoptr (GArray) ids = NULL;
  gboolean ok = vb_runner_run_preset (store, preset, NULL, &group, &ids, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (ids->len, ==, 2);
  /* both runs share one encoder pass: the second reads the cache */
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 1);

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, id, &error);
      g_assert_cmpint (rec->status, ==, VB_RUN_DONE);
      g_assert_cmpint (rec->params, >, 0);
      g_assert_nonnull (rec->dataset_fingerprint);

      /* 8 epochs of 13 steps; the loss goes down */
      g_autoptr (GArray) steps = vb_store_get_step_metrics (store, id, &error);
      g_assert_cmpuint (steps->len, ==, 8 * 13);
      double early = mean_loss (steps, 0, 13), late = mean_loss (steps, steps->len - 13,
                                                                 steps->len);
      g_test_message ("run %" G_GINT64_FORMAT ": loss first epoch %.4f, last %.4f", id, early,
                      late);
      g_assert_cmpfloat (late, <, 0.7 * early);
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, id, &error);
      g_assert_cmpuint (epochs->len, ==, 8);
      g_assert_true (isfinite (g_array_index (epochs, VbEpochMetric, 7).val_loss));

      /* the runtime with its §5 card */
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, id, &error);
      g_assert_cmpuint (tp->len, ==, 1);
      VbThroughputRecord *t = g_ptr_array_index (tp, 0);
      g_assert_cmpstr (t->kind, ==, "projector-forward");
      g_assert_cmpfloat (t->img_per_s, >, 0);
      for (const char *const *k = (const char *const[]) { "\"batch\":20", "\"precision\":\"fp32\"",
                                                          "\"threads\":2", "\"warmup_calls\":1",
                                                          "\"timed_calls\":3", "\"median_ms\"",
                                                          "\"tokens_per_input\":16", NULL };
           *k; k++)
        if (strstr (t->protocol_json, *k) == NULL)
          g_error ("protocol card lacks %s: %s", *k, t->protocol_json);

      /* the result: test loss, a proxy accuracy well above chance (10 %), the notice */
      g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, id, &error);
      g_assert_cmpuint (arts->len, ==, 1);
      VbArtifactRecord *a = g_ptr_array_index (arts, 0);
      g_assert_cmpstr (a->kind, ==, VB_PROJECTOR_RESULT_KIND);
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_file (parser, a->path, NULL));
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      JsonObject *test = json_object_get_object_member (root, "test");
      JsonObject *enc = json_object_get_object_member (root, "encoder");
      double top1 = json_object_get_double_member (test, "proxy_top1");
      g_test_message ("run %" G_GINT64_FORMAT ": test loss %.4f, proxy top-1 %.1f %% (true y "
                      "%.1f %%)", id, json_object_get_double_member (test, "loss"), top1,
                      json_object_get_double_member (test, "proxy_top1_true_y"));
      g_assert_cmpfloat (top1, >, 40.0);
      g_assert_true (json_object_get_boolean_member (enc, "random_weights"));
      g_assert_cmpstr (json_object_get_string_member (enc, "weights"), ==,
                       "random weights (seed 0)");
    }

  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_assert_no_error (error);
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  for (const char *const *k = (const char *const[]) { "Projector", "Test loss", "Proxy Top-1",
                                                      "Params (M)", "FLOPs (M)", "Runtime ms",
                                                      "proj-linear", "proj-mlp",
                                                      "random weights (seed 0)", "Notice", NULL };
       *k; k++)
    if (strstr (table, *k) == NULL)
      g_error ("compare lacks %s:\n%s", *k, table);
  g_assert_null (strstr (table, "Scan"));
  /* small encoder width 32: Linear 32·32 + 32 parameters, 1024 MACs a token */
  g_assert_nonnull (strstr (table, "0.00"));
  g_autofree char *csv = vb_compare_render (rows, 0, VB_TABLE_CSV);
  g_assert_true (g_str_has_prefix (csv, "Run,Projector,Seed,Test loss,"));
  g_assert_nonnull (strstr (csv, "random weights (seed 0)"));

  /* A result file damaged, truncated or hostile since (members of the wrong type) leaves
   * the row's metrics unknown, never a crash or a critical (warnings are fatal here). */
  g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, g_array_index (ids, gint64, 0),
                                                       NULL);
  const char *result = ((VbArtifactRecord *) g_ptr_array_index (arts, 0))->path;
  g_autofree char *good = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (result, &good, &len, NULL));
  const char *bad[] = {
    "not json at all",
    "[1, 2, 3]",
    "{\"test\": \"loss\", \"warning\": {\"x\": 1}, \"runtime\": [1],"
    " \"cost\": {\"macs_per_token\": \"many\"}, \"pca_control\": {\"rank\": 1e300}}",
  };
  for (guint i = 0; i <= G_N_ELEMENTS (bad); i++)
    {
      if (i < G_N_ELEMENTS (bad))
        g_assert_true (g_file_set_contents (result, bad[i], -1, NULL));
      else   /* the real file cut in half */
        g_assert_true (g_file_set_contents (result, good, (gssize) len / 2, NULL));
      g_autoptr (GPtrArray) again = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                     &error);
      g_assert_no_error (error);
      const VbCompareRow *r = g_ptr_array_index (again, 0);
      g_assert_true (isnan (r->test_loss) && isnan (r->runtime_ms) && isnan (r->macs_per_token));
      g_assert_cmpint (r->lowrank_rank, ==, 0);   /* 1e300 is no rank */
      g_autofree char *text = vb_compare_render (again, 0, VB_TABLE_TEXT);
      g_assert_nonnull (strstr (text, "—"));
    }
  g_assert_true (g_file_set_contents (result, good, (gssize) len, NULL));
}

/* ---- §4.6 controls and §4.4 Mode B ------------------------------------------------------- */

/* runs the preset into a store at tmp_dir/sub and returns its run ids */
static GArray *
run_study (const char *json, const char *sub, VbStore **store_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (json, &error);
  g_assert_no_error (error);
  g_autofree char *db = g_build_filename (tmp_dir, sub, "runs.db", NULL);
  VbStore *store = vb_store_open (db, &error);
  g_assert_no_error (error);
  GArray *ids = NULL;
  g_assert_true (vb_runner_run_preset (store, preset, NULL, NULL, &ids, &error));
  g_assert_no_error (error);
  *store_out = store;
  return ids;
}

/* ---- the study on the GPU ---------------------------------------------------------------- */

/* The same study asked of the GPU and of the CPU (Gated and LoRA: the gate kernel, the
 * adapter, the merge). The GPU run goes first with an encoder seed no other test uses,
 * so its encoder pass runs on the GPU and the CPU run reads the same cached features.
 * On a GPU the losses agree closely and the cards say cuda; without a usable one the
 * runner falls back to the CPU with a note and the two runs are the same bits. */
static void
test_device (void)
{
  if (!vb_device_cuda_built ())
    {
      g_test_skip ("this build has no CUDA backend");
      return;
    }
  g_autofree char *cifar = make_cifar ();
  g_autofree char *base = study_preset (cifar, "[\"proj-gated\", \"proj-lora\"]");
  g_autoptr (GString) json = g_string_new (base);
  g_assert_cmpuint (g_string_replace (json, "\"clip_seed\": 0", "\"clip_seed\": 5", 1), ==, 1);
  g_assert_cmpuint (g_string_replace (json, "\"epochs\": 8", "\"epochs\": 2", 1), ==, 1);
  g_autofree char *cpu_json = g_strdup (json->str);
  g_assert_cmpuint (g_string_replace (json, "\"device\": \"cpu\"", "\"device\": \"cuda\"", 1),
                    ==, 1);
  guint before = vb_feature_cache_n_extractions ();
  g_autoptr (VbStore) sg = NULL, sc = NULL;
  g_autoptr (GArray) ids_g = run_study (json->str, "device-gpu", &sg);
  g_autoptr (GArray) ids_c = run_study (cpu_json, "device-cpu", &sc);
  g_assert_cmpuint (vb_feature_cache_n_extractions (), ==, before + 1);
  gboolean gpu = vb_device_ops ("cuda", NULL) != NULL;
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < 2; i++)
    {
      gint64 ig = g_array_index (ids_g, gint64, i), ic = g_array_index (ids_c, gint64, i);
      g_autoptr (VbRunRecord) rg = vb_store_get_run (sg, ig, &error);
      g_autoptr (VbRunRecord) rc = vb_store_get_run (sc, ic, &error);
      g_assert_cmpint (rg->status, ==, VB_RUN_DONE);
      g_assert_cmpint (rc->status, ==, VB_RUN_DONE);
      g_autoptr (GArray) steps_g = vb_store_get_step_metrics (sg, ig, &error);
      g_autoptr (GArray) steps_c = vb_store_get_step_metrics (sc, ic, &error);
      g_assert_cmpuint (steps_g->len, ==, 2 * 13);
      g_assert_cmpuint (steps_c->len, ==, steps_g->len);
      double worst = 0;
      for (guint k = 0; k < steps_g->len; k++)
        {
          double a = g_array_index (steps_g, VbStepMetric, k).loss;
          double b = g_array_index (steps_c, VbStepMetric, k).loss;
          worst = MAX (worst, fabs (a - b) / MAX (fabs (b), 1e-6));
          if (!gpu)
            g_assert_cmpfloat (a, ==, b);
        }
      g_test_message ("run %u: step losses GPU vs CPU, worst relative difference %.3g", i, worst);
      g_assert_cmpfloat (worst, <=, 1e-3);
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (sg, ig, &error);
      g_assert_cmpuint (tp->len, >=, 1);
      const char *card = ((VbThroughputRecord *) g_ptr_array_index (tp, 0))->protocol_json;
      const char *want = gpu ? "\"device\":\"cuda\"" : "\"device\":\"cpu\"";
      if (strstr (card, want) == NULL)
        g_error ("protocol card lacks %s: %s", want, card);
      if (!gpu)
        {
          g_assert_cmpstr (rg->device, ==, "cpu");
          g_assert_nonnull (strstr (rg->config_json, "device_note"));
        }
      else
        g_assert_cmpstr (rg->device, ==, "cuda");
    }
}

static JsonObject *
load_result (VbStore *store, gint64 id, JsonParser *parser)
{
  g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, id, NULL);
  g_assert_cmpuint (arts->len, ==, 1);
  VbArtifactRecord *a = g_ptr_array_index (arts, 0);
  g_assert_true (json_parser_load_from_file (parser, a->path, NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

static double
member (JsonObject *root, const char *section, const char *name)
{
  return json_object_get_double_member (json_object_get_object_member (root, section), name);
}

/* ‖(XcᵀXc + λI)W − XcᵀYs‖ / ‖XcᵀYs‖, written out here apart from the engine's own */
static double
normal_equations_residual (const VbRidge *r, const float *x, const float *y, int n)
{
  int d = r->d;
  g_autofree double *g = g_new0 (double, (gsize) d * d);
  g_autofree double *rhs = g_new0 (double, (gsize) d * d);
  for (int i = 0; i < n; i++)
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++)
        {
          double xa = x[(gsize) i * d + a] - r->x_mean[a];
          g[(gsize) a * d + b] += xa * (x[(gsize) i * d + b] - r->x_mean[b]);
          rhs[(gsize) a * d + b] += xa * (y[(gsize) i * d + b] - r->y_mean[b]) / r->y_sd[b];
        }
  double num = 0, den = 0;
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      {
        double lhs = r->lambda * r->w[(gsize) a * d + b];
        for (int k = 0; k < d; k++)
          lhs += g[(gsize) a * d + k] * r->w[(gsize) k * d + b];
        num += (lhs - rhs[(gsize) a * d + b]) * (lhs - rhs[(gsize) a * d + b]);
        den += rhs[(gsize) a * d + b] * rhs[(gsize) a * d + b];
      }
  return sqrt (num / den);
}

static void
test_ridge (void)
{
  g_autofree char *cifar = make_cifar ();
  /* the ridge solution itself, on the study's train split */
  g_autoptr (GError) error = NULL;
  g_auto (VbStudySubset) subset = { 0 };
  g_assert_true (vb_study_subset_load (&subset, cifar, 20, 5, 10, &error));
  g_auto (VbFeatureSet) fs = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &fs, &error));
  g_assert_no_error (error);
  int n = subset.count[VB_SPLIT_TRAIN], T = fs.tokens, D = fs.width;
  g_autofree float *xbar = g_new0 (float, (gsize) n * D);
  g_autofree float *tok = g_new (float, (gsize) T * D);
  for (int i = 0; i < n; i++)
    {
      vb_feature_set_tokens (&fs, i, tok);
      for (int q = 0; q < T * D; q++)
        xbar[(gsize) i * D + q % D] += tok[q] / T;
    }
  g_auto (VbRidge) ridge = { 0 };
  g_assert_true (vb_ridge_fit (&ridge, xbar, fs.y, n, D, &error));
  double res = normal_equations_residual (&ridge, xbar, fs.y, n);
  g_test_message ("ridge: λ %.3g, normal equations residual %.3g", ridge.lambda, res);
  g_assert_cmpfloat (res, <=, 1e-3);
  g_assert_cmpfloat (ridge.lambda, >, 0);

  /* through the runner: a normal and a shuffled-pair Linear */
  g_autofree char *json = study_preset_with (cifar, "[\"proj-linear\"]",
                                             ", \"train.shuffled_pairs\": [false, true],"
                                             " \"train.epochs\": [30]");
  g_autoptr (VbStore) store = NULL;
  g_autoptr (GArray) ids = run_study (json, "controls", &store);
  g_assert_cmpuint (ids->len, ==, 2);
  g_autoptr (JsonParser) p0 = json_parser_new ();
  g_autoptr (JsonParser) p1 = json_parser_new ();
  JsonObject *normal = load_result (store, g_array_index (ids, gint64, 0), p0);
  JsonObject *shuffled = load_result (store, g_array_index (ids, gint64, 1), p1);
  g_assert_false (json_object_get_boolean_member (normal, "shuffled_pairs"));
  g_assert_true (json_object_get_boolean_member (shuffled, "shuffled_pairs"));

  /* the ridge is the Linear family's optimum: no SGD-trained Linear beats it on train */
  double ridge_mse = member (normal, "ridge_control", "train_std_mse");
  double sgd_mse = member (normal, "train", "std_mse");
  g_test_message ("train std MSE: ridge %.4f, SGD Linear %.4f; ridge test cos %.4f, R² %.4f, "
                  "probe %.1f %%", ridge_mse, sgd_mse, member (normal, "ridge_control", "cos"),
                  member (normal, "ridge_control", "r2"),
                  member (normal, "ridge_control", "proxy_top1"));
  g_assert_cmpfloat (ridge_mse, <=, sgd_mse);
  g_assert_cmpfloat (member (normal, "ridge_control", "normal_equations_residual"), <=, 1e-3);
  g_assert_true (isfinite (member (normal, "ridge_control", "proxy_top1")));

  /* shuffled pairs: the head fixed in target space falls to chance, the normal run's not */
  double head_n = member (normal, "test", "target_head_top1");
  double head_s = member (shuffled, "test", "target_head_top1");
  g_test_message ("target-space head: normal %.1f %%, shuffled %.1f %% (ẑ probe %.1f / %.1f)",
                  head_n, head_s, member (normal, "test", "proxy_top1"),
                  member (shuffled, "test", "proxy_top1"));
  g_assert_cmpfloat (head_n, >, 40.0);
  g_assert_cmpfloat (head_s, <, 25.0);

  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  g_assert_nonnull (strstr (table, "ridge (closed form)"));
  g_assert_nonnull (strstr (table, "proj-linear (shuffled pairs)"));
}

static void
test_mode_b (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autofree char *json = study_preset_with (cifar, "[\"proj-linear\", \"proj-lora\"]",
                                             ", \"train.mode\": [\"reconstruction\"]");
  g_autoptr (VbStore) store = NULL;
  g_autoptr (GArray) ids = run_study (json, "mode-b", &store);
  g_assert_cmpuint (ids->len, ==, 2);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, id, NULL);
      g_assert_cmpint (rec->status, ==, VB_RUN_DONE);
      g_autoptr (GArray) steps = vb_store_get_step_metrics (store, id, NULL);
      g_assert_cmpuint (steps->len, ==, 8 * 13);
      double first = g_array_index (steps, VbStepMetric, 0).loss;
      double early = mean_loss (steps, 0, 13), late = mean_loss (steps, steps->len - 13,
                                                                 steps->len);
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *root = load_result (store, id, parser);
      g_test_message ("Mode B run %u: first step %.6g, first epoch %.4f, last %.4f; test std "
                      "MSE %.4f, R² %.4f, cos %.4f", i, first, early, late,
                      member (root, "test", "std_mse"), member (root, "test", "r2"),
                      member (root, "test", "cos"));
      g_assert_nonnull (strstr (json_object_get_string_member (root, "warning"), "alignment"));
      g_assert_true (isfinite (member (root, "test", "r2")));
      g_assert_true (isfinite (member (root, "train", "last_raw_mse")));
      if (i == 0)
        g_assert_cmpfloat (late, <, 0.7 * early);   /* Linear learns the identity */
      else
        g_assert_cmpfloat (first, ==, 0.0);          /* LoRA's identity base: exactly 0 */
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  g_assert_nonnull (strstr (table, "Mode B warning"));
  g_assert_nonnull (strstr (table, "proj-lora (Mode B)"));
  g_assert_null (strstr (table, "ridge (closed form)"));
}

/* ---- §4.5's second LoRA: the frozen base is the Linear trained on classes 0–4 ------------ */

static const float *
tensor_data (VbProjector *p, const char *name, int64_t *numel)
{
  const VbProjTensor *t = vb_projector_find_tensor (p, name);
  g_assert_nonnull (t);
  *numel = t->numel;
  return vb_projector_params (p) + t->offset;
}

/* the two tensors, bit for bit */
static void
assert_same_tensor (VbProjector *a, const char *na, VbProjector *b, const char *nb)
{
  int64_t n = 0, m = 0;
  const float *x = tensor_data (a, na, &n), *y = tensor_data (b, nb, &m);
  g_assert_cmpint (n, ==, m);
  g_assert_cmpmem (x, (gsize) n * sizeof (float), y, (gsize) m * sizeof (float));
}

/* The base stage and the adaptation, run directly (no store): the Linear the base stage
 * handed over is what LoRA's frozen W₀ and b₀ hold after the whole adaptation, bit for
 * bit (copied exactly, never touched by the optimizer), while A and B did train; and a
 * LoRA freshly given that base (B = 0) computes exactly the Linear's outputs. */
static void
test_lora_base_stage (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autofree char *json = study_preset_with (cifar, "[\"proj-lora\"]",
                                             ", \"model.lora_base\": [\"linear-classes-0-4\"]");
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (json, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) configs = vb_preset_expand (preset);
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (vb_run_config_from_json (&cfg, configs->pdata[0], &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.proj.lora_base, ==, VB_LORA_BASE_LINEAR_0_4);

  g_auto (VbTrainResult) result = { 0 };
  g_autoptr (VbProjector) lora = NULL, base = NULL;
  g_assert_true (vb_projector_study_run_full (&cfg, NULL, 0, NULL, NULL, &result, &lora, &base,
                                              &error));
  g_assert_no_error (error);
  g_assert_nonnull (lora);
  g_assert_nonnull (base);
  g_assert_cmpint (vb_projector_config (lora)->kind, ==, VB_PROJ_LORA);
  g_assert_cmpint (vb_projector_config (base)->kind, ==, VB_PROJ_LINEAR);
  g_assert_cmpint (result.epochs_done, ==, 8);

  /* W₀, b₀ = the trained Linear, exactly, after 8 epochs of adaptation */
  assert_same_tensor (lora, "base.weight", base, "linear.weight");
  assert_same_tensor (lora, "base.bias", base, "linear.bias");

  /* the base was trained (not the identity, not its seeded start) … */
  int D = vb_projector_config (base)->in_f;
  int64_t n = 0;
  const float *w = tensor_data (base, "linear.weight", &n);
  g_autoptr (VbProjector) fresh = NULL;
  VbProjConfig lc;
  g_assert_true (vb_projector_study_config ("proj-linear", D, 8, 16.0, &lc, &error));
  fresh = vb_projector_new (&lc, &error);
  vb_projector_init_weights (fresh, cfg.seed);
  const float *w0 = tensor_data (fresh, "linear.weight", &n);
  double moved = 0, off_identity = 0;
  for (int64_t q = 0; q < n; q++)
    {
      moved = MAX (moved, fabs (w[q] - w0[q]));
      off_identity = MAX (off_identity, fabs (w[q] - (q / D == q % D)));
    }
  g_test_message ("base Linear: max |W − W_init| %.3g, max |W − I| %.3g", moved, off_identity);
  g_assert_cmpfloat (moved, >, 1e-3);
  g_assert_cmpfloat (off_identity, >, 1e-2);
  /* … and so were the adapters: B left zero */
  const float *bw = tensor_data (lora, "lora_B.weight", &n);
  double bmax = 0;
  for (int64_t q = 0; q < n; q++)
    bmax = MAX (bmax, fabs (bw[q]));
  g_assert_cmpfloat (bmax, >, 0);

  /* a LoRA at its start (B = 0) on that base is the base Linear, output for output */
  VbProjConfig rc;
  g_assert_true (vb_projector_study_config ("proj-lora", D, 8, 16.0, &rc, &error));
  g_autoptr (VbProjector) start = vb_projector_new (&rc, &error);
  g_assert_no_error (error);
  vb_projector_init_weights (start, cfg.seed);
  g_assert_true (vb_projector_set_lora_base (start, base, &error));
  assert_same_tensor (start, "base.weight", base, "linear.weight");
  assert_same_tensor (start, "base.bias", base, "linear.bias");
  const float *b0 = tensor_data (start, "lora_B.weight", &n);
  for (int64_t q = 0; q < n; q++)
    g_assert_cmpfloat (b0[q], ==, 0.0f);
  enum { ROWS = 48 };
  g_autofree float *x = g_new (float, (gsize) ROWS * D);
  g_autofree float *y_lin = g_new (float, (gsize) ROWS * D);
  g_autofree float *y_lora = g_new (float, (gsize) ROWS * D);
  VbRng rng;
  vb_rng_init (&rng, 7);
  for (int q = 0; q < ROWS * D; q++)
    x[q] = vb_rng_normal (&rng);
  g_assert_true (vb_projector_forward_host (base, y_lin, x, ROWS, FALSE, &error));
  for (int training = 0; training <= 1; training++)
    {
      g_assert_true (vb_projector_forward_host (start, y_lora, x, ROWS, training, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (y_lora, sizeof (float) * ROWS * D, y_lin, sizeof (float) * ROWS * D);
    }

  /* the base comes only from a Linear of LoRA's widths, into a LoRA */
  g_clear_error (&error);
  g_assert_false (vb_projector_set_lora_base (base, start, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  VbProjConfig narrow;
  g_assert_true (vb_projector_study_config ("proj-linear", D / 2, 8, 16.0, &narrow, &error));
  g_autoptr (VbProjector) small = vb_projector_new (&narrow, &error);
  g_assert_false (vb_projector_set_lora_base (start, small, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  /* the identity-base run hands no base back; its W₀ stays the identity, b₀ zero */
  g_auto (VbRunConfig) plain = { 0 };
  g_autoptr (GString) pj = g_string_new (json);
  g_assert_cmpuint (g_string_replace (pj, "[\"linear-classes-0-4\"]", "[\"identity\"]", 1),
                    ==, 1);
  g_assert_cmpuint (g_string_replace (pj, "\"epochs\": 8", "\"epochs\": 2", 1), ==, 1);
  g_autoptr (VbPreset) pp = vb_preset_load_from_data (pj->str, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) pc = vb_preset_expand (pp);
  g_assert_true (vb_run_config_from_json (&plain, pc->pdata[0], &error));
  g_assert_cmpint (plain.proj.lora_base, ==, VB_LORA_BASE_IDENTITY);
  g_auto (VbTrainResult) plain_result = { 0 };
  g_autoptr (VbProjector) plain_lora = NULL, no_base = NULL;
  g_assert_true (vb_projector_study_run_full (&plain, NULL, 0, NULL, NULL, &plain_result,
                                              &plain_lora, &no_base, &error));
  g_assert_no_error (error);
  g_assert_null (no_base);
  const float *id = tensor_data (plain_lora, "base.weight", &n);
  for (int64_t q = 0; q < n; q++)
    g_assert_cmpfloat (id[q], ==, q / D == q % D ? 1.0f : 0.0f);
  const float *zb = tensor_data (plain_lora, "base.bias", &n);
  for (int64_t q = 0; q < n; q++)
    g_assert_cmpfloat (zb[q], ==, 0.0f);
}

/* Both LoRAs of §4.5 side by side, through the runner into a real SQLite store: the run
 * on the trained base is named, recorded and labelled as such; its base stage leaves no
 * step or epoch metrics of its own (the run's curves are the adaptation's). */
static void
test_lora_base_study (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autofree char *json = study_preset_with (cifar, "[\"proj-lora\"]",
                                             ", \"model.lora_base\": [\"identity\","
                                             " \"linear-classes-0-4\"]");
  g_autoptr (VbStore) store = NULL;
  g_autoptr (GArray) ids = run_study (json, "lora-base", &store);
  g_assert_cmpuint (ids->len, ==, 2);
  g_autoptr (GError) error = NULL;
  const char *kinds[] = { "identity", "linear-classes-0-4" };
  double first_loss[2];
  for (guint i = 0; i < 2; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, id, &error);
      g_assert_no_error (error);
      g_assert_cmpint (rec->status, ==, VB_RUN_DONE);
      g_autofree char *want = g_strdup_printf ("lora_base=%s", kinds[i]);
      g_assert_nonnull (strstr (rec->name, want));
      g_assert_nonnull (strstr (rec->config_json, kinds[i]));
      g_autoptr (GArray) steps = vb_store_get_step_metrics (store, id, &error);
      g_assert_cmpuint (steps->len, ==, 8 * 13);
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, id, &error);
      g_assert_cmpuint (epochs->len, ==, 8);
      first_loss[i] = g_array_index (steps, VbStepMetric, 0).loss;

      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *root = load_result (store, id, parser);
      JsonObject *lb = json_object_get_object_member (root, "lora_base");
      g_assert_nonnull (lb);
      g_assert_cmpstr (json_object_get_string_member (lb, "kind"), ==, kinds[i]);
      g_test_message ("LoRA on %s: first step loss %.4f, test loss %.4f, probe %.1f %%",
                      json_object_get_string_member (lb, "label"), first_loss[i],
                      member (root, "test", "loss"), member (root, "test", "proxy_top1"));
      g_assert_true (isfinite (member (root, "test", "loss")));
      if (i == 1)
        {
          /* classes 0–4 of 20 + 5 a class */
          g_assert_cmpstr (json_object_get_string_member (lb, "label"), ==,
                           "Linear on classes 0–4");
          g_assert_cmpint (json_object_get_int_member (lb, "train_images"), ==, 100);
          g_assert_cmpint (json_object_get_int_member (lb, "val_images"), ==, 25);
          g_assert_cmpint (json_object_get_int_member (lb, "best_epoch"), >=, 1);
          g_assert_true (isfinite (json_object_get_double_member (lb, "best_val_loss")));
          /* the same trainable count: only the base differs */
          g_assert_cmpint (member (root, "cost", "trainable"), ==, 2 * 8 * 32);
        }
      else
        g_assert_false (json_object_has_member (lb, "train_images"));
    }
  /* a base trained towards y starts far closer than the identity */
  g_assert_cmpfloat (first_loss[1], <, first_loss[0]);

  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((VbCompareRow *) g_ptr_array_index (rows, 0))->model, ==, "proj-lora");
  g_assert_cmpstr (((VbCompareRow *) g_ptr_array_index (rows, 1))->model, ==,
                   "proj-lora (base: Linear on classes 0–4)");
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  g_assert_nonnull (strstr (table, "proj-lora (base: Linear on classes 0–4)"));
  g_autofree char *csv = vb_compare_render (rows, 0, VB_TABLE_CSV);
  g_assert_nonnull (strstr (csv, "proj-lora (base: Linear on classes 0–4)"));
}

/* ---- the closed-form rank-r controls (§4.6 reduced-rank, §4.4 PCA) ----------------------- */

/* A = R·diag(λ)·Rᵀ, R a product of plane rotations: known eigenpairs, nothing aligned
 * with the axes */
static void
test_symeig (void)
{
  enum { N = 40, R = 4 };   /* R well below N: the iteration's block (R + 8) is not all */
  double lambda[N], rot[N * N] = { 0 }, a[N * N] = { 0 };
  for (int k = 0; k < N; k++)
    lambda[k] = 10 * pow (0.85, k);
  for (int i = 0; i < N; i++)
    rot[i * N + i] = 1;
  for (int p = 0; p < N; p++)   /* rotate columns (p, q) of rot by an angle set by p, q */
    for (int q = p + 1; q < N; q++)
      {
        double t = 0.3 + 0.17 * p + 0.05 * q, c = cos (t), sn = sin (t);
        for (int i = 0; i < N; i++)
          {
            double x = rot[i * N + p], y = rot[i * N + q];
            rot[i * N + p] = c * x - sn * y;
            rot[i * N + q] = sn * x + c * y;
          }
      }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      for (int k = 0; k < N; k++)
        a[i * N + j] += rot[i * N + k] * lambda[k] * rot[j * N + k];
  for (int r = R; r <= N; r += N - R)   /* a partial and the full spectrum */
    {
      double values[N], v[N * N];
      VbSymeigInfo info;
      g_assert_true (vb_symeig_top (a, N, r, 500, 1e-12, values, v, &info));
      g_test_message ("symeig r %d: %d iterations, residual %.3g", r, info.iterations,
                      info.residual);
      for (int j = 0; j < r; j++)
        {
          g_assert_cmpfloat (fabs (values[j] - lambda[j]) / lambda[j], <=, 1e-6);
          double along = 0;   /* |⟨v_j, R_j⟩| = 1: the eigenvector, up to its sign */
          for (int i = 0; i < N; i++)
            along += v[i * r + j] * rot[i * N + j];
          g_assert_cmpfloat (fabs (fabs (along) - 1), <=, 1e-6);
          for (int k = 0; k <= j; k++)
            {
              double d = 0;
              for (int i = 0; i < N; i++)
                d += v[i * r + j] * v[i * r + k];
              g_assert_cmpfloat (fabs (d - (j == k)), <=, 1e-6);
            }
        }
    }
}

static double
train_std_mse (const VbRidge *m, const float *x, const float *y, int n, int d)
{
  g_autofree float *z = g_new (float, (gsize) n * d);
  vb_ridge_predict (m, x, n, z);
  double se = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      {
        double e = ((double) z[(gsize) i * d + k] - y[(gsize) i * d + k]) / m->y_sd[k];
        se += e * e;
      }
  return se / ((double) n * d);
}

static void
test_lowrank_controls (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autoptr (GError) error = NULL;
  g_auto (VbStudySubset) subset = { 0 };
  g_assert_true (vb_study_subset_load (&subset, cifar, 20, 5, 10, &error));
  g_auto (VbFeatureSet) fs = { 0 };
  g_assert_true (vb_feature_set_get (&subset, &tiny_encoder, NULL, &fs, &error));
  g_assert_no_error (error);
  int n = subset.count[VB_SPLIT_TRAIN], T = fs.tokens, D = fs.width;
  g_autofree float *xbar = g_new0 (float, (gsize) n * D);
  g_autofree float *tok = g_new (float, (gsize) T * D);
  for (int i = 0; i < n; i++)
    {
      vb_feature_set_tokens (&fs, i, tok);
      for (int q = 0; q < T * D; q++)
        xbar[(gsize) i * D + q % D] += tok[q] / T;
    }
  g_auto (VbRidge) ridge = { 0 };
  g_assert_true (vb_ridge_fit (&ridge, xbar, fs.y, n, D, &error));

  /* at full rank V·Vᵀ = I: reduced-rank regression is the ridge itself */
  {
    g_auto (VbRidge) full = { 0 };
    VbSymeigInfo info;
    g_assert_true (vb_rrr_fit (&full, &ridge, xbar, n, D, &info, &error));
    double diff = 0, scale = 0;
    for (int q = 0; q < D * D; q++)
      {
        diff = MAX (diff, fabs (full.w[q] - ridge.w[q]));
        scale = MAX (scale, fabs (ridge.w[q]));
      }
    g_test_message ("RRR at full rank %d: max |W_rrr − W| / max |W| = %.3g (%d iterations)",
                    D, diff / scale, info.iterations);
    g_assert_cmpfloat (diff / scale, <=, 1e-6);
  }
  /* at LowRank's rank D/4: between the ridge and anything rank-limited */
  g_auto (VbRidge) rrr = { 0 };
  VbSymeigInfo info;
  g_assert_true (vb_rrr_fit (&rrr, &ridge, xbar, n, D / 4, &info, &error));
  g_assert_true (info.converged);
  double ridge_mse = train_std_mse (&ridge, xbar, fs.y, n, D);
  double rrr_mse = train_std_mse (&rrr, xbar, fs.y, n, D);
  g_test_message ("train std MSE: ridge %.6f, RRR r %d %.6f (%d iterations, residual %.3g)",
                  ridge_mse, D / 4, rrr_mse, info.iterations, info.residual);
  /* W(I − P) only adds error, the cross term being λ‖W(I − P)‖² ≥ 0: the slack is the
   * float predictions' rounding */
  g_assert_cmpfloat (rrr_mse, >=, ridge_mse * (1 - 1e-6));

  /* through the runner: LowRank in both modes, each with its control */
  g_autofree char *json = study_preset_with (cifar, "[\"proj-lowrank\"]",
                                             ", \"train.mode\": [\"alignment\","
                                             " \"reconstruction\"]");
  g_autoptr (VbStore) store = NULL;
  g_autoptr (GArray) ids = run_study (json, "lowrank", &store);
  g_assert_cmpuint (ids->len, ==, 2);
  g_autoptr (JsonParser) p0 = json_parser_new ();
  g_autoptr (JsonParser) p1 = json_parser_new ();
  JsonObject *a = load_result (store, g_array_index (ids, gint64, 0), p0);
  JsonObject *b = load_result (store, g_array_index (ids, gint64, 1), p1);
  g_assert_false (json_object_has_member (a, "pca_control"));
  g_assert_false (json_object_has_member (b, "rrr_control"));

  double r_ridge = member (a, "ridge_control", "train_std_mse");
  double r_rrr = member (a, "rrr_control", "train_std_mse");
  double r_sgd = member (a, "train", "std_mse");
  g_test_message ("Mode A train std MSE: ridge %.6f ≤ RRR r %.0f %.6f ≤ SGD LowRank %.6f; "
                  "RRR test cos %.4f, R² %.4f, probe %.1f %%, head %.1f %%", r_ridge,
                  member (a, "rrr_control", "rank"), r_rrr, r_sgd,
                  member (a, "rrr_control", "cos"), member (a, "rrr_control", "r2"),
                  member (a, "rrr_control", "proxy_top1"),
                  member (a, "rrr_control", "target_head_top1"));
  g_assert_cmpfloat (member (a, "rrr_control", "rank"), ==, D / 4);
  g_assert_cmpfloat (member (a, "rrr_control", "params"), ==, 2.0 * (D / 4) * D + D);
  g_assert_cmpfloat (r_rrr, >=, r_ridge * (1 - 1e-6));
  /* RRR from the ridge (λ = 1e-6 of the mean diagonal) misses the exact rank-r least
   * squares optimum by O(λ); 1e-4 relative covers that and the float rounding */
  g_assert_cmpfloat (r_rrr, <=, r_sgd * (1 + 1e-4));
  g_assert_true (isfinite (member (a, "rrr_control", "proxy_top1")));

  double pca = member (b, "pca_control", "std_mse");
  double lowrank_b = member (b, "test", "std_mse");
  g_test_message ("Mode B test std MSE: PCA r %.0f %.6f (train %.6f, R² %.4f) vs trained "
                  "LowRank %.6f (R² %.4f)", member (b, "pca_control", "rank"), pca,
                  member (b, "pca_control", "train_std_mse"), member (b, "pca_control", "r2"),
                  lowrank_b, member (b, "test", "r2"));
  /* PCA is the optimum on the train split it is fitted to; on test it can lose to a
   * trained model by sampling noise only, 2 % at this size */
  g_assert_cmpfloat (pca, <=, lowrank_b * 1.02);
  g_assert_cmpfloat (member (b, "pca_control", "r2"), >=, member (b, "test", "r2") - 0.02);

  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  g_autofree char *rrr_line = g_strdup_printf ("reduced-rank (closed form, r %d)", D / 4);
  g_autofree char *pca_line = g_strdup_printf ("PCA (closed form, r %d)", D / 4);
  g_assert_nonnull (strstr (table, rrr_line));
  g_assert_nonnull (strstr (table, pca_line));
  g_assert_null (strstr (table, "ridge (closed form)"));
}

static void
test_cancel (void)
{
  g_autofree char *cifar = make_cifar ();
  g_autofree char *json = study_preset (cifar, "[\"proj-lora\"]");
  vb_engine_test_assert_cancels (json);
}

/* ---- the run config -------------------------------------------------------------------------- */

static void
test_config (void)
{
  g_autoptr (GError) error = NULL;
  {
    g_auto (VbRunConfig) c = { 0 };
    g_assert_true (vb_engine_test_parse_config ("{\"model\": {\"arch\": \"projector\", \"projector\": \"proj-lora\","
                          " \"lora_rank\": 4}, \"data\": {\"dataset\": \"cifar10\","
                          " \"path\": \"/x\", \"img_size\": 336}}", &c, &error));
    g_assert_no_error (error);
    g_assert_true (vb_run_config_is_projector (&c));
    g_assert_cmpstr (c.proj.projector, ==, "proj-lora");
    g_assert_cmpint (c.proj.lora_rank, ==, 4);
    g_assert_cmpfloat (c.proj.lora_alpha, ==, 16.0);
    g_assert_cmpint (c.proj.train_per_class, ==, 500);
    g_assert_cmpint (c.proj.val_per_class, ==, 100);
    g_assert_cmpint (c.proj.test_per_class, ==, 200);
    g_assert_cmpint (c.proj.rt_inputs, ==, 200);
    g_assert_cmpint (c.proj.rt_warmup, ==, 8);
    g_assert_cmpint (c.proj.rt_timed, ==, 20);
  }
  static const char *const bad[][2] = {
    { "{\"model\": {\"arch\": \"projector\", \"projector\": \"proj-nope\"}, \"data\": {\"dataset\": \"cifar10\", \"img_size\": 224}}", "unknown projector" },
    { "{\"model\": {\"arch\": \"projector\"}, \"data\": {\"dataset\": \"cifar10\", \"img_size\": 224}}", "data.path=DIR" },
    { "{\"model\": {\"arch\": \"projector\"}, \"data\": {\"dataset\": \"cifar10\", \"path\": \"/x\", \"img_size\": 56}}", "224 or 336" },
    { "{\"model\": {\"arch\": \"projector\", \"clip_layers\": 2}, \"data\": {\"dataset\": \"cifar10\", \"path\": \"/x\", \"img_size\": 56}}", "all three" },
    { "{\"model\": {\"arch\": \"projector\"}, \"data\": {\"dataset\": \"fashion-mnist\", \"img_size\": 224}}", "cifar10" },
    { "{\"model\": {\"arch\": \"resnet\"}}", "not available" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_clear_error (&error);
      g_assert_false (vb_engine_test_parse_config (bad[i][0], &c, &error));
      if (error == NULL || strstr (error->message, bad[i][1]) == NULL)
        g_error ("%s: want \"%s\", got %s", bad[i][0], bad[i][1], error ? error->message : "-");
    }
  /* a VMamba config is untouched by all this */
  g_auto (VbRunConfig) v = { 0 };
  g_clear_error (&error);
  g_assert_true (vb_engine_test_parse_config ("{\"model\": {\"arch\": \"vmamba\", \"dims\": 24}}", &v, &error));
  g_assert_false (vb_run_config_is_projector (&v));
  g_assert_cmpint (v.model.dims[0], ==, 24);

  /* the shipped preset parses, run by run */
  g_autofree char *path = g_build_filename (VB_SOURCE_PRESETS_DIR, "projector-study.json", NULL);
  g_autoptr (VbPreset) preset = vb_preset_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (vb_preset_set (preset, "data.path=/cifar", &error));
  g_autoptr (GPtrArray) configs = vb_preset_expand (preset);
  g_assert_cmpuint (configs->len, ==, 15);
  for (guint i = 0; i < configs->len; i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_assert_true (vb_run_config_from_json (&c, configs->pdata[i], &error));
      g_assert_no_error (error);
      g_assert_cmpint (c.img_size, ==, 224);
      g_assert_cmpstr (c.proj.clip_weights, ==, "");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  tmp_dir = g_dir_make_tmp ("vb-projector-study-XXXXXX", NULL);
  g_test_add_func ("/vb/projector-study/config", test_config);
  g_test_add_func ("/vb/projector-study/cache", test_cache);
  g_test_add_func ("/vb/projector-study/run", test_run);
  g_test_add_func ("/vb/projector-study/cancel", test_cancel);
  g_test_add_func ("/vb/projector-study/device", test_device);
  g_test_add_func ("/vb/projector-study/ridge", test_ridge);
  g_test_add_func ("/vb/projector-study/mode-b", test_mode_b);
  g_test_add_func ("/vb/projector-study/lora-base/stage", test_lora_base_stage);
  g_test_add_func ("/vb/projector-study/lora-base/study", test_lora_base_study);
  g_test_add_func ("/vb/projector-study/symeig", test_symeig);
  g_test_add_func ("/vb/projector-study/lowrank-controls", test_lowrank_controls);
  int rc = g_test_run ();
  vb_test_rm_rf (tmp_dir);
  g_free (tmp_dir);
  return rc;
}
