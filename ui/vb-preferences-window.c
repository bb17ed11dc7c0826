/* vb-preferences-window.c: the Preferences window. Each row is bound to its GSettings key
 * (strings with choices ↔ a combo row's index); the folder rows are rebuilt whenever
 * their key changes, so a change made elsewhere shows too. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <string.h>

#include "vb-device.h"
#include "vb-preferences-window.h"
#include "vb-settings.h"

struct _VbPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;       /* NULL: no schema */
  GHashTable           *rows;           /* key → row (borrowed: the window owns the rows) */
  GtkWidget            *folders_group;
  GPtrArray            *folder_rows;    /* rows in folders_group, placeholder included */
  guint                 n_folders;
  char                 *chooser_key;    /* the key the open chooser fills */
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (VbPreferencesWindow, vb_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

typedef struct {
  const char *value;
  const char *label;
} Choice;

/* in the schema's order of choices; NULL-terminated */
static const Choice color_schemes[] = {
  { "default", "Follow System" }, { "light", "Light" }, { "dark", "Dark" }, { NULL, NULL },
};
static const Choice devices[] = {
  { "cpu", "CPU" }, { "cuda", "CUDA (NVIDIA GPU)" }, { NULL, NULL },
};
static const Choice precisions[] = {
  { "fp32", "fp32" }, { "tf32", "TF32 (GPU)" }, { "bf16", "bf16 (GPU)" }, { NULL, NULL },
};
static const Choice x_axes[] = {
  { "step", "Step" }, { "epoch", "Epoch" }, { "wall", "Wall time" }, { NULL, NULL },
};

/* ---- combo rows ↔ string keys -------------------------------------------------------------- */

static gboolean
choice_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const Choice *choices = user_data;
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; choices[i].value != NULL; i++)
    if (g_str_equal (choices[i].value, s))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
choice_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  const Choice *choices = user_data;
  guint index = g_value_get_uint (value);

  for (guint i = 0; choices[i].value != NULL; i++)
    if (i == index)
      return g_variant_new_string (choices[i].value);
  return NULL;   /* no selection: the key keeps its value */
}

static GtkWidget *
add_combo_row (VbPreferencesWindow *self,
               GtkWidget           *group,
               const char          *key,
               const char          *title,
               const char          *subtitle,
               const Choice        *choices,
               gboolean             bind)
{
  g_autoptr (GtkStringList) labels = gtk_string_list_new (NULL);
  GtkWidget *row = adw_combo_row_new ();

  for (guint i = 0; choices[i].value != NULL; i++)
    gtk_string_list_append (labels, choices[i].label);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (labels));
  if (bind && self->settings != NULL)
    g_settings_bind_with_mapping (self->settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                  choice_get_mapping, choice_set_mapping, (gpointer) choices, NULL);
  else
    gtk_widget_set_sensitive (row, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  g_hash_table_insert (self->rows, (gpointer) key, row);
  return row;
}

static void
color_scheme_selected_cb (AdwComboRow *row)
{
  guint i = adw_combo_row_get_selected (row);

  /* at once, and without a schema too */
  if (i < G_N_ELEMENTS (color_schemes) - 1)
    vb_settings_apply_color_scheme (color_schemes[i].value);
}

/* NULL when CUDA can be chosen, else why not, as the engine says it. */
static char *
cuda_unavailable (void)
{
  g_autoptr (GError) error = NULL;
  const char *prefix = "device cuda: ";

  if (!vb_device_cuda_built ())
    return g_strdup ("CUDA unavailable: this build has no CUDA backend");
  if (vb_device_ops ("cuda", &error) != NULL)
    return NULL;
  return g_strdup_printf ("CUDA unavailable: %s",
                          g_str_has_prefix (error->message, prefix)
                          ? error->message + strlen (prefix) : error->message);
}

/* ---- folders ------------------------------------------------------------------------------- */

static GtkWidget *
icon_button (const char *icon,
             const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  return button;
}

static void remove_folder_clicked_cb (GtkButton           *button,
                                      VbPreferencesWindow *self);

static void
rebuild_folders (VbPreferencesWindow *self)
{
  g_auto (GStrv) folders = self->settings ? g_settings_get_strv (self->settings, "data-folders")
                                          : g_new0 (char *, 1);

  for (guint i = 0; i < self->folder_rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self->folders_group),
                                  g_ptr_array_index (self->folder_rows, i));
  g_ptr_array_set_size (self->folder_rows, 0);
  self->n_folders = g_strv_length (folders);

  for (guint i = 0; folders[i] != NULL; i++)
    {
      g_autofree char *name = g_path_get_basename (folders[i]);
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), folders[i]);
      GtkWidget *remove = icon_button ("user-trash-symbolic", "Remove from the list");
      g_object_set_data_full (G_OBJECT (remove), "path", g_strdup (folders[i]), g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_folder_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->folders_group), row);
      g_ptr_array_add (self->folder_rows, row);
    }
  if (self->n_folders == 0)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "No extra folders");
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->folders_group), row);
      g_ptr_array_add (self->folder_rows, row);
    }
}

/* the subtitle and clear button of a single-folder row follow its key */
static void
update_path_row (VbPreferencesWindow *self,
                 const char          *key)
{
  GtkWidget *row = g_hash_table_lookup (self->rows, key);
  g_autofree char *path = self->settings ? g_settings_get_string (self->settings, key) : NULL;
  gboolean set = path != NULL && *path != '\0';

  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), set ? path : "Not set");
  gtk_widget_set_sensitive (g_object_get_data (G_OBJECT (row), "clear"), set);
}

static void
settings_changed_cb (GSettings           *settings,
                     const char          *key,
                     VbPreferencesWindow *self)
{
  if (g_str_equal (key, "data-folders"))
    rebuild_folders (self);
  else if (g_str_equal (key, "image-folder-path") || g_str_equal (key, "cifar10-path"))
    update_path_row (self, key);
}

static void
chooser_response_cb (GtkNativeDialog     *chooser,
                     int                  response,
                     VbPreferencesWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path != NULL)
        vb_preferences_window_choose_folder (self, self->chooser_key, path);
    }
  g_clear_object (&self->chooser);
}

static void
choose_clicked_cb (GtkButton           *button,
                   VbPreferencesWindow *self)
{
  const char *key = g_object_get_data (G_OBJECT (button), "key");

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_free (self->chooser_key);
  self->chooser_key = g_strdup (key);
  self->chooser = gtk_file_chooser_native_new (g_str_equal (key, "data-folders")
                                               ? "Add a Data Folder" : "Choose a Data Set Folder",
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               "_Select", "_Cancel");
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
clear_clicked_cb (GtkButton           *button,
                  VbPreferencesWindow *self)
{
  if (self->settings != NULL)
    g_settings_set_string (self->settings, g_object_get_data (G_OBJECT (button), "key"), "");
}

static void
remove_folder_clicked_cb (GtkButton           *button,
                          VbPreferencesWindow *self)
{
  /* the list is rebuilt under this button: keep the path alive until done */
  g_autofree char *path = g_strdup (g_object_get_data (G_OBJECT (button), "path"));

  vb_preferences_window_remove_data_folder (self, path);
}

static void
add_path_row (VbPreferencesWindow *self,
              GtkWidget           *group,
              const char          *key,
              const char          *title)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *choose = icon_button ("folder-open-symbolic", "Choose a folder");
  GtkWidget *clear = icon_button ("edit-clear-symbolic", "Forget this folder");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_set_data (G_OBJECT (choose), "key", (gpointer) key);
  g_object_set_data (G_OBJECT (clear), "key", (gpointer) key);
  g_signal_connect (choose, "clicked", G_CALLBACK (choose_clicked_cb), self);
  g_signal_connect (clear, "clicked", G_CALLBACK (clear_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), choose);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), clear);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), choose);
  g_object_set_data (G_OBJECT (row), "clear", clear);
  gtk_widget_set_sensitive (row, self->settings != NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  g_hash_table_insert (self->rows, (gpointer) key, row);
  update_path_row (self, key);
}

/* ---- the window ---------------------------------------------------------------------------- */

static void
vb_preferences_window_dispose (GObject *object)
{
  VbPreferencesWindow *self = VB_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (vb_preferences_window_parent_class)->dispose (object);
}

static void
vb_preferences_window_finalize (GObject *object)
{
  VbPreferencesWindow *self = VB_PREFERENCES_WINDOW (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->folder_rows, g_ptr_array_unref);
  g_free (self->chooser_key);

  G_OBJECT_CLASS (vb_preferences_window_parent_class)->finalize (object);
}

static void
vb_preferences_window_class_init (VbPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vb_preferences_window_dispose;
  object_class->finalize = vb_preferences_window_finalize;
}

static void
vb_preferences_window_init (VbPreferencesWindow *self)
{
  self->rows = g_hash_table_new (g_str_hash, g_str_equal);
  self->folder_rows = g_ptr_array_new ();
}

GtkWidget *
vb_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  VbPreferencesWindow *self = g_object_new (VB_TYPE_PREFERENCES_WINDOW,
                                            "transient-for", parent,
                                            "modal", TRUE,
                                            "destroy-with-parent", TRUE,
                                            "search-enabled", FALSE,
                                            "default-width", 640,
                                            "default-height", 720,
                                            NULL);
  self->settings = settings ? g_object_ref (settings) : NULL;

  GtkWidget *page = adw_preferences_page_new ();
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), "General");
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "preferences-system-symbolic");

  GtkWidget *appearance = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (appearance), "Appearance");
  if (settings == NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (appearance),
                                           "The settings schema " VB_SETTINGS_SCHEMA_ID " is not "
                                           "installed: the defaults apply and changes are not kept.");
  GtkWidget *scheme = add_combo_row (self, appearance, "color-scheme", "Colour Scheme", NULL,
                                     color_schemes, TRUE);
  gtk_widget_set_sensitive (scheme, TRUE);
  g_signal_connect (scheme, "notify::selected", G_CALLBACK (color_scheme_selected_cb), NULL);
  add_combo_row (self, appearance, "runs-x-axis", "Runs Chart X Axis",
                 "What the Runs page plots against", x_axes, TRUE);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (appearance));

  GtkWidget *training = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (training), "New Runs");
  g_autofree char *why = cuda_unavailable ();
  GtkWidget *device = add_combo_row (self, training, "default-device", "Default Device",
                                     why ? why : "Where new runs train", devices, why == NULL);
  if (why != NULL)
    adw_combo_row_set_selected (ADW_COMBO_ROW (device), 0);   /* what runs get here */
  add_combo_row (self, training, "default-precision", "Default Precision",
                 "fp32 is strict; TF32 products and bf16 storage of the products' operands "
                 "use the GPU's tensor cores",
                 precisions, TRUE);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (training));

  GtkWidget *data = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (data), "Data Sets");
  add_path_row (self, data, "image-folder-path", "Image Folder");
  add_path_row (self, data, "cifar10-path", "CIFAR-10 Batches");
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (data));

  self->folders_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->folders_group), "Extra Data Folders");
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->folders_group),
                                         "Folders of data sets, besides the built-in Fashion-MNIST");
  GtkWidget *add = icon_button ("list-add-symbolic", "Add a folder");
  g_object_set_data (G_OBJECT (add), "key", (gpointer) "data-folders");
  g_signal_connect (add, "clicked", G_CALLBACK (choose_clicked_cb), self);
  gtk_widget_set_sensitive (add, settings != NULL);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (self->folders_group), add);
  rebuild_folders (self);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (self->folders_group));

  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), ADW_PREFERENCES_PAGE (page));
  if (settings != NULL)
    g_signal_connect (settings, "changed", G_CALLBACK (settings_changed_cb), self);
  return GTK_WIDGET (self);
}

GtkWidget *
vb_preferences_window_get_row (VbPreferencesWindow *self,
                               const char          *key)
{
  g_return_val_if_fail (VB_IS_PREFERENCES_WINDOW (self), NULL);
  return key ? g_hash_table_lookup (self->rows, key) : NULL;
}

gboolean
vb_preferences_window_choose_folder (VbPreferencesWindow *self,
                                     const char          *key,
                                     const char          *path)
{
  g_return_val_if_fail (VB_IS_PREFERENCES_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->settings == NULL || key == NULL)
    return FALSE;
  if (g_str_equal (key, "image-folder-path") || g_str_equal (key, "cifar10-path"))
    return g_settings_set_string (self->settings, key, path);
  if (!g_str_equal (key, "data-folders"))
    return FALSE;

  g_auto (GStrv) folders = g_settings_get_strv (self->settings, "data-folders");
  if (g_strv_contains ((const char * const *) folders, path))
    return TRUE;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) folders);
  g_strv_builder_add (builder, path);
  g_auto (GStrv) updated = g_strv_builder_end (builder);
  return g_settings_set_strv (self->settings, "data-folders", (const char * const *) updated);
}

gboolean
vb_preferences_window_remove_data_folder (VbPreferencesWindow *self,
                                          const char          *path)
{
  g_return_val_if_fail (VB_IS_PREFERENCES_WINDOW (self), FALSE);

  if (self->settings == NULL || path == NULL)
    return FALSE;
  g_auto (GStrv) folders = g_settings_get_strv (self->settings, "data-folders");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gboolean found = FALSE;
  for (guint i = 0; folders[i] != NULL; i++)
    if (g_str_equal (folders[i], path))
      found = TRUE;
    else
      g_strv_builder_add (builder, folders[i]);
  if (!found)
    return FALSE;
  g_auto (GStrv) updated = g_strv_builder_end (builder);
  return g_settings_set_strv (self->settings, "data-folders", (const char * const *) updated);
}

guint
vb_preferences_window_get_n_data_folders (VbPreferencesWindow *self)
{
  g_return_val_if_fail (VB_IS_PREFERENCES_WINDOW (self), 0);
  return self->n_folders;
}
