/* vb-projector-bench.c: a projector's inference time (vb-projector-bench.h). */
#include "config.h"

#include "vb-projector-bench.h"

#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-precision.h"
#include "vb-projector-bf16.h"
#include "vb-projector.h"
#include "vb-rng.h"
#include "vb-trainer.h"

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* bytes where the ops run, filled from the host */
static void *
resident (const VbOps *ops, const void *host, size_t bytes)
{
  void *d = ops->on_host ? g_try_malloc (MAX (bytes, 1)) : ops->alloc (ops->ctx, bytes);
  if (d != NULL && host != NULL)
    {
      if (ops->on_host)
        memcpy (d, host, bytes);
      else
        ops->upload (ops->ctx, d, host, bytes);
    }
  return d;
}

static void
release (const VbOps *ops, void *p)
{
  if (p != NULL)
    {
      if (ops->on_host)
        g_free (p);
      else
        ops->free (ops->ctx, p);
    }
}

/* one forward in the protocol's precision, queued */
static gboolean
forward (VbProjector *p, VbProjBf16 *b16, void *y, const void *x, int64_t rows,
         GError **error)
{
  return b16 != NULL ? vb_proj_bf16_forward (b16, y, x, rows, error)
                     : vb_projector_forward (p, y, x, rows, FALSE, error);
}

static gboolean
bench_on (const VbOps *ops, const char *name, const VbProjBenchProtocol *pr, gboolean bf16,
          VbBenchResult *result, GError **error)
{
  size_t mem_before = ops->memory_used (ops->ctx), mem_peak = mem_before;
  g_autoptr (VbProjector) p = vb_projector_new_by_name (name, error);
  if (p == NULL || !vb_projector_use_backend (p, ops, error))
    return FALSE;
  vb_projector_init_weights (p, 0);
  vb_projector_merge (p);   /* LoRA at inference; no-op for the others */
  g_autoptr (VbProjBf16) b16 = bf16 ? vb_proj_bf16_new (p, error) : NULL;
  if (bf16 && b16 == NULL)
    return FALSE;

  const VbProjConfig *c = vb_projector_config (p);
  int64_t rows = (int64_t) pr->inputs * pr->tokens;
  size_t el = bf16 ? sizeof (VbBf16) : sizeof (float);
  g_autofree void *hx = g_malloc ((size_t) rows * c->in_f * el);
  VbRng rng;
  vb_rng_init (&rng, 1);
  for (int64_t i = 0; i < rows * c->in_f; i++)
    {
      float v = vb_rng_normal (&rng);
      if (bf16)
        ((VbBf16 *) hx)[i] = vb_bf16_from_float (v);
      else
        ((float *) hx)[i] = v;
    }
  void *x = resident (ops, hx, (size_t) rows * c->in_f * el);
  void *y = resident (ops, NULL, (size_t) rows * c->out_f * el);
  gboolean ok = x != NULL && y != NULL;
  g_autofree double *times = g_new (double, MAX (pr->timed, 1));
  for (int it = 0; ok && it < pr->warmup + pr->timed; it++)
    {
      gint64 t0 = g_get_monotonic_time ();
      ok = forward (p, b16, y, x, rows, error) && vb_projector_backend_ok (p, error);
      gint64 t1 = g_get_monotonic_time ();
      /* the memory reading (cudaMemGetInfo) after the clock stops: not the forward's time */
      mem_peak = MAX (mem_peak, ops->memory_used (ops->ctx));
      if (it >= pr->warmup)
        times[it - pr->warmup] = (t1 - t0) / 1e6;
    }
  if (x == NULL || y == NULL)
    g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                 "no room for %" G_GINT64_FORMAT " tokens of %s on %s", rows, name, ops->name);
  release (ops, x);
  release (ops, y);
  if (!ok)
    return FALSE;
  qsort (times, pr->timed, sizeof (double), cmp_double);
  result->median_s = times[pr->timed / 2];
  result->min_s = times[0];
  result->iqr_s = times[(3 * pr->timed) / 4] - times[pr->timed / 4];
  result->img_per_s = pr->inputs / result->median_s;
  result->peak_device_bytes = (int64_t) (mem_peak - mem_before);
  return TRUE;
}

gboolean
vb_projector_bench_run (const char *name, const VbProjBenchProtocol *pr, VbBenchResult *result,
                        GError **error)
{
  memset (result, 0, sizeof *result);
  if (pr->inputs < 1 || pr->tokens < 1 || pr->timed < 1 || pr->warmup < 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "projector bench: inputs, tokens and timed forwards must be positive");
      return FALSE;
    }
  vb_set_num_threads (MAX (pr->threads, 1));
  gboolean bf16 = g_strcmp0 (pr->precision, "bf16") == 0;
  /* bf16 storage is its own ops (the CPU's are the reference); fp32 and tf32 set the
   * products' mode of the shared context, and put it back */
  if (bf16)
    {
      const VbOps *ops = vb_device_ops (pr->device, error);
      return ops != NULL && bench_on (ops, name, pr, TRUE, result, error);
    }
  const VbPrecision *prec;
  const VbOps *ops = vb_precision_open (pr->device, pr->precision, &prec, error);
  if (ops == NULL)
    return FALSE;
  gboolean ok = bench_on (ops, name, pr, FALSE, result, error);
  vb_precision_reset (ops);
  return ok;
}

char *
vb_projector_bench_protocol_json (const char *name, const VbProjBenchProtocol *pr)
{
  gboolean cuda = g_strcmp0 (pr->device, "cuda") == 0;
  const char *prec = g_strcmp0 (pr->precision, "bf16") == 0
    ? "bf16 storage: features, weights and outputs bf16, products on bf16 tensor cores "
      "accumulating in fp32, the bias added in the product's epilogue and each output "
      "rounded once, biases at bf16 precision; the Gated projector as one product of "
      "its stacked weights, then the gate in fp32 on its bf16 halves"
    : g_strcmp0 (pr->precision, "tf32") == 0 ? "fp32 tensors, TF32 products" : "fp32";
  return g_strdup_printf ("{\"protocol\": \"visionbench-projector\", \"model\": \"%s\", "
                          "\"mode\": \"inference forward%s\", \"inputs\": %d, "
                          "\"tokens_per_input\": %d, \"precision\": \"%s\", "
                          "\"warmup_steps\": %d, \"timed_steps\": %d, "
                          "\"statistic\": \"median forward time, each timed to its end\", "
                          "\"input\": \"synthetic features, resident where the ops run\", "
                          "\"threads\": %d, \"device\": \"%s\", \"device_name\": \"%s\"}",
                          name, g_str_equal (name, "proj-lora") ? ", LoRA merged" : "",
                          pr->inputs, pr->tokens, prec, pr->warmup, pr->timed, pr->threads,
                          cuda ? "cuda" : "cpu",
                          vb_device_describe (cuda ? vb_device_ops ("cuda", NULL) : NULL));
}
