/* vb-dist.h: where a data-parallel run's processes come from, and how they meet.
 *
 * One process drives `--gpus N` GPUs of its host, a thread each. Past one host the
 * cluster's own launcher starts one such process per host (or per GPU) and says in the
 * environment which one each is: Slurm's srun, Open MPI's mpirun, MPICH's, or VB_RANK /
 * VB_WORLD_SIZE set by hand. The processes meet through NCCL, whose world identity (a
 * 128-byte id) process 0 makes and writes to a file every process can read
 * (VB_NCCL_ID_FILE, on a shared file system); the others wait for it. The file is read
 * as untrusted input. No networking of our own. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VB_DIST_ID_BYTES 128

typedef struct {
  int   proc_rank, n_procs;   /* this process among the job's processes */
  int   local_proc;           /* among those on its host: which of the host's GPUs it takes */
  char *launcher;             /* "slurm", "open-mpi", "mpich", "visionbench" or "none" */
  char *job_id;               /* the launcher's job (and step) id, "" when it gives none */
  char *id_file;              /* VB_NCCL_ID_FILE, or NULL */
} VbDistEnv;

/* Reads the launcher's variables from `envp` (as g_get_environ gives them). VB_* wins over
 * Slurm, Slurm over Open MPI, Open MPI over MPICH; with none of them the process is alone.
 * A malformed or inconsistent value is an error naming the variable; more than one
 * process without VB_NCCL_ID_FILE too. */
gboolean vb_dist_env_read  (VbDistEnv *env, char **envp, GError **error);
void     vb_dist_env_clear (VbDistEnv *env);

/* process 0: writes the id (atomically: a reader never sees half a file) */
gboolean vb_dist_id_publish (const char *path, const char *job_id, int n_procs,
                             const guint8 id[VB_DIST_ID_BYTES], GError **error);
/* the other processes: waits up to timeout_s for a file of this job and world; a file of
 * another job is taken for a stale one and waited past; a malformed file is an error */
gboolean vb_dist_id_fetch   (const char *path, const char *job_id, int n_procs,
                             guint8 id[VB_DIST_ID_BYTES], double timeout_s, GError **error);

/* the GPU a process's local worker k drives: k when the process sees only its own GPUs
 * (visible == gpus, as Slurm's --gpus-per-task arranges), else local_proc · gpus + k;
 * -1 when that GPU does not exist */
int      vb_dist_gpu_for    (const VbDistEnv *env, int gpus, int visible, int k);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbDistEnv, vb_dist_env_clear)

G_END_DECLS
