/* vb-cuda-nccl.h: one rank of a data-parallel world, through NCCL (loaded at run time).
 *
 * A VbNccl binds a communicator to a VbCuda context: collectives that feed the next op run
 * on the context's stream; the gradient averages run on a side stream of their own, each
 * after the work queued on the context's stream so far, so they overlap the rest of the
 * backward, and vb_nccl_await makes the context's stream wait for them. Everything is
 * queued without waiting and can be recorded into a CUDA graph. Failures are recorded in
 * the context (vb_cuda_error), as the ops' are.
 *
 * libnccl.so.2 is opened with dlopen on first use (VB_NCCL_LIBRARY names another file), so
 * the programs run, and say why, on machines without NCCL; NVLink multicast stays off
 * (NCCL_NVLS_ENABLE=0) unless the environment says otherwise. GLib-free, like
 * kernels/cpu. */
#pragma once

#include <stddef.h>

#include "vb-cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_NCCL_ID_BYTES 128

typedef struct VbNccl VbNccl;

/* 1 when NCCL can be used (loaded now if need be), else 0 with `why` */
int         vb_nccl_load        (char *why, size_t why_len);
/* "2.28.9" once loaded, else "" */
const char *vb_nccl_version     (void);
/* a new world's identity, made once by one rank and given to every other */
int         vb_nccl_unique_id   (unsigned char id[VB_NCCL_ID_BYTES], char *why, size_t why_len);
/* joins the world as `rank` of `world` on cu's device; returns when every rank has joined
 * (NULL with `why` on failure, also when *stop becomes nonzero or not every rank arrived
 * within timeout_s). The caller's thread must have cu's device current. */
VbNccl     *vb_nccl_join        (VbCuda *cu, const unsigned char id[VB_NCCL_ID_BYTES], int rank,
                                 int world, const volatile int *stop, double timeout_s,
                                 char *why, size_t why_len);
/* leaves the world; once it was given up it only frees */
void        vb_nccl_free        (VbNccl *nc);
/* Gives the world up: every collective of this rank that is queued or running ends (a
 * failed or lost peer would hold them forever) and the communicator is unusable from
 * then on (later calls fail with a message in the context; vb_nccl_wait says "stopped by
 * another rank"). NCCL's abort waits for the peers' side of it, which a rank that failed
 * or died may never give (NVIDIA/nccl#863), so it runs on a thread of its own. Safe from
 * any thread and more than once: another rank's thread calls it to free a rank blocked
 * in CUDA (a cudaFree waits for the collectives queued before it). vb_nccl_world_lost is
 * 1 from then on. */
void        vb_nccl_abort_async (VbNccl *nc);
/* vb_nccl_abort_async, then waits until this GPU's queue has drained (10 s at most); on
 * the rank's own thread */
void        vb_nccl_abandon     (VbNccl *nc);

/* 1 once a rank of this process gave up a world whose peer stopped answering: NCCL may
 * then hold threads that never finish (its abort waits for the lost peer), so the
 * process should end with _exit once its results are written, not run exit handlers */
int         vb_nccl_world_lost  (void);

/* buf[0..n) ← its mean over the ranks, on the side stream, after the work queued on the
 * context's stream so far (fp32, in place) */
void        vb_nccl_average_async (VbNccl *nc, float *buf, size_t n);
/* the context's stream waits for every vb_nccl_average_async queued so far */
void        vb_nccl_await       (VbNccl *nc);
/* on the context's stream, in place: buf[0..n) ← its mean over the ranks */
void        vb_nccl_average     (VbNccl *nc, float *buf, size_t n);
/* on the context's stream, in place: buf[0..n) ← its sum over the ranks (fp64) */
void        vb_nccl_sum_f64     (VbNccl *nc, double *buf, size_t n);
/* on the context's stream: recv[r·n .. r·n + n) ← rank r's send[0..n) (fp64) */
void        vb_nccl_gather_f64  (VbNccl *nc, const double *send, double *recv, size_t n);
/* on the context's stream, in place: buf[0..n) ← rank root's (fp32) */
void        vb_nccl_broadcast   (VbNccl *nc, float *buf, size_t n, int root);

/* Waits for the context's stream like vb_cuda_sync, but watches the world while it waits:
 * returns 0 when the work is done; otherwise 1 with `why` (and the communicator aborted)
 * when NCCL reports an error (e.g. a peer process is gone), *stop becomes nonzero (another
 * rank of this process failed or the run was cancelled), or nothing finished within
 * timeout_s seconds (a peer stopped answering; the time while *hold is nonzero, a paused
 * peer, does not count); -1 with vb_cuda_error set on a CUDA failure. */
int         vb_nccl_wait        (VbNccl *nc, const volatile int *stop, const volatile int *hold,
                                 double timeout_s, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
