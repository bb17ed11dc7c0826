/* test-cuda-ops.c: every fp32 CUDA op of elementwise.cu, layernorm.cu, conv.cu, head.cu
 * and optim.cu against its CPU op (kernels/cpu), on awkward shapes.
 *
 * Inputs come from a GRand with a fixed seed per test (printed); outputs are poisoned
 * with NaN first, so an unwritten element fails; accumulated (+=) outputs start from the
 * same random values on both sides, so a missing or doubled += fails. Reductions are run
 * twice and must repeat bit for bit. Without a GPU every test skips visibly. */
#include "config.h"

#include <float.h>
#include <string.h>

#include "cuda-check.h"
#include "vb-cpu-ops.h"
#include "vb-cuda-ops.h"
#include "vb-cuda-table.h"

#define SEED 20251117u

/* ---- helpers ---------------------------------------------------------------------- */

static float *
copy_of (const float *x, gsize n)
{
  return g_memdup2 (x, (n > 0 ? n : 1) * sizeof (float));
}

/* For sums of `terms` products of magnitude ≲ 1 (parameter gradients, GEMM outputs)
 * the GPU adds in another order than the CPU (both fp32), so an element that cancels
 * to near zero can differ by a few ulps of the terms' magnitude sum rather than of
 * itself: the per-element bound grows with the term count. The relative L2 bound stays
 * at the fp32-mode 1e-5. */
static void
check_reduced (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n,
               double terms)
{
  g_autofree float *got = cc_download (cu, dev, n);
  cc_assert_close (what, got, want, n, 1e-5, 1e-5 + 4.0 * FLT_EPSILON * terms, 1e-4);
}

/* download two device results and require identical bits */
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

/* ---- elementwise ------------------------------------------------------------------ */

/* every n % 4 (the float4 kernels leave a scalar tail) */
static const int64_t ew_sizes[] = { 1, 4, 37, 4098, 4099, 1000003, 1 << 20 };

typedef void (*CpuUnary) (float *, const float *, int64_t);
typedef void (*GpuUnary) (VbCuda *, float *, const float *, int64_t);
typedef void (*CpuBinary) (float *, const float *, const float *, int64_t);
typedef void (*GpuBinary) (VbCuda *, float *, const float *, const float *, int64_t);

/* out = f(in), also in place (out == in, allowed by vb-cpu-ops.h), off 16-byte
 * alignment (the scalar kernel), and n = 0 */
static void
check_unary (VbCuda *cu, const char *name, CpuUnary cpu, GpuUnary gpu, double lo, double hi,
             guint32 seed)
{
  GRand *rng = cc_seeded (SEED + seed);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      gsize n = ew_sizes[s];
      g_autofree float *x = cc_random (rng, n, lo, hi);
      g_autofree float *want = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("%s n=%" G_GSIZE_FORMAT, name, n);
      float *d_x = cc_upload_floats (cu, x, n), *d_out = cc_poisoned (cu, n);

      cpu (want, x, n);
      gpu (cu, d_out, d_x, n);
      cc_check (cu, what, d_out, want, n);
      if (n > 1)
        {
          vb_cuda_memset (cu, d_out, 0xFF, n * sizeof (float));
          gpu (cu, d_out + 1, d_x + 1, n - 1);
          cc_check (cu, "unaligned", d_out + 1, want + 1, n - 1);
        }
      gpu (cu, d_x, d_x, n);
      cc_check (cu, "in place", d_x, want, n);
      CC_FREE_ALL (cu, d_x, d_out);
    }
  gpu (cu, NULL, NULL, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* din = dout · f'(in) (written) */
static void
check_backward (VbCuda *cu, const char *name, CpuBinary cpu, GpuBinary gpu, double lo,
                double hi, guint32 seed)
{
  GRand *rng = cc_seeded (SEED + seed);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      gsize n = ew_sizes[s];
      g_autofree float *x = cc_random (rng, n, lo, hi);
      g_autofree float *g = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *want = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("%s n=%" G_GSIZE_FORMAT, name, n);
      float *d_x = cc_upload_floats (cu, x, n), *d_g = cc_upload_floats (cu, g, n), *d_din = cc_poisoned (cu, n);

      cpu (want, g, x, n);
      gpu (cu, d_din, d_g, d_x, n);
      cc_check (cu, what, d_din, want, n);
      if (n > 1)
        {
          vb_cuda_memset (cu, d_din, 0xFF, n * sizeof (float));
          gpu (cu, d_din + 1, d_g + 1, d_x + 1, n - 1);
          cc_check (cu, "unaligned", d_din + 1, want + 1, n - 1);
        }
      CC_FREE_ALL (cu, d_x, d_g, d_din);
    }
  gpu (cu, NULL, NULL, NULL, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_gelu_forward (VbCuda *cu)
{
  check_unary (cu, "gelu forward", vb_gelu_forward, vb_cuda_gelu_forward, -6.0, 6.0, 1);
}

static void
test_gelu_backward (VbCuda *cu)
{
  check_backward (cu, "gelu backward", vb_gelu_backward, vb_cuda_gelu_backward, -6.0, 6.0, 2);
}

static void
test_silu_forward (VbCuda *cu)
{
  check_unary (cu, "silu forward", vb_silu_forward, vb_cuda_silu_forward, -10.0, 10.0, 3);
}

static void
test_silu_backward (VbCuda *cu)
{
  check_backward (cu, "silu backward", vb_silu_backward, vb_cuda_silu_backward, -10.0, 10.0, 4);
}

static void
test_add (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 5);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      gsize n = ew_sizes[s];
      g_autofree float *a = cc_random (rng, n, -2.0, 2.0);
      g_autofree float *b = cc_random (rng, n, -2.0, 2.0);
      g_autofree float *want = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("add n=%" G_GSIZE_FORMAT, n);
      float *d_a = cc_upload_floats (cu, a, n), *d_b = cc_upload_floats (cu, b, n), *d_out = cc_poisoned (cu, n);

      vb_add (want, a, b, n);
      vb_cuda_add (cu, d_out, d_a, d_b, n);
      cc_check (cu, what, d_out, want, n);
      if (n > 1)
        {
          vb_cuda_memset (cu, d_out, 0xFF, n * sizeof (float));
          vb_cuda_add (cu, d_out + 1, d_a + 1, d_b + 1, n - 1);
          cc_check (cu, "add unaligned", d_out + 1, want + 1, n - 1);
          vb_cuda_add (cu, d_out, d_a, d_b, n);   /* d_out feeds the aliasing checks */
        }
      /* out aliasing a, then b */
      vb_cuda_add (cu, d_a, d_a, d_b, n);
      cc_check (cu, "add out == a", d_a, want, n);
      vb_cuda_add (cu, d_b, d_out, d_b, n);   /* (a + b) + b */
      for (gsize i = 0; i < n; i++)
        want[i] = want[i] + b[i];
      cc_check (cu, "add out == b", d_b, want, n);
      CC_FREE_ALL (cu, d_a, d_b, d_out);
    }
  vb_cuda_add (cu, NULL, NULL, NULL, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* scale[b] ∈ {0, 1/(1 − p)}, as the caller's RNG draws it. backward: drop path's
 * backward; else the residual add it sits in, with and without the branch's bias and the
 * scales (c % 4 ≠ 0 and per_sample % 4 ≠ 0 take the scalar kernel) */
static void
check_drop_path (VbCuda *cu, gboolean backward, guint32 seed)
{
  static const struct { int B; int64_t per; } shapes[] = {
    { 1, 1 }, { 3, 37 }, { 5, 9 * 7 * 96 }, { 130, 7 * 5 * 3 }, { 7, 8 }, { 2, 100004 },
  };
  GRand *rng = cc_seeded (SEED + seed);

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int B = shapes[s].B;
      gsize n = (gsize) B * shapes[s].per;
      g_autofree float *x = cc_random (rng, n, -2.0, 2.0);
      g_autofree float *scale = g_new (float, B);
      g_autofree float *want = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("%s B=%d per_sample=%" G_GINT64_FORMAT,
                                               backward ? "drop path backward"
                                               : "residual add", B, shapes[s].per);
      for (int b = 0; b < B; b++)
        scale[b] = g_rand_boolean (rng) ? 0.0f : 1.0f / (1.0f - 0.3f);
      float *d_x = cc_upload_floats (cu, x, n), *d_scale = cc_upload_floats (cu, scale, B), *d_out = cc_poisoned (cu, n);

      if (backward)
        {
          vb_drop_path_backward (want, x, scale, B, shapes[s].per);
          vb_cuda_drop_path_backward (cu, d_out, d_x, d_scale, B, shapes[s].per);
        }
      else
        for (int variant = 0; variant < 4; variant++)
          {
            int c = (int) (shapes[s].per % 96 == 0 ? 96 : shapes[s].per % 7 == 0 ? 7 : 1);
            g_autofree float *res = cc_random (rng, n, -2.0, 2.0);
            g_autofree float *bias = cc_random (rng, c, -1.0, 1.0);
            const float *b = variant & 1 ? bias : NULL, *sc = variant & 2 ? scale : NULL;
            float *d_res = cc_upload_floats (cu, res, n), *d_bias = cc_upload_floats (cu, bias, c);
            vb_residual_add (want, res, x, b, c, sc, B, shapes[s].per);
            vb_cuda_residual_add (cu, d_out, d_res, d_x, b ? d_bias : NULL, c,
                                  sc ? d_scale : NULL, B, shapes[s].per);
            cc_check (cu, what, d_out, want, n);
            vb_cuda_memset (cu, d_out, 0xFF, n * sizeof (float));
            CC_FREE_ALL (cu, d_res, d_bias);
          }
      if (backward)
        cc_check (cu, what, d_out, want, n);
      CC_FREE_ALL (cu, d_x, d_scale, d_out);
    }
  vb_cuda_residual_add (cu, NULL, NULL, NULL, NULL, 1, NULL, 0, 5);
  vb_cuda_drop_path_backward (cu, NULL, NULL, NULL, 3, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_residual_add (VbCuda *cu)
{
  check_drop_path (cu, FALSE, 6);
}

static void
test_drop_path_backward (VbCuda *cu)
{
  check_drop_path (cu, TRUE, 7);
}

/* ---- layernorm -------------------------------------------------------------------- */

/* rows not a multiple of 32 or of a block's 8 warps; c % 4 != 0 and c > 1024 take the
 * warp-per-row kernels, the others the register-row kernels with 8, 16 or 32 lanes per
 * row (4, 48, 96, 192, 384, 768, 1000); the last two are VMamba-T's stage 3 and stage 1
 * at 224 px, batch 128 (n > the partials' 1024 chunks) */
static const struct { int64_t n; int c; } ln_shapes[] = {
  { 1, 1 }, { 7, 3 }, { 33, 37 }, { 1001, 96 }, { 77, 768 }, { 4133, 37 }, { 517, 4 },
  { 300, 48 }, { 1031, 192 }, { 250, 384 }, { 50, 1000 }, { 33, 1028 }, { 1, 96 },
  { 128 * 14 * 14, 384 }, { 128 * 56 * 56, 96 },
};

static void
test_layernorm_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 8);

  for (gsize s = 0; s < G_N_ELEMENTS (ln_shapes); s++)
    {
      int64_t n = ln_shapes[s].n;
      int c = ln_shapes[s].c;
      gsize nc = (gsize) n * c;
      /* off-centre inputs: the two-pass variance matters */
      g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
      g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
      g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
      g_autofree float *out = g_new (float, nc);
      g_autofree float *mean = g_new (float, n);
      g_autofree float *rstd = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("layernorm forward n=%" G_GINT64_FORMAT " c=%d",
                                               n, c);
      float *d_x = cc_upload_floats (cu, x, nc), *d_gamma = cc_upload_floats (cu, gamma, c), *d_beta = cc_upload_floats (cu, beta, c);
      float *d_out = cc_poisoned (cu, nc), *d_mean = cc_poisoned (cu, n);
      float *d_rstd = cc_poisoned (cu, n);

      vb_layernorm_forward (out, mean, rstd, x, gamma, beta, n, c, 1e-5f);
      vb_cuda_layernorm_forward (cu, d_out, d_mean, d_rstd, d_x, d_gamma, d_beta, n, c, 1e-5f);
      cc_check (cu, what, d_out, out, nc);
      cc_check (cu, "mean", d_mean, mean, n);
      cc_check (cu, "rstd", d_rstd, rstd, n);
      CC_FREE_ALL (cu, d_x, d_gamma, d_beta, d_out, d_mean, d_rstd);
    }
  vb_cuda_layernorm_forward (cu, NULL, NULL, NULL, NULL, NULL, NULL, 0, 96, 1e-5f);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* With c = 1 the exact input gradient is 0 (x̂ = 0, g·γ − mean(g·γ) = 0): both sides
 * hold only rounding noise of g·γ (whether a − b·c is fused differs) times
 * rstd = 1/√eps ≈ 316, so the check is an absolute bound on that noise. */
static void
check_din (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n, int c)
{
  if (c > 1)
    {
      cc_check (cu, what, dev, want, n);
      return;
    }
  g_autofree float *got = cc_download (cu, dev, n);
  cc_assert_close (what, got, want, n, G_MAXDOUBLE, 1e-4, 0.0);
}

static void
test_layernorm_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 9);

  for (gsize s = 0; s < G_N_ELEMENTS (ln_shapes); s++)
    {
      int64_t n = ln_shapes[s].n;
      int c = ln_shapes[s].c;
      gsize nc = (gsize) n * c;
      g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
      g_autofree float *g = cc_random (rng, nc, -1.0, 1.0);
      g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
      g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
      g_autofree float *dgamma0 = cc_random (rng, c, -1.0, 1.0);
      g_autofree float *dbeta0 = cc_random (rng, c, -1.0, 1.0);
      g_autofree float *out = g_new (float, nc);
      g_autofree float *mean = g_new (float, n);
      g_autofree float *rstd = g_new (float, n);
      g_autofree float *din = g_new (float, nc);
      g_autofree float *dgamma = copy_of (dgamma0, c);
      g_autofree float *dbeta = copy_of (dbeta0, c);
      g_autofree char *what = g_strdup_printf ("layernorm backward n=%" G_GINT64_FORMAT " c=%d",
                                               n, c);

      /* both sides use the CPU's saved statistics */
      vb_layernorm_forward (out, mean, rstd, x, gamma, beta, n, c, 1e-5f);
      vb_layernorm_backward (din, 0, dgamma, dbeta, g, x, mean, rstd, gamma, n, c);

      float *d_x = cc_upload_floats (cu, x, nc), *d_g = cc_upload_floats (cu, g, nc), *d_gamma = cc_upload_floats (cu, gamma, c);
      float *d_mean = cc_upload_floats (cu, mean, n), *d_rstd = cc_upload_floats (cu, rstd, n);
      float *d_din = cc_poisoned (cu, nc), *d_din2 = cc_poisoned (cu, nc);
      float *d_dgamma = cc_upload_floats (cu, dgamma0, c), *d_dbeta = cc_upload_floats (cu, dbeta0, c);
      float *d_dgamma2 = cc_upload_floats (cu, dgamma0, c), *d_dbeta2 = cc_upload_floats (cu, dbeta0, c);

      vb_cuda_layernorm_backward (cu, d_din, 0, d_dgamma, d_dbeta, d_g, d_x, d_mean, d_rstd,
                                  d_gamma, n, c);
      check_din (cu, what, d_din, din, nc, c);
      check_reduced (cu, "dgamma (+=)", d_dgamma, dgamma, c, (double) n);
      check_reduced (cu, "dbeta (+=)", d_dbeta, dbeta, c, (double) n);

      vb_cuda_layernorm_backward (cu, d_din2, 0, d_dgamma2, d_dbeta2, d_g, d_x, d_mean, d_rstd,
                                  d_gamma, n, c);
      assert_same_bits (cu, "layernorm din", d_din, d_din2, nc);
      assert_same_bits (cu, "layernorm dgamma", d_dgamma, d_dgamma2, c);
      assert_same_bits (cu, "layernorm dbeta", d_dbeta, d_dbeta2, c);

      /* NULL-able outputs: din alone, then dgamma alone (dbeta untouched) */
      vb_cuda_memset (cu, d_din, 0xFF, nc * sizeof (float));
      vb_cuda_layernorm_backward (cu, d_din, 0, NULL, NULL, d_g, d_x, d_mean, d_rstd, d_gamma,
                                  n, c);
      check_din (cu, "din alone", d_din, din, nc, c);
      /* din accumulated onto what it holds (the residual stream's gradient): the CPU's
       * din + x, against the GPU adding onto x */
      g_autofree float *base = cc_random (rng, nc, -1.0, 1.0);
      g_autofree float *din_acc = copy_of (base, nc);
      vb_layernorm_backward (din_acc, 1, NULL, NULL, g, x, mean, rstd, gamma, n, c);
      vb_cuda_upload (cu, d_din, base, nc * sizeof (float));
      vb_cuda_layernorm_backward (cu, d_din, 1, NULL, NULL, d_g, d_x, d_mean, d_rstd, d_gamma,
                                  n, c);
      check_din (cu, "din (+=)", d_din, din_acc, nc, c);
      vb_cuda_upload (cu, d_dgamma, dgamma0, c * sizeof (float));
      vb_cuda_upload (cu, d_dbeta, dbeta0, c * sizeof (float));
      vb_cuda_layernorm_backward (cu, NULL, 0, d_dgamma, NULL, d_g, d_x, d_mean, d_rstd,
                                  d_gamma, n, c);
      check_reduced (cu, "dgamma alone", d_dgamma, dgamma, c, (double) n);
      cc_check (cu, "dbeta untouched", d_dbeta, dbeta0, c);

      CC_FREE_ALL (cu, d_x, d_g, d_gamma, d_mean, d_rstd, d_din, d_din2, d_dgamma, d_dbeta,
                d_dgamma2, d_dbeta2);
    }
  vb_cuda_layernorm_backward (cu, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 96);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- depthwise 3×3 ---------------------------------------------------------------- */

/* odd C takes one channel a thread, C % 4 == 2 two; H not a multiple of the 8-row tiles,
 * W over 32 (two or three column tiles); channel tiles not filled (1027, 37); a tile that
 * would pass 48 KiB of shared memory (8 × 8 × 384: fewer channels a block) */
static const struct { int B, H, W, C; } dw_shapes[] = {
  { 1, 1, 1, 1 }, { 2, 9, 7, 3 }, { 1, 5, 5, 37 }, { 3, 8, 8, 96 }, { 1, 7, 9, 768 },
  { 2, 1, 6, 5 }, { 4, 28, 28, 192 }, { 2, 56, 56, 96 }, { 3, 14, 15, 8 }, { 2, 7, 7, 1536 },
  { 1, 4, 30, 1027 }, { 5, 7, 7, 768 }, { 2, 9, 33, 6 }, { 1, 10, 70, 12 }, { 2, 8, 8, 384 },
};

static void
test_dwconv_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 10);

  for (gsize s = 0; s < G_N_ELEMENTS (dw_shapes); s++)
    {
      int B = dw_shapes[s].B, H = dw_shapes[s].H, W = dw_shapes[s].W, C = dw_shapes[s].C;
      gsize n = (gsize) B * H * W * C;
      g_autofree float *x = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *w = cc_random (rng, 9 * (gsize) C, -1.0, 1.0);
      g_autofree float *out = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("dwconv3x3 forward %dx%dx%dx%d", B, H, W, C);
      float *d_x = cc_upload_floats (cu, x, n), *d_w = cc_upload_floats (cu, w, 9 * (gsize) C), *d_out = cc_poisoned (cu, n);

      vb_dwconv3x3_forward (out, x, w, B, H, W, C);
      vb_cuda_dwconv3x3_forward (cu, d_out, d_x, d_w, B, H, W, C);
      cc_check (cu, what, d_out, out, n);
      CC_FREE_ALL (cu, d_x, d_w, d_out);
    }
  vb_cuda_dwconv3x3_forward (cu, NULL, NULL, NULL, 0, 3, 3, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_dwconv_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 11);

  for (gsize s = 0; s < G_N_ELEMENTS (dw_shapes); s++)
    {
      int B = dw_shapes[s].B, H = dw_shapes[s].H, W = dw_shapes[s].W, C = dw_shapes[s].C;
      gsize n = (gsize) B * H * W * C, nw = 9 * (gsize) C;
      g_autofree float *x = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *g = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *w = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *dw0 = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *din = g_new (float, n);
      g_autofree float *dw = copy_of (dw0, nw);
      g_autofree char *what = g_strdup_printf ("dwconv3x3 backward %dx%dx%dx%d", B, H, W, C);

      vb_dwconv3x3_backward (din, dw, g, x, w, B, H, W, C);

      float *d_x = cc_upload_floats (cu, x, n), *d_g = cc_upload_floats (cu, g, n), *d_w = cc_upload_floats (cu, w, nw);
      float *d_din = cc_poisoned (cu, n), *d_din2 = cc_poisoned (cu, n);
      float *d_dw = cc_upload_floats (cu, dw0, nw), *d_dw2 = cc_upload_floats (cu, dw0, nw);

      vb_cuda_dwconv3x3_backward (cu, d_din, d_dw, d_g, d_x, d_w, B, H, W, C);
      cc_check (cu, what, d_din, din, n);
      check_reduced (cu, "dw (+=)", d_dw, dw, nw, (double) B * H * W);

      vb_cuda_dwconv3x3_backward (cu, d_din2, d_dw2, d_g, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "dwconv din", d_din, d_din2, n);
      assert_same_bits (cu, "dwconv dw", d_dw, d_dw2, nw);

      /* NULL-able outputs */
      vb_cuda_memset (cu, d_din, 0xFF, n * sizeof (float));
      vb_cuda_dwconv3x3_backward (cu, d_din, NULL, d_g, d_x, d_w, B, H, W, C);
      cc_check (cu, "din alone", d_din, din, n);
      vb_cuda_upload (cu, d_dw, dw0, nw * sizeof (float));
      vb_cuda_dwconv3x3_backward (cu, NULL, d_dw, d_g, d_x, d_w, B, H, W, C);
      check_reduced (cu, "dw alone", d_dw, dw, nw, (double) B * H * W);

      CC_FREE_ALL (cu, d_x, d_g, d_w, d_din, d_din2, d_dw, d_dw2);
    }
  vb_cuda_dwconv3x3_backward (cu, NULL, NULL, NULL, NULL, NULL, 0, 3, 3, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- depthwise 3×3 fused with SiLU ------------------------------------------------- */

/* bf16 bits as integers in the order of the values (±0 both 0), so that adjacent
 * representable values differ by one */
static int
bf16_order (VbBf16 h)
{
  return (h & 0x8000) != 0 ? -(int) (h & 0x7FFF) : (int) h;
}

/* every element finite and within one bf16 ulp of the CPU's rounding, or, where the fp32
 * value it rounds is tiny (taps that cancel: the fp32 check allows 1e-5 absolute there, far
 * more than a bf16 ulp of such a value), within that 1e-5 */
static void
check_bf16_ulp (VbCuda *cu, const char *what, const VbBf16 *dev, const VbBf16 *want, gsize n)
{
  g_autofree VbBf16 *got = cc_download16 (cu, dev, n);
  gsize off = 0, tiny = 0;
  for (gsize i = 0; i < n; i++)
    {
      if ((got[i] & 0x7F80) == 0x7F80)
        g_error ("%s: element %" G_GSIZE_FORMAT " is not finite (0x%04x: unwritten?)", what, i,
                 got[i]);
      int d = bf16_order (got[i]) - bf16_order (want[i]);
      if (d < -1 || d > 1)
        {
          if (!(fabsf (vb_bf16_to_float (got[i]) - vb_bf16_to_float (want[i])) <= 1e-5f))
            g_error ("%s: element %" G_GSIZE_FORMAT ": GPU %g, CPU %g", what, i,
                     vb_bf16_to_float (got[i]), vb_bf16_to_float (want[i]));
          tiny++;
        }
      else
        off += d != 0;
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values one ulp off, %"
                  G_GSIZE_FORMAT " tiny ones further (within 1e-5)", what, off, n, tiny);
}

/* pre, out, out16 against the CPU's composition (fp32 noise; out16 within one ulp) and
 * bit for bit against the unfused GPU ops (dwconv3x3, silu, to_bf16); out16 NULL, and
 * out16 off 8-byte alignment (the scalar kernel on C % 4 == 0), give the same bits */
static void
test_dwconv_silu_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 12);

  for (gsize s = 0; s < G_N_ELEMENTS (dw_shapes); s++)
    {
      int B = dw_shapes[s].B, H = dw_shapes[s].H, W = dw_shapes[s].W, C = dw_shapes[s].C;
      gsize n = (gsize) B * H * W * C;
      g_autofree float *x = cc_random (rng, n, -2.0, 2.0);
      g_autofree float *w = cc_random (rng, 9 * (gsize) C, -1.0, 1.0);
      g_autofree float *pre = g_new (float, n), *out = g_new (float, n);
      g_autofree VbBf16 *out16 = g_new (VbBf16, n);
      g_autofree char *what = g_strdup_printf ("dwconv3x3+silu forward %dx%dx%dx%d", B, H, W,
                                               C);
      float *d_x = cc_upload_floats (cu, x, n), *d_w = cc_upload_floats (cu, w, 9 * (gsize) C);
      float *d_pre = cc_poisoned (cu, n), *d_out = cc_poisoned (cu, n);
      float *d_pre2 = cc_poisoned (cu, n), *d_out2 = cc_poisoned (cu, n);
      VbBf16 *d_out16 = cc_poisoned16 (cu, n + 1), *d_out16b = cc_poisoned16 (cu, n);

      vb_dwconv3x3_silu_forward (pre, out, out16, x, w, B, H, W, C);
      vb_cuda_dwconv3x3_silu_forward (cu, d_pre, d_out, d_out16, d_x, d_w, B, H, W, C);
      cc_check (cu, what, d_pre, pre, n);
      cc_check (cu, "out = SiLU (pre)", d_out, out, n);
      check_bf16_ulp (cu, "out16", d_out16, out16, n);

      vb_cuda_dwconv3x3_forward (cu, d_pre2, d_x, d_w, B, H, W, C);
      vb_cuda_silu_forward (cu, d_out2, d_pre2, (int64_t) n);
      vb_cuda_to_bf16 (cu, d_out16b, d_out2, NULL, 1, (int64_t) n);
      assert_same_bits (cu, "fused pre vs dwconv3x3", d_pre, d_pre2, n);
      assert_same_bits (cu, "fused out vs silu", d_out, d_out2, n);
      cc_assert_same16 (cu, "fused out16 vs to_bf16", d_out16, d_out16b, n);

      vb_cuda_memset (cu, d_pre2, 0xFF, n * sizeof (float));
      vb_cuda_memset (cu, d_out2, 0xFF, n * sizeof (float));
      vb_cuda_dwconv3x3_silu_forward (cu, d_pre2, d_out2, NULL, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "pre (out16 NULL)", d_pre, d_pre2, n);
      assert_same_bits (cu, "out (out16 NULL)", d_out, d_out2, n);

      /* out NULL (bf16 storage keeps only out16): the same pre and out16 */
      vb_cuda_memset (cu, d_pre2, 0xFF, n * sizeof (float));
      vb_cuda_memset (cu, d_out16b, 0xFF, n * sizeof (VbBf16));
      vb_cuda_dwconv3x3_silu_forward (cu, d_pre2, NULL, d_out16b, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "pre (out NULL)", d_pre, d_pre2, n);
      cc_assert_same16 (cu, "out16 (out NULL)", d_out16b, d_out16, n);

      vb_cuda_memset (cu, d_pre2, 0xFF, n * sizeof (float));
      vb_cuda_memset (cu, d_out2, 0xFF, n * sizeof (float));
      vb_cuda_dwconv3x3_silu_forward (cu, d_pre2, d_out2, d_out16 + 1, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "pre (scalar kernel)", d_pre, d_pre2, n);
      assert_same_bits (cu, "out (scalar kernel)", d_out, d_out2, n);
      cc_assert_same16 (cu, "out16 (scalar kernel)", d_out16 + 1, d_out16b, n);

      CC_FREE_ALL (cu, d_x, d_w, d_pre, d_out, d_pre2, d_out2, d_out16, d_out16b);
    }
  vb_cuda_dwconv3x3_silu_forward (cu, NULL, NULL, NULL, NULL, NULL, 0, 3, 3, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* din (written) and dw (+= onto random values) against the CPU's composition, and bit
 * for bit against the unfused GPU ops (silu_backward into a d_pre buffer, then
 * dwconv3x3_backward); din or dw alone give the same bits */
static void
test_dwconv_silu_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 13);

  for (gsize s = 0; s < G_N_ELEMENTS (dw_shapes); s++)
    {
      int B = dw_shapes[s].B, H = dw_shapes[s].H, W = dw_shapes[s].W, C = dw_shapes[s].C;
      gsize n = (gsize) B * H * W * C, nw = 9 * (gsize) C;
      g_autofree float *x = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *pre = cc_random (rng, n, -6.0, 6.0);
      g_autofree float *g = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *w = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *dw0 = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *din = g_new (float, n);
      g_autofree float *dw = copy_of (dw0, nw);
      g_autofree char *what = g_strdup_printf ("dwconv3x3+silu backward %dx%dx%dx%d", B, H, W,
                                               C);

      vb_dwconv3x3_silu_backward (din, NULL, dw, g, pre, x, w, B, H, W, C);

      float *d_x = cc_upload_floats (cu, x, n), *d_pre = cc_upload_floats (cu, pre, n);
      float *d_g = cc_upload_floats (cu, g, n), *d_w = cc_upload_floats (cu, w, nw);
      float *d_din = cc_poisoned (cu, n), *d_din2 = cc_poisoned (cu, n);
      float *d_dpre = cc_poisoned (cu, n);
      float *d_dw = cc_upload_floats (cu, dw0, nw), *d_dw2 = cc_upload_floats (cu, dw0, nw);

      vb_cuda_dwconv3x3_silu_backward (cu, d_din, NULL, d_dw, d_g, d_pre, d_x, d_w, B, H, W, C);
      cc_check (cu, what, d_din, din, n);
      check_reduced (cu, "dw (+=)", d_dw, dw, nw, (double) B * H * W);

      vb_cuda_silu_backward (cu, d_dpre, d_g, d_pre, (int64_t) n);
      vb_cuda_dwconv3x3_backward (cu, d_din2, d_dw2, d_dpre, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "fused din vs unfused", d_din, d_din2, n);
      assert_same_bits (cu, "fused dw vs unfused", d_dw, d_dw2, nw);

      /* NULL-able outputs */
      vb_cuda_memset (cu, d_din2, 0xFF, n * sizeof (float));
      vb_cuda_dwconv3x3_silu_backward (cu, d_din2, NULL, NULL, d_g, d_pre, d_x, d_w, B, H, W,
                                       C);
      assert_same_bits (cu, "din alone", d_din, d_din2, n);
      vb_cuda_upload (cu, d_dw2, dw0, nw * sizeof (float));
      vb_cuda_dwconv3x3_silu_backward (cu, NULL, NULL, d_dw2, d_g, d_pre, d_x, d_w, B, H, W, C);
      assert_same_bits (cu, "dw alone", d_dw, d_dw2, nw);

      /* din16: the fp32 din rounded once, alone or beside din, vector and scalar kernels
       * (an 8-byte-misaligned din16 takes the scalar one) */
      VbBf16 *d_din16 = cc_poisoned16 (cu, n + 1), *d_want16 = cc_poisoned16 (cu, n);
      vb_cuda_to_bf16 (cu, d_want16, d_din, NULL, 1, (int64_t) n);
      vb_cuda_dwconv3x3_silu_backward (cu, NULL, d_din16, NULL, d_g, d_pre, d_x, d_w, B, H, W, C);
      cc_assert_same16 (cu, "din16 alone vs to_bf16 (din)", d_din16, d_want16, n);
      vb_cuda_memset (cu, d_din2, 0xFF, n * sizeof (float));
      vb_cuda_dwconv3x3_silu_backward (cu, d_din2, d_din16 + 1, NULL, d_g, d_pre, d_x, d_w, B,
                                       H, W, C);
      cc_assert_same16 (cu, "din16 (scalar kernel)", d_din16 + 1, d_want16, n);
      assert_same_bits (cu, "din beside din16", d_din, d_din2, n);

      CC_FREE_ALL (cu, d_x, d_pre, d_g, d_w, d_din, d_din2, d_dpre, d_dw, d_dw2, d_din16, d_want16);
    }
  vb_cuda_dwconv3x3_silu_backward (cu, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 3, 3, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the cross-merge fused into the LayerNorm ---------------------------------------- */

/* the LayerNorm test's widths (the fast path's 4 … 1000, c % 4 != 0 and c > 1024 on the
 * warp-per-row kernel), n not a multiple of 32, VMamba-T's stage 1 and 2 at batch 4 */
static const struct { int64_t n; int c; } mln_shapes[] = {
  { 1, 1 }, { 7, 3 }, { 33, 37 }, { 1001, 96 }, { 77, 768 }, { 517, 4 }, { 300, 48 },
  { 1031, 192 }, { 250, 384 }, { 50, 1000 }, { 33, 1028 }, { 1, 96 }, { 12544, 96 },
  { 3137, 192 },
};

/* y = Σ_k ys, out (fp32, then bf16) = LayerNorm (y), mean, rstd for K = 1, 2, 4: against
 * the CPU's composition (fp32 noise; bf16 within one ulp), and bit for bit against the
 * unfused GPU ops (group_sum, then layernorm_forward or _bf16) with the output aligned
 * (the fast path where c suits it) and one element off (the warp-per-row kernel); with ys
 * one float off its alignment (the warp-per-row kernel, while the unfused LayerNorm on an
 * aligned y may take the fast path) against the CPU only. Outputs poisoned first. */
static void
test_merge_layernorm_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 21);
  static const int Ks[] = { 1, 2, 4 };
  VbOps *ops = vb_cuda_ops_new (cu);

  g_assert_nonnull (ops);
  g_assert_nonnull (ops->merge_layernorm_forward);
  for (gsize s = 0; s < G_N_ELEMENTS (mln_shapes); s++)
    for (gsize ki = 0; ki < G_N_ELEMENTS (Ks); ki++)
      {
        int64_t n = mln_shapes[s].n;
        int c = mln_shapes[s].c, K = Ks[ki];
        gsize nc = (gsize) n * c, nys = nc * K;
        g_autofree float *ys = cc_random (rng, nys, -1.0, 3.0);
        g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
        g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
        g_autofree float *y = g_new (float, nc), *out = g_new (float, nc);
        g_autofree float *mean = g_new (float, n), *rstd = g_new (float, n);
        g_autofree float *y16 = g_new (float, nc), *mean16 = g_new (float, n);
        g_autofree float *rstd16 = g_new (float, n);
        g_autofree VbBf16 *out16 = g_new (VbBf16, nc);
        float *d_ys = cc_upload_floats (cu, ys, nys);
        float *d_ys_off = cc_poisoned (cu, nys + 1);
        float *d_gamma = cc_upload_floats (cu, gamma, c), *d_beta = cc_upload_floats (cu, beta, c);
        float *d_y = cc_poisoned (cu, nc), *d_y2 = cc_poisoned (cu, nc);
        float *d_out = cc_poisoned (cu, nc + 1), *d_out2 = cc_poisoned (cu, nc + 1);
        VbBf16 *d_out16 = cc_poisoned16 (cu, nc + 1), *d_out16b = cc_poisoned16 (cu, nc + 1);
        float *d_mean = cc_poisoned (cu, n), *d_rstd = cc_poisoned (cu, n);
        float *d_mean2 = cc_poisoned (cu, n), *d_rstd2 = cc_poisoned (cu, n);

        if (vb_cuda_upload (cu, d_ys_off + 1, ys, nys * sizeof (float)) != 0)
          g_error ("%s", vb_cuda_error (cu));
        vb_merge_layernorm_forward (y, out, NULL, mean, rstd, ys, K, gamma, beta, n, c, 1e-5f);
        vb_merge_layernorm_forward (y16, NULL, out16, mean16, rstd16, ys, K, gamma, beta, n, c,
                                    1e-5f);
        /* the unfused GPU ops: y2 once, then the LayerNorms per case */
        vb_cuda_group_sum (cu, d_y2, d_ys, n, K, c, 0);

        for (int bf16 = 0; bf16 < 2; bf16++)
          for (int variant = 0; variant < 3; variant++)
            {
              /* variant 0: aligned; 1: output one element off; 2: ys one float off */
              gsize off = variant == 1 ? 1 : 0;
              const float *src = variant == 2 ? d_ys_off + 1 : d_ys;
              g_autofree char *what = g_strdup_printf (
                  "merge+layernorm %s n=%" G_GINT64_FORMAT " c=%d K=%d %s", bf16 ? "bf16" : "fp32",
                  n, c, K, variant == 0 ? "aligned" : variant == 1 ? "out + 1" : "ys + 1");

              vb_cuda_memset (cu, d_y, 0xFF, nc * sizeof (float));
              vb_cuda_memset (cu, d_out, 0xFF, (nc + 1) * sizeof (float));
              vb_cuda_memset (cu, d_out16, 0xFF, (nc + 1) * sizeof (VbBf16));
              vb_cuda_memset (cu, d_mean, 0xFF, n * sizeof (float));
              vb_cuda_memset (cu, d_rstd, 0xFF, n * sizeof (float));
              /* bf16 through the table (its wiring), fp32 directly */
              if (bf16)
                ops->merge_layernorm_forward (ops->ctx, d_y, NULL, d_out16 + off, d_mean, d_rstd,
                                              src, K, d_gamma, d_beta, n, c, 1e-5f);
              else
                vb_cuda_merge_layernorm_forward (cu, d_y, d_out + off, NULL, d_mean, d_rstd, src,
                                                 K, d_gamma, d_beta, n, c, 1e-5f);
              cc_check (cu, what, d_y, bf16 ? y16 : y, nc);
              if (bf16)
                check_bf16_ulp (cu, "out16", d_out16 + off, out16, nc);
              else
                cc_check (cu, "out", d_out + off, out, nc);
              cc_check (cu, "mean", d_mean, bf16 ? mean16 : mean, n);
              cc_check (cu, "rstd", d_rstd, bf16 ? rstd16 : rstd, n);
              if (variant == 2)
                continue;

              vb_cuda_memset (cu, d_mean2, 0xFF, n * sizeof (float));
              vb_cuda_memset (cu, d_rstd2, 0xFF, n * sizeof (float));
              if (bf16)
                vb_cuda_layernorm_forward_bf16 (cu, d_out16b + off, d_mean2, d_rstd2, d_y2, d_gamma,
                                                d_beta, n, c, 1e-5f);
              else
                vb_cuda_layernorm_forward (cu, d_out2 + off, d_mean2, d_rstd2, d_y2, d_gamma,
                                           d_beta, n, c, 1e-5f);
              assert_same_bits (cu, "y vs group_sum", d_y, d_y2, nc);
              if (bf16)
                cc_assert_same16 (cu, "out16 vs layernorm_forward_bf16", d_out16 + off,
                                  d_out16b + off, nc);
              else
                assert_same_bits (cu, "out vs layernorm_forward", d_out + off, d_out2 + off, nc);
              assert_same_bits (cu, "mean vs layernorm_forward", d_mean, d_mean2, n);
              assert_same_bits (cu, "rstd vs layernorm_forward", d_rstd, d_rstd2, n);
            }
        CC_FREE_ALL (cu, d_ys, d_ys_off, d_gamma, d_beta, d_y, d_y2, d_out, d_out2, d_out16,
                  d_out16b, d_mean, d_rstd, d_mean2, d_rstd2);
      }
  vb_cuda_merge_layernorm_forward (cu, NULL, NULL, NULL, NULL, NULL, NULL, 4, NULL, NULL, 0, 96,
                                   1e-5f);
  ops->merge_layernorm_forward (ops->ctx, NULL, NULL, NULL, NULL, NULL, NULL, 4, NULL, NULL, 0,
                                96, 1e-5f);
  cc_assert_ok (cu);
  vb_cuda_ops_free (ops);
  g_rand_free (rng);
}

/* ---- 3×3 stride 2 ------------------------------------------------------------------- */

/* { 3, 255, 253, 96, 8 } needs two im2col chunks on the GPU (2 + 1 samples of 14 M
 * floats), so the chunk offsets and the wgrad accumulation over chunks are exercised;
 * cin % 4 != 0 takes the scalar im2col/col2im, cout % 4 != 0 the scalar bias fill; the
 * last two are the stem's first conv and stage 3's downsample at 224 px */
static const struct { int B, H, W, cin, cout; } cv_shapes[] = {
  { 1, 1, 1, 1, 1 }, { 2, 9, 7, 3, 48 }, { 1, 5, 5, 37, 5 }, { 3, 8, 8, 48, 96 },
  { 2, 14, 14, 96, 192 }, { 1, 4, 6, 7, 3 }, { 3, 255, 253, 96, 8 }, { 2, 224, 224, 3, 48 },
  { 2, 28, 28, 192, 384 },
};

static void
test_conv3x3s2_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 12);

  for (gsize s = 0; s < G_N_ELEMENTS (cv_shapes); s++)
    {
      int B = cv_shapes[s].B, H = cv_shapes[s].H, W = cv_shapes[s].W;
      int cin = cv_shapes[s].cin, cout = cv_shapes[s].cout;
      int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
      gsize n_in = (gsize) B * H * W * cin, n_out = (gsize) B * Ho * Wo * cout;
      gsize nw = (gsize) cout * cin * 9;
      g_autofree float *x = cc_random (rng, n_in, -1.0, 1.0);
      g_autofree float *w = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *b = cc_random (rng, cout, -1.0, 1.0);
      g_autofree float *out = g_new (float, n_out);
      g_autofree char *what = g_strdup_printf ("conv3x3s2 forward %dx%dx%dx%d → %d", B, H, W,
                                               cin, cout);
      float *d_x = cc_upload_floats (cu, x, n_in), *d_w = cc_upload_floats (cu, w, nw), *d_b = cc_upload_floats (cu, b, cout);
      float *d_out = cc_poisoned (cu, n_out);

      /* each output sums 9·cin products */
      vb_conv3x3s2_forward (out, x, w, b, B, H, W, cin, cout);
      vb_cuda_conv3x3s2_forward (cu, d_out, d_x, d_w, d_b, B, H, W, cin, cout);
      check_reduced (cu, what, d_out, out, n_out, 9.0 * cin);

      /* no bias */
      vb_conv3x3s2_forward (out, x, w, NULL, B, H, W, cin, cout);
      vb_cuda_memset (cu, d_out, 0xFF, n_out * sizeof (float));
      vb_cuda_conv3x3s2_forward (cu, d_out, d_x, d_w, NULL, B, H, W, cin, cout);
      check_reduced (cu, "no bias", d_out, out, n_out, 9.0 * cin);

      CC_FREE_ALL (cu, d_x, d_w, d_b, d_out);
    }
  vb_cuda_conv3x3s2_forward (cu, NULL, NULL, NULL, NULL, 0, 8, 8, 3, 4);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_conv3x3s2_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 13);

  for (gsize s = 0; s < G_N_ELEMENTS (cv_shapes); s++)
    {
      int B = cv_shapes[s].B, H = cv_shapes[s].H, W = cv_shapes[s].W;
      int cin = cv_shapes[s].cin, cout = cv_shapes[s].cout;
      int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
      gsize n_in = (gsize) B * H * W * cin, n_out = (gsize) B * Ho * Wo * cout;
      gsize nw = (gsize) cout * cin * 9;
      double rows = (double) B * Ho * Wo;
      g_autofree float *x = cc_random (rng, n_in, -1.0, 1.0);
      g_autofree float *g = cc_random (rng, n_out, -1.0, 1.0);
      g_autofree float *w = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *dw0 = cc_random (rng, nw, -1.0, 1.0);
      g_autofree float *db0 = cc_random (rng, cout, -1.0, 1.0);
      g_autofree float *din = g_new (float, n_in);
      g_autofree float *dw = copy_of (dw0, nw);
      g_autofree float *db = copy_of (db0, cout);
      g_autofree char *what = g_strdup_printf ("conv3x3s2 backward %dx%dx%dx%d → %d", B, H, W,
                                               cin, cout);

      vb_conv3x3s2_backward (din, dw, db, g, x, w, B, H, W, cin, cout);

      float *d_x = cc_upload_floats (cu, x, n_in), *d_g = cc_upload_floats (cu, g, n_out), *d_w = cc_upload_floats (cu, w, nw);
      float *d_din = cc_poisoned (cu, n_in), *d_din2 = cc_poisoned (cu, n_in);
      float *d_dw = cc_upload_floats (cu, dw0, nw), *d_dw2 = cc_upload_floats (cu, dw0, nw);
      float *d_db = cc_upload_floats (cu, db0, cout), *d_db2 = cc_upload_floats (cu, db0, cout);

      /* din sums ≤ 4 taps of cout products, dw and db sum over the B·Ho·Wo output pixels */
      vb_cuda_conv3x3s2_backward (cu, d_din, d_dw, d_db, d_g, d_x, d_w, B, H, W, cin, cout);
      check_reduced (cu, what, d_din, din, n_in, 4.0 * cout);
      check_reduced (cu, "dw (+=)", d_dw, dw, nw, rows);
      check_reduced (cu, "db (+=)", d_db, db, cout, rows);

      vb_cuda_conv3x3s2_backward (cu, d_din2, d_dw2, d_db2, d_g, d_x, d_w, B, H, W, cin, cout);
      assert_same_bits (cu, "conv3x3s2 din", d_din, d_din2, n_in);
      assert_same_bits (cu, "conv3x3s2 dw", d_dw, d_dw2, nw);
      assert_same_bits (cu, "conv3x3s2 db", d_db, d_db2, cout);

      /* NULL-able outputs, one at a time; the others stay untouched */
      vb_cuda_memset (cu, d_din, 0xFF, n_in * sizeof (float));
      vb_cuda_upload (cu, d_dw, dw0, nw * sizeof (float));
      vb_cuda_upload (cu, d_db, db0, cout * sizeof (float));
      vb_cuda_conv3x3s2_backward (cu, d_din, NULL, NULL, d_g, d_x, d_w, B, H, W, cin, cout);
      check_reduced (cu, "din alone", d_din, din, n_in, 4.0 * cout);
      vb_cuda_conv3x3s2_backward (cu, NULL, d_dw, NULL, d_g, d_x, d_w, B, H, W, cin, cout);
      check_reduced (cu, "dw alone", d_dw, dw, nw, rows);
      cc_check (cu, "db untouched", d_db, db0, cout);
      vb_cuda_conv3x3s2_backward (cu, NULL, NULL, d_db, d_g, d_x, d_w, B, H, W, cin, cout);
      check_reduced (cu, "db alone", d_db, db, cout, rows);

      CC_FREE_ALL (cu, d_x, d_g, d_w, d_din, d_din2, d_dw, d_dw2, d_db, d_db2);
    }
  vb_cuda_conv3x3s2_backward (cu, NULL, NULL, NULL, NULL, NULL, NULL, 0, 8, 8, 3, 4);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- head ----------------------------------------------------------------------------- */

static const struct { int B, L, C; } pool_shapes[] = {
  { 1, 1, 1 }, { 2, 49, 768 }, { 3, 37, 3 }, { 5, 196, 96 }, { 128, 49, 768 },
};

static void
test_avgpool_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 14);

  for (gsize s = 0; s < G_N_ELEMENTS (pool_shapes); s++)
    {
      int B = pool_shapes[s].B, L = pool_shapes[s].L, C = pool_shapes[s].C;
      gsize n_in = (gsize) B * L * C, n_out = (gsize) B * C;
      g_autofree float *x = cc_random (rng, n_in, -2.0, 2.0);
      g_autofree float *out = g_new (float, n_out);
      g_autofree char *what = g_strdup_printf ("avgpool forward %dx%dx%d", B, L, C);
      float *d_x = cc_upload_floats (cu, x, n_in), *d_out = cc_poisoned (cu, n_out);

      vb_avgpool_forward (out, x, B, L, C);
      vb_cuda_avgpool_forward (cu, d_out, d_x, B, L, C);
      cc_check (cu, what, d_out, out, n_out);
      CC_FREE_ALL (cu, d_x, d_out);
    }
  vb_cuda_avgpool_forward (cu, NULL, NULL, 0, 49, 768);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_avgpool_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 15);

  for (gsize s = 0; s < G_N_ELEMENTS (pool_shapes); s++)
    {
      int B = pool_shapes[s].B, L = pool_shapes[s].L, C = pool_shapes[s].C;
      gsize n_in = (gsize) B * L * C, n_out = (gsize) B * C;
      g_autofree float *g = cc_random (rng, n_out, -2.0, 2.0);
      g_autofree float *din = g_new (float, n_in);
      g_autofree char *what = g_strdup_printf ("avgpool backward %dx%dx%d", B, L, C);
      float *d_g = cc_upload_floats (cu, g, n_out), *d_din = cc_poisoned (cu, n_in);

      vb_avgpool_backward (din, g, B, L, C);
      vb_cuda_avgpool_backward (cu, d_din, d_g, B, L, C);
      cc_check (cu, what, d_din, din, n_in);
      CC_FREE_ALL (cu, d_g, d_din);
    }
  vb_cuda_avgpool_backward (cu, NULL, NULL, 0, 49, 768);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static const struct { int B, classes; float smoothing; } xent_shapes[] = {
  { 1, 1, 0.0f }, { 3, 10, 0.1f }, { 37, 1000, 0.1f }, { 128, 1000, 0.0f }, { 5, 257, 0.3f },
};

static int *
random_labels (GRand *rng, int B, int classes)
{
  int *labels = g_new (int, B);
  for (int b = 0; b < B; b++)
    labels[b] = g_rand_int_range (rng, 0, classes);
  return labels;
}

static void
test_softmax_xent_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 16);

  for (gsize s = 0; s < G_N_ELEMENTS (xent_shapes); s++)
    {
      int B = xent_shapes[s].B, classes = xent_shapes[s].classes;
      float sm = xent_shapes[s].smoothing;
      gsize n = (gsize) B * classes;
      g_autofree float *logits = cc_random (rng, n, -8.0, 8.0);
      g_autofree int *labels = random_labels (rng, B, classes);
      g_autofree float *probs = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("softmax xent forward B=%d classes=%d ε=%g", B,
                                               classes, sm);
      float *d_logits = cc_upload_floats (cu, logits, n), *d_probs = cc_poisoned (cu, n);
      float *d_probs2 = cc_poisoned (cu, n);
      float *d_loss = cc_poisoned (cu, 1), *d_loss2 = cc_poisoned (cu, 1);
      int *d_labels = (int *) cc_upload (cu, labels, B * sizeof (int));
      float loss, got;

      loss = vb_softmax_xent_forward (probs, logits, labels, B, classes, sm);
      vb_cuda_softmax_xent_forward (cu, d_probs, d_loss, d_logits, d_labels, B, classes, sm);
      cc_check (cu, what, d_probs, probs, n);
      /* the loss is reduced in double on both sides: equal up to the final rounding */
      g_autofree float *h_loss = cc_download (cu, d_loss, 1);
      got = h_loss[0];
      g_test_message ("loss GPU %.9g CPU %.9g", got, loss);
      if (!(fabsf (got - loss) <= 1e-6f * fabsf (loss) + 1e-7f))
        g_error ("%s: loss GPU %.9g, CPU %.9g", what, got, loss);

      vb_cuda_softmax_xent_forward (cu, d_probs2, d_loss2, d_logits, d_labels, B, classes, sm);
      assert_same_bits (cu, "softmax xent probs", d_probs, d_probs2, n);
      assert_same_bits (cu, "softmax xent loss", d_loss, d_loss2, 1);

      CC_FREE_ALL (cu, d_logits, d_probs, d_probs2, d_loss, d_loss2, d_labels);
    }
  /* B = 0: the CPU op returns 0, the GPU writes it */
  {
    float *d_loss = cc_poisoned (cu, 1);
    vb_cuda_softmax_xent_forward (cu, NULL, d_loss, NULL, NULL, 0, 1000, 0.1f);
    g_autofree float *h_loss = cc_download (cu, d_loss, 1);
    g_assert_cmpfloat (h_loss[0], ==, 0.0f);
    vb_cuda_free (cu, d_loss);
  }
  g_rand_free (rng);
}

static void
test_softmax_xent_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 17);

  for (gsize s = 0; s < G_N_ELEMENTS (xent_shapes); s++)
    {
      int B = xent_shapes[s].B, classes = xent_shapes[s].classes;
      float sm = xent_shapes[s].smoothing;
      float dloss = (float) g_rand_double_range (rng, 0.5, 2.0);
      gsize n = (gsize) B * classes;
      g_autofree float *logits = cc_random (rng, n, -8.0, 8.0);
      g_autofree int *labels = random_labels (rng, B, classes);
      g_autofree float *probs = g_new (float, n);
      g_autofree float *dlogits = g_new (float, n);
      g_autofree char *what = g_strdup_printf ("softmax xent backward B=%d classes=%d ε=%g", B,
                                               classes, sm);

      vb_softmax_xent_forward (probs, logits, labels, B, classes, sm);
      vb_softmax_xent_backward (dlogits, probs, labels, B, classes, sm, dloss);

      float *d_probs = cc_upload_floats (cu, probs, n), *d_dlogits = cc_poisoned (cu, n);
      int *d_labels = (int *) cc_upload (cu, labels, B * sizeof (int));

      vb_cuda_softmax_xent_backward (cu, d_dlogits, d_probs, d_labels, B, classes, sm, dloss);
      cc_check (cu, what, d_dlogits, dlogits, n);
      CC_FREE_ALL (cu, d_probs, d_dlogits, d_labels);
    }
  vb_cuda_softmax_xent_backward (cu, NULL, NULL, NULL, 0, 1000, 0.1f, 1.0f);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- optimizer ------------------------------------------------------------------------ */

static void
test_adamw_step (VbCuda *cu)
{
  static const int64_t sizes[] = { 1, 37, 100003 };
  GRand *rng = cc_seeded (SEED + 18);

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gsize n = sizes[s];
      g_autofree float *p = cc_random (rng, n, -1.0, 1.0);
      g_autofree float *m = g_new0 (float, n);
      g_autofree float *v = g_new0 (float, n);
      float *d_p = cc_upload_floats (cu, p, n), *d_m = cc_upload_floats (cu, m, n), *d_v = cc_upload_floats (cu, v, n);

      /* three steps with fresh gradients: the bias corrections change with the step */
      for (int64_t step = 1; step <= 3; step++)
        {
          g_autofree float *grad = cc_random (rng, n, -1.0, 1.0);
          g_autofree char *what = g_strdup_printf ("adamw n=%" G_GSIZE_FORMAT " step %" G_GINT64_FORMAT,
                                                   n, step);
          float *d_grad = cc_upload_floats (cu, grad, n);

          vb_adamw_step (p, grad, m, v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step);
          vb_cuda_adamw_step (cu, d_p, d_grad, d_m, d_v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f,
                              step);
          cc_check (cu, what, d_p, p, n);
          cc_check (cu, "m", d_m, m, n);
          cc_check (cu, "v", d_v, v, n);
          vb_cuda_free (cu, d_grad);
        }
      CC_FREE_ALL (cu, d_p, d_m, d_v);
    }
  vb_cuda_adamw_step (cu, NULL, NULL, NULL, NULL, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, 1);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static double
gpu_sum_squares (VbCuda *cu, double *d_out, const float *d_x, int64_t n)
{
  double got;
  vb_cuda_memset (cu, d_out, 0xFF, sizeof (double));
  vb_cuda_sum_squares (cu, d_out, d_x, n);
  cc_assert_ok (cu);
  if (vb_cuda_download (cu, &got, d_out, sizeof (double)) != 0)
    g_error ("%s", vb_cuda_error (cu));
  return got;
}

static void
test_sum_squares (VbCuda *cu)
{
  /* the last sizes reach the 1024-block cap of the partials */
  static const int64_t sizes[] = { 0, 1, 37, 4097, 1000003, 5000011 };
  GRand *rng = cc_seeded (SEED + 19);
  double *d_out = vb_cuda_alloc (cu, sizeof (double));

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gsize n = sizes[s];
      g_autofree float *x = cc_random (rng, n, -3.0, 3.0);
      float *d_x = cc_upload_floats (cu, x, n);
      double want = vb_sum_squares (x, n);
      double got = gpu_sum_squares (cu, d_out, d_x, n);
      double again = gpu_sum_squares (cu, d_out, d_x, n);

      g_test_message ("sum of squares n=%" G_GSIZE_FORMAT ": GPU %.17g CPU %.17g", n, got, want);
      /* both sum exact squares in double, in different orders */
      if (!(fabs (got - want) <= 1e-12 * want))
        g_error ("sum of squares n=%" G_GSIZE_FORMAT ": GPU %.17g, CPU %.17g", n, got, want);
      if (memcmp (&got, &again, sizeof got) != 0)
        g_error ("sum of squares n=%" G_GSIZE_FORMAT ": two runs differ", n);
      vb_cuda_free (cu, d_x);
    }
  vb_cuda_free (cu, d_out);
  g_rand_free (rng);
}

static void
test_scale (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 20);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_sizes); s++)
    {
      gsize n = ew_sizes[s];
      float k = (float) g_rand_double_range (rng, 0.1, 2.0);
      g_autofree float *x = cc_random (rng, n, -2.0, 2.0);
      g_autofree char *what = g_strdup_printf ("scale n=%" G_GSIZE_FORMAT, n);
      float *d_x = cc_upload_floats (cu, x, n);

      vb_scale (x, k, n);
      vb_cuda_scale (cu, d_x, k, n);
      cc_check (cu, what, d_x, x, n);
      vb_cuda_free (cu, d_x);
    }

  /* more elements than the 2^20 blocks × 256 threads of one grid: the grid-stride loop
   * must cover the tail (bytes 0x3F make every element 0.747058…) */
  {
    gsize n = ((gsize) 1 << 28) + 12347;
    float v, want;
    float *d_x = vb_cuda_alloc (cu, n * sizeof (float));
    if (d_x == NULL)
      g_error ("%s", vb_cuda_error (cu));
    memset (&v, 0x3F, sizeof v);
    want = v * 1.5f;
    vb_cuda_memset (cu, d_x, 0x3F, n * sizeof (float));
    vb_cuda_scale (cu, d_x, 1.5f, n);
    g_autofree float *got = cc_download (cu, d_x, n);
    for (gsize i = 0; i < n; i++)
      if (got[i] != want)
        g_error ("scale n=%" G_GSIZE_FORMAT ": element %" G_GSIZE_FORMAT " is %g, want %g", n,
                 i, got[i], want);
    vb_cuda_free (cu, d_x);
  }
  vb_cuda_scale (cu, NULL, 2.0f, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- parameter-gradient sums queued ------------------------------------------------- */

/* One round of ops whose parameter gradients end in a last sum over chunks, each into its
 * own slice of grads: PS_LN LayerNorm backwards (vector kernel, more than a launch's 72
 * queued sums), one with 1024 chunks, one on the generic kernel (c = 37), a bias's column
 * sum and the depthwise conv's (tap, channel) → (channel, tap) weight */
#define PS_LN 45
#define PS_SMALL_C 40
enum { PS_N = 300, PS_BIG_N = 40000, PS_BIG_C = 96, PS_ODD_N = 77, PS_ODD_C = 37,
       PS_LIN_N = 1000, PS_LIN_IN = 8, PS_LIN_OUT = 24, PS_DW_B = 2, PS_DW_H = 9, PS_DW_W = 7,
       PS_DW_C = 12 };
#define PS_GRADS (PS_LN * 2 * PS_SMALL_C + 2 * PS_BIG_C + 2 * PS_ODD_C + PS_LIN_OUT \
                  + PS_LIN_IN * PS_LIN_OUT + 9 * PS_DW_C)

typedef struct
{
  float *x, *g, *gamma, *mean, *rstd, *din;   /* PS_BIG_N × PS_BIG_C, reused by every LN */
  float *lin_in, *lin_w, *lin_dout, *lin_din;
  float *dw_in, *dw_pre, *dw_dout, *dw_w, *dw_din;
} PsInputs;

static void
ps_round (VbCuda *cu, const PsInputs *in, float *grads)
{
  float *g = grads;
  for (int i = 0; i < PS_LN; i++, g += 2 * PS_SMALL_C)
    vb_cuda_layernorm_backward (cu, in->din, 0, g, g + PS_SMALL_C, in->g, in->x, in->mean,
                                in->rstd, in->gamma, PS_N, PS_SMALL_C);
  vb_cuda_layernorm_backward (cu, in->din, 0, g, g + PS_BIG_C, in->g, in->x, in->mean,
                              in->rstd, in->gamma, PS_BIG_N, PS_BIG_C);
  g += 2 * PS_BIG_C;
  vb_cuda_layernorm_backward (cu, in->din, 0, g, g + PS_ODD_C, in->g, in->x, in->mean,
                              in->rstd, in->gamma, PS_ODD_N, PS_ODD_C);
  g += 2 * PS_ODD_C;
  vb_cuda_linear_backward (cu, in->lin_din, PS_LIN_IN, 0, g + PS_LIN_OUT, g, in->lin_dout,
                           PS_LIN_OUT, in->lin_in, PS_LIN_IN, in->lin_w, PS_LIN_N, PS_LIN_IN,
                           PS_LIN_OUT);
  g += PS_LIN_OUT + PS_LIN_IN * PS_LIN_OUT;
  vb_cuda_dwconv3x3_silu_backward (cu, in->dw_din, NULL, g, in->dw_dout, in->dw_pre,
                                   in->dw_in, in->dw_w, PS_DW_B, PS_DW_H, PS_DW_W, PS_DW_C);
}

/* Queued between param_sums_defer and param_sums_flush, the sums are the same bits as
 * done at once; nothing is summed before the flush; the first deferred round (an empty
 * arena, grown as it goes) and the next (sized by it) agree */
static void
test_param_sums_deferred (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 21);
  gsize nc = (gsize) PS_BIG_N * PS_BIG_C, ndw = (gsize) PS_DW_B * PS_DW_H * PS_DW_W * PS_DW_C;
  g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
  g_autofree float *gamma = cc_random (rng, PS_BIG_C, 0.5, 1.5);
  g_autofree float *beta = cc_random (rng, PS_BIG_C, -0.5, 0.5);
  g_autofree float *out = g_new (float, nc);
  g_autofree float *mean = g_new (float, PS_BIG_N);
  g_autofree float *rstd = g_new (float, PS_BIG_N);
  /* statistics of c = 96 rows serve every LayerNorm here: only the sums' bits matter */
  vb_layernorm_forward (out, mean, rstd, x, gamma, beta, PS_BIG_N, PS_BIG_C, 1e-5f);
  g_autofree float *g = cc_random (rng, nc, -1.0, 1.0);
  g_autofree float *lin_in = cc_random (rng, PS_LIN_N * PS_LIN_IN, -1.0, 1.0);
  g_autofree float *lin_w = cc_random (rng, PS_LIN_IN * PS_LIN_OUT, -1.0, 1.0);
  g_autofree float *lin_dout = cc_random (rng, PS_LIN_N * PS_LIN_OUT, -1.0, 1.0);
  g_autofree float *dw_in = cc_random (rng, ndw, -1.0, 1.0);
  g_autofree float *dw_pre = cc_random (rng, ndw, -2.0, 2.0);
  g_autofree float *dw_dout = cc_random (rng, ndw, -1.0, 1.0);
  g_autofree float *dw_w = cc_random (rng, 9 * PS_DW_C, -1.0, 1.0);
  g_autofree float *grads0 = cc_random (rng, PS_GRADS, -1.0, 1.0);
  PsInputs in = {
    cc_upload_floats (cu, x, nc), cc_upload_floats (cu, g, nc),
    cc_upload_floats (cu, gamma, PS_BIG_C), cc_upload_floats (cu, mean, PS_BIG_N),
    cc_upload_floats (cu, rstd, PS_BIG_N), cc_poisoned (cu, nc),
    cc_upload_floats (cu, lin_in, PS_LIN_N * PS_LIN_IN),
    cc_upload_floats (cu, lin_w, PS_LIN_IN * PS_LIN_OUT),
    cc_upload_floats (cu, lin_dout, PS_LIN_N * PS_LIN_OUT), cc_poisoned (cu, PS_LIN_N * PS_LIN_IN),
    cc_upload_floats (cu, dw_in, ndw), cc_upload_floats (cu, dw_pre, ndw),
    cc_upload_floats (cu, dw_dout, ndw), cc_upload_floats (cu, dw_w, 9 * PS_DW_C),
    cc_poisoned (cu, ndw),
  };
  float *at_once = cc_upload_floats (cu, grads0, PS_GRADS);
  float *queued = cc_upload_floats (cu, grads0, PS_GRADS);

  ps_round (cu, &in, at_once);
  for (int round = 0; round < 2; round++)
    {
      vb_cuda_upload (cu, queued, grads0, PS_GRADS * sizeof (float));
      vb_cuda_param_sums_defer (cu);
      ps_round (cu, &in, queued);
      /* the depthwise weight's sum, queued last, has not run (downloading waits for the
       * stream: what was launched is done) */
      g_autofree float *before = cc_download (cu, queued, PS_GRADS);
      gsize dw_at = PS_GRADS - 9 * PS_DW_C;
      if (memcmp (before + dw_at, grads0 + dw_at, 9 * PS_DW_C * sizeof (float)) != 0)
        g_error ("round %d: a queued sum ran before the flush", round);
      /* once the first round has sized the arena, the queue runs only when its table is
       * full (72 sums: LayerNorm 36's are the first after that launch), never because the
       * arena filled; the linear weight's gradient is cuBLAS's, written at once */
      if (round == 1)
        {
          gsize from = 36 * 2 * PS_SMALL_C, lin_w_at = PS_LN * 2 * PS_SMALL_C + 2 * PS_BIG_C
                                                       + 2 * PS_ODD_C + PS_LIN_OUT;
          for (gsize i = from; i < PS_GRADS; i++)
            if ((i < lin_w_at || i >= lin_w_at + PS_LIN_IN * PS_LIN_OUT)
                && memcmp (before + i, grads0 + i, sizeof (float)) != 0)
              g_error ("arena sized: gradient %" G_GSIZE_FORMAT " summed before the flush", i);
        }
      vb_cuda_param_sums_flush (cu);
      assert_same_bits (cu, round == 0 ? "queued (arena growing)" : "queued (arena sized)",
                        queued, at_once, PS_GRADS);
    }
  /* and after the flush, sums are done at once again */
  vb_cuda_upload (cu, queued, grads0, PS_GRADS * sizeof (float));
  ps_round (cu, &in, queued);
  assert_same_bits (cu, "at once after a flush", queued, at_once, PS_GRADS);
  CC_FREE_ALL (cu, in.x, in.g, in.gamma, in.mean, in.rstd, in.din, in.lin_in, in.lin_w,
               in.lin_dout, in.lin_din, in.dw_in, in.dw_pre, in.dw_dout, in.dw_w, in.dw_din,
               at_once, queued);
  g_rand_free (rng);
}

/* ---- the table ------------------------------------------------------------------------ */

typedef struct {
  const char *path;
  void      (*run) (VbCuda *cu);
} CudaTest;

static const CudaTest cuda_tests[] = {
  { "/vb/cuda/ops/gelu-forward", test_gelu_forward },
  { "/vb/cuda/ops/gelu-backward", test_gelu_backward },
  { "/vb/cuda/ops/silu-forward", test_silu_forward },
  { "/vb/cuda/ops/silu-backward", test_silu_backward },
  { "/vb/cuda/ops/add", test_add },
  { "/vb/cuda/ops/residual-add", test_residual_add },
  { "/vb/cuda/ops/drop-path-backward", test_drop_path_backward },
  { "/vb/cuda/ops/layernorm-forward", test_layernorm_forward },
  { "/vb/cuda/ops/layernorm-backward", test_layernorm_backward },
  { "/vb/cuda/ops/merge-layernorm-forward", test_merge_layernorm_forward },
  { "/vb/cuda/ops/dwconv3x3-forward", test_dwconv_forward },
  { "/vb/cuda/ops/dwconv3x3-backward", test_dwconv_backward },
  { "/vb/cuda/ops/dwconv-silu-forward", test_dwconv_silu_forward },
  { "/vb/cuda/ops/dwconv-silu-backward", test_dwconv_silu_backward },
  { "/vb/cuda/ops/conv3x3s2-forward", test_conv3x3s2_forward },
  { "/vb/cuda/ops/conv3x3s2-backward", test_conv3x3s2_backward },
  { "/vb/cuda/ops/avgpool-forward", test_avgpool_forward },
  { "/vb/cuda/ops/avgpool-backward", test_avgpool_backward },
  { "/vb/cuda/ops/softmax-xent-forward", test_softmax_xent_forward },
  { "/vb/cuda/ops/softmax-xent-backward", test_softmax_xent_backward },
  { "/vb/cuda/ops/adamw-step", test_adamw_step },
  { "/vb/cuda/ops/sum-squares", test_sum_squares },
  { "/vb/cuda/ops/scale", test_scale },
  { "/vb/cuda/ops/param-sums-deferred", test_param_sums_deferred },
};

/* every test needs the GPU: without one it skips visibly, with the reason */
static void
run_on_gpu (gconstpointer data)
{
  const CudaTest *t = data;
  VbCuda *cu = cc_open_or_skip ();
  if (cu != NULL)
    t->run (cu);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cuda_tests); i++)
    g_test_add_data_func (cuda_tests[i].path, &cuda_tests[i], run_on_gpu);
  return g_test_run ();
}
