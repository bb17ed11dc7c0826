#include "config.h"

#include "vb-checkpoint.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "vb-error.h"
#include "vb-pth.h"
#include "vb-safetensors.h"

#define M_PREFIX "optimizer.exp_avg."
#define V_PREFIX "optimizer.exp_avg_sq."

void
vb_checkpoint_info_clear (VbCheckpointInfo *info)
{
  g_clear_pointer (&info->config_json, g_free);
}

gboolean
vb_checkpoint_save (const char *path, VbVmamba *model, VbAdamW *opt,
                    const VbCheckpointInfo *info, GError **error)
{
  g_autoptr (VbTensorDict) dict = vb_vmamba_to_dict (model);
  if (opt != NULL)
    vb_adamw_moments_from_backend (opt);
  if (opt != NULL)
    for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
      {
        const VbParamInfo *p = vb_vmamba_tensor (model, t);
        g_autofree char *mn = g_strconcat (M_PREFIX, p->name, NULL);
        g_autofree char *vn = g_strconcat (V_PREFIX, p->name, NULL);
        vb_tensor_dict_add_copy (dict, mn, p->ndim, p->shape, opt->m + p->offset);
        vb_tensor_dict_add_copy (dict, vn, p->ndim, p->shape, opt->v + p->offset);
      }

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "epoch");
  json_builder_add_int_value (b, info->epoch);
  json_builder_set_member_name (b, "step");
  json_builder_add_int_value (b, info->step);
  json_builder_set_member_name (b, "optimizer_step");
  json_builder_add_int_value (b, opt ? opt->step : 0);
  json_builder_set_member_name (b, "val_top1");
  json_builder_add_double_value (b, info->val_top1);
  json_builder_set_member_name (b, "scan");
  json_builder_add_string_value (b, vb_scan_mode_to_string (vb_vmamba_config (model)->scan));
  json_builder_set_member_name (b, "config");
  if (info->config_json != NULL)
    {
      JsonNode *cfg = json_from_string (info->config_json, NULL);
      json_builder_add_value (b, cfg ? cfg : json_node_new (JSON_NODE_NULL));
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *meta_json = json_to_string (root, FALSE);

  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "format", "visionbench-checkpoint");
  g_hash_table_insert (meta, "format_version", "1");
  g_hash_table_insert (meta, "software_version", PACKAGE_VERSION);
  g_hash_table_insert (meta, "visionbench", meta_json);
  return vb_safetensors_save (path, dict, meta, error);
}

gboolean
vb_checkpoint_load (const char *path, VbVmamba *model, VbAdamW *opt, VbCheckpointInfo *info,
                    GError **error)
{
  g_autoptr (VbTensorDict) dict = vb_safetensors_load (path, error);
  if (dict == NULL)
    return FALSE;
  const char *meta_json = g_hash_table_lookup (vb_tensor_dict_metadata (dict), "visionbench");
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (meta_json == NULL || !json_parser_load_from_data (parser, meta_json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT,
                   "%s is not a VisionBench checkpoint (no valid \"visionbench\" metadata)", path);
      return FALSE;
    }
  JsonObject *meta = json_node_get_object (json_parser_get_root (parser));

  /* moments first, so the parameter dict is left with model tensors only */
  if (opt != NULL)
    for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
      {
        const VbParamInfo *p = vb_vmamba_tensor (model, t);
        g_autofree char *mn = g_strconcat (M_PREFIX, p->name, NULL);
        g_autofree char *vn = g_strconcat (V_PREFIX, p->name, NULL);
        VbTensorEntry *em = vb_tensor_dict_lookup (dict, mn);
        VbTensorEntry *ev = vb_tensor_dict_lookup (dict, vn);
        if (em == NULL || ev == NULL || em->numel != p->numel || ev->numel != p->numel)
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                         "%s: optimizer state for %s is missing or has the wrong size", path,
                         p->name);
            return FALSE;
          }
        memcpy (opt->m + p->offset, em->data, p->numel * sizeof (float));
        memcpy (opt->v + p->offset, ev->data, p->numel * sizeof (float));
      }
  if (opt != NULL)
    vb_adamw_moments_to_backend (opt);
  for (guint t = vb_tensor_dict_size (dict); t-- > 0;)
    {
      VbTensorEntry *e = vb_tensor_dict_index (dict, t);
      if (g_str_has_prefix (e->name, "optimizer."))
        vb_tensor_dict_remove (dict, e->name);
    }
  if (!vb_vmamba_load_dict (model, dict, FALSE, path, error))
    return FALSE;
  if (opt != NULL)
    opt->step = json_object_get_int_member_with_default (meta, "optimizer_step", 0);
  if (info != NULL)
    {
      info->epoch = (int) json_object_get_int_member_with_default (meta, "epoch", 0);
      info->step = json_object_get_int_member_with_default (meta, "step", 0);
      info->val_top1 = json_object_get_double_member_with_default (meta, "val_top1", 0.0);
      JsonNode *cfg = json_object_get_member (meta, "config");
      info->config_json = cfg && JSON_NODE_HOLDS_OBJECT (cfg) ? json_to_string (cfg, FALSE) : NULL;
    }
  return TRUE;
}

static gboolean
has_magic (const char *path, const char *magic, gsize n)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  guint8 buf[8] = { 0 };
  gsize got = 0;
  if (in == NULL
      || !g_input_stream_read_all (G_INPUT_STREAM (in), buf, n, &got, NULL, NULL) || got < n)
    return FALSE;
  return memcmp (buf, magic, n) == 0;
}

VbTensorDict *
vb_weights_load (const char *path, gboolean use_ema, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "%s: no such file", path);
      return NULL;
    }
  VbTensorDict *dict;
  if (has_magic (path, "PK\x03\x04", 4) || g_str_has_suffix (path, ".pth")
      || g_str_has_suffix (path, ".pt") || g_str_has_suffix (path, ".bin"))
    dict = vb_pth_load_state_dict (path, use_ema ? "model_ema" : NULL, error);
  else
    dict = vb_safetensors_load (path, error);
  if (dict == NULL)
    return NULL;
  for (guint t = vb_tensor_dict_size (dict); t-- > 0;)
    {
      VbTensorEntry *e = vb_tensor_dict_index (dict, t);
      if (g_str_has_prefix (e->name, "optimizer."))
        vb_tensor_dict_remove (dict, e->name);
    }
  return dict;
}
