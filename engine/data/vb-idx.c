/* vb-idx.c: IDX files (LeCun's MNIST format, Fashion-MNIST's too), plain or gzip. Both
 * files are read whole (Fashion-MNIST's training set is 47 MB unpacked) and checked:
 * magic, dimensions, equal counts and exact sizes, so a truncated or padded file is
 * refused rather than read past. */
#include "config.h"

#include "vb-dataset-private.h"

#include <string.h>

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define IDX_MAX_BYTES    ((gsize) 1 << 30)
#define IDX_MAX_SIDE     4096u

static const char *const fashion_names[10] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

typedef struct {
  GBytes       *images;   /* whole file, header included */
  const guint8 *pixels;   /* past the header */
  int           rows;
  int           cols;
} IdxPriv;

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
idx_free (gpointer data)
{
  IdxPriv *priv = data;

  g_bytes_unref (priv->images);
  g_free (priv);
}

static gboolean
idx_get_image (VbDataset *ds, gsize idx, VbImage *out, GError **error)
{
  IdxPriv *priv = ds->priv;
  gsize n = (gsize) priv->rows * priv->cols;

  out->width = priv->cols;
  out->height = priv->rows;
  out->channels = 1;
  out->pixels = g_memdup2 (priv->pixels + idx * n, n);
  return TRUE;
}

static const VbDatasetVTable idx_vtable = { idx_get_image, idx_free };

static void
hash_file (GChecksum *sum, const char *path, GBytes *bytes)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *line = g_strdup_printf ("%s %" G_GSIZE_FORMAT "\n", base,
                                           g_bytes_get_size (bytes));
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_checksum_update (sum, (const guchar *) line, -1);
  g_checksum_update (sum, data, len);
}

VbDataset *
vb_dataset_new_idx (const char *images_path, const char *labels_path, GError **error)
{
  g_autoptr(GBytes) images = NULL;
  g_autoptr(GBytes) labels = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(GChecksum) sum = NULL;
  const guint8 *im, *lb;
  gsize im_len, lb_len;
  guint32 n, rows, cols, n_labels;
  int max_label = -1;
  int n_classes;
  IdxPriv *priv;

  g_return_val_if_fail (images_path != NULL && labels_path != NULL, NULL);

  images = vb_read_maybe_gz (images_path, IDX_MAX_BYTES, error);
  if (images == NULL)
    return NULL;
  labels = vb_read_maybe_gz (labels_path, IDX_MAX_BYTES, error);
  if (labels == NULL)
    return NULL;

  im = g_bytes_get_data (images, &im_len);
  lb = g_bytes_get_data (labels, &lb_len);

  if (im_len < 16)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: truncated IDX header (%" G_GSIZE_FORMAT " bytes)", images_path, im_len);
      return NULL;
    }
  if (be32 (im) != IDX_IMAGES_MAGIC)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: bad IDX magic 0x%08x (expected 0x%08x: unsigned bytes, 3 dimensions)",
                   images_path, be32 (im), IDX_IMAGES_MAGIC);
      return NULL;
    }
  n = be32 (im + 4);
  rows = be32 (im + 8);
  cols = be32 (im + 12);
  if (rows == 0 || cols == 0 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: unreasonable image size %u×%u", images_path, rows, cols);
      return NULL;
    }
  /* n·rows·cols ≤ 2^32·2^24: fits in 64 bits */
  if ((guint64) n * rows * cols != im_len - 16)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: header says %u images of %u×%u (%" G_GUINT64_FORMAT " bytes) but the "
                   "file holds %" G_GSIZE_FORMAT " bytes of pixels (%s)", images_path, n, rows,
                   cols, (guint64) n * rows * cols, im_len - 16,
                   (guint64) n * rows * cols > im_len - 16 ? "truncated" : "trailing data");
      return NULL;
    }

  if (lb_len < 8)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: truncated IDX header (%" G_GSIZE_FORMAT " bytes)", labels_path, lb_len);
      return NULL;
    }
  if (be32 (lb) != IDX_LABELS_MAGIC)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: bad IDX magic 0x%08x (expected 0x%08x: unsigned bytes, 1 dimension)",
                   labels_path, be32 (lb), IDX_LABELS_MAGIC);
      return NULL;
    }
  n_labels = be32 (lb + 4);
  if ((guint64) n_labels != lb_len - 8)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: header says %u labels but the file holds %" G_GSIZE_FORMAT " (%s)",
                   labels_path, n_labels, lb_len - 8,
                   (gsize) n_labels > lb_len - 8 ? "truncated" : "trailing data");
      return NULL;
    }
  if (n_labels != n)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s has %u labels but %s has %u images", labels_path, n_labels,
                   images_path, n);
      return NULL;
    }
  if (n == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: no images", images_path);
      return NULL;
    }

  priv = g_new0 (IdxPriv, 1);
  priv->images = g_bytes_ref (images);
  priv->pixels = im + 16;
  priv->rows = (int) rows;
  priv->cols = (int) cols;
  ds = vb_dataset_new_internal (&idx_vtable, priv);

  ds->size = n;
  ds->labels = g_new (int, n);
  for (guint32 i = 0; i < n; i++)
    {
      ds->labels[i] = lb[8 + i];
      max_label = MAX (max_label, ds->labels[i]);
    }

  /* MNIST-like sets have ten classes; more (EMNIST) get numbered names */
  n_classes = MAX (10, max_label + 1);
  for (int c = 0; c < n_classes; c++)
    g_ptr_array_add (ds->class_names, n_classes == 10 ? g_strdup (fashion_names[c])
                                                      : g_strdup_printf ("class %d", c));

  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) "vb-idx-v1\n", -1);
  hash_file (sum, images_path, images);
  hash_file (sum, labels_path, labels);
  ds->fingerprint = g_strdup (g_checksum_get_string (sum));
  ds->name = g_path_get_basename (images_path);

  return g_steal_pointer (&ds);
}

VbDataset *
vb_dataset_new_fashion_mnist (const char *dir, gboolean train, GError **error)
{
  const char *prefix = train ? "train" : "t10k";
  g_autofree char *images = NULL;
  g_autofree char *labels = NULL;
  VbDataset *ds;

  if (dir == NULL)
    dir = VB_FASHION_MNIST_DIR;

  /* Debian ships the .gz files; accept unpacked ones too */
  images = g_strdup_printf ("%s/%s-images-idx3-ubyte.gz", dir, prefix);
  labels = g_strdup_printf ("%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  if (!g_file_test (images, G_FILE_TEST_EXISTS))
    images[strlen (images) - 3] = '\0';
  if (!g_file_test (labels, G_FILE_TEST_EXISTS))
    labels[strlen (labels) - 3] = '\0';

  ds = vb_dataset_new_idx (images, labels, error);
  if (ds == NULL)
    return NULL;
  g_free (ds->name);
  ds->name = g_strdup (train ? "fashion-mnist-train" : "fashion-mnist-test");
  return ds;
}
