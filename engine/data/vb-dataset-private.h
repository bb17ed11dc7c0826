/* vb-dataset-private.h: what the readers share. Each reader fills the common fields
 * (labels, class names, name, fingerprint) and supplies get_image and a free func for
 * its own payload. */
#pragma once

#include "vb-dataset.h"
#include "vb-error.h"

G_BEGIN_DECLS

typedef struct {
  gboolean (*get_image) (VbDataset *ds, gsize idx, VbImage *out, GError **error);
  void     (*free_priv) (gpointer priv);
} VbDatasetVTable;

struct _VbDataset {
  gint                   ref_count;
  const VbDatasetVTable *vtable;
  gpointer               priv;
  char                  *name;
  char                  *fingerprint;
  GPtrArray             *class_names;   /* of char* */
  gsize                  size;
  int                   *labels;        /* size entries */
};

VbDataset *vb_dataset_new_internal (const VbDatasetVTable *vtable, gpointer priv);

/* Reads a whole file, transparently gunzipping it (zlib reads plain files as-is),
 * refusing anything that is not a regular file and stopping past max_bytes (so a
 * hostile header or a gzip bomb cannot exhaust memory). */
GBytes    *vb_read_maybe_gz (const char *path, gsize max_bytes, GError **error);

G_END_DECLS
