/* vb-rng.h: a small, seedable, portable random generator (xoshiro256** seeded by
 * splitmix64). Same seed → same stream on every machine, which is what makes runs
 * reproducible; GLib's GRand is not used because its stream is not documented as
 * stable across versions. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  uint64_t s[4];
} VbRng;

void     vb_rng_init      (VbRng *rng, uint64_t seed);
uint64_t vb_rng_next_u64  (VbRng *rng);
/* uniform in [0, 1) with 24 random bits */
float    vb_rng_uniform   (VbRng *rng);
/* uniform in [lo, hi) */
float    vb_rng_range     (VbRng *rng, float lo, float hi);
/* uniform integer in [0, n), n > 0, without modulo bias */
uint64_t vb_rng_below     (VbRng *rng, uint64_t n);
/* standard normal (Box–Muller, double internally) */
float    vb_rng_normal    (VbRng *rng);
/* normal(0, std) redrawn until |x| ≤ bound (PyTorch trunc_normal_ with a = −bound, b = bound) */
float    vb_rng_trunc_normal (VbRng *rng, float std, float bound);
/* Fisher–Yates shuffle of n ints */
void     vb_rng_shuffle_int (VbRng *rng, int *v, size_t n);
/* an independent stream derived from this one (for worker threads) */
void     vb_rng_split     (VbRng *rng, VbRng *child, uint64_t stream_id);

G_END_DECLS
