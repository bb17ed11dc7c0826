/* vb-compare-clip-profile.c: the clip-profile table, a block per resolution: Stage | ms |
 * % of total | MACs (G) | GMAC/s, encoder and projector totals, and a text stacked bar.
 * Compare, not show, prints it: `run` ends with the compare of the runs it just made, and
 * the point of the profile is 224 next to 336. */
#include "config.h"

#include "vb-compare-private.h"

#include <math.h>
#include <string.h>

#define BAR_WIDTH 60

gboolean
vb_compare_fill_clip_profile (VbCompareRow *r, VbStore *store, const VbRunConfig *rc,
                              GError **error)
{
  r->clip_profile = TRUE;
  r->model = g_strdup ("clip-profile");
  r->scan = g_strdup ("—");
  r->img_size = rc->img_size;
  r->random_encoder = rc->proj.clip_weights == NULL || rc->proj.clip_weights[0] == '\0';
  g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, r->run_id, error);
  if (arts == NULL)
    return FALSE;
  for (guint i = 0; i < arts->len; i++)
    {
      VbArtifactRecord *a = g_ptr_array_index (arts, i);
      g_auto (VbClipProfile) p = { 0 };
      /* a result file deleted or damaged since leaves the run without a table */
      if (g_strcmp0 (a->kind, VB_CLIP_PROFILE_RESULT_KIND) != 0
          || !vb_clip_profile_load (a->path, &p, NULL))
        continue;
      if (r->profile != NULL)
        vb_clip_profile_clear (r->profile);
      else
        r->profile = g_new0 (VbClipProfile, 1);
      *r->profile = p;
      memset (&p, 0, sizeof p);
      r->eval_img_per_s = r->profile->img_per_s;
    }
  return TRUE;
}

/* ---- the table ---------------------------------------------------------------------------- */

enum { C_STAGE, C_MS, C_SHARE, C_MACS, C_RATE, N_COLS };

static const char *const head[N_COLS] = { "Stage", "ms", "% of total", "MACs (G)", "GMAC/s" };
static const gboolean right_aligned[N_COLS] = { FALSE, TRUE, TRUE, TRUE, TRUE };

static char *
fmt (double v, const char *f)
{
  return isfinite (v) ? g_strdup_printf (f, v) : g_strdup ("—");
}

/* cells of one resolution's table, header first */
static GPtrArray *
table_cells (const VbClipProfile *p)
{
  GPtrArray *cells = g_ptr_array_new_with_free_func (g_free);
  double enc = vb_clip_profile_encoder_ms (p);
  for (int c = 0; c < N_COLS; c++)
    g_ptr_array_add (cells, g_strdup (head[c]));
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      /* an encoder stage: of the encoder; a projector: of encoder + it (LLaVA runs one) */
      double total = s->kind == VB_STAGE_PROJECTOR ? enc + s->ms : enc;
      g_ptr_array_add (cells, g_strdup (s->name));
      g_ptr_array_add (cells, fmt (s->ms, "%.3f"));
      g_ptr_array_add (cells, fmt (100.0 * s->ms / total, "%.1f"));
      g_ptr_array_add (cells, fmt (s->macs / 1e9, "%.4g"));   /* ViT-L's and a test's */
      g_ptr_array_add (cells, fmt (s->macs / 1e9 / (s->ms / 1e3), "%.1f"));
    }
  return cells;
}

/* "Encoder (23 of 24 layers): … ms, … GMAC; whole forward … ms, … img/s" and one line
 * per projector: encoder + it, and its share */
static void
append_totals (GString *out, const VbClipProfile *p)
{
  double enc = vb_clip_profile_encoder_ms (p);
  g_string_append_printf (out, "Encoder (patch embedding + %d of %d layers): %.3f ms, "
                          "%.3f GMAC; the whole forward measured: %.3f ms (%.2f img/s)\n",
                          p->layers_run, p->layers_total, enc,
                          vb_clip_profile_encoder_macs (p) / 1e9, p->forward_ms, p->img_per_s);
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      if (s->kind == VB_STAGE_PROJECTOR)
        g_string_append_printf (out, "  encoder + %-13s %.3f ms, projector %.2f %% of the "
                                "time, %.2f %% of the MACs\n", s->name, enc + s->ms,
                                100.0 * s->ms / (enc + s->ms),
                                100.0 * s->macs / (double) (vb_clip_profile_encoder_macs (p)
                                                            + s->macs));
    }
}

/* ---- the stacked bar ------------------------------------------------------------------------ */

static const char *
symbol (const VbStackedBar *bar, guint i)
{
  static const struct { const char *name, *sym; } proj[] = {
    { "proj-linear", "L" }, { "proj-lowrank", "R" }, { "proj-mlp", "M" },
    { "proj-gated", "G" }, { "proj-lora", "A" },
  };
  if (bar->kinds[i] == VB_STAGE_EMBEDDING)
    return "▒";
  if (bar->kinds[i] == VB_STAGE_LAYER)
    return "█";
  for (guint k = 0; k < G_N_ELEMENTS (proj); k++)
    if (g_strcmp0 (bar->names[i], proj[k].name) == 0)
      return proj[k].sym;
  return "?";
}

/* One line per resolution on a common scale (the slowest bar is BAR_WIDTH characters):
 * every segment gets at least one character, so the projectors stay visible; the rest
 * is shared in proportion to ms, rounding the running sum so the widths add up. */
static void
append_bars (GString *out, GPtrArray *rows)
{
  g_autoptr (GArray) bars = g_array_new (FALSE, TRUE, sizeof (VbStackedBar));
  g_array_set_clear_func (bars, (GDestroyNotify) vb_stacked_bar_clear);
  double longest = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (r->profile == NULL)
        continue;
      VbStackedBar bar = { 0 };
      vb_clip_profile_bar (r->profile, &bar);
      double total = 0;
      for (guint k = 0; k < bar.n; k++)
        total += bar.ms[k];
      longest = MAX (longest, total);
      g_array_append_val (bars, bar);
    }
  if (bars->len == 0 || !(longest > 0))
    return;
  g_string_append (out, "\nStacked bar, ms per image (one scale; each segment at least one "
                        "character; the five projectors are alternatives, side by side):\n");
  for (guint b = 0; b < bars->len; b++)
    {
      VbStackedBar *bar = &g_array_index (bars, VbStackedBar, b);
      double total = 0, run = 0;
      for (guint k = 0; k < bar->n; k++)
        total += bar->ms[k];
      int chars = MAX ((int) bar->n, (int) lround (BAR_WIDTH * total / longest));
      int spare = chars - (int) bar->n, used = 0;
      g_string_append_printf (out, "%7s │", bar->label);
      for (guint k = 0; k < bar->n; k++)
        {
          run += bar->ms[k];
          int upto = total > 0 ? (int) lround (spare * run / total) : 0;
          for (int c = 0; c < 1 + upto - used; c++)
            g_string_append (out, symbol (bar, k));
          used = upto;
        }
      g_string_append_printf (out, "│ %.1f ms\n", total);
    }
  VbStackedBar *bar = &g_array_index (bars, VbStackedBar, 0);
  g_string_append (out, "Legend:");
  for (guint k = 0; k < bar->n; k++)
    g_string_append_printf (out, "  %s %s", symbol (bar, k), bar->names[k]);
  g_string_append_c (out, '\n');
}

/* ---- all of it ---------------------------------------------------------------------------- */

char *
vb_compare_render_clip_profile (GPtrArray *rows, VbTableFormat format)
{
  GString *out = g_string_new (NULL);
  gboolean prose = format == VB_TABLE_TEXT || format == VB_TABLE_MARKDOWN;
  const VbClipProfile *any = NULL;
  for (guint i = 0; i < rows->len && any == NULL; i++)
    any = ((VbCompareRow *) g_ptr_array_index (rows, i))->profile;
  if (format == VB_TABLE_CSV)
    g_string_append (out, "Run,Img,Stage,Kind,ms,% of total,MACs (G),GMAC/s\n");
  else if (prose && any != NULL)
    {
      g_string_append_printf (out, "CLIP profile — fp32 on the CPU, %d thread%s, batch %d; "
                              "ms = median per image over the timed calls; MACs per image\n"
                              "%% of total: an encoder stage's share of the encoder; a "
                              "projector's share of encoder + that projector\n",
                              any->threads, any->threads == 1 ? "" : "s", any->batch);
      if (any->random_weights)
        g_string_append_printf (out, "Notice: encoder: %s — times and MACs do not depend on "
                                "the weights, but the features are not CLIP's\n",
                                any->weights);
    }
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      const VbClipProfile *p = r->profile;
      if (p == NULL)
        {
          if (prose)
            g_string_append_printf (out, "\nRun %" G_GINT64_FORMAT " (%d px): no profile "
                                    "(%s)\n", r->run_id, r->img_size, r->status);
          continue;
        }
      g_autoptr (GPtrArray) cells = table_cells (p);
      if (format == VB_TABLE_CSV)
        {
          for (guint k = 0; k < p->stages->len; k++)
            {
              const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, k);
              static const char *const kinds[] = { "embedding", "layer", "projector" };
              g_string_append_printf (out, "%" G_GINT64_FORMAT ",%d,%s,%s", r->run_id,
                                      p->img_size, s->name, kinds[s->kind]);
              for (int c = C_MS; c < N_COLS; c++)
                g_string_append_printf (out, ",%s",
                                        (char *) g_ptr_array_index (cells, (k + 1) * N_COLS + c));
              g_string_append_c (out, '\n');
            }
          continue;
        }
      g_autofree char *title = g_strdup_printf (
        "%d px — run %" G_GINT64_FORMAT ": %s, %s, %d of %d layers (%s), %d patch tokens",
        p->img_size, r->run_id, p->encoder, p->weights, p->layers_run, p->layers_total,
        p->layers_run < p->layers_total ? "up to hidden_states[-2], LLaVA's features"
                                        : "every layer", p->tokens);
      /* LaTeX: the title as a comment above the tabular, no prose */
      g_string_append_printf (out, "%s%s%s\n%s", i || prose ? "\n" : "",
                              format == VB_TABLE_MARKDOWN ? "### "
                              : format == VB_TABLE_LATEX ? "% " : "", title, prose ? "\n" : "");
      vb_compare_append_table (out, cells, N_COLS, right_aligned, format);
      if (prose)
        {
          g_string_append_c (out, '\n');
          append_totals (out, p);
        }
    }
  if (format == VB_TABLE_TEXT)
    append_bars (out, rows);
  return g_string_free (out, FALSE);
}
