/* Writes HTML reports of given runs and results documents for tests/e2e/test_html.sh, which
 * renders them in a browser. Not a test of its own: it has nothing to check without inputs,
 * so it is built beside the tests and only the script runs it.
 *
 *   html_render run DIR...     report.html written in each run directory
 *   html_render tree DOC OUT   the page of the results document DOC (JSON) written to OUT
 *
 * Exit 0 when every report was written, 1 when one was not (said on stderr), 2 on misuse.
 */
#include <stdio.h>
#include <string.h>

#include "report/html.h"
#include "report/json_file.h"

static int write_runs(int n, char **dirs)
{
    for (int i = 0; i < n; i++) {
        struct mlpio_error err = {0};
        if (mlpio_html_write_run(dirs[i], &err) != 0) {
            fprintf(stderr, "html_render: %s: %s (%s)\n", dirs[i], err.message, err.hint);
            return 1;
        }
        printf("wrote %s/report.html\n", dirs[i]);
    }
    return 0;
}

static int write_tree(const char *doc_path, const char *out)
{
    struct mlpio_error err = {0};
    cJSON *doc = mlpio_json_read_file(doc_path, &err);
    if (!doc) {
        fprintf(stderr, "html_render: %s\n", err.message);
        return 1;
    }
    int rc = mlpio_html_write_tree(out, doc, &err);
    cJSON_Delete(doc);
    if (rc != 0) {
        fprintf(stderr, "html_render: %s: %s (%s)\n", out, err.message, err.hint);
        return 1;
    }
    printf("wrote %s\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "run"))
        return write_runs(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "tree"))
        return write_tree(argv[2], argv[3]);
    fputs("usage: html_render run DIR... | html_render tree DOC OUT\n", stderr);
    return 2;
}
