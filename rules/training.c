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

#include "rules/edition.h"
#include "rules/fields.h"
#include "rules/submission_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The figures of the run's rules edition that these rules use (edition.h). */
struct train_edition {
    const char *name;
    const cJSON *closed_models, *closed_accels, *open_models, *open_accels, *whatif_accels;
    const cJSON *min_au;  /* {model: fraction} */
    double max_prefetch;  /* CLOSED prefetches at most this many batches */
    const cJSON *odirect; /* the models whose reference allows O_DIRECT reads in CLOSED */
};

struct train_run {
    struct train_edition ed;
    const char *model;
    const char *accelerator; /* options.variant */
    int has_au;
    double au; /* config.metric.au */
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
    double datasize_multiple, datasize_steps; /* the figures datasize_files was computed by */
    double accelerators;
    struct mlpio_rules_fs fs;
};

static int read_edition(const cJSON *run, struct train_edition *e, struct mlpio_error *err)
{
    const cJSON *s = NULL, *closed = NULL, *open = NULL;
    char p[64];
    e->name = mlpio_rules_edition_of(run);
    snprintf(p, sizeof(p), "edition %s: training", e->name);
    if (mlpio_rules_edition_section(run, "training", &s, err) ||
        mlpio_rules_get_object(s, p, "closed", &closed, err) ||
        mlpio_rules_get_object(s, p, "open", &open, err) ||
        mlpio_rules_get_number(s, p, "max_prefetch", 0, &e->max_prefetch, err) ||
        mlpio_rules_get_object(s, p, "min_au", &e->min_au, err))
        return -1;
    e->closed_models = cJSON_GetObjectItemCaseSensitive(closed, "models");
    e->closed_accels = cJSON_GetObjectItemCaseSensitive(closed, "accelerators");
    e->open_models = cJSON_GetObjectItemCaseSensitive(open, "models");
    e->open_accels = cJSON_GetObjectItemCaseSensitive(open, "accelerators");
    e->whatif_accels = cJSON_GetObjectItemCaseSensitive(s, "whatif_accelerators");
    e->odirect = cJSON_GetObjectItemCaseSensitive(s, "odirect_models");
    return 0;
}

int mlpio_rules_training_datasize(const cJSON *run, double *memory_multiple, int *min_steps,
                                  struct mlpio_error *err)
{
    const cJSON *s = NULL, *datasize = NULL;
    char p[64];
    snprintf(p, sizeof(p), "edition %s: training.datasize", mlpio_rules_edition_of(run));
    return mlpio_rules_edition_section(run, "training", &s, err) ||
                   mlpio_rules_get_object(s, p, "datasize", &datasize, err) ||
                   mlpio_rules_get_positive(datasize, p, "memory_multiple", memory_multiple, err) ||
                   mlpio_rules_get_int(datasize, p, "min_steps_per_epoch", 1, min_steps, err)
               ? -1
               : 0;
}

static int read_run(const cJSON *run, void *copy, struct mlpio_error *err)
{
    struct train_run *r = copy;
    const cJSON *options = NULL, *config = NULL, *dataset = NULL, *reader = NULL, *facts = NULL;
    double world_size;
    memset(r, 0, sizeof(*r));
    if (mlpio_rules_read_fs(run, "training", &r->fs, err))
        return -1;
    if (mlpio_rules_expect_benchmark(run, mlpio_rules_training.name, err) ||
        read_edition(run, &r->ed, err))
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
    /* Runs recorded before the figures were: the edition's (5x and 500 in every edition). */
    int steps;
    if (mlpio_rules_training_datasize(run, &r->datasize_multiple, &steps, err) < 0)
        return -1;
    r->datasize_steps = steps;
    if ((cJSON_GetObjectItemCaseSensitive(facts, "datasize_memory_multiple") &&
         mlpio_rules_get_positive(facts, "facts", "datasize_memory_multiple", &r->datasize_multiple,
                                  err)) ||
        (cJSON_GetObjectItemCaseSensitive(facts, "datasize_min_steps") &&
         mlpio_rules_get_count(facts, "facts", "datasize_min_steps", 1, &r->datasize_steps, err)))
        return -1;
    /* The accelerator and the AU floor are absent from descriptions of other programs. */
    r->accelerator = "";
    if (cJSON_GetObjectItemCaseSensitive(options, "variant") &&
        mlpio_rules_get_string(options, "options", "variant", &r->accelerator, err))
        return -1;
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(config, "metric");
    if (metric && (mlpio_rules_get_number(metric, "config.metric", "au", 0, &r->au, err)))
        return -1;
    r->has_au = metric != NULL;
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

/* Into buf: " (--rules-edition X judges it by the X rules)" for the newest other edition whose
 * CLOSED set `what` ("models", "accelerators") holds name, or "". */
static void other_edition(const char *now, const char *what, const char *name, char *buf, size_t n)
{
    const char *found = NULL, *e;
    buf[0] = '\0';
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(mlpio_rules_edition_find(e), "training");
        const cJSON *closed = cJSON_GetObjectItemCaseSensitive(t, "closed");
        if (strcmp(e, now) != 0 &&
            mlpio_rules_edition_lists(cJSON_GetObjectItemCaseSensitive(closed, what), name))
            found = e;
    }
    if (found)
        snprintf(buf, n, ", or judge it by the rules it belongs to (--rules-edition %s)", found);
}

/* Whether CLOSED, OPEN or neither take name (a model or accelerator) under the run's edition. */
static int check_member(const struct train_run *r, const char *param, const char *what,
                        const char *name, const cJSON *closed, const cJSON *open,
                        const cJSON *whatif, struct mlpio_verdict_report *v)
{
    char want[MLPIO_RULES_TEXT_MAX], other[MLPIO_RULES_TEXT_MAX], hint[MLPIO_RULES_TEXT_MAX * 2];
    if (mlpio_rules_edition_lists(closed, name))
        return 0;
    mlpio_rules_edition_join(closed, want, sizeof(want));
    other_edition(r->ed.name, strcmp(param, "model") == 0 ? "models" : "accelerators", name, other,
                  sizeof(other));
    snprintf(hint, sizeof(hint), "use %s %s%s",
             strcmp(param, "model") == 0 ? "model" : "--accelerator-type", want, other);
    if (mlpio_rules_edition_lists(open, name))
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, param, want, name, hint,
                                 "the %s rules accept %s %s in OPEN only; CLOSED takes %s",
                                 r->ed.name, what, name, want);
    if (mlpio_rules_edition_lists(whatif, name))
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, param, want, name, hint,
                                 "under the %s rules %s %s is for what-if runs only, neither "
                                 "CLOSED nor OPEN; CLOSED takes %s",
                                 r->ed.name, what, name, want);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, param, want, name, hint,
                             "%s %s is not a training %s of the %s rules, in either division; "
                             "CLOSED takes %s",
                             what, name, what, r->ed.name, want);
}

/* The model, the accelerator and the AU floor against the run's edition. */
static int check_division(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    const struct train_edition *e = &r->ed;
    if (check_member(r, "model", "model", r->model, e->closed_models, e->open_models, NULL, v) ||
        (r->accelerator[0] && check_member(r, "accelerator_type", "accelerator", r->accelerator,
                                           e->closed_accels, e->open_accels, e->whatif_accels, v)))
        return -1;
    const cJSON *floor = cJSON_GetObjectItemCaseSensitive(e->min_au, r->model);
    if (!r->has_au || !cJSON_IsNumber(floor) || r->au >= floor->valuedouble)
        return 0;
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    snprintf(exp, sizeof(exp), ">= %g", floor->valuedouble);
    snprintf(act, sizeof(act), "%g", r->au);
    snprintf(hint, sizeof(hint), "run with --params metric.au=%g", floor->valuedouble);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "metric.au", exp, act, hint,
                             "the run would pass at %.0f %% accelerator utilisation, below the "
                             "%.0f %% the %s rules require of %s",
                             r->au * 100, floor->valuedouble * 100, e->name, r->model);
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
                             "for these hosts and accelerators (%gx the clients' memory and %.0f "
                             "steps per epoch): part of the dataset could be read from the page "
                             "cache",
                             r->num_files, r->datasize_files, r->datasize_multiple,
                             r->datasize_steps);
}

static int check_reader(const void *run, struct mlpio_verdict_report *v)
{
    const struct train_run *r = run;
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    char models[MLPIO_RULES_TEXT_MAX];
    mlpio_rules_edition_join(r->ed.odirect, models, sizeof(models));
    if ((r->odirect || r->cli_odirect) && !mlpio_rules_edition_lists(r->ed.odirect, r->model)) {
        if (r->odirect)
            mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, "reader.odirect"),
                                  "reader.odirect", "false", hint, sizeof(hint));
        else
            snprintf(hint, sizeof(hint), "run without --odirect");
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "reader.odirect", "false",
                              r->odirect ? "true" : "true (--odirect)", hint,
                              "O_DIRECT reads are allowed for %s only under the %s rules; the "
                              "%s reference reads through the page cache",
                              models, r->ed.name, r->model))
            return -1;
    }
    if (r->prefetch > r->ed.max_prefetch) {
        char closed[16];
        snprintf(closed, sizeof(closed), "%g", r->ed.max_prefetch);
        snprintf(exp, sizeof(exp), "<= %g", r->ed.max_prefetch);
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
    if (mlpio_rules_check_fs(v, "dataset.data_folder", &r->fs, "data folder", "--data-dir DIR"))
        return -1;
    return mlpio_rules_check_apart(v, "dataset.data_folder", r->data_folder, r->results_dir,
                                   "data folder", "the dataset",
                                   "put the dataset on the storage under test, outside the "
                                   "results directory (--params dataset.data_folder=<dir>)");
}

/* The rules, in the order the verdict lists their issues (mlpio_rules_run_checks). */
static const struct mlpio_rules_check checks[] = {
    {.name = "division", .fn = check_division}, {.name = "overrides", .fn = check_overrides},
    {.name = "dataset", .fn = check_dataset},   {.name = "reader", .fn = check_reader},
    {.name = "hosts", .fn = check_hosts},       {.name = "run options", .fn = check_options},
    {.name = "folder", .fn = check_folder},
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
