/* mlpio results-tree scanner: the walk over the tree and the results document, see scan.h.
 *
 * The walk goes exactly MLPIO_SCAN_DEPTH levels down, so a tree with symbolic-link loops or
 * deep unrelated folders cannot make it run away. Each level is listed and sorted by name, so
 * two scans of the same tree give the same document.
 */
#include "app/scan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/params.h"
#include "app/scan_run.h"
#include "report/json_file.h"
#include "rules/submission.h"

struct walk {
    const char *root; /* absolute, symbolic links resolved */
    cJSON *problems;  /* the tree's own */
    struct mlpio_scan_run *runs;
    int count, cap;
    struct mlpio_error *err;
};

static const char *const level_names[MLPIO_SCAN_DEPTH] = {
    "a benchmark directory", "a model directory", "a command directory", "a run directory"};

static const char layout[] = "<benchmark>/<model>/<command>/<run_id>/";

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of dir but "." and "..", sorted. 0, or -1 with errno (ENOMEM or opendir's). */
static int list_dir(const char *dir, char ***out, int *count)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    int n = 0, cap = 0;
    if (!d)
        return -1;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, sizeof(*names) * (size_t)cap);
            if (!grown)
                goto nomem;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(*names), cmp_names);
    *out = names;
    *count = n;
    return 0;
nomem:
    closedir(d);
    free_names(names, n);
    errno = ENOMEM;
    return -1;
}

/* YYYYMMDD_HHMMSS, as app/rundir.c names runs. */
static int looks_like_run_id(const char *name)
{
    if (strlen(name) != 15 || name[8] != '_')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (name[i] < '0' || name[i] > '9'))
            return 0;
    return 1;
}

static int any_metadata(char **names, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len > 14 && strcmp(names[i] + len - 14, "_metadata.json") == 0)
            return 1;
    }
    return 0;
}

/* 1 when dir holds a *_metadata.json, 0 when not, -1 when it cannot be listed. */
static int has_metadata(const char *dir)
{
    char **names = NULL;
    int n = 0;
    if (list_dir(dir, &names, &n) != 0)
        return -1;
    int found = any_metadata(names, n);
    free_names(names, n);
    return found;
}

static int problem(struct walk *w, const char *where, const char *fix, const char *what)
{
    if (mlpio_scan_problem(w->problems, where, fix, "%s", what) == 0)
        return 0;
    return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "scanning the results tree");
}

static int add_run(struct walk *w, const char *rel)
{
    if (w->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        struct mlpio_scan_run *grown = realloc(w->runs, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "scanning %s", rel);
        w->runs = grown;
        w->cap = cap;
    }
    if (mlpio_scan_run(w->root, rel, &w->runs[w->count], w->err) != 0)
        return -1;
    w->count++;
    return 0;
}

/* A run directory found depth levels below the root (rel "." for the root itself), where the
 * layout has another level: its runs are not scanned, the problem says where the tree starts. */
static int misplaced_run(struct walk *w, const char *rel, int depth)
{
    char what[PATH_MAX + 256], fix[PATH_MAX + 256], top[PATH_MAX];
    snprintf(what, sizeof(what),
             "%s is a run directory where %s is expected (the layout is %s): it is not scanned",
             rel, depth ? level_names[depth - 1] : "the results directory", layout);
    /* Were the run where its writer put it, the results directory would be this far up. */
    snprintf(top, sizeof(top), "%s", w->root);
    for (int i = depth; i < MLPIO_SCAN_DEPTH; i++) {
        char *slash = strrchr(top, '/');
        if (slash)
            *slash = '\0';
    }
    if (depth == 0)
        snprintf(fix, sizeof(fix), "pass the results directory, %s", top[0] ? top : "/");
    else
        snprintf(fix, sizeof(fix),
                 "pass the results directory (%s, if the run is where mlpio wrote it), or move "
                 "the run directory to %s",
                 top[0] ? top : "/", layout);
    return problem(w, rel, fix, what);
}

/* An entry at depth (1: a benchmark directory ... 4: a run directory). */
static int visit(struct walk *w, const char *rel, const char *name, int depth)
{
    char abs[PATH_MAX * 2], what[PATH_MAX * 2 + 256], fix[512];
    struct stat st;
    snprintf(abs, sizeof(abs), "%s/%s", w->root, rel);
    if (stat(abs, &st) != 0) {
        snprintf(what, sizeof(what), "cannot stat %s: %s (%s)", rel, strerror(errno),
                 mlpio_errno_name(errno));
        return problem(w, rel,
                       "if it is a broken symbolic link, remove it or fix its target; else check "
                       "the permissions of its directory",
                       what);
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(what, sizeof(what), "a file where %s is expected (the layout is %s)",
                 level_names[depth - 1], layout);
        return problem(w, rel, "move the file out of the results directory", what);
    }
    if (depth < MLPIO_SCAN_DEPTH) {
        char **names = NULL;
        int n = 0, rc = 0;
        if (list_dir(abs, &names, &n) != 0) {
            if (errno == ENOMEM)
                return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "listing %s", rel);
            snprintf(what, sizeof(what), "cannot list %s: %s (%s)", rel, strerror(errno),
                     mlpio_errno_name(errno));
            return problem(w, rel, "check the directory's permissions", what);
        }
        if (any_metadata(names, n)) {
            free_names(names, n);
            return misplaced_run(w, rel, depth);
        }
        for (int i = 0; i < n && rc == 0; i++) {
            char child[PATH_MAX];
            if (snprintf(child, sizeof(child), "%s/%s", rel, names[i]) >= (int)sizeof(child))
                rc = problem(w, rel, "shorten the names below it", "path too long");
            else
                rc = visit(w, child, names[i], depth + 1);
        }
        free_names(names, n);
        return rc;
    }
    if (!looks_like_run_id(name) && has_metadata(abs) == 0) {
        snprintf(what, sizeof(what),
                 "unexpected directory: not a run (its name is not a run id YYYYMMDD_HHMMSS and "
                 "it has no *_metadata.json); the layout is %s",
                 layout);
        snprintf(fix, sizeof(fix), "move it out of the results directory");
        return problem(w, rel, fix, what);
    }
    return add_run(w, rel);
}

/* The root: resolved, a directory, listable. Fills w->root's buffer. */
static int open_root(const char *results_dir, char *resolved, char ***names, int *n,
                     struct mlpio_error *err)
{
    struct stat st;
    if (!results_dir || !results_dir[0]) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "no results directory given");
        return mlpio_error_hint(err, "pass the directory the runs wrote to (their --results-dir)");
    }
    if (!realpath(results_dir, resolved) || stat(resolved, &st) != 0) {
        int e = errno;
        mlpio_error_errno(err, e == ENOMEM ? MLPIO_ERR_INTERNAL : MLPIO_ERR_USAGE, e,
                          "cannot open results directory %s", results_dir);
        return mlpio_error_hint(err, "pass the directory the runs wrote to (their --results-dir, "
                                     "default ./mlpio_results)");
    }
    if (!S_ISDIR(st.st_mode)) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "results directory %s is not a directory",
                        results_dir);
        return mlpio_error_hint(err, "pass the directory that holds %s", layout);
    }
    if (list_dir(resolved, names, n) != 0) {
        int e = errno;
        mlpio_error_errno(err, e == ENOMEM ? MLPIO_ERR_INTERNAL : MLPIO_ERR_USAGE, e,
                          "cannot list results directory %s", results_dir);
        return mlpio_error_hint(err, "check the directory's permissions");
    }
    return 0;
}

/* The runs as the submission checks see them; pointers into the entries. */
static struct mlpio_submission_run *submission_runs(const struct walk *w)
{
    struct mlpio_submission_run *s = calloc((size_t)(w->count ? w->count : 1), sizeof(*s));
    for (int i = 0; s && i < w->count; i++) {
        const cJSON *e = w->runs[i].entry;
        const char *verdict = mlpio_json_string(e, "verdict", NULL);
        s[i].path = mlpio_json_string(e, "path", "");
        s[i].benchmark = mlpio_json_string(e, "benchmark", NULL);
        s[i].model = mlpio_json_string(e, "model", NULL);
        s[i].command = mlpio_json_string(e, "command", NULL);
        s[i].status = mlpio_json_string(e, "status", NULL);
        s[i].preset = w->runs[i].preset[0] ? w->runs[i].preset : NULL;
        s[i].metadata = mlpio_json_get_path(e, "metadata");
        s[i].summary = mlpio_json_get_path(e, "summary");
        s[i].events = mlpio_json_get_path(e, "events");
        s[i].judged = verdict && mlpio_verdict_parse(verdict, &s[i].verdict) == 0;
    }
    return s;
}

static void add_counts(cJSON *doc, const struct walk *w, const cJSON *submissions)
{
    double counts[3] = {0}, failed = 0, unjudged = 0, problems = cJSON_GetArraySize(w->problems);
    for (int i = 0; i < w->count; i++) {
        enum mlpio_verdict v;
        /* Each run in one count: a verdict, failed, or not judged; they add up to "runs". */
        if (mlpio_verdict_parse(mlpio_json_string(w->runs[i].entry, "verdict", NULL), &v) == 0)
            counts[v]++;
        else if (!strcmp(mlpio_json_string(w->runs[i].entry, "status", ""), "failed"))
            failed++;
        else
            unjudged++;
        problems += cJSON_GetArraySize(mlpio_json_get_path(w->runs[i].entry, "problems"));
    }
    cJSON *c = cJSON_AddObjectToObject(doc, "counts");
    cJSON_AddNumberToObject(c, "runs", w->count);
    cJSON_AddNumberToObject(c, "closed", counts[MLPIO_VERDICT_CLOSED]);
    cJSON_AddNumberToObject(c, "open", counts[MLPIO_VERDICT_OPEN]);
    cJSON_AddNumberToObject(c, "invalid", counts[MLPIO_VERDICT_INVALID]);
    cJSON_AddNumberToObject(c, "failed", failed);
    cJSON_AddNumberToObject(c, "not_judged", unjudged);
    cJSON_AddNumberToObject(c, "problems", problems);
    cJSON_AddNumberToObject(c, "submissions", cJSON_GetArraySize(submissions));
}

static cJSON *build_doc(struct walk *w, struct mlpio_error *err)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct mlpio_submission_run *subs = submission_runs(w);
    cJSON *submissions = subs ? mlpio_submission_check(subs, w->count, err) : NULL;
    free(subs);
    cJSON *doc = cJSON_CreateObject(), *runs = cJSON_CreateArray();
    if (!submissions || !doc || !runs ||
        !cJSON_AddStringToObject(doc, "mlpio_version", MLPIO_VERSION) ||
        !cJSON_AddStringToObject(doc, "generated", when) ||
        !cJSON_AddStringToObject(doc, "results_dir", w->root)) {
        cJSON_Delete(submissions);
        cJSON_Delete(doc);
        cJSON_Delete(runs);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "building the results document");
        return NULL;
    }
    add_counts(doc, w, submissions);
    for (int i = 0; i < w->count; i++) {
        cJSON_AddItemToArray(runs, w->runs[i].entry);
        w->runs[i].entry = NULL;
    }
    cJSON_AddItemToObject(doc, "runs", runs);
    cJSON_AddItemToObject(doc, "submissions", submissions);
    cJSON_AddItemToObject(doc, "problems", w->problems);
    w->problems = NULL;
    return doc;
}

int mlpio_scan_tree(const char *results_dir, cJSON **out, struct mlpio_error *err)
{
    char resolved[PATH_MAX];
    char **names = NULL;
    int n = 0, rc = 0;
    struct walk w = {.root = resolved, .err = err};
    *out = NULL;
    if (open_root(results_dir, resolved, &names, &n, err) != 0)
        return -1;
    w.problems = cJSON_CreateArray();
    if (!w.problems)
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "scanning %s", results_dir);
    int is_run = has_metadata(resolved) == 1;
    if (rc == 0 && is_run)
        rc = misplaced_run(&w, ".", 0);
    for (int i = 0; i < n && rc == 0 && !is_run; i++)
        rc = visit(&w, names[i], names[i], 1);
    free_names(names, n);
    if (rc == 0 && w.count == 0) {
        char what[PATH_MAX + 128];
        snprintf(what, sizeof(what), "no run directories in %s (runs are found at %s)", resolved,
                 layout);
        rc = problem(&w, ".", "pass the directory the runs wrote to (their --results-dir)", what);
    }
    if (rc == 0)
        *out = build_doc(&w, err);
    for (int i = 0; i < w.count; i++)
        cJSON_Delete(w.runs[i].entry);
    free(w.runs);
    cJSON_Delete(w.problems);
    return *out ? 0 : -1;
}
