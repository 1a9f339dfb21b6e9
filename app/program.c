/* mlpio program: see program.h. The only place that decides exit codes. */
#include "app/program.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "app/config.h"
#include "app/context.h"
#include "app/run.h"
#include "app/sequence.h"
#include "app/signals.h"
#include "app/tools.h"
#include "rules/edition.h"

static int dispatch(struct mlpio_context *ctx, int argc, char **argv)
{
    char share[4096], rules[4096 + 8];
    snprintf(rules, sizeof(rules), "%s/rules", mlpio_config_share_dir(share, sizeof(share)));
    mlpio_rules_editions_dir(rules);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (ctx->rank == 0)
            mlpio_cli_help_top(ctx->out);
        return argc < 2 ? MLPIO_EXIT_USAGE : MLPIO_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return mlpio_tool_find("version")->main(ctx, argc - 1, argv + 1);
    const struct mlpio_tool *tool = mlpio_tool_find(argv[1]);
    if (tool)
        return tool->main(ctx, argc - 1, argv + 1);

    struct mlpio_cli cli;
    struct mlpio_error err = {0};
    int code;
    /* Every rank parses the same argv and reaches the same answer: no communication needed. */
    if (mlpio_cli_parse(argc, argv, &cli, &err) < 0) {
        mlpio_log_error(ctx, &err);
        code = mlpio_exit_code(err.category);
    } else if (cli.preset_all) {
        code = mlpio_run_sequence(ctx, argc, argv, &cli);
    } else {
        code = mlpio_run_main(ctx, &cli);
    }
    mlpio_cli_free(&cli);
    return code;
}

int mlpio_main(int argc, char **argv)
{
    int provided = 0;
    /* Readers may use threads for I/O; MPI calls stay on the main thread. */
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "mlpio: error: MPI_Init_thread failed\n");
        return 1;
    }
    mlpio_signals_install();
    struct mlpio_context ctx;
    struct mlpio_error err = {0};
    int code;
    if (mlpio_context_init(&ctx, MPI_COMM_WORLD, &err) < 0) {
        fprintf(stderr, "mlpio: error: %s\n", err.message);
        code = MLPIO_EXIT_INTERNAL;
    } else {
        code = dispatch(&ctx, argc, argv);
        /* Defensive: exit codes are agreed already; a mismatch would be a bug. */
        int worst = code;
        MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, ctx.comm);
        code = worst;
        mlpio_context_fini(&ctx);
    }
    MPI_Finalize();
    return code;
}
