#include "config.h"

#include "vb-run-config.h"

#include "vb-device.h"

#include <string.h>

#include "vb-error.h"
#include "vb-precision.h"
#include "vb-projector.h"

/* Typed lookups of "section.field": absent → default; wrong type → error. */
static JsonNode *
field (JsonObject *obj, const char *section, const char *name)
{
  if (obj == NULL || !json_object_has_member (obj, section))
    return NULL;
  JsonNode *sec = json_object_get_member (obj, section);
  if (!JSON_NODE_HOLDS_OBJECT (sec))
    return NULL;
  JsonObject *o = json_node_get_object (sec);
  return json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
}

static gboolean
type_error (const char *section, const char *name, const char *want, GError **error)
{
  g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
               "config field %s.%s must be %s", section, name, want);
  return FALSE;
}

static gboolean
get_double (JsonObject *obj, const char *section, const char *name, double def, double *out,
            GError **error)
{
  JsonNode *n = field (obj, section, name);
  *out = def;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || (json_node_get_value_type (n) != G_TYPE_DOUBLE
                                     && json_node_get_value_type (n) != G_TYPE_INT64))
    return type_error (section, name, "a number", error);
  *out = json_node_get_double (n);
  return TRUE;
}

static gboolean
get_int (JsonObject *obj, const char *section, const char *name, int def, int lo, int hi,
         int *out, GError **error)
{
  JsonNode *n = field (obj, section, name);
  *out = def;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return type_error (section, name, "an integer", error);
  gint64 v = json_node_get_int (n);
  if (v < lo || v > hi)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "config field %s.%s = %" G_GINT64_FORMAT " is outside [%d, %d]",
                   section, name, v, lo, hi);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static gboolean
get_bool (JsonObject *obj, const char *section, const char *name, gboolean def, gboolean *out,
          GError **error)
{
  JsonNode *n = field (obj, section, name);
  *out = def;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return type_error (section, name, "true or false", error);
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_string (JsonObject *obj, const char *section, const char *name, const char *def, char **out,
            GError **error)
{
  JsonNode *n = field (obj, section, name);
  if (n == NULL)
    {
      *out = g_strdup (def);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return type_error (section, name, "a string", error);
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

void
vb_run_config_clear (VbRunConfig *c)
{
  g_clear_pointer (&c->run_name, g_free);
  g_clear_pointer (&c->device, g_free);
  g_clear_pointer (&c->arch, g_free);
  g_clear_pointer (&c->proj.projector, g_free);
  g_clear_pointer (&c->proj.clip_weights, g_free);
  g_clear_pointer (&c->profile.layers, g_free);
  g_clear_pointer (&c->profile.precision, g_free);
  g_clear_pointer (&c->init_from, g_free);
  g_clear_pointer (&c->dataset, g_free);
  g_clear_pointer (&c->data_path, g_free);
  g_clear_pointer (&c->class_list, g_strfreev);
  g_clear_pointer (&c->mode, g_free);
  g_clear_pointer (&c->precision, g_free);
}

gboolean
vb_run_config_is_projector (const VbRunConfig *c)
{
  return g_strcmp0 (c->arch, "projector") == 0;
}

gboolean
vb_run_config_is_clip_profile (const VbRunConfig *c)
{
  return g_strcmp0 (c->arch, "clip-profile") == 0;
}

gboolean
vb_run_config_is_finetune (const VbRunConfig *c)
{
  return g_strcmp0 (c->mode, "finetune") == 0
         || (g_strcmp0 (c->mode, "scratch") != 0 && c->init_from && c->init_from[0]);
}

/* data.classes: a list of class folder names (the study's "choose N classes by list");
 * empty or absent: classes by n_classes and the split seed */
static gboolean
get_class_list (JsonObject *obj, VbRunConfig *c, GError **error)
{
  JsonNode *node = field (obj, "data", "classes");
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error ("data", "classes", "an array of class folder names", error);
  JsonArray *arr = json_node_get_array (node);
  guint n = json_array_get_length (arr);
  if (n == 0)
    return TRUE;
  if (g_strcmp0 (c->dataset, "image-folder") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "data.classes picks class folders of an image-folder data set, not of %s",
                   c->dataset);
      return FALSE;
    }
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      const char *name = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                         ? json_node_get_string (e) : NULL;
      if (name == NULL || name[0] == '\0' || strchr (name, '/') != NULL
          || g_str_equal (name, ".") || g_str_equal (name, ".."))
        return type_error ("data", "classes", "an array of class folder names (no '/')", error);
      g_strv_builder_add (names, name);
    }
  c->class_list = g_strv_builder_end (names);
  if (c->n_classes != 0 && c->n_classes != (int) n)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "data.classes names %u classes but data.n_classes is %d: set n_classes to "
                   "0 or %u", n, c->n_classes, n);
      return FALSE;
    }
  return TRUE;
}

/* model.clip_*: the CLIP tower of the projector study and of the clip-profile */
static gboolean
get_encoder (JsonObject *obj, VbProjStudyConfig *p, GError **error)
{
  int seed = 0;
  if (!get_string (obj, "model", "clip_weights", "", &p->clip_weights, error)
      || !get_int (obj, "model", "clip_seed", 0, 0, G_MAXINT, &seed, error)
      || !get_int (obj, "model", "clip_layers", 0, 0, 64, &p->clip_layers, error)
      || !get_int (obj, "model", "clip_width", 0, 0, 4096, &p->clip_width, error)
      || !get_int (obj, "model", "clip_heads", 0, 0, 64, &p->clip_heads, error))
    return FALSE;
  p->clip_seed = (guint64) seed;
  return TRUE;
}

static gboolean
check_encoder (const VbRunConfig *c, GError **error)
{
  const VbProjStudyConfig *p = &c->proj;
  gboolean small = p->clip_layers || p->clip_width || p->clip_heads;
  if (small && (!p->clip_layers || !p->clip_width || !p->clip_heads
                || p->clip_width % p->clip_heads != 0))
    return type_error ("model", "clip_layers/clip_width/clip_heads",
                       "all three set (width a multiple of heads) for a small encoder, or all 0",
                       error);
  if (small && p->clip_weights[0] != '\0')
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "model.clip_weights gives the encoder's shape: leave model.clip_layers, "
                   "clip_width and clip_heads at 0");
      return FALSE;
    }
  /* ViT-L/14 exists at 224 and 336 px; a small tower takes any multiple of its patch */
  if (small ? (c->img_size % 14 != 0 || c->img_size < 28 || c->img_size > 336)
            : (c->img_size != 224 && c->img_size != 336))
    return type_error ("data", "img_size", small ? "a multiple of 14 in [28, 336]"
                                                 : "224 or 336 for CLIP ViT-L/14", error);
  return TRUE;
}

static const char *const lora_base_names[VB_LORA_BASE_N] = {
  "identity", "linear-classes-0-4",
};

static const char *const lora_base_labels[VB_LORA_BASE_N] = {
  "identity", "Linear on classes 0–4",
};

const char *
vb_lora_base_name (VbLoraBase base)
{
  return base < VB_LORA_BASE_N ? lora_base_names[base] : NULL;
}

const char *
vb_lora_base_label (VbLoraBase base)
{
  return base < VB_LORA_BASE_N ? lora_base_labels[base] : NULL;
}

gboolean
vb_lora_base_from_name (const char *name, VbLoraBase *base)
{
  for (int b = 0; b < VB_LORA_BASE_N; b++)
    if (g_strcmp0 (name, lora_base_names[b]) == 0)
      {
        *base = (VbLoraBase) b;
        return TRUE;
      }
  return FALSE;
}

/* model.lora_base: §4.5's frozen base of LoRA. A run with the trained base says so in its
 * name too (as a grid axis would), so the two LoRA variants tell apart in run lists. */
static gboolean
get_lora_base (JsonObject *obj, VbRunConfig *c, GError **error)
{
  g_autofree char *name = NULL;
  if (!get_string (obj, "model", "lora_base", "identity", &name, error))
    return FALSE;
  if (!vb_lora_base_from_name (name, &c->proj.lora_base))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "model.lora_base \"%s\": use \"identity\" (LoRA's frozen base is the "
                   "identity with zero bias, §4.5) or \"linear-classes-0-4\" (the Linear "
                   "trained on classes 0–4 only, then adapted on all classes)", name);
      return FALSE;
    }
  if (c->proj.lora_base != VB_LORA_BASE_IDENTITY
      && g_strcmp0 (c->proj.projector, "proj-lora") == 0
      && strstr (c->run_name, "lora_base=") == NULL)
    {
      char *named = g_strdup_printf ("%s%slora_base=%s", c->run_name,
                                     strchr (c->run_name, '/') ? "," : "/", name);
      g_free (c->run_name);
      c->run_name = named;
    }
  return TRUE;
}

/* model.arch "projector": the study's own fields; the VMamba ones keep their defaults */
static gboolean
get_projector (JsonObject *obj, VbRunConfig *c, GError **error)
{
  VbProjStudyConfig *p = &c->proj;
  if (!get_string (obj, "model", "projector", "proj-linear", &p->projector, error)
      || !get_int (obj, "model", "lora_rank", 8, 1, 4096, &p->lora_rank, error)
      || !get_double (obj, "model", "lora_alpha", 16.0, &p->lora_alpha, error)
      || !get_lora_base (obj, c, error)
      || !get_encoder (obj, p, error)
      || !get_int (obj, "data", "train_per_class", 500, 1, G_MAXINT, &p->train_per_class, error)
      || !get_int (obj, "data", "val_per_class", 100, 1, G_MAXINT, &p->val_per_class, error)
      || !get_int (obj, "data", "test_per_class", 200, 1, G_MAXINT, &p->test_per_class, error)
      || !get_int (obj, "data", "extract_batch", 8, 1, 1024, &p->extract_batch, error)
      || !get_int (obj, "runtime", "inputs", 200, 1, 100000, &p->rt_inputs, error)
      || !get_int (obj, "runtime", "warmup", 8, 0, 1000, &p->rt_warmup, error)
      || !get_int (obj, "runtime", "timed", 20, 1, 1000, &p->rt_timed, error)
      || !get_int (obj, "runtime", "repeats", 3, 1, 100, &p->rt_repeats, error)
      || !get_bool (obj, "train", "shuffled_pairs", FALSE, &p->shuffled_pairs, error))
    return FALSE;
  if (c->mode[0] != '\0' && g_strcmp0 (c->mode, "alignment") != 0
      && g_strcmp0 (c->mode, "reconstruction") != 0)
    return type_error ("train", "mode", "\"alignment\" or \"reconstruction\" for the projector "
                       "study", error);
  p->reconstruction = g_strcmp0 (c->mode, "reconstruction") == 0;
  if (p->reconstruction && p->shuffled_pairs)
    return type_error ("train", "shuffled_pairs", "a Mode A control: false with train.mode "
                       "\"reconstruction\"", error);
  g_autoptr (GError) bad = NULL;
  VbProjConfig pc;
  if (!vb_projector_config_from_name (p->projector, &pc, &bad))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID, "model.projector: %s",
                   bad->message);
      return FALSE;
    }
  if (g_strcmp0 (c->dataset, "cifar10") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "the projector study reads CIFAR-10 binary batches: data.dataset must be "
                   "\"cifar10\" (with --set data.path=DIR), not \"%s\"", c->dataset);
      return FALSE;
    }
  /* refused here, before a preset records a grid of runs that could only fail */
  if (c->data_path == NULL || c->data_path[0] == '\0')
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "the projector study needs the CIFAR-10 binary batches: "
                   "--set data.path=DIR");
      return FALSE;
    }
  return check_encoder (c, error);
}

/* model.arch "clip-profile": the encoder as for the study (model.clip_*, LoRA's rank and
 * alpha for the projector stages) and the profile section */
static gboolean
get_clip_profile (JsonObject *obj, VbRunConfig *c, GError **error)
{
  VbClipProfileConfig *f = &c->profile;
  c->proj.projector = g_strdup ("");
  if (!get_int (obj, "model", "lora_rank", 8, 1, 4096, &c->proj.lora_rank, error)
      || !get_double (obj, "model", "lora_alpha", 16.0, &c->proj.lora_alpha, error)
      || !get_encoder (obj, &c->proj, error)
      || !get_string (obj, "profile", "layers", "llava", &f->layers, error)
      || !get_int (obj, "profile", "batch", 1, 1, 256, &f->batch, error)
      || !get_int (obj, "profile", "warmup", 1, 0, 1000, &f->warmup, error)
      || !get_int (obj, "profile", "timed", 3, 1, 1000, &f->timed, error)
      || !get_int (obj, "profile", "repeats", 1, 1, 100, &f->repeats, error)
      || !get_string (obj, "profile", "precision", "fp32", &f->precision, error))
    return FALSE;
  if (g_strcmp0 (f->layers, "llava") != 0 && g_strcmp0 (f->layers, "all") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "profile.layers \"%s\": use \"llava\" (up to hidden_states[-2], the "
                   "features LLaVA reads: all layers but the last) or \"all\"", f->layers);
      return FALSE;
    }
  /* tf32 and bf16 are GPU modes; a CPU run (asked for, or fallen back to) computes in
   * fp32 and its protocol card says so */
  if (g_strcmp0 (f->precision, "fp32") != 0 && g_strcmp0 (f->precision, "tf32") != 0
      && g_strcmp0 (f->precision, "bf16") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "profile.precision \"%s\": use fp32 (strict), tf32 (TF32 products on the "
                   "GPU) or bf16 (bf16 products, fp32 accumulation, on the GPU)", f->precision);
      return FALSE;
    }
  /* a one-layer tower has no penultimate state to stop at */
  if (c->proj.clip_layers == 1 && g_str_equal (f->layers, "llava"))
    return type_error ("model", "clip_layers", "at least 2 with profile.layers \"llava\"",
                       error);
  return check_encoder (c, error);
}

gboolean
vb_run_config_from_json (VbRunConfig *c, JsonObject *obj, GError **error)
{
  memset (c, 0, sizeof *c);
  c->run_name = g_strdup (json_object_has_member (obj, "run_name")
                          ? json_object_get_string_member (obj, "run_name") : "run");
  c->device = g_strdup (json_object_has_member (obj, "device")
                        ? json_object_get_string_member (obj, "device") : "cpu");

  /* model */
  g_autofree char *scan = NULL;
  int dims = 96, d_state = 1, num_classes = 10;
  double ssm_ratio = 1.0, drop_path = 0.2;
  if (!get_string (obj, "model", "arch", "vmamba", &c->arch, error)
      || !get_int (obj, "model", "dims", 96, 2, 4096, &dims, error)
      || !get_int (obj, "model", "d_state", 1, 1, 64, &d_state, error)
      || !get_double (obj, "model", "ssm_ratio", 1.0, &ssm_ratio, error)
      || !get_string (obj, "model", "scan", "4dir", &scan, error)
      || !get_double (obj, "model", "drop_path", 0.2, &drop_path, error)
      || !get_int (obj, "model", "num_classes", 10, 1, 100000, &num_classes, error)
      || !get_string (obj, "model", "init_from", "", &c->init_from, error)
      || !get_bool (obj, "model", "strip_head", FALSE, &c->strip_head, error)
      || !get_bool (obj, "model", "ema", FALSE, &c->use_ema, error))
    return FALSE;
  if (g_strcmp0 (c->arch, "vmamba") != 0 && g_strcmp0 (c->arch, "projector") != 0
      && g_strcmp0 (c->arch, "clip-profile") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "model.arch \"%s\" is not available yet (this release trains \"vmamba\", "
                   "runs the \"projector\" study and the \"clip-profile\")", c->arch);
      return FALSE;
    }
  int depths[VB_VMAMBA_MAX_STAGES] = { 2, 2, 8, 2 }, n_stages = 4;
  JsonNode *dn = field (obj, "model", "depths");
  if (dn != NULL)
    {
      if (!JSON_NODE_HOLDS_ARRAY (dn))
        return type_error ("model", "depths", "an array of integers", error);
      JsonArray *arr = json_node_get_array (dn);
      n_stages = json_array_get_length (arr);
      if (n_stages < 1 || n_stages > VB_VMAMBA_MAX_STAGES)
        return type_error ("model", "depths", "an array of 1 to 4 integers", error);
      for (int i = 0; i < n_stages; i++)
        {
          JsonNode *e = json_array_get_element (arr, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
            return type_error ("model", "depths", "an array of integers", error);
          depths[i] = (int) CLAMP (json_node_get_int (e), -1, 1000);
        }
    }
  vb_vmamba_config_scaled (&c->model, dims, depths, n_stages, num_classes);
  c->model.d_state = d_state;
  c->model.ssm_ratio = ssm_ratio;
  c->model.drop_path_rate = (float) drop_path;
  if (!vb_scan_mode_from_string (scan, &c->model.scan))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "model.scan \"%s\" is not one of 4dir, 2dir, 1dir, lean2dir", scan);
      return FALSE;
    }
  if (!vb_vmamba_config_validate (&c->model, error))
    return FALSE;

  /* data */
  int split_seed = 0;
  if (!get_string (obj, "data", "dataset", "fashion-mnist", &c->dataset, error)
      || !get_string (obj, "data", "path", "", &c->data_path, error)
      || !get_int (obj, "data", "img_size", 32, 8, 1024, &c->img_size, error)
      || !get_int (obj, "data", "train_limit", 0, 0, G_MAXINT, &c->train_limit, error)
      || !get_int (obj, "data", "val_limit", 0, 0, G_MAXINT, &c->val_limit, error)
      || !get_int (obj, "data", "n_classes", 0, 0, 100000, &c->n_classes, error)
      || !get_int (obj, "data", "split_seed", 0, 0, G_MAXINT, &split_seed, error)
      || !get_double (obj, "data", "train_fraction", 0.8, &c->train_fraction, error)
      || !get_int (obj, "data", "workers", 1, 0, 64, &c->workers, error)
      || !get_double (obj, "data", "scale_min", 0.08, &c->scale_min, error)
      || !get_bool (obj, "data", "hflip", TRUE, &c->hflip, error))
    return FALSE;
  c->split_seed = (guint64) split_seed;
  if (!get_class_list (obj, c, error))
    return FALSE;
  if (c->scale_min <= 0 || c->scale_min > 1)
    return type_error ("data", "scale_min", "in (0, 1]", error);
  if (c->train_fraction <= 0 || c->train_fraction >= 1)
    return type_error ("data", "train_fraction", "between 0 and 1 (exclusive)", error);

  /* train */
  int seed = 0;
  if (!get_string (obj, "train", "mode", "", &c->mode, error)
      || !get_int (obj, "train", "epochs", 1, 1, 100000, &c->epochs, error)
      || !get_int (obj, "train", "batch_size", 64, 1, 65536, &c->batch_size, error)
      || !get_double (obj, "train", "lr", 1e-3, &c->lr, error)
      || !get_double (obj, "train", "min_lr", 1e-5, &c->min_lr, error)
      || !get_double (obj, "train", "warmup_lr", 1e-6, &c->warmup_lr, error)
      || !get_double (obj, "train", "warmup_epochs", 0.0, &c->warmup_epochs, error)
      || !get_double (obj, "train", "weight_decay", 0.05, &c->weight_decay, error)
      || !get_double (obj, "train", "label_smoothing", 0.1, &c->label_smoothing, error)
      || !get_double (obj, "train", "clip_grad", 5.0, &c->clip_grad, error)
      || !get_int (obj, "train", "seed", 0, 0, G_MAXINT, &seed, error)
      || !get_int (obj, "train", "eval_batch_size", 128, 1, 65536, &c->eval_batch_size, error)
      || !get_string (obj, "train", "precision", "fp32", &c->precision, error)
      || !get_int (obj, "train", "threads", 2, 1, 256, &c->threads, error)
      || !get_int (obj, "train", "gpus", 0, 0, 64, &c->gpus, error))
    return FALSE;
  c->seed = (guint64) seed;
  if (vb_precision_find (c->precision) == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "train.precision \"%s\": use fp32 (strict), tf32 (TF32 products on the GPU) "
                   "or bf16 (bf16 storage of the products' operands, fp32 accumulation, on the "
                   "GPU)", c->precision);
      return FALSE;
    }
  /* tensor-core products are a GPU mode: asked of the CPU, refused rather than ignored */
  if (g_strcmp0 (c->precision, "fp32") != 0 && g_strcmp0 (c->device, "cuda") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "train.precision %s needs device cuda (%s is a GPU mode)",
                   c->precision, g_str_equal (c->precision, "tf32") ? "TF32" : "bf16");
      return FALSE;
    }
  if (g_strcmp0 (c->device, "cuda") == 0 && !vb_device_cuda_built ())
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "device \"cuda\": this build has no CUDA backend (nvcc was not found when "
                   "it was configured): use --device cpu");
      return FALSE;
    }
  if (g_strcmp0 (c->device, "cpu") != 0 && g_strcmp0 (c->device, "cuda") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "device \"%s\": use cpu or cuda", c->device);
      return FALSE;
    }
  if (c->gpus > 0 && g_strcmp0 (c->device, "cuda") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "train.gpus %d needs device cuda (data-parallel runs are on GPUs)", c->gpus);
      return FALSE;
    }
  if (c->gpus > 0 && g_strcmp0 (c->arch, "vmamba") != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "train.gpus: only VMamba training runs data parallel (model.arch is %s)",
                   c->arch);
      return FALSE;
    }
  if (c->gpus > 0 && c->batch_size % c->gpus != 0)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "train.batch_size %d does not split over train.gpus %d: use a multiple of %d "
                   "(the batch size is the global batch)", c->batch_size, c->gpus, c->gpus);
      return FALSE;
    }
  if (c->label_smoothing < 0 || c->label_smoothing >= 1)
    return type_error ("train", "label_smoothing", "in [0, 1)", error);
  if (vb_run_config_is_finetune (c) && (c->init_from == NULL || c->init_from[0] == '\0'))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "fine-tuning needs pretrained weights: --set model.init_from=FILE.pth");
      return FALSE;
    }
  if (vb_run_config_is_clip_profile (c))
    return get_clip_profile (obj, c, error);
  return !vb_run_config_is_projector (c) || get_projector (obj, c, error);
}
