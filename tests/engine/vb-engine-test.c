/* vb-engine-test.c: see vb-engine-test.h. */
#include "config.h"

#include "vb-engine-test.h"

#include <json-glib/json-glib.h>

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
