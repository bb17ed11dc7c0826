/* chart-pixels.h: reading the pixels of a chart rendered into a Cairo image surface, for
 * the chart tests (header only). */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <math.h>

#include "vb-charts.h"

static inline const guint8 *
chart_pixel (cairo_surface_t *s,
             int              x,
             int              y)
{
  return cairo_image_surface_get_data (s) + y * cairo_image_surface_get_stride (s) + x * 4;
}

/* ARGB32 little endian: B G R A; opaque (the light style paints its background) */
static inline gboolean
chart_near_color (const guint8 *p,
                  const VbRgba *c,
                  int           tol)
{
  return ABS (p[2] - (int) round (c->r * 255)) <= tol && ABS (p[1] - (int) round (c->g * 255)) <= tol
         && ABS (p[0] - (int) round (c->b * 255)) <= tol;
}
