/* Tests of the HTML report: escaping, the SVG primitives (elements and coordinates for known
 * data), the page of a run of each workload, a run directory written to report.html, and the
 * page of a results tree (verdict order, grouping, size and time for 1000 runs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/html.h"
#include "report/json_file.h"
#include "report/svg.h"
#include "support/files.h"

/* ---- helpers ---------------------------------------------------------------------------- */

struct buf {
    char *text;
    size_t len;
    FILE *f;
};

static FILE *buf_open(struct buf *b)
{
    memset(b, 0, sizeof(*b));
    b->f = open_memstream(&b->text, &b->len);
    assert_non_null(b->f);
    return b->f;
}

/* Closes the stream; the text stays until buf_free. */
static const char *buf_text(struct buf *b)
{
    assert_int_equal(fclose(b->f), 0);
    b->f = NULL;
    return b->text;
}

static void buf_free(struct buf *b)
{
    if (b->f)
        fclose(b->f);
    free(b->text);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static long at(const char *s, const char *what)
{
    const char *p = strstr(s, what);
    if (!p)
        fail_msg("not found: %s", what);
    return p - s;
}

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fail_msg("bad test JSON near: %.40s", cJSON_GetErrorPtr());
    return j;
}

/* Every chart is an <svg> with a viewBox, a size and a title. */
static void assert_charts_well_formed(const char *html, int min)
{
    int n = count(html, "<svg ");
    assert_true(n >= min);
    assert_int_equal(count(html, "viewBox=\"0 0 "), n);
    assert_int_equal(count(html, "role=\"img\""), n);
    assert_true(count(html, "<title>") >= n);
    assert_int_equal(count(html, "</svg>"), n);
}

/* ---- fixtures: one run of each workload, cut down from real runs ------------------------- */

#define HIST(c, p50, p99, max)                                                                     \
    "{\"count\":" #c ",\"mean\":" #p50 ",\"min\":" #p50 ",\"max\":" #max ",\"p50\":" #p50          \
    ",\"p90\":" #p99 ",\"p95\":" #p99 ",\"p99\":" #p99 ",\"p99_9\":" #max ",\"p99_99\":" #max "}"

static const char ckpt_metadata[] =
    "{\"benchmark\":\"checkpointing\",\"command\":\"run\",\"model\":\"llama3-8b\","
    "\"run_id\":\"20260101_000001\",\"world_size\":2,\"status\":\"complete\","
    "\"exit_status\":{\"code\":0,\"name\":\"success\"},"
    "\"start_time\":{\"epoch\":100.0,\"local\":\"2026-01-01T00:00:01+0000\"},"
    "\"end_time\":{\"epoch\":101.5},\"cluster\":{\"num_hosts\":1,\"hosts\":[{\"hostname\":"
    "\"node<1>\",\"ranks\":2,\"cpu_count\":2,\"memory_bytes\":1073741824}]},"
    "\"options\":{\"scale\":0.0005},\"overrides\":[{\"key\":\"checkpoint.num_checkpoints_write\","
    "\"value\":3,\"reference\":10,\"source\":\"cli\"}],\"config\":{\"benchmark\":\"checkpointing\"}"
    ","
    "\"verdict\":{\"verdict\":\"OPEN\",\"issues\":[{\"level\":\"open\",\"parameter\":\"scale\","
    "\"expected\":\"1\",\"actual\":\"0.0005\",\"message\":\"scale shrinks each checkpoint\","
    "\"hint\":\"run with --scale 1\"}]}}";

static const char ckpt_summary[] =
    "{\"save_checkpoint_io_mean_GB_per_second\":0.69,"
    "\"save_checkpoint_io_GB_per_second\":[0.55,0.54,0.99],"
    "\"load_checkpoint_io_GB_per_second\":[0.66,1.0,1.16],"
    "\"save_checkpoint_per_rank\":{\"min_GB_per_second\":0.27,\"min_rank\":0,"
    "\"max_GB_per_second\":0.86,\"max_rank\":1},"
    "\"load_checkpoint_per_rank\":{\"min_GB_per_second\":0.35,\"min_rank\":1,"
    "\"max_GB_per_second\":0.72,\"max_rank\":0},"
    "\"save_op_latency_seconds\":" HIST(
        12, 0.0002, 0.006,
        0.0061) ","
                "\"load_op_latency_seconds\":" HIST(
                    12, 0.002, 0.016,
                    0.0162) ","
                            "\"units\":\"GB = 2^30 "
                            "bytes\",\"benchmark\":\"checkpointing\",\"verdict\":\"OPEN\"}";

static const char ckpt_events[] =
    "[{\"timestamp\":100.0,\"name\":\"start\",\"context\":{}},"
    "{\"timestamp\":100.1,\"name\":\"phase_begin\",\"context\":{\"phase\":\"write\"}},"
    "{\"timestamp\":100.2,\"name\":\"write\",\"context\":{\"checkpoint\":1,"
    "\"duration_seconds\":0.1,\"GB_per_second\":0.55}},"
    "{\"timestamp\":100.3,\"name\":\"write\",\"context\":{\"checkpoint\":2,"
    "\"duration_seconds\":0.1,\"GB_per_second\":0.54}},"
    "{\"timestamp\":100.35,\"name\":\"progress\",\"context\":{\"phase\":\"write\","
    "\"done\":100,\"total\":100,\"unit\":\"bytes\",\"elapsed\":0.25}},"
    "{\"timestamp\":100.5,\"name\":\"read\",\"context\":{\"checkpoint\":1,"
    "\"duration_seconds\":0.1,\"GB_per_second\":0.66}},"
    "{\"timestamp\":100.6,\"name\":\"read\",\"context\":{\"checkpoint\":2,"
    "\"duration_seconds\":0.1,\"GB_per_second\":1.0}},"
    "{\"timestamp\":101.0,\"name\":\"finish\",\"context\":{\"exit_code\":0}}]";

static const char train_metadata[] =
    "{\"benchmark\":\"training\",\"command\":\"run\",\"model\":\"unet3d\","
    "\"run_id\":\"20260101_000002\",\"status\":\"complete\",\"config\":{\"metric\":{\"au\":0.9}},"
    "\"verdict\":{\"verdict\":\"INVALID\",\"issues\":["
    "{\"level\":\"open\",\"parameter\":\"scale\",\"expected\":\"1\",\"actual\":\"0.0005\","
    "\"message\":\"smaller reads\",\"hint\":\"run with --scale 1\"},"
    "{\"level\":\"invalid\",\"parameter\":\"train.epochs\",\"expected\":\"5\",\"actual\":\"3\","
    "\"message\":\"may not differ\",\"hint\":\"remove --params train.epochs=3\"}]}}";

static const char train_summary[] =
    "{\"train_au_percentage\":[81.4,4.6,95.7],\"train_au_mean_percentage\":60.5,"
    "\"train_throughput_samples_per_second\":[8553,211,6414],"
    "\"train_step_load_seconds\":" HIST(36, 0.00008, 0.0118, 0.012) "}";

static const char train_events[] =
    "[{\"timestamp\":10.0,\"name\":\"start\",\"context\":{}},"
    "{\"timestamp\":10.5,\"name\":\"epoch\",\"context\":{\"epoch\":1,\"duration_seconds\":0.4,"
    "\"au_percentage\":81.4,\"throughput_samples_per_second\":8553}},"
    "{\"timestamp\":11.0,\"name\":\"epoch\",\"context\":{\"epoch\":2,\"duration_seconds\":0.4,"
    "\"au_percentage\":4.6,\"throughput_samples_per_second\":211}}]";

#define TIER(rate, cap) "{\"hit_rate\":" #rate ",\"capacity_bytes\":" #cap "}"

static const char kv_metadata[] =
    "{\"benchmark\":\"kvcache\",\"command\":\"run\",\"model\":\"tiny-1b\","
    "\"run_id\":\"20260101_000003\",\"status\":\"complete\","
    "\"verdict\":{\"verdict\":\"CLOSED\",\"issues\":[]}}";

static const char kv_summary[] =
    "{\"aggregate\":{\"tokens_per_second_wall\":17300.7,\"cache_hit_rate\":0.32,"
    "\"result\":\"PASS\"},\"trials\":[{\"trial\":0,\"cache_hit_rate\":0.32,"
    "\"latency\":" HIST(15, 0.5, 3.5, 3.6) ",\"storage\":{\"read_latency\":" HIST(
        11810, 0.00016, 0.0075,
        0.02) ",\"write_latency\":" HIST(3584, 0.0003, 0.01,
                                         0.02) "},"
                                               "\"tiers\":{\"gpu\":" TIER(0, 0) ",\"cpu\":" TIER(
                                                   0.25,
                                                   2097152) ",\"storage\":" TIER(1,
                                                                                 79656731852) "},"
                                                                                              "\"qo"
                                                                                              "s\":"
                                                                                              "{\"i"
                                                                                              "nter"
                                                                                              "acti"
                                                                                              "ve\""
                                                                                              ":{"
                                                                                              "\"re"
                                                                                              "ques"
                                                                                              "ts\""
                                                                                              ":5,"
                                                                                              "\"ta"
                                                                                              "rget"
                                                                                              "s\":"
                                                                                              "[{"
                                                                                              "\"pe"
                                                                                              "rcen"
                                                                                              "tile"
                                                                                              "\":"
                                                                                              "95,"
                                                                                              "\"ta"
                                                                                              "rget"
                                                                                              "_sec"
                                                                                              "onds"
                                                                                              "\":"
                                                                                              "0."
                                                                                              "05,"
                                                                                              "\"me"
                                                                                              "asur"
                                                                                              "ed_"
                                                                                              "seco"
                                                                                              "nds"
                                                                                              "\":"
                                                                                              "3.5,"
                                                                                              "\"me"
                                                                                              "t\":"
                                                                                              "fals"
                                                                                              "e}]}"
                                                                                              "},"
                                                                                              "\"ch"
                                                                                              "ecks"
                                                                                              "\":["
                                                                                              "{\"n"
                                                                                              "ame"
                                                                                              "\":"
                                                                                              "\"ca"
                                                                                              "che_"
                                                                                              "hit_"
                                                                                              "rate"
                                                                                              "\","
                                                                                              "\"va"
                                                                                              "lue"
                                                                                              "\":"
                                                                                              "0."
                                                                                              "32,"
                                                                                              "\"li"
                                                                                              "mit"
                                                                                              "\":"
                                                                                              "\">"
                                                                                              "\","
                                                                                              "\"th"
                                                                                              "resh"
                                                                                              "old"
                                                                                              "\":"
                                                                                              "0.3,"
                                                                                              "\"pa"
                                                                                              "ss\""
                                                                                              ":tru"
                                                                                              "e}]}"
                                                                                              "]}";

static const char kv_events[] =
    "[{\"timestamp\":5.0,\"name\":\"start\",\"context\":{}},"
    "{\"timestamp\":5.1,\"name\":\"trial_begin\",\"context\":{}},"
    "{\"timestamp\":6.0,\"name\":\"progress\",\"context\":{\"phase\":\"trial 1/1\",\"done\":1,"
    "\"total\":2,\"unit\":\"s\",\"elapsed\":0.9,\"rate\":1}},"
    "{\"timestamp\":7.1,\"name\":\"trial_end\",\"context\":{\"tokens_per_second_wall\":17300.7}}]";

/* The page of a run, rendered to a string the caller frees. */
static char *render_run(const char *meta, const char *summary, const char *events)
{
    cJSON *m = meta ? parse(meta) : NULL, *s = summary ? parse(summary) : NULL;
    cJSON *e = events ? parse(events) : NULL;
    struct buf b;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_html_render_run(buf_open(&b), m, s, e, &err), 0);
    buf_text(&b);
    cJSON_Delete(m);
    cJSON_Delete(s);
    cJSON_Delete(e);
    return b.text;
}

static void assert_page(const char *html)
{
    assert_int_equal(strncmp(html,
                             "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                             "<meta charset=\"utf-8\">",
                             60),
                     0);
    assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_non_null(strstr(html, "<style>"));
    assert_null(strstr(html, "<script"));
    /* Nothing from elsewhere: no source, import or link out of the page but to run reports. */
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    assert_null(strstr(html, "href=\"http"));
    assert_non_null(strstr(html, "</html>\n"));
}

/* ---- escaping and numbers --------------------------------------------------------------- */

static void test_escape(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"<a href=\"x\">&'", "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"},
        {"tab\tnew\nline", "tab\tnew\nline"},
        {"\x01\x1f\r\x7f", "&#xfffd;&#xfffd;&#xfffd;&#xfffd;"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"bad\xff|\xc3", "bad&#xfffd;|&#xfffd;"},
        {"\xc0\xaf", "&#xfffd;&#xfffd;"},             /* overlong "/" */
        {"\xed\xa0\x80", "&#xfffd;&#xfffd;&#xfffd;"}, /* a surrogate */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        mlpio_svg_escape(buf_open(&b), cases[i].in);
        assert_string_equal(buf_text(&b), cases[i].out);
        buf_free(&b);
    }
    struct buf b;
    mlpio_svg_escape(buf_open(&b), NULL);
    assert_string_equal(buf_text(&b), "");
    buf_free(&b);
}

static void test_number(void **state)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {{0, "0"},          {-0.0, "0"},     {1234, "1234"}, {0.6945, "0.6945"},
                 {12345, "12.35k"}, {2.5e6, "2.5M"}, {7e9, "7G"},    {0.00042, "0.00042"},
                 {3e-6, "3e-06"},   {-1.5, "-1.5"},  {NAN, "-"},     {INFINITY, "-"}};
    char buf[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(mlpio_svg_number(buf, sizeof(buf), cases[i].v), cases[i].text);
}

static void test_ticks(void **state)
{
    static const struct {
        double lo, hi;
        bool log;
        int cap, n;
        double first, last;
    } cases[] = {
        {0, 9.3, false, 6, 6, 0, 10},
        {0.2, 0.87, false, 6, 5, 0.2, 1.0},
        {0, 0, false, 6, 6, 0, 1},
        {-3, 7, false, 6, 6, -5, 7.5},
        {0, 1000, false, 3, 3, 0, 1000},
        {0.0002, 0.006, true, 8, 3, 1e-4, 1e-2},
        {1, 1, true, 8, 2, 1, 10},
        {1e-6, 1e6, true, 4, 4, 1e-6, 1e6},
        /* Beyond what a double holds: two ticks; a subnormal: from 1e-300, 14 decades apart. */
        {-1e308, 1e308, false, 6, 2, -1e308, 1e308},
        {5e-324, 1, true, 24, 23, 1e-300, 1e8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double t[MLPIO_SVG_MAX_TICKS];
        int n = mlpio_svg_ticks(cases[i].lo, cases[i].hi, cases[i].log, t, cases[i].cap);
        if (n != cases[i].n)
            fail_msg("case %zu: %d ticks, expected %d", i, n, cases[i].n);
        assert_true(n <= cases[i].cap);
        assert_float_equal(t[0], cases[i].first, 1e-12);
        assert_float_equal(t[n - 1], cases[i].last, 1e-9);
        for (int k = 1; k < n; k++)
            assert_true(t[k] > t[k - 1]);
    }
}

/* ---- SVG primitives --------------------------------------------------------------------- */

static void test_line_chart_coordinates(void **state)
{
    const double x[] = {0, 5, 10}, y[] = {0, 5, 10};
    struct mlpio_svg_series s = {NULL, x, y, 3};
    struct mlpio_svg_chart c = {
        .title = "T <1>", .x_label = "time (s)", .y_label = "GB/s", .width = 400, .height = 200};
    struct buf b;
    mlpio_svg_line_chart(buf_open(&b), &c, &s, 1);
    const char *svg = buf_text(&b);
    assert_non_null(strstr(svg, "width=\"400\" height=\"200\" viewBox=\"0 0 400 200\""));
    assert_non_null(strstr(svg, "<title>T &lt;1&gt;</title>"));
    assert_non_null(strstr(svg, ">time (s)</text>"));
    assert_non_null(strstr(svg, ">GB/s</text>"));
    /* Plot area x 64..380, y 34..156; axes 0..10 on both: the diagonal corner to corner. */
    assert_non_null(strstr(svg, "points=\"64.0,156.0 222.0,95.0 380.0,34.0\""));
    assert_int_equal(count(svg, "<circle"), 3);
    assert_null(strstr(svg, "no data"));
    buf_free(&b);

    /* Two named series get a legend; an empty chart says so. */
    struct mlpio_svg_series two[2] = {{"write", x, y, 3}, {"read", x, y, 2}};
    mlpio_svg_line_chart(buf_open(&b), &c, two, 2);
    svg = buf_text(&b);
    assert_int_equal(count(svg, "<polyline"), 2);
    assert_non_null(strstr(svg, ">write</text>"));
    assert_non_null(strstr(svg, ">read</text>"));
    assert_non_null(strstr(svg, mlpio_svg_palette[1]));
    buf_free(&b);
    mlpio_svg_line_chart(buf_open(&b), &c, NULL, 0);
    assert_non_null(strstr(buf_text(&b), ">no data</text>"));
    buf_free(&b);
}

/* The height of each <rect> drawn with a <title> (a bar), in order. */
static int bar_heights(const char *svg, double *h, int cap)
{
    int n = 0;
    for (const char *p = strstr(svg, "<rect x="); p && n < cap; p = strstr(p + 1, "<rect x=")) {
        double x, y, w, height;
        if (sscanf(p, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &x, &y, &w,
                   &height) == 4 &&
            strncmp(strchr(p, '>'), "><title>", 8) == 0)
            h[n++] = height;
    }
    return n;
}

static void test_bar_chart(void **state)
{
    const struct mlpio_svg_bar bars[] = {{"a", 1}, {"b", 2}, {"c<", 4}};
    struct mlpio_svg_chart c = {.title = "bars",
                                .x_label = "epoch",
                                .y_label = "AU (%)",
                                .width = 400,
                                .height = 200,
                                .has_threshold = true,
                                .threshold = 3,
                                .threshold_label = "minimum 3",
                                .below_is_bad = true};
    struct buf b;
    mlpio_svg_bar_chart(buf_open(&b), &c, bars, 3);
    const char *svg = buf_text(&b);
    double h[8];
    assert_int_equal(bar_heights(svg, h, 8), 3);
    /* Axis 0..4 over 122 pixels. */
    assert_float_equal(h[0], 30.5, 0.06);
    assert_float_equal(h[1], 61.0, 0.06);
    assert_float_equal(h[2], 122.0, 0.06);
    assert_non_null(strstr(svg, "<title>c&lt;: 4</title>"));
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_non_null(strstr(svg, ">minimum 3</text>"));
    /* Two bars fall short of the threshold. */
    assert_int_equal(count(svg, "fill=\"#d55e00\"><title>"), 2);
    buf_free(&b);
}

static void test_hbar_and_spread(void **state)
{
    const struct mlpio_svg_bar rows[] = {{"p50", 0.2}, {"p99", 20}, {"max", 200}};
    struct mlpio_svg_chart c = {.title = "latency", .x_label = "latency (ms)", .log_scale = true};
    struct buf b;
    mlpio_svg_hbar_chart(buf_open(&b), &c, rows, 3);
    const char *svg = buf_text(&b);
    int h = MLPIO_SVG_PAD_TOP + MLPIO_SVG_PAD_BOTTOM + 3 * MLPIO_SVG_ROW;
    char size[64];
    snprintf(size, sizeof(size), "width=\"%d\" height=\"%d\"", MLPIO_SVG_WIDTH, h);
    assert_non_null(strstr(svg, size));
    double w[8];
    assert_int_equal(bar_heights(svg, w, 8), 3);
    /* Decades 0.1 .. 1000 on a log axis: the labels of the ticks. */
    assert_non_null(strstr(svg, ">0.1</text>"));
    assert_non_null(strstr(svg, ">1000</text>"));
    assert_true(at(svg, ">p50</text>") < at(svg, ">p99</text>"));
    buf_free(&b);

    const struct mlpio_svg_range ranges[] = {{"save", 0.25, 0.75, 0.5, "rank 3", "rank 0"}};
    struct mlpio_svg_chart s = {.title = "spread", .x_label = "GB/s", .width = 400};
    mlpio_svg_spread_chart(buf_open(&b), &s, ranges, 1);
    svg = buf_text(&b);
    assert_non_null(strstr(svg, ">min 0.25 (rank 3)</text>"));
    assert_non_null(strstr(svg, ">max 0.75 (rank 0)</text>"));
    /* min and max marks: x = l + f * (r - l) with the axis 0..0.8. */
    double x0, y0, x1, y1;
    const char *p = strstr(svg, "<path d=\"M");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "<path d=\"M%lf %lfv16M%lf %lf", &x0, &y0, &x1, &y1), 4);
    assert_true(x1 > x0);
    assert_non_null(strstr(svg, "<circle"));
    buf_free(&b);
}

/* ---- run pages -------------------------------------------------------------------------- */

static void test_run_page_checkpointing(void **state)
{
    char *html = render_run(ckpt_metadata, ckpt_summary, ckpt_events);
    assert_page(html);
    assert_charts_well_formed(html, 4);
    assert_true(at(html, "id=\"verdict\"") < at(html, "id=\"figures\""));
    assert_true(at(html, "What to change to reach CLOSED") < at(html, "id=\"figures\""));
    assert_non_null(strstr(html, "<td class=\"fix\">run with --scale 1</td>"));
    assert_non_null(strstr(html, "Throughput over time, by phase"));
    assert_non_null(strstr(html, ">write</text>"));
    assert_non_null(strstr(html, ">read</text>"));
    /* The write phase has its own events: its progress is not a third series. */
    assert_int_equal(count(html, "<polyline"), 2);
    assert_non_null(strstr(html, "Spread between ranks"));
    assert_non_null(strstr(html, ">min 0.27 (rank 0)</text>"));
    assert_non_null(strstr(html, "save op latency (12 samples)"));
    assert_non_null(strstr(html, "load op latency (12 samples)"));
    assert_non_null(strstr(html, "node&lt;1&gt;"));
    assert_null(strstr(html, "summary.json is missing"));
    free(html);
}

static void test_run_page_training(void **state)
{
    char *html = render_run(train_metadata, train_summary, train_events);
    assert_page(html);
    assert_charts_well_formed(html, 3);
    /* INVALID issues come before OPEN ones, and both before the figures. */
    assert_true(at(html, "What makes it INVALID") < at(html, "Then, to reach CLOSED"));
    assert_true(at(html, "remove --params train.epochs=3") < at(html, "run with --scale 1"));
    assert_true(at(html, "run with --scale 1") < at(html, "id=\"figures\""));
    assert_non_null(strstr(html, "Accelerator utilisation (AU) per epoch"));
    assert_non_null(strstr(html, ">minimum 90 %</text>"));
    /* Epochs 1 and 2 are below 90 %, epoch 3 is not. */
    assert_int_equal(count(html, "fill=\"#d55e00\"><title>epoch"), 2);
    assert_non_null(strstr(html, ">samples/s</text>"));
    assert_non_null(strstr(html, "train step load (36 samples)"));
    free(html);
}

static void test_run_page_kvcache(void **state)
{
    char *html = render_run(kv_metadata, kv_summary, kv_events);
    assert_page(html);
    assert_charts_well_formed(html, 5);
    assert_non_null(strstr(html, "Meets every rule of the CLOSED division"));
    /* No "rules_edition" in the metadata: recorded before editions, judged by v2.0. */
    assert_non_null(strstr(html, "Judged by the MLPerf Storage v2.0 rules."));
    assert_non_null(strstr(html, "KV cache hit rate per tier"));
    assert_non_null(strstr(html, "<title>gpu (none): 0</title>"));
    assert_non_null(strstr(html, "<title>cpu: 25</title>"));
    assert_non_null(strstr(html, "<title>storage: 100</title>"));
    assert_non_null(strstr(html, "Request latency (15 samples)"));
    assert_non_null(strstr(html, "Storage reads (11810 samples)"));
    assert_non_null(strstr(html, "Storage writes (3584 samples)"));
    assert_non_null(strstr(html, ">tokens/s</text>"));
    assert_non_null(strstr(html, "Latency targets by class"));
    /* Progress counted in seconds is not a throughput. */
    assert_null(strstr(html, ">s/s</text>"));
    free(html);
}

/* The page of a run of a fixture tree (tests/fixtures/trees), from its three files. */
static char *render_fixture(const char *tree, const char *rel, const char *benchmark)
{
    char dir[PATH_MAX], path[PATH_MAX * 2], name[128];
    struct mlpio_error err = {0};
    fixture_path(dir, sizeof(dir), "trees", tree);
    snprintf(name, sizeof(name), "%s_%s_metadata.json", benchmark, strrchr(rel, '/') + 1);
    snprintf(path, sizeof(path), "%s/%s/%s", dir, rel, name);
    cJSON *m = mlpio_json_read_file(path, &err);
    snprintf(path, sizeof(path), "%s/%s/summary.json", dir, rel);
    cJSON *s = mlpio_json_read_file(path, &err);
    assert_non_null(m);
    assert_non_null(s);
    snprintf(path, sizeof(path), "%s/%s/events.jsonl", dir, rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    cJSON *events = cJSON_CreateArray();
    char line[8192];
    while (fgets(line, sizeof(line), f))
        cJSON_AddItemToArray(events, parse(line));
    fclose(f);
    struct buf b;
    assert_int_equal(mlpio_html_render_run(buf_open(&b), m, s, events, &err), 0);
    buf_text(&b);
    cJSON_Delete(m);
    cJSON_Delete(s);
    cJSON_Delete(events);
    return b.text;
}

/* Every figure whose name says bytes is a whole number on the page. */
static void assert_whole_bytes(const char *html)
{
    int seen = 0;
    for (const char *dt = strstr(html, "<dt>"); dt; dt = strstr(dt + 1, "<dt>")) {
        const char *end = strstr(dt, "</dt>"), *b = strstr(dt, "bytes");
        if (!b || b > end)
            continue;
        const char *dd = strstr(end, "<dd>") + 4, *dd_end = strstr(dd, "</dd>");
        seen++;
        for (const char *p = dd; p < dd_end; p++)
            if (*p == '.')
                fail_msg("fractional bytes: %.*s", (int)(dd_end - dt), dt);
    }
    assert_true(seen > 0);
}

/* Pages of real runs: bytes are whole, the spread chart says what its ends are, and the
 * workload's own AU "success" is not shown under an INVALID verdict. */
static void test_fixture_pages(void **state)
{
    char *kv =
        render_fixture("closed", "kvcache/llama3.1-70b-instruct/run/20261122_013211", "kvcache");
    assert_non_null(strstr(kv, "working_set_bytes_per_rank</dt><dd>29755078</dd>"));
    assert_whole_bytes(kv);
    free(kv);
    char *ckpt =
        render_fixture("closed", "checkpointing/llama3-8b/run/20261122_012705", "checkpointing");
    assert_whole_bytes(ckpt);
    assert_non_null(strstr(ckpt, "<title>Spread between ranks: the slowest and the fastest rank in "
                                 "any one checkpoint</title>"));
    free(ckpt);
    char *closed = render_fixture("closed", "training/unet3d/run/20261122_012652", "training");
    assert_non_null(strstr(closed, "v-CLOSED"));
    assert_non_null(strstr(closed, "train au meet expectation"));
    free(closed);
    char *invalid = render_fixture("scaled", "training/unet3d/run/20261122_011719", "training");
    assert_non_null(strstr(invalid, "v-INVALID"));
    assert_null(strstr(invalid, "train au meet expectation"));
    assert_null(strstr(invalid, ">success<"));
    free(invalid);
}

/* Each chart of a page has its own title: training's samples/s and its bytes read over time
 * are two charts of throughput over time, one per unit, named by it. */
static void test_chart_titles_distinct(void **state)
{
    cJSON *events = parse(train_events);
    for (int i = 1; i <= 3; i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"timestamp\":%d,\"name\":\"progress\",\"context\":{\"phase\":\"read\","
                 "\"done\":%lld,\"total\":4294967296,\"unit\":\"bytes\",\"elapsed\":%d}}",
                 1000 + i, (long long)i << 30, i);
        cJSON_AddItemToArray(events, parse(text));
    }
    char *text = cJSON_PrintUnformatted(events);
    char *html = render_run(train_metadata, train_summary, text);
    free(text);
    cJSON_Delete(events);
    assert_non_null(strstr(html, "<title>Throughput over time, by phase (samples/s)</title>"));
    assert_non_null(strstr(html, "<title>Throughput over time, by phase (GB/s)</title>"));
    int charts = 0;
    for (const char *a = strstr(html, "<svg "); a; a = strstr(a + 1, "<svg ")) {
        const char *t = strstr(a, "<title>") + 7;
        size_t len = (size_t)(strstr(t, "</title>") - t);
        charts++;
        for (const char *b = strstr(a + 1, "<svg "); b; b = strstr(b + 1, "<svg ")) {
            const char *u = strstr(b, "<title>") + 7;
            if (strncmp(t, u, len) == 0 && u[len] == '<')
                fail_msg("two charts titled %.*s", (int)len, t);
        }
    }
    assert_true(charts >= 4);
    free(html);
}

static void test_run_page_missing_summary(void **state)
{
    char *html = render_run(ckpt_metadata, NULL, ckpt_events);
    assert_page(html);
    assert_non_null(strstr(html, "summary.json is missing"));
    assert_true(at(html, "id=\"verdict\"") < at(html, "summary.json is missing"));
    assert_null(strstr(html, "class=\"figs\"><div><dt>save"));
    /* The event log still gives throughput over time. */
    assert_non_null(strstr(html, "Throughput over time"));
    free(html);

    html = render_run(NULL, NULL, NULL);
    assert_page(html);
    assert_non_null(strstr(html, "There is no metadata"));
    assert_non_null(strstr(html, "No throughput over time"));
    free(html);
}

static char *render_tree(const cJSON *doc, double *seconds);

/* Documents edited by hand or cut short: members of the wrong type are shown as absent. */
static void test_odd_documents(void **state)
{
    char *html =
        render_run("{\"benchmark\":5,\"verdict\":\"OPEN\",\"cluster\":[1,2],\"exit_status\":\"x\","
                   "\"argv\":\"s\",\"options\":[],\"start_time\":3,\"overrides\":{\"a\":1},"
                   "\"config\":{\"metric\":7}}",
                   "{\"trials\":[1,{\"tiers\":[],\"storage\":5,\"qos\":{\"a\":[]}}],"
                   "\"train_au_percentage\":[\"x\",null],\"save_checkpoint_per_rank\":5,"
                   "\"x_per_rank\":{\"min_a\":\"s\",\"max_a\":1},\"h\":{\"count\":1,\"p50\":\"s\"},"
                   "\"list\":[1,\"a\",{}]}",
                   "[1,\"x\",{\"name\":5},{\"name\":\"write\",\"timestamp\":\"t\"},"
                   "{\"name\":\"progress\",\"timestamp\":1,\"context\":{\"unit\":\"bytes\"}},"
                   "{\"name\":\"trial_end\",\"timestamp\":2,\"context\":[]}]");
    assert_page(html);
    assert_non_null(strstr(html, "not judged"));
    free(html);
    html = render_run("[]", "\"s\"", "{}");
    assert_page(html);
    free(html);

    cJSON *doc = parse("{\"runs\":[1,\"x\",{\"verdict\":5,\"issues\":{\"a\":1},\"figures\":[1],"
                       "\"summary\":{\"trials\":5},\"problems\":[2]},{\"verdict\":\"OPEN\"},"
                       "{\"verdict\":\"OPEN\",\"issues\":[]}],\"counts\":[],\"submissions\":{},"
                       "\"problems\":\"x\"}");
    char *tree = render_tree(doc, NULL);
    assert_page(tree);
    assert_non_null(strstr(tree, "2 runs of ? ? ? with the same issues"));
    free(tree);
    cJSON_Delete(doc);
}

/* ---- files ------------------------------------------------------------------------------ */

static void put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return text;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_write_run(void **state)
{
    char dir[PATH_MAX];
    scratch_make_or_fail(dir, sizeof(dir), false, "mlpio-html");
    struct mlpio_error err = {0};

    /* Not a run directory: nothing written, and the error says why. */
    assert_int_equal(mlpio_html_write_run(dir, &err), -1);
    assert_non_null(strstr(err.message, dir));
    assert_non_null(strstr(err.message, "_metadata.json"));
    assert_true(err.hint[0] != '\0');
    assert_int_equal(entries(dir), 0);

    /* No summary, a truncated last event line and one that is not an event. */
    put(dir, "checkpointing_20260101_000001_metadata.json", ckpt_metadata);
    put(dir, "events.jsonl",
        "{\"timestamp\":100.0,\"name\":\"start\",\"context\":{}}\n"
        "[1,2]\n"
        "{\"timestamp\":100.2,\"name\":\"write\",\"context\":{\"duration_seconds\":0.1,"
        "\"GB_per_second\":0.5}}\n"
        "{\"timestamp\":100.3,\"na");
    assert_int_equal(mlpio_html_write_run(dir, &err), 0);
    char *html = slurp(dir, "report.html");
    assert_non_null(html);
    assert_page(html);
    assert_non_null(strstr(html, "summary.json is missing"));
    assert_non_null(
        strstr(html, "events.jsonl: 2 of 4 lines were skipped (first, line 2: not an event"));
    assert_non_null(strstr(html, "Throughput over time"));
    free(html);
    assert_int_equal(entries(dir), 3); /* no temporary file left behind */

    /* A summary that does not parse is named with its error; rewriting replaces the page. */
    put(dir, "summary.json", "{\"a\": ");
    assert_int_equal(mlpio_html_write_run(dir, &err), 0);
    html = slurp(dir, "report.html");
    assert_non_null(strstr(html, "summary.json cannot be read: "));
    assert_null(strstr(html, "summary.json is missing"));
    free(html);
    put(dir, "summary.json", ckpt_summary);
    assert_int_equal(mlpio_html_write_run(dir, &err), 0);
    html = slurp(dir, "report.html");
    assert_non_null(strstr(html, "Spread between ranks"));
    assert_null(strstr(html, "summary.json cannot be read"));
    free(html);

    /* Two metadata files: which run this is cannot be told. */
    put(dir, "training_x_metadata.json", train_metadata);
    assert_int_equal(mlpio_html_write_run(dir, &err), -1);
    assert_non_null(strstr(err.message, "2 *_metadata.json files"));
    assert_int_equal(scratch_remove(dir), 0);
}

/* ---- tree page -------------------------------------------------------------------------- */

static cJSON *tree_run(int i, const char *verdict, const char *meta, const char *summary)
{
    cJSON *m = parse(meta), *r = cJSON_CreateObject();
    char path[64];
    snprintf(path, sizeof(path), "%s/x/run/r%04d", cJSON_GetObjectItem(m, "benchmark")->valuestring,
             i);
    cJSON_AddStringToObject(r, "path", path);
    static const char *const keys[] = {"benchmark", "model", "command", "run_id"};
    for (size_t k = 0; k < 4; k++)
        cJSON_AddItemToObject(r, keys[k], cJSON_Duplicate(cJSON_GetObjectItem(m, keys[k]), 1));
    cJSON_AddStringToObject(r, "status", "complete");
    if (verdict)
        cJSON_AddStringToObject(r, "verdict", verdict);
    else
        cJSON_AddNullToObject(r, "verdict");
    cJSON_AddItemToObject(
        r, "issues",
        cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "verdict"), "issues"), 1));
    cJSON_AddItemToObject(r, "problems", cJSON_CreateArray());
    cJSON *figures = cJSON_AddObjectToObject(r, "figures");
    cJSON_AddNumberToObject(figures, "throughput", 1.0 + i % 7);
    cJSON_AddNumberToObject(figures, "au_mean_percentage", 90.0 + i % 5);
    cJSON_AddItemToObject(r, "summary", summary ? parse(summary) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "metadata", m);
    cJSON_AddNullToObject(r, "events");
    return r;
}

static cJSON *tree_doc(void)
{
    return parse("{\"mlpio_version\":\"0.1.0\",\"generated\":\"2026-01-01T00:00:00Z\","
                 "\"results_dir\":\"/res\",\"counts\":{\"runs\":4,\"closed\":1,\"open\":2,"
                 "\"invalid\":1,\"problems\":1,\"submissions\":1},\"runs\":[],"
                 "\"submissions\":[{\"benchmark\":\"training\",\"model\":\"unet3d\","
                 "\"group\":\"g1\",\"verdict\":\"OPEN\",\"runs\":[\"training/x/run/r0001\"],"
                 "\"issues\":[{\"level\":\"open\",\"message\":\"5 runs needed\","
                 "\"hint\":\"make 4 more runs\"}],\"figures\":{\"au\":91}}],"
                 "\"problems\":[{\"where\":\"kvcache/<bad>\",\"what\":\"no metadata\","
                 "\"fix\":\"remove the directory\"}]}");
}

/* The tree page of doc, written through mlpio_html_write_tree; the caller frees it. */
static char *render_tree(const cJSON *doc, double *seconds)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    scratch_make_or_fail(dir, sizeof(dir), false, "mlpio-html");
    snprintf(path, sizeof(path), "%s/tree.html", dir);
    struct mlpio_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (mlpio_html_write_tree(path, doc, &err) != 0)
        fail_msg("%s", err.message);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (seconds)
        *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char *html = slurp(dir, "tree.html");
    assert_non_null(html);
    assert_int_equal(entries(dir), 1);
    assert_int_equal(scratch_remove(dir), 0);
    return html;
}

static void test_tree_page(void **state)
{
    cJSON *doc = tree_doc(), *runs = cJSON_GetObjectItem(doc, "runs");
    /* In the document: CLOSED, OPEN, INVALID, OPEN (the same issues), not judged. */
    cJSON_AddItemToArray(runs, tree_run(0, "CLOSED", kv_metadata, kv_summary));
    cJSON_AddItemToArray(runs, tree_run(1, "OPEN", ckpt_metadata, ckpt_summary));
    cJSON_AddItemToArray(runs, tree_run(2, "INVALID", train_metadata, train_summary));
    cJSON_AddItemToArray(runs, tree_run(3, "OPEN", ckpt_metadata, NULL));
    cJSON *odd = tree_run(4, NULL, ckpt_metadata, NULL);
    cJSON_ReplaceItemInObject(odd, "path", cJSON_CreateString("odd/<script>x</script> & 'q'"));
    cJSON_AddItemToArray(runs, odd);
    char *html = render_tree(doc, NULL);
    assert_page(html);
    assert_charts_well_formed(html, 3);
    /* Sections in order: figures, INVALID, OPEN, CLOSED, not judged, submissions, problems,
     * the card of each run. */
    static const char *const order[] = {"id=\"figures\"",  "id=\"INVALID\"",  "id=\"OPEN\"",
                                        "id=\"CLOSED\"",   "id=\"unjudged\"", "id=\"submissions\"",
                                        "id=\"problems\"", "id=\"cards\""};
    for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++)
        assert_true(at(html, order[i - 1]) < at(html, order[i]));
    /* Each run is first listed in the section of its verdict. */
    long invalid = at(html, "training/x/run/r0002"), open = at(html, "checkpointing/x/run/r0001");
    long closed = at(html, "kvcache/x/run/r0000");
    assert_true(at(html, "id=\"INVALID\"") < invalid && invalid < at(html, "id=\"OPEN\""));
    assert_true(at(html, "id=\"OPEN\"") < open && open < at(html, "id=\"CLOSED\""));
    assert_true(at(html, "id=\"CLOSED\"") < closed && closed < at(html, "id=\"unjudged\""));
    assert_true(at(html, "remove --params train.epochs=3") < at(html, "id=\"OPEN\""));
    assert_non_null(strstr(html, "2 runs of checkpointing run llama3-8b with the same issues"));
    /* Strings from the tree are text, and paths are links that work. */
    assert_non_null(strstr(html, "odd/&lt;script&gt;x&lt;/script&gt; &amp; &#39;q&#39;"));
    assert_non_null(
        strstr(html, "href=\"/res/odd/%3Cscript%3Ex%3C/script%3E%20%26%20%27q%27/report.html\""));
    assert_non_null(strstr(html, "href=\"/res/training/x/run/r0002/report.html\""));
    assert_non_null(strstr(html, "kvcache/&lt;bad&gt;"));
    assert_non_null(strstr(html, "remove the directory"));
    assert_non_null(strstr(html, "make 4 more runs"));
    assert_non_null(strstr(html, "<b>4</b>runs"));
    assert_int_equal(count(html, "<div class=\"card\" id=\"r"), 5);
    /* The checkpointing runs are compared in one chart. */
    assert_non_null(strstr(html, "checkpointing llama3-8b run: throughput"));
    free(html);

    struct mlpio_error err = {0};
    assert_int_equal(mlpio_html_write_tree("/nonexistent-dir/tree.html", doc, &err), -1);
    assert_non_null(strstr(err.message, "/nonexistent-dir/tree.html"));
    cJSON *array = cJSON_CreateArray();
    assert_int_equal(mlpio_html_write_tree("/nonexistent-dir/tree.html", array, &err), -1);
    assert_non_null(strstr(err.message, "not a JSON object"));
    cJSON_Delete(array);
    cJSON_Delete(doc);
}

/* A tree of 1000 runs makes a page of a few megabytes, quickly. */
static void test_tree_1000_runs(void **state)
{
    enum { RUNS = 1000 };
    static const char *const verdicts[] = {"INVALID", "OPEN", "CLOSED"};
    cJSON *doc = tree_doc(), *runs = cJSON_GetObjectItem(doc, "runs");
    for (int i = 0; i < RUNS; i++) {
        const char *meta = i % 3 == 0 ? ckpt_metadata : i % 3 == 1 ? train_metadata : kv_metadata;
        const char *sum = i % 3 == 0 ? ckpt_summary : i % 3 == 1 ? train_summary : kv_summary;
        cJSON *r = tree_run(i, verdicts[(i / 3) % 3], meta, sum);
        if (i % 10 == 0) { /* some runs have an issue of their own */
            cJSON *is = cJSON_CreateObject();
            char actual[16];
            snprintf(actual, sizeof(actual), "%d", i);
            cJSON_AddStringToObject(is, "level", "open");
            cJSON_AddStringToObject(is, "parameter", "seed");
            cJSON_AddStringToObject(is, "actual", actual);
            cJSON_AddStringToObject(is, "hint", "run with --seed 42");
            cJSON_AddItemToArray(cJSON_GetObjectItem(r, "issues"), is);
        }
        cJSON_AddItemToArray(runs, r);
    }
    double seconds;
    char *html = render_tree(doc, &seconds);
    size_t size = strlen(html);
    print_message("tree of %d runs: %.1f KiB of HTML in %.3f s\n", RUNS, size / 1024.0, seconds);
    assert_int_equal(count(html, "<div class=\"card\" id=\"r"), RUNS);
    assert_true(size < 4u << 20);
    free(html);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_line_chart_coordinates),
        cmocka_unit_test(test_bar_chart),
        cmocka_unit_test(test_hbar_and_spread),
        cmocka_unit_test(test_run_page_checkpointing),
        cmocka_unit_test(test_run_page_training),
        cmocka_unit_test(test_run_page_kvcache),
        cmocka_unit_test(test_run_page_missing_summary),
        cmocka_unit_test(test_fixture_pages),
        cmocka_unit_test(test_chart_titles_distinct),
        cmocka_unit_test(test_odd_documents),
        cmocka_unit_test(test_write_run),
        cmocka_unit_test(test_tree_page),
        cmocka_unit_test(test_tree_1000_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
