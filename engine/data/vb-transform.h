/* vb-transform.h: the image transforms of ImageNet-style training, producing fp32
 * (out_size, out_size, 3) channel-last tensors.
 *   train: random resized crop (area scale in [scale_min, 1], aspect ratio in
 *          [3/4, 4/3], torchvision's 10-try algorithm and its centre fallback) resized to
 *          out_size, then a horizontal flip with p 0.5 when hflip;
 *   eval:  resize the shorter side to round(out_size / 0.875), centre crop out_size
 *          (offsets rounded down); an image already out_size×out_size is left as is.
 * Then grey is replicated to 3 channels, values are divided by 255 and normalised with
 * mean and std. Resampling is PIL-style separable bilinear (a triangle filter widened
 * when downscaling, i.e. antialiased), written in C so it is the same everywhere. */
#pragma once

#include "vb-dataset.h"
#include "vb-rng.h"

G_BEGIN_DECLS

typedef struct {
  int      out_size;
  gboolean train;
  float    scale_min;   /* random resized crop's smallest area fraction (0.08) */
  gboolean hflip;       /* train only */
  float    mean[3];
  float    std[3];
} VbTransformSpec;

/* ImageNet mean/std, scale_min 0.08, hflip TRUE. */
void     vb_transform_spec_init (VbTransformSpec *spec, int out_size, gboolean train);

/* out: out_size·out_size·3 floats. rng is used by train transforms only (may be NULL
 * for eval). FALSE with VB_ENGINE_ERROR_INVALID on an unusable spec or image. */
gboolean vb_transform_apply     (const VbTransformSpec *spec, const VbImage *img, VbRng *rng,
                                 float *out, GError **error);

/* Lower level, exposed for tests: resamples the source box (x0, y0, bw, bh) in pixel
 * units of img to out_w×out_h, writing floats in 0..255, HWC with img->channels. */
void     vb_resample_box        (const VbImage *img, double x0, double y0, double bw,
                                 double bh, int out_w, int out_h, float *out);

G_END_DECLS
