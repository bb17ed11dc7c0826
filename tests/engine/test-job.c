/* The engine's job thread, driven as the GUI drives it: a main loop in the test thread,
 * tiny presets on real Fashion-MNIST. Updates arrive on the main context's thread and are
 * coalesced, run and job events are not; cancel keeps the checkpoint and resume finishes
 * the run; pause holds the step; jobs run in order; freeing the queue mid-run leaves a
 * consistent database. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-job.h"
#include "vb-runner.h"
#include "vb-store.h"
#include "vb-test-fmnist.h"
#include "vb-test-util.h"

/* The first images of Fashion-MNIST, written once as small IDX files: reading (and
 * fingerprinting) the whole 47 MB set for every job would dwarf the tiny runs. */
static char *subset_dir;

/* 8 images a step: an epoch of `limit` training images is about limit/8 steps */
static char *
tiny_preset (const char *name, int epochs, int train_limit)
{
  g_autofree char *base = vb_test_tiny_base_json (subset_dir ? subset_dir : "", train_limit, 32,
                                                  epochs, 32);
  return g_strdup_printf ("{\"name\": \"%s\", \"base\": %s}", name, base);
}

static void
make_subset (void)
{
  subset_dir = g_dir_make_tmp ("vb-job-data-XXXXXX", NULL);
  vb_test_write_fashion_mnist_subset (subset_dir, 512, 128);
}

typedef struct _Fixture Fixture;

typedef struct {
  VbJobEventKind kind;
  guint64     job_id;
  gint64      run_id;
  VbRunStatus run_status;
  double      top1;
  VbJobState  job_state;
  char       *error_message;
} EventCopy;

static void
event_copy_free (EventCopy *e)
{
  g_free (e->error_message);
  g_free (e);
}

struct _Fixture {
  char       *dir;
  char       *db;
  GMainLoop  *loop;
  GThread    *main_thread;
  VbJobQueue *q;
  GPtrArray  *events;         /* EventCopy*, in arrival order */
  guint       n_updates;      /* idle callbacks (calls with event NULL) */
  guint       n_finished;     /* JOB_FINISHED events */
  guint       quit_after;     /* quit the loop at this many JOB_FINISHED */
  gboolean    destroyed;
  gboolean    freed;
  void      (*action) (Fixture *f, const VbJobStatus *s);
  /* test scratch */
  gboolean    sent;
  gboolean    paused_seen;
  gboolean    unpaused;
  gint64      paused_step;
  gint64      max_step_while_paused;
  guint       sleep_ms;       /* a slow main loop: sleep in every update */
};

static void
update_cb (VbJobQueue *q, const VbJobEvent *event, const VbJobStatus *s, gpointer user_data)
{
  Fixture *f = user_data;
  g_assert_true (g_thread_self () == f->main_thread);
  g_assert_true (q == f->q);
  g_assert_false (f->freed);
  if (event != NULL)
    {
      EventCopy *e = g_new0 (EventCopy, 1);
      e->kind = event->kind;
      e->job_id = event->job_id;
      e->run_id = event->run_id;
      e->run_status = event->run_status;
      e->top1 = event->top1;
      e->job_state = event->job_state;
      e->error_message = g_strdup (event->error_message);
      g_ptr_array_add (f->events, e);
      if (event->kind == VB_JOB_EVENT_JOB_FINISHED && ++f->n_finished == f->quit_after
          && f->loop)
        g_main_loop_quit (f->loop);
      return;
    }
  f->n_updates++;
  if (f->sleep_ms)
    g_usleep (f->sleep_ms * 1000);
  if (f->action)
    f->action (f, s);
}

static void
destroy_cb (gpointer user_data)
{
  Fixture *f = user_data;
  f->destroyed = TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("the job took too long");
  return G_SOURCE_REMOVE;
}

static gboolean
fixture_init (Fixture *f)
{
  memset (f, 0, sizeof *f);
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return FALSE;
    }
  f->dir = g_dir_make_tmp ("vb-job-XXXXXX", NULL);
  f->db = g_build_filename (f->dir, "runs.db", NULL);
  f->loop = g_main_loop_new (NULL, FALSE);
  f->main_thread = g_thread_self ();
  f->events = g_ptr_array_new_with_free_func ((GDestroyNotify) event_copy_free);
  f->q = vb_job_queue_new (f->db, NULL, update_cb, f, destroy_cb);
  return TRUE;
}

static void
fixture_clear (Fixture *f)
{
  if (f->q)
    {
      vb_job_queue_free (f->q);
      f->freed = TRUE;
      g_assert_true (f->destroyed);
    }
  g_clear_pointer (&f->loop, g_main_loop_unref);
  g_clear_pointer (&f->events, g_ptr_array_unref);
  if (f->dir)
    vb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

/* Runs the loop until `n` more jobs have finished. */
static void
run_until_finished (Fixture *f, guint n)
{
  f->quit_after = f->n_finished + n;
  guint guard = g_timeout_add_seconds (240, timeout_cb, NULL);
  g_main_loop_run (f->loop);
  g_source_remove (guard);
}

static guint64
start_tiny (Fixture *f, const char *name, int epochs, int train_limit)
{
  g_autofree char *json = tiny_preset (name, epochs, train_limit);
  g_autoptr (GError) error = NULL;
  guint64 id = vb_job_queue_start_preset_json (f->q, json, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 0);
  return id;
}

static EventCopy *
event_at (Fixture *f, guint i)
{
  g_assert_cmpuint (i, <, f->events->len);
  return g_ptr_array_index (f->events, i);
}

static VbRunRecord *
get_run (const char *db, gint64 run_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbStore) store = vb_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vb_store_get_n_recovered (store), ==, 0);  /* nothing left 'running' */
  VbRunRecord *r = vb_store_get_run (store, run_id, &error);
  g_assert_no_error (error);
  return r;
}

/* The same job twice: once with the main loop blocked (every progress write coalesced
 * into ONE update carrying all the events, in order), once with a live but slow loop. */
static void
test_run_preset (void)
{
  Fixture f;
  if (!fixture_init (&f))
    return;

  guint64 id = start_tiny (&f, "tiny", 1, 64);
  g_auto (VbJobStatus) s = { 0 };
  for (;;)
    {
      vb_job_status_clear (&s);
      vb_job_queue_get_status (f.q, &s);
      if (s.job_id == id && s.state != VB_JOB_RUNNING)
        break;
      g_usleep (20000);
    }
  g_assert_cmpint (s.state, ==, VB_JOB_FINISHED);
  g_assert_null (s.error_message);
  g_assert_cmpint (s.step, >, 0);
  g_assert_cmpint (s.step, ==, s.total_steps);
  guint64 n_writes = s.serial;
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_test_message ("blocked loop: %" G_GUINT64_FORMAT " writes, %u update(s)", n_writes,
                  f.n_updates);
  g_assert_cmpuint (n_writes, >=, 10);
  g_assert_cmpuint (f.n_updates, ==, 1);
  g_assert_cmpuint (f.events->len, ==, 4);
  g_assert_cmpint (event_at (&f, 0)->kind, ==, VB_JOB_EVENT_JOB_STARTED);
  g_assert_cmpint (event_at (&f, 1)->kind, ==, VB_JOB_EVENT_RUN_STARTED);
  g_assert_cmpint (event_at (&f, 2)->kind, ==, VB_JOB_EVENT_RUN_FINISHED);
  g_assert_cmpint (event_at (&f, 2)->run_status, ==, VB_RUN_DONE);
  g_assert_null (event_at (&f, 2)->error_message);
  g_assert_cmpint (event_at (&f, 3)->kind, ==, VB_JOB_EVENT_JOB_FINISHED);
  g_assert_cmpint (event_at (&f, 3)->job_state, ==, VB_JOB_FINISHED);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (event_at (&f, i)->job_id, ==, id);

  gint64 run_id = event_at (&f, 1)->run_id;
  g_assert_cmpint (event_at (&f, 2)->run_id, ==, run_id);
  g_autoptr (VbRunRecord) r = get_run (f.db, run_id);
  g_assert_cmpint (r->status, ==, VB_RUN_DONE);
  g_assert_cmpstr (r->name, ==, "tiny");
  {
    g_autoptr (VbStore) store = vb_store_open (f.db, NULL);
    g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run_id, NULL);
    g_assert_cmpuint (epochs->len, ==, 1);
    double top1 = g_array_index (epochs, VbEpochMetric, 0).val_top1;
    g_assert_true (isfinite (top1));
    g_assert_cmpfloat (top1, ==, event_at (&f, 2)->top1);
  }

  /* a live loop that takes 30 ms per update: the engine does not wait for it */
  g_ptr_array_set_size (f.events, 0);
  f.n_updates = 0;
  f.sleep_ms = 30;
  vb_job_status_clear (&s);
  vb_job_queue_get_status (f.q, &s);
  guint64 serial_before = s.serial;
  guint64 id2 = start_tiny (&f, "tiny", 1, 256);
  run_until_finished (&f, 1);
  vb_job_status_clear (&s);
  vb_job_queue_get_status (f.q, &s);
  n_writes = s.serial - serial_before;
  g_test_message ("live loop: %" G_GUINT64_FORMAT " writes, %u updates", n_writes, f.n_updates);
  g_assert_cmpuint (s.job_id, ==, id2);
  g_assert_cmpint (s.state, ==, VB_JOB_FINISHED);
  g_assert_cmpuint (f.n_updates, <, n_writes);
  g_assert_cmpint (event_at (&f, f.events->len - 2)->run_status, ==, VB_RUN_DONE);
  fixture_clear (&f);
}

static void
cancel_in_second_epoch (Fixture *f, const VbJobStatus *s)
{
  if (!f->sent && s->state == VB_JOB_RUNNING && s->epoch >= 2)
    {
      f->sent = TRUE;
      vb_job_queue_cancel (f->q, s->job_id);
    }
}

static void
test_cancel_and_resume (void)
{
  Fixture f;
  if (!fixture_init (&f))
    return;
  f.action = cancel_in_second_epoch;
  /* epochs take milliseconds: ten leave the cancel time to land before the end */
  guint64 id = start_tiny (&f, "tiny", 10, 64);
  run_until_finished (&f, 1);
  g_assert_true (f.sent);
  EventCopy *fin = event_at (&f, f.events->len - 1);
  g_assert_cmpuint (fin->job_id, ==, id);
  g_assert_cmpint (fin->job_state, ==, VB_JOB_CANCELLED);
  EventCopy *run_fin = event_at (&f, f.events->len - 2);
  g_assert_cmpint (run_fin->kind, ==, VB_JOB_EVENT_RUN_FINISHED);
  g_assert_cmpint (run_fin->run_status, ==, VB_RUN_CANCELLED);
  g_assert_nonnull (strstr (run_fin->error_message, "cancelled"));
  gint64 run_id = run_fin->run_id;
  {
    g_autoptr (VbRunRecord) r = get_run (f.db, run_id);
    g_assert_cmpint (r->status, ==, VB_RUN_CANCELLED);
    g_assert_nonnull (r->checkpoint_path);
    g_assert_true (g_file_test (r->checkpoint_path, G_FILE_TEST_IS_REGULAR));
  }

  /* resume through the queue: it finishes the remaining epochs */
  f.action = NULL;
  g_ptr_array_set_size (f.events, 0);
  guint64 id2 = vb_job_queue_resume_run (f.q, run_id);
  run_until_finished (&f, 1);
  g_assert_cmpuint (f.events->len, ==, 4);
  g_assert_cmpint (event_at (&f, 1)->run_id, ==, run_id);
  g_assert_cmpint (event_at (&f, 2)->run_status, ==, VB_RUN_DONE);
  g_assert_cmpuint (event_at (&f, 3)->job_id, ==, id2);
  g_assert_cmpint (event_at (&f, 3)->job_state, ==, VB_JOB_FINISHED);
  {
    g_autoptr (VbRunRecord) r = get_run (f.db, run_id);
    g_assert_cmpint (r->status, ==, VB_RUN_DONE);
    g_autoptr (VbStore) store = vb_store_open (f.db, NULL);
    g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run_id, NULL);
    g_assert_cmpuint (epochs->len, ==, 10);
    for (guint i = 0; i < epochs->len; i++)
      g_assert_cmpint (g_array_index (epochs, VbEpochMetric, i).epoch, ==, (int) i + 1);
    /* the steps trained after the checkpoint and before the cancel were dropped on
     * resume: every step is recorded once, in order */
    g_autoptr (GArray) steps = vb_store_get_step_metrics (store, run_id, NULL);
    g_assert_cmpuint (steps->len, >, 0);
    for (guint i = 1; i < steps->len; i++)
      g_assert_cmpint (g_array_index (steps, VbStepMetric, i).step, >,
                       g_array_index (steps, VbStepMetric, i - 1).step);
  }

  /* a done run is refused, and says why */
  g_ptr_array_set_size (f.events, 0);
  vb_job_queue_resume_run (f.q, run_id);
  run_until_finished (&f, 1);
  g_assert_cmpuint (f.events->len, ==, 2);
  g_assert_cmpint (event_at (&f, 1)->job_state, ==, VB_JOB_FAILED);
  g_assert_nonnull (strstr (event_at (&f, 1)->error_message, "already done"));
  fixture_clear (&f);
}

static gboolean
check_still_paused_cb (gpointer user_data)
{
  Fixture *f = user_data;
  g_auto (VbJobStatus) s = { 0 };
  vb_job_queue_get_status (f->q, &s);
  g_test_message ("paused at step %" G_GINT64_FORMAT ", 0.3 s later step %" G_GINT64_FORMAT,
                  f->paused_step, s.step);
  g_assert_true (s.paused);
  g_assert_cmpint (s.state, ==, VB_JOB_RUNNING);
  g_assert_cmpint (s.step, ==, f->paused_step);
  g_assert_cmpint (f->max_step_while_paused, ==, f->paused_step);
  f->unpaused = TRUE;
  vb_job_queue_unpause (f->q);
  return G_SOURCE_REMOVE;
}

static void
pause_at_step_two (Fixture *f, const VbJobStatus *s)
{
  if (!f->sent && s->state == VB_JOB_RUNNING && s->step >= 2)
    {
      f->sent = TRUE;
      vb_job_queue_pause (f->q);
    }
  if (s->paused && !f->paused_seen)
    {
      f->paused_seen = TRUE;
      f->paused_step = f->max_step_while_paused = s->step;
      g_timeout_add (300, check_still_paused_cb, f);
    }
  else if (s->paused && !f->unpaused)
    f->max_step_while_paused = MAX (f->max_step_while_paused, s->step);
}

static void
test_pause (void)
{
  Fixture f;
  if (!fixture_init (&f))
    return;
  f.action = pause_at_step_two;
  start_tiny (&f, "tiny", 10, 64);
  run_until_finished (&f, 1);
  g_assert_true (f.sent);
  g_assert_true (f.unpaused);
  g_auto (VbJobStatus) s = { 0 };
  vb_job_queue_get_status (f.q, &s);
  g_assert_cmpint (f.paused_step, >=, 2);
  g_assert_cmpint (f.paused_step, <, s.total_steps);
  g_assert_false (s.paused);
  g_assert_cmpint (s.state, ==, VB_JOB_FINISHED);
  g_assert_cmpint (s.step, ==, s.total_steps);
  g_assert_cmpint (event_at (&f, f.events->len - 2)->run_status, ==, VB_RUN_DONE);
  fixture_clear (&f);
}

/* Paused while idle, the engine holds the queue: jobs can be lined up and dropped. */
static void
test_queue_order (void)
{
  Fixture f;
  if (!fixture_init (&f))
    return;
  vb_job_queue_pause (f.q);
  guint64 a = start_tiny (&f, "tiny-a", 1, 32);
  guint64 b = start_tiny (&f, "tiny-b", 1, 32);
  guint64 c = start_tiny (&f, "tiny-c", 1, 32);
  g_assert_cmpuint (a, <, b);
  g_assert_cmpuint (b, <, c);
  vb_job_queue_cancel (f.q, c);
  vb_job_queue_unpause (f.q);
  run_until_finished (&f, 3);

  /* c never ran; a then b, each whole */
  static const VbJobEventKind want[] = {
    VB_JOB_EVENT_JOB_FINISHED,
    VB_JOB_EVENT_JOB_STARTED, VB_JOB_EVENT_RUN_STARTED, VB_JOB_EVENT_RUN_FINISHED,
    VB_JOB_EVENT_JOB_FINISHED,
    VB_JOB_EVENT_JOB_STARTED, VB_JOB_EVENT_RUN_STARTED, VB_JOB_EVENT_RUN_FINISHED,
    VB_JOB_EVENT_JOB_FINISHED,
  };
  g_assert_cmpuint (f.events->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpint (event_at (&f, i)->kind, ==, want[i]);
  g_assert_cmpuint (event_at (&f, 0)->job_id, ==, c);
  g_assert_cmpint (event_at (&f, 0)->job_state, ==, VB_JOB_CANCELLED);
  for (guint i = 1; i <= 4; i++)
    g_assert_cmpuint (event_at (&f, i)->job_id, ==, a);
  for (guint i = 5; i <= 8; i++)
    g_assert_cmpuint (event_at (&f, i)->job_id, ==, b);
  g_assert_cmpint (event_at (&f, 4)->job_state, ==, VB_JOB_FINISHED);
  g_assert_cmpint (event_at (&f, 8)->job_state, ==, VB_JOB_FINISHED);
  gint64 run_a = event_at (&f, 3)->run_id, run_b = event_at (&f, 7)->run_id;
  g_assert_cmpint (run_a, <, run_b);
  {
    g_autoptr (VbRunRecord) ra = get_run (f.db, run_a);
    g_autoptr (VbRunRecord) rb = get_run (f.db, run_b);
    g_assert_cmpstr (ra->name, ==, "tiny-a");
    g_assert_cmpstr (rb->name, ==, "tiny-b");
    g_assert_cmpint (ra->status, ==, VB_RUN_DONE);
    g_assert_cmpint (rb->status, ==, VB_RUN_DONE);
  }

  /* cancel-all empties the queue without running anything */
  g_ptr_array_set_size (f.events, 0);
  vb_job_queue_pause (f.q);
  start_tiny (&f, "tiny-d", 1, 32);
  start_tiny (&f, "tiny-e", 1, 32);
  vb_job_queue_cancel_all (f.q);
  vb_job_queue_unpause (f.q);
  run_until_finished (&f, 2);
  g_assert_cmpuint (f.events->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpint (event_at (&f, i)->job_state, ==, VB_JOB_CANCELLED);
  g_autoptr (VbStore) store = vb_store_open (f.db, NULL);
  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (runs->len, ==, 2);
  fixture_clear (&f);
}

static void
quit_at_step_one (Fixture *f, const VbJobStatus *s)
{
  if (s->state == VB_JOB_RUNNING && s->step >= 1)
    g_main_loop_quit (f->loop);
}

static void
test_free_mid_run (void)
{
  Fixture f;
  if (!fixture_init (&f))
    return;
  f.action = quit_at_step_one;
  start_tiny (&f, "tiny", 10, 64);
  start_tiny (&f, "tiny-queued", 1, 32);
  guint guard = g_timeout_add_seconds (240, timeout_cb, NULL);
  g_main_loop_run (f.loop);
  g_source_remove (guard);
  gint64 run_id = event_at (&f, 1)->run_id;

  vb_job_queue_free (f.q);
  f.freed = TRUE;
  f.q = NULL;
  g_assert_true (f.destroyed);
  /* nothing is left to call back */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_autoptr (VbRunRecord) r = get_run (f.db, run_id);
  g_assert_cmpint (r->status, ==, VB_RUN_CANCELLED);
  g_autoptr (VbStore) store = vb_store_open (f.db, NULL);
  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, 0, NULL);
  g_assert_cmpuint (runs->len, ==, 1);  /* the queued job never started */
  fixture_clear (&f);
}

/* Errors that need no training: a bad override is refused at once, and a database that
 * cannot be opened fails the job with its reason. */
static void
test_errors (void)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Fixture f = { 0 };
  f.loop = loop;
  f.main_thread = g_thread_self ();
  f.events = g_ptr_array_new_with_free_func ((GDestroyNotify) event_copy_free);
  f.q = vb_job_queue_new ("/proc/no-such-dir/runs.db", NULL, update_cb, &f, destroy_cb);

  g_autofree char *json = tiny_preset ("tiny", 1, 32);
  const char *bad[] = { "train.nonsense=1", NULL };
  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (vb_job_queue_start_preset_json (f.q, json, bad, &error), ==, 0);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_null (strstr (error->message, "vb-preset-"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (vb_job_queue_start_preset_json (f.q, "{\"name\": ", NULL, &error), ==, 0);
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_true (g_str_has_prefix (error->message, "Preset text is not valid JSON"));
  g_clear_error (&error);

  const char *good[] = { "train.epochs=2", NULL };
  guint64 id = vb_job_queue_start_preset_json (f.q, json, good, &error);
  g_assert_no_error (error);
  run_until_finished (&f, 1);
  g_assert_cmpuint (f.events->len, ==, 2);
  g_assert_cmpuint (event_at (&f, 1)->job_id, ==, id);
  g_assert_cmpint (event_at (&f, 1)->job_state, ==, VB_JOB_FAILED);
  g_assert_nonnull (strstr (event_at (&f, 1)->error_message, "/proc/no-such-dir"));
  g_auto (VbJobStatus) s = { 0 };
  vb_job_queue_get_status (f.q, &s);
  g_assert_cmpint (s.state, ==, VB_JOB_FAILED);
  g_assert_nonnull (s.error_message);

  vb_job_queue_free (f.q);
  f.freed = TRUE;
  g_assert_true (f.destroyed);
  g_ptr_array_unref (f.events);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (vb_test_have_fashion_mnist ())
    make_subset ();
  g_test_add_func ("/vb/job/errors", test_errors);
  g_test_add_func ("/vb/job/run-preset", test_run_preset);
  g_test_add_func ("/vb/job/cancel-and-resume", test_cancel_and_resume);
  g_test_add_func ("/vb/job/pause", test_pause);
  g_test_add_func ("/vb/job/queue-order", test_queue_order);
  g_test_add_func ("/vb/job/free-mid-run", test_free_mid_run);
  int status = g_test_run ();
  if (subset_dir)
    vb_test_rm_rf (subset_dir);
  g_free (subset_dir);
  return status;
}
