/* elementwise.cu: GELU (exact erf form), SiLU, the residual add and drop path, fp32.
 * One grid-stride thread per element; no __restrict__, since the forward ops may run in
 * place (out == in, out == a or b) and every thread reads its element before writing it. */
#include "vb-cuda-private.h"

#define THREADS 256

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

/* the formulas of kernels/cpu/activations.c, in the same order */
static __global__ void
gelu_fwd_kernel (float *out, const float *in, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      float x = in[i];
      out[i] = 0.5f * x * (1.0f + erff (x * 0.70710678118654752f));
    }
}

/* GELU'(x) = Φ(x) + x·φ(x) */
static __global__ void
gelu_bwd_kernel (float *din, const float *dout, const float *in, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      float x = in[i];
      float cdf = 0.5f * (1.0f + erff (x * 0.70710678118654752f));
      float pdf = 0.3989422804014327f * expf (-0.5f * x * x);
      din[i] = dout[i] * (cdf + x * pdf);
    }
}

static __global__ void
silu_fwd_kernel (float *out, const float *in, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      float x = in[i];
      out[i] = x / (1.0f + expf (-x));
    }
}

/* SiLU'(x) = s·(1 + x·(1 − s)), s = σ(x) */
static __global__ void
silu_bwd_kernel (float *din, const float *dout, const float *in, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      float x = in[i];
      float s = 1.0f / (1.0f + expf (-x));
      din[i] = dout[i] * s * (1.0f + x * (1.0f - s));
    }
}

static __global__ void
add_kernel (float *out, const float *a, const float *b, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = a[i] + b[i];
}

/* one grid row (y) per sample, so the sample's factor needs no division per element */
static __global__ void
scale_rows_kernel (float *out, const float *in, const float *scale, int B, int64_t per_sample)
{
  for (int b = blockIdx.y; b < B; b += gridDim.y)
    {
      float s = scale[b];
      float *o = out + (int64_t) b * per_sample;
      const float *x = in + (int64_t) b * per_sample;
      GRID_STRIDE (i, per_sample)
        o[i] = x[i] * s;
    }
}

extern "C" void
vb_cuda_gelu_forward (VbCuda *cu, float *out, const float *in, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  gelu_fwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, n);
  VB_CUDA_LAUNCHED (cu, "gelu forward");
}

extern "C" void
vb_cuda_gelu_backward (VbCuda *cu, float *din, const float *dout, const float *in, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  gelu_bwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (din, dout, in, n);
  VB_CUDA_LAUNCHED (cu, "gelu backward");
}

extern "C" void
vb_cuda_silu_forward (VbCuda *cu, float *out, const float *in, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  silu_fwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, n);
  VB_CUDA_LAUNCHED (cu, "silu forward");
}

extern "C" void
vb_cuda_silu_backward (VbCuda *cu, float *din, const float *dout, const float *in, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  silu_bwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (din, dout, in, n);
  VB_CUDA_LAUNCHED (cu, "silu backward");
}

extern "C" void
vb_cuda_add (VbCuda *cu, float *out, const float *a, const float *b, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  add_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, a, b, n);
  VB_CUDA_LAUNCHED (cu, "add");
}

static void
scale_rows (VbCuda *cu, float *out, const float *in, const float *scale, int B,
            int64_t per_sample, const char *what)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || per_sample <= 0)
    return;
  /* ~4 waves of blocks in total whatever B is; gridDim.y is capped at 65535 */
  unsigned int by = (unsigned int) (B < 65535 ? B : 65535);
  unsigned int bx = vb_cuda_blocks (per_sample, THREADS);
  unsigned int cap = (unsigned int) (4096 / by > 0 ? 4096 / by : 1);
  dim3 grid (bx < cap ? bx : cap, by);
  scale_rows_kernel<<<grid, THREADS, 0, cu->stream>>> (out, in, scale, B, per_sample);
  VB_CUDA_LAUNCHED (cu, what);
}

extern "C" void
vb_cuda_drop_path_forward (VbCuda *cu, float *out, const float *in, const float *scale,
                           int B, int64_t per_sample)
{
  scale_rows (cu, out, in, scale, B, per_sample, "drop path forward");
}

extern "C" void
vb_cuda_drop_path_backward (VbCuda *cu, float *din, const float *dout, const float *scale,
                            int B, int64_t per_sample)
{
  scale_rows (cu, din, dout, scale, B, per_sample, "drop path backward");
}
