/* gating.c: the sigmoid gate of the Gated projector (vb-cpu-gating.h). */
#include "config.h"

#include <math.h>

#include "vb-cpu-gating.h"
#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

/* elementwise loops only pay for threads on large tensors (as activations.c) */
#define PAR_MIN 32768

void
vb_sigmoid_gate_forward (float *y, float *s, const float *a, const float *v, int64_t n)
{
  /* fixed blocks: the vector/scalar split of expf does not move with the thread count */
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          /* expf overflows to inf for a ≪ 0, which still gives σ = 0 exactly */
          float g = 1.0f / (1.0f + expf (-a[i]));
          s[i] = g;
          y[i] = g * v[i];
        }
    }
}

void
vb_sigmoid_gate_forward_bf16 (uint16_t *y, const uint16_t *av, int64_t rows, int C)
{
#pragma omp parallel for schedule(static) if (rows * C > PAR_MIN)
  for (int64_t r = 0; r < rows; r++)
    for (int c = 0; c < C; c++)
      {
        const uint16_t *row = av + r * 2 * C;
        float a = vb_bf16_to_float (row[c]), v = vb_bf16_to_float (row[C + c]);
        float g = 1.0f / (1.0f + expf (-a));
        y[r * C + c] = vb_bf16_from_float (g * v);
      }
}

void
vb_sigmoid_gate_backward (float *da, float *dv, const float *dy,
                          const float *s, const float *v, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++)
    {
      float g = s[i], d = dy[i];
      da[i] = d * v[i] * g * (1.0f - g);
      dv[i] = d * g;
    }
}
