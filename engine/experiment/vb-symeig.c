/* vb-symeig.c: the top eigenpairs of a symmetric matrix, for the closed-form rank-r
 * controls (reduced-rank regression, PCA; clip-projectors.md §4.4, §4.6). No LAPACK:
 * subspace iteration with a Rayleigh–Ritz step each iteration (a cyclic Jacobi solve of
 * the small projected matrix) and Gram–Schmidt re-orthonormalisation. Everything is in
 * double: the controls are compared with trained models to 1e-6, which float products
 * cannot promise. Deterministic: a fixed start, a fixed order of operations. */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

#include "vb-rng.h"

/* extra block columns: convergence goes as (λ_{k+1} / λ_r) per iteration, k = r + extra */
#define OVERSAMPLE(n, r) MIN ((n) - (r), MAX ((r) / 2, 8))
#define JACOBI_SWEEPS 30

/* cyclic Jacobi on the symmetric (k, k) h, in place: h ends diagonal, u (k, k) holds
 * the eigenvectors as columns */
static void
jacobi (double *h, double *u, int k)
{
  memset (u, 0, sizeof (double) * k * k);
  for (int i = 0; i < k; i++)
    u[(gsize) i * k + i] = 1;
  for (int sweep = 0; sweep < JACOBI_SWEEPS; sweep++)
    {
      double off = 0, diag = 0;
      for (int p = 0; p < k; p++)
        {
          diag += h[(gsize) p * k + p] * h[(gsize) p * k + p];
          for (int q = p + 1; q < k; q++)
            off += h[(gsize) p * k + q] * h[(gsize) p * k + q];
        }
      if (off <= 1e-30 * diag)
        break;
      for (int p = 0; p < k; p++)
        for (int q = p + 1; q < k; q++)
          {
            double hpq = h[(gsize) p * k + q];
            if (fabs (hpq) < 1e-300)
              continue;
            double theta = (h[(gsize) q * k + q] - h[(gsize) p * k + p]) / (2 * hpq);
            double t = (theta >= 0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta + 1));
            double c = 1 / sqrt (t * t + 1), s = t * c;
            for (int i = 0; i < k; i++)   /* h ← h·J (columns p, q) */
              {
                double a = h[(gsize) i * k + p], b = h[(gsize) i * k + q];
                h[(gsize) i * k + p] = c * a - s * b;
                h[(gsize) i * k + q] = s * a + c * b;
              }
            for (int i = 0; i < k; i++)   /* h ← Jᵀ·h (rows p, q) */
              {
                double a = h[(gsize) p * k + i], b = h[(gsize) q * k + i];
                h[(gsize) p * k + i] = c * a - s * b;
                h[(gsize) q * k + i] = s * a + c * b;
              }
            for (int i = 0; i < k; i++)
              {
                double a = u[(gsize) i * k + p], b = u[(gsize) i * k + q];
                u[(gsize) i * k + p] = c * a - s * b;
                u[(gsize) i * k + q] = s * a + c * b;
              }
          }
    }
}

/* modified Gram–Schmidt on the k columns of q (n, k), in place; a column that has
 * collapsed (the matrix's rank is below k) is replaced by a fixed unit vector and
 * orthogonalised again, so the basis stays full */
static void
orthonormalise (double *q, int n, int k)
{
  for (int j = 0; j < k; j++)
    for (int attempt = 0; attempt < 2; attempt++)
      {
        double before = 0;
        for (int i = 0; i < n; i++)
          before += q[(gsize) i * k + j] * q[(gsize) i * k + j];
        for (int pass = 0; pass < 2; pass++)   /* twice is enough (Kahan–Parlett) */
          for (int c = 0; c < j; c++)
            {
              double d = 0;
              for (int i = 0; i < n; i++)
                d += q[(gsize) i * k + c] * q[(gsize) i * k + j];
              for (int i = 0; i < n; i++)
                q[(gsize) i * k + j] -= d * q[(gsize) i * k + c];
            }
        double nn = 0;
        for (int i = 0; i < n; i++)
          nn += q[(gsize) i * k + j] * q[(gsize) i * k + j];
        if (nn > 1e-20 * MAX (before, 1e-300))
          {
            double inv = 1 / sqrt (nn);
            for (int i = 0; i < n; i++)
              q[(gsize) i * k + j] *= inv;
            break;
          }
        for (int i = 0; i < n; i++)
          q[(gsize) i * k + j] = (i == (j * 7919 + attempt) % n) ? 1 : 1e-3 * ((i % 5) - 2);
      }
}

/* c (n, k) = a (n, m) · b (m, k) */
static void
matmul (double *c, const double *a, const double *b, int n, int m, int k)
{
  memset (c, 0, sizeof (double) * n * k);
  for (int i = 0; i < n; i++)
    for (int l = 0; l < m; l++)
      {
        double x = a[(gsize) i * m + l];
        if (x == 0)
          continue;
        for (int j = 0; j < k; j++)
          c[(gsize) i * k + j] += x * b[(gsize) l * k + j];
      }
}

gboolean
vb_symeig_top (const double *a, int n, int r, int max_iter, double tol, double *values,
               double *vectors, VbSymeigInfo *info)
{
  g_return_val_if_fail (r >= 1 && r <= n, FALSE);
  int k = r + OVERSAMPLE (n, r);
  g_autofree double *q = g_new (double, (gsize) n * k);
  g_autofree double *z = g_new (double, (gsize) n * k);
  g_autofree double *qr = g_new (double, (gsize) n * k);
  g_autofree double *zr = g_new (double, (gsize) n * k);
  g_autofree double *h = g_new (double, (gsize) k * k);
  g_autofree double *u = g_new (double, (gsize) k * k);
  g_autofree int *order = g_new (int, k);
  g_autofree double *row = g_new (double, k);
  VbRng rng;   /* a fixed start: the same answer every run */
  vb_rng_init (&rng, 0x5e1f5e1fULL);
  for (gsize i = 0; i < (gsize) n * k; i++)
    q[i] = vb_rng_normal (&rng);
  orthonormalise (q, n, k);

  double scale = 0;   /* ‖A‖_F, the yardstick of the residual */
  for (gsize i = 0; i < (gsize) n * n; i++)
    scale += a[i] * a[i];
  scale = MAX (sqrt (scale), 1e-300);
  double residual = INFINITY;
  int it;
  for (it = 1; it <= max_iter; it++)
    {
      matmul (z, a, q, n, n, k);   /* Z = A·Q (A symmetric) */
      for (int i = 0; i < k; i++)   /* H = Qᵀ·Z, symmetrised */
        for (int j = i; j < k; j++)
          {
            double s = 0, t = 0;
            for (int l = 0; l < n; l++)
              {
                s += q[(gsize) l * k + i] * z[(gsize) l * k + j];
                t += q[(gsize) l * k + j] * z[(gsize) l * k + i];
              }
            h[(gsize) i * k + j] = h[(gsize) j * k + i] = (s + t) / 2;
          }
      jacobi (h, u, k);
      for (int j = 0; j < k; j++)   /* Ritz values, largest first */
        order[j] = j;
      for (int j = 1; j < k; j++)
        for (int m = j; m > 0 && h[(gsize) order[m] * k + order[m]]
                                   > h[(gsize) order[m - 1] * k + order[m - 1]]; m--)
          {
            int t = order[m];
            order[m] = order[m - 1];
            order[m - 1] = t;
          }
      for (int i = 0; i < k; i++)   /* permute U's columns into that order */
        {
          for (int j = 0; j < k; j++)
            row[j] = u[(gsize) i * k + order[j]];
          memcpy (u + (gsize) i * k, row, sizeof (double) * k);
        }
      matmul (qr, q, u, n, k, k);   /* Ritz vectors and A times them */
      matmul (zr, z, u, n, k, k);
      residual = 0;   /* max over the wanted r of ‖A v − θ v‖ / ‖A‖_F */
      for (int j = 0; j < r; j++)
        {
          double theta = h[(gsize) order[j] * k + order[j]], e = 0;
          for (int i = 0; i < n; i++)
            {
              double d = zr[(gsize) i * k + j] - theta * qr[(gsize) i * k + j];
              e += d * d;
            }
          residual = MAX (residual, sqrt (e) / scale);
          values[j] = theta;
        }
      for (int i = 0; i < n; i++)
        memcpy (vectors + (gsize) i * r, qr + (gsize) i * k, sizeof (double) * r);
      if (residual <= tol)
        break;
      memcpy (q, zr, sizeof (double) * n * k);   /* the next power step, in Ritz order */
      orthonormalise (q, n, k);
    }
  if (info)
    {
      info->iterations = MIN (it, max_iter);
      info->residual = residual;
      info->converged = residual <= tol;
    }
  return residual <= tol;
}
