/* vb-experiments-submit.c: the end of the Experiments form and what it leads to: the
 * problems the form has now, the equivalent CLI command (live), Run and Queue, which stay
 * insensitive while there are problems, and what they submit: the preset file with
 * overrides, or an edited preset (saved beside the database for the CLI too). */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <errno.h>

#include "vb-experiments-page-private.h"

void
vb_experiments_submit_collect (VbExperimentsPage *self,
                               VbExperimentsPlan *plan)
{
  if (self->preset == NULL || self->run_button == NULL)
    {
      g_ptr_array_add (plan->problems, g_strdup ("Choose an experiment"));
      return;
    }
  if (self->kind_drop != NULL)   /* a clip-profile's form has no data set */
    vb_experiments_dataset_collect (self, plan);
  vb_experiments_fields_collect (self, plan);
}

void
vb_experiments_page_update (VbExperimentsPage *self)
{
  g_auto (VbExperimentsPlan) plan = { 0 };

  if (self->updating || self->run_button == NULL)
    return;
  self->updating = TRUE;

  if (self->kind_drop != NULL)
    vb_experiments_dataset_update (self);
  vb_experiments_plan_init (&plan);
  vb_experiments_submit_collect (self, &plan);

  g_autofree char *problems = vb_experiments_plan_dup_problems (&plan);
  gtk_label_set_text (GTK_LABEL (self->problems_label), problems ? problems : "");
  gtk_widget_set_visible (self->problems_label, problems != NULL);

  gboolean ok = problems == NULL;
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
      self->edited_json = vb_experiments_plan_edited_preset (self->preset_text, plan.edits);
      if (self->edited_json != NULL)
        self->edited_path = vb_experiments_plan_edited_path (vb_session_get_db_path (self->session),
                                                             vb_preset_get_name (self->preset),
                                                             self->edited_json);
    }

  g_free (self->command);
  self->command = vb_experiments_plan_command (vb_preset_get_name (self->preset), self->edited_path,
                                               plan.overrides);
  gtk_label_set_text (GTK_LABEL (self->command_label), self->command);
  gtk_widget_set_visible (self->edited_label, self->edited_path != NULL);

  self->updating = FALSE;
}

/* ---- run and queue ------------------------------------------------------------------------- */

static gboolean
submit (VbExperimentsPage *self,
        gboolean           start_now)
{
  g_auto (VbExperimentsPlan) plan = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 job = 0;

  vb_experiments_page_update (self);
  vb_experiments_plan_init (&plan);
  vb_experiments_submit_collect (self, &plan);
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
    g_signal_emit_by_name (self, "job-started", job);
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

/* ---- the widgets --------------------------------------------------------------------------- */

void
vb_experiments_submit_build (VbExperimentsPage *self)
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

/* ---- programmatic access (tests) ----------------------------------------------------------- */

char *
vb_experiments_page_dup_problems (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_auto (VbExperimentsPlan) plan = { 0 };
  vb_experiments_plan_init (&plan);
  vb_experiments_submit_collect (self, &plan);
  return vb_experiments_plan_dup_problems (&plan);
}

GStrv
vb_experiments_page_dup_overrides (VbExperimentsPage *self)
{
  g_return_val_if_fail (VB_IS_EXPERIMENTS_PAGE (self), NULL);

  g_auto (VbExperimentsPlan) plan = { 0 };
  vb_experiments_plan_init (&plan);
  vb_experiments_submit_collect (self, &plan);
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
