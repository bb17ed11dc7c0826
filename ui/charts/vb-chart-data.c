/* vb-chart-data.c: the chart data model and the smoothing methods. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-data.h"

#include <math.h>
#include <string.h>

#include "vb-chart-private.h"

/* ---- smoothing -------------------------------------------------------------------- */

static void
swap_d (double *a,
        double *b)
{
  double t = *a;

  *a = *b;
  *b = t;
}

/* k-th smallest of v[0..n) (reorders v): Hoare quickselect. v holds no NaN. */
static double
select_kth (double *v,
            gssize  n,
            gssize  k)
{
  gssize lo = 0, hi = n - 1;

  while (lo < hi)
    {
      double pivot = v[lo + (hi - lo) / 2];
      gssize i = lo, j = hi;

      while (i <= j)
        {
          while (v[i] < pivot)
            i++;
          while (v[j] > pivot)
            j--;
          if (i <= j)
            {
              swap_d (&v[i], &v[j]);
              i++;
              j--;
            }
        }
      if (k <= j)
        hi = j;
      else if (k >= i)
        lo = i;
      else
        break;
    }
  return v[k];
}

/* The median positive spacing between consecutive finite x values; 1 when there is none. */
static double
median_spacing (const double *x,
                guint         n)
{
  g_autofree double *d = g_new (double, MAX (n, 1));
  gssize m = 0;
  double prev = NAN;

  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (x[i]))
        continue;
      if (isfinite (prev) && x[i] > prev)
        d[m++] = x[i] - prev;
      prev = x[i];
    }
  if (m == 0)
    return 1.0;
  return select_kth (d, m, m / 2);
}

static gboolean
is_constant (const double *y,
             guint         n)
{
  gboolean seen = FALSE;
  double first = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (y[i]))
        continue;
      if (!seen)
        {
          first = y[i];
          seen = TRUE;
        }
      else if (y[i] != first)
        return FALSE;
    }
  return TRUE;
}

gboolean
vb_smoothing_is_active (VbSmoothingKind kind,
                        double          param)
{
  switch (kind)
    {
    case VB_SMOOTHING_EMA:
      return param > 0 && isfinite (param);
    case VB_SMOOTHING_RUNNING_AVERAGE:
      return isfinite (param) && lround (param) > 1;
    case VB_SMOOTHING_GAUSSIAN:
      return param > 0 && isfinite (param);
    default:
      return FALSE;
    }
}

static void
smooth_ema (double        w,
            const double *x,
            const double *y,
            guint         n,
            double       *out)
{
  double dref = median_spacing (x, n);
  double acc = 0, wsum = 0, last_x = NAN;

  w = CLAMP (w, 0.0, 0.999);
  for (guint i = 0; i < n; i++)
    {
      double yi = y[i];
      if (!isfinite (yi) || !isfinite (x[i]))
        {
          out[i] = isfinite (x[i]) ? yi : NAN;
          continue;
        }
      double dx = isfinite (last_x) ? x[i] - last_x : dref;
      /* a repeated or out-of-order x counts as one ordinary step */
      double wi = (dx <= 0 || dx == dref) ? w : pow (w, dx / dref);
      acc = acc * wi + (1.0 - wi) * yi;
      wsum = wsum * wi + (1.0 - wi);
      out[i] = acc / wsum;
      last_x = x[i];
    }
}

static void
smooth_running_average (guint         window,
                        const double *y,
                        guint         n,
                        double       *out)
{
  g_autofree double *src = g_memdup2 (y, sizeof (double) * MAX (n, 1));
  double sum = 0;
  guint count = 0;

  for (guint i = 0; i < n; i++)
    {
      if (isfinite (src[i]))
        {
          sum += src[i];
          count++;
        }
      if (i >= window && isfinite (src[i - window]))
        {
          sum -= src[i - window];
          count--;
        }
      /* recompute now and then so that a long run of additions and subtractions cannot
       * drift */
      if ((i & 0xffff) == 0xffff)
        {
          sum = 0;
          count = 0;
          for (guint j = i + 1 > window ? i + 1 - window : 0; j <= i; j++)
            if (isfinite (src[j]))
              {
                sum += src[j];
                count++;
              }
        }
      out[i] = isfinite (src[i]) && count > 0 ? sum / count : src[i];
    }
}

static void
smooth_gaussian (double        sigma_points,
                 const double *x,
                 const double *y,
                 guint         n,
                 double       *out)
{
  g_autofree double *src = g_memdup2 (y, sizeof (double) * MAX (n, 1));
  double sigma = sigma_points * median_spacing (x, n);
  double reach = 3.0 * sigma;
  double inv = 1.0 / (2.0 * sigma * sigma);
  guint lo = 0, hi = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (src[i]) || !isfinite (x[i]))
        {
          out[i] = isfinite (x[i]) ? src[i] : NAN;
          continue;
        }
      while (lo < i && !(x[lo] >= x[i] - reach))
        lo++;
      if (hi < i)
        hi = i;
      while (hi + 1 < n && x[hi + 1] <= x[i] + reach)
        hi++;
      double sw = 0, s = 0;
      for (guint j = lo; j <= hi; j++)
        {
          if (!isfinite (src[j]) || !isfinite (x[j]))
            continue;
          double d = x[j] - x[i];
          double wj = exp (-d * d * inv);
          sw += wj;
          s += wj * src[j];
        }
      out[i] = s / sw;
    }
}

void
vb_smooth (VbSmoothingKind kind,
           double          param,
           const double   *x,
           const double   *y,
           guint           n,
           double         *out)
{
  if (n == 0)
    return;
  g_return_if_fail (x != NULL && y != NULL && out != NULL);

  if (!vb_smoothing_is_active (kind, param) || is_constant (y, n))
    {
      if (out != y)
        memmove (out, y, sizeof (double) * n);
      for (guint i = 0; i < n; i++)
        if (!isfinite (x[i]))
          out[i] = NAN;
      return;
    }

  switch (kind)
    {
    case VB_SMOOTHING_EMA:
      smooth_ema (param, x, y, n, out);
      break;
    case VB_SMOOTHING_RUNNING_AVERAGE:
      smooth_running_average ((guint) MIN (lround (param), (long) G_MAXINT), y, n, out);
      break;
    case VB_SMOOTHING_GAUSSIAN:
      smooth_gaussian (param, x, y, n, out);
      break;
    default:
      g_assert_not_reached ();
    }
}

char *
vb_smoothing_describe (VbSmoothingKind kind,
                       double          param)
{
  if (!vb_smoothing_is_active (kind, param))
    return g_strdup ("No smoothing");
  switch (kind)
    {
    case VB_SMOOTHING_EMA:
      return g_strdup_printf ("EMA %.2f (time-weighted, debiased)", CLAMP (param, 0.0, 0.999));
    case VB_SMOOTHING_RUNNING_AVERAGE:
      return g_strdup_printf ("Running average, %ld points", lround (param));
    case VB_SMOOTHING_GAUSSIAN:
      return g_strdup_printf ("Gaussian, σ = %g points", param);
    default:
      g_assert_not_reached ();
    }
}

/* ---- line charts ------------------------------------------------------------------ */

static GArray *
double_array (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

VbSeries *
vb_series_new (const char *name,
               int         color_index)
{
  VbSeries *series = g_new0 (VbSeries, 1);

  series->name = g_strdup (name);
  series->color_index = color_index;
  series->x = double_array ();
  series->y = double_array ();
  return series;
}

void
vb_series_free (VbSeries *series)
{
  if (series == NULL)
    return;
  g_free (series->name);
  g_clear_pointer (&series->x, g_array_unref);
  g_clear_pointer (&series->y, g_array_unref);
  g_clear_pointer (&series->y_lo, g_array_unref);
  g_clear_pointer (&series->y_hi, g_array_unref);
  g_free (series);
}

void
vb_series_append (VbSeries *series,
                  double    x,
                  double    y)
{
  g_return_if_fail (series != NULL);
  g_array_append_val (series->x, x);
  g_array_append_val (series->y, y);
}

void
vb_series_append_band (VbSeries *series,
                       double    x,
                       double    y,
                       double    y_lo,
                       double    y_hi)
{
  g_return_if_fail (series != NULL);
  if (series->y_lo == NULL || series->y_hi == NULL)
    {
      double nan = NAN;
      g_clear_pointer (&series->y_lo, g_array_unref);
      g_clear_pointer (&series->y_hi, g_array_unref);
      series->y_lo = double_array ();
      series->y_hi = double_array ();
      for (guint i = 0; i < series->x->len; i++)
        {
          g_array_append_val (series->y_lo, nan);
          g_array_append_val (series->y_hi, nan);
        }
    }
  vb_series_append (series, x, y);
  g_array_append_val (series->y_lo, y_lo);
  g_array_append_val (series->y_hi, y_hi);
}

guint
vb_series_get_length (const VbSeries *series)
{
  g_return_val_if_fail (series != NULL, 0);
  return MIN (series->x->len, series->y->len);
}

VbLineChart *
vb_line_chart_new (void)
{
  VbLineChart *chart = g_new0 (VbLineChart, 1);

  chart->x_axis = VB_X_AXIS_STEP;
  chart->x_auto = TRUE;
  chart->y_auto = TRUE;
  chart->x_max = chart->y_max = 1.0;
  chart->show_legend = TRUE;
  chart->smoothing_kind = VB_SMOOTHING_EMA;
  chart->smoothing = 0.0;
  chart->series = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_series_free);
  return chart;
}

void
vb_line_chart_free (VbLineChart *chart)
{
  if (chart == NULL)
    return;
  g_free (chart->title);
  g_free (chart->x_label);
  g_free (chart->y_label);
  g_free (chart->caption);
  g_clear_pointer (&chart->series, g_ptr_array_unref);
  g_free (chart);
}

/* copied before the old one is freed: value may be the field's own string */
void
vb_chart_set_string (char      **field,
                     const char *value)
{
  char *copy = g_strdup (value);

  g_free (*field);
  *field = copy;
}

void
vb_line_chart_set_title (VbLineChart *chart,
                         const char  *title)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->title, title);
}

void
vb_line_chart_set_labels (VbLineChart *chart,
                          const char  *x_label,
                          const char  *y_label)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->x_label, x_label);
  vb_chart_set_string (&chart->y_label, y_label);
}

void
vb_line_chart_set_caption (VbLineChart *chart,
                           const char  *caption)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->caption, caption);
}

VbSeries *
vb_line_chart_add_series (VbLineChart *chart,
                          VbSeries    *series)
{
  g_return_val_if_fail (chart != NULL, NULL);
  g_return_val_if_fail (series != NULL, NULL);
  g_ptr_array_add (chart->series, series);
  return series;
}

/* ---- bar charts ------------------------------------------------------------------- */

VbBarSeries *
vb_bar_series_new (const char *name,
                   int         color_index)
{
  VbBarSeries *series = g_new0 (VbBarSeries, 1);

  series->name = g_strdup (name);
  series->color_index = color_index;
  series->values = double_array ();
  return series;
}

void
vb_bar_series_free (VbBarSeries *series)
{
  if (series == NULL)
    return;
  g_free (series->name);
  g_clear_pointer (&series->values, g_array_unref);
  g_clear_pointer (&series->err_lo, g_array_unref);
  g_clear_pointer (&series->err_hi, g_array_unref);
  g_clear_pointer (&series->incomparable, g_array_unref);
  g_clear_pointer (&series->colors, g_array_unref);
  g_free (series);
}

void
vb_bar_series_set_values (VbBarSeries  *series,
                          const double *values,
                          guint         n)
{
  g_return_if_fail (series != NULL);
  g_array_set_size (series->values, 0);
  g_array_append_vals (series->values, values, n);
}

static void
grow_nan (GArray *a,
          guint   len)
{
  double nan = NAN;

  while (a->len < len)
    g_array_append_val (a, nan);
}

void
vb_bar_series_set_error (VbBarSeries *series,
                         guint        category,
                         double       lo,
                         double       hi)
{
  g_return_if_fail (series != NULL);
  if (series->err_lo == NULL)
    series->err_lo = double_array ();
  if (series->err_hi == NULL)
    series->err_hi = double_array ();
  grow_nan (series->err_lo, category + 1);
  grow_nan (series->err_hi, category + 1);
  g_array_index (series->err_lo, double, category) = lo;
  g_array_index (series->err_hi, double, category) = hi;
}

void
vb_bar_series_set_incomparable (VbBarSeries *series,
                                guint        category,
                                gboolean     incomparable)
{
  g_return_if_fail (series != NULL);
  if (series->incomparable == NULL)
    series->incomparable = g_array_new (FALSE, TRUE, sizeof (gboolean));
  if (series->incomparable->len < category + 1)
    g_array_set_size (series->incomparable, category + 1);
  g_array_index (series->incomparable, gboolean, category) = incomparable;
}

void
vb_bar_series_set_color (VbBarSeries *series,
                         guint        category,
                         int          color_index)
{
  const int unset = -1;

  g_return_if_fail (series != NULL);
  if (series->colors == NULL)
    series->colors = g_array_new (FALSE, FALSE, sizeof (int));
  while (series->colors->len < category + 1)
    g_array_append_val (series->colors, unset);
  g_array_index (series->colors, int, category) = color_index;
}

int
vb_bar_series_get_color (const VbBarSeries *series,
                         guint              category)
{
  g_return_val_if_fail (series != NULL, 0);
  if (series->colors != NULL && category < series->colors->len
      && g_array_index (series->colors, int, category) >= 0)
    return g_array_index (series->colors, int, category);
  return series->color_index;
}

VbBarChart *
vb_bar_chart_new (void)
{
  VbBarChart *chart = g_new0 (VbBarChart, 1);

  chart->categories = g_ptr_array_new_with_free_func (g_free);
  chart->series = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_bar_series_free);
  chart->y_auto = TRUE;
  chart->y_max = 1.0;
  chart->show_legend = TRUE;
  chart->show_values = TRUE;
  chart->value_decimals = -1;
  chart->baseline_kind = VB_BAR_BASELINE_NONE;
  chart->higher_is_better = TRUE;
  return chart;
}

void
vb_bar_chart_free (VbBarChart *chart)
{
  if (chart == NULL)
    return;
  g_free (chart->title);
  g_free (chart->y_label);
  g_free (chart->caption);
  g_clear_pointer (&chart->categories, g_ptr_array_unref);
  g_clear_pointer (&chart->series, g_ptr_array_unref);
  g_free (chart);
}

void
vb_bar_chart_set_title (VbBarChart *chart,
                        const char *title)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->title, title);
}

void
vb_bar_chart_set_y_label (VbBarChart *chart,
                          const char *y_label)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->y_label, y_label);
}

void
vb_bar_chart_set_caption (VbBarChart *chart,
                          const char *caption)
{
  g_return_if_fail (chart != NULL);
  vb_chart_set_string (&chart->caption, caption);
}

void
vb_bar_chart_add_category (VbBarChart *chart,
                           const char *name)
{
  g_return_if_fail (chart != NULL);
  g_ptr_array_add (chart->categories, g_strdup (name));
}

VbBarSeries *
vb_bar_chart_add_series (VbBarChart  *chart,
                         VbBarSeries *series)
{
  g_return_val_if_fail (chart != NULL, NULL);
  g_return_val_if_fail (series != NULL, NULL);
  g_ptr_array_add (chart->series, series);
  return series;
}

double
vb_bar_chart_get_value (const VbBarChart *chart,
                        guint             category,
                        guint             series)
{
  g_return_val_if_fail (chart != NULL, NAN);
  if (series >= chart->series->len)
    return NAN;
  const VbBarSeries *s = g_ptr_array_index (chart->series, series);
  if (category >= s->values->len)
    return NAN;
  return g_array_index (s->values, double, category);
}
