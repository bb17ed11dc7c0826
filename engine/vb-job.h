/* vb-job.h: the engine's job thread. One long-lived thread ("vb-engine") owns the compute
 * device and its own store connection; front ends (GUI, CLI) only send it commands and
 * read back progress, so a slow main loop never slows training and training never
 * touches a widget.
 *
 * Jobs (a preset to run, a run to resume) queue up and run one after the other.
 * Commands are handled between training steps, so cancel and pause act within a step.
 * Every function here may be called from any thread, except vb_job_queue_free(). */
#pragma once

#include "vb-preset.h"
#include "vb-store.h"

G_BEGIN_DECLS

typedef struct _VbJobQueue VbJobQueue;

typedef enum {
  VB_JOB_IDLE,        /* no job has started yet */
  VB_JOB_RUNNING,
  VB_JOB_FINISHED,    /* every run done */
  VB_JOB_FAILED,
  VB_JOB_CANCELLED,
} VbJobState;

const char *vb_job_state_to_string (VbJobState state);

/* The latest state of the engine: the current job or, between jobs, the last one.
 * Progress fields describe the current run and are reset when a run starts. */
typedef struct {
  guint64     serial;         /* bumped on every change: tells a fresh snapshot from a seen one */
  guint64     job_id;         /* 0 before the first job */
  VbJobState  state;
  gboolean    paused;         /* the engine holds at the next step, or before the next job */
  guint       n_queued;       /* jobs waiting behind the current one */
  gint64      run_id;
  char       *run_name;
  int         index, n_runs;  /* the run's place in its job, 0-based */
  const char *phase;          /* "load", "train", "eval" (interned), NULL between runs */
  int         epoch, epochs;
  gint64      step, total_steps;
  double      loss, lr, img_per_s, eta_s;
  double      val_top1;       /* NAN before the first evaluation */
  char       *gpus;           /* a data-parallel run: every GPU's img/s and memory (one line,
                               * VbProgress.gpus); NULL otherwise */
  char       *error_message;  /* why the last run or job failed; NULL when none did */
} VbJobStatus;

void vb_job_status_clear (VbJobStatus *status);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbJobStatus, vb_job_status_clear)

typedef enum {
  VB_JOB_EVENT_JOB_STARTED,
  VB_JOB_EVENT_RUN_STARTED,
  VB_JOB_EVENT_RUN_FINISHED,
  VB_JOB_EVENT_JOB_FINISHED,
} VbJobEventKind;

/* What must reach the front end even when progress updates are coalesced away. */
typedef struct {
  VbJobEventKind kind;
  guint64     job_id;
  gint64      run_id;         /* run events */
  char       *run_name;       /* run events */
  int         index, n_runs;  /* run events */
  VbRunStatus run_status;     /* RUN_FINISHED */
  double      top1, top5;     /* RUN_FINISHED with VB_RUN_DONE */
  VbJobState  job_state;      /* JOB_FINISHED */
  char       *error_message;  /* RUN_FINISHED and JOB_FINISHED: NULL when it went well */
} VbJobEvent;

/* Runs on the queue's main context, never on the engine thread. For each wake-up it is
 * called once per pending event, oldest first, then once with event NULL; status is the
 * latest snapshot every time. Progress is coalesced: many steps may pass between calls.
 * It must not free the queue. */
typedef void (*VbJobUpdateFunc) (VbJobQueue        *queue,
                                 const VbJobEvent  *event,
                                 const VbJobStatus *status,
                                 gpointer           user_data);

/* Starts the engine thread on the database at db_path (NULL: the default one). context
 * NULL means the global default context. If the database cannot be opened, every job
 * fails with that error, so the caller learns it the same way as any failure. */
VbJobQueue *vb_job_queue_new          (const char      *db_path,
                                       GMainContext    *context,
                                       VbJobUpdateFunc  on_update,
                                       gpointer         user_data,
                                       GDestroyNotify   destroy);
/* Cancels the current job, drops the queued ones and joins the thread: the current run
 * ends cancelled with its checkpoint kept, so the database is consistent afterwards.
 * Call it from the thread that runs the context; no callback runs after it returns. */
void        vb_job_queue_free         (VbJobQueue      *queue);

/* Queues the runs of preset (the queue takes it; the caller must not touch it again).
 * Returns the job id, never 0. */
guint64     vb_job_queue_start_preset (VbJobQueue      *queue,
                                       VbPreset        *preset);
/* The same from a preset file's text and "key=value" overrides. They are checked here,
 * in the caller's thread, so a typo is an immediate error (returns 0), not a failed job. */
guint64     vb_job_queue_start_preset_json (VbJobQueue         *queue,
                                            const char         *json,
                                            const char * const *overrides,
                                            GError            **error);
/* Queues vb_runner_resume_run() for run_id; its refusals arrive as a failed job. */
guint64     vb_job_queue_resume_run   (VbJobQueue      *queue,
                                       gint64           run_id);

/* job_id 0 means whatever job is current when the engine reads the command, which may
 * not be the one the caller saw; pass an id to be sure. A queued job is dropped (it
 * finishes cancelled without running); the jobs queued behind the current one stay. */
void        vb_job_queue_cancel       (VbJobQueue      *queue,
                                       guint64          job_id);
void        vb_job_queue_cancel_all   (VbJobQueue      *queue);
/* Pause holds the engine at the next training step (or, when idle, before the next
 * job) until unpaused; cancel still works while paused. */
void        vb_job_queue_pause        (VbJobQueue      *queue);
void        vb_job_queue_unpause      (VbJobQueue      *queue);

/* A deep copy of the latest snapshot, for polling; clear it with vb_job_status_clear(). */
void        vb_job_queue_get_status   (VbJobQueue      *queue,
                                       VbJobStatus     *out);

G_END_DECLS
