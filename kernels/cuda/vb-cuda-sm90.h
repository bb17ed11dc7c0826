/* vb-cuda-sm90.h: Hopper's asynchronous pieces (sm_90a only) for the kernels that feed its
 * tensor cores themselves: mbarriers, TMA tile loads, warpgroup register reallocation and
 * the wgmma product with both operands in shared memory. Every wrapper compiles to nothing
 * outside an sm_90a pass (the PTX pass for other GPUs keeps building; the host code only
 * launches such kernels on a 9.0 device). */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <cuda.h>            /* CUtensorMap */
#include <cudaTypedefs.h>    /* the driver entry point's type */
#include <cuda_runtime.h>

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define VB_SM90_PTX(...) asm volatile (__VA_ARGS__)
#else
#define VB_SM90_PTX(...) do { } while (0)
#endif

/* ---- mbarriers (shared-space byte addresses) --------------------------------------------- */

static __device__ __forceinline__ void
mbar_init (uint32_t bar, uint32_t count)
{
  VB_SM90_PTX ("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

/* the barriers' initialisation visible to the async proxy (TMA completes on them) */
static __device__ __forceinline__ void
mbar_init_fence ()
{
  VB_SM90_PTX ("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

static __device__ __forceinline__ void
mbar_arrive (uint32_t bar)
{
  VB_SM90_PTX ("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

/* one arrival that also expects `bytes` of TMA transfers to complete on the barrier */
static __device__ __forceinline__ void
mbar_arrive_expect_tx (uint32_t bar, uint32_t bytes)
{
  VB_SM90_PTX ("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}

/* wait until the barrier's phase of this parity has completed (a fresh barrier counts
 * its phase "1" as complete: producers wait for free slots with parity phase ^ 1) */
static __device__ __forceinline__ void
mbar_wait (uint32_t bar, uint32_t parity)
{
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  uint32_t done;
  do
    asm volatile ("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                  "selp.u32 %0, 1, 0, p;\n}\n"
                  : "=r"(done) : "r"(bar), "r"(parity) : "memory");
  while (!done);
#endif
}

/* ---- TMA -------------------------------------------------------------------------------- */

/* a 2-D tile (coordinates innermost first) from global into shared memory, completing
 * its bytes on `bar`; map: the CUtensorMap's generic address (a __grid_constant__ parameter) */
static __device__ __forceinline__ void
tma_load_2d (uint32_t dst, const void *map, uint32_t bar, int c0, int c1)
{
  VB_SM90_PTX ("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
               " [%0], [%1, {%3, %4}], [%2];\n"
               ::"r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1) : "memory");
}

/* ---- warpgroups ------------------------------------------------------------------------- */

/* give registers back (a producer warpgroup) or take them (the consumers) */
template <int N>
static __device__ __forceinline__ void
regs_release ()
{
  VB_SM90_PTX ("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

template <int N>
static __device__ __forceinline__ void
regs_claim ()
{
  VB_SM90_PTX ("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

/* ---- wgmma ------------------------------------------------------------------------------ */

static __device__ __forceinline__ void
wgmma_fence ()
{
  VB_SM90_PTX ("wgmma.fence.sync.aligned;\n" ::: "memory");
}

static __device__ __forceinline__ void
wgmma_commit ()
{
  VB_SM90_PTX ("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

/* wait until at most N of the warpgroup's committed products are in flight */
template <int N>
static __device__ __forceinline__ void
wgmma_wait ()
{
  VB_SM90_PTX ("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/* the descriptor of a K-major operand tile in the 128-byte swizzle TMA writes: rows of 64
 * bf16 (128 bytes), 8-row groups 1024 bytes apart, the tile 1024-byte aligned; a k16 step
 * further along K is the start address + 32 bytes */
static __device__ __forceinline__ uint64_t
wgmma_desc_sw128 (uint32_t addr)
{
  return (uint64_t) ((addr & 0x3FFFF) >> 4) | (uint64_t) 1 << 16 | (uint64_t) (1024 >> 4) << 32
         | (uint64_t) 1 << 62;
}

/* d (64 × 256, fp32, the warpgroup's registers) (+)= a (64 × 16) · bᵀ (b: 256 × 16), both
 * bf16 K-major in shared memory; accumulate = 0 overwrites d. Fragment: warp w of the
 * warpgroup holds rows 16w + lane/4 (+ 8 in v = 2, 3) of column block j (8 wide), columns
 * 8j + 2·(lane % 4) (+ 1 in v = 1, 3): d[4j + v]. */
static __device__ __forceinline__ void
wgmma_m64n256k16 (float (&d)[128], uint64_t da, uint64_t db, int accumulate)
{
  VB_SM90_PTX (
      "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
      "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
      "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
      "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
      "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
      "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
      "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
      "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
      "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
      "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
      "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
      "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
      "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
      "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
      "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
      "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(da), "l"(db), "r"(accumulate));
}

/* ---- TMA stores and the proxies ----------------------------------------------------------- */

/* the generic proxy's shared-memory writes made visible to the async proxy (a TMA store
 * about to read them) */
static __device__ __forceinline__ void
fence_proxy_async_shared ()
{
  VB_SM90_PTX ("fence.proxy.async.shared::cta;\n" ::: "memory");
}

/* a 2-D tile from shared memory into global (rows past the map's end are not written),
 * in this thread's current bulk group */
static __device__ __forceinline__ void
tma_store_2d (const void *map, uint32_t src, int c0, int c1)
{
  VB_SM90_PTX ("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];\n"
               ::"l"(map), "r"(src), "r"(c0), "r"(c1) : "memory");
}

static __device__ __forceinline__ void
bulk_commit ()
{
  VB_SM90_PTX ("cp.async.bulk.commit_group;\n" ::: "memory");
}

/* this thread's bulk groups have finished reading shared memory (READ) or are complete */
template <bool READ>
static __device__ __forceinline__ void
bulk_wait_all ()
{
  if (READ)
    VB_SM90_PTX ("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
  else
    VB_SM90_PTX ("cp.async.bulk.wait_group 0;\n" ::: "memory");
}

/* a barrier among `threads` threads (a multiple of 32) under id 1…15 (0 is __syncthreads's) */
static __device__ __forceinline__ void
named_barrier (int id, int threads)
{
  asm volatile ("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

/* d (64 × 64, fp32) (+)= a (64 × 16) · bᵀ (b: 64 × 16), both K-major in shared memory (the
 * same fragment as m64n256k16's, j < 8) */
static __device__ __forceinline__ void
wgmma_m64n64k16_ss (float (&d)[32], uint64_t da, uint64_t db, int accumulate)
{
  VB_SM90_PTX (
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
      "}, %32, %33, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(da), "l"(db), "r"(accumulate));
}
/* the same overwriting d (scale-d 0): d's old values are no input, so that writing them
 * while other products run does not serialise the pipeline */
static __device__ __forceinline__ void
wgmma_m64n64k16_ss_first (float (&d)[32], uint64_t da, uint64_t db)
{
  VB_SM90_PTX (
      "{\n.reg .pred p;\nsetp.ne.b32 p, 0, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
      "}, %32, %33, p, 1, 1, 0, 0;\n}\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3]), "=f"(d[4]), "=f"(d[5]), "=f"(d[6]), "=f"(d[7]),
        "=f"(d[8]), "=f"(d[9]), "=f"(d[10]), "=f"(d[11]), "=f"(d[12]), "=f"(d[13]), "=f"(d[14]), "=f"(d[15]),
        "=f"(d[16]), "=f"(d[17]), "=f"(d[18]), "=f"(d[19]), "=f"(d[20]), "=f"(d[21]), "=f"(d[22]), "=f"(d[23]),
        "=f"(d[24]), "=f"(d[25]), "=f"(d[26]), "=f"(d[27]), "=f"(d[28]), "=f"(d[29]), "=f"(d[30]), "=f"(d[31])
      : "l"(da), "l"(db));
}

/* d (64 × 64, fp32) += a (64 × 16, bf16 in registers: mma.sync's m16n8k16 A fragment a warp,
 * warp w rows 16w …) · b (16 × 64) from shared memory MN-major (its 64 columns contiguous,
 * 128-byte rows in the 128-byte swizzle: a row-major tile as TMA writes it) */
static __device__ __forceinline__ void
wgmma_m64n64k16_rs_mn (float (&d)[32], const uint32_t (&a)[4], uint64_t db)
{
  VB_SM90_PTX (
      "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
      "}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}

/* ---- host: TMA descriptors ---------------------------------------------------------------- */

/* a row-major bf16 matrix (rows × cols, rows `stride` values apart) as TMA boxes of
 * box_rows × 64 in the 128-byte swizzle; 0 on success */
static inline int
vb_sm90_tensor_map_bf16 (CUtensorMap *map, const void *ptr, uint64_t rows, uint64_t cols,
                         uint64_t stride, uint32_t box_rows, char *err, size_t err_len)
{
  static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
  if (encode == nullptr)
    {
      cudaDriverEntryPointQueryResult found;
      void *fn = nullptr;
      if (cudaGetDriverEntryPointByVersion ("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault,
                                            &found) != cudaSuccess
          || found != cudaDriverEntryPointSuccess || fn == nullptr)
        {
          snprintf (err, err_len, "the driver has no cuTensorMapEncodeTiled");
          return -1;
        }
      encode = (PFN_cuTensorMapEncodeTiled_v12000) fn;
    }
  const cuuint64_t dims[2] = { cols, rows }, strides[1] = { stride * 2 };
  const cuuint32_t box[2] = { 64, box_rows }, elem[2] = { 1, 1 };
  CUresult r = encode (map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void *> (ptr), dims,
                       strides, box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                       CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    {
      snprintf (err, err_len, "cuTensorMapEncodeTiled failed (%d) for a %llu × %llu matrix",
                (int) r, (unsigned long long) rows, (unsigned long long) cols);
      return -1;
    }
  return 0;
}

