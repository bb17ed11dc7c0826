/* vb-compare-page.c: the Compare page. The groups come from the database's runs (one
 * group per preset invocation, newest first), or the runs are picked by hand; the table
 * rows come from vb_compare_rows(), the same rows the CLI's compare prints, plus FLOPs
 * from the run record and the evaluation protocol card that guards the img/s Δ. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-chart-area.h"
#include "vb-compare-charts.h"
#include "vb-compare-clip-profile.h"
#include "vb-compare-export.h"
#include "vb-compare-page-private.h"
#include "vb-compare-profile-table.h"
#include "vb-compare-projector.h"
#include "vb-compare-table.h"

G_DEFINE_FINAL_TYPE (VbComparePage, vb_compare_page, ADW_TYPE_BIN)

/* ---- the table and charts ------------------------------------------------------------------ */

/* Items, bars and captions for the current baseline; the rows stay. */
static void
apply_baseline (VbComparePage *self)
{
  g_autoptr (GListStore) items = vb_compare_items_new (self->rows, (const gint64 *) self->macs->data,
                                                       self->cards, self->baseline);
  gtk_sort_list_model_set_model (self->sorted, G_LIST_MODEL (items));
  if (self->clip_profile)
    {
      /* where the time goes in place of the Top-1 bars; no training, so no curves */
      vb_chart_area_set_bar_chart (self->chart, NULL);
      vb_chart_area_set_scatter_chart (self->chart, NULL);
      vb_chart_area_set_stacked_bar_chart (self->chart, vb_compare_clip_profile_chart (self->rows));
      vb_chart_area_set_bar_chart (self->tp_chart, NULL);
      gtk_label_set_text (GTK_LABEL (self->caption),
                          "CLIP profile, fp32 on the CPU: ms = median per image over the timed "
                          "calls; MACs per image from the models’ own counts. % of total: an "
                          "encoder stage’s share of the encoder, a projector’s share of the "
                          "encoder plus that projector. The five projectors are alternatives: "
                          "LLaVA runs the encoder and one of them.");
      return;
    }
  vb_chart_area_set_stacked_bar_chart (self->chart, NULL);
  if (self->projector)
    {
      /* the study's trade-off in place of the Top-1 bars; its runtime is a table column */
      vb_chart_area_set_bar_chart (self->chart, NULL);
      vb_chart_area_set_scatter_chart (self->chart, vb_compare_tradeoff_chart (self->rows));
      vb_chart_area_set_bar_chart (self->tp_chart, NULL);
      gtk_label_set_text (GTK_LABEL (self->caption),
                          "Projector study, Mode A alignment proxy. Bold: the best of each metric "
                          "(lowest test loss and runtime, highest Proxy Top-1). Proxy Top-1 is a "
                          "linear probe on ẑ; FLOPs (M) are multiply-adds per token. Δ against the "
                          "baseline run; exports list every run and the mean ± std over seeds.");
      return;
    }
  vb_chart_area_set_scatter_chart (self->chart, NULL);
  const char *group = self->chosen ? NULL : self->group;
  vb_chart_area_set_bar_chart (self->chart, vb_compare_accuracy_chart (self->rows, group,
                                                                       self->baseline));
  vb_chart_area_set_bar_chart (self->tp_chart, vb_compare_throughput_chart (self->rows, self->cards,
                                                                            self->baseline));
  gtk_label_set_text (GTK_LABEL (self->caption),
                      "Bold: the best of each metric; for img/s only among runs measured under "
                      "the baseline’s protocol. “≠ protocol”: batch, precision, device, threads, "
                      "optimizer, data loading or input differ, so no Δ is computed (hover for "
                      "which).");
}

static void
load_curves (VbComparePage *self)
{
  VbCompareCurve curve = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->curves_dropdown)) == 1
                         ? VB_COMPARE_CURVE_TRAIN_LOSS : VB_COMPARE_CURVE_VAL_TOP1;

  if (self->rows == NULL)
    vb_chart_area_set_line_chart (self->curves_chart, NULL);
  else if (self->clip_profile)
    vb_chart_area_set_line_chart (self->curves_chart, NULL);
  else if (self->projector)
    vb_chart_area_set_line_chart (self->curves_chart,
                                  vb_compare_projector_curves (vb_session_get_store (self->session),
                                                               self->rows,
                                                               curve == VB_COMPARE_CURVE_VAL_TOP1));
  else
    vb_chart_area_set_line_chart (self->curves_chart,
                                  vb_compare_curves_chart (vb_session_get_store (self->session),
                                                           self->rows, curve));
}

static void
curves_selected_cb (VbComparePage *self)
{
  if (!self->updating)
    load_curves (self);
}

static void
fill_baseline_dropdown (VbComparePage *self)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (labels, g_strdup ("None"));
  for (guint i = 0; self->rows && i < self->rows->len; i++)
    g_ptr_array_add (labels, vb_compare_row_label (g_ptr_array_index (self->rows, i)));
  g_ptr_array_add (labels, NULL);
  self->updating = TRUE;
  gtk_string_list_splice (self->baseline_labels, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->baseline_labels)),
                          (const char * const *) labels->pdata);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->baseline_dropdown), (guint) (self->baseline + 1));
  self->updating = FALSE;
}

/* The per-stage tables of rows (NULL: none), in the card under the runs' table. */
static void
set_profile_tables (VbComparePage *self,
                    GPtrArray     *rows)
{
  if (self->profile_tables != NULL)
    gtk_box_remove (GTK_BOX (self->profile_card), self->profile_tables);
  self->profile_tables = rows ? vb_compare_profile_tables_new (rows) : NULL;
  if (self->profile_tables != NULL)
    gtk_box_append (GTK_BOX (self->profile_card), self->profile_tables);
  gtk_widget_set_visible (self->profile_card, self->profile_tables != NULL);
}

static void
clear_table (VbComparePage *self)
{
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_array_set_size (self->macs, 0);
  g_ptr_array_set_size (self->cards, 0);
  g_clear_pointer (&self->rows_signature, g_free);
  gtk_sort_list_model_set_model (self->sorted, NULL);
  vb_chart_area_set_bar_chart (self->chart, NULL);
  vb_chart_area_set_scatter_chart (self->chart, NULL);
  vb_chart_area_set_stacked_bar_chart (self->chart, NULL);
  vb_chart_area_set_bar_chart (self->tp_chart, NULL);
  vb_chart_area_set_line_chart (self->curves_chart, NULL);
  set_profile_tables (self, NULL);
  gtk_label_set_text (GTK_LABEL (self->caption), "");
  gtk_widget_set_visible (self->notice, FALSE);
}

/* The study's columns, charts and notice for projector runs, the per-stage tables and
 * stacked bar for clip-profile runs, VMamba's for the rest. */
static void
set_projector_view (VbComparePage *self)
{
  gboolean projector = vb_compare_rows_are_projector (self->rows);
  gboolean clip_profile = vb_compare_rows_are_clip_profile (self->rows);
  g_autofree char *notice = projector ? vb_compare_projector_notice (self->rows)
                            : clip_profile ? vb_compare_clip_profile_notice (self->rows) : NULL;

  gtk_label_set_text (GTK_LABEL (self->notice), notice ? notice : "");
  gtk_widget_set_visible (self->notice, notice != NULL);
  self->clip_profile = clip_profile;
  set_profile_tables (self, clip_profile ? self->rows : NULL);
  /* the runs' table would be a column of dashes: the per-stage tables say it all */
  gtk_widget_set_visible (self->table_card, !clip_profile);
  gtk_widget_set_visible (self->curves_card, !clip_profile);
  gtk_widget_set_sensitive (self->curves_dropdown, !clip_profile);
  gtk_widget_set_visible (self->tp_card, !projector && !clip_profile);
  if (projector == self->projector)
    return;
  self->projector = projector;
  vb_compare_table_set_projector (self->view, projector);
  GListModel *curves = gtk_drop_down_get_model (GTK_DROP_DOWN (self->curves_dropdown));
  const char *first[] = { projector ? "Val loss" : "Val top-1", NULL };
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->curves_dropdown));
  self->updating = TRUE;
  gtk_string_list_splice (GTK_STRING_LIST (curves), 0, 1, first);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->curves_dropdown), selected);
  self->updating = FALSE;
}

/* The ids shown, oldest first, and their statuses as a signature; NULL when none. */
static GArray *
shown_ids (VbComparePage *self,
           GPtrArray     *runs,
           char         **signature)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GString) sig = g_string_new (NULL);

  /* runs are newest first */
  for (guint i = runs->len; i-- > 0;)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      gboolean wanted = FALSE;
      if (self->chosen != NULL)
        for (guint k = 0; k < self->chosen->len; k++)
          wanted |= g_array_index (self->chosen, gint64, k) == r->id;
      else
        wanted = self->group != NULL && g_strcmp0 (r->group_id, self->group) == 0;
      if (!wanted)
        continue;
      g_array_append_val (ids, r->id);
      g_string_append_printf (sig, "%" G_GINT64_FORMAT ":%d;", r->id, r->status);
    }
  *signature = g_string_free (g_steal_pointer (&sig), FALSE);
  return ids->len > 0 ? g_steal_pointer (&ids) : NULL;
}

static void
show_table (VbComparePage *self,
            GPtrArray     *runs)
{
  VbStore *store = vb_session_get_store (self->session);
  g_autoptr (GError) error = NULL;
  gint64 old_baseline = self->rows && self->baseline >= 0
                        ? ((VbCompareRow *) g_ptr_array_index (self->rows, self->baseline))->run_id : -1;
  gboolean had_none = self->rows != NULL && self->baseline < 0;

  clear_table (self);
  vb_compare_page_update_actions (self);
  g_autofree char *sig = NULL;
  g_autoptr (GArray) ids = shown_ids (self, runs, &sig);
  self->rows_signature = g_steal_pointer (&sig);
  if (ids == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      fill_baseline_dropdown (self);
      return;
    }
  g_autoptr (GPtrArray) rows = vb_compare_rows (store, (const gint64 *) ids->data, ids->len, &error);
  if (rows == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->caption), error->message);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "table");
      return;
    }
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_autoptr (VbRunRecord) rec = vb_store_get_run (store, r->run_id, NULL);
      gint64 macs = rec ? rec->macs : 0;
      g_array_append_val (self->macs, macs);
      char *card = NULL;
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, r->run_id, NULL);
      for (guint t = 0; tp && t < tp->len; t++)
        {
          VbThroughputRecord *rec_tp = g_ptr_array_index (tp, t);
          if (g_strcmp0 (rec_tp->kind, "eval") == 0)
            {
              g_free (card);
              card = g_strdup (rec_tp->protocol_json);
            }
        }
      g_ptr_array_add (self->cards, card);
    }
  self->rows = g_steal_pointer (&rows);

  /* the same baseline run as before when it is still shown, else the first run */
  self->baseline = vb_compare_baseline_index (self->rows);
  for (guint i = 0; i < self->rows->len; i++)
    if (((VbCompareRow *) g_ptr_array_index (self->rows, i))->run_id == old_baseline)
      self->baseline = (int) i;
  if (had_none && old_baseline < 0)
    self->baseline = -1;
  set_projector_view (self);
  fill_baseline_dropdown (self);
  apply_baseline (self);
  load_curves (self);
  vb_compare_page_update_actions (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "table");
}

static void
reload (VbComparePage *self,
        gboolean       fresh)
{
  g_autoptr (GPtrArray) runs = vb_store_list_runs (vb_session_get_store (self->session),
                                                   VB_RUN_ANY, NULL, 0, NULL);
  if (runs == NULL)
    return;
  if (fresh)
    clear_table (self);   /* a new selection starts from the default baseline */
  show_table (self, runs);
}

static void
dropdown_selected_cb (VbComparePage *self)
{
  if (self->updating)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->dropdown));
  const char *group = i < self->groups->len ? g_ptr_array_index (self->groups, i) : NULL;
  if (group == NULL || (g_strcmp0 (group, self->group) == 0 && self->chosen == NULL))
    return;
  g_clear_pointer (&self->chosen, g_array_unref);
  g_free (self->group);
  self->group = g_strdup (group);
  reload (self, TRUE);
}

static void
baseline_selected_cb (VbComparePage *self)
{
  if (self->updating || self->rows == NULL)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->baseline_dropdown));
  int baseline = i == GTK_INVALID_LIST_POSITION || i == 0 || i > self->rows->len ? -1 : (int) i - 1;
  if (baseline == self->baseline)
    return;
  self->baseline = baseline;
  apply_baseline (self);
}

/* ---- groups -------------------------------------------------------------------------------- */

static void
fill_groups (VbComparePage *self,
             GPtrArray     *runs)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  for (guint g = 0; g < self->groups->len; g++)
    {
      const char *id = g_ptr_array_index (self->groups, g);
      const char *preset = NULL, *created = NULL;
      guint n = 0;
      for (guint i = 0; i < runs->len; i++)
        {
          VbRunRecord *r = g_ptr_array_index (runs, i);
          if (g_strcmp0 (r->group_id, id) != 0)
            continue;
          n++;
          preset = r->preset;
          created = r->created_at;
        }
      g_autofree char *when = g_strndup (created ? created : "", 16);
      for (char *p = when; *p; p++)
        if (*p == 'T')
          *p = ' ';
      g_ptr_array_add (labels, g_strdup_printf ("%s · %s · %u run%s", preset ? preset : id,
                                                when, n, n == 1 ? "" : "s"));
    }
  /* runs picked by hand show as one more entry, after the groups */
  if (self->chosen != NULL)
    g_ptr_array_add (labels, g_strdup_printf ("Picked runs · %u run%s", self->chosen->len,
                                              self->chosen->len == 1 ? "" : "s"));
  g_ptr_array_add (labels, NULL);
  gtk_string_list_splice (self->labels, 0, g_list_model_get_n_items (G_LIST_MODEL (self->labels)),
                          (const char * const *) labels->pdata);
}

void
vb_compare_page_refresh (VbComparePage *self)
{
  g_return_if_fail (VB_IS_COMPARE_PAGE (self));

  g_autoptr (GPtrArray) runs = vb_store_list_runs (vb_session_get_store (self->session),
                                                   VB_RUN_ANY, NULL, 0, NULL);
  if (runs == NULL)
    return;

  /* groups in order of their newest run */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) sig = g_string_new (NULL);
  for (guint i = 0; i < runs->len; i++)
    {
      VbRunRecord *r = g_ptr_array_index (runs, i);
      if (r->group_id == NULL || g_hash_table_contains (seen, r->group_id))
        continue;
      g_hash_table_add (seen, r->group_id);
      g_ptr_array_add (groups, g_strdup (r->group_id));
      g_string_append_printf (sig, "%s;", r->group_id);
    }

  gboolean fresh = FALSE;
  if (g_strcmp0 (sig->str, self->groups_signature) != 0)
    {
      g_free (self->groups_signature);
      self->groups_signature = g_string_free (g_steal_pointer (&sig), FALSE);
      g_ptr_array_unref (self->groups);
      self->groups = g_steal_pointer (&groups);

      self->updating = TRUE;
      fill_groups (self, runs);
      guint keep = GTK_INVALID_LIST_POSITION;
      for (guint g = 0; g < self->groups->len; g++)
        if (g_strcmp0 (g_ptr_array_index (self->groups, g), self->group) == 0)
          keep = g;
      if (keep == GTK_INVALID_LIST_POSITION && self->groups->len > 0)
        keep = 0;   /* the newest group when nothing was shown (or it is gone) */
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown),
                                  self->chosen ? self->groups->len : keep);
      self->updating = FALSE;

      const char *group = keep < self->groups->len ? g_ptr_array_index (self->groups, keep) : NULL;
      if (g_strcmp0 (group, self->group) != 0)
        {
          g_free (self->group);
          self->group = g_strdup (group);
          fresh = self->chosen == NULL;
        }
    }
  /* a shown run finished or was added: redo the table, keeping the baseline */
  g_autofree char *rows_sig = NULL;
  g_autoptr (GArray) ids = shown_ids (self, runs, &rows_sig);
  if (fresh || g_strcmp0 (rows_sig, self->rows_signature) != 0)
    {
      if (fresh)
        clear_table (self);
      show_table (self, runs);
    }
}

static void
job_event_cb (VbComparePage    *self,
              const VbJobEvent *event)
{
  vb_compare_page_refresh (self);
}

/* ---- construction -------------------------------------------------------------------------- */

static void
vb_compare_page_dispose (GObject *object)
{
  VbComparePage *self = VB_COMPARE_PAGE (object);

  adw_bin_set_child (ADW_BIN (self), NULL);
  self->profile_tables = NULL;   /* went with the card */
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->macs, g_array_unref);
  g_clear_pointer (&self->cards, g_ptr_array_unref);
  g_clear_pointer (&self->chosen, g_array_unref);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_pointer (&self->groups_signature, g_free);
  g_clear_pointer (&self->rows_signature, g_free);
  g_clear_pointer (&self->group, g_free);

  G_OBJECT_CLASS (vb_compare_page_parent_class)->dispose (object);
}

static void
vb_compare_page_class_init (VbComparePageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vb_compare_page_dispose;
  vb_compare_page_class_init_actions (GTK_WIDGET_CLASS (klass));
}

static void
vb_compare_page_init (VbComparePage *self)
{
  self->groups = g_ptr_array_new_with_free_func (g_free);
  self->macs = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->cards = g_ptr_array_new_with_free_func (g_free);
  self->baseline = -1;
}

GtkWidget *
vb_compare_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbComparePage *self = g_object_new (VB_TYPE_COMPARE_PAGE, NULL);
  self->session = g_object_ref (session);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_box_append (GTK_BOX (box), vb_compare_page_build_bar (self));
  g_signal_connect_swapped (self->dropdown, "notify::selected", G_CALLBACK (dropdown_selected_cb), self);
  g_signal_connect_swapped (self->baseline_dropdown, "notify::selected",
                            G_CALLBACK (baseline_selected_cb), self);
  g_signal_connect_swapped (self->curves_dropdown, "notify::selected",
                            G_CALLBACK (curves_selected_cb), self);

  self->stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->stack, TRUE);
  GtkWidget *empty = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "view-grid-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), "Nothing to compare yet");
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   "Runs of one experiment appear here side by side once they exist");
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  gtk_stack_add_named (GTK_STACK (self->stack), vb_compare_page_build_content (self), "table");
  gtk_box_append (GTK_BOX (box), self->stack);
  adw_bin_set_child (ADW_BIN (self), box);

  g_signal_connect_swapped (session, "job-event", G_CALLBACK (job_event_cb), self);
  g_signal_connect_swapped (session, "tick", G_CALLBACK (vb_compare_page_refresh), self);
  vb_compare_page_update_actions (self);
  vb_compare_page_refresh (self);
  if (self->rows == NULL)
    gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  return GTK_WIDGET (self);
}

/* ---- runs picked by hand ------------------------------------------------------------------- */

void
vb_compare_page_show_runs (VbComparePage *self,
                           const gint64  *run_ids,
                           guint          n)
{
  g_return_if_fail (VB_IS_COMPARE_PAGE (self));

  g_clear_pointer (&self->chosen, g_array_unref);
  self->chosen = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_vals (self->chosen, run_ids, n);
  g_autoptr (GPtrArray) runs = vb_store_list_runs (vb_session_get_store (self->session),
                                                   VB_RUN_ANY, NULL, 0, NULL);
  self->updating = TRUE;
  if (runs != NULL)
    fill_groups (self, runs);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->dropdown), self->groups->len);
  self->updating = FALSE;
  reload (self, TRUE);
}
