/* cross_scan.c: cross-scan (gather the K routes) and cross-merge (scatter back and sum),
 * gather maps exactly as shared/specs/vmamba.md §3.2. */
#include "config.h"

#include "vb-cpu-ops.h"
#include "vb-cpu-private.h"

typedef enum { ROW_FWD, COL_FWD, ROW_REV, COL_REV } Route;

static const Route routes[4][4] = {
  [VB_SCAN_4DIR] = { ROW_FWD, COL_FWD, ROW_REV, COL_REV },
  [VB_SCAN_2DIR] = { ROW_FWD, ROW_FWD, ROW_REV, ROW_REV },
  [VB_SCAN_1DIR] = { ROW_FWD, ROW_FWD, ROW_FWD, ROW_FWD },
  [VB_SCAN_LEAN2DIR] = { ROW_FWD, ROW_REV, ROW_FWD, ROW_FWD }, /* K = 2: last two unused */
};

int
vb_scan_mode_groups (VbScanMode mode)
{
  return mode == VB_SCAN_LEAN2DIR ? 2 : 4;
}

/* col-fwd is the transpose route: position l holds pixel (l mod H, l div H) */
static inline int64_t
col_fwd (int64_t l, int H, int W)
{
  return (l % H) * W + l / H;
}

int64_t
vb_scan_gather_index (VbScanMode mode, int k, int64_t l, int H, int W)
{
  int64_t L = (int64_t) H * W;

  if ((unsigned) mode > VB_SCAN_LEAN2DIR || k < 0 || k >= vb_scan_mode_groups (mode))
    return l;

  switch (routes[mode][k])
    {
    case COL_FWD:
      return col_fwd (l, H, W);
    case ROW_REV:
      return L - 1 - l;
    case COL_REV:
      return col_fwd (L - 1 - l, H, W);
    case ROW_FWD:
    default:
      return l;
    }
}

/* inverse map: the position l at which group k reads pixel p = h·W + w */
static inline int64_t
scatter_index (VbScanMode mode, int k, int64_t p, int H, int W)
{
  int64_t L = (int64_t) H * W;
  int64_t t = (p % W) * H + p / W;   /* w·H + h */

  switch (routes[mode][k])
    {
    case COL_FWD:
      return t;
    case ROW_REV:
      return L - 1 - p;
    case COL_REV:
      return L - 1 - t;
    case ROW_FWD:
    default:
      return p;
    }
}

void
vb_cross_scan_forward (float *xs, const float *u, int B, int H, int W, int D, VbScanMode mode)
{
  int K = vb_scan_mode_groups (mode);
  int64_t L = (int64_t) H * W;
  int64_t rows = (int64_t) B * L;

#pragma omp parallel for schedule(static) if (rows * K * D > 32768)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t b = r / L, l = r % L;
      for (int k = 0; k < K; k++)
        memcpy (xs + (r * K + k) * D,
                u + (b * L + vb_scan_gather_index (mode, k, l, H, W)) * D,
                (size_t) D * sizeof (float));
    }
}

void
vb_cross_merge_forward (float *y, const float *ys, int B, int H, int W, int D, VbScanMode mode)
{
  int K = vb_scan_mode_groups (mode);
  int64_t L = (int64_t) H * W;
  int64_t rows = (int64_t) B * L;

#pragma omp parallel for schedule(static) if (rows * K * D > 32768)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t b = r / L, p = r % L;
      float *o = y + r * D;

      /* groups summed in order k = 0..K−1 */
      memcpy (o, ys + ((b * L + scatter_index (mode, 0, p, H, W)) * K) * D,
              (size_t) D * sizeof (float));
      for (int k = 1; k < K; k++)
        {
          const float *s = ys + ((b * L + scatter_index (mode, k, p, H, W)) * K + k) * D;
          for (int d = 0; d < D; d++)
            o[d] += s[d];
        }
    }
}
