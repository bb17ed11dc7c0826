/* vb-compare-private.h: the projector study's rows and table, kept apart from the
 * VMamba table in vb-compare-projector.c. */
#pragma once

#include "vb-compare.h"
#include "vb-run-config.h"

G_BEGIN_DECLS

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
