/* The HTML report's sections (report/html.h): the built-in benchmarks' charts and tables come
 * from one table, a benchmark beyond them gets its own with mlpio_html_sections_add (bounded,
 * duplicates refused), and a benchmark with none gets the generic figures only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "support/files.h"

/* A page in memory. */
struct buf {
    char *text;
    size_t len;
};

static char *render_run(const char *meta, const char *summary)
{
    cJSON *m = meta ? cJSON_Parse(meta) : NULL, *s = summary ? cJSON_Parse(summary) : NULL;
    assert_true(!meta || m);
    assert_true(!summary || s);
    struct buf b = {0};
    FILE *out = open_memstream(&b.text, &b.len);
    assert_non_null(out);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_html_render_run(out, m, s, NULL, &err), 0);
    assert_int_equal(fclose(out), 0);
    cJSON_Delete(m);
    cJSON_Delete(s);
    return b.text;
}

static char *render_tree(const char *doc_text)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    scratch_make_or_fail(dir, sizeof(dir), false, "mlpio-sections");
    snprintf(path, sizeof(path), "%s/tree.html", dir);
    cJSON *doc = cJSON_Parse(doc_text);
    assert_non_null(doc);
    struct mlpio_error err = {0};
    int rc = mlpio_html_write_tree(path, doc, &err);
    cJSON_Delete(doc);
    struct buf b = {0};
    FILE *in = fopen(path, "r"), *out = open_memstream(&b.text, &b.len);
    char chunk[4096];
    size_t n;
    while (in && (n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        fwrite(chunk, 1, n, out);
    if (in)
        fclose(in);
    fclose(out);
    assert_int_equal(scratch_remove(dir), 0);
    assert_int_equal(rc, 0);
    return b.text;
}

static const char *at(const char *html, const char *what)
{
    const char *p = strstr(html, what);
    if (!p)
        fail_msg("no %s in the page", what);
    return p;
}

/* ---- a benchmark of its own ------------------------------------------------------------- */

static void vdb_charts(FILE *out, const cJSON *m, const cJSON *s)
{
    fputs("<p id=\"vdb-charts\"></p>", out);
}

static void vdb_more_charts(FILE *out, const cJSON *m, const cJSON *s)
{
    fputs("<p id=\"vdb-more\"></p>", out);
}

static void vdb_tables(FILE *out, const cJSON *m, const cJSON *s)
{
    fputs("<p id=\"vdb-tables\"></p>", out);
}

static bool vdb_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    fprintf(out, "<p id=\"vdb-small\">%d</p>", width);
    return true;
}

static double vdb_minimum(const cJSON *metadata, char *label, size_t len)
{
    snprintf(label, len, "at least 0.9");
    return 0.9;
}

static const struct mlpio_html_sections vectordb = {
    .benchmark = "vectordb",
    .run_charts = vdb_charts,
    .more_charts = vdb_more_charts,
    .tables = vdb_tables,
    .small_chart = vdb_small_chart,
    .own_verdict = "recall_met",
    .group_figure = "recall_mean",
    .group_figure_title = "mean recall",
    .group_figure_axis = "recall",
    .group_minimum = vdb_minimum,
};

static const char vdb_meta[] = "{\"benchmark\":\"vectordb\",\"command\":\"run\",\"model\":\"m\","
                               "\"status\":\"success\",\"verdict\":{\"verdict\":\"INVALID\"}}";
static const char vdb_summary[] = "{\"recall_mean\":0.95,\"recall_met\":true,\"qps\":[1,2,3],"
                                  "\"latency_seconds\":{\"count\":3,\"mean\":0.01,\"p50\":0.01,"
                                  "\"max\":0.02}}";

/* Before it has sections, a benchmark gets the generic figures: its lists of numbers as bars,
 * and every figure in the table. */
static void test_without_sections(void **state)
{
    char *html = render_run(vdb_meta, vdb_summary);
    at(html, "<title>qps</title>");
    at(html, "recall met");
    assert_null(strstr(html, "vdb-"));
    free(html);
}

static void test_add_refused(void **state)
{
    assert_int_equal(mlpio_html_sections_add(NULL), -1);
    struct mlpio_html_sections s = {0};
    assert_int_equal(mlpio_html_sections_add(&s), -1);
    s.benchmark = "";
    assert_int_equal(mlpio_html_sections_add(&s), -1);
    /* The built-in benchmarks keep theirs. */
    static const char *const builtin[] = {"checkpointing", "training", "kvcache"};
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        s.benchmark = builtin[i];
        assert_int_equal(mlpio_html_sections_add(&s), -1);
    }
}

/* Once added, the run page draws them where the built-in ones go: the workload's charts after
 * throughput over time, more after the latency percentiles, tables after the charts; and no
 * generic list charts. Its own pass/fail figure goes under an INVALID verdict. */
static void test_added_run_page(void **state)
{
    assert_int_equal(mlpio_html_sections_add(&vectordb), 0);
    struct mlpio_html_sections again = vectordb;
    again.tables = NULL;
    assert_int_equal(mlpio_html_sections_add(&again), -1);

    char *html = render_run(vdb_meta, vdb_summary);
    const char *charts = at(html, "<p id=\"vdb-charts\">");
    const char *latency = at(html, "<title>latency (3 samples)</title>");
    const char *more = at(html, "<p id=\"vdb-more\">");
    const char *tables = at(html, "<p id=\"vdb-tables\">");
    assert_true(at(html, "No throughput over time") < tables);
    assert_true(charts < latency && latency < more && more < tables);
    assert_null(strstr(html, "<title>qps</title>"));
    assert_null(strstr(html, "recall met"));
    at(html, "recall mean");
    free(html);
    /* Without metadata, the summary names the benchmark. */
    html = render_run(NULL, "{\"benchmark\":\"vectordb\",\"qps\":[1,2]}");
    at(html, "<p id=\"vdb-charts\">");
    free(html);
}

/* The tree page charts the group figure of several runs, varying or not, against the minimum,
 * and each card gets the benchmark's small chart. */
static void test_added_tree_page(void **state)
{
    char doc[4096];
    char run[2][1024];
    for (int i = 0; i < 2; i++)
        snprintf(run[i], sizeof(run[i]),
                 "{\"path\":\"vectordb/m/run/2026010%d_000000\",\"benchmark\":\"vectordb\","
                 "\"model\":\"m\",\"command\":\"run\",\"run_id\":\"2026010%d_000000\","
                 "\"status\":\"success\",\"verdict\":\"OPEN\",\"issues\":[],\"problems\":[],"
                 "\"metadata\":%s,\"summary\":%s,\"figures\":{\"recall_mean\":0.95,\"qps\":%d}}",
                 i + 1, i + 1, vdb_meta, vdb_summary, 10 + i);
    snprintf(doc, sizeof(doc),
             "{\"results_dir\":\"/r\",\"counts\":{\"runs\":2,\"open\":2},\"runs\":[%s,%s],"
             "\"submissions\":[],\"problems\":[]}",
             run[0], run[1]);
    char *html = render_tree(doc);
    const char *judged = at(html, "<title>vectordb m run: mean recall</title>");
    at(judged, "at least 0.9");
    /* The other figure that differs comes after it; the judged one is not charted twice. */
    assert_true(judged < at(html, "<title>vectordb m run: qps</title>"));
    assert_null(strstr(html, "<title>vectordb m run: recall mean</title>"));
    const char *small = at(html, "<p id=\"vdb-small\">340</p>");
    at(small + 1, "<p id=\"vdb-small\">340</p>");
    free(html);
}

/* At most MLPIO_HTML_SECTIONS_MAX benchmarks are added. */
static void test_add_bounded(void **state)
{
    static char names[MLPIO_HTML_SECTIONS_MAX + 1][16];
    struct mlpio_html_sections s = {0};
    int added = 0;
    for (int i = 0; i <= MLPIO_HTML_SECTIONS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "bench%d", i);
        s.benchmark = names[i];
        added += mlpio_html_sections_add(&s) == 0;
    }
    /* vectordb took one place. */
    assert_int_equal(added, MLPIO_HTML_SECTIONS_MAX - 1);
}

/* The built-in sections take summaries edited by hand or cut short: members of the wrong
 * type are shown as absent. */
static void test_builtin_odd_summaries(void **state)
{
    static const char *const builtin[] = {"checkpointing", "training", "kvcache"};
    static const char summary[] =
        "{\"trials\":[1,{\"tiers\":[],\"storage\":5,\"qos\":{\"a\":[]},"
        "\"checks\":[1,{\"name\":5}],\"latency\":{\"count\":1,\"p50\":\"s\"}}],"
        "\"train_au_percentage\":[\"x\",null],\"save_checkpoint_io_GB_per_second\":[\"x\",{}],"
        "\"load_checkpoint_io_GB_per_second\":7}";
    char runs[3][1024], doc[8192];
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        char meta[256];
        snprintf(meta, sizeof(meta), "{\"benchmark\":\"%s\",\"config\":{\"metric\":7}}",
                 builtin[i]);
        char *html = render_run(meta, summary);
        at(html, "</html>");
        free(html);
        snprintf(runs[i], sizeof(runs[i]),
                 "{\"benchmark\":\"%s\",\"metadata\":%s,\"summary\":%s,"
                 "\"figures\":{\"train_au_mean_percentage\":\"x\"}}",
                 builtin[i], meta, summary);
    }
    /* Two runs of each: the group charts too. */
    snprintf(doc, sizeof(doc), "{\"runs\":[%s,%s,%s,%s,%s,%s]}", runs[0], runs[0], runs[1], runs[1],
             runs[2], runs[2]);
    char *html = render_tree(doc);
    at(html, "</html>");
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_sections), cmocka_unit_test(test_add_refused),
        cmocka_unit_test(test_added_run_page),   cmocka_unit_test(test_added_tree_page),
        cmocka_unit_test(test_add_bounded),      cmocka_unit_test(test_builtin_odd_summaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
