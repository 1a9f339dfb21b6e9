/* mlpio shared folders: the folders every rank of a job uses must be one folder on every host
 * (a file system every host mounts at the same path). A folder that is a local disk on some
 * host looks like a missing file or directory there, in the middle of the run; this check says
 * it at the start, on every rank, naming the host that does not see it.
 *
 * Rank 0 writes a marker file in the folder (in its nearest existing ancestor when the folder
 * is still to be made), every rank looks for it, rank 0 removes it. The
 * folders checked: the run directory (the results), and the workload's data folder where every
 * rank reads or writes what another made (training's dataset, checkpointing's folder; not the
 * KV cache, whose ranks each keep their own). Collective.
 */
#ifndef MLPIO_SHAREDFS_H
#define MLPIO_SHAREDFS_H

#include "app/run.h"
#include "io/error.h"

int mlpio_run_check_shared(struct mlpio_run *run, struct mlpio_error *err) MLPIO_WUR;

#endif
