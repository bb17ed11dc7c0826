/* vb-test-util.h: small helpers the test programs share (no GTK). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes path, and everything under it when it is a folder (a test's temporary folder). */
void vb_test_rm_rf (const char *path);

G_END_DECLS
