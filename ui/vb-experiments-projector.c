/* vb-experiments-projector.c: the Experiments form's section for a projector-study preset
 * (model.arch "projector", clip-projectors.md §3–§5): which of the five projectors to
 * train (the grid axis model.projector), LoRA's rank, alpha and frozen base (§4.5: the
 * identity, or the Linear trained on classes 0–4 only), the encoder weights file
 * (optional: without one the tower has seeded random weights, and the results say so),
 * the image size (224 or 336 px) and, in an "Advanced" expander, a small encoder and the
 * images a class for a quick look. What each field accepts is in vb-experiments-plan.c. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <string.h>

#include "vb-experiments-page-private.h"

static const int clip_sizes[] = { 224, 336 };

/* ---- the weights file ---------------------------------------------------------------------- */

static void
show_weights (VbExperimentsPage *self)
{
  gboolean random = self->weights[0] == '\0';

  gtk_label_set_text (GTK_LABEL (self->weights_label),
                      random ? "None" : self->weights);
  gtk_widget_set_tooltip_text (self->weights_label, random ? NULL : self->weights);
  gtk_label_set_text (GTK_LABEL (self->weights_hint),
                      random ? "seeded random weights: results will say random weights"
                             : "openai/clip-vit-large-patch14 in safetensors");
  gtk_widget_set_visible (self->weights_clear, !random);
}

static void
set_weights (VbExperimentsPage *self,
             const char        *path)
{
  g_free (self->weights);
  self->weights = g_strdup (path ? path : "");
  show_weights (self);
  vb_experiments_page_update (self);
}

static void
choose_weights_cb (VbExperimentsPage *self)
{
  GtkFileChooser *chooser = vb_experiments_page_new_chooser (self, &self->weights_chooser,
                                                             "Choose the CLIP Weights",
                                                             GTK_FILE_CHOOSER_ACTION_OPEN,
                                                             set_weights);

  if (chooser == NULL)
    return;
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_filter_set_name (filter, "safetensors");
  gtk_file_chooser_add_filter (chooser, filter);
  gtk_native_dialog_show (self->weights_chooser);
}

static void
clear_weights_cb (VbExperimentsPage *self)
{
  set_weights (self, "");
}

static GtkWidget *
build_weights (VbExperimentsPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->weights_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->weights_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->weights_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (self->weights_label, TRUE);
  gtk_box_append (GTK_BOX (box), self->weights_label);
  self->weights_clear = gtk_button_new_with_mnemonic ("_Random");
  gtk_widget_set_tooltip_text (self->weights_clear, "Forget the file: seeded random weights");
  g_signal_connect_swapped (self->weights_clear, "clicked", G_CALLBACK (clear_weights_cb), self);
  gtk_box_append (GTK_BOX (box), self->weights_clear);
  GtkWidget *choose = gtk_button_new_with_mnemonic ("Choose _File…");
  g_signal_connect_swapped (choose, "clicked", G_CALLBACK (choose_weights_cb), self);
  gtk_box_append (GTK_BOX (box), choose);
  /* said beside the field, as the results will say it */
  self->weights_hint = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->weights_hint), 0);
  gtk_widget_add_css_class (self->weights_hint, "dim-label");
  gtk_widget_add_css_class (self->weights_hint, "caption");
  gtk_box_append (GTK_BOX (box), self->weights_hint);
  return box;
}

/* ---- the section --------------------------------------------------------------------------- */

static GtkWidget *
build_projectors (VbExperimentsPage *self)
{
  g_auto (GStrv) chosen = vb_experiments_plan_preset_values (self->preset, "model.projector",
                                                             "proj-linear");

  self->proj_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  for (guint p = 0; p < N_PROJECTORS; p++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (vb_form_projectors[p].label);
      gtk_widget_set_tooltip_text (check, vb_form_projectors[p].id);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strv_contains ((const char * const *) chosen,
                                                    vb_form_projectors[p].id));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (self->proj_box), check);
      self->proj_checks[p] = check;
    }
  self->proj_message = vb_experiments_page_new_message_label ();
  return self->proj_box;
}

/* model.lora_base: one or the other, a radio group as the clip-profile's layers */
static GtkWidget *
build_lora_base (VbExperimentsPage *self)
{
  g_auto (GStrv) chosen = vb_experiments_plan_preset_values (self->preset, "model.lora_base",
                                                             "identity");

  self->lora_base_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  for (guint k = 0; k < VB_FORM_N_LORA_BASES; k++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (vb_form_lora_bases[k].label);
      gtk_widget_set_tooltip_text (check, vb_form_lora_bases[k].id);
      if (k > 0)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (check),
                                    GTK_CHECK_BUTTON (self->lora_base_checks[0]));
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strcmp0 (chosen[0], vb_form_lora_bases[k].id) == 0);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (self->lora_base_box), check);
      self->lora_base_checks[k] = check;
    }
  return self->lora_base_box;
}

static const char *
chosen_lora_base (VbExperimentsPage *self)
{
  for (guint k = 0; k < VB_FORM_N_LORA_BASES; k++)
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->lora_base_checks[k])))
      return vb_form_lora_bases[k].id;
  return vb_form_lora_bases[0].id;
}

void
vb_experiments_projector_build (VbExperimentsPage *self)
{
  GtkGrid *grid = vb_experiments_page_add_section (self, "Projector Study");

  vb_experiments_page_add_row (grid, "Projectors", "one run each",
                               build_projectors (self), self->proj_message);
  for (guint i = 0; i < N_FIELDS; i++)
    if (vb_form_fields[i].section == VB_FORM_SECTION_PROJECTOR)
      vb_experiments_fields_add_entry (self, grid, i);
  vb_experiments_page_add_row (grid, "LoRA base",
                               "frozen; the Linear is first trained on classes 0–4",
                               build_lora_base (self), NULL);

  vb_experiments_projector_build_weights (self, grid);
  vb_experiments_fields_build_sizes (self, grid, clip_sizes, G_N_ELEMENTS (clip_sizes),
                                     "Image size", "256 tokens at 224 px, 576 at 336 px");
  /* a smaller tower and fewer images: minutes instead of hours on a CPU */
  vb_experiments_projector_build_advanced (self, grid, VB_FORM_ARCH_PROJECTOR,
                                           "_Advanced: a smaller encoder, fewer images");
}

void
vb_experiments_projector_build_weights (VbExperimentsPage *self,
                                        GtkGrid           *grid)
{
  g_autofree char *weights = vb_experiments_plan_dup_text (vb_preset_get_base (self->preset),
                                                           "model.clip_weights");
  g_free (self->weights);
  self->weights = g_strdup (weights ? weights : "");
  self->weights_message = vb_experiments_page_new_message_label ();
  vb_experiments_page_add_row (grid, "Encoder weights", NULL, build_weights (self),
                               self->weights_message);
  show_weights (self);
}

void
vb_experiments_projector_build_advanced (VbExperimentsPage *self,
                                         GtkGrid           *grid,
                                         VbFormArch         arch,
                                         const char        *title)
{
  GtkWidget *inner = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (inner), 12);
  gtk_grid_set_row_spacing (GTK_GRID (inner), 6);
  gtk_widget_set_margin_top (inner, 6);
  for (guint i = 0; i < N_FIELDS; i++)
    if (vb_form_fields[i].section == VB_FORM_SECTION_ADVANCED && vb_form_field_in_form (i, arch))
      vb_experiments_fields_add_entry (self, GTK_GRID (inner), i);
  self->encoder_message = vb_experiments_page_new_message_label ();
  gtk_grid_attach (GTK_GRID (inner), self->encoder_message, 1,
                   GPOINTER_TO_INT (g_object_get_data (G_OBJECT (inner), "vb-rows")), 1, 1);
  self->advanced = gtk_expander_new_with_mnemonic (title);
  gtk_expander_set_child (GTK_EXPANDER (self->advanced), inner);
  int row = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (grid), "vb-rows"));
  gtk_grid_attach (grid, self->advanced, 0, row, 2, 1);
  g_object_set_data (G_OBJECT (grid), "vb-rows", GINT_TO_POINTER (row + 1));
}

void
vb_experiments_projector_clear (VbExperimentsPage *self)
{
  memset (self->proj_checks, 0, sizeof self->proj_checks);
  memset (self->lora_base_checks, 0, sizeof self->lora_base_checks);
  self->proj_box = self->proj_message = self->lora_base_box = NULL;
  self->weights_label = self->weights_hint = self->weights_clear = self->weights_message = NULL;
  self->encoder_message = self->advanced = NULL;
  self->projector = FALSE;
}

/* ---- the values ---------------------------------------------------------------------------- */

gint64
vb_experiments_page_entry_int (VbExperimentsPage *self,
                               const char        *key)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_str_equal (vb_form_fields[i].key, key) && self->entries[i] != NULL)
      return g_ascii_strtoll (gtk_editable_get_text (GTK_EDITABLE (self->entries[i])), NULL, 10);
  return 0;
}

void
vb_experiments_projector_collect (VbExperimentsPage *self,
                                  VbExperimentsPlan *plan)
{
  const char *ids[N_PROJECTORS];
  for (guint p = 0; p < N_PROJECTORS; p++)
    ids[p] = vb_form_projectors[p].id;
  vb_experiments_fields_collect_checks (self, plan, "model.projector", self->proj_checks,
                                        N_PROJECTORS, ids, TRUE, "proj-linear", self->proj_box,
                                        self->proj_message, "Projectors");
  const char *base[2] = { chosen_lora_base (self), NULL };
  vb_experiments_plan_add_values (plan, self->preset, "model.lora_base", base, TRUE, "identity");

  vb_experiments_projector_collect_weights (self, plan);
  vb_experiments_fields_collect_sizes (self, plan);

  /* across fields: each entry's own range is checked with the others */
  g_autofree char *encoder = vb_experiments_plan_check_encoder (vb_experiments_page_entry_int (self, "model.clip_layers"),
                                                                vb_experiments_page_entry_int (self, "model.clip_width"),
                                                                vb_experiments_page_entry_int (self, "model.clip_heads"),
                                                                vb_experiments_page_entry_int (self, "model.lora_rank"));
  g_autofree char *counts = vb_experiments_plan_check_per_class (vb_experiments_page_entry_int (self, "data.train_per_class"),
                                                                 vb_experiments_page_entry_int (self, "data.val_per_class"),
                                                                 vb_experiments_page_entry_int (self, "data.test_per_class"));
  const char *message = encoder ? encoder : counts;
  vb_experiments_page_set_field_message (self->advanced, self->encoder_message, message);
  if (encoder != NULL)
    g_ptr_array_add (plan->problems, g_steal_pointer (&encoder));
  if (counts != NULL)
    g_ptr_array_add (plan->problems, g_steal_pointer (&counts));
  /* a problem hidden in the collapsed expander is shown */
  if (message != NULL)
    gtk_expander_set_expanded (GTK_EXPANDER (self->advanced), TRUE);
}

void
vb_experiments_projector_collect_weights (VbExperimentsPage *self,
                                          VbExperimentsPlan *plan)
{
  g_autofree char *bad_weights = vb_experiments_plan_check_weights (self->weights);
  vb_experiments_page_set_field_message (self->weights_label, self->weights_message, bad_weights);
  if (bad_weights != NULL)
    g_ptr_array_add (plan->problems, g_steal_pointer (&bad_weights));
  else
    {
      const char *one[2] = { self->weights, NULL };
      vb_experiments_plan_add_values (plan, self->preset, "model.clip_weights", one, TRUE, "");
    }
}

void
vb_experiments_projector_fill_weights (VbExperimentsPage *self,
                                       JsonObject        *config)
{
  g_autofree char *weights = vb_experiments_plan_dup_text (config, "model.clip_weights");

  g_free (self->weights);
  self->weights = g_strdup (weights ? weights : "");
  show_weights (self);
}

/* Clone & edit: the run's projector and weights, while the page is not updating. */
void
vb_experiments_projector_fill (VbExperimentsPage *self,
                               JsonObject        *config)
{
  g_autofree char *projector = vb_experiments_plan_dup_text (config, "model.projector");
  g_autofree char *base = vb_experiments_plan_dup_text (config, "model.lora_base");

  for (guint p = 0; p < N_PROJECTORS; p++)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (self->proj_checks[p]),
                                 g_strcmp0 (projector, vb_form_projectors[p].id) == 0);
  /* a run from before the key: identity */
  for (guint k = 0; k < VB_FORM_N_LORA_BASES; k++)
    if (g_strcmp0 (base ? base : "identity", vb_form_lora_bases[k].id) == 0)
      gtk_check_button_set_active (GTK_CHECK_BUTTON (self->lora_base_checks[k]), TRUE);
  vb_experiments_projector_fill_weights (self, config);
}

/* ---- programmatic access (tests) ----------------------------------------------------------- */

gboolean
vb_experiments_page_set_projector (VbExperimentsPage *self,
                                   const char        *id,
                                   gboolean           active)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint p = 0; p < N_PROJECTORS; p++)
    if (g_strcmp0 (vb_form_projectors[p].id, id) == 0 && self->proj_checks[p] != NULL)
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->proj_checks[p]), active);
        return TRUE;
      }
  return FALSE;
}

gboolean
vb_experiments_page_get_projector (VbExperimentsPage *self,
                                   const char        *id)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint p = 0; p < N_PROJECTORS; p++)
    if (g_strcmp0 (vb_form_projectors[p].id, id) == 0 && self->proj_checks[p] != NULL)
      return gtk_check_button_get_active (GTK_CHECK_BUTTON (self->proj_checks[p]));
  return FALSE;
}

gboolean
vb_experiments_page_set_lora_base (VbExperimentsPage *self,
                                   const char        *id)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint k = 0; k < VB_FORM_N_LORA_BASES; k++)
    if (g_strcmp0 (vb_form_lora_bases[k].id, id) == 0 && self->lora_base_checks[k] != NULL)
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->lora_base_checks[k]), TRUE);
        return TRUE;
      }
  return FALSE;
}

const char *
vb_experiments_page_get_lora_base (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->lora_base_box ? chosen_lora_base (self) : NULL;
}

gboolean
vb_experiments_page_set_weights (VbExperimentsPage *self,
                                 const char        *path)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  if (self->weights_label == NULL)
    return FALSE;
  set_weights (self, path);
  return TRUE;
}

const char *
vb_experiments_page_get_weights_hint (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->weights_hint ? gtk_label_get_text (GTK_LABEL (self->weights_hint)) : NULL;
}

gboolean
vb_experiments_page_has_field (VbExperimentsPage *self,
                               const char        *key)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint i = 0; i < N_FIELDS; i++)
    if (g_str_equal (vb_form_fields[i].key, key))
      return self->entries[i] != NULL;
  if (g_strcmp0 (key, "model.scan") == 0)
    return self->scan_box != NULL;
  if (g_strcmp0 (key, "data.img_size") == 0)
    return self->size_box != NULL;
  if (g_strcmp0 (key, "model.projector") == 0)
    return self->proj_box != NULL;
  if (g_strcmp0 (key, "model.lora_base") == 0)
    return self->lora_base_box != NULL;
  if (g_strcmp0 (key, "model.clip_weights") == 0)
    return self->weights_label != NULL;
  if (g_strcmp0 (key, "profile.layers") == 0)
    return self->layers_box != NULL;
  if (g_strcmp0 (key, "data.path") == 0)
    return self->path_label != NULL;
  return FALSE;
}
