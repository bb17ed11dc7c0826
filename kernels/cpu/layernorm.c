/* layernorm.c: LayerNorm over the last dimension (biased variance, as PyTorch). */
#include "config.h"

#include <math.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

/* below this many elements a thread team costs more than it saves */
#define PAR_MIN 16384

void
vb_layernorm_forward (float *out, float *mean, float *rstd,
                      const float *in, const float *gamma, const float *beta,
                      int64_t n, int c, float eps)
{
#pragma omp parallel for schedule(static) if (n * c > PAR_MIN)
  for (int64_t r = 0; r < n; r++)
    {
      const float *x = in + r * c;
      float *o = out + r * c;
      float s = 0.0f, v = 0.0f, mu, rs;

      /* two passes: the centred sum of squares does not cancel catastrophically */
      for (int j = 0; j < c; j++)
        s += x[j];
      mu = s / c;
      for (int j = 0; j < c; j++)
        {
          float d = x[j] - mu;
          v += d * d;
        }
      rs = 1.0f / sqrtf (v / c + eps);
      for (int j = 0; j < c; j++)
        o[j] = (x[j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
}

/* the reference is the composition itself (the GPU's fused kernel is held to it) */
void
vb_merge_layernorm_forward (float *y, float *out, uint16_t *out16, float *mean, float *rstd,
                            const float *ys, int K, const float *gamma, const float *beta,
                            int64_t n, int c, float eps)
{
  vb_group_sum (y, ys, n, K, c, 0);
  if (out != NULL)
    vb_layernorm_forward (out, mean, rstd, y, gamma, beta, n, c, eps);
  else
    vb_layernorm_forward_bf16 (out16, mean, rstd, y, gamma, beta, n, c, eps);
}

void
vb_layernorm_backward (float *din, int accumulate, float *dgamma, float *dbeta,
                       const float *dout, const float *in,
                       const float *mean, const float *rstd, const float *gamma,
                       int64_t n, int c)
{
  if (din != NULL)
    {
#pragma omp parallel for schedule(static) if (n * c > PAR_MIN)
      for (int64_t r = 0; r < n; r++)
        {
          const float *x = in + r * c, *g = dout + r * c;
          float *d = din + r * c;
          float mu = mean[r], rs = rstd[r];
          float sq = 0.0f, sqx = 0.0f, mq, mqx;

          for (int j = 0; j < c; j++)
            {
              float q = g[j] * gamma[j];
              sq += q;
              sqx += q * (x[j] - mu) * rs;
            }
          mq = sq / c;
          mqx = sqx / c;
          for (int j = 0; j < c; j++)
            {
              float xh = (x[j] - mu) * rs, v = rs * (g[j] * gamma[j] - mq - xh * mqx);
              d[j] = accumulate ? d[j] + v : v;
            }
        }
    }

  if (dbeta != NULL)
    vb_cpu_colsum_acc (dbeta, dout, n, c, c);

  if (dgamma != NULL)
    {
      int64_t n_chunks = vb_cpu_n_chunks (n);
      float *part = calloc ((size_t) n_chunks * c, sizeof (float));
      if (part == NULL)
        return;

#pragma omp parallel for schedule(static) if (n_chunks > 1)
      for (int64_t ch = 0; ch < n_chunks; ch++)
        {
          float *p = part + ch * c;
          int64_t r0 = vb_cpu_chunk_start (n, n_chunks, ch);
          int64_t r1 = vb_cpu_chunk_start (n, n_chunks, ch + 1);
          for (int64_t r = r0; r < r1; r++)
            {
              const float *x = in + r * c, *g = dout + r * c;
              float mu = mean[r], rs = rstd[r];
              for (int j = 0; j < c; j++)
                p[j] += g[j] * ((x[j] - mu) * rs);
            }
        }

      for (int64_t ch = 0; ch < n_chunks; ch++)
        for (int j = 0; j < c; j++)
          dgamma[j] += part[ch * c + j];
      free (part);
    }
}
