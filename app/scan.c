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
#include "app/subtree.h"
#include "app/yaml.h"
#include "report/json_file.h"
#include "rules/submission.h"

/* Where runs are below the directory a walk starts from: what each level is and which part
 * of the run's name (benchmark, model, command, run_id) its directory names. */
struct layout {
    const char *text; /* for messages */
    int depth;
    const char *names[MLPIO_SCAN_DEPTH];
    int slot[MLPIO_SCAN_DEPTH];
};

static const struct layout flat = {
    "<benchmark>/<model>/<command>/<run_id>/",
    4,
    {"a benchmark directory", "a model directory", "a command directory", "a run directory"},
    {0, 1, 2, 3}};
static const struct layout tree_with_command = {
    "<division>/<org>/results/<system>/<category>/<model>/<command>/<YYYYMMDD_HHMMSS>/",
    3,
    {"a model directory", "a command directory", "a run directory"},
    {1, 2, 3}};
static const struct layout tree_without_command = {
    "<division>/<org>/results/<system>/checkpointing/<model>/<YYYYMMDD_HHMMSS>/",
    2,
    {"a model directory", "a run directory"},
    {1, 3}};

struct walk {
    const char *root; /* absolute, symbolic links resolved */
    cJSON *problems;  /* the tree's own */
    struct mlpio_scan_run *runs;
    int count, cap;
    struct mlpio_error *err;
    const struct layout *layout;
    const char *comp[MLPIO_SCAN_DEPTH]; /* the run's name as the walk goes down */
    const char *scope;                  /* "<division>/<org>/<system>" in a tree, else NULL */
    const char *division, *org, *system, *category;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mlpio_scan_free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of dir but "." and "..", sorted. 0, or -1 with errno (ENOMEM or opendir's). */
int mlpio_scan_list(const char *dir, char ***out, int *count)
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
    mlpio_scan_free_names(names, n);
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
    if (mlpio_scan_list(dir, &names, &n) != 0)
        return -1;
    int found = any_metadata(names, n);
    mlpio_scan_free_names(names, n);
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
    struct mlpio_scan_run *r = &w->runs[w->count];
    if (mlpio_scan_run(w->root, rel, w->comp, r, w->err) != 0)
        return -1;
    w->count++;
    if (!w->scope)
        return 0;
    snprintf(r->scope, sizeof(r->scope), "%s", w->scope);
    cJSON *t = cJSON_AddObjectToObject(r->entry, "tree");
    if (!t || !cJSON_AddStringToObject(t, "division", w->division) ||
        !cJSON_AddStringToObject(t, "org", w->org) ||
        !cJSON_AddStringToObject(t, "system", w->system) ||
        !cJSON_AddStringToObject(t, "category", w->category) ||
        !cJSON_AddStringToObject(t, "leaf", rel + strlen(w->division) + strlen(w->org) + 2))
        return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "scanning %s", rel);
    return 0;
}

/* A run directory found depth levels below the root (rel "." for the root itself), where the
 * layout has another level: its runs are not scanned, the problem says where the tree starts. */
static int misplaced_run(struct walk *w, const char *rel, int depth)
{
    char what[PATH_MAX + 256], fix[PATH_MAX + 256], top[PATH_MAX];
    const struct layout *l = w->layout;
    snprintf(what, sizeof(what),
             "%s is a run directory where %s is expected (the layout is %s): it is not scanned",
             rel, depth ? l->names[depth - 1] : "the results directory", l->text);
    if (l != &flat) {
        snprintf(fix, sizeof(fix), "move the run directory to %s", l->text);
        return problem(w, rel, fix, what);
    }
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
                 top[0] ? top : "/", l->text);
    return problem(w, rel, fix, what);
}

/* An entry at depth below where the walk's layout starts (1 ... layout->depth, the run). */
static int visit(struct walk *w, const char *rel, const char *name, int depth)
{
    char abs[PATH_MAX * 2], what[PATH_MAX * 2 + 256], fix[512];
    const struct layout *l = w->layout;
    struct stat st;
    w->comp[l->slot[depth - 1]] = name;
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
                 l->names[depth - 1], l->text);
        return problem(w, rel, "move the file out of the results directory", what);
    }
    if (depth < l->depth) {
        char **names = NULL;
        int n = 0, rc = 0;
        if (mlpio_scan_list(abs, &names, &n) != 0) {
            if (errno == ENOMEM)
                return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "listing %s", rel);
            snprintf(what, sizeof(what), "cannot list %s: %s (%s)", rel, strerror(errno),
                     mlpio_errno_name(errno));
            return problem(w, rel, "check the directory's permissions", what);
        }
        if (any_metadata(names, n)) {
            mlpio_scan_free_names(names, n);
            return misplaced_run(w, rel, depth);
        }
        for (int i = 0; i < n && rc == 0; i++) {
            char child[PATH_MAX];
            if (snprintf(child, sizeof(child), "%s/%s", rel, names[i]) >= (int)sizeof(child))
                rc = problem(w, rel, "shorten the names below it", "path too long");
            else
                rc = visit(w, child, names[i], depth + 1);
        }
        mlpio_scan_free_names(names, n);
        return rc;
    }
    if (!looks_like_run_id(name) && has_metadata(abs) == 0) {
        snprintf(what, sizeof(what),
                 "unexpected directory: not a run (its name is not a run id YYYYMMDD_HHMMSS and "
                 "it has no *_metadata.json); the layout is %s",
                 l->text);
        snprintf(fix, sizeof(fix), "move it out of the results directory");
        return problem(w, rel, fix, what);
    }
    return add_run(w, rel);
}

/* ---- a submission tree (subtree.h) -------------------------------------------------------- */

void mlpio_scan_join(char *out, size_t n, const char *a, const char *b)
{
    if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
        errno = ENAMETOOLONG;
}

/* The subdirectories of rel (names sorted) into *names: 1, or 0 when rel is no listable
 * directory (a problem says so), or -1 when memory runs out. */
static int list_sub(struct walk *w, const char *rel, const char *expected, char ***names, int *n)
{
    char abs[PATH_MAX * 2], what[PATH_MAX * 2 + 256];
    struct stat st;
    snprintf(abs, sizeof(abs), "%s/%s", w->root, rel);
    int missing = stat(abs, &st) != 0;
    if (missing || !S_ISDIR(st.st_mode)) {
        snprintf(what, sizeof(what), "%s where %s is expected (the layout is %s)",
                 !missing          ? "a file"
                 : errno == ENOENT ? "nothing"
                                   : "an entry that cannot be read",
                 expected, tree_with_command.text);
        return problem(w, rel, "make it a directory, or move what is there out of the tree", what)
                   ? -1
                   : 0;
    }
    if (mlpio_scan_list(abs, names, n) == 0)
        return 1;
    if (errno == ENOMEM)
        return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "listing %s", rel);
    snprintf(what, sizeof(what), "cannot list %s: %s (%s)", rel, strerror(errno),
             mlpio_errno_name(errno));
    return problem(w, rel, "check the directory's permissions", what) ? -1 : 0;
}

/* <division>/<org>/results/<system>/<category>: the benchmark's runs below. */
static int walk_category(struct walk *w, const char *rel, const char *category)
{
    char what[PATH_MAX + 256], child[PATH_MAX];
    const char *benchmark = mlpio_tree_benchmark(category);
    if (!benchmark) {
        snprintf(what, sizeof(what),
                 "%s is not a category of an mlpio benchmark (training, checkpointing, "
                 "kv_cache): its runs are not scanned",
                 category);
        return problem(w, rel, "move it out of the tree, or judge it with the tool that wrote it",
                       what);
    }
    char **names = NULL;
    int n = 0, rc = list_sub(w, rel, "a category directory", &names, &n);
    if (rc <= 0)
        return rc;
    rc = 0;
    w->category = category;
    w->comp[0] = benchmark;
    w->comp[2] = NULL;
    w->layout = mlpio_tree_has_command(benchmark) ? &tree_with_command : &tree_without_command;
    for (int i = 0; i < n && rc == 0; i++) {
        mlpio_scan_join(child, sizeof(child), rel, names[i]);
        rc = visit(w, child, names[i], 1);
    }
    mlpio_scan_free_names(names, n);
    return rc;
}

static int walk_results(struct walk *w, const char *rel)
{
    char **systems = NULL, scope[PATH_MAX], sys_rel[PATH_MAX], cat_rel[PATH_MAX];
    int ns = 0, rc = list_sub(w, rel, "the results directory of an org", &systems, &ns);
    if (rc <= 0)
        return rc;
    rc = 0;
    for (int i = 0; i < ns && rc == 0; i++) {
        char **cats = NULL;
        int nc = 0;
        mlpio_scan_join(sys_rel, sizeof(sys_rel), rel, systems[i]);
        snprintf(scope, sizeof(scope), "%s/%s/%s", w->division, w->org, systems[i]);
        w->scope = scope;
        w->system = systems[i];
        rc = list_sub(w, sys_rel, "a system directory", &cats, &nc);
        rc = rc < 0 ? -1 : 0;
        for (int j = 0; j < nc && rc == 0; j++) {
            mlpio_scan_join(cat_rel, sizeof(cat_rel), sys_rel, cats[j]);
            rc = walk_category(w, cat_rel, cats[j]);
        }
        mlpio_scan_free_names(cats, nc);
    }
    w->scope = NULL;
    mlpio_scan_free_names(systems, ns);
    return rc;
}

/* The org's own checks over the runs found below it. */
static int org_checks(struct walk *w)
{
    const cJSON **entries = calloc((size_t)(w->count ? w->count : 1), sizeof(*entries));
    int n = 0;
    for (int i = 0; entries && i < w->count; i++)
        if (!strcmp(mlpio_json_string(w->runs[i].entry, "tree.division", ""), w->division))
            entries[n++] = w->runs[i].entry;
    int rc = entries ? mlpio_scan_org(w->root, w->division, w->org, entries, n, w->problems) : -1;
    free(entries);
    if (rc != 0)
        return mlpio_error_errno(w->err, MLPIO_ERR_INTERNAL, ENOMEM, "checking %s/%s", w->division,
                                 w->org);
    return 0;
}

static const char org_entries[] = "results/, systems/ and submission.yaml";

static int walk_org(struct walk *w, const char *rel)
{
    char **names = NULL, child[PATH_MAX], what[PATH_MAX + 256];
    int n = 0, rc = list_sub(w, rel, "an org directory", &names, &n), seen = 0;
    if (rc <= 0)
        return rc;
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        mlpio_scan_join(child, sizeof(child), rel, names[i]);
        if (!strcmp(names[i], "results")) {
            seen |= 1;
            rc = walk_results(w, child);
        } else if (!strcmp(names[i], "systems")) {
            seen |= 2;
        } else if (strcmp(names[i], "submission.yaml") != 0) {
            snprintf(what, sizeof(what), "%s does not belong in an org directory (it holds %s)",
                     names[i], org_entries);
            rc = problem(w, child, "move it out of the submission tree", what);
        }
    }
    for (int k = 0; k < 2 && rc == 0; k++) {
        if (seen & (1 << k))
            continue;
        seen |= 4; /* a part missing: the org's own checks would only repeat it */
        mlpio_scan_join(child, sizeof(child), rel, k ? "systems" : "results");
        snprintf(what, sizeof(what), "the org directory has no %s/ (it holds %s)",
                 k ? "systems" : "results", org_entries);
        rc = problem(w, child,
                     k ? "run a benchmark into the tree (it writes systems/<system>.yaml), or "
                         "restore systems/"
                       : "run the benchmarks into the tree (--results-dir)",
                     what);
    }
    mlpio_scan_free_names(names, n);
    if (rc == 0 && !(seen & 4))
        rc = org_checks(w);
    return rc;
}

static int walk_tree(struct walk *w, const struct mlpio_tree *t, char **names, int n)
{
    char what[PATH_MAX + 256], rel[PATH_MAX];
    int rc = 0;
    w->org = t->org;
    for (int i = 0; i < n && rc == 0; i++) {
        if (!strcmp(names[i], MLPIO_TREE_MARKER) || !strcmp(names[i], MLPIO_TREE_DEFAULTS))
            continue;
        if (strcmp(names[i], "closed") != 0 && strcmp(names[i], "open") != 0) {
            snprintf(what, sizeof(what),
                     "%s is not part of a submission tree (it holds closed/, open/, "
                     "%s and %s)",
                     names[i], MLPIO_TREE_MARKER, MLPIO_TREE_DEFAULTS);
            rc = problem(w, names[i], "move it out of the submission tree", what);
            continue;
        }
        char **orgs = NULL;
        int no = 0;
        rc = list_sub(w, names[i], "a division directory", &orgs, &no);
        rc = rc < 0 ? -1 : 0;
        w->division = names[i];
        for (int j = 0; j < no && rc == 0; j++) {
            snprintf(rel, sizeof(rel), "%s/%s", names[i], orgs[j]);
            if (strcmp(orgs[j], t->org) != 0) {
                snprintf(what, sizeof(what),
                         "org directory %s is not the tree's org %s (%s): it is not scanned",
                         orgs[j], t->org, MLPIO_TREE_MARKER);
                rc = problem(w, rel, "a tree holds one org's submission: move it out", what);
            } else {
                rc = walk_org(w, rel);
            }
        }
        mlpio_scan_free_names(orgs, no);
    }
    return rc;
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
        return mlpio_error_hint(err, "pass the directory that holds %s", flat.text);
    }
    if (mlpio_scan_list(resolved, names, n) != 0) {
        int e = errno;
        mlpio_error_errno(err, e == ENOMEM ? MLPIO_ERR_INTERNAL : MLPIO_ERR_USAGE, e,
                          "cannot list results directory %s", results_dir);
        return mlpio_error_hint(err, "check the directory's permissions");
    }
    return 0;
}

/* The runs of scope as the submission checks see them (pointers into the entries), *n of them. */
static struct mlpio_submission_run *submission_runs(const struct walk *w, const char *scope, int *n)
{
    struct mlpio_submission_run *s = calloc((size_t)(w->count ? w->count : 1), sizeof(*s));
    *n = 0;
    for (int j = 0; s && j < w->count; j++) {
        if (strcmp(w->runs[j].scope, scope) != 0)
            continue;
        int i = (*n)++;
        const cJSON *e = w->runs[j].entry;
        const char *verdict = mlpio_json_string(e, "verdict", NULL);
        s[i].path = mlpio_json_string(e, "path", "");
        s[i].benchmark = mlpio_json_string(e, "benchmark", NULL);
        s[i].model = mlpio_json_string(e, "model", NULL);
        s[i].command = mlpio_json_string(e, "command", NULL);
        s[i].status = mlpio_json_string(e, "status", NULL);
        s[i].preset = w->runs[j].preset[0] ? w->runs[j].preset : NULL;
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

/* The submission groups: in a tree, those of each system of each division apart, each group
 * with its "scope" (<division>/<org>/<system>); else those of the whole tree. */
static cJSON *submissions_of(const struct walk *w, struct mlpio_error *err)
{
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; all && i < w->count; i++) {
        const char *scope = w->runs[i].scope;
        int first = 1, n = 0;
        for (int j = 0; j < i && first; j++)
            first = strcmp(w->runs[j].scope, scope) != 0;
        if (!first)
            continue;
        struct mlpio_submission_run *subs = submission_runs(w, scope, &n);
        cJSON *groups = subs ? mlpio_submission_check(subs, n, err) : NULL;
        free(subs);
        if (!groups) {
            cJSON_Delete(all);
            return NULL;
        }
        cJSON *g;
        while ((g = cJSON_DetachItemFromArray(groups, 0)) != NULL) {
            if (scope[0])
                cJSON_AddStringToObject(g, "scope", scope);
            cJSON_AddItemToArray(all, g);
        }
        cJSON_Delete(groups);
    }
    if (!all)
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "judging the submissions");
    return all;
}

static cJSON *build_doc(struct walk *w, struct mlpio_error *err)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *submissions = submissions_of(w, err);
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
    struct mlpio_tree tree;
    struct mlpio_error marker_err = {0};
    int is_tree = rc == 0 ? mlpio_tree_open(resolved, &tree, &marker_err) : 0;
    int is_run = has_metadata(resolved) == 1;
    w.layout = is_tree > 0 ? &tree_with_command : &flat;
    if (is_tree < 0)
        rc = problem(&w, MLPIO_TREE_MARKER,
                     "restore the marker (mlpio init --org ORG writes it in an empty directory)",
                     marker_err.message);
    else if (is_tree > 0)
        rc = walk_tree(&w, &tree, names, n);
    else if (is_run)
        rc = misplaced_run(&w, ".", 0);
    for (int i = 0; i < n && rc == 0 && !is_run && !is_tree; i++)
        rc = visit(&w, names[i], names[i], 1);
    mlpio_scan_free_names(names, n);
    if (rc == 0 && w.count == 0) {
        char what[PATH_MAX + 128];
        snprintf(what, sizeof(what), "no run directories in %s (runs are found at %s)", resolved,
                 w.layout->text);
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

/* ---- submission.yaml -------------------------------------------------------------------- */

/* Whether the manifest at path may be replaced: missing, or written by mlpio. */
static int replaceable(const char *path, const char *rel, struct mlpio_error *err)
{
    struct stat st;
    size_t len;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    char *text = mlpio_file_read_text(path, 1u << 20, &len, err);
    cJSON *m = text ? mlpio_yaml_parse(text, rel, err) : NULL;
    free(text);
    char by[128];
    snprintf(by, sizeof(by), "%s", mlpio_json_string(m, "generated_by", ""));
    int ours = strncmp(by, "mlpio ", 6) == 0;
    cJSON_Delete(m);
    if (ours)
        return 0;
    mlpio_error_set(err, MLPIO_ERR_USAGE, "%s was not written by mlpio%s%s: it is not replaced",
                    rel, by[0] ? ", but by " : "", by);
    return mlpio_error_hint(err, "move it away if mlpio's manifest should replace it");
}

int mlpio_scan_write_manifests(const char *results_dir, cJSON **doc_out, int *written,
                               struct mlpio_error *err)
{
    struct mlpio_tree t;
    char root[PATH_MAX];
    *written = 0;
    *doc_out = NULL;
    if (!realpath(results_dir, root))
        return mlpio_error_errno(err, MLPIO_ERR_USAGE, errno, "cannot open %s", results_dir);
    int is_tree = mlpio_tree_open(root, &t, err);
    if (is_tree < 0)
        return -1;
    if (is_tree == 0) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s is not a submission tree (it has no %s)",
                        results_dir, MLPIO_TREE_MARKER);
        return mlpio_error_hint(err, "make one with 'mlpio init --org ORG --results-dir DIR' "
                                     "and run the benchmarks into it");
    }
    cJSON *doc = NULL;
    if (mlpio_scan_tree(root, &doc, err) != 0)
        return -1;
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    int n = cJSON_GetArraySize(runs), rc = 0;
    const cJSON **mine = calloc((size_t)(n ? n : 1), sizeof(*mine));
    static const char *const divisions[] = {"closed", "open"};
    for (int d = 0; mine && rc == 0 && d < 2; d++) {
        int k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, runs) if (!strcmp(mlpio_json_string(e, "tree.division", ""),
                                                divisions[d])) mine[k++] = e;
        if (!k)
            continue;
        char rel[PATH_MAX], path[PATH_MAX * 2];
        snprintf(rel, sizeof(rel), "%s/%s/submission.yaml", divisions[d], t.org);
        mlpio_scan_join(path, sizeof(path), root, rel);
        if ((rc = replaceable(path, rel, err)) != 0)
            break;
        cJSON *m = mlpio_scan_manifest(root, divisions[d], t.org, mine, k);
        char *body = m ? mlpio_yaml_emit(m) : NULL, *text = NULL;
        size_t len = body ? strlen(body) + 512 : 0;
        if (body && (text = malloc(len)) != NULL)
            snprintf(text, len,
                     "# %s: the submission manifest (%s),\n"
                     "# written by mlpio %s from the runs of %s/%s. 'mlpio validate' checks\n"
                     "# it against the tree; write it again with 'mlpio reports manifest'\n"
                     "# after adding or removing runs.\n%s",
                     rel, MLPIO_MANIFEST_SCHEMA, MLPIO_VERSION, divisions[d], t.org, body);
        rc = text ? mlpio_file_write_atomic(path, text, strlen(text), err)
                  : mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "writing %s", rel);
        *written += rc == 0;
        free(text);
        free(body);
        cJSON_Delete(m);
    }
    if (!mine)
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "writing the manifests");
    free(mine);
    if (rc == 0)
        *doc_out = doc;
    else
        cJSON_Delete(doc);
    return rc;
}
