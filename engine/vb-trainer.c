/* vb-trainer.c: the training and evaluation loop of one run. */
#include "config.h"

#include "vb-trainer.h"

#include <cblas.h>
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "vb-checkpoint.h"
#include "vb-device.h"
#include "vb-dist-group.h"
#include "vb-cpu-ops.h"
#include "vb-error.h"
#include "vb-loader.h"
#include "vb-optim.h"
#include "vb-precision.h"
#include "vb-train-step.h"
#include "vb-split.h"

/* The first steps of a run pay for page faults and cold caches; they are excluded from
 * the throughput figure, and the protocol card says so. */
#define WARMUP_STEPS 2
/* a data-parallel run gathers every GPU's throughput and memory this often (a collective:
 * every rank at the same steps) and at the end of each epoch */
#define GPU_STATS_EVERY 25

void
vb_set_num_threads (int n)
{
  /* Kernels allocate and free large scratch buffers every step; with a fixed mmap
   * threshold (32 MiB, glibc's maximum) and no trimming, freed memory stays in the heap
   * instead of costing an mmap, page clearing and munmap per call. */
  static gsize tuned = 0;
  if (g_once_init_enter (&tuned))
    {
      mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
      mallopt (M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
      /* VB_GEMM=openblas: every product on OpenBLAS, for A/B benchmarks */
      if (g_strcmp0 (g_getenv ("VB_GEMM"), "openblas") == 0)
        vb_cpu_use_own_gemm (0);
      g_once_init_leave (&tuned, 1);
    }
  omp_set_num_threads (n);
  const char *blas = g_getenv ("VB_BLAS_THREADS");
  openblas_set_num_threads (blas ? atoi (blas) : n);
}

void
vb_train_result_clear (VbTrainResult *r)
{
  g_clear_pointer (&r->checkpoint_path, g_free);
  g_clear_pointer (&r->dataset_fingerprint, g_free);
}

/* ---- data ------------------------------------------------------------------------------- */

typedef struct {
  VbDataset *train, *val;     /* may be the same dataset */
  GArray *train_idx, *val_idx;
} RunData;

static void
run_data_clear (RunData *d)
{
  g_clear_pointer (&d->train, vb_dataset_unref);
  g_clear_pointer (&d->val, vb_dataset_unref);
  g_clear_pointer (&d->train_idx, g_array_unref);
  g_clear_pointer (&d->val_idx, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunData, run_data_clear)

static GArray *
limit (VbDataset *ds, GArray *idx, int total)
{
  if (total <= 0)
    return idx ? g_array_ref (idx) : vb_indices_limit_per_class (ds, NULL, G_MAXINT);
  int per_class = MAX (1, total / MAX (1, vb_dataset_n_classes (ds)));
  return vb_indices_limit_per_class (ds, idx, per_class);
}

static gboolean
open_data (const VbRunConfig *cfg, RunData *d, GError **error)
{
  const char *path = cfg->data_path && cfg->data_path[0] ? cfg->data_path : NULL;
  if (g_strcmp0 (cfg->dataset, "fashion-mnist") == 0 || g_strcmp0 (cfg->dataset, "idx") == 0)
    {
      d->train = vb_dataset_new_fashion_mnist (path, TRUE, error);
      if (d->train == NULL)
        return FALSE;
      d->val = vb_dataset_new_fashion_mnist (path, FALSE, error);
    }
  else if (g_strcmp0 (cfg->dataset, "cifar10") == 0)
    {
      if (path == NULL)
        goto need_path;
      d->train = vb_dataset_new_cifar10 (path, TRUE, error);
      if (d->train == NULL)
        return FALSE;
      d->val = vb_dataset_new_cifar10 (path, FALSE, error);
    }
  else if (g_strcmp0 (cfg->dataset, "image-folder") == 0)
    {
      if (path == NULL)
        goto need_path;
      d->train = vb_dataset_new_image_folder (path, (const char * const *) cfg->class_list,
                                              cfg->class_list ? 0 : cfg->n_classes,
                                              cfg->split_seed, error);
      if (d->train == NULL)
        return FALSE;
      d->val = vb_dataset_ref (d->train);
      g_autoptr (GArray) tr = NULL, va = NULL;
      vb_split_seeded (d->train, cfg->split_seed, cfg->train_fraction, &tr, &va);
      d->train_idx = limit (d->train, tr, cfg->train_limit);
      d->val_idx = limit (d->val, va, cfg->val_limit);
      return TRUE;
    }
  else
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "data.dataset \"%s\" is not one of fashion-mnist, cifar10, image-folder",
                   cfg->dataset);
      return FALSE;
    }
  if (d->val == NULL)
    return FALSE;
  d->train_idx = limit (d->train, NULL, cfg->train_limit);
  d->val_idx = limit (d->val, NULL, cfg->val_limit);
  return TRUE;

need_path:
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "data.dataset \"%s\" needs a folder: --set data.path=DIR", cfg->dataset);
  return FALSE;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

typedef struct {
  double top1, top5, loss, img_per_s;
} EvalResult;

static void
count_topk (const float *logits, const int *labels, int B, int classes, int64_t *c1, int64_t *c5)
{
  for (int b = 0; b < B; b++)
    {
      const float *l = logits + (int64_t) b * classes;
      float target = l[labels[b]];
      int higher = 0;
      for (int c = 0; c < classes; c++)
        if (l[c] > target || (l[c] == target && c < labels[b]))
          higher++;
      *c1 += higher < 1;
      *c5 += higher < 5;
    }
}

static gboolean
evaluate (VbVmamba *model, VbLoader *loader, float *images, int *labels, int size,
          VbDistRank *rank, EvalResult *out, GError **error)
{
  int64_t n = 0, c1 = 0, c5 = 0;
  double loss_sum = 0, busy_s = 0;
  int bs = 0;
  vb_loader_start_epoch (loader, 0);
  while (vb_loader_next (loader, images, labels, &bs, error))
    {
      gint64 t0 = g_get_monotonic_time ();
      if (!vb_vmamba_forward (model, images, bs, size, size, FALSE, NULL, error))
        return FALSE;
      busy_s += (g_get_monotonic_time () - t0) / 1e6;
      loss_sum += vb_vmamba_loss (model, labels, 0.0f) * bs;
      count_topk (vb_vmamba_logits (model), labels, bs, vb_vmamba_config (model)->num_classes,
                  &c1, &c5);
      n += bs;
    }
  if (error && *error)
    return FALSE;
  if (rank != NULL)
    {
      /* each rank saw a shard of the validation set: the counts add up, and so do the
       * GPUs' rates */
      double v[5] = { n, c1, c5, loss_sum, busy_s > 0 ? n / busy_s : 0 };
      if (!vb_dist_rank_sum (rank, v, 5, error))
        return FALSE;
      n = (int64_t) v[0];
      c1 = (int64_t) v[1];
      c5 = (int64_t) v[2];
      loss_sum = v[3];
      out->top1 = n ? 100.0 * c1 / n : 0;
      out->top5 = n ? 100.0 * c5 / n : 0;
      out->loss = n ? loss_sum / n : 0;
      out->img_per_s = v[4];
      return TRUE;
    }
  out->top1 = n ? 100.0 * c1 / n : 0;
  out->top5 = n ? 100.0 * c5 / n : 0;
  out->loss = n ? loss_sum / n : 0;
  out->img_per_s = busy_s > 0 ? n / busy_s : 0;
  return TRUE;
}

/* ---- the run ------------------------------------------------------------------------------------ */

/* what a data-parallel run adds to its cards ("" for one device) */
static char *
world_card (const VbRunConfig *cfg, int world, const char *what)
{
  if (world <= 0)
    return g_strdup ("");
  return g_strdup_printf (", \"gpus\": %d, \"per_gpu_batch\": %d, \"global_batch\": %d, "
                          "\"data_parallel\": \"%s\"", world, cfg->batch_size / world,
                          cfg->batch_size, what);
}

static const char exchange_note[] =
  "NCCL all-reduce (mean) of the fp32 gradients in 16 MiB buckets overlapped with the "
  "backward; img/s of the whole world";

static char *
protocol_card (const VbRunConfig *cfg, const char *mode, int batch, int warmup, int64_t timed,
               gboolean optimizer, int world)
{
  const VbPrecision *prec = vb_precision_find (cfg->precision);
  g_autofree char *dp = world_card (cfg, world, exchange_note);
  return g_strdup_printf ("{\"protocol\": \"visionbench-run\", \"mode\": \"%s\", "
                          "\"batch\": %d, \"img_size\": %d, \"precision\": \"%s\", "
                          "\"warmup_steps\": %d, \"timed_steps\": %" G_GINT64_FORMAT ", "
                          "\"statistic\": \"images / summed step time\", "
                          "\"data_loading\": \"excluded (prefetched on %d worker thread%s)\", "
                          "\"optimizer\": %s, \"threads\": %d, \"device\": \"%s\", "
                          "\"device_name\": \"%s\", \"input\": \"real %s batches\"%s}",
                          mode, batch, cfg->img_size, prec != NULL ? prec->vmamba_card : "fp32",
                          warmup, timed, cfg->workers,
                          cfg->workers == 1 ? "" : "s", optimizer ? "true" : "false",
                          cfg->threads, cfg->device,
                          vb_device_describe (vb_device_ops (cfg->device, NULL)), cfg->dataset,
                          dp);
}

/* ---- data parallel: every GPU's share ------------------------------------------------------ */

enum { GPU_IMG_S, GPU_MEM, GPU_INDEX, GPU_FIELDS };

/* every rank's throughput and memory, in rank order (a collective) */
static gboolean
gather_gpus (VbDistRank *rank, const VbOps *ops, double img_per_s, double *all, GError **error)
{
  double mine[GPU_FIELDS] = { img_per_s, (double) ops->memory_used (ops->ctx),
                              vb_dist_rank_gpu (rank) };
  return vb_dist_rank_gather (rank, mine, GPU_FIELDS, all, error);
}

/* "rank 0 (GPU 0) 1412 img/s 18.9 GiB · rank 1 (GPU 1) …" */
static char *
gpus_summary (const double *all, int world)
{
  GString *s = g_string_new (NULL);
  for (int r = 0; r < world; r++)
    {
      const double *g = all + r * GPU_FIELDS;
      g_string_append_printf (s, "%srank %d (GPU %d) %.0f img/s %.1f GiB", r ? " · " : "", r,
                              (int) g[GPU_INDEX], g[GPU_IMG_S], g[GPU_MEM] / 1073741824.0);
    }
  return g_string_free (s, FALSE);
}

/* one throughput row per GPU, "train gpu R", replaced as the run goes */
static gboolean
store_gpus (VbStore *store, gint64 run_id, const VbRunConfig *cfg, const double *all,
            int world, GError **error)
{
  for (int r = 0; r < world; r++)
    {
      const double *g = all + r * GPU_FIELDS;
      g_autofree char *kind = g_strdup_printf ("train gpu %d", r);
      g_autofree char *dp = world_card (cfg, world, "this rank's share of each global batch");
      g_autofree char *card = g_strdup_printf (
        "{\"protocol\": \"visionbench-run\", \"mode\": \"train step, one rank of a "
        "data-parallel run\", \"rank\": %d, \"gpu\": %d, \"memory_bytes\": %.0f, "
        "\"memory\": \"device memory in use (cudaMemGetInfo), whole GPU\", "
        "\"statistic\": \"this rank's images / its summed step time, warm-up excluded\"%s}",
        r, (int) g[GPU_INDEX], g[GPU_MEM], dp);
      if (!vb_store_set_throughput (store, run_id, kind, g[GPU_IMG_S], card, error))
        return FALSE;
    }
  return TRUE;
}

/* a step's end: the GPU's queue drained, or on a data-parallel run the world's */
static gboolean
wait_for_step (const VbOps *ops, VbDistRank *rank, int64_t step, GError **error)
{
  if (rank != NULL)
    {
      if (vb_dist_rank_wait (rank, error))
        return TRUE;
      g_prefix_error (error, "step %" G_GINT64_FORMAT ": ", step);
      return FALSE;
    }
  const char *failed = ops->sync (ops->ctx);
  if (failed == NULL)
    return TRUE;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
               "step %" G_GINT64_FORMAT " failed on %s: %s", step, ops->name, failed);
  ops->clear_error (ops->ctx);
  return FALSE;
}

/* the job's chance to cancel or pause; a pause holds the world, and the other ranks of
 * this process must not take the wait for a lost peer */
static gboolean
cancelled (const VbTrainHooks *hooks, VbDistRank *rank)
{
  if (!(hooks && hooks->should_cancel))
    return FALSE;
  if (rank != NULL)
    vb_dist_rank_hold (rank, TRUE);
  gboolean stop = hooks->should_cancel (hooks->user_data);
  if (rank != NULL)
    vb_dist_rank_hold (rank, FALSE);
  return stop;
}

static void
report (const VbTrainHooks *hooks, const VbProgress *p)
{
  if (hooks && hooks->progress)
    hooks->progress (p, hooks->user_data);
}

static gboolean
store_ok (VbStore *store, gboolean ok, GError **error)
{
  (void) store;
  return ok || error == NULL || *error == NULL;
}

typedef struct {
  const VbRunConfig *cfg;
  const char *config_json;
  VbStore *store;
  gint64 run_id;
  const char *checkpoint_dir, *resume_from;
  const VbTrainHooks *hooks;
  VbTrainResult *result;
} RunArgs;

/* the run on one device, or one rank's part of a data-parallel run (rank non-NULL) */
static gboolean
train_on (const RunArgs *a, VbDistRank *rank, GError **error)
{
  const VbRunConfig *cfg = a->cfg;
  const char *config_json = a->config_json, *checkpoint_dir = a->checkpoint_dir;
  const char *resume_from = a->resume_from;
  VbStore *store = a->store;
  gint64 run_id = a->run_id;
  const VbTrainHooks *hooks = a->hooks;
  VbTrainResult *result = a->result;
  memset (result, 0, sizeof *result);
  vb_set_num_threads (cfg->threads);
  VbProgress prog = { .phase = "load", .epochs = cfg->epochs, .val_top1 = NAN };
  report (hooks, &prog);

  g_auto (RunData) data = { 0 };
  if (!open_data (cfg, &data, error))
    return FALSE;
  result->dataset_fingerprint = g_strdup (vb_dataset_fingerprint (data.train));
  if (store && run_id > 0)
    vb_store_set_dataset_fingerprint (store, run_id, result->dataset_fingerprint, NULL);

  VbVmambaConfig mcfg = cfg->model;
  mcfg.num_classes = vb_dataset_n_classes (data.train);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&mcfg, error);
  if (model == NULL)
    return FALSE;
  vb_vmamba_init_weights (model, cfg->seed);
  if (vb_run_config_is_finetune (cfg) && resume_from == NULL)
    {
      g_autoptr (VbTensorDict) w = vb_weights_load (cfg->init_from, cfg->use_ema, error);
      if (w == NULL)
        return FALSE;
      if (!vb_vmamba_load_dict (model, w, cfg->strip_head, cfg->init_from, error))
        return FALSE;
    }
  /* the weights are set on the host; now they move to where the ops run */
  const VbOps *ops = rank != NULL ? vb_dist_rank_ops (rank) : vb_device_ops (cfg->device, error);
  if (ops == NULL || !vb_vmamba_use_backend (model, ops, error))
    return FALSE;
  /* the products in the run's precision (validated: tf32 and bf16 only on the GPU), the
   * shared context back in strict fp32 however the run ends */
  const VbPrecision *prec;
  if (!vb_precision_set (ops, cfg->precision, &prec, error))
    return FALSE;
  g_auto (VbMatmulScope) matmul_scope = { ops };
  vb_precision_apply_vmamba (prec, ops, model);
  result->params = vb_vmamba_n_params (model);
  result->macs = vb_vmamba_macs (&mcfg, cfg->img_size, cfg->img_size);
  if (store && run_id > 0)
    vb_store_set_run_stats (store, run_id, result->params, result->macs, NULL);

  g_autofree uint8_t *decay = g_new0 (uint8_t, vb_vmamba_n_params (model));
  for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
    {
      const VbParamInfo *p = vb_vmamba_tensor (model, t);
      memset (decay + p->offset, p->decay ? 1 : 0, p->numel);
    }
  g_autoptr (VbAdamW) opt = vb_adamw_new_on (ops, vb_vmamba_n_params (model), decay,
                                             (float) cfg->weight_decay);
  if (opt == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot hold the optimizer state on %s", ops->name);
      return FALSE;
    }

  int first_epoch = 0;
  int64_t step = 0;
  if (resume_from != NULL)
    {
      g_auto (VbCheckpointInfo) info = { 0 };
      if (!vb_checkpoint_load (resume_from, model, opt, &info, error))
        return FALSE;
      first_epoch = info.epoch;
      step = info.step;
      if (store != NULL && run_id > 0
          && !vb_store_truncate_metrics (store, run_id, step, first_epoch, error))
        return FALSE;
    }
  /* data parallel: one set of weights everywhere (rank 0's), a shard of each batch each */
  int world = rank != NULL ? vb_dist_rank_world (rank) : 1;
  int me = rank != NULL ? vb_dist_rank_index (rank) : 0;
  if (cfg->batch_size % world != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "train.batch_size %d does not split over %d GPUs: use a multiple of %d",
                   cfg->batch_size, world, world);
      return FALSE;
    }
  int local_b = cfg->batch_size / world;
  if (rank != NULL && !vb_dist_rank_broadcast_params (rank, model, error))
    return FALSE;

  VbTransformSpec train_tf, eval_tf;
  vb_transform_spec_init (&train_tf, cfg->img_size, TRUE);
  vb_transform_spec_init (&eval_tf, cfg->img_size, FALSE);
  train_tf.scale_min = (float) cfg->scale_min;
  train_tf.hflip = cfg->hflip;
  g_autoptr (VbLoader) train_loader =
    vb_loader_new (data.train, (const int *) data.train_idx->data, data.train_idx->len,
                   cfg->batch_size, TRUE, TRUE, &train_tf, cfg->seed, cfg->workers);
  g_autoptr (VbLoader) val_loader =
    vb_loader_new (data.val, (const int *) data.val_idx->data, data.val_idx->len,
                   cfg->eval_batch_size, FALSE, FALSE, &eval_tf, cfg->seed, cfg->workers);
  if (rank != NULL)
    {
      vb_loader_set_shard (train_loader, me, world);
      vb_loader_set_shard (val_loader, me, world);
      vb_vmamba_set_batch_shard (model, me * local_b, cfg->batch_size);
    }
  int steps_per_epoch = vb_loader_n_batches (train_loader);
  if (steps_per_epoch < 1 || data.val_idx->len == 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "%s has too few images for one batch of %d (train %u, validation %u)",
                   vb_dataset_name (data.train), cfg->batch_size, data.train_idx->len,
                   data.val_idx->len);
      return FALSE;
    }
  VbLrSchedule sched = {
    .lr = cfg->lr, .min_lr = cfg->min_lr, .warmup_lr = cfg->warmup_lr,
    .warmup_steps = (int64_t) llround (cfg->warmup_epochs * steps_per_epoch),
    .total_steps = (int64_t) cfg->epochs * steps_per_epoch,
  };

  int S = cfg->img_size, bmax = MAX (cfg->batch_size, cfg->eval_batch_size);
  g_autofree float *images = g_new (float, (size_t) bmax * S * S * 3);
  g_autofree int *labels = g_new (int, bmax);
  /* the training step, recorded as a CUDA graph on the GPU after one warm-up step */
  g_autoptr (VbStepGraph) graph = vb_step_graph_new (TRUE);
  if (rank != NULL)
    vb_dist_rank_attach (rank, model, graph);
  g_autofree double *gpus = rank != NULL ? g_new0 (double, (gsize) world * GPU_FIELDS) : NULL;
  g_autofree char *gpus_line = NULL;
  char *ckpt_path = checkpoint_dir ? g_build_filename (checkpoint_dir, "last.safetensors", NULL)
                                   : NULL;
  result->checkpoint_path = ckpt_path;
  if (checkpoint_dir && g_mkdir_with_parents (checkpoint_dir, 0755) != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot create the checkpoint folder %s", checkpoint_dir);
      return FALSE;
    }

  gint64 run_start = g_get_monotonic_time ();
  double timed_s = 0;
  int64_t timed_images = 0, timed_steps = 0;
  prog.total_steps = sched.total_steps;
  prog.step = step;

  for (int epoch = first_epoch; epoch < cfg->epochs; epoch++)
    {
      prog.phase = "train";
      prog.epoch = epoch + 1;
      double loss_sum = 0;
      int64_t loss_n = 0;
      int bs = 0;
      vb_loader_start_epoch (train_loader, epoch);
      for (;;)
        {
          /* the batch is decoded straight into the model's input staging (page-locked on
           * the GPU, copied in the stream's order); the loader drops the last partial
           * batch, so the size is the same every step */
          float *in = vb_vmamba_input_staging (model, local_b, S, S, TRUE, error);
          if (in == NULL)
            goto out_early;
          if (!vb_loader_next (train_loader, in, labels, &bs, error))
            break;
          if (cancelled (hooks, rank))
            {
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                           "cancelled at step %" G_GINT64_FORMAT, step);
              goto out_early;
            }
          gint64 t0 = g_get_monotonic_time ();
          /* drop-path masks from (seed, step): a resumed run draws the same ones */
          VbRng rng;
          vb_rng_init (&rng, cfg->seed * 0x9e3779b97f4a7c15ULL + (guint64) step + 1);
          /* the whole step is queued without waiting (loss and gradient norm stay on the
           * backend until it ends): on the GPU nothing drains the queue mid-step */
          double lr = vb_lr_at (&sched, step);
          if (!vb_step_graph_train (graph, model, opt, in, bs, S, S, labels,
                                    (float) cfg->label_smoothing, &rng, (float) lr,
                                    cfg->clip_grad, error))
            goto out_early;
          /* a GPU step ends when its last kernel does */
          if (!wait_for_step (ops, rank, step, error))
            goto out_early;
          /* on a data-parallel run the world's mean: every rank decides alike */
          float loss = vb_vmamba_loss_read (model);
          double gnorm = vb_adamw_last_grad_norm (opt);
          if (!isfinite (loss))
            {
              /* this step's update is lost with the run; the checkpoint on disk is the
               * last good one */
              g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_DIVERGED,
                           "the loss became %s at step %" G_GINT64_FORMAT " (epoch %d); "
                           "the last good checkpoint is kept", isnan (loss) ? "NaN" : "infinite",
                           step, epoch + 1);
              goto out_early;
            }
          double dt = (g_get_monotonic_time () - t0) / 1e6;
          step++;
          if (step > WARMUP_STEPS)
            {
              timed_s += dt;
              timed_images += bs;
              timed_steps++;
            }
          if (rank != NULL && step % GPU_STATS_EVERY == 0)
            {
              if (!gather_gpus (rank, ops, timed_s > 0 ? timed_images / timed_s : bs / dt,
                                gpus, error))
                goto out_early;
              g_free (gpus_line);
              gpus_line = gpus_summary (gpus, world);
            }
          loss_sum += loss;
          loss_n++;

          double elapsed = (g_get_monotonic_time () - run_start) / 1e6;
          prog.step = step;
          prog.loss = loss;
          prog.lr = lr;
          /* the world's images: every rank's shard is the same size */
          prog.img_per_s = world * (timed_s > 0 ? timed_images / timed_s : bs / dt);
          prog.gpus = gpus_line;
          prog.eta_s = step > 0 ? elapsed / (step - (int64_t) first_epoch * steps_per_epoch)
                                  * (sched.total_steps - step) : NAN;
          report (hooks, &prog);
          if (store && run_id > 0)
            {
              VbStepMetric sm = { step, epoch + (double) loss_n / steps_per_epoch, loss, lr,
                                  gnorm, world * bs / dt, elapsed };
              if (!store_ok (store, vb_store_add_step_metric (store, run_id, &sm, error), error))
                goto out_early;
            }
        }
      if (error && *error)
        goto out_early;

      prog.phase = "eval";
      report (hooks, &prog);
      EvalResult ev = { 0 };
      if (!evaluate (model, val_loader, images, labels, S, rank, &ev, error))
        goto out_early;
      result->top1 = ev.top1;
      result->top5 = ev.top5;
      result->val_loss = ev.loss;
      result->train_loss = loss_n ? loss_sum / loss_n : NAN;
      result->train_img_per_s = timed_s > 0 ? world * timed_images / timed_s : 0;
      result->eval_img_per_s = ev.img_per_s;
      result->epochs_done = epoch + 1;
      prog.val_top1 = ev.top1;
      if (rank != NULL)
        {
          if (!gather_gpus (rank, ops, timed_s > 0 ? timed_images / timed_s : 0, gpus, error))
            goto out_early;
          g_free (gpus_line);
          gpus_line = gpus_summary (gpus, world);
          prog.gpus = gpus_line;
          if (store && run_id > 0 && !store_gpus (store, run_id, cfg, gpus, world, error))
            goto out_early;
        }

      if (ckpt_path != NULL)
        {
          VbCheckpointInfo info = { epoch + 1, step, (char *) config_json, ev.top1 };
          if (!vb_checkpoint_save (ckpt_path, model, opt, &info, error))
            goto out_early;
        }
      if (store && run_id > 0)
        {
          VbEpochMetric em = { epoch + 1, result->train_loss, NAN, ev.loss, ev.top1, ev.top5,
                               result->train_img_per_s, ev.img_per_s,
                               (g_get_monotonic_time () - run_start) / 1e6 };
          if (!vb_store_add_epoch_metric (store, run_id, &em, error)
              || (ckpt_path && epoch == first_epoch
                  && !vb_store_set_checkpoint (store, run_id, ckpt_path, error)))
            goto out_early;
        }
      report (hooks, &prog);
    }
  result->skipped_images = vb_loader_skipped_count (train_loader)
                           + vb_loader_skipped_count (val_loader);

  if (store && run_id > 0)
    {
      g_autofree char *train_card = protocol_card (cfg, "train step (forward + backward + AdamW)",
                                                   cfg->batch_size, WARMUP_STEPS, timed_steps,
                                                   TRUE, rank != NULL ? world : 0);
      g_autofree char *eval_card = protocol_card (cfg, "eval (forward, no backward)",
                                                  cfg->eval_batch_size, 0,
                                                  vb_loader_n_batches (val_loader), FALSE,
                                                  rank != NULL ? world : 0);
      if (!vb_store_add_throughput (store, run_id, "train", result->train_img_per_s, train_card,
                                    error)
          || !vb_store_add_throughput (store, run_id, "eval", result->eval_img_per_s, eval_card,
                                       error))
        return FALSE;
    }
  return TRUE;

out_early:
  result->skipped_images = vb_loader_skipped_count (train_loader);
  return FALSE;
}

/* a rank of a data-parallel run: rank 0 speaks for the run (database, checkpoints,
 * progress); the first rank of each other process still hears the job's cancel */
static gboolean
train_rank (VbDistRank *rank, gpointer data, GError **error)
{
  const RunArgs *a = data;
  if (vb_dist_rank_index (rank) == 0)
    return train_on (a, rank, error);
  VbTrainHooks cancel_only = { NULL, a->hooks ? a->hooks->should_cancel : NULL,
                               a->hooks ? a->hooks->user_data : NULL };
  g_auto (VbTrainResult) mine = { 0 };
  gboolean first = vb_dist_rank_local (rank) == 0;
  RunArgs quiet = { a->cfg, a->config_json, NULL, 0, NULL, a->resume_from,
                    first ? &cancel_only : NULL, first ? a->result : &mine };
  return train_on (&quiet, rank, error);
}

gboolean
vb_train_run (const VbRunConfig *cfg, const char *config_json, VbStore *store, gint64 run_id,
              const char *checkpoint_dir, const char *resume_from, const VbTrainHooks *hooks,
              VbTrainResult *result, GError **error)
{
  RunArgs a = { cfg, config_json, store, run_id, checkpoint_dir, resume_from, hooks, result };
  if (cfg->gpus <= 0)
    return train_on (&a, NULL, error);
  memset (result, 0, sizeof *result);
  g_autoptr (VbDistGroup) group = vb_dist_group_new (cfg->gpus, error);
  return group != NULL && vb_dist_group_run (group, train_rank, &a, error);
}
