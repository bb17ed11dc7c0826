/* vb-zip.h: a minimal reader for stored (uncompressed) zip archives, including ZIP64,
 * as written by torch.save (clip-projectors.md §7.3 "Zip details"). The file is
 * memory-mapped; every offset and size is checked against the file size when the
 * archive is opened, and an entry's CRC-32 when its bytes are first read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VbZip VbZip;

typedef struct {
  char    *name;
  guint64  offset;     /* payload offset in the file */
  guint64  size;       /* from the central directory */
  guint32  crc32;
  gboolean crc_checked;
} VbZipEntry;

/* Errors: VB_ENGINE_ERROR_IO (cannot read), _CORRUPT (malformed or truncated),
 * _UNSUPPORTED (compressed, encrypted or multi-disk archives). */
VbZip            *vb_zip_open      (const char *path, GError **error);
void              vb_zip_free      (VbZip *zip);
const char       *vb_zip_get_path  (VbZip *zip);
/* Central-directory order. */
guint             vb_zip_n_entries (VbZip *zip);
const VbZipEntry *vb_zip_entry     (VbZip *zip, guint i);
const VbZipEntry *vb_zip_lookup    (VbZip *zip, const char *name);
/* The entry's bytes, in place in the mapping (not aligned in general); checks the
 * CRC-32 on first use. NULL with an error (naming the archive and entry) on mismatch. */
const guint8     *vb_zip_read      (VbZip *zip, const char *name, guint64 *size,
                                    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbZip, vb_zip_free)

G_END_DECLS
