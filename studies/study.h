/* study.h: what the standalone studies share (each is one .cu compiled by hand on the GPU
 * machine, from the repository's root): the error check, deterministic pseudo-random fills
 * and a median timer. */
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#define CK(x) do { auto e_ = (x); if ((int) e_ != 0) { fprintf (stderr, "%s:%d %s: %d\n", __FILE__, __LINE__, #x, (int) e_); exit (1); } } while (0)

/* x[i] uniform in [lo, hi) from a hash of (i, seed): the same values every run */
template <typename T>
static __global__ void
study_fill (T *x, size_t n, uint32_t seed, float lo, float hi)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  uint32_t h = (uint32_t) i * 2654435761u ^ seed;
  h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
  x[i] = (T) (lo + (hi - lo) * ((h & 0xFFFFFF) / 16777216.0f));
}

template <typename T>
static void
study_fill_launch (T *x, size_t n, uint32_t seed, float lo, float hi)
{
  study_fill<T><<<(unsigned int) ((n + 255) / 256), 256>>> (x, n, seed, lo, hi);
}

/* the median of `reps` timed calls of f (after 3 untimed), in ms, by CUDA events */
template <typename F>
static float
study_median_ms (F f, int reps = 15)
{
  cudaEvent_t e0, e1;
  CK (cudaEventCreate (&e0));
  CK (cudaEventCreate (&e1));
  for (int i = 0; i < 3; i++)
    f ();
  std::vector<float> t;
  for (int i = 0; i < reps; i++)
    {
      CK (cudaEventRecord (e0));
      f ();
      CK (cudaEventRecord (e1));
      CK (cudaEventSynchronize (e1));
      float ms;
      CK (cudaEventElapsedTime (&ms, e0, e1));
      t.push_back (ms);
    }
  CK (cudaEventDestroy (e0));
  CK (cudaEventDestroy (e1));
  std::sort (t.begin (), t.end ());
  return t[t.size () / 2];
}

static inline double study_widen (float x) { return x; }
static inline double study_widen (__nv_bfloat16 x) { return __bfloat162float (x); }

/* ‖got − want‖ / ‖want‖ over n device values */
template <typename T>
static double
study_rel_l2 (const T *got, const T *want, size_t n)
{
  std::vector<T> x (n), y (n);
  CK (cudaMemcpy (x.data (), got, n * sizeof (T), cudaMemcpyDeviceToHost));
  CK (cudaMemcpy (y.data (), want, n * sizeof (T), cudaMemcpyDeviceToHost));
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    {
      double p = study_widen (x[i]), q = study_widen (y[i]);
      num += (p - q) * (p - q);
      den += q * q;
    }
  return sqrt (num / den);
}
