/* vb-settings.c: the preferences schema, looked up where an uninstalled or oddly
 * installed app finds it. */
#define G_LOG_DOMAIN "vb-ui"

#include "config.h"

#include <adwaita.h>

#include "vb-settings.h"

static GSettingsSchema *
lookup_in_directory (const char            *dir,
                     GSettingsSchemaSource *parent)
{
  g_autofree char *compiled = g_build_filename (dir, "gschemas.compiled", NULL);
  g_autoptr (GSettingsSchemaSource) source = NULL;

  if (!g_file_test (compiled, G_FILE_TEST_IS_REGULAR))
    return NULL;
  source = g_settings_schema_source_new_from_directory (dir, parent, FALSE, NULL);
  if (source == NULL)
    return NULL;
  return g_settings_schema_source_lookup (source, VB_SETTINGS_SCHEMA_ID, FALSE);
}

GSettings *
vb_settings_new (void)
{
  static const char *const dirs[] = { VB_BUILD_SCHEMAS_DIR, VB_SCHEMAS_DIR };
  static gsize told;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, VB_SETTINGS_SCHEMA_ID, TRUE);
  /* g_settings_new() would abort on a missing schema: look in the folders it skips */
  for (guint i = 0; schema == NULL && i < G_N_ELEMENTS (dirs); i++)
    schema = lookup_in_directory (dirs[i], source);
  if (schema == NULL)
    {
      /* not g_warning: an install without its schema is no bug in the code, and the
       * tests make warnings fatal */
      if (g_once_init_enter (&told))
        {
          g_message ("The settings schema %s is not installed: preferences are not saved, "
                     "the defaults apply", VB_SETTINGS_SCHEMA_ID);
          g_once_init_leave (&told, 1);
        }
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

void
vb_settings_apply_color_scheme (const char *scheme)
{
  AdwColorScheme value = ADW_COLOR_SCHEME_DEFAULT;

  if (g_strcmp0 (scheme, "light") == 0)
    value = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_strcmp0 (scheme, "dark") == 0)
    value = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), value);
}

VbXAxisKind
vb_settings_x_axis_from_string (const char *value)
{
  if (g_strcmp0 (value, "epoch") == 0)
    return VB_X_AXIS_EPOCH;
  if (g_strcmp0 (value, "wall") == 0)
    return VB_X_AXIS_WALL_TIME;
  return VB_X_AXIS_STEP;
}

const char *
vb_settings_x_axis_to_string (VbXAxisKind x_axis)
{
  switch (x_axis)
    {
    case VB_X_AXIS_EPOCH:
      return "epoch";
    case VB_X_AXIS_WALL_TIME:
      return "wall";
    case VB_X_AXIS_STEP:
    case VB_X_AXIS_COUNT:
    default:
      return "step";
    }
}
