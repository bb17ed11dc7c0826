/* vb-experiments-page.c: the Experiments page. One card per preset; the chosen preset's
 * form edits the data set (checked on a worker thread before anything is queued), the
 * training fields, resolutions, scan modes, device, precision and seeds. Invalid values
 * are flagged under their field as they are typed and keep Run and Queue insensitive;
 * the equivalent CLI command is shown live. Fields the preset file lacks, and value lists
 * for keys that are not grid axes in the file (seeds 0,1,2 on a one-seed preset), need an
 * edited preset: it is queued as text and saved beside the database for the CLI.
 *
 * This file holds the page: the cards, the form's layout and its rebuilding, clone & edit.
 * The sections live beside it (see vb-experiments-page-private.h). */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <string.h>

#include "vb-error.h"
#include "vb-experiments-page-private.h"

G_DEFINE_FINAL_TYPE (VbExperimentsPage, vb_experiments_page, ADW_TYPE_BIN)

enum {
  JOB_STARTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- the form's layout --------------------------------------------------------------------- */

GtkWidget *
vb_experiments_page_new_message_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "error");
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_set_visible (label, FALSE);
  return label;
}

GtkGrid *
vb_experiments_page_add_section (VbExperimentsPage *self,
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

void
vb_experiments_page_add_row (GtkGrid    *grid,
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

void
vb_experiments_page_set_field_message (GtkWidget  *widget,
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

typedef struct {
  VbExperimentsPage     *self;
  GtkNativeDialog      **slot;
  VbExperimentsPathFunc  chosen;
} Choice;

static void
choice_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    Choice          *choice)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path != NULL)
        choice->chosen (choice->self, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (choice->slot);
}

static void
choice_free (gpointer  data,
             GClosure *closure)
{
  g_free (data);
}

GtkFileChooser *
vb_experiments_page_new_chooser (VbExperimentsPage     *self,
                                 GtkNativeDialog      **slot,
                                 const char            *title,
                                 GtkFileChooserAction   action,
                                 VbExperimentsPathFunc  chosen)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  Choice *choice;

  if (*slot != NULL)
    return NULL;
  *slot = GTK_NATIVE_DIALOG (gtk_file_chooser_native_new (title,
                                                          GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                          action, "_Select", "_Cancel"));
  gtk_native_dialog_set_modal (*slot, TRUE);
  choice = g_new (Choice, 1);
  *choice = (Choice) { self, slot, chosen };
  /* freed with the handler, so with the dialog */
  g_signal_connect_data (*slot, "response", G_CALLBACK (choice_response_cb), choice, choice_free,
                         0);
  return GTK_FILE_CHOOSER (*slot);
}

/* ---- the form of the chosen preset --------------------------------------------------------- */

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
  vb_experiments_projector_clear (self);
  vb_experiments_clip_profile_clear (self);
  self->n_sizes = 0;
  self->kind_drop = NULL;
  self->path_label = self->path_message = self->choose_button = self->builtin_button = NULL;
  self->check_button = self->check_spinner = self->check_label = NULL;
  self->size_box = self->size_message = self->scan_box = self->scan_message = NULL;
  self->problems_label = self->command_label = self->edited_label = self->status_label = NULL;
  self->cuda_toggle = self->run_button = self->queue_button = NULL;
  memset (self->precision_toggles, 0, sizeof self->precision_toggles);
  self->gpus_spin = self->gpus_notes = self->gpus_note = self->gpus_message = NULL;
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
  /* a study's form shows its own fields and none of VMamba's; a profile trains nothing
   * and reads no data set */
  VbFormArch arch = vb_experiments_plan_arch (preset);
  self->projector = arch == VB_FORM_ARCH_PROJECTOR;
  self->clip_profile = arch == VB_FORM_ARCH_CLIP_PROFILE;
  if (self->clip_profile)
    vb_experiments_clip_profile_build (self);
  else
    {
      vb_experiments_dataset_build (self);
      if (self->projector)
        vb_experiments_projector_build (self);
      vb_experiments_fields_build_training (self);
    }
  vb_experiments_submit_build (self);
  self->updating = FALSE;
  vb_experiments_page_update (self);
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
  if (self->weights_chooser != NULL)
    gtk_native_dialog_destroy (self->weights_chooser);
  g_clear_object (&self->weights_chooser);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  self->run_button = NULL;    /* vb_experiments_page_update() does nothing from here on */
  self->kind_drop = NULL;
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
  g_free (self->weights);
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
  self->weights = g_strdup ("");
}

GtkWidget *
vb_experiments_page_new (VbSession *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbExperimentsPage *self = g_object_new (VB_TYPE_EXPERIMENTS_PAGE, NULL);
  g_autoptr (GError) error = NULL;

  self->session = g_object_ref (session);
  /* Run means "start now": only while the engine is idle */
  g_signal_connect_swapped (session, "notify::busy", G_CALLBACK (vb_experiments_page_update), self);
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

/* ---- programmatic access (tests, actions) ------------------------------------------------- */

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

/* ---- clone & edit -------------------------------------------------------------------------- */

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
  g_autofree char *size_text = vb_experiments_plan_dup_text (config, "data.img_size");
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
  if (self->run_button == NULL)
    build_form (self);     /* the same card was selected already */
  self->extra_size = 0;

  self->updating = TRUE;
  vb_experiments_dataset_fill (self, config);
  vb_experiments_fields_fill (self, config);
  if (self->projector)
    vb_experiments_projector_fill (self, config);
  if (self->clip_profile)
    vb_experiments_clip_profile_fill (self, config);
  self->updating = FALSE;

  g_autofree char *status = g_strdup_printf ("Cloned from run %" G_GINT64_FORMAT " (%s)", run_id,
                                             run->name ? run->name : "");
  gtk_label_set_text (GTK_LABEL (self->status_label), status);
  vb_experiments_page_update (self);
  return TRUE;
}
