/* Training data loader: read threads and prefetch, as the frameworks' loaders do.
 *
 * An epoch is an ordered list of files; their samples, concatenated in that order, form the
 * rank's sample stream, cut into batches of batch_samples. Read threads take the next file in
 * order and read it whole through the read callback; the main thread waits for batch b, which
 * is ready once every file holding its samples has been read. A thread does not start a file
 * whose first sample lies beyond the batch being consumed plus prefetch batches, so at most
 * `prefetch` batches are read ahead of the compute. Threads never call MPI.
 */
#ifndef MLPIO_TRAINING_LOADER_H
#define MLPIO_TRAINING_LOADER_H

#include <stdint.h>

#include "io/error.h"

/* Read file `index` of the epoch whole (thread-safe; called from read threads). thread is the
 * reader's number (0..threads-1), to pick a per-thread buffer. */
typedef int (*mlpio_loader_read_fn)(void *arg, int thread, uint32_t index, struct mlpio_error *err);

struct mlpio_loader;

struct mlpio_loader *mlpio_loader_create(int threads, int prefetch, uint64_t batch_samples,
                                         mlpio_loader_read_fn read, void *arg,
                                         struct mlpio_error *err);
/* Stops the threads (after abandoning any epoch); accepts NULL; sets *l to NULL. */
void mlpio_loader_destroy(struct mlpio_loader **l);

/* Begin an epoch of nfiles files holding samples[i] samples each (the array is copied). The
 * loader must be idle (no epoch started, or the last one ended). */
int mlpio_loader_start(struct mlpio_loader *l, uint32_t nfiles, const uint64_t *samples,
                       struct mlpio_error *err);
/* Block until batch b (0-based, taken in order) is loaded; marks earlier batches consumed so
 * reading may advance. Returns -1 with the first read error of the epoch. */
int mlpio_loader_wait(struct mlpio_loader *l, uint64_t b, struct mlpio_error *err);
/* End the epoch: stop handing out files, wait for reads in progress. */
void mlpio_loader_end(struct mlpio_loader *l);

#endif
