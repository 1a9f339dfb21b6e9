/* mlpio rules engine: the registry of benchmarks, see rules.h.
 *
 * The one place that lists the benchmarks: the run checkers (verdict.c) and the submission
 * checks (submission.c) both look a benchmark up here, so a benchmark added at run time is
 * judged run by run and grouped like the shipped ones. Each entry is defined in its benchmark's
 * own rules file, next to the checker it names.
 */
#include "rules/fields.h"

#include <errno.h>
#include <string.h>

/* Kept in alphabetical order of names, the order mlpio_rules_benchmark_at (and so `validate
 * --checklist`'s list) gives; added benchmarks are inserted in place. One line per benchmark. */
#define SHIPPED 3 /* the lines below */
static const struct mlpio_rules_benchmark *registry[SHIPPED + MLPIO_RULES_BENCHMARKS_ADDED_MAX] = {
    &mlpio_rules_checkpointing,
    &mlpio_rules_kvcache,
    &mlpio_rules_training,
};

#define REGISTRY_CAP (int)(sizeof(registry) / sizeof(registry[0]))

/* The registered benchmarks are the leading non-NULL entries. */
static int registered(void)
{
    int n = 0;
    while (n < REGISTRY_CAP && registry[n])
        n++;
    return n;
}

const struct mlpio_rules_benchmark *mlpio_rules_benchmark_at(int i)
{
    return i >= 0 && i < REGISTRY_CAP ? registry[i] : NULL;
}

const struct mlpio_rules_benchmark *mlpio_rules_benchmark_find(const char *name)
{
    for (int i = 0; name && i < REGISTRY_CAP && registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int mlpio_rules_benchmark_add(const struct mlpio_rules_benchmark *b)
{
    int n = registered(), at = 0;
    if (!b || !b->name || !b->name[0] || !b->check) {
        errno = EINVAL;
        return -1;
    }
    if (mlpio_rules_benchmark_find(b->name)) {
        errno = EEXIST;
        return -1;
    }
    if (n == REGISTRY_CAP) {
        errno = ENOSPC;
        return -1;
    }
    while (at < n && strcmp(registry[at]->name, b->name) < 0)
        at++;
    memmove(&registry[at + 1], &registry[at], sizeof(registry[0]) * (size_t)(n - at));
    registry[at] = b;
    return 0;
}
