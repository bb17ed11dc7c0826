/* vb-compare-profile-table.h: the clip-profile's per-stage tables on the Compare page, a
 * block per resolution as the CLI prints them (vb-compare-clip-profile.c in the engine):
 * Stage | ms | % of total | MACs (G) | GMAC/s, the encoder's total row, and a line per
 * projector for the encoder with it. A grid of selectable labels: a handful of rows, in
 * run order, nothing to sort or scroll, and every number readable and copyable. */
#pragma once

#include <gtk/gtk.h>

#include "vb-compare.h"

G_BEGIN_DECLS

/* Blocks two a line: one per row with a profile, else a line saying it has none. */
GtkWidget  *vb_compare_profile_tables_new      (GPtrArray *rows);
/* The blocks shown. */
guint       vb_compare_profile_tables_n_blocks (GtkWidget *tables);
/* The text of a cell: row 0 is the header, then the stages, then "Encoder total"; NULL
 * out of range. */
const char *vb_compare_profile_tables_get_cell (GtkWidget *tables,
                                                guint      block,
                                                guint      row,
                                                guint      column);

G_END_DECLS
