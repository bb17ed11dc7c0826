#include "config.h"

#include "vb-bench.h"

#include <string.h>

#include "vb-device.h"
#include "vb-dist-group.h"
#include "vb-error.h"
#include "vb-optim.h"
#include "vb-precision.h"
#include "vb-train-step.h"
#include "vb-profile.h"
#include "vb-trainer.h"

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
vb_bench_result_clear (VbBenchResult *result)
{
  g_clear_pointer (&result->profile, g_free);
}

/* the profiler is process-wide: every way out of a bench turns it off */
static void
profile_off (void)
{
  vb_profile_enable (FALSE);
  vb_profile_set_sync (NULL, NULL);
}

/* what "matmul" says on the GPU, by VB_MATMUL_* mode */
static const char *const gpu_matmul[] = {
  [VB_MATMUL_FP32] = "cuBLAS sgemm, fp32 without TF32",
  [VB_MATMUL_TF32] = "cuBLAS, TF32 tensor cores",
  [VB_MATMUL_BF16] = "cuBLAS GemmEx on operands rounded to bf16 (nearest-even), bf16 tensor "
                     "cores with fp32 accumulation (CUBLAS_COMPUTE_32F); the 3x3 stride-2 "
                     "convolutions' products in TF32",
};

static const char gpu_bf16_storage[] =
  "cuBLAS GemmEx on bf16 operands stored as bf16, bf16 tensor cores with fp32 accumulation "
  "(CUBLAS_COMPUTE_32F); the 3x3 stride-2 convolutions, dt projection and head in TF32";

static gboolean bench_on (const VbOps *ops, const VbPrecision *prec, const VbVmambaConfig *cfg,
                          const VbBenchProtocol *p, VbDistRank *rank, VbBenchResult *result,
                          GError **error);

typedef struct {
  const VbVmambaConfig *cfg;
  const VbBenchProtocol *p;
  VbBenchResult *result;      /* rank 0's */
} BenchArgs;

/* one rank of a data-parallel bench: every rank times its steps, rank 0 reports */
static gboolean
bench_rank (VbDistRank *rank, gpointer data, GError **error)
{
  const BenchArgs *a = data;
  const VbOps *ops = vb_dist_rank_ops (rank);
  const VbPrecision *prec;
  if (!vb_precision_set (ops, a->p->precision, &prec, error))
    return FALSE;
  g_auto (VbBenchResult) mine = { 0 };
  gboolean root = vb_dist_rank_index (rank) == 0;
  gboolean ok = bench_on (ops, prec, a->cfg, a->p, rank, root ? a->result : &mine, error);
  vb_precision_reset (ops);
  return ok;
}

gboolean
vb_bench_run (const VbVmambaConfig *cfg, const VbBenchProtocol *p, VbBenchResult *result,
              GError **error)
{
  memset (result, 0, sizeof *result);
  vb_set_num_threads (p->threads);
  if (p->gpus > 0)
    {
      if (p->profile)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                       "--profile times one GPU's ops: leave --gpus out");
          return FALSE;
        }
      BenchArgs a = { cfg, p, result };
      g_autoptr (VbDistGroup) group = vb_dist_group_new (p->gpus, error);
      return group != NULL && vb_dist_group_run (group, bench_rank, &a, error);
    }
  const VbPrecision *prec;
  const VbOps *ops = vb_precision_open (p->device, p->precision, &prec, error);
  if (ops == NULL)
    return FALSE;
  gboolean ok = bench_on (ops, prec, cfg, p, NULL, result, error);
  vb_precision_reset (ops);
  return ok;
}

static gboolean
bench_on (const VbOps *ops, const VbPrecision *prec, const VbVmambaConfig *cfg,
          const VbBenchProtocol *p, VbDistRank *rank, VbBenchResult *result, GError **error)
{
  size_t mem_before = ops->memory_used (ops->ctx), mem_peak = mem_before;
  g_autoptr (VbVmamba) model = vb_vmamba_new (cfg, error);
  if (model == NULL || !vb_vmamba_use_backend (model, ops, error))
    return FALSE;
  vb_vmamba_init_weights (model, 0);
  vb_precision_apply_vmamba (prec, ops, model);
  int B = p->batch, S = p->img_size;
  g_autofree float *images = g_new (float, (size_t) B * S * S * cfg->in_chans);
  g_autofree int *labels = g_new (int, B);
  VbRng rng;
  vb_rng_init (&rng, 1);
  for (size_t i = 0; i < (size_t) B * S * S * cfg->in_chans; i++)
    images[i] = vb_rng_normal (&rng);
  for (int b = 0; b < B; b++)
    labels[b] = (int) vb_rng_below (&rng, cfg->num_classes);
  /* the input sits where the ops run, as in BENCHMARKS.md's protocol */
  float *resident = vb_vmamba_input_buffer (model, B, S, S, p->train, error);
  if (resident == NULL)
    return FALSE;
  ops->upload (ops->ctx, resident, images, (size_t) B * S * S * cfg->in_chans * sizeof (float));
  g_autofree uint8_t *decay = g_new0 (uint8_t, vb_vmamba_n_params (model));
  g_autoptr (VbAdamW) opt = vb_adamw_new_on (ops, vb_vmamba_n_params (model), decay, 0.05f);
  if (opt == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot hold the optimizer state on %s", ops->name);
      return FALSE;
    }

  g_autofree double *times = g_new (double, MAX (p->timed, 1));
  /* a profile waits after every op: nothing may be recorded, from the first step on */
  g_autoptr (VbStepGraph) graph = vb_step_graph_new (!p->profile);
  if (rank != NULL)
    vb_dist_rank_attach (rank, model, graph);
  gint64 timed_usec = 0;
  for (int it = 0; it < p->warmup + p->timed; it++)
    {
      if (it == p->warmup && p->profile)
        {
          vb_profile_reset ();
          vb_profile_set_sync (ops->on_host ? NULL : ops->sync, ops->ctx);
          vb_profile_enable (TRUE);
        }
      gint64 t0 = g_get_monotonic_time ();
      /* recorded as a CUDA graph after the first step, as the trainer does */
      gboolean queued = p->train
                        ? vb_step_graph_train (graph, model, opt, resident, B, S, S, labels,
                                               0.1f, &rng, 1e-3f, 0.0, error)
                        : vb_step_graph_eval (graph, model, resident, B, S, S, error);
      if (!queued)
        {
          profile_off ();
          return FALSE;
        }
      /* a GPU step ends when its last kernel does (a data-parallel one when the world's
       * gradients are averaged) */
      if (rank != NULL && !vb_dist_rank_wait (rank, error))
        return FALSE;
      const char *failed = ops->sync (ops->ctx);
      gint64 t1 = g_get_monotonic_time ();
      /* the memory reading (cudaMemGetInfo) after the clock stops: not the step's time */
      mem_peak = MAX (mem_peak, ops->memory_used (ops->ctx));
      if (failed != NULL)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED, "%s", failed);
          ops->clear_error (ops->ctx);
          profile_off ();
          return FALSE;
        }
      if (it >= p->warmup)
        {
          gint64 dt = t1 - t0;
          times[it - p->warmup] = dt / 1e6;
          timed_usec += dt;
        }
    }
  if (p->profile)
    {
      profile_off ();
      result->profile = vb_profile_format (timed_usec);
    }
  qsort (times, p->timed, sizeof (double), cmp_double);
  result->median_s = times[p->timed / 2];
  result->min_s = times[0];
  result->iqr_s = times[(3 * p->timed) / 4] - times[p->timed / 4];
  result->img_per_s = B / result->median_s;
  result->launch = vb_step_graph_mode (graph);
  result->activation_bytes = vb_vmamba_activation_bytes (cfg, S, S, prec->bf16_storage);
  result->peak_device_bytes = (int64_t) (mem_peak - mem_before);
  result->per_gpu_img_per_s = result->img_per_s;
  if (rank != NULL)
    {
      /* the world's rate from rank 0's steps (the averages keep the ranks in step); the
       * largest peak of any GPU */
      int world = vb_dist_rank_world (rank);
      double mine[2] = { result->median_s, (double) result->peak_device_bytes };
      g_autofree double *all = g_new (double, 2 * world);
      if (!vb_dist_rank_gather (rank, mine, 2, all, error))
        return FALSE;
      result->gpus = world;
      result->img_per_s = world * B / all[0];
      for (int r = 0; r < world; r++)
        result->peak_device_bytes = MAX (result->peak_device_bytes, (int64_t) all[2 * r + 1]);
    }
  return TRUE;
}

char *
vb_bench_protocol_json (const VbBenchProtocol *p, const VbBenchResult *r)
{
  gboolean cuda = g_strcmp0 (p->device, "cuda") == 0;
  const VbPrecision *prec = vb_precision_find (p->precision);
  if (prec == NULL)   /* not reached: vb_bench_run refuses unknown names */
    prec = vb_precision_find ("fp32");
  int world = r != NULL && r->gpus > 0 ? r->gpus : p->gpus;   /* the launcher may add hosts */
  g_autofree char *dp = p->gpus <= 0 ? g_strdup ("")
    : g_strdup_printf (", \"gpus\": %d, \"batch_is\": \"per GPU\", \"global_batch\": %d, "
                       "\"data_parallel\": \"NCCL all-reduce (mean) of the fp32 gradients in "
                       "16 MiB buckets overlapped with the backward, the whole step a CUDA "
                       "graph per GPU\", \"statistic_world\": \"GPUs x batch / rank 0's median "
                       "step time\"", world, world * p->batch);
  return g_strdup_printf ("{\"protocol\": \"visionbench-reference\", \"mode\": \"%s\", "
                          "\"batch\": %d, \"img_size\": %d, \"precision\": \"%s\", "
                          "\"warmup_steps\": %d, \"timed_steps\": %d, "
                          "\"statistic\": \"batch / median step time\", "
                          "\"input\": \"synthetic, resident in the device's memory\", "
                          "\"data_loading\": false, "
                          "\"optimizer\": %s, \"threads\": %d, \"device\": \"%s\", "
                          "\"device_name\": \"%s\", \"matmul\": \"%s\"%s%s%s%s}",
                          p->train ? "train step (forward + backward + AdamW)" : "eval (forward)",
                          p->batch, p->img_size,
                          prec->vmamba_card,
                          p->warmup, p->timed,
                          p->train ? "true" : "false", p->threads, cuda ? "cuda" : "cpu",
                          vb_device_describe (cuda ? vb_device_ops ("cuda", NULL) : NULL),
                          !cuda ? vb_cpu_gemm_name ()
                          : prec->bf16_storage ? gpu_bf16_storage : gpu_matmul[prec->matmul],
                          r != NULL && r->launch != NULL ? ", \"launch\": \"" : "",
                          r != NULL && r->launch != NULL ? r->launch : "",
                          r != NULL && r->launch != NULL ? "\"" : "", dp);
}
