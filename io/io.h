/* mlpio I/O backends.
 *
 * One const ops table per backend (posix, mpiio, null, ...), selected by name from a registry.
 * Callers use the mlpio_io_* dispatch functions below, never a table's members directly.
 * Every op returns 0 or -1 and fills err on failure with a message that names the operation,
 * path and offset. A backend that cannot do an op fails with MLPIO_ERR_UNSUPPORTED; it never
 * pretends.
 *
 * Thread safety: distinct files may be used from distinct threads; one file from one thread.
 * Collective files (options.collective) must be used in the same call order on every rank of
 * options.comm, and only from the thread that may call MPI.
 */
#ifndef MLPIO_IO_H
#define MLPIO_IO_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/error.h"

/* O_DIRECT needs buffers, offsets and lengths aligned to this many bytes. mlpio always
 * allocates I/O buffers with this alignment (mlpio_io_buffer_alloc). */
#define MLPIO_IO_ALIGN 4096

enum mlpio_io_mode {
    MLPIO_IO_READ = 1,  /* open an existing file for reading */
    MLPIO_IO_WRITE = 2, /* create (or truncate) a file for writing */
};

/* Capabilities a backend advertises (bit set). */
enum {
    MLPIO_IO_CAP_ODIRECT = 1u << 0,    /* supports options.odirect */
    MLPIO_IO_CAP_COLLECTIVE = 1u << 1, /* supports options.collective (shared file) */
    MLPIO_IO_CAP_DROP_CACHE = 1u << 2, /* drop_cache evicts cached pages */
    MLPIO_IO_CAP_STORAGE = 1u << 3,    /* really stores bytes (null does not) */
    MLPIO_IO_CAP_THREADS = 1u << 4,    /* usable from any thread (makes no MPI calls) */
};

/* Fills buf with the bytes a file holds at [off, off+len). Used by the null backend to produce
 * what a real storage would return on read, so that --verify can run on it. */
typedef void (*mlpio_io_fill_fn)(void *arg, void *buf, size_t len, uint64_t off);

struct mlpio_io_options {
    bool odirect;          /* posix: bypass the page cache (O_DIRECT); aligned I/O only */
    bool collective;       /* mpiio: one file shared by all ranks of comm, collective ops */
    MPI_Comm comm;         /* communicator for collective opens; ignored otherwise */
    mlpio_io_fill_fn fill; /* null backend: content source for reads (may be NULL: zeros) */
    void *fill_arg;
};

struct mlpio_io_backend;

/* An open file. Backends embed this as the first member of their own struct. */
struct mlpio_io_file {
    const struct mlpio_io_backend *backend;
    char *path; /* owned, freed by close */
    enum mlpio_io_mode mode;
    struct mlpio_io_options options;
};

struct mlpio_io_backend {
    const char *name;
    const char *description;
    unsigned caps;
    /* Refuse options this backend cannot honour beyond what caps says (0 or -1 with err
     * naming the option and the backend, and a hint). NULL: caps say it all. Called through
     * mlpio_io_check, before any file is opened, so a run can be refused before it starts. */
    int (*check)(const struct mlpio_io_options *opts, struct mlpio_error *err);
    /* Open path; on success *out is a new file owned by the caller (free with close). */
    int (*open)(const char *path, enum mlpio_io_mode mode, const struct mlpio_io_options *opts,
                struct mlpio_io_file **out, struct mlpio_error *err);
    /* Write/read exactly len bytes at off (short transfers are retried or reported). */
    int (*write_at)(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                    struct mlpio_error *err);
    int (*read_at)(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                   struct mlpio_error *err);
    /* Make written data durable (fsync / MPI_File_sync). */
    int (*sync)(struct mlpio_io_file *f, struct mlpio_error *err);
    /* Evict the file's cached pages so that later reads come from storage. */
    int (*drop_cache)(struct mlpio_io_file *f, struct mlpio_error *err);
    /* Current size of the file in bytes. */
    int (*size)(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err);
    /* Close and free f (always freed, even when closing reports an error). */
    int (*close)(struct mlpio_io_file *f, struct mlpio_error *err);
    /* Remove a file. Missing files are not an error. */
    int (*remove)(const char *path, struct mlpio_error *err);
    /* Create a directory and its parents (mkdir -p). Existing directories are fine. */
    int (*mkdirs)(const char *path, struct mlpio_error *err);
};

/* Registry: the backends built into this mlpio. */
const struct mlpio_io_backend *mlpio_io_find(const char *name);
/* NULL-terminated list of all registered backends. */
const struct mlpio_io_backend *const *mlpio_io_backends(void);
/* Their names as "a|b|c", in registry order (built once; static storage). */
const char *mlpio_io_choices(void);
/* The names of the registered backends that have every capability in caps (0: all), joined by
 * sep, the last two by last (", " and " or ": "posix, mpiio or null"); "" when none has them.
 * Returns buf. */
char *mlpio_io_names(unsigned caps, const char *sep, const char *last, char *buf, size_t len);
/* What a backend that mlpio knows but this build left out needs to be built ("-DMLPIO_HDF5=ON
 * and libhdf5-openmpi-dev"), or NULL when name is built in or unknown. */
const char *mlpio_io_unbuilt(const char *name);
/* Refuse name, an unknown or unbuilt backend, as the value of option ("--io-api"): a usage
 * error that lists the backends built in and, for one left out of the build, how to build it.
 * Returns -1. */
int mlpio_io_refuse_name(const char *option, const char *name, struct mlpio_error *err);

/* The backends themselves (defined in io/<name>.c; hdf5 only when built with MLPIO_HDF5). */
extern const struct mlpio_io_backend mlpio_io_posix;
extern const struct mlpio_io_backend mlpio_io_mpiio;
extern const struct mlpio_io_backend mlpio_io_null;
#ifdef MLPIO_HAVE_HDF5
extern const struct mlpio_io_backend mlpio_io_hdf5;
#endif
/* What a build without the hdf5 backend and format needs to have them (see mlpio_io_unbuilt). */
#define MLPIO_HDF5_NEEDS "-DMLPIO_HDF5=ON and libhdf5-openmpi-dev"

/* Refuse options be cannot honour (a missing capability, or its own check): 0, or -1 with
 * MLPIO_ERR_UNSUPPORTED, a message naming the backend and the option, and a hint listing the
 * backends that can. opts may be NULL. mlpio_io_open checks its options with it too. */
int mlpio_io_check(const struct mlpio_io_backend *be, const struct mlpio_io_options *opts,
                   struct mlpio_error *err) MLPIO_WUR;

/* Dispatch. opts may be NULL (defaults: buffered, independent). */
int mlpio_io_open(const struct mlpio_io_backend *be, const char *path, enum mlpio_io_mode mode,
                  const struct mlpio_io_options *opts, struct mlpio_io_file **out,
                  struct mlpio_error *err) MLPIO_WUR;

static inline int mlpio_io_write_at(struct mlpio_io_file *f, const void *buf, size_t len,
                                    uint64_t off, struct mlpio_error *err)
{
    return f->backend->write_at(f, buf, len, off, err);
}

static inline int mlpio_io_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                                   struct mlpio_error *err)
{
    return f->backend->read_at(f, buf, len, off, err);
}

static inline int mlpio_io_sync(struct mlpio_io_file *f, struct mlpio_error *err)
{
    return f->backend->sync(f, err);
}

static inline int mlpio_io_drop_cache(struct mlpio_io_file *f, struct mlpio_error *err)
{
    return f->backend->drop_cache(f, err);
}

static inline int mlpio_io_size(struct mlpio_io_file *f, uint64_t *out, struct mlpio_error *err)
{
    return f->backend->size(f, out, err);
}

/* Close *f (NULL or *f == NULL is a no-op) and set *f to NULL. */
int mlpio_io_close(struct mlpio_io_file **f, struct mlpio_error *err);

static inline int mlpio_io_remove(const struct mlpio_io_backend *be, const char *path,
                                  struct mlpio_error *err)
{
    return be->remove(path, err);
}

static inline int mlpio_io_mkdirs(const struct mlpio_io_backend *be, const char *path,
                                  struct mlpio_error *err)
{
    return be->mkdirs(path, err);
}

/* Allocate len bytes aligned to MLPIO_IO_ALIGN (len rounded up to it); NULL on ENOMEM.
 * Free with mlpio_io_buffer_free (accepts NULL). */
void *mlpio_io_buffer_alloc(size_t len);
void mlpio_io_buffer_free(void *buf);

/* Helpers for backends: fill the common part of a new file (dup path). -1 on ENOMEM. */
int mlpio_io_file_init(struct mlpio_io_file *f, const struct mlpio_io_backend *be, const char *path,
                       enum mlpio_io_mode mode, const struct mlpio_io_options *opts,
                       struct mlpio_error *err);
void mlpio_io_file_fini(struct mlpio_io_file *f);

#endif
