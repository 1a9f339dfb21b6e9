/* mlpio run context: who we are in the MPI job and where output goes.
 *
 * No mutable globals: rank, communicator, verbosity and output streams live here and are
 * passed explicitly, so tests can capture output and run several contexts.
 * Only rank 0 writes to out; per-rank diagnostics go to err prefixed "[rank N]" at debug level.
 */
#ifndef MLPIO_CONTEXT_H
#define MLPIO_CONTEXT_H

#include <mpi.h>
#include <stdio.h>

#include "io/error.h"

enum mlpio_log_level {
    MLPIO_LOG_QUIET = 0,   /* errors and the final verdict only */
    MLPIO_LOG_NORMAL = 1,  /* progress and summary */
    MLPIO_LOG_VERBOSE = 2, /* per-phase details */
    MLPIO_LOG_DEBUG = 3,   /* per-rank diagnostics */
};

struct mlpio_context {
    MPI_Comm comm; /* private duplicate of the job's communicator */
    int rank;
    int size;
    enum mlpio_log_level level;
    FILE *out; /* rank 0's report stream (stdout) */
    FILE *err; /* diagnostics (stderr) */
};

/* Duplicate comm into ctx->comm and fill rank/size. Streams default to stdout/stderr. */
int mlpio_context_init(struct mlpio_context *ctx, MPI_Comm comm, struct mlpio_error *err);
/* Free the duplicated communicator (accepts a zeroed or already finalized ctx). */
void mlpio_context_fini(struct mlpio_context *ctx);

/* Rank 0 prints when level <= ctx->level. */
void mlpio_log(const struct mlpio_context *ctx, enum mlpio_log_level level, const char *fmt, ...)
    MLPIO_PRINTF(3, 4);
/* Any rank, at debug level, to ctx->err as "[rank N] ...". */
void mlpio_log_debug(const struct mlpio_context *ctx, const char *fmt, ...) MLPIO_PRINTF(2, 3);
/* Rank 0 prints an error with its hint to ctx->err ("mlpio: error: ...\n  hint: ..."). */
void mlpio_log_error(const struct mlpio_context *ctx, const struct mlpio_error *e);

/* Collective agreement on success. Every rank passes its own rc (0 or -1) and err.
 * Returns 0 on every rank if all succeeded. Otherwise returns -1 on every rank and every
 * rank's err holds the error of the lowest failing rank, prefixed "rank N: " when N > 0 (rank 0
 * does the single-rank steps, where naming it adds nothing) and not already so prefixed.
 * An MPI failure inside is reported as MLPIO_ERR_INTERNAL. */
int mlpio_context_agree(const struct mlpio_context *ctx, int rc, struct mlpio_error *err);

/* The same agreement, reached without holding a core while the other ranks are late: a blocking
 * MPI collective busy-polls, taking the core from this node's threads (read threads, the other
 * ranks on the node) exactly while they have the most to do. A non-blocking reduction of
 * whether any rank failed is polled without pause for 100 us (ranks that arrive together meet
 * there), then between naps of at most 200 us; only a failure costs the full agreement. For
 * waits on other ranks' I/O, not for timing barriers that must release ranks together. */
int mlpio_context_agree_idle(const struct mlpio_context *ctx, int rc, struct mlpio_error *err);

/* Complete a non-blocking MPI request the same way: polled for 100 us, then between naps of
 * at most 200 us. Returns 0, or -1 with err when MPI_Test fails. */
int mlpio_context_wait_idle(MPI_Request *req, struct mlpio_error *err);

#endif
