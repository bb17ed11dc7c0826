/* vb-scan-route.c: gather maps of specs/vmamba.md §3.2 and Vim's middle-cls sequence. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-scan-route.h"

static const struct {
  const char *name;
  const char *label;
  guint       n_routes;
  VbScanRoute routes[VB_SCAN_MAX_ROUTES];
} modes[VB_SCAN_VIEW_N_MODES] = {
  [VB_SCAN_VIEW_4DIR] = { "4dir", "4-dir (Cross-Scan)", 4,
    { VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_COL_FWD, VB_SCAN_ROUTE_ROW_REV, VB_SCAN_ROUTE_COL_REV } },
  /* v052d keeps four parameter groups: each row order is scanned twice */
  [VB_SCAN_VIEW_2DIR] = { "2dir", "2-dir (Bidi-Scan)", 4,
    { VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_REV, VB_SCAN_ROUTE_ROW_REV } },
  [VB_SCAN_VIEW_1DIR] = { "1dir", "1-dir (Unidi-Scan)", 4,
    { VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_FWD } },
  [VB_SCAN_VIEW_LEAN_2DIR] = { "lean2dir", "lean 2-dir (K = 2)", 2,
    { VB_SCAN_ROUTE_ROW_FWD, VB_SCAN_ROUTE_ROW_REV } },
  [VB_SCAN_VIEW_VIM] = { "vim", "Vim (bidirectional 1-D)", 2,
    { VB_SCAN_ROUTE_VIM_FWD, VB_SCAN_ROUTE_VIM_BWD } },
};

const char *
vb_scan_view_mode_to_string (VbScanViewMode mode)
{
  g_return_val_if_fail (mode < VB_SCAN_VIEW_N_MODES, NULL);
  return modes[mode].name;
}

gboolean
vb_scan_view_mode_from_string (const char     *s,
                               VbScanViewMode *mode)
{
  for (guint i = 0; i < VB_SCAN_VIEW_N_MODES; i++)
    if (g_strcmp0 (s, modes[i].name) == 0)
      {
        *mode = i;
        return TRUE;
      }
  return FALSE;
}

const char *
vb_scan_view_mode_label (VbScanViewMode mode)
{
  g_return_val_if_fail (mode < VB_SCAN_VIEW_N_MODES, NULL);
  return modes[mode].label;
}

guint
vb_scan_view_n_routes (VbScanViewMode mode)
{
  g_return_val_if_fail (mode < VB_SCAN_VIEW_N_MODES, 0);
  return modes[mode].n_routes;
}

VbScanRoute
vb_scan_view_route (VbScanViewMode mode,
                    guint          k)
{
  g_return_val_if_fail (mode < VB_SCAN_VIEW_N_MODES, VB_SCAN_ROUTE_ROW_FWD);
  g_return_val_if_fail (k < modes[mode].n_routes, VB_SCAN_ROUTE_ROW_FWD);
  return modes[mode].routes[k];
}

const char *
vb_scan_route_label (VbScanRoute route)
{
  switch (route)
    {
    case VB_SCAN_ROUTE_ROW_FWD:
      return "row-major →";
    case VB_SCAN_ROUTE_COL_FWD:
      return "column-major ↓";
    case VB_SCAN_ROUTE_ROW_REV:
      return "row-major reversed ←";
    case VB_SCAN_ROUTE_COL_REV:
      return "column-major reversed ↑";
    case VB_SCAN_ROUTE_VIM_FWD:
      return "forward";
    case VB_SCAN_ROUTE_VIM_BWD:
      return "backward";
    default:
      return "?";
    }
}

gboolean
vb_scan_grid_size (VbScanViewMode mode,
                   int            stage,
                   int            resolution,
                   int           *rows,
                   int           *cols)
{
  int side;

  if (mode == VB_SCAN_VIEW_VIM)
    side = resolution / 16;   /* Vim-Tiny: 16-px patches, stride 16 */
  else if (stage >= 1 && stage <= 4)
    side = resolution / 4 / (1 << (stage - 1));   /* 4-px stem, then ×½ per stage */
  else
    side = 0;
  *rows = *cols = MAX (side, 0);
  return side > 0;
}

guint
vb_scan_cls_position (int rows,
                      int cols)
{
  return (guint) (rows * cols) / 2;
}

guint
vb_scan_sequence_length (VbScanViewMode mode,
                         int            rows,
                         int            cols)
{
  guint p = (guint) MAX (rows, 0) * (guint) MAX (cols, 0);
  return mode == VB_SCAN_VIEW_VIM && p > 0 ? p + 1 : p;
}

static void
row_major (guint p,
           int   cols,
           int  *row,
           int  *col)
{
  *row = (int) p / cols;
  *col = (int) p % cols;
}

gboolean
vb_scan_route_cell (VbScanRoute route,
                    int         rows,
                    int         cols,
                    guint       l,
                    int        *row,
                    int        *col)
{
  guint n = (guint) rows * (guint) cols;
  guint m = n / 2;

  *row = *col = -1;
  g_return_val_if_fail (rows > 0 && cols > 0, FALSE);

  switch (route)
    {
    case VB_SCAN_ROUTE_ROW_FWD:
      g_return_val_if_fail (l < n, FALSE);
      row_major (l, cols, row, col);
      return TRUE;
    case VB_SCAN_ROUTE_ROW_REV:
      g_return_val_if_fail (l < n, FALSE);
      row_major (n - 1 - l, cols, row, col);
      return TRUE;
    case VB_SCAN_ROUTE_COL_FWD:
    case VB_SCAN_ROUTE_COL_REV:
      g_return_val_if_fail (l < n, FALSE);
      /* the transpose route: position l = w·H + h */
      if (route == VB_SCAN_ROUTE_COL_REV)
        l = n - 1 - l;
      *row = (int) (l % (guint) rows);
      *col = (int) (l / (guint) rows);
      return TRUE;
    case VB_SCAN_ROUTE_VIM_FWD:
    case VB_SCAN_ROUTE_VIM_BWD:
      g_return_val_if_fail (l <= n, FALSE);
      /* the backward branch reads the flipped sequence [.., pm, cls, p(m-1), .., p0] */
      if (route == VB_SCAN_ROUTE_VIM_BWD)
        l = n - l;
      if (l == m)
        return FALSE;
      row_major (l < m ? l : l - 1, cols, row, col);
      return TRUE;
    default:
      g_return_val_if_reached (FALSE);
    }
}
