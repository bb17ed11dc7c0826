/* vb-experiments-page.c: the Experiments page. One card per preset; the chosen preset's
 * form edits the data set (checked on a worker thread before anything is queued), the
 * training fields, resolutions, scan modes, device, precision and seeds. Invalid values
 * are flagged under their field as they are typed and keep Run and Queue insensitive;
 * the equivalent CLI command is shown live. Fields the preset file lacks, and value lists
 * for keys that are not grid axes in the file (seeds 0,1,2 on a one-seed preset), need an
 * edited preset: it is queued as text and saved beside the database for the CLI. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "vb-dataset-check.h"
#include "vb-error.h"
#include "vb-experiments-page.h"

/* a class needs this many usable images in training and in validation */
#define MIN_PER_CLASS 2

typedef enum {
  FIELD_INT,
  FIELD_REAL,
  FIELD_INT_LIST,     /* "0,1,2": one run per value */
} FieldKind;

/* Entry fields, in the order their overrides are written. */
static const struct {
  const char *key;
  const char *title;
  const char *hint;
  const char *fallback;   /* the run config's default, for a preset without the key */
  FieldKind   kind;
  double      min, max;
  gboolean    min_exclusive, max_exclusive;
  gboolean    folder_only; /* image-folder data sets only */
} fields[] = {
  { "data.n_classes", "Classes", "0 = all; picked by the split seed", "0", FIELD_INT, 0, 100000, FALSE, FALSE, TRUE },
  { "data.train_fraction", "Training fraction", "the rest is validation", "0.8", FIELD_REAL, 0, 1, TRUE, TRUE, TRUE },
  { "data.split_seed", "Split seed", NULL, "0", FIELD_INT, 0, 2147483647.0, FALSE, FALSE, TRUE },
  { "train.epochs", "Epochs", NULL, "1", FIELD_INT, 1, 100000, FALSE, FALSE, FALSE },
  { "train.batch_size", "Batch size", NULL, "64", FIELD_INT, 1, 65536, FALSE, FALSE, FALSE },
  { "train.lr", "Learning rate", NULL, "0.001", FIELD_REAL, 0, 10, TRUE, FALSE, FALSE },
  { "data.train_limit", "Training images", "0 = all", "0", FIELD_INT, 0, 1e9, FALSE, FALSE, FALSE },
  { "train.seed", "Seeds", "one run per seed, e.g. 0,1,2", "0", FIELD_INT_LIST, 0, 2147483647.0, FALSE, FALSE, FALSE },
};
#define N_FIELDS G_N_ELEMENTS (fields)
#define FIRST_TRAIN_FIELD 3   /* fields before it belong to the data set section */

static const struct {
  const char *mode;
  const char *label;
} scan_modes[] = {
  { "4dir", "4-dir" },
  { "2dir", "2-dir" },
  { "1dir", "1-dir" },
};
#define N_SCANS G_N_ELEMENTS (scan_modes)

static const struct {
  const char *id;       /* data.dataset */
  const char *label;
} kinds[] = {
  { "fashion-mnist", "Fashion-MNIST (built-in)" },
  { "image-folder", "Image folder (ImageNet-val protocol)" },
  { "cifar10", "CIFAR-10 folder" },
};
#define N_KINDS G_N_ELEMENTS (kinds)

#define MAX_SIZES 8
static const int standard_sizes[] = { 64, 128, 224 };

typedef enum {
  CHECK_NONE,       /* the current settings were never checked */
  CHECK_RUNNING,
  CHECK_OK,
  CHECK_FAILED,
} CheckState;

struct _VbExperimentsPage
{
  AdwBin        parent_instance;

  VbSession    *session;
  GPtrArray    *presets;              /* VbPreset*, owned */
  VbPreset     *preset;               /* the chosen one (in presets) */
  char         *preset_text;          /* its file, for edited presets */
  int           extra_size;           /* a cloned run's image size the choices lack; 0 none */

  GtkWidget    *flow;
  GtkWidget    *form_box;             /* holds the form of the chosen preset */
  GtkWidget    *kind_drop;
  GtkWidget    *path_label;
  GtkWidget    *choose_button;
  GtkWidget    *builtin_button;
  GtkWidget    *path_message;
  GtkWidget    *check_button;
  GtkWidget    *check_spinner;
  GtkWidget    *check_label;
  GtkWidget    *entries[N_FIELDS];
  GtkWidget    *messages[N_FIELDS];
  GtkWidget    *size_checks[MAX_SIZES];
  int           sizes[MAX_SIZES];
  guint         n_sizes;
  GtkWidget    *size_box, *size_message;
  GtkWidget    *scan_checks[N_SCANS];
  GtkWidget    *scan_box, *scan_message;
  GtkWidget    *problems_label;
  GtkWidget    *command_label;
  GtkWidget    *edited_label;
  GtkWidget    *status_label;
  GtkWidget    *run_button;
  GtkWidget    *queue_button;
  GtkNativeDialog *chooser;

  char         *path;                 /* data.path of the form ("" = built-in) */
  char         *command;
  char         *edited_json;          /* the edited preset, NULL when the file does */
  char         *edited_path;

  /* the data set check of the settings in check_key */
  CheckState    check_state;
  char         *check_key;
  char         *check_message;
  GCancellable *check_cancellable;
  gboolean      updating;             /* filling the form: no updates until done */
};

G_DEFINE_FINAL_TYPE (VbExperimentsPage, vb_experiments_page, ADW_TYPE_BIN)

enum {
  JOB_STARTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update_form (VbExperimentsPage *self);

/* ---- preset config access ---------------------------------------------------------------- */

static JsonNode *
object_lookup (JsonObject *obj,
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

static char *
node_to_text (JsonNode *node)
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

/* The preset's values of key as canonical texts: the axis values when it is an axis,
 * else the base value, else fallback. */
static GStrv
preset_values (VbPreset   *preset,
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
          g_autofree char *t = node_to_text (json_array_get_element (values, v));
          g_strv_builder_add (b, t ? t : "");
        }
    }
  else
    {
      g_autofree char *t = node_to_text (object_lookup (vb_preset_get_base (preset), key));
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
      *message = g_strdup_printf ("%s: enter a value", fields[i].title);
      return FALSE;
    }
  errno = 0;
  if (fields[i].kind != FIELD_REAL)
    {
      gint64 n = g_ascii_strtoll (t, &end, 10);
      if (end == t || *end != '\0' || errno != 0)
        {
          *message = g_strdup_printf ("%s: “%s” is not a whole number", fields[i].title, t);
          return FALSE;
        }
      v = (double) n;
    }
  else
    {
      v = g_ascii_strtod (t, &end);
      if (end == t || *end != '\0' || errno != 0 || !isfinite (v))
        {
          *message = g_strdup_printf ("%s: “%s” is not a number", fields[i].title, t);
          return FALSE;
        }
    }
  gboolean low = fields[i].min_exclusive ? v <= fields[i].min : v < fields[i].min;
  gboolean high = fields[i].max_exclusive ? v >= fields[i].max : v > fields[i].max;
  if (low || high)
    {
      g_autofree char *lo = format_real (fields[i].min);
      g_autofree char *hi = format_real (fields[i].max);
      *message = g_strdup_printf ("%s: must be %s %s and %s %s", fields[i].title,
                                  fields[i].min_exclusive ? "above" : "at least", lo,
                                  fields[i].max_exclusive ? "below" : "at most", hi);
      return FALSE;
    }
  *canon = fields[i].kind == FIELD_REAL ? format_real (v)
                                        : g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) v);
  return TRUE;
}

/* One value, or for a list field comma-separated values without repeats. */
static GStrv
parse_field (guint        i,
             const char  *text,
             char       **message)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) parts = fields[i].kind == FIELD_INT_LIST ? g_strsplit (text, ",", -1)
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
            *message = g_strdup_printf ("%s: %s is listed twice", fields[i].title, canon);
            g_free (canon);
            return NULL;
          }
      g_strv_builder_add (b, canon);
      g_ptr_array_add (seen, canon);
    }
  return g_strv_builder_end (b);
}

static void
set_field_message (GtkWidget  *widget,
                   GtkWidget  *label,
                   const char *message)
{
  if (message != NULL)
    gtk_widget_add_css_class (widget, "error");
  else
    gtk_widget_remove_css_class (widget, "error");
  gtk_label_set_text (GTK_LABEL (label), message ? message : "");
  gtk_widget_set_visible (label, message != NULL);
}

/* ---- what the form asks for ---------------------------------------------------------------- */

typedef struct {
  char    *key;
  GStrv    values;      /* canonical texts, one or more */
  gboolean is_string;
} Edit;

static void
edit_free (Edit *e)
{
  g_free (e->key);
  g_strfreev (e->values);
  g_free (e);
}

typedef struct {
  GPtrArray *problems;    /* char*, for the user */
  GPtrArray *overrides;   /* char* "key=value": what --set can say on the preset file */
  GPtrArray *edits;       /* Edit*: what needs an edited preset */
} Plan;

static void
plan_init (Plan *plan)
{
  plan->problems = g_ptr_array_new_with_free_func (g_free);
  plan->overrides = g_ptr_array_new_with_free_func (g_free);
  plan->edits = g_ptr_array_new_with_free_func ((GDestroyNotify) edit_free);
}

static void
plan_clear (Plan *plan)
{
  g_clear_pointer (&plan->problems, g_ptr_array_unref);
  g_clear_pointer (&plan->overrides, g_ptr_array_unref);
  g_clear_pointer (&plan->edits, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Plan, plan_clear)

/* values against the preset: nothing when they agree (as a set), else an override, or an
 * edit when --set cannot say it (a key the file lacks, a list for a key that is no axis) */
static void
plan_values (VbExperimentsPage  *self,
             Plan               *plan,
             const char         *key,
             const char * const *values,
             gboolean            is_string,
             const char         *fallback)
{
  g_auto (GStrv) def = preset_values (self->preset, key, fallback);
  guint n = g_strv_length ((GStrv) values);

  if (same_set (values, (const char * const *) def))
    return;
  gboolean in_base = object_lookup (vb_preset_get_base (self->preset), key) != NULL;
  if (axis_index (self->preset, key) >= 0 || (in_base && n == 1))
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
  Edit *e = g_new0 (Edit, 1);
  e->key = g_strdup (key);
  e->values = g_strdupv ((GStrv) values);
  e->is_string = is_string;
  g_ptr_array_add (plan->edits, e);
}

static const char *
form_kind (VbExperimentsPage *self)
{
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->kind_drop));
  return k < N_KINDS ? kinds[k].id : kinds[0].id;
}

static gboolean
field_applies (VbExperimentsPage *self,
               guint              i)
{
  return !fields[i].folder_only || g_str_equal (form_kind (self), "image-folder");
}

/* What identifies the data settings a check result belongs to. */
static char *
dataset_key (VbExperimentsPage *self)
{
  g_autoptr (GString) key = g_string_new (form_kind (self));
  g_string_append_printf (key, "\n%s", self->path);
  for (guint i = 0; i < FIRST_TRAIN_FIELD; i++)
    if (field_applies (self, i))
      g_string_append_printf (key, "\n%s", gtk_editable_get_text (GTK_EDITABLE (self->entries[i])));
  return g_string_free (g_steal_pointer (&key), FALSE);
}

static CheckState
check_state (VbExperimentsPage *self)
{
  g_autofree char *key = dataset_key (self);
  return g_strcmp0 (key, self->check_key) == 0 ? self->check_state : CHECK_NONE;
}

static void
plan_dataset (VbExperimentsPage *self,
              Plan              *plan)
{
  const char *kind = form_kind (self);
  const char *path_problem = NULL;
  const char *one[2] = { kind, NULL };

  plan_values (self, plan, "data.dataset", one, TRUE, "fashion-mnist");
  one[0] = self->path;
  plan_values (self, plan, "data.path", one, TRUE, "");
  if (!g_str_equal (kind, "fashion-mnist") && self->path[0] == '\0')
    path_problem = "Choose the data set’s folder";
  set_field_message (self->path_label, self->path_message, path_problem);
  if (path_problem != NULL)
    {
      g_ptr_array_add (plan->problems, g_strdup_printf ("Data set: %s", path_problem));
      return;
    }

  /* the built-in set is checked by itself and need not wait; the others must pass first */
  switch (check_state (self))
    {
    case CHECK_FAILED:
      g_ptr_array_add (plan->problems, g_strdup_printf ("Data set: %s", self->check_message));
      break;
    case CHECK_NONE:
      if (!g_str_equal (kind, "fashion-mnist"))
        g_ptr_array_add (plan->problems, g_strdup ("Data set: press Check Dataset before running"));
      break;
    case CHECK_RUNNING:
      if (!g_str_equal (kind, "fashion-mnist"))
        g_ptr_array_add (plan->problems, g_strdup ("Data set: the check is still running"));
      break;
    case CHECK_OK:
    default:
      break;
    }
}

static void
plan_checks (VbExperimentsPage *self,
             Plan              *plan,
             const char        *key,
             GtkWidget        **checks,
             guint              n,
             const char *const *ids,
             gboolean           is_string,
             const char        *fallback,
             GtkWidget         *box,
             GtkWidget         *message_label,
             const char        *title)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  guint n_on = 0;

  for (guint i = 0; i < n; i++)
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (checks[i])))
      {
        g_strv_builder_add (b, ids[i]);
        n_on++;
      }
  if (n_on == 0)
    {
      g_autofree char *m = g_strdup_printf ("%s: tick at least one", title);
      set_field_message (box, message_label, m);
      g_ptr_array_add (plan->problems, g_steal_pointer (&m));
      return;
    }
  set_field_message (box, message_label, NULL);
  g_auto (GStrv) values = g_strv_builder_end (b);
  plan_values (self, plan, key, (const char * const *) values, is_string, fallback);
}

/* Checks the whole form, marks bad fields and fills plan. */
static void
collect (VbExperimentsPage *self,
         Plan              *plan)
{
  if (self->preset == NULL || self->kind_drop == NULL)
    {
      g_ptr_array_add (plan->problems, g_strdup ("Choose an experiment"));
      return;
    }
  plan_dataset (self, plan);

  for (guint i = 0; i < N_FIELDS; i++)
    {
      if (!field_applies (self, i))
        {
          set_field_message (self->entries[i], self->messages[i], NULL);
          continue;
        }
      g_autofree char *message = NULL;
      g_auto (GStrv) values = parse_field (i, gtk_editable_get_text (GTK_EDITABLE (self->entries[i])),
                                           &message);
      set_field_message (self->entries[i], self->messages[i], message);
      if (values == NULL)
        {
          g_ptr_array_add (plan->problems, g_steal_pointer (&message));
          continue;
        }
      plan_values (self, plan, fields[i].key, (const char * const *) values, FALSE,
                   fields[i].fallback);
      /* resolutions and scans come after the other training fields, seeds last */
      if (g_str_equal (fields[i].key, "data.train_limit"))
        {
          g_autofree char **ids = g_new0 (char *, self->n_sizes + 1);
          for (guint s = 0; s < self->n_sizes; s++)
            ids[s] = g_strdup_printf ("%d", self->sizes[s]);
          plan_checks (self, plan, "data.img_size", self->size_checks, self->n_sizes,
                       (const char * const *) ids, FALSE, "32", self->size_box,
                       self->size_message, "Resolutions");
          for (guint s = 0; s < self->n_sizes; s++)
            g_free (ids[s]);
          const char *scan_ids[N_SCANS];
          for (guint s = 0; s < N_SCANS; s++)
            scan_ids[s] = scan_modes[s].mode;
          plan_checks (self, plan, "model.scan", self->scan_checks, N_SCANS, scan_ids, TRUE,
                       "4dir", self->scan_box, self->scan_message, "Scan modes");
        }
    }
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

/* The preset file's text with the edits: base fields added, lists as new grid axes. */
static char *
edited_preset (VbExperimentsPage *self,
               GPtrArray         *edits)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (self->preset_text == NULL
      || !json_parser_load_from_data (parser, self->preset_text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *base = json_object_get_object_member (root, "base");
  if (!json_object_has_member (root, "grid"))
    json_object_set_object_member (root, "grid", json_object_new ());
  JsonObject *grid = json_object_get_object_member (root, "grid");

  for (guint i = 0; i < edits->len; i++)
    {
      Edit *e = g_ptr_array_index (edits, i);
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

/* Beside the database, named by content, so the command shown is the file written. */
static char *
edited_preset_path (VbExperimentsPage *self,
                    const char        *json)
{
  g_autofree char *dir = g_path_get_dirname (vb_session_get_db_path (self->session));
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, json, -1);
  g_autofree char *file = g_strdup_printf ("%s-%.8s.json", vb_preset_get_name (self->preset), sum);
  return g_build_filename (dir, "edited-presets", file, NULL);
}

/* ---- the data set check, on a worker thread ---------------------------------------------- */

typedef struct {
  GWeakRef  page;
  char     *key;
  char     *dataset, *path;
  int       n_classes;
  guint64   split_seed;
  double    train_fraction;
} CheckRequest;

static void
check_request_free (CheckRequest *req)
{
  g_weak_ref_clear (&req->page);
  g_free (req->key);
  g_free (req->dataset);
  g_free (req->path);
  g_free (req);
}

static char *
report_text (const VbDatasetCheckReport *r)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_string_append_printf (s, "%s: %" G_GSIZE_FORMAT " images (%" G_GSIZE_FORMAT " training, %"
                          G_GSIZE_FORMAT " validation), %d classes, at least %" G_GSIZE_FORMAT
                          " per class (“%s”)", r->name, r->n_images, r->n_train, r->n_val,
                          r->n_classes, r->min_per_class, r->min_class ? r->min_class : "");
  if (r->n_corrupt > 0)
    g_string_append_printf (s, "; %" G_GSIZE_FORMAT " corrupt image%s skipped, e.g. %s",
                            r->n_corrupt, r->n_corrupt == 1 ? "" : "s", r->first_corrupt);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
check_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckRequest *req = task_data;
  VbDatasetCheckOptions o = {
    .dataset = req->dataset, .path = req->path, .n_classes = req->n_classes,
    .split_seed = req->split_seed, .train_fraction = req->train_fraction,
    .min_per_class = MIN_PER_CLASS,
  };
  g_auto (VbDatasetCheckReport) report = { 0 };
  GError *error = NULL;

  if (!vb_dataset_check (&o, cancellable, &report, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report_text (&report), g_free);
}

static void
check_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  CheckRequest *req = g_task_get_task_data (G_TASK (result));
  g_autoptr (VbExperimentsPage) self = g_weak_ref_get (&req->page);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_task_propagate_pointer (G_TASK (result), &error);

  /* a page that is gone, or a check that newer settings replaced, is not reported */
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_task_get_cancellable (G_TASK (result)) != self->check_cancellable)
    return;
  g_clear_object (&self->check_cancellable);
  self->check_state = text ? CHECK_OK : CHECK_FAILED;
  g_free (self->check_message);
  self->check_message = g_strdup (text ? text : error->message);
  update_form (self);
}

static void
start_check (VbExperimentsPage *self)
{
  g_autofree char *key = dataset_key (self);
  CheckRequest *req = g_new0 (CheckRequest, 1);

  if (self->check_cancellable)
    g_cancellable_cancel (self->check_cancellable);
  g_clear_object (&self->check_cancellable);
  self->check_cancellable = g_cancellable_new ();

  g_weak_ref_init (&req->page, self);
  req->key = g_strdup (key);
  req->dataset = g_strdup (form_kind (self));
  req->path = g_strdup (self->path);
  req->n_classes = (int) g_ascii_strtoll (gtk_editable_get_text (GTK_EDITABLE (self->entries[0])), NULL, 10);
  req->train_fraction = g_ascii_strtod (gtk_editable_get_text (GTK_EDITABLE (self->entries[1])), NULL);
  req->split_seed = g_ascii_strtoull (gtk_editable_get_text (GTK_EDITABLE (self->entries[2])), NULL, 10);

  g_free (self->check_key);
  self->check_key = g_steal_pointer (&key);
  self->check_state = CHECK_RUNNING;
  g_clear_pointer (&self->check_message, g_free);

  /* no source object: the task must not keep the page (and its session) alive */
  g_autoptr (GTask) task = g_task_new (NULL, self->check_cancellable, check_done_cb, NULL);
  g_task_set_source_tag (task, start_check);
  g_task_set_task_data (task, req, (GDestroyNotify) check_request_free);
  g_task_run_in_thread (task, check_thread);
}

static void
check_clicked_cb (VbExperimentsPage *self)
{
  start_check (self);
  update_form (self);
}

/* ---- updating ------------------------------------------------------------------------------ */

static char *
shell_quote_override (const char *o)
{
  /* plain words stay readable; anything else is quoted for a POSIX shell */
  for (const char *p = o; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._=-+/,", *p) == NULL)
      return g_shell_quote (o);
  return g_strdup (o);
}

static void
update_check_row (VbExperimentsPage *self)
{
  CheckState state = check_state (self);
  const char *text = NULL;

  switch (state)
    {
    case CHECK_RUNNING:
      text = "Checking: opening the data set and decoding its images…";
      break;
    case CHECK_OK:
    case CHECK_FAILED:
      text = self->check_message;
      break;
    case CHECK_NONE:
    default:
      text = g_str_equal (form_kind (self), "fashion-mnist")
             ? "Checked automatically"
             : "Not checked yet: Run and Queue wait for a passed check";
      break;
    }
  gtk_label_set_text (GTK_LABEL (self->check_label), text);
  gtk_spinner_set_spinning (GTK_SPINNER (self->check_spinner), state == CHECK_RUNNING);
  gtk_widget_set_visible (self->check_spinner, state == CHECK_RUNNING);
  if (state == CHECK_FAILED)
    gtk_widget_add_css_class (self->check_label, "error");
  else
    gtk_widget_remove_css_class (self->check_label, "error");
  if (state == CHECK_OK)
    gtk_widget_add_css_class (self->check_label, "success");
  else
    gtk_widget_remove_css_class (self->check_label, "success");
}

static void
update_form (VbExperimentsPage *self)
{
  g_auto (Plan) plan = { 0 };

  if (self->updating || self->kind_drop == NULL)
    return;
  self->updating = TRUE;

  /* folder-only fields follow the kind; the path row says what "built-in" means */
  gboolean folder = g_str_equal (form_kind (self), "image-folder");
  for (guint i = 0; i < FIRST_TRAIN_FIELD; i++)
    gtk_widget_set_sensitive (self->entries[i], folder);
  gboolean builtin = self->path[0] == '\0';
  g_autofree char *shown = builtin ? g_strdup_printf ("Built-in: %s", VB_FASHION_MNIST_DIR)
                                   : g_strdup (self->path);
  gtk_label_set_text (GTK_LABEL (self->path_label), shown);
  gtk_widget_set_tooltip_text (self->path_label, shown);
  gtk_widget_set_visible (self->builtin_button,
                          g_str_equal (form_kind (self), "fashion-mnist") && !builtin);

  /* the built-in set is checked without asking */
  if (g_str_equal (form_kind (self), "fashion-mnist") && check_state (self) == CHECK_NONE)
    start_check (self);

  plan_init (&plan);
  collect (self, &plan);
  update_check_row (self);

  g_ptr_array_add (plan.problems, NULL);
  g_autofree char *problems = g_strjoinv ("\n", (char **) plan.problems->pdata);
  g_ptr_array_remove_index (plan.problems, plan.problems->len - 1);
  gtk_label_set_text (GTK_LABEL (self->problems_label), problems);
  gtk_widget_set_visible (self->problems_label, plan.problems->len > 0);

  gboolean ok = plan.problems->len == 0;
  gboolean busy = vb_session_get_busy (self->session);
  gtk_widget_set_sensitive (self->queue_button, ok);
  gtk_widget_set_sensitive (self->run_button, ok && !busy);
  gtk_widget_set_tooltip_text (self->run_button,
                               busy ? "The engine is busy: Queue runs this after the jobs before it"
                                    : "Start now");

  g_clear_pointer (&self->edited_json, g_free);
  g_clear_pointer (&self->edited_path, g_free);
  if (plan.edits->len > 0)
    {
      self->edited_json = edited_preset (self, plan.edits);
      if (self->edited_json != NULL)
        self->edited_path = edited_preset_path (self, self->edited_json);
    }

  g_autoptr (GString) cmd = g_string_new ("visionbench-cli run ");
  if (self->edited_path != NULL)
    {
      g_autofree char *q = shell_quote_override (self->edited_path);
      g_string_append (cmd, q);
    }
  else
    g_string_append (cmd, vb_preset_get_name (self->preset));
  for (guint i = 0; i < plan.overrides->len; i++)
    {
      g_autofree char *q = shell_quote_override (g_ptr_array_index (plan.overrides, i));
      g_string_append_printf (cmd, " --set %s", q);
    }
  g_free (self->command);
  self->command = g_string_free (g_steal_pointer (&cmd), FALSE);
  gtk_label_set_text (GTK_LABEL (self->command_label), self->command);
  gtk_widget_set_visible (self->edited_label, self->edited_path != NULL);

  self->updating = FALSE;
}

static void
field_changed_cb (VbExperimentsPage *self)
{
  update_form (self);
}

/* ---- run and queue ------------------------------------------------------------------------- */

static gboolean
submit (VbExperimentsPage *self,
        gboolean           start_now)
{
  g_auto (Plan) plan = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 job = 0;

  update_form (self);
  plan_init (&plan);
  collect (self, &plan);
  if (plan.problems->len > 0 || (start_now && vb_session_get_busy (self->session)))
    return FALSE;
  g_ptr_array_add (plan.overrides, NULL);
  const char * const *overrides = (const char * const *) plan.overrides->pdata;
  if (self->edited_json != NULL)
    {
      /* saved first, so the command shown works from a terminal too */
      g_autofree char *dir = g_path_get_dirname (self->edited_path);
      if (g_mkdir_with_parents (dir, 0700) != 0
          || !g_file_set_contents (self->edited_path, self->edited_json, -1, &error))
        g_debug ("cannot save the edited preset %s: %s", self->edited_path,
                 error ? error->message : g_strerror (errno));
      g_clear_error (&error);
      job = vb_session_start_json (self->session, self->edited_json, overrides, &error);
    }
  else
    job = vb_session_start (self->session, vb_preset_get_path (self->preset), overrides, &error);
  if (job == 0)
    {
      /* the engine refused the config: say so where the user is looking */
      gtk_label_set_text (GTK_LABEL (self->problems_label), error->message);
      gtk_widget_set_visible (self->problems_label, TRUE);
      return FALSE;
    }
  g_autofree char *status = g_strdup_printf (start_now ? "Started job %" G_GUINT64_FORMAT
                                                       : "Queued job %" G_GUINT64_FORMAT
                                                         ": it runs after the jobs before it",
                                             job);
  gtk_label_set_text (GTK_LABEL (self->status_label), status);
  if (start_now)
    g_signal_emit (self, signals[JOB_STARTED], 0, job);
  return TRUE;
}

static void
run_clicked_cb (VbExperimentsPage *self)
{
  submit (self, TRUE);
}

static void
queue_clicked_cb (VbExperimentsPage *self)
{
  submit (self, FALSE);
}

/* ---- choosing a folder --------------------------------------------------------------------- */

static void
set_path (VbExperimentsPage *self,
          const char        *path)
{
  g_free (self->path);
  self->path = g_strdup (path ? path : "");
  update_form (self);
}

static void
chooser_response_cb (GtkNativeDialog   *dialog,
                     int                response,
                     VbExperimentsPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path != NULL)
        set_path (self, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void
choose_clicked_cb (VbExperimentsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL)
    return;
  self->chooser = GTK_NATIVE_DIALOG (gtk_file_chooser_native_new ("Choose the Data Set Folder",
                                                                  GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                  GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                                  "_Select", "_Cancel"));
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  if (self->path[0] != '\0')
    {
      g_autoptr (GFile) folder = g_file_new_for_path (self->path);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
    }
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (self->chooser);
}

static void
builtin_clicked_cb (VbExperimentsPage *self)
{
  set_path (self, "");
}

/* ---- the form ------------------------------------------------------------------------------ */

static GtkWidget *
new_message_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "error");
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_set_visible (label, FALSE);
  return label;
}

/* A titled card holding a grid: titles | controls | hints, messages under controls. */
static GtkGrid *
add_section (VbExperimentsPage *self,
             const char        *title)
{
  GtkWidget *heading = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (GTK_BOX (self->form_box), heading);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_widget_set_margin_top (grid, 12);
  gtk_widget_set_margin_bottom (grid, 12);
  gtk_widget_set_margin_start (grid, 12);
  gtk_widget_set_margin_end (grid, 12);
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (card, "card");
  gtk_box_append (GTK_BOX (card), grid);
  gtk_box_append (GTK_BOX (self->form_box), card);
  return GTK_GRID (grid);
}

static void
add_row (GtkGrid    *grid,
         const char *title,
         const char *hint,
         GtkWidget  *control,
         GtkWidget  *message)
{
  int row = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (grid), "vb-rows"));
  GtkWidget *label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_size_request (label, 130, -1);
  gtk_grid_attach (GTK_GRID (grid), label, 0, row, 1, 1);
  gtk_widget_set_valign (control, GTK_ALIGN_CENTER);
  if (hint != NULL)
    {
      /* the hint beside its own control, not in a column that the widest row sets */
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *h = gtk_label_new (hint);
      gtk_label_set_xalign (GTK_LABEL (h), 0);
      gtk_label_set_wrap (GTK_LABEL (h), TRUE);
      gtk_widget_set_hexpand (h, TRUE);
      gtk_widget_add_css_class (h, "dim-label");
      gtk_widget_add_css_class (h, "caption");
      gtk_box_append (GTK_BOX (box), control);
      gtk_box_append (GTK_BOX (box), h);
      control = box;
    }
  gtk_widget_set_hexpand (control, TRUE);
  gtk_grid_attach (GTK_GRID (grid), control, 1, row, 1, 1);
  row++;
  if (message != NULL)
    gtk_grid_attach (GTK_GRID (grid), message, 1, row++, 1, 1);
  g_object_set_data (G_OBJECT (grid), "vb-rows", GINT_TO_POINTER (row));
}

static GtkWidget *
new_check_box (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  return box;
}

static void
add_entry_row (VbExperimentsPage *self,
               GtkGrid           *grid,
               guint              i)
{
  g_auto (GStrv) values = preset_values (self->preset, fields[i].key, fields[i].fallback);
  g_autofree char *text = g_strjoinv (",", values);
  GtkWidget *entry = gtk_entry_new ();

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 14);
  gtk_widget_set_halign (entry, GTK_ALIGN_START);
  gtk_widget_set_name (entry, fields[i].key);
  gtk_widget_set_tooltip_text (entry, fields[i].key);
  g_signal_connect_swapped (entry, "changed", G_CALLBACK (field_changed_cb), self);
  self->entries[i] = entry;
  self->messages[i] = new_message_label ();
  add_row (grid, fields[i].title, fields[i].hint, entry, self->messages[i]);
}

static int
compare_ints (gconstpointer a,
              gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

static void
add_size (VbExperimentsPage *self,
          int                size)
{
  for (guint s = 0; s < self->n_sizes; s++)
    if (self->sizes[s] == size)
      return;
  if (size > 0 && self->n_sizes < MAX_SIZES)
    self->sizes[self->n_sizes++] = size;
}

/* 64, 128, 224, the preset's own sizes and a cloned run's, ascending. */
static void
build_sizes (VbExperimentsPage *self,
             GtkGrid           *grid)
{
  g_auto (GStrv) preset_sizes = preset_values (self->preset, "data.img_size", "32");

  self->n_sizes = 0;
  for (guint s = 0; s < G_N_ELEMENTS (standard_sizes); s++)
    add_size (self, standard_sizes[s]);
  for (guint s = 0; preset_sizes[s]; s++)
    add_size (self, (int) g_ascii_strtoll (preset_sizes[s], NULL, 10));
  add_size (self, self->extra_size);
  qsort (self->sizes, self->n_sizes, sizeof (int), compare_ints);

  self->size_box = new_check_box ();
  for (guint s = 0; s < self->n_sizes; s++)
    {
      g_autofree char *id = g_strdup_printf ("%d", self->sizes[s]);
      g_autofree char *label = g_strdup_printf ("%d px", self->sizes[s]);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strv_contains ((const char * const *) preset_sizes, id));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (field_changed_cb), self);
      gtk_box_append (GTK_BOX (self->size_box), check);
      self->size_checks[s] = check;
    }
  self->size_message = new_message_label ();
  add_row (grid, "Resolutions", "one run per size", self->size_box, self->size_message);
}

static void
build_scans (VbExperimentsPage *self,
             GtkGrid           *grid)
{
  g_auto (GStrv) preset_scans = preset_values (self->preset, "model.scan", "4dir");

  self->scan_box = new_check_box ();
  for (guint s = 0; s < N_SCANS; s++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (scan_modes[s].label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strv_contains ((const char * const *) preset_scans,
                                                    scan_modes[s].mode));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (field_changed_cb), self);
      gtk_box_append (GTK_BOX (self->scan_box), check);
      self->scan_checks[s] = check;
    }
  self->scan_message = new_message_label ();
  add_row (grid, "Scan modes", "SS2D directions; one run per mode", self->scan_box,
           self->scan_message);
}

/* Linked toggle buttons; only the first is available in this build. */
static GtkWidget *
new_choice (const char *available,
            const char *missing,
            const char *why)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (box, "linked");
  gtk_widget_set_halign (box, GTK_ALIGN_START);
  GtkWidget *on = gtk_toggle_button_new_with_label (available);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (on), TRUE);
  gtk_widget_set_can_target (on, FALSE);   /* the only choice: not to be unticked */
  GtkWidget *off = gtk_toggle_button_new_with_label (missing);
  gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (off), GTK_TOGGLE_BUTTON (on));
  gtk_widget_set_sensitive (off, FALSE);
  gtk_widget_set_tooltip_text (off, why);
  gtk_widget_set_tooltip_text (box, why);
  gtk_box_append (GTK_BOX (box), on);
  gtk_box_append (GTK_BOX (box), off);
  return box;
}

static void
build_dataset_section (VbExperimentsPage *self)
{
  GtkGrid *grid = add_section (self, "Data Set");
  JsonNode *kind_node = object_lookup (vb_preset_get_base (self->preset), "data.dataset");
  JsonNode *path_node = object_lookup (vb_preset_get_base (self->preset), "data.path");
  const char *kind = kind_node ? json_node_get_string (kind_node) : "fashion-mnist";
  const char *labels[N_KINDS + 1] = { NULL };
  guint selected = 0;

  for (guint k = 0; k < N_KINDS; k++)
    {
      labels[k] = kinds[k].label;
      if (g_strcmp0 (kind, kinds[k].id) == 0)
        selected = k;
    }
  self->kind_drop = gtk_drop_down_new_from_strings (labels);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_drop), selected);
  gtk_widget_set_halign (self->kind_drop, GTK_ALIGN_START);
  g_signal_connect_swapped (self->kind_drop, "notify::selected", G_CALLBACK (field_changed_cb), self);
  add_row (grid, "Kind", NULL, self->kind_drop, NULL);

  g_free (self->path);
  self->path = g_strdup (path_node ? json_node_get_string (path_node) : "");
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->path_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->path_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->path_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_selectable (GTK_LABEL (self->path_label), TRUE);
  gtk_widget_set_hexpand (self->path_label, TRUE);
  gtk_widget_add_css_class (self->path_label, "monospace");
  gtk_box_append (GTK_BOX (box), self->path_label);
  self->builtin_button = gtk_button_new_with_mnemonic ("_Built-in");
  gtk_widget_set_tooltip_text (self->builtin_button, "Use the installed Fashion-MNIST");
  g_signal_connect_swapped (self->builtin_button, "clicked", G_CALLBACK (builtin_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), self->builtin_button);
  self->choose_button = gtk_button_new_with_mnemonic ("_Choose Folder…");
  g_signal_connect_swapped (self->choose_button, "clicked", G_CALLBACK (choose_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), self->choose_button);
  self->path_message = new_message_label ();
  add_row (grid, "Folder", NULL, box, self->path_message);

  for (guint i = 0; i < FIRST_TRAIN_FIELD; i++)
    add_entry_row (self, grid, i);

  GtkWidget *check_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->check_button = gtk_button_new_with_mnemonic ("C_heck Dataset");
  gtk_widget_set_valign (self->check_button, GTK_ALIGN_START);
  g_signal_connect_swapped (self->check_button, "clicked", G_CALLBACK (check_clicked_cb), self);
  gtk_box_append (GTK_BOX (check_box), self->check_button);
  self->check_spinner = gtk_spinner_new ();
  gtk_box_append (GTK_BOX (check_box), self->check_spinner);
  self->check_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->check_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->check_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->check_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->check_label), TRUE);
  gtk_widget_set_hexpand (self->check_label, TRUE);
  gtk_box_append (GTK_BOX (check_box), self->check_label);
  add_row (grid, "Check", NULL, check_box, NULL);
}

static void
build_training_section (VbExperimentsPage *self)
{
  GtkGrid *grid = add_section (self, "Training");

  for (guint i = FIRST_TRAIN_FIELD; i < N_FIELDS; i++)
    {
      add_entry_row (self, grid, i);
      if (g_str_equal (fields[i].key, "data.train_limit"))
        {
          build_sizes (self, grid);
          build_scans (self, grid);
          /* CPU only until the engine has a CUDA backend (vb-run-config refuses others) */
          add_row (grid, "Device", NULL,
                   new_choice ("CPU", "CUDA", "this build has no CUDA backend"), NULL);
          add_row (grid, "Precision", NULL,
                   new_choice ("fp32", "bf16", "bf16 needs the CUDA backend; the CPU computes in fp32"),
                   NULL);
        }
    }
}

static void
build_actions (VbExperimentsPage *self)
{
  self->problems_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->problems_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->problems_label), TRUE);
  gtk_widget_add_css_class (self->problems_label, "error");
  gtk_widget_set_visible (self->problems_label, FALSE);
  gtk_box_append (GTK_BOX (self->form_box), self->problems_label);

  GtkWidget *heading = gtk_label_new ("Command");
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (GTK_BOX (self->form_box), heading);

  self->command_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->command_label), 0);
  gtk_label_set_selectable (GTK_LABEL (self->command_label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (self->command_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->command_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (self->command_label, "monospace");
  gtk_widget_add_css_class (self->command_label, "command-preview");
  gtk_widget_set_tooltip_text (self->command_label, "The same run from a terminal");
  gtk_widget_set_margin_top (self->command_label, 12);
  gtk_widget_set_margin_bottom (self->command_label, 12);
  gtk_widget_set_margin_start (self->command_label, 12);
  gtk_widget_set_margin_end (self->command_label, 12);
  GtkWidget *command_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (command_card, "card");
  gtk_box_append (GTK_BOX (command_card), self->command_label);
  gtk_box_append (GTK_BOX (self->form_box), command_card);

  self->edited_label = gtk_label_new ("Fields or value lists that the preset file lacks make an "
                                      "edited preset: it is saved at that path on Run or Queue.");
  gtk_label_set_xalign (GTK_LABEL (self->edited_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->edited_label), TRUE);
  gtk_widget_add_css_class (self->edited_label, "dim-label");
  gtk_widget_add_css_class (self->edited_label, "caption");
  gtk_box_append (GTK_BOX (self->form_box), self->edited_label);

  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->status_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_box_append (GTK_BOX (bottom), self->status_label);

  self->queue_button = gtk_button_new_with_mnemonic ("_Queue");
  gtk_widget_add_css_class (self->queue_button, "pill");
  gtk_widget_set_tooltip_text (self->queue_button, "Run after the jobs already queued");
  g_signal_connect_swapped (self->queue_button, "clicked", G_CALLBACK (queue_clicked_cb), self);
  gtk_box_append (GTK_BOX (bottom), self->queue_button);

  self->run_button = gtk_button_new_with_mnemonic ("_Run");
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  gtk_widget_add_css_class (self->run_button, "pill");
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (run_clicked_cb), self);
  gtk_box_append (GTK_BOX (bottom), self->run_button);
  gtk_box_append (GTK_BOX (self->form_box), bottom);
}

static void
clear_form (VbExperimentsPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->form_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->form_box), child);
  memset (self->entries, 0, sizeof self->entries);
  memset (self->messages, 0, sizeof self->messages);
  memset (self->size_checks, 0, sizeof self->size_checks);
  memset (self->scan_checks, 0, sizeof self->scan_checks);
  self->n_sizes = 0;
  self->kind_drop = NULL;
  self->path_label = self->path_message = self->choose_button = self->builtin_button = NULL;
  self->check_button = self->check_spinner = self->check_label = NULL;
  self->size_box = self->size_message = self->scan_box = self->scan_message = NULL;
  self->problems_label = self->command_label = self->edited_label = self->status_label = NULL;
  self->run_button = self->queue_button = NULL;
  g_clear_pointer (&self->preset_text, g_free);
}

static void
build_form (VbExperimentsPage *self)
{
  clear_form (self);
  if (self->preset == NULL)
    return;

  VbPreset *preset = self->preset;
  g_file_get_contents (vb_preset_get_path (preset), &self->preset_text, NULL, NULL);

  GtkWidget *title = gtk_label_new (vb_preset_get_title (preset));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "title-2");
  gtk_box_append (GTK_BOX (self->form_box), title);
  guint n_runs = vb_preset_get_n_runs (preset);
  g_autofree char *desc = g_strdup_printf ("%s · %u run%s in the preset", vb_preset_get_name (preset),
                                           n_runs, n_runs == 1 ? "" : "s");
  GtkWidget *sub = gtk_label_new (desc);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_box_append (GTK_BOX (self->form_box), sub);

  self->updating = TRUE;
  build_dataset_section (self);
  build_training_section (self);
  build_actions (self);
  self->updating = FALSE;
  update_form (self);
}

static void
selection_changed_cb (VbExperimentsPage *self)
{
  g_autoptr (GList) selected = gtk_flow_box_get_selected_children (GTK_FLOW_BOX (self->flow));
  VbPreset *preset = NULL;

  if (selected != NULL)
    preset = g_object_get_data (G_OBJECT (selected->data), "vb-preset");
  if (preset == self->preset)
    return;
  self->preset = preset;
  build_form (self);
}

static GtkWidget *
make_card (VbPreset *preset)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "preset-card");
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_vexpand (box, TRUE);
  gtk_box_append (GTK_BOX (card), box);

  GtkWidget *title = gtk_label_new (vb_preset_get_title (preset));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (box), title);

  GtkWidget *desc = gtk_label_new (vb_preset_get_description (preset));
  gtk_label_set_xalign (GTK_LABEL (desc), 0);
  gtk_label_set_yalign (GTK_LABEL (desc), 0);
  gtk_label_set_wrap (GTK_LABEL (desc), TRUE);
  gtk_label_set_lines (GTK_LABEL (desc), 3);
  gtk_label_set_ellipsize (GTK_LABEL (desc), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (desc), 28);
  gtk_label_set_max_width_chars (GTK_LABEL (desc), 40);
  gtk_widget_set_vexpand (desc, TRUE);
  gtk_widget_set_tooltip_text (desc, vb_preset_get_description (preset));
  gtk_widget_add_css_class (desc, "dim-label");
  gtk_box_append (GTK_BOX (box), desc);

  guint n = vb_preset_get_n_runs (preset);
  g_autofree char *runs = g_strdup_printf ("%u run%s", n, n == 1 ? "" : "s");
  GtkWidget *foot = gtk_label_new (runs);
  gtk_label_set_xalign (GTK_LABEL (foot), 0);
  gtk_widget_add_css_class (foot, "caption");
  gtk_box_append (GTK_BOX (box), foot);

  GtkWidget *child = gtk_flow_box_child_new ();
  gtk_flow_box_child_set_child (GTK_FLOW_BOX_CHILD (child), card);
  g_object_set_data (G_OBJECT (child), "vb-preset", preset);
  return child;
}

/* ---- GObject ------------------------------------------------------------------------------- */

static void
vb_experiments_page_dispose (GObject *object)
{
  VbExperimentsPage *self = VB_EXPERIMENTS_PAGE (object);

  if (self->check_cancellable)
    g_cancellable_cancel (self->check_cancellable);
  g_clear_object (&self->check_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  self->kind_drop = NULL;     /* update_form() does nothing from here on */
  adw_bin_set_child (ADW_BIN (self), NULL);
  self->form_box = NULL;
  self->preset = NULL;
  g_clear_pointer (&self->preset_text, g_free);
  g_clear_pointer (&self->presets, g_ptr_array_unref);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (vb_experiments_page_parent_class)->dispose (object);
}

static void
vb_experiments_page_finalize (GObject *object)
{
  VbExperimentsPage *self = VB_EXPERIMENTS_PAGE (object);

  g_free (self->path);
  g_free (self->command);
  g_free (self->edited_json);
  g_free (self->edited_path);
  g_free (self->check_key);
  g_free (self->check_message);

  G_OBJECT_CLASS (vb_experiments_page_parent_class)->finalize (object);
}

static void
vb_experiments_page_class_init (VbExperimentsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vb_experiments_page_dispose;
  object_class->finalize = vb_experiments_page_finalize;

  /* (guint64 job_id): Run queued a job */
  signals[JOB_STARTED] = g_signal_new ("job-started", G_TYPE_FROM_CLASS (klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 1, G_TYPE_UINT64);
}

static void
vb_experiments_page_init (VbExperimentsPage *self)
{
  self->path = g_strdup ("");
}

GtkWidget *
vb_experiments_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbExperimentsPage *self = g_object_new (VB_TYPE_EXPERIMENTS_PAGE, NULL);
  g_autoptr (GError) error = NULL;

  self->session = g_object_ref (session);
  /* Run means "start now": only while the engine is idle */
  g_signal_connect_swapped (session, "notify::busy", G_CALLBACK (field_changed_cb), self);
  self->presets = vb_preset_list (vb_session_get_presets_dir (session), &error);
  if (self->presets == NULL)
    {
      GtkWidget *status = adw_status_page_new ();
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "dialog-warning-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (status), "No experiments");
      adw_status_page_set_description (ADW_STATUS_PAGE (status), error->message);
      adw_bin_set_child (ADW_BIN (self), status);
      return GTK_WIDGET (self);
    }

  /* cards on the left, the chosen experiment's form on the right */
  GtkWidget *cards = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (cards, 18);
  gtk_widget_set_margin_bottom (cards, 18);
  gtk_widget_set_margin_start (cards, 18);
  gtk_widget_set_margin_end (cards, 18);

  GtkWidget *heading = gtk_label_new ("Experiments");
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "title-4");
  gtk_box_append (GTK_BOX (cards), heading);

  self->flow = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->flow), GTK_SELECTION_SINGLE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (self->flow), TRUE);
  gtk_flow_box_set_min_children_per_line (GTK_FLOW_BOX (self->flow), 1);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->flow), 1);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->flow), 6);
  /* cards keep their natural height when there are only a few */
  gtk_widget_set_valign (self->flow, GTK_ALIGN_START);
  gtk_widget_add_css_class (self->flow, "preset-cards");
  for (guint i = 0; i < self->presets->len; i++)
    gtk_flow_box_append (GTK_FLOW_BOX (self->flow), make_card (g_ptr_array_index (self->presets, i)));
  g_signal_connect_swapped (self->flow, "selected-children-changed",
                            G_CALLBACK (selection_changed_cb), self);
  gtk_box_append (GTK_BOX (cards), self->flow);

  GtkWidget *cards_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (cards_scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (cards_scroller), cards);
  gtk_widget_set_size_request (cards_scroller, 420, -1);

  self->form_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (self->form_box, 18);
  gtk_widget_set_margin_bottom (self->form_box, 18);
  gtk_widget_set_margin_start (self->form_box, 12);
  gtk_widget_set_margin_end (self->form_box, 12);
  GtkWidget *clamp = adw_clamp_new ();
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 720);
  adw_clamp_set_child (ADW_CLAMP (clamp), self->form_box);
  GtkWidget *form_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (form_scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (form_scroller), clamp);
  gtk_widget_set_hexpand (form_scroller, TRUE);

  GtkWidget *panes = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_box_append (GTK_BOX (panes), cards_scroller);
  gtk_box_append (GTK_BOX (panes), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (panes), form_scroller);
  adw_bin_set_child (ADW_BIN (self), panes);

  /* the first card is chosen, so the form is never empty */
  GtkFlowBoxChild *first = gtk_flow_box_get_child_at_index (GTK_FLOW_BOX (self->flow), 0);
  if (first != NULL)
    gtk_flow_box_select_child (GTK_FLOW_BOX (self->flow), first);
  return GTK_WIDGET (self);
}

/* ---- programmatic access (tests, actions) ---------------------------------------------- */

gboolean
vb_experiments_page_select_preset (VbExperimentsPage *self,
                                   const char        *name)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint i = 0; self->presets && i < self->presets->len; i++)
    if (g_strcmp0 (vb_preset_get_name (g_ptr_array_index (self->presets, i)), name) == 0)
      {
        GtkFlowBoxChild *child = gtk_flow_box_get_child_at_index (GTK_FLOW_BOX (self->flow), i);
        gtk_flow_box_select_child (GTK_FLOW_BOX (self->flow), child);
        return TRUE;
      }
  return FALSE;
}

static GtkWidget *
entry_for (VbExperimentsPage *self,
           const char        *key)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (fields[i].key, key) == 0)
      return self->entries[i];
  return NULL;
}

gboolean
vb_experiments_page_set_field (VbExperimentsPage *self,
                               const char        *key,
                               const char        *text)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  GtkWidget *entry = entry_for (self, key);
  if (entry == NULL)
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  return TRUE;
}

const char *
vb_experiments_page_get_field (VbExperimentsPage *self,
                               const char        *key)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  GtkWidget *entry = entry_for (self, key);
  return entry ? gtk_editable_get_text (GTK_EDITABLE (entry)) : NULL;
}

GtkWidget *
vb_experiments_page_get_field_message (VbExperimentsPage *self,
                                       const char        *key)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (fields[i].key, key) == 0)
      return self->messages[i];
  if (g_strcmp0 (key, "model.scan") == 0)
    return self->scan_message;
  if (g_strcmp0 (key, "data.img_size") == 0)
    return self->size_message;
  if (g_strcmp0 (key, "data.path") == 0)
    return self->path_message;
  return NULL;
}

static gboolean
set_check (GtkWidget **checks,
           guint       n,
           gboolean    active,
           gboolean  (*match) (guint i, gconstpointer id),
           gconstpointer id)
{
  for (guint i = 0; i < n; i++)
    if (checks[i] != NULL && match (i, id))
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (checks[i]), active);
        return TRUE;
      }
  return FALSE;
}

static gboolean
scan_matches (guint         i,
              gconstpointer id)
{
  return g_strcmp0 (scan_modes[i].mode, id) == 0;
}

gboolean
vb_experiments_page_set_scan_mode (VbExperimentsPage *self,
                                   const char        *mode,
                                   gboolean           active)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);
  return set_check (self->scan_checks, N_SCANS, active, scan_matches, mode);
}

gboolean
vb_experiments_page_get_scan_mode (VbExperimentsPage *self,
                                   const char        *mode)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint s = 0; s < N_SCANS; s++)
    if (g_strcmp0 (scan_modes[s].mode, mode) == 0 && self->scan_checks[s] != NULL)
      return gtk_check_button_get_active (GTK_CHECK_BUTTON (self->scan_checks[s]));
  return FALSE;
}

gboolean
vb_experiments_page_set_resolution (VbExperimentsPage *self,
                                    int                size,
                                    gboolean           active)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint s = 0; s < self->n_sizes; s++)
    if (self->sizes[s] == size)
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->size_checks[s]), active);
        return TRUE;
      }
  return FALSE;
}

gboolean
vb_experiments_page_get_resolution (VbExperimentsPage *self,
                                    int                size)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint s = 0; s < self->n_sizes; s++)
    if (self->sizes[s] == size)
      return gtk_check_button_get_active (GTK_CHECK_BUTTON (self->size_checks[s]));
  return FALSE;
}

gboolean
vb_experiments_page_set_dataset (VbExperimentsPage *self,
                                 const char        *kind,
                                 const char        *path)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  if (self->kind_drop == NULL)
    return FALSE;
  for (guint k = 0; k < N_KINDS; k++)
    if (g_strcmp0 (kinds[k].id, kind) == 0)
      {
        self->updating = TRUE;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_drop), k);
        self->updating = FALSE;
        set_path (self, path);
        return TRUE;
      }
  return FALSE;
}

const char *
vb_experiments_page_get_dataset (VbExperimentsPage  *self,
                                 const char        **path)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  if (path != NULL)
    *path = self->path;
  return self->kind_drop ? form_kind (self) : NULL;
}

void
vb_experiments_page_check_dataset (VbExperimentsPage *self)
{
  g_return_if_fail (VB_IS_EXPERIMENTS_PAGE (self));

  /* as the button's "clicked" does (activate would emit it only after an animation) */
  if (self->check_button != NULL && gtk_widget_get_sensitive (self->check_button))
    check_clicked_cb (self);
}

gboolean
vb_experiments_page_get_checking (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);
  return self->kind_drop != NULL && check_state (self) == CHECK_RUNNING;
}

const char *
vb_experiments_page_get_check_message (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->check_label ? gtk_label_get_text (GTK_LABEL (self->check_label)) : NULL;
}

char *
vb_experiments_page_dup_problems (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_auto (Plan) plan = { 0 };
  plan_init (&plan);
  collect (self, &plan);
  if (plan.problems->len == 0)
    return NULL;
  g_ptr_array_add (plan.problems, NULL);
  return g_strjoinv ("\n", (char **) plan.problems->pdata);
}

GStrv
vb_experiments_page_dup_overrides (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_auto (Plan) plan = { 0 };
  plan_init (&plan);
  collect (self, &plan);
  g_ptr_array_add (plan.overrides, NULL);
  g_ptr_array_set_free_func (plan.overrides, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&plan.overrides), FALSE);
}

const char *
vb_experiments_page_get_command (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->command;
}

const char *
vb_experiments_page_get_edited_preset (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->edited_json;
}

GtkWidget *
vb_experiments_page_get_run_button (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->run_button;
}

GtkWidget *
vb_experiments_page_get_queue_button (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->queue_button;
}

/* ---- clone & edit -------------------------------------------------------------------------- */

static void
fill_entry (VbExperimentsPage *self,
            JsonObject        *config,
            const char        *key)
{
  GtkWidget *entry = entry_for (self, key);
  g_autofree char *text = node_to_text (object_lookup (config, key));

  if (entry != NULL && text != NULL)
    gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

gboolean
vb_experiments_page_load_run (VbExperimentsPage  *self,
                              gint64              run_id,
                              GError            **error)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  g_autoptr (VbRunRecord) run = vb_store_get_run (vb_session_get_store (self->session), run_id,
                                                  error);
  if (run == NULL)
    return FALSE;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (run->config_json == NULL
      || !json_parser_load_from_data (parser, run->config_json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "Run %" G_GINT64_FORMAT " has no readable config", run_id);
      return FALSE;
    }
  JsonObject *config = json_node_get_object (json_parser_get_root (parser));

  /* the form of the run's preset, rebuilt with the run's image size among the choices */
  g_autofree char *size_text = node_to_text (object_lookup (config, "data.img_size"));
  self->extra_size = size_text ? (int) g_ascii_strtoll (size_text, NULL, 10) : 0;
  self->preset = NULL;
  if (!vb_experiments_page_select_preset (self, run->preset))
    {
      self->extra_size = 0;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "Run %" G_GINT64_FORMAT " came from the preset “%s”, which is not in %s",
                   run_id, run->preset ? run->preset : "?", vb_session_get_presets_dir (self->session));
      return FALSE;
    }
  if (self->kind_drop == NULL)
    build_form (self);     /* the same card was selected already */
  self->extra_size = 0;

  self->updating = TRUE;
  g_autofree char *kind = node_to_text (object_lookup (config, "data.dataset"));
  g_autofree char *path = node_to_text (object_lookup (config, "data.path"));
  for (guint k = 0; k < N_KINDS; k++)
    if (g_strcmp0 (kinds[k].id, kind) == 0)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_drop), k);
  g_free (self->path);
  self->path = g_strdup (path ? path : "");
  for (guint i = 0; i < N_FIELDS; i++)
    fill_entry (self, config, fields[i].key);
  for (guint s = 0; s < self->n_sizes; s++)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (self->size_checks[s]),
                                 size_text && self->sizes[s] == (int) g_ascii_strtoll (size_text, NULL, 10));
  g_autofree char *scan = node_to_text (object_lookup (config, "model.scan"));
  for (guint s = 0; s < N_SCANS; s++)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (self->scan_checks[s]),
                                 g_strcmp0 (scan, scan_modes[s].mode) == 0);
  self->updating = FALSE;

  g_autofree char *status = g_strdup_printf ("Cloned from run %" G_GINT64_FORMAT " (%s)", run_id,
                                             run->name ? run->name : "");
  gtk_label_set_text (GTK_LABEL (self->status_label), status);
  update_form (self);
  return TRUE;
}
