/* test-ss2d-scan.c: the SS2D scan that reads its routes through an index map
 * (specs/kernels.md §3–4) against the composition it replaces — cross-scan copies, the
 * plain selective scan in sequence order, the outputs scattered back — forward and
 * backward, every mode, H ≠ W, 1×1 maps, N = 1 and 2; and the group sum. The plain scan
 * is gradient-checked in test-scan; equality here carries that over. Equal bit for bit:
 * both do the same arithmetic in the same order. Also the CPU table's bf16-storage scan
 * and group sum against the fp32 ops on widened inputs, outputs rounded. */
#include "config.h"

#include <string.h>

#include "vb-cpu-ops.h"
#include "vb-ops.h"
#include "gradcheck.h"

typedef struct {
  int B, H, W, K, D, N;
  VbScanMode mode;
} Shape;

/* seq (B, L, K, C) in sequence order ← spatial (B, L, K, C): group k's row l is the
 * spatial row g_k(l) (to_seq), or the reverse (scatter back) */
static void
permute (float *dst, const float *src, const Shape *s, int C, gboolean to_seq)
{
  int64_t L = (int64_t) s->H * s->W;
  for (int b = 0; b < s->B; b++)
    for (int64_t l = 0; l < L; l++)
      for (int k = 0; k < s->K; k++)
        {
          int64_t p = vb_scan_gather_index (s->mode, k, l, s->H, s->W);
          int64_t seq = ((b * L + l) * s->K + k) * C, sp = ((b * L + p) * s->K + k) * C;
          memcpy (dst + (to_seq ? seq : sp), src + (to_seq ? sp : seq), C * sizeof (float));
        }
}

static void
assert_same (const char *what, const float *a, const float *b, gsize n)
{
  if (memcmp (a, b, n * sizeof (float)) != 0)
    g_error ("%s differs from the composition of cross-scan and plain scan", what);
}

static void
check_shape (GRand *rand, Shape s)
{
  int64_t L = (int64_t) s.H * s.W, BL = s.B * L, KD = (int64_t) s.K * s.D;
  int64_t n_u = BL * s.D, n_kd = BL * KD, n_bc = BL * s.K * s.N, n_a = KD * s.N;
  g_autofree float *u = gc_randn (rand, n_u, 1.0f);
  g_autofree float *g = gc_randn (rand, n_u, 1.0f);
  g_autofree float *delta = gc_randn (rand, n_kd, 1.0f);
  g_autofree float *Bs = gc_randn (rand, n_bc, 1.0f);
  g_autofree float *Cs = gc_randn (rand, n_bc, 1.0f);
  g_autofree float *A = gc_randn (rand, n_a, 0.5f);
  g_autofree float *Dskip = gc_randn (rand, KD, 1.0f);
  g_autofree float *dbias = gc_randn (rand, KD, 0.5f);
  for (int64_t i = 0; i < n_a; i++)
    A[i] = -expf (A[i]);
  delta[0] = 25.0f;   /* past the softplus threshold */

  /* the routed op */
  g_autofree float *yk = g_new (float, n_kd), *duk = g_new (float, n_kd);
  g_autofree float *ddelta = g_new (float, n_kd);
  g_autofree float *dBs = g_new (float, n_bc), *dCs = g_new (float, n_bc);
  g_autofree float *dA = g_new0 (float, n_a), *dD = g_new0 (float, KD), *db = g_new0 (float, KD);
  vb_ss2d_scan_forward (yk, u, delta, A, Bs, Cs, Dskip, dbias, s.B, s.H, s.W, s.K, s.D, s.N,
                        s.mode);
  vb_ss2d_scan_backward (duk, ddelta, dA, dBs, dCs, dD, db, g, u, delta, A, Bs, Cs, Dskip,
                         dbias, s.B, s.H, s.W, s.K, s.D, s.N, s.mode);

  /* the composition: copies in sequence order, the plain scan, scattered back */
  g_autofree float *xs = g_new (float, n_kd), *gs = g_new (float, n_kd);
  g_autofree float *dl_seq = g_new (float, n_kd), *B_seq = g_new (float, n_bc);
  g_autofree float *C_seq = g_new (float, n_bc), *y_seq = g_new (float, n_kd);
  g_autofree float *du_seq = g_new (float, n_kd), *dd_seq = g_new (float, n_kd);
  g_autofree float *dB_seq = g_new (float, n_bc), *dC_seq = g_new (float, n_bc);
  g_autofree float *dA2 = g_new0 (float, n_a), *dD2 = g_new0 (float, KD);
  g_autofree float *db2 = g_new0 (float, KD), *back = g_new (float, n_kd);
  vb_cross_scan_forward (xs, u, s.B, s.H, s.W, s.D, s.mode);
  vb_cross_scan_forward (gs, g, s.B, s.H, s.W, s.D, s.mode);
  permute (dl_seq, delta, &s, s.D, TRUE);
  permute (B_seq, Bs, &s, s.N, TRUE);
  permute (C_seq, Cs, &s, s.N, TRUE);
  vb_selective_scan_forward (y_seq, xs, dl_seq, A, B_seq, C_seq, Dskip, dbias, s.B, (int) L,
                             s.K, s.D, s.N);
  vb_selective_scan_backward (du_seq, dd_seq, dA2, dB_seq, dC_seq, dD2, db2, gs, xs, dl_seq,
                              A, B_seq, C_seq, Dskip, dbias, s.B, (int) L, s.K, s.D, s.N);

  permute (back, y_seq, &s, s.D, FALSE);
  assert_same ("y", yk, back, n_kd);
  permute (back, du_seq, &s, s.D, FALSE);
  assert_same ("du", duk, back, n_kd);
  permute (back, dd_seq, &s, s.D, FALSE);
  assert_same ("ddelta", ddelta, back, n_kd);
  g_autofree float *bc_back = g_new (float, n_bc);
  permute (bc_back, dB_seq, &s, s.N, FALSE);
  assert_same ("dB", dBs, bc_back, n_bc);
  permute (bc_back, dC_seq, &s, s.N, FALSE);
  assert_same ("dC", dCs, bc_back, n_bc);
  assert_same ("dA", dA, dA2, n_a);
  assert_same ("dDskip", dD, dD2, KD);
  assert_same ("ddbias", db, db2, KD);

  /* the cross-merge of the per-group outputs is their group sum */
  g_autofree float *merged = g_new (float, n_u), *summed = g_new (float, n_u);
  vb_cross_merge_forward (merged, y_seq, s.B, s.H, s.W, s.D, s.mode);
  vb_group_sum (summed, yk, BL, s.K, s.D, FALSE);
  assert_same ("group sum", summed, merged, n_u);
}

static void
test_routes (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261129);
  for (VbScanMode mode = VB_SCAN_4DIR; mode <= VB_SCAN_LEAN2DIR; mode++)
    {
      int K = vb_scan_mode_groups (mode);
      check_shape (rand, (Shape) { 2, 9, 7, K, 5, 1, mode });
      check_shape (rand, (Shape) { 1, 4, 6, K, 3, 2, mode });
      check_shape (rand, (Shape) { 2, 1, 1, K, 4, 1, mode });
      check_shape (rand, (Shape) { 1, 2, 2, K, 7, 1, mode });
    }
}

static void
test_group_sum_accumulates (void)
{
  float in[2 * 3 * 2] = { 1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400 };
  float out[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
  vb_group_sum (out, in, 2, 3, 2, TRUE);
  g_assert_cmpfloat (out[0], ==, 111.5f);
  g_assert_cmpfloat (out[1], ==, 222.5f);
  g_assert_cmpfloat (out[2], ==, 333.5f);
  g_assert_cmpfloat (out[3], ==, 444.5f);
  vb_group_sum (out, in, 2, 3, 2, FALSE);
  g_assert_cmpfloat (out[3], ==, 444.0f);
}

static void
round16 (VbBf16 *dst, const float *src, gsize n)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = vb_bf16_from_float (src[i]);
}

/* the bf16-storage scan and group sum of the CPU table: the fp32 ops on the widened u and
 * delta (inputs) with yk, duk, ddelta rounded once (trivially true of the reference; this guards
 * its wiring: argument order, the table's entries) */
static void
test_bf16_storage (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261201);
  const VbOps *ops = vb_cpu_ops ();
  int B = 2, H = 3, W = 5, K = 4, D = 6, N = 2;
  VbScanMode mode = VB_SCAN_4DIR;
  int64_t BL = (int64_t) B * H * W, KD = (int64_t) K * D;
  int64_t n_u = BL * D, n_kd = BL * KD, n_bc = BL * K * N, n_a = KD * N;
  g_autofree float *u = gc_randn (rand, n_u, 1.0f), *g = gc_randn (rand, n_u, 1.0f);
  g_autofree float *delta = gc_randn (rand, n_kd, 1.0f);
  g_autofree float *Bs = gc_randn (rand, n_bc, 1.0f), *Cs = gc_randn (rand, n_bc, 1.0f);
  g_autofree float *A_logs = gc_randn (rand, n_a, 0.5f), *Dskip = gc_randn (rand, KD, 1.0f);
  g_autofree float *dbias = gc_randn (rand, KD, 0.5f), *A = g_new (float, n_a);
  for (int64_t i = 0; i < n_a; i++)
    A[i] = -expf (A_logs[i]);
  g_autofree VbBf16 *delta16 = g_new (VbBf16, n_kd), *u16 = g_new (VbBf16, n_u);
  g_autofree VbBf16 *g16 = g_new (VbBf16, n_u);
  round16 (delta16, delta, n_kd);
  for (int64_t i = 0; i < n_kd; i++)
    delta[i] = vb_bf16_to_float (delta16[i]);
  round16 (u16, u, n_u);
  round16 (g16, g, n_u);
  for (int64_t i = 0; i < n_u; i++)
    {
      u[i] = vb_bf16_to_float (u16[i]);
      g[i] = vb_bf16_to_float (g16[i]);
    }

  /* fp32 on the widened u, delta and dy, rounded */
  g_autofree float *yk = g_new (float, n_kd), *duk = g_new (float, n_kd);
  g_autofree float *ddelta = g_new (float, n_kd), *dBs = g_new (float, n_bc);
  g_autofree float *dCs = g_new (float, n_bc), *dA = g_new0 (float, n_a);
  g_autofree float *dD = g_new0 (float, KD), *db = g_new0 (float, KD);
  g_autofree float *y = g_new (float, n_u);
  vb_ss2d_scan_forward (yk, u, delta, A, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  vb_ss2d_scan_backward (duk, ddelta, dA, dBs, dCs, dD, db, g, u, delta, A, Bs, Cs, Dskip,
                         dbias, B, H, W, K, D, N, mode);
  g_autofree VbBf16 *want_yk = g_new (VbBf16, n_kd), *want_du = g_new (VbBf16, n_kd);
  g_autofree VbBf16 *want_dd = g_new (VbBf16, n_kd);
  round16 (want_yk, yk, n_kd);
  round16 (want_du, duk, n_kd);
  round16 (want_dd, ddelta, n_kd);

  /* the table's bf16 ops (A as A_logs, its gradient A_logs's: dA · A); dA, dDskip, ddbias
   * accumulate from zero on both sides */
  g_autofree VbBf16 *yk16 = g_new (VbBf16, n_kd), *du16 = g_new (VbBf16, n_kd);
  g_autofree VbBf16 *dd16 = g_new (VbBf16, n_kd);
  g_autofree float *dBs2 = g_new (float, n_bc), *dCs2 = g_new (float, n_bc);
  g_autofree float *dA2 = g_new0 (float, n_a), *dD2 = g_new0 (float, KD);
  g_autofree float *db2 = g_new0 (float, KD), *y2 = g_new (float, n_u);
  ops->ss2d_scan_forward_bf16 (ops->ctx, yk16, NULL, u16, delta16, A_logs, Bs, Cs, Dskip,
                               dbias, B, H, W, K, D, N, mode);
  ops->ss2d_scan_backward_bf16 (ops->ctx, du16, dd16, dA2, dBs2, dCs2, dD2, db2, g16, NULL, u16,
                                delta16, A_logs, Bs, Cs, Dskip, dbias, B, H, W, K, D, N, mode);
  for (int64_t i = 0; i < n_a; i++)
    dA[i] *= A[i];
  g_assert_cmpmem (yk16, n_kd * 2, want_yk, n_kd * 2);
  g_assert_cmpmem (du16, n_kd * 2, want_du, n_kd * 2);
  g_assert_cmpmem (dd16, n_kd * 2, want_dd, n_kd * 2);
  assert_same ("bf16 dB", dBs2, dBs, n_bc);
  assert_same ("bf16 dC", dCs2, dCs, n_bc);
  assert_same ("bf16 dA_logs", dA2, dA, n_a);
  assert_same ("bf16 dDskip", dD2, dD, KD);
  assert_same ("bf16 ddbias", db2, db, KD);

  /* the group sum of bf16 rows: fp32 sums of the widened values */
  g_autofree float *wide = g_new (float, n_kd);
  for (int64_t i = 0; i < n_kd; i++)
    wide[i] = vb_bf16_to_float (yk16[i]);
  vb_group_sum (y, wide, BL, K, D, FALSE);
  ops->group_sum_bf16 (ops->ctx, y2, yk16, BL, K, D, FALSE);
  assert_same ("bf16 group sum", y2, y, n_u);
  vb_group_sum (y, wide, BL, K, D, TRUE);
  ops->group_sum_bf16 (ops->ctx, y2, yk16, BL, K, D, TRUE);
  assert_same ("bf16 group sum (accumulated)", y2, y, n_u);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/kernels/ss2d-scan/routes-equal-composition", test_routes);
  g_test_add_func ("/vb/kernels/ss2d-scan/group-sum", test_group_sum_accumulates);
  g_test_add_func ("/vb/kernels/ss2d-scan/bf16-storage", test_bf16_storage);
  return g_test_run ();
}
