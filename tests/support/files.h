/* Files of tests: the fixtures folder, scratch directories and paths inside them.
 *
 * Tests write only below a directory that mkdtemp made under $TMPDIR (or /tmp), and remove it
 * when done; the helpers here are that rule in one place. Fixtures are read from
 * $MLPIO_FIXTURES, which ctest sets to tests/fixtures. A helper that cannot do its job fails
 * the running test, except those meant for CMocka setups and teardowns, which return a status
 * instead. Include once per test program.
 */
#ifndef MLPIO_TEST_FILES_H
#define MLPIO_TEST_FILES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* $MLPIO_FIXTURES/sub/name into out. */
static inline char *fixture_path(char *out, size_t size, const char *sub, const char *name)
{
    const char *base = getenv("MLPIO_FIXTURES");
    assert_non_null(base);
    int n = snprintf(out, size, "%s/%s/%s", base, sub, name);
    assert_true(n > 0 && (size_t)n < size);
    return out;
}

/* Where scratch directories go: $TMPDIR when it is set and not empty, else /tmp. */
static inline const char *scratch_base(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* Makes a new directory base/prefix-XXXXXX and writes its name into dir (base NULL: the
 * scratch base). 0, or -1 with errno set. */
static inline int scratch_make(char *dir, size_t size, const char *base, const char *prefix)
{
    int n = snprintf(dir, size, "%s/%s-XXXXXX", base ? base : scratch_base(), prefix);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) ? 0 : -1;
}

/* scratch_make that fails the test when it cannot. A test that needs O_DIRECT gets its
 * directory in /tmp, a file system that has it here, which $TMPDIR may not be. */
static inline void scratch_make_or_fail(char *dir, size_t size, bool odirect, const char *prefix)
{
    if (scratch_make(dir, size, odirect ? "/tmp" : NULL, prefix) != 0)
        fail_msg("mkdtemp %s: %s", dir, strerror(errno));
}

static inline int scratch_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    return remove(path);
}

/* Removes dir and everything below it (links themselves, not what they point to). 0 when
 * all of it went. */
static inline int scratch_remove(const char *dir)
{
    return nftw(dir, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The state of a test that needs only a scratch directory of its own. The name is kept short
 * so that paths the tests build below it fit their fixed buffers; a $TMPDIR too long for it
 * fails the setup. */
struct scratch {
    char dir[256];
};

/* For a CMocka setup: a new scratch directory prefix-XXXXXX as *state. */
static inline int scratch_setup(void **state, const char *prefix)
{
    struct scratch *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    if (scratch_make(s->dir, sizeof(s->dir), NULL, prefix) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* For a CMocka teardown: removes dir, the scratch directory of a fixture allocated whole, and
 * frees the fixture. Nonzero (the teardown fails) when something could not be removed. */
static inline int scratch_free(void *fixture, const char *dir)
{
    int rc = scratch_remove(dir);
    free(fixture);
    return rc;
}

/* For a CMocka teardown: the end of scratch_setup. */
static inline int scratch_teardown(void **state)
{
    struct scratch *s = *state;
    return scratch_free(s, s->dir);
}

/* dir/name into out (PATH_MAX bytes); a path that does not fit fails the test. */
static inline char *path_join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

static inline bool path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Replaces path with exactly len bytes of buf. */
static inline void file_write(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

#endif
