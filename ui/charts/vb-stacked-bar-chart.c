/* vb-stacked-bar-chart.c: horizontal stacked bars (see the header). Top to bottom: the
 * title, the plot (bar labels at its left), the value axis's ticks and title, the
 * legend, the caption. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-stacked-bar-chart.h"

#include "vb-chart-axis.h"
#include "vb-chart-frame.h"

/* ---- the model ---------------------------------------------------------------------- */

static void
series_free (VbStackSeries *s)
{
  g_free (s->name);
  g_free (s);
}

static void
bar_free (VbStackBar *b)
{
  g_free (b->label);
  g_array_unref (b->values);
  g_clear_pointer (&b->parts, g_ptr_array_unref);
  g_free (b);
}

VbStackedBarChart *
vb_stacked_bar_chart_new (void)
{
  VbStackedBarChart *chart = g_new0 (VbStackedBarChart, 1);

  chart->alt_from = G_MAXUINT;
  chart->series = g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);
  chart->bars = g_ptr_array_new_with_free_func ((GDestroyNotify) bar_free);
  return chart;
}

void
vb_stacked_bar_chart_free (VbStackedBarChart *chart)
{
  if (chart == NULL)
    return;
  g_free (chart->title);
  g_free (chart->x_label);
  g_free (chart->caption);
  g_free (chart->unit);
  g_ptr_array_unref (chart->series);
  g_ptr_array_unref (chart->bars);
  g_free (chart);
}

void
vb_stacked_bar_chart_set_title (VbStackedBarChart *chart,
                                const char        *title)
{
  vb_chart_set_string (&chart->title, title);
}

void
vb_stacked_bar_chart_set_labels (VbStackedBarChart *chart,
                                 const char        *x_label,
                                 const char        *unit)
{
  vb_chart_set_string (&chart->x_label, x_label);
  vb_chart_set_string (&chart->unit, unit);
}

void
vb_stacked_bar_chart_set_caption (VbStackedBarChart *chart,
                                  const char        *caption)
{
  vb_chart_set_string (&chart->caption, caption);
}

guint
vb_stacked_bar_chart_add_series (VbStackedBarChart *chart,
                                 const char        *name,
                                 int                color_index)
{
  VbStackSeries *s = g_new0 (VbStackSeries, 1);

  s->name = g_strdup (name);
  s->color_index = color_index;
  g_ptr_array_add (chart->series, s);
  return chart->series->len - 1;
}

void
vb_stacked_bar_chart_add_bar (VbStackedBarChart *chart,
                              const char        *label,
                              const double      *values,
                              guint              n)
{
  VbStackBar *b = g_new0 (VbStackBar, 1);

  b->label = g_strdup (label);
  b->values = g_array_sized_new (FALSE, TRUE, sizeof (double), n);
  g_array_append_vals (b->values, values, n);
  g_ptr_array_add (chart->bars, b);
}

/* a bar's parts list has holes (series without parts) */
static void
parts_free (gpointer parts)
{
  if (parts != NULL)
    g_array_unref (parts);
}

void
vb_stacked_bar_chart_set_parts (VbStackedBarChart *chart,
                                guint              b,
                                guint              s,
                                const double      *parts,
                                guint              n)
{
  g_return_if_fail (chart != NULL && b < chart->bars->len);
  VbStackBar *bar = g_ptr_array_index (chart->bars, b);
  if (bar->parts == NULL)
    bar->parts = g_ptr_array_new_with_free_func (parts_free);
  if (bar->parts->len <= s)
    g_ptr_array_set_size (bar->parts, s + 1);
  GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  g_array_append_vals (a, parts, n);
  parts_free (g_ptr_array_index (bar->parts, s));
  g_ptr_array_index (bar->parts, s) = a;
}

static const GArray *
parts_of (const VbStackBar *b,
          guint             s)
{
  return b->parts != NULL && s < b->parts->len ? g_ptr_array_index (b->parts, s) : NULL;
}

static double
value (const VbStackBar *b,
       guint             s)
{
  double v = s < b->values->len ? g_array_index (b->values, double, s) : 0;
  return isfinite (v) && v > 0 ? v : 0;
}

static double
total (const VbStackBar *b)
{
  double sum = 0;
  for (guint s = 0; s < b->values->len; s++)
    sum += value (b, s);
  return sum;
}

guint
vb_stacked_bar_chart_n_segments (const VbStackedBarChart *chart,
                                 guint                    b)
{
  g_return_val_if_fail (chart != NULL && b < chart->bars->len, 0);

  const VbStackBar *bar = g_ptr_array_index (chart->bars, b);
  guint n = 0;
  for (guint s = 0; s < chart->series->len; s++)
    n += value (bar, s) > 0;
  return n;
}

/* ---- the plan ----------------------------------------------------------------------- */

typedef struct {
  VbChartLayout box;
  double        em, pad;
  double        x_hi;           /* the axis runs 0 … x_hi */
  double        band, thick;    /* a bar's row and the bar's height */
  gboolean      empty;
  PangoLayout  *title, *caption, *x_title, *message;
  GArray       *ticks;
  GPtrArray    *tick_text;
  GPtrArray    *bar_text;       /* per bar, left of it */
  GPtrArray    *total_text;     /* per bar, after it */
  GPtrArray    *legend_text;    /* per series */
  GArray       *legend_at;      /* VbChartRect per series: its swatch and text */
} Plan;

static void
plan_clear (Plan *p)
{
  g_clear_object (&p->title);
  g_clear_object (&p->caption);
  g_clear_object (&p->x_title);
  g_clear_object (&p->message);
  g_clear_pointer (&p->ticks, g_array_unref);
  g_clear_pointer (&p->tick_text, g_ptr_array_unref);
  g_clear_pointer (&p->bar_text, g_ptr_array_unref);
  g_clear_pointer (&p->total_text, g_ptr_array_unref);
  g_clear_pointer (&p->legend_text, g_ptr_array_unref);
  g_clear_pointer (&p->legend_at, g_array_unref);
}

/* whole pixels, so a segment's width is its value within a pixel and edges stay crisp */
static double
map_x (const Plan *p,
       double      v)
{
  return p->box.plot.x + round (v / p->x_hi * p->box.plot.width);
}

static double
bar_y (const Plan *p,
       guint       b)
{
  return round (p->box.plot.y + (b + 0.5) * p->band - p->thick / 2);
}

/* Entries left to right, wrapping at inner_w; returns the legend's height. */
static double
plan_legend (Plan                    *p,
             VbChartText             *t,
             const VbStackedBarChart *chart,
             double                   inner_w)
{
  double swatch = 0.8 * p->em, gap = 0.35 * p->em, x = 0, y = 0, line = 0;

  p->legend_text = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  p->legend_at = g_array_sized_new (FALSE, TRUE, sizeof (VbChartRect), chart->series->len);
  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbStackSeries *ser = g_ptr_array_index (chart->series, s);
      double w, h;
      PangoLayout *l = vb_chart_text_layout (t, VB_TEXT_SMALL, ser->name ? ser->name : "",
                                             MAX (inner_w - swatch - gap, 1), 1);
      vb_chart_text_size (l, &w, &h);
      double entry = swatch + gap + w;
      if (x > 0 && x + entry > inner_w)
        {
          x = 0;
          y += line + 0.3 * p->em;
          line = 0;
        }
      VbChartRect at = vb_chart_rect (x, y, MIN (entry, inner_w), MAX (h, swatch));
      g_array_append_val (p->legend_at, at);
      g_ptr_array_add (p->legend_text, l);
      line = MAX (line, at.height);
      x += entry + p->em;
    }
  return chart->series->len > 0 ? y + line : 0;
}

static void
plan_compute (Plan                    *p,
              VbChartText             *t,
              const VbStackedBarChart *chart,
              double                   width,
              double                   height)
{
  double em = t->em, pad = em, w, h;
  guint n = chart->bars->len;

  memset (p, 0, sizeof *p);
  p->em = em;
  p->pad = pad;

  double top = pad, bottom = height - pad, inner_w = MAX (width - 2 * pad, 1);
  p->title = vb_chart_plan_title (t, chart->title, pad, inner_w, &top, &p->box.title);
  top += 0.5 * em;
  p->caption = vb_chart_plan_caption (t, chart->caption, pad, inner_w, &bottom, &p->box.caption);
  double legend_h = plan_legend (p, t, chart, inner_w);
  if (legend_h > 0)
    {
      bottom -= legend_h;
      p->box.legend = vb_chart_rect (pad, bottom, inner_w, legend_h);
      bottom -= 0.6 * em;
    }
  if (chart->x_label != NULL && *chart->x_label != '\0')
    {
      p->x_title = vb_chart_text_layout (t, VB_TEXT_LABEL, chart->x_label, inner_w, 1);
      vb_chart_text_size (p->x_title, NULL, &h);
      bottom -= h + 0.3 * em;
    }

  /* room after the longest bar for its total */
  double longest = 0;
  for (guint b = 0; b < n; b++)
    longest = MAX (longest, total (g_ptr_array_index (chart->bars, b)));
  p->empty = !(longest > 0);
  p->x_hi = p->empty ? 1 : longest / 0.82;

  double tick_h;
  p->ticks = vb_chart_ticks (0, p->x_hi, 5, VB_TICK_NUMBER, FALSE);
  p->tick_text = vb_chart_tick_layouts (t, p->ticks, NULL, &tick_h);
  bottom -= tick_h + 0.4 * em;

  double label_w = 0;
  p->bar_text = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  p->total_text = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  for (guint b = 0; b < n; b++)
    {
      const VbStackBar *bar = g_ptr_array_index (chart->bars, b);
      PangoLayout *l = vb_chart_text_layout (t, VB_TEXT_LABEL, bar->label ? bar->label : "",
                                             inner_w / 3, 1);
      vb_chart_text_size (l, &w, NULL);
      label_w = MAX (label_w, w);
      g_ptr_array_add (p->bar_text, l);
      g_autofree char *sum = g_strdup_printf ("%.3g%s%s", total (bar), chart->unit ? " " : "",
                                              chart->unit ? chart->unit : "");
      g_ptr_array_add (p->total_text, total (bar) > 0
                                      ? vb_chart_text_layout (t, VB_TEXT_SMALL, sum, 0, 0)
                                      : NULL);
    }

  double plot_x = ceil (pad + label_w + (label_w > 0 ? 0.6 * em : 0));
  double plot_y = round (top);
  p->box.plot = vb_chart_rect (plot_x, plot_y, MAX (floor (width - pad - plot_x), 8),
                               MAX (floor (bottom - plot_y), 8));
  p->band = p->box.plot.height / MAX (n, 1);
  p->thick = round (MIN (0.6 * p->band, 3 * em));
  if (p->empty)
    p->message = vb_chart_text_layout (t, VB_TEXT_MESSAGE, "No data yet", p->box.plot.width, 1);
}

/* ---- drawing ------------------------------------------------------------------------ */

static void
draw_axes (cairo_t            *cr,
           VbChartText        *t,
           const Plan         *p,
           const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;

  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  for (guint i = 0; i < p->ticks->len; i++)
    {
      double px = vb_chart_snap (map_x (p, g_array_index (p->ticks, VbTick, i).value));
      cairo_move_to (cr, px, r->y);
      cairo_line_to (cr, px, r->y + r->height);
    }
  vb_chart_set_color (cr, &style->grid, 1.0);
  cairo_stroke (cr);
  cairo_move_to (cr, vb_chart_snap (r->x), r->y);
  cairo_line_to (cr, vb_chart_snap (r->x), vb_chart_snap (r->y + r->height));
  cairo_line_to (cr, r->x + r->width, vb_chart_snap (r->y + r->height));
  vb_chart_set_color (cr, &style->axis, 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);

  for (guint i = 0; i < p->ticks->len; i++)
    {
      PangoLayout *l = g_ptr_array_index (p->tick_text, i);
      if (l != NULL)
        vb_chart_text_draw (t, l, map_x (p, g_array_index (p->ticks, VbTick, i).value),
                            r->y + r->height + 0.4 * p->em, 0.5, 0.0, &style->muted_text);
    }
}

static void
draw_bars (cairo_t                 *cr,
           VbChartText             *t,
           const Plan              *p,
           const VbStackedBarChart *chart,
           const VbChartStyle      *style)
{
  const VbChartRect *r = &p->box.plot;

  cairo_save (cr);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_clip (cr);
  for (guint b = 0; b < chart->bars->len; b++)
    {
      const VbStackBar *bar = g_ptr_array_index (chart->bars, b);
      double y = bar_y (p, b), sum = 0, marker = NAN;
      for (guint s = 0; s < chart->series->len; s++)
        {
          const VbStackSeries *ser = g_ptr_array_index (chart->series, s);
          double v = value (bar, s);
          if (s == chart->alt_from && s > 0)
            marker = map_x (p, sum);
          if (v <= 0)
            continue;
          double x0 = map_x (p, sum), x1 = map_x (p, sum + v);
          cairo_rectangle (cr, x0, y, x1 - x0, p->thick);
          vb_chart_set_color (cr, vb_chart_style_series_color (style, ser->color_index), 1.0);
          cairo_fill (cr);
          /* several parts: every other one lighter, at the parts' proportions */
          const GArray *parts = parts_of (bar, s);
          double whole = 0, done = 0;
          for (guint i = 0; parts != NULL && i < parts->len; i++)
            whole += MAX (g_array_index (parts, double, i), 0);
          for (guint i = 0; parts != NULL && whole > 0 && i < parts->len; i++)
            {
              double part = MAX (g_array_index (parts, double, i), 0);
              if (i % 2 == 1)
                {
                  double a = map_x (p, sum + v * (done / whole));
                  double c = map_x (p, sum + v * ((done + part) / whole));
                  cairo_rectangle (cr, a, y, c - a, p->thick);
                  vb_chart_set_color (cr, &style->background, 0.35);
                  cairo_fill (cr);
                }
              done += part;
            }
          sum += v;
        }
      /* the common part ends here; what follows are alternatives */
      if (isfinite (marker))
        {
          cairo_set_line_width (cr, 2.0);
          /* above and below the bar, so no narrow segment is hidden under it */
          cairo_move_to (cr, marker, y - 0.4 * p->em);
          cairo_line_to (cr, marker, y);
          cairo_move_to (cr, marker, y + p->thick);
          cairo_line_to (cr, marker, y + p->thick + 0.4 * p->em);
          vb_chart_set_color (cr, &style->text, 1.0);
          cairo_stroke (cr);
        }
      PangoLayout *l = g_ptr_array_index (p->total_text, b);
      if (l != NULL)
        {
          double w;
          vb_chart_text_size (l, &w, NULL);
          double x = MIN (map_x (p, sum) + 0.4 * p->em, r->x + r->width - w);
          vb_chart_text_draw (t, l, x, y + p->thick / 2, 0, 0.5, &style->text);
        }
    }
  cairo_restore (cr);
  for (guint b = 0; b < chart->bars->len; b++)
    vb_chart_text_draw (t, g_ptr_array_index (p->bar_text, b), r->x - 0.6 * p->em,
                        bar_y (p, b) + p->thick / 2, 1.0, 0.5, &style->text);
}

static void
draw_legend (cairo_t                 *cr,
             VbChartText             *t,
             const Plan              *p,
             const VbStackedBarChart *chart,
             const VbChartStyle      *style)
{
  double swatch = 0.8 * p->em;

  for (guint s = 0; s < chart->series->len; s++)
    {
      const VbStackSeries *ser = g_ptr_array_index (chart->series, s);
      const VbChartRect *at = &g_array_index (p->legend_at, VbChartRect, s);
      double x = p->box.legend.x + at->x, y = p->box.legend.y + at->y;
      cairo_rectangle (cr, round (x), round (y + (at->height - swatch) / 2), round (swatch),
                       round (swatch));
      vb_chart_set_color (cr, vb_chart_style_series_color (style, ser->color_index), 1.0);
      cairo_fill (cr);
      vb_chart_text_draw (t, g_ptr_array_index (p->legend_text, s), x + swatch + 0.35 * p->em,
                          y + at->height / 2, 0, 0.5, &style->text);
    }
}

void
vb_stacked_bar_chart_draw (cairo_t                 *cr,
                           const VbStackedBarChart *chart,
                           double                   width,
                           double                   height,
                           const VbChartStyle      *style)
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

  const VbChartRect *r = &p.box.plot;
  draw_axes (cr, &t, &p, style);
  if (!p.empty)
    {
      draw_bars (cr, &t, &p, chart, style);
      draw_legend (cr, &t, &p, chart, style);
    }
  vb_chart_draw_titles (&t, p.title, NULL, &p.box, p.pad, style);
  if (p.x_title != NULL)
    {
      double th = 0;
      if (p.tick_text->len > 0 && g_ptr_array_index (p.tick_text, 0) != NULL)
        vb_chart_text_size (g_ptr_array_index (p.tick_text, 0), NULL, &th);
      vb_chart_text_draw (&t, p.x_title, r->x + r->width / 2,
                          r->y + r->height + 0.4 * p.em + th + 0.3 * p.em, 0.5, 0, &style->text);
    }
  vb_chart_draw_notes (&t, p.caption, p.message, &p.box, style);

  plan_clear (&p);
  vb_chart_text_clear (&t);
  cairo_restore (cr);
}

/* ---- geometry for callers ----------------------------------------------------------- */

void
vb_stacked_bar_chart_get_layout (const VbStackedBarChart *chart,
                                 double                   width,
                                 double                   height,
                                 const VbChartStyle      *style,
                                 VbChartLayout           *layout)
{
  VbChartStyle storage;
  VbChartText t;
  Plan p;

  g_return_if_fail (chart != NULL && layout != NULL);
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  *layout = p.box;
  plan_clear (&p);
  vb_chart_text_clear (&t);
}

gboolean
vb_stacked_bar_chart_get_segment (const VbStackedBarChart *chart,
                                  double                   width,
                                  double                   height,
                                  const VbChartStyle      *style,
                                  guint                    b,
                                  guint                    s,
                                  VbChartRect             *rect)
{
  VbChartStyle storage;
  VbChartText t;
  Plan p;

  g_return_val_if_fail (chart != NULL, FALSE);
  if (b >= chart->bars->len || s >= chart->series->len)
    return FALSE;
  const VbStackBar *bar = g_ptr_array_index (chart->bars, b);
  if (value (bar, s) <= 0)
    return FALSE;
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  double before = 0;
  for (guint k = 0; k < s; k++)
    before += value (bar, k);
  double x0 = map_x (&p, before), x1 = map_x (&p, before + value (bar, s));
  if (rect != NULL)
    *rect = vb_chart_rect (x0, bar_y (&p, b), x1 - x0, p.thick);
  plan_clear (&p);
  vb_chart_text_clear (&t);
  return TRUE;
}

char *
vb_stacked_bar_chart_describe (const VbStackedBarChart *chart)
{
  g_return_val_if_fail (chart != NULL, NULL);

  GString *s = g_string_new ("stacked bar chart");
  g_string_append_printf (s, "; x: %s; bars:", chart->x_label ? chart->x_label : "value");
  for (guint b = 0; b < chart->bars->len; b++)
    {
      const VbStackBar *bar = g_ptr_array_index (chart->bars, b);
      g_string_append_printf (s, "%s %s (", b ? ";" : "", bar->label ? bar->label : "?");
      for (guint k = 0; k < chart->series->len; k++)
        g_string_append_printf (s, "%s%s %g", k ? ", " : "",
                                ((VbStackSeries *) g_ptr_array_index (chart->series, k))->name,
                                value (bar, k));
      g_string_append_c (s, ')');
    }
  return g_string_free (s, FALSE);
}
