/* test-cuda-bf16.c: the bf16-storage ops of the CUDA table (vb_cuda_ops_new) against the
 * CPU table's (vb_cpu_ops (): kernels/cpu/bf16.c, the fp32 ops on widened copies), on
 * awkward shapes (odd n, feature counts not multiples of 8, row strides wider than the
 * rows, unaligned pointers, LayerNorm widths off the fast path) and VMamba-T's.
 *
 * Tolerances. The conversion is exact. A bf16 output may differ from the CPU's by one
 * bf16 ulp (of either value): its fp32 value before the rounding differs in the last bits
 * (products add in another order, the GPU has its own erff and expf), so a rounding may
 * flip; an absolute term covers that fp32 noise where a value cancels to near zero (a
 * bf16 linear output with bias is the bias plus the fp32 product, rounded once, as on the
 * CPU: cuBLAS's β·C onto a bf16 C rounds the product first, several ulps off where bias
 * and product cancel). fp32 outputs of products: relative L2 ≤ 1e-5 (the same
 * bf16 operands, fp32 accumulation). The bf16 LayerNorm must equal the fp32 CUDA
 * LayerNorm rounded, bit for bit. The bf16 3×3 stride-2 convolution's din: relative L2
 * ≤ 1e-3, each element within 2⁻⁸ of its column-gradient terms' Σ |terms| (both sides
 * round those terms to bf16 before adding them; a term's rounding may flip).
 *
 * Outputs are poisoned with NaN first and the gaps of strided outputs must stay
 * poisoned; dw and db accumulate onto random values on both sides; every product is run
 * again, and again in the bf16 and TF32 matmul modes, and must repeat bit for bit.
 * Without a GPU every test skips visibly. */
#include "config.h"

#include <float.h>
#include <string.h>

#include "cuda-check.h"
#include "vb-cuda-ops.h"
#include "vb-cuda-table.h"
#include "vb-ops.h"

#define SEED 20251206u
#define POISON16 ((VbBf16) 0xFFFFu)

static const VbOps *cpu;
static VbOps *gpu;

/* ---- helpers ---------------------------------------------------------------------- */

static gsize
at_least_one (gsize n)
{
  return n > 0 ? n : 1;
}

static VbBf16 *
random_bf16 (GRand *rng, gsize n, double lo, double hi)
{
  VbBf16 *x = g_new (VbBf16, at_least_one (n));
  for (gsize i = 0; i < n; i++)
    x[i] = vb_bf16_from_float ((float) g_rand_double_range (rng, lo, hi));
  return x;
}

static void *
dev_alloc (VbCuda *cu, gsize bytes)
{
  void *d = vb_cuda_alloc (cu, at_least_one (bytes));
  if (d == NULL)
    g_error ("%s", vb_cuda_error (cu));
  return d;
}

/* n values after `offset` poisoned elements (a misaligned copy for offset 1) */
static void *
upload_at (VbCuda *cu, const void *host, gsize n, gsize elem, gsize offset, void **base)
{
  char *d = dev_alloc (cu, (n + offset) * elem);
  vb_cuda_memset (cu, d, 0xFF, (n + offset) * elem);
  if (n > 0 && vb_cuda_upload (cu, d + offset * elem, host, n * elem) != 0)
    g_error ("%s", vb_cuda_error (cu));
  *base = d;
  return d + offset * elem;
}

static VbBf16 *
upload16 (VbCuda *cu, const VbBf16 *host, gsize n)
{
  return (VbBf16 *) cc_upload (cu, host, at_least_one (n) * sizeof (VbBf16));
}

/* the rows × cols block of a row-major matrix with row stride ld (elements of `elem`
 * bytes); on the GPU's (what not NULL) the gaps between rows must still be all-ones bits
 * (unwritten) */
static void *
dense_of (const char *what, const void *m, gsize rows, gsize cols, gsize ld, gsize elem)
{
  const guint8 *src = m;
  guint8 *dst = g_malloc (at_least_one (rows * cols * elem));
  for (gsize r = 0; r < rows; r++)
    {
      memcpy (dst + r * cols * elem, src + r * ld * elem, cols * elem);
      for (gsize b = cols * elem; b < ld * elem; b++)
        if (what != NULL && src[r * ld * elem + b] != 0xFF)
          g_error ("%s: the gap after row %" G_GSIZE_FORMAT " was written", what, r);
    }
  return dst;
}

/* |got − want| ≤ one ulp (of either) + atol, got finite */
static void
check16 (const char *what, const VbBf16 *got, const VbBf16 *want, gsize n, double atol)
{
  cc_assert_ulp16 (what, got, want, n, atol);
}

/* device bf16 against the CPU's, downloaded */
static void
check16_dev (VbCuda *cu, const char *what, const VbBf16 *dev, const VbBf16 *want, gsize n,
             double atol)
{
  g_autofree VbBf16 *got = cc_download16 (cu, dev, n);
  check16 (what, got, want, n, atol);
}

static void
assert_same (const char *what, const void *a, const void *b, gsize bytes)
{
  const guint8 *x = a, *y = b;
  for (gsize i = 0; i < bytes; i++)
    if (x[i] != y[i])
      g_error ("%s: differ at byte %" G_GSIZE_FORMAT, what, i);
}

/* two device buffers of `bytes` bytes hold the same bits */
static void
assert_same_dev (VbCuda *cu, const char *what, const void *a, const void *b, gsize bytes)
{
  g_autofree guint8 *ha = g_malloc (at_least_one (bytes));
  g_autofree guint8 *hb = g_malloc (at_least_one (bytes));
  cc_assert_ok (cu);
  if (bytes > 0
      && (vb_cuda_download (cu, ha, a, bytes) != 0 || vb_cuda_download (cu, hb, b, bytes) != 0))
    g_error ("%s", vb_cuda_error (cu));
  assert_same (what, ha, hb, bytes);
}

static void
set_matmul (VbCuda *cu, int mode)
{
  if (!vb_cuda_set_matmul (cu, mode))
    g_error ("vb_cuda_set_matmul (%d): %s", mode, vb_cuda_error (cu));
}

/* ---- conversion ------------------------------------------------------------------- */

/* per % 8 != 0 with factors takes the scalar kernel, the flat conversion a vector tail */
static const struct { int B; int64_t per; } tb_shapes[] = {
  { 1, 1 }, { 3, 37 }, { 2, 8 }, { 5, 4099 }, { 4, 1000 }, { 7, 1003 }, { 128, 3136 },
  { 2, 301056 },
};

static void
test_to_bf16 (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 1);

  for (gsize s = 0; s < G_N_ELEMENTS (tb_shapes); s++)
    {
      int B = tb_shapes[s].B;
      int64_t per = tb_shapes[s].per;
      gsize n = (gsize) B * per;
      g_autofree float *x = cc_random (rng, n, -4.0, 4.0);
      g_autofree float *scale = cc_random (rng, B, 0.5, 2.0);
      g_autofree VbBf16 *want = g_new (VbBf16, n);
      g_autofree VbBf16 *want_s = g_new (VbBf16, n);
      g_autofree char *what = g_strdup_printf ("to_bf16 %dx%" G_GINT64_FORMAT, B, per);
      void *src_base, *dst_base;

      /* ties (the low 16 bits 0x8000) round to even; a dropped sample scales by 0 */
      for (gsize i = 0; i < n; i += 5)
        {
          guint32 u;
          memcpy (&u, &x[i], sizeof u);
          u = (u & 0xFFFF0000u) | 0x8000u;
          memcpy (&x[i], &u, sizeof u);
        }
      scale[0] = 0.0f;
      cpu->to_bf16 (cpu->ctx, want, x, NULL, B, per);
      cpu->to_bf16 (cpu->ctx, want_s, x, scale, B, per);

      float *d_x = cc_upload_floats (cu, x, n), *d_scale = cc_upload_floats (cu, scale, B);
      VbBf16 *d_out = cc_poisoned16 (cu, n);
      gpu->to_bf16 (gpu->ctx, d_out, d_x, NULL, B, per);
      g_autofree VbBf16 *got = cc_download16 (cu, d_out, n);
      assert_same (what, got, want, n * sizeof (VbBf16));
      vb_cuda_memset (cu, d_out, 0xFF, n * sizeof (VbBf16));
      gpu->to_bf16 (gpu->ctx, d_out, d_x, d_scale, B, per);
      g_autofree VbBf16 *got_s = cc_download16 (cu, d_out, n);
      assert_same ("to_bf16 scaled", got_s, want_s, n * sizeof (VbBf16));

      /* misaligned source and destination: the scalar kernels */
      const float *d_x1 = upload_at (cu, x, n, sizeof (float), 1, &src_base);
      dst_base = cc_poisoned16 (cu, n + 1);
      VbBf16 *d_out1 = (VbBf16 *) dst_base + 1;
      gpu->to_bf16 (gpu->ctx, d_out1, d_x1, d_scale, B, per);
      g_autofree VbBf16 *got_u = cc_download16 (cu, d_out1, n);
      assert_same ("to_bf16 unaligned", got_u, want_s, n * sizeof (VbBf16));
      g_test_message ("%s: exact, %" G_GSIZE_FORMAT " values", what, n);
      CC_FREE_ALL (cu, d_x, d_scale, d_out, src_base, dst_base);
    }
  gpu->to_bf16 (gpu->ctx, NULL, NULL, NULL, 0, 8);
  gpu->to_bf16 (gpu->ctx, NULL, NULL, NULL, 4, 0);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* fp32 sums of `terms` products of magnitude ≤ 1 in another order (as test-cuda-ops.c) */
static void
check_sum (const char *what, const float *got, const float *want, gsize n, double terms)
{
  cc_assert_close (what, got, want, n, 1e-5, 1e-5 + 4.0 * FLT_EPSILON * terms, 1e-4);
}

static void
check_sum_dev (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n,
               double terms)
{
  g_autofree float *got = cc_download (cu, dev, n);
  check_sum (what, got, want, n, terms);
}

/* ---- GELU ------------------------------------------------------------------------- */

/* every n % 8 class the 8-wide kernels leave as a tail (rows of one), then the bias +
 * GELU epilogue: rows of whole 8-value groups (the 8-wide path) and not (per value) */
static const struct { int64_t rows; int c; gboolean bias; } ew_shapes[] = {
  { 1, 1, FALSE }, { 1, 7, FALSE }, { 1, 8, FALSE }, { 1, 9, FALSE }, { 1, 37, FALSE },
  { 1, 4099, FALSE }, { 1, 1000003, FALSE }, { 1, 1 << 20, FALSE },
  { 5, 8, TRUE }, { 3, 12, TRUE }, { 1, 9, TRUE }, { 37, 384, TRUE }, { 2731, 384, TRUE },
  { 20000, 96, TRUE },
};

/* the fp32 formulas' noise (erff, expf: a few fp32 ulps of values ≤ 6) before rounding */
#define GELU_ATOL 1e-6

static float *
random_bias (GRand *rng, int c, gboolean bias)
{
  if (!bias)
    return NULL;
  float *b = g_new (float, c);
  for (int j = 0; j < c; j++)
    b[j] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return b;
}

static void
test_gelu_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 2);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_shapes); s++)
    {
      int64_t rows = ew_shapes[s].rows;
      int c = ew_shapes[s].c;
      gsize n = (gsize) rows * c;
      g_autofree VbBf16 *x = random_bf16 (rng, n, -6.0, 6.0);
      g_autofree float *b = random_bias (rng, c, ew_shapes[s].bias);
      g_autofree VbBf16 *want = g_new (VbBf16, n);
      g_autofree char *what = g_strdup_printf ("gelu forward bf16 %" G_GINT64_FORMAT " × %d%s",
                                               rows, c, b ? " + bias" : "");
      void *x_base, *out_base;

      cpu->gelu_forward_bf16 (cpu->ctx, want, x, b, rows, c);
      VbBf16 *d_x = upload16 (cu, x, n), *d_out = cc_poisoned16 (cu, n);
      float *d_b = b ? cc_upload_floats (cu, b, c) : NULL;
      gpu->gelu_forward_bf16 (gpu->ctx, d_out, d_x, d_b, rows, c);
      check16_dev (cu, what, d_out, want, n, GELU_ATOL);

      VbBf16 *d_x1 = upload_at (cu, x, n, sizeof (VbBf16), 1, &x_base);
      out_base = cc_poisoned16 (cu, n + 1);
      gpu->gelu_forward_bf16 (gpu->ctx, (VbBf16 *) out_base + 1, d_x1, d_b, rows, c);
      check16_dev (cu, "unaligned", (VbBf16 *) out_base + 1, want, n, GELU_ATOL);
      /* a bias one float off 16-byte alignment (a parameter's offset in the flat buffer):
       * the 8-wide kernel adds it value by value */
      void *b_base = NULL;
      float *d_b1 = b ? upload_at (cu, b, c, sizeof (float), 1, &b_base) : NULL;
      VbBf16 *d_out1 = cc_poisoned16 (cu, n);
      gpu->gelu_forward_bf16 (gpu->ctx, d_out1, d_x, d_b1, rows, c);
      check16_dev (cu, "bias off alignment", d_out1, want, n, GELU_ATOL);
      gpu->gelu_forward_bf16 (gpu->ctx, d_x, d_x, d_b, rows, c);
      check16_dev (cu, "in place", d_x, want, n, GELU_ATOL);
      CC_FREE_ALL (cu, d_x, d_out, x_base, out_base, d_b, d_out1);
      if (b_base != NULL)
        vb_cuda_free (cu, b_base);
    }
  gpu->gelu_forward_bf16 (gpu->ctx, NULL, NULL, NULL, 0, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_gelu_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 3);

  for (gsize s = 0; s < G_N_ELEMENTS (ew_shapes); s++)
    {
      int64_t rows = ew_shapes[s].rows;
      int c = ew_shapes[s].c;
      gsize n = (gsize) rows * c;
      g_autofree VbBf16 *x = random_bf16 (rng, n, -6.0, 6.0);
      g_autofree VbBf16 *g = random_bf16 (rng, n, -1.0, 1.0);
      g_autofree float *b = random_bias (rng, c, ew_shapes[s].bias);
      g_autofree VbBf16 *want = g_new (VbBf16, n);
      g_autofree char *what = g_strdup_printf ("gelu backward bf16 %" G_GINT64_FORMAT " × %d%s",
                                               rows, c, b ? " + bias" : "");
      void *x_base, *g_base, *out_base;

      cpu->gelu_backward_bf16 (cpu->ctx, want, NULL, g, x, b, rows, c);
      VbBf16 *d_x = upload16 (cu, x, n), *d_g = upload16 (cu, g, n);
      VbBf16 *d_din = cc_poisoned16 (cu, n);
      float *d_b = b ? cc_upload_floats (cu, b, c) : NULL;
      gpu->gelu_backward_bf16 (gpu->ctx, d_din, NULL, d_g, d_x, d_b, rows, c);
      check16_dev (cu, what, d_din, want, n, GELU_ATOL);

      /* with the bias's gradient (+=): the column sums of the GPU's own din as stored, on
       * the CPU, and din itself the same bits as without */
      g_autofree float *db0 = cc_random (rng, c, -1.0, 1.0);
      g_autofree float *want_db = g_memdup2 (db0, c * sizeof (float));
      g_autofree VbBf16 *got = cc_download16 (cu, d_din, n);
      for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < c; j++)
          want_db[j] += vb_bf16_to_float (got[r * c + j]);
      float *d_db = cc_upload_floats (cu, db0, c);
      VbBf16 *d_din2 = cc_poisoned16 (cu, n);
      gpu->gelu_backward_bf16 (gpu->ctx, d_din2, d_db, d_g, d_x, d_b, rows, c);
      assert_same_dev (cu, "gelu backward with db: din", d_din2, d_din, n * sizeof (VbBf16));
      check_sum_dev (cu, "gelu backward db (+=)", d_db, want_db, c, (double) rows);
      CC_FREE_ALL (cu, d_db, d_din2);

      VbBf16 *d_x1 = upload_at (cu, x, n, sizeof (VbBf16), 1, &x_base);
      VbBf16 *d_g1 = upload_at (cu, g, n, sizeof (VbBf16), 1, &g_base);
      out_base = cc_poisoned16 (cu, n + 1);
      gpu->gelu_backward_bf16 (gpu->ctx, (VbBf16 *) out_base + 1, NULL, d_g1, d_x1, d_b, rows,
                               c);
      check16_dev (cu, "unaligned", (VbBf16 *) out_base + 1, want, n, GELU_ATOL);
      /* a bias one float off 16-byte alignment: the 8-wide kernel adds it value by value */
      void *b_base = NULL;
      float *d_b1 = b ? upload_at (cu, b, c, sizeof (float), 1, &b_base) : NULL;
      gpu->gelu_backward_bf16 (gpu->ctx, d_din, NULL, d_g, d_x, d_b1, rows, c);
      check16_dev (cu, "bias off alignment", d_din, want, n, GELU_ATOL);
      CC_FREE_ALL (cu, d_x, d_g, d_din, x_base, g_base, out_base, d_b);
      if (b_base != NULL)
        vb_cuda_free (cu, b_base);
    }
  gpu->gelu_backward_bf16 (gpu->ctx, NULL, NULL, NULL, NULL, NULL, 0, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- LayerNorm -------------------------------------------------------------------- */

/* c % 4 != 0 and c > 1024 take the generic kernel; 96, 192, 384, 768 VMamba-T's */
static const struct { int64_t n; int c; } ln_shapes[] = {
  { 1, 1 }, { 7, 3 }, { 37, 5 }, { 64, 96 }, { 1001, 96 }, { 999, 192 }, { 333, 384 },
  { 129, 768 }, { 17, 100 }, { 5, 1027 }, { 3, 1028 }, { 12544, 96 }, { 3137, 192 },
};

static void
test_layernorm_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 4);
  /* element offsets of the bf16 output: 16-byte aligned, 2-byte (generic kernel),
   * 8-byte (still the 8-byte stores) */
  static const gsize offsets[] = { 0, 1, 4 };

  for (gsize s = 0; s < G_N_ELEMENTS (ln_shapes); s++)
    {
      int64_t n = ln_shapes[s].n;
      int c = ln_shapes[s].c;
      gsize nc = (gsize) n * c;
      g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
      g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
      g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
      g_autofree VbBf16 *want = g_new (VbBf16, nc);
      g_autofree float *mean = g_new (float, n);
      g_autofree float *rstd = g_new (float, n);
      float *d_x = cc_upload_floats (cu, x, nc), *d_gamma = cc_upload_floats (cu, gamma, c);
      float *d_beta = cc_upload_floats (cu, beta, c);

      cpu->layernorm_forward_bf16 (cpu->ctx, want, mean, rstd, x, gamma, beta, n, c, 1e-5f);
      for (gsize k = 0; k < G_N_ELEMENTS (offsets); k++)
        {
          gsize off = offsets[k];
          g_autofree char *what = g_strdup_printf ("layernorm forward bf16 n=%" G_GINT64_FORMAT
                                                   " c=%d offset %" G_GSIZE_FORMAT, n, c, off);
          VbBf16 *out_base = cc_poisoned16 (cu, nc + off);
          float *out32_base = cc_poisoned (cu, nc + off);
          float *d_mean = cc_poisoned (cu, n), *d_rstd = cc_poisoned (cu, n);
          float *d_mean32 = cc_poisoned (cu, n), *d_rstd32 = cc_poisoned (cu, n);

          gpu->layernorm_forward_bf16 (gpu->ctx, out_base + off, d_mean, d_rstd, d_x, d_gamma,
                                       d_beta, n, c, 1e-5f);
          /* the same arithmetic as the fp32 op (on the same kernel: the same offset) */
          gpu->layernorm_forward (gpu->ctx, out32_base + off, d_mean32, d_rstd32, d_x, d_gamma,
                                  d_beta, n, c, 1e-5f);
          g_autofree VbBf16 *got = cc_download16 (cu, out_base + off, nc);
          g_autofree float *got32 = cc_download (cu, out32_base + off, nc);
          check16 (what, got, want, nc, 1e-5);
          for (gsize i = 0; i < nc; i++)
            if (got[i] != vb_bf16_from_float (got32[i]))
              g_error ("%s: element %" G_GSIZE_FORMAT " is %a, the fp32 op's %a rounded %a",
                       what, i, vb_bf16_to_float (got[i]), got32[i],
                       vb_bf16_to_float (vb_bf16_from_float (got32[i])));
          cc_check (cu, "mean", d_mean, mean, n);
          cc_check (cu, "rstd", d_rstd, rstd, n);
          assert_same_dev (cu, "mean as the fp32 op's", d_mean, d_mean32, n * sizeof (float));
          assert_same_dev (cu, "rstd as the fp32 op's", d_rstd, d_rstd32, n * sizeof (float));
          CC_FREE_ALL (cu, out_base, out32_base, d_mean, d_rstd, d_mean32, d_rstd32);
        }
      CC_FREE_ALL (cu, d_x, d_gamma, d_beta);
    }
  gpu->layernorm_forward_bf16 (gpu->ctx, NULL, NULL, NULL, NULL, NULL, NULL, 0, 96, 1e-5f);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- linear ----------------------------------------------------------------------- */

/* ld = features + pad; the last VMamba-T's (C = 96, 192; M = 4·96 = 384 hidden); in_f = 0
 * the bias or zeros; out_f = 0 nothing, or din zeroed */
static const struct { int64_t n; int in_f, out_f, pad_in, pad_out; gboolean bias; } lin_shapes[] = {
  { 1, 1, 1, 0, 0, TRUE }, { 37, 5, 7, 0, 0, FALSE }, { 37, 5, 7, 3, 5, TRUE },
  { 1001, 96, 384, 0, 0, TRUE }, { 1001, 384, 96, 0, 0, TRUE }, { 3000, 27, 45, 13, 3, TRUE },
  { 513, 192, 384, 0, 0, FALSE }, { 4099, 192, 192, 64, 0, TRUE }, { 64, 0, 9, 0, 0, TRUE },
  { 64, 0, 9, 0, 2, FALSE }, { 50, 6, 0, 2, 2, TRUE }, { 12544, 96, 384, 0, 0, TRUE },
  { 12544, 384, 96, 0, 0, TRUE }, { 3137, 192, 384, 0, 0, TRUE }, { 4096, 64, 40, 8, 16, TRUE },
};

/* ---- LayerNorm backward into the stream's gradient, and its bf16 copy --------------- */

/* (samples, rows a sample, c): c % 4 == 0 takes the vector kernel (its G = 1 … 32 lanes a
 * row), c = 10 the generic kernels and a separate conversion */
static const struct { int B, L, c; } lnb_shapes[] = {
  { 2, 5, 96 }, { 3, 7, 12 }, { 2, 3, 10 }, { 4, 49, 384 }, { 1, 1, 768 }, { 5, 196, 192 },
};

static void
test_layernorm_backward_acc (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 12);

  for (gsize s = 0; s < G_N_ELEMENTS (lnb_shapes); s++)
    for (int scaled = 0; scaled < 2; scaled++)
      for (int off = 0; off < 2; off++)   /* din16 one bf16 off 8-byte alignment */
        {
          int B = lnb_shapes[s].B, c = lnb_shapes[s].c;
          int64_t n = (int64_t) B * lnb_shapes[s].L;
          gsize nc = (gsize) n * c;
          g_autofree char *what = g_strdup_printf ("layernorm backward + bf16 %d×%d c=%d%s%s",
                                                   B, lnb_shapes[s].L, c,
                                                   scaled ? " scaled" : "",
                                                   off ? " offset" : "");
          g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
          g_autofree float *dout = cc_random (rng, nc, -1.0, 1.0);
          g_autofree float *din = cc_random (rng, nc, -1.0, 1.0);
          g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
          g_autofree float *dg = cc_random (rng, c, -1.0, 1.0);
          g_autofree float *db = cc_random (rng, c, -1.0, 1.0);
          g_autofree float *scale = cc_random (rng, B, 0.5, 2.0);
          g_autofree float *mean = g_new (float, n), *rstd = g_new (float, n);
          g_autofree float *ln = g_new (float, nc);
          g_autofree VbBf16 *want16 = g_new (VbBf16, nc);
          scale[0] = 0.0f;   /* a dropped sample */
          const float *sc = scaled ? scale : NULL;
          cpu->layernorm_forward (cpu->ctx, ln, mean, rstd, x, gamma, gamma, n, c, 1e-5f);

          float *d_x = cc_upload_floats (cu, x, nc), *d_dout = cc_upload_floats (cu, dout, nc);
          float *d_din = cc_upload_floats (cu, din, nc), *d_gamma = cc_upload_floats (cu, gamma, c);
          float *d_dg = cc_upload_floats (cu, dg, c), *d_db = cc_upload_floats (cu, db, c);
          float *d_mean = cc_upload_floats (cu, mean, n), *d_rstd = cc_upload_floats (cu, rstd, n);
          float *d_scale = cc_upload_floats (cu, scale, B);
          VbBf16 *d16_base = cc_poisoned16 (cu, nc + 1);
          gpu->layernorm_backward_acc_bf16 (gpu->ctx, d_din, d16_base + off,
                                            scaled ? d_scale : NULL, B, d_dg, d_db, d_dout,
                                            d_x, d_mean, d_rstd, d_gamma, n, c);
          cpu->layernorm_backward_acc_bf16 (cpu->ctx, din, want16, sc, B, dg, db, dout, x, mean,
                                            rstd, gamma, n, c);
          g_autofree float *got = cc_download (cu, d_din, nc);
          cc_assert_close (what, got, din, nc, 1e-5, 1e-5, 1e-4);
          check_sum_dev (cu, "dgamma", d_dg, dg, c, (double) n);
          check_sum_dev (cu, "dbeta", d_db, db, c, (double) n);
          /* the copy: the GPU's own din, scaled and rounded as to_bf16 does it */
          g_autofree VbBf16 *got16 = cc_download16 (cu, d16_base + off, nc);
          cpu->to_bf16 (cpu->ctx, want16, got, sc, B, nc / B);
          assert_same (what, got16, want16, nc * sizeof (VbBf16));
          g_test_message ("%s: din16 exact over %" G_GSIZE_FORMAT " values", what, nc);
          CC_FREE_ALL (cu, d_x, d_dout, d_din, d_gamma, d_dg, d_db, d_mean, d_rstd, d_scale,
                       d16_base);
        }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* The out_norm's backward, din as bf16 alone (the scan's dy): the bits of the GPU's own
 * fp32 din rounded (the same kernel arithmetic; c = 10 and the offset copy through the
 * working buffer and a conversion), within one bf16 ulp of the CPU's; dγ and dβ added as
 * layernorm_backward adds them */
static void
test_layernorm_backward_bf16 (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 13);

  for (gsize s = 0; s < G_N_ELEMENTS (lnb_shapes); s++)
    for (int off = 0; off < 2; off++)   /* din16 one bf16 off 8-byte alignment */
      {
        int c = lnb_shapes[s].c;
        int64_t n = (int64_t) lnb_shapes[s].B * lnb_shapes[s].L;
        gsize nc = (gsize) n * c;
        g_autofree char *what = g_strdup_printf ("layernorm backward to bf16 %" G_GINT64_FORMAT
                                                 " rows c=%d%s", n, c, off ? " offset" : "");
        g_autofree float *x = cc_random (rng, nc, -1.0, 3.0);
        g_autofree float *dout = cc_random (rng, nc, -1.0, 1.0);
        g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
        g_autofree float *dg = cc_random (rng, c, -1.0, 1.0);
        g_autofree float *db = cc_random (rng, c, -1.0, 1.0);
        g_autofree float *mean = g_new (float, n), *rstd = g_new (float, n);
        g_autofree float *ln = g_new (float, nc), *work = g_new (float, nc);
        g_autofree VbBf16 *want16 = g_new (VbBf16, nc);
        cpu->layernorm_forward (cpu->ctx, ln, mean, rstd, x, gamma, gamma, n, c, 1e-5f);

        float *d_x = cc_upload_floats (cu, x, nc), *d_dout = cc_upload_floats (cu, dout, nc);
        float *d_gamma = cc_upload_floats (cu, gamma, c);
        float *d_dg = cc_upload_floats (cu, dg, c), *d_db = cc_upload_floats (cu, db, c);
        float *d_mean = cc_upload_floats (cu, mean, n), *d_rstd = cc_upload_floats (cu, rstd, n);
        float *d_work = cc_poisoned (cu, nc), *d_din = cc_poisoned (cu, nc);
        VbBf16 *d16_base = cc_poisoned16 (cu, nc + 1);
        gpu->layernorm_backward_bf16 (gpu->ctx, d16_base + off, d_work, d_dg, d_db, d_dout, d_x,
                                      d_mean, d_rstd, d_gamma, n, c);
        cpu->layernorm_backward_bf16 (cpu->ctx, want16, work, dg, db, dout, x, mean, rstd,
                                      gamma, n, c);
        check16_dev (cu, what, d16_base + off, want16, nc, 1e-5);
        check_sum_dev (cu, "dgamma", d_dg, dg, c, (double) n);
        check_sum_dev (cu, "dbeta", d_db, db, c, (double) n);
        /* the GPU's fp32 din, rounded */
        gpu->layernorm_backward (gpu->ctx, d_din, 0, NULL, NULL, d_dout, d_x, d_mean, d_rstd,
                                 d_gamma, n, c);
        g_autofree float *din = cc_download (cu, d_din, nc);
        cpu->to_bf16 (cpu->ctx, want16, din, NULL, 1, nc);
        g_autofree VbBf16 *got16 = cc_download16 (cu, d16_base + off, nc);
        assert_same (what, got16, want16, nc * sizeof (VbBf16));
        /* nothing written past the copy */
        g_autofree VbBf16 *all16 = cc_download16 (cu, d16_base, nc + 1);
        g_assert_cmpuint (all16[off == 0 ? nc : 0], ==, 0xFFFF);
        CC_FREE_ALL (cu, d_x, d_dout, d_gamma, d_dg, d_db, d_mean, d_rstd, d_work, d_din,
                     d16_base);
      }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the residual step into the LayerNorm after it --------------------------------- */

/* the fused op against residual_add then layernorm_forward_bf16 on the GPU (the same bits)
 * and the CPU's (within fp32 / one bf16 ulp): with and without bias and drop path, c = 10
 * and an unaligned branch taking the two ops */
static void
test_residual_layernorm (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 13);

  for (gsize s = 0; s < G_N_ELEMENTS (lnb_shapes); s++)
    for (int variant = 0; variant < 4; variant++)
      {
        gboolean with_bias = variant & 1, scaled = (variant & 2) != 0;
        int B = lnb_shapes[s].B, c = lnb_shapes[s].c;
        int64_t n = (int64_t) B * lnb_shapes[s].L;
        gsize nc = (gsize) n * c;
        g_autofree char *what = g_strdup_printf ("residual + layernorm %d×%d c=%d%s%s", B,
                                                 lnb_shapes[s].L, c, with_bias ? " bias" : "",
                                                 scaled ? " scaled" : "");
        g_autofree float *x = cc_random (rng, nc + 1, -1.0, 3.0);
        g_autofree float *t = cc_random (rng, nc + 1, -1.0, 1.0);
        g_autofree float *bias = cc_random (rng, c, -0.5, 0.5);
        g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
        g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
        g_autofree float *scale = cc_random (rng, B, 0.5, 2.0);
        g_autofree float *y = g_new (float, nc), *mean = g_new (float, n);
        g_autofree float *rstd = g_new (float, n);
        g_autofree VbBf16 *want16 = g_new (VbBf16, nc);
        scale[B - 1] = 0.0f;
        const float *b = with_bias ? bias : NULL, *sc = scaled ? scale : NULL;
        cpu->residual_layernorm_forward_bf16 (cpu->ctx, y, want16, mean, rstd, x, t, b, sc, B,
                                              gamma, beta, n, c, 1e-5f);

        float *d_x = cc_upload_floats (cu, x, nc), *d_t = cc_upload_floats (cu, t, nc + 1);
        float *d_bias = cc_upload_floats (cu, bias, c), *d_scale = cc_upload_floats (cu, scale, B);
        float *d_gamma = cc_upload_floats (cu, gamma, c), *d_beta = cc_upload_floats (cu, beta, c);
        const float *d_b = with_bias ? d_bias : NULL, *d_sc = scaled ? d_scale : NULL;
        float *d_y = cc_poisoned (cu, nc), *d_y2 = cc_poisoned (cu, nc);
        float *d_mean = cc_poisoned (cu, n), *d_rstd = cc_poisoned (cu, n);
        float *d_mean2 = cc_poisoned (cu, n), *d_rstd2 = cc_poisoned (cu, n);
        VbBf16 *d_o = cc_poisoned16 (cu, nc), *d_o2 = cc_poisoned16 (cu, nc);
        for (int shifted = 0; shifted < 2; shifted++)   /* the branch one float off 16 bytes */
          {
            const float *d_tb = d_t + shifted;
            if (shifted)
              vb_cuda_upload (cu, d_t + 1, t, nc * sizeof (float));
            gpu->residual_layernorm_forward_bf16 (gpu->ctx, d_y, d_o, d_mean, d_rstd, d_x, d_tb,
                                                  d_b, d_sc, B, d_gamma, d_beta, n, c, 1e-5f);
            gpu->residual_add (gpu->ctx, d_y2, d_x, d_tb, d_b, c, d_sc, B, nc / B);
            gpu->layernorm_forward_bf16 (gpu->ctx, d_o2, d_mean2, d_rstd2, d_y2, d_gamma, d_beta,
                                         n, c, 1e-5f);
            assert_same_dev (cu, "y as the two ops'", d_y, d_y2, nc * sizeof (float));
            assert_same_dev (cu, "bf16 rows as the two ops'", d_o, d_o2, nc * sizeof (VbBf16));
            assert_same_dev (cu, "mean as the two ops'", d_mean, d_mean2, n * sizeof (float));
            assert_same_dev (cu, "rstd as the two ops'", d_rstd, d_rstd2, n * sizeof (float));
            cc_check (cu, what, d_y, y, nc);
            check16_dev (cu, what, d_o, want16, nc, 1e-5);
          }
        g_test_message ("%s: the two ops' bits", what);
        CC_FREE_ALL (cu, d_x, d_t, d_bias, d_scale, d_gamma, d_beta, d_y, d_y2, d_mean, d_rstd,
                     d_mean2, d_rstd2, d_o, d_o2);
      }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* the other matmul modes change nothing: the same bits as in the fp32 mode */
static const int other_modes[] = { VB_CUDA_MATMUL_BF16, VB_CUDA_MATMUL_TF32 };

static void
test_linear_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 5);

  for (gsize s = 0; s < G_N_ELEMENTS (lin_shapes); s++)
    {
      int64_t n = lin_shapes[s].n;
      int in_f = lin_shapes[s].in_f, out_f = lin_shapes[s].out_f;
      int64_t ld_in = in_f + lin_shapes[s].pad_in, ld_out = out_f + lin_shapes[s].pad_out;
      gsize n_in = (gsize) n * ld_in, n_out = (gsize) n * ld_out, nd = (gsize) n * out_f;
      gsize n_w = (gsize) out_f * in_f;
      gboolean bias = lin_shapes[s].bias;
      g_autofree VbBf16 *x = random_bf16 (rng, n_in, -1.0, 1.0);
      g_autofree VbBf16 *w = random_bf16 (rng, n_w, -1.0, 1.0);
      g_autofree float *b = cc_random (rng, out_f, -1.0, 1.0);
      g_autofree float *out32 = g_new (float, at_least_one (n_out));
      g_autofree VbBf16 *out16 = g_new (VbBf16, at_least_one (n_out));
      g_autofree char *what = g_strdup_printf ("linear forward bf16 n=%" G_GINT64_FORMAT
                                               " %d → %d (ld %" G_GINT64_FORMAT ", %"
                                               G_GINT64_FORMAT ")%s", n, in_f, out_f, ld_in,
                                               ld_out, bias ? " + bias" : "");
      const float *bp = bias ? b : NULL;

      memset (out32, 0xFF, n_out * sizeof (float));
      memset (out16, 0xFF, n_out * sizeof (VbBf16));
      cpu->linear_forward_bf16 (cpu->ctx, out32, NULL, ld_out, x, ld_in, w, bp, n, in_f, out_f);
      cpu->linear_forward_bf16 (cpu->ctx, NULL, out16, ld_out, x, ld_in, w, bp, n, in_f, out_f);
      g_autofree float *want32 = dense_of (NULL, out32, n, out_f, ld_out, sizeof (float));
      g_autofree VbBf16 *want16 = dense_of (NULL, out16, n, out_f, ld_out, sizeof (VbBf16));

      VbBf16 *d_x = upload16 (cu, x, n_in), *d_w = upload16 (cu, w, n_w);
      float *d_b = cc_upload_floats (cu, b, out_f);
      float *d_out32 = cc_poisoned (cu, n_out), *d_out32b = cc_poisoned (cu, n_out);
      VbBf16 *d_out16 = cc_poisoned16 (cu, n_out), *d_out16b = cc_poisoned16 (cu, n_out);
      float *dbp = bias ? d_b : NULL;

      gpu->linear_forward_bf16 (gpu->ctx, d_out32, NULL, ld_out, d_x, ld_in, d_w, dbp, n, in_f,
                                out_f);
      gpu->linear_forward_bf16 (gpu->ctx, NULL, d_out16, ld_out, d_x, ld_in, d_w, dbp, n, in_f,
                                out_f);
      g_autofree float *got32s = cc_download (cu, d_out32, n_out);
      g_autofree VbBf16 *got16s = cc_download16 (cu, d_out16, n_out);
      g_autofree float *got32 = dense_of (what, got32s, n, out_f, ld_out, sizeof (float));
      g_autofree VbBf16 *got16 = dense_of (what, got16s, n, out_f, ld_out, sizeof (VbBf16));
      check_sum (what, got32, want32, nd, in_f);
      check16 ("bf16 out", got16, want16, nd, 1e-5 + 4.0 * FLT_EPSILON * in_f);

      /* repeats, in every matmul mode */
      for (gsize m = 0; m <= G_N_ELEMENTS (other_modes); m++)
        {
          if (m > 0)
            set_matmul (cu, other_modes[m - 1]);
          gpu->linear_forward_bf16 (gpu->ctx, d_out32b, NULL, ld_out, d_x, ld_in, d_w, dbp, n,
                                    in_f, out_f);
          gpu->linear_forward_bf16 (gpu->ctx, NULL, d_out16b, ld_out, d_x, ld_in, d_w, dbp, n,
                                    in_f, out_f);
          assert_same_dev (cu, "linear forward bf16 repeat (fp32 out)", d_out32, d_out32b,
                           n_out * sizeof (float));
          assert_same_dev (cu, "linear forward bf16 repeat (bf16 out)", d_out16, d_out16b,
                           n_out * sizeof (VbBf16));
        }
      set_matmul (cu, VB_CUDA_MATMUL_FP32);
      CC_FREE_ALL (cu, d_x, d_w, d_b, d_out32, d_out32b, d_out16, d_out16b);
    }
  gpu->linear_forward_bf16 (gpu->ctx, NULL, NULL, 8, NULL, 8, NULL, NULL, 0, 8, 8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* The cuBLASLt plans' cache (64 shapes a cache, kernels/cuda/lt_plans.cu) past full: the
 * bias product on 70 shapes (n = 8, 16, … 560 rows), then the first 8 again, their plans
 * evicted and made anew: within an ulp of the CPU, and the same bits as the first time */
static void
test_lt_plan_eviction (VbCuda *cu)
{
  enum { SHAPES = 70, AGAIN = 8, IN_F = 16, OUT_F = 24, MAX_N = 8 * SHAPES };
  GRand *rng = cc_seeded (SEED + 30);
  g_autofree VbBf16 *x = random_bf16 (rng, MAX_N * IN_F, -1.0, 1.0);
  g_autofree VbBf16 *w = random_bf16 (rng, OUT_F * IN_F, -1.0, 1.0);
  g_autofree float *b = cc_random (rng, OUT_F, -1.0, 1.0);
  g_autofree VbBf16 *want = g_new (VbBf16, MAX_N * OUT_F);
  VbBf16 *d_x = upload16 (cu, x, MAX_N * IN_F), *d_w = upload16 (cu, w, OUT_F * IN_F);
  float *d_b = cc_upload_floats (cu, b, OUT_F);
  VbBf16 *first[AGAIN] = { NULL };

  for (int i = 0; i < SHAPES + AGAIN; i++)
    {
      int s = i < SHAPES ? i : i - SHAPES;
      int64_t n = 8 * (s + 1);
      gsize n_out = (gsize) n * OUT_F;
      VbBf16 *d_out = cc_poisoned16 (cu, n_out);
      gpu->linear_forward_bf16 (gpu->ctx, NULL, d_out, OUT_F, d_x, IN_F, d_w, d_b, n, IN_F,
                                OUT_F);
      VbBf16 *got = cc_download16 (cu, d_out, n_out);
      vb_cuda_free (cu, d_out);
      if (i >= SHAPES)
        {
          assert_same ("bias product again after its plan's eviction", got, first[s],
                       n_out * sizeof (VbBf16));
          g_free (got);
          continue;
        }
      g_autofree char *what = g_strdup_printf ("bias product n=%" G_GINT64_FORMAT, n);
      cpu->linear_forward_bf16 (cpu->ctx, NULL, want, OUT_F, x, IN_F, w, b, n, IN_F, OUT_F);
      check16 (what, got, want, n_out, 1e-5 + 4.0 * FLT_EPSILON * IN_F);
      if (s < AGAIN)
        first[s] = got;
      else
        g_free (got);
    }
  for (int s = 0; s < AGAIN; s++)
    g_free (first[s]);
  CC_FREE_ALL (cu, d_x, d_w, d_b);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_linear_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 6);

  for (gsize s = 0; s < G_N_ELEMENTS (lin_shapes); s++)
    {
      int64_t n = lin_shapes[s].n;
      int in_f = lin_shapes[s].in_f, out_f = lin_shapes[s].out_f;
      int64_t ld_in = in_f + lin_shapes[s].pad_in, ld_out = out_f + lin_shapes[s].pad_out;
      gsize n_in = (gsize) n * ld_in, n_out = (gsize) n * ld_out, nd = (gsize) n * in_f;
      gsize n_w = (gsize) out_f * in_f;
      g_autofree VbBf16 *x = random_bf16 (rng, n_in, -1.0, 1.0);
      g_autofree VbBf16 *g = random_bf16 (rng, n_out, -1.0, 1.0);
      g_autofree VbBf16 *w = random_bf16 (rng, n_w, -1.0, 1.0);
      g_autofree float *dw0 = cc_random (rng, n_w, -1.0, 1.0);
      g_autofree float *db0 = cc_random (rng, out_f, -1.0, 1.0);
      g_autofree float *dw = g_memdup2 (dw0, at_least_one (n_w) * sizeof (float));
      g_autofree float *db = g_memdup2 (db0, at_least_one (out_f) * sizeof (float));
      g_autofree float *din32 = g_new (float, at_least_one (n_in));
      g_autofree VbBf16 *din16 = g_new (VbBf16, at_least_one (n_in));
      g_autofree char *what = g_strdup_printf ("linear backward bf16 n=%" G_GINT64_FORMAT
                                               " %d → %d (ld %" G_GINT64_FORMAT ", %"
                                               G_GINT64_FORMAT ")", n, in_f, out_f, ld_in,
                                               ld_out);

      /* din has the input's row stride */
      memset (din32, 0xFF, n_in * sizeof (float));
      memset (din16, 0xFF, n_in * sizeof (VbBf16));
      cpu->linear_backward_bf16 (cpu->ctx, din32, NULL, ld_in, dw, db, g, ld_out, x, ld_in, w, n,
                                 in_f, out_f);
      cpu->linear_backward_bf16 (cpu->ctx, NULL, din16, ld_in, NULL, NULL, g, ld_out, x, ld_in,
                                 w, n, in_f, out_f);
      g_autofree float *want32 = dense_of (NULL, din32, n, in_f, ld_in, sizeof (float));
      g_autofree VbBf16 *want16 = dense_of (NULL, din16, n, in_f, ld_in, sizeof (VbBf16));

      VbBf16 *d_x = upload16 (cu, x, n_in), *d_g = upload16 (cu, g, n_out);
      VbBf16 *d_w = upload16 (cu, w, n_w);
      float *d_din32 = cc_poisoned (cu, n_in), *d_din32b = cc_poisoned (cu, n_in);
      VbBf16 *d_din16 = cc_poisoned16 (cu, n_in), *d_din16b = cc_poisoned16 (cu, n_in);
      float *d_dw = cc_upload_floats (cu, dw0, n_w), *d_db = cc_upload_floats (cu, db0, out_f);
      float *d_dwb = cc_upload_floats (cu, dw0, n_w), *d_dbb = cc_upload_floats (cu, db0, out_f);

      /* fp32 din, dw and db (+=) */
      gpu->linear_backward_bf16 (gpu->ctx, d_din32, NULL, ld_in, d_dw, d_db, d_g, ld_out, d_x,
                                 ld_in, d_w, n, in_f, out_f);
      g_autofree float *got32s = cc_download (cu, d_din32, n_in);
      g_autofree float *got32 = dense_of (what, got32s, n, in_f, ld_in, sizeof (float));
      check_sum (what, got32, want32, nd, out_f);
      check_sum_dev (cu, "dw (+=)", d_dw, dw, n_w, (double) n);
      check_sum_dev (cu, "db (+=)", d_db, db, out_f, (double) n);

      /* dw and db with their sums queued (as in a model's backward): the weight's product
       * split over the rows where shape and strides allow (wgrad.cu: 12544 and 4096 rows),
       * against the CPU, and the same bits twice */
      for (int rep = 0; rep < 2; rep++)
        {
          float *qdw = rep == 0 ? d_dwb : d_dw, *qdb = rep == 0 ? d_dbb : d_db;
          vb_cuda_upload (cu, qdw, dw0, n_w * sizeof (float));
          vb_cuda_upload (cu, qdb, db0, out_f * sizeof (float));
          vb_cuda_param_sums_defer (cu);
          gpu->linear_backward_bf16 (gpu->ctx, NULL, NULL, ld_in, qdw, qdb, d_g, ld_out, d_x,
                                     ld_in, d_w, n, in_f, out_f);
          vb_cuda_param_sums_flush (cu);
        }
      check_sum_dev (cu, "dw queued (+=)", d_dwb, dw, n_w, (double) n);
      check_sum_dev (cu, "db queued (+=)", d_dbb, db, out_f, (double) n);
      assert_same_dev (cu, "linear backward bf16 queued twice (dw)", d_dw, d_dwb,
                       n_w * sizeof (float));
      assert_same_dev (cu, "linear backward bf16 queued twice (db)", d_db, d_dbb,
                       out_f * sizeof (float));
      /* the at-once sums again, for the repeats below */
      vb_cuda_upload (cu, d_dw, dw0, n_w * sizeof (float));
      vb_cuda_upload (cu, d_db, db0, out_f * sizeof (float));
      gpu->linear_backward_bf16 (gpu->ctx, NULL, NULL, ld_in, d_dw, d_db, d_g, ld_out, d_x,
                                 ld_in, d_w, n, in_f, out_f);

      /* bf16 din alone (din16 is taken even with din given) */
      gpu->linear_backward_bf16 (gpu->ctx, d_din32b, d_din16, ld_in, NULL, NULL, d_g, ld_out,
                                 d_x, ld_in, d_w, n, in_f, out_f);
      g_autofree VbBf16 *got16s = cc_download16 (cu, d_din16, n_in);
      g_autofree VbBf16 *got16 = dense_of ("bf16 din", got16s, n, in_f, ld_in, sizeof (VbBf16));
      check16 ("bf16 din", got16, want16, nd, 1e-5 + 4.0 * FLT_EPSILON * out_f);
      g_autofree float *untouched = cc_download (cu, d_din32b, n_in);
      for (gsize i = 0; i < n_in; i++)
        if (!isnan (untouched[i]))
          g_error ("fp32 din written although din16 was given");

      /* repeats in every matmul mode, dw and db one at a time with no din: the same bits */
      for (gsize m = 0; m <= G_N_ELEMENTS (other_modes); m++)
        {
          if (m > 0)
            set_matmul (cu, other_modes[m - 1]);
          vb_cuda_upload (cu, d_dwb, dw0, n_w * sizeof (float));
          vb_cuda_upload (cu, d_dbb, db0, out_f * sizeof (float));
          gpu->linear_backward_bf16 (gpu->ctx, d_din32b, NULL, ld_in, NULL, NULL, d_g, ld_out,
                                     d_x, ld_in, d_w, n, in_f, out_f);
          gpu->linear_backward_bf16 (gpu->ctx, NULL, d_din16b, ld_in, NULL, NULL, d_g, ld_out,
                                     d_x, ld_in, d_w, n, in_f, out_f);
          gpu->linear_backward_bf16 (gpu->ctx, NULL, NULL, ld_in, d_dwb, NULL, d_g, ld_out, d_x,
                                     ld_in, d_w, n, in_f, out_f);
          gpu->linear_backward_bf16 (gpu->ctx, NULL, NULL, ld_in, NULL, d_dbb, d_g, ld_out, d_x,
                                     ld_in, d_w, n, in_f, out_f);
          assert_same_dev (cu, "linear backward bf16 repeat (din)", d_din32, d_din32b,
                           n_in * sizeof (float));
          assert_same_dev (cu, "linear backward bf16 repeat (din16)", d_din16, d_din16b,
                           n_in * sizeof (VbBf16));
          assert_same_dev (cu, "linear backward bf16 repeat (dw)", d_dw, d_dwb,
                           n_w * sizeof (float));
          assert_same_dev (cu, "linear backward bf16 repeat (db)", d_db, d_dbb,
                           out_f * sizeof (float));
        }
      set_matmul (cu, VB_CUDA_MATMUL_FP32);
      CC_FREE_ALL (cu, d_x, d_g, d_w, d_din32, d_din32b, d_din16, d_din16b, d_dw, d_db, d_dwb,
                d_dbb);
    }
  gpu->linear_backward_bf16 (gpu->ctx, NULL, NULL, 8, NULL, NULL, NULL, 8, NULL, 8, NULL, 0, 8,
                             8);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the SS2D groups' Δ projections ----------------------------------------------- */

/* VMamba-T's stage 1 (K = 4 groups of rank 6 → 96 channels, rows of K·(R + 2N) = 32), an
 * awkward one (odd sizes, unaligned group starts), stage 2's and stage 3's (rank 24, a
 * multiple of 8, at unaligned group starts: copied but not padded), and aligned operands
 * (the products straight on them). narrow: the weight gradient's own kernel takes it
 * (vb_cuda_wgrad_groups: stage 1's padded rank 8, stage 4's 48 × 768, 136 channels = a
 * block of 128 and one of 8, five rows); 130 channels (not a multiple of 8) go to cuBLAS */
static const struct { int groups, n, in_f, out_f, in_gstride, narrow; } grp_shapes[] = {
  { 4, 1037, 6, 96, 8, 0 }, { 2, 37, 5, 13, 7, 0 }, { 4, 3, 12, 192, 14, 0 },
  { 4, 50, 24, 384, 26, 0 }, { 2, 64, 16, 32, 16, 1 }, { 4, 1037, 8, 96, 8, 1 },
  { 4, 300, 48, 768, 48, 1 }, { 1, 5, 24, 130, 24, 0 }, { 1, 5, 24, 136, 24, 1 },
};

static void
test_linear_groups (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 11);

  for (gsize s = 0; s < G_N_ELEMENTS (grp_shapes); s++)
    {
      int G = grp_shapes[s].groups, n = grp_shapes[s].n, in_f = grp_shapes[s].in_f;
      int out_f = grp_shapes[s].out_f;
      int64_t ig = grp_shapes[s].in_gstride, ld_in = G * ig, ld_out = (int64_t) G * out_f;
      gsize n_in = (gsize) n * ld_in, n_out = (gsize) n * ld_out;
      gsize n_w = (gsize) G * out_f * in_f;
      g_autofree VbBf16 *x = random_bf16 (rng, n_in, -1.0, 1.0);
      g_autofree VbBf16 *w = random_bf16 (rng, n_w, -0.5, 0.5);
      g_autofree VbBf16 *dy = random_bf16 (rng, n_out, -1.0, 1.0);
      g_autofree float *dw0 = cc_random (rng, n_w, -1.0, 1.0);
      g_autofree float *dw = g_memdup2 (dw0, n_w * sizeof (float));
      g_autofree VbBf16 *want = g_new (VbBf16, n_out);
      g_autofree float *din = g_new (float, n_in);
      g_autofree char *what = g_strdup_printf ("grouped linear bf16 %d × (%d × %d → %d)", G, n,
                                               in_f, out_f);
      for (gsize i = 0; i < n_in; i++)
        din[i] = NAN;   /* the columns between the groups' inputs stay unwritten */

      cpu->linear_forward_groups_bf16 (cpu->ctx, want, ld_out, out_f, x, ld_in, ig, w,
                                       (int64_t) out_f * in_f, G, n, in_f, out_f);
      cpu->linear_backward_groups_bf16 (cpu->ctx, din, ld_in, ig, dw, (int64_t) out_f * in_f,
                                        dy, ld_out, out_f, x, ld_in, ig, w, G, n, in_f, out_f);

      VbBf16 *d_x = upload16 (cu, x, n_in), *d_w = upload16 (cu, w, n_w);
      VbBf16 *d_dy = upload16 (cu, dy, n_out), *d_y = cc_poisoned16 (cu, n_out);
      float *d_din = cc_poisoned (cu, n_in), *d_dw = cc_upload_floats (cu, dw0, n_w);
      gpu->linear_forward_groups_bf16 (gpu->ctx, d_y, ld_out, out_f, d_x, ld_in, ig, d_w,
                                       (int64_t) out_f * in_f, G, n, in_f, out_f);
      check16_dev (cu, what, d_y, want, n_out, 0.0);
      gpu->linear_backward_groups_bf16 (gpu->ctx, d_din, ld_in, ig, d_dw,
                                        (int64_t) out_f * in_f, d_dy, ld_out, out_f, d_x, ld_in,
                                        ig, d_w, G, n, in_f, out_f);
      g_autofree float *got = cc_download (cu, d_din, n_in);
      for (gsize i = 0; i < n_in; i++)
        if (isnan (din[i]) != isnan (got[i]))
          g_error ("%s: din column %" G_GSIZE_FORMAT " %s", what, i % ld_in,
                   isnan (got[i]) ? "unwritten" : "written between the groups");
        else if (isnan (din[i]))
          din[i] = got[i] = 0.0f;
      cc_assert_close (what, got, din, n_in, 1e-5, 1e-5, 1e-4);
      g_autofree float *got_dw = cc_download (cu, d_dw, n_w);
      /* each dw is the old value plus a sum of n products of magnitude ≤ 1 (Σ|terms| ≈
       * n/4), added in cuBLAS's split order on the GPU and in sequence on the CPU: fp32
       * rounding alone moves it by ~1e-5 at n = 1037, a misplaced column by ~1 */
      cc_assert_close ("dw (+=)", got_dw, dw, n_w, 1e-5, 1e-4, 1e-4);
      /* with the sums queued (narrow aligned inputs: all groups in one launch of ours),
       * twice: within the same bound of the CPU's, the same bits both times */
      float *d_dwq = cc_upload_floats (cu, dw0, n_w), *d_dwq2 = cc_upload_floats (cu, dw0, n_w);
      for (int rep = 0; rep < 2; rep++)
        {
          vb_cuda_param_sums_defer (cu);
          gpu->linear_backward_groups_bf16 (gpu->ctx, NULL, ld_in, ig, rep ? d_dwq2 : d_dwq,
                                            (int64_t) out_f * in_f, d_dy, ld_out, out_f, d_x,
                                            ld_in, ig, d_w, G, n, in_f, out_f);
          vb_cuda_param_sums_flush (cu);
        }
      g_autofree float *got_q = cc_download (cu, d_dwq, n_w);
      cc_assert_close ("dw (+=, queued)", got_q, dw, n_w, 1e-5, 1e-4, 1e-4);
      assert_same_dev (cu, "dw queued repeat", d_dwq, d_dwq2, n_w * sizeof (float));
      /* the narrow kernel's own entry: nothing done while the sums are not queued; taken
       * (queued) exactly on the shapes marked narrow, giving the bits the grouped backward
       * gave through it */
      float *d_dwk = cc_upload_floats (cu, dw0, n_w);
      g_assert_cmpint (vb_cuda_wgrad_groups (cu, d_dwk, (int64_t) out_f * in_f, d_x, ld_in, ig,
                                             d_dy, ld_out, out_f, G, n, in_f, out_f), ==, 0);
      vb_cuda_param_sums_defer (cu);
      int taken = vb_cuda_wgrad_groups (cu, d_dwk, (int64_t) out_f * in_f, d_x, ld_in, ig, d_dy,
                                        ld_out, out_f, G, n, in_f, out_f);
      vb_cuda_param_sums_flush (cu);
      g_assert_cmpint (taken, ==, grp_shapes[s].narrow);
      if (taken)
        assert_same_dev (cu, "dw through the narrow kernel's entry", d_dwk, d_dwq,
                         n_w * sizeof (float));
      else
        {
          g_autofree float *untouched = cc_download (cu, d_dwk, n_w);
          g_assert_cmpmem (untouched, n_w * sizeof (float), dw0, n_w * sizeof (float));
        }
      CC_FREE_ALL (cu, d_x, d_w, d_dy, d_y, d_din, d_dw, d_dwq, d_dwq2, d_dwk);
    }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the Δ products' padded operands ------------------------------------------------ */

/* (rows, K, R, N, Rp): VMamba-T's stages 1 and 3, odd R and several states, R already a
 * multiple of 8, one row; offset: dtlow16 one element off 16-byte alignment (the scalar
 * stores) */
static const struct { int64_t rows; int K, R, N, Rp, offset; } pad_shapes[] = {
  { 1037, 4, 6, 1, 8, 0 }, { 37, 2, 5, 2, 8, 1 }, { 50, 4, 24, 1, 24, 0 },
  { 3, 4, 48, 4, 48, 1 }, { 1, 1, 1, 1, 8, 0 },
};

/* columns cols… of every cols_p-wide row of x (n values) set to NaN */
static void
nan_padding (float *x, gsize n, int cols, int cols_p)
{
  for (gsize i = 0; i < n; i++)
    if ((int) (i % cols_p) >= cols)
      x[i] = NAN;
}

/* every output the CPU's bits (conversions and copies only); pad columns of the inputs
 * hold NaN, which must not reach an output */
static void
test_xdbl_padding (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 13);

  for (gsize s = 0; s < G_N_ELEMENTS (pad_shapes); s++)
    {
      int64_t rows = pad_shapes[s].rows;
      int K = pad_shapes[s].K, R = pad_shapes[s].R, N = pad_shapes[s].N, Rp = pad_shapes[s].Rp;
      gsize RN = R + 2 * N, n_x = rows * K * RN, n_bc = rows * K * N, n_lo = rows * K * Rp;
      g_autofree char *what = g_strdup_printf ("x_dbl padding %" G_GINT64_FORMAT " × %d × "
                                               "(%d + 2·%d → %d)", rows, K, R, N, Rp);
      g_autofree float *xdbl = cc_random (rng, n_x, -3.0, 3.0);
      g_autofree float *ddtlow = cc_random (rng, n_lo, -3.0, 3.0);
      g_autofree float *dBs = cc_random (rng, n_bc, -3.0, 3.0);
      g_autofree float *dCs = cc_random (rng, n_bc, -3.0, 3.0);
      nan_padding (ddtlow, n_lo, R, Rp);
      g_autofree float *Bs = g_new (float, n_bc), *Cs = g_new (float, n_bc);
      g_autofree VbBf16 *dtlow = g_new (VbBf16, n_lo), *dx = g_new (VbBf16, n_x);
      cpu->ssm_split_xdbl_bf16 (cpu->ctx, Bs, Cs, dtlow, xdbl, rows, K, R, N, Rp);
      cpu->ssm_join_xdbl_bf16 (cpu->ctx, dx, ddtlow, dBs, dCs, rows, K, R, N, Rp);
      for (gsize i = 0; i < n_lo; i++)
        if ((int) (i % Rp) >= R && dtlow[i] != 0)
          g_error ("%s: the CPU's padding is not zero", what);

      void *lo_base;
      float *d_x = cc_upload_floats (cu, xdbl, n_x), *d_lo = cc_upload_floats (cu, ddtlow, n_lo);
      float *d_dB = cc_upload_floats (cu, dBs, n_bc), *d_dC = cc_upload_floats (cu, dCs, n_bc);
      float *d_B = cc_poisoned (cu, n_bc), *d_C = cc_poisoned (cu, n_bc);
      /* poisoned: the padding's zeros must be written */
      VbBf16 *d_dtlow = upload_at (cu, dtlow, n_lo, sizeof (VbBf16), pad_shapes[s].offset,
                                   &lo_base);
      vb_cuda_memset (cu, d_dtlow, 0xFF, n_lo * sizeof (VbBf16));
      VbBf16 *d_dx = cc_poisoned16 (cu, n_x);
      gpu->ssm_split_xdbl_bf16 (gpu->ctx, d_B, d_C, d_dtlow, d_x, rows, K, R, N, Rp);
      gpu->ssm_join_xdbl_bf16 (gpu->ctx, d_dx, d_lo, d_dB, d_dC, rows, K, R, N, Rp);
      g_autofree float *got_B = cc_download (cu, d_B, n_bc), *got_C = cc_download (cu, d_C, n_bc);
      g_autofree VbBf16 *got_lo = cc_download16 (cu, d_dtlow, n_lo);
      g_autofree VbBf16 *got_dx = cc_download16 (cu, d_dx, n_x);
      assert_same ("Bs", got_B, Bs, n_bc * sizeof (float));
      assert_same ("Cs", got_C, Cs, n_bc * sizeof (float));
      assert_same (what, got_lo, dtlow, n_lo * sizeof (VbBf16));
      assert_same ("x_dbl's gradient (bf16)", got_dx, dx, n_x * sizeof (VbBf16));

      /* the weight's padding and its gradient's way back: (K·D) rows of R */
      gsize wr = (gsize) K * 7, n_w = wr * R, n_wp = wr * Rp;
      g_autofree float *w = cc_random (rng, n_w, -1.0, 1.0);
      g_autofree float *gw0 = cc_random (rng, n_w, -1.0, 1.0);
      g_autofree float *gp = cc_random (rng, n_wp, -1.0, 1.0);
      nan_padding (gp, n_wp, R, Rp);
      g_autofree VbBf16 *wp = g_new (VbBf16, n_wp);
      g_autofree float *gw = g_memdup2 (gw0, n_w * sizeof (float));
      cpu->pad_cols_bf16 (cpu->ctx, wp, w, wr, R, Rp);
      cpu->unpad_add_cols (cpu->ctx, gw, gp, wr, R, Rp);
      float *d_w = cc_upload_floats (cu, w, n_w), *d_gp = cc_upload_floats (cu, gp, n_wp);
      float *d_gw = cc_upload_floats (cu, gw0, n_w);
      VbBf16 *d_wp = cc_poisoned16 (cu, n_wp);
      gpu->pad_cols_bf16 (gpu->ctx, d_wp, d_w, wr, R, Rp);
      gpu->unpad_add_cols (gpu->ctx, d_gw, d_gp, wr, R, Rp);
      g_autofree VbBf16 *got_wp = cc_download16 (cu, d_wp, n_wp);
      g_autofree float *got_gw = cc_download (cu, d_gw, n_w);
      assert_same ("padded weight (bf16)", got_wp, wp, n_wp * sizeof (VbBf16));
      assert_same ("weight gradient, unpadded (+=)", got_gw, gw, n_w * sizeof (float));
      for (gsize i = 0; i < n_w; i++)
        g_assert_false (isnan (gw[i]));
      vb_cuda_free (cu, lo_base);
      CC_FREE_ALL (cu, d_x, d_lo, d_dB, d_dC, d_B, d_C, d_dx, d_w, d_gp, d_gw, d_wp);
    }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the cross-merge in the LayerNorm, on bf16 group rows ------------------------- */

static void
test_merge_bf16_layernorm (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 12);
  /* the fast path's widths (c % 4 == 0, ≤ 1024) and the generic one's (37, 1028) */
  static const struct { int64_t n; int c; } shapes[] = {
    { 37, 96 }, { 1031, 192 }, { 5, 37 }, { 9, 1000 }, { 3, 1028 },
  };
  static const int Ks[] = { 2, 4 };

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (gsize ki = 0; ki < G_N_ELEMENTS (Ks); ki++)
      {
        int64_t n = shapes[s].n;
        int c = shapes[s].c, K = Ks[ki];
        gsize nc = (gsize) n * c, nys = nc * K;
        g_autofree VbBf16 *ys = random_bf16 (rng, nys, -1.0, 3.0);
        g_autofree float *gamma = cc_random (rng, c, 0.5, 1.5);
        g_autofree float *beta = cc_random (rng, c, -0.5, 0.5);
        g_autofree float *y = g_new (float, nc), *mean = g_new (float, n);
        g_autofree float *rstd = g_new (float, n);
        g_autofree VbBf16 *out = g_new (VbBf16, nc);
        g_autofree char *what = g_strdup_printf ("merge (bf16) + layernorm n=%" G_GINT64_FORMAT
                                                 " c=%d K=%d", n, c, K);

        cpu->merge_bf16_layernorm_forward (cpu->ctx, y, out, mean, rstd, ys, K, gamma, beta, n,
                                           c, 1e-5f);
        VbBf16 *d_ys = upload16 (cu, ys, nys);
        float *d_gamma = cc_upload_floats (cu, gamma, c), *d_beta = cc_upload_floats (cu, beta, c);
        float *d_y = cc_poisoned (cu, nc), *d_y2 = cc_poisoned (cu, nc);
        float *d_mean = cc_poisoned (cu, n), *d_rstd = cc_poisoned (cu, n);
        float *d_mean2 = cc_poisoned (cu, n), *d_rstd2 = cc_poisoned (cu, n);
        VbBf16 *d_out = cc_poisoned16 (cu, nc), *d_out2 = cc_poisoned16 (cu, nc);

        gpu->merge_bf16_layernorm_forward (gpu->ctx, d_y, d_out, d_mean, d_rstd, d_ys, K,
                                           d_gamma, d_beta, n, c, 1e-5f);
        cc_check (cu, what, d_y, y, nc);
        check16_dev (cu, "out16", d_out, out, nc, 1e-6);
        cc_check (cu, "mean", d_mean, mean, n);
        cc_check (cu, "rstd", d_rstd, rstd, n);
        /* the unfused GPU ops give the same bits */
        vb_cuda_group_sum_bf16 (cu, d_y2, d_ys, n, K, c, 0);
        vb_cuda_layernorm_forward_bf16 (cu, d_out2, d_mean2, d_rstd2, d_y2, d_gamma, d_beta, n,
                                        c, 1e-5f);
        assert_same_dev (cu, "y, fused and not", d_y, d_y2, nc * sizeof (float));
        assert_same_dev (cu, "out16, fused and not", d_out, d_out2, nc * sizeof (VbBf16));
        assert_same_dev (cu, "mean, fused and not", d_mean, d_mean2, n * sizeof (float));
        assert_same_dev (cu, "rstd, fused and not", d_rstd, d_rstd2, n * sizeof (float));
        CC_FREE_ALL (cu, d_ys, d_gamma, d_beta, d_y, d_y2, d_mean, d_rstd, d_mean2, d_rstd2, d_out,
                  d_out2);
      }
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- 3×3 stride-2 convolution ---------------------------------------------------------- */

/* cin = 3 (the stem's first conv) and 12 take the scalar and 4-wide im2col / col2im, 48
 * and 96 the 8-wide; odd H and W leave a half-covered last output row and column; the
 * last needs two batch chunks (2 + 1 samples of 14 M columns), so the chunk offsets and
 * dw's accumulation over chunks are exercised */
static const struct { int B, H, W, cin, cout; } cv_shapes[] = {
  { 2, 7, 9, 3, 8 }, { 3, 16, 16, 48, 96 }, { 2, 14, 14, 96, 192 }, { 1, 5, 6, 12, 20 },
  { 3, 255, 253, 96, 8 },
};

/* the rounded copy the CPU reference multiplies, |·|'d: its din bounds the terms */
static float *
abs_rounded (const float *x, gsize n)
{
  float *r = g_new (float, at_least_one (n));
  for (gsize i = 0; i < n; i++)
    r[i] = fabsf (vb_bf16_to_float (vb_bf16_from_float (x[i])));
  return r;
}

/* the bf16 conv's din: each element within 2⁻⁸·bound (bound: Σ over its column-gradient
 * terms of Σ_o |dout|·|w|, each term rounded to bf16, a rounding that may flip) plus fp32
 * noise of `terms` products, every element finite; relative L2 ≤ 1e-3 */
static void
check_conv_din (VbCuda *cu, const char *what, const float *dev, const float *want,
                const float *bound, gsize n, double terms)
{
  g_autofree float *got = cc_download (cu, dev, n);
  double num = 0.0, den = 0.0, worst = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) got[i] - want[i]);
      double tol = (ldexp (1.0, -8) + 4.0 * FLT_EPSILON * terms) * bound[i] + 1e-6;
      if (!isfinite (got[i]))
        g_error ("%s: element %" G_GSIZE_FORMAT " is %g (unwritten or overflow)", what, i,
                 got[i]);
      if (d > tol)
        g_error ("%s: element %" G_GSIZE_FORMAT ": GPU %.9g, CPU %.9g (bound %.3g)", what, i,
                 got[i], want[i], tol);
      num += d * d;
      den += (double) want[i] * want[i];
      worst = MAX (worst, d / tol);
    }
  double err = den > 0.0 ? sqrt (num / den) : sqrt (num);
  if (err > 1e-3)
    g_error ("%s: relative L2 error %.3g > 1e-3", what, err);
  g_test_message ("%s: relative L2 error %.3g over %" G_GSIZE_FORMAT " values, at most %.3g "
                  "of the element bound", what, err, n, worst);
}

static void
test_conv3x3s2_forward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 7);

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
      g_autofree float *want = g_new (float, n_out);
      g_autofree float *want_nb = g_new (float, n_out);
      g_autofree char *what = g_strdup_printf ("conv3x3s2 forward bf16 %dx%dx%dx%d → %d", B, H,
                                               W, cin, cout);
      void *x_base;

      memset (want, 0xFF, n_out * sizeof (float));
      memset (want_nb, 0xFF, n_out * sizeof (float));
      cpu->conv3x3s2_forward_bf16 (cpu->ctx, want, x, w, b, B, H, W, cin, cout);
      cpu->conv3x3s2_forward_bf16 (cpu->ctx, want_nb, x, w, NULL, B, H, W, cin, cout);

      float *d_x = cc_upload_floats (cu, x, n_in), *d_w = cc_upload_floats (cu, w, nw);
      float *d_b = cc_upload_floats (cu, b, cout);
      float *d_out = cc_poisoned (cu, n_out), *d_out2 = cc_poisoned (cu, n_out);

      /* each output sums 9·cin products */
      gpu->conv3x3s2_forward_bf16 (gpu->ctx, d_out, d_x, d_w, d_b, B, H, W, cin, cout);
      check_sum_dev (cu, what, d_out, want, n_out, 9.0 * cin);
      gpu->conv3x3s2_forward_bf16 (gpu->ctx, d_out2, d_x, d_w, NULL, B, H, W, cin, cout);
      check_sum_dev (cu, "no bias", d_out2, want_nb, n_out, 9.0 * cin);

      /* repeats, in every matmul mode */
      for (gsize m = 0; m <= G_N_ELEMENTS (other_modes); m++)
        {
          if (m > 0)
            set_matmul (cu, other_modes[m - 1]);
          vb_cuda_memset (cu, d_out2, 0xFF, n_out * sizeof (float));
          gpu->conv3x3s2_forward_bf16 (gpu->ctx, d_out2, d_x, d_w, d_b, B, H, W, cin, cout);
          assert_same_dev (cu, "conv3x3s2 forward bf16 repeat", d_out, d_out2,
                           n_out * sizeof (float));
        }
      set_matmul (cu, VB_CUDA_MATMUL_FP32);

      /* a misaligned input: the scalar im2col, the same columns */
      const float *d_x1 = upload_at (cu, x, n_in, sizeof (float), 1, &x_base);
      vb_cuda_memset (cu, d_out2, 0xFF, n_out * sizeof (float));
      gpu->conv3x3s2_forward_bf16 (gpu->ctx, d_out2, d_x1, d_w, d_b, B, H, W, cin, cout);
      assert_same_dev (cu, "conv3x3s2 forward bf16 unaligned", d_out, d_out2,
                       n_out * sizeof (float));
      CC_FREE_ALL (cu, d_x, d_w, d_b, d_out, d_out2, x_base);
    }
  gpu->conv3x3s2_forward_bf16 (gpu->ctx, NULL, NULL, NULL, NULL, 0, 8, 8, 3, 4);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

static void
test_conv3x3s2_backward (VbCuda *cu)
{
  GRand *rng = cc_seeded (SEED + 8);

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
      g_autofree float *dw = g_memdup2 (dw0, nw * sizeof (float));
      g_autofree float *db = g_memdup2 (db0, cout * sizeof (float));
      g_autofree float *g_abs = abs_rounded (g, n_out), *w_abs = abs_rounded (w, nw);
      g_autofree float *bound = g_new (float, n_in);
      g_autofree char *what = g_strdup_printf ("conv3x3s2 backward bf16 %dx%dx%dx%d → %d", B, H,
                                               W, cin, cout);
      void *x_base, *din_base;

      memset (din, 0xFF, n_in * sizeof (float));
      cpu->conv3x3s2_backward_bf16 (cpu->ctx, din, dw, db, g, x, w, B, H, W, cin, cout);
      /* Σ over the ≤ 4 terms of each din element of Σ_o |dout|·|w| */
      vb_conv3x3s2_backward (bound, NULL, NULL, g_abs, x, w_abs, B, H, W, cin, cout);

      float *d_x = cc_upload_floats (cu, x, n_in), *d_g = cc_upload_floats (cu, g, n_out);
      float *d_w = cc_upload_floats (cu, w, nw);
      float *d_din = cc_poisoned (cu, n_in), *d_din2 = cc_poisoned (cu, n_in);
      float *d_dw = cc_upload_floats (cu, dw0, nw), *d_dw2 = cc_upload_floats (cu, dw0, nw);
      float *d_db = cc_upload_floats (cu, db0, cout), *d_db2 = cc_upload_floats (cu, db0, cout);

      /* din: ≤ 4 terms of cout products each; dw and db sum over the B·Ho·Wo pixels */
      gpu->conv3x3s2_backward_bf16 (gpu->ctx, d_din, d_dw, d_db, d_g, d_x, d_w, B, H, W, cin,
                                    cout);
      check_conv_din (cu, what, d_din, din, bound, n_in, cout);
      check_sum_dev (cu, "dw (+=)", d_dw, dw, nw, rows);
      check_sum_dev (cu, "db (+=)", d_db, db, cout, rows);

      /* repeats, in every matmul mode */
      for (gsize m = 0; m <= G_N_ELEMENTS (other_modes); m++)
        {
          if (m > 0)
            set_matmul (cu, other_modes[m - 1]);
          vb_cuda_memset (cu, d_din2, 0xFF, n_in * sizeof (float));
          vb_cuda_upload (cu, d_dw2, dw0, nw * sizeof (float));
          vb_cuda_upload (cu, d_db2, db0, cout * sizeof (float));
          gpu->conv3x3s2_backward_bf16 (gpu->ctx, d_din2, d_dw2, d_db2, d_g, d_x, d_w, B, H, W,
                                        cin, cout);
          assert_same_dev (cu, "conv3x3s2 backward bf16 repeat (din)", d_din, d_din2,
                           n_in * sizeof (float));
          assert_same_dev (cu, "conv3x3s2 backward bf16 repeat (dw)", d_dw, d_dw2,
                           nw * sizeof (float));
          assert_same_dev (cu, "conv3x3s2 backward bf16 repeat (db)", d_db, d_db2,
                           cout * sizeof (float));
        }
      set_matmul (cu, VB_CUDA_MATMUL_FP32);

      /* NULL-able outputs, one at a time: the same bits, the others untouched */
      vb_cuda_memset (cu, d_din2, 0xFF, n_in * sizeof (float));
      vb_cuda_upload (cu, d_dw2, dw0, nw * sizeof (float));
      vb_cuda_upload (cu, d_db2, db0, cout * sizeof (float));
      gpu->conv3x3s2_backward_bf16 (gpu->ctx, d_din2, NULL, NULL, d_g, d_x, d_w, B, H, W, cin,
                                    cout);
      assert_same_dev (cu, "din alone", d_din, d_din2, n_in * sizeof (float));
      cc_check (cu, "dw untouched", d_dw2, dw0, nw);
      cc_check (cu, "db untouched", d_db2, db0, cout);
      gpu->conv3x3s2_backward_bf16 (gpu->ctx, NULL, d_dw2, NULL, d_g, d_x, d_w, B, H, W, cin,
                                    cout);
      assert_same_dev (cu, "dw alone", d_dw, d_dw2, nw * sizeof (float));
      cc_check (cu, "db untouched", d_db2, db0, cout);
      gpu->conv3x3s2_backward_bf16 (gpu->ctx, NULL, NULL, d_db2, d_g, d_x, d_w, B, H, W, cin,
                                    cout);
      assert_same_dev (cu, "db alone", d_db, d_db2, cout * sizeof (float));

      /* a misaligned input and din: the scalar im2col and col2im, the same bits */
      const float *d_x1 = upload_at (cu, x, n_in, sizeof (float), 1, &x_base);
      din_base = cc_poisoned (cu, n_in + 1);
      vb_cuda_upload (cu, d_dw2, dw0, nw * sizeof (float));
      gpu->conv3x3s2_backward_bf16 (gpu->ctx, (float *) din_base + 1, d_dw2, NULL, d_g, d_x1,
                                    d_w, B, H, W, cin, cout);
      assert_same_dev (cu, "din unaligned", d_din, (float *) din_base + 1,
                       n_in * sizeof (float));
      assert_same_dev (cu, "dw unaligned", d_dw, d_dw2, nw * sizeof (float));

      CC_FREE_ALL (cu, d_x, d_g, d_w, d_din, d_din2, d_dw, d_dw2, d_db, d_db2, x_base, din_base);
    }
  gpu->conv3x3s2_backward_bf16 (gpu->ctx, NULL, NULL, NULL, NULL, NULL, NULL, 0, 8, 8, 3, 4);
  cc_assert_ok (cu);
  g_rand_free (rng);
}

/* ---- the table ------------------------------------------------------------------------ */

typedef struct {
  const char *path;
  void      (*run) (VbCuda *cu);
} CudaTest;

static const CudaTest cuda_tests[] = {
  { "/vb/cuda/bf16/to-bf16", test_to_bf16 },
  { "/vb/cuda/bf16/gelu-forward", test_gelu_forward },
  { "/vb/cuda/bf16/gelu-backward", test_gelu_backward },
  { "/vb/cuda/bf16/layernorm-forward", test_layernorm_forward },
  { "/vb/cuda/bf16/layernorm-backward-acc", test_layernorm_backward_acc },
  { "/vb/cuda/bf16/layernorm-backward-bf16", test_layernorm_backward_bf16 },
  { "/vb/cuda/bf16/residual-layernorm", test_residual_layernorm },
  { "/vb/cuda/bf16/linear-forward", test_linear_forward },
  { "/vb/cuda/bf16/linear-backward", test_linear_backward },
  { "/vb/cuda/bf16/lt-plan-eviction", test_lt_plan_eviction },
  { "/vb/cuda/bf16/linear-groups", test_linear_groups },
  { "/vb/cuda/bf16/xdbl-padding", test_xdbl_padding },
  { "/vb/cuda/bf16/merge-layernorm", test_merge_bf16_layernorm },
  { "/vb/cuda/bf16/conv3x3s2-forward", test_conv3x3s2_forward },
  { "/vb/cuda/bf16/conv3x3s2-backward", test_conv3x3s2_backward },
};

/* every test needs the GPU: without one it skips visibly, with the reason */
static void
run_on_gpu (gconstpointer data)
{
  const CudaTest *t = data;
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  if (gpu == NULL)
    gpu = vb_cuda_ops_new (cu);
  g_assert_nonnull (gpu);
  t->run (cu);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cpu = vb_cpu_ops ();
  for (gsize i = 0; i < G_N_ELEMENTS (cuda_tests); i++)
    g_test_add_data_func (cuda_tests[i].path, &cuda_tests[i], run_on_gpu);
  return g_test_run ();
}
