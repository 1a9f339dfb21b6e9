/* Tests of the training run checker.
 *
 * Rule cases start from a clean CLOSED unet3d run description (a fixture: one host, 8
 * accelerators, the 28000 files the datasize rule asks for) and change the few fields a rule
 * looks at, so each case shows exactly which input triggers which issue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_file.h"
#include "rules/rules.h"

#define CLEAN "closed_unet3d.json"

static cJSON *load_fixture(const char *name)
{
    const char *dir = getenv("MLPIO_FIXTURES");
    char path[1024];
    struct mlpio_error err = {0};
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/runs/training/%s", dir, name);
    cJSON *json = mlpio_json_read_file(path, &err);
    if (!json)
        fail_msg("%s: %s", path, err.message);
    return json;
}

/* Set the member at a dotted path to the JSON value in text (NULL deletes it). */
static void set_path(cJSON *root, const char *dotted, const char *text)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", dotted);
    cJSON *obj = root;
    char *save = NULL;
    char *name = strtok_r(buf, ".", &save);
    char *next;
    while ((next = strtok_r(NULL, ".", &save)) != NULL) {
        obj = cJSON_GetObjectItemCaseSensitive(obj, name);
        assert_true(cJSON_IsObject(obj));
        name = next;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    if (text) {
        cJSON *value = cJSON_Parse(text);
        if (!value)
            fail_msg("bad JSON in test case for %s: %s", dotted, text);
        cJSON_AddItemToObject(obj, name, value);
    }
}

static void add_override(cJSON *run, const char *key, const char *value, const char *reference,
                         const char *source)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddItemToObject(o, "value", cJSON_Parse(value));
    cJSON_AddItemToObject(o, "reference", cJSON_Parse(reference));
    cJSON_AddStringToObject(o, "source", source);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(run, "overrides"), o);
}

static const struct mlpio_issue *find_issue(const struct mlpio_verdict_report *v,
                                            const char *parameter)
{
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->issues[i].parameter, parameter) == 0)
            return &v->issues[i];
    return NULL;
}

static void test_registry(void **state)
{
    assert_ptr_equal(mlpio_rules_run_checker("training"), mlpio_rules_check_training);
    assert_ptr_equal(mlpio_rules_run_checker("checkpointing"), mlpio_rules_check_checkpointing);
}

static void test_clean_closed_run(void **state)
{
    cJSON *run = load_fixture(CLEAN);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_check_training(run, v, &err), 0);
    for (int i = 0; i < v->count; i++)
        print_message("unexpected issue: %s: %s\n", v->issues[i].parameter, v->issues[i].message);
    assert_int_equal(v->count, 0);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_CLOSED);
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

struct mutation {
    const char *path;
    const char *value; /* JSON text; NULL deletes */
};

struct rule_case {
    const char *name;
    struct mutation set[4];
    struct {
        const char *key, *value, *reference, *source;
    } override;
    enum mlpio_verdict verdict;
    const char *parameter; /* the issue expected (NULL: no issue at all) */
    enum mlpio_issue_level level;
    const char *hint_has; /* substring of that issue's hint, or NULL */
};

#define HOSTS2(a, b)                                                                               \
    "[{\"hostname\": \"n1\", \"ranks\": " #a ", \"first_rank\": 0},"                               \
    " {\"hostname\": \"n2\", \"ranks\": " #b ", \"first_rank\": " #a "}]"

static const struct rule_case rule_cases[] = {
    /* CLOSED lets these change. */
    {"closed_read_threads",
     {{"config.reader.read_threads", "16"}},
     .override = {"reader.read_threads", "16", "4", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_storage_and_transfer",
     {{"config.reader.transfer_size", "1048576"}},
     .override = {"reader.transfer_size", "1048576", "262144", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_computation_threads", .override = {"reader.computation_threads", "2", "1", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_storage_root", .override = {"storage.storage_root", "\"/mnt\"", "\"./\"", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_storage_type",
     .override = {"storage.storage_type", "\"parallel_fs\"", "\"local_fs\"", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_checkpoint_folder",
     .override = {"checkpoint.checkpoint_folder", "\"/mnt/c\"", "\"checkpoints/unet3d\"", "cli"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_prefetch_1",
     {{"config.reader.prefetch_size", "1"}},
     .override = {"reader.prefetch_size", "1", "2", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_odirect_unet3d",
     {{"config.reader.odirect", "true"}},
     .override = {"reader.odirect", "true", "false", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_cli_odirect_unet3d", {{"options.odirect", "true"}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_more_files",
     {{"config.dataset.num_files_train", "40000"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"closed_two_even_hosts",
     {{"cluster.hosts", HOSTS2(8, 8)}, {"facts.accelerators", "16"}, {"world_size", "16"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"restated_reference_ok", .override = {"reader.batch_size", "7", "7", "params"},
     .verdict = MLPIO_VERDICT_CLOSED},
    /* OPEN allows these. */
    {"open_framework", .override = {"framework", "\"tensorflow\"", "\"pytorch\"", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "framework", .level = MLPIO_ISSUE_OPEN,
     .hint_has = "remove --params framework=tensorflow"},
    {"open_format", .override = {"dataset.format", "\"hdf5\"", "\"npz\"", "cli"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "dataset.format", .level = MLPIO_ISSUE_OPEN},
    {"open_samples_per_file", .override = {"dataset.num_samples_per_file", "4", "1", "config-file"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "dataset.num_samples_per_file",
     .level = MLPIO_ISSUE_OPEN, .hint_has = "back to 1 in the config file"},
    {"open_data_loader",
     .override = {"reader.data_loader", "\"tensorflow\"", "\"pytorch\"", "params"},
     .verdict = MLPIO_VERDICT_OPEN, .parameter = "reader.data_loader", .level = MLPIO_ISSUE_OPEN},
    /* Anything else is INVALID. */
    {"invalid_batch_size", .override = {"reader.batch_size", "14", "7", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "reader.batch_size",
     .level = MLPIO_ISSUE_INVALID, .hint_has = "remove --params reader.batch_size=14"},
    {"invalid_computation_time", .override = {"train.computation_time", "0.1", "0.323", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "train.computation_time",
     .level = MLPIO_ISSUE_INVALID},
    {"invalid_record_length",
     .override = {"dataset.record_length_bytes", "1000", "146600628", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "dataset.record_length_bytes",
     .level = MLPIO_ISSUE_INVALID},
    {"invalid_epochs", .override = {"train.epochs", "1", "5", "cli"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "train.epochs", .level = MLPIO_ISSUE_INVALID},
    {"invalid_au", .override = {"metric.au", "0.5", "0.9", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "metric.au", .level = MLPIO_ISSUE_INVALID},
    {"invalid_shuffle_off", .override = {"reader.file_shuffle", "\"off\"", "\"seed\"", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "reader.file_shuffle",
     .level = MLPIO_ISSUE_INVALID},
    {"invalid_reference_changed",
     .override = {"reference.accelerator_type", "\"b200\"", "\"h100\"", "params"},
     .verdict = MLPIO_VERDICT_INVALID, .parameter = "reference.accelerator_type",
     .level = MLPIO_ISSUE_INVALID},
    /* Dataset size. */
    {"too_few_files",
     {{"config.dataset.num_files_train", "27999"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.num_files_train",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "dataset.num_files_train=28000"},
    {"datasize_grows_with_hosts",
     {{"facts.datasize_num_files", "56000"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.num_files_train",
     .level = MLPIO_ISSUE_INVALID},
    /* Reader. */
    {"odirect_resnet50",
     {{"model", "\"resnet50\""}, {"config.reader.odirect", "true"}},
     .override = {"reader.odirect", "true", "false", "params"},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "reader.odirect",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "remove --params reader.odirect=true"},
    {"cli_odirect_cosmoflow",
     {{"model", "\"cosmoflow\""}, {"options.odirect", "true"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "reader.odirect",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "--odirect"},
    {"prefetch_3",
     {{"config.reader.prefetch_size", "3"}},
     .override = {"reader.prefetch_size", "3", "2", "cli"},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "reader.prefetch_size",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "reader.prefetch_size"},
    /* Hosts. */
    {"accelerators_not_divisible",
     {{"cluster.hosts", HOSTS2(4, 3)}, {"facts.accelerators", "7"}, {"world_size", "7"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerators_per_host",
     .level = MLPIO_ISSUE_INVALID},
    {"accelerators_uneven",
     {{"cluster.hosts", HOSTS2(3, 5)}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerators_per_host",
     .level = MLPIO_ISSUE_INVALID},
    /* Options. */
    {"scale_half",
     {{"options.scale", "0.5"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "scale",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--scale 1"},
    {"scale_above_one_ok", {{"options.scale", "2"}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"io_api_null",
     {{"options.io_api", "\"null\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "io_api",
     .level = MLPIO_ISSUE_INVALID},
    {"io_api_mpiio_ok", {{"options.io_api", "\"mpiio\""}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"verify_on",
     {{"options.verify", "true"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "verify",
     .level = MLPIO_ISSUE_OPEN},
    /* Data folder and results directory. */
    {"folder_is_results",
     {{"options.results_dir", "\"/data/run\""}, {"config.dataset.data_folder", "\"/data/run/\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.data_folder",
     .level = MLPIO_ISSUE_INVALID},
    {"folder_inside_results",
     {{"options.results_dir", "\"/data/run\""},
      {"config.dataset.data_folder", "\"/data/run/unet3d\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.data_folder",
     .level = MLPIO_ISSUE_INVALID},
    {"results_inside_folder",
     {{"options.results_dir", "\"/data//run/./results\""},
      {"config.dataset.data_folder", "\"/data/run\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.data_folder",
     .level = MLPIO_ISSUE_INVALID},
    {"folder_dotdot_into_results",
     {{"options.results_dir", "\"/data/results\""},
      {"config.dataset.data_folder", "\"/data/x/../results/unet3d\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "dataset.data_folder",
     .level = MLPIO_ISSUE_INVALID},
    {"folder_sibling_prefix_ok",
     {{"options.results_dir", "\"/a/b\""}, {"config.dataset.data_folder", "\"/a/bc\""}},
     .verdict = MLPIO_VERDICT_CLOSED},
};

static void test_rule_case(void **state)
{
    const struct rule_case *c = *state;
    cJSON *run = load_fixture(CLEAN);
    for (int i = 0; i < 4 && c->set[i].path; i++)
        set_path(run, c->set[i].path, c->set[i].value);
    if (c->override.key)
        add_override(run, c->override.key, c->override.value, c->override.reference,
                     c->override.source);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    if (mlpio_rules_check_training(run, v, &err) != 0)
        fail_msg("%s: %s", c->name, err.message);
    for (int i = 0; i < v->count; i++)
        print_message("  %s: [%d] %s: %s (hint: %s)\n", c->name, v->issues[i].level,
                      v->issues[i].parameter, v->issues[i].message, v->issues[i].hint);
    assert_int_equal(mlpio_verdict_of(v), c->verdict);
    if (!c->parameter) {
        assert_int_equal(v->count, 0);
    } else {
        /* One rule, one finding: no rule fires on a neighbour's input. */
        assert_int_equal(v->count, 1);
        const struct mlpio_issue *is = find_issue(v, c->parameter);
        assert_non_null(is);
        assert_int_equal(is->level, c->level);
        assert_true(is->message[0] != '\0');
        assert_true(is->expected[0] != '\0');
        assert_true(is->actual[0] != '\0');
        assert_true(is->hint[0] != '\0');
        if (c->hint_has && !strstr(is->hint, c->hint_has))
            fail_msg("hint \"%s\" lacks \"%s\"", is->hint, c->hint_has);
    }
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* Fixture files of whole runs judged as they are. */
static void test_fixture_runs(void **state)
{
    static const struct {
        const char *file;
        enum mlpio_verdict verdict;
        int count;
        const char *parameters[2];
    } cases[] = {
        {CLEAN, MLPIO_VERDICT_CLOSED, 0, {NULL}},
        /* Two hosts of 4, hdf5 instead of tfrecord, more read threads (allowed). */
        {"open_resnet50_hdf5.json", MLPIO_VERDICT_OPEN, 1, {"dataset.format"}},
        {"invalid_cosmoflow_small_odirect.json",
         MLPIO_VERDICT_INVALID,
         2,
         {"dataset.num_files_train", "reader.odirect"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *run = load_fixture(cases[i].file);
        struct mlpio_verdict_report *v = mlpio_verdict_create();
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_rules_run_checker("training")(run, v, &err), 0);
        if (mlpio_verdict_of(v) != cases[i].verdict || v->count != cases[i].count)
            fail_msg("%s: verdict %s with %d issues", cases[i].file,
                     mlpio_verdict_name(mlpio_verdict_of(v)), v->count);
        for (int p = 0; p < 2 && cases[i].parameters[p]; p++)
            assert_non_null(find_issue(v, cases[i].parameters[p]));
        mlpio_verdict_destroy(&v);
        cJSON_Delete(run);
    }
}

static void test_many_issues_together(void **state)
{
    cJSON *run = load_fixture(CLEAN);
    set_path(run, "options.verify", "true");
    set_path(run, "options.scale", "0.25");
    set_path(run, "config.reader.prefetch_size", "4");
    set_path(run, "config.dataset.num_files_train", "100");
    add_override(run, "framework", "\"tensorflow\"", "\"pytorch\"", "params");
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_check_training(run, v, &err), 0);
    assert_int_equal(v->count, 5);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_INVALID);
    assert_int_equal(find_issue(v, "reader.prefetch_size")->level, MLPIO_ISSUE_INVALID);
    /* Without an override to undo, the hint names the value to set. */
    assert_string_equal(find_issue(v, "reader.prefetch_size")->hint,
                        "set reader.prefetch_size to 2");
    assert_string_equal(find_issue(v, "dataset.num_files_train")->actual, "100");
    assert_string_equal(find_issue(v, "dataset.num_files_train")->expected, ">= 28000");
    assert_int_equal(find_issue(v, "verify")->level, MLPIO_ISSUE_OPEN);
    assert_int_equal(find_issue(v, "scale")->level, MLPIO_ISSUE_OPEN);
    assert_int_equal(find_issue(v, "framework")->level, MLPIO_ISSUE_OPEN);
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

struct malformed_case {
    const char *name;
    const char *file;    /* fixture to start from */
    struct mutation set; /* applied when path is set */
    const char *field;   /* must appear in the error message */
};

static const struct malformed_case malformed_cases[] = {
    {"no_datasize", "malformed_no_datasize.json", {NULL, NULL}, "\"facts.datasize_num_files\""},
    {"datasize_fraction",
     CLEAN,
     {"facts.datasize_num_files", "10.5"},
     "\"facts.datasize_num_files\""},
    {"accelerators_zero", CLEAN, {"facts.accelerators", "0"}, "\"facts.accelerators\""},
    {"accelerators_string", CLEAN, {"facts.accelerators", "\"8\""}, "\"facts.accelerators\""},
    {"no_facts", CLEAN, {"facts", NULL}, "\"facts\""},
    {"no_config", CLEAN, {"config", NULL}, "\"config\""},
    {"no_dataset", CLEAN, {"config.dataset", NULL}, "\"config.dataset\""},
    {"relative_data_folder",
     CLEAN,
     {"config.dataset.data_folder", "\"data/unet3d\""},
     "\"config.dataset.data_folder\""},
    {"data_folder_number",
     CLEAN,
     {"config.dataset.data_folder", "3"},
     "\"config.dataset.data_folder\""},
    {"files_string",
     CLEAN,
     {"config.dataset.num_files_train", "\"28000\""},
     "\"config.dataset.num_files_train\""},
    {"files_zero",
     CLEAN,
     {"config.dataset.num_files_train", "0"},
     "\"config.dataset.num_files_train\""},
    {"no_reader", CLEAN, {"config.reader", NULL}, "\"config.reader\""},
    {"odirect_string", CLEAN, {"config.reader.odirect", "\"no\""}, "\"config.reader.odirect\""},
    {"prefetch_negative",
     CLEAN,
     {"config.reader.prefetch_size", "-1"},
     "\"config.reader.prefetch_size\""},
    {"prefetch_fraction",
     CLEAN,
     {"config.reader.prefetch_size", "1.5"},
     "\"config.reader.prefetch_size\""},
    {"no_options", CLEAN, {"options", NULL}, "\"options\""},
    {"scale_zero", CLEAN, {"options.scale", "0"}, "\"options.scale\""},
    {"scale_string", CLEAN, {"options.scale", "\"1\""}, "\"options.scale\""},
    {"io_api_json_null", CLEAN, {"options.io_api", "null"}, "\"options.io_api\""},
    {"verify_number", CLEAN, {"options.verify", "1"}, "\"options.verify\""},
    {"cli_odirect_string", CLEAN, {"options.odirect", "\"yes\""}, "\"options.odirect\""},
    {"relative_results", CLEAN, {"options.results_dir", "\"results\""}, "\"options.results_dir\""},
    {"overrides_not_array", CLEAN, {"overrides", "{}"}, "\"overrides\""},
    {"override_without_key",
     CLEAN,
     {"overrides", "[{\"value\": 1, \"source\": \"cli\"}]"},
     "\"overrides[0].key\""},
    {"override_without_value",
     CLEAN,
     {"overrides", "[{\"key\": \"a.b\", \"source\": \"cli\"}]"},
     "\"overrides[0].value\""},
    {"override_without_source",
     CLEAN,
     {"overrides", "[{\"key\": \"a.b\", \"value\": 2}]"},
     "\"overrides[0].source\""},
    {"no_cluster", CLEAN, {"cluster", NULL}, "\"cluster\""},
    {"hosts_empty", CLEAN, {"cluster.hosts", "[]"}, "\"cluster.hosts\""},
    {"host_ranks_missing",
     CLEAN,
     {"cluster.hosts", "[{\"hostname\": \"n1\", \"ranks\": 4}, {\"hostname\": \"n2\"}]"},
     "\"cluster.hosts[1].ranks\""},
    {"host_not_object", CLEAN, {"cluster.hosts", "[3]"}, "\"cluster.hosts[0]\""},
    {"other_benchmark", CLEAN, {"benchmark", "\"checkpointing\""}, "\"benchmark\""},
    {"no_model", CLEAN, {"model", NULL}, "\"model\""},
    {"world_size_zero", CLEAN, {"world_size", "0"}, "\"world_size\""},
};

static void test_malformed_case(void **state)
{
    const struct malformed_case *c = *state;
    cJSON *run = load_fixture(c->file);
    if (c->set.path)
        set_path(run, c->set.path, c->set.value);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    /* An earlier checker's issue must survive a failed check untouched. */
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "earlier", "", "", "", "kept"), 0);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_check_training(run, v, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    if (!strstr(err.message, c->field))
        fail_msg("%s: message \"%s\" does not name %s", c->name, err.message, c->field);
    assert_true(err.hint[0] != '\0');
    assert_int_equal(v->count, 1);
    assert_string_equal(v->issues[0].parameter, "earlier");
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* The k-th node below root in pre-order, with its parent (k counts down to 0). */
static cJSON *nth_node(cJSON *root, int *k, cJSON **parent)
{
    cJSON *child;
    cJSON_ArrayForEach(child, root)
    {
        if ((*k)-- == 0) {
            *parent = root;
            return child;
        }
        cJSON *found = nth_node(child, k, parent);
        if (found)
            return found;
    }
    return NULL;
}

/* Every field of a real run replaced by every other JSON type, or removed: the checker either
 * judges the run or fails naming a field, and never touches the report on failure. */
static void test_every_field_mutated(void **state)
{
    static const char *const variants[] = {NULL, "null", "\"s\"", "-1", "true", "[]", "{}"};
    cJSON *pristine = load_fixture(CLEAN);
    int judged = 0, refused = 0;
    for (int node = 0;; node++) {
        for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
            cJSON *run = cJSON_Duplicate(pristine, 1);
            cJSON *parent = NULL;
            int k = node;
            cJSON *target = nth_node(run, &k, &parent);
            if (!target) {
                cJSON_Delete(run);
                cJSON_Delete(pristine);
                assert_true(judged > 0 && refused > 0);
                return;
            }
            if (variants[i])
                assert_true(cJSON_ReplaceItemViaPointer(parent, target, cJSON_Parse(variants[i])));
            else
                cJSON_Delete(cJSON_DetachItemViaPointer(parent, target));
            struct mlpio_verdict_report *v = mlpio_verdict_create();
            struct mlpio_error err = {0};
            if (mlpio_rules_check_training(run, v, &err) == 0) {
                judged++;
            } else {
                refused++;
                assert_int_equal(err.category, MLPIO_ERR_CONFIG);
                assert_non_null(strstr(err.message, "field"));
                assert_int_equal(v->count, 0);
            }
            mlpio_verdict_destroy(&v);
            cJSON_Delete(run);
        }
    }
}

static void test_not_an_object(void **state)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    cJSON *arr = cJSON_CreateArray();
    assert_int_equal(mlpio_rules_check_training(arr, v, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_int_equal(mlpio_rules_check_training(NULL, v, &err), -1);
    assert_int_equal(v->count, 0);
    cJSON *run = load_fixture(CLEAN);
    assert_int_equal(mlpio_rules_check_training(run, NULL, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    cJSON_Delete(run);
    cJSON_Delete(arr);
    mlpio_verdict_destroy(&v);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_registry),      cmocka_unit_test(test_clean_closed_run),
        cmocka_unit_test(test_fixture_runs),  cmocka_unit_test(test_many_issues_together),
        cmocka_unit_test(test_not_an_object), cmocka_unit_test(test_every_field_mutated),
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    size_t nrule = sizeof(rule_cases) / sizeof(rule_cases[0]);
    size_t nbad = sizeof(malformed_cases) / sizeof(malformed_cases[0]);
    struct CMUnitTest *tests = calloc(nfixed + nrule + nbad, sizeof(*tests));
    char(*names)[96] = calloc(nrule + nbad, sizeof(*names));
    if (!tests || !names)
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < nfixed; i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < nrule; i++) {
        snprintf(names[i], sizeof(names[i]), "rule_%s", rule_cases[i].name);
        tests[n++] = (struct CMUnitTest){
            .name = names[i], .test_func = test_rule_case, .initial_state = (void *)&rule_cases[i]};
    }
    for (size_t i = 0; i < nbad; i++) {
        snprintf(names[nrule + i], sizeof(names[0]), "malformed_%s", malformed_cases[i].name);
        tests[n++] = (struct CMUnitTest){.name = names[nrule + i],
                                         .test_func = test_malformed_case,
                                         .initial_state = (void *)&malformed_cases[i]};
    }
    int rc = _cmocka_run_group_tests("rules_training", tests, n, NULL, NULL);
    free(tests);
    free(names);
    return rc;
}
