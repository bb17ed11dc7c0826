/* vb-dataset-check.h: checks a data set before a run is queued. Opens it with the same
 * readers and split the trainer uses, counts images per class (after the split) and, for
 * image folders, decodes every image to count the corrupt ones the loader would skip.
 * No GTK: the app calls it on a GTask thread, the CLI could call it directly. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  const char *dataset;         /* as data.dataset: "fashion-mnist", "cifar10", "image-folder" */
  const char *path;            /* NULL or "": Fashion-MNIST's built-in folder; needed otherwise */
  int         n_classes;       /* image-folder: classes picked by split_seed; 0 = all */
  guint64     split_seed;
  double      train_fraction;  /* image-folder: the seeded stratified split */
  int         min_per_class;   /* usable images a class needs in each part (train and val) */
} VbDatasetCheckOptions;

typedef struct {
  char   *name;                /* the data set's short name */
  gsize   n_images;            /* train + validation, corrupt ones included */
  gsize   n_train, n_val;      /* usable images in each part */
  int     n_classes;
  gsize   min_per_class;       /* usable images of the smallest class in its smaller part */
  char   *min_class;           /* that class's name */
  gsize   n_corrupt;           /* images that do not decode (the loader skips them) */
  char   *first_corrupt;       /* the decoder's message for the first one, NULL when none */
} VbDatasetCheckReport;

/* Fills report (zero-initialised by the caller) and returns TRUE when the data set is
 * usable. FALSE with a VB_ENGINE_ERROR naming the file, folder or class and the problem:
 * the readers' own errors, INVALID when a class has fewer than min_per_class usable
 * images in a part (the report is still filled then), CANCELLED on cancellable. */
gboolean vb_dataset_check              (const VbDatasetCheckOptions *options,
                                        GCancellable                *cancellable,
                                        VbDatasetCheckReport        *report,
                                        GError                     **error);
void     vb_dataset_check_report_clear (VbDatasetCheckReport        *report);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbDatasetCheckReport, vb_dataset_check_report_clear)

G_END_DECLS
