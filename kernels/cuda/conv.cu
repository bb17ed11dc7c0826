/* conv.cu: the 3×3 / stride 2 / pad 1 convolution (VMamba's stem and downsampling), NHWC,
 * fp32, with the arithmetic of kernels/cpu/conv3x3s2.c, and the column sums of the
 * gradient partials. (The depthwise 3×3 is in dwconv.cu.)
 *
 * Channels move as float4s when C % 4 == 0 and every pointer is 16-byte aligned, else as
 * floats (the same kernels, VW = 4 or 1).
 *
 * Parameter gradients never use atomics: blocks sum fixed pixel chunks (boundaries
 * depend on the shape only) into partials in scratch, and vb_cuda_param_sum adds the
 * chunks in a fixed order, so runs repeat bit for bit. The strided convolution runs as
 * im2col + cuBLAS sgemm (the context's handle and math mode, cu->stream); its input
 * gradient is a dgrad GEMM into columns followed by a col2im gather. Its bf16 form
 * (vb_cuda_conv3x3s2_*_bf16) is the same pipeline on bf16 columns, weight and dout with
 * cublasGemmEx products accumulating in fp32 (8 channels = 16 bytes per vector). */
#include <stdint.h>

#include <cuda_bf16.h>

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

#include "vb-cuda-vec.h"

static bool
aligned16 (const void *p)
{
  return ((uintptr_t) p & 15u) == 0;
}

/* y blocks for `rows` row iterations (the kernels loop when there are more) */
static unsigned int
y_blocks (int64_t rows)
{
  return (unsigned int) (rows < 65535 ? (rows < 1 ? 1 : rows) : 65535);
}

/* x blocks of ≤ 512 threads (a multiple of 32) covering `items` evenly */
static void
x_split (int64_t items, unsigned int *blocks, unsigned int *threads)
{
  int64_t nb = (items + 511) / 512;
  int64_t per = (items + nb - 1) / nb;
  *blocks = (unsigned int) nb;
  *threads = (unsigned int) ((per + 31) / 32 * 32);
}

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
  /* the partials share the op's scratch: summed at once, never queued */
  vb_cuda_param_sum (cu, dst, part, cols, cols, (int) n_chunks);
  return cu->error[0] == '\0';
}

/* ---- 3×3, stride 2, padding 1 ------------------------------------------------------
 * A patch is ordered (ky, kx, ci), so the weight is permuted to wt (cout, 3, 3, cin).
 * The kernels take the element type of the im2col matrix and the permuted weight: float
 * for the fp32 ops (rows of K = 9·cin), VbBf16 for the bf16 ones (rows of ldk: K rounded
 * up to 8 elements, so every row starts 16-byte aligned for the vector kernels and for
 * cuBLAS; the products read the first K of each). */

/* wt[o, t, ci] (rows of ld) = w[o, ci, t], rounded to T; n = cout·9·cin < 2^31 */
template <typename T>
static __global__ void
permute_weight_kernel (T *__restrict__ wt, const float *__restrict__ w, int cin, int64_t ld,
                       int n)
{
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x)
    {
      int ci = j % cin, ot = j / cin;
      int t = ot % 9, o = ot / 9;
      Vec<1> v;
      v.v[0] = w[(o * cin + ci) * 9 + t];
      vstore<1> (wt + o * ld + t * cin + ci, v);
    }
}

/* dw[o, ci, t] += dwt[o, t, ci] */
static __global__ void
unpermute_add_kernel (float *__restrict__ dw, const float *__restrict__ dwt, int cin,
                      int64_t ld, int n)
{
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x)
    {
      int t = j % 9, oc = j / 9;
      int ci = oc % cin, o = oc / cin;
      dw[j] += dwt[o * ld + t * cin + ci];
    }
}

/* cols[(b, oy, ox), (ky, kx, ci)] = in[b, 2oy − 1 + ky, 2ox − 1 + kx, ci], 0 outside
 * (rounded to T once), rows of ld elements. A thread owns (ox, channel vector) and writes
 * its 9 taps; blockIdx.y walks the output rows (b, oy). */
template <int VW, typename T>
static __global__ void
im2col_kernel (T *__restrict__ cols, const float *__restrict__ in, int nb, int H, int W,
               int cin, int64_t ld)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2, CV = cin / VW;
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= Wo * CV)
    return;
  int cv = j % CV, ox = j / CV;
  int64_t q_end = (int64_t) nb * Ho;
  int64_t K = 9 * (int64_t) cin;

  for (int64_t q = blockIdx.y; q < q_end; q += gridDim.y)
    {
      int oy = (int) (q % Ho);
      int64_t b = q / Ho;
      T *dst = cols + (q * Wo + ox) * ld + cv * VW;
#pragma unroll
      for (int ky = 0; ky < 3; ky++)
        {
          int y = 2 * oy - 1 + ky;
#pragma unroll
          for (int kx = 0; kx < 3; kx++)
            {
              int x = 2 * ox - 1 + kx;
              Vec<VW> v = y < 0 || y >= H || x < 0 || x >= W
                          ? vzero<VW> ()
                          : vload<VW> (in + ((b * H + y) * W + x) * cin + cv * VW);
              vstore<VW> (dst + (ky * 3 + kx) * cin, v);
            }
        }
      /* a bf16 row's padding to ld (the products run over all of it: aligned rows take
       * cuBLAS's fast kernels) holds zeros */
      if (cv == 0)
        for (int64_t e = K; e < ld; e++)
          dst[e] = T (0);
    }
}

/* The same for an image of CIN channels (the stem's RGB) into bf16 rows of LD: one thread
 * a pixel builds its whole row (patch, then the padding's zeros) in registers and stores
 * it as 16-byte vectors; the general kernel's 9·CIN scattered 2-byte stores a pixel ran
 * at a tenth of the memory rate */
template <int CIN, int LD>
static __global__ void
im2col_rows_kernel (VbBf16 *__restrict__ cols, const float *__restrict__ in, int nb, int H,
                    int W)
{
  static_assert (9 * CIN <= LD && LD % 8 == 0, "a patch in whole 16-byte vectors");
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t n = (int64_t) nb * Ho * Wo;
  for (int64_t p = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; p < n;
       p += (int64_t) gridDim.x * blockDim.x)
    {
      int ox, oy;
      int64_t b = vb_div_index (vb_div_index (p, Wo, &ox), Ho, &oy);
      union { unsigned short h[LD]; uint4 u[LD / 8]; } row;
#pragma unroll
      for (int e = 0; e < LD; e++)
        row.h[e] = 0;
#pragma unroll
      for (int t = 0; t < 9; t++)
        {
          int y = 2 * oy - 1 + t / 3, x = 2 * ox - 1 + t % 3;
          if (y >= 0 && y < H && x >= 0 && x < W)
#pragma unroll
            for (int ci = 0; ci < CIN; ci++)
              row.h[t * CIN + ci] =
                (unsigned short) bf16_bits (in[((b * H + y) * W + x) * CIN + ci]);
        }
      uint4 *dst = reinterpret_cast<uint4 *> (cols + p * LD);
#pragma unroll
      for (int v = 0; v < LD / 8; v++)
        dst[v] = row.u[v];
    }
}

/* din[b, y, x, ci] = Σ over the taps that read (y, x) of dcols[(b, oy, ox), tap, ci]
 * (rows of ld elements of T), added in fp32: a gather, taps in the CPU's order. A thread
 * owns (x, channel vector); blockIdx.y walks the input rows (b, y). */
template <int VW, typename T>
static __global__ void
col2im_gather_kernel (float *__restrict__ din, const T *__restrict__ dcols, int nb, int H,
                      int W, int cin, int64_t ld)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2, CV = cin / VW;
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= W * CV)
    return;
  int cv = j % CV, x = j / CV;
  int64_t q_end = (int64_t) nb * H;

  for (int64_t q = blockIdx.y; q < q_end; q += gridDim.y)
    {
      int y = (int) (q % H);
      int64_t b = q / H;
      Vec<VW> acc = vzero<VW> ();
#pragma unroll
      for (int ky = 0; ky < 3; ky++)
        {
          int ty = y + 1 - ky;
          if (ty < 0 || (ty & 1) || ty / 2 >= Ho)
            continue;
#pragma unroll
          for (int kx = 0; kx < 3; kx++)
            {
              int tx = x + 1 - kx;
              if (tx < 0 || (tx & 1) || tx / 2 >= Wo)
                continue;
              Vec<VW> s = vload<VW> (dcols + ((b * Ho + ty / 2) * Wo + tx / 2) * ld
                                     + (ky * 3 + kx) * cin + cv * VW);
#pragma unroll
              for (int e = 0; e < VW; e++)
                acc.v[e] += s.v[e];
            }
        }
      vstore<VW> (din + (q * W + x) * cin + cv * VW, acc);
    }
}

/* out[r, o] = b[o] (the GEMM then adds with β = 1); n vectors of VW, cout = CV·VW. The
 * column advances by the stride mod CV per step: no division in the loop. */
template <int VW>
static __global__ void
bias_fill_kernel (float *__restrict__ out, const float *__restrict__ b, int CV, int64_t n)
{
  int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
  int64_t stride = (int64_t) gridDim.x * blockDim.x;
  int o = (int) (i % CV), step = (int) (stride % CV);

  for (; i < n; i += stride)
    {
      vstore<VW> (out + i * VW, vload<VW> (b + o * VW));
      o += step;
      if (o >= CV)
        o -= CV;
    }
}

/* the widest channel vector (8, 4 or 1 values) that cin and every pointer allow: a
 * channel-last pixel then starts at a multiple of the vector */
static int
channel_vector (int cin, const void *a, const void *b)
{
  bool al = aligned16 (a) && (b == NULL || aligned16 (b));
  return al && cin % 8 == 0 ? 8 : al && cin % 4 == 0 ? 4 : 1;
}

template <int VW, typename T>
static void
im2col_vw (VbCuda *cu, T *cols, int64_t ld, const float *in, int nb, int H, int W, int cin)
{
  int Wo = (W + 1) / 2, Ho = (H + 1) / 2;
  unsigned int bx, threads;
  x_split ((int64_t) Wo * (cin / VW), &bx, &threads);
  im2col_kernel<VW, T><<<dim3 (bx, y_blocks ((int64_t) nb * Ho)), threads, 0, cu->stream>>> (
      cols, in, nb, H, W, cin, ld);
}

/* vw from channel_vector (cin, in, ...); 8 only for bf16 columns (whose rows of ldk keep
 * a vector of 8 aligned) */
template <typename T>
static int
im2col (VbCuda *cu, int vw, T *cols, int64_t ld, const float *in, int nb, int H, int W,
        int cin, const char *what)
{
  if constexpr (sizeof (T) == sizeof (VbBf16))
    if (cin == 3 && ld == 32 && aligned16 (cols))
      {
        int64_t n = (int64_t) nb * ((H + 1) / 2) * ((W + 1) / 2);
        im2col_rows_kernel<3, 32><<<vb_cuda_blocks (n, 256), 256, 0, cu->stream>>> (
            (VbBf16 *) cols, in, nb, H, W);
        return VB_CUDA_LAUNCHED (cu, what);
      }
  if (vw == 8)
    im2col_vw<8> (cu, cols, ld, in, nb, H, W, cin);
  else if (vw == 4)
    im2col_vw<4> (cu, cols, ld, in, nb, H, W, cin);
  else
    im2col_vw<1> (cu, cols, ld, in, nb, H, W, cin);
  return VB_CUDA_LAUNCHED (cu, what);
}

template <int VW, typename T>
static void
col2im_vw (VbCuda *cu, float *din, const T *dcols, int64_t ld, int nb, int H, int W, int cin)
{
  unsigned int bx, threads;
  x_split ((int64_t) W * (cin / VW), &bx, &threads);
  col2im_gather_kernel<VW, T><<<dim3 (bx, y_blocks ((int64_t) nb * H)), threads, 0,
                                cu->stream>>> (din, dcols, nb, H, W, cin, ld);
}

template <typename T>
static int
col2im (VbCuda *cu, int vw, float *din, const T *dcols, int64_t ld, int nb, int H, int W,
        int cin, const char *what)
{
  if (vw == 8)
    col2im_vw<8> (cu, din, dcols, ld, nb, H, W, cin);
  else if (vw == 4)
    col2im_vw<4> (cu, din, dcols, ld, nb, H, W, cin);
  else
    col2im_vw<1> (cu, din, dcols, ld, nb, H, W, cin);
  return VB_CUDA_LAUNCHED (cu, what);
}

template <typename T>
static int
permute_weight (VbCuda *cu, T *wt, int64_t ld, const float *w, int cin, int cout,
                const char *what)
{
  int n = cout * 9 * cin;
  /* a padded row's tail is zero: the products run over the padding too */
  if (ld > 9 * (int64_t) cin
      && !vb_cuda_check_rt (cu, cudaMemsetAsync (wt, 0, (size_t) (cout * ld) * sizeof (T),
                                                 cu->stream), what))
    return 0;
  permute_weight_kernel<T><<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
      wt, w, cin, ld, n);
  return VB_CUDA_LAUNCHED (cu, what);
}

/* out (rows × cout) = b in every row, before a β = 1 product */
static int
bias_fill (VbCuda *cu, float *out, const float *b, int64_t rows, int cout, const char *what)
{
  if (cout % 4 == 0 && aligned16 (out) && aligned16 (b))
    bias_fill_kernel<4><<<vb_cuda_blocks (rows * cout / 4, THREADS), THREADS, 0, cu->stream>>> (
        out, b, cout / 4, rows * cout / 4);
  else
    bias_fill_kernel<1><<<vb_cuda_blocks (rows * cout, THREADS), THREADS, 0, cu->stream>>> (
        out, b, cout, rows * cout);
  return VB_CUDA_LAUNCHED (cu, what);
}

/* dw += dwt (cout, 3, 3, cin) put back into (cout, cin, 3, 3) */
static void
unpermute_add (VbCuda *cu, float *dw, const float *dwt, int64_t ld, int cin, int cout,
               const char *what)
{
  int n = cout * 9 * cin;
  unpermute_add_kernel<<<vb_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dw, dwt, cin,
                                                                                 ld, n);
  VB_CUDA_LAUNCHED (cu, what);
}

static int
samples_per_chunk (int B, int64_t per_sample)
{
  int64_t s = COLS_BUDGET / (per_sample > 0 ? per_sample : 1);
  if (s < 1)
    s = 1;
  return s > B ? B : (int) s;
}

/* the shapes both forms check: 0 when there is nothing to do or the weight is too large
 * (the error recorded) */
static int
conv_shape_ok (VbCuda *cu, int B, int H, int W, int cin, int cout, int64_t ld,
               const char *what)
{
  if (B <= 0 || H <= 0 || W <= 0 || cin <= 0 || cout <= 0)
    return 0;
  if (cout * ld > INT32_MAX)
    {
      vb_cuda_check_rt (cu, cudaErrorInvalidValue, what);
      return 0;
    }
  return 1;
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
  if (!conv_shape_ok (cu, B, H, W, cin, cout, K, "conv3x3s2 forward (weight too large)"))
    return;
  int vw = cin % 4 == 0 && aligned16 (in) ? 4 : 1;
  int chunk = samples_per_chunk (B, per_sample);
  size_t wt_len = aligned (cout * K);
  float *wt = (float *) vb_cuda_scratch (cu, (wt_len + (size_t) (chunk * per_sample))
                                                 * sizeof (float));
  if (wt == NULL)
    return;
  float *cols = wt + wt_len;

  if (!permute_weight (cu, wt, K, w, cin, cout, "conv3x3s2 forward (weight)"))
    return;

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      float *out_c = out + (int64_t) b0 * Ho * Wo * cout;

      if (!im2col (cu, vw, cols, K, in + (int64_t) b0 * H * W * cin, nb, H, W, cin,
                   "conv3x3s2 forward (im2col)"))
        return;
      if (b != NULL && !bias_fill (cu, out_c, b, rows, cout, "conv3x3s2 forward (bias)"))
        return;
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
  if (din == NULL && dw == NULL && db == NULL)
    return;
  if (!conv_shape_ok (cu, B, H, W, cin, cout, K, "conv3x3s2 backward (weight too large)"))
    return;
  int vw = cin % 4 == 0 && aligned16 (in) && (din == NULL || aligned16 (din)) ? 4 : 1;

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

  if (din != NULL && !permute_weight (cu, wt, K, w, cin, cout, "conv3x3s2 backward (weight)"))
    return;

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      const float *dout_c = dout + (int64_t) b0 * Ho * Wo * cout;

      if (dw != NULL)
        {
          if (!im2col (cu, vw, cols, K, in + (int64_t) b0 * H * W * cin, nb, H, W, cin,
                       "conv3x3s2 backward (im2col)"))
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
          if (!col2im (cu, vw, din + (int64_t) b0 * H * W * cin, cols, K, nb, H, W, cin,
                       "conv3x3s2 backward (col2im)"))
            return;
        }
    }

  if (dw != NULL)
    unpermute_add (cu, dw, dwt, 9 * (int64_t) cin, cin, cout, "conv3x3s2 backward (dw)");
}

/* ---- 3×3, stride 2 with bf16 products (vb-cuda-ops.h vb_cuda_conv3x3s2_*_bf16) -------
 * As the fp32 ops, with the im2col matrix, the permuted weight and each chunk's dout as
 * bf16 (half the bytes of the column traffic) and the products on cublasGemmEx (bf16 A
 * and B, CUBLAS_COMPUTE_32F): fp32 C for out and dwt, a bf16 C for the column gradient,
 * which col2im reads and adds in fp32. Scratch is counted in bytes, each part starting
 * 256-byte aligned. */

/* bf16 rows rounded up to 8 elements (16 bytes) */
static int64_t
ld16 (int64_t k)
{
  return (k + 7) / 8 * 8;
}

/* bytes rounded up to 256 */
static size_t
aligned_bytes (int64_t bytes)
{
  return (size_t) ((bytes + 255) / 256 * 256);
}


extern "C" void
vb_cuda_conv3x3s2_forward_bf16 (VbCuda *cu, float *out, const float *in, const float *w,
                                const float *b, int B, int H, int W, int cin, int cout)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin, ldk = ld16 (K);
  int64_t per_sample = (int64_t) Ho * Wo * ldk;

  VB_CUDA_GUARD (cu);
  if (!conv_shape_ok (cu, B, H, W, cin, cout, ldk,
                      "conv3x3s2 forward bf16 (weight too large)"))
    return;
  int vw = channel_vector (cin, in, NULL);
  int chunk = samples_per_chunk (B, per_sample);
  size_t wt_bytes = aligned_bytes (cout * ldk * (int64_t) sizeof (VbBf16));
  char *base = (char *) vb_cuda_scratch (cu, wt_bytes + (size_t) (chunk * per_sample)
                                                        * sizeof (VbBf16));
  if (base == NULL)
    return;
  VbBf16 *wt = (VbBf16 *) base, *cols = (VbBf16 *) (base + wt_bytes);

  if (!permute_weight (cu, wt, ldk, w, cin, cout, "conv3x3s2 forward bf16 (weight)"))
    return;

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;
      float *out_c = out + (int64_t) b0 * Ho * Wo * cout;

      if (!im2col (cu, vw, cols, ldk, in + (int64_t) b0 * H * W * cin, nb, H, W, cin,
                   "conv3x3s2 forward bf16 (im2col)"))
        return;
      if (b != NULL && !bias_fill (cu, out_c, b, rows, cout, "conv3x3s2 forward bf16 (bias)"))
        return;
      /* column-major view: outᵀ (cout × rows) = wtᵀᵀ (cout × ldk) · colsᵀ (ldk × rows),
       * over the zero padding too (K = 27 for the stem's RGB input left cuBLAS only its
       * 2-element-aligned kernels, a quarter of the speed) */
      if (!vb_cuda_gemm_bf16 (cu, CUBLAS_OP_T, CUBLAS_OP_N, cout, (int) rows, (int) ldk, wt,
                              (int) ldk, cols, (int) ldk, b != NULL ? 1.0f : 0.0f, out_c,
                              CUDA_R_32F, cout, "conv3x3s2 forward bf16 (gemm)"))
        return;
    }
}

extern "C" void
vb_cuda_conv3x3s2_backward_bf16 (VbCuda *cu, float *din, float *dw, float *db,
                                 const float *dout, const float *in, const float *w,
                                 int B, int H, int W, int cin, int cout)
{
  int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  int64_t K = 9 * (int64_t) cin, ldk = ld16 (K);
  int64_t per_sample = (int64_t) Ho * Wo * ldk;
  int64_t rows_all = (int64_t) B * Ho * Wo;

  VB_CUDA_GUARD (cu);
  if (din == NULL && dw == NULL && db == NULL)
    return;
  if (!conv_shape_ok (cu, B, H, W, cin, cout, ldk,
                      "conv3x3s2 backward bf16 (weight too large)"))
    return;
  int vw_in = channel_vector (cin, in, NULL);
  int vw_din = din != NULL ? channel_vector (cin, din, NULL) : 1;

  /* one scratch call: [db partials | dwt (fp32) | wt | dout16 | cols (bf16)]; cols serves
   * as the im2col matrix (for dw) and then as the column gradient (for din), dout16 as
   * the chunk's dout rounded once for both products */
  int chunk = samples_per_chunk (B, per_sample);
  bool prod = din != NULL || dw != NULL;
  size_t part_bytes = db != NULL ? aligned (n_chunks_for (rows_all) * cout) * sizeof (float)
                                 : 0;
  size_t dwt_bytes = dw != NULL ? aligned (cout * ldk) * sizeof (float) : 0;
  size_t wt_bytes = din != NULL ? aligned_bytes (cout * ldk * (int64_t) sizeof (VbBf16)) : 0;
  size_t dout_bytes = prod ? aligned_bytes ((int64_t) chunk * Ho * Wo * cout
                                            * (int64_t) sizeof (VbBf16))
                           : 0;
  size_t cols_bytes = prod ? (size_t) (chunk * per_sample) * sizeof (VbBf16) : 0;
  char *base = (char *) vb_cuda_scratch (cu, part_bytes + dwt_bytes + wt_bytes + dout_bytes
                                                 + cols_bytes);
  if (base == NULL)
    return;
  float *part = (float *) base, *dwt = (float *) (base + part_bytes);
  VbBf16 *wt = (VbBf16 *) (base + part_bytes + dwt_bytes);
  VbBf16 *dout16 = (VbBf16 *) ((char *) wt + wt_bytes);
  VbBf16 *cols = (VbBf16 *) ((char *) dout16 + dout_bytes);

  /* the bias gradient sums the unrounded dout */
  if (db != NULL
      && !colsum_acc (cu, db, part, dout, rows_all, cout, "conv3x3s2 backward bf16 (db)"))
    return;
  if (!prod)
    return;

  if (din != NULL
      && !permute_weight (cu, wt, ldk, w, cin, cout, "conv3x3s2 backward bf16 (weight)"))
    return;

  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int nb = B - b0 < chunk ? B - b0 : chunk;
      int64_t rows = (int64_t) nb * Ho * Wo;

      vb_cuda_to_bf16 (cu, dout16, dout + (int64_t) b0 * Ho * Wo * cout, NULL, 1,
                       rows * cout);
      if (cu->error[0] != '\0')
        return;
      if (dw != NULL)
        {
          if (!im2col (cu, vw_in, cols, ldk, in + (int64_t) b0 * H * W * cin, nb, H, W, cin,
                       "conv3x3s2 backward bf16 (im2col)"))
            return;
          /* wgrad, column-major: dwtᵀ (ldk × cout) (+)= colsᵀ (ldk × rows) · dout16 (rows ×
           * cout), the padding rows' zeros included (aligned: see the forward); β = 0 on
           * the first chunk, so the scratch needs no clearing */
          if (!vb_cuda_gemm_bf16 (cu, CUBLAS_OP_N, CUBLAS_OP_T, (int) ldk, cout, (int) rows,
                                  cols, (int) ldk, dout16, cout, b0 == 0 ? 0.0f : 1.0f, dwt,
                                  CUDA_R_32F, (int) ldk, "conv3x3s2 backward bf16 (wgrad gemm)"))
            return;
        }
      if (din != NULL)
        {
          /* dgrad, column-major: dcolsᵀ (ldk × rows) = wtᵀ (ldk × cout) · dout16ᵀ (cout ×
           * rows), rounded once to bf16 (β = 0); the padding rows come out zero */
          if (!vb_cuda_gemm_bf16 (cu, CUBLAS_OP_N, CUBLAS_OP_N, (int) ldk, (int) rows, cout, wt,
                                  (int) ldk, dout16, cout, 0.0f, cols, CUDA_R_16BF, (int) ldk,
                                  "conv3x3s2 backward bf16 (dgrad gemm)"))
            return;
          if (!col2im (cu, vw_din, din + (int64_t) b0 * H * W * cin, cols, ldk, nb, H, W, cin,
                       "conv3x3s2 backward bf16 (col2im)"))
            return;
        }
    }

  if (dw != NULL)
    unpermute_add (cu, dw, dwt, ldk, cin, cout, "conv3x3s2 backward bf16 (dw)");
}
