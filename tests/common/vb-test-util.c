#include "config.h"

#include "vb-test-util.h"

#include <glib/gstdio.h>
#include <math.h>

void
vb_test_rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          vb_test_rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

char *
vb_test_fixture_path (const char *dir, const char *name)
{
  const char *data = g_getenv ("VB_TEST_DATA");
  return g_build_filename (data ? data : "tests/data", dir, name, NULL);
}

double
vb_test_rel_error (const float *got, const float *want, int64_t n)
{
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = (double) got[i] - want[i];
      num += d * d;
      den += (double) want[i] * want[i];
    }
  return sqrt (num) / MAX (sqrt (den), 1e-30);
}
