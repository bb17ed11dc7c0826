/* vb-cifar.c: CIFAR-10 binary batches. Each record is one label byte and 32×32×3 pixels
 * stored plane by plane (all red, then green, then blue); the batches are read whole and
 * each file's size must be a whole number of records. */
#include "config.h"

#include "vb-dataset-private.h"

#include <string.h>

#define CIFAR_SIDE      32
#define CIFAR_PLANE     (CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD    (1 + 3 * CIFAR_PLANE)
#define CIFAR_N_CLASSES 10
/* a real batch is 10000 records (30.7 MB); allow a few times that, refuse more */
#define CIFAR_MAX_BYTES ((gsize) 256 << 20)

static const char *const cifar_names[CIFAR_N_CLASSES] = {
  "airplane", "automobile", "bird", "cat", "deer",
  "dog", "frog", "horse", "ship", "truck",
};

typedef struct {
  GPtrArray     *batches;    /* of GBytes */
  const guint8 **records;    /* one pointer per sample, into batches */
} CifarPriv;

static void
cifar_free (gpointer data)
{
  CifarPriv *priv = data;

  g_ptr_array_unref (priv->batches);
  g_free (priv->records);
  g_free (priv);
}

static gboolean
cifar_get_image (VbDataset *ds, gsize idx, VbImage *out, GError **error)
{
  CifarPriv *priv = ds->priv;
  const guint8 *planes = priv->records[idx] + 1;

  out->width = CIFAR_SIDE;
  out->height = CIFAR_SIDE;
  out->channels = 3;
  out->pixels = g_malloc (3 * CIFAR_PLANE);
  for (int p = 0; p < CIFAR_PLANE; p++)
    for (int c = 0; c < 3; c++)
      out->pixels[3 * p + c] = planes[c * CIFAR_PLANE + p];
  return TRUE;
}

static const VbDatasetVTable cifar_vtable = { cifar_get_image, cifar_free };

/* The names from batches.meta.txt when it lists at least ten; the standard ones else. */
static void
load_class_names (VbDataset *ds, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "batches.meta.txt", NULL);
  g_autofree char *text = NULL;
  gsize len;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR)
      && g_file_get_contents (path, &text, &len, NULL) && len < 65536
      && g_utf8_validate (text, len, NULL))
    {
      lines = g_strsplit (text, "\n", -1);
      for (int i = 0; lines[i] != NULL && names->len < CIFAR_N_CLASSES; i++)
        {
          char *name = g_strstrip (lines[i]);
          if (*name != '\0')
            g_ptr_array_add (names, g_strdup (name));
        }
    }
  for (int c = 0; c < CIFAR_N_CLASSES; c++)
    g_ptr_array_add (ds->class_names, g_strdup (names->len == CIFAR_N_CLASSES
                                                ? g_ptr_array_index (names, c)
                                                : cifar_names[c]));
}

/* A batch must hold at least one whole record. The messages tell an empty or short
 * file and a CIFAR-100 batch (one more label byte per record) from a truncated one. */
static gboolean
check_size (const char *path, gsize len, GError **error)
{
  if (len >= CIFAR_RECORD && len % CIFAR_RECORD == 0)
    return TRUE;
  if (len == 0)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: the file is empty (a CIFAR-10 batch holds %d-byte records)",
                 path, CIFAR_RECORD);
  else if (len < CIFAR_RECORD)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: %" G_GSIZE_FORMAT " bytes is shorter than one %d-byte CIFAR-10 record",
                 path, len, CIFAR_RECORD);
  else if (len % (CIFAR_RECORD + 1) == 0)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: %" G_GSIZE_FORMAT " bytes is a whole number of %d-byte records with "
                 "two label bytes: a CIFAR-100 batch, not CIFAR-10", path, len,
                 CIFAR_RECORD + 1);
  else
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: %" G_GSIZE_FORMAT " bytes is not a whole number of %d-byte "
                 "CIFAR-10 records (truncated or not a CIFAR-10 batch)", path, len,
                 CIFAR_RECORD);
  return FALSE;
}

VbDataset *
vb_dataset_new_cifar10 (const char *dir, gboolean train, GError **error)
{
  g_autofree char *sub = NULL;
  g_autoptr(VbDataset) ds = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  CifarPriv *priv;
  gsize total = 0, k = 0;

  g_return_val_if_fail (dir != NULL, NULL);

  /* the official archive unpacks into cifar-10-batches-bin/ */
  sub = g_build_filename (dir, "cifar-10-batches-bin", NULL);
  if (g_file_test (sub, G_FILE_TEST_IS_DIR))
    dir = sub;

  if (train)
    for (int i = 1; i <= 5; i++)
      g_ptr_array_add (paths, g_strdup_printf ("%s/data_batch_%d.bin", dir, i));
  else
    g_ptr_array_add (paths, g_strdup_printf ("%s/test_batch.bin", dir));

  g_checksum_update (sum, (const guchar *) "vb-cifar10-v1\n", -1);
  for (guint b = 0; b < paths->len; b++)
    {
      const char *path = g_ptr_array_index (paths, b);
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *line = NULL;
      GBytes *bytes;
      const guint8 *data;
      gsize len;

      bytes = vb_read_maybe_gz (path, CIFAR_MAX_BYTES, error);
      if (bytes == NULL)
        return NULL;
      g_ptr_array_add (batches, bytes);
      data = g_bytes_get_data (bytes, &len);
      if (!check_size (path, len, error))
        return NULL;
      for (gsize r = 0; r < len / CIFAR_RECORD; r++)
        if (data[r * CIFAR_RECORD] >= CIFAR_N_CLASSES)
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                         "%s: record %" G_GSIZE_FORMAT " has label %d (CIFAR-10 has 10 classes)",
                         path, r, data[r * CIFAR_RECORD]);
            return NULL;
          }
      total += len / CIFAR_RECORD;
      line = g_strdup_printf ("%s %" G_GSIZE_FORMAT "\n", base, len);
      g_checksum_update (sum, (const guchar *) line, -1);
      g_checksum_update (sum, data, len);
    }

  priv = g_new0 (CifarPriv, 1);
  priv->records = g_new (const guint8 *, total);
  ds = vb_dataset_new_internal (&cifar_vtable, priv);
  ds->size = total;
  ds->labels = g_new (int, total);
  for (guint b = 0; b < batches->len; b++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (batches, b), &len);
      for (gsize r = 0; r < len / CIFAR_RECORD; r++, k++)
        {
          priv->records[k] = data + r * CIFAR_RECORD;
          ds->labels[k] = data[r * CIFAR_RECORD];
        }
    }
  priv->batches = g_steal_pointer (&batches);

  load_class_names (ds, dir);
  ds->fingerprint = g_strdup (g_checksum_get_string (sum));
  ds->name = g_strdup (train ? "cifar10-train" : "cifar10-test");
  return g_steal_pointer (&ds);
}
