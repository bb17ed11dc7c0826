/* pool.c: global average pool over tokens, (B, L, C) → (B, C). */
#include "config.h"

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

void
vb_avgpool_forward (float *out, const float *in, int B, int L, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t) B * L * C > 32768)
  for (int b = 0; b < B; b++)
    {
      float *o = out + (int64_t) b * C;
      const float *x = in + (int64_t) b * L * C;

      memset (o, 0, (size_t) C * sizeof (float));
      for (int l = 0; l < L; l++)
        for (int c = 0; c < C; c++)
          o[c] += x[(int64_t) l * C + c];
      for (int c = 0; c < C; c++)
        o[c] /= (float) L;
    }
}

void
vb_avgpool_backward (float *din, const float *dout, int B, int L, int C)
{
  float inv = 1.0f / (float) L;

#pragma omp parallel for schedule(static) if ((int64_t) B * L * C > 32768)
  for (int b = 0; b < B; b++)
    for (int l = 0; l < L; l++)
      for (int c = 0; c < C; c++)
        din[((int64_t) b * L + l) * C + c] = dout[(int64_t) b * C + c] * inv;
}
