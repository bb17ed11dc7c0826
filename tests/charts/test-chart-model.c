/* test-chart-model.c: tick placement and labels, smoothing, and the chart data model —
 * everything of the chart library that is arithmetic rather than pixels. */

#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "vb-charts.h"

/* ---- ticks ------------------------------------------------------------------------ */

static void
test_nice_step (void)
{
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (1.0, 5), 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (10.0, 5), 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (100.0, 4), 20.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (7.0, 2), 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (0.003, 3), 0.001, 1e-15);
  g_assert_cmpfloat_with_epsilon (vb_chart_nice_step (90000, 5), 20000, 1e-6);

  /* every step is 1, 2 or 5 times a power of ten */
  for (double span = 0.0123; span < 1e7; span *= 1.37)
    for (int target = 2; target <= 10; target += 4)
      {
        double step = vb_chart_nice_step (span, target);
        double m = step / pow (10, floor (log10 (step) + 1e-9));
        g_assert_true (fabs (m - 1) < 1e-9 || fabs (m - 2) < 1e-9 || fabs (m - 5) < 1e-9);
        double n = span / step;
        g_assert_cmpfloat (n, >=, target / 3.0);
        g_assert_cmpfloat (n, <=, target * 2.0);
      }
}

static char *
labels_of (GArray *ticks)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ticks->len; i++)
    {
      const VbTick *t = &g_array_index (ticks, VbTick, i);
      g_string_append_printf (s, "%s%s", i > 0 ? " " : "", t->label ? t->label : ".");
    }
  return g_string_free (s, FALSE);
}

static void
assert_ticks (double       lo,
              double       hi,
              double       target,
              VbTickFormat format,
              gboolean     log,
              const char  *expected)
{
  g_autoptr(GArray) ticks = vb_chart_ticks (lo, hi, target, format, log);
  g_autofree char *got = labels_of (ticks);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_ticks_linear (void)
{
  assert_ticks (0, 1, 5, VB_TICK_NUMBER, FALSE, "0 0.2 0.4 0.6 0.8 1.0");
  assert_ticks (-0.95, 1.02, 4, VB_TICK_NUMBER, FALSE, "−0.5 0 0.5 1.0");
  assert_ticks (0.3, 2.7, 5, VB_TICK_NUMBER, FALSE, "0.5 1.0 1.5 2.0 2.5");
  /* float noise never shows: 0.1 × 3 is written 0.3 */
  assert_ticks (0, 0.35, 3, VB_TICK_NUMBER, FALSE, "0 0.1 0.2 0.3");
  /* big numbers get SI suffixes from 10 000 on, sharing the decimals */
  assert_ticks (0, 100000, 4, VB_TICK_INTEGER, FALSE, "0 20k 40k 60k 80k 100k");
  assert_ticks (0, 15000, 3, VB_TICK_INTEGER, FALSE, "0 5k 10k 15k");
  assert_ticks (0, 5000, 5, VB_TICK_INTEGER, FALSE, "0 1000 2000 3000 4000 5000");
  assert_ticks (0, 2500000, 5, VB_TICK_SI, FALSE, "0 0.5M 1.0M 1.5M 2.0M 2.5M");
  /* integer axes never step below 1 */
  assert_ticks (0, 3, 10, VB_TICK_INTEGER, FALSE, "0 1 2 3");
  /* learning rates: mantissa and exponent */
  assert_ticks (0, 3e-4, 3, VB_TICK_NUMBER, FALSE, "0 1e−4 2e−4 3e−4");
}

static void
test_ticks_duration (void)
{
  /* under an hour: m:ss */
  assert_ticks (0, 600, 5, VB_TICK_DURATION, FALSE, "0:00 2:00 4:00 6:00 8:00 10:00");
  assert_ticks (0, 100, 4, VB_TICK_DURATION, FALSE, "0:00 0:30 1:00 1:30");
  /* hours: h:mm */
  assert_ticks (0, 4 * 3600, 4, VB_TICK_DURATION, FALSE, "0:00 1:00 2:00 3:00 4:00");
  assert_ticks (0, 5400, 6, VB_TICK_DURATION, FALSE, "0:00 0:15 0:30 0:45 1:00 1:15 1:30");
  /* days */
  assert_ticks (0, 4 * 86400, 4, VB_TICK_DURATION, FALSE, "0:00 1d 2d 3d 4d");

  g_autofree char *a = vb_chart_format_tick (125, 5, 600, VB_TICK_DURATION);
  g_assert_cmpstr (a, ==, "2:05");
  g_autofree char *b = vb_chart_format_tick (3900, 300, 7200, VB_TICK_DURATION);
  g_assert_cmpstr (b, ==, "1:05");
  g_autofree char *c = vb_chart_format_tick (3905, 5, 7200, VB_TICK_DURATION);
  g_assert_cmpstr (c, ==, "1:05:05");
  g_assert_cmpstr (vb_chart_duration_unit (60, 7200), ==, "h:mm");
  g_assert_cmpstr (vb_chart_duration_unit (30, 600), ==, "m:ss");
}

static void
test_ticks_log (void)
{
  /* many decades: labelled decades only */
  g_autoptr(GArray) wide = vb_chart_ticks (1e-5, 10, 4, VB_TICK_NUMBER, TRUE);
  guint labelled = 0;
  for (guint i = 0; i < wide->len; i++)
    {
      const VbTick *t = &g_array_index (wide, VbTick, i);
      if (t->label == NULL)
        continue;
      labelled++;
      double m = t->value / pow (10, floor (log10 (t->value) + 1e-9));
      g_assert_cmpfloat_with_epsilon (m, 1.0, 1e-9);
    }
  g_assert_cmpuint (labelled, >=, 3);
  g_assert_cmpuint (labelled, <=, 7);

  /* two decades: 1-2-5 labels, other multiples as unlabelled grid lines */
  g_autoptr(GArray) narrow = vb_chart_ticks (0.1, 10, 6, VB_TICK_NUMBER, TRUE);
  g_autofree char *got = labels_of (narrow);
  g_assert_cmpstr (got, ==, "0.1 0.2 . . 0.5 . . . . 1 2 . . 5 . . . . 10");
}

/* ---- smoothing -------------------------------------------------------------------- */

/* TensorBoard's scalar smoothing, as in its frontend */
static void
tensorboard_ema (double        w,
                 const double *y,
                 guint         n,
                 double       *out)
{
  double last = 0;
  guint k = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (y[i]))
        {
          out[i] = y[i];
          continue;
        }
      last = last * w + (1 - w) * y[i];
      k++;
      out[i] = last / (1 - pow (w, k));
    }
}

static void
test_smoothing_ema_matches_tensorboard (void)
{
  const guint n = 500;
  g_autofree double *x = g_new (double, n);
  g_autofree double *y = g_new (double, n);
  g_autofree double *ours = g_new (double, n);
  g_autofree double *tb = g_new (double, n);
  GRand *rand = g_rand_new_with_seed (7);

  for (guint i = 0; i < n; i++)
    {
      x[i] = 10.0 * i;   /* the scale of x does not matter, only its evenness */
      y[i] = exp (-(double) i / 100.0) + 0.1 * g_rand_double_range (rand, -1, 1);
    }
  g_rand_free (rand);
  for (double w = 0.3; w < 0.99; w += 0.3)
    {
      vb_smooth (VB_SMOOTHING_EMA, w, x, y, n, ours);
      tensorboard_ema (w, y, n, tb);
      g_assert_cmpfloat (ours[0], ==, y[0]);   /* debiased: no pull towards 0 */
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat_with_epsilon (ours[i], tb[i], 1e-9);
    }
}

static void
test_smoothing_ema_gap_aware (void)
{
  /* evenly spaced, then a gap of 10 steps: the old value decays as if 10 points had
   * passed, w^10, not w */
  double x[] = { 0, 1, 2, 12 };
  double y[] = { 1, 1, 1, 0 };
  double out[4];
  double w = 0.8;

  vb_smooth (VB_SMOOTHING_EMA, w, x, y, 4, out);
  double acc = (1 - pow (w, 3));          /* after three points of 1 (sum of weights) */
  double wg = pow (w, 10);
  double expected = (acc * wg * 1.0 + (1 - wg) * 0.0) / (acc * wg + (1 - wg));
  g_assert_cmpfloat_with_epsilon (out[3], expected, 1e-12);
  /* TensorBoard's point-based EMA would have kept most of the old value */
  g_assert_cmpfloat (out[3], <, 0.25);
}

static void
test_smoothing_constant_and_nan (void)
{
  const guint n = 1000;
  g_autofree double *x = g_new (double, n);
  g_autofree double *y = g_new (double, n);
  g_autofree double *out = g_new (double, n);
  const VbSmoothingKind kinds[] = { VB_SMOOTHING_EMA, VB_SMOOTHING_RUNNING_AVERAGE, VB_SMOOTHING_GAUSSIAN };
  const double params[] = { 0.95, 25, 8 };

  for (guint i = 0; i < n; i++)
    {
      x[i] = i;
      y[i] = 0.1;   /* not exactly representable: float noise would show as spikes */
    }
  y[500] = NAN;
  y[501] = INFINITY;
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      vb_smooth (kinds[k], params[k], x, y, n, out);
      for (guint i = 0; i < n; i++)
        if (i == 500 || i == 501)
          g_assert_false (isfinite (out[i]));
        else
          g_assert_cmpfloat (out[i], ==, 0.1);
    }

  /* a non-constant series: NaN stays NaN, its neighbours stay finite */
  for (guint i = 0; i < n; i++)
    y[i] = sin (i / 30.0);
  y[300] = NAN;
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      vb_smooth (kinds[k], params[k], x, y, n, out);
      g_assert_true (isnan (out[300]));
      for (guint i = 0; i < n; i++)
        if (i != 300)
          g_assert_true (isfinite (out[i]));
    }
}

static void
test_smoothing_running_and_gaussian (void)
{
  double x[200], y[200], out[200];

  for (guint i = 0; i < 200; i++)
    {
      x[i] = 2.0 * i;
      y[i] = 3.0 * i + 1;
    }
  /* trailing mean of N points lags a line by (N − 1) / 2 points */
  vb_smooth (VB_SMOOTHING_RUNNING_AVERAGE, 5, x, y, 200, out);
  g_assert_cmpfloat_with_epsilon (out[0], y[0], 1e-12);
  g_assert_cmpfloat_with_epsilon (out[100], y[98], 1e-9);
  /* a centred Gaussian leaves a straight line unchanged away from the ends */
  vb_smooth (VB_SMOOTHING_GAUSSIAN, 3, x, y, 200, out);
  for (guint i = 20; i < 180; i++)
    g_assert_cmpfloat_with_epsilon (out[i], y[i], 1e-9);

  /* off */
  g_assert_false (vb_smoothing_is_active (VB_SMOOTHING_EMA, 0));
  g_assert_false (vb_smoothing_is_active (VB_SMOOTHING_RUNNING_AVERAGE, 1));
  g_assert_true (vb_smoothing_is_active (VB_SMOOTHING_GAUSSIAN, 0.5));
  vb_smooth (VB_SMOOTHING_EMA, 0, x, y, 200, out);
  g_assert_cmpmem (out, sizeof out, y, sizeof y);

  g_autofree char *d = vb_smoothing_describe (VB_SMOOTHING_EMA, 0.6);
  g_assert_cmpstr (d, ==, "EMA 0.60 (time-weighted, debiased)");
}

/* ---- model ------------------------------------------------------------------------ */

static void
test_model (void)
{
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("4-dir", 0));

  vb_series_append (s, 0, 1);
  vb_series_append_band (s, 1, 2, 1.5, 2.5);
  g_assert_cmpuint (vb_series_get_length (s), ==, 2);
  g_assert_cmpuint (s->y_lo->len, ==, 2);
  g_assert_true (isnan (g_array_index (s->y_lo, double, 0)));
  vb_line_chart_set_title (chart, "Loss");
  vb_line_chart_set_title (chart, chart->title);   /* setting a field to itself is safe */
  g_assert_cmpstr (chart->title, ==, "Loss");

  g_autofree char *desc = vb_line_chart_describe (chart);
  g_assert_nonnull (strstr (desc, "x-axis: step"));
  g_assert_nonnull (strstr (desc, "4-dir"));

  g_autoptr(VbBarChart) bars = vb_bar_chart_new ();
  vb_bar_chart_add_category (bars, "4-dir");
  vb_bar_chart_add_category (bars, "2-dir");
  VbBarSeries *b = vb_bar_chart_add_series (bars, vb_bar_series_new ("Top-1", 0));
  double v[] = { 76.4, 75.2 };
  vb_bar_series_set_values (b, v, 2);
  bars->baseline_kind = VB_BAR_BASELINE_CATEGORY;
  bars->baseline_index = 0;
  g_assert_null (vb_bar_chart_format_delta (bars, 0, 0));
  g_autofree char *d1 = vb_bar_chart_format_delta (bars, 1, 0);
  g_assert_cmpstr (d1, ==, "−1.2");
  bars->delta_percent = TRUE;
  g_autofree char *d2 = vb_bar_chart_format_delta (bars, 1, 0);
  g_assert_cmpstr (d2, ==, "−1.6 %");
  vb_bar_series_set_incomparable (b, 1, TRUE);
  g_autofree char *d3 = vb_bar_chart_format_delta (bars, 1, 0);
  g_assert_cmpstr (d3, ==, "≠ protocol");
  g_assert_true (isnan (vb_bar_chart_get_value (bars, 5, 0)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/charts/ticks/nice-step", test_nice_step);
  g_test_add_func ("/charts/ticks/linear", test_ticks_linear);
  g_test_add_func ("/charts/ticks/duration", test_ticks_duration);
  g_test_add_func ("/charts/ticks/log", test_ticks_log);
  g_test_add_func ("/charts/smoothing/ema-matches-tensorboard", test_smoothing_ema_matches_tensorboard);
  g_test_add_func ("/charts/smoothing/ema-gap-aware", test_smoothing_ema_gap_aware);
  g_test_add_func ("/charts/smoothing/constant-and-nan", test_smoothing_constant_and_nan);
  g_test_add_func ("/charts/smoothing/running-and-gaussian", test_smoothing_running_and_gaussian);
  g_test_add_func ("/charts/model", test_model);

  return g_test_run ();
}
