/* vb-dist-group.c: a process's data-parallel ranks (see vb-dist-group.h). */
#include "config.h"

#include "vb-dist-group.h"

#include <string.h>

#include "vb-device.h"
#include "vb-dist.h"
#include "vb-error.h"
#ifdef VB_HAVE_CUDA
#include "vb-cuda-nccl.h"
#include "vb-cuda-table.h"
#endif

/* the gradient is averaged in pieces of about this many floats (16 MiB), each as soon as
 * the backward has finished it: big enough for NCCL's bandwidth, small enough that the
 * last one, which nothing overlaps, is short */
#define BUCKET_FLOATS (4 << 20)
#define DEFAULT_TIMEOUT_S 300.0

struct _VbDistRank {
  VbDistGroup *group;
  int local, index, gpu;
  const VbOps *ops;
#ifdef VB_HAVE_CUDA
  VbNccl *nccl;
#endif
  VbVmamba *model;            /* the attached model (its buffers are looked up when used:
                               * a new plan moves the loss) */
  int64_t n_params;
  int64_t unsent_end;         /* grads[from, unsent_end) final but not yet averaged */
  double *values;             /* backend scratch for sums and gathers */
  int values_cap;
  GError *error;
  gboolean ok;
};

struct _VbDistGroup {
  VbDistEnv env;
  int gpus, world;
  guint8 id[VB_DIST_ID_BYTES];
  double timeout_s;
  char *describe;
  volatile int stop;          /* a local rank failed: the others give up their waits */
  volatile int hold;          /* a local rank is paused: the others' waits have no deadline */
  GMutex lock;                /* the ranks' communicators, while a failing rank aborts them */
  int first_failed;           /* the local rank that failed first: its error is the run's */
  VbDistRank *ranks;
  VbDistRankFunc func;
  gpointer data;
};

void
vb_dist_group_free (VbDistGroup *g)
{
  if (g == NULL)
    return;
  vb_dist_env_clear (&g->env);
  g_mutex_clear (&g->lock);
  g_free (g->describe);
  g_free (g->ranks);
  g_free (g);
}

int vb_dist_group_world (VbDistGroup *g) { return g->world; }
const char *vb_dist_group_describe (VbDistGroup *g) { return g->describe; }
int vb_dist_rank_index (VbDistRank *r) { return r->index; }
int vb_dist_rank_world (VbDistRank *r) { return r->group->world; }
int vb_dist_rank_gpu (VbDistRank *r) { return r->gpu; }
int vb_dist_rank_local (VbDistRank *r) { return r->local; }
void vb_dist_rank_hold (VbDistRank *r, gboolean hold) { g_atomic_int_set (&r->group->hold, hold); }
const VbOps *vb_dist_rank_ops (VbDistRank *r) { return r->ops; }

#ifdef VB_HAVE_CUDA

static double
timeout_from_env (void)
{
  const char *t = g_getenv ("VB_DIST_TIMEOUT_S");
  double v = t ? g_ascii_strtod (t, NULL) : 0;
  return v > 0 ? v : DEFAULT_TIMEOUT_S;
}

VbDistGroup *
vb_dist_group_new (int gpus, GError **error)
{
  char why[320] = "";
  if (gpus < 1)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "--gpus %d: a data-parallel run needs at least one GPU", gpus);
      return NULL;
    }
  /* the launcher's environment first: a mistake there is the user's to fix anywhere */
  g_autoptr (VbDistGroup) g = g_new0 (VbDistGroup, 1);
  g_mutex_init (&g->lock);
  g_auto (GStrv) envp = g_get_environ ();
  if (!vb_dist_env_read (&g->env, envp, error))
    return NULL;
  if (!vb_nccl_load (why, sizeof why))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "data-parallel training needs NCCL: %s", why);
      return NULL;
    }
  int visible = vb_cuda_device_count ();
  /* no GPU at all: the device layer says why (no driver, no device) */
  if (visible == 0 && vb_device_gpu_ops (0, error) == NULL)
    return NULL;
  g->gpus = gpus;
  g->world = g->env.n_procs * gpus;
  g->timeout_s = timeout_from_env ();
  g->ranks = g_new0 (VbDistRank, gpus);
  for (int k = 0; k < gpus; k++)
    {
      VbDistRank *r = &g->ranks[k];
      r->group = g;
      r->local = k;
      r->index = g->env.proc_rank * gpus + k;
      r->gpu = vb_dist_gpu_for (&g->env, gpus, visible, k);
      if (r->gpu < 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "--gpus %d: this process (local %d on its host) would drive GPU %d, "
                       "but it sees %d", gpus, g->env.local_proc,
                       g->env.local_proc * gpus + k, visible);
          return NULL;
        }
    }
  /* process 0 makes the world's id; the others read it from the shared file */
  gboolean made = g->env.proc_rank == 0;
  if (made && !vb_nccl_unique_id (g->id, why, sizeof why))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s", why);
      return NULL;
    }
  if (g->env.n_procs > 1
      && !(made ? vb_dist_id_publish (g->env.id_file, g->env.job_id, g->env.n_procs, g->id,
                                      error)
                : vb_dist_id_fetch (g->env.id_file, g->env.job_id, g->env.n_procs, g->id,
                                    g->timeout_s, error)))
    return NULL;
  g->describe = g_strdup_printf ("%d GPU%s in %d process%s (launcher %s), NCCL %s",
                                 g->world, g->world == 1 ? "" : "s", g->env.n_procs,
                                 g->env.n_procs == 1 ? "" : "es", g->env.launcher,
                                 vb_nccl_version ());
  return g_steal_pointer (&g);
}

static VbCuda *
cuda_of (VbDistRank *r)
{
  return (VbCuda *) r->ops->ctx;
}

/* the rank's part of the world: its GPU current on this thread, then the world joined */
static gboolean
rank_join (VbDistRank *r, GError **error)
{
  VbDistGroup *g = r->group;
  r->ops = vb_device_gpu_ops (r->gpu, error);
  if (r->ops == NULL)
    return FALSE;
  if (!vb_cuda_bind_thread (cuda_of (r)))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s",
                   vb_cuda_error (cuda_of (r)));
      vb_cuda_clear_error (cuda_of (r));
      return FALSE;
    }
  char why[320] = "";
  VbNccl *nc = vb_nccl_join (cuda_of (r), g->id, r->index, g->world, &g->stop, g->timeout_s,
                             why, sizeof why);
  if (nc == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s", why);
      return FALSE;
    }
  g_mutex_lock (&g->lock);
  r->nccl = nc;
  if (g->stop)   /* a rank failed while this one joined */
    vb_nccl_abort_async (nc);
  g_mutex_unlock (&g->lock);
  return TRUE;
}

/* A rank failed: every rank of this process gives the world up, now. The others may be
 * blocked in CUDA rather than in a wait that watches `stop` (a cudaFree waits for the
 * collectives queued before it, which the failed rank never joins). */
static void
stop_all_ranks (VbDistRank *failed)
{
  VbDistGroup *g = failed->group;
  g_mutex_lock (&g->lock);
  if (!g->stop)
    g->first_failed = failed->local;
  g_atomic_int_set (&g->stop, 1);
  for (int k = 0; k < g->gpus; k++)
    vb_nccl_abort_async (g->ranks[k].nccl);
  g_mutex_unlock (&g->lock);
}

static void
rank_leave (VbDistRank *r)
{
  if (r->values != NULL)
    r->ops->free (r->ops->ctx, r->values);
  r->values = NULL;
  g_mutex_lock (&r->group->lock);
  VbNccl *nc = r->nccl;
  r->nccl = NULL;
  g_mutex_unlock (&r->group->lock);
  vb_nccl_free (nc);
}

static gpointer
rank_main (gpointer data)
{
  VbDistRank *r = data;
  VbDistGroup *g = r->group;
  r->ok = rank_join (r, &r->error) && g->func (r, g->data, &r->error);
  if (!r->ok)
    {
      /* the world sees this process's ranks go, without waiting for the others' side of
       * the abort (a rank that failed to join, or a dead process, never gives it); this
       * rank's queue drains before its buffers are freed */
      stop_all_ranks (r);
      if (r->nccl != NULL)
        vb_nccl_abandon (r->nccl);
    }
  rank_leave (r);
  return NULL;
}

gboolean
vb_dist_group_run (VbDistGroup *g, VbDistRankFunc func, gpointer data, GError **error)
{
  g->func = func;
  g->data = data;
  g->stop = 0;
  GThread **threads = g_new0 (GThread *, g->gpus);
  for (int k = 1; k < g->gpus; k++)
    {
      g_autofree char *name = g_strdup_printf ("vb-rank-%d", g->ranks[k].index);
      threads[k] = g_thread_new (name, rank_main, &g->ranks[k]);
    }
  rank_main (&g->ranks[0]);
  for (int k = 1; k < g->gpus; k++)
    g_thread_join (threads[k]);
  g_free (threads);

  /* the first rank to fail says why; the others only stopped because it did */
  VbDistRank *failed = g->stop ? &g->ranks[g->first_failed] : NULL;
  if (failed != NULL)
    {
      if (failed->error == NULL)
        g_set_error (&failed->error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                     "failed without saying why");
      g_propagate_prefixed_error (error, g_steal_pointer (&failed->error),
                                  "rank %d of %d (GPU %d): ", failed->index, g->world,
                                  failed->gpu);
      /* a cancel or a divergence keeps its code: callers act on it */
    }
  for (int k = 0; k < g->gpus; k++)
    g_clear_error (&g->ranks[k].error);
  return failed == NULL;
}

/* ---- inside a step ---------------------------------------------------------------------- */

/* grads[from, n) are final: average what has gathered once it is a bucket's worth, and
 * everything at the end of the backward (from 0) */
static void
grads_ready (gpointer data, int64_t from)
{
  VbDistRank *r = data;
  if (r->unsent_end - from < BUCKET_FLOATS && from > 0)
    return;
  if (r->unsent_end > from)
    vb_nccl_average_async (r->nccl, vb_vmamba_backend_grads (r->model) + from,
                           (size_t) (r->unsent_end - from));
  r->unsent_end = from;
}

static void
after_loss (gpointer data)
{
  VbDistRank *r = data;
  /* on the side stream, ahead of the gradients: one order of collectives on every rank */
  vb_nccl_average_async (r->nccl, vb_vmamba_loss_buffer (r->model), 1);
}

static void
before_update (gpointer data)
{
  VbDistRank *r = data;
  vb_nccl_await (r->nccl);
  r->unsent_end = r->n_params;   /* the next backward starts a new round */
}

void
vb_dist_rank_attach (VbDistRank *r, VbVmamba *model, VbStepGraph *graph)
{
  r->model = model;
  r->n_params = vb_vmamba_n_params (model);
  r->unsent_end = r->n_params;
  vb_vmamba_set_grad_ready (model, grads_ready, r);
  VbStepExchange x = { after_loss, before_update, r };
  vb_step_graph_set_exchange (graph, &x);
}

gboolean
vb_dist_rank_wait (VbDistRank *r, GError **error)
{
  char why[320] = "";
  int rc = vb_nccl_wait (r->nccl, &r->group->stop, &r->group->hold, r->group->timeout_s, why,
                         sizeof why);
  if (rc == 0)
    return TRUE;
  if (rc < 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s",
                   vb_cuda_error (cuda_of (r)));
      vb_cuda_clear_error (cuda_of (r));
    }
  else
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s", why);
  return FALSE;
}

gboolean
vb_dist_rank_broadcast_params (VbDistRank *r, VbVmamba *model, GError **error)
{
  vb_nccl_broadcast (r->nccl, vb_vmamba_backend_params (model),
                     (size_t) vb_vmamba_n_params (model), 0);
  return vb_dist_rank_wait (r, error);
}

/* backend room for n doubles per rank of the world */
static double *
values_buffer (VbDistRank *r, int n, GError **error)
{
  if (r->values_cap < n * r->group->world)
    {
      if (r->values != NULL)
        r->ops->free (r->ops->ctx, r->values);
      r->values_cap = n * r->group->world;
      r->values = r->ops->alloc (r->ops->ctx, (size_t) r->values_cap * sizeof (double));
      if (r->values == NULL)
        {
          r->values_cap = 0;
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                       "cannot allocate %d values on GPU %d", n, r->gpu);
          return NULL;
        }
    }
  return r->values;
}

gboolean
vb_dist_rank_sum (VbDistRank *r, double *values, int n, GError **error)
{
  double *dv = values_buffer (r, n, error);
  if (dv == NULL)
    return FALSE;
  r->ops->upload_async (r->ops->ctx, dv, values, n * sizeof (double));
  vb_nccl_sum_f64 (r->nccl, dv, n);
  if (!vb_dist_rank_wait (r, error))
    return FALSE;
  r->ops->download (r->ops->ctx, values, dv, n * sizeof (double));
  return TRUE;
}

gboolean
vb_dist_rank_gather (VbDistRank *r, const double *mine, int n, double *all, GError **error)
{
  double *dv = values_buffer (r, n + n * r->group->world, error);
  if (dv == NULL)
    return FALSE;
  /* send slot first, the gathered rows after it */
  r->ops->upload_async (r->ops->ctx, dv, mine, n * sizeof (double));
  vb_nccl_gather_f64 (r->nccl, dv, dv + n, n);
  if (!vb_dist_rank_wait (r, error))
    return FALSE;
  r->ops->download (r->ops->ctx, all, dv + n, (size_t) n * r->group->world * sizeof (double));
  return TRUE;
}

gboolean
vb_dist_world_lost (void)
{
  return vb_nccl_world_lost ();
}

#else /* a build without the CUDA backend */

gboolean vb_dist_world_lost (void) { return FALSE; }

VbDistGroup *
vb_dist_group_new (int gpus, GError **error)
{
  (void) gpus;
  g_auto (GStrv) envp = g_get_environ ();
  g_auto (VbDistEnv) env = { 0 };
  if (!vb_dist_env_read (&env, envp, error))
    return NULL;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
               "data-parallel training (--gpus) needs the CUDA backend, and this build has none "
               "(nvcc was not found when it was configured)");
  return NULL;
}

gboolean
vb_dist_group_run (VbDistGroup *g, VbDistRankFunc func, gpointer data, GError **error)
{
  (void) g; (void) func; (void) data;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED, "no CUDA backend");
  return FALSE;
}

void vb_dist_rank_attach (VbDistRank *r, VbVmamba *m, VbStepGraph *g) { (void) r; (void) m; (void) g; }

static gboolean
no_cuda (GError **error)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED, "no CUDA backend");
  return FALSE;
}

gboolean vb_dist_rank_broadcast_params (VbDistRank *r, VbVmamba *m, GError **e) { (void) r; (void) m; return no_cuda (e); }
gboolean vb_dist_rank_wait (VbDistRank *r, GError **e) { (void) r; return no_cuda (e); }
gboolean vb_dist_rank_sum (VbDistRank *r, double *v, int n, GError **e) { (void) r; (void) v; (void) n; return no_cuda (e); }
gboolean
vb_dist_rank_gather (VbDistRank *r, const double *m, int n, double *a, GError **e)
{
  (void) r; (void) m; (void) n; (void) a;
  return no_cuda (e);
}

#endif
