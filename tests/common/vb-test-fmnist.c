#include "config.h"

#include "vb-test-fmnist.h"

#include <string.h>
#include <zlib.h>

gboolean
vb_test_have_fashion_mnist (void)
{
  g_autofree char *f = g_build_filename (VB_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz", NULL);
  return g_file_test (f, G_FILE_TEST_EXISTS);
}

/* Copies the header (with the count set to n) and the first n items of a gzipped IDX file. */
static void
write_idx_subset (const char *from, const char *to, gsize header, gsize item, guint32 n)
{
  gzFile gz = gzopen (from, "rb");
  g_assert_nonnull (gz);
  gsize len = header + (gsize) n * item;
  g_autofree guint8 *buf = g_malloc (len);
  g_assert_cmpint (gzread (gz, buf, (unsigned) len), ==, (int) len);
  gzclose (gz);
  guint32 be = GUINT32_TO_BE (n);
  memcpy (buf + 4, &be, 4);
  g_assert_true (g_file_set_contents (to, (const char *) buf, len, NULL));
}

void
vb_test_write_fashion_mnist_subset (const char *dir, guint32 n_train, guint32 n_test)
{
  const struct { const char *prefix; guint32 n; } sets[] = {
    { "train", n_train }, { "t10k", n_test },
  };
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    for (int labels = 0; labels < 2; labels++)
      {
        g_autofree char *leaf = g_strdup_printf ("%s-%s-idx%d-ubyte", sets[i].prefix,
                                                 labels ? "labels" : "images", labels ? 1 : 3);
        g_autofree char *gz = g_strconcat (leaf, ".gz", NULL);
        g_autofree char *from = g_build_filename (VB_FASHION_MNIST_DIR, gz, NULL);
        g_autofree char *to = g_build_filename (dir, leaf, NULL);
        write_idx_subset (from, to, labels ? 8 : 16, labels ? 1 : 28 * 28, sets[i].n);
      }
}

char *
vb_test_tiny_base_json (const char *path, int train_limit, int val_limit, int epochs,
                        int eval_batch_size)
{
  return g_strdup_printf (
    "{\"device\": \"cpu\","
    " \"model\": {\"dims\": 8, \"depths\": [1, 1], \"scan\": \"4dir\", \"drop_path\": 0.1},"
    " \"data\": {\"dataset\": \"fashion-mnist\", \"path\": \"%s\", \"img_size\": 16,"
    "          \"train_limit\": %d, \"val_limit\": %d, \"workers\": 1, \"scale_min\": 0.5},"
    " \"train\": {\"epochs\": %d, \"batch_size\": 8, \"lr\": 0.005, \"warmup_epochs\": 0.2,"
    "           \"eval_batch_size\": %d, \"threads\": 1, \"seed\": 7}}",
    path, train_limit, val_limit, epochs, eval_batch_size);
}
