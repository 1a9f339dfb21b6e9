/* mlpio results-tree scanner: what the scan derives from a run's documents, see scan_run.h.
 *
 * The figures are the few numbers per workload that a table of runs shows (results.csv), from
 * the figure sources of its descriptor (app/workload.h): they
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
#include "report/json_file.h"

/* Every benchmark's, after its own: the size of the job. */
static const struct mlpio_figure_source job_figures[] = {
    {NULL, "num_accelerators", "num_accelerators"},
    {NULL, "num_hosts", "num_hosts"},
    {NULL},
};

static int add_figures(cJSON *f, const struct mlpio_figure_source *src, const char *command,
                       const cJSON *summary)
{
    for (; src && src->name; src++) {
        if (src->command && (!command || strcmp(src->command, command) != 0))
            continue;
        const cJSON *v = mlpio_json_get_path(summary, src->path);
        if (cJSON_IsNumber(v) && !cJSON_AddNumberToObject(f, src->name, v->valuedouble))
            return -1;
    }
    return 0;
}

cJSON *mlpio_scan_figures(const char *benchmark, const char *command, const cJSON *summary)
{
    const struct mlpio_workload *w = benchmark ? mlpio_workload_find(benchmark) : NULL;
    cJSON *f = cJSON_CreateObject();
    if (f && summary &&
        (add_figures(f, w ? w->figures : NULL, command, summary) < 0 ||
         add_figures(f, job_figures, command, summary) < 0)) {
        cJSON_Delete(f);
        return NULL;
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
