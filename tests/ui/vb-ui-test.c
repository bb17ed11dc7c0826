#include "config.h"

#include "vb-ui-test.h"

#include <glib/gstdio.h>
#include <string.h>

#include "vb-test-fmnist.h"
#include "vb-test-util.h"

static char       *tmp_dir;
static char       *subset_dir;
static char       *presets_dir;
static const char *artifact_dir;

/* ---- the test program ------------------------------------------------------------------- */

gboolean
vb_ui_test_init (int    *argc,
                 char ***argv)
{
  gtk_test_init (argc, argv, NULL);
  adw_init ();
  /* screenshots show end states, not CSS transitions half way */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* what AdwApplication does for the app: the style sheet from the resource base path */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/visionbench/VisionBench/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (!vb_test_have_fashion_mnist ())
    {
      g_print ("SKIP: Debian's dataset-fashion-mnist is not installed\n");
      return FALSE;
    }
  artifact_dir = g_getenv ("VB_ARTIFACT_DIR");
  if (artifact_dir == NULL || *artifact_dir == '\0')
    artifact_dir = g_getenv ("VB_UI_BUILDDIR");
  if (artifact_dir == NULL || *artifact_dir == '\0')
    artifact_dir = ".";
  g_mkdir_with_parents (artifact_dir, 0755);
  return TRUE;
}

void
vb_ui_test_make_dirs (const char *tmpl,
                      guint32     n_train,
                      guint32     n_test)
{
  tmp_dir = g_dir_make_tmp (tmpl, NULL);
  subset_dir = g_build_filename (tmp_dir, "fashion-mnist", NULL);
  presets_dir = g_build_filename (tmp_dir, "presets", NULL);
  g_assert_cmpint (g_mkdir (subset_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (presets_dir, 0700), ==, 0);
  vb_test_write_fashion_mnist_subset (subset_dir, n_train, n_test);
}

const char *
vb_ui_test_presets_dir (void)
{
  return presets_dir;
}

const char *
vb_ui_test_subset_dir (void)
{
  return subset_dir;
}

char *
vb_ui_test_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static void
copy_preset (const char *file)
{
  g_autofree char *from = g_build_filename (VB_SOURCE_PRESETS_DIR, file, NULL);
  g_autofree char *to = g_build_filename (presets_dir, file, NULL);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (from, &text, &len, NULL));
  g_assert_true (g_file_set_contents (to, text, len, NULL));
}

void
vb_ui_test_copy_presets (const char *file)
{
  if (file != NULL)
    {
      copy_preset (file);
      return;
    }
  g_autoptr (GDir) dir = g_dir_open (VB_SOURCE_PRESETS_DIR, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      copy_preset (name);
}

char *
vb_ui_test_write_preset (const char *name,
                         const char *json)
{
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  char *path = g_build_filename (presets_dir, file, NULL);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  return path;
}

char *
vb_ui_test_write_tiny_scan (int train_limit,
                            int epochs)
{
  g_autofree char *base = vb_test_tiny_base_json (subset_dir, train_limit, 32, epochs, 32);
  g_autofree char *json = g_strdup_printf (
    "{\"name\": \"tiny-scan\", \"title\": \"Tiny scan directions (test)\","
    " \"description\": \"A very small VMamba on 16 px Fashion-MNIST, 4-dir against 2-dir.\","
    " \"base\": %s,"
    " \"grid\": {\"model.scan\": [\"4dir\", \"2dir\"]}, \"labels\": {\"model.scan\": \"Dirs\"}}",
    base);
  return vb_ui_test_write_preset ("tiny-scan", json);
}

int
vb_ui_test_run (void)
{
  int status = g_test_run ();

  vb_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&subset_dir, g_free);
  g_clear_pointer (&presets_dir, g_free);
  return status;
}

/* ---- the main context ------------------------------------------------------------------- */

gboolean
vb_ui_test_wait_until (VbUiCondition cond,
                       gpointer      data,
                       double        timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

void
vb_ui_test_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), TRUE);
}

gboolean
vb_ui_test_is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 0;
}

gboolean
vb_ui_test_session_busy (gpointer session)
{
  return vb_session_get_busy (session);
}

gboolean
vb_ui_test_session_idle (gpointer session)
{
  return !vb_session_get_busy (session);
}

/* ---- windows ---------------------------------------------------------------------------- */

static GtkWidget *
window_content (VbWindow *window)
{
  return adw_application_window_get_content (ADW_APPLICATION_WINDOW (window));
}

/* Sets window's default size so that widget comes out at width × height, making up for
 * what the default size counts in besides it (decorations, a header bar), and waits up to
 * 10 s for the new allocation. */
static void
fit_widget (GtkWindow *window,
            GtkWidget *widget,
            int        width,
            int        height)
{
  int dw, dh;
  gtk_window_get_default_size (window, &dw, &dh);
  gtk_window_set_default_size (window, dw + width - gtk_widget_get_width (widget),
                               dh + height - gtk_widget_get_height (widget));
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((gtk_widget_get_width (widget) != width || gtk_widget_get_height (widget) != height)
         && g_get_monotonic_time () < end)
    vb_ui_test_spin (0.05);
}

VbWindow *
vb_ui_test_new_window (const char *db_name,
                       int         width,
                       int         height,
                       VbSession **out_session)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = vb_ui_test_path (db_name);
  VbSession *session = vb_session_new (db, presets_dir, &error);
  g_assert_no_error (error);
  VbWindow *window = vb_window_new (NULL, session);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (vb_ui_test_wait_until (vb_ui_test_is_mapped, window, 20));

  if (width > 0)
    {
      vb_ui_test_spin (0.3);
      fit_widget (GTK_WINDOW (window), window_content (window), width, height);
    }
  *out_session = session;
  return window;
}

VbWindow *
vb_ui_test_new_exact_window (const char *db_name,
                             int         width,
                             int         height,
                             VbSession **out_session)
{
  VbWindow *window = vb_ui_test_new_window (db_name, width, height, out_session);
  GtkWidget *content = window_content (window);

  g_assert_cmpint (gtk_widget_get_width (content), ==, width);
  g_assert_cmpint (gtk_widget_get_height (content), ==, height);
  return window;
}

void
vb_ui_test_save_screenshot (GtkWindow  *window,
                            GtkWidget  *widget,
                            int         width,
                            int         height,
                            const char *name)
{
  if (width > 0)
    fit_widget (window, widget, width, height);
  vb_ui_test_spin (0.3);   /* let layout and the charts' first draw happen */
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (width > 0)
    {
      g_assert_cmpint (w, ==, width);
      g_assert_cmpint (h, ==, height);
    }
  else
    {
      g_assert_cmpint (w, >, 0);
      g_assert_cmpint (h, >, 0);
    }

  /* a widget waiting for a new allocation snapshots to nothing: let the frame clock run */
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  for (int tries = 0; node == NULL && tries < 200; tries++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        vb_ui_test_spin (0.02);
    }
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  g_autoptr (GdkTexture) texture =
    gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_autofree char *path = g_build_filename (artifact_dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %dx%d: %s", w, h, path);
}

void
vb_ui_test_save_window_screenshot (VbWindow   *window,
                                   const char *name)
{
  vb_ui_test_save_screenshot (GTK_WINDOW (window), window_content (window), 0, 0, name);
}

static void
shortcut_free (VbUiShortcut *s)
{
  g_object_unref (s->controller);
  g_object_unref (s->shortcut);
  g_free (s);
}

GPtrArray *
vb_ui_test_dup_named_shortcuts (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  GPtrArray *shortcuts = g_ptr_array_new_with_free_func ((GDestroyNotify) shortcut_free);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          if (!GTK_IS_NAMED_ACTION (action))
            continue;
          VbUiShortcut *s = g_new0 (VbUiShortcut, 1);
          s->controller = GTK_EVENT_CONTROLLER (g_object_ref (controller));
          s->shortcut = g_steal_pointer (&shortcut);
          s->action_name = gtk_named_action_get_action_name (GTK_NAMED_ACTION (action));
          g_ptr_array_add (shortcuts, s);
        }
    }
  return shortcuts;
}

AdwMessageDialog *
vb_ui_test_find_dialog (void)
{
  GListModel *tops = gtk_window_get_toplevels ();   /* not ours */
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (tops, i);
      if (ADW_IS_MESSAGE_DIALOG (w))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

char *
vb_ui_test_clipboard_text (GtkWidget *widget)
{
  GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (widget));
  g_auto (GValue) value = G_VALUE_INIT;

  if (content == NULL)
    return NULL;
  g_value_init (&value, G_TYPE_STRING);
  if (!gdk_content_provider_get_value (content, &value, NULL))
    return NULL;
  return g_value_dup_string (&value);
}

GdkTexture *
vb_ui_test_clipboard_texture (GtkWidget *widget)
{
  GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (widget));
  g_auto (GValue) value = G_VALUE_INIT;

  if (content == NULL)
    return NULL;
  g_value_init (&value, GDK_TYPE_TEXTURE);
  if (!gdk_content_provider_get_value (content, &value, NULL))
    return NULL;
  return g_value_dup_object (&value);
}

char *
vb_ui_test_export (VbComparePage *compare,
                   const char    *stem,
                   const char    *ext)
{
  g_autofree char *name = g_strdup_printf ("%s.%s", stem, ext);
  g_autofree char *path = vb_ui_test_path (name);
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  gsize len = 0;

  g_assert_true (vb_compare_page_export (compare, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpuint (len, >, 100);
  if (g_str_equal (ext, "png"))
    g_assert_true (memcmp (text, "\x89PNG", 4) == 0);
  if (g_str_equal (ext, "pdf"))
    g_assert_true (g_str_has_prefix (text, "%PDF"));
  return text;
}

void
vb_ui_test_check_copies (VbComparePage *compare,
                         const char    *table_fragment)
{
  GtkWidget *widget = GTK_WIDGET (compare);

  g_assert_true (gtk_widget_activate_action (widget, "compare.copy-table", NULL));
  g_autofree char *copied = vb_ui_test_clipboard_text (widget);
  g_autofree char *md = vb_compare_page_dup_table (compare, VB_TABLE_MARKDOWN);
  g_assert_cmpstr (copied, ==, md);
  g_assert_nonnull (strstr (copied, table_fragment));
  g_assert_true (gtk_widget_activate_action (widget, "compare.copy-chart", NULL));
  g_autoptr (GdkTexture) image = vb_ui_test_clipboard_texture (widget);
  int w, h;
  vb_compare_page_get_chart_size (compare, &w, &h);
  g_assert_nonnull (image);
  g_assert_cmpint (gdk_texture_get_width (image), ==, w);
  g_assert_cmpint (gdk_texture_get_height (image), ==, h);
}
