/* vb-image-folder.c: a folder of class folders of JPEG/PNG files (ImageNet-style).
 * Only names and sizes are read up front; images are decoded by gdk-pixbuf when asked
 * for. The scan goes one level deep and keeps only regular files, so symlink loops,
 * FIFOs and devices named like images cannot hang it; oversized files and images with
 * absurd dimensions are refused before decoding. */
#include "config.h"

#include "vb-dataset-private.h"
#include "vb-rng.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#define MAX_FILE_BYTES ((goffset) 64 << 20)
#define MAX_SIDE       32768
#define MAX_PIXELS     ((gint64) 64 << 20)

typedef struct {
  GPtrArray *paths;   /* of char*, one per sample */
} FolderPriv;

static void
folder_free (gpointer data)
{
  FolderPriv *priv = data;

  g_ptr_array_unref (priv->paths);
  g_free (priv);
}

static gboolean
folder_get_image (VbDataset *ds, gsize idx, VbImage *out, GError **error)
{
  FolderPriv *priv = ds->priv;
  const char *path = g_ptr_array_index (priv->paths, idx);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local = NULL;
  GStatBuf st;
  int w, h, nch, stride;
  const guint8 *src;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: cannot read: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: not a regular file", path);
      return FALSE;
    }
  if (st.st_size > MAX_FILE_BYTES)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: image file of %" G_GINT64_FORMAT " bytes is too large", path,
                   (gint64) st.st_size);
      return FALSE;
    }
  /* the header alone: refuse decompression bombs before allocating for them */
  if (gdk_pixbuf_get_file_info (path, &w, &h) == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: not a readable image", path);
      return FALSE;
    }
  if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || (gint64) w * h > MAX_PIXELS)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: image size %d×%d is out of range", path, w, h);
      return FALSE;
    }

  pixbuf = gdk_pixbuf_new_from_file (path, &local);
  if (pixbuf == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR,
                   local->domain == G_FILE_ERROR ? VB_ENGINE_ERROR_IO : VB_ENGINE_ERROR_CORRUPT,
                   "%s: cannot decode image: %s", path, local->message);
      return FALSE;
    }
  if (gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB
      || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8
      || gdk_pixbuf_get_n_channels (pixbuf) < 3)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: unsupported pixel format", path);
      return FALSE;
    }

  /* alpha is dropped, as PIL's convert ("RGB") does */
  w = gdk_pixbuf_get_width (pixbuf);
  h = gdk_pixbuf_get_height (pixbuf);
  nch = gdk_pixbuf_get_n_channels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  src = gdk_pixbuf_read_pixels (pixbuf);
  out->width = w;
  out->height = h;
  out->channels = 3;
  out->pixels = g_malloc ((gsize) w * h * 3);
  for (int y = 0; y < h; y++)
    {
      const guint8 *row = src + (gsize) y * stride;
      guint8 *dst = out->pixels + (gsize) y * w * 3;
      for (int x = 0; x < w; x++)
        memcpy (dst + 3 * x, row + nch * x, 3);
    }
  return TRUE;
}

static const VbDatasetVTable folder_vtable = { folder_get_image, folder_free };

static gboolean
has_image_extension (const char *name)
{
  const char *dot = strrchr (name, '.');

  return dot != NULL && (g_ascii_strcasecmp (dot, ".jpg") == 0
                         || g_ascii_strcasecmp (dot, ".jpeg") == 0
                         || g_ascii_strcasecmp (dot, ".png") == 0);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Sorted names of dir's sub-folders, or of its image files; hidden ones left out. */
static GPtrArray *
list_dir (const char *dir, gboolean want_dirs, GError **error)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: cannot list folder: %s", dir, local->message);
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      GStatBuf st;

      if (name[0] == '.')
        continue;
      if (!want_dirs && !has_image_extension (name))
        continue;
      path = g_build_filename (dir, name, NULL);
      /* stat follows links; a loop or dangling link fails and is left out */
      if (g_stat (path, &st) != 0)
        continue;
      if (want_dirs ? S_ISDIR (st.st_mode) : S_ISREG (st.st_mode))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);
  return g_steal_pointer (&names);
}

VbDataset *
vb_dataset_new_image_folder (const char *root, const char *const *class_list, int n_classes,
                             guint64 seed, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) chosen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(VbDataset) ds = NULL;
  FolderPriv *priv;

  g_return_val_if_fail (root != NULL, NULL);

  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: not a folder", root);
      return NULL;
    }
  all = list_dir (root, TRUE, error);
  if (all == NULL)
    return NULL;
  if (all->len == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: no class folders (expected one sub-folder per class)", root);
      return NULL;
    }

  if (class_list != NULL)
    {
      for (int i = 0; class_list[i] != NULL; i++)
        {
          guint pos;
          if (!g_ptr_array_find_with_equal_func (all, class_list[i], g_str_equal, &pos))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "%s: no class folder named “%s”", root, class_list[i]);
              return NULL;
            }
          if (g_ptr_array_find_with_equal_func (chosen, class_list[i], g_str_equal, NULL))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "%s: class “%s” listed twice", root, class_list[i]);
              return NULL;
            }
          g_ptr_array_add (chosen, g_strdup (class_list[i]));
        }
    }
  else if (n_classes > 0)
    {
      g_autofree int *order = g_new (int, all->len);
      VbRng rng;

      if ((guint) n_classes > all->len)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "%s: %d classes asked for but only %u class folders exist", root,
                       n_classes, all->len);
          return NULL;
        }
      for (guint i = 0; i < all->len; i++)
        order[i] = (int) i;
      vb_rng_init (&rng, seed);
      vb_rng_shuffle_int (&rng, order, all->len);
      for (int i = 0; i < n_classes; i++)
        g_ptr_array_add (chosen, g_strdup (g_ptr_array_index (all, order[i])));
      g_ptr_array_sort (chosen, compare_strings);
    }
  else if (n_classes < 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: negative class count %d", root, n_classes);
      return NULL;
    }
  else
    {
      for (guint i = 0; i < all->len; i++)
        g_ptr_array_add (chosen, g_strdup (g_ptr_array_index (all, i)));
    }
  if (chosen->len == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: empty class list", root);
      return NULL;
    }

  priv = g_new0 (FolderPriv, 1);
  priv->paths = g_ptr_array_new_with_free_func (g_free);
  ds = vb_dataset_new_internal (&folder_vtable, priv);

  g_checksum_update (sum, (const guchar *) "vb-image-folder-v1\n", -1);
  for (guint c = 0; c < chosen->len; c++)
    {
      const char *cls = g_ptr_array_index (chosen, c);
      g_autofree char *cdir = g_build_filename (root, cls, NULL);
      g_autofree char *cline = g_strdup_printf ("class %s\n", cls);
      g_autoptr(GPtrArray) files = list_dir (cdir, FALSE, error);

      if (files == NULL)
        return NULL;
      g_checksum_update (sum, (const guchar *) cline, -1);
      for (guint f = 0; f < files->len; f++)
        {
          char *path = g_build_filename (cdir, g_ptr_array_index (files, f), NULL);
          g_autofree char *fline = NULL;
          GStatBuf st;
          int label = (int) c;

          if (g_stat (path, &st) != 0)
            st.st_size = -1;
          fline = g_strdup_printf ("%s %" G_GINT64_FORMAT "\n",
                                   (char *) g_ptr_array_index (files, f), (gint64) st.st_size);
          g_checksum_update (sum, (const guchar *) fline, -1);
          g_ptr_array_add (priv->paths, path);
          g_array_append_val (labels, label);
        }
      g_ptr_array_add (ds->class_names, g_strdup (cls));
    }
  if (labels->len == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: no .jpg, .jpeg or .png files in the class folders", root);
      return NULL;
    }

  ds->size = labels->len;
  ds->labels = (int *) g_array_free (g_steal_pointer (&labels), FALSE);
  ds->fingerprint = g_strdup (g_checksum_get_string (sum));
  ds->name = g_path_get_basename (root);
  return g_steal_pointer (&ds);
}
