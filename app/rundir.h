/* mlpio run directories: <results>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>/
 * (the layout MLPerf Storage's tools read). A run never reuses an existing directory: the
 * final component is created with mkdir (not -p), and a name already taken (two runs in the
 * same second) moves on to the next second's name. */
#ifndef MLPIO_RUNDIR_H
#define MLPIO_RUNDIR_H

#include <time.h>

#include "io/error.h"

/* Returns the new directory's path (caller frees) and its id in run_id (16 bytes). */
char *mlpio_rundir_create(const char *results_dir, const char *benchmark, const char *model,
                          const char *command, time_t when, char run_id[32],
                          struct mlpio_error *err);

/* The same in parent (created if missing): a submission tree's leaf parent (subtree.h). */
char *mlpio_rundir_create_in(const char *parent, time_t when, char run_id[32],
                             struct mlpio_error *err);

#endif
