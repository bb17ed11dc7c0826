/* vb-dataset.h: labelled image data sets (Fashion-MNIST IDX, CIFAR-10 binary batches,
 * image folders). A data set knows its size, classes and labels up front; images are
 * produced on demand as 8-bit HWC pixels, so a folder of JPEGs is decoded lazily (on the
 * loader's worker threads). Every constructor answers truncated, corrupt or hostile
 * input with a GError naming the file and the problem. get_image and label may be
 * called from several threads at once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 8-bit image, rows of width·channels bytes, channels 1 (grey) or 3 (RGB). */
typedef struct {
  int     width;
  int     height;
  int     channels;
  guint8 *pixels;         /* owned */
} VbImage;

void vb_image_clear (VbImage *img);

typedef struct _VbDataset VbDataset;

VbDataset  *vb_dataset_ref          (VbDataset *ds);
void        vb_dataset_unref        (VbDataset *ds);

gsize       vb_dataset_size         (VbDataset *ds);
int         vb_dataset_n_classes    (VbDataset *ds);
const char *vb_dataset_class_name   (VbDataset *ds, int class_index);
/* Cheap: no decode. idx < size. */
int         vb_dataset_label        (VbDataset *ds, gsize idx);
/* Fills out (cleared first by the caller or zero-initialised). FALSE with an error naming
 * the file when the image cannot be decoded: VB_ENGINE_ERROR_CORRUPT for a bad or
 * oversized image (the loader skips those), VB_ENGINE_ERROR_IO when it cannot be read. */
gboolean    vb_dataset_get_image    (VbDataset *ds, gsize idx, VbImage *out, GError **error);
/* Hex SHA-256 of what identifies the data (file names, sizes; content for IDX/CIFAR). */
const char *vb_dataset_fingerprint  (VbDataset *ds);
/* Short human name, e.g. "fashion-mnist-train", "cifar10-test", the folder's name. */
const char *vb_dataset_name         (VbDataset *ds);

/* IDX files, plain or gzip: images magic 0x00000803 (n, rows, cols, ubyte), labels magic
 * 0x00000801. Ten classes get the Fashion-MNIST names. */
VbDataset  *vb_dataset_new_idx           (const char *images_path, const char *labels_path,
                                          GError **error);
/* {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in dir (NULL: VB_FASHION_MNIST_DIR). */
VbDataset  *vb_dataset_new_fashion_mnist (const char *dir, gboolean train, GError **error);
/* data_batch_1..5.bin (train) or test_batch.bin in dir or dir/cifar-10-batches-bin;
 * class names from batches.meta.txt when present. */
VbDataset  *vb_dataset_new_cifar10       (const char *dir, gboolean train, GError **error);
/* One sub-folder per class (sorted by name; hidden folders ignored). class_list, when
 * given, picks classes by name in that order; else n_classes > 0 picks that many by a
 * shuffle of the sorted names seeded with seed (the chosen ones are then kept in name
 * order); 0 takes all. Files ending in .jpg/.jpeg/.png (any case) are the samples. */
VbDataset  *vb_dataset_new_image_folder  (const char *root, const char *const *class_list,
                                          int n_classes, guint64 seed, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbDataset, vb_dataset_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbImage, vb_image_clear)

G_END_DECLS
