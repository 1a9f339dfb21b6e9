/* mlpio I/O backends: the registry, option checks common to every backend, and helpers for
 * backends (file struct init, aligned buffers). See io.h. */
#include "io/io.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mlpio_io_backend *const registry[] = {
    &mlpio_io_posix,
    &mlpio_io_mpiio,
    &mlpio_io_null,
#ifdef MLPIO_HAVE_HDF5
    &mlpio_io_hdf5,
#endif
    NULL,
};

/* Backends mlpio has but this build left out, with what building them needs: asking for one
 * is then told how to get it rather than that no such backend exists. */
static const struct {
    const char *name, *needs;
} unbuilt[] = {
#ifndef MLPIO_HAVE_HDF5
    {"hdf5", MLPIO_HDF5_NEEDS},
#endif
    {NULL, NULL},
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

char *mlpio_io_names(unsigned caps, const char *sep, const char *last, char *buf, size_t len)
{
    size_t n = 0, total = 0;
    for (size_t i = 0; registry[i]; i++)
        total += (registry[i]->caps & caps) == caps;
    buf[0] = '\0';
    for (size_t i = 0; registry[i] && len; i++) {
        if ((registry[i]->caps & caps) != caps)
            continue;
        size_t used = strlen(buf);
        const char *join = n == 0 ? "" : n + 1 == total ? last : sep;
        snprintf(buf + used, len - used, "%s%s", join, registry[i]->name);
        n++;
    }
    return buf;
}

/* Every backend's name fits; a longer registry would show cut in --help, not overflow. */
static char choices[256];

static void make_choices(void)
{
    mlpio_io_names(0, "|", "|", choices, sizeof(choices));
}

const char *mlpio_io_choices(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_choices);
    return choices;
}

const char *mlpio_io_unbuilt(const char *name)
{
    for (size_t i = 0; name && unbuilt[i].name; i++)
        if (strcmp(unbuilt[i].name, name) == 0)
            return unbuilt[i].needs;
    return NULL;
}

int mlpio_io_refuse_name(const char *option, const char *name, struct mlpio_error *err)
{
    char names[256];
    mlpio_io_names(0, ", ", " or ", names, sizeof(names));
    const char *needs = mlpio_io_unbuilt(name);
    if (needs) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "%s: the %s backend is known but was not built into this mlpio", option,
                        name);
        return mlpio_error_hint(err, "rebuild mlpio with %s, or choose one of %s", needs, names);
    }
    mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: unknown backend '%s'", option, name);
    return mlpio_error_hint(err, "choose one of %s", names);
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

int mlpio_io_check(const struct mlpio_io_backend *be, const struct mlpio_io_options *opts,
                   struct mlpio_error *err)
{
    if (!be)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "option check without a backend");
    struct mlpio_io_options o = normalize(opts);
    /* The backend's own check first: it knows why, where the capabilities only say that. */
    if (be->check && be->check(&o, err) < 0)
        return -1;
    char can[256];
    if (o.odirect && !(be->caps & MLPIO_IO_CAP_ODIRECT)) {
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "the %s backend does not support the odirect option (O_DIRECT)", be->name);
        return mlpio_error_hint(err, "run without --odirect, or choose --io-api %s",
                                mlpio_io_names(MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE, ", ",
                                               " or ", can, sizeof(can)));
    }
    if (o.collective && !(be->caps & MLPIO_IO_CAP_COLLECTIVE)) {
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "the %s backend does not support the collective option (one file "
                        "shared by all ranks)",
                        be->name);
        return mlpio_error_hint(err,
                                "choose --io-api %s for a shared file, or write one file per rank",
                                mlpio_io_names(MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_STORAGE, ", ",
                                               " or ", can, sizeof(can)));
    }
    return 0;
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
    if (mlpio_io_check(be, opts, err) < 0)
        return mlpio_error_prefix(err, "open of %s", path);
    struct mlpio_io_options o = normalize(opts);
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
