/* Free-space check of io/fsutil.c with the file system's answer injected through statvfs. */
/* mlpio-test-wrap: statvfs */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "io/fsutil.h"

/* What the next statvfs reports: f_blocks, f_bavail in 4 KiB blocks; and the path it got. */
static unsigned long fake_blocks, fake_avail;
static char asked[4096];

int __wrap_statvfs(const char *path, struct statvfs *buf);
int __wrap_statvfs(const char *path, struct statvfs *buf)
{
    snprintf(asked, sizeof(asked), "%s", path);
    memset(buf, 0, sizeof(*buf));
    buf->f_bsize = buf->f_frsize = 4096;
    buf->f_blocks = fake_blocks;
    buf->f_bavail = buf->f_bfree = fake_avail;
    return 0;
}

static void test_space_cases(void **state)
{
    (void)state;
    static const struct {
        unsigned long blocks, avail;
        uint64_t needed;
        int rc;
    } cases[] = {
        {1280, 1280, 5 << 20, 0},        /* exactly fits */
        {1280, 1280, (5 << 20) + 1, -1}, /* one byte short */
        {1280, 0, 1, -1},                /* full */
        {0, 0, UINT64_MAX, 0},           /* no size (ramfs): cannot tell, not refused */
        {1280, 1280, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_error err = {0};
        fake_blocks = cases[i].blocks;
        fake_avail = cases[i].avail;
        int rc = mlpio_fsutil_check_space("/", cases[i].needed, "2 checkpoints",
                                          "choose another --checkpoint-folder", &err);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            continue;
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.source, MLPIO_SRC_ERRNO);
        assert_int_equal(err.cause, ENOSPC);
        char needed[64], avail[64];
        snprintf(needed, sizeof(needed), "need %llu bytes", (unsigned long long)cases[i].needed);
        snprintf(avail, sizeof(avail), "has %llu bytes", (unsigned long long)cases[i].avail * 4096);
        assert_non_null(strstr(err.message, "2 checkpoints"));
        assert_non_null(strstr(err.message, needed));
        assert_non_null(strstr(err.message, avail));
        assert_string_equal(err.hint, "choose another --checkpoint-folder");
    }
}

/* A folder the run will create is judged by its nearest existing parent. */
static void test_space_missing_folder_asks_parent(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/mlpio-fsutil.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char path[256];
    snprintf(path, sizeof(path), "%s/not/yet", tmpl);
    fake_blocks = fake_avail = 1;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_fsutil_check_space(path, 100, "x", "h", &err), 0);
    assert_string_equal(asked, tmpl);
    assert_int_equal(mlpio_fsutil_check_space(path, 8192, "x", "h", &err), -1);
    assert_non_null(strstr(err.message, path));
    rmdir(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_cases),
        cmocka_unit_test(test_space_missing_folder_asks_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
