/* test-run-config.c: the run config's data.classes (the study's "choose N classes by
 * list"): parsed in order, refused with a reason when malformed, when it disagrees with
 * data.n_classes, or when the data set is not an image folder. And the projector study's
 * model.lora_base (§4.5's LoRA base): its default, both values, the run name of a LoRA on
 * the trained base, and a clear refusal of anything else, from JSON and from --set. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "vb-engine-test.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-preset.h"
#include "vb-run-config.h"

static gboolean
parse (const char *data_json, VbRunConfig *cfg, GError **error)
{
  g_autofree char *json = g_strdup_printf ("{\"data\": %s}", data_json);
  return vb_engine_test_parse_config (json, cfg, error);
}

static void
test_class_list (void)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (parse ("{\"dataset\": \"image-folder\", \"path\": \"/x\", \"n_classes\": 0,"
                        " \"classes\": [\"n02\", \"n01\", \"n03\"]}", &cfg, &error));
  g_assert_no_error (error);
  const char *want[] = { "n02", "n01", "n03", NULL };
  g_assert_true (g_strv_equal ((const char * const *) cfg.class_list, want));
}

static void
test_no_list (void)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (parse ("{\"dataset\": \"image-folder\", \"n_classes\": 20, \"classes\": []}",
                        &cfg, NULL));
  g_assert_null (cfg.class_list);
  g_assert_cmpint (cfg.n_classes, ==, 20);
}

/* the whole config refused, the message saying `fragment` */
static void
assert_config_refused (const char *json, const char *fragment)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_engine_test_parse_config (json, &cfg, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, fragment) == NULL)
    g_error ("%s: message '%s' lacks '%s'", json, error->message, fragment);
}

static void
assert_refused (const char *data_json, const char *fragment)
{
  g_autofree char *json = g_strdup_printf ("{\"data\": %s}", data_json);
  assert_config_refused (json, fragment);
}

static void
test_refused (void)
{
  assert_refused ("{\"dataset\": \"image-folder\", \"n_classes\": 2, \"classes\": [\"a\"]}",
                  "n_classes");
  assert_refused ("{\"dataset\": \"fashion-mnist\", \"classes\": [\"a\"]}", "image-folder");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [\"a/b\"]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [\"..\"]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [3]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": \"a\"}", "data.classes");
}

/* ---- model.lora_base ---------------------------------------------------------------------- */

static gboolean
parse_study (const char *projector, const char *lora_base, VbRunConfig *cfg, GError **error)
{
  g_autofree char *base = lora_base ? g_strdup_printf (", \"lora_base\": %s", lora_base)
                                    : g_strdup ("");
  g_autofree char *json = g_strdup_printf ("{\"run_name\": \"study/projector=%s\", "
                                           "\"model\": {\"arch\": \"projector\", "
                                           "\"projector\": \"%s\"%s}, \"data\": "
                                           "{\"dataset\": \"cifar10\", \"path\": \"/x\", "
                                           "\"img_size\": 224}}", projector, projector, base);
  return vb_engine_test_parse_config (json, cfg, error);
}

/* train.gpus: 0 by default; data parallel needs the GPU, a batch that splits evenly and a
 * VMamba run, and says which of them is missing */
static void
test_gpus (void)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (vb_engine_test_parse_config ("{}", &cfg, NULL));
  g_assert_cmpint (cfg.gpus, ==, 0);
  assert_config_refused ("{\"train\": {\"gpus\": 2}}", "train.gpus 2 needs device cuda");
  assert_config_refused ("{\"train\": {\"gpus\": -1}}", "gpus");
  assert_config_refused ("{\"train\": {\"gpus\": 65}}", "gpus");
  if (!vb_device_cuda_built ())
    return;   /* the rest is about a cuda run, which such a build refuses first */
  assert_config_refused ("{\"device\": \"cuda\", \"train\": {\"gpus\": 3, \"batch_size\": 16}}",
                       "batch_size 16 does not split over train.gpus 3");
  assert_config_refused ("{\"device\": \"cuda\", \"model\": {\"arch\": \"projector\"},"
                       " \"train\": {\"gpus\": 2}}", "only VMamba training runs data parallel");
  g_auto (VbRunConfig) ok = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_engine_test_parse_config ("{\"device\": \"cuda\", \"train\": {\"gpus\": 2,"
                                              " \"batch_size\": 64}}", &ok, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ok.gpus, ==, 2);
}

static void
test_lora_base (void)
{
  g_autoptr (GError) error = NULL;
  {
    g_auto (VbRunConfig) c = { 0 };   /* absent: §4.5's identity */
    g_assert_true (parse_study ("proj-lora", NULL, &c, &error));
    g_assert_no_error (error);
    g_assert_cmpint (c.proj.lora_base, ==, VB_LORA_BASE_IDENTITY);
    g_assert_cmpstr (c.run_name, ==, "study/projector=proj-lora");
  }
  {
    g_auto (VbRunConfig) c = { 0 };
    g_assert_true (parse_study ("proj-lora", "\"identity\"", &c, &error));
    g_assert_cmpint (c.proj.lora_base, ==, VB_LORA_BASE_IDENTITY);
    g_assert_cmpstr (c.run_name, ==, "study/projector=proj-lora");
  }
  {
    /* the trained base: the run's name says so, as a grid axis would */
    g_auto (VbRunConfig) c = { 0 };
    g_assert_true (parse_study ("proj-lora", "\"linear-classes-0-4\"", &c, &error));
    g_assert_no_error (error);
    g_assert_cmpint (c.proj.lora_base, ==, VB_LORA_BASE_LINEAR_0_4);
    g_assert_cmpstr (c.run_name, ==, "study/projector=proj-lora,lora_base=linear-classes-0-4");
    g_assert_cmpstr (vb_lora_base_name (c.proj.lora_base), ==, "linear-classes-0-4");
    g_assert_cmpstr (vb_lora_base_label (c.proj.lora_base), ==, "Linear on classes 0–4");
  }
  {
    /* another projector keeps the key (one --set for a whole study) but is not renamed */
    g_auto (VbRunConfig) c = { 0 };
    g_assert_true (parse_study ("proj-linear", "\"linear-classes-0-4\"", &c, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (c.run_name, ==, "study/projector=proj-linear");
  }
  static const char *const bad[][2] = {
    { "\"linear\"", "model.lora_base \"linear\": use \"identity\"" },
    { "\"\"", "linear-classes-0-4" },
    { "\"Identity\"", "model.lora_base" },
    { "1", "model.lora_base must be a string" },
    { "true", "model.lora_base must be a string" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_clear_error (&error);
      g_assert_false (parse_study ("proj-lora", bad[i][0], &c, &error));
      if (error == NULL || strstr (error->message, bad[i][1]) == NULL)
        g_error ("lora_base %s: want \"%s\", got %s", bad[i][0], bad[i][1],
                 error ? error->message : "-");
    }
  {
    /* a clip-profile has no LoRA base to pick: the key is not read */
    g_auto (VbRunConfig) c = { 0 };
    g_clear_error (&error);
    g_assert_true (vb_engine_test_parse_config ("{\"model\": {\"arch\": \"clip-profile\","
                                                " \"lora_base\": \"nope\"}, \"data\": "
                                                "{\"img_size\": 224}}", &c, &error));
    g_assert_no_error (error);
    g_assert_cmpint (c.proj.lora_base, ==, VB_LORA_BASE_IDENTITY);
  }
}

/* --set on the shipped preset: a good value reaches every run (LoRA's run named by it), a
 * bad one is taken as text by the preset and refused by the run config with the reason */
static void
test_lora_base_set (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (VB_SOURCE_PRESETS_DIR, "projector-study.json", NULL);
  g_autoptr (VbPreset) preset = vb_preset_load (path, &error);
  g_assert_no_error (error);
  const char *sets[] = { "data.path=/cifar", "model.projector=proj-lora",
                         "model.lora_base=linear-classes-0-4", NULL };
  g_assert_true (vb_preset_set_all (preset, sets, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) configs = vb_preset_expand (preset);
  g_assert_cmpuint (configs->len, ==, 3);   /* three seeds */
  for (guint i = 0; i < configs->len; i++)
    {
      g_auto (VbRunConfig) c = { 0 };
      g_assert_true (vb_run_config_from_json (&c, configs->pdata[i], &error));
      g_assert_no_error (error);
      g_assert_cmpint (c.proj.lora_base, ==, VB_LORA_BASE_LINEAR_0_4);
      g_assert_true (g_str_has_suffix (c.run_name, ",lora_base=linear-classes-0-4"));
    }

  g_autoptr (VbPreset) again = vb_preset_load (path, &error);
  const char *bad[] = { "data.path=/cifar", "model.lora_base=linear-0-4", NULL };
  g_assert_true (vb_preset_set_all (again, bad, &error));
  g_autoptr (GPtrArray) bad_configs = vb_preset_expand (again);
  g_auto (VbRunConfig) c = { 0 };
  g_assert_false (vb_run_config_from_json (&c, bad_configs->pdata[0], &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "model.lora_base \"linear-0-4\""));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/run-config/classes/list", test_class_list);
  g_test_add_func ("/vb/run-config/classes/none", test_no_list);
  g_test_add_func ("/vb/run-config/classes/refused", test_refused);
  g_test_add_func ("/vb/run-config/lora-base/parse", test_lora_base);
  g_test_add_func ("/vb/run-config/lora-base/set", test_lora_base_set);
  g_test_add_func ("/vb/run-config/gpus", test_gpus);
  return g_test_run ();
}
