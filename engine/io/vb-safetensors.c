#include "vb-safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vb-dtype.h"
#include "vb-error.h"
#include "vb-json-lite.h"

#define HEADER_MAX 100000000u

typedef struct {
  const char *name;
  VbDtype     dtype;
  VbJson     *shape;     /* ARRAY of UINT */
  guint64     numel;
  guint64     begin;
  guint64     end;
} TensorInfo;

static gboolean G_GNUC_PRINTF (4, 5)
corrupt (GError **error, const char *path, const char *tensor, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (tensor != NULL)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                 "%s: tensor \"%s\": %s", path, tensor, what);
  else
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT, "%s: %s", path, what);
  return FALSE;
}

static guint64
read_u64_le (const guint8 *p)
{
  guint64 v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static gboolean
check_metadata (const char *path, VbJson *meta, GError **error)
{
  if (meta->kind != VB_JSON_OBJECT)
    return corrupt (error, path, NULL, "__metadata__ is not an object");
  for (guint i = 0; i < meta->items->len; i++)
    {
      VbJson *v = g_ptr_array_index (meta->items, i);
      if (v->kind != VB_JSON_STRING)
        return corrupt (error, path, NULL, "__metadata__ value \"%s\" is not a string",
                        (const char *) g_ptr_array_index (meta->keys, i));
    }
  return TRUE;
}

static gboolean
check_tensor (const char *path, const char *name, VbJson *v, TensorInfo *ti, GError **error)
{
  VbJson *dtype, *shape, *offs;

  if (v->kind != VB_JSON_OBJECT)
    return corrupt (error, path, name, "entry is not an object");
  for (guint i = 0; i < v->keys->len; i++)
    {
      const char *k = g_ptr_array_index (v->keys, i);
      if (strcmp (k, "dtype") != 0 && strcmp (k, "shape") != 0 && strcmp (k, "data_offsets") != 0)
        return corrupt (error, path, name, "unknown field \"%s\"", k);
    }
  dtype = vb_json_object_get (v, "dtype");
  shape = vb_json_object_get (v, "shape");
  offs = vb_json_object_get (v, "data_offsets");
  if (dtype == NULL || shape == NULL || offs == NULL)
    return corrupt (error, path, name, "missing dtype, shape or data_offsets");

  ti->name = name;
  if (dtype->kind != VB_JSON_STRING || !vb_dtype_from_name (dtype->str, &ti->dtype))
    return corrupt (error, path, name, "unknown dtype %s%s%s",
                    dtype->kind == VB_JSON_STRING ? "\"" : "",
                    dtype->kind == VB_JSON_STRING ? dtype->str : "(not a string)",
                    dtype->kind == VB_JSON_STRING ? "\"" : "");

  if (shape->kind != VB_JSON_ARRAY)
    return corrupt (error, path, name, "shape is not a list");
  ti->shape = shape;
  ti->numel = 1;
  for (guint i = 0; i < shape->items->len; i++)
    {
      VbJson *d = g_ptr_array_index (shape->items, i);
      if (d->kind != VB_JSON_UINT)
        return corrupt (error, path, name, "shape holds a non-integer");
      if (d->uint != 0 && ti->numel > G_MAXUINT64 / d->uint)
        return corrupt (error, path, name, "shape overflows 64 bits");
      ti->numel *= d->uint;
    }
  guint bits = vb_dtype_bits (ti->dtype);
  if (ti->numel > G_MAXUINT64 / bits)
    return corrupt (error, path, name, "shape overflows 64 bits");
  if ((ti->numel * bits) % 8 != 0)
    return corrupt (error, path, name, "numel × bits of %s is not a whole number of bytes",
                    vb_dtype_name (ti->dtype));

  if (offs->kind != VB_JSON_ARRAY || offs->items->len != 2
      || ((VbJson *) g_ptr_array_index (offs->items, 0))->kind != VB_JSON_UINT
      || ((VbJson *) g_ptr_array_index (offs->items, 1))->kind != VB_JSON_UINT)
    return corrupt (error, path, name, "data_offsets is not a list of two integers");
  ti->begin = ((VbJson *) g_ptr_array_index (offs->items, 0))->uint;
  ti->end = ((VbJson *) g_ptr_array_index (offs->items, 1))->uint;
  if (ti->end < ti->begin)
    return corrupt (error, path, name, "data_offsets END %" G_GUINT64_FORMAT
                    " is before BEGIN %" G_GUINT64_FORMAT, ti->end, ti->begin);
  guint64 nbytes = ti->numel * bits / 8;
  if (ti->end - ti->begin != nbytes)
    return corrupt (error, path, name, "END − BEGIN = %" G_GUINT64_FORMAT " bytes but %s × %"
                    G_GUINT64_FORMAT " elements needs %" G_GUINT64_FORMAT,
                    ti->end - ti->begin, vb_dtype_name (ti->dtype), ti->numel, nbytes);
  return TRUE;
}

static int
cmp_offsets (gconstpointer a, gconstpointer b)
{
  const TensorInfo *x = *(TensorInfo * const *) a, *y = *(TensorInfo * const *) b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

VbTensorDict *
vb_safetensors_load (const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, &local_error);

  if (map == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot read %s: %s", path, local_error->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  guint64 size = g_mapped_file_get_length (map);

  if (size < 8)
    return corrupt (error, path, NULL, "file of %" G_GUINT64_FORMAT
                    " bytes is too short for a safetensors header", size), NULL;
  guint64 n = read_u64_le (data);
  if (n > HEADER_MAX)
    return corrupt (error, path, NULL, "header length %" G_GUINT64_FORMAT
                    " exceeds the limit of %u bytes", n, HEADER_MAX), NULL;
  if (n > size - 8)
    return corrupt (error, path, NULL, "header length %" G_GUINT64_FORMAT
                    " runs past the end of the %" G_GUINT64_FORMAT "-byte file", n, size), NULL;
  const char *text = (const char *) data + 8;
  if (n == 0 || text[0] != '{')
    return corrupt (error, path, NULL, "header does not start with '{'"), NULL;

  gsize end = 0;
  g_autoptr(VbJson) root = vb_json_parse (text, n, 3, &end, &local_error);
  if (root == NULL)
    return corrupt (error, path, NULL, "header: %s", local_error->message), NULL;
  for (gsize i = end; i < n; i++)
    if (text[i] != ' ')
      return corrupt (error, path, NULL, "header has non-space bytes after the JSON object "
                      "(byte %" G_GSIZE_FORMAT ")", i), NULL;

  guint64 data_len = size - 8 - n;
  const guint8 *buf = data + 8 + n;
  g_autoptr(GArray) infos = g_array_new (FALSE, TRUE, sizeof (TensorInfo));
  VbJson *meta = NULL;

  for (guint i = 0; i < root->items->len; i++)
    {
      const char *key = g_ptr_array_index (root->keys, i);
      VbJson *v = g_ptr_array_index (root->items, i);
      if (strcmp (key, "__metadata__") == 0)
        {
          if (!check_metadata (path, v, error))
            return NULL;
          meta = v;
          continue;
        }
      TensorInfo ti = { 0 };
      if (!check_tensor (path, key, v, &ti, error))
        return NULL;
      /* out of range: name the tensor (the tiling check below only sees totals) */
      if (ti.end > data_len)
        return corrupt (error, path, key, "data_offsets [%" G_GUINT64_FORMAT ", %"
                        G_GUINT64_FORMAT "] run past the end of the %" G_GUINT64_FORMAT
                        "-byte data buffer", ti.begin, ti.end, data_len), NULL;
      g_array_append_val (infos, ti);
    }

  /* Offsets must tile the data buffer from 0, in some order, without holes or overlaps. */
  g_autoptr(GPtrArray) order = g_ptr_array_sized_new (infos->len);
  for (guint i = 0; i < infos->len; i++)
    g_ptr_array_add (order, &g_array_index (infos, TensorInfo, i));
  g_ptr_array_sort (order, cmp_offsets);
  guint64 cursor = 0;
  for (guint i = 0; i < order->len; i++)
    {
      TensorInfo *ti = g_ptr_array_index (order, i);
      if (ti->begin > cursor)
        return corrupt (error, path, ti->name, "hole in the data buffer: BEGIN %" G_GUINT64_FORMAT
                        " but the previous tensor ends at %" G_GUINT64_FORMAT,
                        ti->begin, cursor), NULL;
      if (ti->begin < cursor)
        return corrupt (error, path, ti->name, "overlapping data: BEGIN %" G_GUINT64_FORMAT
                        " but the previous tensor ends at %" G_GUINT64_FORMAT,
                        ti->begin, cursor), NULL;
      cursor = ti->end;
    }
  if (cursor != data_len)
    return corrupt (error, path, NULL, "the tensors cover %" G_GUINT64_FORMAT
                    " bytes but the data buffer holds %" G_GUINT64_FORMAT
                    " (8 + header + last END must equal the file size)", cursor, data_len), NULL;

  g_autoptr(VbTensorDict) dict = vb_tensor_dict_new ();
  if (meta != NULL)
    for (guint i = 0; i < meta->items->len; i++)
      g_hash_table_replace (vb_tensor_dict_metadata (dict),
                            g_strdup (g_ptr_array_index (meta->keys, i)),
                            g_strdup (((VbJson *) g_ptr_array_index (meta->items, i))->str));

  for (guint i = 0; i < infos->len; i++)
    {
      TensorInfo *ti = &g_array_index (infos, TensorInfo, i);
      if (!vb_dtype_is_convertible (ti->dtype))
        {
          g_ptr_array_add (vb_tensor_dict_skipped (dict), g_strdup (ti->name));
          continue;
        }
      int ndim = ti->shape->items->len;
      if (ndim > VB_MAX_DIMS)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: tensor \"%s\" has %d dimensions (at most %d are supported)",
                       path, ti->name, ndim, VB_MAX_DIMS);
          return NULL;
        }
      int64_t shape[VB_MAX_DIMS];
      for (int d = 0; d < ndim; d++)
        shape[d] = ((VbJson *) g_ptr_array_index (ti->shape->items, d))->uint;
      VbTensorEntry *e = vb_tensor_dict_add (dict, ti->name, ndim, shape);
      if (e == NULL)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                       "%s: tensor \"%s\": cannot allocate %" G_GUINT64_FORMAT " floats",
                       path, ti->name, ti->numel);
          return NULL;
        }
      vb_dtype_convert_f32 (ti->dtype, buf + ti->begin, ti->numel, FALSE, e->data);
    }
  return g_steal_pointer (&dict);
}

/* ---- writing ---- */

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const guchar *p = (const guchar *) str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (s, "\\%c", *p);
      else if (*p < 0x20)
        g_string_append_printf (s, "\\u%04x", *p);
      else
        g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static int
cmp_entry_name (gconstpointer a, gconstpointer b)
{
  const VbTensorEntry *x = *(VbTensorEntry * const *) a, *y = *(VbTensorEntry * const *) b;
  return strcmp (x->name, y->name);
}

static gboolean
write_all (int fd, const void *buf, gsize len)
{
  const guint8 *p = buf;
  while (len > 0)
    {
      gssize w = write (fd, p, MIN (len, (gsize) 1 << 30));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      p += w;
      len -= w;
    }
  return TRUE;
}

static gboolean
write_floats (int fd, const float *data, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  return write_all (fd, data, n * sizeof (float));
#else
  guint32 chunk[4096];
  for (gsize i = 0; i < n; i += G_N_ELEMENTS (chunk))
    {
      gsize m = MIN (n - i, G_N_ELEMENTS (chunk));
      memcpy (chunk, data + i, m * 4);
      for (gsize j = 0; j < m; j++)
        chunk[j] = GUINT32_TO_LE (chunk[j]);
      if (!write_all (fd, chunk, m * 4))
        return FALSE;
    }
  return TRUE;
#endif
}

gboolean
vb_safetensors_save (const char *path, VbTensorDict *dict, GHashTable *metadata,
                     GError **error)
{
  g_autoptr(GString) header = g_string_new ("{");
  GHashTable *meta = metadata != NULL ? metadata : vb_tensor_dict_metadata (dict);
  gboolean first = TRUE;

  if (g_hash_table_size (meta) > 0)
    {
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (meta, NULL);
      guint nkeys = g_hash_table_size (meta);
      qsort (keys, nkeys, sizeof (gpointer), cmp_str);
      g_string_append (header, "\"__metadata__\":{");
      for (guint i = 0; i < nkeys; i++)
        {
          const char *v = g_hash_table_lookup (meta, keys[i]);
          if (!g_utf8_validate (keys[i], -1, NULL) || v == NULL || !g_utf8_validate (v, -1, NULL))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "cannot write %s: metadata key or value is not UTF-8 text", path);
              return FALSE;
            }
          if (i > 0)
            g_string_append_c (header, ',');
          append_json_string (header, keys[i]);
          g_string_append_c (header, ':');
          append_json_string (header, v);
        }
      g_string_append_c (header, '}');
      first = FALSE;
    }

  guint n = vb_tensor_dict_size (dict);
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new (n);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, vb_tensor_dict_index (dict, i));
  g_ptr_array_sort (sorted, cmp_entry_name);

  guint64 offset = 0;
  for (guint i = 0; i < n; i++)
    {
      VbTensorEntry *e = g_ptr_array_index (sorted, i);
      if (!g_utf8_validate (e->name, -1, NULL) || strcmp (e->name, "__metadata__") == 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "cannot write %s: invalid tensor name \"%s\"", path, e->name);
          return FALSE;
        }
      if (!first)
        g_string_append_c (header, ',');
      first = FALSE;
      append_json_string (header, e->name);
      g_string_append (header, ":{\"dtype\":\"F32\",\"shape\":[");
      for (int d = 0; d < e->ndim; d++)
        g_string_append_printf (header, d ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                e->shape[d]);
      guint64 next = offset + (guint64) e->numel * 4;
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%"
                              G_GUINT64_FORMAT "]}", offset, next);
      offset = next;
    }
  g_string_append_c (header, '}');
  /* Pad with spaces so the data section starts 8-byte aligned. */
  while ((8 + header->len) % 8 != 0)
    g_string_append_c (header, ' ');
  if (header->len > HEADER_MAX)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "cannot write %s: header of %" G_GSIZE_FORMAT " bytes is over the limit",
                   path, header->len);
      return FALSE;
    }

  guint8 len_le[8];
  for (int i = 0; i < 8; i++)
    len_le[i] = (guint64) header->len >> (8 * i) & 0xff;

  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot write %s: cannot create a temporary file: %s", path, g_strerror (saved));
      return FALSE;
    }

  gboolean ok = write_all (fd, len_le, 8) && write_all (fd, header->str, header->len);
  for (guint i = 0; ok && i < n; i++)
    {
      VbTensorEntry *e = g_ptr_array_index (sorted, i);
      ok = write_floats (fd, e->data, e->numel);
    }
  ok = ok && fsync (fd) == 0;
  int saved = errno;
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot write %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
