/* A rank failing while the others are fine: disk full on the last rank in the middle of a
 * checkpoint. Every rank must leave with the I/O exit code (no hang), and the run directory
 * must keep metadata and events that name the failure, the file and the offset. */
/* mlpio-test-wrap: pwrite */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/run.h"
#include "report/json_file.h"
#include "support/files.h"

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);

static int fail_rank = -1; /* the rank whose disk "fills up" */
static int my_rank;
static int calls;

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    /* The fourth transfer of the failing rank (its optimizer file at 1 MiB: the model file
     * takes two 1 MiB transfers at scale 0.001) runs out of space. */
    if (my_rank == fail_rank && ++calls == 4) {
        errno = ENOSPC;
        return -1;
    }
    return __real_pwrite(fd, buf, n, off);
}

static char *run_dir_of(const char *results)
{
    char pattern[512];
    snprintf(pattern, sizeof(pattern), "%s/checkpointing/llama3-8b/run/*", results);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1)
        return NULL;
    char *dir = strdup(g.gl_pathv[0]);
    globfree(&g);
    return dir;
}

static void test_enospc_on_one_rank(void **state)
{
    struct mlpio_context ctx;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_context_init(&ctx, MPI_COMM_WORLD, &err), 0);
    my_rank = ctx.rank;
    fail_rank = ctx.size - 1;
    char dir[256] = "";
    if (ctx.rank == 0)
        assert_int_equal(scratch_make(dir, sizeof(dir), NULL, "mlpio-faults"), 0);
    MPI_Bcast(dir, sizeof(dir), MPI_CHAR, 0, ctx.comm);
    char ck[300], res[300];
    snprintf(ck, sizeof(ck), "%s/ck", dir);
    snprintf(res, sizeof(res), "%s/res", dir);
    char *argv[] = {"mlpio",
                    "checkpointing",
                    "run",
                    "--model",
                    "llama3-8b",
                    "--scale",
                    "0.001",
                    "--params",
                    "checkpoint.time_between_checkpoints=0",
                    "checkpoint.transfer_size=1M",
                    "-ncw",
                    "2",
                    "-ncr",
                    "0",
                    "-cf",
                    ck,
                    "-rd",
                    res,
                    "--quiet",
                    NULL};
    int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
    struct mlpio_cli cli;
    assert_int_equal(mlpio_cli_parse(argc, argv, &cli, &err), 0);
    /* Reaching this line on every rank is the no-hang half of the test. */
    int code = mlpio_run_main(&ctx, &cli);
    assert_int_equal(code, MLPIO_EXIT_IO);
    int codes_min = 0, codes_max = 0;
    MPI_Allreduce(&code, &codes_min, 1, MPI_INT, MPI_MIN, ctx.comm);
    MPI_Allreduce(&code, &codes_max, 1, MPI_INT, MPI_MAX, ctx.comm);
    assert_int_equal(codes_min, codes_max);

    if (ctx.rank == 0) {
        char *run = run_dir_of(res);
        assert_non_null(run);
        char path[600], expect_rank[32];
        glob_t g;
        snprintf(path, sizeof(path), "%s/*_metadata.json", run);
        assert_int_equal(glob(path, 0, NULL, &g), 0);
        cJSON *meta = mlpio_json_read_file(g.gl_pathv[0], &err);
        globfree(&g);
        assert_non_null(meta);
        assert_string_equal(cJSON_GetObjectItem(meta, "status")->valuestring, "failed");
        cJSON *exit_status = cJSON_GetObjectItem(meta, "exit_status");
        assert_int_equal(cJSON_GetObjectItem(exit_status, "code")->valueint, MLPIO_EXIT_IO);
        const char *msg = cJSON_GetObjectItem(exit_status, "error")->valuestring;
        snprintf(expect_rank, sizeof(expect_rank), "rank %d", fail_rank);
        assert_non_null(strstr(msg, expect_rank));
        assert_non_null(strstr(msg, "ENOSPC"));
        assert_non_null(strstr(msg, "offset 1048576"));
        assert_non_null(strstr(msg, "_optim_states.pt"));
        cJSON_Delete(meta);

        snprintf(path, sizeof(path), "%s/events.jsonl", run);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[65536], last[65536] = "";
        int exceptions = 0;
        while (fgets(line, sizeof(line), f)) {
            if (strstr(line, "\"name\":\"exception\""))
                exceptions++;
            memcpy(last, line, sizeof(line));
        }
        fclose(f);
        assert_int_equal(exceptions, 1);
        assert_non_null(strstr(last, "\"name\":\"finish\""));
        assert_non_null(strstr(last, "\"exit_code\":4"));
        free(run);
        assert_int_equal(scratch_remove(dir), 0);
    }
    mlpio_cli_free(&cli);
    mlpio_context_fini(&ctx);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_enospc_on_one_rank)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
