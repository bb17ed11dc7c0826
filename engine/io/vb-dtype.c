#include "vb-dtype.h"

#include <string.h>

static const struct {
  const char *name;
  guint       bits;
} dtype_info[VB_N_DTYPES] = {
  [VB_DTYPE_BOOL]        = { "BOOL", 8 },
  [VB_DTYPE_U8]          = { "U8", 8 },
  [VB_DTYPE_I8]          = { "I8", 8 },
  [VB_DTYPE_F8_E5M2]     = { "F8_E5M2", 8 },
  [VB_DTYPE_F8_E4M3]     = { "F8_E4M3", 8 },
  [VB_DTYPE_F8_E8M0]     = { "F8_E8M0", 8 },
  [VB_DTYPE_F8_E4M3FNUZ] = { "F8_E4M3FNUZ", 8 },
  [VB_DTYPE_F8_E5M2FNUZ] = { "F8_E5M2FNUZ", 8 },
  [VB_DTYPE_I16]         = { "I16", 16 },
  [VB_DTYPE_U16]         = { "U16", 16 },
  [VB_DTYPE_F16]         = { "F16", 16 },
  [VB_DTYPE_BF16]        = { "BF16", 16 },
  [VB_DTYPE_I32]         = { "I32", 32 },
  [VB_DTYPE_U32]         = { "U32", 32 },
  [VB_DTYPE_F32]         = { "F32", 32 },
  [VB_DTYPE_I64]         = { "I64", 64 },
  [VB_DTYPE_U64]         = { "U64", 64 },
  [VB_DTYPE_F64]         = { "F64", 64 },
  [VB_DTYPE_C64]         = { "C64", 64 },
  [VB_DTYPE_F4]          = { "F4", 4 },
  [VB_DTYPE_F6_E2M3]     = { "F6_E2M3", 6 },
  [VB_DTYPE_F6_E3M2]     = { "F6_E3M2", 6 },
};

const char *
vb_dtype_name (VbDtype dtype)
{
  g_return_val_if_fail (dtype < VB_N_DTYPES, "?");
  return dtype_info[dtype].name;
}

gboolean
vb_dtype_from_name (const char *name, VbDtype *out)
{
  for (int i = 0; i < VB_N_DTYPES; i++)
    if (strcmp (name, dtype_info[i].name) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

guint
vb_dtype_bits (VbDtype dtype)
{
  g_return_val_if_fail (dtype < VB_N_DTYPES, 8);
  return dtype_info[dtype].bits;
}

gboolean
vb_dtype_is_convertible (VbDtype dtype)
{
  return dtype == VB_DTYPE_F32 || dtype == VB_DTYPE_F16
      || dtype == VB_DTYPE_BF16 || dtype == VB_DTYPE_F64;
}

float
vb_half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 man = h & 0x3ff;
  guint32 bits;

  if (exp == 0x1f)
    bits = sign | 0x7f800000u | (man << 13);    /* inf / NaN */
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0)
    bits = sign;
  else
    {
      /* Subnormal half: normalise into a float exponent. */
      int e = -1;
      do
        {
          man <<= 1;
          e++;
        }
      while ((man & 0x400) == 0);
      bits = sign | ((guint32) (112 - e) << 23) | ((man & 0x3ff) << 13);
    }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

static inline guint16
load16 (const guint8 *p, gboolean be)
{
  return be ? (guint16) (p[0] << 8 | p[1]) : (guint16) (p[1] << 8 | p[0]);
}

static inline guint32
load32 (const guint8 *p, gboolean be)
{
  if (be)
    return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

static inline guint64
load64 (const guint8 *p, gboolean be)
{
  guint64 hi = load32 (be ? p : p + 4, be);
  guint64 lo = load32 (be ? p + 4 : p, be);
  return hi << 32 | lo;
}

float
vb_dtype_load_f32 (VbDtype dtype, const guint8 *src, gboolean big_endian)
{
  guint32 u;
  float f;

  switch (dtype)
    {
    case VB_DTYPE_F32:
      u = load32 (src, big_endian);
      memcpy (&f, &u, 4);
      return f;
    case VB_DTYPE_F16:
      return vb_half_to_float (load16 (src, big_endian));
    case VB_DTYPE_BF16:
      /* bf16 is the high half of an fp32 word. */
      u = (guint32) load16 (src, big_endian) << 16;
      memcpy (&f, &u, 4);
      return f;
    case VB_DTYPE_F64:
      {
        guint64 b = load64 (src, big_endian);
        double d;
        memcpy (&d, &b, 8);
        return (float) d;
      }
    default:
      g_return_val_if_reached (0.f);
    }
}

void
vb_dtype_convert_f32 (VbDtype dtype, const guint8 *src, gsize n, gboolean big_endian,
                      float *dst)
{
  g_return_if_fail (vb_dtype_is_convertible (dtype));

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (dtype == VB_DTYPE_F32 && !big_endian)
    {
      memcpy (dst, src, n * sizeof (float));
      return;
    }
#endif
  gsize es = vb_dtype_bits (dtype) / 8;
  for (gsize i = 0; i < n; i++)
    dst[i] = vb_dtype_load_f32 (dtype, src + i * es, big_endian);
}
