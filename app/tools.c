/* mlpio tools: version, help and dedup-check. */
#include "app/tools.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/dedup.h"
#include "app/manpage.h"
#include "app/reports.h"
#include "app/subtree.h"
#include "app/watch.h"
#include "io/format.h"
#include "io/io.h"

static int tool_version(struct mlpio_context *ctx, int argc, char **argv)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *nl = strchr(mpi, '\n');
    if (nl)
        *nl = '\0';
    mlpio_log(ctx, MLPIO_LOG_QUIET, "mlpio %s (%s%s)\n  MPI: %s\n  cJSON %s, libsodium %s\n",
              MLPIO_VERSION, MLPIO_BUILD_TYPE, MLPIO_SANITIZE_BUILD ? ", sanitizers" : "", mpi,
              cJSON_Version(), sodium_version_string());
    /* What this build holds: the optional parts (hdf5) may be missing from it. */
    mlpio_log(ctx, MLPIO_LOG_QUIET, "  backends: %s\n  dataset formats: %s\n", mlpio_io_choices(),
              mlpio_format_choices());
    return MLPIO_EXIT_OK;
}

static int tool_help(struct mlpio_context *ctx, int argc, char **argv)
{
    if (ctx->rank != 0)
        return MLPIO_EXIT_OK;
    if (argc > 1 && !strcmp(argv[1], "--man"))
        return mlpio_manpage_write(ctx->out) == 0 ? MLPIO_EXIT_OK : MLPIO_EXIT_INTERNAL;
    if (argc > 1 && !strcmp(argv[1], "launch")) {
        fputs(mlpio_launch_help, ctx->out);
        return MLPIO_EXIT_OK;
    }
    if (argc > 1) {
        const struct mlpio_workload *w = mlpio_workload_find(argv[1]);
        const struct mlpio_tool *t = mlpio_tool_find(argv[1]);
        if (w && argc > 2 && mlpio_workload_command(w, argv[2])) {
            mlpio_cli_help_command(ctx->out, w, mlpio_workload_command(w, argv[2]));
            return MLPIO_EXIT_OK;
        }
        if (w) {
            mlpio_cli_help_workload(ctx->out, w);
            return MLPIO_EXIT_OK;
        }
        if (t) {
            fputs(t->usage, ctx->out);
            return MLPIO_EXIT_OK;
        }
        fprintf(ctx->err, "mlpio: error: no help for '%s'\n", argv[1]);
        return MLPIO_EXIT_USAGE;
    }
    mlpio_cli_help_top(ctx->out);
    return MLPIO_EXIT_OK;
}

static int tool_dedup_check(struct mlpio_context *ctx, int argc, char **argv)
{
    struct mlpio_error err = {0};
    bool json = false;
    const char **paths = calloc((size_t)argc, sizeof(char *));
    int n = 0;
    if (!paths)
        return MLPIO_EXIT_INTERNAL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            if (ctx->rank == 0)
                fputs(mlpio_tool_find("dedup-check")->usage, ctx->out);
            free(paths);
            return MLPIO_EXIT_OK;
        } else if (argv[i][0] == '-') {
            mlpio_error_set(&err, MLPIO_ERR_USAGE, "dedup-check: unknown option '%s'", argv[i]);
            mlpio_error_hint(&err, "usage: mlpio dedup-check [--json] PATH...");
            mlpio_log_error(ctx, &err);
            free(paths);
            return MLPIO_EXIT_USAGE;
        } else {
            paths[n++] = argv[i];
        }
    }
    if (n == 0) {
        mlpio_error_set(&err, MLPIO_ERR_USAGE, "dedup-check needs at least one file or directory");
        mlpio_error_hint(&err, "usage: mlpio dedup-check [--json] PATH...");
        mlpio_log_error(ctx, &err);
        free(paths);
        return MLPIO_EXIT_USAGE;
    }
    struct mlpio_dedup_result r;
    int rc = mlpio_dedup_check(ctx->comm, paths, n, &r, &err);
    free(paths);
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    if (json) {
        cJSON *j = mlpio_dedup_result_to_json(&r);
        char *text = j ? cJSON_Print(j) : NULL;
        mlpio_log(ctx, MLPIO_LOG_QUIET, "%s\n", text ? text : "{}");
        free(text);
        cJSON_Delete(j);
    } else {
        mlpio_log(ctx, MLPIO_LOG_QUIET,
                  "files scanned:        %llu (%llu bytes)\n"
                  "4 KiB blocks:         %llu\n"
                  "unique blocks:        %llu\n"
                  "duplicate blocks:     %llu\n"
                  "all-zero blocks:      %llu\n"
                  "compressible blocks:  %llu (entropy < 7 bits/byte)\n"
                  "mean entropy:         %.4f bits/byte\n"
                  "dedup ratio:          %.4f\n",
                  (unsigned long long)r.files, (unsigned long long)r.bytes,
                  (unsigned long long)r.blocks, (unsigned long long)r.unique_blocks,
                  (unsigned long long)r.duplicate_blocks, (unsigned long long)r.zero_blocks,
                  (unsigned long long)r.low_entropy_blocks, r.mean_entropy_bits_per_byte,
                  r.dedup_ratio);
    }
    return MLPIO_EXIT_OK;
}

static const char init_usage[] =
    "Usage: mlpio init --org ORG [--system NAME] [--results-dir DIR]\n"
    "\n"
    "Makes DIR (default ./mlpio_results) a submission tree of MLPerf Storage v3.0: the marker\n"
    "mlperf-results.yaml, and closed/ORG/ and open/ORG/, each with results/ and systems/.\n"
    "Runs given --results-dir DIR then write to\n"
    "  <closed|open>/ORG/results/<system>/training/<model>/<datagen|run>/<run_id>/\n"
    "  <closed|open>/ORG/results/<system>/checkpointing/<model>/<run_id>/\n"
    "  <closed|open>/ORG/results/<system>/kv_cache/<model>/run/<run_id>/\n"
    "as --closed or --open says, with provenance.json in each run directory; the first run of\n"
    "a system describes it in systems/<system>.yaml from the hosts it ran on. After the last\n"
    "run, 'mlpio reports manifest --results-dir DIR' writes each division's submission.yaml\n"
    "and 'mlpio validate DIR' checks the tree as the submission checker does.\n"
    "\n"
    "Options:\n"
    "  --org ORG             the submitter (letters, digits, '.', '_', '-')\n"
    "  --system NAME         the default system of runs that give no --system\n"
    "  --results-dir, -rd DIR  the tree's root: new or empty, or a tree of ORG already\n"
    "                        (then only the default system changes)\n"
    "  --help, -h            this help\n"
    "\n"
    "Exit codes: 0 made (or already there), 2 bad command line, a directory that holds other\n"
    "things or a tree of another org, 4 the directory cannot be written.\n"
    "\n"
    "Example:\n"
    "  mlpio init --org acme --system lustre-a --results-dir /home/me/mlps\n"
    "  mpirun -np 8 mlpio training run --model unet3d --closed --results-dir /home/me/mlps\n"
    "  mlpio reports manifest --results-dir /home/me/mlps && mlpio validate /home/me/mlps\n";

static int tool_init(struct mlpio_context *ctx, int argc, char **argv)
{
    struct mlpio_error err = {0};
    const char *org = NULL, *system = NULL, *dir = "mlpio_results";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (ctx->rank == 0)
                fputs(init_usage, ctx->out);
            return MLPIO_EXIT_OK;
        }
        const char **into = !strcmp(a, "--org")                                ? &org
                            : !strcmp(a, "--system")                           ? &system
                            : !strcmp(a, "--results-dir") || !strcmp(a, "-rd") ? &dir
                                                                               : NULL;
        if (!into) {
            mlpio_error_set(&err, MLPIO_ERR_USAGE, "init: unknown argument '%s'", a);
            mlpio_error_hint(&err, "usage: mlpio init --org ORG [--system NAME] "
                                   "[--results-dir DIR]");
            break;
        }
        if (i + 1 >= argc) {
            mlpio_error_set(&err, MLPIO_ERR_USAGE, "init: %s needs a value", a);
            mlpio_error_hint(&err, "usage: mlpio init --org ORG [--system NAME] "
                                   "[--results-dir DIR]");
            break;
        }
        *into = argv[++i];
    }
    if (!err.category && !org) {
        mlpio_error_set(&err, MLPIO_ERR_USAGE, "init needs --org: the submitter's name");
        mlpio_error_hint(&err, "usage: mlpio init --org ORG [--system NAME] [--results-dir DIR]");
    }
    bool created = false;
    int rc = err.category ? -1 : 0;
    if (rc == 0 && ctx->rank == 0)
        rc = mlpio_tree_init(dir, org, system, &created, &err);
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    struct mlpio_tree t;
    if (ctx->rank == 0 && mlpio_tree_open(dir, &t, &err) == 1)
        mlpio_log(ctx, MLPIO_LOG_QUIET,
                  "%s submission tree of org %s in %s\n"
                  "  closed/%s/{results,systems}  open/%s/{results,systems}\n"
                  "  default system: %s\n"
                  "next:\n  mpirun -np 8 mlpio training run --model unet3d --closed "
                  "--results-dir %s%s%s\n",
                  created ? "made the" : "already a", t.org, dir, t.org, t.org,
                  t.system[0] ? t.system : "none (runs need --system NAME)", dir,
                  t.system[0] ? "" : " --system ", t.system[0] ? "" : "NAME");
    return MLPIO_EXIT_OK;
}

static const struct mlpio_tool tools[] = {
    {"help", "show help (mlpio help [benchmark [command]], help launch, help --man)",
     "Usage: mlpio help [benchmark [command] | tool]\n"
     "       mlpio help launch    how to run mlpio on a cluster (mpirun, srun, PBS)\n"
     "       mlpio help --man     the manual page mlpio(1), in roff\n",
     tool_help},
    {"version", "print the version of mlpio and its libraries", "Usage: mlpio version\n",
     tool_version},
    {"dedup-check", "count duplicate and compressible 4 KiB blocks in files",
     "Usage: mpirun -np N mlpio dedup-check [--json] PATH...\n\n"
     "Hashes every 4 KiB block of the given files (directories are walked) with the work\n"
     "split over the ranks, and reports blocks scanned, duplicate blocks, all-zero and\n"
     "compressible blocks and the dedup ratio (blocks / unique blocks). A ratio of 1.0 means\n"
     "no block repeats: deduplicating storage gains nothing from the data.\n"
     "\n"
     "Options:\n"
     "  --json       print the figures as one JSON object instead of text\n"
     "  --help, -h   this help\n"
     "\n"
     "Exit codes (the same on every rank):\n"
     "  0  the files were scanned (whatever their duplicates: read the figures)\n"
     "  1  internal error (out of memory)\n"
     "  2  bad command line (an unknown option, no PATH), a PATH that is neither a file nor\n"
     "     a directory, or too many files\n"
     "  4  a PATH is missing or cannot be read\n"
     "\n"
     "Examples:\n"
     "  mpirun -np 8 mlpio dedup-check /lustre/ckpt/llama3-8b\n"
     "  mlpio dedup-check --json mlpio_results/checkpointing | jq .dedup_ratio\n",
     tool_dedup_check},
    {"init", "make a results directory a submission tree of MLPerf Storage v3.0", init_usage,
     tool_init},
    {"watch", "print or follow a run's event log (events.jsonl)", mlpio_watch_usage,
     mlpio_watch_main},
    {"validate", "judge every run and submission of a results directory", mlpio_validate_usage,
     mlpio_validate_main},
    {"reports", "reportgen: JSON, CSV and HTML reports of a tree; manifest: its submission.yaml",
     mlpio_reports_usage, mlpio_reports_main},
    {NULL, NULL, NULL, NULL},
};

const struct mlpio_tool *mlpio_tools(void)
{
    return tools;
}

const struct mlpio_tool *mlpio_tool_find(const char *name)
{
    for (const struct mlpio_tool *t = tools; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}
