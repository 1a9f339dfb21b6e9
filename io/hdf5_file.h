/* Parts shared by the hdf5 backend (io/hdf5_backend.c) and the hdf5 dataset format
 * (io/hdf5_format.c); not part of mlpio's API. They follow the io error contract.
 */
#ifndef MLPIO_IO_HDF5_FILE_H
#define MLPIO_IO_HDF5_FILE_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/error.h"
#include "io/io.h"

/* An open file of the hdf5 backend. */
struct mlpio_hdf5_file {
    struct mlpio_io_file base;
    hid_t fid;
    hid_t data;      /* the byte dataset, -1 until the first write or when the file has none */
    hid_t dxpl;      /* transfer properties: collective in collective mode */
    MPI_Comm comm;   /* the communicator the file was opened on (not owned) */
    uint64_t extent; /* length of data (the same on every rank of a collective file) */
};

/* f as a file of the hdf5 backend, or NULL when another backend opened it. */
struct mlpio_hdf5_file *mlpio_hdf5_file_of(struct mlpio_io_file *f);

/* Every use of the HDF5 library happens between enter and leave: HDF5 is not thread-safe
 * here, so enter takes a process-wide lock; it also turns off HDF5's printing of its error
 * stack (library code never prints). leave clears the error stack and releases the lock. */
void mlpio_hdf5_enter(void);
void mlpio_hdf5_leave(void);

/* Open (reading) or create, truncating, the HDF5 file at path with the access properties fapl
 * (-1: fail). On failure -1 with err naming the operation ("<how> open of <path> ...") and a
 * hint. */
hid_t mlpio_hdf5_file_open(const char *path, bool reading, hid_t fapl, const char *how,
                           struct mlpio_error *err);

/* Fill err (category cat) for the operation described by fmt from the HDF5 error stack: the
 * failing call's reason and the innermost one, cause MLPIO_SRC_HDF5 with the major error id.
 * Clears the stack. Returns -1. */
int mlpio_hdf5_fail(struct mlpio_error *err, enum mlpio_errcat cat, const char *fmt, ...)
    MLPIO_PRINTF(3, 4);

/* Fill err for a failed MPI call (return code rc) that did what to path. Returns -1. */
int mlpio_hdf5_mpi_fail(struct mlpio_error *err, int rc, const char *what, const char *path);

/* mlpio_hdf5_agree over the ranks that share hf. */
bool mlpio_hdf5_file_agree(struct mlpio_hdf5_file *hf, bool ok, const char *what,
                           struct mlpio_error *err);

/* Dataset access properties without a raw-data chunk cache, so that reads after drop_cache
 * reach storage. -1 on failure (HDF5 error stack set); close with H5Pclose. */
hid_t mlpio_hdf5_uncached_dapl(void);

#endif
