/* test-scan.c: cross-scan / cross-merge index maps (shared/specs/vmamba.md §3.2) and the
 * selective scan (§2.4 forward, §5.1 backward), plus thread-count determinism. */
#include "config.h"

#include <omp.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "gradcheck.h"

#define SAMPLES 300

/* ---- cross-scan / cross-merge ------------------------------------------------------- */

/* §3.2 worked example, H = 2, W = 3, values = p */
static const int worked[4][4][6] = {
  [VB_SCAN_4DIR] = { { 0, 1, 2, 3, 4, 5 }, { 0, 3, 1, 4, 2, 5 },
                     { 5, 4, 3, 2, 1, 0 }, { 5, 2, 4, 1, 3, 0 } },
  [VB_SCAN_2DIR] = { { 0, 1, 2, 3, 4, 5 }, { 0, 1, 2, 3, 4, 5 },
                     { 5, 4, 3, 2, 1, 0 }, { 5, 4, 3, 2, 1, 0 } },
  [VB_SCAN_1DIR] = { { 0, 1, 2, 3, 4, 5 }, { 0, 1, 2, 3, 4, 5 },
                     { 0, 1, 2, 3, 4, 5 }, { 0, 1, 2, 3, 4, 5 } },
  [VB_SCAN_LEAN2DIR] = { { 0, 1, 2, 3, 4, 5 }, { 5, 4, 3, 2, 1, 0 } },
};

static void
test_cross_scan_worked (void)
{
  float u[6] = { 0, 1, 2, 3, 4, 5 };

  g_assert_cmpint (vb_scan_mode_groups (VB_SCAN_4DIR), ==, 4);
  g_assert_cmpint (vb_scan_mode_groups (VB_SCAN_2DIR), ==, 4);
  g_assert_cmpint (vb_scan_mode_groups (VB_SCAN_1DIR), ==, 4);
  g_assert_cmpint (vb_scan_mode_groups (VB_SCAN_LEAN2DIR), ==, 2);

  for (int mode = 0; mode < 4; mode++)
    {
      int K = vb_scan_mode_groups (mode);
      float xs[6 * 4];

      vb_cross_scan_forward (xs, u, 1, 2, 3, 1, mode);
      for (int k = 0; k < K; k++)
        for (int l = 0; l < 6; l++)
          {
            g_assert_cmpfloat (xs[l * K + k], ==, (float) worked[mode][k][l]);
            g_assert_cmpint (vb_scan_gather_index (mode, k, l, 2, 3), ==, worked[mode][k][l]);
          }
    }
}

/* <scan(u), v> = <u, merge(v)>, and the 4-dir merge equals the §2.5 formula */
static void
test_cross_scan_adjoint (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (91);
  const int B = 2, H = 3, W = 5, D = 4, L = H * W;

  for (int mode = 0; mode < 4; mode++)
    {
      int K = vb_scan_mode_groups (mode);
      int64_t n_u = (int64_t) B * L * D, n_x = n_u * K;
      g_autofree float *u = gc_randn (rand, n_u, 1.0f), *v = gc_randn (rand, n_x, 1.0f);
      g_autofree float *xs = g_new (float, n_x), *y = g_new (float, n_u);
      double lhs = 0.0, rhs = 0.0, mag = 0.0;

      vb_cross_scan_forward (xs, u, B, H, W, D, mode);
      vb_cross_merge_forward (y, v, B, H, W, D, mode);
      for (int64_t i = 0; i < n_x; i++)
        lhs += (double) xs[i] * v[i];
      for (int64_t i = 0; i < n_u; i++)
        {
          rhs += (double) u[i] * y[i];
          mag += fabs ((double) u[i] * y[i]);
        }
      /* y is summed in fp32: allow its rounding, nothing more */
      g_assert_cmpfloat_with_epsilon (lhs, rhs, 1e-6 * mag);

      /* every route is a permutation: merge(scan(u)) = K·u */
      vb_cross_merge_forward (y, xs, B, H, W, D, mode);
      for (int64_t i = 0; i < n_u; i++)
        g_assert_cmpfloat_with_epsilon (y[i], K * u[i], 1e-5 * (1 + fabs (u[i])));

      vb_cross_merge_forward (y, v, B, H, W, D, mode);
      if (mode == VB_SCAN_4DIR)
        for (int b = 0; b < B; b++)
          for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
              for (int d = 0; d < D; d++)
                {
                  int p = h * W + w, t = w * H + h;
#define YS(l, k) v[(((int64_t) b * L + (l)) * K + (k)) * D + d]
                  float want = YS (p, 0) + YS (t, 1) + YS (L - 1 - p, 2) + YS (L - 1 - t, 3);
#undef YS
                  g_assert_cmpfloat (y[((int64_t) b * L + p) * D + d], ==, want);
                }
    }
}

/* ---- selective scan ----------------------------------------------------------------- */

typedef struct {
  int B, L, K, D, N;
  float *u, *delta, *A, *Bs, *Cs, *Dskip, *dbias, *y;
} ScanCase;

static void
scan_fwd (gpointer self)
{
  ScanCase *c = self;
  vb_selective_scan_forward (c->y, c->u, c->delta, c->A, c->Bs, c->Cs, c->Dskip, c->dbias,
                             c->B, c->L, c->K, c->D, c->N);
}

static void
scan_case_init (ScanCase *c, GRand *rand, int B, int L, int K, int D, int N)
{
  int64_t KD = (int64_t) K * D, n = (int64_t) B * L * KD, nbc = (int64_t) B * L * K * N;

  *c = (ScanCase) { .B = B, .L = L, .K = K, .D = D, .N = N };
  c->u = gc_randn (rand, n, 1.0f);
  c->delta = gc_randn (rand, n, 1.0f);
  c->A = gc_randn (rand, KD * N, 0.5f);
  for (int64_t i = 0; i < KD * N; i++)
    c->A[i] = -expf (c->A[i]);
  c->Bs = gc_randn (rand, nbc, 1.0f);
  c->Cs = gc_randn (rand, nbc, 1.0f);
  c->Dskip = gc_randn (rand, KD, 1.0f);
  c->dbias = gc_randn (rand, KD, 0.5f);
  c->y = g_new (float, n);
  /* one element past the softplus threshold: Δ = z there */
  c->delta[1] = 25.0f;
}

static void
scan_case_clear (ScanCase *c)
{
  g_free (c->u);
  g_free (c->delta);
  g_free (c->A);
  g_free (c->Bs);
  g_free (c->Cs);
  g_free (c->Dskip);
  g_free (c->dbias);
  g_free (c->y);
}

static void
check_scan (int N)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (100 + N);
  const int B = 2, L = 6, K = 4, D = 3;
  int64_t KD = K * D, n = (int64_t) B * L * KD, nbc = (int64_t) B * L * K * N;
  ScanCase c;
  g_autofree double *want = g_new (double, n);
  g_autofree float *dy = NULL, *du = NULL, *ddelta = NULL, *dBs = NULL, *dCs = NULL;
  g_autofree float *dA0 = NULL, *dA = NULL, *dD0 = NULL, *dD = NULL, *ddb0 = NULL, *ddb = NULL;
  g_autofree float *ana_A = NULL, *ana_D = NULL, *ana_db = NULL;

  scan_case_init (&c, rand, B, L, K, D, N);
  scan_fwd (&c);

  /* naive per-(b, c) loop in double */
  for (int b = 0; b < B; b++)
    for (int ch = 0; ch < KD; ch++)
      {
        int k = ch / D;
        double h[2] = { 0.0, 0.0 };
        for (int t = 0; t < L; t++)
          {
            int64_t i = ((int64_t) b * L + t) * KD + ch;
            double z = (double) c.delta[i] + c.dbias[ch];
            double dl = z <= 20.0 ? log1p (exp (z)) : z;
            double acc = 0.0;
            for (int s = 0; s < N; s++)
              {
                int64_t j = (((int64_t) b * L + t) * K + k) * N + s;
                h[s] = exp (dl * c.A[ch * N + s]) * h[s] + dl * c.Bs[j] * c.u[i];
                acc += c.Cs[j] * h[s];
              }
            want[i] = acc + (double) c.Dskip[ch] * c.u[i];
          }
      }
  gc_assert_close ("scan y", c.y, want, n, 1e-5, 1e-5);

  dy = gc_randn (rand, n, 1.0f);
  du = gc_fill (n, 1e30f);
  ddelta = gc_fill (n, 1e30f);
  dBs = gc_fill (nbc, 1e30f);
  dCs = gc_fill (nbc, 1e30f);
  dA0 = gc_randn (rand, KD * N, 1.0f);
  dA = gc_copy (dA0, KD * N);
  dD0 = gc_randn (rand, KD, 1.0f);
  dD = gc_copy (dD0, KD);
  ddb0 = gc_randn (rand, KD, 1.0f);
  ddb = gc_copy (ddb0, KD);
  vb_selective_scan_backward (du, ddelta, dA, dBs, dCs, dD, ddb, dy,
                              c.u, c.delta, c.A, c.Bs, c.Cs, c.Dskip, c.dbias,
                              B, L, K, D, N);
  ana_A = gc_delta (dA, dA0, KD * N);
  ana_D = gc_delta (dD, dD0, KD);
  ana_db = gc_delta (ddb, ddb0, KD);
  {
    GcProblem p = { scan_fwd, &c, c.y, dy, n };
    gc_check (&p, "scan du", c.u, n, du, SAMPLES, 1e-2f);
    gc_check (&p, "scan ddelta", c.delta, n, ddelta, SAMPLES, 1e-2f);
    gc_check (&p, "scan dA", c.A, KD * N, ana_A, SAMPLES, 1e-2f);
    gc_check (&p, "scan dBs", c.Bs, nbc, dBs, SAMPLES, 1e-2f);
    gc_check (&p, "scan dCs", c.Cs, nbc, dCs, SAMPLES, 1e-2f);
    gc_check (&p, "scan dDskip", c.Dskip, KD, ana_D, SAMPLES, 1e-2f);
    gc_check (&p, "scan ddbias", c.dbias, KD, ana_db, SAMPLES, 1e-2f);
  }
  scan_case_clear (&c);
}

static void
test_scan_n1 (void)
{
  check_scan (1);
}

static void
test_scan_n2 (void)
{
  check_scan (2);
}

/* ---- determinism across thread counts ----------------------------------------------- */

typedef struct {
  float *buf[7];
  size_t len[7];
  int n;
} Outputs;

static void
outputs_clear (Outputs *o)
{
  for (int i = 0; i < o->n; i++)
    g_free (o->buf[i]);
}

static void
outputs_assert_equal (const Outputs *a, const Outputs *b)
{
  g_assert_cmpint (a->n, ==, b->n);
  for (int i = 0; i < a->n; i++)
    g_assert_cmpmem (a->buf[i], a->len[i] * sizeof (float), b->buf[i], b->len[i] * sizeof (float));
}

static Outputs
run_scan_backward (ScanCase *c, const float *dy)
{
  int64_t KD = (int64_t) c->K * c->D, n = (int64_t) c->B * c->L * KD;
  int64_t nbc = (int64_t) c->B * c->L * c->K * c->N;
  Outputs o = { .n = 7 };
  size_t len[7] = { n, n, KD * c->N, nbc, nbc, KD, KD };

  for (int i = 0; i < 7; i++)
    {
      o.len[i] = len[i];
      o.buf[i] = g_new0 (float, len[i]);
    }
  vb_selective_scan_backward (o.buf[0], o.buf[1], o.buf[2], o.buf[3], o.buf[4], o.buf[5],
                              o.buf[6], dy, c->u, c->delta, c->A, c->Bs, c->Cs, c->Dskip,
                              c->dbias, c->B, c->L, c->K, c->D, c->N);
  return o;
}

static Outputs
run_conv_backward (const float *dout, const float *in, const float *w,
                   int B, int H, int W, int cin, int cout)
{
  Outputs o = { .n = 3 };
  size_t len[3] = { (size_t) B * H * W * cin, (size_t) cout * cin * 9, cout };

  for (int i = 0; i < 3; i++)
    {
      o.len[i] = len[i];
      o.buf[i] = g_new0 (float, len[i]);
    }
  vb_conv3x3s2_backward (o.buf[0], o.buf[1], o.buf[2], dout, in, w, B, H, W, cin, cout);
  return o;
}

static void
test_threads_deterministic (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (200);
  int saved = omp_get_max_threads ();
  ScanCase c;
  const int cB = 4, cH = 21, cW = 20, cin = 16, cout = 16;
  int64_t n_conv_in = (int64_t) cB * cH * cW * cin;
  int64_t n_conv_out = (int64_t) cB * ((cH + 1) / 2) * ((cW + 1) / 2) * cout;
  g_autofree float *dy = NULL;
  g_autofree float *cin_buf = gc_randn (rand, n_conv_in, 1.0f);
  g_autofree float *cw = gc_randn (rand, (int64_t) cout * cin * 9, 0.3f);
  g_autofree float *cdout = gc_randn (rand, n_conv_out, 1.0f);
  Outputs ref_scan, ref_conv;

  scan_case_init (&c, rand, 3, 64, 4, 16, 2);
  dy = gc_randn (rand, (int64_t) 3 * 64 * 64, 1.0f);

  omp_set_num_threads (1);
  ref_scan = run_scan_backward (&c, dy);
  ref_conv = run_conv_backward (cdout, cin_buf, cw, cB, cH, cW, cin, cout);

  for (int threads = 2; threads <= 3; threads++)
    {
      Outputs scan, conv;
      omp_set_num_threads (threads);
      scan = run_scan_backward (&c, dy);
      conv = run_conv_backward (cdout, cin_buf, cw, cB, cH, cW, cin, cout);
      outputs_assert_equal (&ref_scan, &scan);
      outputs_assert_equal (&ref_conv, &conv);
      outputs_clear (&scan);
      outputs_clear (&conv);
    }

  omp_set_num_threads (saved);
  outputs_clear (&ref_scan);
  outputs_clear (&ref_conv);
  scan_case_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vb/kernels/cross-scan/worked-example", test_cross_scan_worked);
  g_test_add_func ("/vb/kernels/cross-scan/adjoint", test_cross_scan_adjoint);
  g_test_add_func ("/vb/kernels/selective-scan/n1", test_scan_n1);
  g_test_add_func ("/vb/kernels/selective-scan/n2", test_scan_n2);
  g_test_add_func ("/vb/kernels/threads/deterministic", test_threads_deterministic);

  return g_test_run ();
}
