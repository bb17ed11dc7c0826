/* vb-runner.h: runs an experiment: a preset (with overrides) expands into runs that are
 * recorded in the store as one group, then trained one after the other. The CLI calls it
 * directly; the GUI's job thread will call the same function. */
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
} VbRunnerHooks;

/* Folder for a run's checkpoints: $XDG_DATA_HOME/visionbench/checkpoints/run-ID. */
char *vb_runner_checkpoint_dir (VbStore *store, gint64 run_id);

/* Expands the preset, records every run as queued (group id returned in out_group), then
 * trains them in order. Returns FALSE if any run failed (error: the first failure), or
 * when cancelled (remaining runs are marked cancelled). */
gboolean vb_runner_run_preset (VbStore *store, VbPreset *preset, const VbRunnerHooks *hooks,
                               char **out_group, GArray **out_run_ids, GError **error);

G_END_DECLS
