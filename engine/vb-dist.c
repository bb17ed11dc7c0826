/* vb-dist.c: the launcher's environment and the NCCL id file (see vb-dist.h). */
#include "config.h"

#include "vb-dist.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vb-error.h"

#define MAX_PROCS 65536
#define ID_MAGIC "visionbench-nccl-id 1"
#define ID_FILE_MAX 4096      /* a valid file is ~330 bytes */

void
vb_dist_env_clear (VbDistEnv *env)
{
  g_clear_pointer (&env->launcher, g_free);
  g_clear_pointer (&env->job_id, g_free);
  g_clear_pointer (&env->id_file, g_free);
}

/* a launcher's names for rank, size, local rank and job id (job may list two, joined
 * with "."), in order of preference */
typedef struct {
  const char *launcher, *rank, *size, *local, *job, *job2;
} LauncherVars;

static const LauncherVars launchers[] = {
  { "visionbench", "VB_RANK", "VB_WORLD_SIZE", "VB_LOCAL_RANK", "VB_JOB_ID", NULL },
  /* inside srun the step's task count; SLURM_NTASKS alone is also set in a batch script
   * that runs one process */
  { "slurm", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM_JOB_ID",
    "SLURM_STEP_ID" },
  { "open-mpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
    "PMIX_NAMESPACE", NULL },
  { "mpich", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "PMI_JOBID", NULL },
};

static gboolean
read_int (char **envp, const char *name, int lo, int hi, int fallback, int *out, GError **error)
{
  const char *text = g_environ_getenv (envp, name);
  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  gint64 v = 0;
  g_autoptr (GError) parse = NULL;
  if (!g_ascii_string_to_signed (text, 10, lo, hi, &v, &parse))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s=\"%s\" is not a whole number from %d to %d", name, text, lo, hi);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

gboolean
vb_dist_env_read (VbDistEnv *env, char **envp, GError **error)
{
  memset (env, 0, sizeof *env);
  const LauncherVars *lv = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (launchers) && lv == NULL; i++)
    if (g_environ_getenv (envp, launchers[i].rank) != NULL)
      lv = &launchers[i];
  const char *file = g_environ_getenv (envp, "VB_NCCL_ID_FILE");
  env->id_file = file != NULL && file[0] != '\0' ? g_strdup (file) : NULL;
  if (lv == NULL)
    {
      env->n_procs = 1;
      env->launcher = g_strdup ("none");
      env->job_id = g_strdup ("");
      return TRUE;
    }
  env->launcher = g_strdup (lv->launcher);
  /* Slurm outside srun has no step task count */
  const char *size_name = lv->size;
  if (g_str_equal (lv->launcher, "slurm") && g_environ_getenv (envp, size_name) == NULL)
    size_name = "SLURM_NTASKS";
  if (g_environ_getenv (envp, size_name) == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s is set but %s is not: the world's size is unknown", lv->rank, size_name);
      return FALSE;
    }
  if (!read_int (envp, size_name, 1, MAX_PROCS, 1, &env->n_procs, error)
      || !read_int (envp, lv->rank, 0, MAX_PROCS - 1, 0, &env->proc_rank, error)
      || !read_int (envp, lv->local, 0, MAX_PROCS - 1, 0, &env->local_proc, error))
    return FALSE;
  if (env->proc_rank >= env->n_procs)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s=%d is not below %s=%d", lv->rank, env->proc_rank, size_name,
                   env->n_procs);
      return FALSE;
    }
  const char *job = g_environ_getenv (envp, lv->job);
  const char *job2 = lv->job2 ? g_environ_getenv (envp, lv->job2) : NULL;
  env->job_id = job2 != NULL && job != NULL ? g_strdup_printf ("%s.%s", job, job2)
                                            : g_strdup (job ? job : "");
  if (env->n_procs > 1 && env->id_file == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s started %d processes, but VB_NCCL_ID_FILE is not set: name a file on a "
                   "file system every process can read (process 0 writes the NCCL id there)",
                   lv->launcher, env->n_procs);
      return FALSE;
    }
  return TRUE;
}

int
vb_dist_gpu_for (const VbDistEnv *env, int gpus, int visible, int k)
{
  int gpu = visible == gpus ? k : env->local_proc * gpus + k;
  return gpu >= 0 && gpu < visible ? gpu : -1;
}

/* ---- the id file ------------------------------------------------------------------------- */

/* job ids go into one line: anything but printable ASCII without spaces becomes '_' */
static char *
job_token (const char *job_id)
{
  if (job_id == NULL || job_id[0] == '\0')
    return g_strdup ("-");
  char *t = g_strndup (job_id, 200);
  for (char *c = t; *c; c++)
    if (*c <= ' ' || *c > '~')
      *c = '_';
  return t;
}

gboolean
vb_dist_id_publish (const char *path, const char *job_id, int n_procs,
                    const guint8 id[VB_DIST_ID_BYTES], GError **error)
{
  g_autofree char *job = job_token (job_id);
  GString *text = g_string_new (ID_MAGIC "\n");
  g_string_append_printf (text, "job %s\nprocesses %d\nid ", job, n_procs);
  for (int i = 0; i < VB_DIST_ID_BYTES; i++)
    g_string_append_printf (text, "%02x", id[i]);
  g_string_append_c (text, '\n');
  g_autoptr (GError) werr = NULL;
  /* g_file_set_contents writes a temporary file and renames it over the path */
  gboolean ok = g_file_set_contents (path, text->str, (gssize) text->len, &werr);
  g_string_free (text, TRUE);
  if (!ok)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                 "cannot write the NCCL id file %s: %s", path, werr->message);
  return ok;
}

static gboolean
bad_file (const char *path, const char *why, GError **error)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT, "NCCL id file %s: %s", path,
               why);
  return FALSE;
}

static int
hex_value (char c)
{
  return g_ascii_xdigit_value (c);
}

/* parses one file: TRUE with the id; FALSE with *stale set for another job's file (no
 * error), or with an error for a malformed one */
static gboolean
parse_id_file (const char *path, const char *text, gsize len, const char *job, int n_procs,
               guint8 id[VB_DIST_ID_BYTES], gboolean *stale, GError **error)
{
  *stale = FALSE;
  if (memchr (text, '\0', len) != NULL)
    return bad_file (path, "binary content", error);
  g_auto (GStrv) lines = g_strsplit (text, "\n", 6);
  if (g_strv_length (lines) < 4 || !g_str_equal (lines[0], ID_MAGIC))
    return bad_file (path, "not a VisionBench NCCL id file (first line \"" ID_MAGIC "\")",
                     error);
  if (!g_str_has_prefix (lines[1], "job ") || !g_str_has_prefix (lines[2], "processes ")
      || !g_str_has_prefix (lines[3], "id "))
    return bad_file (path, "expected the lines job, processes and id", error);
  if (!g_str_equal (lines[1] + 4, job))
    {
      *stale = TRUE;   /* an earlier job's: process 0 of this one has not written yet */
      return FALSE;
    }
  gint64 procs = 0;
  if (!g_ascii_string_to_signed (lines[2] + 10, 10, 1, MAX_PROCS, &procs, NULL))
    return bad_file (path, "the process count is not a number", error);
  if (procs != n_procs)
    {
      g_autofree char *why = g_strdup_printf ("written for %d processes, this job has %d",
                                              (int) procs, n_procs);
      return bad_file (path, why, error);
    }
  const char *hex = lines[3] + 3;
  if (strlen (hex) != 2 * VB_DIST_ID_BYTES)
    return bad_file (path, "the id is not 256 hexadecimal digits", error);
  for (int i = 0; i < VB_DIST_ID_BYTES; i++)
    {
      int hi = hex_value (hex[2 * i]), lo = hex_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return bad_file (path, "the id is not 256 hexadecimal digits", error);
      id[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

gboolean
vb_dist_id_fetch (const char *path, const char *job_id, int n_procs,
                  guint8 id[VB_DIST_ID_BYTES], double timeout_s, GError **error)
{
  g_autofree char *job = job_token (job_id);
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * 1e6);
  gboolean seen_stale = FALSE;
  for (;;)
    {
      g_autofree char *text = NULL;
      gsize len = 0;
      GStatBuf st;
      /* a file that is too large is not ours; refuse it before reading it */
      if (g_stat (path, &st) == 0 && st.st_size > ID_FILE_MAX)
        return bad_file (path, "larger than an id file can be", error);
      if (g_file_get_contents (path, &text, &len, NULL))
        {
          gboolean stale = FALSE;
          if (parse_id_file (path, text, len, job, n_procs, id, &stale, error))
            return TRUE;
          if (!stale)
            return FALSE;
          seen_stale = TRUE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                       "waited %.0f s for process 0 to write the NCCL id file %s (%s): is "
                       "process 0 running, and does every process see the same file?",
                       timeout_s, path,
                       seen_stale ? "it holds another job's id" : "it does not exist");
          return FALSE;
        }
      g_usleep (50000);
    }
}
