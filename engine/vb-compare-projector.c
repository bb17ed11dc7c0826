/* vb-compare-projector.c: the projector study's table (clip-projectors.md §3.1, §4):
 * Projector | Seed | Test loss | Proxy Top-1 | Params (M) | FLOPs (M) | Runtime ms |
 * Encoder. "FLOPs (M)" is the seed table's unit, multiply-adds per token in millions.
 *
 * The §4.6 ridge control is a line of its own ("ridge (closed form)") under each Linear
 * run, not a column: it has every metric of a row (loss, Top-1, and Linear's
 * parameters and FLOPs), and the point is to read the trained Linear against it. A
 * LowRank run gets its own optimum the same way: "reduced-rank (closed form, r N)"
 * (§4.6) in Mode A, "PCA (closed form, r N)" (§4.4) in Mode B. Mode B runs carry §4.4's
 * warning under the table. LoRA on the trained base of §4.5 (model.lora_base) is labelled
 * "proj-lora (base: Linear on classes 0–4)". */
#include "config.h"

#include "vb-compare-private.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-projector-study.h"

static double
num_at (JsonObject *root, const char *section, const char *name)
{
  JsonObject *o = json_object_has_member (root, section)
                  && JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, section))
                  ? json_object_get_object_member (root, section) : NULL;
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return NAN;
  GType t = json_node_get_value_type (n);
  return t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double (n) : NAN;
}

gboolean
vb_compare_fill_projector (VbCompareRow *r, VbStore *store, const VbRunConfig *rc,
                           GError **error)
{
  const VbProjStudyConfig *p = &rc->proj;
  r->projector = TRUE;
  /* LoRA on a trained base is a variant of its own: it sits beside the identity-base
   * LoRA in the table, the spread over seeds and the charts */
  g_autofree char *name = p->lora_base != VB_LORA_BASE_IDENTITY
                          && g_strcmp0 (p->projector, "proj-lora") == 0
                          ? g_strdup_printf ("%s (base: %s)", p->projector,
                                             vb_lora_base_label (p->lora_base))
                          : g_strdup (p->projector);
  r->model = p->reconstruction ? g_strdup_printf ("%s (Mode B)", name)
             : p->shuffled_pairs ? g_strdup_printf ("%s (shuffled pairs)", name)
             : g_strdup (name);
  r->scan = g_strdup ("—");
  r->img_size = rc->img_size;
  /* from the config, so a failed run says it too */
  r->random_encoder = p->clip_weights == NULL || p->clip_weights[0] == '\0';
  g_autofree char *tower = p->clip_layers
                           ? g_strdup_printf ("small CLIP L%d W%d", p->clip_layers,
                                              p->clip_width)
                           : g_strdup ("CLIP ViT-L/14");
  r->encoder = r->random_encoder
               ? g_strdup_printf ("%s %d px, random weights (seed %" G_GUINT64_FORMAT ")",
                                  tower, rc->img_size, p->clip_seed)
               : g_strdup_printf ("%s %d px, weights %s", tower, rc->img_size,
                                  p->clip_weights);

  g_autoptr (GPtrArray) arts = vb_store_get_artifacts (store, r->run_id, error);
  if (arts == NULL)
    return FALSE;
  for (guint i = 0; i < arts->len; i++)
    {
      VbArtifactRecord *a = g_ptr_array_index (arts, i);
      if (g_strcmp0 (a->kind, VB_PROJECTOR_RESULT_KIND) != 0)
        continue;
      g_autoptr (JsonParser) parser = json_parser_new ();
      /* a result file deleted or damaged since leaves the row's metrics unknown */
      if (!json_parser_load_from_file (parser, a->path, NULL)
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      r->test_loss = num_at (root, "test", "loss");
      r->proxy_top1 = r->top1 = num_at (root, "test", "proxy_top1");
      r->macs_per_token = num_at (root, "cost", "macs_per_token");
      r->runtime_ms = num_at (root, "runtime", "median_ms");
      r->ridge_loss = num_at (root, "ridge_control", "loss");
      r->ridge_top1 = num_at (root, "ridge_control", "proxy_top1");
      r->ridge_params = num_at (root, "ridge_control", "params");
      r->ridge_macs = num_at (root, "ridge_control", "macs_per_token");
      /* a LowRank run carries one of its two closed-form optima, by mode */
      const char *lr = json_object_has_member (root, "pca_control") ? "pca_control"
                                                                       : "rrr_control";
      /* the file is untrusted: a rank outside what a model can have is no rank (and no
       * out-of-range cast) */
      double rank = num_at (root, lr, "rank");
      r->lowrank_rank = rank >= 1 && rank <= 1 << 20 ? (int) rank : 0;
      r->lowrank_loss = num_at (root, lr, "loss");
      r->lowrank_top1 = num_at (root, lr, "proxy_top1");
      r->lowrank_params = num_at (root, lr, "params");
      r->lowrank_macs = num_at (root, lr, "macs_per_token");
      JsonNode *warning = json_object_get_member (root, "warning");
      if (warning != NULL && JSON_NODE_HOLDS_VALUE (warning)
          && json_node_get_value_type (warning) == G_TYPE_STRING)
        {
          g_free (r->warning);
          r->warning = g_strdup (json_node_get_string (warning));
        }
    }
  return TRUE;
}

/* ---- rendering ---------------------------------------------------------------------------- */

enum { C_RUN, C_PROJ, C_SEED, C_LOSS, C_TOP1, C_PARAMS, C_FLOPS, C_RT, C_ENC, C_STATUS, N_COLS };

static const char *const head[N_COLS] = {
  "Run", "Projector", "Seed", "Test loss", "Proxy Top-1 (%)", "Params (M)", "FLOPs (M)",
  "Runtime ms", "Encoder", "Status",
};

/* the names, the encoder and the status read left to right */
static const gboolean right_aligned[N_COLS] = {
  [C_RUN] = TRUE, [C_SEED] = TRUE, [C_LOSS] = TRUE, [C_TOP1] = TRUE, [C_PARAMS] = TRUE,
  [C_FLOPS] = TRUE, [C_RT] = TRUE,
};

static void
mean_std (const double *v, int n, double *mean, double *std)
{
  double s = 0, s2 = 0;
  for (int i = 0; i < n; i++)
    s += v[i];
  *mean = s / n;
  for (int i = 0; i < n; i++)
    s2 += (v[i] - *mean) * (v[i] - *mean);
  *std = n > 1 ? sqrt (s2 / (n - 1)) : 0;   /* sample std, as numpy's ddof = 1 */
}

/* "proj-linear: test loss 0.1234 ± 0.0010, Proxy Top-1 45.67 ± 1.20 (3 seeds)" per
 * projector with at least two finished seeds, in first-appearance order */
static void
append_spread (GString *out, GPtrArray *rows, const char *prefix)
{
  g_autoptr (GPtrArray) seen = g_ptr_array_new ();
  gboolean any = FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (g_ptr_array_find_with_equal_func (seen, r->model, g_str_equal, NULL))
        continue;
      g_ptr_array_add (seen, r->model);
      g_autofree double *loss = g_new (double, rows->len);
      g_autofree double *top1 = g_new (double, rows->len);
      int n = 0;
      for (guint j = i; j < rows->len; j++)
        {
          VbCompareRow *q = g_ptr_array_index (rows, j);
          if (g_strcmp0 (q->model, r->model) == 0 && !isnan (q->test_loss)
              && !isnan (q->proxy_top1))
            {
              loss[n] = q->test_loss;
              top1[n++] = q->proxy_top1;
            }
        }
      if (n < 2)
        continue;
      double lm, ls, tm, ts;
      mean_std (loss, n, &lm, &ls);
      mean_std (top1, n, &tm, &ts);
      if (!any)
        g_string_append_printf (out, "\n%sMean ± std over seeds:\n", prefix);
      any = TRUE;
      g_string_append_printf (out, "%s  %s: test loss %.4f ± %.4f, Proxy Top-1 %.2f ± %.2f "
                              "(%d seeds)\n", prefix, r->model, lm, ls, tm, ts, n);
    }
}

/* a control line under its run: the closed-form optimum of the run's family, with
 * every metric of a row but no seed or runtime of its own; takes name */
static void
append_control (GPtrArray *cells, const VbCompareRow *r, char *name, double loss,
                double top1, double params, double macs)
{
  g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, r->run_id));
  g_ptr_array_add (cells, name);
  g_ptr_array_add (cells, g_strdup ("—"));
  g_ptr_array_add (cells, vb_compare_fmt (loss, "%.4f"));
  g_ptr_array_add (cells, vb_compare_fmt (top1, "%.2f"));
  g_ptr_array_add (cells, vb_compare_fmt (params / 1e6, "%.2f"));
  g_ptr_array_add (cells, vb_compare_fmt (macs / 1e6, "%.2f"));
  g_ptr_array_add (cells, g_strdup ("—"));
  g_ptr_array_add (cells, g_strdup (r->encoder));
  g_ptr_array_add (cells, g_strdup ("control"));
}

char *
vb_compare_render_projector (GPtrArray *rows, VbTableFormat format)
{
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  for (int c = 0; c < N_COLS; c++)
    g_ptr_array_add (cells, g_strdup (head[c]));
  const char *random_note = NULL, *warning = NULL;
  for (guint i = 0; i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, r->run_id));
      g_ptr_array_add (cells, g_strdup (r->model));
      g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, r->seed));
      g_ptr_array_add (cells, vb_compare_fmt (r->test_loss, "%.4f"));
      g_ptr_array_add (cells, vb_compare_fmt (r->proxy_top1, "%.2f"));
      g_ptr_array_add (cells, r->params ? g_strdup_printf ("%.2f", r->params / 1e6)
                                        : g_strdup ("—"));
      g_ptr_array_add (cells, vb_compare_fmt (r->macs_per_token / 1e6, "%.2f"));
      g_ptr_array_add (cells, vb_compare_fmt (r->runtime_ms, "%.2f"));
      g_ptr_array_add (cells, g_strdup (r->encoder));
      g_ptr_array_add (cells, g_strdup (r->status));
      if (r->random_encoder && random_note == NULL)
        random_note = r->encoder;
      if (r->warning && warning == NULL)
        warning = r->warning;
      /* every Mode A run fits the ridge; it answers the Linear's question */
      if (!isnan (r->ridge_loss) && g_str_has_prefix (r->model, "proj-linear"))
        append_control (cells, r, g_strdup ("ridge (closed form)"), r->ridge_loss,
                        r->ridge_top1, r->ridge_params, r->ridge_macs);
      /* LowRank's optimum: reduced-rank regression (A) or PCA (B) at its rank */
      if (r->lowrank_rank > 0 && !isnan (r->lowrank_loss)
          && g_str_has_prefix (r->model, "proj-lowrank"))
        append_control (cells, r,
                        g_strdup_printf ("%s (closed form, r %d)",
                                         g_str_has_suffix (r->model, "(Mode B)")
                                         ? "PCA" : "reduced-rank", r->lowrank_rank),
                        r->lowrank_loss, r->lowrank_top1, r->lowrank_params,
                        r->lowrank_macs);
    }
  GString *out = g_string_new (NULL);
  gboolean prose = format == VB_TABLE_TEXT || format == VB_TABLE_MARKDOWN;
  if (prose)
    {
      g_string_append (out, "Projector study — Mode A alignment proxy; Proxy Top-1 = linear "
                            "probe on ẑ (test split); FLOPs (M) = multiply-adds per token\n");
      if (warning != NULL)
        g_string_append (out, "Mode B rows (reconstruction): Test loss = standardised MSE on "
                              "test tokens, no Proxy Top-1\n");
      if (random_note != NULL)
        g_string_append_printf (out, "Notice: encoder: %s — not CLIP's trained features\n",
                                random_note);
      g_string_append_c (out, '\n');
    }
  vb_compare_append_table (out, cells, N_COLS, right_aligned, format);
  if (prose)
    append_spread (out, rows, "");
  /* prose only: a free line would break a CSV or LaTeX table; there the Projector cell
   * still says "(Mode B)" */
  if (prose && warning != NULL)
    g_string_append_printf (out, "\n%s\n", warning);
  return g_string_free (out, FALSE);
}
