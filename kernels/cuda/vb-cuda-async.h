/* vb-cuda-async.h: asynchronous 16-byte copies from global into shared memory (sm_80 and
 * later), for the kernels that stage tiles ahead of their arithmetic. */
#pragma once

#include <stdint.h>

/* p's address in the shared space, as the copies below take it */
static __device__ __forceinline__ uint32_t
shared_addr (const void *p)
{
  return (uint32_t) __cvta_generic_to_shared (p);
}

/* 16 bytes global → shared (a shared-space byte address), asynchronously; zeros when
 * !valid (src must still be a valid address) */
static __device__ __forceinline__ void
cp_async16 (uint32_t s, const void *gmem, bool valid)
{
  int bytes = valid ? 16 : 0;
  asm volatile ("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem),
                "r"(bytes));
}

/* 4 bytes global → shared, asynchronously (through L1: a value several warps read) */
static __device__ __forceinline__ void
cp_async4 (uint32_t s, const void *gmem)
{
  asm volatile ("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(gmem));
}

static __device__ __forceinline__ void
cp_async_commit ()
{
  asm volatile ("cp.async.commit_group;\n" ::);
}

/* wait until at most N of this thread's committed groups are in flight */
template <int N>
static __device__ __forceinline__ void
cp_async_wait ()
{
  asm volatile ("cp.async.wait_group %0;\n" ::"n"(N));
}
