/* mlpio workload registry: one line per workload. */
#include "app/workload.h"

#include <string.h>

extern const struct mlpio_workload mlpio_workload_checkpointing;
extern const struct mlpio_workload mlpio_workload_training;
extern const struct mlpio_workload mlpio_workload_kvcache;

static const struct mlpio_workload *const registry[] = {
    &mlpio_workload_checkpointing,
    &mlpio_workload_training,
    &mlpio_workload_kvcache,
    NULL,
};

const struct mlpio_workload *const *mlpio_workloads(void)
{
    return registry;
}

const struct mlpio_workload *mlpio_workload_find(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct mlpio_command *mlpio_workload_command(const struct mlpio_workload *w, const char *name)
{
    for (int i = 0; w->commands[i].name; i++)
        if (strcmp(w->commands[i].name, name) == 0)
            return &w->commands[i];
    return NULL;
}
