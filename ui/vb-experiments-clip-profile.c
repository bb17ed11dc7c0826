/* vb-experiments-clip-profile.c: the Experiments form's section for a clip-profile preset
 * (model.arch "clip-profile", vb-clip-profile.h): the image sizes (the grid axis
 * data.img_size, one run each), the encoder weights file (optional, as for the projector
 * study: without one the tower has seeded random weights, and the results say so), how
 * far the forward goes (profile.layers: LLaVA's layer or all), the timing protocol
 * (profile.batch, warmup, timed, repeats) and, in an "Advanced" expander, a small encoder.
 * The profile reads no data set and trains nothing: the form has neither section. What
 * each field accepts is in vb-experiments-plan.c. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <string.h>

#include "vb-experiments-page-private.h"

static const int profile_sizes[] = { 224, 336 };

static GtkWidget *
build_layers (VbExperimentsPage *self)
{
  g_auto (GStrv) chosen = vb_experiments_plan_preset_values (self->preset, "profile.layers",
                                                             "llava");

  self->layers_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  for (guint k = 0; k < VB_FORM_N_PROFILE_LAYERS; k++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (vb_form_profile_layers[k].label);
      gtk_widget_set_tooltip_text (check, vb_form_profile_layers[k].id);
      /* one or the other: a radio group */
      if (k > 0)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (check),
                                    GTK_CHECK_BUTTON (self->layers_checks[0]));
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strcmp0 (chosen[0], vb_form_profile_layers[k].id) == 0);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (self->layers_box), check);
      self->layers_checks[k] = check;
    }
  return self->layers_box;
}

static const char *
chosen_layers (VbExperimentsPage *self)
{
  for (guint k = 0; k < VB_FORM_N_PROFILE_LAYERS; k++)
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->layers_checks[k])))
      return vb_form_profile_layers[k].id;
  return vb_form_profile_layers[0].id;
}

void
vb_experiments_clip_profile_build (VbExperimentsPage *self)
{
  GtkGrid *grid = vb_experiments_page_add_section (self, "CLIP Profile");

  vb_experiments_fields_build_sizes (self, grid, profile_sizes, G_N_ELEMENTS (profile_sizes),
                                     "Image sizes",
                                     "one run each; 256 patch tokens at 224 px, 576 at 336 px");
  vb_experiments_projector_build_weights (self, grid);
  vb_experiments_page_add_row (grid, "Layers", "the forward stops after these",
                               build_layers (self), NULL);

  /* the timing protocol: few calls by default, since ViT-L is slow on a CPU */
  GtkGrid *timing = vb_experiments_page_add_section (self, "Timing");
  for (guint i = 0; i < N_FIELDS; i++)
    if (vb_form_fields[i].section == VB_FORM_SECTION_PROFILE)
      vb_experiments_fields_add_entry (self, timing, i);
  vb_experiments_page_add_row (timing, "Device", "fp32 products on either",
                               vb_experiments_fields_new_device_choice (self), NULL);

  vb_experiments_projector_build_advanced (self, grid, VB_FORM_ARCH_CLIP_PROFILE,
                                           "_Advanced: a smaller encoder, seconds instead of a minute");
}

void
vb_experiments_clip_profile_clear (VbExperimentsPage *self)
{
  memset (self->layers_checks, 0, sizeof self->layers_checks);
  self->layers_box = NULL;
  self->clip_profile = FALSE;
}

void
vb_experiments_clip_profile_collect (VbExperimentsPage *self,
                                     VbExperimentsPlan *plan)
{
  vb_experiments_fields_collect_sizes (self, plan);
  vb_experiments_projector_collect_weights (self, plan);
  vb_experiments_fields_collect_device (self, plan);
  const char *one[2] = { chosen_layers (self), NULL };
  vb_experiments_plan_add_values (plan, self->preset, "profile.layers", one, TRUE, "llava");

  g_autofree char *encoder = vb_experiments_plan_check_profile (vb_experiments_page_entry_int (self, "model.clip_layers"),
                                                                vb_experiments_page_entry_int (self, "model.clip_width"),
                                                                vb_experiments_page_entry_int (self, "model.clip_heads"),
                                                                one[0]);
  vb_experiments_page_set_field_message (self->advanced, self->encoder_message, encoder);
  if (encoder != NULL)
    {
      /* a problem hidden in the collapsed expander is shown */
      gtk_expander_set_expanded (GTK_EXPANDER (self->advanced), TRUE);
      g_ptr_array_add (plan->problems, g_steal_pointer (&encoder));
    }
}

/* Clone & edit: the run's layers and weights, while the page is not updating. */
void
vb_experiments_clip_profile_fill (VbExperimentsPage *self,
                                  JsonObject        *config)
{
  g_autofree char *layers = vb_experiments_plan_dup_text (config, "profile.layers");

  for (guint k = 0; k < VB_FORM_N_PROFILE_LAYERS; k++)
    if (g_strcmp0 (layers, vb_form_profile_layers[k].id) == 0)
      gtk_check_button_set_active (GTK_CHECK_BUTTON (self->layers_checks[k]), TRUE);
  vb_experiments_projector_fill_weights (self, config);
}

/* ---- programmatic access (tests) ----------------------------------------------------------- */

gboolean
vb_experiments_page_set_profile_layers (VbExperimentsPage *self,
                                        const char        *id)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), FALSE);

  for (guint k = 0; k < VB_FORM_N_PROFILE_LAYERS; k++)
    if (g_strcmp0 (vb_form_profile_layers[k].id, id) == 0 && self->layers_checks[k] != NULL)
      {
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->layers_checks[k]), TRUE);
        return TRUE;
      }
  return FALSE;
}

const char *
vb_experiments_page_get_profile_layers (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);
  return self->layers_box ? chosen_layers (self) : NULL;
}
