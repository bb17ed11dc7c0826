/* gradcheck.h: shared helpers of the kernel tests — seeded random tensors and a
 * central-difference gradient check of loss = Σ dout·out (accumulated in double). */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdint.h>

typedef struct {
  void (*forward) (gpointer self);   /* recomputes out from the current inputs */
  gpointer self;
  const float *out;
  const float *dout;
  int64_t n_out;
} GcProblem;

static inline float
gc_normal (GRand *rand)
{
  double u1 = g_rand_double_range (rand, 1e-12, 1.0);
  double u2 = g_rand_double (rand);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

static inline float *
gc_randn (GRand *rand, int64_t n, float scale)
{
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = scale * gc_normal (rand);
  return x;
}

static inline float *
gc_fill (int64_t n, float value)
{
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = value;
  return x;
}

static inline float *
gc_copy (const float *x, int64_t n)
{
  return g_memdup2 (x, (gsize) n * sizeof (float));
}

static inline double
gc_loss (GcProblem *p)
{
  double s = 0.0;
  p->forward (p->self);
  for (int64_t i = 0; i < p->n_out; i++)
    s += (double) p->dout[i] * p->out[i];
  return s;
}

/* Compares ana[i] with the central difference of the loss with respect to x[i], for
 * every coordinate when n ≤ max_samples, else for max_samples seeded random ones.
 * Tolerance: rtol 1e-2 of the larger magnitude plus 1e-3 of the gradient's largest
 * entry (fp32 forward, so the difference carries rounding noise). */
static inline void
gc_check (GcProblem *p, const char *name, float *x, int64_t n, const float *ana,
          int max_samples, float h)
{
  GRand *rand = g_rand_new_with_seed (0x5eed + (guint32) n);
  double scale = 0.0;
  int n_bad = 0, n_checked = 0;
  int count = n <= max_samples ? (int) n : max_samples;

  for (int64_t i = 0; i < n; i++)
    scale = MAX (scale, fabs (ana[i]));
  g_assert_true (isfinite (scale));

  for (int s = 0; s < count; s++)
    {
      int64_t i = n <= max_samples ? s : g_rand_int_range (rand, 0, (gint32) n);
      float x0 = x[i], xp = x0 + h, xm = x0 - h;
      double lp, lm, num, tol;

      x[i] = xp;
      lp = gc_loss (p);
      x[i] = xm;
      lm = gc_loss (p);
      x[i] = x0;
      num = (lp - lm) / ((double) xp - (double) xm);
      tol = 1e-2 * MAX (fabs (num), fabs (ana[i])) + 1e-3 * scale + 1e-6;
      n_checked++;
      if (!(fabs (num - ana[i]) <= tol))
        {
          if (n_bad < 5)
            g_test_message ("%s[%" G_GINT64_FORMAT "]: analytic %.7g, numeric %.7g",
                            name, i, ana[i], num);
          n_bad++;
        }
    }
  g_rand_free (rand);
  if (n_bad > 0)
    g_test_fail_printf ("%s: %d of %d gradient entries off", name, n_bad, n_checked);
  /* a gradient that is identically zero would pass trivially */
  g_assert_cmpfloat (scale, >, 0.0);
}

/* ana = after − before: the part a kernel accumulated onto a pre-filled buffer */
static inline float *
gc_delta (const float *after, const float *before, int64_t n)
{
  float *d = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    d[i] = after[i] - before[i];
  return d;
}

static inline void
gc_assert_close (const char *name, const float *got, const double *want, int64_t n,
                 double rtol, double atol)
{
  for (int64_t i = 0; i < n; i++)
    if (!(fabs (got[i] - want[i]) <= atol + rtol * fabs (want[i])))
      {
        g_test_fail_printf ("%s[%" G_GINT64_FORMAT "]: got %.8g, want %.8g",
                            name, i, got[i], want[i]);
        return;
      }
}
