/* The CLIP vision tower against the PyTorch reference (tests/reference/clip_ref.py):
 * hidden states, LLaVA features and pooled output of a tiny tower, the ViT-L/14 counts
 * of clip-projectors.md §1.2 and §1.7, weight-file errors, the preprocessing, and
 * results that do not depend on the thread count. */
#include "config.h"

#include <math.h>
#include <glib/gstdio.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vb-clip.h"
#include "vb-clip-preprocess.h"
#include "vb-cpu-vit.h"
#include "vb-error.h"
#include "vb-safetensors.h"
#include "vb-test-util.h"

static int
meta_int (VbTensorDict *fx, const char *key)
{
  const char *v = g_hash_table_lookup (vb_tensor_dict_metadata (fx), key);
  g_assert_nonnull (v);
  return atoi (v);
}

static VbTensorDict *
load_fixture (void)
{
  g_autofree char *path = vb_test_fixture_path ("clip", "tiny.safetensors");
  g_autoptr (GError) error = NULL;
  VbTensorDict *fx = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  return fx;
}

/* the pattern of clip_ref.synthetic_image */
static void
synthetic_image (VbImage *img, int width, int height, int channels, int salt)
{
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->pixels = g_new (guint8, (gsize) width * height * channels);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < channels; c++)
        img->pixels[((gsize) y * width + x) * channels + c] =
          (guint8) ((x * 7 + y * 3 + c * 50 + salt * 11 + ((x * y + c + salt) % 13) * 9) % 256);
}

/* ---- counts ------------------------------------------------------------------------ */

static void
test_vit_l14_counts (void)
{
  VbClipConfig cfg;
  vb_clip_config_vit_l14 (&cfg, 224);
  g_assert_cmpint (vb_clip_config_tokens (&cfg), ==, 257);
  g_assert_cmpint (vb_clip_param_count (&cfg), ==, 303179776);
  g_assert_cmpint (vb_clip_macs (&cfg, 24), ==, 81011982336);
  g_assert_cmpint (vb_clip_macs (&cfg, 23), ==, 77642905600);
  /* h, ln, attn (N·D each), q|k|v or MLP hidden (N·F), one image's patches, LN stats */
  g_assert_cmpint (vb_clip_activation_bytes (&cfg, 1, FALSE), ==,
                   (257 * (3 * 1024 + 4096) + 256 * 588 + 2 * 257) * 4);
  /* bf16 storage adds the stream, LayerNorm and attention rows and q|k|v-or-MLP hidden */
  g_assert_cmpint (vb_clip_activation_bytes (&cfg, 1, TRUE), ==,
                   (257 * (3 * 1024 + 4096) + 256 * 588 + 2 * 257) * 4
                   + 257 * (3 * 1024 + 4096) * 2);

  /* the instantiated table: 391 tensors, the spec's count (zero pages, never touched) */
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) model = vb_clip_new (&cfg, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vb_clip_n_params (model), ==, 303179776);
  g_assert_cmpuint (vb_clip_n_tensors (model), ==, 391);
  const VbClipTensorInfo *pos =
    vb_clip_find_tensor (model, "vision_model.embeddings.position_embedding.weight");
  g_assert_cmpint (pos->shape[0], ==, 257);
  g_assert_cmpstr (vb_clip_weights_description (model), ==, "no weights (zeros)");

  vb_clip_config_vit_l14 (&cfg, 336);
  g_assert_cmpint (vb_clip_config_tokens (&cfg), ==, 577);
  g_assert_cmpint (vb_clip_param_count (&cfg), ==, 303507456);
  g_assert_cmpint (vb_clip_macs (&cfg, 24), ==, 190959108096);
  g_assert_cmpint (vb_clip_macs (&cfg, 23), ==, 183016929280);

  cfg.image_size = 230;
  g_assert_false (vb_clip_config_validate (&cfg, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
}

/* ---- parity -------------------------------------------------------------------------- */

static void
check (const char *what, const float *got, VbTensorEntry *want)
{
  double e = vb_test_rel_error (got, want->data, want->numel);
  g_test_message ("%s: rel err %.2e", what, e);
  g_assert_cmpfloat (e, <, 1e-4);
}

/* the tower of the fixture's weight file: shaped after the file; the head count is the one
 * thing shapes cannot tell */
static VbClip *
fixture_model (VbTensorDict *fx)
{
  g_autofree char *path = vb_test_fixture_path ("clip", "tiny.safetensors");
  g_autoptr (GError) error = NULL;
  VbClip *model = vb_clip_new_from_file (path, meta_int (fx, "heads"), &error);
  g_assert_no_error (error);
  return model;
}

static void
test_parity (void)
{
  g_autoptr (VbTensorDict) fx = load_fixture ();
  g_autofree char *path = vb_test_fixture_path ("clip", "tiny.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) model = fixture_model (fx);
  const VbClipConfig *cfg = vb_clip_config (model);
  g_assert_cmpint (cfg->image_size, ==, meta_int (fx, "image_size"));
  g_assert_cmpint (cfg->patch_size, ==, meta_int (fx, "patch_size"));
  g_assert_cmpint (cfg->width, ==, meta_int (fx, "width"));
  g_assert_cmpint (cfg->layers, ==, meta_int (fx, "layers"));
  g_assert_cmpint (cfg->mlp, ==, meta_int (fx, "mlp"));
  g_assert_cmpint (vb_clip_n_params (model), ==, meta_int (fx, "params"));
  g_assert_cmpint (vb_clip_param_count (cfg), ==, meta_int (fx, "params"));
  g_autofree char *desc = g_strdup_printf ("weights from %s", path);
  g_assert_cmpstr (vb_clip_weights_description (model), ==, desc);
  int rows = 0;
  g_assert_nonnull (vb_clip_projection (model, &rows));
  g_assert_cmpint (rows, ==, 16);

  VbTensorEntry *px = vb_tensor_dict_lookup (fx, "pixel_values");
  int B = (int) px->shape[0], D = cfg->width, N = vb_clip_config_tokens (cfg);
  g_autofree float *h = g_new (float, (gsize) B * N * D);
  for (int k = 0; k <= cfg->layers; k++)
    {
      g_autofree char *name = g_strdup_printf ("hidden_states.%d", k);
      g_assert_true (vb_clip_hidden_state (model, px->data, B, k, h, &error));
      g_assert_no_error (error);
      check (name, h, vb_tensor_dict_lookup (fx, name));
    }
  g_assert_false (vb_clip_hidden_state (model, px->data, B, cfg->layers + 1, h, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  g_autofree float *features = g_new (float, (gsize) B * (N - 1) * D);
  g_autofree float *last = g_new (float, (gsize) B * N * D);
  g_autofree float *pooled = g_new (float, (gsize) B * D);
  VbClipOutputs all = { features, last, pooled };
  g_assert_true (vb_clip_forward (model, px->data, B, &all, &error));
  g_assert_no_error (error);
  check ("features", features, vb_tensor_dict_lookup (fx, "features"));
  check ("last", last, vb_tensor_dict_lookup (fx, "hidden_states.2"));
  check ("pooled", pooled, vb_tensor_dict_lookup (fx, "pooled"));

  /* LLaVA's path stops a layer early and gives the same features, bit for bit */
  g_autofree float *features2 = g_new (float, (gsize) B * (N - 1) * D);
  VbClipOutputs llava = { features2, NULL, NULL };
  g_assert_true (vb_clip_forward (model, px->data, B, &llava, &error));
  g_assert_cmpmem (features, B * (N - 1) * D * sizeof (float),
                   features2, B * (N - 1) * D * sizeof (float));

  /* one image alone gives the first image's answer */
  g_assert_true (vb_clip_forward (model, px->data, 1, &llava, &error));
  double e = vb_test_rel_error (features2, features, (int64_t) (N - 1) * D);
  g_assert_cmpfloat (e, <, 1e-6);
}

/* The layers in bf16 storage (the GPU's bf16 path, here on the CPU's reference ops) against
 * PyTorch's fp32 states: within bf16's reach, yet not the fp32 path (every state a bf16
 * value, and not within fp32's bound); fp32 storage again gives the fixture's states. */
static void
test_bf16_storage (void)
{
  g_autoptr (VbTensorDict) fx = load_fixture ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) model = fixture_model (fx);
  const VbClipConfig *cfg = vb_clip_config (model);
  g_assert_false (vb_clip_bf16 (model));
  g_assert_true (vb_clip_set_bf16 (model, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (vb_clip_bf16 (model));

  VbTensorEntry *px = vb_tensor_dict_lookup (fx, "pixel_values");
  int B = (int) px->shape[0], D = cfg->width, N = vb_clip_config_tokens (cfg);
  int64_t n = (int64_t) B * N * D;
  g_autofree float *h = g_new (float, n);
  for (int k = 1; k <= cfg->layers; k++)
    {
      g_autofree char *name = g_strdup_printf ("hidden_states.%d", k);
      g_assert_true (vb_clip_hidden_state (model, px->data, B, k, h, &error));
      g_assert_no_error (error);
      double e = vb_test_rel_error (h, vb_tensor_dict_lookup (fx, name)->data, n);
      g_test_message ("bf16 storage: %s relative error %.3g against PyTorch fp32", name, e);
      g_assert_cmpfloat (e, <, 2e-2);
      g_assert_cmpfloat (e, >, 1e-4);
      for (int64_t i = 0; i < n; i++)
        g_assert_cmpfloat (h[i], ==, vb_bf16_to_float (vb_bf16_from_float (h[i])));
    }
  g_autofree float *features = g_new (float, (gsize) B * (N - 1) * D);
  g_autofree float *pooled = g_new (float, (gsize) B * D);
  VbClipOutputs out = { features, NULL, pooled };
  g_assert_true (vb_clip_forward (model, px->data, B, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (vb_test_rel_error (features, vb_tensor_dict_lookup (fx, "features")->data,
                                        (int64_t) B * (N - 1) * D), <, 2e-2);
  g_assert_cmpfloat (vb_test_rel_error (pooled, vb_tensor_dict_lookup (fx, "pooled")->data,
                                        (int64_t) B * D), <, 2e-2);

  g_assert_true (vb_clip_set_bf16 (model, FALSE, &error));
  g_assert_true (vb_clip_forward (model, px->data, B, &out, &error));
  g_assert_no_error (error);
  check ("features, fp32 storage again", features, vb_tensor_dict_lookup (fx, "features"));
}

/* A backend without the bf16 ops (here the CPU's table less its bf16 conversion): a tower
 * in bf16 storage refuses to move onto it, and on it refuses bf16 storage, each with a
 * message naming the backend; the refusals change nothing, and fp32 runs there as on the
 * CPU, bit for bit. */
static void
test_bf16_refused (void)
{
  g_autoptr (VbTensorDict) fx = load_fixture ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) model = fixture_model (fx);
  const VbClipConfig *cfg = vb_clip_config (model);
  VbOps no_bf16 = *vb_cpu_ops ();
  no_bf16.name = "cpu-without-bf16";
  no_bf16.to_bf16 = NULL;

  g_assert_true (vb_clip_set_bf16 (model, TRUE, &error));
  g_assert_false (vb_clip_use_backend (model, &no_bf16, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "cpu-without-bf16"));
  g_clear_error (&error);
  g_assert_true (vb_clip_backend (model) == vb_cpu_ops ());
  g_assert_true (vb_clip_bf16 (model));

  g_assert_true (vb_clip_set_bf16 (model, FALSE, &error));
  g_assert_true (vb_clip_use_backend (model, &no_bf16, &error));
  g_assert_no_error (error);
  g_assert_false (vb_clip_set_bf16 (model, TRUE, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "cpu-without-bf16"));
  g_clear_error (&error);
  g_assert_false (vb_clip_bf16 (model));

  VbTensorEntry *px = vb_tensor_dict_lookup (fx, "pixel_values");
  int B = (int) px->shape[0], D = cfg->width, N = vb_clip_config_tokens (cfg);
  gsize n = (gsize) B * (N - 1) * D;
  g_autofree float *there = g_new (float, n), *here = g_new (float, n);
  VbClipOutputs out = { there, NULL, NULL };
  g_assert_true (vb_clip_forward (model, px->data, B, &out, &error));
  g_assert_no_error (error);
  g_assert_true (vb_clip_use_backend (model, vb_cpu_ops (), &error));
  out.features = here;
  g_assert_true (vb_clip_forward (model, px->data, B, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (there, n * sizeof (float), here, n * sizeof (float));
}

/* ---- weight files ---------------------------------------------------------------------- */

static VbTensorDict *
copy_dict_except (VbTensorDict *src, const char *skip)
{
  VbTensorDict *dst = vb_tensor_dict_new ();
  for (guint t = 0; t < vb_tensor_dict_size (src); t++)
    {
      VbTensorEntry *e = vb_tensor_dict_index (src, t);
      if (g_strcmp0 (e->name, skip) != 0)
        vb_tensor_dict_add_copy (dst, e->name, e->ndim, e->shape, e->data);
    }
  return dst;
}

static void
expect_load_error (VbClip *model, VbTensorDict *dict, const char *source, int code,
                   const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_clip_load_dict (model, dict, source, &error));
  g_assert_error (error, VB_ENGINE_ERROR, code);
  g_test_message ("%s", error->message);
  for (int i = 0; fragments[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, fragments[i]));
}

static void
test_weight_errors (void)
{
  g_autoptr (VbTensorDict) fx = load_fixture ();
  g_autoptr (GError) error = NULL;
  VbClipConfig cfg;
  g_assert_true (vb_clip_config_from_dict (fx, 3, &cfg, "fixture", &error));
  g_assert_no_error (error);
  g_autoptr (VbClip) model = vb_clip_new (&cfg, &error);
  vb_clip_init_random (model, 7);
  g_assert_cmpstr (vb_clip_weights_description (model), ==, "random weights (seed 7)");
  float before = vb_clip_params (model)[0];

  /* position_ids (I64) is skipped by the reader; text tower and logit_scale ignored */
  g_assert_nonnull (vb_tensor_dict_lookup (fx, "logit_scale"));
  g_assert_true (vb_clip_load_dict (model, fx, "fixture", &error));
  g_assert_no_error (error);

  const char *fc1 = "vision_model.encoder.layers.1.mlp.fc1.weight";
  g_autoptr (VbTensorDict) missing = copy_dict_except (fx, fc1);
  expect_load_error (model, missing, "a.safetensors", VB_ENGINE_ERROR_MISMATCH,
                     (const char *[]) { "a.safetensors", "1 missing tensor", fc1, NULL });

  g_autoptr (VbTensorDict) wrong = copy_dict_except (fx, fc1);
  int64_t bad_shape[2] = { 95, 24 };
  vb_tensor_dict_add (wrong, fc1, 2, bad_shape);
  expect_load_error (model, wrong, "b.safetensors", VB_ENGINE_ERROR_MISMATCH,
                     (const char *[]) { "b.safetensors", fc1, "(95, 24)", "(96, 24)", NULL });

  g_autoptr (VbTensorDict) extra = copy_dict_except (fx, NULL);
  int64_t shape[1] = { 24 };
  vb_tensor_dict_add (extra, "text_model.final_layer_norm.weight", 1, shape);
  g_assert_true (vb_clip_load_dict (model, extra, "c.safetensors", &error));
  g_assert_no_error (error);
  vb_tensor_dict_add (extra, "vision_model.encoder.layers.2.layer_norm1.weight", 1, shape);
  expect_load_error (model, extra, "c.safetensors", VB_ENGINE_ERROR_MISMATCH,
                     (const char *[]) { "c.safetensors", "1 unexpected",
                                        "vision_model.encoder.layers.2.layer_norm1.weight",
                                        NULL });

  g_autoptr (VbTensorDict) proj = copy_dict_except (fx, "visual_projection.weight");
  int64_t proj_shape[2] = { 16, 23 };
  vb_tensor_dict_add (proj, "visual_projection.weight", 2, proj_shape);
  expect_load_error (model, proj, "d.safetensors", VB_ENGINE_ERROR_MISMATCH,
                     (const char *[]) { "d.safetensors", "visual_projection.weight", NULL });

  /* through a real file: the message names it */
  g_autofree char *dir = g_dir_make_tmp ("vb-clip-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *file = g_build_filename (dir, "broken.safetensors", NULL);
  g_assert_true (vb_safetensors_save (file, missing, NULL, &error));
  g_assert_no_error (error);
  vb_clip_init_random (model, 7);
  g_assert_false (vb_clip_load_file (model, file, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, file));
  g_assert_nonnull (strstr (error->message, fc1));
  g_clear_error (&error);
  /* a failed load leaves the weights and their description alone */
  g_assert_cmpfloat (vb_clip_params (model)[0], ==, before);
  g_assert_cmpstr (vb_clip_weights_description (model), ==, "random weights (seed 7)");
  g_assert_null (vb_clip_new_from_file (file, 3, &error));
  g_assert_nonnull (strstr (error->message, fc1));
  g_clear_error (&error);
  g_remove (file);
  g_rmdir (dir);

  /* not a CLIP file at all */
  g_autoptr (VbTensorDict) other = copy_dict_except (fx,
                                                     "vision_model.embeddings.patch_embedding.weight");
  g_assert_false (vb_clip_config_from_dict (other, 0, &cfg, "e.safetensors", &error));
  g_assert_nonnull (strstr (error->message, "vision_model.embeddings.patch_embedding.weight"));
}

/* ---- preprocessing ------------------------------------------------------------------- */

static void
check_preprocess (const float *got, const float *want, int64_t n, const char *what)
{
  double worst = 0;
  for (int64_t i = 0; i < n; i++)
    worst = MAX (worst, fabs ((double) got[i] - want[i]));
  g_test_message ("%s: max |difference| %.2e", what, worst);
  /* one 8-bit step is ≥ 0.014 after normalisation: this means identical pixels */
  g_assert_cmpfloat (worst, <=, 1e-6);
}

static void
test_preprocess (void)
{
  g_autoptr (VbTensorDict) fx = load_fixture ();
  g_autoptr (GError) error = NULL;
  GHashTable *meta = vb_tensor_dict_metadata (fx);
  int S = meta_int (fx, "image_size");
  VbTensorEntry *px = vb_tensor_dict_lookup (fx, "pixel_values");
  g_auto (GStrv) specs = g_strsplit (g_hash_table_lookup (meta, "images"), ";", -1);
  g_autofree float *out = g_new (float, 3 * S * S);

  g_assert_cmpint (g_strv_length (specs), ==, px->shape[0]);
  for (int i = 0; specs[i] != NULL; i++)
    {
      int w, hgt, c, salt;
      g_assert_cmpint (sscanf (specs[i], "%d,%d,%d,%d", &w, &hgt, &c, &salt), ==, 4);
      g_auto (VbImage) img = { 0 };
      synthetic_image (&img, w, hgt, c, salt);
      g_assert_true (vb_clip_preprocess (&img, S, FALSE, out, &error));
      g_assert_no_error (error);
      check_preprocess (out, px->data + (int64_t) i * 3 * S * S, 3 * S * S, specs[i]);
    }

  int w, hgt, c, salt, P = meta_int (fx, "pad_size");
  g_assert_cmpint (sscanf (g_hash_table_lookup (meta, "pad_image"), "%d,%d,%d,%d",
                           &w, &hgt, &c, &salt), ==, 4);
  g_auto (VbImage) img = { 0 };
  synthetic_image (&img, w, hgt, c, salt);
  g_autofree float *pad = g_new (float, 3 * P * P);
  g_assert_true (vb_clip_preprocess (&img, P, TRUE, pad, &error));
  check_preprocess (pad, vb_tensor_dict_lookup (fx, "preprocess.pad")->data, 3 * P * P,
                    "pad to square");

  /* the padded square's border is LLaVA's background, (122, 116, 104) */
  g_auto (VbImage) sq = { 0 };
  g_assert_true (vb_clip_pad_to_square (&img, &sq, &error));
  g_assert_cmpint (sq.width, ==, 19);
  g_assert_cmpint (sq.pixels[0], ==, 122);
  g_assert_cmpint (sq.pixels[1], ==, 116);
  g_assert_cmpint (sq.pixels[2], ==, 104);

  /* same size: a copy; a flat image stays flat both ways */
  g_auto (VbImage) same = { 0 };
  g_assert_true (vb_clip_resize_bicubic (&img, w, hgt, &same, &error));
  g_assert_cmpmem (same.pixels, w * hgt * c, img.pixels, w * hgt * c);
  memset (img.pixels, 77, (gsize) w * hgt * c);
  for (int size = 5; size <= 60; size += 55)
    {
      g_auto (VbImage) r = { 0 };
      g_assert_true (vb_clip_resize_bicubic (&img, size, size + 1, &r, &error));
      for (int i = 0; i < r.width * r.height * r.channels; i++)
        g_assert_cmpint (r.pixels[i], ==, 77);
    }

  g_auto (VbImage) empty = { 0 };
  g_assert_false (vb_clip_preprocess (&empty, S, FALSE, out, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
}

/* ---- kernels ------------------------------------------------------------------------- */

/* the attention kernel against plain double loops, on both of its product paths (head
 * dim a multiple of its 16-wide blocks or not) and token counts off the block sizes */
static void
test_attention_kernel (void)
{
  static const int shapes[][4] = {   /* B, N, heads, head_dim */
    { 2, 5, 3, 8 }, { 1, 37, 2, 16 }, { 2, 70, 2, 64 }, { 1, 1, 1, 4 },
  };
  for (guint t = 0; t < G_N_ELEMENTS (shapes); t++)
    {
      int B = shapes[t][0], N = shapes[t][1], H = shapes[t][2], dh = shapes[t][3];
      int D = H * dh;
      float scale = 1.0f / sqrtf ((float) dh);
      g_autofree float *qkv = g_new (float, (gsize) B * N * 3 * D);
      g_autofree float *out = g_new (float, (gsize) B * N * D);
      g_autofree float *want = g_new (float, (gsize) B * N * D);
      g_autofree double *p = g_new (double, N);
      for (int64_t i = 0; i < (int64_t) B * N * 3 * D; i++)
        qkv[i] = 2.0f * sinf (0.7f * i + t);
      for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
          for (int i = 0; i < N; i++)
            {
              const float *q = qkv + ((int64_t) b * N + i) * 3 * D + h * dh;
              double mx = -INFINITY, sum = 0;
              for (int j = 0; j < N; j++)
                {
                  const float *k = qkv + ((int64_t) b * N + j) * 3 * D + D + h * dh;
                  double dot = 0;
                  for (int d = 0; d < dh; d++)
                    dot += (double) q[d] * k[d];
                  p[j] = dot * scale;
                  mx = MAX (mx, p[j]);
                }
              for (int j = 0; j < N; j++)
                sum += (p[j] = exp (p[j] - mx));
              for (int d = 0; d < dh; d++)
                {
                  double o = 0;
                  for (int j = 0; j < N; j++)
                    o += p[j] / sum * qkv[((int64_t) b * N + j) * 3 * D + 2 * D + h * dh + d];
                  want[((int64_t) b * N + i) * D + h * dh + d] = (float) o;
                }
            }
      g_assert_cmpint (vb_attention_forward (out, qkv, B, N, H, dh, scale), ==, 0);
      double e = vb_test_rel_error (out, want, (int64_t) B * N * D);
      g_test_message ("attention B %d N %d heads %d dim %d: rel err %.2e", B, N, H, dh, e);
      g_assert_cmpfloat (e, <, 1e-5);
    }

  float x[] = { -30.0f, -2.0f, -0.5f, 0.0f, 0.25f, 1.0f, 3.0f, 100.0f }, y[8];
  vb_quick_gelu_forward (y, x, 8);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat_with_epsilon (y[i], x[i] / (1.0 + exp (-1.702 * x[i])), 1e-6);
}

/* ---- threads ------------------------------------------------------------------------- */

static void
test_thread_determinism (void)
{
  /* big enough that every kernel takes its parallel path (attention: 16 tasks) */
  VbClipConfig cfg;
  vb_clip_config_small (&cfg, 112, 64, 2, 4);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbClip) model = vb_clip_new (&cfg, &error);
  g_assert_no_error (error);
  vb_clip_init_random (model, 11);
  int B = 2, D = cfg.width, N = vb_clip_config_tokens (&cfg);
  int64_t n_px = (int64_t) B * 3 * cfg.image_size * cfg.image_size;
  g_autofree float *px = g_new (float, n_px);
  for (int64_t i = 0; i < n_px; i++)
    px[i] = sinf (0.37f * i) * 1.5f;

  g_autofree float *ref_last = g_new (float, (gsize) B * N * D);
  g_autofree float *ref_pooled = g_new (float, (gsize) B * D);
  g_autofree float *last = g_new (float, (gsize) B * N * D);
  g_autofree float *pooled = g_new (float, (gsize) B * D);
  int saved = omp_get_max_threads ();
  for (int threads = 1; threads <= 4; threads++)
    {
      VbClipOutputs out = { NULL, threads == 1 ? ref_last : last,
                            threads == 1 ? ref_pooled : pooled };
      omp_set_num_threads (threads);
      g_assert_true (vb_clip_forward (model, px, B, &out, &error));
      g_assert_no_error (error);
      if (threads > 1)
        {
          g_assert_cmpmem (last, B * N * D * sizeof (float), ref_last, B * N * D * sizeof (float));
          g_assert_cmpmem (pooled, B * D * sizeof (float), ref_pooled, B * D * sizeof (float));
        }
    }
  omp_set_num_threads (saved);
  /* random weights at Hugging Face's scale give finite, non-trivial activations */
  double ss = 0;
  for (int64_t i = 0; i < (int64_t) B * D; i++)
    {
      g_assert_true (isfinite (ref_pooled[i]));
      ss += ref_pooled[i] * ref_pooled[i];
    }
  g_assert_cmpfloat (ss, >, 1.0);
}

/* vb_linear_b16's epilogues on the CPU (the reference the GPU's fused kernels are checked
 * against): each output against its own double-precision sum of the widened operands, the
 * bias, and the epilogue written out here — stored, added onto out, quick GELU x·σ(1.702x),
 * and the gate v·σ(g) with value row 16q + i and gate row 16q + 8 + i — within one bf16 step
 * (the fp32 sums round differently from double now and then); a wrong constant, row or
 * column moves outputs by many steps. Epilogues it does not know, and a gate on widths not
 * a multiple of 16, are refused. */
static void
test_linear_b16_epilogues (void)
{
  const int n = 5, in_f = 24, out_f = 32;
  GRand *rng = g_rand_new_with_seed (31);
  VbBf16 in[5 * 24], w[32 * 24], b[32], out0[5 * 32], got[5 * 32];
  for (int i = 0; i < n * in_f; i++)
    in[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, -2, 2));
  for (int i = 0; i < out_f * in_f; i++)
    w[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, -0.5, 0.5));
  for (int i = 0; i < out_f; i++)
    b[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, -1, 1));
  for (int i = 0; i < n * out_f; i++)
    out0[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, -1, 1));
  g_rand_free (rng);
  for (int epi = VB_LINEAR_B16_STORE; epi <= VB_LINEAR_B16_GATE; epi++)
    {
      int cols = epi == VB_LINEAR_B16_GATE ? out_f / 2 : out_f;
      memcpy (got, out0, sizeof got);
      g_assert_cmpint (vb_linear_b16 (got, in, w, b, n, in_f, out_f, epi), ==, 0);
      int differ = 0;
      for (int r = 0; r < n; r++)
        for (int c = 0; c < cols; c++)
          {
            int row = epi == VB_LINEAR_B16_GATE ? c / 8 * 16 + c % 8 : c;
            double p[2] = { 0.0, 0.0 };
            for (int h = 0; h < (epi == VB_LINEAR_B16_GATE ? 2 : 1); h++)
              {
                p[h] = vb_bf16_to_float (b[row + 8 * h]);
                for (int k = 0; k < in_f; k++)
                  p[h] += (double) vb_bf16_to_float (in[r * in_f + k])
                          * vb_bf16_to_float (w[(row + 8 * h) * in_f + k]);
              }
            double want = p[0];
            if (epi == VB_LINEAR_B16_ADD)
              want += vb_bf16_to_float (out0[r * out_f + c]);
            else if (epi == VB_LINEAR_B16_QUICK_GELU)
              want = p[0] / (1.0 + exp (-1.702 * p[0]));
            else if (epi == VB_LINEAR_B16_GATE)
              want = p[0] / (1.0 + exp (-p[1]));
            float g = vb_bf16_to_float (got[r * cols + c]);
            float step = fabsf (vb_bf16_to_float (vb_bf16_from_float ((float) want) + 1)
                                - vb_bf16_to_float (vb_bf16_from_float ((float) want)));
            if (fabs (g - want) > step + 1e-6)
              g_error ("epilogue %d, row %d, column %d: %.8g, want %.8g", epi, r, c, g, want);
            differ += got[r * cols + c] != vb_bf16_from_float ((float) want);
          }
      g_test_message ("linear_b16 epilogue %d: %d of %d outputs one step from the rounded double",
                      epi, differ, n * cols);
      g_assert_cmpint (differ, <=, n * cols / 10);
      /* the gate writes n × out_f / 2 values and nothing past them */
      if (epi == VB_LINEAR_B16_GATE)
        g_assert_cmpmem (got + n * cols, (n * out_f - n * cols) * sizeof (VbBf16),
                         out0 + n * cols, (n * out_f - n * cols) * sizeof (VbBf16));
    }
  g_assert_cmpint (vb_linear_b16 (got, in, w, b, n, in_f, 24, VB_LINEAR_B16_GATE), ==, -1);
  g_assert_cmpint (vb_linear_b16 (got, in, w, b, n, in_f, out_f, 7), ==, -1);
  g_assert_cmpint (vb_linear_b16 (got, in, w, b, n, in_f, out_f, -1), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/clip/vit-l14-counts", test_vit_l14_counts);
  g_test_add_func ("/vb/clip/parity", test_parity);
  g_test_add_func ("/vb/clip/bf16-storage", test_bf16_storage);
  g_test_add_func ("/vb/clip/bf16-refused", test_bf16_refused);
  g_test_add_func ("/vb/clip/weight-errors", test_weight_errors);
  g_test_add_func ("/vb/clip/preprocess", test_preprocess);
  g_test_add_func ("/vb/clip/attention-kernel", test_attention_kernel);
  g_test_add_func ("/vb/clip/linear-b16-epilogues", test_linear_b16_epilogues);
  g_test_add_func ("/vb/clip/thread-determinism", test_thread_determinism);
  return g_test_run ();
}
