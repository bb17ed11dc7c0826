/* The training loop end to end on real Fashion-MNIST (a few hundred images): the loss
 * goes down, the same seed reproduces the same numbers, a resumed run continues
 * bit-identically, a diverging run fails and keeps its last good checkpoint, a
 * cancelled run says so, and official .pth weights load for fine-tuning. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "vb-checkpoint.h"
#include "vb-error.h"
#include "vb-pth.h"
#include "vb-safetensors.h"
#include <string.h>
#include "vb-store.h"
#include "vb-trainer.h"
#include "vb-test-fmnist.h"

static const char *tiny_config =
  "{\"run_name\": \"t\", \"device\": \"cpu\","
  " \"model\": {\"dims\": 8, \"depths\": [1, 1], \"scan\": \"4dir\", \"drop_path\": 0.1},"
  " \"data\": {\"dataset\": \"fashion-mnist\", \"img_size\": 16, \"train_limit\": 320,"
  "          \"val_limit\": 100, \"workers\": 1, \"scale_min\": 0.5},"
  " \"train\": {\"epochs\": 2, \"batch_size\": 16, \"lr\": 0.005, \"warmup_epochs\": 0.2,"
  "           \"eval_batch_size\": 50, \"threads\": 2, \"seed\": 7}}";

typedef struct {
  GArray *losses;
  int cancel_after;   /* steps; 0 = never */
} Recorder;

static void
record_cb (const VbProgress *p, gpointer user_data)
{
  Recorder *r = user_data;
  if (g_str_equal (p->phase, "train") && p->step > (int64_t) r->losses->len)
    {
      double loss = p->loss;
      g_array_append_val (r->losses, loss);
    }
}

static gboolean
cancel_cb (gpointer user_data)
{
  Recorder *r = user_data;
  return r->cancel_after > 0 && (int) r->losses->len >= r->cancel_after;
}

static gboolean
train (const char *json, const char *ckpt_dir, const char *resume, Recorder *rec,
       VbTrainResult *result, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (vb_run_config_from_json (&cfg, json_node_get_object (json_parser_get_root (parser)),
                                          NULL));
  VbTrainHooks hooks = { record_cb, cancel_cb, rec };
  return vb_train_run (&cfg, json, NULL, 0, ckpt_dir, resume, &hooks, result, error);
}

static void
test_loss_decreases_and_reproduces (void)
{
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return;
    }
  Recorder a = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  Recorder b = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  g_auto (VbTrainResult) ra = { 0 }, rb = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (train (tiny_config, NULL, NULL, &a, &ra, &error));
  g_assert_no_error (error);
  g_assert_true (train (tiny_config, NULL, NULL, &b, &rb, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (a.losses->len, ==, 40);  /* 320 images / 16 × 2 epochs */
  double first = 0, last = 0;
  for (int i = 0; i < 4; i++)
    {
      first += g_array_index (a.losses, double, i) / 4;
      last += g_array_index (a.losses, double, a.losses->len - 1 - i) / 4;
    }
  g_test_message ("loss %.4f → %.4f, top-1 %.1f%%", first, last, ra.top1);
  g_assert_cmpfloat (last, <, first - 0.1);
  g_assert_cmpfloat (ra.top1, >, 20.0);          /* chance is 10 % */
  /* the same seed and thread count give the same numbers, bit for bit */
  g_assert_cmpuint (b.losses->len, ==, a.losses->len);
  for (guint i = 0; i < a.losses->len; i++)
    g_assert_cmpfloat (g_array_index (a.losses, double, i), ==, g_array_index (b.losses, double, i));
  g_assert_cmpfloat (ra.top1, ==, rb.top1);
  g_assert_cmpint (ra.params, ==, rb.params);
  g_array_unref (a.losses);
  g_array_unref (b.losses);
}

/* The scan mode must travel from the run config to the model's forward. At the official
 * init the state path is tiny (Δ ≤ 0.1 and the D skip dominates, so the modes' logits can
 * agree to the last bit); with Δ ≈ 1.3 the routes must show. */
static void
test_scan_mode_reaches_model (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  float logits[2][10];
  const char *modes[2] = { "4dir", "2dir" };
  for (int m = 0; m < 2; m++)
    {
      g_autoptr (GString) json = g_string_new (tiny_config);
      g_autofree char *to = g_strdup_printf ("\"scan\": \"%s\"", modes[m]);
      g_string_replace (json, "\"scan\": \"4dir\"", to, 1);
      g_assert_true (json_parser_load_from_data (parser, json->str, -1, NULL));
      g_auto (VbRunConfig) cfg = { 0 };
      g_assert_true (vb_run_config_from_json (&cfg, json_node_get_object (json_parser_get_root (parser)),
                                              NULL));
      g_assert_cmpstr (vb_scan_mode_to_string (cfg.model.scan), ==, modes[m]);
      g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg.model, NULL);
      vb_vmamba_init_weights (model, 3);
      for (guint t = 0; t < vb_vmamba_n_tensors (model); t++)
        {
          const VbParamInfo *p = vb_vmamba_tensor (model, t);
          float *w = vb_vmamba_params (model) + p->offset;
          if (g_str_has_suffix (p->name, "dt_projs_bias"))
            for (int64_t i = 0; i < p->numel; i++)
              w[i] = 1.0f;
          /* make the SS2D branch and its B, C projections large enough to see */
          float gain = g_str_has_suffix (p->name, "out_proj.weight") ? 50.0f
                       : g_str_has_suffix (p->name, "x_proj_weight") ? 10.0f
                       : g_str_has_suffix (p->name, "in_proj.weight") ? 10.0f : 1.0f;
          for (int64_t i = 0; gain != 1.0f && i < p->numel; i++)
            w[i] *= gain;
        }
      float x[16 * 16 * 3];
      for (int i = 0; i < 16 * 16 * 3; i++)
        x[i] = sinf (0.37f * i);
      g_assert_true (vb_vmamba_forward (model, x, 1, 16, 16, FALSE, NULL, NULL));
      memcpy (logits[m], vb_vmamba_logits (model), sizeof logits[m]);
    }
  double diff = 0, scale = 0;
  for (int c = 0; c < 10; c++)
    {
      diff = MAX (diff, fabs (logits[0][c] - logits[1][c]));
      scale = MAX (scale, fabs (logits[0][c]));
    }
  g_test_message ("largest 4-dir vs 2-dir logit difference: %.3g of %.3g", diff, scale);
  g_assert_cmpfloat (diff, >, 1e-3 * scale);
}

static void
test_resume_is_exact (void)
{
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return;
    }
  g_autofree char *dir = g_dir_make_tmp ("vb-resume-XXXXXX", NULL);
  /* straight through, two epochs */
  Recorder full = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  g_auto (VbTrainResult) rf = { 0 };
  g_assert_true (train (tiny_config, NULL, NULL, &full, &rf, NULL));

  /* the same run cancelled after its first epoch (checkpoint written), then resumed */
  Recorder part = { g_array_new (FALSE, FALSE, sizeof (double)), full.losses->len / 2 };
  g_auto (VbTrainResult) r1 = { 0 }, r2 = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (train (tiny_config, dir, NULL, &part, &r1, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (g_file_test (r1.checkpoint_path, G_FILE_TEST_EXISTS));
  Recorder rest = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  /* the recorder counts steps from the resumed step on */
  for (guint i = 0; i < part.losses->len; i++)
    g_array_append_val (rest.losses, g_array_index (part.losses, double, i));
  g_assert_true (train (tiny_config, NULL, r1.checkpoint_path, &rest, &r2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rest.losses->len, ==, full.losses->len);
  for (guint i = 0; i < full.losses->len; i++)
    g_assert_cmpfloat (g_array_index (rest.losses, double, i), ==,
                       g_array_index (full.losses, double, i));
  g_assert_cmpfloat (r2.top1, ==, rf.top1);
  g_unlink (r1.checkpoint_path);
  g_rmdir (dir);
  g_array_unref (full.losses);
  g_array_unref (part.losses);
  g_array_unref (rest.losses);
}

static void
test_divergence_fails_and_keeps_checkpoint (void)
{
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return;
    }
  g_autofree char *dir = g_dir_make_tmp ("vb-nan-XXXXXX", NULL);
  /* one good epoch leaves a checkpoint; an absurd learning rate then blows up */
  g_autofree char *one_epoch = NULL;
  {
    g_autoptr (GString) s = g_string_new (tiny_config);
    g_string_replace (s, "\"epochs\": 2", "\"epochs\": 1", 1);
    one_epoch = g_string_free (g_steal_pointer (&s), FALSE);
  }
  Recorder r = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  g_auto (VbTrainResult) res = { 0 };
  g_assert_true (train (one_epoch, dir, NULL, &r, &res, NULL));
  g_autofree char *ckpt = g_strdup (res.checkpoint_path);
  g_autofree char *before = NULL;
  gsize before_len = 0;
  g_assert_true (g_file_get_contents (ckpt, &before, &before_len, NULL));

  g_autoptr (GString) s = g_string_new (tiny_config);
  g_string_replace (s, "\"lr\": 0.005", "\"lr\": 1e30", 1);
  g_string_replace (s, "\"warmup_epochs\": 0.2", "\"warmup_epochs\": 0.0", 1);
  g_autoptr (GError) error = NULL;
  Recorder r2 = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  g_auto (VbTrainResult) res2 = { 0 };
  g_assert_false (train (s->str, dir, ckpt, &r2, &res2, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_DIVERGED);
  g_test_message ("%s", error->message);
  /* the last good checkpoint is untouched and still loads */
  g_autofree char *after = NULL;
  gsize after_len = 0;
  g_assert_true (g_file_get_contents (ckpt, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  g_unlink (ckpt);
  g_rmdir (dir);
  g_array_unref (r.losses);
  g_array_unref (r2.losses);
}

static void
test_cancel (void)
{
  if (!vb_test_have_fashion_mnist ())
    {
      g_test_skip ("Debian's dataset-fashion-mnist is not installed");
      return;
    }
  Recorder r = { g_array_new (FALSE, FALSE, sizeof (double)), 3 };
  g_auto (VbTrainResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (train (tiny_config, NULL, NULL, &r, &res, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CANCELLED);
  g_assert_cmpuint (r.losses->len, ==, 3);
  g_array_unref (r.losses);
}

static void
test_import_official_pth (void)
{
  const char *dir = g_getenv ("VB_TEST_DATA");
  g_autofree char *path = g_build_filename (dir ? dir : "tests/data", "vmamba",
                                            "tiny-4dir-official.pth", NULL);
  g_autofree char *ref = g_build_filename (dir ? dir : "tests/data", "vmamba",
                                           "tiny-4dir.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VbTensorDict) dict = vb_weights_load (path, FALSE, &error);
  g_assert_no_error (error);
  VbVmambaConfig cfg;
  g_assert_true (vb_vmamba_config_from_dict (dict, VB_SCAN_4DIR, &cfg, path, &error));
  g_assert_cmpint (cfg.n_stages, ==, 3);
  g_assert_cmpint (cfg.dims[0], ==, 8);
  g_assert_cmpint (cfg.depths[1], ==, 2);
  g_assert_cmpint (cfg.num_classes, ==, 10);
  g_assert_cmpint (cfg.d_state, ==, 1);
  /* a K = 4 checkpoint is not lean 2-dir */
  VbVmambaConfig bad;
  g_assert_false (vb_vmamba_config_from_dict (dict, VB_SCAN_LEAN2DIR, &bad, path, NULL));

  g_autoptr (VbVmamba) model = vb_vmamba_new (&cfg, &error);
  g_assert_true (vb_vmamba_load_dict (model, dict, FALSE, path, &error));
  g_assert_no_error (error);
  /* the same values as the reference file */
  g_autoptr (VbTensorDict) want = vb_safetensors_load (ref, &error);
  g_assert_no_error (error);
  VbTensorEntry *w = vb_tensor_dict_lookup (want, "layers.1.blocks.1.op.x_proj_weight");
  const VbParamInfo *p = vb_vmamba_find_tensor (model, "layers.1.blocks.1.op.x_proj_weight");
  g_assert_cmpmem (vb_vmamba_params (model) + p->offset, p->numel * 4, w->data, w->numel * 4);

  /* strip the head to fine-tune on 20 classes */
  VbVmambaConfig ft = cfg;
  ft.num_classes = 20;
  g_autoptr (VbVmamba) model20 = vb_vmamba_new (&ft, NULL);
  g_assert_false (vb_vmamba_load_dict (model20, dict, FALSE, path, &error));
  g_assert_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "classifier.head.weight"));
  g_clear_error (&error);
  g_assert_true (vb_vmamba_load_dict (model20, dict, TRUE, path, &error));
  g_assert_no_error (error);

  /* a missing tensor is named */
  vb_tensor_dict_remove (dict, "layers.0.blocks.0.op.Ds");
  g_assert_false (vb_vmamba_load_dict (model, dict, FALSE, path, &error));
  g_assert_nonnull (strstr (error->message, "layers.0.blocks.0.op.Ds"));
}

static void
test_own_checkpoint_round_trip (void)
{
  VbVmambaConfig cfg;
  static const int d[] = { 1, 1 };
  vb_vmamba_config_scaled (&cfg, 8, d, 2, 4);
  g_autoptr (VbVmamba) a = vb_vmamba_new (&cfg, NULL);
  g_autoptr (VbVmamba) b = vb_vmamba_new (&cfg, NULL);
  vb_vmamba_init_weights (a, 1);
  vb_vmamba_init_weights (b, 2);
  g_autofree uint8_t *mask = g_new0 (uint8_t, vb_vmamba_n_params (a));
  g_autoptr (VbAdamW) oa = vb_adamw_new (vb_vmamba_n_params (a), mask, 0.05f);
  g_autoptr (VbAdamW) ob = vb_adamw_new (vb_vmamba_n_params (a), mask, 0.05f);
  for (int64_t i = 0; i < oa->n; i++)
    oa->m[i] = oa->v[i] = (float) i;
  oa->step = 17;
  g_autofree char *dir = g_dir_make_tmp ("vb-ckpt-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.safetensors", NULL);
  VbCheckpointInfo info = { 3, 42, (char *) "{\"a\": 1}", 55.5 };
  g_autoptr (GError) error = NULL;
  g_assert_true (vb_checkpoint_save (path, a, oa, &info, &error));
  g_auto (VbCheckpointInfo) got = { 0 };
  g_assert_true (vb_checkpoint_load (path, b, ob, &got, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (vb_vmamba_params (a), vb_vmamba_n_params (a) * 4, vb_vmamba_params (b),
                   vb_vmamba_n_params (b) * 4);
  g_assert_cmpmem (oa->v, oa->n * 4, ob->v, ob->n * 4);
  g_assert_cmpint (ob->step, ==, 17);
  g_assert_cmpint (got.epoch, ==, 3);
  g_assert_cmpint (got.step, ==, 42);
  g_assert_cmpstr (got.config_json, ==, "{\"a\":1}");
  /* a corrupt checkpoint is an error naming the file, not a crash */
  g_assert_true (g_file_set_contents (path, "garbage", -1, NULL));
  g_assert_false (vb_checkpoint_load (path, b, ob, NULL, &error));
  g_assert_nonnull (strstr (error->message, path));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/trainer/loss-decreases-and-reproduces", test_loss_decreases_and_reproduces);
  g_test_add_func ("/vb/trainer/scan-mode-reaches-model", test_scan_mode_reaches_model);
  g_test_add_func ("/vb/trainer/resume-is-exact", test_resume_is_exact);
  g_test_add_func ("/vb/trainer/divergence-fails-keeps-checkpoint",
                   test_divergence_fails_and_keeps_checkpoint);
  g_test_add_func ("/vb/trainer/cancel", test_cancel);
  g_test_add_func ("/vb/trainer/import-official-pth", test_import_official_pth);
  g_test_add_func ("/vb/trainer/own-checkpoint-round-trip", test_own_checkpoint_round_trip);
  return g_test_run ();
}
