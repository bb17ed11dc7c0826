/* vb-bar-chart.c: layout and drawing of grouped bar charts. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-bar-chart.h"

#include <math.h>
#include <string.h>

#include "vb-chart-axis.h"
#include "vb-chart-frame.h"

#define MINUS "\xe2\x88\x92"

typedef struct {
  guint        series;
  PangoLayout *layout;
  double       x, y, w, h;
} BarLegendItem;

typedef struct {
  VbChartLayout box;
  double        em, pad;
  gboolean      empty;
  double        y_lo, y_hi;
  int           decimals;
  GArray       *y_ticks;       /* VbTick */
  GPtrArray    *y_tick_text;   /* PangoLayout or NULL */
  PangoLayout  *title, *y_title, *caption, *message, *baseline_note;
  GArray       *legend;        /* BarLegendItem */
  GPtrArray    *cat_text;      /* PangoLayout per category */
  double        cat_y;         /* top of the category labels */
  VbTextRole    value_role;    /* TICK, or SMALL where bars are narrow */
  gboolean      show_values, show_deltas;
} BarPlan;

static void
clear_legend_item (gpointer data)
{
  BarLegendItem *item = data;

  g_clear_object (&item->layout);
}

static void
plan_clear (BarPlan *p)
{
  g_clear_pointer (&p->y_ticks, g_array_unref);
  g_clear_pointer (&p->y_tick_text, g_ptr_array_unref);
  g_clear_object (&p->title);
  g_clear_object (&p->y_title);
  g_clear_object (&p->caption);
  g_clear_object (&p->message);
  g_clear_object (&p->baseline_note);
  g_clear_pointer (&p->legend, g_array_unref);
  g_clear_pointer (&p->cat_text, g_ptr_array_unref);
}

/* ---- values and deltas ------------------------------------------------------------ */

static double
value_at (const VbBarChart *chart,
          guint             c,
          guint             s)
{
  return vb_bar_chart_get_value (chart, c, s);
}

static double
array_at (GArray *a,
          guint   i)
{
  return a != NULL && i < a->len ? g_array_index (a, double, i) : NAN;
}

static gboolean
flag_at (const VbBarSeries *series,
         guint              c)
{
  return series->incomparable != NULL && c < series->incomparable->len
         && g_array_index (series->incomparable, gboolean, c);
}

static int
auto_decimals (const VbBarChart *chart)
{
  double max_abs = 0;

  if (chart->value_decimals >= 0)
    return MIN (chart->value_decimals, 10);
  for (guint s = 0; s < chart->series->len; s++)
    for (guint c = 0; c < chart->categories->len; c++)
      {
        double v = value_at (chart, c, s);
        if (isfinite (v))
          max_abs = MAX (max_abs, fabs (v));
      }
  if (max_abs >= 1000)
    return 0;
  if (max_abs >= 10)
    return 1;
  if (max_abs >= 1)
    return 2;
  return 3;
}

static char *
format_signed (double      v,
               int         decimals,
               const char *suffix,
               gboolean    plus)
{
  char *num = g_strdup_printf ("%.*f", decimals, fabs (v));
  gboolean zero = TRUE;
  char *out;

  for (const char *q = num; *q; q++)
    if (*q != '0' && *q != '.')
      zero = FALSE;
  if (zero)
    out = g_strconcat (plus ? "±" : "", num, suffix, NULL);
  else
    out = g_strconcat (v < 0 ? MINUS : (plus ? "+" : ""), num, suffix, NULL);
  g_free (num);
  return out;
}

/* The baseline value for (c, s), and whether the pair is comparable. FALSE: no Δ. */
static gboolean
baseline_for (const VbBarChart *chart,
              guint             c,
              guint             s,
              double           *base,
              gboolean         *comparable)
{
  guint bc = c, bs = s;

  if (chart->baseline_index < 0)
    return FALSE;
  switch (chart->baseline_kind)
    {
    case VB_BAR_BASELINE_CATEGORY:
      bc = (guint) chart->baseline_index;
      if (bc == c || bc >= chart->categories->len)
        return FALSE;
      break;
    case VB_BAR_BASELINE_SERIES:
      bs = (guint) chart->baseline_index;
      if (bs == s || bs >= chart->series->len)
        return FALSE;
      break;
    case VB_BAR_BASELINE_NONE:
    default:
      return FALSE;
    }
  *base = value_at (chart, bc, bs);
  *comparable = !flag_at (g_ptr_array_index (chart->series, s), c)
                && !flag_at (g_ptr_array_index (chart->series, bs), bc);
  return isfinite (*base) && isfinite (value_at (chart, c, s));
}

/* NULL: no Δ; *sign: −1, 0 or 1; *refused: the protocols differ */
static char *
delta_text (const VbBarChart *chart,
            guint             c,
            guint             s,
            int               decimals,
            int              *sign,
            gboolean         *refused)
{
  double base, v;
  gboolean comparable;

  if (!baseline_for (chart, c, s, &base, &comparable))
    return NULL;
  *refused = !comparable;
  *sign = 0;
  if (!comparable)
    return g_strdup ("≠ protocol");
  v = value_at (chart, c, s);
  double d = v - base;
  char *text;
  if (chart->delta_percent)
    {
      if (base == 0)
        return NULL;
      d = 100.0 * d / fabs (base);
      text = format_signed (d, 1, " %", TRUE);
    }
  else
    text = format_signed (d, decimals, "", TRUE);
  if (!g_str_has_prefix (text, "±"))
    *sign = d > 0 ? 1 : -1;
  return text;
}

char *
vb_bar_chart_format_delta (const VbBarChart *chart,
                           guint             category,
                           guint             series)
{
  int sign;
  gboolean refused;

  g_return_val_if_fail (chart != NULL, NULL);
  if (category >= chart->categories->len || series >= chart->series->len)
    return NULL;
  return delta_text (chart, category, series, auto_decimals (chart), &sign, &refused);
}

static gboolean
has_deltas (const VbBarChart *chart)
{
  for (guint s = 0; s < chart->series->len; s++)
    for (guint c = 0; c < chart->categories->len; c++)
      {
        double base;
        gboolean comparable;
        if (baseline_for (chart, c, s, &base, &comparable))
          return TRUE;
      }
  return FALSE;
}

/* ---- geometry --------------------------------------------------------------------- */

static double
map_y (const BarPlan *p,
       double         v)
{
  const VbChartRect *r = &p->box.plot;

  return r->y + r->height - (v - p->y_lo) / (p->y_hi - p->y_lo) * r->height;
}

/* horizontal extent of bar (c, s), and of the slot it sits in */
static void
bar_columns (const BarPlan    *p,
             const VbBarChart *chart,
             guint             c,
             guint             s,
             double           *x0,
             double           *x1,
             double           *slot)
{
  const VbChartRect *r = &p->box.plot;
  guint ncat = MAX (chart->categories->len, 1), nser = MAX (chart->series->len, 1);
  double band = r->width / ncat;
  double group = band * (nser == 1 ? 0.6 : 0.8);
  double bar_w = group / nser;
  double inner = nser > 1 ? MIN (bar_w * 0.12, 0.3 * p->em) : 0;
  double x = r->x + c * band + (band - group) / 2 + s * bar_w + inner / 2;

  *x0 = round (x);
  *x1 = MAX (round (x + bar_w - inner), *x0 + 1);
  *slot = bar_w;
}

static gboolean
bar_rect (const BarPlan    *p,
          const VbBarChart *chart,
          guint             c,
          guint             s,
          VbChartRect      *out)
{
  double x0, x1, slot, v = value_at (chart, c, s);

  if (!isfinite (v))
    return FALSE;
  bar_columns (p, chart, c, s, &x0, &x1, &slot);
  double zero = CLAMP (0.0, p->y_lo, p->y_hi);
  double ya = round (map_y (p, zero)), yb = round (map_y (p, v));
  *out = vb_chart_rect (x0, MIN (ya, yb), x1 - x0, fabs (yb - ya));
  return TRUE;
}

/* ---- plan ------------------------------------------------------------------------- */

static void
layout_legend (BarPlan          *p,
               VbChartText      *t,
               const VbBarChart *chart,
               double            x0,
               double            y0,
               double            max_w)
{
  double em = p->em, swatch = 0.8 * em, gap = 0.45 * em, spacing = 1.3 * em;
  double x = x0, y = y0, right = x0, row_h = vb_chart_line_height (t, VB_TEXT_LABEL);

  p->legend = g_array_new (FALSE, TRUE, sizeof (BarLegendItem));
  g_array_set_clear_func (p->legend, clear_legend_item);
  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbBarSeries *series = g_ptr_array_index (chart->series, s);
      gboolean is_base = chart->baseline_kind == VB_BAR_BASELINE_SERIES && chart->baseline_index == (int) s;
      g_autofree char *text = g_strdup_printf ("%s%s", series->name ? series->name : "(unnamed)",
                                               is_base ? " (baseline)" : "");
      PangoLayout *layout = vb_chart_text_layout (t, VB_TEXT_LABEL, text, MAX (max_w - swatch - gap, em), 1);
      double w;

      vb_chart_text_size (layout, &w, NULL);
      double item_w = swatch + gap + w;
      if (x > x0 && x + item_w > x0 + max_w)
        {
          x = x0;
          y += row_h + 0.2 * em;
        }
      BarLegendItem item = { s, layout, x, y, item_w, row_h };
      g_array_append_val (p->legend, item);
      right = MAX (right, x + item_w);
      x += item_w + spacing;
    }
  p->box.legend = vb_chart_rect (x0, y0, right - x0, y + row_h - y0);
}

static void
compute_range (BarPlan          *p,
               VbChartText      *t,
               const VbBarChart *chart,
               double            plot_h,
               double           *label_w)
{
  double lo = 0, hi = 0;
  gboolean any = FALSE;

  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbBarSeries *series = g_ptr_array_index (chart->series, s);
      for (guint c = 0; c < chart->categories->len; c++)
        {
          const double vals[3] = { value_at (chart, c, s), array_at (series->err_lo, c),
                                   array_at (series->err_hi, c) };
          for (guint k = 0; k < 3; k++)
            if (isfinite (vals[k]))
              {
                lo = MIN (lo, vals[k]);
                hi = MAX (hi, vals[k]);
                any = TRUE;
              }
        }
    }
  p->empty = !any || chart->categories->len == 0 || chart->series->len == 0;

  double target = CLAMP (plot_h / (4.0 * p->em), 2, 10);
  if (!chart->y_auto && chart->y_max > chart->y_min && isfinite (chart->y_min) && isfinite (chart->y_max))
    {
      p->y_lo = chart->y_min;
      p->y_hi = chart->y_max;
    }
  else
    {
      if (hi == lo)
        hi = lo + 1;
      /* room above (and below) the bars for the value and Δ labels */
      double labels = 0.35 * p->em;
      if (p->show_values)
        labels += vb_chart_line_height (t, VB_TEXT_TICK);
      if (p->show_deltas)
        labels += vb_chart_line_height (t, VB_TEXT_SMALL) + 0.1 * p->em;
      double frac = MIN (labels / MAX (plot_h, 1), 0.5);
      double span = hi - lo;
      if (hi > 0)
        hi += span * frac / (1 - frac);
      if (lo < 0)
        lo -= span * frac / (1 - frac);
      double step = vb_chart_nice_step (hi - lo, target);
      hi = ceil (hi / step - 1e-9) * step;
      lo = floor (lo / step + 1e-9) * step;
      p->y_lo = lo;
      p->y_hi = hi;
    }
  p->y_ticks = vb_chart_ticks (p->y_lo, p->y_hi, target, VB_TICK_NUMBER, FALSE);
  p->y_tick_text = vb_chart_tick_layouts (t, p->y_ticks, label_w, NULL);
}

static void
plan_compute (BarPlan          *p,
              VbChartText      *t,
              const VbBarChart *chart,
              double            width,
              double            height)
{
  double em = t->em, pad = em, w;
  guint ncat = chart->categories->len;

  memset (p, 0, sizeof *p);
  p->em = em;
  p->pad = pad;
  p->decimals = auto_decimals (chart);
  p->show_values = chart->show_values;
  p->show_deltas = has_deltas (chart);
  p->value_role = VB_TEXT_TICK;

  double top = pad, bottom = height - pad, inner_w = MAX (width - 2 * pad, 1);
  p->title = vb_chart_plan_title (t, chart->title, pad, inner_w, &top, &p->box.title);
  if (chart->show_legend && chart->series->len >= 2)
    {
      layout_legend (p, t, chart, pad, top, inner_w);
      top += p->box.legend.height + 0.9 * em;
    }
  else
    top += 0.5 * em;

  p->caption = vb_chart_plan_caption (t, chart->caption, pad, inner_w, &bottom, &p->box.caption);

  /* category labels: up to two lines each, decided on an estimate of the band width */
  double label_h = vb_chart_line_height (t, VB_TEXT_LABEL);
  double est_band = MAX ((width - 2 * pad - 5 * em) / MAX (ncat, 1) - 0.4 * em, em);
  int cat_lines = 1;
  for (guint c = 0; c < ncat; c++)
    {
      PangoLayout *probe = vb_chart_text_layout (t, VB_TEXT_LABEL, g_ptr_array_index (chart->categories, c),
                                                 est_band, 2);
      if (pango_layout_get_line_count (probe) > 1)
        cat_lines = 2;
      g_object_unref (probe);
    }
  gboolean base_cat = chart->baseline_kind == VB_BAR_BASELINE_CATEGORY && chart->baseline_index >= 0
                      && (guint) chart->baseline_index < ncat;
  double cat_block = cat_lines * label_h + (base_cat ? vb_chart_line_height (t, VB_TEXT_SMALL) : 0);
  bottom -= cat_block + 0.5 * em;

  double plot_y = round (top);
  double plot_h = MAX (floor (bottom - plot_y), 8);

  double left = pad;
  p->y_title = vb_chart_plan_y_title (t, chart->y_label, plot_h, &left);
  double tick_w = 0;
  compute_range (p, t, chart, plot_h, &tick_w);
  left += tick_w + 0.5 * em;

  double plot_x = ceil (left);
  double plot_w = MAX (floor (width - pad - plot_x), 8);
  p->box.plot = vb_chart_rect (plot_x, plot_y, plot_w, plot_h);
  p->cat_y = plot_y + plot_h + 0.5 * em;

  double band = plot_w / MAX (ncat, 1);
  p->cat_text = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  for (guint c = 0; c < ncat; c++)
    {
      PangoLayout *layout = vb_chart_text_layout (t, VB_TEXT_LABEL, g_ptr_array_index (chart->categories, c),
                                                  MAX (band - 0.4 * em, em), cat_lines);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      g_ptr_array_add (p->cat_text, layout);
    }
  if (base_cat)
    p->baseline_note = vb_chart_text_layout (t, VB_TEXT_SMALL, "baseline", MAX (band - 0.4 * em, em), 1);

  /* labels that do not fit their bar get smaller type, then are left out */
  if (!p->empty && (p->show_values || p->show_deltas))
    {
      double slot = 0, x0, x1;
      bar_columns (p, chart, 0, 0, &x0, &x1, &slot);
      double widest_value = 0, widest_delta = 0;
      for (VbTextRole role = VB_TEXT_TICK;; role = VB_TEXT_SMALL)
        {
          widest_value = widest_delta = 0;
          for (guint s = 0; s < chart->series->len; s++)
            for (guint c = 0; c < ncat; c++)
              {
                double v = value_at (chart, c, s);
                if (!isfinite (v))
                  continue;
                g_autofree char *text = format_signed (v, p->decimals, "", FALSE);
                PangoLayout *l = vb_chart_text_layout (t, role, text, 0, 0);
                vb_chart_text_size (l, &w, NULL);
                widest_value = MAX (widest_value, w);
                g_object_unref (l);
              }
          if (widest_value <= slot * 1.1 || role == VB_TEXT_SMALL)
            {
              p->value_role = role;
              break;
            }
        }
      if (widest_value > slot * 1.1)
        p->show_values = FALSE;
      if (p->show_deltas)
        {
          for (guint s = 0; s < chart->series->len; s++)
            for (guint c = 0; c < ncat; c++)
              {
                int sign;
                gboolean refused;
                g_autofree char *text = delta_text (chart, c, s, p->decimals, &sign, &refused);
                if (text == NULL)
                  continue;
                PangoLayout *l = vb_chart_text_layout (t, VB_TEXT_SMALL, text, 0, 0);
                vb_chart_text_size (l, &w, NULL);
                widest_delta = MAX (widest_delta, w);
                g_object_unref (l);
              }
          if (widest_delta > slot * 1.25)
            p->show_deltas = FALSE;
        }
    }
  if (p->empty)
    p->message = vb_chart_text_layout (t, VB_TEXT_MESSAGE, "No data yet", plot_w, 1);
}

/* ---- drawing ---------------------------------------------------------------------- */

static void
draw_frame (cairo_t            *cr,
            VbChartText        *t,
            const BarPlan      *p,
            const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;

  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      double py = map_y (p, g_array_index (p->y_ticks, VbTick, i).value);
      if (py < r->y - 0.5 || py > r->y + r->height + 0.5)
        continue;
      cairo_move_to (cr, r->x, vb_chart_snap (py));
      cairo_line_to (cr, r->x + r->width, vb_chart_snap (py));
    }
  vb_chart_set_color (cr, &style->grid, 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);

  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      PangoLayout *layout = g_ptr_array_index (p->y_tick_text, i);
      double py = map_y (p, g_array_index (p->y_ticks, VbTick, i).value);
      if (layout == NULL || py < r->y - 0.5 || py > r->y + r->height + 0.5)
        continue;
      vb_chart_text_draw (t, layout, r->x - 0.5 * p->em, py, 1.0, 0.5, &style->muted_text);
    }
}

static void
draw_zero_line (cairo_t            *cr,
                const BarPlan      *p,
                const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;
  double aw = MAX (1.0, round (p->em / 12.0));
  double y0 = round (map_y (p, CLAMP (0.0, p->y_lo, p->y_hi)));

  /* the line's pixels lie just above the zero level, on the bars' bottom edge */
  if (y0 >= r->y + r->height)
    y0 = r->y + r->height;
  cairo_save (cr);
  cairo_set_line_width (cr, aw);
  vb_chart_set_color (cr, &style->axis, 1.0);
  cairo_move_to (cr, r->x, y0 - aw / 2);
  cairo_line_to (cr, r->x + r->width, y0 - aw / 2);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_bars (cairo_t            *cr,
           VbChartText        *t,
           const BarPlan      *p,
           const VbBarChart   *chart,
           const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;
  double em = p->em;

  cairo_save (cr);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_clip (cr);
  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbBarSeries *series = g_ptr_array_index (chart->series, s);
      for (guint c = 0; c < chart->categories->len; c++)
        {
          const VbRgba *color = vb_chart_style_series_color (style, vb_bar_series_get_color (series, c));
          VbChartRect b;
          if (!bar_rect (p, chart, c, s, &b))
            continue;
          cairo_rectangle (cr, b.x, b.y, b.width, b.height);
          vb_chart_set_color (cr, color, 1.0);
          cairo_fill (cr);

          double lo = array_at (series->err_lo, c), hi = array_at (series->err_hi, c);
          if (isfinite (lo) && isfinite (hi))
            {
              double cx = b.x + b.width / 2, cap = MAX (b.width * 0.18, 2.0);
              double ylo = map_y (p, lo), yhi = map_y (p, hi);
              cairo_set_line_width (cr, MAX (1.25, em / 10));
              cairo_move_to (cr, cx, ylo);
              cairo_line_to (cr, cx, yhi);
              cairo_move_to (cr, cx - cap, ylo);
              cairo_line_to (cr, cx + cap, ylo);
              cairo_move_to (cr, cx - cap, yhi);
              cairo_line_to (cr, cx + cap, yhi);
              vb_chart_set_color (cr, &style->text, 0.85);
              cairo_stroke (cr);
            }
        }
    }
  cairo_restore (cr);

  /* labels go on top of everything and are not clipped */
  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbBarSeries *series = g_ptr_array_index (chart->series, s);
      for (guint c = 0; c < chart->categories->len; c++)
        {
          double v = value_at (chart, c, s);
          double x0, x1, slot;
          bar_columns (p, chart, c, s, &x0, &x1, &slot);
          double cx = (x0 + x1) / 2;
          if (!isfinite (v))
            {
              PangoLayout *l = vb_chart_text_layout (t, VB_TEXT_SMALL, "n/a", 0, 0);
              double y0 = map_y (p, CLAMP (0.0, p->y_lo, p->y_hi));
              vb_chart_text_draw (t, l, cx, y0 - 0.2 * em, 0.5, 1.0, &style->muted_text);
              g_object_unref (l);
              continue;
            }
          gboolean down = v < 0;
          double lo = array_at (series->err_lo, c), hi = array_at (series->err_hi, c);
          double end = v;
          if (isfinite (lo) && isfinite (hi))
            end = down ? MIN (v, MIN (lo, hi)) : MAX (v, MAX (lo, hi));
          double y = CLAMP (map_y (p, end), r->y, r->y + r->height);
          y += down ? 0.2 * em : -0.2 * em;
          if (p->show_values)
            {
              g_autofree char *text = format_signed (v, p->decimals, "", FALSE);
              PangoLayout *l = vb_chart_text_layout (t, p->value_role, text, 0, 0);
              double h;
              vb_chart_text_size (l, NULL, &h);
              vb_chart_text_draw (t, l, cx, y, 0.5, down ? 0.0 : 1.0, &style->text);
              y += down ? h : -h;
              g_object_unref (l);
            }
          if (p->show_deltas)
            {
              int sign = 0;
              gboolean refused = FALSE;
              g_autofree char *text = delta_text (chart, c, s, p->decimals, &sign, &refused);
              if (text == NULL)
                continue;
              const VbRgba *color = &style->muted_text;
              if (refused)
                color = &style->warning;
              else if (sign != 0)
                color = (sign > 0) == chart->higher_is_better ? &style->good : &style->bad;
              PangoLayout *l = vb_chart_text_layout (t, VB_TEXT_SMALL, text, 0, 0);
              vb_chart_text_draw (t, l, cx, y + (down ? 0.1 : -0.1) * em, 0.5, down ? 0.0 : 1.0, color);
              g_object_unref (l);
            }
        }
    }
}

static void
draw_categories (VbChartText        *t,
                 const BarPlan      *p,
                 const VbBarChart   *chart,
                 const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;
  double band = r->width / MAX (chart->categories->len, 1);

  for (guint c = 0; c < chart->categories->len; c++)
    {
      PangoLayout *layout = g_ptr_array_index (p->cat_text, c);
      double cx = r->x + (c + 0.5) * band, h;
      vb_chart_text_size (layout, NULL, &h);
      vb_chart_text_draw (t, layout, cx, p->cat_y, 0.5, 0, &style->text);
      if (p->baseline_note != NULL && (int) c == chart->baseline_index)
        vb_chart_text_draw (t, p->baseline_note, cx, p->cat_y + h, 0.5, 0, &style->muted_text);
    }
}

static void
draw_legend (cairo_t            *cr,
             VbChartText        *t,
             const BarPlan      *p,
             const VbBarChart   *chart,
             const VbChartStyle *style)
{
  double swatch = 0.8 * p->em, gap = 0.45 * p->em;

  if (p->legend == NULL)
    return;
  for (guint i = 0; i < p->legend->len; i++)
    {
      const BarLegendItem *item = &g_array_index (p->legend, BarLegendItem, i);
      const VbBarSeries *series = g_ptr_array_index (chart->series, item->series);
      double cy = item->y + item->h / 2;
      cairo_rectangle (cr, item->x, cy - swatch / 2, swatch, swatch);
      vb_chart_set_color (cr, vb_chart_style_series_color (style, series->color_index), 1.0);
      cairo_fill (cr);
      vb_chart_text_draw (t, item->layout, item->x + swatch + gap, cy, 0, 0.5, &style->text);
    }
}

/* ---- public ----------------------------------------------------------------------- */

void
vb_bar_chart_draw (cairo_t            *cr,
                   const VbBarChart   *chart,
                   double              width,
                   double              height,
                   const VbChartStyle *style)
{
  VbChartStyle storage;
  VbChartText t;
  BarPlan p;

  g_return_if_fail (cr != NULL);
  g_return_if_fail (chart != NULL);
  if (!(width >= 1 && height >= 1))
    return;
  style = vb_chart_style_or_default (style, &storage);

  vb_chart_begin (cr, width, height, style);
  vb_chart_text_init (&t, cr, style);
  plan_compute (&p, &t, chart, width, height);

  draw_frame (cr, &t, &p, style);
  if (!p.empty)
    draw_bars (cr, &t, &p, chart, style);
  draw_zero_line (cr, &p, style);
  draw_categories (&t, &p, chart, style);
  draw_legend (cr, &t, &p, chart, style);
  vb_chart_draw_titles (&t, p.title, p.y_title, &p.box, p.pad, style);
  vb_chart_draw_notes (&t, p.caption, p.message, &p.box, style);

  plan_clear (&p);
  vb_chart_text_clear (&t);
  cairo_restore (cr);
}

void
vb_bar_chart_get_layout (const VbBarChart   *chart,
                         double              width,
                         double              height,
                         const VbChartStyle *style,
                         VbChartLayout      *layout)
{
  VbChartStyle storage;
  VbChartText t;
  BarPlan p;

  g_return_if_fail (chart != NULL);
  g_return_if_fail (layout != NULL);
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  *layout = p.box;
  plan_clear (&p);
  vb_chart_text_clear (&t);
}

gboolean
vb_bar_chart_get_bar_rect (const VbBarChart   *chart,
                           double              width,
                           double              height,
                           const VbChartStyle *style,
                           guint               category,
                           guint               series,
                           VbChartRect        *rect)
{
  VbChartStyle storage;
  VbChartText t;
  BarPlan p;
  gboolean ok;

  g_return_val_if_fail (chart != NULL, FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  if (category >= chart->categories->len || series >= chart->series->len)
    return FALSE;
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  ok = bar_rect (&p, chart, category, series, rect);
  plan_clear (&p);
  vb_chart_text_clear (&t);
  return ok;
}

char *
vb_bar_chart_describe (const VbBarChart *chart)
{
  GString *s;

  g_return_val_if_fail (chart != NULL, NULL);
  s = g_string_new ("bar chart; categories: ");
  for (guint c = 0; c < chart->categories->len; c++)
    g_string_append_printf (s, "%s%s", c > 0 ? ", " : "", (const char *) g_ptr_array_index (chart->categories, c));
  g_string_append (s, "; series: ");
  for (guint i = 0; i < chart->series->len; i++)
    {
      const VbBarSeries *series = g_ptr_array_index (chart->series, i);
      g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", series->name ? series->name : "(unnamed)");
    }
  switch (chart->baseline_kind)
    {
    case VB_BAR_BASELINE_CATEGORY:
      if (chart->baseline_index >= 0 && (guint) chart->baseline_index < chart->categories->len)
        g_string_append_printf (s, "; baseline: category %s",
                                (const char *) g_ptr_array_index (chart->categories, chart->baseline_index));
      break;
    case VB_BAR_BASELINE_SERIES:
      if (chart->baseline_index >= 0 && (guint) chart->baseline_index < chart->series->len)
        g_string_append_printf (s, "; baseline: series %s",
                                ((const VbBarSeries *) g_ptr_array_index (chart->series, chart->baseline_index))->name);
      break;
    case VB_BAR_BASELINE_NONE:
    default:
      break;
    }
  if (chart->baseline_kind != VB_BAR_BASELINE_NONE)
    g_string_append_printf (s, "; delta: %s", chart->delta_percent ? "percent" : "absolute");
  return g_string_free (s, FALSE);
}
