/* The five study projectors (clip-projectors.md §3): parity with the PyTorch reference
 * (tests/reference/make_projector_fixtures.py), the exact parameter and MAC counts at
 * the study width, the LoRA merge, a finite-difference gradient check and
 * thread-count determinism. */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "../kernels/gradcheck.h"
#include "vb-error.h"
#include "vb-cpu-gating.h"
#include "vb-cpu-ops.h"
#include "vb-projector.h"
#include "vb-projector-bf16.h"
#include "vb-projector-bench.h"
#include "vb-safetensors.h"
#include "vb-test-util.h"

static VbProjector *
new_projector (VbProjKind kind, int in, int out, int rank, int hidden, float alpha)
{
  g_autoptr(GError) error = NULL;
  VbProjConfig cfg = { .kind = kind, .in_f = in, .out_f = out, .rank = rank,
                       .hidden = hidden, .alpha = alpha };
  VbProjector *p = vb_projector_new (&cfg, &error);
  g_assert_no_error (error);
  return p;
}

/* ---- counts at the study width (§3, §3.1, §5) ---- */

static void
test_counts (void)
{
  static const struct {
    const char *name;
    int64_t params, trainable, macs, macs_merged;
  } want[] = {
    { "proj-linear",  1049600, 1049600, 1048576, 1048576 },
    { "proj-lowrank",  524288,  524288,  524288,  524288 },
    { "proj-mlp",     4197376, 4197376, 4194304, 4194304 },
    { "proj-gated",   2099200, 2099200, 2097152, 2097152 },
    { "proj-lora",    1065984,   16384, 1064960, 1048576 },
  };
  const char *const *names = vb_projector_names ();

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autoptr(GError) error = NULL;
      VbProjInfo info;

      g_assert_cmpstr (names[i], ==, want[i].name);
      g_assert_true (vb_projector_info (want[i].name, &info, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (info.name, ==, want[i].name);
      g_assert_cmpint (info.params, ==, want[i].params);
      g_assert_cmpint (info.trainable, ==, want[i].trainable);
      g_assert_cmpint (info.frozen, ==, want[i].params - want[i].trainable);
      g_assert_cmpint (info.macs_per_token, ==, want[i].macs);
      g_assert_cmpint (info.macs_per_token_merged, ==, want[i].macs_merged);
      g_assert_cmpint (info.param_bytes, ==, 4 * want[i].params);
      g_assert_cmpint (info.act_bytes_per_token_train, >=, info.act_bytes_per_token_infer);
      g_assert_cmpint (info.act_bytes_per_token_infer, >=, 4 * 1024);

      /* an instantiated model carves exactly that many, trainable first */
      g_autoptr(VbProjector) p = vb_projector_new_by_name (want[i].name, &error);
      g_assert_no_error (error);
      g_assert_cmpint (vb_projector_n_params (p), ==, want[i].params);
      g_assert_cmpint (vb_projector_n_trainable (p), ==, want[i].trainable);
      int64_t sum = 0;
      for (guint t = 0; t < vb_projector_n_tensors (p); t++)
        {
          const VbProjTensor *pt = vb_projector_tensor (p, t);
          g_assert_cmpint (pt->offset, ==, sum);
          g_assert_true (pt->trainable == (sum < want[i].trainable));
          sum += pt->numel;
        }
      g_assert_cmpint (sum, ==, want[i].params);
    }
  /* the seed's 0.53 M row has a bias on U; a rank-256 LoRA has 1,573,888 (§3.1) */
  VbProjConfig cfg;
  vb_projector_config_default (VB_PROJ_LOWRANK, &cfg);
  cfg.up_bias = TRUE;
  g_assert_cmpint (vb_projector_param_count (&cfg), ==, 525312);
  vb_projector_config_default (VB_PROJ_LORA, &cfg);
  cfg.rank = 256;
  g_assert_cmpint (vb_projector_param_count (&cfg), ==, 1573888);
  g_assert_cmpint (vb_projector_macs_per_token (&cfg, FALSE), ==, 1572864);

  /* per image at 576 tokens (§3.1) */
  vb_projector_config_default (VB_PROJ_GATED, &cfg);
  g_assert_cmpint (576 * vb_projector_macs_per_token (&cfg, FALSE), ==, 1207959552);

  g_autoptr(GError) error = NULL;
  VbProjInfo info;
  g_assert_false (vb_projector_info ("proj-identity", &info, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "proj-identity"));
}

/* ---- parity with the fixtures ---- */

static VbTensorEntry *
fx_get (VbTensorDict *fx, const char *name, const char *key)
{
  g_autofree char *full = g_strdup_printf ("%s/%s", name, key);
  VbTensorEntry *e = vb_tensor_dict_lookup (fx, full);
  if (e == NULL)
    g_error ("fixture lacks %s", full);
  return e;
}

static void
check_parity (VbTensorDict *fx, VbProjKind kind)
{
  GHashTable *meta = vb_tensor_dict_metadata (fx);
  const char *name = vb_projector_kind_name (kind);
  int in = atoi (g_hash_table_lookup (meta, "in")), out = atoi (g_hash_table_lookup (meta, "out"));
  int rows = atoi (g_hash_table_lookup (meta, "tokens"));
  g_autoptr(GError) error = NULL;
  g_autoptr(VbProjector) p = new_projector (kind, in, out,
                                            atoi (g_hash_table_lookup (meta, "rank")),
                                            atoi (g_hash_table_lookup (meta, "hidden")),
                                            g_ascii_strtod (g_hash_table_lookup (meta, "alpha"), NULL));

  /* weights by name, from the "<name>/" entries of the fixture */
  g_autoptr(VbTensorDict) weights = vb_tensor_dict_new ();
  for (guint t = 0; t < vb_projector_n_tensors (p); t++)
    {
      const VbProjTensor *pt = vb_projector_tensor (p, t);
      VbTensorEntry *e = fx_get (fx, name, pt->name);
      vb_tensor_dict_add_copy (weights, pt->name, e->ndim, e->shape, e->data);
    }
  g_assert_true (vb_projector_load_dict (p, weights, "fixture", &error));
  g_assert_no_error (error);

  VbTensorEntry *x = fx_get (fx, name, "x"), *y = fx_get (fx, name, "y");
  VbTensorEntry *dy = fx_get (fx, name, "dy"), *dx = fx_get (fx, name, "dx");
  g_assert_cmpint (x->numel, ==, (int64_t) rows * in);
  g_autofree float *got_y = g_new (float, (gsize) rows * out);
  g_autofree float *got_dx = g_new (float, (gsize) rows * in);

  vb_projector_zero_grad (p);
  g_assert_true (vb_projector_forward (p, got_y, x->data, rows, TRUE, &error));
  vb_projector_backward (p, got_dx, dy->data, x->data, rows);
  double e_y = vb_test_rel_error (got_y, y->data, y->numel);
  double e_dx = vb_test_rel_error (got_dx, dx->data, dx->numel);
  double e_worst = 0;
  g_assert_cmpfloat (e_y, <, 1e-4);
  g_assert_cmpfloat (e_dx, <, 1e-4);

  for (guint t = 0; t < vb_projector_n_tensors (p); t++)
    {
      const VbProjTensor *pt = vb_projector_tensor (p, t);
      const float *g = vb_projector_grads (p) + pt->offset;
      if (!pt->trainable)
        {
          /* LoRA's frozen base: no gradient in the fixture, none in the engine */
          for (int64_t k = 0; k < pt->numel; k++)
            g_assert_cmpfloat (g[k], ==, 0.0f);
          continue;
        }
      g_autofree char *key = g_strdup_printf ("grad/%s", pt->name);
      VbTensorEntry *want = fx_get (fx, name, key);
      g_assert_cmpint (want->numel, ==, pt->numel);
      double e = vb_test_rel_error (g, want->data, pt->numel);
      if (!(e < 1e-4))
        g_error ("%s %s: gradient rel error %.3e", name, pt->name, e);
      e_worst = MAX (e_worst, e);
    }
  g_test_message ("%s: rel err y %.2e, dx %.2e, worst parameter gradient %.2e",
                  name, e_y, e_dx, e_worst);
}

static void
test_parity (void)
{
  g_autofree char *path = vb_test_fixture_path ("projectors", "tiny.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(VbTensorDict) fx = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  GHashTable *meta = vb_tensor_dict_metadata (fx);
  g_assert_cmpstr (g_hash_table_lookup (meta, "magic"), ==, "vb-projector-fixture");
  g_assert_cmpstr (g_hash_table_lookup (meta, "version"), ==, "1");

  for (int k = 0; k < VB_PROJ_N_KINDS; k++)
    check_parity (fx, k);
}

/* ---- initialisation and the LoRA merge ---- */

static void
fill_random (float *x, int64_t n, guint32 seed, float scale)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  for (int64_t i = 0; i < n; i++)
    x[i] = scale * gc_normal (rand);
}

static void
test_lora_merge (void)
{
  const int in = 48, out = 40, rows = 7;
  g_autoptr(GError) error = NULL;
  g_autoptr(VbProjector) p = new_projector (VB_PROJ_LORA, in, out, 4, 0, 6.0f);
  g_autofree float *x = g_new (float, rows * in);
  g_autofree float *y = g_new (float, rows * out);
  g_autofree float *ym = g_new (float, rows * out);

  fill_random (x, rows * in, 11, 1.0f);
  vb_projector_init_weights (p, 5);

  /* B = 0 and an identity base: the output starts as the input's first 40 features */
  g_assert_true (vb_projector_forward (p, y, x, rows, FALSE, &error));
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++)
      g_assert_cmpfloat (y[r * out + o], ==, x[r * in + o]);
  const VbProjTensor *B = vb_projector_find_tensor (p, "lora_B.weight");
  const VbProjTensor *A = vb_projector_find_tensor (p, "lora_A.weight");
  g_assert_nonnull (B);
  g_assert_true (B->trainable && A->trainable);
  g_assert_false (vb_projector_find_tensor (p, "base.weight")->trainable);
  g_assert_false (vb_projector_find_tensor (p, "base.bias")->trainable);

  /* a trained-looking adapter and base; merged equals unmerged */
  float *P = vb_projector_params (p);
  fill_random (P + B->offset, B->numel, 12, 0.3f);
  const VbProjTensor *W = vb_projector_find_tensor (p, "base.weight");
  fill_random (P + W->offset, W->numel + out, 13, 0.2f);   /* weight, then bias */
  g_assert_true (vb_projector_forward (p, y, x, rows, FALSE, &error));
  g_assert_true (vb_projector_merge (p));
  g_assert_true (vb_projector_is_merged (p));
  g_assert_true (vb_projector_forward (p, ym, x, rows, FALSE, &error));
  double e = vb_test_rel_error (ym, y, rows * out);
  g_test_message ("LoRA merged vs unmerged: rel err %.2e", e);
  g_assert_cmpfloat (e, <, 1e-6);

  /* a training forward drops the merge, since the parameters will change */
  g_assert_true (vb_projector_forward (p, ym, x, rows, TRUE, &error));
  g_assert_false (vb_projector_is_merged (p));
  g_assert_cmpfloat (vb_test_rel_error (ym, y, rows * out), <, 1e-6);

  /* other kinds have nothing to merge */
  g_autoptr(VbProjector) lin = new_projector (VB_PROJ_LINEAR, 8, 8, 0, 0, 0);
  g_assert_false (vb_projector_merge (lin));
}

/* ---- inference in bf16 storage (vb-projector-bf16.h) ---- */

static float
round_bf16 (float x)
{
  return vb_bf16_to_float (vb_bf16_from_float (x));
}

/* Linear and merged LoRA are one product: the CPU's bf16 op must give exactly the fp32
 * product of the rounded weight, input and bias, rounded once; Gated exactly its two
 * products' fp32 values through the fp32 gate, rounded once. LowRank and the MLP round
 * their intermediates too: within bf16's precision of the fp32 projector. */
static void
test_bf16_inference (void)
{
  const int in = 48, out = 40, rows = 7;
  static const struct { VbProjKind kind; int rank, hidden; } kinds[] = {
    { VB_PROJ_LINEAR, 0, 0 }, { VB_PROJ_LORA, 4, 0 }, { VB_PROJ_LOWRANK, 16, 0 },
    { VB_PROJ_MLP, 0, 64 }, { VB_PROJ_GATED, 0, 0 },
  };
  g_autofree float *x = g_new (float, rows * in), *xw = g_new (float, rows * in);
  g_autofree VbBf16 *x16 = g_new (VbBf16, rows * in), *y16 = g_new (VbBf16, rows * out);
  g_autofree float *y = g_new (float, rows * out), *got = g_new (float, rows * out);
  fill_random (x, rows * in, 21, 1.0f);
  for (int i = 0; i < rows * in; i++)
    {
      x16[i] = vb_bf16_from_float (x[i]);
      xw[i] = vb_bf16_to_float (x16[i]);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(VbProjector) p = new_projector (kinds[k].kind, in, out, kinds[k].rank,
                                                kinds[k].hidden, 8.0f);
      vb_projector_init_weights (p, 7);
      /* every tensor nonzero (LoRA's B starts at zero, biases too) */
      fill_random (vb_projector_params (p), vb_projector_n_params (p), 22 + (guint32) k, 0.2f);
      vb_projector_params_to_backend (p);
      g_autoptr(VbProjBf16) b = vb_proj_bf16_new (p, &error);
      g_assert_no_error (error);
      memset (y16, 0xFF, (size_t) rows * out * sizeof (VbBf16));
      g_assert_true (vb_proj_bf16_forward (b, y16, x16, rows, &error));
      for (int i = 0; i < rows * out; i++)
        got[i] = vb_bf16_to_float (y16[i]);

      const char *name = vb_projector_kind_name (kinds[k].kind);
      if (kinds[k].kind == VB_PROJ_LINEAR || kinds[k].kind == VB_PROJ_LORA)
        {
          float *P = vb_projector_params (p);
          const char *wn = kinds[k].kind == VB_PROJ_LINEAR ? "linear.weight" : "base.weight";
          const VbProjTensor *W = vb_projector_find_tensor (p, wn);
          g_assert_nonnull (W);
          g_autofree float *w = g_new (float, in * out);
          for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
              {
                float v = P[W->offset + o * in + i];
                if (kinds[k].kind == VB_PROJ_LORA)
                  {
                    /* W + s·B·A in vb_projector_merge's order */
                    const VbProjTensor *A = vb_projector_find_tensor (p, "lora_A.weight");
                    const VbProjTensor *B = vb_projector_find_tensor (p, "lora_B.weight");
                    float acc = 0.0f;
                    for (int r = 0; r < kinds[k].rank; r++)
                      acc += P[B->offset + o * kinds[k].rank + r] * P[A->offset + r * in + i];
                    v += 8.0f / kinds[k].rank * acc;
                  }
                w[o * in + i] = round_bf16 (v);
              }
          /* the bias follows its weight; a bf16 module holds it rounded too */
          const float *bias = P + W->offset + (int64_t) in * out;
          g_autofree float *b16 = g_new (float, out);
          for (int o = 0; o < out; o++)
            b16[o] = round_bf16 (bias[o]);
          vb_linear_forward (y, out, xw, in, w, b16, rows, in, out);
          for (int i = 0; i < rows * out; i++)
            g_assert_cmpfloat (got[i], ==, round_bf16 (y[i]));
          g_test_message ("%s in bf16: the rounded fp32 product, bit for bit", name);
        }
      else if (kinds[k].kind == VB_PROJ_GATED)
        {
          /* the value and gate products of the rounded weights and biases in fp32 (one
           * product of their interleaved rows: vb-projector-bf16.c), σ(a)·v as the fp32 gate
           * computes it, rounded once */
          const float *P = vb_projector_params (p);
          const VbProjTensor *Wa = vb_projector_find_tensor (p, "gate.weight");
          const VbProjTensor *Ba = vb_projector_find_tensor (p, "gate.bias");
          const VbProjTensor *Wv = vb_projector_find_tensor (p, "value.weight");
          const VbProjTensor *Bv = vb_projector_find_tensor (p, "value.bias");
          /* rows 16q … 16q + 7 the value's 8q …, the next 8 the gate's (the op's layout,
           * so the same sums in the same order) */
          g_autofree float *w = g_new (float, 2 * in * out), *bias = g_new (float, 2 * out);
          for (int o = 0; o < out; o++)
            {
              int row = o / 8 * 16 + o % 8;
              for (int i = 0; i < in; i++)
                {
                  w[row * in + i] = round_bf16 (P[Wv->offset + o * in + i]);
                  w[(row + 8) * in + i] = round_bf16 (P[Wa->offset + o * in + i]);
                }
              bias[row] = round_bf16 (P[Bv->offset + o]);
              bias[row + 8] = round_bf16 (P[Ba->offset + o]);
            }
          g_autofree float *av = g_new (float, rows * 2 * out);
          vb_linear_forward (av, 2 * out, xw, in, w, bias, rows, in, 2 * out);
          g_autofree float *a = g_new (float, rows * out), *v = g_new (float, rows * out);
          for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++)
              {
                int col = r * 2 * out + o / 8 * 16 + o % 8;
                v[r * out + o] = av[col];
                a[r * out + o] = av[col + 8];
              }
          g_autofree float *sg = g_new (float, rows * out);
          vb_sigmoid_gate_forward (y, sg, a, v, rows * out);
          for (int i = 0; i < rows * out; i++)
            g_assert_cmpfloat (got[i], ==, round_bf16 (y[i]));
          g_test_message ("%s in bf16: the product and the gate, rounded once, bit for bit", name);
        }
      else
        {
          g_assert_true (vb_projector_forward (p, y, x, rows, FALSE, &error));
          double e = vb_test_rel_error (got, y, rows * out);
          g_test_message ("%s in bf16 against fp32: rel err %.2e", name, e);
          g_assert_cmpfloat (e, <, 2e-2);
          g_assert_cmpfloat (e, >, 0.0);   /* it did round */
        }
    }
}

/* the runtime bench runs every projector in both storages (tiny here: the figures are the
 * GPU's to give) and says how it measured */
/* Gated with outputs not a multiple of 8: its weights stacked, not interleaved, the halves
 * of the product rounded before the gate: within bf16's precision of the fp32 projector */
static void
test_bf16_gated_stacked (void)
{
  const int in = 24, out = 6, rows = 5;
  g_autoptr(GError) error = NULL;
  g_autoptr(VbProjector) p = new_projector (VB_PROJ_GATED, in, out, 0, 0, 0.0f);
  vb_projector_init_weights (p, 3);
  fill_random (vb_projector_params (p), vb_projector_n_params (p), 5, 0.3f);
  vb_projector_params_to_backend (p);
  float x[rows * in], y[rows * out], got[rows * out];
  VbBf16 x16[rows * in], y16[rows * out];
  fill_random (x, rows * in, 6, 1.0f);
  for (int i = 0; i < rows * in; i++)
    {
      x16[i] = vb_bf16_from_float (x[i]);
      x[i] = vb_bf16_to_float (x16[i]);
    }
  g_autoptr(VbProjBf16) b = vb_proj_bf16_new (p, &error);
  g_assert_no_error (error);
  g_assert_true (vb_proj_bf16_forward (b, y16, x16, rows, &error));
  g_assert_true (vb_projector_forward (p, y, x, rows, FALSE, &error));
  for (int i = 0; i < rows * out; i++)
    got[i] = vb_bf16_to_float (y16[i]);
  double e = vb_test_rel_error (got, y, rows * out);
  g_test_message ("Gated, 6 outputs, stacked in bf16 against fp32: rel err %.2e", e);
  g_assert_cmpfloat (e, <, 2e-2);
  g_assert_cmpfloat (e, >, 0.0);
}

static void
test_bench (void)
{
  static const char *const names[] = { "proj-linear", "proj-lowrank", "proj-mlp",
                                       "proj-gated", "proj-lora" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    for (int bf16 = 0; bf16 < 2; bf16++)
      {
        VbProjBenchProtocol pr = { 1, 4, 0, 1, 1, "cpu", bf16 ? "bf16" : "fp32" };
        g_auto (VbBenchResult) r = { 0 };
        g_autoptr (GError) error = NULL;
        g_assert_true (vb_projector_bench_run (names[i], &pr, &r, &error));
        g_assert_no_error (error);
        g_assert_cmpfloat (r.median_s, >, 0.0);
        g_assert_cmpfloat (r.img_per_s, ==, 1 / r.median_s);
        g_autofree char *card = vb_projector_bench_protocol_json (names[i], &pr);
        g_assert_nonnull (strstr (card, bf16 ? "bf16 storage" : "\"precision\": \"fp32\""));
        g_assert_true ((strstr (card, "LoRA merged") != NULL) == (i == 4));
      }
  VbProjBenchProtocol bad = { 0, 4, 0, 1, 1, "cpu", "fp32" };
  g_auto (VbBenchResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_projector_bench_run ("proj-linear", &bad, &r, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
}

/* ---- finite differences ---- */

typedef struct {
  VbProjector *p;
  float *x, *y;
  int rows;
} FdProblem;

static void
fd_forward (gpointer self)
{
  FdProblem *f = self;
  g_assert_true (vb_projector_forward (f->p, f->y, f->x, f->rows, TRUE, NULL));
}

static void
test_gradcheck (void)
{
  const int in = 6, out = 5, rows = 3;

  /* the five kinds, then LowRank with BENCHMARKS.md's bias on U */
  for (int k = 0; k <= VB_PROJ_N_KINDS; k++)
    {
      VbProjConfig cfg = { .kind = k % VB_PROJ_N_KINDS, .in_f = in, .out_f = out, .rank = 2,
                           .hidden = 7, .alpha = 3.0f, .up_bias = k == VB_PROJ_N_KINDS };
      if (cfg.up_bias)
        cfg.kind = VB_PROJ_LOWRANK;
      g_autoptr(VbProjector) p = vb_projector_new (&cfg, NULL);
      g_autofree float *x = g_new (float, rows * in);
      g_autofree float *y = g_new (float, rows * out);
      g_autofree float *dy = g_new (float, rows * out);
      g_autofree float *dx = g_new (float, rows * in);
      int64_t n = vb_projector_n_params (p);
      float *P = vb_projector_params (p);

      /* random everything, LoRA's B and base included, so no path is trivially zero */
      fill_random (P, n, 100 + k, 0.5f);
      fill_random (x, rows * in, 200 + k, 1.0f);
      fill_random (dy, rows * out, 300 + k, 1.0f);
      FdProblem f = { p, x, y, rows };
      GcProblem gp = { fd_forward, &f, y, dy, rows * out };

      vb_projector_zero_grad (p);
      fd_forward (&f);
      vb_projector_backward (p, dx, dy, x, rows);
      g_autofree float *grads = gc_copy (vb_projector_grads (p), n);
      g_autofree float *dx0 = gc_copy (dx, rows * in);

      for (guint t = 0; t < vb_projector_n_tensors (p); t++)
        {
          const VbProjTensor *pt = vb_projector_tensor (p, t);
          g_autofree char *label = g_strdup_printf ("%s %s", vb_projector_kind_name (cfg.kind),
                                                    pt->name);
          if (pt->trainable)
            gc_check (&gp, label, P + pt->offset, pt->numel, grads + pt->offset, 64, 1e-2f);
        }
      g_autofree char *label = g_strdup_printf ("%s dx", vb_projector_kind_name (cfg.kind));
      g_assert_cmpint (vb_projector_n_params (p), ==, vb_projector_param_count (&cfg));
      gc_check (&gp, label, x, rows * in, dx0, 64, 1e-2f);
    }
}

/* ---- thread-count determinism ----
 * The projector's own work (forward products on the own kernel, GELU, the gate, the
 * column sums) is bit-identical for any OpenMP thread count. The backward products run
 * on OpenBLAS (pthread build), whose results move in the last bits with its own thread
 * count, so that count is held fixed for the bit-identity check and compared with a
 * tolerance apart. */

static void
run_once (VbProjector *p, const float *x, const float *dy, int rows, float *y, float *dx,
          int omp_threads, int blas_threads)
{
  omp_set_num_threads (omp_threads);
  openblas_set_num_threads (blas_threads);
  vb_projector_zero_grad (p);
  g_assert_true (vb_projector_forward (p, y, x, rows, TRUE, NULL));
  vb_projector_backward (p, dx, dy, x, rows);
}

static void
test_threads (void)
{
  /* large enough for the threaded paths: 600 rows (several column-sum chunks) and
   * elementwise work over 32768 floats */
  const int in = 96, out = 128, rows = 600;
  int saved = omp_get_max_threads ();
  g_autofree float *x = g_new (float, rows * in);
  g_autofree float *dy = g_new (float, rows * out);
  double worst_blas = 0;

  fill_random (x, rows * in, 1, 1.0f);
  fill_random (dy, rows * out, 2, 1.0f);
  for (int k = 0; k < VB_PROJ_N_KINDS; k++)
    {
      g_autoptr(VbProjector) p = new_projector (k, in, out, 16, 192, 16.0f);
      int64_t n = vb_projector_n_params (p);
      gsize ybytes = rows * out * sizeof (float), dxbytes = rows * in * sizeof (float);
      g_autofree float *y1 = g_new (float, rows * out), *y2 = g_new (float, rows * out);
      g_autofree float *dx1 = g_new (float, rows * in), *dx2 = g_new (float, rows * in);

      fill_random (vb_projector_params (p), n, 3 + k, 0.1f);
      run_once (p, x, dy, rows, y1, dx1, 1, 1);
      g_autofree float *g1 = gc_copy (vb_projector_grads (p), n);
      for (int threads = 2; threads <= 4; threads += 2)
        {
          run_once (p, x, dy, rows, y2, dx2, threads, 1);
          g_assert_cmpmem (y1, ybytes, y2, ybytes);
          g_assert_cmpmem (dx1, dxbytes, dx2, dxbytes);
          g_assert_cmpmem (g1, n * sizeof (float), vb_projector_grads (p), n * sizeof (float));
        }

      /* OpenBLAS threads: same forward, backward equal to rounding, and repeatable */
      run_once (p, x, dy, rows, y2, dx2, 2, 2);
      g_assert_cmpmem (y1, ybytes, y2, ybytes);
      worst_blas = MAX (worst_blas, vb_test_rel_error (dx2, dx1, rows * in));
      worst_blas = MAX (worst_blas, vb_test_rel_error (vb_projector_grads (p), g1, n));
      g_autofree float *g2 = gc_copy (vb_projector_grads (p), n);
      g_autofree float *dx3 = g_new (float, rows * in);
      run_once (p, x, dy, rows, y2, dx3, 2, 2);
      g_assert_cmpmem (dx2, dxbytes, dx3, dxbytes);
      g_assert_cmpmem (g2, n * sizeof (float), vb_projector_grads (p), n * sizeof (float));
    }
  g_test_message ("1 vs 2 OpenBLAS threads: backward rel difference at most %.2e", worst_blas);
  g_assert_cmpfloat (worst_blas, <, 1e-6);
  omp_set_num_threads (saved);
  openblas_set_num_threads (saved);
}

/* ---- bad configurations and loads ---- */

static void
test_bad (void)
{
  g_autoptr(GError) error = NULL;
  VbProjConfig cfg = { .kind = VB_PROJ_MLP, .in_f = 8, .out_f = 8, .hidden = 0 };

  g_assert_null (vb_projector_new (&cfg, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_clear_error (&error);

  g_autoptr(VbProjector) p = new_projector (VB_PROJ_GATED, 8, 4, 0, 0, 0);
  g_autoptr(VbTensorDict) d = vb_projector_to_dict (p);
  g_assert_cmpuint (vb_tensor_dict_size (d), ==, 4);
  vb_tensor_dict_remove (d, "value.bias");
  g_assert_false (vb_projector_load_dict (p, d, "x.safetensors", &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "value.bias"));
  g_clear_error (&error);

  int64_t wrong[] = { 5 };
  vb_tensor_dict_add (d, "value.bias", 1, wrong);
  g_assert_false (vb_projector_load_dict (p, d, "x.safetensors", &error));
  g_assert_nonnull (strstr (error->message, "x.safetensors"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/projector/counts", test_counts);
  g_test_add_func ("/vb/projector/parity", test_parity);
  g_test_add_func ("/vb/projector/lora-merge", test_lora_merge);
  g_test_add_func ("/vb/projector/gradcheck", test_gradcheck);
  g_test_add_func ("/vb/projector/threads", test_threads);
  g_test_add_func ("/vb/projector/bad", test_bad);
  g_test_add_func ("/vb/projector/bf16-inference", test_bf16_inference);
  g_test_add_func ("/vb/projector/bf16-gated-stacked", test_bf16_gated_stacked);
  g_test_add_func ("/vb/projector/bench", test_bench);
  return g_test_run ();
}
