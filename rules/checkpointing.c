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

#include "rules/edition.h"
#include "rules/fields.h"
#include "rules/submission_impl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The figures of the run's rules edition that these rules use (edition.h). */
struct ckpt_edition {
    const char *name;
    const cJSON *closed_accels, *open_accels, *whatif_accels;
    const cJSON *memory_gb;     /* {accelerator: GB of memory} */
    int memory_invalid;         /* 1: too little accelerator memory is INVALID, 0: a warning */
    int num_checkpoints;        /* CLOSED writes and reads this many; 0 skips a phase */
    int min_ranks_per_host;     /* CLOSED needs at least this many ranks on every host */
    const cJSON *subset_models; /* the models CLOSED may run in subset mode */
    int subset_ranks;           /* with exactly this many ranks */
    int has_model;              /* the edition has the run's model: */
    int closed_ranks;           /* its CLOSED rank count */
    int tp_pp;                  /* tensor x pipeline parallel ranks: OPEN counts are multiples */
};

struct ckpt_run {
    struct ckpt_edition ed;
    const char *accelerator; /* config.checkpoint.accelerator_type */
    const char *model;
    int world_size;
    double scale;
    const char *io_api;
    int verify;
    const char *results_dir;
    const cJSON *reference; /* NULL when the model is not a shipped definition */
    const char *folder;
    int fsync;
    int num_write;
    int num_read;
    const cJSON *overrides; /* validated array of {key, value, reference?, source} */
    const cJSON *hosts;     /* validated array of {hostname, ranks} */
    double bytes_full;
    const char *cache_policy; /* NULL before the run */
    struct mlpio_rules_fs fs;
};

static int read_edition(const cJSON *run, const char *model, struct ckpt_edition *e,
                        struct mlpio_error *err)
{
    const cJSON *s = NULL, *closed = NULL, *open = NULL, *subset = NULL, *models = NULL;
    const char *shortfall = NULL;
    char p[64], mp[192];
    e->name = mlpio_rules_edition_of(run);
    snprintf(p, sizeof(p), "edition %s: checkpointing", e->name);
    if (mlpio_rules_edition_section(run, "checkpointing", &s, err) ||
        mlpio_rules_get_object(s, p, "closed", &closed, err) ||
        mlpio_rules_get_object(s, p, "open", &open, err) ||
        mlpio_rules_get_object(s, p, "accelerator_memory_GB", &e->memory_gb, err) ||
        mlpio_rules_get_string(s, p, "memory_shortfall", &shortfall, err) ||
        mlpio_rules_get_int(s, p, "num_checkpoints", 1, &e->num_checkpoints, err) ||
        mlpio_rules_get_int(s, p, "min_ranks_per_host", 1, &e->min_ranks_per_host, err) ||
        mlpio_rules_get_object(s, p, "subset", &subset, err) ||
        mlpio_rules_get_int(subset, p, "ranks", 1, &e->subset_ranks, err) ||
        mlpio_rules_get_object(s, p, "models", &models, err))
        return -1;
    e->closed_accels = cJSON_GetObjectItemCaseSensitive(closed, "accelerators");
    e->open_accels = cJSON_GetObjectItemCaseSensitive(open, "accelerators");
    e->whatif_accels = cJSON_GetObjectItemCaseSensitive(s, "whatif_accelerators");
    e->subset_models = cJSON_GetObjectItemCaseSensitive(subset, "models");
    e->memory_invalid = strcmp(shortfall, "invalid") == 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(models, model);
    e->has_model = m != NULL;
    snprintf(mp, sizeof(mp), "%s.models.%s", p, model);
    if (m && (mlpio_rules_get_int(m, mp, "closed_ranks", 1, &e->closed_ranks, err) ||
              mlpio_rules_get_int(m, mp, "tp_pp", 1, &e->tp_pp, err)))
        return -1;
    return 0;
}

static int read_run(const cJSON *run, void *copy, struct mlpio_error *err)
{
    struct ckpt_run *r = copy;
    const cJSON *options = NULL, *config = NULL, *ckpt = NULL, *facts = NULL, *it = NULL;
    memset(r, 0, sizeof(*r));
    if (mlpio_rules_read_fs(run, "checkpointing", &r->fs, err))
        return -1;
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
        read_edition(run, r->model, &r->ed, err))
        return -1;
    r->accelerator = "";
    if (cJSON_GetObjectItemCaseSensitive(ckpt, "accelerator_type") &&
        mlpio_rules_get_string(ckpt, "config.checkpoint", "accelerator_type", &r->accelerator, err))
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
    if (!r->reference)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "model", "a shipped workload definition",
                                 r->model, "choose a model defined in share/checkpointing/",
                                 "model %s has no reference block, so there is nothing to judge "
                                 "the run against",
                                 r->model);
    if (!r->ed.has_model)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "model", "a model of the edition",
                                 r->model, "choose a model the rules edition lists",
                                 "the %s rules have no checkpointing model %s", r->ed.name,
                                 r->model);
    return 0;
}

/* The accelerator against the edition's CLOSED, OPEN and what-if sets. */
static int check_accelerator(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    const struct ckpt_edition *e = &r->ed;
    char want[MLPIO_RULES_TEXT_MAX], hint[MLPIO_RULES_TEXT_MAX + 64];
    const char *a = r->accelerator;
    if (!a[0] || mlpio_rules_edition_lists(e->closed_accels, a))
        return 0;
    mlpio_rules_edition_join(e->closed_accels, want, sizeof(want));
    snprintf(hint, sizeof(hint), "set checkpoint.accelerator_type to one of %s", want);
    if (mlpio_rules_edition_lists(e->open_accels, a))
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "checkpoint.accelerator_type", want, a, hint,
                                 "the %s rules accept accelerator %s in OPEN only", e->name, a);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.accelerator_type", want, a, hint,
                             "under the %s rules accelerator %s is %s; CLOSED takes %s", e->name, a,
                             mlpio_rules_edition_lists(e->whatif_accels, a)
                                 ? "for what-if runs only, neither CLOSED nor OPEN"
                                 : "not a checkpointing accelerator in either division",
                             want);
}

static int check_ranks(const void *run, struct mlpio_verdict_report *v)
{
    const struct ckpt_run *r = run;
    const struct ckpt_edition *e = &r->ed;
    char exp[MLPIO_RULES_TEXT_MAX], act[MLPIO_RULES_TEXT_MAX], hint[MLPIO_RULES_TEXT_MAX];
    if (!r->reference || !e->has_model || r->world_size == e->closed_ranks)
        return 0;
    snprintf(exp, sizeof(exp), "%d", e->closed_ranks);
    snprintf(act, sizeof(act), "%d", r->world_size);
    snprintf(hint, sizeof(hint), "run with %d ranks (mpirun -np %d)", e->closed_ranks,
             e->closed_ranks);
    if (r->world_size > e->closed_ranks)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "world_size", exp, act, hint,
                                 "%d ranks is more than the %d ranks of the %s job: the "
                                 "workload has no checkpoint data for the extra ranks",
                                 r->world_size, e->closed_ranks, r->model);
    if (r->world_size == e->subset_ranks && mlpio_rules_edition_lists(e->subset_models, r->model))
        return mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "world_size", exp, act, hint,
                                 "subset mode: %d ranks emulate ranks 0..%d of the %d-rank %s "
                                 "job, which the %s rules accept in CLOSED",
                                 r->world_size, r->world_size - 1, e->closed_ranks, r->model,
                                 e->name);
    if (r->world_size % e->tp_pp != 0) {
        snprintf(exp, sizeof(exp), "%d, or a multiple of %d in OPEN", e->closed_ranks, e->tp_pp);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "world_size", exp, act, hint,
                                 "%d ranks is not a multiple of the %d tensor x pipeline "
                                 "parallel ranks of %s, which the %s rules require even in OPEN",
                                 r->world_size, e->tp_pp, r->model, e->name);
    }
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "world_size", exp, act, hint,
                             "subset mode: %d ranks emulate ranks 0..%d of the %d-rank %s "
                             "job; CLOSED needs the full job",
                             r->world_size, r->world_size - 1, e->closed_ranks, r->model);
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
        if (ranks >= r->ed.min_ranks_per_host)
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
    snprintf(exp, sizeof(exp), ">= %d", r->ed.min_ranks_per_host);
    snprintf(act, sizeof(act), "%d on %s", min_ranks, min_host);
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "ranks_per_host", exp, act,
                             "place more ranks on every host (for example mpirun --map-by "
                             "ppr:8:node), using fewer hosts if needed",
                             "%d of %d hosts run fewer than %d ranks: %s%s; CLOSED needs at least "
                             "%d ranks per host so that each client carries a realistic share of "
                             "the checkpoint",
                             sparse, hosts, r->ed.min_ranks_per_host, names,
                             sparse > 3 ? ", ..." : "", r->ed.min_ranks_per_host);
}

static int check_count(const struct ckpt_run *r, const char *key, int value,
                       struct mlpio_verdict_report *v)
{
    char act[32], hint[MLPIO_RULES_TEXT_MAX], closed[16], exp[32];
    if (value == 0 || value == r->ed.num_checkpoints)
        return 0;
    snprintf(act, sizeof(act), "%d", value);
    snprintf(exp, sizeof(exp), "0 or %d", r->ed.num_checkpoints);
    snprintf(closed, sizeof(closed), "%d", r->ed.num_checkpoints);
    mlpio_rules_undo_hint(mlpio_rules_find_override(r->overrides, key), key, closed, hint,
                          sizeof(hint));
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, key, exp, act, hint,
                             "CLOSED runs %d checkpoints per phase (0 skips the phase); %d "
                             "changes how long the storage is under load",
                             r->ed.num_checkpoints, value);
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
        "checkpoint.accelerator_type", /* judged against the edition's accelerators */
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
    if (mlpio_rules_check_fs(v, "checkpoint.checkpoint_folder", &r->fs, "checkpoint folder",
                             "--params checkpoint.checkpoint_folder=DIR"))
        return -1;
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
    if (!r->reference || !r->ed.has_model || !r->accelerator[0])
        return 0;
    const cJSON *gb = cJSON_GetObjectItemCaseSensitive(r->ed.memory_gb, r->accelerator);
    if (!cJSON_IsNumber(gb))
        return 0; /* the accelerator check has judged it */
    double aggregate = (double)r->ed.closed_ranks * gb->valuedouble * 1e9;
    if (aggregate >= r->bytes_full)
        return 0;
    snprintf(exp, sizeof(exp), ">= %.1f GB", r->bytes_full / 1e9);
    snprintf(act, sizeof(act), "%.1f GB", aggregate / 1e9);
    if (mlpio_verdict_add(v, r->ed.memory_invalid ? MLPIO_ISSUE_INVALID : MLPIO_ISSUE_WARNING,
                          "accelerator_memory_GB", exp, act,
                          "set checkpoint.accelerator_type to an accelerator with more memory",
                          "%d accelerators of %g GB hold less than the %.1f GB checkpoint: a "
                          "real job of this shape could not hold what it checkpoints (%s rules)",
                          r->ed.closed_ranks, gb->valuedouble, r->bytes_full / 1e9, r->ed.name))
        return -1;
    return 0;
}

/* The rules, in the order the verdict lists their issues (mlpio_rules_run_checks). */
static const struct mlpio_rules_check checks[] = {
    {.name = "model", .fn = check_model},
    {.name = "accelerator", .fn = check_accelerator},
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
