/* vb-test-fmnist.h: a few hundred real Fashion-MNIST images for tests that train, cut
 * from Debian's dataset-fashion-mnist so a run takes seconds, not the minute that
 * loading and fingerprinting all 70,000 images costs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when Debian's dataset-fashion-mnist is installed (tests skip otherwise). */
gboolean vb_test_have_fashion_mnist (void);

/* Writes the first n_train training and n_test test images (and labels) as plain IDX
 * files into dir, which must exist; point data.path at it. */
void     vb_test_write_fashion_mnist_subset (const char *dir, guint32 n_train, guint32 n_test);

G_END_DECLS
