/* gemm_sm90.cu: the engine's door to gemm_sm90.cuh's Hopper product (the epilogues cuBLASLt
 * lacks: CLIP's fc1 with its quick GELU, the Gated projector with its gate), on the
 * context's stream and multiprocessors. */
#include "gemm_sm90.cuh"
#include "vb-cpu-vit.h"
#include "vb-cuda-private.h"

/* linear_b16's epilogues are the kernel's, by number */
static_assert ((int) vb_sm90::EPI_BIAS == VB_LINEAR_B16_STORE
                   && (int) vb_sm90::EPI_BIAS_ADD == VB_LINEAR_B16_ADD
                   && (int) vb_sm90::EPI_QUICK_GELU == VB_LINEAR_B16_QUICK_GELU
                   && (int) vb_sm90::EPI_GATED == VB_LINEAR_B16_GATE,
               "one numbering of the epilogues");

int
vb_cuda_gemm_sm90 (VbCuda *cu, int epi, VbBf16 *C, int64_t ldc, const VbBf16 *A, const VbBf16 *W,
                   const VbBf16 *bias, int64_t M, int N, int K)
{
  VB_CUDA_GUARD_RET (cu, -1);
  if (cu->sm90_off || epi < vb_sm90::EPI_BIAS || epi > vb_sm90::EPI_GATED
      || !vb_sm90::vb_sm90_gemm_fits (cu->cc_major, cu->cc_minor, C, ldc, A, W, bias, M, N, K))
    return 0;
  char err[200];
  if (vb_sm90::vb_sm90_gemm (cu->stream, cu->sms, (vb_sm90::Epi) epi,
                             reinterpret_cast<__nv_bfloat16 *> (C), (int) ldc,
                             reinterpret_cast<const __nv_bfloat16 *> (A),
                             reinterpret_cast<const __nv_bfloat16 *> (W),
                             reinterpret_cast<const __nv_bfloat16 *> (bias), (int) M, N, K, err,
                             sizeof err) != 0)
    {
      if (cu->error[0] == '\0')
        snprintf (cu->error, sizeof cu->error, "%s", err);
      return -1;
    }
  return 1;
}
