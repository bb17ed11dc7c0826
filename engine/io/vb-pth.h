/* vb-pth.h: state dicts from PyTorch `torch.save` zip archives (.pth, .pt, .bin),
 * read through the restricted unpickler (clip-projectors.md §7.3, §7.4). */
#pragma once

#include <glib.h>

#include "vb-tensor-dict.h"

G_BEGIN_DECLS

/* Loads the float tensors of one state dict as fp32. `subkey` picks the sub-dict of a
 * training checkpoint ("model", "model_ema"); NULL picks "model" if the top-level dict
 * has it, else "state_dict", else the top-level dict itself. A leading "module." is
 * stripped from names; tensors of non-float dtypes are listed in
 * vb_tensor_dict_skipped(); non-tensor values are ignored. Only storages reachable from
 * the chosen dict are read. Errors: VB_ENGINE_ERROR_IO, _CORRUPT, _UNSAFE (a GLOBAL off
 * the allow-list), _UNSUPPORTED (legacy formats, compressed entries),
 * _MISMATCH (the requested sub-dict is missing or not a dict). */
VbTensorDict *vb_pth_load_state_dict (const char *path, const char *subkey, GError **error);

G_END_DECLS
