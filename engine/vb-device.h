/* vb-device.h: where the engine's ops run. "cpu" is always there (the reference);
 * "cuda" when the build has the CUDA backend and the machine a usable GPU. One CUDA
 * context per GPU and process, opened on first use and kept: jobs run one at a time on the
 * engine thread, so they share its stream in order ("cuda" is GPU 0; a data-parallel run's
 * worker k drives GPU k's context from its own thread). */
#pragma once

#include <glib.h>

#include "vb-ops.h"

G_BEGIN_DECLS

/* the ops table for "cpu" or "cuda", or NULL with an error saying why (unknown name,
 * a build without CUDA, no usable GPU) */
const VbOps *vb_device_ops        (const char *name, GError **error);
/* the table of GPU `index` ("cuda" is GPU 0), or NULL with an error saying why */
const VbOps *vb_device_gpu_ops    (int index, GError **error);
/* how many GPUs this process sees, without opening them (0 in a build without CUDA) */
int          vb_device_gpu_count  (void);
/* which GPU a table drives, or -1 for the CPU's */
int          vb_device_gpu_index  (const VbOps *ops);
/* "NVIDIA H200 (sm_90, 139.8 GiB)" for an opened CUDA device; the CPU's model name
 * otherwise */
const char  *vb_device_describe   (const VbOps *ops);
/* whether this build has the CUDA backend at all */
gboolean     vb_device_cuda_built (void);

G_END_DECLS
