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

void
vb_adamw_scalars (VbAdamwScalars *sc, float lr, float beta1, float beta2, float eps,
                  float weight_decay, int64_t step)
{
  double bc1 = 1.0 - pow (beta1, (double) step);
  double bc2 = 1.0 - pow (beta2, (double) step);
  sc->beta1 = beta1;
  sc->beta2 = beta2;
  sc->eps = eps;
  sc->decay = (float) (1.0 - (double) lr * weight_decay);
  sc->step_size = (float) (lr / bc1);
  sc->bc2_sqrt = (float) sqrt (bc2);
  sc->one_m_b1 = (float) (1.0 - beta1);
  sc->one_m_b2 = (float) (1.0 - beta2);
}

float
vb_clip_factor (const double *sumsq, float max_norm)
{
  if (sumsq == NULL || max_norm <= 0)
    return 1.0f;
  double norm = sqrt (*sumsq);
  return norm > max_norm ? (float) (max_norm / (norm + 1e-6)) : 1.0f;
}

void
vb_adamw_fused (float *param, const float *grad, float *m, float *v, const uint8_t *decay_mask,
                int64_t n, const VbAdamwScalars *sc, const double *sumsq, float max_norm)
{
  float clip = vb_clip_factor (sumsq, max_norm);
  int scaled = clip != 1.0f;

#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++)
    {
      /* decay 1 − lr·0 is exactly 1: an undecayed element is multiplied by 1 */
      float g = scaled ? grad[i] * clip : grad[i], denom;
      float p = param[i] * (decay_mask == NULL || decay_mask[i] ? sc->decay : 1.0f);
      m[i] = m[i] * sc->beta1 + g * sc->one_m_b1;
      v[i] = v[i] * sc->beta2 + sc->one_m_b2 * g * g;
      denom = sqrtf (v[i]) / sc->bc2_sqrt + sc->eps;
      param[i] = p + (-sc->step_size * m[i]) / denom;   /* addcdiv order */
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
