/* mlpio results-tree scanner: one run directory, see scan_run.h.
 *
 * A run directory holds <benchmark>_<run_id>_metadata.json, summary.json and events.jsonl
 * (app/run.c). Each is read on its own, so that one damaged file costs only what it holds: the
 * run is still listed, with its problems saying what is wrong, where, and how to fix it.
 * Files are opened read-only and only if they are regular files (a FIFO would block the scan).
 */
#include "app/scan_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/eventlog.h"
#include "app/params.h"
#include "app/workload.h"
#include "report/json_file.h"
#include "rules/edition.h"
#include "rules/rules.h"

/* Bad lines of one event log reported one by one; the rest are counted in one more problem. */
#define MAX_LINE_PROBLEMS 10

int mlpio_scan_problem(cJSON *problems, const char *where, const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mlpio_scan_problemv(problems, where, fix, fmt, ap);
    va_end(ap);
    return rc;
}

int mlpio_scan_problemv(cJSON *problems, const char *where, const char *fix, const char *fmt,
                        va_list ap)
{
    char what[MLPIO_ERROR_MSG_MAX + PATH_MAX];
    vsnprintf(what, sizeof(what), fmt, ap);
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "where", where) ||
        !cJSON_AddStringToObject(p, "what", what) || !cJSON_AddStringToObject(p, "fix", fix) ||
        !cJSON_AddItemToArray(problems, p)) {
        cJSON_Delete(p);
        return -1;
    }
    return 0;
}

/* What a run's scan gathers on its way to the entry. */
struct run_scan {
    const char *root, *rel;
    char comp[MLPIO_SCAN_DEPTH][256]; /* benchmark, model, command ("": none), run_id */
    cJSON *problems;
    cJSON *metadata, *summary, *events;
    int has_finish;
    double finish_code;
    int oom;
};

/* "<rel>/<name>" for problems, and the absolute path for opening. */
static void paths(const struct run_scan *s, const char *name, char *rel, size_t nrel, char *abs,
                  size_t nabs)
{
    snprintf(rel, nrel, "%s/%s", s->rel, name);
    snprintf(abs, nabs, "%s/%s/%s", s->root, s->rel, name);
}

static void problem(struct run_scan *s, const char *where, const char *fix, const char *fmt, ...)
    MLPIO_PRINTF(4, 5);

static void problem(struct run_scan *s, const char *where, const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (mlpio_scan_problemv(s->problems, where, fix, fmt, ap))
        s->oom = 1;
    va_end(ap);
}

/* 1: a regular file; 0: missing (ENOENT); -1: there but not readable as a file (a problem). */
static int regular(struct run_scan *s, const char *abs, const char *rel)
{
    struct stat st;
    if (stat(abs, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        problem(s, rel, "check the permissions of the run directory", "cannot stat %s: %s (%s)",
                rel, strerror(errno), mlpio_errno_name(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        problem(s, rel, "remove what is in its place; mlpio writes it as a regular file",
                "%s is not a regular file", rel);
        return -1;
    }
    return 1;
}

/* text into out (n bytes) with every abs replaced by rel. */
static void relative(const char *text, const char *abs, const char *rel, char *out, size_t n)
{
    size_t used = 0, alen = strlen(abs);
    out[0] = '\0';
    while (*text && used + 1 < n) {
        const char *hit = strstr(text, abs);
        size_t head = hit ? (size_t)(hit - text) : strlen(text);
        used += (size_t)snprintf(out + used, n - used, "%.*s%s", (int)head, text, hit ? rel : "");
        if (!hit)
            break;
        text = hit + alen;
    }
}

/* A JSON object file of the run, or NULL (missing: *missing set; else a problem). */
static cJSON *read_object(struct run_scan *s, const char *name, int *missing)
{
    char rel[PATH_MAX], abs[PATH_MAX * 2];
    struct mlpio_error err = {0};
    paths(s, name, rel, sizeof(rel), abs, sizeof(abs));
    *missing = 0;
    int kind = regular(s, abs, rel);
    if (kind <= 0) {
        *missing = kind == 0;
        return NULL;
    }
    cJSON *json = mlpio_json_read_file(abs, &err);
    if (!json) {
        char what[sizeof(err.message)], fix[sizeof(err.hint)];
        /* Named as the rest of the results document names files: relative to the tree. */
        relative(err.message, abs, rel, what, sizeof(what));
        relative(err.hint[0] ? err.hint : "restore the file or rerun the run", abs, rel, fix,
                 sizeof(fix));
        problem(s, rel, fix, "%s", what);
        return NULL;
    }
    if (!cJSON_IsObject(json)) {
        problem(s, rel, "restore the file or rerun the run", "%s is valid JSON but not an object",
                rel);
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* The name of the run's metadata file into name: the expected one if it exists, else the first
 * *_metadata.json. 0 when found, -1 when none (problems say why). */
static int find_metadata(struct run_scan *s, char *name, size_t n)
{
    char dir[PATH_MAX * 2], expected[600];
    snprintf(dir, sizeof(dir), "%s/%s", s->root, s->rel);
    snprintf(expected, sizeof(expected), "%s_%s_metadata.json", s->comp[0], s->comp[3]);
    DIR *d = opendir(dir);
    if (!d) {
        problem(s, s->rel, "check its permissions (mlpio needs to list and read it)",
                "cannot read the run directory: %s (%s)", strerror(errno), mlpio_errno_name(errno));
        return -1;
    }
    int found = 0, many = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        const char *suffix = "_metadata.json";
        if (len <= strlen(suffix) || strcmp(e->d_name + len - strlen(suffix), suffix) != 0)
            continue;
        if (strcmp(e->d_name, expected) == 0) {
            many += found;
            snprintf(name, n, "%s", e->d_name);
            found = 2;
        } else if (found < 2) {
            many += found > 0;
            /* Readdir order is arbitrary: keep the smallest name, so scans agree. */
            if (!found || strcmp(e->d_name, name) < 0)
                snprintf(name, n, "%s", e->d_name);
            found = 1;
        } else {
            many++;
        }
    }
    closedir(d);
    if (!found) {
        problem(s, s->rel,
                "if the run crashed before writing it, rerun it and remove this directory; if "
                "the file was moved, put it back",
                "no metadata file (%s): the run cannot be identified or judged", expected);
        return -1;
    }
    if (many)
        problem(s, s->rel, "keep one run per directory: move the other metadata files out",
                "%d metadata files; %s is read", many + 1, name);
    return 0;
}

/* The whole of a regular file, NUL-terminated; NULL with a problem. */
static char *read_text(struct run_scan *s, const char *abs, const char *rel, size_t *len)
{
    int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        problem(s, rel, "check the file's permissions", "cannot read %s: %s (%s)", rel,
                strerror(errno), mlpio_errno_name(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    int failed = !buf;
    while (!failed) {
        if (n + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            failed = !grown;
            if (grown)
                buf = grown;
            continue;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got > 0) {
            n += (size_t)got;
        } else if (got == 0) {
            break;
        } else if (errno != EINTR) {
            problem(s, rel, "check the storage the results are on", "read of %s failed: %s (%s)",
                    rel, strerror(errno), mlpio_errno_name(errno));
            free(buf);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    if (failed) {
        free(buf);
        s->oom = 1;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void bad_line(struct run_scan *s, const char *rel, long line, int *bad, const char *why)
{
    char where[PATH_MAX + 32];
    if (++*bad > MAX_LINE_PROBLEMS)
        return;
    snprintf(where, sizeof(where), "%s:%ld", rel, line);
    problem(s, where,
            "the event log is written by mlpio only, one JSON event per line: restore the file "
            "or rerun the run (the line is skipped; the other events are kept)",
            "line %ld: %s", line, why);
}

/* events.jsonl: each line an event (mlpio_eventlog_parse_line); bad lines are skipped with a
 * problem naming the line. */
static void read_events(struct run_scan *s)
{
    char rel[PATH_MAX], abs[PATH_MAX * 2];
    paths(s, "events.jsonl", rel, sizeof(rel), abs, sizeof(abs));
    int kind = regular(s, abs, rel);
    if (kind == 0)
        problem(s, rel, "the run's event log is missing: restore it, or rerun the run", "%s",
                "events.jsonl is missing");
    size_t len = 0;
    char *text = kind > 0 ? read_text(s, abs, rel, &len) : NULL;
    if (!text)
        return;
    s->events = cJSON_CreateArray();
    int bad = 0;
    long line = 0;
    const char *p = text, *end = text + len;
    while (s->events && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct mlpio_error err = {0};
        cJSON *ev = NULL;
        line++;
        if (!nl) {
            bad_line(s, rel, line, &bad,
                     "the last line has no newline: the writer stopped in the middle of it");
            break;
        }
        if (mlpio_eventlog_parse_line(p, (size_t)(nl - p), &ev, &err) != 0) {
            /* "invalid event log line: why" reads as "line N: why" once located. */
            const char *why = strncmp(err.message, "invalid event log line: ", 24) == 0
                                  ? err.message + 24
                                  : err.message;
            bad_line(s, rel, line, &bad, why);
        } else {
            const char *name = cJSON_GetObjectItem(ev, "name")->valuestring;
            if (s->has_finish) {
                char why[160];
                snprintf(why, sizeof(why), "event \"%s\" after \"finish\", which must be last",
                         name);
                bad_line(s, rel, line, &bad, why);
            } else if (strcmp(name, "finish") == 0) {
                s->has_finish = 1;
                s->finish_code = mlpio_json_number(ev, "context.exit_code", -1);
            }
            cJSON_AddItemToArray(s->events, ev);
        }
        p = nl + 1;
    }
    free(text);
    if (!s->events)
        s->oom = 1;
    if (bad > MAX_LINE_PROBLEMS) {
        problem(s, rel, "restore the file or rerun the run", "%d more bad lines",
                bad - MAX_LINE_PROBLEMS);
    }
    const cJSON *first = cJSON_GetArrayItem(s->events, 0);
    if (first && strcmp(cJSON_GetObjectItem(first, "name")->valuestring, "start") != 0)
        problem(s, rel, "restore the file or rerun the run", "%s",
                "the first event is not \"start\": the beginning of the log is missing");
}

/* The metadata's identity against where the run is. */
static void check_identity(struct run_scan *s, const char *meta_rel)
{
    static const char *const keys[MLPIO_SCAN_DEPTH] = {"benchmark", "model", "command", "run_id"};
    for (int i = 0; i < MLPIO_SCAN_DEPTH; i++) {
        const char *v = mlpio_json_string(s->metadata, keys[i], NULL);
        if (!v)
            problem(s, meta_rel,
                    "the file is damaged or was not written by mlpio: restore it or rerun",
                    "the metadata has no \"%s\" string", keys[i]);
        else if (s->comp[i][0] && strcmp(v, s->comp[i]) != 0)
            problem(s, meta_rel,
                    "move the directory to where its metadata puts it, or restore the metadata",
                    "the metadata says %s \"%s\", the directory says \"%s\"", keys[i], v,
                    s->comp[i]);
    }
}

/* -1, 0, 1 as version a is older, the same, newer than b; 2 when either is not "X.Y.Z". */
static int version_cmp(const char *a, const char *b)
{
    unsigned x[3], y[3];
    char end;
    if (sscanf(a, "%u.%u.%u%c", &x[0], &x[1], &x[2], &end) != 3 ||
        sscanf(b, "%u.%u.%u%c", &y[0], &y[1], &y[2], &end) != 3)
        return 2;
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void check_version(struct run_scan *s, const char *meta_rel)
{
    const char *v = mlpio_json_string(s->metadata, "mlpio_version", NULL);
    char fix[256];
    int cmp = v ? version_cmp(v, MLPIO_VERSION) : 2;
    if (cmp <= 0)
        return;
    if (cmp == 1) {
        snprintf(fix, sizeof(fix), "validate with mlpio %.64s or newer", v);
        problem(s, meta_rel, fix,
                "written by mlpio %s, newer than this mlpio %s: fields it added are not "
                "understood, and the verdict may differ from the one it recorded",
                v, MLPIO_VERSION);
    } else {
        problem(s, meta_rel, "restore the metadata, or rerun the run with this mlpio",
                "unknown mlpio version %s%s%s: the file may not be mlpio's",
                v ? "\"" : "(no \"mlpio_version\")", v ? v : "", v ? "\"" : "");
    }
}

/* The run checker's verdict, or NULL when the run is not judged (problems say why). */
static struct mlpio_verdict_report *judge(struct run_scan *s, const char *meta_rel)
{
    const char *bench = mlpio_json_string(s->metadata, "benchmark", NULL);
    const char *command = mlpio_json_string(s->metadata, "command", NULL);
    const struct mlpio_workload *w = bench ? mlpio_workload_find(bench) : NULL;
    const struct mlpio_command *c = w && command ? mlpio_workload_command(w, command) : NULL;
    const char *fix = "validate with the mlpio version that wrote the run (see "
                      "\"mlpio_version\"), or move the run out of the results directory";
    if (!w) {
        problem(s, meta_rel, fix, "unknown workload \"%s\": the run is listed, not judged",
                bench ? bench : "(none)");
        return NULL;
    }
    if (!c) {
        problem(s, meta_rel, fix, "unknown command \"%s\" of %s: the run is listed, not judged",
                command ? command : "(none)", bench);
        return NULL;
    }
    mlpio_rules_checker_fn check = mlpio_rules_run_checker(bench);
    if (!(c->flags & MLPIO_CMD_JUDGED) || !check)
        return NULL;
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    if (!v) {
        s->oom = 1;
        return NULL;
    }
    if (check(s->metadata, v, &err) != 0) {
        problem(s, meta_rel, err.hint[0] ? err.hint : "restore the metadata or rerun",
                "the rules cannot judge the run: %s", err.message);
        mlpio_verdict_destroy(&v);
    }
    return v;
}

/* The run's status from the metadata and the event log, with what contradicts. */
static const char *status_of(struct run_scan *s, const char *meta_rel)
{
    if (!s->metadata)
        return "unreadable";
    const char *recorded = mlpio_json_string(s->metadata, "status", "");
    int ended = !strcmp(recorded, "complete") || !strcmp(recorded, "failed");
    double code = mlpio_json_number(s->metadata, "exit_status.code", -1);
    if (s->has_finish) {
        if (!ended)
            problem(s, meta_rel, "the final metadata write failed (disk full?): rerun the run",
                    "%s",
                    "the event log has \"finish\" but the metadata was not updated at the end "
                    "of the run");
        else if (code != s->finish_code)
            problem(s, meta_rel, "restore the files or rerun the run",
                    "the metadata records exit code %g, the \"finish\" event %g", code,
                    s->finish_code);
        return s->finish_code == 0 ? "success" : "failed";
    }
    if (!ended) {
        problem(s, s->rel,
                "wait for the run to end (mlpio watch --follow RUN_DIR); if its job was killed, "
                "rerun it and move this directory out of the results directory",
                "%s",
                "unfinished run: no \"finish\" event, the metadata still says \"running\" (the "
                "run is going on, or was killed)");
        return "unfinished";
    }
    if (s->events)
        problem(s, s->rel, "restore events.jsonl, or rerun the run", "%s",
                "the event log has no \"finish\" event although the metadata says the run ended");
    return !strcmp(recorded, "complete") && code == 0 ? "success" : "failed";
}

static void add_string_or_null(cJSON *o, const char *key, const char *value)
{
    if (value)
        cJSON_AddStringToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_or_null(cJSON *o, const char *key, cJSON *value)
{
    if (value)
        cJSON_AddItemToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

/* Why a failed run failed, from its metadata: {"code", "error", "hint"}. */
static cJSON *error_of(const cJSON *m)
{
    cJSON *e = cJSON_CreateObject();
    const cJSON *code = mlpio_json_get_path(m, "exit_status.code");
    if (cJSON_IsNumber(code))
        cJSON_AddNumberToObject(e, "code", code->valuedouble);
    else
        cJSON_AddNullToObject(e, "code");
    cJSON_AddStringToObject(
        e, "error",
        mlpio_json_string(m, "exit_status.error",
                          m ? "the metadata records no error" : "the metadata cannot be read"));
    cJSON_AddStringToObject(e, "hint", mlpio_json_string(m, "exit_status.hint", ""));
    return e;
}

/* Assemble the entry; takes the documents of s. */
static cJSON *entry_of(struct run_scan *s, const char *status, const struct mlpio_verdict_report *v)
{
    cJSON *e = cJSON_CreateObject();
    const cJSON *m = s->metadata;
    const char *bench = m ? mlpio_json_string(m, "benchmark", s->comp[0]) : s->comp[0];
    const char *command = m ? mlpio_json_string(m, "command", s->comp[2]) : s->comp[2];
    const cJSON *recorded = mlpio_json_get_path(m, "verdict.verdict");
    cJSON *verdict = v ? mlpio_verdict_to_json(v) : NULL;
    cJSON *issues = verdict ? cJSON_DetachItemFromObject(verdict, "issues") : cJSON_CreateArray();
    cJSON *figures = mlpio_scan_figures(bench, command, s->summary);
    if (!e || !issues || !figures || (v && !verdict)) {
        cJSON_Delete(e);
        cJSON_Delete(issues);
        cJSON_Delete(figures);
        cJSON_Delete(verdict);
        return NULL;
    }
    cJSON_AddStringToObject(e, "path", s->rel);
    cJSON_AddStringToObject(e, "benchmark", bench);
    cJSON_AddStringToObject(e, "model", m ? mlpio_json_string(m, "model", s->comp[1]) : s->comp[1]);
    cJSON_AddStringToObject(e, "command", command);
    cJSON_AddStringToObject(e, "run_id",
                            m ? mlpio_json_string(m, "run_id", s->comp[3]) : s->comp[3]);
    cJSON_AddStringToObject(e, "status", status);
    add_string_or_null(e, "verdict", v ? mlpio_verdict_name(mlpio_verdict_of(v)) : NULL);
    add_string_or_null(e, "rules_edition", v ? mlpio_rules_edition_of(m) : NULL);
    add_string_or_null(e, "recorded_verdict",
                       cJSON_IsString(recorded) ? recorded->valuestring : NULL);
    cJSON_AddItemToObject(e, "issues", issues);
    add_or_null(e, "error", strcmp(status, "failed") == 0 ? error_of(m) : NULL);
    cJSON_AddItemToObject(e, "problems", s->problems);
    add_or_null(e, "metadata", s->metadata);
    add_or_null(e, "summary", s->summary);
    add_or_null(e, "events", s->events);
    cJSON_AddItemToObject(e, "figures", figures);
    s->problems = s->metadata = s->summary = s->events = NULL;
    cJSON_Delete(verdict);
    return e;
}

int mlpio_scan_run(const char *root, const char *rel, const char *const comp[MLPIO_SCAN_DEPTH],
                   struct mlpio_scan_run *out, struct mlpio_error *err)
{
    struct run_scan s = {.root = root, .rel = rel};
    char meta_name[512], meta_rel[PATH_MAX];
    int missing = 0;
    struct mlpio_verdict_report *v = NULL;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < MLPIO_SCAN_DEPTH; i++)
        snprintf(s.comp[i], sizeof(s.comp[i]), "%s", comp[i] ? comp[i] : "");
    s.problems = cJSON_CreateArray();
    if (!s.problems)
        goto oom;
    if (find_metadata(&s, meta_name, sizeof(meta_name)) == 0) {
        snprintf(meta_rel, sizeof(meta_rel), "%s/%s", rel, meta_name);
        s.metadata = read_object(&s, meta_name, &missing);
    }
    read_events(&s);
    const char *status = status_of(&s, s.metadata ? meta_rel : rel);
    if (s.metadata) {
        check_identity(&s, meta_rel);
        check_version(&s, meta_rel);
        /* A failed run is listed with its error, not judged on what it never measured. */
        v = strcmp(status, "failed") != 0 ? judge(&s, meta_rel) : NULL;
        const char *recorded = mlpio_json_string(s.metadata, "verdict.verdict", NULL);
        const char *now = v ? mlpio_verdict_name(mlpio_verdict_of(v)) : NULL;
        if (recorded && now && strcmp(recorded, now) != 0) {
            problem(&s, meta_rel,
                    "the metadata was edited, or the rules changed since the run: rerun it to "
                    "record a current verdict",
                    "the run recorded the verdict %s, the rules now judge it %s", recorded, now);
        }
        mlpio_scan_preset(s.metadata, out->preset, sizeof(out->preset));
    }
    s.summary = read_object(&s, "summary.json", &missing);
    if (missing && strcmp(status, "unfinished") != 0) {
        char where[PATH_MAX];
        snprintf(where, sizeof(where), "%s/summary.json", rel);
        problem(&s, where,
                "the run ended without writing its figures (a full disk or a crash at the end): "
                "rerun it",
                "%s", "summary.json is missing: the run has no figures");
    }
    if (s.oom)
        goto oom;
    out->entry = entry_of(&s, status, v);
    if (!out->entry)
        goto oom;
    mlpio_verdict_destroy(&v);
    return 0;
oom:
    mlpio_verdict_destroy(&v);
    cJSON_Delete(s.problems);
    cJSON_Delete(s.metadata);
    cJSON_Delete(s.summary);
    cJSON_Delete(s.events);
    return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "scanning run %s", rel);
}
