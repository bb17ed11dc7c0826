/* activations.c: GELU (exact erf form), SiLU and the residual add. */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

/* elementwise loops only pay for threads on large tensors */
#define PAR_MIN 32768

#define INV_SQRT_2PI 0.3989422804014327f

void
vb_gelu_forward (float *out, const float *in, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          float x = in[i];
          out[i] = 0.5f * x * (1.0f + erff (x * (float) M_SQRT1_2));
        }
    }
}

/* GELU'(x) = Φ(x) + x·φ(x) */
void
vb_gelu_backward (float *din, const float *dout, const float *in, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          float x = in[i];
          float cdf = 0.5f * (1.0f + erff (x * (float) M_SQRT1_2));
          float pdf = INV_SQRT_2PI * expf (-0.5f * x * x);
          din[i] = dout[i] * (cdf + x * pdf);
        }
    }
}

void
vb_silu_forward (float *out, const float *in, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          float x = in[i];
          out[i] = x / (1.0f + expf (-x));
        }
    }
}

/* SiLU'(x) = s·(1 + x·(1 − s)), s = σ(x) */
void
vb_silu_backward (float *din, const float *dout, const float *in, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          float x = in[i];
          float s = 1.0f / (1.0f + expf (-x));
          din[i] = dout[i] * s * (1.0f + x * (1.0f - s));
        }
    }
}

void
vb_add (float *out, const float *a, const float *b, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}
