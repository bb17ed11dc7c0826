/* Data parallel, the parts that need no GPU: the launcher's environment, the NCCL id
 * file read as untrusted input, which GPU a worker takes, the model's notices that a
 * gradient suffix is final, and the arithmetic of sharding (the mean of the shards'
 * gradients is the whole batch's, drop paths included). The NCCL runs themselves are in
 * test-dist-gpu. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vb-dist.h"
#include "vb-engine-test.h"
#include "vb-error.h"
#include "vb-vmamba.h"

/* ---- the launcher's environment ---------------------------------------------------------- */

static gboolean
read_env (VbDistEnv *env, const char *const *vars, GError **error)
{
  g_auto (GStrv) envp = g_strdupv ((char **) vars);
  return vb_dist_env_read (env, envp, error);
}

static void
test_env_launchers (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (VbDistEnv) none = { 0 };
  const char *bare[] = { "HOME=/tmp", NULL };
  g_assert_true (read_env (&none, bare, &error));
  g_assert_cmpint (none.n_procs, ==, 1);
  g_assert_cmpint (none.proc_rank, ==, 0);
  g_assert_cmpstr (none.launcher, ==, "none");

  /* inside srun: the step's task count, the job and step ids */
  g_auto (VbDistEnv) slurm = { 0 };
  const char *srun[] = { "SLURM_PROCID=3", "SLURM_STEP_NUM_TASKS=4", "SLURM_NTASKS=8",
                         "SLURM_LOCALID=1", "SLURM_JOB_ID=777", "SLURM_STEP_ID=0",
                         "VB_NCCL_ID_FILE=/shared/id", NULL };
  g_assert_true (read_env (&slurm, srun, &error));
  g_assert_cmpstr (slurm.launcher, ==, "slurm");
  g_assert_cmpint (slurm.proc_rank, ==, 3);
  g_assert_cmpint (slurm.n_procs, ==, 4);
  g_assert_cmpint (slurm.local_proc, ==, 1);
  g_assert_cmpstr (slurm.job_id, ==, "777.0");
  g_assert_cmpstr (slurm.id_file, ==, "/shared/id");

  /* VB_* wins over a launcher's */
  g_auto (VbDistEnv) vb = { 0 };
  const char *mixed[] = { "VB_RANK=1", "VB_WORLD_SIZE=2", "SLURM_PROCID=5", "SLURM_NTASKS=9",
                          "VB_NCCL_ID_FILE=/tmp/x", NULL };
  g_assert_true (read_env (&vb, mixed, &error));
  g_assert_cmpstr (vb.launcher, ==, "visionbench");
  g_assert_cmpint (vb.proc_rank, ==, 1);
  g_assert_cmpint (vb.n_procs, ==, 2);
  g_assert_cmpstr (vb.job_id, ==, "");

  g_auto (VbDistEnv) mpi = { 0 };
  const char *ompi[] = { "OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=1",
                         "OMPI_COMM_WORLD_LOCAL_RANK=0", NULL };
  g_assert_true (read_env (&mpi, ompi, &error));
  g_assert_cmpstr (mpi.launcher, ==, "open-mpi");
  g_assert_no_error (error);
}

static void
assert_env_error (const char *const *vars, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_auto (VbDistEnv) env = { 0 };
  g_assert_false (read_env (&env, vars, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" does not mention %s", error->message, needle);
}

static void
test_env_errors (void)
{
  const char *junk[] = { "VB_RANK=one", "VB_WORLD_SIZE=2", "VB_NCCL_ID_FILE=/x", NULL };
  assert_env_error (junk, "VB_RANK=\"one\"");
  const char *past[] = { "VB_RANK=2", "VB_WORLD_SIZE=2", "VB_NCCL_ID_FILE=/x", NULL };
  assert_env_error (past, "not below VB_WORLD_SIZE=2");
  const char *no_size[] = { "PMI_RANK=0", NULL };
  assert_env_error (no_size, "PMI_SIZE");
  const char *no_file[] = { "SLURM_PROCID=0", "SLURM_NTASKS=2", NULL };
  assert_env_error (no_file, "VB_NCCL_ID_FILE");
  const char *negative[] = { "VB_RANK=0", "VB_WORLD_SIZE=-3", NULL };
  assert_env_error (negative, "VB_WORLD_SIZE");
}

static void
test_gpu_for (void)
{
  VbDistEnv env = { .local_proc = 1, .n_procs = 2 };
  /* the process sees only its own GPUs (srun --gpus-per-task): its own numbering */
  g_assert_cmpint (vb_dist_gpu_for (&env, 2, 2, 1), ==, 1);
  /* it sees the whole host: the second process takes the host's GPUs 2 and 3 */
  g_assert_cmpint (vb_dist_gpu_for (&env, 2, 4, 0), ==, 2);
  g_assert_cmpint (vb_dist_gpu_for (&env, 2, 4, 1), ==, 3);
  /* not there */
  g_assert_cmpint (vb_dist_gpu_for (&env, 2, 3, 1), ==, -1);
  env.local_proc = 0;
  g_assert_cmpint (vb_dist_gpu_for (&env, 3, 2, 2), ==, -1);
}

/* ---- the id file ------------------------------------------------------------------------------ */

static void
test_id_file_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vb-dist-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "nccl.id", NULL);
  guint8 id[VB_DIST_ID_BYTES], got[VB_DIST_ID_BYTES];
  for (int i = 0; i < VB_DIST_ID_BYTES; i++)
    id[i] = (guint8) (i * 37 + 11);
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_dist_id_publish (path, "42.0", 3, id, &error));
  g_assert_true (vb_dist_id_fetch (path, "42.0", 3, got, 1.0, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (id, sizeof id, got, sizeof got);

  /* another job's file is stale: waited past, then a clear timeout */
  gint64 t0 = g_get_monotonic_time ();
  g_assert_false (vb_dist_id_fetch (path, "43.0", 3, got, 0.2, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "another job"));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 200000);
  g_clear_error (&error);

  /* no file at all */
  g_autofree char *missing = g_build_filename (dir, "none.id", NULL);
  g_assert_false (vb_dist_id_fetch (missing, "", 1, got, 0.1, &error));
  g_assert_nonnull (strstr (error->message, "does not exist"));
  g_remove (path);
  g_rmdir (dir);
}

/* a malformed file is refused at once, naming the file and the problem */
static void
assert_bad_file (const char *dir, const char *content, gsize len, const char *needle)
{
  g_autofree char *path = g_build_filename (dir, "bad.id", NULL);
  g_assert_true (g_file_set_contents (path, content, (gssize) len, NULL));
  guint8 got[VB_DIST_ID_BYTES];
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_dist_id_fetch (path, "7", 2, got, 5.0, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, path));
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" does not mention %s", error->message, needle);
  g_remove (path);
}

static void
test_id_file_hostile (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vb-dist-XXXXXX", NULL);
  g_autofree char *hex = g_strnfill (256, 'a');
  g_autofree char *good_head = g_strdup ("visionbench-nccl-id 1\njob 7\nprocesses 2\nid ");
  assert_bad_file (dir, "hello\n", 6, "not a VisionBench NCCL id file");
  assert_bad_file (dir, "visionbench-nccl-id 1\n", 22, "not a VisionBench NCCL id file");
  g_autofree char *short_id = g_strconcat (good_head, "abcd\n", NULL);
  assert_bad_file (dir, short_id, strlen (short_id), "256 hexadecimal digits");
  g_autofree char *not_hex = g_strconcat (good_head, hex, "\n", NULL);
  not_hex[strlen (good_head) + 100] = 'g';
  assert_bad_file (dir, not_hex, strlen (not_hex), "256 hexadecimal digits");
  g_autofree char *procs = g_strdup_printf ("visionbench-nccl-id 1\njob 7\nprocesses 3\nid %s\n",
                                            hex);
  assert_bad_file (dir, procs, strlen (procs), "written for 3 processes");
  g_autofree char *nan_procs = g_strdup_printf ("visionbench-nccl-id 1\njob 7\nprocesses x\nid "
                                                "%s\n", hex);
  assert_bad_file (dir, nan_procs, strlen (nan_procs), "process count");
  char binary[] = "visionbench-nccl-id 1\n\0job 7";
  assert_bad_file (dir, binary, sizeof binary, "binary");
  g_autofree char *huge = g_strnfill (100000, 'x');
  assert_bad_file (dir, huge, strlen (huge), "larger than");
  g_rmdir (dir);
}

/* ---- the model's side ---------------------------------------------------------------------- */

#define S 16
#define B 4

static VbVmamba *
small_model (float drop_path)
{
  static const int depths[] = { 2, 1 };
  VbVmambaConfig cfg;
  vb_vmamba_config_scaled (&cfg, 8, depths, 2, 5);
  cfg.drop_path_rate = drop_path;
  g_autoptr (GError) error = NULL;
  VbVmamba *m = vb_vmamba_new (&cfg, &error);
  g_assert_no_error (error);
  vb_vmamba_init_weights (m, 3);
  return m;
}

static void
inputs (float *x, int *labels, int n)
{
  VbRng rng;
  vb_rng_init (&rng, 9);
  for (int i = 0; i < n * S * S * 3; i++)
    x[i] = vb_rng_normal (&rng);
  for (int b = 0; b < n; b++)
    labels[b] = (int) vb_rng_below (&rng, 5);
}

typedef struct {
  VbVmamba *model;
  GArray *froms;
  GPtrArray *snapshots;   /* grads[from, n) when told */
} Told;

static void
record_ready (gpointer data, int64_t from)
{
  Told *t = data;
  int64_t n = vb_vmamba_n_params (t->model);
  g_array_append_val (t->froms, from);
  g_ptr_array_add (t->snapshots,
                   g_memdup2 (vb_vmamba_grads (t->model) + from, (n - from) * sizeof (float)));
}

/* the notices come in falling order down to 0, and what they call final is final */
static void
test_grad_ready (void)
{
  g_autoptr (VbVmamba) m = small_model (0.0f);
  float x[B * S * S * 3];
  int labels[B];
  inputs (x, labels, B);
  Told t = { m, g_array_new (FALSE, FALSE, sizeof (int64_t)),
             g_ptr_array_new_with_free_func (g_free) };
  vb_vmamba_set_grad_ready (m, record_ready, &t);
  g_assert_true (vb_vmamba_forward (m, x, B, S, S, TRUE, NULL, NULL));
  vb_vmamba_loss (m, labels, 0.1f);
  vb_vmamba_zero_grad (m);
  vb_vmamba_backward (m, NULL);
  /* head, 3 blocks, 1 downsampling, stem */
  g_assert_cmpuint (t.froms->len, ==, 6);
  int64_t n = vb_vmamba_n_params (m);
  g_assert_cmpint (g_array_index (t.froms, int64_t, 0), ==,
                   vb_vmamba_find_tensor (m, "classifier.norm.weight")->offset);
  g_assert_cmpint (g_array_index (t.froms, int64_t, t.froms->len - 1), ==, 0);
  for (guint i = 0; i < t.froms->len; i++)
    {
      int64_t from = g_array_index (t.froms, int64_t, i);
      if (i > 0)
        g_assert_cmpint (from, <, g_array_index (t.froms, int64_t, i - 1));
      g_assert_cmpmem (g_ptr_array_index (t.snapshots, i), (n - from) * sizeof (float),
                       vb_vmamba_grads (m) + from, (n - from) * sizeof (float));
    }
  vb_vmamba_set_grad_ready (m, NULL, NULL);
  g_array_unref (t.froms);
  g_ptr_array_unref (t.snapshots);
}

/* the gradient of a (rows, global) shard of the batch; drop paths drawn from one seed */
static float *
shard_gradient (VbVmamba *m, const float *x, const int *labels, int offset, int rows, int global)
{
  VbRng rng;
  vb_rng_init (&rng, 77);
  vb_vmamba_set_batch_shard (m, global == rows ? 0 : offset, global == rows ? 0 : global);
  g_assert_true (vb_vmamba_forward (m, x + (gsize) offset * S * S * 3, rows, S, S, TRUE, &rng,
                                    NULL));
  vb_vmamba_loss (m, labels + offset, 0.1f);
  vb_vmamba_zero_grad (m);
  vb_vmamba_backward (m, NULL);
  return g_memdup2 (vb_vmamba_grads (m), vb_vmamba_n_params (m) * sizeof (float));
}

/* What the all-reduce computes — the mean of equal shards' mean-loss gradients — is the
 * whole batch's gradient, with every image's drop-path mask as a one-device run draws it.
 * A shard that drew its own masks would fail this (checked: unsharded draws differ). */
static void
test_shard_gradients_average_to_batch (void)
{
  g_autoptr (VbVmamba) m = small_model (0.5f);
  int64_t n = vb_vmamba_n_params (m);
  float x[B * S * S * 3];
  int labels[B];
  inputs (x, labels, B);
  g_autofree float *whole = shard_gradient (m, x, labels, 0, B, B);
  for (int world = 2; world <= 4; world *= 2)
    {
      g_autofree float *mean = g_new0 (float, n);
      int rows = B / world;
      for (int r = 0; r < world; r++)
        {
          g_autofree float *g = shard_gradient (m, x, labels, r * rows, rows, B);
          for (int64_t i = 0; i < n; i++)
            mean[i] += g[i] / world;
        }
      double err = vb_engine_test_rel_l2 (mean, whole, n);
      g_test_message ("world %d: relative L2 difference %.2e", world, err);
      g_assert_cmpfloat (err, <, 1e-5);
    }
  /* the control: the second shard drawing its masks as if alone differs */
  g_autofree float *alone = NULL, *first = NULL;
  {
    VbRng rng;
    vb_rng_init (&rng, 77);
    vb_vmamba_set_batch_shard (m, 0, 0);
    g_assert_true (vb_vmamba_forward (m, x + 2 * S * S * 3, 2, S, S, TRUE, &rng, NULL));
    vb_vmamba_loss (m, labels + 2, 0.1f);
    vb_vmamba_zero_grad (m);
    vb_vmamba_backward (m, NULL);
    alone = g_memdup2 (vb_vmamba_grads (m), n * sizeof (float));
    first = shard_gradient (m, x, labels, 2, 2, B);
    g_assert_cmpfloat (vb_engine_test_rel_l2 (alone, first, n), >, 1e-3);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/dist/env/launchers", test_env_launchers);
  g_test_add_func ("/vb/dist/env/errors", test_env_errors);
  g_test_add_func ("/vb/dist/gpu-for", test_gpu_for);
  g_test_add_func ("/vb/dist/id-file/round-trip", test_id_file_round_trip);
  g_test_add_func ("/vb/dist/id-file/hostile", test_id_file_hostile);
  g_test_add_func ("/vb/dist/grad-ready", test_grad_ready);
  g_test_add_func ("/vb/dist/shard-gradients", test_shard_gradients_average_to_batch);
  return g_test_run ();
}
