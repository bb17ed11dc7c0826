/* test-cuda-scan.c: the CUDA selective scan in sequence order (forward and
 * backward) and linear products against the CPU ops, on awkward shapes (H ≠ W, D not a
 * multiple of the block, several channel tiles, N > 1, 1×1 maps), in the Δ regimes of
 * specs/kernels.md §9; determinism of the backward; the grouped (batched) products of
 * the SS2D projections; the products in the TF32 and bf16 matmul modes. Skips visibly
 * without a GPU. */
#include "config.h"

#include <string.h>

#include "cuda-check.h"
#include "vb-cpu-ops.h"
#include "vb-cuda-ops.h"

#define SEED 20261129

static gsize
max_abs_index (const float *x, gsize n)
{
  gsize best = 0;
  for (gsize i = 1; i < n; i++)
    if (fabsf (x[i]) > fabsf (x[best]))
      best = i;
  return best;
}

/* a gradient summed in another order than the CPU's: relative L2 within `rel`, each
 * element within 1e-5 of the vector's largest magnitude (cancellation makes a plain
 * relative bound meaningless near zero) */
static void
check_sum (VbCuda *cu, const char *what, const float *dev, const float *want, gsize n,
           double rel)
{
  g_autofree float *got = cc_download (cu, dev, n);
  double scale = n > 0 ? fabsf (want[max_abs_index (want, n)]) : 0.0;
  cc_assert_close (what, got, want, n, rel, 1e-5 * scale + 1e-7, 1e-4);
}

/* ---- selective scan ------------------------------------------------------------------- */

typedef struct
{
  int B, L, K, D, N;
  double z_lo, z_hi;       /* raw Δ + bias range: softplus of it is Δ */
} ScanCase;

typedef struct
{
  gsize n_x, n_bc, n_a, n_c;
  float *u, *delta, *A, *Bs, *Cs, *Ds, *bias, *dy;
} ScanInputs;

static void
make_inputs (ScanInputs *in, GRand *rng, const ScanCase *sc)
{
  in->n_x = (gsize) sc->B * sc->L * sc->K * sc->D;
  in->n_bc = (gsize) sc->B * sc->L * sc->K * sc->N;
  in->n_c = (gsize) sc->K * sc->D;
  in->n_a = in->n_c * sc->N;
  in->u = cc_random (rng, in->n_x, -2, 2);
  /* delta + bias spans [z_lo, z_hi]: bias in the lower half, delta the rest */
  in->bias = cc_random (rng, in->n_c, sc->z_lo, (sc->z_lo + sc->z_hi) / 2);
  in->delta = cc_random (rng, in->n_x, 0, (sc->z_hi - sc->z_lo) / 2);
  in->A = cc_random (rng, in->n_a, -2, -0.5);
  in->Bs = cc_random (rng, in->n_bc, -1, 1);
  in->Cs = cc_random (rng, in->n_bc, -1, 1);
  in->Ds = cc_random (rng, in->n_c, 0.5, 1.5);
  in->dy = cc_random (rng, in->n_x, -1, 1);
}

static void
free_inputs (ScanInputs *in)
{
  g_free (in->u); g_free (in->delta); g_free (in->A); g_free (in->Bs);
  g_free (in->Cs); g_free (in->Ds); g_free (in->bias); g_free (in->dy);
}

typedef struct
{
  float *u, *delta, *A, *Bs, *Cs, *Ds, *bias, *dy;
} DevInputs;

static void
upload_inputs (VbCuda *cu, DevInputs *d, const ScanInputs *in)
{
  d->u = cc_upload (cu, in->u, in->n_x * 4);
  d->delta = cc_upload (cu, in->delta, in->n_x * 4);
  d->A = cc_upload (cu, in->A, in->n_a * 4);
  d->Bs = cc_upload (cu, in->Bs, in->n_bc * 4);
  d->Cs = cc_upload (cu, in->Cs, in->n_bc * 4);
  d->Ds = cc_upload (cu, in->Ds, in->n_c * 4);
  d->bias = cc_upload (cu, in->bias, in->n_c * 4);
  d->dy = cc_upload (cu, in->dy, in->n_x * 4);
}

static void
free_dev (VbCuda *cu, DevInputs *d)
{
  float *all[] = { d->u, d->delta, d->A, d->Bs, d->Cs, d->Ds, d->bias, d->dy };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

/* the backward's outputs on the GPU; the accumulated ones start from `pre` */
typedef struct
{
  float *du, *ddelta, *dA, *dBs, *dCs, *dDs, *dbias;
} DevGrads;

static void
run_backward (VbCuda *cu, DevGrads *g, const DevInputs *d, const ScanInputs *in,
              const ScanCase *sc, const float *preA, const float *preD, const float *preb)
{
  g->du = cc_poisoned (cu, in->n_x);
  g->ddelta = cc_poisoned (cu, in->n_x);
  g->dBs = cc_poisoned (cu, in->n_bc);
  g->dCs = cc_poisoned (cu, in->n_bc);
  g->dA = cc_upload (cu, preA, in->n_a * 4);
  g->dDs = cc_upload (cu, preD, in->n_c * 4);
  g->dbias = cc_upload (cu, preb, in->n_c * 4);
  vb_cuda_selective_scan_backward (cu, g->du, g->ddelta, g->dA, g->dBs, g->dCs, g->dDs,
                                   g->dbias, d->dy, d->u, d->delta, d->A, d->Bs, d->Cs, d->Ds,
                                   d->bias, sc->B, sc->L, sc->K, sc->D, sc->N);
  cc_assert_ok (cu);
}

static void
free_grads (VbCuda *cu, DevGrads *g)
{
  float *all[] = { g->du, g->ddelta, g->dA, g->dBs, g->dCs, g->dDs, g->dbias };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
check_scan (VbCuda *cu, GRand *rng, const ScanCase *sc)
{
  ScanInputs in;
  DevInputs d;
  make_inputs (&in, rng, sc);
  upload_inputs (cu, &d, &in);
  g_test_message ("scan B=%d L=%d K=%d D=%d N=%d z in [%g, %g]", sc->B, sc->L, sc->K, sc->D,
                  sc->N, sc->z_lo, sc->z_hi);

  /* forward */
  g_autofree float *y_cpu = g_new (float, in.n_x);
  float *d_y = cc_poisoned (cu, in.n_x);
  vb_selective_scan_forward (y_cpu, in.u, in.delta, in.A, in.Bs, in.Cs, in.Ds, in.bias,
                             sc->B, sc->L, sc->K, sc->D, sc->N);
  vb_cuda_selective_scan_forward (cu, d_y, d.u, d.delta, d.A, d.Bs, d.Cs, d.Ds, d.bias,
                                  sc->B, sc->L, sc->K, sc->D, sc->N);
  cc_check (cu, "scan y", d_y, y_cpu, in.n_x);
  vb_cuda_free (cu, d_y);

  /* backward: accumulated outputs start from the same random values on both sides */
  g_autofree float *preA = cc_random (rng, in.n_a, -1, 1);
  g_autofree float *preD = cc_random (rng, in.n_c, -1, 1);
  g_autofree float *preb = cc_random (rng, in.n_c, -1, 1);
  g_autofree float *du = g_new (float, in.n_x), *ddelta = g_new (float, in.n_x);
  g_autofree float *dBs = g_new (float, in.n_bc), *dCs = g_new (float, in.n_bc);
  g_autofree float *dA = g_memdup2 (preA, in.n_a * 4);
  g_autofree float *dDs = g_memdup2 (preD, in.n_c * 4);
  g_autofree float *dbias = g_memdup2 (preb, in.n_c * 4);
  vb_selective_scan_backward (du, ddelta, dA, dBs, dCs, dDs, dbias, in.dy, in.u, in.delta,
                              in.A, in.Bs, in.Cs, in.Ds, in.bias,
                              sc->B, sc->L, sc->K, sc->D, sc->N);
  DevGrads g, again;
  run_backward (cu, &g, &d, &in, sc, preA, preD, preb);
  check_sum (cu, "scan du", g.du, du, in.n_x, 1e-5);
  check_sum (cu, "scan ddelta", g.ddelta, ddelta, in.n_x, 1e-5);
  check_sum (cu, "scan dBs", g.dBs, dBs, in.n_bc, 1e-5);
  check_sum (cu, "scan dCs", g.dCs, dCs, in.n_bc, 1e-5);
  check_sum (cu, "scan dA", g.dA, dA, in.n_a, 1e-5);
  check_sum (cu, "scan dDskip", g.dDs, dDs, in.n_c, 1e-5);
  check_sum (cu, "scan ddbias", g.dbias, dbias, in.n_c, 1e-5);

  /* the same inputs again: bit for bit the same gradients */
  run_backward (cu, &again, &d, &in, sc, preA, preD, preb);
  float *pairs[][2] = { { g.du, again.du }, { g.ddelta, again.ddelta }, { g.dBs, again.dBs },
                        { g.dCs, again.dCs }, { g.dA, again.dA }, { g.dDs, again.dDs },
                        { g.dbias, again.dbias } };
  gsize sizes[] = { in.n_x, in.n_x, in.n_bc, in.n_bc, in.n_a, in.n_c, in.n_c };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree float *a = cc_download (cu, pairs[i][0], sizes[i]);
      g_autofree float *b = cc_download (cu, pairs[i][1], sizes[i]);
      g_assert_cmpmem (a, sizes[i] * 4, b, sizes[i] * 4);
    }
  free_grads (cu, &g);
  free_grads (cu, &again);
  free_dev (cu, &d);
  free_inputs (&in);
}

static void
test_scan (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 1);
  g_test_message ("seed %d", SEED + 1);
  /* Δ at initialisation: softplus(z) in [1e-3, 0.1] ↔ z in [−6.9, −2.25] */
  const ScanCase cases[] = {
    { 2, 63, 4, 37, 1, -6.9, -2.25 },      /* 9×7 map, D not a multiple of 32 */
    { 1, 17, 2, 130, 1, -6.9, -2.25 },     /* two channel tiles, L not a multiple of 8 */
    { 2, 9, 4, 5, 3, -3.0, 3.0 },          /* N > 1 */
    { 1, 4, 4, 96, VB_CUDA_SCAN_MAX_N, -2.0, 2.0 },   /* the largest N, a 2×2 map */
    { 1, 1, 4, 8, 1, -6.9, -2.25 },        /* a 1×1 map */
    { 2, 49, 4, 768, 1, -6.9, -2.25 },     /* stage 4 of VMamba-T at 224 */
    { 1, 40, 4, 96, 1, -2.0, 8.0 },        /* large Δ */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_scan (cu, rng, &cases[i]);
}

static void
test_scan_rejects_large_n (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  vb_cuda_selective_scan_forward (cu, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                  1, 4, 4, 8, VB_CUDA_SCAN_MAX_N + 1);
  g_assert_nonnull (vb_cuda_error (cu));
  g_autofree char *want = g_strdup_printf ("d_state %d", VB_CUDA_SCAN_MAX_N + 1);
  g_assert_nonnull (strstr (vb_cuda_error (cu), want));
  vb_cuda_clear_error (cu);
}

/* ---- linear ----------------------------------------------------------------------------- */

static void
check_linear (VbCuda *cu, GRand *rng, int64_t n, int in_f, int out_f, gboolean bias,
              gboolean accumulate)
{
  int64_t ld_in = in_f + 3, ld_out = out_f + 2;
  gsize n_in = (gsize) n * ld_in, n_out = (gsize) n * ld_out, n_w = (gsize) in_f * out_f;
  g_autofree float *x = cc_random (rng, n_in, -1, 1);
  g_autofree float *w = cc_random (rng, n_w, -1, 1);
  g_autofree float *b = cc_random (rng, out_f, -1, 1);
  g_autofree float *dout = cc_random (rng, n_out, -1, 1);
  g_autofree float *din = cc_random (rng, n_in, -1, 1);
  g_autofree float *dw = cc_random (rng, n_w, -1, 1);
  g_autofree float *db = cc_random (rng, out_f, -1, 1);
  g_autofree float *out = g_new0 (float, n_out);
  float *d_x = cc_upload (cu, x, n_in * 4), *d_w = cc_upload (cu, w, n_w * 4);
  float *d_b = cc_upload (cu, b, out_f * 4), *d_dout = cc_upload (cu, dout, n_out * 4);
  float *d_din = cc_upload (cu, din, n_in * 4), *d_dw = cc_upload (cu, dw, n_w * 4);
  float *d_db = cc_upload (cu, db, out_f * 4), *d_out = cc_upload (cu, out, n_out * 4);

  vb_linear_forward (out, ld_out, x, ld_in, w, bias ? b : NULL, n, in_f, out_f);
  vb_cuda_linear_forward (cu, d_out, ld_out, d_x, ld_in, d_w, bias ? d_b : NULL, n, in_f,
                          out_f);
  check_sum (cu, "linear out", d_out, out, n_out, 1e-5);

  vb_linear_backward (din, ld_in, accumulate, dw, db, dout, ld_out, x, ld_in, w, n, in_f, out_f);
  vb_cuda_linear_backward (cu, d_din, ld_in, accumulate, d_dw, d_db, d_dout, ld_out, d_x, ld_in,
                           d_w, n, in_f, out_f);
  check_sum (cu, "linear din", d_din, din, n_in, 1e-5);
  check_sum (cu, "linear dw", d_dw, dw, n_w, 1e-5);
  check_sum (cu, "linear db", d_db, db, out_f, 1e-5);
  float *all[] = { d_x, d_w, d_b, d_dout, d_din, d_dw, d_db, d_out };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
test_linear (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 2);
  check_linear (cu, rng, 1, 1, 1, TRUE, FALSE);
  check_linear (cu, rng, 37, 5, 8, FALSE, TRUE);
  check_linear (cu, rng, 1000, 96, 384, TRUE, FALSE);
  check_linear (cu, rng, 3000, 27, 48, TRUE, TRUE);   /* more rows than one column-sum chunk */
  check_linear (cu, rng, 64, 768, 3072, TRUE, FALSE);
}

/* the SS2D groups' projections: G products side by side in one row, as one batched call */
static void
check_linear_groups (VbCuda *cu, GRand *rng, int64_t n, int G, int in_f, int out_f)
{
  int64_t ld_in = (int64_t) G * in_f, ld_out = (int64_t) G * out_f;
  gsize n_in = (gsize) n * ld_in, n_out = (gsize) n * ld_out, n_w = (gsize) G * in_f * out_f;
  g_autofree float *x = cc_random (rng, n_in, -1, 1);
  g_autofree float *w = cc_random (rng, n_w, -1, 1);
  g_autofree float *dout = cc_random (rng, n_out, -1, 1);
  g_autofree float *din = cc_random (rng, n_in, -1, 1);
  g_autofree float *dw = cc_random (rng, n_w, -1, 1);
  g_autofree float *out = g_new0 (float, n_out);
  float *d_x = cc_upload (cu, x, n_in * 4), *d_w = cc_upload (cu, w, n_w * 4);
  float *d_dout = cc_upload (cu, dout, n_out * 4), *d_din = cc_upload (cu, din, n_in * 4);
  float *d_dw = cc_upload (cu, dw, n_w * 4), *d_out = cc_poisoned (cu, n_out);

  for (int g = 0; g < G; g++)
    {
      vb_linear_forward (out + g * out_f, ld_out, x + g * in_f, ld_in,
                         w + (gsize) g * in_f * out_f, NULL, n, in_f, out_f);
      /* x_proj's backward accumulates into din, like the model's */
      vb_linear_backward (din + g * in_f, ld_in, 1, dw + (gsize) g * in_f * out_f, NULL,
                          dout + g * out_f, ld_out, x + g * in_f, ld_in,
                          w + (gsize) g * in_f * out_f, n, in_f, out_f);
    }
  vb_cuda_linear_forward_groups (cu, d_out, ld_out, out_f, d_x, ld_in, in_f, d_w,
                                 (int64_t) in_f * out_f, G, n, in_f, out_f);
  vb_cuda_linear_backward_groups (cu, d_din, ld_in, in_f, 1, d_dw, (int64_t) in_f * out_f,
                                  d_dout, ld_out, out_f, d_x, ld_in, in_f, d_w, G, n, in_f,
                                  out_f);
  check_sum (cu, "grouped linear out", d_out, out, n_out, 1e-5);
  check_sum (cu, "grouped linear din (+=)", d_din, din, n_in, 1e-5);
  check_sum (cu, "grouped linear dw (+=)", d_dw, dw, n_w, 1e-5);
  float *all[] = { d_x, d_w, d_dout, d_din, d_dw, d_out };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static void
test_linear_groups (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 3);
  check_linear_groups (cu, rng, 63, 4, 37, 5);     /* x_proj of a small model: D → R + 2N */
  check_linear_groups (cu, rng, 3136, 4, 6, 96);   /* dt_proj at stage 1: R → D */
  check_linear_groups (cu, rng, 50, 2, 768, 50);
}

/* ---- linear products in the tensor-core modes ------------------------------------------ */

/* One product (groups 0: vb_cuda_linear_*, with bias) or `groups` side by side
 * (vb_cuda_linear_*_groups, no bias), forward and backward; host inputs, where din, dw
 * and db hold the values the backward starts from. */
typedef struct
{
  int64_t n, ld_in, ld_out;
  int     in_f, out_f, groups;
  gboolean accumulate;
  gsize   n_in, n_out, n_w;
  float  *x, *w, *b, *dout, *din, *dw, *db;
} LinCase;

typedef struct
{
  float *out, *din, *dw, *db;
} LinResult;

static void
lin_result_clear (LinResult *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->din, g_free);
  g_clear_pointer (&r->dw, g_free);
  g_clear_pointer (&r->db, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LinResult, lin_result_clear)

static void
lin_case_init (LinCase *c, GRand *rng, int64_t n, int groups, int in_f, int out_f, int pad,
               gboolean accumulate)
{
  int G = MAX (groups, 1);
  c->n = n;
  c->groups = groups;
  c->in_f = in_f;
  c->out_f = out_f;
  c->accumulate = accumulate;
  c->ld_in = (int64_t) G * in_f + pad;
  c->ld_out = (int64_t) G * out_f + pad;
  c->n_in = (gsize) n * c->ld_in;
  c->n_out = (gsize) n * c->ld_out;
  c->n_w = (gsize) G * in_f * out_f;
  c->x = cc_random (rng, c->n_in, -1, 1);
  c->w = cc_random (rng, c->n_w, -1, 1);
  c->b = cc_random (rng, out_f, -1, 1);
  c->dout = cc_random (rng, c->n_out, -1, 1);
  c->din = cc_random (rng, c->n_in, -1, 1);
  c->dw = cc_random (rng, c->n_w, -1, 1);
  c->db = cc_random (rng, out_f, -1, 1);
}

static void
lin_case_clear (LinCase *c)
{
  float *all[] = { c->x, c->w, c->b, c->dout, c->din, c->dw, c->db };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_free (all[i]);
}

/* nearest bf16 (ties to even), as a float; the inputs here are finite */
static float *
bf16_rounded (const float *x, gsize n)
{
  float *r = g_new (float, n > 0 ? n : 1);
  for (gsize i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, &x[i], sizeof u);
      u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
      memcpy (&r[i], &u, sizeof u);
    }
  return r;
}

/* the CPU ops, on the inputs or (bf16) on the product operands rounded to bf16 */
static void
lin_cpu (const LinCase *c, gboolean bf16, LinResult *r)
{
  g_autofree float *xr = bf16 ? bf16_rounded (c->x, c->n_in) : NULL;
  g_autofree float *wr = bf16 ? bf16_rounded (c->w, c->n_w) : NULL;
  g_autofree float *doutr = bf16 ? bf16_rounded (c->dout, c->n_out) : NULL;
  const float *x = bf16 ? xr : c->x, *w = bf16 ? wr : c->w, *dout = bf16 ? doutr : c->dout;
  gsize wg = (gsize) c->in_f * c->out_f;
  r->out = g_new0 (float, c->n_out);
  r->din = g_memdup2 (c->din, c->n_in * sizeof (float));
  r->dw = g_memdup2 (c->dw, c->n_w * sizeof (float));
  r->db = g_memdup2 (c->db, c->out_f * sizeof (float));
  for (int g = 0; g < MAX (c->groups, 1); g++)
    {
      vb_linear_forward (r->out + g * c->out_f, c->ld_out, x + g * c->in_f, c->ld_in,
                         w + g * wg, c->groups == 0 ? c->b : NULL, c->n, c->in_f, c->out_f);
      vb_linear_backward (r->din + g * c->in_f, c->ld_in, c->accumulate, r->dw + g * wg,
                          c->groups == 0 ? r->db : NULL, dout + g * c->out_f, c->ld_out,
                          x + g * c->in_f, c->ld_in, w + g * wg, c->n, c->in_f, c->out_f);
    }
}

/* the CUDA ops in matmul mode `mode`, leaving the context in strict fp32 */
static void
lin_gpu (VbCuda *cu, const LinCase *c, int mode, LinResult *r)
{
  g_autofree float *zero = g_new0 (float, c->n_out);
  float *d_x = cc_upload (cu, c->x, c->n_in * 4), *d_w = cc_upload (cu, c->w, c->n_w * 4);
  float *d_b = cc_upload (cu, c->b, c->out_f * 4), *d_dout = cc_upload (cu, c->dout, c->n_out * 4);
  float *d_din = cc_upload (cu, c->din, c->n_in * 4), *d_dw = cc_upload (cu, c->dw, c->n_w * 4);
  float *d_db = cc_upload (cu, c->db, c->out_f * 4), *d_out = cc_upload (cu, zero, c->n_out * 4);
  int64_t wg = (int64_t) c->in_f * c->out_f;

  g_assert_cmpint (vb_cuda_set_matmul (cu, mode), ==, 1);
  if (c->groups == 0)
    {
      vb_cuda_linear_forward (cu, d_out, c->ld_out, d_x, c->ld_in, d_w, d_b, c->n, c->in_f,
                              c->out_f);
      vb_cuda_linear_backward (cu, d_din, c->ld_in, c->accumulate, d_dw, d_db, d_dout, c->ld_out,
                               d_x, c->ld_in, d_w, c->n, c->in_f, c->out_f);
    }
  else
    {
      vb_cuda_linear_forward_groups (cu, d_out, c->ld_out, c->out_f, d_x, c->ld_in, c->in_f,
                                     d_w, wg, c->groups, c->n, c->in_f, c->out_f);
      vb_cuda_linear_backward_groups (cu, d_din, c->ld_in, c->in_f, c->accumulate, d_dw, wg,
                                      d_dout, c->ld_out, c->out_f, d_x, c->ld_in, c->in_f, d_w,
                                      c->groups, c->n, c->in_f, c->out_f);
    }
  g_assert_cmpint (vb_cuda_set_matmul (cu, VB_CUDA_MATMUL_FP32), ==, 1);
  r->out = cc_download (cu, d_out, c->n_out);
  r->din = cc_download (cu, d_din, c->n_in);
  r->dw = cc_download (cu, d_dw, c->n_w);
  r->db = cc_download (cu, d_db, c->out_f);
  float *all[] = { d_x, d_w, d_b, d_dout, d_din, d_dw, d_db, d_out };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    vb_cuda_free (cu, all[i]);
}

static double
rel_l2 (const float *got, const float *want, gsize n)
{
  double num = 0.0, den = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double d = (double) got[i] - want[i];
      num += d * d;
      den += (double) want[i] * want[i];
    }
  return den > 0.0 ? sqrt (num / den) : sqrt (num);
}

/* bf16 mode within bf16's tolerance of the CPU (relative L2 ≤ 1e-2, each element within
 * 1e-2 of the largest magnitude) and the CPU's own product of the operands rounded to bf16
 * (≤ 1e-4: only the order of the fp32 sums differs); where `large` (enough values for a
 * steady statistic), also really reduced: away from the strict result, and coarser than
 * TF32 (bf16 keeps 8 significant bits, TF32 11: about 8× the error). On an
 * H200 cuBLAS's compute type CUBLAS_COMPUTE_32F_FAST_16BF on fp32 operands failed this
 * (its results matched TF32's: 2.6e-4 from the CPU's, 2.1e-3 from the bf16-rounded
 * product). */
static void
check_modes (const char *what, const float *strict, const float *tf32, const float *bf16,
             const float *cpu, const float *cpu_bf16, gsize n, gboolean large)
{
  g_autofree char *name = g_strdup_printf ("%s (bf16 products)", what);
  double scale = n > 0 ? fabsf (cpu[max_abs_index (cpu, n)]) : 0.0;
  cc_assert_close (name, bf16, cpu, n, 1e-2, 1e-2 * scale + 1e-6, 1e-2);
  double e_strict = rel_l2 (strict, cpu, n), e_tf32 = rel_l2 (tf32, cpu, n);
  double e_bf16 = rel_l2 (bf16, cpu, n), off = rel_l2 (bf16, strict, n);
  double e_rounded = rel_l2 (bf16, cpu_bf16, n);
  g_test_message ("%s: relative L2 to the CPU: strict %.2e, tf32 %.2e, bf16 %.2e (bf16 to "
                  "strict %.2e; to the CPU on bf16-rounded operands %.2e)", what, e_strict,
                  e_tf32, e_bf16, off, e_rounded);
  g_assert_cmpfloat (e_rounded, <=, 1e-4);
  if (large)
    {
      g_assert_cmpfloat (off, >=, 1e-4);
      g_assert_cmpfloat (e_bf16, >=, 2.0 * e_tf32);
    }
}

static void
check_linear_modes (VbCuda *cu, GRand *rng, int64_t n, int groups, int in_f, int out_f,
                    int pad, gboolean accumulate, gboolean large)
{
  LinCase c;
  lin_case_init (&c, rng, n, groups, in_f, out_f, pad, accumulate);
  g_auto (LinResult) cpu = { 0 };
  g_auto (LinResult) cpu_bf16 = { 0 };
  g_auto (LinResult) strict = { 0 };
  g_auto (LinResult) tf32 = { 0 };
  g_auto (LinResult) bf16 = { 0 };
  lin_cpu (&c, FALSE, &cpu);
  lin_cpu (&c, TRUE, &cpu_bf16);
  lin_gpu (cu, &c, VB_CUDA_MATMUL_FP32, &strict);
  lin_gpu (cu, &c, VB_CUDA_MATMUL_TF32, &tf32);
  lin_gpu (cu, &c, VB_CUDA_MATMUL_BF16, &bf16);
  g_test_message ("%s: n %" G_GINT64_FORMAT ", %d → %d, %d group(s)",
                  groups ? "grouped linear" : "linear", n, in_f, out_f, MAX (groups, 1));
  check_modes ("out", strict.out, tf32.out, bf16.out, cpu.out, cpu_bf16.out, c.n_out, large);
  check_modes ("din", strict.din, tf32.din, bf16.din, cpu.din, cpu_bf16.din, c.n_in, large);
  check_modes ("dw", strict.dw, tf32.dw, bf16.dw, cpu.dw, cpu_bf16.dw, c.n_w, large);
  /* the bias gradient is a column sum, fp32 in every mode */
  if (groups == 0)
    cc_assert_close ("db (bf16 mode)", bf16.db, cpu.db, out_f, 1e-5, 1e-4, 1e-4);
  lin_case_clear (&c);
}

static void
test_linear_bf16 (void)
{
  VbCuda *cu = cc_open_or_skip ();
  if (cu == NULL)
    return;
  g_assert_cmpint (vb_cuda_set_matmul (cu, 7), ==, 0);   /* no such mode */
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 4);
  check_linear_modes (cu, rng, 1000, 0, 96, 384, 0, FALSE, TRUE);  /* a stage-1 MLP product */
  check_linear_modes (cu, rng, 256, 0, 192, 768, 0, TRUE, TRUE);
  check_linear_modes (cu, rng, 1024, 4, 64, 32, 0, TRUE, TRUE);     /* grouped, batched */
  check_linear_modes (cu, rng, 37, 0, 5, 8, 3, TRUE, FALSE);        /* awkward strides */
  check_linear_modes (cu, rng, 63, 4, 37, 5, 0, TRUE, FALSE);       /* x_proj of a small model */
  check_linear_modes (cu, rng, 3136, 4, 6, 96, 0, TRUE, FALSE);     /* dt_proj at stage 1 */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/cuda/selective-scan", test_scan);
  g_test_add_func ("/vb/cuda/selective-scan/rejects-large-n", test_scan_rejects_large_n);
  g_test_add_func ("/vb/cuda/linear", test_linear);
  g_test_add_func ("/vb/cuda/linear-groups", test_linear_groups);
  g_test_add_func ("/vb/cuda/linear-bf16", test_linear_bf16);
  int status = g_test_run ();
  vb_cuda_close (cc_cuda);
  return status;
}
