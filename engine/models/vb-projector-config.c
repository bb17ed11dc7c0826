/* vb-projector-config.c: the study configurations (clip-projectors.md §3), names, and
 * the costs that follow from a configuration alone: parameters, MACs per token and
 * memory. */
#include "config.h"

#include "vb-projector-private.h"

#include <math.h>

#include "vb-error.h"

static const char *const kind_names[VB_PROJ_N_KINDS + 1] = {
  "proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora", NULL,
};

const char *
vb_projector_kind_name (VbProjKind kind)
{
  return kind >= 0 && kind < VB_PROJ_N_KINDS ? kind_names[kind] : "proj-unknown";
}

const char *const *
vb_projector_names (void)
{
  return kind_names;
}

void
vb_projector_config_default (VbProjKind kind, VbProjConfig *cfg)
{
  /* §3: CLIP width on both sides is what reproduces the seed table */
  *cfg = (VbProjConfig) { .kind = kind, .in_f = 1024, .out_f = 1024 };
  if (kind == VB_PROJ_MLP)
    cfg->hidden = 2048;
  else if (kind == VB_PROJ_LOWRANK)
    cfg->rank = 256;
  else if (kind == VB_PROJ_LORA)
    {
      cfg->rank = 8;
      cfg->alpha = 16.0f;
    }
}

gboolean
vb_projector_config_from_name (const char *name, VbProjConfig *cfg, GError **error)
{
  for (int k = 0; k < VB_PROJ_N_KINDS; k++)
    if (name != NULL && g_strcmp0 (name, kind_names[k]) == 0)
      {
        vb_projector_config_default (k, cfg);
        return TRUE;
      }
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "unknown projector \"%s\" (expected proj-linear, proj-lowrank, proj-mlp, "
               "proj-gated or proj-lora)", name ? name : "(null)");
  return FALSE;
}

gboolean
vb_projector_config_validate (const VbProjConfig *cfg, GError **error)
{
  const char *bad = NULL;

  if (cfg->kind < 0 || cfg->kind >= VB_PROJ_N_KINDS)
    bad = "unknown kind";
  else if (cfg->in_f <= 0 || cfg->out_f <= 0)
    bad = "widths must be positive";
  else if (cfg->kind == VB_PROJ_MLP && cfg->hidden <= 0)
    bad = "the MLP needs a positive hidden width";
  else if ((cfg->kind == VB_PROJ_LOWRANK || cfg->kind == VB_PROJ_LORA) && cfg->rank <= 0)
    bad = "the rank must be positive";
  else if (cfg->kind == VB_PROJ_LORA && !isfinite (cfg->alpha))
    bad = "alpha is not a finite number";
  if (bad == NULL)
    return TRUE;
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID, "%s (%d → %d): %s",
               vb_projector_kind_name (cfg->kind), cfg->in_f, cfg->out_f, bad);
  return FALSE;
}

/* ---- costs ---- */

int64_t
vb_projector_param_count (const VbProjConfig *cfg)
{
  int64_t in = cfg->in_f, out = cfg->out_f, r = cfg->rank, h = cfg->hidden;

  switch (cfg->kind)
    {
    case VB_PROJ_LINEAR:  return in * out + out;
    case VB_PROJ_LOWRANK: return r * in + out * r + (cfg->up_bias ? out : 0);
    case VB_PROJ_MLP:     return in * h + h + h * out + out;
    case VB_PROJ_GATED:   return 2 * (in * out + out);
    case VB_PROJ_LORA:    return in * out + out + r * in + out * r;
    default:              return 0;
    }
}

int64_t
vb_projector_trainable_count (const VbProjConfig *cfg)
{
  if (cfg->kind == VB_PROJ_LORA)
    return (int64_t) cfg->rank * cfg->in_f + (int64_t) cfg->out_f * cfg->rank;
  return vb_projector_param_count (cfg);
}

int64_t
vb_projector_macs_per_token (const VbProjConfig *cfg, gboolean merged)
{
  int64_t in = cfg->in_f, out = cfg->out_f, r = cfg->rank, h = cfg->hidden;

  switch (cfg->kind)
    {
    case VB_PROJ_LINEAR:  return in * out;
    case VB_PROJ_LOWRANK: return r * in + out * r;
    case VB_PROJ_MLP:     return in * h + h * out;
    case VB_PROJ_GATED:   return 2 * in * out;
    case VB_PROJ_LORA:    return in * out + (merged ? 0 : r * in + out * r);
    default:              return 0;
    }
}

int64_t
vb_projector_activation_bytes_per_token (const VbProjConfig *cfg, gboolean training)
{
  int64_t act[2], scratch[2];

  vb_projector_buffer_widths (cfg, act, scratch);
  /* inference keeps no activations, but its forward uses the same intermediates */
  return (int64_t) sizeof (float) * (cfg->out_f + act[0] + act[1]
                                     + (training ? scratch[0] + scratch[1] : 0));
}

gboolean
vb_projector_info (const char *name, VbProjInfo *info, GError **error)
{
  VbProjConfig cfg;

  if (!vb_projector_config_from_name (name, &cfg, error))
    return FALSE;
  *info = (VbProjInfo) { .name = vb_projector_kind_name (cfg.kind) };
  info->params = vb_projector_param_count (&cfg);
  info->trainable = vb_projector_trainable_count (&cfg);
  info->frozen = info->params - info->trainable;
  info->macs_per_token = vb_projector_macs_per_token (&cfg, FALSE);
  info->macs_per_token_merged = vb_projector_macs_per_token (&cfg, TRUE);
  info->param_bytes = (int64_t) sizeof (float) * info->params;
  info->train_state_bytes = (int64_t) 3 * sizeof (float) * info->trainable;
  info->act_bytes_per_token_train = vb_projector_activation_bytes_per_token (&cfg, TRUE);
  info->act_bytes_per_token_infer = vb_projector_activation_bytes_per_token (&cfg, FALSE);
  return TRUE;
}
