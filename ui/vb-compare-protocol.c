/* vb-compare-protocol.c: protocol cards compared field by field. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-compare-protocol.h"

#include <json-glib/json-glib.h>

const char *const vb_protocol_fields[] = {
  "batch", "precision", "device", "threads", "optimizer", "data_loading", "input", NULL,
};

JsonObject *
vb_protocol_card_parse (JsonParser *parser,
                        const char *card)
{
  if (card == NULL || !json_parser_load_from_data (parser, card, -1, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

/* A field's value as text (NULL when absent), so 32 and 32 compare equal whatever the
 * JSON node type, and a human can read it in a tooltip. */
static char *
field_text (JsonObject *card,
            const char *field)
{
  JsonNode *node = json_object_get_member (card, field);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return json_to_string (node, FALSE);
}

/* fields: a GPtrArray of the differing names; text: "name a vs b" parts. Either may be NULL.
 * Returns FALSE when a card is missing. */
static gboolean
diff (const char *card_a,
      const char *card_b,
      GPtrArray  *fields,
      GString    *text)
{
  g_autoptr (JsonParser) pa = json_parser_new ();
  g_autoptr (JsonParser) pb = json_parser_new ();
  JsonObject *a = vb_protocol_card_parse (pa, card_a);
  JsonObject *b = vb_protocol_card_parse (pb, card_b);

  if (a == NULL || b == NULL)
    return FALSE;
  for (guint i = 0; vb_protocol_fields[i] != NULL; i++)
    {
      const char *f = vb_protocol_fields[i];
      g_autofree char *va = field_text (a, f);
      g_autofree char *vb = field_text (b, f);
      if (g_strcmp0 (va, vb) == 0)
        continue;
      if (fields != NULL)
        g_ptr_array_add (fields, g_strdup (f));
      if (text != NULL)
        g_string_append_printf (text, "%s%s %s vs %s", text->len ? ", " : "", f,
                                va ? va : "—", vb ? vb : "—");
    }
  return TRUE;
}

GStrv
vb_protocol_diff (const char *card_a,
                  const char *card_b)
{
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);

  if (!diff (card_a, card_b, fields, NULL))
    g_ptr_array_add (fields, g_strdup ("protocol card"));
  g_ptr_array_add (fields, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&fields), FALSE);
}

char *
vb_protocol_describe_diff (const char *card_a,
                           const char *card_b)
{
  GString *text = g_string_new (NULL);

  if (!diff (card_a, card_b, NULL, text))
    g_string_assign (text, "no protocol card to compare");
  return g_string_free (text, FALSE);
}
