#include "config.h"

#include "vb-job.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-runner.h"

typedef enum {
  CMD_START,
  CMD_CANCEL,
  CMD_CANCEL_ALL,
  CMD_PAUSE,
  CMD_UNPAUSE,
  CMD_QUIT,
} CommandKind;

typedef struct {
  guint64   id;
  VbPreset *preset;          /* a preset to run, or NULL to resume resume_run_id */
  gint64    resume_run_id;
} Job;

typedef struct {
  CommandKind kind;
  guint64     job_id;        /* CMD_CANCEL */
  Job        *job;           /* CMD_START */
} Command;

struct _VbJobQueue {
  /* fixed at creation */
  char            *db_path;
  GMainContext    *context;
  VbJobUpdateFunc  on_update;
  gpointer         user_data;
  GDestroyNotify   destroy;
  GAsyncQueue     *commands;   /* Command*, to the engine thread */
  GThread         *thread;

  /* under lock: what the other threads see */
  GMutex           lock;
  guint64          last_job_id;
  VbJobStatus      status;
  GQueue           events;     /* VbJobEvent*, oldest first */
  GSource         *idle;       /* the one pending update, or NULL */

  /* the engine thread's own */
  VbStore         *store;
  GError          *store_error;
  GQueue           pending;    /* Job* waiting to run */
  Job             *current;
  gboolean         cancel_current;
  gboolean         paused;
  gboolean         quit;
};

const char *
vb_job_state_to_string (VbJobState state)
{
  switch (state)
    {
    case VB_JOB_IDLE:
      return "idle";
    case VB_JOB_RUNNING:
      return "running";
    case VB_JOB_FINISHED:
      return "finished";
    case VB_JOB_FAILED:
      return "failed";
    case VB_JOB_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
    }
}

void
vb_job_status_clear (VbJobStatus *status)
{
  g_clear_pointer (&status->run_name, g_free);
  g_clear_pointer (&status->gpus, g_free);
  g_clear_pointer (&status->error_message, g_free);
}

static void
status_copy (const VbJobStatus *from, VbJobStatus *to)
{
  *to = *from;
  to->run_name = g_strdup (from->run_name);
  to->gpus = g_strdup (from->gpus);
  to->error_message = g_strdup (from->error_message);
}

static void
event_free (VbJobEvent *event)
{
  g_free (event->run_name);
  g_free (event->error_message);
  g_free (event);
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->preset, vb_preset_free);
  g_free (job);
}

static void
command_free (Command *cmd)
{
  g_clear_pointer (&cmd->job, job_free);
  g_free (cmd);
}

/* ---- main context side ------------------------------------------------------------------ */

static gboolean
dispatch_cb (gpointer data)
{
  VbJobQueue *q = data;
  g_auto (VbJobStatus) snapshot = { 0 };
  GQueue events = G_QUEUE_INIT;

  /* take everything in one go, then call out without the lock held */
  g_mutex_lock (&q->lock);
  status_copy (&q->status, &snapshot);
  events = q->events;
  g_queue_init (&q->events);
  g_clear_pointer (&q->idle, g_source_unref);
  g_mutex_unlock (&q->lock);

  VbJobEvent *event;
  while ((event = g_queue_pop_head (&events)) != NULL)
    {
      q->on_update (q, event, &snapshot, q->user_data);
      event_free (event);
    }
  q->on_update (q, NULL, &snapshot, q->user_data);
  return G_SOURCE_REMOVE;
}

/* With q->lock held: the snapshot (or event list) changed. At most one idle is pending,
 * so a fast engine thread cannot flood a slow main loop. */
static void
changed_locked (VbJobQueue *q)
{
  q->status.serial++;
  if (q->on_update == NULL)
    {
      /* nobody to tell: a caller that polls only needs the snapshot */
      g_queue_clear_full (&q->events, (GDestroyNotify) event_free);
      return;
    }
  if (q->idle != NULL)
    return;
  q->idle = g_idle_source_new ();
  g_source_set_priority (q->idle, G_PRIORITY_LOW);
  g_source_set_callback (q->idle, dispatch_cb, q, NULL);
  g_source_set_static_name (q->idle, "[visionbench] job update");
  g_source_attach (q->idle, q->context);
}

static VbJobEvent *
push_event_locked (VbJobQueue *q, VbJobEventKind kind, guint64 job_id)
{
  VbJobEvent *event = g_new0 (VbJobEvent, 1);
  event->kind = kind;
  event->job_id = job_id;
  event->top1 = event->top5 = NAN;
  g_queue_push_tail (&q->events, event);
  return event;
}

/* ---- engine thread ---------------------------------------------------------------------- */

static void
set_paused (VbJobQueue *q, gboolean paused)
{
  q->paused = paused;
  g_mutex_lock (&q->lock);
  if (q->status.paused != paused)
    {
      q->status.paused = paused;
      changed_locked (q);
    }
  g_mutex_unlock (&q->lock);
}

static void
publish_n_queued (VbJobQueue *q)
{
  g_mutex_lock (&q->lock);
  if (q->status.n_queued != q->pending.length)
    {
      q->status.n_queued = q->pending.length;
      changed_locked (q);
    }
  g_mutex_unlock (&q->lock);
}

/* A queued job that will never run still gets its JOB_FINISHED, so the front end can
 * take it off its list. */
static void
drop_job (VbJobQueue *q, Job *job)
{
  g_mutex_lock (&q->lock);
  VbJobEvent *event = push_event_locked (q, VB_JOB_EVENT_JOB_FINISHED, job->id);
  event->job_state = VB_JOB_CANCELLED;
  event->error_message = g_strdup ("cancelled before it started");
  changed_locked (q);
  g_mutex_unlock (&q->lock);
  job_free (job);
}

static void
drop_pending (VbJobQueue *q)
{
  Job *job;
  while ((job = g_queue_pop_head (&q->pending)) != NULL)
    drop_job (q, job);
  publish_n_queued (q);
}

static void
handle_command (VbJobQueue *q, Command *cmd)
{
  switch (cmd->kind)
    {
    case CMD_START:
      g_queue_push_tail (&q->pending, g_steal_pointer (&cmd->job));
      publish_n_queued (q);
      break;
    case CMD_CANCEL:
      if (q->current != NULL && (cmd->job_id == 0 || cmd->job_id == q->current->id))
        q->cancel_current = TRUE;
      else if (cmd->job_id != 0)
        for (GList *l = q->pending.head; l != NULL; l = l->next)
          {
            Job *job = l->data;
            if (job->id == cmd->job_id)
              {
                g_queue_delete_link (&q->pending, l);
                drop_job (q, job);
                publish_n_queued (q);
                break;
              }
          }
      break;
    case CMD_CANCEL_ALL:
      if (q->current != NULL)
        q->cancel_current = TRUE;
      drop_pending (q);
      break;
    case CMD_PAUSE:
      set_paused (q, TRUE);
      break;
    case CMD_UNPAUSE:
      set_paused (q, FALSE);
      break;
    case CMD_QUIT:
      q->quit = TRUE;
      if (q->current != NULL)
        q->cancel_current = TRUE;
      drop_pending (q);
      break;
    default:
      g_assert_not_reached ();
    }
  command_free (cmd);
}

static void
drain_commands (VbJobQueue *q)
{
  Command *cmd;
  while ((cmd = g_async_queue_try_pop (q->commands)) != NULL)
    handle_command (q, cmd);
}

static void
progress_hook (const VbProgress *p, gpointer data)
{
  VbJobQueue *q = data;
  g_mutex_lock (&q->lock);
  q->status.phase = g_intern_string (p->phase);
  q->status.epoch = p->epoch;
  q->status.epochs = p->epochs;
  q->status.step = p->step;
  q->status.total_steps = p->total_steps;
  q->status.loss = p->loss;
  q->status.lr = p->lr;
  q->status.img_per_s = p->img_per_s;
  q->status.eta_s = p->eta_s;
  q->status.val_top1 = p->val_top1;
  if (g_strcmp0 (q->status.gpus, p->gpus) != 0)
    {
      g_free (q->status.gpus);
      q->status.gpus = g_strdup (p->gpus);
    }
  changed_locked (q);
  g_mutex_unlock (&q->lock);
  /* after the write: a pause seen from here on holds at this step */
  drain_commands (q);
}

/* Called before every training step: the one place the engine can stop or wait. While
 * paused it sleeps in g_async_queue_pop (the queue's GCond), so it costs no CPU and
 * wakes for the next command, be it unpause, cancel or quit. */
static gboolean
should_cancel_hook (gpointer data)
{
  VbJobQueue *q = data;
  drain_commands (q);
  while (q->paused && !q->cancel_current && !q->quit)
    handle_command (q, g_async_queue_pop (q->commands));
  return q->cancel_current || q->quit;
}

static void
run_started_hook (gint64 run_id, const char *run_name, int index, int n_runs, gpointer data)
{
  VbJobQueue *q = data;
  g_mutex_lock (&q->lock);
  VbJobStatus *s = &q->status;
  s->run_id = run_id;
  g_free (s->run_name);
  s->run_name = g_strdup (run_name);
  s->index = index;
  s->n_runs = n_runs;
  s->phase = g_intern_static_string ("load");
  s->epoch = s->epochs = 0;
  s->step = s->total_steps = 0;
  s->loss = s->lr = s->eta_s = s->val_top1 = NAN;
  s->img_per_s = 0;
  g_clear_pointer (&s->gpus, g_free);
  VbJobEvent *event = push_event_locked (q, VB_JOB_EVENT_RUN_STARTED, q->current->id);
  event->run_id = run_id;
  event->run_name = g_strdup (run_name);
  event->index = index;
  event->n_runs = n_runs;
  changed_locked (q);
  g_mutex_unlock (&q->lock);
}

static void
run_finished_hook (gint64 run_id, const char *run_name, VbRunStatus status,
                   const VbTrainResult *result, const GError *error, gpointer data)
{
  VbJobQueue *q = data;
  g_mutex_lock (&q->lock);
  VbJobEvent *event = push_event_locked (q, VB_JOB_EVENT_RUN_FINISHED, q->current->id);
  event->run_id = run_id;
  event->run_name = g_strdup (run_name);
  event->index = q->status.index;
  event->n_runs = q->status.n_runs;
  event->run_status = status;
  q->status.phase = NULL;
  if (status == VB_RUN_DONE)
    {
      event->top1 = result->top1;
      event->top5 = result->top5;
    }
  if (error != NULL)
    {
      event->error_message = g_strdup (error->message);
      g_free (q->status.error_message);
      q->status.error_message = g_strdup (error->message);
    }
  changed_locked (q);
  g_mutex_unlock (&q->lock);
}

static void
run_job (VbJobQueue *q, Job *job)
{
  q->current = job;
  q->cancel_current = FALSE;

  g_mutex_lock (&q->lock);
  VbJobStatus *s = &q->status;
  s->job_id = job->id;
  s->state = VB_JOB_RUNNING;
  s->n_queued = q->pending.length;
  s->run_id = 0;
  g_clear_pointer (&s->run_name, g_free);
  g_clear_pointer (&s->error_message, g_free);
  s->index = s->n_runs = 0;
  s->phase = NULL;
  s->epoch = s->epochs = 0;
  s->step = s->total_steps = 0;
  s->loss = s->lr = s->eta_s = s->val_top1 = NAN;
  s->img_per_s = 0;
  g_clear_pointer (&s->gpus, g_free);
  push_event_locked (q, VB_JOB_EVENT_JOB_STARTED, job->id);
  changed_locked (q);
  g_mutex_unlock (&q->lock);

  VbRunnerHooks hooks = {
    .run_started = run_started_hook,
    .run_finished = run_finished_hook,
    .train = { progress_hook, should_cancel_hook, q },
  };
  g_autoptr (GError) error = NULL;
  gboolean ok;
  if (q->store == NULL)
    {
      ok = FALSE;
      error = g_error_copy (q->store_error);
    }
  else if (job->preset != NULL)
    ok = vb_runner_run_preset (q->store, job->preset, &hooks, NULL, NULL, &error);
  else
    ok = vb_runner_resume_run (q->store, job->resume_run_id, &hooks, NULL, &error);

  VbJobState state = VB_JOB_FINISHED;
  if (!ok)
    state = g_error_matches (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED)
            ? VB_JOB_CANCELLED : VB_JOB_FAILED;
  g_debug ("job %" G_GUINT64_FORMAT ": %s%s%s", job->id, vb_job_state_to_string (state),
           error ? ": " : "", error ? error->message : "");

  g_mutex_lock (&q->lock);
  s->state = state;
  s->phase = NULL;
  if (error != NULL)
    {
      g_free (s->error_message);
      s->error_message = g_strdup (error->message);
    }
  VbJobEvent *event = push_event_locked (q, VB_JOB_EVENT_JOB_FINISHED, job->id);
  event->job_state = state;
  event->error_message = error ? g_strdup (error->message) : NULL;
  changed_locked (q);
  g_mutex_unlock (&q->lock);
  q->current = NULL;
}

static gpointer
engine_thread (gpointer data)
{
  VbJobQueue *q = data;

  /* this thread's own connection: a VbStore is used by one thread only */
  q->store = vb_store_open (q->db_path, &q->store_error);
  if (q->store == NULL)
    {
      g_mutex_lock (&q->lock);
      q->status.error_message = g_strdup (q->store_error->message);
      changed_locked (q);
      g_mutex_unlock (&q->lock);
    }

  while (!q->quit)
    {
      if (!q->paused && !g_queue_is_empty (&q->pending))
        {
          Job *job = g_queue_pop_head (&q->pending);
          run_job (q, job);
          job_free (job);
          continue;
        }
      handle_command (q, g_async_queue_pop (q->commands));
    }

  g_queue_clear_full (&q->pending, (GDestroyNotify) job_free);
  g_clear_pointer (&q->store, vb_store_close);
  return NULL;
}

/* ---- any thread ------------------------------------------------------------------------- */

static void
send (VbJobQueue *q, CommandKind kind, guint64 job_id)
{
  Command *cmd = g_new0 (Command, 1);
  cmd->kind = kind;
  cmd->job_id = job_id;
  g_async_queue_push (q->commands, cmd);
}

static guint64
submit (VbJobQueue *q, VbPreset *preset, gint64 run_id)
{
  Command *cmd = g_new0 (Command, 1);
  cmd->kind = CMD_START;
  cmd->job = g_new0 (Job, 1);
  cmd->job->preset = preset;
  cmd->job->resume_run_id = run_id;
  /* ids and queue order agree even when several threads submit at once */
  g_mutex_lock (&q->lock);
  guint64 id = cmd->job->id = ++q->last_job_id;
  g_async_queue_push (q->commands, cmd);
  g_mutex_unlock (&q->lock);
  return id;
}

VbJobQueue *
vb_job_queue_new (const char *db_path, GMainContext *context, VbJobUpdateFunc on_update,
                  gpointer user_data, GDestroyNotify destroy)
{
  VbJobQueue *q = g_new0 (VbJobQueue, 1);
  q->db_path = g_strdup (db_path);
  q->context = g_main_context_ref (context ? context : g_main_context_default ());
  q->on_update = on_update;
  q->user_data = user_data;
  q->destroy = destroy;
  q->commands = g_async_queue_new_full ((GDestroyNotify) command_free);
  g_mutex_init (&q->lock);
  g_queue_init (&q->events);
  g_queue_init (&q->pending);
  q->status.loss = q->status.lr = q->status.eta_s = q->status.val_top1 = NAN;
  q->thread = g_thread_new ("vb-engine", engine_thread, q);
  return q;
}

void
vb_job_queue_free (VbJobQueue *q)
{
  if (q == NULL)
    return;
  send (q, CMD_QUIT, 0);
  g_thread_join (g_steal_pointer (&q->thread));

  g_mutex_lock (&q->lock);
  if (q->idle != NULL)
    {
      g_source_destroy (q->idle);
      g_clear_pointer (&q->idle, g_source_unref);
    }
  g_queue_clear_full (&q->events, (GDestroyNotify) event_free);
  g_mutex_unlock (&q->lock);

  g_async_queue_unref (q->commands);
  g_clear_error (&q->store_error);
  vb_job_status_clear (&q->status);
  g_mutex_clear (&q->lock);
  g_main_context_unref (q->context);
  g_free (q->db_path);
  if (q->destroy)
    q->destroy (q->user_data);
  g_free (q);
}

guint64
vb_job_queue_start_preset (VbJobQueue *q, VbPreset *preset)
{
  g_return_val_if_fail (q != NULL && preset != NULL, 0);
  return submit (q, preset, 0);
}

guint64
vb_job_queue_start_preset_json (VbJobQueue *q, const char *json, const char * const *overrides,
                                GError **error)
{
  g_return_val_if_fail (q != NULL && json != NULL, 0);
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (json, error);
  if (preset == NULL || !vb_preset_set_all (preset, overrides, error))
    return 0;
  return submit (q, g_steal_pointer (&preset), 0);
}

guint64
vb_job_queue_resume_run (VbJobQueue *q, gint64 run_id)
{
  g_return_val_if_fail (q != NULL, 0);
  return submit (q, NULL, run_id);
}

void
vb_job_queue_cancel (VbJobQueue *q, guint64 job_id)
{
  g_return_if_fail (q != NULL);
  send (q, CMD_CANCEL, job_id);
}

void
vb_job_queue_cancel_all (VbJobQueue *q)
{
  g_return_if_fail (q != NULL);
  send (q, CMD_CANCEL_ALL, 0);
}

void
vb_job_queue_pause (VbJobQueue *q)
{
  g_return_if_fail (q != NULL);
  send (q, CMD_PAUSE, 0);
}

void
vb_job_queue_unpause (VbJobQueue *q)
{
  g_return_if_fail (q != NULL);
  send (q, CMD_UNPAUSE, 0);
}

void
vb_job_queue_get_status (VbJobQueue *q, VbJobStatus *out)
{
  g_return_if_fail (q != NULL && out != NULL);
  g_mutex_lock (&q->lock);
  status_copy (&q->status, out);
  g_mutex_unlock (&q->lock);
}
