/* test-run-config.c: the run config's data.classes (the study's "choose N classes by
 * list"): parsed in order, refused with a reason when malformed, when it disagrees with
 * data.n_classes, or when the data set is not an image folder. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "vb-engine-test.h"
#include "vb-error.h"
#include "vb-run-config.h"

static gboolean
parse (const char *data_json, VbRunConfig *cfg, GError **error)
{
  g_autofree char *json = g_strdup_printf ("{\"data\": %s}", data_json);
  return vb_engine_test_parse_config (json, cfg, error);
}

static void
test_class_list (void)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (parse ("{\"dataset\": \"image-folder\", \"path\": \"/x\", \"n_classes\": 0,"
                        " \"classes\": [\"n02\", \"n01\", \"n03\"]}", &cfg, &error));
  g_assert_no_error (error);
  const char *want[] = { "n02", "n01", "n03", NULL };
  g_assert_true (g_strv_equal ((const char * const *) cfg.class_list, want));
}

static void
test_no_list (void)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_assert_true (parse ("{\"dataset\": \"image-folder\", \"n_classes\": 20, \"classes\": []}",
                        &cfg, NULL));
  g_assert_null (cfg.class_list);
  g_assert_cmpint (cfg.n_classes, ==, 20);
}

static void
assert_refused (const char *data_json, const char *fragment)
{
  g_auto (VbRunConfig) cfg = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (parse (data_json, &cfg, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, fragment) == NULL)
    g_error ("%s: message '%s' lacks '%s'", data_json, error->message, fragment);
}

static void
test_refused (void)
{
  assert_refused ("{\"dataset\": \"image-folder\", \"n_classes\": 2, \"classes\": [\"a\"]}",
                  "n_classes");
  assert_refused ("{\"dataset\": \"fashion-mnist\", \"classes\": [\"a\"]}", "image-folder");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [\"a/b\"]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [\"..\"]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": [3]}", "data.classes");
  assert_refused ("{\"dataset\": \"image-folder\", \"classes\": \"a\"}", "data.classes");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vb/run-config/classes/list", test_class_list);
  g_test_add_func ("/vb/run-config/classes/none", test_no_list);
  g_test_add_func ("/vb/run-config/classes/refused", test_refused);
  return g_test_run ();
}
