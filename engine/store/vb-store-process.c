/* vb-store-process.c: is the process that owns a 'running' run still there?
 *
 * A pid alone is not enough: after a crash (or a reboot) the same pid may belong to
 * another process, or to us. So each run also records a token made of the boot id and
 * the process start time (field 22 of /proc/<pid>/stat); a live pid whose token
 * differs is a different process. */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "vb-store-private.h"

/* Reads /proc/<pid>/stat; returns the start time field and the state letter. */
static gboolean
read_proc_stat (gint64   pid,
                guint64 *start_ticks,
                char    *state)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *rest;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;

  /* The command name (field 2) may hold spaces and parentheses: skip to the last ')'. */
  rest = strrchr (contents, ')');
  if (rest == NULL)
    return FALSE;
  fields = g_strsplit_set (rest + 1, " \n", -1);

  /* fields[0] is the empty string before the first space; fields[1] is field 3 (state),
   * so field N is fields[N - 2]. */
  if (g_strv_length (fields) < 21 || fields[1][0] == '\0')
    return FALSE;
  *state = fields[1][0];
  *start_ticks = g_ascii_strtoull (fields[20], NULL, 10);
  return TRUE;
}

static const char *
boot_id (void)
{
  static char *id = NULL;

  if (g_once_init_enter (&id))
    {
      char *contents = NULL;

      if (g_file_get_contents ("/proc/sys/kernel/random/boot_id", &contents, NULL, NULL))
        g_strstrip (contents);
      else
        contents = g_strdup ("");
      g_once_init_leave (&id, contents);
    }
  return id;
}

char *
vb_store_process_token (gint64 pid)
{
  guint64 start_ticks;
  char state;

  if (pid <= 0 || !read_proc_stat (pid, &start_ticks, &state))
    return NULL;
  return g_strdup_printf ("%s:%" G_GUINT64_FORMAT, boot_id (), start_ticks);
}

VbProcessState
vb_store_process_state (gint64      pid,
                        const char *token)
{
  guint64 start_ticks;
  char state;

  if (pid <= 0 || pid > G_MAXINT)
    return VB_PROCESS_UNKNOWN;

  if (kill ((pid_t) pid, 0) != 0)
    {
      if (errno == ESRCH)
        return VB_PROCESS_GONE;
      if (errno != EPERM)          /* EPERM: it exists, owned by someone else */
        return VB_PROCESS_UNKNOWN;
    }

  if (!read_proc_stat (pid, &start_ticks, &state))
    return VB_PROCESS_ALIVE;       /* no /proc: trust kill() */

  /* A zombie has finished: its run will never be updated again. */
  if (state == 'Z' || state == 'X')
    return VB_PROCESS_GONE;

  if (token != NULL && *token != '\0')
    {
      g_autofree char *now = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, boot_id (), start_ticks);

      if (g_strcmp0 (now, token) != 0)
        return VB_PROCESS_GONE;    /* the pid was reused */
    }

  return VB_PROCESS_ALIVE;
}
