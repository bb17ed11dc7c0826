/* vit_bf16.c: the CLIP tower's bf16-storage ops (vb-cpu-vit.h "bf16 storage"): each the
 * fp32 op on widened inputs, every output rounded once. The reference the GPU's kernels
 * are checked against, and what runs the tower's bf16 path on the CPU in tests. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"
#include "vb-cpu-vit.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* n bf16 values widened into a new fp32 buffer (NULL when there is no room) */
static float *
widened (const VbBf16 *src, int64_t n)
{
  float *x = malloc ((size_t) (n > 0 ? n : 1) * sizeof (float));
  if (x != NULL)
    for (int64_t i = 0; i < n; i++)
      x[i] = vb_bf16_to_float (src[i]);
  return x;
}

static void
rounded_into (VbBf16 *dst, const float *src, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    dst[i] = vb_bf16_from_float (src[i]);
}

int
vb_layernorm_forward_b16 (VbBf16 *out, float *mean, float *rstd, const VbBf16 *in,
                          const float *gamma, const float *beta, int64_t n, int c, float eps)
{
  float *x = widened (in, n * c), *y = widened (in, n * c);
  int rc = -1;
  if (x != NULL && y != NULL)
    {
      vb_layernorm_forward (y, mean, rstd, x, gamma, beta, n, c, eps);
      rounded_into (out, y, n * c);
      rc = 0;
    }
  free (x);
  free (y);
  return rc;
}

int
vb_quick_gelu_forward_bf16 (VbBf16 *out, const VbBf16 *in, int64_t n)
{
  if (n <= 0)
    return 0;
  float *x = widened (in, n);
  if (x == NULL)
    return -1;
  vb_quick_gelu_forward (x, x, n);
  rounded_into (out, x, n);
  free (x);
  return 0;
}

int
vb_attention_forward_bf16 (VbBf16 *out, const VbBf16 *qkv, int B, int N, int heads,
                           int head_dim, float scale)
{
  int64_t D = (int64_t) heads * head_dim, rows = (int64_t) B * N;
  float *x = widened (qkv, rows * 3 * D);
  float *o = malloc ((size_t) MAX (rows * D, 1) * sizeof (float));
  int rc = -1;
  if (x != NULL && o != NULL
      && (rc = vb_attention_forward (o, x, B, N, heads, head_dim, scale)) == 0)
    rounded_into (out, o, rows * D);
  free (x);
  free (o);
  return rc;
}

/* the Gated projector's gate on p's interleaved blocks of 8 (value, then gate), as
 * vb_sigmoid_gate_forward computes it */
static void
gate_interleaved (VbBf16 *out, const float *p, int64_t n, int out_f)
{
  int C = out_f / 2;
  for (int64_t r = 0; r < n; r++)
    for (int c = 0; c < C; c++)
      {
        const float *blk = p + r * out_f + c / 8 * 16 + c % 8;
        float s = 1.0f / (1.0f + expf (-blk[8]));
        out[r * C + c] = vb_bf16_from_float (s * blk[0]);
      }
}

int
vb_linear_b16 (VbBf16 *out, const VbBf16 *in, const VbBf16 *w, const VbBf16 *b, int64_t n,
               int in_f, int out_f, int epi)
{
  if (epi < VB_LINEAR_B16_STORE || epi > VB_LINEAR_B16_GATE
      || (epi == VB_LINEAR_B16_GATE && out_f % 16 != 0))
    return -1;
  int add = epi == VB_LINEAR_B16_ADD;
  float *xin = widened (in, n * in_f), *wf = widened (w, (int64_t) out_f * in_f);
  float *y = widened (out, add ? n * out_f : 0), *bf = b != NULL ? widened (b, out_f) : NULL;
  float *p = malloc ((size_t) MAX (n * out_f, 1) * sizeof (float));
  int rc = -1;
  if (xin != NULL && wf != NULL && y != NULL && p != NULL && (b == NULL || bf != NULL))
    {
      /* (product + bias) + out in fp32, as the GPU's epilogue adds them */
      vb_linear_forward (p, out_f, xin, in_f, wf, bf, n, in_f, out_f);
      if (add)
        for (int64_t i = 0; i < n * out_f; i++)
          p[i] = p[i] + y[i];
      if (epi == VB_LINEAR_B16_QUICK_GELU)
        vb_quick_gelu_forward (p, p, n * out_f);
      if (epi == VB_LINEAR_B16_GATE)
        gate_interleaved (out, p, n, out_f);
      else
        rounded_into (out, p, n * out_f);
      rc = 0;
    }
  free (xin);
  free (wf);
  free (y);
  free (bf);
  free (p);
  return rc;
}

void
vb_widen_rows (float *dst, int64_t ld_dst, const VbBf16 *src, int64_t ld_src, int64_t rows,
               int64_t cols)
{
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      dst[r * ld_dst + c] = vb_bf16_to_float (src[r * ld_src + c]);
}
