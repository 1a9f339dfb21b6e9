/* Writes HTML reports of real runs for tests/e2e/test_html.sh, which renders them in a
 * browser. Run by ctest without its inputs, it has nothing to do and skips.
 *
 *   MLPIO_HTML_RUN_DIRS   run directories, separated by ':': report.html is written in each
 *   MLPIO_HTML_TREE_DOC   a results document (JSON) and
 *   MLPIO_HTML_TREE_OUT   where to write its page
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/json_file.h"

static void test_write_run_reports(void **state)
{
    const char *dirs = getenv("MLPIO_HTML_RUN_DIRS");
    if (!dirs || !*dirs) {
        print_message("MLPIO_HTML_RUN_DIRS is not set: no run reports to write\n");
        skip();
    }
    char *list = strdup(dirs);
    assert_non_null(list);
    for (char *save = NULL, *dir = strtok_r(list, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        struct mlpio_error err = {0};
        if (mlpio_html_write_run(dir, &err) != 0)
            fail_msg("%s: %s (%s)", dir, err.message, err.hint);
        print_message("wrote %s/report.html\n", dir);
    }
    free(list);
}

static void test_write_tree_report(void **state)
{
    const char *doc_path = getenv("MLPIO_HTML_TREE_DOC");
    const char *out = getenv("MLPIO_HTML_TREE_OUT");
    if (!doc_path || !*doc_path || !out || !*out) {
        print_message("MLPIO_HTML_TREE_DOC or MLPIO_HTML_TREE_OUT is not set: no tree report\n");
        skip();
    }
    struct mlpio_error err = {0};
    cJSON *doc = mlpio_json_read_file(doc_path, &err);
    if (!doc)
        fail_msg("%s", err.message);
    if (mlpio_html_write_tree(out, doc, &err) != 0)
        fail_msg("%s: %s (%s)", out, err.message, err.hint);
    print_message("wrote %s\n", out);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_run_reports),
        cmocka_unit_test(test_write_tree_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
