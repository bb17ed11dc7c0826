/* vb-clip-bench.c: the CLIP tower's inference throughput (vb-clip-bench.h). */
#include "config.h"

#include "vb-clip-bench.h"

#include <string.h>

#include "vb-device.h"
#include "vb-error.h"
#include "vb-precision.h"
#include "vb-rng.h"
#include "vb-trainer.h"

/* what "matmul" says on the GPU, by VB_MATMUL_* mode */
static const char *const gpu_matmul[] = {
  [VB_MATMUL_FP32] = "cuBLAS sgemm, fp32 without TF32",
  [VB_MATMUL_TF32] = "cuBLAS, TF32 tensor cores",
  [VB_MATMUL_BF16] = "bf16 storage of the layers (residual stream, activations, product "
                     "weights), cuBLASLt products on bf16 tensor cores accumulating in fp32 "
                     "with the bias (and the residual add) in their epilogue, fused "
                     "FlashAttention-2-style attention (softmax in fp32, P rounded to bf16 for "
                     "P·v), LayerNorm statistics and quick GELU in fp32; the patch embedding "
                     "in fp32 with bf16-rounded operands",
};

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* a buffer where the ops run */
static float *
where_ops_run (const VbOps *ops, size_t floats)
{
  size_t bytes = MAX (floats, 1) * sizeof (float);
  return ops->on_host ? g_try_malloc0 (bytes) : ops->alloc (ops->ctx, bytes);
}

static void
release (const VbOps *ops, float *p)
{
  if (p == NULL)
    return;
  if (ops->on_host)
    g_free (p);
  else
    ops->free (ops->ctx, p);
}

static gboolean
bench_on (const VbOps *ops, const VbPrecision *prec, const VbClipConfig *cfg, gboolean llava,
          const VbBenchProtocol *p, VbBenchResult *result, GError **error)
{
  size_t mem_before = ops->memory_used (ops->ctx), mem_peak = mem_before;
  g_autoptr (VbClip) model = vb_clip_new (cfg, error);
  if (model == NULL || !vb_clip_use_backend (model, ops, error)
      || !vb_clip_set_bf16 (model, prec->bf16_storage, error))
    return FALSE;
  vb_clip_init_random (model, 0);

  int B = p->batch, G = vb_clip_config_grid (cfg), N = vb_clip_config_tokens (cfg);
  size_t n_px = (size_t) B * cfg->in_chans * cfg->image_size * cfg->image_size;
  g_autofree float *pixels = g_new (float, n_px);
  VbRng rng;
  vb_rng_init (&rng, 1);
  for (size_t i = 0; i < n_px; i++)
    pixels[i] = vb_rng_normal (&rng);

  /* pixels and outputs sit where the ops run, as in BENCHMARKS.md's protocol */
  float *px = where_ops_run (ops, n_px);
  float *feat = llava ? where_ops_run (ops, (size_t) B * G * G * cfg->width) : NULL;
  float *last = llava ? NULL : where_ops_run (ops, (size_t) B * N * cfg->width);
  float *pooled = llava ? NULL : where_ops_run (ops, (size_t) B * cfg->width);
  gboolean ok = px != NULL && (llava ? feat != NULL : last != NULL && pooled != NULL);
  if (!ok)
    {
      const char *why = ops->sync (ops->ctx);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "no room for %d images and the tower's outputs on %s%s%s", B, ops->name,
                   why ? ": " : "", why ? why : "");
      ops->clear_error (ops->ctx);
    }
  else
    ops->upload (ops->ctx, px, pixels, n_px * sizeof (float));

  VbClipOutputs out = { feat, last, pooled };
  g_autofree double *times = g_new (double, MAX (p->timed, 1));
  for (int it = 0; ok && it < p->warmup + p->timed; it++)
    {
      gint64 t0 = g_get_monotonic_time ();
      /* returns once the backend is done: a GPU forward is timed to its last kernel */
      ok = vb_clip_forward_on_backend (model, px, B, &out, error);
      gint64 dt = g_get_monotonic_time () - t0;
      mem_peak = MAX (mem_peak, ops->memory_used (ops->ctx));
      if (ok && it >= p->warmup)
        times[it - p->warmup] = dt / 1e6;
    }
  release (ops, px);
  release (ops, feat);
  release (ops, last);
  release (ops, pooled);
  if (!ok)
    return FALSE;
  qsort (times, p->timed, sizeof (double), cmp_double);
  result->median_s = times[p->timed / 2];
  result->min_s = times[0];
  result->iqr_s = times[(3 * p->timed) / 4] - times[p->timed / 4];
  result->img_per_s = B / result->median_s;
  result->activation_bytes = vb_clip_activation_bytes (cfg, B, prec->bf16_storage);
  result->peak_device_bytes = (int64_t) (mem_peak - mem_before);
  return TRUE;
}

gboolean
vb_clip_bench_run (const VbClipConfig *cfg, gboolean llava, const VbBenchProtocol *p,
                   VbBenchResult *result, GError **error)
{
  memset (result, 0, sizeof *result);
  if (p->train)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "the CLIP tower is frozen (forward only): bench it with --mode eval");
      return FALSE;
    }
  if (p->batch < 1 || p->timed < 1 || p->warmup < 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "a bench needs a batch and a timed forward at least");
      return FALSE;
    }
  if (!vb_clip_config_validate (cfg, error))
    return FALSE;
  vb_set_num_threads (p->threads);
  const VbPrecision *prec;
  const VbOps *ops = vb_precision_open (p->device, p->precision, &prec, error);
  if (ops == NULL)
    return FALSE;
  gboolean ok = bench_on (ops, prec, cfg, llava, p, result, error);
  vb_precision_reset (ops);
  return ok;
}

char *
vb_clip_bench_protocol_json (const VbClipConfig *cfg, gboolean llava, const VbBenchProtocol *p)
{
  gboolean cuda = g_strcmp0 (p->device, "cuda") == 0;
  const VbPrecision *prec = vb_precision_find (p->precision);
  if (prec == NULL)   /* not reached: vb_clip_bench_run refuses unknown names */
    prec = vb_precision_find ("fp32");
  int layers = llava ? cfg->layers - 1 : cfg->layers;
  return g_strdup_printf ("{\"protocol\": \"visionbench-reference\", "
                          "\"mode\": \"eval (CLIP vision tower forward, %s)\", "
                          "\"model\": \"CLIP ViT (width %d, %d heads, patch %d), random "
                          "weights\", \"layers_run\": %d, "
                          "\"batch\": %d, \"img_size\": %d, \"precision\": \"%s\", "
                          "\"warmup_steps\": %d, \"timed_steps\": %d, "
                          "\"statistic\": \"batch / median forward time (host clock, each "
                          "forward waited for)\", "
                          "\"input\": \"synthetic, resident in the device's memory\", "
                          "\"data_loading\": false, \"threads\": %d, \"device\": \"%s\", "
                          "\"device_name\": \"%s\", \"matmul\": \"%s\"}",
                          llava ? "LLaVA's path: hidden_states[-2] patch tokens"
                                : "every layer: last_hidden_state and pooler_output",
                          cfg->width, cfg->heads, cfg->patch_size, layers,
                          p->batch, cfg->image_size, prec->card, p->warmup, p->timed,
                          p->threads, cuda ? "cuda" : "cpu",
                          vb_device_describe (cuda ? vb_device_ops ("cuda", NULL) : NULL),
                          cuda ? gpu_matmul[prec->matmul] : vb_cpu_gemm_name ());
}
