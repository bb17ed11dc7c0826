#include "config.h"

#include "vb-test-util.h"

#include <glib/gstdio.h>

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
