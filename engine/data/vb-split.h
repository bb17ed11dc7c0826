/* vb-split.h: reproducible, stratified train/validation splits and subset limits. */
#pragma once

#include "vb-dataset.h"

G_BEGIN_DECLS

/* Per class, the indices of that class (ascending) are shuffled with a stream derived
 * from (seed, class) and the first round(train_fraction·n) go to train, the rest to
 * val. Both arrays (of int) come back sorted ascending. The study's split is
 * vb_split_seeded (ds, seed, 0.8, …). */
void    vb_split_seeded            (VbDataset *ds, guint64 seed, double train_fraction,
                                    GArray **train_idx, GArray **val_idx);

/* Keeps at most per_class indices of each class, in the order of idx (NULL: all of
 * 0..size-1), so a small machine can train on a few thousand images. New array of int. */
GArray *vb_indices_limit_per_class (VbDataset *ds, GArray *idx, int per_class);

G_END_DECLS
