/* mlpio prefill: a generator thread that fills transfer buffers ahead of the writer.
 *
 * While the main thread writes buffer k, the generator fills buffer k+1, so generating unique
 * data stays off the critical path whenever the node has a spare core (the usual case: a few
 * accelerator ranks on a many-core host). The thread never calls MPI.
 *
 * Use: start(obj, bytes) queues one stream (the object's bytes 0..bytes in chunks of the
 * buffer size); next() returns the chunks in order, each valid until the following next() or
 * stop(); stop() abandons the rest of a stream (after an error) and leaves the queue idle.
 */
#ifndef MLPIO_PREFILL_H
#define MLPIO_PREFILL_H

#include <stddef.h>
#include <stdint.h>

#include "app/datagen.h"
#include "io/error.h"

struct mlpio_prefill;

/* depth buffers (>= 2) of chunk bytes each, aligned for O_DIRECT; the thread starts idle. */
struct mlpio_prefill *mlpio_prefill_create(size_t chunk, int depth, struct mlpio_error *err);
/* Stops the thread and frees everything; accepts NULL and *p == NULL; sets *p to NULL. */
void mlpio_prefill_destroy(struct mlpio_prefill **p);

/* Queue the object's bytes [0, bytes); the queue must be idle (nothing started, or the last
 * stream fully taken with next(), or stopped). */
void mlpio_prefill_start(struct mlpio_prefill *p, const struct mlpio_data_object *obj,
                         uint64_t bytes);
/* The next chunk of the stream (blocks until generated), with its offset and length; NULL
 * when the stream is exhausted. */
const void *mlpio_prefill_next(struct mlpio_prefill *p, uint64_t *offset, size_t *len);
/* Abandon what remains of the stream; returns when the generator is idle. */
void mlpio_prefill_stop(struct mlpio_prefill *p);

#endif
