/* vb-projector-runtime.c: the runtime protocol of clip-projectors.md §5, on the
 * projector's backend (the CPU, or a GPU with the inputs in its memory). */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <time.h>

#include "vb-cpu-ops.h"
#include "vb-device.h"
#include "vb-error.h"

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
vb_runtime_sort (double *values, int n)
{
  qsort (values, n, sizeof (double), cmp_double);
}

/* linear interpolation between order statistics (numpy's default) */
double
vb_runtime_quantile (const double *sorted, int n, double q)
{
  double pos = q * (n - 1);
  int lo = (int) floor (pos), hi = MIN (lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/* nanoseconds: g_get_monotonic_time's microseconds round a small projector's call
 * (or one layer of a test tower) to zero */
double
vb_runtime_clock_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

gboolean
vb_projector_runtime (VbProjector *p, const float *x, const VbRuntimeProtocol *proto,
                      const VbTrainHooks *hooks, double *median_ms, JsonNode **card,
                      GError **error)
{
  const VbProjConfig *cfg = vb_projector_config (p);
  const VbOps *ops = vb_projector_backend (p);
  int64_t rows = (int64_t) proto->inputs * proto->tokens;
  size_t y_bytes = (size_t) rows * cfg->out_f * sizeof (float);
  float *y = ops->on_host ? g_try_malloc (y_bytes) : ops->alloc (ops->ctx, y_bytes);
  if (y == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "%s: no room for the outputs of %" G_GINT64_FORMAT " tokens on %s",
                   vb_projector_kind_name (cfg->kind), rows, ops->name);
      if (!ops->on_host)
        ops->clear_error (ops->ctx);
      return FALSE;
    }
  gboolean ok = TRUE;
  int n = proto->timed * proto->repeats;
  g_autofree double *all = g_new (double, n);
  g_autofree double *rep = g_new (double, proto->repeats);
  for (int r = 0; r < proto->repeats; r++)
    for (int c = 0; c < proto->warmup + proto->timed; c++)
      {
        if (!ok)
          break;
        if (hooks && hooks->should_cancel && hooks->should_cancel (hooks->user_data))
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                         "cancelled while timing the projector");
            ok = FALSE;
            break;
          }
        double t0 = vb_runtime_clock_ms ();
        /* a GPU call is timed to its last kernel */
        ok = vb_projector_forward (p, y, x, rows, FALSE, error)
             && (ops->on_host || vb_projector_backend_ok (p, error));
        double ms = vb_runtime_clock_ms () - t0;
        if (ok && c >= proto->warmup)
          all[r * proto->timed + c - proto->warmup] = ms;
      }
  if (ops->on_host)
    g_free (y);
  else
    ops->free (ops->ctx, y);
  if (!ok)
    return FALSE;
  for (int r = 0; r < proto->repeats; r++)
    {
      vb_runtime_sort (all + r * proto->timed, proto->timed);
      rep[r] = vb_runtime_quantile (all + r * proto->timed, proto->timed, 0.5);
    }
  vb_runtime_sort (all, n);
  double med = vb_runtime_quantile (all, n, 0.5);
  *median_ms = med;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
#define STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define NUM(k, v) (json_builder_set_member_name (b, k), json_builder_add_double_value (b, v))
  STR ("protocol", "clip-projectors §5");
  STR ("mode", "forward (inference), one call over all inputs' tokens");
  STR ("projector", vb_projector_kind_name (cfg->kind));
  INT ("batch", proto->inputs);
  INT ("tokens_per_input", proto->tokens);
  INT ("rows", rows);
  INT ("width", cfg->in_f);
  const char *prec = proto->precision ? proto->precision : "fp32";
  STR ("precision", g_str_equal (prec, "bf16") ? "bf16 products, fp32 accumulation and storage"
                                               : "fp32");
  json_builder_set_member_name (b, "tf32");
  json_builder_add_boolean_value (b, g_str_equal (prec, "tf32"));
  INT ("threads", proto->threads);
  INT ("warmup_calls", proto->warmup);
  INT ("timed_calls", proto->timed);
  INT ("repeats", proto->repeats);
  STR ("statistic", "median over every timed call (IQR beside it)");
  NUM ("median_ms", med);
  NUM ("iqr_ms", vb_runtime_quantile (all, n, 0.75) - vb_runtime_quantile (all, n, 0.25));
  json_builder_set_member_name (b, "repeat_medians_ms");
  json_builder_begin_array (b);
  for (int r = 0; r < proto->repeats; r++)
    json_builder_add_double_value (b, rep[r]);
  json_builder_end_array (b);
  NUM ("images_per_s", med > 0 ? proto->inputs / (med / 1e3) : 0);
  NUM ("tokens_per_s", med > 0 ? rows / (med / 1e3) : 0);
  STR ("clock", VB_RUNTIME_CLOCK);
  STR ("input", proto->input_source);
  if (cfg->kind == VB_PROJ_LORA)
    STR ("lora", vb_projector_is_merged (p) ? "merged (one GEMM)"
                                            : "unmerged (base + two thin GEMMs)");
  if (cfg->kind == VB_PROJ_GATED)
    STR ("gated", "two separate GEMMs");
  STR ("device", ops->on_host ? "cpu" : ops->name);
  STR ("device_name", vb_device_describe (ops));
  STR ("gemm", ops->on_host ? vb_cpu_gemm_name () : "cuBLAS");
  STR ("engine_version", PACKAGE_VERSION);
  json_builder_end_object (b);
#undef STR
#undef INT
#undef NUM
  *card = json_builder_get_root (b);
  return TRUE;
}
