/* vb-scan-chart.h: the scan explorer's picture, a pure Cairo function. One small panel
 * per route (VMamba's parameter groups k, or Vim's forward and backward branches): the
 * patch grid, the cells a route has read so far shaded in its colour-blind-safe palette
 * colour, the current cell in full colour, the recent path as a polyline with an arrow
 * head at the current cell, and a caption. The page animates it by raising step. */
#pragma once

#include <cairo.h>

#include "vb-chart-style.h"
#include "vb-charts-types.h"
#include "vb-scan-route.h"

G_BEGIN_DECLS

typedef struct {
  VbScanViewMode mode;
  int            rows, cols;   /* the patch grid, vb_scan_grid_size() */
  guint          step;         /* tokens read so far by every route, 0..sequence length */
  gboolean       hide_path;    /* shading only, no polyline or arrow */
  const char    *title;        /* NULL: mode, grid and step */
} VbScanView;

typedef struct {
  VbScanRoute route;
  VbChartRect grid;      /* rows × cols cells of side cell, starting at grid.x, grid.y */
  double      cell;
  VbChartRect cls;       /* Vim's class token, right of the grid; zero size otherwise */
  VbChartRect caption;
} VbScanPanel;

typedef struct {
  VbRgba lines;          /* between cells */
  VbRgba unvisited;
  VbRgba visited;        /* opaque tint of the route's colour */
  VbRgba current;        /* the route's colour */
  VbRgba path;
} VbScanColors;

/* The colours a route is drawn in (palette index by route, so an order keeps its hue
 * across modes). style NULL: light theme. */
void        vb_scan_colors    (const VbChartStyle *style,
                               VbScanRoute         route,
                               VbScanColors       *colors);
/* Where the panels go for a width × height drawing; returns how many were filled
 * (vb_scan_view_n_routes()). */
guint       vb_scan_layout    (const VbScanView   *view,
                               double              width,
                               double              height,
                               const VbChartStyle *style,
                               VbScanPanel         panels[VB_SCAN_MAX_ROUTES]);
/* The cell at row, col of a panel (lines between cells included). */
VbChartRect vb_scan_cell_rect (const VbScanPanel  *panel,
                               int                 row,
                               int                 col);
/* Draws into cr within 0..width × 0..height and nowhere else. style NULL: light theme. */
void        vb_scan_draw      (cairo_t            *cr,
                               double              width,
                               double              height,
                               const VbScanView   *view,
                               const VbChartStyle *style);

G_END_DECLS
