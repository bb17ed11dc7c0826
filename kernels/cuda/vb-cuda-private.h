/* vb-cuda-private.h: what the .cu files share: the context struct, error recording,
 * launch checks and scratch memory. */
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "vb-cuda.h"
#include "vb-cuda-ops.h"

struct VbCuda
{
  int            device;
  cudaStream_t   stream;
  cublasHandle_t blas;
  void          *scratch;
  size_t         scratch_bytes;
  double        *scalar;          /* 16 bytes of device memory for ops that return a value */
  char           error[256];
  char           describe[320];
};

/* record the first failure; returns 1 when `ok` */
int vb_cuda_check_rt (VbCuda *cu, cudaError_t err, const char *what);
int vb_cuda_check_blas (VbCuda *cu, cublasStatus_t st, const char *what);
/* after a launch: records a launch failure (bad configuration, ...) */
#define VB_CUDA_LAUNCHED(cu, name) vb_cuda_check_rt ((cu), cudaGetLastError (), (name))
/* an op does nothing once the context holds an error */
#define VB_CUDA_GUARD(cu) do { if ((cu)->error[0] != '\0') return; } while (0)

/* scratch valid until the next call (ops on one stream run in order, so reuse is safe);
 * NULL + error on failure */
void *vb_cuda_scratch (VbCuda *cu, size_t bytes);

static inline unsigned int
vb_cuda_blocks (int64_t n, int threads)
{
  int64_t b = (n + threads - 1) / threads;
  return (unsigned int) (b > 1048576 ? 1048576 : (b < 1 ? 1 : b));
}
