/* vb-projector-ridge.c: the §4.6 closed-form ridge control (clip-projectors.md): the
 * Linear family's MSE optimum from mean-pooled X to y. Mean pooling commutes with a
 * linear map, so mean_t (W x_t + b) = W x̄ + b and the fit needs only x̄ per image. */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"

/* λ relative to the data's scale (the spec names no value): 1e-6 of the mean diagonal
 * of XᵀX keeps the system positive definite while staying next to least squares */
#define RIDGE_RELATIVE_LAMBDA 1e-6

/* A = L·Lᵀ in place (lower triangle); FALSE when A is not positive definite */
static gboolean
cholesky (double *a, int n)
{
  for (int j = 0; j < n; j++)
    {
      double s = a[(gsize) j * n + j];
      for (int k = 0; k < j; k++)
        s -= a[(gsize) j * n + k] * a[(gsize) j * n + k];
      if (!(s > 0))
        return FALSE;
      double l = sqrt (s);
      a[(gsize) j * n + j] = l;
      for (int i = j + 1; i < n; i++)
        {
          double t = a[(gsize) i * n + j];
          for (int k = 0; k < j; k++)
            t -= a[(gsize) i * n + k] * a[(gsize) j * n + k];
          a[(gsize) i * n + j] = t / l;
        }
    }
  return TRUE;
}

/* solves L·Lᵀ·x = b for m right-hand sides stored as the columns of b (n, m), in place */
static void
cholesky_solve (const double *l, int n, double *b, int m)
{
  for (int c = 0; c < m; c++)
    {
      for (int i = 0; i < n; i++)
        {
          double t = b[(gsize) i * m + c];
          for (int k = 0; k < i; k++)
            t -= l[(gsize) i * n + k] * b[(gsize) k * m + c];
          b[(gsize) i * m + c] = t / l[(gsize) i * n + i];
        }
      for (int i = n - 1; i >= 0; i--)
        {
          double t = b[(gsize) i * m + c];
          for (int k = i + 1; k < n; k++)
            t -= l[(gsize) k * n + i] * b[(gsize) k * m + c];
          b[(gsize) i * m + c] = t / l[(gsize) i * n + i];
        }
    }
}

/* the centred statistics: means of X and Y, G = XcᵀXc (d, d), R = XcᵀYs (d, d), with Y
 * standardised per dimension (§4.3) */
static void
gram (const VbRidge *r, const float *x, const float *y, int n, double *g, double *rhs)
{
  int d = r->d;
  memset (g, 0, sizeof (double) * d * d);
  memset (rhs, 0, sizeof (double) * d * d);
  g_autofree double *xc = g_new (double, d);
  g_autofree double *ys = g_new (double, d);
  for (int i = 0; i < n; i++)
    {
      for (int k = 0; k < d; k++)
        {
          xc[k] = x[(gsize) i * d + k] - r->x_mean[k];
          ys[k] = (y[(gsize) i * d + k] - r->y_mean[k]) / r->y_sd[k];
        }
      for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++)
          {
            g[(gsize) a * d + b] += xc[a] * xc[b];
            rhs[(gsize) a * d + b] += xc[a] * ys[b];
          }
    }
}

gboolean
vb_ridge_fit (VbRidge *r, const float *x, const float *y, int n, int d, GError **error)
{
  memset (r, 0, sizeof *r);
  r->d = d;
  r->x_mean = g_new0 (double, d);
  r->y_mean = g_new0 (double, d);
  r->y_sd = g_new0 (double, d);
  r->w = g_new0 (double, (gsize) d * d);
  for (int k = 0; k < d; k++)
    {
      double sx = 0, sy = 0, sy2 = 0;
      for (int i = 0; i < n; i++)
        {
          sx += x[(gsize) i * d + k];
          sy += y[(gsize) i * d + k];
          sy2 += (double) y[(gsize) i * d + k] * y[(gsize) i * d + k];
        }
      r->x_mean[k] = sx / n;
      r->y_mean[k] = sy / n;
      r->y_sd[k] = sqrt (MAX (sy2 / n - r->y_mean[k] * r->y_mean[k], 0.0) + 1e-12);
    }
  g_autofree double *g = g_new (double, (gsize) d * d);
  gram (r, x, y, n, g, r->w);
  double trace = 0;
  for (int k = 0; k < d; k++)
    trace += g[(gsize) k * d + k];
  r->lambda = RIDGE_RELATIVE_LAMBDA * MAX (trace / d, 1e-12);
  for (int k = 0; k < d; k++)
    g[(gsize) k * d + k] += r->lambda;
  if (!cholesky (g, d))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "ridge control: XᵀX + λI is not positive definite (λ = %g)", r->lambda);
      return FALSE;
    }
  cholesky_solve (g, d, r->w, d);
  return TRUE;
}

void
vb_ridge_predict (const VbRidge *r, const float *x, int n, float *z)
{
  int d = r->d;
  for (int i = 0; i < n; i++)
    for (int b = 0; b < d; b++)
      {
        double s = 0;
        for (int a = 0; a < d; a++)
          s += (x[(gsize) i * d + a] - r->x_mean[a]) * r->w[(gsize) a * d + b];
        z[(gsize) i * d + b] = (float) (r->y_mean[b] + r->y_sd[b] * s);
      }
}

double
vb_ridge_normal_residual (const VbRidge *r, const float *x, const float *y, int n)
{
  int d = r->d;
  g_autofree double *g = g_new (double, (gsize) d * d);
  g_autofree double *rhs = g_new (double, (gsize) d * d);
  gram (r, x, y, n, g, rhs);
  double num = 0, den = 0;
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      {
        double lhs = r->lambda * r->w[(gsize) a * d + b];
        for (int k = 0; k < d; k++)
          lhs += g[(gsize) a * d + k] * r->w[(gsize) k * d + b];
        num += (lhs - rhs[(gsize) a * d + b]) * (lhs - rhs[(gsize) a * d + b]);
        den += rhs[(gsize) a * d + b] * rhs[(gsize) a * d + b];
      }
  return den > 0 ? sqrt (num / den) : sqrt (num);
}

void
vb_ridge_clear (VbRidge *r)
{
  g_clear_pointer (&r->x_mean, g_free);
  g_clear_pointer (&r->y_mean, g_free);
  g_clear_pointer (&r->y_sd, g_free);
  g_clear_pointer (&r->w, g_free);
}
