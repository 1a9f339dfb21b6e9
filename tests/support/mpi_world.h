/* What multi-rank tests share: the rank and size in MPI_COMM_WORLD, a scratch directory that
 * rank 0 makes and every rank knows, one file in it with a region per rank, and checks that
 * every rank passes or fails together.
 *
 * A rank that fails a CMocka assertion alone leaves the others waiting in the next collective,
 * so a step whose outcome may differ between ranks is checked with check_all: every rank
 * learns whether all succeeded and fails at the same point if not. The other checks here are
 * built on it. Include once per test program.
 */
#ifndef MLPIO_TEST_MPI_WORLD_H
#define MLPIO_TEST_MPI_WORLD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "support/files.h"

static inline int world_rank(void)
{
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

static inline int world_size(void)
{
    int n;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

/* A scratch directory shared by all ranks, and a file in it that the tests share. */
struct shared {
    int rank, size;
    char dir[PATH_MAX];
    char path[PATH_MAX];
    size_t region_base; /* bytes of rank 0's region in the file (see region_len) */
};

/* For a CMocka group setup: rank 0 makes prefix-XXXXXX and every rank learns its name, with
 * file (NULL: none) as the shared path in it. Fails on every rank when rank 0 could not. */
static inline int shared_setup(void **state, const char *prefix, const char *file,
                               size_t region_base)
{
    struct shared *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->rank = world_rank();
    s->size = world_size();
    s->region_base = region_base;
    if (s->rank == 0 && scratch_make(s->dir, sizeof(s->dir), NULL, prefix) != 0)
        s->dir[0] = '\0';
    MPI_Bcast(s->dir, sizeof(s->dir), MPI_CHAR, 0, MPI_COMM_WORLD);
    int n = snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, file ? file : "");
    if (!s->dir[0] || n <= 0 || (size_t)n >= sizeof(s->path)) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* For a CMocka group teardown: once every rank is done, rank 0 removes the directory. */
static inline int shared_teardown(void **state)
{
    struct shared *s = *state;
    MPI_Barrier(MPI_COMM_WORLD);
    if (s->rank == 0 && s->dir[0])
        scratch_remove(s->dir);
    free(s);
    return 0;
}

/* Rank r's region of the shared file: unaligned and different on every rank, so that regions
 * straddle blocks and aggregators. */
static inline size_t region_len(const struct shared *s, int r)
{
    return s->region_base + (size_t)r * 12345;
}

/* Where rank r's region starts: the regions of the ranks below it come first. */
static inline uint64_t region_off(const struct shared *s, int r)
{
    uint64_t off = 0;
    for (int i = 0; i < r; i++)
        off += region_len(s, i);
    return off;
}

/* Every rank learns whether all succeeded and fails at the same point if not, so that no rank
 * is left waiting in a collective the others have abandoned. */
static inline void check_all(const struct shared *s, bool ok, const char *what,
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

/* Opens the shared file through be as opts says; every rank fails when one could not. */
static inline struct mlpio_io_file *
shared_open(const struct shared *s, const struct mlpio_io_backend *be, enum mlpio_io_mode mode,
            const struct mlpio_io_options *opts, const char *what)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    bool ok = mlpio_io_open(be, s->path, mode, opts, &f, &err) == 0;
    check_all(s, ok, what, &err);
    return f;
}

/* Closes *f (and sets it to NULL); every rank fails when one could not. */
static inline void shared_close(const struct shared *s, struct mlpio_io_file **f, const char *what)
{
    struct mlpio_error err = {0};
    bool ok = mlpio_io_close(f, &err) == 0 && *f == NULL;
    check_all(s, ok, what, &err);
}

/* Syncs and closes *f, written collectively through be, and opens the shared file again for
 * reading with its pages dropped from the cache, so that what is read next comes from
 * storage. */
static inline void reopen_for_reading(const struct shared *s, const struct mlpio_io_backend *be,
                                      const struct mlpio_io_options *opts, struct mlpio_io_file **f)
{
    struct mlpio_error err = {0};
    bool ok = mlpio_io_sync(*f, &err) == 0;
    check_all(s, ok, "collective sync", &err);
    shared_close(s, f, "collective close");
    *f = shared_open(s, be, MLPIO_IO_READ, opts, "collective open for reading");
    ok = mlpio_io_drop_cache(*f, &err) == 0;
    check_all(s, ok, "drop_cache", &err);
}

/* Reads this rank's region and the next rank's through f, collectively, and checks them
 * against mine and theirs; got has room for the larger of the two. */
static inline void check_regions(const struct shared *s, struct mlpio_io_file *f, uint8_t *got,
                                 const uint8_t *mine, const uint8_t *theirs)
{
    const int next = (s->rank + 1) % s->size;
    size_t len = region_len(s, s->rank), nlen = region_len(s, next);
    struct mlpio_error err = {0};
    bool ok = mlpio_io_read_at(f, got, len, region_off(s, s->rank), &err) == 0 &&
              memcmp(got, mine, len) == 0;
    check_all(s, ok, "collective read of the own region", &err);
    memset(got, 0, nlen);
    ok = mlpio_io_read_at(f, got, nlen, region_off(s, next), &err) == 0 &&
         memcmp(got, theirs, nlen) == 0;
    check_all(s, ok, "collective read of the neighbour's region", &err);
}

/* A collective open through be of name, which the shared directory does not hold, fails on
 * every rank with an I/O error naming the file; the error is left in err. */
static inline void check_missing_file(const struct shared *s, const struct mlpio_io_backend *be,
                                      const char *name, struct mlpio_error *err)
{
    char path[PATH_MAX];
    path_join(path, s->dir, name);
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_io_file *f = NULL;
    bool ok = mlpio_io_open(be, path, MLPIO_IO_READ, &opts, &f, err) == -1 && f == NULL &&
              err->category == MLPIO_ERR_IO && strstr(err->message, path) != NULL;
    check_all(s, ok, "collective open of a missing file", err);
}

#endif
