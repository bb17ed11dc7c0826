/* vb-pickle.h: a restricted unpickler for torch.save archives (clip-projectors.md §7.3).
 * It interprets a fixed opcode subset with a value stack, a mark stack and a memo, and
 * builds plain values; it never imports or calls anything. GLOBALs must be on an exact
 * (module, name) allow-list; anything else is refused with the module, the name and
 * the byte offset. The interpreter is iterative; stack, marks, memo, strings and
 * containers are bounded. Values live in an arena owned by the VbPickle, so shared
 * references (memo) and even cycles are safe to hold; walkers must bound their depth. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "vb-dtype.h"

G_BEGIN_DECLS

#define VB_PICKLE_MAX_DIMS 16

typedef enum {
  VB_PICKLE_NONE,
  VB_PICKLE_BOOL,
  VB_PICKLE_INT,
  VB_PICKLE_BIGINT,    /* an integer beyond 64 bits: kept opaque */
  VB_PICKLE_FLOAT,
  VB_PICKLE_STRING,
  VB_PICKLE_BYTES,
  VB_PICKLE_LIST,
  VB_PICKLE_TUPLE,
  VB_PICKLE_DICT,      /* dict or OrderedDict, insertion order kept */
  VB_PICKLE_TENSOR,
  VB_PICKLE_STORAGE,
  VB_PICKLE_OBJECT,    /* an inert object (yacs CfgNode): items kept, never interpreted */
  VB_PICKLE_GLOBAL,    /* an allow-listed callable or class */
} VbPickleKind;

typedef struct _VbPickleValue VbPickleValue;

struct _VbPickleValue {
  VbPickleKind kind;
  union {
    gboolean boolean;
    int64_t  integer;
    double   real;
    struct {
      char  *data;     /* STRING: NUL-terminated UTF-8; BYTES, BIGINT: raw */
      gsize  len;
    } str;
    struct {
      GPtrArray  *items;   /* LIST, TUPLE: elements; DICT, OBJECT: values */
      GPtrArray  *keys;    /* DICT, OBJECT: keys, parallel to items */
      GHashTable *index;   /* DICT, OBJECT: hashable key → position + 1 */
      GPtrArray  *list;    /* OBJECT: APPENDed items */
      const char *class_name;  /* OBJECT: "yacs.config.CfgNode" */
    } c;
    struct {
      char    *key;        /* record name under <prefix>/data/ */
      char    *location;   /* "cpu", "cuda:0" */
      VbDtype  dtype;
      int64_t  numel;      /* elements of dtype */
    } storage;
    struct {
      VbPickleValue *storage;  /* kind STORAGE */
      int64_t        offset;   /* in elements */
      int            ndim;
      int64_t        size[VB_PICKLE_MAX_DIMS];
      int64_t        stride[VB_PICKLE_MAX_DIMS];
    } tensor;
    struct {
      int         id;          /* internal allow-list index */
      const char *module;
      const char *name;
    } global;
  };
};

typedef struct _VbPickle VbPickle;

/* Looks up the archive record for a storage key; returns FALSE if there is none. */
typedef gboolean (*VbPickleStorageFunc) (const char *key, guint64 *record_size,
                                         gpointer user_data);

/* Unpickles data[0..len). `origin` names the file in error messages. Persistent ids
 * (storages) are checked through `storage_func`; with NULL they are refused.
 * Errors: VB_ENGINE_ERROR_UNSAFE (a GLOBAL or call off the allow-list),
 * _CORRUPT (malformed, truncated, unknown opcode), _UNSUPPORTED (protocol). */
VbPickle      *vb_pickle_load      (const guint8 *data, gsize len, const char *origin,
                                    VbPickleStorageFunc storage_func, gpointer user_data,
                                    GError **error);
void           vb_pickle_free      (VbPickle *pickle);
VbPickleValue *vb_pickle_get_root  (VbPickle *pickle);

/* DICT or OBJECT lookup by string key; NULL if absent or not a mapping. */
VbPickleValue *vb_pickle_dict_get  (VbPickleValue *dict, const char *key);
guint          vb_pickle_dict_size (VbPickleValue *dict);
const char    *vb_pickle_kind_name (VbPickleKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbPickle, vb_pickle_free)

G_END_DECLS
