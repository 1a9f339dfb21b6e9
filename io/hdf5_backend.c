/* hdf5 backend: parallel HDF5 through its MPI-IO file driver.
 *
 * A file is an HDF5 file holding one 1-D uint8 dataset named "data", so that the byte-range API
 * maps onto hyperslabs of it (byte off of the file = element off of "data"). The dataset is
 * chunked and extensible, created on the first write and grown by each write that ends beyond
 * it: the final length is not known at open, and a size fixed on the first write would make
 * every later, longer write fail. Files are opened with the MPI-IO driver over MPI_COMM_SELF
 * (independent) or options.comm (collective, H5FD_MPIO_COLLECTIVE transfers), so every call
 * goes through MPI: use a file from the MPI thread only. size() is the length of "data", or
 * the size of the HDF5 file when it has no such dataset (a dataset file of the hdf5 format,
 * io/hdf5_format.c, which works through the same open files).
 *
 * The HDF5 library here is built without thread safety, so every use of it, here and in the
 * format, holds one process-wide lock (the only mutable state of this module, and the same
 * rule h5py follows): files on distinct threads stay correct, their HDF5 calls take turns.
 *
 * Collective files follow the mpiio rule: every rank makes the same HDF5 calls in the same
 * order; a rank that cannot do its part takes part with an empty selection and fails
 * afterwards; steps whose failure on one rank would leave the others waiting in the next
 * collective end in an agreement (MPI_Allreduce).
 */
#include "io/hdf5_file.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/fsutil.h"

#define DATA_NAME "data"
/* Chunk of the byte dataset: large enough that the chunk index stays small for files of tens
 * of GiB, small enough that the unused end of the last chunk does not matter. */
#define DATA_CHUNK ((hsize_t)1 << 20)

struct mlpio_hdf5_file *mlpio_hdf5_file_of(struct mlpio_io_file *f)
{
    return f->backend == &mlpio_io_hdf5 ? (struct mlpio_hdf5_file *)f : NULL;
}

static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;

void mlpio_hdf5_enter(void)
{
    pthread_mutex_lock(&library_lock);
    /* HDF5 prints its error stack unless told not to, and keeps that setting per process: set
     * on every entry rather than trusting an earlier one. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void mlpio_hdf5_leave(void)
{
    H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(&library_lock);
}

struct stack_ends {
    int depth;
    hid_t maj;
    char inner[160]; /* where the error was detected: the specific reason */
    char outer[160]; /* the API call that failed */
};

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *arg)
{
    struct stack_ends *s = arg;
    const char *desc = e->desc && *e->desc ? e->desc : e->func_name ? e->func_name : "?";
    if (n == 0) {
        s->maj = e->maj_num;
        snprintf(s->inner, sizeof(s->inner), "%s", desc);
    }
    snprintf(s->outer, sizeof(s->outer), "%s", desc);
    s->depth = (int)n + 1;
    return 0;
}

int mlpio_hdf5_fail(struct mlpio_error *err, enum mlpio_errcat cat, const char *fmt, ...)
{
    char what[MLPIO_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    struct stack_ends s = {.maj = -1};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &s);
    H5Eclear2(H5E_DEFAULT);
    if (s.depth == 0)
        mlpio_error_set(err, cat, "%s failed (HDF5 gave no reason)", what);
    else if (s.depth == 1 || strcmp(s.inner, s.outer) == 0)
        mlpio_error_set(err, cat, "%s failed: %s (HDF5)", what, s.inner);
    else
        mlpio_error_set(err, cat, "%s failed: %s: %s (HDF5)", what, s.outer, s.inner);
    /* Error ids are hid_t; their low bits are what identifies the major class. */
    mlpio_error_cause(err, MLPIO_SRC_HDF5, s.maj < 0 ? -1 : (int)(s.maj & INT_MAX));
    return -1;
}

int mlpio_hdf5_mpi_fail(struct mlpio_error *err, int rc, const char *what, const char *path)
{
    char text[MPI_MAX_ERROR_STRING] = "unknown MPI error";
    int n = 0, cls = MPI_ERR_UNKNOWN;
    MPI_Error_string(rc, text, &n);
    MPI_Error_class(rc, &cls);
    mlpio_error_set(err, MLPIO_ERR_INTERNAL, "%s of %s failed: %s", what, path, text);
    mlpio_error_cause(err, MLPIO_SRC_MPI, cls);
    return -1;
}

bool mlpio_hdf5_file_agree(struct mlpio_hdf5_file *hf, bool ok, const char *what,
                           struct mlpio_error *err)
{
    return mlpio_fsutil_agree(hf->base.options.collective, hf->comm, ok, what, hf->base.path, err);
}

hid_t mlpio_hdf5_uncached_dapl(void)
{
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl >= 0 && H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT) < 0) {
        H5Pclose(dapl);
        return -1;
    }
    return dapl;
}

/* Files handed to this backend's ops are always its own. */
static struct mlpio_hdf5_file *to_h5(struct mlpio_io_file *f)
{
    return (struct mlpio_hdf5_file *)f;
}

static int not_a_byte_file(struct mlpio_error *err, const char *path, const char *why)
{
    mlpio_error_set(err, MLPIO_ERR_IO, "%s: dataset '" DATA_NAME "' %s, want 1-D uint8", path, why);
    return mlpio_error_hint(err, "the file was not written by the hdf5 backend's byte API (a "
                                 "dataset file of the hdf5 format is read with the format)");
}

/* Read mode: open "data" if the file has it and check that it is a 1-D byte dataset. */
static int open_data(struct mlpio_hdf5_file *hf, struct mlpio_error *err)
{
    const char *path = hf->base.path;
    htri_t has = H5Lexists(hf->fid, DATA_NAME, H5P_DEFAULT);
    if (has < 0)
        return mlpio_hdf5_fail(err, MLPIO_ERR_IO, "lookup of dataset '" DATA_NAME "' in %s", path);
    if (!has)
        return 0;
    /* HDF5 clears its error stack on entry to every call: report a failure before closing. */
    hid_t dapl = mlpio_hdf5_uncached_dapl();
    hf->data = dapl < 0 ? -1 : H5Dopen2(hf->fid, DATA_NAME, dapl);
    if (hf->data < 0)
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "open of dataset '" DATA_NAME "' in %s", path);
    if (dapl >= 0)
        H5Pclose(dapl);
    if (hf->data < 0)
        return -1;
    hid_t type = H5Dget_type(hf->data);
    hid_t space = H5Dget_space(hf->data);
    bool bytes = type >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dim = 0;
    if (rank == 1)
        H5Sget_simple_extent_dims(space, &dim, NULL);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (!bytes)
        return not_a_byte_file(err, path, "is not of a 1-byte integer type");
    if (rank != 1)
        return not_a_byte_file(err, path, "is not one-dimensional");
    hf->extent = dim;
    return 0;
}

/* Write mode: create "data" with end bytes, or grow it to end. Collective in collective mode. */
static int grow_data(struct mlpio_hdf5_file *hf, uint64_t end, struct mlpio_error *err)
{
    const char *path = hf->base.path;
    hsize_t dim = end;
    if (hf->data >= 0) {
        if (H5Dset_extent(hf->data, &dim) < 0)
            return mlpio_hdf5_fail(err, MLPIO_ERR_IO,
                                   "growing dataset '" DATA_NAME "' of %s to %" PRIu64 " bytes",
                                   path, end);
        hf->extent = end;
        return 0;
    }
    hsize_t maxdim = H5S_UNLIMITED, chunk = DATA_CHUNK;
    hid_t space = H5Screate_simple(1, &dim, &maxdim);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dapl = mlpio_hdf5_uncached_dapl();
    /* Every byte is written by the caller: fill values would only double the writes. */
    bool props = space >= 0 && dcpl >= 0 && dapl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
                 H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0;
    if (props)
        hf->data = H5Dcreate2(hf->fid, DATA_NAME, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, dapl);
    if (hf->data < 0)
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "creation of dataset '" DATA_NAME "' in %s", path);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (dapl >= 0)
        H5Pclose(dapl);
    if (hf->data < 0)
        return -1;
    hf->extent = end;
    return 0;
}

hid_t mlpio_hdf5_file_open(const char *path, bool reading, hid_t fapl, const char *how,
                           struct mlpio_error *err)
{
    hid_t fid = -1;
    if (fapl >= 0)
        fid = reading ? H5Fopen(path, H5F_ACC_RDONLY, fapl)
                      : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fid >= 0)
        return fid;
    mlpio_hdf5_fail(err, MLPIO_ERR_IO, "%s %s of %s for %s", how, reading ? "open" : "creation",
                    path, reading ? "reading" : "writing");
    if (reading)
        mlpio_error_hint(err,
                         "%s is not a complete HDF5 file (truncated, or written by something "
                         "else): write it again",
                         path);
    else
        mlpio_error_hint(err,
                         "check that the folder of %s exists and is writable, or choose another "
                         "folder",
                         path);
    return -1;
}

/* Open or create the HDF5 file of hf with the MPI-IO driver over comm. */
static int open_file(struct mlpio_hdf5_file *hf, bool reading, MPI_Comm comm,
                     struct mlpio_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        mlpio_hdf5_fail(err, MLPIO_ERR_INTERNAL, "MPI-IO driver setup for %s", hf->base.path);
        H5Pclose(fapl);
        return -1;
    }
    hf->fid = mlpio_hdf5_file_open(hf->base.path, reading, fapl,
                                   hf->base.options.collective ? "collective" : "independent", err);
    if (fapl >= 0)
        H5Pclose(fapl);
    return hf->fid < 0 ? -1 : 0;
}

static int open_locked(const char *path, enum mlpio_io_mode mode,
                       const struct mlpio_io_options *opts, struct mlpio_io_file **out,
                       struct mlpio_error *err)
{
    bool collective = opts && opts->collective;
    bool reading = mode == MLPIO_IO_READ;
    MPI_Comm comm = collective ? opts->comm : MPI_COMM_SELF;
    bool ok = true;
    struct stat st;
    /* HDF5 reports a missing or unreadable file as a driver failure; the file system says
     * precisely what is wrong. */
    if (reading && stat(path, &st) != 0) {
        int e = errno;
        mlpio_error_errno(err, mlpio_fsutil_category(e), e, "open of %s for reading failed", path);
        mlpio_fsutil_hint(err, e, path, true);
        ok = false;
    } else if (reading && S_ISDIR(st.st_mode)) {
        mlpio_error_errno(err, MLPIO_ERR_IO, EISDIR, "open of %s for reading failed", path);
        mlpio_fsutil_hint(err, EISDIR, path, true);
        ok = false;
    }
    struct mlpio_hdf5_file *hf = ok ? calloc(1, sizeof(*hf)) : NULL;
    if (ok && !hf) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "open of %s", path);
        ok = false;
    } else if (ok) {
        hf->fid = hf->data = -1;
        hf->dxpl = H5P_DEFAULT;
        hf->comm = comm;
        if (mlpio_io_file_init(&hf->base, &mlpio_io_hdf5, path, mode, opts, err) != 0)
            ok = false;
        else if (collective) {
            hf->dxpl = H5Pcreate(H5P_DATASET_XFER);
            if (hf->dxpl < 0 || H5Pset_dxpl_mpio(hf->dxpl, H5FD_MPIO_COLLECTIVE) < 0) {
                mlpio_hdf5_fail(err, MLPIO_ERR_INTERNAL, "collective transfer setup for %s", path);
                ok = false;
            }
        }
    }
    ok = mlpio_fsutil_agree(collective, comm, ok, "open", path, err);
    if (ok)
        ok = mlpio_fsutil_agree(collective, comm, open_file(hf, reading, comm, err) == 0, "open",
                                path, err);
    if (ok && reading)
        ok = mlpio_fsutil_agree(collective, comm, open_data(hf, err) == 0, "open", path, err);
    if (!ok) {
        if (hf) {
            if (hf->data >= 0)
                H5Dclose(hf->data);
            if (hf->fid >= 0)
                H5Fclose(hf->fid);
            if (hf->dxpl != H5P_DEFAULT && hf->dxpl >= 0)
                H5Pclose(hf->dxpl);
            mlpio_io_file_fini(&hf->base);
            free(hf);
        }
        return -1;
    }
    *out = &hf->base;
    return 0;
}

/* Move len bytes between buf and [off, off+len) of "data", or take part with nothing when
 * none is set (a collective call this rank has no share in). */
static int data_xfer(struct mlpio_hdf5_file *hf, void *buf, size_t len, uint64_t off, bool none,
                     bool writing, struct mlpio_error *err)
{
    hsize_t start = off, count = len, one = 1;
    uint8_t dummy = 0;
    hid_t fspace = H5Dget_space(hf->data);
    hid_t mspace = H5Screate_simple(1, none || len == 0 ? &one : &count, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0) {
        rc = none || len == 0
                 ? (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0)
                 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
        if (none || len == 0)
            buf = &dummy;
        if (rc >= 0)
            rc = writing ? H5Dwrite(hf->data, H5T_NATIVE_UINT8, mspace, fspace, hf->dxpl, buf)
                         : H5Dread(hf->data, H5T_NATIVE_UINT8, mspace, fspace, hf->dxpl, buf);
    }
    if (rc < 0) {
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "%s%s of %zu bytes at offset %" PRIu64 " %s %s",
                        hf->base.options.collective ? "collective " : "",
                        writing ? "write" : "read", len, off, writing ? "to" : "from",
                        hf->base.path);
        mlpio_fsutil_hint(err, writing ? ENOSPC : EIO, hf->base.path, !writing);
    }
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    return rc < 0 ? -1 : 0;
}

static int beyond_offsets(struct mlpio_error *err, const char *op, size_t len, uint64_t off,
                          const char *path)
{
    return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                           "%s of %zu bytes at offset %" PRIu64 " on %s: beyond the largest "
                           "offset of an HDF5 dataset",
                           op, len, off, path);
}

static int write_at_locked(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                           struct mlpio_error *err)
{
    struct mlpio_hdf5_file *hf = to_h5(f);
    bool collective = f->options.collective;
    bool beyond = off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off;
    if (!collective && beyond)
        return beyond_offsets(err, "write", len, off, f->path);
    if (!collective && len == 0)
        return 0;
    /* Every rank must grow the dataset to the same length (H5Dset_extent is collective): the
     * largest end any rank writes to. A rank that cannot write asks for nothing. */
    uint64_t end = beyond || len == 0 ? 0 : off + len;
    if (collective) {
        uint64_t mine = end;
        int rc = MPI_Allreduce(&mine, &end, 1, MPI_UINT64_T, MPI_MAX, hf->comm);
        if (rc != MPI_SUCCESS)
            return mlpio_hdf5_mpi_fail(err, rc, "agreement on the length of a collective write",
                                       f->path);
    }
    if (end > hf->extent) {
        bool ok = grow_data(hf, end, err) == 0;
        if (!mlpio_hdf5_file_agree(hf, ok, "growth of the dataset", err))
            return -1;
    }
    /* No rank writes anything and there is no dataset yet: no collective to take part in. */
    if (hf->data < 0)
        return beyond ? beyond_offsets(err, "collective write", len, off, f->path) : 0;
    int rc = data_xfer(hf, (void *)buf, len, off, beyond, true, err);
    if (beyond)
        return beyond_offsets(err, "collective write", len, off, f->path);
    return rc;
}

static int read_at_locked(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                          struct mlpio_error *err)
{
    struct mlpio_hdf5_file *hf = to_h5(f);
    bool collective = f->options.collective;
    bool beyond = off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off;
    /* The extent is the same on every rank, so ranks with no dataset all return here. */
    if (hf->data < 0 && (len > 0 || beyond)) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "read of %zu bytes at offset %" PRIu64 " from %s: the file has no byte "
                        "dataset '" DATA_NAME "'",
                        len, off, f->path);
        return mlpio_error_hint(err, "it was not written through the hdf5 backend's byte API "
                                     "(a dataset file of the hdf5 format is read with the "
                                     "format), or it was written empty");
    }
    bool past = !beyond && len > 0 && (off >= hf->extent || len > hf->extent - off);
    if (!collective) {
        if (beyond)
            return beyond_offsets(err, "read", len, off, f->path);
        if (past)
            return mlpio_error_short_read(err, f->path, off >= hf->extent ? 0 : hf->extent - off,
                                          len, off);
        if (len == 0)
            return 0;
        return data_xfer(hf, buf, len, off, false, false, err);
    }
    if (hf->data < 0)
        return 0;
    int rc = data_xfer(hf, buf, len, off, beyond || past, false, err);
    if (beyond)
        return beyond_offsets(err, "collective read", len, off, f->path);
    if (past)
        return mlpio_error_short_read(err, f->path, off >= hf->extent ? 0 : hf->extent - off, len,
                                      off);
    return rc;
}

static int sync_locked(struct mlpio_io_file *f, struct mlpio_error *err)
{
    /* Nothing to make durable in a read-only file; every rank has the same mode. */
    if (f->mode == MLPIO_IO_READ)
        return 0;
    /* H5Fflush writes HDF5's cached metadata and has the MPI-IO driver sync the file. */
    if (H5Fflush(to_h5(f)->fid, H5F_SCOPE_LOCAL) < 0) {
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "%s flush of %s",
                        f->options.collective ? "collective" : "independent", f->path);
        return mlpio_fsutil_hint(err, ENOSPC, f->path, false);
    }
    return 0;
}

static int h5_drop_cache(struct mlpio_io_file *f, struct mlpio_error *err)
{
    /* As for mpiio: the page cache belongs to the inode, a descriptor of our own reaches it.
     * Not collective: each rank evicts its node's copy. */
    return mlpio_fsutil_drop_path(f->path, err);
}

static int size_locked(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    struct mlpio_hdf5_file *hf = to_h5(f);
    if (hf->data >= 0) {
        *out = hf->extent;
        return 0;
    }
    /* H5Fget_filesize reports what the driver knew at open while a file is being written: the
     * MPI-IO file underneath knows what is stored now. */
    void *handle = NULL;
    if (H5Fget_vfd_handle(hf->fid, H5P_DEFAULT, &handle) < 0 || !handle)
        return mlpio_hdf5_fail(err, MLPIO_ERR_IO, "size of %s", f->path);
    MPI_Offset size = 0;
    int rc = MPI_File_get_size(*(MPI_File *)handle, &size);
    if (rc != MPI_SUCCESS)
        return mlpio_hdf5_mpi_fail(err, rc, "MPI_File_get_size", f->path);
    *out = (uint64_t)size;
    return 0;
}

static int close_locked(struct mlpio_io_file *f, struct mlpio_error *err)
{
    struct mlpio_hdf5_file *hf = to_h5(f);
    int ret = 0;
    if (hf->data >= 0 && H5Dclose(hf->data) < 0)
        ret = mlpio_hdf5_fail(err, MLPIO_ERR_IO, "close of dataset '" DATA_NAME "' of %s", f->path);
    if (hf->dxpl != H5P_DEFAULT)
        H5Pclose(hf->dxpl);
    if (H5Fclose(hf->fid) < 0 && ret == 0) {
        ret = mlpio_hdf5_fail(err, MLPIO_ERR_IO, "close of %s", f->path);
        if (f->mode == MLPIO_IO_WRITE)
            mlpio_fsutil_hint(err, ENOSPC, f->path, false);
    }
    mlpio_io_file_fini(f);
    free(hf);
    return ret;
}

static int h5_remove(const char *path, struct mlpio_error *err)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    int e = errno;
    mlpio_error_errno(err, mlpio_fsutil_category(e), e, "removal of %s failed", path);
    return mlpio_fsutil_hint(err, e, path, false);
}

/* The ops as the registry sees them: each holds the library lock. */
static int h5_open(const char *path, enum mlpio_io_mode mode, const struct mlpio_io_options *opts,
                   struct mlpio_io_file **out, struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = open_locked(path, mode, opts, out, err);
    mlpio_hdf5_leave();
    return rc;
}

static int h5_write_at(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                       struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = write_at_locked(f, buf, len, off, err);
    mlpio_hdf5_leave();
    return rc;
}

static int h5_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                      struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = read_at_locked(f, buf, len, off, err);
    mlpio_hdf5_leave();
    return rc;
}

static int h5_sync(struct mlpio_io_file *f, struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = sync_locked(f, err);
    mlpio_hdf5_leave();
    return rc;
}

static int h5_size(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = size_locked(f, out, err);
    mlpio_hdf5_leave();
    return rc;
}

static int h5_close(struct mlpio_io_file *f, struct mlpio_error *err)
{
    mlpio_hdf5_enter();
    int rc = close_locked(f, err);
    mlpio_hdf5_leave();
    return rc;
}

const struct mlpio_io_backend mlpio_io_hdf5 = {
    .name = "hdf5",
    .description = "parallel HDF5 (MPI-IO driver): a byte dataset per file, or one shared file "
                   "(collective)",
    .caps = MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_DROP_CACHE | MLPIO_IO_CAP_STORAGE,
    .open = h5_open,
    .write_at = h5_write_at,
    .read_at = h5_read_at,
    .sync = h5_sync,
    .drop_cache = h5_drop_cache,
    .size = h5_size,
    .close = h5_close,
    .remove = h5_remove,
    .mkdirs = mlpio_fsutil_mkdirs,
};
