/* adamw.c: PyTorch AdamW (single-tensor path, amsgrad off), plus the helpers for
 * gradient-norm clipping. */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

#define PAR_MIN 32768

void
vb_adamw_step (float *param, const float *grad, float *m, float *v, int64_t n,
               float lr, float beta1, float beta2, float eps, float weight_decay,
               int64_t step)
{
  /* scalars as PyTorch computes them: in Python doubles, rounded when applied */
  double bc1 = 1.0 - pow (beta1, (double) step);
  double bc2 = 1.0 - pow (beta2, (double) step);
  float decay = (float) (1.0 - (double) lr * weight_decay);
  float step_size = (float) (lr / bc1);
  float bc2_sqrt = (float) sqrt (bc2);
  float one_m_b1 = (float) (1.0 - beta1), one_m_b2 = (float) (1.0 - beta2);

#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++)
    {
      float g = grad[i], denom;
      float p = param[i] * decay;
      m[i] = m[i] * beta1 + g * one_m_b1;
      v[i] = v[i] * beta2 + one_m_b2 * g * g;
      denom = sqrtf (v[i]) / bc2_sqrt + eps;
      param[i] = p + (-step_size * m[i]) / denom;   /* addcdiv order */
    }
}

double
vb_sum_squares (const float *x, int64_t n)
{
  int64_t n_chunks = vb_cpu_n_chunks (n);
  double part[VB_CPU_MAX_CHUNKS], total = 0.0;

#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t ch = 0; ch < n_chunks; ch++)
    {
      int64_t i0 = vb_cpu_chunk_start (n, n_chunks, ch);
      int64_t i1 = vb_cpu_chunk_start (n, n_chunks, ch + 1);
      double s = 0.0;
      for (int64_t i = i0; i < i1; i++)
        s += (double) x[i] * x[i];
      part[ch] = s;
    }
  for (int64_t ch = 0; ch < n_chunks; ch++)
    total += part[ch];
  return total;
}

void
vb_scale (float *x, float s, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++)
    x[i] *= s;
}
