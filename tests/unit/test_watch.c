/* Tests of mlpio watch: the line formatter, context matching, the reader that follows a file
 * by byte offset, and the command on fixture logs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/eventlog.h"
#include "app/watch.h"
#include "support/files.h"

/* ---- helpers -------------------------------------------------------------------------- */

static cJSON *parse_event(const char *line)
{
    cJSON *ev = NULL;
    struct mlpio_error err = {0};
    if (mlpio_eventlog_parse_line(line, strlen(line), &ev, &err) != 0)
        fail_msg("fixture line rejected: %s: %s", line, err.message);
    return ev;
}

/* The text line of one event, in a static buffer. */
static const char *format(const char *line, enum mlpio_watch_time style, double first_ts)
{
    static char text[4096];
    cJSON *ev = parse_event(line);
    FILE *out = fmemopen(text, sizeof(text), "w");
    assert_non_null(out);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_format_event(out, ev, style, first_ts, &err), 0);
    assert_int_equal(fclose(out), 0);
    cJSON_Delete(ev);
    return text;
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int append(int fd, const char *text)
{
    size_t n = strlen(text);
    return write(fd, text, n) == (ssize_t)n ? 0 : -1;
}

static int setup_watch(void **state)
{
    return scratch_setup(state, "mlpio-watch");
}

static int open_scratch_file(const struct scratch *s, char *path, const char *name)
{
    path_join(path, s->dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    return fd;
}

/* ---- time styles ---------------------------------------------------------------------- */

static void test_time_styles(void **state)
{
    (void)state;
    static const struct {
        enum mlpio_watch_time style;
        const char *tz;
        double ts, first;
        const char *want;
    } cases[] = {
        {MLPIO_WATCH_TIME_RAW, "UTC", 1714566896.123456, 0, "1714566896.123456"},
        {MLPIO_WATCH_TIME_RAW, "UTC", 0, 0, "0.000000"},
        {MLPIO_WATCH_TIME_ISO, "UTC", 1714566896.123456, 0, "2024-05-01T12:34:56.123Z"},
        /* TZ does not move ISO times: they are UTC. */
        {MLPIO_WATCH_TIME_ISO, "IST-5:30", 1714566896.123456, 0, "2024-05-01T12:34:56.123Z"},
        /* .9996 s rounds up into the next second, minute, hour, day and year. */
        {MLPIO_WATCH_TIME_ISO, "UTC", 1704067199.9996, 0, "2024-01-01T00:00:00.000Z"},
        {MLPIO_WATCH_TIME_ISO, "UTC", 0, 0, "1970-01-01T00:00:00.000Z"},
        /* Past the year 9999 there is no ISO date: the raw number. */
        {MLPIO_WATCH_TIME_ISO, "UTC", 1e12, 0, "1000000000000.000000"},
        {MLPIO_WATCH_TIME_OFFSET, "UTC", 1714566908.5, 1714566896.123456, "12.377"},
        {MLPIO_WATCH_TIME_OFFSET, "UTC", 1714566896.123456, 1714566896.123456, "0.000"},
        {MLPIO_WATCH_TIME_HUMAN, "UTC", 1714566896.123456, 0, "12:34:56.123"},
        {MLPIO_WATCH_TIME_HUMAN, "IST-5:30", 1714566896.123456, 0, "18:04:56.123"},
        {MLPIO_WATCH_TIME_HUMAN, "UTC", 1714566896.9996, 0, "12:34:57.000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        set_tz(cases[i].tz);
        mlpio_watch_format_time(buf, sizeof(buf), cases[i].style, cases[i].ts, cases[i].first);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i].want);
    }
    set_tz("UTC");
}

static void test_time_parse(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mlpio_watch_time style;
    } good[] = {{"raw", MLPIO_WATCH_TIME_RAW},
                {"iso", MLPIO_WATCH_TIME_ISO},
                {"offset", MLPIO_WATCH_TIME_OFFSET},
                {"human", MLPIO_WATCH_TIME_HUMAN}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        enum mlpio_watch_time t = MLPIO_WATCH_TIME_ISO;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_watch_time_parse(good[i].name, &t, &err), 0);
        assert_int_equal(t, good[i].style);
    }
    const char *bad[] = {"", "ISO", "local", "iso8601"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum mlpio_watch_time t = MLPIO_WATCH_TIME_RAW;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_watch_time_parse(bad[i], &t, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_USAGE);
        assert_non_null(strstr(err.message, "time style"));
        assert_int_equal(t, MLPIO_WATCH_TIME_RAW);
    }
}

/* ---- the text line -------------------------------------------------------------------- */

#define EV(ctx) "{\"timestamp\":1714566896.123456,\"name\":\"ev\",\"context\":" ctx "}"
#define T "1714566896.123456 ev"

static void test_format_event(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {EV("{}"), T "\n"},
        /* Keys in the log's order, not sorted. */
        {EV("{\"z\":1,\"a\":2,\"m\":3}"), T " z=1 a=2 m=3\n"},
        {EV("{\"s\":\"plain\"}"), T " s=plain\n"},
        {EV("{\"path\":\"/x/y=z,w\"}"), T " path=/x/y=z,w\n"},
        {EV("{\"s\":\"two words\"}"), T " s=\"two words\"\n"},
        {EV("{\"s\":\"say \\\"hi\\\"\"}"), T " s=\"say \\\"hi\\\"\"\n"},
        {EV("{\"s\":\"it's\"}"), T " s=\"it's\"\n"},
        {EV("{\"s\":\"\"}"), T " s=\"\"\n"},
        /* Never a raw newline or tab in the output: one event, one line. */
        {EV("{\"s\":\"a\\nb\"}"), T " s=\"a\\nb\"\n"},
        {EV("{\"s\":\"a\\tb\"}"), T " s=\"a\\tb\"\n"},
        {EV("{\"s\":\"caf\\u00e9\"}"), T " s=caf\xc3\xa9\n"},
        {EV("{\"i\":42,\"neg\":-7,\"f\":0.25,\"big\":25325268992,\"exp\":1e+300}"),
         T " i=42 neg=-7 f=0.25 big=25325268992 exp=1e+300\n"},
        {EV("{\"t\":true,\"f\":false,\"n\":null}"), T " t=true f=false n=null\n"},
        {EV("{\"o\":{\"a\":[1,\"x y\",{\"b\":null}],\"c\":{}}}"),
         T " o={\"a\":[1,\"x y\",{\"b\":null}],\"c\":{}}\n"},
        {EV("{\"arr\":[]}"), T " arr=[]\n"},
        {EV("{\"two words\":1,\"k=v\":2,\"\":3}"), T " \"two words\"=1 \"k=v\"=2 \"\"=3\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = format(cases[i].line, MLPIO_WATCH_TIME_RAW, 0);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
    }
}

static void test_format_event_styles(void **state)
{
    (void)state;
    set_tz("UTC");
    const char *line = EV("{\"k\":1}");
    assert_string_equal(format(line, MLPIO_WATCH_TIME_ISO, 0), "2024-05-01T12:34:56.123Z ev k=1\n");
    assert_string_equal(format(line, MLPIO_WATCH_TIME_OFFSET, 1714566890.0), "6.123 ev k=1\n");
    assert_string_equal(format(line, MLPIO_WATCH_TIME_HUMAN, 0), "12:34:56.123 ev k=1\n");
    assert_string_equal(format(line, MLPIO_WATCH_TIME_RAW, 0), "1714566896.123456 ev k=1\n");
}

static void test_format_event_output_error(void **state)
{
    (void)state;
    cJSON *ev = parse_event(EV("{\"k\":1}"));
    FILE *out = fopen("/dev/null", "r"); /* every write fails */
    assert_non_null(out);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_format_event(out, ev, MLPIO_WATCH_TIME_RAW, 0, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "writing event 'ev'"));
    fclose(out);
    cJSON_Delete(ev);
}

/* ---- --match-context ------------------------------------------------------------------ */

static void test_match_parse(void **state)
{
    (void)state;
    struct mlpio_watch_match m;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_match_parse("exit_code=0", &m, &err), 0);
    assert_int_equal(m.key_len, 9);
    assert_memory_equal(m.key, "exit_code", 9);
    assert_string_equal(m.value, "0");
    assert_int_equal(mlpio_watch_match_parse("expr=a=b", &m, &err), 0);
    assert_int_equal(m.key_len, 4);
    assert_string_equal(m.value, "a=b");
    assert_int_equal(mlpio_watch_match_parse("empty=", &m, &err), 0);
    assert_string_equal(m.value, "");
    const char *bad[] = {"novalue", "=1", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mlpio_watch_match_parse(bad[i], &m, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_USAGE);
        assert_non_null(strstr(err.message, "KEY=VALUE"));
    }
}

static void test_value_matches(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *text;
        bool want;
    } cases[] = {
        {"\"ok\"", "ok", true},
        {"\"ok\"", "OK", false},
        {"\"\"", "", true},
        {"\"0\"", "0", true},
        {"0", "0", true},
        {"0", "0.0", true},
        {"0", "", false},
        {"0", "zero", false},
        {"0", "0x", false},
        {"2.5", "2.50", true},
        {"2.5", "2.4", false},
        {"1e3", "1000", true},
        {"true", "true", true},
        {"true", "1", false},
        {"false", "false", true},
        {"null", "null", true},
        {"null", "", false},
        {"[1,2]", "[1, 2]", true},
        {"[1,2]", "[2,1]", false},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", true},
        {"{\"a\":1}", "{\"a\":2}", false},
        {"{\"a\":1}", "not json", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *v = cJSON_Parse(cases[i].json);
        assert_non_null(v);
        if (mlpio_watch_value_matches(v, cases[i].text) != cases[i].want)
            fail_msg("case %zu: %s vs '%s' should be %s", i, cases[i].json, cases[i].text,
                     cases[i].want ? "equal" : "different");
        cJSON_Delete(v);
    }
}

static void test_context_matches(void **state)
{
    (void)state;
    cJSON *ctx = cJSON_Parse("{\"exit_code\":0,\"status\":\"success\",\"phase\":\"write\"}");
    assert_non_null(ctx);
    struct mlpio_watch_match m[3];
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_match_parse("exit_code=0", &m[0], &err), 0);
    assert_int_equal(mlpio_watch_match_parse("status=success", &m[1], &err), 0);
    assert_int_equal(mlpio_watch_match_parse("exit=0", &m[2], &err), 0);
    assert_true(mlpio_watch_context_matches(ctx, m, 0));
    assert_true(mlpio_watch_context_matches(ctx, m, 1));
    assert_true(mlpio_watch_context_matches(ctx, m, 2));
    /* A key that is only a prefix of a context key is not that key. */
    assert_false(mlpio_watch_context_matches(ctx, m, 3));
    assert_false(mlpio_watch_context_matches(ctx, &m[2], 1));
    assert_int_equal(mlpio_watch_match_parse("status=failed", &m[1], &err), 0);
    assert_false(mlpio_watch_context_matches(ctx, m, 2));
    cJSON_Delete(ctx);
}

/* ---- the reader ----------------------------------------------------------------------- */

#define MAX_SEEN 16

/* What the line callback saw; it stops after stop_after lines when that is not 0. */
struct seen {
    int n;
    char text[MAX_SEEN][256];
    uint64_t lineno[MAX_SEEN], offset[MAX_SEEN];
    int stop_after;
    bool fail;
};

static int on_line(void *arg, const char *line, size_t len, uint64_t lineno, uint64_t offset,
                   struct mlpio_error *err)
{
    struct seen *s = arg;
    if (s->fail)
        return mlpio_error_set(err, MLPIO_ERR_IO, "callback failed at line %llu",
                               (unsigned long long)lineno);
    if (s->n < MAX_SEEN) {
        snprintf(s->text[s->n], sizeof(s->text[0]), "%.*s", (int)len, line);
        s->lineno[s->n] = lineno;
        s->offset[s->n] = offset;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static struct mlpio_watch_reader *reader(int fd, const char *path)
{
    struct mlpio_error err = {0};
    struct mlpio_watch_reader *r = mlpio_watch_reader_create(fd, path, &err);
    if (!r)
        fail_msg("%s", err.message);
    return r;
}

static int poll_ok(struct mlpio_watch_reader *r, struct seen *s)
{
    struct mlpio_error err = {0};
    int rc = mlpio_watch_reader_poll(r, on_line, s, &err);
    if (rc < 0)
        fail_msg("poll failed: %s", err.message);
    return rc;
}

static struct mlpio_watch_stats stats(const struct mlpio_watch_reader *r)
{
    struct mlpio_watch_stats st;
    mlpio_watch_reader_stats(r, &st);
    return st;
}

static void test_reader_lines_and_offsets(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {0};
    assert_int_equal(poll_ok(r, &s), 0); /* empty file: nothing */
    assert_int_equal(s.n, 0);
    assert_int_equal(append(fd, "one\ntwo\n\nfour\n"), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 4);
    static const char *const text[] = {"one", "two", "", "four"};
    static const uint64_t off[] = {0, 4, 8, 9};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s.text[i], text[i]);
        assert_int_equal(s.lineno[i], (uint64_t)i + 1);
        assert_int_equal(s.offset[i], off[i]);
    }
    /* Nothing new: nothing read, nothing handed out again. */
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 4);
    struct mlpio_watch_stats st = stats(r);
    assert_int_equal(st.bytes_read, 14);
    assert_int_equal(st.offset, 14);
    assert_int_equal(st.reads, 1);
    assert_int_equal(st.lines, 4);
    assert_int_equal(st.pending, 0);
    mlpio_watch_reader_destroy(&r);
    assert_null(r);
    mlpio_watch_reader_destroy(&r); /* NULL is accepted */
    close(fd);
}

static void test_reader_partial_line(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {0};
    assert_int_equal(append(fd, "first\n{\"timestamp\":1,"), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 1); /* the half line waits for its newline */
    struct mlpio_watch_stats st = stats(r);
    assert_int_equal(st.partial, 15);
    assert_int_equal(st.pending, 15);
    assert_int_equal(append(fd, "\"name\":\"x\""), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(stats(r).partial, 25);
    assert_int_equal(append(fd, ",\"context\":{}}\nnext"), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "{\"timestamp\":1,\"name\":\"x\",\"context\":{}}");
    assert_int_equal(s.lineno[1], 2);
    assert_int_equal(s.offset[1], 6);
    st = stats(r);
    assert_int_equal(st.partial, 4);
    /* The half line's bytes were kept, not read again. */
    assert_int_equal(st.bytes_read, st.offset);
    assert_int_equal(st.bytes_read, 6 + 40 + 4);
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_stop_keeps_lines(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {.stop_after = 2};
    assert_int_equal(append(fd, "a\nb\nc\nd\n"), 0);
    assert_int_equal(poll_ok(r, &s), 1);
    assert_int_equal(s.n, 2);
    s.stop_after = 0;
    uint64_t reads = stats(r).reads;
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[2], "c");
    assert_int_equal(s.lineno[3], 4);
    assert_int_equal(s.offset[3], 6);
    assert_int_equal(stats(r).reads, reads); /* handed out from what was read already */
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_callback_error(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {.fail = true};
    assert_int_equal(append(fd, "a\n"), 0);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_reader_poll(r, on_line, &s, &err), -1);
    assert_string_equal(err.message, "callback failed at line 1");
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_long_lines(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    /* A line several times the read chunk arrives whole. */
    size_t n = 300000;
    char *big = malloc(n + 2);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\n';
    big[n + 1] = '\0';
    assert_int_equal(append(fd, big), 0);
    assert_int_equal(append(fd, "tail\n"), 0);
    struct seen s = {0};
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(strlen(s.text[0]), sizeof(s.text[0]) - 1); /* truncated copy of x's */
    assert_string_equal(s.text[1], "tail");
    assert_int_equal(s.offset[1], n + 1);
    assert_int_equal(stats(r).bytes_read, n + 6);
    free(big);

    /* Past MLPIO_WATCH_LINE_MAX without a newline: an error naming the line. */
    size_t chunk = 1 << 20;
    char *x = malloc(chunk);
    assert_non_null(x);
    memset(x, 'y', chunk);
    for (size_t done = 0; done <= MLPIO_WATCH_LINE_MAX; done += chunk)
        assert_int_equal(write(fd, x, chunk), (ssize_t)chunk);
    free(x);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_reader_poll(r, on_line, &s, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, ":3 (byte 300006): line is longer than 16 MiB"));
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_shortened(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {0};
    assert_int_equal(append(fd, "one\ntwo\n"), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(ftruncate(fd, 4), 0);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_reader_poll(r, on_line, &s, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "shortened: 4 bytes now, 8 already read"));
    assert_non_null(strstr(err.message, path));
    assert_int_equal(s.n, 2);
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

/* Give the file an old modification time, so that any later write changes it however coarse
 * the file system's clock is. */
static void age(int fd)
{
    struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    assert_int_equal(futimens(fd, old), 0);
}

static void test_reader_overwritten(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    assert_int_equal(append(fd, "{\"a\":1}\n{\"b\":2}\n"), 0);
    age(fd);
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {0};
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(stats(r).rechecks, 0); /* unchanged file: not checked again */
    /* Same size, one byte changed. */
    assert_int_equal(pwrite(fd, "3", 1, 13), 1);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_watch_reader_poll(r, on_line, &s, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "was overwritten: bytes before offset 16 changed"));
    struct mlpio_watch_stats st = stats(r);
    assert_int_equal(st.rechecks, 1);
    assert_int_equal(st.bytes_rechecked, 16);
    assert_int_equal(st.bytes_read, 16);
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_touched_is_not_overwritten(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    char line[64];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "{\"i\":%d}\n", i);
        assert_int_equal(append(fd, line), 0);
    }
    age(fd);
    struct mlpio_watch_reader *r = reader(fd, path);
    struct seen s = {0};
    assert_int_equal(poll_ok(r, &s), 0);
    uint64_t size = stats(r).offset;
    /* Rewriting a byte with its own value, then a new mtime: same content, no error. */
    assert_int_equal(pwrite(fd, "{", 1, 0), 1);
    assert_int_equal(poll_ok(r, &s), 0);
    struct mlpio_watch_stats st = stats(r);
    assert_int_equal(st.rechecks, 1);
    assert_int_equal(st.bytes_rechecked, MLPIO_WATCH_WINDOW); /* only the window */
    assert_true(size > MLPIO_WATCH_WINDOW);
    /* Appending after that is read as usual, and triggers no check. */
    assert_int_equal(append(fd, "{\"i\":20}\n"), 0);
    assert_int_equal(poll_ok(r, &s), 0);
    assert_int_equal(s.n, 21);
    st = stats(r);
    assert_int_equal(st.rechecks, 1);
    assert_int_equal(st.bytes_read, size + 9);
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

static void test_reader_not_regular(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct mlpio_error err = {0};
    assert_null(mlpio_watch_reader_create(p[0], "pipe:", &err));
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "pipe: is not a regular file"));
    close(p[0]);
    close(p[1]);
}

/* A writer process appends 10,000 events (and "finish") with the event log writer while the
 * reader follows: every event arrives once, in order, and the reader reads each byte once. */
struct count {
    uint64_t lines, bad;
    bool finish;
};

static int count_line(void *arg, const char *line, size_t len, uint64_t lineno, uint64_t offset,
                      struct mlpio_error *err)
{
    struct count *c = arg;
    cJSON *ev = NULL;
    if (mlpio_eventlog_parse_line(line, len, &ev, err) < 0)
        return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "name");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(ev, "context"), "i");
    c->lines++;
    if (strcmp(name->valuestring, "finish") == 0)
        c->finish = true;
    else if (!cJSON_IsNumber(i) || (uint64_t)i->valuedouble + 1 != lineno)
        c->bad++;
    cJSON_Delete(ev);
    (void)offset;
    return c->finish ? 1 : 0;
}

static void test_reader_follows_writer(void **state)
{
    struct scratch *sc = *state;
    char path[PATH_MAX];
    int fd = open_scratch_file(sc, path, "events.jsonl");
    enum { EVENTS = 10000 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct mlpio_error err = {0};
        struct mlpio_eventlog *log = mlpio_eventlog_open(path, &err);
        cJSON *ctx = cJSON_CreateObject();
        cJSON *i = cJSON_AddNumberToObject(ctx, "i", 0);
        cJSON_AddStringToObject(ctx, "phase", "write");
        int rc = log && i ? 0 : 1;
        for (int k = 0; rc == 0 && k < EVENTS; k++) {
            cJSON_SetNumberValue(i, k);
            rc = mlpio_eventlog_append(log, "progress", ctx, &err);
        }
        if (rc == 0)
            rc = mlpio_eventlog_append(log, "finish", NULL, &err);
        cJSON_Delete(ctx);
        mlpio_eventlog_close(&log);
        _exit(rc == 0 ? 0 : 1);
    }
    struct mlpio_watch_reader *r = reader(fd, path);
    struct count c = {0};
    struct mlpio_error err = {0};
    int polls = 0, rc;
    while ((rc = mlpio_watch_reader_poll(r, count_line, &c, &err)) == 0) {
        polls++;
        struct timespec pause = {.tv_nsec = 200000};
        nanosleep(&pause, NULL);
    }
    if (rc < 0)
        fail_msg("%s", err.message);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(c.finish);
    assert_int_equal(c.lines, EVENTS + 1);
    assert_int_equal(c.bad, 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    struct mlpio_watch_stats st = stats(r);
    assert_int_equal(st.bytes_read, (uint64_t)sb.st_size);
    assert_int_equal(st.offset, (uint64_t)sb.st_size);
    /* A write updates the file's mtime before its size: a poll between the two sees a new
     * mtime at the old size and re-reads its window to rule out an overwrite. That may happen;
     * reading the log itself again may not. */
    assert_true(st.bytes_rechecked <= st.rechecks * MLPIO_WATCH_WINDOW);
    assert_true(st.bytes_rechecked * 100 < (uint64_t)sb.st_size);
    print_message("10,000 events, %lld bytes: %llu reads over %d polls\n", (long long)sb.st_size,
                  (unsigned long long)st.reads, polls);
    mlpio_watch_reader_destroy(&r);
    close(fd);
}

/* ---- the command on fixture logs ------------------------------------------------------ */

struct cmd {
    int code;
    char out[8192], err[4096];
};

static void run_watch(struct cmd *c, int argc, const char *const *argv)
{
    struct mlpio_context ctx = {.rank = 0, .size = 1, .level = MLPIO_LOG_NORMAL};
    memset(c, 0, sizeof(*c));
    ctx.out = fmemopen(c->out, sizeof(c->out) - 1, "w");
    ctx.err = fmemopen(c->err, sizeof(c->err) - 1, "w");
    assert_non_null(ctx.out);
    assert_non_null(ctx.err);
    c->code = mlpio_watch_main(&ctx, argc, (char **)argv);
    fclose(ctx.out);
    fclose(ctx.err);
}

static void test_command_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *fixture;
        int events_before; /* printed before the bad line */
        const char *where; /* file:line (byte offset) */
        const char *why;
    } cases[] = {
        {"bad-empty-line.jsonl", 2, ":3 (byte 286)", "empty line"},
        {"bad-two-objects.jsonl", 1, ":2 (byte 145)", "unexpected data after the event"},
        {"bad-context-array.jsonl", 1, ":2 (byte 145)", "\"context\" is not an object"},
        {"bad-negative-timestamp.jsonl", 3, ":4 (byte 378)", "\"timestamp\" is not a number"},
        {"bad-not-json.jsonl", 0, ":1 (byte 0)", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[PATH_MAX];
        fixture_path(path, sizeof(path), "events", cases[i].fixture);
        const char *argv[] = {"watch", "--time", "raw", path};
        struct cmd c;
        run_watch(&c, 4, argv);
        char where[PATH_MAX + 64];
        snprintf(where, sizeof(where), "%s%s", path, cases[i].where);
        if (c.code != MLPIO_EXIT_IO || !strstr(c.err, where) || !strstr(c.err, cases[i].why))
            fail_msg("%s: exit %d, stderr: %s", cases[i].fixture, c.code, c.err);
        int lines = 0;
        for (const char *p = c.out; (p = strchr(p, '\n')); p++)
            lines++;
        assert_int_equal(lines, cases[i].events_before);
    }
}

static void test_command_usage(void **state)
{
    (void)state;
    static const struct {
        int argc;
        const char *argv[4];
        const char *says;
    } cases[] = {
        {1, {"watch"}, "needs a run directory"},
        {3, {"watch", "--time", "utc"}, "unknown time style 'utc'"},
        {2, {"watch", "--time"}, "--time needs a value"},
        {3, {"watch", "--timeout", "-1"}, "--timeout '-1'"},
        {3, {"watch", "--timeout", "soon"}, "--timeout 'soon'"},
        {3, {"watch", "--bogus", "x"}, "unknown option '--bogus'"},
        {3, {"watch", "a", "b"}, "more than one log"},
        {3, {"watch", "--match-context=exit_code=0", "x"}, "--match-context needs --wait-event"},
        {3, {"watch", "--match-context", "nokey"}, "not KEY=VALUE"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cmd c;
        run_watch(&c, cases[i].argc, cases[i].argv);
        if (c.code != MLPIO_EXIT_USAGE || !strstr(c.err, cases[i].says))
            fail_msg("case %zu: exit %d, stderr: %s", i, c.code, c.err);
    }
    const char *help[] = {"watch", "--help"};
    struct cmd c;
    run_watch(&c, 2, help);
    assert_int_equal(c.code, 0);
    assert_non_null(strstr(c.out, "--wait-event NAME"));
    assert_non_null(strstr(c.out, "124"));
}

static void test_command_other_ranks_do_nothing(void **state)
{
    (void)state;
    struct mlpio_context ctx = {.rank = 1, .size = 2, .out = NULL, .err = NULL};
    const char *argv[] = {"watch", "--follow", "/nonexistent/run"};
    assert_int_equal(mlpio_watch_main(&ctx, 3, (char **)argv), MLPIO_EXIT_OK);
}

int main(void)
{
    set_tz("UTC");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_styles),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_format_event),
        cmocka_unit_test(test_format_event_styles),
        cmocka_unit_test(test_format_event_output_error),
        cmocka_unit_test(test_match_parse),
        cmocka_unit_test(test_value_matches),
        cmocka_unit_test(test_context_matches),
        cmocka_unit_test_setup_teardown(test_reader_lines_and_offsets, setup_watch,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_partial_line, setup_watch, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_stop_keeps_lines, setup_watch,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_callback_error, setup_watch, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_long_lines, setup_watch, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_shortened, setup_watch, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_overwritten, setup_watch, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reader_touched_is_not_overwritten, setup_watch,
                                        scratch_teardown),
        cmocka_unit_test(test_reader_not_regular),
        cmocka_unit_test_setup_teardown(test_reader_follows_writer, setup_watch, scratch_teardown),
        cmocka_unit_test(test_command_bad_lines),
        cmocka_unit_test(test_command_usage),
        cmocka_unit_test(test_command_other_ranks_do_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
