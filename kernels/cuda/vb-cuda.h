/* vb-cuda.h: the CUDA backend's context and memory (device pointers throughout).
 *
 * One VbCuda per engine thread: a device, a stream every op of this backend runs on (so
 * ops are ordered without synchronising), a cuBLAS handle and a growable scratch
 * buffer. Ops never abort and never print: the first CUDA or cuBLAS failure is recorded
 * in the context (vb_cuda_error) and later ops become no-ops until it is cleared, so a
 * caller checks once per step. GLib-free, like kernels/cpu. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VbCuda VbCuda;

/* NULL when no usable GPU: `why` (may be NULL) receives the reason, e.g. "no CUDA
 * device (cudaGetDeviceCount: no CUDA-capable device is detected)". */
VbCuda     *vb_cuda_open        (int device, char *why, size_t why_len);
void        vb_cuda_close       (VbCuda *cu);
/* how many GPUs this process sees (0 when none or on a CUDA failure) */
int         vb_cuda_device_count (void);
/* makes cu's device the calling thread's current one: every thread that queues work on a
 * context other than the first device's calls this once (CUDA's current device is per
 * thread, and launches and allocations go to it) */
int         vb_cuda_bind_thread (VbCuda *cu);
/* the device index cu was opened on */
int         vb_cuda_device      (VbCuda *cu);
/* "NVIDIA H200 (sm_90, 139.8 GiB)" */
const char *vb_cuda_describe    (VbCuda *cu);

/* the first failure since the last clear, or NULL */
const char *vb_cuda_error       (VbCuda *cu);
void        vb_cuda_clear_error (VbCuda *cu);
/* device memory in use (total − free, as cudaMemGetInfo reports: this process's
 * allocations, cuBLAS's workspace and the CUDA context) */
size_t      vb_cuda_memory_used (VbCuda *cu);
/* how the cuBLAS products compute; tensors stay fp32 in memory in every mode */
enum
{
  VB_CUDA_MATMUL_FP32 = 0,  /* strict fp32, no TF32 (the default: parity with the CPU) */
  VB_CUDA_MATMUL_TF32 = 1,  /* TF32 tensor cores */
  VB_CUDA_MATMUL_BF16 = 2,  /* linear.cu's products on bf16 tensor cores with fp32 accumulation
                             * (operands rounded to bf16, nearest-even, for the product only);
                             * the others (conv.cu's, not on vb_cuda_gemm yet) in TF32 */
};
/* returns 0 (and changes nothing) for an unknown mode or a cuBLAS failure, else 1 */
int         vb_cuda_set_matmul  (VbCuda *cu, int mode);
/* waits for every op issued so far; returns 0, or -1 with vb_cuda_error set */
int         vb_cuda_sync        (VbCuda *cu);

void       *vb_cuda_alloc       (VbCuda *cu, size_t bytes);   /* NULL + error on failure */
void        vb_cuda_free        (VbCuda *cu, void *ptr);
int         vb_cuda_upload      (VbCuda *cu, void *dst, const void *src, size_t bytes);
/* page-locked host memory (NULL + error on failure), and an upload from it that does not
 * wait: src must stay unchanged until the next sync */
void       *vb_cuda_alloc_host  (VbCuda *cu, size_t bytes);
void        vb_cuda_free_host   (VbCuda *cu, void *ptr);
void        vb_cuda_upload_async (VbCuda *cu, void *dst, const void *src, size_t bytes);
int         vb_cuda_download    (VbCuda *cu, void *dst, const void *src, size_t bytes);
void        vb_cuda_memset      (VbCuda *cu, void *dst, int byte, size_t bytes);
/* Graphs: ops queued between capture_begin (1 when capturing) and capture_end are
 * recorded, not run; capture_end returns the replayable graph, or NULL with the error
 * set (an op that cannot be captured: allocating, waiting, a pageable copy). */
int         vb_cuda_capture_begin (VbCuda *cu);
void       *vb_cuda_capture_end   (VbCuda *cu);
int         vb_cuda_graph_launch  (VbCuda *cu, void *graph);
void        vb_cuda_graph_free    (VbCuda *cu, void *graph);
/* The parameter gradients' last sums queued from defer until flush, then run in a few
 * launches (param_sums.cu); flush before anything reads the gradients */
void        vb_cuda_param_sums_defer (VbCuda *cu);
void        vb_cuda_param_sums_flush (VbCuda *cu);
/* 16 bytes of device memory owned by the context, for ops that return one value */
void       *vb_cuda_scalar_slot (VbCuda *cu);

#ifdef __cplusplus
}
#endif
