/* vb-store-schema.c: the results database schema and its migrations.
 *
 * Each entry of `migrations` takes the schema from version i to i + 1; it runs in one
 * transaction together with the PRAGMA user_version bump, so a crash mid-migration
 * leaves the old version intact. Append new steps; never edit a shipped one. */

#include "config.h"

#include "vb-store-private.h"
#include "vb-error.h"

static const char *const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  preset TEXT,"
  "  group_id TEXT,"
  "  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN"
  "    ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),"
  "  config_json TEXT,"
  "  dataset_fingerprint TEXT,"
  "  seed INTEGER,"
  "  software_version TEXT,"
  "  device TEXT,"
  "  hostname TEXT,"
  "  pid INTEGER,"
  "  process_token TEXT,"
  "  created_at TEXT NOT NULL,"
  "  started_at TEXT,"
  "  finished_at TEXT,"
  "  error_message TEXT,"
  "  params INTEGER,"
  "  macs INTEGER,"
  "  checkpoint_path TEXT"
  ");"
  "CREATE INDEX runs_group ON runs (group_id);"
  "CREATE INDEX runs_status ON runs (status);"
  "CREATE TABLE step_metrics ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  step INTEGER NOT NULL,"
  "  epoch REAL,"
  "  loss REAL,"
  "  lr REAL,"
  "  grad_norm REAL,"
  "  img_per_s REAL,"
  "  wall_s REAL"
  ");"
  "CREATE INDEX step_metrics_run ON step_metrics (run_id, step);"
  "CREATE TABLE epoch_metrics ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  epoch INTEGER NOT NULL,"
  "  train_loss REAL,"
  "  train_top1 REAL,"
  "  val_loss REAL,"
  "  val_top1 REAL,"
  "  val_top5 REAL,"
  "  img_per_s_train REAL,"
  "  img_per_s_eval REAL,"
  "  wall_s REAL"
  ");"
  "CREATE INDEX epoch_metrics_run ON epoch_metrics (run_id, epoch);"
  "CREATE TABLE throughput ("
  "  id INTEGER PRIMARY KEY,"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  kind TEXT NOT NULL,"
  "  img_per_s REAL,"
  "  protocol_json TEXT"
  ");"
  "CREATE INDEX throughput_run ON throughput (run_id);"
  "CREATE TABLE artifacts ("
  "  id INTEGER PRIMARY KEY,"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  kind TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  created_at TEXT NOT NULL"
  ");"
  "CREATE INDEX artifacts_run ON artifacts (run_id);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == VB_STORE_SCHEMA_VERSION);

void
vb_store_set_sqlite_error (GError     **error,
                           sqlite3     *db,
                           const char  *path,
                           const char  *what)
{
  int code = db != NULL ? sqlite3_errcode (db) : SQLITE_ERROR;
  const char *msg = db != NULL ? sqlite3_errmsg (db) : "out of memory";

  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE,
                 "Results database '%s' is damaged or not a SQLite database (%s): %s",
                 path, what, msg);
  else
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE,
                 "Results database '%s': %s: %s", path, what, msg);
}

static gboolean
read_user_version (sqlite3     *db,
                   const char  *path,
                   int         *out,
                   GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
    {
      vb_store_set_sqlite_error (error, db, path, "cannot read the schema version");
      return FALSE;
    }
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      vb_store_set_sqlite_error (error, db, path, "cannot read the schema version");
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *out = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

gboolean
vb_store_schema_migrate (sqlite3     *db,
                         const char  *path,
                         GError     **error)
{
  int version;

  if (!read_user_version (db, path, &version, error))
    return FALSE;

  if (version > VB_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE,
                   "Results database '%s' has schema version %d, newer than this "
                   "VisionBench understands (%d)", path, version, VB_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  while (version < VB_STORE_SCHEMA_VERSION)
    {
      g_autofree char *sql = NULL;
      char *errmsg = NULL;

      /* IMMEDIATE: two processes opening a fresh file must not both migrate. */
      if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        {
          vb_store_set_sqlite_error (error, db, path, "cannot start the schema upgrade");
          return FALSE;
        }
      /* Re-read inside the lock: another process may have migrated meanwhile. */
      if (!read_user_version (db, path, &version, error))
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (version >= VB_STORE_SCHEMA_VERSION)
        {
          sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
          break;
        }

      sql = g_strdup_printf ("%s; PRAGMA user_version = %d;", migrations[version], version + 1);
      if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE,
                       "Results database '%s': schema upgrade %d → %d failed: %s",
                       path, version, version + 1, errmsg != NULL ? errmsg : "unknown error");
          sqlite3_free (errmsg);
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        {
          vb_store_set_sqlite_error (error, db, path, "cannot commit the schema upgrade");
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      version++;
    }

  return TRUE;
}
