/* File system helpers shared by the posix and mpiio backends (not part of the public API).
 *
 * They follow the io error contract: 0 on success, -1 with err filled (message naming the
 * operation and path, errno cause, hint) on failure.
 */
#ifndef MLPIO_IO_FSUTIL_H
#define MLPIO_IO_FSUTIL_H

#include <stdbool.h>

#include <mpi.h>
#include <stdint.h>

#include "io/error.h"

/* mkdir -p: create path and its missing parents with mode 0755. Existing directories are fine;
 * a component that exists but is not a directory fails with ENOTDIR naming that component. */
int mlpio_fsutil_mkdirs(const char *path, struct mlpio_error *err);

/* Write back fd's dirty pages (fdatasync) and ask the kernel to evict the file's cached pages
 * (posix_fadvise DONTNEED over the whole file). path is only used in messages. */
int mlpio_fsutil_drop_fd(int fd, const char *path, struct mlpio_error *err);

/* As mlpio_fsutil_drop_fd through a temporary read-only descriptor on path. */
int mlpio_fsutil_drop_path(const char *path, struct mlpio_error *err);

/* Refuse to start writing `needed` bytes under path when its file system has less free space
 * (statvfs f_bavail, what an unprivileged writer may use). path need not exist yet: the nearest
 * existing parent is asked. what names the data in the message ("4 checkpoints"); hint says
 * how to fix it. Returns 0, or -1 with ENOSPC and both figures in err. */
int mlpio_fsutil_check_space(const char *path, uint64_t needed, const char *what, const char *hint,
                             struct mlpio_error *err);

/* Set err's hint for a failed operation on path that ended with errnum. reading tells whether
 * the data was expected to exist already (ENOENT then means it was never written). Returns -1. */
int mlpio_fsutil_hint(struct mlpio_error *err, int errnum, const char *path, bool reading);

/* The category an errno value belongs to: MLPIO_ERR_INTERNAL for resource exhaustion in the
 * process (ENOMEM, EMFILE), MLPIO_ERR_IO otherwise. */
enum mlpio_errcat mlpio_fsutil_category(int errnum);

/* In collective mode (several ranks on one file), whether every rank of comm reached ok; in
 * independent mode, ok itself. A rank that succeeded while another failed gets an error saying
 * so; a failing MPI_Allreduce is reported as an MPI error. Used by the MPI-based backends. */
bool mlpio_fsutil_agree(bool collective, MPI_Comm comm, bool ok, const char *what, const char *path,
                        struct mlpio_error *err);

#endif
