/* mlpio run context: see context.h. */
#include "app/context.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* mlpio_context_wait_idle: poll without pause this long, then nap between polls, the nap
 * doubling up to a ceiling (which bounds how late a rank sees the others arrive). */
#define IDLE_SPIN_SECONDS 100e-6
#define IDLE_NAP_MIN_NS 20000
#define IDLE_NAP_MAX_NS 200000

int mlpio_context_init(struct mlpio_context *ctx, MPI_Comm comm, struct mlpio_error *err)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->comm = MPI_COMM_NULL;
    ctx->level = MLPIO_LOG_NORMAL;
    ctx->out = stdout;
    ctx->err = stderr;
    /* A private communicator keeps mlpio's collectives apart from any caller's. */
    if (MPI_Comm_dup(comm, &ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Comm_dup failed");
    MPI_Comm_rank(ctx->comm, &ctx->rank);
    MPI_Comm_size(ctx->comm, &ctx->size);
    return 0;
}

void mlpio_context_fini(struct mlpio_context *ctx)
{
    int finalized = 0;
    if (!ctx)
        return;
    MPI_Finalized(&finalized);
    if (!finalized && ctx->comm != MPI_COMM_NULL && ctx->comm != 0)
        MPI_Comm_free(&ctx->comm);
    ctx->comm = MPI_COMM_NULL;
}

void mlpio_log(const struct mlpio_context *ctx, enum mlpio_log_level level, const char *fmt, ...)
{
    if (ctx->rank != 0 || level > ctx->level || !ctx->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ctx->out, fmt, ap);
    va_end(ap);
    fflush(ctx->out);
}

void mlpio_log_debug(const struct mlpio_context *ctx, const char *fmt, ...)
{
    if (ctx->level < MLPIO_LOG_DEBUG || !ctx->err)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines from different ranks from interleaving mid-line. */
    fprintf(ctx->err, "[rank %d] %s\n", ctx->rank, line);
    fflush(ctx->err);
}

/* mpirun forwards a rank's stdout and stderr through two pipes (or a pseudo-terminal) that it
 * reads in no set order: what was printed is flushed and, for a short while at most, waited
 * for until the reader has taken it, so that a message on stderr cannot overtake it. */
static void drain_output(FILE *out)
{
    if (!out)
        return;
    fflush(out);
    int fd = fileno(out);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return;
    if (isatty(fd)) {
        tcdrain(fd);
        return;
    }
    if (!S_ISFIFO(st.st_mode))
        return;
    const struct timespec nap = {0, 1000000};
    for (int i = 0; i < 200; i++) {
        int queued = 0;
        if (ioctl(fd, FIONREAD, &queued) != 0 || queued == 0)
            return;
        nanosleep(&nap, NULL);
    }
}

void mlpio_log_error(const struct mlpio_context *ctx, const struct mlpio_error *e)
{
    if (ctx->rank != 0 || !ctx->err)
        return;
    /* Whatever went to stdout comes first, and the error reaches stderr in one write: under
     * a launcher that merges the streams of many ranks nothing lands inside it. */
    drain_output(ctx->out);
    char text[sizeof(e->message) + sizeof(e->hint) + 32];
    int n = snprintf(text, sizeof(text), "mlpio: error: %s\n",
                     e->message[0] ? e->message : "unknown error");
    if (e->hint[0] && n >= 0 && (size_t)n < sizeof(text))
        snprintf(text + n, sizeof(text) - (size_t)n, "  hint: %s\n", e->hint);
    fputs(text, ctx->err);
    fflush(ctx->err);
}

int mlpio_context_agree(const struct mlpio_context *ctx, int rc, struct mlpio_error *err)
{
    int mine = rc == 0 ? ctx->size : ctx->rank;
    int lowest = ctx->size;
    if (MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Allreduce failed while agreeing");
    if (lowest == ctx->size)
        return 0;
    /* Everyone learns the lowest failing rank's error, so every rank exits the same way. */
    struct mlpio_error shared;
    if (ctx->rank == lowest)
        shared = *err;
    if (MPI_Bcast(&shared, (int)sizeof(shared), MPI_BYTE, lowest, ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Bcast of an error failed");
    *err = shared;
    /* Rank 0 does the single-rank steps (config, run directory): naming it adds nothing. */
    if (lowest > 0 && strncmp(err->message, "rank ", 5) != 0)
        mlpio_error_prefix(err, "rank %d", lowest);
    return -1;
}

int mlpio_context_wait_idle(MPI_Request *req, struct mlpio_error *err)
{
    int done = 0;
    double t0 = MPI_Wtime();
    long nap = IDLE_NAP_MIN_NS;
    while (!done) {
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Test failed while waiting");
        if (!done && MPI_Wtime() - t0 > IDLE_SPIN_SECONDS) {
            nanosleep(&(struct timespec){0, nap}, NULL);
            nap = nap * 2 < IDLE_NAP_MAX_NS ? nap * 2 : IDLE_NAP_MAX_NS;
        }
    }
    return 0;
}

int mlpio_context_agree_idle(const struct mlpio_context *ctx, int rc, struct mlpio_error *err)
{
    if (ctx->size == 1)
        return mlpio_context_agree(ctx, rc, err);
    int failed = rc != 0, any = 0;
    MPI_Request req;
    if (MPI_Iallreduce(&failed, &any, 1, MPI_INT, MPI_MAX, ctx->comm, &req) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Iallreduce failed while agreeing");
    if (mlpio_context_wait_idle(&req, err) < 0)
        return -1;
    /* Only a failure costs the full agreement, which shares the failing rank's error. */
    return any ? mlpio_context_agree(ctx, rc, err) : 0;
}
