/* vb-study-subset.c: the deterministic §4.1 selection and its fingerprint. */
#include "config.h"

#include "vb-study-subset.h"

#include <string.h>

#include "vb-error.h"

void
vb_study_subset_clear (VbStudySubset *s)
{
  g_clear_pointer (&s->train_ds, vb_dataset_unref);
  g_clear_pointer (&s->test_ds, vb_dataset_unref);
  g_clear_pointer (&s->source, g_array_unref);
  g_clear_pointer (&s->index, g_array_unref);
  g_clear_pointer (&s->label, g_array_unref);
  g_clear_pointer (&s->fingerprint, g_free);
}

int
vb_study_subset_size (const VbStudySubset *s)
{
  return s->index ? (int) s->index->len : 0;
}

/* Appends, for every class, the records [skip, skip + take) of that class in file order;
 * the result keeps file order across classes. */
static gboolean
select_split (VbStudySubset *s, VbDataset *ds, int source, int skip, int take,
              const char *what, GError **error)
{
  int nc = vb_dataset_n_classes (ds);
  g_autofree int *seen = g_new0 (int, nc);
  for (gsize i = 0; i < vb_dataset_size (ds); i++)
    {
      int c = vb_dataset_label (ds, i);
      int k = seen[c]++;
      if (k < skip || k >= skip + take)
        continue;
      int idx = (int) i;
      g_array_append_val (s->source, source);
      g_array_append_val (s->index, idx);
      g_array_append_val (s->label, c);
    }
  for (int c = 0; c < nc; c++)
    if (seen[c] < skip + take)
      {
        g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                     "%s: class %d (%s) has %d images, the %s split needs %d (lower "
                     "data.train_per_class, val_per_class or test_per_class)",
                     vb_dataset_name (ds), c, vb_dataset_class_name (ds, c), seen[c], what,
                     skip + take);
        return FALSE;
      }
  return TRUE;
}

gboolean
vb_study_subset_image (const VbStudySubset *s, int i, VbImage *out, GError **error)
{
  VbDataset *ds = g_array_index (s->source, int, i) == VB_SPLIT_TEST ? s->test_ds : s->train_ds;
  return vb_dataset_get_image (ds, g_array_index (s->index, int, i), out, error);
}

gboolean
vb_study_subset_load (VbStudySubset *s, const char *dir, int train_per_class,
                      int val_per_class, int test_per_class, GError **error)
{
  memset (s, 0, sizeof *s);
  if (dir == NULL || dir[0] == '\0')
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "the projector study needs a CIFAR-10 folder: --set data.path=DIR");
      return FALSE;
    }
  s->train_ds = vb_dataset_new_cifar10 (dir, TRUE, error);
  if (s->train_ds == NULL)
    return FALSE;
  s->test_ds = vb_dataset_new_cifar10 (dir, FALSE, error);
  if (s->test_ds == NULL)
    return FALSE;
  s->n_classes = vb_dataset_n_classes (s->train_ds);
  s->source = g_array_new (FALSE, FALSE, sizeof (int));
  s->index = g_array_new (FALSE, FALSE, sizeof (int));
  s->label = g_array_new (FALSE, FALSE, sizeof (int));

  s->start[VB_SPLIT_TRAIN] = 0;
  if (!select_split (s, s->train_ds, VB_SPLIT_TRAIN, 0, train_per_class, "train", error))
    return FALSE;
  s->start[VB_SPLIT_VAL] = (int) s->index->len;
  if (!select_split (s, s->train_ds, VB_SPLIT_VAL, train_per_class, val_per_class,
                     "validation", error))
    return FALSE;
  s->start[VB_SPLIT_TEST] = (int) s->index->len;
  if (!select_split (s, s->test_ds, VB_SPLIT_TEST, 0, test_per_class, "test", error))
    return FALSE;
  for (int k = 0; k < VB_N_SPLITS; k++)
    s->count[k] = (k + 1 < VB_N_SPLITS ? s->start[k + 1] : (int) s->index->len) - s->start[k];

  /* what identifies the images is their content, not where the files live */
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *head = g_strdup_printf ("vb-study-subset-v1 %d %d %d\n", s->count[0],
                                           s->count[1], s->count[2]);
  g_checksum_update (sum, (const guchar *) head, -1);
  for (int i = 0; i < vb_study_subset_size (s); i++)
    {
      g_auto (VbImage) img = { 0 };
      if (!vb_study_subset_image (s, i, &img, error))
        return FALSE;
      guint8 lab = (guint8) g_array_index (s->label, int, i);
      g_checksum_update (sum, &lab, 1);
      g_checksum_update (sum, img.pixels, (gssize) img.width * img.height * img.channels);
    }
  s->fingerprint = g_strdup (g_checksum_get_string (sum));
  return TRUE;
}
