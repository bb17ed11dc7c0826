/* test-gemm.c: the forward product (own thin-product kernel where the build has one)
 * against a double-precision loop on awkward shapes, strided rows and sentinels around
 * the output; bit-identical for 1 and 2 threads; close to OpenBLAS. */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <omp.h>

#include "vb-cpu-ops.h"

#define SENTINEL -12345.0f

static float *
random_floats (GRand *rng, gsize n)
{
  float *x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return x;
}

/* one product of shape (M, K) · (N, K)ᵀ with row strides wider than the rows */
static void
check_shape (GRand *rng, int M, int N, int K, gboolean with_bias)
{
  int ld_in = K + 3, ld_out = N + 5;
  g_autofree float *in = random_floats (rng, (gsize) M * ld_in);
  g_autofree float *w = random_floats (rng, (gsize) N * K);
  g_autofree float *b = random_floats (rng, N);
  g_autofree float *out = g_new (float, (gsize) M * ld_out);

  for (gsize i = 0; i < (gsize) M * ld_out; i++)
    out[i] = SENTINEL;
  vb_linear_forward (out, ld_out, in, ld_in, w, with_bias ? b : NULL, M, K, N);

  for (int r = 0; r < M; r++)
    {
      for (int o = 0; o < N; o++)
        {
          double want = with_bias ? b[o] : 0.0, mag = fabs (want);
          for (int i = 0; i < K; i++)
            {
              want += (double) in[r * ld_in + i] * w[o * K + i];
              mag += fabs ((double) in[r * ld_in + i] * w[o * K + i]);
            }
          if (fabs (out[r * ld_out + o] - want) > 1e-6 * mag + 1e-7)
            g_error ("M=%d N=%d K=%d bias=%d: out[%d,%d] = %.8g, want %.8g", M, N, K,
                     with_bias, r, o, out[r * ld_out + o], want);
        }
      for (int o = N; o < ld_out; o++)
        if (out[r * ld_out + o] != SENTINEL)
          g_error ("M=%d N=%d K=%d: wrote past the row at [%d,%d]", M, N, K, r, o);
    }
}

static void
test_shapes (void)
{
  const int Ms[] = { 1, 5, 6, 12, 13, 100, 257 };
  const int Ns[] = { 1, 8, 16, 17, 32, 33, 100 };
  const int Ks[] = { 1, 3, 27, 96 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);

  g_test_message ("forward product: %s", vb_cpu_gemm_name ());
  for (guint m = 0; m < G_N_ELEMENTS (Ms); m++)
    for (guint n = 0; n < G_N_ELEMENTS (Ns); n++)
      for (guint k = 0; k < G_N_ELEMENTS (Ks); k++)
        check_shape (rng, Ms[m], Ns[n], Ks[k], (m + n + k) % 2 == 0);
  /* large enough to be split over threads and tiles, K past one cache panel */
  check_shape (rng, 1100, 3 * 32 + 7, 768, TRUE);
  check_shape (rng, 64, 3072, 768, TRUE);
}

static float *
product (const float *in, const float *w, const float *b, int M, int N, int K)
{
  float *out = g_new (float, (gsize) M * N);
  vb_linear_forward (out, N, in, K, w, b, M, K, N);
  return out;
}

static void
test_threads_and_blas (void)
{
  const int M = 1000, N = 200, K = 100;
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  g_autofree float *in = random_floats (rng, (gsize) M * K);
  g_autofree float *w = random_floats (rng, (gsize) N * K);
  g_autofree float *b = random_floats (rng, N);
  int saved = omp_get_max_threads ();

  omp_set_num_threads (1);
  g_autofree float *one = product (in, w, b, M, N, K);
  omp_set_num_threads (2);
  g_autofree float *two = product (in, w, b, M, N, K);
  g_assert_cmpmem (one, (gsize) M * N * sizeof (float), two, (gsize) M * N * sizeof (float));

  vb_cpu_use_own_gemm (0);
  g_assert_cmpstr (vb_cpu_gemm_name (), ==, "OpenBLAS sgemm");
  g_autofree float *blas = product (in, w, b, M, N, K);
  vb_cpu_use_own_gemm (1);
  omp_set_num_threads (saved);

  for (gsize i = 0; i < (gsize) M * N; i++)
    g_assert_cmpfloat_with_epsilon (one[i], blas[i], 1e-4f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/kernels/gemm/shapes", test_shapes);
  g_test_add_func ("/vb/kernels/gemm/threads-and-blas", test_threads_and_blas);
  return g_test_run ();
}
