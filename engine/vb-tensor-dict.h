/* vb-tensor-dict.h: an ordered map of named fp32 tensors: what checkpoint readers
 * produce and writers consume. Readers convert F16/BF16/F64 to fp32 on load; tensors of
 * other dtypes are listed in `skipped` rather than converted. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define VB_MAX_DIMS 8

typedef struct {
  char    *name;
  int      ndim;
  int64_t  shape[VB_MAX_DIMS];
  int64_t  numel;
  float   *data;          /* owned, numel floats (at least one allocation even when numel = 0) */
} VbTensorEntry;

typedef struct _VbTensorDict VbTensorDict;

VbTensorDict  *vb_tensor_dict_new      (void);
void           vb_tensor_dict_free     (VbTensorDict *dict);
/* Adds a zero-filled tensor; NULL if the name exists already or the shape is invalid. */
VbTensorEntry *vb_tensor_dict_add      (VbTensorDict *dict, const char *name,
                                        int ndim, const int64_t *shape);
/* Adds a copy of data. */
VbTensorEntry *vb_tensor_dict_add_copy (VbTensorDict *dict, const char *name,
                                        int ndim, const int64_t *shape, const float *data);
VbTensorEntry *vb_tensor_dict_lookup   (VbTensorDict *dict, const char *name);
gboolean       vb_tensor_dict_remove   (VbTensorDict *dict, const char *name);
/* Renames in place; FALSE if `to` exists or `from` does not. */
gboolean       vb_tensor_dict_rename   (VbTensorDict *dict, const char *from, const char *to);
guint          vb_tensor_dict_size     (VbTensorDict *dict);
/* Insertion order. */
VbTensorEntry *vb_tensor_dict_index    (VbTensorDict *dict, guint i);
/* String metadata (safetensors __metadata__); owned by the dict. */
GHashTable    *vb_tensor_dict_metadata (VbTensorDict *dict);
/* Names of tensors a reader saw but did not convert (non-float dtypes). */
GPtrArray     *vb_tensor_dict_skipped  (VbTensorDict *dict);
/* "(4, 24, 2)" — for error messages; caller frees. */
char          *vb_shape_to_string      (int ndim, const int64_t *shape);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbTensorDict, vb_tensor_dict_free)

G_END_DECLS
