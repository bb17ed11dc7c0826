/* vb-runs-gpus.h: the Runs page's "GPUs" section for a data-parallel run: a compact
 * table (Rank | GPU | img/s | Memory (GiB)) from the run's "train gpu R" throughput rows,
 * one row per rank in rank order, and a caption with the per-GPU and global batch from
 * their protocol cards. Hidden while the run has no such rows. The cards are untrusted:
 * a missing or mistyped field shows "–". */
#pragma once

#include <adwaita.h>

#include "vb-store.h"

G_BEGIN_DECLS

#define VB_TYPE_RUNS_GPUS (vb_runs_gpus_get_type ())
G_DECLARE_FINAL_TYPE (VbRunsGpus, vb_runs_gpus, VB, RUNS_GPUS, AdwBin)

GtkWidget  *vb_runs_gpus_new             (void);
/* Shows the "train gpu R" rows of throughput (VbThroughputRecord*, as
 * vb_store_get_throughput() returns them; NULL is accepted) and hides the section when
 * there are none. Rebuilds the table only when what it shows changed. */
void        vb_runs_gpus_set_throughput  (VbRunsGpus *self,
                                          GPtrArray  *throughput);
/* What the table shows (for tests): the number of rank rows; a cell by row and column
 * name ("Rank", "GPU", "img/s", "Memory (GiB)"; NULL for another name or row, else
 * g_free it); the whole table as text, a line per row, cells separated by tabs (g_free
 * it); the caption. */
guint       vb_runs_gpus_get_n_rows      (VbRunsGpus *self);
char       *vb_runs_gpus_dup_cell        (VbRunsGpus *self,
                                          guint       row,
                                          const char *column);
char       *vb_runs_gpus_dup_text        (VbRunsGpus *self);
const char *vb_runs_gpus_get_caption     (VbRunsGpus *self);

G_END_DECLS
