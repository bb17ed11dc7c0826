/* vb-ui-test.h: what the desktop app's widget tests (tests/ui, run under Xvfb) share: the
 * start of main (GTK, libadwaita, the app's style sheet, the screenshot folder), a
 * temporary folder with a Fashion-MNIST subset and a presets folder, iterating the main
 * context until something holds, a window on a session, and screenshots. Each test keeps
 * its own presets, databases and checks. */
#pragma once

#include <adwaita.h>

#include "vb-window.h"

G_BEGIN_DECLS

typedef gboolean (*VbUiCondition) (gpointer data);

/* ---- the test program ------------------------------------------------------------------- */

/* gtk_test_init, libadwaita, animations off and the app's style sheet; the screenshot
 * folder ($VB_ARTIFACT_DIR, else $VB_UI_BUILDDIR, else "."). FALSE, having printed SKIP,
 * when Debian's dataset-fashion-mnist is missing: main then returns 77. */
gboolean    vb_ui_test_init (int    *argc,
                             char ***argv);

/* The temporary folder (g_dir_make_tmp (tmpl)) with fashion-mnist/ (the first n_train
 * training and n_test test images) and an empty presets/. */
void        vb_ui_test_make_dirs (const char *tmpl,
                                  guint32     n_train,
                                  guint32     n_test);
const char *vb_ui_test_presets_dir (void);
const char *vb_ui_test_subset_dir (void);
/* name in the temporary folder (g_free it) */
char       *vb_ui_test_path (const char *name);

/* Copies the source tree's presets/<file> into presets/, or every *.json when file is NULL. */
void        vb_ui_test_copy_presets (const char *file);
/* Writes json as presets/<name>.json; returns its path (g_free it). */
char       *vb_ui_test_write_preset (const char *name,
                                     const char *json);
/* Writes "tiny-scan": the tiny base (vb_test_tiny_base_json, val_limit and evaluation batch
 * 32) on the subset, as a grid over model.scan, 4-dir against 2-dir, labelled "Dirs";
 * returns its path (g_free it). */
char       *vb_ui_test_write_tiny_scan (int train_limit,
                                        int epochs);

/* g_test_run, then the temporary folder removed; main returns what it returns. */
int         vb_ui_test_run (void);

/* ---- the main context ------------------------------------------------------------------- */

/* Iterates the main context until cond holds; FALSE after timeout_s. The session ticks
 * every second, so a blocking iteration always wakes up. */
gboolean    vb_ui_test_wait_until (VbUiCondition cond,
                                   gpointer      data,
                                   double        timeout_s);
/* Iterates the main context, without blocking, for seconds. */
void        vb_ui_test_spin (double seconds);

/* conditions */
gboolean    vb_ui_test_is_mapped (gpointer widget);
gboolean    vb_ui_test_session_busy (gpointer session);
gboolean    vb_ui_test_session_idle (gpointer session);

/* ---- windows ---------------------------------------------------------------------------- */

/* A session on the database db_name in the temporary folder (the presets folder's
 * presets) and its window, presented and mapped; with width > 0, the window is then sized
 * so that its content comes out at width × height (making up for any decoration; waits up
 * to 10 s and checks nothing). */
VbWindow   *vb_ui_test_new_window (const char *db_name,
                                   int         width,
                                   int         height,
                                   VbSession **out_session);
/* The same, with the content's width × height then asserted. */
VbWindow   *vb_ui_test_new_exact_window (const char *db_name,
                                         int         width,
                                         int         height,
                                         VbSession **out_session);

/* widget rendered to a PNG in the screenshot folder. With width > 0, window is first
 * sized so that widget comes out at width × height, which is asserted; else widget is
 * taken at its size, which must not be empty. */
void        vb_ui_test_save_screenshot (GtkWindow  *window,
                                        GtkWidget  *widget,
                                        int         width,
                                        int         height,
                                        const char *name);
/* The window's content (header bar and page) at its size, to a PNG. */
void        vb_ui_test_save_window_screenshot (VbWindow   *window,
                                               const char *name);

/* A shortcut whose action is a named action, in one of a widget's shortcut controllers. */
typedef struct {
  GtkEventController *controller;
  GtkShortcut        *shortcut;
  const char         *action_name;
} VbUiShortcut;

/* The shortcuts with a named action in widget's shortcut controllers, in their order, as
 * VbUiShortcut * (the array frees them). */
GPtrArray  *vb_ui_test_dup_named_shortcuts (GtkWidget *widget);

/* What the widget's clipboard holds: its text (g_free it), or its image (unref it); NULL
 * when it holds no such thing. */
char       *vb_ui_test_clipboard_text (GtkWidget *widget);
GdkTexture *vb_ui_test_clipboard_texture (GtkWidget *widget);
/* The Compare page's export of its table or chart to <stem>.<ext> in the temporary folder
 * (ext: csv md tex png svg pdf), asserted written, not tiny, and a real PNG or PDF where
 * it says so; returns the file's contents (g_free it). */
char       *vb_ui_test_export (VbComparePage *compare,
                               const char    *stem,
                               const char    *ext);
/* Copy Table puts exactly the page's Markdown table (holding table_fragment) on the
 * clipboard, and Copy Chart an image of the page's chart size. */
void        vb_ui_test_check_copies (VbComparePage *compare,
                                     const char    *table_fragment);
/* The message dialog among the toplevels, or NULL. */
AdwMessageDialog *vb_ui_test_find_dialog (void);

G_END_DECLS
