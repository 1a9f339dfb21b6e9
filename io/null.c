/* null backend: stores nothing and touches no storage.
 *
 * Lets the whole program, its timers and its verification run without a file system (tests,
 * dry runs, measuring mlpio's own overhead). Writes succeed and are forgotten; reads return
 * what options.fill says the file holds (zeros without it), so --verify can run end to end.
 * Options that need storage support (odirect, collective, drop_cache) are accepted as no-ops.
 */
#include "io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct null_file {
    struct mlpio_io_file base;
    uint64_t end; /* highest end offset written, what size reports */
};

static int null_open(const char *path, enum mlpio_io_mode mode, const struct mlpio_io_options *opts,
                     struct mlpio_io_file **out, struct mlpio_error *err)
{
    struct null_file *nf = calloc(1, sizeof(*nf));
    if (!nf)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "open of %s", path);
    if (mlpio_io_file_init(&nf->base, &mlpio_io_null, path, mode, opts, err) != 0) {
        free(nf);
        return -1;
    }
    *out = &nf->base;
    return 0;
}

static int null_write_at(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                         struct mlpio_error *err)
{
    struct null_file *nf = (struct null_file *)f;
    if (f->mode != MLPIO_IO_WRITE)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "write of %zu bytes at offset %" PRIu64 " to %s: opened for reading",
                               len, off, f->path);
    if (len > UINT64_MAX - off)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "write of %zu bytes at offset %" PRIu64 " to %s: beyond 2^64 bytes",
                               len, off, f->path);
    if (len > 0 && off + len > nf->end)
        nf->end = off + len;
    return 0;
}

static int null_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                        struct mlpio_error *err)
{
    if (len == 0)
        return 0;
    if (f->options.fill)
        f->options.fill(f->options.fill_arg, buf, len, off);
    else
        memset(buf, 0, len);
    return 0;
}

static int null_ok(struct mlpio_io_file *f, struct mlpio_error *err)
{
    return 0;
}

static int null_size(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    if (f->mode == MLPIO_IO_WRITE) {
        *out = ((struct null_file *)f)->end;
        return 0;
    }
    mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                    "size of %s: the null backend stores nothing, so a file opened for reading "
                    "has no size",
                    f->path);
    return mlpio_error_hint(err, "take the expected size from the workload's parameters, or use "
                                 "a backend that stores data");
}

static int null_close(struct mlpio_io_file *f, struct mlpio_error *err)
{
    mlpio_io_file_fini(f);
    free(f);
    return 0;
}

static int null_path_ok(const char *path, struct mlpio_error *err)
{
    return 0;
}

const struct mlpio_io_backend mlpio_io_null = {
    .name = "null",
    .description = "stores nothing: writes are dropped, reads return generated data",
    .caps = MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_DROP_CACHE |
            MLPIO_IO_CAP_THREADS,
    .open = null_open,
    .write_at = null_write_at,
    .read_at = null_read_at,
    .sync = null_ok,
    .drop_cache = null_ok,
    .size = null_size,
    .close = null_close,
    .remove = null_path_ok,
    .mkdirs = null_path_ok,
};
