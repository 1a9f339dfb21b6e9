/* mlpio interruption guard: the run's record is finished even when its ranks cannot stop.
 *
 * Launchers end a job in two steps: SIGTERM to every rank, then SIGKILL after a grace period
 * (Open MPI's mpirun: odls_base_sigkill_timeout, 1 s by default; Slurm: KillWait, 30 s by
 * default). mlpio's orderly ending (stop at the next transfer, agree, judge, write the
 * summary, metadata and "finish") needs every rank; one rank stuck in a slow write or a
 * collective would leave metadata "running" and no "finish" when SIGKILL comes. So rank 0
 * starts a guard thread for each run directory: once a signal has arrived, it gives the
 * orderly ending `grace` seconds and then writes the record itself from a copy of the
 * metadata taken when the run directory was made: status "failed", exit code 130 with the
 * signal's name, a summary that says the run was interrupted, and the "exception" and
 * "finish" events. If the orderly ending comes later after all, it rewrites metadata and
 * summary with everything measured; the log keeps the one "finish" the guard wrote.
 *
 * The guard and the main thread share the event log and the record's files through the
 * guard's lock: the main thread takes it around every event and around the final record.
 * The guard makes no MPI call.
 */
#ifndef MLPIO_GUARD_H
#define MLPIO_GUARD_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "app/eventlog.h"
#include "io/error.h"

struct mlpio_guard; /* opaque */

/* Seconds the orderly ending gets before the guard writes the record: well inside the 1 s
 * that Open MPI's mpirun leaves between SIGTERM and SIGKILL. */
#define MLPIO_GUARD_GRACE 0.4

/* Start guarding a run: metadata_path and summary_path are the record's files; metadata is
 * copied; *events is read under the lock each time (the main thread may close the log).
 * Returns NULL with err when the thread cannot start. */
struct mlpio_guard *mlpio_guard_start(const char *metadata_path, const char *summary_path,
                                      const cJSON *metadata, struct mlpio_eventlog **events,
                                      double grace, struct mlpio_error *err) MLPIO_WUR;

/* Around every use of *events and the record's files by the main thread. NULL: no-op. */
void mlpio_guard_lock(struct mlpio_guard *g);
void mlpio_guard_unlock(struct mlpio_guard *g);

/* Under the lock: true once the guard has written the record (and its "finish"). */
bool mlpio_guard_fired(const struct mlpio_guard *g);

/* The main thread has written the record (under the lock): the guard has nothing to do. */
void mlpio_guard_closed(struct mlpio_guard *g);

/* Stop the thread (waiting for a record being written) and free; accepts NULL and *g NULL. */
void mlpio_guard_stop(struct mlpio_guard **g);

#endif
