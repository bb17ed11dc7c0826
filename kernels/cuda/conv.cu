/* conv.cu: depthwise 3×3 (stride 1, pad 1, no bias) and 3×3 / stride 2 / pad 1
 * convolutions, NHWC, fp32, with the arithmetic of kernels/cpu/dwconv3x3.c and
 * kernels/cpu/conv3x3s2.c.
 *
 * Parameter gradients never use atomics: blocks of 32 channels × LANES pixel lanes sum
 * fixed pixel chunks (boundaries depend on the shape only) into partials in scratch, and
 * sum_chunks_kernel adds the chunks in a fixed order, so runs repeat bit for bit. The
 * strided convolution runs as im2col + cuBLAS sgemm (pedantic fp32 handle, cu->stream);
 * its input gradient is a dgrad GEMM into columns followed by a col2im gather. */
#include "vb-cuda-private.h"

#define THREADS 256
#define LANES 8
/* pixel/row chunks of the gradient partials */
#define ROWS_PER_CHUNK 64
#define MAX_CHUNKS 1024
/* im2col budget per batch chunk, in floats (128 MiB), as on the CPU */
#define COLS_BUDGET (32 * 1024 * 1024)

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);             \
       i += (int64_t) gridDim.x * blockDim.x)

static int64_t
n_chunks_for (int64_t rows)
{
  int64_t n = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
  return n > MAX_CHUNKS ? MAX_CHUNKS : (n < 1 ? 1 : n);
}

/* scratch offsets in floats, kept 256-byte aligned for cuBLAS */
static size_t
aligned (int64_t floats)
{
  return (size_t) ((floats + 63) / 64 * 64);
}

/* dst[map(k)] += Σ_ch part[ch, k] for k < width, in a fixed order (lane ty sums chunks
 * ty, ty + LANES, ..., then the lanes are added in order). map(k) = k, or with
 * taps_of = C the (tap, C) → (C, 3, 3) transpose of the depthwise weight.
 * grid ⌈width/32⌉, block (32, LANES) */
static __global__ void
sum_chunks_kernel (float *dst, const float *part, int64_t width, int64_t n_chunks, int taps_of)
{
  __shared__ float red[LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int64_t k = (int64_t) blockIdx.x * 32 + tx;
  float s = 0.0f;

  if (k < width)
    for (int64_t ch = ty; ch < n_chunks; ch += LANES)
      s += part[ch * width + k];
  red[ty][tx] = s;
  __syncthreads ();
  if (ty == 0 && k < width)
    {
      s = 0.0f;
      for (int l = 0; l < LANES; l++)
        s += red[l][tx];
      dst[taps_of > 0 ? (k % taps_of) * 9 + k / taps_of : k] += s;
    }
}

/* part[ch, j] = Σ_{r in chunk ch} x[r, j]; grid (⌈cols/32⌉, n_chunks), block (32, LANES) */
static __global__ void
colsum_partials_kernel (float *part, const float *x, int64_t rows, int cols, int64_t n_chunks)
{
  __shared__ float red[LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int j = blockIdx.x * 32 + tx;
  int64_t ch = blockIdx.y;
  int64_t r0 = rows * ch / n_chunks, r1 = rows * (ch + 1) / n_chunks;
  float s = 0.0f;

  if (j < cols)
    for (int64_t r = r0 + ty; r < r1; r += LANES)
      s += x[r * cols + j];
  red[ty][tx] = s;
  __syncthreads ();
  if (ty == 0 && j < cols)
    {
      s = 0.0f;
      for (int l = 0; l < LANES; l++)
        s += red[l][tx];
      part[ch * cols + j] = s;
    }
}

/* dst += Σ over fixed chunks of the rows of x (rows, cols); part: n_chunks·cols floats */
static int
colsum_acc (VbCuda *cu, float *dst, float *part, const float *x, int64_t rows, int cols,
            const char *what)
{
  int64_t n_chunks = n_chunks_for (rows);
  unsigned int cblocks = (unsigned int) ((cols + 31) / 32);
  dim3 block (32, LANES);

  colsum_partials_kernel<<<dim3 (cblocks, (unsigned int) n_chunks), block, 0, cu->stream>>> (
      part, x, rows, cols, n_chunks);
  if (!VB_CUDA_LAUNCHED (cu, what))
    return 0;
  sum_chunks_kernel<<<cblocks, block, 0, cu->stream>>> (dst, part, cols, n_chunks, 0);
  return VB_CUDA_LAUNCHED (cu, what);
}

/* ---- depthwise 3×3 -------------------------------------------------------------- */

/* dst[b, y, x, c] = Σ_taps w[c, tap]·src[b, y + s·(ky − 1), x + s·(kx − 1), c]:
 * s = +1 is the forward, s = −1 the input gradient (the rotated kernel). One thread per
 * output element, channel fastest (coalesced); taps in the CPU's order. */
static __global__ void
dw_stencil_kernel (float *__restrict__ dst, const float *__restrict__ src,
                   const float *__restrict__ w, int B, int H, int W, int C, int sign)
{
  int64_t n = (int64_t) B * H * W * C;

  GRID_STRIDE (i, n)
    {
      int c = (int) (i % C);
      int64_t p = i / C;
      int x = (int) (p % W);
      int64_t q = p / W;
      int y = (int) (q % H);
      int64_t b = q / H;
      float acc = 0.0f;

      for (int ky = 0; ky < 3; ky++)
        {
          int sy = y + sign * (ky - 1);
          if (sy < 0 || sy >= H)
            continue;
          for (int kx = 0; kx < 3; kx++)
            {
              int sx = x + sign * (kx - 1);
              if (sx < 0 || sx >= W)
                continue;
              acc += w[(int64_t) c * 9 + ky * 3 + kx] * src[((b * H + sy) * W + sx) * C + c];
            }
        }
      dst[i] = acc;
    }
}

/* part[ch, tap, c] = Σ_{pixels in chunk ch} dout[p, c]·in[p + tap offset, c];
 * grid (⌈C/32⌉, n_chunks), block (32, LANES) */
static __global__ void
dw_wgrad_partials_kernel (float *__restrict__ part, const float *__restrict__ dout,
                          const float *__restrict__ in, int B, int H, int W, int C,
                          int64_t n_chunks)
{
  __shared__ float red[9][LANES][32];
  int tx = threadIdx.x, ty = threadIdx.y;
  int c = blockIdx.x * 32 + tx;
  int64_t ch = blockIdx.y;
  int64_t P = (int64_t) B * H * W;
  int64_t p0 = P * ch / n_chunks, p1 = P * (ch + 1) / n_chunks;
  float acc[9];

#pragma unroll
  for (int t = 0; t < 9; t++)
    acc[t] = 0.0f;
  if (c < C)
    for (int64_t p = p0 + ty; p < p1; p += LANES)
      {
        int x = (int) (p % W);
        int64_t q = p / W;
        int y = (int) (q % H);
        int64_t b = q / H;
        float g = dout[p * C + c];
#pragma unroll
        for (int ky = 0; ky < 3; ky++)
          {
            int sy = y + ky - 1;
            if (sy < 0 || sy >= H)
              continue;
#pragma unroll
            for (int kx = 0; kx < 3; kx++)
              {
                int sx = x + kx - 1;
                if (sx < 0 || sx >= W)
                  continue;
                acc[ky * 3 + kx] += g * in[((b * H + sy) * W + sx) * C + c];
              }
          }
      }
#pragma unroll
  for (int t = 0; t < 9; t++)
    red[t][ty][tx] = acc[t];
  __syncthreads ();
  if (c < C)
    for (int t = ty; t < 9; t += LANES)
      {
        float s = 0.0f;
        for (int l = 0; l < LANES; l++)
          s += red[t][l][tx];
        part[(ch * 9 + t) * C + c] = s;
      }
}

extern "C" void
vb_cuda_dwconv3x3_forward (VbCuda *cu, float *out, const float *in, const float *w,
                           int B, int H, int W, int C)
{
  int64_t n = (int64_t) B * H * W * C;
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || C <= 0)
    return;
  dw_stencil_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (out, in, w, B, H,
                                                                              W, C, +1);
  VB_CUDA_LAUNCHED (cu, "dwconv3x3 forward");
}

extern "C" void
vb_cuda_dwconv3x3_backward (VbCuda *cu, float *din, float *dw,
                            const float *dout, const float *in, const float *w,
                            int B, int H, int W, int C)
{
  int64_t n = (int64_t) B * H * W * C;
  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || C <= 0)
    return;

  if (din != NULL)
    {
      dw_stencil_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
          din, dout, w, B, H, W, C, -1);
      if (!VB_CUDA_LAUNCHED (cu, "dwconv3x3 backward (din)"))
        return;
    }

  if (dw != NULL)
    {
      int64_t n_chunks = n_chunks_for ((int64_t) B * H * W);
      float *part = (float *) vb_cuda_scratch (cu, (size_t) (n_chunks * 9 * C) * sizeof (float));
      if (part == NULL)
        return;
      dw_wgrad_partials_kernel<<<dim3 ((unsigned int) ((C + 31) / 32), (unsigned int) n_chunks),
                                 dim3 (32, LANES), 0, cu->stream>>> (part, dout, in, B, H, W, C,
                                                                     n_chunks);
      if (!VB_CUDA_LAUNCHED (cu, "dwconv3x3 backward (dw partials)"))
        return;
      sum_chunks_kernel<<<(unsigned int) ((9 * (int64_t) C + 31) / 32), dim3 (32, LANES), 0,
                          cu->stream>>> (dw, part, 9 * (int64_t) C, n_chunks, C);
      VB_CUDA_LAUNCHED (cu, "dwconv3x3 backward (dw)");
    }
}

/* ---- 3×3, stride 2, padding 1 ------------------------------------------------------
 * A patch is ordered (ky, kx, ci), so the weight is permuted to wt (cout, 3, 3, cin). */

/* wt[o, t, ci] = w[o, ci, t] */
static __global__ void
permute_weight_kernel (float *__restrict__ wt, const float *__restrict__ w, int cin, int64_t n)
{
  GRID_STRIDE (j, n)
    {
      int ci = (int) (j % cin);
      int64_t ot = j / cin;
      int t = (int) (ot % 9);
      int64_t o = ot / 9;
      wt[j] = w[(o * cin + ci) * 9 + t];
    }
}

/* dw[o, ci, t] += dwt[o, t, ci] */
static __global__ void
unpermute_add_kernel (float *__restrict__ dw, const float *__restrict__ dwt, int cin, int64_t n)
{
  GRID_STRIDE (j, n)
    {
      int t = (int) (j % 9);
      int64_t oc = j / 9;
      int ci = (int) (oc % cin);
      int64_t o = oc / cin;
      dw[j] += dwt[(o * 9 + t) * cin + ci];
    }
}

/* cols[(b, oy, ox), (ky, kx, ci)] = in[b, 2oy − 1 + ky, 2ox − 1 + kx, ci], 0 outside */
static __global__ void
im2col_kernel (float *__restrict__ cols, const float *__restrict__ in, int nb, int H, int W,
               int cin)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t n = (int64_t) nb * Ho * Wo * K;

  GRID_STRIDE (i, n)
    {
      int k = (int) (i % K);
      int64_t r = i / K;
      int t = k / cin, ci = k % cin;
      int ox = (int) (r % Wo);
      int64_t q = r / Wo;
      int oy = (int) (q % Ho);
      int64_t b = q / Ho;
      int y = 2 * oy - 1 + t / 3, x = 2 * ox - 1 + t % 3;
      cols[i] = (y < 0 || y >= H || x < 0 || x >= W) ? 0.0f
                                                     : in[((b * H + y) * W + x) * cin + ci];
    }
}

/* din[b, y, x, ci] = Σ over the taps that read (y, x) of dcols[(b, oy, ox), tap, ci]:
 * a gather, one thread per input element, taps in the CPU's order */
static __global__ void
col2im_gather_kernel (float *__restrict__ din, const float *__restrict__ dcols, int nb, int H,
                      int W, int cin)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t n = (int64_t) nb * H * W * cin;

  GRID_STRIDE (i, n)
    {
      int ci = (int) (i % cin);
      int64_t p = i / cin;
      int x = (int) (p % W);
      int64_t q = p / W;
      int y = (int) (q % H);
      int64_t b = q / H;
      float acc = 0.0f;

      for (int ky = 0; ky < 3; ky++)
        {
          int ty = y + 1 - ky;
          if (ty < 0 || (ty & 1) || ty / 2 >= Ho)
            continue;
          for (int kx = 0; kx < 3; kx++)
            {
              int tx = x + 1 - kx;
              if (tx < 0 || (tx & 1) || tx / 2 >= Wo)
                continue;
              acc += dcols[((b * Ho + ty / 2) * Wo + tx / 2) * K + (ky * 3 + kx) * cin + ci];
            }
        }
      din[i] = acc;
    }
}

/* out[r, o] = b[o] (the GEMM then adds with β = 1) */
static __global__ void
bias_fill_kernel (float *__restrict__ out, const float *__restrict__ b, int cout, int64_t n)
{
  GRID_STRIDE (i, n)
    out[i] = b[i % cout];
}

static int
samples_per_chunk (int B, int64_t per_sample)
{
  int64_t s = COLS_BUDGET / (per_sample > 0 ? per_sample : 1);
  if (s < 1)
    s = 1;
  return s > B ? B : (int) s;
}

extern "C" void
vb_cuda_conv3x3s2_forward (VbCuda *cu, float *out, const float *in, const float *w,
                           const float *b, int B, int H, int W, int cin, int cout)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t per_sample = (int64_t) Ho * Wo * K;
  const float one = 1.0f, zero = 0.0f;

  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || cin <= 0 || cout <= 0)
    return;

  int chunk = samples_per_chunk (B, per_sample);
  size_t wt_len = aligned (cout * K);
  float *wt = (float *) vb_cuda_scratch (cu, (wt_len + (size_t) (chunk * per_sample))
                                                 * sizeof (float));
  if (wt == NULL)
    return;
  float *cols = wt + wt_len;

  permute_weight_kernel<<<vb_cuda_blocks (cout * K, THREADS), THREADS, 0, cu->stream>>> (
      wt, w, cin, cout * K);
  if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 forward (weight)"))
    return;

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      float *out_c = out + (int64_t) b0 * Ho * Wo * cout;

      im2col_kernel<<<vb_cuda_blocks (rows * K, THREADS), THREADS, 0, cu->stream>>> (
          cols, in + (int64_t) b0 * H * W * cin, nb, H, W, cin);
      if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 forward (im2col)"))
        return;
      if (b != NULL)
        {
          bias_fill_kernel<<<vb_cuda_blocks (rows * cout, THREADS), THREADS, 0, cu->stream>>> (
              out_c, b, cout, rows * cout);
          if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 forward (bias)"))
            return;
        }
      /* column-major view: outᵀ (cout × rows) = wtᵀᵀ (cout × K) · colsᵀ (K × rows) */
      if (!vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_T, CUBLAS_OP_N, cout,
                                                (int) rows, (int) K, &one, wt, (int) K, cols,
                                                (int) K, b != NULL ? &one : &zero, out_c, cout),
                               "conv3x3s2 forward (sgemm)"))
        return;
    }
}

extern "C" void
vb_cuda_conv3x3s2_backward (VbCuda *cu, float *din, float *dw, float *db,
                            const float *dout, const float *in, const float *w,
                            int B, int H, int W, int cin, int cout)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin;
  int64_t per_sample = (int64_t) Ho * Wo * K;
  int64_t rows_all = (int64_t) B * Ho * Wo;
  const float one = 1.0f, zero = 0.0f;

  VB_CUDA_GUARD (cu);
  if (B <= 0 || H <= 0 || W <= 0 || cin <= 0 || cout <= 0)
    return;
  if (din == NULL && dw == NULL && db == NULL)
    return;

  /* one scratch call: [db partials | wt | dwt | cols]; cols serves as the im2col matrix
   * (for dw) and then as the column gradient (for din) */
  int chunk = samples_per_chunk (B, per_sample);
  size_t part_len = db != NULL ? aligned (n_chunks_for (rows_all) * cout) : 0;
  size_t wt_len = din != NULL ? aligned (cout * K) : 0;
  size_t dwt_len = dw != NULL ? aligned (cout * K) : 0;
  size_t cols_len = din != NULL || dw != NULL ? (size_t) (chunk * per_sample) : 0;
  float *part = (float *) vb_cuda_scratch (cu, (part_len + wt_len + dwt_len + cols_len)
                                                   * sizeof (float));
  if (part == NULL)
    return;
  float *wt = part + part_len, *dwt = wt + wt_len, *cols = dwt + dwt_len;

  if (db != NULL && !colsum_acc (cu, db, part, dout, rows_all, cout, "conv3x3s2 backward (db)"))
    return;
  if (din == NULL && dw == NULL)
    return;

  if (din != NULL)
    {
      permute_weight_kernel<<<vb_cuda_blocks (cout * K, THREADS), THREADS, 0, cu->stream>>> (
          wt, w, cin, cout * K);
      if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 backward (weight)"))
        return;
    }

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      const float *dout_c = dout + (int64_t) b0 * Ho * Wo * cout;

      if (dw != NULL)
        {
          im2col_kernel<<<vb_cuda_blocks (rows * K, THREADS), THREADS, 0, cu->stream>>> (
              cols, in + (int64_t) b0 * H * W * cin, nb, H, W, cin);
          if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 backward (im2col)"))
            return;
          /* wgrad, column-major: dwtᵀ (K × cout) (+)= colsᵀ (K × rows) · dout_c (rows × cout);
           * β = 0 on the first chunk, so the scratch needs no clearing */
          if (!vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_T, (int) K,
                                                    cout, (int) rows, &one, cols, (int) K,
                                                    dout_c, cout, b0 == 0 ? &zero : &one, dwt,
                                                    (int) K),
                                   "conv3x3s2 backward (wgrad sgemm)"))
            return;
        }
      if (din != NULL)
        {
          /* dgrad, column-major: dcolsᵀ (K × rows) = wtᵀ (K × cout) · doutᵀ (cout × rows) */
          if (!vb_cuda_check_blas (cu, cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int) K,
                                                    (int) rows, cout, &one, wt, (int) K, dout_c,
                                                    cout, &zero, cols, (int) K),
                                   "conv3x3s2 backward (dgrad sgemm)"))
            return;
          col2im_gather_kernel<<<vb_cuda_blocks ((int64_t) nb * H * W * cin, THREADS), THREADS,
                                 0, cu->stream>>> (din + (int64_t) b0 * H * W * cin, cols, nb,
                                                   H, W, cin);
          if (!VB_CUDA_LAUNCHED (cu, "conv3x3s2 backward (col2im)"))
            return;
        }
    }

  if (dw != NULL)
    {
      unpermute_add_kernel<<<vb_cuda_blocks (cout * K, THREADS), THREADS, 0, cu->stream>>> (
          dw, dwt, cin, cout * K);
      VB_CUDA_LAUNCHED (cu, "conv3x3s2 backward (dw)");
    }
}
