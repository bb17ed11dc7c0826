/* vb-clip-profile.c: one clip-profile run: the encoder timed stage by stage through
 * vb_clip's stage hook, the five projectors with the §5 protocol, and the records. On the
 * GPU (device "cuda") pixels, features and every projector's input stay in the device's
 * memory, and each stage and call is waited for before its clock stops. */
#include "config.h"

#include "vb-clip-profile.h"

#include <math.h>
#include <string.h>

#include "vb-clip.h"
#include "vb-cpu-ops.h"
#include "vb-device.h"
#include "vb-error.h"
#include "vb-projector-study-private.h"
#include "vb-rng.h"

#define NOTICE_RANDOM "the encoder has random weights: times and multiply-adds do not " \
                      "depend on them, but its features are not CLIP's"

static gboolean
cancelled (const VbTrainHooks *hooks)
{
  return hooks && hooks->should_cancel && hooks->should_cancel (hooks->user_data);
}

static VbClip *
make_encoder (const VbRunConfig *cfg, GError **error)
{
  const VbProjStudyConfig *p = &cfg->proj;
  VbClip *m = NULL;
  if (p->clip_weights[0] != '\0')
    {
      if ((m = vb_clip_new_from_file (p->clip_weights, 0, error)) == NULL)
        return NULL;
      const VbClipConfig *c = vb_clip_config (m);
      if (c->image_size != cfg->img_size
          || (c->layers < 2 && g_str_equal (cfg->profile.layers, "llava")))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                       "%s is a %d px tower of %d layers; the run asks for %d px "
                       "(data.img_size)%s", p->clip_weights, c->image_size, c->layers,
                       cfg->img_size, c->layers < 2 ? " and a penultimate layer" : "");
          vb_clip_free (m);
          return NULL;
        }
      return m;
    }
  VbClipConfig c;
  if (p->clip_layers)
    vb_clip_config_small (&c, cfg->img_size, p->clip_width, p->clip_layers, p->clip_heads);
  else
    vb_clip_config_vit_l14 (&c, cfg->img_size);
  if ((m = vb_clip_new (&c, error)) != NULL)
    vb_clip_init_random (m, p->clip_seed);
  return m;
}

/* ---- the encoder, stage by stage ------------------------------------------------------ */

typedef struct {
  double *marks;    /* clock when stage s ended */
  int     n;
} Marks;

static void
mark_cb (int stage, gpointer user_data)
{
  Marks *m = user_data;
  if (stage < m->n)
    m->marks[stage] = vb_runtime_clock_ms ();
}

typedef struct {
  double median, iqr;     /* per call (the whole batch) */
} Stat;

static Stat
stat_of (double *v, int n)
{
  vb_runtime_sort (v, n);
  return (Stat) { vb_runtime_quantile (v, n, 0.5),
                  vb_runtime_quantile (v, n, 0.75) - vb_runtime_quantile (v, n, 0.25) };
}

/* samples[s * n_calls + k]: stage s of timed call k; whole[k]: the whole forward */
static gboolean
time_encoder (VbClip *m, const float *pixels, const VbRunConfig *cfg, int n_stages,
              float *features, float *last, double *samples, double *whole,
              const VbTrainHooks *hooks, GError **error)
{
  const VbClipProfileConfig *f = &cfg->profile;
  int n_calls = f->timed * f->repeats, k = 0;
  g_autofree double *marks = g_new0 (double, n_stages);
  Marks mk = { marks, n_stages };
  VbClipOutputs out = { features, last, NULL };
  VbProgress prog = { .phase = "profile", .val_top1 = NAN,
                      .total_steps = (f->warmup + f->timed) * f->repeats };
  gboolean ok = TRUE;

  vb_clip_set_stage_hook (m, mark_cb, &mk);
  for (int r = 0; r < f->repeats && ok; r++)
    for (int c = 0; c < f->warmup + f->timed && ok; c++)
      {
        if (cancelled (hooks))
          {
            g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                         "cancelled while profiling the encoder");
            ok = FALSE;
            break;
          }
        double t0 = vb_runtime_clock_ms ();
        /* pixels and outputs where the ops run; the call waits for the backend */
        if (!(ok = vb_clip_forward_on_backend (m, pixels, f->batch, &out, error)))
          break;
        double t1 = vb_runtime_clock_ms ();
        if (c >= f->warmup)
          {
            for (int s = 0; s < n_stages; s++)
              samples[s * n_calls + k] = marks[s] - (s ? marks[s - 1] : t0);
            whole[k++] = t1 - t0;
          }
        prog.step++;
        if (hooks && hooks->progress)
          hooks->progress (&prog, hooks->user_data);
      }
  vb_clip_set_stage_hook (m, NULL, NULL);
  return ok;
}

/* ---- records ------------------------------------------------------------------------------ */

typedef struct {
  const VbRunConfig *cfg;
  const VbOps *ops;
  const char *precision;       /* what the products computed in: "fp32", "tf32", "bf16" */
  VbClip *clip;
  int T, layers_run;
  Stat forward;
  JsonNode *card;              /* the encoder's protocol card */
  GPtrArray *proj_cards;       /* JsonNode per projector */
  GArray *stages;              /* VbProfileStage (per image) */
} Outcome;

static JsonNode *
encoder_card (const Outcome *o)
{
  const VbRunConfig *cfg = o->cfg;
  const VbClipProfileConfig *f = &cfg->profile;
  g_autoptr (JsonBuilder) b = json_builder_new ();
#define STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define NUM(k, v) (json_builder_set_member_name (b, k), json_builder_add_double_value (b, v))
#define BOOL(k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
  json_builder_begin_object (b);
  STR ("protocol", "clip-projectors §5, per stage");
  STR ("mode", "CLIP encoder forward (inference), stages timed by the forward's stage hook");
  STR ("weights", vb_clip_weights_description (o->clip));
  BOOL ("random_weights", cfg->proj.clip_weights[0] == '\0');
  INT ("image_size", cfg->img_size);
  INT ("layers_run", o->layers_run);
  INT ("batch", f->batch);
  STR ("precision", g_str_equal (o->precision, "bf16")
                    ? "bf16 storage of the transformer layers, bf16 products accumulating "
                      "in fp32, fused attention; the embedding in fp32" : "fp32");
  BOOL ("tf32", g_str_equal (o->precision, "tf32"));
  if (g_strcmp0 (f->precision, o->precision) != 0)
    STR ("precision_note", "tf32 and bf16 products are GPU modes: this CPU run computed fp32");
  INT ("threads", cfg->threads);
  INT ("warmup_calls", f->warmup);
  INT ("timed_calls", f->timed);
  INT ("repeats", f->repeats);
  STR ("statistic", "median over every timed call, per stage and for the whole forward "
                    "(IQR beside it)");
  NUM ("median_ms", o->forward.median);
  NUM ("iqr_ms", o->forward.iqr);
  NUM ("images_per_s", o->forward.median > 0 ? f->batch / (o->forward.median / 1e3) : 0);
  STR ("clock", VB_RUNTIME_CLOCK);
  STR ("input", "seeded N(0, 1) pixels (content does not change a dense forward's cost), "
                "resident where the ops run");
  STR ("device", o->ops->on_host ? "cpu" : o->ops->name);
  STR ("device_name", vb_device_describe (o->ops));
  STR ("gemm", o->ops->on_host ? vb_cpu_gemm_name () : "cuBLAS");
  if (!o->ops->on_host)
    STR ("stage_timing", "the forward waits for the device at the end of every stage");
  STR ("engine_version", PACKAGE_VERSION);
  json_builder_end_object (b);
#undef STR
#undef INT
#undef NUM
#undef BOOL
  return json_builder_get_root (b);
}

static const char *const kind_names[] = { "embedding", "layer", "projector" };

static gboolean
write_result (const char *path, const Outcome *o, GError **error)
{
  const VbRunConfig *cfg = o->cfg;
  const VbClipConfig *c = vb_clip_config (o->clip);
  gboolean random = cfg->proj.clip_weights[0] == '\0';
  g_autoptr (JsonBuilder) b = json_builder_new ();
#define STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define NUM(k, v) (json_builder_set_member_name (b, k), json_builder_add_double_value (b, v))
  json_builder_begin_object (b);
  STR ("format", "visionbench-clip-profile");
  INT ("version", 1);
  json_builder_set_member_name (b, "encoder");
  json_builder_begin_object (b);
  g_autofree char *model = cfg->proj.clip_layers
                           ? g_strdup_printf ("small CLIP (layers %d, width %d, heads %d) %d px",
                                              c->layers, c->width, c->heads, c->image_size)
                           : g_strdup_printf ("CLIP ViT-L/14 %d px", c->image_size);
  STR ("model", model);
  STR ("weights", vb_clip_weights_description (o->clip));
  json_builder_set_member_name (b, "random_weights");
  json_builder_add_boolean_value (b, random);
  INT ("image_size", c->image_size);
  INT ("width", c->width);
  INT ("layers", c->layers);
  INT ("layers_run", o->layers_run);
  STR ("stops_at", o->layers_run < c->layers
                   ? "hidden_states[-2]: the penultimate layer's output, LLaVA's features"
                   : "last_hidden_state: every layer");
  INT ("patch_tokens", o->T);
  INT ("params", vb_clip_n_params (o->clip));
  json_builder_end_object (b);
  if (random)
    STR ("notice", NOTICE_RANDOM);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_value (b, json_node_copy (o->card));
  json_builder_set_member_name (b, "forward");
  json_builder_begin_object (b);
  NUM ("median_ms", o->forward.median);
  NUM ("per_image_ms", o->forward.median / cfg->profile.batch);
  NUM ("images_per_s", o->forward.median > 0
                       ? cfg->profile.batch / (o->forward.median / 1e3) : 0);
  INT ("macs_per_image", vb_clip_macs (c, o->layers_run));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "stages");
  json_builder_begin_array (b);
  for (guint i = 0, p = 0; i < o->stages->len; i++)
    {
      VbProfileStage *s = &g_array_index (o->stages, VbProfileStage, i);
      json_builder_begin_object (b);
      STR ("name", s->name);
      STR ("kind", kind_names[s->kind]);
      NUM ("ms", s->ms);
      NUM ("iqr_ms", s->iqr_ms);
      INT ("macs", s->macs);
      if (s->kind == VB_STAGE_PROJECTOR && p < o->proj_cards->len)
        {
          json_builder_set_member_name (b, "protocol");
          json_builder_add_value (b, json_node_copy (g_ptr_array_index (o->proj_cards, p++)));
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
#undef STR
#undef INT
#undef NUM
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_file (gen, path, error);
}

/* ---- the run ------------------------------------------------------------------------------ */

static void
stage_clear (gpointer p)
{
  g_free (((VbProfileStage *) p)->name);
}

static void
add_stage (GArray *stages, char *name, VbStageKind kind, Stat st, int batch, int64_t macs)
{
  VbProfileStage s = { name, kind, st.median / batch, st.iqr / batch, macs };
  g_array_append_val (stages, s);
}

/* buffers in the backend's memory (host memory on the CPU) */
typedef struct {
  const VbOps *ops;
  float *pixels, *features, *last;
} Resident;

static float *
resident_alloc (Resident *r, gsize floats)
{
  gsize bytes = MAX (floats, 1) * sizeof (float);
  return r->ops->on_host ? g_try_malloc (bytes) : r->ops->alloc (r->ops->ctx, bytes);
}

static void
resident_clear (Resident *r)
{
  float **bufs[] = { &r->pixels, &r->features, &r->last };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    if (*bufs[i] != NULL)
      {
        if (r->ops->on_host)
          g_free (*bufs[i]);
        else
          r->ops->free (r->ops->ctx, *bufs[i]);
        *bufs[i] = NULL;
      }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Resident, resident_clear)

static gboolean profile_on (const VbOps *ops, const char *precision, const VbRunConfig *cfg,
                            VbStore *store, gint64 run_id, const char *run_dir,
                            const VbTrainHooks *hooks, VbTrainResult *result, GError **error);

gboolean
vb_clip_profile_run (const VbRunConfig *cfg, VbStore *store, gint64 run_id,
                     const char *run_dir, const VbTrainHooks *hooks, VbTrainResult *result,
                     GError **error)
{
  memset (result, 0, sizeof *result);
  result->top1 = result->top5 = NAN;
  vb_set_num_threads (cfg->threads);
  const VbOps *ops = vb_device_ops (cfg->device, error);
  if (ops == NULL)
    return FALSE;
  /* tf32 and bf16 are GPU modes: the CPU computes fp32, and the card says so */
  const char *precision = cfg->profile.precision ? cfg->profile.precision : "fp32";
  int mode = g_str_equal (precision, "tf32") ? VB_MATMUL_TF32
             : g_str_equal (precision, "bf16") ? VB_MATMUL_BF16 : VB_MATMUL_FP32;
  if (!ops->set_matmul (ops->ctx, mode))
    precision = "fp32";
  gboolean ok = profile_on (ops, precision, cfg, store, run_id, run_dir, hooks, result, error);
  /* the context is shared: leave it in the strict mode everything else expects */
  ops->set_matmul (ops->ctx, VB_MATMUL_FP32);
  return ok;
}

static gboolean
profile_on (const VbOps *ops, const char *precision, const VbRunConfig *cfg, VbStore *store,
            gint64 run_id, const char *run_dir, const VbTrainHooks *hooks,
            VbTrainResult *result, GError **error)
{
  const VbClipProfileConfig *f = &cfg->profile;
  VbProgress prog = { .phase = "load", .val_top1 = NAN };
  if (hooks && hooks->progress)
    hooks->progress (&prog, hooks->user_data);

  g_autoptr (VbClip) clip = make_encoder (cfg, error);
  /* bf16 as the bench runs it: the layers in bf16 storage */
  if (clip == NULL || !vb_clip_use_backend (clip, ops, error)
      || !vb_clip_set_bf16 (clip, g_str_equal (precision, "bf16"), error))
    return FALSE;
  const VbClipConfig *c = vb_clip_config (clip);
  int B = f->batch, G = vb_clip_config_grid (c), T = G * G, D = c->width;
  int L = c->layers, layers_run = g_str_equal (f->layers, "all") ? L : L - 1;
  int n_enc = 1 + layers_run, n_calls = f->timed * f->repeats;

  /* pixels: seeded noise; features: LLaVA's projector input, filled by the forward */
  gsize image = (gsize) c->in_chans * c->image_size * c->image_size;
  g_autofree float *pixels = g_new (float, B * image);
  VbRng rng;
  vb_rng_init (&rng, cfg->seed ^ 0xc11bULL);
  for (gsize q = 0; q < B * image; q++)
    pixels[q] = vb_rng_normal (&rng);
  g_auto (Resident) res = { ops, NULL, NULL, NULL };
  res.pixels = resident_alloc (&res, B * image);
  res.features = resident_alloc (&res, (gsize) B * T * D);
  if (layers_run == L)
    res.last = resident_alloc (&res, (gsize) B * vb_clip_config_tokens (c) * D);
  if (res.pixels == NULL || res.features == NULL || (layers_run == L && res.last == NULL))
    {
      const char *why = ops->on_host ? NULL : ops->sync (ops->ctx);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_FAILED,
                   "no room for %d images' pixels and features on %s%s%s", B, ops->name,
                   why ? ": " : "", why ? why : "");
      if (!ops->on_host)
        ops->clear_error (ops->ctx);
      return FALSE;
    }
  if (ops->on_host)
    memcpy (res.pixels, pixels, B * image * sizeof (float));
  else
    ops->upload (ops->ctx, res.pixels, pixels, B * image * sizeof (float));
  g_autofree double *samples = g_new (double, (gsize) n_enc * n_calls);
  g_autofree double *whole = g_new (double, n_calls);
  if (!time_encoder (clip, res.pixels, cfg, n_enc, res.features, res.last, samples, whole,
                     hooks, error))
    return FALSE;

  g_autoptr (GArray) stages = g_array_new (FALSE, FALSE, sizeof (VbProfileStage));
  g_array_set_clear_func (stages, stage_clear);
  g_autoptr (GPtrArray) cards = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  int64_t embed_macs = vb_clip_macs (c, 0), layer_macs = vb_clip_macs (c, 1) - embed_macs;
  add_stage (stages, g_strdup ("patch embedding"), VB_STAGE_EMBEDDING,
             stat_of (samples, n_calls), B, embed_macs);
  for (int l = 0; l < layers_run; l++)
    add_stage (stages, g_strdup_printf ("layer %d", l), VB_STAGE_LAYER,
               stat_of (samples + (gsize) (l + 1) * n_calls, n_calls), B, layer_macs);

  /* the projectors, each over this batch's patch tokens, with the §5 protocol */
  prog.phase = "projectors";
  if (hooks && hooks->progress)
    hooks->progress (&prog, hooks->user_data);
  for (const char *const *name = vb_projector_names (); *name; name++)
    {
      VbProjConfig pc;
      if (!vb_projector_study_config (*name, D, cfg->proj.lora_rank, cfg->proj.lora_alpha, &pc,
                                      error))
        return FALSE;
      g_autoptr (VbProjector) p = vb_projector_new (&pc, error);
      if (p == NULL || !vb_projector_use_backend (p, ops, error))
        return FALSE;
      vb_projector_init_weights (p, cfg->seed);
      VbRuntimeProtocol proto = { B, T, f->warmup, f->timed, f->repeats, cfg->threads,
                                  "the profiled forward's patch tokens (hidden_states[-2])",
                                  precision };
      double ms = 0;
      JsonNode *card = NULL;
      if (!vb_projector_runtime (p, res.features, &proto, hooks, &ms, &card, error))
        return FALSE;
      g_ptr_array_add (cards, card);
      Stat st = { ms, json_object_get_double_member (json_node_get_object (card), "iqr_ms") };
      add_stage (stages, g_strdup (*name), VB_STAGE_PROJECTOR, st, B,
                 vb_projector_macs_per_token (&pc, FALSE) * T);
    }

  Outcome o = { cfg, ops, precision, clip, T, layers_run, stat_of (whole, n_calls), NULL, cards,
                stages };
  g_autoptr (JsonNode) card = encoder_card (&o);
  o.card = card;
  result->params = vb_clip_n_params (clip);
  result->macs = vb_clip_macs (c, layers_run);
  result->eval_img_per_s = o.forward.median > 0 ? B / (o.forward.median / 1e3) : NAN;
  if (store && run_id > 0)
    {
      g_autofree char *json = json_to_string (card, FALSE);
      if (!vb_store_set_run_stats (store, run_id, result->params, result->macs, error)
          || !vb_store_add_throughput (store, run_id, "clip-forward", result->eval_img_per_s,
                                       json, error))
        return FALSE;
    }
  if (run_dir != NULL)
    {
      if (g_mkdir_with_parents (run_dir, 0755) != 0)
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot create %s", run_dir);
          return FALSE;
        }
      g_autofree char *path = g_build_filename (run_dir, VB_CLIP_PROFILE_RESULT_FILE, NULL);
      if (!write_result (path, &o, error))
        return FALSE;
      if (store && run_id > 0
          && !vb_store_add_artifact (store, run_id, VB_CLIP_PROFILE_RESULT_KIND, path, error))
        return FALSE;
    }
  return TRUE;
}
