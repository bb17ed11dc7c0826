/* optim.cu: PyTorch AdamW, the squared norm for gradient clipping (double, fixed order)
 * and the clip scale, with the arithmetic of kernels/cpu/adamw.c. */
#include <math.h>

#include "vb-cuda-private.h"

#define THREADS 256
/* sum of squares: block partials, then one block adds them by a fixed tree. The block
 * count depends on n only, so the order (and the result) repeats bit for bit. */
#define SS_THREADS 256
#define SS_PER_BLOCK (SS_THREADS * 16)
#define SS_MAX_BLOCKS 1024

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

/* one parameter's update (kernels/cpu/adamw.c's arithmetic), decayed or not */
static __device__ __forceinline__ float
adamw_update (float p, float g, float &m, float &v, bool decays, const VbAdamwScalars &sc)
{
  p *= decays ? sc.decay : 1.0f;
  m = m * sc.beta1 + g * sc.one_m_b1;
  v = v * sc.beta2 + sc.one_m_b2 * g * g;
  float denom = sqrtf (v) / sc.bc2_sqrt + sc.eps;
  return p + (-sc.step_size * m) / denom;   /* addcdiv order */
}

static __global__ void
adamw_kernel (float *__restrict__ param, const float *__restrict__ grad, float *__restrict__ m,
              float *__restrict__ v, int64_t n, VbAdamwScalars sc)
{
  GRID_STRIDE (i, n)
    {
      float mi = m[i], vi = v[i];
      param[i] = adamw_update (param[i], grad[i], mi, vi, true, sc);
      m[i] = mi;
      v[i] = vi;
    }
}

/* The fused pass: scalars and the squared norm read from device memory, so a step needs
 * no value from the host between the backward and the update (and can be captured).
 * With vec, four parameters a thread as 16-byte loads (the scalar loads kept the pass at
 * ~75 % of the memory rate), the tail one at a time. */
static __global__ void
adamw_fused_kernel (float *__restrict__ param, const float *__restrict__ grad,
                    float *__restrict__ m, float *__restrict__ v,
                    const uint8_t *__restrict__ decay_mask, int64_t n,
                    const VbAdamwScalars *__restrict__ scp, const double *__restrict__ sumsq,
                    float max_norm, bool vec)
{
  VbAdamwScalars sc = *scp;
  /* vb_clip_factor's arithmetic, in double as on the host */
  float clip = 1.0f;
  if (sumsq != NULL && max_norm > 0)
    {
      double norm = sqrt (*sumsq);
      if (norm > max_norm)
        clip = (float) (max_norm / (norm + 1e-6));
    }
  bool scaled = clip != 1.0f;
  int64_t n4 = vec ? n / 4 : 0;
  GRID_STRIDE (i, n4)
    {
      float4 p = reinterpret_cast<float4 *> (param)[i];
      float4 g = reinterpret_cast<const float4 *> (grad)[i];
      float4 mi = reinterpret_cast<float4 *> (m)[i];
      float4 vi = reinterpret_cast<float4 *> (v)[i];
      uchar4 d = decay_mask != NULL ? reinterpret_cast<const uchar4 *> (decay_mask)[i]
                                    : make_uchar4 (1, 1, 1, 1);
      if (scaled)
        {
          g.x *= clip;
          g.y *= clip;
          g.z *= clip;
          g.w *= clip;
        }
      p.x = adamw_update (p.x, g.x, mi.x, vi.x, d.x, sc);
      p.y = adamw_update (p.y, g.y, mi.y, vi.y, d.y, sc);
      p.z = adamw_update (p.z, g.z, mi.z, vi.z, d.z, sc);
      p.w = adamw_update (p.w, g.w, mi.w, vi.w, d.w, sc);
      reinterpret_cast<float4 *> (m)[i] = mi;
      reinterpret_cast<float4 *> (v)[i] = vi;
      reinterpret_cast<float4 *> (param)[i] = p;
    }
  for (int64_t i = n4 * 4 + blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      float g = scaled ? grad[i] * clip : grad[i], mi = m[i], vi = v[i];
      param[i] = adamw_update (param[i], g, mi, vi, decay_mask == NULL || decay_mask[i], sc);
      m[i] = mi;
      v[i] = vi;
    }
}

/* sh[0] = Σ sh[0..threads) by a fixed tree; threads a power of two */
static __device__ double
tree_sum (double v, double *sh, int threads)
{
  sh[threadIdx.x] = v;
  __syncthreads ();
  for (int s = threads / 2; s > 0; s >>= 1)
    {
      if ((int) threadIdx.x < s)
        sh[threadIdx.x] += sh[threadIdx.x + s];
      __syncthreads ();
    }
  return sh[0];
}

static __global__ void
sum_squares_partials_kernel (double *__restrict__ part, const float *__restrict__ x, int64_t n)
{
  __shared__ double sh[SS_THREADS];
  double s = 0.0;
  GRID_STRIDE (i, n)
    s += (double) x[i] * x[i];
  s = tree_sum (s, sh, SS_THREADS);
  if (threadIdx.x == 0)
    part[blockIdx.x] = s;
}

/* one block of SS_MAX_BLOCKS threads */
static __global__ void
sum_squares_final_kernel (double *out, const double *part, int n_parts)
{
  __shared__ double sh[SS_MAX_BLOCKS];
  double s = (int) threadIdx.x < n_parts ? part[threadIdx.x] : 0.0;
  s = tree_sum (s, sh, SS_MAX_BLOCKS);
  if (threadIdx.x == 0)
    *out = s;
}

static __global__ void
scale_kernel (float *x, float s, int64_t n)
{
  GRID_STRIDE (i, n)
    x[i] *= s;
}

extern "C" void
vb_cuda_adamw_step (VbCuda *cu, float *param, const float *grad, float *m, float *v,
                    int64_t n, float lr, float beta1, float beta2, float eps,
                    float weight_decay, int64_t step)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  /* scalars as the CPU op (and PyTorch) computes them: in double, rounded when applied */
  VbAdamwScalars sc;
  vb_adamw_scalars (&sc, lr, beta1, beta2, eps, weight_decay, step);
  adamw_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (param, grad, m, v, n,
                                                                         sc);
  VB_CUDA_LAUNCHED (cu, "adamw step");
}

extern "C" void
vb_cuda_adamw_fused (VbCuda *cu, float *param, const float *grad, float *m, float *v,
                     const uint8_t *decay_mask, int64_t n, const VbAdamwScalars *sc,
                     const double *sumsq, float max_norm)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  bool vec = ((uintptr_t) param | (uintptr_t) grad | (uintptr_t) m | (uintptr_t) v) % 16 == 0
             && (uintptr_t) decay_mask % 4 == 0;
  adamw_fused_kernel<<<vb_cuda_blocks (vec ? n / 4 + 1 : n, THREADS), THREADS, 0,
                       cu->stream>>> (param, grad, m, v, decay_mask, n, sc, sumsq, max_norm,
                                      vec);
  VB_CUDA_LAUNCHED (cu, "adamw step");
}

extern "C" void
vb_cuda_sum_squares (VbCuda *cu, double *out, const float *x, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    {
      /* the empty sum, as the CPU op returns */
      vb_cuda_memset (cu, out, 0, sizeof (double));
      return;
    }
  int64_t blocks = (n + SS_PER_BLOCK - 1) / SS_PER_BLOCK;
  if (blocks > SS_MAX_BLOCKS)
    blocks = SS_MAX_BLOCKS;
  double *part = (double *) vb_cuda_scratch (cu, (size_t) blocks * sizeof (double));
  if (part == NULL)
    return;
  sum_squares_partials_kernel<<<(unsigned int) blocks, SS_THREADS, 0, cu->stream>>> (part, x, n);
  if (!VB_CUDA_LAUNCHED (cu, "sum of squares (partials)"))
    return;
  sum_squares_final_kernel<<<1, SS_MAX_BLOCKS, 0, cu->stream>>> (out, part, (int) blocks);
  VB_CUDA_LAUNCHED (cu, "sum of squares");
}

extern "C" void
vb_cuda_scale (VbCuda *cu, float *x, float s, int64_t n)
{
  VB_CUDA_GUARD (cu);
  if (n <= 0)
    return;
  scale_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (x, s, n);
  VB_CUDA_LAUNCHED (cu, "scale");
}
