/* vb-settings.h: the app's preferences (data/org.visionbench.VisionBench.gschema.xml),
 * found even when the app runs uninstalled from its build folder, and what their string
 * values mean. Without the schema the app runs on the defaults: every caller accepts a
 * NULL GSettings. */
#pragma once

#include <gio/gio.h>

#include "vb-charts.h"

G_BEGIN_DECLS

#define VB_SETTINGS_SCHEMA_ID "org.visionbench.VisionBench"

/* A new GSettings for the schema, or NULL (with a g_message, once) when it is nowhere:
 * not in the default source, this build folder or the installed schemas folder. */
GSettings   *vb_settings_new                (void);
/* "default", "light" or "dark" → AdwStyleManager's scheme; anything else: default. */
void         vb_settings_apply_color_scheme (const char  *scheme);
/* The Runs page's x axis: "step", "epoch", "wall"; unknown → step. */
VbXAxisKind  vb_settings_x_axis_from_string (const char  *value);
const char  *vb_settings_x_axis_to_string   (VbXAxisKind  x_axis);

G_END_DECLS
