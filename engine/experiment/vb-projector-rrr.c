/* vb-projector-rrr.c: the §4.6 reduced-rank regression control (clip-projectors.md): the
 * LowRank family's MSE optimum. With the ridge solution W and its fitted values
 * Ŷ = Xc·W, the rank-r optimum is W·V_r·V_rᵀ, V_r the top r eigenvectors of ŶᵀŶ
 * (for least squares exactly; with ridge's tiny λ to within O(λ)). */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"

/* subspace iteration limits: the study's width 1024 at rank 256 converges in tens of
 * iterations; the cap keeps a badly separated spectrum from running on */
#define RRR_MAX_ITER 300
#define RRR_TOL      1e-10

gboolean
vb_rrr_fit (VbRidge *out, const VbRidge *ridge, const float *x, int n, int rank,
            VbSymeigInfo *info, GError **error)
{
  int d = ridge->d;
  g_return_val_if_fail (rank >= 1 && rank <= d, FALSE);
  g_autofree double *yhat = g_new0 (double, (gsize) n * d);
  g_autofree double *xc = g_new (double, d);
  for (int i = 0; i < n; i++)   /* Ŷ = Xc·W, standardised target units */
    {
      for (int a = 0; a < d; a++)
        xc[a] = x[(gsize) i * d + a] - ridge->x_mean[a];
      double *yi = yhat + (gsize) i * d;
      for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++)
          yi[b] += xc[a] * ridge->w[(gsize) a * d + b];
    }
  g_autofree double *g = g_new0 (double, (gsize) d * d);
  for (int i = 0; i < n; i++)   /* ŶᵀŶ, upper triangle, mirrored below */
    for (int a = 0; a < d; a++)
      {
        double ya = yhat[(gsize) i * d + a];
        for (int b = a; b < d; b++)
          g[(gsize) a * d + b] += ya * yhat[(gsize) i * d + b];
      }
  for (int a = 0; a < d; a++)
    for (int b = 0; b < a; b++)
      g[(gsize) a * d + b] = g[(gsize) b * d + a];
  g_autofree double *values = g_new (double, rank);
  g_autofree double *v = g_new (double, (gsize) d * rank);
  VbSymeigInfo local;
  VbSymeigInfo *inf = info ? info : &local;
  vb_symeig_top (g, d, rank, RRR_MAX_ITER, RRR_TOL, values, v, inf);
  if (!isfinite (inf->residual))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "reduced-rank control: the eigen solve did not give finite values");
      return FALSE;
    }
  /* not converged to RRR_TOL still leaves an orthonormal V, so a valid rank-r map; the
   * residual goes into the result file */

  memset (out, 0, sizeof *out);
  out->d = d;
  out->lambda = ridge->lambda;
  out->x_mean = g_memdup2 (ridge->x_mean, sizeof (double) * d);
  out->y_mean = g_memdup2 (ridge->y_mean, sizeof (double) * d);
  out->y_sd = g_memdup2 (ridge->y_sd, sizeof (double) * d);
  out->w = g_new0 (double, (gsize) d * d);
  g_autofree double *wv = g_new0 (double, (gsize) d * rank);
  for (int a = 0; a < d; a++)   /* W·V_r, then ·V_rᵀ */
    for (int b = 0; b < d; b++)
      {
        double w = ridge->w[(gsize) a * d + b];
        for (int j = 0; j < rank; j++)
          wv[(gsize) a * rank + j] += w * v[(gsize) b * rank + j];
      }
  for (int a = 0; a < d; a++)
    for (int j = 0; j < rank; j++)
      {
        double t = wv[(gsize) a * rank + j];
        for (int b = 0; b < d; b++)
          out->w[(gsize) a * d + b] += t * v[(gsize) b * rank + j];
      }
  return TRUE;
}
