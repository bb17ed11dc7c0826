/* vb-test-util.h: small helpers the test programs share (no GTK). */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Removes path, and everything under it when it is a folder (a test's temporary folder). */
void   vb_test_rm_rf (const char *path);

/* A fixture's path: $VB_TEST_DATA/dir/name (tests/data when the variable is unset, as
 * when a test runs by hand from the source root). */
char  *vb_test_fixture_path (const char *dir, const char *name);

/* ‖got − want‖ / ‖want‖ in double (the denominator floored at 1e-30): the parity tests'
 * one measure against a reference output. */
double vb_test_rel_error (const float *got, const float *want, int64_t n);

G_END_DECLS
