/* vb-device.c: the backend tables behind the device names. */
#include "config.h"

#include "vb-device.h"

#include <string.h>

#include "vb-error.h"
#ifdef VB_HAVE_CUDA
#include "vb-cuda-table.h"
#endif

static char *cpu_model;

static const char *
describe_cpu (void)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      g_autofree char *info = NULL;
      char *model = NULL;
      if (g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
        {
          const char *line = strstr (info, "model name");
          const char *colon = line ? strchr (line, ':') : NULL;
          if (colon != NULL)
            model = g_strstrip (g_strndup (colon + 1, strcspn (colon + 1, "\n")));
        }
      cpu_model = model ? model : g_strdup ("CPU");
      g_once_init_leave (&once, 1);
    }
  return cpu_model;
}

#ifdef VB_HAVE_CUDA
#define MAX_GPUS 64
static GMutex cuda_lock;
static VbCuda *cuda_ctx[MAX_GPUS];
static VbOps *cuda_table[MAX_GPUS];
static char *cuda_why[MAX_GPUS];   /* why opening failed, kept so every caller hears the same */

static const VbOps *
open_cuda (int index, GError **error)
{
  if (index < 0 || index >= MAX_GPUS)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "device cuda: GPU %d is past the %d this build can drive", index, MAX_GPUS);
      return NULL;
    }
  g_mutex_lock (&cuda_lock);
  if (cuda_table[index] == NULL && cuda_why[index] == NULL)
    {
      char why[256] = "";
      cuda_ctx[index] = vb_cuda_open (index, why, sizeof why);
      if (cuda_ctx[index] != NULL)
        cuda_table[index] = vb_cuda_ops_new (cuda_ctx[index]);
      else
        cuda_why[index] = g_strdup (why);
    }
  const VbOps *table = cuda_table[index];
  const char *why = cuda_why[index];
  g_mutex_unlock (&cuda_lock);
  if (table == NULL)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                 "device cuda: %s", why ? why : "cannot start CUDA");
  return table;
}
#endif

gboolean
vb_device_cuda_built (void)
{
#ifdef VB_HAVE_CUDA
  return TRUE;
#else
  return FALSE;
#endif
}

const VbOps *
vb_device_ops (const char *name, GError **error)
{
  if (name == NULL || g_strcmp0 (name, "cpu") == 0)
    return vb_cpu_ops ();
  if (g_strcmp0 (name, "cuda") == 0)
    {
#ifdef VB_HAVE_CUDA
      /* "cuda" is GPU 0, current on the asking thread (a data-parallel run before may have
       * left it on another) */
      const VbOps *table = open_cuda (0, error);
      if (table != NULL)
        vb_cuda_bind_thread (table->ctx);
      return table;
#else
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "device cuda: this build has no CUDA backend (nvcc was not found when it "
                   "was configured)");
      return NULL;
#endif
    }
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "unknown device '%s' (cpu or cuda)", name);
  return NULL;
}

const VbOps *
vb_device_gpu_ops (int index, GError **error)
{
#ifdef VB_HAVE_CUDA
  return open_cuda (index, error);
#else
  (void) index;
  return vb_device_ops ("cuda", error);
#endif
}

int
vb_device_gpu_count (void)
{
#ifdef VB_HAVE_CUDA
  return vb_cuda_device_count ();
#else
  return 0;
#endif
}

int
vb_device_gpu_index (const VbOps *ops)
{
#ifdef VB_HAVE_CUDA
  for (int i = 0; ops != NULL && i < MAX_GPUS; i++)
    if (ops == cuda_table[i])
      return i;
#endif
  (void) ops;
  return -1;
}

const char *
vb_device_describe (const VbOps *ops)
{
#ifdef VB_HAVE_CUDA
  int i = vb_device_gpu_index (ops);
  if (i >= 0)
    return vb_cuda_describe (cuda_ctx[i]);
#endif
  return describe_cpu ();
}
