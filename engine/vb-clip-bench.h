/* vb-clip-bench.h: the CLIP vision tower's inference throughput under the protocol of
 * vb-bench.h (BENCHMARKS.md: synthetic pixels already where the ops run, `warmup`
 * untimed forwards, then `timed` forwards timed one by one to their end, img/s = batch /
 * median forward time), on the CPU or the GPU, in strict fp32 or with TF32 / bf16
 * tensor-core products. The tower has random weights (times do not depend on them). */
#pragma once

#include "vb-bench.h"
#include "vb-clip.h"

G_BEGIN_DECLS

/* llava: LLaVA's path (layers − 1 layers, the penultimate state's patch tokens);
 * otherwise the whole tower, last_hidden_state and the pooled output, as BENCHMARKS.md's
 * Hugging Face reference runs it. protocol->train must be FALSE (the tower is frozen). */
gboolean vb_clip_bench_run (const VbClipConfig *cfg, gboolean llava,
                            const VbBenchProtocol *protocol, VbBenchResult *result,
                            GError **error);
/* The protocol card as JSON. */
char    *vb_clip_bench_protocol_json (const VbClipConfig *cfg, gboolean llava,
                                      const VbBenchProtocol *protocol);

G_END_DECLS
