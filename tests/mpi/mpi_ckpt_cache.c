/* The checkpoint read phase reads from storage, not from the page cache: when a read
 * checkpoint starts reading a file (its first pread, at offset 0), none of that file's pages
 * are resident, as mincore(2) over a mapping of it tells. The summary's cache_policy says only
 * what the backend can do; this checks that the pages were really dropped.
 *
 * Page-cache state is the node's, so the files must be on a file system whose pages can be
 * dropped (not tmpfs): the scratch base, /var/tmp and the build tree are tried in turn, each
 * probed with a file of its own; with none such the test is skipped and says why. */
/* mlpio-test-wrap: pread */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/ckpt_run.h"
#include "support/files.h"

ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);

static char watched[300]; /* the checkpoint folder: only its files are checked */
static long files_checked, pages_seen, pages_resident;

/* Pages of fd's file in the page cache, into *total and *resident; -1 when it cannot tell. */
static int residency(int fd, long *total, long *resident)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0)
        return -1;
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = ((size_t)st.st_size + (size_t)page - 1) / (size_t)page;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -1;
    unsigned char *vec = malloc(pages);
    int rc = vec && mincore(map, (size_t)st.st_size, vec) == 0 ? 0 : -1;
    *total = (long)pages, *resident = 0;
    for (size_t i = 0; rc == 0 && i < pages; i++)
        *resident += vec[i] & 1;
    free(vec);
    munmap(map, (size_t)st.st_size);
    return rc;
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t len = watched[0] && off == 0 ? readlink(link, path, sizeof(path) - 1) : -1;
    size_t wlen = strlen(watched);
    if (len > (ssize_t)wlen && !strncmp(path, watched, wlen) && path[wlen] == '/') {
        long total = 0, resident = 0;
        if (residency(fd, &total, &resident) == 0) {
            files_checked++;
            pages_seen += total;
            pages_resident += resident;
        }
    }
    return __real_pread(fd, buf, n, off);
}

/* Whether dropping a file's cached pages works in dir: a file written there has pages in the
 * cache, and none once they are dropped. */
static bool drops_pages(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/probe", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return false;
    static char block[1 << 20];
    memset(block, 0x5a, sizeof(block));
    long total = 0, cached = 0, left = 0;
    bool ok = write(fd, block, sizeof(block)) == (ssize_t)sizeof(block) && fsync(fd) == 0 &&
              residency(fd, &total, &cached) == 0 && cached > 0 &&
              posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0 &&
              residency(fd, &total, &left) == 0 && left == 0;
    close(fd);
    unlink(path);
    return ok;
}

/* A new scratch directory on a file system that drops pages, into dir; false when none. */
static bool scratch_on_disk(char *dir, size_t size)
{
    char exe[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    const char *bases[] = {scratch_base(), "/var/tmp", n > 0 ? dirname(exe) : NULL};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        if (!bases[i] || scratch_make(dir, size, bases[i], "mlpio-cache") != 0)
            continue;
        if (drops_pages(dir))
            return true;
        print_message("%s: cached pages cannot be dropped there (tmpfs?)\n", bases[i]);
        scratch_remove(dir);
    }
    return false;
}

static void test_read_phase_reads_dropped_files(void **state)
{
    struct mlpio_context ctx;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_context_init(&ctx, MPI_COMM_WORLD, &err), 0);
    char dir[256] = "";
    int found = ctx.rank == 0 ? scratch_on_disk(dir, sizeof(dir)) : 0;
    MPI_Bcast(&found, 1, MPI_INT, 0, ctx.comm);
    if (!found) {
        print_message("SKIP: no file system here can drop cached pages (all tmpfs?): the "
                      "read phase's drop cannot be checked\n");
        mlpio_context_fini(&ctx);
        skip();
    }
    MPI_Bcast(dir, sizeof(dir), MPI_CHAR, 0, ctx.comm);
    char res[300];
    snprintf(watched, sizeof(watched), "%s/ck", dir);
    snprintf(res, sizeof(res), "%s/res", dir);
    const char *const args[] = {"--io-api",
                                "posix",
                                "--params",
                                "checkpoint.transfer_size=1M",
                                "checkpoint.time_between_checkpoints=0",
                                "-ncw",
                                "2",
                                "-ncr",
                                "2",
                                NULL};
    int code = ckpt_run(&ctx, watched, res, args);
    watched[0] = '\0';
    /* The scratch directory goes before any check can fail. */
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0)
        assert_int_equal(scratch_remove(dir), 0);
    assert_int_equal(code, 0);
    /* Every rank read its files of both checkpoints, and found none of their pages cached. */
    if (files_checked < 2 || pages_seen == 0)
        fail_msg("rank %d: only %ld checkpoint files (%ld pages) were read", ctx.rank,
                 files_checked, pages_seen);
    if (pages_resident > 0)
        fail_msg("rank %d: %ld of the %ld pages of its %ld checkpoint files were cached when "
                 "the read phase began reading them: the cache was not dropped",
                 ctx.rank, pages_resident, pages_seen, files_checked);
    mlpio_context_fini(&ctx);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_read_phase_reads_dropped_files)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
