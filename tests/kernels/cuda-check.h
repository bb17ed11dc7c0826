/* cuda-check.h: helpers for the tests that hold a CUDA op against its CPU op (header
 * only; each test program includes it once). Without a usable GPU every test calls
 * g_test_skip with the reason, so `meson test` counts SKIPs, never silent passes.
 * Outputs are poisoned with 0xFF bytes (NaN) first, so an element the op failed to
 * write fails the comparison. */
#pragma once

#include <glib.h>
#include <math.h>

#include "vb-cpu-ops.h"   /* VbBf16 and its conversions */
#include "vb-cuda.h"

static VbCuda *cc_cuda;
static char cc_why[256];

/* the shared context, or NULL after g_test_skip */
/* a generator seeded with seed, the seed printed so that a failure can be replayed */
static inline GRand *
cc_seeded (guint32 seed)
{
  g_test_message ("seed %u", seed);
  return g_rand_new_with_seed (seed);
}

static inline VbCuda *
cc_open_or_skip (void)
{
  static gboolean tried;
  if (!tried)
    {
      tried = TRUE;
      cc_cuda = vb_cuda_open (0, cc_why, sizeof cc_why);
      if (cc_cuda != NULL)
        g_test_message ("GPU: %s", vb_cuda_describe (cc_cuda));
    }
  if (cc_cuda == NULL)
    g_test_skip (cc_why);
  return cc_cuda;
}

static inline void
cc_assert_ok (VbCuda *cu)
{
  if (vb_cuda_sync (cu) != 0)
    g_error ("%s", vb_cuda_error (cu));
}

/* uniform in [lo, hi) */
static inline float *
cc_random (GRand *rng, gsize n, double lo, double hi)
{
  float *x = g_new (float, n > 0 ? n : 1);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, lo, hi);
  return x;
}

static inline float *
cc_upload (VbCuda *cu, const void *host, gsize bytes)
{
  void *d = vb_cuda_alloc (cu, bytes);
  if (d == NULL || vb_cuda_upload (cu, d, host, bytes) != 0)
    g_error ("%s", vb_cuda_error (cu));
  return d;
}

/* n floats (at least one) copied to the device */
static inline float *
cc_upload_floats (VbCuda *cu, const float *host, gsize n)
{
  return cc_upload (cu, host, (n > 0 ? n : 1) * sizeof (float));
}

/* device buffer of n floats, every byte 0xFF (NaN) */
static inline float *
cc_poisoned (VbCuda *cu, gsize n)
{
  float *d = vb_cuda_alloc (cu, n * sizeof (float));
  if (d == NULL)
    g_error ("%s", vb_cuda_error (cu));
  vb_cuda_memset (cu, d, 0xFF, n * sizeof (float));
  return d;
}

static inline float *
cc_download (VbCuda *cu, const float *dev, gsize n)
{
  float *h = g_new (float, n > 0 ? n : 1);
  cc_assert_ok (cu);
  if (vb_cuda_download (cu, h, dev, n * sizeof (float)) != 0)
    g_error ("%s", vb_cuda_error (cu));
  return h;
}

/* relative L2 error ‖got − want‖ / ‖want‖ ≤ rel, every element finite and within
 * atol + rtol·|want| */
static inline void
cc_assert_close (const char *what, const float *got, const float *want, gsize n,
                 double rel, double atol, double rtol)
{
  double num = 0.0, den = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double d = (double) got[i] - want[i];
      if (!isfinite (got[i]))
        g_error ("%s: element %" G_GSIZE_FORMAT " is %g (unwritten or overflow)", what, i,
                 got[i]);
      if (fabs (d) > atol + rtol * fabs (want[i]))
        g_error ("%s: element %" G_GSIZE_FORMAT ": GPU %.9g, CPU %.9g", what, i, got[i],
                 want[i]);
      num += d * d;
      den += (double) want[i] * want[i];
    }
  double err = den > 0.0 ? sqrt (num / den) : sqrt (num);
  if (err > rel)
    g_error ("%s: relative L2 error %.3g > %.3g", what, err, rel);
  g_test_message ("%s: relative L2 error %.3g over %" G_GSIZE_FORMAT " values", what, err, n);
}

/* frees the device buffers of a NULL-terminated list (a test's allocations never fail
 * silently: the helpers here end the test instead) */
static inline void
cc_free_all (VbCuda *cu, void *const *bufs)
{
  for (; *bufs != NULL; bufs++)
    vb_cuda_free (cu, *bufs);
}

#define CC_FREE_ALL(cu, ...) cc_free_all (cu, (void *const[]) { __VA_ARGS__, NULL })

/* ---- bf16 storage ---- */

/* device buffer of n bf16 (at least one), every bit set (NaN) */
static inline VbBf16 *
cc_poisoned16 (VbCuda *cu, gsize n)
{
  gsize bytes = (n > 0 ? n : 1) * sizeof (VbBf16);
  VbBf16 *d = vb_cuda_alloc (cu, bytes);
  if (d == NULL)
    g_error ("%s", vb_cuda_error (cu));
  vb_cuda_memset (cu, d, 0xFF, bytes);
  return d;
}

static inline VbBf16 *
cc_download16 (VbCuda *cu, const VbBf16 *dev, gsize n)
{
  VbBf16 *h = g_new (VbBf16, n > 0 ? n : 1);
  cc_assert_ok (cu);
  if (n > 0 && vb_cuda_download (cu, h, dev, n * sizeof (VbBf16)) != 0)
    g_error ("%s", vb_cuda_error (cu));
  return h;
}

/* one unit in the last place of a bf16 value (8 significant bits) */
static inline double
cc_ulp16 (VbBf16 h)
{
  int e = (h >> 7) & 0xFF;
  return ldexp (1.0, (e > 0 ? e : 1) - 127 - 7);
}

/* every got[i] finite and |got − want| ≤ one ulp (of either) + atol; says how many differ
 * and returns the worst difference in ulps */
static inline double
cc_assert_ulp16 (const char *what, const VbBf16 *got, const VbBf16 *want, gsize n, double atol)
{
  gsize differ = 0;
  double worst = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double g = vb_bf16_to_float (got[i]), w = vb_bf16_to_float (want[i]);
      double u = MAX (cc_ulp16 (got[i]), cc_ulp16 (want[i])), d = fabs (g - w);
      if (!isfinite (g))
        g_error ("%s: element %" G_GSIZE_FORMAT " is %g (unwritten or overflow)", what, i, g);
      if (d > u + atol)
        g_error ("%s: element %" G_GSIZE_FORMAT ": GPU %.9g, CPU %.9g (%.2f ulp)", what, i, g,
                 w, d / u);
      differ += got[i] != want[i];
      worst = MAX (worst, d / u);
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values differ, at most "
                  "%.3g ulp", what, differ, n, worst);
  return worst;
}

/* two device bf16 buffers hold the same bits */
static inline void
cc_assert_same16 (VbCuda *cu, const char *what, const VbBf16 *a, const VbBf16 *b, gsize n)
{
  g_autofree VbBf16 *ha = cc_download16 (cu, a, n);
  g_autofree VbBf16 *hb = cc_download16 (cu, b, n);
  for (gsize i = 0; i < n; i++)
    if (ha[i] != hb[i])
      g_error ("%s: element %" G_GSIZE_FORMAT " differs: 0x%04x, 0x%04x", what, i, ha[i], hb[i]);
}

/* download `dev` and compare with the CPU's `want`, fp32-mode tolerances */
static inline void
cc_check (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n)
{
  g_autofree float *got = cc_download (cu, dev, n);
  cc_assert_close (what, got, want, n, 1e-5, 1e-5, 1e-4);
}
