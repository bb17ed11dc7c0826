/* vb-compare-page-layout.c: the Compare page's widgets: the bar (group, Pick Runs,
 * baseline, curves, chart size, Export, Copy) and the content (the table's card, the three
 * chart cards, the caption). What they do is wired in vb-compare-page.c and
 * vb-compare-page-actions.c. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-chart-area.h"
#include "vb-compare-page-private.h"
#include "vb-compare-table.h"

static void
drop_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (ellipsize)
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (list_item, label);
}

static void
drop_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  ellipsize)
{
  GtkStringObject *item = gtk_list_item_get_item (list_item);
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (list_item)),
                      gtk_string_object_get_string (item));
}

/* A dropdown of long labels that shrinks with the window: ellipsized on the button, whole
 * in the list. */
static GtkWidget *
shrinkable_dropdown (GtkStringList *labels)
{
  GtkWidget *dropdown = gtk_drop_down_new (G_LIST_MODEL (labels), NULL);

  for (int list = 0; list < 2; list++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_signal_connect (factory, "setup", G_CALLBACK (drop_setup_cb), GINT_TO_POINTER (!list));
      g_signal_connect (factory, "bind", G_CALLBACK (drop_bind_cb), NULL);
      if (list)
        gtk_drop_down_set_list_factory (GTK_DROP_DOWN (dropdown), factory);
      else
        gtk_drop_down_set_factory (GTK_DROP_DOWN (dropdown), factory);
      g_object_unref (factory);
    }
  return dropdown;
}

static GtkWidget *
labelled (GtkWidget  *bar,
          const char *mnemonic,
          GtkWidget  *widget)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (mnemonic);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  gtk_box_append (GTK_BOX (bar), label);
  gtk_box_append (GTK_BOX (bar), widget);
  return widget;
}

static GtkWidget *
chart_card (GtkWidget *area)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "chart-card");
  gtk_widget_set_size_request (area, 300, 300);
  gtk_box_append (GTK_BOX (card), area);
  return card;
}

GtkWidget *
vb_compare_page_build_bar (VbComparePage *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);

  self->labels = gtk_string_list_new (NULL);
  self->dropdown = labelled (bar, "Experiment _group", shrinkable_dropdown (self->labels));
  gtk_widget_set_hexpand (self->dropdown, TRUE);

  GtkWidget *pick = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (pick), "Pick Runs");
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (pick), vb_compare_page_build_picker (self));
  gtk_widget_set_tooltip_text (pick, "Compare runs of any groups side by side");
  gtk_box_append (GTK_BOX (bar), pick);

  self->baseline_labels = gtk_string_list_new (NULL);
  self->baseline_dropdown = labelled (bar, "_Baseline", shrinkable_dropdown (self->baseline_labels));
  gtk_widget_set_tooltip_text (self->baseline_dropdown, "The run the Δ and %Δ columns compare against");

  /* a projector study has no top-1 curve: the first entry becomes "Val loss" */
  static const char *const curves[] = { "Val top-1", "Train loss", NULL };
  self->curves_dropdown = labelled (bar, "C_urves", gtk_drop_down_new_from_strings (curves));

  self->size_dropdown = labelled (bar, "Chart _size", vb_compare_page_new_size_dropdown ());

  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) tables = g_menu_new ();
  g_menu_append (tables, "Table as _CSV…", "compare.export::csv");
  g_menu_append (tables, "Table as _Markdown…", "compare.export::md");
  g_menu_append (tables, "Table as _LaTeX…", "compare.export::tex");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (tables));
  g_autoptr (GMenu) charts = g_menu_new ();
  g_menu_append (charts, "Chart as _PNG…", "compare.export::png");
  g_menu_append (charts, "Chart as _SVG…", "compare.export::svg");
  g_menu_append (charts, "Chart as P_DF…", "compare.export::pdf");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (charts));
  GtkWidget *export = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (export), "Export");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (export, "Save the table, or the first chart (Top-1 bars; a projector study’s trade-off scatter; a CLIP profile’s stacked bar)");
  gtk_box_append (GTK_BOX (bar), export);

  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (copy), "compare.copy-table");
  gtk_widget_set_tooltip_text (copy, "Copy the table as Markdown");
  gtk_box_append (GTK_BOX (bar), copy);
  GtkWidget *copy_chart = gtk_button_new_from_icon_name ("image-x-generic-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (copy_chart), "compare.copy-chart");
  gtk_widget_set_tooltip_text (copy_chart, "Copy the first chart (Top-1 bars, the trade-off scatter or the stacked bar) as an image");
  gtk_box_append (GTK_BOX (bar), copy_chart);
  return bar;
}

GtkWidget *
vb_compare_page_build_content (VbComparePage *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  /* said before the numbers it qualifies */
  self->notice = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->notice), 0);
  gtk_label_set_wrap (GTK_LABEL (self->notice), TRUE);
  gtk_widget_add_css_class (self->notice, "warning");
  gtk_widget_add_css_class (self->notice, "heading");
  gtk_widget_set_visible (self->notice, FALSE);
  gtk_box_append (GTK_BOX (content), self->notice);

  GtkWidget *table_card = self->table_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (table_card, "card");
  gtk_widget_add_css_class (table_card, "compare-table");
  gtk_widget_set_overflow (table_card, GTK_OVERFLOW_HIDDEN);
  self->view = vb_compare_table_new (&self->sorted);
  GtkWidget *table_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (table_scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (table_scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (table_scroller), 260);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (table_scroller), self->view);
  gtk_box_append (GTK_BOX (table_card), table_scroller);
  gtk_box_append (GTK_BOX (content), table_card);

  self->profile_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->profile_card, "card");
  gtk_widget_set_visible (self->profile_card, FALSE);
  gtk_box_append (GTK_BOX (content), self->profile_card);

  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_set_homogeneous (GTK_BOX (charts), TRUE);
  gtk_widget_set_vexpand (charts, TRUE);
  self->chart = vb_chart_area_new ();
  self->tp_chart = vb_chart_area_new ();
  self->curves_chart = vb_chart_area_new ();
  gtk_box_append (GTK_BOX (charts), chart_card (self->chart));
  self->tp_card = chart_card (self->tp_chart);
  gtk_box_append (GTK_BOX (charts), self->tp_card);
  self->curves_card = chart_card (self->curves_chart);
  gtk_box_append (GTK_BOX (charts), self->curves_card);
  gtk_box_append (GTK_BOX (content), charts);

  self->caption = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->caption), 0);
  gtk_label_set_wrap (GTK_LABEL (self->caption), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->caption), TRUE);
  gtk_widget_add_css_class (self->caption, "caption");
  gtk_widget_add_css_class (self->caption, "dim-label");
  gtk_box_append (GTK_BOX (content), self->caption);

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  return scroller;
}
