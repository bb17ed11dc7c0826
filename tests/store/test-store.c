/* test-store.c: the results database — schema, run life cycle, metrics, queries,
 * recovery of dead runs, and a process killed mid-write. */

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vb-error.h"
#include "vb-store.h"

/* ---- helpers ---------------------------------------------------------- */

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
    }
  g_remove (path);
}

typedef struct {
  char *dir;
  char *db_path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  /* tmpfs when there is one: these tests check logic and safety against a killed
   * process (which the page cache gives on any file system), not power loss, and a
   * busy disk's fsync would make them crawl. */
  const char *base = access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir ();

  f->dir = g_build_filename (base, "vb-store-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (f->dir));
  f->db_path = g_build_filename (f->dir, "runs.db", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db_path);
}

/* A raw connection, to look behind the API's back. */
static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static char *
raw_text (sqlite3    *db,
          const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *out = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    out = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return out;
}

static void
raw_exec (sqlite3    *db,
          const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

static gint64
create_run (VbStore     *store,
            const char  *name,
            const char  *group,
            VbRunStatus  status)
{
  g_autoptr(GError) error = NULL;
  VbRunRecord fields = {
    .name = (char *) name,
    .preset = (char *) "test-preset",
    .group_id = (char *) group,
    .status = status,
    .config_json = (char *) "{\"model\": {\"scan\": \"4dir\"}}",
    .seed = 42,
    .device = (char *) "cpu",
  };
  gint64 id = -1;

  g_assert_true (vb_store_create_run (store, &fields, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static VbRunStatus
run_status (VbStore *store,
            gint64   id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbRunRecord) run = vb_store_get_run (store, id, &error);

  g_assert_no_error (error);
  return run->status;
}

/* ---- schema ------------------------------------------------------------ */

static void
test_schema (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *nested = g_build_filename (f->dir, "a", "b", "runs.db", NULL);
  g_autofree char *mode = NULL;
  g_autofree char *version = NULL;
  g_autofree char *tables = NULL;
  g_autofree char *fk = NULL;
  VbStore *store;
  sqlite3 *db;

  /* Parent folders are created. */
  store = vb_store_open (nested, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpstr (vb_store_get_path (store), ==, nested);
  g_assert_cmpuint (vb_store_get_n_recovered (store), ==, 0);
  vb_store_close (store);
  g_assert_true (g_file_test (nested, G_FILE_TEST_IS_REGULAR));

  db = raw_open (nested);
  mode = raw_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  version = raw_text (db, "PRAGMA user_version");
  g_assert_cmpstr (version, ==, "1");
  tables = raw_text (db, "SELECT group_concat (name, ',') FROM (SELECT name FROM sqlite_master"
                         " WHERE type = 'table' ORDER BY name)");
  g_assert_cmpstr (tables, ==, "artifacts,epoch_metrics,runs,step_metrics,throughput");
  /* The CHECK constraint refuses unknown statuses. */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO runs (name, status, created_at)"
                                     " VALUES ('x', 'bogus', 'now')", NULL, NULL, NULL),
                   ==, SQLITE_CONSTRAINT);
  sqlite3_close (db);

  /* Reopening an up-to-date file changes nothing; foreign keys are on. */
  store = vb_store_open (nested, &error);
  g_assert_no_error (error);
  {
    VbStepMetric m = { .step = 0, .loss = 1.0 };

    /* A metric for a run that does not exist is refused (at flush time). */
    g_assert_true (vb_store_add_step_metric (store, 999, &m, &error) == FALSE ||
                   vb_store_flush (store, &error) == FALSE);
    g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
    g_assert_nonnull (strstr (error->message, "FOREIGN KEY"));
    g_clear_error (&error);
  }
  vb_store_close (store);

  /* A file from a newer VisionBench is refused, not downgraded. */
  db = raw_open (nested);
  raw_exec (db, "PRAGMA user_version = 99");
  fk = raw_text (db, "PRAGMA user_version");
  g_assert_cmpstr (fk, ==, "99");
  sqlite3_close (db);
  store = vb_store_open (nested, &error);
  g_assert_null (store);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, nested));
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_memory (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbStore) store = vb_store_open (":memory:", &error);
  g_autoptr(GPtrArray) runs = NULL;

  g_assert_no_error (error);
  create_run (store, "a", NULL, VB_RUN_QUEUED);
  runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 1);
}

static void
test_default_path (void)
{
  g_autofree char *path = vb_store_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "visionbench",
                                                "runs.db", NULL);

  g_assert_cmpstr (path, ==, expected);
}

/* ---- run life cycle ------------------------------------------------------- */

static void
test_lifecycle (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbStore) store = vb_store_open (f->db_path, &error);
  g_autoptr(VbRunRecord) run = NULL;
  g_autofree char *started = NULL;
  gint64 id, id2;
  VbRunRecord bad = { .name = (char *) "x", .status = VB_RUN_DONE };
  VbRunRecord nameless = { .status = VB_RUN_QUEUED };

  g_assert_no_error (error);
  id = create_run (store, "run-a", "g1", VB_RUN_QUEUED);

  run = vb_store_get_run (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->id, ==, id);
  g_assert_cmpstr (run->name, ==, "run-a");
  g_assert_cmpstr (run->preset, ==, "test-preset");
  g_assert_cmpstr (run->group_id, ==, "g1");
  g_assert_cmpint (run->status, ==, VB_RUN_QUEUED);
  g_assert_cmpstr (run->config_json, ==, "{\"model\": {\"scan\": \"4dir\"}}");
  g_assert_cmpint (run->seed, ==, 42);
  g_assert_cmpstr (run->software_version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (run->device, ==, "cpu");
  g_assert_cmpstr (run->hostname, ==, g_get_host_name ());
  g_assert_cmpint (run->pid, ==, getpid ());
  g_assert_nonnull (run->created_at);
  g_assert_true (g_str_has_suffix (run->created_at, "Z"));
  g_assert_null (run->started_at);
  g_assert_null (run->finished_at);
  g_assert_null (run->checkpoint_path);
  g_clear_pointer (&run, vb_run_record_free);

  /* queued → running sets started_at. */
  g_assert_true (vb_store_set_status (store, id, VB_RUN_RUNNING, NULL, &error));
  g_assert_no_error (error);
  run = vb_store_get_run (store, id, &error);
  g_assert_cmpint (run->status, ==, VB_RUN_RUNNING);
  g_assert_nonnull (run->started_at);
  g_assert_null (run->finished_at);
  g_assert_nonnull (run->process_token);
  started = g_strdup (run->started_at);
  g_clear_pointer (&run, vb_run_record_free);

  /* running → queued is not a transition. */
  g_assert_false (vb_store_set_status (store, id, VB_RUN_QUEUED, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "from running to queued"));
  g_clear_error (&error);

  g_assert_true (vb_store_set_checkpoint (store, id, "/tmp/ck.vbck", &error));
  g_assert_true (vb_store_set_run_stats (store, id, 123456, 7890123, &error));
  g_assert_true (vb_store_set_dataset_fingerprint (store, id, "sha256:abc", &error));
  g_assert_no_error (error);

  /* running → done sets finished_at; done is final. */
  g_assert_true (vb_store_set_status (store, id, VB_RUN_DONE, NULL, &error));
  g_assert_no_error (error);
  run = vb_store_get_run (store, id, &error);
  g_assert_cmpint (run->status, ==, VB_RUN_DONE);
  g_assert_cmpstr (run->started_at, ==, started);
  g_assert_nonnull (run->finished_at);
  g_assert_cmpstr (run->finished_at, >=, run->started_at);
  g_assert_cmpstr (run->checkpoint_path, ==, "/tmp/ck.vbck");
  g_assert_cmpint (run->params, ==, 123456);
  g_assert_cmpint (run->macs, ==, 7890123);
  g_assert_cmpstr (run->dataset_fingerprint, ==, "sha256:abc");
  g_clear_pointer (&run, vb_run_record_free);
  g_assert_false (vb_store_set_status (store, id, VB_RUN_RUNNING, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (run_status (store, id), ==, VB_RUN_DONE);

  /* failed keeps its message; a retry (→ queued) clears it. */
  id2 = create_run (store, "run-b", "g1", VB_RUN_RUNNING);
  run = vb_store_get_run (store, id2, &error);
  g_assert_cmpint (run->status, ==, VB_RUN_RUNNING);
  g_assert_nonnull (run->started_at);
  g_clear_pointer (&run, vb_run_record_free);
  g_assert_true (vb_store_set_status (store, id2, VB_RUN_FAILED, "loss is NaN at step 12", &error));
  run = vb_store_get_run (store, id2, &error);
  g_assert_cmpint (run->status, ==, VB_RUN_FAILED);
  g_assert_cmpstr (run->error_message, ==, "loss is NaN at step 12");
  g_assert_nonnull (run->finished_at);
  g_clear_pointer (&run, vb_run_record_free);
  g_assert_true (vb_store_set_status (store, id2, VB_RUN_QUEUED, NULL, &error));
  run = vb_store_get_run (store, id2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->status, ==, VB_RUN_QUEUED);
  g_assert_null (run->error_message);
  g_assert_null (run->finished_at);
  g_clear_pointer (&run, vb_run_record_free);
  g_assert_true (vb_store_set_status (store, id2, VB_RUN_CANCELLED, NULL, &error));
  g_assert_cmpint (run_status (store, id2), ==, VB_RUN_CANCELLED);

  /* Unknown runs and bad records. */
  g_assert_false (vb_store_set_status (store, 4242, VB_RUN_RUNNING, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "4242"));
  g_clear_error (&error);
  g_assert_null (vb_store_get_run (store, 4242, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vb_store_set_checkpoint (store, 4242, "x", &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vb_store_create_run (store, &bad, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vb_store_create_run (store, &nameless, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  /* Status names round-trip. */
  for (int s = VB_RUN_QUEUED; s <= VB_RUN_INTERRUPTED; s++)
    {
      VbRunStatus back = VB_RUN_ANY;

      g_assert_true (vb_run_status_from_string (vb_run_status_to_string (s), &back));
      g_assert_cmpint (back, ==, s);
    }
  {
    VbRunStatus untouched = VB_RUN_DONE;

    g_assert_false (vb_run_status_from_string ("finished", &untouched));
    g_assert_cmpint (untouched, ==, VB_RUN_DONE);
  }
}

/* ---- metrics ------------------------------------------------------------- */

static void
test_metrics (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbStore) store = vb_store_open (f->db_path, &error);
  g_autoptr(GArray) steps = NULL;
  g_autoptr(GArray) epochs = NULL;
  g_autoptr(GPtrArray) tput = NULL;
  g_autoptr(GPtrArray) artifacts = NULL;
  const guint n_steps = 1000;
  gint64 id, other;
  sqlite3 *db;
  g_autofree char *count = NULL;

  g_assert_no_error (error);
  id = create_run (store, "m", NULL, VB_RUN_RUNNING);
  other = create_run (store, "other", NULL, VB_RUN_RUNNING);

  for (guint i = 0; i < n_steps; i++)
    {
      VbStepMetric m = {
        .step = i,
        .epoch = i / 100.0,
        .loss = 2.5 - i * 0.001,
        .lr = 1e-3,
        .grad_norm = (i % 10 == 0) ? NAN : 0.5 + i,
        .img_per_s = 300.0,
        .wall_s = i * 0.01,
      };

      g_assert_true (vb_store_add_step_metric (store, id, &m, &error));
      g_assert_no_error (error);
    }
  {
    VbStepMetric m = { .step = 0, .loss = 9.0, .epoch = NAN, .lr = NAN, .grad_norm = NAN,
                       .img_per_s = NAN, .wall_s = NAN };
    g_assert_true (vb_store_add_step_metric (store, other, &m, &error));
  }

  steps = vb_store_get_step_metrics (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, n_steps);
  for (guint i = 0; i < n_steps; i++)
    {
      const VbStepMetric *m = &g_array_index (steps, VbStepMetric, i);

      g_assert_cmpint (m->step, ==, i);
      g_assert_cmpfloat (m->epoch, ==, i / 100.0);
      g_assert_cmpfloat (m->loss, ==, 2.5 - i * 0.001);
      g_assert_cmpfloat (m->lr, ==, 1e-3);
      if (i % 10 == 0)
        g_assert_true (isnan (m->grad_norm));
      else
        g_assert_cmpfloat (m->grad_norm, ==, 0.5 + i);
      g_assert_cmpfloat (m->wall_s, ==, i * 0.01);
    }
  g_clear_pointer (&steps, g_array_unref);
  steps = vb_store_get_step_metrics (store, other, &error);
  g_assert_cmpuint (steps->len, ==, 1);
  g_assert_cmpfloat (g_array_index (steps, VbStepMetric, 0).loss, ==, 9.0);
  g_assert_true (isnan (g_array_index (steps, VbStepMetric, 0).lr));

  for (int e = 2; e >= 0; e--)   /* out of order on purpose: reads sort by epoch */
    {
      VbEpochMetric m = {
        .epoch = e, .train_loss = 2.0 - e, .train_top1 = 0.3 + e * 0.1, .val_loss = 1.9 - e,
        .val_top1 = 0.35 + e * 0.1, .val_top5 = NAN, .img_per_s_train = 310.5,
        .img_per_s_eval = 900.25, .wall_s = 10.0 * (e + 1),
      };

      g_assert_true (vb_store_add_epoch_metric (store, id, &m, &error));
      g_assert_no_error (error);
    }
  epochs = vb_store_get_epoch_metrics (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epochs->len, ==, 3);
  for (int e = 0; e < 3; e++)
    {
      const VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, e);

      g_assert_cmpint (m->epoch, ==, e);
      g_assert_cmpfloat (m->train_loss, ==, 2.0 - e);
      g_assert_cmpfloat (m->val_top1, ==, 0.35 + e * 0.1);
      g_assert_true (isnan (m->val_top5));
      g_assert_cmpfloat (m->img_per_s_eval, ==, 900.25);
      g_assert_cmpfloat (m->wall_s, ==, 10.0 * (e + 1));
    }

  g_assert_true (vb_store_add_throughput (store, id, "train", 312.5,
                                          "{\"batch\": 64, \"precision\": \"fp32\"}", &error));
  g_assert_true (vb_store_add_throughput (store, id, "eval", 1024.0, NULL, &error));
  g_assert_no_error (error);
  tput = vb_store_get_throughput (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tput->len, ==, 2);
  {
    VbThroughputRecord *t0 = g_ptr_array_index (tput, 0);
    VbThroughputRecord *t1 = g_ptr_array_index (tput, 1);

    g_assert_cmpint (t0->run_id, ==, id);
    g_assert_cmpstr (t0->kind, ==, "train");
    g_assert_cmpfloat (t0->img_per_s, ==, 312.5);
    g_assert_cmpstr (t0->protocol_json, ==, "{\"batch\": 64, \"precision\": \"fp32\"}");
    g_assert_cmpstr (t1->kind, ==, "eval");
    g_assert_null (t1->protocol_json);
  }
  /* a figure updated as the run goes (a data-parallel run's "train gpu R"): replaced, the
   * others kept */
  g_clear_pointer (&tput, g_ptr_array_unref);
  g_assert_true (vb_store_set_throughput (store, id, "train gpu 1", 100.0, "{}", &error));
  g_assert_true (vb_store_set_throughput (store, id, "train gpu 1", 150.0, "{\"rank\": 1}",
                                          &error));
  g_assert_no_error (error);
  tput = vb_store_get_throughput (store, id, &error);
  g_assert_cmpuint (tput->len, ==, 3);
  {
    VbThroughputRecord *t2 = g_ptr_array_index (tput, 2);
    g_assert_cmpstr (t2->kind, ==, "train gpu 1");
    g_assert_cmpfloat (t2->img_per_s, ==, 150.0);
    g_assert_cmpstr (t2->protocol_json, ==, "{\"rank\": 1}");
  }
  /* a replacement whose write fails keeps the old figure (a trigger refuses the insert) */
  {
    sqlite3 *raw = raw_open (f->db_path);
    raw_exec (raw, "CREATE TRIGGER refuse BEFORE INSERT ON throughput WHEN NEW.img_per_s < 0"
                  " BEGIN SELECT RAISE(ABORT, 'refused'); END");
    sqlite3_close (raw);
    g_assert_false (vb_store_set_throughput (store, id, "train gpu 1", -1.0, "{}", &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_clear_pointer (&tput, g_ptr_array_unref);
    tput = vb_store_get_throughput (store, id, &error);
    g_assert_cmpuint (tput->len, ==, 3);
    g_assert_cmpfloat (((VbThroughputRecord *) g_ptr_array_index (tput, 2))->img_per_s, ==,
                       150.0);
    raw = raw_open (f->db_path);
    raw_exec (raw, "DROP TRIGGER refuse");
    sqlite3_close (raw);
  }

  g_assert_true (vb_store_add_artifact (store, id, "checkpoint", "/x/last.vbck", &error));
  g_assert_no_error (error);
  artifacts = vb_store_get_artifacts (store, id, &error);
  g_assert_cmpuint (artifacts->len, ==, 1);
  g_assert_cmpstr (((VbArtifactRecord *) artifacts->pdata[0])->path, ==, "/x/last.vbck");
  g_assert_nonnull (((VbArtifactRecord *) artifacts->pdata[0])->created_at);

  /* An explicit transaction that is rolled back leaves nothing behind. */
  g_assert_true (vb_store_begin (store, &error));
  g_assert_false (vb_store_begin (store, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  {
    VbEpochMetric m = { .epoch = 3, .train_loss = 0.1 };
    VbStepMetric s = { .step = 5000, .loss = 0.1 };

    g_assert_true (vb_store_add_epoch_metric (store, id, &m, &error));
    g_assert_true (vb_store_add_step_metric (store, id, &s, &error));
  }
  g_assert_true (vb_store_rollback (store, &error));
  g_assert_no_error (error);
  g_clear_pointer (&epochs, g_array_unref);
  epochs = vb_store_get_epoch_metrics (store, id, &error);
  g_assert_cmpuint (epochs->len, ==, 3);
  g_clear_pointer (&steps, g_array_unref);
  steps = vb_store_get_step_metrics (store, id, &error);
  g_assert_cmpuint (steps->len, ==, n_steps);

  /* ... and a committed one lands. */
  g_assert_true (vb_store_begin (store, &error));
  {
    VbStepMetric s = { .step = n_steps, .loss = 0.1 };
    g_assert_true (vb_store_add_step_metric (store, id, &s, &error));
  }
  g_assert_true (vb_store_commit (store, &error));
  g_assert_false (vb_store_commit (store, &error));
  g_clear_error (&error);

  /* Buffered steps reach the file by close. */
  {
    VbStepMetric s = { .step = n_steps + 1, .loss = 0.1 };
    g_assert_true (vb_store_add_step_metric (store, id, &s, &error));
  }
  g_clear_pointer (&store, vb_store_close);
  db = raw_open (f->db_path);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM step_metrics"
                                            " WHERE run_id = %" G_GINT64_FORMAT, id);
    count = raw_text (db, sql);
  }
  g_assert_cmpstr (count, ==, "1002");
  sqlite3_close (db);

  /* Truncating after a resume point; then deleting a run takes its metrics along. */
  store = vb_store_open (f->db_path, &error);
  g_assert_no_error (error);
  /* a resume drops what was recorded past its checkpoint, and only for that run */
  g_assert_true (vb_store_truncate_metrics (store, id, 499, 1, &error));
  g_assert_no_error (error);
  g_clear_pointer (&steps, g_array_unref);
  steps = vb_store_get_step_metrics (store, id, &error);
  g_assert_cmpuint (steps->len, ==, 500);
  g_assert_cmpint (g_array_index (steps, VbStepMetric, 499).step, ==, 499);
  g_clear_pointer (&epochs, g_array_unref);
  epochs = vb_store_get_epoch_metrics (store, id, &error);
  g_assert_cmpuint (epochs->len, ==, 2);
  g_clear_pointer (&steps, g_array_unref);
  steps = vb_store_get_step_metrics (store, other, &error);
  g_assert_cmpuint (steps->len, ==, 1);

  g_assert_true (vb_store_delete_run (store, id, &error));
  g_clear_pointer (&steps, g_array_unref);
  steps = vb_store_get_step_metrics (store, id, &error);
  g_assert_cmpuint (steps->len, ==, 0);
  g_clear_pointer (&tput, g_ptr_array_unref);
  tput = vb_store_get_throughput (store, id, &error);
  g_assert_cmpuint (tput->len, ==, 0);
  g_assert_no_error (error);
}

/* ---- listing ----------------------------------------------------------- */

static void
test_list (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VbStore) store = vb_store_open (f->db_path, &error);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) done = NULL;
  g_autoptr(GPtrArray) g1 = NULL;
  g_autoptr(GPtrArray) limited = NULL;
  g_autoptr(GPtrArray) last = NULL;
  g_autofree char *group_a = vb_store_make_group_id ("ss2d-directions");
  g_autofree char *group_b = vb_store_make_group_id ("ss2d-directions");
  gint64 ids[5];

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (group_a, "ss2d-directions-"));
  g_assert_cmpstr (group_a, !=, group_b);

  last = vb_store_last_group_runs (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (last->len, ==, 0);
  g_clear_pointer (&last, g_ptr_array_unref);

  ids[0] = create_run (store, "a/scan=4dir", group_a, VB_RUN_QUEUED);
  ids[1] = create_run (store, "a/scan=2dir", group_a, VB_RUN_QUEUED);
  ids[2] = create_run (store, "b/scan=4dir", group_b, VB_RUN_QUEUED);
  ids[3] = create_run (store, "b/scan=2dir", group_b, VB_RUN_QUEUED);
  ids[4] = create_run (store, "lonely", NULL, VB_RUN_QUEUED);
  for (int i = 0; i < 4; i++)
    {
      g_assert_true (vb_store_set_status (store, ids[i], VB_RUN_RUNNING, NULL, &error));
      g_assert_true (vb_store_set_status (store, ids[i], i == 1 ? VB_RUN_FAILED : VB_RUN_DONE,
                                          NULL, &error));
      g_assert_no_error (error);
    }

  all = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 5);
  for (guint i = 0; i < 5; i++)     /* newest first */
    g_assert_cmpint (((VbRunRecord *) all->pdata[i])->id, ==, ids[4 - i]);

  done = vb_store_list_runs (store, VB_RUN_DONE, NULL, 0, &error);
  g_assert_cmpuint (done->len, ==, 3);
  g_assert_cmpint (((VbRunRecord *) done->pdata[0])->id, ==, ids[3]);
  g_assert_cmpint (((VbRunRecord *) done->pdata[1])->id, ==, ids[2]);
  g_assert_cmpint (((VbRunRecord *) done->pdata[2])->id, ==, ids[0]);

  g1 = vb_store_list_runs (store, VB_RUN_ANY, group_a, 0, &error);
  g_assert_cmpuint (g1->len, ==, 2);
  g_assert_cmpstr (((VbRunRecord *) g1->pdata[0])->name, ==, "a/scan=2dir");
  g_clear_pointer (&g1, g_ptr_array_unref);
  g1 = vb_store_list_runs (store, VB_RUN_FAILED, group_a, 0, &error);
  g_assert_cmpuint (g1->len, ==, 1);
  g_assert_cmpint (((VbRunRecord *) g1->pdata[0])->id, ==, ids[1]);

  limited = vb_store_list_runs (store, VB_RUN_ANY, NULL, 2, &error);
  g_assert_cmpuint (limited->len, ==, 2);
  g_assert_cmpint (((VbRunRecord *) limited->pdata[0])->id, ==, ids[4]);

  /* The newest group (the ungrouped run does not count), in grid order. */
  last = vb_store_last_group_runs (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (last->len, ==, 2);
  g_assert_cmpint (((VbRunRecord *) last->pdata[0])->id, ==, ids[2]);
  g_assert_cmpint (((VbRunRecord *) last->pdata[1])->id, ==, ids[3]);
  g_assert_cmpstr (((VbRunRecord *) last->pdata[0])->group_id, ==, group_b);
}

/* ---- recovery ------------------------------------------------------------ */

static pid_t
dead_pid (void)
{
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return pid;
}

static void
test_recover (Fixture       *f,
              gconstpointer  data)
{
  /* Fork before any connection is open: none may cross fork(). */
  pid_t gone = dead_pid ();
  g_autoptr(GError) error = NULL;
  VbStore *store = vb_store_open (f->db_path, &error);
  gint64 dead, remote, reused, ours, queued;
  g_autofree char *sql = NULL;
  sqlite3 *db;

  g_assert_no_error (error);
  dead = create_run (store, "dead", NULL, VB_RUN_RUNNING);
  remote = create_run (store, "remote", NULL, VB_RUN_RUNNING);
  reused = create_run (store, "reused", NULL, VB_RUN_RUNNING);
  ours = create_run (store, "ours", NULL, VB_RUN_RUNNING);
  queued = create_run (store, "queued", NULL, VB_RUN_QUEUED);
  vb_store_close (store);

  db = raw_open (f->db_path);
  sql = g_strdup_printf ("UPDATE runs SET pid = %d WHERE id IN (%" G_GINT64_FORMAT
                         ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ");"
                         "UPDATE runs SET hostname = 'elsewhere.example' WHERE id = %"
                         G_GINT64_FORMAT ";"
                         /* our pid, but another process's start token: a reused pid */
                         "UPDATE runs SET process_token = 'x:1' WHERE id = %" G_GINT64_FORMAT,
                         (int) gone, dead, remote, queued, remote, reused);
  raw_exec (db, sql);
  sqlite3_close (db);

  store = vb_store_open (f->db_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_store_get_n_recovered (store), ==, 2);
  g_assert_cmpint (run_status (store, dead), ==, VB_RUN_INTERRUPTED);
  g_assert_cmpint (run_status (store, reused), ==, VB_RUN_INTERRUPTED);
  g_assert_cmpint (run_status (store, remote), ==, VB_RUN_RUNNING);   /* cannot tell */
  g_assert_cmpint (run_status (store, ours), ==, VB_RUN_RUNNING);     /* still us */
  g_assert_cmpint (run_status (store, queued), ==, VB_RUN_QUEUED);
  {
    g_autoptr(VbRunRecord) run = vb_store_get_run (store, dead, &error);

    g_assert_nonnull (run->finished_at);
    g_assert_nonnull (run->error_message);
  }
  g_assert_cmpint (vb_store_recover_interrupted (store, &error), ==, 0);
  g_assert_no_error (error);

  /* An interrupted run may be resumed. */
  g_assert_true (vb_store_set_status (store, dead, VB_RUN_RUNNING, NULL, &error));
  g_assert_no_error (error);
  vb_store_close (store);
}

/* A child writes metrics as fast as it can and is killed with SIGKILL somewhere in
 * the middle; the file must still be consistent and the run marked interrupted. */
static void
test_sigkill (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) steps = NULL;
  g_autoptr(GArray) epochs = NULL;
  g_autofree char *check = NULL;
  VbStore *store;
  gint64 id;
  int fds[2];
  pid_t child;
  char byte = 0;
  int status;
  sqlite3 *db;

  store = vb_store_open (f->db_path, &error);
  g_assert_no_error (error);
  id = create_run (store, "doomed", NULL, VB_RUN_QUEUED);
  vb_store_close (store);   /* no SQLite connection may cross fork() */

  g_assert_cmpint (pipe (fds), ==, 0);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      VbStore *cs = vb_store_open (f->db_path, NULL);
      gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
      gboolean told = FALSE;

      close (fds[0]);
      if (cs == NULL || !vb_store_set_status (cs, id, VB_RUN_RUNNING, NULL, NULL))
        _exit (1);
      for (gint64 i = 0; g_get_monotonic_time () < deadline; i++)
        {
          VbStepMetric m = { .step = i, .epoch = i / 100.0, .loss = 1.0 / (i + 1),
                             .lr = 1e-3, .grad_norm = 1.0, .img_per_s = 100, .wall_s = i };

          if (!vb_store_add_step_metric (cs, id, &m, NULL))
            _exit (2);
          if (i % 100 == 99)
            {
              VbEpochMetric e = { .epoch = i / 100, .train_loss = 1.0, .val_top1 = 0.5 };

              if (!vb_store_add_epoch_metric (cs, id, &e, NULL))
                _exit (3);
            }
          if (!told && i >= 2 * VB_STORE_STEP_BATCH)
            {
              told = write (fds[1], "x", 1) == 1;
            }
        }
      _exit (4);   /* the parent should have killed us long before */
    }

  close (fds[1]);
  g_assert_cmpint (read (fds[0], &byte, 1), ==, 1);
  close (fds[0]);
  g_usleep (30 * 1000);   /* let it get well into further writes */
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);

  store = vb_store_open (f->db_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_store_get_n_recovered (store), ==, 1);
  g_assert_cmpint (run_status (store, id), ==, VB_RUN_INTERRUPTED);

  /* Whole batches or nothing: the steps present are exactly 0 .. n-1. */
  steps = vb_store_get_step_metrics (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, >=, 2 * VB_STORE_STEP_BATCH);
  for (guint i = 0; i < steps->len; i++)
    g_assert_cmpint (g_array_index (steps, VbStepMetric, i).step, ==, i);
  epochs = vb_store_get_epoch_metrics (store, id, &error);
  g_assert_cmpuint (epochs->len, >=, 4);
  for (guint i = 0; i < epochs->len; i++)
    g_assert_cmpint (g_array_index (epochs, VbEpochMetric, i).epoch, ==, i);
  vb_store_close (store);

  db = raw_open (f->db_path);
  check = raw_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (check, ==, "ok");
  sqlite3_close (db);
}

/* ---- bad files and folders ---------------------------------------------- */

static void
test_corrupt (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char garbage[4096];
  VbStore *store;

  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = (char) (i * 7919 + 13);
  g_assert_true (g_file_set_contents (f->db_path, garbage, sizeof garbage, NULL));

  store = vb_store_open (f->db_path, &error);
  g_assert_null (store);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, f->db_path));
  g_assert_nonnull (strstr (error->message, "not a SQLite database"));
}

static void
test_bad_folder (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_build_filename (f->dir, "plain-file", NULL);
  g_autofree char *under_file = g_build_filename (file, "sub", "runs.db", NULL);
  VbStore *store;

  /* A folder that cannot be created: its parent is a regular file. */
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  store = vb_store_open (under_file, &error);
  g_assert_null (store);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, under_file));
  g_clear_error (&error);

  /* A read-only place (even root cannot create folders in /proc). */
  store = vb_store_open ("/proc/visionbench-no-such-dir/runs.db", &error);
  g_assert_null (store);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, "/proc/visionbench-no-such-dir"));
  g_clear_error (&error);

  /* A read-only folder, where permissions apply to us. */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (f->dir, "ro", NULL);
      g_autofree char *ro_db = g_build_filename (ro, "runs.db", NULL);

      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      store = vb_store_open (ro_db, &error);
      g_assert_null (store);
      g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_STORE);
      g_assert_nonnull (strstr (error->message, ro_db));
      g_chmod (ro, 0755);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/vb/store/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("schema", test_schema);
  g_test_add_func ("/vb/store/memory", test_memory);
  g_test_add_func ("/vb/store/default-path", test_default_path);
  ADD ("lifecycle", test_lifecycle);
  ADD ("metrics", test_metrics);
  ADD ("list", test_list);
  ADD ("recover", test_recover);
  ADD ("sigkill", test_sigkill);
  ADD ("corrupt", test_corrupt);
  ADD ("bad-folder", test_bad_folder);

  return g_test_run ();
}
