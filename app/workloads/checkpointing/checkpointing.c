/* Checkpointing workload descriptor: parameters, options, facts for the rules, and the
 * datasize and configview commands. The phases are in phases.c, the sizes in plan.c. */
#include "app/workloads/checkpointing/checkpointing.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/workloads/checkpointing/plan.h"
#include "io/fsutil.h"
#include "io/path.h"
#include "report/json_file.h"
#include "rules/rules.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

#define AT(member) MLPIO_AT(struct mlpio_ckpt_settings, member)

static const struct mlpio_param_spec params[] = {
    {"model.name", MLPIO_PARAM_STRING, 0, 0, NULL, "model name", NULL, NULL, AT(model_name)},
    {"model.num_layers", MLPIO_PARAM_INT, 1, 100000, NULL, "transformer layers", NULL, NULL,
     AT(model.layers)},
    {"model.hidden_size", MLPIO_PARAM_INT, 1, 1e7, NULL, "hidden size", NULL, NULL,
     AT(model.hidden)},
    {"model.ffn_hidden_size", MLPIO_PARAM_INT, 1, 1e8, NULL, "feed-forward size", NULL, NULL,
     AT(model.ffn)},
    {"model.num_attention_heads", MLPIO_PARAM_INT, 1, 100000, NULL, "attention heads", NULL, NULL,
     AT(model.heads)},
    {"model.num_kv_heads", MLPIO_PARAM_INT, 1, 100000, NULL, "key/value heads", NULL, NULL,
     AT(model.kv_heads)},
    {"model.vocab_size", MLPIO_PARAM_INT, 1, 1e8, NULL, "vocabulary size", NULL, NULL,
     AT(model.vocab)},
    {"model.model_datatype", MLPIO_PARAM_ENUM, 0, 0, "fp16|bf16|fp32", "model states type", NULL,
     NULL, AT(model_datatype)},
    {"model.optimizer_datatype", MLPIO_PARAM_ENUM, 0, 0, "fp32|fp16|bf16", "optimizer states type",
     NULL, NULL, AT(optimizer_datatype)},
    {"parallelism.tensor", MLPIO_PARAM_INT, 1, 65536, NULL, "tensor-parallel degree", NULL, NULL,
     AT(model.tp)},
    {"parallelism.pipeline", MLPIO_PARAM_INT, 1, 65536, NULL, "pipeline-parallel degree", NULL,
     NULL, AT(model.pp)},
    {"parallelism.data", MLPIO_PARAM_INT, 1, 1e7, NULL, "data-parallel degree", NULL, NULL,
     AT(model.dp)},
    {"parallelism.zero_stage", MLPIO_PARAM_INT, 0, 3, NULL, "ZeRO stage", NULL, NULL,
     AT(model.zero)},
    {"checkpoint.checkpoint_folder", MLPIO_PARAM_STRING, 0, 0, NULL,
     "where checkpoints are written", NULL, NULL, AT(folder)},
    {"checkpoint.num_checkpoints_write", MLPIO_PARAM_INT, 0, 1000, NULL,
     "checkpoints written (CLOSED: 0 or 10)", NULL, "if 0 and num_checkpoints_read is 0",
     AT(num_checkpoints_write)},
    {"checkpoint.num_checkpoints_read", MLPIO_PARAM_INT, 0, 1000, NULL,
     "checkpoints read back (CLOSED: 0 or 10)", NULL, "if 0 and num_checkpoints_write is 0",
     AT(num_checkpoints_read)},
    {"checkpoint.time_between_checkpoints", MLPIO_PARAM_NUMBER, 0, 86400, NULL,
     "seconds waited between checkpoints (not timed)", "s", NULL, AT(time_between_checkpoints)},
    {"checkpoint.fsync", MLPIO_PARAM_BOOL, 0, 0, NULL, "fsync every file (CLOSED: true)", NULL,
     "if false", AT(fsync)},
    {"checkpoint.transfer_size", MLPIO_PARAM_SIZE, 4096, 1073741824, NULL,
     "bytes per write/read call", NULL, NULL, AT(transfer_size)},
    {"checkpoint.layout", MLPIO_PARAM_ENUM, 0, 0, "per_rank|shared",
     "per_rank files, or one shared file with collective I/O (OPEN, --io-api mpiio)", NULL, NULL,
     AT(layout)},
    {"checkpoint.accelerator_type", MLPIO_PARAM_ENUM, 0, 0, "h100|a100|b200|mi355",
     "accelerator whose memory the checkpoint is compared with", NULL, NULL, AT(accelerator_type)},
};

#undef AT
#define NPARAMS ((int)(sizeof(params) / sizeof(params[0])))

int mlpio_ckpt_settings_parse(const cJSON *config, void *settings, struct mlpio_error *err)
{
    struct mlpio_ckpt_settings *s = settings;
    if (mlpio_params_settings(params, NPARAMS, config, s, err) < 0)
        return -1;
    return mlpio_ckpt_model_check(&s->model, s->model_datatype, s->optimizer_datatype, err);
}

static const struct mlpio_cli_option options[] = {
    {.name = "num-checkpoints-write",
     .alias = "ncw",
     .metavar = "N",
     .config_key = "checkpoint.num_checkpoints_write",
     .help = "checkpoints to write"},
    {.name = "num-checkpoints-read",
     .alias = "ncr",
     .metavar = "N",
     .config_key = "checkpoint.num_checkpoints_read",
     .help = "checkpoints to read back",
     .commands = "run|configview"},
    {.name = "checkpoint-folder",
     .alias = "cf",
     .metavar = "DIR",
     .config_key = "checkpoint.checkpoint_folder",
     .help = "folder for the checkpoints (not the results dir)",
     .commands = "run|configview"},
    {.name = "accelerator-type",
     .alias = "g",
     .metavar = "TYPE",
     .config_key = "checkpoint.accelerator_type",
     .help = "accelerator whose memory must hold the checkpoint (Rules 4.3.4)"},
    {.name = "ranks",
     .alias = "nr",
     .metavar = "N",
     .help = "ranks of the job to size (so that a 1024-rank job is seen without mpirun)",
     .kind = MLPIO_OPT_SETTING,
     .commands = "datasize",
     .accepts = "a positive integer",
     .dflt = "the MPI world size"},
    {.name = NULL},
};

static double accelerator_memory_gb(const char *type, struct mlpio_error *err)
{
    char share[PATH_MAX], path[PATH_MAX + 32];
    mlpio_config_share_dir(share, sizeof(share));
    snprintf(path, sizeof(path), "%s/accelerators.json", share);
    cJSON *acc = mlpio_json_read_file(path, err);
    if (!acc)
        return -1;
    char key[96];
    snprintf(key, sizeof(key), "accelerators.%s.memory_GB", type);
    double gb = mlpio_json_number(acc, key, -1);
    cJSON_Delete(acc);
    if (gb < 0)
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "accelerator '%s' has no memory figure in %s", type,
                        path);
    return gb;
}

/* Memory of the smallest client host: declared (--client-host-memory-in-gb) or measured. */
static double client_memory_bytes(const struct mlpio_run *run)
{
    if (run->opts->client_memory_gb > 0)
        return run->opts->client_memory_gb * GIB;
    double least = 0;
    for (int i = 0; run->rec.cluster && i < run->rec.cluster->num_hosts; i++) {
        double m = (double)run->rec.cluster->hosts[i].info.mem_total_bytes;
        if (i == 0 || m < least)
            least = m;
    }
    return least;
}

/* The ranks a command sizes: --ranks N (datasize), else the job's. */
static int sized_ranks(const struct mlpio_run *run, int *out, struct mlpio_error *err)
{
    const char *text = mlpio_json_string(run->opts->settings, "ranks", NULL);
    *out = run->ctx->size;
    if (!text)
        return 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 1 || v > INT_MAX) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "--ranks: expected a positive integer, got '%s'",
                        text);
        return mlpio_error_hint(err, "give the job's rank count, e.g. --ranks 1024");
    }
    *out = (int)v;
    return 0;
}

static int describe(struct mlpio_run *run, cJSON *facts, struct mlpio_error *err)
{
    const struct mlpio_ckpt_settings *s = run->settings;
    const struct mlpio_ckpt_model m = s->model;
    if (run->opts->odirect && s->transfer_size % 4096 != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "checkpoint.transfer_size: expected a multiple of 4096 with --odirect, "
                        "got %llu",
                        (unsigned long long)s->transfer_size);
        return mlpio_error_hint(err, "use e.g. --params checkpoint.transfer_size=16M");
    }
    if (strcmp(s->layout, "shared") == 0 && !(run->io.backend->caps & MLPIO_IO_CAP_COLLECTIVE)) {
        char can[128];
        mlpio_io_names(MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_STORAGE, ", ", " or ", can,
                       sizeof(can));
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "checkpoint.layout: the shared layout writes one file with collective "
                        "I/O, which --io-api %s cannot do (expected %s)",
                        run->io.backend->name, can);
        return mlpio_error_hint(err, "add --io-api %s, or drop --params checkpoint.layout=shared",
                                can);
    }
    double acc_gb = accelerator_memory_gb(s->accelerator_type, err);
    if (acc_gb < 0)
        return -1;
    int world;
    if (sized_ranks(run, &world, err) < 0)
        return -1;
    uint64_t bytes = mlpio_ckpt_bytes(&m, world, mlpio_run_scale(run));
    uint64_t full = mlpio_ckpt_bytes(&m, (int)mlpio_ckpt_job_ranks(&m), 1.0);
    uint64_t rank_max = 0;
    for (int r = 0; r < world && r < mlpio_ckpt_job_ranks(&m); r++) {
        struct mlpio_ckpt_plan p;
        if (mlpio_ckpt_plan_rank(&m, r, mlpio_run_scale(run), &p, NULL) == 0 && p.bytes > rank_max)
            rank_max = p.bytes;
        mlpio_ckpt_plan_free(&p);
    }
    int ranks_per_host = 0;
    for (int i = 0; run->rec.cluster && i < run->rec.cluster->num_hosts; i++)
        if (run->rec.cluster->hosts[i].ranks > ranks_per_host)
            ranks_per_host = run->rec.cluster->hosts[i].ranks;
    /* A job sized with --ranks is spread over this job's hosts. */
    int hosts =
        run->rec.cluster && run->rec.cluster->num_hosts > 0 ? run->rec.cluster->num_hosts : 1;
    if (world != run->ctx->size)
        ranks_per_host = (world + hosts - 1) / hosts;
    double host_written = (double)rank_max * ranks_per_host * (double)s->num_checkpoints_write;
    double mem = client_memory_bytes(run);
    cJSON_AddNumberToObject(facts, "job_ranks", (double)mlpio_ckpt_job_ranks(&m));
    cJSON_AddNumberToObject(facts, "sized_ranks", world);
    cJSON_AddNumberToObject(facts, "ranks_per_host", ranks_per_host);
    cJSON_AddNumberToObject(facts, "checkpoint_bytes", (double)bytes);
    cJSON_AddNumberToObject(facts, "checkpoint_bytes_full", (double)full);
    cJSON_AddNumberToObject(facts, "rank_bytes_max", (double)rank_max);
    cJSON_AddNumberToObject(facts, "accelerator_memory_GB", acc_gb);
    cJSON_AddNumberToObject(facts, "client_memory_bytes", mem);
    cJSON_AddNumberToObject(facts, "host_bytes_written_max", host_written);
    /* The reference only requires dropping cached pages when a client wrote less than 3x
     * its memory; mlpio drops them always, and records whether it was required. */
    cJSON_AddBoolToObject(facts, "cache_drop_required", host_written < 3.0 * mem);
    /* Known from the backend and --odirect: judged before the run as after it. */
    cJSON_AddStringToObject(facts, "cache_policy", mlpio_ckpt_cache_policy(run));
    /* Last, as the text field of the folder borrows the config's string: the folder as it
     * will be used, whatever the current directory of each rank. */
    char *abs = mlpio_path_absolute(s->folder);
    if (!abs)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot resolve checkpoint folder %s",
                               s->folder);
    mlpio_json_set_path(run->config, "checkpoint.checkpoint_folder", cJSON_CreateString(abs));
    free(abs);
    return 0;
}

/* Before the run directory exists: the folder is apart from the results, and the file system
 * holds every checkpoint the run writes (it never removes one between checkpoints). */
static int prepare(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_ckpt_settings *s = run->settings;
    const char *folder = s->folder;
    const char *results = mlpio_json_string(run->rec.doc, "options.results_dir", "");
    if (mlpio_rules_refuse_in_results("checkpoint folder", "--checkpoint-folder", folder, results,
                                      err) < 0)
        return -1;
    if (!(run->io.backend->caps & MLPIO_IO_CAP_STORAGE))
        return 0;
    double ncw = (double)s->num_checkpoints_write;
    double bytes = mlpio_json_number(run->rec.facts, "checkpoint_bytes", 0) * ncw;
    char what[64];
    snprintf(what, sizeof(what), "%.0f checkpoint%s", ncw, ncw == 1 ? "" : "s");
    return mlpio_fsutil_check_space(folder, (uint64_t)bytes, what,
                                    "free space there, choose another --checkpoint-folder, or "
                                    "write fewer or smaller checkpoints (-ncw N, --scale F)",
                                    err);
}

static void print_rank_table(FILE *out, const struct mlpio_ckpt_model *m, int ranks, double scale)
{
    fprintf(out, "  %-6s %-4s %-4s %-4s %6s %14s %10s\n", "rank", "tp", "pp", "dp", "files",
            "bytes", "GiB");
    int shown = 0;
    for (int r = 0; r < ranks; r++) {
        struct mlpio_ckpt_plan p;
        if (mlpio_ckpt_plan_rank(m, r, scale, &p, NULL) < 0)
            break;
        /* Long jobs: the first ranks and the last one are enough to see the pattern. */
        if (r < 16 || r == ranks - 1) {
            fprintf(out, "  %-6d %-4d %-4d %-4d %6d %14llu %10.3f\n", r, p.tp, p.pp, p.dp, p.nfiles,
                    (unsigned long long)p.bytes, (double)p.bytes / GIB);
            shown++;
        } else if (r == 16) {
            fprintf(out, "  ...\n");
        }
        mlpio_ckpt_plan_free(&p);
    }
}

static int datasize(struct mlpio_run *run, struct mlpio_error *err)
{
    if (run->ctx->rank != 0)
        return 0;
    const struct mlpio_ckpt_settings *s = run->settings;
    const struct mlpio_ckpt_model m = s->model;
    FILE *out = run->ctx->out;
    double scale = mlpio_run_scale(run);
    int job = (int)mlpio_ckpt_job_ranks(&m);
    const cJSON *f = run->rec.facts;
    int world = (int)mlpio_json_number(f, "sized_ranks", run->ctx->size);
    fprintf(out, "model %s: %llu parameters, TP %lld x PP %lld x DP %lld (ZeRO-%lld) = %d ranks\n",
            run->opts->model, (unsigned long long)mlpio_ckpt_total_params(&m), (long long)m.tp,
            (long long)m.pp, (long long)m.dp, (long long)m.zero, job);
    fprintf(out, "full checkpoint (%d ranks): %.2f GiB\n", job,
            mlpio_json_number(f, "checkpoint_bytes_full", 0) / GIB);
    fprintf(out, "this job: %d rank%s%s, scale %g\n", world, world == 1 ? "" : "s",
            world < job ? " (subset mode: emulates ranks 0..R-1 of the full job)" : "", scale);
    if (world != run->ctx->size)
        fprintf(out, "  (sized with --ranks; %d ranks per host on this job's host count)\n",
                (int)mlpio_json_number(f, "ranks_per_host", 0));
    print_rank_table(out, &m, world < job ? world : job, scale);
    double ckpt = mlpio_json_number(f, "checkpoint_bytes", 0);
    double ncw = (double)s->num_checkpoints_write;
    fprintf(out, "one checkpoint: %.0f bytes (%.3f GiB); %g checkpoints: %.3f GiB on storage\n",
            ckpt, ckpt / GIB, ncw, ckpt * ncw / GIB);
    double mem = mlpio_json_number(f, "client_memory_bytes", 0);
    double written = mlpio_json_number(f, "host_bytes_written_max", 0);
    fprintf(out,
            "client memory %.1f GiB (%s): busiest host writes %.3f GiB, %s 3x memory "
            "(%.1f GiB)\n",
            mem / GIB, run->opts->client_memory_gb > 0 ? "declared" : "measured", written / GIB,
            written < 3 * mem ? "less than" : "at least", 3 * mem / GIB);
    fprintf(out, "  -> %s\n",
            written < 3 * mem ? "reads could come from the page cache: mlpio drops cached "
                                "pages before reading (or use --odirect)"
                              : "the page cache cannot hold the checkpoints");
    return 0;
}

static const struct mlpio_command commands[] = {
    {.name = "run",
     .summary = "write then read LLM checkpoints and judge the run",
     .flags = MLPIO_CMD_MEASURE | MLPIO_CMD_JUDGED,
     .execute = mlpio_checkpointing_run,
     .examples =
         "mpirun -np 8 mlpio checkpointing run --model llama3-8b -cf /lustre/ckpt --closed\n"
         "mpirun -np 2 mlpio checkpointing run --scale 0.001 -ncw 2 -ncr 2 -cf /scratch/c"},
    {.name = "datasize",
     .summary = "print per-rank and total checkpoint sizes and the memory check",
     .execute = datasize,
     .examples = "mpirun -np 8 mlpio checkpointing datasize --model llama3-70b -cm 512\n"
                 "mlpio checkpointing datasize --model llama3-1t --ranks 1024"},
    MLPIO_RUN_CONFIGVIEW(
        "mlpio checkpointing configview --model llama3-405b --params checkpoint.fsync=false"),
    {.name = NULL},
};

/* What a table of runs shows of this benchmark's (the summary's own names). */
static const struct mlpio_figure_source figures[] = {
    {NULL, "save_checkpoint_io_mean_GB_per_second", "save_checkpoint_io_mean_GB_per_second"},
    {NULL, "save_checkpoint_duration_mean_seconds", "save_checkpoint_duration_mean_seconds"},
    {NULL, "load_checkpoint_io_mean_GB_per_second", "load_checkpoint_io_mean_GB_per_second"},
    {NULL, "load_checkpoint_duration_mean_seconds", "load_checkpoint_duration_mean_seconds"},
    {NULL, "checkpoint_size_GB", "checkpoint_size_GB"},
    {NULL, "num_checkpoints_write", "num_checkpoints_write"},
    {NULL, "num_checkpoints_read", "num_checkpoints_read"},
    {NULL},
};

const struct mlpio_workload mlpio_workload_checkpointing = {
    .name = "checkpointing",
    .summary = "LLM training checkpoints: write and read back per-rank shards",
    .description =
        "Emulates the checkpoints of Llama 3 training jobs (8b, 70b, 405b, 1t) as DLIO\n"
        "computes them: each rank writes its model and optimizer shards, fsyncs them, and\n"
        "later reads them back with the page cache dropped. One MPI rank = one accelerator;\n"
        "fewer ranks than the model's job emulate ranks 0..R-1 (subset mode, OPEN).\n"
        "Throughput is reported in GB/s where, as in the MLPerf Storage reference, GB means\n"
        "2^30 bytes.",
    .default_model = "llama3-8b",
    .commands = commands,
    .options = options,
    .params = params,
    .nparams = NPARAMS,
    .settings_size = sizeof(struct mlpio_ckpt_settings),
    .settings_parse = mlpio_ckpt_settings_parse,
    .describe = describe,
    .examples = "mpirun -np 8 mlpio checkpointing run --model llama3-8b -cf /lustre/ckpt --closed\n"
                "mlpio checkpointing datasize --model llama3-70b",
    .prepare = prepare,
    .data_folder_option = "--checkpoint-folder",
    .data_folder_key = "checkpoint.checkpoint_folder",
    .figures = figures,
};
