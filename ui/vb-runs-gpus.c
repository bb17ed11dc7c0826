/* vb-runs-gpus.c: the Runs page's "GPUs" section. A data-parallel run replaces its
 * "train gpu R" throughput rows at the end of every epoch, so the section is rebuilt from
 * whatever the store holds now; the text of every cell is computed first and the grid is
 * rebuilt only when that text changed, so the page's once-a-second reload costs nothing
 * while the figures stand still. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-compare-protocol.h"
#include "vb-runs-gpus.h"

#define KIND_PREFIX "train gpu "
#define MISSING "–"
#define MAX_RANK 65535

enum {
  COL_RANK,
  COL_GPU,
  COL_RATE,
  COL_MEMORY,
  N_COLUMNS
};

static const char *const column_names[N_COLUMNS] = { "Rank", "GPU", "img/s", "Memory (GiB)" };

struct _VbRunsGpus
{
  AdwBin     parent_instance;

  GtkWidget *grid;
  GtkWidget *caption;
  GPtrArray *cells;        /* char*, N_COLUMNS per row, row-major */
  char      *text;         /* cells and caption as shown, to skip needless rebuilds */
};

G_DEFINE_FINAL_TYPE (VbRunsGpus, vb_runs_gpus, ADW_TYPE_BIN)

/* ---- the cards -------------------------------------------------------------------------- */

/* R of a "train gpu R" kind; FALSE for any other kind. */
static gboolean
parse_rank (const char *kind,
            guint      *rank)
{
  guint64 r;

  if (kind == NULL || !g_str_has_prefix (kind, KIND_PREFIX))
    return FALSE;
  if (!g_ascii_string_to_unsigned (kind + strlen (KIND_PREFIX), 10, 0, MAX_RANK, &r, NULL))
    return FALSE;
  *rank = (guint) r;
  return TRUE;
}

/* A field that is a plain non-negative number. The typed json-glib getters warn (fatal in
 * tests) or coerce on a mistyped member, so the node's type is checked first. */
static gboolean
card_number (JsonObject *card,
             const char *field,
             gboolean    integer_only,
             double     *out)
{
  JsonNode *node = card ? json_object_get_member (card, field) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType type = json_node_get_value_type (node);
  double v;
  if (type == G_TYPE_INT64)
    v = (double) json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE && !integer_only)
    v = json_node_get_double (node);
  else
    return FALSE;
  if (!isfinite (v) || v < 0)
    return FALSE;
  *out = v;
  return TRUE;
}

static char *
card_count_text (JsonObject *card,
                 const char *field)
{
  double v;
  return card_number (card, field, TRUE, &v) ? g_strdup_printf ("%.0f", v) : g_strdup (MISSING);
}

static char *
card_memory_text (JsonObject *card)
{
  double bytes;
  if (!card_number (card, "memory_bytes", FALSE, &bytes))
    return g_strdup (MISSING);
  return g_strdup_printf ("%.1f", bytes / (1024.0 * 1024.0 * 1024.0));
}

static char *
rate_text (double img_per_s)
{
  if (!isfinite (img_per_s) || img_per_s < 0)
    return g_strdup (MISSING);
  return g_strdup_printf ("%.1f", img_per_s);
}

/* ---- the rows --------------------------------------------------------------------------- */

static int
compare_rank (gconstpointer a,
              gconstpointer b)
{
  guint ra = 0, rb = 0;
  parse_rank ((*(VbThroughputRecord **) a)->kind, &ra);
  parse_rank ((*(VbThroughputRecord **) b)->kind, &rb);
  return ra < rb ? -1 : ra > rb;
}

/* The "train gpu R" records (borrowed), one per rank, in rank order. Should a rank appear
 * twice (added rather than replaced), the later record wins: it is the newer figure. */
static GPtrArray *
gpu_records (GPtrArray *throughput)
{
  g_autoptr (GHashTable) by_rank = g_hash_table_new (NULL, NULL);
  GPtrArray *records = g_ptr_array_new ();

  for (guint i = 0; throughput != NULL && i < throughput->len; i++)
    {
      VbThroughputRecord *t = g_ptr_array_index (throughput, i);
      guint rank;
      if (t == NULL || !parse_rank (t->kind, &rank))
        continue;
      gpointer slot;
      if (g_hash_table_lookup_extended (by_rank, GUINT_TO_POINTER (rank), NULL, &slot))
        {
          g_ptr_array_index (records, GPOINTER_TO_UINT (slot)) = t;
          continue;
        }
      g_hash_table_insert (by_rank, GUINT_TO_POINTER (rank), GUINT_TO_POINTER (records->len));
      g_ptr_array_add (records, t);
    }
  g_ptr_array_sort (records, compare_rank);
  return records;
}

static void
append_row_cells (GPtrArray          *cells,
                  VbThroughputRecord *t)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *card = vb_protocol_card_parse (parser, t->protocol_json);
  guint rank = 0;

  parse_rank (t->kind, &rank);
  g_ptr_array_add (cells, g_strdup_printf ("%u", rank));
  g_ptr_array_add (cells, card_count_text (card, "gpu"));
  g_ptr_array_add (cells, rate_text (t->img_per_s));
  g_ptr_array_add (cells, card_memory_text (card));
}

/* The first card, in rank order, that has the field: every rank's card should say the
 * same, and one broken card should not hide what the others say. */
static char *
batch_text (GPtrArray  *records,
            const char *field)
{
  for (guint i = 0; i < records->len; i++)
    {
      VbThroughputRecord *t = g_ptr_array_index (records, i);
      g_autoptr (JsonParser) parser = json_parser_new ();
      double v;
      if (card_number (vb_protocol_card_parse (parser, t->protocol_json), field, TRUE, &v))
        return g_strdup_printf ("%.0f", v);
    }
  return g_strdup (MISSING);
}

static char *
caption_text (GPtrArray *records)
{
  g_autofree char *per_gpu = batch_text (records, "per_gpu_batch");
  g_autofree char *global = batch_text (records, "global_batch");
  return g_strdup_printf ("%s images per GPU, %s per step", per_gpu, global);
}

/* ---- the widgets ------------------------------------------------------------------------ */

static GtkWidget *
cell_label (const char *text,
            gboolean    heading)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 1);   /* every column is a number */
  gtk_widget_add_css_class (label, heading ? "caption-heading" : "numeric");
  if (heading)
    gtk_widget_add_css_class (label, "dim-label");
  return label;
}

static void
rebuild_grid (VbRunsGpus *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->grid)) != NULL)
    gtk_grid_remove (GTK_GRID (self->grid), child);

  for (guint c = 0; c < N_COLUMNS; c++)
    gtk_grid_attach (GTK_GRID (self->grid), cell_label (column_names[c], TRUE), c, 0, 1, 1);
  for (guint i = 0; i < self->cells->len; i++)
    gtk_grid_attach (GTK_GRID (self->grid), cell_label (g_ptr_array_index (self->cells, i), FALSE),
                     i % N_COLUMNS, 1 + i / N_COLUMNS, 1, 1);
}

static char *
table_text (GPtrArray *cells)
{
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < cells->len; i++)
    g_string_append_printf (text, "%s%s", (const char *) g_ptr_array_index (cells, i),
                            (i + 1) % N_COLUMNS == 0 ? "\n" : "\t");
  return g_string_free (text, FALSE);
}

void
vb_runs_gpus_set_throughput (VbRunsGpus *self,
                             GPtrArray  *throughput)
{
  g_return_if_fail (VB_IS_RUNS_GPUS (self));

  g_autoptr (GPtrArray) records = gpu_records (throughput);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < records->len; i++)
    append_row_cells (cells, g_ptr_array_index (records, i));
  g_autofree char *caption = caption_text (records);
  g_autofree char *table = table_text (cells);
  g_autofree char *text = g_strconcat (table, caption, NULL);

  gtk_widget_set_visible (GTK_WIDGET (self), records->len > 0);
  if (g_strcmp0 (text, self->text) == 0)
    return;
  g_free (self->text);
  self->text = g_steal_pointer (&text);
  g_ptr_array_unref (self->cells);
  self->cells = g_steal_pointer (&cells);
  gtk_label_set_text (GTK_LABEL (self->caption), caption);
  rebuild_grid (self);
}

/* ---- for tests -------------------------------------------------------------------------- */

guint
vb_runs_gpus_get_n_rows (VbRunsGpus *self)
{
  g_return_val_if_fail (VB_IS_RUNS_GPUS (self), 0);
  return self->cells->len / N_COLUMNS;
}

char *
vb_runs_gpus_dup_cell (VbRunsGpus *self,
                       guint       row,
                       const char *column)
{
  g_return_val_if_fail (VB_IS_RUNS_GPUS (self), NULL);

  if (row >= vb_runs_gpus_get_n_rows (self))
    return NULL;
  for (guint c = 0; c < N_COLUMNS; c++)
    if (g_strcmp0 (column_names[c], column) == 0)
      return g_strdup (g_ptr_array_index (self->cells, row * N_COLUMNS + c));
  return NULL;
}

char *
vb_runs_gpus_dup_text (VbRunsGpus *self)
{
  g_return_val_if_fail (VB_IS_RUNS_GPUS (self), NULL);
  return table_text (self->cells);
}

const char *
vb_runs_gpus_get_caption (VbRunsGpus *self)
{
  g_return_val_if_fail (VB_IS_RUNS_GPUS (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->caption));
}

/* ---- construction ----------------------------------------------------------------------- */

static void
vb_runs_gpus_finalize (GObject *object)
{
  VbRunsGpus *self = VB_RUNS_GPUS (object);

  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->text, g_free);

  G_OBJECT_CLASS (vb_runs_gpus_parent_class)->finalize (object);
}

static void
vb_runs_gpus_class_init (VbRunsGpusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = vb_runs_gpus_finalize;
}

static void
vb_runs_gpus_init (VbRunsGpus *self)
{
  self->cells = g_ptr_array_new_with_free_func (g_free);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = gtk_label_new ("GPUs");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (box), title);

  /* a compact card that hugs its columns rather than a full-width list */
  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 28);
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 4);
  gtk_widget_set_margin_top (self->grid, 8);
  gtk_widget_set_margin_bottom (self->grid, 8);
  gtk_widget_set_margin_start (self->grid, 14);
  gtk_widget_set_margin_end (self->grid, 14);
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_set_halign (card, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (card), self->grid);
  gtk_box_append (GTK_BOX (box), card);

  self->caption = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->caption), 0);
  gtk_widget_add_css_class (self->caption, "caption");
  gtk_widget_add_css_class (self->caption, "dim-label");
  gtk_box_append (GTK_BOX (box), self->caption);

  adw_bin_set_child (ADW_BIN (self), box);
  rebuild_grid (self);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);   /* until a run has GPU rows */
}

GtkWidget *
vb_runs_gpus_new (void)
{
  return g_object_new (VB_TYPE_RUNS_GPUS, NULL);
}
