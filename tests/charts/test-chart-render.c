/* test-chart-render.c: the line and bar charts drawn into ARGB32 image surfaces, with
 * assertions on pixels: axes, direction of a series, legend, clipping, NaN gaps,
 * empty charts, bar heights, Δ colours and the dark theme. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vb-charts.h"

#define W 640
#define H 400

typedef struct {
  cairo_surface_t *surface;
  int              width, height, stride;
  const guint8    *data;
} Image;

typedef struct {
  double r, g, b;   /* 0..255 */
} Rgb;

static Rgb
rgb_of (const VbRgba *c)
{
  Rgb out = { c->r * 255, c->g * 255, c->b * 255 };
  return out;
}

static void
image_free (Image *img)
{
  cairo_surface_destroy (img->surface);
  g_free (img);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Image, image_free)

static Image *
image_new (int        width,
           int        height,
           const Rgb *prefill)
{
  Image *img = g_new0 (Image, 1);

  img->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  g_assert_cmpint (cairo_surface_status (img->surface), ==, CAIRO_STATUS_SUCCESS);
  if (prefill != NULL)
    {
      cairo_t *cr = cairo_create (img->surface);
      cairo_set_source_rgb (cr, prefill->r / 255, prefill->g / 255, prefill->b / 255);
      cairo_paint (cr);
      cairo_destroy (cr);
    }
  img->width = width;
  img->height = height;
  return img;
}

static void
image_ready (Image *img)
{
  cairo_surface_flush (img->surface);
  img->stride = cairo_image_surface_get_stride (img->surface);
  img->data = cairo_image_surface_get_data (img->surface);
}

static Image *
render_line (const VbLineChart  *chart,
             const VbChartStyle *style,
             const Rgb          *prefill)
{
  Image *img = image_new (W, H, prefill);
  cairo_t *cr = cairo_create (img->surface);

  vb_line_chart_draw (cr, chart, W, H, style);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  image_ready (img);
  return img;
}

static Image *
render_bar (const VbBarChart   *chart,
            const VbChartStyle *style)
{
  Image *img = image_new (W, H, NULL);
  cairo_t *cr = cairo_create (img->surface);

  vb_bar_chart_draw (cr, chart, W, H, style);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  image_ready (img);
  return img;
}

static Rgb
pixel (const Image *img,
       int          x,
       int          y)
{
  g_assert_true (x >= 0 && x < img->width && y >= 0 && y < img->height);
  guint32 p = *(const guint32 *) (img->data + (gsize) y * img->stride + 4 * x);
  double a = (p >> 24) & 0xff;
  Rgb out = { (p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff };
  if (a > 0 && a < 255)
    {
      out.r = out.r * 255 / a;
      out.g = out.g * 255 / a;
      out.b = out.b * 255 / a;
    }
  return out;
}

static double
dist (Rgb a,
      Rgb b)
{
  return sqrt ((a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b));
}

static double
luminance (Rgb c)
{
  return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

/* Whether p is the series colour c laid over background bg with at least min_alpha
 * coverage (anti-aliased edges and faint ghost lines included). */
static gboolean
is_ink (Rgb    p,
        Rgb    c,
        Rgb    bg,
        double min_alpha)
{
  double dx = c.r - bg.r, dy = c.g - bg.g, dz = c.b - bg.b;
  double len2 = dx * dx + dy * dy + dz * dz;
  double t = ((p.r - bg.r) * dx + (p.g - bg.g) * dy + (p.b - bg.b) * dz) / len2;
  Rgb on = { bg.r + t * dx, bg.g + t * dy, bg.b + t * dz };

  return t >= min_alpha && t <= 1.1 && dist (p, on) < 22;
}

static guint
count_ink (const Image *img,
           int x0, int y0, int x1, int y1,
           Rgb c, Rgb bg, double min_alpha)
{
  guint n = 0;

  for (int y = MAX (y0, 0); y < MIN (y1, img->height); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, img->width); x++)
      if (is_ink (pixel (img, x, y), c, bg, min_alpha))
        n++;
  return n;
}

/* mean row of the ink in columns [x0, x1); NAN when there is none */
static double
mean_ink_row (const Image *img,
              int x0, int x1, int y0, int y1,
              Rgb c, Rgb bg)
{
  double sum = 0;
  guint n = 0;

  for (int x = x0; x < x1; x++)
    for (int y = y0; y < y1; y++)
      if (is_ink (pixel (img, x, y), c, bg, 0.6))
        {
          sum += y;
          n++;
        }
  return n > 0 ? sum / n : NAN;
}

static VbLineChart *
rising_chart (int    color_index,
              double smoothing)
{
  VbLineChart *chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("rising", color_index));
  GRand *rand = g_rand_new_with_seed (3);

  vb_line_chart_set_title (chart, "Top-1 accuracy");
  vb_line_chart_set_labels (chart, NULL, "Top-1 (%)");
  chart->smoothing = smoothing;
  for (int i = 0; i <= 200; i++)
    vb_series_append (s, i * 50, 10 + 0.3 * i + g_rand_double_range (rand, -2, 2));
  g_rand_free (rand);
  return chart;
}

static VbChartStyle
light_style (void)
{
  VbChartStyle style;

  vb_chart_style_init (&style, VB_CHART_THEME_LIGHT);
  return style;
}

/* ---- line chart ------------------------------------------------------------------- */

static void
assert_axes (const Image       *img,
             const VbChartRect *r)
{
  int left = (int) r->x, bottom = (int) (r->y + r->height) - 1;
  guint dark = 0, total = 0;

  /* the left edge of the plot, top to bottom */
  for (int y = (int) r->y; y <= bottom; y++, total++)
    if (luminance (pixel (img, left, y)) < 110)
      dark++;
  g_assert_cmpuint (dark, >=, total * 95 / 100);

  dark = total = 0;
  for (int x = left; x < (int) (r->x + r->width); x++, total++)
    if (luminance (pixel (img, x, bottom)) < 110)
      dark++;
  g_assert_cmpuint (dark, >=, total * 95 / 100);

  /* and no dark line just inside them: the axes are thin */
  dark = total = 0;
  for (int y = (int) r->y + 5; y < bottom - 5; y++, total++)
    if (luminance (pixel (img, left + 3, y)) < 110)
      dark++;
  g_assert_cmpuint (dark, <, total / 10);
}

static void
test_line_axes (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = rising_chart (0, 0);
  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);

  /* a sane plot rectangle, with room for labels on every side */
  g_assert_cmpfloat (r.x, >, 30);
  g_assert_cmpfloat (r.y, >, 30);
  g_assert_cmpfloat (r.x + r.width, <, W - 5);
  g_assert_cmpfloat (r.y + r.height, <, H - 30);
  g_assert_cmpfloat (r.width, >, W * 0.7);
  g_assert_cmpfloat (r.height, >, H * 0.55);
  assert_axes (img, &r);
}

static void
test_line_rising (void)
{
  VbChartStyle style = light_style ();

  for (int smoothed = 0; smoothed < 2; smoothed++)
    {
      g_autoptr(VbLineChart) chart = rising_chart (3, smoothed ? 0.8 : 0);
      VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
      g_autoptr(Image) img = render_line (chart, &style, NULL);
      Rgb c = rgb_of (vb_chart_style_series_color (&style, 3)), bg = rgb_of (&style.background);
      int x0 = (int) r.x + 2, x1 = (int) (r.x + r.width) - 2;
      int y0 = (int) r.y, y1 = (int) (r.y + r.height);
      double left = mean_ink_row (img, x0, x0 + (x1 - x0) / 5, y0, y1, c, bg);
      double right = mean_ink_row (img, x1 - (x1 - x0) / 5, x1, y0, y1, c, bg);

      g_assert_true (isfinite (left) && isfinite (right));
      /* image rows grow downwards: higher on the right means a smaller row */
      g_assert_cmpfloat (right, <, left - r.height * 0.4);
    }
}

static void
test_line_smoothed_ghost (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = rising_chart (0, 0.9);
  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 0)), bg = rgb_of (&style.background);
  guint faint = 0, solid = 0;

  /* the raw series is there, faint, and the smoothed line is there, solid */
  for (int y = (int) r.y; y < (int) (r.y + r.height); y++)
    for (int x = (int) r.x + 2; x < (int) (r.x + r.width); x++)
      {
        Rgb p = pixel (img, x, y);
        if (is_ink (p, c, bg, 0.9))
          solid++;
        else if (is_ink (p, c, bg, 0.12) && !is_ink (p, c, bg, 0.45))
          faint++;
      }
  g_assert_cmpuint (solid, >, 300);
  g_assert_cmpuint (faint, >, 300);
}

static void
test_line_legend (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = rising_chart (2, 0.6);
  VbChartLayout layout;

  vb_line_chart_add_series (chart, vb_series_new ("other", 4));
  vb_line_chart_get_layout (chart, W, H, &style, &layout);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  Rgb bg = rgb_of (&style.background);
  const VbChartRect *l = &layout.legend;

  g_assert_cmpfloat (l->width, >, 20);
  g_assert_cmpfloat (l->height, >, 5);
  /* above the plot, below the title */
  g_assert_cmpfloat (l->y + l->height, <=, layout.plot.y);
  g_assert_cmpfloat (l->y, >=, layout.title.y + layout.title.height);
  for (int k = 0; k < 2; k++)
    {
      Rgb c = rgb_of (vb_chart_style_series_color (&style, k == 0 ? 2 : 4));
      g_assert_cmpuint (count_ink (img, (int) l->x, (int) l->y, (int) (l->x + l->width), (int) (l->y + l->height),
                                   c, bg, 0.9), >, 15);
    }

  /* legend off: no legend box, and the plot grows */
  chart->show_legend = FALSE;
  VbChartLayout without;
  vb_line_chart_get_layout (chart, W, H, &style, &without);
  g_assert_cmpfloat (without.legend.height, ==, 0);
  g_assert_cmpfloat (without.plot.height, >, layout.plot.height);
}

static void
test_line_clipped (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("wild", 3));
  const Rgb sentinel = { 255, 0, 255 };

  /* a series far outside a fixed range, both in x and in y, thick strokes */
  for (int i = 0; i <= 400; i++)
    vb_series_append (s, i * 0.25, 5 * sin (i * 0.3));
  vb_series_append (s, 101, 1e30);
  vb_series_append (s, 102, -1e30);
  chart->y_auto = FALSE;
  chart->y_min = 0;
  chart->y_max = 1;
  chart->x_auto = FALSE;
  chart->x_min = 20;
  chart->x_max = 80;
  chart->show_legend = FALSE;
  style.draw_background = FALSE;
  style.line_width = 6;

  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, &sentinel);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 3));
  guint inside = 0, outside = 0;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        gboolean in = vb_chart_rect_contains (&r, x + 0.5, y + 0.5);
        if (!is_ink (pixel (img, x, y), c, sentinel, 0.2))
          continue;
        if (in)
          inside++;
        else
          outside++;
      }
  g_assert_cmpuint (inside, >, 1000);
  g_assert_cmpuint (outside, ==, 0);
  /* the background was left alone outside the drawn parts */
  g_assert_cmpfloat (dist (pixel (img, 0, 0), sentinel), <, 1);
}

static void
assert_nan_gap (double smoothing)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("gappy", 3));

  for (int i = 0; i <= 100; i++)
    vb_series_append (s, i, (i >= 40 && i <= 60) ? NAN : 0.5 + 0.001 * i);
  chart->y_auto = FALSE;
  chart->y_min = 0;
  chart->y_max = 1;
  chart->smoothing = smoothing;

  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 3)), bg = rgb_of (&style.background);
  double px_per_x = r.width / 100.0;
  int y0 = (int) r.y, y1 = (int) (r.y + r.height);

  int gap0 = (int) ceil (r.x + 42 * px_per_x), gap1 = (int) floor (r.x + 58 * px_per_x);
  /* not even the faint ghost (alpha 0.25) crosses the gap */
  g_assert_cmpuint (count_ink (img, gap0, y0, gap1, y1, c, bg, 0.15), ==, 0);
  int a = (int) (r.x + 20 * px_per_x), b = (int) (r.x + 80 * px_per_x);
  g_assert_cmpuint (count_ink (img, a, y0, a + 3, y1, c, bg, 0.6), >, 0);
  g_assert_cmpuint (count_ink (img, b, y0, b + 3, y1, c, bg, 0.6), >, 0);
}

static void
test_line_nan_breaks (void)
{
  assert_nan_gap (0);
  assert_nan_gap (0.9);   /* the smoothed line and its ghost both break */
}

static void
test_line_lone_point (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("dot", 1));

  vb_series_append (s, 0, NAN);
  vb_series_append (s, 1, 0.5);
  vb_series_append (s, 2, NAN);
  chart->x_auto = chart->y_auto = FALSE;
  chart->x_min = 0;
  chart->x_max = 2;
  chart->y_min = 0;
  chart->y_max = 1;

  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 1)), bg = rgb_of (&style.background);
  int cx = (int) (r.x + r.width / 2), cy = (int) (r.y + r.height / 2);

  g_assert_cmpuint (count_ink (img, cx - 3, cy - 3, cx + 4, cy + 4, c, bg, 0.6), >, 0);
}

static void
assert_message (const Image        *img,
                const VbChartRect  *r,
                const VbChartStyle *style,
                gboolean            expected)
{
  int cx = (int) (r->x + r->width / 2), cy = (int) (r->y + r->height / 2);
  int hw = (int) (4 * style->font_size), hh = (int) style->font_size;
  Rgb muted = rgb_of (&style->muted_text), bg = rgb_of (&style->background);
  guint n = count_ink (img, cx - hw, cy - hh, cx + hw, cy + hh, muted, bg, 0.5);

  if (expected)
    g_assert_cmpuint (n, >, 40);
  else
    g_assert_cmpuint (n, <, 5);
}

static void
test_line_empty (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();

  vb_line_chart_set_title (chart, "Training loss");
  {
    VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
    g_autoptr(Image) img = render_line (chart, &style, NULL);
    assert_axes (img, &r);
    assert_message (img, &r, &style, TRUE);
  }
  /* a run that has only logged NaN so far is empty too */
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("diverged", 0));
  vb_series_append (s, 0, NAN);
  vb_series_append (s, 1, INFINITY);
  {
    VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
    g_autoptr(Image) img = render_line (chart, &style, NULL);
    assert_axes (img, &r);
    assert_message (img, &r, &style, TRUE);
  }
  /* with data, no message */
  vb_series_append (s, 2, 0.3);
  vb_series_append (s, 3, 0.2);
  chart->y_auto = FALSE;
  chart->y_min = 0.9;   /* keep the line itself away from the centre */
  chart->y_max = 1.0;
  {
    VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
    g_autoptr(Image) img = render_line (chart, &style, NULL);
    assert_message (img, &r, &style, FALSE);
  }
}

static void
test_line_dark (void)
{
  VbChartStyle style;
  vb_chart_style_init (&style, VB_CHART_THEME_DARK);
  g_autoptr(VbLineChart) chart = rising_chart (0, 0.6);
  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);

  g_assert_cmpfloat (luminance (pixel (img, 1, 1)), <, 60);
  g_assert_cmpfloat (luminance (pixel (img, W - 2, H - 2)), <, 60);
  g_assert_cmpfloat (luminance (pixel (img, (int) (r.x + r.width * 0.3), (int) (r.y + 3))), <, 60);
  /* light text and axes on it */
  guint light = 0;
  for (int y = (int) r.y; y < (int) (r.y + r.height); y++)
    if (luminance (pixel (img, (int) r.x, y)) > 140)
      light++;
  g_assert_cmpuint (light, >, r.height * 0.9);
  /* the series colour reads on dark: clearly lighter than the background */
  g_assert_cmpfloat (luminance (rgb_of (vb_chart_style_series_color (&style, 0))), >, 100);
}

static void
test_line_log (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("lr", 0));

  /* an exponential decay is a straight line on a log axis */
  for (int i = 0; i <= 100; i++)
    vb_series_append (s, i, pow (10, -i / 25.0));
  vb_series_append (s, 101, 0);   /* not drawable on a log axis: a gap, no crash */
  s->raw = TRUE;
  chart->log_y = TRUE;
  chart->smoothing = 0.9;   /* ignored for a raw series */

  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 0)), bg = rgb_of (&style.background);
  int mid = (int) (r.x + r.width * 50.0 / 101.0);
  double row = mean_ink_row (img, mid - 1, mid + 2, (int) r.y, (int) (r.y + r.height), c, bg);
  g_assert_cmpfloat (fabs (row - (r.y + r.height / 2)), <, r.height * 0.06);
}

static void
test_line_many_points (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbLineChart) chart = vb_line_chart_new ();
  VbSeries *s = vb_line_chart_add_series (chart, vb_series_new ("long run", 0));
  const guint n = 1000000, spike = 654321;

  g_array_set_size (s->x, n);
  g_array_set_size (s->y, n);
  for (guint i = 0; i < n; i++)
    {
      g_array_index (s->x, double, i) = i;
      g_array_index (s->y, double, i) = i == spike ? 1.0 : 0.0;
    }
  chart->y_auto = FALSE;
  chart->y_min = -0.1;
  chart->y_max = 1.1;

  gint64 start = g_get_monotonic_time ();
  VbChartRect r = vb_line_chart_get_plot_rect (chart, W, H, &style);
  g_autoptr(Image) img = render_line (chart, &style, NULL);
  g_test_message ("10⁶ points drawn in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);

  /* one point in a million survives decimation: it reaches the top of its column */
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 0)), bg = rgb_of (&style.background);
  int col = (int) (r.x + r.width * spike / (double) (n - 1));
  int top_row = (int) (r.y + r.height * (1.1 - 1.0) / 1.2);
  g_assert_cmpuint (count_ink (img, col - 2, top_row - 2, col + 3, top_row + 3, c, bg, 0.6), >, 0);
}

static void
test_line_presentation (void)
{
  VbChartStyle normal = light_style (), big;
  vb_chart_style_init_presentation (&big, VB_CHART_THEME_LIGHT);
  g_autoptr(VbLineChart) chart = rising_chart (0, 0.6);
  VbChartLayout a, b;

  vb_line_chart_get_layout (chart, W, H, &normal, &a);
  vb_line_chart_get_layout (chart, W, H, &big, &b);
  g_assert_cmpfloat (b.title.height, >, a.title.height * 1.5);
  g_assert_cmpfloat (b.plot.x, >, a.plot.x);
  g_assert_cmpfloat (b.plot.height, <, a.plot.height);
  g_assert_cmpfloat (b.plot.height, >, 100);
}

/* ---- bar chart -------------------------------------------------------------------- */

static VbBarChart *
simple_bars (const double *values,
             guint         n)
{
  VbBarChart *chart = vb_bar_chart_new ();
  VbBarSeries *s;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("Run %c", 'A' + i);
      vb_bar_chart_add_category (chart, name);
    }
  s = vb_bar_chart_add_series (chart, vb_bar_series_new ("img/s", 1));
  vb_bar_series_set_values (s, values, n);
  vb_bar_chart_set_title (chart, "Throughput");
  vb_bar_chart_set_y_label (chart, "img/s");
  return chart;
}

static void
test_bar_heights (void)
{
  VbChartStyle style = light_style ();
  const double values[] = { 1, 2, 4 };
  g_autoptr(VbBarChart) chart = simple_bars (values, 3);
  g_autoptr(Image) img = render_bar (chart, &style);
  Rgb c = rgb_of (vb_chart_style_series_color (&style, 1)), bg = rgb_of (&style.background);
  VbChartLayout layout;
  double h[3], px[3];

  vb_bar_chart_get_layout (chart, W, H, &style, &layout);
  for (guint i = 0; i < 3; i++)
    {
      VbChartRect b;
      g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, i, 0, &b));
      g_assert_cmpfloat (b.y + b.height, <=, layout.plot.y + layout.plot.height + 0.5);
      g_assert_cmpfloat (b.y, >=, layout.plot.y);
      h[i] = b.height;
      /* measure the drawn bar in its middle column */
      int x = (int) (b.x + b.width / 2);
      guint n = 0;
      for (int y = (int) layout.plot.y; y < (int) (layout.plot.y + layout.plot.height); y++)
        if (dist (pixel (img, x, y), c) < 12)
          n++;
      px[i] = n;
      g_assert_true (is_ink (pixel (img, x, (int) (b.y + b.height / 2)), c, bg, 0.95));
    }
  g_assert_cmpfloat (fabs (h[1] / h[0] - 2), <, 0.05);
  g_assert_cmpfloat (fabs (h[2] / h[0] - 4), <, 0.08);
  g_assert_cmpfloat (fabs (px[1] / px[0] - 2), <, 0.06);
  g_assert_cmpfloat (fabs (px[2] / px[0] - 4), <, 0.1);
  /* the tallest bar leaves room for its label */
  g_assert_cmpfloat (h[2], <, layout.plot.height * 0.95);
  g_assert_cmpfloat (h[2], >, layout.plot.height * 0.6);
}

static void
test_bar_groups_and_deltas (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbBarChart) chart = vb_bar_chart_new ();
  const double res64[] = { 60.0, 58.5, 61.0 };
  const double res128[] = { 70.0, 71.5, 65.0 };

  vb_bar_chart_add_category (chart, "4-dir");
  vb_bar_chart_add_category (chart, "2-dir");
  vb_bar_chart_add_category (chart, "1-dir");
  vb_bar_series_set_values (vb_bar_chart_add_series (chart, vb_bar_series_new ("64 px", 0)), res64, 3);
  vb_bar_series_set_values (vb_bar_chart_add_series (chart, vb_bar_series_new ("128 px", 1)), res128, 3);
  chart->baseline_kind = VB_BAR_BASELINE_CATEGORY;
  chart->baseline_index = 0;

  g_autoptr(Image) img = render_bar (chart, &style);
  Rgb bg = rgb_of (&style.background);
  VbChartLayout layout;
  vb_bar_chart_get_layout (chart, W, H, &style, &layout);
  g_assert_cmpfloat (layout.legend.height, >, 0);   /* two series: a legend */

  for (guint c = 0; c < 3; c++)
    {
      VbChartRect a, b;
      g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, c, 0, &a));
      g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, c, 1, &b));
      g_assert_cmpfloat (a.x + a.width, <=, b.x);   /* side by side, in series order */
      g_assert_cmpfloat (b.height, >, a.height);
    }

  /* Δ labels above the bars, coloured by direction: 2-dir @128 improved (+1.5),
   * 2-dir @64 got worse (−1.5); the baseline category has none */
  struct { guint c, s; const VbRgba *color; gboolean present; } cases[] = {
    { 1, 1, &style.good, TRUE },
    { 1, 0, &style.bad, TRUE },
    { 0, 0, &style.good, FALSE },
    { 0, 0, &style.bad, FALSE },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      VbChartRect b;
      g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, cases[k].c, cases[k].s, &b));
      int top = (int) (b.y - 3.5 * style.font_size);
      guint n = count_ink (img, (int) b.x - 4, top, (int) (b.x + b.width) + 4, (int) b.y, rgb_of (cases[k].color), bg, 0.7);
      if (cases[k].present)
        g_assert_cmpuint (n, >, 5);
      else
        g_assert_cmpuint (n, ==, 0);
    }

  /* a refused Δ is drawn in the warning colour */
  vb_bar_series_set_incomparable (g_ptr_array_index (chart->series, 1), 2, TRUE);
  g_autoptr(Image) img2 = render_bar (chart, &style);
  VbChartRect b;
  g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, 2, 1, &b));
  g_assert_cmpuint (count_ink (img2, (int) b.x - 20, (int) (b.y - 3.5 * style.font_size), (int) (b.x + b.width) + 20,
                               (int) b.y, rgb_of (&style.warning), bg, 0.7), >, 5);
}

static void
test_bar_negative_and_missing (void)
{
  VbChartStyle style = light_style ();
  const double values[] = { 3, -1.5, NAN };
  g_autoptr(VbBarChart) chart = simple_bars (values, 3);
  VbChartRect up, down, none;

  g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, 0, 0, &up));
  g_assert_true (vb_bar_chart_get_bar_rect (chart, W, H, &style, 1, 0, &down));
  g_assert_false (vb_bar_chart_get_bar_rect (chart, W, H, &style, 2, 0, &none));
  /* both start at the zero line, one goes up, one goes down */
  g_assert_cmpfloat (fabs ((up.y + up.height) - down.y), <, 0.5);
  g_assert_cmpfloat (fabs (up.height / down.height - 2), <, 0.05);
  g_autoptr(Image) img = render_bar (chart, &style);
}

static void
test_bar_empty (void)
{
  VbChartStyle style = light_style ();
  g_autoptr(VbBarChart) chart = vb_bar_chart_new ();
  VbChartLayout layout;

  vb_bar_chart_set_title (chart, "Top-1");
  vb_bar_chart_get_layout (chart, W, H, &style, &layout);
  g_autoptr(Image) img = render_bar (chart, &style);
  assert_message (img, &layout.plot, &style, TRUE);
}

static void
test_tiny_sizes (void)
{
  g_autoptr(VbLineChart) line = rising_chart (0, 0.6);
  const double values[] = { 1, 2 };
  g_autoptr(VbBarChart) bars = simple_bars (values, 2);
  const int sizes[][2] = { { 1, 1 }, { 12, 8 }, { 60, 40 }, { 150, 90 }, { 2000, 60 } };

  vb_line_chart_set_caption (line, "A caption long enough to need wrapping at small sizes, and then some");
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, sizes[i][0], sizes[i][1]);
      cairo_t *cr = cairo_create (surface);
      VbChartLayout layout;

      vb_line_chart_draw (cr, line, sizes[i][0], sizes[i][1], NULL);
      vb_bar_chart_draw (cr, bars, sizes[i][0], sizes[i][1], NULL);
      vb_line_chart_get_layout (line, sizes[i][0], sizes[i][1], NULL, &layout);
      g_assert_cmpfloat (layout.plot.width, >, 0);
      g_assert_cmpfloat (layout.plot.height, >, 0);
      g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/charts/line/axes", test_line_axes);
  g_test_add_func ("/charts/line/rising", test_line_rising);
  g_test_add_func ("/charts/line/smoothed-over-ghost", test_line_smoothed_ghost);
  g_test_add_func ("/charts/line/legend", test_line_legend);
  g_test_add_func ("/charts/line/clipped-to-plot", test_line_clipped);
  g_test_add_func ("/charts/line/nan-breaks-line", test_line_nan_breaks);
  g_test_add_func ("/charts/line/lone-point", test_line_lone_point);
  g_test_add_func ("/charts/line/empty", test_line_empty);
  g_test_add_func ("/charts/line/dark", test_line_dark);
  g_test_add_func ("/charts/line/log-y", test_line_log);
  g_test_add_func ("/charts/line/million-points", test_line_many_points);
  g_test_add_func ("/charts/line/presentation", test_line_presentation);
  g_test_add_func ("/charts/bar/heights", test_bar_heights);
  g_test_add_func ("/charts/bar/groups-and-deltas", test_bar_groups_and_deltas);
  g_test_add_func ("/charts/bar/negative-and-missing", test_bar_negative_and_missing);
  g_test_add_func ("/charts/bar/empty", test_bar_empty);
  g_test_add_func ("/charts/tiny-sizes", test_tiny_sizes);

  return g_test_run ();
}
