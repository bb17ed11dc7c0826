/* vb-study-subset.h: the projector study's CIFAR-10 subset (clip-projectors.md §4.1),
 * chosen by file order, never by random sampling: train = the first `train_per_class`
 * images of each class in training file order, validation = the next `val_per_class`,
 * test = the first `test_per_class` of each class in test file order. */
#pragma once

#include "vb-dataset.h"

G_BEGIN_DECLS

typedef enum { VB_SPLIT_TRAIN, VB_SPLIT_VAL, VB_SPLIT_TEST, VB_N_SPLITS } VbStudySplit;

typedef struct {
  VbDataset *train_ds, *test_ds;   /* owned */
  /* the images, in this order: train, then val, then test (each in file order) */
  GArray    *source;      /* int: VB_SPLIT_TEST for the test file, else the training file */
  GArray    *index;       /* int: record index in that file */
  GArray    *label;       /* int */
  int        start[VB_N_SPLITS], count[VB_N_SPLITS];
  int        n_classes;
  char      *fingerprint; /* hex SHA-256 of the selected records (labels and pixels) */
} VbStudySubset;

/* Reads the batches in dir (vb_dataset_new_cifar10) and selects the splits. INVALID
 * when a class has too few images for the sizes asked. */
gboolean vb_study_subset_load  (VbStudySubset *subset, const char *dir, int train_per_class,
                                int val_per_class, int test_per_class, GError **error);
void     vb_study_subset_clear (VbStudySubset *subset);
int      vb_study_subset_size  (const VbStudySubset *subset);
/* image i of the subset (0 ≤ i < size), decoded into out (cleared by the caller) */
gboolean vb_study_subset_image (const VbStudySubset *subset, int i, VbImage *out,
                                GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbStudySubset, vb_study_subset_clear)

G_END_DECLS
