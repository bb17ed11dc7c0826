/* vb-json-lite.h: a strict JSON subset parser for flat headers (safetensors). Accepts
 * objects, arrays, strings (with escapes) and non-negative integers held as uint64 —
 * never through double. Floats, negative numbers, true, false and null are rejected.
 * Duplicate object keys are rejected. Nesting is bounded. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VB_JSON_STRING,
  VB_JSON_UINT,
  VB_JSON_ARRAY,
  VB_JSON_OBJECT,
} VbJsonKind;

typedef struct _VbJson VbJson;
struct _VbJson {
  VbJsonKind  kind;
  char       *str;       /* STRING: NUL-free UTF-8 */
  guint64     uint;      /* UINT */
  GPtrArray  *items;     /* ARRAY: VbJson*; OBJECT: member values, in file order */
  GPtrArray  *keys;      /* OBJECT: char*, same order as items */
};

/* Parses text[0..len). `max_depth` bounds nesting (1 = a flat object of scalars).
 * `end` (nullable) receives the offset just after the top-level value; trailing
 * bytes are left for the caller to judge. On failure the message gives the byte
 * offset and the problem (no file name; callers prefix it). */
VbJson     *vb_json_parse        (const char *text, gsize len, guint max_depth,
                                  gsize *end, GError **error);
void        vb_json_free         (VbJson *json);
/* OBJECT member by key, or NULL. */
VbJson     *vb_json_object_get   (VbJson *obj, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbJson, vb_json_free)

G_END_DECLS
