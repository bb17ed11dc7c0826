#include "vb-pth.h"

#include <string.h>

#include "vb-dtype.h"
#include "vb-error.h"
#include "vb-pickle.h"
#include "vb-zip.h"

typedef struct {
  VbZip      *zip;
  const char *prefix;
} Archive;

static gboolean
storage_lookup (const char *key, guint64 *record_size, gpointer user_data)
{
  Archive *ar = user_data;
  g_autofree char *name = g_strdup_printf ("%s/data/%s", ar->prefix, key);
  const VbZipEntry *e = vb_zip_lookup (ar->zip, name);
  if (e == NULL)
    return FALSE;
  *record_size = e->size;
  return TRUE;
}

/* Says what a non-zip file is, so the user knows to convert it offline. */
static void
explain_not_zip (const char *path, GError **error)
{
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
  const guint8 *d = map ? (const guint8 *) g_mapped_file_get_contents (map) : NULL;
  gsize n = map ? g_mapped_file_get_length (map) : 0;

  if (n >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                 "%s: legacy (pre-1.6) torch.save format is unsupported; convert it offline "
                 "(torch.save with the default zip format)", path);
  else if (n >= 263 && memcmp (d + 257, "ustar", 5) == 0)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                 "%s: tar-format torch checkpoint is unsupported; convert it offline", path);
  else
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: not a PyTorch zip checkpoint (no PK\\x03\\x04 signature)", path);
}

static gboolean
is_contiguous (const VbPickleValue *t)
{
  int64_t expect = 1;
  for (int d = t->tensor.ndim - 1; d >= 0; d--)
    {
      if (t->tensor.size[d] != 1 && t->tensor.stride[d] != expect)
        return FALSE;
      expect *= t->tensor.size[d];
    }
  return TRUE;
}

static gboolean
materialise (const char *path, Archive *ar, VbTensorDict *dict, const char *name,
             VbPickleValue *t, gboolean big_endian, GError **error)
{
  VbPickleValue *s = t->tensor.storage;
  VbDtype dtype = s->storage.dtype;
  int ndim = t->tensor.ndim;

  if (ndim > VB_MAX_DIMS)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "%s: tensor \"%s\" has %d dimensions (at most %d are supported)",
                   path, name, ndim, VB_MAX_DIMS);
      return FALSE;
    }
  g_autofree char *record = g_strdup_printf ("%s/data/%s", ar->prefix, s->storage.key);
  guint64 record_size = 0;
  const guint8 *bytes = vb_zip_read (ar->zip, record, &record_size, error);
  if (bytes == NULL)
    return FALSE;
  gsize es = vb_dtype_bits (dtype) / 8;
  /* The unpickler checked the view against numel and numel against the record;
   * check again here, against the bytes we are about to read. */
  if ((guint64) s->storage.numel > record_size / es)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: storage %s of tensor \"%s\" is larger than its record",
                   path, s->storage.key, name);
      return FALSE;
    }

  VbTensorEntry *e = vb_tensor_dict_add (dict, name, ndim, t->tensor.size);
  if (e == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "%s: cannot add tensor \"%s\" %s", path, name,
                   vb_tensor_dict_lookup (dict, name) ? "twice" : "(out of memory)");
      return FALSE;
    }
  if (e->numel == 0)
    return TRUE;

  const guint8 *base = bytes + (gsize) t->tensor.offset * es;
  if (is_contiguous (t))
    {
      vb_dtype_convert_f32 (dtype, base, e->numel, big_endian, e->data);
      return TRUE;
    }
  /* Strided gather with an odometer over the dimensions. */
  int64_t idx[VB_MAX_DIMS] = { 0 };
  int64_t off = 0;
  for (int64_t i = 0; i < e->numel; i++)
    {
      e->data[i] = vb_dtype_load_f32 (dtype, base + off * es, big_endian);
      for (int d = ndim - 1; d >= 0; d--)
        {
          if (++idx[d] < t->tensor.size[d])
            {
              off += t->tensor.stride[d];
              break;
            }
          off -= (idx[d] - 1) * t->tensor.stride[d];
          idx[d] = 0;
        }
    }
  return TRUE;
}

static VbPickleValue *
pick_state_dict (const char *path, VbPickleValue *root, const char *subkey, GError **error)
{
  if (root->kind != VB_PICKLE_DICT)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: the saved object is a %s, not a dict", path,
                   vb_pickle_kind_name (root->kind));
      return NULL;
    }
  VbPickleValue *sd;
  if (subkey != NULL)
    {
      sd = vb_pickle_dict_get (root, subkey);
      if (sd == NULL)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s: the checkpoint has no \"%s\" entry", path, subkey);
          return NULL;
        }
    }
  else if ((sd = vb_pickle_dict_get (root, "model")) != NULL)
    subkey = "model";
  else if ((sd = vb_pickle_dict_get (root, "state_dict")) != NULL)
    subkey = "state_dict";
  else
    return root;
  if (sd->kind != VB_PICKLE_DICT)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: \"%s\" is a %s, not a state dict", path, subkey,
                   vb_pickle_kind_name (sd->kind));
      return NULL;
    }
  return sd;
}

VbTensorDict *
vb_pth_load_state_dict (const char *path, const char *subkey, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) probe = g_mapped_file_new (path, FALSE, &local_error);

  if (probe == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot read %s: %s", path, local_error->message);
      return NULL;
    }
  if (g_mapped_file_get_length (probe) < 4
      || memcmp (g_mapped_file_get_contents (probe), "PK\x03\x04", 4) != 0)
    {
      explain_not_zip (path, error);
      return NULL;
    }
  g_clear_pointer (&probe, g_mapped_file_unref);

  g_autoptr(VbZip) zip = vb_zip_open (path, error);
  if (zip == NULL)
    return NULL;
  if (vb_zip_n_entries (zip) == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT, "%s: empty archive", path);
      return NULL;
    }
  /* The prefix is whatever folder the first entry sits in; never assume "archive". */
  const char *first = vb_zip_entry (zip, 0)->name;
  const char *slash = strchr (first, '/');
  if (slash == NULL || slash == first)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: first entry \"%s\" is not inside a folder", path, first);
      return NULL;
    }
  g_autofree char *prefix = g_strndup (first, slash - first);
  Archive ar = { zip, prefix };

  gboolean big_endian = FALSE;
  g_autofree char *bo_name = g_strdup_printf ("%s/byteorder", prefix);
  if (vb_zip_lookup (zip, bo_name) != NULL)
    {
      guint64 n = 0;
      const guint8 *bo = vb_zip_read (zip, bo_name, &n, error);
      if (bo == NULL)
        return NULL;
      if (n == 3 && memcmp (bo, "big", 3) == 0)
        big_endian = TRUE;
      else if (!(n == 6 && memcmp (bo, "little", 6) == 0))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                       "%s: byteorder record is neither \"little\" nor \"big\"", path);
          return NULL;
        }
    }

  g_autofree char *pkl_name = g_strdup_printf ("%s/data.pkl", prefix);
  if (vb_zip_lookup (zip, pkl_name) == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s: no %s in the archive", path, pkl_name);
      return NULL;
    }
  guint64 pkl_len = 0;
  const guint8 *pkl = vb_zip_read (zip, pkl_name, &pkl_len, error);
  if (pkl == NULL)
    return NULL;
  g_autoptr(VbPickle) pickle = vb_pickle_load (pkl, pkl_len, path, storage_lookup, &ar, error);
  if (pickle == NULL)
    return NULL;

  VbPickleValue *sd = pick_state_dict (path, vb_pickle_get_root (pickle), subkey, error);
  if (sd == NULL)
    return NULL;

  g_autoptr(VbTensorDict) dict = vb_tensor_dict_new ();
  for (guint i = 0; i < sd->c.items->len; i++)
    {
      VbPickleValue *k = g_ptr_array_index (sd->c.keys, i);
      VbPickleValue *v = g_ptr_array_index (sd->c.items, i);
      if (k->kind != VB_PICKLE_STRING)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                       "%s: state dict key %u is a %s, not a string", path, i,
                       vb_pickle_kind_name (k->kind));
          return NULL;
        }
      if (v->kind != VB_PICKLE_TENSOR)
        {
          g_debug ("%s: ignoring non-tensor entry %s (%s)", path, k->str.data,
                   vb_pickle_kind_name (v->kind));
          continue;
        }
      const char *name = k->str.data;
      if (g_str_has_prefix (name, "module."))
        name += strlen ("module.");
      if (vb_tensor_dict_lookup (dict, name) != NULL
          || (vb_tensor_dict_skipped (dict)->len > 0
              && g_ptr_array_find_with_equal_func (vb_tensor_dict_skipped (dict), name,
                                                   g_str_equal, NULL)))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s: tensor \"%s\" appears twice once \"module.\" is stripped",
                       path, name);
          return NULL;
        }
      if (!vb_dtype_is_convertible (v->tensor.storage->storage.dtype))
        {
          g_ptr_array_add (vb_tensor_dict_skipped (dict), g_strdup (name));
          continue;
        }
      if (!materialise (path, &ar, dict, name, v, big_endian, error))
        return NULL;
    }
  return g_steal_pointer (&dict);
}
