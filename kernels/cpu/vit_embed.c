/* vit_embed.c: the ViT embedding step: patches cut out for the patch-embedding product
 * (im2col of a stride = kernel convolution), then the class token and positions. */
#include "config.h"

#include <string.h>

#include "vb-cpu-private.h"
#include "vb-cpu-vit.h"

/* below this many elements a thread team costs more than it saves */
#define PAR_MIN 32768

void
vb_vit_patchify (float *cols, const float *pixels, int C, int S, int P)
{
  int G = S / P;
  int64_t row = (int64_t) C * P * P;

#pragma omp parallel for schedule(static) if ((int64_t) G * G * row > PAR_MIN)
  for (int t = 0; t < G * G; t++)
    {
      int gy = t / G, gx = t % G;
      float *dst = cols + t * row;
      for (int c = 0; c < C; c++)
        for (int ky = 0; ky < P; ky++)
          memcpy (dst + ((int64_t) c * P + ky) * P,
                  pixels + ((int64_t) c * S + gy * P + ky) * S + (int64_t) gx * P,
                  (size_t) P * sizeof (float));
    }
}

void
vb_vit_add_embeddings (float *x, const float *cls, const float *pos, int B, int N, int D)
{
#pragma omp parallel for schedule(static) if ((int64_t) B * N * D > PAR_MIN)
  for (int64_t r = 0; r < (int64_t) B * N; r++)
    {
      int j = (int) (r % N);
      float *xr = x + r * D;
      const float *pj = pos + (int64_t) j * D;
      if (j == 0)
        for (int d = 0; d < D; d++)
          xr[d] = cls[d] + pj[d];
      else
        for (int d = 0; d < D; d++)
          xr[d] += pj[d];
    }
}
