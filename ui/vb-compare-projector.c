/* vb-compare-projector.c: the projector study's notice, curves and trade-off scatter. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-compare-projector.h"

#include "vb-compare-charts.h"

/* the study's order (§3), so the five keep five distinct palette colours */
static const char *const projectors[] = {
  "proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora",
};

gboolean
vb_compare_rows_are_projector (GPtrArray *rows)
{
  if (rows == NULL || rows->len == 0)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    if (!((VbCompareRow *) g_ptr_array_index (rows, i))->projector)
      return FALSE;
  return TRUE;
}

int
vb_compare_projector_color (const char *projector)
{
  for (guint i = 0; i < G_N_ELEMENTS (projectors); i++)
    if (g_strcmp0 (projector, projectors[i]) == 0)
      return (int) i;
  /* another name: a stable colour of its own, past the five */
  return projector ? (int) (G_N_ELEMENTS (projectors) + g_str_hash (projector) % 3) : 0;
}

char *
vb_compare_projector_notice (GPtrArray *rows)
{
  for (guint i = 0; rows && i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (r->projector && r->random_encoder)
        return g_strdup_printf ("Random encoder weights: %s. These results measure the "
                                "projectors on a randomly initialised CLIP tower, not on CLIP’s "
                                "trained features; name the weights file on the Experiments "
                                "page for the real study.", r->encoder);
    }
  return NULL;
}

VbScatterChart *
vb_compare_tradeoff_chart (GPtrArray *rows)
{
  VbScatterChart *chart = vb_scatter_chart_new ();
  g_autoptr (GPtrArray) seen = g_ptr_array_new ();
  int max_seeds = 0;

  vb_scatter_chart_set_title (chart, "Accuracy / size trade-off");
  vb_scatter_chart_set_labels (chart, "Params (M)", "Proxy Top-1 (%)");
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (g_ptr_array_find_with_equal_func (seen, r->model, g_str_equal, NULL))
        continue;
      g_ptr_array_add (seen, r->model);
      double sum = 0, sum2 = 0, params = NAN;
      int n = 0;
      for (guint j = i; j < rows->len; j++)
        {
          VbCompareRow *q = g_ptr_array_index (rows, j);
          if (g_strcmp0 (q->model, r->model) != 0 || !isfinite (q->proxy_top1))
            continue;
          sum += q->proxy_top1;
          n++;
          if (q->params > 0)
            params = q->params / 1e6;
        }
      if (n == 0 || !isfinite (params))
        continue;   /* nothing finished yet: no point to place */
      double mean = sum / n;
      for (guint j = i; j < rows->len; j++)
        {
          VbCompareRow *q = g_ptr_array_index (rows, j);
          if (g_strcmp0 (q->model, r->model) == 0 && isfinite (q->proxy_top1))
            sum2 += (q->proxy_top1 - mean) * (q->proxy_top1 - mean);
        }
      VbScatterPoint *pt = vb_scatter_chart_add_point (chart, r->model,
                                                       vb_compare_projector_color (r->model),
                                                       params, mean);
      if (n > 1)
        {
          double sd = sqrt (sum2 / (n - 1));   /* sample std, as the CLI's table */
          pt->y_lo = mean - sd;
          pt->y_hi = mean + sd;
        }
      max_seeds = MAX (max_seeds, n);
    }
  g_autofree char *caption = max_seeds > 1
    ? g_strdup_printf ("Mean over up to %d seeds; bars: ± std. Proxy Top-1: linear probe on ẑ "
                       "(test split).", max_seeds)
    : g_strdup ("One seed per projector: no spread. Proxy Top-1: linear probe on ẑ (test split).");
  vb_scatter_chart_set_caption (chart, caption);
  return chart;
}

VbLineChart *
vb_compare_projector_curves (VbStore   *store,
                             GPtrArray *rows,
                             gboolean   per_epoch)
{
  VbLineChart *chart = vb_compare_curves_new (per_epoch ? "Validation loss per projector"
                                                        : "Training loss per projector",
                                              "1 − cos", per_epoch);

  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_autofree char *label = g_strdup_printf ("%s s%" G_GINT64_FORMAT, r->model, r->seed);
      VbSeries *s = vb_line_chart_add_series (chart, vb_series_new (label,
                                                                    vb_compare_projector_color (r->model)));
      /* seeds of one projector share its colour; the later ones dashed */
      for (guint j = 0; j < i; j++)
        s->dashed |= g_strcmp0 (((VbCompareRow *) g_ptr_array_index (rows, j))->model, r->model) == 0;
      vb_compare_curve_append (s, store, r->run_id, per_epoch,
                               G_STRUCT_OFFSET (VbEpochMetric, val_loss));
    }
  return chart;
}
