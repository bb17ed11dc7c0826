/* vb-scatter-chart.c: labelled points with error bars on two linear axes. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-scatter-chart.h"

#include <math.h>
#include <string.h>

#include "vb-chart-axis.h"
#include "vb-chart-frame.h"

/* ---- data -------------------------------------------------------------------------- */

static void
point_free (gpointer data)
{
  VbScatterPoint *p = data;

  g_free (p->label);
  g_free (p);
}

VbScatterChart *
vb_scatter_chart_new (void)
{
  VbScatterChart *chart = g_new0 (VbScatterChart, 1);

  chart->x_auto = chart->y_auto = TRUE;
  chart->points = g_ptr_array_new_with_free_func (point_free);
  return chart;
}

void
vb_scatter_chart_free (VbScatterChart *chart)
{
  if (chart == NULL)
    return;
  g_free (chart->title);
  g_free (chart->x_label);
  g_free (chart->y_label);
  g_free (chart->caption);
  g_ptr_array_unref (chart->points);
  g_free (chart);
}

void
vb_scatter_chart_set_title (VbScatterChart *chart,
                            const char     *title)
{
  vb_chart_set_string (&chart->title, title);
}

void
vb_scatter_chart_set_labels (VbScatterChart *chart,
                             const char     *x_label,
                             const char     *y_label)
{
  vb_chart_set_string (&chart->x_label, x_label);
  vb_chart_set_string (&chart->y_label, y_label);
}

void
vb_scatter_chart_set_caption (VbScatterChart *chart,
                              const char     *caption)
{
  vb_chart_set_string (&chart->caption, caption);
}

VbScatterPoint *
vb_scatter_chart_add_point (VbScatterChart *chart,
                            const char     *label,
                            int             color_index,
                            double          x,
                            double          y)
{
  VbScatterPoint *p = g_new0 (VbScatterPoint, 1);

  p->label = g_strdup (label);
  p->color_index = color_index;
  p->x = x;
  p->y = y;
  p->y_lo = p->y_hi = NAN;
  g_ptr_array_add (chart->points, p);
  return p;
}

/* ---- plan -------------------------------------------------------------------------- */

typedef struct {
  VbChartLayout box;
  double        em, pad, radius;
  double        x_lo, x_hi, y_lo, y_hi;
  gboolean      empty;
  GArray       *x_ticks, *y_ticks;          /* VbTick */
  GPtrArray    *x_tick_text, *y_tick_text;  /* PangoLayout* or NULL per tick */
  PangoLayout  *title, *x_title, *y_title, *caption, *message;
  GPtrArray    *labels;                     /* PangoLayout* or NULL per point */
  GArray       *label_box;                  /* VbChartRect per point */
  GArray       *drawn;                      /* gboolean per point */
} Plan;

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
  g_clear_pointer (&p->labels, g_ptr_array_unref);
  g_clear_pointer (&p->label_box, g_array_unref);
  g_clear_pointer (&p->drawn, g_array_unref);
}

static gboolean
point_finite (const VbScatterPoint *pt)
{
  return isfinite (pt->x) && isfinite (pt->y);
}

/* The data range (error bars included), padded so that points and labels clear the
 * frame; a single value gets a span of its own. */
static void
auto_range (const VbScatterChart *chart,
            gboolean              along_x,
            double               *lo,
            double               *hi)
{
  double a = INFINITY, b = -INFINITY;

  for (guint i = 0; i < chart->points->len; i++)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      if (!point_finite (pt))
        continue;
      double v = along_x ? pt->x : pt->y;
      a = MIN (a, v);
      b = MAX (b, v);
      if (!along_x && isfinite (pt->y_lo) && isfinite (pt->y_hi))
        {
          a = MIN (a, pt->y_lo);
          b = MAX (b, pt->y_hi);
        }
    }
  if (!isfinite (a))
    {
      a = 0;
      b = 1;
    }
  double span = b - a;
  if (span <= 0)
    span = fabs (a) > 0 ? fabs (a) * 0.2 : 1;
  /* labels sit right of their points: more room on the right */
  *lo = a - span * (along_x ? 0.12 : 0.12);
  *hi = b + span * (along_x ? 0.30 : 0.12);
}

static double
map_x (const Plan *p,
       double      v)
{
  const VbChartRect *r = &p->box.plot;
  return r->x + (v - p->x_lo) / (p->x_hi - p->x_lo) * r->width;
}

static double
map_y (const Plan *p,
       double      v)
{
  const VbChartRect *r = &p->box.plot;
  return r->y + r->height - (v - p->y_lo) / (p->y_hi - p->y_lo) * r->height;
}

static gboolean
overlaps (const VbChartRect *a,
          const VbChartRect *b)
{
  return a->x < b->x + b->width && b->x < a->x + a->width
         && a->y < b->y + b->height && b->y < a->y + a->height;
}

/* Right of the point, else left of it; then the first vertical offset that clears the
 * labels already placed; always inside the plot. */
static VbChartRect
place_label (const Plan  *p,
             double       px,
             double       py,
             double       w,
             double       h,
             guint        n_placed)
{
  const VbChartRect *r = &p->box.plot;
  double gap = p->radius + 0.35 * p->em;
  double x = px + gap;

  if (x + w > r->x + r->width)
    x = px - gap - w;
  x = CLAMP (x, r->x, MAX (r->x, r->x + r->width - w));
  static const double offsets[] = { 0, 1, -1, 2, -2, 3, -3 };
  VbChartRect best = { 0 };
  for (guint o = 0; o < G_N_ELEMENTS (offsets); o++)
    {
      double y = CLAMP (py - h / 2 + offsets[o] * h, r->y, MAX (r->y, r->y + r->height - h));
      VbChartRect cand = vb_chart_rect (x, y, w, h);
      gboolean clear = TRUE;
      for (guint k = 0; k < n_placed && clear; k++)
        {
          const VbChartRect *other = &g_array_index (p->label_box, VbChartRect, k);
          clear = other->width <= 0 || !overlaps (&cand, other);
        }
      if (o == 0)
        best = cand;
      if (clear)
        return cand;
    }
  return best;
}

static void
plan_compute (Plan                 *p,
              VbChartText          *t,
              const VbScatterChart *chart,
              double                width,
              double                height)
{
  double em = t->em, pad = em, w, h;

  memset (p, 0, sizeof *p);
  p->em = em;
  p->pad = pad;
  p->radius = MAX (3.0, round (0.42 * em));

  double top = pad, bottom = height - pad, inner_w = MAX (width - 2 * pad, 1);
  p->title = vb_chart_plan_title (t, chart->title, pad, inner_w, &top, &p->box.title);
  top += 0.5 * em;
  p->caption = vb_chart_plan_caption (t, chart->caption, pad, inner_w, &bottom, &p->box.caption);
  if (chart->x_label != NULL && *chart->x_label != '\0')
    {
      p->x_title = vb_chart_text_layout (t, VB_TEXT_LABEL, chart->x_label, inner_w, 1);
      vb_chart_text_size (p->x_title, NULL, &h);
      bottom -= h + 0.3 * em;
    }

  if (chart->x_auto)
    auto_range (chart, TRUE, &p->x_lo, &p->x_hi);
  else
    p->x_lo = chart->x_min, p->x_hi = chart->x_max;
  if (chart->y_auto)
    auto_range (chart, FALSE, &p->y_lo, &p->y_hi);
  else
    p->y_lo = chart->y_min, p->y_hi = chart->y_max;
  if (!(p->x_hi > p->x_lo))
    p->x_hi = p->x_lo + 1;
  if (!(p->y_hi > p->y_lo))
    p->y_hi = p->y_lo + 1;

  double tick_h, tick_w;
  p->x_ticks = vb_chart_ticks (p->x_lo, p->x_hi, 5, VB_TICK_NUMBER, FALSE);
  p->x_tick_text = vb_chart_tick_layouts (t, p->x_ticks, NULL, &tick_h);
  bottom -= tick_h + 0.4 * em;
  double plot_y = round (top);
  double plot_h = MAX (floor (bottom - plot_y), 8);
  p->y_ticks = vb_chart_ticks (p->y_lo, p->y_hi, MAX (2.0, plot_h / (3 * em)), VB_TICK_NUMBER,
                               FALSE);
  p->y_tick_text = vb_chart_tick_layouts (t, p->y_ticks, &tick_w, NULL);

  double left = pad;
  p->y_title = vb_chart_plan_y_title (t, chart->y_label, plot_h, &left);
  left += tick_w + 0.5 * em;
  double plot_x = ceil (left);
  double plot_w = MAX (floor (width - pad - plot_x), 8);
  p->box.plot = vb_chart_rect (plot_x, plot_y, plot_w, plot_h);

  /* labels in point order, each clear of the ones before where it can be */
  guint n = chart->points->len;
  p->labels = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  p->label_box = g_array_sized_new (FALSE, TRUE, sizeof (VbChartRect), n);
  p->drawn = g_array_sized_new (FALSE, TRUE, sizeof (gboolean), n);
  p->empty = TRUE;
  for (guint i = 0; i < n; i++)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      gboolean in = point_finite (pt) && pt->x >= p->x_lo && pt->x <= p->x_hi
                    && pt->y >= p->y_lo && pt->y <= p->y_hi;
      VbChartRect box = { 0 };
      PangoLayout *l = NULL;
      if (in && pt->label != NULL && *pt->label != '\0')
        {
          l = vb_chart_text_layout (t, VB_TEXT_SMALL, pt->label, plot_w, 1);
          vb_chart_text_size (l, &w, &h);
          box = place_label (p, map_x (p, pt->x), map_y (p, pt->y), MIN (w, plot_w), h, i);
        }
      g_ptr_array_add (p->labels, l);
      g_array_append_val (p->label_box, box);
      g_array_append_val (p->drawn, in);
      p->empty &= !in;
    }
  if (p->empty)
    p->message = vb_chart_text_layout (t, VB_TEXT_MESSAGE, "No data yet", plot_w, 1);
}

/* ---- drawing ----------------------------------------------------------------------- */

static void
draw_axes (cairo_t            *cr,
           VbChartText        *t,
           const Plan         *p,
           const VbChartStyle *style)
{
  const VbChartRect *r = &p->box.plot;

  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      double py = vb_chart_snap (map_y (p, g_array_index (p->y_ticks, VbTick, i).value));
      cairo_move_to (cr, r->x, py);
      cairo_line_to (cr, r->x + r->width, py);
    }
  for (guint i = 0; i < p->x_ticks->len; i++)
    {
      double px = vb_chart_snap (map_x (p, g_array_index (p->x_ticks, VbTick, i).value));
      cairo_move_to (cr, px, r->y);
      cairo_line_to (cr, px, r->y + r->height);
    }
  vb_chart_set_color (cr, &style->grid, 1.0);
  cairo_stroke (cr);
  cairo_rectangle (cr, vb_chart_snap (r->x), vb_chart_snap (r->y), floor (r->width),
                   floor (r->height));
  vb_chart_set_color (cr, &style->axis, 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);

  for (guint i = 0; i < p->y_ticks->len; i++)
    {
      PangoLayout *l = g_ptr_array_index (p->y_tick_text, i);
      if (l != NULL)
        vb_chart_text_draw (t, l, r->x - 0.5 * p->em,
                            map_y (p, g_array_index (p->y_ticks, VbTick, i).value), 1.0, 0.5,
                            &style->muted_text);
    }
  for (guint i = 0; i < p->x_ticks->len; i++)
    {
      PangoLayout *l = g_ptr_array_index (p->x_tick_text, i);
      if (l != NULL)
        vb_chart_text_draw (t, l, map_x (p, g_array_index (p->x_ticks, VbTick, i).value),
                            r->y + r->height + 0.4 * p->em, 0.5, 0.0, &style->muted_text);
    }
}

static void
draw_points (cairo_t              *cr,
             VbChartText          *t,
             const Plan           *p,
             const VbScatterChart *chart,
             const VbChartStyle   *style)
{
  const VbChartRect *r = &p->box.plot;
  double cap = 0.35 * p->em;

  /* everything of a point stays in the plot, even with a fixed range */
  cairo_save (cr);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_clip (cr);
  for (guint i = 0; i < chart->points->len; i++)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      if (!g_array_index (p->drawn, gboolean, i))
        continue;
      const VbRgba *color = vb_chart_style_series_color (style, pt->color_index);
      double px = map_x (p, pt->x), py = map_y (p, pt->y);
      if (isfinite (pt->y_lo) && isfinite (pt->y_hi) && pt->y_hi > pt->y_lo)
        {
          double x = vb_chart_snap (px), y0 = map_y (p, pt->y_lo), y1 = map_y (p, pt->y_hi);
          cairo_set_line_width (cr, MAX (1.0, style->line_width * 0.75));
          cairo_move_to (cr, x, y0);
          cairo_line_to (cr, x, y1);
          cairo_move_to (cr, x - cap, vb_chart_snap (y0));
          cairo_line_to (cr, x + cap, vb_chart_snap (y0));
          cairo_move_to (cr, x - cap, vb_chart_snap (y1));
          cairo_line_to (cr, x + cap, vb_chart_snap (y1));
          vb_chart_set_color (cr, color, 1.0);
          cairo_stroke (cr);
        }
      cairo_arc (cr, px, py, p->radius, 0, 2 * G_PI);
      vb_chart_set_color (cr, color, 1.0);
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1.0);
      vb_chart_set_color (cr, &style->background, 0.9);
      cairo_stroke (cr);
    }
  for (guint i = 0; i < chart->points->len; i++)
    {
      PangoLayout *l = g_ptr_array_index (p->labels, i);
      const VbChartRect *box = &g_array_index (p->label_box, VbChartRect, i);
      if (l != NULL)
        vb_chart_text_draw (t, l, box->x, box->y, 0, 0, &style->text);
    }
  cairo_restore (cr);
}

void
vb_scatter_chart_draw (cairo_t              *cr,
                       const VbScatterChart *chart,
                       double                width,
                       double                height,
                       const VbChartStyle   *style)
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
    draw_points (cr, &t, &p, chart, style);
  vb_chart_draw_titles (&t, p.title, p.y_title, &p.box, p.pad, style);
  if (p.x_title != NULL)
    {
      double th = 0;
      if (p.x_tick_text->len > 0 && g_ptr_array_index (p.x_tick_text, 0) != NULL)
        vb_chart_text_size (g_ptr_array_index (p.x_tick_text, 0), NULL, &th);
      vb_chart_text_draw (&t, p.x_title, r->x + r->width / 2,
                          r->y + r->height + 0.4 * p.em + th + 0.3 * p.em, 0.5, 0, &style->text);
    }
  vb_chart_draw_notes (&t, p.caption, p.message, &p.box, style);

  plan_clear (&p);
  vb_chart_text_clear (&t);
  cairo_restore (cr);
}

/* ---- geometry for callers ---------------------------------------------------------- */

void
vb_scatter_chart_get_layout (const VbScatterChart *chart,
                             double                width,
                             double                height,
                             const VbChartStyle   *style,
                             VbChartLayout        *layout)
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
vb_scatter_chart_get_point (const VbScatterChart *chart,
                            double                width,
                            double                height,
                            const VbChartStyle   *style,
                            guint                 i,
                            double               *x,
                            double               *y,
                            VbChartRect          *label)
{
  VbChartStyle storage;
  VbChartText t;
  Plan p;

  g_return_val_if_fail (chart != NULL, FALSE);
  if (i >= chart->points->len)
    return FALSE;
  style = vb_chart_style_or_default (style, &storage);
  vb_chart_text_init (&t, NULL, style);
  plan_compute (&p, &t, chart, MAX (width, 1), MAX (height, 1));
  gboolean drawn = g_array_index (p.drawn, gboolean, i);
  if (drawn)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      if (x != NULL)
        *x = map_x (&p, pt->x);
      if (y != NULL)
        *y = map_y (&p, pt->y);
      if (label != NULL)
        *label = g_array_index (p.label_box, VbChartRect, i);
    }
  plan_clear (&p);
  vb_chart_text_clear (&t);
  return drawn;
}

char *
vb_scatter_chart_describe (const VbScatterChart *chart)
{
  g_return_val_if_fail (chart != NULL, NULL);

  GString *s = g_string_new ("scatter chart");
  g_string_append_printf (s, "; x: %s; y: %s; points:", chart->x_label ? chart->x_label : "x",
                          chart->y_label ? chart->y_label : "y");
  for (guint i = 0; i < chart->points->len; i++)
    {
      const VbScatterPoint *pt = g_ptr_array_index (chart->points, i);
      g_string_append_printf (s, "%s %s (%g, %g", i ? "," : "", pt->label ? pt->label : "?",
                              pt->x, pt->y);
      if (isfinite (pt->y_lo) && isfinite (pt->y_hi))
        g_string_append_printf (s, ", y %g…%g", pt->y_lo, pt->y_hi);
      g_string_append_c (s, ')');
    }
  return g_string_free (s, FALSE);
}
