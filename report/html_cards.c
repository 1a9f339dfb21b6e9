/* mlpio HTML report: the figures of a results tree. For each benchmark, model and command
 * with several runs, a chart of its figures across the runs (the one its benchmark is judged
 * on, training's AU, always); then one card per run with its figures and one small chart (the
 * full charts are in the run's own page). Failed runs are in no chart: their card shows their
 * error.
 */
#include "report/html.h"
#include "report/html_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define CARD_FIGURES 8
#define CARD_CHART_WIDTH 340
#define GROUP_CHARTS_MAX 12
#define GROUP_BARS_MAX 40

struct group_buffers {
    double *x, *y;
    struct mlpio_svg_bar *bars;
    char (*labels)[32];
};

/* Above this many bars a whole run id (YYYYMMDD_HHMMSS) no longer fits under its bar. */
#define BARS_WHOLE_IDS 3

/* A bar's label: the run id, only its time of day (HHMMSS) when many bars share the axis. */
static void run_label(char *buf, size_t len, const cJSON *run, size_t bars)
{
    const char *id = html_tree_or_unknown(html_str(run, "run_id"));
    const char *time = strchr(id, '_');
    snprintf(buf, len, "%s", bars > BARS_WHOLE_IDS && time && time[1] ? time + 1 : id);
}

static const char *run_axis(size_t bars)
{
    return bars > BARS_WHOLE_IDS ? "run id (its time, HHMMSS)" : "run id";
}

/* Whether run j is charted with the group of run i: same group, and it did not fail. */
static bool charted_with(const struct html_tree *t, int j, int i)
{
    return html_tree_same_group(t->run[j], t->run[i]) && !html_tree_failed(t->run[j]);
}

/* How many runs of the group of run i are charted. */
static size_t group_size(const struct html_tree *t, int i)
{
    size_t n = 0;
    for (int j = i; j < t->nruns; j++)
        n += charted_with(t, j, i);
    return n;
}

/* The figure key across the runs of the group of run i, if it varies: bars for a few runs, a
 * line for many. */
static bool group_chart(FILE *out, const struct html_tree *t, int i, const char *key,
                        struct group_buffers *g)
{
    size_t n = 0, total = group_size(t, i);
    double lo = INFINITY, hi = -INFINITY;
    for (int j = i; j < t->nruns; j++) {
        if (!charted_with(t, j, i))
            continue;
        double v = html_num(cJSON_GetObjectItemCaseSensitive(t->run[j], "figures"), key);
        run_label(g->labels[n], sizeof(g->labels[n]), t->run[j], total);
        g->x[n] = (double)n + 1, g->y[n] = v;
        g->bars[n] = (struct mlpio_svg_bar){g->labels[n], v};
        n++;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (n < 2 || !(hi > lo))
        return false;
    char title[200], ylabel[96];
    snprintf(title, sizeof(title), "%s %s %s: %s",
             html_tree_or_unknown(html_str(t->run[i], "benchmark")),
             html_tree_or_unknown(html_str(t->run[i], "model")),
             html_tree_or_unknown(html_str(t->run[i], "command")),
             html_key_text(ylabel, sizeof(ylabel), key));
    struct mlpio_svg_chart c = {.title = title,
                                .x_label = n <= GROUP_BARS_MAX ? run_axis(total)
                                                               : "run (in the order listed)",
                                .y_label = ylabel,
                                .x_integer = true};
    struct mlpio_svg_series s = {NULL, g->x, g->y, n};
    fputs("<figure>", out);
    if (n <= GROUP_BARS_MAX)
        mlpio_svg_bar_chart(out, &c, g->bars, n);
    else
        mlpio_svg_line_chart(out, &c, &s, 1);
    fputs("</figure>\n", out);
    return true;
}

/* The figure a benchmark is judged on (its sections' group_figure, training's AU) of each run
 * of the group of run i against the minimum the rules set, whether or not it varies, when
 * there are several. */
static bool judged_group_chart(FILE *out, const struct html_tree *t, int i,
                               const struct mlpio_html_sections *sec, struct group_buffers *g)
{
    const char *key = sec->group_figure;
    size_t n = 0, total = group_size(t, i);
    double min = NAN;
    char label[64] = "";
    for (int j = i; j < t->nruns && n < GROUP_BARS_MAX; j++) {
        if (!charted_with(t, j, i))
            continue;
        double v = html_num(cJSON_GetObjectItemCaseSensitive(t->run[j], "figures"), key);
        if (!isfinite(v))
            continue;
        if (!isfinite(min) && sec->group_minimum)
            min = sec->group_minimum(cJSON_GetObjectItemCaseSensitive(t->run[j], "metadata"), label,
                                     sizeof(label));
        run_label(g->labels[n], sizeof(g->labels[n]), t->run[j], total);
        g->bars[n] = (struct mlpio_svg_bar){g->labels[n], v};
        n++;
    }
    if (n < 2) /* one run's figure is its card's business (training: its AU per epoch) */
        return false;
    char title[200], name[96];
    html_key_text(name, sizeof(name), key);
    snprintf(title, sizeof(title), "%s %s %s: %s",
             html_tree_or_unknown(html_str(t->run[i], "benchmark")),
             html_tree_or_unknown(html_str(t->run[i], "model")),
             html_tree_or_unknown(html_str(t->run[i], "command")),
             sec->group_figure_title ? sec->group_figure_title : name);
    struct mlpio_svg_chart c = {.title = title,
                                .x_label = run_axis(total),
                                .y_label = sec->group_figure_axis ? sec->group_figure_axis : name,
                                .has_threshold = isfinite(min),
                                .threshold = min,
                                .threshold_label = label,
                                .below_is_bad = true};
    fputs("<figure>", out);
    mlpio_svg_bar_chart(out, &c, g->bars, n);
    fputs("</figure>\n", out);
    return true;
}

/* For each benchmark/model/command with several runs, the figure its benchmark is judged on
 * (training's AU), and the first two others that differ between its runs. Failed runs are
 * left out: they measured nothing. */
static void group_charts(FILE *out, const struct html_tree *t)
{
    size_t n = (size_t)t->nruns;
    struct group_buffers g = {malloc(n * sizeof(*g.x)), malloc(n * sizeof(*g.y)),
                              malloc(n * sizeof(*g.bars)), malloc(n * sizeof(*g.labels))};
    int charts = 0;
    for (int i = 0; g.x && g.y && g.bars && g.labels && i < t->nruns; i++) {
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = !html_tree_same_group(t->run[j], t->run[i]);
        if (!first)
            continue;
        const struct mlpio_html_sections *sec = html_sections_of(html_str(t->run[i], "benchmark"));
        const char *judged = sec ? sec->group_figure : NULL;
        if (judged && charts < GROUP_CHARTS_MAX && judged_group_chart(out, t, i, sec, &g))
            charts++;
        /* The figures to compare: those of the group's first charted run that has some. */
        const cJSON *figures = NULL;
        for (int j = i; j < t->nruns && !figures; j++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(t->run[j], "figures");
            if (charted_with(t, j, i) && cJSON_GetArraySize(f) > 0)
                figures = f;
        }
        int drawn = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, figures)
        {
            if (drawn == 2 || charts == GROUP_CHARTS_MAX)
                break;
            if (judged && !strcmp(f->string, judged))
                continue; /* charted above */
            if (cJSON_IsNumber(f) && group_chart(out, t, i, f->string, &g))
                drawn++, charts++;
        }
    }
    free(g.x);
    free(g.y);
    free(g.bars);
    free(g.labels);
}

static void card(FILE *out, const struct html_tree *t, int i)
{
    const cJSON *run = t->run[i];
    fprintf(out, "<div class=\"card\" id=\"r%d\"><div>", i);
    html_badge(out, html_tree_verdict_of(run));
    fputc(' ', out);
    html_tree_run_name(out, run);
    fputs("</div><div class=\"path\">", out);
    html_esc(out, html_str(run, "path"));
    fputs("</div>", out);
    if (html_tree_failed(run)) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(run, "error");
        fputs("<p class=\"note bad\">Failed: ", out);
        html_esc(out, html_tree_or_unknown(html_str(error, "error")));
        fputs(" No figures: the run measured nothing to chart.</p><a href=\"", out);
        html_tree_run_href(out, t, run);
        fputs("\">full report</a></div>\n", out);
        return;
    }
    fputs("<dl class=\"figs\">", out);
    int n = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(run, "figures"))
    {
        if (n++ == CARD_FIGURES)
            break;
        fputs("<div><dt>", out);
        html_key(out, f->string);
        fputs("</dt><dd>", out);
        html_figure(out, f->string, f);
        fputs("</dd></div>", out);
    }
    fputs("</dl>", out);
    const cJSON *summary = cJSON_GetObjectItemCaseSensitive(run, "summary");
    if (cJSON_IsObject(summary))
        html_small_chart(out, cJSON_GetObjectItemCaseSensitive(run, "metadata"), summary,
                         CARD_CHART_WIDTH);
    else
        fputs("<p class=\"muted\">No summary.json.</p>", out);
    fputs("<a href=\"", out);
    html_tree_run_href(out, t, run);
    fputs("\">full report</a></div>\n", out);
}

void html_tree_charts(FILE *out, const struct html_tree *t)
{
    fputs("<div class=\"charts\">", out);
    group_charts(out, t);
    fputs("</div>\n", out);
}

void html_tree_cards(FILE *out, const struct html_tree *t)
{
    fputs("<div class=\"cards\">\n", out);
    for (int i = 0; i < t->nruns; i++)
        card(out, t, i);
    fputs("</div>\n", out);
}
