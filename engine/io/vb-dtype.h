/* vb-dtype.h: element types found in checkpoint files (safetensors names, torch storage
 * types) and their conversion to fp32. Shared by the safetensors and .pth readers. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  VB_DTYPE_BOOL,
  VB_DTYPE_U8,
  VB_DTYPE_I8,
  VB_DTYPE_F8_E5M2,
  VB_DTYPE_F8_E4M3,
  VB_DTYPE_F8_E8M0,
  VB_DTYPE_F8_E4M3FNUZ,
  VB_DTYPE_F8_E5M2FNUZ,
  VB_DTYPE_I16,
  VB_DTYPE_U16,
  VB_DTYPE_F16,
  VB_DTYPE_BF16,
  VB_DTYPE_I32,
  VB_DTYPE_U32,
  VB_DTYPE_F32,
  VB_DTYPE_I64,
  VB_DTYPE_U64,
  VB_DTYPE_F64,
  VB_DTYPE_C64,
  VB_DTYPE_F4,
  VB_DTYPE_F6_E2M3,
  VB_DTYPE_F6_E3M2,
  VB_N_DTYPES
} VbDtype;

/* The safetensors spelling ("F32"); never NULL for a valid dtype. */
const char *vb_dtype_name         (VbDtype dtype);
/* Parses a safetensors dtype name; FALSE if unknown. */
gboolean    vb_dtype_from_name    (const char *name, VbDtype *out);
/* Size of one element in bits (4 and 6 for the sub-byte types). */
guint       vb_dtype_bits         (VbDtype dtype);
/* TRUE for the dtypes the engine converts to fp32: F32, F16, BF16, F64. */
gboolean    vb_dtype_is_convertible (VbDtype dtype);
/* Converts n elements of a convertible dtype from unaligned bytes to fp32. */
void        vb_dtype_convert_f32  (VbDtype dtype, const guint8 *src, gsize n,
                                   gboolean big_endian, float *dst);
/* Converts one element (same rules), for strided gathers. */
float       vb_dtype_load_f32     (VbDtype dtype, const guint8 *src, gboolean big_endian);
/* IEEE half → float, exact (subnormals, infinities and NaN kept). */
float       vb_half_to_float      (guint16 h);

G_END_DECLS
