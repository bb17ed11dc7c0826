/* vb-cuda-table.h: the CUDA ops as a VbOps table bound to one context. */
#pragma once

#include "vb-cuda.h"
#include "vb-ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* a table whose ctx is `cu` (borrowed: close `cu` after freeing the table) */
VbOps *vb_cuda_ops_new  (VbCuda *cu);
void   vb_cuda_ops_free (VbOps *ops);

#ifdef __cplusplus
}
#endif
