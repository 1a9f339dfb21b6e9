/* mlpio prefill: a generator thread that fills transfer buffers ahead of the writer.
 *
 * While the main thread writes buffer k, the generator fills buffer k+1, so generating unique
 * data (and computing a format's checksums over it) stays off the critical path whenever the
 * node has a spare core (the usual case: a few accelerator ranks on a many-core host). The
 * thread never calls MPI.
 *
 * A stream is a sequence of pieces: a buffer, its length and the file offset it belongs at.
 * start(obj, bytes) streams an object's bytes 0..bytes in chunks of the buffer size. queue(fn)
 * streams whatever fn composes: fn runs on the generator thread, starts in the buffer it is
 * given and hands each filled buffer to the sink, whose put() returns the next buffer (a
 * dataset format's compose does exactly that). Streams are produced in the order they were
 * queued, so the generator can compose the next file while the writer still writes and syncs
 * the current one.
 *
 * The writer takes the current stream's pieces with next(), each valid until the following
 * next(), finish() or stop(); next() returns NULL once the stream has no more. finish() then
 * says whether the stream's producer succeeded and moves on to the next stream. stop()
 * abandons every stream (after a write error) and leaves the queue idle.
 */
#ifndef MLPIO_PREFILL_H
#define MLPIO_PREFILL_H

#include <stddef.h>
#include <stdint.h>

#include "app/datagen.h"
#include "io/error.h"
#include "io/format.h"

/* Streams that may be queued at once (the current one included). */
#define MLPIO_PREFILL_STREAMS 4

/* Composes a stream on the generator thread: fills buf (buflen bytes) and hands it on with
 * sink->put(), which returns the next buffer (NULL when the stream was abandoned: return -1 at
 * once). Returns 0, or -1 with err filled. */
typedef int (*mlpio_prefill_fn)(void *arg, void *buf, size_t buflen,
                                const struct mlpio_format_sink *sink, struct mlpio_error *err);

struct mlpio_prefill;

/* depth buffers (>= 2) of chunk bytes each, aligned for O_DIRECT; the thread starts idle. */
struct mlpio_prefill *mlpio_prefill_create(size_t chunk, int depth, struct mlpio_error *err);
/* Stops the thread and frees everything; accepts NULL and *p == NULL; sets *p to NULL. */
void mlpio_prefill_destroy(struct mlpio_prefill **p);

/* Queue the object's bytes [0, bytes); the queue must be idle (nothing started, or the last
 * stream fully taken with next(), or stopped). */
void mlpio_prefill_start(struct mlpio_prefill *p, const struct mlpio_data_object *obj,
                         uint64_t bytes);
/* Queue a stream composed by fn(arg, ...); arg must stay valid until the stream is finished or
 * stopped. -1 (MLPIO_ERR_INTERNAL) when MLPIO_PREFILL_STREAMS streams are queued already. */
int mlpio_prefill_queue(struct mlpio_prefill *p, mlpio_prefill_fn fn, void *arg,
                        struct mlpio_error *err) MLPIO_WUR;
/* The next piece of the current stream (blocks until it is ready), with its file offset and
 * length; NULL when the stream has no more (or none is queued). */
const void *mlpio_prefill_next(struct mlpio_prefill *p, uint64_t *offset, size_t *len);
/* End the current stream (pieces not taken are dropped) once its producer has returned, and
 * make the next queued stream current. Returns the producer's result: 0, or -1 with its error
 * copied to err. 0 when no stream is queued. */
int mlpio_prefill_finish(struct mlpio_prefill *p, struct mlpio_error *err);
/* Abandon every stream; returns when the generator is idle. */
void mlpio_prefill_stop(struct mlpio_prefill *p);

#endif
