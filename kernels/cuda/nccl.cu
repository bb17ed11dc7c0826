/* nccl.cu: a data-parallel rank over NCCL, loaded with dlopen (see vb-cuda-nccl.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vb-cuda-nccl.h"
#include "vb-cuda-private.h"

#if __has_include(<nccl.h>)
#include <nccl.h>
#define VB_HAVE_NCCL_H 1
#endif

static void
say (char *why, size_t len, const char *text)
{
  if (why != NULL && len > 0)
    snprintf (why, len, "%s", text);
}

#ifdef VB_HAVE_NCCL_H

/* the NCCL entry points the engine uses, from the library dlopen found */
static struct
{
  ncclResult_t (*get_version) (int *);
  ncclResult_t (*get_unique_id) (ncclUniqueId *);
  ncclResult_t (*comm_init_rank_config) (ncclComm_t *, int, ncclUniqueId, int, ncclConfig_t *);
  ncclResult_t (*comm_finalize) (ncclComm_t);
  ncclResult_t (*comm_destroy) (ncclComm_t);
  ncclResult_t (*comm_abort) (ncclComm_t);
  ncclResult_t (*comm_get_async_error) (ncclComm_t, ncclResult_t *);
  const char *(*get_error_string) (ncclResult_t);
  const char *(*get_last_error) (ncclComm_t);
  ncclResult_t (*all_reduce) (const void *, void *, size_t, ncclDataType_t, ncclRedOp_t,
                              ncclComm_t, cudaStream_t);
  ncclResult_t (*broadcast) (const void *, void *, size_t, ncclDataType_t, int, ncclComm_t,
                             cudaStream_t);
  ncclResult_t (*all_gather) (const void *, void *, size_t, ncclDataType_t, ncclComm_t,
                              cudaStream_t);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[320];
static char version[32];

static void
load_library (void)
{
  /* NVLink multicast (NVLS) off unless asked for: on shared hosts a program using it can
   * put every GPU out of service, and data-parallel all-reduces of this size gain little */
  setenv ("NCCL_NVLS_ENABLE", "0", 0);
  const char *named = getenv ("VB_NCCL_LIBRARY");
  /* the toolkit's copy when the loader's path does not list it */
  const char *candidates[] = { named, "libnccl.so.2", "/usr/local/cuda/lib64/libnccl.so.2" };
  void *lib = NULL;
  for (size_t i = 0; i < 3 && lib == NULL; i++)
    if (candidates[i] != NULL && (lib = dlopen (candidates[i], RTLD_NOW | RTLD_LOCAL)) == NULL
        && named != NULL)
      break;   /* a library the user named must be the one used */
  if (lib == NULL)
    {
      snprintf (load_error, sizeof load_error, "cannot load NCCL (%s): %s",
                named ? named : "libnccl.so.2", dlerror ());
      return;
    }
#define FIND(field, symbol)                                                             \
  if ((*(void **) &api.field = dlsym (lib, symbol)) == NULL)                            \
    {                                                                                   \
      snprintf (load_error, sizeof load_error, "NCCL library lacks %s", symbol);        \
      return;                                                                           \
    }
  FIND (get_version, "ncclGetVersion");
  FIND (get_unique_id, "ncclGetUniqueId");
  FIND (comm_init_rank_config, "ncclCommInitRankConfig");
  FIND (comm_finalize, "ncclCommFinalize");
  FIND (comm_destroy, "ncclCommDestroy");
  FIND (comm_abort, "ncclCommAbort");
  FIND (comm_get_async_error, "ncclCommGetAsyncError");
  FIND (get_error_string, "ncclGetErrorString");
  FIND (get_last_error, "ncclGetLastError");
  FIND (all_reduce, "ncclAllReduce");
  FIND (broadcast, "ncclBroadcast");
  FIND (all_gather, "ncclAllGather");
#undef FIND
  int v = 0;
  api.get_version (&v);
  /* ncclAvg arrived in 2.10 */
  if (v < 21000)
    {
      snprintf (load_error, sizeof load_error, "NCCL %d is too old (2.10 or newer needed)", v);
      return;
    }
  snprintf (version, sizeof version, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

extern "C" int
vb_nccl_load (char *why, size_t why_len)
{
  pthread_once (&load_once, load_library);
  if (version[0] == '\0')
    say (why, why_len, load_error[0] ? load_error : "cannot load NCCL");
  return version[0] != '\0';
}

extern "C" const char *
vb_nccl_version (void)
{
  return version;
}

struct VbNccl
{
  VbCuda      *cu;
  ncclComm_t   comm;
  cudaStream_t side;          /* the gradient averages' stream */
  cudaEvent_t  fork, join;    /* context stream → side stream, and back */
  int          pending;       /* averages queued on the side stream since the last await */
  /* Another rank's thread may give the world up (vb_nccl_abort_async) while this rank
   * is blocked elsewhere, e.g. in a cudaFree that waits for a collective whose peer has
   * failed. The abort frees the communicator, so every NCCL call is made under `lock`
   * and only while `aborted` is 0, and the abort flips `aborted` under the same lock. */
  pthread_mutex_t lock;
  int          aborted;
};

static double now_s (void);
extern "C" void vb_nccl_abandon (VbNccl *nc);

/* enter() == 1: the communicator may be used until leave() */
static int
enter (VbNccl *nc)
{
  pthread_mutex_lock (&nc->lock);
  if (!nc->aborted)
    return 1;
  pthread_mutex_unlock (&nc->lock);
  return 0;
}

static void
leave (VbNccl *nc)
{
  pthread_mutex_unlock (&nc->lock);
}

static int
given_up (VbNccl *nc)
{
  pthread_mutex_lock (&nc->lock);
  int a = nc->aborted;
  pthread_mutex_unlock (&nc->lock);
  return a;
}

/* the communicator's async state; ncclInvalidUsage once the world was given up */
static ncclResult_t
async_state (VbNccl *nc)
{
  ncclResult_t r = ncclInvalidUsage;
  if (enter (nc))
    {
      api.comm_get_async_error (nc->comm, &r);
      leave (nc);
    }
  return r;
}

/* The communicator is non-blocking (so that joining a world whose peer never comes can be
 * given up): a call may return while NCCL is still enqueueing it, and the next call must
 * wait until it has (a host-side wait, not the GPU's). */
static ncclResult_t
settle (VbNccl *nc, ncclResult_t r)
{
  while (r == ncclInProgress)
    r = async_state (nc);
  return r;
}

/* records an NCCL failure in the context, as vb_cuda_check_rt does a CUDA one */
static int
check (VbNccl *nc, ncclResult_t r, const char *what)
{
  r = settle (nc, r);
  if (r == ncclSuccess)
    return 1;
  VbCuda *cu = nc->cu;
  if (cu->error[0] != '\0')
    return 0;
  if (!enter (nc))
    {
      snprintf (cu->error, sizeof cu->error,
                "%s: the NCCL world was given up (a rank failed or stopped answering)", what);
      return 0;
    }
  const char *detail = api.get_last_error (nc->comm);
  snprintf (cu->error, sizeof cu->error, "NCCL error in %s: %s%s%s", what,
            api.get_error_string (r), detail && detail[0] ? ": " : "", detail ? detail : "");
  leave (nc);
  return 0;
}

/* queues one collective (a call of `api`'s with the communicator last but the stream)
 * unless the world was given up; failures are the context's */
#define COLLECTIVE(nc, what, call)                                                         \
  do                                                                                       \
    {                                                                                      \
      ncclResult_t r_ = ncclInvalidUsage;                                                  \
      if (enter (nc))                                                                      \
        {                                                                                  \
          r_ = (call);                                                                     \
          leave (nc);                                                                      \
        }                                                                                  \
      check (nc, r_, what);                                                                \
    }                                                                                      \
  while (0)

extern "C" int
vb_nccl_unique_id (unsigned char id[VB_NCCL_ID_BYTES], char *why, size_t why_len)
{
  if (!vb_nccl_load (why, why_len))
    return 0;
  ncclUniqueId uid;
  ncclResult_t r = api.get_unique_id (&uid);
  if (r != ncclSuccess)
    {
      char text[256];
      snprintf (text, sizeof text, "ncclGetUniqueId: %s", api.get_error_string (r));
      say (why, why_len, text);
      return 0;
    }
  memcpy (id, uid.internal, VB_NCCL_ID_BYTES);
  return 1;
}

extern "C" VbNccl *
vb_nccl_join (VbCuda *cu, const unsigned char id[VB_NCCL_ID_BYTES], int rank, int world,
              const volatile int *stop, double timeout_s, char *why, size_t why_len)
{
  if (!vb_nccl_load (why, why_len))
    return NULL;
  VbNccl *nc = (VbNccl *) calloc (1, sizeof (VbNccl));
  nc->cu = cu;
  pthread_mutex_init (&nc->lock, NULL);
  ncclUniqueId uid;
  memcpy (uid.internal, id, VB_NCCL_ID_BYTES);
  int lo = 0, hi = 0;
  cudaDeviceGetStreamPriorityRange (&lo, &hi);
  /* the averages first when both streams have work: the optimizer waits for them */
  if (vb_cuda_check_rt (cu, cudaStreamCreateWithPriority (&nc->side, cudaStreamNonBlocking, hi),
                        "cudaStreamCreate")
      && vb_cuda_check_rt (cu, cudaEventCreateWithFlags (&nc->fork, cudaEventDisableTiming),
                           "cudaEventCreate")
      && vb_cuda_check_rt (cu, cudaEventCreateWithFlags (&nc->join, cudaEventDisableTiming),
                           "cudaEventCreate"))
    {
      ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
      config.blocking = 0;
      ncclResult_t r = api.comm_init_rank_config (&nc->comm, world, uid, rank, &config);
      double deadline = now_s () + timeout_s;
      /* every rank must arrive: one that never does is given up on, not waited for */
      while (r == ncclInProgress && !(stop != NULL && *stop) && now_s () < deadline)
        {
          struct timespec pause = { 0, 1000000 };
          nanosleep (&pause, NULL);
          api.comm_get_async_error (nc->comm, &r);
        }
      if (r == ncclSuccess)
        return nc;
      if (r == ncclInProgress)
        snprintf (cu->error, sizeof cu->error, "joining the NCCL world as rank %d of %d: %s",
                  rank, world, stop != NULL && *stop ? "stopped by another rank"
                  : "not every rank arrived in time");
      else
        snprintf (cu->error, sizeof cu->error, "joining the NCCL world as rank %d of %d: %s",
                  rank, world, api.get_error_string (r));
      /* a peer that never came may never free its side either */
      if (nc->comm != NULL)
        vb_nccl_abandon (nc);
    }
  say (why, why_len, cu->error);
  cu->error[0] = '\0';
  vb_nccl_free (nc);
  return NULL;
}

static volatile int world_lost;

extern "C" int
vb_nccl_world_lost (void)
{
  return world_lost;
}

static void *
abort_main (void *comm)
{
  api.comm_abort ((ncclComm_t) comm);
  return NULL;
}

/* NCCL's abort raises the flag its kernels watch at once, but then waits for the peers to
 * free their side too, which a dead process never does (NVIDIA/nccl#863): it runs on a
 * thread of its own. Safe from any thread and more than once: the first call aborts. */
extern "C" void
vb_nccl_abort_async (VbNccl *nc)
{
  if (nc == NULL || nc->comm == NULL)
    return;
  pthread_mutex_lock (&nc->lock);
  int first = !nc->aborted;
  nc->aborted = 1;
  pthread_mutex_unlock (&nc->lock);
  if (!first)
    return;
  world_lost = 1;
  pthread_t t;
  if (pthread_create (&t, NULL, abort_main, nc->comm) == 0)
    pthread_detach (t);
  else
    api.comm_abort (nc->comm);
}

/* Gives the world up when a peer is gone: the abort above, then this GPU's queue drained
 * (its collectives end with the abort), a few seconds at most. */
extern "C" void
vb_nccl_abandon (VbNccl *nc)
{
  if (nc == NULL)
    return;
  vb_nccl_abort_async (nc);
  for (int ms = 0; ms < 10000; ms++)
    {
      if (cudaStreamQuery (nc->cu->stream) != cudaErrorNotReady
          && (nc->side == NULL || cudaStreamQuery (nc->side) != cudaErrorNotReady))
        break;
      struct timespec pause = { 0, 1000000 };
      nanosleep (&pause, NULL);
    }
  cudaGetLastError ();
}

extern "C" void
vb_nccl_free (VbNccl *nc)
{
  if (nc == NULL)
    return;
  if (nc->comm != NULL && !given_up (nc))
    {
      settle (nc, api.comm_finalize (nc->comm));
      api.comm_destroy (nc->comm);
    }
  if (nc->side != NULL)
    cudaStreamDestroy (nc->side);
  if (nc->fork != NULL)
    cudaEventDestroy (nc->fork);
  if (nc->join != NULL)
    cudaEventDestroy (nc->join);
  pthread_mutex_destroy (&nc->lock);
  free (nc);
}

extern "C" void
vb_nccl_average_async (VbNccl *nc, float *buf, size_t n)
{
  VB_CUDA_GUARD (nc->cu);
  /* the side stream starts where the context's stream is now (inside a capture this is
   * what makes the side stream part of the recorded graph) */
  if (vb_cuda_check_rt (nc->cu, cudaEventRecord (nc->fork, nc->cu->stream), "cudaEventRecord")
      && vb_cuda_check_rt (nc->cu, cudaStreamWaitEvent (nc->side, nc->fork, 0),
                           "cudaStreamWaitEvent"))
    {
      COLLECTIVE (nc, "ncclAllReduce (gradients)",
                  api.all_reduce (buf, buf, n, ncclFloat32, ncclAvg, nc->comm, nc->side));
      nc->pending = 1;
    }
}

extern "C" void
vb_nccl_await (VbNccl *nc)
{
  VB_CUDA_GUARD (nc->cu);
  if (!nc->pending)
    return;
  /* joins the side stream back: a capture must end with every forked stream joined */
  if (vb_cuda_check_rt (nc->cu, cudaEventRecord (nc->join, nc->side), "cudaEventRecord"))
    vb_cuda_check_rt (nc->cu, cudaStreamWaitEvent (nc->cu->stream, nc->join, 0),
                      "cudaStreamWaitEvent");
  nc->pending = 0;
}

extern "C" void
vb_nccl_average (VbNccl *nc, float *buf, size_t n)
{
  VB_CUDA_GUARD (nc->cu);
  COLLECTIVE (nc, "ncclAllReduce (mean)",
              api.all_reduce (buf, buf, n, ncclFloat32, ncclAvg, nc->comm, nc->cu->stream));
}

extern "C" void
vb_nccl_sum_f64 (VbNccl *nc, double *buf, size_t n)
{
  VB_CUDA_GUARD (nc->cu);
  COLLECTIVE (nc, "ncclAllReduce (sum)",
              api.all_reduce (buf, buf, n, ncclFloat64, ncclSum, nc->comm, nc->cu->stream));
}

extern "C" void
vb_nccl_gather_f64 (VbNccl *nc, const double *send, double *recv, size_t n)
{
  VB_CUDA_GUARD (nc->cu);
  COLLECTIVE (nc, "ncclAllGather",
              api.all_gather (send, recv, n, ncclFloat64, nc->comm, nc->cu->stream));
}

extern "C" void
vb_nccl_broadcast (VbNccl *nc, float *buf, size_t n, int root)
{
  VB_CUDA_GUARD (nc->cu);
  COLLECTIVE (nc, "ncclBroadcast",
              api.broadcast (buf, buf, n, ncclFloat32, root, nc->comm, nc->cu->stream));
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

extern "C" int
vb_nccl_wait (VbNccl *nc, const volatile int *stop, const volatile int *hold, double timeout_s,
              char *why, size_t why_len)
{
  VbCuda *cu = nc->cu;
  if (cu->error[0] != '\0')
    return -1;
  double deadline = now_s () + timeout_s;
  /* polled rather than blocked on: a collective whose peer is gone never ends, and only
   * an abort from here frees the stream */
  for (;;)
    {
      /* given up by another rank of this process: the queue's collectives ended unfinished */
      int lost = given_up (nc);
      cudaError_t q = cudaStreamQuery (cu->stream);
      if (q == cudaSuccess && !lost)
        return 0;
      if (q != cudaSuccess && q != cudaErrorNotReady)
        {
          vb_cuda_check_rt (cu, q, "a queued op");
          return -1;
        }
      ncclResult_t async = ncclSuccess;
      char text[320] = "";
      if (!lost && enter (nc))
        {
          api.comm_get_async_error (nc->comm, &async);
          const char *detail = api.get_last_error (nc->comm);
          if (async != ncclSuccess && async != ncclInProgress)
            snprintf (text, sizeof text, "NCCL reported %s%s%s", api.get_error_string (async),
                      detail && detail[0] ? ": " : "", detail ? detail : "");
          leave (nc);
        }
      if (text[0] != '\0')
        {
          /* NCCL's own report comes first */
        }
      else if ((stop != NULL && *stop) || lost)
        snprintf (text, sizeof text, "stopped by another rank");
      else if (hold != NULL && *hold)
        deadline = now_s () + timeout_s;
      else if (now_s () > deadline)
        snprintf (text, sizeof text, "no rank-wide progress for %.0f s: a peer stopped answering",
                  timeout_s);
      if (text[0] != '\0')
        {
          /* a peer may never answer the abort's own handshake: given up, not waited for */
          vb_nccl_abandon (nc);
          say (why, why_len, text);
          return 1;
        }
      /* 20 µs: a fraction of the shortest step; 1 ms while a paused peer holds the world */
      struct timespec pause = { 0, hold != NULL && *hold ? 1000000 : 20000 };
      nanosleep (&pause, NULL);
    }
}

#else /* no nccl.h when this was built */

static const char no_headers[] = "this build has no NCCL support (nccl.h was not found when it "
                                 "was configured)";

extern "C" int vb_nccl_load (char *why, size_t len) { say (why, len, no_headers); return 0; }
extern "C" const char *vb_nccl_version (void) { return ""; }
extern "C" int
vb_nccl_unique_id (unsigned char id[VB_NCCL_ID_BYTES], char *why, size_t len)
{
  (void) id;
  say (why, len, no_headers);
  return 0;
}
extern "C" VbNccl *
vb_nccl_join (VbCuda *cu, const unsigned char id[VB_NCCL_ID_BYTES], int rank, int world,
              const volatile int *stop, double timeout_s, char *why, size_t len)
{
  (void) cu; (void) id; (void) rank; (void) world; (void) stop; (void) timeout_s;
  say (why, len, no_headers);
  return NULL;
}
extern "C" void vb_nccl_free (VbNccl *nc) { (void) nc; }
extern "C" int vb_nccl_world_lost (void) { return 0; }
extern "C" void vb_nccl_abandon (VbNccl *nc) { (void) nc; }
extern "C" void vb_nccl_abort_async (VbNccl *nc) { (void) nc; }
extern "C" void vb_nccl_average_async (VbNccl *nc, float *b, size_t n) { (void) nc; (void) b; (void) n; }
extern "C" void vb_nccl_await (VbNccl *nc) { (void) nc; }
extern "C" void vb_nccl_average (VbNccl *nc, float *b, size_t n) { (void) nc; (void) b; (void) n; }
extern "C" void vb_nccl_sum_f64 (VbNccl *nc, double *b, size_t n) { (void) nc; (void) b; (void) n; }
extern "C" void
vb_nccl_gather_f64 (VbNccl *nc, const double *s, double *r, size_t n)
{
  (void) nc; (void) s; (void) r; (void) n;
}
extern "C" void
vb_nccl_broadcast (VbNccl *nc, float *b, size_t n, int root)
{
  (void) nc; (void) b; (void) n; (void) root;
}
extern "C" int
vb_nccl_wait (VbNccl *nc, const volatile int *stop, const volatile int *hold, double t,
              char *why, size_t len)
{
  (void) nc; (void) stop; (void) hold; (void) t;
  say (why, len, no_headers);
  return -1;
}

#endif
