/* vb-preset.c: loading, validating, overriding and expanding experiment presets. */

#include "config.h"

#include <string.h>

#include "vb-preset.h"
#include "vb-error.h"

typedef struct {
  char      *key;      /* dotted path into the base */
  JsonArray *values;   /* non-empty, each of the base field's type */
} Axis;

struct _VbPreset {
  char       *path;        /* NULL for a preset loaded from text */
  char       *origin;      /* "Preset file 'PATH'" or "Preset text", for messages */
  char       *name;
  char       *title;
  char       *description;
  JsonObject *base;
  GPtrArray  *axes;    /* Axis*, in file order */
  JsonObject *labels;  /* nullable */
};

static void
axis_free (Axis *axis)
{
  g_free (axis->key);
  json_array_unref (axis->values);
  g_free (axis);
}

void
vb_preset_free (VbPreset *preset)
{
  if (preset == NULL)
    return;
  g_free (preset->path);
  g_free (preset->origin);
  g_free (preset->name);
  g_free (preset->title);
  g_free (preset->description);
  g_clear_pointer (&preset->base, json_object_unref);
  g_clear_pointer (&preset->axes, g_ptr_array_unref);
  g_clear_pointer (&preset->labels, json_object_unref);
  g_free (preset);
}

/* ---- JSON helpers ------------------------------------------------------- */

typedef enum {
  KIND_NULL,
  KIND_INT,
  KIND_REAL,
  KIND_STRING,
  KIND_BOOL,
  KIND_ARRAY,
  KIND_OBJECT,
} Kind;

static Kind
node_kind (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return KIND_OBJECT;
    case JSON_NODE_ARRAY:
      return KIND_ARRAY;
    case JSON_NODE_NULL:
      return KIND_NULL;
    case JSON_NODE_VALUE:
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      return KIND_INT;
    case G_TYPE_DOUBLE:
      return KIND_REAL;
    case G_TYPE_BOOLEAN:
      return KIND_BOOL;
    case G_TYPE_STRING:
      return KIND_STRING;
    default:
      return KIND_NULL;
    }
}

static const char *
kind_name (Kind kind)
{
  switch (kind)
    {
    case KIND_INT: return "an integer";
    case KIND_REAL: return "a number";
    case KIND_STRING: return "a string";
    case KIND_BOOL: return "true or false";
    case KIND_ARRAY: return "an array";
    case KIND_OBJECT: return "a section";
    case KIND_NULL:
    default: return "null";
    }
}

/* A copy that shares nothing with @node (json_node_copy shares objects and arrays). */
static JsonNode *
deep_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *dst = json_object_new ();
      JsonNode *out = json_node_new (JSON_NODE_OBJECT);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        json_object_set_member (dst, name, deep_copy (member));
      json_node_take_object (out, dst);
      return out;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      JsonArray *dst = json_array_sized_new (json_array_get_length (src));
      JsonNode *out = json_node_new (JSON_NODE_ARRAY);

      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));
      json_node_take_array (out, dst);
      return out;
    }
  return json_node_copy (node);
}

/* Returns a new node holding @value in the type of @field (an integer becomes a real
 * for a real field), or NULL with *why set when the types do not agree. */
static JsonNode *
coerce (JsonNode    *field,
        JsonNode    *value,
        const char **why)
{
  Kind want = node_kind (field);
  Kind have = node_kind (value);

  if (want == KIND_NULL || want == have)
    {
      if (want == KIND_ARRAY && json_array_get_length (json_node_get_array (field)) > 0)
        {
          /* Arrays keep their element type too (depths stay integers). */
          JsonNode *proto = json_array_get_element (json_node_get_array (field), 0);
          JsonArray *in = json_node_get_array (value);
          JsonArray *out = json_array_new ();
          JsonNode *node;

          for (guint i = 0; i < json_array_get_length (in); i++)
            {
              JsonNode *elem = coerce (proto, json_array_get_element (in, i), why);

              if (elem == NULL)
                {
                  json_array_unref (out);
                  return NULL;
                }
              json_array_add_element (out, elem);
            }
          node = json_node_new (JSON_NODE_ARRAY);
          json_node_take_array (node, out);
          return node;
        }
      return deep_copy (value);
    }
  if (want == KIND_REAL && have == KIND_INT)
    {
      JsonNode *node = json_node_new (JSON_NODE_VALUE);

      json_node_set_double (node, (double) json_node_get_int (value));
      return node;
    }
  *why = kind_name (want);
  return NULL;
}

/* The run-name text of a grid value: strings bare, numbers short. */
static char *
value_text (JsonNode *node)
{
  switch (node_kind (node))
    {
    case KIND_STRING:
      return g_strdup (json_node_get_string (node));
    case KIND_INT:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case KIND_REAL:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%g", json_node_get_double (node)));
      }
    case KIND_BOOL:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    case KIND_NULL:
    case KIND_ARRAY:
    case KIND_OBJECT:
    default:
      return json_to_string (node, FALSE);
    }
}

/* Walks @key ("a.b.c") through @root. Returns the leaf node (or NULL), the object
 * that holds it and the member name; *deepest is the last object reached, for listing
 * the fields that do exist. */
static JsonNode *
lookup (JsonObject  *root,
        const char  *key,
        JsonObject **parent,
        char       **member,
        JsonObject **deepest,
        char       **deepest_prefix)
{
  g_auto(GStrv) parts = g_strsplit (key, ".", -1);
  JsonObject *obj = root;
  g_autoptr(GString) prefix = g_string_new (NULL);
  guint n = g_strv_length (parts);

  if (deepest != NULL)
    *deepest = root;
  if (deepest_prefix != NULL)
    *deepest_prefix = g_strdup ("");

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node;

      if (parts[i][0] == '\0' || !json_object_has_member (obj, parts[i]))
        return NULL;
      node = json_object_get_member (obj, parts[i]);
      if (i + 1 == n)
        {
          if (parent != NULL)
            *parent = obj;
          if (member != NULL)
            *member = g_strdup (parts[i]);
          return node;
        }
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return NULL;
      obj = json_node_get_object (node);
      g_string_append_printf (prefix, "%s.", parts[i]);
      if (deepest != NULL)
        *deepest = obj;
      if (deepest_prefix != NULL)
        {
          g_free (*deepest_prefix);
          *deepest_prefix = g_strdup (prefix->str);
        }
    }
  return NULL;
}

static void
collect_leaves (JsonObject *obj,
                const char *prefix,
                GString    *out)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autofree char *key = g_strconcat (prefix, name, NULL);

      if (JSON_NODE_HOLDS_OBJECT (member))
        {
          g_autofree char *sub = g_strconcat (key, ".", NULL);
          collect_leaves (json_node_get_object (member), sub, out);
        }
      else
        g_string_append_printf (out, "%s%s", out->len > 0 ? ", " : "", key);
    }
}

static void
set_unknown_field_error (GError     **error,
                         VbPreset    *preset,
                         const char  *key)
{
  g_autoptr(GString) known = g_string_new (NULL);
  g_autofree char *prefix = NULL;
  JsonObject *deepest = NULL;

  lookup (preset->base, key, NULL, NULL, &deepest, &prefix);
  collect_leaves (deepest, prefix, known);
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "Preset '%s': unknown field '%s' (known: %s)", preset->name, key, known->str);
}

static Axis *
find_axis (VbPreset   *preset,
           const char *key)
{
  for (guint i = 0; i < preset->axes->len; i++)
    {
      Axis *axis = g_ptr_array_index (preset->axes, i);

      if (g_str_equal (axis->key, key))
        return axis;
    }
  return NULL;
}

/* ---- loading ------------------------------------------------------------- */

static gboolean
optional_string (JsonObject  *root,
                 const char  *member,
                 const char  *origin,
                 char       **out,
                 GError     **error)
{
  JsonNode *node;

  if (!json_object_has_member (root, member))
    return TRUE;
  node = json_object_get_member (root, member);
  if (node_kind (node) != KIND_STRING)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: \"%s\" must be a string", origin, member);
      return FALSE;
    }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
load_grid (VbPreset    *preset,
           JsonObject  *grid,
           GError     **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *node;

  json_object_iter_init_ordered (&iter, grid);
  while (json_object_iter_next_ordered (&iter, &key, &node))
    {
      JsonNode *field = lookup (preset->base, key, NULL, NULL, NULL, NULL);
      JsonArray *values;
      Axis *axis;

      if (field == NULL || JSON_NODE_HOLDS_OBJECT (field))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "%s: grid axis '%s' is not a field of \"base\"",
                       preset->origin, key);
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_ARRAY (node) ||
          json_array_get_length (json_node_get_array (node)) == 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "%s: grid axis '%s' must be a non-empty array of values",
                       preset->origin, key);
          return FALSE;
        }

      values = json_node_get_array (node);
      axis = g_new0 (Axis, 1);
      axis->key = g_strdup (key);
      axis->values = json_array_new ();
      g_ptr_array_add (preset->axes, axis);
      for (guint i = 0; i < json_array_get_length (values); i++)
        {
          const char *why = NULL;
          JsonNode *value = coerce (field, json_array_get_element (values, i), &why);

          if (value == NULL)
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "%s: grid axis '%s', value %u must be %s like the "
                           "base field", preset->origin, key, i + 1, why);
              return FALSE;
            }
          json_array_add_element (axis->values, value);
        }
    }
  return TRUE;
}

const char *
vb_preset_default_dir (void)
{
  const char *env = g_getenv ("VISIONBENCH_PRESETS");
  if (env)
    return env;
  if (g_file_test (VB_SOURCE_PRESETS_DIR, G_FILE_TEST_IS_DIR))
    return VB_SOURCE_PRESETS_DIR;
  return VB_PRESETS_DIR;
}

/* path: the file the text came from, or NULL for text handed over directly */
static VbPreset *
load_from_data (const char  *contents,
                gsize        length,
                const char  *path,
                GError     **error)
{
  static const char *const known_members[] = {
    "name", "title", "description", "base", "grid", "labels", NULL,
  };
  g_autoptr(VbPreset) preset = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *origin = path ? g_strdup_printf ("Preset file '%s'", path)
                                 : g_strdup ("Preset text");
  JsonObject *root;
  JsonNode *node;
  JsonObjectIter iter;
  const char *member;

  if (!json_parser_load_from_data (parser, contents, (gssize) length, &local_error))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s is not valid JSON: %s", origin, local_error->message);
      return NULL;
    }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: the top level must be an object", origin);
      return NULL;
    }
  root = json_node_get_object (node);

  preset = g_new0 (VbPreset, 1);
  preset->path = g_strdup (path);
  preset->origin = g_strdup (origin);
  preset->axes = g_ptr_array_new_with_free_func ((GDestroyNotify) axis_free);

  /* Strict about members: a typo ("gird") must not silently drop the grid. */
  json_object_iter_init_ordered (&iter, root);
  while (json_object_iter_next_ordered (&iter, &member, &node))
    if (!g_strv_contains (known_members, member))
      {
        g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                     "%s: unknown member \"%s\" (known: name, title, "
                     "description, base, grid, labels)", origin, member);
        return NULL;
      }

  if (!optional_string (root, "name", origin, &preset->name, error) ||
      !optional_string (root, "title", origin, &preset->title, error) ||
      !optional_string (root, "description", origin, &preset->description, error))
    return NULL;
  if (preset->name == NULL || preset->name[0] == '\0' || strpbrk (preset->name, "/=, \t\n"))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: \"name\" must be a non-empty string without "
                   "spaces, '/', '=' or ','", origin);
      return NULL;
    }
  if (preset->title == NULL)
    preset->title = g_strdup (preset->name);
  if (preset->description == NULL)
    preset->description = g_strdup ("");

  node = json_object_get_member (root, "base");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s: \"base\" must be an object holding the config", origin);
      return NULL;
    }
  /* Our own copy: overrides edit it, and nothing is shared with the parser. */
  node = deep_copy (node);
  preset->base = json_object_ref (json_node_get_object (node));
  json_node_unref (node);

  node = json_object_get_member (root, "grid");
  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "%s: \"grid\" must be an object of \"key\": [values]",
                       origin);
          return NULL;
        }
      if (!load_grid (preset, json_node_get_object (node), error))
        return NULL;
    }

  node = json_object_get_member (root, "labels");
  if (node != NULL)
    {
      JsonNode *label;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "%s: \"labels\" must be an object of \"key\": \"label\"",
                       origin);
          return NULL;
        }
      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &member, &label))
        if (node_kind (label) != KIND_STRING)
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                         "%s: label of '%s' must be a string", origin, member);
            return NULL;
          }
      node = deep_copy (node);
      preset->labels = json_object_ref (json_node_get_object (node));
      json_node_unref (node);
    }

  return g_steal_pointer (&preset);
}

VbPreset *
vb_preset_load (const char  *path,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "Cannot read preset file '%s': %s", path, local_error->message);
      return NULL;
    }
  return load_from_data (contents, length, path, error);
}

VbPreset *
vb_preset_load_from_data (const char  *json,
                          GError     **error)
{
  return load_from_data (json, strlen (json), NULL, error);
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static int
compare_presets (gconstpointer a,
                 gconstpointer b)
{
  VbPreset *pa = *(VbPreset **) a;
  VbPreset *pb = *(VbPreset **) b;

  return strcmp (pa->name, pb->name);
}

GPtrArray *
vb_preset_list (const char  *dir,
                GError     **error)
{
  g_autoptr(GPtrArray) presets =
    g_ptr_array_new_with_free_func ((GDestroyNotify) vb_preset_free);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &local_error);
  const char *name;

  if (d == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "Cannot read the preset folder '%s': %s", dir, local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  /* Load in a fixed order so the same broken file is reported every time. */
  g_ptr_array_sort (files, compare_paths);

  for (guint i = 0; i < files->len; i++)
    {
      VbPreset *preset = vb_preset_load (g_ptr_array_index (files, i), error);

      if (preset == NULL)
        return NULL;
      for (guint j = 0; j < presets->len; j++)
        {
          VbPreset *other = g_ptr_array_index (presets, j);

          if (g_str_equal (other->name, preset->name))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "Preset files '%s' and '%s' both use the name '%s'",
                           other->path, preset->path, preset->name);
              vb_preset_free (preset);
              return NULL;
            }
        }
      g_ptr_array_add (presets, preset);
    }
  g_ptr_array_sort (presets, compare_presets);
  return g_steal_pointer (&presets);
}

/* ---- accessors ----------------------------------------------------------- */

const char *
vb_preset_get_name (VbPreset *preset)
{
  return preset->name;
}

const char *
vb_preset_get_title (VbPreset *preset)
{
  return preset->title;
}

const char *
vb_preset_get_description (VbPreset *preset)
{
  return preset->description;
}

const char *
vb_preset_get_path (VbPreset *preset)
{
  return preset->path;
}

JsonObject *
vb_preset_get_base (VbPreset *preset)
{
  return preset->base;
}

guint
vb_preset_get_n_axes (VbPreset *preset)
{
  return preset->axes->len;
}

const char *
vb_preset_get_axis_key (VbPreset *preset,
                        guint     index)
{
  g_return_val_if_fail (index < preset->axes->len, NULL);
  return ((Axis *) g_ptr_array_index (preset->axes, index))->key;
}

JsonArray *
vb_preset_get_axis_values (VbPreset *preset,
                           guint     index)
{
  g_return_val_if_fail (index < preset->axes->len, NULL);
  return ((Axis *) g_ptr_array_index (preset->axes, index))->values;
}

const char *
vb_preset_get_label (VbPreset   *preset,
                     const char *key)
{
  const char *dot;

  if (preset->labels != NULL && json_object_has_member (preset->labels, key))
    return json_object_get_string_member (preset->labels, key);
  dot = strrchr (key, '.');
  return dot != NULL ? dot + 1 : key;
}

guint
vb_preset_get_n_runs (VbPreset *preset)
{
  guint n = 1;

  for (guint i = 0; i < preset->axes->len; i++)
    n *= json_array_get_length (((Axis *) g_ptr_array_index (preset->axes, i))->values);
  return n;
}

/* ---- overrides ----------------------------------------------------------- */

/* The assignment's value as JSON, or NULL when it does not parse. */
static JsonNode *
parse_value (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (*text == '\0' || !json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL ? deep_copy (root) : NULL;
}

gboolean
vb_preset_set (VbPreset    *preset,
               const char  *assignment,
               GError     **error)
{
  const char *eq = strchr (assignment, '=');
  g_autofree char *key = NULL;
  g_autofree char *member = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  JsonNode *field, *value;
  JsonObject *parent = NULL;
  const char *text, *why = NULL;
  Axis *axis;

  if (eq == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Preset '%s': override '%s' is not of the form key=value",
                   preset->name, assignment);
      return FALSE;
    }
  key = g_strstrip (g_strndup (assignment, eq - assignment));
  text = eq + 1;

  field = lookup (preset->base, key, &parent, &member, NULL, NULL);
  if (field == NULL)
    {
      set_unknown_field_error (error, preset, key);
      return FALSE;
    }
  if (JSON_NODE_HOLDS_OBJECT (field))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Preset '%s': '%s' is a section; set its fields one by one",
                   preset->name, key);
      return FALSE;
    }

  parsed = parse_value (text);
  axis = find_axis (preset, key);

  /* An array for a grid axis of scalars: new axis values. */
  if (axis != NULL && parsed != NULL && JSON_NODE_HOLDS_ARRAY (parsed) &&
      node_kind (field) != KIND_ARRAY)
    {
      JsonArray *in = json_node_get_array (parsed);
      g_autoptr(JsonArray) values = json_array_new ();

      if (json_array_get_length (in) == 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                       "Preset '%s': grid axis '%s' needs at least one value",
                       preset->name, key);
          return FALSE;
        }
      for (guint i = 0; i < json_array_get_length (in); i++)
        {
          JsonNode *elem = coerce (field, json_array_get_element (in, i), &why);

          if (elem == NULL)
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                           "Preset '%s': field '%s' expects %s, got '%s'",
                           preset->name, key, why, text);
              return FALSE;
            }
          json_array_add_element (values, elem);
        }
      json_object_set_member (parent, member, deep_copy (json_array_get_element (values, 0)));
      json_array_unref (axis->values);
      axis->values = g_steal_pointer (&values);
      return TRUE;
    }

  if (node_kind (field) == KIND_STRING)
    {
      /* Paths and names need no quotes: take the bare text unless it is a JSON string. */
      if (parsed != NULL && node_kind (parsed) == KIND_STRING)
        value = json_node_copy (parsed);
      else
        {
          value = json_node_new (JSON_NODE_VALUE);
          json_node_set_string (value, text);
        }
    }
  else if (parsed == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Preset '%s': field '%s' expects %s, got '%s'",
                   preset->name, key, kind_name (node_kind (field)), text);
      return FALSE;
    }
  else if ((value = coerce (field, parsed, &why)) == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Preset '%s': field '%s' expects %s, got '%s'",
                   preset->name, key, why, text);
      return FALSE;
    }

  /* A pinned axis stays an axis of one value, so run names still show it. */
  if (axis != NULL)
    {
      json_array_unref (axis->values);
      axis->values = json_array_new ();
      json_array_add_element (axis->values, deep_copy (value));
    }
  json_object_set_member (parent, member, value);
  return TRUE;
}

/* ---- expansion ----------------------------------------------------------- */

/* The short name of an axis in run names: its last part, or the whole key when two
 * axes share a last part. */
static const char *
axis_short_name (VbPreset *preset,
                 Axis     *axis)
{
  const char *dot = strrchr (axis->key, '.');
  const char *last = dot != NULL ? dot + 1 : axis->key;

  for (guint i = 0; i < preset->axes->len; i++)
    {
      Axis *other = g_ptr_array_index (preset->axes, i);
      const char *odot = strrchr (other->key, '.');
      const char *olast = odot != NULL ? odot + 1 : other->key;

      if (other != axis && g_str_equal (olast, last))
        return axis->key;
    }
  return last;
}

GPtrArray *
vb_preset_expand (VbPreset *preset)
{
  GPtrArray *configs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  guint n_runs = vb_preset_get_n_runs (preset);
  guint n_axes = preset->axes->len;
  g_autofree guint *index = g_new0 (guint, n_axes + 1);

  for (guint r = 0; r < n_runs; r++)
    {
      g_autoptr(GString) run_name = g_string_new (preset->name);
      g_autoptr(JsonNode) base_node = json_node_new (JSON_NODE_OBJECT);
      JsonNode *copy;
      JsonObject *config;
      guint rest = r;

      /* Mixed-radix digits of r, last axis fastest. */
      for (guint a = n_axes; a-- > 0;)
        {
          guint len = json_array_get_length (((Axis *) g_ptr_array_index (preset->axes, a))->values);

          index[a] = rest % len;
          rest /= len;
        }

      json_node_set_object (base_node, preset->base);
      copy = deep_copy (base_node);
      config = json_object_ref (json_node_get_object (copy));
      json_node_unref (copy);

      for (guint a = 0; a < n_axes; a++)
        {
          Axis *axis = g_ptr_array_index (preset->axes, a);
          JsonNode *value = json_array_get_element (axis->values, index[a]);
          g_autofree char *member = NULL;
          g_autofree char *text = value_text (value);
          JsonObject *parent = NULL;

          /* Validated at load: the key exists in the copy of the base. */
          if (lookup (config, axis->key, &parent, &member, NULL, NULL) != NULL)
            json_object_set_member (parent, member, deep_copy (value));
          g_string_append_printf (run_name, "%s%s=%s", a == 0 ? "/" : ",",
                                  axis_short_name (preset, axis), text);
        }
      json_object_set_string_member (config, "run_name", run_name->str);
      g_ptr_array_add (configs, config);
    }
  return configs;
}

gboolean
vb_preset_set_all (VbPreset *preset, const char * const *overrides, GError **error)
{
  for (const char * const *o = overrides; o != NULL && *o != NULL; o++)
    if (!vb_preset_set (preset, *o, error))
      {
        g_prefix_error (error, "%s: ", *o);
        return FALSE;
      }
  return TRUE;
}
