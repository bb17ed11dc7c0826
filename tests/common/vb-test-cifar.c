#include "config.h"

#include "vb-test-cifar.h"

#include <glib/gstdio.h>

void
vb_test_write_cifar_batch (const char *path, int n, guint32 seed)
{
  g_autofree guint8 *buf = g_malloc ((gsize) n * VB_TEST_CIFAR_RECORD);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);

  for (int i = 0; i < n; i++)
    {
      guint8 *rec = buf + (gsize) i * VB_TEST_CIFAR_RECORD;
      int c = i % 10, x0 = (c % 4) * 7, y0 = (c / 4) * 9;
      guint8 colour[3] = { (guint8) (c * 25), (guint8) (255 - c * 25), (guint8) ((c * 70) % 256) };
      rec[0] = (guint8) c;
      for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 32; y++)
          for (int x = 0; x < 32; x++)
            {
              gboolean in = x >= x0 && x < x0 + 12 && y >= y0 && y < y0 + 12;
              rec[1 + ch * 1024 + y * 32 + x] = in ? colour[ch]
                                                   : (guint8) g_rand_int_range (rand, 60, 100);
            }
    }
  g_assert_true (g_file_set_contents (path, (const char *) buf,
                                      (gssize) n * VB_TEST_CIFAR_RECORD, NULL));
}

void
vb_test_make_cifar (const char *dir, int train_per_file, int test_records)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int b = 1; b <= 5; b++)
    {
      g_autofree char *name = g_strdup_printf ("data_batch_%d.bin", b);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      vb_test_write_cifar_batch (path, train_per_file, (guint32) b);
    }
  g_autofree char *test = g_build_filename (dir, "test_batch.bin", NULL);
  vb_test_write_cifar_batch (test, test_records, 99);
}
