/* vb-projector-result.c: a projector-study run's result file (projector-result.json):
 * what it measured, how, and with which encoder, read back by compare. */
#include "config.h"

#include <math.h>

#include "vb-projector-study-private.h"

/* the builder's shorthands, for the result and its Mode A part */
#define STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define NUM(k, v) (json_builder_set_member_name (b, k), \
                   isfinite (v) ? json_builder_add_double_value (b, v) \
                                : json_builder_add_null_value (b))
#define OBJ(k) (json_builder_set_member_name (b, k), json_builder_begin_object (b))

/* Mode A's test section and the §4.6 controls */
static void
write_alignment_sections (JsonBuilder *b, const VbStudyOutcome *o)
{
  OBJ ("test");
  NUM ("loss", o->test.loss);
  NUM ("cos", o->test.cos);
  NUM ("std_mse", o->test.std_mse);
  NUM ("r2", o->test.r2);
  NUM ("proxy_top1", o->probe_z);
  NUM ("proxy_top1_true_y", o->probe_y);
  NUM ("recovery", (o->probe_z - 10.0) / (o->probe_y - 10.0));
  STR ("proxy_method", "linear probe: logistic regression on standardised train-split ẑ, "
                       "accuracy on test (§4.3 fallback; no CLIP text embeddings shipped)");
  NUM ("target_head_top1", o->head_z);
  NUM ("target_head_top1_true_y", o->head_y);
  STR ("target_head_method", "logistic regression trained on unit-norm train-split y, "
                             "applied to unit-norm test ẑ (a head fixed in target space, "
                             "as zero-shot's text embeddings are)");
  json_builder_end_object (b);
  OBJ ("identity_control");
  NUM ("loss", o->identity.loss);
  NUM ("proxy_top1", o->probe_identity);
  json_builder_end_object (b);
  OBJ ("ridge_control");
  STR ("method", "closed-form ridge from mean-pooled X to standardised y: (XᵀX + λI)W = XᵀY "
                 "by Cholesky, X centred; the Linear family's MSE optimum (§4.6), fitted on "
                 "the true pairs");
  NUM ("lambda", o->ridge_lambda);
  INT ("params", (gint64) o->fs->width * o->fs->width + o->fs->width);
  INT ("macs_per_token", (gint64) o->fs->width * o->fs->width);
  NUM ("normal_equations_residual", o->ridge_residual);
  NUM ("train_std_mse", o->ridge_train_std_mse);
  NUM ("loss", o->ridge.loss);
  NUM ("cos", o->ridge.cos);
  NUM ("std_mse", o->ridge.std_mse);
  NUM ("r2", o->ridge.r2);
  NUM ("proxy_top1", o->probe_ridge);
  NUM ("target_head_top1", o->head_ridge);
  json_builder_end_object (b);
  if (o->rrr_rank > 0)
    {
      gint64 D = o->fs->width;
      OBJ ("rrr_control");
      STR ("method", "reduced-rank regression: the ridge W projected onto the top-r "
                     "eigenvectors V_r of ŶᵀŶ (Ŷ = XW, subspace iteration), W·V_r·V_rᵀ; the "
                     "LowRank family's MSE optimum (§4.6), fitted on the true pairs");
      INT ("rank", o->rrr_rank);
      /* LowRank's 2·r·D, plus the free intercept every closed-form control has */
      INT ("params", 2 * (gint64) o->rrr_rank * D + D);
      INT ("macs_per_token", 2 * (gint64) o->rrr_rank * D);
      INT ("eig_iterations", o->rrr_eig.iterations);
      NUM ("eig_residual", o->rrr_eig.residual);
      NUM ("train_std_mse", o->rrr_train_std_mse);
      NUM ("loss", o->rrr.loss);
      NUM ("cos", o->rrr.cos);
      NUM ("std_mse", o->rrr.std_mse);
      NUM ("r2", o->rrr.r2);
      NUM ("proxy_top1", o->probe_rrr);
      NUM ("target_head_top1", o->head_rrr);
      json_builder_end_object (b);
    }
}

/* §4.4's control for a LowRank Mode B run */
static void
write_pca_control (JsonBuilder *b, const VbStudyOutcome *o)
{
  gint64 D = o->fs->width;
  OBJ ("pca_control");
  STR ("method", "rank-r PCA of the tokens standardised with train-split statistics: top-r "
                 "eigenvectors V_r of the train covariance, reconstruction s·V_r·V_rᵀ on "
                 "test; the LowRank family's Mode B optimum (§4.4)");
  INT ("rank", o->pca.rank);
  INT ("params", 2 * (gint64) o->pca.rank * D + D);
  INT ("macs_per_token", 2 * (gint64) o->pca.rank * D);
  INT ("eig_iterations", o->pca.eig.iterations);
  NUM ("eig_residual", o->pca.eig.residual);
  NUM ("train_std_mse", o->pca.train_std_mse);
  NUM ("loss", o->pca.test_std_mse);
  NUM ("std_mse", o->pca.test_std_mse);
  NUM ("r2", o->pca.test_r2);
  json_builder_end_object (b);
}

gboolean
vb_projector_study_write_result (const char *path, const VbStudyOutcome *o, GError **error)
{
  const VbProjConfig *pc = vb_projector_config (o->p);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  STR ("format", "visionbench-projector-result");
  INT ("version", 1);
  STR ("projector", vb_projector_kind_name (pc->kind));
  if (pc->kind == VB_PROJ_LORA)
    {
      /* §4.5: which frozen W₀, b₀ the adapters were trained on */
      OBJ ("lora_base");
      STR ("kind", vb_lora_base_name (o->lora_base));
      STR ("label", vb_lora_base_label (o->lora_base));
      if (o->lora_base == VB_LORA_BASE_LINEAR_0_4)
        {
          STR ("method", "proj-linear trained with this run's recipe and seed on the training "
                         "images of classes 0–4 only (best validation loss on their validation "
                         "images kept), its W and b copied into LoRA's frozen base; A and B "
                         "then trained on all classes");
          INT ("train_images", o->base_train_images);
          INT ("val_images", o->base_val_images);
          INT ("best_epoch", o->base_best_epoch);
          NUM ("best_val_loss", o->base_best_val);
          NUM ("last_train_loss", o->base_train_loss);
        }
      else
        STR ("method", "identity with zero bias, frozen");
      json_builder_end_object (b);
    }
  gboolean recon = o->cfg->proj.reconstruction;
  if (recon)
    {
      STR ("mode", "B — reconstruction (x̂_t = f(x_t) against x_t, MSE on tokens "
                   "standardised with train-split statistics)");
      STR ("warning", VB_RECON_WARNING);
    }
  else
    {
      STR ("mode", "A — alignment proxy (ẑ = mean_t f(x_t), loss 1 − cos(ẑ, pooler_output))");
      STR ("note", "Mode A lives inside CLIP: it does not measure compatibility with an LLM's "
                   "embedding space");
    }
  json_builder_set_member_name (b, "shuffled_pairs");
  json_builder_add_boolean_value (b, o->cfg->proj.shuffled_pairs);
  INT ("seed", (gint64) o->cfg->seed);
  OBJ ("encoder");
  STR ("model", o->fs->encoder);
  STR ("weights", o->fs->weights);
  json_builder_set_member_name (b, "random_weights");
  json_builder_add_boolean_value (b, o->fs->random_weights);
  INT ("image_size", o->cfg->img_size);
  INT ("tokens", o->fs->tokens);
  INT ("width", o->fs->width);
  STR ("features", "patch tokens of hidden_states[-2] (f16 cache), target pooler_output");
  STR ("cache", o->fs->path);
  STR ("cache_status", o->fs->status);
  json_builder_end_object (b);
  OBJ ("data");
  STR ("dataset", "cifar10");
  STR ("fingerprint", o->subset->fingerprint);
  INT ("train", o->subset->count[VB_SPLIT_TRAIN]);
  INT ("val", o->subset->count[VB_SPLIT_VAL]);
  INT ("test", o->subset->count[VB_SPLIT_TEST]);
  json_builder_end_object (b);
  OBJ ("cost");
  INT ("params", vb_projector_n_params (o->p));
  INT ("trainable", vb_projector_n_trainable (o->p));
  INT ("macs_per_token", vb_projector_macs_per_token (pc, FALSE));
  INT ("macs_per_token_merged", vb_projector_macs_per_token (pc, TRUE));
  INT ("macs_per_image", vb_projector_macs_per_token (pc, FALSE) * o->fs->tokens);
  INT ("param_bytes", (gint64) sizeof (float) * vb_projector_n_params (o->p));
  INT ("train_state_bytes", (gint64) 3 * sizeof (float) * vb_projector_n_trainable (o->p));
  INT ("train_activation_bytes", o->train_act_bytes);
  INT ("runtime_activation_bytes", o->runtime_act_bytes);
  json_builder_end_object (b);
  OBJ ("train");
  INT ("epochs", o->cfg->epochs);
  INT ("best_epoch", o->best_epoch);
  NUM ("best_val_loss", o->best_val);
  NUM ("last_train_loss", o->train_loss);
  if (recon)
    {
      NUM ("last_raw_mse", o->recon_train.raw_mse);
      NUM ("last_cos", o->recon_train.cos);
    }
  else
    NUM ("std_mse", o->train_std_mse);   /* the kept model on the train split */
  if (o->cfg->proj.shuffled_pairs)
    STR ("targets", "shuffled across training images (seeded permutation, §4.6 control)");
  json_builder_end_object (b);
  if (recon)
    {
      OBJ ("test");
      NUM ("loss", o->recon_test.std_mse);
      NUM ("std_mse", o->recon_test.std_mse);
      NUM ("r2", o->recon_test.r2);
      NUM ("cos", o->recon_test.cos);
      NUM ("raw_mse", o->recon_test.raw_mse);
      json_builder_end_object (b);
      if (o->pca.rank > 0)
        write_pca_control (b, o);
    }
  else
    write_alignment_sections (b, o);
  OBJ ("runtime");
  NUM ("median_ms", o->runtime_ms);
  NUM ("merged_median_ms", o->runtime_merged_ms);
  json_builder_end_object (b);
  json_builder_end_object (b);
#undef STR
#undef INT
#undef NUM
#undef OBJ
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_file (gen, path, error);
}
