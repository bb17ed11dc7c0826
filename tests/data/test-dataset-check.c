/* The pre-flight data set check on real files: an image folder with one corrupt PNG is
 * usable and reports it; a class with too few images fails with an error naming the
 * class's folder; a missing folder fails naming it; a Fashion-MNIST subset in IDX files
 * (cut from Debian's dataset-fashion-mnist) reports its counts. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "data-test-util.h"
#include "vb-dataset-check.h"
#include "vb-error.h"
#include "vb-test-fmnist.h"

/* root/<class>/<i>.png for each class, n[c] images of 8×8 */
static void
write_folder (const char        *root,
              const char *const *classes,
              const int         *n)
{
  for (int c = 0; classes[c] != NULL; c++)
    {
      g_autofree char *dir = g_build_filename (root, classes[c], NULL);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      for (int i = 0; i < n[c]; i++)
        {
          g_autofree char *name = g_strdup_printf ("%03d.png", i);
          g_autofree char *path = g_build_filename (dir, name, NULL);
          test_write_png (path, 8, 8, c * 100 + i, FALSE);
        }
    }
}

static void
test_folder_with_corrupt_image (void)
{
  g_autofree char *tmp = test_tmpdir_new ();
  static const char *const classes[] = { "ant", "bee", "cat", NULL };
  static const int n[] = { 10, 10, 10 };
  write_folder (tmp, classes, n);
  /* a PNG signature followed by garbage: found by name, fails to decode */
  g_autofree char *bad = g_build_filename (tmp, "bee", "999.png", NULL);
  test_write_file (bad, "\x89PNG\r\n\x1a\nnot really", 18);

  VbDatasetCheckOptions o = { .dataset = "image-folder", .path = tmp, .split_seed = 0,
                              .train_fraction = 0.8, .min_per_class = 1 };
  g_auto (VbDatasetCheckReport) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.n_classes, ==, 3);
  g_assert_cmpuint (r.n_images, ==, 31);
  g_assert_cmpuint (r.n_corrupt, ==, 1);
  g_assert_nonnull (strstr (r.first_corrupt, "999.png"));
  g_assert_cmpuint (r.n_train + r.n_val, ==, 30);
  g_assert_cmpuint (r.n_train, ==, 24);   /* round (0.8 · 11) − 1 corrupt + 8 + 8 or so */
  g_assert_cmpuint (r.min_per_class, ==, 2);

  /* two classes picked by seed */
  vb_dataset_check_report_clear (&r);
  o.n_classes = 2;
  g_assert_true (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_cmpint (r.n_classes, ==, 2);

  test_tmpdir_remove (g_steal_pointer (&tmp));
}

static void
test_folder_too_few_images (void)
{
  g_autofree char *tmp = test_tmpdir_new ();
  static const char *const classes[] = { "ant", "bee", "cat", NULL };
  static const int n[] = { 10, 3, 10 };
  write_folder (tmp, classes, n);

  VbDatasetCheckOptions o = { .dataset = "image-folder", .path = tmp, .split_seed = 0,
                              .train_fraction = 0.8, .min_per_class = 2 };
  g_auto (VbDatasetCheckReport) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_autofree char *folder = g_build_filename (tmp, "bee", NULL);
  g_assert_nonnull (strstr (error->message, folder));
  g_assert_nonnull (strstr (error->message, "validation"));
  g_assert_cmpstr (r.min_class, ==, "bee");
  g_assert_cmpuint (r.min_per_class, ==, 1);

  /* one usable image per part is enough when that is all that is asked */
  g_clear_error (&error);
  vb_dataset_check_report_clear (&r);
  o.min_per_class = 1;
  g_assert_true (vb_dataset_check (&o, NULL, &r, &error));

  test_tmpdir_remove (g_steal_pointer (&tmp));
}

static void
test_missing_and_wrong (void)
{
  g_autofree char *tmp = test_tmpdir_new ();
  g_autofree char *missing = g_build_filename (tmp, "nope", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (VbDatasetCheckReport) r = { 0 };

  VbDatasetCheckOptions o = { .dataset = "image-folder", .path = missing,
                              .train_fraction = 0.8, .min_per_class = 1 };
  g_assert_false (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  o.path = "";
  g_assert_false (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  /* an empty folder is no CIFAR-10 */
  o.dataset = "cifar10";
  o.path = tmp;
  g_assert_false (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* cancelled before the first decode */
  static const char *const classes[] = { "a", "b", NULL };
  static const int n[] = { 4, 4 };
  write_folder (tmp, classes, n);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  o.dataset = "image-folder";
  vb_dataset_check_report_clear (&r);
  g_assert_false (vb_dataset_check (&o, cancel, &r, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED);

  test_tmpdir_remove (g_steal_pointer (&tmp));
}

static void
test_fashion_mnist_subset (void)
{
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return;
    }
  g_autofree char *tmp = test_tmpdir_new ();
  vb_test_write_fashion_mnist_subset (tmp, 300, 100);

  VbDatasetCheckOptions o = { .dataset = "fashion-mnist", .path = tmp, .min_per_class = 1 };
  g_auto (VbDatasetCheckReport) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.n_classes, ==, 10);
  g_assert_cmpuint (r.n_images, ==, 400);
  g_assert_cmpuint (r.n_train, ==, 300);
  g_assert_cmpuint (r.n_val, ==, 100);
  g_assert_cmpuint (r.n_corrupt, ==, 0);
  g_assert_cmpuint (r.min_per_class, >, 0);

  /* the test split is small: asking for 50 per class names the class that falls short */
  g_clear_error (&error);
  vb_dataset_check_report_clear (&r);
  o.min_per_class = 50;
  g_assert_false (vb_dataset_check (&o, NULL, &r, &error));
  g_assert_nonnull (strstr (error->message, r.min_class));

  test_tmpdir_remove (g_steal_pointer (&tmp));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/data/check/folder-corrupt", test_folder_with_corrupt_image);
  g_test_add_func ("/vb/data/check/folder-too-few", test_folder_too_few_images);
  g_test_add_func ("/vb/data/check/missing", test_missing_and_wrong);
  g_test_add_func ("/vb/data/check/fashion-mnist", test_fashion_mnist_subset);
  return g_test_run ();
}
