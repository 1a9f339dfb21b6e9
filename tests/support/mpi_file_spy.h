/* PMPI shims that count what the code under test asks of MPI-IO, to tell a file opened
 * collectively over the whole communicator from one each rank opened alone, and collective
 * transfers from independent ones.
 *
 * This header defines MPI_File_open, MPI_File_write_at_all and MPI_File_read_at_all for the
 * whole program (each passes the call on to its PMPI_ name): include it once, in a test
 * program that wants them. A test resets `seen` before the step it watches.
 */
#ifndef MLPIO_TEST_MPI_FILE_SPY_H
#define MLPIO_TEST_MPI_FILE_SPY_H

#include <mpi.h>

/* A link seam has no channel to the test but a global. */
static struct {
    int open_comm_size; /* ranks in the communicator of the last open */
    int collective_writes, collective_reads;
} seen;

int MPI_File_open(MPI_Comm comm, const char *filename, int amode, MPI_Info info, MPI_File *fh)
{
    MPI_Comm_size(comm, &seen.open_comm_size);
    return PMPI_File_open(comm, filename, amode, info, fh);
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset offset, const void *buf, int count,
                          MPI_Datatype datatype, MPI_Status *status)
{
    seen.collective_writes++;
    return PMPI_File_write_at_all(fh, offset, buf, count, datatype, status);
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset offset, void *buf, int count,
                         MPI_Datatype datatype, MPI_Status *status)
{
    seen.collective_reads++;
    return PMPI_File_read_at_all(fh, offset, buf, count, datatype, status);
}

#endif
