/* vb-chart-style.c: the two themes and the Okabe-Ito palette. */
#define G_LOG_DOMAIN "vb-charts"

#include "config.h"

#include "vb-chart-style.h"

static VbRgba
hex (guint32 rgb)
{
  VbRgba c = { ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0, 1.0 };
  return c;
}

/* Okabe-Ito, ordered so that the first colours are the most distinct from each other
 * and from the background. Same hue per index in both themes; on dark backgrounds the
 * two darkest hues are lifted and black becomes light grey. */
static const guint32 light_palette[VB_CHART_PALETTE_SIZE] = {
  0x0072B2, /* blue */
  0xE69F00, /* orange */
  0x009E73, /* bluish green */
  0xD55E00, /* vermillion */
  0xCC79A7, /* reddish purple */
  0x56B4E9, /* sky blue */
  0xC9B200, /* yellow, darkened enough to read on white */
  0x333333, /* black, softened */
};

static const guint32 dark_palette[VB_CHART_PALETTE_SIZE] = {
  0x3A9BDC, /* blue, lifted */
  0xE69F00, /* orange */
  0x1FB58A, /* bluish green, lifted */
  0xF26B1D, /* vermillion, lifted */
  0xCC79A7, /* reddish purple */
  0x8ACDF2, /* sky blue, lighter to stay apart from blue */
  0xF0E442, /* yellow */
  0xC8C8C8, /* black becomes light grey */
};

void
vb_chart_style_init (VbChartStyle *style,
                     VbChartTheme  theme)
{
  const guint32 *palette;

  g_return_if_fail (style != NULL);

  style->theme = theme;
  if (theme == VB_CHART_THEME_DARK)
    {
      /* libadwaita's dark window background */
      style->background = hex (0x242424);
      style->text = hex (0xEDEDED);
      style->muted_text = hex (0xA8A8A8);
      style->axis = hex (0xB4B4B4);
      style->grid = hex (0x3A3A3A);
      style->good = hex (0x1FB58A);
      style->bad = hex (0xF26B1D);
      style->warning = hex (0xFF5F5F);
      palette = dark_palette;
    }
  else
    {
      style->background = hex (0xFFFFFF);
      style->text = hex (0x1F2328);
      style->muted_text = hex (0x59636E);
      style->axis = hex (0x3D444D);
      style->grid = hex (0xE4E7EB);
      style->good = hex (0x007A5A);
      style->bad = hex (0xB54D00);
      style->warning = hex (0xC01C28);
      palette = light_palette;
    }
  for (guint i = 0; i < VB_CHART_PALETTE_SIZE; i++)
    style->palette[i] = hex (palette[i]);

  style->font_family = "Sans";
  style->font_size = 12.0;
  style->font_scale = 1.0;
  style->line_width = 1.75;
  style->raw_alpha = theme == VB_CHART_THEME_DARK ? 0.3 : 0.25;
  style->band_alpha = 0.18;
  style->draw_background = TRUE;
}

void
vb_chart_style_init_presentation (VbChartStyle *style,
                                  VbChartTheme  theme)
{
  vb_chart_style_init (style, theme);
  style->font_scale = 1.75;
  style->line_width = 3.0;
  style->raw_alpha = theme == VB_CHART_THEME_DARK ? 0.3 : 0.22;
  if (theme == VB_CHART_THEME_DARK)
    {
      style->background = hex (0x000000);
      style->text = hex (0xFFFFFF);
      style->muted_text = hex (0xD0D0D0);
      style->axis = hex (0xE0E0E0);
      style->grid = hex (0x4A4A4A);
    }
  else
    {
      style->text = hex (0x000000);
      style->muted_text = hex (0x30363D);
      style->axis = hex (0x1F2328);
      style->grid = hex (0xD0D5DB);
    }
}

const VbRgba *
vb_chart_style_series_color (const VbChartStyle *style,
                             int                 color_index)
{
  int i = color_index % VB_CHART_PALETTE_SIZE;

  if (i < 0)
    i += VB_CHART_PALETTE_SIZE;
  return &style->palette[i];
}
