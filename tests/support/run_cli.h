/* mlpio's command line run inside a test program, on every rank of ctx, as the binary runs it. */
#ifndef MLPIO_TEST_RUN_CLI_H
#define MLPIO_TEST_RUN_CLI_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/cli.h"
#include "app/run.h"

#define MLPIO_TEST_ARGS_MAX 64

/* Parses argv (NULL-terminated, argv[0] "mlpio"; a parse error fails the test) and runs it.
 * Returns the exit code. */
static inline int mlpio_test_run(struct mlpio_context *ctx, const char *const *argv)
{
    char *args[MLPIO_TEST_ARGS_MAX + 1];
    int argc = 0;
    for (; argv[argc]; argc++) {
        assert_true(argc < MLPIO_TEST_ARGS_MAX);
        args[argc] = (char *)argv[argc];
    }
    args[argc] = NULL;
    struct mlpio_cli cli;
    struct mlpio_error err = {0};
    if (mlpio_cli_parse(argc, args, &cli, &err) != 0)
        fail_msg("%s", err.message);
    int code = mlpio_run_main(ctx, &cli);
    mlpio_cli_free(&cli);
    return code;
}

#endif
