/* nullbench: a workload that only the test suite knows, to show that a workload is one folder.
 *
 * It is what a new workload brings and nothing more: a descriptor (parameters with their
 * settings fields, a run command, facts, a pre-run check, figure sources), its rules (a run
 * checker) and its share/ definition (tests/nullbench/share/nullbench/tiny.json). This program
 * registers them and hands over to mlpio_main: no file of mlpio names nullbench, and the test
 * (tests/e2e/test_nullbench.sh) checks that it is run, judged, scanned and reported like the
 * built-in workloads.
 *
 * The run: every rank writes its share of `files` files of `file_size` bytes into `folder`
 * with the run's backend and data, syncs them, then reads them back and verifies them.
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/datagen.h"
#include "app/params.h"
#include "app/program.h"
#include "app/run.h"
#include "app/workload.h"
#include "io/io.h"
#include "io/path.h"
#include "report/json_file.h"
#include "rules/rules.h"

struct nullbench_settings {
    const char *name;
    int64_t files;
    uint64_t file_size;
    const char *folder;
};

#define AT(member) MLPIO_AT(struct nullbench_settings, member)
static const struct mlpio_param_spec params[] = {
    {"model.name", MLPIO_PARAM_STRING, 0, 0, NULL, "model name", NULL, NULL, AT(name)},
    {"nullbench.files", MLPIO_PARAM_INT, 1, 1000, NULL, "files written (CLOSED: at least 2)", NULL,
     NULL, AT(files)},
    {"nullbench.file_size", MLPIO_PARAM_SIZE, 1, 1 << 30, NULL, "bytes per file", NULL, NULL,
     AT(file_size)},
    {"nullbench.folder", MLPIO_PARAM_STRING, 0, 0, NULL, "where the files are written", NULL, NULL,
     AT(folder)},
};
#undef AT

/* Two sizes, for the option sequence (--size all, app/sequence.h). */
static const struct mlpio_preset sizes[] = {
    {"small", NULL, "nullbench.files=2 nullbench.file_size=4096", "2 files of 4 KiB"},
    {"large", NULL, "nullbench.files=3 nullbench.file_size=65536", "3 files of 64 KiB"},
    {NULL, NULL, NULL, NULL},
};

static const struct mlpio_cli_option options[] = {
    {.name = "folder",
     .alias = "nf",
     .metavar = "DIR",
     .config_key = "nullbench.folder",
     .help = "folder for the files (not the results dir)"},
    {.name = "size",
     .metavar = "NAME",
     .help = "files of a preset size:",
     .kind = MLPIO_OPT_PRESET,
     .presets = sizes,
     .dflt = "none"},
    {.name = "option-delay",
     .metavar = "S",
     .kind = MLPIO_OPT_SETTING,
     .help = "with --size all: seconds between the sizes",
     .dflt = "0"},
    {.name = NULL},
};

static int describe(struct mlpio_run *run, cJSON *facts, struct mlpio_error *err)
{
    const struct nullbench_settings *s = run->settings;
    cJSON_AddNumberToObject(facts, "nullbench_bytes", (double)s->files * (double)s->file_size);
    char *abs = mlpio_path_absolute(s->folder);
    if (!abs)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot resolve %s", s->folder);
    mlpio_json_set_path(run->config, "nullbench.folder", cJSON_CreateString(abs));
    free(abs);
    return 0;
}

static int prepare(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct nullbench_settings *s = run->settings;
    return mlpio_rules_refuse_in_results("nullbench folder", "--folder", s->folder,
                                         mlpio_json_string(run->rec.doc, "options.results_dir", ""),
                                         err);
}

/* Write (or read back and verify) file i whole. */
static int transfer(struct mlpio_run *run, int64_t i, bool write, void *buf,
                    struct mlpio_error *err)
{
    const struct nullbench_settings *s = run->settings;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/file_%lld.bin", s->folder, (long long)i);
    struct mlpio_data_object obj;
    mlpio_data_object_init(&obj, &run->io.key, path);
    struct mlpio_io_file *f = NULL;
    int rc = mlpio_io_open(run->io.backend, path, write ? MLPIO_IO_WRITE : MLPIO_IO_READ,
                           &run->io.options, &f, err);
    if (rc == 0 && write) {
        mlpio_data_fill(&obj, 0, buf, s->file_size);
        rc = mlpio_io_write_at(f, buf, s->file_size, 0, err);
        if (rc == 0)
            rc = mlpio_io_sync(f, err);
    } else if (rc == 0) {
        uint64_t bad = 0;
        rc = mlpio_io_read_at(f, buf, s->file_size, 0, err);
        if (rc == 0 && mlpio_data_verify(&obj, 0, buf, s->file_size, &bad) < 0)
            rc = mlpio_error_set(err, MLPIO_ERR_VERIFY, "%s: byte %llu differs", path,
                                 (unsigned long long)bad);
    }
    struct mlpio_error cerr = {0};
    if (mlpio_io_close(&f, &cerr) < 0 && rc == 0) {
        *err = cerr;
        rc = -1;
    }
    return rc;
}

static int run_files(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct nullbench_settings *s = run->settings;
    const struct mlpio_context *ctx = run->ctx;
    if (run->opts->what_if) {
        if (ctx->rank == 0)
            fprintf(ctx->out, "what-if: %lld files of %llu bytes in %s\n", (long long)s->files,
                    (unsigned long long)s->file_size, s->folder);
        return 0;
    }
    int rc = ctx->rank == 0 ? mlpio_io_mkdirs(run->io.backend, s->folder, err) : 0;
    if (mlpio_context_agree(ctx, rc, err) < 0)
        return -1;
    void *buf = mlpio_io_buffer_alloc(s->file_size);
    if (!buf)
        rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    double t0 = MPI_Wtime();
    double mine = 0;
    for (int64_t i = ctx->rank; rc == 0 && i < s->files; i += ctx->size, mine++)
        rc = transfer(run, i, true, buf, err);
    double written = MPI_Wtime() - t0;
    if (mlpio_context_agree(ctx, rc, err) == 0)
        for (int64_t i = ctx->rank; rc == 0 && i < s->files; i += ctx->size)
            rc = transfer(run, i, false, buf, err);
    mlpio_io_buffer_free(buf);
    if (mlpio_context_agree(ctx, rc, err) < 0)
        return -1;
    double slowest = 0, files = 0;
    MPI_Reduce(&written, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, ctx->comm);
    MPI_Reduce(&mine, &files, 1, MPI_DOUBLE, MPI_SUM, 0, ctx->comm);
    if (ctx->rank != 0)
        return 0;
    double bytes = files * (double)s->file_size;
    cJSON *sum = cJSON_CreateObject();
    cJSON_AddNumberToObject(sum, "nullbench_files", files);
    cJSON_AddNumberToObject(sum, "nullbench_bytes", bytes);
    cJSON_AddNumberToObject(sum, "nullbench_MB_per_second",
                            slowest > 0 ? bytes / slowest / 1e6 : 0);
    run->rec.summary = sum;
    if (asprintf(&run->rec.report_text, "nullbench: %.0f files, %.0f bytes written and verified\n",
                 files, bytes) < 0)
        run->rec.report_text = NULL;
    return 0;
}

static const struct mlpio_command commands[] = {
    {.name = "run",
     .summary = "write files, read them back and verify them",
     .flags = MLPIO_CMD_MEASURE | MLPIO_CMD_JUDGED,
     .execute = run_files,
     .examples = "mlpio nullbench run --folder /scratch/nb"},
    MLPIO_RUN_CONFIGVIEW("mlpio nullbench configview"),
    {.name = NULL},
};

static const struct mlpio_figure_source figures[] = {
    {"run", "nullbench_bytes", "nullbench_bytes"},
    {"run", "nullbench_MB_per_second", "nullbench_MB_per_second"},
    {NULL},
};

static const struct mlpio_workload nullbench = {
    .name = "nullbench",
    .summary = "a test workload: files written, read back and verified",
    .description = "Writes nullbench.files files and reads them back (a test workload).",
    .default_model = "tiny",
    .commands = commands,
    .options = options,
    .params = params,
    .nparams = (int)(sizeof(params) / sizeof(params[0])),
    .settings_size = sizeof(struct nullbench_settings),
    .describe = describe,
    .prepare = prepare,
    .figures = figures,
};

/* CLOSED needs at least two files; the rules read the run description, as for any workload. */
static int check_run(const cJSON *run, struct mlpio_verdict_report *v, struct mlpio_error *err)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "config"),
                                         "nullbench"),
        "files");
    if (!cJSON_IsNumber(files))
        return mlpio_error_set(err, MLPIO_ERR_RULES, "nullbench.files missing");
    char got[32];
    snprintf(got, sizeof(got), "%.0f", files->valuedouble);
    if (files->valuedouble < 2 &&
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "nullbench.files", "at least 2", got,
                          "--params nullbench.files=2", "one file tells nothing of a file system"))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    return 0;
}

static const struct mlpio_rules_benchmark nullbench_rules = {
    .name = "nullbench",
    .check = check_run,
};

int main(int argc, char **argv)
{
    if (mlpio_workload_add(&nullbench) < 0 || mlpio_rules_benchmark_add(&nullbench_rules) < 0) {
        fprintf(stderr, "nullbench: cannot register the workload\n");
        return 1;
    }
    return mlpio_main(argc, argv);
}
