/* Tests of every workload's typed settings against its parameter table and its model
 * definitions in share/: each parameter has a field, and the field holds what the definition
 * says (so a field given the wrong member, or a default standing in for the config, shows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/params.h"
#include "app/workload.h"
#include "report/json_file.h"

static int parse(const struct mlpio_workload *w, const cJSON *config, void *s,
                 struct mlpio_error *err)
{
    if (w->settings_parse)
        return w->settings_parse(config, s, err);
    return mlpio_params_settings(w->params, w->nparams, config, s, err);
}

/* The field of spec in s equals the config's value at its key. */
static void check_field(const char *file, const struct mlpio_param_spec *spec, const char *s,
                        const cJSON *config)
{
    const cJSON *v = mlpio_json_get_path(config, spec->key);
    const char *at = s + spec->offset;
    bool same = false;
    switch (spec->field) {
    case MLPIO_FIELD_I64:
        same = cJSON_IsNumber(v) && *(const int64_t *)(const void *)at == (int64_t)v->valuedouble;
        break;
    case MLPIO_FIELD_U64:
        same = cJSON_IsNumber(v) && *(const uint64_t *)(const void *)at == (uint64_t)v->valuedouble;
        break;
    case MLPIO_FIELD_DOUBLE:
        same = cJSON_IsNumber(v) && *(const double *)(const void *)at == v->valuedouble;
        break;
    case MLPIO_FIELD_BOOL:
        same = cJSON_IsBool(v) && *(const bool *)(const void *)at == (bool)cJSON_IsTrue(v);
        break;
    case MLPIO_FIELD_TEXT:
        same = cJSON_IsString(v) && *(const char *const *)(const void *)at &&
               strcmp(*(const char *const *)(const void *)at, v->valuestring) == 0;
        break;
    case MLPIO_FIELD_NONE:
        fail_msg("%s: %s has no settings field", file, spec->key);
    }
    if (!same)
        fail_msg("%s: the settings field of %s does not hold the definition's value", file,
                 spec->key);
}

/* Every definition of w in share/: parsed, each field checked; returns how many. */
static int check_definitions(const struct mlpio_workload *w)
{
    char share[PATH_MAX], dir[PATH_MAX + 64];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(dir, sizeof(dir), "%s/%s", share, w->name);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("%s: no definitions in %s", w->name, dir);
    int checked = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct mlpio_error err = {0};
        cJSON *config = mlpio_json_read_file(path, &err);
        if (!config)
            fail_msg("%s: %s", path, err.message);
        char *s = malloc(w->settings_size);
        assert_non_null(s);
        memset(s, 0xa5, w->settings_size);
        if (parse(w, config, s, &err) != 0)
            fail_msg("%s: %s", path, err.message);
        for (int i = 0; i < w->nparams; i++)
            check_field(path, &w->params[i], s, config);
        free(s);
        cJSON_Delete(config);
        checked++;
    }
    closedir(d);
    return checked;
}

static void test_every_definition(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *w = mlpio_workloads(); *w; w++) {
        if (!(*w)->settings_size)
            fail_msg("%s: no settings (settings_size 0)", (*w)->name);
        if (check_definitions(*w) == 0)
            fail_msg("%s: no model definitions checked", (*w)->name);
    }
}

/* The config is the only source: a definition lacking a key fails, naming it. */
static void test_missing_key_named(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *w = mlpio_workloads(); *w; w++) {
        struct mlpio_error err = {0};
        cJSON *config = mlpio_config_reference((*w)->name, (*w)->default_model, &err);
        if (!config) /* definitions per variant */
            config = mlpio_config_reference_variant((*w)->name, (*w)->default_model,
                                                    (*w)->default_variant, &err);
        if (!config)
            fail_msg("%s: %s", (*w)->name, err.message);
        const struct mlpio_param_spec *last = &(*w)->params[(*w)->nparams - 1];
        char *key = strdup(last->key), *dot = strrchr(key, '.');
        assert_non_null(dot);
        *dot = '\0';
        cJSON_DeleteItemFromObject(mlpio_json_get_path(config, key), dot + 1);
        char *s = calloc(1, (*w)->settings_size);
        assert_non_null(s);
        memset(&err, 0, sizeof(err));
        assert_int_equal(parse(*w, config, s, &err), -1);
        if (!strstr(err.message, last->key))
            fail_msg("%s: '%s' does not name %s", (*w)->name, err.message, last->key);
        free(s);
        free(key);
        cJSON_Delete(config);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_definition),
        cmocka_unit_test(test_missing_key_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
