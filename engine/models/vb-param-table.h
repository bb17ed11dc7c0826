/* vb-param-table.h: holding a VbTensorDict against a model's named tensor table, the
 * checks CLIP's and VMamba's loaders share: a tensor needed by name and rank (to infer a
 * config), and a load's tally of missing and unexpected names, reported in one error. */
#pragma once

#include <glib.h>

#include "vb-tensor-dict.h"

G_BEGIN_DECLS

/* The tensor name with ndim dimensions, or NULL with error (VB_ENGINE_ERROR_MISMATCH):
 * missing ("…: not a WHAT?") or of another rank. */
VbTensorEntry *vb_param_table_need (VbTensorDict *dict, const char *name, int ndim,
                                    const char *source, const char *what, GError **error);

/* e's shape is exactly (ndim, shape) */
gboolean       vb_param_table_same_shape (const VbTensorEntry *e, int ndim,
                                          const int64_t *shape);

/* A load's tally: counts, and the first eight names of each list; start it at { 0 }. */
typedef struct {
  GString *missing, *unexpected;
  int      n_missing, n_unexpected;
} VbParamCheck;

void     vb_param_check_clear      (VbParamCheck *check);
/* Looks a table entry up in the dict: tallied when missing; FALSE with "SOURCE: tensor
 * NAME has shape GOT, MODEL expects WANT" + hint when its shape differs. */
gboolean vb_param_check_tensor     (VbParamCheck *check, VbTensorDict *dict, const char *name,
                                    int ndim, const int64_t *shape, const char *source,
                                    const char *model, const char *hint, GError **error);
void     vb_param_check_unexpected (VbParamCheck *check, const char *name);
/* FALSE with "SOURCE does not match MODEL: N missing tensors (…), M unexpected (…)" when
 * either list is not empty. */
gboolean vb_param_check_finish     (VbParamCheck *check, const char *source,
                                    const char *model, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbParamCheck, vb_param_check_clear)

G_END_DECLS
