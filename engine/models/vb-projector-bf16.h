/* vb-projector-bf16.h: a projector's inference in bf16 storage, as PyTorch eager bf16 runs
 * it for clip-projectors.md §5's runtime: the input, the weights and the output in bf16,
 * every product on bf16 tensor cores accumulating in fp32 and rounded once where it is
 * stored, biases (held at bf16 precision, as a module cast to bf16 holds them) added
 * before that rounding; LoRA runs merged (W₀ + (α/r)·B·A rounded once). Intermediates
 * are bf16 too: LowRank's t = V·x, the MLP's h = W₁·x + b₁ and GELU(h). The Gated
 * projector runs as one product of its two weights, the gate σ(a) ⊙ v in its epilogue from
 * the fp32 sums, rounded once (their rows interleaved by 8: linear_b16's
 * VB_LINEAR_B16_GATE); where out_f is not a multiple of 8, stacked, [a | v] = x·[W_a; W_v]ᵀ +
 * [b_a; b_v] rounded to bf16, then the gate in fp32, rounded once.
 *
 * The twin copies the projector's weights and biases when made: make it again after they
 * change.
 * Every tensor lives on the projector's backend (the CPU's bf16 ops are the reference:
 * widen exactly, run the fp32 op, round once). */
#pragma once

#include "vb-projector.h"

G_BEGIN_DECLS

typedef struct _VbProjBf16 VbProjBf16;

/* NULL with an error when the backend lacks the bf16 ops or the room */
VbProjBf16 *vb_proj_bf16_new     (VbProjector *p, GError **error);
void        vb_proj_bf16_free    (VbProjBf16 *b);
/* y (rows, out_f) = f(x (rows, in_f)), bf16 in the backend's memory; queued on the
 * backend (a GPU's work is waited for by the caller) */
gboolean    vb_proj_bf16_forward (VbProjBf16 *b, VbBf16 *y, const VbBf16 *x, int64_t rows,
                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbProjBf16, vb_proj_bf16_free)

G_END_DECLS
