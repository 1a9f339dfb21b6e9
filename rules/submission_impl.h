/* mlpio rules engine, internal: what the submission checks of each benchmark share
 * (submission.c) and the table entry each one provides (submission_<benchmark>.c).
 *
 * The runs reach these checks as documents read back from a results tree: any field may be
 * missing or of the wrong type, and saying so is the run checkers' business (they name the
 * field). So the checks read fields leniently, with the readers here: a missing figure is left
 * out of an average, a missing count counts as none. They judge only how the runs fit together.
 *
 * Not part of the public API: only the files of rules/ include this header.
 */
#ifndef MLPIO_RULES_SUBMISSION_IMPL_H
#define MLPIO_RULES_SUBMISSION_IMPL_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "rules/fields.h"
#include "rules/submission.h"

#define MLPIO_SUBMISSION_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Runs judged together. */
struct mlpio_submission_group {
    char *benchmark, *model, *name;
    const struct mlpio_submission_run **runs; /* borrowed, in input order */
    int count, cap;
};

struct mlpio_submission_groups {
    struct mlpio_submission_group *g;
    int count, cap;
};

/* What a benchmark brings to the submission checks: its registry entry (rules.h) points here,
 * and gives its name. */
struct mlpio_submission_rules {
    /* The name of the group of r (its benchmark and model are the run's) into name. */
    void (*group_of)(const struct mlpio_submission_run *r, char *name, size_t n);
    /* Add the group's issues to v and its figures; 0, or -1 when memory runs out. */
    int (*judge)(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                 cJSON *figures);
    /* Groups beyond one per run, over the runs of `benchmark` among runs (NULL: none); 0, or -1
     * when memory runs out. */
    int (*extra)(struct mlpio_submission_groups *gs, const char *benchmark,
                 const struct mlpio_submission_run *runs, int n);
    const char *const *checklist; /* NULL-terminated; NULL: none */
};

extern const struct mlpio_submission_rules mlpio_submission_training;
extern const struct mlpio_submission_rules mlpio_submission_checkpointing;
extern const struct mlpio_submission_rules mlpio_submission_kvcache;

/* The group (benchmark, model, name) of gs, added if new; NULL when memory runs out. */
struct mlpio_submission_group *mlpio_submission_group_get(struct mlpio_submission_groups *gs,
                                                          const char *benchmark, const char *model,
                                                          const char *name);
/* Add r to g; 0, or -1 when memory runs out. */
int mlpio_submission_group_add(struct mlpio_submission_group *g,
                               const struct mlpio_submission_run *r);

/* What every group checks of its runs: one that did not complete makes the group INVALID; runs
 * the run rules judged OPEN or INVALID bring the group to their verdict, in one issue so that
 * six OPEN runs do not read as six problems. 0, or -1 when memory runs out. */
int mlpio_submission_check_members(const struct mlpio_submission_group *g,
                                   struct mlpio_verdict_report *v);

/* The section for the group's benchmark of the rules edition its runs were judged by (that of
 * its first run with metadata; a group mixing editions is INVALID already), or NULL. */
const cJSON *mlpio_submission_edition(const struct mlpio_submission_group *g);

/* ---- lenient readers -------------------------------------------------------------------- */

/* The member at a dotted path ("config.checkpoint.fsync"), or NULL. */
static inline const cJSON *mlpio_submission_at(const cJSON *obj, const char *dotted)
{
    char key[128];
    const char *p = dotted;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!obj || len >= sizeof(key))
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!dot)
            return obj;
        p = dot + 1;
    }
}

/* 1 with *out set when the member is a finite number, else 0 (*out untouched). */
static inline int mlpio_submission_num(const cJSON *obj, const char *dotted, double *out)
{
    const cJSON *it = mlpio_submission_at(obj, dotted);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return 0;
    *out = it->valuedouble;
    return 1;
}

static inline const char *mlpio_submission_str(const cJSON *obj, const char *dotted)
{
    const cJSON *it = mlpio_submission_at(obj, dotted);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

/* A number from the run's summary, else from its run description (what was asked). */
static inline double mlpio_submission_done_or_asked(const struct mlpio_submission_run *r,
                                                    const char *summary_key, const char *config_key)
{
    double x = 0;
    if (!mlpio_submission_num(r->summary, summary_key, &x))
        mlpio_submission_num(r->metadata, config_key, &x);
    return x;
}

/* ---- figures ------------------------------------------------------------------------------ */

/* The values of one figure over runs or trials. */
struct mlpio_submission_mean {
    double sum, min, max;
    int n;
};

static inline void mlpio_submission_mean_add(struct mlpio_submission_mean *m, double x)
{
    if (!m->n || x < m->min)
        m->min = x;
    if (!m->n || x > m->max)
        m->max = x;
    m->sum += x;
    m->n++;
}

/* figures[name] = x, when x is finite. */
static inline void mlpio_submission_figure(cJSON *figures, const char *name, double x)
{
    if (isfinite(x))
        cJSON_AddNumberToObject(figures, name, x);
}

/* figures[name] = the mean of m, when m has values. */
static inline void mlpio_submission_figure_mean(cJSON *figures, const char *name,
                                                const struct mlpio_submission_mean *m)
{
    if (m->n)
        mlpio_submission_figure(figures, name, m->sum / m->n);
}

#endif
