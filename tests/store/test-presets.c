/* test-presets.c: experiment presets — the shipped files, overrides, grid expansion,
 * and the errors for broken files. */

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "vb-error.h"
#include "vb-preset.h"

static char *tmp_dir;

static char *
write_file (const char *name,
            const char *contents)
{
  char *path = g_build_filename (tmp_dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static JsonNode *
get (JsonObject *config,
     const char *key)
{
  g_auto(GStrv) parts = g_strsplit (key, ".", -1);
  JsonNode *node = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_assert_true (json_object_has_member (config, parts[i]));
      node = json_object_get_member (config, parts[i]);
      if (parts[i + 1] != NULL)
        config = json_node_get_object (node);
    }
  return node;
}

static VbPreset *
load_shipped (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_build_filename (VB_SOURCE_PRESETS_DIR, file, NULL);
  VbPreset *preset = vb_preset_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (preset);
  return preset;
}

static void
assert_run_names (VbPreset          *preset,
                  const char *const *expected)
{
  g_autoptr(GPtrArray) configs = vb_preset_expand (preset);

  g_assert_cmpuint (configs->len, ==, g_strv_length ((GStrv) expected));
  g_assert_cmpuint (configs->len, ==, vb_preset_get_n_runs (preset));
  for (guint i = 0; i < configs->len; i++)
    g_assert_cmpstr (json_object_get_string_member (configs->pdata[i], "run_name"), ==,
                     expected[i]);
}

/* ---- the shipped presets -------------------------------------------------- */

/* The runner reads these fields; every shipped preset must have them, typed. */
static void
assert_config_schema (JsonObject *config)
{
  static const struct { const char *key; GType type; } fields[] = {
    { "model.arch", G_TYPE_STRING }, { "model.dims", G_TYPE_INT64 },
    { "model.d_state", G_TYPE_INT64 }, { "model.ssm_ratio", G_TYPE_DOUBLE },
    { "model.scan", G_TYPE_STRING }, { "model.drop_path", G_TYPE_DOUBLE },
    { "model.num_classes", G_TYPE_INT64 }, { "model.init_from", G_TYPE_STRING },
    { "model.strip_head", G_TYPE_BOOLEAN }, { "model.ema", G_TYPE_BOOLEAN },
    { "data.dataset", G_TYPE_STRING }, { "data.path", G_TYPE_STRING },
    { "data.img_size", G_TYPE_INT64 }, { "data.train_limit", G_TYPE_INT64 },
    { "data.val_limit", G_TYPE_INT64 }, { "data.n_classes", G_TYPE_INT64 },
    { "data.split_seed", G_TYPE_INT64 }, { "data.train_fraction", G_TYPE_DOUBLE },
    { "data.workers", G_TYPE_INT64 },
    { "train.mode", G_TYPE_STRING }, { "train.epochs", G_TYPE_INT64 },
    { "train.batch_size", G_TYPE_INT64 }, { "train.lr", G_TYPE_DOUBLE },
    { "train.min_lr", G_TYPE_DOUBLE }, { "train.warmup_epochs", G_TYPE_DOUBLE },
    { "train.weight_decay", G_TYPE_DOUBLE }, { "train.label_smoothing", G_TYPE_DOUBLE },
    { "train.clip_grad", G_TYPE_DOUBLE }, { "train.seed", G_TYPE_INT64 },
    { "train.eval_batch_size", G_TYPE_INT64 }, { "train.precision", G_TYPE_STRING },
    { "train.threads", G_TYPE_INT64 }, { "device", G_TYPE_STRING },
    { "run_name", G_TYPE_STRING },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      JsonNode *node = get (config, fields[i].key);

      if (json_node_get_value_type (node) != fields[i].type)
        g_error ("%s has type %s, expected %s", fields[i].key,
                 g_type_name (json_node_get_value_type (node)), g_type_name (fields[i].type));
    }
  g_assert_true (JSON_NODE_HOLDS_ARRAY (get (config, "model.depths")));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (get (config, "model.depths"))),
                    ==, 4);
}

static void
test_shipped (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = vb_preset_list (VB_SOURCE_PRESETS_DIR, &error);
  static const char *const names[] = { "clip-profile", "projector-study", "resolution-sweep",
                                       "scratch-vs-finetune", "ss2d-directions" };
  static const guint n_runs[] = { 2, 15, 3, 2, 3 };
  static const guint n_axes[] = { 1, 2, 1, 1, 1 };

  g_assert_no_error (error);
  g_assert_cmpuint (presets->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < presets->len; i++)
    {
      VbPreset *preset = g_ptr_array_index (presets, i);
      g_autoptr(GPtrArray) configs = vb_preset_expand (preset);

      g_assert_cmpstr (vb_preset_get_name (preset), ==, names[i]);
      g_assert_cmpstr (vb_preset_get_title (preset), !=, "");
      g_assert_cmpstr (vb_preset_get_description (preset), !=, "");
      g_assert_cmpuint (vb_preset_get_n_axes (preset), ==, n_axes[i]);
      g_assert_cmpuint (configs->len, ==, n_runs[i]);
      /* the clip-profile and the projector study have their own fields (vb-run-config.h) */
      for (guint j = 0; j < configs->len && i > 1; j++)
        assert_config_schema (configs->pdata[j]);
    }
}

static void
test_ss2d_directions (void)
{
  g_autoptr(VbPreset) preset = load_shipped ("ss2d-directions");
  g_autoptr(GPtrArray) configs = vb_preset_expand (preset);
  static const char *const scans[] = { "4dir", "2dir", "1dir" };
  static const char *const expected[] = { "ss2d-directions/scan=4dir", "ss2d-directions/scan=2dir",
                                          "ss2d-directions/scan=1dir", NULL };

  assert_run_names (preset, expected);
  g_assert_cmpstr (vb_preset_get_axis_key (preset, 0), ==, "model.scan");
  g_assert_cmpstr (vb_preset_get_label (preset, "model.scan"), ==, "Dirs");
  g_assert_cmpstr (vb_preset_get_label (preset, "train.lr"), ==, "lr");

  for (guint i = 0; i < 3; i++)
    {
      JsonObject *config = configs->pdata[i];

      g_assert_cmpstr (json_node_get_string (get (config, "model.scan")), ==, scans[i]);
      g_assert_cmpint (json_node_get_int (get (config, "model.dims")), ==, 24);
      g_assert_cmpstr (json_node_get_string (get (config, "data.dataset")), ==, "fashion-mnist");
      g_assert_cmpint (json_node_get_int (get (config, "data.img_size")), ==, 32);
      g_assert_cmpfloat (json_node_get_double (get (config, "train.min_lr")), ==, 1e-5);
      g_assert_cmpstr (json_node_get_string (get (config, "device")), ==, "cpu");
    }

  /* Deep copies: editing one config touches neither the others nor the preset. */
  gint64 epochs = json_node_get_int (get (vb_preset_get_base (preset), "train.epochs"));
  g_assert_cmpint (epochs, !=, 99);
  json_array_add_int_element (json_node_get_array (get (configs->pdata[0], "model.depths")), 9);
  json_object_set_int_member (json_node_get_object (get (configs->pdata[0], "train")),
                              "epochs", 99);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (get (configs->pdata[1],
                                                                     "model.depths"))), ==, 4);
  g_assert_cmpint (json_node_get_int (get (configs->pdata[1], "train.epochs")), ==, epochs);
  g_assert_cmpint (json_node_get_int (get (vb_preset_get_base (preset), "train.epochs")), ==, epochs);
  g_assert_false (json_object_has_member (vb_preset_get_base (preset), "run_name"));
}

static void
test_other_shipped (void)
{
  g_autoptr(VbPreset) sweep = load_shipped ("resolution-sweep");
  g_autoptr(VbPreset) svf = load_shipped ("scratch-vs-finetune");
  g_autoptr(GPtrArray) configs = vb_preset_expand (sweep);
  static const char *const sweep_names[] = { "resolution-sweep/img_size=224",
                                             "resolution-sweep/img_size=128",
                                             "resolution-sweep/img_size=64", NULL };
  static const char *const svf_names[] = { "scratch-vs-finetune/mode=scratch",
                                           "scratch-vs-finetune/mode=finetune", NULL };
  static const gint64 sizes[] = { 224, 128, 64 };

  assert_run_names (sweep, sweep_names);
  assert_run_names (svf, svf_names);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *config = configs->pdata[i];

      g_assert_cmpint (json_node_get_int (get (config, "data.img_size")), ==, sizes[i]);
      g_assert_cmpint (json_node_get_int (get (config, "model.dims")), ==, 96);
      g_assert_cmpint (json_array_get_int_element (json_node_get_array (get (config, "model.depths")), 2),
                       ==, 8);
      g_assert_cmpstr (json_node_get_string (get (config, "data.dataset")), ==, "image-folder");
      g_assert_cmpint (json_node_get_int (get (config, "data.n_classes")), ==, 20);
      g_assert_true (json_node_get_boolean (get (config, "model.strip_head")));
      g_assert_cmpstr (json_node_get_string (get (config, "train.mode")), ==, "finetune");
    }
}

/* ---- overrides ----------------------------------------------------------- */

static void
assert_set_fails (VbPreset   *preset,
                  const char *assignment,
                  const char *fragment)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (vb_preset_set (preset, assignment, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s': message '%s' lacks '%s'", assignment, error->message, fragment);
}

static void
set_ok (VbPreset   *preset,
        const char *assignment)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (vb_preset_set (preset, assignment, &error));
  g_assert_no_error (error);
}

static void
test_set (void)
{
  g_autoptr(VbPreset) preset = load_shipped ("ss2d-directions");
  JsonObject *base = vb_preset_get_base (preset);
  JsonArray *depths;

  /* Numbers. */
  set_ok (preset, "train.epochs=5");
  g_assert_cmpint (json_node_get_value_type (get (base, "train.epochs")), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (get (base, "train.epochs")), ==, 5);
  set_ok (preset, "train.lr=0.01");
  g_assert_cmpfloat (json_node_get_double (get (base, "train.lr")), ==, 0.01);
  set_ok (preset, " train.lr =1");       /* an integer for a real field stays real */
  g_assert_cmpint (json_node_get_value_type (get (base, "train.lr")), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (get (base, "train.lr")), ==, 1.0);
  set_ok (preset, "train.min_lr=-3e-6");
  g_assert_cmpfloat (json_node_get_double (get (base, "train.min_lr")), ==, -3e-6);

  /* Strings: bare, quoted, empty, and text that looks like JSON of another type. */
  set_ok (preset, "data.dataset=cifar10");
  g_assert_cmpstr (json_node_get_string (get (base, "data.dataset")), ==, "cifar10");
  set_ok (preset, "data.path=\"/data/with space\"");
  g_assert_cmpstr (json_node_get_string (get (base, "data.path")), ==, "/data/with space");
  set_ok (preset, "model.init_from=/w/vssm1_tiny_0230s_ckpt_epoch_264.pth");
  g_assert_cmpstr (json_node_get_string (get (base, "model.init_from")), ==,
                   "/w/vssm1_tiny_0230s_ckpt_epoch_264.pth");
  set_ok (preset, "train.precision=16");
  g_assert_cmpstr (json_node_get_string (get (base, "train.precision")), ==, "16");
  set_ok (preset, "data.path=");
  g_assert_cmpstr (json_node_get_string (get (base, "data.path")), ==, "");
  set_ok (preset, "device=a=b");         /* only the first '=' splits */
  g_assert_cmpstr (json_node_get_string (get (base, "device")), ==, "a=b");

  /* Booleans and arrays. */
  set_ok (preset, "model.ema=true");
  g_assert_true (json_node_get_boolean (get (base, "model.ema")));
  set_ok (preset, "model.depths=[2, 2, 4, 2]");
  depths = json_node_get_array (get (base, "model.depths"));
  g_assert_cmpuint (json_array_get_length (depths), ==, 4);
  g_assert_cmpint (json_array_get_int_element (depths, 2), ==, 4);

  /* Type mismatches leave the value alone. */
  assert_set_fails (preset, "train.epochs=2.5", "expects an integer");
  g_assert_cmpint (json_node_get_int (get (base, "train.epochs")), ==, 5);
  assert_set_fails (preset, "model.dims=wide", "field 'model.dims' expects an integer, got 'wide'");
  assert_set_fails (preset, "model.ema=1", "expects true or false");
  assert_set_fails (preset, "model.ema=yes", "expects true or false");
  assert_set_fails (preset, "model.depths=3", "expects an array");
  assert_set_fails (preset, "model.depths=[1.5, 2]", "expects an integer");
  assert_set_fails (preset, "train.lr=\"fast\"", "expects a number");
  assert_set_fails (preset, "train.lr=true", "expects a number");

  /* Unknown keys list what exists, narrowed to the section when it exists. */
  assert_set_fails (preset, "model.scn=4dir", "unknown field 'model.scn' (known: model.arch, ");
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (vb_preset_set (preset, "model.scn=4dir", &error));
    g_assert_nonnull (strstr (error->message, "model.scan"));
    g_assert_null (strstr (error->message, "data."));
  }
  assert_set_fails (preset, "epochs=3", "train.epochs");
  assert_set_fails (preset, "model.dims.x=3", "unknown field 'model.dims.x'");
  assert_set_fails (preset, "model=3", "is a section");
  assert_set_fails (preset, "train.epochs", "key=value");
  assert_set_fails (preset, "=3", "unknown field ''");
}

static void
test_set_axis (void)
{
  g_autoptr(VbPreset) preset = load_shipped ("ss2d-directions");
  static const char *const pinned[] = { "ss2d-directions/scan=2dir", NULL };
  static const char *const pair[] = { "ss2d-directions/scan=4dir", "ss2d-directions/scan=1dir",
                                      NULL };

  g_assert_cmpuint (vb_preset_get_n_runs (preset), ==, 3);

  /* One value pins the axis. */
  set_ok (preset, "model.scan=2dir");
  assert_run_names (preset, pinned);
  g_assert_cmpstr (json_node_get_string (get (vb_preset_get_base (preset), "model.scan")), ==,
                   "2dir");

  /* An array replaces the axis values. */
  set_ok (preset, "model.scan=[\"4dir\", \"1dir\"]");
  assert_run_names (preset, pair);

  assert_set_fails (preset, "model.scan=[]", "at least one value");
  assert_set_fails (preset, "model.scan=[4, 2]", "expects a string");
  g_assert_cmpuint (vb_preset_get_n_runs (preset), ==, 2);

  /* Setting a non-axis field changes every run. */
  set_ok (preset, "train.epochs=1");
  {
    g_autoptr(GPtrArray) configs = vb_preset_expand (preset);

    for (guint i = 0; i < configs->len; i++)
      g_assert_cmpint (json_node_get_int (get (configs->pdata[i], "train.epochs")), ==, 1);
  }
}

/* ---- expansion ----------------------------------------------------------- */

static void
test_expand_grid (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file ("grid.json",
    "{\"name\": \"g\", \"base\": {\"model\": {\"x\": 1, \"scan\": \"4dir\"},"
    "  \"data\": {\"x\": 0.5}, \"train\": {\"lr\": 0.001, \"ema\": false}},"
    " \"grid\": {\"model.scan\": [\"4dir\", \"2dir\"], \"train.lr\": [0.001, 2, 0.0003],"
    "  \"model.x\": [1], \"data.x\": [0.25], \"train.ema\": [true]}}");
  g_autofree char *plain_path = write_file ("plain.json",
    "{\"name\": \"plain\", \"base\": {\"a\": 1}}");
  g_autoptr(VbPreset) preset = vb_preset_load (path, &error);
  g_autoptr(VbPreset) plain = NULL;
  g_autoptr(GPtrArray) configs = NULL;
  static const char *const expected[] = {
    "g/scan=4dir,lr=0.001,model.x=1,data.x=0.25,ema=true",
    "g/scan=4dir,lr=2,model.x=1,data.x=0.25,ema=true",
    "g/scan=4dir,lr=0.0003,model.x=1,data.x=0.25,ema=true",
    "g/scan=2dir,lr=0.001,model.x=1,data.x=0.25,ema=true",
    "g/scan=2dir,lr=2,model.x=1,data.x=0.25,ema=true",
    "g/scan=2dir,lr=0.0003,model.x=1,data.x=0.25,ema=true",
    NULL,
  };
  static const char *const plain_names[] = { "plain", NULL };

  g_assert_no_error (error);
  /* Axes stay in file order, first axis slowest. */
  g_assert_cmpuint (vb_preset_get_n_axes (preset), ==, 5);
  g_assert_cmpstr (vb_preset_get_axis_key (preset, 1), ==, "train.lr");
  assert_run_names (preset, expected);

  configs = vb_preset_expand (preset);
  /* An integer grid value for a real field is a real in the config. */
  g_assert_cmpint (json_node_get_value_type (get (configs->pdata[1], "train.lr")), ==,
                   G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (get (configs->pdata[1], "train.lr")), ==, 2.0);
  g_assert_cmpstr (json_node_get_string (get (configs->pdata[4], "model.scan")), ==, "2dir");
  g_assert_true (json_node_get_boolean (get (configs->pdata[0], "train.ema")));

  plain = vb_preset_load (plain_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vb_preset_get_title (plain), ==, "plain");
  g_assert_cmpstr (vb_preset_get_description (plain), ==, "");
  assert_run_names (plain, plain_names);
}

/* ---- broken files -------------------------------------------------------- */

static void
assert_load_fails (const char *contents,
                   int         code,
                   const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file ("broken.json", contents);
  g_autoptr(VbPreset) preset = vb_preset_load (path, &error);

  g_assert_null (preset);
  g_assert_error (error, VB_ENGINE_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s': message '%s' lacks '%s'", contents, error->message, fragment);

  /* the same text held in memory fails the same way, naming no file */
  g_autoptr(GError) text_error = NULL;
  g_assert_null (vb_preset_load_from_data (contents, &text_error));
  g_assert_error (text_error, VB_ENGINE_ERROR, code);
  g_assert_true (g_str_has_prefix (text_error->message, "Preset text"));
  g_assert_nonnull (strstr (text_error->message, fragment));
}

static void
test_load_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such.json", NULL);

  g_assert_null (vb_preset_load (missing, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));

  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1,}", VB_ENGINE_ERROR_CORRUPT,
                     "not valid JSON");
  assert_load_fails ("", VB_ENGINE_ERROR_INVALID, "top level");
  assert_load_fails ("[1, 2]", VB_ENGINE_ERROR_INVALID, "top level");
  assert_load_fails ("{\"base\": {\"a\": 1}}", VB_ENGINE_ERROR_INVALID, "\"name\"");
  assert_load_fails ("{\"name\": \"a/b\", \"base\": {\"a\": 1}}", VB_ENGINE_ERROR_INVALID,
                     "\"name\"");
  assert_load_fails ("{\"name\": 3, \"base\": {\"a\": 1}}", VB_ENGINE_ERROR_INVALID,
                     "must be a string");
  assert_load_fails ("{\"name\": \"x\"}", VB_ENGINE_ERROR_INVALID, "\"base\"");
  assert_load_fails ("{\"name\": \"x\", \"base\": [1]}", VB_ENGINE_ERROR_INVALID, "\"base\"");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"gird\": {}}",
                     VB_ENGINE_ERROR_INVALID, "unknown member \"gird\"");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"grid\": {\"b\": [1]}}",
                     VB_ENGINE_ERROR_INVALID, "grid axis 'b' is not a field");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": {\"b\": 1}}, \"grid\": {\"a\": [1]}}",
                     VB_ENGINE_ERROR_INVALID, "grid axis 'a' is not a field");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"grid\": {\"a\": []}}",
                     VB_ENGINE_ERROR_INVALID, "non-empty array");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"grid\": {\"a\": 2}}",
                     VB_ENGINE_ERROR_INVALID, "non-empty array");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"grid\": {\"a\": [1, \"2\"]}}",
                     VB_ENGINE_ERROR_INVALID, "value 2 must be an integer");
  assert_load_fails ("{\"name\": \"x\", \"base\": {\"a\": 1}, \"labels\": {\"a\": 1}}",
                     VB_ENGINE_ERROR_INVALID, "label of 'a'");
}

static void
test_list_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp_dir, "list", NULL);
  g_autofree char *good = g_build_filename (dir, "a.json", NULL);
  g_autofree char *bad = g_build_filename (dir, "b.json", NULL);
  g_autofree char *dup = g_build_filename (dir, "c.json", NULL);
  g_autofree char *other = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-dir", NULL);
  GPtrArray *list;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (good, "{\"name\": \"zz\", \"base\": {\"a\": 1}}", -1, NULL));
  g_assert_true (g_file_set_contents (other, "not a preset", -1, NULL));
  g_assert_true (g_file_set_contents (dup, "{\"name\": \"aa\", \"base\": {\"a\": 1}}", -1, NULL));

  /* Sorted by preset name, not file name; other files are ignored. */
  list = vb_preset_list (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (vb_preset_get_name (list->pdata[0]), ==, "aa");
  g_assert_cmpstr (vb_preset_get_name (list->pdata[1]), ==, "zz");
  g_assert_cmpstr (vb_preset_get_path (list->pdata[1]), ==, good);
  g_ptr_array_unref (list);

  g_assert_true (g_file_set_contents (bad, "{ oops", -1, NULL));
  g_assert_null (vb_preset_list (dir, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (bad, "{\"name\": \"zz\", \"base\": {\"a\": 1}}", -1, NULL));
  g_assert_null (vb_preset_list (dir, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'zz'"));
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_null (vb_preset_list (missing, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));

  g_remove (good);
  g_remove (bad);
  g_remove (dup);
  g_remove (other);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* tmpfs when there is one: g_file_set_contents() fsyncs, slow on a busy disk. */
  tmp_dir = g_build_filename (access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir (),
                              "vb-presets-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (tmp_dir));

  g_test_add_func ("/vb/presets/shipped", test_shipped);
  g_test_add_func ("/vb/presets/ss2d-directions", test_ss2d_directions);
  g_test_add_func ("/vb/presets/other-shipped", test_other_shipped);
  g_test_add_func ("/vb/presets/set", test_set);
  g_test_add_func ("/vb/presets/set-axis", test_set_axis);
  g_test_add_func ("/vb/presets/expand-grid", test_expand_grid);
  g_test_add_func ("/vb/presets/load-errors", test_load_errors);
  g_test_add_func ("/vb/presets/list-errors", test_list_errors);

  ret = g_test_run ();

  {
    const char *files[] = { "grid.json", "plain.json", "broken.json" };

    for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (tmp_dir, files[i], NULL);
        g_remove (path);
      }
    g_rmdir (tmp_dir);
    g_free (tmp_dir);
  }
  return ret;
}
