/* mlpio progress line and progress events (see progress.h). */
#include "app/progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/run.h"

#define REDRAW_SECONDS 0.1
#define DEFAULT_EVENT_SECONDS 5.0

struct mlpio_progress {
    struct mlpio_run *run;
    char phase[48];
    char unit[16];
    double total, done;
    char count_name[24]; /* second figure, or "" */
    double count;
    char note[64]; /* or "" */
    double start, last_draw, last_event, event_every;
    bool tty;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void duration_text(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, len, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* A phase that counts seconds: its rate would always read 1.0/s. */
static bool counts_time(const char *unit)
{
    return strcmp(unit, "s") == 0;
}

void mlpio_progress_format(char *buf, unsigned len, const char *phase, double done, double total,
                           const char *unit, double elapsed)
{
    bool bytes = strcmp(unit, "bytes") == 0, time = counts_time(unit);
    double scale = bytes ? 1e9 : 1.0;
    double rate = time ? 1.0 : elapsed > 0 ? done / elapsed : 0;
    char amount[64], eta[24], rate_text[48] = "";
    if (total > 0)
        snprintf(amount, sizeof(amount), bytes ? "%.2f/%.2f GB" : "%.0f/%.0f %s", done / scale,
                 total / scale, unit);
    else
        snprintf(amount, sizeof(amount), bytes ? "%.2f GB" : "%.0f %s", done / scale, unit);
    if (!time)
        snprintf(rate_text, sizeof(rate_text), bytes ? "  %.2f GB/s" : "  %.1f/s", rate / scale);
    if (total > 0 && rate > 0)
        duration_text(eta, sizeof(eta), (total - done) / rate);
    else
        duration_text(eta, sizeof(eta), -1);
    if (total > 0)
        snprintf(buf, len, "[%s] %s (%.0f %%)%s  ETA %s", phase, amount,
                 100.0 * fmin(done / total, 1.0), rate_text, eta);
    else
        snprintf(buf, len, "[%s] %s%s", phase, amount, rate_text);
}

/* Whether progress lines reach a person. Under mpirun a rank's stdout is a pseudo-terminal of
 * the launcher even when the launcher itself writes into a file or pipe, so there the
 * launcher's own stdout decides (read from /proc, nothing is opened); where that cannot be
 * known (a remote daemon, srun) the answer is no: batch logs stay clean. */
static bool on_terminal(FILE *out)
{
    if (!isatty(fileno(out)))
        return false;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_RANK")) /* launched, not a singleton */
        return true;
    char link[64], target[256];
    snprintf(link, sizeof(link), "/proc/%ld/fd/1", (long)getppid());
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

struct mlpio_progress *mlpio_progress_start(struct mlpio_run *run, const char *phase, double total,
                                            const char *unit)
{
    if (!run || run->ctx->rank != 0)
        return NULL;
    struct mlpio_progress *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->run = run;
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    snprintf(p->unit, sizeof(p->unit), "%s", unit);
    p->total = total;
    p->start = p->last_draw = p->last_event = now_s();
    p->tty = run->ctx->level > MLPIO_LOG_QUIET && on_terminal(run->ctx->out);
    const char *every = getenv("MLPIO_PROGRESS_INTERVAL");
    p->event_every = every && atof(every) > 0 ? atof(every) : DEFAULT_EVENT_SECONDS;
    return p;
}

void mlpio_progress_count(struct mlpio_progress *p, const char *name, double count)
{
    if (!p)
        return;
    snprintf(p->count_name, sizeof(p->count_name), "%s", name);
    p->count = count;
}

void mlpio_progress_note(struct mlpio_progress *p, const char *text)
{
    if (!p)
        return;
    snprintf(p->note, sizeof(p->note), "%s", text ? text : "");
}

static void draw(struct mlpio_progress *p, double t, bool last)
{
    char line[320];
    mlpio_progress_format(line, 160, p->phase, p->done, p->total, p->unit, t - p->start);
    if (p->count_name[0]) {
        size_t n = strlen(line);
        double el = t - p->start;
        snprintf(line + n, sizeof(line) - n, "  %.0f %s (%.1f/s)", p->count, p->count_name,
                 el > 0 ? p->count / el : 0);
    }
    if (p->note[0]) {
        size_t n = strlen(line);
        snprintf(line + n, sizeof(line) - n, "  %s", p->note);
    }
    FILE *out = p->run->ctx->out;
    /* \r and erase-to-end-of-line: the line is redrawn in place */
    fprintf(out, "\r%s\033[K%s", line, last ? "\n" : "");
    fflush(out);
    p->last_draw = t;
}

static void event(struct mlpio_progress *p, double t)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "phase", p->phase);
    cJSON_AddNumberToObject(c, "done", p->done);
    if (p->total > 0)
        cJSON_AddNumberToObject(c, "total", p->total);
    cJSON_AddStringToObject(c, "unit", p->unit);
    double el = t - p->start;
    cJSON_AddNumberToObject(c, "elapsed", el);
    if (counts_time(p->unit)) {
        if (p->total > 0)
            cJSON_AddNumberToObject(c, "eta", p->total - p->done);
    } else {
        cJSON_AddNumberToObject(c, "rate", el > 0 ? p->done / el : 0);
        if (p->total > 0 && el > 0 && p->done > 0)
            cJSON_AddNumberToObject(c, "eta", (p->total - p->done) / (p->done / el));
    }
    if (p->count_name[0]) {
        cJSON *k = cJSON_AddObjectToObject(c, "count");
        cJSON_AddStringToObject(k, "name", p->count_name);
        cJSON_AddNumberToObject(k, "value", p->count);
        cJSON_AddNumberToObject(k, "rate", el > 0 ? p->count / el : 0);
    }
    if (p->note[0])
        cJSON_AddStringToObject(c, "note", p->note);
    mlpio_run_event(p->run, "progress", c);
    p->last_event = t;
}

void mlpio_progress_update(struct mlpio_progress *p, double done)
{
    if (!p)
        return;
    /* done may be an estimate (rank 0's share times the ranks): never past the total */
    p->done = p->total > 0 && done > p->total ? p->total : done;
    double t = now_s();
    if (p->tty && t - p->last_draw >= REDRAW_SECONDS)
        draw(p, t, false);
    if (t - p->last_event >= p->event_every)
        event(p, t);
}

void mlpio_progress_finish(struct mlpio_progress **pp)
{
    if (!pp || !*pp)
        return;
    struct mlpio_progress *p = *pp;
    double t = now_s();
    if (p->tty)
        draw(p, t, true);
    event(p, t);
    free(p);
    *pp = NULL;
}
