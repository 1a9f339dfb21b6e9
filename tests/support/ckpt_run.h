/* A small checkpointing run inside a test program: `mlpio checkpointing run` of llama3-8b at
 * scale 0.001 (about 13 MiB per rank), 1 MiB transfers, no wait between checkpoints, run on
 * every rank of ctx by mlpio_run_main as the binary would. Include once per test program.
 */
#ifndef MLPIO_TEST_CKPT_RUN_H
#define MLPIO_TEST_CKPT_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/json_file.h"
#include "support/run_cli.h"

#define CKPT_RUN_ARGS_MAX 32

/* Runs it with checkpoint folder ck and results dir res, then the options of extra (up to a
 * NULL); invalid parameters allowed, quiet. Returns the exit code. */
static inline int ckpt_run(struct mlpio_context *ctx, const char *ck, const char *res,
                           const char *const *extra)
{
    const char *base[] = {"mlpio",     "checkpointing", "run",   "--model",
                          "llama3-8b", "--scale",       "0.001", "--allow-invalid-params",
                          "--quiet",   "-cf",           ck,      "-rd",
                          res};
    const char *argv[CKPT_RUN_ARGS_MAX + 1];
    size_t argc = 0;
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        argv[argc++] = base[i];
    for (; *extra; extra++) {
        assert_true(argc < CKPT_RUN_ARGS_MAX);
        argv[argc++] = *extra;
    }
    argv[argc] = NULL;
    return mlpio_test_run(ctx, argv);
}

/* The summary.json of the one run in res, or NULL. */
static inline cJSON *ckpt_run_summary(const char *res)
{
    char pattern[512];
    snprintf(pattern, sizeof(pattern), "%s/checkpointing/llama3-8b/run/*/summary.json", res);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1) {
        globfree(&g);
        return NULL;
    }
    struct mlpio_error err = {0};
    cJSON *s = mlpio_json_read_file(g.gl_pathv[0], &err);
    globfree(&g);
    return s;
}

#endif
