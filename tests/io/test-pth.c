/* Tests for the torch.save zip reader, the restricted unpickler and state-dict loading
 * (clip-projectors.md §7.3, §7.4). Fixtures: tests/reference/make_io_fixtures.py. */
#include "io-test-util.h"
#include "vb-pickle.h"
#include "vb-pth.h"
#include "vb-safetensors.h"
#include "vb-zip.h"

/* Where the hostile fixtures' payloads would write if anything were executed. */
#define MARKER "/tmp/visionbench-io-pickle-executed"

static void
check_tiny (VbTensorDict *dict)
{
  static const char *order[] = { "f32", "f16", "bf16", "f64", "transposed", "shared.a",
                                 "shared.b", "scalar", "param" };
  VbTensorEntry *e;

  g_assert_cmpuint (vb_tensor_dict_size (dict), ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (vb_tensor_dict_index (dict, i)->name, ==, order[i]);
  g_assert_cmpuint (vb_tensor_dict_skipped (dict)->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (vb_tensor_dict_skipped (dict), 0), ==, "int64");

  e = vb_tensor_dict_lookup (dict, "f32");
  g_assert_cmpint (e->ndim, ==, 2);
  g_assert_cmpint (e->shape[0], ==, 3);
  g_assert_cmpint (e->shape[1], ==, 4);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (e->data[i], ==, i * 0.5f - 1.0f);

  e = vb_tensor_dict_lookup (dict, "f16");
  g_assert_cmpint (e->numel, ==, 6);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (e->data[i], ==, i * 0.25f);

  e = vb_tensor_dict_lookup (dict, "bf16");
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (e->data[i], ==, i * -2.0f);

  e = vb_tensor_dict_lookup (dict, "f64");
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (e->data[i], ==, (float) (i / 3.0));

  /* base (2, 3) = arange(6); transposed (3, 2)[i][j] = base[j][i]. */
  e = vb_tensor_dict_lookup (dict, "transposed");
  g_assert_cmpint (e->shape[0], ==, 3);
  g_assert_cmpint (e->shape[1], ==, 2);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++)
      g_assert_cmpfloat (e->data[i * 2 + j], ==, (float) (j * 3 + i));

  /* Two views of one storage holding 100 … 109. */
  e = vb_tensor_dict_lookup (dict, "shared.a");
  g_assert_cmpint (e->numel, ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (e->data[i], ==, 102.0f + i);
  e = vb_tensor_dict_lookup (dict, "shared.b");
  g_assert_cmpint (e->shape[0], ==, 2);
  g_assert_cmpint (e->shape[1], ==, 5);
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat (e->data[i], ==, 100.0f + i);

  e = vb_tensor_dict_lookup (dict, "scalar");
  g_assert_cmpint (e->ndim, ==, 0);
  g_assert_cmpint (e->numel, ==, 1);
  g_assert_cmpfloat (e->data[0], ==, 3.5f);

  e = vb_tensor_dict_lookup (dict, "param");
  g_assert_cmpfloat (e->data[0], ==, -4.0f);
  g_assert_cmpfloat (e->data[1], ==, -4.0f);
}

static void
test_tiny (void)
{
  /* torch.save's own archive, and the same records re-packed with ZIP64 central
   * fields, a different prefix and different local extra fields. */
  const char *files[] = { "tiny-state-dict.pth", "tiny-zip64.pth" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = io_data_path (files[i]);
      g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
      g_assert_no_error (error);
      check_tiny (dict);
    }
}

static void
test_bigendian (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path ("tiny-bigendian.pth");
  g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
  g_assert_no_error (error);
  VbTensorEntry *e = vb_tensor_dict_lookup (dict, "f32");
  g_assert_cmpfloat (e->data[0], ==, 1.5f);
  g_assert_cmpfloat (e->data[1], ==, -2.25f);
  g_assert_cmpfloat (e->data[2], ==, 3.0f);
  e = vb_tensor_dict_lookup (dict, "f16");
  g_assert_cmpfloat (e->data[0], ==, 0.5f);
  g_assert_cmpfloat (e->data[1], ==, -1.0f);
}

static void
check_against (const char *pth, const char *subkey, const char *expected_file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path (pth);
  g_autofree char *exp_path = io_data_path (expected_file);
  g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, subkey, &error);
  g_assert_no_error (error);
  g_autoptr(VbTensorDict) expected = vb_safetensors_load (exp_path, &error);
  g_assert_no_error (error);
  io_assert_dicts_equal (dict, expected);
  io_assert_dicts_equal (expected, dict);
  /* "module." is stripped, the int64 buffer skipped. */
  g_assert_nonnull (vb_tensor_dict_lookup (dict, "patch_embed.0.weight"));
  g_assert_cmpuint (vb_tensor_dict_skipped (dict)->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (vb_tensor_dict_skipped (dict), 0), ==,
                   "head.num_batches_tracked");
  g_assert_cmpint (vb_tensor_dict_lookup (dict, "patch_embed.0.weight")->ndim, ==, 4);
}

static void
test_vmamba (void)
{
  check_against ("vmamba-ckpt.pth", NULL, "vmamba-ckpt-model.expected.safetensors");
  check_against ("vmamba-ckpt.pth", "model", "vmamba-ckpt-model.expected.safetensors");
  check_against ("vmamba-ckpt.pth", "model_ema", "vmamba-ckpt-ema.expected.safetensors");

  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path ("vmamba-ckpt.pth");
  g_autoptr(VbTensorDict) none = vb_pth_load_state_dict (path, "state_dict", &error);
  g_assert_null (none);
  io_assert_error (error, VB_ENGINE_ERROR_MISMATCH, "vmamba-ckpt.pth", "\"state_dict\"");
  g_clear_error (&error);
  g_autoptr(VbTensorDict) epoch = vb_pth_load_state_dict (path, "epoch", &error);
  g_assert_null (epoch);
  io_assert_error (error, VB_ENGINE_ERROR_MISMATCH, "vmamba-ckpt.pth", "not a state dict");
  g_clear_error (&error);
  /* Storages are read only when reachable from the chosen dict: a damaged model_ema
   * storage does not stop "model" from loading. */
  g_autofree char *bad_ema = io_data_path ("vmamba-ckpt-bad-ema.pth");
  g_autoptr(VbTensorDict) model = vb_pth_load_state_dict (bad_ema, "model", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_tensor_dict_size (model), ==, 4);
  g_autoptr(VbTensorDict) ema = vb_pth_load_state_dict (bad_ema, "model_ema", &error);
  g_assert_null (ema);
  io_assert_error (error, VB_ENGINE_ERROR_CORRUPT, "vmamba-ckpt-bad-ema.pth", "CRC-32");
  g_clear_error (&error);

  /* The optimizer dict holds no tensors at its top level: an empty state dict. */
  g_autoptr(VbTensorDict) opt = vb_pth_load_state_dict (path, "optimizer", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_tensor_dict_size (opt), ==, 0);
}

/* The whole training checkpoint parses under the allow-list, config included. */
static gboolean
any_storage (const char *key, guint64 *record_size, gpointer user_data)
{
  VbZip *zip = user_data;
  g_autofree char *name = g_strdup_printf ("archive/data/%s", key);
  const VbZipEntry *e = vb_zip_lookup (zip, name);
  if (e != NULL)
    *record_size = e->size;
  return e != NULL;
}

static void
test_pickle_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path ("vmamba-ckpt.pth");
  g_autoptr(VbZip) zip = vb_zip_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vb_zip_entry (zip, 0)->name, ==, "archive/data.pkl");
  guint64 len = 0;
  const guint8 *pkl = vb_zip_read (zip, "archive/data.pkl", &len, &error);
  g_assert_no_error (error);
  g_autoptr(VbPickle) pickle = vb_pickle_load (pkl, len, path, any_storage, zip, &error);
  g_assert_no_error (error);

  VbPickleValue *root = vb_pickle_get_root (pickle);
  g_assert_cmpint (root->kind, ==, VB_PICKLE_DICT);
  g_assert_cmpint (vb_pickle_dict_get (root, "epoch")->integer, ==, 264);
  g_assert_cmpfloat (vb_pickle_dict_get (root, "max_accuracy")->real, ==, 82.5);
  VbPickleValue *cfg = vb_pickle_dict_get (root, "config");
  g_assert_cmpint (cfg->kind, ==, VB_PICKLE_OBJECT);
  g_assert_cmpstr (cfg->c.class_name, ==, "yacs.config.CfgNode");
  VbPickleValue *model_cfg = vb_pickle_dict_get (cfg, "MODEL");
  g_assert_cmpstr (vb_pickle_dict_get (model_cfg, "NAME")->str.data, ==, "vssm1_tiny");
  g_assert_cmpint (vb_pickle_dict_get (vb_pickle_dict_get (cfg, "TRAIN"), "EPOCHS")->integer,
                   ==, 300);

  VbPickleValue *opt = vb_pickle_dict_get (root, "optimizer");
  VbPickleValue *groups = vb_pickle_dict_get (opt, "param_groups");
  g_assert_cmpint (groups->kind, ==, VB_PICKLE_LIST);
  VbPickleValue *g0 = g_ptr_array_index (groups->c.items, 0);
  VbPickleValue *betas = vb_pickle_dict_get (g0, "betas");
  g_assert_cmpint (betas->kind, ==, VB_PICKLE_TUPLE);
  g_assert_cmpfloat (((VbPickleValue *) g_ptr_array_index (betas->c.items, 1))->real, ==, 0.999);
  g_assert_cmpint (vb_pickle_dict_get (g0, "foreach")->kind, ==, VB_PICKLE_NONE);
  g_assert_cmpint (vb_pickle_dict_get (g0, "amsgrad")->kind, ==, VB_PICKLE_BOOL);
  VbPickleValue *params = vb_pickle_dict_get (g0, "params");
  g_assert_cmpuint (params->c.items->len, ==, 4);
  /* Optimizer state is keyed by integers. */
  VbPickleValue *state = vb_pickle_dict_get (opt, "state");
  g_assert_cmpuint (vb_pickle_dict_size (state), ==, 4);
  VbPickleValue *k0 = g_ptr_array_index (state->c.keys, 0);
  g_assert_cmpint (k0->kind, ==, VB_PICKLE_INT);
  VbPickleValue *step = vb_pickle_dict_get (g_ptr_array_index (state->c.items, 0), "step");
  g_assert_cmpint (step->kind, ==, VB_PICKLE_TENSOR);
  g_assert_cmpint (step->tensor.ndim, ==, 0);
}

/* Small hand-written pickles for opcodes torch does not emit in the fixtures. */
static VbPickle *
unpickle (const char *bytes, gsize len, GError **error)
{
  return vb_pickle_load ((const guint8 *) bytes, len, "inline.pkl", NULL, NULL, error);
}

static void
test_pickle_opcodes (void)
{
  g_autoptr(GError) error = NULL;

  /* LONG1 -2, LONG1 2^40, BININT -5, BINFLOAT 1.5, memo round trip, a list made to
   * contain itself (a cycle must not hang or leak), a 9-byte LONG1, protocol 4 FRAME. */
  static const char ok[] =
    "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
    "(\x8a\x01\xfe\x8a\x06\x00\x00\x00\x00\x00\x01J\xfb\xff\xff\xff"
    "G\x3f\xf8\x00\x00\x00\x00\x00\x00"
    "]\x94h\x00" "h\x00" "a"
    "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    "\x8c\x03" "abc\x94t.";
  g_autoptr(VbPickle) p = unpickle (ok, sizeof ok - 1, &error);
  g_assert_no_error (error);
  VbPickleValue *t = vb_pickle_get_root (p);
  g_assert_cmpint (t->kind, ==, VB_PICKLE_TUPLE);
  g_assert_cmpuint (t->c.items->len, ==, 8);
  VbPickleValue **it = (VbPickleValue **) t->c.items->pdata;
  g_assert_cmpint (it[0]->integer, ==, -2);
  g_assert_cmpint (it[1]->integer, ==, G_GINT64_CONSTANT (1) << 40);
  g_assert_cmpint (it[2]->integer, ==, -5);
  g_assert_cmpfloat (it[3]->real, ==, 1.5);
  g_assert_true (it[4] == it[5]);
  g_assert_true (g_ptr_array_index (it[4]->c.items, 0) == it[4]);
  g_assert_cmpint (it[6]->kind, ==, VB_PICKLE_BIGINT);
  g_assert_cmpstr (it[7]->str.data, ==, "abc");

  static const struct {
    const char *bytes;
    gsize       len;
    int         code;
    const char *what;
  } bad[] = {
    { "\x80\x06}.", 4, VB_ENGINE_ERROR_UNSUPPORTED, "protocol 6" },
    { "\x80\x02t.", 4, VB_ENGINE_ERROR_CORRUPT, "no MARK" },
    { "\x80\x02s.", 4, VB_ENGINE_ERROR_CORRUPT, "underflow" },
    { "\x80\x02}(K\x01u.", 8, VB_ENGINE_ERROR_CORRUPT, "odd number" },
    { "\x80\x02](K\x01K\x02u.", 10, VB_ENGINE_ERROR_CORRUPT, "SETITEM(S) on a list" },
    { "\x80\x02h\x05.", 5, VB_ENGINE_ERROR_CORRUPT, "memo entry 5" },
    { "\x80\x02X\xff\xff\xff\x7f", 7, VB_ENGINE_ERROR_CORRUPT, "truncated" },
    { "\x80\x02}", 3, VB_ENGINE_ERROR_CORRUPT, "without STOP" },
    { "\x80\x02}((K\x01K\x02u.", 11, VB_ENGINE_ERROR_CORRUPT, "no container below" },
    { "\x80\x02" "cos\nsystem\n.", 14, VB_ENGINE_ERROR_UNSAFE, "GLOBAL os.system at byte 2" },
    { "\x80\x02" "ctorch\nSize\n)R.", 17, VB_ENGINE_ERROR_CORRUPT, "torch.Size" },
    { "\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.", 32, VB_ENGINE_ERROR_CORRUPT,
      "OrderedDict with arguments" },
    { "\x80\x02" "ccollections\nOrderedDict\n)\x81.", 30, VB_ENGINE_ERROR_UNSAFE,
      "NEWOBJ of collections.OrderedDict" },
    { "\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0"
      "X\x03\x00\x00\x00" "cpuK\x01tQ.", 54, VB_ENGINE_ERROR_CORRUPT, "not in the archive" },
    { "\x80\x02\x8c\x02\xc3\x28.", 7, VB_ENGINE_ERROR_CORRUPT, "UTF-8" },
    { "\x80\x02p0\n.", 6, VB_ENGINE_ERROR_CORRUPT, "opcode 0x70" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_autoptr(VbPickle) q = unpickle (bad[i].bytes, bad[i].len, &error);
      g_assert_null (q);
      io_assert_error (error, bad[i].code, "inline.pkl", bad[i].what);
    }
}

static void
test_hostile (void)
{
  static const struct {
    const char *file;
    const char *what;
  } cases[] = {
    { "hostile-os-system.pth", "refusing pickle GLOBAL os.system at byte 2 in " },
    { "hostile-posix-system.pth", "refusing pickle STACK_GLOBAL posix.system at byte " },
    { "hostile-builtins-eval.pth", "refusing pickle STACK_GLOBAL builtins.eval at byte " },
    { "hostile-storage-call.pth", "refusing pickle REDUCE of torch.FloatStorage" },
  };

  g_unlink (MARKER);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = io_data_path (cases[i].file);
      g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
      g_assert_null (dict);
      io_assert_error (error, VB_ENGINE_ERROR_UNSAFE, cases[i].file, cases[i].what);
    }
  g_assert_false (g_file_test (MARKER, G_FILE_TEST_EXISTS));
}

static void
test_bad_archives (void)
{
  static const struct {
    const char *file;
    int         code;
    const char *what;
  } cases[] = {
    { "truncated.pth", VB_ENGINE_ERROR_CORRUPT, "end-of-central-directory" },
    { "bad-central-directory.pth", VB_ENGINE_ERROR_CORRUPT, "central directory header" },
    { "bad-crc.pth", VB_ENGINE_ERROR_CORRUPT, "CRC-32" },
    { "compressed.pth", VB_ENGINE_ERROR_UNSUPPORTED, "compressed (method 8)" },
    { "legacy.pth", VB_ENGINE_ERROR_UNSUPPORTED, "legacy" },
    { "bad-opcode.pth", VB_ENGINE_ERROR_CORRUPT, "unsupported opcode 0x70" },
    { "bad-missing-storage.pth", VB_ENGINE_ERROR_CORRUPT, "storage 0 is not in the archive" },
    { "bad-view-extent.pth", VB_ENGINE_ERROR_CORRUPT, "reaches element 4" },
    { "bad-storage-size.pth", VB_ENGINE_ERROR_CORRUPT, "record holds 12" },
    { "valid.safetensors", VB_ENGINE_ERROR_CORRUPT, "not a PyTorch zip" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = io_data_path (cases[i].file);
      g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
      g_assert_null (dict);
      io_assert_error (error, cases[i].code, cases[i].file, cases[i].what);
    }

  g_autoptr(GError) error = NULL;
  g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict ("/nonexistent/m.pth", NULL, &error);
  g_assert_null (dict);
  io_assert_error (error, VB_ENGINE_ERROR_IO, "/nonexistent/m.pth", NULL);
}

static char *
read_fixture (const char *name, gsize *len)
{
  g_autofree char *src = io_data_path (name);
  char *bytes = NULL;
  g_assert_true (g_file_get_contents (src, &bytes, len, NULL));
  return bytes;
}

/* Every proper prefix of a valid archive fails cleanly. */
static void
test_truncated (void)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree char *bytes = read_fixture ("tiny-state-dict.pth", &len);
  g_autofree char *dir = io_make_scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.pth", NULL);

  for (gsize n = 0; n < len; n++)
    {
      if (!io_sample (n, len))
        continue;
      io_write_prefix (path, bytes, n);
      g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
      g_assert_null (dict);
      io_assert_error (error, VB_ENGINE_ERROR_CORRUPT, "cut.pth", NULL);
      g_clear_error (&error);
    }
  io_write_prefix (path, bytes, len);
  g_autoptr(VbTensorDict) whole = vb_pth_load_state_dict (path, NULL, &error);
  g_assert_no_error (error);
  check_tiny (whole);
  g_unlink (path);
  g_rmdir (dir);
}

/* Every proper prefix of a real data.pkl fails cleanly inside the unpickler. */
static gboolean
big_storage (const char *key, guint64 *record_size, gpointer user_data)
{
  *record_size = 1 << 20;
  return TRUE;
}

static void
test_pickle_prefixes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path ("vmamba-ckpt.pth");
  g_autoptr(VbZip) zip = vb_zip_open (path, &error);
  g_assert_no_error (error);
  guint64 len = 0;
  const guint8 *pkl = vb_zip_read (zip, "archive/data.pkl", &len, &error);
  g_assert_no_error (error);

  for (guint64 n = 0; n < len; n++)
    {
      if (!io_sample (n, len))
        continue;
      /* A heap copy, so valgrind sees any read past the prefix. */
      g_autofree guint8 *copy = g_memdup2 (pkl, MAX (n, 1));
      g_autoptr(VbPickle) p = vb_pickle_load (copy, n, "prefix.pkl", big_storage, NULL, &error);
      g_assert_null (p);
      io_assert_error (error, VB_ENGINE_ERROR_CORRUPT, "prefix.pkl", NULL);
      g_clear_error (&error);
    }
}

/* Flipping any byte gives a dict or an engine error, never a crash or a hang. */
static void
test_bitflip (void)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree char *bytes = read_fixture ("tiny-state-dict.pth", &len);
  g_autofree char *dir = io_make_scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "flip.pth", NULL);

  for (gsize i = 0; i < len; i++)
    {
      if (!io_sample (i, len))
        continue;
      bytes[i] ^= 0x21;
      io_write_prefix (path, bytes, len);
      bytes[i] ^= 0x21;
      g_autoptr(VbTensorDict) dict = vb_pth_load_state_dict (path, NULL, &error);
      if (dict == NULL)
        {
          g_assert_true (error->domain == VB_ENGINE_ERROR);
          g_assert_nonnull (strstr (error->message, "flip.pth"));
          g_clear_error (&error);
        }
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/io/pth/tiny", test_tiny);
  g_test_add_func ("/vb/io/pth/bigendian", test_bigendian);
  g_test_add_func ("/vb/io/pth/vmamba", test_vmamba);
  g_test_add_func ("/vb/io/pth/pickle-values", test_pickle_values);
  g_test_add_func ("/vb/io/pth/pickle-opcodes", test_pickle_opcodes);
  g_test_add_func ("/vb/io/pth/hostile", test_hostile);
  g_test_add_func ("/vb/io/pth/bad-archives", test_bad_archives);
  g_test_add_func ("/vb/io/pth/truncated", test_truncated);
  g_test_add_func ("/vb/io/pth/pickle-prefixes", test_pickle_prefixes);
  g_test_add_func ("/vb/io/pth/bitflip", test_bitflip);
  return g_test_run ();
}
