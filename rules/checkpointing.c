/* mlpio rules engine: run checks of the checkpointing workload (WORKLOADS.md section 2).
 *
 * The run description is read in one pass that validates every field the rules use, then the
 * rules are applied to the validated copy. So a malformed document (metadata read back from
 * disk) is an error naming the field and leaves the verdict untouched, never a crash or a
 * half-judged run.
 *
 * Issue parameters: "model", "world_size", "ranks_per_host", "scale", "io_api", "verify",
 * "cache_policy", "accelerator_memory_GB", and dotted config keys ("checkpoint.fsync",
 * "checkpoint.num_checkpoints_write", "checkpoint.checkpoint_folder", any overridden key).
 */
#include "rules/rules.h"

#include "io/path.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLPerf Storage: CLOSED writes and reads 10 checkpoints; 0 skips a phase. */
#define CLOSED_NUM_CHECKPOINTS 10
/* CLOSED needs more than this many ranks on every host. */
#define MAX_SPARSE_RANKS_PER_HOST 4
#define TEXT_MAX 256

struct ckpt_run {
    const char *model;
    int world_size;
    double scale;
    const char *io_api;
    int verify;
    const char *results_dir;
    const cJSON *reference; /* NULL when the model is not a shipped definition */
    int closed_ranks;
    const char *folder;
    int fsync;
    int num_write;
    int num_read;
    const cJSON *overrides; /* validated array of {key, value, reference?, source} */
    const cJSON *hosts;     /* validated array of {hostname, ranks} */
    double bytes_full;
    double accel_gb;
    const char *cache_policy; /* NULL before the run */
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

/* A finite number >= min. */
static int get_number(const cJSON *obj, const char *prefix, const char *name, double min,
                      double *out, struct mlpio_error *err)
{
    char path[TEXT_MAX];
    char what[64];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    snprintf(what, sizeof(what), "a number >= %g", min);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min)
        return bad_field(path, what, it, err);
    *out = it->valuedouble;
    return 0;
}

/* An integer in [min, INT_MAX]; 8.0 is accepted, 8.5 is not. */
static int get_int(const cJSON *obj, const char *prefix, const char *name, int min, int *out,
                   struct mlpio_error *err)
{
    char path[TEXT_MAX];
    char what[64];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    snprintf(what, sizeof(what), "an integer >= %d", min);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
        it->valuedouble > INT_MAX || floor(it->valuedouble) != it->valuedouble)
        return bad_field(path, what, it, err);
    *out = (int)it->valuedouble;
    return 0;
}

static int read_overrides(const cJSON *run, struct ckpt_run *r, struct mlpio_error *err)
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

static int read_hosts(const cJSON *run, struct ckpt_run *r, struct mlpio_error *err)
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
        int ranks;
        snprintf(prefix, sizeof(prefix), "cluster.hosts[%d]", i++);
        if (!cJSON_IsObject(h))
            return bad_field(prefix, "an object", h, err);
        if (get_string(h, prefix, "hostname", &name, err) ||
            get_int(h, prefix, "ranks", 1, &ranks, err))
            return -1;
    }
    r->hosts = hosts;
    return 0;
}

static int read_run(const cJSON *run, struct ckpt_run *r, struct mlpio_error *err)
{
    const cJSON *options = NULL, *config = NULL, *ckpt = NULL, *facts = NULL, *it = NULL;
    const char *benchmark = NULL;
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(run))
        return bad_field("(run description)", "an object", run, err);
    if (get_string(run, "", "benchmark", &benchmark, err))
        return -1;
    if (strcmp(benchmark, "checkpointing") != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run description: field \"benchmark\" is \"%s\", the checkpointing "
                        "rules cannot judge it",
                        benchmark);
        return mlpio_error_hint(err, "judge the run with the checker of its own benchmark");
    }
    if (get_string(run, "", "model", &r->model, err) ||
        get_int(run, "", "world_size", 1, &r->world_size, err) ||
        get_object(run, "", "options", &options, err) ||
        get_number(options, "options", "scale", 0, &r->scale, err) ||
        get_string(options, "options", "io_api", &r->io_api, err) ||
        get_bool(options, "options", "verify", &r->verify, err) ||
        get_string(options, "options", "results_dir", &r->results_dir, err) ||
        get_object(run, "", "config", &config, err) ||
        get_object(config, "config", "checkpoint", &ckpt, err) ||
        get_string(ckpt, "config.checkpoint", "checkpoint_folder", &r->folder, err) ||
        get_bool(ckpt, "config.checkpoint", "fsync", &r->fsync, err) ||
        get_int(ckpt, "config.checkpoint", "num_checkpoints_write", 0, &r->num_write, err) ||
        get_int(ckpt, "config.checkpoint", "num_checkpoints_read", 0, &r->num_read, err) ||
        read_overrides(run, r, err) || read_hosts(run, r, err) ||
        get_object(run, "", "facts", &facts, err) ||
        get_number(facts, "facts", "checkpoint_bytes_full", 0, &r->bytes_full, err) ||
        get_number(facts, "facts", "accelerator_memory_GB", 0, &r->accel_gb, err))
        return -1;
    if (r->scale <= 0)
        return bad_field("options.scale", "a number > 0", cJSON_GetObjectItem(options, "scale"),
                         err);
    if (r->folder[0] != '/')
        return bad_field("config.checkpoint.checkpoint_folder", "an absolute path",
                         cJSON_GetObjectItem(ckpt, "checkpoint_folder"), err);
    if (r->results_dir[0] != '/')
        return bad_field("options.results_dir", "an absolute path",
                         cJSON_GetObjectItem(options, "results_dir"), err);

    /* A null reference is what a writer emits for "no reference": the model check judges it. */
    it = cJSON_GetObjectItemCaseSensitive(config, "reference");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsObject(it))
            return bad_field("config.reference", "an object", it, err);
        if (get_int(it, "config.reference", "closed_ranks", 1, &r->closed_ranks, err))
            return -1;
        r->reference = it;
    }

    /* The cache policy is known only once the read phase has run. */
    it = cJSON_GetObjectItemCaseSensitive(facts, "cache_policy");
    if (it && !cJSON_IsNull(it)) {
        static const char *const policies[] = {"fadvise", "odirect", "none", "not_needed"};
        if (!cJSON_IsString(it))
            return bad_field("facts.cache_policy", "a string", it, err);
        for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
            if (strcmp(it->valuestring, policies[i]) == 0)
                r->cache_policy = policies[i];
        if (!r->cache_policy) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG,
                            "run description: field \"facts.cache_policy\" is \"%s\", expected "
                            "fadvise, odirect, none or not_needed",
                            it->valuestring);
            return mlpio_error_hint(err, "the run metadata is damaged or was written by another "
                                         "mlpio version");
        }
    }
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
static const cJSON *find_override(const struct ckpt_run *r, const char *key)
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

static int check_ranks(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char exp[TEXT_MAX], act[TEXT_MAX], hint[TEXT_MAX];
    if (!r->reference)
        return 0;
    snprintf(exp, sizeof(exp), "%d", r->closed_ranks);
    snprintf(act, sizeof(act), "%d", r->world_size);
    snprintf(hint, sizeof(hint), "run with %d ranks (mpirun -np %d)", r->closed_ranks,
             r->closed_ranks);
    if (r->world_size > r->closed_ranks)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "world_size", exp, act, hint,
                                 "%d ranks is more than the %d ranks of the %s job: the "
                                 "workload has no checkpoint data for the extra ranks",
                                 r->world_size, r->closed_ranks, r->model);
    if (r->world_size < r->closed_ranks)
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "world_size", exp, act, hint,
                                 "subset mode: %d ranks emulate ranks 0..%d of the %d-rank %s "
                                 "job; CLOSED needs the full job",
                                 r->world_size, r->world_size - 1, r->closed_ranks, r->model);
    return 0;
}

static int check_hosts(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char names[TEXT_MAX] = "", exp[32], act[TEXT_MAX];
    int sparse = 0, hosts = 0, min_ranks = INT_MAX;
    const char *min_host = "";
    const cJSON *h;
    cJSON_ArrayForEach(h, r->hosts)
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(h, "hostname")->valuestring;
        int ranks = (int)cJSON_GetObjectItemCaseSensitive(h, "ranks")->valuedouble;
        hosts++;
        if (ranks > MAX_SPARSE_RANKS_PER_HOST)
            continue;
        /* One issue for all hosts: a job on thousands of hosts must not list thousands. */
        if (sparse < 3) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof(names) - used, "%s%s (%d)", sparse ? ", " : "", name,
                     ranks);
        }
        sparse++;
        if (ranks < min_ranks) {
            min_ranks = ranks;
            min_host = name;
        }
    }
    if (!sparse)
        return 0;
    snprintf(exp, sizeof(exp), "> %d", MAX_SPARSE_RANKS_PER_HOST);
    snprintf(act, sizeof(act), "%d on %s", min_ranks, min_host);
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "ranks_per_host", exp, act,
                             "place more than 4 ranks on every host (for example mpirun "
                             "--map-by ppr:8:node), using fewer hosts if needed",
                             "%d of %d hosts run %d or fewer ranks: %s%s; CLOSED needs more than "
                             "%d ranks per host so that each client carries a realistic share of "
                             "the checkpoint",
                             sparse, hosts, MAX_SPARSE_RANKS_PER_HOST, names,
                             sparse > 3 ? ", ..." : "", MAX_SPARSE_RANKS_PER_HOST);
}

static int check_count(const struct ckpt_run *r, const char *key, int value,
                       struct mlpio_verdict_report *v)
{
    char act[32], hint[TEXT_MAX], closed[16];
    if (value == 0 || value == CLOSED_NUM_CHECKPOINTS)
        return 0;
    snprintf(act, sizeof(act), "%d", value);
    snprintf(closed, sizeof(closed), "%d", CLOSED_NUM_CHECKPOINTS);
    undo_hint(find_override(r, key), key, closed, hint, sizeof(hint));
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, key, "0 or 10", act, hint,
                             "CLOSED runs %d checkpoints per phase (0 skips the phase); %d "
                             "changes how long the storage is under load",
                             CLOSED_NUM_CHECKPOINTS, value);
}

static int check_checkpoint_config(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char hint[TEXT_MAX];
    if (!r->fsync) {
        undo_hint(find_override(r, "checkpoint.fsync"), "checkpoint.fsync", "true", hint,
                  sizeof(hint));
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.fsync", "true", "false", hint,
                              "without fsync a checkpoint phase can end before the data reaches "
                              "the storage, so it measures the page cache"))
            return -1;
    }
    if (check_count(r, "checkpoint.num_checkpoints_write", r->num_write, v) ||
        check_count(r, "checkpoint.num_checkpoints_read", r->num_read, v))
        return -1;
    if (r->num_write == 0 && r->num_read == 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.num_checkpoints_write",
                          "10 (or num_checkpoints_read 10)", "0 (and num_checkpoints_read 0)",
                          "set checkpoint.num_checkpoints_write and/or "
                          "checkpoint.num_checkpoints_read to 10",
                          "no checkpoint is written or read, so the run measures nothing"))
        return -1;
    return 0;
}

/* Keys whose value a dedicated rule judges: the override loop must not judge them again. */
static int judged_elsewhere(const char *key)
{
    static const char *const keys[] = {
        "checkpoint.checkpoint_folder", /* the one key CLOSED lets a submitter choose */
        "checkpoint.fsync",
        "checkpoint.num_checkpoints_write",
        "checkpoint.num_checkpoints_read",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int check_overrides(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, r->overrides)
    {
        const char *key = cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "reference");
        char exp[TEXT_MAX], act[TEXT_MAX], hint[TEXT_MAX];
        if (judged_elsewhere(key) || find_override(r, key) != o)
            continue;
        /* Restating the reference value changes nothing the storage sees. */
        if (ref && cJSON_Compare(value, ref, 1))
            continue;
        value_text(ref, exp, sizeof(exp));
        value_text(value, act, sizeof(act));
        undo_hint(o, key, exp, hint, sizeof(hint));
        if (strcmp(key, "reference") == 0 || strncmp(key, "reference.", 10) == 0) {
            if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, key, exp, act, hint,
                                  "the reference block is what the rules judge against; "
                                  "changing it makes any verdict meaningless"))
                return -1;
        } else if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, key, exp, act, hint,
                                     "%s differs from the reference workload; in CLOSED only "
                                     "checkpoint.checkpoint_folder may change",
                                     key)) {
            return -1;
        }
    }
    return 0;
}

static int check_options(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char act[64];
    if (r->scale < 1) {
        snprintf(act, sizeof(act), "%g", r->scale);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "scale", "1", act, "run with --scale 1",
                              "scale %g shrinks each checkpoint to %.3g%% of its CLOSED size; "
                              "smaller files fit in caches and hide the storage's behaviour",
                              r->scale, r->scale * 100))
            return -1;
    }
    if (strcmp(r->io_api, "null") == 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "io_api", "posix, mpiio or hdf5", "null",
                          "choose an I/O API that stores data (--io-api posix, mpiio or hdf5)",
                          "the null backend stores nothing, so the figures measure no storage"))
        return -1;
    if (r->verify &&
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "verify", "false", "true",
                          "run without --verify (verify the data in a separate run)",
                          "verification regenerates and compares every block inside the timed "
                          "read phase, so read figures include CPU work"))
        return -1;
    return 0;
}

static int check_folder(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char *folder = mlpio_path_normalize(r->folder);
    char *results = mlpio_path_normalize(r->results_dir);
    int rc = -1;
    if (!folder || !results)
        goto out;
    rc = 0;
    if (mlpio_path_within(folder, results) || mlpio_path_within(results, folder)) {
        const char *how = strcmp(folder, results) == 0         ? "is"
                          : mlpio_path_within(results, folder) ? "is inside"
                                                               : "contains";
        rc = mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.checkpoint_folder",
                               "outside the results directory", folder,
                               "put the checkpoints on the storage under test, outside the "
                               "results directory (--params "
                               "checkpoint.checkpoint_folder=<dir>)",
                               "the checkpoint folder %s %s the results directory %s: checkpoint "
                               "files would mix with results, and cleaning one destroys the "
                               "other",
                               folder, how, results);
    }
out:
    free(folder);
    free(results);
    return rc;
}

static int check_facts(const struct ckpt_run *r, struct mlpio_verdict_report *v)
{
    char exp[64], act[64];
    if (r->cache_policy && strcmp(r->cache_policy, "none") == 0 && r->num_read > 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "cache_policy", "fadvise, odirect or not_needed",
                          "none",
                          "let mlpio drop cached pages after writing (the default) or read "
                          "with O_DIRECT (--odirect)",
                          "the client wrote less than 3x its memory and no cached page was "
                          "dropped, so reads may be served from the page cache, not the storage"))
        return -1;
    /* GB here is 10^9 bytes, as accelerator vendors count memory. */
    if (r->reference) {
        double aggregate = (double)r->closed_ranks * r->accel_gb * 1e9;
        if (aggregate < r->bytes_full) {
            snprintf(exp, sizeof(exp), ">= %.1f GB", r->bytes_full / 1e9);
            snprintf(act, sizeof(act), "%.1f GB", aggregate / 1e9);
            if (mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "accelerator_memory_GB", exp, act,
                                  "check checkpoint.accelerator_type",
                                  "%d accelerators of %g GB hold less than the %.1f GB "
                                  "checkpoint: a real job of this shape could not hold what it "
                                  "checkpoints",
                                  r->closed_ranks, r->accel_gb, r->bytes_full / 1e9))
                return -1;
        }
    }
    return 0;
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

int mlpio_rules_check_checkpointing(const cJSON *run, struct mlpio_verdict_report *v,
                                    struct mlpio_error *err)
{
    struct ckpt_run r;
    if (!v)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "checkpointing rules: no verdict report");
    if (read_run(run, &r, err))
        return -1;
    int keep = v->count;
    int rc = 0;
    if (!r.reference)
        rc = mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "model", "a shipped workload definition",
                               r.model, "choose a model defined in share/checkpointing/",
                               "model %s has no reference block, so there is nothing to judge "
                               "the run against",
                               r.model);
    if (!rc)
        rc = check_checkpoint_config(&r, v);
    if (!rc)
        rc = check_ranks(&r, v);
    if (!rc)
        rc = check_hosts(&r, v);
    if (!rc)
        rc = check_overrides(&r, v);
    if (!rc)
        rc = check_options(&r, v);
    if (!rc)
        rc = check_folder(&r, v);
    if (!rc)
        rc = check_facts(&r, v);
    if (rc) {
        truncate_report(v, keep);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "checkpointing rules: cannot record an issue");
    }
    return 0;
}
