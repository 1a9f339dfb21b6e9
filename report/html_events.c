/* mlpio HTML report: throughput over time, from the event log.
 *
 * Events that report a rate over an interval (a checkpoint written or read, an epoch, a
 * dataset generated, a KV-cache trial) give a level segment from the start to the end of
 * their interval; "progress" events give the rate between two consecutive progress events of
 * a phase. Progress counted in seconds is a clock, not a throughput, and is not drawn; nor is
 * the progress of a phase that has its own rate events. One series per phase, one chart per
 * unit.
 */
#include "report/html_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define SERIES_MAX 12
#define POINTS_DRAWN 400 /* more points are averaged down to this many */
#define GIB 1073741824.0
#define MIB 1048576.0

struct series {
    char phase[48], unit[32];
    double *x, *y;
    size_t n, cap;
    /* progress: the last event of the phase */
    double last_t, last_done;
    bool progress;
};

struct series_set {
    struct series s[SERIES_MAX];
    size_t n;
};

static struct series *series_of(struct series_set *set, const char *phase, const char *unit,
                                bool progress)
{
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->s[i].phase, phase) && set->s[i].progress == progress &&
            (progress || !strcmp(set->s[i].unit, unit)))
            return &set->s[i];
    if (set->n == SERIES_MAX)
        return NULL;
    struct series *s = &set->s[set->n++];
    memset(s, 0, sizeof(*s));
    snprintf(s->phase, sizeof(s->phase), "%s", phase);
    snprintf(s->unit, sizeof(s->unit), "%s", unit);
    s->progress = progress;
    s->last_t = NAN;
    return s;
}

/* Out of memory, the point is left out: the chart is for people, not for the record. */
static void point(struct series *s, double x, double y)
{
    if (!s || !isfinite(x) || !isfinite(y))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof(*nx));
        if (!nx)
            return;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof(*ny));
        if (!ny)
            return;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

/* A rate held over [end - duration, end]. */
static void interval(struct series_set *set, const char *phase, const char *unit, double end,
                     double duration, double rate)
{
    struct series *s = series_of(set, phase, unit, false);
    if (isfinite(duration) && duration > 0)
        point(s, end - duration, rate);
    point(s, end, rate);
}

static bool has_rate_events(const struct series_set *set, const char *phase)
{
    for (size_t i = 0; i < set->n; i++)
        if (!set->s[i].progress && !strcmp(set->s[i].phase, phase))
            return true;
    return false;
}

static void progress(struct series_set *set, const cJSON *ctx, double t)
{
    const char *unit = html_str(ctx, "unit"), *phase = html_str(ctx, "phase");
    double done = html_num(ctx, "done"), elapsed = html_num(ctx, "elapsed");
    if (!unit || !phase || !strcmp(unit, "s") || !isfinite(done))
        return;
    bool bytes = !strcmp(unit, "bytes");
    char per[40];
    snprintf(per, sizeof(per), "%s/s", bytes ? "GB" : unit);
    struct series *s = series_of(set, phase, per, true);
    if (!s)
        return;
    double dt, dd;
    if (isfinite(s->last_t))
        dt = t - s->last_t, dd = done - s->last_done;
    else
        dt = elapsed, dd = done;
    s->last_t = t;
    s->last_done = done;
    if (isfinite(dt) && dt > 1e-6)
        point(s, t, dd / dt / (bytes ? GIB : 1));
}

/* Time zero: the "start" event, else the first event. */
static double origin(const cJSON *events)
{
    double first = NAN;
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        double ts = html_num(e, "timestamp");
        const char *name = html_str(e, "name");
        if (name && !strcmp(name, "start") && isfinite(ts))
            return ts;
        if (!isfinite(first))
            first = ts;
    }
    return first;
}

static void collect(struct series_set *set, const cJSON *events)
{
    double t0 = origin(events), trial_start = NAN;
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        double ts = html_num(e, "timestamp");
        const char *name = html_str(e, "name");
        if (!name || !isfinite(ts))
            continue;
        double t = ts - t0;
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(e, "context");
        double d = html_num(ctx, "duration_seconds");
        if (!strcmp(name, "write") || !strcmp(name, "read"))
            interval(set, name, "GB/s", t, d, html_num(ctx, "GB_per_second"));
        else if (!strcmp(name, "epoch"))
            interval(set, "train", "samples/s", t, d,
                     html_num(ctx, "throughput_samples_per_second"));
        else if (!strcmp(name, "datagen"))
            interval(set, "datagen", "MB/s", t, d, html_num(ctx, "bytes") / MIB / d);
        else if (!strcmp(name, "trial_begin"))
            trial_start = t;
        else if (!strcmp(name, "trial_end"))
            interval(set, "trials", "tokens/s", t, t - trial_start,
                     html_num(ctx, "tokens_per_second_wall"));
    }
    /* Progress second, so that phases with rate events are known. */
    cJSON_ArrayForEach(e, events)
    {
        const char *name = html_str(e, "name");
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(e, "context");
        const char *phase = html_str(ctx, "phase");
        if (name && !strcmp(name, "progress") && phase && !has_rate_events(set, phase))
            progress(set, ctx, html_num(e, "timestamp") - t0);
    }
}

/* Average runs of points down to about POINTS_DRAWN. */
static void thin(struct series *s)
{
    if (s->n <= POINTS_DRAWN)
        return;
    size_t group = (s->n + POINTS_DRAWN - 1) / POINTS_DRAWN, m = 0;
    for (size_t i = 0; i < s->n; i += group, m++) {
        size_t end = i + group < s->n ? i + group : s->n;
        double sx = 0, sy = 0;
        for (size_t j = i; j < end; j++)
            sx += s->x[j], sy += s->y[j];
        s->x[m] = sx / (double)(end - i);
        s->y[m] = sy / (double)(end - i);
    }
    s->n = m;
}

int html_throughput_charts(FILE *out, const cJSON *events)
{
    struct series_set *set = calloc(1, sizeof(*set));
    if (!set)
        return 0;
    collect(set, events);
    int charts = 0;
    bool done[SERIES_MAX] = {false};
    for (size_t i = 0; i < set->n; i++) {
        if (done[i] || set->s[i].n == 0)
            continue;
        struct mlpio_svg_series group[SERIES_MAX];
        size_t k = 0;
        for (size_t j = i; j < set->n; j++) {
            if (done[j] || set->s[j].n == 0 || strcmp(set->s[j].unit, set->s[i].unit))
                continue;
            done[j] = true;
            thin(&set->s[j]);
            group[k++] =
                (struct mlpio_svg_series){set->s[j].phase, set->s[j].x, set->s[j].y, set->s[j].n};
        }
        /* One chart per unit, each with its own title. */
        char title[96];
        snprintf(title, sizeof(title), "Throughput over time, by phase (%s)", set->s[i].unit);
        struct mlpio_svg_chart c = {
            .title = title, .x_label = "time since start (s)", .y_label = set->s[i].unit};
        fputs("<figure>", out);
        mlpio_svg_line_chart(out, &c, group, k);
        fputs("</figure>\n", out);
        charts++;
    }
    for (size_t i = 0; i < set->n; i++) {
        free(set->s[i].x);
        free(set->s[i].y);
    }
    free(set);
    return charts;
}
