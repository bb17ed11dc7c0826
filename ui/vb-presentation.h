/* vb-presentation.h: presentation mode (ux.md §5.5) for a classroom projector: the
 * Compare page's selection as full-screen views in large type on black — the comparison
 * table, the Top-1 bars, the throughput bars, the overlaid curves — one per view, stepped
 * with Left/Right, Page Up/Down, space and Backspace (Home, End); a footer with the
 * protocol caption and "n / N"; Escape leaves. Started with F5 from the main window. */
#pragma once

#include <adwaita.h>

#include "vb-compare-page.h"

G_BEGIN_DECLS

#define VB_TYPE_PRESENTATION (vb_presentation_get_type ())
G_DECLARE_FINAL_TYPE (VbPresentation, vb_presentation, VB, PRESENTATION, AdwWindow)

/* The views of what compare shows now; the charts are drawn from the page as it changes,
 * the table is read once. 1280×800 until the caller makes it full screen. */
GtkWidget  *vb_presentation_new            (GtkWindow      *parent,
                                            VbComparePage  *compare);
guint       vb_presentation_get_n_views    (VbPresentation *self);
/* From 0. */
guint       vb_presentation_get_view       (VbPresentation *self);
/* Clamped to the views. */
void        vb_presentation_set_view       (VbPresentation *self,
                                            guint           index);
/* "table", "top1", "throughput", "curves"; "empty" when the selection has nothing. */
const char *vb_presentation_get_view_name  (VbPresentation *self);
/* The texts shown: the view's title, the footer's caption and its counter ("2 / 4"). */
const char *vb_presentation_get_title      (VbPresentation *self);
const char *vb_presentation_get_caption    (VbPresentation *self);
const char *vb_presentation_get_counter    (VbPresentation *self);
/* The table view's cell at row (display order) and column header ("Run", "Model",
 * "Dirs", "ImgSize", "Top-1", "ΔTop-1", "Top-5", "img/s", "Δimg/s", "Params"); NULL when
 * absent (Δ columns need a baseline). */
const char *vb_presentation_get_table_cell (VbPresentation *self,
                                            guint           row,
                                            const char     *column);

G_END_DECLS
