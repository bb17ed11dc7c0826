/* test-ops.c: the optimizer and the norm helpers against PyTorch / hand-computed values. */
#include "config.h"

#include <math.h>
#include <omp.h>

#include "vb-cpu-ops.h"
#include "vb-optim.h"
#include "gradcheck.h"

/* torch.optim.AdamW(lr = 0.01, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0.05),
 * two steps, printed by torch 1.13. The kernel takes β2 as a float, so 1 − β2 is
 * 1 − 0.999f = 9.99987e-4 rather than 1e-3: v agrees to about 1.3e-5 relative. */
static void
test_adamw_torch (void)
{
  float p[5] = { 0.5f, -1.0f, 2.0f, 0.0f, 3.0f };
  float g1[5] = { 0.1f, -0.2f, 0.3f, 0.0f, -1.5f };
  float g2[5] = { 0.05f, 0.4f, -0.3f, 1e-3f, 2.0f };
  float m[5] = { 0 }, v[5] = { 0 };
  const double p1[5] = { 0.4897499978542328, -0.9894999861717224, 1.9889999628067017, 0.0,
                         3.00849986076355 };
  const double p2[5] = { 0.48018330335617065, -0.9926662445068359, 1.9885317087173462,
                         -0.0074412627145648, 3.0050604343414307 };
  const double m2[5] = { 0.014000000432133675, 0.02199999988079071, -0.0030000009573996067,
                         0.00010000000474974513, 0.06499999761581421 };
  const double v2[5] = { 1.2490000699472148e-05, 0.00019996000628452748, 0.00017991001368500292,
                         1.0000001937626735e-09, 0.0062477500177919865 };

  vb_adamw_step (p, g1, m, v, 5, 0.01f, 0.9f, 0.999f, 1e-8f, 0.05f, 1);
  gc_assert_close ("adamw p1", p, p1, 5, 1e-6, 1e-7);
  vb_adamw_step (p, g2, m, v, 5, 0.01f, 0.9f, 0.999f, 1e-8f, 0.05f, 2);
  gc_assert_close ("adamw p2", p, p2, 5, 1e-6, 1e-7);
  gc_assert_close ("adamw m2", m, m2, 5, 1e-6, 1e-12);
  gc_assert_close ("adamw v2", v, v2, 5, 2e-5, 1e-15);
}

/* the same two steps written out by hand in double */
static void
test_adamw_hand (void)
{
  const double lr = 1e-3, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.1;
  float p[3] = { 1.0f, -2.0f, 0.25f }, g[2][3] = { { 0.5f, 0.1f, -0.2f }, { -1.0f, 0.3f, 0.0f } };
  float m[3] = { 0 }, v[3] = { 0 };
  double pd[3] = { 1.0, -2.0, 0.25 }, md[3] = { 0 }, vd[3] = { 0 };

  for (int step = 1; step <= 2; step++)
    {
      vb_adamw_step (p, g[step - 1], m, v, 3, lr, b1, b2, eps, wd, step);
      for (int i = 0; i < 3; i++)
        {
          double gi = g[step - 1][i];
          pd[i] *= 1.0 - lr * wd;
          md[i] = b1 * md[i] + (1 - b1) * gi;
          vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
          pd[i] -= lr / (1 - pow (b1, step)) * md[i]
                   / (sqrt (vd[i]) / sqrt (1 - pow (b2, step)) + eps);
        }
      gc_assert_close ("adamw hand p", p, pd, 3, 1e-6, 1e-8);
      /* Adam's first step moves each parameter by lr·sign(g), plus the decay */
      if (step == 1)
        g_assert_cmpfloat_with_epsilon (p[0], 1.0 - lr * wd - lr, 1e-6);
    }
}

static void
test_sum_squares_scale (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (300);
  const int64_t n = 100003;
  g_autofree float *x = gc_randn (rand, n, 1.0f);
  double want = 0.0, one, two;
  int saved = omp_get_max_threads ();

  for (int64_t i = 0; i < n; i++)
    want += (double) x[i] * x[i];
  omp_set_num_threads (1);
  one = vb_sum_squares (x, n);
  omp_set_num_threads (2);
  two = vb_sum_squares (x, n);
  omp_set_num_threads (saved);
  g_assert_cmpfloat (one, ==, two);
  g_assert_cmpfloat_with_epsilon (one, want, 1e-9 * want);

  vb_scale (x, 0.5f, n);
  g_assert_cmpfloat_with_epsilon (vb_sum_squares (x, n), want / 4, 1e-9 * want);
  g_assert_cmpfloat (vb_sum_squares (x, 0), ==, 0.0);
}

/* The fused pass (one call over the whole buffer, decay by mask, clip by a norm read
 * from memory) gives the same bits as clip-then-AdamW per run of equal decay flag, with
 * and without clipping. */
static void
test_adamw_fused (void)
{
  enum { N = 1000 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autofree float *g = gc_randn (rand, N, 1.0f);
  uint8_t mask[N];
  for (int i = 0; i < N; i++)
    mask[i] = (i / 37) % 2;   /* runs of decayed and undecayed parameters */
  for (int clipping = 0; clipping < 2; clipping++)
    {
      g_autofree float *p1 = gc_randn (rand, N, 1.0f);
      g_autofree float *p2 = g_memdup2 (p1, sizeof (float) * N);
      float m1[N] = { 0 }, v1[N] = { 0 }, m2[N] = { 0 }, v2[N] = { 0 };
      float max_norm = clipping ? 1.0f : 0.0f;
      for (int step = 1; step <= 3; step++)
        {
          float lr = 0.01f * step, wd = 0.05f;
          /* reference: clip in place, then one call per run */
          g_autofree float *gs = g_memdup2 (g, sizeof (float) * N);
          double sumsq = vb_sum_squares (gs, N), norm = sqrt (sumsq);
          if (max_norm > 0 && norm > max_norm)
            vb_scale (gs, (float) (max_norm / (norm + 1e-6)), N);
          for (int i = 0; i < N;)
            {
              int j = i;
              while (j < N && mask[j] == mask[i])
                j++;
              vb_adamw_step (p1 + i, gs + i, m1 + i, v1 + i, j - i, lr, 0.9f, 0.999f, 1e-8f,
                             mask[i] ? wd : 0.0f, step);
              i = j;
            }
          VbAdamwScalars sc;
          vb_adamw_scalars (&sc, lr, 0.9f, 0.999f, 1e-8f, wd, step);
          vb_adamw_fused (p2, g, m2, v2, mask, N, &sc, &sumsq, max_norm);
        }
      g_assert_cmpmem (p1, sizeof (float) * N, p2, sizeof (float) * N);
      g_assert_cmpmem (m1, sizeof m1, m2, sizeof m2);
      g_assert_cmpmem (v1, sizeof v1, v2, sizeof v2);
    }
  double big = 100.0;
  g_assert_cmpfloat (vb_clip_factor (&big, 1.0f), ==, (float) (1.0 / (10.0 + 1e-6)));
  g_assert_cmpfloat (vb_clip_factor (&big, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (vb_clip_factor (NULL, 1.0f), ==, 1.0f);
}

/* Clipping host gradients: scaled by vb_clip_factor's float where the norm exceeds the
 * bound, untouched at or below it and without a bound; the norm before clipping returned */
static void
test_clip_grad_norm (void)
{
  float g[4] = { 6, 0, -8, 0 };   /* norm 10 */
  float want[4];
  double sumsq = 100.0;
  float f = vb_clip_factor (&sumsq, 1.0f);
  for (int i = 0; i < 4; i++)
    want[i] = g[i] * f;
  g_assert_cmpfloat (vb_clip_grad_norm (g, 4, 1.0), ==, 10.0);
  g_assert_cmpmem (g, sizeof g, want, sizeof want);
  float h[2] = { 3, 4 };          /* norm 5 */
  g_assert_cmpfloat (vb_clip_grad_norm (h, 2, 5.0), ==, 5.0);
  g_assert_cmpfloat (vb_clip_grad_norm (h, 2, 0.0), ==, 5.0);
  g_assert_cmpfloat (h[0], ==, 3.0f);
  g_assert_cmpfloat (h[1], ==, 4.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vb/kernels/adamw/torch", test_adamw_torch);
  g_test_add_func ("/vb/kernels/adamw/hand", test_adamw_hand);
  g_test_add_func ("/vb/kernels/adamw/fused", test_adamw_fused);
  g_test_add_func ("/vb/kernels/clip-grad-norm", test_clip_grad_norm);
  g_test_add_func ("/vb/kernels/sum-squares", test_sum_squares_scale);

  return g_test_run ();
}
