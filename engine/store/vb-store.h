/* vb-store.h: the results database (SQLite, WAL mode).
 *
 * One VbStore is one SQLite connection: use it from one thread at a time, and open a
 * second VbStore for another thread or process (WAL lets readers run beside the writer).
 * Every write is a transaction, so a process killed mid-write leaves a consistent file;
 * a run it left 'running' is marked 'interrupted' by the next vb_store_open().
 *
 * Step metrics are buffered in memory and written in one transaction every
 * VB_STORE_STEP_BATCH rows or every second, and whenever anything else is written or
 * read, so calling vb_store_add_step_metric() every step is cheap. A killed process
 * loses at most that last second of step rows. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VB_STORE_STEP_BATCH 256

typedef struct _VbStore VbStore;

typedef enum {
  VB_RUN_ANY = -1,        /* only as a filter for vb_store_list_runs() */
  VB_RUN_QUEUED = 0,
  VB_RUN_RUNNING,
  VB_RUN_DONE,
  VB_RUN_FAILED,
  VB_RUN_CANCELLED,
  VB_RUN_INTERRUPTED,
} VbRunStatus;

/* Returns "queued", "running", ... (static string). */
const char *vb_run_status_to_string   (VbRunStatus status);
/* Returns FALSE (and leaves *out alone) for an unknown name. */
gboolean    vb_run_status_from_string (const char  *name,
                                       VbRunStatus *out);

/* One row of the runs table. Strings are owned by the record (vb_run_record_free);
 * a NULL string is SQL NULL. Times are ISO-8601 UTC ("2024-05-01T12:00:00.123Z"). */
typedef struct {
  gint64      id;
  char       *name;
  char       *preset;
  char       *group_id;            /* one preset invocation: the runs compare shows together */
  VbRunStatus status;
  char       *config_json;         /* the full, expanded config */
  char       *dataset_fingerprint;
  gint64      seed;
  char       *software_version;    /* PACKAGE_VERSION when NULL at creation */
  char       *device;
  char       *hostname;            /* filled by the store */
  gint64      pid;                 /* filled by the store: the process that owns the run */
  char       *process_token;       /* filled by the store: boot id + process start time */
  char       *created_at;
  char       *started_at;
  char       *finished_at;
  char       *error_message;
  gint64      params;              /* 0 = unknown */
  gint64      macs;                /* 0 = unknown */
  char       *checkpoint_path;
} VbRunRecord;

void         vb_run_record_free (VbRunRecord *record);
VbRunRecord *vb_run_record_copy (const VbRunRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbRunRecord, vb_run_record_free)

/* Missing values are NAN (stored as SQL NULL). */
typedef struct {
  gint64 step;
  double epoch;        /* fractional epoch, e.g. 1.25 */
  double loss;
  double lr;
  double grad_norm;
  double img_per_s;
  double wall_s;       /* seconds since the run started */
} VbStepMetric;

typedef struct {
  int    epoch;
  double train_loss;
  double train_top1;
  double val_loss;
  double val_top1;
  double val_top5;
  double img_per_s_train;
  double img_per_s_eval;
  double wall_s;
} VbEpochMetric;

/* A throughput figure and the protocol card that says how it was measured: batch,
 * precision, warm-up steps, timed steps, whether data loading and the optimizer were
 * included, threads, device (free-form JSON object written by the caller). */
typedef struct {
  gint64  id;
  gint64  run_id;
  char   *kind;            /* "train", "eval", ... */
  double  img_per_s;
  char   *protocol_json;
} VbThroughputRecord;

void vb_throughput_record_free (VbThroughputRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbThroughputRecord, vb_throughput_record_free)

typedef struct {
  gint64  id;
  gint64  run_id;
  char   *kind;            /* "checkpoint", "figure", "table", ... */
  char   *path;
  char   *created_at;
} VbArtifactRecord;

void vb_artifact_record_free (VbArtifactRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbArtifactRecord, vb_artifact_record_free)

/* $XDG_DATA_HOME/visionbench/runs.db (newly allocated). */
char    *vb_store_default_path        (void);

/* Opens (creating it and its parent folders if needed) the database at @path, or at
 * the default path when @path is NULL. ":memory:" gives a private in-memory store.
 * Migrates the schema and marks dead runs interrupted. */
VbStore *vb_store_open                (const char  *path,
                                       GError     **error);
/* Flushes buffered step metrics and closes. NULL is accepted. */
void     vb_store_close               (VbStore     *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbStore, vb_store_close)

const char *vb_store_get_path         (VbStore     *store);
/* How many runs vb_store_open() marked interrupted. */
guint    vb_store_get_n_recovered     (VbStore     *store);

/* Marks every 'running' run of this host whose process is gone (or whose pid now
 * belongs to another process) as 'interrupted'. Runs of other hosts are left alone.
 * Returns the number marked, or -1 with @error set. */
int      vb_store_recover_interrupted (VbStore     *store,
                                       GError     **error);

/* Explicit transaction around several writes (they become visible together).
 * Not nestable; vb_store_close() rolls back one left open. */
gboolean vb_store_begin               (VbStore     *store,
                                       GError     **error);
gboolean vb_store_commit              (VbStore     *store,
                                       GError     **error);
gboolean vb_store_rollback            (VbStore     *store,
                                       GError     **error);
/* Writes buffered step metrics now. */
gboolean vb_store_flush               (VbStore     *store,
                                       GError     **error);

/* A fresh group id for one preset invocation, e.g. "ss2d-directions-20240501T120000-3f2a". */
char    *vb_store_make_group_id       (const char  *preset);

/* Inserts a run from @fields (id, hostname, pid, process_token, created_at and the
 * other times are ignored and filled in). @fields->status must be queued or running. */
gboolean vb_store_create_run          (VbStore           *store,
                                       const VbRunRecord *fields,
                                       gint64            *out_id,
                                       GError           **error);
/* Moves a run to @status. Allowed: queued → running, failed, cancelled;
 * running → done, failed, cancelled, interrupted; failed, cancelled, interrupted →
 * queued or running (retry, resume). 'running' records this process as the owner and
 * sets started_at; done, failed, cancelled and interrupted set finished_at.
 * @error_message may be NULL. */
gboolean vb_store_set_status          (VbStore     *store,
                                       gint64       run_id,
                                       VbRunStatus  status,
                                       const char  *error_message,
                                       GError     **error);
gboolean vb_store_set_checkpoint      (VbStore     *store,
                                       gint64       run_id,
                                       const char  *checkpoint_path,
                                       GError     **error);
gboolean vb_store_set_run_stats       (VbStore     *store,
                                       gint64       run_id,
                                       gint64       params,
                                       gint64       macs,
                                       GError     **error);
gboolean vb_store_set_dataset_fingerprint (VbStore    *store,
                                           gint64      run_id,
                                           const char *fingerprint,
                                           GError    **error);
/* Deletes a run and all its metrics. */
gboolean vb_store_delete_run          (VbStore     *store,
                                       gint64       run_id,
                                       GError     **error);

/* Drops step rows after `step` and epoch rows after `epoch`: what a run recorded past
 * the checkpoint it resumes from, so a resumed run's curves have no duplicated tail. */
gboolean vb_store_truncate_metrics    (VbStore     *store,
                                       gint64       run_id,
                                       gint64       step,
                                       int          epoch,
                                       GError     **error);

/* Buffered; see the comment at the top. */
gboolean vb_store_add_step_metric     (VbStore            *store,
                                       gint64              run_id,
                                       const VbStepMetric *metric,
                                       GError            **error);
gboolean vb_store_add_epoch_metric    (VbStore             *store,
                                       gint64               run_id,
                                       const VbEpochMetric *metric,
                                       GError             **error);
gboolean vb_store_add_throughput      (VbStore     *store,
                                       gint64       run_id,
                                       const char  *kind,
                                       double       img_per_s,
                                       const char  *protocol_json,
                                       GError     **error);
/* the run's figure of this kind replaced (or added): one that is updated as the run goes,
 * e.g. "train gpu 1" of a data-parallel run */
gboolean vb_store_set_throughput      (VbStore     *store,
                                       gint64       run_id,
                                       const char  *kind,
                                       double       img_per_s,
                                       const char  *protocol_json,
                                       GError     **error);
gboolean vb_store_add_artifact        (VbStore     *store,
                                       gint64       run_id,
                                       const char  *kind,
                                       const char  *path,
                                       GError     **error);

/* VbRunRecord*, newest first. @status VB_RUN_ANY and @group_id NULL mean no filter;
 * @limit 0 means all. */
GPtrArray     *vb_store_list_runs       (VbStore     *store,
                                         VbRunStatus  status,
                                         const char  *group_id,
                                         guint        limit,
                                         GError     **error);
/* NULL with VB_ENGINE_ERROR_INVALID when there is no such run. */
VbRunRecord   *vb_store_get_run         (VbStore     *store,
                                         gint64       run_id,
                                         GError     **error);
/* The runs of the most recently created group, oldest first (grid order). An empty
 * array when no run has a group. */
GPtrArray     *vb_store_last_group_runs (VbStore     *store,
                                         GError     **error);
/* GArray of VbEpochMetric, by epoch. */
GArray        *vb_store_get_epoch_metrics (VbStore   *store,
                                           gint64     run_id,
                                           GError   **error);
/* GArray of VbStepMetric, by step. */
GArray        *vb_store_get_step_metrics  (VbStore   *store,
                                           gint64     run_id,
                                           GError   **error);
/* VbThroughputRecord*, in insertion order. */
GPtrArray     *vb_store_get_throughput    (VbStore   *store,
                                           gint64     run_id,
                                           GError   **error);
/* VbArtifactRecord*, in insertion order. */
GPtrArray     *vb_store_get_artifacts     (VbStore   *store,
                                           gint64     run_id,
                                           GError   **error);

G_END_DECLS
