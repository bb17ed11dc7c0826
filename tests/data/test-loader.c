/* The prefetching loader: batches identical whatever the number of workers, epochs
 * that differ, restarts and frees in the middle of an epoch, and corrupt images
 * skipped and counted. */
#include "config.h"

#include "vb-loader.h"
#include "vb-error.h"
#include "data-test-util.h"

#include <string.h>
#include <glib/gstdio.h>

#define N     100
#define SIZE  12
#define BATCH 16

static VbDataset *
make_idx (char **dir_out)
{
  char *dir = test_tmpdir_new ();
  g_autofree char *im = g_build_filename (dir, "im", NULL);
  g_autofree char *lb = g_build_filename (dir, "lb", NULL);
  g_autoptr(GError) error = NULL;
  int labels[N];
  VbDataset *ds;

  for (int i = 0; i < N; i++)
    labels[i] = i % 10;
  test_write_idx (im, lb, N, 20, 18, labels, FALSE);
  ds = vb_dataset_new_idx (im, lb, &error);
  g_assert_no_error (error);
  *dir_out = dir;
  return ds;
}

/* All batches of one epoch, concatenated: images then labels (as floats). */
static GArray *
run_epoch (VbDataset *ds, const int *idx, gsize n, int workers, int epoch, gboolean train,
           int *n_batches)
{
  VbTransformSpec spec;
  g_autoptr(VbLoader) loader = NULL;
  g_autofree float *images = g_new (float, BATCH * SIZE * SIZE * 3);
  int labels[BATCH];
  int got, batches = 0;
  GArray *all = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;

  vb_transform_spec_init (&spec, SIZE, train);
  loader = vb_loader_new (ds, idx, n, BATCH, TRUE, FALSE, &spec, 1234, workers);
  vb_loader_start_epoch (loader, epoch);
  while (vb_loader_next (loader, images, labels, &got, &error))
    {
      g_assert_cmpint (got, >, 0);
      g_assert_cmpint (got, <=, BATCH);
      g_array_append_vals (all, images, got * SIZE * SIZE * 3);
      for (int i = 0; i < got; i++)
        {
          float l = (float) labels[i];
          g_array_append_val (all, l);
        }
      batches++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (batches, ==, vb_loader_n_batches (loader));
  g_assert_cmpuint (vb_loader_skipped_count (loader), ==, 0);
  *n_batches = batches;
  return all;
}

static void
test_determinism (void)
{
  char *dir;
  g_autoptr(VbDataset) ds = make_idx (&dir);
  g_autoptr(GArray) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  int nb;

  a = run_epoch (ds, NULL, 0, 1, 3, TRUE, &nb);
  g_assert_cmpint (nb, ==, (N + BATCH - 1) / BATCH);
  b = run_epoch (ds, NULL, 0, 3, 3, TRUE, &nb);
  c = run_epoch (ds, NULL, 0, 0, 3, TRUE, &nb);
  g_assert_cmpuint (a->len, ==, N * (SIZE * SIZE * 3 + 1));
  g_assert_cmpmem (a->data, a->len * sizeof (float), b->data, b->len * sizeof (float));
  g_assert_cmpmem (a->data, a->len * sizeof (float), c->data, c->len * sizeof (float));

  /* another epoch: another order and other augmentations */
  d = run_epoch (ds, NULL, 0, 3, 4, TRUE, &nb);
  g_assert_cmpuint (d->len, ==, a->len);
  g_assert_true (memcmp (a->data, d->data, a->len * sizeof (float)) != 0);

  /* eval over a subset: every chosen sample exactly once */
  {
    int idx[30], seen[N] = { 0 };
    gsize pos = 0;
    for (int i = 0; i < 30; i++)
      idx[i] = i * 3;
    e = run_epoch (ds, idx, 30, 2, 0, FALSE, &nb);
    g_assert_cmpint (nb, ==, 2);
    /* labels follow each batch's images; count label occurrences */
    for (int bt = 0; bt < 2; bt++)
      {
        int got = bt == 0 ? BATCH : 30 - BATCH;
        pos += (gsize) got * SIZE * SIZE * 3;
        for (int i = 0; i < got; i++)
          seen[(int) g_array_index (e, float, pos + i)]++;
        pos += got;
      }
    for (int l = 0; l < 10; l++)
      g_assert_cmpint (seen[l], ==, 3);
  }
  test_tmpdir_remove (dir);
}

/* One batch through a loader of n_shards shards, shard by shard, concatenated: images
 * then labels, the layout run_epoch gives one batch. */
static GArray *
sharded_batch (VbDataset *ds, int batch, gboolean train, int n_shards)
{
  VbTransformSpec spec;
  g_autofree float *images = g_new (float, BATCH * SIZE * SIZE * 3);
  int labels[BATCH], got;
  GArray *imgs = g_array_new (FALSE, FALSE, sizeof (float));
  GArray *labs = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;

  vb_transform_spec_init (&spec, SIZE, train);
  for (int k = 0; k < n_shards; k++)
    {
      g_autoptr(VbLoader) loader = vb_loader_new (ds, NULL, 0, BATCH, TRUE, FALSE, &spec, 1234,
                                                  k % 2 ? 2 : 0);
      vb_loader_set_shard (loader, k, n_shards);
      vb_loader_start_epoch (loader, 3);
      /* the wanted batch: an empty shard of it is skipped, so count batches by hand */
      for (int b = 0; b <= batch; b++)
        {
          got = 0;
          if (!vb_loader_next (loader, images, labels, &got, &error))
            break;
          if (b < batch)
            continue;
          g_array_append_vals (imgs, images, got * SIZE * SIZE * 3);
          for (int i = 0; i < got; i++)
            {
              float l = (float) labels[i];
              g_array_append_val (labs, l);
            }
        }
      g_assert_no_error (error);
    }
  g_array_append_vals (imgs, labs->data, labs->len);
  g_array_unref (labs);
  return imgs;
}

/* Data parallel: the shards of a batch, side by side, are the batch itself, image for
 * image and augmentation for augmentation, for any number of shards (also uneven: the last
 * batch of 100 is 4 images) */
static void
test_shards (void)
{
  char *dir;
  g_autoptr(VbDataset) ds = make_idx (&dir);
  int nb;
  g_autoptr(GArray) whole = run_epoch (ds, NULL, 0, 1, 3, TRUE, &nb);
  gsize per_image = SIZE * SIZE * 3;
  for (int n_shards = 1; n_shards <= 3; n_shards++)
    for (int batch = 0; batch < nb; batch += nb - 1)   /* the first and the short last one */
      {
        int rows = batch == nb - 1 ? N - batch * BATCH : BATCH;
        g_autoptr(GArray) got = sharded_batch (ds, batch, TRUE, n_shards);
        g_assert_cmpuint (got->len, ==, rows * (per_image + 1));
        /* run_epoch's layout: each batch's images then its labels */
        const float *want = &g_array_index (whole, float, (gsize) batch * BATCH * (per_image + 1));
        g_assert_cmpmem (got->data, got->len * sizeof (float), want, got->len * sizeof (float));
      }
  test_tmpdir_remove (dir);
}

static void
test_drop_last_and_restart (void)
{
  char *dir;
  g_autoptr(VbDataset) ds = make_idx (&dir);
  VbTransformSpec spec;
  VbLoader *loader;
  g_autofree float *first = g_new (float, BATCH * SIZE * SIZE * 3);
  g_autofree float *images = g_new (float, BATCH * SIZE * SIZE * 3);
  int labels[BATCH], got, count = 0;

  vb_transform_spec_init (&spec, SIZE, TRUE);
  loader = vb_loader_new (ds, NULL, 0, BATCH, TRUE, TRUE, &spec, 5, 2);
  g_assert_cmpint (vb_loader_n_batches (loader), ==, N / BATCH);

  /* next without start_epoch starts epoch 0 */
  g_assert_true (vb_loader_next (loader, first, labels, &got, NULL));
  g_assert_cmpint (got, ==, BATCH);
  g_assert_true (vb_loader_next (loader, images, labels, &got, NULL));

  /* restart mid-epoch: the first batch comes again */
  vb_loader_start_epoch (loader, 0);
  g_assert_true (vb_loader_next (loader, images, labels, &got, NULL));
  g_assert_cmpmem (first, BATCH * SIZE * SIZE * 3 * sizeof (float),
                   images, BATCH * SIZE * SIZE * 3 * sizeof (float));
  count = 1;
  while (vb_loader_next (loader, images, labels, &got, NULL))
    {
      g_assert_cmpint (got, ==, BATCH);
      count++;
    }
  g_assert_cmpint (count, ==, N / BATCH);
  /* past the end stays at the end */
  g_assert_false (vb_loader_next (loader, images, labels, &got, NULL));
  g_assert_cmpint (got, ==, 0);

  /* free mid-epoch, with workers busy prefetching */
  vb_loader_start_epoch (loader, 1);
  g_assert_true (vb_loader_next (loader, images, labels, &got, NULL));
  vb_loader_free (loader);

  /* free right after starting, before anything was consumed */
  loader = vb_loader_new (ds, NULL, 0, 4, TRUE, FALSE, &spec, 5, 3);
  vb_loader_start_epoch (loader, 0);
  vb_loader_free (loader);
  /* and free of one never started */
  loader = vb_loader_new (ds, NULL, 0, 4, TRUE, FALSE, &spec, 5, 3);
  vb_loader_free (loader);
  test_tmpdir_remove (dir);
}

static void
test_skips_corrupt (void)
{
  char *root = test_tmpdir_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(VbLoader) loader = NULL;
  VbTransformSpec spec;
  g_autofree float *images = g_new (float, 4 * SIZE * SIZE * 3);
  int labels[4], got, total = 0;

  for (int c = 0; c < 2; c++)
    {
      g_autofree char *d = g_strdup_printf ("%s/class%d", root, c);
      g_mkdir (d, 0755);
      for (int k = 0; k < 4; k++)
        {
          g_autofree char *p = g_strdup_printf ("%s/%d.%s", d, k, k == 2 ? "jpg" : "png");
          test_write_png (p, 10 + k, 9, c * 4 + k, FALSE);
        }
    }
  {
    g_autofree char *bad = g_strdup_printf ("%s/class1/9-broken.png", root);
    test_write_file (bad, "not a png at all", 16);
  }
  ds = vb_dataset_new_image_folder (root, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_dataset_size (ds), ==, 9);

  vb_transform_spec_init (&spec, SIZE, FALSE);
  loader = vb_loader_new (ds, NULL, 0, 4, FALSE, FALSE, &spec, 0, 2);
  for (int epoch = 0; epoch < 2; epoch++)
    {
      vb_loader_start_epoch (loader, epoch);
      total = 0;
      while (vb_loader_next (loader, images, labels, &got, &error))
        total += got;
      g_assert_no_error (error);
      g_assert_cmpint (total, ==, 8);
      g_assert_cmpuint (vb_loader_skipped_count (loader), ==, (guint64) epoch + 1);
    }
  test_tmpdir_remove (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/data/loader/determinism", test_determinism);
  g_test_add_func ("/vb/data/loader/drop-last-restart-free", test_drop_last_and_restart);
  g_test_add_func ("/vb/data/loader/shards", test_shards);
  g_test_add_func ("/vb/data/loader/skips-corrupt", test_skips_corrupt);
  return g_test_run ();
}
