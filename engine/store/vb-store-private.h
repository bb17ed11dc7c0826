/* vb-store-private.h: helpers shared by the vb-store*.c files; not installed, not
 * for use outside engine/store. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The schema version this build writes (PRAGMA user_version). */
#define VB_STORE_SCHEMA_VERSION 1

/* Brings the schema at @db up to VB_STORE_SCHEMA_VERSION, one transaction per step.
 * @path names the file in errors. */
gboolean vb_store_schema_migrate (sqlite3     *db,
                                  const char  *path,
                                  GError     **error);

/* Sets @error from the connection's last error: "<path>: <what>: <sqlite message>". */
void     vb_store_set_sqlite_error (GError     **error,
                                    sqlite3     *db,
                                    const char  *path,
                                    const char  *what);

/* "boot-id:start-ticks" for @pid, or NULL where /proc cannot tell (other OS, gone). */
char    *vb_store_process_token  (gint64       pid);

typedef enum {
  VB_PROCESS_ALIVE,
  VB_PROCESS_GONE,
  VB_PROCESS_UNKNOWN,
} VbProcessState;

/* Whether the process that wrote (@pid, @token) on this host still runs. A live pid
 * with a different start token is a reused pid: GONE. */
VbProcessState vb_store_process_state (gint64      pid,
                                       const char *token);

/* sqlite3_finalize (NULL) is a no-op, which is what autoptr wants. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
