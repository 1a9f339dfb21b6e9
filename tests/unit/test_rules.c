/* Tests of the rules engine: the verdict report and the checkpointing run checker.
 *
 * Rule cases start from a clean CLOSED llama3-8b run description (a fixture) and change the
 * few fields a rule looks at, so each case shows exactly which input triggers which issue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "support/rule_cases.h"

/* ---- verdict report --------------------------------------------------------------------- */

static void test_verdict_empty_is_closed(void **state)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    assert_non_null(v);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_CLOSED);
    assert_int_equal(mlpio_verdict_of(NULL), MLPIO_VERDICT_CLOSED);
    mlpio_verdict_destroy(&v);
    assert_null(v);
    mlpio_verdict_destroy(&v);
    mlpio_verdict_destroy(NULL);
}

static void test_verdict_worst_level_wins(void **state)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "w", "a", "b", "", "warn"), 0);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_CLOSED);
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "o", "a", "b", "", "open"), 0);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_OPEN);
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "i", "a", "b", "", "bad"), 0);
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "o2", "a", "b", "", "open"), 0);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_INVALID);
    assert_int_equal(v->count, 4);
    mlpio_verdict_destroy(&v);
}

static void test_verdict_add_copies_and_grows(void **state)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    char param[32];
    for (int i = 0; i < 100; i++) {
        snprintf(param, sizeof(param), "p%d", i);
        assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, param, NULL, "x", NULL,
                                           "issue %d of %s", i, "many"),
                         0);
    }
    strcpy(param, "clobbered");
    assert_int_equal(v->count, 100);
    assert_string_equal(v->issues[7].parameter, "p7");
    assert_string_equal(v->issues[99].message, "issue 99 of many");
    assert_string_equal(v->issues[7].expected, "");
    assert_string_equal(v->issues[7].hint, "");
    mlpio_verdict_destroy(&v);
}

static void test_verdict_to_json_shape(void **state)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "w", "e1", "a1", "h1", "m%d", 1), 0);
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "scale", "1", "0.5", "h2", "m2"), 0);
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "x", NULL, NULL, NULL, NULL), 0);
    cJSON *j = mlpio_verdict_to_json(v);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "INVALID");
    cJSON *issues = cJSON_GetObjectItem(j, "issues");
    assert_true(cJSON_IsArray(issues));
    assert_int_equal(cJSON_GetArraySize(issues), 3);
    static const char *const levels[] = {"warning", "open", "invalid"};
    static const char *const fields[] = {"level",  "parameter", "expected",
                                         "actual", "message",   "hint"};
    for (int i = 0; i < 3; i++) {
        cJSON *is = cJSON_GetArrayItem(issues, i);
        assert_int_equal(cJSON_GetArraySize(is), 6);
        for (size_t f = 0; f < 6; f++)
            assert_true(cJSON_IsString(cJSON_GetObjectItem(is, fields[f])));
        assert_string_equal(cJSON_GetObjectItem(is, "level")->valuestring, levels[i]);
    }
    cJSON *open = cJSON_GetArrayItem(issues, 1);
    assert_string_equal(cJSON_GetObjectItem(open, "parameter")->valuestring, "scale");
    assert_string_equal(cJSON_GetObjectItem(open, "expected")->valuestring, "1");
    assert_string_equal(cJSON_GetObjectItem(open, "actual")->valuestring, "0.5");
    assert_string_equal(cJSON_GetObjectItem(open, "hint")->valuestring, "h2");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(issues, 0), "message")->valuestring,
                        "m1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(issues, 2), "message")->valuestring,
                        "");
    cJSON_Delete(j);

    struct mlpio_verdict_report *empty = mlpio_verdict_create();
    j = mlpio_verdict_to_json(empty);
    assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "CLOSED");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "issues")), 0);
    cJSON_Delete(j);
    mlpio_verdict_destroy(&empty);
    mlpio_verdict_destroy(&v);
}

static void test_verdict_names_round_trip(void **state)
{
    static const enum mlpio_verdict all[] = {MLPIO_VERDICT_CLOSED, MLPIO_VERDICT_OPEN,
                                             MLPIO_VERDICT_INVALID};
    static const char *const names[] = {"CLOSED", "OPEN", "INVALID"};
    for (int i = 0; i < 3; i++) {
        enum mlpio_verdict back = (enum mlpio_verdict) - 1;
        assert_string_equal(mlpio_verdict_name(all[i]), names[i]);
        assert_int_equal(mlpio_verdict_parse(mlpio_verdict_name(all[i]), &back), 0);
        assert_int_equal(back, all[i]);
    }
    enum mlpio_verdict out = MLPIO_VERDICT_INVALID;
    assert_int_equal(mlpio_verdict_parse("open", &out), 0);
    assert_int_equal(out, MLPIO_VERDICT_OPEN);
    assert_int_equal(mlpio_verdict_parse("CLOSE", &out), -1);
    assert_int_equal(mlpio_verdict_parse("", &out), -1);
    assert_int_equal(mlpio_verdict_parse(NULL, &out), -1);
    assert_int_equal(out, MLPIO_VERDICT_OPEN);
}

static const struct rule_case rule_cases[] = {
    {"model_without_reference",
     {{"config.reference", NULL}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "model",
     .level = MLPIO_ISSUE_INVALID},
    {"model_reference_null",
     {{"config.reference", "null"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "model",
     .level = MLPIO_ISSUE_INVALID},
    {"fsync_off",
     {{"config.checkpoint.fsync", "false"}},
     .override = {"checkpoint.fsync", "false", "true", "params"},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "checkpoint.fsync",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "remove --params checkpoint.fsync=false"},
    {"too_many_ranks",
     {{"world_size", "16"}, {"cluster.hosts", TWO_HOSTS(8, 8)}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "world_size",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "8 ranks"},
    {"subset_of_ranks",
     {{"world_size", "6"}, {"cluster.hosts", "[{\"hostname\": \"n1\", \"ranks\": 6}]"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "world_size",
     .level = MLPIO_ISSUE_OPEN},
    {"four_ranks_per_host",
     {{"cluster.hosts", TWO_HOSTS(4, 4)}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "ranks_per_host",
     .level = MLPIO_ISSUE_OPEN},
    {"one_sparse_host",
     {{"cluster.hosts", TWO_HOSTS(7, 1)}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "ranks_per_host",
     .level = MLPIO_ISSUE_OPEN},
    /* 5 ranks on a host is enough: only the subset is OPEN here. */
    {"five_ranks_per_host_ok",
     {{"world_size", "5"}, {"cluster.hosts", "[{\"hostname\": \"n1\", \"ranks\": 5}]"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "world_size",
     .level = MLPIO_ISSUE_OPEN},
    {"writes_5",
     {{"config.checkpoint.num_checkpoints_write", "5"}},
     .override = {"checkpoint.num_checkpoints_write", "5", "10", "cli"},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "checkpoint.num_checkpoints_write",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "checkpoint.num_checkpoints_write"},
    {"reads_3",
     {{"config.checkpoint.num_checkpoints_read", "3"}},
     .override = {"checkpoint.num_checkpoints_read", "3", "10", "params"},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "checkpoint.num_checkpoints_read",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "remove --params checkpoint.num_checkpoints_read=3"},
    {"reads_0_allowed",
     {{"config.checkpoint.num_checkpoints_read", "0"}},
     .override = {"checkpoint.num_checkpoints_read", "0", "10", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"nothing_measured",
     {{"config.checkpoint.num_checkpoints_read", "0"},
      {"config.checkpoint.num_checkpoints_write", "0"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "checkpoint.num_checkpoints_write",
     .level = MLPIO_ISSUE_INVALID},
    {"other_override",
     {{"config.checkpoint.transfer_size", "1048576"}},
     .override = {"checkpoint.transfer_size", "1048576", "16777216", "config-file"},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "checkpoint.transfer_size",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "16777216"},
    {"override_of_model_shape",
     {{"config.model.num_layers", "16"}},
     .override = {"model.num_layers", "16", "32", "params"},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "model.num_layers",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "remove --params model.num_layers=16"},
    {"override_restating_reference",
     {{"config.checkpoint.layout", "\"per_rank\""}},
     .override = {"checkpoint.layout", "\"per_rank\"", "\"per_rank\"", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"override_of_reference_block",
     {{"config.reference.closed_ranks", "4"}},
     {"reference.closed_ranks", "4", "8", "params"},
     MLPIO_VERDICT_INVALID,
     "reference.closed_ranks",
     MLPIO_ISSUE_INVALID,
     "remove --params reference.closed_ranks=4"},
    {"cache_not_dropped",
     {{"facts.cache_policy", "\"none\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "cache_policy",
     .level = MLPIO_ISSUE_INVALID},
    {"cache_none_without_reads",
     {{"facts.cache_policy", "\"none\""}, {"config.checkpoint.num_checkpoints_read", "0"}},
     .override = {"checkpoint.num_checkpoints_read", "0", "10", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"cache_not_needed",
     {{"facts.cache_policy", "\"not_needed\""}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"cache_odirect", {{"facts.cache_policy", "\"odirect\""}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"cache_unknown_before_run", {{"facts.cache_policy", NULL}}, .verdict = MLPIO_VERDICT_CLOSED},
    /* 8 h100 of 80 GB hold 640 GB: a 1 PB checkpoint does not fit (Rules 4.3.4). */
    {"accelerators_too_small",
     {{"facts.checkpoint_bytes_full", "1e15"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerator_memory_GB",
     .level = MLPIO_ISSUE_INVALID},
    {"v3_h100_what_if_only",
     {{"rules_edition", "\"v3.0\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "checkpoint.accelerator_type",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "b200, mi355"},
    {"v3_b200_closed",
     {{"rules_edition", "\"v3.0\""}, {"config.checkpoint.accelerator_type", "\"b200\""}},
     .override = {"checkpoint.accelerator_type", "\"b200\"", "\"h100\"", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"v2_b200_not_an_accelerator",
     {{"config.checkpoint.accelerator_type", "\"b200\""}},
     .override = {"checkpoint.accelerator_type", "\"b200\"", "\"h100\"", "params"},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "checkpoint.accelerator_type",
     .level = MLPIO_ISSUE_INVALID},
};

/* Fixture files of whole runs judged as they are. */
static const struct file_case file_cases[] = {
    {"closed_8b.json", MLPIO_VERDICT_CLOSED, 0, {NULL}},
    {"open_subset_70b.json", MLPIO_VERDICT_OPEN, 1, {"world_size"}},
    /* Its model also differs in shape, but without a reference only the model is judged. */
    {"invalid_custom_model.json", MLPIO_VERDICT_INVALID, 1, {"model"}},
};

static const struct malformed_case malformed_cases[] = {
    {"missing_config", "malformed_missing_config.json", {NULL, NULL}, "\"config\""},
    {"world_size_string", "malformed_world_size_string.json", {NULL, NULL}, "\"world_size\""},
    {"world_size_fraction", "closed_8b.json", {"world_size", "7.5"}, "\"world_size\""},
    {"fsync_string",
     "closed_8b.json",
     {"config.checkpoint.fsync", "\"true\""},
     "\"config.checkpoint.fsync\""},
    {"no_checkpoint_block", "closed_8b.json", {"config.checkpoint", NULL}, "\"config.checkpoint\""},
    {"writes_negative",
     "closed_8b.json",
     {"config.checkpoint.num_checkpoints_write", "-1"},
     "\"config.checkpoint.num_checkpoints_write\""},
    {"relative_folder",
     "closed_8b.json",
     {"config.checkpoint.checkpoint_folder", "\"ckpt\""},
     "\"config.checkpoint.checkpoint_folder\""},
    {"reference_not_object", "closed_8b.json", {"config.reference", "8"}, "\"config.reference\""},
    {"unknown_edition", "closed_8b.json", {"rules_edition", "\"v9\""}, "'v9'"},
    {"bytes_full_string",
     "closed_8b.json",
     {"facts.checkpoint_bytes_full", "\"big\""},
     "\"facts.checkpoint_bytes_full\""},
    {"cache_policy_unknown",
     "closed_8b.json",
     {"facts.cache_policy", "\"maybe\""},
     "\"facts.cache_policy\""},
    {"cache_policy_number",
     "closed_8b.json",
     {"facts.cache_policy", "1"},
     "\"facts.cache_policy\""},
    {"other_benchmark", "closed_8b.json", {"benchmark", "\"training\""}, "\"benchmark\""},
};

static const struct rules_suite suite = {
    .group = "rules",
    .benchmark = "checkpointing",
    .clean = "closed_8b.json",
    .check = mlpio_rules_check_checkpointing,
    RULES_TABLES(rule_cases, malformed_cases, file_cases),
    .folder = {"config.checkpoint.checkpoint_folder", "checkpoint.checkpoint_folder",
               "checkpoint.checkpoint_folder=<dir>"},
    .cluster = 1,
};

static void test_many_issues_together(void **state)
{
    cJSON *run = load_fixture(&suite, suite.clean);
    set_path(run, "options.verify", "true");
    set_path(run, "options.scale", "0.5");
    set_path(run, "config.checkpoint.fsync", "false");
    set_path(run, "facts.checkpoint_bytes_full", "1e15");
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_check_checkpointing(run, v, &err), 0);
    assert_int_equal(v->count, 4);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_INVALID);
    assert_int_equal(find_issue(v, "checkpoint.fsync")->level, MLPIO_ISSUE_INVALID);
    /* Without an override to undo, the hint names the value to set. */
    assert_string_equal(find_issue(v, "checkpoint.fsync")->hint, "set checkpoint.fsync to true");
    assert_int_equal(find_issue(v, "verify")->level, MLPIO_ISSUE_OPEN);
    assert_int_equal(find_issue(v, "scale")->level, MLPIO_ISSUE_OPEN);
    assert_int_equal(find_issue(v, "accelerator_memory_GB")->level, MLPIO_ISSUE_INVALID);
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* The pre-run refusal of a data folder against the results dir, for every relation. */
static void test_refuse_in_results(void **state)
{
    (void)state;
    static const struct {
        const char *folder, *results, *how; /* how: NULL when the folder is accepted */
    } cases[] = {
        {"/r", "/r", "is"},
        {"/r/data", "/r", "is inside"},
        {"/d", "/d/results", "contains"},
        {"/r/./data/", "/r", "is inside"},
        {"/rdata", "/r", NULL},
        {"/data", "/results", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_error err = {0};
        int rc = mlpio_rules_refuse_in_results("data folder", "--data-dir", cases[i].folder,
                                               cases[i].results, &err);
        if (!cases[i].how) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        assert_non_null(strstr(err.message, cases[i].how));
        assert_non_null(strstr(err.message, cases[i].results));
        assert_non_null(strstr(err.hint, "--data-dir DIR"));
        assert_non_null(strstr(err.hint, "--results-dir DIR"));
    }
}

int main(void)
{
    static const struct CMUnitTest own[] = {
        cmocka_unit_test(test_verdict_empty_is_closed),
        cmocka_unit_test(test_verdict_worst_level_wins),
        cmocka_unit_test(test_verdict_add_copies_and_grows),
        cmocka_unit_test(test_verdict_to_json_shape),
        cmocka_unit_test(test_verdict_names_round_trip),
        cmocka_unit_test(test_many_issues_together),
        cmocka_unit_test(test_refuse_in_results),
    };
    return rules_suite_run(&suite, own, sizeof(own) / sizeof(own[0]));
}
