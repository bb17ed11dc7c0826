/* vb-projector-recon.c: Mode B, reconstruction (clip-projectors.md §4.4): x̂_t = f(x_t)
 * against x_t itself, the loss an MSE on tokens standardised per dimension with the
 * train split's statistics; raw MSE and cosine ride along. */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

void
vb_token_stats_compute (VbTokenStats *s, const VbFeatureSet *fs, int first, int count)
{
  int T = fs->tokens, D = fs->width;
  s->d = D;
  s->mean = g_new0 (double, D);
  s->inv_sd = g_new0 (double, D);
  g_autofree double *s2 = g_new0 (double, D);
  g_autofree float *x = g_new (float, (gsize) T * D);
  for (int i = 0; i < count; i++)
    {
      vb_feature_set_tokens (fs, first + i, x);
      for (gsize q = 0; q < (gsize) T * D; q++)
        {
          s->mean[q % D] += x[q];
          s2[q % D] += (double) x[q] * x[q];
        }
    }
  double rows = MAX ((double) count * T, 1);
  for (int k = 0; k < D; k++)
    {
      s->mean[k] /= rows;
      s->inv_sd[k] = 1.0 / sqrt (MAX (s2[k] / rows - s->mean[k] * s->mean[k], 0.0) + 1e-12);
    }
}

void
vb_token_stats_clear (VbTokenStats *s)
{
  g_clear_pointer (&s->mean, g_free);
  g_clear_pointer (&s->inv_sd, g_free);
}

/* sums over rows of (x̂, x): standardised and raw squared errors, per-token cosine, and
 * the standardised targets' sum and sum of squares (for R²) */
static void
accumulate (VbReconMetrics *m, double *ts, double *ts2, const float *xhat, const float *x,
            int64_t rows, const VbTokenStats *s)
{
  int D = s->d;
  for (int64_t t = 0; t < rows; t++)
    {
      const float *a = xhat + t * D, *b = x + t * D;
      double ab = 0, aa = 0, bb = 0;
      for (int k = 0; k < D; k++)
        {
          double e = (double) a[k] - b[k], bs = (b[k] - s->mean[k]) * s->inv_sd[k];
          m->std_mse += e * e * s->inv_sd[k] * s->inv_sd[k];
          m->raw_mse += e * e;
          ab += (double) a[k] * b[k];
          aa += (double) a[k] * a[k];
          bb += (double) b[k] * b[k];
          ts[k] += bs;
          ts2[k] += bs * bs;
        }
      m->cos += ab / (MAX (sqrt (aa), 1e-8) * MAX (sqrt (bb), 1e-8));
    }
}

double
vb_recon_batch (const float *xhat, const float *x, int64_t rows, const VbTokenStats *s,
                float *dxhat, VbReconMetrics *logged)
{
  int D = s->d;
  double n = (double) rows * D;
  for (gsize q = 0; q < (gsize) rows * D; q++)
    {
      double is = s->inv_sd[q % D];
      dxhat[q] = (float) (2.0 * ((double) xhat[q] - x[q]) * is * is / n);
    }
  VbReconMetrics m = { 0 };
  g_autofree double *ts = g_new0 (double, D);
  g_autofree double *ts2 = g_new0 (double, D);
  accumulate (&m, ts, ts2, xhat, x, rows, s);
  if (logged)
    {
      logged->raw_mse = m.raw_mse / n;
      logged->cos = m.cos / rows;
    }
  return m.std_mse / n;
}

gboolean
vb_recon_eval (VbProjector *p, const VbFeatureSet *fs, const int *idx, int first, int count,
               int chunk, float *x, float *xhat, const VbTokenStats *s, VbReconMetrics *out,
               GError **error)
{
  int T = fs->tokens, D = fs->width;
  VbReconMetrics m = { 0 };
  g_autofree double *ts = g_new0 (double, D);
  g_autofree double *ts2 = g_new0 (double, D);
  for (int i0 = 0; i0 < count; i0 += chunk)
    {
      int bs = MIN (chunk, count - i0);
      for (int b = 0; b < bs; b++)
        vb_feature_set_tokens (fs, idx ? idx[i0 + b] : first + i0 + b,
                               x + (gsize) b * T * D);
      if (!vb_projector_forward_host (p, xhat, x, (int64_t) bs * T, FALSE, error))
        return FALSE;
      accumulate (&m, ts, ts2, xhat, x, (int64_t) bs * T, s);
    }
  double rows = (double) count * T, ss = 0;
  for (int k = 0; k < D; k++)
    ss += ts2[k] - ts[k] * ts[k] / rows;   /* around the held-out mean, as R² asks */
  out->r2 = ss > 0 ? 1.0 - m.std_mse / ss : NAN;
  out->std_mse = m.std_mse / (rows * D);
  out->raw_mse = m.raw_mse / (rows * D);
  out->cos = m.cos / rows;
  return TRUE;
}
