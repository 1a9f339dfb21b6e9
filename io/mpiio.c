/* mpiio backend: MPI-IO files, independent (one file per rank, opened over MPI_COMM_SELF) or
 * collective (one file shared by the ranks of options.comm, written and read with the _all
 * calls so that the MPI library can aggregate requests).
 *
 * Collective files need every rank of the communicator to make the same calls in the same
 * order, so no op here returns early on one rank without taking part in the collective it
 * stands for; open agrees on success with an MPI_Allreduce so that a failure on one rank does
 * not leave the others waiting in the truncate that follows.
 */
#include "io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/fsutil.h"

struct mpiio_file {
    struct mlpio_io_file base;
    MPI_File fh;
    MPI_Comm comm; /* the communicator the file was opened on (not owned) */
    uint64_t size; /* read mode: the file's size when opened (see collective_xfer) */
};

/* Largest count of one independent call: INT_MAX rounded down to whole aligned blocks, so that
 * chunk boundaries keep the offsets of later chunks aligned. */
#define CHUNK_MAX ((size_t)INT_MAX & ~(size_t)(MLPIO_IO_ALIGN - 1))

static struct mpiio_file *to_mpiio(struct mlpio_io_file *f)
{
    return (struct mpiio_file *)f;
}

static enum mlpio_errcat class_category(int cls)
{
    switch (cls) {
    case MPI_ERR_NO_MEM:
    case MPI_ERR_ARG:
    case MPI_ERR_COUNT:
    case MPI_ERR_TYPE:
    case MPI_ERR_COMM:
    case MPI_ERR_AMODE:
    case MPI_ERR_FILE:
        return MLPIO_ERR_INTERNAL;
    case MPI_ERR_UNSUPPORTED_OPERATION:
    case MPI_ERR_UNSUPPORTED_DATAREP:
        return MLPIO_ERR_UNSUPPORTED;
    default:
        return MLPIO_ERR_IO;
    }
}

static void class_hint(struct mlpio_error *err, int cls, const char *path, bool reading)
{
    /* The hints of the equivalent errno values say the same thing for MPI-IO. */
    int e = 0;
    if (cls == MPI_ERR_NO_SUCH_FILE)
        e = ENOENT;
    else if (cls == MPI_ERR_ACCESS || cls == MPI_ERR_READ_ONLY)
        e = EACCES;
    else if (cls == MPI_ERR_NO_SPACE || cls == MPI_ERR_QUOTA)
        e = ENOSPC;
    else if (cls == MPI_ERR_IO)
        e = EIO;
    if (e)
        mlpio_fsutil_hint(err, e, path, reading);
    else if (cls == MPI_ERR_FILE_IN_USE)
        mlpio_error_hint(err,
                         "another process holds %s open; wait for it or choose another "
                         "folder",
                         path);
}

/* Fill err for the MPI return code rc of an operation described by fmt. Returns -1. */
static int mpi_fail(struct mlpio_error *err, int rc, const char *path, bool reading,
                    const char *fmt, ...) MLPIO_PRINTF(5, 6);

static int mpi_fail(struct mlpio_error *err, int rc, const char *path, bool reading,
                    const char *fmt, ...)
{
    char what[MLPIO_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    int cls = MPI_ERR_UNKNOWN;
    if (MPI_Error_class(rc, &cls) != MPI_SUCCESS)
        cls = MPI_ERR_UNKNOWN;
    char text[MPI_MAX_ERROR_STRING] = "unknown MPI error";
    int n = 0;
    if (MPI_Error_string(rc, text, &n) != MPI_SUCCESS)
        snprintf(text, sizeof(text), "MPI error code %d", rc);
    mlpio_error_set(err, class_category(cls), "%s failed: %s (MPI error class %d)", what, text,
                    cls);
    mlpio_error_cause(err, MLPIO_SRC_MPI, cls);
    class_hint(err, cls, path, reading);
    return -1;
}

static int mpiio_open(const char *path, enum mlpio_io_mode mode,
                      const struct mlpio_io_options *opts, struct mlpio_io_file **out,
                      struct mlpio_error *err)
{
    bool collective = opts && opts->collective;
    bool reading = mode == MLPIO_IO_READ;
    MPI_Comm comm = collective ? opts->comm : MPI_COMM_SELF;
    int amode = reading ? MPI_MODE_RDONLY : MPI_MODE_CREATE | MPI_MODE_WRONLY;
    MPI_File fh = MPI_FILE_NULL;
    int rc = MPI_File_open(comm, path, amode, MPI_INFO_NULL, &fh);
    bool ok = rc == MPI_SUCCESS;
    if (!ok)
        mpi_fail(err, rc, path, reading, "%s open of %s for %s",
                 collective ? "collective" : "independent", path, reading ? "reading" : "writing");
    struct stat st;
    if (ok && reading && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* MPI-IO opens a folder for reading and then reads nothing from it. */
        mlpio_error_errno(err, MLPIO_ERR_IO, EISDIR, "open of %s for reading failed", path);
        mlpio_fsutil_hint(err, EISDIR, path, true);
        ok = false;
    }
    struct mpiio_file *mf = NULL;
    if (ok) {
        mf = calloc(1, sizeof(*mf));
        if (!mf) {
            mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "open of %s", path);
            ok = false;
        } else if (mlpio_io_file_init(&mf->base, &mlpio_io_mpiio, path, mode, opts, err) != 0)
            ok = false;
    }
    if (ok && reading) {
        MPI_Offset size = 0;
        rc = MPI_File_get_size(fh, &size);
        if (rc != MPI_SUCCESS) {
            mpi_fail(err, rc, path, true, "MPI_File_get_size of %s", path);
            ok = false;
        }
        mf->size = (uint64_t)size;
    }
    ok = mlpio_fsutil_agree(collective, comm, ok, "open", path, err);
    if (ok && !reading) {
        /* MPI_MODE_CREATE keeps old contents; a rewrite must not measure or leave stale bytes
         * beyond what it writes. set_size is collective over the file's communicator. */
        rc = MPI_File_set_size(fh, 0);
        if (rc != MPI_SUCCESS)
            mpi_fail(err, rc, path, false, "truncation of %s to 0 bytes", path);
        ok = mlpio_fsutil_agree(collective, comm, rc == MPI_SUCCESS, "truncation", path, err);
    }
    if (!ok) {
        if (fh != MPI_FILE_NULL)
            MPI_File_close(&fh);
        if (mf)
            mlpio_io_file_fini(&mf->base);
        free(mf);
        return -1;
    }
    mf->fh = fh;
    mf->comm = comm;
    *out = &mf->base;
    return 0;
}

static int beyond_offsets(struct mlpio_error *err, const char *op, size_t len, uint64_t off,
                          const char *dir, const char *path)
{
    return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                           "%s of %zu bytes at offset %" PRIu64 " %s %s: beyond the largest "
                           "MPI-IO offset",
                           op, len, off, dir, path);
}

static int collective_xfer(struct mpiio_file *mf, void *buf, size_t len, uint64_t off, bool writing,
                           bool beyond, struct mlpio_error *err)
{
    const char *path = mf->base.path;
    const char *op = writing ? "collective write" : "collective read";
    const char *dir = writing ? "to" : "from";
    /* Every rank must make this call even when it cannot do its own part, or the others would
     * wait for it forever: it takes part with no data and then fails. */
    bool refuse = beyond || len > INT_MAX;
    int count = refuse ? 0 : (int)len;
    MPI_Offset at = refuse ? 0 : (MPI_Offset)off;
    MPI_Status st;
    int rc = writing ? MPI_File_write_at_all(mf->fh, at, buf, count, MPI_BYTE, &st)
                     : MPI_File_read_at_all(mf->fh, at, buf, count, MPI_BYTE, &st);
    if (beyond)
        return beyond_offsets(err, op, len, off, dir, path);
    if (len > INT_MAX) {
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "%s of %zu bytes at offset %" PRIu64 " %s %s: one collective MPI-IO call "
                        "moves at most %d bytes per rank",
                        op, len, off, dir, path, INT_MAX);
        return mlpio_error_hint(err, "use transfers below 2 GiB per rank, or the independent "
                                     "mode of the mpiio backend");
    }
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, rc, path, !writing, "%s of %zu bytes at offset %" PRIu64 " %s %s", op,
                        len, off, dir, path);
    int got = 0;
    if (MPI_Get_count(&st, MPI_BYTE, &got) != MPI_SUCCESS || got == MPI_UNDEFINED)
        got = 0;
    if (!writing && len > 0 && (off >= mf->size || len > mf->size - off)) {
        /* Open MPI's collective read components put the requested count in the status even
         * when the file ends first, so the file's size decides (asked again: it may have
         * grown since the open). */
        MPI_Offset now = 0;
        if (MPI_File_get_size(mf->fh, &now) == MPI_SUCCESS)
            mf->size = (uint64_t)now;
        uint64_t avail = off >= mf->size ? 0 : mf->size - off;
        if (avail < (uint64_t)got)
            got = (int)avail;
    }
    if (got >= count)
        return 0;
    if (!writing)
        return mlpio_error_short_read(err, path, (size_t)got, len, off);
    /* A collective cannot be retried by one rank alone. */
    mlpio_error_set(err, MLPIO_ERR_IO,
                    "%s of %zu bytes at offset %" PRIu64 " to %s stored only %d bytes", op, len,
                    off, path, got);
    return mlpio_fsutil_hint(err, ENOSPC, path, false);
}

static int xfer(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off, bool writing,
                struct mlpio_error *err)
{
    struct mpiio_file *mf = to_mpiio(f);
    const char *dir = writing ? "to" : "from";
    const char *op = writing ? "write" : "read";
    bool beyond = off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off;
    if (f->options.collective)
        return collective_xfer(mf, buf, len, off, writing, beyond, err);
    if (beyond)
        return beyond_offsets(err, op, len, off, dir, f->path);
    size_t done = 0;
    while (done < len) {
        size_t left = len - done;
        int count = (int)(left < CHUNK_MAX ? left : CHUNK_MAX);
        uint64_t pos = off + done;
        char *p = (char *)buf + done;
        MPI_Status st;
        int rc = writing ? MPI_File_write_at(mf->fh, (MPI_Offset)pos, p, count, MPI_BYTE, &st)
                         : MPI_File_read_at(mf->fh, (MPI_Offset)pos, p, count, MPI_BYTE, &st);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, rc, f->path, !writing,
                            "%s of %zu bytes at offset %" PRIu64 " %s %s", op, left, pos, dir,
                            f->path);
        int got = 0;
        if (MPI_Get_count(&st, MPI_BYTE, &got) != MPI_SUCCESS || got == MPI_UNDEFINED)
            got = 0;
        if (got <= 0) {
            if (!writing)
                return mlpio_error_short_read(err, f->path, done, len, off);
            mlpio_error_set(err, MLPIO_ERR_IO,
                            "write of %zu bytes at offset %" PRIu64 " to %s stored nothing", left,
                            pos, f->path);
            return mlpio_fsutil_hint(err, ENOSPC, f->path, false);
        }
        done += (size_t)got;
    }
    return 0;
}

static int mpiio_write_at(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                          struct mlpio_error *err)
{
    /* MPI-IO's write functions take a const buffer since MPI-3. */
    return xfer(f, (void *)buf, len, off, true, err);
}

static int mpiio_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                         struct mlpio_error *err)
{
    return xfer(f, buf, len, off, false, err);
}

static int mpiio_sync(struct mlpio_io_file *f, struct mlpio_error *err)
{
    /* Nothing to make durable in a file opened for reading, and MPI-IO may refuse to sync it.
     * Every rank of a collective file has the same mode, so all skip or none does. */
    if (f->mode == MLPIO_IO_READ)
        return 0;
    int rc = MPI_File_sync(to_mpiio(f)->fh);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, rc, f->path, false, "%s MPI_File_sync of %s",
                        f->options.collective ? "collective" : "independent", f->path);
    return 0;
}

static int mpiio_drop_cache(struct mlpio_io_file *f, struct mlpio_error *err)
{
    /* MPI-IO has no call for this; the page cache belongs to the inode, so a descriptor of our
     * own reaches it. Not collective: each rank evicts its node's copy. */
    return mlpio_fsutil_drop_path(f->path, err);
}

static int mpiio_size(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    MPI_Offset size = 0;
    int rc = MPI_File_get_size(to_mpiio(f)->fh, &size);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, rc, f->path, true, "MPI_File_get_size of %s", f->path);
    *out = (uint64_t)size;
    return 0;
}

static int mpiio_close(struct mlpio_io_file *f, struct mlpio_error *err)
{
    struct mpiio_file *mf = to_mpiio(f);
    int rc = MPI_File_close(&mf->fh);
    int ret = 0;
    if (rc != MPI_SUCCESS)
        ret = mpi_fail(err, rc, f->path, f->mode == MLPIO_IO_READ, "close of %s", f->path);
    mlpio_io_file_fini(f);
    free(mf);
    return ret;
}

static int mpiio_remove(const char *path, struct mlpio_error *err)
{
    int rc = MPI_File_delete(path, MPI_INFO_NULL);
    if (rc == MPI_SUCCESS)
        return 0;
    int cls = MPI_ERR_UNKNOWN;
    MPI_Error_class(rc, &cls);
    /* Some MPI-IO layers report a missing file as a generic I/O error: ask the file system. */
    if (cls == MPI_ERR_NO_SUCH_FILE || (access(path, F_OK) != 0 && errno == ENOENT))
        return 0;
    return mpi_fail(err, rc, path, false, "MPI_File_delete of %s", path);
}

/* O_DIRECT is refused here rather than left to the missing capability so that the refusal
 * says why: MPI-IO opens the file itself, with flags of its own (MPI_MODE_*), none of which is
 * O_DIRECT. */
static int mpiio_check(const struct mlpio_io_options *opts, struct mlpio_error *err)
{
    if (!opts->odirect)
        return 0;
    char can[128];
    mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                    "the mpiio backend does not support the odirect option (O_DIRECT): MPI-IO "
                    "opens its files itself, with no O_DIRECT flag");
    return mlpio_error_hint(err, "run without --odirect, or choose --io-api %s",
                            mlpio_io_names(MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE, ", ",
                                           " or ", can, sizeof(can)));
}

const struct mlpio_io_backend mlpio_io_mpiio = {
    .name = "mpiio",
    .description = "MPI-IO: a file per rank (independent) or one shared file (collective)",
    .caps = MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_DROP_CACHE | MLPIO_IO_CAP_STORAGE,
    .check = mpiio_check,
    .open = mpiio_open,
    .write_at = mpiio_write_at,
    .read_at = mpiio_read_at,
    .sync = mpiio_sync,
    .drop_cache = mpiio_drop_cache,
    .size = mpiio_size,
    .close = mpiio_close,
    .remove = mpiio_remove,
    .mkdirs = mlpio_fsutil_mkdirs,
};
