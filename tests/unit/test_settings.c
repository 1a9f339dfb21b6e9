/* Tests of every workload's typed settings against its parameter table and its model
 * definitions in share/: each parameter has a field, the field holds what each definition says
 * (so a default standing in for the config shows), no two parameters share a field, a missing
 * key is named; and for the built-in workloads, each key fills the member named after it, from
 * tables written here apart from the parameter tables (so a MLPIO_AT naming the wrong member
 * fails even where two members happen to hold the same value). */
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
#include "app/workloads/checkpointing/checkpointing.h"
#include "app/workloads/kvcache/kvcache.h"
#include "app/workloads/training/training.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The member each key must fill. */
struct member {
    const char *key;
    size_t offset, size;
};
#define MEMBER(type, key, member)                                                                  \
    {                                                                                              \
        key, offsetof(type, member), sizeof(((type *)0)->member)                                   \
    }

static const struct member checkpointing_members[] = {
    MEMBER(struct mlpio_ckpt_settings, "model.name", model_name),
    MEMBER(struct mlpio_ckpt_settings, "model.num_layers", model.layers),
    MEMBER(struct mlpio_ckpt_settings, "model.hidden_size", model.hidden),
    MEMBER(struct mlpio_ckpt_settings, "model.ffn_hidden_size", model.ffn),
    MEMBER(struct mlpio_ckpt_settings, "model.num_attention_heads", model.heads),
    MEMBER(struct mlpio_ckpt_settings, "model.num_kv_heads", model.kv_heads),
    MEMBER(struct mlpio_ckpt_settings, "model.vocab_size", model.vocab),
    MEMBER(struct mlpio_ckpt_settings, "model.model_datatype", model_datatype),
    MEMBER(struct mlpio_ckpt_settings, "model.optimizer_datatype", optimizer_datatype),
    MEMBER(struct mlpio_ckpt_settings, "parallelism.tensor", model.tp),
    MEMBER(struct mlpio_ckpt_settings, "parallelism.pipeline", model.pp),
    MEMBER(struct mlpio_ckpt_settings, "parallelism.data", model.dp),
    MEMBER(struct mlpio_ckpt_settings, "parallelism.zero_stage", model.zero),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.checkpoint_folder", folder),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.num_checkpoints_write", num_checkpoints_write),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.num_checkpoints_read", num_checkpoints_read),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.time_between_checkpoints",
           time_between_checkpoints),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.fsync", fsync),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.transfer_size", transfer_size),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.layout", layout),
    MEMBER(struct mlpio_ckpt_settings, "checkpoint.accelerator_type", accelerator_type),
};

static const struct member training_members[] = {
    MEMBER(struct mlpio_training_settings, "model.name", model.name),
    MEMBER(struct mlpio_training_settings, "framework", framework),
    MEMBER(struct mlpio_training_settings, "dataset.data_folder", dataset.data_folder),
    MEMBER(struct mlpio_training_settings, "dataset.format", dataset.format),
    MEMBER(struct mlpio_training_settings, "dataset.num_files_train", dataset.num_files_train),
    MEMBER(struct mlpio_training_settings, "dataset.num_subfolders_train",
           dataset.num_subfolders_train),
    MEMBER(struct mlpio_training_settings, "dataset.num_samples_per_file",
           dataset.num_samples_per_file),
    MEMBER(struct mlpio_training_settings, "dataset.record_length_bytes",
           dataset.record_length_bytes),
    MEMBER(struct mlpio_training_settings, "dataset.record_length_bytes_stdev",
           dataset.record_length_bytes_stdev),
    MEMBER(struct mlpio_training_settings, "dataset.parquet.columns", dataset.parquet.columns),
    MEMBER(struct mlpio_training_settings, "dataset.parquet.row_group_size",
           dataset.parquet.row_group_size),
    MEMBER(struct mlpio_training_settings, "reader.data_loader", reader.data_loader),
    MEMBER(struct mlpio_training_settings, "reader.batch_size", reader.batch_size),
    MEMBER(struct mlpio_training_settings, "reader.read_threads", reader.read_threads),
    MEMBER(struct mlpio_training_settings, "reader.computation_threads",
           reader.computation_threads),
    MEMBER(struct mlpio_training_settings, "reader.prefetch_size", reader.prefetch_size),
    MEMBER(struct mlpio_training_settings, "reader.transfer_size", reader.transfer_size),
    MEMBER(struct mlpio_training_settings, "reader.odirect", reader.odirect),
    MEMBER(struct mlpio_training_settings, "reader.file_shuffle", reader.file_shuffle),
    MEMBER(struct mlpio_training_settings, "reader.sample_shuffle", reader.sample_shuffle),
    MEMBER(struct mlpio_training_settings, "train.epochs", train.epochs),
    MEMBER(struct mlpio_training_settings, "train.computation_time", train.computation_time),
    MEMBER(struct mlpio_training_settings, "metric.au", metric.au),
    MEMBER(struct mlpio_training_settings, "checkpoint.checkpoint_folder",
           checkpoint.checkpoint_folder),
    MEMBER(struct mlpio_training_settings, "storage.storage_type", storage.storage_type),
    MEMBER(struct mlpio_training_settings, "storage.storage_root", storage.storage_root),
};

static const struct member kvcache_members[] = {
    MEMBER(struct mlpio_kvcache_settings, "model.name", model_name),
    MEMBER(struct mlpio_kvcache_settings, "model.num_layers", num_layers),
    MEMBER(struct mlpio_kvcache_settings, "model.hidden_size", hidden_size),
    MEMBER(struct mlpio_kvcache_settings, "model.num_attention_heads", num_attention_heads),
    MEMBER(struct mlpio_kvcache_settings, "model.num_kv_heads", num_kv_heads),
    MEMBER(struct mlpio_kvcache_settings, "model.dtype_bytes", dtype_bytes),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.num_users", num_users),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.duration", duration),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.drain_timeout", drain_timeout),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.trials", trials),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.generation_mode", generation_mode),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.performance_profile", performance_profile),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.io_model", io_model),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.max_concurrent_allocs", max_concurrent_allocs),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.multi_turn", multi_turn),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.prefix_caching", prefix_caching),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.continue_probability", continue_probability),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.max_turns", max_turns),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.prefix_probability", prefix_probability),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.system_prompts", system_prompts),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.system_prompt_tokens", system_prompt_tokens),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.max_context_tokens", max_context_tokens),
    MEMBER(struct mlpio_kvcache_settings, "kvcache.decode_tokens_per_read", decode_tokens_per_read),
    MEMBER(struct mlpio_kvcache_settings, "cache.gpu_mem_gb", gpu_mem_gb),
    MEMBER(struct mlpio_kvcache_settings, "cache.cpu_mem_gb", cpu_mem_gb),
    MEMBER(struct mlpio_kvcache_settings, "cache.cache_dir", cache_dir),
    MEMBER(struct mlpio_kvcache_settings, "cache.storage_capacity_gb", storage_capacity_gb),
    MEMBER(struct mlpio_kvcache_settings, "cache.block_tokens", block_tokens),
    MEMBER(struct mlpio_kvcache_settings, "cache.page_size", page_size),
    MEMBER(struct mlpio_kvcache_settings, "cache.layout", layout),
    MEMBER(struct mlpio_kvcache_settings, "cache.segment_size", segment_size),
    MEMBER(struct mlpio_kvcache_settings, "cache.eviction", eviction),
    MEMBER(struct mlpio_kvcache_settings, "cache.high_water", high_water),
    MEMBER(struct mlpio_kvcache_settings, "cache.transfer_size", transfer_size),
    MEMBER(struct mlpio_kvcache_settings, "cache.keep", keep),
    MEMBER(struct mlpio_kvcache_settings, "cache.precondition", precondition),
    MEMBER(struct mlpio_kvcache_settings, "cache.precondition_size", precondition_size),
};

static const struct {
    const char *workload;
    const struct member *members;
    size_t n, settings_size;
} named[] = {
    {"checkpointing", checkpointing_members, N(checkpointing_members),
     sizeof(struct mlpio_ckpt_settings)},
    {"training", training_members, N(training_members), sizeof(struct mlpio_training_settings)},
    {"kvcache", kvcache_members, N(kvcache_members), sizeof(struct mlpio_kvcache_settings)},
};

static size_t field_size(enum mlpio_param_field field)
{
    switch (field) {
    case MLPIO_FIELD_I64:
        return sizeof(int64_t);
    case MLPIO_FIELD_U64:
        return sizeof(uint64_t);
    case MLPIO_FIELD_DOUBLE:
        return sizeof(double);
    case MLPIO_FIELD_BOOL:
        return sizeof(bool);
    case MLPIO_FIELD_TEXT:
        return sizeof(const char *);
    case MLPIO_FIELD_NONE:
        break;
    }
    return 0;
}

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

/* The definition of the workload's default model (and variant). */
static cJSON *definition(const struct mlpio_workload *w)
{
    struct mlpio_error err = {0};
    cJSON *config = w->default_variant ? mlpio_config_reference_variant(w->name, w->default_model,
                                                                        w->default_variant, &err)
                                       : mlpio_config_reference(w->name, w->default_model, &err);
    if (!config)
        fail_msg("%s: %s", w->name, err.message);
    return config;
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

/* Each built-in workload's keys fill the members named after them, of their size; the
 * descriptor hands the size of its struct. */
static void test_members_named_after_keys(void **state)
{
    (void)state;
    for (size_t k = 0; k < N(named); k++) {
        const struct mlpio_workload *w = mlpio_workload_find(named[k].workload);
        assert_non_null(w);
        assert_int_equal(w->settings_size, named[k].settings_size);
        assert_int_equal(w->nparams, named[k].n);
        for (size_t m = 0; m < named[k].n; m++) {
            const struct member *want = &named[k].members[m];
            const struct mlpio_param_spec *spec =
                mlpio_params_find(w->params, w->nparams, want->key);
            if (!spec)
                fail_msg("%s: no parameter %s", w->name, want->key);
            if (spec->offset != want->offset || field_size(spec->field) != want->size)
                fail_msg("%s: %s fills the member at offset %zu (%zu bytes), expected %zu (%zu)",
                         w->name, spec->key, spec->offset, field_size(spec->field), want->offset,
                         want->size);
        }
    }
}

/* A value of each parameter unlike any other's is found at its own field: no two parameters
 * share one, whatever the definitions happen to hold. */
static void test_distinct_values_stay_apart(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *w = mlpio_workloads(); *w; w++) {
        cJSON *config = definition(*w);
        for (int i = 0; i < (*w)->nparams; i++) {
            const struct mlpio_param_spec *spec = &(*w)->params[i];
            char text[64];
            cJSON *v;
            if (spec->field == MLPIO_FIELD_TEXT) {
                snprintf(text, sizeof(text), "value-%d", i);
                v = cJSON_CreateString(text);
            } else if (spec->field == MLPIO_FIELD_BOOL) {
                v = cJSON_CreateBool(!cJSON_IsTrue(mlpio_json_get_path(config, spec->key)));
            } else {
                v = cJSON_CreateNumber(1000 + i);
            }
            assert_int_equal(mlpio_json_set_path(config, spec->key, v), 0);
        }
        /* The fields alone: a workload's own checks of the whole may refuse such values. */
        char *s = calloc(1, (*w)->settings_size);
        assert_non_null(s);
        struct mlpio_error err = {0};
        if (mlpio_params_settings((*w)->params, (*w)->nparams, config, s, &err) != 0)
            fail_msg("%s: %s", (*w)->name, err.message);
        for (int i = 0; i < (*w)->nparams; i++)
            check_field((*w)->name, &(*w)->params[i], s, config);
        free(s);
        cJSON_Delete(config);
    }
}

/* The config is the only source: a definition lacking a key fails, naming it. */
static void test_missing_key_named(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *w = mlpio_workloads(); *w; w++) {
        cJSON *config = definition(*w);
        struct mlpio_error err = {0};
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
        cmocka_unit_test(test_members_named_after_keys),
        cmocka_unit_test(test_distinct_values_stay_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
