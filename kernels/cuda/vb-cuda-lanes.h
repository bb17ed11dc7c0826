/* vb-cuda-lanes.h: the last step of a block's column sums over row lanes, for kernels whose
 * thread x holds 8 columns (one 16-byte vector a row) and lane y every LANES-th row of a
 * chunk: the lanes' sums are added in lane order (the same bits however the launch is
 * scheduled, no atomics) and lane 0 stores the chunk's 8 partials at part. */
#pragma once

template <int LANES, int X>
static __device__ __forceinline__ void
store_lane_sums8 (float (&red)[LANES][X * 8], const float (&s)[8], int lane, bool live,
                  float *part)
{
#pragma unroll
  for (int k = 0; k < 8; k++)
    red[lane][threadIdx.x * 8 + k] = s[k];
  __syncthreads ();
  if (lane != 0 || !live)
    return;
#pragma unroll
  for (int k = 0; k < 8; k++)
    {
      float t = 0.0f;
#pragma unroll
      for (int l = 0; l < LANES; l++)
        t += red[l][threadIdx.x * 8 + k];
      part[k] = t;
    }
}
