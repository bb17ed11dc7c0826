/* visionbench-cli: the headless front of the engine. Same engine, same presets, same
 * results database as the desktop app. Exit status: 0 success, 1 a run or command
 * failed, 2 a usage error. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-bench.h"
#include "vb-clip-bench.h"
#include "vb-clip.h"
#include "vb-compare.h"
#include "vb-dist.h"
#include "vb-dist-group.h"
#include "vb-error.h"
#include "vb-predict.h"
#include "vb-projector.h"
#include "vb-projector-bench.h"
#include "vb-preset.h"
#include "vb-runner.h"
#include "vb-store.h"
#include "vb-trainer.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t interrupted = 0;

static void
on_sigint (int sig)
{
  (void) sig;
  interrupted = 1;
}

static int
usage_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "visionbench-cli: %s (see visionbench-cli --help)\n", msg);
  return EXIT_USAGE;
}

static int
fail (const GError *error)
{
  fprintf (stderr, "visionbench-cli: %s\n", error ? error->message : "failed");
  return 1;
}

/* Options common to every command. */
static char *opt_db = NULL;

static VbStore *
open_store (GError **error)
{
  return vb_store_open (opt_db, error);
}

static gboolean
parse_run_id (const char *s, gint64 *out)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (s, &end, 10);
  if (end == s || *end != '\0' || v <= 0)
    return FALSE;
  *out = v;
  return TRUE;
}

/* ---- presets ---------------------------------------------------------------------------- */

static int
cmd_presets (int argc, char **argv)
{
  if (argc > 1)
    return usage_error ("presets takes no arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = vb_preset_list (vb_preset_default_dir (), &error);
  if (list == NULL)
    return fail (error);
  for (guint i = 0; i < list->len; i++)
    {
      VbPreset *p = g_ptr_array_index (list, i);
      printf ("%-22s %2u run%s  %s\n", vb_preset_get_name (p), vb_preset_get_n_runs (p),
              vb_preset_get_n_runs (p) == 1 ? " " : "s", vb_preset_get_title (p));
    }
  return 0;
}

/* ---- run ------------------------------------------------------------------------------- */

typedef struct {
  gboolean tty;
  gboolean started;      /* a run began: a failure from here on is the run's, not the request's */
  char *run_name;
  int index, n_runs;
  gint64 last_line_us;
} CliProgress;

static void
format_eta (double s, char *buf, gsize n)
{
  if (!isfinite (s) || s < 0)
    g_strlcpy (buf, "--:--", n);
  else
    g_snprintf (buf, n, "%d:%02d", (int) s / 60, (int) s % 60);
}

static void
progress_cb (const VbProgress *p, gpointer user_data)
{
  CliProgress *cp = user_data;
  double frac = p->total_steps > 0 ? (double) p->step / p->total_steps : 0;
  char eta[16];
  format_eta (p->eta_s, eta, sizeof eta);
  if (cp->tty)
    {
      char bar[25];
      int filled = (int) (frac * 24);
      for (int i = 0; i < 24; i++)
        bar[i] = i < filled ? '#' : '.';
      bar[24] = '\0';
      fprintf (stderr, "\r[%d/%d] %-28.28s [%s] %3.0f%% ep %d/%d loss %.4f %6.1f img/s ETA %s %s",
               cp->index + 1, cp->n_runs, cp->run_name, bar, 100 * frac, p->epoch, p->epochs,
               p->loss, p->img_per_s, eta, g_str_equal (p->phase, "eval") ? "(eval)" : "      ");
      fflush (stderr);
      return;
    }
  /* plain lines, at most one per 5 s, plus one after every evaluation */
  gint64 now = g_get_monotonic_time ();
  gboolean after_eval = g_str_equal (p->phase, "train") && !isnan (p->val_top1)
                        && p->step % MAX (1, p->total_steps / MAX (p->epochs, 1)) == 0;
  if (g_str_equal (p->phase, "train") && now - cp->last_line_us > 5000000)
    {
      cp->last_line_us = now;
      printf ("  %s: epoch %d/%d step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
              " loss %.4f lr %.2e %.1f img/s ETA %s\n", cp->run_name, p->epoch, p->epochs,
              p->step, p->total_steps, p->loss, p->lr, p->img_per_s, eta);
      if (p->gpus != NULL)
        printf ("    %s\n", p->gpus);
      fflush (stdout);
    }
  (void) after_eval;
}

static gboolean
cancel_cb (gpointer user_data)
{
  return interrupted != 0;
}

/* Ctrl-C and SIGTERM cancel the current run between steps, so its status and last
 * checkpoint are written before the process ends. */
static void
cancel_on_signals (void)
{
  struct sigaction sa = { 0 };
  sa.sa_handler = on_sigint;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

static void
print_recovered (VbStore *store)
{
  if (vb_store_get_n_recovered (store) > 0)
    printf ("Marked %u run%s interrupted: their process is gone.\n",
            vb_store_get_n_recovered (store), vb_store_get_n_recovered (store) == 1 ? "" : "s");
}

static void
run_started_cb (gint64 run_id, const char *run_name, int index, int n_runs, gpointer user_data)
{
  CliProgress *cp = user_data;
  cp->started = TRUE;
  g_free (cp->run_name);
  cp->run_name = g_strdup (run_name);
  cp->index = index;
  cp->n_runs = n_runs;
  cp->last_line_us = 0;
  if (!cp->tty)
    printf ("[%d/%d] run %" G_GINT64_FORMAT " %s: started\n", index + 1, n_runs, run_id, run_name);
  fflush (stdout);
}

static void
run_finished_cb (gint64 run_id, const char *run_name, VbRunStatus status,
                 const VbTrainResult *r, const GError *error, gpointer user_data)
{
  CliProgress *cp = user_data;
  if (cp->tty)
    fprintf (stderr, "\r\033[K");
  if (status == VB_RUN_DONE && isnan (r->top1) && r->macs > 0 && r->train_img_per_s == 0)
    printf ("[%d/%d] run %" G_GINT64_FORMAT " %s: done — encoder forward %.2f img/s, %.2f "
            "GMAC per image\n", cp->index + 1, cp->n_runs, run_id, run_name, r->eval_img_per_s,
            r->macs / 1e9);   /* a profile: nothing trained or evaluated */
  else if (status == VB_RUN_DONE)
    printf ("[%d/%d] run %" G_GINT64_FORMAT " %s: done — top-1 %.2f%%, top-5 %.2f%%, "
            "train %.1f img/s, eval %.1f img/s%s\n", cp->index + 1, cp->n_runs, run_id,
            run_name, r->top1, r->top5, r->train_img_per_s, r->eval_img_per_s,
            r->skipped_images ? " (some corrupt images skipped)" : "");
  else
    printf ("[%d/%d] run %" G_GINT64_FORMAT " %s: %s — %s\n", cp->index + 1, cp->n_runs, run_id,
            run_name, vb_run_status_to_string (status), error ? error->message : "");
  fflush (stdout);
}

static VbPreset *
load_preset (const char *name_or_path, GError **error)
{
  if (g_str_has_suffix (name_or_path, ".json") || strchr (name_or_path, '/'))
    return vb_preset_load (name_or_path, error);
  g_autofree char *file = g_strconcat (name_or_path, ".json", NULL);
  g_autofree char *path = g_build_filename (vb_preset_default_dir (), file, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "no preset named \"%s\" (list them with: visionbench-cli presets)",
                   name_or_path);
      return NULL;
    }
  return vb_preset_load (path, error);
}

static int
print_compare (VbStore *store, GArray *ids, int baseline_index, VbTableFormat format)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len,
                                                &error);
  if (rows == NULL)
    return fail (error);
  g_autofree char *table = vb_compare_render (rows, baseline_index, format);
  fputs (table, stdout);
  return 0;
}

static void
notice_cb (const char *message, gpointer user_data)
{
  fprintf (stderr, "note: %s\n", message);
}

/* this process's place among a launcher's processes (0 when alone or unreadable: the run
 * itself reports a malformed environment) */
static int
dist_process_rank (void)
{
  g_auto (GStrv) envp = g_get_environ ();
  g_auto (VbDistEnv) env = { 0 };
  return vb_dist_env_read (&env, envp, NULL) ? env.proc_rank : 0;
}

static int
cmd_run (int argc, char **argv)
{
  g_autofree char **sets = NULL;
  char *device = NULL;
  int gpus = -1;
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a field", "KEY=VALUE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu (default)", "DEVICE" },
    { "gpus", 0, 0, G_OPTION_ARG_INT, &gpus,
      "Train data parallel on N GPUs of this host through NCCL (implies --device cuda; the "
      "batch size stays the global batch)", "N" },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Results database", "PATH" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PRESET");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc != 2)
    return usage_error ("run needs exactly one PRESET");

  g_autoptr (VbPreset) preset = load_preset (argv[1], &error);
  if (preset == NULL)
    return usage_error ("%s", error->message);
  for (char **s = sets; s && *s; s++)
    if (!vb_preset_set (preset, *s, &error))
      return usage_error ("--set %s: %s", *s, error->message);
  if (gpus >= 0 && device == NULL)
    device = "cuda";
  if (device != NULL)
    {
      g_autofree char *assign = g_strconcat ("device=", device, NULL);
      if (!vb_preset_set (preset, assign, &error))
        return usage_error ("--device: %s", error->message);
    }
  if (gpus >= 0)
    {
      g_autofree char *assign = g_strdup_printf ("train.gpus=%d", gpus);
      if (!vb_preset_set (preset, assign, &error))
        return usage_error ("--gpus: %s", error->message);
    }

  /* a data-parallel job's other processes (launched by srun or mpirun) write nothing:
   * process 0 alone records the run */
  int process = gpus > 0 ? dist_process_rank () : 0;
  if (process > 0)
    opt_db = ":memory:";
  g_autoptr (VbStore) store = open_store (&error);
  if (store == NULL)
    return fail (error);
  print_recovered (store);
  cancel_on_signals ();

  CliProgress cp = { .tty = isatty (STDERR_FILENO) };
  VbRunnerHooks hooks = {
    .run_started = run_started_cb,
    .run_finished = run_finished_cb,
    .train = { progress_cb, cancel_cb, &cp },
    .notice = notice_cb,
  };
  printf ("%s: %u run%s, results in %s\n", vb_preset_get_title (preset),
          vb_preset_get_n_runs (preset), vb_preset_get_n_runs (preset) == 1 ? "" : "s",
          vb_store_get_path (store));
  fflush (stdout);
  g_autofree char *group = NULL;
  g_autoptr (GArray) ids = NULL;
  gboolean ok = vb_runner_run_preset (store, preset, &hooks, &group, &ids, &error);
  g_free (cp.run_name);
  if (ids == NULL)
    {
      /* nothing ran: a config the engine refuses is the user's to fix */
      if (g_error_matches (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID)
          || g_error_matches (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED))
        return usage_error ("%s", error->message);
      return fail (error);
    }
  if (process > 0)
    printf ("\nThis is process %d of a data-parallel job: process 0 records the runs\n",
            process);
  else
    {
      printf ("\n");
      print_compare (store, ids, 0, VB_TABLE_TEXT);
      printf ("\nCompare again with: visionbench-cli compare");
      for (guint i = 0; i < ids->len; i++)
        printf (" %" G_GINT64_FORMAT, g_array_index (ids, gint64, i));
      printf ("%s%s\n", opt_db ? " --db " : "", opt_db ? opt_db : "");
    }
  if (!ok)
    return fail (error);
  return 0;
}

/* ---- resume ---------------------------------------------------------------------------- */

/* Announced only once the run starts, so that a refusal stays one line. */
static void
resume_started_cb (gint64 run_id, const char *run_name, int index, int n_runs,
                   gpointer user_data)
{
  printf ("Resuming run %" G_GINT64_FORMAT " %s from its last checkpoint\n", run_id, run_name);
  run_started_cb (run_id, run_name, index, n_runs, user_data);
}

/* Exit status as for run: 0 the run finished, 1 it failed or was cancelled again (or the
 * database failed), 2 the request was refused before anything ran: no such run, a run
 * already done or still running, or one without a checkpoint. */
static int
cmd_resume (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Results database", "PATH" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("RUN");
  g_option_context_set_summary (ctx, "Continue a failed, cancelled or interrupted run from the "
                                     "checkpoint of its last finished epoch.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc != 2 || !parse_run_id (argv[1], &id))
    return usage_error ("resume needs one run id");

  g_autoptr (VbStore) store = open_store (&error);
  if (store == NULL)
    return fail (error);
  print_recovered (store);
  cancel_on_signals ();

  CliProgress cp = { .tty = isatty (STDERR_FILENO) };
  VbRunnerHooks hooks = {
    .run_started = resume_started_cb,
    .run_finished = run_finished_cb,
    .train = { progress_cb, cancel_cb, &cp },
  };
  gboolean ok = vb_runner_resume_run (store, id, &hooks, NULL, &error);
  g_free (cp.run_name);
  if (!cp.started)
    {
      if (g_error_matches (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID))
        return usage_error ("%s", error->message);
      return fail (error);
    }
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (ids, id);
  printf ("\n");
  print_compare (store, ids, 0, VB_TABLE_TEXT);
  if (!ok)
    return fail (error);
  return 0;
}

/* ---- runs, show, compare ---------------------------------------------------------------- */

static int
cmd_runs (int argc, char **argv)
{
  int limit = 50;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Results database", "PATH" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Show at most N runs (0: all)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc != 1 || limit < 0)
    return usage_error ("runs takes no arguments");
  g_autoptr (VbStore) store = open_store (&error);
  if (store == NULL)
    return fail (error);
  g_autoptr (GPtrArray) runs = vb_store_list_runs (store, VB_RUN_ANY, NULL, limit, &error);
  if (runs == NULL)
    return fail (error);
  if (runs->len == 0)
    printf ("No runs yet. Start one with: visionbench-cli run ss2d-directions\n");
  else
    printf ("%5s  %-11s  %-20s  %-38s  %s\n", "ID", "STATUS", "CREATED", "NAME", "GROUP");
  for (guint i = 0; i < runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      printf ("%5" G_GINT64_FORMAT "  %-11s  %-20.19s  %-38s  %s\n", r->id,
              vb_run_status_to_string (r->status), r->created_at ? r->created_at : "",
              r->name ? r->name : "", r->group_id ? r->group_id : "");
    }
  return 0;
}

static int
cmd_show (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Results database", "PATH" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("RUN");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc != 2 || !parse_run_id (argv[1], &id))
    return usage_error ("show needs one run id");
  g_autoptr (VbStore) store = open_store (&error);
  if (store == NULL)
    return fail (error);
  g_autoptr (VbRunRecord) r = vb_store_get_run (store, id, &error);
  if (r == NULL)
    return fail (error);
  printf ("Run %" G_GINT64_FORMAT ": %s\n", r->id, r->name);
  printf ("  status     %s%s%s\n", vb_run_status_to_string (r->status),
          r->error_message ? " — " : "", r->error_message ? r->error_message : "");
  printf ("  preset     %s (group %s)\n", r->preset ? r->preset : "-", r->group_id ? r->group_id : "-");
  printf ("  created    %s   started %s   finished %s\n", r->created_at ? r->created_at : "-",
          r->started_at ? r->started_at : "-", r->finished_at ? r->finished_at : "-");
  printf ("  device     %s on %s, software %s, seed %" G_GINT64_FORMAT "\n",
          r->device ? r->device : "-", r->hostname ? r->hostname : "-",
          r->software_version ? r->software_version : "-", r->seed);
  printf ("  params     %" G_GINT64_FORMAT ", multiply-adds per image %" G_GINT64_FORMAT "\n",
          r->params, r->macs);
  printf ("  dataset    %s\n", r->dataset_fingerprint ? r->dataset_fingerprint : "-");
  printf ("  checkpoint %s\n", r->checkpoint_path ? r->checkpoint_path : "-");
  printf ("  config     %s\n", r->config_json ? r->config_json : "-");
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, id, &error);
  if (epochs == NULL)
    return fail (error);
  if (epochs->len)
    printf ("\n  %5s  %10s  %8s  %8s  %8s  %11s  %10s\n", "epoch", "train loss", "val loss",
            "top-1 %", "top-5 %", "train img/s", "eval img/s");
  for (guint i = 0; i < epochs->len; i++)
    {
      VbEpochMetric *e = &g_array_index (epochs, VbEpochMetric, i);
      printf ("  %5d  %10.4f  %8.4f  %8.2f  %8.2f  %11.1f  %10.1f\n", e->epoch, e->train_loss,
              e->val_loss, e->val_top1, e->val_top5, e->img_per_s_train, e->img_per_s_eval);
    }
  g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, id, &error);
  if (tp == NULL)
    return fail (error);
  if (tp->len)
    printf ("\n  Throughput (with its protocol card):\n");
  for (guint i = 0; i < tp->len; i++)
    {
      VbThroughputRecord *t = g_ptr_array_index (tp, i);
      printf ("  %-5s %8.1f img/s  %s\n", t->kind, t->img_per_s, t->protocol_json);
    }
  return 0;
}

static int
cmd_compare (int argc, char **argv)
{
  char *baseline = NULL, *format_name = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Results database", "PATH" },
    { "baseline", 'b', 0, G_OPTION_ARG_STRING, &baseline, "Run the deltas compare against", "RUN" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, "table, csv, md or tex", "FORMAT" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[RUN...]");
  g_option_context_set_summary (ctx, "Without RUN: the runs of the latest experiment.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  VbTableFormat format = VB_TABLE_TEXT;
  if (format_name && !vb_table_format_from_string (format_name, &format))
    return usage_error ("--format must be table, csv, md or tex, not \"%s\"", format_name);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int i = 1; i < argc; i++)
    {
      gint64 id;
      if (!parse_run_id (argv[i], &id))
        return usage_error ("\"%s\" is not a run id", argv[i]);
      g_array_append_val (ids, id);
    }
  g_autoptr (VbStore) store = open_store (&error);
  if (store == NULL)
    return fail (error);
  if (ids->len == 0)
    {
      g_autoptr (GPtrArray) last = vb_store_last_group_runs (store, &error);
      if (last == NULL)
        return fail (error);
      for (guint i = 0; i < last->len; i++)
        g_array_append_val (ids, ((VbRunRecord *) g_ptr_array_index (last, i))->id);
      if (ids->len == 0)
        return usage_error ("no runs to compare yet");
    }
  int base_index = 0;
  if (baseline != NULL)
    {
      gint64 b;
      base_index = -1;
      if (!parse_run_id (baseline, &b))
        return usage_error ("--baseline \"%s\" is not a run id", baseline);
      for (guint i = 0; i < ids->len; i++)
        if (g_array_index (ids, gint64, i) == b)
          base_index = (int) i;
      if (base_index < 0)
        {
          g_array_prepend_val (ids, b);
          base_index = 0;
        }
    }
  return print_compare (store, ids, base_index, format);
}

/* ---- info, bench ----------------------------------------------------------------------------- */

static gboolean
model_from_options (const char *model, const char *scan, int classes, const char *dims,
                    const char *depths, VbVmambaConfig *cfg, GError **error)
{
  if (g_strcmp0 (model, "vmamba-t") == 0)
    vb_vmamba_config_tiny (cfg, classes);
  else if (g_strcmp0 (model, "vmamba") == 0)
    {
      int d[4] = { 2, 2, 8, 2 }, n = 4;
      if (depths != NULL)
        {
          g_auto (GStrv) parts = g_strsplit_set (depths, ",-", -1);
          n = g_strv_length (parts);
          if (n < 1 || n > 4)
            goto bad;
          for (int i = 0; i < n; i++)
            d[i] = atoi (parts[i]);
        }
      vb_vmamba_config_scaled (cfg, dims ? atoi (dims) : 96, d, n, classes);
    }
  else
    goto bad;
  if (scan && !vb_scan_mode_from_string (scan, &cfg->scan))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "--scan must be 4dir, 2dir, 1dir or lean2dir");
      return FALSE;
    }
  return vb_vmamba_config_validate (cfg, error);
bad:
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "--model must be vmamba-t, or vmamba with --dims N --depths A,B,C,D");
  return FALSE;
}

/* info --model proj-*: the study's projector (1024 → 1024), per token */
static int
info_projector (const char *name, gboolean json)
{
  VbProjInfo info;
  g_autoptr (GError) error = NULL;
  if (!vb_projector_info (name, &info, &error))
    return usage_error ("%s", error->message);
  if (json)
    {
      printf ("{\"model\": \"%s\", \"params\": %" G_GINT64_FORMAT ", \"trainable\": %"
              G_GINT64_FORMAT ", \"macs_per_token\": %" G_GINT64_FORMAT
              ", \"macs_per_token_merged\": %" G_GINT64_FORMAT ", \"param_bytes\": %"
              G_GINT64_FORMAT ", \"train_state_bytes\": %" G_GINT64_FORMAT
              ", \"activation_bytes_per_token\": %" G_GINT64_FORMAT
              ", \"activation_bytes_per_token_training\": %" G_GINT64_FORMAT "}\n",
              name, info.params, info.trainable, info.macs_per_token, info.macs_per_token_merged,
              info.param_bytes, info.train_state_bytes, info.act_bytes_per_token_infer,
              info.act_bytes_per_token_train);
      return 0;
    }
  printf ("Model              %s (1024 → 1024, the study's projector)\n", name);
  printf ("Parameters         %'" G_GINT64_FORMAT " (%'" G_GINT64_FORMAT " trainable)\n",
          info.params, info.trainable);
  printf ("Multiply-adds      %'" G_GINT64_FORMAT " per token", info.macs_per_token);
  if (info.macs_per_token_merged != info.macs_per_token)
    printf (" (%'" G_GINT64_FORMAT " with merged weights)", info.macs_per_token_merged);
  printf ("\nMemory             %.2f MiB of parameters, %'" G_GINT64_FORMAT
          " bytes of activations per token (inference)\n",
          info.param_bytes / 1048576.0, info.act_bytes_per_token_infer);
  return 0;
}

/* info --model clip-vit-l14 [--img 224|336]: the vision tower, per image */
static int
info_clip (int img, gboolean json)
{
  if (img != 224 && img != 336)
    return usage_error ("clip-vit-l14 comes at --img 224 or 336");
  VbClipConfig cfg;
  vb_clip_config_vit_l14 (&cfg, img);
  int64_t params = vb_clip_param_count (&cfg);
  int64_t macs = vb_clip_macs (&cfg, cfg.layers);
  int64_t macs_llava = vb_clip_macs (&cfg, cfg.layers - 1);
  int64_t act = vb_clip_activation_bytes (&cfg, 1, FALSE);
  int64_t act16 = vb_clip_activation_bytes (&cfg, 1, TRUE);
  if (json)
    {
      printf ("{\"model\": \"clip-vit-l14\", \"img\": %d, \"params\": %" G_GINT64_FORMAT
              ", \"macs\": %" G_GINT64_FORMAT ", \"macs_llava_features\": %" G_GINT64_FORMAT
              ", \"activation_bytes\": %" G_GINT64_FORMAT ", \"activation_bytes_bf16\": %"
              G_GINT64_FORMAT "}\n", img, params, macs, macs_llava, act, act16);
      return 0;
    }
  printf ("Model              clip-vit-l14 vision tower, %d px, %d layers, width %d\n", img,
          cfg.layers, cfg.width);
  printf ("Parameters         %'" G_GINT64_FORMAT "\n", params);
  printf ("Multiply-adds      %'" G_GINT64_FORMAT " per image (%'" G_GINT64_FORMAT
          " up to LLaVA's penultimate layer)\n", macs, macs_llava);
  printf ("Working memory     %.1f MiB per image (fp32, forward only), %.1f MiB in bf16 "
          "storage (the GPU's bf16; its weights add a bf16 copy)\n", act / 1048576.0,
          act16 / 1048576.0);
  return 0;
}

static int
cmd_info (int argc, char **argv)
{
  char *model = NULL, *scan = NULL, *dims = NULL, *depths = NULL;
  int img = 224, classes = 1000;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
      "vmamba-t, vmamba, clip-vit-l14, proj-linear, proj-lowrank, proj-mlp, proj-gated or "
      "proj-lora", "MODEL" },
    { "img", 0, 0, G_OPTION_ARG_INT, &img, "Input size (default 224)", "N" },
    { "classes", 0, 0, G_OPTION_ARG_INT, &classes, "Classes (default 1000)", "N" },
    { "scan", 0, 0, G_OPTION_ARG_STRING, &scan, "4dir, 2dir, 1dir, lean2dir", "MODE" },
    { "dims", 0, 0, G_OPTION_ARG_STRING, &dims, "Stage-1 width (model vmamba)", "N" },
    { "depths", 0, 0, G_OPTION_ARG_STRING, &depths, "Blocks per stage (model vmamba)", "A,B,C,D" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc != 1 || img < 8 || img > 4096)
    return usage_error ("info: bad arguments (--img must be 8 to 4096)");
  if (model != NULL && g_str_has_prefix (model, "proj-"))
    return info_projector (model, json);
  if (g_strcmp0 (model, "clip-vit-l14") == 0)
    return info_clip (img, json);
  VbVmambaConfig cfg;
  if (!model_from_options (model ? model : "vmamba-t", scan, classes, dims, depths, &cfg, &error))
    return usage_error ("%s", error->message);
  int64_t params = vb_vmamba_param_count (&cfg);
  int64_t macs = vb_vmamba_macs (&cfg, img, img);
  int64_t act = vb_vmamba_activation_bytes (&cfg, img, img, FALSE);
  int64_t act16 = vb_vmamba_activation_bytes (&cfg, img, img, TRUE);
  if (json)
    {
      printf ("{\"model\": \"%s\", \"scan\": \"%s\", \"img\": %d, \"classes\": %d, "
              "\"params\": %" G_GINT64_FORMAT ", \"macs\": %" G_GINT64_FORMAT ", "
              "\"activation_bytes\": %" G_GINT64_FORMAT ", "
              "\"activation_bytes_bf16\": %" G_GINT64_FORMAT "}\n", model ? model : "vmamba-t",
              vb_scan_mode_to_string (cfg.scan), img, classes, params, macs, act, act16);
      return 0;
    }
  printf ("Model              %s, %s, dims %d, depths", model ? model : "vmamba-t",
          vb_scan_mode_label (cfg.scan), cfg.dims[0]);
  for (int i = 0; i < cfg.n_stages; i++)
    printf ("%s%d", i ? "-" : " ", cfg.depths[i]);
  printf (", d_state %d, %d classes\n", cfg.d_state, cfg.num_classes);
  printf ("Parameters         %'" G_GINT64_FORMAT "\n", params);
  printf ("Multiply-adds      %'" G_GINT64_FORMAT " per image at %d×%d (fvcore convention)\n",
          macs, img, img);
  printf ("Activation memory  %.1f MiB per image kept for the backward (fp32, this engine), "
          "%.1f MiB in bf16 storage\n", act / 1048576.0, act16 / 1048576.0);
  return 0;
}

/* ", peak device memory 2.41 GiB" for a GPU run; "" on the CPU */
static const char *
peak_note (int64_t bytes)
{
  static char note[64];
  if (bytes <= 0)
    return "";
  g_snprintf (note, sizeof note, ", peak device memory %.2f GiB", bytes / 1073741824.0);
  return note;
}

/* " on 2 GPUs, 1412.3 per GPU" for a data-parallel bench; "" otherwise */
static const char *
per_gpu_note (const VbBenchResult *r)
{
  static char note[64];
  if (r->gpus <= 0)
    return "";
  g_snprintf (note, sizeof note, " on %d GPU%s, %.1f per GPU", r->gpus, r->gpus == 1 ? "" : "s",
              r->per_gpu_img_per_s);
  return note;
}

/* --precision: a known name, and a tensor-core mode only on the GPU (the CPU refuses it
 * rather than fall back); 0, or the usage error's exit status */
static int
check_precision (const char *precision, const char *device)
{
  if (precision != NULL && !g_str_equal (precision, "fp32") && !g_str_equal (precision, "tf32")
      && !g_str_equal (precision, "bf16"))
    return usage_error ("--precision must be fp32, tf32 or bf16");
  if (precision != NULL && !g_str_equal (precision, "fp32") && g_strcmp0 (device, "cuda") != 0)
    return usage_error ("--precision %s needs --device cuda (%s is a GPU mode)", precision,
                        g_str_equal (precision, "tf32") ? "TF32" : "bf16");
  return 0;
}

/* bench --model clip-vit-l14: the vision tower's inference throughput */
static int
bench_clip (int img, int batch, int warmup, int steps, int threads, const char *mode,
            const char *device, const char *precision, gboolean llava, gboolean profile,
            gboolean json)
{
  g_autoptr (GError) error = NULL;
  if (img != 224 && img != 336)
    return usage_error ("clip-vit-l14 comes at --img 224 or 336");
  if (batch < 1 || steps < 1 || warmup < 0 || threads < 1)
    return usage_error ("bench: bad arguments");
  if (mode != NULL && !g_str_equal (mode, "eval"))
    return usage_error ("clip-vit-l14 is a frozen tower: --mode eval (forward only)");
  if (profile)
    return usage_error ("--profile is for the VMamba step; clip-profile runs the tower stage by "
                        "stage (visionbench-cli run clip-profile)");
  int bad = check_precision (precision, device);
  if (bad)
    return bad;
  VbClipConfig cfg;
  vb_clip_config_vit_l14 (&cfg, img);
  VbBenchProtocol p = { batch, img, warmup, steps, threads, FALSE, FALSE, device, precision };
  g_auto (VbBenchResult) r = { 0 };
  if (!vb_clip_bench_run (&cfg, llava, &p, &r, &error))
    return fail (error);
  g_autofree char *card = vb_clip_bench_protocol_json (&cfg, llava, &p);
  if (json)
    printf ("{\"img_per_s\": %.2f, \"median_s\": %.5f, \"min_s\": %.5f, \"iqr_s\": %.5f, "
            "\"peak_device_bytes\": %" G_GINT64_FORMAT ", \"protocol\": %s}\n", r.img_per_s,
            r.median_s, r.min_s, r.iqr_s, r.peak_device_bytes, card);
  else
    printf ("eval  %9.1f img/s  (median forward %.4f s, IQR %.4f s%s)  protocol: %s\n",
            r.img_per_s, r.median_s, r.iqr_s, peak_note (r.peak_device_bytes), card);
  fflush (stdout);
  return 0;
}

/* bench --model proj-*: one projector's inference forward over inputs × tokens features */
static int
bench_projector (const char *model, int inputs, int tokens, int warmup, int steps,
                 int threads, const char *device, const char *precision, gboolean json)
{
  g_autoptr (GError) error = NULL;
  if (inputs < 1 || tokens < 1 || steps < 1 || warmup < 0 || threads < 1)
    return usage_error ("bench: bad arguments");
  int bad = check_precision (precision, device);
  if (bad)
    return bad;
  VbProjBenchProtocol p = { inputs, tokens, warmup, steps, threads, device ? device : "cpu",
                            precision ? precision : "fp32" };
  g_auto (VbBenchResult) r = { 0 };
  if (!vb_projector_bench_run (model, &p, &r, &error))
    return g_error_matches (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID)
           ? usage_error ("%s", error->message) : fail (error);
  g_autofree char *card = vb_projector_bench_protocol_json (model, &p);
  if (json)
    printf ("{\"ms\": %.4f, \"min_ms\": %.4f, \"iqr_ms\": %.4f, \"peak_device_bytes\": %"
            G_GINT64_FORMAT ", \"protocol\": %s}\n", r.median_s * 1e3, r.min_s * 1e3,
            r.iqr_s * 1e3, r.peak_device_bytes, card);
  else
    printf ("%s  %.3f ms a forward over %d × %d tokens (IQR %.3f ms%s)  protocol: %s\n", model,
            r.median_s * 1e3, inputs, tokens, r.iqr_s * 1e3, peak_note (r.peak_device_bytes),
            card);
  fflush (stdout);
  return 0;
}

static int
cmd_bench (int argc, char **argv)
{
  char *model = NULL, *scan = NULL, *dims = NULL, *depths = NULL, *mode = NULL, *device = NULL;
  char *precision = NULL;
  int img = 0, classes = 10, batch = 0, warmup = 1, steps = 3, threads = 2, gpus = 0;
  int tokens = 576;
  gboolean json = FALSE, profile = FALSE, llava = FALSE;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu (default) or cuda", "DEVICE" },
    { "gpus", 0, 0, G_OPTION_ARG_INT, &gpus,
      "VMamba: data parallel on N GPUs through NCCL, --batch images on each (implies --device "
      "cuda)", "N" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision,
      "fp32 (default, strict); on the GPU tf32 (TF32 matrix products) or bf16 (VMamba: bf16 "
      "storage of the block products' operands; the CLIP tower: bf16 storage of its layers, "
      "fused attention), fp32 accumulation", "P" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
      "vmamba-t, vmamba, clip-vit-l14, or a projector (proj-linear, proj-lowrank, proj-mlp, "
      "proj-gated, proj-lora)", "MODEL" },
    { "tokens", 0, 0, G_OPTION_ARG_INT, &tokens,
      "Projectors: feature tokens per input (576; --batch inputs, 200)", "N" },
    { "dims", 0, 0, G_OPTION_ARG_STRING, &dims, "Stage-1 width (model vmamba)", "N" },
    { "depths", 0, 0, G_OPTION_ARG_STRING, &depths, "Blocks per stage", "A,B,C,D" },
    { "scan", 0, 0, G_OPTION_ARG_STRING, &scan, "4dir, 2dir, 1dir, lean2dir", "MODE" },
    { "img", 0, 0, G_OPTION_ARG_INT, &img, "Input size (64; clip-vit-l14: 224 or 336)", "N" },
    { "classes", 0, 0, G_OPTION_ARG_INT, &classes, "Classes (10)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Batch (16)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed steps (1)", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Timed steps (3)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU threads (2)", "N" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "train, eval or both (both)", "MODE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON lines", NULL },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &profile, "Print where the timed steps' time goes, per op",
      NULL },
    { "llava", 0, 0, G_OPTION_ARG_NONE, &llava,
      "clip-vit-l14: LLaVA's path only (hidden_states[-2], all layers but the last)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (model != NULL && g_str_has_prefix (model, "proj-"))
    return argc != 1 || gpus > 0 || profile ? usage_error ("bench: bad arguments for a projector")
                     : bench_projector (model, batch ? batch : 200, tokens, warmup, steps,
                                        threads, device, precision, json);
  if (batch == 0)
    batch = 16;
  if (g_strcmp0 (model, "clip-vit-l14") == 0)
    return argc != 1 ? usage_error ("bench: bad arguments")
                     : bench_clip (img ? img : 224, batch, warmup, steps, threads, mode,
                                   device, precision, llava, profile, json);
  if (img == 0)
    img = 64;
  if (argc != 1 || img < 8 || batch < 1 || steps < 1 || warmup < 0 || threads < 1 || gpus < 0)
    return usage_error ("bench: bad arguments");
  if (gpus > 0 && device == NULL)
    device = "cuda";
  if (gpus > 0 && g_strcmp0 (device, "cuda") != 0)
    return usage_error ("--gpus needs --device cuda");
  VbVmambaConfig cfg;
  if (!model_from_options (model ? model : "vmamba-t", scan, classes, dims, depths, &cfg, &error))
    return usage_error ("%s", error->message);
  int bad = check_precision (precision, device);
  if (bad)
    return bad;
  gboolean do_train = mode == NULL || g_str_equal (mode, "train") || g_str_equal (mode, "both");
  gboolean do_eval = mode == NULL || g_str_equal (mode, "eval") || g_str_equal (mode, "both");
  if (!do_train && !do_eval)
    return usage_error ("--mode must be train, eval or both");
  for (int pass = 0; pass < 2; pass++)
    {
      if ((pass == 0 && !do_train) || (pass == 1 && !do_eval))
        continue;
      VbBenchProtocol p = { batch, img, warmup, steps, threads, pass == 0, profile, device,
                            precision, gpus };
      g_auto (VbBenchResult) r = { 0 };
      if (!vb_bench_run (&cfg, &p, &r, &error))
        return fail (error);
      g_autofree char *card = vb_bench_protocol_json (&p, &r);
      if (json)
        printf ("{\"img_per_s\": %.2f, \"median_s\": %.5f, \"min_s\": %.5f, \"iqr_s\": %.5f, "
                "\"peak_device_bytes\": %" G_GINT64_FORMAT ", \"gpus\": %d, "
                "\"per_gpu_img_per_s\": %.2f, \"protocol\": %s}\n", r.img_per_s, r.median_s,
                r.min_s, r.iqr_s, r.peak_device_bytes, r.gpus, r.per_gpu_img_per_s, card);
      else
        printf ("%-5s %9.1f img/s%s  (median step %.3f s, IQR %.3f s%s)  protocol: %s\n",
                pass == 0 ? "train" : "eval", r.img_per_s, per_gpu_note (&r), r.median_s,
                r.iqr_s, peak_note (r.peak_device_bytes), card);
      if (r.profile != NULL)
        printf ("%s", r.profile);
      fflush (stdout);
    }
  return 0;
}

/* ---- predict ----------------------------------------------------------------------------------- */

static int
cmd_predict (int argc, char **argv)
{
  char *weights = NULL, *scan = NULL, *image = NULL;
  int size = 224;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &weights, ".pth or .safetensors", "FILE" },
    { "scan", 0, 0, G_OPTION_ARG_STRING, &scan, "4dir, 2dir, 1dir, lean2dir", "MODE" },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &image, "Image file", "FILE" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Input size (224)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  VbScanMode mode;
  if (argc != 1 || weights == NULL || image == NULL || scan == NULL)
    return usage_error ("predict needs --weights FILE --scan MODE --image FILE");
  if (!vb_scan_mode_from_string (scan, &mode))
    return usage_error ("--scan must be 4dir, 2dir, 1dir or lean2dir (it cannot be read from a checkpoint)");
  if (size < 8 || size > 4096)
    return usage_error ("--size must be 8 to 4096");
  g_auto (VbPrediction) pred = { 0 };
  if (!vb_predict_image (weights, mode, image, size, &pred, &error))
    return fail (error);
  GString *out = g_string_new (json ? "{\"logits\": [" : "logits:");
  for (int c = 0; c < pred.n_classes; c++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (buf, sizeof buf, "%.9g", pred.logits[c]);
      g_string_append_printf (out, json ? "%s%s" : "%s%s", c ? (json ? ", " : " ") : (json ? "" : " "), buf);
    }
  g_string_append (out, json ? "], \"top5\": [" : "\ntop5:");
  for (int k = 0; k < pred.n_top; k++)
    g_string_append_printf (out, json ? "%s%d" : " %s%d", k && json ? ", " : "", pred.top5[k]);
  g_string_append (out, json ? "]}\n" : "\n");
  g_autofree char *s = g_string_free (out, FALSE);
  fputs (s, stdout);
  return 0;
}

/* ---- main -------------------------------------------------------------------------------------- */

static const char help_text[] =
  "Usage: visionbench-cli COMMAND [OPTIONS]\n"
  "\n"
  "Commands:\n"
  "  presets                         List the experiment presets\n"
  "  run PRESET [--set KEY=VALUE]... [--device cpu] [--db PATH]\n"
  "                                  Run an experiment (a grid expands into runs)\n"
  "  resume RUN [--db PATH]          Continue a cancelled, failed or interrupted run from\n"
  "                                  its last checkpoint (exit 2: done, running or none)\n"
  "  runs [--db PATH]                List runs, newest first\n"
  "  show RUN                        A run's config, metrics and throughput protocol\n"
  "  compare [RUN...] [--baseline RUN] [--format table|csv|md|tex]\n"
  "                                  Side-by-side table (default: the latest experiment);\n"
  "                                  clip-profile runs: per-stage tables and a stacked bar\n"
  "  info --model vmamba-t [--img N] [--classes N] [--json]\n"
  "                                  Parameters, multiply-adds, activation memory\n"
  "  bench [--model ...] [--img N] [--batch N] [--steps N]\n"
  "                                  Throughput with its protocol card (VMamba,\n"
  "                                  --model clip-vit-l14 for the CLIP tower, or\n"
  "                                  --model proj-NAME for a projector's forward)\n"
  "  predict --weights FILE --scan 4dir|2dir|1dir --image FILE [--size N] [--json]\n"
  "                                  Raw logits and top-5 for one image\n"
  "\n"
  "Run 'visionbench-cli COMMAND --help' for a command's options.\n";

int
main (int argc, char **argv)
{
  /* OpenMP threads that spin while waiting starve OpenBLAS's threads and the data
   * loader on a 2-core machine (steps became 20× slower under load). libgomp reads the
   * policy when it loads, so set it and start again once. */
  if (g_getenv ("OMP_WAIT_POLICY") == NULL)
    {
      g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
      execv ("/proc/self/exe", argv);
    }
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      fputs (help_text, stderr);
      return EXIT_USAGE;
    }
  const char *cmd = argv[1];
  if (g_str_equal (cmd, "--help") || g_str_equal (cmd, "-h") || g_str_equal (cmd, "help"))
    {
      fputs (help_text, stdout);
      return 0;
    }
  if (g_str_equal (cmd, "--version"))
    {
      printf ("visionbench-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  static const struct {
    const char *name;
    int (*fn) (int, char **);
  } commands[] = {
    { "presets", cmd_presets }, { "run", cmd_run }, { "resume", cmd_resume },
    { "runs", cmd_runs },
    { "show", cmd_show }, { "compare", cmd_compare }, { "info", cmd_info },
    { "bench", cmd_bench }, { "predict", cmd_predict },
  };
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (cmd, commands[i].name))
      {
        g_set_prgname (g_strdup_printf ("visionbench-cli %s", cmd));
        int rc = commands[i].fn (argc - 1, argv + 1);
        /* after a lost peer NCCL may hold threads that wait for it forever: the results
         * are written, so end without running exit handlers that could join them */
        if (vb_dist_world_lost ())
          {
            fflush (NULL);
            _exit (rc);
          }
        return rc;
      }
  return usage_error ("unknown command \"%s\"", cmd);
}
