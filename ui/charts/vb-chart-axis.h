/* vb-chart-axis.h: tick placement and tick labels. Linear axes step by 1, 2 or 5 times a
 * power of ten; wall-time axes by clock-friendly steps (15 s, 5 min, 1 h, ...); log axes
 * by decades with 2-5 or 1..9 sub-ticks when few decades are shown. Labels of one axis
 * share one format (same decimals, same SI suffix), negatives use a real minus sign. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VB_TICK_NUMBER,    /* plain decimals; k/M/G from 10 000 up; 1.5e−4 below 0.001 */
  VB_TICK_INTEGER,   /* like NUMBER, but never a step under 1 */
  VB_TICK_SI,        /* always k/M/G from 1 000 up (images or tokens seen) */
  VB_TICK_DURATION,  /* seconds shown as m:ss, h:mm(:ss) or "2d 3:00" */
} VbTickFormat;

typedef struct {
  double  value;
  char   *label;   /* NULL for a minor (unlabelled) tick */
} VbTick;

/* The 1-2-5 step giving about @target intervals over @span. */
double  vb_chart_nice_step       (double span,
                                  double target);
/* A clock-friendly step in seconds for about @target intervals over @span seconds. */
double  vb_chart_time_step       (double span,
                                  double target);
/* Ticks inside [lo, hi] (lo < hi) for about @target labelled intervals. For @log, lo and
 * hi must be positive. Returns a GArray of VbTick that frees the labels with itself. */
GArray *vb_chart_ticks           (double       lo,
                                  double       hi,
                                  double       target,
                                  VbTickFormat format,
                                  gboolean     log);
/* One label as vb_chart_ticks() would write it for a tick at @value on an axis whose
 * step is @step and whose largest absolute tick is @max_abs. */
char   *vb_chart_format_tick     (double       value,
                                  double       step,
                                  double       max_abs,
                                  VbTickFormat format);
/* "m:ss", "h:mm", "h:mm:ss" or "d h:mm": the form VB_TICK_DURATION labels take for
 * this step and range (for the axis title). */
const char *vb_chart_duration_unit (double step,
                                    double max_abs);

G_END_DECLS
