/* vb-compare.h: the side-by-side table of runs (the study's Model | Dirs | ImgSize |
 * Top-1 | Top-5 | img/s table), with deltas against a baseline run, rendered as an
 * aligned text table, CSV, Markdown or LaTeX. The GUI's Compare page uses the same rows. */
#pragma once

#include "vb-clip-profile.h"
#include "vb-store.h"

G_BEGIN_DECLS

typedef enum {
  VB_TABLE_TEXT,
  VB_TABLE_CSV,
  VB_TABLE_MARKDOWN,
  VB_TABLE_LATEX,
} VbTableFormat;

gboolean vb_table_format_from_string (const char *s, VbTableFormat *out);

typedef struct {
  gint64  run_id;
  char   *name;
  char   *model;          /* "VMamba dims 24 depths 1-1-2-1" */
  char   *scan;           /* label, e.g. "4-dir (Cross-Scan)" */
  int     img_size;
  gint64  params;
  double  top1, top5;     /* NAN when the run has no evaluation */
  double  train_img_per_s, eval_img_per_s;   /* NAN when unknown */
  char   *status;
  /* projector-study runs (model.arch "projector"; model holds the projector's name) */
  gboolean projector;
  gint64  seed;
  double  test_loss, proxy_top1;      /* NAN when the run left no result */
  double  macs_per_token;             /* NAN when unknown */
  double  runtime_ms;                 /* §5 median per forward over 200 inputs; NAN unknown */
  char   *encoder;                    /* "CLIP ViT-L/14 224 px, random weights (seed 0)" */
  gboolean random_encoder;
  double  ridge_loss, ridge_top1;     /* §4.6 ridge control of the run; NAN without one */
  double  ridge_params, ridge_macs;   /* its cost: Linear's at the encoder width */
  /* LowRank runs: §4.6 reduced-rank control (Mode A) or §4.4 PCA control (Mode B), the
   * one the run has; NAN (rank 0) without one */
  int     lowrank_rank;
  double  lowrank_loss, lowrank_top1, lowrank_params, lowrank_macs;
  char   *warning;                    /* Mode B's interpretation warning (§4.4), or NULL */
  /* clip-profile runs (model.arch "clip-profile"): the result file, NULL without one */
  gboolean clip_profile;
  VbClipProfile *profile;
} VbCompareRow;

/* Rows for the given runs, in order. */
GPtrArray *vb_compare_rows (VbStore *store, const gint64 *run_ids, guint n, GError **error);
/* baseline_index: the row the Δ columns compare against (-1: no Δ columns). When every
 * row is a projector-study run, the study's table instead: Projector | Seed | Test loss |
 * Proxy Top-1 | Params (M) | FLOPs (M) | Runtime ms | Encoder, with a notice when the
 * encoder had random weights and, in text and Markdown, mean ± std over seeds. When
 * every row is a clip-profile run: per resolution, Stage | ms | % of total | MACs (G) |
 * GMAC/s, encoder and projector totals, and (text) a stacked bar a line per resolution. */
char      *vb_compare_render (GPtrArray *rows, int baseline_index, VbTableFormat format);

G_END_DECLS
