#include "data-test-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <zlib.h>

char *
test_tmpdir_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("vb-data-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  GDir *d;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      d = g_dir_open (path, 0, NULL);
      if (d != NULL)
        {
          while ((name = g_dir_read_name (d)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, name, NULL);
              remove_tree (child);
            }
          g_dir_close (d);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
test_tmpdir_remove (char *dir)
{
  remove_tree (dir);
  g_free (dir);
}

guint8
test_idx_pixel (int i, int y, int x)
{
  return (guint8) (i * 7 + y * 13 + x * 3);
}

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 p[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, p, 4);
}

static void
write_maybe_gz (const char *path, GByteArray *b, gboolean gz)
{
  if (gz)
    {
      gzFile f = gzopen (path, "wb");
      g_assert_nonnull (f);
      g_assert_cmpint (gzwrite (f, b->data, b->len), ==, (int) b->len);
      g_assert_cmpint (gzclose (f), ==, Z_OK);
    }
  else
    test_write_file (path, b->data, b->len);
}

void
test_write_idx (const char *images_path, const char *labels_path, int n, int rows, int cols,
                const int *labels, gboolean gz)
{
  g_autoptr(GByteArray) im = g_byte_array_new ();
  g_autoptr(GByteArray) lb = g_byte_array_new ();

  put32 (im, 0x803);
  put32 (im, n);
  put32 (im, rows);
  put32 (im, cols);
  for (int i = 0; i < n; i++)
    for (int y = 0; y < rows; y++)
      for (int x = 0; x < cols; x++)
        {
          guint8 v = test_idx_pixel (i, y, x);
          g_byte_array_append (im, &v, 1);
        }
  put32 (lb, 0x801);
  put32 (lb, n);
  for (int i = 0; i < n; i++)
    {
      guint8 v = (guint8) labels[i];
      g_byte_array_append (lb, &v, 1);
    }
  write_maybe_gz (images_path, im, gz);
  write_maybe_gz (labels_path, lb, gz);
}

void
test_write_file (const char *path, const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

guint8
test_png_pixel (int seed, int y, int x, int c)
{
  return (guint8) (seed * 31 + y * 17 + x * 5 + c * 80);
}

void
test_write_png (const char *path, int w, int h, int seed, gboolean alpha)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, w, h);
  g_autoptr(GError) error = NULL;
  guint8 *px = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  int nch = gdk_pixbuf_get_n_channels (pb);
  const char *type = g_str_has_suffix (path, ".png") || g_str_has_suffix (path, ".PNG")
                     ? "png" : "jpeg";

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        for (int c = 0; c < 3; c++)
          px[y * stride + x * nch + c] = test_png_pixel (seed, y, x, c);
        if (alpha)
          px[y * stride + x * nch + 3] = (guint8) (x * 40);
      }
  gdk_pixbuf_save (pb, path, type, &error, NULL);
  g_assert_no_error (error);
}
