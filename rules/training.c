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

#include "io/path.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLPerf Storage: CLOSED lets a submitter prefetch at most this many batches. */
#define CLOSED_MAX_PREFETCH 2
/* The one model whose reference allows O_DIRECT reads in CLOSED. */
#define ODIRECT_MODEL "unet3d"
/* Largest count a JSON number (a double) holds exactly. */
#define MAX_EXACT_COUNT 9007199254740992.0
#define TEXT_MAX 256

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

static const char *type_name(const cJSON *item)
{
    if (!item)
        return "missing";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "of an unknown type";
}

static int bad_field(const char *path, const char *expected, const cJSON *found,
                     struct mlpio_error *err)
{
    if (found)
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "run description: field \"%s\" must be %s, found %s",
                        path, expected, type_name(found));
    else
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run description: field \"%s\" is missing (expected %s)", path, expected);
    return mlpio_error_hint(err, "the run description is built by mlpio from the workload "
                                 "config; a *_metadata.json file that fails this check is "
                                 "damaged or was written by another mlpio version");
}

static const cJSON *member(const cJSON *obj, const char *prefix, const char *name, char *path,
                           size_t n)
{
    snprintf(path, n, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static int get_object(const cJSON *obj, const char *prefix, const char *name, const cJSON **out,
                      struct mlpio_error *err)
{
    char path[TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsObject(it))
        return bad_field(path, "an object", it, err);
    *out = it;
    return 0;
}

static int get_string(const cJSON *obj, const char *prefix, const char *name, const char **out,
                      struct mlpio_error *err)
{
    char path[TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsString(it) || !it->valuestring)
        return bad_field(path, "a string", it, err);
    *out = it->valuestring;
    return 0;
}

static int get_bool(const cJSON *obj, const char *prefix, const char *name, int *out,
                    struct mlpio_error *err)
{
    char path[TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsBool(it))
        return bad_field(path, "true or false", it, err);
    *out = cJSON_IsTrue(it);
    return 0;
}

/* A finite number > 0. */
static int get_positive(const cJSON *obj, const char *prefix, const char *name, double *out,
                        struct mlpio_error *err)
{
    char path[TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !(it->valuedouble > 0))
        return bad_field(path, "a number > 0", it, err);
    *out = it->valuedouble;
    return 0;
}

/* A whole number in [min, 2^53]; 8.0 is accepted, 8.5 is not. */
static int get_count(const cJSON *obj, const char *prefix, const char *name, double min,
                     double *out, struct mlpio_error *err)
{
    char path[TEXT_MAX];
    char what[64];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    snprintf(what, sizeof(what), "an integer >= %.0f", min);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
        it->valuedouble > MAX_EXACT_COUNT || floor(it->valuedouble) != it->valuedouble)
        return bad_field(path, what, it, err);
    *out = it->valuedouble;
    return 0;
}

static int get_absolute(const cJSON *obj, const char *prefix, const char *name, const char **out,
                        struct mlpio_error *err)
{
    char path[TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsString(it) || !it->valuestring)
        return bad_field(path, "a string", it, err);
    if (it->valuestring[0] != '/')
        return bad_field(path, "an absolute path", it, err);
    *out = it->valuestring;
    return 0;
}

static int read_overrides(const cJSON *run, struct train_run *r, struct mlpio_error *err)
{
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(run, "overrides");
    if (!cJSON_IsArray(ov))
        return bad_field("overrides", "an array", ov, err);
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, ov)
    {
        char prefix[64];
        const char *s;
        snprintf(prefix, sizeof(prefix), "overrides[%d]", i++);
        if (!cJSON_IsObject(o))
            return bad_field(prefix, "an object", o, err);
        if (get_string(o, prefix, "key", &s, err) || get_string(o, prefix, "source", &s, err))
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(o, "value")) {
            char path[TEXT_MAX];
            snprintf(path, sizeof(path), "%s.value", prefix);
            return bad_field(path, "a JSON value", NULL, err);
        }
    }
    r->overrides = ov;
    return 0;
}

static int read_hosts(const cJSON *run, struct train_run *r, struct mlpio_error *err)
{
    const cJSON *cluster = NULL, *hosts = NULL;
    if (get_object(run, "", "cluster", &cluster, err))
        return -1;
    hosts = cJSON_GetObjectItemCaseSensitive(cluster, "hosts");
    if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) < 1)
        return bad_field("cluster.hosts", "a non-empty array", hosts, err);
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts)
    {
        char prefix[64];
        const char *name;
        double ranks;
        snprintf(prefix, sizeof(prefix), "cluster.hosts[%d]", i++);
        if (!cJSON_IsObject(h))
            return bad_field(prefix, "an object", h, err);
        if (get_string(h, prefix, "hostname", &name, err) ||
            get_count(h, prefix, "ranks", 1, &ranks, err))
            return -1;
    }
    r->hosts = hosts;
    return 0;
}

static int read_run(const cJSON *run, struct train_run *r, struct mlpio_error *err)
{
    const cJSON *options = NULL, *config = NULL, *dataset = NULL, *reader = NULL, *facts = NULL;
    const char *benchmark = NULL;
    double world_size;
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(run))
        return bad_field("(run description)", "an object", run, err);
    if (get_string(run, "", "benchmark", &benchmark, err))
        return -1;
    if (strcmp(benchmark, "training") != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run description: field \"benchmark\" is \"%s\", the training rules "
                        "cannot judge it",
                        benchmark);
        return mlpio_error_hint(err, "judge the run with the checker of its own benchmark");
    }
    if (get_string(run, "", "model", &r->model, err) ||
        get_count(run, "", "world_size", 1, &world_size, err) ||
        get_object(run, "", "options", &options, err) ||
        get_positive(options, "options", "scale", &r->scale, err) ||
        get_string(options, "options", "io_api", &r->io_api, err) ||
        get_bool(options, "options", "verify", &r->verify, err) ||
        get_absolute(options, "options", "results_dir", &r->results_dir, err) ||
        get_object(run, "", "config", &config, err) ||
        get_object(config, "config", "dataset", &dataset, err) ||
        get_absolute(dataset, "config.dataset", "data_folder", &r->data_folder, err) ||
        get_count(dataset, "config.dataset", "num_files_train", 1, &r->num_files, err) ||
        get_object(config, "config", "reader", &reader, err) ||
        get_bool(reader, "config.reader", "odirect", &r->odirect, err) ||
        get_count(reader, "config.reader", "prefetch_size", 0, &r->prefetch, err) ||
        read_overrides(run, r, err) || read_hosts(run, r, err) ||
        get_object(run, "", "facts", &facts, err) ||
        get_count(facts, "facts", "datasize_num_files", 0, &r->datasize_files, err) ||
        get_count(facts, "facts", "accelerators", 1, &r->accelerators, err))
        return -1;
    /* --odirect on the command line is optional in the description; when present it counts. */
    if (cJSON_GetObjectItemCaseSensitive(options, "odirect") &&
        get_bool(options, "options", "odirect", &r->cli_odirect, err))
        return -1;
    return 0;
}

/* JSON value as a person reads it: strings without quotes, "(not set)" when absent. */
static void value_text(const cJSON *item, char *buf, size_t n)
{
    if (!item) {
        snprintf(buf, n, "(not set)");
        return;
    }
    if (cJSON_IsString(item)) {
        snprintf(buf, n, "%s", item->valuestring);
        return;
    }
    char *printed = cJSON_PrintUnformatted(item);
    snprintf(buf, n, "%s", printed ? printed : "?");
    cJSON_free(printed);
}

/* The last override of key (later sources win), or NULL. */
static const cJSON *find_override(const struct train_run *r, const char *key)
{
    const cJSON *o, *found = NULL;
    cJSON_ArrayForEach(o, r->overrides)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring, key) == 0)
            found = o;
    }
    return found;
}

/* How to undo an override, phrased for where it came from. */
static void undo_hint(const cJSON *ov, const char *key, const char *closed, char *buf, size_t n)
{
    char value[TEXT_MAX] = "";
    const char *source = ov ? cJSON_GetObjectItemCaseSensitive(ov, "source")->valuestring : "";
    if (ov)
        value_text(cJSON_GetObjectItemCaseSensitive(ov, "value"), value, sizeof(value));
    if (strcmp(source, "params") == 0)
        snprintf(buf, n, "remove --params %s=%s", key, value);
    else if (strcmp(source, "cli") == 0)
        snprintf(buf, n, "drop the command-line option that sets %s to %s", key, value);
    else if (strcmp(source, "config-file") == 0)
        snprintf(buf, n, "set %s back to %s in the config file (or remove it there)", key, closed);
    else
        snprintf(buf, n, "set %s to %s", key, closed);
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

static int check_overrides(const struct train_run *r, struct mlpio_verdict_report *v)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, r->overrides)
    {
        const char *key = cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "reference");
        char exp[TEXT_MAX], act[TEXT_MAX], hint[TEXT_MAX];
        if (in_list(key, closed_keys, COUNT(closed_keys)) || find_override(r, key) != o)
            continue;
        /* Restating the reference value changes nothing the storage sees. */
        if (ref && cJSON_Compare(value, ref, 1))
            continue;
        value_text(ref, exp, sizeof(exp));
        value_text(value, act, sizeof(act));
        undo_hint(o, key, exp, hint, sizeof(hint));
        if (in_list(key, open_keys, COUNT(open_keys))) {
            if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, key, exp, act, hint,
                                  "%s differs from the reference workload; OPEN allows it, "
                                  "CLOSED does not",
                                  key))
                return -1;
        } else if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, key, exp, act, hint,
                                     "%s may not differ from the reference workload in either "
                                     "division: it changes what is being emulated, not how the "
                                     "storage is used",
                                     key)) {
            return -1;
        }
    }
    return 0;
}

static int check_dataset(const struct train_run *r, struct mlpio_verdict_report *v)
{
    char exp[64], act[64], hint[TEXT_MAX];
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

static int check_reader(const struct train_run *r, struct mlpio_verdict_report *v)
{
    char exp[64], act[64], hint[TEXT_MAX];
    if ((r->odirect || r->cli_odirect) && strcmp(r->model, ODIRECT_MODEL) != 0) {
        if (r->odirect)
            undo_hint(find_override(r, "reader.odirect"), "reader.odirect", "false", hint,
                      sizeof(hint));
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
        undo_hint(find_override(r, "reader.prefetch_size"), "reader.prefetch_size", closed, hint,
                  sizeof(hint));
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "reader.prefetch_size", exp, act, hint,
                              "prefetching %.0f batches ahead hides storage latency behind more "
                              "compute than a training job of the reference overlaps",
                              r->prefetch))
            return -1;
    }
    return 0;
}

static int check_hosts(const struct train_run *r, struct mlpio_verdict_report *v)
{
    char act[TEXT_MAX];
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

static int check_options(const struct train_run *r, struct mlpio_verdict_report *v)
{
    char act[64];
    if (r->scale < 1) {
        snprintf(act, sizeof(act), "%g", r->scale);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "scale", "1", act, "run with --scale 1",
                              "scale %g shrinks every sample to %.3g%% of its CLOSED size; "
                              "smaller reads hide the storage's behaviour",
                              r->scale, r->scale * 100))
            return -1;
    }
    if (strcmp(r->io_api, "null") == 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "io_api", "posix, mpiio or hdf5", "null",
                          "choose an I/O API that stores data (--io-api posix, mpiio or hdf5)",
                          "the null backend reads nothing, so the figures measure no storage"))
        return -1;
    if (r->verify &&
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "verify", "false", "true",
                          "run without --verify (verify the data in a separate run)",
                          "verification regenerates and compares every sample inside the timed "
                          "epochs, so the figures include CPU work"))
        return -1;
    return 0;
}

static int check_folder(const struct train_run *r, struct mlpio_verdict_report *v)
{
    char *folder = mlpio_path_normalize(r->data_folder);
    char *results = mlpio_path_normalize(r->results_dir);
    int rc = -1;
    if (!folder || !results)
        goto out;
    rc = 0;
    if (mlpio_path_within(folder, results) || mlpio_path_within(results, folder)) {
        const char *how = strcmp(folder, results) == 0         ? "is"
                          : mlpio_path_within(results, folder) ? "is inside"
                                                               : "contains";
        rc = mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "dataset.data_folder",
                               "outside the results directory", folder,
                               "put the dataset on the storage under test, outside the results "
                               "directory (--params dataset.data_folder=<dir>)",
                               "the data folder %s %s the results directory %s: the dataset "
                               "would mix with results, and cleaning one destroys the other",
                               folder, how, results);
    }
out:
    free(folder);
    free(results);
    return rc;
}

/* Drop issues added past `keep` so that a failed check leaves the report as it was. */
static void truncate_report(struct mlpio_verdict_report *v, int keep)
{
    while (v->count > keep) {
        struct mlpio_issue *is = &v->issues[--v->count];
        free(is->parameter);
        free(is->expected);
        free(is->actual);
        free(is->message);
        free(is->hint);
        memset(is, 0, sizeof(*is));
    }
}

int mlpio_rules_check_training(const cJSON *run, struct mlpio_verdict_report *v,
                               struct mlpio_error *err)
{
    struct train_run r;
    if (!v)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "training rules: no verdict report");
    if (read_run(run, &r, err))
        return -1;
    int keep = v->count;
    int rc = check_overrides(&r, v);
    if (!rc)
        rc = check_dataset(&r, v);
    if (!rc)
        rc = check_reader(&r, v);
    if (!rc)
        rc = check_hosts(&r, v);
    if (!rc)
        rc = check_options(&r, v);
    if (!rc)
        rc = check_folder(&r, v);
    if (rc) {
        truncate_report(v, keep);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "training rules: cannot record an issue");
    }
    return 0;
}
