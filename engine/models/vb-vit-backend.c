/* vb-vit-backend.c: which ViT ops table goes with a VbOps table. */
#include "config.h"

#include "vb-vit-backend.h"

#include "vb-error.h"
#ifdef VB_HAVE_CUDA
#include "vb-cuda-vit.h"
#endif

const VbVitOps *
vb_vit_ops_for (const VbOps *ops, GError **error)
{
  if (ops == NULL || ops->on_host)
    return vb_cpu_vit_ops ();
#ifdef VB_HAVE_CUDA
  if (g_strcmp0 (ops->name, "cuda") == 0)
    return vb_cuda_vit_ops ();
#endif
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
               "the %s backend has no ViT and projector ops", ops->name);
  return NULL;
}
