/* test-clip-gpu.c: the CLIP tower and the five projectors on the GPU backend against the
 * CPU backend. A small tower of awkward shape (5 × 5 patches, 26 tokens, head dim 32,
 * three layers; every parameter perturbed so biases and LayerNorms count): LLaVA's
 * features, the last state, the pooled output and every hidden state, through the host
 * API and the device-resident one; parameters changed on the host reach the GPU. Every
 * projector at an awkward width and at the study's 1024: output, input gradient and
 * every parameter gradient (twice, so the += is checked), LoRA merged and unmerged. Strict
 * fp32 products are held to relative L2 1e-5 per tensor; TF32 and bf16 runs to looser
 * bounds; the layers in bf16 storage against the same path on the CPU; the projectors'
 * bf16 inference twins output for output against the CPU's. Skips
 * visibly where there is no usable GPU. */
#include "config.h"

#include "vb-engine-test.h"

#include <math.h>
#include <string.h>

#include "vb-clip.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-projector.h"
#include "vb-projector-bf16.h"
#include "vb-rng.h"

static void
assert_close (const char *what, const float *got, const float *want, int64_t n, double bound)
{
  double e = vb_engine_test_rel_l2 (got, want, n);
  g_test_message ("%s: relative L2 error %.3g over %" G_GINT64_FORMAT " values", what, e, n);
  if (!(e <= bound))
    g_error ("%s: relative L2 error %.3g > %.3g", what, e, bound);
}

static float *
random_floats (VbRng *rng, int64_t n, float scale)
{
  float *x = g_new (float, n > 0 ? n : 1);
  for (int64_t i = 0; i < n; i++)
    x[i] = scale * vb_rng_normal (rng);
  return x;
}

/* ---- the tower ------------------------------------------------------------------------- */

typedef struct {
  VbClip *cpu, *gpu;
  VbClipConfig cfg;
  float *pixels;
  int B;
} Towers;

static void
towers_init (Towers *t, const VbOps *gpu)
{
  g_autoptr (GError) error = NULL;
  /* 70 px / 14 = 5 × 5 patches, 26 tokens; width 96 over 3 heads of 32 */
  vb_clip_config_small (&t->cfg, 70, 96, 3, 3);
  t->B = 3;
  t->cpu = vb_clip_new (&t->cfg, &error);
  g_assert_no_error (error);
  t->gpu = vb_clip_new (&t->cfg, &error);
  g_assert_no_error (error);
  vb_clip_init_random (t->cpu, 11);
  VbRng rng;
  vb_rng_init (&rng, 12);
  float *p = vb_clip_params (t->cpu);
  for (int64_t i = 0; i < vb_clip_n_params (t->cpu); i++)
    p[i] += 0.02f * vb_rng_normal (&rng);
  memcpy (vb_clip_params (t->gpu), p, vb_clip_n_params (t->cpu) * sizeof (float));
  g_assert_true (vb_clip_use_backend (t->gpu, gpu, &error));
  g_assert_no_error (error);
  g_assert_true (vb_clip_backend (t->gpu) == gpu);
  t->pixels = random_floats (&rng, (int64_t) t->B * 3 * 70 * 70, 1.0f);
}

static void
towers_clear (Towers *t)
{
  vb_clip_free (t->cpu);
  vb_clip_free (t->gpu);
  g_free (t->pixels);
}

/* features, last and pooled of both towers, compared */
static void
compare_outputs (Towers *t, double bound, const char *label)
{
  g_autoptr (GError) error = NULL;
  int B = t->B, D = t->cfg.width, N = vb_clip_config_tokens (&t->cfg);
  int T = N - 1;
  int64_t nf = (int64_t) B * T * D, nl = (int64_t) B * N * D, np = (int64_t) B * D;
  g_autofree float *f_cpu = g_new (float, nf), *f_gpu = g_new (float, nf);
  g_autofree float *l_cpu = g_new (float, nl), *l_gpu = g_new (float, nl);
  g_autofree float *p_cpu = g_new (float, np), *p_gpu = g_new (float, np);
  memset (f_gpu, 0xFF, nf * sizeof (float));
  memset (l_gpu, 0xFF, nl * sizeof (float));
  memset (p_gpu, 0xFF, np * sizeof (float));
  VbClipOutputs oc = { f_cpu, l_cpu, p_cpu }, og = { f_gpu, l_gpu, p_gpu };
  g_assert_true (vb_clip_forward (t->cpu, t->pixels, B, &oc, &error));
  g_assert_no_error (error);
  g_assert_true (vb_clip_forward (t->gpu, t->pixels, B, &og, &error));
  g_assert_no_error (error);
  g_autofree char *w1 = g_strdup_printf ("%s: features (hidden_states[-2] patches)", label);
  g_autofree char *w2 = g_strdup_printf ("%s: last_hidden_state", label);
  g_autofree char *w3 = g_strdup_printf ("%s: pooler_output", label);
  assert_close (w1, f_gpu, f_cpu, nf, bound);
  assert_close (w2, l_gpu, l_cpu, nl, bound);
  assert_close (w3, p_gpu, p_cpu, np, bound);

  /* LLaVA's path alone (features only: the last layer is skipped) */
  memset (f_gpu, 0xFF, nf * sizeof (float));
  VbClipOutputs only = { f_gpu, NULL, NULL };
  g_assert_true (vb_clip_forward (t->gpu, t->pixels, B, &only, &error));
  g_assert_no_error (error);
  g_autofree char *w4 = g_strdup_printf ("%s: features alone", label);
  assert_close (w4, f_gpu, f_cpu, nf, bound);
}

/* the device-resident forward (the bench's: pixels and outputs in GPU memory) gives every
 * output bit for bit as the host API does on the same tower */
static void
assert_resident_as_host (Towers *t, const VbOps *gpu)
{
  g_autoptr (GError) error = NULL;
  int B = t->B, D = t->cfg.width, N = vb_clip_config_tokens (&t->cfg);
  int64_t npx = (int64_t) B * 3 * 70 * 70, nf = (int64_t) B * (N - 1) * D;
  int64_t nl = (int64_t) B * N * D, np = (int64_t) B * D;
  float *d_px = gpu->alloc (gpu->ctx, npx * sizeof (float));
  float *d_feat = gpu->alloc (gpu->ctx, nf * sizeof (float));
  float *d_last = gpu->alloc (gpu->ctx, nl * sizeof (float));
  float *d_pool = gpu->alloc (gpu->ctx, np * sizeof (float));
  g_assert_true (d_px && d_feat && d_last && d_pool);
  gpu->upload (gpu->ctx, d_px, t->pixels, npx * sizeof (float));
  VbClipOutputs od = { d_feat, d_last, d_pool };
  g_assert_true (vb_clip_forward_on_backend (t->gpu, d_px, B, &od, &error));
  g_assert_no_error (error);
  g_autofree float *fh = g_new (float, nf), *lh = g_new (float, nl), *ph = g_new (float, np);
  g_autofree float *fd = g_new (float, nf), *ld = g_new (float, nl), *pd = g_new (float, np);
  VbClipOutputs oh = { fh, lh, ph };
  g_assert_true (vb_clip_forward (t->gpu, t->pixels, B, &oh, &error));
  g_assert_no_error (error);
  gpu->download (gpu->ctx, fd, d_feat, nf * sizeof (float));
  gpu->download (gpu->ctx, ld, d_last, nl * sizeof (float));
  gpu->download (gpu->ctx, pd, d_pool, np * sizeof (float));
  g_assert_null (gpu->sync (gpu->ctx));
  g_assert_cmpmem (fd, nf * sizeof (float), fh, nf * sizeof (float));
  g_assert_cmpmem (ld, nl * sizeof (float), lh, nl * sizeof (float));
  g_assert_cmpmem (pd, np * sizeof (float), ph, np * sizeof (float));
  gpu->free (gpu->ctx, d_px);
  gpu->free (gpu->ctx, d_feat);
  gpu->free (gpu->ctx, d_last);
  gpu->free (gpu->ctx, d_pool);
}

static void
test_tower_fp32 (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  g_autoptr (GError) error = NULL;
  Towers t;
  towers_init (&t, gpu);
  compare_outputs (&t, 1e-5, "fp32");

  /* every hidden state */
  int B = t.B, D = t.cfg.width, N = vb_clip_config_tokens (&t.cfg);
  int64_t n = (int64_t) B * N * D;
  g_autofree float *hc = g_new (float, n), *hg = g_new (float, n);
  for (int k = 0; k <= t.cfg.layers; k++)
    {
      memset (hg, 0xFF, n * sizeof (float));
      g_assert_true (vb_clip_hidden_state (t.cpu, t.pixels, B, k, hc, &error));
      g_assert_true (vb_clip_hidden_state (t.gpu, t.pixels, B, k, hg, &error));
      g_assert_no_error (error);
      g_autofree char *what = g_strdup_printf ("hidden_states[%d]", k);
      assert_close (what, hg, hc, n, 1e-5);
    }

  /* another batch size replans; parameters written on the host reach the GPU */
  t.B = 2;
  float *pc = vb_clip_params (t.cpu), *pg = vb_clip_params (t.gpu);
  for (int64_t i = 0; i < vb_clip_n_params (t.cpu); i += 7)
    pc[i] = pg[i] = pc[i] * 1.5f;
  compare_outputs (&t, 1e-5, "fp32, changed parameters, batch 2");
  vb_clip_init_random (t.cpu, 99);
  vb_clip_init_random (t.gpu, 99);
  compare_outputs (&t, 1e-5, "fp32, re-initialised");

  /* the device-resident forward (compare_outputs held the host API to the CPU) */
  assert_resident_as_host (&t, gpu);

  /* back on the CPU: the same results as the CPU tower */
  g_assert_true (vb_clip_use_backend (t.gpu, vb_cpu_ops (), &error));
  g_assert_no_error (error);
  compare_outputs (&t, 0.0, "back on the CPU");
  towers_clear (&t);
}

static void
test_tower_tensor_cores (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  Towers t;
  towers_init (&t, gpu);
  /* TF32 keeps 10 mantissa bits, bf16 7, through three layers' products */
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_TF32));
  compare_outputs (&t, 5e-3, "tf32");
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_BF16));
  compare_outputs (&t, 3e-2, "bf16");
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_FP32));
  compare_outputs (&t, 1e-5, "fp32 again");
  towers_clear (&t);
}

/* The layers in bf16 storage (the GPU's bf16 precision) against the same path on the CPU
 * (its reference ops: widen, fp32 op, round once): the GPU's fused attention rounds P to
 * bf16 and its sums run in other orders, so a value may round the other way and carry
 * that through the later layers; both stay within bf16's reach of the fp32 tower. */
static void
test_tower_bf16_storage (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  g_autoptr (GError) error = NULL;
  Towers t;
  towers_init (&t, gpu);
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_BF16));
  g_assert_true (vb_clip_set_bf16 (t.cpu, TRUE, &error));
  g_assert_true (vb_clip_set_bf16 (t.gpu, TRUE, &error));
  g_assert_no_error (error);
  compare_outputs (&t, 1e-2, "bf16 storage");

  int B = t.B, D = t.cfg.width, N = vb_clip_config_tokens (&t.cfg);
  int64_t n = (int64_t) B * N * D;
  g_autofree float *hc = g_new (float, n), *hg = g_new (float, n), *h32 = g_new (float, n);
  g_autoptr (VbClip) fp32 = vb_clip_new (&t.cfg, &error);
  g_assert_no_error (error);
  memcpy (vb_clip_params (fp32), vb_clip_params (t.cpu), vb_clip_n_params (t.cpu) * sizeof (float));
  for (int k = 0; k <= t.cfg.layers; k++)
    {
      memset (hg, 0xFF, n * sizeof (float));
      g_assert_true (vb_clip_hidden_state (t.cpu, t.pixels, B, k, hc, &error));
      g_assert_true (vb_clip_hidden_state (t.gpu, t.pixels, B, k, hg, &error));
      g_assert_true (vb_clip_hidden_state (fp32, t.pixels, B, k, h32, &error));
      g_assert_no_error (error);
      g_autofree char *what = g_strdup_printf ("bf16 storage: hidden_states[%d]", k);
      assert_close (what, hg, hc, n, 1e-2);
      g_autofree char *what32 = g_strdup_printf ("bf16 storage against fp32: hidden_states[%d]", k);
      assert_close (what32, hg, h32, n, 2e-2);
      /* the stream really is bf16: every value a bf16 */
      for (int64_t i = 0; i < n; i++)
        g_assert_cmpfloat (hg[i], ==, vb_bf16_to_float (vb_bf16_from_float (hg[i])));
    }

  assert_resident_as_host (&t, gpu);

  /* weights changed on the host reach the bf16 copy */
  float *pc = vb_clip_params (t.cpu), *pg = vb_clip_params (t.gpu);
  for (int64_t i = 0; i < vb_clip_n_params (t.cpu); i += 5)
    pc[i] = pg[i] = pc[i] * 1.5f;
  compare_outputs (&t, 1e-2, "bf16 storage, changed parameters");
  g_assert_true (vb_clip_set_bf16 (t.gpu, FALSE, &error));
  g_assert_true (vb_clip_set_bf16 (t.cpu, FALSE, &error));
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_FP32));
  compare_outputs (&t, 1e-5, "fp32 storage again");
  towers_clear (&t);
}

/* ---- the projectors -------------------------------------------------------------------- */

typedef struct {
  VbProjector *p;
  float *x, *y, *dy, *dx;   /* in the projector's backend memory */
} ProjSide;

static void
side_upload (const VbOps *ops, float **dst, const float *src, int64_t n)
{
  if (ops->on_host)
    {
      *dst = g_memdup2 (src, n * sizeof (float));
      return;
    }
  *dst = ops->alloc (ops->ctx, n * sizeof (float));
  g_assert_nonnull (*dst);
  ops->upload (ops->ctx, *dst, src, n * sizeof (float));
}

static void
side_free (const VbOps *ops, float *buf)
{
  if (ops->on_host)
    g_free (buf);
  else
    ops->free (ops->ctx, buf);
}

static float *
side_get (const VbOps *ops, const float *buf, int64_t n)
{
  float *h = g_new (float, n);
  if (ops->on_host)
    memcpy (h, buf, n * sizeof (float));
  else
    ops->download (ops->ctx, h, buf, n * sizeof (float));
  return h;
}

/* forward (training), backward twice; y, dx and the gradients compared */
static void
check_projector (const VbOps *gpu, const VbProjConfig *pc, int64_t rows, double bound,
                 const char *label)
{
  g_autoptr (GError) error = NULL;
  const VbOps *backends[2] = { vb_cpu_ops (), gpu };
  ProjSide s[2];
  int in = pc->in_f, out = pc->out_f;
  VbRng rng;
  vb_rng_init (&rng, 31 + pc->kind);
  g_autofree float *x = random_floats (&rng, rows * in, 1.0f);
  g_autofree float *dy = random_floats (&rng, rows * out, 1.0f);
  g_autofree float *poison = g_new (float, rows * MAX (in, out));
  memset (poison, 0xFF, rows * MAX (in, out) * sizeof (float));

  for (int k = 0; k < 2; k++)
    {
      s[k].p = vb_projector_new (pc, &error);
      g_assert_no_error (error);
      vb_projector_init_weights (s[k].p, 5);
      /* every parameter random (LoRA's B is zero at init, which would hide A's gradient) */
      VbRng prng;
      vb_rng_init (&prng, 77);
      float *params = vb_projector_params (s[k].p);
      for (int64_t i = 0; i < vb_projector_n_params (s[k].p); i++)
        params[i] = 0.05f * vb_rng_normal (&prng);
      g_assert_true (vb_projector_use_backend (s[k].p, backends[k], &error));
      g_assert_no_error (error);
      vb_projector_params_to_backend (s[k].p);
      side_upload (backends[k], &s[k].x, x, rows * in);
      side_upload (backends[k], &s[k].dy, dy, rows * out);
      side_upload (backends[k], &s[k].y, poison, rows * out);
      side_upload (backends[k], &s[k].dx, poison, rows * in);
      vb_projector_zero_grad (s[k].p);
      g_assert_true (vb_projector_forward (s[k].p, s[k].y, s[k].x, rows, TRUE, &error));
      g_assert_no_error (error);
      vb_projector_backward (s[k].p, s[k].dx, s[k].dy, s[k].x, rows);
      vb_projector_backward (s[k].p, s[k].dx, s[k].dy, s[k].x, rows);   /* grads += */
      g_assert_true (vb_projector_backend_ok (s[k].p, &error));
      g_assert_no_error (error);
    }

  g_autofree float *y0 = side_get (gpu, s[1].y, rows * out);
  g_autofree float *y1 = side_get (vb_cpu_ops (), s[0].y, rows * out);
  g_autofree float *dx0 = side_get (gpu, s[1].dx, rows * in);
  g_autofree float *dx1 = side_get (vb_cpu_ops (), s[0].dx, rows * in);
  g_autofree char *wy = g_strdup_printf ("%s %s: y", label, vb_projector_kind_name (pc->kind));
  g_autofree char *wx = g_strdup_printf ("%s %s: dx", label, vb_projector_kind_name (pc->kind));
  assert_close (wy, y0, y1, rows * out, bound);
  assert_close (wx, dx0, dx1, rows * in, bound);
  const float *g_cpu = vb_projector_grads (s[0].p);
  const float *g_gpu = vb_projector_grads_from_backend (s[1].p);
  for (guint t = 0; t < vb_projector_n_tensors (s[0].p); t++)
    {
      const VbProjTensor *info = vb_projector_tensor (s[0].p, t);
      g_autofree char *what = g_strdup_printf ("%s %s: gradient of %s", label,
                                               vb_projector_kind_name (pc->kind), info->name);
      if (!info->trainable)
        {
          /* frozen: zero on both */
          for (int64_t i = 0; i < info->numel; i++)
            g_assert_cmpfloat (g_gpu[info->offset + i], ==, 0.0f);
          continue;
        }
      assert_close (what, g_gpu + info->offset, g_cpu + info->offset, info->numel, bound);
    }

  if (pc->kind == VB_PROJ_LORA)
    {
      /* merged inference: one product with W₀ + (α/r)·B·A on both */
      for (int k = 0; k < 2; k++)
        {
          g_assert_true (vb_projector_merge (s[k].p));
          g_assert_true (vb_projector_forward (s[k].p, s[k].y, s[k].x, rows, FALSE, &error));
          g_assert_no_error (error);
        }
      g_autofree float *m0 = side_get (gpu, s[1].y, rows * out);
      g_autofree float *m1 = side_get (vb_cpu_ops (), s[0].y, rows * out);
      g_autofree char *wm = g_strdup_printf ("%s proj-lora merged: y", label);
      assert_close (wm, m0, m1, rows * out, bound);
    }

  for (int k = 0; k < 2; k++)
    {
      side_free (backends[k], s[k].x);
      side_free (backends[k], s[k].y);
      side_free (backends[k], s[k].dy);
      side_free (backends[k], s[k].dx);
      vb_projector_free (s[k].p);
    }
}

static void
projector_configs (VbProjKind kind, gboolean study, VbProjConfig *pc)
{
  vb_projector_config_default (kind, pc);
  if (study)
    return;
  /* awkward widths: in ≠ out, nothing a multiple of 32 */
  pc->in_f = 72;
  pc->out_f = 52;
  pc->hidden = 90;
  pc->rank = kind == VB_PROJ_LORA ? 3 : 19;
  pc->alpha = 5.0f;
}

static void
test_projectors_fp32 (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  for (int kind = 0; kind < VB_PROJ_N_KINDS; kind++)
    {
      VbProjConfig pc;
      projector_configs (kind, FALSE, &pc);
      check_projector (gpu, &pc, 301, 1e-5, "fp32, awkward widths,");
      projector_configs (kind, TRUE, &pc);
      check_projector (gpu, &pc, 70, 1e-5, "fp32, study widths,");
    }
}

static void
test_projectors_tf32 (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_TF32));
  for (int kind = 0; kind < VB_PROJ_N_KINDS; kind++)
    {
      VbProjConfig pc;
      projector_configs (kind, TRUE, &pc);
      check_projector (gpu, &pc, 70, 5e-3, "tf32, study widths,");
    }
  g_assert_true (gpu->set_matmul (gpu->ctx, VB_MATMUL_FP32));
}

/* The bf16 inference twins (vb-projector-bf16.h) on the GPU against the CPU's: the same
 * bf16 weights, input and roundings, the products' sums in another order, so an output may
 * round to the neighbouring bf16 value, and where an intermediate (LowRank's t, the MLP's
 * h and GELU (h)) rounds the other way, the output moves by that step times its weight,
 * which is not small next to an output that cancels: every output within two bf16 steps
 * of its own size (2^-6) plus one of the outputs' typical size (2^-8 of their RMS), and
 * the whole within 4e-3 (relative L2) */
static void
check_projector_bf16 (const VbOps *gpu, const VbProjConfig *pc, int64_t rows, const char *label)
{
  g_autoptr (GError) error = NULL;
  const VbOps *backends[2] = { vb_cpu_ops (), gpu };
  int in = pc->in_f, out = pc->out_f;
  VbRng rng;
  vb_rng_init (&rng, 41 + pc->kind);
  g_autofree VbBf16 *x16 = g_new (VbBf16, rows * in);
  for (int64_t i = 0; i < rows * in; i++)
    x16[i] = vb_bf16_from_float (vb_rng_normal (&rng));
  g_autofree VbBf16 *y_cpu = g_new (VbBf16, rows * out);
  g_autofree VbBf16 *y_gpu = g_new (VbBf16, rows * out);
  VbBf16 *y[2] = { y_cpu, y_gpu };
  for (int k = 0; k < 2; k++)
    {
      const VbOps *ops = backends[k];
      g_autoptr (VbProjector) p = vb_projector_new (pc, &error);
      g_assert_no_error (error);
      vb_projector_init_weights (p, 5);
      VbRng prng;
      vb_rng_init (&prng, 78);
      float *params = vb_projector_params (p);
      for (int64_t i = 0; i < vb_projector_n_params (p); i++)
        params[i] = 0.05f * vb_rng_normal (&prng);
      g_assert_true (vb_projector_use_backend (p, ops, &error));
      vb_projector_params_to_backend (p);
      g_autoptr (VbProjBf16) b = vb_proj_bf16_new (p, &error);
      g_assert_no_error (error);
      size_t xb = (size_t) rows * in * sizeof (VbBf16), yb = (size_t) rows * out * sizeof (VbBf16);
      VbBf16 *dx = ops->on_host ? g_memdup2 (x16, xb) : ops->alloc (ops->ctx, xb);
      VbBf16 *dy = ops->on_host ? g_malloc (yb) : ops->alloc (ops->ctx, yb);
      g_assert_true (dx != NULL && dy != NULL);
      if (!ops->on_host)
        ops->upload (ops->ctx, dx, x16, xb);
      g_assert_true (vb_proj_bf16_forward (b, dy, dx, rows, &error));
      g_assert_true (vb_projector_backend_ok (p, &error));
      g_assert_no_error (error);
      if (ops->on_host)
        memcpy (y[k], dy, yb);
      else
        ops->download (ops->ctx, y[k], dy, yb);
      if (ops->on_host)
        {
          g_free (dx);
          g_free (dy);
        }
      else
        {
          ops->free (ops->ctx, dx);
          ops->free (ops->ctx, dy);
        }
    }
  double num = 0, den = 0;
  for (int64_t i = 0; i < rows * out; i++)
    den += (double) vb_bf16_to_float (y[0][i]) * vb_bf16_to_float (y[0][i]);
  double rms = sqrt (den / (rows * out));
  int64_t far = 0, differ = 0;
  for (int64_t i = 0; i < rows * out; i++)
    {
      double want = vb_bf16_to_float (y[0][i]), got = vb_bf16_to_float (y[1][i]);
      differ += y[0][i] != y[1][i];
      far += fabs (got - want) > ldexp (fabs (want), -6) + ldexp (rms, -8);
      num += (got - want) * (got - want);
    }
  double rel = sqrt (num / MAX (den, 1e-30));
  g_test_message ("%s %s in bf16: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " outputs differ "
                  "from the CPU's (rounding), none by more than the bound; relative L2 "
                  "%.2e", label, vb_projector_kind_name (pc->kind), differ, rows * out, rel);
  g_assert_cmpint (far, ==, 0);
  g_assert_cmpfloat (rel, <, 4e-3);
}

static void
test_projectors_bf16 (void)
{
  const VbOps *gpu = vb_engine_test_gpu_or_skip ();
  if (gpu == NULL)
    return;
  for (int kind = 0; kind < VB_PROJ_N_KINDS; kind++)
    {
      VbProjConfig pc;
      projector_configs (kind, FALSE, &pc);
      check_projector_bf16 (gpu, &pc, 301, "awkward widths,");
      projector_configs (kind, TRUE, &pc);
      check_projector_bf16 (gpu, &pc, 70, "study widths,");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clip-gpu/tower/fp32", test_tower_fp32);
  g_test_add_func ("/clip-gpu/tower/tensor-cores", test_tower_tensor_cores);
  g_test_add_func ("/clip-gpu/tower/bf16-storage", test_tower_bf16_storage);
  g_test_add_func ("/clip-gpu/projectors/fp32", test_projectors_fp32);
  g_test_add_func ("/clip-gpu/projectors/tf32", test_projectors_tf32);
  g_test_add_func ("/clip-gpu/projectors/bf16", test_projectors_bf16);
  return g_test_run ();
}
