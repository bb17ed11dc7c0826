/* vb-profile.h: where a step's time goes, per kind of operation. Off by default (one
 * predictable branch per op); `visionbench-cli bench --profile` turns it on and prints
 * the table. Wall time of the calling thread, which waits for each op's OpenMP team, so
 * the parts add up to the step. Single engine thread only: not for concurrent models. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

extern gboolean vb_profile_on;

void   vb_profile_enable (gboolean on);
/* For a backend whose ops run asynchronously (the GPU): every profiled op is followed by
 * waiting for it, so each is timed to its end (the waits add a little time of their own).
 * NULL for the CPU. */
void   vb_profile_set_sync (const char *(*sync) (void *ctx), void *ctx);
void   vb_profile_wait   (void);
void   vb_profile_reset  (void);
void   vb_profile_add    (const char *op, gint64 usec);
/* "op  total ms  calls  share" lines, largest first; total_usec: the timed span the
 * shares are of (ops outside any VB_PROF are shown as "other"). */
char  *vb_profile_format (gint64 total_usec);

#define VB_PROF(op, stmt)                                                          \
  do {                                                                             \
    if (G_UNLIKELY (vb_profile_on))                                                \
      {                                                                            \
        gint64 vb_prof_t0_ = g_get_monotonic_time ();                              \
        stmt;                                                                      \
        vb_profile_wait ();                                                        \
        vb_profile_add ((op), g_get_monotonic_time () - vb_prof_t0_);              \
      }                                                                            \
    else                                                                           \
      {                                                                            \
        stmt;                                                                      \
      }                                                                            \
  } while (0)

G_END_DECLS
