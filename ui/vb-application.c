/* vb-application.c: command-line options, the shared session, app actions, and the
 * colour scheme preference, applied for every window. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-application.h"
#include "vb-session.h"
#include "vb-settings.h"
#include "vb-window.h"

struct _VbApplication
{
  AdwApplication parent_instance;

  char      *db_path;
  VbSession *session;
  GError    *session_error;
  GSettings *settings;        /* NULL without the schema */
};

G_DEFINE_FINAL_TYPE (VbApplication, vb_application, ADW_TYPE_APPLICATION)

static int
vb_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  VbApplication *self = VB_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("visionbench %s\n", PACKAGE_VERSION);
      return 0;
    }
  g_variant_dict_lookup (options, "db", "^ay", &self->db_path);
  return -1;
}

static void
color_scheme_cb (VbApplication *self)
{
  g_autofree char *scheme = g_settings_get_string (self->settings, "color-scheme");

  vb_settings_apply_color_scheme (scheme);
}

static void
vb_application_startup (GApplication *app)
{
  VbApplication *self = VB_APPLICATION (app);

  G_APPLICATION_CLASS (vb_application_parent_class)->startup (app);

  self->session = vb_session_new (self->db_path, NULL, &self->session_error);
  /* also when the key changes outside the app (gsettings set ...) */
  self->settings = vb_settings_new ();
  if (self->settings != NULL)
    {
      color_scheme_cb (self);
      g_signal_connect_swapped (self->settings, "changed::color-scheme",
                                G_CALLBACK (color_scheme_cb), self);
    }
}

static void
vb_application_activate (GApplication *app)
{
  VbApplication *self = VB_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }
  if (self->session == NULL)
    {
      /* no database, no app: say why in a dialog instead of on a terminal nobody sees */
      GtkWidget *dialog = adw_message_dialog_new (NULL, "Cannot open the results database",
                                                  self->session_error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
      gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (app));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  gtk_window_present (GTK_WINDOW (vb_window_new (GTK_APPLICATION (app), self->session)));
}

static void
vb_application_shutdown (GApplication *app)
{
  VbApplication *self = VB_APPLICATION (app);

  if (self->session != NULL)
    vb_session_shutdown (self->session);
  g_clear_object (&self->session);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);

  G_APPLICATION_CLASS (vb_application_parent_class)->shutdown (app);
}

static void
vb_application_finalize (GObject *object)
{
  VbApplication *self = VB_APPLICATION (object);

  g_clear_error (&self->session_error);
  g_free (self->db_path);

  G_OBJECT_CLASS (vb_application_parent_class)->finalize (object);
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  /* closing asks first when a run is going; the app quits with its last window */
  g_autoptr (GList) windows = g_list_copy (gtk_application_get_windows (app));
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  GtkWidget *about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                                   "transient-for", parent,
                                   "application-name", "VisionBench",
                                   "application-icon", VB_APPLICATION_ID,
                                   "version", PACKAGE_VERSION,
                                   "comments", "Run, watch and compare vision-model experiments",
                                   "license-type", GTK_LICENSE_GPL_3_0,
                                   NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_activated },
  { .name = "about", .activate = about_activated },
};

static void
vb_application_class_init (VbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = vb_application_finalize;
  app_class->handle_local_options = vb_application_handle_local_options;
  app_class->startup = vb_application_startup;
  app_class->activate = vb_application_activate;
  app_class->shutdown = vb_application_shutdown;
}

static void
vb_application_init (VbApplication *self)
{
  static const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL, "Results database (default: $XDG_DATA_HOME/visionbench/runs.db)", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  static const char *quit_accels[] = { "<Control>q", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}

VbApplication *
vb_application_new (void)
{
  return g_object_new (VB_TYPE_APPLICATION,
                       "application-id", VB_APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/visionbench/VisionBench",
                       NULL);
}
