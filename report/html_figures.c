/* mlpio HTML report: the figures of a run. A table of every figure in summary.json, then
 * charts: throughput over time (from the events), what the workload is judged on (its
 * sections, html_sections.c), the spread between ranks, and the latency percentiles of every
 * histogram; a benchmark without sections gets its lists of numbers as bars.
 */
#include "report/html.h"
#include "report/html_impl.h"

#include <math.h>
#include <string.h>

#include "report/svg.h"

#define SPREAD_MAX 16

/* Shown in the page header or the verdict section already, or wrong for unjudged commands
 * (the summary's own copy of the verdict). */
static bool shown_elsewhere(const char *key)
{
    static const char *const keys[] = {"benchmark", "model",     "command", "run_id",
                                       "verdict",   "exit_code", "units"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(key, keys[i]))
            return true;
    return false;
}

bool html_is_histogram(const cJSON *v)
{
    return cJSON_IsObject(v) && html_num(v, "count") > 0 && isfinite(html_num(v, "p50"));
}

/* A pass or fail of the workload's own (own: training's "AU ... success") says nothing of a
 * run the rules found INVALID, or of one that failed: the verdict is what counts. */
static bool judged_apart(const cJSON *m, const cJSON *s, const char *own, const char *key)
{
    if (!own || strcmp(key, own) != 0)
        return false;
    const char *status = html_str(m, "status");
    const char *verdict = m ? html_str(cJSON_GetObjectItemCaseSensitive(m, "verdict"), "verdict")
                            : html_str(s, "verdict");
    return (status && !strcmp(status, "failed")) || !verdict || !strcmp(verdict, "INVALID");
}

/* Scalars of obj and, one level down, of its objects (not histograms, which are charted). */
static void figure_list(FILE *out, const cJSON *m, const cJSON *obj, const char *own,
                        const char *prefix)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if (!v->string ||
            (!prefix && (shown_elsewhere(v->string) || judged_apart(m, obj, own, v->string))))
            continue;
        if (cJSON_IsObject(v)) {
            if (!prefix && !html_is_histogram(v) && !cJSON_IsObject(v->child))
                figure_list(out, m, v, own, v->string);
            continue;
        }
        if (cJSON_IsArray(v) && cJSON_IsObject(v->child))
            continue;
        fputs("<div><dt>", out);
        if (prefix) {
            html_key(out, prefix);
            fputs(" \xc2\xb7 ", out);
        }
        html_key(out, v->string);
        fputs("</dt><dd>", out);
        html_figure(out, v->string, v);
        fputs("</dd></div>", out);
    }
}

void html_latency_chart(FILE *out, const char *title, const cJSON *hist)
{
    static const struct {
        const char *key, *label;
    } rows[] = {{"mean", "mean"}, {"p50", "p50"},     {"p90", "p90"},       {"p95", "p95"},
                {"p99", "p99"},   {"p99_9", "p99.9"}, {"p99_99", "p99.99"}, {"max", "max"}};
    enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
    struct mlpio_svg_bar bars[NROWS];
    double max = html_num(hist, "max"), min = html_num(hist, "min");
    double scale = max >= 1 ? 1 : 1e3;
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++) {
        double v = html_num(hist, rows[i].key);
        if (isfinite(v))
            bars[n++] = (struct mlpio_svg_bar){rows[i].label, v * scale};
    }
    char full[256];
    snprintf(full, sizeof(full), "%s (%.0f samples)", title, html_num(hist, "count"));
    struct mlpio_svg_chart c = {
        .title = full,
        .x_label = scale == 1 ? "latency (s)" : "latency (ms)",
        .log_scale = min > 0 && max / min > 100,
    };
    fputs("<figure>", out);
    mlpio_svg_hbar_chart(out, &c, bars, n);
    fputs("</figure>\n", out);
}

void html_bars_figure(FILE *out, const struct mlpio_svg_chart *c, const struct mlpio_svg_bar *bars,
                      size_t n)
{
    fputs("<figure>", out);
    mlpio_svg_bar_chart(out, c, bars, n);
    fputs("</figure>\n", out);
}

/* Rows "<what>_per_rank": {"min_<unit>", "min_rank", "max_<unit>", "max_rank"}, one chart
 * per unit. */
static void spread_charts(FILE *out, const cJSON *s)
{
    struct mlpio_svg_range rows[SPREAD_MAX];
    char labels[SPREAD_MAX][96], units[SPREAD_MAX][48], notes[SPREAD_MAX][2][24];
    size_t n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, s)
    {
        size_t len = v->string ? strlen(v->string) : 0;
        if (n == SPREAD_MAX || !cJSON_IsObject(v) || len < 9 ||
            strcmp(v->string + len - 9, "_per_rank") != 0)
            continue;
        const cJSON *f;
        cJSON_ArrayForEach(f, v)
        {
            if (!cJSON_IsNumber(f) || strncmp(f->string, "min_", 4) ||
                !strcmp(f->string, "min_rank"))
                continue;
            char max_key[64];
            snprintf(max_key, sizeof(max_key), "max_%s", f->string + 4);
            double max = html_num(v, max_key);
            if (!isfinite(max))
                continue;
            char what[64];
            snprintf(what, sizeof(what), "%.*s", (int)(len - 9), v->string);
            html_key_text(labels[n], sizeof(labels[n]), what);
            html_key_text(units[n], sizeof(units[n]), f->string + 4);
            snprintf(notes[n][0], sizeof(notes[n][0]), "rank %.0f", html_num(v, "min_rank"));
            snprintf(notes[n][1], sizeof(notes[n][1]), "rank %.0f", html_num(v, "max_rank"));
            rows[n] =
                (struct mlpio_svg_range){labels[n],
                                         f->valuedouble,
                                         max,
                                         NAN,
                                         isfinite(html_num(v, "min_rank")) ? notes[n][0] : NULL,
                                         isfinite(html_num(v, "max_rank")) ? notes[n][1] : NULL};
            n++;
            break;
        }
    }
    bool done[SPREAD_MAX] = {false};
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        struct mlpio_svg_range group[SPREAD_MAX];
        size_t k = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && !strcmp(units[j], units[i]))
                group[k++] = rows[j], done[j] = true;
        /* The summary keeps the extremes over every (rank, checkpoint) sample, not per-rank
         * means: both ends may be the same rank, in two checkpoints. */
        struct mlpio_svg_chart c = {.title = "Spread between ranks: the slowest and the fastest "
                                             "rank in any one checkpoint",
                                    .x_label = units[i]};
        fputs("<figure>", out);
        mlpio_svg_spread_chart(out, &c, group, k);
        fputs("</figure>\n", out);
    }
}

/* Every top-level histogram. */
static void latency_charts(FILE *out, const cJSON *s)
{
    char title[160];
    const cJSON *v;
    cJSON_ArrayForEach(v, s)
    {
        if (!v->string || !html_is_histogram(v))
            continue;
        /* The unit goes on the axis: "save_op_latency_seconds" is "save op latency". */
        char key[128];
        size_t len = strlen(v->string);
        snprintf(key, sizeof(key), "%.*s",
                 (int)(len > 8 && !strcmp(v->string + len - 8, "_seconds") ? len - 8 : len),
                 v->string);
        html_latency_chart(out, html_key_text(title, sizeof(title), key), v);
    }
}

/* Benchmarks without sections: every list of numbers as bars. */
static void list_charts(FILE *out, const cJSON *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, s)
    {
        int len = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || len < 2 || len > HTML_BARS_MAX || !cJSON_IsNumber(v->child))
            continue;
        char labels[HTML_BARS_MAX][12], title[160];
        struct mlpio_svg_bar bars[HTML_BARS_MAX];
        size_t n = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(labels[n], sizeof(labels[n]), "%zu", n + 1);
            bars[n] = (struct mlpio_svg_bar){labels[n], cJSON_IsNumber(e) ? e->valuedouble : NAN};
            n++;
        }
        struct mlpio_svg_chart c = {.title = html_key_text(title, sizeof(title), v->string),
                                    .x_label = "item",
                                    .y_label = title};
        html_bars_figure(out, &c, bars, n);
    }
}

void html_run_figures(FILE *out, const cJSON *m, const cJSON *s, const cJSON *events)
{
    const struct mlpio_html_sections *sec = html_sections_of(html_benchmark_of(m, s));
    if (s) {
        fputs("<dl class=\"figs\">", out);
        figure_list(out, m, s, sec ? sec->own_verdict : NULL, NULL);
        fputs("</dl>\n", out);
        if (html_str(s, "units")) {
            fputs("<p class=\"muted\">Units: ", out);
            html_esc(out, html_str(s, "units"));
            fputs(".</p>\n", out);
        }
    }
    fputs("<div class=\"charts\">\n", out);
    int timed = html_throughput_charts(out, events);
    if (s && sec && sec->run_charts)
        sec->run_charts(out, m, s);
    if (s) {
        spread_charts(out, s);
        latency_charts(out, s);
        if (sec && sec->more_charts)
            sec->more_charts(out, m, s);
        if (!sec)
            list_charts(out, s);
    }
    fputs("</div>\n", out);
    if (!timed)
        fputs("<p class=\"muted\">No throughput over time: the event log has no events with "
              "a rate.</p>\n",
              out);
    if (s && sec && sec->tables)
        sec->tables(out, m, s);
}

bool html_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    const struct mlpio_html_sections *sec = html_sections_of(html_benchmark_of(m, s));
    return sec && sec->small_chart && sec->small_chart(out, m, s, width);
}
