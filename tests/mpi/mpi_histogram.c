/* Multi-rank tests of histogram and timer reductions (app/histogram.c). Every rank can rebuild
 * every other rank's values, so each checks the reduced result against a local merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <mpi.h>

#include "app/histogram.h"

#include "support/mpi_leaks.h"
#include "support/mpi_world.h"

/* Rank r's latencies: a rank-dependent count and spread, from 100 ns to ~10 ms. */
static void rank_values(int r, struct mlpio_hist *h)
{
    int n = 500 + 37 * r;
    for (int i = 0; i < n; i++) {
        uint64_t k = ((uint64_t)i * 7919 + (uint64_t)r * 104729) % 100000 + 1;
        mlpio_hist_add(h, (double)k * 1e-7 * (r + 1));
    }
}

static void expected_merge(struct mlpio_hist *all)
{
    int size = world_size();
    mlpio_hist_init(all);
    for (int r = 0; r < size; r++) {
        struct mlpio_hist h;
        mlpio_hist_init(&h);
        rank_values(r, &h);
        mlpio_hist_merge(all, &h);
    }
}

static void test_reduce_matches_local_merge(void **state)
{
    (void)state;
    int rank = world_rank(), size = world_size();
    struct mlpio_hist local, want;
    mlpio_hist_init(&local);
    rank_values(rank, &local);
    expected_merge(&want);
    int roots[2] = {0, size - 1};
    for (int k = 0; k < 2; k++) {
        struct mlpio_hist got;
        struct mlpio_error err = {0};
        mlpio_hist_init(&got);
        got.count = 12345; /* must be overwritten on root, untouched elsewhere */
        int rc = mlpio_hist_reduce(&local, &got, roots[k], MPI_COMM_WORLD, &err);
        assert_int_equal(rc, 0);
        if (rank == roots[k]) {
            assert_memory_equal(&got, &want, sizeof(want));
            assert_true(mlpio_hist_percentile(&got, 99) > 0.0);
        } else {
            assert_int_equal(got.count, 12345);
        }
    }
    /* Only root needs an output buffer; the local one is not modified. */
    struct mlpio_hist before = local, got;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_hist_reduce(&local, rank == 0 ? &got : NULL, 0, MPI_COMM_WORLD, &err),
                     0);
    assert_memory_equal(&local, &before, sizeof(local));
    if (rank == 0)
        assert_memory_equal(&got, &want, sizeof(want));
}

static void test_reduce_in_place_on_root(void **state)
{
    (void)state;
    int rank = world_rank();
    struct mlpio_hist h, want;
    struct mlpio_error err = {0};
    mlpio_hist_init(&h);
    rank_values(rank, &h);
    expected_merge(&want);
    assert_int_equal(mlpio_hist_reduce(&h, rank == 0 ? &h : NULL, 0, MPI_COMM_WORLD, &err), 0);
    if (rank == 0)
        assert_memory_equal(&h, &want, sizeof(want));
}

/* Ranks with nothing recorded do not disturb min (UINT64_MAX when empty) or the rest. */
static void test_reduce_with_empty_ranks(void **state)
{
    (void)state;
    int rank = world_rank(), size = world_size();
    struct mlpio_hist h, got, want;
    struct mlpio_error err = {0};
    mlpio_hist_init(&h);
    mlpio_hist_init(&want);
    if (rank == size - 1)
        rank_values(rank, &h);
    rank_values(size - 1, &want);
    assert_int_equal(mlpio_hist_reduce(&h, &got, 0, MPI_COMM_WORLD, &err), 0);
    if (rank == 0)
        assert_memory_equal(&got, &want, sizeof(want));
}

/* Several histograms in one reduction: each merged with its own kind only. */
static void test_reduce_several(void **state)
{
    (void)state;
    int rank = world_rank();
    struct mlpio_hist local[3], got[3], want, empty;
    mlpio_hist_init(&local[0]);
    rank_values(rank, &local[0]);
    mlpio_hist_init(&local[1]); /* empty on every rank */
    mlpio_hist_init(&local[2]);
    mlpio_hist_add(&local[2], 0.001 * (rank + 1));
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_hist_reduce_n(local, got, 3, 0, MPI_COMM_WORLD, &err), 0);
    if (rank != 0)
        return;
    expected_merge(&want);
    assert_memory_equal(&got[0], &want, sizeof(want));
    mlpio_hist_init(&empty);
    assert_memory_equal(&got[1], &empty, sizeof(empty));
    assert_int_equal(got[2].count, world_size());
    assert_true(got[2].max_ns >= (uint64_t)(world_size() * 1e6) - 1);
}

/* Each rank's clock reads its own base (as hosts' clocks differ): the phase lasts the longest
 * of the ranks' own intervals, whatever the bases, and ends that long after root's start. */
static void test_timing_reduce(void **state)
{
    (void)state;
    int rank = world_rank(), size = world_size();
    double base = 1000.0 * rank; /* clocks far apart */
    double start = base + 100.0, stop = base + 100.0 + 10.0 + ((rank * 5 + 2) % size) * 0.25;
    double longest = 0;
    for (int r = 0; r < size; r++) {
        double d = 10.0 + ((r * 5 + 2) % size) * 0.25;
        longest = d > longest ? d : longest;
    }
    int roots[2] = {0, size - 1};
    for (int k = 0; k < 2; k++) {
        int root = roots[k];
        double gs = -1.0, ge = -1.0;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_hist_phase_reduce(start, stop, &gs, &ge, root, MPI_COMM_WORLD, &err),
                         0);
        if (rank == root) {
            assert_true(gs == start);
            assert_true(ge - gs == longest);
        }
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_matches_local_merge),
        cmocka_unit_test(test_reduce_in_place_on_root),
        cmocka_unit_test(test_reduce_with_empty_ranks),
        cmocka_unit_test(test_reduce_several),
        cmocka_unit_test(test_timing_reduce),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return failed;
}
