/* mlpio reports: validate and reportgen, see reports.h. */
#include "app/reports.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cli.h"
#include "app/run.h"
#include "app/rundir.h"
#include "app/scan.h"
#include "app/text.h"
#include "io/io.h"
#include "io/path.h"
#include "report/html.h"
#include "report/json_file.h"
#include "rules/edition.h"
#include "rules/submission.h"

const char mlpio_validate_usage[] =
    "Usage: mlpio validate [--open] [--json] [--rules-edition EDITION] RESULTS_DIR\n"
    "       mlpio validate --checklist BENCHMARK\n"
    "\n"
    "Reads a results directory (<benchmark>/<model>/<command>/<run_id>/ below it, or a\n"
    "submission tree of MLPerf Storage v3.0 made by 'mlpio init': <division>/<org>/results/\n"
    "<system>/<category>/<model>/[<command>/]<YYYYMMDD_HHMMSS>/), judges every run again\n"
    "with the rules, groups the runs into submissions (in a tree: per division and system)\n"
    "and judges those, and prints: the runs by verdict (INVALID first, then OPEN with what\n"
    "to change for CLOSED, then CLOSED, then the runs the rules do not judge, such as\n"
    "datagen), the submission groups, and the problems of the tree (missing or invalid\n"
    "files, unfinished runs, entries that do not belong; in a tree also systems/,\n"
    "provenance.json and submission.yaml as the submission checker wants them, named by its\n"
    "rule ids), each with where it is and how to fix it. Nothing in the directory\n"
    "is modified. Needs no mpirun; under mpirun only rank 0 reads.\n"
    "\n"
    "Each run is judged by the MLPerf Storage rules edition it was run under (its metadata's\n"
    "\"rules_edition\"; runs recorded before editions existed: v2.0). A submission group\n"
    "mixing editions is INVALID.\n"
    "\n"
    "Options:\n"
    "  --open                 accept OPEN runs and groups (exit 0 when nothing is INVALID)\n"
    "  --json                 print the results document (as results.json) instead\n"
    "  --rules-edition ED     judge every run by rules edition ED instead (the editions are\n"
    "                         share/rules/*.json)\n"
    "  --checklist BENCHMARK  print the CLOSED requirements of a benchmark and exit (an\n"
    "                         unknown name lists the benchmarks that have them)\n"
    "  --help, -h             this help\n"
    "\n"
    "Exit codes:\n"
    "  0  every judged run and every submission group is CLOSED (with --open: CLOSED or\n"
    "     OPEN), and the tree has no problem\n"
    "  1  internal error (out of memory)\n"
    "  2  bad command line, or RESULTS_DIR missing, not a directory or unreadable\n"
    "  3  a run or group is INVALID (or OPEN, without --open), a run failed, or the tree has\n"
    "     a problem\n";

const char mlpio_reports_usage[] =
    "Usage: mlpio reports reportgen --results-dir DIR [--output-dir OUT]\n"
    "       mlpio reports manifest --results-dir TREE\n"
    "\n"
    "manifest writes <division>/<org>/submission.yaml of a submission tree (mlpio init) for\n"
    "each division that holds runs: the manifest (mlps-submission-manifest/1) listing every\n"
    "run of the division with its rules edition, system and provenance, as the MLPerf\n"
    "Storage submission checker reads it (PROV-02). Write it after the last run; 'mlpio\n"
    "validate' says when it no longer matches the tree. A submission.yaml mlpio did not\n"
    "write is never replaced.\n"
    "\n"
    "reportgen reads a results directory as 'mlpio validate' does and writes, into OUT:\n"
    "  results.json  every run (metadata, summary, events, verdict, issues, problems, main\n"
    "                figures), every submission group (verdict, issues, aggregated figures)\n"
    "                and the tree's problems\n"
    "  results.csv   one row per run and one per submission group: kind, path, benchmark,\n"
    "                model, command, run_id, status, verdict, issues (count), then the figures\n"
    "                (the union of their names, sorted); a group's path is\n"
    "                <benchmark>/<model>/<group> (in a tree <division>/<org>/<system>/...)\n"
    "  results.html  the combined report: one self-contained page (no script, opens offline)\n"
    "Each file is written atomically. Reports already in OUT are never replaced: reportgen\n"
    "refuses, and a new OUT (or the default) is the way to write them again.\n"
    "The results directory is never modified: OUT may not be it or inside it.\n"
    "Without --output-dir, OUT is ./mlpio_reports/<YYYYMMDD_HHMMSS>, a new directory.\n"
    "Needs no mpirun; under mpirun only rank 0 works.\n"
    "\n"
    "Options:\n"
    "  --results-dir, -rd DIR   the results directory to read (required)\n"
    "  --output-dir, -o OUT     where to write the reports (created if missing)\n"
    "  --help, -h               this help\n"
    "\n"
    "Exit codes:\n"
    "  0  the reports were written (whatever the verdicts: see 'mlpio validate')\n"
    "  1  internal error\n"
    "  2  bad command line, results directory missing or unreadable, OUT inside it, or OUT\n"
    "     holding earlier reports\n"
    "  4  a report could not be written\n";

/* ---- shared ------------------------------------------------------------------------------ */

static int usage_error(struct mlpio_context *ctx, const char *usage, const char *fmt,
                       const char *arg)
{
    struct mlpio_error err = {0};
    mlpio_error_set(&err, MLPIO_ERR_USAGE, fmt, arg);
    mlpio_error_hint(&err, "%.*s", (int)strcspn(usage, "\n"), usage);
    mlpio_log_error(ctx, &err);
    return MLPIO_EXIT_USAGE;
}

/* Rank 0 decides, the other ranks return what it decided. */
static int agree_code(struct mlpio_context *ctx, int code)
{
    if (ctx->size > 1)
        MPI_Bcast(&code, 1, MPI_INT, 0, ctx->comm);
    return code;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* For printing: a missing string is empty. */
static const char *text(const cJSON *o, const char *key)
{
    const char *s = str(o, key);
    return s ? s : "";
}

/* ---- validate ---------------------------------------------------------------------------- */

static void print_issues(FILE *out, const cJSON *issues)
{
    const cJSON *is;
    cJSON_ArrayForEach(is, issues)
    {
        const char *level = str(is, "level"), *hint = str(is, "hint");
        fprintf(out, "    %-7s %s: %s (expected %s, got %s)\n",
                level && !strcmp(level, "warning") ? "warning"
                : level && !strcmp(level, "open")  ? "OPEN"
                                                   : "INVALID",
                text(is, "parameter"), text(is, "message"), text(is, "expected"),
                text(is, "actual"));
        if (hint && hint[0])
            fprintf(out, "            fix: %s\n", hint);
    }
}

static void print_problems(FILE *out, const cJSON *problems, const char *indent)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, problems)
    {
        fprintf(out, "%s%s: %s\n%s  fix: %s\n", indent, text(p, "where"), text(p, "what"), indent,
                text(p, "fix"));
    }
}

/* The run's row of the listings: its verdict, "failed", or "not judged". */
static const char *kind_of(const cJSON *run)
{
    const char *v = str(run, "verdict");
    if (v)
        return v;
    return !strcmp(text(run, "status"), "failed") ? "failed" : "not judged";
}

/* The runs of a kind (see kind_of), under a heading when there are any. */
static void print_runs(FILE *out, const cJSON *runs, const char *kind, const char *heading)
{
    const cJSON *r;
    int printed = 0;
    cJSON_ArrayForEach(r, runs)
    {
        if (strcmp(kind_of(r), kind) != 0)
            continue;
        if (!printed++)
            fprintf(out, "\n%s\n", heading);
        fprintf(out, "  %s  (%s", str(r, "path"), str(r, "status"));
        if (cJSON_IsString(cJSON_GetObjectItem(r, "rules_edition")))
            fprintf(out, ", %s rules", str(r, "rules_edition"));
        int np = cJSON_GetArraySize(cJSON_GetObjectItem(r, "problems"));
        if (np)
            fprintf(out, ", %d problem%s below", np, np == 1 ? "" : "s");
        fprintf(out, ")\n");
        const cJSON *error = cJSON_GetObjectItem(r, "error");
        if (!strcmp(kind, "failed")) {
            fprintf(out, "    exit %g: %s\n", mlpio_json_number(error, "code", -1),
                    text(error, "error"));
            if (text(error, "hint")[0])
                fprintf(out, "            fix: %s\n", text(error, "hint"));
        } else if (strcmp(kind, "CLOSED") != 0) {
            print_issues(out, cJSON_GetObjectItem(r, "issues"));
        }
    }
}

static int worst_code(const cJSON *doc, bool accept_open)
{
    const char *accepted[] = {"CLOSED", accept_open ? "OPEN" : "CLOSED"};
    const char *lists[] = {"runs", "submissions"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, lists[l]))
        {
            const char *v = str(it, "verdict");
            if (v && strcmp(v, accepted[0]) != 0 && strcmp(v, accepted[1]) != 0)
                return MLPIO_EXIT_RULES;
        }
    }
    return mlpio_json_number(doc, "counts.problems", 0) > 0 ||
                   mlpio_json_number(doc, "counts.failed", 0) > 0
               ? MLPIO_EXIT_RULES
               : MLPIO_EXIT_OK;
}

static void print_validation(FILE *out, const cJSON *doc, int code)
{
    const cJSON *runs = cJSON_GetObjectItem(doc, "runs"), *g;
    fprintf(out,
            "%s: %g runs (%g CLOSED, %g OPEN, %g INVALID, %g failed, %g not judged), %g "
            "submission groups, %g problems\n",
            text(doc, "results_dir"), mlpio_json_number(doc, "counts.runs", 0),
            mlpio_json_number(doc, "counts.closed", 0), mlpio_json_number(doc, "counts.open", 0),
            mlpio_json_number(doc, "counts.invalid", 0), mlpio_json_number(doc, "counts.failed", 0),
            mlpio_json_number(doc, "counts.not_judged", 0),
            mlpio_json_number(doc, "counts.submissions", 0),
            mlpio_json_number(doc, "counts.problems", 0));
    print_runs(out, runs, "INVALID", "INVALID runs:");
    print_runs(out, runs, "OPEN", "OPEN runs (change these for CLOSED):");
    print_runs(out, runs, "CLOSED", "CLOSED runs:");
    print_runs(out, runs, "failed", "Failed runs (no verdict: they measured nothing to judge):");
    print_runs(out, runs, "not judged", "Runs not judged (commands without rules, or unreadable):");
    if (cJSON_GetArraySize(cJSON_GetObjectItem(doc, "submissions")) > 0)
        fprintf(out, "\nSubmission groups:\n");
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "submissions"))
    {
        fprintf(out, "  %-7s %s%s%s %s %s (%d run%s)\n", text(g, "verdict"), text(g, "scope"),
                str(g, "scope") ? ": " : "", text(g, "benchmark"), text(g, "model"),
                text(g, "group"), cJSON_GetArraySize(cJSON_GetObjectItem(g, "runs")),
                cJSON_GetArraySize(cJSON_GetObjectItem(g, "runs")) == 1 ? "" : "s");
        print_issues(out, cJSON_GetObjectItem(g, "issues"));
    }
    if (mlpio_json_number(doc, "counts.problems", 0) > 0) {
        const cJSON *r;
        fprintf(out, "\nProblems:\n");
        print_problems(out, cJSON_GetObjectItem(doc, "problems"), "  ");
        cJSON_ArrayForEach(r, runs)
        {
            print_problems(out, cJSON_GetObjectItem(r, "problems"), "  ");
        }
    }
    fprintf(out, "\nresult: %s (exit %d)\n", code == MLPIO_EXIT_OK ? "valid" : "not valid", code);
}

static int print_checklist(struct mlpio_context *ctx, const char *benchmark)
{
    const char *const *items = mlpio_submission_checklist(benchmark);
    if (!items) {
        char known[128] = "";
        for (int i = 0; mlpio_submission_benchmark(i); i++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", mlpio_submission_benchmark(i));
        struct mlpio_error err = {0};
        mlpio_error_set(&err, MLPIO_ERR_USAGE, "validate: no checklist for '%s'", benchmark);
        mlpio_error_hint(&err, "choose one of %s", known);
        mlpio_log_error(ctx, &err);
        return MLPIO_EXIT_USAGE;
    }
    fprintf(ctx->out, "CLOSED requirements of %s:\n", benchmark);
    for (const char *const *it = items; *it; it++)
        fprintf(ctx->out, "  [ ] %s\n", *it);
    return MLPIO_EXIT_OK;
}

static int validate(struct mlpio_context *ctx, int argc, char **argv)
{
    bool accept_open = false, json = false;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(mlpio_validate_usage, ctx->out);
            return MLPIO_EXIT_OK;
        } else if (!strcmp(argv[i], "--checklist")) {
            if (i + 1 >= argc)
                return usage_error(ctx, mlpio_validate_usage, "validate: %s needs a benchmark",
                                   argv[i]);
            return print_checklist(ctx, argv[i + 1]);
        } else if (!strcmp(argv[i], "--open")) {
            accept_open = true;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--rules-edition")) {
            struct mlpio_error eerr = {0};
            if (i + 1 >= argc)
                return usage_error(ctx, mlpio_validate_usage, "validate: %s needs an edition",
                                   argv[i]);
            if (mlpio_rules_edition_check(argv[i + 1], argv[i], &eerr) < 0) {
                mlpio_log_error(ctx, &eerr);
                return mlpio_exit_code(eerr.category);
            }
            mlpio_rules_edition_force(argv[++i]);
        } else if (argv[i][0] == '-') {
            return usage_error(ctx, mlpio_validate_usage, "validate: unknown option '%s'", argv[i]);
        } else if (dir) {
            return usage_error(ctx, mlpio_validate_usage,
                               "validate: one results directory at a time ('%s' is one more)",
                               argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return usage_error(ctx, mlpio_validate_usage, "validate: %s", "no results directory");
    struct mlpio_error err = {0};
    cJSON *doc = NULL;
    if (mlpio_scan_tree(dir, &doc, &err) != 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    int code = worst_code(doc, accept_open);
    if (json) {
        char *text = cJSON_Print(doc);
        if (text)
            fprintf(ctx->out, "%s\n", text);
        else
            code = MLPIO_EXIT_INTERNAL;
        free(text);
    } else {
        print_validation(ctx->out, doc, code);
    }
    cJSON_Delete(doc);
    return code;
}

int mlpio_validate_main(struct mlpio_context *ctx, int argc, char **argv)
{
    return agree_code(ctx, ctx->rank == 0 ? validate(ctx, argc, argv) : MLPIO_EXIT_OK);
}

/* ---- results.csv -------------------------------------------------------------------------- */

/* One field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void field(struct mlpio_text *t, const char *s, bool first)
{
    if (!first)
        mlpio_text_put(t, ",", 1);
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        mlpio_text_put(t, s, strlen(s));
        return;
    }
    mlpio_text_put(t, "\"", 1);
    for (const char *p = s; *p; p++) {
        mlpio_text_put(t, p, 1);
        if (*p == '"')
            mlpio_text_put(t, "\"", 1); /* a quote is doubled */
    }
    mlpio_text_put(t, "\"", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The union of figure names over runs and submissions, sorted; *n of them. */
static const char **figure_names(const cJSON *results, int *n)
{
    const char *lists[] = {"runs", "submissions"};
    int cap = 0;
    const char **names = NULL;
    *n = 0;
    for (size_t l = 0; l < 2; l++) {
        const cJSON *it, *f;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(results, lists[l]))
        {
            cJSON_ArrayForEach(f, cJSON_GetObjectItem(it, "figures"))
            {
                int known = 0;
                for (int i = 0; i < *n && !known; i++)
                    known = !strcmp(names[i], f->string);
                if (known)
                    continue;
                if (*n == cap) {
                    cap = cap ? 2 * cap : 32;
                    const char **grown = realloc(names, sizeof(*names) * (size_t)cap);
                    if (!grown) {
                        free(names);
                        return NULL;
                    }
                    names = grown;
                }
                names[(*n)++] = f->string;
            }
        }
    }
    if (*n > 1)
        qsort(names, (size_t)*n, sizeof(*names), cmp_str);
    return names ? names : calloc(1, sizeof(*names));
}

static void row(struct mlpio_text *t, const cJSON *it, const char *kind, const char *path,
                const char **names, int n)
{
    char num[64];
    field(t, kind, true);
    field(t, path, false);
    field(t, str(it, "benchmark"), false);
    field(t, str(it, "model"), false);
    field(t, str(it, "command"), false);
    field(t, str(it, "run_id"), false);
    field(t, str(it, "status"), false);
    field(t, str(it, "verdict"), false);
    snprintf(num, sizeof(num), "%d", cJSON_GetArraySize(cJSON_GetObjectItem(it, "issues")));
    field(t, num, false);
    const cJSON *figures = cJSON_GetObjectItem(it, "figures");
    for (int i = 0; i < n; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(figures, names[i]);
        if (cJSON_IsNumber(f))
            snprintf(num, sizeof(num), "%.15g", f->valuedouble);
        field(t, cJSON_IsNumber(f) ? num : NULL, false);
    }
    mlpio_text_put(t, "\r\n", 2);
}

char *mlpio_reports_csv(const cJSON *results)
{
    static const char *const columns[] = {"kind",   "path",   "benchmark", "model", "command",
                                          "run_id", "status", "verdict",   "issues"};
    struct mlpio_text t = {0};
    int n = 0;
    const char **names = figure_names(results, &n);
    if (!names)
        return NULL;
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
        field(&t, columns[i], i == 0);
    for (int i = 0; i < n; i++)
        field(&t, names[i], false);
    mlpio_text_put(&t, "\r\n", 2);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(results, "runs"))
        row(&t, it, "run", str(it, "path"), names, n);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(results, "submissions"))
    {
        char path[1024];
        snprintf(path, sizeof(path), "%s%s%s/%s/%s", text(it, "scope"), str(it, "scope") ? "/" : "",
                 text(it, "benchmark"), text(it, "model"), text(it, "group"));
        row(&t, it, "submission", path, names, n);
    }
    free(names);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ---- reportgen ------------------------------------------------------------------------- */

/* path made absolute with its longest existing prefix resolved (symbolic links followed), so
 * that a directory still to be created compares with the results directory as it will be. */
static char *resolve_future(const char *path)
{
    char *abs = mlpio_path_absolute(path);
    char probe[PATH_MAX], real[PATH_MAX], *out = NULL;
    if (!abs || strlen(abs) >= sizeof(probe)) {
        free(abs);
        return NULL;
    }
    snprintf(probe, sizeof(probe), "%s", abs);
    for (;;) {
        if (realpath(probe, real)) {
            size_t n = strlen(real) + strlen(abs + strlen(probe)) + 1;
            if ((out = malloc(n)))
                snprintf(out, n, "%s%s", real, abs + strlen(probe));
            break;
        }
        char *slash = strrchr(probe, '/');
        if (!slash || slash == probe)
            break;
        *slash = '\0';
    }
    free(abs);
    return out;
}

/* The output directory must not touch the results tree. */
static int check_apart(const char *results_dir, const char *out, struct mlpio_error *err)
{
    char results[PATH_MAX];
    char *o = resolve_future(out);
    int rc = 0;
    if (!o || !realpath(results_dir, results)) {
        free(o);
        return 0; /* the scan reports an unreadable results directory itself */
    }
    if (mlpio_path_within(results, o)) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "output directory %s is %sthe results directory %s, which reportgen "
                        "never modifies",
                        o, strcmp(o, results) == 0 ? "" : "inside ", results);
        rc = mlpio_error_hint(err, "choose an output directory elsewhere (--output-dir)");
    }
    free(o);
    return rc;
}

/* ./mlpio_reports/<YYYYMMDD_HHMMSS>, a new directory (a later second's name if taken). */
static char *default_output(struct mlpio_error *err)
{
    if (mlpio_io_mkdirs(&mlpio_io_posix, "mlpio_reports", err) < 0)
        return NULL;
    time_t now = time(NULL);
    for (int attempt = 0; attempt < 60; attempt++) {
        char name[64];
        time_t t = now + attempt;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(name, sizeof(name), "mlpio_reports/%Y%m%d_%H%M%S", &tm);
        if (mkdir(name, 0755) == 0)
            return strdup(name);
        if (errno != EEXIST) {
            mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot create %s", name);
            mlpio_error_hint(err, "choose a writable output directory with --output-dir");
            return NULL;
        }
    }
    mlpio_error_set(err, MLPIO_ERR_IO, "no free report directory name in mlpio_reports");
    return NULL;
}

static int write_reports(const char *dir, const cJSON *results, struct mlpio_error *err)
{
    char *json = mlpio_path_join(dir, "results.json");
    char *csv_path = mlpio_path_join(dir, "results.csv");
    char *html = mlpio_path_join(dir, "results.html");
    char *csv = mlpio_reports_csv(results);
    int rc = -1;
    if (!json || !csv_path || !html || !csv)
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "writing the reports");
    else if (mlpio_json_write_atomic(json, results, err) == 0 &&
             mlpio_file_write_atomic(csv_path, csv, strlen(csv), err) == 0)
        rc = mlpio_html_write_tree(html, results, err);
    free(json);
    free(csv_path);
    free(html);
    free(csv);
    return rc;
}

/* Reports of an earlier reportgen in out are kept: a new run of it goes elsewhere. */
static int check_unused(const char *out, struct mlpio_error *err)
{
    static const char *const names[] = {"results.html", "results.json", "results.csv"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = mlpio_path_join(out, names[i]);
        struct stat st;
        bool taken = path && lstat(path, &st) == 0;
        free(path);
        if (taken) {
            mlpio_error_set(err, MLPIO_ERR_USAGE,
                            "output directory %s already holds %s: reportgen does not replace "
                            "earlier reports",
                            out, names[i]);
            return mlpio_error_hint(err,
                                    "choose a new directory with --output-dir (or leave it out "
                                    "for a new ./mlpio_reports/<YYYYMMDD_HHMMSS>), or remove "
                                    "the results.* files of %s first",
                                    out);
        }
    }
    return 0;
}

/* The scan of results_dir for reports going to out (NULL: the default directory, not made
 * yet), or NULL with err. */
static cJSON *scan_for(const char *results_dir, const char *out, struct mlpio_error *err)
{
    cJSON *doc = NULL;
    /* The default directory is checked before it is made: it must not land in the tree. */
    if (check_apart(results_dir, out ? out : "mlpio_reports/new", err) != 0 ||
        (out && check_unused(out, err) != 0) || mlpio_scan_tree(results_dir, &doc, err) != 0)
        return NULL;
    return doc;
}

int mlpio_reports_generate(const char *results_dir, const char *output_dir, char **written_to,
                           cJSON **results, struct mlpio_error *err)
{
    char *dir = NULL;
    /* Nothing is made before the tree has been read: a failed scan leaves no empty directory. */
    cJSON *doc = scan_for(results_dir, output_dir, err);
    int rc = doc ? 0 : -1;
    if (!rc && !output_dir)
        rc = (dir = default_output(err)) ? 0 : -1;
    else if (!rc)
        rc = (dir = strdup(output_dir))
                 ? mlpio_io_mkdirs(&mlpio_io_posix, dir, err)
                 : mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "writing the reports");
    if (!rc)
        rc = write_reports(dir, doc, err);
    if (rc || !results) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    if (rc || !written_to) {
        free(dir);
        dir = NULL;
    }
    if (results)
        *results = doc;
    if (written_to)
        *written_to = dir;
    return rc;
}

static int reportgen(struct mlpio_context *ctx, int argc, char **argv)
{
    const char *results_dir = NULL, *output_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(mlpio_reports_usage, ctx->out);
            return MLPIO_EXIT_OK;
        }
        bool rd = !strcmp(a, "--results-dir") || !strcmp(a, "-rd");
        bool od = !strcmp(a, "--output-dir") || !strcmp(a, "-o");
        if (!rd && !od)
            return usage_error(ctx, mlpio_reports_usage, "reportgen: unknown argument '%s'", a);
        if (i + 1 >= argc)
            return usage_error(ctx, mlpio_reports_usage, "reportgen: %s needs a directory", a);
        *(rd ? &results_dir : &output_dir) = argv[++i];
    }
    if (!results_dir)
        return usage_error(ctx, mlpio_reports_usage, "reportgen: %s is required", "--results-dir");
    struct mlpio_error err = {0};
    char *dir = NULL;
    cJSON *doc = NULL;
    if (mlpio_reports_generate(results_dir, output_dir, &dir, &doc, &err) != 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    mlpio_log(ctx, MLPIO_LOG_QUIET,
              "%g runs (%g CLOSED, %g OPEN, %g INVALID, %g failed, %g not judged), %g submission "
              "groups, %g problems\n",
              mlpio_json_number(doc, "counts.runs", 0), mlpio_json_number(doc, "counts.closed", 0),
              mlpio_json_number(doc, "counts.open", 0), mlpio_json_number(doc, "counts.invalid", 0),
              mlpio_json_number(doc, "counts.failed", 0),
              mlpio_json_number(doc, "counts.not_judged", 0),
              mlpio_json_number(doc, "counts.submissions", 0),
              mlpio_json_number(doc, "counts.problems", 0));
    mlpio_log(ctx, MLPIO_LOG_QUIET, "wrote %s/results.json, results.csv and results.html\n", dir);
    cJSON_Delete(doc);
    free(dir);
    return MLPIO_EXIT_OK;
}

static int manifest(struct mlpio_context *ctx, int argc, char **argv)
{
    const char *tree = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(mlpio_reports_usage, ctx->out);
            return MLPIO_EXIT_OK;
        }
        if (strcmp(a, "--results-dir") != 0 && strcmp(a, "-rd") != 0)
            return usage_error(ctx, mlpio_reports_usage, "manifest: unknown argument '%s'", a);
        if (i + 1 >= argc)
            return usage_error(ctx, mlpio_reports_usage, "manifest: %s needs a directory", a);
        tree = argv[++i];
    }
    if (!tree)
        return usage_error(ctx, mlpio_reports_usage, "manifest: %s is required", "--results-dir");
    struct mlpio_error err = {0};
    cJSON *doc = NULL;
    int written = 0;
    if (mlpio_scan_write_manifests(tree, &doc, &written, &err) != 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    mlpio_log(ctx, MLPIO_LOG_QUIET, "wrote %d submission.yaml listing %g runs in %s\n", written,
              mlpio_json_number(doc, "counts.runs", 0), tree);
    if (written == 0)
        mlpio_log(ctx, MLPIO_LOG_QUIET, "%s holds no runs yet: there is nothing to list\n", tree);
    cJSON_Delete(doc);
    return MLPIO_EXIT_OK;
}

int mlpio_reports_main(struct mlpio_context *ctx, int argc, char **argv)
{
    int code = MLPIO_EXIT_OK;
    if (ctx->rank == 0) {
        if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            fputs(mlpio_reports_usage, argc < 2 ? ctx->err : ctx->out);
            code = argc < 2 ? MLPIO_EXIT_USAGE : MLPIO_EXIT_OK;
        } else if (!strcmp(argv[1], "reportgen")) {
            code = reportgen(ctx, argc - 1, argv + 1);
        } else if (!strcmp(argv[1], "manifest")) {
            code = manifest(ctx, argc - 1, argv + 1);
        } else {
            code = usage_error(ctx, mlpio_reports_usage, "reports: unknown command '%s'", argv[1]);
        }
    }
    return agree_code(ctx, code);
}
