/* Tests of the event log writer and line validator.
 * mlpio-test-wrap: write */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/eventlog.h"
#include "support/files.h"

/* ---- write(2) seam -------------------------------------------------------------------- */

enum fault {
    FAULT_NONE,
    FAULT_ENOSPC,         /* every write fails */
    FAULT_EINTR_SHORT,    /* first call EINTR, then at most 7 bytes per call */
    FAULT_PARTIAL_ENOSPC, /* first call writes 10 bytes, then ENOSPC */
};

static enum fault fault_mode;
static int write_calls;

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    write_calls++;
    switch (fault_mode) {
    case FAULT_NONE:
        break;
    case FAULT_ENOSPC:
        errno = ENOSPC;
        return -1;
    case FAULT_EINTR_SHORT:
        if (write_calls == 1) {
            errno = EINTR;
            return -1;
        }
        return __real_write(fd, buf, n < 7 ? n : 7);
    case FAULT_PARTIAL_ENOSPC:
        if (write_calls == 1)
            return __real_write(fd, buf, n < 10 ? n : 10);
        errno = ENOSPC;
        return -1;
    }
    return __real_write(fd, buf, n);
}

/* ---- helpers -------------------------------------------------------------------------- */

struct dir {
    char path[PATH_MAX];
    char log[PATH_MAX + 16];
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof(*d));
    if (!d || scratch_make(d->path, sizeof(d->path), NULL, "mlpio-eventlog") != 0) {
        free(d);
        return -1;
    }
    snprintf(d->log, sizeof(d->log), "%s/events.jsonl", d->path);
    fault_mode = FAULT_NONE;
    write_calls = 0;
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    unlink(d->log);
    int rc = rmdir(d->path);
    free(d);
    fault_mode = FAULT_NONE;
    return rc;
}

/* Whole file, NUL-terminated; *len excludes the NUL. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        cap += 4096;
        buf = realloc(buf, cap + 1);
        assert_non_null(buf);
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (n == cap);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

static struct mlpio_eventlog *open_log(const char *path)
{
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = mlpio_eventlog_open(path, &err);
    if (!log)
        fail_msg("%s", err.message);
    return log;
}

/* ---- writer --------------------------------------------------------------------------- */

static void test_append_and_read_back(void **state)
{
    struct dir *d = *state;
    const char *names[] = {"start", "config", "cluster", "phase.begin", "finish"};
    const char *contexts[] = {
        "{\"version\":\"0.1.0\",\"ranks\":4}",
        "{\"text\":\"line one\\nline two \\\"quoted\\\" \\u00e9\\ttab\"}",
        NULL,
        "{\"phase\":{\"name\":\"write\",\"bytes\":[1,2,3]},\"ok\":true}",
        "{\"rc\":0}",
    };
    struct mlpio_error err = {0};
    double before = (double)time(NULL);
    struct mlpio_eventlog *log = open_log(d->log);
    for (int i = 0; i < 5; i++) {
        cJSON *ctx = contexts[i] ? cJSON_Parse(contexts[i]) : NULL;
        assert_true(!contexts[i] || ctx);
        if (mlpio_eventlog_append(log, names[i], ctx, &err) != 0)
            fail_msg("%s", err.message);
        cJSON_Delete(ctx);
    }
    /* One write(2) per event, so a reader never sees an event in pieces. */
    assert_int_equal(write_calls, 5);
    mlpio_eventlog_close(&log);
    assert_null(log);
    double after = (double)time(NULL) + 1;

    size_t len;
    char *text = read_all(d->log, &len);
    assert_int_equal(count_lines(text), 5);
    assert_int_equal(text[len - 1], '\n');
    double last = 0;
    const char *line = text;
    for (int i = 0; i < 5; i++) {
        const char *nl = strchr(line, '\n');
        cJSON *ev = NULL;
        if (mlpio_eventlog_parse_line(line, (size_t)(nl - line), &ev, &err) != 0)
            fail_msg("line %d: %s", i, err.message);
        assert_string_equal(cJSON_GetObjectItem(ev, "name")->valuestring, names[i]);
        double ts = cJSON_GetObjectItem(ev, "timestamp")->valuedouble;
        assert_true(ts >= last);
        assert_true(ts >= before && ts <= after);
        last = ts;
        /* Microsecond precision: six digits after the point, as written. */
        const char *dot = strchr(line, '.');
        assert_true(dot && dot < nl && strspn(dot + 1, "0123456789") == 6);
        cJSON *want = cJSON_Parse(contexts[i] ? contexts[i] : "{}");
        assert_true(cJSON_Compare(cJSON_GetObjectItem(ev, "context"), want, 1));
        cJSON_Delete(want);
        cJSON_Delete(ev);
        line = nl + 1;
    }
    free(text);
}

static void test_append_at_exact_line(void **state)
{
    struct dir *d = *state;
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    cJSON *ctx = cJSON_Parse("{\"rc\":0}");
    assert_int_equal(mlpio_eventlog_append_at(log, 1552593348.073045, "finish", ctx, &err), 0);
    assert_int_equal(mlpio_eventlog_append_at(log, 0.0, "zero", NULL, &err), 0);
    const double bad[] = {-1.0, -1e-3, NAN, INFINITY};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mlpio_eventlog_append_at(log, bad[i], "bad", NULL, &err), -1);
        assert_non_null(strstr(err.message, "timestamp"));
    }
    cJSON_Delete(ctx);
    mlpio_eventlog_close(&log);

    size_t len;
    char *text = read_all(d->log, &len);
    assert_string_equal(text, "{\"timestamp\":1552593348.073045,\"name\":\"finish\",\"context\":"
                              "{\"rc\":0}}\n"
                              "{\"timestamp\":0.000000,\"name\":\"zero\",\"context\":{}}\n");
    free(text);
}

static void test_reopen_appends(void **state)
{
    struct dir *d = *state;
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    assert_int_equal(mlpio_eventlog_append(log, "start", NULL, &err), 0);
    assert_int_equal(mlpio_eventlog_append(log, "config", NULL, &err), 0);
    mlpio_eventlog_close(&log);
    size_t first_len, second_len;
    char *first = read_all(d->log, &first_len);

    log = open_log(d->log);
    assert_int_equal(mlpio_eventlog_append(log, "finish", NULL, &err), 0);
    mlpio_eventlog_close(&log);
    char *second = read_all(d->log, &second_len);

    assert_true(second_len > first_len);
    assert_memory_equal(first, second, first_len);
    assert_int_equal(count_lines(second), 3);
    assert_non_null(strstr(second + first_len, "\"name\":\"finish\""));
    struct stat st;
    assert_int_equal(stat(d->log, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0644 & ~mask);
    free(first);
    free(second);
}

static void test_invalid_events_rejected(void **state)
{
    struct dir *d = *state;
    const char *names[] = {"", "two words", "tab\there", "new\nline", "trail ", "bell\a"};
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(mlpio_eventlog_append(log, names[i], NULL, &err), -1);
        assert_non_null(strstr(err.message, "event name"));
    }
    assert_int_equal(mlpio_eventlog_append(log, NULL, NULL, &err), -1);
    cJSON *array = cJSON_CreateArray();
    assert_int_equal(mlpio_eventlog_append(log, "ok", array, &err), -1);
    assert_non_null(strstr(err.message, "not a JSON object"));
    cJSON_Delete(array);
    mlpio_eventlog_close(&log);
    mlpio_eventlog_close(&log);
    mlpio_eventlog_close(NULL);
    assert_int_equal(write_calls, 0);
    struct stat st;
    assert_int_equal(stat(d->log, &st), 0);
    assert_int_equal(st.st_size, 0);
}

static void test_open_failure_names_path(void **state)
{
    struct dir *d = *state;
    char path[PATH_MAX + 32];
    struct mlpio_error err = {0};
    snprintf(path, sizeof(path), "%s/missing/events.jsonl", d->path);
    assert_null(mlpio_eventlog_open(path, &err));
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "ENOENT"));
}

static void test_write_enospc(void **state)
{
    struct dir *d = *state;
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    fault_mode = FAULT_ENOSPC;
    assert_int_equal(mlpio_eventlog_append(log, "progress", NULL, &err), -1);
    assert_non_null(strstr(err.message, d->log));
    assert_non_null(strstr(err.message, "ENOSPC"));
    assert_int_equal(err.cause, ENOSPC);
    assert_true(err.hint[0] != '\0');
    /* Nothing was written, so the log is still usable once space is back. */
    fault_mode = FAULT_NONE;
    assert_int_equal(mlpio_eventlog_append(log, "finish", NULL, &err), 0);
    mlpio_eventlog_close(&log);
    size_t len;
    char *text = read_all(d->log, &len);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "\"finish\""));
    free(text);
}

static void test_short_writes_completed(void **state)
{
    struct dir *d = *state;
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    cJSON *ctx = cJSON_Parse("{\"message\":\"a context long enough to need many writes\"}");
    fault_mode = FAULT_EINTR_SHORT;
    assert_int_equal(mlpio_eventlog_append_at(log, 12.5, "exception", ctx, &err), 0);
    assert_true(write_calls > 5);
    mlpio_eventlog_close(&log);
    size_t len;
    char *text = read_all(d->log, &len);
    assert_string_equal(text, "{\"timestamp\":12.500000,\"name\":\"exception\",\"context\":"
                              "{\"message\":\"a context long enough to need many writes\"}}\n");
    free(text);
    cJSON_Delete(ctx);
}

static void test_partial_write_stops_log(void **state)
{
    struct dir *d = *state;
    struct mlpio_error err = {0};
    struct mlpio_eventlog *log = open_log(d->log);
    fault_mode = FAULT_PARTIAL_ENOSPC;
    assert_int_equal(mlpio_eventlog_append(log, "progress", NULL, &err), -1);
    assert_non_null(strstr(err.message, "ENOSPC"));
    /* Appending after a fragment would glue two events into one invalid line. */
    fault_mode = FAULT_NONE;
    assert_int_equal(mlpio_eventlog_append(log, "finish", NULL, &err), -1);
    assert_non_null(strstr(err.message, "incomplete"));
    assert_non_null(strstr(err.message, d->log));
    mlpio_eventlog_close(&log);
    struct stat st;
    assert_int_equal(stat(d->log, &st), 0);
    assert_int_equal(st.st_size, 10);
}

/* ---- validator ------------------------------------------------------------------------ */

struct bad_line {
    const char *line;
    const char *words;
};

static const struct bad_line bad_lines[] = {
    {"", "empty line"},
    {"not json", "not valid JSON"},
    {"{\"timestamp\":1,\"name\":\"x\",\"context\":{}", "not valid JSON"},
    {"[1,2,3]", "not a JSON object"},
    {"\"start\"", "not a JSON object"},
    {"{\"timestamp\":1,\"context\":{}}", "no \"name\""},
    {"{\"timestamp\":1,\"name\":5,\"context\":{}}", "\"name\" is not a string"},
    {"{\"timestamp\":1,\"name\":\"\",\"context\":{}}", "\"name\" is empty"},
    {"{\"timestamp\":1,\"name\":\"a b\",\"context\":{}}", "whitespace"},
    {"{\"name\":\"x\",\"context\":{}}", "no \"timestamp\""},
    {"{\"timestamp\":-0.5,\"name\":\"x\",\"context\":{}}", "\"timestamp\" is not a number >= 0"},
    {"{\"timestamp\":\"1\",\"name\":\"x\",\"context\":{}}", "\"timestamp\" is not a number"},
    {"{\"timestamp\":1,\"name\":\"x\"}", "no \"context\""},
    {"{\"timestamp\":1,\"name\":\"x\",\"context\":[]}", "\"context\" is not an object"},
    {"{\"timestamp\":1,\"name\":\"x\",\"context\":\"s\"}", "\"context\" is not an object"},
    {"{\"timestamp\":1,\"name\":\"a\",\"context\":{}}{\"timestamp\":2,\"name\":\"b\","
     "\"context\":{}}",
     "unexpected data after the event at byte 39"},
    {"{\"timestamp\":1,\"name\":\"x\",\"context\":{}} garbage", "unexpected data"},
    {"{\"timestamp\":1,\"name\":\"x\",\"context\":{}}\n{}", "contains a newline"},
};

static void test_parse_line_rejects(void **state)
{
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        struct mlpio_error err = {0};
        cJSON *ev = (cJSON *)&err; /* must come back NULL */
        int rc = mlpio_eventlog_parse_line(bad_lines[i].line, strlen(bad_lines[i].line), &ev, &err);
        assert_int_equal(rc, -1);
        assert_null(ev);
        if (!strstr(err.message, bad_lines[i].words))
            fail_msg("line %zu '%s': message '%s' lacks '%s'", i, bad_lines[i].line, err.message,
                     bad_lines[i].words);
    }
    /* A NUL inside the given length is not hidden by a terminated prefix. */
    static const char nul[] = "{\"timestamp\":1,\"name\":\"x\",\"context\":{}}\0junk";
    struct mlpio_error err = {0};
    cJSON *ev = NULL;
    assert_int_equal(mlpio_eventlog_parse_line(nul, sizeof(nul) - 1, &ev, &err), -1);
    assert_non_null(strstr(err.message, "NUL"));
}

static void test_parse_line_bounded(void **state)
{
    /* Two lines in one buffer: len selects the first, without a terminator of its own. */
    const char buf[] = "{\"timestamp\":1.5,\"name\":\"a\",\"context\":{\"k\":[1]}}\n"
                       "{\"timestamp\":2,\"name\":\"b\",\"context\":{}}\n";
    size_t first = (size_t)(strchr(buf, '\n') - buf);
    struct mlpio_error err = {0};
    cJSON *ev = NULL;
    if (mlpio_eventlog_parse_line(buf, first, &ev, &err) != 0)
        fail_msg("%s", err.message);
    assert_string_equal(cJSON_GetObjectItem(ev, "name")->valuestring, "a");
    assert_float_equal(cJSON_GetObjectItem(ev, "timestamp")->valuedouble, 1.5, 0);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "context"), "k")), 1);
    cJSON_Delete(ev);
    /* Blanks around the object (a CR from a copied file) are tolerated. */
    const char *crlf = " {\"timestamp\":0,\"name\":\"x\",\"context\":{}}\r";
    assert_int_equal(mlpio_eventlog_parse_line(crlf, strlen(crlf), &ev, &err), 0);
    cJSON_Delete(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_at_exact_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_events_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failure_names_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_writes_completed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_write_stops_log, setup, teardown),
        cmocka_unit_test(test_parse_line_rejects),
        cmocka_unit_test(test_parse_line_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
