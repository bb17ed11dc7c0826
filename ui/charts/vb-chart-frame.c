/* vb-chart-frame.c: title, caption, axis titles and tick labels, shared by the charts. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-frame.h"

#include "vb-chart-axis.h"

void
vb_chart_unref_layout (gpointer layout)
{
  if (layout != NULL)
    g_object_unref (layout);
}

double
vb_chart_line_height (VbChartText *t,
                      VbTextRole   role)
{
  PangoLayout *probe = vb_chart_text_layout (t, role, "Ag0", 0, 0);
  double h;

  vb_chart_text_size (probe, NULL, &h);
  g_object_unref (probe);
  return h;
}

GPtrArray *
vb_chart_tick_layouts (VbChartText *t,
                       GArray      *ticks,
                       double      *max_w,
                       double      *max_h)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (vb_chart_unref_layout);
  double mw = 0, mh = 0;

  for (guint i = 0; i < ticks->len; i++)
    {
      const VbTick *tick = &g_array_index (ticks, VbTick, i);
      PangoLayout *layout = NULL;

      if (tick->label != NULL)
        {
          double w, h;
          layout = vb_chart_text_layout (t, VB_TEXT_TICK, tick->label, 0, 0);
          vb_chart_text_size (layout, &w, &h);
          mw = MAX (mw, w);
          mh = MAX (mh, h);
        }
      g_ptr_array_add (out, layout);
    }
  if (max_w)
    *max_w = mw;
  if (max_h)
    *max_h = mh;
  return out;
}

PangoLayout *
vb_chart_plan_title (VbChartText *t,
                     const char  *title,
                     double       pad,
                     double       inner_w,
                     double      *top,
                     VbChartRect *box)
{
  PangoLayout *layout;
  double w, h;

  if (title == NULL || *title == '\0')
    return NULL;
  layout = vb_chart_text_layout (t, VB_TEXT_TITLE, title, inner_w, 2);
  vb_chart_text_size (layout, &w, &h);
  *box = vb_chart_rect (pad, *top, MIN (w, inner_w), h);
  *top += h + 0.45 * t->em;
  return layout;
}

PangoLayout *
vb_chart_plan_caption (VbChartText *t,
                       const char  *caption,
                       double       pad,
                       double       inner_w,
                       double      *bottom,
                       VbChartRect *box)
{
  PangoLayout *layout;
  double w, h;

  if (caption == NULL || *caption == '\0')
    return NULL;
  layout = vb_chart_text_layout (t, VB_TEXT_SMALL, caption, inner_w, 4);
  vb_chart_text_size (layout, &w, &h);
  *bottom -= h;
  *box = vb_chart_rect (pad, *bottom, MIN (w, inner_w), h);
  *bottom -= 0.7 * t->em;
  return layout;
}

PangoLayout *
vb_chart_plan_y_title (VbChartText *t,
                       const char  *y_label,
                       double       plot_h,
                       double      *left)
{
  PangoLayout *layout;
  double h;

  if (y_label == NULL || *y_label == '\0')
    return NULL;
  /* drawn turned: the plot's height is its width */
  layout = vb_chart_text_layout (t, VB_TEXT_LABEL, y_label, plot_h, 1);
  vb_chart_text_size (layout, NULL, &h);
  *left += h + 0.5 * t->em;
  return layout;
}

void
vb_chart_draw_titles (VbChartText         *t,
                      PangoLayout         *title,
                      PangoLayout         *y_title,
                      const VbChartLayout *box,
                      double               pad,
                      const VbChartStyle  *style)
{
  const VbChartRect *r = &box->plot;

  if (title != NULL)
    vb_chart_text_draw (t, title, box->title.x, box->title.y, 0, 0, &style->text);
  if (y_title != NULL)
    {
      double h;
      vb_chart_text_size (y_title, NULL, &h);
      vb_chart_text_draw_vertical (t, y_title, pad + h / 2, r->y + r->height / 2, &style->text);
    }
}

void
vb_chart_draw_notes (VbChartText         *t,
                     PangoLayout         *caption,
                     PangoLayout         *message,
                     const VbChartLayout *box,
                     const VbChartStyle  *style)
{
  const VbChartRect *r = &box->plot;

  if (caption != NULL)
    vb_chart_text_draw (t, caption, box->caption.x, box->caption.y, 0, 0, &style->muted_text);
  if (message != NULL)
    vb_chart_text_draw (t, message, r->x + r->width / 2, r->y + r->height / 2, 0.5, 0.5,
                        &style->muted_text);
}
