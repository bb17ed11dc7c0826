/* test-cuda-vit.c: the CUDA ops of the CLIP tower and the projectors (vb-cuda-vit.h)
 * against their CPU ops (vb-cpu-vit.h, vb-cpu-gating.h), on awkward shapes.
 *
 * Inputs come from a GRand with a fixed seed per test (printed); outputs are poisoned
 * with NaN first, so an unwritten element fails. Strict fp32 products are held to the
 * fp32-mode bound (relative L2 1e-5); the attention also runs with TF32 and bf16
 * products under looser bounds, in chunks of images, and twice for identical bits.
 * Without a GPU every test skips visibly. */
#include "config.h"

#include <float.h>
#include <string.h>

#include "cuda-check.h"
#include "vb-cpu-gating.h"
#include "vb-cpu-vit.h"
#include "vb-cuda-vit.h"
#include "vb-vit-ops.h"

#define SEED 20251204u

static void
assert_same_bits (VbCuda *cu, const char *what, const float *a, const float *b, gsize n)
{
  g_autofree float *ha = cc_download (cu, a, n);
  g_autofree float *hb = cc_download (cu, b, n);
  for (gsize i = 0; i < n; i++)
    if (memcmp (&ha[i], &hb[i], sizeof (float)) != 0)
      g_error ("%s: two runs on the same inputs differ at element %" G_GSIZE_FORMAT
               ": %.9g, then %.9g", what, i, ha[i], hb[i]);
}

/* ---- patch embedding's im2col, class and position embeddings --------------------------- */

static void
test_patchify (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  /* S not a multiple of P (the right and bottom edges are dropped), 1 and 3 channels */
  static const struct { int B, C, S, P; } shapes[] = {
    { 1, 3, 28, 14 }, { 3, 3, 29, 7 }, { 2, 1, 9, 3 }, { 2, 2, 16, 16 },
  };
  g_autoptr (GRand) rng = cc_seeded (SEED + 1);
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int B = shapes[s].B, C = shapes[s].C, S = shapes[s].S, P = shapes[s].P, G = S / P;
      gsize n_in = (gsize) B * C * S * S, n_out = (gsize) B * G * G * C * P * P;
      g_autofree float *px = cc_random (rng, n_in, -2, 2);
      g_autofree float *want = g_new (float, n_out);
      vb_cpu_vit_ops ()->patchify (NULL, want, px, B, C, S, P);
      float *d_px = cc_upload_floats (cu, px, n_in), *d_out = cc_poisoned (cu, n_out);
      vb_cuda_vit_patchify (cu, d_out, d_px, B, C, S, P);
      g_autofree char *what = g_strdup_printf ("patchify B %d C %d S %d P %d", B, C, S, P);
      g_autofree float *got = cc_download (cu, d_out, n_out);
      /* a copy: exact */
      cc_assert_close (what, got, want, n_out, 0.0, 0.0, 0.0);
      vb_cuda_free (cu, d_px);
      vb_cuda_free (cu, d_out);
    }
}

static void
test_add_embeddings (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  static const struct { int B, N, D; } shapes[] = { { 1, 1, 5 }, { 3, 17, 37 }, { 2, 257, 64 } };
  g_autoptr (GRand) rng = cc_seeded (SEED + 2);
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int B = shapes[s].B, N = shapes[s].N, D = shapes[s].D;
      gsize n = (gsize) B * N * D;
      /* row 0 of each image starts as NaN: it must be overwritten, not added to */
      g_autofree float *x = cc_random (rng, n, -1, 1);
      for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++)
          x[(gsize) b * N * D + d] = NAN;
      g_autofree float *cls = cc_random (rng, D, -1, 1);
      g_autofree float *pos = cc_random (rng, (gsize) N * D, -1, 1);
      float *d_x = cc_upload_floats (cu, x, n), *d_cls = cc_upload_floats (cu, cls, D), *d_pos = cc_upload_floats (cu, pos, (gsize) N * D);
      vb_vit_add_embeddings (x, cls, pos, B, N, D);
      vb_cuda_vit_add_embeddings (cu, d_x, d_cls, d_pos, B, N, D);
      g_autofree char *what = g_strdup_printf ("add embeddings B %d N %d D %d", B, N, D);
      g_autofree float *got = cc_download (cu, d_x, n);
      cc_assert_close (what, got, x, n, 0.0, 0.0, 0.0);   /* one add each: exact */
      vb_cuda_free (cu, d_x);
      vb_cuda_free (cu, d_cls);
      vb_cuda_free (cu, d_pos);
    }
}

/* ---- elementwise: quick GELU, the sigmoid gate, the row copy --------------------------- */

static const int64_t ew_sizes[] = { 1, 37, 4099, 1000003 };

static void
test_quick_gelu (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 3);
  for (guint s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      int64_t n = ew_sizes[s];
      /* far enough out that σ saturates at both ends */
      g_autofree float *x = cc_random (rng, n, -60, 60);
      g_autofree float *want = g_new (float, n);
      vb_quick_gelu_forward (want, x, n);
      float *d_x = cc_upload_floats (cu, x, n), *d_out = cc_poisoned (cu, n);
      vb_cuda_quick_gelu_forward (cu, d_out, d_x, n);
      g_autofree char *what = g_strdup_printf ("quick gelu n %" G_GINT64_FORMAT, n);
      cc_check (cu, what, d_out, want, n);
      /* in place, as the tower runs it */
      vb_cuda_quick_gelu_forward (cu, d_x, d_x, n);
      cc_check (cu, "quick gelu in place", d_x, want, n);
      vb_cuda_free (cu, d_x);
      vb_cuda_free (cu, d_out);
    }
}

static void
test_sigmoid_gate (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 4);
  for (guint s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      int64_t n = ew_sizes[s];
      g_autofree float *a = cc_random (rng, n, -30, 30);
      g_autofree float *v = cc_random (rng, n, -2, 2);
      g_autofree float *dy = cc_random (rng, n, -1, 1);
      g_autofree float *y = g_new (float, n), *sg = g_new (float, n);
      g_autofree float *da = g_new (float, n), *dv = g_new (float, n);
      vb_sigmoid_gate_forward (y, sg, a, v, n);
      vb_sigmoid_gate_backward (da, dv, dy, sg, v, n);

      float *d_a = cc_upload_floats (cu, a, n), *d_v = cc_upload_floats (cu, v, n), *d_dy = cc_upload_floats (cu, dy, n);
      float *d_y = cc_poisoned (cu, n), *d_s = cc_poisoned (cu, n);
      float *d_da = cc_poisoned (cu, n), *d_dv = cc_poisoned (cu, n);
      vb_cuda_sigmoid_gate_forward (cu, d_y, d_s, d_a, d_v, n);
      cc_check (cu, "sigmoid gate y", d_y, y, n);
      cc_check (cu, "sigmoid gate s", d_s, sg, n);
      /* s aliasing a, as the Gated projector runs it */
      vb_cuda_memset (cu, d_y, 0xFF, n * sizeof (float));
      vb_cuda_sigmoid_gate_forward (cu, d_y, d_a, d_a, d_v, n);
      cc_check (cu, "sigmoid gate y (s = a)", d_y, y, n);
      cc_check (cu, "sigmoid gate s (s = a)", d_a, sg, n);
      /* the backward from the CPU's s, so only the backward is compared */
      float *d_sg = cc_upload_floats (cu, sg, n);
      vb_cuda_sigmoid_gate_backward (cu, d_da, d_dv, d_dy, d_sg, d_v, n);
      cc_check (cu, "sigmoid gate da", d_da, da, n);
      cc_check (cu, "sigmoid gate dv", d_dv, dv, n);
      float *bufs[] = { d_a, d_v, d_dy, d_y, d_s, d_da, d_dv, d_sg };
      for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
        vb_cuda_free (cu, bufs[i]);
    }
}

static void
test_copy_rows (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 5);
  /* the tower's two uses: patch tokens without the class row, and the class rows */
  const int B = 3, N = 10, D = 7;
  gsize n = (gsize) B * N * D;
  g_autofree float *h = cc_random (rng, n, -1, 1);
  float *d_h = cc_upload_floats (cu, h, n);

  gsize n_feat = (gsize) B * (N - 1) * D;
  g_autofree float *feat = g_new (float, n_feat);
  vb_cpu_vit_ops ()->copy_rows (NULL, feat, (N - 1) * D, h + D, (int64_t) N * D, B,
                                (int64_t) (N - 1) * D);
  float *d_feat = cc_poisoned (cu, n_feat);
  vb_cuda_copy_rows (cu, d_feat, (N - 1) * D, d_h + D, (int64_t) N * D, B, (int64_t) (N - 1) * D);
  g_autofree float *got = cc_download (cu, d_feat, n_feat);
  cc_assert_close ("copy rows (patch tokens)", got, feat, n_feat, 0.0, 0.0, 0.0);
  for (int b = 0; b < B; b++)
    for (int t = 1; t < N; t++)
      for (int d = 0; d < D; d++)
        g_assert_cmpfloat (feat[((gsize) b * (N - 1) + t - 1) * D + d], ==,
                           h[((gsize) b * N + t) * D + d]);

  float *d_cls = cc_poisoned (cu, (gsize) B * D);
  vb_cuda_copy_rows (cu, d_cls, D, d_h, (int64_t) N * D, B, D);
  g_autofree float *cls = cc_download (cu, d_cls, (gsize) B * D);
  for (int b = 0; b < B; b++)
    for (int d = 0; d < D; d++)
      g_assert_cmpfloat (cls[b * D + d], ==, h[(gsize) b * N * D + d]);
  vb_cuda_free (cu, d_h);
  vb_cuda_free (cu, d_feat);
  vb_cuda_free (cu, d_cls);
}

/* ---- attention ------------------------------------------------------------------------ */

typedef struct { int B, N, heads, dh; } AttnShape;

/* N = 1 (a softmax of one), odd N and head dims, ViT-L's heads at 224 px's 257 tokens */
static const AttnShape attn_shapes[] = {
  { 2, 1, 2, 8 }, { 2, 17, 3, 20 }, { 3, 50, 4, 64 }, { 1, 257, 16, 64 }, { 2, 33, 1, 7 },
};

static void
run_attention (VbCuda *cu, GRand *rng, const AttnShape *sh, int mode, double rel, double atol,
               double rtol, int max_images)
{
  int B = sh->B, N = sh->N, heads = sh->heads, dh = sh->dh, D = heads * dh;
  gsize n_in = (gsize) B * N * 3 * D, n_out = (gsize) B * N * D;
  float scale = 1.0f / sqrtf ((float) dh);
  /* ±3: scores up to a few units after scaling, so the softmax is far from uniform */
  g_autofree float *qkv = cc_random (rng, n_in, -3, 3);
  g_autofree float *want = g_new (float, n_out);
  g_assert_cmpint (vb_attention_forward (want, qkv, B, N, heads, dh, scale), ==, 0);

  float *d_qkv = cc_upload_floats (cu, qkv, n_in), *d_out = cc_poisoned (cu, n_out);
  g_assert_true (vb_cuda_set_matmul (cu, mode));
  g_assert_cmpint (vb_cuda_attention_forward_chunked (cu, d_out, d_qkv, B, N, heads, dh, scale,
                                                      max_images), ==, 0);
  static const char *const mode_names[] = { "fp32", "tf32", "bf16" };
  g_autofree char *chunks = max_images ? g_strdup_printf (", %d image(s) per chunk", max_images)
                                        : g_strdup ("");
  g_autofree char *what = g_strdup_printf ("attention B %d N %d heads %d dh %d, %s products%s",
                                           B, N, heads, dh, mode_names[mode], chunks);
  g_autofree float *got = cc_download (cu, d_out, n_out);
  cc_assert_close (what, got, want, n_out, rel, atol, rtol);
  if (mode == VB_CUDA_MATMUL_FP32 && max_images == 0)
    {
      /* the same bits again (the chunked runs are only held to the bound: cuBLAS may
       * pick another algorithm for another batch count) */
      float *d_again = cc_poisoned (cu, n_out);
      vb_cuda_attention_forward (cu, d_again, d_qkv, B, N, heads, dh, scale);
      assert_same_bits (cu, "attention, run twice", d_out, d_again, n_out);
      vb_cuda_free (cu, d_again);
    }
  g_assert_true (vb_cuda_set_matmul (cu, VB_CUDA_MATMUL_FP32));
  vb_cuda_free (cu, d_qkv);
  vb_cuda_free (cu, d_out);
}

static void
test_attention_fp32 (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 6);
  for (guint s = 0; s < G_N_ELEMENTS (attn_shapes); s++)
    run_attention (cu, rng, &attn_shapes[s], VB_CUDA_MATMUL_FP32, 1e-5, 1e-5, 1e-4, 0);
}

static void
test_attention_chunked (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 7);
  const AttnShape sh[] = { { 5, 23, 3, 16 }, { 3, 50, 4, 64 } };
  for (guint s = 0; s < G_N_ELEMENTS (sh); s++)
    {
      run_attention (cu, rng, &sh[s], VB_CUDA_MATMUL_FP32, 1e-5, 1e-5, 1e-4, 1);
      run_attention (cu, rng, &sh[s], VB_CUDA_MATMUL_FP32, 1e-5, 1e-5, 1e-4, 2);
    }
}

static void
test_attention_tensor_cores (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 8);
  /* TF32 keeps 10 mantissa bits, bf16 7: both products' operands are rounded, the
   * softmax stays fp32. Bounds a few times the measured errors' scale, far below what a
   * wrong head or transposition gives (order 1). */
  for (guint s = 0; s < G_N_ELEMENTS (attn_shapes); s++)
    {
      run_attention (cu, rng, &attn_shapes[s], VB_CUDA_MATMUL_TF32, 5e-3, 2e-2, 2e-2, 0);
      run_attention (cu, rng, &attn_shapes[s], VB_CUDA_MATMUL_BF16, 4e-2, 1.5e-1, 1e-1, 0);
    }
}

/* the CUDA table reaches the same ops */
static void
test_table (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  const VbVitOps *t = vb_cuda_vit_ops ();
  g_assert_cmpstr (t->name, ==, "cuda");
  g_assert_nonnull (t->patchify);
  g_assert_nonnull (t->add_embeddings);
  g_assert_nonnull (t->quick_gelu_forward);
  g_assert_nonnull (t->attention_forward);
  g_assert_nonnull (t->sigmoid_gate_forward);
  g_assert_nonnull (t->sigmoid_gate_backward);
  g_assert_nonnull (t->copy_rows);
  g_autoptr (GRand) rng = cc_seeded (SEED + 9);
  const int n = 1000;
  g_autofree float *x = cc_random (rng, n, -4, 4);
  g_autofree float *want = g_new (float, n);
  vb_quick_gelu_forward (want, x, n);
  float *d_x = cc_upload_floats (cu, x, n), *d_out = cc_poisoned (cu, n);
  t->quick_gelu_forward (cu, d_out, d_x, n);
  cc_check (cu, "quick gelu through the table", d_out, want, n);
  vb_cuda_free (cu, d_x);
  vb_cuda_free (cu, d_out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cuda/vit/patchify", test_patchify);
  g_test_add_func ("/cuda/vit/add-embeddings", test_add_embeddings);
  g_test_add_func ("/cuda/vit/quick-gelu", test_quick_gelu);
  g_test_add_func ("/cuda/vit/sigmoid-gate", test_sigmoid_gate);
  g_test_add_func ("/cuda/vit/copy-rows", test_copy_rows);
  g_test_add_func ("/cuda/vit/attention/fp32", test_attention_fp32);
  g_test_add_func ("/cuda/vit/attention/chunked", test_attention_chunked);
  g_test_add_func ("/cuda/vit/attention/tensor-cores", test_attention_tensor_cores);
  g_test_add_func ("/cuda/vit/table", test_table);
  int rc = g_test_run ();
  vb_cuda_close (cc_cuda);
  return rc;
}
