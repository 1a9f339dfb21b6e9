/* KV-cache run command: trials of the engine on every rank, figures reduced onto rank 0, the
 * PASS/FAIL of the performance profile, summary.json and the report text.
 *
 * Each trial starts from an empty cache in <cache_dir>/mlpio_<run id>/rank_<r>/trial_<t>, so
 * trials are independent and a kept cache (--keep-cache) never mixes runs. Figures of a trial
 * are summed over ranks (bytes, requests, tokens) over the slowest rank's wall time; latency
 * histograms are merged; device P95s are the worst rank's. Trials are then averaged (rates) or
 * maximised (P95s), as the rules aggregate them.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/config.h"
#include "app/histogram.h"
#include "app/params.h"
#include "app/progress.h"
#include "app/run.h"
#include "app/signals.h"
#include "app/workloads/kvcache/engine.h"
#include "app/workloads/kvcache/kvcache.h"
#include "app/workloads/kvcache/refmodel.h"
#include "app/workloads/kvcache/tally.h"
#include "app/rundir.h"
#include "io/path.h"
#include "report/json_file.h"

/* Latency profile limits (WORKLOADS.md section 3). */
#define LATENCY_WRITE_P95 0.500
#define LATENCY_READ_P95 0.200
#define MIN_HIT_RATE 0.30

/* Counters summed over ranks (one MPI_Reduce). */
enum {
    C_COMPLETED,
    C_UNSTARTED,
    C_FAILED,
    C_ABANDONED,
    C_UNFINISHED,
    C_PREFILL_TOKENS,
    C_DECODE_TOKENS,
    C_NEEDED,
    C_REUSED,
    C_RECOMPUTED,
    C_CONVERSATIONS,
    C_TURNS,
    C_STOPPED,
    C_TIER0, /* then per tier: the fields below */
};
enum {
    T_CAPACITY,
    T_USED,
    T_PEAK,
    T_BLOCKS,
    T_BYTES_W,
    T_OBJ_W,
    T_BYTES_R,
    T_OBJ_R,
    T_HITS,
    T_MISSES,
    T_EVICTIONS,
    T_DEMOTIONS,
    T_PROMOTIONS,
    T_EXISTS,
    T_NFIELDS,
};
#define NCOUNTERS (C_TIER0 + MLPIO_KV_NTIERS * T_NFIELDS)
static const char *const tier_field[T_NFIELDS] = {
    "capacity_bytes",  "used_bytes", "peak_used_bytes", "blocks",         "bytes_written",
    "objects_written", "bytes_read", "objects_read",    "hits",           "misses",
    "evictions",       "demotions",  "promotions",      "already_exists",
};

/* Doubles reduced with MAX / SUM. */
enum { M_WALL, M_DRAIN, M_READ_P95, M_WRITE_P95, M_RSS, M_NMAX };
/* S_STORAGE_IO: the reference model's summed per-request storage time; S_REF_TPS: each rank's
 * generated tokens over it, summed as the reference sums its ranks. */
enum { S_CPU, S_MANAGER_CPU, S_STORAGE_IO, S_REF_TPS, S_NSUM };

/* Histograms, side by side so that one reduction merges them all. */
enum {
    H_E2E,
    H_LAG,
    H_QOS0,
    H_READ0 = H_QOS0 + MLPIO_KV_NQOS, /* per tier */
    H_WRITE0 = H_READ0 + MLPIO_KV_NTIERS,
    H_STORAGE_REQ = H_WRITE0 + MLPIO_KV_NTIERS, /* reference model: storage time per request */
    H_N,
};

struct trial_figures {
    uint64_t c[NCOUNTERS];
    double max[M_NMAX];
    double sum[S_NSUM];
    struct mlpio_hist h[H_N]; /* merged in one reduction */
};

struct kv {
    struct mlpio_run *run;
    char run_id[32];
    char *rank_dir;
    struct mlpio_kv_config cache_cfg;
    struct mlpio_kv_engine_config engine_cfg;
    bool reference; /* kvcache.io_model=reference */
    struct mlpio_kv_ref_config ref_cfg;
    const char *profile;
    int trials;
    bool keep, precondition;
    uint64_t precondition_bytes;
    cJSON *trial_list; /* rank 0 */
    double agg_tokens, agg_requests, agg_read_bw, agg_write_bw, agg_hit;
    double agg_read_p95, agg_write_p95, agg_drain;
    double agg_ref_tokens, agg_ref_storage_tokens; /* the reference's two throughputs */
    uint64_t agg_unfinished, agg_completed;
    int done;
    int qos_trials[MLPIO_KV_NQOS]; /* trials in which the class had requests */
    int qos_met[MLPIO_KV_NQOS];    /* of those, trials in which it met every target */
    const char *cache_policy;
};

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static double peak_rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

int mlpio_kvcache_check_cache_dir(const char *dir, struct mlpio_error *err)
{
    struct stat st;
    /* The cache dir must exist: creating a mistyped path would hide the mistake. */
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "cache dir %s does not exist", dir);
        else
            mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cache dir %s cannot be used", dir);
        return mlpio_error_hint(err, "create it (mkdir -p %s) or pass --cache-dir DIR", dir);
    }
    if (!S_ISDIR(st.st_mode)) {
        mlpio_error_errno(err, MLPIO_ERR_CONFIG, ENOTDIR,
                          "cache dir %s is not a directory (expected a directory for the "
                          "storage tier's files, found a %s)",
                          dir, S_ISREG(st.st_mode) ? "regular file" : "non-directory");
        return mlpio_error_hint(err, "pass --cache-dir DIR naming a directory on the storage "
                                     "under test");
    }
    if (access(dir, W_OK | X_OK) != 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cache dir %s is not writable", dir);
        return mlpio_error_hint(err, "choose a directory this user can write with --cache-dir");
    }
    return 0;
}

static int setup(struct kv *k, struct mlpio_error *err)
{
    struct mlpio_run *run = k->run;
    const struct mlpio_kvcache_settings *s = run->settings;
    const struct mlpio_context *ctx = run->ctx;
    memset(k->run_id, 0, sizeof(k->run_id));
    if (ctx->rank == 0)
        snprintf(k->run_id, sizeof(k->run_id), "%s", run->rec.run_id);
    if (mlpio_config_bcast_bytes(ctx, k->run_id, sizeof(k->run_id), err) < 0)
        return -1;
    const char *dir = s->cache_dir;
    int rc = mlpio_kvcache_check_cache_dir(dir, err);
    if (mlpio_context_agree(ctx, rc, err) < 0)
        return -1;
    char name[96];
    snprintf(name, sizeof(name), "mlpio_%s/rank_%05d", k->run_id, ctx->rank);
    k->rank_dir = mlpio_path_join(dir, name);
    if (!k->rank_dir)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");

    struct mlpio_kv_config *cc = &k->cache_cfg;
    memset(cc, 0, sizeof(*cc));
    cc->capacity[MLPIO_KV_GPU] = (uint64_t)(s->gpu_mem_gb * MLPIO_KV_GIB);
    cc->capacity[MLPIO_KV_CPU] = (uint64_t)(s->cpu_mem_gb * MLPIO_KV_GIB);
    double cap = ctx->rank == 0
                     ? mlpio_json_number(run->rec.facts, "storage_capacity_bytes_per_rank", 0)
                     : 0;
    MPI_Bcast(&cap, 1, MPI_DOUBLE, 0, ctx->comm);
    cc->capacity[MLPIO_KV_STORAGE] = cap >= 1 ? (uint64_t)cap : 1;
    cc->page_bytes = (size_t)s->page_size;
    cc->high_water = s->high_water;
    cc->eviction = strcmp(s->eviction, "prefix") == 0 ? MLPIO_KV_EVICT_PREFIX : MLPIO_KV_EVICT_LRU;
    cc->layout =
        strcmp(s->layout, "segments") == 0 ? MLPIO_KV_LAYOUT_SEGMENTS : MLPIO_KV_LAYOUT_OBJECTS;
    cc->segment_bytes = s->segment_size;
    cc->backend = run->io.backend;
    cc->io_options = run->io.options;
    cc->transfer_bytes = (size_t)s->transfer_size;
    memcpy(cc->key.bytes, run->io.key.bytes, sizeof(cc->key.bytes));
    cc->verify = run->opts->verify;

    struct mlpio_kv_engine_config *ec = &k->engine_cfg;
    memset(ec, 0, sizeof(*ec));
    struct mlpio_kv_traffic_config *t = &ec->traffic;
    t->seed = run->opts->has_seed ? run->opts->seed + (uint64_t)run->loop : 0;
    if (!run->opts->has_seed) /* unseeded: traffic from the run's random salt */
        memcpy(&t->seed, run->io.salt.bytes, sizeof(t->seed));
    t->rank = (uint32_t)ctx->rank;
    t->block_tokens = (uint32_t)s->block_tokens;
    t->block_bytes = mlpio_kvcache_block_bytes(run);
    t->multi_turn = s->multi_turn;
    t->prefix_caching = s->prefix_caching;
    t->continue_probability = s->continue_probability;
    t->max_turns = (uint32_t)s->max_turns;
    t->prefix_probability = s->prefix_probability;
    t->system_prompts = (uint32_t)s->system_prompts;
    t->system_prompt_tokens = (uint32_t)s->system_prompt_tokens;
    t->max_context_tokens = (uint64_t)s->max_context_tokens;
    t->decode_tokens_per_read = (uint32_t)s->decode_tokens_per_read;
    ec->users = (uint32_t)s->num_users;
    ec->duration = s->duration;
    ec->drain_seconds = s->drain_timeout;
    ec->concurrency = (uint32_t)s->max_concurrent_allocs;
    ec->generation_seconds_per_token = mlpio_kvcache_generation_seconds(s->generation_mode);
    ec->stop = mlpio_signals_interrupted;
    k->reference = strcmp(s->io_model, "reference") == 0;
    k->ref_cfg = (struct mlpio_kv_ref_config){
        .seed = t->seed,
        .rank = t->rank,
        .users = ec->users,
        .duration = ec->duration,
        .drain_seconds = ec->drain_seconds,
        .max_concurrent_allocs = (uint32_t)s->max_concurrent_allocs,
        .bytes_per_token = mlpio_kvcache_bytes_per_token(s),
        .scale = run->opts->scale,
        .generation_seconds_per_token = ec->generation_seconds_per_token,
        .multi_turn = s->multi_turn,
        .prefix_caching = s->prefix_caching,
        .continue_probability = s->continue_probability,
        .max_turns = (uint32_t)s->max_turns,
        .decode_tokens_per_read = t->decode_tokens_per_read,
        .stop = mlpio_signals_interrupted,
    };
    k->profile = s->performance_profile;
    k->trials = (int)s->trials;
    k->keep = s->keep;
    k->precondition = s->precondition;
    k->precondition_bytes = s->precondition_size;
    return 0;
}

/* Untimed: fill the storage tier with blocks no request will ask for, so the measured traffic
 * meets a storage tier in use rather than an empty one. */
static int precondition(struct kv *k, struct mlpio_kv_cache *cache, struct mlpio_error *err)
{
    struct mlpio_kv_scratch s;
    if (mlpio_kv_scratch_init(&s, cache, err) < 0)
        return -1;
    uint64_t block = k->engine_cfg.traffic.block_bytes, done = 0;
    struct mlpio_kv_id prev = {0, 0};
    int rc = 0;
    for (uint32_t i = 0; done < k->precondition_bytes && rc == 0; i++) {
        struct mlpio_kv_block b = {.id = mlpio_kv_chain(i ? &prev : NULL, 0x707265636f6e64ULL, i),
                                   .depth = i,
                                   .bytes = block};
        prev = b.id;
        rc = mlpio_kv_put(cache, &s, &b, NULL, err);
        done += block;
        if (mlpio_signals_interrupted())
            rc = mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "interrupted by a signal");
    }
    mlpio_kv_scratch_fini(&s);
    return rc;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void local_figures(const struct mlpio_kv_trial *t, double cpu, struct trial_figures *f)
{
    memset(f, 0, sizeof(*f));
    uint64_t *c = f->c;
    c[C_COMPLETED] = t->requests_completed;
    c[C_UNSTARTED] = t->requests_unstarted;
    c[C_FAILED] = t->requests_failed;
    c[C_ABANDONED] = t->requests_abandoned;
    c[C_UNFINISHED] = t->requests_unfinished;
    c[C_PREFILL_TOKENS] = t->prefill_tokens;
    c[C_DECODE_TOKENS] = t->decode_tokens;
    c[C_NEEDED] = t->blocks_needed;
    c[C_REUSED] = t->blocks_reused;
    c[C_RECOMPUTED] = t->blocks_recomputed;
    c[C_CONVERSATIONS] = t->conversations;
    c[C_TURNS] = t->turns;
    c[C_STOPPED] = t->stopped_early;
    for (int i = 0; i < MLPIO_KV_NTIERS; i++) {
        const struct mlpio_kv_tier_stats *s = &t->cache.tier[i];
        uint64_t *x = &c[C_TIER0 + i * T_NFIELDS];
        x[T_CAPACITY] = s->capacity_bytes;
        x[T_USED] = s->used_bytes;
        x[T_PEAK] = s->peak_used_bytes;
        x[T_BLOCKS] = s->blocks;
        x[T_BYTES_W] = s->bytes_written;
        x[T_OBJ_W] = s->objects_written;
        x[T_BYTES_R] = s->bytes_read;
        x[T_OBJ_R] = s->objects_read;
        x[T_HITS] = s->hits;
        x[T_MISSES] = s->misses;
        x[T_EVICTIONS] = s->evictions;
        x[T_DEMOTIONS] = s->demotions;
        x[T_PROMOTIONS] = s->promotions;
        x[T_EXISTS] = s->already_exists;
    }
    const struct mlpio_kv_tier_stats *st = &t->cache.tier[MLPIO_KV_STORAGE];
    f->max[M_WALL] = t->wall_seconds;
    f->max[M_DRAIN] = t->drain_seconds;
    f->max[M_READ_P95] = mlpio_hist_percentile(&st->read_latency, 95);
    f->max[M_WRITE_P95] = mlpio_hist_percentile(&st->write_latency, 95);
    f->max[M_RSS] = peak_rss_bytes();
    f->sum[S_CPU] = cpu;
    f->sum[S_MANAGER_CPU] = t->cache.manager_cpu_seconds;
    f->sum[S_STORAGE_IO] = t->storage_io_seconds;
    f->sum[S_REF_TPS] = ratio((double)t->decode_tokens, t->storage_io_seconds);
    f->h[H_STORAGE_REQ] = t->storage_request;
    f->h[H_E2E] = t->e2e;
    f->h[H_LAG] = t->lag;
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        f->h[H_QOS0 + q] = t->qos[q];
    for (int i = 0; i < MLPIO_KV_NTIERS; i++) {
        f->h[H_READ0 + i] = t->cache.tier[i].read_latency;
        f->h[H_WRITE0 + i] = t->cache.tier[i].write_latency;
    }
}

/* Collective: every rank's figures onto rank 0 (g). */
static int reduce(const struct mlpio_context *ctx, const struct trial_figures *l,
                  struct trial_figures *g, struct mlpio_error *err)
{
    memset(g, 0, sizeof(*g));
    if (MPI_Reduce(l->c, g->c, NCOUNTERS, MPI_UINT64_T, MPI_SUM, 0, ctx->comm) != MPI_SUCCESS ||
        MPI_Reduce(l->max, g->max, M_NMAX, MPI_DOUBLE, MPI_MAX, 0, ctx->comm) != MPI_SUCCESS ||
        MPI_Reduce(l->sum, g->sum, S_NSUM, MPI_DOUBLE, MPI_SUM, 0, ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Reduce of trial figures failed");
    return mlpio_hist_reduce_n(l->h, g->h, H_N, 0, ctx->comm, err);
}

static void add_check(cJSON *checks, const char *name, double value, const char *op, double limit,
                      bool ok)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddNumberToObject(c, "value", value);
    cJSON_AddStringToObject(c, "limit", op);
    cJSON_AddNumberToObject(c, "threshold", limit);
    cJSON_AddBoolToObject(c, "pass", ok);
    cJSON_AddItemToArray(checks, c);
}

/* PASS/FAIL of the profile; checks lists each criterion. */
static bool judge(const char *profile, double read_p95, double write_p95, double hit_rate,
                  uint64_t completed, cJSON *checks)
{
    bool ok = completed > 0;
    add_check(checks, "requests_completed", (double)completed, ">", 0, completed > 0);
    if (strcmp(profile, "latency") == 0) {
        add_check(checks, "storage_write_p95_seconds", write_p95, "<", LATENCY_WRITE_P95,
                  write_p95 < LATENCY_WRITE_P95);
        add_check(checks, "storage_read_p95_seconds", read_p95, "<", LATENCY_READ_P95,
                  read_p95 < LATENCY_READ_P95);
        ok = ok && write_p95 < LATENCY_WRITE_P95 && read_p95 < LATENCY_READ_P95;
    }
    add_check(checks, "cache_hit_rate", hit_rate, ">", MIN_HIT_RATE, hit_rate > MIN_HIT_RATE);
    return ok && hit_rate > MIN_HIT_RATE;
}

static bool judges_latency(const char *profile)
{
    return strcmp(profile, "latency") == 0;
}

/* The per-class latency targets: met when every class that had requests (judged[q] trials)
 * met all of its targets (in met[q] of them). The latency profile judges them: one check per
 * class. */
static bool latency_targets(const char *profile, const int *judged, const int *met, cJSON *checks)
{
    bool all = true;
    for (int q = 0; q < MLPIO_KV_NQOS; q++) {
        if (!judged[q])
            continue;
        bool ok = met[q] == judged[q];
        all = all && ok;
        if (judges_latency(profile)) {
            char name[64];
            snprintf(name, sizeof(name), "latency_targets_%s", mlpio_kv_qos_classes[q].name);
            add_check(checks, name, met[q], ">=", judged[q], ok);
        }
    }
    return all;
}

/* The headline follows from every check: a bare PASS only when nothing it covers missed. */
static const char *verdict_text(const char *profile, bool storage, bool latency)
{
    if (!storage)
        return "FAIL";
    return latency || !judges_latency(profile) ? "PASS" : "storage PASS, latency targets missed";
}

/* Rank 0: the trial's JSON, and the running aggregates. */
static cJSON *trial_json(struct kv *k, int trial, const struct trial_figures *g)
{
    const uint64_t *c = g->c;
    double wall = g->max[M_WALL];
    const uint64_t *st = &c[C_TIER0 + MLPIO_KV_STORAGE * T_NFIELDS];
    double read_bw = ratio((double)st[T_BYTES_R], wall) / 1e9;
    double write_bw = ratio((double)st[T_BYTES_W], wall) / 1e9;
    double hit = ratio((double)c[C_REUSED], (double)c[C_NEEDED]);
    uint64_t moved = 0;
    for (int i = 0; i < MLPIO_KV_NTIERS; i++)
        moved += c[C_TIER0 + i * T_NFIELDS + T_BYTES_R] + c[C_TIER0 + i * T_NFIELDS + T_BYTES_W];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "trial", trial);
    cJSON_AddNumberToObject(j, "wall_seconds", wall);
    cJSON_AddNumberToObject(j, "drain_seconds", g->max[M_DRAIN]);
    cJSON_AddBoolToObject(j, "stopped_early", c[C_STOPPED] > 0);
    cJSON *req = cJSON_AddObjectToObject(j, "requests");
    cJSON_AddNumberToObject(req, "completed", (double)c[C_COMPLETED]);
    cJSON_AddNumberToObject(req, "unstarted", (double)c[C_UNSTARTED]);
    cJSON_AddNumberToObject(req, "failed", (double)c[C_FAILED]);
    cJSON_AddNumberToObject(req, "abandoned", (double)c[C_ABANDONED]);
    cJSON_AddNumberToObject(req, "unfinished", (double)c[C_UNFINISHED]);
    cJSON_AddNumberToObject(req, "conversations", (double)c[C_CONVERSATIONS]);
    cJSON_AddNumberToObject(req, "turns", (double)c[C_TURNS]);
    double rps = ratio((double)c[C_COMPLETED], wall);
    double tps = ratio((double)(c[C_PREFILL_TOKENS] + c[C_DECODE_TOKENS]), wall);
    cJSON_AddNumberToObject(j, "requests_per_second", rps);
    cJSON_AddNumberToObject(j, "prefill_tokens", (double)c[C_PREFILL_TOKENS]);
    cJSON_AddNumberToObject(j, "decode_tokens", (double)c[C_DECODE_TOKENS]);
    cJSON_AddNumberToObject(j, "tokens_per_second_wall", tps);
    cJSON_AddNumberToObject(j, "decode_tokens_per_second_wall",
                            ratio((double)c[C_DECODE_TOKENS], wall));
    cJSON *sto = cJSON_AddObjectToObject(j, "storage");
    cJSON_AddNumberToObject(sto, "read_bytes", (double)st[T_BYTES_R]);
    cJSON_AddNumberToObject(sto, "write_bytes", (double)st[T_BYTES_W]);
    cJSON_AddNumberToObject(sto, "read_bandwidth_GBps", read_bw);
    cJSON_AddNumberToObject(sto, "write_bandwidth_GBps", write_bw);
    cJSON_AddNumberToObject(sto, "read_p95_worst_rank", g->max[M_READ_P95]);
    cJSON_AddNumberToObject(sto, "write_p95_worst_rank", g->max[M_WRITE_P95]);
    cJSON_AddItemToObject(sto, "read_latency",
                          mlpio_hist_to_json(&g->h[H_READ0 + MLPIO_KV_STORAGE]));
    cJSON_AddItemToObject(sto, "write_latency",
                          mlpio_hist_to_json(&g->h[H_WRITE0 + MLPIO_KV_STORAGE]));
    cJSON_AddItemToObject(j, "latency", mlpio_hist_to_json(&g->h[H_E2E]));
    cJSON *tiers = cJSON_AddObjectToObject(j, "tiers");
    for (int i = 0; i < MLPIO_KV_NTIERS; i++) {
        cJSON *o = cJSON_AddObjectToObject(tiers, mlpio_kv_tier_name(i));
        const uint64_t *x = &c[C_TIER0 + i * T_NFIELDS];
        for (int f = 0; f < T_NFIELDS; f++)
            cJSON_AddNumberToObject(o, tier_field[f], (double)x[f]);
        cJSON_AddNumberToObject(o, "hit_rate",
                                ratio((double)x[T_HITS], (double)(x[T_HITS] + x[T_MISSES])));
        cJSON_AddItemToObject(o, "read_latency", mlpio_hist_to_json(&g->h[H_READ0 + i]));
        cJSON_AddItemToObject(o, "write_latency", mlpio_hist_to_json(&g->h[H_WRITE0 + i]));
    }
    cJSON *blocks = cJSON_AddObjectToObject(j, "blocks");
    cJSON_AddNumberToObject(blocks, "needed", (double)c[C_NEEDED]);
    cJSON_AddNumberToObject(blocks, "reused", (double)c[C_REUSED]);
    cJSON_AddNumberToObject(blocks, "recomputed", (double)c[C_RECOMPUTED]);
    cJSON_AddNumberToObject(j, "cache_hit_rate", hit);
    cJSON *qos = cJSON_AddObjectToObject(j, "qos");
    int judged[MLPIO_KV_NQOS] = {0}, met_all[MLPIO_KV_NQOS] = {0};
    for (int q = 0; q < MLPIO_KV_NQOS; q++) {
        const struct mlpio_kv_qos *cls = &mlpio_kv_qos_classes[q];
        cJSON *o = cJSON_AddObjectToObject(qos, cls->name);
        cJSON_AddNumberToObject(o, "requests", (double)g->h[H_QOS0 + q].count);
        cJSON_AddItemToObject(o, "latency", mlpio_hist_to_json(&g->h[H_QOS0 + q]));
        cJSON *targets = cJSON_AddArrayToObject(o, "targets");
        bool all = g->h[H_QOS0 + q].count > 0;
        for (int p = 0; p < MLPIO_KV_NQOS_TARGETS; p++) {
            double v = mlpio_hist_percentile(&g->h[H_QOS0 + q], mlpio_kv_qos_percentiles[p]);
            bool met = g->h[H_QOS0 + q].count > 0 && v <= cls->target[p];
            all = all && met;
            cJSON *t = cJSON_CreateObject();
            cJSON_AddNumberToObject(t, "percentile", mlpio_kv_qos_percentiles[p]);
            cJSON_AddNumberToObject(t, "target_seconds", cls->target[p]);
            cJSON_AddNumberToObject(t, "measured_seconds", v);
            cJSON_AddBoolToObject(t, "met", met);
            cJSON_AddItemToArray(targets, t);
        }
        cJSON_AddBoolToObject(o, "attained", all);
        judged[q] = g->h[H_QOS0 + q].count > 0;
        met_all[q] = all;
        k->qos_trials[q] += judged[q];
        k->qos_met[q] += all;
    }
    cJSON_AddItemToObject(j, "arrival_lag", mlpio_hist_to_json(&g->h[H_LAG]));
    cJSON_AddStringToObject(j, "io_model", k->reference ? "reference" : "blocks");
    if (k->reference) {
        /* As the reference counts (benchmark.py _calculate_stats, summed over ranks as
         * mlpstorage_py/benchmarks/kvcache.py does): generated tokens over the nominal
         * duration, and over the summed storage time of the requests. */
        double duration = k->ref_cfg.duration;
        cJSON *ref = cJSON_AddObjectToObject(j, "reference");
        cJSON_AddNumberToObject(ref, "avg_throughput_tokens_per_sec",
                                ratio((double)c[C_DECODE_TOKENS], duration));
        cJSON_AddNumberToObject(ref, "storage_throughput_tokens_per_sec", g->sum[S_REF_TPS]);
        cJSON_AddNumberToObject(ref, "requests_per_second",
                                ratio((double)c[C_COMPLETED], duration));
        cJSON_AddNumberToObject(ref, "total_storage_io_seconds", g->sum[S_STORAGE_IO]);
        cJSON_AddItemToObject(ref, "storage_io_latency", mlpio_hist_to_json(&g->h[H_STORAGE_REQ]));
        k->agg_ref_tokens += ratio((double)c[C_DECODE_TOKENS], duration);
        k->agg_ref_storage_tokens += g->sum[S_REF_TPS];
    }
    cJSON *cpu = cJSON_AddObjectToObject(j, "cpu");
    cJSON_AddNumberToObject(cpu, "seconds", g->sum[S_CPU]);
    cJSON_AddNumberToObject(cpu, "manager_seconds", g->sum[S_MANAGER_CPU]);
    cJSON_AddNumberToObject(cpu, "bytes_moved", (double)moved);
    cJSON_AddNumberToObject(cpu, "seconds_per_GiB_moved",
                            ratio(g->sum[S_CPU], (double)moved / MLPIO_KV_GIB));
    cJSON_AddNumberToObject(j, "peak_rss_bytes_worst_rank", g->max[M_RSS]);
    cJSON *checks = cJSON_AddArrayToObject(j, "checks");
    bool storage =
        judge(k->profile, g->max[M_READ_P95], g->max[M_WRITE_P95], hit, c[C_COMPLETED], checks);
    bool latency = latency_targets(k->profile, judged, met_all, checks);
    const char *result = verdict_text(k->profile, storage, latency);
    cJSON_AddBoolToObject(j, "storage_pass", storage);
    cJSON_AddBoolToObject(j, "latency_targets_met", latency);
    cJSON_AddBoolToObject(j, "pass", strcmp(result, "PASS") == 0);
    cJSON_AddStringToObject(j, "result", result);

    k->agg_tokens += tps;
    k->agg_requests += rps;
    k->agg_read_bw += read_bw;
    k->agg_write_bw += write_bw;
    k->agg_hit += hit;
    k->agg_read_p95 = fmax(k->agg_read_p95, g->max[M_READ_P95]);
    k->agg_write_p95 = fmax(k->agg_write_p95, g->max[M_WRITE_P95]);
    k->agg_drain = fmax(k->agg_drain, g->max[M_DRAIN]);
    k->agg_unfinished += c[C_UNFINISHED];
    k->agg_completed += c[C_COMPLETED];
    k->done++;
    return j;
}

/* A trial's progress: the job's requests (every rank's, through the tally) on rank 0's line. */
struct trial_progress {
    struct mlpio_progress *line; /* rank 0 */
    struct mlpio_kv_tally tally;
    double duration, drain;
    int rc;
    struct mlpio_error err;
};

#define TALLY_SECONDS 0.25

static void show_progress(void *arg, double elapsed, uint64_t completed, uint64_t in_flight)
{
    struct trial_progress *tp = arg;
    if (tp->rc == 0)
        tp->rc = mlpio_kv_tally_tick(&tp->tally, completed, in_flight, &tp->err);
    if (!tp->line)
        return;
    const uint64_t *sum = tp->tally.sum;
    bool job = tp->tally.have;
    double flying = (double)(job ? sum[MLPIO_KV_TALLY_IN_FLIGHT] : in_flight);
    mlpio_progress_count(tp->line, "requests",
                         (double)(job ? sum[MLPIO_KV_TALLY_COMPLETED] : completed));
    char note[64] = "";
    if (elapsed >= tp->duration && flying > 0)
        snprintf(note, sizeof(note), "waiting for %.0f requests, %.0f s at most", flying,
                 fmax(0, tp->duration + tp->drain - elapsed));
    mlpio_progress_note(tp->line, note);
    mlpio_progress_update(tp->line, elapsed);
}

static int one_trial(struct kv *k, int trial, struct mlpio_error *err)
{
    struct mlpio_run *run = k->run;
    const struct mlpio_context *ctx = run->ctx;
    char sub[32];
    snprintf(sub, sizeof(sub), "trial_%d", trial);
    char *dir = mlpio_path_join(k->rank_dir, sub);
    if (!dir)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    struct mlpio_kv_config cc = k->cache_cfg;
    cc.dir = dir;
    struct mlpio_kv_engine_config ec = k->engine_cfg;
    ec.traffic.trial = (uint32_t)trial;
    struct mlpio_kv_cache *cache = NULL;
    int rc = mlpio_kv_cache_create(&cc, &cache, err);
    if (rc == 0 && k->precondition) {
        rc = precondition(k, cache, err);
        mlpio_kv_cache_stats_reset(cache); /* untimed: not in the trial's figures */
    }
    if (mlpio_context_agree(ctx, rc, err) < 0) {
        struct mlpio_error ignore = {0};
        mlpio_kv_cache_destroy(&cache, !k->keep, &ignore);
        free(dir);
        return -1;
    }
    k->cache_policy = mlpio_kv_cache_policy(cache);
    mlpio_run_event(run, "trial_begin", NULL);
    MPI_Barrier(ctx->comm);
    double cpu0 = cpu_seconds();
    char phase[32];
    snprintf(phase, sizeof(phase), "trial %d/%d", trial + 1, k->trials);
    struct trial_progress tp = {.line = mlpio_progress_start(run, phase, ec.duration, "s"),
                                .duration = ec.duration,
                                .drain = ec.drain_seconds};
    mlpio_kv_tally_init(&tp.tally, ctx->comm, TALLY_SECONDS);
    ec.progress = show_progress; /* on every rank: each takes part in the tally */
    ec.progress_arg = &tp;
    struct mlpio_kv_trial t;
    struct mlpio_error terr = {0};
    if (k->reference) {
        struct mlpio_kv_ref_config rc_cfg = k->ref_cfg;
        rc_cfg.trial = (uint32_t)trial;
        rc_cfg.progress = show_progress;
        rc_cfg.progress_arg = &tp;
        rc = mlpio_kv_ref_run(cache, &rc_cfg, &t, &terr);
    } else {
        rc = mlpio_kv_engine_run(cache, &ec, &t, &terr);
    }
    /* Collective: the job's final count for the last line and event. */
    if (mlpio_kv_tally_finish(&tp.tally, t.requests_completed, &tp.err) < 0)
        tp.rc = -1;
    if (tp.rc < 0 && rc == 0) {
        terr = tp.err;
        rc = -1;
    }
    mlpio_progress_count(tp.line, "requests", (double)tp.tally.sum[MLPIO_KV_TALLY_COMPLETED]);
    mlpio_progress_note(tp.line, NULL);
    mlpio_progress_finish(&tp.line);
    struct trial_figures local, global;
    local_figures(&t, cpu_seconds() - cpu0, &local);
    struct mlpio_error derr = {0};
    if (mlpio_kv_cache_destroy(&cache, !k->keep, &derr) < 0 && rc == 0) {
        terr = derr;
        rc = -1;
    }
    free(dir);
    if (reduce(ctx, &local, &global, err) < 0)
        return -1;
    if (ctx->rank == 0) {
        cJSON *j = trial_json(k, trial, &global);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "trial", trial);
        cJSON_AddNumberToObject(ev, "requests", (double)global.c[C_COMPLETED]);
        cJSON_AddNumberToObject(ev, "tokens_per_second_wall",
                                cJSON_GetObjectItem(j, "tokens_per_second_wall")->valuedouble);
        cJSON_AddNumberToObject(ev, "unfinished", (double)global.c[C_UNFINISHED]);
        cJSON_AddNumberToObject(ev, "drain_seconds", global.max[M_DRAIN]);
        cJSON_AddBoolToObject(ev, "pass", cJSON_IsTrue(cJSON_GetObjectItem(j, "pass")));
        cJSON_AddStringToObject(ev, "result", cJSON_GetObjectItem(j, "result")->valuestring);
        mlpio_run_event(run, "trial_end", ev);
        cJSON_AddItemToArray(k->trial_list, j);
    }
    if (rc < 0)
        *err = terr;
    return mlpio_context_agree(ctx, rc, err);
}

static void write_summary(struct kv *k)
{
    struct mlpio_run *run = k->run;
    const struct mlpio_kvcache_settings *settings = run->settings;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "benchmark", "kvcache");
    cJSON_AddStringToObject(s, "model", run->opts->model);
    cJSON_AddStringToObject(s, "performance_profile", k->profile);
    cJSON_AddNumberToObject(s, "ranks", run->ctx->size);
    cJSON_AddNumberToObject(s, "users_per_rank", k->engine_cfg.users);
    cJSON_AddNumberToObject(s, "duration", k->engine_cfg.duration);
    cJSON_AddStringToObject(s, "io_model", k->reference ? "reference" : "blocks");
    cJSON_AddStringToObject(s, "cache_policy", k->cache_policy ? k->cache_policy : "none");
    cJSON_AddStringToObject(s, "storage_dir", settings->cache_dir);
    cJSON_AddBoolToObject(s, "cache_kept", k->keep);
    double n = k->done ? k->done : 1;
    cJSON *a = cJSON_AddObjectToObject(s, "aggregate");
    cJSON_AddNumberToObject(a, "trials", k->done);
    cJSON_AddNumberToObject(a, "tokens_per_second_wall", k->agg_tokens / n);
    cJSON_AddNumberToObject(a, "requests_per_second", k->agg_requests / n);
    cJSON_AddNumberToObject(a, "storage_read_bandwidth_GBps", k->agg_read_bw / n);
    cJSON_AddNumberToObject(a, "storage_write_bandwidth_GBps", k->agg_write_bw / n);
    cJSON_AddNumberToObject(a, "storage_read_p95", k->agg_read_p95);
    cJSON_AddNumberToObject(a, "storage_write_p95", k->agg_write_p95);
    cJSON_AddNumberToObject(a, "cache_hit_rate", k->agg_hit / n);
    cJSON_AddNumberToObject(a, "drain_seconds_max", k->agg_drain);
    cJSON_AddNumberToObject(a, "requests_unfinished", (double)k->agg_unfinished);
    if (k->reference) {
        cJSON_AddNumberToObject(a, "avg_throughput_tokens_per_sec", k->agg_ref_tokens / n);
        cJSON_AddNumberToObject(a, "storage_throughput_tokens_per_sec",
                                k->agg_ref_storage_tokens / n);
    }
    cJSON *checks = cJSON_AddArrayToObject(a, "checks");
    bool storage = k->done > 0 && judge(k->profile, k->agg_read_p95, k->agg_write_p95,
                                        k->agg_hit / n, k->agg_completed, checks);
    bool latency = latency_targets(k->profile, k->qos_trials, k->qos_met, checks);
    const char *result = verdict_text(k->profile, storage, latency);
    cJSON_AddBoolToObject(a, "storage_pass", storage);
    cJSON_AddBoolToObject(a, "latency_targets_met", latency);
    cJSON *missed = cJSON_AddArrayToObject(a, "latency_targets_missed");
    char missed_text[128] = "";
    for (int q = 0; q < MLPIO_KV_NQOS; q++) {
        if (k->qos_met[q] == k->qos_trials[q])
            continue;
        const char *name = mlpio_kv_qos_classes[q].name;
        cJSON_AddItemToArray(missed, cJSON_CreateString(name));
        size_t used = strlen(missed_text);
        snprintf(missed_text + used, sizeof(missed_text) - used, "%s%s", used ? ", " : "", name);
    }
    cJSON_AddBoolToObject(a, "pass", strcmp(result, "PASS") == 0);
    cJSON_AddStringToObject(a, "result", result);
    cJSON_AddItemToObject(s, "trials", k->trial_list);
    k->trial_list = NULL;
    run->rec.summary = s;

    char latency_line[256] = "";
    if (!latency)
        snprintf(latency_line, sizeof(latency_line),
                 "  latency targets missed by %s%s (see each trial's qos)\n", missed_text,
                 judges_latency(k->profile) ? "" : ", not judged by the throughput profile");
    char drain_line[160] = "";
    if (k->agg_unfinished)
        snprintf(drain_line, sizeof(drain_line),
                 "  %" PRIu64 " request(s) unfinished at the drain deadline (%.1f s after the "
                 "duration)\n",
                 k->agg_unfinished, k->agg_drain);
    char ref_line[192] = "";
    if (k->reference)
        snprintf(ref_line, sizeof(ref_line),
                 "  as the reference counts: %.1f tokens/s over the duration, %.1f tokens/s of "
                 "storage time\n",
                 k->agg_ref_tokens / n, k->agg_ref_storage_tokens / n);
    char text[1792];
    snprintf(text, sizeof(text),
             "kvcache %s, %s model, %s profile: %s over %d trial(s)\n%s%s"
             "  %.1f tokens/s (wall), %.2f requests/s, hit rate %.1f %%\n"
             "  storage read %.3f GB/s (P95 %.1f ms), write %.3f GB/s (P95 %.1f ms)\n%s",
             run->opts->model, k->reference ? "reference" : "block", k->profile, result, k->done,
             latency_line, ref_line, k->agg_tokens / n, k->agg_requests / n, 100.0 * k->agg_hit / n,
             k->agg_read_bw / n, 1e3 * k->agg_read_p95, k->agg_write_bw / n, 1e3 * k->agg_write_p95,
             drain_line);
    run->rec.report_text = strdup(text);
}

/* --what-if: what the trials would do, from the same settings; nothing is created. */
static void what_if(const struct mlpio_run *run)
{
    if (run->ctx->rank != 0)
        return;
    const struct mlpio_kvcache_settings *s = run->settings;
    const cJSON *f = run->rec.facts;
    mlpio_log(run->ctx, MLPIO_LOG_NORMAL,
              "what-if: %d trial(s) of %g s, %d rank(s) x %.0f users, %.0f requests moving data "
              "at once per rank, generation %s, %s model\n"
              "  tiers per rank: GPU %g GiB, CPU %g GiB, storage %.2f GiB in %s/mlpio_<run>/\n"
              "  blocks of %.0f tokens = %.0f bytes (%s layout, %s eviction)\n",
              (int)s->trials, s->duration, run->ctx->size, (double)s->num_users,
              (double)s->max_concurrent_allocs, s->generation_mode, s->io_model, s->gpu_mem_gb,
              s->cpu_mem_gb,
              mlpio_json_number(f, "storage_capacity_bytes_per_rank", 0) / MLPIO_KV_GIB,
              s->cache_dir, (double)s->block_tokens, mlpio_json_number(f, "block_bytes", 0),
              s->layout, s->eviction);
}

int mlpio_kvcache_run(struct mlpio_run *run, struct mlpio_error *err)
{
    if (run->opts->what_if) {
        what_if(run);
        return 0;
    }
    struct kv k;
    memset(&k, 0, sizeof(k));
    k.run = run;
    int rc = setup(&k, err);
    if (rc == 0 && run->ctx->rank == 0)
        k.trial_list = cJSON_CreateArray();
    for (int t = 0; rc == 0 && t < k.trials; t++)
        rc = one_trial(&k, t, err);
    if (run->ctx->rank == 0 && k.trial_list) {
        write_summary(&k);
        cJSON_DeleteItemFromObject(run->rec.facts, "cache_policy");
        cJSON_AddStringToObject(run->rec.facts, "cache_policy",
                                k.cache_policy ? k.cache_policy : "none");
    }
    /* The rank folder goes with the cache; remove the run folder too when it is empty. */
    if (!k.keep && k.rank_dir) {
        rmdir(k.rank_dir);
        MPI_Barrier(run->ctx->comm);
        char *slash = strrchr(k.rank_dir, '/');
        if (slash && run->ctx->rank == 0) {
            *slash = '\0';
            rmdir(k.rank_dir);
        }
    }
    free(k.rank_dir);
    cJSON_Delete(k.trial_list);
    return rc;
}
