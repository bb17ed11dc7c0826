/* vb-experiments-plan.c: the Experiments form's values → overrides, an edited preset and
 * the CLI command. GLib and JSON-GLib only (its own library in ui/meson.build): the page's
 * files read the widgets and hand the texts over. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "vb-experiments-plan.h"

#define DATA  VB_FORM_SECTION_DATA
#define TRAIN VB_FORM_SECTION_TRAIN
#define PROJ  VB_FORM_SECTION_PROJECTOR
#define ADV   VB_FORM_SECTION_ADVANCED
#define PROF  VB_FORM_SECTION_PROFILE
#define ANY   VB_FORM_ARCH_ANY
#define VMB   VB_FORM_ARCH_VMAMBA
#define PRJ   VB_FORM_ARCH_PROJECTOR
#define CLP   VB_FORM_ARCH_CLIP_PROFILE
#define ENC   VB_FORM_ARCH_ENCODER

const VbFormField vb_form_fields[] = {
  { "data.n_classes", "Classes", "0 = all; picked by the split seed", "0", VB_FORM_FIELD_INT, 0, 100000, FALSE, FALSE, TRUE, DATA, VMB },
  { "data.train_fraction", "Training fraction", "the rest is validation", "0.8", VB_FORM_FIELD_REAL, 0, 1, TRUE, TRUE, TRUE, DATA, VMB },
  { "data.split_seed", "Split seed", NULL, "0", VB_FORM_FIELD_INT, 0, 2147483647.0, FALSE, FALSE, TRUE, DATA, VMB },
  { "train.epochs", "Epochs", NULL, "1", VB_FORM_FIELD_INT, 1, 100000, FALSE, FALSE, FALSE, TRAIN, ANY },
  { "train.batch_size", "Batch size", NULL, "64", VB_FORM_FIELD_INT, 1, 65536, FALSE, FALSE, FALSE, TRAIN, ANY },
  { "train.lr", "Learning rate", NULL, "0.001", VB_FORM_FIELD_REAL, 0, 10, TRUE, FALSE, FALSE, TRAIN, ANY },
  { "data.train_limit", "Training images", "0 = all", "0", VB_FORM_FIELD_INT, 0, 1e9, FALSE, FALSE, FALSE, TRAIN, VMB },
  { "train.seed", "Seeds", "one run per seed, e.g. 0,1,2", "0", VB_FORM_FIELD_INT_LIST, 0, 2147483647.0, FALSE, FALSE, FALSE, TRAIN, ANY },
  /* the projector study (run config fields in engine/vb-run-config.h) */
  { "model.lora_rank", "LoRA rank", "r of LoRA’s A and B (8 in the study)", "8", VB_FORM_FIELD_INT, 1, 4096, FALSE, FALSE, FALSE, PROJ, PRJ },
  { "model.lora_alpha", "LoRA alpha", "the update is scaled by α / r (16)", "16", VB_FORM_FIELD_REAL, 0, 1e6, TRUE, FALSE, FALSE, PROJ, PRJ },
  { "model.clip_layers", "Encoder layers", "0, 0, 0 = CLIP ViT-L/14", "0", VB_FORM_FIELD_INT, 0, 64, FALSE, FALSE, FALSE, ADV, ENC },
  { "model.clip_width", "Encoder width", NULL, "0", VB_FORM_FIELD_INT, 0, 4096, FALSE, FALSE, FALSE, ADV, ENC },
  { "model.clip_heads", "Encoder heads", NULL, "0", VB_FORM_FIELD_INT, 0, 64, FALSE, FALSE, FALSE, ADV, ENC },
  { "data.train_per_class", "Training images a class", "500 in the study", "500", VB_FORM_FIELD_INT, 1, 5000, FALSE, FALSE, FALSE, ADV, PRJ },
  { "data.val_per_class", "Validation images a class", "the next ones in file order (100)", "100", VB_FORM_FIELD_INT, 1, 5000, FALSE, FALSE, FALSE, ADV, PRJ },
  { "data.test_per_class", "Test images a class", "200 in the study", "200", VB_FORM_FIELD_INT, 1, 1000, FALSE, FALSE, FALSE, ADV, PRJ },
  /* the clip-profile's timing protocol (engine/vb-run-config.c: profile.*) */
  { "profile.batch", "Batch", "images per forward", "1", VB_FORM_FIELD_INT, 1, 256, FALSE, FALSE, FALSE, PROF, CLP },
  { "profile.warmup", "Warm-up calls", "untimed, before the timed ones (8 in §5)", "1", VB_FORM_FIELD_INT, 0, 1000, FALSE, FALSE, FALSE, PROF, CLP },
  { "profile.timed", "Timed calls", "the median of these (20 in §5)", "3", VB_FORM_FIELD_INT, 1, 1000, FALSE, FALSE, FALSE, PROF, CLP },
  { "profile.repeats", "Repeats", "of warm-up and timed calls (3 in §5)", "1", VB_FORM_FIELD_INT, 1, 100, FALSE, FALSE, FALSE, PROF, CLP },
};
G_STATIC_ASSERT (G_N_ELEMENTS (vb_form_fields) == VB_FORM_N_FIELDS);

const VbFormChoice vb_form_projectors[] = {
  { "proj-linear", "Linear" },
  { "proj-lowrank", "LowRank" },
  { "proj-mlp", "MLP" },
  { "proj-gated", "Gated" },
  { "proj-lora", "LoRA" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (vb_form_projectors) == VB_FORM_N_PROJECTORS);

const VbFormChoice vb_form_lora_bases[] = {
  { "identity", "Identity" },
  { "linear-classes-0-4", "Linear on classes 0–4" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (vb_form_lora_bases) == VB_FORM_N_LORA_BASES);

const VbFormChoice vb_form_profile_layers[] = {
  { "llava", "LLaVA’s: up to hidden_states[-2]" },
  { "all", "All layers" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (vb_form_profile_layers) == VB_FORM_N_PROFILE_LAYERS);

gboolean
vb_form_field_in_form (guint      i,
                       VbFormArch arch)
{
  g_return_val_if_fail (i < VB_FORM_N_FIELDS, FALSE);
  return (vb_form_fields[i].arch & arch) != 0;
}

gboolean
vb_form_field_applies (guint    i,
                       gboolean projector)
{
  return vb_form_field_in_form (i, projector ? VB_FORM_ARCH_PROJECTOR : VB_FORM_ARCH_VMAMBA);
}

/* ---- the projector study's cross-field checks ---------------------------------------------- */

char *
vb_experiments_plan_check_encoder (gint64 layers,
                                   gint64 width,
                                   gint64 heads,
                                   gint64 lora_rank)
{
  int n_set = (layers > 0) + (width > 0) + (heads > 0);

  if (n_set != 0 && n_set != 3)
    return g_strdup ("Encoder: set layers, width and heads together (all 0 = CLIP ViT-L/14)");
  if (n_set == 3 && width % heads != 0)
    return g_strdup_printf ("Encoder: the width %" G_GINT64_FORMAT " is not a multiple of the %"
                            G_GINT64_FORMAT " heads", width, heads);
  gint64 tower = n_set == 3 ? width : 1024;
  if (lora_rank > tower)
    return g_strdup_printf ("LoRA rank: must be at most the encoder width, %" G_GINT64_FORMAT,
                            tower);
  return NULL;
}

char *
vb_experiments_plan_check_profile (gint64      layers,
                                   gint64      width,
                                   gint64      heads,
                                   const char *profile_layers)
{
  char *encoder = vb_experiments_plan_check_encoder (layers, width, heads, 0);

  if (encoder != NULL)
    return encoder;
  /* as the engine refuses it: a one-layer tower has no penultimate state */
  if (layers == 1 && g_strcmp0 (profile_layers, "all") != 0)
    return g_strdup ("Encoder layers: at least 2 when the profile stops at LLaVA’s layer "
                     "(hidden_states[-2]); or choose all layers");
  return NULL;
}

char *
vb_experiments_plan_check_per_class (gint64 train,
                                     gint64 val,
                                     gint64 test)
{
  if (train + val > 5000)
    return g_strdup_printf ("Images a class: training and validation come from CIFAR-10’s 5,000 "
                            "training images a class; %" G_GINT64_FORMAT " + %" G_GINT64_FORMAT
                            " is too many", train, val);
  if (test > 1000)
    return g_strdup ("Images a class: CIFAR-10 has 1,000 test images a class");
  return NULL;
}

char *
vb_experiments_plan_check_weights (const char *path)
{
  if (path == NULL || path[0] == '\0')
    return NULL;
  if (!g_str_has_suffix (path, ".safetensors"))
    return g_strdup ("Encoder weights: choose a .safetensors file (openai/clip-vit-large-patch14)");
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_strdup_printf ("Encoder weights: %s does not exist", path);
  return NULL;
}

/* ---- preset config access ---------------------------------------------------------------- */

JsonNode *
vb_experiments_plan_lookup (JsonObject *obj,
                            const char *key)
{
  g_auto (GStrv) parts = g_strsplit (key, ".", -1);
  JsonNode *node = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (obj == NULL || !json_object_has_member (obj, parts[i]))
        return NULL;
      node = json_object_get_member (obj, parts[i]);
      obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  return node;
}

static int
axis_index (VbPreset   *preset,
            const char *key)
{
  for (guint i = 0; i < vb_preset_get_n_axes (preset); i++)
    if (g_strcmp0 (vb_preset_get_axis_key (preset, i), key) == 0)
      return (int) i;
  return -1;
}

static char *
format_real (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

char *
vb_experiments_plan_node_to_text (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return format_real (json_node_get_double (node));
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return NULL;
}

char *
vb_experiments_plan_dup_text (JsonObject *obj,
                              const char *key)
{
  return vb_experiments_plan_node_to_text (vb_experiments_plan_lookup (obj, key));
}

gboolean
vb_experiments_plan_is_projector (VbPreset *preset)
{
  g_autofree char *arch = vb_experiments_plan_dup_text (vb_preset_get_base (preset), "model.arch");
  return g_strcmp0 (arch, "projector") == 0;
}

VbFormArch
vb_experiments_plan_arch (VbPreset *preset)
{
  g_autofree char *arch = vb_experiments_plan_dup_text (vb_preset_get_base (preset), "model.arch");

  if (g_strcmp0 (arch, "projector") == 0)
    return VB_FORM_ARCH_PROJECTOR;
  if (g_strcmp0 (arch, "clip-profile") == 0)
    return VB_FORM_ARCH_CLIP_PROFILE;
  return VB_FORM_ARCH_VMAMBA;
}

GStrv
vb_experiments_plan_preset_values (VbPreset   *preset,
                                   const char *key,
                                   const char *fallback)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  int axis = axis_index (preset, key);

  if (axis >= 0)
    {
      JsonArray *values = vb_preset_get_axis_values (preset, axis);
      for (guint v = 0; v < json_array_get_length (values); v++)
        {
          g_autofree char *t = vb_experiments_plan_node_to_text (json_array_get_element (values, v));
          g_strv_builder_add (b, t ? t : "");
        }
    }
  else
    {
      g_autofree char *t = vb_experiments_plan_dup_text (vb_preset_get_base (preset), key);
      g_strv_builder_add (b, t ? t : fallback);
    }
  return g_strv_builder_end (b);
}

static gboolean
same_set (const char * const *a,
          const char * const *b)
{
  for (guint i = 0; a[i]; i++)
    if (!g_strv_contains (b, a[i]))
      return FALSE;
  for (guint i = 0; b[i]; i++)
    if (!g_strv_contains (a, b[i]))
      return FALSE;
  return TRUE;
}

/* ---- validation ---------------------------------------------------------------------------- */

static gboolean
parse_number (guint        i,
              const char  *text,
              char       **canon,
              char       **message)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  double v;

  if (*t == '\0')
    {
      *message = g_strdup_printf ("%s: enter a value", vb_form_fields[i].title);
      return FALSE;
    }
  errno = 0;
  if (vb_form_fields[i].kind != VB_FORM_FIELD_REAL)
    {
      gint64 n = g_ascii_strtoll (t, &end, 10);
      if (end == t || *end != '\0' || errno != 0)
        {
          *message = g_strdup_printf ("%s: “%s” is not a whole number", vb_form_fields[i].title, t);
          return FALSE;
        }
      v = (double) n;
    }
  else
    {
      v = g_ascii_strtod (t, &end);
      if (end == t || *end != '\0' || errno != 0 || !isfinite (v))
        {
          *message = g_strdup_printf ("%s: “%s” is not a number", vb_form_fields[i].title, t);
          return FALSE;
        }
    }
  gboolean low = vb_form_fields[i].min_exclusive ? v <= vb_form_fields[i].min : v < vb_form_fields[i].min;
  gboolean high = vb_form_fields[i].max_exclusive ? v >= vb_form_fields[i].max : v > vb_form_fields[i].max;
  if (low || high)
    {
      g_autofree char *lo = format_real (vb_form_fields[i].min);
      g_autofree char *hi = format_real (vb_form_fields[i].max);
      *message = g_strdup_printf ("%s: must be %s %s and %s %s", vb_form_fields[i].title,
                                  vb_form_fields[i].min_exclusive ? "above" : "at least", lo,
                                  vb_form_fields[i].max_exclusive ? "below" : "at most", hi);
      return FALSE;
    }
  *canon = vb_form_fields[i].kind == VB_FORM_FIELD_REAL ? format_real (v)
                                                : g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) v);
  return TRUE;
}

GStrv
vb_experiments_plan_parse_field (guint        i,
                                 const char  *text,
                                 char       **message)
{
  g_return_val_if_fail (i < VB_FORM_N_FIELDS, NULL);

  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) parts = vb_form_fields[i].kind == VB_FORM_FIELD_INT_LIST
                         ? g_strsplit (text, ",", -1)
                         : g_strdupv ((char *[]) { (char *) text, NULL });
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  char *message_empty = NULL;

  if (parts[0] == NULL)
    {
      /* g_strsplit gives no parts for "": still say what is missing */
      parse_number (i, "", &message_empty, message);
      return NULL;
    }

  for (guint p = 0; parts[p] != NULL; p++)
    {
      char *canon = NULL;
      if (!parse_number (i, parts[p], &canon, message))
        return NULL;
      for (guint s = 0; s < seen->len; s++)
        if (g_str_equal (g_ptr_array_index (seen, s), canon))
          {
            *message = g_strdup_printf ("%s: %s is listed twice", vb_form_fields[i].title, canon);
            g_free (canon);
            return NULL;
          }
      g_strv_builder_add (b, canon);
      g_ptr_array_add (seen, canon);
    }
  return g_strv_builder_end (b);
}

/* ---- what the form asks for ---------------------------------------------------------------- */

static void
edit_free (VbExperimentsEdit *e)
{
  g_free (e->key);
  g_strfreev (e->values);
  g_free (e);
}

void
vb_experiments_plan_init (VbExperimentsPlan *plan)
{
  plan->problems = g_ptr_array_new_with_free_func (g_free);
  plan->overrides = g_ptr_array_new_with_free_func (g_free);
  plan->edits = g_ptr_array_new_with_free_func ((GDestroyNotify) edit_free);
}

void
vb_experiments_plan_clear (VbExperimentsPlan *plan)
{
  g_clear_pointer (&plan->problems, g_ptr_array_unref);
  g_clear_pointer (&plan->overrides, g_ptr_array_unref);
  g_clear_pointer (&plan->edits, g_ptr_array_unref);
}

void
vb_experiments_plan_add_values (VbExperimentsPlan  *plan,
                                VbPreset           *preset,
                                const char         *key,
                                const char * const *values,
                                gboolean            is_string,
                                const char         *fallback)
{
  g_auto (GStrv) def = vb_experiments_plan_preset_values (preset, key, fallback);
  guint n = g_strv_length ((GStrv) values);

  if (same_set (values, (const char * const *) def))
    return;
  gboolean in_base = vb_experiments_plan_lookup (vb_preset_get_base (preset), key) != NULL;
  if (axis_index (preset, key) >= 0 || (in_base && n == 1))
    {
      if (n == 1)
        {
          g_ptr_array_add (plan->overrides, g_strdup_printf ("%s=%s", key, values[0]));
          return;
        }
      g_autoptr (GString) list = g_string_new ("[");
      for (guint i = 0; i < n; i++)
        g_string_append_printf (list, is_string ? "%s\"%s\"" : "%s%s", i ? "," : "", values[i]);
      g_string_append_c (list, ']');
      g_ptr_array_add (plan->overrides, g_strdup_printf ("%s=%s", key, list->str));
      return;
    }
  VbExperimentsEdit *e = g_new0 (VbExperimentsEdit, 1);
  e->key = g_strdup (key);
  e->values = g_strdupv ((GStrv) values);
  e->is_string = is_string;
  g_ptr_array_add (plan->edits, e);
}

gboolean
vb_experiments_plan_has_gpus (VbPreset *preset)
{
  g_auto (GStrv) values = vb_experiments_plan_preset_values (preset, "train.gpus", "");
  return values[0] != NULL && values[0][0] != '\0';
}

const char *
vb_experiments_plan_add_gpus (VbExperimentsPlan *plan,
                              VbPreset          *preset,
                              gint64             gpus,
                              gint64             batch_size)
{
  if (!vb_experiments_plan_has_gpus (preset))
    return NULL;
  /* as the engine refuses it: each GPU takes batch_size / gpus of every batch */
  if (gpus > 0 && batch_size > 0 && batch_size % gpus != 0)
    {
      char *message = g_strdup_printf ("GPUs: the batch size %" G_GINT64_FORMAT " does not split "
                                       "over %" G_GINT64_FORMAT " GPUs; use a multiple of %"
                                       G_GINT64_FORMAT " (it is the global batch)",
                                       batch_size, gpus, gpus);
      g_ptr_array_add (plan->problems, message);
      return message;
    }
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, gpus);
  const char *values[2] = { text, NULL };
  vb_experiments_plan_add_values (plan, preset, "train.gpus", values, FALSE, "0");
  return NULL;
}

char *
vb_experiments_plan_dup_problems (VbExperimentsPlan *plan)
{
  if (plan->problems->len == 0)
    return NULL;
  g_ptr_array_add (plan->problems, NULL);
  char *text = g_strjoinv ("\n", (char **) plan->problems->pdata);
  g_ptr_array_remove_index (plan->problems, plan->problems->len - 1);
  return text;
}

/* ---- the edited preset --------------------------------------------------------------------- */

static JsonNode *
value_node (const char *text,
            gboolean    is_string)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  if (is_string)
    json_node_set_string (node, text);
  else if (strpbrk (text, ".eE") != NULL)
    json_node_set_double (node, g_ascii_strtod (text, NULL));
  else
    json_node_set_int (node, g_ascii_strtoll (text, NULL, 10));
  return node;
}

static void
set_dotted (JsonObject *obj,
            const char *key,
            JsonNode   *value)
{
  g_auto (GStrv) parts = g_strsplit (key, ".", -1);
  guint n = g_strv_length (parts);

  for (guint i = 0; i + 1 < n; i++)
    {
      if (!json_object_has_member (obj, parts[i])
          || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, parts[i])))
        json_object_set_object_member (obj, parts[i], json_object_new ());
      obj = json_object_get_object_member (obj, parts[i]);
    }
  json_object_set_member (obj, parts[n - 1], value);
}

char *
vb_experiments_plan_edited_preset (const char *preset_text,
                                   GPtrArray  *edits)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (preset_text == NULL
      || !json_parser_load_from_data (parser, preset_text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *base = json_object_get_object_member (root, "base");
  if (!json_object_has_member (root, "grid"))
    json_object_set_object_member (root, "grid", json_object_new ());
  JsonObject *grid = json_object_get_object_member (root, "grid");

  for (guint i = 0; i < edits->len; i++)
    {
      VbExperimentsEdit *e = g_ptr_array_index (edits, i);
      set_dotted (base, e->key, value_node (e->values[0], e->is_string));
      if (e->values[1] == NULL)
        continue;
      JsonArray *axis = json_array_new ();
      for (guint v = 0; e->values[v]; v++)
        json_array_add_element (axis, value_node (e->values[v], e->is_string));
      json_object_set_array_member (grid, e->key, axis);
    }
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, json_parser_get_root (parser));
  return json_generator_to_data (gen, NULL);
}

char *
vb_experiments_plan_edited_path (const char *db_path,
                                 const char *preset_name,
                                 const char *json)
{
  g_autofree char *dir = g_path_get_dirname (db_path);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, json, -1);
  g_autofree char *file = g_strdup_printf ("%s-%.8s.json", preset_name, sum);
  return g_build_filename (dir, "edited-presets", file, NULL);
}

/* ---- the command --------------------------------------------------------------------------- */

static char *
shell_quote_override (const char *o)
{
  /* plain words stay readable; anything else is quoted for a POSIX shell */
  for (const char *p = o; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._=-+/,", *p) == NULL)
      return g_shell_quote (o);
  return g_strdup (o);
}

char *
vb_experiments_plan_command (const char *preset_name,
                             const char *edited_path,
                             GPtrArray  *overrides)
{
  g_autoptr (GString) cmd = g_string_new ("visionbench-cli run ");
  const char *device = NULL;

  if (edited_path != NULL)
    {
      g_autofree char *q = shell_quote_override (edited_path);
      g_string_append (cmd, q);
    }
  else
    g_string_append (cmd, preset_name);
  for (guint i = 0; i < overrides->len; i++)
    {
      const char *o = g_ptr_array_index (overrides, i);
      /* the run's device has an option of its own, as the CLI's usage writes it: last */
      if (g_str_has_prefix (o, "device="))
        {
          device = o + strlen ("device=");
          continue;
        }
      g_autofree char *qo = shell_quote_override (o);
      g_string_append_printf (cmd, " --set %s", qo);
    }
  if (device != NULL)
    {
      g_autofree char *qd = shell_quote_override (device);
      g_string_append_printf (cmd, " --device %s", qd);
    }
  return g_string_free (g_steal_pointer (&cmd), FALSE);
}
