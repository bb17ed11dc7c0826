/* vb-projector-bench.h: a projector's inference time under clip-projectors.md §5's
 * workload as BENCHMARKS.md's PyTorch reference runs it: one forward over `inputs` images
 * of `tokens` feature tokens each (200 × 576 at 336 px), the features already where the
 * ops run, `warmup` untimed forwards, then `timed` forwards timed one by one to their end;
 * the figure is the median forward time. Precision fp32 (strict) or tf32 on fp32 tensors,
 * or bf16 storage (vb-projector-bf16.h: bf16 features, weights and outputs). LoRA runs
 * merged, as at inference. Random weights (times do not depend on them). */
#pragma once

#include "vb-bench.h"

G_BEGIN_DECLS

typedef struct {
  int inputs, tokens;         /* 200, 576 */
  int warmup, timed, threads;
  const char *device;         /* "cpu" or "cuda" */
  const char *precision;      /* "fp32", "tf32" (GPU), "bf16" (bf16 storage) */
} VbProjBenchProtocol;

/* name: proj-linear … proj-lora at the study widths. result: median_s and iqr_s per
 * forward, img_per_s = inputs / median, peak_device_bytes on a GPU. */
gboolean vb_projector_bench_run (const char *name, const VbProjBenchProtocol *protocol,
                                 VbBenchResult *result, GError **error);
char    *vb_projector_bench_protocol_json (const char *name, const VbProjBenchProtocol *protocol);

G_END_DECLS
