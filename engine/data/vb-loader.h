/* vb-loader.h: a prefetching batch loader. Worker threads decode and transform whole
 * batches a few ahead of the consumer (a bounded ring), and batches come out in order.
 * The epoch's order depends on (seed, epoch) and each sample's augmentation on (seed,
 * epoch, dataset index), so the batches are bit-identical whatever n_workers is.
 * An image that fails to decode (VB_ENGINE_ERROR_CORRUPT) is left out of its batch and
 * counted; a batch left empty is skipped. */
#pragma once

#include "vb-dataset.h"
#include "vb-transform.h"

G_BEGIN_DECLS

typedef struct _VbLoader VbLoader;

/* indices (n of them) are dataset indices; NULL means 0..size-1 (n ignored).
 * n_workers ≤ 0 loads synchronously in vb_loader_next. The loader keeps a reference
 * on ds. */
VbLoader *vb_loader_new            (VbDataset *ds, const int *indices, gsize n, int batch_size,
                                    gboolean shuffle, gboolean drop_last,
                                    const VbTransformSpec *spec, guint64 seed, int n_workers);
/* Data parallel: from now on each batch (of batch_size, the global batch) hands out only
 * this shard's rows, shard k of n taking rows [k·b/n, (k+1)·b/n) of a batch of b: the n
 * shards of one batch are, together, the batch a one-device run gets, image for image
 * and augmentation for augmentation. Abandons any epoch in progress. */
void      vb_loader_set_shard      (VbLoader *loader, int shard, int n_shards);
/* Abandons any epoch in progress and starts prefetching this one. */
void      vb_loader_start_epoch    (VbLoader *loader, int epoch);
/* images: (batch_size, S, S, 3) floats, labels: batch_size ints; *n_out ≤ batch_size
 * samples filled. FALSE at the end of the epoch (no error) or on an error that is not a
 * corrupt image (e.g. a file became unreadable). Starts epoch 0 if none was started. */
gboolean  vb_loader_next           (VbLoader *loader, float *images, int *labels, int *n_out,
                                    GError **error);
int       vb_loader_n_batches      (VbLoader *loader);
int       vb_loader_batch_size     (VbLoader *loader);
/* Corrupt images left out of the batches handed out so far (all epochs). */
guint64   vb_loader_skipped_count  (VbLoader *loader);
/* Stops the workers (mid-epoch is fine) and frees everything. */
void      vb_loader_free           (VbLoader *loader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbLoader, vb_loader_free)

G_END_DECLS
