/* vb-experiments-page.c: the Experiments page. One card per preset; the chosen preset's
 * form edits the common fields as "key=value" overrides, flags invalid values as they are
 * typed (Run stays insensitive until the form is valid), shows the equivalent CLI command
 * and queues the job on the session's engine thread. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "vb-experiments-page.h"

typedef enum {
  FIELD_INT,
  FIELD_REAL,
} FieldKind;

static const struct {
  const char *key;
  const char *title;
  FieldKind   kind;
  double      min, max;
  gboolean    min_exclusive;
} fields[] = {
  { "train.epochs",     "Epochs",                    FIELD_INT,  1, 100000, FALSE },
  { "train.batch_size", "Batch size",                FIELD_INT,  1, 65536,  FALSE },
  { "train.lr",         "Learning rate",             FIELD_REAL, 0, 10,     TRUE },
  { "data.train_limit", "Training images (0 = all)", FIELD_INT,  0, 1e9,    FALSE },
  { "train.seed",       "Seed",                      FIELD_INT,  0, 2147483647.0, FALSE },
};
#define N_FIELDS G_N_ELEMENTS (fields)

static const struct {
  const char *mode;
  const char *label;
} scan_modes[] = {
  { "4dir", "4-dir" },
  { "2dir", "2-dir" },
  { "1dir", "1-dir" },
};
#define N_SCANS G_N_ELEMENTS (scan_modes)

struct _VbExperimentsPage
{
  AdwBin      parent_instance;

  VbSession  *session;
  GPtrArray  *presets;              /* VbPreset*, owned */
  VbPreset   *preset;               /* the chosen one (in presets) */

  GtkWidget  *flow;
  GtkWidget  *form_box;             /* holds the form of the chosen preset */
  GtkWidget  *group;
  GtkWidget  *rows[N_FIELDS];       /* AdwEntryRow, NULL when the preset lacks the key */
  char       *defaults[N_FIELDS];
  GtkWidget  *scan_row;
  GtkWidget  *scan_checks[N_SCANS];
  gboolean    scan_is_axis;
  gboolean    scan_default[N_SCANS];
  GtkWidget  *problems_label;
  GtkWidget  *command_label;
  GtkWidget  *run_button;
  char       *command;
};

G_DEFINE_FINAL_TYPE (VbExperimentsPage, vb_experiments_page, ADW_TYPE_BIN)

enum {
  JOB_STARTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- preset config access ---------------------------------------------------------------- */

static JsonNode *
base_lookup (VbPreset   *preset,
             const char *key)
{
  g_auto (GStrv) parts = g_strsplit (key, ".", -1);
  JsonObject *obj = vb_preset_get_base (preset);
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
  return NULL;
}

/* ---- validation ---------------------------------------------------------------------------- */

/* Parses one field; on failure returns FALSE and a message for the user. */
static gboolean
parse_field (guint        i,
             const char  *text,
             double      *out,
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
  if (fields[i].kind == FIELD_INT)
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
  if (low || v > fields[i].max)
    {
      g_autofree char *lo = format_real (fields[i].min);
      g_autofree char *hi = format_real (fields[i].max);
      *message = g_strdup_printf ("%s: must be %s %s and at most %s", fields[i].title,
                                  fields[i].min_exclusive ? "above" : "at least", lo, hi);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static char *
value_text (guint  i,
            double v)
{
  if (fields[i].kind == FIELD_INT)
    return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) v);
  return format_real (v);
}

/* Checks the whole form; fills problems (char*) and overrides (char*) when given. */
static void
collect (VbExperimentsPage *self,
         GPtrArray         *problems,
         GPtrArray         *overrides)
{
  if (self->preset == NULL)
    {
      g_ptr_array_add (problems, g_strdup ("Choose an experiment"));
      return;
    }
  for (guint i = 0; i < N_FIELDS; i++)
    {
      if (self->rows[i] == NULL)
        continue;
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->rows[i]));
      char *message = NULL;
      double v;
      if (!parse_field (i, text, &v, &message))
        {
          gtk_widget_add_css_class (self->rows[i], "error");
          gtk_widget_set_tooltip_text (self->rows[i], message);
          g_ptr_array_add (problems, message);
          continue;
        }
      gtk_widget_remove_css_class (self->rows[i], "error");
      gtk_widget_set_tooltip_text (self->rows[i], NULL);
      g_autofree char *canon = value_text (i, v);
      if (g_strcmp0 (canon, self->defaults[i]) != 0)
        g_ptr_array_add (overrides, g_strdup_printf ("%s=%s", fields[i].key, canon));
    }

  if (self->scan_row != NULL)
    {
      guint n_on = 0;
      gboolean changed = FALSE;
      g_autoptr (GString) list = g_string_new ("[");
      const char *only = NULL;
      for (guint s = 0; s < N_SCANS; s++)
        {
          gboolean on = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->scan_checks[s]));
          changed |= on != self->scan_default[s];
          if (!on)
            continue;
          g_string_append_printf (list, "%s\"%s\"", n_on ? "," : "", scan_modes[s].mode);
          only = scan_modes[s].mode;
          n_on++;
        }
      g_string_append_c (list, ']');
      const char *message = NULL;
      if (n_on == 0)
        message = "Scan modes: tick at least one";
      else if (!self->scan_is_axis && n_on > 1)
        message = "Scan modes: this experiment runs one scan mode; tick only one";
      if (message != NULL)
        {
          gtk_widget_add_css_class (self->scan_row, "error");
          g_ptr_array_add (problems, g_strdup (message));
        }
      else
        {
          gtk_widget_remove_css_class (self->scan_row, "error");
          if (changed && self->scan_is_axis)
            g_ptr_array_add (overrides, g_strdup_printf ("model.scan=%s", list->str));
          else if (changed)
            g_ptr_array_add (overrides, g_strdup_printf ("model.scan=%s", only));
        }
    }
}

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
update_form (VbExperimentsPage *self)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) overrides = g_ptr_array_new_with_free_func (g_free);

  collect (self, problems, overrides);
  if (self->problems_label != NULL)
    {
      g_ptr_array_add (problems, NULL);
      g_autofree char *text = g_strjoinv ("\n", (char **) problems->pdata);
      gtk_label_set_text (GTK_LABEL (self->problems_label), text);
      gtk_widget_set_visible (self->problems_label, problems->len > 1);
      g_ptr_array_remove_index (problems, problems->len - 1);
    }
  if (self->run_button != NULL)
    gtk_widget_set_sensitive (self->run_button, problems->len == 0);

  g_clear_pointer (&self->command, g_free);
  if (self->preset != NULL)
    {
      g_autoptr (GString) cmd = g_string_new ("visionbench-cli run ");
      g_string_append (cmd, vb_preset_get_name (self->preset));
      for (guint i = 0; i < overrides->len; i++)
        {
          g_autofree char *q = shell_quote_override (g_ptr_array_index (overrides, i));
          g_string_append_printf (cmd, " --set %s", q);
        }
      self->command = g_string_free (g_steal_pointer (&cmd), FALSE);
    }
  if (self->command_label != NULL)
    gtk_label_set_text (GTK_LABEL (self->command_label), self->command ? self->command : "");
}

static void
field_changed_cb (VbExperimentsPage *self)
{
  update_form (self);
}

/* ---- run ----------------------------------------------------------------------------------- */

static void
run_clicked_cb (VbExperimentsPage *self)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) overrides = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  collect (self, problems, overrides);
  if (problems->len > 0)
    {
      update_form (self);
      return;
    }
  g_ptr_array_add (overrides, NULL);
  guint64 job = vb_session_start (self->session, vb_preset_get_path (self->preset),
                                  (const char * const *) overrides->pdata, &error);
  if (job == 0)
    {
      /* the engine refused the config: say so where the user is looking */
      gtk_label_set_text (GTK_LABEL (self->problems_label), error->message);
      gtk_widget_set_visible (self->problems_label, TRUE);
      return;
    }
  g_signal_emit (self, signals[JOB_STARTED], 0, job);
}

/* ---- the form ------------------------------------------------------------------------------ */

static void
build_form (VbExperimentsPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->form_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->form_box), child);
  memset (self->rows, 0, sizeof self->rows);
  memset (self->scan_checks, 0, sizeof self->scan_checks);
  self->scan_row = NULL;
  self->problems_label = NULL;
  self->command_label = NULL;
  self->run_button = NULL;
  for (guint i = 0; i < N_FIELDS; i++)
    g_clear_pointer (&self->defaults[i], g_free);

  if (self->preset == NULL)
    return;

  VbPreset *preset = self->preset;
  self->group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->group),
                                   vb_preset_get_title (preset));
  guint n_runs = vb_preset_get_n_runs (preset);
  g_autofree char *desc = g_strdup_printf ("%s · %u run%s", vb_preset_get_name (preset),
                                           n_runs, n_runs == 1 ? "" : "s");
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->group), desc);
  gtk_box_append (GTK_BOX (self->form_box), self->group);

  for (guint i = 0; i < N_FIELDS; i++)
    {
      self->defaults[i] = node_to_text (base_lookup (preset, fields[i].key));
      if (self->defaults[i] == NULL)
        continue;
      GtkWidget *row = adw_entry_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), fields[i].title);
      gtk_editable_set_text (GTK_EDITABLE (row), self->defaults[i]);
      gtk_widget_set_name (row, fields[i].key);
      g_signal_connect_swapped (row, "changed", G_CALLBACK (field_changed_cb), self);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->group), row);
      self->rows[i] = row;
    }

  JsonNode *scan = base_lookup (preset, "model.scan");
  if (scan != NULL)
    {
      int axis = axis_index (preset, "model.scan");
      self->scan_is_axis = axis >= 0;
      self->scan_row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->scan_row), "Scan modes");
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->scan_row),
                                   self->scan_is_axis ? "one run per ticked mode"
                                                      : "this experiment runs one mode");
      for (guint s = 0; s < N_SCANS; s++)
        {
          gboolean on = FALSE;
          if (self->scan_is_axis)
            {
              JsonArray *values = vb_preset_get_axis_values (preset, axis);
              for (guint v = 0; v < json_array_get_length (values); v++)
                on |= g_strcmp0 (json_array_get_string_element (values, v),
                                 scan_modes[s].mode) == 0;
            }
          else
            on = g_strcmp0 (json_node_get_string (scan), scan_modes[s].mode) == 0;
          self->scan_default[s] = on;
          GtkWidget *check = gtk_check_button_new_with_label (scan_modes[s].label);
          gtk_check_button_set_active (GTK_CHECK_BUTTON (check), on);
          gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
          g_signal_connect_swapped (check, "toggled", G_CALLBACK (field_changed_cb), self);
          adw_action_row_add_suffix (ADW_ACTION_ROW (self->scan_row), check);
          self->scan_checks[s] = check;
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->group), self->scan_row);
    }

  self->problems_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->problems_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->problems_label), TRUE);
  gtk_widget_add_css_class (self->problems_label, "error");
  gtk_widget_set_visible (self->problems_label, FALSE);
  gtk_box_append (GTK_BOX (self->form_box), self->problems_label);

  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->command_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->command_label), 0);
  gtk_label_set_selectable (GTK_LABEL (self->command_label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (self->command_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->command_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (self->command_label, TRUE);
  gtk_widget_add_css_class (self->command_label, "monospace");
  gtk_widget_add_css_class (self->command_label, "dim-label");
  gtk_widget_set_tooltip_text (self->command_label, "The same run from a terminal");
  gtk_box_append (GTK_BOX (bottom), self->command_label);

  self->run_button = gtk_button_new_with_mnemonic ("_Run");
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  gtk_widget_add_css_class (self->run_button, "pill");
  gtk_widget_set_valign (self->run_button, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (run_clicked_cb), self);
  gtk_box_append (GTK_BOX (bottom), self->run_button);
  gtk_box_append (GTK_BOX (self->form_box), bottom);

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

  adw_bin_set_child (ADW_BIN (self), NULL);
  self->preset = NULL;
  g_clear_pointer (&self->presets, g_ptr_array_unref);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (vb_experiments_page_parent_class)->dispose (object);
}

static void
vb_experiments_page_finalize (GObject *object)
{
  VbExperimentsPage *self = VB_EXPERIMENTS_PAGE (object);

  for (guint i = 0; i < N_FIELDS; i++)
    g_free (self->defaults[i]);
  g_free (self->command);

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
}

GtkWidget *
vb_experiments_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbExperimentsPage *self = g_object_new (VB_TYPE_EXPERIMENTS_PAGE, NULL);
  g_autoptr (GError) error = NULL;

  self->session = g_object_ref (session);
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

gboolean
vb_experiments_page_set_field (VbExperimentsPage *self,
                               const char        *key,
                               const char        *text)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (fields[i].key, key) == 0 && self->rows[i] != NULL)
      {
        gtk_editable_set_text (GTK_EDITABLE (self->rows[i]), text);
        return TRUE;
      }
  return FALSE;
}

gboolean
vb_experiments_page_set_scan_mode (VbExperimentsPage *self,
                                   const char        *mode,
                                   gboolean           active)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint s = 0; s < N_SCANS; s++)
    if (g_strcmp0 (scan_modes[s].mode, mode) == 0 && self->scan_checks[s] != NULL)
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->scan_checks[s]), active);
        return TRUE;
      }
  return FALSE;
}

char *
vb_experiments_page_dup_problems (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) overrides = g_ptr_array_new_with_free_func (g_free);
  collect (self, problems, overrides);
  if (problems->len == 0)
    return NULL;
  g_ptr_array_add (problems, NULL);
  return g_strjoinv ("\n", (char **) problems->pdata);
}

GStrv
vb_experiments_page_dup_overrides (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *overrides = g_ptr_array_new ();
  collect (self, problems, overrides);
  g_ptr_array_add (overrides, NULL);
  return (GStrv) g_ptr_array_free (overrides, FALSE);
}

const char *
vb_experiments_page_get_command (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->command;
}

GtkWidget *
vb_experiments_page_get_run_button (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->run_button;
}
