#include "vb-zip.h"

#include <string.h>
#include <zlib.h>

#include "vb-error.h"

#define SIG_LOCAL      0x04034b50u
#define SIG_CENTRAL    0x02014b50u
#define SIG_EOCD       0x06054b50u
#define SIG_EOCD64     0x06064b50u
#define SIG_LOCATOR64  0x07064b50u

struct _VbZip {
  char         *path;
  GMappedFile  *map;
  const guint8 *data;
  guint64       size;
  GPtrArray    *entries;   /* VbZipEntry* */
  GHashTable   *by_name;   /* borrowed name → entry */
};

static guint16
u16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
u32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint64
u64 (const guint8 *p)
{
  return (guint64) u32 (p) | (guint64) u32 (p + 4) << 32;
}

static void
entry_free (gpointer p)
{
  VbZipEntry *e = p;
  g_free (e->name);
  g_free (e);
}

void
vb_zip_free (VbZip *zip)
{
  if (zip == NULL)
    return;
  g_clear_pointer (&zip->by_name, g_hash_table_unref);
  g_clear_pointer (&zip->entries, g_ptr_array_unref);
  g_clear_pointer (&zip->map, g_mapped_file_unref);
  g_free (zip->path);
  g_free (zip);
}

static gboolean G_GNUC_PRINTF (4, 5)
zip_fail (GError **error, VbEngineError code, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, VB_ENGINE_ERROR, code, "%s: %s", path, what);
  return FALSE;
}

/* TRUE when [off, off + len) lies inside [0, limit). */
static gboolean
span_ok (guint64 off, guint64 len, guint64 limit)
{
  return off <= limit && len <= limit - off;
}

/* Replaces the saturated 32-bit fields with their ZIP64 extra-field values. */
static gboolean
apply_zip64_extra (const guint8 *extra, guint extra_len, guint64 *usize, guint64 *csize,
                   guint64 *loff)
{
  guint pos = 0;
  while (pos + 4 <= extra_len)
    {
      guint id = u16 (extra + pos), len = u16 (extra + pos + 2);
      if (pos + 4 + len > extra_len)
        return FALSE;
      if (id == 0x0001)
        {
          const guint8 *f = extra + pos + 4;
          guint need = 0;
          guint64 *fields[3] = { usize, csize, loff };
          for (int i = 0; i < 3; i++)
            if (*fields[i] == 0xffffffffu)
              {
                if (need + 8 > len)
                  return FALSE;
                *fields[i] = u64 (f + need);
                need += 8;
              }
          return TRUE;
        }
      pos += 4 + len;
    }
  /* No ZIP64 block: saturated fields stay unresolved. */
  return *usize != 0xffffffffu && *csize != 0xffffffffu && *loff != 0xffffffffu;
}

VbZip *
vb_zip_open (const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(VbZip) zip = g_new0 (VbZip, 1);

  zip->path = g_strdup (path);
  zip->map = g_mapped_file_new (path, FALSE, &local_error);
  if (zip->map == NULL)
    return zip_fail (error, VB_ENGINE_ERROR_IO, path, "cannot read: %s",
                     local_error->message), NULL;
  zip->data = (const guint8 *) g_mapped_file_get_contents (zip->map);
  zip->size = g_mapped_file_get_length (zip->map);
  zip->entries = g_ptr_array_new_with_free_func (entry_free);
  zip->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  const guint8 *d = zip->data;
  guint64 size = zip->size;
  if (size < 22)
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                     "too short for a zip archive (%" G_GUINT64_FORMAT " bytes)", size), NULL;

  /* End-of-central-directory record: search backwards over a possible comment. */
  guint64 eocd = G_MAXUINT64;
  guint64 lowest = size - 22 > 65535 ? size - 22 - 65535 : 0;
  for (guint64 p = size - 22 + 1; p-- > lowest;)
    if (u32 (d + p) == SIG_EOCD && p + 22 + u16 (d + p + 20) <= size)
      {
        eocd = p;
        break;
      }
  if (eocd == G_MAXUINT64)
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                     "no end-of-central-directory record (truncated?)"), NULL;

  if (u16 (d + eocd + 4) != 0 || u16 (d + eocd + 6) != 0)
    return zip_fail (error, VB_ENGINE_ERROR_UNSUPPORTED, path, "multi-disk archives are not supported"), NULL;
  guint64 n_entries = u16 (d + eocd + 10);
  guint64 cd_size = u32 (d + eocd + 12);
  guint64 cd_off = u32 (d + eocd + 16);
  guint64 cd_limit = eocd;

  /* ZIP64: a locator right before the EOCD points at the 64-bit record. */
  if (eocd >= 20 && u32 (d + eocd - 20) == SIG_LOCATOR64)
    {
      guint64 rec = u64 (d + eocd - 20 + 8);
      if (!span_ok (rec, 56, eocd - 20) || u32 (d + rec) != SIG_EOCD64)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "bad ZIP64 end-of-central-directory record"), NULL;
      n_entries = u64 (d + rec + 32);
      cd_size = u64 (d + rec + 40);
      cd_off = u64 (d + rec + 48);
      cd_limit = rec;
    }
  else if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                     "ZIP64 fields without a ZIP64 locator"), NULL;

  if (!span_ok (cd_off, cd_size, cd_limit))
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                     "central directory (offset %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                     " bytes) lies outside the file", cd_off, cd_size), NULL;
  if (n_entries > cd_size / 46)
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                     "%" G_GUINT64_FORMAT " entries cannot fit a %" G_GUINT64_FORMAT
                     "-byte central directory", n_entries, cd_size), NULL;

  guint64 pos = cd_off, cd_end = cd_off + cd_size;
  for (guint64 i = 0; i < n_entries; i++)
    {
      if (!span_ok (pos, 46, cd_end) || u32 (d + pos) != SIG_CENTRAL)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "bad central directory header %" G_GUINT64_FORMAT " at byte %"
                         G_GUINT64_FORMAT, i, pos), NULL;
      const guint8 *h = d + pos;
      guint flags = u16 (h + 8), method = u16 (h + 10);
      guint32 crc = u32 (h + 16);
      guint64 csize = u32 (h + 20), usize = u32 (h + 24), loff = u32 (h + 42);
      guint name_len = u16 (h + 28), extra_len = u16 (h + 30), comment_len = u16 (h + 32);
      if (!span_ok (pos + 46, (guint64) name_len + extra_len + comment_len, cd_end))
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "central directory header %" G_GUINT64_FORMAT " runs past the directory", i), NULL;
      g_autofree char *name = g_strndup ((const char *) h + 46, name_len);
      if (name_len == 0 || strlen (name) != name_len || !g_utf8_validate (name, -1, NULL))
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "entry %" G_GUINT64_FORMAT " has an invalid name", i), NULL;
      if (!apply_zip64_extra (h + 46 + name_len, extra_len, &usize, &csize, &loff))
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "entry %s: bad ZIP64 extra field", name), NULL;
      if (flags & 0x41)
        return zip_fail (error, VB_ENGINE_ERROR_UNSUPPORTED, path,
                         "entry %s is encrypted", name), NULL;
      if (method != 0)
        return zip_fail (error, VB_ENGINE_ERROR_UNSUPPORTED, path,
                         "entry %s is compressed (method %u); only stored entries are "
                         "supported (torch.save never compresses)", name, method), NULL;
      if (csize != usize)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "stored entry %s has different sizes (%" G_GUINT64_FORMAT " and %"
                         G_GUINT64_FORMAT ")", name, csize, usize), NULL;

      /* The payload starts after the *local* header, whose extra field (alignment
       * padding) may differ from the central one. */
      if (!span_ok (loff, 30, cd_off) || u32 (d + loff) != SIG_LOCAL)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "entry %s: bad local header at byte %" G_GUINT64_FORMAT, name, loff), NULL;
      guint lname = u16 (d + loff + 26), lextra = u16 (d + loff + 28);
      guint64 payload = loff + 30 + lname + lextra;
      if (lname != name_len || memcmp (d + loff + 30, name, name_len) != 0)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "entry %s: local header names a different file", name), NULL;
      if (!span_ok (payload, usize, cd_off))
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path,
                         "entry %s: %" G_GUINT64_FORMAT " bytes at byte %" G_GUINT64_FORMAT
                         " run past the archive data", name, usize, payload), NULL;

      VbZipEntry *e = g_new0 (VbZipEntry, 1);
      e->name = g_steal_pointer (&name);
      e->offset = payload;
      e->size = usize;
      e->crc32 = crc;
      if (!g_hash_table_insert (zip->by_name, e->name, e))
        {
          zip_fail (error, VB_ENGINE_ERROR_CORRUPT, path, "duplicate entry %s", e->name);
          entry_free (e);
          return NULL;
        }
      g_ptr_array_add (zip->entries, e);
      pos += 46 + name_len + extra_len + comment_len;
    }
  return g_steal_pointer (&zip);
}

const char *
vb_zip_get_path (VbZip *zip)
{
  return zip->path;
}

guint
vb_zip_n_entries (VbZip *zip)
{
  return zip->entries->len;
}

const VbZipEntry *
vb_zip_entry (VbZip *zip, guint i)
{
  g_return_val_if_fail (i < zip->entries->len, NULL);
  return g_ptr_array_index (zip->entries, i);
}

const VbZipEntry *
vb_zip_lookup (VbZip *zip, const char *name)
{
  return g_hash_table_lookup (zip->by_name, name);
}

const guint8 *
vb_zip_read (VbZip *zip, const char *name, guint64 *size, GError **error)
{
  VbZipEntry *e = g_hash_table_lookup (zip->by_name, name);

  if (e == NULL)
    return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, zip->path, "no entry %s", name), NULL;
  const guint8 *p = zip->data + e->offset;
  if (!e->crc_checked)
    {
      uLong crc = crc32 (0L, Z_NULL, 0);
      for (guint64 done = 0; done < e->size;)
        {
          uInt chunk = (uInt) MIN (e->size - done, (guint64) 1 << 30);
          crc = crc32 (crc, p + done, chunk);
          done += chunk;
        }
      if ((guint32) crc != e->crc32)
        return zip_fail (error, VB_ENGINE_ERROR_CORRUPT, zip->path,
                         "entry %s fails its CRC-32 check", name), NULL;
      e->crc_checked = TRUE;
    }
  if (size != NULL)
    *size = e->size;
  return p;
}
