/* vb-runner.h: runs an experiment: a preset (with overrides) expands into runs that are
 * recorded in the store as one group, then trained one after the other. The CLI calls it
 * directly; the engine's job thread (vb-job.h) calls the same functions. */
#pragma once

#include "vb-preset.h"
#include "vb-store.h"
#include "vb-trainer.h"

G_BEGIN_DECLS

typedef struct {
  /* called before each run starts and after it ends (status set) */
  void (*run_started)  (gint64 run_id, const char *run_name, int index, int n_runs,
                        gpointer user_data);
  void (*run_finished) (gint64 run_id, const char *run_name, VbRunStatus status,
                        const VbTrainResult *result, const GError *error, gpointer user_data);
  VbTrainHooks train;   /* progress and cancel, passed to every run */
  /* something the user should know that does not stop the runs, e.g. "device cuda: no
   * CUDA device ...; the runs use the CPU" (may be NULL) */
  void (*notice)       (const char *message, gpointer user_data);
} VbRunnerHooks;

/* Folder for a run's checkpoints: $XDG_DATA_HOME/visionbench/checkpoints/run-ID. */
char *vb_runner_checkpoint_dir (VbStore *store, gint64 run_id);

/* Expands the preset, records every run as queued (group id returned in out_group), then
 * trains them in order. Returns FALSE if any run failed (error: the first failure), or
 * when cancelled (remaining runs are marked cancelled). */
gboolean vb_runner_run_preset (VbStore *store, VbPreset *preset, const VbRunnerHooks *hooks,
                               char **out_group, GArray **out_run_ids, GError **error);

/* Continues a failed, cancelled or interrupted run from the checkpoint its last finished
 * epoch left (vb_runner_checkpoint_dir()/last.safetensors), with the config stored for
 * it, so the result is the one an uninterrupted run would have given. Refuses, with
 * VB_ENGINE_ERROR_INVALID and before touching the run, a run that is done, one still
 * running in a live process, and one without a checkpoint (it must be run again).
 * Otherwise status and hooks go as for one run of vb_runner_run_preset (index 0 of 1).
 * result may be NULL; a run that fails or is cancelled again returns FALSE. */
gboolean vb_runner_resume_run (VbStore *store, gint64 run_id, const VbRunnerHooks *hooks,
                               VbTrainResult *result, GError **error);

G_END_DECLS
