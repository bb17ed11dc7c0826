/* vb-store.c: the results database: opening, run life cycle, metrics, queries.
 * The schema lives in vb-store-schema.c, process liveness in vb-store-process.c. */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "vb-store.h"
#include "vb-store-private.h"
#include "vb-error.h"

/* Step rows are written at least this often (and every VB_STORE_STEP_BATCH rows). */
#define STEP_FLUSH_INTERVAL_US G_USEC_PER_SEC
#define BUSY_TIMEOUT_MS 5000

typedef struct {
  gint64       run_id;
  VbStepMetric metric;
} PendingStep;

struct _VbStore {
  sqlite3      *db;
  char         *path;
  guint         n_recovered;
  gboolean      explicit_tx;
  GArray       *pending_steps;     /* PendingStep */
  gint64        last_flush_us;
  sqlite3_stmt *insert_step;       /* kept prepared: it runs every step */
};

#define RUN_COLUMNS \
  "id, name, preset, group_id, status, config_json, dataset_fingerprint, seed, " \
  "software_version, device, hostname, pid, process_token, created_at, started_at, " \
  "finished_at, error_message, params, macs, checkpoint_path"

static const char *const status_names[] = {
  [VB_RUN_QUEUED] = "queued",
  [VB_RUN_RUNNING] = "running",
  [VB_RUN_DONE] = "done",
  [VB_RUN_FAILED] = "failed",
  [VB_RUN_CANCELLED] = "cancelled",
  [VB_RUN_INTERRUPTED] = "interrupted",
};

const char *
vb_run_status_to_string (VbRunStatus status)
{
  if ((int) status < 0 || (gsize) status >= G_N_ELEMENTS (status_names))
    return "any";
  return status_names[status];
}

gboolean
vb_run_status_from_string (const char  *name,
                           VbRunStatus *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (name, status_names[i]) == 0)
      {
        *out = (VbRunStatus) i;
        return TRUE;
      }
  return FALSE;
}

void
vb_run_record_free (VbRunRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->name);
  g_free (record->preset);
  g_free (record->group_id);
  g_free (record->config_json);
  g_free (record->dataset_fingerprint);
  g_free (record->software_version);
  g_free (record->device);
  g_free (record->hostname);
  g_free (record->process_token);
  g_free (record->created_at);
  g_free (record->started_at);
  g_free (record->finished_at);
  g_free (record->error_message);
  g_free (record->checkpoint_path);
  g_free (record);
}

VbRunRecord *
vb_run_record_copy (const VbRunRecord *record)
{
  VbRunRecord *copy = g_memdup2 (record, sizeof *record);

  copy->name = g_strdup (record->name);
  copy->preset = g_strdup (record->preset);
  copy->group_id = g_strdup (record->group_id);
  copy->config_json = g_strdup (record->config_json);
  copy->dataset_fingerprint = g_strdup (record->dataset_fingerprint);
  copy->software_version = g_strdup (record->software_version);
  copy->device = g_strdup (record->device);
  copy->hostname = g_strdup (record->hostname);
  copy->process_token = g_strdup (record->process_token);
  copy->created_at = g_strdup (record->created_at);
  copy->started_at = g_strdup (record->started_at);
  copy->finished_at = g_strdup (record->finished_at);
  copy->error_message = g_strdup (record->error_message);
  copy->checkpoint_path = g_strdup (record->checkpoint_path);
  return copy;
}

void
vb_throughput_record_free (VbThroughputRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->kind);
  g_free (record->protocol_json);
  g_free (record);
}

void
vb_artifact_record_free (VbArtifactRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->kind);
  g_free (record->path);
  g_free (record->created_at);
  g_free (record);
}

/* ---- small helpers ---------------------------------------------------- */

static char *
now_iso8601 (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static sqlite3_stmt *
prepare (VbStore     *store,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot prepare a query");
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

static gboolean
exec (VbStore     *store,
      const char  *sql,
      const char  *what,
      GError     **error)
{
  if (sqlite3_exec (store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, what);
      return FALSE;
    }
  return TRUE;
}

/* Runs a statement that returns no rows, then resets it for reuse. */
static gboolean
step_done (VbStore      *store,
           sqlite3_stmt *stmt,
           const char   *what,
           GError      **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, what);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static void
bind_real (sqlite3_stmt *stmt,
           int           index,
           double        value)
{
  if (isnan (value))
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_double (stmt, index, value);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           index)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, index));
}

static double
column_real (sqlite3_stmt *stmt,
             int           index)
{
  if (sqlite3_column_type (stmt, index) == SQLITE_NULL)
    return NAN;
  return sqlite3_column_double (stmt, index);
}

/* Starts a write transaction unless the caller holds one (vb_store_begin). */
static gboolean
write_begin (VbStore  *store,
             GError  **error)
{
  if (store->explicit_tx)
    return TRUE;
  return exec (store, "BEGIN IMMEDIATE", "cannot start a transaction", error);
}

static gboolean
write_end (VbStore  *store,
           gboolean  ok,
           GError  **error)
{
  if (store->explicit_tx)
    return ok;
  if (!ok)
    {
      sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  if (!exec (store, "COMMIT", "cannot commit", error))
    {
      sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_run_exists (VbStore     *store,
                  gint64       run_id,
                  VbRunStatus *out_status,
                  GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (store, "SELECT status FROM runs WHERE id = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, run_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s' has no run %" G_GINT64_FORMAT, store->path, run_id);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot read a run");
      return FALSE;
    }
  if (out_status != NULL &&
      !vb_run_status_from_string ((const char *) sqlite3_column_text (stmt, 0), out_status))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "Results database '%s': run %" G_GINT64_FORMAT " has an unknown status",
                   store->path, run_id);
      return FALSE;
    }
  return TRUE;
}

/* ---- open, close, recovery -------------------------------------------- */

char *
vb_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "visionbench", "runs.db", NULL);
}

const char *
vb_store_get_path (VbStore *store)
{
  return store->path;
}

guint
vb_store_get_n_recovered (VbStore *store)
{
  return store->n_recovered;
}

static gboolean
set_wal_mode (VbStore   *store,
              gboolean   in_memory,
              GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *mode;

  /* The first statement that reads the file: a damaged file fails here. */
  stmt = prepare (store, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot switch to WAL mode");
      return FALSE;
    }
  mode = (const char *) sqlite3_column_text (stmt, 0);
  /* Some file systems (network mounts) refuse WAL; the rollback journal is still
   * crash-safe, only slower with concurrent readers. */
  if (!in_memory && g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") != 0)
    g_debug ("Results database '%s' stays in journal mode '%s'", store->path, mode);
  return TRUE;
}

VbStore *
vb_store_open (const char  *path,
               GError     **error)
{
  g_autofree char *default_path = NULL;
  g_autoptr(VbStore) store = NULL;
  gboolean in_memory;
  int rc;

  if (path == NULL)
    path = default_path = vb_store_default_path ();
  in_memory = g_str_equal (path, ":memory:");

  if (!in_memory)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE,
                       "Cannot create the folder '%s' for the results database '%s': %s",
                       dir, path, g_strerror (saved_errno));
          return NULL;
        }
    }

  store = g_new0 (VbStore, 1);
  store->path = g_strdup (path);
  store->pending_steps = g_array_new (FALSE, FALSE, sizeof (PendingStep));

  rc = sqlite3_open_v2 (path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      vb_store_set_sqlite_error (error, store->db, path, "cannot open");
      return NULL;
    }
  sqlite3_busy_timeout (store->db, BUSY_TIMEOUT_MS);

  if (!set_wal_mode (store, in_memory, error) ||
      /* NORMAL is crash-safe in WAL mode: a killed process loses nothing committed. */
      !exec (store, "PRAGMA synchronous = NORMAL", "cannot set synchronous mode", error) ||
      !exec (store, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", error) ||
      !vb_store_schema_migrate (store->db, path, error))
    return NULL;

  store->insert_step = prepare (store,
                                "INSERT INTO step_metrics (run_id, step, epoch, loss, lr,"
                                " grad_norm, img_per_s, wall_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                error);
  if (store->insert_step == NULL)
    return NULL;

  rc = vb_store_recover_interrupted (store, error);
  if (rc < 0)
    return NULL;
  store->n_recovered = rc;

  return g_steal_pointer (&store);
}

void
vb_store_close (VbStore *store)
{
  if (store == NULL)
    return;

  if (store->db != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!vb_store_flush (store, &error))
        g_debug ("Losing step metrics on close: %s", error->message);
      if (store->explicit_tx)
        sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      sqlite3_finalize (store->insert_step);
      sqlite3_close (store->db);
    }
  g_array_unref (store->pending_steps);
  g_free (store->path);
  g_free (store);
}

int
vb_store_recover_interrupted (VbStore  *store,
                              GError  **error)
{
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(GArray) dead = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *now = NULL;
  const char *host = g_get_host_name ();
  int rc, marked = 0;
  gboolean ok = TRUE;

  if (!vb_store_flush (store, error))
    return -1;

  select = prepare (store, "SELECT id, hostname, pid, process_token FROM runs"
                           " WHERE status = 'running'", error);
  if (select == NULL)
    return -1;
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (select, 0);
      const char *run_host = (const char *) sqlite3_column_text (select, 1);
      gint64 pid = sqlite3_column_int64 (select, 2);
      const char *token = (const char *) sqlite3_column_text (select, 3);

      /* Another host's process cannot be checked from here: leave its run alone. */
      if (g_strcmp0 (run_host, host) != 0)
        continue;
      if (vb_store_process_state (pid, token) == VB_PROCESS_GONE)
        g_array_append_val (dead, id);
    }
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot list running runs");
      return -1;
    }
  if (dead->len == 0)
    return 0;

  update = prepare (store, "UPDATE runs SET status = 'interrupted', finished_at = ?,"
                           " error_message = COALESCE (error_message, ?)"
                           " WHERE id = ? AND status = 'running'", error);
  if (update == NULL || !write_begin (store, error))
    return -1;
  now = now_iso8601 ();
  for (guint i = 0; ok && i < dead->len; i++)
    {
      sqlite3_bind_text (update, 1, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (update, 2, "the process running it ended before it finished",
                         -1, SQLITE_STATIC);
      sqlite3_bind_int64 (update, 3, g_array_index (dead, gint64, i));
      ok = step_done (store, update, "cannot mark a run interrupted", error);
      if (ok)
        marked += sqlite3_changes (store->db);
    }
  if (!write_end (store, ok, error))
    return -1;
  return marked;
}

/* ---- transactions and buffered step metrics --------------------------- */

gboolean
vb_store_flush (VbStore  *store,
                GError  **error)
{
  gboolean ok = TRUE;

  if (store->pending_steps->len == 0)
    return TRUE;

  if (!write_begin (store, error))
    {
      g_array_set_size (store->pending_steps, 0);
      return FALSE;
    }
  for (guint i = 0; ok && i < store->pending_steps->len; i++)
    {
      const PendingStep *p = &g_array_index (store->pending_steps, PendingStep, i);
      sqlite3_stmt *stmt = store->insert_step;

      sqlite3_bind_int64 (stmt, 1, p->run_id);
      sqlite3_bind_int64 (stmt, 2, p->metric.step);
      bind_real (stmt, 3, p->metric.epoch);
      bind_real (stmt, 4, p->metric.loss);
      bind_real (stmt, 5, p->metric.lr);
      bind_real (stmt, 6, p->metric.grad_norm);
      bind_real (stmt, 7, p->metric.img_per_s);
      bind_real (stmt, 8, p->metric.wall_s);
      ok = step_done (store, stmt, "cannot write step metrics", error);
    }
  /* A failed batch (say, a deleted run) is dropped, not retried forever. */
  g_array_set_size (store->pending_steps, 0);
  store->last_flush_us = g_get_monotonic_time ();
  return write_end (store, ok, error);
}

gboolean
vb_store_begin (VbStore  *store,
                GError  **error)
{
  if (store->explicit_tx)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': a transaction is already open", store->path);
      return FALSE;
    }
  if (!vb_store_flush (store, error) ||
      !exec (store, "BEGIN IMMEDIATE", "cannot start a transaction", error))
    return FALSE;
  store->explicit_tx = TRUE;
  return TRUE;
}

gboolean
vb_store_commit (VbStore  *store,
                 GError  **error)
{
  if (!store->explicit_tx)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': no transaction to commit", store->path);
      return FALSE;
    }
  if (!vb_store_flush (store, error) ||
      !exec (store, "COMMIT", "cannot commit", error))
    {
      /* Leave the connection usable: what could not be committed is lost. */
      sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      store->explicit_tx = FALSE;
      return FALSE;
    }
  store->explicit_tx = FALSE;
  return TRUE;
}

gboolean
vb_store_rollback (VbStore  *store,
                   GError  **error)
{
  if (!store->explicit_tx)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': no transaction to roll back", store->path);
      return FALSE;
    }
  g_array_set_size (store->pending_steps, 0);
  store->explicit_tx = FALSE;
  return exec (store, "ROLLBACK", "cannot roll back", error);
}

gboolean
vb_store_add_step_metric (VbStore             *store,
                          gint64               run_id,
                          const VbStepMetric  *metric,
                          GError             **error)
{
  PendingStep p = { run_id, *metric };

  g_array_append_val (store->pending_steps, p);
  if (store->pending_steps->len >= VB_STORE_STEP_BATCH ||
      g_get_monotonic_time () - store->last_flush_us >= STEP_FLUSH_INTERVAL_US)
    return vb_store_flush (store, error);
  return TRUE;
}

/* ---- runs --------------------------------------------------------------- */

char *
vb_store_make_group_id (const char *preset)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");

  return g_strdup_printf ("%s-%s-%04x", preset != NULL ? preset : "adhoc", stamp,
                          g_random_int () & 0xffff);
}

gboolean
vb_store_create_run (VbStore            *store,
                     const VbRunRecord  *fields,
                     gint64             *out_id,
                     GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = now_iso8601 ();
  g_autofree char *token = vb_store_process_token (getpid ());

  if (fields->name == NULL || *fields->name == '\0')
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': a run needs a name", store->path);
      return FALSE;
    }
  if (fields->status != VB_RUN_QUEUED && fields->status != VB_RUN_RUNNING)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': run '%s' must start queued or running, not %s",
                   store->path, fields->name, vb_run_status_to_string (fields->status));
      return FALSE;
    }
  if (!vb_store_flush (store, error))
    return FALSE;

  stmt = prepare (store,
                  "INSERT INTO runs (name, preset, group_id, status, config_json,"
                  " dataset_fingerprint, seed, software_version, device, hostname, pid,"
                  " process_token, created_at, started_at, params, macs, checkpoint_path)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, fields->name);
  bind_text (stmt, 2, fields->preset);
  bind_text (stmt, 3, fields->group_id);
  bind_text (stmt, 4, vb_run_status_to_string (fields->status));
  bind_text (stmt, 5, fields->config_json);
  bind_text (stmt, 6, fields->dataset_fingerprint);
  sqlite3_bind_int64 (stmt, 7, fields->seed);
  bind_text (stmt, 8, fields->software_version != NULL ? fields->software_version
                                                       : PACKAGE_VERSION);
  bind_text (stmt, 9, fields->device);
  bind_text (stmt, 10, g_get_host_name ());
  sqlite3_bind_int64 (stmt, 11, getpid ());
  bind_text (stmt, 12, token);
  bind_text (stmt, 13, now);
  bind_text (stmt, 14, fields->status == VB_RUN_RUNNING ? now : NULL);
  if (fields->params > 0)
    sqlite3_bind_int64 (stmt, 15, fields->params);
  if (fields->macs > 0)
    sqlite3_bind_int64 (stmt, 16, fields->macs);
  bind_text (stmt, 17, fields->checkpoint_path);

  if (!step_done (store, stmt, "cannot create a run", error))
    return FALSE;
  if (out_id != NULL)
    *out_id = sqlite3_last_insert_rowid (store->db);
  return TRUE;
}

static gboolean
transition_allowed (VbRunStatus from,
                    VbRunStatus to)
{
  switch (from)
    {
    case VB_RUN_QUEUED:
      return to == VB_RUN_RUNNING || to == VB_RUN_FAILED || to == VB_RUN_CANCELLED;
    case VB_RUN_RUNNING:
      return to == VB_RUN_DONE || to == VB_RUN_FAILED || to == VB_RUN_CANCELLED ||
             to == VB_RUN_INTERRUPTED;
    case VB_RUN_FAILED:
    case VB_RUN_CANCELLED:
    case VB_RUN_INTERRUPTED:
      return to == VB_RUN_QUEUED || to == VB_RUN_RUNNING;
    case VB_RUN_DONE:
    case VB_RUN_ANY:
    default:
      return FALSE;
    }
}

gboolean
vb_store_set_status (VbStore      *store,
                     gint64        run_id,
                     VbRunStatus   status,
                     const char   *error_message,
                     GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = now_iso8601 ();
  VbRunStatus from;
  gboolean ok;

  if (!vb_store_flush (store, error) || !write_begin (store, error))
    return FALSE;

  ok = check_run_exists (store, run_id, &from, error);
  if (ok && !transition_allowed (from, status))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': run %" G_GINT64_FORMAT " cannot go from %s to %s",
                   store->path, run_id, vb_run_status_to_string (from),
                   vb_run_status_to_string (status));
      ok = FALSE;
    }

  if (ok && status == VB_RUN_RUNNING)
    {
      g_autofree char *token = vb_store_process_token (getpid ());

      /* This process now owns the run: recovery checks this pid and token. */
      stmt = prepare (store, "UPDATE runs SET status = 'running', started_at = ?,"
                             " finished_at = NULL, error_message = NULL, hostname = ?,"
                             " pid = ?, process_token = ? WHERE id = ?", error);
      ok = stmt != NULL;
      if (ok)
        {
          bind_text (stmt, 1, now);
          bind_text (stmt, 2, g_get_host_name ());
          sqlite3_bind_int64 (stmt, 3, getpid ());
          bind_text (stmt, 4, token);
          sqlite3_bind_int64 (stmt, 5, run_id);
        }
    }
  else if (ok && status == VB_RUN_QUEUED)
    {
      stmt = prepare (store, "UPDATE runs SET status = 'queued', started_at = NULL,"
                             " finished_at = NULL, error_message = ? WHERE id = ?", error);
      ok = stmt != NULL;
      if (ok)
        {
          bind_text (stmt, 1, error_message);
          sqlite3_bind_int64 (stmt, 2, run_id);
        }
    }
  else if (ok)
    {
      stmt = prepare (store, "UPDATE runs SET status = ?, finished_at = ?, error_message = ?"
                             " WHERE id = ?", error);
      ok = stmt != NULL;
      if (ok)
        {
          bind_text (stmt, 1, vb_run_status_to_string (status));
          bind_text (stmt, 2, now);
          bind_text (stmt, 3, error_message);
          sqlite3_bind_int64 (stmt, 4, run_id);
        }
    }

  if (ok)
    ok = step_done (store, stmt, "cannot change a run's status", error);
  return write_end (store, ok, error);
}

/* Flushes, checks that the run exists (INVALID otherwise, rather than a silent
 * no-op UPDATE) and prepares @sql for the caller to bind and run. */
static gboolean
update_run (VbStore      *store,
            gint64        run_id,
            const char   *sql,
            sqlite3_stmt **out_stmt,
            GError      **error)
{
  if (!vb_store_flush (store, error) || !check_run_exists (store, run_id, NULL, error))
    return FALSE;
  *out_stmt = prepare (store, sql, error);
  return *out_stmt != NULL;
}

gboolean
vb_store_set_checkpoint (VbStore     *store,
                         gint64       run_id,
                         const char  *checkpoint_path,
                         GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!update_run (store, run_id, "UPDATE runs SET checkpoint_path = ? WHERE id = ?",
                   &stmt, error))
    return FALSE;
  bind_text (stmt, 1, checkpoint_path);
  sqlite3_bind_int64 (stmt, 2, run_id);
  return step_done (store, stmt, "cannot set the checkpoint path", error);
}

gboolean
vb_store_set_run_stats (VbStore  *store,
                        gint64    run_id,
                        gint64    params,
                        gint64    macs,
                        GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!update_run (store, run_id, "UPDATE runs SET params = ?, macs = ? WHERE id = ?",
                   &stmt, error))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, params);
  sqlite3_bind_int64 (stmt, 2, macs);
  sqlite3_bind_int64 (stmt, 3, run_id);
  return step_done (store, stmt, "cannot set the run statistics", error);
}

gboolean
vb_store_set_dataset_fingerprint (VbStore     *store,
                                  gint64       run_id,
                                  const char  *fingerprint,
                                  GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!update_run (store, run_id, "UPDATE runs SET dataset_fingerprint = ? WHERE id = ?",
                   &stmt, error))
    return FALSE;
  bind_text (stmt, 1, fingerprint);
  sqlite3_bind_int64 (stmt, 2, run_id);
  return step_done (store, stmt, "cannot set the dataset fingerprint", error);
}

gboolean
vb_store_delete_run (VbStore  *store,
                     gint64    run_id,
                     GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* Metrics go with it: ON DELETE CASCADE. */
  if (!update_run (store, run_id, "DELETE FROM runs WHERE id = ?", &stmt, error))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, run_id);
  return step_done (store, stmt, "cannot delete a run", error);
}

/* ---- metrics, throughput, artifacts ----------------------------------- */

gboolean
vb_store_truncate_metrics (VbStore  *store,
                           gint64    run_id,
                           gint64    step,
                           int       epoch,
                           GError  **error)
{
  if (!vb_store_flush (store, error))
    return FALSE;
  g_autoptr(sqlite3_stmt) steps =
    prepare (store, "DELETE FROM step_metrics WHERE run_id = ? AND step > ?", error);
  if (steps == NULL)
    return FALSE;
  sqlite3_bind_int64 (steps, 1, run_id);
  sqlite3_bind_int64 (steps, 2, step);
  if (!step_done (store, steps, "cannot drop step metrics", error))
    return FALSE;
  g_autoptr(sqlite3_stmt) epochs =
    prepare (store, "DELETE FROM epoch_metrics WHERE run_id = ? AND epoch > ?", error);
  if (epochs == NULL)
    return FALSE;
  sqlite3_bind_int64 (epochs, 1, run_id);
  sqlite3_bind_int (epochs, 2, epoch);
  return step_done (store, epochs, "cannot drop epoch metrics", error);
}

gboolean
vb_store_add_epoch_metric (VbStore              *store,
                           gint64                run_id,
                           const VbEpochMetric  *m,
                           GError              **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!vb_store_flush (store, error))
    return FALSE;
  stmt = prepare (store, "INSERT INTO epoch_metrics (run_id, epoch, train_loss, train_top1,"
                         " val_loss, val_top1, val_top5, img_per_s_train, img_per_s_eval,"
                         " wall_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, run_id);
  sqlite3_bind_int (stmt, 2, m->epoch);
  bind_real (stmt, 3, m->train_loss);
  bind_real (stmt, 4, m->train_top1);
  bind_real (stmt, 5, m->val_loss);
  bind_real (stmt, 6, m->val_top1);
  bind_real (stmt, 7, m->val_top5);
  bind_real (stmt, 8, m->img_per_s_train);
  bind_real (stmt, 9, m->img_per_s_eval);
  bind_real (stmt, 10, m->wall_s);
  return step_done (store, stmt, "cannot write epoch metrics", error);
}

static gboolean
insert_throughput (VbStore     *store,
                   gint64       run_id,
                   const char  *kind,
                   double       img_per_s,
                   const char  *protocol_json,
                   GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    prepare (store, "INSERT INTO throughput (run_id, kind, img_per_s, protocol_json)"
                    " VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, run_id);
  bind_text (stmt, 2, kind != NULL ? kind : "train");
  bind_real (stmt, 3, img_per_s);
  bind_text (stmt, 4, protocol_json);
  return step_done (store, stmt, "cannot write a throughput figure", error);
}

gboolean
vb_store_add_throughput (VbStore     *store,
                         gint64       run_id,
                         const char  *kind,
                         double       img_per_s,
                         const char  *protocol_json,
                         GError     **error)
{
  return vb_store_flush (store, error)
         && insert_throughput (store, run_id, kind, img_per_s, protocol_json, error);
}

/* the old figure goes and the new one comes in one transaction: a failed write keeps the
 * old one */
gboolean
vb_store_set_throughput (VbStore     *store,
                         gint64       run_id,
                         const char  *kind,
                         double       img_per_s,
                         const char  *protocol_json,
                         GError     **error)
{
  if (!vb_store_flush (store, error) || !write_begin (store, error))
    return FALSE;
  g_autoptr(sqlite3_stmt) stmt =
    prepare (store, "DELETE FROM throughput WHERE run_id = ? AND kind = ?", error);
  gboolean ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, run_id);
      bind_text (stmt, 2, kind != NULL ? kind : "train");
      ok = step_done (store, stmt, "cannot replace a throughput figure", error)
           && insert_throughput (store, run_id, kind, img_per_s, protocol_json, error);
    }
  return write_end (store, ok, error);
}

gboolean
vb_store_add_artifact (VbStore     *store,
                       gint64       run_id,
                       const char  *kind,
                       const char  *path,
                       GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = now_iso8601 ();

  if (kind == NULL || path == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Results database '%s': an artifact needs a kind and a path", store->path);
      return FALSE;
    }
  if (!vb_store_flush (store, error))
    return FALSE;
  stmt = prepare (store, "INSERT INTO artifacts (run_id, kind, path, created_at)"
                         " VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, run_id);
  bind_text (stmt, 2, kind);
  bind_text (stmt, 3, path);
  bind_text (stmt, 4, now);
  return step_done (store, stmt, "cannot record an artifact", error);
}

/* ---- queries ------------------------------------------------------------- */

static VbRunRecord *
run_from_row (sqlite3_stmt *stmt)
{
  VbRunRecord *r = g_new0 (VbRunRecord, 1);
  VbRunStatus status = VB_RUN_QUEUED;

  r->id = sqlite3_column_int64 (stmt, 0);
  r->name = column_text (stmt, 1);
  r->preset = column_text (stmt, 2);
  r->group_id = column_text (stmt, 3);
  /* The CHECK constraint keeps the status to known names. */
  vb_run_status_from_string ((const char *) sqlite3_column_text (stmt, 4), &status);
  r->status = status;
  r->config_json = column_text (stmt, 5);
  r->dataset_fingerprint = column_text (stmt, 6);
  r->seed = sqlite3_column_int64 (stmt, 7);
  r->software_version = column_text (stmt, 8);
  r->device = column_text (stmt, 9);
  r->hostname = column_text (stmt, 10);
  r->pid = sqlite3_column_int64 (stmt, 11);
  r->process_token = column_text (stmt, 12);
  r->created_at = column_text (stmt, 13);
  r->started_at = column_text (stmt, 14);
  r->finished_at = column_text (stmt, 15);
  r->error_message = column_text (stmt, 16);
  r->params = sqlite3_column_int64 (stmt, 17);
  r->macs = sqlite3_column_int64 (stmt, 18);
  r->checkpoint_path = column_text (stmt, 19);
  return r;
}

static GPtrArray *
collect_runs (VbStore       *store,
              sqlite3_stmt  *stmt,
              GError       **error)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_run_record_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (runs, run_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot list runs");
      return NULL;
    }
  return g_steal_pointer (&runs);
}

GPtrArray *
vb_store_list_runs (VbStore      *store,
                    VbRunStatus   status,
                    const char   *group_id,
                    guint         limit,
                    GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* NULL parameters match everything: one statement serves every filter. */
  stmt = prepare (store, "SELECT " RUN_COLUMNS " FROM runs"
                         " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR group_id = ?2)"
                         " ORDER BY id DESC LIMIT ?3", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, status == VB_RUN_ANY ? NULL : vb_run_status_to_string (status));
  bind_text (stmt, 2, group_id);
  sqlite3_bind_int64 (stmt, 3, limit > 0 ? (gint64) limit : -1);
  return collect_runs (store, stmt, error);
}

VbRunRecord *
vb_store_get_run (VbStore  *store,
                  gint64    run_id,
                  GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = prepare (store, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, run_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return run_from_row (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                 "Results database '%s' has no run %" G_GINT64_FORMAT, store->path, run_id);
  else
    vb_store_set_sqlite_error (error, store->db, store->path, "cannot read a run");
  return NULL;
}

GPtrArray *
vb_store_last_group_runs (VbStore  *store,
                          GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare (store, "SELECT " RUN_COLUMNS " FROM runs WHERE group_id = "
                         " (SELECT group_id FROM runs WHERE group_id IS NOT NULL"
                         "  ORDER BY id DESC LIMIT 1)"
                         " ORDER BY id ASC", error);
  if (stmt == NULL)
    return NULL;
  return collect_runs (store, stmt, error);
}

GArray *
vb_store_get_epoch_metrics (VbStore  *store,
                            gint64    run_id,
                            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) out = g_array_new (FALSE, TRUE, sizeof (VbEpochMetric));
  int rc;

  stmt = prepare (store, "SELECT epoch, train_loss, train_top1, val_loss, val_top1, val_top5,"
                         " img_per_s_train, img_per_s_eval, wall_s FROM epoch_metrics"
                         " WHERE run_id = ? ORDER BY epoch, rowid", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, run_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      VbEpochMetric m = {
        .epoch = sqlite3_column_int (stmt, 0),
        .train_loss = column_real (stmt, 1),
        .train_top1 = column_real (stmt, 2),
        .val_loss = column_real (stmt, 3),
        .val_top1 = column_real (stmt, 4),
        .val_top5 = column_real (stmt, 5),
        .img_per_s_train = column_real (stmt, 6),
        .img_per_s_eval = column_real (stmt, 7),
        .wall_s = column_real (stmt, 8),
      };
      g_array_append_val (out, m);
    }
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot read epoch metrics");
      return NULL;
    }
  return g_steal_pointer (&out);
}

GArray *
vb_store_get_step_metrics (VbStore  *store,
                           gint64    run_id,
                           GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) out = g_array_new (FALSE, TRUE, sizeof (VbStepMetric));
  int rc;

  if (!vb_store_flush (store, error))
    return NULL;
  stmt = prepare (store, "SELECT step, epoch, loss, lr, grad_norm, img_per_s, wall_s"
                         " FROM step_metrics WHERE run_id = ? ORDER BY step, rowid", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, run_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      VbStepMetric m = {
        .step = sqlite3_column_int64 (stmt, 0),
        .epoch = column_real (stmt, 1),
        .loss = column_real (stmt, 2),
        .lr = column_real (stmt, 3),
        .grad_norm = column_real (stmt, 4),
        .img_per_s = column_real (stmt, 5),
        .wall_s = column_real (stmt, 6),
      };
      g_array_append_val (out, m);
    }
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot read step metrics");
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
vb_store_get_throughput (VbStore  *store,
                         gint64    run_id,
                         GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) vb_throughput_record_free);
  int rc;

  stmt = prepare (store, "SELECT id, run_id, kind, img_per_s, protocol_json FROM throughput"
                         " WHERE run_id = ? ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, run_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      VbThroughputRecord *t = g_new0 (VbThroughputRecord, 1);

      t->id = sqlite3_column_int64 (stmt, 0);
      t->run_id = sqlite3_column_int64 (stmt, 1);
      t->kind = column_text (stmt, 2);
      t->img_per_s = column_real (stmt, 3);
      t->protocol_json = column_text (stmt, 4);
      g_ptr_array_add (out, t);
    }
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot read throughput");
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
vb_store_get_artifacts (VbStore  *store,
                        gint64    run_id,
                        GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) vb_artifact_record_free);
  int rc;

  stmt = prepare (store, "SELECT id, run_id, kind, path, created_at FROM artifacts"
                         " WHERE run_id = ? ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, run_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      VbArtifactRecord *a = g_new0 (VbArtifactRecord, 1);

      a->id = sqlite3_column_int64 (stmt, 0);
      a->run_id = sqlite3_column_int64 (stmt, 1);
      a->kind = column_text (stmt, 2);
      a->path = column_text (stmt, 3);
      a->created_at = column_text (stmt, 4);
      g_ptr_array_add (out, a);
    }
  if (rc != SQLITE_DONE)
    {
      vb_store_set_sqlite_error (error, store->db, store->path, "cannot read artifacts");
      return NULL;
    }
  return g_steal_pointer (&out);
}
