/* vb-scan-page.c: controls around a drawing area that calls vb_scan_draw(). Play
 * advances the step from a tick callback at a rate that sweeps any grid in about
 * eight seconds, and stops at the end of the sequence. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-scan-page.h"

/* a whole pass takes about this long, whatever the grid */
#define PASS_SECONDS 8.0
#define MIN_TOKENS_PER_SECOND 4.0

static const int resolutions[] = { 64, 128, 224 };

/* one line per mode on what the panels show (specs/vmamba.md §3, specs/vim.md §2) */
static const char *const notes[VB_SCAN_VIEW_N_MODES] = {
  [VB_SCAN_VIEW_4DIR] = "Four parameter groups read the grid row by row, column by column, and both "
                        "reversed; their outputs are flipped back and summed.",
  [VB_SCAN_VIEW_2DIR] = "Still four parameter groups: each row order is read twice, by groups with "
                        "their own parameters. The column routes are dropped.",
  [VB_SCAN_VIEW_1DIR] = "Four parameter groups all read the row-major order; the outputs are summed. "
                        "Same parameters and FLOPs as 4-dir.",
  [VB_SCAN_VIEW_LEAN_2DIR] = "A VisionBench option, not the paper's ablation: one parameter group per row "
                             "order (K = 2), so fewer parameters than 2-dir.",
  [VB_SCAN_VIEW_VIM] = "Vim reads one flat sequence of 16-px patches with the class token in the middle, "
                       "forward and backward, with separate parameters per direction.",
};

struct _VbScanPage
{
  AdwBin          parent_instance;

  VbScanViewMode  mode;
  int             stage;
  int             resolution;
  int             rows, cols;
  double          position;     /* fractional step while playing */
  gint64          last_frame;   /* µs, 0 before the first tick */
  guint           tick_id;
  gboolean        playing;
  gboolean        updating;

  GtkWidget      *mode_dropdown;
  GtkWidget      *stage_dropdown;
  GtkWidget      *resolution_dropdown;
  GtkWidget      *play_button;
  GtkWidget      *scale;
  GtkAdjustment  *adjustment;
  GtkWidget      *area;
  GtkWidget      *note;
};

enum {
  PROP_0,
  PROP_STEP,
  PROP_PLAYING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (VbScanPage, vb_scan_page, ADW_TYPE_BIN)

static void
draw_cb (GtkDrawingArea *area,
         cairo_t        *cr,
         int             width,
         int             height,
         gpointer        user_data)
{
  VbScanPage *self = user_data;
  VbChartStyle style;
  VbScanView view;
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());

  vb_chart_style_init (&style, dark ? VB_CHART_THEME_DARK : VB_CHART_THEME_LIGHT);
  style.draw_background = FALSE;   /* the card behind is the background */
  vb_scan_page_get_view (self, &view);
  vb_scan_draw (cr, width, height, &view, &style);
}

/* The grid and the step range follow mode, stage and resolution. */
static void
update_grid (VbScanPage *self)
{
  vb_scan_grid_size (self->mode, self->stage, self->resolution, &self->rows, &self->cols);
  guint n = vb_scan_page_get_n_steps (self);
  gtk_adjustment_set_upper (self->adjustment, n);
  gtk_adjustment_set_page_increment (self->adjustment, MAX (self->cols, 1));
  gtk_widget_set_sensitive (self->stage_dropdown, self->mode != VB_SCAN_VIEW_VIM);
  gtk_label_set_text (GTK_LABEL (self->note), notes[self->mode]);
  if (gtk_adjustment_get_value (self->adjustment) > n)
    gtk_adjustment_set_value (self->adjustment, n);
  gtk_widget_queue_draw (self->area);
}

static void
dropdowns_changed_cb (VbScanPage *self)
{
  if (self->updating)
    return;
  guint mode = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->mode_dropdown));
  guint stage = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->stage_dropdown));
  guint res = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->resolution_dropdown));
  self->mode = mode < VB_SCAN_VIEW_N_MODES ? mode : VB_SCAN_VIEW_4DIR;
  self->stage = stage < 4 ? (int) stage + 1 : 1;
  self->resolution = resolutions[res < G_N_ELEMENTS (resolutions) ? res : 2];
  update_grid (self);
}

static void
value_changed_cb (VbScanPage *self)
{
  if (!self->updating)
    self->position = gtk_adjustment_get_value (self->adjustment);
  gtk_widget_queue_draw (self->area);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  VbScanPage *self = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  guint n = vb_scan_page_get_n_steps (self);

  if (self->last_frame != 0)
    {
      double rate = MAX (n / PASS_SECONDS, MIN_TOKENS_PER_SECOND);
      self->position = MIN (self->position + (now - self->last_frame) / 1e6 * rate, n);
    }
  self->last_frame = now;
  self->updating = TRUE;
  gtk_adjustment_set_value (self->adjustment, (guint) self->position);
  self->updating = FALSE;

  if (self->position < n)
    return G_SOURCE_CONTINUE;
  /* the end of the sequence: returning REMOVE drops the callback, so forget its id */
  self->tick_id = 0;
  vb_scan_page_set_playing (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
play_clicked_cb (VbScanPage *self)
{
  vb_scan_page_set_playing (self, !self->playing);
}

static void
dark_changed_cb (VbScanPage *self)
{
  gtk_widget_queue_draw (self->area);
}

static void
vb_scan_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  VbScanPage *self = VB_SCAN_PAGE (object);

  switch (prop_id)
    {
    case PROP_STEP:
      g_value_set_uint (value, vb_scan_page_get_step (self));
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, vb_scan_page_get_playing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vb_scan_page_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  VbScanPage *self = VB_SCAN_PAGE (object);

  switch (prop_id)
    {
    case PROP_STEP:
      vb_scan_page_set_step (self, g_value_get_uint (value));
      break;
    case PROP_PLAYING:
      vb_scan_page_set_playing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vb_scan_page_dispose (GObject *object)
{
  VbScanPage *self = VB_SCAN_PAGE (object);

  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (self->area, self->tick_id);
  self->tick_id = 0;
  adw_bin_set_child (ADW_BIN (self), NULL);

  G_OBJECT_CLASS (vb_scan_page_parent_class)->dispose (object);
}

static void
vb_scan_page_class_init (VbScanPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vb_scan_page_dispose;
  object_class->get_property = vb_scan_page_get_property;
  object_class->set_property = vb_scan_page_set_property;

  properties[PROP_STEP] =
    g_param_spec_uint ("step", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static GtkWidget *
labelled (GtkWidget  *box,
          const char *mnemonic,
          GtkWidget  *widget)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (mnemonic);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), widget);
  return widget;
}

static void
vb_scan_page_init (VbScanPage *self)
{
  self->mode = VB_SCAN_VIEW_4DIR;
  self->stage = 3;
  self->resolution = 224;

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);

  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  const char *mode_labels[VB_SCAN_VIEW_N_MODES + 1] = { NULL };
  for (guint m = 0; m < VB_SCAN_VIEW_N_MODES; m++)
    mode_labels[m] = vb_scan_view_mode_label (m);
  static const char *const stage_labels[] = { "1", "2", "3", "4", NULL };
  static const char *const resolution_labels[] = { "64 px", "128 px", "224 px", NULL };
  self->mode_dropdown = labelled (bar, "_Scan", gtk_drop_down_new_from_strings (mode_labels));
  self->stage_dropdown = labelled (bar, "S_tage", gtk_drop_down_new_from_strings (stage_labels));
  gtk_widget_set_tooltip_text (self->stage_dropdown,
                               "VMamba stage: the patch grid halves at each (56, 28, 14, 7 at 224 px)");
  self->resolution_dropdown = labelled (bar, "_Resolution",
                                        gtk_drop_down_new_from_strings (resolution_labels));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->stage_dropdown), self->stage - 1);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->resolution_dropdown), 2);

  self->play_button = gtk_button_new_from_icon_name ("media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (self->play_button, "Play");
  gtk_widget_set_margin_start (self->play_button, 12);
  gtk_box_append (GTK_BOX (bar), self->play_button);

  self->adjustment = gtk_adjustment_new (0, 0, 1, 1, 1, 0);
  self->scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, self->adjustment);
  gtk_scale_set_digits (GTK_SCALE (self->scale), 0);
  gtk_scale_set_draw_value (GTK_SCALE (self->scale), TRUE);
  gtk_scale_set_value_pos (GTK_SCALE (self->scale), GTK_POS_RIGHT);
  gtk_widget_set_hexpand (self->scale, TRUE);
  gtk_widget_set_tooltip_text (self->scale, "Step: tokens each route has read so far");
  labelled (bar, "St_ep", self->scale);
  gtk_box_append (GTK_BOX (box), bar);

  self->note = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->note), 0);
  gtk_label_set_wrap (GTK_LABEL (self->note), TRUE);
  gtk_widget_add_css_class (self->note, "dim-label");
  gtk_box_append (GTK_BOX (box), self->note);

  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "chart-card");
  self->area = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->area, TRUE);
  gtk_widget_set_vexpand (self->area, TRUE);
  gtk_widget_set_size_request (self->area, 400, 300);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->area), draw_cb, self, NULL);
  gtk_box_append (GTK_BOX (card), self->area);
  gtk_box_append (GTK_BOX (box), card);
  adw_bin_set_child (ADW_BIN (self), box);

  g_signal_connect_swapped (self->mode_dropdown, "notify::selected",
                            G_CALLBACK (dropdowns_changed_cb), self);
  g_signal_connect_swapped (self->stage_dropdown, "notify::selected",
                            G_CALLBACK (dropdowns_changed_cb), self);
  g_signal_connect_swapped (self->resolution_dropdown, "notify::selected",
                            G_CALLBACK (dropdowns_changed_cb), self);
  g_signal_connect_swapped (self->adjustment, "value-changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (self->play_button, "clicked", G_CALLBACK (play_clicked_cb), self);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (dark_changed_cb), self, G_CONNECT_SWAPPED);
  update_grid (self);
}

GtkWidget *
vb_scan_page_new (void)
{
  return g_object_new (VB_TYPE_SCAN_PAGE, NULL);
}

gboolean
vb_scan_page_set_mode (VbScanPage *self,
                       const char *mode)
{
  VbScanViewMode m;

  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), FALSE);
  if (!vb_scan_view_mode_from_string (mode, &m))
    return FALSE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->mode_dropdown), m);
  return TRUE;
}

gboolean
vb_scan_page_set_stage (VbScanPage *self,
                        int         stage)
{
  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), FALSE);
  if (stage < 1 || stage > 4)
    return FALSE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->stage_dropdown), (guint) stage - 1);
  return TRUE;
}

gboolean
vb_scan_page_set_resolution (VbScanPage *self,
                             int         resolution)
{
  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (resolutions); i++)
    if (resolutions[i] == resolution)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->resolution_dropdown), i);
        return TRUE;
      }
  return FALSE;
}

void
vb_scan_page_set_step (VbScanPage *self,
                       guint       step)
{
  g_return_if_fail (VB_IS_SCAN_PAGE (self));
  gtk_adjustment_set_value (self->adjustment, MIN (step, vb_scan_page_get_n_steps (self)));
}

guint
vb_scan_page_get_step (VbScanPage *self)
{
  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), 0);
  return (guint) gtk_adjustment_get_value (self->adjustment);
}

guint
vb_scan_page_get_n_steps (VbScanPage *self)
{
  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), 0);
  return vb_scan_sequence_length (self->mode, self->rows, self->cols);
}

void
vb_scan_page_set_playing (VbScanPage *self,
                          gboolean    playing)
{
  g_return_if_fail (VB_IS_SCAN_PAGE (self));

  playing = !!playing;
  if (playing == self->playing)
    return;
  self->playing = playing;
  if (playing)
    {
      /* Play at the end starts over */
      if (vb_scan_page_get_step (self) >= vb_scan_page_get_n_steps (self))
        vb_scan_page_set_step (self, 0);
      self->position = vb_scan_page_get_step (self);
      self->last_frame = 0;
      self->tick_id = gtk_widget_add_tick_callback (self->area, tick_cb, self, NULL);
    }
  else if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (self->area, self->tick_id);
      self->tick_id = 0;
    }
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic"
                                    : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (self->play_button, playing ? "Pause" : "Play");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

gboolean
vb_scan_page_get_playing (VbScanPage *self)
{
  g_return_val_if_fail (VB_IS_SCAN_PAGE (self), FALSE);
  return self->playing;
}

void
vb_scan_page_get_view (VbScanPage *self,
                       VbScanView *view)
{
  g_return_if_fail (VB_IS_SCAN_PAGE (self));

  *view = (VbScanView) {
    .mode = self->mode,
    .rows = self->rows,
    .cols = self->cols,
    .step = vb_scan_page_get_step (self),
  };
}
