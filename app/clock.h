/* mlpio clocks across nodes. Ranks on different hosts read different clocks (MPI_WTIME_IS_GLOBAL
 * is not promised): a phase is timed from a barrier by each rank's own clock, and the phase
 * lasts as long as its slowest rank's own interval (mlpio_hist_phase_reduce), so no time of one
 * host is ever compared with a time of another.
 *
 * What the clocks of the hosts differ by is still measured, for the record: rank 0 plays ping-
 * pong with the first rank of every other host (8 round trips; the one with the shortest round
 * trip gives the offset, the other rank's wall clock minus rank 0's at the middle of the round
 * trip), and the run's metadata holds "clock": {"method", "hosts": [{"hostname", "rank",
 * "offset_seconds", "round_trip_seconds"}]}.
 *
 * Test seam: MLPIO_TEST_CLOCK_SKEW_S=S in a rank's environment adds S seconds to every clock
 * it reads through here (mlpio_wtime, the wall clock of the ping-pong), as a host whose clock
 * is S seconds ahead would.
 */
#ifndef MLPIO_CLOCK_H
#define MLPIO_CLOCK_H

#include <cjson/cJSON.h>
#include <mpi.h>

#include "app/cluster.h"
#include "io/error.h"

/* MPI_Wtime, plus the test seam's skew. For timing on one rank. */
double mlpio_wtime(void);

/* Collective: the offsets of the hosts' clocks against rank 0's. cluster is rank 0's (the
 * other ranks' is not read). *out (rank 0): a new object as above; NULL on the other ranks.
 * 0, or -1 with err (an MPI failure is rank 0's to report; the agreement after says it). */
int mlpio_clock_offsets(MPI_Comm comm, const struct mlpio_cluster *cluster, cJSON **out,
                        struct mlpio_error *err);

#endif
