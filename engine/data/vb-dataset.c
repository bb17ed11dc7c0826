/* vb-dataset.c: the common part of every data set, and the guarded file reader. */
#include "config.h"

#include "vb-dataset-private.h"

#include <errno.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <zlib.h>

void
vb_image_clear (VbImage *img)
{
  g_clear_pointer (&img->pixels, g_free);
  img->width = img->height = img->channels = 0;
}

VbDataset *
vb_dataset_new_internal (const VbDatasetVTable *vtable, gpointer priv)
{
  VbDataset *ds = g_new0 (VbDataset, 1);

  ds->ref_count = 1;
  ds->vtable = vtable;
  ds->priv = priv;
  ds->class_names = g_ptr_array_new_with_free_func (g_free);
  return ds;
}

VbDataset *
vb_dataset_ref (VbDataset *ds)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_atomic_int_inc (&ds->ref_count);
  return ds;
}

void
vb_dataset_unref (VbDataset *ds)
{
  if (ds == NULL || !g_atomic_int_dec_and_test (&ds->ref_count))
    return;
  if (ds->vtable->free_priv != NULL && ds->priv != NULL)
    ds->vtable->free_priv (ds->priv);
  g_free (ds->name);
  g_free (ds->fingerprint);
  g_ptr_array_unref (ds->class_names);
  g_free (ds->labels);
  g_free (ds);
}

gsize
vb_dataset_size (VbDataset *ds)
{
  return ds->size;
}

int
vb_dataset_n_classes (VbDataset *ds)
{
  return (int) ds->class_names->len;
}

const char *
vb_dataset_class_name (VbDataset *ds, int class_index)
{
  g_return_val_if_fail (class_index >= 0 && (guint) class_index < ds->class_names->len, NULL);
  return g_ptr_array_index (ds->class_names, class_index);
}

int
vb_dataset_label (VbDataset *ds, gsize idx)
{
  g_return_val_if_fail (idx < ds->size, -1);
  return ds->labels[idx];
}

gboolean
vb_dataset_get_image (VbDataset *ds, gsize idx, VbImage *out, GError **error)
{
  if (idx >= ds->size)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: image index %" G_GSIZE_FORMAT " out of range (size %" G_GSIZE_FORMAT ")",
                   ds->name, idx, ds->size);
      return FALSE;
    }
  return ds->vtable->get_image (ds, idx, out, error);
}

const char *
vb_dataset_fingerprint (VbDataset *ds)
{
  return ds->fingerprint;
}

const char *
vb_dataset_name (VbDataset *ds)
{
  return ds->name;
}

/* How much to reserve: the file size, or for gzip the size its trailer records (mod
 * 2^32, only a hint; a lying trailer is bounded by deflate's 1032:1 ratio), never more
 * than max_bytes. */
static gsize
size_hint (const char *path, const GStatBuf *st, gsize max_bytes)
{
  gsize hint = (gsize) st->st_size;
  FILE *f;
  guint8 head[2], tail[4];

  if (st->st_size >= 18 && (f = fopen (path, "rb")) != NULL)
    {
      if (fread (head, 1, 2, f) == 2 && head[0] == 0x1f && head[1] == 0x8b
          && fseek (f, -4, SEEK_END) == 0 && fread (tail, 1, 4, f) == 4)
        hint = (gsize) tail[0] | (gsize) tail[1] << 8 | (gsize) tail[2] << 16
               | (gsize) tail[3] << 24;
      fclose (f);
      hint = MIN (hint, (gsize) st->st_size * 1032);
    }
  return MIN (hint, max_bytes) + 1;
}

GBytes *
vb_read_maybe_gz (const char *path, gsize max_bytes, GError **error)
{
  GStatBuf st;
  gzFile gz;
  guint8 *buf;
  gsize cap, len = 0;
  int zerr = Z_OK;

  /* stat first: opening a FIFO or device named like a data file would block or never end */
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: cannot open: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: not a regular file", path);
      return NULL;
    }

  gz = gzopen (path, "rb");
  if (gz == NULL)
    {
      int saved = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: cannot open: %s", path, g_strerror (saved));
      return NULL;
    }
  gzbuffer (gz, 1 << 17);

  cap = MAX (size_hint (path, &st, max_bytes), 4096);
  buf = g_malloc (cap);
  for (;;)
    {
      unsigned want;
      int got;

      if (len == cap)
        {
          if (cap > max_bytes)
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                           "%s: more than %" G_GSIZE_FORMAT " bytes of data, refusing", path,
                           max_bytes);
              goto fail;
            }
          cap = MIN (cap * 2, max_bytes + 1);
          buf = g_realloc (buf, cap);
        }
      want = (unsigned) MIN (cap - len, (gsize) 1 << 30);
      got = gzread (gz, buf + len, want);
      if (got < 0)
        {
          const char *msg = gzerror (gz, &zerr);
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                       "%s: corrupt gzip data: %s", path, msg);
          goto fail;
        }
      if (got == 0)
        break;
      len += (gsize) got;
    }

  /* a gzip stream cut short can read as a clean end with an error pending */
  gzerror (gz, &zerr);
  if (zerr != Z_OK && zerr != Z_STREAM_END)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: truncated or corrupt gzip stream", path);
      goto fail;
    }
  gzclose (gz);
  return g_bytes_new_take (g_realloc (buf, MAX (len, 1)), len);

fail:
  gzclose (gz);
  g_free (buf);
  return NULL;
}
