/* test-ops-grad.c: forward against naive loops and central-difference gradient checks
 * for every dense op of vb-cpu-ops.h (the scan ops are in test-scan.c), and the bf16
 * convolution as the fp32 one on rounded operands. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-ops.h"
#include "gradcheck.h"

#define SAMPLES 300
#define GARBAGE 1e30f   /* pre-fill of "=" outputs: must be overwritten */

/* ---- linear ----------------------------------------------------------------------- */

typedef struct {
  int64_t n, ld_in, ld_out;
  int in_f, out_f, off;
  float *in, *w, *b, *out;
} LinearCase;

static void
linear_fwd (gpointer self)
{
  LinearCase *c = self;
  vb_linear_forward (c->out, c->ld_out, c->in + c->off, c->ld_in, c->w, c->b,
                     c->n, c->in_f, c->out_f);
}

static void
check_linear (gboolean with_bias, gboolean strided)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  LinearCase c = { .n = 5, .in_f = 7, .out_f = 4 };
  int64_t ld_din;
  g_autofree float *dout = NULL, *din = NULL, *din0 = NULL, *din_eq = NULL;
  g_autofree float *dw = NULL, *dw0 = NULL, *db = NULL, *db0 = NULL, *ana = NULL;
  g_autofree float *ana_w = NULL, *ana_b = NULL;
  float *in_mem, *w_mem, *b_mem = NULL, *out_mem;
  double *want;

  c.ld_in = strided ? 10 : c.in_f;
  c.off = strided ? 2 : 0;
  c.ld_out = strided ? 6 : c.out_f;
  ld_din = strided ? 9 : c.in_f;

  c.in = in_mem = gc_randn (rand, c.n * c.ld_in, 1.0f);
  c.w = w_mem = gc_randn (rand, (int64_t) c.out_f * c.in_f, 0.5f);
  if (with_bias)
    c.b = b_mem = gc_randn (rand, c.out_f, 1.0f);
  c.out = out_mem = gc_fill (c.n * c.ld_out, 7.0f);

  /* forward against a naive loop; the padding columns of out stay untouched */
  linear_fwd (&c);
  want = g_new (double, c.n * c.ld_out);
  for (int64_t r = 0; r < c.n; r++)
    for (int o = 0; o < c.ld_out; o++)
      {
        double s = 7.0;
        if (o < c.out_f)
          {
            s = with_bias ? c.b[o] : 0.0;
            for (int i = 0; i < c.in_f; i++)
              s += (double) c.in[c.off + r * c.ld_in + i] * c.w[o * c.in_f + i];
          }
        want[r * c.ld_out + o] = s;
      }
  gc_assert_close ("linear out", c.out, want, c.n * c.ld_out, 1e-5, 1e-5);
  g_free (want);

  /* dout is zero in the padding so the loss ignores it */
  dout = gc_randn (rand, c.n * c.ld_out, 1.0f);
  for (int64_t r = 0; r < c.n; r++)
    for (int o = c.out_f; o < c.ld_out; o++)
      dout[r * c.ld_out + o] = 0.0f;

  din0 = gc_randn (rand, c.n * ld_din, 1.0f);
  din = gc_copy (din0, c.n * ld_din);
  dw0 = gc_randn (rand, (int64_t) c.out_f * c.in_f, 1.0f);
  dw = gc_copy (dw0, (int64_t) c.out_f * c.in_f);
  db0 = gc_randn (rand, c.out_f, 1.0f);
  db = gc_copy (db0, c.out_f);
  vb_linear_backward (din, ld_din, TRUE, dw, with_bias ? db : NULL, dout, c.ld_out,
                      c.in + c.off, c.ld_in, c.w, c.n, c.in_f, c.out_f);

  /* accumulate = 0 overwrites exactly what accumulate = 1 added */
  din_eq = gc_fill (c.n * ld_din, GARBAGE);
  for (int64_t r = 0; r < c.n; r++)
    for (int i = c.in_f; i < ld_din; i++)
      din_eq[r * ld_din + i] = din0[r * ld_din + i];
  vb_linear_backward (din_eq, ld_din, FALSE, NULL, NULL, dout, c.ld_out,
                      c.in + c.off, c.ld_in, c.w, c.n, c.in_f, c.out_f);
  for (int64_t r = 0; r < c.n; r++)
    for (int i = 0; i < ld_din; i++)
      {
        int64_t j = r * ld_din + i;
        if (i >= c.in_f)
          {
            g_assert_cmpfloat (din[j], ==, din0[j]);
            g_assert_cmpfloat (din_eq[j], ==, din0[j]);
          }
        else
          g_assert_cmpfloat_with_epsilon (din_eq[j], din[j] - din0[j], 1e-5);
      }

  /* analytic gradient laid out like the (strided) input buffer */
  ana = g_new0 (float, c.n * c.ld_in);
  for (int64_t r = 0; r < c.n; r++)
    for (int i = 0; i < c.in_f; i++)
      ana[c.off + r * c.ld_in + i] = din[r * ld_din + i] - din0[r * ld_din + i];
  ana_w = gc_delta (dw, dw0, (int64_t) c.out_f * c.in_f);

  {
    GcProblem p = { linear_fwd, &c, c.out, dout, c.n * c.ld_out };
    gc_check (&p, "linear din", in_mem, c.n * c.ld_in - c.off, ana, SAMPLES, 1e-2f);
    gc_check (&p, "linear dw", w_mem, (int64_t) c.out_f * c.in_f, ana_w, SAMPLES, 1e-2f);
    if (with_bias)
      {
        ana_b = gc_delta (db, db0, c.out_f);
        gc_check (&p, "linear db", b_mem, c.out_f, ana_b, SAMPLES, 1e-2f);
      }
  }

  g_free (in_mem);
  g_free (w_mem);
  g_free (b_mem);
  g_free (out_mem);
}

static void
test_linear_dense (void)
{
  check_linear (TRUE, FALSE);
  check_linear (FALSE, FALSE);
}

static void
test_linear_strided (void)
{
  check_linear (TRUE, TRUE);
  check_linear (FALSE, TRUE);
}

/* ---- conv 3x3 stride 2 -------------------------------------------------------------- */

typedef struct {
  int B, H, W, cin, cout;
  float *in, *w, *b, *out;
} ConvCase;

static void
conv_fwd (gpointer self)
{
  ConvCase *c = self;
  vb_conv3x3s2_forward (c->out, c->in, c->w, c->b, c->B, c->H, c->W, c->cin, c->cout);
}

static void
check_conv (int H, int W)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (21 + H * 7 + W);
  ConvCase c = { .B = 2, .H = H, .W = W, .cin = 3, .cout = 4 };
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t n_in = (int64_t) c.B * H * W * c.cin, n_out = (int64_t) c.B * Ho * Wo * c.cout;
  int64_t n_w = (int64_t) c.cout * c.cin * 9;
  g_autofree float *in = gc_randn (rand, n_in, 1.0f);
  g_autofree float *w = gc_randn (rand, n_w, 0.5f);
  g_autofree float *b = gc_randn (rand, c.cout, 1.0f);
  g_autofree float *out = gc_fill (n_out, GARBAGE);
  g_autofree float *dout = gc_randn (rand, n_out, 1.0f);
  g_autofree float *din = gc_fill (n_in, GARBAGE);
  g_autofree float *dw0 = gc_randn (rand, n_w, 1.0f), *dw = gc_copy (dw0, n_w);
  g_autofree float *db0 = gc_randn (rand, c.cout, 1.0f), *db = gc_copy (db0, c.cout);
  g_autofree float *ana_w = NULL, *ana_b = NULL;
  g_autofree double *want = g_new (double, n_out);

  c.in = in;
  c.w = w;
  c.b = b;
  c.out = out;
  conv_fwd (&c);
  for (int bb = 0; bb < c.B; bb++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++)
        for (int o = 0; o < c.cout; o++)
          {
            double s = b[o];
            for (int ci = 0; ci < c.cin; ci++)
              for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                  {
                    int y = 2 * oy - 1 + ky, x = 2 * ox - 1 + kx;
                    if (y >= 0 && y < H && x >= 0 && x < W)
                      s += (double) in[((bb * H + y) * W + x) * c.cin + ci]
                           * w[((o * c.cin + ci) * 3 + ky) * 3 + kx];
                  }
            want[((bb * Ho + oy) * Wo + ox) * c.cout + o] = s;
          }
  gc_assert_close ("conv out", out, want, n_out, 1e-5, 1e-5);

  vb_conv3x3s2_backward (din, dw, db, dout, in, w, c.B, H, W, c.cin, c.cout);
  ana_w = gc_delta (dw, dw0, n_w);
  ana_b = gc_delta (db, db0, c.cout);
  {
    GcProblem p = { conv_fwd, &c, out, dout, n_out };
    gc_check (&p, "conv din", in, n_in, din, SAMPLES, 1e-2f);
    gc_check (&p, "conv dw", w, n_w, ana_w, SAMPLES, 1e-2f);
    gc_check (&p, "conv db", b, c.cout, ana_b, SAMPLES, 1e-2f);
  }
}

static void
test_conv_odd (void)
{
  check_conv (5, 7);
}

static void
test_conv_even (void)
{
  check_conv (6, 4);
}

static void
test_conv_mixed (void)
{
  check_conv (4, 5);
  check_conv (1, 1);
}

/* the bf16 conv (vb_conv3x3s2_*_bf16) is the fp32 conv on operands rounded to bf16, bit
 * for bit (db: on the unrounded dout), and the rounding does happen: the fp32 conv on the
 * unrounded operands gives other values */
static float *
bf16_rounded (const float *x, int64_t n)
{
  float *r = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    r[i] = vb_bf16_to_float (vb_bf16_from_float (x[i]));
  return r;
}

static void
test_conv_bf16 (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (29);
  const int B = 2, H = 9, W = 7, cin = 5, cout = 6;
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t n_in = (int64_t) B * H * W * cin, n_out = (int64_t) B * Ho * Wo * cout;
  int64_t n_w = (int64_t) cout * cin * 9;
  size_t in_bytes = n_in * sizeof (float), out_bytes = n_out * sizeof (float);
  size_t w_bytes = n_w * sizeof (float), b_bytes = cout * sizeof (float);
  g_autofree float *in = gc_randn (rand, n_in, 1.0f), *w = gc_randn (rand, n_w, 0.5f);
  g_autofree float *b = gc_randn (rand, cout, 1.0f), *dout = gc_randn (rand, n_out, 1.0f);
  g_autofree float *in16 = bf16_rounded (in, n_in), *w16 = bf16_rounded (w, n_w);
  g_autofree float *dout16 = bf16_rounded (dout, n_out);
  g_autofree float *out = gc_fill (n_out, GARBAGE), *want = gc_fill (n_out, GARBAGE);
  g_autofree float *plain = gc_fill (n_out, GARBAGE);
  g_autofree float *din = gc_fill (n_in, GARBAGE), *din_want = gc_fill (n_in, GARBAGE);
  g_autofree float *din_plain = gc_fill (n_in, GARBAGE);
  g_autofree float *dw0 = gc_randn (rand, n_w, 1.0f), *db0 = gc_randn (rand, cout, 1.0f);
  g_autofree float *dw = gc_copy (dw0, n_w), *dw_want = gc_copy (dw0, n_w);
  g_autofree float *dw_plain = gc_copy (dw0, n_w);
  g_autofree float *db = gc_copy (db0, cout), *db_want = gc_copy (db0, cout);

  vb_conv3x3s2_forward_bf16 (out, in, w, b, B, H, W, cin, cout);
  vb_conv3x3s2_forward (want, in16, w16, b, B, H, W, cin, cout);
  vb_conv3x3s2_forward (plain, in, w, b, B, H, W, cin, cout);
  g_assert_cmpmem (out, out_bytes, want, out_bytes);
  g_assert_true (memcmp (out, plain, out_bytes) != 0);

  vb_conv3x3s2_backward_bf16 (din, dw, db, dout, in, w, B, H, W, cin, cout);
  vb_conv3x3s2_backward (din_want, dw_want, NULL, dout16, in16, w16, B, H, W, cin, cout);
  vb_conv3x3s2_backward (NULL, NULL, db_want, dout, in, w, B, H, W, cin, cout);
  vb_conv3x3s2_backward (din_plain, dw_plain, NULL, dout, in, w, B, H, W, cin, cout);
  /* din: the column gradient is stored in bf16 before col2im sums it, so din is near the
   * fp32 backward on the rounded operands, not equal to it */
  double e_din = 0.0, n_din = 0.0;
  for (int64_t i = 0; i < n_in; i++)
    {
      e_din += ((double) din[i] - din_want[i]) * ((double) din[i] - din_want[i]);
      n_din += (double) din_want[i] * din_want[i];
    }
  g_assert_cmpfloat (sqrt (e_din / n_din), >, 0.0);
  g_assert_cmpfloat (sqrt (e_din / n_din), <, 4e-3);
  g_assert_cmpmem (dw, w_bytes, dw_want, w_bytes);
  g_assert_cmpmem (db, b_bytes, db_want, b_bytes);
  g_assert_true (memcmp (din, din_plain, in_bytes) != 0);
  g_assert_true (memcmp (dw, dw_plain, w_bytes) != 0);
}

/* ---- depthwise conv ----------------------------------------------------------------- */

typedef struct {
  int B, H, W, C;
  float *in, *w, *out;
} DwCase;

static void
dw_fwd (gpointer self)
{
  DwCase *c = self;
  vb_dwconv3x3_forward (c->out, c->in, c->w, c->B, c->H, c->W, c->C);
}

static void
test_dwconv (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (31);
  DwCase c = { .B = 2, .H = 4, .W = 5, .C = 3 };
  int64_t n = (int64_t) c.B * c.H * c.W * c.C, n_w = (int64_t) c.C * 9;
  g_autofree float *in = gc_randn (rand, n, 1.0f);
  g_autofree float *w = gc_randn (rand, n_w, 0.5f);
  g_autofree float *out = gc_fill (n, GARBAGE);
  g_autofree float *dout = gc_randn (rand, n, 1.0f);
  g_autofree float *din = gc_fill (n, GARBAGE);
  g_autofree float *dw0 = gc_randn (rand, n_w, 1.0f), *dw = gc_copy (dw0, n_w);
  g_autofree float *ana_w = NULL;
  g_autofree double *want = g_new (double, n);

  c.in = in;
  c.w = w;
  c.out = out;
  dw_fwd (&c);
  for (int b = 0; b < c.B; b++)
    for (int y = 0; y < c.H; y++)
      for (int x = 0; x < c.W; x++)
        for (int ch = 0; ch < c.C; ch++)
          {
            double s = 0.0;
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++)
                {
                  int sy = y + ky - 1, sx = x + kx - 1;
                  if (sy >= 0 && sy < c.H && sx >= 0 && sx < c.W)
                    s += (double) in[((b * c.H + sy) * c.W + sx) * c.C + ch] * w[ch * 9 + ky * 3 + kx];
                }
            want[((b * c.H + y) * c.W + x) * c.C + ch] = s;
          }
  gc_assert_close ("dwconv out", out, want, n, 1e-5, 1e-5);

  vb_dwconv3x3_backward (din, dw, dout, in, w, c.B, c.H, c.W, c.C);
  ana_w = gc_delta (dw, dw0, n_w);
  {
    GcProblem p = { dw_fwd, &c, out, dout, n };
    gc_check (&p, "dwconv din", in, n, din, SAMPLES, 1e-2f);
    gc_check (&p, "dwconv dw", w, n_w, ana_w, SAMPLES, 1e-2f);
  }
}

/* ---- depthwise conv fused with SiLU ------------------------------------------------ */

typedef struct {
  int B, H, W, C;
  float *in, *w, *pre, *out;
} DwSiluCase;

static void
dw_silu_fwd (gpointer self)
{
  DwSiluCase *c = self;
  vb_dwconv3x3_silu_forward (c->pre, c->out, NULL, c->in, c->w, c->B, c->H, c->W, c->C);
}

/* the fused ops are the composition of the unfused ones bit for bit (their definition),
 * and the fused backward is the gradient of the fused forward's out */
static void
test_dwconv_silu (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (32);
  DwSiluCase c = { .B = 2, .H = 4, .W = 5, .C = 3 };
  int64_t n = (int64_t) c.B * c.H * c.W * c.C, n_w = (int64_t) c.C * 9;
  size_t bytes = (size_t) n * sizeof (float), w_bytes = (size_t) n_w * sizeof (float);
  g_autofree float *in = gc_randn (rand, n, 1.0f);
  g_autofree float *w = gc_randn (rand, n_w, 0.5f);
  g_autofree float *pre = gc_fill (n, GARBAGE), *out = gc_fill (n, GARBAGE);
  g_autofree float *pre_eq = gc_fill (n, GARBAGE), *out_eq = gc_fill (n, GARBAGE);
  g_autofree VbBf16 *out16 = g_new (VbBf16, n), *out16_eq = g_new (VbBf16, n);
  g_autofree float *dsilu = gc_randn (rand, n, 1.0f), *dpre = gc_fill (n, GARBAGE);
  g_autofree float *din = gc_fill (n, GARBAGE), *din_eq = gc_fill (n, GARBAGE);
  g_autofree float *dw0 = gc_randn (rand, n_w, 1.0f);
  g_autofree float *dw = gc_copy (dw0, n_w), *dw_eq = gc_copy (dw0, n_w);
  g_autofree float *ana_w = NULL;

  memset (out16, 0xFF, (size_t) n * sizeof (VbBf16));
  vb_dwconv3x3_silu_forward (pre, out, out16, in, w, c.B, c.H, c.W, c.C);
  vb_dwconv3x3_forward (pre_eq, in, w, c.B, c.H, c.W, c.C);
  vb_silu_forward (out_eq, pre_eq, n);
  vb_to_bf16 (out16_eq, out_eq, NULL, 1, n);
  g_assert_cmpmem (pre, bytes, pre_eq, bytes);
  g_assert_cmpmem (out, bytes, out_eq, bytes);
  g_assert_cmpmem (out16, (size_t) n * sizeof (VbBf16), out16_eq, (size_t) n * sizeof (VbBf16));
  /* out NULL: out16 alone, the same bits */
  memset (out16, 0xFF, (size_t) n * sizeof (VbBf16));
  vb_dwconv3x3_silu_forward (pre, NULL, out16, in, w, c.B, c.H, c.W, c.C);
  g_assert_cmpmem (out16, (size_t) n * sizeof (VbBf16), out16_eq, (size_t) n * sizeof (VbBf16));

  vb_dwconv3x3_silu_backward (din, NULL, dw, dsilu, pre, in, w, c.B, c.H, c.W, c.C);
  vb_silu_backward (dpre, dsilu, pre, n);
  vb_dwconv3x3_backward (din_eq, dw_eq, dpre, in, w, c.B, c.H, c.W, c.C);
  g_assert_cmpmem (din, bytes, din_eq, bytes);
  g_assert_cmpmem (dw, w_bytes, dw_eq, w_bytes);
  /* din16 alone: din rounded once, dw untouched when NULL */
  {
    g_autofree VbBf16 *din16 = g_new (VbBf16, n), *din16_eq = g_new (VbBf16, n);
    vb_to_bf16 (din16_eq, din, NULL, 1, n);
    vb_dwconv3x3_silu_backward (NULL, din16, NULL, dsilu, pre, in, w, c.B, c.H, c.W, c.C);
    g_assert_cmpmem (din16, (size_t) n * sizeof (VbBf16), din16_eq, (size_t) n * sizeof (VbBf16));
  }

  /* loss = Σ dsilu·SiLU (dwconv (in)) */
  c.in = in;
  c.w = w;
  c.pre = pre;
  c.out = out;
  ana_w = gc_delta (dw, dw0, n_w);
  {
    GcProblem p = { dw_silu_fwd, &c, out, dsilu, n };
    gc_check (&p, "dwconv+silu din", in, n, din, SAMPLES, 1e-2f);
    gc_check (&p, "dwconv+silu dw", w, n_w, ana_w, SAMPLES, 1e-2f);
  }
}

/* ---- layernorm ---------------------------------------------------------------------- */

typedef struct {
  int64_t n;
  int c;
  float *in, *gamma, *beta, *out, *mean, *rstd;
} LnCase;

static void
ln_fwd (gpointer self)
{
  LnCase *c = self;
  vb_layernorm_forward (c->out, c->mean, c->rstd, c->in, c->gamma, c->beta, c->n, c->c, 1e-5f);
}

static void
test_layernorm (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (41);
  LnCase c = { .n = 6, .c = 8 };
  int64_t n = c.n * c.c;
  g_autofree float *in = gc_randn (rand, n, 1.5f);
  g_autofree float *gamma = gc_randn (rand, c.c, 0.5f);
  g_autofree float *beta = gc_randn (rand, c.c, 0.5f);
  g_autofree float *out = gc_fill (n, GARBAGE), *mean = g_new (float, c.n), *rstd = g_new (float, c.n);
  g_autofree float *dout = gc_randn (rand, n, 1.0f), *din = gc_fill (n, GARBAGE);
  g_autofree float *dg0 = gc_randn (rand, c.c, 1.0f), *dg = gc_copy (dg0, c.c);
  g_autofree float *db0 = gc_randn (rand, c.c, 1.0f), *db = gc_copy (db0, c.c);
  g_autofree float *ana_g = NULL, *ana_b = NULL;
  g_autofree double *want = g_new (double, n);

  for (int j = 0; j < c.c; j++)
    gamma[j] += 1.0f;
  c.in = in;
  c.gamma = gamma;
  c.beta = beta;
  c.out = out;
  c.mean = mean;
  c.rstd = rstd;
  ln_fwd (&c);
  for (int64_t r = 0; r < c.n; r++)
    {
      double mu = 0.0, var = 0.0;
      for (int j = 0; j < c.c; j++)
        mu += in[r * c.c + j];
      mu /= c.c;
      for (int j = 0; j < c.c; j++)
        var += (in[r * c.c + j] - mu) * (in[r * c.c + j] - mu);
      var /= c.c;
      g_assert_cmpfloat_with_epsilon (mean[r], mu, 1e-5);
      g_assert_cmpfloat_with_epsilon (rstd[r], 1.0 / sqrt (var + 1e-5), 1e-4);
      for (int j = 0; j < c.c; j++)
        want[r * c.c + j] = (in[r * c.c + j] - mu) / sqrt (var + 1e-5) * gamma[j] + beta[j];
    }
  gc_assert_close ("layernorm out", out, want, n, 1e-5, 1e-5);

  vb_layernorm_backward (din, 0, dg, db, dout, in, mean, rstd, gamma, c.n, c.c);
  ana_g = gc_delta (dg, dg0, c.c);
  ana_b = gc_delta (db, db0, c.c);
  {
    GcProblem p = { ln_fwd, &c, out, dout, n };
    gc_check (&p, "layernorm din", in, n, din, SAMPLES, 1e-2f);
    gc_check (&p, "layernorm dgamma", gamma, c.c, ana_g, SAMPLES, 1e-2f);
    gc_check (&p, "layernorm dbeta", beta, c.c, ana_b, SAMPLES, 1e-2f);
  }
  /* accumulate: din added onto what the buffer held, value by value */
  g_autofree float *acc = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    acc[i] = 0.25f * (float) (i % 7) - 0.5f;
  g_autofree float *want_acc = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    want_acc[i] = acc[i] + din[i];
  vb_layernorm_backward (acc, 1, NULL, NULL, dout, in, mean, rstd, gamma, c.n, c.c);
  g_assert_cmpmem (acc, n * sizeof (float), want_acc, n * sizeof (float));
}

/* The out_norm's backward with din in bf16 alone (the bf16 scan's input gradient): din16
 * the fp32 op's din (not accumulated: the working buffer's garbage is not added) rounded,
 * dγ and dβ added as the fp32 op adds them, directly and through the CPU table; and the
 * rounding does happen (some din values are not bf16 values) */
static void
test_layernorm_backward_bf16 (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (43);
  const int64_t rows = 7;
  const int c = 12;
  int64_t n = rows * c;
  g_autofree float *in = gc_randn (rand, n, 1.5f), *gamma = gc_randn (rand, c, 0.5f);
  g_autofree float *beta = gc_randn (rand, c, 0.5f), *dout = gc_randn (rand, n, 1.0f);
  g_autofree float *out = g_new (float, n), *mean = g_new (float, rows);
  g_autofree float *rstd = g_new (float, rows), *din = gc_fill (n, GARBAGE);
  g_autofree float *dg0 = gc_randn (rand, c, 1.0f), *db0 = gc_randn (rand, c, 1.0f);
  g_autofree float *dg = gc_copy (dg0, c), *db = gc_copy (db0, c);
  vb_layernorm_forward (out, mean, rstd, in, gamma, beta, rows, c, 1e-5f);
  vb_layernorm_backward (din, 0, dg, db, dout, in, mean, rstd, gamma, rows, c);
  g_autofree VbBf16 *want = g_new (VbBf16, n);
  gboolean rounded = FALSE;
  for (int64_t i = 0; i < n; i++)
    {
      want[i] = vb_bf16_from_float (din[i]);
      rounded |= vb_bf16_to_float (want[i]) != din[i];
    }
  g_assert_true (rounded);

  for (int via_table = 0; via_table < 2; via_table++)
    {
      const VbOps *ops = vb_cpu_ops ();
      g_autofree float *work = gc_fill (n, GARBAGE);
      g_autofree float *dg2 = gc_copy (dg0, c), *db2 = gc_copy (db0, c);
      g_autofree VbBf16 *din16 = g_new0 (VbBf16, n);
      if (via_table)
        ops->layernorm_backward_bf16 (ops->ctx, din16, work, dg2, db2, dout, in, mean, rstd,
                                      gamma, rows, c);
      else
        vb_layernorm_backward_bf16 (din16, work, dg2, db2, dout, in, mean, rstd, gamma, rows,
                                    c);
      g_assert_cmpmem (din16, n * sizeof (VbBf16), want, n * sizeof (VbBf16));
      g_assert_cmpmem (dg2, c * sizeof (float), dg, c * sizeof (float));
      g_assert_cmpmem (db2, c * sizeof (float), db, c * sizeof (float));
    }
}

/* the cross-merge fused into the LayerNorm is the composition of the ops it replaces, bit
 * for bit (its definition), for fp32 and bf16 outputs, directly and through the CPU table;
 * c = 5 and 8, K = 1, 2, 4, with off-centre inputs */
static void
test_merge_layernorm (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  static const int Ks[] = { 1, 2, 4 };
  static const struct { int64_t n; int c; } shapes[] = { { 6, 8 }, { 7, 5 }, { 1, 1 } };
  const VbOps *ops = vb_cpu_ops ();

  g_assert_nonnull (ops->merge_layernorm_forward);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (gsize k = 0; k < G_N_ELEMENTS (Ks); k++)
      for (int table = 0; table < 2; table++)
        {
          int64_t n = shapes[s].n;
          int c = shapes[s].c, K = Ks[k];
          int64_t nc = n * c;
          size_t bytes = (size_t) nc * sizeof (float), rbytes = (size_t) n * sizeof (float);
          size_t bytes16 = (size_t) nc * sizeof (VbBf16);
          g_autofree float *ys = gc_randn (rand, nc * K, 1.5f);
          g_autofree float *gamma = gc_randn (rand, c, 0.5f);
          g_autofree float *beta = gc_randn (rand, c, 0.5f);
          g_autofree float *y = gc_fill (nc, GARBAGE), *out = gc_fill (nc, GARBAGE);
          g_autofree float *mean = gc_fill (n, GARBAGE), *rstd = gc_fill (n, GARBAGE);
          g_autofree float *y_eq = gc_fill (nc, GARBAGE), *out_eq = gc_fill (nc, GARBAGE);
          g_autofree float *mean_eq = gc_fill (n, GARBAGE), *rstd_eq = gc_fill (n, GARBAGE);
          g_autofree VbBf16 *out16 = g_new (VbBf16, nc), *out16_eq = g_new (VbBf16, nc);

          for (int64_t i = 0; i < nc * K; i++)
            ys[i] += 1.0f;
          for (int j = 0; j < c; j++)
            gamma[j] += 1.0f;
          vb_group_sum (y_eq, ys, n, K, c, 0);

          /* fp32 output */
          if (table)
            ops->merge_layernorm_forward (ops->ctx, y, out, NULL, mean, rstd, ys, K, gamma,
                                          beta, n, c, 1e-5f);
          else
            vb_merge_layernorm_forward (y, out, NULL, mean, rstd, ys, K, gamma, beta, n, c,
                                        1e-5f);
          vb_layernorm_forward (out_eq, mean_eq, rstd_eq, y_eq, gamma, beta, n, c, 1e-5f);
          g_assert_cmpmem (y, bytes, y_eq, bytes);
          g_assert_cmpmem (out, bytes, out_eq, bytes);
          g_assert_cmpmem (mean, rbytes, mean_eq, rbytes);
          g_assert_cmpmem (rstd, rbytes, rstd_eq, rbytes);

          /* bf16 output (y and the statistics written again; out untouched) */
          memset (out16, 0xFF, bytes16);
          memset (out16_eq, 0xFF, bytes16);
          for (int64_t i = 0; i < nc; i++)
            y[i] = out[i] = GARBAGE;
          for (int64_t r = 0; r < n; r++)
            mean[r] = rstd[r] = GARBAGE;
          if (table)
            ops->merge_layernorm_forward (ops->ctx, y, NULL, out16, mean, rstd, ys, K, gamma,
                                          beta, n, c, 1e-5f);
          else
            vb_merge_layernorm_forward (y, NULL, out16, mean, rstd, ys, K, gamma, beta, n, c,
                                        1e-5f);
          vb_layernorm_forward_bf16 (out16_eq, mean_eq, rstd_eq, y_eq, gamma, beta, n, c,
                                     1e-5f);
          g_assert_cmpmem (y, bytes, y_eq, bytes);
          g_assert_cmpmem (out16, bytes16, out16_eq, bytes16);
          g_assert_cmpmem (mean, rbytes, mean_eq, rbytes);
          g_assert_cmpmem (rstd, rbytes, rstd_eq, rbytes);
          for (int64_t i = 0; i < nc; i++)
            g_assert_cmpfloat (out[i], ==, GARBAGE);
        }
}

/* ---- activations -------------------------------------------------------------------- */

typedef struct {
  int64_t n;
  float *in, *out;
  gboolean gelu;
} ActCase;

static void
act_fwd (gpointer self)
{
  ActCase *c = self;
  if (c->gelu)
    vb_gelu_forward (c->out, c->in, c->n);
  else
    vb_silu_forward (c->out, c->in, c->n);
}

static void
check_activation (gboolean gelu)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (gelu ? 51 : 52);
  ActCase c = { .n = 64, .gelu = gelu };
  g_autofree float *in = gc_randn (rand, c.n, 2.0f);
  g_autofree float *out = gc_fill (c.n, GARBAGE), *inplace = NULL;
  g_autofree float *dout = gc_randn (rand, c.n, 1.0f), *din = gc_fill (c.n, GARBAGE);
  g_autofree double *want = g_new (double, c.n);

  c.in = in;
  c.out = out;
  act_fwd (&c);
  for (int64_t i = 0; i < c.n; i++)
    {
      double x = in[i];
      want[i] = gelu ? 0.5 * x * (1.0 + erf (x / sqrt (2.0))) : x / (1.0 + exp (-x));
    }
  gc_assert_close (gelu ? "gelu out" : "silu out", out, want, c.n, 1e-6, 1e-6);

  /* in-place forward gives the same bits */
  inplace = gc_copy (in, c.n);
  if (gelu)
    vb_gelu_forward (inplace, inplace, c.n);
  else
    vb_silu_forward (inplace, inplace, c.n);
  g_assert_cmpmem (inplace, c.n * sizeof (float), out, c.n * sizeof (float));

  if (gelu)
    vb_gelu_backward (din, dout, in, c.n);
  else
    vb_silu_backward (din, dout, in, c.n);
  {
    GcProblem p = { act_fwd, &c, out, dout, c.n };
    gc_check (&p, gelu ? "gelu din" : "silu din", in, c.n, din, SAMPLES, 1e-2f);
  }
}

static void
test_gelu (void)
{
  check_activation (TRUE);
}

static void
test_silu (void)
{
  check_activation (FALSE);
}

static void
test_add (void)
{
  float a[5] = { 1, 2, 3, 4, 5 }, b[5] = { 0.5f, -2, 0, 1e-3f, -5 }, out[5];
  vb_add (out, a, b, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (out[i], ==, a[i] + b[i]);
  vb_add (a, a, b, 5);   /* aliasing */
  g_assert_cmpmem (a, sizeof a, out, sizeof out);
}

/* ---- avgpool ------------------------------------------------------------------------ */

typedef struct {
  int B, L, C;
  float *in, *out;
} PoolCase;

static void
pool_fwd (gpointer self)
{
  PoolCase *c = self;
  vb_avgpool_forward (c->out, c->in, c->B, c->L, c->C);
}

static void
test_avgpool (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (61);
  PoolCase c = { .B = 2, .L = 5, .C = 3 };
  int64_t n_in = (int64_t) c.B * c.L * c.C, n_out = (int64_t) c.B * c.C;
  g_autofree float *in = gc_randn (rand, n_in, 1.0f), *out = gc_fill (n_out, GARBAGE);
  g_autofree float *dout = gc_randn (rand, n_out, 1.0f), *din = gc_fill (n_in, GARBAGE);
  g_autofree double *want = g_new0 (double, n_out);

  c.in = in;
  c.out = out;
  pool_fwd (&c);
  for (int b = 0; b < c.B; b++)
    for (int l = 0; l < c.L; l++)
      for (int ch = 0; ch < c.C; ch++)
        want[b * c.C + ch] += in[(b * c.L + l) * c.C + ch] / (double) c.L;
  gc_assert_close ("avgpool out", out, want, n_out, 1e-6, 1e-6);

  vb_avgpool_backward (din, dout, c.B, c.L, c.C);
  {
    GcProblem p = { pool_fwd, &c, out, dout, n_out };
    gc_check (&p, "avgpool din", in, n_in, din, SAMPLES, 1e-2f);
  }
}

/* ---- softmax cross-entropy ---------------------------------------------------------- */

typedef struct {
  int B, classes;
  const int *labels;
  float *logits, *probs, loss;
} XentCase;

static void
xent_fwd (gpointer self)
{
  XentCase *c = self;
  c->loss = vb_softmax_xent_forward (c->probs, c->logits, c->labels, c->B, c->classes, 0.1f);
}

static void
test_softmax_xent (void)
{
  /* values from torch.nn.functional.cross_entropy (label_smoothing = 0.1), float64 */
  float logits_ref[15] = { 1.0f, -0.5f, 2.0f, 0.3f, 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f,
                           -3.0f, 2.5f, 0.0f, 1.0f, -1.0f };
  int labels_ref[3] = { 2, 4, 0 };
  float probs_ref[15];
  g_autoptr (GRand) rand = g_rand_new_with_seed (71);
  int labels[4] = { 1, 4, 0, 2 };
  XentCase c = { .B = 4, .classes = 5, .labels = labels };
  int64_t n = (int64_t) c.B * c.classes;
  g_autofree float *logits = gc_randn (rand, n, 1.5f), *probs = g_new (float, n);
  g_autofree float *dlogits = gc_fill (n, GARBAGE);
  float dloss = 0.7f, loss;

  loss = vb_softmax_xent_forward (probs_ref, logits_ref, labels_ref, 3, 5, 0.1f);
  g_assert_cmpfloat_with_epsilon (loss, 2.5518505725379095, 1e-6);
  for (int b = 0; b < 3; b++)
    {
      double s = 0.0;
      for (int j = 0; j < 5; j++)
        s += probs_ref[b * 5 + j];
      g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-6);
    }

  c.logits = logits;
  c.probs = probs;
  xent_fwd (&c);
  vb_softmax_xent_backward (dlogits, probs, labels, c.B, c.classes, 0.1f, dloss);
  {
    GcProblem p = { xent_fwd, &c, &c.loss, &dloss, 1 };
    gc_check (&p, "xent dlogits", logits, n, dlogits, SAMPLES, 1e-2f);
  }
}

/* ---- drop path ---------------------------------------------------------------------- */

typedef struct {
  int B;
  int64_t per;
  const float *scale;
  float *in, *out;
} DropCase;

static void
drop_fwd (gpointer self)
{
  DropCase *c = self;
  vb_drop_path_forward (c->out, c->in, c->scale, c->B, c->per);
}

static void
test_drop_path (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (81);
  float scale[3] = { 0.0f, 1.0f / 0.8f, 1.0f / 0.8f };
  DropCase c = { .B = 3, .per = 7, .scale = scale };
  int64_t n = c.B * c.per;
  g_autofree float *in = gc_randn (rand, n, 1.0f), *out = gc_fill (n, GARBAGE);
  g_autofree float *dout = gc_randn (rand, n, 1.0f), *din = gc_fill (n, GARBAGE);

  c.in = in;
  c.out = out;
  drop_fwd (&c);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (out[i], ==, in[i] * scale[i / c.per]);
  /* the residual add that fuses it: x + drop path (branch + bias), the same bits as the
   * ops one after the other */
  float bias[7] = { 0.5f, -1.0f, 0.25f, 2.0f, -0.125f, 1.5f, -3.0f };
  g_autofree float *x = gc_randn (rand, n, 1.0f), *res = gc_fill (n, GARBAGE);
  vb_residual_add (res, x, in, NULL, c.per, scale, c.B, c.per);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (res[i], ==, x[i] + out[i]);
  vb_residual_add (res, x, in, bias, c.per, NULL, c.B, c.per);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (res[i], ==, x[i] + (in[i] + bias[i % c.per]));
  vb_residual_add (res, x, in, bias, c.per, scale, c.B, c.per);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (res[i], ==, x[i] + (in[i] + bias[i % c.per]) * scale[i / c.per]);

  vb_drop_path_backward (din, dout, scale, c.B, c.per);
  for (int64_t i = 0; i < c.per; i++)
    g_assert_cmpfloat (din[i], ==, 0.0f);
  {
    GcProblem p = { drop_fwd, &c, out, dout, n };
    gc_check (&p, "drop_path din", in, n, din, SAMPLES, 1e-2f);
  }
}

/* on bf16 group rows (bf16 storage): the table's op is the bf16 group sum then the bf16
 * LayerNorm, bit for bit */
static void
test_merge_bf16_layernorm (void)
{
  const VbOps *ops = vb_cpu_ops ();
  const int64_t n = 7;
  const int c = 12, K = 4;
  VbBf16 ys[7 * 12 * 4], out[7 * 12], want_out[7 * 12];
  float y[7 * 12], want_y[7 * 12], mean[7], rstd[7], want_mean[7], want_rstd[7];
  float gamma[12], beta[12];
  for (int i = 0; i < n * c * K; i++)
    ys[i] = vb_bf16_from_float (sinf (0.7f * i) * 2.0f);
  for (int j = 0; j < c; j++)
    {
      gamma[j] = 1.0f + 0.05f * j;
      beta[j] = 0.1f * (j % 3);
    }
  ops->merge_bf16_layernorm_forward (ops->ctx, y, out, mean, rstd, ys, K, gamma, beta, n, c,
                                     1e-5f);
  vb_group_sum_bf16 (want_y, ys, n, K, c, 0);
  vb_layernorm_forward_bf16 (want_out, want_mean, want_rstd, want_y, gamma, beta, n, c, 1e-5f);
  g_assert_cmpmem (y, sizeof y, want_y, sizeof want_y);
  g_assert_cmpmem (out, sizeof out, want_out, sizeof want_out);
  g_assert_cmpmem (mean, sizeof mean, want_mean, sizeof want_mean);
  g_assert_cmpmem (rstd, sizeof rstd, want_rstd, sizeof want_rstd);
}

/* ---- bf16 storage: the CPU references the GPU's bf16 ops are checked against ------- */

/* round to nearest, ties to even; overflow to infinity; NaN stays NaN; widening exact */
static void
test_bf16_rounding (void)
{
  static const struct { guint32 in; guint16 out; } cases[] = {
    { 0x3F800000u, 0x3F80 },   /* 1 */
    { 0x3F808000u, 0x3F80 },   /* 1 + 2⁻⁸: a tie, to the even 1 */
    { 0x3F818000u, 0x3F82 },   /* 1 + 3·2⁻⁸: a tie, to the even 1 + 2⁻⁶ */
    { 0x3F808001u, 0x3F81 },   /* just above the tie */
    { 0x3F807FFFu, 0x3F80 },   /* just below it */
    { 0xC0200000u, 0xC020 },   /* −2.5, exact */
    { 0x7F7FFFFFu, 0x7F80 },   /* FLT_MAX rounds to +∞ */
    { 0xFF800000u, 0xFF80 },   /* −∞ */
    { 0x00000001u, 0x0000 },   /* the smallest subnormal rounds to 0 */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      union { guint32 u; float f; } v = { cases[i].in };
      g_assert_cmphex (vb_bf16_from_float (v.f), ==, cases[i].out);
      union { float f; guint32 u; } w = { vb_bf16_to_float (cases[i].out) };
      g_assert_cmphex (w.u, ==, (guint32) cases[i].out << 16);
    }
  VbBf16 nan = vb_bf16_from_float (NAN);
  g_assert_true (isnan (vb_bf16_to_float (nan)));
  union { guint32 u; float f; } snan = { 0x7F800001u };   /* a payload the truncation loses */
  g_assert_true (isnan (vb_bf16_to_float (vb_bf16_from_float (snan.f))));

  /* the conversion op, with and without a per-sample scale */
  float x[6] = { 1.0f, -3.3f, 0.1f, 7.7f, -0.01f, 2.0f }, scale[2] = { 0.5f, 4.0f };
  VbBf16 got[6];
  vb_to_bf16 (got, x, scale, 2, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmphex (got[i], ==, vb_bf16_from_float (x[i] * scale[i / 3]));
  vb_to_bf16 (got, x, NULL, 1, 6);
  for (int i = 0; i < 6; i++)
    g_assert_cmphex (got[i], ==, vb_bf16_from_float (x[i]));
}

static VbBf16 *
bf16_randn (GRand *rand, int64_t n, float sd)
{
  g_autofree float *x = gc_randn (rand, n, sd);
  VbBf16 *h = g_new (VbBf16, n);
  vb_to_bf16 (h, x, NULL, 1, n);
  return h;
}

static float *
widened (const VbBf16 *h, int64_t n)
{
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = vb_bf16_to_float (h[i]);
  return x;
}

/* the bf16 products, LayerNorm and GELU are their fp32 ops on the widened operands, each
 * bf16 output rounded once (a bf16 product's bias rounded to bf16 first); strided rows read and written in place, the gaps untouched */
static void
test_bf16_ops (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (97);
  const int n = 5, in_f = 6, out_f = 7, ld_in = 9, ld_out = 11;
  g_autofree VbBf16 *x16 = bf16_randn (rand, n * ld_in, 1.0f);
  g_autofree VbBf16 *w16 = bf16_randn (rand, out_f * in_f, 0.5f);
  g_autofree VbBf16 *dy16 = bf16_randn (rand, n * ld_out, 1.0f);
  g_autofree float *x = widened (x16, n * ld_in), *w = widened (w16, out_f * in_f);
  g_autofree float *dy = widened (dy16, n * ld_out);
  g_autofree float *b = gc_randn (rand, out_f, 1.0f);

  /* forward, fp32 out and bf16 out (with bias) */
  g_autofree float *y = gc_fill (n * ld_out, GARBAGE), *want = gc_fill (n * ld_out, GARBAGE);
  vb_linear_forward_bf16 (y, NULL, ld_out, x16, ld_in, w16, b, n, in_f, out_f);
  vb_linear_forward (want, ld_out, x, ld_in, w, b, n, in_f, out_f);
  g_assert_cmpmem (y, n * ld_out * sizeof (float), want, n * ld_out * sizeof (float));
  /* into bf16 the bias is taken at bf16 precision (as a module cast to bf16 holds it) */
  g_autofree float *b16 = gc_copy (b, out_f);
  for (int o = 0; o < out_f; o++)
    b16[o] = vb_bf16_to_float (vb_bf16_from_float (b[o]));
  vb_linear_forward (want, ld_out, x, ld_in, w, b16, n, in_f, out_f);
  g_autofree VbBf16 *y16 = g_new (VbBf16, n * ld_out);
  memset (y16, 0xAB, n * ld_out * sizeof (VbBf16));
  vb_linear_forward_bf16 (NULL, y16, ld_out, x16, ld_in, w16, b, n, in_f, out_f);
  for (int r = 0; r < n; r++)
    for (int o = 0; o < ld_out; o++)
      g_assert_cmphex (y16[r * ld_out + o], ==,
                       o < out_f ? vb_bf16_from_float (want[r * ld_out + o]) : 0xABAB);

  /* backward: din fp32 and bf16 written, dw and db accumulated in fp32 */
  g_autofree float *dw0 = gc_randn (rand, out_f * in_f, 1.0f), *db0 = gc_randn (rand, out_f, 1.0f);
  g_autofree float *dw = gc_copy (dw0, out_f * in_f), *db = gc_copy (db0, out_f);
  g_autofree float *dw_want = gc_copy (dw0, out_f * in_f), *db_want = gc_copy (db0, out_f);
  g_autofree float *dx = gc_fill (n * ld_in, GARBAGE), *dx_want = gc_fill (n * ld_in, GARBAGE);
  vb_linear_backward_bf16 (dx, NULL, ld_in, dw, db, dy16, ld_out, x16, ld_in, w16, n, in_f,
                           out_f);
  vb_linear_backward (dx_want, ld_in, 0, dw_want, db_want, dy, ld_out, x, ld_in, w, n, in_f,
                      out_f);
  g_assert_cmpmem (dx, n * ld_in * sizeof (float), dx_want, n * ld_in * sizeof (float));
  g_assert_cmpmem (dw, sizeof (float) * out_f * in_f, dw_want, sizeof (float) * out_f * in_f);
  g_assert_cmpmem (db, sizeof (float) * out_f, db_want, sizeof (float) * out_f);
  g_autofree VbBf16 *dx16 = g_new (VbBf16, n * ld_in);
  memset (dx16, 0xAB, n * ld_in * sizeof (VbBf16));
  vb_linear_backward_bf16 (NULL, dx16, ld_in, NULL, NULL, dy16, ld_out, x16, ld_in, w16, n,
                           in_f, out_f);
  for (int r = 0; r < n; r++)
    for (int i = 0; i < ld_in; i++)
      g_assert_cmphex (dx16[r * ld_in + i], ==,
                       i < in_f ? vb_bf16_from_float (dx_want[r * ld_in + i]) : 0xABAB);

  /* LayerNorm into bf16 */
  const int rows = 4, c = 10;
  g_autofree float *ln_in = gc_randn (rand, rows * c, 2.0f), *gamma = gc_randn (rand, c, 1.0f);
  g_autofree float *beta = gc_randn (rand, c, 1.0f), *ln = g_new (float, rows * c);
  float mean[4], rstd[4], mean16[4], rstd16[4];
  VbBf16 ln16[40];
  vb_layernorm_forward (ln, mean, rstd, ln_in, gamma, beta, rows, c, 1e-5f);
  vb_layernorm_forward_bf16 (ln16, mean16, rstd16, ln_in, gamma, beta, rows, c, 1e-5f);
  for (int i = 0; i < rows * c; i++)
    g_assert_cmphex (ln16[i], ==, vb_bf16_from_float (ln[i]));
  g_assert_cmpmem (mean16, sizeof mean, mean, sizeof mean);
  g_assert_cmpmem (rstd16, sizeof rstd, rstd, sizeof rstd);

  /* GELU with the bias of the product before it, forward and backward */
  g_autofree VbBf16 *h16 = bf16_randn (rand, rows * c, 2.0f);
  g_autofree VbBf16 *g16 = bf16_randn (rand, rows * c, 1.0f);
  g_autofree float *hb = widened (h16, rows * c), *gf = widened (g16, rows * c);
  g_autofree float *act = g_new (float, rows * c), *dact = g_new (float, rows * c);
  for (int i = 0; i < rows * c; i++)
    hb[i] += beta[i % c];
  vb_gelu_forward (act, hb, rows * c);
  vb_gelu_backward (dact, gf, hb, rows * c);
  VbBf16 a16[40], da16[40];
  vb_gelu_forward_bf16 (a16, h16, beta, rows, c);
  vb_gelu_backward_bf16 (da16, NULL, g16, h16, beta, rows, c);
  for (int i = 0; i < rows * c; i++)
    {
      g_assert_cmphex (a16[i], ==, vb_bf16_from_float (act[i]));
      g_assert_cmphex (da16[i], ==, vb_bf16_from_float (dact[i]));
    }
  /* and the bias's gradient with it: added onto what gelu_db holds, the column sums of the
   * stored (rounded) din, as the product's backward sums its dout */
  float gelu_db[10], want_db[10];
  for (int j = 0; j < c; j++)
    gelu_db[j] = want_db[j] = 0.25f * j;
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < c; j++)
      want_db[j] += vb_bf16_to_float (da16[r * c + j]);
  VbBf16 da16b[40];
  vb_gelu_backward_bf16 (da16b, gelu_db, g16, h16, beta, rows, c);
  g_assert_cmpmem (da16b, sizeof da16b, da16, sizeof da16);
  for (int j = 0; j < c; j++)
    g_assert_cmpfloat_with_epsilon (gelu_db[j], want_db[j], 1e-5f * rows);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vb/kernels/linear/dense", test_linear_dense);
  g_test_add_func ("/vb/kernels/linear/strided", test_linear_strided);
  g_test_add_func ("/vb/kernels/conv3x3s2/odd", test_conv_odd);
  g_test_add_func ("/vb/kernels/conv3x3s2/even", test_conv_even);
  g_test_add_func ("/vb/kernels/conv3x3s2/mixed", test_conv_mixed);
  g_test_add_func ("/vb/kernels/conv3x3s2/bf16", test_conv_bf16);
  g_test_add_func ("/vb/kernels/dwconv3x3/grad", test_dwconv);
  g_test_add_func ("/vb/kernels/dwconv3x3-silu/fused", test_dwconv_silu);
  g_test_add_func ("/vb/kernels/layernorm/grad", test_layernorm);
  g_test_add_func ("/vb/kernels/layernorm/backward-bf16", test_layernorm_backward_bf16);
  g_test_add_func ("/vb/kernels/layernorm/merge-fused", test_merge_layernorm);
  g_test_add_func ("/vb/kernels/layernorm/merge-bf16", test_merge_bf16_layernorm);
  g_test_add_func ("/vb/kernels/bf16/rounding", test_bf16_rounding);
  g_test_add_func ("/vb/kernels/bf16/ops", test_bf16_ops);
  g_test_add_func ("/vb/kernels/gelu/grad", test_gelu);
  g_test_add_func ("/vb/kernels/silu/grad", test_silu);
  g_test_add_func ("/vb/kernels/add", test_add);
  g_test_add_func ("/vb/kernels/avgpool/grad", test_avgpool);
  g_test_add_func ("/vb/kernels/softmax-xent/grad", test_softmax_xent);
  g_test_add_func ("/vb/kernels/drop-path/grad", test_drop_path);

  return g_test_run ();
}
