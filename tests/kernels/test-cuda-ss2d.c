/* test-cuda-ss2d.c: the CUDA SS2D scan (routes read through an index map, checkpoints
 * kept by the forward for the backward) and the group sum against the CPU ops, every
 * scan mode, on the awkward shapes of specs/kernels.md §9 (H ≠ W, D not a multiple of
 * the block, several channel tiles, L not a multiple of the checkpoint interval, N > 1,
 * 1×1 and 2×2 maps, stage-4 width) in the Δ regimes there, A given as its logs (the
 * GPU ops take A_logs and return its gradient); outputs poisoned first;
 * the backward with and without the forward's checkpoints, and bit-identical on a
 * second run. Then the same with u, delta, dy, yk, duk, ddelta stored as bf16, through the
 * two backends' op tables: the GPU's bf16 outputs within one bf16 ulp of the CPU
 * reference's (kernels/cpu/bf16.c: the fp32 op on the widened inputs, outputs rounded
 * once), plus the
 * fp32 tolerance below as an absolute term (both round fp32 values that differ by fp32
 * noise, so a rounding may flip; near zero that noise spans several bf16 ulps); the fp32
 * outputs (dA_logs, dBs, dCs, dDskip, ddbias) as in the fp32 check; the bf16 group sum equal
 * to the CPU's bit for bit. Skips visibly without a GPU. */
#include "config.h"

#include <string.h>

#include "cuda-check.h"
#include "vb-cpu-ops.h"
#include "vb-cuda-ops.h"
#include "vb-cuda-table.h"
#include "vb-ops.h"

#define SEED 20261130

static VbOps *gpu;   /* the CUDA table, for the bf16 ops (the CPU's: vb_cpu_ops ()) */

typedef struct
{
  int B, H, W, D, N;
  double z_lo, z_hi;       /* raw Δ + bias range: softplus of it is Δ */
} Shape;

/* host and device copies of one case's inputs */
typedef struct
{
  gsize n_u, n_kd, n_bc, n_a, n_c;
  float *u, *delta, *A_logs, *A, *Bs, *Cs, *Ds, *bias, *dy;   /* A = −exp (A_logs) */
  float *d_u, *d_delta, *d_A_logs, *d_Bs, *d_Cs, *d_Ds, *d_bias, *d_dy;
  VbBf16 *dy16, *d_dy16;   /* dy as the bf16 ops read it (dy's values are on bf16's grid) */
} Case;

static void
case_init (Case *c, VbCuda *cu, GRand *rng, const Shape *s, int K)
{
  gsize BL = (gsize) s->B * s->H * s->W;
  c->n_u = BL * s->D;
  c->n_kd = c->n_u * K;
  c->n_bc = BL * K * s->N;
  c->n_c = (gsize) K * s->D;
  c->n_a = c->n_c * s->N;
  c->u = cc_random (rng, c->n_u, -2, 2);
  /* delta + bias spans [z_lo, z_hi]: bias in the lower half, delta the rest */
  c->bias = cc_random (rng, c->n_c, s->z_lo, (s->z_lo + s->z_hi) / 2);
  c->delta = cc_random (rng, c->n_kd, 0, (s->z_hi - s->z_lo) / 2);
  /* the GPU ops take A's logs: A in [−2, −0.5] */
  c->A_logs = cc_random (rng, c->n_a, log (0.5), log (2.0));
  c->A = g_new (float, c->n_a);
  for (gsize i = 0; i < c->n_a; i++)
    c->A[i] = -expf (c->A_logs[i]);
  c->Bs = cc_random (rng, c->n_bc, -1, 1);
  c->Cs = cc_random (rng, c->n_bc, -1, 1);
  c->Ds = cc_random (rng, c->n_c, 0.5, 1.5);
  c->dy = cc_random (rng, c->n_u, -1, 1);
  c->dy16 = g_new (VbBf16, c->n_u);
  for (gsize i = 0; i < c->n_u; i++)
    {
      c->dy16[i] = vb_bf16_from_float (c->dy[i]);
      c->dy[i] = vb_bf16_to_float (c->dy16[i]);
    }
  c->d_dy16 = (VbBf16 *) cc_upload (cu, c->dy16, c->n_u * 2);
  c->d_u = cc_upload (cu, c->u, c->n_u * 4);
  c->d_delta = cc_upload (cu, c->delta, c->n_kd * 4);
  c->d_A_logs = cc_upload (cu, c->A_logs, c->n_a * 4);
  c->d_Bs = cc_upload (cu, c->Bs, c->n_bc * 4);
  c->d_Cs = cc_upload (cu, c->Cs, c->n_bc * 4);
  c->d_Ds = cc_upload (cu, c->Ds, c->n_c * 4);
  c->d_bias = cc_upload (cu, c->bias, c->n_c * 4);
  c->d_dy = cc_upload (cu, c->dy, c->n_u * 4);
}

static void
case_clear (Case *c, VbCuda *cu)
{
  float *host[] = { c->u, c->delta, c->A, c->Bs, c->Cs, c->Ds, c->bias, c->dy };
  float *dev[] = { c->d_u, c->d_delta, c->d_A_logs, c->d_Bs, c->d_Cs, c->d_Ds, c->d_bias,
                   c->d_dy };
  for (guint i = 0; i < G_N_ELEMENTS (host); i++)
    {
      g_free (host[i]);
      vb_cuda_free (cu, dev[i]);
    }
  g_free (c->A_logs);
  g_free (c->dy16);
  vb_cuda_free (cu, c->d_dy16);
}

/* a gradient summed in another order than the CPU's: relative L2 within 1e-5, each
 * element within 1e-5 of the vector's largest magnitude (cancellation near zero) */
static void
check_sum (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n)
{
  g_autofree float *got = cc_download (cu, dev, n);
  double scale = 0.0;
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (want[i]));
  cc_assert_close (what, got, want, n, 1e-5, 1e-5 * scale + 1e-7, 1e-4);
}

typedef struct
{
  float *du, *ddelta, *dA, *dBs, *dCs, *dDs, *dbias;   /* dA: A_logs's gradient */
} Grads;

/* the GPU backward; the accumulated outputs start from `pre` (dA_logs, dDs, dbias) */
static Grads
gpu_backward (VbCuda *cu, const Case *c, const Shape *s, int K, VbScanMode mode,
              const float *hck, float *const pre[3])
{
  Grads g = { cc_poisoned (cu, c->n_kd), cc_poisoned (cu, c->n_kd),
              cc_upload (cu, pre[0], c->n_a * 4), cc_poisoned (cu, c->n_bc),
              cc_poisoned (cu, c->n_bc), cc_upload (cu, pre[1], c->n_c * 4),
              cc_upload (cu, pre[2], c->n_c * 4) };
  vb_cuda_ss2d_scan_backward (cu, g.du, g.ddelta, g.dA, g.dBs, g.dCs, g.dDs, g.dbias, c->d_dy,
                              hck, c->d_u, c->d_delta, c->d_A_logs, c->d_Bs, c->d_Cs, c->d_Ds,
                              c->d_bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  cc_assert_ok (cu);
  return g;
}

static void
grads_free (VbCuda *cu, Grads *g)
{
  float *all[] = { g->du, g->ddelta, g->dA, g->dBs, g->dCs, g->dDs, g->dbias };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
assert_same_grads (VbCuda *cu, const Grads *a, const Grads *b, const Case *c)
{
  const float *pa[] = { a->du, a->ddelta, a->dA, a->dBs, a->dCs, a->dDs, a->dbias };
  const float *pb[] = { b->du, b->ddelta, b->dA, b->dBs, b->dCs, b->dDs, b->dbias };
  gsize n[] = { c->n_kd, c->n_kd, c->n_a, c->n_bc, c->n_bc, c->n_c, c->n_c };
  for (guint i = 0; i < G_N_ELEMENTS (n); i++)
    {
      g_autofree float *x = cc_download (cu, pa[i], n[i]);
      g_autofree float *y = cc_download (cu, pb[i], n[i]);
      g_assert_cmpmem (x, n[i] * 4, y, n[i] * 4);
    }
}

/* ---- bf16 storage ------------------------------------------------------------------ */

/* the worst bf16 error over all cases, in ulps, for the summary */
static double worst16;

/* |got − want| ≤ one ulp (of either) + 1e-5 of the vector's largest magnitude + 1e-7
 * (check_sum's absolute term), got finite */
static void
check16 (VbCuda *cu, const char *what, const VbBf16 *dev, const VbBf16 *want, gsize n)
{
  g_autofree VbBf16 *got = cc_download16 (cu, dev, n);
  double scale = 0.0;
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (vb_bf16_to_float (want[i])));
  worst16 = MAX (worst16, cc_assert_ulp16 (what, got, want, n, 1e-5 * scale + 1e-7));
}

typedef struct
{
  VbBf16 *du, *ddelta;
  float *dA, *dBs, *dCs, *dDs, *dbias;
} Grads16;

static Grads16
gpu_backward16 (VbCuda *cu, const Case *c, const VbBf16 *d_u16, const VbBf16 *d_delta16,
                const Shape *s, int K, VbScanMode mode, const float *hck, float *const pre[3])
{
  Grads16 g = { cc_poisoned16 (cu, c->n_kd), cc_poisoned16 (cu, c->n_kd),
                cc_upload (cu, pre[0], c->n_a * 4), cc_poisoned (cu, c->n_bc),
                cc_poisoned (cu, c->n_bc), cc_upload (cu, pre[1], c->n_c * 4),
                cc_upload (cu, pre[2], c->n_c * 4) };
  gpu->ss2d_scan_backward_bf16 (gpu->ctx, g.du, g.ddelta, g.dA, g.dBs, g.dCs, g.dDs, g.dbias,
                                c->d_dy16, hck, d_u16, d_delta16, c->d_A_logs, c->d_Bs, c->d_Cs,
                                c->d_Ds, c->d_bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  cc_assert_ok (cu);
  return g;
}

static void
grads16_free (VbCuda *cu, Grads16 *g)
{
  void *all[] = { g->du, g->ddelta, g->dA, g->dBs, g->dCs, g->dDs, g->dbias };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
assert_same_dev (VbCuda *cu, const void *a, const void *b, gsize bytes)
{
  g_autofree guint8 *x = g_malloc (MAX (bytes, 1)), *y = g_malloc (MAX (bytes, 1));
  cc_assert_ok (cu);
  if (vb_cuda_download (cu, x, a, bytes) != 0 || vb_cuda_download (cu, y, b, bytes) != 0)
    g_error ("%s", vb_cuda_error (cu));
  g_assert_cmpmem (x, bytes, y, bytes);
}

static void
assert_same_grads16 (VbCuda *cu, const Grads16 *a, const Grads16 *b, const Case *c)
{
  const void *pa[] = { a->du, a->ddelta, a->dA, a->dBs, a->dCs, a->dDs, a->dbias };
  const void *pb[] = { b->du, b->ddelta, b->dA, b->dBs, b->dCs, b->dDs, b->dbias };
  gsize bytes[] = { c->n_kd * 2, c->n_kd * 2, c->n_a * 4, c->n_bc * 4, c->n_bc * 4,
                    c->n_c * 4, c->n_c * 4 };
  for (guint i = 0; i < G_N_ELEMENTS (bytes); i++)
    assert_same_dev (cu, pa[i], pb[i], bytes[i]);
}

/* how many of n values of a bf16 output equal the rounded fp32 output (informational:
 * the two instantiations run the same arithmetic on the same widened delta) */
static gsize same_bits, compared;

static void
count_rounded (VbCuda *cu, const VbBf16 *dev16, const float *dev32, gsize n)
{
  g_autofree VbBf16 *a = cc_download16 (cu, dev16, n);
  g_autofree float *b = cc_download (cu, dev32, n);
  for (gsize i = 0; i < n; i++)
    same_bits += a[i] == vb_bf16_from_float (b[i]);
  compared += n;
}

static void
count_same (VbCuda *cu, const float *x, const float *y, gsize n)
{
  g_autofree float *a = cc_download (cu, x, n), *b = cc_download (cu, y, n);
  for (gsize i = 0; i < n; i++)
    same_bits += memcmp (&a[i], &b[i], 4) == 0;
  compared += n;
}

/* the bf16-storage scan and group sum on this case's inputs, u and delta rounded to bf16 */
static void
check_case_bf16 (VbCuda *cu, GRand *rng, const Case *c, const Shape *s, int K,
                 VbScanMode mode, float *const pre[3])
{
  const VbOps *cpu = vb_cpu_ops ();
  int64_t L = (int64_t) s->H * s->W;
  g_autofree VbBf16 *delta16 = g_new (VbBf16, c->n_kd);
  g_autofree float *wide = g_new (float, c->n_kd);
  for (gsize i = 0; i < c->n_kd; i++)
    {
      delta16[i] = vb_bf16_from_float (c->delta[i]);
      wide[i] = vb_bf16_to_float (delta16[i]);
    }
  VbBf16 *d_delta16 = (VbBf16 *) cc_upload (cu, delta16, c->n_kd * 2);
  g_autofree VbBf16 *u16 = g_new (VbBf16, c->n_u);
  g_autofree float *uw = g_new (float, c->n_u);
  for (gsize i = 0; i < c->n_u; i++)
    {
      u16[i] = vb_bf16_from_float (c->u[i]);
      uw[i] = vb_bf16_to_float (u16[i]);
    }
  VbBf16 *d_u16 = (VbBf16 *) cc_upload (cu, u16, c->n_u * 2);

  /* forward, keeping checkpoints */
  g_autofree VbBf16 *yk = g_new (VbBf16, c->n_kd);
  cpu->ss2d_scan_forward_bf16 (cpu->ctx, yk, NULL, u16, delta16, c->A_logs, c->Bs, c->Cs,
                               c->Ds, c->bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  VbBf16 *d_yk = cc_poisoned16 (cu, c->n_kd);
  float *d_hck = cc_poisoned (cu, vb_scan_ckpt_floats (s->B, L, K, s->D, s->N));
  gpu->ss2d_scan_forward_bf16 (gpu->ctx, d_yk, d_hck, d_u16, d_delta16, c->d_A_logs, c->d_Bs,
                               c->d_Cs, c->d_Ds, c->d_bias, s->B, s->H, s->W, K, s->D, s->N,
                               mode);
  check16 (cu, "ss2d bf16 yk", d_yk, yk, c->n_kd);

  /* the group sum of the GPU's yk, written and accumulated onto random values */
  g_autofree VbBf16 *yk_gpu = cc_download16 (cu, d_yk, c->n_kd);
  g_autofree float *y = cc_random (rng, c->n_u, -1, 1);
  float *d_y = cc_poisoned (cu, c->n_u), *d_y2 = cc_upload (cu, y, c->n_u * 4);
  cpu->group_sum_bf16 (cpu->ctx, y, yk_gpu, s->B * L, K, s->D, TRUE);
  gpu->group_sum_bf16 (gpu->ctx, d_y2, d_yk, s->B * L, K, s->D, TRUE);
  g_autofree float *y_acc = cc_download (cu, d_y2, c->n_u);
  g_assert_cmpmem (y_acc, c->n_u * 4, y, c->n_u * 4);
  cpu->group_sum_bf16 (cpu->ctx, y, yk_gpu, s->B * L, K, s->D, FALSE);
  gpu->group_sum_bf16 (gpu->ctx, d_y, d_yk, s->B * L, K, s->D, FALSE);
  g_autofree float *y_gpu = cc_download (cu, d_y, c->n_u);
  g_assert_cmpmem (y_gpu, c->n_u * 4, y, c->n_u * 4);

  /* backward */
  g_autofree VbBf16 *du = g_new (VbBf16, c->n_kd), *ddelta = g_new (VbBf16, c->n_kd);
  g_autofree float *dBs = g_new (float, c->n_bc), *dCs = g_new (float, c->n_bc);
  g_autofree float *dA = g_memdup2 (pre[0], c->n_a * 4);
  g_autofree float *dDs = g_memdup2 (pre[1], c->n_c * 4);
  g_autofree float *dbias = g_memdup2 (pre[2], c->n_c * 4);
  cpu->ss2d_scan_backward_bf16 (cpu->ctx, du, ddelta, dA, dBs, dCs, dDs, dbias, c->dy16, NULL,
                                u16, delta16, c->A_logs, c->Bs, c->Cs, c->Ds, c->bias, s->B,
                                s->H, s->W, K, s->D, s->N, mode);
  Grads16 g = gpu_backward16 (cu, c, d_u16, d_delta16, s, K, mode, d_hck, pre);
  check16 (cu, "ss2d bf16 du", g.du, du, c->n_kd);
  check16 (cu, "ss2d bf16 ddelta", g.ddelta, ddelta, c->n_kd);
  check_sum (cu, "ss2d bf16 dBs", g.dBs, dBs, c->n_bc);
  check_sum (cu, "ss2d bf16 dCs", g.dCs, dCs, c->n_bc);
  check_sum (cu, "ss2d bf16 dA_logs", g.dA, dA, c->n_a);
  check_sum (cu, "ss2d bf16 dDskip", g.dDs, dDs, c->n_c);
  check_sum (cu, "ss2d bf16 ddbias", g.dbias, dbias, c->n_c);

  /* without the forward's checkpoints (recomputed), and once more: the same bits */
  Grads16 again = gpu_backward16 (cu, c, d_u16, d_delta16, s, K, mode, NULL, pre);
  assert_same_grads16 (cu, &g, &again, c);
  Grads16 third = gpu_backward16 (cu, c, d_u16, d_delta16, s, K, mode, d_hck, pre);
  assert_same_grads16 (cu, &g, &third, c);

  /* the fp32 kernels on the widened u and delta: counted, not asserted */
  float *d_wide = cc_upload (cu, wide, c->n_kd * 4), *d_yk32 = cc_poisoned (cu, c->n_kd);
  float *d_uw = cc_upload (cu, uw, c->n_u * 4);
  vb_cuda_ss2d_scan_forward (cu, d_yk32, NULL, d_uw, d_wide, c->d_A_logs, c->d_Bs, c->d_Cs,
                             c->d_Ds, c->d_bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  Case cw = *c;
  cw.d_delta = d_wide;
  cw.d_u = d_uw;
  Grads g32 = gpu_backward (cu, &cw, s, K, mode, NULL, pre);
  count_rounded (cu, d_yk, d_yk32, c->n_kd);
  count_rounded (cu, g.du, g32.du, c->n_kd);
  count_rounded (cu, g.ddelta, g32.ddelta, c->n_kd);
  count_same (cu, g.dA, g32.dA, c->n_a);
  count_same (cu, g.dBs, g32.dBs, c->n_bc);
  count_same (cu, g.dCs, g32.dCs, c->n_bc);
  count_same (cu, g.dDs, g32.dDs, c->n_c);
  count_same (cu, g.dbias, g32.dbias, c->n_c);

  grads_free (cu, &g32);
  grads16_free (cu, &g);
  grads16_free (cu, &again);
  grads16_free (cu, &third);
  void *bufs[] = { d_delta16, d_u16, d_uw, d_yk, d_hck, d_y, d_y2, d_wide, d_yk32 };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    vb_cuda_free (cu, bufs[i]);
}

static void
check_case (VbCuda *cu, GRand *rng, const Shape *s, VbScanMode mode)
{
  int K = vb_scan_mode_groups (mode);
  int64_t L = (int64_t) s->H * s->W;
  Case c;
  case_init (&c, cu, rng, s, K);
  g_test_message ("ss2d mode %d B=%d %d×%d D=%d N=%d z in [%g, %g]", mode, s->B, s->H, s->W,
                  s->D, s->N, s->z_lo, s->z_hi);

  /* forward, keeping checkpoints */
  g_autofree float *yk = g_new (float, c.n_kd);
  vb_ss2d_scan_forward (yk, c.u, c.delta, c.A, c.Bs, c.Cs, c.Ds, c.bias, s->B, s->H, s->W, K,
                        s->D, s->N, mode);
  float *d_yk = cc_poisoned (cu, c.n_kd);
  float *d_hck = cc_poisoned (cu, vb_scan_ckpt_floats (s->B, L, K, s->D, s->N));
  vb_cuda_ss2d_scan_forward (cu, d_yk, d_hck, c.d_u, c.d_delta, c.d_A_logs, c.d_Bs, c.d_Cs,
                             c.d_Ds, c.d_bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  cc_check (cu, "ss2d yk", d_yk, yk, c.n_kd);

  /* the group sum merges exactly as the CPU does (on the GPU's yk) */
  g_autofree float *y = g_new (float, c.n_u);
  float *d_y = cc_poisoned (cu, c.n_u);
  g_autofree float *yk_gpu = cc_download (cu, d_yk, c.n_kd);
  vb_group_sum (y, yk_gpu, s->B * L, K, s->D, FALSE);
  vb_cuda_group_sum (cu, d_y, d_yk, s->B * L, K, s->D, FALSE);
  g_autofree float *y_gpu = cc_download (cu, d_y, c.n_u);
  g_assert_cmpmem (y_gpu, c.n_u * 4, y, c.n_u * 4);

  /* backward */
  float *pre[3] = { cc_random (rng, c.n_a, -1, 1), cc_random (rng, c.n_c, -1, 1),
                    cc_random (rng, c.n_c, -1, 1) };
  g_autofree float *du = g_new (float, c.n_kd), *ddelta = g_new (float, c.n_kd);
  g_autofree float *dBs = g_new (float, c.n_bc), *dCs = g_new (float, c.n_bc);
  g_autofree float *dA = g_new0 (float, c.n_a);
  g_autofree float *dDs = g_memdup2 (pre[1], c.n_c * 4);
  g_autofree float *dbias = g_memdup2 (pre[2], c.n_c * 4);
  vb_ss2d_scan_backward (du, ddelta, dA, dBs, dCs, dDs, dbias, c.dy, c.u, c.delta, c.A, c.Bs,
                         c.Cs, c.Ds, c.bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  /* the GPU's is A_logs's: pre + ∂ℓ/∂A · A */
  for (gsize i = 0; i < c.n_a; i++)
    dA[i] = pre[0][i] + dA[i] * c.A[i];
  Grads g = gpu_backward (cu, &c, s, K, mode, d_hck, pre);
  check_sum (cu, "ss2d du", g.du, du, c.n_kd);
  check_sum (cu, "ss2d ddelta", g.ddelta, ddelta, c.n_kd);
  check_sum (cu, "ss2d dBs", g.dBs, dBs, c.n_bc);
  check_sum (cu, "ss2d dCs", g.dCs, dCs, c.n_bc);
  check_sum (cu, "ss2d dA_logs", g.dA, dA, c.n_a);
  check_sum (cu, "ss2d dDskip", g.dDs, dDs, c.n_c);
  check_sum (cu, "ss2d ddbias", g.dbias, dbias, c.n_c);

  /* without the forward's checkpoints (recomputed), and once more: the same bits */
  Grads again = gpu_backward (cu, &c, s, K, mode, NULL, pre);
  assert_same_grads (cu, &g, &again, &c);
  Grads third = gpu_backward (cu, &c, s, K, mode, d_hck, pre);
  assert_same_grads (cu, &g, &third, &c);

  check_case_bf16 (cu, rng, &c, s, K, mode, pre);

  grads_free (cu, &g);
  grads_free (cu, &again);
  grads_free (cu, &third);
  for (int i = 0; i < 3; i++)
    g_free (pre[i]);
  vb_cuda_free (cu, d_yk);
  vb_cuda_free (cu, d_hck);
  vb_cuda_free (cu, d_y);
  case_clear (&c, cu);
}

static void
test_ss2d_scan (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED);
  g_test_message ("seed %d", SEED);
  /* Δ at initialisation: softplus(z) in [1e-3, 0.1] ↔ z in [−6.9, −2.25] */
  const Shape shapes[] = {
    { 2, 9, 7, 37, 1, -6.9, -2.25 },       /* H ≠ W, D not a multiple of 32 */
    { 1, 12, 10, 130, 1, -6.9, -2.25 },    /* two channel tiles */
    { 2, 3, 5, 5, 3, -3.0, 3.0 },          /* N > 1, L not a multiple of 8 */
    { 1, 2, 2, 96, VB_CUDA_SCAN_MAX_N, -2.0, 2.0 },   /* the largest N, a 2×2 map */
    { 2, 1, 1, 8, 1, -6.9, -2.25 },        /* a 1×1 map */
    { 2, 7, 7, 768, 1, -6.9, -2.25 },      /* stage 4 of VMamba-T at 224 */
    { 1, 8, 5, 96, 1, -2.0, 8.0 },         /* large Δ */
    { 37, 3, 4, 40, 1, -6.9, -2.25 },      /* more images than the parameter sums' 32 lanes */
    { 1, 4, 6, 130, 3, -3.0, 3.0 },        /* N > 1 over two channel tiles */
    /* bf16 storage takes scan_ring.cu's kernels on these (whole warps of channels): */
    { 2, 9, 7, 64, 1, -6.9, -2.25 },       /* column routes turning inside a chunk, L % 8 = 7 */
    { 1, 12, 10, 192, 1, -2.0, 8.0 },      /* two channel tiles of 96, large Δ */
    { 3, 4, 4, 32, 1, -6.9, -2.25 },       /* one warp a block */
  };
  gpu = vb_cuda_ops_new (cu);
  for (VbScanMode mode = VB_SCAN_4DIR; mode <= VB_SCAN_LEAN2DIR; mode++)
    for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
      check_case (cu, rng, &shapes[i], mode);
  g_test_message ("bf16 storage: worst output %.3g ulp from the CPU; %" G_GSIZE_FORMAT " of %"
                  G_GSIZE_FORMAT " values the bits of the fp32 kernels on the widened delta "
                  "(bf16 outputs: rounded)", worst16, same_bits, compared);
  vb_cuda_ops_free (g_steal_pointer (&gpu));
}

/* offsets within an image are 32-bit in the kernels: a map too large for that is refused
 * with a message before any launch, and the context recovers */
static void
test_too_large (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  vb_cuda_ss2d_scan_forward (cu, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 4096,
                             4096, 4, 768, 1, VB_SCAN_4DIR);
  g_assert_nonnull (vb_cuda_error (cu));
  g_assert_nonnull (strstr (vb_cuda_error (cu), "too large for the GPU"));
  vb_cuda_clear_error (cu);
  g_assert_null (vb_cuda_error (cu));
}

/* the fp32 SS2D forward (checkpoints kept) then backward with the parameter sums queued,
 * on context cu; the gradients downloaded into g (du, dA_logs, dDs, dbias, in order) */
static void
queued_backward (VbCuda *cu, const float *const host[8], const gsize n[8], int B, int H, int W,
                 int K, int D, float *g)
{
  float *d[8];
  for (int i = 0; i < 8; i++)
    d[i] = cc_upload_floats (cu, host[i], n[i]);
  /* host: u, delta, A_logs, Bs, Cs, Ds, bias, dy */
  gsize n_kd = n[1], n_bc = n[3], n_c = n[5];
  float *yk = cc_poisoned (cu, n_kd);
  float *hck = cc_poisoned (cu, vb_scan_ckpt_floats (B, H * W, K, D, 1));
  float *du = cc_poisoned (cu, n_kd), *dd = cc_poisoned (cu, n_kd);
  float *dBs = cc_poisoned (cu, n_bc), *dCs = cc_poisoned (cu, n_bc);
  float *dA = cc_upload_floats (cu, g + n_kd, n_c);
  float *dDs = cc_upload_floats (cu, g + n_kd + n_c, n_c);
  float *db = cc_upload_floats (cu, g + n_kd + 2 * n_c, n_c);
  vb_cuda_ss2d_scan_forward (cu, yk, hck, d[0], d[1], d[2], d[3], d[4], d[5], d[6], B, H, W, K,
                             D, 1, VB_SCAN_4DIR);
  vb_cuda_param_sums_defer (cu);
  vb_cuda_ss2d_scan_backward (cu, du, dd, dA, dBs, dCs, dDs, db, d[7], hck, d[0], d[1], d[2],
                              d[3], d[4], d[5], d[6], B, H, W, K, D, 1, VB_SCAN_4DIR);
  vb_cuda_param_sums_flush (cu);
  float *out[] = { du, dA, dDs, db };
  gsize len[] = { n_kd, n_c, n_c, n_c };
  for (int i = 0, at = 0; i < 4; at += (int) len[i], i++)
    {
      g_autofree float *h = cc_download (cu, out[i], len[i]);
      memcpy (g + at, h, len[i] * sizeof (float));
    }
  CC_FREE_ALL (cu, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], yk, hck, du, dd, dBs, dCs, dA,
               dDs, db);
}

/* A context that has never used its scratch, the parameter sums queued: the backward then
 * asks the scratch for nothing (partials in the queue's arena, checkpoints from the
 * forward, one channel tile) and must still run — the same bits as on the shared context,
 * which has used its scratch */
static void
test_fresh_context_queued (void)
{
  VbCuda *shared = cc_open_or_skip ();
  if (shared == NULL)
    return;
  char why[256];
  VbCuda *fresh = vb_cuda_open (0, why, sizeof why);
  if (fresh == NULL)
    g_error ("a second context: %s", why);
  enum { B = 2, H = 4, W = 5, K = 4, D = 32 };
  gsize L = H * W, n[8] = { B * L * D, B * L * K * D, K * D, B * L * K, B * L * K, K * D, K * D,
                            B * L * D };
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 1);
  float *host[8];
  for (int i = 0; i < 8; i++)
    host[i] = cc_random (rng, n[i], i == 6 ? -4.0 : -1.0, i == 6 ? -2.0 : 1.0);
  gsize n_g = n[1] + 3 * n[5];
  g_autofree float *want = cc_random (rng, n_g, -1.0, 1.0);
  g_autofree float *got = g_memdup2 (want, n_g * sizeof (float));
  queued_backward (shared, (const float *const *) host, n, B, H, W, K, D, want);
  queued_backward (fresh, (const float *const *) host, n, B, H, W, K, D, got);
  g_assert_cmpmem (got, n_g * sizeof (float), want, n_g * sizeof (float));
  for (int i = 0; i < 8; i++)
    g_free (host[i]);
  vb_cuda_close (fresh);
}

/* ---- the ring kernels ---------------------------------------------------------------- */

/* one bf16 forward (y and checkpoints) and the backward twice (from those checkpoints and
 * recomputing them) on context cu: the outputs, in order, for comparing bit for bit */
typedef struct
{
  void *buf[17];
  gsize bytes[17];
  int n;
} Outputs;

static void
outputs_add (Outputs *o, void *dev, gsize bytes)
{
  o->buf[o->n] = dev;
  o->bytes[o->n++] = bytes;
}

static Outputs
run_bf16_scans (VbCuda *cu, const Case *c, const VbBf16 *u16, const VbBf16 *delta16,
                const Shape *s, int K, VbScanMode mode)
{
  Outputs o = { 0 };
  gsize n_ck = vb_scan_ckpt_floats (s->B, (int64_t) s->H * s->W, K, s->D, s->N);
  VbBf16 *yk = cc_poisoned16 (cu, c->n_kd);
  float *hck = cc_poisoned (cu, n_ck);
  vb_cuda_ss2d_scan_forward_bf16 (cu, yk, hck, u16, delta16, c->d_A_logs, c->d_Bs, c->d_Cs,
                                  c->d_Ds, c->d_bias, s->B, s->H, s->W, K, s->D, s->N, mode);
  outputs_add (&o, yk, c->n_kd * 2);
  outputs_add (&o, hck, n_ck * 4);
  for (int from_ckpt = 1; from_ckpt >= 0; from_ckpt--)
    {
      VbBf16 *du = cc_poisoned16 (cu, c->n_kd), *dd = cc_poisoned16 (cu, c->n_kd);
      float *dA = cc_poisoned (cu, c->n_a), *dBs = cc_poisoned (cu, c->n_bc);
      float *dCs = cc_poisoned (cu, c->n_bc), *dDs = cc_poisoned (cu, c->n_c);
      float *db = cc_poisoned (cu, c->n_c);
      /* NaN plus the gradient stays NaN: start the accumulated ones from zero */
      vb_cuda_memset (cu, dA, 0, c->n_a * 4);
      vb_cuda_memset (cu, dDs, 0, c->n_c * 4);
      vb_cuda_memset (cu, db, 0, c->n_c * 4);
      vb_cuda_ss2d_scan_backward_bf16 (cu, du, dd, dA, dBs, dCs, dDs, db, c->d_dy16,
                                       from_ckpt ? hck : NULL, u16, delta16, c->d_A_logs,
                                       c->d_Bs, c->d_Cs, c->d_Ds, c->d_bias, s->B, s->H, s->W,
                                       K, s->D, s->N, mode);
      outputs_add (&o, du, c->n_kd * 2);
      outputs_add (&o, dd, c->n_kd * 2);
      outputs_add (&o, dA, c->n_a * 4);
      outputs_add (&o, dBs, c->n_bc * 4);
      outputs_add (&o, dCs, c->n_bc * 4);
      outputs_add (&o, dDs, c->n_c * 4);
      outputs_add (&o, db, c->n_c * 4);
    }
  cc_assert_ok (cu);
  return o;
}

/* ring's outputs the bits of plain's, and finite; both freed */
static void
assert_same_outputs (VbCuda *cu, VbCuda *direct, Outputs *ring, Outputs *plain, VbScanMode mode,
                     const Shape *s)
{
  for (int o = 0; o < ring->n; o++)
    {
      gboolean wide = o == 1 || (o - 2) % 7 >= 2;   /* fp32: hck, dA … dbias */
      g_autofree guint8 *host = g_malloc (ring->bytes[o]);
      g_autofree guint8 *want = g_malloc (ring->bytes[o]);
      g_assert_cmpint (vb_cuda_download (cu, host, ring->buf[o], ring->bytes[o]), ==, 0);
      g_assert_cmpint (vb_cuda_download (cu, want, plain->buf[o], ring->bytes[o]), ==, 0);
      gsize size = wide ? 4 : 2, differ = 0, first = 0;
      for (gsize j = ring->bytes[o] / size; j-- > 0;)
        if (memcmp (host + j * size, want + j * size, size) != 0)
          differ++, first = j;
      if (differ > 0)
        g_error ("ring against direct: mode %d, %d×%d×%d, output %d: %" G_GSIZE_FORMAT " of %"
                 G_GSIZE_FORMAT " values differ, the first at %" G_GSIZE_FORMAT
                 " (%g against %g)", mode, s->H, s->W, s->D, o, differ, ring->bytes[o] / size,
                 first,
                 wide ? ((float *) host)[first] : vb_bf16_to_float (((VbBf16 *) host)[first]),
                 wide ? ((float *) want)[first] : vb_bf16_to_float (((VbBf16 *) want)[first]));
      for (gsize j = 0; j < ring->bytes[o] / size; j++)
        g_assert_true (wide ? isfinite (((float *) host)[j])
                            : isfinite (vb_bf16_to_float (((VbBf16 *) host)[j])));
      vb_cuda_free (cu, ring->buf[o]);
      vb_cuda_free (direct, plain->buf[o]);
    }
}

/* the bf16 scans of one case on both contexts, compared; delta one element past a 16-byte
 * boundary when `misaligned` (the ring must leave it to the direct kernels) */
static void
ring_case (VbCuda *cu, VbCuda *direct, GRand *rng, const Shape *s, VbScanMode mode,
           gboolean misaligned)
{
  int K = vb_scan_mode_groups (mode);
  Case c;
  case_init (&c, cu, rng, s, K);
  g_autofree VbBf16 *u16 = g_new (VbBf16, c.n_u), *d16 = g_new0 (VbBf16, c.n_kd + 1);
  for (gsize j = 0; j < c.n_u; j++)
    u16[j] = vb_bf16_from_float (c.u[j]);
  for (gsize j = 0; j < c.n_kd; j++)
    d16[j + misaligned] = vb_bf16_from_float (c.delta[j]);
  VbBf16 *d_u16 = (VbBf16 *) cc_upload (cu, u16, c.n_u * 2);
  VbBf16 *d_d16 = (VbBf16 *) cc_upload (cu, d16, (c.n_kd + 1) * 2);
  Outputs ring = run_bf16_scans (cu, &c, d_u16, d_d16 + misaligned, s, K, mode);
  Outputs plain = run_bf16_scans (direct, &c, d_u16, d_d16 + misaligned, s, K, mode);
  assert_same_outputs (cu, direct, &ring, &plain, mode, s);
  vb_cuda_free (cu, d_u16);
  vb_cuda_free (cu, d_d16);
  case_clear (&c, cu);
}

/* The bf16 one-state scan on scan_ring.cu's kernels (half warps of 32 channels, two a lane,
 * their inputs staged by a shared-memory ring) gives the bits of scan.cu's kernels (a
 * context with VB_SCAN_NO_RING), every output, every mode, finite, on shapes the ring takes: VMamba-T's stage 1 at 64 px (a
 * 16 × 16 map of 96 channels), a 56 × 56 map (stage 1 at 224) for one image, column routes
 * turning inside a chunk (9 × 7), two channel tiles (192), 768 channels on a 7 × 7 map, a
 * 2 × 2 map (a sequence shorter than a chunk, runs of two) and a 1 × 1 map (96 and 192
 * channels on blocks of three warps in step, the others on two); the launch
 * counters show which kernels each context ran, and a delta off 16-byte alignment is left to
 * the direct kernels (no ring launch, the same bits). */
static void
test_ring_same_bits (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  char why[256];
  g_setenv ("VB_SCAN_NO_RING", "1", TRUE);
  VbCuda *direct = vb_cuda_open (0, why, sizeof why);
  g_unsetenv ("VB_SCAN_NO_RING");
  if (direct == NULL)
    g_error ("a second context: %s", why);
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 2);
  const Shape shapes[] = {
    { 4, 16, 16, 96, 1, -6.9, -2.25 }, { 1, 56, 56, 96, 1, -6.9, -2.25 },
    { 2, 9, 7, 64, 1, -2.0, 8.0 }, { 2, 7, 12, 192, 1, -6.9, -2.25 },
    { 2, 7, 7, 768, 1, -6.9, -2.25 }, { 2, 2, 2, 32, 1, -2.0, 2.0 },
    { 3, 1, 1, 64, 1, -6.9, -2.25 },
  };
  /* the three shapes of 96 and 192 channels (3 and 6 units a sequence) run in step */
  const gint64 in_step_shapes = 3;
  int64_t ring_before = vb_cuda_scan_ring_launches (cu);
  int64_t in_step_before = vb_cuda_scan_ring_in_step_launches (cu);
  for (VbScanMode mode = VB_SCAN_4DIR; mode <= VB_SCAN_LEAN2DIR; mode++)
    for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
      ring_case (cu, direct, rng, &shapes[i], mode, FALSE);
  /* each case: a forward, a backward, a checkpoint sweep and a backward on the ring */
  g_assert_cmpint (vb_cuda_scan_ring_launches (cu) - ring_before, ==,
                   4 * 4 * (gint64) G_N_ELEMENTS (shapes));
  g_assert_cmpint (vb_cuda_scan_ring_in_step_launches (cu) - in_step_before, ==,
                   4 * 4 * in_step_shapes);
  ring_case (cu, direct, rng, &shapes[0], VB_SCAN_4DIR, TRUE);
  g_assert_cmpint (vb_cuda_scan_ring_launches (cu) - ring_before, ==,
                   4 * 4 * (gint64) G_N_ELEMENTS (shapes));
  g_assert_cmpint (vb_cuda_scan_ring_in_step_launches (cu) - in_step_before, ==,
                   4 * 4 * in_step_shapes);
  g_assert_cmpint (vb_cuda_scan_ring_launches (direct), ==, 0);
  vb_cuda_close (direct);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/cuda/ss2d-scan", test_ss2d_scan);
  g_test_add_func ("/vb/cuda/ss2d-scan/too-large", test_too_large);
  g_test_add_func ("/vb/cuda/ss2d-scan/fresh-context-queued", test_fresh_context_queued);
  g_test_add_func ("/vb/cuda/ss2d-scan/ring-same-bits", test_ring_same_bits);
  int status = g_test_run ();
  if (cc_cuda != NULL)
    vb_cuda_close (cc_cuda);
  return status;
}
