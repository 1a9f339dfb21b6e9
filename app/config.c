/* mlpio configuration: see config.h. */
#include "app/config.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/params.h"
#include "report/json_file.h"

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_definitions(const char *dir)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof(probe), "%s/%s", dir, mlpio_workloads()[0]->name);
    return is_dir(probe);
}

const char *mlpio_config_share_dir(char *buf, size_t len)
{
    const char *env = getenv("MLPIO_SHARE_DIR");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return buf;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, len, "%s/../share/mlpio", exe);
            if (has_definitions(buf))
                return buf;
        }
    }
    if (has_definitions(MLPIO_SHARE_INSTALL_DIR)) {
        snprintf(buf, len, "%s", MLPIO_SHARE_INSTALL_DIR);
        return buf;
    }
    snprintf(buf, len, "%s", MLPIO_SHARE_SOURCE_DIR);
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    if (!*x || !*y)
        return !*x - !*y;
    return strverscmp(*x, *y); /* llama3-8b before llama3-70b */
}

/* The models defined in dir, naturally sorted, into out ("a, b"). With a variant, only the
 * definitions "<model>_<variant>.json" count, and they are listed by model. */
static void list_models(const char *dir, const char *variant, char *out, size_t len)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char *names[128];
    int n = 0;
    char suffix[96];
    snprintf(suffix, sizeof(suffix), "%s%s.json", variant ? "_" : "", variant ? variant : "");
    size_t sl = strlen(suffix);
    while ((e = readdir(d)) && n < 128) {
        size_t l = strlen(e->d_name);
        if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0)
            names[n++] = strndup(e->d_name, l - sl);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_names);
    for (int i = 0; i < n; i++) {
        if (names[i]) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s", used ? ", " : "", names[i]);
        }
        free(names[i]);
    }
}

/* The distinct variants of the "<model>_<variant>.json" in dir (of one model, or of all). */
static void list_variants(const char *dir, const char *model, const char *sep, char *out,
                          size_t len)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char *names[128];
    int n = 0;
    while ((e = readdir(d)) && n < 128) {
        size_t l = strlen(e->d_name);
        const char *bar = strrchr(e->d_name, '_');
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || !bar || bar == e->d_name ||
            bar + 1 == e->d_name + l - 5)
            continue;
        if (model && (strlen(model) != (size_t)(bar - e->d_name) ||
                      strncmp(model, e->d_name, strlen(model)) != 0))
            continue;
        char *v = strndup(bar + 1, (size_t)(e->d_name + l - 5 - (bar + 1)));
        bool seen = false;
        for (int i = 0; v && i < n && !seen; i++)
            seen = strcmp(names[i], v) == 0;
        if (v && !seen)
            names[n++] = v;
        else
            free(v);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_names);
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? sep : "", names[i]);
        free(names[i]);
    }
}

void mlpio_config_variants(const char *benchmark, const char *model, const char *sep, char *out,
                           size_t len)
{
    char share[PATH_MAX], dir[PATH_MAX + 64];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(dir, sizeof(dir), "%s/%s", share, benchmark);
    list_variants(dir, model, sep, out, len);
}

void mlpio_config_models(const char *benchmark, const char *variant, char *out, size_t len)
{
    char share[PATH_MAX], dir[PATH_MAX + 64];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(dir, sizeof(dir), "%s/%s", share, benchmark);
    list_models(dir, variant, out, len);
}

cJSON *mlpio_config_reference_variant(const char *benchmark, const char *model, const char *variant,
                                      struct mlpio_error *err)
{
    char share[PATH_MAX], dir[PATH_MAX + 64], path[PATH_MAX * 2], models[1024];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(dir, sizeof(dir), "%s/%s", share, benchmark);
    if (!model || !*model || strchr(model, '/')) {
        list_models(dir, variant, models, sizeof(models));
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "no valid model given for %s", benchmark);
        mlpio_error_hint(err, "choose one with --model: %s", models);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s%s%s.json", dir, model, variant ? "_" : "",
             variant ? variant : "");
    if (access(path, R_OK) != 0) {
        list_models(dir, variant, models, sizeof(models));
        char others[256];
        if (variant)
            list_variants(dir, model, ", ", others, sizeof(others));
        if (variant && others[0]) {
            /* A known model, on a variant it has no reference for (unet3d on mi355). */
            mlpio_error_set(err, MLPIO_ERR_CONFIG,
                            "%s has no reference config for %s on %s (no %s): %s is defined for "
                            "%s only",
                            benchmark, model, variant, path, model, others);
            if (models[0])
                mlpio_error_hint(err, "run %s on one of %s, or on %s a model defined for it: %s",
                                 model, others, variant, models);
            else
                mlpio_error_hint(err, "run %s on one of %s", model, others);
            return NULL;
        }
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "unknown model '%s'%s%s for %s (no %s)", model,
                        variant ? " on " : "", variant ? variant : "", benchmark, path);
        if (models[0])
            mlpio_error_hint(err, "choose one of: %s", models);
        else
            mlpio_error_hint(err, "no definitions found in %s; set MLPIO_SHARE_DIR", dir);
        return NULL;
    }
    return mlpio_json_read_file(path, err);
}

cJSON *mlpio_config_reference(const char *benchmark, const char *model, struct mlpio_error *err)
{
    return mlpio_config_reference_variant(benchmark, model, NULL, err);
}

/* Merge src over dst: objects recursively, anything else replaced. Records the source of
 * every leaf it sets in sources (dotted key -> source name). */
static int merge(cJSON *dst, const cJSON *src, const char *prefix, cJSON *sources,
                 const char *source)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, src)
    {
        char key[256];
        snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        cJSON *existing = cJSON_GetObjectItemCaseSensitive(dst, item->string);
        if (cJSON_IsObject(item) && cJSON_IsObject(existing)) {
            if (merge(existing, item, key, sources, source) < 0)
                return -1;
            continue;
        }
        cJSON *copy = cJSON_Duplicate(item, 1);
        if (!copy)
            return -1;
        if (existing)
            cJSON_ReplaceItemInObjectCaseSensitive(dst, item->string, copy);
        else
            cJSON_AddItemToObject(dst, item->string, copy);
        cJSON_DeleteItemFromObjectCaseSensitive(sources, key);
        cJSON_AddStringToObject(sources, key, source);
    }
    return 0;
}

static const char *canonical_key(const struct mlpio_workload *w, const char *key)
{
    for (const struct mlpio_param_alias *a = w->param_aliases; a && a->alias; a++)
        if (strcmp(a->alias, key) == 0)
            return a->key;
    return key;
}

static int apply_override(cJSON *config, const struct mlpio_workload *w,
                          const struct mlpio_override *o, cJSON *sources, struct mlpio_error *err)
{
    const char *key = canonical_key(w, o->key);
    const struct mlpio_param_spec *spec = mlpio_params_find(w->params, w->nparams, key);
    if (!spec) {
        const char *near = mlpio_params_suggest(w->params, w->nparams, o->key);
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "unknown parameter '%s' for %s", o->key, w->name);
        if (near)
            return mlpio_error_hint(err, "did you mean '%s'?", near);
        return mlpio_error_hint(err, "'mlpio %s run --help' lists the parameters", w->name);
    }
    cJSON *value = mlpio_params_from_text(spec, o->value, err);
    if (!value)
        return -1;
    if (mlpio_json_set_path(config, key, value) < 0)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot set parameter '%s'", key);
    cJSON_DeleteItemFromObjectCaseSensitive(sources, key);
    cJSON_AddStringToObject(sources, key, o->source);
    return 0;
}

static cJSON *diff_overrides(const struct mlpio_workload *w, const cJSON *reference,
                             const cJSON *config, const cJSON *sources)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < w->nparams; i++) {
        const char *key = w->params[i].key;
        const cJSON *ref = mlpio_json_get_path(reference, key);
        const cJSON *cur = mlpio_json_get_path(config, key);
        if (ref && cur && cJSON_Compare(ref, cur, 1))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", key);
        cJSON_AddItemToObject(o, "value", cur ? cJSON_Duplicate(cur, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "reference", ref ? cJSON_Duplicate(ref, 1) : cJSON_CreateNull());
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(sources, key);
        cJSON_AddStringToObject(o, "source", cJSON_IsString(src) ? src->valuestring : "unknown");
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

cJSON *mlpio_config_build(const struct mlpio_cli *cli, cJSON **overrides, struct mlpio_error *err)
{
    const struct mlpio_workload *w = cli->workload;
    static const char *const ignore[] = {"reference", "benchmark", NULL};
    cJSON *reference = mlpio_config_reference_variant(w->name, cli->model, cli->variant, err);
    cJSON *config = NULL, *sources = NULL, *file = NULL;
    if (!reference)
        return NULL;
    config = cJSON_Duplicate(reference, 1);
    sources = cJSON_CreateObject();
    if (!config || !sources) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory building the configuration");
        goto fail;
    }
    if (cli->config_file) {
        file = mlpio_json_read_file_max(cli->config_file, MLPIO_CONFIG_FILE_MAX, err);
        if (!file) {
            /* Whatever kept the file from being read, the fix is in the command line. */
            if (err->category == MLPIO_ERR_IO)
                err->category = MLPIO_ERR_CONFIG;
            mlpio_error_prefix(err, "--config-file");
            goto fail;
        }
        if (!cJSON_IsObject(file)) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "config file %s must hold a JSON object",
                            cli->config_file);
            goto fail;
        }
        if (merge(config, file, "", sources, "config-file") < 0) {
            mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory merging %s", cli->config_file);
            goto fail;
        }
        if (mlpio_params_validate(w->params, w->nparams, config, ignore, err) < 0) {
            mlpio_error_prefix(err, "in %s", cli->config_file);
            goto fail;
        }
    }
    for (int i = 0; i < cli->noverrides; i++)
        if (apply_override(config, w, &cli->overrides[i], sources, err) < 0)
            goto fail;
    if (mlpio_params_validate(w->params, w->nparams, config, ignore, err) < 0)
        goto fail;
    *overrides = diff_overrides(w, reference, config, sources);
    cJSON_Delete(reference);
    cJSON_Delete(sources);
    cJSON_Delete(file);
    return config;
fail:
    cJSON_Delete(reference);
    cJSON_Delete(config);
    cJSON_Delete(sources);
    cJSON_Delete(file);
    return NULL;
}

int mlpio_config_bcast_bytes(const struct mlpio_context *ctx, void *buf, size_t len,
                             struct mlpio_error *err)
{
    char *p = buf;
    /* MPI counts are int: send in pieces below INT_MAX. */
    while (len > 0) {
        int n = len > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)len;
        if (MPI_Bcast(p, n, MPI_BYTE, 0, ctx->comm) != MPI_SUCCESS)
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Bcast failed");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int mlpio_config_bcast(const struct mlpio_context *ctx, cJSON **config, struct mlpio_error *err)
{
    char *text = NULL;
    unsigned long long len = 0;
    if (ctx->rank == 0) {
        text = cJSON_PrintUnformatted(*config);
        len = text ? strlen(text) + 1 : 0;
    }
    if (MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Bcast of the config size failed");
    if (len == 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "rank 0 could not serialise the config");
    if (ctx->rank != 0 && !(text = malloc(len)))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory receiving the config");
    int rc = mlpio_config_bcast_bytes(ctx, text, len, err);
    if (rc == 0 && ctx->rank != 0) {
        *config = cJSON_Parse(text);
        if (!*config)
            rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "received config does not parse");
    }
    free(text);
    return rc;
}
