#include "config.h"

#include "vb-runner.h"

#include "vb-error.h"

char *
vb_runner_checkpoint_dir (VbStore *store, gint64 run_id)
{
  /* beside the database, so --db keeps a test's or a user's runs self-contained */
  const char *db = vb_store_get_path (store);
  g_autofree char *base = NULL;
  if (db == NULL || g_strcmp0 (db, ":memory:") == 0)
    base = g_build_filename (g_get_user_data_dir (), "visionbench", NULL);
  else
    base = g_path_get_dirname (db);
  g_autofree char *leaf = g_strdup_printf ("run-%" G_GINT64_FORMAT, run_id);
  return g_build_filename (base, "checkpoints", leaf, NULL);
}

static char *
config_to_string (JsonObject *obj)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, obj);
  return json_to_string (node, FALSE);
}

gboolean
vb_runner_run_preset (VbStore *store, VbPreset *preset, const VbRunnerHooks *hooks,
                      char **out_group, GArray **out_run_ids, GError **error)
{
  g_autoptr (GPtrArray) configs = vb_preset_expand (preset);
  g_autofree char *group = vb_store_make_group_id (vb_preset_get_name (preset));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* validate every config before recording anything */
  for (guint i = 0; i < configs->len; i++)
    {
      g_auto (VbRunConfig) rc = { 0 };
      if (!vb_run_config_from_json (&rc, g_ptr_array_index (configs, i), error))
        {
          g_prefix_error (error, "preset %s: ", vb_preset_get_name (preset));
          return FALSE;
        }
    }
  for (guint i = 0; i < configs->len; i++)
    {
      JsonObject *obj = g_ptr_array_index (configs, i);
      g_auto (VbRunConfig) rc = { 0 };
      vb_run_config_from_json (&rc, obj, NULL);
      g_autofree char *json = config_to_string (obj);
      VbRunRecord rec = { 0 };
      rec.name = rc.run_name;
      rec.preset = (char *) vb_preset_get_name (preset);
      rec.group_id = group;
      rec.status = VB_RUN_QUEUED;
      rec.config_json = json;
      rec.seed = (gint64) rc.seed;
      rec.device = rc.device;
      gint64 id = 0;
      if (!vb_store_create_run (store, &rec, &id, error))
        return FALSE;
      g_array_append_val (ids, id);
    }

  gboolean ok = TRUE, stop = FALSE;
  for (guint i = 0; i < configs->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      JsonObject *obj = g_ptr_array_index (configs, i);
      g_auto (VbRunConfig) rc = { 0 };
      vb_run_config_from_json (&rc, obj, NULL);
      if (stop)
        {
          vb_store_set_status (store, id, VB_RUN_CANCELLED, "cancelled before it started", NULL);
          continue;
        }
      g_autofree char *json = config_to_string (obj);
      g_autofree char *dir = vb_runner_checkpoint_dir (store, id);
      if (!vb_store_set_status (store, id, VB_RUN_RUNNING, NULL, error))
        return FALSE;
      if (hooks && hooks->run_started)
        hooks->run_started (id, rc.run_name, (int) i, (int) configs->len, hooks->train.user_data);

      g_auto (VbTrainResult) result = { 0 };
      g_autoptr (GError) run_error = NULL;
      gboolean run_ok = vb_train_run (&rc, json, store, id, dir, NULL,
                                      hooks ? &hooks->train : NULL, &result, &run_error);
      VbRunStatus status = VB_RUN_DONE;
      if (!run_ok)
        {
          status = g_error_matches (run_error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED)
                   ? VB_RUN_CANCELLED : VB_RUN_FAILED;
          if (status == VB_RUN_CANCELLED)
            stop = TRUE;
        }
      vb_store_flush (store, NULL);
      if (!vb_store_set_status (store, id, status, run_error ? run_error->message : NULL, error))
        return FALSE;
      if (hooks && hooks->run_finished)
        hooks->run_finished (id, rc.run_name, status, &result, run_error, hooks->train.user_data);
      if (!run_ok && ok)
        {
          ok = FALSE;
          g_propagate_prefixed_error (error, g_steal_pointer (&run_error), "run %s: ",
                                      rc.run_name);
        }
    }
  if (out_group)
    *out_group = g_steal_pointer (&group);
  if (out_run_ids)
    *out_run_ids = g_steal_pointer (&ids);
  return ok;
}
