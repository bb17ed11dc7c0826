/* vb-session.c: the database, the presets and the engine's job queue, shared by the pages. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-error.h"
#include "vb-session.h"

struct _VbSession
{
  GObject      parent_instance;

  char        *db_path;
  char        *presets_dir;
  VbStore     *store;        /* the main thread's own connection, for reading */
  VbJobQueue  *queue;
  VbJobStatus  status;
  guint        n_pending;    /* jobs submitted and not yet finished */
  guint64      current_job;  /* the job of the run in progress */
  gint64       active_run;
  guint        tick_id;
};

G_DEFINE_FINAL_TYPE (VbSession, vb_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  JOB_EVENT,
  PROGRESS,
  TICK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_pending (VbSession *self,
             guint      n_pending)
{
  gboolean was_busy = self->n_pending > 0;
  self->n_pending = n_pending;
  if (was_busy != (n_pending > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
update_cb (VbJobQueue        *queue,
           const VbJobEvent  *event,
           const VbJobStatus *status,
           gpointer           user_data)
{
  VbSession *self = user_data;

  if (event != NULL)
    {
      switch (event->kind)
        {
        case VB_JOB_EVENT_RUN_STARTED:
          self->current_job = event->job_id;
          self->active_run = event->run_id;
          break;
        case VB_JOB_EVENT_RUN_FINISHED:
          if (self->active_run == event->run_id)
            self->active_run = 0;
          break;
        case VB_JOB_EVENT_JOB_FINISHED:
          if (self->current_job == event->job_id)
            self->active_run = 0;
          break;
        case VB_JOB_EVENT_JOB_STARTED:
        default:
          break;
        }
      /* the snapshot as the event saw it, so handlers read a consistent state */
      vb_job_status_clear (&self->status);
      vb_job_queue_get_status (queue, &self->status);
      g_signal_emit (self, signals[JOB_EVENT], 0, event);
      if (event->kind == VB_JOB_EVENT_JOB_FINISHED && self->n_pending > 0)
        set_pending (self, self->n_pending - 1);
      return;
    }

  vb_job_status_clear (&self->status);
  vb_job_queue_get_status (queue, &self->status);
  g_signal_emit (self, signals[PROGRESS], 0);
}

static gboolean
tick_cb (gpointer user_data)
{
  VbSession *self = user_data;
  g_signal_emit (self, signals[TICK], 0);
  return G_SOURCE_CONTINUE;
}

void
vb_session_shutdown (VbSession *self)
{
  g_return_if_fail (VB_IS_SESSION (self));

  /* frees only from the thread that runs the context, as vb_job_queue_free() asks */
  g_clear_pointer (&self->queue, vb_job_queue_free);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->active_run = 0;
  set_pending (self, 0);
}

static void
vb_session_dispose (GObject *object)
{
  VbSession *self = VB_SESSION (object);

  vb_session_shutdown (self);

  G_OBJECT_CLASS (vb_session_parent_class)->dispose (object);
}

static void
vb_session_finalize (GObject *object)
{
  VbSession *self = VB_SESSION (object);

  g_clear_pointer (&self->store, vb_store_close);
  vb_job_status_clear (&self->status);
  g_free (self->db_path);
  g_free (self->presets_dir);

  G_OBJECT_CLASS (vb_session_parent_class)->finalize (object);
}

static void
vb_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  VbSession *self = VB_SESSION (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, vb_session_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vb_session_class_init (VbSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vb_session_dispose;
  object_class->finalize = vb_session_finalize;
  object_class->get_property = vb_session_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (const VbJobEvent *event): a run or job started or finished */
  signals[JOB_EVENT] = g_signal_new ("job-event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /* the status snapshot changed (coalesced) */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* once a second: time to look at the database for other processes' runs */
  signals[TICK] = g_signal_new ("tick", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
vb_session_init (VbSession *self)
{
  self->status.val_top1 = 0;
}

VbSession *
vb_session_new (const char  *db_path,
                const char  *presets_dir,
                GError     **error)
{
  g_autoptr (VbSession) self = g_object_new (VB_TYPE_SESSION, NULL);

  self->db_path = db_path ? g_strdup (db_path) : vb_store_default_path ();
  self->presets_dir = g_strdup (presets_dir ? presets_dir : vb_preset_default_dir ());
  self->store = vb_store_open (self->db_path, error);
  if (self->store == NULL)
    return NULL;
  self->queue = vb_job_queue_new (self->db_path, NULL, update_cb, self, NULL);
  self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  return g_steal_pointer (&self);
}

VbStore *
vb_session_get_store (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), NULL);
  return self->store;
}

const char *
vb_session_get_db_path (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), NULL);
  return self->db_path;
}

const char *
vb_session_get_presets_dir (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), NULL);
  return self->presets_dir;
}

const VbJobStatus *
vb_session_get_status (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), NULL);
  return &self->status;
}

gboolean
vb_session_get_busy (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), FALSE);
  return self->n_pending > 0;
}

gint64
vb_session_get_active_run (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), 0);
  return self->active_run;
}

guint64
vb_session_start (VbSession          *self,
                  const char         *preset_path,
                  const char * const *overrides,
                  GError            **error)
{
  g_return_val_if_fail (VB_IS_SESSION (self), 0);

  if (self->queue == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "the engine has been stopped");
      return 0;
    }
  g_autoptr (VbPreset) preset = vb_preset_load (preset_path, error);
  if (preset == NULL)
    return 0;
  for (const char * const *o = overrides; o && *o; o++)
    if (!vb_preset_set (preset, *o, error))
      {
        g_prefix_error (error, "%s: ", *o);
        return 0;
      }
  guint64 job = vb_job_queue_start_preset (self->queue, g_steal_pointer (&preset));
  set_pending (self, self->n_pending + 1);
  return job;
}

guint64
vb_session_start_json (VbSession          *self,
                       const char         *json,
                       const char * const *overrides,
                       GError            **error)
{
  g_return_val_if_fail (VB_IS_SESSION (self), 0);
  g_return_val_if_fail (json != NULL, 0);

  if (self->queue == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "the engine has been stopped");
      return 0;
    }
  guint64 job = vb_job_queue_start_preset_json (self->queue, json, overrides, error);
  if (job != 0)
    set_pending (self, self->n_pending + 1);
  return job;
}

void
vb_session_cancel_run (VbSession *self,
                       gint64     run_id)
{
  g_return_if_fail (VB_IS_SESSION (self));

  if (self->queue == NULL)
    return;
  if (run_id == 0)
    vb_job_queue_cancel_all (self->queue);
  else if (run_id == self->active_run)
    vb_job_queue_cancel (self->queue, self->current_job);
}

void
vb_session_pause (VbSession *self)
{
  g_return_if_fail (VB_IS_SESSION (self));
  if (self->queue != NULL)
    vb_job_queue_pause (self->queue);
}

void
vb_session_unpause (VbSession *self)
{
  g_return_if_fail (VB_IS_SESSION (self));
  if (self->queue != NULL)
    vb_job_queue_unpause (self->queue);
}

gboolean
vb_session_get_paused (VbSession *self)
{
  g_return_val_if_fail (VB_IS_SESSION (self), FALSE);
  return self->queue != NULL && self->status.paused;
}

guint64
vb_session_resume_run (VbSession  *self,
                       gint64      run_id,
                       GError    **error)
{
  g_return_val_if_fail (VB_IS_SESSION (self), 0);

  if (self->queue == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "the engine has been stopped");
      return 0;
    }
  guint64 job = vb_job_queue_resume_run (self->queue, run_id);
  set_pending (self, self->n_pending + 1);
  return job;
}
