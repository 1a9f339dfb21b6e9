/* hdf5 dataset format: datasets "records" (uint8, shape (samples, d1, d2), contiguous) and
 * "labels" (int64, shape (samples,)), the layout h5py and DLIO's HDF5 reader expect.
 *
 * The HDF5 library must do the I/O to produce and parse its own structure, so the format works
 * on HDF5 file handles, not on byte ranges: on a file of the hdf5 backend it uses that file's
 * handle (MPI-IO driver, collective when the file is shared); on a file of another backend
 * that stores bytes it opens its own handle on the same path for the duration of the call, with
 * the MPI-IO driver for mpiio and the POSIX (sec2) driver otherwise, which is what h5py does.
 * That backend's open file then only holds the path (and serves sync and drop_cache).
 *
 * On a shared file the ranks split the writing of the samples (pieces dealt round-robin, one
 * collective transfer per round) and each rank reads every sample. on_sample gets whole
 * samples when a sample fits in the caller's buffer; a larger sample arrives in several calls
 * with the same index (its pieces), so that samples of hundreds of MB need no buffer of their
 * size. Offsets are where the bytes lie in the file (records is contiguous); for a records
 * dataset written by another tool in chunks, they are offsets within the dataset.
 */
#include "io/format.h"
#include "io/hdf5_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/fsutil.h"

#define RECORDS_NAME "records"
#define LABELS_NAME "labels"

/* How a dataset of total elements is cut into transfers: pieces of at most max elements,
 * holding whole samples when a sample fits, else parts of one sample. */
struct plan {
    uint64_t sample; /* elements per sample */
    uint64_t total;  /* elements in the dataset */
    uint64_t per;    /* elements per piece */
    uint64_t pieces; /* pieces per sample (sample > max) */
    uint64_t count;  /* pieces in the dataset */
};

static struct plan plan_make(uint64_t sample, uint64_t samples, uint64_t max)
{
    struct plan p = {.sample = sample, .total = sample * samples};
    if (sample <= max) {
        p.per = max / sample * sample;
        p.count = (p.total + p.per - 1) / p.per;
    } else {
        p.per = max;
        p.pieces = (sample + max - 1) / max;
        p.count = samples * p.pieces;
    }
    return p;
}

/* Piece j: its first element and its length. */
static void plan_piece(const struct plan *p, uint64_t j, uint64_t *pos, uint64_t *len)
{
    if (p->pieces == 0) {
        *pos = j * p->per;
        *len = p->total - *pos < p->per ? p->total - *pos : p->per;
    } else {
        uint64_t within = (j % p->pieces) * p->per;
        *pos = j / p->pieces * p->sample + within;
        *len = p->sample - within < p->per ? p->sample - within : p->per;
    }
}

/* Select the row-major elements [pos, pos+len) of a dataspace of rank 1 or 3: at most five
 * hyperslabs (a partial row, partial rows of a sample, whole samples, rows, a partial row). */
static herr_t select_range(hid_t space, int rank, const hsize_t *dims, uint64_t pos, uint64_t len)
{
    if (rank == 1) {
        hsize_t start = pos, count = len;
        return H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    }
    const uint64_t row = dims[2], plane = dims[1] * dims[2];
    H5S_seloper_t op = H5S_SELECT_SET;
    while (len > 0) {
        uint64_t i = pos / plane, r = pos % plane / row, c = pos % row, take;
        hsize_t start[3] = {i, r, c}, count[3];
        if (c != 0 || len < row) {
            take = row - c < len ? row - c : len;
            count[0] = count[1] = 1;
            count[2] = take;
        } else if (r != 0 || len < plane) {
            uint64_t rows = dims[1] - r < len / row ? dims[1] - r : len / row;
            take = rows * row;
            count[0] = 1;
            count[1] = rows;
            count[2] = row;
        } else {
            uint64_t n = len / plane;
            take = n * plane;
            count[0] = n;
            count[1] = dims[1];
            count[2] = row;
        }
        if (H5Sselect_hyperslab(space, op, start, NULL, count, NULL) < 0)
            return -1;
        op = H5S_SELECT_OR;
        pos += take;
        len -= take;
    }
    return 0;
}

/* A dataset moved piece by piece: pieces are ranges of its elements in row-major order. */
struct dataset {
    hid_t id;
    const char *name;
    hid_t memtype;
    size_t elem; /* bytes per element */
    int rank;    /* 1 or 3 */
    hsize_t dims[3];
};

/* One collective-or-independent transfer of elements [pos, pos+len) of d (len 0: take part
 * with nothing). */
static int piece_xfer(struct mlpio_hdf5_file *hf, const struct dataset *d, uint64_t pos,
                      uint64_t len, void *buf, bool writing, struct mlpio_error *err)
{
    hsize_t mdim = len > 0 ? len : 1;
    hid_t fspace = H5Dget_space(d->id);
    hid_t mspace = H5Screate_simple(1, &mdim, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0) {
        if (len == 0)
            rc = H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
        else
            rc = select_range(fspace, d->rank, d->dims, pos, len);
        if (rc >= 0)
            rc = writing ? H5Dwrite(d->id, d->memtype, mspace, fspace, hf->dxpl, buf)
                         : H5Dread(d->id, d->memtype, mspace, fspace, hf->dxpl, buf);
    }
    /* Reported before closing: HDF5 clears its error stack on entry to every call. */
    if (rc < 0) {
        mlpio_hdf5_fail(err, MLPIO_ERR_IO,
                        "%s of %" PRIu64 " bytes at offset %" PRIu64 " of dataset '%s' %s %s",
                        writing ? "write" : "read", len * d->elem, pos * d->elem, d->name,
                        writing ? "to" : "from", hf->base.path);
        if (writing)
            mlpio_fsutil_hint(err, ENOSPC, hf->base.path, false);
        else
            mlpio_error_hint(err, "the file is damaged: generate the data set again");
    }
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    return rc < 0 ? -1 : 0;
}

/* The HDF5 file a format call works on: the hdf5 backend's, or one of its own on the path of
 * another backend's file, closed at the end of the call. */
struct target {
    struct mlpio_hdf5_file *hf;
    struct mlpio_hdf5_file own;
};

static int refuse(struct mlpio_error *err, const struct mlpio_io_file *f, const char *why,
                  const char *hint)
{
    mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                    "the hdf5 format cannot use %s through the %s backend: %s", f->path,
                    f->backend->name, why);
    return mlpio_error_hint(err, "%s", hint);
}

static int target_open(struct target *t, struct mlpio_io_file *f, bool reading,
                       struct mlpio_error *err)
{
    t->hf = mlpio_hdf5_file_of(f);
    if (t->hf)
        return 0;
    if (!(f->backend->caps & MLPIO_IO_CAP_STORAGE))
        return refuse(err, f, "it stores no file to hold the HDF5 structure",
                      "choose a backend that stores files, e.g. --io-api hdf5");
    if (f->options.collective)
        return refuse(err, f, "one HDF5 file shared by several ranks needs parallel HDF5",
                      "run with --io-api hdf5 for a shared file");
    if (f->options.odirect)
        return refuse(err, f, "the HDF5 library here has no O_DIRECT driver",
                      "run without --odirect");
    bool mpiio = f->backend == &mlpio_io_mpiio;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && (mpiio ? H5Pset_fapl_mpio(fapl, MPI_COMM_SELF, MPI_INFO_NULL)
                            : H5Pset_fapl_sec2(fapl)) < 0) {
        mlpio_hdf5_fail(err, MLPIO_ERR_INTERNAL, "file driver setup for %s", f->path);
        H5Pclose(fapl);
        return -1;
    }
    hid_t fid = mlpio_hdf5_file_open(f->path, reading, fapl, mpiio ? "MPI-IO" : "POSIX", err);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (fid < 0)
        return -1;
    t->own = (struct mlpio_hdf5_file){
        .base = *f, .fid = fid, .data = -1, .dxpl = H5P_DEFAULT, .comm = MPI_COMM_SELF};
    t->hf = &t->own;
    return 0;
}

/* Close a handle of the format's own; rc is the call's result so far. */
static int target_close(struct target *t, int rc, struct mlpio_error *err)
{
    if (t->hf != &t->own)
        return rc;
    if (H5Fclose(t->own.fid) < 0 && rc == 0) {
        rc = mlpio_hdf5_fail(err, MLPIO_ERR_IO, "close of %s", t->own.base.path);
        if (t->own.base.mode == MLPIO_IO_WRITE)
            mlpio_fsutil_hint(err, ENOSPC, t->own.base.path, false);
    }
    return rc;
}

static int bad_shape(struct mlpio_error *err, const char *path, const struct mlpio_format_shape *s,
                     const char *why)
{
    return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                           "hdf5 dataset %s of shape (%" PRIu32 ", %" PRIu64 ", %" PRIu64 "): %s",
                           path, s->samples, s->d1, s->d2, why);
}

/* Reject shapes whose byte counts overflow; on a collective file, also shapes that differ
 * between ranks (HDF5 needs the same dataset everywhere). */
static int check_shape(struct mlpio_hdf5_file *hf, const struct mlpio_format_shape *s,
                       struct mlpio_error *err)
{
    const char *path = hf->base.path;
    bool ok = true;
    if (s->d1 == 0 || s->d2 == 0 || s->samples == 0)
        ok = bad_shape(err, path, s, "every dimension must be at least 1") == 0;
    else if (s->d1 > (uint64_t)INT64_MAX / s->d2 ||
             s->d1 * s->d2 > (uint64_t)INT64_MAX / s->samples)
        ok = bad_shape(err, path, s, "more bytes than a file can hold") == 0;
    if (hf->base.options.collective) {
        /* The maximum of a value and of its complement give the maximum and the minimum. */
        uint64_t v[6] = {s->d1, s->d2, s->samples, ~s->d1, ~s->d2, ~(uint64_t)s->samples};
        uint64_t m[6];
        int rc = MPI_Allreduce(v, m, 6, MPI_UINT64_T, MPI_MAX, hf->comm);
        if (rc != MPI_SUCCESS)
            return mlpio_hdf5_mpi_fail(err, rc, "agreement on the dataset shape", path);
        if (ok && (m[0] != ~m[3] || m[1] != ~m[4] || m[2] != ~m[5]))
            ok = bad_shape(err, path, s, "the ranks sharing the file gave different shapes") == 0;
    }
    return mlpio_hdf5_file_agree(hf, ok, "dataset write", err) ? 0 : -1;
}

static int create_dataset(struct mlpio_hdf5_file *hf, struct dataset *d, hid_t type,
                          struct mlpio_error *err)
{
    hid_t space = H5Screate_simple(d->rank, d->dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* Every element is written below: fill values would only double the writes. */
    if (space >= 0 && dcpl >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        d->id = H5Dcreate2(hf->fid, d->name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d->id < 0)
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "creation of dataset '%s' in %s", d->name,
                        hf->base.path);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return d->id < 0 ? -1 : 0;
}

/* Write d piece by piece, the pieces dealt round-robin to the ranks of a collective file; each
 * round is one collective transfer followed by an agreement. content NULL writes zeros. */
static int write_pieces(struct mlpio_hdf5_file *hf, const struct dataset *d, const struct plan *p,
                        mlpio_io_fill_fn content, void *content_arg, void *buf,
                        struct mlpio_error *err)
{
    int me = 0, ranks = 1;
    if (hf->base.options.collective) {
        MPI_Comm_rank(hf->comm, &me);
        MPI_Comm_size(hf->comm, &ranks);
    }
    uint64_t rounds = (p->count + (uint64_t)ranks - 1) / (uint64_t)ranks;
    for (uint64_t t = 0; t < rounds; t++) {
        uint64_t j = t * (uint64_t)ranks + (uint64_t)me, pos = 0, len = 0;
        if (j < p->count)
            plan_piece(p, j, &pos, &len);
        if (len > 0 && content) {
            /* Generating data needs no HDF5: let other threads use the library meanwhile. */
            mlpio_hdf5_leave();
            content(content_arg, buf, (size_t)(len * d->elem), pos * d->elem);
            mlpio_hdf5_enter();
        } else if (len > 0)
            memset(buf, 0, (size_t)(len * d->elem));
        bool ok = piece_xfer(hf, d, pos, len, buf, true, err) == 0;
        if (!mlpio_hdf5_file_agree(hf, ok, "dataset write", err))
            return -1;
    }
    return 0;
}

static int write_datasets(struct mlpio_hdf5_file *hf, const struct mlpio_format_shape *shape,
                          mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                          struct mlpio_error *err)
{
    if (check_shape(hf, shape, err) != 0)
        return -1;
    struct dataset records = {
        -1, RECORDS_NAME, H5T_NATIVE_UINT8, 1, 3, {shape->samples, shape->d1, shape->d2}};
    struct dataset labels = {-1, LABELS_NAME,     H5T_NATIVE_INT64, sizeof(int64_t),
                             1,  {shape->samples}};
    /* Creating a dataset is collective: agree after each, so that no rank creates the second
     * while another gave up after the first. */
    int rc = -1;
    if (mlpio_hdf5_file_agree(hf, create_dataset(hf, &records, H5T_STD_U8LE, err) == 0,
                              "dataset creation", err) &&
        mlpio_hdf5_file_agree(hf, create_dataset(hf, &labels, H5T_STD_I64LE, err) == 0,
                              "dataset creation", err)) {
        struct plan pr = plan_make(shape->d1 * shape->d2, shape->samples, buflen);
        /* DLIO writes zero labels too; their values mean nothing to a storage benchmark. */
        struct plan pl = plan_make(1, shape->samples, buflen / sizeof(int64_t));
        rc = write_pieces(hf, &records, &pr, content, content_arg, buf, err);
        if (rc == 0)
            rc = write_pieces(hf, &labels, &pl, NULL, NULL, buf, err);
    }
    if (labels.id >= 0)
        H5Dclose(labels.id);
    if (records.id >= 0)
        H5Dclose(records.id);
    return rc;
}

static int small_buffer(struct mlpio_error *err, const char *path, size_t buflen)
{
    return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                           "hdf5 dataset %s: a buffer of %zu bytes cannot hold one label", path,
                           buflen);
}

static int fmt_write(struct mlpio_io_file *f, const struct mlpio_format_shape *shape,
                     mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                     struct mlpio_error *err)
{
    if (buflen < sizeof(int64_t))
        return small_buffer(err, f->path, buflen);
    if (f->mode != MLPIO_IO_WRITE)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "hdf5 dataset write to %s, which was opened for reading", f->path);
    mlpio_hdf5_enter();
    struct target t;
    int rc = target_open(&t, f, false, err);
    if (rc == 0)
        rc = target_close(&t, write_datasets(t.hf, shape, content, content_arg, buf, buflen, err),
                          err);
    mlpio_hdf5_leave();
    return rc;
}

static uint64_t fmt_file_bytes(const struct mlpio_format_shape *shape)
{
    /* HDF5 places its metadata as it goes: the size is only known once written. */
    (void)shape;
    return 0;
}

static int malformed(struct mlpio_error *err, const char *path, const char *fmt, ...)
    MLPIO_PRINTF(3, 4);

static int malformed(struct mlpio_error *err, const char *path, const char *fmt, ...)
{
    char what[MLPIO_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_IO, "%s is not an hdf5 dataset file of mlpio: %s", path, what);
    return mlpio_error_hint(err, "the dataset must hold '" RECORDS_NAME "' (uint8, shape "
                                 "(samples, d1, d2)) and '" LABELS_NAME "' (integers, shape "
                                 "(samples,)); generate the data set again with the hdf5 format");
}

static const char *class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_INTEGER:
        return "integers";
    case H5T_FLOAT:
        return "float values";
    case H5T_STRING:
        return "strings";
    case H5T_COMPOUND:
        return "compound values";
    default:
        return "non-numeric values";
    }
}

/* Open dataset d->name and check that it is of an integer type (of elem_size bytes and
 * unsigned if asked) and of rank d->rank; d->dims receives its shape. */
static int open_checked(struct mlpio_hdf5_file *hf, struct dataset *d, size_t elem_size,
                        bool is_unsigned, struct mlpio_error *err)
{
    const char *path = hf->base.path;
    htri_t has = H5Lexists(hf->fid, d->name, H5P_DEFAULT);
    if (has < 0)
        return mlpio_hdf5_fail(err, MLPIO_ERR_IO, "lookup of dataset '%s' in %s", d->name, path);
    if (!has)
        return malformed(err, path, "it has no dataset '%s'", d->name);
    hid_t dapl = mlpio_hdf5_uncached_dapl();
    d->id = dapl < 0 ? -1 : H5Dopen2(hf->fid, d->name, dapl);
    if (d->id < 0)
        mlpio_hdf5_fail(err, MLPIO_ERR_IO, "open of dataset '%s' in %s", d->name, path);
    if (dapl >= 0)
        H5Pclose(dapl);
    if (d->id < 0)
        return -1;
    hid_t type = H5Dget_type(d->id);
    hid_t space = H5Dget_space(d->id);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t size = type >= 0 ? H5Tget_size(type) : 0;
    H5T_sign_t sign = cls == H5T_INTEGER ? H5Tget_sign(type) : H5T_SGN_ERROR;
    int got = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (got == d->rank)
        H5Sget_simple_extent_dims(space, d->dims, NULL);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (cls != H5T_INTEGER || (elem_size && size != elem_size) ||
        (is_unsigned && sign != H5T_SGN_NONE))
        return malformed(err, path, "dataset '%s' holds %zu-byte %s%s, want %s", d->name, size,
                         cls == H5T_INTEGER && sign == H5T_SGN_2 ? "signed " : "", class_name(cls),
                         is_unsigned ? "uint8" : "integers");
    if (got != d->rank)
        return malformed(err, path, "dataset '%s' has %d dimensions, want %d", d->name, got,
                         d->rank);
    return 0;
}

/* Read d piece by piece and hand each sample (or each piece of a sample larger than buf) to
 * on_sample (NULL: only read), at offset base + its offset in d. Every rank of a collective file
 * reads every piece. */
static int read_pieces(struct mlpio_hdf5_file *hf, const struct dataset *d, const struct plan *p,
                       uint64_t base, void *buf, mlpio_format_sample_fn on_sample, void *arg,
                       struct mlpio_error *err)
{
    for (uint64_t j = 0; j < p->count; j++) {
        uint64_t pos, len;
        plan_piece(p, j, &pos, &len);
        bool ok = piece_xfer(hf, d, pos, len, buf, false, err) == 0;
        for (uint64_t at = pos; ok && on_sample && at < pos + len;) {
            uint64_t index = at / p->sample, stop = (index + 1) * p->sample;
            if (stop > pos + len)
                stop = pos + len;
            /* The caller's code runs outside the library lock: it may use HDF5 files itself,
             * and other threads may use the library meanwhile. */
            mlpio_hdf5_leave();
            ok = on_sample(arg, (uint32_t)index, base + at, (const uint8_t *)buf + (at - pos),
                           (size_t)(stop - at), err) == 0;
            mlpio_hdf5_enter();
            at = stop;
        }
        if (!mlpio_hdf5_file_agree(hf, ok, "dataset read", err))
            return -1;
    }
    return 0;
}

static int read_datasets(struct mlpio_hdf5_file *hf, void *buf, size_t buflen,
                         struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample,
                         void *arg, struct mlpio_error *err)
{
    const char *path = hf->base.path;
    struct dataset records = {-1, RECORDS_NAME, H5T_NATIVE_UINT8, 1, 3, {0}};
    struct dataset labels = {-1, LABELS_NAME, H5T_NATIVE_INT64, sizeof(int64_t), 1, {0}};
    const hsize_t *rd = records.dims;
    bool ok = open_checked(hf, &records, 1, true, err) == 0 &&
              open_checked(hf, &labels, 0, false, err) == 0;
    if (ok && (rd[0] > UINT32_MAX || rd[1] == 0 || rd[2] == 0 || rd[1] > INT64_MAX / rd[2] ||
               rd[1] * rd[2] > INT64_MAX / (rd[0] ? rd[0] : 1)))
        ok = malformed(err, path,
                       "dataset '" RECORDS_NAME "' has shape (%llu, %llu, %llu), want at most "
                       "%" PRIu32 " samples of at least one byte",
                       (unsigned long long)rd[0], (unsigned long long)rd[1],
                       (unsigned long long)rd[2], UINT32_MAX) == 0;
    else if (ok && labels.dims[0] != rd[0])
        ok = malformed(err, path, "%llu labels for %llu samples",
                       (unsigned long long)labels.dims[0], (unsigned long long)rd[0]) == 0;
    int rc = -1;
    if (mlpio_hdf5_file_agree(hf, ok, "dataset read", err)) {
        shape->samples = (uint32_t)rd[0];
        shape->d1 = rd[1];
        shape->d2 = rd[2];
        struct plan pr = plan_make(rd[1] * rd[2], rd[0], buflen);
        /* The labels are read too, so that a damaged labels dataset is found. */
        struct plan pl = plan_make(1, rd[0], buflen / sizeof(int64_t));
        /* Where the contiguous records start in the file (undefined when chunked). */
        haddr_t at = H5Dget_offset(records.id);
        uint64_t base = at == HADDR_UNDEF ? 0 : (uint64_t)at;
        rc = read_pieces(hf, &records, &pr, base, buf, on_sample, arg, err);
        if (rc == 0)
            rc = read_pieces(hf, &labels, &pl, 0, buf, NULL, NULL, err);
    }
    if (labels.id >= 0)
        H5Dclose(labels.id);
    if (records.id >= 0)
        H5Dclose(records.id);
    return rc;
}

static int fmt_read(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                    struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                    struct mlpio_error *err)
{
    /* HDF5 checks the file's length against what its superblock says when it opens it, so a
     * truncated file fails there and file_size adds nothing. */
    (void)file_size;
    if (buflen < sizeof(int64_t))
        return small_buffer(err, f->path, buflen);
    mlpio_hdf5_enter();
    struct target t;
    int rc = target_open(&t, f, true, err);
    if (rc == 0)
        rc = target_close(&t, read_datasets(t.hf, buf, buflen, shape, on_sample, arg, err), err);
    mlpio_hdf5_leave();
    return rc;
}

const struct mlpio_format mlpio_format_hdf5 = {
    .name = "hdf5",
    .ext = "h5",
    .file_bytes = fmt_file_bytes,
    .write = fmt_write,
    .read = fmt_read,
};
