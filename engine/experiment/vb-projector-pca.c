/* vb-projector-pca.c: the §4.4 Mode B control (clip-projectors.md): the closed-form
 * rank-r PCA reconstruction of the tokens, LowRank's optimum in Mode B. Tokens are
 * standardised with the train split's statistics (as Mode B's loss is); V_r, the top r
 * eigenvectors of their train covariance, reconstructs ŝ = s·V_r·V_rᵀ. */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-error.h"

#define PCA_MAX_ITER 300
#define PCA_TOL      1e-10
#define PCA_CHUNK    64   /* images per product: float sums stay short */

/* standardised tokens of images [first, first + count) into s (count·T, D) */
static void
standardised (const VbFeatureSet *fs, int first, int count, const VbTokenStats *st, float *s)
{
  int T = fs->tokens, D = fs->width;
  for (int i = 0; i < count; i++)
    {
      float *si = s + (gsize) i * T * D;
      vb_feature_set_tokens (fs, first + i, si);
      for (gsize q = 0; q < (gsize) T * D; q++)
        si[q] = (float) ((si[q] - st->mean[q % D]) * st->inv_sd[q % D]);
    }
}

/* standardised squared error of the rank-r reconstruction over a split, and (for R²)
 * the standardised tokens' sum of squares around the split's own mean */
static void
reconstruction_error (const VbFeatureSet *fs, int first, int count, const VbTokenStats *st,
                      const float *vt, const float *v, int rank, double *sse, double *ss)
{
  int T = fs->tokens, D = fs->width;
  g_autofree float *s = g_new (float, (gsize) PCA_CHUNK * T * D);
  g_autofree float *p = g_new (float, (gsize) PCA_CHUNK * T * rank);
  g_autofree float *shat = g_new (float, (gsize) PCA_CHUNK * T * D);
  g_autofree double *ts = g_new0 (double, D);
  g_autofree double *ts2 = g_new0 (double, D);
  *sse = 0;
  for (int i0 = 0; i0 < count; i0 += PCA_CHUNK)
    {
      int bs = MIN (PCA_CHUNK, count - i0);
      int64_t rows = (int64_t) bs * T;
      standardised (fs, first + i0, bs, st, s);
      vb_linear_forward (p, rank, s, D, vt, NULL, rows, D, rank);   /* s·V_r */
      vb_linear_forward (shat, D, p, rank, v, NULL, rows, rank, D); /* ·V_rᵀ */
      for (gsize q = 0; q < (gsize) rows * D; q++)
        {
          double e = (double) shat[q] - s[q];
          *sse += e * e;
          ts[q % D] += s[q];
          ts2[q % D] += (double) s[q] * s[q];
        }
    }
  double n = (double) count * T;
  *ss = 0;
  for (int k = 0; k < D; k++)
    *ss += ts2[k] - ts[k] * ts[k] / n;
}

gboolean
vb_pca_control (const VbFeatureSet *fs, int train_first, int n_train, int test_first,
                int n_test, const VbTokenStats *st, int rank, VbPcaControl *out,
                GError **error)
{
  int T = fs->tokens, D = fs->width;
  g_return_val_if_fail (rank >= 1 && rank <= D, FALSE);
  memset (out, 0, sizeof *out);
  out->rank = rank;
  /* the train covariance SᵀS: float products a chunk at a time, summed in double */
  g_autofree double *c = g_new0 (double, (gsize) D * D);
  g_autofree float *cf = g_new (float, (gsize) D * D);
  g_autofree float *s = g_new (float, (gsize) PCA_CHUNK * T * D);
  for (int i0 = 0; i0 < n_train; i0 += PCA_CHUNK)
    {
      int bs = MIN (PCA_CHUNK, n_train - i0);
      standardised (fs, train_first + i0, bs, st, s);
      memset (cf, 0, sizeof (float) * D * D);
      vb_linear_backward (NULL, 0, 0, cf, NULL, s, D, s, D, NULL, (int64_t) bs * T, D, D);
      for (gsize q = 0; q < (gsize) D * D; q++)
        c[q] += cf[q];
    }
  for (int a = 0; a < D; a++)   /* exactly symmetric, whatever the product's rounding */
    for (int b = 0; b < a; b++)
      c[(gsize) a * D + b] = c[(gsize) b * D + a] = (c[(gsize) a * D + b]
                                                      + c[(gsize) b * D + a]) / 2;
  g_autofree double *values = g_new (double, rank);
  g_autofree double *v = g_new (double, (gsize) D * rank);
  vb_symeig_top (c, D, rank, PCA_MAX_ITER, PCA_TOL, values, v, &out->eig);
  if (!isfinite (out->eig.residual))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "PCA control: the eigen solve did not give finite values");
      return FALSE;
    }
  /* V_r as the two weight layouts vb_linear_forward takes: (rank, D) and (D, rank) */
  g_autofree float *vt = g_new (float, (gsize) rank * D);
  g_autofree float *vf = g_new (float, (gsize) D * rank);
  for (int a = 0; a < D; a++)
    for (int j = 0; j < rank; j++)
      {
        vt[(gsize) j * D + a] = (float) v[(gsize) a * rank + j];
        vf[(gsize) a * rank + j] = (float) v[(gsize) a * rank + j];
      }
  double sse, ss;
  reconstruction_error (fs, train_first, n_train, st, vt, vf, rank, &sse, &ss);
  out->train_std_mse = sse / ((double) n_train * T * D);
  reconstruction_error (fs, test_first, n_test, st, vt, vf, rank, &sse, &ss);
  out->test_std_mse = sse / ((double) n_test * T * D);
  out->test_r2 = ss > 0 ? 1.0 - sse / ss : NAN;
  return TRUE;
}
