/* vb-presentation.c: presentation mode. Its own window, full screen, over the main one:
 * a title, one view (the table or a chart, drawn with Cairo in the presentation chart
 * style) and a footer. The keys go through a capture-phase shortcut
 * controller, so the window's own arrow-key focus moves never see them. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <math.h>

#include "vb-presentation.h"
#include "vb-presentation-table.h"

typedef enum {
  VIEW_TABLE,
  VIEW_TOP1,
  VIEW_THROUGHPUT,
  VIEW_CURVES,
  VIEW_EMPTY,
} ViewKind;

static const char *const view_names[] = { "table", "top1", "throughput", "curves", "empty" };

typedef struct {
  ViewKind  kind;
  char     *title;
  char     *caption;
} View;

struct _VbPresentation
{
  AdwWindow            parent_instance;

  VbComparePage       *compare;   /* weak: the charts are drawn from it */
  GArray              *views;     /* View */
  guint                view;
  VbPresentationTable  table;
  char                *counter;
  GtkWidget           *title;
  GtkWidget           *stack;
  GtkWidget           *chart;
  GtkWidget           *caption;
  GtkWidget           *counter_label;
};

G_DEFINE_FINAL_TYPE (VbPresentation, vb_presentation, ADW_TYPE_WINDOW)

static void
clear_view (gpointer data)
{
  View *v = data;

  g_free (v->title);
  g_free (v->caption);
}

static void
add_view (VbPresentation *self,
          ViewKind        kind,
          const char     *title,
          const char     *caption)
{
  View v = { kind, g_strdup (title), g_strdup (caption ? caption : "") };

  g_array_append_val (self->views, v);
}

/* a bar chart worth a view: at least one value */
static gboolean
has_values (const VbBarChart *chart)
{
  if (chart == NULL)
    return FALSE;
  for (guint s = 0; s < chart->series->len; s++)
    for (guint c = 0; c < chart->categories->len; c++)
      if (isfinite (vb_bar_chart_get_value (chart, c, s)))
        return TRUE;
  return FALSE;
}

static void
presentation_style (VbChartStyle *style,
                    int           height)
{
  vb_chart_style_init_presentation (style, VB_CHART_THEME_DARK);
  /* projectors are often 1080 p or more: grow the type with the screen */
  style->font_scale *= CLAMP (height / 480.0, 1.0, 2.0);
}

static void
draw_cb (GtkDrawingArea *area,
         cairo_t        *cr,
         int             width,
         int             height,
         gpointer        user_data)
{
  VbPresentation *self = user_data;
  VbChartStyle style;

  if (self->compare == NULL || self->view >= self->views->len)
    return;
  presentation_style (&style, height);
  style.draw_background = FALSE;   /* the window's black */

  /* shallow copies without title and caption: the header and footer show them larger */
  switch (g_array_index (self->views, View, self->view).kind)
    {
    case VIEW_TOP1:
    case VIEW_THROUGHPUT:
      {
        VbBarChart *chart = g_array_index (self->views, View, self->view).kind == VIEW_TOP1
                            ? vb_compare_page_get_accuracy_chart (self->compare)
                            : vb_compare_page_get_throughput_chart (self->compare);
        if (chart != NULL)
          {
            VbBarChart copy = *chart;
            copy.title = NULL;
            copy.caption = NULL;
            vb_bar_chart_draw (cr, &copy, width, height, &style);
          }
      }
      break;
    case VIEW_CURVES:
      {
        VbLineChart *chart = vb_compare_page_get_curves_chart (self->compare);
        if (chart != NULL)
          {
            VbLineChart copy = *chart;
            copy.title = NULL;
            copy.caption = NULL;
            vb_line_chart_draw (cr, &copy, width, height, &style);
          }
      }
      break;
    case VIEW_TABLE:
      vb_presentation_table_draw (&self->table, cr, width, height, &style);
      break;
    case VIEW_EMPTY:
    default:
      break;
    }
}

static void
show_view (VbPresentation *self)
{
  const View *v = &g_array_index (self->views, View, self->view);

  gtk_label_set_text (GTK_LABEL (self->title), v->title);
  gtk_label_set_text (GTK_LABEL (self->caption), v->caption);
  g_free (self->counter);
  self->counter = g_strdup_printf ("%u / %u", self->view + 1, self->views->len);
  gtk_label_set_text (GTK_LABEL (self->counter_label), self->counter);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack),
                                    v->kind == VIEW_EMPTY ? "empty" : "chart");
  gtk_widget_queue_draw (self->chart);
}

/* ---- actions ------------------------------------------------------------------------------- */

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  VbPresentation *self = VB_PRESENTATION (widget);
  vb_presentation_set_view (self, self->view + 1);
}

static void
previous_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  VbPresentation *self = VB_PRESENTATION (widget);
  if (self->view > 0)
    vb_presentation_set_view (self, self->view - 1);
}

static void
first_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  vb_presentation_set_view (VB_PRESENTATION (widget), 0);
}

static void
last_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  vb_presentation_set_view (VB_PRESENTATION (widget), G_MAXUINT);
}

static void
leave_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

static GtkEventController *
new_key_controller (void)
{
  static const struct {
    guint       keyval;
    const char *action;
  } keys[] = {
    { GDK_KEY_Right, "presentation.next" }, { GDK_KEY_Page_Down, "presentation.next" },
    { GDK_KEY_space, "presentation.next" }, { GDK_KEY_Down, "presentation.next" },
    { GDK_KEY_Left, "presentation.previous" }, { GDK_KEY_Page_Up, "presentation.previous" },
    { GDK_KEY_BackSpace, "presentation.previous" }, { GDK_KEY_Up, "presentation.previous" },
    { GDK_KEY_Home, "presentation.first" }, { GDK_KEY_End, "presentation.last" },
    { GDK_KEY_Escape, "presentation.leave" },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  /* before GtkWindow's own bindings: its arrows move the focus */
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].keyval, 0),
                                                            gtk_named_action_new (keys[i].action)));
  return controller;
}

/* ---- the window ---------------------------------------------------------------------------- */

static void
vb_presentation_dispose (GObject *object)
{
  VbPresentation *self = VB_PRESENTATION (object);

  g_clear_weak_pointer (&self->compare);

  G_OBJECT_CLASS (vb_presentation_parent_class)->dispose (object);
}

static void
vb_presentation_finalize (GObject *object)
{
  VbPresentation *self = VB_PRESENTATION (object);

  g_clear_pointer (&self->views, g_array_unref);
  vb_presentation_table_clear (&self->table);
  g_free (self->counter);

  G_OBJECT_CLASS (vb_presentation_parent_class)->finalize (object);
}

static void
vb_presentation_class_init (VbPresentationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vb_presentation_dispose;
  object_class->finalize = vb_presentation_finalize;

  gtk_widget_class_install_action (widget_class, "presentation.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "presentation.previous", NULL, previous_action);
  gtk_widget_class_install_action (widget_class, "presentation.first", NULL, first_action);
  gtk_widget_class_install_action (widget_class, "presentation.last", NULL, last_action);
  gtk_widget_class_install_action (widget_class, "presentation.leave", NULL, leave_action);
}

static void
vb_presentation_init (VbPresentation *self)
{
  self->views = g_array_new (FALSE, TRUE, sizeof (View));
  g_array_set_clear_func (self->views, clear_view);
  gtk_widget_add_controller (GTK_WIDGET (self), new_key_controller ());
}

static void
build_views (VbPresentation *self)
{
  VbBarChart *top1 = vb_compare_page_get_accuracy_chart (self->compare);
  VbBarChart *tp = vb_compare_page_get_throughput_chart (self->compare);
  VbLineChart *curves = vb_compare_page_get_curves_chart (self->compare);
  const char *protocol = tp && tp->caption ? tp->caption : NULL;

  if (self->table.n_rows > 0)
    {
      g_autofree char *caption = g_strdup_printf ("Bold: the best of each metric%s%s",
                                                  protocol ? " · img/s: " : "",
                                                  protocol ? protocol : "");
      g_autofree char *title = g_strdup_printf ("%u runs side by side", self->table.n_rows);
      add_view (self, VIEW_TABLE, self->table.n_rows == 1 ? "One run" : title, caption);
    }
  if (has_values (top1))
    add_view (self, VIEW_TOP1, top1->title, top1->caption);
  if (has_values (tp))
    add_view (self, VIEW_THROUGHPUT, tp->title, tp->caption);
  if (curves != NULL && curves->series->len > 0)
    {
      g_autofree char *smoothing = vb_smoothing_is_active (curves->smoothing_kind, curves->smoothing)
                                   ? vb_smoothing_describe (curves->smoothing_kind, curves->smoothing)
                                   : NULL;
      add_view (self, VIEW_CURVES, curves->title,
                curves->caption ? curves->caption : smoothing ? smoothing : "");
    }
  if (self->views->len == 0)
    add_view (self, VIEW_EMPTY, "Nothing to present", NULL);
}

GtkWidget *
vb_presentation_new (GtkWindow     *parent,
                     VbComparePage *compare)
{
  g_return_val_if_fail (VB_IS_COMPARE_PAGE (compare), NULL);

  VbPresentation *self = g_object_new (VB_TYPE_PRESENTATION,
                                       "transient-for", parent,
                                       "destroy-with-parent", TRUE,
                                       "title", "VisionBench Presentation",
                                       "default-width", 1280,
                                       "default-height", 800,
                                       NULL);
  g_set_weak_pointer (&self->compare, compare);
  gtk_widget_add_css_class (GTK_WIDGET (self), "presentation");
  vb_presentation_table_read (&self->table, compare);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (box, "presentation-content");
  self->title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->title, "presentation-title");
  gtk_box_append (GTK_BOX (box), self->title);

  self->stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->stack, TRUE);
  self->chart = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->chart), draw_cb, self, NULL);
  gtk_widget_add_css_class (self->chart, "presentation-chart");
  gtk_stack_add_named (GTK_STACK (self->stack), self->chart, "chart");
  GtkWidget *empty = gtk_label_new ("Pick a group or runs on the Compare page, then press F5 again.");
  gtk_label_set_wrap (GTK_LABEL (empty), TRUE);
  gtk_widget_add_css_class (empty, "presentation-empty");
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  gtk_box_append (GTK_BOX (box), self->stack);

  GtkWidget *footer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 24);
  gtk_widget_add_css_class (footer, "presentation-footer");
  self->caption = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->caption), 0);
  gtk_label_set_wrap (GTK_LABEL (self->caption), TRUE);
  gtk_widget_set_hexpand (self->caption, TRUE);
  gtk_box_append (GTK_BOX (footer), self->caption);
  GtkWidget *hint = gtk_label_new ("← → move · Esc leaves");
  gtk_widget_add_css_class (hint, "presentation-hint");
  gtk_widget_set_valign (hint, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (footer), hint);
  self->counter_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->counter_label, "presentation-counter");
  gtk_widget_set_valign (self->counter_label, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (footer), self->counter_label);
  gtk_box_append (GTK_BOX (box), footer);

  adw_window_set_content (ADW_WINDOW (self), box);
  build_views (self);
  show_view (self);
  return GTK_WIDGET (self);
}

guint
vb_presentation_get_n_views (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), 0);
  return self->views->len;
}

guint
vb_presentation_get_view (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), 0);
  return self->view;
}

void
vb_presentation_set_view (VbPresentation *self,
                          guint           index)
{
  g_return_if_fail (VB_IS_PRESENTATION (self));

  index = MIN (index, self->views->len - 1);
  if (index == self->view)
    return;
  self->view = index;
  show_view (self);
}

const char *
vb_presentation_get_view_name (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), NULL);
  return view_names[g_array_index (self->views, View, self->view).kind];
}

const char *
vb_presentation_get_title (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->title));
}

const char *
vb_presentation_get_caption (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->caption));
}

const char *
vb_presentation_get_counter (VbPresentation *self)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), NULL);
  return self->counter;
}

const char *
vb_presentation_get_table_cell (VbPresentation *self,
                                guint           row,
                                const char     *column)
{
  g_return_val_if_fail (VB_IS_PRESENTATION (self), NULL);
  return vb_presentation_table_get (&self->table, row, column);
}
