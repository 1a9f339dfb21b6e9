/* mlpio results-tree scanner: what the scan derives from a run's documents, see scan_run.h.
 *
 * The figures are the few numbers per workload that a table of runs shows (results.csv): they
 * keep the summary's own names (WORKLOADS.md lists the ones tools read), except where a nested
 * summary field needs a flat name. The preset match lets the submission checks group kvcache
 * runs by CLOSED option from the workload's own --option table, not from a copy of it.
 */
#include "app/scan_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/params.h"
#include "app/workload.h"

struct figure_source {
    const char *benchmark;
    const char *command; /* NULL: any */
    const char *name;    /* flat name in "figures" */
    const char *path;    /* dotted path in summary.json */
};

static const struct figure_source sources[] = {
    {"training", "run", "train_au_mean_percentage", "train_au_mean_percentage"},
    {"training", "run", "train_throughput_mean_samples_per_second",
     "train_throughput_mean_samples_per_second"},
    {"training", "run", "train_io_mean_MB_per_second", "train_io_mean_MB_per_second"},
    {"training", "run", "num_files_train", "num_files_train"},
    {"training", "datagen", "datagen_files", "datagen_files"},
    {"training", "datagen", "datagen_bytes", "datagen_bytes"},
    {"training", "datagen", "datagen_MB_per_second", "datagen_MB_per_second"},
    {"checkpointing", NULL, "save_checkpoint_io_mean_GB_per_second",
     "save_checkpoint_io_mean_GB_per_second"},
    {"checkpointing", NULL, "save_checkpoint_duration_mean_seconds",
     "save_checkpoint_duration_mean_seconds"},
    {"checkpointing", NULL, "load_checkpoint_io_mean_GB_per_second",
     "load_checkpoint_io_mean_GB_per_second"},
    {"checkpointing", NULL, "load_checkpoint_duration_mean_seconds",
     "load_checkpoint_duration_mean_seconds"},
    {"checkpointing", NULL, "checkpoint_size_GB", "checkpoint_size_GB"},
    {"checkpointing", NULL, "num_checkpoints_write", "num_checkpoints_write"},
    {"checkpointing", NULL, "num_checkpoints_read", "num_checkpoints_read"},
    {"kvcache", NULL, "trials", "aggregate.trials"},
    {"kvcache", NULL, "tokens_per_second", "aggregate.tokens_per_second_wall"},
    {"kvcache", NULL, "requests_per_second", "aggregate.requests_per_second"},
    {"kvcache", NULL, "storage_read_bandwidth_GBps", "aggregate.storage_read_bandwidth_GBps"},
    {"kvcache", NULL, "storage_write_bandwidth_GBps", "aggregate.storage_write_bandwidth_GBps"},
    {"kvcache", NULL, "storage_read_p95_seconds", "aggregate.storage_read_p95"},
    {"kvcache", NULL, "storage_write_p95_seconds", "aggregate.storage_write_p95"},
    {"kvcache", NULL, "cache_hit_rate", "aggregate.cache_hit_rate"},
    /* Every benchmark: the size of the job. */
    {NULL, NULL, "num_accelerators", "num_accelerators"},
    {NULL, NULL, "num_hosts", "num_hosts"},
};

cJSON *mlpio_scan_figures(const char *benchmark, const char *command, const cJSON *summary)
{
    cJSON *f = cJSON_CreateObject();
    for (size_t i = 0; f && summary && i < sizeof(sources) / sizeof(sources[0]); i++) {
        const struct figure_source *s = &sources[i];
        if ((s->benchmark && (!benchmark || strcmp(s->benchmark, benchmark) != 0)) ||
            (s->command && (!command || strcmp(s->command, command) != 0)))
            continue;
        const cJSON *v = mlpio_json_get_path(summary, s->path);
        if (cJSON_IsNumber(v) && !cJSON_AddNumberToObject(f, s->name, v->valuedouble)) {
            cJSON_Delete(f);
            return NULL;
        }
    }
    return f;
}

/* Does config hold every "key=value" of a preset's overrides? Values are read with the key's
 * parameter spec, as the command line reads them, and compared as JSON. */
static int preset_matches(const struct mlpio_workload *w, const struct mlpio_preset *p,
                          const cJSON *config)
{
    const char *s = p->overrides;
    while (*s) {
        char item[256];
        size_t len = strcspn(s, " ");
        snprintf(item, sizeof(item), "%.*s", (int)len, s);
        s += len + strspn(s + len, " ");
        char *eq = strchr(item, '=');
        if (!eq)
            return 0;
        *eq = '\0';
        const struct mlpio_param_spec *spec = mlpio_params_find(w->params, w->nparams, item);
        struct mlpio_error err = {0};
        cJSON *want = spec ? mlpio_params_from_text(spec, eq + 1, &err) : NULL;
        int same = want && cJSON_Compare(want, mlpio_json_get_path(config, item), 1);
        cJSON_Delete(want);
        if (!same)
            return 0;
    }
    return 1;
}

void mlpio_scan_preset(const cJSON *metadata, char *buf, size_t n)
{
    const char *bench = mlpio_json_string(metadata, "benchmark", NULL);
    const char *model = mlpio_json_string(metadata, "model", NULL);
    const cJSON *config = mlpio_json_get_path(metadata, "config");
    const struct mlpio_workload *w = bench ? mlpio_workload_find(bench) : NULL;
    snprintf(buf, n, "%s", "");
    if (!w || !model || !cJSON_IsObject(config))
        return;
    for (const struct mlpio_cli_option *o = w->options; o && o->name; o++) {
        if (o->kind != MLPIO_OPT_PRESET)
            continue;
        for (const struct mlpio_preset *p = o->presets; p && p->value; p++) {
            if ((!p->model || strcmp(p->model, model) == 0) && preset_matches(w, p, config)) {
                snprintf(buf, n, "%s", p->value);
                return;
            }
        }
    }
}
