/* vb-experiments-fields.c: the Experiments form's fields: the text entries (those of the
 * data set section too), the Training section with its image sizes, scan modes, device,
 * precision and GPUs (data parallel), and their inline validation: a bad value is flagged
 * under its field as it is typed. What each entry accepts is in vb-experiments-plan.c. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vb-device.h"
#include "vb-settings.h"
#include "vb-experiments-page-private.h"

static const struct {
  const char *mode;
  const char *label;
} scan_modes[] = {
  { "4dir", "4-dir" },
  { "2dir", "2-dir" },
  { "1dir", "1-dir" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (scan_modes) == N_SCANS);

static const int standard_sizes[] = { 64, 128, 224 };

/* ---- the device ---------------------------------------------------------------------------- */

/* the engine's reason for a missing GPU, without its "device cuda: " */
static char *
device_reason (const char *message)
{
  const char *prefix = "device cuda: ";
  return g_strdup (g_str_has_prefix (message, prefix) ? message + strlen (prefix) : message);
}

/* NULL when CUDA can be offered, else why not (vb_device_ops's reason). Asked once: the
 * engine opens the GPU on the first ask and keeps it, so the answer does not change. */
static const char *
cuda_unavailable (const char **description)
{
  static gboolean asked;
  static char *why, *describe;

  if (!asked)
    {
      g_autoptr (GError) error = NULL;
      const VbOps *ops = vb_device_ops ("cuda", &error);

      asked = TRUE;
      if (ops != NULL)
        describe = g_strdup (vb_device_describe (ops));
      else
        why = device_reason (error->message);
      if (why != NULL)
        g_debug ("CUDA is not offered: %s", why);
    }
  if (description != NULL)
    *description = describe;
  return why;
}

/* Linked toggle buttons, the first chosen. With why, the second is shown but not offered,
 * and the first is the only choice. */
static GtkWidget *
new_choice (const char  *first,
            const char  *second,
            const char  *why,
            GtkWidget  **second_out)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (box, "linked");
  gtk_widget_set_halign (box, GTK_ALIGN_START);
  GtkWidget *on = gtk_toggle_button_new_with_label (first);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (on), TRUE);
  GtkWidget *off = gtk_toggle_button_new_with_label (second);
  gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (off), GTK_TOGGLE_BUTTON (on));
  if (why != NULL)
    {
      gtk_widget_set_can_target (on, FALSE);   /* the only choice: not to be unticked */
      gtk_widget_set_sensitive (off, FALSE);
      gtk_widget_set_tooltip_text (off, why);
      gtk_widget_set_tooltip_text (box, why);
    }
  gtk_box_append (GTK_BOX (box), on);
  gtk_box_append (GTK_BOX (box), off);
  if (second_out != NULL)
    *second_out = off;
  return box;
}

/* the default device of the preferences ("cpu" when there are none) */
static gboolean
prefers_cuda (void)
{
  g_autoptr (GSettings) settings = vb_settings_new ();
  g_autofree char *device = settings ? g_settings_get_string (settings, "default-device") : NULL;
  return g_strcmp0 (device, "cuda") == 0;
}

/* CPU or CUDA; CUDA is chosen first when the preset or the preferences ask for it and a
 * GPU is usable. */
GtkWidget *
vb_experiments_fields_new_device_choice (VbExperimentsPage *self)
{
  const char *description = NULL;
  const char *why = cuda_unavailable (&description);
  g_auto (GStrv) preset_device = vb_experiments_plan_preset_values (self->preset, "device", "cpu");
  GtkWidget *box = new_choice ("CPU", "CUDA", why, &self->cuda_toggle);

  if (why == NULL)
    {
      gtk_widget_set_tooltip_text (self->cuda_toggle, description);
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->cuda_toggle),
                                    g_strv_contains ((const char * const *) preset_device, "cuda")
                                    || prefers_cuda ());
      g_signal_connect_swapped (self->cuda_toggle, "toggled",
                                G_CALLBACK (vb_experiments_page_update), self);
    }
  return box;
}

static const char *
form_device (VbExperimentsPage *self)
{
  return gtk_widget_get_sensitive (self->cuda_toggle)
         && gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->cuda_toggle)) ? "cuda" : "cpu";
}

/* ---- precision: strict fp32 anywhere; TF32 products or bf16 storage on the GPU ----------- */

static const char *const precision_ids[3] = { "fp32", "tf32", "bf16" };

/* the preset's precision, else the preferences' default */
static const char *
preferred_precision (VbExperimentsPage *self)
{
  g_auto (GStrv) preset = vb_experiments_plan_preset_values (self->preset, "train.precision",
                                                             "");
  g_autoptr (GSettings) settings = vb_settings_new ();
  g_autofree char *pref = settings ? g_settings_get_string (settings, "default-precision") : NULL;
  const char *want = preset[0] != NULL && preset[0][0] != '\0' ? preset[0] : pref;
  for (guint i = 0; i < G_N_ELEMENTS (precision_ids); i++)
    if (g_strcmp0 (want, precision_ids[i]) == 0)
      return precision_ids[i];
  return "fp32";
}

/* tensor-core products only while the device is CUDA: offered with it, and the choice
 * back to fp32 when the device leaves the GPU */
static void
sync_precision (VbExperimentsPage *self)
{
  gboolean gpu = g_str_equal (form_device (self), "cuda");
  for (guint i = 1; i < G_N_ELEMENTS (precision_ids); i++)
    {
      gtk_widget_set_sensitive (self->precision_toggles[i], gpu);
      if (!gpu && gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->precision_toggles[i])))
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->precision_toggles[0]), TRUE);
    }
}

static const char *
form_precision (VbExperimentsPage *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (precision_ids); i++)
    if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->precision_toggles[i])))
      return precision_ids[i];
  return "fp32";
}

static GtkWidget *
new_precision_choice (VbExperimentsPage *self)
{
  static const char *const tips[3] = {
    "Strict fp32 products: the parity mode, on the CPU or the GPU",
    "TF32 tensor-core products on the GPU (tensors stay fp32)",
    "bf16 storage of the block products' operands, fp32 accumulation, on the GPU "
    "(master weights, residual stream, scan and optimizer stay fp32)",
  };
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (box, "linked");
  gtk_widget_set_halign (box, GTK_ALIGN_START);
  const char *chosen = preferred_precision (self);
  for (guint i = 0; i < G_N_ELEMENTS (precision_ids); i++)
    {
      GtkWidget *t = gtk_toggle_button_new_with_label (precision_ids[i]);
      gtk_widget_set_tooltip_text (t, tips[i]);
      if (i > 0)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (t),
                                     GTK_TOGGLE_BUTTON (self->precision_toggles[0]));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (t), g_str_equal (chosen, precision_ids[i]));
      g_signal_connect_swapped (t, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (box), t);
      self->precision_toggles[i] = t;
    }
  /* the device row comes first */
  g_signal_connect_swapped (self->cuda_toggle, "toggled", G_CALLBACK (sync_precision), self);
  sync_precision (self);
  return box;
}

/* ---- GPUs: data parallel over the GPUs of this host (train.gpus) -------------------------- */

#define MAX_FORM_GPUS 16   /* the most GPUs the form asks for */

/* How many GPUs a data-parallel run can use here: those the process sees when GPU 0
 * opens, at most MAX_FORM_GPUS; with none, why not (the engine's reason for GPU 0). Asked
 * once, as CUDA is. */
static int
usable_gpus (const char **why_none)
{
  static gboolean asked;
  static int n;
  static char *why;

  if (!asked)
    {
      asked = TRUE;
      /* GPU 0 is opened (as the device row does) for the reason when there is none; the
       * others are only counted: opening a context on every GPU of a big host would cost
       * each of them memory for as long as the app runs */
      g_autoptr (GError) error = NULL;
      if (vb_device_gpu_ops (0, &error) == NULL)
        why = device_reason (error->message);
      else
        n = MIN (vb_device_gpu_count (), MAX_FORM_GPUS);
      g_debug ("data parallel: %d usable GPU(s)%s%s", n, why ? "; " : "", why ? why : "");
    }
  if (why_none != NULL)
    *why_none = why;
  return n;
}

/* why the GPUs row is not offered now, or NULL when it is */
static char *
gpus_unavailable (VbExperimentsPage *self)
{
  const char *why = NULL;

  if (usable_gpus (&why) == 0)
    return g_strdup_printf ("Needs a CUDA GPU: %s", why);
  if (!g_str_equal (form_device (self), "cuda"))
    return g_strdup ("Choose the CUDA device to split the batches over GPUs");
  return NULL;
}

/* the GPUs a run asks for: the row's value while it is offered, else 0 (one device) */
static gint64
form_gpus (VbExperimentsPage *self)
{
  if (usable_gpus (NULL) == 0 || !g_str_equal (form_device (self), "cuda"))
    return 0;
  return gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->gpus_spin));
}

/* the box under the row takes no grid line while it shows nothing */
static void
sync_gpus_notes (VbExperimentsPage *self)
{
  gtk_widget_set_visible (self->gpus_notes, gtk_widget_get_visible (self->gpus_note)
                                            || gtk_widget_get_visible (self->gpus_message));
}

/* offered with CUDA only, as tf32 and bf16 are; otherwise back to one device, and the
 * row says why, under it and in its tooltip (as the device row's CUDA does) */
static void
sync_gpus (VbExperimentsPage *self)
{
  g_autofree char *why = gpus_unavailable (self);

  gtk_widget_set_sensitive (self->gpus_spin, why == NULL);
  gtk_widget_set_tooltip_text (self->gpus_spin, why ? why : "train.gpus");
  gtk_label_set_text (GTK_LABEL (self->gpus_note), why ? why : "");
  gtk_widget_set_visible (self->gpus_note, why != NULL);
  if (why != NULL)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->gpus_spin), 0);
  sync_gpus_notes (self);
}

/* The title of the form row holding control: column 0 of the grid (see add_row). */
static GtkLabel *
row_title (GtkGrid   *grid,
           GtkWidget *control)
{
  int row = 0;

  while (gtk_widget_get_parent (control) != GTK_WIDGET (grid))
    control = gtk_widget_get_parent (control);
  gtk_grid_query_child (grid, control, NULL, &row, NULL, NULL);
  return GTK_LABEL (gtk_grid_get_child_at (grid, 0, row));
}

/* How many GPUs share each batch: 0 (one device) to the GPUs usable here. After the device
 * row, whose CUDA choice it needs. */
static void
build_gpus (VbExperimentsPage *self,
            GtkGrid           *grid)
{
  g_auto (GStrv) preset_gpus = vb_experiments_plan_preset_values (self->preset, "train.gpus", "0");
  GtkWidget *spin = gtk_spin_button_new_with_range (0, usable_gpus (NULL), 1);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 11);   /* as wide as the entries above */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), g_ascii_strtod (preset_gpus[0], NULL));
  gtk_widget_set_halign (spin, GTK_ALIGN_START);
  gtk_widget_set_name (spin, "train.gpus");
  g_signal_connect_swapped (spin, "value-changed", G_CALLBACK (vb_experiments_page_update), self);
  self->gpus_spin = spin;

  self->gpus_note = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->gpus_note), 0);
  gtk_label_set_wrap (GTK_LABEL (self->gpus_note), TRUE);
  gtk_widget_add_css_class (self->gpus_note, "dim-label");
  gtk_widget_add_css_class (self->gpus_note, "caption");
  self->gpus_message = vb_experiments_page_new_message_label ();
  self->gpus_notes = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (self->gpus_notes), self->gpus_note);
  gtk_box_append (GTK_BOX (self->gpus_notes), self->gpus_message);
  /* a no-break space: when the title wraps, "(data parallel)" stays on one line */
  vb_experiments_page_add_row (grid, "GPUs (data\u00a0parallel)",
                               "0 = one device. Each GPU takes an equal share of every batch; "
                               "gradients are averaged through NCCL",
                               spin, self->gpus_notes);
  /* the longest title of the section: it wraps rather than widen the titles' column,
   * which would set these controls off from the other sections' */
  GtkLabel *title = row_title (grid, spin);
  gtk_label_set_wrap (title, TRUE);
  gtk_label_set_max_width_chars (title, 10);

  g_signal_connect_swapped (self->cuda_toggle, "toggled", G_CALLBACK (sync_gpus), self);
  sync_gpus (self);
}

/* ---- the rows ------------------------------------------------------------------------------ */

void
vb_experiments_fields_add_entry (VbExperimentsPage *self,
                                 GtkGrid           *grid,
                                 guint              i)
{
  const VbFormField *f = &vb_form_fields[i];
  g_auto (GStrv) values = vb_experiments_plan_preset_values (self->preset, f->key, f->fallback);
  g_autofree char *text = g_strjoinv (",", values);
  GtkWidget *entry = gtk_entry_new ();

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 14);
  gtk_widget_set_halign (entry, GTK_ALIGN_START);
  gtk_widget_set_name (entry, f->key);
  gtk_widget_set_tooltip_text (entry, f->key);
  g_signal_connect_swapped (entry, "changed", G_CALLBACK (vb_experiments_page_update), self);
  self->entries[i] = entry;
  self->messages[i] = vb_experiments_page_new_message_label ();
  vb_experiments_page_add_row (grid, f->title, f->hint, entry, self->messages[i]);
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

void
vb_experiments_fields_build_sizes (VbExperimentsPage *self,
                                   GtkGrid           *grid,
                                   const int         *standard,
                                   guint              n_standard,
                                   const char        *title,
                                   const char        *hint)
{
  g_auto (GStrv) preset_sizes = vb_experiments_plan_preset_values (self->preset, "data.img_size", "32");

  self->n_sizes = 0;
  for (guint s = 0; s < n_standard; s++)
    add_size (self, standard[s]);
  for (guint s = 0; preset_sizes[s]; s++)
    add_size (self, (int) g_ascii_strtoll (preset_sizes[s], NULL, 10));
  add_size (self, self->extra_size);
  qsort (self->sizes, self->n_sizes, sizeof (int), compare_ints);

  self->size_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  for (guint s = 0; s < self->n_sizes; s++)
    {
      g_autofree char *id = g_strdup_printf ("%d", self->sizes[s]);
      g_autofree char *label = g_strdup_printf ("%d px", self->sizes[s]);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strv_contains ((const char * const *) preset_sizes, id));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (self->size_box), check);
      self->size_checks[s] = check;
    }
  self->size_message = vb_experiments_page_new_message_label ();
  vb_experiments_page_add_row (grid, title, hint, self->size_box, self->size_message);
}

static void
build_scans (VbExperimentsPage *self,
             GtkGrid           *grid)
{
  g_auto (GStrv) preset_scans = vb_experiments_plan_preset_values (self->preset, "model.scan", "4dir");

  self->scan_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  for (guint s = 0; s < N_SCANS; s++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (scan_modes[s].label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_strv_contains ((const char * const *) preset_scans,
                                                    scan_modes[s].mode));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (vb_experiments_page_update), self);
      gtk_box_append (GTK_BOX (self->scan_box), check);
      self->scan_checks[s] = check;
    }
  self->scan_message = vb_experiments_page_new_message_label ();
  vb_experiments_page_add_row (grid, "Scan modes", "SS2D directions; one run per mode",
                               self->scan_box, self->scan_message);
}

void
vb_experiments_fields_build_training (VbExperimentsPage *self)
{
  GtkGrid *grid = vb_experiments_page_add_section (self, "Training");

  for (guint i = VB_FORM_FIRST_TRAIN_FIELD; i < N_FIELDS; i++)
    {
      if (vb_form_fields[i].section != VB_FORM_SECTION_TRAIN
          || !vb_form_field_applies (i, self->projector))
        continue;
      vb_experiments_fields_add_entry (self, grid, i);
      /* the rest of a VMamba form after "Training images"; a projector study has its image
       * size in its own section and no scans: the device after the rate */
      if (g_str_equal (vb_form_fields[i].key, self->projector ? "train.lr" : "data.train_limit"))
        {
          if (!self->projector)
            {
              vb_experiments_fields_build_sizes (self, grid, standard_sizes,
                                                 G_N_ELEMENTS (standard_sizes), "Resolutions",
                                                 "one run per size");
              build_scans (self, grid);
            }
          vb_experiments_page_add_row (grid, "Device", NULL,
                                       vb_experiments_fields_new_device_choice (self), NULL);
          /* the projector study computes in strict fp32 whatever the device (its runner
           * reads no precision): no choice to offer there yet */
          if (!self->projector)
            vb_experiments_page_add_row (grid, "Precision", "tf32 and bf16 on the GPU",
                                         new_precision_choice (self), NULL);
          /* only VMamba trains data parallel, and only a preset with the field takes it */
          if (!self->projector && vb_experiments_plan_has_gpus (self->preset))
            build_gpus (self, grid);
        }
    }
}

/* ---- validation ---------------------------------------------------------------------------- */

void
vb_experiments_fields_collect_checks (VbExperimentsPage *self,
                                      VbExperimentsPlan *plan,
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
      vb_experiments_page_set_field_message (box, message_label, m);
      g_ptr_array_add (plan->problems, g_steal_pointer (&m));
      return;
    }
  vb_experiments_page_set_field_message (box, message_label, NULL);
  g_auto (GStrv) values = g_strv_builder_end (b);
  vb_experiments_plan_add_values (plan, self->preset, key, (const char * const *) values,
                                  is_string, fallback);
}

void
vb_experiments_fields_collect_sizes (VbExperimentsPage *self,
                                     VbExperimentsPlan *plan)
{
  g_autofree char **ids = g_new0 (char *, self->n_sizes + 1);
  for (guint s = 0; s < self->n_sizes; s++)
    ids[s] = g_strdup_printf ("%d", self->sizes[s]);
  vb_experiments_fields_collect_checks (self, plan, "data.img_size", self->size_checks,
                                        self->n_sizes, (const char * const *) ids, FALSE, "32",
                                        self->size_box, self->size_message,
                                        self->projector ? "Image size"
                                        : self->clip_profile ? "Image sizes" : "Resolutions");
  for (guint s = 0; s < self->n_sizes; s++)
    g_free (ids[s]);
}

void
vb_experiments_fields_collect_device (VbExperimentsPage *self,
                                      VbExperimentsPlan *plan)
{
  const char *device[2] = { form_device (self), NULL };
  vb_experiments_plan_add_values (plan, self->preset, "device", device, TRUE, "cpu");
  if (self->precision_toggles[0] != NULL)
    {
      const char *precision[2] = { form_precision (self), NULL };
      vb_experiments_plan_add_values (plan, self->preset, "train.precision", precision, TRUE,
                                      "fp32");
    }
}

/* the batch size when its field holds a valid one, else 0 (its own message says why) */
static gint64
form_batch_size (VbExperimentsPage *self)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_str_equal (vb_form_fields[i].key, "train.batch_size") && self->entries[i] != NULL)
      {
        g_autofree char *message = NULL;
        const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entries[i]));
        g_auto (GStrv) values = vb_experiments_plan_parse_field (i, text, &message);
        return values ? g_ascii_strtoll (values[0], NULL, 10) : 0;
      }
  return 0;
}

/* train.gpus, flagged under its row when the batch does not split over the GPUs */
static void
collect_gpus (VbExperimentsPage *self,
              VbExperimentsPlan *plan)
{
  if (self->gpus_spin == NULL)
    return;
  const char *problem = vb_experiments_plan_add_gpus (plan, self->preset, form_gpus (self),
                                                      form_batch_size (self));
  vb_experiments_page_set_field_message (self->gpus_spin, self->gpus_message, problem);
  sync_gpus_notes (self);
}

/* the rows after "Training images": resolutions, scan modes, device, precision, GPUs */
static void
collect_choices (VbExperimentsPage *self,
                 VbExperimentsPlan *plan)
{
  vb_experiments_fields_collect_sizes (self, plan);
  const char *scan_ids[N_SCANS];
  for (guint s = 0; s < N_SCANS; s++)
    scan_ids[s] = scan_modes[s].mode;
  vb_experiments_fields_collect_checks (self, plan, "model.scan", self->scan_checks, N_SCANS,
                                        scan_ids, TRUE, "4dir", self->scan_box,
                                        self->scan_message, "Scan modes");
  vb_experiments_fields_collect_device (self, plan);
  collect_gpus (self, plan);
}

void
vb_experiments_fields_collect (VbExperimentsPage *self,
                               VbExperimentsPlan *plan)
{
  /* the study's own choices first: what the runs are */
  if (self->projector)
    vb_experiments_projector_collect (self, plan);
  if (self->clip_profile)
    vb_experiments_clip_profile_collect (self, plan);
  for (guint i = 0; i < N_FIELDS; i++)
    {
      if (self->entries[i] == NULL)
        continue;   /* not part of this preset's form */
      if (!vb_experiments_dataset_field_applies (self, i))
        {
          vb_experiments_page_set_field_message (self->entries[i], self->messages[i], NULL);
          continue;
        }
      g_autofree char *message = NULL;
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entries[i]));
      g_auto (GStrv) values = vb_experiments_plan_parse_field (i, text, &message);
      vb_experiments_page_set_field_message (self->entries[i], self->messages[i], message);
      if (values == NULL)
        {
          g_ptr_array_add (plan->problems, g_steal_pointer (&message));
          continue;
        }
      vb_experiments_plan_add_values (plan, self->preset, vb_form_fields[i].key,
                                      (const char * const *) values, FALSE, vb_form_fields[i].fallback);
      /* resolutions, scans and device come after the other training fields, seeds last */
      if (g_str_equal (vb_form_fields[i].key, "data.train_limit"))
        collect_choices (self, plan);
    }
  if (self->projector)
    vb_experiments_fields_collect_device (self, plan);
}

/* ---- clone & edit -------------------------------------------------------------------------- */

static GtkWidget *
entry_for (VbExperimentsPage *self,
           const char        *key)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (vb_form_fields[i].key, key) == 0)
      return self->entries[i];
  return NULL;
}

/* The run's fields, image size, scan mode, device, precision and GPUs, while the page is
 * not updating. */
void
vb_experiments_fields_fill (VbExperimentsPage *self,
                            JsonObject        *config)
{
  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_autofree char *text = vb_experiments_plan_dup_text (config, vb_form_fields[i].key);
      if (text != NULL && self->entries[i] != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->entries[i]), text);
    }

  g_autofree char *size_text = vb_experiments_plan_dup_text (config, "data.img_size");
  for (guint s = 0; s < self->n_sizes; s++)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (self->size_checks[s]),
                                 size_text && self->sizes[s] == (int) g_ascii_strtoll (size_text, NULL, 10));
  g_autofree char *scan = vb_experiments_plan_dup_text (config, "model.scan");
  for (guint s = 0; s < N_SCANS && self->scan_checks[s] != NULL; s++)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (self->scan_checks[s]),
                                 g_strcmp0 (scan, scan_modes[s].mode) == 0);

  /* a CUDA run clones to CUDA where a GPU is usable, else to the CPU */
  if (self->cuda_toggle == NULL)
    return;
  g_autofree char *device = vb_experiments_plan_dup_text (config, "device");
  gboolean cuda = g_strcmp0 (device, "cuda") == 0 && gtk_widget_get_sensitive (self->cuda_toggle);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (cuda ? self->cuda_toggle
                                                        : gtk_widget_get_prev_sibling (self->cuda_toggle)),
                                TRUE);
  g_autofree char *precision = vb_experiments_plan_dup_text (config, "train.precision");
  for (guint i = 0; i < G_N_ELEMENTS (precision_ids) && self->precision_toggles[i] != NULL; i++)
    if (g_strcmp0 (precision, precision_ids[i]) == 0)
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->precision_toggles[i]), TRUE);
  /* the run's GPUs where the row is offered (its range is the GPUs usable here) */
  g_autofree char *gpus = vb_experiments_plan_dup_text (config, "train.gpus");
  if (self->gpus_spin != NULL && gtk_widget_get_sensitive (self->gpus_spin))
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->gpus_spin),
                               gpus ? g_ascii_strtod (gpus, NULL) : 0);
}

/* ---- programmatic access (tests) ----------------------------------------------------------- */

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
    if (g_strcmp0 (vb_form_fields[i].key, key) == 0)
      return self->messages[i];
  if (g_strcmp0 (key, "model.scan") == 0)
    return self->scan_message;
  if (g_strcmp0 (key, "train.gpus") == 0)
    return self->gpus_message;
  if (g_strcmp0 (key, "data.img_size") == 0)
    return self->size_message;
  if (g_strcmp0 (key, "data.path") == 0)
    return self->path_message;
  if (g_strcmp0 (key, "model.projector") == 0)
    return self->proj_message;
  if (g_strcmp0 (key, "model.clip_weights") == 0)
    return self->weights_message;
  return NULL;
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
