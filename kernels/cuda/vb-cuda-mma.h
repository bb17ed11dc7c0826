/* vb-cuda-mma.h: the warp-level tensor-core pieces (sm_80 and later) shared by the kernels
 * that stage bf16 tiles in shared memory themselves: ldmatrix loads of 8 × 8 matrices, the
 * m16n8k16 bf16 product with fp32 accumulators, and accumulator pairs packed to bf16. */
#pragma once

#include <stdint.h>

#include <cuda_bf16.h>

/* four 8 × 8 matrices from shared memory (a shared-space byte address: computed once a
 * thread, the tiles' offsets added, no generic-to-shared conversion a load) */
static __device__ __forceinline__ void
ldmatrix_x4 (uint32_t (&r)[4], uint32_t addr)
{
  asm volatile ("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                : "r"(addr));
}

static __device__ __forceinline__ void
ldmatrix_x4_trans (uint32_t (&r)[4], uint32_t addr)
{
  asm volatile ("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                : "r"(addr));
}

/* d += a·b, a 16×16 (row), b 16×8 (col), bf16 in, fp32 accumulators */
static __device__ __forceinline__ void
mma_bf16 (float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
  asm volatile ("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* two fp32 values rounded to bf16 (nearest-even) in one 32-bit register, lo first: a row's
 * pair of an accumulator fragment as an A fragment or a 4-byte store */
static __device__ __forceinline__ uint32_t
pack_bf16x2 (float lo, float hi)
{
  __nv_bfloat162 h = __floats2bfloat162_rn (lo, hi);
  return *reinterpret_cast<uint32_t *> (&h);
}
