/* vb-chart-data.h: what a chart shows, independent of how it is drawn.
 *
 * A line chart holds series of (x, y) points in x order; a bar chart holds categories ×
 * series of values. Both are plain structs with public fields, so a widget, the CLI and
 * a test can fill them directly; strings and arrays are owned by the struct (use the
 * setters, or g_free / g_strdup yourself). Nothing here caches: drawing smooths the full
 * data each time and decimates afterwards (see vb-line-chart.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the x values mean; decides tick steps, tick labels and the default axis label. */
typedef enum {
  VB_X_AXIS_STEP,       /* optimizer steps: integer ticks, "20k" above 10 000 */
  VB_X_AXIS_EPOCH,      /* epochs, may be fractional (2.5 = half way through epoch 3) */
  VB_X_AXIS_WALL_TIME,  /* seconds since the run started: m:ss, h:mm or "2d 3:00" ticks */
  VB_X_AXIS_COUNT,      /* images or tokens seen: SI ticks (1.2M) */
} VbXAxisKind;

/* Smoothing of a series before it is drawn (ux.md §4.6, "honest smoothing"):
 *
 * - EMA: time-weighted exponential moving average with debiasing. On evenly spaced
 *   points it equals TensorBoard's smoothing with the same weight w (first point
 *   unchanged, no pull towards 0). Each point's weight is w^(Δx / Δref), Δref being the
 *   series' median x spacing, so a gap in logging decays the average as much as the
 *   missing points would have. Debiasing divides by the accumulated weight Σ instead of
 *   TensorBoard's 1 − w^k (the same on even spacing). param: w in [0, 1), 0 = off.
 * - RUNNING_AVERAGE: trailing mean of the last N points (W&B's "running average").
 *   param: N, rounded; ≤ 1 = off.
 * - GAUSSIAN: centred Gaussian kernel over x with σ = param · Δref, cut at 3σ,
 *   normalised over the finite neighbours. param: σ in points; 0 = off.
 *
 * Every method: non-finite points stay non-finite (the line breaks) and are skipped by
 * their neighbours; a constant series comes back exactly constant (no float spikes);
 * the series' own x spacing is used, never a subsample. */
typedef enum {
  VB_SMOOTHING_EMA,
  VB_SMOOTHING_RUNNING_AVERAGE,
  VB_SMOOTHING_GAUSSIAN,
} VbSmoothingKind;

/* Smooths y (n points, x ascending) into out (n doubles; may alias y). */
void  vb_smooth                  (VbSmoothingKind kind,
                                  double          param,
                                  const double   *x,
                                  const double   *y,
                                  guint           n,
                                  double         *out);
/* Whether (kind, param) changes anything. */
gboolean vb_smoothing_is_active  (VbSmoothingKind kind,
                                  double          param);
/* Short text for legends and export metadata: "EMA 0.60 (time-weighted, debiased)". */
char *vb_smoothing_describe      (VbSmoothingKind kind,
                                  double          param);

/* ---- line charts ------------------------------------------------------------------ */

typedef struct {
  char     *name;
  int       color_index;  /* stable per run: index into the style's palette */
  GArray   *x;            /* double, ascending */
  GArray   *y;            /* double; NaN or ±Inf breaks the line */
  GArray   *y_lo;         /* optional band (mean − std, 25th percentile, ...), NULL = none */
  GArray   *y_hi;         /* optional, same length as x when set */
  gboolean  raw;          /* never smooth (learning rate): drawn solid as logged */
  gboolean  dashed;       /* a second stroke style for grouping */
} VbSeries;

VbSeries *vb_series_new        (const char *name,
                                int         color_index);
void      vb_series_free       (VbSeries   *series);
void      vb_series_append     (VbSeries   *series,
                                double      x,
                                double      y);
/* Appends to x, y, and the band (created on first use). */
void      vb_series_append_band (VbSeries  *series,
                                 double     x,
                                 double     y,
                                 double     y_lo,
                                 double     y_hi);
guint     vb_series_get_length (const VbSeries *series);

typedef struct {
  char            *title;        /* NULL = none */
  char            *x_label;      /* NULL = from x_axis ("Step", "Epoch", "Wall time (h:mm)") */
  char            *y_label;      /* NULL = none; say the unit: "Top-1 (%)" */
  char            *caption;      /* protocol card / provenance line under the chart */
  VbXAxisKind      x_axis;
  gboolean         x_auto;       /* TRUE: x range from the data */
  double           x_min, x_max;
  gboolean         y_auto;       /* TRUE: y range from the data, padded by 5 % */
  double           y_min, y_max;
  gboolean         log_y;        /* non-positive values break the line */
  gboolean         show_legend;
  VbSmoothingKind  smoothing_kind;
  double           smoothing;    /* the kind's parameter; 0 = off (see VbSmoothingKind) */
  GPtrArray       *series;       /* VbSeries*, owned */
} VbLineChart;

/* Defaults: step axis, auto ranges, legend on, EMA smoothing off. */
VbLineChart *vb_line_chart_new         (void);
void         vb_line_chart_free        (VbLineChart *chart);
void         vb_line_chart_set_title   (VbLineChart *chart,
                                        const char  *title);
void         vb_line_chart_set_labels  (VbLineChart *chart,
                                        const char  *x_label,
                                        const char  *y_label);
void         vb_line_chart_set_caption (VbLineChart *chart,
                                        const char  *caption);
/* Takes ownership of @series; returns it for further filling. */
VbSeries    *vb_line_chart_add_series  (VbLineChart *chart,
                                        VbSeries    *series);

/* ---- bar charts ------------------------------------------------------------------- */

typedef struct {
  char     *name;
  int       color_index;
  GArray   *values;        /* double, one per category; NaN = no value ("n/a") */
  GArray   *err_lo;        /* optional whisker ends in value units (e.g. IQR), NULL = none */
  GArray   *err_hi;
  GArray   *incomparable;  /* optional gboolean per category: the protocol card differs from
                            * the baseline's, so no Δ is computed and a warning is drawn */
  GArray   *colors;        /* optional int per category, −1 = color_index: one colour per
                            * run when each category is a run, as in the line charts */
} VbBarSeries;

VbBarSeries *vb_bar_series_new        (const char  *name,
                                       int          color_index);
void         vb_bar_series_free       (VbBarSeries *series);
void         vb_bar_series_set_values (VbBarSeries  *series,
                                       const double *values,
                                       guint         n);
/* Sets whisker ends for category i (grows the arrays, NaN = none). */
void         vb_bar_series_set_error  (VbBarSeries *series,
                                       guint        category,
                                       double       lo,
                                       double       hi);
void         vb_bar_series_set_incomparable (VbBarSeries *series,
                                             guint        category,
                                             gboolean     incomparable);
/* Colours category i's bar with color_index instead of the series' (grows the array). */
void         vb_bar_series_set_color        (VbBarSeries *series,
                                             guint        category,
                                             int          color_index);
/* The colour index the bar of category i is drawn with. */
int          vb_bar_series_get_color        (const VbBarSeries *series,
                                             guint              category);

typedef enum {
  VB_BAR_BASELINE_NONE,
  VB_BAR_BASELINE_CATEGORY,  /* Δ against the same series in category baseline_index */
  VB_BAR_BASELINE_SERIES,    /* Δ against series baseline_index in the same category */
} VbBarBaselineKind;

typedef struct {
  char              *title;
  char              *y_label;          /* with unit: "Top-1 (%)", "img/s" */
  char              *caption;
  GPtrArray         *categories;       /* char*, owned */
  GPtrArray         *series;           /* VbBarSeries*, owned */
  gboolean           y_auto;           /* TRUE: from 0 (or the lowest negative value) up,
                                        * with room for the labels */
  double             y_min, y_max;
  gboolean           show_legend;      /* drawn only with two or more series */
  gboolean           show_values;
  int                value_decimals;   /* −1 = automatic from the magnitude */
  VbBarBaselineKind  baseline_kind;
  int                baseline_index;
  gboolean           delta_percent;    /* "+1.6 %" instead of "+1.2" */
  gboolean           higher_is_better; /* colours of the Δ labels */
} VbBarChart;

VbBarChart  *vb_bar_chart_new          (void);
void         vb_bar_chart_free         (VbBarChart  *chart);
void         vb_bar_chart_set_title    (VbBarChart  *chart,
                                        const char  *title);
void         vb_bar_chart_set_y_label  (VbBarChart  *chart,
                                        const char  *y_label);
void         vb_bar_chart_set_caption  (VbBarChart  *chart,
                                        const char  *caption);
void         vb_bar_chart_add_category (VbBarChart  *chart,
                                        const char  *name);
VbBarSeries *vb_bar_chart_add_series   (VbBarChart  *chart,
                                        VbBarSeries *series);
/* The value of (category, series), NaN when missing. */
double       vb_bar_chart_get_value    (const VbBarChart *chart,
                                        guint             category,
                                        guint             series);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbSeries, vb_series_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbLineChart, vb_line_chart_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbBarSeries, vb_bar_series_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbBarChart, vb_bar_chart_free)

G_END_DECLS
