/* vb-compare-charts.c: throughput bars and overlaid curves for the Compare page. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-compare-charts.h"
#include "vb-compare-protocol.h"

int
vb_compare_run_color (gint64 run_id)
{
  return (int) (MAX (run_id, 0) % VB_CHART_PALETTE_SIZE);
}

char *
vb_compare_row_label (const VbCompareRow *row)
{
  /* a projector study's runs differ by projector and seed */
  if (row->projector)
    return g_strdup_printf ("%s s%" G_GINT64_FORMAT " #%" G_GINT64_FORMAT, row->model, row->seed,
                            row->run_id);
  /* "4-dir (Cross-Scan)" → "4-dir": bars are narrow, the table has the long name */
  g_autofree char *scan = g_strdup (row->scan ? row->scan : "?");
  char *paren = strstr (scan, " (");
  if (paren != NULL)
    *paren = '\0';
  return g_strdup_printf ("%s #%" G_GINT64_FORMAT, scan, row->run_id);
}

VbBarChart *
vb_compare_rows_chart (GPtrArray  *rows,
                       int         baseline,
                       const char *title,
                       const char *unit,
                       int         decimals,
                       glong       value)
{
  VbBarChart *chart = vb_bar_chart_new ();
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

  vb_bar_chart_set_title (chart, title);
  vb_bar_chart_set_y_label (chart, unit);
  chart->show_values = TRUE;
  chart->value_decimals = decimals;
  chart->higher_is_better = TRUE;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_autofree char *label = vb_compare_row_label (r);
      vb_bar_chart_add_category (chart, label);
      g_array_append_val (values, G_STRUCT_MEMBER (double, r, value));
    }
  VbBarSeries *series = vb_bar_chart_add_series (chart, vb_bar_series_new (unit, 0));
  vb_bar_series_set_values (series, (const double *) values->data, values->len);
  /* each bar in its run's colour, as its curve */
  for (guint i = 0; i < rows->len; i++)
    vb_bar_series_set_color (series, i,
                             vb_compare_run_color (((VbCompareRow *) g_ptr_array_index (rows, i))->run_id));
  if (baseline >= 0 && baseline < (int) rows->len && rows->len > 1)
    {
      chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
      chart->baseline_index = baseline;
    }
  return chart;
}

VbBarChart *
vb_compare_throughput_chart (GPtrArray *rows,
                             GPtrArray *cards,
                             int        baseline)
{
  g_autoptr (GString) refused = g_string_new (NULL);
  guint n_refused = 0;

  if (baseline >= (int) rows->len)
    baseline = -1;
  VbBarChart *chart = vb_compare_rows_chart (rows, baseline, "Evaluation throughput", "img/s", 1,
                                             G_STRUCT_OFFSET (VbCompareRow, eval_img_per_s));
  VbBarSeries *series = g_ptr_array_index (chart->series, 0);
  chart->delta_percent = TRUE;

  /* the guard needs a reference card: the baseline's, or the first row's without one */
  int reference = baseline >= 0 ? baseline : 0;
  const char *ref_card = rows->len > 0 && cards ? g_ptr_array_index (cards, reference) : NULL;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      const char *card = cards ? g_ptr_array_index (cards, i) : NULL;
      g_auto (GStrv) fields = vb_protocol_diff (ref_card, card);
      if ((int) i == reference || g_strv_length (fields) == 0)
        continue;
      vb_bar_series_set_incomparable (series, i, TRUE);
      g_autofree char *fields_text = g_strjoinv (", ", fields);
      g_string_append_printf (refused, "%s#%" G_GINT64_FORMAT " (%s)", n_refused ? ", " : "",
                              r->run_id, fields_text);
      n_refused++;
    }

  g_autofree char *caption = NULL;
  if (rows->len == 0)
    caption = g_strdup ("No runs");
  else if (n_refused > 0)
    caption = g_strdup_printf ("≠ protocol: %s measured differently from #%" G_GINT64_FORMAT
                               ": no Δ computed", refused->str,
                               ((VbCompareRow *) g_ptr_array_index (rows, reference))->run_id);
  else if (baseline >= 0 && rows->len > 1)
    caption = g_strdup_printf ("Same protocol for every run · %%Δ against #%" G_GINT64_FORMAT,
                               ((VbCompareRow *) g_ptr_array_index (rows, baseline))->run_id);
  else
    caption = g_strdup ("Same protocol for every run");
  vb_bar_chart_set_caption (chart, caption);
  return chart;
}

VbLineChart *
vb_compare_curves_new (const char *title,
                       const char *y_label,
                       gboolean    per_epoch)
{
  VbLineChart *chart = vb_line_chart_new ();

  vb_line_chart_set_title (chart, title);
  vb_line_chart_set_labels (chart, NULL, y_label);
  chart->x_axis = per_epoch ? VB_X_AXIS_EPOCH : VB_X_AXIS_STEP;
  if (!per_epoch)
    {
      /* per-step loss is noisy: smoothed, with the raw line faint beneath */
      chart->smoothing_kind = VB_SMOOTHING_EMA;
      chart->smoothing = 0.6;
    }
  return chart;
}

void
vb_compare_curve_append (VbSeries *series,
                         VbStore  *store,
                         gint64    run_id,
                         gboolean  per_epoch,
                         glong     epoch_metric)
{
  if (per_epoch)
    {
      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run_id, NULL);
      for (guint e = 0; epochs && e < epochs->len; e++)
        {
          VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, e);
          vb_series_append (series, m->epoch, G_STRUCT_MEMBER (double, m, epoch_metric));
        }
    }
  else
    {
      g_autoptr (GArray) steps = vb_store_get_step_metrics (store, run_id, NULL);
      for (guint k = 0; steps && k < steps->len; k++)
        {
          VbStepMetric *m = &g_array_index (steps, VbStepMetric, k);
          vb_series_append (series, (double) m->step, m->loss);
        }
    }
}

VbLineChart *
vb_compare_curves_chart (VbStore        *store,
                         GPtrArray      *rows,
                         VbCompareCurve  curve)
{
  gboolean top1 = curve == VB_COMPARE_CURVE_VAL_TOP1;
  VbLineChart *chart = vb_compare_curves_new (top1 ? "Validation top-1" : "Training loss",
                                              top1 ? "Top-1 (%)" : "Loss", top1);

  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_autofree char *label = vb_compare_row_label (r);
      VbSeries *s = vb_line_chart_add_series (chart,
                                              vb_series_new (label, vb_compare_run_color (r->run_id)));
      vb_compare_curve_append (s, store, r->run_id, top1,
                               G_STRUCT_OFFSET (VbEpochMetric, val_top1));
    }
  return chart;
}
