/* vb-feature-cache.c: CLIP feature extraction for the projector study and its on-disk
 * cache (format in the header file). */
#include "config.h"

#include "vb-feature-cache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-clip.h"
#include "vb-clip-preprocess.h"
#include "vb-dtype.h"
#include "vb-error.h"

#define MAGIC       "VBFEAT01"
#define SUM_BYTES   32
/* CLIPImageProcessor as vb_clip_preprocess runs it (§1.5), no LLaVA padding */
#define PREPROCESS  "clip-v1: RGB, Pillow bicubic short side to S, centre crop, /255, " \
                    "CLIP mean/std, CHW f32; no pad"
#define FEATURES    "X = hidden_states[-2] patch tokens (CLS dropped) f16; " \
                    "y = pooler_output f32"

static guint n_extractions;

guint
vb_feature_cache_n_extractions (void)
{
  return g_atomic_int_get (&n_extractions);
}

void
vb_feature_set_clear (VbFeatureSet *s)
{
  g_clear_pointer (&s->file, g_mapped_file_unref);
  g_clear_pointer (&s->path, g_free);
  g_clear_pointer (&s->key, g_free);
  g_clear_pointer (&s->status, g_free);
  g_clear_pointer (&s->weights, g_free);
  g_clear_pointer (&s->encoder, g_free);
  s->x = NULL;
  s->y = NULL;
}

guint16
vb_float_to_half (float f)
{
  guint32 x;
  memcpy (&x, &f, 4);
  guint32 sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
  int e = (int) ((x >> 23) & 0xff);
  if (e == 0xff)
    return (guint16) (sign | 0x7c00 | (mant ? 0x200 : 0));
  int he = e - 127 + 15;
  if (he >= 31)
    return (guint16) (sign | 0x7c00);
  if (he <= 0)
    {
      if (he < -10)
        return (guint16) sign;
      mant |= 0x800000;
      int shift = 14 - he;
      guint32 h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
      if (rem > half || (rem == half && (h & 1)))
        h++;
      return (guint16) (sign | h);
    }
  guint32 h = ((guint32) he << 10) | (mant >> 13), rem = mant & 0x1fff;
  /* a carry out of the mantissa correctly bumps the exponent (up to infinity) */
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    h++;
  return (guint16) (sign | h);
}

void
vb_feature_set_tokens (const VbFeatureSet *s, int i, float *out)
{
  gsize n = (gsize) s->tokens * s->width;
  const guint16 *src = s->x + (gsize) i * n;
  for (gsize k = 0; k < n; k++)
    out[k] = vb_half_to_float (src[k]);
}

/* ---- keys ----------------------------------------------------------------------------- */

typedef struct {
  char *weights_id;     /* "sha256:…" of the file, or "random seed N" */
  char *encoder;        /* the shape, or "from the weights file" */
  char *images;
  int   image_size;
  char *key;
} CacheKey;

static void
cache_key_clear (CacheKey *k)
{
  g_free (k->weights_id);
  g_free (k->encoder);
  g_free (k->images);
  g_free (k->key);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CacheKey, cache_key_clear)

static char *
file_sha256 (const char *path, GError **error)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      int errsv = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot read %s: %s", path,
                   g_strerror (errsv));
      return NULL;
    }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 20);
  size_t got;
  while ((got = fread (buf, 1, 1 << 20, f)) > 0)
    g_checksum_update (sum, buf, (gssize) got);
  gboolean bad = ferror (f);
  fclose (f);
  if (bad)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot read %s", path);
      return NULL;
    }
  return g_strconcat ("sha256:", g_checksum_get_string (sum), NULL);
}

static gboolean
uses_file (const VbFeatureEncoder *enc)
{
  return enc->weights_path != NULL && enc->weights_path[0] != '\0';
}

static gboolean
make_key (const VbStudySubset *subset, const VbFeatureEncoder *enc, CacheKey *k,
          GError **error)
{
  if (uses_file (enc))
    {
      k->weights_id = file_sha256 (enc->weights_path, error);
      if (k->weights_id == NULL)
        return FALSE;
      k->encoder = g_strdup ("from the weights file, patch tokens of the penultimate layer");
    }
  else
    {
      k->weights_id = g_strdup_printf ("random seed %" G_GUINT64_FORMAT, enc->seed);
      VbClipConfig c;
      if (enc->layers)
        vb_clip_config_small (&c, enc->image_size, enc->width, enc->layers, enc->heads);
      else
        vb_clip_config_vit_l14 (&c, enc->image_size);
      k->encoder = g_strdup_printf ("patch %d width %d layers %d heads %d mlp %d eps %g",
                                    c.patch_size, c.width, c.layers, c.heads, c.mlp, c.eps);
    }
  k->images = g_strdup (subset->fingerprint);
  k->image_size = enc->image_size;
  g_autofree char *text = g_strdup_printf ("visionbench-features v1\nweights=%s\n"
                                           "image_size=%d\npreprocess=%s\nencoder=%s\n"
                                           "features=%s\nimages=%s\n", k->weights_id,
                                           k->image_size, PREPROCESS, k->encoder, FEATURES,
                                           k->images);
  k->key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return TRUE;
}

/* ---- layout ----------------------------------------------------------------------------- */

typedef struct {
  gsize labels, x, y, end;    /* offsets from the start of the data section */
} Layout;

static gsize
align8 (gsize v)
{
  return (v + 7) & ~(gsize) 7;
}

static Layout
layout_of (gsize n, gsize T, gsize D)
{
  Layout l;
  l.labels = 0;
  l.x = align8 (4 * n);
  l.y = l.x + align8 (2 * n * T * D);
  l.end = l.y + 4 * n * D;
  return l;
}

static char *
header_json (const CacheKey *k, int n, int T, int D)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "visionbench-features");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, k->key);
  json_builder_set_member_name (b, "weights");
  json_builder_add_string_value (b, k->weights_id);
  json_builder_set_member_name (b, "image_size");
  json_builder_add_int_value (b, k->image_size);
  json_builder_set_member_name (b, "preprocess");
  json_builder_add_string_value (b, PREPROCESS);
  json_builder_set_member_name (b, "encoder");
  json_builder_add_string_value (b, k->encoder);
  json_builder_set_member_name (b, "features");
  json_builder_add_string_value (b, FEATURES);
  json_builder_set_member_name (b, "images");
  json_builder_add_string_value (b, k->images);
  json_builder_set_member_name (b, "n");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "tokens");
  json_builder_add_int_value (b, T);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, D);
  json_builder_set_member_name (b, "sections");
  json_builder_add_string_value (b, "labels i32[n], X f16[n,tokens,width], "
                                    "y f32[n,width]; 8-byte aligned; SHA-256 trailer");
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* ---- reading ---------------------------------------------------------------------------- */

static gboolean
str_member_is (JsonObject *o, const char *name, const char *want)
{
  JsonNode *n = json_object_get_member (o, name);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         && g_strcmp0 (json_node_get_string (n), want) == 0;
}

static gint64
int_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return -1;
  return json_node_get_int (n);
}

/* Maps and checks the file; NULL with *why set when it cannot be used. */
static gboolean
read_cache (const char *path, const CacheKey *k, const VbStudySubset *subset,
            VbFeatureSet *out, char **why)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GMappedFile) mf = g_mapped_file_new (path, FALSE, &err);
  if (mf == NULL)
    {
      *why = g_strdup (err->message);
      return FALSE;
    }
  gsize size = g_mapped_file_get_length (mf);
  const guint8 *base = (const guint8 *) g_mapped_file_get_contents (mf);
  if (size < 16 + SUM_BYTES || memcmp (base, MAGIC, 8) != 0)
    {
      *why = g_strdup ("not a VisionBench feature file (bad magic or too short)");
      return FALSE;
    }
  guint64 hlen;
  memcpy (&hlen, base + 8, 8);
  hlen = GUINT64_FROM_LE (hlen);
  if (hlen > size - 16 - SUM_BYTES || hlen % 8 != 0)
    {
      *why = g_strdup_printf ("header length %" G_GUINT64_FORMAT " does not fit the file",
                              hlen);
      return FALSE;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  if (!json_parser_load_from_data (parser, (const char *) base + 16, (gssize) hlen, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      *why = g_strdup ("the header is not a JSON object");
      return FALSE;
    }
  JsonObject *h = json_node_get_object (root);
  if (!str_member_is (h, "format", "visionbench-features") || int_member (h, "version") != 1
      || !str_member_is (h, "key", k->key) || !str_member_is (h, "weights", k->weights_id)
      || int_member (h, "image_size") != k->image_size
      || !str_member_is (h, "preprocess", PREPROCESS)
      || !str_member_is (h, "encoder", k->encoder) || !str_member_is (h, "features", FEATURES)
      || !str_member_is (h, "images", k->images))
    {
      *why = g_strdup ("its keys do not match this run's weights, preprocessing, encoder "
                       "or images");
      return FALSE;
    }
  gint64 n = int_member (h, "n"), T = int_member (h, "tokens"), D = int_member (h, "width");
  if (n != vb_study_subset_size (subset) || T < 1 || T > 4096 || D < 1 || D > 16384)
    {
      *why = g_strdup ("its sizes do not match the selected images");
      return FALSE;
    }
  Layout l = layout_of ((gsize) n, (gsize) T, (gsize) D);
  if (16 + hlen + l.end + SUM_BYTES != size)
    {
      *why = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes, expected %" G_GUINT64_FORMAT
                              " (truncated or padded)", size, 16 + hlen + l.end + SUM_BYTES);
      return FALSE;
    }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, base, (gssize) (size - SUM_BYTES));
  guint8 digest[SUM_BYTES];
  gsize dlen = SUM_BYTES;
  g_checksum_get_digest (sum, digest, &dlen);
  if (memcmp (digest, base + size - SUM_BYTES, SUM_BYTES) != 0)
    {
      *why = g_strdup ("its checksum does not match (corrupt)");
      return FALSE;
    }
  const guint8 *data = base + 16 + hlen;
  for (gint64 i = 0; i < n; i++)
    {
      gint32 lab;
      memcpy (&lab, data + l.labels + 4 * i, 4);
      if (GINT32_FROM_LE (lab) != g_array_index (subset->label, int, i))
        {
          *why = g_strdup ("its labels differ from the selected images'");
          return FALSE;
        }
    }
  out->n = (int) n;
  out->tokens = (int) T;
  out->width = (int) D;
  out->x = (const guint16 *) (data + l.x);
  out->y = (const float *) (data + l.y);
  out->file = g_steal_pointer (&mf);
  return TRUE;
}

/* ---- extraction --------------------------------------------------------------------------- */

typedef struct {
  FILE       *f;
  GChecksum  *sum;
  gboolean    failed;
} Writer;

static void
put (Writer *w, const void *p, gsize n)
{
  if (w->failed || n == 0)
    return;
  if (fwrite (p, 1, n, w->f) != n)
    w->failed = TRUE;
  g_checksum_update (w->sum, p, (gssize) n);
}

static void
pad_to (Writer *w, gsize done, gsize target)
{
  static const guint8 zeros[8] = { 0 };
  if (target > done)
    put (w, zeros, target - done);
}

static VbClip *
make_encoder (const VbFeatureEncoder *enc, GError **error)
{
  if (uses_file (enc))
    return vb_clip_new_from_file (enc->weights_path, 0, error);
  VbClipConfig c;
  if (enc->layers)
    vb_clip_config_small (&c, enc->image_size, enc->width, enc->layers, enc->heads);
  else
    vb_clip_config_vit_l14 (&c, enc->image_size);
  VbClip *m = vb_clip_new (&c, error);
  if (m != NULL)
    vb_clip_init_random (m, enc->seed);
  return m;
}

static gboolean
extract (const VbStudySubset *subset, const VbFeatureEncoder *enc, const CacheKey *k,
         const char *path, const VbTrainHooks *hooks, GError **error)
{
  g_autoptr (VbClip) model = make_encoder (enc, error);
  if (model == NULL || (enc->ops != NULL && !vb_clip_use_backend (model, enc->ops, error)))
    return FALSE;
  const VbClipConfig *c = vb_clip_config (model);
  if (c->image_size != enc->image_size)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH,
                   "%s is a %d px tower; the run asks for %d px (data.img_size)",
                   enc->weights_path, c->image_size, enc->image_size);
      return FALSE;
    }
  g_atomic_int_inc (&n_extractions);
  int n = vb_study_subset_size (subset), S = c->image_size, D = c->width;
  int T = vb_clip_config_grid (c) * vb_clip_config_grid (c), B = MAX (1, enc->batch);
  Layout l = layout_of ((gsize) n, (gsize) T, (gsize) D);

  g_autofree char *header = header_json (k, n, T, D);
  gsize hlen = align8 (strlen (header));
  g_autofree char *hpad = g_malloc (hlen);
  memset (hpad, ' ', hlen);
  memcpy (hpad, header, strlen (header));

  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  Writer w = { fopen (tmp, "wb"), g_checksum_new (G_CHECKSUM_SHA256), FALSE };
  if (w.f == NULL)
    {
      int errsv = errno;
      g_checksum_free (w.sum);
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot write %s: %s", tmp,
                   g_strerror (errsv));
      return FALSE;
    }
  guint64 hlen_le = GUINT64_TO_LE ((guint64) hlen);
  put (&w, MAGIC, 8);
  put (&w, &hlen_le, 8);
  put (&w, hpad, hlen);
  for (int i = 0; i < n; i++)
    {
      gint32 lab = GINT32_TO_LE (g_array_index (subset->label, int, i));
      put (&w, &lab, 4);
    }
  pad_to (&w, 4 * (gsize) n, l.x);

  g_autofree float *pixels = g_new (float, (gsize) B * 3 * S * S);
  g_autofree float *feats = g_new (float, (gsize) B * T * D);
  g_autofree guint16 *half = g_new (guint16, (gsize) B * T * D);
  g_autofree float *pooled = g_new (float, (gsize) n * D);
  VbProgress prog = { .phase = "features", .total_steps = n, .val_top1 = NAN };
  gboolean ok = TRUE;
  for (int i0 = 0; i0 < n && ok; i0 += B)
    {
      int bs = MIN (B, n - i0);
      if (hooks && hooks->should_cancel && hooks->should_cancel (hooks->user_data))
        {
          g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED,
                       "cancelled while extracting features (%d of %d images)", i0, n);
          ok = FALSE;
          break;
        }
      for (int b = 0; b < bs && ok; b++)
        {
          g_auto (VbImage) img = { 0 };
          ok = vb_study_subset_image (subset, i0 + b, &img, error)
               && vb_clip_preprocess (&img, S, FALSE, pixels + (gsize) b * 3 * S * S, error);
        }
      VbClipOutputs outs = { .features = feats, .pooled = pooled + (gsize) i0 * D };
      if (!ok || !vb_clip_forward (model, pixels, bs, &outs, error))
        {
          ok = FALSE;
          break;
        }
      gsize m = (gsize) bs * T * D;
      for (gsize q = 0; q < m; q++)
        half[q] = GUINT16_TO_LE (vb_float_to_half (feats[q]));
      put (&w, half, m * 2);
      prog.step = i0 + bs;
      if (hooks && hooks->progress)
        hooks->progress (&prog, hooks->user_data);
    }
  if (ok)
    {
      pad_to (&w, 2 * (gsize) n * T * D, align8 (2 * (gsize) n * T * D));
      put (&w, pooled, 4 * (gsize) n * D);
      guint8 digest[SUM_BYTES];
      gsize dlen = SUM_BYTES;
      g_checksum_get_digest (w.sum, digest, &dlen);
      if (!w.failed && fwrite (digest, 1, SUM_BYTES, w.f) != SUM_BYTES)
        w.failed = TRUE;
      if (fflush (w.f) != 0 || fsync (fileno (w.f)) != 0)
        w.failed = TRUE;
    }
  g_checksum_free (w.sum);
  if (fclose (w.f) != 0)
    w.failed = TRUE;
  if (ok && w.failed)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "cannot write the feature cache %s (disk full?)", tmp);
      ok = FALSE;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      int errsv = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot rename %s to %s: %s",
                   tmp, path, g_strerror (errsv));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}

gboolean
vb_feature_set_get (const VbStudySubset *subset, const VbFeatureEncoder *enc,
                    const VbTrainHooks *hooks, VbFeatureSet *out, GError **error)
{
  memset (out, 0, sizeof *out);
  g_auto (CacheKey) k = { 0 };
  if (!make_key (subset, enc, &k, error))
    return FALSE;
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "visionbench", "features",
                                           NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO, "cannot create %s: %s", dir,
                   g_strerror (errsv));
      return FALSE;
    }
  g_autofree char *leaf = g_strconcat (k.key, ".vbfeat", NULL);
  out->path = g_build_filename (dir, leaf, NULL);
  out->key = g_strdup (k.key);
  out->random_weights = !uses_file (enc);
  out->weights = uses_file (enc) ? g_strdup_printf ("weights from %s", enc->weights_path)
                                 : g_strdup_printf ("random weights (seed %" G_GUINT64_FORMAT
                                                    ")", enc->seed);
  out->encoder = uses_file (enc)
                 ? g_strdup_printf ("CLIP (shape from the weights file) %d px", enc->image_size)
                 : enc->layers
                 ? g_strdup_printf ("small CLIP (layers %d, width %d, heads %d) %d px",
                                    enc->layers, enc->width, enc->heads, enc->image_size)
                 : g_strdup_printf ("CLIP ViT-L/14 %d px", enc->image_size);

  g_autofree char *why = NULL;
  if (g_file_test (out->path, G_FILE_TEST_EXISTS))
    {
      if (read_cache (out->path, &k, subset, out, &why))
        {
          out->status = g_strdup ("reused");
          return TRUE;
        }
      g_debug ("feature cache %s rebuilt: %s", out->path, why);
    }
  if (!extract (subset, enc, &k, out->path, hooks, error))
    return FALSE;
  g_autofree char *why2 = NULL;
  if (!read_cache (out->path, &k, subset, out, &why2))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_IO,
                   "the feature cache just written (%s) does not read back: %s", out->path,
                   why2);
      return FALSE;
    }
  out->status = why ? g_strdup_printf ("rebuilt (%s)", why) : g_strdup ("built");
  return TRUE;
}
