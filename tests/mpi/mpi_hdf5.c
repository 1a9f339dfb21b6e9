/* Parallel HDF5 on one shared file: the collective hdf5 backend (each rank writes its own
 * region, reads back its neighbour's) and the hdf5 format written by all ranks together.
 * A rank with a bad request must fail alone and leave no other rank waiting; a step that fails
 * on one rank only must fail on all. Runs under mpirun -np 2 and -np 4. */
/* mlpio-test-wrap: H5Dset_extent H5Dcreate2 */
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

#include <hdf5.h>

#include "app/datagen.h"
#include "io/format.h"
#include "io/io.h"
#include "support/io_checks.h"
#include "support/mpi_file_spy.h"
#include "support/mpi_leaks.h"
#include "support/mpi_world.h"

/* Link seams: on the chosen rank, the call does its work (so that the file stays the same on
 * every rank) and then reports a failure, as a rank whose storage failed would. */
static struct {
    int rank;           /* -1: nobody fails */
    bool set_extent;    /* H5Dset_extent fails */
    const char *create; /* H5Dcreate2 of this dataset fails */
} inject = {.rank = -1};

herr_t __real_H5Dset_extent(hid_t dset_id, const hsize_t size[]);
hid_t __real_H5Dcreate2(hid_t loc_id, const char *name, hid_t type_id, hid_t space_id,
                        hid_t lcpl_id, hid_t dcpl_id, hid_t dapl_id);

static bool injected_here(void)
{
    int r = -2;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r == inject.rank;
}

herr_t __wrap_H5Dset_extent(hid_t dset_id, const hsize_t size[])
{
    herr_t rc = __real_H5Dset_extent(dset_id, size);
    return inject.set_extent && injected_here() ? -1 : rc;
}

hid_t __wrap_H5Dcreate2(hid_t loc_id, const char *name, hid_t type_id, hid_t space_id,
                        hid_t lcpl_id, hid_t dcpl_id, hid_t dapl_id)
{
    hid_t id = __real_H5Dcreate2(loc_id, name, type_id, space_id, lcpl_id, dcpl_id, dapl_id);
    if (id < 0 || !inject.create || strcmp(name, inject.create) != 0 || !injected_here())
        return id;
    H5Dclose(id);
    return -1;
}

static uint8_t *region_data(const struct shared *s, const struct mlpio_data_object *obj, int r)
{
    uint8_t *p = mlpio_io_buffer_alloc(region_len(s, r));
    assert_non_null(p);
    mlpio_data_fill(obj, region_off(s, r), p, region_len(s, r));
    return p;
}

static int group_setup(void **state)
{
    return shared_setup(state, "mlpio-mpi-hdf5", "shared.h5", 70000);
}

static void test_shared_bytes(void **state)
{
    struct shared *s = *state;
    const int r = s->rank, next = (r + 1) % s->size;
    const uint64_t total = region_off(s, s->size);
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    struct mlpio_data_object obj;
    object_for(5, 0, "shared bytes", &obj);
    uint8_t *mine = region_data(s, &obj, r), *theirs = region_data(s, &obj, next);
    size_t len = region_len(s, r), nlen = region_len(s, next);
    uint64_t off = region_off(s, r);

    memset(&seen, 0, sizeof(seen));
    struct mlpio_io_file *f =
        shared_open(s, &mlpio_io_hdf5, MLPIO_IO_WRITE, &opts, "collective open for writing");
    check_all(s, seen.open_comm_size == s->size, "open over the whole communicator", NULL);
    /* Second halves first: the first write already sizes the dataset for every rank. */
    size_t half = len / 2;
    bool ok = mlpio_io_write_at(f, mine + half, len - half, off + half, &err) == 0;
    check_all(s, ok, "first collective write", &err);
    ok = mlpio_io_write_at(f, mine, half, off, &err) == 0;
    check_all(s, ok, "second collective write", &err);
    check_all(s, seen.collective_writes >= 2, "writes through MPI_File_write_at_all", NULL);

    /* Rank 0 asks for an offset no dataset can have; the others write nothing. All come
     * back, only rank 0 with an error. */
    int rc = mlpio_io_write_at(f, mine, r == 0 ? 100 : 0, r == 0 ? UINT64_MAX - 10 : 0, &err);
    ok = r == 0 ? rc == -1 && err.category == MLPIO_ERR_INTERNAL &&
                      strstr(err.message, s->path) != NULL
                : rc == 0;
    check_all(s, ok, "collective write at a bad offset on rank 0", &err);
    uint64_t size = 0;
    ok = mlpio_io_size(f, &size, &err) == 0 && size == total;
    check_all(s, ok, "size after the writes", &err);
    reopen_for_reading(s, &mlpio_io_hdf5, &opts, &f);
    ok = mlpio_io_size(f, &size, &err) == 0 && size == total;
    check_all(s, ok, "size of the shared file", &err);
    uint8_t *got = mlpio_io_buffer_alloc(len > nlen ? len : nlen);
    assert_non_null(got);
    int reads = seen.collective_reads;
    check_regions(s, f, got, mine, theirs);
    check_all(s, seen.collective_reads >= reads + 2, "reads through MPI_File_read_at_all", NULL);

    /* The last rank reads 100 bytes past the end; only it fails, and says how much there was. */
    bool last = r == s->size - 1;
    rc = mlpio_io_read_at(f, got, nlen, last ? total + 100 - nlen : off, &err);
    char expect[96];
    snprintf(expect, sizeof(expect), "read %zu of %zu bytes", nlen - 100, nlen);
    ok = last ? rc == -1 && strstr(err.message, expect) != NULL : rc == 0;
    check_all(s, ok, "collective read past the end", &err);
    /* ... and the file is still usable by all afterwards. */
    ok = mlpio_io_read_at(f, got, len, off, &err) == 0 && memcmp(got, mine, len) == 0;
    check_all(s, ok, "collective read after a failed one", &err);
    shared_close(s, &f, "collective close after reading");
    mlpio_io_buffer_free(got);
    mlpio_io_buffer_free(mine);
    mlpio_io_buffer_free(theirs);
}

struct share {
    uint64_t generated; /* content bytes this rank produced (wrote) */
};

struct content {
    const struct mlpio_data_object *obj;
    struct share *share;
};

static void fill_counted(void *arg, void *buf, size_t len, uint64_t off)
{
    struct content *c = arg;
    mlpio_data_fill(c->obj, off, buf, len);
    c->share->generated += len;
}

struct seen_samples {
    const struct mlpio_data_object *obj;
    uint64_t pos;   /* dataset bytes delivered so far */
    uint64_t first; /* file offset of the first sample */
};

static int check_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                        struct mlpio_error *err)
{
    struct seen_samples *s = arg;
    if (s->pos == 0)
        s->first = offset;
    if (offset - s->first != s->pos || mlpio_data_verify(s->obj, s->pos, bytes, len, NULL) != 0)
        return mlpio_error_set(err, MLPIO_ERR_VERIFY, "sample %u at offset %llu is wrong", index,
                               (unsigned long long)offset);
    s->pos += len;
    return 0;
}

#define BUFLEN ((size_t)65536)

static void test_shared_format(void **state)
{
    struct shared *s = *state;
    const struct mlpio_format_shape shapes[] = {
        {.samples = 7, .d1 = 100, .d2 = 300}, /* two samples per piece */
        {.samples = 3, .d1 = 300, .d2 = 257}, /* two pieces per sample */
    };
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const struct mlpio_format_shape *shape = &shapes[i];
        uint64_t total = shape->d1 * shape->d2 * shape->samples;
        struct mlpio_data_object obj;
        object_for(5, 0, "shared dataset", &obj);
        struct share share = {0};
        struct content content = {&obj, &share};
        struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = shared_open(s, &mlpio_io_hdf5, MLPIO_IO_WRITE, &opts,
                                              "collective open for the dataset");
        bool ok = mlpio_format_hdf5.write(f, shape, fill_counted, &content, buf, BUFLEN, &err) == 0;
        check_all(s, ok, "collective dataset write", &err);
        shared_close(s, &f, "collective close of the dataset");

        /* Every byte written once, by the ranks together: rank 0 and rank 1 both had a share. */
        uint64_t sum = 0, least = 0;
        MPI_Allreduce(&share.generated, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        check_all(s, sum == total, "all samples written exactly once", NULL);
        uint64_t first_two = s->rank < 2 ? share.generated : UINT64_MAX;
        MPI_Allreduce(&first_two, &least, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
        check_all(s, least > 0, "the writing shared between ranks", NULL);

        /* Read back collectively by all, then by each rank alone. */
        for (int collective = 1; collective >= 0; collective--) {
            opts.collective = collective;
            f = shared_open(s, &mlpio_io_hdf5, MLPIO_IO_READ, &opts, "open of the shared dataset");
            struct seen_samples seen_s = {.obj = &obj};
            struct mlpio_format_shape got = {0};
            ok =
                mlpio_format_hdf5.read(f, 0, buf, BUFLEN, &got, check_sample, &seen_s, &err) == 0 &&
                seen_s.pos == total && got.samples == shape->samples && got.d1 == shape->d1 &&
                got.d2 == shape->d2;
            check_all(s, ok, collective ? "collective dataset read" : "independent dataset read",
                      &err);
            shared_close(s, &f, "close after the dataset read");
        }
    }
    mlpio_io_buffer_free(buf);
}

static int fail_on_rank0(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                         struct mlpio_error *err)
{
    const struct shared *s = arg;
    if (s->rank == 0 && index == 1)
        return mlpio_error_set(err, MLPIO_ERR_VERIFY, "sample 1 differs");
    return 0;
}

/* Failures on one rank in a shared dataset: a shape that differs from the others' on write,
 * a callback that stops on read. Every rank fails, none waits. */
static void test_shared_format_failures(void **state)
{
    struct shared *s = *state;
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    struct mlpio_data_object obj;
    object_for(5, 0, "failures", &obj);
    struct share share = {0};
    struct content content = {&obj, &share};
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    struct mlpio_io_file *f =
        shared_open(s, &mlpio_io_hdf5, MLPIO_IO_WRITE, &opts, "collective open");
    struct mlpio_format_shape shape = {.samples = 4, .d1 = 10, .d2 = s->rank == 1 ? 11 : 10};
    int rc = mlpio_format_hdf5.write(f, &shape, fill_counted, &content, buf, BUFLEN, &err);
    bool ok =
        rc == -1 && err.category == MLPIO_ERR_CONFIG && strstr(err.message, "different shapes");
    check_all(s, ok, "dataset write with a different shape on rank 1", &err);
    shape.d2 = 10;
    ok = mlpio_format_hdf5.write(f, &shape, fill_counted, &content, buf, BUFLEN, &err) == 0;
    check_all(s, ok, "dataset write after the refused one", &err);
    shared_close(s, &f, "collective close");

    f = shared_open(s, &mlpio_io_hdf5, MLPIO_IO_READ, &opts, "collective open for reading");
    struct mlpio_format_shape got;
    rc = mlpio_format_hdf5.read(f, 0, buf, 100, &got, fail_on_rank0, s, &err);
    ok = rc == -1 && (s->rank == 0 ? err.category == MLPIO_ERR_VERIFY
                                   : strstr(err.message, "failed on another rank") != NULL);
    check_all(s, ok, "dataset read stopped on rank 0", &err);
    shared_close(s, &f, "collective close after reading");
    mlpio_io_buffer_free(buf);
}

/* One rank's step fails where the others' succeed: growing the byte dataset, creating the
 * labels dataset. Every rank must come back with an error (the others saying that another rank
 * failed) instead of going on into a collective transfer the failed rank never joins. */
static void test_one_rank_fails(void **state)
{
    struct shared *s = *state;
    struct mlpio_io_options opts = {.collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    uint8_t data[4096];
    memset(data, s->rank, sizeof(data));
    struct mlpio_io_file *f =
        shared_open(s, &mlpio_io_hdf5, MLPIO_IO_WRITE, &opts, "collective open");
    bool ok = mlpio_io_write_at(f, data, sizeof(data), (uint64_t)s->rank * sizeof(data), &err) == 0;
    check_all(s, ok, "first collective write", &err);
    inject.rank = 1;
    inject.set_extent = true;
    int rc = mlpio_io_write_at(f, data, sizeof(data), (uint64_t)(s->size + s->rank) * sizeof(data),
                               &err);
    inject.set_extent = false;
    ok = rc == -1 && strstr(err.message, s->path) != NULL &&
         strstr(err.message, s->rank == 1 ? "growing dataset 'data'" : "failed on another rank");
    check_all(s, ok, "collective write whose growth fails on rank 1", &err);
    shared_close(s, &f, "collective close after the failure");

    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    struct mlpio_data_object obj;
    object_for(5, 0, "one rank fails", &obj);
    struct share share = {0};
    struct content content = {&obj, &share};
    f = shared_open(s, &mlpio_io_hdf5, MLPIO_IO_WRITE, &opts, "collective open for the dataset");
    struct mlpio_format_shape shape = {.samples = 4, .d1 = 10, .d2 = 10};
    inject.create = "labels";
    rc = mlpio_format_hdf5.write(f, &shape, fill_counted, &content, buf, BUFLEN, &err);
    inject.create = NULL;
    inject.rank = -1;
    ok = rc == -1 && share.generated == 0 &&
         strstr(err.message, s->rank == 1 ? "creation of dataset 'labels'" : "failed on another");
    check_all(s, ok, "dataset write whose labels fail on rank 1", &err);
    shared_close(s, &f, "collective close after the dataset failure");
    mlpio_io_buffer_free(buf);
}

static void test_missing_file(void **state)
{
    struct shared *s = *state;
    struct mlpio_error err = {0};
    check_missing_file(s, &mlpio_io_hdf5, "missing.h5", &err);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    /* A collective that one rank skipped hangs the others: fail fast instead of waiting for the
     * test driver's timeout. */
    alarm(60);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_bytes),           cmocka_unit_test(test_shared_format),
        cmocka_unit_test(test_shared_format_failures), cmocka_unit_test(test_one_rank_fails),
        cmocka_unit_test(test_missing_file),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, shared_teardown);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return rc;
}