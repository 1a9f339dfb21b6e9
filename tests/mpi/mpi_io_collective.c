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

/* PMPI shims: they count what the backend asks of MPI, to tell a collective file from a
 * file each rank opened alone. */
static struct {
    int open_comm_size;
    int collective_calls;
} seen;

int MPI_File_open(MPI_Comm comm, const char *filename, int amode, MPI_Info info, MPI_File *fh)
{
    MPI_Comm_size(comm, &seen.open_comm_size);
    return PMPI_File_open(comm, filename, amode, info, fh);
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset offset, const void *buf, int count,
                          MPI_Datatype datatype, MPI_Status *status)
{
    seen.collective_calls++;
    return PMPI_File_write_at_all(fh, offset, buf, count, datatype, status);
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset offset, void *buf, int count,
                         MPI_Datatype datatype, MPI_Status *status)
{
    seen.collective_calls++;
    return PMPI_File_read_at_all(fh, offset, buf, count, datatype, status);
}

struct shared {
    int rank, size;
    char dir[PATH_MAX];
    char path[PATH_MAX];
};

/* Unaligned and different on every rank, so that regions straddle blocks and aggregators. */
static size_t region_len(int r)
{
    return 65536 + (size_t)r * 12345;
}

static uint64_t region_off(int r)
{
    uint64_t off = 0;
    for (int i = 0; i < r; i++)
        off += region_len(i);
    return off;
}

/* Content of rank r's region: depends on the rank and the offset in the file. */
static uint8_t *region_data(int r)
{
    size_t len = region_len(r);
    uint64_t off = region_off(r);
    uint8_t *p = mlpio_io_buffer_alloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) * 0x9E3779B97F4A7C15ull + (uint64_t)(r + 1) * 0xBF58476D1CE4E5B9ull;
        p[i] = (uint8_t)(x >> 56);
    }
    return p;
}

/* Every rank learns whether all succeeded and fails at the same point if not, so that no rank
 * is left waiting in a collective the others have abandoned. */
static void check_all(const struct shared *s, bool ok, const char *what,
                      const struct mlpio_error *err)
{
    int mine = ok ? 1 : 0, all = 0;
    assert_int_equal(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), MPI_SUCCESS);
    if (all)
        return;
    if (!ok)
        fail_msg("rank %d: %s: %s [hint: %s]", s->rank, what, err ? err->message : "",
                 err ? err->hint : "");
    fail_msg("rank %d: %s failed on another rank", s->rank, what);
}

static int group_setup(void **state)
{
    struct shared *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &s->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &s->size);
    if (s->rank == 0) {
        const char *base = getenv("TMPDIR");
        snprintf(s->dir, sizeof(s->dir), "%s/mlpio-mpi-io-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(s->dir))
            s->dir[0] = '\0';
    }
    MPI_Bcast(s->dir, sizeof(s->dir), MPI_CHAR, 0, MPI_COMM_WORLD);
    int n = snprintf(s->path, sizeof(s->path), "%s/shared.bin", s->dir);
    *state = s;
    return s->dir[0] && n > 0 && (size_t)n < sizeof(s->path) ? 0 : -1;
}

static int group_teardown(void **state)
{
    struct shared *s = *state;
    MPI_Barrier(MPI_COMM_WORLD);
    if (s->rank == 0 && s->dir[0]) {
        unlink(s->path);
        rmdir(s->dir);
    }
    free(s);
    return 0;
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
    const uint64_t total = region_off(s->size);
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    uint8_t *mine = region_data(r);
    uint8_t *theirs = region_data(next);
    size_t len = region_len(r), nlen = region_len(next);
    uint64_t off = region_off(r);

    plant_longer_file(s, total);
    memset(&seen, 0, sizeof(seen));
    bool ok = mlpio_io_open(&mlpio_io_mpiio, s->path, MLPIO_IO_WRITE, &opts, &f, &err) == 0;
    check_all(s, ok, "collective open for writing", &err);
    check_all(s, seen.open_comm_size == s->size, "open over the whole communicator", NULL);
    /* Two collective calls per rank, same count everywhere, different sizes per rank. */
    size_t half = len / 2;
    ok = mlpio_io_write_at(f, mine, half, off, &err) == 0;
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

    check_all(s, seen.collective_calls == 3, "writes through MPI_File_write_at_all", NULL);
    ok = mlpio_io_sync(f, &err) == 0;
    check_all(s, ok, "collective sync", &err);
    ok = mlpio_io_close(&f, &err) == 0 && f == NULL;
    check_all(s, ok, "collective close", &err);

    ok = mlpio_io_open(&mlpio_io_mpiio, s->path, MLPIO_IO_READ, &opts, &f, &err) == 0;
    check_all(s, ok, "collective open for reading", &err);
    ok = mlpio_io_drop_cache(f, &err) == 0;
    check_all(s, ok, "drop_cache", &err);
    uint64_t size = 0;
    ok = mlpio_io_size(f, &size, &err) == 0;
    check_all(s, ok, "size", &err);
    /* Stale tail truncated, every region present. */
    check_all(s, r != 0 || size == total, "size of the shared file", NULL);

    uint8_t *got = mlpio_io_buffer_alloc(len > nlen ? len + 100 : nlen + 100);
    assert_non_null(got);
    ok = mlpio_io_read_at(f, got, len, off, &err) == 0 && memcmp(got, mine, len) == 0;
    check_all(s, ok, "collective read of the own region", &err);
    memset(got, 0, nlen);
    ok = mlpio_io_read_at(f, got, nlen, region_off(next), &err) == 0 &&
         memcmp(got, theirs, nlen) == 0;
    check_all(s, ok, "collective read of the neighbour's region", &err);

    /* The last rank reads 100 bytes past the end; only it fails, and says how much it got. */
    bool last = r == s->size - 1;
    rc = mlpio_io_read_at(f, got, len + (last ? 100 : 0), off, &err);
    char expect[96];
    snprintf(expect, sizeof(expect), "read %zu of %zu bytes at offset %llu", len, len + 100,
             (unsigned long long)off);
    ok = last ? rc == -1 && strstr(err.message, expect) != NULL : rc == 0;
    check_all(s, ok, "collective read past the end", &err);

    check_all(s, seen.collective_calls == 6, "reads through MPI_File_read_at_all", NULL);
    ok = mlpio_io_close(&f, &err) == 0;
    check_all(s, ok, "collective close after reading", &err);
    mlpio_io_buffer_free(got);
    mlpio_io_buffer_free(mine);
    mlpio_io_buffer_free(theirs);
}

static void test_missing_file(void **state)
{
    struct shared *s = *state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/missing.bin", s->dir);
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    bool ok = mlpio_io_open(&mlpio_io_mpiio, path, MLPIO_IO_READ, &opts, &f, &err) == -1 &&
              f == NULL && err.category == MLPIO_ERR_IO && err.source == MLPIO_SRC_MPI &&
              strstr(err.message, path) != NULL;
    check_all(s, ok, "collective open of a missing file", &err);
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
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    MPI_Finalize();
    return rc;
}
