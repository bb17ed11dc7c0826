/* vb-clip-profile-result.c: a clip-profile result file read back, its totals, and the
 * stacked bar's data. */
#include "config.h"

#include "vb-clip-profile.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vb-error.h"

void
vb_clip_profile_clear (VbClipProfile *p)
{
  g_clear_pointer (&p->encoder, g_free);
  g_clear_pointer (&p->weights, g_free);
  g_clear_pointer (&p->stages, g_array_unref);
}

static void
stage_clear (gpointer p)
{
  g_free (((VbProfileStage *) p)->name);
}

static JsonObject *
object_at (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static double
num_at (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return NAN;
  GType t = json_node_get_value_type (n);
  return t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double (n) : NAN;
}

static const char *
str_at (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

/* a count stored as a JSON number: −1 when missing, not a number or out of range (a
 * damaged or hostile file must not reach a float-to-int cast with NaN or 1e300) */
static int64_t
count_at (JsonObject *o, const char *name, int64_t max)
{
  double v = num_at (o, name);
  return isfinite (v) && v >= 0 && v <= (double) max ? (int64_t) v : -1;
}

static gboolean
bool_at (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
         && json_node_get_boolean (n);
}

static gboolean
corrupt (const char *path, const char *why, GError **error)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
               "%s: not a clip-profile result (%s)", path, why);
  return FALSE;
}

gboolean
vb_clip_profile_load (const char *path, VbClipProfile *out, GError **error)
{
  memset (out, 0, sizeof *out);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, error))
    return FALSE;
  JsonNode *rn = json_parser_get_root (parser);
  JsonObject *root = rn && JSON_NODE_HOLDS_OBJECT (rn) ? json_node_get_object (rn) : NULL;
  if (g_strcmp0 (str_at (root, "format"), "visionbench-clip-profile") != 0)
    return corrupt (path, "format", error);
  JsonObject *enc = object_at (root, "encoder"), *card = object_at (root, "protocol");
  JsonObject *fwd = object_at (root, "forward");
  JsonNode *sn = json_object_has_member (root, "stages")
                 ? json_object_get_member (root, "stages") : NULL;
  if (enc == NULL || card == NULL || fwd == NULL || sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn))
    return corrupt (path, "encoder, protocol, forward or stages missing", error);

  out->img_size = (int) count_at (enc, "image_size", 65536);
  out->tokens = (int) count_at (enc, "patch_tokens", G_MAXINT);
  out->layers_run = (int) count_at (enc, "layers_run", 4096);
  out->layers_total = (int) count_at (enc, "layers", 4096);
  out->batch = (int) count_at (card, "batch", G_MAXINT);
  out->threads = (int) count_at (card, "threads", 65536);
  if (out->img_size < 1 || out->tokens < 0 || out->layers_run < 0 || out->layers_total < 0
      || out->batch < 0 || out->threads < 0)
    return corrupt (path, "a size or count is missing or out of range", error);
  out->random_weights = bool_at (enc, "random_weights");
  out->encoder = g_strdup (str_at (enc, "model") ? str_at (enc, "model") : "?");
  out->weights = g_strdup (str_at (enc, "weights") ? str_at (enc, "weights") : "?");
  out->forward_ms = num_at (fwd, "per_image_ms");
  out->img_per_s = num_at (fwd, "images_per_s");
  out->stages = g_array_new (FALSE, FALSE, sizeof (VbProfileStage));
  g_array_set_clear_func (out->stages, stage_clear);
  JsonArray *arr = json_node_get_array (sn);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *name = str_at (o, "name"), *kind = str_at (o, "kind");
      int64_t macs = count_at (o, "macs", G_MAXINT64 / 2);
      gboolean known = kind != NULL && (g_str_equal (kind, "embedding")
                                        || g_str_equal (kind, "layer")
                                        || g_str_equal (kind, "projector"));
      if (name == NULL || !known || macs < 0)
        {
          vb_clip_profile_clear (out);
          return corrupt (path, "a stage without a name, a known kind or its MACs", error);
        }
      VbProfileStage s = { g_strdup (name),
                           g_str_equal (kind, "embedding") ? VB_STAGE_EMBEDDING
                           : g_str_equal (kind, "layer") ? VB_STAGE_LAYER : VB_STAGE_PROJECTOR,
                           num_at (o, "ms"), num_at (o, "iqr_ms"), macs };
      g_array_append_val (out->stages, s);
    }
  return TRUE;
}

double
vb_clip_profile_encoder_ms (const VbClipProfile *p)
{
  double ms = 0;
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      if (s->kind != VB_STAGE_PROJECTOR)
        ms += s->ms;
    }
  return ms;
}

int64_t
vb_clip_profile_encoder_macs (const VbClipProfile *p)
{
  int64_t macs = 0;
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      if (s->kind != VB_STAGE_PROJECTOR)
        macs += s->macs;
    }
  return macs;
}

void
vb_clip_profile_bar (const VbClipProfile *p, VbStackedBar *out)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) kinds = g_array_new (FALSE, FALSE, sizeof (VbStageKind));
  int first = -1, last_layer = -1;
  double layers = 0;
  for (guint i = 0; i < p->stages->len; i++)
    {
      const VbProfileStage *s = &g_array_index (p->stages, VbProfileStage, i);
      if (s->kind == VB_STAGE_LAYER)
        {
          /* the layers are one segment, placed where the first one was */
          if (first < 0)
            {
              first = (int) names->len;
              g_ptr_array_add (names, NULL);
              g_array_append_val (ms, layers);
              g_array_append_val (kinds, s->kind);
            }
          layers += s->ms;
          last_layer++;
          continue;
        }
      g_ptr_array_add (names, g_strdup (s->name));
      g_array_append_val (ms, s->ms);
      g_array_append_val (kinds, s->kind);
    }
  if (first >= 0)
    {
      names->pdata[first] = last_layer > 0 ? g_strdup_printf ("layers 0–%d", last_layer)
                                           : g_strdup ("layer 0");
      g_array_index (ms, double, first) = layers;
    }
  out->label = g_strdup_printf ("%d px", p->img_size);
  out->n = names->len;
  g_ptr_array_add (names, NULL);
  out->names = (char **) g_ptr_array_steal (names, NULL);
  out->ms = (double *) g_array_steal (ms, NULL);
  out->kinds = (VbStageKind *) g_array_steal (kinds, NULL);
}

void
vb_stacked_bar_clear (VbStackedBar *bar)
{
  g_clear_pointer (&bar->label, g_free);
  g_clear_pointer (&bar->names, g_strfreev);
  g_clear_pointer (&bar->ms, g_free);
  g_clear_pointer (&bar->kinds, g_free);
  bar->n = 0;
}
