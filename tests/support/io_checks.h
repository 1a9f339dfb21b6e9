/* What tests of the io layer, the dataset formats and the data generator share: a check that
 * says why a call failed, the pages of a file in the page cache, and generator objects.
 * Include once per test program.
 */
#ifndef MLPIO_TEST_IO_CHECKS_H
#define MLPIO_TEST_IO_CHECKS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/datagen.h"

/* Fails the test with the error's message, so that a failing call says why. */
#define ASSERT_OK(call, err)                                                                       \
    do {                                                                                           \
        if ((call) != 0)                                                                           \
            fail_msg("%s failed: %s [hint: %s]", #call, (err)->message, (err)->hint);              \
    } while (0)

/* Pages of path in the page cache, seen through mincore on a mapping (which faults none in). */
static inline size_t resident_pages(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    size_t len = (size_t)st.st_size;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page;
    size_t n = 0;
    if (pages > 0) {
        void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        assert_true(map != MAP_FAILED);
        unsigned char *vec = malloc(pages);
        assert_non_null(vec);
        assert_int_equal(mincore(map, len, vec), 0);
        for (size_t i = 0; i < pages; i++)
            n += vec[i] & 1;
        free(vec);
        munmap(map, len);
    }
    close(fd);
    return n;
}

/* The generator object name of rank's key under the salt of seed. */
static inline void object_for(uint64_t seed, uint64_t rank, const char *name,
                              struct mlpio_data_object *obj)
{
    struct mlpio_data_salt salt;
    struct mlpio_data_rank_key key;
    mlpio_data_salt_from_seed(seed, &salt);
    mlpio_data_rank_key(&salt, rank, &key);
    mlpio_data_object_init(obj, &key, name);
}

#endif
