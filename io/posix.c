/* posix backend: pread/pwrite on one descriptor per file, optionally with O_DIRECT.
 *
 * Transfers loop until every byte moved: EINTR and short counts are retried, end of file on a
 * read is an error. Under O_DIRECT the caller's buffer and offset must be aligned
 * (MLPIO_IO_ALIGN) but the length need not be: the aligned part bypasses the page cache and an
 * unaligned remainder is written through a second, buffered descriptor or read through a small
 * aligned bounce buffer, so that record sizes of real datasets work unchanged.
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/fsutil.h"

struct posix_file {
    struct mlpio_io_file base;
    int fd;
    int tail_fd;  /* O_DIRECT writes: buffered descriptor for unaligned tails; -1 until needed */
    void *bounce; /* O_DIRECT reads: MLPIO_IO_ALIGN bytes for unaligned tails; NULL until needed */
};

#define ALIGN_MASK ((uint64_t)MLPIO_IO_ALIGN - 1)

static struct posix_file *to_posix(struct mlpio_io_file *f)
{
    return (struct posix_file *)f;
}

static int io_errno(struct mlpio_error *err, int e, const char *op, size_t len, uint64_t off,
                    const char *dir, const char *path, bool reading)
{
    mlpio_error_errno(err, mlpio_fsutil_category(e), e,
                      "%s of %zu bytes at offset %" PRIu64 " %s %s failed", op, len, off, dir,
                      path);
    return mlpio_fsutil_hint(err, e, path, reading);
}

/* pwrite len bytes of buf at off on fd. With stop_unaligned, return early (0) as soon as a short
 * transfer leaves the position unaligned, which O_DIRECT cannot continue from; *done says how
 * far it got. */
static int pwrite_loop(int fd, const char *buf, size_t len, uint64_t off, bool stop_unaligned,
                       const char *path, size_t *done, struct mlpio_error *err)
{
    while (*done < len) {
        ssize_t r = pwrite(fd, buf + *done, len - *done, (off_t)(off + *done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return io_errno(err, errno, "write", len - *done, off + *done, "to", path, false);
        if (r == 0) /* a regular file never does this; do not spin on it */
            return io_errno(err, EIO, "write", len - *done, off + *done, "to", path, false);
        *done += (size_t)r;
        if (stop_unaligned && (*done & ALIGN_MASK) != 0)
            return 0;
    }
    return 0;
}

/* pread counterpart of pwrite_loop; *eof is set when the file ended before len bytes. */
static int pread_loop(int fd, char *buf, size_t len, uint64_t off, bool stop_unaligned,
                      const char *path, size_t *done, bool *eof, struct mlpio_error *err)
{
    *eof = false;
    while (*done < len) {
        ssize_t r = pread(fd, buf + *done, len - *done, (off_t)(off + *done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return io_errno(err, errno, "read", len - *done, off + *done, "from", path, true);
        if (r == 0) {
            *eof = true;
            return 0;
        }
        *done += (size_t)r;
        if (stop_unaligned && (*done & ALIGN_MASK) != 0)
            return 0;
    }
    return 0;
}

static int check_aligned(struct posix_file *pf, const char *op, const void *buf, size_t len,
                         uint64_t off, struct mlpio_error *err)
{
    if (((uintptr_t)buf & ALIGN_MASK) == 0 && (off & ALIGN_MASK) == 0)
        return 0;
    mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                    "O_DIRECT %s of %zu bytes at offset %" PRIu64 " on %s: buffer %p and offset "
                    "must both be multiples of %d bytes",
                    op, len, off, pf->base.path, buf, MLPIO_IO_ALIGN);
    return mlpio_error_hint(err, "this is a bug in mlpio: O_DIRECT buffers come from "
                                 "mlpio_io_buffer_alloc and offsets must be aligned");
}

static int write_direct(struct posix_file *pf, const char *buf, size_t len, uint64_t off,
                        struct mlpio_error *err)
{
    const char *path = pf->base.path;
    size_t head = len & ~(size_t)ALIGN_MASK;
    size_t done = 0;
    if (pwrite_loop(pf->fd, buf, head, off, true, path, &done, err) != 0)
        return -1;
    if (done == len)
        return 0;
    /* What is left is not a whole number of aligned blocks (or a short write left the position
     * unaligned): O_DIRECT would refuse it, the page cache takes it. */
    if (pf->tail_fd < 0) {
        do
            pf->tail_fd = open(path, O_WRONLY | O_CLOEXEC);
        while (pf->tail_fd < 0 && errno == EINTR);
        if (pf->tail_fd < 0) {
            int e = errno;
            mlpio_error_errno(err, mlpio_fsutil_category(e), e,
                              "open of %s for the unaligned tail of an O_DIRECT write failed",
                              path);
            return mlpio_fsutil_hint(err, e, path, false);
        }
    }
    size_t tail_done = 0;
    return pwrite_loop(pf->tail_fd, buf + done, len - done, off + done, false, path, &tail_done,
                       err);
}

static int read_direct(struct posix_file *pf, char *buf, size_t len, uint64_t off,
                       struct mlpio_error *err)
{
    const char *path = pf->base.path;
    size_t done = 0;
    bool eof = false;
    while (done < len) {
        uint64_t pos = off + done;
        size_t left = len - done;
        if ((done & ALIGN_MASK) == 0 && left >= MLPIO_IO_ALIGN) {
            size_t part = 0;
            if (pread_loop(pf->fd, buf + done, left & ~(size_t)ALIGN_MASK, pos, true, path, &part,
                           &eof, err) != 0)
                return -1;
            done += part;
            if (eof)
                return mlpio_error_short_read(err, path, done, len, off);
            continue;
        }
        /* Unaligned remainder: read the whole aligned block holding pos and copy out. */
        if (!pf->bounce && !(pf->bounce = mlpio_io_buffer_alloc(MLPIO_IO_ALIGN)))
            return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                     "O_DIRECT read of %s: bounce buffer", path);
        uint64_t block = pos & ~ALIGN_MASK;
        size_t skip = (size_t)(pos - block);
        size_t got = 0;
        /* Stop at an unaligned short count (the end of the file): O_DIRECT cannot go on from
         * there, and some file systems answer EINVAL rather than 0 if asked. */
        if (pread_loop(pf->fd, pf->bounce, MLPIO_IO_ALIGN, block, true, path, &got, &eof, err) != 0)
            return -1;
        if (got <= skip)
            return mlpio_error_short_read(err, path, done, len, off);
        size_t n = got - skip < left ? got - skip : left;
        memcpy(buf + done, (char *)pf->bounce + skip, n);
        done += n; /* a block cut short by the end of file fails on the next turn */
    }
    return 0;
}

static int posix_write_at(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                          struct mlpio_error *err)
{
    struct posix_file *pf = to_posix(f);
    if (len == 0)
        return 0;
    if (f->options.odirect) {
        if (check_aligned(pf, "write", buf, len, off, err) != 0)
            return -1;
        return write_direct(pf, buf, len, off, err);
    }
    size_t done = 0;
    return pwrite_loop(pf->fd, buf, len, off, false, f->path, &done, err);
}

static int posix_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                         struct mlpio_error *err)
{
    struct posix_file *pf = to_posix(f);
    if (len == 0)
        return 0;
    if (f->options.odirect) {
        if (check_aligned(pf, "read", buf, len, off, err) != 0)
            return -1;
        return read_direct(pf, buf, len, off, err);
    }
    size_t done = 0;
    bool eof = false;
    if (pread_loop(pf->fd, buf, len, off, false, f->path, &done, &eof, err) != 0)
        return -1;
    return eof ? mlpio_error_short_read(err, f->path, done, len, off) : 0;
}

static int posix_sync(struct mlpio_io_file *f, struct mlpio_error *err)
{
    struct posix_file *pf = to_posix(f);
    /* fsync flushes the inode, so data written through tail_fd is covered too. */
    int rc;
    do
        rc = fsync(pf->fd);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int e = errno;
        mlpio_error_errno(err, mlpio_fsutil_category(e), e, "fsync of %s failed", f->path);
        return mlpio_fsutil_hint(err, e, f->path, false);
    }
    return 0;
}

static int posix_drop_cache(struct mlpio_io_file *f, struct mlpio_error *err)
{
    struct posix_file *pf = to_posix(f);
    /* O_DIRECT left nothing in the page cache, except unaligned tails written buffered. */
    if (f->options.odirect && pf->tail_fd < 0)
        return 0;
    return mlpio_fsutil_drop_fd(pf->fd, f->path, err);
}

static int posix_size(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    struct stat st;
    if (fstat(to_posix(f)->fd, &st) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "fstat of %s failed", f->path);
    *out = (uint64_t)st.st_size;
    return 0;
}

static int posix_close(struct mlpio_io_file *f, struct mlpio_error *err)
{
    struct posix_file *pf = to_posix(f);
    int rc = 0;
    /* close is not retried on EINTR: Linux has released the descriptor either way. Its errors
     * matter on network file systems, which report failed write-back there. */
    if (pf->tail_fd >= 0 && close(pf->tail_fd) != 0) {
        int e = errno;
        rc = mlpio_error_errno(err, MLPIO_ERR_IO, e, "close of %s failed", f->path);
        mlpio_fsutil_hint(err, e, f->path, false);
    }
    if (close(pf->fd) != 0 && rc == 0) {
        int e = errno;
        rc = mlpio_error_errno(err, MLPIO_ERR_IO, e, "close of %s failed", f->path);
        mlpio_fsutil_hint(err, e, f->path, f->mode == MLPIO_IO_READ);
    }
    mlpio_io_buffer_free(pf->bounce);
    mlpio_io_file_fini(f);
    free(pf);
    return rc;
}

static int open_fd(const char *path, enum mlpio_io_mode mode, bool odirect, struct mlpio_error *err)
{
    bool reading = mode == MLPIO_IO_READ;
    int flags = (reading ? O_RDONLY : O_CREAT | O_TRUNC | O_WRONLY) | O_CLOEXEC;
    if (odirect)
        flags |= O_DIRECT;
    struct stat st;
    bool existed = reading || lstat(path, &st) == 0;
    int fd;
    do
        fd = open(path, flags, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (odirect && e == EINVAL) {
        /* The file system refuses O_DIRECT, possibly after creating the file: leave no empty
         * file behind. */
        if (!existed)
            unlink(path);
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "file system of %s does not support O_DIRECT (open for %s failed with "
                        "EINVAL)",
                        path, reading ? "reading" : "writing");
        mlpio_error_cause(err, MLPIO_SRC_ERRNO, e);
        mlpio_error_hint(err, "run without --odirect, or put the folder on a file system that "
                              "supports direct I/O");
        return -1;
    }
    mlpio_error_errno(err, mlpio_fsutil_category(e), e, "open of %s for %s failed", path,
                      reading ? "reading" : "writing");
    return mlpio_fsutil_hint(err, e, path, reading);
}

static int posix_open(const char *path, enum mlpio_io_mode mode,
                      const struct mlpio_io_options *opts, struct mlpio_io_file **out,
                      struct mlpio_error *err)
{
    bool odirect = opts && opts->odirect;
    int fd = open_fd(path, mode, odirect, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        mlpio_error_errno(err, MLPIO_ERR_IO, EISDIR, "open of %s for reading failed", path);
        return mlpio_fsutil_hint(err, EISDIR, path, true);
    }
    struct posix_file *pf = calloc(1, sizeof(*pf));
    if (!pf) {
        close(fd);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "open of %s", path);
    }
    if (mlpio_io_file_init(&pf->base, &mlpio_io_posix, path, mode, opts, err) != 0) {
        close(fd);
        free(pf);
        return -1;
    }
    pf->fd = fd;
    pf->tail_fd = -1;
    *out = &pf->base;
    return 0;
}

static int posix_remove(const char *path, struct mlpio_error *err)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    int e = errno;
    mlpio_error_errno(err, mlpio_fsutil_category(e), e, "unlink of %s failed", path);
    return mlpio_fsutil_hint(err, e, path, false);
}

const struct mlpio_io_backend mlpio_io_posix = {
    .name = "posix",
    .description = "pread/pwrite on one file descriptor per file; optional O_DIRECT",
    .caps = MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_DROP_CACHE | MLPIO_IO_CAP_STORAGE |
            MLPIO_IO_CAP_THREADS,
    .open = posix_open,
    .write_at = posix_write_at,
    .read_at = posix_read_at,
    .sync = posix_sync,
    .drop_cache = posix_drop_cache,
    .size = posix_size,
    .close = posix_close,
    .remove = posix_remove,
    .mkdirs = mlpio_fsutil_mkdirs,
};
