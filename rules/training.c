/* mlpio rules engine: run checks of the training workload (WORKLOADS.md section 1).
 *
 * As for checkpointing, the run description is first read in one pass that validates every
 * field a rule uses; a malformed document is an error naming the field and leaves the verdict
 * untouched. The rules then judge the validated copy.
 *
 * Issue parameters: "scale", "io_api", "verify", "accelerators_per_host", and dotted config
 * keys ("dataset.num_files_train", "dataset.data_folder", "reader.odirect",
 * "reader.prefetch_size", any overridden key).
 */
#include "rules/rules.h"

#include "rules/fields.h"
#include "rules/submission_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* MLPerf Storage: CLOSED lets a submitter prefetch at most this many batches. */
#define CLOSED_MAX_PREFETCH 2
/* The one model whose reference allows O_DIRECT reads in CLOSED. */
#define ODIRECT_MODEL "unet3d"

struct train_run {
    const char *model;
    double scale;
    const char *io_api;
    int verify;
    int cli_odirect; /* options.odirect, when the description has it */
    const char *results_dir;
    const char *data_folder;
    double num_files;
    int odirect;
    double prefetch;
    const cJSON *overrides; /* validated array of {key, value, reference?, source} */
    const cJSON *hosts;     /* validated array of {hostname, ranks} */
    double datasize_files;
    double accelerators;
};

static int read_run(const cJSON *run, void *copy, struct mlpio_error *err)
{
    struct train_run *r = copy;
    const cJSON *options = NULL, *config = NULL, *dataset = NULL, *reader = NULL, *facts = NULL;
    double world_size;
    memset(r, 0, sizeof(*r));
    if (mlpio_rules_expect_benchmark(run, mlpio_rules_training.name, err))
        return -1;
    if (mlpio_rules_get_string(run, "", "model", &r->model, err) ||
        mlpio_rules_get_count(run, "", "world_size", 1, &world_size, err) ||
        mlpio_rules_get_object(run, "", "options", &options, err) ||
        mlpio_rules_get_positive(options, "options", "scale", &r->scale, err) ||
        mlpio_rules_get_string(options, "options", "io_api", &r->io_api, err) ||
        mlpio_rules_get_bool(options, "options", "verify", &r->verify, err) ||
        mlpio_rules_get_absolute(options, "options", "results_dir", &r->results_dir, err) ||
        mlpio_rules_get_object(run, "", "config", &config, err) ||
        mlpio_rules_get_object(config, "config", "dataset", &dataset, err) ||
        mlpio_rules_get_absolute(dataset, "config.dataset", "data_folder", &r->data_folder, err) ||
        mlpio_rules_get_count(dataset, "config.dataset", "num_files_train", 1, &r->num_files,
                              err) ||
        mlpio_rules_get_object(config, "config", "reader", &reader, err) ||
        mlpio_rules_get_bool(reader, "config.reader", "odirect", &r->odirect, err) ||
        mlpio_rules_get_count(reader, "config.reader", "prefetch_size", 0, &r->prefetch, err) ||
        mlpio_rules_read_overrides(run, &r->overrides, err) ||
        mlpio_rules_read_hosts(run, MLPIO_RULES_MAX_COUNT, &r->hosts, err) ||
        mlpio_rules_get_object(run, "", "facts", &facts, err) ||
        mlpio_rules_get_count(facts, "facts", "datasize_num_files", 0, &r->datasize_files, err) ||
        mlpio_rules_get_count(facts, "facts", "accelerators", 1, &r->accelerators, err))
        return -1;
    /* --odirect on the command line is optional in the description; when present it counts. */
    if (cJSON_GetObjectItemCaseSensitive(options, "odirect") &&
        mlpio_rules_get_bool(options, "options", "odirect", &r->cli_odirect, err))
        return -1;
    return 0;
}

static int in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return 1;
    return 0;
}

/* What a CLOSED submitter may set; the values of some are judged by the rules below. */
static const char *const closed_keys[] = {
    "dataset.num_files_train",      "dataset.num_subfolders_train",
    "dataset.data_folder",          "reader.read_threads",
    "reader.computation_threads",   "reader.transfer_size",
    "reader.prefetch_size",         "reader.odirect",
    "checkpoint.checkpoint_folder", "storage.storage_type",
    "storage.storage_root",
};

/* What an OPEN submitter may change besides. */
static const char *const open_keys[] = {
    "framework",
    "dataset.format",
    "dataset.num_samples_per_file",
    "reader.data_loader",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int check_overrides(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    const cJSON *o;
    cJSON_ArrayForEach(o, r->overrides)
    {
        struct mlpio_rules_change c;
        if (!mlpio_rules_override_change(r->overrides, o, &c) ||
            in_list(c.key, closed_keys, COUNT(closed_keys)))
            continue;
        if (in_list(c.key, open_keys, COUNT(open_keys))) {
            if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, c.key, c.expected, c.actual, c.hint,
                                  "%s differs from the reference workload; OPEN allows it, "
                                  "CLOSED does not",
                                  c.key))
                return -1;
        } else if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, c.key, c.expected, c.actual, c.hint,
                                     "%s may not differ from the reference workload in either "
                                     "division: it changes what is being emulated, not how the "
                                     "storage is used",
                                     c.key)) {
            return -1;
        }
    }
    return 0;
}

static int check_dataset(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    if (r->num_files >= r->datasize_files)
        return 0;
    snprintf(exp, sizeof(exp), ">= %.0f", r->datasize_files);
    snprintf(act, sizeof(act), "%.0f", r->num_files);
    snprintf(hint, sizeof(hint),
             "generate a dataset of at least %.0f files and run with --params "
             "dataset.num_files_train=%.0f",
             r->datasize_files, r->datasize_files);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "dataset.num_files_train", exp, act, hint,
                             "%.0f files are fewer than the %.0f that the datasize rule requires "
                             "for these hosts and accelerators (5x the clients' memory and 500 "
                             "steps per epoch): part of the dataset could be read from the page "
                             "cache",
                             r->num_files, r->datasize_files);
}

static int check_reader(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    if ((r->odirect || r->cli_odirect) && strcmp(r->model, ODIRECT_MODEL) != 0) {
        if (r->odirect)
            mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, "reader.odirect"),
                                  "reader.odirect", "false", hint, sizeof(hint));
        else
            snprintf(hint, sizeof(hint), "run without --odirect");
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "reader.odirect", "false",
                              r->odirect ? "true" : "true (--odirect)", hint,
                              "O_DIRECT reads are allowed for %s only; the %s reference reads "
                              "through the page cache",
                              ODIRECT_MODEL, r->model))
            return -1;
    }
    if (r->prefetch > CLOSED_MAX_PREFETCH) {
        char closed[16];
        snprintf(closed, sizeof(closed), "%d", CLOSED_MAX_PREFETCH);
        snprintf(exp, sizeof(exp), "<= %d", CLOSED_MAX_PREFETCH);
        snprintf(act, sizeof(act), "%.0f", r->prefetch);
        mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, "reader.prefetch_size"),
                              "reader.prefetch_size", closed, hint, sizeof(hint));
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "reader.prefetch_size", exp, act, hint,
                              "prefetching %.0f batches ahead hides storage latency behind more "
                              "compute than a training job of the reference overlaps",
                              r->prefetch))
            return -1;
    }
    return 0;
}

static int check_hosts(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    char act[MLPIO_RULES_TEXT_MAX];
    int hosts = cJSON_GetArraySize(r->hosts);
    const cJSON *first = cJSON_GetArrayItem(r->hosts, 0), *h, *odd = NULL;
    double first_ranks = cJSON_GetObjectItemCaseSensitive(first, "ranks")->valuedouble;
    const char *hint = "run the same number of ranks on every host (for example mpirun "
                       "--map-by ppr:8:node)";
    if (fmod(r->accelerators, hosts) != 0) {
        snprintf(act, sizeof(act), "%.0f accelerators on %d hosts", r->accelerators, hosts);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "accelerators_per_host",
                                 "the same on every host", act, hint,
                                 "%.0f accelerators cannot be spread evenly over %d hosts; "
                                 "every host must emulate the same number of accelerators",
                                 r->accelerators, hosts);
    }
    cJSON_ArrayForEach(h, r->hosts)
    {
        if (cJSON_GetObjectItemCaseSensitive(h, "ranks")->valuedouble != first_ranks) {
            odd = h;
            break;
        }
    }
    if (!odd)
        return 0;
    snprintf(act, sizeof(act), "%.0f on %s, %.0f on %s", first_ranks,
             cJSON_GetObjectItemCaseSensitive(first, "hostname")->valuestring,
             cJSON_GetObjectItemCaseSensitive(odd, "ranks")->valuedouble,
             cJSON_GetObjectItemCaseSensitive(odd, "hostname")->valuestring);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "accelerators_per_host",
                             "the same on every host", act, hint,
                             "hosts emulate different numbers of accelerators (%s); every host "
                             "must carry the same share of the job",
                             act);
}

static int check_options(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    static const struct mlpio_rules_option_words words = {
        .scaled = "every sample",
        .scale_why = "smaller reads hide the storage's behaviour",
        .null_why = "the null backend reads nothing, so the figures measure no storage",
        .verify_why = "verification regenerates and compares every sample inside the timed "
                      "epochs, so the figures include CPU work",
    };
    return mlpio_rules_check_options(v, r->scale, r->io_api, r->verify, &words);
}

static int check_folder(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    return mlpio_rules_check_apart(v, "dataset.data_folder", r->data_folder, r->results_dir,
                                   "data folder", "the dataset",
                                   "put the dataset on the storage under test, outside the "
                                   "results directory (--params dataset.data_folder=<dir>)");
}

/* The rules, in the order the verdict lists their issues (mlpio_rules_run_checks). */
static const struct mlpio_rules_check checks[] = {
    {.name = "overrides", .fn = check_overrides}, {.name = "dataset", .fn = check_dataset},
    {.name = "reader", .fn = check_reader},       {.name = "hosts", .fn = check_hosts},
    {.name = "run options", .fn = check_options}, {.name = "folder", .fn = check_folder},
};

static const struct mlpio_rules_checker checker = {
    .benchmark = &mlpio_rules_training,
    .read = read_run,
    .checks = checks,
    .n = COUNT(checks),
};

int mlpio_rules_check_training(const cJSON *run, struct mlpio_verdict_report *v,
                               struct mlpio_error *err)
{
    struct train_run r;
    return mlpio_rules_judge(&checker, run, &r, v, err);
}

const struct mlpio_rules_benchmark mlpio_rules_training = {
    .name = "training",
    .check = mlpio_rules_check_training,
    .submission = &mlpio_submission_training,
};
