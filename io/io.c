/* mlpio I/O backends: the registry, option checks common to every backend, and helpers for
 * backends (file struct init, aligned buffers). See io.h. */
#include "io/io.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct mlpio_io_backend *const registry[] = {
    &mlpio_io_posix, &mlpio_io_mpiio, &mlpio_io_null, &mlpio_io_hdf5, NULL,
};

const struct mlpio_io_backend *mlpio_io_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct mlpio_io_backend *const *mlpio_io_backends(void)
{
    return registry;
}

/* Options as backends see them: a copy with defaults filled in, so that a backend never has to
 * deal with NULL options or a stale communicator in independent mode. */
static struct mlpio_io_options normalize(const struct mlpio_io_options *opts)
{
    struct mlpio_io_options o = {0};
    if (opts)
        o = *opts;
    if (!o.collective)
        o.comm = MPI_COMM_SELF;
    return o;
}

int mlpio_io_open(const struct mlpio_io_backend *be, const char *path, enum mlpio_io_mode mode,
                  const struct mlpio_io_options *opts, struct mlpio_io_file **out,
                  struct mlpio_error *err)
{
    if (!out)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "open: no place for the file handle");
    *out = NULL;
    if (!be || !path || !*path)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "open: missing backend or empty path");
    if (mode != MLPIO_IO_READ && mode != MLPIO_IO_WRITE)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "open of %s: invalid mode %d", path,
                               (int)mode);
    struct mlpio_io_options o = normalize(opts);
    if (o.odirect && !(be->caps & MLPIO_IO_CAP_ODIRECT)) {
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "the %s backend does not support the odirect option (O_DIRECT), asked "
                        "for %s",
                        be->name, path);
        return mlpio_error_hint(err, "run without --odirect, or choose the posix backend");
    }
    if (o.collective && !(be->caps & MLPIO_IO_CAP_COLLECTIVE)) {
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "the %s backend does not support the collective option (one file "
                        "shared by all ranks), asked for %s",
                        be->name, path);
        return mlpio_error_hint(err, "choose the mpiio backend for a shared file, or write one "
                                     "file per rank");
    }
    if (o.collective && o.comm == MPI_COMM_NULL)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "collective open of %s without a communicator", path);
    return be->open(path, mode, &o, out, err);
}

int mlpio_io_close(struct mlpio_io_file **f, struct mlpio_error *err)
{
    if (!f || !*f)
        return 0;
    struct mlpio_io_file *file = *f;
    *f = NULL;
    return file->backend->close(file, err);
}

void *mlpio_io_buffer_alloc(size_t len)
{
    if (len > SIZE_MAX - (MLPIO_IO_ALIGN - 1)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = (len + MLPIO_IO_ALIGN - 1) & ~(size_t)(MLPIO_IO_ALIGN - 1);
    if (n == 0)
        n = MLPIO_IO_ALIGN;
    void *p = NULL;
    int rc = posix_memalign(&p, MLPIO_IO_ALIGN, n);
    if (rc != 0) {
        errno = rc;
        return NULL;
    }
    return p;
}

void mlpio_io_buffer_free(void *buf)
{
    free(buf);
}

int mlpio_io_file_init(struct mlpio_io_file *f, const struct mlpio_io_backend *be, const char *path,
                       enum mlpio_io_mode mode, const struct mlpio_io_options *opts,
                       struct mlpio_error *err)
{
    f->backend = be;
    f->mode = mode;
    f->options = normalize(opts);
    f->path = strdup(path);
    if (!f->path)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "open of %s", path);
    return 0;
}

void mlpio_io_file_fini(struct mlpio_io_file *f)
{
    if (!f)
        return;
    free(f->path);
    f->path = NULL;
}
