/* Presentation mode and Preferences, on a database of two tiny runs trained through the
 * job queue (16 px Fashion-MNIST, 4-dir against 2-dir, one epoch):
 *
 * - F5's action opens presentation mode over the Compare page's selection: it asks for
 *   full screen, has four views (table, Top-1 bars, throughput bars, curves), Right and
 *   Left (its key bindings, run in the capture phase) move the view, the title and the
 *   "n / N" counter and stop at the ends; the table shows both runs' Top-1 as the
 *   database has it; Escape closes it.
 * - Ctrl+comma's action opens Preferences: choosing the dark colour scheme sets
 *   AdwStyleManager's scheme and the GSettings key; the device row is insensitive with
 *   the engine's reason where CUDA cannot be opened (sensitive where it can); data
 *   folders are added once and removed; the Runs page's x axis follows the key and is
 *   written back; every change is in GSettings (memory backend), read by a fresh object;
 *   without a schema the window still opens, on the defaults, and changes nothing.
 *
 * 1280×800 screenshots of two presentation views and of Preferences go to
 * $VB_ARTIFACT_DIR (default: this build folder). */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "vb-device.h"
#include "vb-preferences-window.h"
#include "vb-presentation.h"
#include "vb-settings.h"
#include "vb-ui-test.h"
#include "vb-window.h"

static char *tiny_path;

/* ---- fixtures ------------------------------------------------------------------------------ */

static void
make_fixtures (void)
{
  vb_ui_test_make_dirs ("vb-ui-pres-XXXXXX", 128, 64);
  tiny_path = vb_ui_test_write_tiny_scan (64, 2);
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* Runs what key does in widget's shortcut controllers, as a key press would, and says
 * whether a binding took it; it must run in the capture phase (before GtkWindow's own
 * arrow bindings). */
static gboolean
press (GtkWidget *widget,
       guint      keyval)
{
  g_autoptr (GPtrArray) shortcuts = vb_ui_test_dup_named_shortcuts (widget);

  for (guint i = 0; i < shortcuts->len; i++)
    {
      VbUiShortcut *s = g_ptr_array_index (shortcuts, i);
      GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (s->shortcut);
      if (!GTK_IS_KEYVAL_TRIGGER (trigger)
          || gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) != keyval
          || gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) != 0
          || !g_str_has_prefix (s->action_name, "presentation."))
        continue;
      g_assert_cmpint (gtk_event_controller_get_propagation_phase (s->controller), ==, GTK_PHASE_CAPTURE);
      return gtk_shortcut_action_activate (gtk_shortcut_get_action (s->shortcut),
                                           GTK_SHORTCUT_ACTION_EXCLUSIVE, widget,
                                           gtk_shortcut_get_arguments (s->shortcut));
    }
  return FALSE;
}

static double
last_top1 (VbStore *store,
           gint64   run_id)
{
  g_autoptr (GArray) epochs = vb_store_get_epoch_metrics (store, run_id, NULL);
  g_assert_cmpuint (epochs->len, >, 0);
  return g_array_index (epochs, VbEpochMetric, epochs->len - 1).val_top1;
}

static void
assert_view (VbPresentation *p,
             guint           index,
             const char     *name,
             const char     *title)
{
  g_autofree char *counter = g_strdup_printf ("%u / %u", index + 1, vb_presentation_get_n_views (p));

  g_assert_cmpuint (vb_presentation_get_view (p), ==, index);
  g_assert_cmpstr (vb_presentation_get_view_name (p), ==, name);
  g_assert_cmpstr (vb_presentation_get_title (p), ==, title);
  g_assert_cmpstr (vb_presentation_get_counter (p), ==, counter);
}

/* ---- presentation mode --------------------------------------------------------------------- */

static void
test_presentation (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_window ("present.db", 0, 0, &session);
  VbComparePage *compare = vb_window_get_compare_page (window);
  VbStore *store = vb_session_get_store (session);
  g_autoptr (GError) error = NULL;

  /* two finished runs, one group */
  g_assert_cmpuint (vb_session_start (session, tiny_path, NULL, &error), !=, 0);
  g_assert_no_error (error);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_session_idle, session, 400));
  g_assert_cmpuint (vb_window_get_n_toasts (window), ==, 0);
  vb_window_set_page (window, "compare");
  vb_compare_page_refresh (compare);
  g_assert_cmpuint (vb_compare_page_get_n_rows (compare), ==, 2);

  /* F5's action */
  g_assert_null (vb_window_get_presentation (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.presentation", NULL));
  GtkWidget *widget = vb_window_get_presentation (window);
  g_assert_nonnull (widget);
  VbPresentation *p = VB_PRESENTATION (widget);
  g_object_add_weak_pointer (G_OBJECT (p), (gpointer *) &p);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_is_mapped, p, 20));
  g_assert_true (gtk_widget_has_css_class (widget, "presentation"));
  /* full screen asked for: Xvfb has no window manager to grant it, so the request is what
   * can be checked (GtkWindow keeps it as its initial state until a WM answers) */
  gboolean fullscreen = FALSE;
  g_object_get (p, "fullscreened", &fullscreen, NULL);
  g_test_message ("fullscreened: %d, is_fullscreen: %d", fullscreen,
                  gtk_window_is_fullscreen (GTK_WINDOW (p)));
  g_assert_true (fullscreen || gtk_window_is_fullscreen (GTK_WINDOW (p)));
  /* a second F5 raises the same window */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.presentation", NULL));
  g_assert_true (vb_window_get_presentation (window) == widget);

  /* the views of the selection, the table first; 2 epochs make the curves lines */
  g_assert_cmpuint (vb_presentation_get_n_views (p), ==, 4);
  assert_view (p, 0, "table", "2 runs side by side");
  for (guint row = 0; row < 2; row++)
    {
      gint64 id = vb_compare_page_get_row_run (compare, row);
      g_autofree char *want = g_strdup_printf ("%.2f", last_top1 (store, id));
      g_autofree char *run = g_strdup_printf ("#%" G_GINT64_FORMAT, id);
      g_assert_true (isfinite (last_top1 (store, id)));
      g_assert_cmpstr (vb_presentation_get_table_cell (p, row, "Top-1"), ==, want);
      g_assert_cmpstr (vb_presentation_get_table_cell (p, row, "Run"), ==, run);
    }
  g_assert_null (vb_presentation_get_table_cell (p, 2, "Top-1"));
  g_assert_nonnull (strstr (vb_presentation_get_caption (p), "protocol"));

  /* Right steps forward through the charts and stops at the last */
  g_assert_true (press (widget, GDK_KEY_Right));
  assert_view (p, 1, "top1", vb_compare_page_get_accuracy_chart (compare)->title);
  g_assert_cmpstr (vb_presentation_get_title (p), ==, "Top-1 accuracy");
  g_assert_true (press (widget, GDK_KEY_Right));
  assert_view (p, 2, "throughput", "Evaluation throughput");
  g_assert_true (press (widget, GDK_KEY_Right));
  assert_view (p, 3, "curves", vb_compare_page_get_curves_chart (compare)->title);
  g_assert_true (press (widget, GDK_KEY_Right));
  assert_view (p, 3, "curves", vb_compare_page_get_curves_chart (compare)->title);
  /* Left steps back, Home and End jump, Page keys step too */
  g_assert_true (press (widget, GDK_KEY_Left));
  assert_view (p, 2, "throughput", "Evaluation throughput");
  g_assert_true (press (widget, GDK_KEY_Home));
  assert_view (p, 0, "table", "2 runs side by side");
  g_assert_true (press (widget, GDK_KEY_Left));
  assert_view (p, 0, "table", "2 runs side by side");
  g_assert_true (press (widget, GDK_KEY_End));
  g_assert_cmpuint (vb_presentation_get_view (p), ==, 3);
  g_assert_true (press (widget, GDK_KEY_Page_Up));
  g_assert_cmpuint (vb_presentation_get_view (p), ==, 2);

  /* Escape leaves; the main window stays */
  g_assert_true (press (widget, GDK_KEY_Escape));
  vb_ui_test_spin (0.2);
  g_assert_null (p);
  g_assert_null (vb_window_get_presentation (window));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));

  /* screenshots: without a WM a full-screen window keeps its first size, so these come
   * from one not made full screen, its content (what full screen shows) at 1280×800 */
  GtkWidget *shot = vb_presentation_new (GTK_WINDOW (window), compare);
  GtkWidget *content = adw_window_get_content (ADW_WINDOW (shot));
  gtk_window_present (GTK_WINDOW (shot));
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_is_mapped, shot, 20));
  vb_ui_test_save_screenshot (GTK_WINDOW (shot), content, 1280, 800, "presentation-table.png");
  vb_presentation_set_view (VB_PRESENTATION (shot), 1);
  vb_ui_test_save_screenshot (GTK_WINDOW (shot), content, 1280, 800, "presentation-top1.png");
  vb_presentation_set_view (VB_PRESENTATION (shot), 3);
  vb_ui_test_save_screenshot (GTK_WINDOW (shot), content, 1280, 800, "presentation-curves.png");
  gtk_window_destroy (GTK_WINDOW (shot));

  /* an empty selection still opens, with one view that says what to do */
  vb_compare_page_show_runs (compare, NULL, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.presentation", NULL));
  VbPresentation *empty = VB_PRESENTATION (vb_window_get_presentation (window));
  g_assert_cmpuint (vb_presentation_get_n_views (empty), ==, 1);
  g_assert_cmpstr (vb_presentation_get_view_name (empty), ==, "empty");
  g_assert_cmpstr (vb_presentation_get_counter (empty), ==, "1 / 1");
  g_assert_true (press (GTK_WIDGET (empty), GDK_KEY_Right));
  g_assert_cmpuint (vb_presentation_get_view (empty), ==, 0);
  gtk_window_close (GTK_WINDOW (empty));
  vb_ui_test_spin (0.1);
  g_assert_null (vb_window_get_presentation (window));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

/* ---- preferences --------------------------------------------------------------------------- */

static void
test_preferences (void)
{
  VbSession *session;
  VbWindow *window = vb_ui_test_new_window ("prefs.db", 0, 0, &session);
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autoptr (GSettings) settings = vb_settings_new ();
  g_assert_nonnull (settings);   /* GSETTINGS_SCHEMA_DIR: the build's compiled schema */

  /* Ctrl+comma's action */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.preferences", NULL));
  GtkWidget *widget = vb_window_get_preferences (window);
  g_assert_nonnull (widget);
  VbPreferencesWindow *prefs = VB_PREFERENCES_WINDOW (widget);
  g_object_add_weak_pointer (G_OBJECT (prefs), (gpointer *) &prefs);
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_is_mapped, prefs, 20));

  /* the colour scheme applies at once and is kept */
  GtkWidget *scheme = vb_preferences_window_get_row (prefs, "color-scheme");
  g_assert_true (ADW_IS_COMBO_ROW (scheme));
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (scheme)), ==, 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (scheme), 2);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_DARK);
  g_assert_true (adw_style_manager_get_dark (style));
  g_autofree char *stored = g_settings_get_string (settings, "color-scheme");
  g_assert_cmpstr (stored, ==, "dark");
  adw_combo_row_set_selected (ADW_COMBO_ROW (scheme), 1);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_LIGHT);

  /* CUDA only where the engine can open it; otherwise the row says why */
  GtkWidget *device = vb_preferences_window_get_row (prefs, "default-device");
  g_autoptr (GError) cuda_error = NULL;
  gboolean cuda = vb_device_cuda_built () && vb_device_ops ("cuda", &cuda_error) != NULL;
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (device));
  g_test_message ("device row: %s", subtitle);
  if (cuda)
    g_assert_true (gtk_widget_get_sensitive (device));
  else
    {
      g_assert_false (gtk_widget_get_sensitive (device));
      g_assert_true (g_str_has_prefix (subtitle, "CUDA unavailable: "));
      g_assert_cmpuint (strlen (subtitle), >, strlen ("CUDA unavailable: "));
      g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (device)), ==, 0);
    }
  g_autofree char *dev = g_settings_get_string (settings, "default-device");
  g_assert_cmpstr (dev, ==, "cpu");
  GtkWidget *precision = vb_preferences_window_get_row (prefs, "default-precision");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (precision)), ==, 0);

  /* data folders: added once, removed; single folders set */
  g_autofree char *a = vb_ui_test_path ("fashion-mnist");
  g_autofree char *b = vb_ui_test_path ("presets");
  g_assert_cmpuint (vb_preferences_window_get_n_data_folders (prefs), ==, 0);
  g_assert_true (vb_preferences_window_choose_folder (prefs, "data-folders", a));
  g_assert_true (vb_preferences_window_choose_folder (prefs, "data-folders", b));
  g_assert_true (vb_preferences_window_choose_folder (prefs, "data-folders", a));
  g_assert_cmpuint (vb_preferences_window_get_n_data_folders (prefs), ==, 2);
  g_assert_true (vb_preferences_window_choose_folder (prefs, "cifar10-path", b));
  GtkWidget *cifar = vb_preferences_window_get_row (prefs, "cifar10-path");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (cifar)), ==, b);
  g_assert_false (vb_preferences_window_choose_folder (prefs, "no-such-key", b));

  /* the Runs page's x axis follows the key, and writes its own choice back */
  VbRunsPage *runs = vb_window_get_runs_page (window);
  g_settings_set_string (settings, "runs-x-axis", "epoch");
  vb_ui_test_spin (0.1);
  g_assert_cmpint (vb_runs_page_get_x_axis (runs), ==, VB_X_AXIS_EPOCH);
  GtkWidget *x_axis = vb_preferences_window_get_row (prefs, "runs-x-axis");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (x_axis)), ==, 1);
  vb_runs_page_set_x_axis (runs, VB_X_AXIS_WALL_TIME);
  vb_ui_test_spin (0.1);
  g_autofree char *axis = g_settings_get_string (settings, "runs-x-axis");
  g_assert_cmpstr (axis, ==, "wall");

  vb_ui_test_save_screenshot (GTK_WINDOW (prefs), GTK_WIDGET (prefs), 1280, 800, "preferences.png");
  adw_combo_row_set_selected (ADW_COMBO_ROW (scheme), 2);
  vb_ui_test_save_screenshot (GTK_WINDOW (prefs), GTK_WIDGET (prefs), 1280, 800, "preferences-dark.png");

  g_assert_true (vb_preferences_window_remove_data_folder (prefs, a));
  g_assert_false (vb_preferences_window_remove_data_folder (prefs, a));
  g_assert_cmpuint (vb_preferences_window_get_n_data_folders (prefs), ==, 1);

  /* all of it in GSettings, as a fresh object reads it */
  g_autoptr (GSettings) fresh = vb_settings_new ();
  g_autofree char *fresh_scheme = g_settings_get_string (fresh, "color-scheme");
  g_auto (GStrv) folders = g_settings_get_strv (fresh, "data-folders");
  g_autofree char *fresh_cifar = g_settings_get_string (fresh, "cifar10-path");
  g_assert_cmpstr (fresh_scheme, ==, "dark");
  g_assert_cmpuint (g_strv_length (folders), ==, 1);
  g_assert_cmpstr (folders[0], ==, b);
  g_assert_cmpstr (fresh_cifar, ==, b);

  gtk_window_close (GTK_WINDOW (prefs));
  vb_ui_test_spin (0.1);
  g_assert_null (prefs);
  g_assert_null (vb_window_get_preferences (window));
  /* without the schema: the defaults, shown, not changeable; the colour scheme still
   * applies to the session */
  VbPreferencesWindow *bare = VB_PREFERENCES_WINDOW (vb_preferences_window_new (GTK_WINDOW (window), NULL));
  g_assert_false (gtk_widget_get_sensitive (vb_preferences_window_get_row (bare, "runs-x-axis")));
  g_assert_false (gtk_widget_get_sensitive (vb_preferences_window_get_row (bare, "cifar10-path")));
  g_assert_false (vb_preferences_window_choose_folder (bare, "data-folders", a));
  GtkWidget *bare_scheme = vb_preferences_window_get_row (bare, "color-scheme");
  g_assert_true (gtk_widget_get_sensitive (bare_scheme));
  adw_combo_row_set_selected (ADW_COMBO_ROW (bare_scheme), 1);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_destroy (GTK_WINDOW (bare));

  /* back to the default for the other tests */
  g_settings_reset (settings, "color-scheme");
  vb_settings_apply_color_scheme ("default");
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (session);
}

int
main (int argc, char *argv[])
{
  if (!vb_ui_test_init (&argc, &argv))
    return 77;
  make_fixtures ();

  g_test_add_func ("/vb/ui/presentation/steps", test_presentation);
  g_test_add_func ("/vb/ui/preferences/kept", test_preferences);
  return vb_ui_test_run ();
}
