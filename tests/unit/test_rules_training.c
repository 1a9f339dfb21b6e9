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

#include "rules/rules.h"
#include "support/rule_cases.h"

#define CLEAN "closed_unet3d.json"

static const struct rule_case rule_cases[] = {
    /* The run's rules edition decides the models, accelerators and AU floors. */
    {"v2_h100_closed", {{"options.variant", "\"h100\""}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"v3_h100_what_if_only",
     {{"rules_edition", "\"v3.0\""}, {"options.variant", "\"h100\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerator_type",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "--rules-edition v2.0"},
    {"v3_b200_closed",
     {{"rules_edition", "\"v3.0\""}, {"options.variant", "\"b200\""}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"v3_mi355_closed",
     {{"rules_edition", "\"v3.0\""}, {"options.variant", "\"mi355\""}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"v2_b200_unknown",
     {{"options.variant", "\"b200\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerator_type",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "--rules-edition v3.0"},
    {"v3_resnet50_not_a_model",
     {{"rules_edition", "\"v3.0\""}, {"options.variant", "\"b200\""}, {"model", "\"resnet50\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "model",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "unet3d, retinanet"},
    {"v3_retinanet_at_floor",
     {{"rules_edition", "\"v3.0\""},
      {"options.variant", "\"b200\""},
      {"model", "\"retinanet\""},
      {"config.metric.au", "0.85"}},
     .verdict = MLPIO_VERDICT_CLOSED},
    {"v3_retinanet_below_floor",
     {{"rules_edition", "\"v3.0\""},
      {"options.variant", "\"b200\""},
      {"model", "\"retinanet\""},
      {"config.metric.au", "0.8"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "metric.au",
     .level = MLPIO_ISSUE_INVALID,
     .hint_has = "metric.au=0.85"},
    {"v2_unet3d_below_floor",
     {{"config.metric.au", "0.7"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "metric.au",
     .level = MLPIO_ISSUE_INVALID},
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
     {{"cluster.hosts", TWO_HOSTS(8, 8)}, {"facts.accelerators", "16"}, {"world_size", "16"}},
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
     {{"cluster.hosts", TWO_HOSTS(4, 3)}, {"facts.accelerators", "7"}, {"world_size", "7"}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerators_per_host",
     .level = MLPIO_ISSUE_INVALID},
    {"accelerators_uneven",
     {{"cluster.hosts", TWO_HOSTS(3, 5)}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "accelerators_per_host",
     .level = MLPIO_ISSUE_INVALID},
    /* The run options and the data folder against the results directory: support/rule_cases.h. */
};

/* Fixture files of whole runs judged as they are. */
static const struct file_case file_cases[] = {
    {CLEAN, MLPIO_VERDICT_CLOSED, 0, {NULL}},
    /* Two hosts of 4, hdf5 instead of tfrecord, more read threads (allowed). */
    {"open_resnet50_hdf5.json", MLPIO_VERDICT_OPEN, 1, {"dataset.format"}},
    {"invalid_cosmoflow_small_odirect.json",
     MLPIO_VERDICT_INVALID,
     2,
     {"dataset.num_files_train", "reader.odirect"}},
};

static const struct malformed_case malformed_cases[] = {
    {"no_datasize", "malformed_no_datasize.json", {NULL, NULL}, "\"facts.datasize_num_files\""},
    {"datasize_fraction",
     CLEAN,
     {"facts.datasize_num_files", "10.5"},
     "\"facts.datasize_num_files\""},
    {"accelerators_zero", CLEAN, {"facts.accelerators", "0"}, "\"facts.accelerators\""},
    {"accelerators_string", CLEAN, {"facts.accelerators", "\"8\""}, "\"facts.accelerators\""},
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
    {"cli_odirect_string", CLEAN, {"options.odirect", "\"yes\""}, "\"options.odirect\""},
    {"other_benchmark", CLEAN, {"benchmark", "\"checkpointing\""}, "\"benchmark\""},
};

static const struct rules_suite suite = {
    .group = "rules_training",
    .benchmark = "training",
    .clean = CLEAN,
    .check = mlpio_rules_check_training,
    RULES_TABLES(rule_cases, malformed_cases, file_cases),
    .folder = {"config.dataset.data_folder", "dataset.data_folder", "dataset.data_folder=<dir>"},
    .cluster = 1,
};

static void test_many_issues_together(void **state)
{
    cJSON *run = load_fixture(&suite, CLEAN);
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

int main(void)
{
    static const struct CMUnitTest own[] = {
        cmocka_unit_test(test_many_issues_together),
    };
    return rules_suite_run(&suite, own, sizeof(own) / sizeof(own[0]));
}
