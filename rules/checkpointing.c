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

#include "rules/fields.h"
#include "rules/submission_impl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* MLPerf Storage: CLOSED writes and reads 10 checkpoints; 0 skips a phase. */
#define CLOSED_NUM_CHECKPOINTS 10
/* CLOSED needs more than this many ranks on every host. */
#define MAX_SPARSE_RANKS_PER_HOST 4

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

static int read_run(const cJSON *run, void *copy, struct mlpio_error *err)
{
    struct ckpt_run *r = copy;
    const cJSON *options = NULL, *config = NULL, *ckpt = NULL, *facts = NULL, *it = NULL;
    memset(r, 0, sizeof(*r));
    if (mlpio_rules_expect_benchmark(run, mlpio_rules_checkpointing.name, err))
        return -1;
    if (mlpio_rules_get_string(run, "", "model", &r->model, err) ||
        mlpio_rules_get_int(run, "", "world_size", 1, &r->world_size, err) ||
        mlpio_rules_get_object(run, "", "options", &options, err) ||
        mlpio_rules_get_number(options, "options", "scale", 0, &r->scale, err) ||
        mlpio_rules_get_string(options, "options", "io_api", &r->io_api, err) ||
        mlpio_rules_get_bool(options, "options", "verify", &r->verify, err) ||
        mlpio_rules_get_string(options, "options", "results_dir", &r->results_dir, err) ||
        mlpio_rules_get_object(run, "", "config", &config, err) ||
        mlpio_rules_get_object(config, "config", "checkpoint", &ckpt, err) ||
        mlpio_rules_get_string(ckpt, "config.checkpoint", "checkpoint_folder", &r->folder, err) ||
        mlpio_rules_get_bool(ckpt, "config.checkpoint", "fsync", &r->fsync, err) ||
        mlpio_rules_get_int(ckpt, "config.checkpoint", "num_checkpoints_write", 0, &r->num_write,
                            err) ||
        mlpio_rules_get_int(ckpt, "config.checkpoint", "num_checkpoints_read", 0, &r->num_read,
                            err) ||
        mlpio_rules_read_overrides(run, &r->overrides, err) ||
        mlpio_rules_read_hosts(run, INT_MAX, &r->hosts, err) ||
        mlpio_rules_get_object(run, "", "facts", &facts, err) ||
        mlpio_rules_get_number(facts, "facts", "checkpoint_bytes_full", 0, &r->bytes_full, err) ||
        mlpio_rules_get_number(facts, "facts", "accelerator_memory_GB", 0, &r->accel_gb, err))
        return -1;
    if (r->scale <= 0)
        return mlpio_rules_bad_field("options.scale", "a number > 0",
                                     cJSON_GetObjectItem(options, "scale"), err);
    if (r->folder[0] != '/')
        return mlpio_rules_bad_field("config.checkpoint.checkpoint_folder", "an absolute path",
                                     cJSON_GetObjectItem(ckpt, "checkpoint_folder"), err);
    if (r->results_dir[0] != '/')
        return mlpio_rules_bad_field("options.results_dir", "an absolute path",
                                     cJSON_GetObjectItem(options, "results_dir"), err);

    /* A null reference is what a writer emits for "no reference": the model check judges it. */
    it = cJSON_GetObjectItemCaseSensitive(config, "reference");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsObject(it))
            return mlpio_rules_bad_field("config.reference", "an object", it, err);
        if (mlpio_rules_get_int(it, "config.reference", "closed_ranks", 1, &r->closed_ranks, err))
            return -1;
        r->reference = it;
    }

    /* The cache policy is known only once the read phase has run. */
    it = cJSON_GetObjectItemCaseSensitive(facts, "cache_policy");
    if (it && !cJSON_IsNull(it)) {
        static const char *const policies[] = {"fadvise", "odirect", "none", "not_needed"};
        if (!cJSON_IsString(it))
            return mlpio_rules_bad_field("facts.cache_policy", "a string", it, err);
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

static int check_model(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    if (r->reference)
        return 0;
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "model", "a shipped workload definition",
                             r->model, "choose a model defined in share/checkpointing/",
                             "model %s has no reference block, so there is nothing to judge the "
                             "run against",
                             r->model);
}

static int check_ranks(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    char exp[MLPIO_RULES_TEXT_MAX], act[MLPIO_RULES_TEXT_MAX], hint[MLPIO_RULES_TEXT_MAX];
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

static int check_hosts(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    char names[MLPIO_RULES_TEXT_MAX] = "", exp[32], act[MLPIO_RULES_TEXT_MAX];
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
    char act[32], hint[MLPIO_RULES_TEXT_MAX], closed[16];
    if (value == 0 || value == CLOSED_NUM_CHECKPOINTS)
        return 0;
    snprintf(act, sizeof(act), "%d", value);
    snprintf(closed, sizeof(closed), "%d", CLOSED_NUM_CHECKPOINTS);
    mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, key), key, closed, hint,
                          sizeof(hint));
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, key, "0 or 10", act, hint,
                             "CLOSED runs %d checkpoints per phase (0 skips the phase); %d "
                             "changes how long the storage is under load",
                             CLOSED_NUM_CHECKPOINTS, value);
}

static int check_checkpoint_config(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    char hint[MLPIO_RULES_TEXT_MAX];
    if (!r->fsync) {
        mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, "checkpoint.fsync"),
                              "checkpoint.fsync", "true", hint, sizeof(hint));
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

static int check_overrides(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    const cJSON *o;
    cJSON_ArrayForEach(o, r->overrides)
    {
        struct mlpio_rules_change c;
        if (!mlpio_rules_override_change(r->overrides, o, &c) || judged_elsewhere(c.key))
            continue;
        if (strcmp(c.key, "reference") == 0 || strncmp(c.key, "reference.", 10) == 0) {
            if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, c.key, c.expected, c.actual, c.hint,
                                  "the reference block is what the rules judge against; "
                                  "changing it makes any verdict meaningless"))
                return -1;
        } else if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, c.key, c.expected, c.actual, c.hint,
                                     "%s differs from the reference workload; in CLOSED only "
                                     "checkpoint.checkpoint_folder may change",
                                     c.key)) {
            return -1;
        }
    }
    return 0;
}

static int check_options(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    static const struct mlpio_rules_option_words words = {
        .scaled = "each checkpoint",
        .scale_why = "smaller files fit in caches and hide the storage's behaviour",
        .null_why = "the null backend stores nothing, so the figures measure no storage",
        .verify_why = "verification regenerates and compares every block inside the timed read "
                      "phase, so read figures include CPU work",
    };
    return mlpio_rules_check_options(v, r->scale, r->io_api, r->verify, &words);
}

static int check_folder(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    return mlpio_rules_check_apart(v, "checkpoint.checkpoint_folder", r->folder, r->results_dir,
                                   "checkpoint folder", "checkpoint files",
                                   "put the checkpoints on the storage under test, outside the "
                                   "results directory (--params "
                                   "checkpoint.checkpoint_folder=<dir>)");
}

static int check_facts(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
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

/* The rules, in the order the verdict lists their issues (mlpio_rules_run_checks). */
static const struct mlpio_rules_check checks[] = {
    {.name = "model", .fn = check_model},
    {.name = "checkpoint config", .fn = check_checkpoint_config},
    {.name = "ranks", .fn = check_ranks},
    {.name = "hosts", .fn = check_hosts},
    {.name = "overrides", .fn = check_overrides},
    {.name = "run options", .fn = check_options},
    {.name = "folder", .fn = check_folder},
    {.name = "facts", .fn = check_facts},
};

static const struct mlpio_rules_checker checker = {
    .benchmark = &mlpio_rules_checkpointing,
    .read = read_run,
    .checks = checks,
    .n = sizeof(checks) / sizeof(checks[0]),
};

int mlpio_rules_check_checkpointing(const cJSON *run, struct mlpio_verdict_report *v,
                                    struct mlpio_error *err)
{
    struct ckpt_run r;
    return mlpio_rules_judge(&checker, run, &r, v, err);
}

const struct mlpio_rules_benchmark mlpio_rules_checkpointing = {
    .name = "checkpointing",
    .check = mlpio_rules_check_checkpointing,
    .submission = &mlpio_submission_checkpointing,
};
