/* vb-cpu-gating.h: the sigmoid gate of the Gated projector, y = σ(a) ⊙ v
 * (clip-projectors.md §3). Kept apart from vb-cpu-ops.h so the projector work does not
 * touch the header every model shares.
 *
 * Same rules as vb-cpu-ops.h: activation gradients are written (=), no allocation,
 * results independent of the thread count.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* s[i] = σ(a[i]); y[i] = s[i] · v[i].  s may alias a (the pre-activation is not needed
 * again: the backward works from s). All arrays hold n floats. */
void vb_sigmoid_gate_forward (float *y, float *s, const float *a, const float *v, int64_t n);

/* bf16 storage, inference: y[r, c] = bf16 (σ(a)·v) with a = av[r, c], v = av[r, C + c]
 * widened (the stacked product [a | v] of the two gate weights), σ and the product in fp32
 * as above. y: rows × C, av: rows × 2C. */
void vb_sigmoid_gate_forward_bf16 (uint16_t *y, const uint16_t *av, int64_t rows, int C);

/* da[i] = dy[i] · v[i] · s[i] · (1 − s[i]);  dv[i] = dy[i] · s[i]   (both written) */
void vb_sigmoid_gate_backward (float *da, float *dv, const float *dy,
                               const float *s, const float *v, int64_t n);

#ifdef __cplusplus
}
#endif
