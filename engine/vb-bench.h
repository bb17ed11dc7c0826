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
  gboolean profile;       /* time each kind of op over the timed steps (vb-profile.h) */
  const char *device;     /* "cpu" (NULL) or "cuda"; a GPU step is timed to its end */
  const char *precision;  /* "fp32" (NULL, strict), or on the GPU "tf32" (TF32 tensor-core
                           * products) or "bf16" (bf16 tensor-core products, fp32
                           * accumulation); tensors are fp32 in memory in every mode */
  int  gpus;              /* 0: one device; N ≥ 1: data parallel over N GPUs through NCCL,
                           * `batch` images on each (weak scaling, as the official recipe's
                           * 128 per GPU), gradients averaged during the backward */
} VbBenchProtocol;

typedef struct {
  double img_per_s;       /* batch / median */
  double median_s, iqr_s; /* per step */
  double min_s;           /* fastest step: the least disturbed on a shared machine */
  int64_t activation_bytes;
  int64_t peak_device_bytes; /* GPU: most device memory in use after a step, minus what was in
                              * use before the model existed (0 on the CPU) */
  char   *profile;        /* per-op table when protocol->profile, else NULL */
  const char *launch;     /* how the timed steps ran: "CUDA graph" or "op by op" (static) */
  int    gpus;            /* data parallel: the world's GPUs (img_per_s is then the world's,
                           * world · batch / rank 0's median step; 0 on one device) */
  double per_gpu_img_per_s;  /* batch / median, each GPU's share */
} VbBenchResult;

void     vb_bench_result_clear (VbBenchResult *result);

gboolean vb_bench_run (const VbVmambaConfig *cfg, const VbBenchProtocol *protocol,
                       VbBenchResult *result, GError **error);
/* The protocol card as JSON (for the store and for --json output); with a result, it
 * also says how the steps were launched. */
char    *vb_bench_protocol_json (const VbBenchProtocol *protocol, const VbBenchResult *result);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbBenchResult, vb_bench_result_clear)

G_END_DECLS
