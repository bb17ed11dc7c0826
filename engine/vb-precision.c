/* vb-precision.c: the benches' precisions (vb-precision.h). */
#include "config.h"

#include "vb-precision.h"

#include "vb-device.h"
#include "vb-error.h"

static const VbPrecision precisions[] = {
  { "fp32", VB_MATMUL_FP32, "fp32", FALSE, "fp32" },
  { "tf32", VB_MATMUL_TF32, "fp32 with TF32 matrix products", FALSE,
    "fp32 with TF32 matrix products" },
  { "bf16", VB_MATMUL_BF16, "bf16 storage of the transformer layers (weights, activations, "
    "residual stream), bf16 tensor-core products accumulating in fp32; the embedding in fp32",
    TRUE, "bf16 storage of the block products' operands (weights, LayerNorm and GELU "
    "outputs, their gradients), bf16 tensor cores accumulating in fp32; fp32 master "
    "weights, residual stream, scan state, LayerNorm statistics, loss and AdamW; the other "
    "products (convolutions, dt projection, head) in TF32" },
};

const VbPrecision *
vb_precision_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (precisions); i++)
    if (g_strcmp0 (name != NULL ? name : "fp32", precisions[i].name) == 0)
      return &precisions[i];
  return NULL;
}

gboolean
vb_precision_set (const VbOps *ops, const char *precision, const VbPrecision **out,
                  GError **error)
{
  const VbPrecision *prec = vb_precision_find (precision);
  if (prec == NULL)
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_INVALID,
                   "precision \"%s\": fp32, tf32 or bf16", precision);
      return FALSE;
    }
  if (!ops->set_matmul (ops->ctx, prec->matmul))
    {
      g_set_error (error, VB_ENGINE_ERROR, VB_ENGINE_ERROR_UNSUPPORTED,
                   "precision %s needs the GPU (--device cuda)", prec->name);
      return FALSE;
    }
  *out = prec;
  return TRUE;
}

const VbOps *
vb_precision_open (const char *device, const char *precision, const VbPrecision **out,
                   GError **error)
{
  const VbOps *ops = vb_device_ops (device, error);
  return ops != NULL && vb_precision_set (ops, precision, out, error) ? ops : NULL;
}

void
vb_precision_reset (const VbOps *ops)
{
  ops->set_matmul (ops->ctx, VB_MATMUL_FP32);
}

void
vb_precision_apply_vmamba (const VbPrecision *prec, const VbOps *ops, VbVmamba *model)
{
  vb_vmamba_set_bf16 (model, prec->bf16_storage);
  if (prec->bf16_storage)
    ops->set_matmul (ops->ctx, VB_MATMUL_TF32);
}
