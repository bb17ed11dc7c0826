/* io-test-util.h: shared helpers for the checkpoint-format tests. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "vb-error.h"
#include "vb-tensor-dict.h"

static inline char *
io_data_path (const char *name)
{
  const char *dir = g_getenv ("VB_TEST_DATA");
  if (dir != NULL)
    return g_build_filename (dir, "io", name, NULL);
  return g_test_build_filename (G_TEST_DIST, "..", "data", "io", name, NULL);
}

/* Asserts a VB_ENGINE_ERROR with `code` whose message names `file` and contains `what`. */
static inline void
io_assert_error (GError *error, int code, const char *file, const char *what)
{
  g_assert_nonnull (error);
  if (error->domain != VB_ENGINE_ERROR || error->code != code
      || strstr (error->message, file) == NULL
      || (what != NULL && strstr (error->message, what) == NULL))
    g_error ("unexpected error (code %d, want %d; want \"%s\" and \"%s\"): %s",
             error->code, code, file, what ? what : "", error->message);
}

static inline gboolean
io_same_bits (float a, float b)
{
  return memcmp (&a, &b, sizeof (float)) == 0;
}

/* Asserts that two dicts hold the same names, shapes and bit-identical values. */
static inline void
io_assert_dicts_equal (VbTensorDict *a, VbTensorDict *b)
{
  g_assert_cmpuint (vb_tensor_dict_size (a), ==, vb_tensor_dict_size (b));
  for (guint i = 0; i < vb_tensor_dict_size (a); i++)
    {
      VbTensorEntry *x = vb_tensor_dict_index (a, i);
      VbTensorEntry *y = vb_tensor_dict_lookup (b, x->name);
      if (y == NULL)
        g_error ("tensor %s missing", x->name);
      g_assert_cmpint (x->ndim, ==, y->ndim);
      for (int d = 0; d < x->ndim; d++)
        g_assert_cmpint (x->shape[d], ==, y->shape[d]);
      g_assert_cmpint (x->numel, ==, y->numel);
      for (int64_t k = 0; k < x->numel; k++)
        if (!io_same_bits (x->data[k], y->data[k]))
          g_error ("%s[%" G_GINT64_FORMAT "]: %g != %g", x->name, k, x->data[k], y->data[k]);
    }
}

/* Writes the first `len` bytes of `data` to `path` (plain stdio: no fsync, since the
 * truncation loops write thousands of files). */
static inline void
io_write_prefix (const char *path, const char *data, gsize len)
{
  FILE *f = g_fopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (data, 1, len, f), ==, len);
  g_assert_cmpint (fclose (f), ==, 0);
}

/* Which lengths / offsets a truncation or corruption loop visits: all of them with
 * -m thorough, otherwise both ends densely and the middle sparsely, to keep the run
 * to a few seconds on a loaded machine. */
static inline gboolean
io_sample (gsize i, gsize len)
{
  return g_test_thorough () || i < 160 || i + 160 >= len || i % 13 == 0;
}

/* A scratch directory for loops that write thousands of small files: tmpfs when there
 * is one (ten times faster than a loaded disk), else the usual temporary directory. */
static inline char *
io_make_scratch_dir (void)
{
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      char *tmpl = g_strdup ("/dev/shm/vb-io-XXXXXX");
      if (g_mkdtemp (tmpl) != NULL)
        return tmpl;
      g_free (tmpl);
    }
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("vb-io-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}
