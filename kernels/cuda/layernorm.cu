/* layernorm.cu: LayerNorm over the last dimension, fp32, the arithmetic of
 * kernels/cpu/layernorm.c.
 *
 * Forward and the input gradient: one warp per row, lanes striding the channels
 * (coalesced), two-pass statistics reduced by xor shuffles (every lane ends with the same
 * bits). dγ/dβ: blocks of 32 channels × 8 row lanes sum fixed row chunks into partials,
 * then a second kernel adds the chunks in a fixed order: no atomics, bit-identical runs. */
#include "vb-cuda-private.h"

#define THREADS 256
#define WARPS (THREADS / 32)
/* row chunks for the parameter-gradient partials: depend on n only (determinism) */
#define ROWS_PER_CHUNK 64
#define MAX_CHUNKS 1024
/* partial blocks: 32 channels (one warp, coalesced) × LANES rows */
#define LANES 8

static __device__ __forceinline__ float
warp_sum (float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

static __global__ void
ln_fwd_kernel (float *out, float *mean, float *rstd, const float *in, const float *gamma,
               const float *beta, int64_t n, int c, float eps)
{
  int lane = threadIdx.x & 31;
  int64_t stride = (int64_t) gridDim.x * WARPS;

  /* r is uniform across the warp, so the shuffles see all 32 lanes */
  for (int64_t r = (int64_t) blockIdx.x * WARPS + threadIdx.x / 32; r < n; r += stride)
    {
      const float *x = in + r * c;
      float *o = out + r * c;
      float s = 0.0f, v = 0.0f, mu, rs;

      for (int j = lane; j < c; j += 32)
        s += x[j];
      mu = warp_sum (s) / c;
      /* two passes: the centred sum of squares does not cancel catastrophically */
      for (int j = lane; j < c; j += 32)
        {
          float d = x[j] - mu;
          v += d * d;
        }
      rs = 1.0f / sqrtf (warp_sum (v) / c + eps);
      for (int j = lane; j < c; j += 32)
        o[j] = (x[j] - mu) * rs * gamma[j] + beta[j];
      if (lane == 0)
        {
          mean[r] = mu;
          rstd[r] = rs;
        }
    }
}

static __global__ void
ln_bwd_din_kernel (float *din, const float *dout, const float *in, const float *mean,
                   const float *rstd, const float *gamma, int64_t n, int c)
{
  int lane = threadIdx.x & 31;
  int64_t stride = (int64_t) gridDim.x * WARPS;

  for (int64_t r = (int64_t) blockIdx.x * WARPS + threadIdx.x / 32; r < n; r += stride)
    {
      const float *x = in + r * c, *g = dout + r * c;
      float *d = din + r * c;
      float mu = mean[r], rs = rstd[r];
      float sq = 0.0f, sqx = 0.0f, mq, mqx;

      for (int j = lane; j < c; j += 32)
        {
          float q = g[j] * gamma[j];
          sq += q;
          sqx += q * (x[j] - mu) * rs;
        }
      mq = warp_sum (sq) / c;
      mqx = warp_sum (sqx) / c;
      for (int j = lane; j < c; j += 32)
        {
          float xh = (x[j] - mu) * rs;
          d[j] = rs * (g[j] * gamma[j] - mq - xh * mqx);
        }
    }
}

/* part_g[ch, j] = Σ_{r in chunk ch} dout[r, j]·x̂[r, j], part_b[ch, j] = Σ dout[r, j];
 * grid (⌈c/32⌉, n_chunks), block (32, LANES) */
static __global__ void
ln_bwd_partials_kernel (float *part_g, float *part_b, const float *dout, const float *in,
                        const float *mean, const float *rstd, int64_t n, int c,
                        int64_t n_chunks)
{
  __shared__ float sg[LANES][32], sb[LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int j = blockIdx.x * 32 + tx;
  int64_t ch = blockIdx.y;
  int64_t r0 = n * ch / n_chunks, r1 = n * (ch + 1) / n_chunks;
  float dg = 0.0f, db = 0.0f;

  if (j < c)
    for (int64_t r = r0 + ty; r < r1; r += LANES)
      {
        float g = dout[r * c + j];
        dg += g * ((in[r * c + j] - mean[r]) * rstd[r]);
        db += g;
      }
  sg[ty][tx] = dg;
  sb[ty][tx] = db;
  __syncthreads ();
  if (ty == 0 && j < c)
    {
      float a = 0.0f, b = 0.0f;
      for (int k = 0; k < LANES; k++)
        {
          a += sg[k][tx];
          b += sb[k][tx];
        }
      part_g[ch * c + j] = a;
      part_b[ch * c + j] = b;
    }
}

/* dst[j] += Σ_ch part[ch, j] in a fixed order: lane ty sums chunks ty, ty + LANES, ...,
 * then the lanes are added in order. grid ⌈c/32⌉, block (32, LANES) */
static __global__ void
ln_bwd_final_kernel (float *dgamma, float *dbeta, const float *part_g, const float *part_b,
                     int c, int64_t n_chunks)
{
  __shared__ float sg[LANES][32], sb[LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int j = blockIdx.x * 32 + tx;
  float a = 0.0f, b = 0.0f;

  if (j < c)
    for (int64_t ch = ty; ch < n_chunks; ch += LANES)
      {
        a += part_g[ch * c + j];
        b += part_b[ch * c + j];
      }
  sg[ty][tx] = a;
  sb[ty][tx] = b;
  __syncthreads ();
  if (ty == 0 && j < c)
    {
      a = 0.0f;
      b = 0.0f;
      for (int k = 0; k < LANES; k++)
        {
          a += sg[k][tx];
          b += sb[k][tx];
        }
      if (dgamma != NULL)
        dgamma[j] += a;
      if (dbeta != NULL)
        dbeta[j] += b;
    }
}

static unsigned int
row_blocks (int64_t n)
{
  int64_t b = (n + WARPS - 1) / WARPS;
  return (unsigned int) (b > 65536 ? 65536 : b);
}

extern "C" void
vb_cuda_layernorm_forward (VbCuda *cu, float *out, float *mean, float *rstd,
                           const float *in, const float *gamma, const float *beta,
                           int64_t n, int c, float eps)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0)
    return;
  ln_fwd_kernel<<<row_blocks (n), THREADS, 0, cu->stream>>> (out, mean, rstd, in, gamma,
                                                             beta, n, c, eps);
  VB_CUDA_LAUNCHED (cu, "layernorm forward");
}

extern "C" void
vb_cuda_layernorm_backward (VbCuda *cu, float *din, float *dgamma, float *dbeta,
                            const float *dout, const float *in,
                            const float *mean, const float *rstd, const float *gamma,
                            int64_t n, int c)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0 || c <= 0)
    return;

  if (din != NULL)
    {
      ln_bwd_din_kernel<<<row_blocks (n), THREADS, 0, cu->stream>>> (din, dout, in, mean,
                                                                     rstd, gamma, n, c);
      if (!VB_CUDA_LAUNCHED (cu, "layernorm backward (din)"))
        return;
    }

  if (dgamma != NULL || dbeta != NULL)
    {
      int64_t n_chunks = (n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
      if (n_chunks > MAX_CHUNKS)
        n_chunks = MAX_CHUNKS;
      float *part = (float *) vb_cuda_scratch (cu, (size_t) (2 * n_chunks * c) * sizeof (float));
      if (part == NULL)
        return;
      unsigned int cblocks = (unsigned int) ((c + 31) / 32);
      dim3 block (32, LANES);

      ln_bwd_partials_kernel<<<dim3 (cblocks, (unsigned int) n_chunks), block, 0, cu->stream>>> (
          part, part + n_chunks * c, dout, in, mean, rstd, n, c, n_chunks);
      if (!VB_CUDA_LAUNCHED (cu, "layernorm backward (partials)"))
        return;
      ln_bwd_final_kernel<<<cblocks, block, 0, cu->stream>>> (dgamma, dbeta, part,
                                                              part + n_chunks * c, c, n_chunks);
      VB_CUDA_LAUNCHED (cu, "layernorm backward (dgamma, dbeta)");
    }
}
