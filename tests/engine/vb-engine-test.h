/* vb-engine-test.h: what the engine tests share beyond tests/common: a run config parsed
 * from JSON text, a preset run through the runner that is cancelled at once, and the GPU
 * tests' backend and error measure. */
#pragma once

#include "vb-ops.h"
#include "vb-run-config.h"

G_BEGIN_DECLS

/* vb_run_config_from_json on the JSON object in json (asserted to parse) */
gboolean vb_engine_test_parse_config (const char   *json,
                                      VbRunConfig  *cfg,
                                      GError      **error);
/* Runs the preset text through the runner on an in-memory store with a cancel hook that
 * fires at once: asserts the runner says cancelled and the first run is marked so. */
void     vb_engine_test_assert_cancels (const char *preset_json);
/* The GPU's backend, or NULL after g_test_skip with the reason (no usable GPU) */
const VbOps *vb_engine_test_gpu_or_skip (void);
/* ‖got − want‖ / ‖want‖ in double; ‖got − want‖ when want is all zeros; a non-finite
 * element of got fails the test, naming it */
double   vb_engine_test_rel_l2 (const float *got, const float *want, int64_t n);

G_END_DECLS
