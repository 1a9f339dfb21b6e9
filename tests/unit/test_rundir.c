/* Tests of run directories: the <results>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>
 * layout, never reusing a directory (two runs in one second take the next second's name), and
 * an error naming the file that blocks the results path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/rundir.h"
#include "io/path.h"
#include "support/files.h"

static int setup(void **state)
{
    return scratch_setup(state, "mlpio-rundir");
}

/* The name mlpio must give a run started at t, computed here independently. */
static void name_of(time_t t, char *buf, size_t len)
{
    struct tm tm;
    assert_non_null(localtime_r(&t, &tm));
    snprintf(buf, len, "%04d%02d%02d_%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *create(const char *results, time_t when, char run_id[32])
{
    struct mlpio_error err = {0};
    char *path =
        mlpio_rundir_create(results, "checkpointing", "llama3-8b", "run", when, run_id, &err);
    if (!path)
        fail_msg("%s", err.message);
    return path;
}

static void test_layout(void **state)
{
    struct scratch *f = *state;
    char results[512], want[768], name[32], run_id[32];
    /* A results directory that does not exist yet, two levels deep. */
    snprintf(results, sizeof(results), "%s/a/results", f->dir);
    time_t when = 1700000000;
    char *path = create(results, when, run_id);
    name_of(when, name, sizeof(name));
    snprintf(want, sizeof(want), "%s/checkpointing/llama3-8b/run/%s", results, name);
    assert_string_equal(path, want);
    assert_string_equal(run_id, name);
    assert_int_equal(strlen(run_id), 15);
    assert_true(is_dir(path));
    free(path);
}

static void test_same_second_takes_next_name(void **state)
{
    struct scratch *f = *state;
    char results[512], run_id[32], name[32];
    snprintf(results, sizeof(results), "%s/res", f->dir);
    time_t when = 1700000000;
    char *paths[3];
    for (int i = 0; i < 3; i++) {
        paths[i] = create(results, when, run_id);
        name_of(when + i, name, sizeof(name));
        assert_string_equal(run_id, name);
        const char *slash = strrchr(paths[i], '/');
        assert_string_equal(slash + 1, name);
        assert_true(is_dir(paths[i]));
    }
    assert_string_not_equal(paths[0], paths[1]);
    assert_string_not_equal(paths[1], paths[2]);
    /* A directory someone else made for a later second is skipped too, and left alone. */
    char marker[768];
    name_of(when + 4, name, sizeof(name));
    snprintf(marker, sizeof(marker), "%s/checkpointing/llama3-8b/run/%s", results, name);
    assert_int_equal(mkdir(marker, 0755), 0);
    char *p3 = create(results, when + 3, run_id);
    char *p4 = create(results, when + 3, run_id);
    name_of(when + 5, name, sizeof(name));
    assert_string_equal(run_id, name);
    assert_string_not_equal(p4, marker);
    free(p3);
    free(p4);
    for (int i = 0; i < 3; i++)
        free(paths[i]);
}

static void test_results_under_a_file(void **state)
{
    struct scratch *f = *state;
    char file[512], results[600], run_id[32];
    snprintf(file, sizeof(file), "%s/plainfile", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    static const char *const under[] = {"", "/results", "/results/deeper"};
    for (size_t i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
        struct mlpio_error err = {0};
        snprintf(results, sizeof(results), "%s%s", file, under[i]);
        char *path = mlpio_rundir_create(results, "checkpointing", "llama3-8b", "run", 1700000000,
                                         run_id, &err);
        assert_null(path);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        char want[600];
        snprintf(want, sizeof(want), "%s exists and is not a folder", file);
        if (!strstr(err.message, want))
            fail_msg("message '%s' does not name %s", err.message, file);
        assert_non_null(strstr(err.message, "results directory"));
        assert_non_null(strstr(err.hint, "--results-dir"));
    }
    /* Nothing was created beside the file. */
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0);
}

static void test_path_join(void **state)
{
    char *p = mlpio_path_join("/a/b", "c.json");
    assert_string_equal(p, "/a/b/c.json");
    free(p);
    p = mlpio_path_join("", "x");
    assert_string_equal(p, "/x");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_same_second_takes_next_name, setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_results_under_a_file, setup, scratch_teardown),
        cmocka_unit_test(test_path_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
