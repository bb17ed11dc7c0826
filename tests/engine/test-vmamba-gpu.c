/* test-vmamba-gpu.c: the whole model on the GPU backend against the CPU backend, fp32:
 * logits, loss and every parameter gradient of one training step (drop path on, so the
 * host-drawn scales must reach the GPU), then three AdamW steps. Every scan mode, an odd
 * map size and d_state 2. The bench's precisions: their protocol cards, the CPU refusing
 * the tensor-core ones, and the GPU back in strict fp32 after them. In bf16 storage the
 * one-state scan of 32 channels takes the ring kernels (asserted). Skips visibly where
 * there is no usable GPU. */
#include "config.h"

#include "vb-engine-test.h"

#include <math.h>

#include "vb-bench.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-optim.h"
#include "vb-train-step.h"
#include "vb-vmamba.h"
#ifdef VB_HAVE_CUDA
#include "vb-cuda-ops.h"   /* which scan kernels ran */
#endif

typedef struct
{
  VbVmamba *model;
  VbAdamW  *opt;
  float     loss;
} Side;

static void
side_init (Side *s, const VbVmambaConfig *cfg, const VbOps *ops, gboolean bf16)
{
  g_autoptr (GError) error = NULL;
  s->model = vb_vmamba_new (cfg, &error);
  g_assert_no_error (error);
  g_assert_true (vb_vmamba_use_backend (s->model, ops, &error));
  g_assert_no_error (error);
  vb_vmamba_set_bf16 (s->model, bf16);
  vb_vmamba_init_weights (s->model, 42);
  int64_t n = vb_vmamba_n_params (s->model);
  g_autofree uint8_t *decay = g_new (uint8_t, n);
  for (guint t = 0; t < vb_vmamba_n_tensors (s->model); t++)
    {
      const VbParamInfo *p = vb_vmamba_tensor (s->model, t);
      memset (decay + p->offset, p->decay, p->numel);
    }
  s->opt = vb_adamw_new_on (ops, n, decay, 0.05f);
  g_assert_nonnull (s->opt);
}

static void
side_step (Side *s, const float *images, const int *labels, int B, int S, uint64_t seed)
{
  g_autoptr (GError) error = NULL;
  VbRng rng;
  vb_rng_init (&rng, seed);
  g_assert_true (vb_vmamba_forward (s->model, images, B, S, S, TRUE, &rng, &error));
  g_assert_no_error (error);
  s->loss = vb_vmamba_loss (s->model, labels, 0.1f);
  vb_vmamba_zero_grad (s->model);
  vb_vmamba_backward (s->model, NULL);
  /* a failure on the backend says what failed, not just that the numbers differ */
  const VbOps *ops = vb_vmamba_backend (s->model);
  const char *failed = ops->sync (ops->ctx);
  if (failed != NULL)
    g_error ("%s: %s", ops->name, failed);
}

/* fp32: the GPU within 1e-5 (logits) and 1e-4 (gradients) of the CPU. bf16 storage: the
 * GPU's bf16 path against the CPU's (the same roundings at the same places; an
 * accumulation order that differs flips a rounding now and then). dt_rank0 > 0: stage 1's
 * Δ rank (8: the bf16 products on the parameters' own copy, unpadded) */
static void
check_config (const VbOps *gpu, VbScanMode scan, int d_state, int S, gboolean bf16,
              int dt_rank0)
{
  double tol_logits = bf16 ? 1e-2 : 1e-5, tol_grad = bf16 ? 2e-2 : 1e-4;
  const int depths[] = { 1, 2 };
  VbVmambaConfig cfg;
  vb_vmamba_config_scaled (&cfg, 16, depths, 2, 5);
  cfg.scan = scan;
  cfg.d_state = d_state;
  cfg.drop_path_rate = 0.2f;
  if (dt_rank0 > 0)
    cfg.dt_rank[0] = dt_rank0;
  const int B = 3;
  g_autofree float *images = g_new (float, (gsize) B * S * S * 3);
  int labels[3] = { 4, 0, 2 };
  VbRng rng;
  vb_rng_init (&rng, 7);
  for (gsize i = 0; i < (gsize) B * S * S * 3; i++)
    images[i] = vb_rng_normal (&rng);

  Side cpu, cuda;
  side_init (&cpu, &cfg, vb_cpu_ops (), bf16);
  side_init (&cuda, &cfg, gpu, bf16);
  g_test_message ("scan %s, d_state %d, %d px, %s, %" G_GINT64_FORMAT " parameters",
                  vb_scan_mode_to_string (scan), d_state, S, bf16 ? "bf16 storage" : "fp32",
                  vb_vmamba_n_params (cpu.model));

  for (int step = 0; step < 3; step++)
    {
      side_step (&cpu, images, labels, B, S, 100 + step);
      side_step (&cuda, images, labels, B, S, 100 + step);
      double e_logits = vb_engine_test_rel_l2 (vb_vmamba_logits (cuda.model), vb_vmamba_logits (cpu.model),
                                (int64_t) B * cfg.num_classes);
      g_test_message ("step %d: loss CPU %.7f GPU %.7f, logits rel. L2 %.2g", step, cpu.loss,
                      cuda.loss, e_logits);
      g_assert_cmpfloat (e_logits, <, tol_logits);
      g_assert_cmpfloat (fabs (cuda.loss - cpu.loss), <, tol_logits * fabs (cpu.loss));

      /* every parameter's gradient, tensor by tensor */
      const float *g_cpu = vb_vmamba_grads (cpu.model);
      const float *g_gpu = vb_vmamba_grads_from_backend (cuda.model);
      double worst = 0.0;
      const char *worst_name = "";
      for (guint t = 0; t < vb_vmamba_n_tensors (cpu.model); t++)
        {
          const VbParamInfo *p = vb_vmamba_tensor (cpu.model, t);
          double e = vb_engine_test_rel_l2 (g_gpu + p->offset, g_cpu + p->offset, p->numel);
          if (!(e < tol_grad))
            g_error ("step %d: gradient of %s: relative L2 error %.3g", step, p->name, e);
          if (e > worst)
            {
              worst = e;
              worst_name = p->name;
            }
        }
      g_test_message ("step %d: worst gradient %s, rel. L2 %.2g", step, worst_name, worst);

      vb_adamw_update (cpu.opt, vb_vmamba_backend_params (cpu.model),
                       vb_vmamba_backend_grads (cpu.model), 1e-3f);
      vb_adamw_update (cuda.opt, vb_vmamba_backend_params (cuda.model),
                       vb_vmamba_backend_grads (cuda.model), 1e-3f);
    }
  /* three optimizer steps later the weights still agree */
  double e_params = vb_engine_test_rel_l2 (vb_vmamba_params_from_backend (cuda.model),
                            vb_vmamba_params (cpu.model), vb_vmamba_n_params (cpu.model));
  g_test_message ("parameters after 3 steps: rel. L2 %.2g", e_params);
  g_assert_cmpfloat (e_params, <, bf16 ? 1e-4 : 1e-5);

  for (Side *s = &cpu; s != NULL; s = s == &cpu ? &cuda : NULL)
    {
      vb_adamw_free (s->opt);
      vb_vmamba_free (s->model);
    }
}

/* Training steps replayed from a recorded CUDA graph give the same bits as the same steps
 * launched op by op (fp32 and bf16 storage): drop path on (fresh draws every step through the staging), a
 * changing learning rate, clipping, the input staged in page-locked memory, buffers
 * planned anew midway (recorded again, never replayed on freed memory); then an
 * evaluation forward the same way. */
static void
check_graph_replay (const VbOps *gpu, gboolean bf16)
{
  const int depths[] = { 1, 2 };
  VbVmambaConfig cfg;
  vb_vmamba_config_scaled (&cfg, 16, depths, 2, 5);
  cfg.drop_path_rate = 0.3f;
  const int B = 4, S = 32, STEPS = 8;
  int labels[4] = { 4, 0, 2, 1 };
  g_autofree float *images = g_new (float, (gsize) B * S * S * 3);
  VbRng rng;
  vb_rng_init (&rng, 9);
  for (gsize i = 0; i < (gsize) B * S * S * 3; i++)
    images[i] = vb_rng_normal (&rng);

  Side side[2];
  float losses[2][STEPS];
  g_autofree float *logits[2] = { NULL, NULL };
  const char *mode[2] = { NULL, NULL };
  for (int graphs = 0; graphs < 2; graphs++)
    {
      Side *s = &side[graphs];
      side_init (s, &cfg, gpu, bf16);
      g_autoptr (VbStepGraph) g = vb_step_graph_new (graphs);
      g_autoptr (GError) error = NULL;
      for (int step = 0; step < STEPS; step++)
        {
          if (step == STEPS - 2)
            {
              /* an evaluation at another batch size plans the buffers anew (they move):
               * the recorded step must not be replayed on the old ones */
              g_assert_true (vb_vmamba_forward (s->model, images, B - 1, S, S, FALSE, NULL,
                                                &error));
              g_assert_no_error (error);
            }
          float *in = vb_vmamba_input_staging (s->model, B, S, S, TRUE, &error);
          g_assert_no_error (error);
          memcpy (in, images, sizeof (float) * B * S * S * 3);
          in[step] += 0.5f;   /* a new batch each step */
          vb_rng_init (&rng, 500 + step);
          g_assert_true (vb_step_graph_train (g, s->model, s->opt, in, B, S, S, labels, 0.1f,
                                              &rng, 1e-3f * (step + 1), 0.5, &error));
          g_assert_no_error (error);
          g_assert_null (gpu->sync (gpu->ctx));
          losses[graphs][step] = vb_vmamba_loss_read (s->model);
        }
      mode[graphs] = vb_step_graph_mode (g);
      float *in = vb_vmamba_input_buffer (s->model, B, S, S, FALSE, &error);
      gpu->upload (gpu->ctx, in, images, sizeof (float) * B * S * S * 3);
      for (int again = 0; again < 3; again++)   /* warm-up, recorded, replayed */
        g_assert_true (vb_step_graph_eval (g, s->model, in, B, S, S, &error));
      g_assert_no_error (error);
      logits[graphs] = g_memdup2 (vb_vmamba_logits (s->model), sizeof (float) * B * 5);
    }
  g_assert_cmpstr (mode[0], ==, "op by op");
  g_assert_cmpstr (mode[1], ==, "CUDA graph");
  g_assert_cmpmem (losses[0], sizeof losses[0], losses[1], sizeof losses[1]);
  int64_t n = vb_vmamba_n_params (side[0].model);
  g_autofree float *p0 = g_memdup2 (vb_vmamba_params_from_backend (side[0].model), n * 4);
  g_assert_cmpmem (p0, n * 4, vb_vmamba_params_from_backend (side[1].model), n * 4);
  g_assert_cmpmem (logits[0], sizeof (float) * B * 5, logits[1], sizeof (float) * B * 5);
  g_test_message ("%s: %d steps, losses %.6f … %.6f, the same bits with and without a graph",
                  bf16 ? "bf16 storage" : "fp32", STEPS, losses[1][0], losses[1][STEPS - 1]);
  for (int i = 0; i < 2; i++)
    {
      vb_adamw_free (side[i].opt);
      vb_vmamba_free (side[i].model);
    }
}

static void
test_modes (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  for (VbScanMode scan = VB_SCAN_4DIR; scan <= VB_SCAN_LEAN2DIR; scan++)
    check_config (gpu, scan, 1, 32, FALSE, 0);
}

static void
test_bf16_storage (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
#ifdef VB_HAVE_CUDA
  int64_t ring_before = vb_cuda_scan_ring_launches (gpu->ctx);
#endif
  check_config (gpu, VB_SCAN_4DIR, 1, 32, TRUE, 0);
#ifdef VB_HAVE_CUDA
  /* stage 2 of this model (32 channels, one state) ran on the ring kernels (scan_ring.cu),
   * stage 1 (16 channels) on the direct ones */
  g_assert_cmpint (vb_cuda_scan_ring_launches (gpu->ctx), >, ring_before);
#endif
  check_config (gpu, VB_SCAN_LEAN2DIR, 2, 28, TRUE, 0);
  check_config (gpu, VB_SCAN_4DIR, 1, 32, TRUE, 8);   /* stage 1 unpadded, stage 2 padded */
}

static void
test_graph_replay (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  check_graph_replay (gpu, FALSE);
  check_graph_replay (gpu, TRUE);
}

static void
test_odd_size_and_states (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  check_config (gpu, VB_SCAN_4DIR, 2, 28, FALSE, 0);   /* 7×7 then 4×4 maps: odd, H·W ≠ 2^k */
}

/* a two-stage model of width 8 at 16 px: the bench's smallest */
static void
small_config (VbVmambaConfig *cfg)
{
  const int depths[] = { 1, 1 };
  vb_vmamba_config_scaled (cfg, 8, depths, 2, 10);
}

/* tf32 and bf16 are GPU modes: the CPU backend refuses them (no silent fp32 fallback) */
static void
test_bench_cpu_refuses (void)
{
  VbVmambaConfig cfg;
  small_config (&cfg);
  for (const char *const *p = (const char *const[]) { "tf32", "bf16", NULL }; *p != NULL; p++)
    {
      VbBenchProtocol proto = { 2, 16, 0, 1, 1, TRUE, FALSE, "cpu", *p };
      g_auto (VbBenchResult) r = { 0 };
      g_autoptr (GError) error = NULL;
      g_autofree char *want = g_strdup_printf ("precision %s needs the GPU", *p);
      g_assert_false (vb_bench_run (&cfg, &proto, &r, &error));
      g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, want));
    }
  VbBenchProtocol proto = { 2, 16, 0, 1, 1, TRUE, FALSE, "cpu", "fp16" };
  g_auto (VbBenchResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (vb_bench_run (&cfg, &proto, &r, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "fp32, tf32 or bf16"));
}

/* each precision benches on the GPU and its card says what ran: for VMamba, bf16 is bf16
 * storage of the block products' operands, the other products in TF32 */
static void
test_bench_precisions (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  static const struct { const char *name, *precision, *matmul; } cases[] = {
    { "fp32", "\"precision\": \"fp32\"", "fp32 without TF32" },
    { "tf32", "\"precision\": \"fp32 with TF32 matrix products\"", "TF32 tensor cores" },
    { "bf16", "\"precision\": \"bf16 storage of the block products' operands",
              "bf16 operands stored as bf16, bf16 tensor cores with fp32 accumulation" },
  };
  VbVmambaConfig cfg;
  small_config (&cfg);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int train = 0; train < 2; train++)
      {
        VbBenchProtocol proto = { 2, 16, 1, 2, 1, train, FALSE, "cuda", cases[i].name };
        g_auto (VbBenchResult) r = { 0 };
        g_autoptr (GError) error = NULL;
        g_assert_true (vb_bench_run (&cfg, &proto, &r, &error));
        g_assert_no_error (error);
        g_assert_cmpfloat (r.img_per_s, >, 0.0);
        g_autofree char *card = vb_bench_protocol_json (&proto, &r);
        g_test_message ("%s %s: %.0f img/s; %s", cases[i].name, train ? "train" : "eval",
                        r.img_per_s, card);
        g_assert_nonnull (strstr (card, cases[i].precision));
        g_assert_nonnull (strstr (card, cases[i].matmul));
        if (strcmp (cases[i].name, "bf16") != 0)
          g_assert_null (strstr (card, "bf16 storage"));
        /* after the warm-up step every step replays the recorded graph */
        g_assert_nonnull (strstr (card, "\"launch\": \"CUDA graph\""));
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/vmamba-gpu/bench-cpu-refuses", test_bench_cpu_refuses);
  /* before the parity tests: if a bench left the shared context in tf32 or bf16, they fail */
  g_test_add_func ("/vb/vmamba-gpu/bench-precisions", test_bench_precisions);
  g_test_add_func ("/vb/vmamba-gpu/scan-modes", test_modes);
  g_test_add_func ("/vb/vmamba-gpu/odd-size-d-state-2", test_odd_size_and_states);
  g_test_add_func ("/vb/vmamba-gpu/graph-replay", test_graph_replay);
  g_test_add_func ("/vb/vmamba-gpu/bf16-storage", test_bf16_storage);
  return g_test_run ();
}
