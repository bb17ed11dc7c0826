/* vb-engine-test.h: what the engine tests share beyond tests/common: a run config parsed
 * from JSON text, and a preset run through the runner that is cancelled at once. */
#pragma once

#include "vb-run-config.h"

G_BEGIN_DECLS

/* vb_run_config_from_json on the JSON object in json (asserted to parse) */
gboolean vb_engine_test_parse_config (const char   *json,
                                      VbRunConfig  *cfg,
                                      GError      **error);
/* Runs the preset text through the runner on an in-memory store with a cancel hook that
 * fires at once: asserts the runner says cancelled and the first run is marked so. */
void     vb_engine_test_assert_cancels (const char *preset_json);

G_END_DECLS
