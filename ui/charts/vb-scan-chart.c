/* vb-scan-chart.c: panels of the scan explorer. Cells are filled without antialiasing on
 * whole pixels, so every cell has exactly one colour (crisp on screen, exact in tests);
 * the path and the arrow are antialiased on top. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-scan-chart.h"

#include <math.h>

#include "vb-chart-private.h"

/* a full path on larger grids hides the shading: draw only the last few rows' worth */
#define FULL_PATH_MAX_CELLS 256

static VbRgba
mix (const VbRgba *a,
     const VbRgba *b,
     double        t)
{
  VbRgba c = { a->r + (b->r - a->r) * t, a->g + (b->g - a->g) * t, a->b + (b->b - a->b) * t, 1.0 };
  return c;
}

static int
route_color_index (VbScanRoute route)
{
  switch (route)
    {
    case VB_SCAN_ROUTE_ROW_FWD:
    case VB_SCAN_ROUTE_VIM_FWD:
      return 0;   /* blue */
    case VB_SCAN_ROUTE_COL_FWD:
      return 1;   /* orange */
    case VB_SCAN_ROUTE_ROW_REV:
    case VB_SCAN_ROUTE_VIM_BWD:
      return 2;   /* bluish green */
    case VB_SCAN_ROUTE_COL_REV:
      return 3;   /* vermillion */
    default:
      return 7;
    }
}

void
vb_scan_colors (const VbChartStyle *style,
                VbScanRoute         route,
                VbScanColors       *colors)
{
  VbChartStyle storage;
  const VbRgba *hue;

  style = vb_chart_style_or_default (style, &storage);
  hue = vb_chart_style_series_color (style, route_color_index (route));
  colors->lines = mix (&style->background, &style->muted_text, 0.35);
  colors->unvisited = style->grid;
  colors->unvisited.a = 1.0;
  colors->visited = mix (&style->background, hue, 0.4);
  colors->current = *hue;
  colors->current.a = 1.0;
  colors->path = style->text;
}

static double
em_of (const VbChartStyle *style)
{
  return style->font_size * style->font_scale;
}

guint
vb_scan_layout (const VbScanView   *view,
                double              width,
                double              height,
                const VbChartStyle *style,
                VbScanPanel         panels[VB_SCAN_MAX_ROUTES])
{
  VbChartStyle storage;
  guint n;

  g_return_val_if_fail (view != NULL && view->mode < VB_SCAN_VIEW_N_MODES, 0);
  style = vb_chart_style_or_default (style, &storage);
  n = vb_scan_view_n_routes (view->mode);
  if (view->rows <= 0 || view->cols <= 0)
    return 0;

  double em = em_of (style);
  double margin = 0.75 * em, gap = em;
  double title_h = 2.2 * em, caption_h = 1.8 * em;
  double area_x = margin, area_y = margin + title_h;
  double area_w = MAX (width - 2 * margin, 0), area_h = MAX (height - area_y - margin, 0);
  /* Vim's class token sits half a cell right of the grid */
  double extra = view->mode == VB_SCAN_VIEW_VIM ? 1.5 : 0.0;

  /* the arrangement (columns × rows of panels) that gives the largest cells */
  guint best_cols = 1;
  double best_cell = -1;
  for (guint c = 1; c <= n; c++)
    {
      guint r = (n + c - 1) / c;
      double pw = (area_w - (c - 1) * gap) / c;
      double ph = (area_h - (r - 1) * gap) / r - caption_h;
      double cell = MIN (pw / (view->cols + extra), ph / view->rows);
      if (cell > best_cell + 1e-9)
        {
          best_cell = cell;
          best_cols = c;
        }
    }
  double cell = MAX (best_cell, 0);
  if (cell >= 3)
    cell = floor (cell);   /* whole pixels: crisp lines and one colour per cell */

  guint n_cols = best_cols, n_rows = (n + n_cols - 1) / n_cols;
  double pw = (area_w - (n_cols - 1) * gap) / n_cols;
  double ph = (area_h - (n_rows - 1) * gap) / n_rows;
  double content_w = cell * (view->cols + extra);
  double content_h = cell * view->rows + caption_h;
  for (guint k = 0; k < n; k++)
    {
      VbScanPanel *p = &panels[k];
      double bx = area_x + (k % n_cols) * (pw + gap);
      double by = area_y + (k / n_cols) * (ph + gap);
      double gx = round (bx + (pw - content_w) / 2);
      double gy = round (by + (ph - content_h) / 2);

      p->route = vb_scan_view_route (view->mode, k);
      p->cell = cell;
      p->grid = vb_chart_rect (gx, gy, cell * view->cols, cell * view->rows);
      if (view->mode == VB_SCAN_VIEW_VIM)
        p->cls = vb_chart_rect (gx + cell * (view->cols + 0.5),
                                gy + cell * floor ((view->rows - 1) / 2.0), cell, cell);
      else
        p->cls = vb_chart_rect (0, 0, 0, 0);
      p->caption = vb_chart_rect (bx, gy + p->grid.height, pw, caption_h);
    }
  return n;
}

VbChartRect
vb_scan_cell_rect (const VbScanPanel *panel,
                   int                row,
                   int                col)
{
  return vb_chart_rect (panel->grid.x + col * panel->cell, panel->grid.y + row * panel->cell,
                        panel->cell, panel->cell);
}

static double
line_gap (double cell)
{
  return cell >= 6 ? 1 : 0;
}

static void
fill_cell (cairo_t           *cr,
           const VbChartRect *r,
           const VbRgba      *color)
{
  double g = line_gap (r->width);

  vb_chart_set_color (cr, color, 1.0);
  cairo_rectangle (cr, r->x + g, r->y + g, r->width - g, r->height - g);
  cairo_fill (cr);
}

/* The centre of what route reads at position l: a cell, or Vim's class token. */
static void
position_center (const VbScanView  *view,
                 const VbScanPanel *p,
                 guint              l,
                 double            *x,
                 double            *y)
{
  int row, col;

  if (vb_scan_route_cell (p->route, view->rows, view->cols, l, &row, &col))
    {
      VbChartRect r = vb_scan_cell_rect (p, row, col);
      *x = r.x + r.width / 2 + line_gap (p->cell) / 2;
      *y = r.y + r.height / 2 + line_gap (p->cell) / 2;
    }
  else
    {
      *x = p->cls.x + p->cls.width / 2 + line_gap (p->cell) / 2;
      *y = p->cls.y + p->cls.height / 2 + line_gap (p->cell) / 2;
    }
}

static void
draw_cells (cairo_t            *cr,
            const VbScanView   *view,
            const VbScanPanel  *p,
            const VbScanColors *colors,
            guint               step)
{
  double g = line_gap (p->cell);

  cairo_save (cr);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  vb_chart_set_color (cr, &colors->lines, 1.0);
  cairo_rectangle (cr, p->grid.x, p->grid.y, p->grid.width + g, p->grid.height + g);
  if (p->cls.width > 0)
    cairo_rectangle (cr, p->cls.x, p->cls.y, p->cls.width + g, p->cls.height + g);
  cairo_fill (cr);

  for (int row = 0; row < view->rows; row++)
    for (int col = 0; col < view->cols; col++)
      {
        VbChartRect r = vb_scan_cell_rect (p, row, col);
        fill_cell (cr, &r, &colors->unvisited);
      }
  if (p->cls.width > 0)
    fill_cell (cr, &p->cls, &colors->unvisited);

  for (guint l = 0; l < step; l++)
    {
      int row, col;
      const VbRgba *c = l + 1 == step ? &colors->current : &colors->visited;
      if (vb_scan_route_cell (p->route, view->rows, view->cols, l, &row, &col))
        {
          VbChartRect r = vb_scan_cell_rect (p, row, col);
          fill_cell (cr, &r, c);
        }
      else
        fill_cell (cr, &p->cls, c);
    }
  cairo_restore (cr);
}

static void
draw_path (cairo_t            *cr,
           const VbScanView   *view,
           const VbScanPanel  *p,
           const VbScanColors *colors,
           const VbChartStyle *style,
           guint               step)
{
  guint first = 0;
  double x = 0, y = 0, px = 0, py = 0;

  if (step == 0)
    return;
  if ((guint) (view->rows * view->cols) > FULL_PATH_MAX_CELLS)
    first = step > (guint) (2 * view->cols + 1) ? step - (guint) (2 * view->cols + 1) : 0;

  cairo_save (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_width (cr, CLAMP (p->cell * 0.12, 1.0, 3.0) * style->line_width / 1.75);
  for (guint l = first; l < step; l++)
    {
      px = x;
      py = y;
      position_center (view, p, l, &x, &y);
      if (l == first)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  vb_chart_set_color (cr, &colors->path, 0.75);
  cairo_stroke (cr);

  /* the arrow head points along the last step; a lone first cell gets a dot */
  /* readable on a 56 × 56 grid, not a blot on a 2 × 2 one */
  double a = CLAMP (p->cell, 12, 28);
  double dx = x - px, dy = y - py, len = hypot (dx, dy);
  vb_chart_set_color (cr, &colors->path, 1.0);
  if (step - first < 2 || len < 1e-9)
    {
      cairo_arc (cr, x, y, 0.22 * a, 0, 2 * G_PI);
    }
  else
    {
      dx /= len;
      dy /= len;
      cairo_move_to (cr, x + dx * 0.42 * a, y + dy * 0.42 * a);
      cairo_line_to (cr, x - dx * 0.25 * a - dy * 0.3 * a, y - dy * 0.25 * a + dx * 0.3 * a);
      cairo_line_to (cr, x - dx * 0.25 * a + dy * 0.3 * a, y - dy * 0.25 * a - dx * 0.3 * a);
      cairo_close_path (cr);
    }
  cairo_fill (cr);
  cairo_restore (cr);
}

void
vb_scan_draw (cairo_t            *cr,
              double              width,
              double              height,
              const VbScanView   *view,
              const VbChartStyle *style)
{
  VbChartStyle storage;
  VbScanPanel panels[VB_SCAN_MAX_ROUTES];
  VbChartText t;
  PangoLayout *layout;

  g_return_if_fail (cr != NULL && view != NULL && view->mode < VB_SCAN_VIEW_N_MODES);
  style = vb_chart_style_or_default (style, &storage);

  vb_chart_begin (cr, width, height, style);
  guint n = vb_scan_layout (view, width, height, style, panels);
  guint length = vb_scan_sequence_length (view->mode, view->rows, view->cols);
  guint step = MIN (view->step, length);
  double em = em_of (style);

  vb_chart_text_init (&t, cr, style);
  g_autofree char *title = view->title
    ? g_strdup (view->title)
    : g_strdup_printf ("%s · %d × %d patches · step %u of %u",
                       vb_scan_view_mode_label (view->mode), view->rows, view->cols, step, length);
  layout = vb_chart_text_layout (&t, VB_TEXT_TITLE, title, width - 1.5 * em, 1);
  vb_chart_text_draw (&t, layout, 0.75 * em, 0.75 * em, 0, 0, &style->text);
  g_object_unref (layout);

  for (guint k = 0; k < n; k++)
    {
      VbScanPanel *p = &panels[k];
      VbScanColors colors;
      vb_scan_colors (style, p->route, &colors);
      draw_cells (cr, view, p, &colors, step);
      if (!view->hide_path)
        draw_path (cr, view, p, &colors, style, step);

      g_autofree char *caption = NULL;
      if (view->mode == VB_SCAN_VIEW_VIM)
        caption = g_strdup_printf ("%s · cls at slot %u", vb_scan_route_label (p->route),
                                   p->route == VB_SCAN_ROUTE_VIM_FWD
                                   ? vb_scan_cls_position (view->rows, view->cols)
                                   : length - 1 - vb_scan_cls_position (view->rows, view->cols));
      else
        caption = g_strdup_printf ("k = %u · %s", k, vb_scan_route_label (p->route));
      if (p->cls.width > 0)
        {
          /* the class token is not a patch: name it */
          layout = vb_chart_text_layout (&t, VB_TEXT_SMALL, "cls", 0, 1);
          vb_chart_text_draw (&t, layout, p->cls.x + p->cls.width / 2, p->cls.y - 0.2 * em, 0.5, 1,
                              &style->muted_text);
          g_object_unref (layout);
        }
      double right = p->cls.width > 0 ? p->cls.x + p->cls.width : p->grid.x + p->grid.width;
      layout = vb_chart_text_layout (&t, VB_TEXT_SMALL, caption, p->caption.width, 1);
      vb_chart_text_draw (&t, layout, (p->grid.x + right) / 2, p->caption.y + 0.35 * em, 0.5, 0,
                          &style->muted_text);
      g_object_unref (layout);
    }
  vb_chart_text_clear (&t);
  cairo_restore (cr);
}
