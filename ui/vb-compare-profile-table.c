/* vb-compare-profile-table.c: the clip-profile's per-stage tables (see the header). The
 * numbers are formatted as the CLI's table formats them, so the page, the exports and
 * the terminal agree to the digit. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-compare-profile-table.h"

#define N_COLS 5
#define GRIDS_KEY "vb-profile-grids"

static const char *const head[N_COLS] = { "Stage", "ms", "% of total", "MACs (G)", "GMAC/s" };

static char *
fmt (double      v,
     const char *f)
{
  return isfinite (v) ? g_strdup_printf (f, v) : g_strdup ("—");
}

static GtkWidget *
cell (const char *text,
      gboolean    numeric,
      gboolean    strong)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0 : 0.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  if (strong)
    gtk_widget_add_css_class (label, "heading");
  return label;
}

static void
add_row (GtkGrid    *grid,
         int         row,
         const char *stage,
         double      ms,
         double      total,
         gint64      macs,
         gboolean    strong)
{
  g_autofree char *t_ms = fmt (ms, "%.3f");
  g_autofree char *t_share = fmt (100.0 * ms / total, "%.1f");
  g_autofree char *t_macs = fmt (macs / 1e9, "%.4g");
  g_autofree char *t_rate = fmt (macs / 1e9 / (ms / 1e3), "%.1f");
  const char *texts[N_COLS] = { stage, t_ms, t_share, t_macs, t_rate };

  for (int c = 0; c < N_COLS; c++)
    gtk_grid_attach (grid, cell (texts[c], c > 0, strong), c, row, 1, 1);
}

static GtkWidget *
block (const VbCompareRow *r,
       GPtrArray          *grids)
{
  const VbClipProfile *p = r->profile;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  double enc = vb_clip_profile_encoder_ms (p);
  gint64 enc_macs = vb_clip_profile_encoder_macs (p);

  g_autofree char *title = g_strdup_printf ("%d px — run %" G_GINT64_FORMAT, p->img_size,
                                            r->run_id);
  GtkWidget *heading = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "title-4");
  gtk_box_append (GTK_BOX (box), heading);
  g_autofree char *about = g_strdup_printf ("%s, %s; %d of %d layers (%s); %d patch tokens",
                                            p->encoder, p->weights, p->layers_run,
                                            p->layers_total, p->layers_run < p->layers_total
                                            ? "up to hidden_states[-2], LLaVA’s features"
                                            : "every layer", p->tokens);
  GtkWidget *sub = gtk_label_new (about);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_label_set_wrap (GTK_LABEL (sub), TRUE);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_box_append (GTK_BOX (box), sub);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 24);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  for (int c = 0; c < N_COLS; c++)
    gtk_grid_attach (GTK_GRID (grid), cell (head[c], c > 0, TRUE), c, 0, 1, 1);
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      /* an encoder stage: of the encoder; a projector: of encoder + it (LLaVA runs one) */
      add_row (GTK_GRID (grid), (int) i + 1, s->name, s->ms,
               s->kind == VB_STAGE_PROJECTOR ? enc + s->ms : enc, s->macs, FALSE);
    }
  add_row (GTK_GRID (grid), (int) p->stages->len + 1, "Encoder total", enc, enc, enc_macs, TRUE);
  gtk_box_append (GTK_BOX (box), grid);
  g_ptr_array_add (grids, grid);

  g_autoptr (GString) totals = g_string_new (NULL);
  g_string_append_printf (totals, "Encoder: patch embedding + %d of %d layers; the whole forward "
                          "measured: %.3f ms (%.2f img/s).", p->layers_run, p->layers_total,
                          p->forward_ms, p->img_per_s);
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      if (s->kind == VB_STAGE_PROJECTOR)
        g_string_append_printf (totals, "\nEncoder + %s: %.3f ms; the projector is %.2f %% of "
                                "the time, %.2f %% of the MACs", s->name, enc + s->ms,
                                100.0 * s->ms / (enc + s->ms),
                                100.0 * s->macs / (double) (enc_macs + s->macs));
    }
  GtkWidget *lines = gtk_label_new (totals->str);
  gtk_label_set_xalign (GTK_LABEL (lines), 0);
  gtk_label_set_selectable (GTK_LABEL (lines), TRUE);
  gtk_label_set_wrap (GTK_LABEL (lines), TRUE);
  gtk_widget_add_css_class (lines, "caption");
  gtk_widget_add_css_class (lines, "dim-label");
  gtk_box_append (GTK_BOX (box), lines);
  return box;
}

GtkWidget *
vb_compare_profile_tables_new (GPtrArray *rows)
{
  /* two resolutions side by side, so the stacked bar under them stays in view */
  GtkWidget *box = gtk_grid_new ();
  GPtrArray *grids = g_ptr_array_new ();
  int n = 0;

  gtk_grid_set_column_spacing (GTK_GRID (box), 36);
  gtk_grid_set_row_spacing (GTK_GRID (box), 18);
  gtk_grid_set_column_homogeneous (GTK_GRID (box), TRUE);

  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  for (guint i = 0; rows && i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      GtkWidget *child;
      if (r->profile != NULL)
        child = block (r, grids);
      else
        {
          /* a run still going, failed, or whose result file is gone */
          g_autofree char *text = g_strdup_printf ("%d px — run %" G_GINT64_FORMAT ": no profile (%s)",
                                                   r->img_size, r->run_id, r->status);
          child = gtk_label_new (text);
          gtk_label_set_xalign (GTK_LABEL (child), 0);
          gtk_widget_set_valign (child, GTK_ALIGN_START);
          gtk_widget_add_css_class (child, "dim-label");
        }
      gtk_grid_attach (GTK_GRID (box), child, n % 2, n / 2, 1, 1);
      n++;
    }
  /* the grids live as long as the box */
  g_object_set_data_full (G_OBJECT (box), GRIDS_KEY, grids, (GDestroyNotify) g_ptr_array_unref);
  return box;
}

guint
vb_compare_profile_tables_n_blocks (GtkWidget *tables)
{
  GPtrArray *grids = tables ? g_object_get_data (G_OBJECT (tables), GRIDS_KEY) : NULL;
  return grids ? grids->len : 0;
}

const char *
vb_compare_profile_tables_get_cell (GtkWidget *tables,
                                    guint      block_index,
                                    guint      row,
                                    guint      column)
{
  GPtrArray *grids = tables ? g_object_get_data (G_OBJECT (tables), GRIDS_KEY) : NULL;

  if (grids == NULL || block_index >= grids->len || column >= N_COLS)
    return NULL;
  GtkWidget *label = gtk_grid_get_child_at (g_ptr_array_index (grids, block_index), (int) column,
                                            (int) row);
  return label ? gtk_label_get_text (GTK_LABEL (label)) : NULL;
}
