/* vb-safetensors.h: reading and writing safetensors files (clip-projectors.md §7.1).
 * Every file is untrusted: the reader validates every rule of §7.1 before it touches
 * tensor bytes and reports the rule and tensor that failed. */
#pragma once

#include <glib.h>

#include "vb-tensor-dict.h"

G_BEGIN_DECLS

/* Loads F32/F16/BF16/F64 tensors as fp32, in header order. Tensors of other dtypes are
 * validated and listed in vb_tensor_dict_skipped(); __metadata__ goes to
 * vb_tensor_dict_metadata(). Errors: VB_ENGINE_ERROR_IO (cannot read),
 * _CORRUPT (any rule broken), _UNSUPPORTED (a float tensor with too many dimensions). */
VbTensorDict *vb_safetensors_load (const char *path, GError **error);

/* Writes every tensor as F32, ordered by name, with an 8-byte-aligned data section
 * (header padded with spaces). `metadata` (string → string) becomes __metadata__; when
 * NULL the dict's own vb_tensor_dict_metadata() is written (omitted when empty). The
 * file is written to a temporary file in the same directory, fsync'ed and renamed over
 * `path`, so an interrupted save leaves either the old file or the new one. */
gboolean      vb_safetensors_save (const char *path, VbTensorDict *dict,
                                   GHashTable *metadata, GError **error);

G_END_DECLS
