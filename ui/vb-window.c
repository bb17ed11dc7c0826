/* vb-window.c: the main window. Closing it while the engine works asks first: keep the
 * window, let the job finish in the background (the process stays until it is done), or
 * stop the run now (it ends cancelled with its checkpoint kept, so it can be resumed).
 * Either way the database stays consistent and nothing recorded is lost. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-preferences-window.h"
#include "vb-presentation.h"
#include "vb-settings.h"
#include "vb-window.h"

struct _VbWindow
{
  AdwApplicationWindow parent_instance;

  VbSession  *session;
  GSettings  *settings;        /* NULL without the schema: defaults, nothing kept */
  GtkWidget  *presentation;    /* weak: open while shown */
  GtkWidget  *preferences;     /* weak */
  GtkWidget  *toasts;
  GtkWidget  *stack;
  GtkWidget  *experiments;
  GtkWidget  *runs;
  GtkWidget  *compare;
  GtkWidget  *scan;
  gboolean    close_confirmed;
  gboolean    in_background;
  gboolean    stopping;        /* "Stop Run" chosen: close once the engine reports the end */
  guint64     failed_job;      /* a run of this job failed and was toasted */
  guint       n_toasts;
  char       *last_toast;
};

G_DEFINE_FINAL_TYPE (VbWindow, vb_window, ADW_TYPE_APPLICATION_WINDOW)

void
vb_window_toast (VbWindow   *self,
                 const char *message)
{
  g_return_if_fail (VB_IS_WINDOW (self));

  AdwToast *toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toasts), toast);
  self->n_toasts++;
  g_free (self->last_toast);
  self->last_toast = g_strdup (message);
}

static void
job_event_cb (VbWindow         *self,
              const VbJobEvent *event)
{
  if (event->kind == VB_JOB_EVENT_RUN_FINISHED && event->run_status == VB_RUN_FAILED)
    {
      g_autofree char *msg = g_strdup_printf ("Run %s failed: %s",
                                              event->run_name ? event->run_name : "?",
                                              event->error_message ? event->error_message
                                                                   : "no reason given");
      self->failed_job = event->job_id;
      vb_window_toast (self, msg);
    }
  else if (event->kind == VB_JOB_EVENT_JOB_FINISHED && event->job_state == VB_JOB_FAILED
           && event->job_id != self->failed_job)
    {
      g_autofree char *msg = g_strdup_printf ("The experiment failed: %s",
                                              event->error_message ? event->error_message
                                                                   : "no reason given");
      vb_window_toast (self, msg);
    }
}

static void
job_started_cb (VbWindow *self,
                guint64   job_id)
{
  vb_runs_page_follow_next_run (VB_RUNS_PAGE (self->runs));
  vb_runs_page_refresh (VB_RUNS_PAGE (self->runs));
  vb_window_set_page (self, "runs");
}

static gboolean
close_stopped_cb (gpointer data)
{
  VbWindow *self = data;

  /* the engine is idle now, so stopping its thread waits on no step */
  if (self->session != NULL)
    vb_session_shutdown (self->session);
  gtk_window_close (GTK_WINDOW (self));
  return G_SOURCE_REMOVE;
}

static void
busy_changed_cb (VbWindow *self)
{
  if (vb_session_get_busy (self->session))
    return;
  /* from an idle: this runs inside the job queue's callback, which must not free the queue */
  if (self->stopping)
    g_idle_add_full (G_PRIORITY_DEFAULT, close_stopped_cb, g_object_ref (self), g_object_unref);
  else if (self->in_background)
    gtk_window_destroy (GTK_WINDOW (self));
}

/* Sends the cancel and returns: the run ends at the engine's next step, which reports it
 * through the session (busy goes false), and busy_changed_cb() closes the window then.
 * Never wait for the job thread here: a step can take seconds on a big model. */
static void
stop_and_close (VbWindow *self)
{
  self->close_confirmed = TRUE;
  self->stopping = TRUE;
  gtk_widget_set_sensitive (adw_application_window_get_content (ADW_APPLICATION_WINDOW (self)),
                            FALSE);
  vb_session_cancel_run (self->session, 0);
  busy_changed_cb (self);
}

static void
close_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   VbWindow         *self)
{
  if (g_strcmp0 (response, "background") == 0)
    {
      /* the application keeps running while a window exists, hidden or not */
      self->in_background = TRUE;
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      busy_changed_cb (self);
    }
  else if (g_strcmp0 (response, "stop") == 0)
    stop_and_close (self);
}

static gboolean
vb_window_close_request (GtkWindow *window)
{
  VbWindow *self = VB_WINDOW (window);

  if (self->close_confirmed || self->session == NULL || !vb_session_get_busy (self->session))
    return GTK_WINDOW_CLASS (vb_window_parent_class)->close_request (window);

  GtkWidget *dialog = adw_message_dialog_new (window, "Stop the running experiment?",
                                              NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  "An experiment is still training. It can finish in the "
                                  "background, or stop now: a stopped run keeps its last "
                                  "checkpoint and can be resumed later. Results recorded so "
                                  "far are kept either way.");
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "keep", "_Keep Window Open",
                                    "background", "_Finish in Background",
                                    "stop", "_Stop Run",
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect (dialog, "response", G_CALLBACK (close_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static void
vb_window_dispose (GObject *object)
{
  VbWindow *self = VB_WINDOW (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_weak_pointer (&self->presentation);
  g_clear_weak_pointer (&self->preferences);

  G_OBJECT_CLASS (vb_window_parent_class)->dispose (object);
}

static void
vb_window_finalize (GObject *object)
{
  VbWindow *self = VB_WINDOW (object);

  g_free (self->last_toast);

  G_OBJECT_CLASS (vb_window_parent_class)->finalize (object);
}

static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  vb_window_set_page (VB_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
toggle_fullscreen_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  if (gtk_window_is_fullscreen (GTK_WINDOW (widget)))
    gtk_window_unfullscreen (GTK_WINDOW (widget));
  else
    gtk_window_fullscreen (GTK_WINDOW (widget));
}

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  VbWindow *self = VB_WINDOW (widget);

  if (self->preferences == NULL)
    g_set_weak_pointer (&self->preferences,
                        vb_preferences_window_new (GTK_WINDOW (self), self->settings));
  gtk_window_present (GTK_WINDOW (self->preferences));
}

/* Presentation mode shows what the Compare page shows: refresh it first, so a run that
 * finished a moment ago is in */
static void
presentation_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  VbWindow *self = VB_WINDOW (widget);

  if (self->presentation == NULL)
    {
      vb_compare_page_refresh (VB_COMPARE_PAGE (self->compare));
      g_set_weak_pointer (&self->presentation,
                          vb_presentation_new (GTK_WINDOW (self), VB_COMPARE_PAGE (self->compare)));
      gtk_window_fullscreen (GTK_WINDOW (self->presentation));
    }
  gtk_window_present (GTK_WINDOW (self->presentation));
}

/* Clone & edit: the Experiments form filled from a stored run (the Runs page can call it) */
static void
clone_run_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  VbWindow *self = VB_WINDOW (widget);
  g_autoptr (GError) error = NULL;

  if (!vb_experiments_page_load_run (VB_EXPERIMENTS_PAGE (self->experiments),
                                     g_variant_get_int64 (parameter), &error))
    {
      vb_window_toast (self, error->message);
      return;
    }
  vb_window_set_page (self, "experiments");
}

static void
vb_window_class_init (VbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);
  static const char *const pages[] = { "experiments", "runs", "compare", "scan" };

  object_class->dispose = vb_window_dispose;
  object_class->finalize = vb_window_finalize;
  window_class->close_request = vb_window_close_request;

  /* class bindings, not app accels: they work in a window without an application
   * (tests), and resources/ui/vb-shortcuts-window.ui lists them */
  gtk_widget_class_install_action (widget_class, "window.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "window.toggle-fullscreen", NULL,
                                   toggle_fullscreen_action);
  gtk_widget_class_install_action (widget_class, "win.clone-run", "x", clone_run_action);
  gtk_widget_class_install_action (widget_class, "window.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "window.presentation", NULL, presentation_action);
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, GDK_CONTROL_MASK,
                                         "window.show-page", "s", pages[i]);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0,
                                       "window.toggle-fullscreen", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK,
                                       "window.preferences", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "window.presentation", NULL);
  /* the action gtk_application_window_set_help_overlay() adds to the window */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_question, GDK_CONTROL_MASK,
                                       "win.show-help-overlay", NULL);
}

static void
vb_window_init (VbWindow *self)
{
}

/* ---- the Runs page's x axis, kept in GSettings ---------------------------------------------- */

static void
runs_x_axis_cb (VbWindow *self)
{
  VbXAxisKind x_axis = vb_runs_page_get_x_axis (VB_RUNS_PAGE (self->runs));

  g_settings_set_string (self->settings, "runs-x-axis", vb_settings_x_axis_to_string (x_axis));
}

static void
x_axis_setting_cb (VbWindow *self)
{
  g_autofree char *value = g_settings_get_string (self->settings, "runs-x-axis");

  vb_runs_page_set_x_axis (VB_RUNS_PAGE (self->runs), vb_settings_x_axis_from_string (value));
}

static GtkWidget *
new_menu_button (void)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) section = g_menu_new ();
  g_autoptr (GMenu) about = g_menu_new ();
  g_autoptr (GMenuItem) present = g_menu_item_new ("_Presentation Mode", "window.presentation");
  g_autoptr (GMenuItem) prefs = g_menu_item_new ("_Preferences", "window.preferences");
  g_autoptr (GMenuItem) keys = g_menu_item_new ("_Keyboard Shortcuts", "win.show-help-overlay");

  /* the accels are class bindings, not app accels: say them in the menu by hand */
  g_menu_item_set_attribute (present, "accel", "s", "F5");
  g_menu_item_set_attribute (prefs, "accel", "s", "<Control>comma");
  g_menu_item_set_attribute (keys, "accel", "s", "<Control>question");
  g_menu_append_item (section, present);
  g_menu_append_item (section, prefs);
  g_menu_append_item (section, keys);
  g_menu_append (about, "_About VisionBench", "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (about));

  GtkWidget *button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), G_MENU_MODEL (menu));
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (button), TRUE);
  gtk_widget_set_tooltip_text (button, "Main Menu");
  return button;
}

static gboolean
is_compare_page (GBinding     *binding,
                 const GValue *from,
                 GValue       *to,
                 gpointer      user_data)
{
  g_value_set_boolean (to, g_strcmp0 (g_value_get_string (from), "compare") == 0);
  return TRUE;
}

static void
add_page (VbWindow   *self,
          GtkWidget  *page,
          const char *name,
          const char *title,
          const char *icon)
{
  AdwViewStackPage *p = adw_view_stack_add_titled (ADW_VIEW_STACK (self->stack), page, name,
                                                   title);
  adw_view_stack_page_set_icon_name (p, icon);
}

VbWindow *
vb_window_new (GtkApplication *app,
               VbSession      *session)
{
  g_return_val_if_fail (VB_IS_SESSION (session), NULL);

  VbWindow *self = g_object_new (VB_TYPE_WINDOW,
                                 "application", app,
                                 "title", "VisionBench",
                                 "default-width", 1280,
                                 "default-height", 800,
                                 NULL);
  self->session = g_object_ref (session);

  self->stack = adw_view_stack_new ();
  gtk_widget_set_vexpand (self->stack, TRUE);
  self->experiments = vb_experiments_page_new (session);
  self->runs = vb_runs_page_new (session);
  self->compare = vb_compare_page_new (session);
  self->scan = vb_scan_page_new ();
  add_page (self, self->experiments, "experiments", "Experiments", "media-playback-start-symbolic");
  add_page (self, self->runs, "runs", "Runs", "view-list-symbolic");
  add_page (self, self->compare, "compare", "Compare", "view-grid-symbolic");
  add_page (self, self->scan, "scan", "Scan Explorer", "view-app-grid-symbolic");

  g_autoptr (GtkBuilder) builder =
    gtk_builder_new_from_resource ("/org/visionbench/VisionBench/ui/vb-shortcuts-window.ui");
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                           GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder,
                                                                                         "help_overlay")));

  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *switcher = adw_view_switcher_title_new ();
  adw_view_switcher_title_set_stack (ADW_VIEW_SWITCHER_TITLE (switcher), ADW_VIEW_STACK (self->stack));
  adw_view_switcher_title_set_title (ADW_VIEW_SWITCHER_TITLE (switcher), "VisionBench");
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), switcher);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), new_menu_button ());
  /* on the Compare page, whose selection it presents */
  GtkWidget *present = gtk_button_new_from_icon_name ("display-projector-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (present), "window.presentation");
  gtk_widget_set_tooltip_text (present, "Presentation Mode (F5)");
  g_object_bind_property_full (self->stack, "visible-child-name", present, "visible",
                               G_BINDING_SYNC_CREATE, is_compare_page, NULL, NULL, NULL);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), present);

  GtkWidget *switcher_bar = adw_view_switcher_bar_new ();
  adw_view_switcher_bar_set_stack (ADW_VIEW_SWITCHER_BAR (switcher_bar), ADW_VIEW_STACK (self->stack));
  g_object_bind_property (switcher, "title-visible", switcher_bar, "reveal", G_BINDING_SYNC_CREATE);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), self->stack);
  gtk_box_append (GTK_BOX (box), switcher_bar);

  self->toasts = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toasts), box);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), self->toasts);

  g_signal_connect_swapped (self->experiments, "job-started", G_CALLBACK (job_started_cb), self);
  g_signal_connect_swapped (session, "job-event", G_CALLBACK (job_event_cb), self);
  g_signal_connect_swapped (session, "notify::busy", G_CALLBACK (busy_changed_cb), self);

  self->settings = vb_settings_new ();
  if (self->settings != NULL)
    {
      x_axis_setting_cb (self);
      g_signal_connect_swapped (self->settings, "changed::runs-x-axis",
                                G_CALLBACK (x_axis_setting_cb), self);
      g_signal_connect_swapped (self->runs, "notify::x-axis", G_CALLBACK (runs_x_axis_cb), self);
    }
  return self;
}

VbSession *
vb_window_get_session (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return self->session;
}

VbExperimentsPage *
vb_window_get_experiments_page (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return VB_EXPERIMENTS_PAGE (self->experiments);
}

VbRunsPage *
vb_window_get_runs_page (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return VB_RUNS_PAGE (self->runs);
}

VbComparePage *
vb_window_get_compare_page (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return VB_COMPARE_PAGE (self->compare);
}

VbScanPage *
vb_window_get_scan_page (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return VB_SCAN_PAGE (self->scan);
}

void
vb_window_set_page (VbWindow   *self,
                    const char *name)
{
  g_return_if_fail (VB_IS_WINDOW (self));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (self->stack), name);
}

const char *
vb_window_get_page (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (self->stack));
}

GtkWidget *
vb_window_get_presentation (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return self->presentation;
}

GtkWidget *
vb_window_get_preferences (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return self->preferences;
}

guint
vb_window_get_n_toasts (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), 0);
  return self->n_toasts;
}

const char *
vb_window_get_last_toast (VbWindow *self)
{
  g_return_val_if_fail (VB_IS_WINDOW (self), NULL);
  return self->last_toast;
}
