/* Tests of the KV-cache run checker.
 *
 * Rule cases start from a clean CLOSED run description (a fixture: --option 2 with --seed 42,
 * llama3.1-8b, 100 users per rank on one host of 8 ranks) and change the few fields a rule looks
 * at, so each case shows exactly which input triggers which issue. The CLOSED options are also
 * taken from the workload's own --option presets, so the rules and the presets cannot drift
 * apart.
 *
 * mlpio-test-wrap: strdup
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "app/workload.h"
#include "rules/rules.h"
#include "support/rule_cases.h"

#define CLEAN "closed_option2.json"

extern const struct mlpio_workload mlpio_workload_kvcache;

/* Link seam: when fail_strdup_at is k > 0, the k-th strdup from then on fails with ENOMEM. */
static int fail_strdup_at;
char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s)
{
    if (fail_strdup_at > 0 && --fail_strdup_at == 0) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_strdup(s);
}

static const struct rule_case rule_cases[] = {
    /* The three CLOSED options (the clean run is option 2). */
    {"option_1",
     {{"config.kvcache.num_users", "200"}, {"config.cache.cpu_mem_gb", "0"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"option_2", .verdict = MLPIO_VERDICT_CLOSED},
    {"option_3",
     {{"model", "\"llama3.1-70b-instruct\""},
      {"config.kvcache.num_users", "70"},
      {"config.cache.cpu_mem_gb", "0"},
      {"config.kvcache.max_concurrent_allocs", "4"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"option_values_as_decimals",
     {{"config.kvcache.duration", "300.0"}, {"config.cache.cpu_mem_gb", "4.0"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* Duration: < 30 s INVALID, < 60 s OPEN, then only the option rule judges it. */
    {"duration_29_9",
     {{"config.kvcache.duration", "29.9"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "kvcache.duration",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "at least 30; CLOSED option 2 runs 300 (--option 2)"},
    {"duration_30",
     {{"config.kvcache.duration", "30"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.duration",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "at least 60"},
    {"duration_59_9",
     {{"config.kvcache.duration", "59.9"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.duration",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "at least 60"},
    {"duration_60",
     {{"config.kvcache.duration", "60"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.duration",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set kvcache.duration=300)"},
    /* Users per rank: < 1 INVALID, < 10 OPEN. */
    {"users_0",
     {{"config.kvcache.num_users", "0"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "at least 1"},
    {"users_1",
     {{"config.kvcache.num_users", "1"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "at least 10"},
    {"users_9",
     {{"config.kvcache.num_users", "9"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "at least 10"},
    {"users_10",
     {{"config.kvcache.num_users", "10"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set kvcache.num_users=100)"},
    /* One value away from option 2. */
    {"cpu_8",
     {{"config.cache.cpu_mem_gb", "8"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "cache.cpu_mem_gb",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set cache.cpu_mem_gb=4)"},
    {"gpu_2",
     {{"config.cache.gpu_mem_gb", "2"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "cache.gpu_mem_gb",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set cache.gpu_mem_gb=0)"},
    {"concurrency_8",
     {{"config.kvcache.max_concurrent_allocs", "8"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.max_concurrent_allocs",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set kvcache.max_concurrent_allocs=16)"},
    {"model_mistral",
     {{"model", "\"mistral-7b\""}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "model",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or --model llama3.1-8b)"},
    {"users_300",
     {{"config.kvcache.num_users", "300"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 2 (or set kvcache.num_users=100)"},
    /* One value from option 1 as from option 2: the lower option wins the tie. */
    {"tie_goes_to_option_1",
     {{"config.cache.cpu_mem_gb", "0"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.num_users",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 1 (or set kvcache.num_users=200)"},
    {"closest_is_option_3",
     {{"model", "\"llama3.1-70b-instruct\""},
      {"config.kvcache.num_users", "70"},
      {"config.kvcache.max_concurrent_allocs", "4"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "cache.cpu_mem_gb",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "run with --option 3 (or set cache.cpu_mem_gb=0)"},
    /* What every option runs with. */
    {"seed_null",
     {{"options.seed", "null"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "options.seed",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--seed 42"},
    {"seed_missing",
     {{"options.seed", NULL}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "options.seed",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--seed 42"},
    {"seed_7",
     {{"options.seed", "7"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "options.seed",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--seed 42"},
    {"trials_1",
     {{"config.kvcache.trials", "1"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.trials",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--trials 3"},
    {"trials_5",
     {{"config.kvcache.trials", "5"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.trials",
     .level = MLPIO_ISSUE_OPEN},
    {"generation_fast",
     {{"config.kvcache.generation_mode", "\"fast\""}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.generation_mode",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--generation-mode none"},
    {"generation_realistic",
     {{"config.kvcache.generation_mode", "\"realistic\""}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "kvcache.generation_mode",
     .level = MLPIO_ISSUE_OPEN},
    /* The model's shape: INVALID in either division. */
    {"kv_heads_override", .override = {"model.num_kv_heads", "16", "8", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "model.num_kv_heads",
     .level = MLPIO_ISSUE_INVALID, .hint_has = "remove --params model.num_kv_heads=16"},
    {"layers_override", .override = {"model.num_layers", "16", "32", "config-file"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "model.num_layers",
     .level = MLPIO_ISSUE_INVALID, .hint_has = "back to 32 in the config file"},
    {"hidden_override", .override = {"model.hidden_size", "2048", "4096", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "model.hidden_size",
     .level = MLPIO_ISSUE_INVALID},
    {"heads_override", .override = {"model.num_attention_heads", "64", "32", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "model.num_attention_heads",
     .level = MLPIO_ISSUE_INVALID},
    {"dtype_override", .override = {"model.dtype_bytes", "1", "2", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "model.dtype_bytes",
     .level = MLPIO_ISSUE_INVALID},
    {"reference_override", .override = {"reference.bytes_per_token", "1", "131072", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "reference.bytes_per_token",
     .level = MLPIO_ISSUE_INVALID},
    {"shape_restated_ok", .override = {"model.num_layers", "32", "32", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* The traffic model and the cache design: OPEN. */
    {"max_turns_override", .override = {"kvcache.max_turns", "10", "50", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "kvcache.max_turns", .level = MLPIO_ISSUE_OPEN,
     .hint_has = "remove --params kvcache.max_turns=10"},
    {"multi_turn_off", .override = {"kvcache.multi_turn", "false", "true", "cli"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "kvcache.multi_turn", .level = MLPIO_ISSUE_OPEN,
     .hint_has = "drop the command-line option"},
    {"prompt_tokens_override", .override = {"kvcache.system_prompt_tokens", "0", "1024", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "kvcache.system_prompt_tokens",
     .level = MLPIO_ISSUE_OPEN},
    {"block_tokens_override", .override = {"cache.block_tokens", "256", "128", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "cache.block_tokens", .level = MLPIO_ISSUE_OPEN},
    {"layout_segments", .override = {"cache.layout", "\"segments\"", "\"objects\"", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "cache.layout", .level = MLPIO_ISSUE_OPEN},
    {"eviction_prefix", .override = {"cache.eviction", "\"prefix\"", "\"lru\"", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "cache.eviction", .level = MLPIO_ISSUE_OPEN},
    {"high_water_override", .override = {"cache.high_water", "0.9", "0.8", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "cache.high_water", .level = MLPIO_ISSUE_OPEN},
    {"page_size_override", .override = {"cache.page_size", "65536", "262144", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "cache.page_size", .level = MLPIO_ISSUE_OPEN},
    {"unknown_key_override", .override = {"kvcache.think_time", "0", NULL, "config-file"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "kvcache.think_time", .level = MLPIO_ISSUE_OPEN},
    /* The reference design restated without a reference value is no change. */
    {"layout_objects_ok", .override = {"cache.layout", "\"objects\"", NULL, "config-file"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"eviction_lru_ok", .override = {"cache.eviction", "\"lru\"", NULL, "config-file"},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* What CLOSED lets a submitter choose. */
    {"cache_dir_ok", .override = {"cache.cache_dir", "\"/mnt/other\"", "\"kvcache\"", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"storage_capacity_ok", .override = {"cache.storage_capacity_gb", "2000", "0", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"transfer_size_ok", .override = {"cache.transfer_size", "1048576", "4194304", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"segment_size_ok", .override = {"cache.segment_size", "268435456", "1073741824", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"keep_ok", .override = {"cache.keep", "true", "false", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"precondition_ok", .override = {"cache.precondition", "true", "false", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"precondition_size_ok",
     .override = {"cache.precondition_size", "4294967296", "1073741824", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"profile_ok",
     .override = {"kvcache.performance_profile", "\"throughput\"", "\"latency\"", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* An option parameter overridden to an option's value: the option rule judges it. */
    {"option_value_by_params", .override = {"kvcache.num_users", "100", "10", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* The run options and the cache dir against the results directory: support/rule_cases.h. */
    /* The live conversations against the storage tier's capacity: a warning only. */
    {"working_set_beyond_capacity",
     {{"facts.working_set_bytes_per_rank", "4000000000000"}},
     .verdict = MLPIO_VERDICT_CLOSED,
     .parameter = "cache.storage_capacity_gb",
     .level = MLPIO_ISSUE_WARNING,
     .hint_has = "--storage-capacity-gb"},
    {"working_set_equal_capacity_ok",
     {{"facts.working_set_bytes_per_rank", "3562500000000"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"capacity_unknown_ok",
     {{"facts.working_set_bytes_per_rank", "4000000000000"},
      {"facts.storage_capacity_bytes_per_rank", "0"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"capacity_facts_absent_ok",
     {{"facts.working_set_bytes_per_rank", NULL}, {"facts.storage_capacity_bytes_per_rank", NULL}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"capacity_null_ok",
     {{"facts.working_set_bytes_per_rank", "4000000000000"},
      {"facts.storage_capacity_bytes_per_rank", "null"}},
     .verdict = MLPIO_VERDICT_CLOSED},
};

/* Fixture files of whole runs judged as they are. */
static const struct file_case file_cases[] = {
    {CLEAN, MLPIO_VERDICT_CLOSED, 0, {NULL}},
    /* tiny-1b with its defaults and no seed, on two hosts: closest to option 1 (model, users,
     * duration), 1 trial, no seed. */
    {"open_tiny_defaults.json", MLPIO_VERDICT_OPEN, 6, {"model", "options.seed"}},
    /* Option 3 with twice the KV heads and the cache inside the results directory; the larger
     * working set exceeds the storage tier (a warning). */
    {"invalid_70b_shape_in_results.json",
     MLPIO_VERDICT_INVALID,
     3,
     {"model.num_kv_heads", "cache.cache_dir"}},
};

static const struct malformed_case malformed_cases[] = {
    {"no_kvcache", CLEAN, {"config.kvcache", NULL}, "\"config.kvcache\""},
    {"kvcache_array", CLEAN, {"config.kvcache", "[]"}, "\"config.kvcache\""},
    {"duration_string",
     CLEAN,
     {"config.kvcache.duration", "\"300\""},
     "\"config.kvcache.duration\""},
    {"duration_negative", CLEAN, {"config.kvcache.duration", "-1"}, "\"config.kvcache.duration\""},
    {"no_duration", CLEAN, {"config.kvcache.duration", NULL}, "\"config.kvcache.duration\""},
    {"users_fraction", CLEAN, {"config.kvcache.num_users", "10.5"}, "\"config.kvcache.num_users\""},
    {"users_negative", CLEAN, {"config.kvcache.num_users", "-1"}, "\"config.kvcache.num_users\""},
    {"users_string",
     CLEAN,
     {"config.kvcache.num_users", "\"100\""},
     "\"config.kvcache.num_users\""},
    {"trials_zero", CLEAN, {"config.kvcache.trials", "0"}, "\"config.kvcache.trials\""},
    {"concurrency_zero",
     CLEAN,
     {"config.kvcache.max_concurrent_allocs", "0"},
     "\"config.kvcache.max_concurrent_allocs\""},
    {"generation_number",
     CLEAN,
     {"config.kvcache.generation_mode", "0"},
     "\"config.kvcache.generation_mode\""},
    {"no_cache", CLEAN, {"config.cache", NULL}, "\"config.cache\""},
    {"gpu_negative", CLEAN, {"config.cache.gpu_mem_gb", "-1"}, "\"config.cache.gpu_mem_gb\""},
    {"cpu_string", CLEAN, {"config.cache.cpu_mem_gb", "\"4\""}, "\"config.cache.cpu_mem_gb\""},
    {"cache_dir_relative",
     CLEAN,
     {"config.cache.cache_dir", "\"kvcache\""},
     "\"config.cache.cache_dir\""},
    {"cache_dir_number", CLEAN, {"config.cache.cache_dir", "1"}, "\"config.cache.cache_dir\""},
    {"seed_string", CLEAN, {"options.seed", "\"42\""}, "\"options.seed\""},
    {"seed_negative", CLEAN, {"options.seed", "-42"}, "\"options.seed\""},
    {"working_set_string",
     CLEAN,
     {"facts.working_set_bytes_per_rank", "\"big\""},
     "\"facts.working_set_bytes_per_rank\""},
    {"capacity_negative",
     CLEAN,
     {"facts.storage_capacity_bytes_per_rank", "-1"},
     "\"facts.storage_capacity_bytes_per_rank\""},
    {"other_benchmark", CLEAN, {"benchmark", "\"training\""}, "\"benchmark\""},
};

static const struct rules_suite suite = {
    .group = "rules_kvcache",
    .benchmark = "kvcache",
    .clean = CLEAN,
    .check = mlpio_rules_check_kvcache,
    RULES_TABLES(rule_cases, malformed_cases, file_cases),
    .folder = {"config.cache.cache_dir", "cache.cache_dir", "--cache-dir"},
};

static struct mlpio_verdict_report *judge(const cJSON *run)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    assert_non_null(v);
    if (mlpio_rules_check_kvcache(run, v, &err) != 0)
        fail_msg("%s", err.message);
    return v;
}

/* The presets of the workload's --option, applied as the command line applies them. */
static const struct mlpio_cli_option *option_presets(void)
{
    for (const struct mlpio_cli_option *o = mlpio_workload_kvcache.options; o->name; o++)
        if (o->kind == MLPIO_OPT_PRESET && strcmp(o->name, "option") == 0)
            return o;
    fail_msg("the kvcache workload has no --option");
    return NULL;
}

static void apply_preset(cJSON *run, const struct mlpio_preset *p)
{
    char buf[512], path[128];
    snprintf(buf, sizeof(buf), "%s", p->overrides);
    cJSON_ReplaceItemInObjectCaseSensitive(run, "model", cJSON_CreateString(p->model));
    cJSON_ReplaceItemInObjectCaseSensitive(run, "overrides", cJSON_CreateArray());
    char *save = NULL;
    for (char *kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        assert_non_null(eq);
        *eq = '\0';
        cJSON *value = cJSON_Parse(eq + 1);
        if (!cJSON_IsNumber(value)) {
            cJSON_Delete(value);
            value = cJSON_CreateString(eq + 1);
        }
        char *text = cJSON_PrintUnformatted(value);
        snprintf(path, sizeof(path), "config.%s", kv);
        set_path(run, path, text);
        add_override(run, kv, text, NULL, "preset");
        cJSON_free(text);
        cJSON_Delete(value);
    }
}

/* Every --option preset of the workload is CLOSED, and a run one value away from it is sent
 * back to it by its own number. */
static void test_presets_are_closed(void **state)
{
    const struct mlpio_cli_option *opt = option_presets();
    int n = 0;
    for (const struct mlpio_preset *p = opt->presets; p->value; p++, n++) {
        cJSON *run = load_fixture(&suite, CLEAN);
        apply_preset(run, p);
        struct mlpio_verdict_report *v = judge(run);
        for (int i = 0; i < v->count; i++)
            print_message("--option %s: %s: %s\n", p->value, v->issues[i].parameter,
                          v->issues[i].message);
        assert_int_equal(v->count, 0);
        mlpio_verdict_destroy(&v);

        char want[64];
        set_path(run, "config.kvcache.duration", "301");
        v = judge(run);
        assert_int_equal(v->count, 1);
        snprintf(want, sizeof(want), "run with --option %s (", p->value);
        if (!strstr(v->issues[0].hint, want))
            fail_msg("--option %s: hint \"%s\" lacks \"%s\"", p->value, v->issues[0].hint, want);
        mlpio_verdict_destroy(&v);
        cJSON_Delete(run);
    }
    assert_int_equal(n, 3);
}

/* What the issues say, field by field. */
static void test_issue_fields(void **state)
{
    cJSON *run = load_fixture(&suite, CLEAN);
    set_path(run, "config.cache.cpu_mem_gb", "8");
    set_path(run, "config.kvcache.duration", "29.9");
    set_path(run, "options.seed", "7");
    set_path(run, "config.kvcache.generation_mode", "\"fast\"");
    set_path(run, "facts.working_set_bytes_per_rank", "2147483648");
    set_path(run, "facts.storage_capacity_bytes_per_rank", "1073741824");
    struct mlpio_verdict_report *v = judge(run);
    assert_int_equal(v->count, 5);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_INVALID);

    const struct mlpio_issue *is = find_issue(v, "cache.cpu_mem_gb");
    assert_int_equal(is->level, MLPIO_ISSUE_OPEN);
    assert_string_equal(is->expected, "4");
    assert_string_equal(is->actual, "8");
    assert_string_equal(is->hint, "run with --option 2 (or set cache.cpu_mem_gb=4)");
    /* Two values differ from option 2, the closest. */
    assert_non_null(strstr(is->message, "option 2 is the closest: 2 values differ"));

    is = find_issue(v, "kvcache.duration");
    assert_int_equal(is->level, MLPIO_ISSUE_INVALID);
    assert_string_equal(is->expected, ">= 30");
    assert_string_equal(is->actual, "29.9");
    /* The duration rule speaks for the duration: no second issue about it. */
    for (int i = 0; i < v->count; i++)
        if (&v->issues[i] != is)
            assert_string_not_equal(v->issues[i].parameter, "kvcache.duration");

    is = find_issue(v, "options.seed");
    assert_string_equal(is->expected, "42");
    assert_string_equal(is->actual, "7");
    assert_string_equal(is->hint, "run with --seed 42");

    is = find_issue(v, "kvcache.generation_mode");
    assert_string_equal(is->expected, "none");
    assert_string_equal(is->actual, "fast");

    is = find_issue(v, "cache.storage_capacity_gb");
    assert_int_equal(is->level, MLPIO_ISSUE_WARNING);
    assert_string_equal(is->expected, ">= 2.00 GiB per rank");
    assert_string_equal(is->actual, "1.00 GiB per rank");
    assert_non_null(strstr(is->message, "evicted and recomputed"));
    mlpio_verdict_destroy(&v);

    set_path(run, "options.seed", "null");
    v = judge(run);
    assert_string_equal(find_issue(v, "options.seed")->actual, "(not set)");
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* A run far from every option names each value to change, against option 1. */
static void test_far_from_every_option(void **state)
{
    cJSON *run = load_fixture(&suite, "open_tiny_defaults.json");
    struct mlpio_verdict_report *v = judge(run);
    assert_int_equal(v->count, 6);
    assert_string_equal(find_issue(v, "kvcache.io_model")->expected, "reference");
    assert_string_equal(find_issue(v, "kvcache.io_model")->actual, "blocks");
    assert_string_equal(find_issue(v, "model")->hint,
                        "run with --option 1 (or --model llama3.1-8b)");
    assert_string_equal(find_issue(v, "model")->actual, "tiny-1b");
    assert_string_equal(find_issue(v, "kvcache.num_users")->expected, "200");
    assert_string_equal(find_issue(v, "kvcache.num_users")->actual, "20");
    assert_string_equal(find_issue(v, "kvcache.duration")->hint,
                        "run with --option 1 (or set kvcache.duration=300)");
    assert_non_null(strstr(find_issue(v, "kvcache.duration")->message, "3 values differ"));
    assert_string_equal(find_issue(v, "kvcache.trials")->actual, "1");
    assert_string_equal(find_issue(v, "options.seed")->actual, "(not set)");
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* Whichever issue cannot be recorded, the checker fails with ENOMEM and leaves the report as it
 * found it. */
static void test_out_of_memory(void **state)
{
    cJSON *run = load_fixture(&suite, "open_tiny_defaults.json");
    set_path(run, "options.verify", "true");
    set_path(run, "options.scale", "0.5");
    set_path(run, "options.io_api", "\"null\"");
    set_path(run, "config.cache.cache_dir", "\"/home/bench/mlpio-results/kv\"");
    set_path(run, "facts.working_set_bytes_per_rank", "4000000000000");
    add_override(run, "kvcache.max_turns", "10", "50", "params");
    int failed = 0;
    for (int k = 1;; k++) {
        struct mlpio_verdict_report *v = mlpio_verdict_create();
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "earlier", "", "", "", "kept"),
                         0);
        fail_strdup_at = k;
        int rc = mlpio_rules_check_kvcache(run, v, &err);
        int armed = fail_strdup_at > 0;
        fail_strdup_at = 0;
        if (rc == 0) {
            /* Every issue was recorded: the seam never fired. */
            assert_true(armed);
            assert_int_equal(v->count, 1 + 12);
            mlpio_verdict_destroy(&v);
            break;
        }
        failed++;
        assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
        assert_int_equal(err.cause, ENOMEM);
        assert_non_null(strstr(err.message, "kvcache rules"));
        assert_int_equal(v->count, 1);
        assert_string_equal(v->issues[0].parameter, "earlier");
        mlpio_verdict_destroy(&v);
    }
    /* At least one failure on the way to each of the 11 issues. */
    assert_true(failed >= 11);
    cJSON_Delete(run);
}

int main(void)
{
    static const struct CMUnitTest own[] = {
        cmocka_unit_test(test_presets_are_closed),
        cmocka_unit_test(test_issue_fields),
        cmocka_unit_test(test_far_from_every_option),
        cmocka_unit_test(test_out_of_memory),
    };
    return rules_suite_run(&suite, own, sizeof(own) / sizeof(own[0]));
}
