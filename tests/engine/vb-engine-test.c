/* vb-engine-test.c: see vb-engine-test.h. */
#include "config.h"

#include "vb-engine-test.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "vb-device.h"
#include "vb-error.h"
#include "vb-preset.h"
#include "vb-runner.h"

gboolean
vb_engine_test_parse_config (const char *json, VbRunConfig *cfg, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  return vb_run_config_from_json (cfg, json_node_get_object (json_parser_get_root (parser)),
                                  error);
}

static gboolean
cancel_now (gpointer user_data)
{
  return TRUE;
}

void
vb_engine_test_assert_cancels (const char *preset_json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VbPreset) preset = vb_preset_load_from_data (preset_json, &error);
  g_assert_no_error (error);
  g_autoptr (VbStore) store = vb_store_open (":memory:", &error);
  g_assert_no_error (error);
  VbRunnerHooks hooks = { .train = { NULL, cancel_now, NULL } };
  g_autoptr (GArray) ids = NULL;
  g_assert_false (vb_runner_run_preset (store, preset, &hooks, NULL, &ids, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED);
  g_autoptr (VbRunRecord) rec = vb_store_get_run (store, g_array_index (ids, gint64, 0), NULL);
  g_assert_cmpint (rec->status, ==, VB_RUN_CANCELLED);
}

const VbOps *
vb_engine_test_gpu_or_skip (void)
{
  g_autoptr (GError) error = NULL;
  const VbOps *ops = vb_device_ops ("cuda", &error);
  if (ops == NULL)
    g_test_skip (error->message);
  else
    g_test_message ("GPU: %s", vb_device_describe (ops));
  return ops;
}

double
vb_engine_test_rel_l2 (const float *got, const float *want, int64_t n)
{
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; i++)
    {
      if (!isfinite (got[i]))
        g_error ("element %" G_GINT64_FORMAT " is %g (unwritten or overflow)", i, got[i]);
      double d = (double) got[i] - want[i];
      num += d * d;
      den += (double) want[i] * want[i];
    }
  return den > 0.0 ? sqrt (num / den) : sqrt (num);
}
