/* softmax_xent.c: softmax cross-entropy with label smoothing, PyTorch semantics:
 * target = (1 − ε)·onehot + ε / classes, loss = mean over the batch. */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"

float
vb_softmax_xent_forward (float *probs, const float *logits, const int *labels,
                         int B, int classes, float smoothing)
{
  double total = 0.0;

  if (B <= 0 || classes <= 0)
    return 0.0f;

  /* rows are few and short: serial, in double, so the loss is exactly reproducible */
  for (int b = 0; b < B; b++)
    {
      const float *x = logits + (int64_t) b * classes;
      float *p = probs + (int64_t) b * classes;
      double mx = x[0], sum = 0.0, sum_logp, log_z, loss;

      for (int j = 1; j < classes; j++)
        if (x[j] > mx)
          mx = x[j];
      for (int j = 0; j < classes; j++)
        sum += exp ((double) x[j] - mx);
      log_z = log (sum);

      sum_logp = 0.0;
      for (int j = 0; j < classes; j++)
        {
          double lp = (double) x[j] - mx - log_z;
          p[j] = (float) exp (lp);
          sum_logp += lp;
        }
      loss = -(1.0 - smoothing) * ((double) x[labels[b]] - mx - log_z)
             - smoothing / classes * sum_logp;
      total += loss;
    }
  return (float) (total / B);
}

void
vb_softmax_xent_backward (float *dlogits, const float *probs, const int *labels,
                          int B, int classes, float smoothing, float dloss)
{
  float scale = dloss / (float) B;
  float off = smoothing / (float) classes;

  for (int b = 0; b < B; b++)
    for (int j = 0; j < classes; j++)
      {
        float target = off + (j == labels[b] ? 1.0f - smoothing : 0.0f);
        dlogits[(int64_t) b * classes + j] = (probs[(int64_t) b * classes + j] - target) * scale;
      }
}
