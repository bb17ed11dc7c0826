/* vb-predict.h: logits for one image file, for cross-checks against other
 * implementations. An image already at the input size is only scaled to [0, 1] and
 * normalised with the ImageNet mean and std; other sizes are resized (shorter side to
 * size / 0.875) and centre-cropped, as the official evaluation transform does. */
#pragma once

#include "vb-vmamba.h"

G_BEGIN_DECLS

typedef struct {
  int    n_classes;
  float *logits;          /* owned */
  int    top5[5];         /* class indices, best first (fewer when n_classes < 5) */
  int    n_top;
} VbPrediction;

void     vb_prediction_clear (VbPrediction *p);

gboolean vb_predict_image (const char *weights_path, VbScanMode scan, const char *image_path,
                           int size, VbPrediction *out, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbPrediction, vb_prediction_clear)

G_END_DECLS
