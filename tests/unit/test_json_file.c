/* Tests of the report library's JSON file helpers: atomic writes, exclusive creation, and
 * parse errors that point at the right line and column.
 *
 * fsync and rename are wrapped so that a test can make the n-th call fail and check that the
 * file being replaced survives.
 * mlpio-test-wrap: fsync rename
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/json_file.h"
#include "support/files.h"

/* Link seams. fail_*_at = n makes the n-th call from now fail with the given errno. */
static int fail_fsync_at, fail_fsync_errno, fsync_calls;
static int fail_rename_at, fail_rename_errno, rename_calls;

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);

int __wrap_fsync(int fd)
{
    if (fail_fsync_at && ++fsync_calls == fail_fsync_at) {
        errno = fail_fsync_errno;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (fail_rename_at && ++rename_calls == fail_rename_at) {
        errno = fail_rename_errno;
        return -1;
    }
    return __real_rename(from, to);
}

static void arm(int fsync_at, int fsync_errno, int rename_at, int rename_errno)
{
    fail_fsync_at = fsync_at;
    fail_fsync_errno = fsync_errno;
    fsync_calls = 0;
    fail_rename_at = rename_at;
    fail_rename_errno = rename_errno;
    rename_calls = 0;
}

static int setup(void **state)
{
    arm(0, 0, 0, 0);
    return scratch_setup(state, "mlpio-json");
}

static int teardown(void **state)
{
    arm(0, 0, 0, 0);
    return scratch_teardown(state);
}

/* Whole file as a string (the caller frees). */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void assert_content(const char *path, const char *expected)
{
    char *got = slurp(path);
    assert_string_equal(got, expected);
    free(got);
}

/* Nothing in the directory but the named files: no temporary left behind. */
static int count_entries(const struct scratch *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_write_atomic_exact_content(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "out.txt");
    static const char data[] = "line one\nline two\n";
    assert_int_equal(mlpio_file_write_atomic(path, data, strlen(data), &err), 0);
    assert_content(path, data);
    assert_int_equal(count_entries(f), 1);

    /* A second write replaces the content entirely (shorter, so no stale tail remains). */
    assert_int_equal(mlpio_file_write_atomic(path, "x", 1, &err), 0);
    assert_content(path, "x");
    assert_int_equal(count_entries(f), 1);
}

static void test_json_write_pretty_with_newline(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "summary.json");
    cJSON *doc = cJSON_Parse("{\"verdict\": \"CLOSED\", \"runs\": [1, 2.5, null], \"x\": {}}");
    assert_int_equal(mlpio_json_write_atomic(path, doc, &err), 0);
    char *expected_body = cJSON_Print(doc);
    char *got = slurp(path);
    size_t n = strlen(got);
    assert_true(n > 2);
    assert_int_equal(got[n - 1], '\n');
    assert_int_equal(strncmp(got, expected_body, n - 1), 0);
    assert_int_equal(strlen(expected_body), n - 1);
    assert_true(strchr(got, '\n') < got + n - 1); /* pretty-printed: several lines */
    cJSON *back = mlpio_json_read_file(path, &err);
    assert_non_null(back);
    assert_true(cJSON_Compare(doc, back, 1));
    cJSON_Delete(back);
    cJSON_Delete(doc);
    cJSON_free(expected_body);
    free(got);
    assert_int_equal(count_entries(f), 1);
}

struct failure_case {
    const char *name;
    int fsync_at, fsync_errno, rename_at, rename_errno;
    const char *subdir; /* write into this (missing) subdirectory instead */
    int cause;
    const char *op; /* word the message must contain */
};

static const struct failure_case failure_cases[] = {
    {"fsync_eio", 1, EIO, 0, 0, NULL, EIO, "fsync"},
    {"fsync_enospc", 1, ENOSPC, 0, 0, NULL, ENOSPC, "fsync"},
    {"rename_exdev", 0, 0, 1, EXDEV, NULL, EXDEV, "rename"},
    {"missing_directory", 0, 0, 0, 0, "no-such-dir", ENOENT, "create"},
};

static void test_failed_replace_keeps_old(void **state)
{
    struct scratch *f = *state;
    for (size_t i = 0; i < sizeof(failure_cases) / sizeof(failure_cases[0]); i++) {
        const struct failure_case *c = &failure_cases[i];
        char path[PATH_MAX], old_path[PATH_MAX], sub[PATH_MAX];
        struct mlpio_error err = {0};
        path_join(old_path, f->dir, "metadata.json");
        file_write(old_path, "{\"old\": true}\n", 14);
        if (c->subdir)
            path_join(path, path_join(sub, f->dir, c->subdir), "metadata.json");
        else
            snprintf(path, sizeof(path), "%s", old_path);
        cJSON *doc = cJSON_Parse("{\"new\": true}");
        arm(c->fsync_at, c->fsync_errno, c->rename_at, c->rename_errno);
        int rc = mlpio_json_write_atomic(path, doc, &err);
        arm(0, 0, 0, 0);
        cJSON_Delete(doc);
        if (rc != -1)
            fail_msg("%s: write succeeded", c->name);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.source, MLPIO_SRC_ERRNO);
        assert_int_equal(err.cause, c->cause);
        if (!strstr(err.message, path) || !strstr(err.message, c->op))
            fail_msg("%s: message \"%s\" lacks the path or \"%s\"", c->name, err.message, c->op);
        assert_true(err.hint[0] != '\0');
        assert_content(old_path, "{\"old\": true}\n");
        assert_int_equal(count_entries(f), 1);
    }
}

static void test_directory_sync_failure_reported(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "a.txt");
    /* The file's fsync succeeds, the directory's (second call) fails. */
    arm(2, EIO, 0, 0);
    assert_int_equal(mlpio_file_write_atomic(path, "new", 3, &err), -1);
    arm(0, 0, 0, 0);
    assert_int_equal(err.cause, EIO);
    assert_non_null(strstr(err.message, "directory"));
    assert_non_null(strstr(err.message, f->dir));
    assert_int_equal(count_entries(f), 1);

    /* A file system that cannot sync directories is not an error. */
    arm(2, EINVAL, 0, 0);
    assert_int_equal(mlpio_file_write_atomic(path, "newer", 5, &err), 0);
    arm(0, 0, 0, 0);
    assert_content(path, "newer");
}

static void test_create_exclusive(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "run.lock");
    assert_int_equal(mlpio_file_create_exclusive(path, "first\n", 6, &err), 0);
    assert_content(path, "first\n");

    assert_int_equal(mlpio_file_create_exclusive(path, "second\n", 7, &err), -1);
    assert_int_equal(err.source, MLPIO_SRC_ERRNO);
    assert_int_equal(err.cause, EEXIST);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.hint, "never overwritten"));
    assert_content(path, "first\n");

    /* A failure after creation removes the half-written file. */
    char other[PATH_MAX];
    path_join(other, f->dir, "other.json");
    arm(1, EIO, 0, 0);
    assert_int_equal(mlpio_file_create_exclusive(other, "{}", 2, &err), -1);
    arm(0, 0, 0, 0);
    assert_int_equal(err.cause, EIO);
    assert_int_equal(access(other, F_OK), -1);
    assert_int_equal(count_entries(f), 1);
}

struct syntax_case {
    const char *name;
    const char *text;
    size_t len; /* 0: strlen(text) */
    int line, column;
    const char *why; /* substring of the message */
};

static const struct syntax_case syntax_cases[] = {
    {"unquoted_name", "{\n  \"a\": 1,\n    x}\n", 0, 3, 5, "member name"},
    {"missing_comma", "{\n \"a\": [1,2,\n   3 4]}", 0, 3, 6, "expected ','"},
    {"unterminated_string", "{\"a\": \"abc", 0, 1, 7, "unterminated string"},
    {"trailing_text", "{\"a\":1} x", 0, 1, 9, "after the JSON value"},
    {"trailing_comma", "{\"a\":1,}", 0, 1, 8, "member name"},
    {"bad_literal", "{\"a\": tru}", 0, 1, 7, "literal"},
    {"truncated", "[1,2,", 0, 1, 6, "end of input"},
    {"empty", "", 0, 1, 1, "empty"},
    {"blank", "\n\n  ", 0, 3, 3, "empty"},
    {"utf8_counts_characters", "{\"\xc3\xa9t\xc3\xa9\": x}", 0, 1, 9, "literal"},
    {"missing_colon", "{\n\t\"key\" 1}", 0, 2, 8, "':'"},
    {"bad_escape", "[\"a\\qb\"]", 0, 1, 5, "escape"},
    {"bad_number", "[1, -]", 0, 1, 6, "number"},
    {"nul_byte", "{\"a\":\0}", 7, 1, 6, "NUL"},
};

static void test_read_file_syntax_errors(void **state)
{
    struct scratch *f = *state;
    for (size_t i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
        const struct syntax_case *c = &syntax_cases[i];
        char path[PATH_MAX], line[32], column[32];
        struct mlpio_error err = {0};
        path_join(path, f->dir, "bad.json");
        file_write(path, c->text, c->len ? c->len : strlen(c->text));
        cJSON *json = mlpio_json_read_file(path, &err);
        if (json)
            fail_msg("%s: parsed", c->name);
        snprintf(line, sizeof(line), "line %d,", c->line);
        snprintf(column, sizeof(column), "column %d:", c->column);
        if (!strstr(err.message, path) || !strstr(err.message, line) ||
            !strstr(err.message, column) || !strstr(err.message, c->why))
            fail_msg("%s: message \"%s\" lacks the path, \"%s\", \"%s\" or \"%s\"", c->name,
                     err.message, line, column, c->why);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        assert_true(err.hint[0] != '\0');
    }
}

static void test_excerpt_shows_the_spot(void **state)
{
    struct mlpio_error err = {0};
    /* A long line: the excerpt is a window around the error, marked as cut. */
    char text[400];
    snprintf(text, sizeof(text), "{\"padding\": \"%0100d\", \"oops\" 1, \"more\": \"%0100d\"}", 0,
             0);
    assert_null(mlpio_json_parse_text(text, "event line", &err));
    assert_non_null(strstr(err.message, "event line"));
    assert_non_null(strstr(err.message, "\"oops\" 1"));
    assert_non_null(strstr(err.message, "..."));
    assert_true(strlen(err.message) < 300);
}

static void test_too_deep(void **state)
{
    struct mlpio_error err = {0};
    char text[2 * 1100 + 1];
    memset(text, '[', 1100);
    memset(text + 1100, ']', 1100);
    text[2200] = '\0';
    assert_null(mlpio_json_parse_text(text, "deep", &err));
    assert_non_null(strstr(err.message, "nesting"));
    assert_non_null(strstr(err.message, "column 1001"));
}

static void test_parse_text(void **state)
{
    struct mlpio_error err = {0};
    cJSON *ok =
        mlpio_json_parse_text("{\"name\": \"start\", \"context\": {}}", "events.jsonl", &err);
    assert_non_null(ok);
    assert_string_equal(cJSON_GetObjectItem(ok, "name")->valuestring, "start");
    cJSON_Delete(ok);

    assert_null(mlpio_json_parse_text("{\n\"a\" 1}", "events.jsonl line 7", &err));
    assert_non_null(strstr(err.message, "events.jsonl line 7"));
    assert_non_null(strstr(err.message, "line 2, column 5"));
}

static void test_read_missing_file(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "absent.json");
    assert_null(mlpio_json_read_file(path, &err));
    assert_int_equal(err.source, MLPIO_SRC_ERRNO);
    assert_int_equal(err.cause, ENOENT);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "ENOENT"));
    assert_true(err.hint[0] != '\0');

    assert_null(mlpio_json_read_file(f->dir, &err));
    assert_non_null(strstr(err.message, f->dir));
    assert_non_null(strstr(err.message, "is a directory"));
}

/* A FIFO without a writer would block open() forever and /dev/zero would grow the buffer
 * until memory runs out: both are refused at once, by what they are. */
static void test_read_refuses_special_files(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "fifo.json");
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(mlpio_json_read_file(path, &err));
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "FIFO"));
    assert_true(err.hint[0] != '\0');
    unlink(path);

    memset(&err, 0, sizeof(err));
    assert_null(mlpio_json_read_file("/dev/zero", &err));
    assert_non_null(strstr(err.message, "character device"));
}

static void test_read_size_limit(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "limit.json");
    const char *text = "{\"key\": \"0123456789\"}";
    assert_int_equal(mlpio_file_write_atomic(path, text, strlen(text), &err), 0);
    cJSON *ok = mlpio_json_read_file_max(path, strlen(text), &err);
    assert_non_null(ok);
    cJSON_Delete(ok);
    assert_null(mlpio_json_read_file_max(path, strlen(text) - 1, &err));
    assert_non_null(strstr(err.message, "more than the"));
    char size[32];
    snprintf(size, sizeof(size), "%zu bytes", strlen(text));
    assert_non_null(strstr(err.message, size));
}

static void test_read_large_file(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, f->dir, "big.json");
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < 20000; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(i));
    assert_int_equal(mlpio_json_write_atomic(path, arr, &err), 0);
    cJSON *back = mlpio_json_read_file(path, &err);
    assert_non_null(back);
    assert_int_equal(cJSON_GetArraySize(back), 20000);
    assert_int_equal((int)cJSON_GetArrayItem(back, 19999)->valuedouble, 19999);
    cJSON_Delete(back);
    cJSON_Delete(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_atomic_exact_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_write_pretty_with_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_replace_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_sync_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file_syntax_errors, setup, teardown),
        cmocka_unit_test(test_excerpt_shows_the_spot),
        cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test_setup_teardown(test_read_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_large_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_refuses_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_size_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
