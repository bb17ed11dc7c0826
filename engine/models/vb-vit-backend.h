/* vb-vit-backend.h: the ViT ops table (kernels/vb-vit-ops.h) that goes with a backend's
 * VbOps table, for the models that use both (the CLIP tower, the projectors). */
#pragma once

#include <glib.h>

#include "vb-ops.h"
#include "vb-vit-ops.h"

G_BEGIN_DECLS

/* the CPU's table for the CPU, CUDA's for CUDA; NULL with VB_ENGINE_ERROR_UNSUPPORTED for
 * a backend without one */
const VbVitOps *vb_vit_ops_for (const VbOps *ops, GError **error);

G_END_DECLS
