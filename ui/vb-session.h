/* vb-session.h: what the windows of one VisionBench process share: the results database
 * (a main-thread connection for reading), the presets folder and the engine's job queue.
 * It turns the queue's coalesced updates into GObject signals on the main thread and
 * ticks once a second so pages can pick up runs that another process (the CLI) writes
 * to the same database. */
#pragma once

#include <glib-object.h>

#include "vb-job.h"
#include "vb-preset.h"
#include "vb-store.h"

G_BEGIN_DECLS

#define VB_TYPE_SESSION (vb_session_get_type ())
G_DECLARE_FINAL_TYPE (VbSession, vb_session, VB, SESSION, GObject)

/* db_path NULL: the default database; presets_dir NULL: vb_preset_default_dir(). */
VbSession         *vb_session_new             (const char         *db_path,
                                               const char         *presets_dir,
                                               GError            **error);
VbStore           *vb_session_get_store       (VbSession          *self);
const char        *vb_session_get_db_path     (VbSession          *self);
const char        *vb_session_get_presets_dir (VbSession          *self);
/* The latest engine snapshot (owned by the session). */
const VbJobStatus *vb_session_get_status      (VbSession          *self);
/* Whether a job is running or waiting in the queue. */
gboolean           vb_session_get_busy        (VbSession          *self);
/* The run the engine is working on now, 0 when none. */
gint64             vb_session_get_active_run  (VbSession          *self);

/* Loads the preset at path, applies the "key=value" overrides and queues it. Errors in
 * the preset or an override come back here, before anything is queued. Returns the job
 * id, 0 on error. */
guint64            vb_session_start           (VbSession          *self,
                                               const char         *preset_path,
                                               const char * const *overrides,
                                               GError            **error);
/* The same for preset text held in memory (the Experiments form's edited preset, with
 * grid axes or fields its file lacks). */
guint64            vb_session_start_json      (VbSession          *self,
                                               const char         *json,
                                               const char * const *overrides,
                                               GError            **error);
/* Cancels the job running run_id (any job when run_id is 0). */
void               vb_session_cancel_run      (VbSession          *self,
                                               gint64              run_id);
/* Holds the engine at its next training step (or before the next job) until unpaused;
 * cancelling still works while paused. Neither waits for the engine. */
void               vb_session_pause           (VbSession          *self);
void               vb_session_unpause         (VbSession          *self);
/* Whether the engine holds (its latest snapshot says so). */
gboolean           vb_session_get_paused      (VbSession          *self);
/* Queues the continuation of a failed, cancelled or interrupted run from its last
 * checkpoint; the engine's refusals arrive as a failed job. Returns the job id, 0 (with
 * error) when the engine has been stopped. */
guint64            vb_session_resume_run      (VbSession          *self,
                                               gint64              run_id,
                                               GError            **error);
/* Cancels what runs and stops the engine thread; the current run ends cancelled with
 * its checkpoint kept. Called on shutdown; the session then refuses new jobs. It waits
 * for the engine to reach the end of a step: call it when the engine is idle (after the
 * job-event that finishes the job), not from a button while a run trains. */
void               vb_session_shutdown        (VbSession          *self);

/* The presets folder the CLI uses too: $VISIONBENCH_PRESETS, else the source tree's
 * data/presets when it exists, else the installed one. */

G_END_DECLS
