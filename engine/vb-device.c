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
static GMutex cuda_lock;
static VbCuda *cuda_ctx;
static VbOps *cuda_table;
static char *cuda_why;      /* why opening failed, kept so every caller hears the same */

static const VbOps *
open_cuda (GError **error)
{
  g_mutex_lock (&cuda_lock);
  if (cuda_table == NULL && cuda_why == NULL)
    {
      char why[256] = "";
      cuda_ctx = vb_cuda_open (0, why, sizeof why);
      if (cuda_ctx != NULL)
        cuda_table = vb_cuda_ops_new (cuda_ctx);
      else
        cuda_why = g_strdup (why);
    }
  g_mutex_unlock (&cuda_lock);
  if (cuda_table == NULL)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                 "device cuda: %s", cuda_why ? cuda_why : "cannot start CUDA");
  return cuda_table;
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
      return open_cuda (error);
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

const char *
vb_device_describe (const VbOps *ops)
{
#ifdef VB_HAVE_CUDA
  if (ops != NULL && ops == cuda_table)
    return vb_cuda_describe (cuda_ctx);
#endif
  return describe_cpu ();
}
