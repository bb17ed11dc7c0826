/* vb-vmamba-plan.c: sizes and allocates every buffer for one (batch, height, width), as
 * one arena in the backend's memory (one allocation per plan, not hundreds: on the GPU
 * each would cost a synchronising cudaMalloc). The same walk counts the bytes kept for
 * the backward, so the activation-memory estimate that `info` prints is exactly what
 * training allocates. */
#include "config.h"

#include "vb-vmamba-private.h"

#include <string.h>

/* every buffer starts on a 256-byte boundary, for coalesced and vector accesses */
#define ALIGN_FLOATS 64

typedef struct {
  float    *arena;      /* NULL: count only */
  gboolean  skip;       /* the backward's buffers of an evaluation-only plan: not taken */
  gboolean  bf16;       /* bf16 storage of the block products' operands */
  int64_t   used;       /* floats carved (or counted), aligned */
  int64_t   saved;      /* floats kept for the backward */
  int64_t   scratch;    /* floats of scratch (not counted as activations) */
} Planner;

static float *
take (Planner *p, int64_t n, gboolean saved)
{
  if (p->skip)
    return NULL;
  if (saved)
    p->saved += n;
  else
    p->scratch += n;
  float *buf = p->arena != NULL ? p->arena + p->used : NULL;
  p->used += (MAX (n, 1) + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
  return buf;
}

/* n bf16 values, carved like floats (two to a float) */
static VbBf16 *
take16 (Planner *p, int64_t n, gboolean saved)
{
  return (VbBf16 *) take (p, (n + 1) / 2, saved);
}

/* an fp32 buffer that bf16 storage replaces by its bf16 twin */
static float *
take32 (Planner *p, int64_t n, gboolean saved)
{
  return p->bf16 ? NULL : take (p, n, saved);
}

static VbBf16 *
take_bf16 (Planner *p, int64_t n, gboolean saved)
{
  return p->bf16 ? take16 (p, n, saved) : NULL;
}

/* n floats that only bf16 storage uses */
static float *
take32_in_bf16 (Planner *p, int64_t n, gboolean saved)
{
  return p->bf16 ? take (p, n, saved) : NULL;
}

static void plan_walk (Planner *p, VbVmamba *m, const VbVmambaConfig *cfg, int B, int H,
                       int W, gboolean training);

void
vb_vmamba_plan_clear (VbVmamba *m)
{
  if (m->plan_arena != NULL)
    m->ops->free (m->ops->ctx, m->plan_arena);
  m->plan_arena = NULL;
  for (int i = 0; i < VB_VMAMBA_MAX_STAGES; i++)
    g_clear_pointer (&m->acts[i], g_free);
  m->labels = NULL;                    /* a plan buffer */
  g_clear_pointer (&m->logits_host, g_free);
  if (m->ops != NULL)
    {
      if (m->dp_host != NULL)
        m->ops->free_host (m->ops->ctx, m->dp_host);
      if (m->labels_host != NULL)
        m->ops->free_host (m->ops->ctx, m->labels_host);
      if (m->images_host != NULL && m->images_host != m->images)
        m->ops->free_host (m->ops->ctx, m->images_host);
    }
  m->dp_host = NULL;
  m->labels_host = NULL;
  m->images_host = NULL;
  m->plan_B = m->plan_H = m->plan_W = 0;
  m->have_backward_state = FALSE;
}

int64_t
vb_vmamba_plan (VbVmamba *m, const VbVmambaConfig *cfg, int B, int H, int W, gboolean training,
                gboolean bf16)
{
  Planner count = { .bf16 = bf16 };
  plan_walk (&count, NULL, cfg, B, H, W, training);
  if (m == NULL)
    return count.saved * (int64_t) sizeof (float);

  vb_vmamba_plan_clear (m);
  Planner carve = { .bf16 = bf16 };
  /* zeroed memory, like the separate buffers it replaces */
  carve.arena = m->ops->alloc (m->ops->ctx, (size_t) count.used * sizeof (float));
  if (carve.arena == NULL)
    return -1;   /* the caller reads the backend's error (out of memory) */
  m->plan_arena = carve.arena;
  m->plan_id++;
  plan_walk (&carve, m, cfg, B, H, W, training);
  /* host staging: the CPU reads its input where the loader writes it */
  const VbOps *ops = m->ops;
  m->labels_host = ops->alloc_host (ops->ctx, (size_t) B * sizeof (int));
  m->images_host = ops->on_host ? m->images
                   : ops->alloc_host (ops->ctx,
                                      (size_t) B * H * W * cfg->in_chans * sizeof (float));
  if (m->dp_host == NULL || m->labels_host == NULL || m->images_host == NULL)
    {
      vb_vmamba_plan_clear (m);
      return -1;
    }
  m->plan_training = training;
  g_assert (carve.used == count.used);
  return carve.saved * (int64_t) sizeof (float);
}

static void
plan_walk (Planner *p, VbVmamba *m, const VbVmambaConfig *cfg, int B, int H, int W,
           gboolean training)
{
  int H1, W1;
  VbStageShape st[VB_VMAMBA_MAX_STAGES];
  vb_vmamba_stage_shapes (cfg, H, W, &H1, &W1, st);

  float *labels = take (p, B, FALSE);   /* ints: an int is a float's size */
  if (m != NULL)
    {
      m->plan_B = B;
      m->plan_H = H;
      m->plan_W = W;
      m->H1 = H1;
      m->W1 = W1;
      memcpy (m->stage, st, sizeof st);
      m->labels = (int *) labels;
      m->logits_host = g_new0 (float, (gsize) B * cfg->num_classes);

    }

  int64_t half = cfg->dims[0] / 2;
  int64_t rows1 = (int64_t) B * H1 * W1;
  int64_t max_act = (int64_t) B * H * W * cfg->in_chans;   /* largest (rows × channels) */
  max_act = MAX (max_act, rows1 * half);

  float *images = take (p, (int64_t) B * H * W * cfg->in_chans, TRUE);
  float *s_c1 = take (p, rows1 * half, TRUE);
  float *s_ln1 = take (p, rows1 * half, TRUE);
  float *s_ln1_mean = take (p, rows1, TRUE);
  float *s_ln1_rstd = take (p, rows1, TRUE);
  float *s_g = take (p, rows1 * half, TRUE);
  int64_t rows0 = (int64_t) B * st[0].H * st[0].W;
  float *s_c2 = take (p, rows0 * cfg->dims[0], TRUE);
  if (m)
    {
      m->images = images;
      m->s_c1 = s_c1;
      m->s_ln1 = s_ln1;
      m->s_ln1_mean = s_ln1_mean;
      m->s_ln1_rstd = s_ln1_rstd;
      m->s_g = s_g;
      m->s_c2 = s_c2;
    }

  int n_blocks = 0, block = 0;
  for (int i = 0; i < cfg->n_stages; i++)
    n_blocks += cfg->depths[i];
  float *dp_all = take (p, (int64_t) 2 * n_blocks * B, TRUE);
  if (m != NULL)
    {
      m->dp_all = dp_all;
      m->dp_host = m->ops->alloc_host (m->ops->ctx, (size_t) 2 * n_blocks * B * sizeof (float));
    }

  int64_t max_d = 0, max_kd = 0, max_xdbl = 0, max_kn = 0, max_m = 0, max_c = 0;
  int64_t max_dtlow = 0, max_dtw = 0;
  for (int i = 0; i < cfg->n_stages; i++)
    {
      const VbStageShape *s = &st[i];
      int64_t rows = (int64_t) B * s->H * s->W;
      int64_t KD = (int64_t) s->K * s->D, RN = s->R + 2 * s->N;
      max_c = MAX (max_c, rows * s->C);
      max_d = MAX (max_d, rows * s->D);
      max_kd = MAX (max_kd, rows * KD);
      max_xdbl = MAX (max_xdbl, rows * s->K * RN);
      max_kn = MAX (max_kn, rows * s->K * s->N);
      max_m = MAX (max_m, rows * s->M);
      max_dtlow = MAX (max_dtlow, rows * s->K * s->Rp);
      max_dtw = MAX (max_dtw, KD * s->Rp);

      if (i > 0)
        {
          /* downsample from stage i−1: conv output (kept) */
          float *dc = take (p, rows * s->C, TRUE);
          if (m)
            m->down_c[i - 1] = dc;
        }
      float *sin = take (p, rows * s->C, TRUE);
      float *sin_mean = take (p, rows, TRUE);
      float *sin_rstd = take (p, rows, TRUE);
      VbBlockActs *acts = m ? g_new0 (VbBlockActs, cfg->depths[i]) : NULL;
      if (m)
        {
          m->stage_in[i] = sin;
          m->stage_in_mean[i] = sin_mean;
          m->stage_in_rstd[i] = sin_rstd;
          m->acts[i] = acts;
        }
      for (int j = 0; j < cfg->depths[i]; j++)
        {
          VbBlockActs a = { 0 };
          a.ln1 = take32 (p, rows * s->C, TRUE);
          a.ln1_16 = take_bf16 (p, rows * s->C, TRUE);
          a.ln1_mean = take (p, rows, TRUE);
          a.ln1_rstd = take (p, rows, TRUE);
          a.u0 = take (p, rows * s->D, TRUE);
          a.u1 = take (p, rows * s->D, TRUE);
          a.u = take32 (p, rows * s->D, TRUE);   /* bf16 storage: u16 alone */
          a.u16 = take_bf16 (p, rows * s->D, TRUE);
          a.hck = take (p, vb_scan_ckpt_floats (B, (int64_t) s->H * s->W, s->K, s->D, s->N),
                        TRUE);
          a.dts = take32 (p, rows * KD, TRUE);
          a.dts16 = take_bf16 (p, rows * KD, TRUE);
          a.xdbl = take (p, rows * s->K * RN, TRUE);
          a.dtlow16 = take_bf16 (p, rows * s->K * s->Rp, TRUE);
          /* a weight copy, not an activation: kept to the backward, but not per image */
          a.dtw16 = s->R != s->Rp ? take_bf16 (p, KD * s->Rp, FALSE) : NULL;
          a.Bs = take (p, rows * s->K * s->N, TRUE);
          a.Cs = take (p, rows * s->K * s->N, TRUE);
          a.y = take (p, rows * s->D, TRUE);
          a.yln = take32 (p, rows * s->D, TRUE);
          a.yln16 = take_bf16 (p, rows * s->D, TRUE);
          a.yln_mean = take (p, rows, TRUE);
          a.yln_rstd = take (p, rows, TRUE);
          a.x_mid = take (p, rows * s->C, TRUE);
          a.ln2 = take32 (p, rows * s->C, TRUE);
          a.ln2_16 = take_bf16 (p, rows * s->C, TRUE);
          a.ln2_mean = take (p, rows, TRUE);
          a.ln2_rstd = take (p, rows, TRUE);
          a.h1 = take32 (p, rows * s->M, TRUE);
          a.g = take32 (p, rows * s->M, TRUE);
          a.h1_16 = take_bf16 (p, rows * s->M, TRUE);
          a.g16 = take_bf16 (p, rows * s->M, TRUE);
          a.x_out = take (p, rows * s->C, TRUE);
          /* the two drop-path scales of each block side by side in one region, filled
           * by one upload per forward */
          a.dp1 = dp_all ? dp_all + (int64_t) 2 * block * B : NULL;
          a.dp2 = dp_all ? dp_all + (int64_t) (2 * block + 1) * B : NULL;
          block++;
          if (m)
            acts[j] = a;
        }
    }
  const VbStageShape *last = &st[cfg->n_stages - 1];
  int64_t rows4 = (int64_t) B * last->H * last->W;
  float *head_ln = take (p, rows4 * last->C, TRUE);
  float *head_mean = take (p, rows4, TRUE);
  float *head_rstd = take (p, rows4, TRUE);
  float *pooled = take (p, (int64_t) B * last->C, TRUE);
  float *logits = take (p, (int64_t) B * cfg->num_classes, TRUE);
  float *probs = take (p, (int64_t) B * cfg->num_classes, TRUE);
  float *loss = take (p, 1, FALSE);

  max_act = MAX (max_act, max_c);
  max_act = MAX (max_act, rows0 * cfg->dims[0]);
  /* scratch */
  float *s_ys = take32 (p, max_kd, FALSE);
  VbBf16 *s_ys16 = take_bf16 (p, max_kd, FALSE);
  float *s_o = take (p, MAX (max_c, max_m), FALSE);
  /* from here on the backward's own buffers: an evaluation-only plan leaves them out */
  p->skip = !training;
  float *d_x = take (p, max_act, FALSE);
  float *d_x2 = take (p, max_act, FALSE);
  float *d_tmp = take (p, max_act, FALSE);
  float *d_br = take (p, max_c, FALSE);
  float *d_ln = take (p, max_act, FALSE);
  float *d_g = take32 (p, max_m, FALSE);
  float *d_h1 = take32 (p, max_m, FALSE);
  VbBf16 *d_br16 = take_bf16 (p, max_c, FALSE);
  VbBf16 *d_g16 = take_bf16 (p, max_m, FALSE);
  VbBf16 *d_h1_16 = take_bf16 (p, max_m, FALSE);
  VbBf16 *d_xdbl16 = take_bf16 (p, max_xdbl, FALSE);
  VbBf16 *d_u0_16 = take_bf16 (p, max_d, FALSE);
  float *d_yln = take (p, max_d, FALSE);
  float *d_y = take (p, max_d, FALSE);   /* bf16 storage: d_y16's working space */
  VbBf16 *d_y16 = take_bf16 (p, max_d, FALSE);
  float *d_us = take32 (p, max_kd, FALSE);
  float *d_dts = take32 (p, max_kd, FALSE);
  VbBf16 *d_us16 = take_bf16 (p, max_kd, FALSE);
  VbBf16 *d_dts16 = take_bf16 (p, max_kd, FALSE);
  float *d_xdbl = take32 (p, max_xdbl, FALSE);   /* bf16 storage: d_xdbl16 alone */
  float *d_dtlow = take32_in_bf16 (p, max_dtlow, FALSE);
  float *d_dtw = take32_in_bf16 (p, max_dtw, FALSE);
  float *d_Bs = take (p, max_kn, FALSE);
  float *d_Cs = take (p, max_kn, FALSE);
  float *d_u = take (p, max_d, FALSE);
  float *d_u0 = take32 (p, max_d, FALSE);   /* bf16 storage: only d_u0_16 */
  float *d_pooled = take (p, (int64_t) B * last->C, FALSE);
  float *d_logits = take (p, (int64_t) B * cfg->num_classes, FALSE);

  if (m)
    {
      m->head_ln = head_ln;
      m->head_mean = head_mean;
      m->head_rstd = head_rstd;
      m->pooled = pooled;
      m->logits = logits;
      m->probs = probs;
      m->loss = loss;
      m->s_ys = s_ys;
      m->s_o = s_o;
      m->d_x = d_x;
      m->d_x2 = d_x2;
      m->d_tmp = d_tmp;
      m->d_br = d_br;
      m->d_ln = d_ln;
      m->d_g = d_g;
      m->d_h1 = d_h1;
      m->d_yln = d_yln;
      m->d_y = d_y;
      m->d_us = d_us;
      m->d_dts = d_dts;
      m->d_xdbl = d_xdbl;
      m->d_Bs = d_Bs;
      m->d_Cs = d_Cs;
      m->d_u = d_u;
      m->d_u0 = d_u0;
      m->d_pooled = d_pooled;
      m->d_logits = d_logits;
      m->d_br16 = d_br16;
      m->d_g16 = d_g16;
      m->d_y16 = d_y16;
      m->d_h1_16 = d_h1_16;
      m->d_xdbl16 = d_xdbl16;
      m->d_dtlow = d_dtlow;
      m->d_dtw = d_dtw;
      m->d_u0_16 = d_u0_16;
      m->s_ys16 = s_ys16;
      m->d_us16 = d_us16;
      m->d_dts16 = d_dts16;
    }
}
