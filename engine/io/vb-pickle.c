#include "vb-pickle.h"

#include <string.h>

#include "vb-error.h"

/* Bounds: generous for real checkpoints, small enough that hostile input cannot make
 * us allocate without limit (most structures are also bounded by the input size). */
#define MAX_STACK      (1u << 22)
#define MAX_MARKS      (1u << 16)
#define MAX_MEMO       (1u << 24)
#define MAX_GLOBAL_LEN 256
#define MAX_CONTAINER  (1u << 26)

typedef enum {
  G_ORDERED_DICT,
  G_REBUILD_TENSOR_V2,
  G_REBUILD_PARAMETER,
  G_REBUILD_PARAMETER_WITH_STATE,
  G_TORCH_SIZE,
  G_STORAGE,
  G_CFGNODE,
} GlobalKind;

static const struct {
  const char *module;
  const char *name;
  GlobalKind  kind;
  VbDtype     dtype;
} allow_list[] = {
  { "collections", "OrderedDict", G_ORDERED_DICT, 0 },
  { "torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, 0 },
  { "torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0 },
  { "torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_WITH_STATE, 0 },
  { "torch", "Size", G_TORCH_SIZE, 0 },
  { "torch", "FloatStorage", G_STORAGE, VB_DTYPE_F32 },
  { "torch", "HalfStorage", G_STORAGE, VB_DTYPE_F16 },
  { "torch", "BFloat16Storage", G_STORAGE, VB_DTYPE_BF16 },
  { "torch", "DoubleStorage", G_STORAGE, VB_DTYPE_F64 },
  { "torch", "LongStorage", G_STORAGE, VB_DTYPE_I64 },
  { "torch", "IntStorage", G_STORAGE, VB_DTYPE_I32 },
  { "torch", "ShortStorage", G_STORAGE, VB_DTYPE_I16 },
  { "torch", "CharStorage", G_STORAGE, VB_DTYPE_I8 },
  { "torch", "ByteStorage", G_STORAGE, VB_DTYPE_U8 },
  { "torch", "BoolStorage", G_STORAGE, VB_DTYPE_BOOL },
  { "yacs.config", "CfgNode", G_CFGNODE, 0 },
};

struct _VbPickle {
  GPtrArray     *arena;   /* every value, freed together */
  VbPickleValue *root;
};

typedef struct {
  const guint8        *data;
  gsize                len;
  gsize                pos;
  gsize                op_pos;     /* offset of the current opcode, for messages */
  guint8               op;
  const char          *origin;
  VbPickle            *pickle;
  GPtrArray           *stack;      /* borrowed values */
  GArray              *marks;      /* guint stack positions */
  GPtrArray           *memo;       /* borrowed values, NULL = unset */
  VbPickleStorageFunc  storage_func;
  gpointer             user_data;
} Unpickler;

static void
value_free (gpointer p)
{
  VbPickleValue *v = p;

  switch (v->kind)
    {
    case VB_PICKLE_STRING:
    case VB_PICKLE_BYTES:
    case VB_PICKLE_BIGINT:
      g_free (v->str.data);
      break;
    case VB_PICKLE_LIST:
    case VB_PICKLE_TUPLE:
    case VB_PICKLE_DICT:
    case VB_PICKLE_OBJECT:
      g_clear_pointer (&v->c.items, g_ptr_array_unref);
      g_clear_pointer (&v->c.keys, g_ptr_array_unref);
      g_clear_pointer (&v->c.index, g_hash_table_unref);
      g_clear_pointer (&v->c.list, g_ptr_array_unref);
      break;
    case VB_PICKLE_STORAGE:
      g_free (v->storage.key);
      g_free (v->storage.location);
      break;
    default:
      break;
    }
  g_free (v);
}

void
vb_pickle_free (VbPickle *pickle)
{
  if (pickle == NULL)
    return;
  g_ptr_array_unref (pickle->arena);
  g_free (pickle);
}

VbPickleValue *
vb_pickle_get_root (VbPickle *pickle)
{
  return pickle->root;
}

const char *
vb_pickle_kind_name (VbPickleKind kind)
{
  static const char *names[] = {
    "None", "bool", "int", "int", "float", "str", "bytes", "list", "tuple", "dict",
    "tensor", "storage", "object", "global",
  };
  return kind < G_N_ELEMENTS (names) ? names[kind] : "?";
}

static VbPickleValue *
new_value (Unpickler *u, VbPickleKind kind)
{
  VbPickleValue *v = g_new0 (VbPickleValue, 1);
  v->kind = kind;
  if (kind == VB_PICKLE_LIST || kind == VB_PICKLE_TUPLE || kind == VB_PICKLE_DICT
      || kind == VB_PICKLE_OBJECT)
    v->c.items = g_ptr_array_new ();
  if (kind == VB_PICKLE_DICT || kind == VB_PICKLE_OBJECT)
    {
      v->c.keys = g_ptr_array_new ();
      v->c.index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
  if (kind == VB_PICKLE_OBJECT)
    v->c.list = g_ptr_array_new ();
  g_ptr_array_add (u->pickle->arena, v);
  return v;
}

/* ---- errors ---- */

static char *
printable (const char *s)
{
  g_autofree char *cut = g_strndup (s, 80);
  return g_strescape (cut, NULL);
}

static gboolean G_GNUC_PRINTF (3, 4)
corrupt (Unpickler *u, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
               "%s: pickle: %s (opcode 0x%02x at byte %" G_GSIZE_FORMAT ")",
               u->origin, what, u->op, u->op_pos);
  return FALSE;
}

static gboolean
refuse_global (Unpickler *u, GError **error, const char *opname, const char *module,
               const char *name)
{
  g_autofree char *m = printable (module);
  g_autofree char *n = printable (name);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSAFE,
               "refusing pickle %s %s.%s at byte %" G_GSIZE_FORMAT " in %s "
               "(not on the allow-list)", opname, m, n, u->op_pos, u->origin);
  return FALSE;
}

static gboolean
refuse_call (Unpickler *u, GError **error, const char *opname, VbPickleValue *callable)
{
  if (callable->kind != VB_PICKLE_GLOBAL)
    return corrupt (u, error, "%s on a %s", opname, vb_pickle_kind_name (callable->kind));
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSAFE,
               "refusing pickle %s of %s.%s at byte %" G_GSIZE_FORMAT " in %s",
               opname, callable->global.module, callable->global.name, u->op_pos, u->origin);
  return FALSE;
}

/* ---- reading the byte stream ---- */

static gboolean
need (Unpickler *u, guint64 n, GError **error)
{
  if (n > u->len - u->pos)
    return corrupt (u, error, "truncated: %" G_GUINT64_FORMAT " more bytes needed, %"
                    G_GSIZE_FORMAT " left", n, u->len - u->pos);
  return TRUE;
}

static guint64
read_le (Unpickler *u, guint n)
{
  guint64 v = 0;
  for (guint i = 0; i < n; i++)
    v |= (guint64) u->data[u->pos + i] << (8 * i);
  u->pos += n;
  return v;
}

/* ---- stack ---- */

static guint
fence (Unpickler *u)
{
  return u->marks->len ? g_array_index (u->marks, guint, u->marks->len - 1) : 0;
}

static gboolean
push (Unpickler *u, VbPickleValue *v, GError **error)
{
  if (u->stack->len >= MAX_STACK)
    return corrupt (u, error, "stack deeper than %u", MAX_STACK);
  g_ptr_array_add (u->stack, v);
  return TRUE;
}

static VbPickleValue *
pop (Unpickler *u, GError **error)
{
  if (u->stack->len <= fence (u))
    return corrupt (u, error, "stack underflow"), NULL;
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static VbPickleValue *
top (Unpickler *u, GError **error)
{
  if (u->stack->len <= fence (u))
    return corrupt (u, error, "stack underflow"), NULL;
  return g_ptr_array_index (u->stack, u->stack->len - 1);
}

/* Pops the last mark; *start receives the first stack index above it. */
static gboolean
pop_mark (Unpickler *u, guint *start, GError **error)
{
  if (u->marks->len == 0)
    return corrupt (u, error, "no MARK on the stack");
  *start = g_array_index (u->marks, guint, u->marks->len - 1);
  g_array_set_size (u->marks, u->marks->len - 1);
  return TRUE;
}

/* ---- containers ---- */

/* A hashable identity for a key, or NULL when the kind is not deduplicated. */
static char *
key_identity (VbPickleValue *k)
{
  switch (k->kind)
    {
    case VB_PICKLE_STRING:
      return g_strconcat ("s", k->str.data, NULL);
    case VB_PICKLE_INT:
      return g_strdup_printf ("i%" G_GINT64_FORMAT, k->integer);
    case VB_PICKLE_BOOL:
      return g_strdup_printf ("i%d", k->boolean ? 1 : 0);
    case VB_PICKLE_NONE:
      return g_strdup ("n");
    default:
      return NULL;
    }
}

static gboolean
dict_set (Unpickler *u, VbPickleValue *d, VbPickleValue *k, VbPickleValue *v, GError **error)
{
  char *id = key_identity (k);
  if (id != NULL)
    {
      guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (d->c.index, id));
      if (pos != 0)
        {
          g_free (id);
          d->c.items->pdata[pos - 1] = v;   /* Python semantics: last write wins */
          return TRUE;
        }
    }
  if (d->c.items->len >= MAX_CONTAINER)
    {
      g_free (id);
      return corrupt (u, error, "dict larger than %u items", MAX_CONTAINER);
    }
  g_ptr_array_add (d->c.keys, k);
  g_ptr_array_add (d->c.items, v);
  if (id != NULL)
    g_hash_table_insert (d->c.index, id, GUINT_TO_POINTER (d->c.items->len));
  return TRUE;
}

static gboolean
container_add (Unpickler *u, GPtrArray *arr, VbPickleValue *v, GError **error)
{
  if (arr->len >= MAX_CONTAINER)
    return corrupt (u, error, "container larger than %u items", MAX_CONTAINER);
  g_ptr_array_add (arr, v);
  return TRUE;
}

VbPickleValue *
vb_pickle_dict_get (VbPickleValue *dict, const char *key)
{
  if (dict == NULL || (dict->kind != VB_PICKLE_DICT && dict->kind != VB_PICKLE_OBJECT))
    return NULL;
  g_autofree char *id = g_strconcat ("s", key, NULL);
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (dict->c.index, id));
  return pos ? g_ptr_array_index (dict->c.items, pos - 1) : NULL;
}

guint
vb_pickle_dict_size (VbPickleValue *dict)
{
  if (dict == NULL || (dict->kind != VB_PICKLE_DICT && dict->kind != VB_PICKLE_OBJECT))
    return 0;
  return dict->c.items->len;
}

/* Moves stack[start..] into a new tuple/list. */
static VbPickleValue *
collect (Unpickler *u, VbPickleKind kind, guint start)
{
  VbPickleValue *v = new_value (u, kind);
  for (guint i = start; i < u->stack->len; i++)
    g_ptr_array_add (v->c.items, g_ptr_array_index (u->stack, i));
  g_ptr_array_set_size (u->stack, start);
  return v;
}

/* ---- GLOBAL and calls ---- */

static gboolean
resolve_global (Unpickler *u, const char *opname, const char *module, const char *name,
                GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (allow_list); i++)
    if (strcmp (module, allow_list[i].module) == 0 && strcmp (name, allow_list[i].name) == 0)
      {
        VbPickleValue *v = new_value (u, VB_PICKLE_GLOBAL);
        v->global.id = i;
        v->global.module = allow_list[i].module;
        v->global.name = allow_list[i].name;
        return push (u, v, error);
      }
  return refuse_global (u, error, opname, module, name);
}

static gboolean
read_line (Unpickler *u, char **out, GError **error)
{
  const guint8 *start = u->data + u->pos;
  gsize avail = MIN (u->len - u->pos, (gsize) MAX_GLOBAL_LEN + 1);
  const guint8 *nl = memchr (start, '\n', avail);
  if (nl == NULL)
    return corrupt (u, error, "GLOBAL name without a newline within %u bytes", MAX_GLOBAL_LEN);
  *out = g_strndup ((const char *) start, nl - start);
  if (strlen (*out) != (gsize) (nl - start))
    {
      g_clear_pointer (out, g_free);
      return corrupt (u, error, "NUL byte in a GLOBAL name");
    }
  u->pos += nl - start + 1;
  return TRUE;
}

static gboolean
int_tuple (VbPickleValue *t, int64_t *out, int *n)
{
  if (t->kind != VB_PICKLE_TUPLE || t->c.items->len > VB_PICKLE_MAX_DIMS)
    return FALSE;
  for (guint i = 0; i < t->c.items->len; i++)
    {
      VbPickleValue *x = g_ptr_array_index (t->c.items, i);
      if (x->kind != VB_PICKLE_INT)
        return FALSE;
      out[i] = x->integer;
    }
  *n = t->c.items->len;
  return TRUE;
}

static VbPickleValue *
rebuild_tensor (Unpickler *u, VbPickleValue *args, GError **error)
{
  GPtrArray *a = args->c.items;
  int nsize = 0, nstride = 0;
  int64_t size[VB_PICKLE_MAX_DIMS], stride[VB_PICKLE_MAX_DIMS];

  if (a->len != 6 && a->len != 7)
    return corrupt (u, error, "_rebuild_tensor_v2 takes 6 or 7 arguments, not %u", a->len), NULL;
  VbPickleValue *storage = a->pdata[0], *offset = a->pdata[1];
  if (storage->kind != VB_PICKLE_STORAGE || offset->kind != VB_PICKLE_INT)
    return corrupt (u, error, "_rebuild_tensor_v2 needs a storage and an integer offset"), NULL;
  if (!int_tuple (a->pdata[2], size, &nsize) || !int_tuple (a->pdata[3], stride, &nstride)
      || nsize != nstride)
    return corrupt (u, error, "_rebuild_tensor_v2: size and stride must be integer tuples "
                    "of the same length (at most %d)", VB_PICKLE_MAX_DIMS), NULL;

  /* The extent the view reaches must lie inside the storage. */
  int64_t numel = storage->storage.numel;
  gboolean empty = FALSE;
  guint64 last = 0;
  if (offset->integer < 0)
    return corrupt (u, error, "negative storage offset"), NULL;
  for (int i = 0; i < nsize; i++)
    {
      if (size[i] < 0 || stride[i] < 0)
        return corrupt (u, error, "negative size or stride"), NULL;
      if (size[i] == 0)
        empty = TRUE;
    }
  if (!empty)
    {
      last = offset->integer;
      for (int i = 0; i < nsize; i++)
        {
          guint64 span = (guint64) (size[i] - 1);
          if (stride[i] != 0 && span > (G_MAXINT64 - last) / (guint64) stride[i])
            return corrupt (u, error, "tensor extent overflows"), NULL;
          last += span * (guint64) stride[i];
        }
      if (last >= (guint64) numel)
        return corrupt (u, error, "tensor reaches element %" G_GUINT64_FORMAT " of storage %s"
                        " which holds %" G_GINT64_FORMAT, last, storage->storage.key, numel), NULL;
    }
  else if (offset->integer > numel)
    return corrupt (u, error, "storage offset past storage %s", storage->storage.key), NULL;

  VbPickleValue *t = new_value (u, VB_PICKLE_TENSOR);
  t->tensor.storage = storage;
  t->tensor.offset = offset->integer;
  t->tensor.ndim = nsize;
  memcpy (t->tensor.size, size, sizeof (int64_t) * nsize);
  memcpy (t->tensor.stride, stride, sizeof (int64_t) * nsize);
  return t;
}

static gboolean
op_reduce (Unpickler *u, GError **error)
{
  VbPickleValue *args = pop (u, error), *callable, *result = NULL;
  if (args == NULL || (callable = pop (u, error)) == NULL)
    return FALSE;
  if (callable->kind != VB_PICKLE_GLOBAL)
    return refuse_call (u, error, "REDUCE", callable);
  if (args->kind != VB_PICKLE_TUPLE)
    return corrupt (u, error, "REDUCE arguments are a %s, not a tuple",
                    vb_pickle_kind_name (args->kind));
  GPtrArray *a = args->c.items;

  switch (allow_list[callable->global.id].kind)
    {
    case G_ORDERED_DICT:
      if (a->len != 0)
        return corrupt (u, error, "OrderedDict with arguments");
      result = new_value (u, VB_PICKLE_DICT);
      break;
    case G_REBUILD_TENSOR_V2:
      result = rebuild_tensor (u, args, error);
      if (result == NULL)
        return FALSE;
      break;
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_WITH_STATE:
      if (a->len < 1 || ((VbPickleValue *) a->pdata[0])->kind != VB_PICKLE_TENSOR)
        return corrupt (u, error, "%s without a tensor", callable->global.name);
      result = a->pdata[0];
      break;
    case G_TORCH_SIZE:
      {
        int64_t dims[VB_PICKLE_MAX_DIMS];
        int n;
        if (a->len != 1 || !int_tuple (a->pdata[0], dims, &n))
          return corrupt (u, error, "torch.Size needs one tuple of integers");
        result = a->pdata[0];
      }
      break;
    case G_STORAGE:
    case G_CFGNODE:
    default:
      return refuse_call (u, error, "REDUCE", callable);
    }
  return push (u, result, error);
}

static gboolean
op_persid (Unpickler *u, GError **error)
{
  VbPickleValue *pid = pop (u, error);
  if (pid == NULL)
    return FALSE;
  if (pid->kind != VB_PICKLE_TUPLE || pid->c.items->len != 5)
    return corrupt (u, error, "persistent id is not a 5-tuple");
  VbPickleValue **f = (VbPickleValue **) pid->c.items->pdata;
  if (f[0]->kind != VB_PICKLE_STRING || strcmp (f[0]->str.data, "storage") != 0)
    return corrupt (u, error, "persistent id without the 'storage' tag");
  if (f[1]->kind != VB_PICKLE_GLOBAL || allow_list[f[1]->global.id].kind != G_STORAGE)
    return corrupt (u, error, "persistent id without a storage type");
  if (f[2]->kind != VB_PICKLE_STRING || f[3]->kind != VB_PICKLE_STRING
      || f[4]->kind != VB_PICKLE_INT || f[4]->integer < 0)
    return corrupt (u, error, "persistent id fields have the wrong types");
  const char *key = f[2]->str.data;
  if (key[0] == '\0' || strchr (key, '/') != NULL || strcmp (key, "..") == 0 || strcmp (key, ".") == 0)
    {
      g_autofree char *k = printable (key);
      return corrupt (u, error, "invalid storage key \"%s\"", k);
    }
  VbDtype dtype = allow_list[f[1]->global.id].dtype;
  guint64 record = 0;
  if (u->storage_func == NULL || !u->storage_func (key, &record, u->user_data))
    {
      g_autofree char *k = printable (key);
      return corrupt (u, error, "storage %s is not in the archive", k);
    }
  guint64 es = vb_dtype_bits (dtype) / 8;
  if ((guint64) f[4]->integer > record / es)
    return corrupt (u, error, "storage %s claims %" G_GINT64_FORMAT " × %" G_GUINT64_FORMAT
                    " bytes but its record holds %" G_GUINT64_FORMAT,
                    key, f[4]->integer, es, record);

  VbPickleValue *s = new_value (u, VB_PICKLE_STORAGE);
  s->storage.key = g_strdup (key);
  s->storage.location = g_strdup (f[3]->str.data);
  s->storage.dtype = dtype;
  s->storage.numel = f[4]->integer;
  return push (u, s, error);
}

static gboolean
push_string (Unpickler *u, VbPickleKind kind, guint64 n, GError **error)
{
  if (!need (u, n, error))
    return FALSE;
  const char *p = (const char *) u->data + u->pos;
  if (kind == VB_PICKLE_STRING && !g_utf8_validate_len (p, n, NULL))
    return corrupt (u, error, "string is not UTF-8 or holds a NUL byte");
  VbPickleValue *v = new_value (u, kind);
  v->str.data = g_malloc (n + 1);
  memcpy (v->str.data, p, n);
  v->str.data[n] = '\0';
  v->str.len = n;
  u->pos += n;
  return push (u, v, error);
}

static gboolean
push_int (Unpickler *u, int64_t i, GError **error)
{
  VbPickleValue *v = new_value (u, VB_PICKLE_INT);
  v->integer = i;
  return push (u, v, error);
}

/* LONG1 / LONG4: little-endian two's complement of n bytes. */
static gboolean
push_long (Unpickler *u, guint64 n, GError **error)
{
  if (!need (u, n, error))
    return FALSE;
  const guint8 *p = u->data + u->pos;
  /* Drop redundant sign-extension bytes before deciding whether it fits 64 bits. */
  guint64 m = n;
  while (m > 8 && (p[m - 1] == 0x00 || p[m - 1] == 0xff)
         && ((p[m - 2] & 0x80) == (p[m - 1] & 0x80)))
    m--;
  if (m > 8)
    return push_string (u, VB_PICKLE_BIGINT, n, error);
  guint64 v = 0;
  for (guint64 i = 0; i < m; i++)
    v |= (guint64) p[i] << (8 * i);
  if (m > 0 && m < 8 && (p[m - 1] & 0x80))
    v |= G_MAXUINT64 << (8 * m);
  u->pos += n;
  return push_int (u, (int64_t) v, error);
}

static gboolean
memo_put (Unpickler *u, guint64 idx, GError **error)
{
  VbPickleValue *v = top (u, error);
  if (v == NULL)
    return FALSE;
  /* Writers number memo entries from 0; bounding the index by the input read so far
   * keeps a hostile index from allocating more than the input could fill. */
  if (idx >= MAX_MEMO || idx > u->pos)
    return corrupt (u, error, "memo index %" G_GUINT64_FORMAT " out of range", idx);
  if (idx >= u->memo->len)
    g_ptr_array_set_size (u->memo, idx + 1);
  u->memo->pdata[idx] = v;
  return TRUE;
}

static gboolean
memo_get (Unpickler *u, guint64 idx, GError **error)
{
  if (idx >= u->memo->len || u->memo->pdata[idx] == NULL)
    return corrupt (u, error, "memo entry %" G_GUINT64_FORMAT " is not set", idx);
  return push (u, u->memo->pdata[idx], error);
}

static gboolean
set_items (Unpickler *u, VbPickleValue *target, guint start, GError **error)
{
  if (target->kind != VB_PICKLE_DICT && target->kind != VB_PICKLE_OBJECT)
    return corrupt (u, error, "SETITEM(S) on a %s", vb_pickle_kind_name (target->kind));
  if ((u->stack->len - start) % 2 != 0)
    return corrupt (u, error, "SETITEMS with an odd number of items");
  for (guint i = start; i < u->stack->len; i += 2)
    if (!dict_set (u, target, u->stack->pdata[i], u->stack->pdata[i + 1], error))
      return FALSE;
  g_ptr_array_set_size (u->stack, start);
  return TRUE;
}

static gboolean
append_items (Unpickler *u, VbPickleValue *target, guint start, GError **error)
{
  GPtrArray *arr;
  if (target->kind == VB_PICKLE_LIST)
    arr = target->c.items;
  else if (target->kind == VB_PICKLE_OBJECT)
    arr = target->c.list;
  else
    return corrupt (u, error, "APPEND(S) on a %s", vb_pickle_kind_name (target->kind));
  for (guint i = start; i < u->stack->len; i++)
    if (!container_add (u, arr, u->stack->pdata[i], error))
      return FALSE;
  g_ptr_array_set_size (u->stack, start);
  return TRUE;
}

/* The value just below stack[start], which must lie above the enclosing mark. */
static VbPickleValue *
below (Unpickler *u, guint start, GError **error)
{
  if (start == 0 || start - 1 < fence (u))
    return corrupt (u, error, "no container below the MARK"), NULL;
  return u->stack->pdata[start - 1];
}

static gboolean
step (Unpickler *u, gboolean *done, GError **error)
{
  VbPickleValue *v, *k, *t;
  guint start = 0;
  char *module = NULL, *name = NULL;
  gboolean ok;

  u->op_pos = u->pos;
  u->op = u->data[u->pos++];
  switch (u->op)
    {
    case 0x80: /* PROTO */
      if (!need (u, 1, error))
        return FALSE;
      if (u->data[u->pos] < 2 || u->data[u->pos] > 5)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "%s: pickle protocol %u is not supported (2 to 5 are)",
                       u->origin, u->data[u->pos]);
          return FALSE;
        }
      u->pos++;
      return TRUE;
    case 0x95: /* FRAME */
      if (!need (u, 8, error))
        return FALSE;
      u->pos += 8;
      return TRUE;
    case '.': /* STOP */
      if ((v = top (u, error)) == NULL)
        return FALSE;
      u->pickle->root = v;
      *done = TRUE;
      return TRUE;
    case '(': /* MARK */
      if (u->marks->len >= MAX_MARKS)
        return corrupt (u, error, "more than %u nested MARKs", MAX_MARKS);
      g_array_append_val (u->marks, u->stack->len);
      return TRUE;
    case '}': /* EMPTY_DICT */
      return push (u, new_value (u, VB_PICKLE_DICT), error);
    case ']': /* EMPTY_LIST */
      return push (u, new_value (u, VB_PICKLE_LIST), error);
    case ')': /* EMPTY_TUPLE */
      return push (u, new_value (u, VB_PICKLE_TUPLE), error);
    case 't': /* TUPLE */
      if (!pop_mark (u, &start, error))
        return FALSE;
      return push (u, collect (u, VB_PICKLE_TUPLE, start), error);
    case 0x85: case 0x86: case 0x87: /* TUPLE1..3 */
      {
        guint n = u->op - 0x84;
        if (u->stack->len < fence (u) + n)
          return corrupt (u, error, "stack underflow");
        return push (u, collect (u, VB_PICKLE_TUPLE, u->stack->len - n), error);
      }
    case 'd': /* DICT */
      if (!pop_mark (u, &start, error))
        return FALSE;
      v = new_value (u, VB_PICKLE_DICT);
      if (!set_items (u, v, start, error))
        return FALSE;
      return push (u, v, error);
    case 'l': /* LIST */
      if (!pop_mark (u, &start, error))
        return FALSE;
      return push (u, collect (u, VB_PICKLE_LIST, start), error);
    case 's': /* SETITEM */
      if ((v = pop (u, error)) == NULL || (k = pop (u, error)) == NULL
          || (t = top (u, error)) == NULL)
        return FALSE;
      if (t->kind != VB_PICKLE_DICT && t->kind != VB_PICKLE_OBJECT)
        return corrupt (u, error, "SETITEM on a %s", vb_pickle_kind_name (t->kind));
      return dict_set (u, t, k, v, error);
    case 'u': /* SETITEMS */
      if (!pop_mark (u, &start, error) || (t = below (u, start, error)) == NULL)
        return FALSE;
      return set_items (u, t, start, error);
    case 'a': /* APPEND */
      if ((v = pop (u, error)) == NULL || (t = top (u, error)) == NULL)
        return FALSE;
      if (t->kind == VB_PICKLE_LIST)
        return container_add (u, t->c.items, v, error);
      if (t->kind == VB_PICKLE_OBJECT)
        return container_add (u, t->c.list, v, error);
      return corrupt (u, error, "APPEND on a %s", vb_pickle_kind_name (t->kind));
    case 'e': /* APPENDS */
      if (!pop_mark (u, &start, error) || (t = below (u, start, error)) == NULL)
        return FALSE;
      return append_items (u, t, start, error);
    case 'N':
      return push (u, new_value (u, VB_PICKLE_NONE), error);
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
      v = new_value (u, VB_PICKLE_BOOL);
      v->boolean = u->op == 0x88;
      return push (u, v, error);
    case 'K': /* BININT1 */
      return need (u, 1, error) && push_int (u, read_le (u, 1), error);
    case 'M': /* BININT2 */
      return need (u, 2, error) && push_int (u, read_le (u, 2), error);
    case 'J': /* BININT */
      return need (u, 4, error) && push_int (u, (gint32) (guint32) read_le (u, 4), error);
    case 0x8a: /* LONG1 */
      return need (u, 1, error) && push_long (u, read_le (u, 1), error);
    case 0x8b: /* LONG4 */
      {
        if (!need (u, 4, error))
          return FALSE;
        gint32 n = (gint32) (guint32) read_le (u, 4);
        if (n < 0)
          return corrupt (u, error, "negative LONG4 length");
        return push_long (u, n, error);
      }
    case 'G': /* BINFLOAT: big-endian */
      {
        if (!need (u, 8, error))
          return FALSE;
        guint64 bits = 0;
        for (int i = 0; i < 8; i++)
          bits = bits << 8 | u->data[u->pos + i];
        u->pos += 8;
        v = new_value (u, VB_PICKLE_FLOAT);
        memcpy (&v->real, &bits, 8);
        return push (u, v, error);
      }
    case 'X': /* BINUNICODE */
      return need (u, 4, error) && push_string (u, VB_PICKLE_STRING, read_le (u, 4), error);
    case 0x8c: /* SHORT_BINUNICODE */
      return need (u, 1, error) && push_string (u, VB_PICKLE_STRING, read_le (u, 1), error);
    case 0x8d: /* BINUNICODE8 */
      return need (u, 8, error) && push_string (u, VB_PICKLE_STRING, read_le (u, 8), error);
    case 'C': /* SHORT_BINBYTES */
    case 'U': /* SHORT_BINSTRING */
      return need (u, 1, error) && push_string (u, VB_PICKLE_BYTES, read_le (u, 1), error);
    case 'B': /* BINBYTES */
      return need (u, 4, error) && push_string (u, VB_PICKLE_BYTES, read_le (u, 4), error);
    case 'T': /* BINSTRING: signed length */
      {
        if (!need (u, 4, error))
          return FALSE;
        gint32 n = (gint32) (guint32) read_le (u, 4);
        if (n < 0)
          return corrupt (u, error, "negative BINSTRING length");
        return push_string (u, VB_PICKLE_BYTES, n, error);
      }
    case 'q': /* BINPUT */
      return need (u, 1, error) && memo_put (u, read_le (u, 1), error);
    case 'r': /* LONG_BINPUT */
      return need (u, 4, error) && memo_put (u, read_le (u, 4), error);
    case 0x94: /* MEMOIZE */
      return memo_put (u, u->memo->len, error);
    case 'h': /* BINGET */
      return need (u, 1, error) && memo_get (u, read_le (u, 1), error);
    case 'j': /* LONG_BINGET */
      return need (u, 4, error) && memo_get (u, read_le (u, 4), error);
    case 'c': /* GLOBAL */
      ok = read_line (u, &module, error) && read_line (u, &name, error)
           && resolve_global (u, "GLOBAL", module, name, error);
      g_free (module);
      g_free (name);
      return ok;
    case 0x93: /* STACK_GLOBAL */
      if ((v = pop (u, error)) == NULL || (k = pop (u, error)) == NULL)
        return FALSE;
      if (v->kind != VB_PICKLE_STRING || k->kind != VB_PICKLE_STRING)
        return corrupt (u, error, "STACK_GLOBAL needs two strings");
      return resolve_global (u, "STACK_GLOBAL", k->str.data, v->str.data, error);
    case 'R': /* REDUCE */
      return op_reduce (u, error);
    case 0x81: /* NEWOBJ: only inert classes */
      if ((v = pop (u, error)) == NULL || (k = pop (u, error)) == NULL)
        return FALSE;
      if (k->kind != VB_PICKLE_GLOBAL || allow_list[k->global.id].kind != G_CFGNODE)
        return refuse_call (u, error, "NEWOBJ", k);
      if (v->kind != VB_PICKLE_TUPLE)
        return corrupt (u, error, "NEWOBJ arguments are not a tuple");
      t = new_value (u, VB_PICKLE_OBJECT);
      t->c.class_name = "yacs.config.CfgNode";
      return push (u, t, error);
    case 'b': /* BUILD: state is ignored */
      if ((v = pop (u, error)) == NULL || (t = top (u, error)) == NULL)
        return FALSE;
      if (t->kind != VB_PICKLE_DICT && t->kind != VB_PICKLE_TENSOR && t->kind != VB_PICKLE_OBJECT)
        return corrupt (u, error, "BUILD on a %s", vb_pickle_kind_name (t->kind));
      return TRUE;
    case 'Q': /* BINPERSID */
      return op_persid (u, error);
    default:
      return corrupt (u, error, "unsupported opcode 0x%02x", u->op);
    }
}

VbPickle *
vb_pickle_load (const guint8 *data, gsize len, const char *origin,
                VbPickleStorageFunc storage_func, gpointer user_data, GError **error)
{
  g_autoptr(VbPickle) pickle = g_new0 (VbPickle, 1);
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(GArray) marks = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GPtrArray) memo = g_ptr_array_new ();
  Unpickler u = {
    .data = data, .len = len, .origin = origin, .pickle = pickle, .stack = stack,
    .marks = marks, .memo = memo, .storage_func = storage_func, .user_data = user_data,
  };
  gboolean done = FALSE;

  pickle->arena = g_ptr_array_new_with_free_func (value_free);
  while (!done)
    {
      if (u.pos >= u.len)
        {
          u.op_pos = u.pos;
          u.op = 0;
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                       "%s: pickle ends at byte %" G_GSIZE_FORMAT " without STOP (truncated?)",
                       origin, u.pos);
          return NULL;
        }
      if (!step (&u, &done, error))
        return NULL;
    }
  return g_steal_pointer (&pickle);
}
