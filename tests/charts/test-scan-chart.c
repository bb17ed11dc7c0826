/* test-scan-chart.c: the scan explorer's orders (against the worked example of
 * specs/vmamba.md §3.2 and Vim's middle class token) and its picture, drawn into ARGB32
 * image surfaces: one panel per route, shading that follows each route cell by cell,
 * the current cell where the route is, the arrow head on it, nothing outside the box. */

#include "config.h"

#include <cairo.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vb-charts.h"

#define W 900
#define H 600

/* ---- orders ------------------------------------------------------------------------------ */

static void
test_gather_maps (void)
{
  /* specs/vmamba.md §3.2, H = 2, W = 3, values = row-major index p */
  static const struct {
    const char *mode;
    guint       k;
    guint       xs[6];
  } expected[] = {
    { "4dir", 0, { 0, 1, 2, 3, 4, 5 } }, { "4dir", 1, { 0, 3, 1, 4, 2, 5 } },
    { "4dir", 2, { 5, 4, 3, 2, 1, 0 } }, { "4dir", 3, { 5, 2, 4, 1, 3, 0 } },
    { "2dir", 0, { 0, 1, 2, 3, 4, 5 } }, { "2dir", 1, { 0, 1, 2, 3, 4, 5 } },
    { "2dir", 2, { 5, 4, 3, 2, 1, 0 } }, { "2dir", 3, { 5, 4, 3, 2, 1, 0 } },
    { "1dir", 0, { 0, 1, 2, 3, 4, 5 } }, { "1dir", 3, { 0, 1, 2, 3, 4, 5 } },
    { "lean2dir", 0, { 0, 1, 2, 3, 4, 5 } }, { "lean2dir", 1, { 5, 4, 3, 2, 1, 0 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      VbScanViewMode mode;
      g_assert_true (vb_scan_view_mode_from_string (expected[i].mode, &mode));
      VbScanRoute route = vb_scan_view_route (mode, expected[i].k);
      for (guint l = 0; l < 6; l++)
        {
          int row, col;
          g_assert_true (vb_scan_route_cell (route, 2, 3, l, &row, &col));
          g_assert_cmpint (row * 3 + col, ==, expected[i].xs[l]);
        }
    }
  g_assert_cmpuint (vb_scan_view_n_routes (VB_SCAN_VIEW_4DIR), ==, 4);
  g_assert_cmpuint (vb_scan_view_n_routes (VB_SCAN_VIEW_2DIR), ==, 4);
  g_assert_cmpuint (vb_scan_view_n_routes (VB_SCAN_VIEW_1DIR), ==, 4);
  g_assert_cmpuint (vb_scan_view_n_routes (VB_SCAN_VIEW_LEAN_2DIR), ==, 2);
  g_assert_cmpuint (vb_scan_view_n_routes (VB_SCAN_VIEW_VIM), ==, 2);
}

static void
test_vim_order (void)
{
  int rows, cols, row, col;

  g_assert_true (vb_scan_grid_size (VB_SCAN_VIEW_VIM, 3, 224, &rows, &cols));
  g_assert_cmpint (rows, ==, 14);
  g_assert_cmpint (cols, ==, 14);
  g_assert_cmpuint (vb_scan_sequence_length (VB_SCAN_VIEW_VIM, rows, cols), ==, 197);
  g_assert_cmpuint (vb_scan_cls_position (rows, cols), ==, 98);

  /* forward: [p0..p97, cls, p98..p195] */
  g_assert_true (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_FWD, rows, cols, 97, &row, &col));
  g_assert_cmpint (row * cols + col, ==, 97);
  g_assert_false (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_FWD, rows, cols, 98, &row, &col));
  g_assert_cmpint (row, ==, -1);
  g_assert_true (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_FWD, rows, cols, 99, &row, &col));
  g_assert_cmpint (row * cols + col, ==, 98);
  g_assert_true (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_FWD, rows, cols, 196, &row, &col));
  g_assert_cmpint (row * cols + col, ==, 195);
  /* backward: the flipped sequence */
  g_assert_true (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_BWD, rows, cols, 0, &row, &col));
  g_assert_cmpint (row * cols + col, ==, 195);
  g_assert_false (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_BWD, rows, cols, 98, &row, &col));
  g_assert_true (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_BWD, rows, cols, 196, &row, &col));
  g_assert_cmpint (row * cols + col, ==, 0);

  /* an odd patch count: 5 × 5, cls at 12 */
  g_assert_false (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_FWD, 5, 5, 12, &row, &col));
  g_assert_false (vb_scan_route_cell (VB_SCAN_ROUTE_VIM_BWD, 5, 5, 13, &row, &col));
}

static void
test_grid_size (void)
{
  static const struct { int stage, res, side; } vmamba[] = {
    { 1, 224, 56 }, { 2, 224, 28 }, { 3, 224, 14 }, { 4, 224, 7 },
    { 1, 128, 32 }, { 4, 128, 4 }, { 1, 64, 16 }, { 4, 64, 2 },
  };
  int rows, cols;

  for (guint i = 0; i < G_N_ELEMENTS (vmamba); i++)
    {
      g_assert_true (vb_scan_grid_size (VB_SCAN_VIEW_4DIR, vmamba[i].stage, vmamba[i].res,
                                        &rows, &cols));
      g_assert_cmpint (rows, ==, vmamba[i].side);
      g_assert_cmpint (cols, ==, vmamba[i].side);
    }
  g_assert_false (vb_scan_grid_size (VB_SCAN_VIEW_2DIR, 0, 224, &rows, &cols));
  g_assert_false (vb_scan_grid_size (VB_SCAN_VIEW_2DIR, 5, 224, &rows, &cols));
  g_assert_true (vb_scan_grid_size (VB_SCAN_VIEW_VIM, 1, 64, &rows, &cols));
  g_assert_cmpint (rows, ==, 4);
}

/* ---- pixels -------------------------------------------------------------------------------- */

typedef struct {
  cairo_surface_t *surface;
  int              width, height, stride;
  const guint8    *data;
} Image;

static void
image_free (Image *img)
{
  cairo_surface_destroy (img->surface);
  g_free (img);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Image, image_free)

static Image *
render (const VbScanView *view,
        int               width,
        int               height)
{
  Image *img = g_new0 (Image, 1);

  img->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (img->surface);
  vb_scan_draw (cr, width, height, view, NULL);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (img->surface);
  img->width = width;
  img->height = height;
  img->stride = cairo_image_surface_get_stride (img->surface);
  img->data = cairo_image_surface_get_data (img->surface);
  return img;
}

static guint32
pixel (const Image *img,
       int          x,
       int          y)
{
  g_assert_true (x >= 0 && x < img->width && y >= 0 && y < img->height);
  return *(const guint32 *) (img->data + y * img->stride + x * 4);
}

/* an opaque colour as cairo stores it in ARGB32 */
static guint32
argb (const VbRgba *c)
{
  return 0xff000000u | ((guint32) lround (c->r * 255) << 16) | ((guint32) lround (c->g * 255) << 8)
         | (guint32) lround (c->b * 255);
}

static gboolean
near (guint32 a,
      guint32 b)
{
  for (int s = 0; s < 32; s += 8)
    if (ABS ((int) ((a >> s) & 0xff) - (int) ((b >> s) & 0xff)) > 1)
      return FALSE;
  return TRUE;
}

typedef enum { UNVISITED, VISITED, CURRENT, OTHER } CellState;

static CellState
cell_state (const Image       *img,
            const VbScanPanel *p,
            int                row,
            int                col)
{
  VbScanColors colors;
  VbChartRect r = row < 0 ? p->cls : vb_scan_cell_rect (p, row, col);
  guint32 v = pixel (img, (int) (r.x + r.width / 2), (int) (r.y + r.height / 2));

  vb_scan_colors (NULL, p->route, &colors);
  if (near (v, argb (&colors.unvisited)))
    return UNVISITED;
  if (near (v, argb (&colors.visited)))
    return VISITED;
  if (near (v, argb (&colors.current)))
    return CURRENT;
  return OTHER;
}

/* Panels found in the pixels alone: 4-connected regions of grid colours (lines and
 * unvisited cells), ignoring specks smaller than a quarter of the largest region. */
static guint
count_grid_regions (const Image *img)
{
  VbScanColors colors;
  vb_scan_colors (NULL, VB_SCAN_ROUTE_ROW_FWD, &colors);
  guint32 lines = argb (&colors.lines), unvisited = argb (&colors.unvisited);
  g_autofree int *label = g_new0 (int, img->width * img->height);
  g_autoptr (GArray) sizes = g_array_new (FALSE, TRUE, sizeof (guint));
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (int));
  guint largest = 0, n = 0;

  for (int start = 0; start < img->width * img->height; start++)
    {
      guint32 v = pixel (img, start % img->width, start / img->width);
      if (label[start] || !(near (v, lines) || near (v, unvisited)))
        continue;
      guint size = 0;
      label[start] = (int) sizes->len + 1;
      g_array_append_val (stack, start);
      while (stack->len > 0)
        {
          int i = g_array_index (stack, int, stack->len - 1);
          g_array_set_size (stack, stack->len - 1);
          size++;
          int x = i % img->width, y = i / img->width;
          static const int dx[] = { 1, -1, 0, 0 }, dy[] = { 0, 0, 1, -1 };
          for (int d = 0; d < 4; d++)
            {
              int nx = x + dx[d], ny = y + dy[d];
              if (nx < 0 || ny < 0 || nx >= img->width || ny >= img->height)
                continue;
              int j = ny * img->width + nx;
              guint32 w = pixel (img, nx, ny);
              if (!label[j] && (near (w, lines) || near (w, unvisited)))
                {
                  label[j] = label[start];
                  g_array_append_val (stack, j);
                }
            }
        }
      g_array_append_val (sizes, size);
      largest = MAX (largest, size);
    }
  for (guint i = 0; i < sizes->len; i++)
    if (g_array_index (sizes, guint, i) * 4 >= largest)
      n++;
  return n;
}

static void
test_panels_per_mode (void)
{
  static const struct { VbScanViewMode mode; guint panels; } cases[] = {
    { VB_SCAN_VIEW_4DIR, 4 }, { VB_SCAN_VIEW_2DIR, 4 }, { VB_SCAN_VIEW_1DIR, 4 },
    { VB_SCAN_VIEW_LEAN_2DIR, 2 }, { VB_SCAN_VIEW_VIM, 2 },
  };
  static const int sides[] = { 4, 7 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
      {
        VbScanView view = { .mode = cases[i].mode, .rows = sides[s], .cols = sides[s], .step = 0 };
        g_autoptr (Image) img = render (&view, W, H);
        g_assert_cmpuint (count_grid_regions (img), ==, cases[i].panels);

        VbScanPanel panels[VB_SCAN_MAX_ROUTES];
        g_assert_cmpuint (vb_scan_layout (&view, W, H, NULL, panels), ==, cases[i].panels);
        for (guint k = 0; k < cases[i].panels; k++)
          {
            g_assert_cmpfloat (panels[k].cell, >=, 20);   /* a 4×4 grid gets room */
            for (int r = 0; r < sides[s]; r++)
              for (int c = 0; c < sides[s]; c++)
                g_assert_cmpint (cell_state (img, &panels[k], r, c), ==, UNVISITED);
          }
      }
}

/* Every panel shows exactly the route's first step cells: step − 1 tinted, the last in
 * full colour, the rest untouched. */
static void
test_shading_follows_route (void)
{
  static const VbScanViewMode modes[] = { VB_SCAN_VIEW_4DIR, VB_SCAN_VIEW_2DIR, VB_SCAN_VIEW_VIM };
  static const int shapes[][2] = { { 4, 4 }, { 3, 5 } };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      {
        int rows = shapes[s][0], cols = shapes[s][1];
        guint length = vb_scan_sequence_length (modes[m], rows, cols);
        guint last_shaded = 0;
        for (guint step = 0; step <= length; step++)
          {
            VbScanView view = { .mode = modes[m], .rows = rows, .cols = cols, .step = step,
                                .hide_path = TRUE };
            g_autoptr (Image) img = render (&view, W, H);
            VbScanPanel panels[VB_SCAN_MAX_ROUTES];
            guint n = vb_scan_layout (&view, W, H, NULL, panels);
            guint shaded_total = 0;

            for (guint k = 0; k < n; k++)
              {
                g_autofree CellState *want = g_new (CellState, rows * cols + 1);
                for (int i = 0; i <= rows * cols; i++)
                  want[i] = UNVISITED;
                for (guint l = 0; l < step; l++)
                  {
                    int row, col;
                    gboolean cell = vb_scan_route_cell (panels[k].route, rows, cols, l, &row, &col);
                    want[cell ? row * cols + col : rows * cols] = l + 1 == step ? CURRENT : VISITED;
                  }
                for (int i = 0; i < rows * cols; i++)
                  {
                    CellState got = cell_state (img, &panels[k], i / cols, i % cols);
                    g_assert_cmpint (got, ==, want[i]);
                    shaded_total += got != UNVISITED;
                  }
                if (modes[m] == VB_SCAN_VIEW_VIM)
                  g_assert_cmpint (cell_state (img, &panels[k], -1, -1), ==, want[rows * cols]);
                else
                  g_assert_cmpfloat (panels[k].cls.width, ==, 0);
              }
            /* shading grows with every step (Vim's cls token is not a grid cell) */
            if (step > 0 && modes[m] != VB_SCAN_VIEW_VIM)
              g_assert_cmpuint (shaded_total, ==, last_shaded + n);
            else
              g_assert_cmpuint (shaded_total, >=, last_shaded);
            last_shaded = shaded_total;
          }
      }
}

static void
assert_current (guint step,
                int   rows,
                int   cols,
                int   want_row,
                int   want_col)
{
  VbScanView view = { .mode = VB_SCAN_VIEW_4DIR, .rows = rows, .cols = cols, .step = step };
  g_autoptr (Image) img = render (&view, W, H);
  VbScanPanel panels[VB_SCAN_MAX_ROUTES];
  vb_scan_layout (&view, W, H, NULL, panels);
  VbScanPanel *col_major = &panels[1];
  g_assert_cmpint (col_major->route, ==, VB_SCAN_ROUTE_COL_FWD);

  /* the current cell: the only one in full colour; the arrow head covers its centre */
  VbScanColors colors;
  vb_scan_colors (NULL, col_major->route, &colors);
  guint n_current = 0;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        VbChartRect rect = vb_scan_cell_rect (col_major, r, c);
        /* the corners of the cell: the path through the centres may cross one of them */
        int x0 = (int) rect.x + 3, x1 = (int) (rect.x + rect.width) - 3;
        int y0 = (int) rect.y + 3, y1 = (int) (rect.y + rect.height) - 3;
        guint hits = near (pixel (img, x0, y0), argb (&colors.current))
                     + near (pixel (img, x1, y0), argb (&colors.current))
                     + near (pixel (img, x0, y1), argb (&colors.current))
                     + near (pixel (img, x1, y1), argb (&colors.current));
        if (hits >= 3)
          {
            n_current++;
            g_assert_cmpint (r, ==, want_row);
            g_assert_cmpint (c, ==, want_col);
            guint32 centre = pixel (img, (int) (rect.x + rect.width / 2), (int) (rect.y + rect.height / 2));
            g_assert_true (near (centre, argb (&colors.path)));
          }
      }
  if (n_current != 1)
    g_test_message ("step %u on %d×%d: %u current cells", step, rows, cols, n_current);
  g_assert_cmpuint (n_current, ==, 1);
}

static void
test_current_cell (void)
{
  /* step t: t tokens read, the last at sequence position t − 1 = w·H + h */
  assert_current (1, 4, 4, 0, 0);
  assert_current (5, 4, 4, 0, 1);
  assert_current (6, 4, 4, 1, 1);
  assert_current (16, 4, 4, 3, 3);
  /* the transpose route on a wide grid: H = 2, so position 2 is row 0 of column 1 */
  assert_current (3, 2, 5, 0, 1);
  assert_current (4, 2, 5, 1, 1);
}

/* Drawn at an offset into a larger transparent surface: every pixel outside the box
 * stays untouched, at any size, grid and step. */
static void
test_stays_in_bounds (void)
{
  static const int sizes[][2] = { { 640, 400 }, { 90, 60 }, { 30, 300 } };
  static const int sides[] = { 2, 14, 56 };
  const int pad = 40;

  for (guint m = 0; m < VB_SCAN_VIEW_N_MODES; m++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      for (guint g = 0; g < G_N_ELEMENTS (sides); g++)
        {
          int w = sizes[s][0], h = sizes[s][1];
          VbScanView view = { .mode = m, .rows = sides[g], .cols = sides[g] };
          view.step = vb_scan_sequence_length (m, sides[g], sides[g]) / 2 + 1;
          cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w + 2 * pad,
                                                                 h + 2 * pad);
          cairo_t *cr = cairo_create (surface);
          cairo_translate (cr, pad, pad);
          vb_scan_draw (cr, w, h, &view, NULL);
          cairo_destroy (cr);
          cairo_surface_flush (surface);
          const guint8 *data = cairo_image_surface_get_data (surface);
          int stride = cairo_image_surface_get_stride (surface);
          guint inside = 0;
          for (int y = 0; y < h + 2 * pad; y++)
            for (int x = 0; x < w + 2 * pad; x++)
              {
                guint32 v = *(const guint32 *) (data + y * stride + x * 4);
                if (x >= pad && x < pad + w && y >= pad && y < pad + h)
                  inside += v != 0;
                else if (v != 0)
                  g_error ("mode %u, %dx%d, grid %d: pixel drawn outside at %d,%d", m, w, h,
                           sides[g], x - pad, y - pad);
              }
          g_assert_cmpuint (inside, >, 0);
          cairo_surface_destroy (surface);
        }
}

/* The arrow head points along the route: at step 2 of row-major it points right, so the
 * path colour reaches further right of the current cell's centre than left of it. */
static void
test_arrow_direction (void)
{
  VbScanView view = { .mode = VB_SCAN_VIEW_1DIR, .rows = 4, .cols = 4, .step = 2 };
  g_autoptr (Image) img = render (&view, W, H);
  VbScanPanel panels[VB_SCAN_MAX_ROUTES];
  vb_scan_layout (&view, W, H, NULL, panels);
  VbScanColors colors;
  vb_scan_colors (NULL, VB_SCAN_ROUTE_ROW_FWD, &colors);
  VbChartRect r = vb_scan_cell_rect (&panels[0], 0, 1);
  int cx = (int) (r.x + r.width / 2), cy = (int) (r.y + r.height / 2) - 4;
  /* a line just above the 3-px path: only the arrow head reaches it */
  int left = 0, right = 0;
  for (int x = (int) r.x + 1; x < (int) (r.x + r.width); x++)
    if (near (pixel (img, x, cy), argb (&colors.path)))
      {
        if (x < cx)
          left++;
        else
          right++;
      }
  g_assert_cmpint (left + right, >, 0);
  g_assert_cmpint (left, >, right);   /* the wings are behind the tip */
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vb/scan/route/gather-maps", test_gather_maps);
  g_test_add_func ("/vb/scan/route/vim-cls", test_vim_order);
  g_test_add_func ("/vb/scan/route/grid-size", test_grid_size);
  g_test_add_func ("/vb/scan/draw/panels-per-mode", test_panels_per_mode);
  g_test_add_func ("/vb/scan/draw/shading-follows-route", test_shading_follows_route);
  g_test_add_func ("/vb/scan/draw/current-cell", test_current_cell);
  g_test_add_func ("/vb/scan/draw/arrow-direction", test_arrow_direction);
  g_test_add_func ("/vb/scan/draw/stays-in-bounds", test_stays_in_bounds);
  return g_test_run ();
}
