/* vb-test-cifar.h: CIFAR-10-format batches written by the test itself, so the projector
 * study runs without the real dataset (no GTK, no engine). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One CIFAR-10 record: a label byte, then 3 planes of 32×32. */
#define VB_TEST_CIFAR_RECORD (1 + 3 * 1024)

/* Writes n records to path: class c (labels cycle 0…9, so every file holds every class)
 * is a 12×12 block of colour (c·25, 255 − c·25, (c·70) mod 256) at a place set by c, on
 * low noise from seed, so the classes are learnable. */
void  vb_test_write_cifar_batch (const char *path, int n, guint32 seed);

/* Creates dir (and its parents) holding data_batch_1…5.bin of train_per_file records
 * each (seeds 1…5) and test_batch.bin of test_records (seed 99). */
void  vb_test_make_cifar (const char *dir, int train_per_file, int test_records);

G_END_DECLS
