/* mlpio workload registry: one line per workload. */
#include "app/workload.h"

#include <string.h>

extern const struct mlpio_workload mlpio_workload_checkpointing;
extern const struct mlpio_workload mlpio_workload_training;
extern const struct mlpio_workload mlpio_workload_kvcache;

/* The built-in workloads, one line each. */
static const struct mlpio_workload *const builtin[] = {
    &mlpio_workload_checkpointing,
    &mlpio_workload_training,
    &mlpio_workload_kvcache,
};

/* The built-in ones, then those added at run time, then NULL. */
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))
#define ADDED_MAX 8
static const struct mlpio_workload *registry[NBUILTIN + ADDED_MAX + 1];

static const struct mlpio_workload **all(void)
{
    if (!registry[0])
        memcpy(registry, builtin, sizeof(builtin));
    return registry;
}

int mlpio_workload_add(const struct mlpio_workload *w)
{
    const struct mlpio_workload **r = all();
    size_t n = 0;
    for (; r[n]; n++)
        if (strcmp(r[n]->name, w->name) == 0)
            return -1;
    if (n == NBUILTIN + ADDED_MAX)
        return -1;
    r[n] = w;
    return 0;
}

const struct mlpio_workload *const *mlpio_workloads(void)
{
    return all();
}

const struct mlpio_workload *mlpio_workload_find(const char *name)
{
    const struct mlpio_workload **r = all();
    for (int i = 0; r[i]; i++)
        if (strcmp(r[i]->name, name) == 0)
            return r[i];
    return NULL;
}

const struct mlpio_command *mlpio_workload_command(const struct mlpio_workload *w, const char *name)
{
    for (int i = 0; w->commands[i].name; i++)
        if (strcmp(w->commands[i].name, name) == 0)
            return &w->commands[i];
    return NULL;
}
