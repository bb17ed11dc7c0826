/* vb-bench.h: throughput under a stated protocol (BENCHMARKS.md's CPU protocol by
 * default): synthetic input already in memory, `warmup` untimed steps, then `timed`
 * steps timed one by one; img/s = batch / median step time. train = forward + loss +
 * backward + AdamW step; eval = forward only. */
#pragma once

#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct {
  int  batch, img_size, warmup, timed, threads;
  gboolean train;
} VbBenchProtocol;

typedef struct {
  double img_per_s;       /* batch / median */
  double median_s, iqr_s; /* per step */
  int64_t activation_bytes;
} VbBenchResult;

gboolean vb_bench_run (const VbVmambaConfig *cfg, const VbBenchProtocol *protocol,
                       VbBenchResult *result, GError **error);
/* The protocol card as JSON (for the store and for --json output). */
char    *vb_bench_protocol_json (const VbBenchProtocol *protocol);

G_END_DECLS
