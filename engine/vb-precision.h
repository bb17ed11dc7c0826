/* vb-precision.h: the runs' and benches' precision: how the matrix products compute, and
 * for VMamba whether its block products' operands are stored in bf16; the backend (and
 * the model) set up for it. */
#pragma once

#include <glib.h>

#include "vb-ops.h"
#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;          /* "fp32", "tf32", "bf16" */
  int         matmul;        /* VB_MATMUL_*: products on fp32 tensors */
  const char *card;          /* the protocol card's "precision" (the CLIP tower) */
  gboolean    bf16_storage;  /* VMamba: its block products' operands stored as bf16; the
                              * CLIP tower: its layers in bf16 (vb_clip_set_bf16) */
  const char *vmamba_card;   /* the card's "precision" for VMamba */
} VbPrecision;

/* by name (NULL: fp32, the default); NULL when unknown */
const VbPrecision *vb_precision_find (const char *name);

/* Puts an opened backend in the precision's matmul mode; FALSE with an error for an
 * unknown name or a tensor-core mode asked of the CPU. Put it back in strict fp32 when
 * done (vb_precision_reset): the context is shared. */
gboolean vb_precision_set (const VbOps *ops, const char *precision, const VbPrecision **out,
                           GError **error);
/* The same on the device named (vb_device_ops): its backend, or NULL with an error */
const VbOps *vb_precision_open  (const char *device, const char *precision,
                                 const VbPrecision **out, GError **error);
void         vb_precision_reset (const VbOps *ops);
/* VMamba in the precision: with bf16 storage its block products take bf16 operands and
 * its remaining fp32 products (convolutions, Δ projection, head) run in TF32; before the
 * model's first forward (a change plans its buffers anew) */
void         vb_precision_apply_vmamba (const VbPrecision *prec, const VbOps *ops,
                                        VbVmamba *model);

/* g_auto (VbMatmulScope) scope = { ops }: the backend back in strict fp32 when the scope
 * ends, whichever way it ends (ops NULL: nothing to do) */
typedef struct {
  const VbOps *ops;
} VbMatmulScope;

static inline void
vb_matmul_scope_clear (VbMatmulScope *scope)
{
  if (scope->ops != NULL)
    vb_precision_reset (scope->ops);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbMatmulScope, vb_matmul_scope_clear)

G_END_DECLS
