/* scan.cu: cross-scan, cross-merge and the selective scan, fp32, with the layouts and
 * semantics of kernels/cpu (u, delta, y: (B, L, K·D); Bs, Cs: (B, L, K, N)).
 *
 * This is the reference-quality slice: one thread per (image, group, channel) walking
 * its sequence with the state in registers (specs/kernels.md §3), explicit cross-scan
 * copies, dB/dC reduced across the block once per chunk of steps. The index-map
 * routes and the shared-memory ring of the spec come on top of it, checked against it.
 * Every reduction has a fixed order: no atomics, results repeat bit for bit. */
#include <stdio.h>

#include "vb-cuda-private.h"

#define SCAN_THREADS 128
#define SOFTPLUS_THRESHOLD 20.0f
/* backward: the state is recomputed from a checkpoint every CHUNK steps */
#define CHUNK 8

/* ---- routes (shared/specs/vmamba.md §3.2, as kernels/cpu/cross_scan.c) ---------------- */

enum { ROW_FWD, COL_FWD, ROW_REV, COL_REV };

__device__ __forceinline__ int
route_of (int mode, int k)
{
  switch (mode)
    {
    case VB_SCAN_4DIR: return k;                              /* row, col, row-rev, col-rev */
    case VB_SCAN_2DIR: return k < 2 ? ROW_FWD : ROW_REV;
    case VB_SCAN_LEAN2DIR: return k == 1 ? ROW_REV : ROW_FWD;
    default: return ROW_FWD;                                  /* 1-dir */
    }
}

/* the pixel p = h·W + w that group k reads at sequence position l */
__device__ __forceinline__ int64_t
gather_index (int route, int64_t l, int H, int W)
{
  int64_t L = (int64_t) H * W;
  switch (route)
    {
    case COL_FWD: return (l % H) * W + l / H;
    case ROW_REV: return L - 1 - l;
    case COL_REV: { int64_t m = L - 1 - l; return (m % H) * W + m / H; }
    default: return l;
    }
}

/* the sequence position at which group k reads pixel p */
__device__ __forceinline__ int64_t
scatter_index (int route, int64_t p, int H, int W)
{
  int64_t L = (int64_t) H * W;
  int64_t t = (p % W) * H + p / W;
  switch (route)
    {
    case COL_FWD: return t;
    case ROW_REV: return L - 1 - p;
    case COL_REV: return L - 1 - t;
    default: return p;
    }
}

/* One block per token row (grid-stride over rows), threads over the row's K·D channels
 * (float4 when D allows): the route arithmetic is done once per row and group, not per
 * element, and every access is a coalesced run of a channel row. */
template <typename V>
static __global__ void
cross_scan_kernel (V *xs, const V *u, int64_t rows, int H, int W, int K, int Dv, int mode)
{
  int64_t L = (int64_t) H * W;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x)
    {
      int64_t b = r / L, l = r % L;
      for (int i = threadIdx.x; i < K * Dv; i += blockDim.x)
        {
          int k = i / Dv, d = i - k * Dv;
          xs[r * K * Dv + i] = u[(b * L + gather_index (route_of (mode, k), l, H, W)) * Dv + d];
        }
    }
}

template <typename V>
__device__ __forceinline__ V vadd (V a, V b);
template <>
__device__ __forceinline__ float vadd (float a, float b) { return a + b; }
template <>
__device__ __forceinline__ float4
vadd (float4 a, float4 b)
{
  return make_float4 (a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}

template <typename V>
static __global__ void
cross_merge_kernel (V *y, const V *ys, int64_t rows, int H, int W, int K, int Dv, int mode)
{
  int64_t L = (int64_t) H * W;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x)
    {
      int64_t b = r / L, p = r % L;
      int64_t src[4];
      for (int k = 0; k < K; k++)
        src[k] = ((b * L + scatter_index (route_of (mode, k), p, H, W)) * K + k) * Dv;
      for (int d = threadIdx.x; d < Dv; d += blockDim.x)
        {
          /* groups summed in order k = 0…K−1, as on the CPU */
          V acc = ys[src[0] + d];
          for (int k = 1; k < K; k++)
            acc = vadd (acc, ys[src[k] + d]);
          y[r * Dv + d] = acc;
        }
    }
}

static unsigned int
row_blocks (int64_t rows)
{
  return (unsigned int) (rows < (1 << 20) ? rows : (1 << 20));
}

extern "C" void
vb_cuda_cross_scan_forward (VbCuda *cu, float *xs, const float *u, int B, int H, int W, int D,
                            VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  int K = vb_scan_mode_groups (mode);
  int64_t rows = (int64_t) B * H * W;
  if (rows <= 0 || D <= 0)
    return;
  if (D % 4 == 0)
    cross_scan_kernel<float4><<<row_blocks (rows), 128, 0, cu->stream>>> (
      (float4 *) xs, (const float4 *) u, rows, H, W, K, D / 4, (int) mode);
  else
    cross_scan_kernel<float><<<row_blocks (rows), 128, 0, cu->stream>>> (
      xs, u, rows, H, W, K, D, (int) mode);
  VB_CUDA_LAUNCHED (cu, "cross-scan");
}

extern "C" void
vb_cuda_cross_merge_forward (VbCuda *cu, float *y, const float *ys, int B, int H, int W, int D,
                             VbScanMode mode)
{
  VB_CUDA_GUARD (cu);
  int K = vb_scan_mode_groups (mode);
  int64_t rows = (int64_t) B * H * W;
  if (rows <= 0 || D <= 0)
    return;
  if (D % 4 == 0)
    cross_merge_kernel<float4><<<row_blocks (rows), 64, 0, cu->stream>>> (
      (float4 *) y, (const float4 *) ys, rows, H, W, K, D / 4, (int) mode);
  else
    cross_merge_kernel<float><<<row_blocks (rows), 64, 0, cu->stream>>> (
      y, ys, rows, H, W, K, D, (int) mode);
  VB_CUDA_LAUNCHED (cu, "cross-merge");
}

/* ---- selective scan ------------------------------------------------------------------- */

/* Δ = softplus(z), z = delta + bias, with PyTorch's threshold 20 (dΔ/dz = σ(z) is
 * computed where it is needed) */
__device__ __forceinline__ float
softplus (float z)
{
  return z <= SOFTPLUS_THRESHOLD ? log1pf (expf (z)) : z;
}

/* Where a thread's channel lives. Threads past D (the last tile's tail) compute a copy
 * of channel D−1 so that they can join barriers and reductions; they write nothing and
 * add zeros. */
struct Lane
{
  int b, k, d;
  bool active;
  int64_t KD;
};

__device__ __forceinline__ Lane
lane_of (int K, int D)
{
  Lane ln;
  int d = blockIdx.x * blockDim.x + threadIdx.x;
  ln.b = blockIdx.y / K;
  ln.k = blockIdx.y % K;
  ln.active = d < D;
  ln.d = ln.active ? d : D - 1;
  ln.KD = (int64_t) K * D;
  return ln;
}

/* NT: the state count the registers are sized for (N itself, or VB_CUDA_SCAN_MAX_N) */
template <int NT>
static __global__ void
scan_forward_kernel (float *y, const float *u, const float *delta, const float *A,
                     const float *Bs, const float *Cs, const float *Dskip, const float *dbias,
                     int L, int K, int D, int N)
{
  Lane ln = lane_of (K, D);
  int64_t c = (int64_t) ln.k * D + ln.d;
  float An[NT], h[NT];
  float ds = Dskip != NULL ? Dskip[c] : 0.0f, bias = dbias != NULL ? dbias[c] : 0.0f;

#pragma unroll
  for (int n = 0; n < NT; n++)
    {
      An[n] = n < N ? A[c * N + n] : 0.0f;
      h[n] = 0.0f;
    }

#pragma unroll 4
  for (int t = 0; t < L; t++)
    {
      int64_t row = ((int64_t) ln.b * L + t) * ln.KD + c;
      int64_t bc = (((int64_t) ln.b * L + t) * K + ln.k) * N;
      float ut = u[row], dl = softplus (delta[row] + bias), ysum = 0.0f;
#pragma unroll
      for (int n = 0; n < NT; n++)
        if (n < N)
          {
            h[n] = expf (dl * An[n]) * h[n] + dl * Bs[bc + n] * ut;
            ysum += Cs[bc + n] * h[n];
          }
      if (ln.active)
        y[row] = ysum + ds * ut;
    }
}

/* sum over the 32 lanes of a warp, in a fixed order; valid in lane 0 */
__device__ __forceinline__ float
warp_sum (float v)
{
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync (0xffffffffu, v, off);
  return v;
}

template <int NT>
static __global__ void
scan_backward_kernel (float *du, float *ddelta, float *part_bc, float *part_p, float *hck,
                      const float *dy, const float *u, const float *delta, const float *A,
                      const float *Bs, const float *Cs, const float *Dskip, const float *dbias,
                      int B, int L, int K, int D, int N)
{
  /* per chunk, each warp's sums of (dB, dC) for each step; two buffers alternating by
   * chunk, so one barrier per chunk suffices */
  __shared__ float red[2][SCAN_THREADS / 32][CHUNK][2 * NT];
  Lane ln = lane_of (K, D);
  int64_t c = (int64_t) ln.k * D + ln.d;
  int chunks = (L + CHUNK - 1) / CHUNK, warps = blockDim.x >> 5;
  float An[NT], h[NT], lam[NT], anext[NT], accA[NT];
  float hist[CHUNK + 1][NT];          /* h_{t0−1} … h_{t0+CHUNK−1} of the current chunk */
  float ds = Dskip != NULL ? Dskip[c] : 0.0f, bias = dbias != NULL ? dbias[c] : 0.0f;
  float accD = 0.0f, accdb = 0.0f;
  /* checkpoints of this thread: h at the start of every chunk, (chunk, n) × D apart */
  float *ck = hck + ((int64_t) ln.b * K + ln.k) * chunks * N * D + ln.d;

#pragma unroll
  for (int n = 0; n < NT; n++)
    {
      An[n] = n < N ? A[c * N + n] : 0.0f;
      h[n] = lam[n] = anext[n] = accA[n] = 0.0f;
    }

  /* sweep 1: the state at every chunk start */
#pragma unroll 4
  for (int t = 0; t < L; t++)
    {
      int64_t row = ((int64_t) ln.b * L + t) * ln.KD + c;
      int64_t bc = (((int64_t) ln.b * L + t) * K + ln.k) * N;
      if (t % CHUNK == 0 && ln.active)
#pragma unroll
        for (int n = 0; n < NT; n++)
          if (n < N)
            ck[((int64_t) (t / CHUNK) * N + n) * D] = h[n];
      float ut = u[row], dl = softplus (delta[row] + bias);
#pragma unroll
      for (int n = 0; n < NT; n++)
        if (n < N)
          h[n] = expf (dl * An[n]) * h[n] + dl * Bs[bc + n] * ut;
    }

  /* sweep 2: chunks last to first; recompute the chunk's states, then walk back with
   * λ_t = g_t·C_t + a_{t+1}·λ_{t+1} */
  for (int j = chunks - 1; j >= 0; j--)
    {
      int t0 = j * CHUNK, t1 = min (L, t0 + CHUNK);
#pragma unroll
      for (int n = 0; n < NT; n++)
        hist[0][n] = n < N ? ck[((int64_t) j * N + n) * D] : 0.0f;
      for (int t = t0; t < t1; t++)
        {
          int64_t row = ((int64_t) ln.b * L + t) * ln.KD + c;
          int64_t bc = (((int64_t) ln.b * L + t) * K + ln.k) * N;
          float ut = u[row], dl = softplus (delta[row] + bias);
#pragma unroll
          for (int n = 0; n < NT; n++)
            hist[t - t0 + 1][n] = n < N ? expf (dl * An[n]) * hist[t - t0][n]
                                          + dl * Bs[bc + n] * ut
                                        : 0.0f;
        }

      for (int t = t1 - 1; t >= t0; t--)
        {
          int64_t row = ((int64_t) ln.b * L + t) * ln.KD + c;
          int64_t bc = (((int64_t) ln.b * L + t) * K + ln.k) * N;
          float ut = u[row], z = delta[row] + bias, dl = softplus (z);
          float sig = 1.0f / (1.0f + expf (-z));
          float g = ln.active ? dy[row] : 0.0f;
          float dut = ds * g, ddl = 0.0f;
          float *buf = red[j & 1][threadIdx.x >> 5][t - t0];

          accD += g * ut;
#pragma unroll
          for (int n = 0; n < NT; n++)
            if (n < N)   /* N is the same for the whole block: shuffles stay convergent */
              {
                float a = expf (dl * An[n]), Bn = Bs[bc + n], Cn = Cs[bc + n];
                float l = g * Cn + anext[n] * lam[n];
                float ahp = a * hist[t - t0][n];          /* a_t·h_{t−1} */
                lam[n] = l;
                anext[n] = a;
                dut += l * Bn * dl;
                ddl += l * Bn * ut + l * An[n] * ahp;
                accA[n] += l * dl * ahp;
                /* an inactive lane's state is a stale copy: it must add exact zeros */
                float sB = warp_sum (ln.active ? l * dl * ut : 0.0f);
                float sC = warp_sum (ln.active ? g * hist[t - t0 + 1][n] : 0.0f);
                if ((threadIdx.x & 31) == 0)
                  {
                    buf[2 * n] = sB;
                    buf[2 * n + 1] = sC;
                  }
              }

          float dz = ddl * sig;
          accdb += dz;
          if (ln.active)
            {
              if (ddelta != NULL)
                ddelta[row] = dz;
              if (du != NULL)
                du[row] = dut;
            }
        }

      /* the chunk's (dB, dC): thread i sums value i of a step over the warps, in warp
       * order */
      __syncthreads ();
      for (int i = threadIdx.x; i < (t1 - t0) * 2 * N; i += blockDim.x)
        {
          int step = i / (2 * N), v = i % (2 * N);
          float s = 0.0f;
          for (int w = 0; w < warps; w++)
            s += red[j & 1][w][step][v];
          part_bc[((int64_t) blockIdx.x * B * L * K
                   + ((int64_t) ln.b * L + t0 + step) * K + ln.k) * 2 * N + v] = s;
        }
    }

  /* per-image partials of the batch-summed parameter gradients: dA (N), dDskip, ddbias */
  if (ln.active)
    {
      float *p = part_p + ((int64_t) ln.b * ln.KD + c) * (N + 2);
#pragma unroll
      for (int n = 0; n < NT; n++)
        if (n < N)
          p[n] = accA[n];
      p[N] = accD;
      p[N + 1] = accdb;
    }
}

/* dBs, dCs (written) = Σ over channel tiles of the per-tile sums, in tile order */
static __global__ void
scan_reduce_bc_kernel (float *dBs, float *dCs, const float *part_bc, int64_t rows, int N,
                       int tiles)
{
  int64_t total = rows * N;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total;
       i += (int64_t) gridDim.x * blockDim.x)
    {
      int64_t r = i / N;
      int n = (int) (i % N);
      float sB = 0.0f, sC = 0.0f;
      for (int tile = 0; tile < tiles; tile++)
        {
          const float *p = part_bc + ((int64_t) tile * rows + r) * 2 * N + 2 * n;
          sB += p[0];
          sC += p[1];
        }
      if (dBs != NULL)
        dBs[i] = sB;
      if (dCs != NULL)
        dCs[i] = sC;
    }
}

/* dA, dDskip, ddbias (accumulated) += Σ_b per-image partials, in image order */
static __global__ void
scan_reduce_params_kernel (float *dA, float *dDskip, float *ddbias, const float *part_p,
                           int B, int64_t KD, int N)
{
  for (int64_t c = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; c < KD;
       c += (int64_t) gridDim.x * blockDim.x)
    {
      for (int j = 0; j < N + 2; j++)
        {
          float s = 0.0f;
          for (int b = 0; b < B; b++)
            s += part_p[((int64_t) b * KD + c) * (N + 2) + j];
          if (j < N && dA != NULL)
            dA[c * N + j] += s;
          else if (j == N && dDskip != NULL)
            dDskip[c] += s;
          else if (j == N + 1 && ddbias != NULL)
            ddbias[c] += s;
        }
    }
}

static int
check_state_count (VbCuda *cu, int N)
{
  if (N >= 1 && N <= VB_CUDA_SCAN_MAX_N)
    return 1;
  snprintf (cu->error, sizeof cu->error,
            "selective scan: d_state %d is not supported on the GPU (1 to %d)", N,
            VB_CUDA_SCAN_MAX_N);
  return 0;
}

extern "C" void
vb_cuda_selective_scan_forward (VbCuda *cu, float *y,
                                const float *u, const float *delta, const float *A,
                                const float *Bs, const float *Cs,
                                const float *Dskip, const float *dbias,
                                int B, int L, int K, int D, int N)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  dim3 grid ((D + SCAN_THREADS - 1) / SCAN_THREADS, B * K);
  if (N == 1)
    scan_forward_kernel<1><<<grid, SCAN_THREADS, 0, cu->stream>>> (y, u, delta, A, Bs, Cs,
                                                                    Dskip, dbias, L, K, D, N);
  else
    scan_forward_kernel<VB_CUDA_SCAN_MAX_N><<<grid, SCAN_THREADS, 0, cu->stream>>> (
      y, u, delta, A, Bs, Cs, Dskip, dbias, L, K, D, N);
  VB_CUDA_LAUNCHED (cu, "selective scan forward");
}

extern "C" void
vb_cuda_selective_scan_backward (VbCuda *cu, float *du, float *ddelta, float *dA,
                                 float *dBs, float *dCs, float *dDskip, float *ddbias,
                                 const float *dy,
                                 const float *u, const float *delta, const float *A,
                                 const float *Bs, const float *Cs,
                                 const float *Dskip, const float *dbias,
                                 int B, int L, int K, int D, int N)
{
  VB_CUDA_GUARD (cu);
  if (B <= 0 || L <= 0 || K <= 0 || D <= 0 || !check_state_count (cu, N))
    return;
  int tiles = (D + SCAN_THREADS - 1) / SCAN_THREADS, chunks = (L + CHUNK - 1) / CHUNK;
  int64_t rows = (int64_t) B * L * K, KD = (int64_t) K * D;
  size_t n_bc = (size_t) tiles * rows * 2 * N, n_p = (size_t) B * KD * (N + 2);
  size_t n_ck = (size_t) B * K * chunks * N * D;
  float *part_bc = (float *) vb_cuda_scratch (cu, (n_bc + n_p + n_ck) * sizeof (float));
  if (part_bc == NULL)
    return;
  float *part_p = part_bc + n_bc, *hck = part_p + n_p;

  dim3 grid (tiles, B * K);
  if (N == 1)
    scan_backward_kernel<1><<<grid, SCAN_THREADS, 0, cu->stream>>> (
      du, ddelta, part_bc, part_p, hck, dy, u, delta, A, Bs, Cs, Dskip, dbias, B, L, K, D, N);
  else
    scan_backward_kernel<VB_CUDA_SCAN_MAX_N><<<grid, SCAN_THREADS, 0, cu->stream>>> (
      du, ddelta, part_bc, part_p, hck, dy, u, delta, A, Bs, Cs, Dskip, dbias, B, L, K, D, N);
  if (!VB_CUDA_LAUNCHED (cu, "selective scan backward"))
    return;
  scan_reduce_bc_kernel<<<vb_cuda_blocks (rows * N, 256), 256, 0, cu->stream>>> (
    dBs, dCs, part_bc, rows, N, tiles);
  if (!VB_CUDA_LAUNCHED (cu, "selective scan backward (dB, dC)"))
    return;
  scan_reduce_params_kernel<<<vb_cuda_blocks (KD, 256), 256, 0, cu->stream>>> (
    dA, dDskip, ddbias, part_p, B, KD, N);
  VB_CUDA_LAUNCHED (cu, "selective scan backward (dA, dD, dbias)");
}
