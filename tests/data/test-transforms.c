/* Transforms: exact centre crops of known images, identity at the output size,
 * antialiased downscaling, normalisation, grey to three channels, flips and the
 * determinism of random resized crops. */
#include "config.h"

#include "vb-transform.h"
#include "vb-error.h"

#include <math.h>
#include <string.h>

static VbImage
make_image (int w, int h, int ch, guint8 (*f) (int y, int x, int c))
{
  VbImage img = { w, h, ch, g_malloc ((gsize) w * h * ch) };

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        img.pixels[(y * w + x) * ch + c] = f (y, x, c);
  return img;
}

static guint8
gradient (int y, int x, int c)
{
  return (guint8) (x * 20 + y * 3 + c * 50);
}

static guint8
hgradient (int y, int x, int c)
{
  return (guint8) (x * 10);
}

static guint8
constant (int y, int x, int c)
{
  return (guint8) (60 + 40 * c);
}

static void
spec_identity (VbTransformSpec *spec, int size, gboolean train)
{
  vb_transform_spec_init (spec, size, train);
  for (int c = 0; c < 3; c++)
    {
      spec->mean[c] = 0.0f;
      spec->std[c] = 1.0f / 255.0f;   /* output = pixel value */
    }
}

static void
test_center_crop (void)
{
  /* 12×10, out 9: shorter side → round(9 / 0.875) = 10 (unchanged), so the crop is
   * rows 0..8 and columns 1..9 of the source, copied exactly */
  g_auto(VbImage) img = make_image (12, 10, 3, gradient);
  VbTransformSpec spec;
  float out[9 * 9 * 3];
  g_autoptr(GError) error = NULL;

  spec_identity (&spec, 9, FALSE);
  g_assert_true (vb_transform_apply (&spec, &img, NULL, out, &error));
  g_assert_no_error (error);
  for (int y = 0; y < 9; y++)
    for (int x = 0; x < 9; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (out[(y * 9 + x) * 3 + c], gradient (y, x + 1, c), 1e-3);
}

static void
test_identity_at_size (void)
{
  g_auto(VbImage) img = make_image (7, 7, 3, gradient);
  VbTransformSpec spec;
  float out[7 * 7 * 3];

  spec_identity (&spec, 7, FALSE);
  g_assert_true (vb_transform_apply (&spec, &img, NULL, out, NULL));
  for (int i = 0; i < 7 * 7 * 3; i++)
    g_assert_cmpfloat_with_epsilon (out[i], img.pixels[i], 1e-3);
}

static void
test_downscale (void)
{
  /* halving a linear ramp with the widened triangle filter gives the mean of the
   * 4 nearest source pixels weighted 1:3:3:1, i.e. the ramp at the box centre */
  g_auto(VbImage) img = make_image (16, 4, 1, hgradient);
  g_auto(VbImage) flat = make_image (37, 23, 3, constant);
  float out[8 * 2];
  float out_flat[9 * 9 * 3];
  VbTransformSpec spec;

  vb_resample_box (&img, 0, 0, 16, 4, 8, 2, out);
  for (int x = 1; x < 7; x++)
    g_assert_cmpfloat_with_epsilon (out[x], (2 * x + 0.5) * 10, 1e-3);
  /* eval on a non-square image: resize then crop keeps a flat colour flat */
  spec_identity (&spec, 9, FALSE);
  g_assert_true (vb_transform_apply (&spec, &flat, NULL, out_flat, NULL));
  for (int i = 0; i < 9 * 9; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (out_flat[i * 3 + c], 60 + 40 * c, 1e-3);
}

static void
test_normalize_and_grey (void)
{
  g_auto(VbImage) grey = make_image (4, 4, 1, hgradient);
  VbTransformSpec spec;
  float out[4 * 4 * 3];

  vb_transform_spec_init (&spec, 4, FALSE);
  g_assert_cmpfloat (spec.mean[0], ==, 0.485f);
  g_assert_cmpfloat (spec.std[2], ==, 0.225f);
  g_assert_true (vb_transform_apply (&spec, &grey, NULL, out, NULL));
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++)
        {
          float want = (x * 10 / 255.0f - spec.mean[c]) / spec.std[c];
          g_assert_cmpfloat_with_epsilon (out[(y * 4 + x) * 3 + c], want, 1e-5);
        }
  /* white in channel 0 */
  grey.pixels[0] = 255;
  g_assert_true (vb_transform_apply (&spec, &grey, NULL, out, NULL));
  g_assert_cmpfloat_with_epsilon (out[0], (1.0f - 0.485f) / 0.229f, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[2], (1.0f - 0.406f) / 0.225f, 1e-5);
}

static void
test_flip (void)
{
  /* scale 1 on a square image: the crop is the whole image, so the output is the image
   * or its mirror */
  g_auto(VbImage) img = make_image (8, 8, 3, gradient);
  VbTransformSpec spec;
  float out[8 * 8 * 3];
  int flips = 0, plain = 0;

  spec_identity (&spec, 8, TRUE);
  spec.scale_min = 1.0f;
  for (guint64 seed = 0; seed < 40; seed++)
    {
      VbRng rng;
      gboolean is_plain = TRUE, is_flip = TRUE;

      vb_rng_init (&rng, seed);
      g_assert_true (vb_transform_apply (&spec, &img, &rng, out, NULL));
      for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
          for (int c = 0; c < 3; c++)
            {
              float v = out[(y * 8 + x) * 3 + c];
              is_plain &= fabsf (v - gradient (y, x, c)) < 1e-3f;
              is_flip &= fabsf (v - gradient (y, 7 - x, c)) < 1e-3f;
            }
      g_assert_true (is_plain || is_flip);
      plain += is_plain;
      flips += is_flip;
    }
  g_assert_cmpint (plain, >, 5);
  g_assert_cmpint (flips, >, 5);

  /* no flips when hflip is off */
  spec.hflip = FALSE;
  for (guint64 seed = 0; seed < 20; seed++)
    {
      VbRng rng;
      vb_rng_init (&rng, seed);
      g_assert_true (vb_transform_apply (&spec, &img, &rng, out, NULL));
      g_assert_cmpfloat_with_epsilon (out[0], gradient (0, 0, 0), 1e-3);
    }
}

static void
test_random_resized_crop (void)
{
  g_auto(VbImage) img = make_image (40, 30, 3, gradient);
  VbTransformSpec spec;
  float a[16 * 16 * 3], b[16 * 16 * 3], c[16 * 16 * 3];
  VbRng r1, r2, r3;

  vb_transform_spec_init (&spec, 16, TRUE);
  vb_rng_init (&r1, 7);
  vb_rng_init (&r2, 7);
  vb_rng_init (&r3, 8);
  g_assert_true (vb_transform_apply (&spec, &img, &r1, a, NULL));
  g_assert_true (vb_transform_apply (&spec, &img, &r2, b, NULL));
  g_assert_true (vb_transform_apply (&spec, &img, &r3, c, NULL));
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  g_assert_true (memcmp (a, c, sizeof a) != 0);
  for (int i = 0; i < 16 * 16 * 3; i++)
    g_assert_true (isfinite (a[i]));
}

static void
test_invalid (void)
{
  VbImage empty = { 0 };
  VbTransformSpec spec;
  float out[4 * 4 * 3];
  g_autoptr(GError) error = NULL;

  vb_transform_spec_init (&spec, 4, FALSE);
  g_assert_false (vb_transform_apply (&spec, &empty, NULL, out, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/data/transform/center-crop", test_center_crop);
  g_test_add_func ("/vb/data/transform/identity-at-size", test_identity_at_size);
  g_test_add_func ("/vb/data/transform/downscale", test_downscale);
  g_test_add_func ("/vb/data/transform/normalize-grey", test_normalize_and_grey);
  g_test_add_func ("/vb/data/transform/flip", test_flip);
  g_test_add_func ("/vb/data/transform/random-resized-crop", test_random_resized_crop);
  g_test_add_func ("/vb/data/transform/invalid", test_invalid);
  return g_test_run ();
}
