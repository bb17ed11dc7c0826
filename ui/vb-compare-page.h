/* vb-compare-page.h: an experiment group, or runs picked by hand → the study's
 * side-by-side table (sortable, Δ and %Δ against a chosen baseline, best in bold, img/s
 * Δ refused between different protocol cards), Top-1 and throughput bar charts and the
 * runs' curves overlaid, with exports (table as CSV, Markdown, LaTeX; Top-1 chart as PNG,
 * SVG, PDF) and "Copy table" (Markdown on the clipboard). */
#pragma once

#include <adwaita.h>

#include "vb-charts.h"
#include "vb-compare.h"
#include "vb-session.h"

G_BEGIN_DECLS

#define VB_TYPE_COMPARE_PAGE (vb_compare_page_get_type ())
G_DECLARE_FINAL_TYPE (VbComparePage, vb_compare_page, VB, COMPARE_PAGE, AdwBin)

GtkWidget  *vb_compare_page_new          (VbSession     *session);
/* Re-reads the groups (and the shown group's runs) from the database. */
void        vb_compare_page_refresh      (VbComparePage *self);
gboolean    vb_compare_page_select_group (VbComparePage *self,
                                          const char    *group_id);
/* Shows these runs (any groups), in this order, instead of a group. */
void        vb_compare_page_show_runs    (VbComparePage *self,
                                          const gint64  *run_ids,
                                          guint          n);
/* The group shown; NULL when none is, or the runs were picked by hand. */
const char *vb_compare_page_get_group    (VbComparePage *self);
guint       vb_compare_page_get_n_rows   (VbComparePage *self);
/* The text of a table cell: row from 0 in display (sorted) order, column by its header
 * ("Model", "Dirs", "ImgSize", "Top-1", "ΔTop-1", "%ΔTop-1", "Top-5", "ΔTop-5", "%ΔTop-5",
 * "img/s", "Δimg/s", "%Δimg/s", "Params", "FLOPs", "Status"). NULL when out of range. */
char       *vb_compare_page_dup_cell     (VbComparePage *self,
                                          guint          row,
                                          const char    *column);
/* How the cell is drawn: bold (best of its column), flagged (red: a refused Δ) and its
 * tooltip (free it). FALSE when out of range. */
gboolean    vb_compare_page_get_cell_style (VbComparePage *self,
                                            guint          row,
                                            const char    *column,
                                            gboolean      *bold,
                                            gboolean      *flagged,
                                            char         **tooltip);
/* The run shown in display row row, 0 when out of range. */
gint64      vb_compare_page_get_row_run  (VbComparePage *self,
                                          guint          row);
/* Sorts as a click on the column's header does. FALSE for an unknown column. */
gboolean    vb_compare_page_sort_by      (VbComparePage *self,
                                          const char    *column,
                                          gboolean       ascending);
/* The Δ columns' baseline, as the Baseline menu picks it; 0: none. FALSE when run_id is
 * not shown. */
gboolean    vb_compare_page_set_baseline (VbComparePage *self,
                                          gint64         run_id);
gint64      vb_compare_page_get_baseline (VbComparePage *self);
VbBarChart  *vb_compare_page_get_accuracy_chart   (VbComparePage *self);
VbBarChart  *vb_compare_page_get_throughput_chart (VbComparePage *self);
VbLineChart *vb_compare_page_get_curves_chart     (VbComparePage *self);
/* A projector study (every shown run has model.arch "projector"): the study's columns
 * ("Projector", "Seed", "Test loss", "ΔTest loss", "Proxy Top-1", "ΔProxy Top-1",
 * "Params (M)", "FLOPs (M)", "Runtime ms", "%ΔRuntime", "Encoder", "Status") replace
 * VMamba's, the trade-off scatter replaces the Top-1 bars (and is what chart exports and
 * Copy Chart write), the throughput bars are hidden, the curves are per projector
 * ("Val loss" or "Train loss"). */
gboolean     vb_compare_page_is_projector         (VbComparePage *self);
VbScatterChart *vb_compare_page_get_scatter_chart (VbComparePage *self);
/* A clip-profile (every shown run has model.arch "clip-profile"): per-stage tables, a
 * block per run with a profile, under the runs' table; the stacked bar replaces the Top-1
 * bars (and is what chart exports and Copy Chart write); no throughput bars, no curves. */
gboolean     vb_compare_page_is_clip_profile      (VbComparePage *self);
VbStackedBarChart *vb_compare_page_get_stacked_chart (VbComparePage *self);
guint        vb_compare_page_get_profile_blocks   (VbComparePage *self);
/* A cell of block's table: row 0 the header ("Stage", "ms", "% of total", "MACs (G)",
 * "GMAC/s"), then a row per stage, then "Encoder total"; NULL out of range. */
const char  *vb_compare_page_get_profile_cell     (VbComparePage *self,
                                                   guint          block,
                                                   guint          row,
                                                   guint          column);
/* The notice shown above the table (random encoder weights); NULL when hidden. */
const char  *vb_compare_page_get_notice           (VbComparePage *self);
gboolean     vb_compare_page_column_is_visible    (VbComparePage *self,
                                                   const char    *column);
/* The shown table as the CLI renders it, Δ against the chosen baseline; NULL when there
 * is none. */
char       *vb_compare_page_dup_table    (VbComparePage *self,
                                          VbTableFormat  format);
/* The chart size chosen for exports. */
void        vb_compare_page_get_chart_size (VbComparePage *self,
                                            int           *width,
                                            int           *height);
/* What the Export menu does after the file chooser: the table or the chart, by path's
 * extension (.csv .md .tex .png .svg .pdf). */
gboolean    vb_compare_page_export       (VbComparePage *self,
                                          const char    *path,
                                          GError       **error);

G_END_DECLS
