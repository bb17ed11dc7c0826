/* vb-run-log.c: a run's events, from its record and metrics. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "vb-run-log.h"

static GDateTime *
parse_time (const char *iso)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  return iso ? g_date_time_new_from_iso8601 (iso, utc) : NULL;
}

/* "[12:00:03] " at base + offset_s; "[--:--:--] " when unknown. */
static void
stamp (GString    *out,
       GDateTime  *base,
       double      offset_s)
{
  if (base == NULL || !isfinite (offset_s))
    {
      g_string_append (out, "[--:--:--] ");
      return;
    }
  g_autoptr (GDateTime) t = g_date_time_add (base, (GTimeSpan) (offset_s * G_USEC_PER_SEC));
  g_autoptr (GDateTime) local = g_date_time_to_local (t);
  g_autofree char *s = g_date_time_format (local, "[%H:%M:%S] ");
  g_string_append (out, s);
}

static void
append_value (GString    *line,
              const char *fmt,
              double      v)
{
  if (!isfinite (v))
    return;
  if (line->len > 0)
    g_string_append (line, " · ");
  g_string_append_printf (line, fmt, v);
}

/* "batch 32, threads 1, fp32" from a protocol card. */
/* A card's member when it is a number (a string for card_text), else the fallback: the
 * card is untrusted text, and json-glib's typed getters complain on other types. */
static double
card_number (JsonObject *o, const char *name, double fallback)
{
  JsonNode *n = json_object_get_member (o, name);
  GType t = n != NULL && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_NONE;
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE ? json_node_get_double (n) : fallback;
}

static const char *
card_text (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : "?";
}

static char *
card_summary (const char *card)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (card == NULL || !json_parser_load_from_data (parser, card, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup ("no protocol card");
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  /* one rank of a data-parallel run: its GPU and memory; the GPUs section has the table */
  if (json_object_has_member (o, "rank"))
    return g_strdup_printf ("GPU %.0f, %.1f GiB, %.0f images a step", card_number (o, "gpu", -1),
                            card_number (o, "memory_bytes", 0) / 1073741824.0,
                            card_number (o, "per_gpu_batch", 0));
  g_autofree char *world = json_object_has_member (o, "gpus")
    ? g_strdup_printf (", data parallel on %.0f GPUs", card_number (o, "gpus", 0))
    : g_strdup ("");
  return g_strdup_printf ("batch %.0f, threads %.0f, %s, %s%s", card_number (o, "batch", 0),
                          card_number (o, "threads", 0), card_text (o, "precision"),
                          card_text (o, "device"), world);
}

char *
vb_run_log_build (const VbRunRecord *r,
                  GArray            *epochs,
                  GArray            *steps,
                  GPtrArray         *throughput,
                  int                planned_epochs)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GDateTime) created = parse_time (r->created_at);
  g_autoptr (GDateTime) started = parse_time (r->started_at);
  g_autoptr (GDateTime) finished = parse_time (r->finished_at);
  guint n_epochs = epochs ? epochs->len : 0;

  stamp (out, created, 0);
  g_string_append_printf (out, "queued run #%" G_GINT64_FORMAT " %s (preset %s)\n", r->id,
                          r->name ? r->name : "", r->preset ? r->preset : "—");
  if (started != NULL)
    {
      stamp (out, started, 0);
      g_string_append_printf (out, "started on %s, seed %" G_GINT64_FORMAT "%s%s\n",
                              r->device ? r->device : "?", r->seed,
                              r->hostname ? ", host " : "", r->hostname ? r->hostname : "");
    }

  for (guint i = 0; i < n_epochs; i++)
    {
      VbEpochMetric *m = &g_array_index (epochs, VbEpochMetric, i);
      g_autoptr (GString) line = g_string_new (NULL);
      append_value (line, "train loss %.4f", m->train_loss);
      append_value (line, "val loss %.4f", m->val_loss);
      append_value (line, "top-1 %.2f %%", m->val_top1);
      append_value (line, "top-5 %.2f %%", m->val_top5);
      append_value (line, "train %.0f img/s", m->img_per_s_train);
      append_value (line, "eval %.0f img/s", m->img_per_s_eval);
      /* the trainer rewrites the checkpoint after every evaluation: the path once */
      if (r->checkpoint_path != NULL && i > 0)
        g_string_append (line, " · checkpoint saved");
      stamp (out, started, m->wall_s);
      if (planned_epochs > 0)
        g_string_append_printf (out, "epoch %d/%d: %s\n", m->epoch, planned_epochs, line->str);
      else
        g_string_append_printf (out, "epoch %d: %s\n", m->epoch, line->str);
      if (r->checkpoint_path != NULL && i == 0)
        {
          stamp (out, started, m->wall_s);
          g_string_append_printf (out, "checkpoint saved (epoch %d): %s\n", m->epoch,
                                  r->checkpoint_path);
        }
    }

  /* a run in progress: where training is since the last epoch */
  if (r->status == VB_RUN_RUNNING && steps && steps->len > 0)
    {
      VbStepMetric *last = &g_array_index (steps, VbStepMetric, steps->len - 1);
      stamp (out, started, last->wall_s);
      g_string_append_printf (out, "training: step %" G_GINT64_FORMAT ", epoch %.2f, loss %.4f\n",
                              last->step, last->epoch, last->loss);
    }

  for (guint i = 0; throughput && i < throughput->len; i++)
    {
      VbThroughputRecord *t = g_ptr_array_index (throughput, i);
      g_autofree char *card = card_summary (t->protocol_json);
      stamp (out, finished, 0);
      g_string_append_printf (out, "throughput %s: %.1f img/s (%s)\n", t->kind, t->img_per_s,
                              card);
    }

  switch (r->status)
    {
    case VB_RUN_DONE:
      stamp (out, finished, 0);
      g_string_append_printf (out, "done after %u epoch%s\n", n_epochs, n_epochs == 1 ? "" : "s");
      break;
    case VB_RUN_FAILED:
      stamp (out, finished, 0);
      g_string_append_printf (out, "failed: %s\n", r->error_message ? r->error_message : "no reason recorded");
      break;
    case VB_RUN_CANCELLED:
    case VB_RUN_INTERRUPTED:
      stamp (out, finished, 0);
      g_string_append_printf (out, "%s after %u epoch%s%s\n",
                              r->status == VB_RUN_CANCELLED ? "cancelled" : "interrupted",
                              n_epochs, n_epochs == 1 ? "" : "s",
                              r->checkpoint_path && n_epochs > 0 ? "; can resume from the checkpoint" : "");
      if (r->error_message != NULL)
        {
          stamp (out, finished, 0);
          g_string_append_printf (out, "reason: %s\n", r->error_message);
        }
      break;
    case VB_RUN_QUEUED:
    case VB_RUN_RUNNING:
    case VB_RUN_ANY:
    default:
      break;
    }
  return g_string_free (out, FALSE);
}
