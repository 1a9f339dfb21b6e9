/* Fault injection for the posix backend through link seams: a file system that fills up at a
 * chosen offset, that returns short counts and EINTR, and whose fsync fails. */
/* mlpio-test-wrap: pwrite fsync */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "support/files.h"
#include "support/io_checks.h"

enum fault_kind {
    FAULT_NONE,
    FAULT_ENOSPC_AT, /* bytes before enospc_at are written, a write starting there fails */
    FAULT_CHOPPY,    /* every third call fails with EINTR, the others move only part */
};

/* A link seam has no channel to the test but a global. */
static struct {
    enum fault_kind kind;
    uint64_t enospc_at;
    int fsync_errno;
    unsigned calls, eintrs, shorts;
} fault;

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
int __real_fsync(int fd);

static bool is_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_DIRECT);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    fault.calls++;
    switch (fault.kind) {
    case FAULT_ENOSPC_AT:
        if ((uint64_t)off >= fault.enospc_at) {
            errno = ENOSPC;
            return -1;
        }
        if ((uint64_t)off + n > fault.enospc_at)
            n = (size_t)(fault.enospc_at - (uint64_t)off);
        break;
    case FAULT_CHOPPY: {
        if (fault.calls % 3 == 1) {
            fault.eintrs++;
            errno = EINTR;
            return -1;
        }
        /* Odd sizes for buffered writes; whole blocks under O_DIRECT, as a kernel would. */
        size_t cap = is_direct(fd) ? 2 * MLPIO_IO_ALIGN : 1000 + 7 * (fault.calls % 50);
        if (n > cap) {
            n = cap;
            fault.shorts++;
        }
        break;
    }
    case FAULT_NONE:
        break;
    }
    return __real_pwrite(fd, buf, n, off);
}

int __wrap_fsync(int fd)
{
    if (fault.fsync_errno) {
        errno = fault.fsync_errno;
        return -1;
    }
    return __real_fsync(fd);
}

struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    /* The O_DIRECT cases need a file system that has it. */
    scratch_make_or_fail(fx->dir, sizeof(fx->dir), true, "mlpio-test-io-faults");
    int n = snprintf(fx->path, sizeof(fx->path), "%s/data.bin", fx->dir);
    assert_true(n > 0 && (size_t)n < sizeof(fx->path));
    memset(&fault, 0, sizeof(fault));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    memset(&fault, 0, sizeof(fault));
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static uint8_t *pattern(size_t len)
{
    uint8_t *p = mlpio_io_buffer_alloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((i * 131) ^ (i >> 9));
    return p;
}

static void expect_file(const char *path, const uint8_t *want, size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t *got = malloc(len + 1);
    assert_non_null(got);
    ssize_t n = pread(fd, got, len + 1, 0);
    close(fd);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    free(got);
}

struct enospc_case {
    const char *name;
    bool odirect;
    uint64_t write_off;
    size_t write_len;
    uint64_t enospc_at;
};

static const struct enospc_case enospc_cases[] = {
    {"mid-write", false, 0, 65536, 12411},          /* a short write, then ENOSPC */
    {"first byte", false, 1 << 20, 8192, 1 << 20},  /* the first call fails */
    {"odirect", true, 0, 65536, 16384},             /* aligned part under O_DIRECT */
    {"odirect tail", true, 0, 65536 + 3000, 65636}, /* unaligned tail, buffered */
};

static void test_enospc(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < sizeof(enospc_cases) / sizeof(enospc_cases[0]); i++) {
        const struct enospc_case *c = &enospc_cases[i];
        struct mlpio_io_options opts = {.odirect = c->odirect};
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        uint8_t *buf = pattern(c->write_len);
        ASSERT_OK(mlpio_io_open(&mlpio_io_posix, fx->path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
        fault.kind = FAULT_ENOSPC_AT;
        fault.enospc_at = c->enospc_at;
        fault.calls = 0;
        assert_int_equal(mlpio_io_write_at(f, buf, c->write_len, c->write_off, &err), -1);
        fault.kind = FAULT_NONE;
        assert_true(fault.calls > 0); /* the seam was reached */
        char at[64];
        snprintf(at, sizeof(at), "at offset %" PRIu64 " to ", c->enospc_at);
        if (!strstr(err.message, at) || !strstr(err.message, fx->path))
            fail_msg("case %s: message \"%s\" lacks \"%s\" or the path", c->name, err.message, at);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.source, MLPIO_SRC_ERRNO);
        assert_int_equal(err.cause, ENOSPC);
        assert_non_null(strstr(err.message, "ENOSPC"));
        assert_non_null(strstr(err.hint, "free space"));
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
        mlpio_io_buffer_free(buf);
    }
}

static void test_short_and_eintr(void **state)
{
    struct fixture *fx = *state;
    const bool modes[] = {false, true};
    for (size_t i = 0; i < 2; i++) {
        size_t len = (1 << 20) + 333;
        uint8_t *buf = pattern(len);
        struct mlpio_io_options opts = {.odirect = modes[i]};
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        ASSERT_OK(mlpio_io_open(&mlpio_io_posix, fx->path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
        memset(&fault, 0, sizeof(fault));
        fault.kind = FAULT_CHOPPY;
        ASSERT_OK(mlpio_io_write_at(f, buf, len, 0, &err), &err);
        fault.kind = FAULT_NONE;
        assert_true(fault.eintrs > 0);
        assert_true(fault.shorts > 0);
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
        expect_file(fx->path, buf, len);
        mlpio_io_buffer_free(buf);
    }
}

static void test_fsync_eio(void **state)
{
    struct fixture *fx = *state;
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, fx->path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
    ASSERT_OK(mlpio_io_write_at(f, "checkpoint", 10, 0, &err), &err);
    ASSERT_OK(mlpio_io_sync(f, &err), &err);
    fault.fsync_errno = EIO;
    assert_int_equal(mlpio_io_sync(f, &err), -1);
    fault.fsync_errno = 0;
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_int_equal(err.source, MLPIO_SRC_ERRNO);
    assert_int_equal(err.cause, EIO);
    assert_non_null(strstr(err.message, "fsync"));
    assert_non_null(strstr(err.message, fx->path));
    assert_true(strlen(err.hint) > 0);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_and_eintr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_eio, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
