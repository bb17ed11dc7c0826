/* vb-experiments-dataset.c: the Experiments form's data set section: the kind, the folder
 * (a file chooser, or the built-in Fashion-MNIST) and Check Dataset, which opens the set
 * and decodes its images on a worker thread (a GTask). A folder must pass the check of
 * its current settings before Run and Queue accept it; the built-in set is checked
 * without asking. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-dataset-check.h"
#include "vb-experiments-page-private.h"
#include "vb-settings.h"

/* a class needs this many usable images in training and in validation */
#define MIN_PER_CLASS 2

static const struct {
  const char *id;       /* data.dataset */
  const char *label;
} kinds[] = {
  { "fashion-mnist", "Fashion-MNIST (built-in)" },
  { "image-folder", "Image folder (ImageNet-val protocol)" },
  { "cifar10", "CIFAR-10 folder" },
};
#define N_KINDS G_N_ELEMENTS (kinds)

const char *
vb_experiments_dataset_kind (VbExperimentsPage *self)
{
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->kind_drop));
  return k < N_KINDS ? kinds[k].id : kinds[0].id;
}

gboolean
vb_experiments_dataset_field_applies (VbExperimentsPage *self,
                                      guint              i)
{
  if (self->entries[i] == NULL)
    return FALSE;   /* not in this preset's form (a projector study has no split fields) */
  return !vb_form_fields[i].folder_only
         || self->kind_drop == NULL
         || g_str_equal (vb_experiments_dataset_kind (self), "image-folder");
}

/* What identifies the data settings a check result belongs to. */
static char *
dataset_key (VbExperimentsPage *self)
{
  g_autoptr (GString) key = g_string_new (vb_experiments_dataset_kind (self));
  g_string_append_printf (key, "\n%s", self->path);
  for (guint i = 0; i < VB_FORM_FIRST_TRAIN_FIELD; i++)
    if (vb_experiments_dataset_field_applies (self, i))
      g_string_append_printf (key, "\n%s", gtk_editable_get_text (GTK_EDITABLE (self->entries[i])));
  return g_string_free (g_steal_pointer (&key), FALSE);
}

static CheckState
check_state (VbExperimentsPage *self)
{
  g_autofree char *key = dataset_key (self);
  return g_strcmp0 (key, self->check_key) == 0 ? self->check_state : CHECK_NONE;
}

void
vb_experiments_dataset_collect (VbExperimentsPage *self,
                                VbExperimentsPlan *plan)
{
  const char *kind = vb_experiments_dataset_kind (self);
  const char *path_problem = NULL;
  const char *one[2] = { kind, NULL };

  vb_experiments_plan_add_values (plan, self->preset, "data.dataset", one, TRUE, "fashion-mnist");
  one[0] = self->path;
  vb_experiments_plan_add_values (plan, self->preset, "data.path", one, TRUE, "");
  if (!g_str_equal (kind, "fashion-mnist") && self->path[0] == '\0')
    path_problem = "Choose the data set’s folder";
  vb_experiments_page_set_field_message (self->path_label, self->path_message, path_problem);
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
  vb_experiments_page_update (self);
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
  req->dataset = g_strdup (vb_experiments_dataset_kind (self));
  req->path = g_strdup (self->path);
  /* a form without the split fields (a projector study's) checks with the defaults */
  req->train_fraction = 0.8;
  if (self->entries[0] != NULL)
    {
      req->n_classes = (int) g_ascii_strtoll (gtk_editable_get_text (GTK_EDITABLE (self->entries[0])), NULL, 10);
      req->train_fraction = g_ascii_strtod (gtk_editable_get_text (GTK_EDITABLE (self->entries[1])), NULL);
      req->split_seed = g_ascii_strtoull (gtk_editable_get_text (GTK_EDITABLE (self->entries[2])), NULL, 10);
    }

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
  vb_experiments_page_update (self);
}

/* ---- updating ------------------------------------------------------------------------------ */

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
      text = g_str_equal (vb_experiments_dataset_kind (self), "fashion-mnist")
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

void
vb_experiments_dataset_update (VbExperimentsPage *self)
{
  const char *kind = vb_experiments_dataset_kind (self);

  /* folder-only fields follow the kind; the path row says what "built-in" means */
  gboolean folder = g_str_equal (kind, "image-folder");
  for (guint i = 0; i < VB_FORM_FIRST_TRAIN_FIELD; i++)
    if (self->entries[i] != NULL)
      gtk_widget_set_sensitive (self->entries[i], folder);
  gboolean builtin = self->path[0] == '\0';
  g_autofree char *shown = !builtin ? g_strdup (self->path)
                           : self->projector ? g_strdup ("Not chosen (required)")
                           : g_strdup_printf ("Built-in: %s", VB_FASHION_MNIST_DIR);
  gtk_label_set_text (GTK_LABEL (self->path_label), shown);
  gtk_widget_set_tooltip_text (self->path_label, shown);
  gtk_widget_set_visible (self->builtin_button, g_str_equal (kind, "fashion-mnist") && !builtin);

  /* the built-in set is checked without asking */
  if (g_str_equal (kind, "fashion-mnist") && check_state (self) == CHECK_NONE)
    start_check (self);
  update_check_row (self);
}

/* ---- choosing a folder --------------------------------------------------------------------- */

static void
set_path (VbExperimentsPage *self,
          const char        *path)
{
  g_free (self->path);
  self->path = g_strdup (path ? path : "");
  vb_experiments_page_update (self);
}

static void
choose_clicked_cb (VbExperimentsPage *self)
{
  GtkFileChooser *chooser = vb_experiments_page_new_chooser (self, &self->chooser,
                                                             "Choose the Data Set Folder",
                                                             GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                             set_path);

  if (chooser == NULL)
    return;
  /* start where the user is, else at the preferences' folder for this kind; the
   * preferences' data folders are offered as shortcuts */
  g_autoptr (GSettings) settings = vb_settings_new ();
  g_autofree char *preferred = NULL;
  if (settings != NULL)
    {
      g_auto (GStrv) extra = g_settings_get_strv (settings, "data-folders");
      for (char **f = extra; *f != NULL; f++)
        {
          g_autoptr (GFile) shortcut = g_file_new_for_path (*f);
          gtk_file_chooser_add_shortcut_folder (chooser, shortcut, NULL);
        }
      preferred = g_settings_get_string (settings,
                                         g_str_equal (vb_experiments_dataset_kind (self), "cifar10")
                                         ? "cifar10-path" : "image-folder-path");
    }
  const char *start = self->path[0] != '\0' ? self->path : preferred;
  if (start != NULL && start[0] != '\0')
    {
      g_autoptr (GFile) folder = g_file_new_for_path (start);
      gtk_file_chooser_set_current_folder (chooser, folder, NULL);
    }
  gtk_native_dialog_show (self->chooser);
}

static void
builtin_clicked_cb (VbExperimentsPage *self)
{
  set_path (self, "");
}

/* ---- the section --------------------------------------------------------------------------- */

void
vb_experiments_dataset_build (VbExperimentsPage *self)
{
  GtkGrid *grid = vb_experiments_page_add_section (self, "Data Set");
  JsonObject *base = vb_preset_get_base (self->preset);
  JsonNode *kind_node = vb_experiments_plan_lookup (base, "data.dataset");
  JsonNode *path_node = vb_experiments_plan_lookup (base, "data.path");
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
  g_signal_connect_swapped (self->kind_drop, "notify::selected",
                            G_CALLBACK (vb_experiments_page_update), self);
  /* the projector study reads CIFAR-10's binary batches (clip-projectors.md §4.1) */
  if (self->projector)
    {
      for (guint k = 0; k < N_KINDS; k++)
        if (g_str_equal (kinds[k].id, "cifar10"))
          gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_drop), k);
      gtk_widget_set_sensitive (self->kind_drop, FALSE);
      gtk_widget_set_tooltip_text (self->kind_drop,
                                   "The projector study reads the CIFAR-10 binary batches "
                                   "(data_batch_1.bin … data_batch_5.bin, test_batch.bin)");
    }
  vb_experiments_page_add_row (grid, "Kind", NULL, self->kind_drop, NULL);

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
  self->path_message = vb_experiments_page_new_message_label ();
  vb_experiments_page_add_row (grid, self->projector ? "CIFAR-10 folder" : "Folder", NULL, box,
                               self->path_message);

  for (guint i = 0; i < VB_FORM_FIRST_TRAIN_FIELD; i++)
    if (vb_form_field_applies (i, self->projector))
      vb_experiments_fields_add_entry (self, grid, i);

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
  vb_experiments_page_add_row (grid, "Check", NULL, check_box, NULL);
}

/* Clone & edit: the run's kind and folder, while the page is not updating. */
void
vb_experiments_dataset_fill (VbExperimentsPage *self,
                             JsonObject        *config)
{
  g_autofree char *kind = vb_experiments_plan_dup_text (config, "data.dataset");
  g_autofree char *path = vb_experiments_plan_dup_text (config, "data.path");

  if (self->kind_drop == NULL)
    return;   /* a clip-profile's form has no data set */
  for (guint k = 0; k < N_KINDS; k++)
    if (g_strcmp0 (kinds[k].id, kind) == 0)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_drop), k);
  g_free (self->path);
  self->path = g_strdup (path ? path : "");
}

/* ---- programmatic access (tests) ----------------------------------------------------------- */

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
  return self->kind_drop ? vb_experiments_dataset_kind (self) : NULL;
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
