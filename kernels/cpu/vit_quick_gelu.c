/* vit_quick_gelu.c: CLIP's quick GELU, x·σ(1.702·x) (not the erf GELU of VMamba's MLP). */
#include "config.h"

#include <math.h>

#include "vb-cpu-private.h"
#include "vb-cpu-vit.h"

#define PAR_MIN 32768

void
vb_quick_gelu_forward (float *out, const float *in, int64_t n)
{
  /* fixed blocks: the vector/scalar split of libmvec's expf is the same for any
   * thread count */
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i0 = 0; i0 < n; i0 += VB_CPU_BLOCK)
    {
      int64_t i1 = i0 + VB_CPU_BLOCK < n ? i0 + VB_CPU_BLOCK : n;
#pragma omp simd
      for (int64_t i = i0; i < i1; i++)
        {
          float x = in[i];
          out[i] = x * (1.0f / (1.0f + expf (-1.702f * x)));
        }
    }
}
