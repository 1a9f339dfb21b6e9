/* mlpio rules engine: run checks of the KV-cache workload (WORKLOADS.md section 3).
 *
 * As for the other benchmarks, the run description is first read in one pass that validates
 * every field a rule uses; a malformed document is an error naming the field and leaves the
 * verdict untouched. The rules then judge the validated copy.
 *
 * CLOSED is one of the fixed options of the run's rules edition (model, users per rank,
 * duration, DRAM tier budgets and concurrency), run with the edition's seed, trial count and
 * generation mode (v3.0: three options, seed 42, 3 trials, none). A run that matches none is
 * judged against the closest option, so its issues read as the few values to change.
 *
 * Issue parameters: "model", "scale", "io_api", "verify", "options.seed", and dotted config keys
 * ("kvcache.duration", "kvcache.num_users", "kvcache.trials", "kvcache.generation_mode",
 * "kvcache.io_model",
 * "cache.gpu_mem_gb", "cache.cpu_mem_gb", "kvcache.max_concurrent_allocs", "cache.cache_dir",
 * "cache.storage_capacity_gb", any overridden key).
 */
#include "rules/rules.h"

#include "rules/edition.h"
#include "rules/fields.h"
#include "rules/submission_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run rules: shorter trials or fewer users than these are INVALID, then OPEN. */
#define INVALID_BELOW_DURATION 30.0
#define OPEN_BELOW_DURATION 60.0
#define INVALID_BELOW_USERS 1.0
#define OPEN_BELOW_USERS 10.0

/* The numeric parameters that tell the CLOSED options apart (the model is the sixth). */
enum { OPT_USERS, OPT_DURATION, OPT_GPU, OPT_CPU, OPT_CONCURRENT, NOPT };

static const char *const option_keys[NOPT] = {
    [OPT_USERS] = "kvcache.num_users",
    [OPT_DURATION] = "kvcache.duration",
    [OPT_GPU] = "cache.gpu_mem_gb",
    [OPT_CPU] = "cache.cpu_mem_gb",
    [OPT_CONCURRENT] = "kvcache.max_concurrent_allocs",
};

struct closed_option {
    int number; /* as given to --option */
    const char *model;
    double value[NOPT];
};

/* The most CLOSED options an edition may define. */
#define OPTIONS_MAX 8

/* The figures of the run's rules edition that these rules use (edition.h). */
struct kv_edition {
    const char *name;
    double seed, trials;    /* what every CLOSED option runs with */
    const char *generation; /* its generation mode */
    const char *io_model;   /* and I/O model */
    struct closed_option options[OPTIONS_MAX];
    int noptions;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct kv_run {
    struct kv_edition ed;
    const char *model;
    double scale;
    const char *io_api;
    int verify;
    const char *results_dir;
    int has_seed;
    double seed;
    double value[NOPT]; /* the run's figures of the option parameters */
    double trials;
    const char *generation;
    const char *io_model; /* "blocks" when the run does not say */
    const char *cache_dir;
    const cJSON *overrides; /* validated array of {key, value, reference?, source} */
    int has_capacity;       /* both capacity facts present */
    double working_set;     /* bytes per rank */
    double capacity;        /* bytes per rank */
    /* Derived once read: the option this run is closest to and how many values differ. */
    const struct closed_option *closest;
    int ndiff;
    struct mlpio_rules_fs fs;
};

/* A fact or option that may be absent or null; when present it must be a number >= 0. */
static int get_optional(const cJSON *obj, const char *prefix, const char *name, int *has,
                        double *out, struct mlpio_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *has = it && !cJSON_IsNull(it);
    return *has ? mlpio_rules_get_number(obj, prefix, name, 0, out, err) : 0;
}

static int differs(const struct kv_run *r, const struct closed_option *o, int p)
{
    return r->value[p] != o->value[p];
}

/* Fewest differing values; a tie goes to the lowest option number. */
static void find_closest(struct kv_run *r)
{
    r->closest = NULL;
    for (int i = 0; i < r->ed.noptions; i++) {
        const struct closed_option *o = &r->ed.options[i];
        int n = strcmp(r->model, o->model) != 0;
        for (int p = 0; p < NOPT; p++)
            n += differs(r, o, p);
        if (!r->closest || n < r->ndiff) {
            r->closest = o;
            r->ndiff = n;
        }
    }
}

/* One CLOSED option of the edition: {"model", "num_users", "duration", "gpu_mem_gb", ...}, the
 * last part of each of option_keys. */
static int read_option(const cJSON *o, const char *prefix, struct closed_option *out,
                       struct mlpio_error *err)
{
    char p[128], *end = NULL;
    snprintf(p, sizeof(p), "%s.%s", prefix, o->string);
    long number = strtol(o->string, &end, 10);
    if (*end || number < 1 || number > 99)
        return mlpio_rules_bad_field(p, "an option numbered 1 to 99", o, err);
    out->number = (int)number;
    if (mlpio_rules_get_string(o, p, "model", &out->model, err))
        return -1;
    for (int k = 0; k < NOPT; k++)
        if (mlpio_rules_get_number(o, p, strrchr(option_keys[k], '.') + 1, 0, &out->value[k], err))
            return -1;
    return 0;
}

static int read_edition(const cJSON *run, struct kv_edition *e, struct mlpio_error *err)
{
    const cJSON *s = NULL, *options = NULL, *o;
    char p[64], op[80];
    e->name = mlpio_rules_edition_of(run);
    snprintf(p, sizeof(p), "edition %s: kvcache", e->name);
    snprintf(op, sizeof(op), "%s.options", p);
    if (mlpio_rules_edition_section(run, "kvcache", &s, err) ||
        mlpio_rules_get_number(s, p, "seed", 0, &e->seed, err) ||
        mlpio_rules_get_count(s, p, "trials", 1, &e->trials, err) ||
        mlpio_rules_get_string(s, p, "generation_mode", &e->generation, err) ||
        mlpio_rules_get_string(s, p, "io_model", &e->io_model, err) ||
        mlpio_rules_get_object(s, p, "options", &options, err))
        return -1;
    e->noptions = 0;
    cJSON_ArrayForEach(o, options)
    {
        if (e->noptions == OPTIONS_MAX)
            return mlpio_rules_bad_field(op, "at most 8 options", options, err);
        if (read_option(o, op, &e->options[e->noptions++], err))
            return -1;
    }
    return 0;
}

static int read_run(const cJSON *run, void *copy, struct mlpio_error *err)
{
    struct kv_run *r = copy;
    const cJSON *options = NULL, *config = NULL, *kv = NULL, *cache = NULL, *facts = NULL;
    int has_ws = 0, has_cap = 0;
    memset(r, 0, sizeof(*r));
    if (mlpio_rules_read_fs(run, "kvcache", &r->fs, err))
        return -1;
    r->io_model = "blocks";
    if (mlpio_rules_expect_benchmark(run, mlpio_rules_kvcache.name, err) ||
        read_edition(run, &r->ed, err))
        return -1;
    if (mlpio_rules_get_string(run, "", "model", &r->model, err) ||
        mlpio_rules_get_object(run, "", "options", &options, err) ||
        mlpio_rules_get_positive(options, "options", "scale", &r->scale, err) ||
        mlpio_rules_get_string(options, "options", "io_api", &r->io_api, err) ||
        mlpio_rules_get_bool(options, "options", "verify", &r->verify, err) ||
        mlpio_rules_get_absolute(options, "options", "results_dir", &r->results_dir, err) ||
        /* No --seed is written as null; the seed rule judges it. */
        get_optional(options, "options", "seed", &r->has_seed, &r->seed, err) ||
        mlpio_rules_get_object(run, "", "config", &config, err) ||
        mlpio_rules_get_object(config, "config", "kvcache", &kv, err) ||
        mlpio_rules_get_count(kv, "config.kvcache", "num_users", 0, &r->value[OPT_USERS], err) ||
        mlpio_rules_get_number(kv, "config.kvcache", "duration", 0, &r->value[OPT_DURATION], err) ||
        mlpio_rules_get_count(kv, "config.kvcache", "max_concurrent_allocs", 1,
                              &r->value[OPT_CONCURRENT], err) ||
        mlpio_rules_get_count(kv, "config.kvcache", "trials", 1, &r->trials, err) ||
        mlpio_rules_get_string(kv, "config.kvcache", "generation_mode", &r->generation, err) ||
        /* Runs recorded before the reference model existed ran the block model. */
        (cJSON_GetObjectItemCaseSensitive(kv, "io_model") &&
         mlpio_rules_get_string(kv, "config.kvcache", "io_model", &r->io_model, err)) ||
        mlpio_rules_get_object(config, "config", "cache", &cache, err) ||
        mlpio_rules_get_number(cache, "config.cache", "gpu_mem_gb", 0, &r->value[OPT_GPU], err) ||
        mlpio_rules_get_number(cache, "config.cache", "cpu_mem_gb", 0, &r->value[OPT_CPU], err) ||
        mlpio_rules_get_absolute(cache, "config.cache", "cache_dir", &r->cache_dir, err) ||
        mlpio_rules_read_overrides(run, &r->overrides, err) ||
        mlpio_rules_get_object(run, "", "facts", &facts, err) ||
        /* The capacity facts are known once the run has described itself. */
        get_optional(facts, "facts", "working_set_bytes_per_rank", &has_ws, &r->working_set, err) ||
        get_optional(facts, "facts", "storage_capacity_bytes_per_rank", &has_cap, &r->capacity,
                     err))
        return -1;
    r->has_capacity = has_ws && has_cap;
    find_closest(r);
    return 0;
}

/* Rules 1 and 2 judge these values on their own; the option rule does not repeat them. */
static int below_open(const struct kv_run *r, int p)
{
    return (p == OPT_DURATION && r->value[p] < OPEN_BELOW_DURATION) ||
           (p == OPT_USERS && r->value[p] < OPEN_BELOW_USERS);
}

/* A figure of the run that must reach `invalid_below`, then `open_below`. */
static int check_floor(const struct kv_run *r, struct mlpio_verdict_report *v, int p,
                       double invalid_below, double open_below, const char *unit,
                       const char *invalid_why, const char *open_why)
{
    const struct closed_option *o = r->closest;
    const char *key = option_keys[p];
    double value = r->value[p];
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    if (value >= open_below)
        return 0;
    int invalid = value < invalid_below;
    double least = invalid ? invalid_below : open_below;
    snprintf(exp, sizeof(exp), ">= %g", least);
    snprintf(act, sizeof(act), "%g", value);
    snprintf(hint, sizeof(hint), "set %s to at least %g; CLOSED option %d runs %g (--option %d)",
             key, least, o->number, o->value[p], o->number);
    return mlpio_verdict_add(v, invalid ? MLPIO_ISSUE_INVALID : MLPIO_ISSUE_OPEN, key, exp, act,
                             hint, "%s is %g%s, below the %g that the rules require of %s: %s", key,
                             value, unit, least, invalid ? "any run" : "a CLOSED run",
                             invalid ? invalid_why : open_why);
}

static int check_run_rules(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    return check_floor(r, v, OPT_DURATION, INVALID_BELOW_DURATION, OPEN_BELOW_DURATION, " s",
                       "the tiers are still filling when a trial ends, so the figures show no "
                       "steady state",
                       "a short trial is dominated by caches warming up and tiers filling") ||
           check_floor(r, v, OPT_USERS, INVALID_BELOW_USERS, OPEN_BELOW_USERS, " users per rank",
                       "without users a rank serves no request",
                       "so few users barely load the storage and hide how it behaves under "
                       "concurrency");
}

static int check_option(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    const struct closed_option *o = r->closest;
    char val[64], exp[64], hint[MLPIO_RULES_TEXT_MAX];
    if (r->ndiff == 0)
        return 0;
    if (strcmp(r->model, o->model) != 0) {
        snprintf(hint, sizeof(hint), "run with --option %d (or --model %s)", o->number, o->model);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "model", o->model, r->model, hint,
                              "model %s is not the model of CLOSED option %d, %s; a CLOSED run "
                              "is one of the three options exactly (option %d is the closest: "
                              "%d value%s differ%s)",
                              r->model, o->number, o->model, o->number, r->ndiff,
                              r->ndiff > 1 ? "s" : "", r->ndiff > 1 ? "" : "s"))
            return -1;
    }
    for (int p = 0; p < NOPT; p++) {
        if (!differs(r, o, p) || below_open(r, p))
            continue;
        snprintf(exp, sizeof(exp), "%g", o->value[p]);
        snprintf(val, sizeof(val), "%g", r->value[p]);
        snprintf(hint, sizeof(hint), "run with --option %d (or set %s=%s)", o->number,
                 option_keys[p], exp);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, option_keys[p], exp, val, hint,
                              "%s is %s, CLOSED option %d runs %s; a CLOSED run is one of the "
                              "three options exactly (option %d is the closest: %d value%s "
                              "differ%s)",
                              option_keys[p], val, o->number, exp, o->number, r->ndiff,
                              r->ndiff > 1 ? "s" : "", r->ndiff > 1 ? "" : "s"))
            return -1;
    }
    return 0;
}

/* What every option runs with: seed, trials, generation mode. */
static int check_common(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    char act[64];
    char exp[32], hint[64];
    if (!r->has_seed || r->seed != r->ed.seed) {
        if (r->has_seed)
            snprintf(act, sizeof(act), "%.0f", r->seed);
        else
            snprintf(act, sizeof(act), "(not set)");
        snprintf(exp, sizeof(exp), "%.0f", r->ed.seed);
        snprintf(hint, sizeof(hint), "run with --seed %.0f", r->ed.seed);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "options.seed", exp, act, hint,
                              "CLOSED runs seed %.0f so that every submission serves the same "
                              "users, conversations and requests; %s draws other traffic",
                              r->ed.seed, r->has_seed ? "this seed" : "a random seed"))
            return -1;
    }
    if (r->trials != r->ed.trials) {
        snprintf(act, sizeof(act), "%g", r->trials);
        snprintf(exp, sizeof(exp), "%g", r->ed.trials);
        snprintf(hint, sizeof(hint), "run with --trials %g (each --option sets it)", r->ed.trials);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "kvcache.trials", exp, act, hint,
                              "CLOSED reports the average of %.0f trials; %g trial%s give%s "
                              "figures of another spread",
                              r->ed.trials, r->trials, r->trials == 1 ? "" : "s",
                              r->trials == 1 ? "s" : ""))
            return -1;
    }
    snprintf(hint, sizeof(hint), "run with --generation-mode %s", r->ed.generation);
    if (strcmp(r->generation, r->ed.generation) != 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "kvcache.generation_mode", r->ed.generation,
                          r->generation, hint,
                          "generation mode %s waits between decode reads as a GPU generating "
                          "tokens would, which lowers the load on the storage; CLOSED measures "
                          "the storage without that wait (%s)",
                          r->generation, r->ed.generation))
        return -1;
    snprintf(hint, sizeof(hint), "run with --io-model %s (each --option sets it)", r->ed.io_model);
    if (strcmp(r->io_model, r->ed.io_model) != 0 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "kvcache.io_model", r->ed.io_model, r->io_model,
                          hint,
                          "the %s model moves %s; the reference writes one object per turn, "
                          "reads every earlier turn whole and sends requests open loop, so "
                          "figures of the two cannot be compared: CLOSED runs the %s model",
                          r->io_model,
                          strcmp(r->io_model, "blocks") == 0
                              ? "128-token blocks, only those a tier lacks, each user waiting "
                                "for its answer"
                              : "what the reference does not",
                          r->ed.io_model))
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

/* What a CLOSED submitter may set, and what the option rules judge by value. */
static const char *const closed_keys[] = {
    "cache.cache_dir",
    "cache.storage_capacity_gb",
    "cache.transfer_size",
    "cache.segment_size",
    "cache.keep",
    "cache.precondition",
    "cache.precondition_size",
    "kvcache.performance_profile",
    "kvcache.num_users",
    "kvcache.duration",
    "cache.gpu_mem_gb",
    "cache.cpu_mem_gb",
    "kvcache.max_concurrent_allocs",
    "kvcache.trials",
    "kvcache.generation_mode",
    "kvcache.io_model",
};

/* The model's shape decides the KV bytes per token: what is emulated. */
static const char *const model_keys[] = {
    "model.num_layers",   "model.hidden_size", "model.num_attention_heads",
    "model.num_kv_heads", "model.dtype_bytes",
};

/* Who asks for which blocks, and when. */
static const char *const traffic_keys[] = {
    "kvcache.multi_turn",
    "kvcache.prefix_caching",
    "kvcache.continue_probability",
    "kvcache.max_turns",
    "kvcache.prefix_probability",
    "kvcache.system_prompts",
    "kvcache.system_prompt_tokens",
    "kvcache.max_context_tokens",
    "kvcache.decode_tokens_per_read",
};

/* How the cache holds them. */
static const char *const design_keys[] = {
    "cache.block_tokens", "cache.layout", "cache.eviction", "cache.high_water", "cache.page_size",
};

/* The reference design, whatever an override of the key restates. */
static int reference_design(const char *key, const cJSON *value)
{
    return (strcmp(key, "cache.layout") == 0 && cJSON_IsString(value) &&
            strcmp(value->valuestring, "objects") == 0) ||
           (strcmp(key, "cache.eviction") == 0 && cJSON_IsString(value) &&
            strcmp(value->valuestring, "lru") == 0);
}

static int check_override(const struct mlpio_rules_change *c, struct mlpio_verdict_report *v)
{
    if (in_list(c->key, model_keys, COUNT(model_keys)))
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, c->key, c->expected, c->actual, c->hint,
                                 "%s may not differ from the model's definition in either "
                                 "division: it changes the bytes of KV cache per token, so what "
                                 "is emulated, not how the storage is used",
                                 c->key);
    if (strcmp(c->key, "reference") == 0 || strncmp(c->key, "reference.", 10) == 0)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, c->key, c->expected, c->actual, c->hint,
                                 "the reference block records the figures of the model the run "
                                 "emulates; changing it misstates what was measured");
    if (in_list(c->key, traffic_keys, COUNT(traffic_keys)))
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, c->key, c->expected, c->actual, c->hint,
                                 "%s changes the traffic model (which blocks users write and "
                                 "read back, and when); OPEN allows it, CLOSED does not",
                                 c->key);
    if (in_list(c->key, design_keys, COUNT(design_keys)))
        return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, c->key, c->expected, c->actual, c->hint,
                                 "%s changes the cache design (how blocks are sized, laid out or "
                                 "evicted); OPEN allows it, CLOSED does not",
                                 c->key);
    return mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, c->key, c->expected, c->actual, c->hint,
                             "%s differs from the reference workload; in CLOSED only the cache "
                             "directory, the storage capacity, the I/O sizes, preconditioning "
                             "and the performance profile may change",
                             c->key);
}

static int check_overrides(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    const cJSON *o;
    cJSON_ArrayForEach(o, r->overrides)
    {
        struct mlpio_rules_change c;
        if (!mlpio_rules_override_change(r->overrides, o, &c) ||
            in_list(c.key, closed_keys, COUNT(closed_keys)) ||
            reference_design(c.key, cJSON_GetObjectItemCaseSensitive(o, "value")))
            continue;
        if (check_override(&c, v))
            return -1;
    }
    return 0;
}

static int check_options(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    static const struct mlpio_rules_option_words words = {
        .scaled = "every KV block",
        .scale_why = "smaller blocks fit more conversations in the DRAM tiers and make every "
                     "storage I/O smaller than the model's",
        .null_why = "the null backend stores nothing, so the storage tier's figures measure no "
                    "storage",
        .verify_why = "verification regenerates and compares every block read back inside the "
                      "timed trials, so the latencies include CPU work",
    };
    return mlpio_rules_check_options(v, r->scale, r->io_api, r->verify, &words);
}

static int check_folder(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    if (mlpio_rules_check_fs(v, "cache.cache_dir", &r->fs, "cache dir", "--cache-dir DIR"))
        return -1;
    return mlpio_rules_check_apart(v, "cache.cache_dir", r->cache_dir, r->results_dir, "cache dir",
                                   "the storage tier's KV blocks",
                                   "put the cache on the storage under test, outside the results "
                                   "directory (--cache-dir <dir>)");
}

static int check_capacity(const void *run, struct mlpio_verdict_report *v)
{
    const struct kv_run *r = run;
    /* GiB as the cache budgets count them. A capacity of 0 is one that could not be measured. */
    const double gib = 1024.0 * 1024.0 * 1024.0;
    char exp[64], act[64], hint[MLPIO_RULES_TEXT_MAX];
    if (!r->has_capacity || r->capacity <= 0 || r->working_set <= r->capacity)
        return 0;
    snprintf(exp, sizeof(exp), ">= %.2f GiB per rank", r->working_set / gib);
    snprintf(act, sizeof(act), "%.2f GiB per rank", r->capacity / gib);
    snprintf(hint, sizeof(hint),
             "give the storage tier at least %.0f GiB per rank (--storage-capacity-gb, or a "
             "larger file system for --cache-dir)",
             ceil(r->working_set / gib));
    return mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "cache.storage_capacity_gb", exp, act, hint,
                             "the live conversations of %g users per rank need about %.2f GiB, "
                             "more than the storage tier's %.2f GiB per rank: blocks will be "
                             "evicted and recomputed",
                             r->value[OPT_USERS], r->working_set / gib, r->capacity / gib);
}

/* The rules, in the order the verdict lists their issues (mlpio_rules_run_checks). */
static const struct mlpio_rules_check checks[] = {
    {.name = "run rules", .fn = check_run_rules}, {.name = "option", .fn = check_option},
    {.name = "common", .fn = check_common},       {.name = "overrides", .fn = check_overrides},
    {.name = "run options", .fn = check_options}, {.name = "folder", .fn = check_folder},
    {.name = "capacity", .fn = check_capacity},
};

static const struct mlpio_rules_checker checker = {
    .benchmark = &mlpio_rules_kvcache,
    .read = read_run,
    .checks = checks,
    .n = COUNT(checks),
};

int mlpio_rules_check_kvcache(const cJSON *run, struct mlpio_verdict_report *v,
                              struct mlpio_error *err)
{
    struct kv_run r;
    return mlpio_rules_judge(&checker, run, &r, v, err);
}

const struct mlpio_rules_benchmark mlpio_rules_kvcache = {
    .name = "kvcache",
    .check = mlpio_rules_check_kvcache,
    .submission = &mlpio_submission_kvcache,
};
