/* mlpio HTML report: what each benchmark adds to the figures every run gets. One line per
 * built-in benchmark says which of its charts and tables go where; the pages look a run's
 * benchmark up here and never by name elsewhere. A benchmark without a line (built in or
 * added) gets the generic figures alone, and every list of numbers of its summary as bars.
 */
#include "report/html.h"
#include "report/html_impl.h"

#include <math.h>
#include <string.h>

#include "report/svg.h"

#define TRIALS_CHARTED 4

/* ---- training ----------------------------------------------------------------------------- */

/* The AU the rules require (metric.au of the run's configuration, in %), and its label. */
static double au_minimum(const cJSON *metadata, char *label, size_t len)
{
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(metadata, "config"), "metric");
    double min = html_num(metric, "au") * 100;
    snprintf(label, len, "minimum %g %%", min);
    return min;
}

/* AU per epoch against the minimum the rules set. */
static void au_chart(FILE *out, const cJSON *m, const cJSON *au, int width, int height)
{
    char labels[HTML_BARS_MAX][16];
    struct mlpio_svg_bar bars[HTML_BARS_MAX];
    size_t n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, au)
    {
        if (n == HTML_BARS_MAX)
            break;
        snprintf(labels[n], sizeof(labels[n]), width > 0 && width < 400 ? "%zu" : "epoch %zu",
                 n + 1);
        bars[n] = (struct mlpio_svg_bar){labels[n], cJSON_IsNumber(v) ? v->valuedouble : NAN};
        n++;
    }
    char label[64];
    double min = au_minimum(m, label, sizeof(label));
    struct mlpio_svg_chart c = {.title = "Accelerator utilisation (AU) per epoch",
                                .x_label = "epoch",
                                .y_label = "AU (%)",
                                .width = width,
                                .height = height,
                                .has_threshold = isfinite(min),
                                .threshold = min,
                                .threshold_label = label,
                                .below_is_bad = true};
    html_bars_figure(out, &c, bars, n);
}

static void training_charts(FILE *out, const cJSON *m, const cJSON *s)
{
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(s, "train_au_percentage");
    if (cJSON_GetArraySize(au) > 0)
        au_chart(out, m, au, 0, 0);
}

static bool training_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(s, "train_au_percentage");
    if (cJSON_GetArraySize(au) == 0)
        return false;
    au_chart(out, m, au, width, HTML_SMALL_CHART_HEIGHT);
    return true;
}

/* ---- kvcache ------------------------------------------------------------------------------ */

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
    html_bars_figure(out, &c, bars, n);
}

static void kvcache_charts(FILE *out, const cJSON *m, const cJSON *s)
{
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    if (cJSON_GetArraySize(trials) > 0)
        hit_rate_chart(out, trials, 0, 0);
}

/* The latencies of the first trials: of the requests, and of the storage's reads and
 * writes. */
static void kvcache_trial_latencies(FILE *out, const cJSON *m, const cJSON *s)
{
    char title[160];
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
            html_row_begin(out, NULL);
            html_esc(out, cls->string);
            html_row_cellf(out, "n", "%.0f", html_num(cls, "requests"));
            html_row_cellf(out, "n", "p%g", html_num(target, "percentile"));
            html_row_cellf(out, "n", "%.4g", html_num(target, "target_seconds"));
            html_row_cellf(out, "n", "%.4g", html_num(target, "measured_seconds"));
            html_row_cellf(out, NULL, "%s",
                           yes_no(cJSON_GetObjectItemCaseSensitive(target, "met")));
            html_row_end(out);
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
        html_row_begin(out, NULL);
        html_key(out, html_str(ck, "name"));
        html_row_cellf(out, "n", "%.4g", html_num(ck, "value"));
        html_row_text(out, NULL, html_str(ck, "limit"));
        fprintf(out, " %.4g", html_num(ck, "threshold"));
        html_row_cellf(out, NULL, "%s", yes_no(cJSON_GetObjectItemCaseSensitive(ck, "pass")));
        html_row_end(out);
    }
    fputs("</tbody></table>\n", out);
}

/* The service targets and pass/fail checks, per trial. */
static void kvcache_tables(FILE *out, const cJSON *m, const cJSON *s)
{
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
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

static bool kvcache_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    if (cJSON_GetArraySize(trials) == 0)
        return false;
    hit_rate_chart(out, trials, width, HTML_SMALL_CHART_HEIGHT);
    return true;
}

/* ---- checkpointing ------------------------------------------------------------------------ */

/* GB/s of each checkpoint, saved and loaded. */
static bool checkpointing_small_chart(FILE *out, const cJSON *m, const cJSON *s, int width)
{
    const cJSON *save = cJSON_GetObjectItemCaseSensitive(s, "save_checkpoint_io_GB_per_second");
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(s, "load_checkpoint_io_GB_per_second");
    if (cJSON_GetArraySize(save) + cJSON_GetArraySize(load) == 0)
        return false;
    double x[2][HTML_BARS_MAX], y[2][HTML_BARS_MAX];
    struct mlpio_svg_series series[2] = {{"save", x[0], y[0], 0}, {"load", x[1], y[1], 0}};
    const cJSON *lists[2] = {save, load};
    for (int k = 0; k < 2; k++) {
        const cJSON *e;
        size_t n = 0;
        cJSON_ArrayForEach(e, lists[k])
        {
            if (n == HTML_BARS_MAX)
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
                                .height = HTML_SMALL_CHART_HEIGHT,
                                .x_integer = true};
    fputs("<figure>", out);
    mlpio_svg_line_chart(out, &c, series, 2);
    fputs("</figure>\n", out);
    return true;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const struct mlpio_html_sections builtin[] = {
    {.benchmark = "checkpointing", .small_chart = checkpointing_small_chart},
    {.benchmark = "training",
     .run_charts = training_charts,
     .small_chart = training_small_chart,
     .own_verdict = "train_au_meet_expectation",
     .group_figure = "train_au_mean_percentage",
     .group_figure_title = "accelerator utilisation (AU)",
     .group_figure_axis = "AU (%)",
     .group_minimum = au_minimum},
    {.benchmark = "kvcache",
     .run_charts = kvcache_charts,
     .more_charts = kvcache_trial_latencies,
     .tables = kvcache_tables,
     .small_chart = kvcache_small_chart},
};
enum { NBUILTIN = sizeof(builtin) / sizeof(builtin[0]) };

static struct mlpio_html_sections added[MLPIO_HTML_SECTIONS_MAX];
static int nadded;

const struct mlpio_html_sections *html_sections_of(const char *benchmark)
{
    for (int i = 0; benchmark && i < NBUILTIN; i++)
        if (!strcmp(builtin[i].benchmark, benchmark))
            return &builtin[i];
    for (int i = 0; benchmark && i < nadded; i++)
        if (!strcmp(added[i].benchmark, benchmark))
            return &added[i];
    return NULL;
}

const char *html_benchmark_of(const cJSON *metadata, const cJSON *summary)
{
    const char *b = html_str(metadata, "benchmark");
    return b ? b : html_str(summary, "benchmark");
}

int mlpio_html_sections_add(const struct mlpio_html_sections *sections)
{
    if (!sections || !sections->benchmark || !*sections->benchmark ||
        html_sections_of(sections->benchmark) || nadded == MLPIO_HTML_SECTIONS_MAX)
        return -1;
    added[nadded++] = *sections;
    return 0;
}
