/* vb-run-charts.c: one run's loss, accuracy and throughput charts; a projector-study run's
 * loss, per-epoch loss and throughput charts. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-run-charts.h"

/* TensorBoard's default weight; the raw line stays visible beneath */
#define STEP_SMOOTHING 0.6

double
vb_run_charts_step_x (const VbStepMetric *m,
                      VbXAxisKind         x_axis)
{
  switch (x_axis)
    {
    case VB_X_AXIS_EPOCH:
      return m->epoch;
    case VB_X_AXIS_WALL_TIME:
      return m->wall_s;
    case VB_X_AXIS_STEP:
    case VB_X_AXIS_COUNT:
    default:
      return (double) m->step;
    }
}

double
vb_run_charts_epoch_x (const VbEpochMetric *m,
                       GArray              *steps,
                       VbXAxisKind          x_axis)
{
  double step = NAN;

  if (x_axis == VB_X_AXIS_EPOCH)
    return m->epoch;
  if (x_axis == VB_X_AXIS_WALL_TIME)
    return m->wall_s;
  /* a step's epoch is fractional and reaches e exactly at the last step of epoch e */
  for (guint i = 0; steps && i < steps->len; i++)
    {
      VbStepMetric *s = &g_array_index (steps, VbStepMetric, i);
      if (isfinite (s->epoch) && s->epoch <= m->epoch + 1e-9)
        step = (double) s->step;
    }
  return step;
}

static VbLineChart *
new_chart (const char  *title,
           const char  *y_label,
           VbXAxisKind  x_axis,
           gboolean     smoothed)
{
  VbLineChart *chart = vb_line_chart_new ();

  vb_line_chart_set_title (chart, title);
  vb_line_chart_set_labels (chart, NULL, y_label);
  chart->x_axis = x_axis;
  if (smoothed)
    {
      chart->smoothing_kind = VB_SMOOTHING_EMA;
      chart->smoothing = STEP_SMOOTHING;
    }
  return chart;
}

/* epochs so far (at least 1), not the planned total: a 500-epoch run stays readable */
static void
fit_epoch_axis (GArray      *steps,
                GArray      *epochs,
                VbXAxisKind  x_axis,
                VbRunCharts *out)
{
  guint n_epochs = epochs ? epochs->len : 0;

  if (x_axis != VB_X_AXIS_EPOCH)
    return;
  double x_max = 1;
  if (n_epochs > 0)
    x_max = MAX (x_max, g_array_index (epochs, VbEpochMetric, n_epochs - 1).epoch);
  if (steps && steps->len > 0)
    x_max = MAX (x_max, ceil (g_array_index (steps, VbStepMetric, steps->len - 1).epoch - 1e-9));
  VbLineChart *charts[] = { out->loss, out->accuracy, out->throughput };
  for (guint c = 0; c < G_N_ELEMENTS (charts); c++)
    {
      charts[c]->x_auto = FALSE;
      charts[c]->x_min = 0;
      charts[c]->x_max = x_max;
    }
}

/* Train img/s per step and eval img/s per epoch, the same for every kind of run. */
static void
fill_throughput (GArray      *steps,
                 GArray      *epochs,
                 VbXAxisKind  x_axis,
                 int          color,
                 VbRunCharts *out)
{
  out->throughput = new_chart ("Throughput", "img/s", x_axis, TRUE);
  VbSeries *train = vb_line_chart_add_series (out->throughput, vb_series_new ("train img/s", color));
  VbSeries *eval = vb_line_chart_add_series (out->throughput, vb_series_new ("eval img/s", color));
  /* one figure per epoch: nothing to smooth */
  eval->raw = TRUE;
  eval->dashed = TRUE;
  for (guint i = 0; steps && i < steps->len; i++)
    {
      VbStepMetric *m = &g_array_index (steps, VbStepMetric, i);
      vb_series_append (train, vb_run_charts_step_x (m, x_axis), m->img_per_s);
    }
  for (guint i = 0; epochs && i < epochs->len; i++)
    {
      VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, i);
      vb_series_append (eval, vb_run_charts_epoch_x (m, steps, x_axis), m->img_per_s_eval);
    }
}

/* What sets a kind of run apart: the loss chart's names, and the per-epoch chart's names
 * and two metrics (doubles of VbEpochMetric; the second dashed). */
typedef struct {
  const char *loss_title, *loss_label;
  const char *epoch_title, *epoch_label;
  const char *first_name, *second_name;
  glong       first, second;
} RunKind;

static const RunKind classifier = {
  "Training loss", "Loss",
  "Validation accuracy", "Accuracy (%)",
  "top-1", "top-5",
  G_STRUCT_OFFSET (VbEpochMetric, val_top1), G_STRUCT_OFFSET (VbEpochMetric, val_top5),
};

/* Mode A's loss: 1 − cos(ẑ, y), 0 when the prediction points along CLIP's embedding; the
 * study logs no per-epoch accuracy, so its per-epoch chart shows the losses */
static const RunKind projector = {
  "Training loss (1 − cos)", "1 − cos",
  "Loss per epoch (1 − cos)", "1 − cos",
  "validation", "train (epoch mean)",
  G_STRUCT_OFFSET (VbEpochMetric, val_loss), G_STRUCT_OFFSET (VbEpochMetric, train_loss),
};

static void
build (const RunKind *kind,
       GArray        *steps,
       GArray        *epochs,
       VbXAxisKind    x_axis,
       int            color,
       VbRunCharts   *out)
{
  out->loss = new_chart (kind->loss_title, kind->loss_label, x_axis, TRUE);
  VbSeries *loss = vb_line_chart_add_series (out->loss, vb_series_new ("train loss", color));

  out->accuracy = new_chart (kind->epoch_title, kind->epoch_label, x_axis, FALSE);
  VbSeries *first = vb_line_chart_add_series (out->accuracy,
                                              vb_series_new (kind->first_name, color));
  VbSeries *second = vb_line_chart_add_series (out->accuracy,
                                               vb_series_new (kind->second_name, color));
  second->dashed = TRUE;
  fill_throughput (steps, epochs, x_axis, color, out);

  for (guint i = 0; steps && i < steps->len; i++)
    {
      VbStepMetric *m = &g_array_index (steps, VbStepMetric, i);
      vb_series_append (loss, vb_run_charts_step_x (m, x_axis), m->loss);
    }
  for (guint i = 0; epochs && i < epochs->len; i++)
    {
      VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, i);
      double x = vb_run_charts_epoch_x (m, steps, x_axis);
      vb_series_append (first, x, G_STRUCT_MEMBER (double, m, kind->first));
      vb_series_append (second, x, G_STRUCT_MEMBER (double, m, kind->second));
    }
  fit_epoch_axis (steps, epochs, x_axis, out);
}

void
vb_run_charts_build (GArray      *steps,
                     GArray      *epochs,
                     VbXAxisKind  x_axis,
                     int          color,
                     VbRunCharts *out)
{
  build (&classifier, steps, epochs, x_axis, color, out);
}

void
vb_run_charts_build_projector (GArray      *steps,
                               GArray      *epochs,
                               VbXAxisKind  x_axis,
                               int          color,
                               VbRunCharts *out)
{
  build (&projector, steps, epochs, x_axis, color, out);
}
