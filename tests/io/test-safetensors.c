/* Tests for the safetensors reader/writer and the header JSON parser (§7.1). */
#include <math.h>

#include "io-test-util.h"
#include "vb-json-lite.h"
#include "vb-safetensors.h"

static void
test_json (void)
{
  static const struct {
    const char *text;
    gboolean    ok;
  } cases[] = {
    { "{\"a\":[1,2,18446744073709551615],\"b\":\"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\"}", TRUE },
    { "{}", TRUE },
    { "[18446744073709551616]", FALSE },
    { "[01]", FALSE },
    { "[-1]", FALSE },
    { "[1.0]", FALSE },
    { "[1e3]", FALSE },
    { "[true]", FALSE },
    { "[null]", FALSE },
    { "{\"a\":1,\"a\":2}", FALSE },
    { "{\"a\" 1}", FALSE },
    { "{\"a\":1,}", FALSE },
    { "[\"\\ud800\"]", FALSE },
    { "[\"\\udc00\"]", FALSE },
    { "[\"\\u0000\"]", FALSE },
    { "[\"\\q\"]", FALSE },
    { "[\"tab\there\"]", FALSE },
    { "[[[[1]]]]", FALSE },  /* deeper than the limit of 3 */
    { "{\"a\":", FALSE },
    { "\"unterminated", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(VbJson) j = vb_json_parse (cases[i].text, strlen (cases[i].text), 3, NULL, &error);
      if (cases[i].ok)
        {
          g_assert_no_error (error);
          g_assert_nonnull (j);
        }
      else
        {
          if (j != NULL)
            g_error ("accepted %s", cases[i].text);
          g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
        }
    }

  const char *text = cases[0].text;
  g_autoptr(VbJson) j = vb_json_parse (text, strlen (text), 3, NULL, NULL);
  VbJson *a = vb_json_object_get (j, "a");
  g_assert_cmpuint (((VbJson *) g_ptr_array_index (a->items, 2))->uint, ==, G_MAXUINT64);
  g_assert_cmpstr (vb_json_object_get (j, "b")->str, ==, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");

  /* Invalid UTF-8 and embedded NUL bytes are rejected. */
  g_autoptr(GError) error = NULL;
  g_autoptr(VbJson) bad = vb_json_parse ("[\"a\0\"]", 6, 3, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
}

static void
test_valid (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = io_data_path ("valid.safetensors");
  g_autoptr(VbTensorDict) dict = vb_safetensors_load (path, &error);
  g_assert_no_error (error);

  /* Header order, not data order; the I64 tensor is skipped. */
  static const char *order[] = { "scalar", "a.f32", "b.f16", "c.bf16", "d.f64", "empty" };
  g_assert_cmpuint (vb_tensor_dict_size (dict), ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (vb_tensor_dict_index (dict, i)->name, ==, order[i]);
  GPtrArray *skipped = vb_tensor_dict_skipped (dict);
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, "position_ids");

  GHashTable *meta = vb_tensor_dict_metadata (dict);
  g_assert_cmpuint (g_hash_table_size (meta), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (meta, "format"), ==, "pt");
  g_assert_cmpstr (g_hash_table_lookup (meta, "note"), ==, "quote \" and \xc3\xa9");

  VbTensorEntry *e = vb_tensor_dict_lookup (dict, "scalar");
  g_assert_cmpint (e->ndim, ==, 0);
  g_assert_cmpint (e->numel, ==, 1);
  g_assert_cmpfloat (e->data[0], ==, 7.25f);

  e = vb_tensor_dict_lookup (dict, "a.f32");
  g_assert_cmpint (e->ndim, ==, 2);
  g_assert_cmpint (e->shape[0], ==, 2);
  g_assert_cmpint (e->shape[1], ==, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (e->data[i], ==, i * 0.5f - 1.0f);

  e = vb_tensor_dict_lookup (dict, "b.f16");
  g_assert_cmpint (e->numel, ==, 4);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (e->data[i], ==, i * 0.25f - 0.5f);

  e = vb_tensor_dict_lookup (dict, "c.bf16");
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (e->data[i], ==, i * -2.0f + 1.0f);

  e = vb_tensor_dict_lookup (dict, "d.f64");
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (e->data[i], ==, (float) (i / 3.0));

  e = vb_tensor_dict_lookup (dict, "empty");
  g_assert_cmpint (e->numel, ==, 0);
  g_assert_cmpint (e->shape[0], ==, 0);
  g_assert_cmpint (e->shape[1], ==, 3);
}

static void
test_bad (void)
{
  static const struct {
    const char *file;
    const char *what;
  } cases[] = {
    { "bad-header-length.safetensors", "runs past the end" },
    { "bad-header-huge.safetensors", "exceeds the limit" },
    { "bad-not-json.safetensors", "invalid JSON" },
    { "bad-float-offset.safetensors", "non-integer" },
    { "bad-not-brace.safetensors", "start with '{'" },
    { "bad-padding.safetensors", "non-space" },
    { "bad-duplicate-key.safetensors", "duplicate key" },
    { "bad-utf8.safetensors", "UTF-8" },
    { "bad-hole.safetensors", "hole" },
    { "bad-offset-start.safetensors", "hole" },
    { "bad-overlap.safetensors", "overlapping" },
    { "bad-wrong-size.safetensors", "END − BEGIN" },
    { "bad-trailing.safetensors", "file size" },
    { "bad-short-data.safetensors", "tensor \"y\": data_offsets [8, 16] run past the end" },
    { "bad-unknown-dtype.safetensors", "unknown dtype \"F12\"" },
    { "bad-negative-shape.safetensors", "unsupported value" },
    { "bad-metadata-int.safetensors", "not a string" },
    { "bad-subbyte.safetensors", "whole number of bytes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = io_data_path (cases[i].file);
      g_autoptr(VbTensorDict) dict = vb_safetensors_load (path, &error);
      g_assert_null (dict);
      io_assert_error (error, VB_ENGINE_ERROR_CORRUPT, cases[i].file, cases[i].what);
    }

  g_autoptr(GError) error = NULL;
  g_autoptr(VbTensorDict) dict = vb_safetensors_load ("/nonexistent/x.safetensors", &error);
  g_assert_null (dict);
  io_assert_error (error, VB_ENGINE_ERROR_IO, "/nonexistent/x.safetensors", NULL);
}

/* Bad headers built here byte by byte, one per rule: the list (header length
 * past the end, overlapping or out-of-range offsets, a shape that disagrees with its
 * byte range, an unknown dtype, a header that is not JSON) and the structural checks the
 * fixture files leave untested. Each message must name the file and the problem. */
static void
test_crafted (void)
{
  static const struct {
    const char *header;     /* JSON text, written as is (no padding) */
    guint       data_len;   /* bytes of data after the header (value 0x3f) */
    gint64      len_delta;  /* added to the true header length in the first 8 bytes */
    int         code;
    const char *what;
  } cases[] = {
    /* the list */
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 9,
      VB_ENGINE_ERROR_CORRUPT, "runs past the end of the" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0,
      VB_ENGINE_ERROR_CORRUPT, "overlapping data" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "tensor \"w\": data_offsets [0, 16] run past the end of the "
      "8-byte data buffer" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16, 0,
      VB_ENGINE_ERROR_CORRUPT, "tensor \"w\": END − BEGIN = 16 bytes but F32 × 6 elements" },
    { "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "tensor \"w\": unknown dtype \"Q4_K\"" },
    { "{w: F32}", 0, 0, VB_ENGINE_ERROR_CORRUPT, "header: invalid JSON" },
    /* structure of an entry */
    { "{\"w\":[1,2]}", 0, 0, VB_ENGINE_ERROR_CORRUPT, "tensor \"w\": entry is not an object" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "missing dtype, shape or data_offsets" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"strides\":[1]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "unknown field \"strides\"" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "shape is not a list" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "data_offsets is not a list of two integers" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, 0,
      VB_ENGINE_ERROR_CORRUPT, "END 0 is before BEGIN 8" },
    { "{\"__metadata__\":[\"pt\"]}", 0, 0, VB_ENGINE_ERROR_CORRUPT, "__metadata__ is not an object" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, 0,
      VB_ENGINE_ERROR_UNSUPPORTED, "9 dimensions" },
  };
  g_autofree char *dir = io_make_scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "crafted.safetensors", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gsize hlen = strlen (cases[i].header);
      guint64 n = hlen + cases[i].len_delta;
      g_autofree char *bytes = g_malloc (8 + hlen + cases[i].data_len);

      for (int b = 0; b < 8; b++)
        bytes[b] = (char) (n >> (8 * b) & 0xff);
      memcpy (bytes + 8, cases[i].header, hlen);
      memset (bytes + 8 + hlen, 0x3f, cases[i].data_len);
      io_write_prefix (path, bytes, 8 + hlen + cases[i].data_len);

      g_autoptr(VbTensorDict) dict = vb_safetensors_load (path, &error);
      if (dict != NULL)
        g_error ("case %u accepted: %s", i, cases[i].header);
      io_assert_error (error, cases[i].code, "crafted.safetensors", cases[i].what);
      g_test_message ("%s", error->message);
    }
  g_unlink (path);
  g_rmdir (dir);
}

static void
fill (VbTensorEntry *e, float scale)
{
  for (int64_t i = 0; i < e->numel; i++)
    e->data[i] = (float) i * scale - 3.0f;
}

static void
test_roundtrip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vb-io-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "out.safetensors", NULL);

  g_autoptr(VbTensorDict) dict = vb_tensor_dict_new ();
  int64_t s1[] = { 3, 5 }, s2[] = { 7 }, s3[] = { 2, 0, 4 }, s4[] = { 1, 1, 2, 1, 3, 1, 1, 2 };
  fill (vb_tensor_dict_add (dict, "z.last", 2, s1), 0.125f);
  fill (vb_tensor_dict_add (dict, "a \"quoted\"\\name\n\xc3\xa9", 1, s2), -1.5f);
  vb_tensor_dict_add (dict, "empty", 3, s3);
  VbTensorEntry *sc = vb_tensor_dict_add (dict, "scalar", 0, NULL);
  sc->data[0] = -0.0f;
  VbTensorEntry *sp = vb_tensor_dict_add (dict, "special", 1, s2);
  float specials[] = { NAN, INFINITY, -INFINITY, 1e-45f, -3.4e38f, 0.1f, -0.0f };
  memcpy (sp->data, specials, sizeof specials);
  fill (vb_tensor_dict_add (dict, "m.eight", 8, s4), 2.0f);

  g_autoptr(GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "format_version", "1");
  g_hash_table_insert (meta, "run_id", "run \"7\"\t\\");

  /* Write twice: the second save replaces the first atomically. */
  g_assert_true (vb_safetensors_save (path, dict, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (vb_safetensors_save (path, dict, meta, &error));
  g_assert_no_error (error);

  g_autoptr(VbTensorDict) back = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  io_assert_dicts_equal (dict, back);
  io_assert_dicts_equal (back, dict);
  g_assert_cmpuint (vb_tensor_dict_skipped (back)->len, ==, 0);
  GHashTable *bm = vb_tensor_dict_metadata (back);
  g_assert_cmpuint (g_hash_table_size (bm), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (bm, "run_id"), ==, "run \"7\"\t\\");

  /* Sorted by name, data section 8-byte aligned. */
  static const char *sorted[] = { "a \"quoted\"\\name\n\xc3\xa9", "empty", "m.eight",
                                  "scalar", "special", "z.last" };
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpstr (vb_tensor_dict_index (back, i)->name, ==, sorted[i]);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  guint64 n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | (guchar) bytes[i];
  g_assert_cmpuint ((8 + n) % 8, ==, 0);
  g_assert_cmpint (bytes[8 + n - 1], !=, '\0');

  /* No temporary file is left beside the output. */
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint count = 0;
  while (g_dir_read_name (d) != NULL)
    count++;
  g_assert_cmpuint (count, ==, 1);

  /* Bad names are refused and leave the old file alone. */
  g_autoptr(VbTensorDict) badd = vb_tensor_dict_new ();
  vb_tensor_dict_add (badd, "__metadata__", 0, NULL);
  g_assert_false (vb_safetensors_save (path, badd, NULL, &error));
  io_assert_error (error, VB_ENGINE_ERROR_INVALID, path, "__metadata__");
  g_clear_error (&error);
  g_autoptr(VbTensorDict) again = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  io_assert_dicts_equal (dict, again);

  /* A directory that does not exist. */
  g_autofree char *nowhere = g_build_filename (dir, "no", "such", "x.safetensors", NULL);
  g_assert_false (vb_safetensors_save (nowhere, dict, NULL, &error));
  io_assert_error (error, VB_ENGINE_ERROR_IO, nowhere, NULL);
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
}

/* Every proper prefix of a valid file must be rejected cleanly. */
static void
test_truncated (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = io_data_path ("valid.safetensors");
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (src, &bytes, &len, &error));
  g_autofree char *dir = io_make_scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.safetensors", NULL);

  for (gsize n = 0; n < len; n++)
    {
      if (!io_sample (n, len))
        continue;
      io_write_prefix (path, bytes, n);
      g_autoptr(VbTensorDict) dict = vb_safetensors_load (path, &error);
      g_assert_null (dict);
      io_assert_error (error, VB_ENGINE_ERROR_CORRUPT, "cut.safetensors", NULL);
      g_clear_error (&error);
    }
  io_write_prefix (path, bytes, len);
  g_autoptr(VbTensorDict) whole = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

/* Flipping any byte must give a dict or an engine error, never a crash. */
static void
test_bitflip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = io_data_path ("valid.safetensors");
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (src, &bytes, &len, &error));
  g_autofree char *dir = io_make_scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "flip.safetensors", NULL);
  guint failed = 0;

  for (gsize i = 0; i < len; i++)
    {
      bytes[i] ^= 0x55;
      io_write_prefix (path, bytes, len);
      bytes[i] ^= 0x55;
      g_autoptr(VbTensorDict) dict = vb_safetensors_load (path, &error);
      if (dict == NULL)
        {
          g_assert_true (error->domain == VB_ENGINE_ERROR);
          failed++;
          g_clear_error (&error);
        }
    }
  /* Every header byte matters; only data bytes may flip unnoticed. */
  g_assert_cmpuint (failed, >, 8);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/io/safetensors/json", test_json);
  g_test_add_func ("/vb/io/safetensors/valid", test_valid);
  g_test_add_func ("/vb/io/safetensors/bad", test_bad);
  g_test_add_func ("/vb/io/safetensors/crafted", test_crafted);
  g_test_add_func ("/vb/io/safetensors/roundtrip", test_roundtrip);
  g_test_add_func ("/vb/io/safetensors/truncated", test_truncated);
  g_test_add_func ("/vb/io/safetensors/bitflip", test_bitflip);
  return g_test_run ();
}
