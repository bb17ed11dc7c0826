/* vb-preferences-window.h: Preferences (Ctrl+comma): colour scheme (applied at once),
 * default device and precision, the Runs page's x axis, the default image-folder and
 * CIFAR-10 folders and a list of extra data-set folders, all kept in GSettings. CUDA is
 * only offered where the engine can open a GPU; otherwise the row says why. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VB_TYPE_PREFERENCES_WINDOW (vb_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (VbPreferencesWindow, vb_preferences_window, VB, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* settings NULL (no schema): the rows show the defaults and cannot change them, except
 * the colour scheme, which still applies to this session. */
GtkWidget *vb_preferences_window_new          (GtkWindow           *parent,
                                               GSettings           *settings);
/* A row by its settings key: "color-scheme", "default-device", "default-precision",
 * "runs-x-axis", "image-folder-path", "cifar10-path"; NULL for another name. */
GtkWidget *vb_preferences_window_get_row      (VbPreferencesWindow *self,
                                               const char          *key);
/* What the folder chooser's Open does for key: "data-folders" adds path to the list
 * (once), "image-folder-path" and "cifar10-path" set it. FALSE without settings or for
 * another key. */
gboolean   vb_preferences_window_choose_folder (VbPreferencesWindow *self,
                                                const char          *key,
                                                const char          *path);
/* What a folder row's Remove button does. FALSE when path is not listed. */
gboolean   vb_preferences_window_remove_data_folder (VbPreferencesWindow *self,
                                                     const char          *path);
/* The extra folders the list shows now. */
guint      vb_preferences_window_get_n_data_folders (VbPreferencesWindow *self);

G_END_DECLS
