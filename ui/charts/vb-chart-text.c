/* vb-chart-text.c: Pango text for the charts, laid out the same on every surface. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-private.h"

#include <math.h>

void
vb_chart_text_init (VbChartText        *t,
                    cairo_t            *cr,
                    const VbChartStyle *style)
{
  cairo_font_options_t *options;

  t->own_surface = NULL;
  if (cr == NULL)
    {
      t->own_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
      cr = cairo_create (t->own_surface);
    }
  else
    cairo_reference (cr);
  t->cr = cr;
  t->style = style;
  t->em = style->font_size * style->font_scale;

  t->context = pango_cairo_create_context (cr);
  options = cairo_font_options_create ();
  /* unhinted metrics: identical layout on image, SVG and PDF surfaces at any scale */
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (t->context, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (t->context, FALSE);
}

void
vb_chart_text_clear (VbChartText *t)
{
  g_clear_object (&t->context);
  g_clear_pointer (&t->cr, cairo_destroy);
  g_clear_pointer (&t->own_surface, cairo_surface_destroy);
}

PangoLayout *
vb_chart_text_layout (VbChartText *t,
                      VbTextRole   role,
                      const char  *text,
                      double       wrap_width,
                      int          max_lines)
{
  PangoLayout *layout = pango_layout_new (t->context);
  PangoFontDescription *desc = pango_font_description_from_string (t->style->font_family
                                                                   ? t->style->font_family
                                                                   : "Sans");
  double size = t->em;

  switch (role)
    {
    case VB_TEXT_TITLE:
      size *= 1.3;
      pango_font_description_set_weight (desc, PANGO_WEIGHT_BOLD);
      break;
    case VB_TEXT_TICK:
      size *= 0.9;
      break;
    case VB_TEXT_SMALL:
      size *= 0.85;
      break;
    case VB_TEXT_MESSAGE:
      size *= 1.15;
      break;
    case VB_TEXT_LABEL:
    default:
      break;
    }
  pango_font_description_set_absolute_size (desc, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);

  if (role == VB_TEXT_TICK)
    {
      PangoAttrList *attrs = pango_attr_list_new ();
      pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
    }

  if (wrap_width > 0)
    {
      pango_layout_set_width (layout, (int) (wrap_width * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      if (max_lines > 0)
        {
          pango_layout_set_height (layout, -max_lines);
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
        }
    }
  pango_layout_set_text (layout, text ? text : "", -1);
  return layout;
}

void
vb_chart_text_size (PangoLayout *layout,
                    double      *width,
                    double      *height)
{
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  if (width)
    *width = (double) logical.width / PANGO_SCALE;
  if (height)
    *height = (double) logical.height / PANGO_SCALE;
}

void
vb_chart_text_draw (VbChartText  *t,
                    PangoLayout  *layout,
                    double        x,
                    double        y,
                    double        xalign,
                    double        yalign,
                    const VbRgba *color)
{
  PangoRectangle logical;
  cairo_t *cr = t->cr;

  pango_layout_get_extents (layout, NULL, &logical);
  double w = (double) logical.width / PANGO_SCALE, h = (double) logical.height / PANGO_SCALE;
  cairo_save (cr);
  vb_chart_set_color (cr, color, 1.0);
  cairo_move_to (cr, x - xalign * w - (double) logical.x / PANGO_SCALE,
                 y - yalign * h - (double) logical.y / PANGO_SCALE);
  pango_cairo_update_layout (cr, layout);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
}

void
vb_chart_text_draw_vertical (VbChartText  *t,
                             PangoLayout  *layout,
                             double        x,
                             double        y,
                             const VbRgba *color)
{
  cairo_t *cr = t->cr;

  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, -G_PI / 2);
  vb_chart_text_draw (t, layout, 0, 0, 0.5, 0.5, color);
  cairo_restore (cr);
  /* later layouts are drawn unrotated */
  pango_cairo_update_context (cr, t->context);
}

void
vb_chart_set_color (cairo_t      *cr,
                    const VbRgba *color,
                    double        alpha)
{
  cairo_set_source_rgba (cr, color->r, color->g, color->b, color->a * alpha);
}

double
vb_chart_snap (double v)
{
  return floor (v) + 0.5;
}

VbChartRect
vb_chart_rect (double x,
               double y,
               double width,
               double height)
{
  VbChartRect r = { x, y, MAX (width, 0), MAX (height, 0) };

  return r;
}

const VbChartStyle *
vb_chart_style_or_default (const VbChartStyle *style,
                           VbChartStyle       *storage)
{
  if (style != NULL)
    return style;
  vb_chart_style_init (storage, VB_CHART_THEME_LIGHT);
  return storage;
}

void
vb_chart_begin (cairo_t            *cr,
                double              width,
                double              height,
                const VbChartStyle *style)
{
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  if (style->draw_background)
    {
      vb_chart_set_color (cr, &style->background, 1.0);
      cairo_paint (cr);
    }
}
