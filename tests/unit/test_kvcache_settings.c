/* KV-cache settings: every parameter of the workload's table fills its own member of
 * struct mlpio_kvcache_settings, of its own C type, with the value every model definition in
 * share/kvcache/ gives it; a definition missing a key (or holding it with another type) fails
 * to parse, naming the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/params.h"
#include "app/workload.h"
#include "app/workloads/kvcache/kvcache.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_MODELS 32

/* The member each key must fill, written out here apart from the table, so a MLPIO_AT naming
 * the wrong member fails even where two members hold the same value. */
#define AT(key, member)                                                                            \
    {                                                                                              \
        key, offsetof(struct mlpio_kvcache_settings, member),                                      \
            sizeof(((struct mlpio_kvcache_settings *)0)->member)                                   \
    }
static const struct member {
    const char *key;
    size_t offset, size;
} members[] = {
    AT("model.name", model_name),
    AT("model.num_layers", num_layers),
    AT("model.hidden_size", hidden_size),
    AT("model.num_attention_heads", num_attention_heads),
    AT("model.num_kv_heads", num_kv_heads),
    AT("model.dtype_bytes", dtype_bytes),
    AT("kvcache.num_users", num_users),
    AT("kvcache.duration", duration),
    AT("kvcache.drain_timeout", drain_timeout),
    AT("kvcache.trials", trials),
    AT("kvcache.generation_mode", generation_mode),
    AT("kvcache.performance_profile", performance_profile),
    AT("kvcache.max_concurrent_allocs", max_concurrent_allocs),
    AT("kvcache.multi_turn", multi_turn),
    AT("kvcache.prefix_caching", prefix_caching),
    AT("kvcache.continue_probability", continue_probability),
    AT("kvcache.max_turns", max_turns),
    AT("kvcache.prefix_probability", prefix_probability),
    AT("kvcache.system_prompts", system_prompts),
    AT("kvcache.system_prompt_tokens", system_prompt_tokens),
    AT("kvcache.max_context_tokens", max_context_tokens),
    AT("kvcache.decode_tokens_per_read", decode_tokens_per_read),
    AT("cache.gpu_mem_gb", gpu_mem_gb),
    AT("cache.cpu_mem_gb", cpu_mem_gb),
    AT("cache.cache_dir", cache_dir),
    AT("cache.storage_capacity_gb", storage_capacity_gb),
    AT("cache.block_tokens", block_tokens),
    AT("cache.page_size", page_size),
    AT("cache.layout", layout),
    AT("cache.segment_size", segment_size),
    AT("cache.eviction", eviction),
    AT("cache.high_water", high_water),
    AT("cache.transfer_size", transfer_size),
    AT("cache.keep", keep),
    AT("cache.precondition", precondition),
    AT("cache.precondition_size", precondition_size),
};

struct models {
    int n;
    char *path[MAX_MODELS];
};

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .json file of share/kvcache, sorted. */
static int setup(void **state)
{
    const char *share = getenv("MLPIO_SHARE_DIR");
    if (!share)
        return -1;
    struct models *m = calloc(1, sizeof(*m));
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/kvcache", share);
    DIR *d = opendir(dir);
    if (!m || !d) {
        free(m);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) && m->n < MAX_MODELS) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char *p = malloc(strlen(dir) + len + 2);
        sprintf(p, "%s/%s", dir, e->d_name);
        m->path[m->n++] = p;
    }
    closedir(d);
    qsort(m->path, (size_t)m->n, sizeof(m->path[0]), cmp_text);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct models *m = *state;
    for (int i = 0; i < m->n; i++)
        free(m->path[i]);
    free(m);
    return 0;
}

static const struct mlpio_workload *kvcache(void)
{
    const struct mlpio_workload *w = mlpio_workload_find("kvcache");
    assert_non_null(w);
    return w;
}

static cJSON *read_model(const char *path)
{
    struct mlpio_error err = {0};
    cJSON *c = mlpio_json_read_file(path, &err);
    if (!c)
        fail_msg("%s: %s", path, err.message);
    return c;
}

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

/* The table and the struct agree: every spec has a field, in the member written out above, of
 * that member's size, and no two specs share a member; the descriptor hands the struct's size. */
static void test_every_param_has_its_member(void **state)
{
    (void)state;
    const struct mlpio_workload *w = kvcache();
    assert_int_equal(w->settings_size, sizeof(struct mlpio_kvcache_settings));
    assert_int_equal(w->nparams, N(members));
    for (int i = 0; i < w->nparams; i++) {
        const struct mlpio_param_spec *spec = &w->params[i];
        if (spec->field == MLPIO_FIELD_NONE)
            fail_msg("%s: no settings field (MLPIO_AT missing)", spec->key);
        const struct member *want = NULL;
        for (size_t j = 0; j < N(members); j++)
            if (strcmp(members[j].key, spec->key) == 0)
                want = &members[j];
        if (!want)
            fail_msg("%s: not a member of struct mlpio_kvcache_settings", spec->key);
        if (spec->offset != want->offset)
            fail_msg("%s: MLPIO_AT names the member at offset %zu, expected %zu", spec->key,
                     spec->offset, want->offset);
        assert_int_equal(field_size(spec->field), want->size);
        assert_true(spec->offset + want->size <= sizeof(struct mlpio_kvcache_settings));
        for (int k = 0; k < i; k++)
            if (w->params[k].offset == spec->offset)
                fail_msg("%s and %s fill the same member", w->params[k].key, spec->key);
    }
}

/* Check the field of spec in settings against the config's value at spec's key. */
static void check_field(const char *model, const struct mlpio_param_spec *spec,
                        const void *settings, const cJSON *config)
{
    const char *at = (const char *)settings + spec->offset;
    const cJSON *v = mlpio_json_get_path(config, spec->key);
    if (!v)
        fail_msg("%s: %s is not in the definition", model, spec->key);
    switch (spec->field) {
    case MLPIO_FIELD_I64: {
        int64_t x;
        memcpy(&x, at, sizeof(x));
        assert_true(cJSON_IsNumber(v));
        if ((double)x != v->valuedouble)
            fail_msg("%s: %s is %lld, the definition says %g", model, spec->key, (long long)x,
                     v->valuedouble);
        break;
    }
    case MLPIO_FIELD_U64: {
        uint64_t x;
        memcpy(&x, at, sizeof(x));
        assert_true(cJSON_IsNumber(v));
        if ((double)x != v->valuedouble)
            fail_msg("%s: %s is %llu, the definition says %g", model, spec->key,
                     (unsigned long long)x, v->valuedouble);
        break;
    }
    case MLPIO_FIELD_DOUBLE: {
        double x;
        memcpy(&x, at, sizeof(x));
        assert_true(cJSON_IsNumber(v));
        if (x != v->valuedouble)
            fail_msg("%s: %s is %g, the definition says %g", model, spec->key, x, v->valuedouble);
        break;
    }
    case MLPIO_FIELD_BOOL: {
        bool x;
        memcpy(&x, at, sizeof(x));
        assert_true(cJSON_IsBool(v));
        if (x != (bool)cJSON_IsTrue(v))
            fail_msg("%s: %s is %d, the definition says %d", model, spec->key, x, cJSON_IsTrue(v));
        break;
    }
    case MLPIO_FIELD_TEXT: {
        const char *x;
        memcpy(&x, at, sizeof(x));
        assert_true(cJSON_IsString(v));
        assert_non_null(x);
        if (strcmp(x, v->valuestring) != 0)
            fail_msg("%s: %s is \"%s\", the definition says \"%s\"", model, spec->key, x,
                     v->valuestring);
        assert_ptr_equal(x, v->valuestring); /* borrowed, not copied */
        break;
    }
    case MLPIO_FIELD_NONE:
        fail_msg("%s: %s has no settings field", model, spec->key);
    }
}

/* Each model definition: the settings read back by the table's offsets hold its values. */
static void test_models_fill_settings(void **state)
{
    const struct models *m = *state;
    const struct mlpio_workload *w = kvcache();
    assert_true(m->n >= 5); /* tiny-1b, mistral-7b, llama2-7b, llama3.1-8b, llama3.1-70b */
    for (int i = 0; i < m->n; i++) {
        cJSON *c = read_model(m->path[i]);
        struct mlpio_kvcache_settings s;
        memset(&s, 0xa5, sizeof(s));
        struct mlpio_error err = {0};
        if (mlpio_kvcache_settings_parse(c, &s, &err) != 0)
            fail_msg("%s: %s", m->path[i], err.message);
        for (int p = 0; p < w->nparams; p++)
            check_field(m->path[i], &w->params[p], &s, c);
        /* The run's own parse (the descriptor's table) gives the same bytes. */
        struct mlpio_kvcache_settings r;
        memset(&r, 0xa5, sizeof(r));
        assert_int_equal(mlpio_params_settings(w->params, w->nparams, c, &r, &err), 0);
        assert_memory_equal(&r, &s, sizeof(s));
        cJSON_Delete(c);
    }
}

/* Removes the item at a dotted key; asserts it was there. */
static void remove_path(cJSON *root, const char *key)
{
    char parent[128];
    const char *dot = strrchr(key, '.');
    assert_non_null(dot);
    snprintf(parent, sizeof(parent), "%.*s", (int)(dot - key), key);
    cJSON *obj = mlpio_json_get_path(root, parent);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(obj, dot + 1));
    cJSON_DeleteItemFromObjectCaseSensitive(obj, dot + 1);
}

/* Without any one key, or with it of another type, no model parses, and the error names it. */
static void test_missing_key_is_named(void **state)
{
    const struct models *m = *state;
    const struct mlpio_workload *w = kvcache();
    for (int i = 0; i < m->n; i++) {
        cJSON *c = read_model(m->path[i]);
        for (int p = 0; p < w->nparams; p++) {
            const char *key = w->params[p].key;
            struct mlpio_kvcache_settings s;
            struct mlpio_error err = {0};

            cJSON *without = cJSON_Duplicate(c, 1);
            remove_path(without, key);
            if (mlpio_kvcache_settings_parse(without, &s, &err) != -1)
                fail_msg("%s without %s parsed", m->path[i], key);
            assert_int_equal(err.category, MLPIO_ERR_CONFIG);
            if (!strstr(err.message, key) || !strstr(err.message, "nothing"))
                fail_msg("%s without %s: \"%s\" does not name it", m->path[i], key, err.message);
            cJSON_Delete(without);

            cJSON *mistyped = cJSON_Duplicate(c, 1);
            const cJSON *v = mlpio_json_get_path(c, key);
            mlpio_json_set_path(
                mistyped, key, cJSON_IsString(v) ? cJSON_CreateNumber(1) : cJSON_CreateString("1"));
            memset(&err, 0, sizeof(err));
            if (mlpio_kvcache_settings_parse(mistyped, &s, &err) != -1)
                fail_msg("%s with %s mistyped parsed", m->path[i], key);
            if (!strstr(err.message, key))
                fail_msg("%s with %s mistyped: \"%s\" does not name it", m->path[i], key,
                         err.message);
            cJSON_Delete(mistyped);
        }
        cJSON_Delete(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_param_has_its_member),
        cmocka_unit_test(test_models_fill_settings),
        cmocka_unit_test(test_missing_key_is_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
