/* runtime.cu: the context (device, stream, cuBLAS handle, scratch), error recording and
 * memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vb-cuda-private.h"

/* cuBLAS's workspace, set once (its recommendation for Hopper) */

static const char *
blas_status_name (cublasStatus_t st)
{
  switch (st)
    {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:    return "out of memory";
    case CUBLAS_STATUS_INVALID_VALUE:   return "invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH:   return "architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED:return "execution failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:   return "not supported";
    default:                            return "error";
    }
}

int
vb_cuda_check_rt (VbCuda *cu, cudaError_t err, const char *what)
{
  if (err == cudaSuccess)
    return 1;
  if (cu->error[0] == '\0')
    snprintf (cu->error, sizeof cu->error, "CUDA error in %s: %s", what,
              cudaGetErrorString (err));
  return 0;
}

int
vb_cuda_check_blas (VbCuda *cu, cublasStatus_t st, const char *what)
{
  if (st == CUBLAS_STATUS_SUCCESS)
    return 1;
  if (cu->error[0] == '\0')
    snprintf (cu->error, sizeof cu->error, "cuBLAS error in %s: %s (%d)", what,
              blas_status_name (st), (int) st);
  return 0;
}

extern "C" VbCuda *
vb_cuda_open (int device, char *why, size_t why_len)
{
  int count = 0;
  cudaError_t err = cudaGetDeviceCount (&count);
  char reason[200] = "";

  if (err != cudaSuccess || count == 0)
    snprintf (reason, sizeof reason, "no CUDA device (cudaGetDeviceCount: %s)",
              err != cudaSuccess ? cudaGetErrorString (err) : "0 devices");
  else if (device < 0 || device >= count)
    snprintf (reason, sizeof reason, "no CUDA device %d (this machine has %d)", device, count);
  if (reason[0] != '\0')
    {
      if (why != NULL && why_len > 0)
        snprintf (why, why_len, "%s", reason);
      return NULL;
    }

  VbCuda *cu = (VbCuda *) calloc (1, sizeof (VbCuda));
  cudaDeviceProp prop;
  cu->device = device;
  /* opening another GPU's context leaves the calling thread on the device it was on */
  int previous = 0;
  cudaGetDevice (&previous);
  struct Restore
  {
    int device;
    ~Restore () { cudaSetDevice (device); }
  } restore = { previous };
  if (vb_cuda_check_rt (cu, cudaSetDevice (device), "cudaSetDevice")
      && vb_cuda_check_rt (cu, cudaGetDeviceProperties (&prop, device), "cudaGetDeviceProperties")
      && vb_cuda_check_rt (cu, cudaStreamCreateWithFlags (&cu->stream, cudaStreamNonBlocking),
                           "cudaStreamCreate")
      && vb_cuda_check_blas (cu, cublasCreate (&cu->blas), "cublasCreate")
      && vb_cuda_check_blas (cu, cublasSetStream (cu->blas, cu->stream), "cublasSetStream")
      /* plain fp32 products: TF32 would break fp32 parity with the CPU */
      && vb_cuda_check_blas (cu, cublasSetMathMode (cu->blas, CUBLAS_PEDANTIC_MATH),
                             "cublasSetMathMode")
      && vb_cuda_check_rt (cu, cudaMalloc ((void **) &cu->scalar, 16), "cudaMalloc")
      && vb_cuda_check_rt (cu, cudaMalloc (&cu->blas_workspace, VB_CUDA_BLAS_WORKSPACE), "cudaMalloc")
      && vb_cuda_check_blas (cu, cublasSetWorkspace (cu->blas, cu->blas_workspace,
                                                     VB_CUDA_BLAS_WORKSPACE), "cublasSetWorkspace"))
    {
      snprintf (cu->describe, sizeof cu->describe, "%s (sm_%d%d, %.1f GiB)", prop.name,
                prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0);
      cu->cc_major = prop.major, cu->cc_minor = prop.minor;
      cu->sms = prop.multiProcessorCount;
      const char *off = getenv ("VB_NO_SM90");   /* A/B runs, the fallbacks' tests */
      cu->sm90_off = off != NULL && off[0] != '\0' && strcmp (off, "0") != 0;
      const char *no_ring = getenv ("VB_SCAN_NO_RING");
      cu->scan_ring_off = no_ring != NULL && no_ring[0] != '\0' && strcmp (no_ring, "0") != 0;
      return cu;
    }
  if (why != NULL && why_len > 0)
    snprintf (why, why_len, "%s", cu->error);
  vb_cuda_close (cu);
  return NULL;
}

extern "C" void
vb_cuda_close (VbCuda *cu)
{
  if (cu == NULL)
    return;
  if (cu->stream != NULL)
    cudaStreamSynchronize (cu->stream);
  cudaFree (cu->scratch);
  cudaFree (cu->stage);
  cudaFree (cu->scalar);
  vb_cuda_lt_plans_free (cu->lt_plans);
  vb_cuda_param_sums_free (cu->param_sums);
  vb_cuda_lt_plans_free (cu->wgrad_plans);
  if (cu->lt != NULL)
    cublasLtDestroy (cu->lt);
  if (cu->blas != NULL)
    cublasDestroy (cu->blas);
  cudaFree (cu->blas_workspace);
  if (cu->stream != NULL)
    cudaStreamDestroy (cu->stream);
  free (cu);
}

extern "C" int
vb_cuda_device_count (void)
{
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess)
    {
      cudaGetLastError ();
      return 0;
    }
  return count;
}

extern "C" int
vb_cuda_bind_thread (VbCuda *cu)
{
  return vb_cuda_check_rt (cu, cudaSetDevice (cu->device), "cudaSetDevice");
}

extern "C" int
vb_cuda_device (VbCuda *cu)
{
  return cu->device;
}

extern "C" const char *
vb_cuda_describe (VbCuda *cu)
{
  return cu->describe;
}

extern "C" const char *
vb_cuda_error (VbCuda *cu)
{
  return cu->error[0] != '\0' ? cu->error : NULL;
}

extern "C" void
vb_cuda_clear_error (VbCuda *cu)
{
  cu->error[0] = '\0';
}

extern "C" int
vb_cuda_sync (VbCuda *cu)
{
  vb_cuda_check_rt (cu, cudaStreamSynchronize (cu->stream), "a queued op");
  return cu->error[0] != '\0' ? -1 : 0;
}

extern "C" void *
vb_cuda_alloc (VbCuda *cu, size_t bytes)
{
  void *p = NULL;
  char what[64];
  snprintf (what, sizeof what, "cudaMalloc (%zu bytes)", bytes);
  if (!vb_cuda_check_rt (cu, cudaMalloc (&p, bytes > 0 ? bytes : 1), what))
    return NULL;
  return p;
}

extern "C" void
vb_cuda_free (VbCuda *cu, void *ptr)
{
  if (ptr != NULL)
    {
      cudaStreamSynchronize (cu->stream);
      cudaFree (ptr);
    }
}

extern "C" int
vb_cuda_upload (VbCuda *cu, void *dst, const void *src, size_t bytes)
{
  if (cu->error[0] != '\0')
    return -1;
  return vb_cuda_check_rt (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyHostToDevice,
                                                cu->stream), "upload")
         && vb_cuda_check_rt (cu, cudaStreamSynchronize (cu->stream), "upload") ? 0 : -1;
}

extern "C" void *
vb_cuda_alloc_host (VbCuda *cu, size_t bytes)
{
  void *p = NULL;
  if (cu->error[0] != '\0')
    return NULL;
  if (!vb_cuda_check_rt (cu, cudaMallocHost (&p, bytes > 0 ? bytes : 1), "cudaMallocHost"))
    return NULL;
  memset (p, 0, bytes);
  return p;
}

extern "C" void
vb_cuda_free_host (VbCuda *cu, void *ptr)
{
  (void) cu;
  if (ptr != NULL)
    cudaFreeHost (ptr);
}

extern "C" void
vb_cuda_upload_async (VbCuda *cu, void *dst, const void *src, size_t bytes)
{
  VB_CUDA_GUARD (cu);
  vb_cuda_check_rt (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyHostToDevice, cu->stream),
                    "upload");
}

/* ---- graphs: a whole step recorded once and replayed with one launch ---------------- */

extern "C" int
vb_cuda_capture_begin (VbCuda *cu)
{
  if (cu->error[0] != '\0')
    return 0;
  /* thread-local: the GUI's and the loaders' threads may use CUDA meanwhile */
  return vb_cuda_check_rt (cu, cudaStreamBeginCapture (cu->stream,
                                                       cudaStreamCaptureModeThreadLocal),
                           "cudaStreamBeginCapture");
}

extern "C" void *
vb_cuda_capture_end (VbCuda *cu)
{
  cudaGraph_t graph = NULL;
  cudaGraphExec_t exec = NULL;
  /* ended even after a failure, so that the stream is usable again */
  cudaError_t err = cudaStreamEndCapture (cu->stream, &graph);
  if (cu->error[0] == '\0' && vb_cuda_check_rt (cu, err, "cudaStreamEndCapture"))
    vb_cuda_check_rt (cu, cudaGraphInstantiate (&exec, graph, 0), "cudaGraphInstantiate");
  if (graph != NULL)
    cudaGraphDestroy (graph);
  cudaGetLastError ();   /* a failed capture leaves no sticky error behind */
  return cu->error[0] == '\0' ? (void *) exec : NULL;
}

extern "C" int
vb_cuda_graph_launch (VbCuda *cu, void *exec)
{
  if (cu->error[0] != '\0')
    return 0;
  return vb_cuda_check_rt (cu, cudaGraphLaunch ((cudaGraphExec_t) exec, cu->stream),
                           "cudaGraphLaunch");
}

extern "C" void
vb_cuda_graph_free (VbCuda *cu, void *exec)
{
  (void) cu;
  if (exec != NULL)
    cudaGraphExecDestroy ((cudaGraphExec_t) exec);
}

extern "C" int
vb_cuda_download (VbCuda *cu, void *dst, const void *src, size_t bytes)
{
  if (cu->error[0] != '\0')
    return -1;
  return vb_cuda_check_rt (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyDeviceToHost,
                                                cu->stream), "download")
         && vb_cuda_check_rt (cu, cudaStreamSynchronize (cu->stream), "download") ? 0 : -1;
}

extern "C" void
vb_cuda_memset (VbCuda *cu, void *dst, int byte, size_t bytes)
{
  VB_CUDA_GUARD (cu);
  vb_cuda_check_rt (cu, cudaMemsetAsync (dst, byte, bytes, cu->stream), "memset");
}

void *
vb_cuda_scratch (VbCuda *cu, size_t bytes)
{
  if (cu->error[0] != '\0')
    return NULL;
  /* NULL means failure: a request of nothing still gets a buffer (the scan's backward asks
   * for nothing when its partials are queued elsewhere) */
  if (bytes == 0)
    bytes = 1;
  if (bytes > cu->scratch_bytes)
    {
      /* cudaFree waits for the ops still reading the old buffer */
      cudaStreamSynchronize (cu->stream);
      cudaFree (cu->scratch);
      cu->scratch = NULL;
      cu->scratch_bytes = 0;
      if (!vb_cuda_check_rt (cu, cudaMalloc (&cu->scratch, bytes), "scratch cudaMalloc"))
        return NULL;
      cu->scratch_bytes = bytes;
    }
  return cu->scratch;
}

extern "C" void *
vb_cuda_scalar_slot (VbCuda *cu)
{
  return cu->scalar;
}

extern "C" int
vb_cuda_set_matmul (VbCuda *cu, int mode)
{
  if (mode != VB_CUDA_MATMUL_FP32 && mode != VB_CUDA_MATMUL_TF32 && mode != VB_CUDA_MATMUL_BF16)
    return 0;
  /* the math mode governs cublasSgemm: every product in fp32 and tf32 modes, conv.cu's in bf16
   * mode (so they run as in tf32 mode); vb_cuda_gemm* run bf16 products on bf16 operands,
   * which no math mode changes */
  if (!vb_cuda_check_blas (cu, cublasSetMathMode (cu->blas, mode == VB_CUDA_MATMUL_FP32
                                                                ? CUBLAS_PEDANTIC_MATH
                                                                : CUBLAS_TF32_TENSOR_OP_MATH),
                           "cublasSetMathMode"))
    return 0;
  cu->matmul = mode;
  return 1;
}

extern "C" size_t
vb_cuda_memory_used (VbCuda *cu)
{
  size_t free_b = 0, total_b = 0;
  if (!vb_cuda_check_rt (cu, cudaMemGetInfo (&free_b, &total_b), "cudaMemGetInfo"))
    return 0;
  return total_b - free_b;
}
