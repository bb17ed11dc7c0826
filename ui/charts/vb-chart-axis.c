/* vb-chart-axis.c: nice ticks and their labels. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-axis.h"

#include <math.h>
#include <string.h>

#define MINUS "\xe2\x88\x92"   /* U+2212 MINUS SIGN */

double
vb_chart_nice_step (double span,
                    double target)
{
  if (!(span > 0) || !isfinite (span))
    return 1.0;
  if (!(target >= 1))
    target = 1;
  double raw = span / target;
  double mag = pow (10.0, floor (log10 (raw)));
  double norm = raw / mag;
  double nice;

  /* thresholds at the geometric means: the step nearest the raw one on a log scale */
  if (norm < G_SQRT2)
    nice = 1;
  else if (norm < 3.1623)
    nice = 2;
  else if (norm < 7.0711)
    nice = 5;
  else
    nice = 10;
  return nice * mag;
}

double
vb_chart_time_step (double span,
                    double target)
{
  static const double steps[] = {
    1, 2, 5, 10, 15, 30,
    60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60,
    3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 2 * 86400, 7 * 86400,
  };

  if (!(span > 0) || !isfinite (span))
    return 1.0;
  if (!(target >= 1))
    target = 1;
  double raw = span / target;
  if (raw < 1)
    return vb_chart_nice_step (span, target);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (steps[i] >= raw * 0.75)
      return steps[i];
  return 86400.0 * vb_chart_nice_step (span / 86400.0, target);
}

static int
decimals_for (double step)
{
  if (!(step > 0) || !isfinite (step))
    return 0;
  int d = (int) ceil (-log10 (step) - 1e-9);
  return CLAMP (d, 0, 12);
}

static char *
with_minus (char *s)
{
  if (s[0] != '-')
    return s;
  /* "-0" after rounding is just "0" */
  gboolean all_zero = TRUE;
  for (const char *p = s + 1; *p; p++)
    if (*p != '0' && *p != '.')
      {
        all_zero = FALSE;
        break;
      }
  char *out = all_zero ? g_strdup (s + 1) : g_strconcat (MINUS, s + 1, NULL);
  g_free (s);
  return out;
}

const char *
vb_chart_duration_unit (double step,
                        double max_abs)
{
  if (max_abs >= 2 * 86400 && step >= 60)
    return "d h:mm";
  if (max_abs >= 3600)
    return step >= 60 ? "h:mm" : "h:mm:ss";
  return "m:ss";
}

static char *
format_duration (double value,
                 double step,
                 double max_abs)
{
  const char *unit = vb_chart_duration_unit (step, max_abs);
  gboolean negative = value < 0;
  int frac_digits = step < 1 ? decimals_for (step) : 0;
  double v = fabs (value);
  double scale = pow (10.0, frac_digits);
  /* round once, at the precision shown, then split */
  gint64 units = (gint64) llround (v * scale);
  gint64 whole = units / (gint64) scale;
  gint64 frac = units % (gint64) scale;
  gint64 d = whole / 86400, h = (whole / 3600) % 24, m = (whole / 60) % 60, s = whole % 60;
  char *out;

  if (strcmp (unit, "d h:mm") == 0)
    {
      if (d > 0 && h == 0 && m == 0)
        out = g_strdup_printf ("%" G_GINT64_FORMAT "d", d);
      else if (d > 0)
        out = g_strdup_printf ("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, d, h, m);
      else
        out = g_strdup_printf ("%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, h, m);
    }
  else if (strcmp (unit, "h:mm") == 0)
    out = g_strdup_printf ("%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, whole / 3600, m);
  else if (strcmp (unit, "h:mm:ss") == 0)
    out = g_strdup_printf ("%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                           whole / 3600, m, s);
  else if (frac_digits > 0)
    out = g_strdup_printf ("%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT,
                           whole / 60, s, frac_digits, frac);
  else
    out = g_strdup_printf ("%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, whole / 60, s);

  if (negative && units != 0)
    {
      char *tmp = g_strconcat (MINUS, out, NULL);
      g_free (out);
      out = tmp;
    }
  return out;
}

char *
vb_chart_format_tick (double       value,
                      double       step,
                      double       max_abs,
                      VbTickFormat format)
{
  if (!isfinite (value))
    return g_strdup (isnan (value) ? "NaN" : (value > 0 ? "∞" : MINUS "∞"));
  if (format == VB_TICK_DURATION)
    return format_duration (value, step, max_abs);

  if (!(step > 0))
    step = fabs (value) > 0 ? fabs (value) : 1;
  if (fabs (value) < step * 1e-6)
    value = 0;
  if (!(max_abs > 0))
    max_abs = fabs (value);

  /* tiny values: mantissa and exponent, "1.5e−4" */
  if (format != VB_TICK_SI && format != VB_TICK_INTEGER && max_abs > 0 && max_abs < 1e-3)
    {
      if (value == 0)
        return g_strdup ("0");
      int e = (int) floor (log10 (max_abs) + 1e-9);
      double p = pow (10.0, e);
      int dec = decimals_for (step / p);
      char *mant = with_minus (g_strdup_printf ("%.*f", dec, value / p));
      char *out = g_strdup_printf ("%se" MINUS "%d", mant, -e);
      g_free (mant);
      return out;
    }

  const double si_from = format == VB_TICK_SI ? 1e3 : 1e4;
  static const struct { double scale; const char *suffix; } si[] = {
    { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
  };
  double scale = 1;
  const char *suffix = "";
  if (max_abs >= si_from)
    for (guint i = 0; i < G_N_ELEMENTS (si); i++)
      if (max_abs >= si[i].scale)
        {
          scale = si[i].scale;
          suffix = si[i].suffix;
          break;
        }

  if (value == 0)
    return g_strdup ("0");
  int dec = decimals_for (step / scale);
  char *num = with_minus (g_strdup_printf ("%.*f", dec, value / scale));
  if (*suffix == '\0')
    return num;
  char *out = g_strconcat (num, suffix, NULL);
  g_free (num);
  return out;
}

static void
clear_tick (gpointer data)
{
  VbTick *tick = data;

  g_clear_pointer (&tick->label, g_free);
}

static void
add_tick (GArray *ticks,
          double  value,
          char   *label)
{
  VbTick t = { value, label };

  g_array_append_val (ticks, t);
}

static GArray *
ticks_log (double lo,
           double hi,
           double target)
{
  GArray *ticks = g_array_new (FALSE, TRUE, sizeof (VbTick));
  double llo = log10 (lo), lhi = log10 (hi);
  int d0 = (int) floor (llo + 1e-9), d1 = (int) ceil (lhi - 1e-9);
  int decades = MAX (d1 - d0, 1);
  double eps = (lhi - llo) * 1e-9;
  /* which multiples of each decade get a label */
  static const int m_all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  static const int m_125[] = { 1, 2, 5 };
  static const int m_1[] = { 1 };
  const int *labelled = m_1;
  guint n_labelled = 1;
  int stride = 1;

  g_array_set_clear_func (ticks, clear_tick);
  if (decades <= 1 && target >= 4)
    {
      labelled = m_all;
      n_labelled = G_N_ELEMENTS (m_all);
    }
  else if (decades <= 2 || decades * 3 <= target)
    {
      labelled = m_125;
      n_labelled = G_N_ELEMENTS (m_125);
    }
  else
    stride = MAX (1, (int) ceil (decades / MAX (target, 1.0)));

  for (int d = d0; d <= d1; d++)
    for (int m = 1; m <= 9; m++)
      {
        double v = m * pow (10.0, d);
        double lv = log10 (v);
        if (lv < llo - eps || lv > lhi + eps)
          continue;
        gboolean is_label = FALSE;
        for (guint i = 0; i < n_labelled; i++)
          if (labelled[i] == m)
            is_label = TRUE;
        if (m == 1 && ((d - d0) % stride) != 0)
          is_label = FALSE;
        if (!is_label && (stride > 1 ? m != 1 : decades > 6))
          continue;   /* too dense for minor lines */
        char *label = NULL;
        if (is_label)
          {
            double p = pow (10.0, d);
            label = vb_chart_format_tick (v, p, v, VB_TICK_NUMBER);
          }
        add_tick (ticks, v, label);
      }
  return ticks;
}

GArray *
vb_chart_ticks (double       lo,
                double       hi,
                double       target,
                VbTickFormat format,
                gboolean     log)
{
  g_return_val_if_fail (isfinite (lo) && isfinite (hi), NULL);

  if (hi < lo)
    {
      double t = lo;
      lo = hi;
      hi = t;
    }
  if (log && lo > 0 && hi > lo)
    return ticks_log (lo, hi, target);

  GArray *ticks = g_array_new (FALSE, TRUE, sizeof (VbTick));
  g_array_set_clear_func (ticks, clear_tick);
  double span = hi - lo;
  if (!(span > 0))
    {
      add_tick (ticks, lo, vb_chart_format_tick (lo, fabs (lo) > 0 ? fabs (lo) / 10 : 1, fabs (lo), format));
      return ticks;
    }

  double step;
  if (format == VB_TICK_DURATION)
    step = vb_chart_time_step (span, target);
  else
    step = vb_chart_nice_step (span, target);
  if (format == VB_TICK_INTEGER && step < 1)
    step = 1;

  double eps = step * 1e-9;
  double k0 = ceil ((lo - eps) / step), k1 = floor ((hi + eps) / step);
  double max_abs = MAX (fabs (k0 * step), fabs (k1 * step));
  for (double k = k0; k <= k1; k++)
    {
      double v = k * step;
      add_tick (ticks, v, vb_chart_format_tick (v, step, max_abs, format));
    }
  return ticks;
}
