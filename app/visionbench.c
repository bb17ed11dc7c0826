/* visionbench: the desktop app. Everything but the entry point lives in ui/. */
#include "config.h"

#include <locale.h>
#include <unistd.h>

#include "vb-application.h"

int
main (int   argc,
      char *argv[])
{
  /* The engine's OpenMP workers must not spin on the cores the UI needs; libgomp reads
   * its environment when it loads, so set it and start again (as visionbench-cli does). */
  if (g_getenv ("OMP_WAIT_POLICY") == NULL)
    {
      g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
      execv ("/proc/self/exe", argv);
    }
  setlocale (LC_ALL, "");

  g_autoptr (VbApplication) app = vb_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
