/* mlpio HTML report: the figures of a run. A table of every figure in summary.json, then
 * charts: throughput over time (from the events), what the workload is judged on (AU per
 * epoch for training, tier hit rates for the KV cache), the spread between ranks, and the
 * latency percentiles of every histogram.
 */
#include "report/html_impl.h"

#include <math.h>
#include <string.h>

#include "report/svg.h"

#define SPREAD_MAX 16
#define TRIALS_CHARTED 4
#define BARS_MAX 64

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

/* A pass or fail of the workload's own (training's "AU ... success") says nothing of a run
 * the rules found INVALID, or of one that failed: the verdict is what counts. */
static bool judged_apart(const cJSON *m, const cJSON *s, const char *key)
{
    if (strcmp(key, "train_au_meet_expectation") != 0)
        return false;
    const char *status = html_str(m, "status");
    const char *verdict = m ? html_str(cJSON_GetObjectItemCaseSensitive(m, "verdict"), "verdict")
                            : html_str(s, "verdict");
    return (status && !strcmp(status, "failed")) || !verdict || !strcmp(verdict, "INVALID");
}

/* Scalars of obj and, one level down, of its objects (not histograms, which are charted). */
static void figure_list(FILE *out, const cJSON *m, const cJSON *obj, const char *prefix)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if (!v->string ||
            (!prefix && (shown_elsewhere(v->string) || judged_apart(m, obj, v->string))))
            continue;
        if (cJSON_IsObject(v)) {
            if (!prefix && !html_is_histogram(v) && !cJSON_IsObject(v->child))
                figure_list(out, m, v, v->string);
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

static void bars_figure(FILE *out, const struct mlpio_svg_chart *c,
                        const struct mlpio_svg_bar *bars, size_t n)
{
    fputs("<figure>", out);
    mlpio_svg_bar_chart(out, c, bars, n);
    fputs("</figure>\n", out);
}

/* AU per epoch against the minimum the rules set (metric.au of the configuration). */
static void au_chart(FILE *out, const cJSON *m, const cJSON *au, int width, int height)
{
    char labels[BARS_MAX][16];
    struct mlpio_svg_bar bars[BARS_MAX];
    size_t n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, au)
    {
        if (n == BARS_MAX)
            break;
        snprintf(labels[n], sizeof(labels[n]), width > 0 && width < 400 ? "%zu" : "epoch %zu",
                 n + 1);
        bars[n] = (struct mlpio_svg_bar){labels[n], cJSON_IsNumber(v) ? v->valuedouble : NAN};
        n++;
    }
    const cJSON *metric =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "config"), "metric");
    double min = html_num(metric, "au") * 100;
    char label[64];
    snprintf(label, sizeof(label), "minimum %g %%", min);
    struct mlpio_svg_chart c = {.title = "Accelerator utilisation (AU) per epoch",
                                .x_label = "epoch",
                                .y_label = "AU (%)",
                                .width = width,
                                .height = height,
                                .has_threshold = isfinite(min),
                                .threshold = min,
                                .threshold_label = label,
                                .below_is_bad = true};
    bars_figure(out, &c, bars, n);
}

/* Hit rate of each tier (and of the whole cache), averaged over the trials. */
static void hit_rate_chart(FILE *out, const cJSON *trials, int width, int height)
{
    static const char *const tiers[] = {"gpu", "cpu", "storage"};
    double sum[4] = {0}, count[4] = {0};
    bool present[3] = {false};
    const cJSON *t;
    cJSON_ArrayForEach(t, trials)
    {
        const cJSON *tt = cJSON_GetObjectItemCaseSensitive(t, "tiers");
        for (int i = 0; i < 3; i++) {
            const cJSON *tier = cJSON_GetObjectItemCaseSensitive(tt, tiers[i]);
            double rate = html_num(tier, "hit_rate");
            present[i] |= html_num(tier, "capacity_bytes") > 0;
            if (isfinite(rate))
                sum[i] += rate * 100, count[i]++;
        }
        double all = html_num(t, "cache_hit_rate");
        if (isfinite(all))
            sum[3] += all * 100, count[3]++;
    }
    const char *labels[4] = {present[0] ? "gpu" : "gpu (none)", present[1] ? "cpu" : "cpu (none)",
                             present[2] ? "storage" : "storage (none)", "overall"};
    struct mlpio_svg_bar bars[4];
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        if (count[i] > 0)
            bars[n++] = (struct mlpio_svg_bar){labels[i], sum[i] / count[i]};
    int trials_n = cJSON_GetArraySize(trials);
    char title[96];
    snprintf(title, sizeof(title), "KV cache hit rate per tier%s",
             trials_n > 1 ? " (mean of the trials)" : "");
    struct mlpio_svg_chart c = {.title = title,
                                .x_label = "tier",
                                .y_label = "hit rate (%)",
                                .width = width,
                                .height = height};
    bars_figure(out, &c, bars, n);
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

/* Every top-level histogram, then those of the KV cache's trials. */
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
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    int ntrials = cJSON_GetArraySize(trials), i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, trials)
    {
        if (i++ == TRIALS_CHARTED)
            break;
        const cJSON *storage = cJSON_GetObjectItemCaseSensitive(t, "storage");
        const struct {
            const cJSON *hist;
            const char *what;
        } h[] = {{cJSON_GetObjectItemCaseSensitive(t, "latency"), "Request latency"},
                 {cJSON_GetObjectItemCaseSensitive(storage, "read_latency"), "Storage reads"},
                 {cJSON_GetObjectItemCaseSensitive(storage, "write_latency"), "Storage writes"}};
        for (size_t k = 0; k < sizeof(h) / sizeof(h[0]); k++) {
            if (!html_is_histogram(h[k].hist))
                continue;
            if (ntrials > 1)
                snprintf(title, sizeof(title), "%s, trial %d", h[k].what, i);
            else
                snprintf(title, sizeof(title), "%s", h[k].what);
            html_latency_chart(out, title, h[k].hist);
        }
    }
}

/* Unknown workloads: every list of numbers as bars. */
static void list_charts(FILE *out, const cJSON *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, s)
    {
        int len = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || len < 2 || len > BARS_MAX || !cJSON_IsNumber(v->child))
            continue;
        char labels[BARS_MAX][12], title[160];
        struct mlpio_svg_bar bars[BARS_MAX];
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
        bars_figure(out, &c, bars, n);
    }
}

/* A table's heading (", trial N" when there are several) and its column heads. */
static void trial_table_begin(FILE *out, const char *title, int ntrials, int trial,
                              const char *columns)
{
    fprintf(out, "<h3>%s", title);
    if (ntrials > 1)
        fprintf(out, ", trial %d", trial);
    fprintf(out, "</h3><table><thead><tr>%s</tr></thead><tbody>\n", columns);
}

static const char *yes_no(const cJSON *flag)
{
    return cJSON_IsTrue(flag) ? "yes" : "<strong>no</strong>";
}

static void qos_table(FILE *out, const cJSON *qos, int ntrials, int trial)
{
    trial_table_begin(out, "Latency targets by class", ntrials, trial,
                      "<th>class</th><th>requests</th><th>percentile</th><th>target (s)</th>"
                      "<th>measured (s)</th><th>met</th>");
    const cJSON *cls, *target;
    cJSON_ArrayForEach(cls, qos)
    {
        cJSON_ArrayForEach(target, cJSON_GetObjectItemCaseSensitive(cls, "targets"))
        {
            fputs("<tr><td>", out);
            html_esc(out, cls->string);
            fprintf(out,
                    "</td><td class=\"n\">%.0f</td><td class=\"n\">p%g</td>"
                    "<td class=\"n\">%.4g</td><td class=\"n\">%.4g</td><td>%s</td></tr>\n",
                    html_num(cls, "requests"), html_num(target, "percentile"),
                    html_num(target, "target_seconds"), html_num(target, "measured_seconds"),
                    yes_no(cJSON_GetObjectItemCaseSensitive(target, "met")));
        }
    }
    fputs("</tbody></table>\n", out);
}

static void checks_table(FILE *out, const cJSON *checks, int ntrials, int trial)
{
    trial_table_begin(out, "Checks", ntrials, trial,
                      "<th>check</th><th>value</th><th>limit</th><th>passed</th>");
    const cJSON *ck;
    cJSON_ArrayForEach(ck, checks)
    {
        fputs("<tr><td>", out);
        html_key(out, html_str(ck, "name"));
        fprintf(out, "</td><td class=\"n\">%.4g</td><td>", html_num(ck, "value"));
        html_esc(out, html_str(ck, "limit"));
        fprintf(out, " %.4g</td><td>%s</td></tr>\n", html_num(ck, "threshold"),
                yes_no(cJSON_GetObjectItemCaseSensitive(ck, "pass")));
    }
    fputs("</tbody></table>\n", out);
}

/* The KV cache's service targets and pass/fail checks, per trial. */
static void kvcache_tables(FILE *out, const cJSON *trials)
{
    int ntrials = cJSON_GetArraySize(trials), i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, trials)
    {
        i++;
        const cJSON *qos = cJSON_GetObjectItemCaseSensitive(t, "qos");
        const cJSON *checks = cJSON_GetObjectItemCaseSensitive(t, "checks");
        if (cJSON_GetArraySize(qos) > 0)
            qos_table(out, qos, ntrials, i);
        if (cJSON_GetArraySize(checks) > 0)
            checks_table(out, checks, ntrials, i);
    }
}

static bool is_benchmark(const cJSON *m, const cJSON *s, const char *name)
{
    const char *b = html_str(m, "benchmark");
    b = b ? b : html_str(s, "benchmark");
    return b && !strcmp(b, name);
}

void html_run_figures(FILE *out, const cJSON *m, const cJSON *s, const cJSON *events)
{
    if (s) {
        fputs("<dl class=\"figs\">", out);
        figure_list(out, m, s, NULL);
        fputs("</dl>\n", out);
        if (html_str(s, "units")) {
            fputs("<p class=\"muted\">Units: ", out);
            html_esc(out, html_str(s, "units"));
            fputs(".</p>\n", out);
        }
    }
    fputs("<div class=\"charts\">\n", out);
    int timed = html_throughput_charts(out, events);
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(s, "train_au_percentage");
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    if (cJSON_GetArraySize(au) > 0)
        au_chart(out, m, au, 0, 0);
    if (cJSON_GetArraySize(trials) > 0)
        hit_rate_chart(out, trials, 0, 0);
    if (s) {
        spread_charts(out, s);
        latency_charts(out, s);
        if (!is_benchmark(m, s, "checkpointing") && !is_benchmark(m, s, "training") &&
            !is_benchmark(m, s, "kvcache"))
            list_charts(out, s);
    }
    fputs("</div>\n", out);
    if (!timed)
        fputs("<p class=\"muted\">No throughput over time: the event log has no events with "
              "a rate.</p>\n",
              out);
    kvcache_tables(out, trials);
}

bool html_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    const int height = 150;
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(s, "train_au_percentage");
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    const cJSON *save = cJSON_GetObjectItemCaseSensitive(s, "save_checkpoint_io_GB_per_second");
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(s, "load_checkpoint_io_GB_per_second");
    if (cJSON_GetArraySize(au) > 0) {
        au_chart(out, m, au, width, height);
        return true;
    }
    if (cJSON_GetArraySize(trials) > 0) {
        hit_rate_chart(out, trials, width, height);
        return true;
    }
    if (cJSON_GetArraySize(save) + cJSON_GetArraySize(load) == 0)
        return false;
    /* GB/s of each checkpoint, saved and loaded. */
    double x[2][BARS_MAX], y[2][BARS_MAX];
    struct mlpio_svg_series series[2] = {{"save", x[0], y[0], 0}, {"load", x[1], y[1], 0}};
    const cJSON *lists[2] = {save, load};
    for (int k = 0; k < 2; k++) {
        const cJSON *e;
        size_t n = 0;
        cJSON_ArrayForEach(e, lists[k])
        {
            if (n == BARS_MAX)
                break;
            x[k][n] = (double)n + 1;
            y[k][n++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        }
        series[k].n = n;
    }
    struct mlpio_svg_chart c = {.title = "GB/s per checkpoint",
                                .x_label = "checkpoint",
                                .y_label = "GB/s",
                                .width = width,
                                .height = height,
                                .x_integer = true};
    fputs("<figure>", out);
    mlpio_svg_line_chart(out, &c, series, 2);
    fputs("</figure>\n", out);
    return true;
}
