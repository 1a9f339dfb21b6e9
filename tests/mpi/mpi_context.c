/* Multi-rank tests of the run context: a private communicator, agreement on success or on the
 * lowest failing rank's error (blocking, and idle: without holding a core while waiting), and
 * output that only rank 0 writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/context.h"

#include "support/mpi_leaks.h"

/* A context per test, writing into memory streams. */
struct fixture {
    struct mlpio_context ctx;
    char *out_text, *err_text;
    size_t out_len, err_len;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct mlpio_error err = {0};
    if (!f || mlpio_context_init(&f->ctx, MPI_COMM_WORLD, &err) != 0) {
        free(f);
        return -1;
    }
    f->ctx.out = open_memstream(&f->out_text, &f->out_len);
    f->ctx.err = open_memstream(&f->err_text, &f->err_len);
    if (!f->ctx.out || !f->ctx.err)
        return -1;
    *state = f;
    return 0;
}

/* Close the streams so that out_text and err_text hold everything written. */
static void close_streams(struct fixture *f)
{
    if (f->ctx.out)
        fclose(f->ctx.out);
    if (f->ctx.err)
        fclose(f->ctx.err);
    f->ctx.out = f->ctx.err = NULL;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_streams(f);
    free(f->out_text);
    free(f->err_text);
    mlpio_context_fini(&f->ctx);
    mlpio_context_fini(&f->ctx); /* a finished context may be finished again */
    free(f);
    return 0;
}

static void test_init(void **state)
{
    struct fixture *f = *state;
    int rank, size, cmp;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    assert_int_equal(f->ctx.rank, rank);
    assert_int_equal(f->ctx.size, size);
    assert_int_equal(f->ctx.level, MLPIO_LOG_NORMAL);
    /* Same group, different context: a duplicate, not the world itself. */
    MPI_Comm_compare(f->ctx.comm, MPI_COMM_WORLD, &cmp);
    assert_int_equal(cmp, MPI_CONGRUENT);
}

static void test_agree_all_succeed(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_context_agree(&f->ctx, 0, &err), 0);
    assert_int_equal(err.category, MLPIO_ERR_NONE);
    assert_string_equal(err.message, "");
}

/* Ranks in failing[] (those that exist) fail with a message naming themselves. */
static int fail_on(const struct fixture *f, const int *failing, int n, struct mlpio_error *err)
{
    mlpio_error_clear(err);
    for (int i = 0; i < n; i++) {
        if (failing[i] != f->ctx.rank)
            continue;
        mlpio_error_errno(err, MLPIO_ERR_IO, ENOSPC, "write of /ckpt/file.%d failed", f->ctx.rank);
        mlpio_error_hint(err, "free space for rank %d", f->ctx.rank);
        return -1;
    }
    return 0;
}

/* After agreement every rank holds the error of rank `from`, prefixed with its number unless
 * it is rank 0 (which does the single-rank steps, so naming it adds nothing). */
static void assert_error_of(const struct fixture *f, const struct mlpio_error *err, int from)
{
    char want[128], hint[64];
    if (from > 0)
        snprintf(want, sizeof(want), "rank %d: write of /ckpt/file.%d failed: ", from, from);
    else
        snprintf(want, sizeof(want), "write of /ckpt/file.0 failed: ");
    snprintf(hint, sizeof(hint), "free space for rank %d", from);
    if (strncmp(err->message, want, strlen(want)) != 0)
        fail_msg("rank %d: message '%s', want it to start with '%s'", f->ctx.rank, err->message,
                 want);
    assert_non_null(strstr(err->message, "(ENOSPC)"));
    assert_string_equal(err->hint, hint);
    assert_int_equal(err->category, MLPIO_ERR_IO);
    assert_int_equal(err->source, MLPIO_SRC_ERRNO);
    assert_int_equal(err->cause, ENOSPC);
}

static void test_agree_last_rank_fails(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err;
    int last = f->ctx.size - 1;
    int rc = fail_on(f, &last, 1, &err);
    assert_int_equal(mlpio_context_agree(&f->ctx, rc, &err), -1);
    assert_error_of(f, &err, last);
}

static void test_agree_lowest_failing_rank_wins(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err;
    /* At np 2 only rank 1 exists of the two. */
    static const int failing[] = {2, 1};
    int rc = fail_on(f, failing, 2, &err);
    assert_int_equal(mlpio_context_agree(&f->ctx, rc, &err), -1);
    assert_error_of(f, &err, 1);

    /* Agreeing again on an agreed error (every rank now fails) does not prefix it twice. */
    char first[MLPIO_ERROR_MSG_MAX];
    memcpy(first, err.message, sizeof(first));
    assert_int_equal(mlpio_context_agree(&f->ctx, -1, &err), -1);
    assert_string_equal(err.message, first);
}

static void test_agree_rank0_fails(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err;
    static const int failing[] = {0, 1};
    int rc = fail_on(f, failing, 2, &err);
    assert_int_equal(mlpio_context_agree(&f->ctx, rc, &err), -1);
    assert_error_of(f, &err, 0);
}

/* The idle agreement gives the same answers as the blocking one. */
static void test_agree_idle_outcomes(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_context_agree_idle(&f->ctx, 0, &err), 0);
    assert_int_equal(err.category, MLPIO_ERR_NONE);

    int last = f->ctx.size - 1;
    int rc = fail_on(f, &last, 1, &err);
    assert_int_equal(mlpio_context_agree_idle(&f->ctx, rc, &err), -1);
    assert_error_of(f, &err, last);

    static const int failing[] = {2, 1, 0};
    rc = fail_on(f, failing, 3, &err);
    assert_int_equal(mlpio_context_agree_idle(&f->ctx, rc, &err), -1);
    assert_error_of(f, &err, 0);
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Ranks that arrive while the last one is still working wait mostly asleep: a busy-polling
 * collective would spend as much CPU time as it waits. */
static void test_agree_idle_waits_without_cpu(void **state)
{
    struct fixture *f = *state;
    struct mlpio_error err = {0};
    if (f->ctx.size == 1)
        skip();
    MPI_Barrier(f->ctx.comm);
    if (f->ctx.rank == 0) {
        /* The late rank: work (here a pause) before arriving. */
        struct timespec pause = {0, 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
        assert_int_equal(mlpio_context_agree_idle(&f->ctx, 0, &err), 0);
        return;
    }
    double wall0 = MPI_Wtime(), cpu0 = thread_cpu_seconds();
    assert_int_equal(mlpio_context_agree_idle(&f->ctx, 0, &err), 0);
    double wall = MPI_Wtime() - wall0, cpu = thread_cpu_seconds() - cpu0;
    if (wall < 0.2)
        fail_msg("rank %d agreed after %.3f s, before the late rank arrived", f->ctx.rank, wall);
    if (cpu > 0.25 * wall)
        fail_msg("rank %d used %.3f s of CPU time while waiting %.3f s", f->ctx.rank, cpu, wall);
}

static void test_log_only_rank0(void **state)
{
    struct fixture *f = *state;
    mlpio_log(&f->ctx, MLPIO_LOG_NORMAL, "progress %d%%\n", 50);
    mlpio_log(&f->ctx, MLPIO_LOG_QUIET, "verdict %s\n", "CLOSED");
    mlpio_log(&f->ctx, MLPIO_LOG_VERBOSE, "detail not shown at normal level\n");
    mlpio_log_debug(&f->ctx, "not shown below debug level");
    f->ctx.level = MLPIO_LOG_DEBUG;
    mlpio_log(&f->ctx, MLPIO_LOG_DEBUG, "debug line\n");
    mlpio_log_debug(&f->ctx, "opened %s", "file");
    struct mlpio_error e = {0};
    mlpio_error_set(&e, MLPIO_ERR_CONFIG, "bad value");
    mlpio_error_hint(&e, "fix it");
    mlpio_log_error(&f->ctx, &e);
    close_streams(f);

    char debug[64];
    snprintf(debug, sizeof(debug), "[rank %d] opened file\n", f->ctx.rank);
    if (f->ctx.rank == 0) {
        assert_string_equal(f->out_text, "progress 50%\nverdict CLOSED\ndebug line\n");
        assert_string_equal(f->err_text,
                            "[rank 0] opened file\nmlpio: error: bad value\n  hint: fix it\n");
    } else {
        /* Other ranks print nothing but their own debug diagnostics. */
        assert_string_equal(f->out_text, "");
        assert_string_equal(f->err_text, debug);
    }
    /* Every rank reaches here, so no rank exits while another still logs. */
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_all_succeed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_last_rank_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_lowest_failing_rank_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_rank0_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_idle_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_idle_waits_without_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_only_rank0, setup, teardown),
    };
    MPI_Init(NULL, NULL);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return rc;
}
