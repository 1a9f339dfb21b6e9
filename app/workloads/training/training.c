/* Training workload descriptor: parameters, options, facts for the rules, and the datasize
 * and configview commands. Dataset arithmetic is in dataset.c, reading in loader.c. */
#include <inttypes.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/params.h"
#include "app/run.h"
#include "app/workloads/training/dataset.h"
#include "app/workloads/training/training.h"
#include "io/path.h"
#include "report/json_file.h"
#include "rules/edition.h"
#include "rules/rules.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

#define AT(member) MLPIO_AT(struct mlpio_training_settings, member)

static const struct mlpio_param_spec params[] = {
    {"model.name", MLPIO_PARAM_STRING, 0, 0, NULL, "model name", NULL, MLPIO_PARAM_IF_CHANGED,
     AT(model.name)},
    {"framework", MLPIO_PARAM_ENUM, 0, 0, "pytorch|tensorflow", "framework emulated (OPEN)", NULL,
     NULL, AT(framework)},
    {"dataset.data_folder", MLPIO_PARAM_STRING, 0, 0, NULL, "where the dataset lives", NULL, NULL,
     AT(dataset.data_folder)},
    {"dataset.format", MLPIO_PARAM_ENUM, 0, 0, NULL, "file format (OPEN)", NULL, NULL,
     AT(dataset.format), mlpio_format_choices, mlpio_format_unbuilt},
    {"dataset.num_files_train", MLPIO_PARAM_INT, 1, 1e10, NULL, "files in the dataset", NULL,
     "below what datasize requires", AT(dataset.num_files_train)},
    {"dataset.num_subfolders_train", MLPIO_PARAM_INT, 0, 1e7, NULL,
     "subfolders of train/ (0: none)", NULL, NULL, AT(dataset.num_subfolders_train)},
    {"dataset.num_samples_per_file", MLPIO_PARAM_INT, 1, 1e8, NULL, "samples per file (OPEN)", NULL,
     NULL, AT(dataset.num_samples_per_file)},
    {"dataset.record_length_bytes", MLPIO_PARAM_NUMBER, 1, 1e13, NULL, "mean sample size", "bytes",
     MLPIO_PARAM_IF_CHANGED, AT(dataset.record_length_bytes)},
    {"dataset.record_length_bytes_stdev", MLPIO_PARAM_NUMBER, 0, 1e13, NULL,
     "sample size standard deviation", "bytes", MLPIO_PARAM_IF_CHANGED,
     AT(dataset.record_length_bytes_stdev)},
    {"dataset.parquet.columns", MLPIO_PARAM_STRING, 0, 0, NULL,
     "parquet columns, name:dtype[:count],... (none: one uint8 list of the record length)", NULL,
     MLPIO_PARAM_IF_CHANGED, AT(dataset.parquet.columns)},
    {"dataset.parquet.row_group_size", MLPIO_PARAM_INT, 1, 1e9, NULL, "parquet rows per row group",
     NULL, MLPIO_PARAM_IF_CHANGED, AT(dataset.parquet.row_group_size)},
    {"reader.data_loader", MLPIO_PARAM_ENUM, 0, 0, "pytorch|tensorflow",
     "pytorch: contiguous files per rank; tensorflow: strided (OPEN)", NULL, NULL,
     AT(reader.data_loader)},
    {"reader.batch_size", MLPIO_PARAM_INT, 1, 1e8, NULL, "samples per step", NULL,
     MLPIO_PARAM_IF_CHANGED, AT(reader.batch_size)},
    {"reader.read_threads", MLPIO_PARAM_INT, 1, 1024, NULL, "read threads per rank", NULL, NULL,
     AT(reader.read_threads)},
    {"reader.computation_threads", MLPIO_PARAM_INT, 1, 1024, NULL, "computation threads", NULL,
     NULL, AT(reader.computation_threads)},
    {"reader.prefetch_size", MLPIO_PARAM_INT, 0, 1000, NULL,
     "batches read ahead (CLOSED: at most 2)", NULL, "above 2", AT(reader.prefetch_size)},
    {"reader.transfer_size", MLPIO_PARAM_SIZE, 4096, 1073741824, NULL, "bytes per read call", NULL,
     NULL, AT(reader.transfer_size)},
    {"reader.odirect", MLPIO_PARAM_BOOL, 0, 0, NULL, "read with O_DIRECT (CLOSED: unet3d only)",
     NULL, "if true, except for unet3d", AT(reader.odirect)},
    {"reader.file_shuffle", MLPIO_PARAM_ENUM, 0, 0, "seed|off", "shuffle files every epoch", NULL,
     MLPIO_PARAM_IF_CHANGED, AT(reader.file_shuffle)},
    {"reader.sample_shuffle", MLPIO_PARAM_ENUM, 0, 0, "seed|off", "shuffle samples in files", NULL,
     MLPIO_PARAM_IF_CHANGED, AT(reader.sample_shuffle)},
    {"train.epochs", MLPIO_PARAM_INT, 1, 100000, NULL, "epochs", NULL, MLPIO_PARAM_IF_CHANGED,
     AT(train.epochs)},
    {"train.computation_time", MLPIO_PARAM_NUMBER, 0, 86400, NULL,
     "seconds of emulated compute per step", "s", MLPIO_PARAM_IF_CHANGED,
     AT(train.computation_time)},
    {"metric.au", MLPIO_PARAM_NUMBER, 0, 1, NULL, "minimum accelerator utilisation to pass", NULL,
     MLPIO_PARAM_IF_CHANGED, AT(metric.au)},
    {"checkpoint.checkpoint_folder", MLPIO_PARAM_STRING, 0, 0, NULL, "checkpoint folder", NULL,
     NULL, AT(checkpoint.checkpoint_folder)},
    {"storage.storage_type", MLPIO_PARAM_STRING, 0, 0, NULL, "storage type (recorded)", NULL, NULL,
     AT(storage.storage_type)},
    {"storage.storage_root", MLPIO_PARAM_STRING, 0, 0, NULL, "storage root (recorded)", NULL, NULL,
     AT(storage.storage_root)},
};

#undef AT
#define NPARAMS ((int)(sizeof(params) / sizeof(params[0])))

int mlpio_training_settings_parse(const cJSON *config, void *settings, struct mlpio_error *err)
{
    return mlpio_params_settings(params, NPARAMS, config, settings, err);
}

/* MLPerf Storage's documents call the compute time reader.computation_time. */
static const struct mlpio_param_alias aliases[] = {
    {"reader.computation_time", "train.computation_time"},
    {NULL, NULL},
};

static const struct mlpio_cli_option options[] = {
    {.name = "accelerator-type",
     .alias = "g",
     .metavar = "TYPE",
     .help = "accelerator whose compute time is emulated",
     .kind = MLPIO_OPT_VARIANT}, /* the accelerators share/training/ defines models for */
    {.name = "num-accelerators",
     .alias = "na",
     .metavar = "N",
     .help = "accelerators (must equal the MPI world size for datagen and run)",
     .kind = MLPIO_OPT_SETTING,
     .commands = "datagen|run|datasize",
     .accepts = "a positive integer",
     .dflt = "the MPI world size"},
    {.name = "max-accelerators",
     .alias = "ma",
     .metavar = "N",
     .help = "the most accelerators the dataset must serve",
     .kind = MLPIO_OPT_SETTING,
     .commands = "datasize",
     .accepts = "a positive integer",
     .dflt = "--num-accelerators"},
    {.name = "num-client-hosts",
     .alias = "nc",
     .metavar = "N",
     .help = "client hosts (with -cm: their memory is declared, not measured)",
     .kind = MLPIO_OPT_SETTING,
     .commands = "datasize",
     .accepts = "a positive integer",
     .dflt = "the hosts of this job, measured"},
    {.name = "data-dir",
     .alias = "dd",
     .metavar = "DIR",
     .config_key = "dataset.data_folder",
     .help = "dataset folder"},
    {.name = NULL},
};

/* A positive integer setting (-na, -ma, -nc), or dflt when absent. */
static int setting(const struct mlpio_run *run, const char *name, long dflt, long *out,
                   struct mlpio_error *err)
{
    const char *text = mlpio_json_string(run->opts->settings, name, NULL);
    if (!text) {
        *out = dflt;
        return 0;
    }
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 1 || v > INT_MAX) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "--%s: expected a positive integer, got '%s'", name,
                        text);
        return -1;
    }
    *out = v;
    return 0;
}

static int datasize_of(struct mlpio_run *run, long accelerators, struct mlpio_train_datasize *ds,
                       struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    long clients = 0;
    if (setting(run, "num-client-hosts", 0, &clients, err) < 0)
        return -1;
    uint64_t declared = (uint64_t)(run->opts->client_memory_gb * GIB);
    /* Declared hosts (-nc with -cm) stand for the clients of the real run; otherwise the hosts
     * of this job are counted (with their declared size, else their measured one). */
    bool declared_hosts = clients > 0 && declared > 0;
    int nhosts = declared_hosts ? (int)clients : run->rec.cluster->num_hosts;
    struct mlpio_format_layout layout;
    if (mlpio_training_layout(s, mlpio_run_scale(run), &layout, err) < 0)
        return -1;
    double record = mlpio_training_record_bytes(s, &layout, mlpio_run_scale(run));
    mlpio_format_layout_free(&layout);
    struct mlpio_train_datasize_rule rule;
    int steps;
    if (mlpio_rules_training_datasize(run->rec.doc, &rule.memory_multiple, &steps, err) < 0)
        return -1;
    rule.min_steps = (uint64_t)steps;
    uint64_t *mem = calloc((size_t)nhosts, sizeof(uint64_t));
    if (!mem)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    /* Declared memory replaces the measurement (mlpstorage_py/rules/utils.py,
     * calculate_training_data_size: declared memory x hosts only). */
    for (int i = 0; i < nhosts; i++)
        mem[i] = declared > 0 ? declared : run->rec.cluster->hosts[i].info.mem_total_bytes;
    int rc =
        mlpio_train_datasize(&rule, mem, nhosts, 0, (int)accelerators, (int)s->reader.batch_size,
                             (int)s->dataset.num_samples_per_file, record, ds, err);
    free(mem);
    return rc;
}

static int describe(struct mlpio_run *run, cJSON *facts, struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    char *abs = mlpio_path_absolute(s->dataset.data_folder);
    if (!abs)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot resolve data folder %s",
                               s->dataset.data_folder);
    /* From here on s->dataset.data_folder is the replaced string: the run parses the settings
     * again after describe. */
    mlpio_json_set_path(run->config, "dataset.data_folder", cJSON_CreateString(abs));
    free(abs);
    long na, ma;
    if (setting(run, "num-accelerators", run->ctx->size, &na, err) < 0 ||
        setting(run, "max-accelerators", na, &ma, err) < 0)
        return -1;
    bool measures = run->command->flags & MLPIO_CMD_MEASURE;
    if (measures && na != run->ctx->size) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "--num-accelerators is %ld but the job has %d ranks (one rank emulates "
                        "one accelerator)",
                        na, run->ctx->size);
        return mlpio_error_hint(err, "launch with mpirun -np %ld, or drop --num-accelerators", na);
    }
    struct mlpio_train_datasize ds;
    if (datasize_of(run, strcmp(run->command->name, "datasize") == 0 ? ma : na, &ds, err) < 0)
        return -1;
    cJSON_AddNumberToObject(facts, "accelerators", (double)na);
    cJSON_AddNumberToObject(facts, "datasize_accelerators",
                            (double)(strcmp(run->command->name, "datasize") == 0 ? ma : na));
    cJSON_AddNumberToObject(facts, "datasize_num_files", (double)ds.num_files_train);
    cJSON_AddNumberToObject(facts, "datasize_memory_multiple", ds.memory_multiple);
    cJSON_AddNumberToObject(facts, "datasize_min_steps", (double)ds.min_steps);
    cJSON_AddNumberToObject(facts, "datasize_files_mem", (double)ds.files_mem);
    cJSON_AddNumberToObject(facts, "datasize_files_step", (double)ds.files_step);
    cJSON_AddNumberToObject(facts, "datasize_total_memory_bytes", (double)ds.total_mem_bytes);
    cJSON_AddNumberToObject(facts, "datasize_total_disk_bytes", ds.total_disk_bytes);
    cJSON_AddNumberToObject(facts, "datasize_num_subfolders", (double)ds.num_subfolders);
    return 0;
}

/* Before the run directory exists: the data folder apart from the results, then what the
 * command itself can check. */
static int prepare(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    const char *folder = s->dataset.data_folder;
    const char *results = mlpio_json_string(run->rec.doc, "options.results_dir", "");
    if (mlpio_rules_refuse_in_results("data folder", "--data-dir", folder, results, err) < 0)
        return -1;
    if (strcmp(run->command->name, "datagen") == 0)
        return mlpio_training_datagen_precheck(run, err);
    if (strcmp(run->command->name, "run") == 0)
        return mlpio_training_run_precheck(run, err);
    return 0;
}

static int datasize(struct mlpio_run *run, struct mlpio_error *err)
{
    if (run->ctx->rank != 0)
        return 0;
    const struct mlpio_training_settings *s = run->settings;
    const cJSON *f = run->rec.facts;
    FILE *out = run->ctx->out;
    uint64_t files = (uint64_t)mlpio_json_number(f, "datasize_num_files", 0);
    uint64_t sub = (uint64_t)mlpio_json_number(f, "datasize_num_subfolders", 0);
    long acc = (long)mlpio_json_number(f, "datasize_accelerators", 1);
    char mem_label[64], step_label[64];
    snprintf(mem_label, sizeof(mem_label),
             "  files for %gx memory:", mlpio_json_number(f, "datasize_memory_multiple", 0));
    snprintf(step_label, sizeof(step_label),
             "  files for %g steps/epoch:", mlpio_json_number(f, "datasize_min_steps", 0));
    fprintf(out,
            "model %s on %s, %ld accelerators, %g GiB of client memory in all (%s rules)\n"
            "%-30s%" PRIu64 "\n"
            "%-30s%" PRIu64 "\n"
            "num_files_train:              %" PRIu64 "\n"
            "num_subfolders_train:         %" PRIu64 "%s\n"
            "total bytes on storage:       %.0f (%.2f GiB)\n",
            run->opts->model, run->opts->variant, acc,
            mlpio_json_number(f, "datasize_total_memory_bytes", 0) / GIB,
            mlpio_rules_edition_of(run->rec.doc), mem_label,
            (uint64_t)mlpio_json_number(f, "datasize_files_mem", 0), step_label,
            (uint64_t)mlpio_json_number(f, "datasize_files_step", 0), files, sub,
            sub ? " (more than 10000 files: spread over subfolders)" : "",
            mlpio_json_number(f, "datasize_total_disk_bytes", 0),
            mlpio_json_number(f, "datasize_total_disk_bytes", 0) / GIB);
    const char *dir = s->dataset.data_folder;
    char sizing[128];
    int n = snprintf(sizing, sizeof(sizing), "dataset.num_files_train=%" PRIu64, files);
    if (sub && n > 0 && (size_t)n < sizeof(sizing))
        snprintf(sizing + n, sizeof(sizing) - (size_t)n, " dataset.num_subfolders_train=%" PRIu64,
                 sub);
    fprintf(out,
            "next:\n  mpirun -np %ld mlpio training datagen --model %s -g %s --data-dir %s "
            "--params %s\n  mpirun -np %ld mlpio training run --model %s -g %s --data-dir %s "
            "--params %s\n",
            acc, run->opts->model, run->opts->variant, dir, sizing, acc, run->opts->model,
            run->opts->variant, dir, sizing);
    (void)err;
    return 0;
}

static const struct mlpio_command commands[] = {
    {.name = "datagen",
     .summary = "write the dataset in the model's format (round-robin over ranks)",
     .flags = MLPIO_CMD_MEASURE,
     .execute = mlpio_training_datagen,
     .examples =
         "mpirun -np 8 mlpio training datagen --model unet3d -g b200 --data-dir /lustre/u3d "
         "--params dataset.num_files_train=28000"},
    {.name = "run",
     .summary = "read the dataset as emulated accelerators and judge the run (AU)",
     .flags = MLPIO_CMD_MEASURE | MLPIO_CMD_JUDGED,
     .execute = mlpio_training_run,
     .examples = "mpirun -np 8 mlpio training run --model unet3d -g b200 --data-dir /lustre/u3d "
                 "--params dataset.num_files_train=28000 --seed 1"},
    {.name = "datasize",
     .summary = "how many files a CLOSED dataset needs, and the commands to run next",
     .execute = datasize,
     .examples = "mlpio training datasize --model unet3d -g b200 -ma 8 -nc 1 -cm 128"},
    MLPIO_RUN_CONFIGVIEW("mlpio training configview --model resnet50 -g a100"),
    {.name = NULL},
};

/* What a table of runs shows of this benchmark's (the summary's own names). */
static const struct mlpio_figure_source figures[] = {
    {"run", "train_au_mean_percentage", "train_au_mean_percentage"},
    {"run", "train_throughput_mean_samples_per_second", "train_throughput_mean_samples_per_second"},
    {"run", "train_io_mean_MB_per_second", "train_io_mean_MB_per_second"},
    {"run", "num_files_train", "num_files_train"},
    {"datagen", "datagen_files", "datagen_files"},
    {"datagen", "datagen_bytes", "datagen_bytes"},
    {"datagen", "datagen_MB_per_second", "datagen_MB_per_second"},
    {NULL},
};

const struct mlpio_workload mlpio_workload_training = {
    .name = "training",
    .summary = "training: emulated accelerators reading a dataset (unet3d, retinanet, resnet50, "
               "cosmoflow)",
    .description =
        "Emulates accelerators training on a dataset as DLIO does: each rank reads its share of\n"
        "the files in batches with read threads and prefetch, sleeps the model's compute time\n"
        "per step, and the run is judged on accelerator utilisation (AU). Models: unet3d (npz),\n"
        "retinanet (jpeg), resnet50 and cosmoflow (tfrecord), flux and dlrm (parquet); each model "
        "is\n"
        "defined for the accelerators of its share/training/<model>_<accelerator>.json\n"
        "(--accelerator-type).",
    .default_model = "unet3d",
    /* Without -g a run takes the rules edition's first CLOSED accelerator that defines the
     * model (app/cli.c); this one only when the edition has none for it. */
    .default_variant = "h100",
    .commands = commands,
    .options = options,
    .params = params,
    .nparams = NPARAMS,
    .settings_size = sizeof(struct mlpio_training_settings),
    .param_aliases = aliases,
    .describe = describe,
    .examples = "mlpio training datasize --model unet3d -g b200 -ma 8 -nc 1 -cm 128\n"
                "mpirun -np 8 mlpio training run --model unet3d --data-dir /lustre/u3d "
                "--params dataset.num_files_train=28000",
    .prepare = prepare,
    .data_folder_option = "--data-dir",
    .data_folder_key = "dataset.data_folder",
    .figures = figures,
};
