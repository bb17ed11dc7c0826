/* vb-chart-style.h: colours and type for the Cairo charts. Light and dark themes share
 * one colour-blind-safe categorical palette (Okabe & Ito, 2008): a run's colour index
 * picks the same hue in every view and both themes. Presentation mode scales type and
 * strokes for a classroom projector. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double r, g, b, a;
} VbRgba;

typedef enum {
  VB_CHART_THEME_LIGHT,
  VB_CHART_THEME_DARK,
} VbChartTheme;

#define VB_CHART_PALETTE_SIZE 8

typedef struct {
  VbChartTheme theme;
  VbRgba       background;      /* filled over the whole chart when draw_background */
  VbRgba       text;            /* title, labels */
  VbRgba       muted_text;      /* tick labels, caption, "No data yet" */
  VbRgba       axis;            /* axis lines and tick marks */
  VbRgba       grid;            /* grid lines */
  VbRgba       good;            /* a Δ in the good direction */
  VbRgba       bad;             /* a Δ in the bad direction */
  VbRgba       warning;         /* a refused Δ (protocols differ) */
  VbRgba       palette[VB_CHART_PALETTE_SIZE];
  const char  *font_family;     /* Pango family list, not owned; "Sans" by default */
  double       font_size;       /* base size in user units (px at 1:1); 12 by default */
  double       font_scale;      /* multiplies every text size and margin; 1 normally */
  double       line_width;      /* series stroke width in user units */
  double       raw_alpha;       /* opacity of the raw "ghost" line under a smoothed one */
  double       band_alpha;      /* opacity of a mean ± spread band */
  gboolean     draw_background;
} VbChartStyle;

/* Fills @style for the theme, normal size. */
void          vb_chart_style_init              (VbChartStyle *style,
                                                VbChartTheme  theme);
/* Large type, thicker strokes, stronger grid: readable from the back of a room. */
void          vb_chart_style_init_presentation (VbChartStyle *style,
                                                VbChartTheme  theme);
/* The palette colour for a run's colour index (any int; wraps around). */
const VbRgba *vb_chart_style_series_color      (const VbChartStyle *style,
                                                int                 color_index);

G_END_DECLS
