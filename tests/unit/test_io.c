/* Unit tests of the io backends: a round trip on every backend (and O_DIRECT), and the errors a
 * user meets (missing file, file in the way, file systems without O_DIRECT, bad options). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "support/files.h"
#include "support/io_checks.h"

struct backend_case {
    const char *backend;
    bool odirect;
    bool stores; /* bytes land in the file system */
};

static const struct backend_case cases[] = {
    {"posix", false, true},
    {"posix", true, true},
    {"mpiio", false, true},
    {"null", false, false},
};

struct fixture {
    const struct backend_case *c;
    char dir[PATH_MAX];
};

/* A byte stream that differs at every offset and between seeds, cheap to regenerate. */
static uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
    uint64_t x = (off >> 3) + seed * 0x9E3779B97F4A7C15ull;
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (uint8_t)(x >> ((off & 7) * 8));
}

static void fill_pattern(void *arg, void *buf, size_t len, uint64_t off)
{
    uint64_t seed = *(const uint64_t *)arg;
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = pattern_byte(seed, off + i);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->c = *state;
    scratch_make_or_fail(fx->dir, sizeof(fx->dir), fx->c && fx->c->odirect, "mlpio-test-io");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    return scratch_free(fx, fx->dir);
}

/* Aligned chunks, then an unaligned tail: what O_DIRECT must accept. */
static const size_t chunks[] = {65536, 4096, 1 << 20, 12288, 3000};

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    const struct backend_case *c = fx->c;
    const struct mlpio_io_backend *be = mlpio_io_find(c->backend);
    assert_non_null(be);
    assert_int_equal((be->caps & MLPIO_IO_CAP_STORAGE) != 0, c->stores);
    struct mlpio_error err = {0};

    char dir[PATH_MAX], path[PATH_MAX];
    path_join(dir, fx->dir, "a/b/c");
    path_join(path, dir, "data.bin");
    ASSERT_OK(mlpio_io_mkdirs(be, dir, &err), &err);
    ASSERT_OK(mlpio_io_mkdirs(be, dir, &err), &err); /* existing folders are fine */
    assert_int_equal(path_exists(dir), c->stores);

    size_t total = 0;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
        total += chunks[i];
    uint64_t seed = 7;
    uint8_t *src = mlpio_io_buffer_alloc(total);
    uint8_t *dst = mlpio_io_buffer_alloc(total);
    assert_non_null(src);
    assert_non_null(dst);
    fill_pattern(&seed, src, total, 0);

    struct mlpio_io_options opts = {.odirect = c->odirect, .fill = fill_pattern, .fill_arg = &seed};
    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
    assert_non_null(f);
    assert_string_equal(f->path, path);
    assert_int_equal(path_exists(path), c->stores);
    uint64_t off = 0;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        ASSERT_OK(mlpio_io_write_at(f, src + off, chunks[i], off, &err), &err);
        off += chunks[i];
    }
    ASSERT_OK(mlpio_io_sync(f, &err), &err);
    if (c->stores && !c->odirect)
        assert_true(resident_pages(path) > 0);
    ASSERT_OK(mlpio_io_drop_cache(f, &err), &err);
    if (c->stores)
        assert_int_equal(resident_pages(path), 0);
    uint64_t size = 0;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    assert_int_equal(size, total);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    assert_null(f);

    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_READ, &opts, &f, &err), &err);
    memset(dst, 0xA5, total);
    ASSERT_OK(mlpio_io_read_at(f, dst, total, 0, &err), &err);
    assert_memory_equal(dst, src, total);
    /* A piece that starts aligned and ends inside a block. */
    memset(dst, 0xA5, total);
    ASSERT_OK(mlpio_io_read_at(f, dst, 5000, 8192, &err), &err);
    assert_memory_equal(dst, src + 8192, 5000);

    if (c->stores) {
        ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
        assert_int_equal(size, total);
        /* The last aligned block holds only the 3000-byte tail: asking for a full block there
         * must fail and say how much there was. */
        uint64_t last = total - 3000;
        char expect[128];
        snprintf(expect, sizeof(expect), "read 3000 of 4096 bytes at offset %llu",
                 (unsigned long long)last);
        assert_int_equal(mlpio_io_read_at(f, dst, 4096, last, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_non_null(strstr(err.message, expect));
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.message, "shorter than expected"));
    } else {
        /* Nothing is stored, so a file opened for reading has no size to report. */
        assert_int_equal(mlpio_io_size(f, &size, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
    }
    ASSERT_OK(mlpio_io_close(&f, &err), &err);

    ASSERT_OK(mlpio_io_remove(be, path, &err), &err);
    assert_false(path_exists(path));
    ASSERT_OK(mlpio_io_remove(be, path, &err), &err); /* missing is not an error */
    mlpio_io_buffer_free(src);
    mlpio_io_buffer_free(dst);
}

struct missing_case {
    const char *backend;
    enum mlpio_errsrc source;
    int cause;
};

static void test_read_missing_file(void **state)
{
    struct fixture *fx = *state;
    const struct missing_case cs[] = {
        {"posix", MLPIO_SRC_ERRNO, ENOENT},
        {"mpiio", MLPIO_SRC_MPI, MPI_ERR_NO_SUCH_FILE},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        char path[PATH_MAX];
        char name[64];
        snprintf(name, sizeof(name), "never-written-%s.bin", cs[i].backend);
        path_join(path, fx->dir, name);
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        assert_int_equal(
            mlpio_io_open(mlpio_io_find(cs[i].backend), path, MLPIO_IO_READ, NULL, &f, &err), -1);
        assert_null(f);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.source, cs[i].source);
        assert_int_equal(err.cause, cs[i].cause);
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.hint, "written"));
    }
}

static void test_file_in_the_way(void **state)
{
    struct fixture *fx = *state;
    char plain[PATH_MAX], path[PATH_MAX], nested[PATH_MAX];
    path_join(plain, fx->dir, "plain");
    path_join(path, plain, "x.bin");
    path_join(nested, plain, "sub/deeper");
    FILE *fp = fopen(plain, "w");
    assert_non_null(fp);
    fclose(fp);

    const char *names[] = {"posix", "mpiio"};
    for (size_t i = 0; i < 2; i++) {
        const struct mlpio_io_backend *be = mlpio_io_find(names[i]);
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_io_mkdirs(be, nested, &err), -1);
        assert_int_equal(err.source, MLPIO_SRC_ERRNO);
        assert_int_equal(err.cause, ENOTDIR);
        char expect[PATH_MAX + 32];
        snprintf(expect, sizeof(expect), "%s exists and is not a folder", plain);
        assert_non_null(strstr(err.message, expect));
        assert_non_null(strstr(err.hint, plain));
    }

    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    assert_int_equal(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_WRITE, NULL, &f, &err), -1);
    assert_null(f);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_int_equal(err.source, MLPIO_SRC_ERRNO);
    assert_int_equal(err.cause, ENOTDIR);
    assert_non_null(strstr(err.message, path));
}

static void expect_no_odirect(const char *path, enum mlpio_io_mode mode)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {.odirect = true};
    assert_int_equal(mlpio_io_open(&mlpio_io_posix, path, mode, &opts, &f, &err), -1);
    assert_null(f);
    assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
    assert_int_equal(err.cause, EINVAL);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "does not support O_DIRECT"));
    assert_non_null(strstr(err.hint, "--odirect"));
}

/* Whether the kernel takes O_DIRECT in dir, asked directly. */
static bool kernel_odirect(const char *dir)
{
    char probe[PATH_MAX];
    path_join(probe, dir, "probe");
    int fd = open(probe, O_CREAT | O_WRONLY | O_DIRECT, 0644);
    bool ok = fd >= 0;
    if (ok)
        close(fd);
    unlink(probe);
    return ok;
}

static void test_odirect_refused(void **state)
{
    /* procfs and character devices never take O_DIRECT. */
    expect_no_odirect("/proc/self/status", MLPIO_IO_READ);
    expect_no_odirect("/dev/null", MLPIO_IO_WRITE);

    /* tmpfs refused O_DIRECT until Linux 6.6: the backend must agree with the kernel. */
    if (access("/dev/shm", W_OK) != 0)
        return;
    char dir[PATH_MAX], path[PATH_MAX];
    if (scratch_make(dir, sizeof(dir), "/dev/shm", "mlpio-test-io") != 0)
        fail_msg("mkdtemp in /dev/shm: %s", strerror(errno));
    path_join(path, dir, "odirect.bin");
    if (!kernel_odirect(dir)) {
        expect_no_odirect(path, MLPIO_IO_WRITE);
        assert_false(path_exists(path)); /* no empty file left behind */
    } else {
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        struct mlpio_io_options opts = {.odirect = true};
        ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
    }
    assert_int_equal(scratch_remove(dir), 0);
}

static void test_odirect_unaligned(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_join(path, fx->dir, "unaligned.bin");
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {.odirect = true};
    uint8_t *buf = mlpio_io_buffer_alloc(3 * MLPIO_IO_ALIGN);
    assert_non_null(buf);
    memset(buf, 1, 3 * MLPIO_IO_ALIGN);
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
    const struct {
        size_t shift;
        uint64_t off;
    } bad[] = {{1, 0}, {0, 512}, {100, 100}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlpio_error_clear(&err);
        assert_int_equal(mlpio_io_write_at(f, buf + bad[i].shift, MLPIO_IO_ALIGN, bad[i].off, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.message, "4096"));
    }
    uint64_t size = 1;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    assert_int_equal(size, 0); /* refused before touching the file */
    ASSERT_OK(mlpio_io_write_at(f, buf, 2 * MLPIO_IO_ALIGN, 0, &err), &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);

    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_READ, &opts, &f, &err), &err);
    assert_int_equal(mlpio_io_read_at(f, buf + 8, MLPIO_IO_ALIGN, 0, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    assert_int_equal(mlpio_io_read_at(f, buf, MLPIO_IO_ALIGN, 4000, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
}

static void test_registry(void **state)
{
    assert_null(mlpio_io_find("nope"));
    assert_null(mlpio_io_find(NULL));
    assert_ptr_equal(mlpio_io_find("posix"), &mlpio_io_posix);
    assert_ptr_equal(mlpio_io_find("mpiio"), &mlpio_io_mpiio);
    assert_ptr_equal(mlpio_io_find("null"), &mlpio_io_null);
    size_t n = 0;
    for (const struct mlpio_io_backend *const *b = mlpio_io_backends(); *b; b++, n++) {
        const struct mlpio_io_backend *be = *b;
        assert_ptr_equal(mlpio_io_find(be->name), be);
        assert_non_null(be->description);
        assert_true(be->open && be->write_at && be->read_at && be->sync && be->drop_cache &&
                    be->size && be->close && be->remove && be->mkdirs);
    }
    assert_true(n >= 3);
    assert_true(mlpio_io_posix.caps & MLPIO_IO_CAP_ODIRECT);
    assert_false(mlpio_io_posix.caps & MLPIO_IO_CAP_COLLECTIVE);
    assert_true(mlpio_io_mpiio.caps & MLPIO_IO_CAP_COLLECTIVE);
    assert_false(mlpio_io_mpiio.caps & MLPIO_IO_CAP_ODIRECT);
    assert_false(mlpio_io_null.caps & MLPIO_IO_CAP_STORAGE);
}

static void test_unsupported_options(void **state)
{
    struct fixture *fx = *state;
    const struct {
        const char *backend;
        struct mlpio_io_options opts;
        const char *option;
    } cs[] = {
        {"posix", {.collective = true, .comm = MPI_COMM_WORLD}, "collective"},
        {"mpiio", {.odirect = true}, "odirect"},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        char path[PATH_MAX];
        char name[32];
        snprintf(name, sizeof(name), "opt-%zu.bin", i);
        path_join(path, fx->dir, name);
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        assert_int_equal(mlpio_io_open(mlpio_io_find(cs[i].backend), path, MLPIO_IO_WRITE,
                                       &cs[i].opts, &f, &err),
                         -1);
        assert_null(f);
        assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, cs[i].backend));
        assert_non_null(strstr(err.message, cs[i].option));
        assert_true(strlen(err.hint) > 0);
        assert_false(path_exists(path));
    }
    /* null accepts both as no-ops and creates nothing. */
    char path[PATH_MAX];
    path_join(path, fx->dir, "null.bin");
    struct mlpio_io_options all = {.odirect = true, .collective = true, .comm = MPI_COMM_WORLD};
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(&mlpio_io_null, path, MLPIO_IO_WRITE, &all, &f, &err), &err);
    ASSERT_OK(mlpio_io_write_at(f, "abc", 3, 1000, &err), &err);
    uint64_t size = 0;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    assert_int_equal(size, 1003);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    assert_false(path_exists(path));
}

static void test_defaults_and_helpers(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_join(path, fx->dir, "defaults.bin");
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    /* NULL options: buffered, independent, MPI_COMM_SELF; zeros from null reads. */
    ASSERT_OK(mlpio_io_open(&mlpio_io_null, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    assert_false(f->options.odirect);
    assert_false(f->options.collective);
    assert_true(f->options.comm == MPI_COMM_SELF);
    assert_int_equal(f->mode, MLPIO_IO_READ);
    uint8_t buf[64];
    memset(buf, 0xFF, sizeof(buf));
    ASSERT_OK(mlpio_io_read_at(f, buf, sizeof(buf), 4096, &err), &err);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    assert_null(f);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    ASSERT_OK(mlpio_io_close(NULL, &err), &err);

    const size_t lens[] = {0, 1, 4096, 5000, 1 << 20};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t *p = mlpio_io_buffer_alloc(lens[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % MLPIO_IO_ALIGN, 0);
        /* The whole rounded-up length is usable (the sanitizer build checks the bounds). */
        size_t rounded = (lens[i] + MLPIO_IO_ALIGN - 1) / MLPIO_IO_ALIGN * MLPIO_IO_ALIGN;
        memset(p, 0x5A, rounded);
        mlpio_io_buffer_free(p);
    }
    mlpio_io_buffer_free(NULL);
    assert_null(mlpio_io_buffer_alloc(SIZE_MAX));
}

#define BACKEND_TEST(name, i)                                                                      \
    {                                                                                              \
        name, test_round_trip, setup, teardown, (void *)&cases[i]                                  \
    }

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        BACKEND_TEST("round_trip_posix", 0),
        BACKEND_TEST("round_trip_posix_odirect", 1),
        BACKEND_TEST("round_trip_mpiio", 2),
        BACKEND_TEST("round_trip_null", 3),
        cmocka_unit_test_setup_teardown(test_read_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_in_the_way, setup, teardown),
        cmocka_unit_test(test_odirect_refused),
        cmocka_unit_test_prestate_setup_teardown(test_odirect_unaligned, setup, teardown,
                                                 (void *)&cases[1]),
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_unsupported_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_and_helpers, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
