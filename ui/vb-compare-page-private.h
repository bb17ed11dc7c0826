/* vb-compare-page-private.h: the Compare page's struct, shared by its files: the page
 * (vb-compare-page.c), its widgets (-layout.c), what its buttons do (-actions.c) and
 * programmatic access (-access.c). */
#pragma once

#include "vb-compare-page.h"

G_BEGIN_DECLS

struct _VbComparePage
{
  AdwBin      parent_instance;

  VbSession  *session;
  GPtrArray  *groups;          /* char* group ids, newest first */
  char       *groups_signature;
  char       *group;           /* shown, unless chosen is set */
  GArray     *chosen;          /* gint64 run ids picked by hand, NULL: a group */
  char       *rows_signature;  /* ids and statuses of the shown runs */
  GPtrArray  *rows;            /* VbCompareRow*, table order (oldest first) */
  GArray     *macs;            /* gint64 per row */
  GPtrArray  *cards;           /* char* eval protocol card per row, NULL = none */
  int         baseline;        /* row index, -1 = none */
  gboolean    projector;       /* every row a projector-study run: the study's view */
  gboolean    clip_profile;    /* every row a clip-profile run: per-stage tables, stacked bar */
  gboolean    updating;

  GtkWidget  *dropdown;
  GtkStringList *labels;
  GtkWidget  *baseline_dropdown;
  GtkStringList *baseline_labels;
  GtkWidget  *curves_dropdown;
  GtkWidget  *pick_list;
  GtkWidget  *stack;
  GtkWidget  *view;
  GtkSortListModel *sorted;
  GtkWidget  *chart;           /* accuracy bars, or the projector study's trade-off scatter:
                                * what the chart exports write */
  GtkWidget  *tp_chart;
  GtkWidget  *tp_card;         /* hidden for a projector study */
  GtkWidget  *notice;          /* random encoder weights */
  GtkWidget  *curves_chart;
  GtkWidget  *curves_card;     /* hidden for a clip-profile: it trains nothing */
  GtkWidget  *table_card;      /* the runs' table; a clip-profile's tables replace it */
  GtkWidget  *profile_card;    /* the clip-profile's per-stage tables, hidden otherwise */
  GtkWidget  *profile_tables;  /* in profile_card; NULL when none */
  GtkWidget  *caption;
  GtkWidget  *size_dropdown;
  GtkFileChooserNative *chooser;
};

void vb_compare_page_class_init_actions (GtkWidgetClass *widget_class);
GtkWidget *vb_compare_page_new_size_dropdown (void);
void vb_compare_page_update_actions     (VbComparePage  *self);
/* The "Pick runs" popover's content, refilled each time it opens. */
GtkWidget *vb_compare_page_build_picker (VbComparePage  *self);
/* vb-compare-page-layout.c: the bar over the table, and the table, charts and caption */
GtkWidget *vb_compare_page_build_bar    (VbComparePage  *self);
GtkWidget *vb_compare_page_build_content (VbComparePage *self);

G_END_DECLS
