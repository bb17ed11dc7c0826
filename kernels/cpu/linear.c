/* linear.c: per-row matrix product (Linear and 1×1 convolution): the forward on the
 * thin-product kernel of gemm_nt.c where the build has one, the rest on OpenBLAS. */
#include "config.h"

#include <cblas.h>

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

static int use_own_gemm = 1;

int
vb_cpu_use_own_gemm (int enable)
{
  use_own_gemm = enable && vb_gemm_nt_available ();
  return use_own_gemm;
}

const char *
vb_cpu_gemm_name (void)
{
  return use_own_gemm && vb_gemm_nt_available () ? vb_gemm_nt_name () : "OpenBLAS sgemm";
}

void
vb_linear_forward (float *out, int64_t ld_out,
                   const float *in, int64_t ld_in,
                   const float *w, const float *b,
                   int64_t n, int in_f, int out_f)
{
  float beta = 0.0f;

  if (n <= 0 || out_f <= 0)
    return;

  if (in_f > 0 && use_own_gemm
      && vb_gemm_nt (out, ld_out, in, ld_in, w, b, n, out_f, in_f, 0))
    return;

  if (b != NULL)
    {
      /* seed every row with the bias and let sgemm accumulate onto it */
#pragma omp parallel for schedule(static) if (n * out_f > 65536)
      for (int64_t r = 0; r < n; r++)
        memcpy (out + r * ld_out, b, (size_t) out_f * sizeof (float));
      beta = 1.0f;
    }

  if (in_f <= 0)
    {
      if (b == NULL)
        for (int64_t r = 0; r < n; r++)
          memset (out + r * ld_out, 0, (size_t) out_f * sizeof (float));
      return;
    }

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans,
               (blasint) n, out_f, in_f,
               1.0f, in, (blasint) ld_in, w, in_f,
               beta, out, (blasint) ld_out);
}

void
vb_linear_backward (float *din, int64_t ld_din, int accumulate,
                    float *dw, float *db,
                    const float *dout, int64_t ld_dout,
                    const float *in, int64_t ld_in,
                    const float *w,
                    int64_t n, int in_f, int out_f)
{
  if (n <= 0)
    return;

  if (din != NULL && in_f > 0)
    {
      if (out_f > 0)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                     (blasint) n, in_f, out_f,
                     1.0f, dout, (blasint) ld_dout, w, in_f,
                     accumulate ? 1.0f : 0.0f, din, (blasint) ld_din);
      else if (!accumulate)
        for (int64_t r = 0; r < n; r++)
          memset (din + r * ld_din, 0, (size_t) in_f * sizeof (float));
    }

  if (dw != NULL && in_f > 0 && out_f > 0)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                 out_f, in_f, (blasint) n,
                 1.0f, dout, (blasint) ld_dout, in, (blasint) ld_in,
                 1.0f, dw, in_f);

  if (db != NULL && out_f > 0)
    vb_cpu_colsum_acc (db, dout, n, ld_dout, out_f);
}
