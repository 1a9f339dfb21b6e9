/* KV-cache job tally: the requests of every rank, for rank 0's progress line.
 *
 * A trial's scheduler runs on each rank's main thread (mlpio asks for MPI_THREAD_FUNNELED), so
 * its progress calls may make MPI calls. mlpio_kv_tally_tick starts a non-blocking
 * MPI_Iallreduce(SUM) of this rank's counts at most every `every` seconds, once the previous
 * one has completed (MPI_Test): no rank ever waits for another during a trial, and the sums
 * are at most a tick old. Every rank must start the same number of reductions, so a rank whose
 * trial has ended keeps joining them (mlpio_kv_tally_finish, marked done) until one shows every
 * rank done: that last reduction carries every rank's final counts.
 */
#ifndef MLPIO_KV_TALLY_H
#define MLPIO_KV_TALLY_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/error.h"

enum { MLPIO_KV_TALLY_COMPLETED, MLPIO_KV_TALLY_IN_FLIGHT, MLPIO_KV_TALLY_DONE, MLPIO_KV_TALLY_N };

struct mlpio_kv_tally {
    MPI_Comm comm;
    int size;
    double every, last;
    MPI_Request req;
    bool pending;
    bool have;                       /* sum holds a completed reduction */
    uint64_t mine[MLPIO_KV_TALLY_N]; /* sent by the pending reduction */
    uint64_t sum[MLPIO_KV_TALLY_N];  /* the job's counts: completed, in flight, ranks done */
};

void mlpio_kv_tally_init(struct mlpio_kv_tally *t, MPI_Comm comm, double every);
/* Collects a completed reduction and starts the next when due; never blocks. */
int mlpio_kv_tally_tick(struct mlpio_kv_tally *t, uint64_t completed, uint64_t in_flight,
                        struct mlpio_error *err) MLPIO_WUR;
/* This rank's trial is over (completed: its final count): joins reductions, napping between
 * tests, until every rank is over; then sum holds the job's final counts. Collective. */
int mlpio_kv_tally_finish(struct mlpio_kv_tally *t, uint64_t completed,
                          struct mlpio_error *err) MLPIO_WUR;

#endif
