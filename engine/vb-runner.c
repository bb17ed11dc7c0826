#include "config.h"

#include "vb-runner.h"

#include "vb-device.h"

#include <string.h>

#include "vb-clip-profile.h"
#include "vb-error.h"
#include "vb-projector-study.h"

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

/* Trains one run already recorded in the store: marks it running, trains (from
 * resume_from when non-NULL), flushes its metrics and records how it ended. The run's
 * own outcome goes to *out_status and run_error; FALSE (error set) only when the store
 * refuses a status change, which leaves nothing sensible to do but stop. */
static gboolean
run_recorded (VbStore *store, gint64 id, const VbRunConfig *rc, const char *json, int index,
              int n_runs, const char *resume_from, const VbRunnerHooks *hooks,
              VbTrainResult *result, VbRunStatus *out_status, GError **run_error,
              GError **error)
{
  g_autofree char *dir = vb_runner_checkpoint_dir (store, id);
  if (!vb_store_set_status (store, id, VB_RUN_RUNNING, NULL, error))
    return FALSE;
  if (hooks && hooks->run_started)
    hooks->run_started (id, rc->run_name, index, n_runs, hooks->train.user_data);

  /* projector-study and clip-profile runs keep no checkpoint, so resume refuses them as
   * runs without one */
  const VbTrainHooks *th = hooks ? &hooks->train : NULL;
  gboolean run_ok = vb_run_config_is_projector (rc)
                    ? vb_projector_study_run (rc, store, id, dir, th, result, run_error)
                    : vb_run_config_is_clip_profile (rc)
                    ? vb_clip_profile_run (rc, store, id, dir, th, result, run_error)
                    : vb_train_run (rc, json, store, id, dir, resume_from, th, result,
                                    run_error);
  VbRunStatus status = VB_RUN_DONE;
  if (!run_ok)
    status = g_error_matches (*run_error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED)
             ? VB_RUN_CANCELLED : VB_RUN_FAILED;
  vb_store_flush (store, NULL);
  if (!vb_store_set_status (store, id, status, *run_error ? (*run_error)->message : NULL, error))
    return FALSE;
  if (hooks && hooks->run_finished)
    hooks->run_finished (id, rc->run_name, status, result, *run_error, hooks->train.user_data);
  *out_status = status;
  return TRUE;
}

/* A run asked for the GPU where none is usable runs on the CPU, and says so once; the
 * stored config records where it ran and why. */
static void
fall_back_to_cpu (JsonObject *obj, const VbRunnerHooks *hooks, gboolean *noticed)
{
  g_autoptr (GError) why = NULL;
  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "device", "cpu"), "cuda") != 0
      || vb_device_ops ("cuda", &why) != NULL)
    return;
  json_object_set_string_member (obj, "device", "cpu");
  /* tensor-core products are a GPU mode: on the CPU the run computes strict fp32 */
  JsonObject *train = json_object_has_member (obj, "train")
                      ? json_object_get_object_member (obj, "train") : NULL;
  const char *precision = train != NULL
                          ? json_object_get_string_member_with_default (train, "precision", "fp32")
                          : "fp32";
  gboolean products = g_strcmp0 (precision, "fp32") != 0;
  gboolean parallel = train != NULL
                      && json_object_get_int_member_with_default (train, "gpus", 0) > 0;
  g_autofree char *note = g_strdup_printf ("%s; the runs use the CPU%s%s", why->message,
                                           products ? " in strict fp32 (TF32 and bf16 products "
                                                      "are GPU modes)" : "",
                                           parallel ? ", not data parallel" : "");
  if (products)
    json_object_set_string_member (train, "precision", "fp32");
  if (parallel)
    json_object_set_int_member (train, "gpus", 0);
  json_object_set_string_member (obj, "device_note", note);
  if (!*noticed && hooks != NULL && hooks->notice != NULL)
    hooks->notice (note, hooks->train.user_data);
  *noticed = TRUE;
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
  gboolean noticed = FALSE;
  for (guint i = 0; i < configs->len; i++)
    {
      JsonObject *obj = g_ptr_array_index (configs, i);
      fall_back_to_cpu (obj, hooks, &noticed);
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
      g_auto (VbTrainResult) result = { 0 };
      g_autoptr (GError) run_error = NULL;
      VbRunStatus status = VB_RUN_DONE;
      if (!run_recorded (store, id, &rc, json, (int) i, (int) configs->len, NULL, hooks,
                         &result, &status, &run_error, error))
        return FALSE;
      if (status == VB_RUN_CANCELLED)
        stop = TRUE;
      if (run_error != NULL && ok)
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

gboolean
vb_runner_resume_run (VbStore *store, gint64 run_id, const VbRunnerHooks *hooks,
                      VbTrainResult *result, GError **error)
{
  /* a 'running' run whose process died since the store was opened is interrupted, and
   * resumable; one that is still running belongs to a live process */
  if (vb_store_recover_interrupted (store, error) < 0)
    return FALSE;
  g_autoptr (VbRunRecord) rec = vb_store_get_run (store, run_id, error);
  if (rec == NULL)
    return FALSE;
  const char *name = rec->name ? rec->name : "";
  if (rec->status == VB_RUN_DONE)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "run %" G_GINT64_FORMAT " (%s) is already done; nothing to resume",
                   run_id, name);
      return FALSE;
    }
  if (rec->status == VB_RUN_RUNNING)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "run %" G_GINT64_FORMAT " (%s) is still running (process %" G_GINT64_FORMAT
                   " on %s)", run_id, name, rec->pid, rec->hostname ? rec->hostname : "?");
      return FALSE;
    }

  g_autofree char *dir = vb_runner_checkpoint_dir (store, run_id);
  g_autofree char *ckpt = g_build_filename (dir, "last.safetensors", NULL);
  if (!g_file_test (ckpt, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "run %" G_GINT64_FORMAT " (%s) has no checkpoint (%s): it stopped before "
                   "its first epoch ended, so it must be run again from its preset",
                   run_id, name, ckpt);
      return FALSE;
    }

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root = NULL;
  if (rec->config_json == NULL
      || !json_parser_load_from_data (parser, rec->config_json, -1, &local_error)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "run %" G_GINT64_FORMAT " (%s): its stored config is not a JSON object%s%s",
                   run_id, name, local_error ? ": " : "",
                   local_error ? local_error->message : "");
      return FALSE;
    }
  g_auto (VbRunConfig) rc = { 0 };
  if (!vb_run_config_from_json (&rc, json_node_get_object (root), error))
    {
      g_prefix_error (error, "run %" G_GINT64_FORMAT " (%s): ", run_id, name);
      return FALSE;
    }

  g_auto (VbTrainResult) local_result = { 0 };
  g_autoptr (GError) run_error = NULL;
  VbRunStatus status = VB_RUN_DONE;
  if (!run_recorded (store, run_id, &rc, rec->config_json, 0, 1, ckpt, hooks, &local_result,
                     &status, &run_error, error))
    return FALSE;
  if (result)
    {
      *result = local_result;
      memset (&local_result, 0, sizeof local_result);
    }
  if (run_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&run_error), "run %s: ", rc.run_name);
      return FALSE;
    }
  return TRUE;
}
