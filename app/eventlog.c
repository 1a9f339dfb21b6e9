/* mlpio event log writer and line validator: see eventlog.h. */
#include "app/eventlog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mlpio_eventlog {
    int fd;
    /* Set when a write failed part-way: the file then ends inside an event, and anything
     * appended after it would be glued to that fragment. */
    bool damaged;
    char path[];
};

struct mlpio_eventlog *mlpio_eventlog_open(const char *path, struct mlpio_error *err)
{
    size_t n = strlen(path);
    struct mlpio_eventlog *log = malloc(sizeof(*log) + n + 1);
    if (!log) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "opening event log %s", path);
        return NULL;
    }
    /* O_APPEND: every write lands at the current end, so the log is never overwritten. */
    log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log->fd < 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot open event log %s", path);
        mlpio_error_hint(err, "check that the run directory exists and is writable");
        free(log);
        return NULL;
    }
    log->damaged = false;
    memcpy(log->path, path, n + 1);
    return log;
}

void mlpio_eventlog_close(struct mlpio_eventlog **log)
{
    if (!log || !*log)
        return;
    close((*log)->fd);
    free(*log);
    *log = NULL;
}

static bool name_ok(const char *name)
{
    if (!name || !*name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (isspace(*p) || iscntrl(*p))
            return false;
    return true;
}

static int write_line(struct mlpio_eventlog *log, const char *name, const char *line, size_t len,
                      struct mlpio_error *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(log->fd, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            log->damaged = off > 0;
            mlpio_error_errno(err, MLPIO_ERR_IO, e, "appending event '%s' to %s", name, log->path);
            return mlpio_error_hint(err,
                                    "free space on the file system holding %s, or check "
                                    "that it is still writable",
                                    log->path);
        }
        off += (size_t)n;
    }
    return 0;
}

/* ts is the timestamp already formatted, so that its digits are exactly what is written. */
static int append_text(struct mlpio_eventlog *log, const char *ts, const char *name,
                       const cJSON *context, struct mlpio_error *err)
{
    if (!name_ok(name))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "event name '%s' is empty or contains whitespace or control "
                               "characters (appending to %s)",
                               name ? name : "(null)", log->path);
    if (context && !cJSON_IsObject(context))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "context of event '%s' is not a JSON object (appending to %s)", name,
                               log->path);
    if (log->damaged)
        return mlpio_error_set(err, MLPIO_ERR_IO,
                               "event log %s ends with an incomplete event after an earlier "
                               "write failure; event '%s' was not appended",
                               log->path, name);

    int rc = -1;
    char *text = NULL;
    cJSON *ev = cJSON_CreateObject();
    cJSON *ctx = context ? cJSON_Duplicate(context, 1) : cJSON_CreateObject();
    if (!ev || !ctx || !cJSON_AddRawToObject(ev, "timestamp", ts) ||
        !cJSON_AddStringToObject(ev, "name", name) || !cJSON_AddItemToObject(ev, "context", ctx)) {
        if (!cJSON_GetObjectItemCaseSensitive(ev, "context"))
            cJSON_Delete(ctx);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "building event '%s'", name);
        goto out;
    }
    /* Unformatted output escapes control characters, so the line holds no raw newline. */
    text = cJSON_PrintUnformatted(ev);
    size_t len = text ? strlen(text) : 0;
    char *grown = text ? realloc(text, len + 2) : NULL;
    if (!grown) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "formatting event '%s'", name);
        goto out;
    }
    text = grown;
    text[len++] = '\n';
    text[len] = '\0';
    rc = write_line(log, name, text, len, err);
out:
    free(text);
    cJSON_Delete(ev);
    return rc;
}

int mlpio_eventlog_append_at(struct mlpio_eventlog *log, double timestamp, const char *name,
                             const cJSON *context, struct mlpio_error *err)
{
    char ts[384];
    if (!isfinite(timestamp) || timestamp < 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "event '%s' has an invalid timestamp %g (appending to %s)",
                               name ? name : "(null)", timestamp, log->path);
    snprintf(ts, sizeof(ts), "%.6f", timestamp + 0.0); /* + 0.0 turns -0.0 into 0.0 */
    return append_text(log, ts, name, context, err);
}

int mlpio_eventlog_append(struct mlpio_eventlog *log, const char *name, const cJSON *context,
                          struct mlpio_error *err)
{
    struct timespec now;
    char ts[48];
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, errno, "clock_gettime failed");
    /* Formatted from the integers: a double would not keep all microsecond digits exact. */
    snprintf(ts, sizeof(ts), "%lld.%06ld", (long long)now.tv_sec, now.tv_nsec / 1000);
    return append_text(log, ts, name, context, err);
}

static int bad_line(struct mlpio_error *err, const char *what)
{
    return mlpio_error_set(err, MLPIO_ERR_IO, "invalid event log line: %s", what);
}

static int check_event(const cJSON *ev, struct mlpio_error *err)
{
    if (!cJSON_IsObject(ev))
        return bad_line(err, "not a JSON object");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "name");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "timestamp");
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "context");
    if (!name)
        return bad_line(err, "no \"name\"");
    if (!cJSON_IsString(name))
        return bad_line(err, "\"name\" is not a string");
    if (!name_ok(name->valuestring))
        return bad_line(err, "\"name\" is empty or contains whitespace or control characters");
    if (!ts)
        return bad_line(err, "no \"timestamp\"");
    if (!cJSON_IsNumber(ts) || !isfinite(ts->valuedouble) || ts->valuedouble < 0)
        return bad_line(err, "\"timestamp\" is not a number >= 0");
    if (!ctx)
        return bad_line(err, "no \"context\"");
    if (!cJSON_IsObject(ctx))
        return bad_line(err, "\"context\" is not an object");
    return 0;
}

int mlpio_eventlog_parse_line(const char *line, size_t len, cJSON **event, struct mlpio_error *err)
{
    *event = NULL;
    if (len == 0)
        return bad_line(err, "empty line");
    if (memchr(line, '\n', len))
        return bad_line(err, "contains a newline");
    if (memchr(line, '\0', len))
        return bad_line(err, "contains a NUL byte");

    /* A terminated copy: the caller's buffer usually continues with the next line. */
    char *copy = malloc(len + 1);
    if (!copy)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "parsing an event log line");
    memcpy(copy, line, len);
    copy[len] = '\0';

    const char *end = NULL;
    cJSON *ev = cJSON_ParseWithOpts(copy, &end, 0);
    int rc = 0;
    if (!ev) {
        char what[96];
        snprintf(what, sizeof(what), "not valid JSON (at byte %td)", end ? end - copy : 0);
        rc = bad_line(err, what);
        goto out;
    }
    end += strspn(end, " \t\r");
    if (*end != '\0') {
        char what[96];
        snprintf(what, sizeof(what), "unexpected data after the event at byte %td", end - copy);
        rc = bad_line(err, what);
        goto out;
    }
    rc = check_event(ev, err);
out:
    free(copy);
    if (rc == 0)
        *event = ev;
    else
        cJSON_Delete(ev);
    return rc;
}
