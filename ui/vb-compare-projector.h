/* vb-compare-projector.h: the Compare page's view of a projector study (clip-projectors.md
 * §3–§5), free of widgets: the random-weights notice, the loss curves overlaid per
 * projector, and the accuracy/size trade-off scatter (Proxy Top-1 against Params (M), one
 * labelled point per projector, mean over seeds with the spread as an error bar). A
 * projector keeps one colour in every one of these views. */
#pragma once

#include "vb-charts.h"
#include "vb-compare.h"

G_BEGIN_DECLS

/* TRUE when rows is not empty and every row is a projector-study run. */
gboolean        vb_compare_rows_are_projector    (GPtrArray  *rows);
/* The palette index of a projector ("proj-linear" …), stable across views. */
int             vb_compare_projector_color       (const char *projector);
/* What the page says above the table when a row's encoder had random weights; NULL when
 * none had. */
char           *vb_compare_projector_notice      (GPtrArray  *rows);
/* One point per projector, in first-appearance order: x = Params (M), y = the mean Proxy
 * Top-1 over its finished seeds, the bar ± the sample std (two seeds or more). */
VbScatterChart *vb_compare_tradeoff_chart        (GPtrArray  *rows);
/* One series per run, coloured by projector: the training loss per step (smoothed), or
 * with per_epoch the validation loss per epoch. */
VbLineChart    *vb_compare_projector_curves      (VbStore    *store,
                                                  GPtrArray  *rows,
                                                  gboolean    per_epoch);

G_END_DECLS
