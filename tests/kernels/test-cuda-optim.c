/* test-cuda-optim.c: the step's tail on the GPU without a value coming back to the host
 * — the loss written to device memory, the squared gradient norm, and the fused AdamW
 * pass that clips by that norm and decays by mask — against the CPU ops. The CPU side
 * clips by the GPU's norm (summed in another order, it may differ in its last bits and
 * so round the clip factor differently); the updates then agree to fp32 rounding (the
 * two compilers contract multiply-adds differently). Skips visibly without a GPU. */
#include "config.h"

#include "cuda-check.h"
#include "vb-cpu-ops.h"
#include "vb-cuda-ops.h"

static void
test_adamw_fused (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  enum { N = 100003 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  g_autofree float *g = cc_random (rng, N, -0.01, 0.01);
  g_autofree float *p = cc_random (rng, N, -1, 1);
  g_autofree uint8_t *mask = g_new (uint8_t, N);
  for (int i = 0; i < N; i++)
    mask[i] = (i / 1000) % 3 != 0;
  float *d_g = cc_upload (cu, g, N * 4), *d_p = cc_upload (cu, p, N * 4);
  float *d_m = cc_poisoned (cu, N), *d_v = cc_poisoned (cu, N);
  vb_cuda_memset (cu, d_m, 0, N * 4);
  vb_cuda_memset (cu, d_v, 0, N * 4);
  uint8_t *d_mask = (uint8_t *) cc_upload (cu, mask, N);
  double *d_sumsq = vb_cuda_alloc (cu, sizeof (double));
  VbAdamwScalars *d_sc = vb_cuda_alloc (cu, sizeof (VbAdamwScalars));
  g_autofree float *m = g_new0 (float, N), *v = g_new0 (float, N);

  /* max norm below the gradient's (clipping) and above it (none), three steps each */
  for (int step = 1; step <= 6; step++)
    {
      float max_norm = step <= 3 ? 0.5f : 100.0f;
      VbAdamwScalars sc;
      vb_adamw_scalars (&sc, 1e-3f * step, 0.9f, 0.999f, 1e-8f, 0.05f, step);
      double sumsq = vb_sum_squares (g, N), got = 0;
      vb_cuda_upload (cu, d_sc, &sc, sizeof sc);
      vb_cuda_sum_squares (cu, d_sumsq, d_g, N);
      vb_cuda_adamw_fused (cu, d_p, d_g, d_m, d_v, d_mask, N, d_sc, d_sumsq, max_norm);
      cc_assert_ok (cu);
      vb_cuda_download (cu, &got, d_sumsq, sizeof got);
      g_assert_cmpfloat (fabs (got - sumsq), <=, 1e-12 * sumsq);
      vb_adamw_fused (p, g, m, v, mask, N, &sc, &got, max_norm);
    }
  cc_check (cu, "adamw params", d_p, p, N);
  cc_check (cu, "adamw m", d_m, m, N);
  cc_check (cu, "adamw v", d_v, v, N);
  /* one float off 16-byte alignment (the one-at-a-time path; above, four at a time and a
   * tail of three), no mask: every parameter decays */
  {
    VbAdamwScalars sc;
    vb_adamw_scalars (&sc, 2e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, 7);
    double sumsq = 0;
    vb_cuda_upload (cu, d_sc, &sc, sizeof sc);
    vb_cuda_adamw_fused (cu, d_p + 1, d_g + 1, d_m + 1, d_v + 1, NULL, N - 1, d_sc, NULL, 0);
    vb_adamw_fused (p + 1, g + 1, m + 1, v + 1, NULL, N - 1, &sc, &sumsq, 0);
    cc_check (cu, "adamw params (unaligned, no mask)", d_p, p, N);
    cc_check (cu, "adamw m (unaligned, no mask)", d_m, m, N);
  }
  void *all[] = { d_g, d_p, d_m, d_v, d_mask, d_sumsq, d_sc };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
test_loss_stays_on_device (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  enum { B = 5, CLASSES = 7 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (12);
  g_autofree float *logits = cc_random (rng, B * CLASSES, -3, 3);
  int labels[B] = { 0, 6, 3, 3, 1 };
  float probs[B * CLASSES];
  float want = vb_softmax_xent_forward (probs, logits, labels, B, CLASSES, 0.1f);
  float *d_logits = cc_upload (cu, logits, sizeof (float) * B * CLASSES);
  int *d_labels = (int *) cc_upload (cu, labels, sizeof labels);
  float *d_probs = cc_poisoned (cu, B * CLASSES), *d_loss = cc_poisoned (cu, 1);
  vb_cuda_softmax_xent_forward (cu, d_probs, d_loss, d_logits, d_labels, B, CLASSES, 0.1f);
  g_autofree float *got = cc_download (cu, d_loss, 1);
  g_assert_cmpfloat (fabsf (got[0] - want), <=, 1e-6f * fabsf (want));
  cc_check (cu, "probs", d_probs, probs, B * CLASSES);
  void *all[] = { d_logits, d_labels, d_probs, d_loss };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/cuda/adamw-fused", test_adamw_fused);
  g_test_add_func ("/vb/cuda/loss-on-device", test_loss_stays_on_device);
  int status = g_test_run ();
  if (cc_cuda != NULL)
    vb_cuda_close (cc_cuda);
  return status;
}
