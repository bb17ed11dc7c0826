/* drop_path.c: stochastic depth; the per-sample scale comes from the caller's RNG. And
 * the residual add it sits in, with the branch's bias, in one pass. */
#include "config.h"

#include <stddef.h>

#include "vb-cpu-ops.h"

static void
scale_rows (float *out, const float *in, const float *scale, int B, int64_t per_sample)
{
#pragma omp parallel for schedule(static) if ((int64_t) B * per_sample > 32768)
  for (int b = 0; b < B; b++)
    {
      float s = scale[b];
      float *o = out + (int64_t) b * per_sample;
      const float *x = in + (int64_t) b * per_sample;
      for (int64_t i = 0; i < per_sample; i++)
        o[i] = x[i] * s;
    }
}

void
vb_drop_path_forward (float *out, const float *in, const float *scale,
                      int B, int64_t per_sample)
{
  scale_rows (out, in, scale, B, per_sample);
}

void
vb_drop_path_backward (float *din, const float *dout, const float *scale,
                       int B, int64_t per_sample)
{
  scale_rows (din, dout, scale, B, per_sample);
}

void
vb_residual_add (float *out, const float *x, const float *branch, const float *bias, int c,
                 const float *scale, int B, int64_t per_sample)
{
#pragma omp parallel for schedule(static) if ((int64_t) B * per_sample > 32768)
  for (int b = 0; b < B; b++)
    {
      float s = scale != NULL ? scale[b] : 1.0f;
      int64_t base = (int64_t) b * per_sample;
      for (int64_t i = 0; i < per_sample; i++)
        {
          float t = bias != NULL ? branch[base + i] + bias[i % c] : branch[base + i];
          out[base + i] = x[base + i] + (scale != NULL ? t * s : t);
        }
    }
}
