/* vb-compare-table.c: the Compare page's column view and its rows. One set of columns for
 * both kinds of study; the projector study's are hidden until its runs are shown. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-compare-protocol.h"
#include "vb-compare-table.h"

typedef enum {
  KIND_TEXT,
  KIND_NUMBER,
} ColumnKind;

static const struct {
  const char *name;
  const char *tooltip;
  ColumnKind  kind;
} columns[VB_COMPARE_N_COLUMNS] = {
  { "Model", NULL, KIND_TEXT },
  { "Dirs", "Scan directions of the SS2D blocks", KIND_TEXT },
  { "ImgSize", "Input resolution (px)", KIND_NUMBER },
  { "Top-1", "Validation top-1 accuracy after the last epoch (%)", KIND_NUMBER },
  { "ΔTop-1", "Top-1 minus the baseline's (percentage points)", KIND_NUMBER },
  { "%ΔTop-1", "Top-1 relative to the baseline's (%)", KIND_NUMBER },
  { "Top-5", "Validation top-5 accuracy after the last epoch (%)", KIND_NUMBER },
  { "ΔTop-5", "Top-5 minus the baseline's (percentage points)", KIND_NUMBER },
  { "%ΔTop-5", "Top-5 relative to the baseline's (%)", KIND_NUMBER },
  { "img/s", "Evaluation throughput (images per second); the protocol is in the run's "
    "throughput card", KIND_NUMBER },
  { "Δimg/s", "img/s minus the baseline's; refused when the protocol cards differ", KIND_NUMBER },
  { "%Δimg/s", "img/s relative to the baseline's (%); refused when the protocol cards differ",
    KIND_NUMBER },
  { "Params", "Trainable parameters", KIND_NUMBER },
  { "FLOPs", "Multiply–accumulates per image (fvcore's FLOPs, as VMamba reports)", KIND_NUMBER },
  { "Projector", NULL, KIND_TEXT },
  { "Seed", "Initialisation and batch-order seed", KIND_NUMBER },
  { "Test loss", "1 − cos(ẑ, y) on the test split, once, with the best-validation model "
    "(lower is better)", KIND_NUMBER },
  { "ΔTest loss", "Test loss minus the baseline's (negative is better)", KIND_NUMBER },
  { "Proxy Top-1", "Linear-probe top-1 on ẑ over the test split (%), the §4.3 fallback",
    KIND_NUMBER },
  { "ΔProxy Top-1", "Proxy Top-1 minus the baseline's (percentage points)", KIND_NUMBER },
  { "Params (M)", "Parameters in millions, biases and LoRA's frozen base included", KIND_NUMBER },
  { "FLOPs (M)", "Multiply-adds per token in millions, weights only (the seed table's unit)",
    KIND_NUMBER },
  { "Runtime ms", "Median forward time over the §5 inputs (ms); the protocol card is in the "
    "run's throughput rows", KIND_NUMBER },
  { "%ΔRuntime", "Runtime relative to the baseline's (%; negative is faster)", KIND_NUMBER },
  { "Encoder", "The CLIP tower the features came from, and whether its weights were random",
    KIND_TEXT },
  { "Status", NULL, KIND_TEXT },
};

const char *
vb_compare_column_name (VbCompareColumn column)
{
  g_return_val_if_fail (column < VB_COMPARE_N_COLUMNS, NULL);
  return columns[column].name;
}

int
vb_compare_column_from_name (const char *name)
{
  for (int c = 0; c < VB_COMPARE_N_COLUMNS; c++)
    if (g_strcmp0 (columns[c].name, name) == 0)
      return c;
  return -1;
}

/* ---- items --------------------------------------------------------------------------------- */

struct _VbCompareItem
{
  GObject  parent_instance;

  gint64   run_id;
  char    *name, *model, *scan, *status, *encoder;
  int      img_size;
  double   value[VB_COMPARE_N_COLUMNS];   /* numeric columns; NAN = missing */
  gboolean is_baseline;
  gboolean has_baseline;
  gboolean best[VB_COMPARE_N_COLUMNS];
  char    *protocol_diff;                 /* non-NULL: img/s Δ refused, and why */
};

G_DEFINE_FINAL_TYPE (VbCompareItem, vb_compare_item, G_TYPE_OBJECT)

static void
vb_compare_item_finalize (GObject *object)
{
  VbCompareItem *self = VB_COMPARE_ITEM (object);

  g_free (self->name);
  g_free (self->model);
  g_free (self->scan);
  g_free (self->status);
  g_free (self->encoder);
  g_free (self->protocol_diff);

  G_OBJECT_CLASS (vb_compare_item_parent_class)->finalize (object);
}

static void
vb_compare_item_class_init (VbCompareItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vb_compare_item_finalize;
}

static void
vb_compare_item_init (VbCompareItem *self)
{
  for (int c = 0; c < VB_COMPARE_N_COLUMNS; c++)
    self->value[c] = NAN;
}

gint64
vb_compare_item_get_run_id (VbCompareItem *self)
{
  g_return_val_if_fail (VB_IS_COMPARE_ITEM (self), 0);
  return self->run_id;
}

static char *
format_si (double v)
{
  if (!isfinite (v) || v <= 0)
    return g_strdup ("—");
  if (v >= 1e9)
    return g_strdup_printf ("%.2fG", v / 1e9);
  if (v >= 1e6)
    return g_strdup_printf ("%.2fM", v / 1e6);
  if (v >= 1e3)
    return g_strdup_printf ("%.1fk", v / 1e3);
  return g_strdup_printf ("%.0f", v);
}

static char *
format_num (double      v,
            const char *fmt)
{
  return isfinite (v) ? g_strdup_printf (fmt, v) : g_strdup ("—");
}

/* the Δ columns that say "baseline" on the baseline's row */
static gboolean
is_first_delta (VbCompareColumn c)
{
  return c == VB_COMPARE_COL_TOP1_DELTA || c == VB_COMPARE_COL_TOP5_DELTA
         || c == VB_COMPARE_COL_IPS_DELTA || c == VB_COMPARE_COL_TEST_LOSS_DELTA
         || c == VB_COMPARE_COL_PROXY_TOP1_DELTA || c == VB_COMPARE_COL_RUNTIME_PCT;
}

static gboolean
is_delta (VbCompareColumn c)
{
  return is_first_delta (c) || c == VB_COMPARE_COL_TOP1_PCT || c == VB_COMPARE_COL_TOP5_PCT
         || c == VB_COMPARE_COL_IPS_PCT;
}

gboolean
vb_compare_column_is_projector (VbCompareColumn column)
{
  return column >= VB_COMPARE_COL_PROJECTOR && column <= VB_COMPARE_COL_ENCODER;
}

char *
vb_compare_item_format (VbCompareItem    *self,
                        VbCompareColumn   column,
                        gboolean         *bold,
                        gboolean         *flagged,
                        char            **tooltip)
{
  g_return_val_if_fail (VB_IS_COMPARE_ITEM (self), NULL);
  g_return_val_if_fail (column < VB_COMPARE_N_COLUMNS, NULL);

  gboolean refused = self->protocol_diff != NULL
                     && (column == VB_COMPARE_COL_IPS_DELTA || column == VB_COMPARE_COL_IPS_PCT);
  if (bold)
    *bold = self->best[column];
  if (flagged)
    *flagged = refused;
  if (tooltip)
    *tooltip = NULL;

  if (is_delta (column) && !self->has_baseline)
    return g_strdup ("");
  if (is_delta (column) && self->is_baseline)
    return g_strdup (is_first_delta (column) ? "baseline" : "");
  if (refused)
    {
      if (tooltip)
        *tooltip = g_strdup_printf ("Measured under a different protocol than the baseline's "
                                    "(%s): no Δ computed", self->protocol_diff);
      return g_strdup ("≠ protocol");
    }

  double v = self->value[column];
  switch (column)
    {
    case VB_COMPARE_COL_MODEL:
      if (tooltip)
        *tooltip = g_strdup_printf ("%s (run #%" G_GINT64_FORMAT ")", self->name ? self->name : "",
                                    self->run_id);
      return g_strdup (self->model);
    case VB_COMPARE_COL_DIRS:
      return g_strdup (self->scan);
    case VB_COMPARE_COL_IMG_SIZE:
      return self->img_size > 0 ? g_strdup_printf ("%d", self->img_size) : g_strdup ("—");
    case VB_COMPARE_COL_TOP1:
    case VB_COMPARE_COL_TOP5:
      return format_num (v, "%.2f");
    case VB_COMPARE_COL_IPS:
      return format_num (v, "%.1f");
    case VB_COMPARE_COL_TOP1_DELTA:
    case VB_COMPARE_COL_TOP5_DELTA:
      return format_num (v, "%+.2f");
    case VB_COMPARE_COL_IPS_DELTA:
      return format_num (v, "%+.1f");
    case VB_COMPARE_COL_TOP1_PCT:
    case VB_COMPARE_COL_TOP5_PCT:
    case VB_COMPARE_COL_IPS_PCT:
      return format_num (v, "%+.1f %%");
    case VB_COMPARE_COL_PARAMS:
    case VB_COMPARE_COL_FLOPS:
      return format_si (v);
    case VB_COMPARE_COL_PROJECTOR:
      if (tooltip)
        *tooltip = g_strdup_printf ("%s (run #%" G_GINT64_FORMAT ")", self->name ? self->name : "",
                                    self->run_id);
      return g_strdup (self->model);
    case VB_COMPARE_COL_SEED:
      return format_num (v, "%.0f");
    case VB_COMPARE_COL_TEST_LOSS:
      return format_num (v, "%.4f");
    case VB_COMPARE_COL_TEST_LOSS_DELTA:
      return format_num (v, "%+.4f");
    case VB_COMPARE_COL_PARAMS_M:
    case VB_COMPARE_COL_FLOPS_M:
      /* a small test encoder's projector is thousands, not millions: no "0.00" */
      return format_num (v, isfinite (v) && v > 0 && v < 0.01 ? "%.3g" : "%.2f");
    case VB_COMPARE_COL_PROXY_TOP1:
    case VB_COMPARE_COL_RUNTIME:
      return format_num (v, "%.2f");
    case VB_COMPARE_COL_PROXY_TOP1_DELTA:
      return format_num (v, "%+.2f");
    case VB_COMPARE_COL_RUNTIME_PCT:
      return format_num (v, "%+.1f %%");
    case VB_COMPARE_COL_ENCODER:
      if (tooltip)
        *tooltip = g_strdup (self->encoder);
      return g_strdup (self->encoder ? self->encoder : "—");
    case VB_COMPARE_COL_STATUS:
      return g_strdup (self->status);
    case VB_COMPARE_N_COLUMNS:
    default:
      g_return_val_if_reached (NULL);
    }
}

static void
set_delta (VbCompareItem   *item,
           VbCompareColumn  value_col,
           double           base)
{
  double v = item->value[value_col];

  if (!isfinite (v) || !isfinite (base))
    return;
  item->value[value_col + 1] = v - base;
  if (base != 0)
    item->value[value_col + 2] = 100.0 * (v - base) / fabs (base);
}

/* the absolute Δ of value_col into delta_col (and no %Δ) */
static void
set_delta_only (VbCompareItem   *item,
                VbCompareColumn  value_col,
                VbCompareColumn  delta_col,
                double           base,
                gboolean         percent)
{
  double v = item->value[value_col];

  if (!isfinite (v) || !isfinite (base) || (percent && base == 0))
    return;
  item->value[delta_col] = percent ? 100.0 * (v - base) / fabs (base) : v - base;
}

/* Bold for the best value of a metric column among the items in the set: the highest,
 * or with lower the lowest (a loss, a runtime). */
static void
mark_best_dir (VbCompareItem  **items,
               guint            n,
               const gboolean  *in_set,
               VbCompareColumn  column,
               gboolean         lower)
{
  double best = lower ? INFINITY : -INFINITY;

  for (guint i = 0; i < n; i++)
    if (in_set[i] && isfinite (items[i]->value[column]))
      best = lower ? MIN (best, items[i]->value[column]) : MAX (best, items[i]->value[column]);
  for (guint i = 0; i < n; i++)
    items[i]->best[column] = in_set[i] && isfinite (best) && items[i]->value[column] == best;
}

static void
mark_best (VbCompareItem  **items,
           guint            n,
           const gboolean  *in_set,
           VbCompareColumn  column)
{
  mark_best_dir (items, n, in_set, column, FALSE);
}

GListStore *
vb_compare_items_new (GPtrArray    *rows,
                      const gint64 *macs,
                      GPtrArray    *cards,
                      int           baseline)
{
  GListStore *store = g_list_store_new (VB_TYPE_COMPARE_ITEM);
  guint n = rows->len;
  g_autofree VbCompareItem **items = g_new0 (VbCompareItem *, MAX (n, 1));
  g_autofree gboolean *all = g_new0 (gboolean, MAX (n, 1));
  g_autofree gboolean *same_protocol = g_new0 (gboolean, MAX (n, 1));

  if (baseline >= (int) n)
    baseline = -1;
  for (guint i = 0; i < n; i++)
    {
      const VbCompareRow *r = g_ptr_array_index (rows, i);
      VbCompareItem *item = g_object_new (VB_TYPE_COMPARE_ITEM, NULL);
      item->run_id = r->run_id;
      item->name = g_strdup (r->name);
      item->model = g_strdup (r->model);
      item->scan = g_strdup (r->scan);
      item->status = g_strdup (r->status);
      item->img_size = r->img_size;
      item->value[VB_COMPARE_COL_IMG_SIZE] = r->img_size > 0 ? r->img_size : NAN;
      item->value[VB_COMPARE_COL_TOP1] = r->top1;
      item->value[VB_COMPARE_COL_TOP5] = r->top5;
      item->value[VB_COMPARE_COL_IPS] = r->eval_img_per_s;
      item->value[VB_COMPARE_COL_PARAMS] = r->params > 0 ? (double) r->params : NAN;
      item->value[VB_COMPARE_COL_FLOPS] = macs && macs[i] > 0 ? (double) macs[i] : NAN;
      if (r->projector)
        {
          item->encoder = g_strdup (r->encoder);
          item->value[VB_COMPARE_COL_SEED] = (double) r->seed;
          item->value[VB_COMPARE_COL_TEST_LOSS] = r->test_loss;
          item->value[VB_COMPARE_COL_PROXY_TOP1] = r->proxy_top1;
          item->value[VB_COMPARE_COL_PARAMS_M] = r->params > 0 ? r->params / 1e6 : NAN;
          item->value[VB_COMPARE_COL_FLOPS_M] = r->macs_per_token / 1e6;
          item->value[VB_COMPARE_COL_RUNTIME] = r->runtime_ms;
        }
      item->has_baseline = baseline >= 0;
      item->is_baseline = (int) i == baseline;
      items[i] = item;
      all[i] = TRUE;
    }

  /* img/s is compared with the baseline's card, or with the first row's without one */
  int reference = baseline >= 0 ? baseline : 0;
  const char *ref_card = n > 0 && cards ? g_ptr_array_index (cards, reference) : NULL;
  for (guint i = 0; i < n; i++)
    {
      const char *card = cards ? g_ptr_array_index (cards, i) : NULL;
      g_auto (GStrv) fields = vb_protocol_diff (ref_card, card);
      same_protocol[i] = (int) i == reference || g_strv_length (fields) == 0;
      if (!same_protocol[i] && baseline >= 0)
        items[i]->protocol_diff = vb_protocol_describe_diff (ref_card, card);
    }
  if (baseline >= 0)
    {
      VbCompareItem *base = items[baseline];
      for (guint i = 0; i < n; i++)
        {
          set_delta (items[i], VB_COMPARE_COL_TOP1, base->value[VB_COMPARE_COL_TOP1]);
          set_delta (items[i], VB_COMPARE_COL_TOP5, base->value[VB_COMPARE_COL_TOP5]);
          if (items[i]->protocol_diff == NULL)
            set_delta (items[i], VB_COMPARE_COL_IPS, base->value[VB_COMPARE_COL_IPS]);
          set_delta_only (items[i], VB_COMPARE_COL_TEST_LOSS, VB_COMPARE_COL_TEST_LOSS_DELTA,
                          base->value[VB_COMPARE_COL_TEST_LOSS], FALSE);
          set_delta_only (items[i], VB_COMPARE_COL_PROXY_TOP1, VB_COMPARE_COL_PROXY_TOP1_DELTA,
                          base->value[VB_COMPARE_COL_PROXY_TOP1], FALSE);
          set_delta_only (items[i], VB_COMPARE_COL_RUNTIME, VB_COMPARE_COL_RUNTIME_PCT,
                          base->value[VB_COMPARE_COL_RUNTIME], TRUE);
        }
    }
  mark_best (items, n, all, VB_COMPARE_COL_TOP1);
  mark_best (items, n, all, VB_COMPARE_COL_TOP5);
  /* the fastest only among figures measured the same way */
  mark_best (items, n, same_protocol, VB_COMPARE_COL_IPS);
  mark_best_dir (items, n, all, VB_COMPARE_COL_TEST_LOSS, TRUE);
  mark_best (items, n, all, VB_COMPARE_COL_PROXY_TOP1);
  mark_best_dir (items, n, all, VB_COMPARE_COL_RUNTIME, TRUE);

  for (guint i = 0; i < n; i++)
    {
      g_list_store_append (store, items[i]);
      g_object_unref (items[i]);
    }
  return store;
}

/* ---- the view ------------------------------------------------------------------------------ */

/* Numeric columns by value with missing ones after the rest; text by collation. */
static int
compare_items (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  VbCompareColumn c = GPOINTER_TO_UINT (user_data);
  VbCompareItem *x = (VbCompareItem *) a, *y = (VbCompareItem *) b;

  if (columns[c].kind == KIND_TEXT)
    {
      g_autofree char *tx = vb_compare_item_format (x, c, NULL, NULL, NULL);
      g_autofree char *ty = vb_compare_item_format (y, c, NULL, NULL, NULL);
      return g_utf8_collate (tx, ty);
    }
  double vx = x->value[c], vy = y->value[c];
  if (!isfinite (vx) || !isfinite (vy))
    return isfinite (vx) ? -1 : isfinite (vy) ? 1 : 0;
  return vx < vy ? -1 : vx > vy ? 1 : 0;
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          gpointer                  user_data)
{
  VbCompareColumn c = GPOINTER_TO_UINT (user_data);
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), columns[c].kind == KIND_NUMBER ? 1.0 : 0.0);
  if (c == VB_COMPARE_COL_MODEL || c == VB_COMPARE_COL_ENCODER)
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  if (columns[c].kind == KIND_NUMBER)
    gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *list_item,
         gpointer                  user_data)
{
  VbCompareColumn c = GPOINTER_TO_UINT (user_data);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  VbCompareItem *item = gtk_list_item_get_item (list_item);
  gboolean bold, flagged;
  g_autofree char *tooltip = NULL;
  g_autofree char *text = vb_compare_item_format (item, c, &bold, &flagged, &tooltip);

  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, tooltip ? tooltip : columns[c].tooltip);
  if (bold)
    {
      g_autoptr (PangoAttrList) attrs = pango_attr_list_new ();
      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      gtk_label_set_attributes (GTK_LABEL (label), attrs);
    }
  else
    gtk_label_set_attributes (GTK_LABEL (label), NULL);
  /* labels are recycled between rows: set every class each time */
  gboolean failed = c == VB_COMPARE_COL_STATUS && g_strcmp0 (item->status, "failed") == 0;
  gboolean dim = (c == VB_COMPARE_COL_STATUS && !failed && g_strcmp0 (item->status, "done") != 0)
                 || (is_delta (c) && item->is_baseline);
  if (flagged || failed)
    gtk_widget_add_css_class (label, "error");
  else
    gtk_widget_remove_css_class (label, "error");
  if (dim)
    gtk_widget_add_css_class (label, "dim-label");
  else
    gtk_widget_remove_css_class (label, "dim-label");
}

GtkWidget *
vb_compare_table_new (GtkSortListModel **sorted)
{
  GtkWidget *view = gtk_column_view_new (NULL);

  gtk_column_view_set_show_column_separators (GTK_COLUMN_VIEW (view), FALSE);
  gtk_column_view_set_reorderable (GTK_COLUMN_VIEW (view), FALSE);
  gtk_widget_add_css_class (view, "compare-columns");
  for (guint c = 0; c < VB_COMPARE_N_COLUMNS; c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), GUINT_TO_POINTER (c));
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), GUINT_TO_POINTER (c));
      GtkColumnViewColumn *column = gtk_column_view_column_new (columns[c].name, factory);
      GtkSorter *sorter = GTK_SORTER (gtk_custom_sorter_new (compare_items, GUINT_TO_POINTER (c),
                                                             NULL));
      gtk_column_view_column_set_sorter (column, sorter);
      g_object_unref (sorter);
      gtk_column_view_column_set_expand (column, c == VB_COMPARE_COL_MODEL
                                                   || c == VB_COMPARE_COL_ENCODER);
      /* the model name ("VMamba d96 [2-2-9-2]") and the encoder are the wide cells */
      if (c == VB_COMPARE_COL_MODEL)
        gtk_column_view_column_set_fixed_width (column, 124);
      if (c == VB_COMPARE_COL_ENCODER)
        gtk_column_view_column_set_fixed_width (column, 180);
      /* VMamba's columns until a projector study is shown */
      gtk_column_view_column_set_visible (column, !vb_compare_column_is_projector (c));
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_append_column (GTK_COLUMN_VIEW (view), column);
      g_object_unref (column);
    }

  GtkSorter *view_sorter = gtk_column_view_get_sorter (GTK_COLUMN_VIEW (view));
  GtkSortListModel *sort = gtk_sort_list_model_new (NULL, g_object_ref (view_sorter));
  /* a table to read, not to pick from */
  GtkNoSelection *selection = gtk_no_selection_new (G_LIST_MODEL (sort));
  gtk_column_view_set_model (GTK_COLUMN_VIEW (view), GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  *sorted = sort;
  return view;
}

void
vb_compare_table_set_projector (GtkWidget *view,
                                gboolean   projector)
{
  for (guint c = 0; c < VB_COMPARE_N_COLUMNS; c++)
    gtk_column_view_column_set_visible (vb_compare_table_get_column (view, c),
                                        c == VB_COMPARE_COL_STATUS
                                        || vb_compare_column_is_projector (c) == projector);
}

GtkColumnViewColumn *
vb_compare_table_get_column (GtkWidget       *view,
                             VbCompareColumn  column)
{
  GListModel *cols = gtk_column_view_get_columns (GTK_COLUMN_VIEW (view));
  g_autoptr (GtkColumnViewColumn) col = g_list_model_get_item (cols, column);
  return col;   /* the view keeps it */
}
