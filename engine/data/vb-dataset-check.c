/* vb-dataset-check.c: the pre-flight check of a run's data set (see the header). */
#include "config.h"

#include <string.h>

#include "vb-dataset-check.h"
#include "vb-error.h"
#include "vb-split.h"

/* Per-class usable counts of idx (NULL: every image of ds), skipping images marked bad. */
static void
count_classes (VbDataset    *ds,
               GArray       *idx,
               const guint8 *bad,
               gsize        *per_class)
{
  gsize n = idx ? idx->len : vb_dataset_size (ds);

  for (gsize k = 0; k < n; k++)
    {
      gsize i = idx ? (gsize) g_array_index (idx, int, k) : k;
      if (bad == NULL || !bad[i])
        per_class[vb_dataset_label (ds, i)]++;
    }
}

/* Decodes every image; marks and counts the corrupt ones. Unreadable files are errors:
 * the loader skips only images that do not decode. */
static gboolean
find_corrupt (VbDataset            *ds,
              guint8               *bad,
              GCancellable         *cancellable,
              VbDatasetCheckReport *report,
              GError              **error)
{
  for (gsize i = 0; i < vb_dataset_size (ds); i++)
    {
      g_auto (VbImage) img = { 0 };
      g_autoptr (GError) local = NULL;

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                       "The data set check was cancelled");
          return FALSE;
        }
      if (vb_dataset_get_image (ds, i, &img, &local))
        continue;
      if (!g_error_matches (local, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      bad[i] = 1;
      report->n_corrupt++;
      if (report->first_corrupt == NULL)
        report->first_corrupt = g_strdup (local->message);
    }
  return TRUE;
}

static gboolean
open_data (const VbDatasetCheckOptions *o,
           VbDataset                  **train,
           VbDataset                  **val,
           GArray                     **train_idx,
           GArray                     **val_idx,
           GError                     **error)
{
  const char *path = o->path && o->path[0] ? o->path : NULL;

  if (g_strcmp0 (o->dataset, "fashion-mnist") == 0 || g_strcmp0 (o->dataset, "idx") == 0)
    {
      if ((*train = vb_dataset_new_fashion_mnist (path, TRUE, error)) == NULL)
        return FALSE;
      return (*val = vb_dataset_new_fashion_mnist (path, FALSE, error)) != NULL;
    }
  if (g_strcmp0 (o->dataset, "cifar10") != 0 && g_strcmp0 (o->dataset, "image-folder") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "data.dataset \"%s\" is not one of fashion-mnist, cifar10, image-folder",
                   o->dataset ? o->dataset : "");
      return FALSE;
    }
  if (path == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "data.dataset \"%s\" needs a folder", o->dataset);
      return FALSE;
    }
  if (g_strcmp0 (o->dataset, "cifar10") == 0)
    {
      if ((*train = vb_dataset_new_cifar10 (path, TRUE, error)) == NULL)
        return FALSE;
      return (*val = vb_dataset_new_cifar10 (path, FALSE, error)) != NULL;
    }
  if (o->train_fraction <= 0 || o->train_fraction >= 1)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "The training fraction %g is not between 0 and 1", o->train_fraction);
      return FALSE;
    }
  /* the trainer's protocol: classes picked by seed, a seeded stratified split */
  *train = vb_dataset_new_image_folder (path, NULL, o->n_classes, o->split_seed, error);
  if (*train == NULL)
    return FALSE;
  *val = vb_dataset_ref (*train);
  vb_split_seeded (*train, o->split_seed, o->train_fraction, train_idx, val_idx);
  return TRUE;
}

gboolean
vb_dataset_check (const VbDatasetCheckOptions *options,
                  GCancellable                *cancellable,
                  VbDatasetCheckReport        *report,
                  GError                     **error)
{
  g_autoptr (VbDataset) train = NULL;
  g_autoptr (VbDataset) val = NULL;
  g_autoptr (GArray) train_idx = NULL;
  g_autoptr (GArray) val_idx = NULL;
  g_autofree guint8 *bad = NULL;

  g_return_val_if_fail (options != NULL && report != NULL, FALSE);

  if (!open_data (options, &train, &val, &train_idx, &val_idx, error))
    return FALSE;

  gboolean shared = train == val;
  report->name = g_strdup (vb_dataset_name (train));
  report->n_classes = vb_dataset_n_classes (train);
  report->n_images = vb_dataset_size (train) + (shared ? 0 : vb_dataset_size (val));

  /* IDX and CIFAR images are bytes already in memory: only folders hold corrupt files */
  if (shared)
    {
      bad = g_new0 (guint8, vb_dataset_size (train));
      if (!find_corrupt (train, bad, cancellable, report, error))
        return FALSE;
    }

  g_autofree gsize *n_train = g_new0 (gsize, MAX (report->n_classes, 1));
  g_autofree gsize *n_val = g_new0 (gsize, MAX (report->n_classes, 1));
  count_classes (train, train_idx, bad, n_train);
  count_classes (val, val_idx, bad, n_val);

  int worst = -1;
  gboolean worst_is_val = FALSE;
  for (int c = 0; c < report->n_classes; c++)
    {
      report->n_train += n_train[c];
      report->n_val += n_val[c];
      gsize m = MIN (n_train[c], n_val[c]);
      if (worst < 0 || m < report->min_per_class)
        {
          worst = c;
          report->min_per_class = m;
          worst_is_val = n_val[c] < n_train[c];
        }
    }
  if (worst < 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: the data set has no classes", options->path ? options->path : "");
      return FALSE;
    }
  report->min_class = g_strdup (vb_dataset_class_name (train, worst));

  if (report->min_per_class < (gsize) MAX (options->min_per_class, 1))
    {
      /* name the folder where the user can add images */
      g_autofree char *where = shared ? g_build_filename (options->path, report->min_class, NULL)
                                      : g_strdup (report->name);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: class “%s” has %" G_GSIZE_FORMAT " usable %s image%s; each class "
                   "needs at least %d in training and in validation",
                   where, report->min_class, report->min_per_class,
                   worst_is_val ? "validation" : "training",
                   report->min_per_class == 1 ? "" : "s", MAX (options->min_per_class, 1));
      return FALSE;
    }
  return TRUE;
}

void
vb_dataset_check_report_clear (VbDatasetCheckReport *report)
{
  g_clear_pointer (&report->name, g_free);
  g_clear_pointer (&report->min_class, g_free);
  g_clear_pointer (&report->first_corrupt, g_free);
  memset (report, 0, sizeof *report);
}
