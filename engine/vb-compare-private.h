/* vb-compare-private.h: the projector study's and the clip profile's rows and tables,
 * kept apart from the VMamba table (vb-compare-projector.c, vb-compare-clip-profile.c),
 * and the table plumbing they share (vb-compare.c). */
#pragma once

#include "vb-compare.h"
#include "vb-run-config.h"

G_BEGIN_DECLS

/* printf of v with f, or "—" when v is NAN */
char    *vb_compare_fmt          (double v, const char *f);
/* s as a cell of format: CSV quotes it where it must, LaTeX escapes &%$#_{}; text and
 * Markdown take it as it is */
char    *vb_compare_escape       (const char *s, VbTableFormat format);
/* Appends cells (n_cols a row, row 0 the header) in format: text aligns the columns (to
 * the right where right[c]) under a rule; Markdown and LaTeX align the same columns. */
void     vb_compare_append_table (GString *out, GPtrArray *cells, int n_cols,
                                  const gboolean *right, VbTableFormat format);

/* Fills a projector-study row from its config and the result artifact its run wrote;
 * a run without one (failed, cancelled, still running) keeps NAN metrics. FALSE only
 * when the store fails. */
gboolean vb_compare_fill_projector   (VbCompareRow *row, VbStore *store,
                                      const VbRunConfig *rc, GError **error);
char    *vb_compare_render_projector (GPtrArray *rows, VbTableFormat format);

/* The same for a clip-profile run (vb-compare-clip-profile.c). */
gboolean vb_compare_fill_clip_profile   (VbCompareRow *row, VbStore *store,
                                         const VbRunConfig *rc, GError **error);
char    *vb_compare_render_clip_profile (GPtrArray *rows, VbTableFormat format);

G_END_DECLS
