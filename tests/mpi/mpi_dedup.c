/* Multi-rank tests of dedup-check (app/dedup.c) on a tree whose duplicates are known.
 *
 * Rank 0 builds, in a fresh directory:
 *   a.bin             40 generated blocks + a 1000-byte tail            41 blocks, all distinct
 *   sub/b.bin         a.bin's blocks 0..9, twice                        20 blocks, all repeats
 *   sub/zero.bin      3 blocks of zeros + 100 zero bytes                2 distinct, 2 repeats
 *   sub/deep/c.bin    2 blocks of another object + a.bin's tail         2 distinct, 1 repeat
 *   empty.bin         no bytes                                          no blocks
 *   link.bin          symbolic link to a.bin (not followed in a walk)
 *   fifo              named pipe (not a regular file: skipped in a walk)
 * With 2 and 4 ranks the block ranges split files differently, so repeats meet across ranks.
 * mlpio-test-wrap: pread
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mpi.h>

#include "app/datagen.h"
#include "app/dedup.h"

#include "support/io_checks.h"
#include "support/mpi_leaks.h"
#include "support/mpi_world.h"

#define BLK 4096
#define TAIL 1000

/* Fault injection: on rank fail_rank, pread fails with fail_errno (0: reports end of file). */
static struct {
    int rank, err;
} fault = {-1, 0};

ssize_t __real_pread(int fd, void *buf, size_t len, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t len, off_t off);

ssize_t __wrap_pread(int fd, void *buf, size_t len, off_t off)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != fault.rank)
        return __real_pread(fd, buf, len, off);
    if (fault.err == 0)
        return 0;
    errno = fault.err;
    return -1;
}

static int write_file(const struct shared *t, const char *rel, const void *p, size_t len)
{
    char path[PATH_MAX];
    path_join(path, t->dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(p, 1, len, f) : 0;
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int build_tree(const struct shared *t)
{
    struct mlpio_data_object a, other;
    object_for(5, 0, "A", &a);
    object_for(5, 0, "C", &other);

    static unsigned char abuf[40 * BLK + TAIL], bbuf[20 * BLK], zbuf[3 * BLK + 100],
        cbuf[2 * BLK + TAIL];
    mlpio_data_fill(&a, 0, abuf, sizeof(abuf));
    memcpy(bbuf, abuf, 10 * BLK);
    memcpy(bbuf + 10 * BLK, abuf, 10 * BLK);
    memset(zbuf, 0, sizeof(zbuf));
    mlpio_data_fill(&other, 0, cbuf, 2 * BLK);
    memcpy(cbuf + 2 * BLK, abuf + 40 * BLK, TAIL);

    char path[PATH_MAX], target[PATH_MAX];
    int rc = 0;
    path_join(path, t->dir, "sub");
    rc |= mkdir(path, 0700);
    path_join(path, t->dir, "sub/deep");
    rc |= mkdir(path, 0700);
    rc |= write_file(t, "a.bin", abuf, sizeof(abuf));
    rc |= write_file(t, "sub/b.bin", bbuf, sizeof(bbuf));
    rc |= write_file(t, "sub/zero.bin", zbuf, sizeof(zbuf));
    rc |= write_file(t, "sub/deep/c.bin", cbuf, sizeof(cbuf));
    rc |= write_file(t, "empty.bin", NULL, 0);
    path_join(target, t->dir, "a.bin");
    path_join(path, t->dir, "link.bin");
    rc |= symlink(target, path);
    path_join(path, t->dir, "fifo");
    rc |= mkfifo(path, 0600);
    return rc ? -1 : 0;
}

static int setup(void **state)
{
    if (shared_setup(state, "mlpio-dedup", NULL, 0) != 0)
        return -1;
    int ok = world_rank() != 0 || build_tree(*state) == 0;
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok)
        shared_teardown(state);
    return ok ? 0 : -1;
}

struct expect {
    uint64_t files, bytes, blocks, unique, zero, low_entropy, full_blocks;
};

static void check(const struct mlpio_dedup_result *r, const struct expect *e)
{
    assert_int_equal(r->files, e->files);
    assert_int_equal(r->bytes, e->bytes);
    assert_int_equal(r->blocks, e->blocks);
    assert_int_equal(r->unique_blocks, e->unique);
    assert_int_equal(r->duplicate_blocks, e->blocks - e->unique);
    assert_int_equal(r->zero_blocks, e->zero);
    assert_int_equal(r->low_entropy_blocks, e->low_entropy);
    assert_true(fabs(r->dedup_ratio - (e->unique ? (double)e->blocks / e->unique : 1.0)) < 1e-12);
    /* Generated blocks measure ~7.95 bits/byte, zero blocks 0 (the only low-entropy ones here);
     * the mean is over full blocks. */
    uint64_t random_full = e->full_blocks - e->low_entropy;
    if (e->full_blocks) {
        assert_true(r->mean_entropy_bits_per_byte >= 7.9 * random_full / e->full_blocks);
        assert_true(r->mean_entropy_bits_per_byte < 8.0 * random_full / e->full_blocks + 1e-9);
    } else {
        assert_true(r->mean_entropy_bits_per_byte == 0.0);
    }
}

/* Results must also be identical on every rank. */
static void assert_same_everywhere(const struct mlpio_dedup_result *r)
{
    struct mlpio_dedup_result root = *r;
    MPI_Bcast(&root, sizeof(root), MPI_BYTE, 0, MPI_COMM_WORLD);
    assert_memory_equal(&root, r, sizeof(root));
}

static void test_directory_walk(void **state)
{
    const struct shared *t = *state;
    const char *paths[] = {t->dir};
    const struct expect e = {
        .files = 5,
        .bytes = (40 * BLK + TAIL) + 20 * BLK + (3 * BLK + 100) + (2 * BLK + TAIL),
        .blocks = 41 + 20 + 4 + 3,
        .unique = 41 + 2 + 2,
        .zero = 4,
        .low_entropy = 3,
        .full_blocks = 40 + 20 + 3 + 2,
    };
    struct mlpio_dedup_result r;
    struct mlpio_error err = {0};
    int rc = mlpio_dedup_check(MPI_COMM_WORLD, paths, 1, &r, &err);
    if (rc != 0)
        fail_msg("dedup-check failed: %s", err.message);
    assert_same_everywhere(&r);
    check(&r, &e);
}

static void test_file_lists(void **state)
{
    static const struct {
        const char *rel[3];
        int n;
        struct expect e;
    } cases[] = {
        {{"a.bin", "sub/b.bin"}, 2, {2, 60 * BLK + TAIL, 61, 41, 0, 0, 60}},
        {{"sub/zero.bin"}, 1, {1, 3 * BLK + 100, 4, 2, 4, 3, 3}},
        {{"a.bin", "a.bin"}, 2, {2, 2 * (40 * BLK + TAIL), 82, 41, 0, 0, 80}},
        {{"sub/deep/c.bin", "a.bin"}, 2, {2, 42 * BLK + 2 * TAIL, 44, 43, 0, 0, 42}},
        {{"link.bin"}, 1, {1, 40 * BLK + TAIL, 41, 41, 0, 0, 40}}, /* named: followed */
        {{"empty.bin"}, 1, {1, 0, 0, 0, 0, 0, 0}},
        {{"sub/deep"}, 1, {1, 2 * BLK + TAIL, 3, 3, 0, 0, 2}},
        {{NULL}, 0, {0, 0, 0, 0, 0, 0, 0}},
    };
    const struct shared *t = *state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char buf[3][PATH_MAX];
        const char *paths[3];
        for (int i = 0; i < cases[c].n; i++) {
            path_join(buf[i], t->dir, cases[c].rel[i]);
            paths[i] = buf[i];
        }
        struct mlpio_dedup_result r;
        struct mlpio_error err = {0};
        int rc = mlpio_dedup_check(MPI_COMM_WORLD, paths, cases[c].n, &r, &err);
        if (rc != 0)
            fail_msg("case %zu: dedup-check failed: %s", c, err.message);
        assert_same_everywhere(&r);
        check(&r, &cases[c].e);
    }
}

/* Only rank 0's list counts: the others may pass none. */
static void test_paths_from_rank0_only(void **state)
{
    const struct shared *t = *state;
    char a[PATH_MAX];
    path_join(a, t->dir, "a.bin");
    const char *paths[] = {a};
    int root = world_rank() == 0;
    struct mlpio_dedup_result r;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_dedup_check(MPI_COMM_WORLD, root ? paths : NULL, root, &r, &err), 0);
    assert_int_equal(r.files, 1);
    assert_int_equal(r.blocks, 41);
}

static void test_bad_paths_fail_everywhere(void **state)
{
    static const struct {
        const char *rel;
        enum mlpio_errcat cat;
    } cases[] = {
        {"no-such-file", MLPIO_ERR_IO},
        {"sub/no-such-dir/x", MLPIO_ERR_IO},
        {"fifo", MLPIO_ERR_USAGE},
    };
    const struct shared *t = *state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char good[PATH_MAX], bad[PATH_MAX];
        path_join(good, t->dir, "a.bin");
        path_join(bad, t->dir, cases[c].rel);
        const char *paths[] = {good, bad};
        struct mlpio_dedup_result r;
        struct mlpio_error err = {0};
        int rc = mlpio_dedup_check(MPI_COMM_WORLD, paths, 2, &r, &err);
        assert_int_equal(rc, -1);
        assert_int_equal(err.category, cases[c].cat);
        if (!strstr(err.message, bad))
            fail_msg("message does not name %s: %s", bad, err.message);
        assert_true(err.hint[0] != '\0');
    }
}

/* A read failing on one rank only (the last) fails the check on every rank with that rank's
 * error naming the file it was reading, instead of leaving the others waiting. */
static void test_read_failure_on_one_rank(void **state)
{
    static const struct {
        int err;
        const char *expect;
    } cases[] = {
        {EIO, "read of"},
        {0, "shorter than when listed"},
    };
    const struct shared *t = *state;
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char a[PATH_MAX], b[PATH_MAX];
    path_join(a, t->dir, "a.bin");
    path_join(b, t->dir, "sub/b.bin");
    const char *paths[] = {a, b};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct mlpio_dedup_result r;
        struct mlpio_error err = {0};
        fault.rank = size - 1;
        fault.err = cases[c].err;
        int rc = mlpio_dedup_check(MPI_COMM_WORLD, paths, 2, &r, &err);
        fault.rank = -1;
        assert_int_equal(rc, -1);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        if (!strstr(err.message, cases[c].expect) ||
            (!strstr(err.message, a) && !strstr(err.message, b)))
            fail_msg("unexpected message: %s", err.message);
        if (cases[c].err)
            assert_int_equal(err.cause, cases[c].err);
    }
}

static void test_result_json(void **state)
{
    (void)state;
    const struct mlpio_dedup_result r = {
        .files = 2,
        .bytes = 1ull << 40,
        .blocks = 268435456,
        .unique_blocks = 200000000,
        .duplicate_blocks = 68435456,
        .zero_blocks = 7,
        .low_entropy_blocks = 9,
        .dedup_ratio = 268435456.0 / 200000000.0,
        .mean_entropy_bits_per_byte = 7.95,
    };
    cJSON *j = mlpio_dedup_result_to_json(&r);
    assert_non_null(j);
    const struct {
        const char *key;
        double want;
    } fields[] = {
        {"files", 2},
        {"bytes", 1099511627776.0},
        {"blocks", 268435456},
        {"unique_blocks", 200000000},
        {"duplicate_blocks", 68435456},
        {"zero_blocks", 7},
        {"low_entropy_blocks", 9},
        {"dedup_ratio", r.dedup_ratio},
        {"mean_entropy_bits_per_byte", 7.95},
        {"block_size", 4096},
        {"low_entropy_threshold", MLPIO_DEDUP_LOW_ENTROPY},
    };
    assert_int_equal(cJSON_GetArraySize(j), sizeof(fields) / sizeof(fields[0]));
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, fields[i].key);
        if (!cJSON_IsNumber(v) || v->valuedouble != fields[i].want)
            fail_msg("%s missing or wrong", fields[i].key);
    }
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory_walk),
        cmocka_unit_test(test_file_lists),
        cmocka_unit_test(test_paths_from_rank0_only),
        cmocka_unit_test(test_bad_paths_fail_everywhere),
        cmocka_unit_test(test_read_failure_on_one_rank),
        cmocka_unit_test(test_result_json),
    };
    int failed = cmocka_run_group_tests(tests, setup, shared_teardown);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return failed;
}
