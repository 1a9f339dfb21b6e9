/* KV-cache workload descriptor: parameters, options, CLOSED presets, facts for the rules, and
 * the datasize and configview commands. Traffic is in traffic.c, the cache in tier.c, the
 * request engine in engine.c, trials and figures in run.c. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "app/params.h"
#include "app/run.h"
#include "app/workloads/kvcache/kvcache.h"
#include "io/path.h"
#include "report/json_file.h"
#include "rules/rules.h"
#include "app/workloads/kvcache/traffic.h"

static const struct mlpio_param_spec params[] = {
    {"model.name", MLPIO_PARAM_STRING, 0, 0, NULL, "model name", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, model_name)},
    {"model.num_layers", MLPIO_PARAM_INT, 1, 1000, NULL, "transformer layers", NULL,
     MLPIO_PARAM_IF_CHANGED, MLPIO_AT(struct mlpio_kvcache_settings, num_layers)},
    {"model.hidden_size", MLPIO_PARAM_INT, 1, 1e6, NULL, "hidden size", NULL,
     MLPIO_PARAM_IF_CHANGED, MLPIO_AT(struct mlpio_kvcache_settings, hidden_size)},
    {"model.num_attention_heads", MLPIO_PARAM_INT, 1, 1e4, NULL, "attention heads", NULL,
     MLPIO_PARAM_IF_CHANGED, MLPIO_AT(struct mlpio_kvcache_settings, num_attention_heads)},
    {"model.num_kv_heads", MLPIO_PARAM_INT, 1, 1e4, NULL, "key/value heads", NULL,
     MLPIO_PARAM_IF_CHANGED, MLPIO_AT(struct mlpio_kvcache_settings, num_kv_heads)},
    {"model.dtype_bytes", MLPIO_PARAM_INT, 1, 8, NULL, "bytes per KV element (fp16: 2)", NULL,
     MLPIO_PARAM_IF_CHANGED, MLPIO_AT(struct mlpio_kvcache_settings, dtype_bytes)},
    {"kvcache.num_users", MLPIO_PARAM_INT, 1, 1e6, NULL, "users per rank (CLOSED: per option)",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, num_users)},
    {"kvcache.duration", MLPIO_PARAM_NUMBER, 0.001, 1e7, NULL,
     "seconds of traffic per trial (< 30 INVALID, < 60 OPEN)", "s", "below 30 s",
     MLPIO_AT(struct mlpio_kvcache_settings, duration)},
    {"kvcache.drain_timeout", MLPIO_PARAM_NUMBER, 0, 1e6, NULL,
     "seconds after the duration that started requests get to finish; then they stop and "
     "count as unfinished (CLOSED: 5)",
     "s", NULL, MLPIO_AT(struct mlpio_kvcache_settings, drain_timeout)},
    {"kvcache.trials", MLPIO_PARAM_INT, 1, 1000, NULL, "trials (CLOSED: 3)", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, trials)},
    {"kvcache.generation_mode", MLPIO_PARAM_ENUM, 0, 0, "none|fast|realistic",
     "sleep per generated token: 0, 2 ms, 30 ms (CLOSED: none)", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, generation_mode)},
    {"kvcache.io_model", MLPIO_PARAM_ENUM, 0, 0, "blocks|reference",
     "I/O and load model: mlpio's blocks (128-token blocks, only what a tier lacks, closed "
     "loop), or the reference's (an object per turn, earlier turns re-read, open loop)",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, io_model)},
    {"kvcache.performance_profile", MLPIO_PARAM_ENUM, 0, 0, "latency|throughput",
     "which PASS/FAIL criteria judge the run", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, performance_profile)},
    {"kvcache.max_concurrent_allocs", MLPIO_PARAM_INT, 1, 4096, NULL,
     "requests moving KV data at once per rank", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, max_concurrent_allocs)},
    {"kvcache.multi_turn", MLPIO_PARAM_BOOL, 0, 0, NULL, "conversations continue over turns", NULL,
     NULL, MLPIO_AT(struct mlpio_kvcache_settings, multi_turn)},
    {"kvcache.prefix_caching", MLPIO_PARAM_BOOL, 0, 0, NULL, "shared system prompts", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, prefix_caching)},
    {"kvcache.continue_probability", MLPIO_PARAM_NUMBER, 0, 1, NULL,
     "probability that a conversation goes on", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, continue_probability)},
    {"kvcache.max_turns", MLPIO_PARAM_INT, 1, 100000, NULL, "turns per conversation at most", NULL,
     NULL, MLPIO_AT(struct mlpio_kvcache_settings, max_turns)},
    {"kvcache.prefix_probability", MLPIO_PARAM_NUMBER, 0, 1, NULL,
     "probability that a conversation starts with a shared system prompt", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, prefix_probability)},
    {"kvcache.system_prompts", MLPIO_PARAM_INT, 0, 1e6, NULL, "shared system prompts per rank",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, system_prompts)},
    {"kvcache.system_prompt_tokens", MLPIO_PARAM_INT, 0, 1e7, NULL, "tokens of a system prompt",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, system_prompt_tokens)},
    {"kvcache.max_context_tokens", MLPIO_PARAM_INT, 1, 1e9, NULL,
     "a conversation longer than this starts over", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, max_context_tokens)},
    {"kvcache.decode_tokens_per_read", MLPIO_PARAM_INT, 1, 1e6, NULL,
     "generated tokens between two decode reads", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, decode_tokens_per_read)},
    {"cache.gpu_mem_gb", MLPIO_PARAM_NUMBER, 0, 1e6, NULL, "GPU tier budget per rank (GiB)", "GiB",
     NULL, MLPIO_AT(struct mlpio_kvcache_settings, gpu_mem_gb)},
    {"cache.cpu_mem_gb", MLPIO_PARAM_NUMBER, 0, 1e6, NULL, "CPU DRAM tier budget per rank (GiB)",
     "GiB", NULL, MLPIO_AT(struct mlpio_kvcache_settings, cpu_mem_gb)},
    {"cache.cache_dir", MLPIO_PARAM_STRING, 0, 0, NULL, "storage tier directory", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, cache_dir)},
    {"cache.storage_capacity_gb", MLPIO_PARAM_NUMBER, 0, 1e9, NULL,
     "storage tier capacity per rank (GiB; 0: 95 % of the free space / ranks)", "GiB", NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, storage_capacity_gb)},
    {"cache.block_tokens", MLPIO_PARAM_INT, 1, 1e6, NULL, "tokens per KV block", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, block_tokens)},
    {"cache.page_size", MLPIO_PARAM_SIZE, 4096, 1073741824, NULL, "DRAM tier page size", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, page_size)},
    {"cache.layout", MLPIO_PARAM_ENUM, 0, 0, "objects|segments",
     "storage layout: a file per block, or append-only segment logs", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, layout)},
    {"cache.segment_size", MLPIO_PARAM_SIZE, 1048576, 1e13, NULL, "segment file size", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, segment_size)},
    {"cache.eviction", MLPIO_PARAM_ENUM, 0, 0, "lru|prefix",
     "victim choice: LRU, or deepest block of a chain among the oldest 16", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, eviction)},
    {"cache.high_water", MLPIO_PARAM_NUMBER, 0.01, 1, NULL, "DRAM tier fill level that evicts",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, high_water)},
    {"cache.transfer_size", MLPIO_PARAM_SIZE, 4096, 1073741824, NULL, "bytes per storage I/O call",
     NULL, NULL, MLPIO_AT(struct mlpio_kvcache_settings, transfer_size)},
    {"cache.keep", MLPIO_PARAM_BOOL, 0, 0, NULL, "leave the storage objects after the run", NULL,
     NULL, MLPIO_AT(struct mlpio_kvcache_settings, keep)},
    {"cache.precondition", MLPIO_PARAM_BOOL, 0, 0, NULL,
     "fill the storage tier before each trial (untimed)", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, precondition)},
    {"cache.precondition_size", MLPIO_PARAM_SIZE, 0, 1e15, NULL,
     "bytes per rank written by the precondition", NULL, NULL,
     MLPIO_AT(struct mlpio_kvcache_settings, precondition_size)},
};

/* WORKLOADS.md section 3, CLOSED options (seed 42, 3 trials, generation none). */
static const struct mlpio_preset presets[] = {
    {"1", "llama3.1-8b",
     "kvcache.num_users=200 kvcache.duration=300 cache.gpu_mem_gb=0 cache.cpu_mem_gb=0 "
     "kvcache.max_concurrent_allocs=16 kvcache.trials=3 kvcache.generation_mode=none "
     "kvcache.io_model=reference",
     "200 users/rank, 300 s, GPU 0, CPU 0, 16 concurrent"},
    {"2", "llama3.1-8b",
     "kvcache.num_users=100 kvcache.duration=300 cache.gpu_mem_gb=0 cache.cpu_mem_gb=4 "
     "kvcache.max_concurrent_allocs=16 kvcache.trials=3 kvcache.generation_mode=none "
     "kvcache.io_model=reference",
     "100 users/rank, 300 s, GPU 0, CPU 4 GiB, 16 concurrent"},
    {"3", "llama3.1-70b-instruct",
     "kvcache.num_users=70 kvcache.duration=300 cache.gpu_mem_gb=0 cache.cpu_mem_gb=0 "
     "kvcache.max_concurrent_allocs=4 kvcache.trials=3 kvcache.generation_mode=none "
     "kvcache.io_model=reference",
     "70 users/rank, 300 s, GPU 0, CPU 0, 4 concurrent"},
    {NULL, NULL, NULL, NULL},
};

static const struct mlpio_cli_option options[] = {
    {.name = "num-users",
     .alias = "nu",
     .metavar = "N",
     .config_key = "kvcache.num_users",
     .help = "users per rank"},
    {.name = "duration",
     .alias = "d",
     .metavar = "S",
     .config_key = "kvcache.duration",
     .help = "seconds of traffic per trial",
     .commands = "run|configview"},
    {.name = "gpu-mem-gb",
     .metavar = "GB",
     .config_key = "cache.gpu_mem_gb",
     .help = "GPU tier budget per rank"},
    {.name = "cpu-mem-gb",
     .metavar = "GB",
     .config_key = "cache.cpu_mem_gb",
     .help = "CPU DRAM tier budget per rank"},
    {.name = "cache-dir",
     .metavar = "DIR",
     .config_key = "cache.cache_dir",
     .help = "storage tier directory (each run and rank gets its own folder in it)"},
    {.name = "storage-capacity-gb",
     .metavar = "GB",
     .config_key = "cache.storage_capacity_gb",
     .help = "storage tier capacity per rank (0: 95 % of the free space, shared by the ranks)"},
    {.name = "generation-mode",
     .metavar = "MODE",
     .config_key = "kvcache.generation_mode",
     .help = "sleep per generated token",
     .choices = "none|fast|realistic",
     .commands = "run|configview"},
    {.name = "option-delay",
     .metavar = "S",
     .kind = MLPIO_OPT_SETTING,
     .help = "with --option all: seconds between the options (a shorter wait than the rules' "
             "is OPEN)",
     .dflt = "the rules edition's inter_option_delay_s (90 s under v3.0)",
     .commands = "run"},
    {.name = "io-model",
     .metavar = "MODEL",
     .config_key = "kvcache.io_model",
     .help = "I/O and load model (CLOSED: reference, which each --option sets)",
     .choices = "blocks|reference",
     .commands = "run|configview"},
    {.name = "performance-profile",
     .metavar = "P",
     .config_key = "kvcache.performance_profile",
     .help = "PASS/FAIL criteria",
     .choices = "latency|throughput",
     .commands = "run|configview"},
    {.name = "max-concurrent-allocs",
     .metavar = "N",
     .config_key = "kvcache.max_concurrent_allocs",
     .help = "requests moving data at once",
     .commands = "run|configview"},
    {.name = "disable-multi-turn",
     .config_key = "kvcache.multi_turn",
     .help = "every request starts a new conversation",
     .flag_value = "false"},
    {.name = "disable-prefix-caching",
     .config_key = "kvcache.prefix_caching",
     .help = "no shared system prompts",
     .flag_value = "false"},
    {.name = "trials",
     .metavar = "N",
     .config_key = "kvcache.trials",
     .help = "trials",
     .commands = "run|configview"},
    {.name = "option",
     .metavar = "N",
     .help = "run CLOSED option N of the rules:",
     .kind = MLPIO_OPT_PRESET,
     .presets = presets,
     .dflt = "none"},
    {.name = "precondition",
     .config_key = "cache.precondition",
     .help = "fill the storage tier before each trial (untimed)",
     .commands = "run|configview"},
    {.name = "keep-cache",
     .config_key = "cache.keep",
     .help = "leave the storage objects in the cache dir (default: removed)",
     .commands = "run|configview"},
    {.name = NULL},
};

int mlpio_kvcache_settings_parse(const cJSON *config, struct mlpio_kvcache_settings *s,
                                 struct mlpio_error *err)
{
    return mlpio_params_settings(params, (int)(sizeof(params) / sizeof(params[0])), config, s, err);
}

uint64_t mlpio_kvcache_bytes_per_token(const struct mlpio_kvcache_settings *s)
{
    double layers = (double)s->num_layers;
    double kv = (double)s->num_kv_heads;
    double heads = (double)s->num_attention_heads;
    double hidden = (double)s->hidden_size;
    double dtype = (double)s->dtype_bytes;
    return (uint64_t)(layers * kv * floor(hidden / heads) * 2.0 * dtype);
}

uint64_t mlpio_kvcache_block_bytes(const struct mlpio_run *run)
{
    const struct mlpio_kvcache_settings *s = run->settings;
    double tokens = (double)s->block_tokens;
    double b = (double)mlpio_kvcache_bytes_per_token(s) * tokens * mlpio_run_scale(run);
    return b < 1 ? 1 : (uint64_t)b;
}

double mlpio_kvcache_generation_seconds(const char *mode)
{
    if (strcmp(mode, "fast") == 0)
        return 0.002;
    if (strcmp(mode, "realistic") == 0)
        return 0.030;
    return 0.0;
}

/* Expected tokens of one conversation: turns are geometric (continue with p, at most max),
 * each adds uniform(ctx/4, ctx) with ctx uniform over the template; capped by max context. */
static double conversation_tokens(const struct mlpio_kvcache_settings *s,
                                  const struct mlpio_kv_template *t)
{
    double p = s->multi_turn ? s->continue_probability : 0.0;
    double max_turns = (double)s->max_turns;
    double turns = p < 1 ? (1 - pow(p, max_turns)) / (1 - p) : max_turns;
    double per_turn = 5.0 / 8.0 * (t->ctx_min + t->ctx_max) / 2.0;
    double cap = (double)s->max_context_tokens;
    return fmin(turns * per_turn, cap);
}

static int describe(struct mlpio_run *run, cJSON *facts, struct mlpio_error *err)
{
    const struct mlpio_kvcache_settings *s = run->settings;
    const char *dir = s->cache_dir;
    char *abs = mlpio_path_absolute(dir);
    if (!abs)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot resolve cache dir %s", dir);
    /* This frees the text s->cache_dir and dir borrowed: from here on the dir is abs. */
    mlpio_json_set_path(run->config, "cache.cache_dir", cJSON_CreateString(abs));

    uint64_t bpt = mlpio_kvcache_bytes_per_token(s);
    uint64_t block = mlpio_kvcache_block_bytes(run);
    double users = (double)s->num_users;
    double gpu = s->gpu_mem_gb * MLPIO_KV_GIB;
    double cpu = s->cpu_mem_gb * MLPIO_KV_GIB;
    double scale = mlpio_run_scale(run);
    cJSON_AddNumberToObject(facts, "bytes_per_token", (double)bpt);
    cJSON_AddNumberToObject(facts, "block_bytes", (double)block);
    cJSON_AddNumberToObject(facts, "ranks", run->ctx->size);
    cJSON *objects = cJSON_AddObjectToObject(facts, "request_bytes");
    double working = 0;
    for (int i = 0; i < MLPIO_KV_NTEMPLATES; i++) {
        const struct mlpio_kv_template *t = &mlpio_kv_templates[i];
        cJSON *o = cJSON_AddObjectToObject(objects, t->name);
        cJSON_AddNumberToObject(o, "min", t->ctx_min / 4.0 * (double)bpt * scale);
        cJSON_AddNumberToObject(o, "mean",
                                5.0 / 16.0 * (t->ctx_min + t->ctx_max) * (double)bpt * scale);
        cJSON_AddNumberToObject(o, "max", (double)t->ctx_max * (double)bpt * scale);
        working += conversation_tokens(s, t) * (double)bpt * scale / MLPIO_KV_NTEMPLATES;
    }
    double prompts = s->prefix_caching ? (double)s->system_prompts *
                                             (double)s->system_prompt_tokens * (double)bpt * scale
                                       : 0;
    cJSON_AddNumberToObject(facts, "working_set_bytes_per_rank", users * working + prompts);

    /* Storage capacity: given, or 95 % of the free space shared by the ranks. */
    double capacity = s->storage_capacity_gb * MLPIO_KV_GIB;
    bool measured = capacity <= 0;
    if (measured) {
        struct statvfs sv;
        char *probe = strdup(abs);
        char *slash;
        int rc;
        while ((rc = statvfs(probe, &sv)) < 0 && (slash = strrchr(probe, '/')) && slash != probe)
            *slash = '\0';
        if (rc < 0 && statvfs("/", &sv) == 0)
            rc = 0;
        free(probe);
        if (rc == 0)
            capacity = 0.95 * (double)sv.f_bavail * (double)sv.f_frsize / run->ctx->size;
    }
    free(abs);
    cJSON_AddNumberToObject(facts, "storage_capacity_bytes_per_rank", capacity);
    cJSON_AddBoolToObject(facts, "storage_capacity_measured", measured);
    cJSON_AddNumberToObject(facts, "dram_bytes_per_rank", gpu + cpu);

    /* Budgets are real allocations: refuse what a host cannot hold. */
    for (int h = 0; run->rec.cluster && h < run->rec.cluster->num_hosts; h++) {
        const struct mlpio_cluster_host *host = &run->rec.cluster->hosts[h];
        double need = (gpu + cpu) * host->ranks;
        double have = (double)(host->info.mem_available_bytes ? host->info.mem_available_bytes
                                                              : host->info.mem_total_bytes);
        if (need > have) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG,
                            "cache.gpu_mem_gb + cache.cpu_mem_gb: %d ranks on host %s need %.2f "
                            "GiB of DRAM tiers, but it has %.2f GiB available",
                            host->ranks, host->info.hostname, need / MLPIO_KV_GIB,
                            have / MLPIO_KV_GIB);
            return mlpio_error_hint(err,
                                    "lower --gpu-mem-gb/--cpu-mem-gb to at most %.2f GiB "
                                    "per rank in all, or run fewer ranks per host",
                                    have / host->ranks / MLPIO_KV_GIB);
        }
    }
    return 0;
}

static int datasize(struct mlpio_run *run, struct mlpio_error *err)
{
    (void)err;
    if (run->ctx->rank != 0)
        return 0;
    const cJSON *f = run->rec.facts;
    const struct mlpio_kvcache_settings *s = run->settings;
    FILE *out = run->ctx->out;
    double block = mlpio_json_number(f, "block_bytes", 0);
    fprintf(out,
            "model %s: %.0f bytes of KV cache per token\n"
            "block: %.0f tokens = %.0f bytes (%.2f MiB), one %s per block\n"
            "request context sizes (uniform(ctx/4, ctx) of each template):\n",
            run->opts->model, mlpio_json_number(f, "bytes_per_token", 0), (double)s->block_tokens,
            block, block / 1048576.0,
            strcmp(s->layout, "objects") == 0 ? "file" : "record of a segment log");
    const cJSON *rb = cJSON_GetObjectItem(f, "request_bytes");
    for (int i = 0; i < MLPIO_KV_NTEMPLATES; i++) {
        const cJSON *o = cJSON_GetObjectItem(rb, mlpio_kv_templates[i].name);
        fprintf(out, "  %-9s min %8.1f MiB  mean %8.1f MiB  max %8.1f MiB\n",
                mlpio_kv_templates[i].name, mlpio_json_number(o, "min", 0) / 1048576.0,
                mlpio_json_number(o, "mean", 0) / 1048576.0,
                mlpio_json_number(o, "max", 0) / 1048576.0);
    }
    double ws = mlpio_json_number(f, "working_set_bytes_per_rank", 0);
    double cap = mlpio_json_number(f, "storage_capacity_bytes_per_rank", 0);
    double dram = mlpio_json_number(f, "dram_bytes_per_rank", 0);
    int ranks = (int)mlpio_json_number(f, "ranks", 1);
    fprintf(out,
            "live conversations of %.0f users: about %.2f GiB per rank (%.2f GiB for %d ranks)\n"
            "DRAM tiers: %.2f GiB per rank\n"
            "storage tier capacity: %.2f GiB per rank%s; a run touches at most "
            "%.2f GiB per rank (%.2f GiB in all): older blocks are evicted beyond it\n",
            (double)s->num_users, ws / MLPIO_KV_GIB, ws * ranks / MLPIO_KV_GIB, ranks,
            dram / MLPIO_KV_GIB, cap / MLPIO_KV_GIB,
            mlpio_json_bool(f, "storage_capacity_measured", false)
                ? " (95 % of the free space, shared by the ranks)"
                : "",
            cap / MLPIO_KV_GIB, cap * ranks / MLPIO_KV_GIB);
    if (ws > cap)
        fprintf(out, "note: the live conversations exceed the storage capacity: blocks will be "
                     "evicted and recomputed\n");
    return 0;
}

/* Before the run directory exists: a cache dir that can serve, apart from the results. */
static int prepare(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_kvcache_settings *s = run->settings;
    const char *dir = s->cache_dir;
    const char *results = mlpio_json_string(run->rec.doc, "options.results_dir", "");
    if (mlpio_rules_refuse_in_results("cache dir", "--cache-dir", dir, results, err) < 0)
        return -1;
    return mlpio_kvcache_check_cache_dir(dir, err);
}

static const struct mlpio_command commands[] = {
    {.name = "run",
     .summary = "serve inference users from a tiered KV cache and judge the run",
     .flags = MLPIO_CMD_MEASURE | MLPIO_CMD_JUDGED,
     .execute = mlpio_kvcache_run,
     .examples = "mpirun -np 8 mlpio kvcache run --option 1 --seed 42 --cache-dir /lustre/kv\n"
                 "mpirun -np 2 mlpio kvcache run --model tiny-1b -nu 20 -d 60 --cpu-mem-gb 2 "
                 "--cache-dir /scratch/kv"},
    {.name = "datasize",
     .summary = "bytes per token, object sizes and the storage a run will touch",
     .execute = datasize,
     .examples = "mlpio kvcache datasize --model llama3.1-8b --cache-dir /lustre/kv"},
    MLPIO_RUN_CONFIGVIEW("mlpio kvcache configview --option 2"),
    {.name = NULL},
};

/* What a table of runs shows of this benchmark's (the summary's own names). */
static const struct mlpio_figure_source figures[] = {
    {NULL, "trials", "aggregate.trials"},
    {NULL, "tokens_per_second", "aggregate.tokens_per_second_wall"},
    {NULL, "requests_per_second", "aggregate.requests_per_second"},
    {NULL, "storage_read_bandwidth_GBps", "aggregate.storage_read_bandwidth_GBps"},
    {NULL, "storage_write_bandwidth_GBps", "aggregate.storage_write_bandwidth_GBps"},
    {NULL, "storage_read_p95_seconds", "aggregate.storage_read_p95"},
    {NULL, "storage_write_p95_seconds", "aggregate.storage_write_p95"},
    {NULL, "cache_hit_rate", "aggregate.cache_hit_rate"},
    {NULL},
};

const struct mlpio_workload mlpio_workload_kvcache = {
    .name = "kvcache",
    .summary = "kvcache: LLM inference offloading its KV cache to storage",
    .description =
        "Emulates inference servers whose KV cache spills from GPU and CPU memory to storage:\n"
        "each rank is one client serving --num-users users (chatbot, coding and document\n"
        "templates; multi-turn conversations; shared system prompts) through a real tiered\n"
        "cache (GPU and CPU DRAM budgets, then storage files). A conversation's KV blocks are\n"
        "written once and read back as the model decodes; only what a faster tier lacks moves.\n"
        "Models: tiny-1b, mistral-7b, llama2-7b, llama3.1-8b, llama3.1-70b-instruct.\n"
        "CLOSED: --option 1, 2 or 3 with --seed 42.",
    .default_model = "tiny-1b",
    .commands = commands,
    .options = options,
    .params = params,
    .nparams = (int)(sizeof(params) / sizeof(params[0])),
    .settings_size = sizeof(struct mlpio_kvcache_settings),
    .describe = describe,
    .examples = "mpirun -np 8 mlpio kvcache run --option 1 --seed 42 --cache-dir /lustre/kv\n"
                "mlpio kvcache datasize --model llama3.1-8b --cache-dir /lustre/kv",
    .universal_unused = "client-host-memory-in-gb",
    .prepare = prepare,
    .data_folder_key = "cache.cache_dir",
    .figures = figures,
};
