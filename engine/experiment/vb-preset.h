/* vb-preset.h: experiment presets (JSON files in data/presets).
 *
 *   { "name": "ss2d-directions", "title": "...", "description": "...",
 *     "base": { nested config },
 *     "grid": { "model.scan": ["4dir", "2dir", "1dir"], ... },      (optional)
 *     "labels": { "model.scan": "Dirs", ... } }                     (optional)
 *
 * A grid expands into the cartesian product of its axes (first axis slowest, as
 * written in the file); overrides ("key=value") edit the base or pin an axis. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _VbPreset VbPreset;

VbPreset   *vb_preset_load        (const char  *path,
                                   GError     **error);
/* The same checks on preset text held in memory (the app's edited form); errors say
 * "Preset text" where a file's would name the file. vb_preset_get_path () is NULL. */
VbPreset   *vb_preset_load_from_data (const char  *json,
                                      GError     **error);
void        vb_preset_free        (VbPreset    *preset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbPreset, vb_preset_free)

/* Every .json file in @dir, loaded and sorted by preset name (VbPreset*, owned). A file
 * that does not load fails the whole listing with an error naming it. */
/* Where presets are read from: $VISIONBENCH_PRESETS, else the source tree's data/presets
 * (a build run in place), else the installed folder. The CLI and the app share it. */
const char *vb_preset_default_dir (void);
GPtrArray  *vb_preset_list        (const char  *dir,
                                   GError     **error);

const char *vb_preset_get_name        (VbPreset *preset);
const char *vb_preset_get_title       (VbPreset *preset);  /* the name when the file has none */
const char *vb_preset_get_description (VbPreset *preset);  /* "" when the file has none */
const char *vb_preset_get_path        (VbPreset *preset);
/* The base config (owned by the preset; overrides change it). */
JsonObject *vb_preset_get_base        (VbPreset *preset);

/* Grid axes, in file order. */
guint       vb_preset_get_n_axes      (VbPreset *preset);
const char *vb_preset_get_axis_key    (VbPreset *preset,
                                       guint     index);
JsonArray  *vb_preset_get_axis_values (VbPreset *preset,
                                       guint     index);
/* The column label for a dotted key: "labels" in the file, else the key's last part. */
const char *vb_preset_get_label       (VbPreset   *preset,
                                       const char *key);
/* How many configs vb_preset_expand() gives. */
guint       vb_preset_get_n_runs      (VbPreset *preset);

/* Applies "dotted.key=value". The value is read as JSON when it parses (numbers,
 * true/false, arrays, "quoted strings"); a string field also takes the bare text.
 * The key must exist in the base and the value must have the field's type (an integer
 * is accepted for a real field). For a grid axis, a single value pins the axis to it,
 * and an array of values replaces the axis. Errors are VB_ENGINE_ERROR_INVALID. */
gboolean    vb_preset_set         (VbPreset    *preset,
                                   const char  *assignment,
                                   GError     **error);
/* every "key=value" of a NULL-terminated list, in order; the error names the override */
gboolean    vb_preset_set_all     (VbPreset            *preset,
                                   const char * const  *overrides,
                                   GError             **error);

/* The full configs (JsonObject*, deep copies, owned by the array), each with
 * "run_name" = "<preset>/<axis>=<value>,..." (just the preset name without a grid). */
GPtrArray  *vb_preset_expand      (VbPreset    *preset);

G_END_DECLS
