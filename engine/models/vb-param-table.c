#include "config.h"

#include "vb-param-table.h"

#include "vb-error.h"

VbTensorEntry *
vb_param_table_need (VbTensorDict *dict, const char *name, int ndim, const char *source,
                     const char *what, GError **error)
{
  VbTensorEntry *e = vb_tensor_dict_lookup (dict, name);
  if (e == NULL)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                 "%s: missing tensor %s: not a %s?", source, name, what);
  else if (e->ndim != ndim)
    {
      g_autofree char *s = vb_shape_to_string (e->ndim, e->shape);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: tensor %s has shape %s, expected %d dimensions", source, name, s, ndim);
      return NULL;
    }
  return e;
}

gboolean
vb_param_table_same_shape (const VbTensorEntry *e, int ndim, const int64_t *shape)
{
  gboolean same = e->ndim == ndim;
  for (int d = 0; same && d < ndim; d++)
    same = e->shape[d] == shape[d];
  return same;
}

void
vb_param_check_clear (VbParamCheck *check)
{
  if (check->missing != NULL)
    g_string_free (check->missing, TRUE);
  if (check->unexpected != NULL)
    g_string_free (check->unexpected, TRUE);
  check->missing = check->unexpected = NULL;
}

/* a whole list would bury the message: the first eight say what kind of file it is */
static void
append_name (GString **list, int *count, const char *name)
{
  if (*list == NULL)
    *list = g_string_new (NULL);
  if ((*count)++ < 8)
    g_string_append_printf (*list, "%s%s", (*list)->len ? ", " : "", name);
}

static const char *
list_end (int count)
{
  return count > 8 ? ", …)" : ")";
}

gboolean
vb_param_check_tensor (VbParamCheck *check, VbTensorDict *dict, const char *name, int ndim,
                       const int64_t *shape, const char *source, const char *model,
                       const char *hint, GError **error)
{
  VbTensorEntry *e = vb_tensor_dict_lookup (dict, name);
  if (e == NULL)
    {
      append_name (&check->missing, &check->n_missing, name);
      return TRUE;
    }
  if (!vb_param_table_same_shape (e, ndim, shape))
    {
      g_autofree char *got = vb_shape_to_string (e->ndim, e->shape);
      g_autofree char *want = vb_shape_to_string (ndim, shape);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s: tensor %s has shape %s, %s expects %s%s", source, name, got, model,
                   want, hint);
      return FALSE;
    }
  return TRUE;
}

void
vb_param_check_unexpected (VbParamCheck *check, const char *name)
{
  append_name (&check->unexpected, &check->n_unexpected, name);
}

gboolean
vb_param_check_finish (VbParamCheck *check, const char *source, const char *model,
                       GError **error)
{
  int nm = check->n_missing, nu = check->n_unexpected;
  if (nm == 0 && nu == 0)
    return TRUE;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
               "%s does not match %s: %d missing tensor%s%s%s%s, %d unexpected%s%s%s",
               source, model, nm, nm == 1 ? "" : "s", nm ? " (" : "",
               nm ? check->missing->str : "", nm ? list_end (nm) : "", nu, nu ? " (" : "",
               nu ? check->unexpected->str : "", nu ? list_end (nu) : "");
  return FALSE;
}
