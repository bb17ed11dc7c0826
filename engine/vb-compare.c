#include "config.h"

#include "vb-compare.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-compare-private.h"
#include "vb-error.h"
#include "vb-run-config.h"

gboolean
vb_table_format_from_string (const char *s, VbTableFormat *out)
{
  static const char *const names[] = { "table", "csv", "md", "tex" };
  for (int i = 0; i < 4; i++)
    if (g_strcmp0 (s, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static void
row_free (gpointer p)
{
  VbCompareRow *r = p;
  g_free (r->name);
  g_free (r->model);
  g_free (r->scan);
  g_free (r->status);
  g_free (r->encoder);
  g_free (r->warning);
  if (r->profile != NULL)
    vb_clip_profile_clear (r->profile);
  g_free (r->profile);
  g_free (r);
}

GPtrArray *
vb_compare_rows (VbStore *store, const gint64 *run_ids, guint n, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (row_free);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VbRunRecord) run = vb_store_get_run (store, run_ids[i], error);
      if (run == NULL)
        return NULL;
      VbCompareRow *r = g_new0 (VbCompareRow, 1);
      g_ptr_array_add (rows, r);
      r->run_id = run->id;
      r->name = g_strdup (run->name);
      r->status = g_strdup (vb_run_status_to_string (run->status));
      r->params = run->params;
      r->top1 = r->top5 = r->train_img_per_s = r->eval_img_per_s = NAN;
      r->test_loss = r->proxy_top1 = r->macs_per_token = r->runtime_ms = NAN;
      r->ridge_loss = r->ridge_top1 = r->ridge_params = r->ridge_macs = NAN;
      r->lowrank_loss = r->lowrank_top1 = r->lowrank_params = r->lowrank_macs = NAN;
      r->seed = run->seed;

      g_autoptr (JsonParser) parser = json_parser_new ();
      g_auto (VbRunConfig) rc = { 0 };
      gboolean parsed = run->config_json
                        && json_parser_load_from_data (parser, run->config_json, -1, NULL)
                        && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
                        && vb_run_config_from_json (&rc, json_node_get_object (
                                                      json_parser_get_root (parser)), NULL);
      if (parsed && vb_run_config_is_clip_profile (&rc))
        {
          if (!vb_compare_fill_clip_profile (r, store, &rc, error))
            return NULL;
          continue;
        }
      if (parsed && vb_run_config_is_projector (&rc))
        {
          if (!vb_compare_fill_projector (r, store, &rc, error))
            return NULL;
          continue;
        }
      if (parsed)
        {
          g_autoptr (GString) depths = g_string_new (NULL);
          for (int s = 0; s < rc.model.n_stages; s++)
            g_string_append_printf (depths, s ? "-%d" : "%d", rc.model.depths[s]);
          r->model = g_strdup_printf ("VMamba d%d [%s]", rc.model.dims[0], depths->str);
          r->scan = g_strdup (vb_scan_mode_label (rc.model.scan));
          r->img_size = rc.img_size;
        }
      else
        {
          r->model = g_strdup ("?");
          r->scan = g_strdup ("?");
        }

      g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run->id, error);
      if (epochs == NULL)
        return NULL;
      if (epochs->len > 0)
        {
          VbEpochMetric *last = &g_array_index (epochs, VbEpochMetric, epochs->len - 1);
          r->top1 = last->val_top1;
          r->top5 = last->val_top5;
        }
      g_autoptr (GPtrArray) tp = vb_store_get_throughput (store, run->id, error);
      if (tp == NULL)
        return NULL;
      for (guint t = 0; t < tp->len; t++)
        {
          VbThroughputRecord *rec = g_ptr_array_index (tp, t);
          if (g_strcmp0 (rec->kind, "train") == 0)
            r->train_img_per_s = rec->img_per_s;
          else if (g_strcmp0 (rec->kind, "eval") == 0)
            r->eval_img_per_s = rec->img_per_s;
        }
    }
  return g_steal_pointer (&rows);
}

/* ---- rendering --------------------------------------------------------------------------- */

#define N_COLS 11

char *
vb_compare_fmt (double v, const char *f)
{
  return isnan (v) ? g_strdup ("—") : g_strdup_printf (f, v);
}

static char *
fmt_delta (double v, double base)
{
  if (isnan (v) || isnan (base))
    return g_strdup ("—");
  return g_strdup_printf ("%+.2f", v - base);
}

char *
vb_compare_escape (const char *s, VbTableFormat format)
{
  GString *out = g_string_new (NULL);
  gboolean quote = format == VB_TABLE_CSV && strpbrk (s, ",\"\n") != NULL;
  if (quote)
    g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      if (format == VB_TABLE_CSV && *p == '"')
        g_string_append_c (out, '"');
      if (format == VB_TABLE_LATEX && strchr ("&%$#_{}", *p))
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  if (quote)
    g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

void
vb_compare_append_table (GString *out, GPtrArray *cells, int n_cols, const gboolean *right,
                         VbTableFormat format)
{
  guint nr = cells->len / n_cols;
#define CELL(r, c) ((const char *) g_ptr_array_index (cells, (r) * n_cols + (c)))
  switch (format)
    {
    case VB_TABLE_TEXT:
      {
        g_autofree int *width = g_new0 (int, n_cols);
        for (guint r = 0; r < nr; r++)
          for (int c = 0; c < n_cols; c++)
            width[c] = MAX (width[c], (int) g_utf8_strlen (CELL (r, c), -1));
        for (guint r = 0; r < nr; r++)
          {
            for (int c = 0; c < n_cols; c++)
              {
                int pad = width[c] - (int) g_utf8_strlen (CELL (r, c), -1);
                if (right[c])
                  g_string_append_printf (out, "%*s", pad, "");
                g_string_append (out, CELL (r, c));
                if (!right[c] && c != n_cols - 1)
                  g_string_append_printf (out, "%*s", pad, "");
                g_string_append (out, c == n_cols - 1 ? "\n" : "  ");
              }
            if (r == 0)
              for (int c = 0; c < n_cols; c++)
                {
                  for (int k = 0; k < width[c]; k++)
                    g_string_append (out, "─");
                  g_string_append (out, c == n_cols - 1 ? "\n" : "  ");
                }
          }
        break;
      }
    case VB_TABLE_CSV:
    case VB_TABLE_MARKDOWN:
      for (guint r = 0; r < nr; r++)
        {
          gboolean md = format == VB_TABLE_MARKDOWN;
          for (int c = 0; c < n_cols; c++)
            {
              g_autofree char *e = vb_compare_escape (CELL (r, c), format);
              if (md)
                g_string_append_printf (out, "| %s ", e);
              else
                g_string_append_printf (out, "%s%s", c ? "," : "", e);
            }
          g_string_append (out, md ? "|\n" : "\n");
          if (md && r == 0)
            {
              for (int c = 0; c < n_cols; c++)
                g_string_append (out, right[c] ? "| ---: " : "| --- ");
              g_string_append (out, "|\n");
            }
        }
      break;
    case VB_TABLE_LATEX:
      g_string_append (out, "\\begin{tabular}{");
      for (int c = 0; c < n_cols; c++)
        g_string_append_c (out, right[c] ? 'r' : 'l');
      g_string_append (out, "}\n\\hline\n");
      for (guint r = 0; r < nr; r++)
        {
          for (int c = 0; c < n_cols; c++)
            {
              g_autofree char *e = vb_compare_escape (CELL (r, c), format);
              g_string_append_printf (out, "%s%s", c ? " & " : "", e);
            }
          g_string_append (out, " \\\\\n");
          if (r == 0)
            g_string_append (out, "\\hline\n");
        }
      g_string_append (out, "\\hline\n\\end{tabular}\n");
      break;
    }
#undef CELL
}

char *
vb_compare_render (GPtrArray *rows, int baseline_index, VbTableFormat format)
{
  static const char *const head[N_COLS] = {
    "Run", "Model", "Scan", "Img", "Params", "Top-1 (%)", "Top-5 (%)", "ΔTop-1",
    "Train img/s", "Eval img/s", "Status"
  };
  gboolean all_projector = rows->len > 0;
  for (guint i = 0; i < rows->len; i++)
    all_projector &= ((VbCompareRow *) g_ptr_array_index (rows, i))->projector;
  if (all_projector)
    return vb_compare_render_projector (rows, format);
  gboolean all_profile = rows->len > 0;
  for (guint i = 0; i < rows->len; i++)
    all_profile &= ((VbCompareRow *) g_ptr_array_index (rows, i))->clip_profile;
  if (all_profile)
    return vb_compare_render_clip_profile (rows, format);
  gboolean with_delta = baseline_index >= 0 && baseline_index < (int) rows->len;
  double base = with_delta ? ((VbCompareRow *) g_ptr_array_index (rows, baseline_index))->top1
                           : NAN;

  /* cells[r][c], row 0 = header */
  guint nr = rows->len + 1;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  for (int c = 0; c < N_COLS; c++)
    g_ptr_array_add (cells, g_strdup (head[c]));
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, r->run_id));
      g_ptr_array_add (cells, g_strdup (r->model));
      g_ptr_array_add (cells, g_strdup (r->scan));
      g_ptr_array_add (cells, g_strdup_printf ("%d", r->img_size));
      g_ptr_array_add (cells, r->params ? g_strdup_printf ("%" G_GINT64_FORMAT, r->params)
                                        : g_strdup ("—"));
      g_ptr_array_add (cells, vb_compare_fmt (r->top1, "%.2f"));
      g_ptr_array_add (cells, vb_compare_fmt (r->top5, "%.2f"));
      g_ptr_array_add (cells, (int) i == baseline_index ? g_strdup ("baseline")
                                                       : fmt_delta (r->top1, base));
      g_ptr_array_add (cells, vb_compare_fmt (r->train_img_per_s, "%.1f"));
      g_ptr_array_add (cells, vb_compare_fmt (r->eval_img_per_s, "%.1f"));
      g_ptr_array_add (cells, g_strdup (r->status));
    }
#define CELL(r, c) ((const char *) g_ptr_array_index (cells, (r) * N_COLS + (c)))
  GString *out = g_string_new (NULL);
  gboolean show[N_COLS];
  for (int c = 0; c < N_COLS; c++)
    show[c] = c != 7 || with_delta;

  switch (format)
    {
    case VB_TABLE_TEXT:
      {
        int width[N_COLS] = { 0 };
        for (guint r = 0; r < nr; r++)
          for (int c = 0; c < N_COLS; c++)
            width[c] = MAX (width[c], (int) g_utf8_strlen (CELL (r, c), -1));
        for (guint r = 0; r < nr; r++)
          {
            for (int c = 0; c < N_COLS; c++)
              if (show[c])
                {
                  int pad = width[c] - (int) g_utf8_strlen (CELL (r, c), -1);
                  gboolean right = c == 0 || (c >= 3 && c <= 9);
                  if (right)
                    g_string_append_printf (out, "%*s", pad, "");
                  g_string_append (out, CELL (r, c));
                  if (!right)
                    g_string_append_printf (out, "%*s", pad, "");
                  g_string_append (out, c == N_COLS - 1 ? "" : "  ");
                }
            g_string_append_c (out, '\n');
            if (r == 0)
              {
                for (int c = 0; c < N_COLS; c++)
                  if (show[c])
                    {
                      for (int k = 0; k < width[c]; k++)
                        g_string_append (out, "─");
                      g_string_append (out, c == N_COLS - 1 ? "" : "  ");
                    }
                g_string_append_c (out, '\n');
              }
          }
        break;
      }
    case VB_TABLE_CSV:
      for (guint r = 0; r < nr; r++)
        {
          gboolean first = TRUE;
          for (int c = 0; c < N_COLS; c++)
            if (show[c])
              {
                g_autofree char *q = vb_compare_escape (CELL (r, c), VB_TABLE_CSV);
                g_string_append_printf (out, "%s%s", first ? "" : ",", q);
                first = FALSE;
              }
          g_string_append_c (out, '\n');
        }
      break;
    case VB_TABLE_MARKDOWN:
      for (guint r = 0; r < nr; r++)
        {
          g_string_append (out, "|");
          for (int c = 0; c < N_COLS; c++)
            if (show[c])
              g_string_append_printf (out, " %s |", CELL (r, c));
          g_string_append_c (out, '\n');
          if (r == 0)
            {
              g_string_append (out, "|");
              for (int c = 0; c < N_COLS; c++)
                if (show[c])
                  g_string_append (out, (c == 0 || (c >= 3 && c <= 9)) ? " ---: |" : " --- |");
              g_string_append_c (out, '\n');
            }
        }
      break;
    case VB_TABLE_LATEX:
      {
        g_string_append (out, "\\begin{tabular}{");
        for (int c = 0; c < N_COLS; c++)
          if (show[c])
            g_string_append_c (out, (c == 0 || (c >= 3 && c <= 9)) ? 'r' : 'l');
        g_string_append (out, "}\n\\hline\n");
        for (guint r = 0; r < nr; r++)
          {
            gboolean first = TRUE;
            for (int c = 0; c < N_COLS; c++)
              if (show[c])
                {
                  g_autofree char *e = vb_compare_escape (CELL (r, c), VB_TABLE_LATEX);
                  g_string_append_printf (out, "%s%s", first ? "" : " & ", e);
                  first = FALSE;
                }
            g_string_append (out, " \\\\\n");
            if (r == 0)
              g_string_append (out, "\\hline\n");
          }
        g_string_append (out, "\\hline\n\\end{tabular}\n");
        break;
      }
    }
#undef CELL
  return g_string_free (out, FALSE);
}
