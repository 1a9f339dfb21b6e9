/* mlpio rules engine: the submission checks of kvcache (WORKLOADS.md section 3), see
 * submission.h.
 *
 * A run belongs to the group of the CLOSED option its configuration is exactly ("option 2"),
 * as the caller found it (struct mlpio_submission_run.preset), or to its model's "custom"
 * group. One more group, "options" of model "*", holds every kvcache run and requires a
 * completed run of each option.
 */
#include "rules/submission_impl.h"

#include <stdio.h>
#include <string.h>

/* 3 trials of each of the options 1, 2 and 3. */
/* When the edition does not say (edition.h). */
#define KV_TRIALS 3
static const char *const kv_options[] = {"1", "2", "3"};

static void group_kvcache(const struct mlpio_submission_run *r, char *name, size_t n)
{
    if (r->preset)
        snprintf(name, n, "option %s", r->preset);
    else
        snprintf(name, n, "custom");
}

static int kv_option_of(const struct mlpio_submission_group *g)
{
    return strncmp(g->name, "option ", 7) == 0;
}

/* Each trial's figures are already summed over ranks and its P95s the worst rank's. */
static double kv_trials(const struct mlpio_submission_group *g, cJSON *figures)
{
    struct mlpio_submission_mean tps = {0}, rps = {0}, rbw = {0}, wbw = {0}, hit = {0}, rp95 = {0},
                                 wp95 = {0}, ref_tps = {0}, ref_storage_tps = {0};
    double trials = 0;
    for (int i = 0; i < g->count; i++) {
        const cJSON *list = mlpio_submission_at(g->runs[i]->summary, "trials"), *t;
        double asked = 0;
        if (!cJSON_IsArray(list)) {
            mlpio_submission_num(g->runs[i]->metadata, "config.kvcache.trials", &asked);
            trials += asked;
            continue;
        }
        cJSON_ArrayForEach(t, list)
        {
            double x;
            trials++;
            if (mlpio_submission_num(t, "tokens_per_second_wall", &x))
                mlpio_submission_mean_add(&tps, x);
            if (mlpio_submission_num(t, "requests_per_second", &x))
                mlpio_submission_mean_add(&rps, x);
            if (mlpio_submission_num(t, "storage.read_bandwidth_GBps", &x))
                mlpio_submission_mean_add(&rbw, x);
            if (mlpio_submission_num(t, "storage.write_bandwidth_GBps", &x))
                mlpio_submission_mean_add(&wbw, x);
            if (mlpio_submission_num(t, "cache_hit_rate", &x))
                mlpio_submission_mean_add(&hit, x);
            if (mlpio_submission_num(t, "storage.read_p95_worst_rank", &x))
                mlpio_submission_mean_add(&rp95, x);
            if (mlpio_submission_num(t, "storage.write_p95_worst_rank", &x))
                mlpio_submission_mean_add(&wp95, x);
            if (mlpio_submission_num(t, "reference.avg_throughput_tokens_per_sec", &x))
                mlpio_submission_mean_add(&ref_tps, x);
            if (mlpio_submission_num(t, "reference.storage_throughput_tokens_per_sec", &x))
                mlpio_submission_mean_add(&ref_storage_tps, x);
        }
    }
    mlpio_submission_figure(figures, "runs", g->count);
    mlpio_submission_figure(figures, "trials", trials);
    mlpio_submission_figure_mean(figures, "tokens_per_second", &tps);
    mlpio_submission_figure_mean(figures, "requests_per_second", &rps);
    mlpio_submission_figure_mean(figures, "storage_read_bandwidth_GBps", &rbw);
    mlpio_submission_figure_mean(figures, "storage_write_bandwidth_GBps", &wbw);
    mlpio_submission_figure_mean(figures, "cache_hit_rate", &hit);
    mlpio_submission_figure_mean(figures, "avg_throughput_tokens_per_sec", &ref_tps);
    mlpio_submission_figure_mean(figures, "storage_throughput_tokens_per_sec", &ref_storage_tps);
    if (rp95.n)
        mlpio_submission_figure(figures, "storage_read_p95_seconds", rp95.max);
    if (wp95.n)
        mlpio_submission_figure(figures, "storage_write_p95_seconds", wp95.max);
    return trials;
}

/* The options ran in one invocation, in turn, with the edition's delay between them
 * (Rules.md 6.3.2.1; app/sequence.h records options.option_sequence). */
static int judge_sequence(const struct mlpio_submission_group *g,
                          const struct mlpio_submission_run *const *runs, size_t n,
                          struct mlpio_verdict_report *v)
{
    double delay = 0;
    mlpio_submission_num(mlpio_submission_edition(g), "inter_option_delay_s", &delay);
    const char *id = NULL;
    char hint[MLPIO_RULES_TEXT_MAX];
    snprintf(hint, sizeof(hint), "run mpirun -np N mlpio kvcache run --option all --seed 42");
    for (size_t o = 0; o < n; o++) {
        const char *mine = mlpio_submission_str(runs[o]->metadata, "options.option_sequence.id");
        if (!mine || (id && strcmp(mine, id) != 0))
            return mlpio_verdict_add(
                v, MLPIO_ISSUE_OPEN, "options", "options 1, 2 and 3 of one --option all",
                mine ? "runs of several invocations" : "a run outside any sequence", hint,
                "a CLOSED kvcache submission runs the options in one invocation, one after the "
                "other with %g s between them; %s was %s",
                delay, runs[o]->path, mine ? "run by another invocation" : "run on its own");
        id = mine;
    }
    for (size_t o = 1; o < n; o++) {
        double end = 0, start = 0;
        if (!mlpio_submission_num(runs[o - 1]->metadata, "end_time.epoch", &end) ||
            !mlpio_submission_num(runs[o]->metadata, "start_time.epoch", &start))
            continue;
        if (start - end >= delay - 1) /* clocks read to the second */
            continue;
        char exp[64], act[64];
        snprintf(exp, sizeof(exp), ">= %g s between options", delay);
        snprintf(act, sizeof(act), "%.0f s before option %s", start - end, kv_options[o]);
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "options", exp, act, hint,
                                 "option %s started %.0f s after option %s ended; the rules wait "
                                 "%g s between options so that each starts from settled storage",
                                 kv_options[o], start - end, kv_options[o - 1], delay);
    }
    return 0;
}

static int judge_options(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                         cJSON *figures)
{
    char missing[64] = "", hint[MLPIO_RULES_TEXT_MAX] = "";
    int present = 0, nmissing = 0;
    const struct mlpio_submission_run *chosen[MLPIO_SUBMISSION_COUNT(kv_options)];
    for (size_t o = 0; o < MLPIO_SUBMISSION_COUNT(kv_options); o++) {
        int found = 0;
        for (int i = 0; i < g->count && !found; i++) {
            found = g->runs[i]->preset && strcmp(g->runs[i]->preset, kv_options[o]) == 0 &&
                    g->runs[i]->status && strcmp(g->runs[i]->status, "success") == 0;
            chosen[o] = g->runs[i];
        }
        if (found) {
            present++;
            continue;
        }
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof(missing) - used, "%s%s", nmissing ? ", " : "",
                 kv_options[o]);
        if (!nmissing)
            snprintf(hint, sizeof(hint), "run mpirun -np N mlpio kvcache run --option %s --seed 42",
                     kv_options[o]);
        nmissing++;
    }
    mlpio_submission_figure(figures, "options_present", present);
    if (!nmissing)
        return judge_sequence(g, chosen, MLPIO_SUBMISSION_COUNT(kv_options), v);
    char act[96];
    snprintf(act, sizeof(act), "option%s %s missing", nmissing > 1 ? "s" : "", missing);
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "options", "options 1, 2 and 3", act, hint,
                             "a CLOSED kvcache submission has a completed run of each of the "
                             "options 1, 2 and 3; no completed run matches option%s %s exactly",
                             nmissing > 1 ? "s" : "", missing);
}

static int judge_kvcache(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                         cJSON *figures)
{
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    /* The options group judges presence only: its runs' states are their own groups' issues. */
    if (strcmp(g->name, "options") == 0)
        return judge_options(g, v, figures);
    if (mlpio_submission_check_members(g, v))
        return -1;
    double trials = kv_trials(g, figures);
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(mlpio_submission_edition(g), "trials");
    int closed = cJSON_IsNumber(et) ? et->valueint : KV_TRIALS;
    if (!kv_option_of(g))
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "option", "option 1, 2 or 3",
                                 "another configuration",
                                 "run with --option 1, 2 or 3 and --seed 42",
                                 "the runs of %s match none of the CLOSED options: an OPEN "
                                 "submission at best",
                                 g->model);
    if (trials == closed)
        return 0;
    snprintf(exp, sizeof(exp), "%d (one run of %s)", closed, g->name);
    snprintf(act, sizeof(act), "%g in %d run%s", trials, g->count, g->count == 1 ? "" : "s");
    if (trials > closed)
        snprintf(hint, sizeof(hint),
                 "keep one run of %s: move the other run directories out of the results "
                 "directory",
                 g->name);
    else
        snprintf(hint, sizeof(hint), "run %s again with its %d trials (--%s)", g->name, closed,
                 g->name);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "kvcache.trials", exp, act, hint,
                             "each option of a kvcache submission reports the average of "
                             "exactly %d trials",
                             closed);
}

/* The "options" group over every kvcache run. */
static int extra_kvcache(struct mlpio_submission_groups *gs, const char *benchmark,
                         const struct mlpio_submission_run *runs, int n)
{
    struct mlpio_submission_group *all = NULL;
    for (int i = 0; i < n; i++) {
        if (!runs[i].benchmark || strcmp(runs[i].benchmark, benchmark) != 0)
            continue;
        if (!all && !(all = mlpio_submission_group_get(gs, benchmark, "*", "options")))
            return -1;
        if (mlpio_submission_group_add(all, &runs[i]))
            return -1;
    }
    return 0;
}

static const char *const checklist[] = {
    "run: one of the CLOSED options exactly (--option 1, 2 or 3: model, users per rank, "
    "duration, GPU and CPU budgets, concurrent allocations)",
    "run: seed 42, 3 trials, generation mode none, the reference's I/O and load model "
    "(kvcache.io_model=reference)",
    "run: the cache directory on another file system than the results (Rules.md 6.4.1)",
    "run: duration >= 30 s (else INVALID) and >= 60 s; users per rank >= 1 (else INVALID) and "
    ">= 10",
    "run: only the cache directory, storage capacity, I/O sizes, preconditioning and "
    "performance profile differ from the reference",
    "run: scale 1, an I/O API that stores data, no --verify, cache dir outside the results "
    "directory",
    "submission: a completed run of each of the options 1, 2 and 3",
    "submission: the three in one invocation, in turn, with the edition's delay between them "
    "(--option all)",
    "submission: exactly 3 trials per option",
    "submission: bandwidth and tokens/s summed over ranks, then averaged over trials; device "
    "P95 latencies the maximum over ranks and trials",
    NULL,
};

const struct mlpio_submission_rules mlpio_submission_kvcache = {
    .group_of = group_kvcache,
    .judge = judge_kvcache,
    .extra = extra_kvcache,
    .checklist = checklist,
};
