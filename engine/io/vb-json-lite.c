#include "vb-json-lite.h"

#include <string.h>

#include "vb-error.h"

typedef struct {
  const char *p;
  gsize       len;
  gsize       pos;
  guint       max_depth;
} Parser;

void
vb_json_free (VbJson *json)
{
  if (json == NULL)
    return;
  g_free (json->str);
  g_clear_pointer (&json->items, g_ptr_array_unref);
  g_clear_pointer (&json->keys, g_ptr_array_unref);
  g_free (json);
}

VbJson *
vb_json_object_get (VbJson *obj, const char *key)
{
  g_return_val_if_fail (obj != NULL && obj->kind == VB_JSON_OBJECT, NULL);
  for (guint i = 0; i < obj->keys->len; i++)
    if (strcmp (g_ptr_array_index (obj->keys, i), key) == 0)
      return g_ptr_array_index (obj->items, i);
  return NULL;
}

static gboolean
fail (Parser *ps, GError **error, const char *what)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
               "invalid JSON at byte %" G_GSIZE_FORMAT ": %s", ps->pos, what);
  return FALSE;
}

static void
skip_ws (Parser *ps)
{
  while (ps->pos < ps->len)
    {
      char c = ps->p[ps->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      ps->pos++;
    }
}

static int
hex4 (Parser *ps)
{
  if (ps->len - ps->pos < 4)
    return -1;
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (ps->p[ps->pos + i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  ps->pos += 4;
  return v;
}

/* ps->pos at the opening quote. */
static char *
parse_string (Parser *ps, GError **error)
{
  g_autoptr(GString) s = g_string_new (NULL);

  ps->pos++;
  for (;;)
    {
      if (ps->pos >= ps->len)
        return fail (ps, error, "unterminated string"), NULL;
      guchar c = ps->p[ps->pos];
      if (c == '"')
        {
          ps->pos++;
          break;
        }
      if (c < 0x20)
        return fail (ps, error, "control character in string"), NULL;
      if (c != '\\')
        {
          g_string_append_c (s, c);
          ps->pos++;
          continue;
        }
      ps->pos++;
      if (ps->pos >= ps->len)
        return fail (ps, error, "unterminated escape"), NULL;
      c = ps->p[ps->pos++];
      switch (c)
        {
        case '"': case '\\': case '/':
          g_string_append_c (s, c);
          break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            int u = hex4 (ps);
            if (u < 0)
              return fail (ps, error, "bad \\u escape"), NULL;
            gunichar cp = u;
            if (u >= 0xdc00 && u <= 0xdfff)
              return fail (ps, error, "lone low surrogate"), NULL;
            if (u >= 0xd800 && u <= 0xdbff)
              {
                if (ps->len - ps->pos < 2 || ps->p[ps->pos] != '\\' || ps->p[ps->pos + 1] != 'u')
                  return fail (ps, error, "lone high surrogate"), NULL;
                ps->pos += 2;
                int lo = hex4 (ps);
                if (lo < 0xdc00 || lo > 0xdfff)
                  return fail (ps, error, "bad surrogate pair"), NULL;
                cp = 0x10000 + (((gunichar) u - 0xd800) << 10) + ((gunichar) lo - 0xdc00);
              }
            if (cp == 0)
              return fail (ps, error, "\\u0000 in string"), NULL;
            g_string_append_unichar (s, cp);
          }
          break;
        default:
          return fail (ps, error, "unknown escape"), NULL;
        }
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static VbJson *parse_value (Parser *ps, guint depth, GError **error);

static VbJson *
parse_uint (Parser *ps, GError **error)
{
  guint64 v = 0;
  gsize start = ps->pos;

  while (ps->pos < ps->len && g_ascii_isdigit (ps->p[ps->pos]))
    {
      guint d = ps->p[ps->pos] - '0';
      if (v > (G_MAXUINT64 - d) / 10)
        return fail (ps, error, "integer overflows 64 bits"), NULL;
      v = v * 10 + d;
      ps->pos++;
    }
  if (ps->pos - start > 1 && ps->p[start] == '0')
    return fail (ps, error, "integer with a leading zero"), NULL;
  if (ps->pos < ps->len && strchr (".eE", ps->p[ps->pos]) != NULL)
    return fail (ps, error, "non-integer number"), NULL;

  VbJson *j = g_new0 (VbJson, 1);
  j->kind = VB_JSON_UINT;
  j->uint = v;
  return j;
}

static VbJson *
parse_container (Parser *ps, guint depth, GError **error)
{
  gboolean is_obj = ps->p[ps->pos] == '{';
  char close = is_obj ? '}' : ']';
  g_autoptr(VbJson) j = g_new0 (VbJson, 1);
  g_autoptr(GHashTable) seen = NULL;

  if (depth >= ps->max_depth)
    return fail (ps, error, "nesting too deep"), NULL;

  j->kind = is_obj ? VB_JSON_OBJECT : VB_JSON_ARRAY;
  j->items = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_json_free);
  if (is_obj)
    {
      j->keys = g_ptr_array_new_with_free_func (g_free);
      seen = g_hash_table_new (g_str_hash, g_str_equal);
    }
  ps->pos++;
  skip_ws (ps);
  if (ps->pos < ps->len && ps->p[ps->pos] == close)
    {
      ps->pos++;
      return g_steal_pointer (&j);
    }
  for (;;)
    {
      skip_ws (ps);
      if (is_obj)
        {
          if (ps->pos >= ps->len || ps->p[ps->pos] != '"')
            return fail (ps, error, "expected a string key"), NULL;
          gsize key_pos = ps->pos;
          char *key = parse_string (ps, error);
          if (key == NULL)
            return NULL;
          g_ptr_array_add (j->keys, key);
          if (!g_hash_table_add (seen, key))
            {
              g_autofree char *msg = g_strdup_printf ("duplicate key \"%s\"", key);
              ps->pos = key_pos;
              return fail (ps, error, msg), NULL;
            }
          skip_ws (ps);
          if (ps->pos >= ps->len || ps->p[ps->pos] != ':')
            return fail (ps, error, "expected ':'"), NULL;
          ps->pos++;
          skip_ws (ps);
        }
      VbJson *item = parse_value (ps, depth + 1, error);
      if (item == NULL)
        return NULL;
      g_ptr_array_add (j->items, item);
      skip_ws (ps);
      if (ps->pos >= ps->len)
        return fail (ps, error, "unterminated container"), NULL;
      char c = ps->p[ps->pos++];
      if (c == close)
        break;
      if (c != ',')
        {
          ps->pos--;
          return fail (ps, error, is_obj ? "expected ',' or '}'" : "expected ',' or ']'"), NULL;
        }
    }
  return g_steal_pointer (&j);
}

static VbJson *
parse_value (Parser *ps, guint depth, GError **error)
{
  if (ps->pos >= ps->len)
    return fail (ps, error, "unexpected end"), NULL;
  char c = ps->p[ps->pos];
  if (c == '{' || c == '[')
    return parse_container (ps, depth, error);
  if (c == '"')
    {
      char *s = parse_string (ps, error);
      if (s == NULL)
        return NULL;
      VbJson *j = g_new0 (VbJson, 1);
      j->kind = VB_JSON_STRING;
      j->str = s;
      return j;
    }
  if (g_ascii_isdigit (c))
    return parse_uint (ps, error);
  return fail (ps, error, "unsupported value (only objects, arrays, strings and "
                          "non-negative integers are accepted)"), NULL;
}

VbJson *
vb_json_parse (const char *text, gsize len, guint max_depth, gsize *end, GError **error)
{
  Parser ps = { text, len, 0, max_depth };
  const char *bad;

  if (!g_utf8_validate_len (text, len, &bad))
    {
      ps.pos = bad - text;
      fail (&ps, error, "invalid UTF-8 or NUL byte");
      return NULL;
    }
  skip_ws (&ps);
  VbJson *j = parse_value (&ps, 0, error);
  if (j != NULL && end != NULL)
    *end = ps.pos;
  return j;
}
