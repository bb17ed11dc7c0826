/* vb-compare-clip-profile.h: the Compare page's view of a clip-profile study (model.arch
 * "clip-profile", vb-clip-profile.h), free of widgets: the random-weights notice and the
 * stacked bar of where one image's time goes, one bar per resolution. The bar keeps the
 * CLI's semantics (vb_clip_profile_bar): patch embedding, the layers as one segment, then
 * the five projectors one after another; those are alternatives (LLaVA runs one), which
 * the chart's marker, legend and caption say. */
#pragma once

#include "vb-charts.h"
#include "vb-compare.h"

G_BEGIN_DECLS

/* TRUE when rows is not empty and every row is a clip-profile run. */
gboolean           vb_compare_rows_are_clip_profile (GPtrArray *rows);
/* What the page says above the table when a run's encoder had random weights; NULL when
 * none had. */
char              *vb_compare_clip_profile_notice   (GPtrArray *rows);
/* One bar per run with a profile, in row order; no bar for a run without one. */
VbStackedBarChart *vb_compare_clip_profile_chart    (GPtrArray *rows);

G_END_DECLS
