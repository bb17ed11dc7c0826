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

/* The "base" object of a preset that trains in seconds, as JSON text: a VMamba of dims 8,
 * depths [1, 1], 4-dir scan, drop path 0.1, on 16 px Fashion-MNIST at path (train_limit and
 * val_limit images, one worker, scale_min 0.5), on the CPU with one thread: epochs epochs
 * of batch 8, lr 0.005, warm-up 0.2 epochs, evaluation batch eval_batch_size, seed 7.
 * A test wraps it in its own preset: {"name": ..., "base": <this>, ...}. */
char    *vb_test_tiny_base_json (const char *path, int train_limit, int val_limit, int epochs,
                                 int eval_batch_size);

G_END_DECLS
