/* vb-clip-preprocess.h: CLIP's image preprocessing (clip-projectors.md §1.5), GTK-free:
 * RGB, resize the short side to S with Pillow's bicubic, centre crop S×S, scale by 1/255,
 * normalise with the CLIP mean and std, CHW float32 — what CLIPImageProcessor feeds
 * both ViT-L/14 checkpoints. LLaVA-1.5 first pads to a square (`image_aspect_ratio =
 * pad`). */
#pragma once

#include "vb-dataset.h"

G_BEGIN_DECLS

extern const float vb_clip_mean[3];   /* 0.48145466, 0.4578275, 0.40821073 */
extern const float vb_clip_std[3];    /* 0.26862954, 0.26130258, 0.27577711 */

/* Pillow's Image.resize (…, BICUBIC) of an 8-bit image, bit for bit: cubic convolution
 * with a = −0.5 whose support widens by the scale factor when shrinking (antialiased),
 * 22-bit fixed-point weights, a horizontal then a vertical pass each rounded and
 * clamped to 0…255; an axis whose size does not change is not resampled. `out` gets
 * in's channel count and newly allocated pixels (clear it first). */
gboolean vb_clip_resize_bicubic (const VbImage *in, int out_w, int out_h, VbImage *out,
                                 GError **error);

/* LLaVA-1.5's expand2square: an RGB square of the long side, the image centred (offset
 * rounded down), background floor(255·mean) = (122, 116, 104). Grey is made RGB. */
gboolean vb_clip_pad_to_square  (const VbImage *in, VbImage *out, GError **error);

/* The whole pipeline at side `size` (224 or 336 for the real towers); pad_square first
 * applies vb_clip_pad_to_square. out: (3, size, size) floats. Grey images are
 * replicated to three channels. FALSE (VB_ENGINE_ERROR_INVALID) on an empty image or
 * a bad size. */
gboolean vb_clip_preprocess     (const VbImage *img, int size, gboolean pad_square,
                                 float *out, GError **error);

G_END_DECLS
