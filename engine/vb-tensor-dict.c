#include "vb-tensor-dict.h"

#include <string.h>

struct _VbTensorDict {
  GPtrArray  *entries;   /* VbTensorEntry*, insertion order */
  GHashTable *by_name;   /* borrowed name → entry */
  GHashTable *metadata;
  GPtrArray  *skipped;
};

static void
entry_free (gpointer p)
{
  VbTensorEntry *e = p;
  g_free (e->name);
  g_free (e->data);
  g_free (e);
}

VbTensorDict *
vb_tensor_dict_new (void)
{
  VbTensorDict *dict = g_new0 (VbTensorDict, 1);
  dict->entries = g_ptr_array_new_with_free_func (entry_free);
  dict->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  dict->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  dict->skipped = g_ptr_array_new_with_free_func (g_free);
  return dict;
}

void
vb_tensor_dict_free (VbTensorDict *dict)
{
  if (dict == NULL)
    return;
  g_hash_table_unref (dict->by_name);
  g_ptr_array_unref (dict->entries);
  g_hash_table_unref (dict->metadata);
  g_ptr_array_unref (dict->skipped);
  g_free (dict);
}

VbTensorEntry *
vb_tensor_dict_add (VbTensorDict *dict, const char *name, int ndim, const int64_t *shape)
{
  if (ndim < 0 || ndim > VB_MAX_DIMS || g_hash_table_contains (dict->by_name, name))
    return NULL;
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0 || (shape[i] > 0 && numel > INT64_MAX / 4 / shape[i]))
        return NULL;
      numel *= shape[i];
    }
  float *data = g_try_malloc0 (MAX (numel, 1) * sizeof (float));
  if (data == NULL)
    return NULL;
  VbTensorEntry *e = g_new0 (VbTensorEntry, 1);
  e->name = g_strdup (name);
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    e->shape[i] = shape[i];
  e->numel = numel;
  e->data = data;
  g_ptr_array_add (dict->entries, e);
  g_hash_table_insert (dict->by_name, e->name, e);
  return e;
}

VbTensorEntry *
vb_tensor_dict_add_copy (VbTensorDict *dict, const char *name, int ndim,
                         const int64_t *shape, const float *data)
{
  VbTensorEntry *e = vb_tensor_dict_add (dict, name, ndim, shape);
  if (e != NULL && e->numel > 0)
    memcpy (e->data, data, e->numel * sizeof (float));
  return e;
}

VbTensorEntry *
vb_tensor_dict_lookup (VbTensorDict *dict, const char *name)
{
  return g_hash_table_lookup (dict->by_name, name);
}

gboolean
vb_tensor_dict_remove (VbTensorDict *dict, const char *name)
{
  VbTensorEntry *e = g_hash_table_lookup (dict->by_name, name);
  if (e == NULL)
    return FALSE;
  g_hash_table_remove (dict->by_name, name);
  g_ptr_array_remove (dict->entries, e);
  return TRUE;
}

gboolean
vb_tensor_dict_rename (VbTensorDict *dict, const char *from, const char *to)
{
  VbTensorEntry *e = g_hash_table_lookup (dict->by_name, from);
  if (e == NULL || g_hash_table_contains (dict->by_name, to))
    return FALSE;
  g_hash_table_remove (dict->by_name, from);
  g_free (e->name);
  e->name = g_strdup (to);
  g_hash_table_insert (dict->by_name, e->name, e);
  return TRUE;
}

guint
vb_tensor_dict_size (VbTensorDict *dict)
{
  return dict->entries->len;
}

VbTensorEntry *
vb_tensor_dict_index (VbTensorDict *dict, guint i)
{
  g_return_val_if_fail (i < dict->entries->len, NULL);
  return g_ptr_array_index (dict->entries, i);
}

GHashTable *
vb_tensor_dict_metadata (VbTensorDict *dict)
{
  return dict->metadata;
}

GPtrArray *
vb_tensor_dict_skipped (VbTensorDict *dict)
{
  return dict->skipped;
}

char *
vb_shape_to_string (int ndim, const int64_t *shape)
{
  GString *s = g_string_new ("(");
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, shape[i]);
  if (ndim == 1)
    g_string_append_c (s, ',');
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}
