/* mlpio watch: the command. Options, waiting for the log to change, deadlines, removal and
 * exit codes around the reader and formatter of watch_follow.c and watch_text.c. */
#include "app/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/eventlog.h"
#include "app/run.h"
#include "app/signals.h"

const char mlpio_watch_usage[] =
    "Usage: mlpio watch [options] RUN_DIR|EVENTS_FILE\n"
    "\n"
    "Prints a run's event log, one line per event (a run directory means its events.jsonl):\n"
    "  TIME NAME key=value ...\n"
    "Context values come in the order of the log. A string is written as is, or JSON-quoted\n"
    "when it is empty or holds spaces or quotes; objects and arrays are compact JSON.\n"
    "Needs no mpirun; under mpirun only rank 0 reads.\n"
    "\n"
    "Options:\n"
    "  --follow, -f           keep reading as the run appends; stop after the \"finish\" event\n"
    "  --wait-event NAME      stop after the first event NAME (implies --follow)\n"
    "  --match-context K=V    with --wait-event: only an event whose context value K equals V\n"
    "                         (repeatable, all must match; strings compare as text, numbers\n"
    "                         numerically, true/false/null by name, objects/arrays as JSON)\n"
    "  --timeout SECONDS      give up after SECONDS (decimals allowed), exit code 124\n"
    "  --waitcreate           wait for the run directory or events file to be created\n"
    "                         (up to --timeout)\n"
    "  --time STYLE           raw, iso, offset or human (default iso)\n"
    "  --json                 print each event's line exactly as it is in the log\n"
    "  --poll                 check every 100 ms instead of waiting on inotify\n"
    "  --stats                print bytes read, reads and overwrite checks on stderr at the end\n"
    "  --verbose, -v          report each read, and what --waitcreate waits for, on stderr\n"
    "  --help, -h             this help (also: mlpio help watch)\n"
    "\n"
    "Time styles:\n"
    "  raw     the timestamp: seconds since the epoch (1714566896.123456)\n"
    "  iso     ISO 8601 UTC with milliseconds (2024-05-01T12:34:56.123Z)\n"
    "  offset  seconds since the log's first event (12.345)\n"
    "  human   local time of day with milliseconds (14:34:56.123; TZ applies)\n"
    "\n"
    "How the log is read:\n"
    "  By byte offset: each read takes only the bytes appended since the last one, never the\n"
    "  whole file again. Only whole lines are printed (a partial last line waits for its\n"
    "  newline); with --follow the output is flushed after each event. Each line must be one\n"
    "  JSON object with \"timestamp\" >= 0, \"name\" and an object \"context\"; a bad line\n"
    "  stops the watch with FILE:LINE and its byte offset.\n"
    "  An event log is append-only: a log that becomes shorter than what was read\n"
    "  (\"shortened\") or whose bytes already read change (\"overwritten\") is an error. To\n"
    "  keep this cheap, the last 128 bytes read are read again only when the file's\n"
    "  modification time changes while its size does not; a log replaced by another file\n"
    "  counts as overwritten. A removed log ends the watch.\n"
    "  Without --follow the log is printed up to its current end; a log without \"finish\"\n"
    "  gets a warning, \"finish never received\" (the run is still going, or its writer\n"
    "  died), and exit code 0. With --follow a slow run cannot be told from a dead one, so\n"
    "  the watch waits until \"finish\" (or the --wait-event event), --timeout, the log's\n"
    "  removal or Ctrl-C.\n"
    "  Changes wake the watch through inotify, with a check every second as well for file\n"
    "  systems that do not report changes made on other hosts (NFS); without inotify, or\n"
    "  with --poll, it checks every 100 ms.\n"
    "\n"
    "Exit codes:\n"
    "  0    the log was printed; with --follow, \"finish\" (or the awaited event) arrived\n"
    "  2    bad command line\n"
    "  4    the log cannot be read, has a bad line, or was shortened, overwritten or replaced\n"
    "  124  --timeout expired first\n"
    "  125  the watch ended without what it waited for: the log was removed, or \"finish\"\n"
    "       came without the --wait-event event\n"
    "  130  interrupted (Ctrl-C)\n"
    "\n"
    "Examples:\n"
    "  mlpio watch mlpio_results/checkpointing/llama3-8b/run/20240501_123456\n"
    "  mlpio watch --follow --time offset RUN_DIR\n"
    "  mlpio watch --waitcreate --wait-event finish --match-context exit_code=0 \\\n"
    "      --timeout 3600 RUN_DIR            # exit 0 only if the run succeeds within an hour\n"
    "  mlpio watch --json RUN_DIR/events.jsonl | jq -r .name\n";

#define POLL_MS 100
#define INOTIFY_RECHECK_MS 1000

struct watch_opts {
    const char *target;
    bool follow, json, waitcreate, stats, verbose, poll_only, help;
    enum mlpio_watch_time time;
    const char *wait_event;
    struct mlpio_watch_match *matches;
    int nmatches;
    double timeout; /* seconds; < 0: none */
};

struct watch {
    struct mlpio_context *ctx;
    const struct watch_opts *o;
    char *path; /* the events file */
    double first_ts;
    uint64_t events;
    bool finished, matched;
};

/* ---- options ------------------------------------------------------------------------- */

static int usage_error(struct mlpio_error *err, const char *fmt, ...) MLPIO_PRINTF(2, 3);

static int usage_error(struct mlpio_error *err, const char *fmt, ...)
{
    char msg[MLPIO_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_USAGE, "%s", msg);
    return mlpio_error_hint(err, "see 'mlpio watch --help'");
}

/* The value of option name at argv[*i], as "--name VALUE" or "--name=VALUE". NULL if argv[*i]
 * is another option; *missing when the value is absent. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static int parse_options(int argc, char **argv, struct watch_opts *o, struct mlpio_error *err)
{
    memset(o, 0, sizeof(*o));
    o->time = MLPIO_WATCH_TIME_ISO;
    o->timeout = -1;
    o->matches = calloc((size_t)argc, sizeof(*o->matches));
    if (!o->matches)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "watch: parsing options");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
        } else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
            o->follow = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--waitcreate") == 0) {
            o->waitcreate = true;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--poll") == 0) {
            o->poll_only = true;
        } else if ((v = option_value(argc, argv, &i, "--time", &missing))) {
            if (mlpio_watch_time_parse(v, &o->time, err) < 0)
                return -1;
        } else if ((v = option_value(argc, argv, &i, "--wait-event", &missing))) {
            if (!*v)
                return usage_error(err, "watch: --wait-event needs an event name");
            o->wait_event = v;
        } else if ((v = option_value(argc, argv, &i, "--match-context", &missing))) {
            if (mlpio_watch_match_parse(v, &o->matches[o->nmatches++], err) < 0)
                return -1;
        } else if ((v = option_value(argc, argv, &i, "--timeout", &missing))) {
            char *end = NULL;
            o->timeout = strtod(v, &end);
            if (!*v || *end || !isfinite(o->timeout) || o->timeout < 0)
                return usage_error(err, "watch: --timeout '%s' is not a number of seconds >= 0", v);
        } else if (missing) {
            return usage_error(err, "watch: option %s needs a value", a);
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(err, "watch: unknown option '%s'", a);
        } else if (o->target) {
            return usage_error(err, "watch: more than one log given ('%s')", a);
        } else {
            o->target = a;
        }
    }
    if (o->help)
        return 0;
    if (!o->target)
        return usage_error(err, "watch needs a run directory or an events file");
    if (o->nmatches > 0 && !o->wait_event)
        return usage_error(err, "watch: --match-context needs --wait-event");
    if (o->wait_event)
        o->follow = true;
    return 0;
}

/* ---- waiting for changes ------------------------------------------------------------- */

struct waiter {
    int ifd;         /* inotify descriptor, or -1 to poll */
    int interval_ms; /* longest sleep before looking again */
};

static void waiter_init(struct waiter *wt, bool poll_only)
{
    wt->ifd = poll_only ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wt->interval_ms = wt->ifd >= 0 ? INOTIFY_RECHECK_MS : POLL_MS;
}

static void waiter_fini(struct waiter *wt)
{
    if (wt->ifd >= 0)
        close(wt->ifd);
    wt->ifd = -1;
}

/* Wake on changes of path; if inotify cannot watch it, poll at the short interval. */
static void waiter_add(struct waiter *wt, const char *path, uint32_t mask)
{
    if (wt->ifd >= 0 && inotify_add_watch(wt->ifd, path, mask) < 0)
        wt->interval_ms = POLL_MS;
}

/* Wake when something is created in the nearest existing directory above path. */
static void waiter_add_parent(struct waiter *wt, const char *path)
{
    if (wt->ifd < 0)
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash) {
            snprintf(dir, sizeof(dir), ".");
        } else if (slash == dir) {
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (inotify_add_watch(wt->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) >= 0)
            return;
        if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0) {
            wt->interval_ms = POLL_MS;
            return;
        }
    }
}

static void waiter_wait(struct waiter *wt, int ms)
{
    if (wt->ifd < 0) {
        poll(NULL, 0, ms);
        return;
    }
    struct pollfd p = {.fd = wt->ifd, .events = POLLIN};
    if (poll(&p, 1, ms) > 0) {
        /* The events only say "look again": drain them. */
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(wt->ifd, buf, sizeof(buf)) > 0)
            ;
    }
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Milliseconds to sleep: the interval, or less when the deadline comes first. */
static int sleep_ms(const struct waiter *wt, double deadline)
{
    if (deadline < 0)
        return wt->interval_ms;
    double left = (deadline - now_seconds()) * 1000.0;
    if (left < 1)
        return 1;
    return left < wt->interval_ms ? (int)ceil(left) : wt->interval_ms;
}

static bool expired(double deadline)
{
    return deadline >= 0 && now_seconds() >= deadline;
}

/* ---- opening ------------------------------------------------------------------------- */

/* Set w->path from the target: a directory means its events.jsonl. */
static int resolve(struct watch *w, struct mlpio_error *err)
{
    const char *t = w->o->target;
    struct stat sb;
    bool dir = stat(t, &sb) == 0 && S_ISDIR(sb.st_mode);
    size_t n = strlen(t) + sizeof("/events.jsonl");
    char *p = malloc(n);
    if (!p)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "watch: opening %s", t);
    if (dir)
        snprintf(p, n, "%s%sevents.jsonl", t, t[strlen(t) - 1] == '/' ? "" : "/");
    else
        snprintf(p, n, "%s", t);
    free(w->path);
    w->path = p;
    return 0;
}

/* Open the log: 0 with *fd, 1 when it does not exist yet (--waitcreate), -1 with err. */
static int try_open(struct watch *w, struct waiter *wt, int *fd, struct mlpio_error *err)
{
    /* Again after adding the inotify watch: a file created between the failed open and the
     * watch is then found at once, not at the next periodic check. Once more when the target
     * turned into a directory between resolve() and open(). */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (resolve(w, err) < 0)
            return -1;
        /* Without O_NONBLOCK, opening a FIFO waits for a writer, past any --timeout. */
        *fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (*fd >= 0) {
            struct stat sb;
            if (fstat(*fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                close(*fd); /* the run directory appeared since resolve(): look inside */
                *fd = -1;
                continue;
            }
            if (fstat(*fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
                close(*fd);
                *fd = -1;
                mlpio_error_set(err, MLPIO_ERR_IO,
                                "watch: %s is not a regular file (a FIFO, device or socket)",
                                w->path);
                return mlpio_error_hint(err, "give a run directory or its events.jsonl: "
                                             "watch follows a file by byte offset");
            }
            /* Reads of a regular file never block; the flag is dropped all the same. */
            int flags = fcntl(*fd, F_GETFL);
            if (flags >= 0)
                (void)fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK);
            return 0;
        }
        int e = errno;
        if (e != ENOENT || !w->o->waitcreate) {
            mlpio_error_errno(err, MLPIO_ERR_IO, e, "watch: cannot open event log %s", w->path);
            if (e == ENOENT)
                mlpio_error_hint(err, "give a run directory (it holds events.jsonl) or an "
                                      "events file; --waitcreate waits for it to appear");
            return -1;
        }
        if (attempt == 0)
            waiter_add_parent(wt, w->path);
        else
            return 1;
    }
    return 1;
}

/* ---- printing ------------------------------------------------------------------------ */

static int on_line(void *arg, const char *line, size_t len, uint64_t lineno, uint64_t offset,
                   struct mlpio_error *err)
{
    struct watch *w = arg;
    FILE *out = w->ctx->out;
    cJSON *ev = NULL;
    if (mlpio_eventlog_parse_line(line, len, &ev, err) < 0) {
        mlpio_error_prefix(err, "%s:%llu (byte %llu)", w->path, (unsigned long long)lineno,
                           (unsigned long long)offset);
        return mlpio_error_hint(err, "the log is damaged at that line: mlpio writes one JSON "
                                     "event per line and never rewrites the file");
    }
    double ts = cJSON_GetObjectItemCaseSensitive(ev, "timestamp")->valuedouble;
    const char *name = cJSON_GetObjectItemCaseSensitive(ev, "name")->valuestring;
    if (w->events++ == 0)
        w->first_ts = ts;
    int rc = 0;
    if (w->o->json) {
        fwrite(line, 1, len, out);
        fputc('\n', out);
    } else {
        rc = mlpio_watch_format_event(out, ev, w->o->time, w->first_ts, err);
    }
    /* Flushed per event when following, so that a reader of the output sees each event as
     * it happens; a plain read is flushed once at its end. */
    if (rc == 0 && ((w->o->follow && fflush(out) != 0) || ferror(out)))
        rc = mlpio_error_errno(err, MLPIO_ERR_IO, errno ? errno : EIO,
                               "watch: writing event %llu to the output",
                               (unsigned long long)lineno);
    if (rc == 0 && strcmp(name, "finish") == 0) {
        w->finished = true;
        rc = w->o->follow ? 1 : 0;
    }
    if (rc >= 0 && w->o->wait_event && strcmp(name, w->o->wait_event) == 0 &&
        mlpio_watch_context_matches(cJSON_GetObjectItemCaseSensitive(ev, "context"), w->o->matches,
                                    w->o->nmatches)) {
        w->matched = true;
        rc = 1;
    }
    cJSON_Delete(ev);
    return rc;
}

static void trace_read(const struct watch *w, const struct mlpio_watch_stats *before,
                       const struct mlpio_watch_stats *now)
{
    if (!w->o->verbose || now->bytes_read == before->bytes_read)
        return;
    fprintf(w->ctx->err,
            "mlpio watch: read %llu bytes, offset %llu, %zu bytes of an unfinished line\n",
            (unsigned long long)(now->bytes_read - before->bytes_read),
            (unsigned long long)now->offset, now->partial);
    fflush(w->ctx->err);
}

static void print_stats(const struct watch *w, const struct mlpio_watch_reader *r, int fd)
{
    struct mlpio_watch_stats st;
    struct stat sb;
    mlpio_watch_reader_stats(r, &st);
    long long size = fstat(fd, &sb) == 0 ? (long long)sb.st_size : -1;
    fprintf(w->ctx->err,
            "mlpio watch: stats: bytes_read=%llu file_size=%lld reads=%llu rechecks=%llu "
            "bytes_rechecked=%llu lines=%llu\n",
            (unsigned long long)st.bytes_read, size, (unsigned long long)st.reads,
            (unsigned long long)st.rechecks, (unsigned long long)st.bytes_rechecked,
            (unsigned long long)st.lines);
    fflush(w->ctx->err);
}

static void warn(const struct watch *w, const char *what)
{
    fprintf(w->ctx->err, "mlpio: warning: %s\n", what);
    fflush(w->ctx->err);
}

/* ---- following ----------------------------------------------------------------------- */

/* Whether the log is still there: 0 yes, 1 removed (or renamed away), -1 replaced. */
static int check_gone(const struct watch *w, int fd, struct mlpio_error *err)
{
    struct stat mine, named;
    if (fstat(fd, &mine) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot stat event log %s", w->path);
    if (stat(w->path, &named) != 0)
        return 1;
    if (named.st_dev != mine.st_dev || named.st_ino != mine.st_ino) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "event log %s was overwritten: the path now names another file", w->path);
        mlpio_error_hint(err, "an event log is append-only; something replaced it");
        return -1;
    }
    return mine.st_nlink == 0 ? 1 : 0;
}

static const char *awaited(const struct watch *w, char *buf, size_t size)
{
    if (!w->o->wait_event)
        return "\"finish\"";
    int n = snprintf(buf, size, "event '%s'", w->o->wait_event);
    for (int i = 0; i < w->o->nmatches && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%.*s=%s", i ? ", " : " with ",
                      (int)w->o->matches[i].key_len, w->o->matches[i].key, w->o->matches[i].value);
    return buf;
}

/* At the end of a plain read: say what is missing. */
static void report_end(const struct watch *w, const struct mlpio_watch_reader *r)
{
    char msg[PATH_MAX + 256];
    struct mlpio_watch_stats st;
    mlpio_watch_reader_stats(r, &st);
    if (st.partial > 0) {
        snprintf(msg, sizeof(msg),
                 "%s ends with %zu bytes of an unfinished line (line %llu, byte %llu): not "
                 "printed; the run may still be writing it",
                 w->path, st.partial, (unsigned long long)st.lines + 1,
                 (unsigned long long)(st.offset - st.partial));
        warn(w, msg);
    }
    if (!w->finished) {
        snprintf(msg, sizeof(msg),
                 "%s has no \"finish\" event after %llu events: finish never received (the run "
                 "is still going, or it stopped without finishing; --follow waits for it)",
                 w->path, (unsigned long long)w->events);
        warn(w, msg);
    }
}

static int fail(const struct watch *w, struct mlpio_error *err, int code)
{
    mlpio_log_error(w->ctx, err);
    return code;
}

static int follow(struct watch *w, struct waiter *wt, struct mlpio_watch_reader *r, int fd,
                  double deadline)
{
    struct mlpio_error err = {0};
    char what[512];
    for (;;) {
        struct mlpio_watch_stats before, now;
        mlpio_watch_reader_stats(r, &before);
        int rc = mlpio_watch_reader_poll(r, on_line, w, &err);
        mlpio_watch_reader_stats(r, &now);
        trace_read(w, &before, &now);
        if (rc < 0)
            return fail(w, &err, mlpio_exit_code(err.category));
        if (rc == 1 && (!w->o->wait_event || w->matched))
            return MLPIO_EXIT_OK;
        if (rc == 1) {
            mlpio_error_set(&err, MLPIO_ERR_IO,
                            "the run finished (line %llu of %s) without %s; the watch ends",
                            (unsigned long long)now.lines, w->path, awaited(w, what, sizeof(what)));
            return fail(w, &err, MLPIO_WATCH_EXIT_ENDED);
        }
        if (!w->o->follow) {
            if (fflush(w->ctx->out) != 0 || ferror(w->ctx->out)) {
                mlpio_error_errno(&err, MLPIO_ERR_IO, errno ? errno : EIO,
                                  "watch: writing the events of %s to the output", w->path);
                return fail(w, &err, MLPIO_EXIT_IO);
            }
            report_end(w, r);
            return MLPIO_EXIT_OK;
        }
        int gone = check_gone(w, fd, &err);
        if (gone < 0)
            return fail(w, &err, mlpio_exit_code(err.category));
        if (gone) {
            mlpio_error_set(&err, MLPIO_ERR_IO,
                            "event log %s was removed after %llu events; %s never received",
                            w->path, (unsigned long long)w->events, awaited(w, what, sizeof(what)));
            return fail(w, &err, MLPIO_WATCH_EXIT_ENDED);
        }
        if (mlpio_signals_interrupted()) {
            mlpio_error_set(&err, MLPIO_ERR_INTERRUPTED, "watch of %s interrupted", w->path);
            return fail(w, &err, MLPIO_EXIT_INTERRUPTED);
        }
        if (expired(deadline)) {
            mlpio_error_set(&err, MLPIO_ERR_IO,
                            "watch timed out after %g s: %s never received in %s (%llu events "
                            "read)",
                            w->o->timeout, awaited(w, what, sizeof(what)), w->path,
                            (unsigned long long)w->events);
            mlpio_error_hint(&err, "the run is still going or stopped; a longer --timeout "
                                   "waits more");
            return fail(w, &err, MLPIO_WATCH_EXIT_TIMEOUT);
        }
        waiter_wait(wt, sleep_ms(wt, deadline));
    }
}

static int open_log(struct watch *w, struct waiter *wt, int *fd, double deadline)
{
    struct mlpio_error err = {0};
    char *reported = NULL; /* the path last said to be awaited */
    for (;;) {
        int rc = try_open(w, wt, fd, &err);
        if (rc <= 0) {
            free(reported);
            return rc < 0 ? fail(w, &err, mlpio_exit_code(err.category)) : MLPIO_EXIT_OK;
        }
        if (w->o->verbose && (!reported || strcmp(reported, w->path) != 0)) {
            free(reported);
            reported = strdup(w->path);
            fprintf(w->ctx->err, "mlpio watch: waiting for %s to be created\n", w->path);
            fflush(w->ctx->err);
        }
        if (mlpio_signals_interrupted()) {
            mlpio_error_set(&err, MLPIO_ERR_INTERRUPTED, "watch of %s interrupted", w->path);
            free(reported);
            return fail(w, &err, MLPIO_EXIT_INTERRUPTED);
        }
        if (expired(deadline)) {
            mlpio_error_set(&err, MLPIO_ERR_IO,
                            "watch timed out after %g s waiting for %s to be created",
                            w->o->timeout, w->path);
            mlpio_error_hint(&err, "check the path; a longer --timeout waits more");
            free(reported);
            return fail(w, &err, MLPIO_WATCH_EXIT_TIMEOUT);
        }
        waiter_wait(wt, sleep_ms(wt, deadline));
    }
}

int mlpio_watch_main(struct mlpio_context *ctx, int argc, char **argv)
{
    struct watch_opts o;
    struct mlpio_error err = {0};
    if (parse_options(argc, argv, &o, &err) < 0) {
        free(o.matches);
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    if (o.help || ctx->rank != 0) {
        if (o.help && ctx->rank == 0)
            fputs(mlpio_watch_usage, ctx->out);
        free(o.matches);
        return MLPIO_EXIT_OK;
    }
    double deadline = o.timeout >= 0 ? now_seconds() + o.timeout : -1;
    struct watch w = {.ctx = ctx, .o = &o};
    struct waiter wt;
    waiter_init(&wt, o.poll_only);
    int fd = -1;
    struct mlpio_watch_reader *r = NULL;
    int code = open_log(&w, &wt, &fd, deadline);
    if (code != MLPIO_EXIT_OK)
        goto out;
    r = mlpio_watch_reader_create(fd, w.path, &err);
    if (!r) {
        code = fail(&w, &err, mlpio_exit_code(err.category));
        goto out;
    }
    /* A new inotify instance drops the directories --waitcreate watched, whose other changes
     * would only cause needless wake-ups. The log is watched before the first read, so that no
     * change after that read goes unnoticed. */
    if (o.follow) {
        waiter_fini(&wt);
        waiter_init(&wt, o.poll_only);
        waiter_add(&wt, w.path, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
    }
    code = follow(&w, &wt, r, fd, deadline);
    if (o.stats)
        print_stats(&w, r, fd);
out:
    mlpio_watch_reader_destroy(&r);
    if (fd >= 0)
        close(fd);
    waiter_fini(&wt);
    free(w.path);
    free(o.matches);
    return code;
}
