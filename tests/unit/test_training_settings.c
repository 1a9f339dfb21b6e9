/* Tests of the training workload's typed settings: every model definition in share/training/
 * fills every member of struct mlpio_training_settings with the value at its parameter's key,
 * each parameter has a member of its own (named as its key is), and a definition missing a key
 * fails naming it. */
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
#include "app/workloads/training/training.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_DEFS 64

/* The members of the settings, by the key each one is named after. */
#define MEMBER(m)                                                                                  \
    {                                                                                              \
#m, offsetof(struct mlpio_training_settings, m),                                           \
            sizeof(((struct mlpio_training_settings *)0)->m)                                       \
    }
static const struct {
    const char *key;
    size_t offset, size;
} members[] = {
    MEMBER(model.name),
    MEMBER(framework),
    MEMBER(dataset.data_folder),
    MEMBER(dataset.format),
    MEMBER(dataset.num_files_train),
    MEMBER(dataset.num_subfolders_train),
    MEMBER(dataset.num_samples_per_file),
    MEMBER(dataset.record_length_bytes),
    MEMBER(dataset.record_length_bytes_stdev),
    MEMBER(reader.data_loader),
    MEMBER(reader.batch_size),
    MEMBER(reader.read_threads),
    MEMBER(reader.computation_threads),
    MEMBER(reader.prefetch_size),
    MEMBER(reader.transfer_size),
    MEMBER(reader.odirect),
    MEMBER(reader.file_shuffle),
    MEMBER(reader.sample_shuffle),
    MEMBER(train.epochs),
    MEMBER(train.computation_time),
    MEMBER(metric.au),
    MEMBER(checkpoint.checkpoint_folder),
    MEMBER(storage.storage_type),
    MEMBER(storage.storage_root),
};

static const struct mlpio_workload *training(void)
{
    const struct mlpio_workload *w = mlpio_workload_find("training");
    assert_non_null(w);
    return w;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The names (without .json) of the model definitions in share/training/, sorted. */
static int definitions(char names[][NAME_MAX + 1])
{
    char share[PATH_MAX], dir[PATH_MAX + 16];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(dir, sizeof(dir), "%s/training", share);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        assert_true(n < MAX_DEFS);
        snprintf(names[n++], NAME_MAX + 1, "%.*s", (int)(len - 5), e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), by_name);
    return n;
}

/* The definition <model>_<variant>, read and validated by the config module as a run does. */
static cJSON *load(const char *name)
{
    static const char *const ignore[] = {"reference", "benchmark", NULL};
    char model[NAME_MAX + 1];
    snprintf(model, sizeof(model), "%s", name);
    char *variant = strrchr(model, '_');
    if (!variant)
        fail_msg("%s: expected <model>_<accelerator>.json", name);
    *variant++ = '\0';
    struct mlpio_error err = {0};
    cJSON *c = mlpio_config_reference_variant("training", model, variant, &err);
    if (!c)
        fail_msg("%s: %s", name, err.message);
    const struct mlpio_workload *w = training();
    if (mlpio_params_validate(w->params, w->nparams, c, ignore, &err) < 0)
        fail_msg("%s: %s", name, err.message);
    return c;
}

/* The member a spec fills holds the config's value at the spec's key. */
static void assert_field_holds(const char *def, const struct mlpio_param_spec *spec,
                               const struct mlpio_training_settings *s, const cJSON *config)
{
    const cJSON *v = mlpio_json_get_path(config, spec->key);
    const char *at = (const char *)s + spec->offset;
    if (!v)
        fail_msg("%s: %s is missing from the definition", def, spec->key);
    bool same = false;
    switch (spec->field) {
    case MLPIO_FIELD_I64:
        same = cJSON_IsNumber(v) && (double)*(const int64_t *)(const void *)at == v->valuedouble;
        break;
    case MLPIO_FIELD_U64:
        same = cJSON_IsNumber(v) && (double)*(const uint64_t *)(const void *)at == v->valuedouble;
        break;
    case MLPIO_FIELD_DOUBLE:
        same = cJSON_IsNumber(v) && *(const double *)(const void *)at == v->valuedouble;
        break;
    case MLPIO_FIELD_BOOL:
        same = cJSON_IsBool(v) && *(const bool *)(const void *)at == (bool)cJSON_IsTrue(v);
        break;
    case MLPIO_FIELD_TEXT: {
        const char *text = *(const char *const *)(const void *)at;
        same = cJSON_IsString(v) && text && strcmp(text, v->valuestring) == 0;
        break;
    }
    case MLPIO_FIELD_NONE:
        fail_msg("%s: %s has no settings field", def, spec->key);
    }
    if (!same) {
        char *printed = cJSON_PrintUnformatted(v);
        fail_msg("%s: the field of %s does not hold the config's %s", def, spec->key,
                 printed ? printed : "?");
    }
}

static void test_every_definition_fills_every_field(void **state)
{
    const struct mlpio_workload *w = training();
    assert_int_equal(w->settings_size, sizeof(struct mlpio_training_settings));
    static char names[MAX_DEFS][NAME_MAX + 1];
    int n = definitions(names);
    assert_true(n >= 6); /* unet3d, resnet50, cosmoflow on h100 and a100 */
    for (int d = 0; d < n; d++) {
        cJSON *c = load(names[d]);
        struct mlpio_training_settings s, by_table;
        struct mlpio_error err = {0};
        memset(&s, 0, sizeof(s));
        memset(&by_table, 0, sizeof(by_table));
        if (mlpio_training_settings_parse(c, &s, &err) < 0)
            fail_msg("%s: %s", names[d], err.message);
        for (int i = 0; i < w->nparams; i++) {
            if (w->params[i].field == MLPIO_FIELD_NONE)
                fail_msg("%s has no settings field", w->params[i].key);
            assert_field_holds(names[d], &w->params[i], &s, c);
        }
        /* The run fills the settings through the descriptor's table: the same struct. */
        assert_int_equal(mlpio_params_settings(w->params, w->nparams, c, &by_table, &err), 0);
        assert_memory_equal(&s, &by_table, sizeof(s));
        cJSON_Delete(c);
    }
}

/* Each parameter fills the member named after its key, and every member has its parameter. */
static void test_each_key_fills_its_own_member(void **state)
{
    const struct mlpio_workload *w = training();
    assert_int_equal(w->nparams, (int)N(members));
    for (size_t m = 0; m < N(members); m++) {
        const struct mlpio_param_spec *spec =
            mlpio_params_find(w->params, w->nparams, members[m].key);
        if (!spec)
            fail_msg("member %s has no parameter of that key", members[m].key);
        if (spec->offset != members[m].offset)
            fail_msg("%s fills the member at offset %zu, not %s (at %zu)", spec->key, spec->offset,
                     members[m].key, members[m].offset);
        for (size_t o = 0; o < N(members); o++)
            if (o != m && members[o].offset < members[m].offset + members[m].size &&
                members[m].offset < members[o].offset + members[o].size)
                fail_msg("members %s and %s overlap", members[m].key, members[o].key);
    }
}

/* A value of each parameter unlike any other's is found at its field: no two parameters
 * share a field, whatever the definitions happen to hold. */
static void test_distinct_values_stay_apart(void **state)
{
    const struct mlpio_workload *w = training();
    cJSON *c = load("unet3d_h100");
    for (int i = 0; i < w->nparams; i++) {
        const struct mlpio_param_spec *spec = &w->params[i];
        const cJSON *old = mlpio_json_get_path(c, spec->key);
        cJSON *v;
        char text[64];
        switch (spec->field) {
        case MLPIO_FIELD_TEXT:
            snprintf(text, sizeof(text), "value-%d", i);
            v = cJSON_CreateString(text);
            break;
        case MLPIO_FIELD_BOOL:
            v = cJSON_CreateBool(!cJSON_IsTrue(old));
            break;
        default:
            v = cJSON_CreateNumber(1000 + i);
            break;
        }
        assert_int_equal(mlpio_json_set_path(c, spec->key, v), 0);
    }
    struct mlpio_training_settings s;
    struct mlpio_error err = {0};
    memset(&s, 0, sizeof(s));
    if (mlpio_training_settings_parse(c, &s, &err) < 0)
        fail_msg("%s", err.message);
    for (int i = 0; i < w->nparams; i++)
        assert_field_holds("unet3d_h100 (distinct values)", &w->params[i], &s, c);
    cJSON_Delete(c);
}

/* Remove the leaf at a dotted key. */
static void remove_key(cJSON *root, const char *dotted)
{
    char parent[256];
    const char *dot = strrchr(dotted, '.');
    cJSON *obj = root;
    if (dot) {
        snprintf(parent, sizeof(parent), "%.*s", (int)(dot - dotted), dotted);
        obj = mlpio_json_get_path(root, parent);
    }
    assert_non_null(obj);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(obj, dot ? dot + 1 : dotted));
    cJSON_DeleteItemFromObjectCaseSensitive(obj, dot ? dot + 1 : dotted);
}

static void test_missing_key_is_named(void **state)
{
    const struct mlpio_workload *w = training();
    cJSON *ref = load("resnet50_a100");
    for (int i = 0; i < w->nparams; i++) {
        const char *key = w->params[i].key;
        cJSON *c = cJSON_Duplicate(ref, 1);
        remove_key(c, key);
        struct mlpio_training_settings s;
        struct mlpio_error err = {0};
        memset(&s, 0, sizeof(s));
        if (mlpio_training_settings_parse(c, &s, &err) != -1)
            fail_msg("a config without %s was accepted", key);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (!strstr(err.message, key))
            fail_msg("without %s: message '%s' does not name it", key, err.message);
        cJSON_Delete(c);
    }
    cJSON_Delete(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_definition_fills_every_field),
        cmocka_unit_test(test_each_key_fills_its_own_member),
        cmocka_unit_test(test_distinct_values_stay_apart),
        cmocka_unit_test(test_missing_key_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
