/* mlpio rules engine: submission checks, see submission.h.
 *
 * Grouping and what every group checks; each benchmark's own rules are in
 * submission_<benchmark>.c (submission_impl.h), reached through the registry of benchmarks
 * (benchmarks.c). A benchmark without rules of its own gets the generic ones here.
 */
#include "rules/submission_impl.h"

#include "rules/edition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- groups ------------------------------------------------------------------------------ */

static void groups_free(struct mlpio_submission_groups *gs)
{
    for (int i = 0; i < gs->count; i++) {
        free(gs->g[i].benchmark);
        free(gs->g[i].model);
        free(gs->g[i].name);
        free(gs->g[i].runs);
    }
    free(gs->g);
    memset(gs, 0, sizeof(*gs));
}

struct mlpio_submission_group *mlpio_submission_group_get(struct mlpio_submission_groups *gs,
                                                          const char *benchmark, const char *model,
                                                          const char *name)
{
    for (int i = 0; i < gs->count; i++) {
        struct mlpio_submission_group *g = &gs->g[i];
        if (!strcmp(g->benchmark, benchmark) && !strcmp(g->model, model) && !strcmp(g->name, name))
            return g;
    }
    if (gs->count == gs->cap) {
        int cap = gs->cap ? 2 * gs->cap : 8;
        struct mlpio_submission_group *grown = realloc(gs->g, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return NULL;
        gs->g = grown;
        gs->cap = cap;
    }
    struct mlpio_submission_group *g = &gs->g[gs->count];
    memset(g, 0, sizeof(*g));
    g->benchmark = strdup(benchmark);
    g->model = strdup(model);
    g->name = strdup(name);
    gs->count++; /* counted before the check so that groups_free frees what was allocated */
    return g->benchmark && g->model && g->name ? g : NULL;
}

int mlpio_submission_group_add(struct mlpio_submission_group *g,
                               const struct mlpio_submission_run *r)
{
    if (g->count == g->cap) {
        int cap = g->cap ? 2 * g->cap : 8;
        const struct mlpio_submission_run **grown = realloc(g->runs, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return -1;
        g->runs = grown;
        g->cap = cap;
    }
    g->runs[g->count++] = r;
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    const struct mlpio_submission_group *x = a, *y = b;
    int c = strcmp(x->benchmark, y->benchmark);
    if (!c)
        c = strcmp(x->model, y->model);
    return c ? c : strcmp(x->name, y->name);
}

const cJSON *mlpio_submission_edition(const struct mlpio_submission_group *g)
{
    for (int i = 0; i < g->count; i++)
        if (g->runs[i]->metadata)
            return cJSON_GetObjectItemCaseSensitive(
                mlpio_rules_edition_find(mlpio_rules_edition_of(g->runs[i]->metadata)),
                g->benchmark);
    return NULL;
}

/* ---- what every group checks ------------------------------------------------------------ */

int mlpio_submission_check_members(const struct mlpio_submission_group *g,
                                   struct mlpio_verdict_report *v)
{
    char names[MLPIO_RULES_TEXT_MAX] = "", act[64];
    int listed = 0, below = 0;
    enum mlpio_verdict worst = MLPIO_VERDICT_CLOSED;
    for (int i = 0; i < g->count; i++) {
        const struct mlpio_submission_run *r = g->runs[i];
        const char *status = r->status ? r->status : "unreadable";
        if (strcmp(status, "success") != 0 &&
            mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "runs", "success", status,
                              "rerun it, or move its directory out of the results directory",
                              "run %s is %s: a submission is made of runs that completed", r->path,
                              status))
            return -1;
        if (!r->judged || r->verdict == MLPIO_VERDICT_CLOSED)
            continue;
        below++;
        if (r->verdict > worst)
            worst = r->verdict;
        if (listed < 3) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof(names) - used, "%s%s (%s)", listed ? ", " : "", r->path,
                     mlpio_verdict_name(r->verdict));
            listed++;
        }
    }
    if (!below)
        return 0;
    snprintf(act, sizeof(act), "%d of %d runs %s", below, g->count, mlpio_verdict_name(worst));
    return mlpio_verdict_add(
        v, worst == MLPIO_VERDICT_INVALID ? MLPIO_ISSUE_INVALID : MLPIO_ISSUE_OPEN, "runs",
        "every run CLOSED", act,
        "fix the issues of each run (mlpio validate lists them) and rerun it",
        "the run rules judge %d of the %d runs below CLOSED: %s%s; a "
        "submission is no better than its worst run",
        below, g->count, names, below > listed ? ", ..." : "");
}

/* ---- the rules of a benchmark without its own ------------------------------------------- */

/* One group per model: nothing is known of how its runs fit together but what every group
 * checks, so that a benchmark added to the registry needs no submission file to be judged. */
static void group_generic(const struct mlpio_submission_run *r, char *name, size_t n)
{
    (void)r;
    snprintf(name, n, "submission");
}

static int judge_generic(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                         cJSON *figures)
{
    mlpio_submission_figure(figures, "runs", g->count);
    return mlpio_submission_check_members(g, v);
}

/* No checklist: mlpio_submission_checklist has no requirements of its own to list. */
static const struct mlpio_submission_rules generic = {
    .group_of = group_generic,
    .judge = judge_generic,
};

/* ---- the API --------------------------------------------------------------------------- */

static const struct mlpio_submission_rules *rules_of(const struct mlpio_rules_benchmark *b)
{
    return b->submission ? b->submission : &generic;
}

/* The submission rules of a registered benchmark (its own or the generic ones), or NULL. */
static const struct mlpio_submission_rules *bench_find(const char *benchmark)
{
    const struct mlpio_rules_benchmark *b = mlpio_rules_benchmark_find(benchmark);
    return b ? rules_of(b) : NULL;
}

const char *const *mlpio_submission_checklist(const char *benchmark)
{
    const struct mlpio_submission_rules *b = bench_find(benchmark);
    return b ? b->checklist : NULL;
}

const char *mlpio_submission_benchmark(int i)
{
    const struct mlpio_rules_benchmark *b;
    for (int k = 0; (b = mlpio_rules_benchmark_at(k)); k++)
        if (rules_of(b)->checklist && i-- == 0)
            return b->name;
    return NULL;
}

/* The edition of g's first run with metadata (NULL: none has any); an INVALID issue when the
 * runs were judged by different editions. Returns 0, or -1 when memory runs out. */
static int check_editions(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                          const char **edition)
{
    const char *first = NULL, *other = NULL, *other_path = "", *first_path = "";
    for (int i = 0; i < g->count; i++) {
        if (!g->runs[i]->metadata)
            continue;
        const char *e = mlpio_rules_edition_of(g->runs[i]->metadata);
        if (!first) {
            first = e;
            first_path = g->runs[i]->path;
        } else if (!other && strcmp(e, first) != 0) {
            other = e;
            other_path = g->runs[i]->path;
        }
    }
    *edition = first;
    if (!other)
        return 0;
    char act[MLPIO_RULES_TEXT_MAX];
    snprintf(act, sizeof(act), "%s and %s", first, other);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "rules_edition", "one edition", act,
                             "rerun the runs of the older edition under the newer one, or judge "
                             "them all by one (validate --rules-edition)",
                             "the runs of a submission are judged by one rules edition, but %s "
                             "was run under %s and %s under %s",
                             first_path, first, other_path, other);
}

static cJSON *group_json(const struct mlpio_submission_group *g, struct mlpio_error *err)
{
    const char *edition = NULL;
    const struct mlpio_submission_rules *b = bench_find(g->benchmark);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    cJSON *o = cJSON_CreateObject(), *figures = cJSON_CreateObject(), *paths = cJSON_CreateArray();
    cJSON *verdict = NULL;
    int rc = v && o && figures && paths ? 0 : -1;
    if (!rc)
        rc = check_editions(g, v, &edition);
    if (!rc)
        rc = b->judge(g, v, figures);
    for (int i = 0; !rc && i < g->count; i++)
        if (!cJSON_AddItemToArray(paths, cJSON_CreateString(g->runs[i]->path)))
            rc = -1;
    if (!rc)
        verdict = mlpio_verdict_to_json(v);
    if (!verdict || !cJSON_AddStringToObject(o, "benchmark", g->benchmark) ||
        !cJSON_AddStringToObject(o, "model", g->model) ||
        !cJSON_AddStringToObject(o, "group", g->name) ||
        !cJSON_AddStringToObject(o, "verdict", mlpio_verdict_name(mlpio_verdict_of(v)))) {
        cJSON_Delete(verdict);
        cJSON_Delete(o);
        cJSON_Delete(figures);
        cJSON_Delete(paths);
        mlpio_verdict_destroy(&v);
        mlpio_rules_abandon(NULL, 0, "submission", err);
        return NULL;
    }
    if (edition)
        cJSON_AddStringToObject(o, "rules_edition", edition);
    else
        cJSON_AddNullToObject(o, "rules_edition");
    cJSON_AddItemToObject(o, "runs", paths);
    cJSON_AddItemToObject(o, "issues", cJSON_DetachItemFromObject(verdict, "issues"));
    cJSON_AddItemToObject(o, "figures", figures);
    cJSON_Delete(verdict);
    mlpio_verdict_destroy(&v);
    return o;
}

cJSON *mlpio_submission_check(const struct mlpio_submission_run *runs, int n,
                              struct mlpio_error *err)
{
    struct mlpio_submission_groups gs = {0};
    cJSON *out = cJSON_CreateArray();
    char name[128];
    if (!out)
        goto nomem;
    for (int i = 0; i < n; i++) {
        const struct mlpio_submission_rules *b = bench_find(runs[i].benchmark);
        if (!b)
            continue;
        b->group_of(&runs[i], name, sizeof(name));
        struct mlpio_submission_group *g = mlpio_submission_group_get(
            &gs, runs[i].benchmark, runs[i].model ? runs[i].model : "", name);
        if (!g || mlpio_submission_group_add(g, &runs[i]))
            goto nomem;
    }
    const struct mlpio_rules_benchmark *bench;
    for (int i = 0; (bench = mlpio_rules_benchmark_at(i)); i++)
        if (rules_of(bench)->extra && rules_of(bench)->extra(&gs, bench->name, runs, n))
            goto nomem;
    if (gs.count > 1)
        qsort(gs.g, (size_t)gs.count, sizeof(*gs.g), group_cmp);
    for (int i = 0; i < gs.count; i++) {
        cJSON *o = group_json(&gs.g[i], err);
        if (!o)
            goto fail;
        cJSON_AddItemToArray(out, o);
    }
    groups_free(&gs);
    return out;
nomem:
    mlpio_rules_abandon(NULL, 0, "submission", err);
fail:
    groups_free(&gs);
    cJSON_Delete(out);
    return NULL;
}
