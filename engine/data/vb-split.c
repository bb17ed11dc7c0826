/* vb-split.c: stratified seeded splits, so every class keeps its train/val proportion
 * and the same seed gives the same split on any machine. */
#include "config.h"

#include "vb-split.h"
#include "vb-dataset-private.h"
#include "vb-rng.h"

#include <math.h>

static int
compare_int (gconstpointer a, gconstpointer b)
{
  int x = *(const int *) a, y = *(const int *) b;

  return (x > y) - (x < y);
}

void
vb_split_seeded (VbDataset *ds, guint64 seed, double train_fraction,
                 GArray **train_idx, GArray **val_idx)
{
  int n_classes = vb_dataset_n_classes (ds);
  g_autofree int *count = g_new0 (int, n_classes);
  g_autofree int *start = g_new0 (int, n_classes + 1);
  g_autofree int *fill = g_new0 (int, n_classes);
  g_autofree int *by_class = g_new (int, MAX (ds->size, 1));
  GArray *train = g_array_new (FALSE, FALSE, sizeof (int));
  GArray *val = g_array_new (FALSE, FALSE, sizeof (int));

  train_fraction = CLAMP (train_fraction, 0.0, 1.0);

  /* bucket the indices by class, ascending within each class */
  for (gsize i = 0; i < ds->size; i++)
    count[ds->labels[i]]++;
  for (int c = 0; c < n_classes; c++)
    start[c + 1] = start[c] + count[c];
  for (gsize i = 0; i < ds->size; i++)
    {
      int c = ds->labels[i];
      by_class[start[c] + fill[c]++] = (int) i;
    }

  for (int c = 0; c < n_classes; c++)
    {
      VbRng base, rng;
      int *v = by_class + start[c];
      int n_train = (int) floor (train_fraction * count[c] + 0.5);

      /* one stream per class, so adding a class does not move the others' splits */
      vb_rng_init (&base, seed);
      vb_rng_split (&base, &rng, (guint64) c);
      vb_rng_shuffle_int (&rng, v, (size_t) count[c]);
      g_array_append_vals (train, v, (guint) n_train);
      g_array_append_vals (val, v + n_train, (guint) (count[c] - n_train));
    }
  g_array_sort (train, compare_int);
  g_array_sort (val, compare_int);
  *train_idx = train;
  *val_idx = val;
}

GArray *
vb_indices_limit_per_class (VbDataset *ds, GArray *idx, int per_class)
{
  g_autofree int *taken = g_new0 (int, vb_dataset_n_classes (ds));
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  gsize n = idx != NULL ? idx->len : ds->size;

  for (gsize k = 0; k < n; k++)
    {
      int i = idx != NULL ? g_array_index (idx, int, k) : (int) k;
      int c = ds->labels[i];
      if (taken[c] < per_class)
        {
          taken[c]++;
          g_array_append_val (out, i);
        }
    }
  return out;
}
