/* vb-line-chart.c: layout and drawing of the line chart.
 *
 * One plan is computed per call (ranges, ticks, text, boxes) and then drawn; the layout
 * query computes the same plan on a measuring surface, so tests and widgets see exactly
 * the rectangles the drawing uses. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-line-chart.h"

#include <math.h>
#include <string.h>

#include "vb-chart-axis.h"
#include "vb-chart-frame.h"

#define LEGEND_MAX_ROWS 3
#define NO_SERIES G_MAXUINT

typedef struct {
  guint        series;     /* index into chart->series, or NO_SERIES for a text item */
  PangoLayout *layout;
  gboolean     muted;
  double       x, y, w, h; /* the item's box; the text starts after the swatch */
} LegendItem;

typedef struct {
  VbChartLayout box;
  double        em, pad, tick_len;
  gboolean      empty;
  gboolean      log_y;
  double        x_lo, x_hi;    /* data units */
  double        y_lo, y_hi;    /* data units, or log10 of them when log_y */
  VbTickFormat  x_format;
  GArray       *x_ticks, *y_ticks;             /* VbTick */
  GPtrArray    *x_tick_text, *y_tick_text;     /* PangoLayout or NULL (minor tick) */
  PangoLayout  *title, *x_title, *y_title, *caption, *message;
  GArray       *legend;                        /* LegendItem */
  gboolean      smoothing_active;
} Plan;

static void
clear_legend_item (gpointer data)
{
  LegendItem *item = data;

  g_clear_object (&item->layout);
}

static void
plan_clear (Plan *p)
{
  g_clear_pointer (&p->x_ticks, g_array_unref);
  g_clear_pointer (&p->y_ticks, g_array_unref);
  g_clear_pointer (&p->x_tick_text, g_ptr_array_unref);
  g_clear_pointer (&p->y_tick_text, g_ptr_array_unref);
  g_clear_object (&p->title);
  g_clear_object (&p->x_title);
  g_clear_object (&p->y_title);
  g_clear_object (&p->caption);
  g_clear_object (&p->message);
  g_clear_pointer (&p->legend, g_array_unref);
}

static gboolean
series_smoothed (const VbLineChart *chart,
                 const VbSeries    *series)
{
  return !series->raw && vb_smoothing_is_active (chart->smoothing_kind, chart->smoothing);
}

/* ---- ranges ----------------------------------------------------------------------- */

static void
extend (double  v,
        double *lo,
        double *hi)
{
  if (v < *lo)
    *lo = v;
  if (v > *hi)
    *hi = v;
}

static void
compute_ranges (const VbLineChart *chart,
                Plan              *p)
{
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  gboolean log_y = chart->log_y;

  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      guint n = vb_series_get_length (series);
      const double *x = (const double *) series->x->data;
      const double *y = (const double *) series->y->data;
      const double *lo = series->y_lo && series->y_lo->len >= n ? (const double *) series->y_lo->data : NULL;
      const double *hi = series->y_hi && series->y_hi->len >= n ? (const double *) series->y_hi->data : NULL;

      for (guint i = 0; i < n; i++)
        {
          if (!isfinite (x[i]))
            continue;
          gboolean any = FALSE;
          const double vals[3] = { y[i], lo ? lo[i] : NAN, hi ? hi[i] : NAN };
          for (guint k = 0; k < 3; k++)
            if (isfinite (vals[k]) && (!log_y || vals[k] > 0))
              {
                extend (vals[k], &ylo, &yhi);
                any = TRUE;
              }
          if (any)
            extend (x[i], &xlo, &xhi);
        }
    }

  p->empty = !(xlo <= xhi);
  p->log_y = log_y;

  /* x */
  if (!chart->x_auto && chart->x_max > chart->x_min && isfinite (chart->x_min) && isfinite (chart->x_max))
    {
      p->x_lo = chart->x_min;
      p->x_hi = chart->x_max;
    }
  else if (p->empty)
    {
      p->x_lo = 0;
      p->x_hi = chart->x_axis == VB_X_AXIS_WALL_TIME ? 60 : (chart->x_axis == VB_X_AXIS_COUNT ? 1000 : 10);
    }
  else if (xlo == xhi)
    {
      double d = chart->x_axis == VB_X_AXIS_WALL_TIME ? 30 : 1;
      p->x_lo = xlo - d;
      p->x_hi = xhi + d;
    }
  else
    {
      p->x_lo = xlo;
      p->x_hi = xhi;
    }

  /* y */
  gboolean fixed_ok = !chart->y_auto && chart->y_max > chart->y_min
                      && isfinite (chart->y_min) && isfinite (chart->y_max)
                      && (!log_y || chart->y_min > 0);
  if (fixed_ok)
    {
      ylo = chart->y_min;
      yhi = chart->y_max;
      if (log_y)
        {
          ylo = log10 (ylo);
          yhi = log10 (yhi);
        }
    }
  else if (!(ylo <= yhi))
    {
      /* nothing to show: 0 .. 1, or 10⁰ .. 10¹ on a log axis */
      ylo = 0;
      yhi = 1;
    }
  else
    {
      if (log_y)
        {
          ylo = log10 (ylo);
          yhi = log10 (yhi);
        }
      if (ylo == yhi)
        {
          /* constant series: centre it instead of dividing by a zero span */
          double d = log_y ? 0.3 : (fabs (ylo) > 0 ? fabs (ylo) * 0.1 : 1.0);
          ylo -= d;
          yhi += d;
        }
      else
        {
          double padding = (yhi - ylo) * 0.05;
          ylo -= padding;
          yhi += padding;
        }
    }
  p->y_lo = ylo;
  p->y_hi = yhi;

  switch (chart->x_axis)
    {
    case VB_X_AXIS_STEP:
      p->x_format = VB_TICK_INTEGER;
      break;
    case VB_X_AXIS_WALL_TIME:
      p->x_format = VB_TICK_DURATION;
      break;
    case VB_X_AXIS_COUNT:
      p->x_format = VB_TICK_SI;
      break;
    case VB_X_AXIS_EPOCH:
    default:
      p->x_format = (p->x_hi - p->x_lo) >= 4 ? VB_TICK_INTEGER : VB_TICK_NUMBER;
      break;
    }
}

/* ---- ticks ------------------------------------------------------------------------ */

/* position of a y value (data units) as a fraction of the plot height from the bottom */
static double
y_fraction (const Plan *p,
            double      y)
{
  double v = p->log_y ? (y > 0 ? log10 (y) : NAN) : y;

  return (v - p->y_lo) / (p->y_hi - p->y_lo);
}

static double
map_x (const Plan *p,
       double      x)
{
  const VbChartRect *r = &p->box.plot;

  return r->x + (x - p->x_lo) / (p->x_hi - p->x_lo) * r->width;
}

static double
map_y (const Plan *p,
       double      y)
{
  const VbChartRect *r = &p->box.plot;

  return r->y + r->height - y_fraction (p, y) * r->height;
}

static void
fit_y_ticks (Plan        *p,
             VbChartText *t,
             double       plot_h,
             double      *label_w)
{
  double target = CLAMP (plot_h / (4.0 * p->em), 2, 12);
  double lo = p->log_y ? pow (10, p->y_lo) : p->y_lo;
  double hi = p->log_y ? pow (10, p->y_hi) : p->y_hi;

  for (int attempt = 0;; attempt++)
    {
      double h = 0, prev = NAN, min_gap = INFINITY;

      g_clear_pointer (&p->y_ticks, g_array_unref);
      g_clear_pointer (&p->y_tick_text, g_ptr_array_unref);
      p->y_ticks = vb_chart_ticks (lo, hi, target, VB_TICK_NUMBER, p->log_y);
      p->y_tick_text = vb_chart_tick_layouts (t, p->y_ticks, label_w, &h);
      for (guint i = 0; i < p->y_ticks->len; i++)
        {
          const VbTick *tick = &g_array_index (p->y_ticks, VbTick, i);
          if (tick->label == NULL)
            continue;
          double py = y_fraction (p, tick->value) * plot_h;
          if (isfinite (prev))
            min_gap = MIN (min_gap, fabs (py - prev));
          prev = py;
        }
      if (min_gap >= h * 1.4 || target <= 2 || attempt >= 8)
        break;
      target = MAX (2, target * 0.7);
    }
}

static void
fit_x_ticks (Plan        *p,
             VbChartText *t,
             double       plot_w)
{
  double target = CLAMP (plot_w / (7.5 * p->em), 2, 14);

  for (int attempt = 0;; attempt++)
    {
      double prev_right = -INFINITY;
      gboolean overlap = FALSE;

      g_clear_pointer (&p->x_ticks, g_array_unref);
      g_clear_pointer (&p->x_tick_text, g_ptr_array_unref);
      p->x_ticks = vb_chart_ticks (p->x_lo, p->x_hi, target, p->x_format, FALSE);
      p->x_tick_text = vb_chart_tick_layouts (t, p->x_ticks, NULL, NULL);
      for (guint i = 0; i < p->x_ticks->len; i++)
        {
          PangoLayout *layout = g_ptr_array_index (p->x_tick_text, i);
          double w;
          if (layout == NULL)
            continue;
          vb_chart_text_size (layout, &w, NULL);
          double cx = (g_array_index (p->x_ticks, VbTick, i).value - p->x_lo) / (p->x_hi - p->x_lo) * plot_w;
          if (cx - w / 2 < prev_right + 0.9 * p->em)
            overlap = TRUE;
          prev_right = cx + w / 2;
        }
      if (!overlap || target <= 2 || attempt >= 8)
        break;
      target = MAX (2, target * 0.7);
    }
}

/* how far the last x tick label reaches right of the plot's right edge */
static double
x_label_overhang (const Plan *p,
                  double      plot_w)
{
  for (guint i = p->x_ticks->len; i-- > 0;)
    {
      PangoLayout *layout = g_ptr_array_index (p->x_tick_text, i);
      double w;
      if (layout == NULL)
        continue;
      vb_chart_text_size (layout, &w, NULL);
      double cx = (g_array_index (p->x_ticks, VbTick, i).value - p->x_lo) / (p->x_hi - p->x_lo) * plot_w;
      return cx + w / 2 - plot_w;
    }
  return 0;
}

static char *
default_x_title (const VbLineChart *chart,
                 const Plan        *p)
{
  switch (chart->x_axis)
    {
    case VB_X_AXIS_EPOCH:
      return g_strdup ("Epoch");
    case VB_X_AXIS_COUNT:
      return g_strdup ("Images seen");
    case VB_X_AXIS_WALL_TIME:
      {
        double step = p->x_hi - p->x_lo, max_abs = 0;
        for (guint i = 0; i < p->x_ticks->len; i++)
          max_abs = MAX (max_abs, fabs (g_array_index (p->x_ticks, VbTick, i).value));
        if (p->x_ticks->len >= 2)
          step = g_array_index (p->x_ticks, VbTick, 1).value - g_array_index (p->x_ticks, VbTick, 0).value;
        return g_strdup_printf ("Wall time (%s)", vb_chart_duration_unit (step, max_abs));
      }
    case VB_X_AXIS_STEP:
    default:
      return g_strdup ("Step");
    }
}

/* ---- legend ----------------------------------------------------------------------- */

static void
legend_add (Plan        *p,
            guint        series,
            PangoLayout *layout,
            gboolean     muted,
            double       x,
            double       y,
            double       w,
            double       h)
{
  LegendItem item = { series, layout, muted, x, y, w, h };

  g_array_append_val (p->legend, item);
}

static double
legend_swatch_width (const Plan *p)
{
  return 1.6 * p->em;
}

static void
layout_legend (Plan              *p,
               VbChartText       *t,
               const VbLineChart *chart,
               double             x0,
               double             y0,
               double             max_w)
{
  double em = p->em, swatch = legend_swatch_width (p), gap = 0.45 * em, spacing = 1.3 * em;
  double x = x0, y = y0, row_h, right = x0;
  guint row = 0, shown = 0;
  gboolean any_smoothed = FALSE;

  p->legend = g_array_new (FALSE, TRUE, sizeof (LegendItem));
  g_array_set_clear_func (p->legend, clear_legend_item);
  {
    PangoLayout *probe = vb_chart_text_layout (t, VB_TEXT_LABEL, "Ag", 0, 0);
    vb_chart_text_size (probe, NULL, &row_h);
    g_object_unref (probe);
  }

  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      PangoLayout *layout = vb_chart_text_layout (t, VB_TEXT_LABEL,
                                                  series->name ? series->name : "(unnamed)",
                                                  MAX (max_w - swatch - gap, em), 1);
      double w;

      vb_chart_text_size (layout, &w, NULL);
      double item_w = swatch + gap + w;
      if (x > x0 && x + item_w > x0 + max_w)
        {
          row++;
          x = x0;
          y += row_h + 0.2 * em;
        }
      if (row >= LEGEND_MAX_ROWS)
        {
          g_object_unref (layout);
          break;
        }
      legend_add (p, s, layout, FALSE, x, y, item_w, row_h);
      x += item_w + spacing;
      shown++;
    }

  for (guint s = 0; s < chart->series->len; s++)
    if (series_smoothed (chart, g_ptr_array_index (chart->series, s)))
      any_smoothed = TRUE;

  /* too many runs for the legend: say how many are not listed */
  while (shown < chart->series->len)
    {
      g_autofree char *text = g_strdup_printf ("+%u more", chart->series->len - shown);
      PangoLayout *layout = vb_chart_text_layout (t, VB_TEXT_SMALL, text, 0, 0);
      double w;

      vb_chart_text_size (layout, &w, NULL);
      if (x + w <= x0 + max_w || p->legend->len == 0)
        {
          legend_add (p, NO_SERIES, layout, TRUE, x, y, w, row_h);
          x += w + spacing;
          break;
        }
      g_object_unref (layout);
      const LegendItem *last = &g_array_index (p->legend, LegendItem, p->legend->len - 1);
      x = last->x;
      y = last->y;
      g_array_remove_index (p->legend, p->legend->len - 1);
      shown--;
    }

  /* the smoothing method, so that a figure says what was done to its curves */
  if (any_smoothed)
    {
      g_autofree char *desc = vb_smoothing_describe (chart->smoothing_kind, chart->smoothing);
      g_autofree char *text = g_strdup_printf ("Smoothed: %s; faint lines: raw", desc);
      PangoLayout *layout = vb_chart_text_layout (t, VB_TEXT_SMALL, text, max_w, 1);
      double w;

      vb_chart_text_size (layout, &w, NULL);
      if (x > x0 && x + w > x0 + max_w)
        {
          x = x0;
          y += row_h + 0.2 * em;
        }
      legend_add (p, NO_SERIES, layout, TRUE, x, y, w, row_h);
    }

  for (guint i = 0; i < p->legend->len; i++)
    {
      const LegendItem *item = &g_array_index (p->legend, LegendItem, i);
      right = MAX (right, item->x + item->w);
    }
  p->box.legend = vb_chart_rect (x0, y0, right - x0, p->legend->len > 0 ? y + row_h - y0 : 0);
}

/* ---- plan ------------------------------------------------------------------------- */

static void
plan_compute (Plan              *p,
              VbChartText       *t,
              const VbLineChart *chart,
              double             width,
              double             height)
{
  double em = t->em, pad, top, bottom, inner_w;

  memset (p, 0, sizeof *p);
  p->em = em;
  p->pad = pad = em;
  p->tick_len = MAX (3.0, 0.35 * em);
  p->smoothing_active = vb_smoothing_is_active (chart->smoothing_kind, chart->smoothing);
  compute_ranges (chart, p);

  top = pad;
  bottom = height - pad;
  inner_w = MAX (width - 2 * pad, 1);

  p->title = vb_chart_plan_title (t, chart->title, pad, inner_w, &top, &p->box.title);
  if (chart->show_legend && chart->series->len > 0)
    {
      layout_legend (p, t, chart, pad, top, inner_w);
      top += p->box.legend.height + 0.9 * em;
    }
  else
    top += 0.5 * em;   /* half a tick label sticks out above the plot */

  p->caption = vb_chart_plan_caption (t, chart->caption, pad, inner_w, &bottom, &p->box.caption);
  bottom -= vb_chart_line_height (t, VB_TEXT_LABEL) + 0.3 * em;          /* x axis title */
  bottom -= vb_chart_line_height (t, VB_TEXT_TICK) + p->tick_len + 0.3 * em;  /* x tick labels */

  double plot_y = round (top);
  double plot_h = MAX (floor (bottom - plot_y), 8);

  double left = pad;
  p->y_title = vb_chart_plan_y_title (t, chart->y_label, plot_h, &left);
  double y_label_w = 0;
  fit_y_ticks (p, t, plot_h, &y_label_w);
  left += y_label_w + p->tick_len + 0.3 * em;

  double plot_x = ceil (left);
  double plot_w = MAX (floor (width - pad - plot_x), 8);
  fit_x_ticks (p, t, plot_w);
  double overhang = x_label_overhang (p, plot_w) - (pad - 0.25 * em);
  if (overhang > 0)
    {
      plot_w = MAX (plot_w - ceil (overhang), 8);
      fit_x_ticks (p, t, plot_w);
    }
  p->box.plot = vb_chart_rect (plot_x, plot_y, plot_w, plot_h);

  g_autofree char *x_title = chart->x_label != NULL ? g_strdup (chart->x_label) : default_x_title (chart, p);
  if (*x_title != '\0')
    p->x_title = vb_chart_text_layout (t, VB_TEXT_LABEL, x_title, MAX (width - 2 * pad, 1), 1);
  if (p->empty)
    p->message = vb_chart_text_layout (t, VB_TEXT_MESSAGE, "No data yet", plot_w, 1);
}

/* ---- drawing the data ------------------------------------------------------------- */

typedef struct {
  cairo_t  *cr;
  gboolean  in_segment;
  guint     seg_points;
  double    seg_x, seg_y;
} Tracer;

static void
tracer_emit (Tracer *tr,
             double  px,
             double  py)
{
  if (!tr->in_segment)
    {
      cairo_move_to (tr->cr, px, py);
      tr->in_segment = TRUE;
      tr->seg_points = 1;
      tr->seg_x = px;
      tr->seg_y = py;
    }
  else
    {
      cairo_line_to (tr->cr, px, py);
      tr->seg_points++;
    }
}

static void
tracer_break (Tracer *tr)
{
  /* a point alone between two gaps: a zero-length segment, drawn as a dot by round caps */
  if (tr->in_segment && tr->seg_points == 1)
    cairo_line_to (tr->cr, tr->seg_x, tr->seg_y);
  tr->in_segment = FALSE;
}

/* M4 decimation: per pixel column keep the first, highest, lowest and last point, in
 * their original order. The drawn line is the same as with every point. */
typedef struct {
  gboolean used;
  double   col;
  guint    idx[4];     /* first, top (min py), bottom (max py), last */
  double   px[4], py[4];
} Bucket;

static void
bucket_flush (Bucket *b,
              Tracer *tr)
{
  guint order[4] = { 0, 1, 2, 3 };

  if (!b->used)
    return;
  for (guint i = 1; i < 4; i++)
    for (guint j = i; j > 0 && b->idx[order[j]] < b->idx[order[j - 1]]; j--)
      {
        guint tmp = order[j];
        order[j] = order[j - 1];
        order[j - 1] = tmp;
      }
  guint last = G_MAXUINT;
  for (guint k = 0; k < 4; k++)
    {
      guint s = order[k];
      if (b->idx[s] == last)
        continue;
      tracer_emit (tr, b->px[s], b->py[s]);
      last = b->idx[s];
    }
  b->used = FALSE;
}

static void
bucket_add (Bucket *b,
            Tracer *tr,
            guint   i,
            double  px,
            double  py)
{
  double col = floor (px);

  if (b->used && col != b->col)
    bucket_flush (b, tr);
  if (!b->used)
    {
      b->used = TRUE;
      b->col = col;
      for (guint k = 0; k < 4; k++)
        {
          b->idx[k] = i;
          b->px[k] = px;
          b->py[k] = py;
        }
      return;
    }
  if (py < b->py[1])
    {
      b->idx[1] = i;
      b->px[1] = px;
      b->py[1] = py;
    }
  if (py > b->py[2])
    {
      b->idx[2] = i;
      b->px[2] = px;
      b->py[2] = py;
    }
  b->idx[3] = i;
  b->px[3] = px;
  b->py[3] = py;
}

/* keeps far-away points inside cairo's fixed-point range; the clip hides them anyway */
static double
clamp_coord (double v,
             double lo,
             double span)
{
  return CLAMP (v, lo - 1e5, lo + span + 1e5);
}

static void
trace_line (cairo_t      *cr,
            const Plan   *p,
            const double *x,
            const double *y,
            guint         n)
{
  const VbChartRect *r = &p->box.plot;
  Tracer tr = { cr, FALSE, 0, 0, 0 };
  Bucket b = { 0 };

  for (guint i = 0; i < n; i++)
    {
      double px = map_x (p, x[i]), py = map_y (p, y[i]);
      if (!isfinite (px) || !isfinite (py))
        {
          bucket_flush (&b, &tr);
          tracer_break (&tr);
          continue;
        }
      bucket_add (&b, &tr, i, clamp_coord (px, r->x, r->width), clamp_coord (py, r->y, r->height));
    }
  bucket_flush (&b, &tr);
  tracer_break (&tr);
}

typedef struct {
  double px, top, bot;
} BandPoint;

static void
band_flush (cairo_t *cr,
            GArray  *run)
{
  if (run->len >= 2)
    {
      for (guint i = 0; i < run->len; i++)
        {
          const BandPoint *bp = &g_array_index (run, BandPoint, i);
          if (i == 0)
            cairo_move_to (cr, bp->px, bp->top);
          else
            cairo_line_to (cr, bp->px, bp->top);
        }
      for (guint i = run->len; i-- > 0;)
        {
          const BandPoint *bp = &g_array_index (run, BandPoint, i);
          cairo_line_to (cr, bp->px, bp->bot);
        }
      cairo_close_path (cr);
    }
  g_array_set_size (run, 0);
}

static void
trace_band (cairo_t      *cr,
            const Plan   *p,
            const double *x,
            const double *lo,
            const double *hi,
            guint         n)
{
  const VbChartRect *r = &p->box.plot;
  g_autoptr(GArray) run = g_array_new (FALSE, FALSE, sizeof (BandPoint));

  for (guint i = 0; i < n; i++)
    {
      double px = map_x (p, x[i]), pt = map_y (p, hi[i]), pb = map_y (p, lo[i]);
      if (!isfinite (px) || !isfinite (pt) || !isfinite (pb))
        {
          band_flush (cr, run);
          continue;
        }
      px = clamp_coord (px, r->x, r->width);
      pt = clamp_coord (pt, r->y, r->height);
      pb = clamp_coord (pb, r->y, r->height);
      if (run->len > 0)
        {
          BandPoint *last = &g_array_index (run, BandPoint, run->len - 1);
          if (floor (last->px) == floor (px))
            {
              last->top = MIN (last->top, MIN (pt, pb));
              last->bot = MAX (last->bot, MAX (pt, pb));
              continue;
            }
        }
      BandPoint bp = { px, MIN (pt, pb), MAX (pt, pb) };
      g_array_append_val (run, bp);
    }
  band_flush (cr, run);
}

static void
set_series_stroke (cairo_t        *cr,
                   const VbSeries *series,
                   double          width)
{
  cairo_set_line_width (cr, width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  if (series->dashed)
    {
      double dash[2] = { 4 * width, 2.5 * width };
      cairo_set_dash (cr, dash, 2, 0);
    }
  else
    cairo_set_dash (cr, NULL, 0, 0);
}

static void
draw_series (cairo_t            *cr,
             const Plan         *p,
             const VbLineChart  *chart,
             const VbChartStyle *style)
{
  guint ns = chart->series->len;
  g_autofree double **smoothed = g_new0 (double *, MAX (ns, 1));

  cairo_save (cr);
  cairo_rectangle (cr, p->box.plot.x, p->box.plot.y, p->box.plot.width, p->box.plot.height);
  cairo_clip (cr);

  /* smoothed on the full data, before any decimation */
  for (guint s = 0; s < ns; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      guint n = vb_series_get_length (series);
      if (n == 0 || !series_smoothed (chart, series))
        continue;
      smoothed[s] = g_new (double, n);
      vb_smooth (chart->smoothing_kind, chart->smoothing, (const double *) series->x->data,
                 (const double *) series->y->data, n, smoothed[s]);
    }

  /* bands under everything, smoothed like their line */
  for (guint s = 0; s < ns; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      guint n = vb_series_get_length (series);
      if (series->y_lo == NULL || series->y_hi == NULL
          || series->y_lo->len < n || series->y_hi->len < n || n == 0)
        continue;
      const double *x = (const double *) series->x->data;
      const double *lo = (const double *) series->y_lo->data;
      const double *hi = (const double *) series->y_hi->data;
      g_autofree double *slo = NULL, *shi = NULL;
      if (smoothed[s] != NULL)
        {
          slo = g_new (double, n);
          shi = g_new (double, n);
          vb_smooth (chart->smoothing_kind, chart->smoothing, x, lo, n, slo);
          vb_smooth (chart->smoothing_kind, chart->smoothing, x, hi, n, shi);
          lo = slo;
          hi = shi;
        }
      trace_band (cr, p, x, lo, hi, n);
      vb_chart_set_color (cr, vb_chart_style_series_color (style, series->color_index), style->band_alpha);
      cairo_fill (cr);
    }

  /* raw ghosts under all smoothed lines, so no run's ghost hides another's curve */
  for (guint s = 0; s < ns; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      if (smoothed[s] == NULL)
        continue;
      trace_line (cr, p, (const double *) series->x->data, (const double *) series->y->data,
                  vb_series_get_length (series));
      set_series_stroke (cr, series, style->line_width * 0.85);
      vb_chart_set_color (cr, vb_chart_style_series_color (style, series->color_index), style->raw_alpha);
      cairo_stroke (cr);
    }

  for (guint s = 0; s < ns; s++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, s);
      const double *y = smoothed[s] != NULL ? smoothed[s] : (const double *) series->y->data;
      trace_line (cr, p, (const double *) series->x->data, y, vb_series_get_length (series));
      set_series_stroke (cr, series, style->line_width);
      vb_chart_set_color (cr, vb_chart_style_series_color (style, series->color_index), 1.0);
      cairo_stroke (cr);
    }

  for (guint s = 0; s < ns; s++)
    g_free (smoothed[s]);
  cairo_restore (cr);
}

/* ---- drawing the frame ------------------------------------------------------------ */

static void
draw_grid (cairo_t            *cr,
           const Plan         *p,
           const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;

  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  for (guint pass = 0; pass < 2; pass++)
    {
      /* minor lines first, fainter */
      for (guint i = 0; i < p->y_ticks->len; i++)
        {
          const VbTick *tick = &g_array_index (p->y_ticks, VbTick, i);
          if ((tick->label == NULL) != (pass == 0))
            continue;
          double py = map_y (p, tick->value);
          if (!isfinite (py) || py < r->y - 0.5 || py > r->y + r->height - 1.5)
            continue;
          cairo_move_to (cr, r->x, vb_chart_snap (py));
          cairo_line_to (cr, r->x + r->width, vb_chart_snap (py));
        }
      vb_chart_set_color (cr, &style->grid, pass == 0 ? 0.5 : 1.0);
      cairo_stroke (cr);
    }
  for (guint i = 0; i < p->x_ticks->len; i++)
    {
      double px = map_x (p, g_array_index (p->x_ticks, VbTick, i).value);
      if (px < r->x + 1.5 || px > r->x + r->width + 0.5)
        continue;
      cairo_move_to (cr, vb_chart_snap (px), r->y);
      cairo_line_to (cr, vb_chart_snap (px), r->y + r->height);
    }
  vb_chart_set_color (cr, &style->grid, 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_axes (cairo_t            *cr,
           VbChartText        *t,
           const Plan         *p,
           const VbChartStyle *style,
           double              width)
{
  const VbChartRect *r = &p->box.plot;
  double aw = MAX (1.0, round (p->em / 12.0));
  double bottom = r->y + r->height;

  cairo_save (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cairo_set_line_width (cr, aw);
  vb_chart_set_color (cr, &style->axis, 1.0);
  /* both lines lie on the plot rectangle's own edge pixels */
  cairo_move_to (cr, r->x + aw / 2, r->y);
  cairo_line_to (cr, r->x + aw / 2, bottom - aw / 2);
  cairo_line_to (cr, r->x + r->width, bottom - aw / 2);
  cairo_stroke (cr);

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  cairo_set_line_width (cr, 1.0);
  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      const VbTick *tick = &g_array_index (p->y_ticks, VbTick, i);
      double py = map_y (p, tick->value);
      if (tick->label == NULL || !isfinite (py) || py < r->y - 0.5 || py > bottom + 0.5)
        continue;
      cairo_move_to (cr, r->x, vb_chart_snap (py));
      cairo_line_to (cr, r->x - p->tick_len, vb_chart_snap (py));
    }
  for (guint i = 0; i < p->x_ticks->len; i++)
    {
      double px = map_x (p, g_array_index (p->x_ticks, VbTick, i).value);
      if (px < r->x - 0.5 || px > r->x + r->width + 0.5)
        continue;
      cairo_move_to (cr, vb_chart_snap (px), bottom);
      cairo_line_to (cr, vb_chart_snap (px), bottom + p->tick_len);
    }
  cairo_stroke (cr);
  cairo_restore (cr);

  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      PangoLayout *layout = g_ptr_array_index (p->y_tick_text, i);
      double py = map_y (p, g_array_index (p->y_ticks, VbTick, i).value);
      if (layout == NULL || !isfinite (py) || py < r->y - 0.5 || py > bottom + 0.5)
        continue;
      vb_chart_text_draw (t, layout, r->x - p->tick_len - 0.3 * p->em, py, 1.0, 0.5, &style->muted_text);
    }
  for (guint i = 0; i < p->x_ticks->len; i++)
    {
      PangoLayout *layout = g_ptr_array_index (p->x_tick_text, i);
      double px = map_x (p, g_array_index (p->x_ticks, VbTick, i).value);
      double w;
      if (layout == NULL || px < r->x - 0.5 || px > r->x + r->width + 0.5)
        continue;
      vb_chart_text_size (layout, &w, NULL);
      px = CLAMP (px, w / 2 + 1, width - w / 2 - 1);
      vb_chart_text_draw (t, layout, px, bottom + p->tick_len + 0.25 * p->em, 0.5, 0.0, &style->muted_text);
    }
}

static void
draw_legend (cairo_t            *cr,
             VbChartText        *t,
             const Plan         *p,
             const VbLineChart  *chart,
             const VbChartStyle *style)
{
  double swatch = legend_swatch_width (p), gap = 0.45 * p->em;

  if (p->legend == NULL)
    return;
  for (guint i = 0; i < p->legend->len; i++)
    {
      const LegendItem *item = &g_array_index (p->legend, LegendItem, i);
      double cy = item->y + item->h / 2;

      if (item->series == NO_SERIES)
        {
          vb_chart_text_draw (t, item->layout, item->x, cy, 0, 0.5, &style->muted_text);
          continue;
        }
      const VbSeries *series = g_ptr_array_index (chart->series, item->series);
      const VbRgba *color = vb_chart_style_series_color (style, series->color_index);
      cairo_save (cr);
      if (series->y_lo != NULL && series->y_hi != NULL)
        {
          cairo_rectangle (cr, item->x, cy - 0.35 * p->em, swatch, 0.7 * p->em);
          vb_chart_set_color (cr, color, style->band_alpha);
          cairo_fill (cr);
        }
      set_series_stroke (cr, series, MAX (style->line_width, 2.0));
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      cairo_move_to (cr, item->x, cy);
      cairo_line_to (cr, item->x + swatch, cy);
      vb_chart_set_color (cr, color, 1.0);
      cairo_stroke (cr);
      cairo_restore (cr);
      vb_chart_text_draw (t, item->layout, item->x + swatch + gap, cy, 0, 0.5, &style->text);
    }
}

/* ---- public ----------------------------------------------------------------------- */

void
vb_line_chart_draw (cairo_t            *cr,
                    const VbLineChart  *chart,
                    double              width,
                    double              height,
                    const VbChartStyle *style)
{
  VbChartStyle storage;
  VbChartText t;
  Plan p;

  g_return_if_fail (cr != NULL);
  g_return_if_fail (chart != NULL);
  if (!(width >= 1 && height >= 1))
    return;
  style = vb_chart_style_or_default (style, &storage);

  vb_chart_begin (cr, width, height, style);

  vb_chart_text_init (&t, cr, style);
  plan_compute (&p, &t, chart, width, height);

  draw_grid (cr, &p, style);
  if (!p.empty)
    draw_series (cr, &p, chart, style);
  draw_axes (cr, &t, &p, style, width);

  const VbChartRect *r = &p.box.plot;
  vb_chart_draw_titles (&t, p.title, p.y_title, &p.box, p.pad, style);
  if (p.x_title != NULL)
    {
      double tick_h = vb_chart_line_height (&t, VB_TEXT_TICK);
      double y = r->y + r->height + p.tick_len + 0.3 * p.em + tick_h + 0.3 * p.em;
      double w;
      vb_chart_text_size (p.x_title, &w, NULL);
      double cx = CLAMP (r->x + r->width / 2, p.pad + w / 2, width - p.pad - w / 2);
      vb_chart_text_draw (&t, p.x_title, cx, y, 0.5, 0, &style->text);
    }
  draw_legend (cr, &t, &p, chart, style);
  vb_chart_draw_notes (&t, p.caption, p.message, &p.box, style);

  plan_clear (&p);
  vb_chart_text_clear (&t);
  cairo_restore (cr);
}

void
vb_line_chart_get_layout (const VbLineChart  *chart,
                          double              width,
                          double              height,
                          const VbChartStyle *style,
                          VbChartLayout      *layout)
{
  VbChartStyle storage;
  VbChartText t;
  Plan p;

  g_return_if_fail (chart != NULL);
  g_return_if_fail (layout != NULL);
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  *layout = p.box;
  plan_clear (&p);
  vb_chart_text_clear (&t);
}

VbChartRect
vb_line_chart_get_plot_rect (const VbLineChart  *chart,
                             double              width,
                             double              height,
                             const VbChartStyle *style)
{
  VbChartLayout layout;

  vb_line_chart_get_layout (chart, width, height, style, &layout);
  return layout.plot;
}

static const char *
x_axis_name (VbXAxisKind kind)
{
  switch (kind)
    {
    case VB_X_AXIS_EPOCH:
      return "epoch";
    case VB_X_AXIS_WALL_TIME:
      return "wall-time";
    case VB_X_AXIS_COUNT:
      return "count";
    case VB_X_AXIS_STEP:
    default:
      return "step";
    }
}

char *
vb_line_chart_describe (const VbLineChart *chart)
{
  g_autofree char *smoothing = NULL;
  GString *s;

  g_return_val_if_fail (chart != NULL, NULL);
  smoothing = vb_smoothing_describe (chart->smoothing_kind, chart->smoothing);
  s = g_string_new (NULL);
  g_string_append_printf (s, "x-axis: %s", x_axis_name (chart->x_axis));
  if (!chart->x_auto)
    g_string_append_printf (s, " [%g, %g]", chart->x_min, chart->x_max);
  g_string_append_printf (s, "; y-axis: %s", chart->log_y ? "log" : "linear");
  if (!chart->y_auto)
    g_string_append_printf (s, " [%g, %g]", chart->y_min, chart->y_max);
  g_string_append_printf (s, "; smoothing: %s; decimation: per-pixel min/max (M4) after smoothing",
                          smoothing);
  g_string_append (s, "; series: ");
  for (guint i = 0; i < chart->series->len; i++)
    {
      const VbSeries *series = g_ptr_array_index (chart->series, i);
      g_string_append_printf (s, "%s%s%s", i > 0 ? ", " : "", series->name ? series->name : "(unnamed)",
                              series->raw ? " (never smoothed)" : "");
    }
  return g_string_free (s, FALSE);
}
