/* Collective mpiio on one shared file: every rank writes its own region (of a size different on
 * each rank) with collective writes, then reads back its region and its neighbour's. Runs under
 * mpirun -np 2 and -np 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "support/mpi_file_spy.h"
#include "support/mpi_world.h"

/* Content of rank r's region: depends on the rank and the offset in the file. */
static uint8_t *region_data(const struct shared *s, int r)
{
    size_t len = region_len(s, r);
    uint64_t off = region_off(s, r);
    uint8_t *p = mlpio_io_buffer_alloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) * 0x9E3779B97F4A7C15ull + (uint64_t)(r + 1) * 0xBF58476D1CE4E5B9ull;
        p[i] = (uint8_t)(x >> 56);
    }
    return p;
}

static int group_setup(void **state)
{
    return shared_setup(state, "mlpio-mpi-io", "shared.bin", 65536);
}

/* Leaves stale bytes beyond where the shared file will end: a write open must truncate. */
static void plant_longer_file(const struct shared *s, uint64_t total)
{
    struct mlpio_error err = {0};
    bool ok = true;
    if (s->rank == 0) {
        struct mlpio_io_file *f = NULL;
        size_t len = (size_t)total + 50000;
        uint8_t *junk = calloc(1, len);
        ok = junk && mlpio_io_open(&mlpio_io_posix, s->path, MLPIO_IO_WRITE, NULL, &f, &err) == 0;
        ok = ok && mlpio_io_write_at(f, junk, len, 0, &err) == 0;
        ok = mlpio_io_close(&f, &err) == 0 && ok;
        free(junk);
    }
    check_all(s, ok, "writing the stale file", &err);
}

static void test_shared_file(void **state)
{
    struct shared *s = *state;
    const int r = s->rank;
    const int next = (r + 1) % s->size;
    const uint64_t total = region_off(s, s->size);
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    uint8_t *mine = region_data(s, r);
    uint8_t *theirs = region_data(s, next);
    size_t len = region_len(s, r), nlen = region_len(s, next);
    uint64_t off = region_off(s, r);

    plant_longer_file(s, total);
    memset(&seen, 0, sizeof(seen));
    struct mlpio_io_file *f =
        shared_open(s, &mlpio_io_mpiio, MLPIO_IO_WRITE, &opts, "collective open for writing");
    check_all(s, seen.open_comm_size == s->size, "open over the whole communicator", NULL);
    /* Two collective calls per rank, same count everywhere, different sizes per rank. */
    size_t half = len / 2;
    bool ok = mlpio_io_write_at(f, mine, half, off, &err) == 0;
    check_all(s, ok, "first collective write", &err);
    ok = mlpio_io_write_at(f, mine + half, len - half, off + half, &err) == 0;
    check_all(s, ok, "second collective write", &err);

    /* Rank 0 asks for more than one collective call can move; the others write nothing. All
     * must come back (rank 0 with an error), none may hang. */
    int rc = mlpio_io_write_at(f, mine, r == 0 ? (size_t)INT_MAX + 1 : 0, 0, &err);
    ok = r == 0 ? rc == -1 && err.category == MLPIO_ERR_UNSUPPORTED &&
                      strstr(err.message, s->path) != NULL
                : rc == 0;
    check_all(s, ok, "oversized collective write", &err);

    check_all(s, seen.collective_writes == 3 && seen.collective_reads == 0,
              "writes through MPI_File_write_at_all", NULL);
    reopen_for_reading(s, &mlpio_io_mpiio, &opts, &f);
    uint64_t size = 0;
    ok = mlpio_io_size(f, &size, &err) == 0;
    check_all(s, ok, "size", &err);
    /* Stale tail truncated, every region present. */
    check_all(s, r != 0 || size == total, "size of the shared file", NULL);

    uint8_t *got = mlpio_io_buffer_alloc(len > nlen ? len + 100 : nlen + 100);
    assert_non_null(got);
    check_regions(s, f, got, mine, theirs);

    /* The last rank reads 100 bytes past the end; only it fails, and says how much it got. */
    bool last = r == s->size - 1;
    rc = mlpio_io_read_at(f, got, len + (last ? 100 : 0), off, &err);
    char expect[96];
    snprintf(expect, sizeof(expect), "read %zu of %zu bytes at offset %llu", len, len + 100,
             (unsigned long long)off);
    ok = last ? rc == -1 && strstr(err.message, expect) != NULL : rc == 0;
    check_all(s, ok, "collective read past the end", &err);

    check_all(s, seen.collective_writes == 3 && seen.collective_reads == 3,
              "reads through MPI_File_read_at_all", NULL);
    shared_close(s, &f, "collective close after reading");
    mlpio_io_buffer_free(got);
    mlpio_io_buffer_free(mine);
    mlpio_io_buffer_free(theirs);
}

static void test_missing_file(void **state)
{
    struct shared *s = *state;
    struct mlpio_error err = {0};
    check_missing_file(s, &mlpio_io_mpiio, "missing.bin", &err);
    check_all(s, err.source == MLPIO_SRC_MPI, "MPI as the error's source", &err);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    /* A collective that one rank skipped hangs the others: fail fast instead of waiting for the
     * test driver's timeout. */
    alarm(30);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_file),
        cmocka_unit_test(test_missing_file),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, shared_teardown);
    MPI_Finalize();
    return rc;
}