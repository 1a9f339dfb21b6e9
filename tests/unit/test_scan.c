/* Tests of the results-tree scanner (app/scan.h) and of results.csv (app/reports.h).
 *
 * The fixture trees (tests/fixtures/trees, see its README) each hold one case: a complete
 * CLOSED submission, real scaled runs, and one malformed thing per tree. Each is scanned as it
 * is, then all of them merged into one tree, to show that one bad run never stops the scan of
 * the others. Every scan must leave the tree exactly as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/reports.h"
#include "app/params.h"
#include "app/scan.h"
#include "report/html.h"
#include "report/json_file.h"
#include "support/files.h"

static void tree_path(char *out, const char *tree)
{
    fixture_path(out, PATH_MAX, "trees", tree);
}

static cJSON *scan(const char *dir)
{
    cJSON *doc = NULL;
    struct mlpio_error err = {0};
    if (mlpio_scan_tree(dir, &doc, &err) != 0)
        fail_msg("scan of %s: %s", dir, err.message);
    return doc;
}

static double count(const cJSON *doc, const char *name)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "counts"), name)->valuedouble;
}

static const cJSON *run_at(const cJSON *doc, const char *path)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(
                              doc, "runs")) if (!strcmp(cJSON_GetObjectItem(r, "path")->valuestring,
                                                        path)) return r;
    fail_msg("no run %s", path);
    return NULL;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A problem among problems whose "where" ends with where_end and whose "what" has what. */
static const cJSON *problem_in(const cJSON *problems, const char *where_end, const char *what)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, problems)
    {
        const char *w = str(p, "where"), *t = str(p, "what");
        size_t lw = strlen(w), le = strlen(where_end);
        if (lw >= le && !strcmp(w + lw - le, where_end) && strstr(t, what) &&
            strlen(str(p, "fix")) > 0)
            return p;
    }
    return NULL;
}

/* Anywhere in the document: the tree's problems or a run's. */
static const cJSON *problem(const cJSON *doc, const char *where_end, const char *what)
{
    const cJSON *found = problem_in(cJSON_GetObjectItem(doc, "problems"), where_end, what), *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "runs")) if (!found) found =
        problem_in(cJSON_GetObjectItem(r, "problems"), where_end, what);
    return found;
}

/* ---- the fixture trees, one by one ------------------------------------------------------- */

struct tree_case {
    const char *tree;
    int runs, closed, open, invalid, problems, submissions;
    const char *run;     /* a run to look at (NULL: none) */
    const char *status;  /* its status */
    const char *verdict; /* its verdict (NULL: null) */
    const char *recorded;
    const char *absent;       /* "metadata", "summary" or "events": null in the run's entry */
    const char *where, *what; /* a problem that must be reported */
};

static const struct tree_case tree_cases[] = {
    {"closed", 11, 10, 0, 0, 0, 6, "training/unet3d/datagen/20261122_012632", "success", NULL, NULL,
     NULL, NULL, NULL},
    {"ckpt-pair", 2, 2, 0, 0, 0, 1, "checkpointing/llama3-8b/run/20261122_012710", "success",
     "CLOSED", "CLOSED", NULL, NULL, NULL},
    {"scaled", 4, 0, 1, 2, 0, 4, "kvcache/tiny-1b/run/20261122_011720", "success", "INVALID",
     "INVALID", NULL, NULL, NULL},
    {"file-where-dir", 0, 0, 0, 0, 3, 0, NULL, NULL, NULL, NULL, NULL, "training/resnet50/run",
     "a file where a command directory is expected"},
    {"unexpected-dir", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000001", "success",
     "OPEN", "OPEN", NULL, "run/old-plots", "unexpected directory"},
    {"missing-metadata", 1, 0, 0, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000002",
     "unreadable", NULL, NULL, "metadata", "run/20260101_000002", "no metadata file"},
    {"truncated-metadata", 1, 0, 0, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000003",
     "unreadable", NULL, NULL, "metadata", "checkpointing_20260101_000003_metadata.json",
     "line 109, column 10"},
    {"invalid-summary", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000004", "success",
     "OPEN", "OPEN", "summary", "20260101_000004/summary.json", "line 4, column 2"},
    {"unknown-workload", 1, 0, 0, 0, 1, 0, "vectordb/bert-base/run/20260101_000005", "success",
     NULL, "OPEN", NULL, "vectordb_20260101_000005_metadata.json", "unknown workload \"vectordb\""},
    {"newer-version", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000006", "success",
     "OPEN", "OPEN", NULL, "checkpointing_20260101_000006_metadata.json", "mlpio 99.1.0, newer"},
    {"missing-summary", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000007", "success",
     "OPEN", "OPEN", "summary", "20260101_000007/summary.json", "summary.json is missing"},
    {"events-bad-lines", 1, 0, 1, 0, 2, 1, "checkpointing/llama3-8b/run/20260101_000008", "success",
     "OPEN", "OPEN", NULL, "events.jsonl:4", "line 4: empty line"},
    {"unfinished", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000009", "unfinished",
     "OPEN", NULL, "summary", "run/20260101_000009", "no \"finish\" event"},
    {"verdict-mismatch", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000010", "success",
     "OPEN", "CLOSED", NULL, "checkpointing_20260101_000010_metadata.json",
     "recorded the verdict CLOSED, the rules now judge it OPEN"},
    {"unjudgeable", 1, 0, 0, 0, 1, 1, "checkpointing/llama3-8b/run/20260101_000011", "success",
     NULL, "OPEN", NULL, "checkpointing_20260101_000011_metadata.json", "\"world_size\""},
    {"failed", 3, 0, 2, 0, 0, 1, "checkpointing/llama3-8b/run/20261207_110039", "failed", NULL,
     NULL, NULL, NULL, NULL},
    {"moved-run", 1, 0, 1, 0, 1, 1, "checkpointing/llama3-70b/run/20260101_000012", "success",
     "OPEN", "OPEN", NULL, "checkpointing_20260101_000012_metadata.json",
     "the metadata says model \"llama3-8b\", the directory says \"llama3-70b\""},
};

static void test_tree(void **state)
{
    const struct tree_case *c = *state;
    char dir[PATH_MAX];
    tree_path(dir, c->tree);
    cJSON *doc = scan(dir);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "problems"))
    {
        const char *where = str(p, "where"), *what = str(p, "what");
        print_message("  tree problem %s: %s\n", where ? where : "?", what ? what : "?");
    }
    assert_int_equal(count(doc, "runs"), c->runs);
    assert_int_equal(count(doc, "closed"), c->closed);
    assert_int_equal(count(doc, "open"), c->open);
    assert_int_equal(count(doc, "invalid"), c->invalid);
    assert_int_equal(count(doc, "problems"), c->problems);
    assert_int_equal(count(doc, "submissions"), c->submissions);
    if (c->run) {
        const cJSON *r = run_at(doc, c->run);
        assert_string_equal(str(r, "status"), c->status);
        if (c->verdict)
            assert_string_equal(str(r, "verdict"), c->verdict);
        else
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "verdict")));
        if (c->recorded)
            assert_string_equal(str(r, "recorded_verdict"), c->recorded);
        else
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "recorded_verdict")));
        if (c->absent)
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, c->absent)));
    }
    if (c->where && !problem(doc, c->where, c->what))
        fail_msg("no problem at ...%s saying \"%s\"", c->where, c->what);
    cJSON_Delete(doc);
}

/* ---- the document's shape ----------------------------------------------------------------- */

static void test_document_shape(void **state)
{
    char dir[PATH_MAX];
    tree_path(dir, "closed");
    cJSON *doc = scan(dir);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "mlpio_version")));
    const char *generated = str(doc, "generated");
    assert_int_equal(strlen(generated), 20);
    assert_true(generated[10] == 'T' && generated[19] == 'Z');
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    assert_string_equal(str(doc, "results_dir"), real);
    static const char *const strings[] = {"path",    "benchmark", "model",
                                          "command", "run_id",    "status"};
    static const char *const arrays[] = {"issues", "problems", "events"};
    const cJSON *r, *prev = NULL;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "runs"))
    {
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
            assert_non_null(str(r, strings[i]));
        for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
            assert_true(cJSON_IsArray(cJSON_GetObjectItem(r, arrays[i])));
        assert_true(cJSON_IsObject(cJSON_GetObjectItem(r, "metadata")));
        assert_true(cJSON_IsObject(cJSON_GetObjectItem(r, "summary")));
        assert_true(cJSON_IsObject(cJSON_GetObjectItem(r, "figures")));
        assert_non_null(cJSON_GetObjectItem(r, "recorded_verdict"));
        /* Sorted by path. */
        if (prev)
            assert_true(strcmp(str(prev, "path"), str(r, "path")) < 0);
        prev = r;
    }
    /* The main figures, by workload. */
    const cJSON *f =
        cJSON_GetObjectItem(run_at(doc, "checkpointing/llama3-8b/run/20261122_012705"), "figures");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "save_checkpoint_io_mean_GB_per_second")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "load_checkpoint_io_mean_GB_per_second")));
    f = cJSON_GetObjectItem(run_at(doc, "kvcache/llama3.1-8b/run/20261122_013011"), "figures");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "tokens_per_second")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "storage_read_p95_seconds")));
    f = cJSON_GetObjectItem(run_at(doc, "training/unet3d/run/20261122_012637"), "figures");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "train_au_mean_percentage")));
    /* The events as parsed objects, "finish" last. */
    const cJSON *ev =
        cJSON_GetObjectItem(run_at(doc, "training/unet3d/run/20261122_012637"), "events");
    const cJSON *last = cJSON_GetArrayItem(ev, cJSON_GetArraySize(ev) - 1);
    assert_string_equal(str(last, "name"), "finish");
    cJSON_Delete(doc);
}

/* The kvcache runs are grouped by the CLOSED option their config matches, found from the
 * workload's --option presets. */
static void test_presets_group_kvcache(void **state)
{
    char dir[PATH_MAX];
    tree_path(dir, "closed");
    cJSON *doc = scan(dir);
    static const char *const groups[] = {"option 1", "option 2", "option 3", "options"};
    int found = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "submissions"))
    {
        for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
            if (!strcmp(str(g, "benchmark"), "kvcache") && !strcmp(str(g, "group"), groups[i])) {
                assert_string_equal(str(g, "verdict"), "CLOSED");
                found++;
            }
    }
    assert_int_equal(found, 4);
    cJSON_Delete(doc);

    /* The tiny-1b run of "scaled" matches no option. */
    tree_path(dir, "scaled");
    doc = scan(dir);
    found = 0;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "submissions")) found +=
        !strcmp(str(g, "model"), "tiny-1b") && !strcmp(str(g, "group"), "custom");
    assert_int_equal(found, 1);
    cJSON_Delete(doc);
}

/* ---- scratch trees ----------------------------------------------------------------------- */

static int setup(void **state)
{
    return scratch_setup(state, "mlpio-scan");
}

static int teardown(void **state)
{
    return scratch_teardown(state);
}

static void run_cmd(const char *fmt, const char *a, const char *b)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    assert_int_equal(system(cmd), 0);
}

/* A listing of every entry below dir: path, type, size, mtime and a checksum of the content. */
static char *listing(const char *dir)
{
    char cmd[PATH_MAX + 256], *buf = NULL;
    size_t len = 0;
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && find . -printf '%%p %%y %%s %%T@ %%m\\n' | sort && "
             "find . -type f -print0 | sort -z | xargs -0 -r md5sum",
             dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    FILE *mem = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        fwrite(chunk, 1, n, mem);
    assert_int_equal(pclose(p), 0);
    fclose(mem);
    assert_true(len > 0);
    return buf;
}

/* All fixture trees in one: every run is still listed, every problem still reported, and
 * nothing in the tree changes. */
static void test_merged_trees(void **state)
{
    struct scratch *s = *state;
    char fixtures[PATH_MAX], merged[PATH_MAX];
    int runs = 0, problems = 0;
    fixture_path(fixtures, sizeof(fixtures), "trees", "");
    path_join(merged, s->dir, "results");
    assert_int_equal(mkdir(merged, 0755), 0);
    for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++) {
        char dir[PATH_MAX];
        tree_path(dir, tree_cases[i].tree);
        run_cmd("cp -rp '%s'/. '%s'", dir, merged);
        runs += tree_cases[i].runs;
        /* "no run directories" is said of a tree without runs only. */
        problems += tree_cases[i].problems - (tree_cases[i].runs == 0);
    }
    char *before = listing(merged);
    cJSON *doc = scan(merged);
    char *after = listing(merged);
    assert_string_equal(before, after);
    assert_int_equal(count(doc, "runs"), runs);
    assert_int_equal(count(doc, "problems"), problems);
    for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++) {
        const struct tree_case *c = &tree_cases[i];
        if (c->run)
            assert_string_equal(str(run_at(doc, c->run), "status"), c->status);
        if (c->where && c->runs)
            assert_non_null(problem(doc, c->where, c->what));
    }
    cJSON_Delete(doc);
    free(before);
    free(after);
}

/* The fixture trees themselves are left as they are. */
static void test_fixtures_untouched(void **state)
{
    char dir[PATH_MAX];
    fixture_path(dir, sizeof(dir), "trees", "");
    char *before = listing(dir);
    for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++) {
        char tree[PATH_MAX];
        tree_path(tree, tree_cases[i].tree);
        cJSON_Delete(scan(tree));
    }
    char *after = listing(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_empty_dir(void **state)
{
    struct scratch *s = *state;
    cJSON *doc = scan(s->dir);
    assert_int_equal(count(doc, "runs"), 0);
    assert_int_equal(count(doc, "submissions"), 0);
    assert_int_equal(count(doc, "problems"), 1);
    assert_non_null(problem(doc, ".", "no run directories"));
    cJSON_Delete(doc);
}

static void test_not_a_tree(void **state)
{
    struct scratch *s = *state;
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    cJSON *doc = (cJSON *)1;
    path_join(path, s->dir, "missing");
    assert_int_equal(mlpio_scan_tree(path, &doc, &err), -1);
    assert_null(doc);
    assert_int_equal(err.category, MLPIO_ERR_USAGE);
    assert_non_null(strstr(err.message, "missing"));
    assert_non_null(strstr(err.message, "ENOENT"));
    assert_true(strlen(err.hint) > 0);

    path_join(path, s->dir, "file");
    file_write(path, "x", 1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(mlpio_scan_tree(path, &doc, &err), -1);
    assert_non_null(strstr(err.message, "not a directory"));
    assert_int_equal(mlpio_scan_tree("", &doc, &err), -1);
    assert_int_equal(mlpio_scan_tree(NULL, &doc, &err), -1);
}

/* A directory given one or four levels too deep: the runs found too high up are named, with
 * the results directory to pass instead, and not scanned. */
static void test_wrong_level(void **state)
{
    char dir[PATH_MAX], tree[PATH_MAX], real[PATH_MAX];
    tree_path(tree, "ckpt-pair");
    assert_non_null(realpath(tree, real));
    path_join(dir, tree, "checkpointing");
    cJSON *doc = scan(dir);
    assert_int_equal(count(doc, "runs"), 0);
    const cJSON *p =
        problem(doc, "llama3-8b/run/20261122_012708", "is a run directory where a command");
    assert_non_null(p);
    assert_non_null(strstr(str(p, "fix"), real));
    cJSON_Delete(doc);

    tree_path(dir, "ckpt-pair/checkpointing/llama3-8b/run/20261122_012708");
    doc = scan(dir);
    assert_int_equal(count(doc, "runs"), 0);
    p = problem(doc, ".", "is a run directory where the results directory is expected");
    assert_non_null(p);
    char fix[PATH_MAX + 64];
    snprintf(fix, sizeof(fix), "pass the results directory, %s", real);
    assert_string_equal(str(p, "fix"), fix);
    cJSON_Delete(doc);
}

/* A copy of the good run of "unexpected-dir" at rel below the scratch directory; returns its
 * path in out. */
static void copy_good_run(const struct scratch *s, char *out)
{
    char src[PATH_MAX];
    tree_path(src, "unexpected-dir/checkpointing/llama3-8b/run/20260101_000001");
    snprintf(out, PATH_MAX, "%s/checkpointing/llama3-8b/run/20260101_000001", s->dir);
    run_cmd("mkdir -p '%s' && rmdir '%s'", out, out);
    run_cmd("cp -rp '%s' '%s'", src, out);
}

/* A FIFO where summary.json belongs is reported, not opened (which would block). */
static void test_fifo_not_opened(void **state)
{
    struct scratch *s = *state;
    char run[PATH_MAX], path[PATH_MAX];
    copy_good_run(s, run);
    path_join(path, run, "summary.json");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    cJSON *doc = scan(s->dir);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "runs"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "summary")));
    assert_non_null(problem(doc, "summary.json", "not a regular file"));
    cJSON_Delete(doc);
}

/* An event log of many bad lines: the first ones are located, the rest counted; a last line
 * without its newline (a writer that stopped) is one more. */
static void test_many_bad_event_lines(void **state)
{
    struct scratch *s = *state;
    char run[PATH_MAX], path[PATH_MAX];
    copy_good_run(s, run);
    path_join(path, run, "events.jsonl");
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    for (int i = 0; i < 25; i++)
        fprintf(fp, "garbage %d\n", i);
    fprintf(fp, "{\"timestamp\":1,\"name\":\"x\"");
    fclose(fp);
    cJSON *doc = scan(s->dir);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "runs"), 0);
    const cJSON *problems = cJSON_GetObjectItem(r, "problems");
    /* 10 located, then 1 problem for the other 16. */
    assert_non_null(problem_in(problems, "events.jsonl", "16 more bad lines"));
    assert_non_null(problem_in(problems, "events.jsonl:16", "line 16: not valid JSON"));
    assert_null(problem_in(problems, "events.jsonl:26", "line"));
    assert_int_equal(cJSON_GetArraySize(problems), 11);
    /* The good events are all kept. */
    assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "events"), 0), "name"),
                        "start");
    cJSON_Delete(doc);
}

/* The metadata says the run ended, but the log has no "finish": the status comes from the
 * metadata, with a problem. */
static void test_log_without_finish(void **state)
{
    struct scratch *s = *state;
    char run[PATH_MAX];
    copy_good_run(s, run);
    run_cmd("cd '%s' && grep -v '\"finish\"' events.jsonl > e && mv e events.jsonl%s", run, "");
    cJSON *doc = scan(s->dir);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "runs"), 0);
    assert_string_equal(str(r, "status"), "success");
    assert_non_null(problem(doc, "20260101_000001", "no \"finish\" event although"));
    cJSON_Delete(doc);
}

/* reportgen's work: the three files where asked, nothing inside the tree. */
static void test_generate(void **state)
{
    struct scratch *s = *state;
    char tree[PATH_MAX], out[PATH_MAX], path[PATH_MAX], inside[PATH_MAX];
    struct mlpio_error err = {0};
    char *dir = NULL;
    cJSON *doc = NULL;
    tree_path(tree, "ckpt-pair");
    path_join(out, s->dir, "out/deeper");
    assert_int_equal(mlpio_reports_generate(tree, out, &dir, &doc, &err), 0);
    assert_string_equal(dir, out);
    assert_int_equal(count(doc, "runs"), 2);
    static const char *const files[] = {"results.json", "results.csv", "results.html"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        assert_true(path_exists(path_join(path, out, files[i])));
    struct mlpio_error read_err = {0};
    cJSON *back = mlpio_json_read_file(path_join(path, out, "results.json"), &read_err);
    assert_non_null(back);
    assert_int_equal(count(back, "closed"), 2);
    cJSON_Delete(back);
    cJSON_Delete(doc);
    free(dir);

    path_join(inside, tree, "checkpointing/new-reports");
    assert_int_equal(mlpio_reports_generate(tree, inside, &dir, &doc, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_USAGE);
    assert_null(dir);
    assert_null(doc);
    assert_false(path_exists(inside));
}

/* ---- failed runs ------------------------------------------------------------------------- */

#define FAILED_RUN "checkpointing/llama3-8b/run/20261207_110039"

/* The page of the tree at dir, as reportgen writes it. */
static char *tree_html(const struct scratch *s, const cJSON *doc)
{
    char path[PATH_MAX];
    struct mlpio_error err = {0};
    path_join(path, s->dir, "tree.html");
    if (mlpio_html_write_tree(path, doc, &err) != 0)
        fail_msg("%s", err.message);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char *text = malloc((size_t)st.st_size + 1);
    FILE *f = fopen(path, "r");
    assert_non_null(text);
    assert_non_null(f);
    assert_int_equal(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    text[st.st_size] = '\0';
    fclose(f);
    return text;
}

/* The number on the tree page's card labelled label ("<b>N</b>label</a>"). */
static int card_count(const char *html, const char *label)
{
    char tail[64];
    snprintf(tail, sizeof(tail), "</b>%s</a>", label);
    const char *end = strstr(html, tail), *b = end;
    if (!end)
        fail_msg("no card \"%s\"", label);
    while (b > html && b[-1] != '>')
        b--;
    return atoi(b);
}

/* A failed run is listed apart with its error: no verdict (the rules would judge its config
 * OPEN), in a count of its own that adds up with the others, and in no chart. */
static void test_failed_run(void **state)
{
    char dir[PATH_MAX];
    tree_path(dir, "failed");
    cJSON *doc = scan(dir);
    const cJSON *r = run_at(doc, FAILED_RUN);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "verdict")));
    const cJSON *error = cJSON_GetObjectItem(r, "error");
    assert_int_equal(mlpio_json_number(error, "code", -1), 4);
    assert_non_null(strstr(str(error, "error"), "Is a directory (EISDIR)"));
    assert_non_null(strstr(str(error, "hint"), "give the path of a file"));
    assert_true(cJSON_IsNull(
        cJSON_GetObjectItem(run_at(doc, "checkpointing/llama3-8b/run/20261207_110036"), "error")));
    assert_int_equal(count(doc, "failed"), 1);
    assert_int_equal(count(doc, "not_judged"), 0);
    assert_int_equal(count(doc, "closed") + count(doc, "open") + count(doc, "invalid") +
                         count(doc, "failed") + count(doc, "not_judged"),
                     count(doc, "runs"));

    char *html = tree_html(*state, doc);
    /* The cards add up to the runs. */
    assert_int_equal(card_count(html, "runs"), 3);
    assert_int_equal(card_count(html, "INVALID") + card_count(html, "OPEN") +
                         card_count(html, "CLOSED") + card_count(html, "failed") +
                         card_count(html, "not judged"),
                     3);
    assert_int_equal(card_count(html, "failed"), 1);
    /* Listed apart with its error, after the figures. */
    const char *failed = strstr(html, "<section id=\"failed\">");
    assert_non_null(failed);
    assert_true(strstr(html, "<section id=\"figures\">") < failed);
    const char *listed = strstr(failed, "20261207_110039");
    assert_non_null(listed);
    assert_true(listed < strstr(failed, "</section>"));
    assert_non_null(strstr(failed, "exit 4: rank 1: open of"));
    /* The two runs that completed are compared, by run id; the failed one is in no chart. */
    const char *figures = strstr(html, "<section id=\"figures\">");
    const char *charts_end = strstr(figures, "</section>");
    const char *chart = strstr(figures, "<svg ");
    assert_non_null(chart);
    assert_true(chart < charts_end);
    assert_non_null(strstr(chart, ">20261207_110036</text>"));
    assert_non_null(strstr(chart, ">run id</text>"));
    for (const char *p = strstr(html, "<svg "); p; p = strstr(p + 1, "<svg ")) {
        const char *end = strstr(p, "</svg>");
        const char *hit = strstr(p, "20261207_110039");
        assert_true(!hit || hit > end);
    }
    /* Its card shows the error, not figures. */
    assert_non_null(strstr(html, "Failed: rank 1: open of"));
    free(html);
    cJSON_Delete(doc);
}

/* The tree page charts the AU of training's runs against the rules' minimum, by run id. */
static void test_tree_au_chart(void **state)
{
    char dir[PATH_MAX];
    tree_path(dir, "closed");
    cJSON *doc = scan(dir);
    char *html = tree_html(*state, doc);
    const char *chart =
        strstr(html, "<title>training unet3d run: accelerator utilisation (AU)</title>");
    assert_non_null(chart);
    const char *end = strstr(chart, "</svg>");
    assert_true(chart < strstr(html, "<section id=\"CLOSED\">"));
    /* Six runs: each labelled with the time of its id, which fits under its bar. */
    const char *id = strstr(chart, ">012637</text>");
    assert_true(id && id < end);
    const char *axis = strstr(chart, ">run id (its time, HHMMSS)</text>");
    assert_true(axis && axis < end);
    const char *cut = strstr(chart, "\xe2\x80\xa6</text>"); /* a label cut short */
    assert_true(!cut || cut > end);
    const char *min = strstr(chart, ">minimum 90 %</text>");
    assert_true(min && min < end);
    free(html);
    cJSON_Delete(doc);
}

/* ---- results.csv ---------------------------------------------------------------------------- */

static void test_csv(void **state)
{
    cJSON *doc = cJSON_Parse(
        "{\"runs\": [{\"path\": \"a/b/c/1\", \"benchmark\": \"kvcache\", \"model\": \"m,1\","
        " \"command\": \"run\", \"run_id\": \"1\", \"status\": \"success\", \"verdict\": null,"
        " \"issues\": [{}, {}], \"figures\": {\"zeta\": 2.5, \"alpha\": 1}}],"
        " \"submissions\": [{\"benchmark\": \"kvcache\", \"model\": \"say \\\"hi\\\"\","
        " \"group\": \"option 1\", \"verdict\": \"OPEN\", \"issues\": [],"
        " \"figures\": {\"beta\": 1e20}}]}");
    assert_non_null(doc);
    char *csv = mlpio_reports_csv(doc);
    assert_non_null(csv);
    assert_string_equal(
        csv, "kind,path,benchmark,model,command,run_id,status,verdict,issues,alpha,beta,zeta\r\n"
             "run,a/b/c/1,kvcache,\"m,1\",run,1,success,,2,1,,2.5\r\n"
             "submission,\"kvcache/say \"\"hi\"\"/option 1\",kvcache,\"say \"\"hi\"\"\",,,,OPEN,"
             "0,,1e+20,\r\n");
    free(csv);
    cJSON_Delete(doc);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(tree_cases) / sizeof(tree_cases[0]) + 16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++)
        tests[n++] =
            (struct CMUnitTest){tree_cases[i].tree, test_tree, NULL, NULL, (void *)&tree_cases[i]};
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_document_shape);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_presets_group_kvcache);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fixtures_untouched);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_merged_trees, setup, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_empty_dir, setup, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_not_a_tree, setup, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_fifo_not_opened, setup, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_many_bad_event_lines,
                                                                    setup, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_log_without_finish, setup,
                                                                    teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_wrong_level);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_generate, setup, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_csv);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_failed_run, setup, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_tree_au_chart, setup, teardown);
    return _cmocka_run_group_tests("scan", tests, n, NULL, NULL);
}
