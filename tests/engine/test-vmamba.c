/* Parity of the VMamba engine with the PyTorch reference (tests/reference/), and the
 * published parameter and multiply-add counts. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "vb-error.h"
#include "vb-ops.h"
#include "vb-profile.h"
#include "vb-rng.h"
#include "vb-safetensors.h"
#include "vb-test-util.h"
#include "vb-vmamba.h"

/* bf16 storage against fp32 numbers: each rounding of an operand costs up to 2⁻⁹, and
 * the gradients pass through a dozen roundings a block (measured on tiny-4dir, width 8:
 * logits 8.1e-3, worst parameter gradient 3.2e-2, input gradient 1.7e-2) */
#define BF16_TOL_OUT 2e-2
#define BF16_TOL_GRAD 5e-2

/* NCHW → NHWC, or back */
static void
nchw_to_nhwc (float *dst, const float *src, int B, int C, int H, int W)
{
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++)
          dst[(((int64_t) b * H + h) * W + w) * C + c] = src[(((int64_t) b * C + c) * H + h) * W + w];
}

/* Against the PyTorch reference's fp32 numbers: strict fp32 within 1e-4; bf16 storage
 * (vb_vmamba_set_bf16) within what rounding the block products' operands to bf16 costs,
 * and measurably not fp32 (the bf16 path really ran). */
static void
check_parity_in (const char *file, gboolean bf16)
{
  double tol = bf16 ? BF16_TOL_OUT : 1e-4, tol_grad = bf16 ? BF16_TOL_GRAD : 1e-4;
  g_autofree char *path = vb_test_fixture_path ("vmamba", file);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbTensorDict) fx = vb_safetensors_load (path, &error);
  g_assert_no_error (error);
  GHashTable *meta = vb_tensor_dict_metadata (fx);

  VbVmambaConfig cfg;
  g_auto (GStrv) depth_str = g_strsplit (g_hash_table_lookup (meta, "depths"), ",", -1);
  int depths[4], n_stages = g_strv_length (depth_str);
  for (int i = 0; i < n_stages; i++)
    depths[i] = atoi (depth_str[i]);
  vb_vmamba_config_scaled (&cfg, atoi (g_hash_table_lookup (meta, "dims")), depths, n_stages,
                           atoi (g_hash_table_lookup (meta, "num_classes")));
  cfg.d_state = atoi (g_hash_table_lookup (meta, "d_state"));
  cfg.drop_path_rate = 0.0f;
  g_assert_true (vb_scan_mode_from_string (g_hash_table_lookup (meta, "scan"), &cfg.scan));
  float smoothing = (float) g_ascii_strtod (g_hash_table_lookup (meta, "label_smoothing"), NULL);

  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, &error);
  g_assert_no_error (error);
  vb_vmamba_set_bf16 (model, bf16);
  g_assert_true (vb_vmamba_bf16 (model) == bf16);

  /* the weights: every tensor that is not an input, output or gradient */
  g_autoptr (VbTensorDict) weights = vb_tensor_dict_new ();
  for (guint t = 0; t < vb_tensor_dict_size (fx); t++)
    {
      VbTensorEntry *e = vb_tensor_dict_index (fx, t);
      if (g_str_has_prefix (e->name, "grad.") || g_str_equal (e->name, "input")
          || g_str_equal (e->name, "labels") || g_str_equal (e->name, "logits")
          || g_str_equal (e->name, "loss"))
        continue;
      vb_tensor_dict_add_copy (weights, e->name, e->ndim, e->shape, e->data);
    }
  g_assert_true (vb_vmamba_load_dict (model, weights, FALSE, path, &error));
  g_assert_no_error (error);

  VbTensorEntry *input = vb_tensor_dict_lookup (fx, "input");
  int B = (int) input->shape[0], C = (int) input->shape[1];
  int H = (int) input->shape[2], W = (int) input->shape[3];
  g_autofree float *x = g_new (float, input->numel);
  nchw_to_nhwc (x, input->data, B, C, H, W);
  VbTensorEntry *lab = vb_tensor_dict_lookup (fx, "labels");
  g_autofree int *labels = g_new (int, B);
  for (int b = 0; b < B; b++)
    labels[b] = (int) lab->data[b];

  g_assert_true (vb_vmamba_forward (model, x, B, H, W, TRUE, NULL, &error));
  g_assert_no_error (error);
  VbTensorEntry *logits = vb_tensor_dict_lookup (fx, "logits");
  double e_logits = vb_test_rel_error (vb_vmamba_logits (model), logits->data, logits->numel);
  float loss = vb_vmamba_loss (model, labels, smoothing);
  float want_loss = vb_tensor_dict_lookup (fx, "loss")->data[0];
  g_test_message ("%s%s: logits rel err %.2e, loss %.7f vs %.7f", file, bf16 ? " (bf16)" : "",
                  e_logits, loss, want_loss);
  g_assert_cmpfloat (e_logits, <, tol);
  g_assert_cmpfloat (fabs (loss - want_loss) / fabs (want_loss), <, tol);
  if (bf16)
    g_assert_cmpfloat (e_logits, >, 1e-5);

  vb_vmamba_zero_grad (model);
  g_autofree float *dx = g_new (float, input->numel);
  vb_vmamba_backward (model, dx);
  double worst = 0;
  const char *worst_name = NULL;
  for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
    {
      const VbParamInfo *p = vb_vmamba_tensor (model, t);
      g_autofree char *gname = g_strconcat ("grad.", p->name, NULL);
      VbTensorEntry *g = vb_tensor_dict_lookup (fx, gname);
      g_assert_nonnull (g);
      g_assert_cmpint (g->numel, ==, p->numel);
      double e = vb_test_rel_error (vb_vmamba_grads (model) + p->offset, g->data, p->numel);
      if (e > worst)
        {
          worst = e;
          worst_name = p->name;
        }
      if (e >= tol_grad)
        g_test_message ("%s: gradient of %s off by %.2e", file, p->name, e);
      g_assert_cmpfloat (e, <, tol_grad);
    }
  VbTensorEntry *gin = vb_tensor_dict_lookup (fx, "grad.input");
  g_autofree float *gin_nhwc = g_new (float, gin->numel);
  nchw_to_nhwc (gin_nhwc, gin->data, B, C, H, W);
  double e_in = vb_test_rel_error (dx, gin_nhwc, gin->numel);
  g_test_message ("%s: worst parameter gradient %s %.2e; input gradient %.2e", file,
                  worst_name, worst, e_in);
  g_assert_cmpfloat (e_in, <, tol_grad);
}

static void check_parity (const char *file) { check_parity_in (file, FALSE); }

static void test_parity_4dir (void) { check_parity ("tiny-4dir.safetensors"); }
static void test_parity_2dir (void) { check_parity ("tiny-2dir.safetensors"); }
static void test_parity_1dir (void) { check_parity ("tiny-1dir.safetensors"); }
static void test_parity_lean2dir (void) { check_parity ("tiny-lean2dir.safetensors"); }
static void test_parity_d_state_2 (void) { check_parity ("tiny-d2.safetensors"); }
static void test_parity_bf16 (void) { check_parity_in ("tiny-4dir.safetensors", TRUE); }

static void
test_vmamba_t_counts (void)
{
  VbVmambaConfig cfg;
  vb_vmamba_config_tiny (&cfg, 1000);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vb_vmamba_n_params (model), ==, 30249064);
  g_assert_cmpint (vb_vmamba_param_count (&cfg), ==, 30249064);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 224, 224), ==, 4905609984);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 128, 128), ==, 1602349056);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 64, 64), ==, 401163264);

  vb_vmamba_config_tiny (&cfg, 20);
  g_assert_cmpint (vb_vmamba_param_count (&cfg), ==, 29495444);
  cfg.scan = VB_SCAN_LEAN2DIR;
  vb_vmamba_config_tiny (&cfg, 1000);
  cfg.scan = VB_SCAN_LEAN2DIR;
  g_assert_cmpint (vb_vmamba_param_count (&cfg), ==, 29584360);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 224, 224), ==, 4766522112);

  /* spec §1.2 scaled presets, 10 classes, published FLOP convention */
  static const int d1[] = { 1, 1, 2, 1 }, d2[] = { 2, 2, 4, 2 };
  vb_vmamba_config_scaled (&cfg, 24, d1, 4, 10);
  g_assert_cmpint (vb_vmamba_param_count (&cfg), ==, 853258);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 224, 224), ==, 144744000);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 32, 32), ==, 2955840);
  vb_vmamba_config_scaled (&cfg, 32, d2, 4, 10);
  g_assert_cmpint (vb_vmamba_param_count (&cfg), ==, 2617226);
  g_assert_cmpint (vb_vmamba_macs (&cfg, 64, 64), ==, 35360256);
}

static void
test_decay_groups (void)
{
  VbVmambaConfig cfg;
  static const int d[] = { 1, 1 };
  vb_vmamba_config_scaled (&cfg, 8, d, 2, 3);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, NULL);
  /* the official builder decays A_logs and dt_projs_bias, not Ds or any ".bias" */
  g_assert_true (vb_vmamba_find_tensor (model, "layers.0.blocks.0.op.A_logs")->decay);
  g_assert_true (vb_vmamba_find_tensor (model, "layers.0.blocks.0.op.dt_projs_bias")->decay);
  g_assert_false (vb_vmamba_find_tensor (model, "layers.0.blocks.0.op.Ds")->decay);
  g_assert_false (vb_vmamba_find_tensor (model, "layers.0.blocks.0.mlp.fc1.bias")->decay);
  g_assert_false (vb_vmamba_find_tensor (model, "classifier.norm.weight")->decay);
  g_assert_true (vb_vmamba_find_tensor (model, "layers.0.blocks.0.op.conv2d.weight")->decay);
}

static void
test_init_statistics (void)
{
  VbVmambaConfig cfg;
  vb_vmamba_config_tiny (&cfg, 1000);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, NULL);
  vb_vmamba_init_weights (model, 0);
  const float *P = vb_vmamba_params (model);
  /* dt bias: softplus(bias) within [1e-3, 0.1]; dt weights within ±R^-0.5 (R = 24) */
  const VbParamInfo *b = vb_vmamba_find_tensor (model, "layers.2.blocks.0.op.dt_projs_bias");
  for (int64_t i = 0; i < b->numel; i++)
    {
      double sp = log1p (exp (P[b->offset + i]));
      g_assert_cmpfloat (sp, >=, 0.999e-3);
      g_assert_cmpfloat (sp, <=, 0.1001);
    }
  const VbParamInfo *w = vb_vmamba_find_tensor (model, "layers.2.blocks.0.op.dt_projs_weight");
  float maxw = 0;
  for (int64_t i = 0; i < w->numel; i++)
    maxw = MAX (maxw, fabsf (P[w->offset + i]));
  g_assert_cmpfloat (maxw, <=, 1.0f / sqrtf (24.0f));
  g_assert_cmpfloat (maxw, >, 0.9f / sqrtf (24.0f));
  const VbParamInfo *a = vb_vmamba_find_tensor (model, "layers.0.blocks.0.op.A_logs");
  for (int64_t i = 0; i < a->numel; i++)
    g_assert_cmpfloat (P[a->offset + i], ==, 0.0f);
}

/* The profiler sees every op of a training step, once per call site and block. */
static void
test_profile_counts_ops (void)
{
  VbVmambaConfig cfg;
  int depths[4] = { 1, 1, 2, 1 };
  vb_vmamba_config_scaled (&cfg, 8, depths, 4, 10);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, NULL);
  vb_vmamba_init_weights (model, 0);
  int B = 2, S = 32, labels[2] = { 1, 7 };
  g_autofree float *x = g_new0 (float, B * S * S * 3);
  vb_profile_reset ();
  vb_profile_enable (TRUE);
  g_assert_true (vb_vmamba_forward (model, x, B, S, S, TRUE, NULL, NULL));
  vb_vmamba_loss (model, labels, 0.1f);
  vb_vmamba_backward (model, NULL);
  vb_profile_enable (FALSE);
  g_autofree char *table = vb_profile_format (0);
  /* 5 blocks: one scan forward and one backward each; 2 stem + 3 downsample convs */
  g_assert_nonnull (strstr (table, "selective scan"));
  g_assert_true (g_regex_match_simple ("selective scan +[0-9.]+ ms +10 calls", table, 0, 0));
  g_assert_true (g_regex_match_simple ("conv3x3 s2 +[0-9.]+ ms +10 calls", table, 0, 0));
  g_assert_nonnull (strstr (table, "linear (GEMM)"));
  g_assert_nonnull (strstr (table, "x/dt_proj (GEMM)"));
  vb_profile_reset ();
  g_autofree char *empty = vb_profile_format (0);
  g_assert_null (strstr (empty, "selective scan"));
}

/* The input staging (on the CPU the input buffer itself): the loader writes the batch
 * there and the forward reads it in place, with the logits of a forward from a copy; a
 * forward of another batch size with that buffer is refused (planning anew would free
 * it under the caller), and the loss read back equals the one computed at once. */
static void
test_input_staging (void)
{
  VbVmambaConfig cfg;
  int depths[4] = { 1, 1, 2, 1 };
  vb_vmamba_config_scaled (&cfg, 8, depths, 4, 10);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, NULL);
  g_autoptr (VbVmamba) copy = vb_vmamba_new (&cfg, NULL);
  vb_vmamba_init_weights (model, 3);
  vb_vmamba_init_weights (copy, 3);
  int B = 2, S = 32, labels[2] = { 4, 9 };
  g_autoptr (GError) error = NULL;
  float *in = vb_vmamba_input_staging (model, B, S, S, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (in == vb_vmamba_input_buffer (model, B, S, S, TRUE, NULL));
  g_autofree float *x = g_new (float, B * S * S * 3);
  for (int i = 0; i < B * S * S * 3; i++)
    x[i] = sinf (0.37f * i);
  memcpy (in, x, sizeof (float) * B * S * S * 3);
  g_assert_true (vb_vmamba_forward (model, in, B, S, S, TRUE, NULL, &error));
  g_assert_true (vb_vmamba_forward (copy, x, B, S, S, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (vb_vmamba_logits (model), sizeof (float) * B * 10,
                   vb_vmamba_logits (copy), sizeof (float) * B * 10);
  vb_vmamba_loss_queue (model, labels, 0.1f);
  float queued = vb_vmamba_loss_read (model);
  g_assert_cmpfloat (queued, ==, vb_vmamba_loss (copy, labels, 0.1f));

  g_assert_false (vb_vmamba_forward (model, in, 1, S, S, TRUE, NULL, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "staging buffer"));
}

/* bf16 storage switches on and off between forwards (the buffers planned anew each
 * time), back to the very fp32 bits; and it keeps less for the backward */
static void
test_bf16_switch (void)
{
  VbVmambaConfig cfg;
  int depths[4] = { 1, 1, 2, 1 };
  vb_vmamba_config_scaled (&cfg, 8, depths, 4, 10);
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, NULL);
  vb_vmamba_init_weights (model, 5);
  int B = 2, S = 32, n = B * 10;
  g_autofree float *x = g_new (float, B * S * S * 3);
  for (int i = 0; i < B * S * S * 3; i++)
    x[i] = sinf (0.11f * i);
  g_autoptr (GError) error = NULL;
  float logits[3][20];
  for (int pass = 0; pass < 3; pass++)
    {
      vb_vmamba_set_bf16 (model, pass == 1);
      g_assert_true (vb_vmamba_forward (model, x, B, S, S, pass == 1, NULL, &error));
      g_assert_no_error (error);
      memcpy (logits[pass], vb_vmamba_logits (model), sizeof logits[pass]);
    }
  double e = vb_test_rel_error (logits[1], logits[0], n);
  g_test_message ("bf16 storage against fp32: logits rel. L2 %.2e", e);
  g_assert_cmpfloat (e, >, 1e-6);
  g_assert_cmpfloat (e, <, BF16_TOL_OUT);
  g_assert_cmpmem (logits[2], sizeof logits[2], logits[0], sizeof logits[0]);

  vb_vmamba_config_tiny (&cfg, 1000);
  int64_t fp32 = vb_vmamba_activation_bytes (&cfg, 224, 224, FALSE);
  int64_t bf16 = vb_vmamba_activation_bytes (&cfg, 224, 224, TRUE);
  g_test_message ("VMamba-T at 224: %.1f MiB an image kept in fp32, %.1f in bf16 storage",
                  fp32 / 1048576.0, bf16 / 1048576.0);
  g_assert_cmpint (bf16, <, fp32 * 4 / 5);
}

/* bf16 storage's fusions (the residual step inside the LayerNorm after it, within a block
 * and into the next block's; the stream's gradient rounded inside the LayerNorm
 * backward, for the branch of the same block and of the block before) against the same
 * model on a backend table without the fused ops, which runs the two ops each replaces:
 * the same bits for the logits, loss, every gradient and the input gradient. Blocks of
 * two and three a stage and drop path on, so every pending join and scale is reached: a
 * fused step given the wrong block's drop-path draws, or one it should not take, differs. */
static void
test_bf16_fusions_unfused (void)
{
  static VbOps unfused;
  unfused = *vb_cpu_ops ();
  g_assert_nonnull (unfused.residual_layernorm_forward_bf16);
  g_assert_nonnull (unfused.layernorm_backward_acc_bf16);
  unfused.residual_layernorm_forward_bf16 = NULL;
  unfused.layernorm_backward_acc_bf16 = NULL;

  VbVmambaConfig cfg;
  int depths[2] = { 2, 3 };
  vb_vmamba_config_scaled (&cfg, 8, depths, 2, 10);
  cfg.drop_path_rate = 0.4f;
  const int B = 4, S = 16;
  g_autofree float *x = g_new (float, B * S * S * 3);
  for (int i = 0; i < B * S * S * 3; i++)
    x[i] = sinf (0.37f * i);
  int labels[4] = { 1, 7, 3, 0 };
  g_autoptr (GError) error = NULL;
  const VbOps *tables[2] = { vb_cpu_ops (), &unfused };
  VbVmamba *models[2];
  g_autofree float *dx0 = g_new (float, B * S * S * 3), *dx1 = g_new (float, B * S * S * 3);
  float *dx[2] = { dx0, dx1 }, loss[2];
  for (int k = 0; k < 2; k++)
    {
      models[k] = vb_vmamba_new (&cfg, &error);
      g_assert_no_error (error);
      g_assert_true (vb_vmamba_use_backend (models[k], tables[k], &error));
      g_assert_no_error (error);
      vb_vmamba_set_bf16 (models[k], TRUE);
      vb_vmamba_init_weights (models[k], 11);
      VbRng rng;
      vb_rng_init (&rng, 3);
      g_assert_true (vb_vmamba_forward (models[k], x, B, S, S, TRUE, &rng, &error));
      g_assert_no_error (error);
      loss[k] = vb_vmamba_loss (models[k], labels, 0.1f);
      vb_vmamba_zero_grad (models[k]);
      vb_vmamba_backward (models[k], dx[k]);
    }
  g_assert_cmpmem (vb_vmamba_logits (models[0]), B * 10 * sizeof (float),
                   vb_vmamba_logits (models[1]), B * 10 * sizeof (float));
  g_assert_cmpmem (&loss[0], sizeof (float), &loss[1], sizeof (float));
  int64_t n = vb_vmamba_n_params (models[0]);
  g_assert_cmpmem (vb_vmamba_grads (models[0]), n * sizeof (float), vb_vmamba_grads (models[1]),
                   n * sizeof (float));
  g_assert_cmpmem (dx0, B * S * S * 3 * sizeof (float), dx1, B * S * S * 3 * sizeof (float));
  g_test_message ("fused and unfused bf16 steps: the same bits (loss %.7f, %" G_GINT64_FORMAT
                  " gradients)", loss[0], n);
  vb_vmamba_free (models[0]);
  vb_vmamba_free (models[1]);
}

/* bf16 storage where a stage's Δ rank is a multiple of 8 (its products take the
 * parameters' own bf16 copy and sum the weight's gradient in place, no padded copies) and
 * where it is not, against fp32 on the same weights: logits, the loss and every gradient
 * within what bf16 rounding costs (a Δ product on the wrong weight or a gradient summed
 * into the wrong place is off by far more) */
static void
test_bf16_dt_rank_aligned (void)
{
  VbVmambaConfig cfg;
  int depths[2] = { 1, 1 };
  vb_vmamba_config_scaled (&cfg, 8, depths, 2, 10);
  cfg.dt_rank[0] = 8;
  cfg.dt_rank[1] = 3;
  const int B = 3, S = 16;
  g_autofree float *x = g_new (float, B * S * S * 3);
  for (int i = 0; i < B * S * S * 3; i++)
    x[i] = cosf (0.23f * i);
  int labels[3] = { 2, 9, 5 };
  g_autoptr (GError) error = NULL;
  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, &error);
  g_assert_no_error (error);
  vb_vmamba_init_weights (model, 13);
  /* Δ's initial bias swamps W_dt·dt_low: weights 30 times their initial size make the
   * products' weight matter to the logits */
  for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
    {
      const VbParamInfo *p = vb_vmamba_tensor (model, t);
      if (strstr (p->name, "dt_projs_weight") != NULL)
        for (int64_t i = 0; i < p->numel; i++)
          vb_vmamba_params (model)[p->offset + i] *= 30.0f;
    }
  vb_vmamba_params_to_backend (model);
  int64_t n = vb_vmamba_n_params (model);
  g_autofree float *logits = g_new (float, B * 10), *grads = g_new (float, n);
  float loss[2];
  for (int bf16 = 0; bf16 < 2; bf16++)
    {
      vb_vmamba_set_bf16 (model, bf16);
      g_assert_true (vb_vmamba_forward (model, x, B, S, S, TRUE, NULL, &error));
      g_assert_no_error (error);
      loss[bf16] = vb_vmamba_loss (model, labels, 0.0f);
      vb_vmamba_zero_grad (model);
      vb_vmamba_backward (model, NULL);
      if (!bf16)
        {
          memcpy (logits, vb_vmamba_logits (model), B * 10 * sizeof (float));
          memcpy (grads, vb_vmamba_grads (model), n * sizeof (float));
        }
    }
  double e = vb_test_rel_error (vb_vmamba_logits (model), logits, B * 10);
  g_test_message ("Δ ranks 8 and 3, bf16 against fp32: logits %.2e, loss %.6f vs %.6f", e,
                  loss[1], loss[0]);
  g_assert_cmpfloat (e, >, 1e-6);
  g_assert_cmpfloat (e, <, BF16_TOL_OUT);
  g_assert_cmpfloat (fabs (loss[1] - loss[0]) / loss[0], <, BF16_TOL_OUT);
  for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
    {
      const VbParamInfo *p = vb_vmamba_tensor (model, t);
      double eg = vb_test_rel_error (vb_vmamba_grads (model) + p->offset, grads + p->offset,
                                     p->numel);
      if (eg >= BF16_TOL_GRAD)
        g_test_message ("gradient of %s off by %.2e", p->name, eg);
      g_assert_cmpfloat (eg, <, BF16_TOL_GRAD);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/vmamba/parity-4dir", test_parity_4dir);
  g_test_add_func ("/vb/vmamba/parity-2dir", test_parity_2dir);
  g_test_add_func ("/vb/vmamba/parity-1dir", test_parity_1dir);
  g_test_add_func ("/vb/vmamba/parity-lean2dir", test_parity_lean2dir);
  g_test_add_func ("/vb/vmamba/parity-d-state-2", test_parity_d_state_2);
  g_test_add_func ("/vb/vmamba/parity-bf16-storage", test_parity_bf16);
  g_test_add_func ("/vb/vmamba/vmamba-t-counts", test_vmamba_t_counts);
  g_test_add_func ("/vb/vmamba/decay-groups", test_decay_groups);
  g_test_add_func ("/vb/vmamba/init-statistics", test_init_statistics);
  g_test_add_func ("/vb/vmamba/profile-counts-ops", test_profile_counts_ops);
  g_test_add_func ("/vb/vmamba/input-staging", test_input_staging);
  g_test_add_func ("/vb/vmamba/bf16-switch", test_bf16_switch);
  g_test_add_func ("/vb/vmamba/bf16-fusions-unfused", test_bf16_fusions_unfused);
  g_test_add_func ("/vb/vmamba/bf16-dt-rank-aligned", test_bf16_dt_rank_aligned);
  return g_test_run ();
}
