/* vb-presentation-table.c: the comparison table in large type. The cells come from the
 * Compare page's public API (vb_compare_page_dup_cell and _get_cell_style), so the
 * presentation shows exactly what the page shows; the drawing measures every cell at
 * the base size, then scales the whole table to fit, so ten runs or long names never
 * clip. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <pango/pangocairo.h>

#include "vb-compare-charts.h"
#include "vb-presentation-table.h"

enum {
  CELL_BOLD = 1 << 0,
  CELL_FLAGGED = 1 << 1,
};

/* the Δ columns only with a baseline; text columns may fold */
static const struct {
  const char *column;
  gboolean    numeric;
  gboolean    delta;
  gboolean    foldable;
} shown[] = {
  { "Model", FALSE, FALSE, TRUE },
  { "Dirs", FALSE, FALSE, TRUE },
  { "ImgSize", TRUE, FALSE, TRUE },
  { "Top-1", TRUE, FALSE, FALSE },
  { "ΔTop-1", TRUE, TRUE, FALSE },
  { "Top-5", TRUE, FALSE, FALSE },
  { "img/s", TRUE, FALSE, FALSE },
  { "Δimg/s", TRUE, TRUE, FALSE },
  { "Params", TRUE, FALSE, FALSE },
};

#define CELL(t, r, c) ((const char *) g_ptr_array_index ((t)->cells, (r) * (t)->columns->len + (c)))
#define STYLE(t, r, c) g_array_index ((t)->styles, guint8, (r) * (t)->columns->len + (c))
#define FOLDED(t, c) g_array_index ((t)->folded, gboolean, (c))

static gboolean
is_numeric (const char *column)
{
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    if (g_str_equal (shown[i].column, column))
      return shown[i].numeric;
  return FALSE;
}

void
vb_presentation_table_read (VbPresentationTable *table,
                            VbComparePage       *compare)
{
  gboolean deltas = vb_compare_page_get_baseline (compare) != 0;

  table->columns = g_ptr_array_new_with_free_func (g_free);
  table->folded = g_array_new (FALSE, TRUE, sizeof (gboolean));
  table->cells = g_ptr_array_new_with_free_func (g_free);
  table->styles = g_array_new (FALSE, TRUE, sizeof (guint8));
  table->colors = g_array_new (FALSE, TRUE, sizeof (int));
  table->n_rows = vb_compare_page_get_n_rows (compare);

  g_ptr_array_add (table->columns, g_strdup ("Run"));
  for (guint s = 0; s < G_N_ELEMENTS (shown); s++)
    if (deltas || !shown[s].delta)
      g_ptr_array_add (table->columns, g_strdup (shown[s].column));
  g_array_set_size (table->folded, table->columns->len);

  for (guint row = 0; row < table->n_rows; row++)
    {
      gint64 run_id = vb_compare_page_get_row_run (compare, row);
      int color = vb_compare_run_color (run_id);

      g_array_append_val (table->colors, color);
      for (guint c = 0; c < table->columns->len; c++)
        {
          const char *column = g_ptr_array_index (table->columns, c);
          gboolean bold = FALSE, flagged = FALSE;
          char *text;
          guint8 style;

          if (c == 0)
            text = g_strdup_printf ("#%" G_GINT64_FORMAT, run_id);
          else
            {
              text = vb_compare_page_dup_cell (compare, row, column);
              vb_compare_page_get_cell_style (compare, row, column, &bold, &flagged, NULL);
            }
          g_ptr_array_add (table->cells, text ? text : g_strdup (""));
          style = (bold ? CELL_BOLD : 0) | (flagged ? CELL_FLAGGED : 0);
          g_array_append_val (table->styles, style);
        }
    }

  /* a column that says the same in every row says it once */
  for (guint c = 1; c < table->columns->len && table->n_rows > 1; c++)
    {
      gboolean foldable = FALSE;
      for (guint s = 0; s < G_N_ELEMENTS (shown); s++)
        if (g_str_equal (shown[s].column, g_ptr_array_index (table->columns, c)))
          foldable = shown[s].foldable;
      FOLDED (table, c) = foldable;
      for (guint row = 1; foldable && row < table->n_rows; row++)
        if (!g_str_equal (CELL (table, row, c), CELL (table, 0, c)))
          FOLDED (table, c) = FALSE;
    }
}

void
vb_presentation_table_clear (VbPresentationTable *table)
{
  g_clear_pointer (&table->columns, g_ptr_array_unref);
  g_clear_pointer (&table->folded, g_array_unref);
  g_clear_pointer (&table->cells, g_ptr_array_unref);
  g_clear_pointer (&table->styles, g_array_unref);
  g_clear_pointer (&table->colors, g_array_unref);
  table->n_rows = 0;
}

const char *
vb_presentation_table_get (const VbPresentationTable *table,
                           guint                      row,
                           const char                *column)
{
  if (table->columns == NULL || row >= table->n_rows || column == NULL)
    return NULL;
  for (guint c = 0; c < table->columns->len; c++)
    if (g_str_equal (g_ptr_array_index (table->columns, c), column))
      return CELL (table, row, c);
  return NULL;
}

/* ---- drawing ------------------------------------------------------------------------------- */

static void
set_text (PangoLayout *layout,
          const char  *text,
          double       size,
          gboolean     bold)
{
  PangoFontDescription *font = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (layout, text, -1);
}

static double
text_width (PangoLayout *layout,
            const char  *text,
            double       size,
            gboolean     bold)
{
  int w, h;

  set_text (layout, text, size, bold);
  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static void
source (cairo_t      *cr,
        const VbRgba *c)
{
  cairo_set_source_rgba (cr, c->r, c->g, c->b, c->a);
}

/* text at (x, y) top, right-aligned to x when right */
static void
show_text (cairo_t      *cr,
           PangoLayout  *layout,
           const char   *text,
           double        size,
           gboolean      bold,
           double        x,
           double        y,
           gboolean      right)
{
  double w = text_width (layout, text, size, bold);

  cairo_move_to (cr, right ? x - w : x, y);
  pango_cairo_show_layout (cr, layout);
}

static char *
shared_text (const VbPresentationTable *table)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint c = 1; c < table->columns->len; c++)
    {
      if (!FOLDED (table, c))
        continue;
      const char *column = g_ptr_array_index (table->columns, c);
      if (s->len > 0)
        g_string_append (s, " · ");
      g_string_append (s, CELL (table, 0, c));
      if (g_str_equal (column, "ImgSize"))
        g_string_append (s, " px");
    }
  return s->len > 0 ? g_strdup_printf ("Every run: %s", s->str) : NULL;
}

void
vb_presentation_table_draw (const VbPresentationTable *table,
                            cairo_t                   *cr,
                            double                     width,
                            double                     height,
                            const VbChartStyle        *style)
{
  if (table->columns == NULL || table->n_rows == 0 || width <= 0 || height <= 0)
    return;

  /* the base size, then a scale that fits the table into width × height */
  double size = style->font_size * style->font_scale * 1.3;
  double head_size = size * 0.8;
  double gap = size * 1.4;
  double dot = size * 0.7;
  double row_h = size * 1.7;
  g_autofree char *shared = shared_text (table);
  PangoLayout *layout = pango_cairo_create_layout (cr);
  g_autofree double *col_w = g_new0 (double, table->columns->len);
  double total_w = 0;

  for (guint c = 0; c < table->columns->len; c++)
    {
      if (FOLDED (table, c))
        continue;
      col_w[c] = text_width (layout, g_ptr_array_index (table->columns, c), head_size, TRUE);
      for (guint row = 0; row < table->n_rows; row++)
        col_w[c] = MAX (col_w[c], text_width (layout, CELL (table, row, c), size,
                                              STYLE (table, row, c) & CELL_BOLD)
                                  + (c == 0 ? dot + size * 0.4 : 0));
      total_w += col_w[c] + (total_w > 0 ? gap : 0);
    }
  double shared_h = shared ? size * 1.9 : 0;
  double shared_w = shared ? text_width (layout, shared, head_size, FALSE) : 0;
  double total_h = shared_h + row_h * (table->n_rows + 1);
  double scale = MIN (1.35, MIN (width / MAX (total_w, shared_w), height / total_h));

  cairo_save (cr);
  cairo_translate (cr, (width - total_w * scale) / 2, (height - total_h * scale) / 2);
  cairo_scale (cr, scale, scale);
  pango_cairo_update_layout (cr, layout);

  double y = 0;
  if (shared != NULL)
    {
      source (cr, &style->muted_text);
      show_text (cr, layout, shared, head_size, FALSE, 0, y, FALSE);
      y += shared_h;
    }

  /* header, and a rule under it */
  double x = 0;
  source (cr, &style->muted_text);
  for (guint c = 0; c < table->columns->len; c++)
    {
      const char *column = g_ptr_array_index (table->columns, c);
      if (FOLDED (table, c))
        continue;
      gboolean right = is_numeric (column);
      show_text (cr, layout, column, head_size, TRUE, right ? x + col_w[c] : x,
                 y + (size - head_size), right);
      x += col_w[c] + gap;
    }
  y += row_h;
  source (cr, &style->axis);
  cairo_set_line_width (cr, 2);
  cairo_move_to (cr, 0, y - row_h * 0.25);
  cairo_line_to (cr, total_w, y - row_h * 0.25);
  cairo_stroke (cr);

  for (guint row = 0; row < table->n_rows; row++)
    {
      x = 0;
      if (row > 0)
        {
          source (cr, &style->grid);
          cairo_set_line_width (cr, 1);
          cairo_move_to (cr, 0, y - row_h * 0.2);
          cairo_line_to (cr, total_w, y - row_h * 0.2);
          cairo_stroke (cr);
        }
      for (guint c = 0; c < table->columns->len; c++)
        {
          const char *column = g_ptr_array_index (table->columns, c);
          guint8 cell_style = STYLE (table, row, c);
          if (FOLDED (table, c))
            continue;
          if (c == 0)
            {
              /* the run's colour, as in the bars and curves */
              source (cr, vb_chart_style_series_color (style, g_array_index (table->colors, int, row)));
              cairo_arc (cr, x + dot / 2, y + size * 0.62, dot / 2, 0, 2 * G_PI);
              cairo_fill (cr);
              source (cr, &style->text);
              show_text (cr, layout, CELL (table, row, c), size, FALSE, x + dot + size * 0.4, y, FALSE);
            }
          else
            {
              gboolean right = is_numeric (column);
              source (cr, cell_style & CELL_FLAGGED ? &style->warning : &style->text);
              show_text (cr, layout, CELL (table, row, c), size, cell_style & CELL_BOLD,
                         right ? x + col_w[c] : x, y, right);
            }
          x += col_w[c] + gap;
        }
      y += row_h;
    }
  cairo_restore (cr);
  g_object_unref (layout);
}
