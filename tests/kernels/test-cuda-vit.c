/* test-cuda-vit.c: the CUDA ops of the CLIP tower and the projectors (vb-cuda-vit.h)
 * against their CPU ops (vb-cpu-vit.h, vb-cpu-gating.h), on awkward shapes.
 *
 * Inputs come from a GRand with a fixed seed per test (printed); outputs are poisoned
 * with NaN first, so an unwritten element fails. Strict fp32 products are held to the
 * fp32-mode bound (relative L2 1e-5); the attention also runs with TF32 and bf16
 * products under looser bounds, in chunks of images, and twice for identical bits. The
 * bf16-storage ops of the tower's bf16 path against the CPU's (widen, fp32 op, round once):
 * LayerNorm and quick GELU within one bf16 ulp, the fused attention within bf16 bounds, the
 * products within one ulp (added to the stream: and a fraction of the product's).
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

/* 4096: sixteen values a thread in bf16 storage; 1000008: eight */
static const int64_t ew_sizes[] = { 1, 37, 4099, 1000003, 4096, 1000008 };

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

/* ---- bf16 storage: the tower's bf16 path ------------------------------------------------ */

static VbBf16 *
random16 (GRand *rng, gsize n, double lo, double hi)
{
  VbBf16 *x = g_new (VbBf16, n > 0 ? n : 1);
  for (gsize i = 0; i < n; i++)
    x[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, lo, hi));
  return x;
}

static VbBf16 *
upload16 (VbCuda *cu, const VbBf16 *h, gsize n)
{
  return (VbBf16 *) cc_upload (cu, h, (n > 0 ? n : 1) * sizeof (VbBf16));
}

static float *
widen16 (const VbBf16 *h, gsize n)
{
  float *x = g_new (float, n > 0 ? n : 1);
  for (gsize i = 0; i < n; i++)
    x[i] = vb_bf16_to_float (h[i]);
  return x;
}

/* the fast path (c % 4 = 0 and c ≤ 1024: ViT-L's 1024, 96) and the warp-a-row path (1030:
 * c % 4 ≠ 0; 1028 > 1024; 3) */
static void
test_bf16_layernorm (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  static const struct { int rows, c; } sh[] = { { 37, 1024 }, { 300, 96 }, { 5, 1030 },
                                                { 9, 1028 }, { 1, 3 } };
  g_autoptr (GRand) rng = cc_seeded (SEED + 20);
  for (guint s = 0; s < G_N_ELEMENTS (sh); s++)
    {
      int rows = sh[s].rows, c = sh[s].c;
      gsize n = (gsize) rows * c;
      /* an offset row mean, so the centring counts */
      g_autofree VbBf16 *x = random16 (rng, n, 1.0, 4.0);
      g_autofree float *gm = cc_random (rng, c, 0.5, 1.5), *bt = cc_random (rng, c, -1, 1);
      g_autofree VbBf16 *want = g_new (VbBf16, n);
      g_autofree float *mean = g_new (float, rows), *rstd = g_new (float, rows);
      g_assert_cmpint (vb_layernorm_forward_b16 (want, mean, rstd, x, gm, bt, rows, c, 1e-5f),
                       ==, 0);
      VbBf16 *d_x = upload16 (cu, x, n), *d_out = cc_poisoned16 (cu, n);
      float *d_g = cc_upload_floats (cu, gm, c), *d_b = cc_upload_floats (cu, bt, c);
      float *d_mean = cc_poisoned (cu, rows), *d_rstd = cc_poisoned (cu, rows);
      g_assert_cmpint (vb_cuda_layernorm_forward_b16 (cu, d_out, d_mean, d_rstd, d_x, d_g, d_b,
                                                      rows, c, 1e-5f), ==, 0);
      g_autofree char *what = g_strdup_printf ("layernorm bf16 in and out, %d × %d", rows, c);
      g_autofree VbBf16 *got = cc_download16 (cu, d_out, n);
      /* outputs of order 1: where γ·x̂ and β cancel, the sums' orders differ by their ulps */
      cc_assert_ulp16 (what, got, want, n, ldexp (1.0, -18));
      cc_check (cu, "layernorm bf16: mean", d_mean, mean, rows);
      cc_check (cu, "layernorm bf16: rstd", d_rstd, rstd, rows);
      CC_FREE_ALL (cu, d_x, d_out, d_g, d_b, d_mean, d_rstd);
    }
}

static void
test_bf16_quick_gelu (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 21);
  for (guint s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      gsize n = ew_sizes[s];
      g_autofree VbBf16 *x = random16 (rng, n + 1, -8, 8);
      g_autofree VbBf16 *want = g_new (VbBf16, n + 1);
      g_assert_cmpint (vb_quick_gelu_forward_bf16 (want, x, n), ==, 0);
      /* aligned (sixteen or eight a thread where n allows), in place, and one value off
       * alignment */
      VbBf16 *d_x = upload16 (cu, x, n + 1), *d_out = cc_poisoned16 (cu, n + 1);
      g_assert_cmpint (vb_cuda_quick_gelu_forward_bf16 (cu, d_out, d_x, n), ==, 0);
      g_autofree VbBf16 *got = cc_download16 (cu, d_out, n);
      g_autofree char *what = g_strdup_printf ("quick gelu bf16, %" G_GSIZE_FORMAT, n);
      cc_assert_ulp16 (what, got, want, n, 0.0);
      g_assert_cmpint (vb_cuda_quick_gelu_forward_bf16 (cu, d_x, d_x, n), ==, 0);
      cc_assert_same16 (cu, "quick gelu bf16 in place", d_x, d_out, n);
      VbBf16 *d_y = upload16 (cu, x, n + 1);
      g_assert_cmpint (vb_cuda_quick_gelu_forward_bf16 (cu, d_out + 1, d_y + 1, n), ==, 0);
      g_autofree VbBf16 *want1 = g_new (VbBf16, n + 1);
      vb_quick_gelu_forward_bf16 (want1, x + 1, n);
      g_autofree VbBf16 *got1 = cc_download16 (cu, d_out + 1, n);
      cc_assert_ulp16 ("quick gelu bf16, unaligned", got1, want1, n, 0.0);
      CC_FREE_ALL (cu, d_x, d_out, d_y);
    }
}

/* The fused attention against the CPU's fp32 attention on the same bf16 inputs, rounded
 * once. It rounds the softmax weights to bf16 before P·v (as FlashAttention does): with
 * outputs of order 1 that moves them by a few 1e-3; a wrong key tile, mask or rescale
 * moves them by order 1. */
/* (up to 384 tokens a warp takes 16 query rows, above 32: both kernels for each head size
 * but 128, which takes 16 always. Head size 64 on Hopper: attention_sm90.cu's kernel, its
 * last query and key tiles reaching into the next image's rows or past the buffer: one
 * token, 50, 65, 128, 257, 577; the mma.sync kernel again on a context with VB_NO_SM90) */
static const AttnShape attn16_shapes[] = {
  { 2, 1, 2, 16 }, { 2, 17, 3, 32 }, { 3, 50, 4, 64 }, { 2, 257, 16, 64 }, { 1, 577, 2, 64 },
  { 2, 65, 2, 128 }, { 1, 128, 1, 64 }, { 2, 33, 1, 24 }, { 1, 401, 2, 16 }, { 2, 390, 1, 32 },
  { 1, 385, 1, 128 }, { 3, 1, 2, 64 }, { 2, 65, 3, 64 },
};

static void
run_attention_bf16 (VbCuda *cu, GRand *rng, const AttnShape *sh, int offset)
{
  int B = sh->B, N = sh->N, heads = sh->heads, dh = sh->dh, D = heads * dh;
  gsize n_in = (gsize) B * N * 3 * D, n_out = (gsize) B * N * D;
  float scale = 1.0f / sqrtf ((float) dh);
  g_autofree VbBf16 *qkv = random16 (rng, n_in, -3, 3);
  g_autofree VbBf16 *want16 = g_new (VbBf16, n_out);
  g_assert_cmpint (vb_attention_forward_bf16 (want16, qkv, B, N, heads, dh, scale), ==, 0);
  VbBf16 *d_qkv = upload16 (cu, qkv, n_in), *d_out = cc_poisoned16 (cu, n_out + offset);
  g_assert_cmpint (vb_cuda_attention_forward_bf16 (cu, d_out + offset, d_qkv, B, N, heads, dh,
                                                   scale), ==, 0);
  g_autofree VbBf16 *got16 = cc_download16 (cu, d_out + offset, n_out);
  g_autofree float *got = widen16 (got16, n_out), *want = widen16 (want16, n_out);
  g_autofree char *what = g_strdup_printf ("attention bf16 B %d N %d heads %d dh %d%s", B, N,
                                           heads, dh, offset ? ", output unaligned" : "");
  cc_assert_close (what, got, want, n_out, 1e-2, 2e-2, 2e-2);
  if (offset == 0)
    {
      VbBf16 *d_again = cc_poisoned16 (cu, n_out);
      vb_cuda_attention_forward_bf16 (cu, d_again, d_qkv, B, N, heads, dh, scale);
      cc_assert_same16 (cu, "attention bf16, run twice", d_out, d_again, n_out);
      vb_cuda_free (cu, d_again);
    }
  CC_FREE_ALL (cu, d_qkv, d_out);
}

static void
test_bf16_attention (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 22);
  for (guint s = 0; s < G_N_ELEMENTS (attn16_shapes); s++)
    run_attention_bf16 (cu, rng, &attn16_shapes[s], 0);
  /* a misaligned output takes the widened path */
  run_attention_bf16 (cu, rng, &attn16_shapes[2], 1);
  char why[256];
  g_setenv ("VB_NO_SM90", "1", TRUE);
  VbCuda *off = vb_cuda_open (0, why, sizeof why);
  g_unsetenv ("VB_NO_SM90");
  g_assert_nonnull (off);
  for (guint s = 0; s < G_N_ELEMENTS (attn16_shapes); s++)
    if (attn16_shapes[s].dh == 64)
      run_attention_bf16 (off, rng, &attn16_shapes[s], 0);
  vb_cuda_close (off);
}

/* out = bf16 (epi (in·wᵀ + b)), b bf16, each of VbLinearB16Epi's epilogues: cuBLASLt's
 * bias epilogue on aligned operands (64 → 96, ViT-L's 1024 → 1024, 1024 → 4096 and 4096 →
 * 1024) when stored or added; the quick GELU and the gate on Hopper in our own product where
 * N is a multiple of 256 and K of 64 (301 rows: a ragged last tile), the fp32 product and an
 * epilogue pass elsewhere (5 → 7, 64 → 96, a bias off 16-byte alignment, no bias) and on a
 * second context with VB_NO_SM90 set (every shape through the fallbacks). Within one
 * ulp of the CPU's and a hair of the product's size (sums in another order, the hardware
 * exponential, and whether cuBLASLt rounds the product before adding out); the fallbacks'
 * activation and gate after cuBLASLt's rounded product within a few of its ulps. */
static void
run_bf16_linear (VbCuda *cu, gboolean fallbacks)
{
  const char *context = fallbacks ? "VB_NO_SM90: the fallbacks" : "the device's paths";
  static const struct { int n, in_f, out_f, bias; } sh[] = {
    { 37, 64, 96, 1 }, { 301, 1024, 1024, 1 }, { 130, 1024, 4096, 1 }, { 65, 4096, 1024, 1 },
    { 7, 5, 7, 1 }, { 19, 64, 96, 0 }, { 19, 64, 96, 2 }, { 129, 128, 512, 0 },
  };
  static const char *epi_name[] = { "", " + residual", ", quick GELU", ", gated" };
  g_autoptr (GRand) rng = cc_seeded (SEED + 23);
  for (guint s = 0; s < G_N_ELEMENTS (sh); s++)
    for (int epi = VB_LINEAR_B16_STORE; epi <= VB_LINEAR_B16_GATE; epi++)
      {
        int n = sh[s].n, in_f = sh[s].in_f, out_f = sh[s].out_f;
        if (epi == VB_LINEAR_B16_GATE && out_f % 16 != 0)
          continue;
        gsize nx = (gsize) n * out_f, ni = (gsize) n * in_f, nw = (gsize) out_f * in_f;
        double ws = 1.0 / sqrt (in_f);
        g_autofree VbBf16 *x = random16 (rng, nx, -2, 2), *in = random16 (rng, ni, -1, 1);
        g_autofree VbBf16 *w = random16 (rng, nw, -ws, ws);
        g_autofree VbBf16 *b = random16 (rng, out_f + 1, -0.5, 0.5);
        g_autofree VbBf16 *want = g_memdup2 (x, nx * sizeof (VbBf16));
        /* bias 2: one value past the buffer's start, off 16-byte alignment */
        const VbBf16 *bias = sh[s].bias == 0 ? NULL : sh[s].bias == 2 ? b + 1 : b;
        g_assert_cmpint (vb_linear_b16 (want, in, w, bias, n, in_f, out_f, epi), ==, 0);
        VbBf16 *d_x = upload16 (cu, x, nx), *d_in = upload16 (cu, in, ni);
        VbBf16 *d_w = upload16 (cu, w, nw), *d_b = upload16 (cu, b, out_f + 1);
        const VbBf16 *d_bias = sh[s].bias == 0 ? NULL : sh[s].bias == 2 ? d_b + 1 : d_b;
        g_assert_cmpint (vb_cuda_linear_b16 (cu, d_x, d_in, d_w, d_bias, n, in_f, out_f, epi),
                         ==, 0);
        g_autofree VbBf16 *got = cc_download16 (cu, d_x, nx);
        g_autofree char *what = g_strdup_printf ("linear bf16%s, %d rows, %d → %d%s (%s)",
                                                 epi_name[epi], n, in_f, out_f,
                                                 sh[s].bias == 0 ? ", no bias"
                                                 : sh[s].bias == 2 ? ", bias unaligned" : "",
                                                 context);
        /* the product's values are of order 1 (below 4): one rounded before out is added,
         * or before the activation or gate off Hopper, is off by at most half its ulp, 2^-9
         * to 2^-7 (and the activation's slope is below 1.1); where product and bias cancel,
         * the sums' orders differ by their ulps */
        gboolean rounded_first = fallbacks && epi >= VB_LINEAR_B16_QUICK_GELU;
        cc_assert_ulp16 (what, got, want, nx,
                         rounded_first ? ldexp (1.0, -6)
                         : epi == VB_LINEAR_B16_ADD ? ldexp (1.0, -8) : ldexp (1.0, -18));
        if (epi != VB_LINEAR_B16_ADD)
          {
            /* the same bits again (our Hopper kernels: no sanitizer race check reaches them) */
            VbBf16 *d_again = upload16 (cu, x, nx);
            g_assert_cmpint (vb_cuda_linear_b16 (cu, d_again, d_in, d_w, d_bias, n, in_f, out_f,
                                                 epi), ==, 0);
            cc_assert_same16 (cu, what, d_x, d_again, nx);
            vb_cuda_free (cu, d_again);
          }
        CC_FREE_ALL (cu, d_x, d_in, d_w, d_b);
      }
}

static void
test_bf16_linear (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  run_bf16_linear (cu, FALSE);
  char why[256];
  g_setenv ("VB_NO_SM90", "1", TRUE);
  VbCuda *off = vb_cuda_open (0, why, sizeof why);
  g_unsetenv ("VB_NO_SM90");
  g_assert_nonnull (off);
  run_bf16_linear (off, TRUE);
  vb_cuda_close (off);
}

/* widened copies of strided bf16 rows: exact */
static void
test_widen_rows (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = cc_seeded (SEED + 24);
  const int rows = 5, cols = 37, ld_src = 41, ld_dst = 39;
  g_autofree VbBf16 *src = random16 (rng, (gsize) rows * ld_src, -5, 5);
  g_autofree float *want = g_new0 (float, (gsize) rows * ld_dst);
  vb_widen_rows (want, ld_dst, src, ld_src, rows, cols);
  VbBf16 *d_src = upload16 (cu, src, (gsize) rows * ld_src);
  float *d_dst = cc_upload_floats (cu, want, (gsize) rows * ld_dst);   /* the gaps kept */
  vb_cuda_memset (cu, d_dst, 0xFF, (gsize) ld_dst * sizeof (float));   /* row 0 poisoned */
  vb_cuda_widen_rows (cu, d_dst, ld_dst, d_src, ld_src, rows, cols);
  g_autofree float *got = cc_download (cu, d_dst, (gsize) rows * ld_dst);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      g_assert_cmpfloat (got[r * ld_dst + c], ==, want[r * ld_dst + c]);
  CC_FREE_ALL (cu, d_src, d_dst);
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
  g_assert_nonnull (t->layernorm_forward_b16);
  g_assert_nonnull (t->quick_gelu_forward_bf16);
  g_assert_nonnull (t->attention_forward_bf16);
  g_assert_nonnull (t->linear_b16);
  g_assert_nonnull (t->widen_rows);
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
  g_test_add_func ("/cuda/vit/bf16/layernorm", test_bf16_layernorm);
  g_test_add_func ("/cuda/vit/bf16/quick-gelu", test_bf16_quick_gelu);
  g_test_add_func ("/cuda/vit/bf16/attention", test_bf16_attention);
  g_test_add_func ("/cuda/vit/bf16/linear", test_bf16_linear);
  g_test_add_func ("/cuda/vit/bf16/widen-rows", test_widen_rows);
  g_test_add_func ("/cuda/vit/table", test_table);
  int rc = g_test_run ();
  vb_cuda_close (cc_cuda);
  return rc;
}
