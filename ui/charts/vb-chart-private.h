/* vb-chart-private.h: text and colour helpers shared by the chart drawing files. Text
 * is laid out with hinted metrics off, so a chart measures the same on an image, SVG
 * or PDF surface and at any export scale. */
#pragma once

#include <cairo.h>
#include <pango/pangocairo.h>

#include "vb-chart-style.h"
#include "vb-charts-types.h"

G_BEGIN_DECLS

typedef enum {
  VB_TEXT_TITLE,     /* 1.3 em, bold */
  VB_TEXT_LABEL,     /* 1 em: axis titles, legend, category names */
  VB_TEXT_TICK,      /* 0.9 em, tabular figures */
  VB_TEXT_SMALL,     /* 0.85 em: caption, Δ labels, notes */
  VB_TEXT_MESSAGE,   /* 1.15 em: "No data yet" */
} VbTextRole;

typedef struct {
  cairo_t            *cr;
  cairo_surface_t    *own_surface;   /* set when measuring without a caller's cr */
  PangoContext       *context;
  const VbChartStyle *style;
  double              em;            /* base font size in user units */
} VbChartText;

/* cr may be NULL: then a private 1×1 image surface is used for measuring only. */
void         vb_chart_text_init   (VbChartText        *t,
                                   cairo_t            *cr,
                                   const VbChartStyle *style);
void         vb_chart_text_clear  (VbChartText        *t);
/* wrap_width ≤ 0: one line, no wrapping. max_lines > 0: ellipsize after that many. */
PangoLayout *vb_chart_text_layout (VbChartText        *t,
                                   VbTextRole          role,
                                   const char         *text,
                                   double              wrap_width,
                                   int                 max_lines);
void         vb_chart_text_size   (PangoLayout        *layout,
                                   double             *width,
                                   double             *height);
/* Draws with the logical box's point (xalign, yalign) ∈ [0,1]² at (x, y). */
void         vb_chart_text_draw   (VbChartText        *t,
                                   PangoLayout        *layout,
                                   double              x,
                                   double              y,
                                   double              xalign,
                                   double              yalign,
                                   const VbRgba       *color);
/* Same, turned 90° counter-clockwise around (x, y), centred there. */
void         vb_chart_text_draw_vertical (VbChartText  *t,
                                          PangoLayout  *layout,
                                          double        x,
                                          double        y,
                                          const VbRgba *color);

void   vb_chart_set_color   (cairo_t      *cr,
                             const VbRgba *color,
                             double        alpha);
/* floor (v) + 0.5: the centre of a pixel, for crisp 1-pixel lines */
double vb_chart_snap        (double        v);
VbChartRect vb_chart_rect   (double x,
                             double y,
                             double width,
                             double height);
const VbChartStyle *vb_chart_style_or_default (const VbChartStyle *style,
                                               VbChartStyle       *storage);
/* Replaces *field by a copy of value (NULL allowed): the data models' text setters. */
void   vb_chart_set_string  (char              **field,
                             const char         *value);
/* The start of every draw: saves cr, clips to the chart's box and paints the background
 * (when the style asks), so nothing lands outside width × height. Pair with cairo_restore. */
void   vb_chart_begin       (cairo_t            *cr,
                             double              width,
                             double              height,
                             const VbChartStyle *style);

G_END_DECLS
