/* Data set readers: Fashion-MNIST (Debian's files), synthetic IDX plain and gzip,
 * hostile IDX and CIFAR-10 files, image folders with a corrupt file, class choice and
 * seeded stratified splits. */
#include "config.h"

#include "vb-dataset.h"
#include "vb-error.h"
#include "vb-split.h"
#include "data-test-util.h"

#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

static gboolean
have_fashion_mnist (void)
{
  if (!g_file_test (VB_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("Fashion-MNIST is not installed (dataset-fashion-mnist)");
      return FALSE;
    }
  return TRUE;
}

static int
image_sum (const VbImage *img)
{
  int s = 0;

  for (int i = 0; i < img->width * img->height * img->channels; i++)
    s += img->pixels[i];
  return s;
}

static void
test_fashion_train (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_auto(VbImage) img = { 0 };
  static const int first[10] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 };
  int per_class[10] = { 0 };

  if (!have_fashion_mnist ())
    return;
  ds = vb_dataset_new_fashion_mnist (NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (ds), ==, 60000);
  g_assert_cmpint (vb_dataset_n_classes (ds), ==, 10);
  g_assert_cmpstr (vb_dataset_class_name (ds, 0), ==, "T-shirt/top");
  g_assert_cmpstr (vb_dataset_class_name (ds, 9), ==, "Ankle boot");
  g_assert_cmpstr (vb_dataset_name (ds), ==, "fashion-mnist-train");
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (vb_dataset_label (ds, i), ==, first[i]);
  for (gsize i = 0; i < vb_dataset_size (ds); i++)
    per_class[vb_dataset_label (ds, i)]++;
  for (int c = 0; c < 10; c++)
    g_assert_cmpint (per_class[c], ==, 6000);

  /* sums computed with Python's gzip module */
  g_assert_true (vb_dataset_get_image (ds, 0, &img, &error));
  g_assert_no_error (error);
  g_assert_cmpint (img.width, ==, 28);
  g_assert_cmpint (img.height, ==, 28);
  g_assert_cmpint (img.channels, ==, 1);
  g_assert_cmpint (image_sum (&img), ==, 76247);
  vb_image_clear (&img);
  g_assert_true (vb_dataset_get_image (ds, 5, &img, &error));
  g_assert_cmpint (image_sum (&img), ==, 84165);

  g_assert_cmpuint (strlen (vb_dataset_fingerprint (ds)), ==, 64);
}

static void
test_fashion_test (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(VbDataset) again = NULL;
  g_auto(VbImage) img = { 0 };
  static const int first[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };

  if (!have_fashion_mnist ())
    return;
  ds = vb_dataset_new_fashion_mnist (VB_FASHION_MNIST_DIR, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (ds), ==, 10000);
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (vb_dataset_label (ds, i), ==, first[i]);
  g_assert_true (vb_dataset_get_image (ds, 0, &img, &error));
  g_assert_cmpint (image_sum (&img), ==, 33456);
  g_assert_cmpint (img.pixels[14 * 28 + 14], ==, 110);
  vb_image_clear (&img);
  g_assert_true (vb_dataset_get_image (ds, 5, &img, &error));
  g_assert_cmpint (image_sum (&img), ==, 50259);

  /* out of range is an error, not a crash */
  vb_image_clear (&img);
  g_assert_false (vb_dataset_get_image (ds, 10000, &img, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  again = vb_dataset_new_fashion_mnist (NULL, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vb_dataset_fingerprint (ds), ==, vb_dataset_fingerprint (again));
}

static const int small_labels[12] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 };

static void
test_idx_plain_and_gzip (void)
{
  char *dir = test_tmpdir_new ();
  g_autofree char *im = g_build_filename (dir, "im", NULL);
  g_autofree char *lb = g_build_filename (dir, "lb", NULL);
  g_autofree char *im_gz = g_build_filename (dir, "im.gz", NULL);
  g_autofree char *lb_gz = g_build_filename (dir, "lb.gz", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) plain = NULL;
  g_autoptr(VbDataset) gz = NULL;

  test_write_idx (im, lb, 12, 5, 7, small_labels, FALSE);
  test_write_idx (im_gz, lb_gz, 12, 5, 7, small_labels, TRUE);
  plain = vb_dataset_new_idx (im, lb, &error);
  g_assert_no_error (error);
  gz = vb_dataset_new_idx (im_gz, lb_gz, &error);
  g_assert_no_error (error);

  for (VbDataset **d = (VbDataset *[]) { plain, gz, NULL }; *d != NULL; d++)
    {
      g_assert_cmpuint (vb_dataset_size (*d), ==, 12);
      g_assert_cmpint (vb_dataset_n_classes (*d), ==, 10);
      for (int i = 0; i < 12; i++)
        {
          g_auto(VbImage) img = { 0 };
          g_assert_cmpint (vb_dataset_label (*d, i), ==, small_labels[i]);
          g_assert_true (vb_dataset_get_image (*d, i, &img, &error));
          g_assert_cmpint (img.width, ==, 7);
          g_assert_cmpint (img.height, ==, 5);
          for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++)
              g_assert_cmpint (img.pixels[y * 7 + x], ==, test_idx_pixel (i, y, x));
        }
    }
  test_tmpdir_remove (dir);
}

static void
test_idx_corrupt (void)
{
  char *dir = test_tmpdir_new ();
  g_autofree char *im = g_build_filename (dir, "images-idx3", NULL);
  g_autofree char *lb = g_build_filename (dir, "labels-idx1", NULL);
  g_autofree char *im_gz = g_build_filename (dir, "images-idx3.gz", NULL);
  g_autofree char *lb_gz = g_build_filename (dir, "labels-idx1.gz", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len;
  VbDataset *ds;

  test_write_idx (im, lb, 12, 5, 7, small_labels, FALSE);
  test_write_idx (im_gz, lb_gz, 12, 5, 7, small_labels, TRUE);
  g_file_get_contents (im, &data, &len, NULL);

  /* bad magic */
  data[3] = 0x02;
  test_write_file (bad, data, len);
  ds = vb_dataset_new_idx (bad, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_assert_nonnull (strstr (error->message, "magic"));
  g_clear_error (&error);
  data[3] = 0x03;

  /* truncated pixels */
  test_write_file (bad, data, len - 10);
  ds = vb_dataset_new_idx (bad, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);

  /* a hostile count: 2^31 images claimed by a tiny file, no huge allocation */
  data[4] = 0x80;
  test_write_file (bad, data, len);
  ds = vb_dataset_new_idx (bad, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);
  data[4] = 0;

  /* header cut short */
  test_write_file (bad, data, 9);
  ds = vb_dataset_new_idx (bad, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  /* counts mismatch: 11 images, 12 labels */
  data[7] = 11;
  test_write_file (bad, data, len - 35);
  ds = vb_dataset_new_idx (bad, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, bad));
  g_assert_nonnull (strstr (error->message, lb));
  g_clear_error (&error);

  /* labels file given as images: wrong magic names the file */
  ds = vb_dataset_new_idx (lb, im, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, lb));
  g_clear_error (&error);

  /* truncated gzip stream */
  g_clear_pointer (&data, g_free);
  g_file_get_contents (im_gz, &data, &len, NULL);
  test_write_file (bad, data, len / 2);
  ds = vb_dataset_new_idx (bad, lb_gz, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  /* missing file and a folder given as a file */
  ds = vb_dataset_new_idx (im, "/nonexistent/labels-idx1", &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/labels-idx1"));
  g_clear_error (&error);
  ds = vb_dataset_new_idx (dir, lb, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_clear_error (&error);

  /* Fashion-MNIST loader pointed at a folder without the files */
  ds = vb_dataset_new_fashion_mnist (dir, TRUE, &error);
  g_assert_null (ds);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "train-images-idx3-ubyte"));
  g_clear_error (&error);

  test_tmpdir_remove (dir);
}

/* CIFAR record r of a batch: label r % 10 (or given), pixel planes from (b, r, c, p). */
static guint8
cifar_pixel (int b, int r, int c, int p)
{
  return (guint8) (b * 50 + r * 11 + c * 70 + p * 3);
}

static void
write_cifar_batch (const char *path, int b, int n)
{
  g_autofree guint8 *buf = g_malloc ((gsize) n * 3073);

  for (int r = 0; r < n; r++)
    {
      guint8 *rec = buf + (gsize) r * 3073;
      rec[0] = (guint8) ((b + r) % 10);
      for (int c = 0; c < 3; c++)
        for (int p = 0; p < 1024; p++)
          rec[1 + c * 1024 + p] = cifar_pixel (b, r, c, p);
    }
  test_write_file (path, buf, (gsize) n * 3073);
}

static void
test_cifar (void)
{
  char *dir = test_tmpdir_new ();
  g_autofree char *test_path = g_build_filename (dir, "test_batch.bin", NULL);
  g_autofree char *meta = g_build_filename (dir, "batches.meta.txt", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) train = NULL;
  g_autoptr(VbDataset) test = NULL;
  g_autoptr(VbDataset) test2 = NULL;
  g_auto(VbImage) img = { 0 };
  char *fp;
  const char *names = "a0\nb1\nc2\nd3\ne4\nf5\ng6\nh7\ni8\nj9\n\n";

  for (int b = 1; b <= 5; b++)
    {
      g_autofree char *p = g_strdup_printf ("%s/data_batch_%d.bin", dir, b);
      write_cifar_batch (p, b, 3);
    }
  write_cifar_batch (test_path, 0, 2);

  train = vb_dataset_new_cifar10 (dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (train), ==, 15);
  g_assert_cmpint (vb_dataset_n_classes (train), ==, 10);
  g_assert_cmpstr (vb_dataset_class_name (train, 0), ==, "airplane");
  g_assert_cmpstr (vb_dataset_name (train), ==, "cifar10-train");
  /* sample 7 is batch 3, record 1 */
  g_assert_cmpint (vb_dataset_label (train, 7), ==, 4);
  g_assert_true (vb_dataset_get_image (train, 7, &img, &error));
  g_assert_cmpint (img.width, ==, 32);
  g_assert_cmpint (img.channels, ==, 3);
  for (int y = 0; y < 32; y += 5)
    for (int x = 0; x < 32; x += 3)
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (img.pixels[(y * 32 + x) * 3 + c], ==, cifar_pixel (3, 1, c, y * 32 + x));

  test_write_file (meta, names, strlen (names));
  test = vb_dataset_new_cifar10 (dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (test), ==, 2);
  g_assert_cmpstr (vb_dataset_class_name (test, 0), ==, "a0");
  g_assert_cmpstr (vb_dataset_class_name (test, 9), ==, "j9");
  fp = g_strdup (vb_dataset_fingerprint (test));

  /* one changed pixel changes the fingerprint */
  {
    g_autofree char *data = NULL;
    gsize len;
    g_file_get_contents (test_path, &data, &len, NULL);
    data[100] ^= 1;
    test_write_file (test_path, data, len);
  }
  test2 = vb_dataset_new_cifar10 (dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fp, !=, vb_dataset_fingerprint (test2));
  g_free (fp);

  /* truncated record */
  {
    g_autofree char *data = NULL;
    gsize len;
    g_file_get_contents (test_path, &data, &len, NULL);
    test_write_file (test_path, data, len - 1);
    g_assert_null (vb_dataset_new_cifar10 (dir, FALSE, &error));
    g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, test_path));
    g_clear_error (&error);

    /* label out of range */
    data[3073] = 10;
    test_write_file (test_path, data, len);
    g_assert_null (vb_dataset_new_cifar10 (dir, FALSE, &error));
    g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "label 10"));
    g_clear_error (&error);
  }

  /* a missing batch names itself */
  {
    g_autofree char *p = g_build_filename (dir, "data_batch_4.bin", NULL);
    g_unlink (p);
    g_assert_null (vb_dataset_new_cifar10 (dir, TRUE, &error));
    g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "data_batch_4.bin"));
    g_clear_error (&error);
  }
  test_tmpdir_remove (dir);
}

/* Short or misshapen test batches, crafted here: each is refused with a message that
 * names the file and the problem. */
static void
test_cifar_bad_files (void)
{
  static const struct {
    gsize       len;
    const char *what;
  } cases[] = {
    { 0, "the file is empty" },
    { 100, "100 bytes is shorter than one 3073-byte CIFAR-10 record" },
    { 2 * 3074, "a CIFAR-100 batch, not CIFAR-10" },                   /* two label bytes */
    { 2 * 3073 - 1, "not a whole number of 3073-byte CIFAR-10 records" },  /* truncated */
    { 2 * 3073 + 1, "not a whole number of 3073-byte CIFAR-10 records" },  /* trailing byte */
  };
  char *dir = test_tmpdir_new ();
  g_autofree char *path = g_build_filename (dir, "test_batch.bin", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      /* label bytes 0 everywhere, so only the size can be wrong */
      g_autofree guint8 *bytes = g_malloc0 (MAX (cases[i].len, 1));

      test_write_file (path, bytes, cases[i].len);
      g_assert_null (vb_dataset_new_cifar10 (dir, FALSE, &error));
      g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
      if (strstr (error->message, path) == NULL || strstr (error->message, cases[i].what) == NULL)
        g_error ("case %u: want \"%s\": %s", i, cases[i].what, error->message);
    }
  test_tmpdir_remove (dir);
}

/* root/{cat,dog,emu}: cat has 3 PNGs (one RGBA, one .PNG), dog 2 JPEGs and a corrupt
 * PNG, emu 1 PNG; plus things that must be ignored: a hidden folder and file, a text
 * file, a symlink loop, a FIFO and a folder named like images, an image in the root. */
static char *
make_folder (void)
{
  char *root = test_tmpdir_new ();
  g_autoptr(GPtrArray) p = g_ptr_array_new_with_free_func (g_free);
  const char *names[][2] = {
    { "cat", "a.png" }, { "cat", "b.png" }, { "cat", "C.PNG" },
    { "dog", "x.jpg" }, { "dog", "y.JPEG" }, { "dog", "z-corrupt.png" },
    { "emu", "e.png" }, { "emu", "notes.txt" }, { "emu", ".hidden.png" },
    { "emu", "loop.jpg" }, { "emu", "fifo.png" }, { "emu", "dir.png" },
    { ".hidden", "h.png" }, { "not-a-class.png", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (p, g_build_filename (root, names[i][0], names[i][1], NULL));
  for (guint i = 0; i < 4; i++)
    {
      const char *cls[] = { "cat", "dog", "emu", ".hidden" };
      g_autofree char *d = g_build_filename (root, cls[i], NULL);
      g_mkdir (d, 0755);
    }
#define P(i) ((const char *) g_ptr_array_index (p, i))
  test_write_png (P (0), 6, 4, 1, FALSE);
  test_write_png (P (1), 5, 5, 2, TRUE);
  test_write_png (P (2), 3, 2, 3, FALSE);
  test_write_png (P (3), 16, 8, 4, FALSE);
  test_write_png (P (4), 8, 8, 5, FALSE);
  test_write_file (P (5), "\x89PNG\r\n\x1a\n garbage", 17);
  test_write_png (P (6), 4, 4, 6, FALSE);
  test_write_file (P (7), "hello", 5);
  test_write_png (P (8), 4, 4, 7, FALSE);
  g_assert_cmpint (symlink ("loop.jpg", P (9)), ==, 0);
  g_assert_cmpint (mkfifo (P (10), 0644), ==, 0);
  g_mkdir (P (11), 0755);
  test_write_png (P (12), 4, 4, 8, FALSE);
  test_write_png (P (13), 4, 4, 9, FALSE);
#undef P
  return root;
}

static void
test_folder (void)
{
  char *root = make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(VbDataset) again = NULL;
  static const int labels[7] = { 0, 0, 0, 1, 1, 1, 2 };

  ds = vb_dataset_new_image_folder (root, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (ds), ==, 7);
  g_assert_cmpint (vb_dataset_n_classes (ds), ==, 3);
  g_assert_cmpstr (vb_dataset_class_name (ds, 0), ==, "cat");
  g_assert_cmpstr (vb_dataset_class_name (ds, 2), ==, "emu");
  for (int i = 0; i < 7; i++)
    g_assert_cmpint (vb_dataset_label (ds, i), ==, labels[i]);

  /* sorted by byte order: C.PNG, a.png, b.png */
  {
    g_auto(VbImage) img = { 0 };
    g_assert_true (vb_dataset_get_image (ds, 0, &img, &error));
    g_assert_no_error (error);
    g_assert_cmpint (img.width, ==, 3);
    g_assert_cmpint (img.height, ==, 2);
    g_assert_cmpint (img.channels, ==, 3);
    vb_image_clear (&img);

    /* exact PNG pixels */
    g_assert_true (vb_dataset_get_image (ds, 1, &img, &error));
    g_assert_cmpint (img.width, ==, 6);
    g_assert_cmpint (img.height, ==, 4);
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 6; x++)
        for (int c = 0; c < 3; c++)
          g_assert_cmpint (img.pixels[(y * 6 + x) * 3 + c], ==, test_png_pixel (1, y, x, c));
    vb_image_clear (&img);

    /* RGBA: alpha dropped, colour kept */
    g_assert_true (vb_dataset_get_image (ds, 2, &img, &error));
    g_assert_cmpint (img.channels, ==, 3);
    for (int y = 0; y < 5; y++)
      for (int x = 0; x < 5; x++)
        for (int c = 0; c < 3; c++)
          g_assert_cmpint (img.pixels[(y * 5 + x) * 3 + c], ==, test_png_pixel (2, y, x, c));
    vb_image_clear (&img);

    /* JPEG decodes, close to the original (lossy) */
    g_assert_true (vb_dataset_get_image (ds, 3, &img, &error));
    g_assert_cmpint (img.width, ==, 16);
    g_assert_cmpint (img.height, ==, 8);
    vb_image_clear (&img);

    /* the corrupt file: an error naming it */
    g_assert_false (vb_dataset_get_image (ds, 5, &img, &error));
    g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "z-corrupt.png"));
    g_clear_error (&error);
  }

  g_assert_cmpstr (vb_dataset_name (ds), ==, strrchr (root, '/') + 1);
  again = vb_dataset_new_image_folder (root, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vb_dataset_fingerprint (ds), ==, vb_dataset_fingerprint (again));
  g_clear_pointer (&again, vb_dataset_unref);

  /* a new file changes the fingerprint */
  {
    g_autofree char *p = g_build_filename (root, "emu", "f.png", NULL);
    test_write_png (p, 2, 2, 10, FALSE);
    again = vb_dataset_new_image_folder (root, NULL, 0, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (vb_dataset_size (again), ==, 8);
    g_assert_cmpstr (vb_dataset_fingerprint (ds), !=, vb_dataset_fingerprint (again));
  }
  test_tmpdir_remove (root);
}

static void
test_folder_classes (void)
{
  char *root = make_folder ();
  g_autoptr(GError) error = NULL;
  const char *const list[] = { "emu", "cat", NULL };
  const char *const unknown[] = { "cat", "yak", NULL };
  g_autoptr(VbDataset) ds = NULL;
  g_autofree char *picked = NULL;
  gboolean all_same = TRUE;
  VbDataset *bad;

  ds = vb_dataset_new_image_folder (root, list, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vb_dataset_n_classes (ds), ==, 2);
  g_assert_cmpstr (vb_dataset_class_name (ds, 0), ==, "emu");
  g_assert_cmpstr (vb_dataset_class_name (ds, 1), ==, "cat");
  g_assert_cmpuint (vb_dataset_size (ds), ==, 4);
  g_assert_cmpint (vb_dataset_label (ds, 0), ==, 0);
  g_assert_cmpint (vb_dataset_label (ds, 1), ==, 1);
  g_clear_pointer (&ds, vb_dataset_unref);

  bad = vb_dataset_new_image_folder (root, unknown, 0, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "yak"));
  g_clear_error (&error);

  bad = vb_dataset_new_image_folder (root, NULL, 4, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  bad = vb_dataset_new_image_folder ("/nonexistent-vb-root", NULL, 0, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent-vb-root"));
  g_clear_error (&error);

  /* seeded choice of 2 of 3: reproducible, kept in name order, and seeds differ */
  for (guint64 seed = 0; seed < 8; seed++)
    {
      g_autoptr(VbDataset) a = vb_dataset_new_image_folder (root, NULL, 2, seed, &error);
      g_autoptr(VbDataset) b = vb_dataset_new_image_folder (root, NULL, 2, seed, &error);
      g_autofree char *names = NULL;
      g_assert_no_error (error);
      g_assert_cmpint (vb_dataset_n_classes (a), ==, 2);
      g_assert_cmpstr (vb_dataset_fingerprint (a), ==, vb_dataset_fingerprint (b));
      g_assert_cmpint (strcmp (vb_dataset_class_name (a, 0), vb_dataset_class_name (a, 1)), <, 0);
      names = g_strconcat (vb_dataset_class_name (a, 0), ",", vb_dataset_class_name (a, 1), NULL);
      if (picked == NULL)
        picked = g_strdup (names);
      else if (strcmp (picked, names) != 0)
        all_same = FALSE;
    }
  g_assert_false (all_same);
  test_tmpdir_remove (root);
}

static int
cmp_int (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

static void
test_split (void)
{
  char *dir = test_tmpdir_new ();
  g_autofree char *im = g_build_filename (dir, "im", NULL);
  g_autofree char *lb = g_build_filename (dir, "lb", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(GArray) train = NULL, val = NULL, train2 = NULL, val2 = NULL;
  g_autoptr(GArray) train3 = NULL, val3 = NULL, limited = NULL;
  int labels[203];
  int per_class[4] = { 0 }, train_per_class[4] = { 0 };
  g_autofree int *all = NULL;

  /* uneven classes: 0 → 101, 1 → 51, 2 → 41, 3 → 10 */
  for (int i = 0; i < 203; i++)
    labels[i] = i % 2 == 0 && i < 202 ? 0 : i < 102 ? 1 : i < 184 ? 2 : 3;
  test_write_idx (im, lb, 203, 2, 2, labels, FALSE);
  ds = vb_dataset_new_idx (im, lb, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 203; i++)
    per_class[labels[i]]++;

  vb_split_seeded (ds, 42, 0.8, &train, &val);
  g_assert_cmpuint (train->len + val->len, ==, 203);
  for (guint k = 0; k < train->len; k++)
    train_per_class[labels[g_array_index (train, int, k)]]++;
  for (int c = 0; c < 4; c++)
    g_assert_cmpint (train_per_class[c], ==, (int) (0.8 * per_class[c] + 0.5));

  /* disjoint and complete; sorted */
  all = g_new (int, 203);
  memcpy (all, train->data, train->len * sizeof (int));
  memcpy (all + train->len, val->data, val->len * sizeof (int));
  qsort (all, 203, sizeof (int), (GCompareFunc) cmp_int);
  for (int i = 0; i < 203; i++)
    g_assert_cmpint (all[i], ==, i);
  for (guint k = 1; k < train->len; k++)
    g_assert_cmpint (g_array_index (train, int, k - 1), <, g_array_index (train, int, k));

  /* reproducible; another seed differs */
  vb_split_seeded (ds, 42, 0.8, &train2, &val2);
  g_assert_cmpuint (train2->len, ==, train->len);
  g_assert_cmpmem (train2->data, train2->len * sizeof (int), train->data, train->len * sizeof (int));
  vb_split_seeded (ds, 43, 0.8, &train3, &val3);
  g_assert_cmpuint (train3->len, ==, train->len);
  g_assert_true (memcmp (train3->data, train->data, train->len * sizeof (int)) != 0);

  /* limit per class keeps order and caps each class */
  limited = vb_indices_limit_per_class (ds, train, 5);
  g_assert_cmpuint (limited->len, ==, 5 * 4);
  memset (train_per_class, 0, sizeof train_per_class);
  for (guint k = 0; k < limited->len; k++)
    {
      train_per_class[labels[g_array_index (limited, int, k)]]++;
      if (k > 0)
        g_assert_cmpint (g_array_index (limited, int, k - 1), <, g_array_index (limited, int, k));
    }
  for (int c = 0; c < 4; c++)
    g_assert_cmpint (train_per_class[c], ==, 5);
  g_clear_pointer (&limited, g_array_unref);
  limited = vb_indices_limit_per_class (ds, NULL, 1000);
  g_assert_cmpuint (limited->len, ==, 203);

  test_tmpdir_remove (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/data/fashion-mnist/train", test_fashion_train);
  g_test_add_func ("/vb/data/fashion-mnist/test", test_fashion_test);
  g_test_add_func ("/vb/data/idx/plain-and-gzip", test_idx_plain_and_gzip);
  g_test_add_func ("/vb/data/idx/corrupt", test_idx_corrupt);
  g_test_add_func ("/vb/data/cifar10/batches", test_cifar);
  g_test_add_func ("/vb/data/cifar10/bad-files", test_cifar_bad_files);
  g_test_add_func ("/vb/data/image-folder/scan-and-decode", test_folder);
  g_test_add_func ("/vb/data/image-folder/classes", test_folder_classes);
  g_test_add_func ("/vb/data/split/seeded-stratified", test_split);
  return g_test_run ();
}
