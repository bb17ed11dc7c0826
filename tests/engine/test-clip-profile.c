/* test-clip-profile.c: the clip-profile experiment on a tiny CLIP tower (3 layers, width
 * 64, 2 heads, 28 and 42 px) through the runner into a real SQLite store: the stage list,
 * multiply-adds that add up to vb_clip_macs, positive times whose sum matches the whole
 * forward, the protocol card and random-weights notice, the compare table and stacked
 * bar; the stage hook itself; the config's refusals; cancel; the run asked of the GPU
 * with bf16 products (on a GPU its card says so; without one the CPU fallback and its
 * notes). */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-engine-test.h"
#include "vb-clip-profile.h"
#include "vb-device.h"
#include "vb-clip.h"
#include "vb-compare.h"
#include "vb-error.h"
#include "vb-preset.h"
#include "vb-projector-study-private.h"
#include "vb-run-config.h"
#include "vb-runner.h"
#include "vb-test-util.h"

#define LAYERS 3
#define WIDTH  64
#define HEADS  2
/* the stages' medians add up to the whole forward's median within this share: the
 * forward also copies the features out, and medians of parts are not the part of a
 * median, so they agree only closely */

static char *tmp_dir;

static char *
profile_preset (const char *layers, const char *sizes)
{
  return g_strdup_printf (
    "{\"name\": \"clip-profile-test\", \"base\": {"
    " \"model\": {\"arch\": \"clip-profile\", \"clip_weights\": \"\", \"clip_seed\": 0,"
    "   \"clip_layers\": %d, \"clip_width\": %d, \"clip_heads\": %d},"
    " \"data\": {\"img_size\": 28},"
    " \"profile\": {\"layers\": \"%s\", \"batch\": 2, \"warmup\": 2, \"timed\": 7,"
    "   \"repeats\": 1},"
    " \"train\": {\"threads\": 2}, \"device\": \"cpu\"},"
    " \"grid\": {\"data.img_size\": %s}}", LAYERS, WIDTH, HEADS, layers, sizes);
}

static GArray *
run_preset (VbStore *store, const char *json, GError **error)
{
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (json, error);
  g_assert_no_error (*error);
  GArray *ids = NULL;
  g_assert_true (vb_runner_run_preset (store, preset, NULL, NULL, &ids, error));
  g_assert_no_error (*error);
  return ids;
}

static const char *
artifact_path (VbStore *store, gint64 id)
{
  static char path[4096];
  g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, id, NULL);
  g_assert_cmpuint (arts->len, ==, 1);
  VbArtifactRecord *a = g_ptr_array_index (arts, 0);
  g_assert_cmpstr (a->kind, ==, VB_CLIP_PROFILE_RESULT_KIND);
  g_strlcpy (path, a->path, sizeof path);
  return path;
}

/* stage list, MACs and times of one run's result */
static void
check_profile (const VbClipProfile *p, int img, int layers_run)
{
  VbClipConfig cfg;
  vb_clip_config_small (&cfg, img, WIDTH, LAYERS, HEADS);
  int T = vb_clip_config_grid (&cfg) * vb_clip_config_grid (&cfg);
  g_assert_cmpint (p->img_size, ==, img);
  g_assert_cmpint (p->tokens, ==, T);
  g_assert_cmpint (p->layers_run, ==, layers_run);
  g_assert_cmpint (p->layers_total, ==, LAYERS);
  g_assert_cmpint (p->batch, ==, 2);
  g_assert_true (p->random_weights);
  g_assert_cmpstr (p->weights, ==, "random weights (seed 0)");

  /* patch embedding, every layer run, the five projectors in study order */
  g_assert_cmpuint (p->stages->len, ==, 1 + layers_run + 5);
  const char *const *proj = vb_projector_names ();
  double sum = 0;
  for (guint i = 0; i < p->stages->len; i++)
    {
      VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      g_autofree char *want = i == 0 ? g_strdup ("patch embedding")
                              : i <= (guint) layers_run ? g_strdup_printf ("layer %u", i - 1)
                              : g_strdup (proj[i - 1 - layers_run]);
      g_assert_cmpstr (s->name, ==, want);
      g_assert_cmpint (s->kind, ==, i == 0 ? VB_STAGE_EMBEDDING
                                    : i <= (guint) layers_run ? VB_STAGE_LAYER
                                    : VB_STAGE_PROJECTOR);
      g_assert_cmpfloat (s->ms, >, 0);
      g_assert_cmpint (s->macs, >, 0);
      if (s->kind == VB_STAGE_PROJECTOR)
        {
          VbProjConfig pc;
          g_assert_true (vb_projector_study_config (s->name, WIDTH, 8, 16.0, &pc, NULL));
          g_assert_cmpint (s->macs, ==, vb_projector_macs_per_token (&pc, FALSE) * T);
        }
      else
        sum += s->ms;
    }
  /* the model's own count, stage by stage, adds up to its count of the whole */
  g_assert_cmpint (vb_clip_profile_encoder_macs (p), ==, vb_clip_macs (&cfg, layers_run));
  g_assert_cmpfloat (sum, ==, vb_clip_profile_encoder_ms (p));
  g_test_message ("%d px: stages add up to %.4f ms, the whole forward %.4f ms a image",
                  img, sum, p->forward_ms);
  /* how close the two times come is a benchmark's question, not a unit test's: on shared
   * cores either can stretch (docs/benchmarks.md has the measured gap) */
  g_assert_cmpfloat (p->forward_ms, >, 0);
  g_assert_cmpfloat (p->img_per_s, >, 0);

  /* the bar: embedding, the layers as one segment, the five projectors */
  g_auto (VbStackedBar) bar = { 0 };
  vb_clip_profile_bar (p, &bar);
  g_assert_cmpuint (bar.n, ==, 7);
  g_assert_cmpstr (bar.names[0], ==, "patch embedding");
  g_autofree char *layers_name = g_strdup_printf ("layers 0–%d", layers_run - 1);
  g_assert_cmpstr (bar.names[1], ==, layers_name);
  g_assert_cmpstr (bar.names[6], ==, "proj-lora");
  g_assert_null (bar.names[7]);
  g_assert_cmpfloat (fabs (bar.ms[0] + bar.ms[1] - sum), <, 1e-9);
}

static void
test_run (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = g_build_filename (tmp_dir, "profile", "runs.db", NULL);
  g_autoptr (VbStore) store = vb_store_open (db, &error);
  g_assert_no_error (error);
  g_autofree char *json = profile_preset ("llava", "[28, 42]");
  g_autoptr (GArray) ids = run_preset (store, json, &error);
  g_assert_cmpuint (ids->len, ==, 2);

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      int img = i == 0 ? 28 : 42;
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, id, &error);
      g_assert_cmpint (rec->status, ==, VB_RUN_DONE);
      VbClipConfig cfg;
      vb_clip_config_small (&cfg, img, WIDTH, LAYERS, HEADS);
      g_assert_cmpint (rec->macs, ==, vb_clip_macs (&cfg, LAYERS - 1));
      g_assert_cmpint (rec->params, ==, vb_clip_param_count (&cfg));

      /* the overall img/s with its protocol card */
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, id, &error);
      g_assert_cmpuint (tp->len, ==, 1);
      VbThroughputRecord *t = g_ptr_array_index (tp, 0);
      g_assert_cmpstr (t->kind, ==, "clip-forward");
      g_assert_cmpfloat (t->img_per_s, >, 0);
      for (const char *const *k = (const char *const[]) { "\"batch\":2", "\"precision\":\"fp32\"",
                                                          "\"threads\":2", "\"warmup_calls\":2",
                                                          "\"timed_calls\":7", "\"median_ms\"",
                                                          "\"random_weights\":true",
                                                          "\"layers_run\":2", NULL };
           *k; k++)
        if (strstr (t->protocol_json, *k) == NULL)
          g_error ("protocol card lacks %s: %s", *k, t->protocol_json);

      /* the result file: the notice, the per-stage table, each projector's §5 card */
      const char *path = artifact_path (store, id);
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_file (parser, path, NULL));
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      g_assert_nonnull (strstr (json_object_get_string_member (root, "notice"), "random"));
      JsonArray *stages = json_object_get_array_member (root, "stages");
      JsonObject *lora = json_array_get_object_element (stages, json_array_get_length (stages) - 1);
      JsonObject *card = json_object_get_object_member (lora, "protocol");
      g_assert_cmpstr (json_object_get_string_member (card, "lora"), ==,
                       "unmerged (base + two thin GEMMs)");
      g_auto (VbClipProfile) p = { 0 };
      g_assert_true (vb_clip_profile_load (path, &p, &error));
      g_assert_no_error (error);
      check_profile (&p, img, LAYERS - 1);
    }

  /* compare prints a table a resolution, the totals, the notice and the stacked bar */
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  g_assert_no_error (error);
  g_autofree char *table = vb_compare_render (rows, 0, VB_TABLE_TEXT);
  g_test_message ("%s", table);
  for (const char *const *k = (const char *const[]) {
         "Stage", "ms", "% of total", "MACs (G)", "GMAC/s", "patch embedding", "layer 0",
         "layer 1", "proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora",
         "28 px", "42 px", "2 of 3 layers", "hidden_states[-2]", "Encoder (patch embedding",
         "encoder + proj-mlp", "Notice", "random weights (seed 0)", "Stacked bar", "Legend",
         NULL };
       *k; k++)
    if (strstr (table, *k) == NULL)
      g_error ("compare lacks %s:\n%s", *k, table);
  g_assert_null (strstr (table, "layer 2 "));
  g_assert_null (strstr (table, "Scan"));
  /* one bar line a resolution; every projector keeps at least one character (which bar
   * is longer is left to timing: at these sizes noise can swap them) */
  for (const char *const *label = (const char *const[]) { "  28 px │", "  42 px │", NULL };
       *label; label++)
    {
      const char *line = strstr (table, *label);
      g_assert_nonnull (line);
      g_autofree char *bar = g_strndup (line, strchr (line, '\n') - line);
      for (const char *sym = "▒█LRMGA"; *sym; sym = g_utf8_next_char (sym))
        {
          g_autofree char *one = g_strndup (sym, g_utf8_next_char (sym) - sym);
          if (strstr (bar, one) == NULL)
            g_error ("bar lacks %s: %s", one, bar);
        }
      g_assert_true (g_str_has_suffix (bar, " ms"));
    }
  g_autofree char *csv = vb_compare_render (rows, 0, VB_TABLE_CSV);
  g_assert_true (g_str_has_prefix (csv, "Run,Img,Stage,Kind,ms,% of total,MACs (G),GMAC/s\n"));
  g_assert_nonnull (strstr (csv, ",42,proj-gated,projector,"));
  g_autofree char *md = vb_compare_render (rows, 0, VB_TABLE_MARKDOWN);
  g_assert_nonnull (strstr (md, "| Stage | ms | % of total | MACs (G) | GMAC/s |"));
  g_autofree char *tex = vb_compare_render (rows, 0, VB_TABLE_LATEX);
  g_assert_nonnull (strstr (tex, "Stage & ms & \\% of total"));
}

/* profile.layers "all": every layer, and the MACs of the whole tower */
static void
test_all_layers (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbStore) store = vb_store_open (":memory:", &error);
  g_autofree char *json = profile_preset ("all", "[42]");
  g_autoptr (GArray) ids = run_preset (store, json, &error);
  g_auto (VbClipProfile) p = { 0 };
  g_assert_true (vb_clip_profile_load (artifact_path (store, g_array_index (ids, gint64, 0)),
                                       &p, &error));
  check_profile (&p, 42, LAYERS);
}

/* the hook sees every stage in order, and changes nothing the forward computes */
typedef struct {
  int seen[8], n;
} Seen;

static void
seen_cb (int stage, gpointer user_data)
{
  Seen *s = user_data;
  s->seen[s->n++] = stage;
}

static void
test_hook (void)
{
  VbClipConfig cfg;
  vb_clip_config_small (&cfg, 28, WIDTH, LAYERS, HEADS);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) m = vb_clip_new (&cfg, &error);
  vb_clip_init_random (m, 3);
  int T = 4, D = WIDTH;
  g_autofree float *pixels = g_new (float, 3 * 28 * 28);
  for (int i = 0; i < 3 * 28 * 28; i++)
    pixels[i] = (float) sin (i * 0.1);
  g_autofree float *plain = g_new (float, T * D), *hooked = g_new (float, T * D);
  VbClipOutputs out = { plain, NULL, NULL };
  g_assert_true (vb_clip_forward (m, pixels, 1, &out, &error));
  Seen s = { { 0 }, 0 };
  vb_clip_set_stage_hook (m, seen_cb, &s);
  out.features = hooked;
  g_assert_true (vb_clip_forward (m, pixels, 1, &out, &error));
  g_assert_cmpmem (plain, T * D * sizeof (float), hooked, T * D * sizeof (float));
  /* LLaVA's features: the embedding and layers 0, 1 of 3 */
  g_assert_cmpint (s.n, ==, LAYERS);
  for (int i = 0; i < s.n; i++)
    g_assert_cmpint (s.seen[i], ==, i);
  vb_clip_set_stage_hook (m, NULL, NULL);
  g_assert_true (vb_clip_forward (m, pixels, 1, &out, &error));
  g_assert_cmpint (s.n, ==, LAYERS);
}

/* asked of the GPU with bf16 products: on a GPU the card says cuda and bf16; without a
 * usable one the runner falls back to the CPU, which computes fp32, and both notes say so */
static void
test_device (void)
{
  if (!vb_device_cuda_built ())
    {
      g_test_skip ("this build has no CUDA backend");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (VbStore) store = vb_store_open (":memory:", &error);
  g_autofree char *base = profile_preset ("llava", "[28]");
  g_autoptr (GString) json = g_string_new (base);
  g_assert_cmpuint (g_string_replace (json, "\"device\": \"cpu\"", "\"device\": \"cuda\"", 1),
                    ==, 1);
  g_assert_cmpuint (g_string_replace (json, "\"repeats\": 1}",
                                      "\"repeats\": 1, \"precision\": \"bf16\"}", 1), ==, 1);
  g_autoptr (GArray) ids = run_preset (store, json->str, &error);
  gint64 id = g_array_index (ids, gint64, 0);
  g_autoptr (VbRunRecord) rec = vb_store_get_run (store, id, &error);
  g_assert_cmpint (rec->status, ==, VB_RUN_DONE);
  g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, id, &error);
  g_assert_cmpuint (tp->len, ==, 1);
  const char *card = ((VbThroughputRecord *) g_ptr_array_index (tp, 0))->protocol_json;
  g_test_message ("%s", card);
  gboolean gpu = vb_device_ops ("cuda", NULL) != NULL;
  const char *const want_gpu[] = { "\"device\":\"cuda\"", "bf16 products", "\"gemm\":\"cuBLAS\"",
                                   "stage_timing", NULL };
  const char *const want_cpu[] = { "\"device\":\"cpu\"", "\"precision\":\"fp32\"",
                                   "precision_note", NULL };
  for (const char *const *k = gpu ? want_gpu : want_cpu; *k; k++)
    if (strstr (card, *k) == NULL)
      g_error ("protocol card lacks %s: %s", *k, card);
  if (!gpu)
    {
      g_assert_cmpstr (rec->device, ==, "cpu");
      g_assert_nonnull (strstr (rec->config_json, "device_note"));
    }
  g_auto (VbClipProfile) p = { 0 };
  g_assert_true (vb_clip_profile_load (artifact_path (store, id), &p, &error));
  g_assert_no_error (error);
  check_profile (&p, 28, LAYERS - 1);
}

static void
test_cancel (void)
{
  g_autofree char *json = profile_preset ("llava", "[28]");
  vb_engine_test_assert_cancels (json);
}

/* ---- the config ----------------------------------------------------------------------------- */

static void
test_config (void)
{
  g_autoptr (GError) error = NULL;
  {
    g_auto (VbRunConfig) c = { 0 };
    g_assert_true (vb_engine_test_parse_config ("{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 336}}",
                          &c, &error));
    g_assert_no_error (error);
    g_assert_true (vb_run_config_is_clip_profile (&c));
    g_assert_false (vb_run_config_is_projector (&c));
    g_assert_cmpstr (c.profile.layers, ==, "llava");
    g_assert_cmpint (c.profile.batch, ==, 1);
    g_assert_cmpint (c.profile.warmup, ==, 1);
    g_assert_cmpint (c.profile.timed, ==, 3);
    g_assert_cmpint (c.profile.repeats, ==, 1);
    g_assert_cmpstr (c.proj.clip_weights, ==, "");
    g_assert_cmpstr (c.profile.precision, ==, "fp32");
  }
  {
    /* the GPU and its tensor-core precisions are accepted wherever the build has CUDA (a
     * run without a usable GPU falls back to the CPU, in fp32, and says so) */
    g_auto (VbRunConfig) c = { 0 };
    gboolean ok = vb_engine_test_parse_config ("{\"device\": \"cuda\", \"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"profile\": {\"precision\": \"bf16\"}}",
                                               &c, &error);
    if (vb_device_cuda_built ())
      {
        g_assert_no_error (error);
        g_assert_true (ok);
        g_assert_cmpstr (c.device, ==, "cuda");
        g_assert_cmpstr (c.profile.precision, ==, "bf16");
      }
    else
      {
        g_assert_false (ok);
        g_assert_nonnull (strstr (error->message, "no CUDA backend"));
        g_clear_error (&error);
      }
  }
  static const char *const bad[][2] = {
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 56}}", "224 or 336" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"profile\": {\"layers\": \"half\"}}", "profile.layers \"half\"" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"profile\": {\"batch\": 0}}", "profile.batch = 0 is outside" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"profile\": {\"timed\": \"3\"}}", "profile.timed must be an integer" },
    { "{\"model\": {\"arch\": \"clip-profile\", \"clip_layers\": 2}, \"data\": {\"img_size\": 28}}", "all three" },
    { "{\"model\": {\"arch\": \"clip-profile\", \"clip_layers\": 1, \"clip_width\": 32, \"clip_heads\": 2}, \"data\": {\"img_size\": 28}}", "at least 2" },
    { "{\"model\": {\"arch\": \"clip-profile\", \"clip_layers\": 2, \"clip_width\": 32, \"clip_heads\": 2}, \"data\": {\"img_size\": 30}}", "multiple of 14" },
    { "{\"model\": {\"arch\": \"clip-profile\", \"clip_weights\": \"/x.safetensors\", \"clip_layers\": 2, \"clip_width\": 32, \"clip_heads\": 2}, \"data\": {\"img_size\": 28}}", "clip_weights gives" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"profile\": {\"precision\": \"fp16\"}}", "profile.precision \"fp16\"" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"train\": {\"precision\": \"bf16\"}}", "bf16 needs device cuda" },
    { "{\"model\": {\"arch\": \"clip-profile\"}, \"data\": {\"img_size\": 224}, \"train\": {\"precision\": \"fp16\"}}", "train.precision \"fp16\"" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_clear_error (&error);
      g_assert_false (vb_engine_test_parse_config (bad[i][0], &c, &error));
      if (error == NULL || strstr (error->message, bad[i][1]) == NULL)
        g_error ("%s: want \"%s\", got %s", bad[i][0], bad[i][1], error ? error->message : "-");
    }

  /* the shipped preset: ViT-L/14 at 224 and 336 px, random weights, batch 1 */
  g_clear_error (&error);
  g_autofree char *path = g_build_filename (VB_SOURCE_PRESETS_DIR, "clip-profile.json", NULL);
  g_autoptr (VbPreset) preset = vb_preset_load (path, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) configs = vb_preset_expand (preset);
  g_assert_cmpuint (configs->len, ==, 2);
  for (guint i = 0; i < configs->len; i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_assert_true (vb_run_config_from_json (&c, configs->pdata[i], &error));
      g_assert_no_error (error);
      g_assert_true (vb_run_config_is_clip_profile (&c));
      g_assert_cmpint (c.img_size, ==, i == 0 ? 224 : 336);
      g_assert_cmpint (c.proj.clip_layers, ==, 0);
      g_assert_cmpstr (c.proj.clip_weights, ==, "");
      g_assert_cmpint (c.profile.batch, ==, 1);
    }
  /* the quick look the description documents */
  g_assert_true (vb_preset_set (preset, "model.clip_layers=3", &error));
  g_assert_true (vb_preset_set (preset, "model.clip_width=64", &error));
  g_assert_true (vb_preset_set (preset, "model.clip_heads=2", &error));
  g_autoptr (GPtrArray) small = vb_preset_expand (preset);
  g_auto (VbRunConfig) sc = { 0 };
  g_assert_true (vb_run_config_from_json (&sc, small->pdata[1], &error));
  g_assert_no_error (error);
  g_assert_cmpint (sc.proj.clip_width, ==, 64);
}

/* ---- the result file read back ---------------------------------------------------------- */

#define GOOD_RESULT                                                                            \
  "{\"format\": \"visionbench-clip-profile\","                                                 \
  " \"encoder\": {\"image_size\": 28, \"patch_tokens\": 4, \"layers_run\": 2, \"layers\": 3,"     \
  "  \"random_weights\": true, \"model\": \"small\", \"weights\": \"random weights (seed 0)\"},"  \
  " \"protocol\": {\"batch\": 1, \"threads\": 2},"                                             \
  " \"forward\": {\"per_image_ms\": 0.3, \"images_per_s\": 3000},"                              \
  " \"stages\": [{\"name\": \"patch embedding\", \"kind\": \"embedding\", \"ms\": 0.1,"        \
  "  \"iqr_ms\": 0, \"macs\": 150}, {\"name\": \"layer 0\", \"kind\": \"layer\", \"ms\": 0.2,"   \
  "  \"iqr_ms\": 0, \"macs\": 250}]}"

/* Every way a result file on disk can be broken gives an error naming the file, never a
 * crash, a critical (fatal here) or a float-to-int cast of NaN or 1e300. */
static void
test_result_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vb-cp-result-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "clip-profile-result.json", NULL);
  VbClipProfile p;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, GOOD_RESULT, -1, NULL));
  g_assert_true (vb_clip_profile_load (path, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.img_size, ==, 28);
  g_assert_true (p.random_weights);
  g_assert_cmpint (vb_clip_profile_encoder_macs (&p), ==, 400);
  vb_clip_profile_clear (&p);

  g_autofree char *truncated = g_strndup (GOOD_RESULT, strlen (GOOD_RESULT) / 2);
  g_autofree char *bad_size = g_strdup (GOOD_RESULT);
  g_autofree char *huge = NULL, *kind = NULL, *types = NULL;
  {
    g_autoptr (GString) s = g_string_new (GOOD_RESULT);
    g_string_replace (s, "\"image_size\": 28", "\"image_size\": 1e300", 1);
    huge = g_strdup (s->str);
    g_string_assign (s, GOOD_RESULT);
    g_string_replace (s, "\"kind\": \"layer\"", "\"kind\": \"bogus\"", 1);
    kind = g_strdup (s->str);
    g_string_assign (s, GOOD_RESULT);
    g_string_replace (s, "\"macs\": 250", "\"macs\": {\"a\": [1]}", 1);
    g_string_replace (s, "\"random_weights\": true", "\"random_weights\": [true]", 1);
    types = g_strdup (s->str);
    g_string_assign (s, GOOD_RESULT);
    g_string_replace (s, "\"image_size\": 28", "\"image_size\": \"28\"", 1);
    g_free (bad_size);
    bad_size = g_strdup (s->str);
  }
  const char *bad[] = { "", "not json", "[1]", "{\"format\": \"something else\"}",
                        truncated, huge, kind, types, bad_size };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      g_assert_false (vb_clip_profile_load (path, &p, &error));
      g_assert_nonnull (error);
      if (strstr (error->message, "clip-profile-result.json") == NULL)
        g_error ("case %u: the message does not name the file: %s", i, error->message);
      vb_clip_profile_clear (&p);
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  tmp_dir = g_dir_make_tmp ("vb-clip-profile-XXXXXX", NULL);
  g_test_add_func ("/vb/clip-profile/config", test_config);
  g_test_add_func ("/vb/clip-profile/hook", test_hook);
  g_test_add_func ("/vb/clip-profile/run", test_run);
  g_test_add_func ("/vb/clip-profile/all-layers", test_all_layers);
  g_test_add_func ("/vb/clip-profile/cancel", test_cancel);
  g_test_add_func ("/vb/clip-profile/device", test_device);
  g_test_add_func ("/vb/clip-profile/result-file", test_result_file);
  int rc = g_test_run ();
  vb_test_rm_rf (tmp_dir);
  g_free (tmp_dir);
  return rc;
}
