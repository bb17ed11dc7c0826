/* vb-scan-route.h: the token orders the scan explorer draws. VMamba's SS2D modes
 * (specs/vmamba.md §3: four parameter groups k, each reading the patch grid in one of
 * four orders) and Vim's bidirectional 1-D order with the class token in the middle of
 * the sequence (specs/vim.md §2). GLib only: the drawing, the page and the tests share it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VB_SCAN_VIEW_4DIR,       /* Cross-Scan: row-fwd, col-fwd, row-rev, col-rev */
  VB_SCAN_VIEW_2DIR,       /* Bidi-Scan (v052d): row-fwd, row-fwd, row-rev, row-rev */
  VB_SCAN_VIEW_1DIR,       /* Unidi-Scan (v051d): row-fwd four times */
  VB_SCAN_VIEW_LEAN_2DIR,  /* VisionBench only, K = 2: row-fwd, row-rev */
  VB_SCAN_VIEW_VIM,        /* Vim: forward and backward over [p0..p(m-1), cls, pm..] */
  VB_SCAN_VIEW_N_MODES
} VbScanViewMode;

typedef enum {
  VB_SCAN_ROUTE_ROW_FWD,
  VB_SCAN_ROUTE_COL_FWD,
  VB_SCAN_ROUTE_ROW_REV,
  VB_SCAN_ROUTE_COL_REV,
  VB_SCAN_ROUTE_VIM_FWD,
  VB_SCAN_ROUTE_VIM_BWD,
} VbScanRoute;

#define VB_SCAN_MAX_ROUTES 4

/* "4dir", "2dir", "1dir", "lean2dir", "vim" (the engine's names, plus vim). */
const char *vb_scan_view_mode_to_string   (VbScanViewMode  mode);
gboolean    vb_scan_view_mode_from_string (const char     *s,
                                           VbScanViewMode *mode);
/* For people: "4-dir (Cross-Scan)", … */
const char *vb_scan_view_mode_label       (VbScanViewMode  mode);

/* The number of routes drawn (parameter groups K for VMamba, 2 for Vim). */
guint       vb_scan_view_n_routes         (VbScanViewMode  mode);
VbScanRoute vb_scan_view_route            (VbScanViewMode  mode,
                                           guint           k);
/* "row-major →", "column-major ↓", … */
const char *vb_scan_route_label           (VbScanRoute     route);

/* The patch grid a scan runs over. VMamba: stage 1..4 of the hierarchy, side
 * resolution / 4 / 2^(stage − 1) (56, 28, 14, 7 at 224). Vim: one grid of 16-px patches,
 * side resolution / 16 (14 at 224); stage is ignored. FALSE when the grid is empty. */
gboolean    vb_scan_grid_size             (VbScanViewMode  mode,
                                           int             stage,
                                           int             resolution,
                                           int            *rows,
                                           int            *cols);

/* Tokens in one route's sequence: rows · cols, plus the class token for Vim. */
guint       vb_scan_sequence_length       (VbScanViewMode  mode,
                                           int             rows,
                                           int             cols);
/* Where the class token sits in Vim's sequence: P / 2 (slot 98 at 224). */
guint       vb_scan_cls_position          (int             rows,
                                           int             cols);

/* The cell that route reads at sequence position l (0-based). Returns FALSE for
 * Vim's class token, which has no cell (row and col are then -1). */
gboolean    vb_scan_route_cell            (VbScanRoute     route,
                                           int             rows,
                                           int             cols,
                                           guint           l,
                                           int            *row,
                                           int            *col);

G_END_DECLS
