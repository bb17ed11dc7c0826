/* vb-compare-clip-profile.c: the clip-profile's notice and stacked bar. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include "vb-compare-clip-profile.h"

#include "vb-compare-projector.h"

/* the encoder's stages in palette colours the five projectors leave free */
#define EMBEDDING_COLOR 6
#define LAYERS_COLOR 5

gboolean
vb_compare_rows_are_clip_profile (GPtrArray *rows)
{
  if (rows == NULL || rows->len == 0)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    if (!((VbCompareRow *) g_ptr_array_index (rows, i))->clip_profile)
      return FALSE;
  return TRUE;
}

char *
vb_compare_clip_profile_notice (GPtrArray *rows)
{
  for (guint i = 0; rows && i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (!r->clip_profile || !r->random_encoder)
        continue;
      const char *weights = r->profile && r->profile->weights ? r->profile->weights
                                                             : "seeded random weights";
      return g_strdup_printf ("Random encoder weights: %s. Times and MACs do not depend on the "
                              "weights, but the features are not CLIP’s; name the weights file "
                              "on the Experiments page to profile the real tower.", weights);
    }
  return NULL;
}

static int
stage_color (const VbStackedBar *bar,
             guint               k)
{
  switch (bar->kinds[k])
    {
    case VB_STAGE_EMBEDDING:
      return EMBEDDING_COLOR;
    case VB_STAGE_LAYER:
      return LAYERS_COLOR;
    case VB_STAGE_PROJECTOR:
    default:
      /* the same colour as in the projector study's views */
      return vb_compare_projector_color (bar->names[k]);
    }
}

/* the series of a stage: by name, else by kind (a layer range named otherwise) */
static guint
series_of (VbStackedBarChart  *chart,
           const VbStackedBar *bar,
           guint               k,
           GArray             *kinds)
{
  for (guint s = 0; s < chart->series->len; s++)
    if (g_strcmp0 (((VbStackSeries *) g_ptr_array_index (chart->series, s))->name,
                   bar->names[k]) == 0)
      return s;
  if (bar->kinds[k] != VB_STAGE_PROJECTOR)
    for (guint s = 0; s < kinds->len; s++)
      if (g_array_index (kinds, VbStageKind, s) == bar->kinds[k])
        return s;
  g_array_append_val (kinds, bar->kinds[k]);
  return vb_stacked_bar_chart_add_series (chart, bar->names[k], stage_color (bar, k));
}

VbStackedBarChart *
vb_compare_clip_profile_chart (GPtrArray *rows)
{
  VbStackedBarChart *chart = vb_stacked_bar_chart_new ();
  g_autoptr (GArray) kinds = g_array_new (FALSE, FALSE, sizeof (VbStageKind));

  vb_stacked_bar_chart_set_title (chart, "Where one image’s time goes");
  vb_stacked_bar_chart_set_labels (chart, "ms per image (median of the timed calls)", "ms");
  for (guint i = 0; rows && i < rows->len; i++)
    {
      VbCompareRow *r = g_ptr_array_index (rows, i);
      if (r->profile == NULL)
        continue;
      g_auto (VbStackedBar) bar = { 0 };
      vb_clip_profile_bar (r->profile, &bar);
      g_autoptr (GArray) values = g_array_new (FALSE, TRUE, sizeof (double));
      for (guint k = 0; k < bar.n; k++)
        {
          guint s = series_of (chart, &bar, k, kinds);
          if (s >= values->len)
            g_array_set_size (values, s + 1);
          g_array_index (values, double, s) += bar.ms[k];
          if (bar.kinds[k] == VB_STAGE_PROJECTOR)
            chart->alt_from = MIN (chart->alt_from, s);
        }
      vb_stacked_bar_chart_add_bar (chart, bar.label, (const double *) values->data, values->len);
      /* the layers' segment shows each layer, shaded in turn */
      g_autoptr (GArray) layers = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint j = 0; j < r->profile->stages->len; j++)
        {
          const VbProfileStage *st = &g_array_index (r->profile->stages, VbProfileStage, j);
          if (st->kind == VB_STAGE_LAYER)
            g_array_append_val (layers, st->ms);
        }
      for (guint k = 0; k < bar.n && layers->len > 1; k++)
        if (bar.kinds[k] == VB_STAGE_LAYER)
          vb_stacked_bar_chart_set_parts (chart, chart->bars->len - 1,
                                          series_of (chart, &bar, k, kinds),
                                          (const double *) layers->data, layers->len);
    }
  vb_stacked_bar_chart_set_caption (chart,
                                    "Bar: the encoder (patch embedding, then its layers, shaded one "
                                    "by one) up to the black ticks, then the five projectors over "
                                    "the patch tokens, one after another: they are alternatives, "
                                    "LLaVA runs one, so a real forward is the encoder plus one of "
                                    "them.");
  return chart;
}
