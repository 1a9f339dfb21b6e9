/* mlpio error reporting.
 *
 * Every fallible mlpio function returns 0 on success and -1 on failure (or NULL for
 * constructors) and takes a struct mlpio_error * as its last argument. On failure the struct
 * says what failed (category, cause, a message naming the operation, path and offset) and how
 * to fix it (hint). Only app/main.c turns a category into an exit code.
 */
#ifndef MLPIO_ERROR_H
#define MLPIO_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum mlpio_errcat {
    MLPIO_ERR_NONE = 0,
    MLPIO_ERR_USAGE,       /* bad command line */
    MLPIO_ERR_CONFIG,      /* bad configuration value or file */
    MLPIO_ERR_RULES,       /* refused by the rules (e.g. --closed and not CLOSED) */
    MLPIO_ERR_IO,          /* storage I/O failed */
    MLPIO_ERR_VERIFY,      /* data read back differs from what was written */
    MLPIO_ERR_INTERRUPTED, /* SIGINT / SIGTERM */
    MLPIO_ERR_UNSUPPORTED, /* a backend or file system cannot do what was asked */
    MLPIO_ERR_INTERNAL,    /* a bug or resource exhaustion (ENOMEM, MPI failure) */
};

/* The cause field's meaning depends on its source. */
enum mlpio_errsrc {
    MLPIO_SRC_NONE = 0,
    MLPIO_SRC_ERRNO, /* cause is an errno value */
    MLPIO_SRC_MPI,   /* cause is an MPI error class */
    MLPIO_SRC_HDF5,  /* cause is an HDF5 major error number (or -1) */
};

#define MLPIO_ERROR_MSG_MAX 768
#define MLPIO_ERROR_HINT_MAX 384

struct mlpio_error {
    enum mlpio_errcat category;
    enum mlpio_errsrc source;
    int cause;
    char message[MLPIO_ERROR_MSG_MAX];
    char hint[MLPIO_ERROR_HINT_MAX];
};

#if defined(__GNUC__)
#define MLPIO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MLPIO_WUR __attribute__((warn_unused_result))
#else
#define MLPIO_PRINTF(f, a)
#define MLPIO_WUR
#endif

/* Clear err (NULL is accepted). */
void mlpio_error_clear(struct mlpio_error *err);

/* Fill err with category and a formatted message; clears the hint. Returns -1 so callers can
 * write `return mlpio_error_set(...)`. errno is preserved. err may be NULL. */
int mlpio_error_set(struct mlpio_error *err, enum mlpio_errcat cat, const char *fmt, ...)
    MLPIO_PRINTF(3, 4);

/* As mlpio_error_set, recording an errno cause and appending ": <strerror> (<ENAME>)". */
int mlpio_error_errno(struct mlpio_error *err, enum mlpio_errcat cat, int errnum, const char *fmt,
                      ...) MLPIO_PRINTF(4, 5);

/* Record a cause of another source (MPI class, HDF5) without changing the message. */
void mlpio_error_cause(struct mlpio_error *err, enum mlpio_errsrc src, int cause);

/* Set (replace) the hint. Returns -1. err may be NULL. */
int mlpio_error_hint(struct mlpio_error *err, const char *fmt, ...) MLPIO_PRINTF(2, 3);

/* Prepend context to the message ("while writing checkpoint 3: <old message>"). Returns -1. */
int mlpio_error_prefix(struct mlpio_error *err, const char *fmt, ...) MLPIO_PRINTF(2, 3);

/* Symbolic name of an errno value ("ENOSPC"), or "E?" if unknown. */
const char *mlpio_errno_name(int errnum);

/* A read that found the file shorter than expected: got of len bytes at off of path.
 * Returns -1 (MLPIO_ERR_IO, with the hint to write the file again). */
int mlpio_error_short_read(struct mlpio_error *err, const char *path, uint64_t got, size_t len,
                           uint64_t off);

/* Short lower-case name of a category ("io", "config"). */
const char *mlpio_errcat_name(enum mlpio_errcat cat);

#endif
