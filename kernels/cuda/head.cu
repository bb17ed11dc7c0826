/* head.cu: global average pool and softmax cross-entropy with label smoothing, fp32
 * storage, with the arithmetic of kernels/cpu/pool.c and kernels/cpu/softmax_xent.c.
 *
 * The loss follows the CPU in double: one block per image reduces by a fixed tree, the
 * per-image losses go to scratch, and one thread adds them in image order, so the loss
 * repeats bit for bit. */
#include "vb-cuda-private.h"

#define THREADS 256
#define XENT_THREADS 256

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

/* one thread per (b, c), tokens summed in order as on the CPU (bit-identical) */
static __global__ void
avgpool_fwd_kernel (float *__restrict__ out, const float *__restrict__ in, int L, int C,
                    int64_t n)
{
  GRID_STRIDE (i, n)
    {
      int64_t b = i / C;
      int c = (int) (i % C);
      const float *x = in + b * L * C + c;
      float s = 0.0f;
      for (int l = 0; l < L; l++)
        s += x[(int64_t) l * C];
      out[i] = s / (float) L;
    }
}

static __global__ void
avgpool_bwd_kernel (float *__restrict__ din, const float *__restrict__ dout, int L, int C,
                    float inv, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      int64_t b = i / ((int64_t) L * C);
      din[i] = dout[b * C + i % C] * inv;
    }
}

/* block-wide fixed-tree reduction (sum or max); every thread gets the result */
template <bool MAX>
static __device__ double
block_reduce (double v, double *sh)
{
  sh[threadIdx.x] = v;
  __syncthreads ();
  for (int s = XENT_THREADS / 2; s > 0; s >>= 1)
    {
      if (threadIdx.x < s)
        sh[threadIdx.x] = MAX ? fmax (sh[threadIdx.x], sh[threadIdx.x + s])
                              : sh[threadIdx.x] + sh[threadIdx.x + s];
      __syncthreads ();
    }
  v = sh[0];
  __syncthreads ();   /* sh is reused by the next reduction */
  return v;
}

/* one block per image: probs and the image's loss (double) */
static __global__ void
xent_fwd_kernel (float *__restrict__ probs, double *__restrict__ row_loss,
                 const float *__restrict__ logits, const int *__restrict__ labels, int classes,
                 float smoothing)
{
  __shared__ double sh[XENT_THREADS];
  int64_t b = blockIdx.x;
  const float *x = logits + b * classes;
  float *p = probs + b * classes;
  double mx = -INFINITY, sum = 0.0, sum_logp = 0.0, log_z;

  for (int j = threadIdx.x; j < classes; j += XENT_THREADS)
    mx = fmax (mx, (double) x[j]);
  mx = block_reduce<true> (mx, sh);
  for (int j = threadIdx.x; j < classes; j += XENT_THREADS)
    sum += exp ((double) x[j] - mx);
  log_z = log (block_reduce<false> (sum, sh));
  for (int j = threadIdx.x; j < classes; j += XENT_THREADS)
    {
      double lp = (double) x[j] - mx - log_z;
      p[j] = (float) exp (lp);
      sum_logp += lp;
    }
  sum_logp = block_reduce<false> (sum_logp, sh);
  if (threadIdx.x == 0)
    /* smoothing / classes is a float division in the CPU code too */
    row_loss[b] = -(1.0 - smoothing) * ((double) x[labels[b]] - mx - log_z)
                  - (double) (smoothing / (float) classes) * sum_logp;
}

/* the batch mean, images added in order by one thread */
static __global__ void
xent_mean_kernel (float *loss, const double *row_loss, int B)
{
  double total = 0.0;
  for (int b = 0; b < B; b++)
    total += row_loss[b];
  *loss = (float) (total / B);
}

static __global__ void
xent_bwd_kernel (float *__restrict__ dlogits, const float *__restrict__ probs,
                 const int *__restrict__ labels, int classes, float smoothing, float off,
                 float scale, int64_t n)
{
  GRID_STRIDE (i, n)
    {
      int64_t b = i / classes;
      int j = (int) (i % classes);
      float target = off + (j == labels[b] ? 1.0f - smoothing : 0.0f);
      dlogits[i] = (probs[i] - target) * scale;
    }
}

extern "C" void
vb_cuda_avgpool_forward (VbCuda *cu, float *out, const float *in, int B, int L, int C)
{
  int64_t n = (int64_t) B * C;
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || C <= 0)
    return;
  avgpool_fwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, L, C, n);
  VB_CUDA_LAUNCHED (cu, "avgpool forward");
}

extern "C" void
vb_cuda_avgpool_backward (VbCuda *cu, float *din, const float *dout, int B, int L, int C)
{
  int64_t n = (int64_t) B * L * C;
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || C <= 0)
    return;
  avgpool_bwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
      din, dout, L, C, 1.0f / (float) L, n);
  VB_CUDA_LAUNCHED (cu, "avgpool backward");
}

extern "C" void
vb_cuda_softmax_xent_forward (VbCuda *cu, float *probs, float *loss, const float *logits,
                              const int *labels, int B, int classes, float smoothing)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || classes <= 0)
    {
      /* the CPU op returns 0 here */
      vb_cuda_memset (cu, loss, 0, sizeof (float));
      return;
    }
  double *row_loss = (double *) vb_cuda_scratch (cu, (size_t) B * sizeof (double));
  if (row_loss == NULL)
    return;
  xent_fwd_kernel<<<(unsigned int) B, XENT_THREADS, 0, cu->stream>>> (probs, row_loss, logits,
                                                                      labels, classes,
                                                                      smoothing);
  if (!VB_CUDA_LAUNCHED (cu, "softmax cross-entropy forward"))
    return;
  xent_mean_kernel<<<1, 1, 0, cu->stream>>> (loss, row_loss, B);
  VB_CUDA_LAUNCHED (cu, "softmax cross-entropy forward (mean)");
}

extern "C" void
vb_cuda_softmax_xent_backward (VbCuda *cu, float *dlogits, const float *probs,
                               const int *labels, int B, int classes, float smoothing,
                               float dloss)
{
  int64_t n = (int64_t) B * classes;
  VB_CUDA_GUARD (cu);
  if (B <= 0 || classes <= 0)
    return;
  /* the scalars exactly as the CPU computes them */
  float scale = dloss / (float) B;
  float off = smoothing / (float) classes;
  xent_bwd_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
      dlogits, probs, labels, classes, smoothing, off, scale, n);
  VB_CUDA_LAUNCHED (cu, "softmax cross-entropy backward");
}
