/* vb-clip.h: the CLIP ViT vision tower, forward only (shared/specs/clip-projectors.md §1).
 *
 * The tower is frozen in the projector study, so there are no gradients. One flat
 * parameter buffer is carved by a table of named tensors whose names and shapes are the
 * Hugging Face keys (§1.2), so openai/clip-vit-large-patch14(-336) safetensors files
 * load by name. Within each layer q, k and v are laid out back to back (weights, then
 * biases), so the three projections run as one (3·D, D) product (§1.8).
 *
 * Pixels are (B, C, S, S) float32, channel-first, already normalised (vb-clip-preprocess.h).
 * Token tensors are (B, N, D) with N = G² + 1, the class token first, G = S / P.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "vb-ops.h"
#include "vb-tensor-dict.h"

G_BEGIN_DECLS

typedef struct {
  int   image_size;   /* S; the position table has (S/P)² + 1 rows, no interpolation */
  int   patch_size;   /* P */
  int   width;        /* D */
  int   layers;
  int   heads;        /* head dim = D / heads */
  int   mlp;          /* F */
  int   in_chans;     /* 3 */
  float eps;          /* every LayerNorm (1e-5) */
} VbClipConfig;

/* ViT-L/14 at 224 (openai/clip-vit-large-patch14) or 336 px (…-336, LLaVA-1.5). */
void     vb_clip_config_vit_l14  (VbClipConfig *cfg, int image_size);
/* A small tower for tests: patch 14, MLP 4·width, 3 channels, eps 1e-5. */
void     vb_clip_config_small    (VbClipConfig *cfg, int image_size, int width, int layers,
                                  int heads);
gboolean vb_clip_config_validate (const VbClipConfig *cfg, GError **error);
int      vb_clip_config_grid     (const VbClipConfig *cfg);   /* G = S / P */
int      vb_clip_config_tokens   (const VbClipConfig *cfg);   /* N = G² + 1 */
/* Infers everything but the head count from the vision_model.* tensors of a Hugging
 * Face file; heads 0 means head dim 64 (every OpenAI ViT). `source` names the file. */
gboolean vb_clip_config_from_dict (VbTensorDict *dict, int heads, VbClipConfig *cfg,
                                   const char *source, GError **error);

/* Costs, from the configuration alone (for `info`):
 * parameters of the tower (embeddings, pre-LN, layers, post-LN; not visual_projection):
 * 303,179,776 for ViT-L/14 at 224, 303,507,456 at 336; */
int64_t  vb_clip_param_count     (const VbClipConfig *cfg);
/* matrix-product multiply-adds per image through n_layers layers (§1.7): patch
 * embedding + n_layers·(4·N·D² + 2·N·D·F + 2·N²·D). cfg->layers for the whole tower
 * (81.0 G at 224), cfg->layers − 1 for LLaVA's path (77.6 G); */
int64_t  vb_clip_macs            (const VbClipConfig *cfg, int n_layers);
/* bytes of the work buffers a forward of `batch` images allocates (activations are not
 * kept across layers: forward only), excluding the input and the attention's per-thread
 * scratch of about (head dim + 4)·N floats; bf16: with the bf16 layers' buffers too (the
 * stream, LayerNorm, attention and q|k|v-or-MLP rows; not the bf16 weight copy). */
int64_t  vb_clip_activation_bytes (const VbClipConfig *cfg, int batch, gboolean bf16);

typedef struct {
  char    *name;
  int      ndim;
  int64_t  shape[4];
  int64_t  offset;      /* in floats, into the parameter buffer */
  int64_t  numel;
} VbClipTensorInfo;

typedef struct _VbClip VbClip;

/* Parameters start at zero ("no weights"): initialise or load them. */
VbClip     *vb_clip_new            (const VbClipConfig *cfg, GError **error);
void        vb_clip_free           (VbClip *model);
const VbClipConfig *vb_clip_config (VbClip *model);

int64_t     vb_clip_n_params       (VbClip *model);
guint       vb_clip_n_tensors      (VbClip *model);
const VbClipTensorInfo *vb_clip_tensor      (VbClip *model, guint i);
const VbClipTensorInfo *vb_clip_find_tensor (VbClip *model, const char *name);
float      *vb_clip_params         (VbClip *model);

/* Seeded random weights in the layout of Hugging Face's CLIP initialisation (normal
 * weights, zero biases, unit LayerNorms). */
void        vb_clip_init_random    (VbClip *model, uint64_t seed);
/* Copies every vision tensor by name. Every expected tensor must be present with its
 * shape; keys outside `vision_model.` (the text tower, logit_scale…) and
 * `*.position_ids` are ignored; any other `vision_model.` key is an error.
 * `visual_projection.weight` (P, D), when present, is kept (vb_clip_projection).
 * Errors (VB_ENGINE_ERROR_MISMATCH) name `source` and the tensor. */
gboolean    vb_clip_load_dict      (VbClip *model, VbTensorDict *dict, const char *source,
                                    GError **error);
/* vb_clip_load_dict on a safetensors file. */
gboolean    vb_clip_load_file      (VbClip *model, const char *path, GError **error);
/* A model shaped after a safetensors file (vb_clip_config_from_dict), with its weights. */
VbClip     *vb_clip_new_from_file  (const char *path, int heads, GError **error);
/* "random weights (seed 7)", "weights from /path/model.safetensors" or
 * "no weights (zeros)": every result that used the tower should say which. */
const char *vb_clip_weights_description (VbClip *model);
/* visual_projection.weight (rows × D) from the last loaded file, or NULL. */
const float *vb_clip_projection    (VbClip *model, int *rows);

/* What a forward writes; NULL members are not computed. */
typedef struct {
  float *features;    /* (B, G², D): hidden_states[-2] without the class token — LLaVA's
                       * projector input (§1.4) */
  float *last;        /* (B, N, D): last_hidden_state, no post-LN */
  float *pooled;      /* (B, D): post_layernorm of the last class token (pooler_output) */
} VbClipOutputs;

/* Runs the tower on B images. Only features asked: stops after layers − 1 layers, as
 * LLaVA does. Work buffers are kept for the next call with the same B. */
gboolean    vb_clip_forward        (VbClip *model, const float *pixels, int B,
                                    const VbClipOutputs *out, GError **error);
/* ---- backends ----
 * Every op runs on the model's backend: the CPU (the default and the reference) or a
 * GPU table from vb_device_ops. The host parameter buffer stays the master copy: a
 * forward first uploads it again when vb_clip_params, vb_clip_init_random or a load may
 * have changed it. vb_clip_forward and vb_clip_hidden_state keep taking and returning
 * host memory on every backend (the transfers are theirs). FALSE (the model stays where
 * it was) when the backend has no ViT ops or no room for the parameters. */
gboolean     vb_clip_use_backend   (VbClip *model, const VbOps *ops, GError **error);
const VbOps *vb_clip_backend       (VbClip *model);
/* bf16 storage (the GPU's bf16 precision; vb-clip-bf16.c): the layers' residual stream,
 * activations and product weights held in bf16 as a model cast to bf16 holds them, the
 * products on bf16 tensor cores, attention as one fused kernel; the embedding in fp32 and
 * the outputs widened to fp32. On the CPU it runs the reference ops (slowly: for tests).
 * FALSE with an error when the backend lacks the ops; off by default. */
gboolean     vb_clip_set_bf16      (VbClip *model, gboolean bf16, GError **error);
gboolean     vb_clip_bf16          (VbClip *model);
/* vb_clip_forward with the pixels and every output in the backend's memory (host memory
 * on the CPU): no transfers, for a device-resident forward and its timing. Waits for the
 * backend at the end, so queued failures are reported here. */
gboolean     vb_clip_forward_on_backend (VbClip *model, const float *pixels, int B,
                                         const VbClipOutputs *out, GError **error);

/* Called on the forward's thread as each stage ends (on a GPU after waiting for the
 * stage's work, so the gaps time the device): stage 0 = the embedding (patch
 * embedding, class and position embeddings, pre_layrnorm), stage l + 1 = layer l. The
 * gaps between calls time the stages (vb-clip-profile.h), so the forward is not copied
 * to be profiled. NULL (the default) turns it off. */
typedef void (*VbClipStageHook) (int stage, gpointer user_data);
void        vb_clip_set_stage_hook (VbClip *model, VbClipStageHook hook, gpointer user_data);

/* hidden_states[k] (B, N, D) for 0 ≤ k ≤ layers: 0 = after pre_layrnorm, k = after
 * layer k − 1 (for parity tests, layer by layer). */
gboolean    vb_clip_hidden_state   (VbClip *model, const float *pixels, int B, int k,
                                    float *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbClip, vb_clip_free)

G_END_DECLS
