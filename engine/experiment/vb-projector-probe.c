/* vb-projector-probe.c: the linear probe that stands in for CLIP's zero-shot head while
 * no text embeddings ship (clip-projectors.md §4.3, fallback 3). */
#include "config.h"

#include "vb-projector-study-private.h"

#include <math.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-optim.h"

#define PROBE_STEPS 200
#define PROBE_LR    0.01f
#define PROBE_WD    1e-4f

static float *
standardise (const float *x, int n, int d, const float *mean, const float *inv_std)
{
  float *out = g_new (float, (gsize) n * d);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      out[(gsize) i * d + k] = (x[(gsize) i * d + k] - mean[k]) * inv_std[k];
  return out;
}

double
vb_linear_probe_accuracy (const float *train, const int *train_labels, int n_train,
                          const float *test, const int *test_labels, int n_test, int dim,
                          int classes)
{
  if (n_train < 1 || n_test < 1)
    return NAN;
  /* train-split statistics only: the test split never shapes the probe */
  g_autofree float *mean = g_new0 (float, dim);
  g_autofree float *inv_std = g_new0 (float, dim);
  for (int k = 0; k < dim; k++)
    {
      double s = 0, s2 = 0;
      for (int i = 0; i < n_train; i++)
        {
          double v = train[(gsize) i * dim + k];
          s += v;
          s2 += v * v;
        }
      double m = s / n_train, var = MAX (s2 / n_train - m * m, 0.0);
      mean[k] = (float) m;
      inv_std[k] = (float) (1.0 / sqrt (var + 1e-6));
    }
  g_autofree float *ztr = standardise (train, n_train, dim, mean, inv_std);
  g_autofree float *zte = standardise (test, n_test, dim, mean, inv_std);

  /* one buffer, weights (classes, dim) then biases, as the optimizer wants it */
  int64_t n_params = (int64_t) classes * dim + classes;
  g_autofree float *params = g_new0 (float, n_params);
  g_autofree float *grads = g_new0 (float, n_params);
  g_autofree uint8_t *decay = g_new0 (uint8_t, n_params);
  memset (decay, 1, (gsize) classes * dim);
  float *w = params, *b = params + (gsize) classes * dim;
  g_autoptr (VbAdamW) opt = vb_adamw_new (n_params, decay, PROBE_WD);
  g_autofree float *logits = g_new (float, (gsize) MAX (n_train, n_test) * classes);
  g_autofree float *probs = g_new (float, (gsize) n_train * classes);
  g_autofree float *dlogits = g_new (float, (gsize) n_train * classes);
  for (int s = 0; s < PROBE_STEPS; s++)
    {
      vb_linear_forward (logits, classes, ztr, dim, w, b, n_train, dim, classes);
      vb_softmax_xent_forward (probs, logits, train_labels, n_train, classes, 0.0f);
      vb_softmax_xent_backward (dlogits, probs, train_labels, n_train, classes, 0.0f, 1.0f);
      memset (grads, 0, sizeof (float) * n_params);
      vb_linear_backward (NULL, dim, 0, grads, grads + (gsize) classes * dim, dlogits, classes,
                          ztr, dim, w, n_train, dim, classes);
      vb_adamw_update (opt, params, grads, PROBE_LR);
    }
  vb_linear_forward (logits, classes, zte, dim, w, b, n_test, dim, classes);
  int correct = 0;
  for (int i = 0; i < n_test; i++)
    {
      const float *l = logits + (gsize) i * classes;
      int best = 0;
      for (int c = 1; c < classes; c++)
        if (l[c] > l[best])
          best = c;
      correct += best == test_labels[i];
    }
  return 100.0 * correct / n_test;
}
