#include "config.h"

#include "vb-profile.h"

typedef struct {
  const char *op;
  gint64      usec;
  guint64     calls;
} OpTime;

gboolean vb_profile_on = FALSE;
static GArray *times;   /* OpTime; a handful of kinds, so a linear search is enough */

static const char *(*profile_sync) (void *ctx);
static void *profile_sync_ctx;

void
vb_profile_enable (gboolean on)
{
  vb_profile_on = on;
}

void
vb_profile_set_sync (const char *(*sync) (void *ctx), void *ctx)
{
  profile_sync = sync;
  profile_sync_ctx = ctx;
}

void
vb_profile_wait (void)
{
  if (profile_sync != NULL)
    profile_sync (profile_sync_ctx);
}

void
vb_profile_reset (void)
{
  if (times != NULL)
    g_array_set_size (times, 0);
}

void
vb_profile_add (const char *op, gint64 usec)
{
  if (times == NULL)
    times = g_array_new (FALSE, FALSE, sizeof (OpTime));
  for (guint i = 0; i < times->len; i++)
    {
      OpTime *t = &g_array_index (times, OpTime, i);
      if (g_strcmp0 (t->op, op) == 0)
        {
          t->usec += usec;
          t->calls++;
          return;
        }
    }
  OpTime t = { op, usec, 1 };
  g_array_append_val (times, t);
}

static int
by_time_desc (gconstpointer a, gconstpointer b)
{
  gint64 ta = ((const OpTime *) a)->usec, tb = ((const OpTime *) b)->usec;
  return ta < tb ? 1 : ta > tb ? -1 : 0;
}

char *
vb_profile_format (gint64 total_usec)
{
  GString *out = g_string_new (NULL);
  gint64 sum = 0;
  if (times != NULL)
    {
      g_array_sort (times, by_time_desc);
      for (guint i = 0; i < times->len; i++)
        sum += g_array_index (times, OpTime, i).usec;
    }
  double total = MAX (MAX (total_usec, sum), 1);
  for (guint i = 0; times != NULL && i < times->len; i++)
    {
      const OpTime *t = &g_array_index (times, OpTime, i);
      g_string_append_printf (out, "  %-20s %10.1f ms %8" G_GUINT64_FORMAT " calls %6.1f %%\n",
                              t->op, t->usec / 1000.0, t->calls, 100.0 * t->usec / total);
    }
  g_string_append_printf (out, "  %-20s %10.1f ms %8s       %6.1f %%\n", "other",
                          (total - sum) / 1000.0, "", 100.0 * (total - sum) / total);
  return g_string_free (out, FALSE);
}
