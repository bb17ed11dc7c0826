/* data-test-util.h: fixtures the data tests write into temporary folders. */
#pragma once

#include <glib.h>

/* A temporary folder, removed (recursively) by the returned free func. */
char    *test_tmpdir_new     (void);
void     test_tmpdir_remove  (char *dir);

/* IDX images (n of rows×cols, pixel = f (i, y, x)) and labels; gz chooses gzip. */
void     test_write_idx      (const char *images_path, const char *labels_path, int n,
                              int rows, int cols, const int *labels, gboolean gz);
guint8   test_idx_pixel      (int i, int y, int x);

void     test_write_file     (const char *path, const void *data, gsize len);

/* A w×h PNG (or JPEG, by the path's extension) with pixel = test_png_pixel (seed, y, x, c)
 * and, with alpha, an alpha ramp. */
void     test_write_png      (const char *path, int w, int h, int seed, gboolean alpha);
guint8   test_png_pixel      (int seed, int y, int x, int c);
