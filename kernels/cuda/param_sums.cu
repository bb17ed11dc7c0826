/* param_sums.cu: the last sum of a parameter gradient, done at once or queued.
 *
 * The backward's parameter gradients that are reductions over the batch's rows (LayerNorm's
 * dγ and dβ, the biases' column sums, the depthwise conv's weight, the scan's dA, dD and
 * dbias, the weight-gradient slices of wgrad.cu) are summed in two passes without atomics:
 * the op's own kernel leaves per-chunk partials, and a last pass adds the chunks in a fixed
 * order. At 64 px that last pass was a launch of a few µs, ~105 times a step. Between
 * vb_cuda_param_sums_defer and vb_cuda_param_sums_flush the partials go into an arena of
 * their own and the last passes are queued, then run as a few launches of one kernel: each
 * block finishes up to 1024 columns of one queued sum. Done at once or queued, a sum is the
 * same kernel adding the same values in the same order: the same bits. */
#include <stdlib.h>

#include "vb-cuda-private.h"

/* what a block sees: up to PARAM_SUM_JOBS sums a launch (their table is the kernel's
 * parameter, under the 4 KiB every CUDA version takes) */
#define PARAM_SUM_JOBS 72
#define PARAM_SUM_THREADS 1024
/* partials larger than this are summed at once (their launch is small beside them) */
#define PARAM_SUM_MAX_DEFER ((size_t) 16 << 20)
/* the arena grows to a step's partials up to this, then flushes when full */
#define PARAM_SUM_ARENA_CAP ((size_t) 1 << 30)

typedef struct
{
  float *out;
  const float *part;
  int64_t ld;
  int cols, chunks, lanes;
  VbParamMap map;
} ParamSum;

typedef struct
{
  ParamSum job[PARAM_SUM_JOBS];
  int first_block[PARAM_SUM_JOBS + 1];
  int n;
} ParamSums;

struct VbParamSums
{
  bool deferring;
  /* false with VB_PARAM_ARENA_NO_GROW=1 (for A/B): grown only to fit one partial */
  bool grow_on_overflow;
  char *arena;
  size_t arena_bytes, used;
  ParamSums queue;
};

/* Chunk lanes a column: one thread adds up to 16 chunks in turn; more chunks are spread
 * over up to 32 lanes (LayerNorm's 1024 chunks: 32 loads a thread), whose sums are then
 * added in lane order. A block holds PARAM_SUM_THREADS / lanes columns: the weight
 * gradients' 16 slices of up to 590k columns take one load a column a thread in a
 * 32 × 32 block, and 3.4 ms a step went to their waves. */
static int
lanes_for (int chunks)
{
  int lanes = 1;
  while (lanes < 32 && lanes * 16 < chunks)
    lanes *= 2;
  return lanes;
}

/* job j's columns k: lane y adds chunks y, y + lanes, …; then the lanes in order */
static __global__ void __launch_bounds__ (PARAM_SUM_THREADS)
param_sums_kernel (const __grid_constant__ ParamSums s)
{
  __shared__ float red[PARAM_SUM_THREADS];
  /* the block's job: the last j with first_block[j] ≤ blockIdx.x, by bisection (a walk
   * from job 0, one dependent parameter read a job, cost the last jobs' blocks microseconds:
   * a VMamba-T step's weight slices are thousands of blocks) */
  int j = 0, hi = s.n - 1;
  while (j < hi)
    {
      int mid = (j + hi + 1) / 2;
      if ((int) blockIdx.x >= s.first_block[mid])
        j = mid;
      else
        hi = mid - 1;
    }
  const ParamSum &g = s.job[j];
  int lanes = g.lanes, width = PARAM_SUM_THREADS / lanes;
  int x = threadIdx.x % width, y = threadIdx.x / width;
  int k = ((int) blockIdx.x - s.first_block[j]) * width + x;
  float a = 0.0f;
  if (k < g.cols)
    {
      int gk = g.map.g;   /* 1 for most sums: no division */
      const float *col = g.part + (gk == 1 ? (int64_t) k * g.map.gs
                                           : (int64_t) (k / gk) * g.map.gs + k % gk);
#pragma unroll 8
      for (int ch = y; ch < g.chunks; ch += lanes)
        a += col[(int64_t) ch * g.ld];
    }
  if (lanes > 1)   /* the same for the whole block */
    {
      red[threadIdx.x] = a;
      __syncthreads ();
      if (y != 0 || k >= g.cols)
        return;
      a = 0.0f;
      for (int l = 0; l < lanes; l++)
        a += red[l * width + x];
    }
  else if (k >= g.cols)
    return;
  int tc = g.map.tc;
  g.out[tc > 0 ? k % tc * (g.cols / tc) + k / tc : k] += a;
}

static void
launch (VbCuda *cu, ParamSums *q)
{
  if (q->n > 0 && cu->error[0] == '\0')
    {
      param_sums_kernel<<<(unsigned int) q->first_block[q->n], PARAM_SUM_THREADS, 0,
                          cu->stream>>> (*q);
      VB_CUDA_LAUNCHED (cu, "parameter gradient sums");
    }
  q->n = 0;
  q->first_block[0] = 0;
}

static void
push (VbCuda *cu, ParamSums *q, const ParamSum *job)
{
  if (q->n == PARAM_SUM_JOBS)
    launch (cu, q);
  q->job[q->n] = *job;
  int width = PARAM_SUM_THREADS / job->lanes;
  q->first_block[q->n + 1] = q->first_block[q->n] + (job->cols + width - 1) / width;
  q->n++;
}

static bool
in_arena (const struct VbParamSums *p, const float *part)
{
  return p != NULL && p->arena != NULL && (const char *) part >= p->arena
         && (const char *) part < p->arena + p->arena_bytes;
}

void
vb_cuda_param_sum_map (VbCuda *cu, float *out, const float *part, int64_t ld, int cols,
                       int chunks, VbParamMap map)
{
  VB_CUDA_GUARD (cu);
  if (cols <= 0 || out == NULL)
    return;
  ParamSum job = { out, part, ld, cols, chunks, lanes_for (chunks), map };
  struct VbParamSums *p = cu->param_sums;
  if (p != NULL && p->deferring && in_arena (p, part))
    {
      push (cu, &p->queue, &job);
      return;
    }
  ParamSums now;
  now.n = 0;
  now.first_block[0] = 0;
  push (cu, &now, &job);
  launch (cu, &now);
}

void
vb_cuda_param_sum (VbCuda *cu, float *out, const float *part, int64_t ld, int cols, int chunks)
{
  const VbParamMap plain = { 1, 1, 0 };
  vb_cuda_param_sum_map (cu, out, part, ld, cols, chunks, plain);
}

/* the queued sums run, the arena is free again */
static void
flush (VbCuda *cu, struct VbParamSums *p)
{
  launch (cu, &p->queue);
  p->used = 0;
}

float *
vb_cuda_param_partials_queued (VbCuda *cu, size_t floats)
{
  size_t bytes = (floats * sizeof (float) + 255) & ~(size_t) 255;
  struct VbParamSums *p = cu->param_sums;
  if (cu->error[0] != '\0' || p == NULL || !p->deferring || bytes > PARAM_SUM_MAX_DEFER)
    return NULL;
  if (p->used + bytes > p->arena_bytes)
    {
      /* full: what is queued runs now, and while the step runs op by op (not recorded
       * into a graph) the arena grows to twice what was queued with this partial, so that
       * the next steps, recorded or not, queue their sums whole instead of flushing each
       * time it fills (~20 launches a VMamba-T step at 64 px where a whole step takes 4) */
      size_t wanted = 2 * (p->used + bytes);
      if (wanted > PARAM_SUM_ARENA_CAP)
        wanted = PARAM_SUM_ARENA_CAP;
      flush (cu, p);
      cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
      cudaStreamIsCapturing (cu->stream, &capturing);
      bool recorded = capturing != cudaStreamCaptureStatusNone;
      /* a recorded step may not allocate: it sums as it goes where one partial does not
       * fit (the step recorded after a step run op by op, which sized the arena, never
       * does) */
      if (bytes > p->arena_bytes && recorded)
        return NULL;
      bool grow = bytes > p->arena_bytes || (p->grow_on_overflow && wanted > p->arena_bytes);
      if (!recorded && grow)
        {
          cudaStreamSynchronize (cu->stream);   /* the flushed sums read the old arena */
          cudaFree (p->arena);
          p->arena = NULL;
          p->arena_bytes = 0;
          if (!vb_cuda_check_rt (cu, cudaMalloc ((void **) &p->arena, wanted),
                                 "parameter partials cudaMalloc"))
            return NULL;
          p->arena_bytes = wanted;
        }
    }
  float *room = (float *) (p->arena + p->used);
  p->used += bytes;
  return room;
}

float *
vb_cuda_param_partials (VbCuda *cu, size_t floats)
{
  float *room = vb_cuda_param_partials_queued (cu, floats);
  return room != NULL ? room : (float *) vb_cuda_scratch (cu, floats * sizeof (float));
}

extern "C" void
vb_cuda_param_sums_defer (VbCuda *cu)
{
  if (cu->param_sums == NULL)
    {
      cu->param_sums = (struct VbParamSums *) calloc (1, sizeof (struct VbParamSums));
      if (cu->param_sums == NULL)
        return;
      cu->param_sums->grow_on_overflow = getenv ("VB_PARAM_ARENA_NO_GROW") == NULL;
    }
  cu->param_sums->deferring = true;
}

extern "C" void
vb_cuda_param_sums_flush (VbCuda *cu)
{
  struct VbParamSums *p = cu->param_sums;
  if (p == NULL)
    return;
  flush (cu, p);
  p->deferring = false;
}

void
vb_cuda_param_sums_free (struct VbParamSums *p)
{
  if (p == NULL)
    return;
  cudaFree (p->arena);
  free (p);
}
