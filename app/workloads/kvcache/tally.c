/* KV-cache job tally (see tally.h). */
#include "app/workloads/kvcache/tally.h"

#include <string.h>

#include "app/context.h"

void mlpio_kv_tally_init(struct mlpio_kv_tally *t, MPI_Comm comm, double every)
{
    memset(t, 0, sizeof(*t));
    t->comm = comm;
    MPI_Comm_size(comm, &t->size);
    t->every = every;
    t->last = -1e300;
    t->req = MPI_REQUEST_NULL;
}

static int start(struct mlpio_kv_tally *t, uint64_t completed, uint64_t in_flight, bool done,
                 struct mlpio_error *err)
{
    t->mine[MLPIO_KV_TALLY_COMPLETED] = completed;
    t->mine[MLPIO_KV_TALLY_IN_FLIGHT] = in_flight;
    t->mine[MLPIO_KV_TALLY_DONE] = done;
    if (MPI_Iallreduce(t->mine, t->sum, MLPIO_KV_TALLY_N, MPI_UINT64_T, MPI_SUM, t->comm,
                       &t->req) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "MPI_Iallreduce of the job's request counts failed");
    t->pending = true;
    t->last = MPI_Wtime();
    return 0;
}

/* Whether the pending reduction has completed (sum then holds it). */
static int test(struct mlpio_kv_tally *t, int *flag, struct mlpio_error *err)
{
    *flag = 0;
    if (!t->pending)
        return 0;
    if (MPI_Test(&t->req, flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "MPI_Test of the job's request counts failed");
    if (*flag) {
        t->pending = false;
        t->have = true;
    }
    return 0;
}

int mlpio_kv_tally_tick(struct mlpio_kv_tally *t, uint64_t completed, uint64_t in_flight,
                        struct mlpio_error *err)
{
    int flag;
    if (test(t, &flag, err) < 0)
        return -1;
    if (!t->pending && MPI_Wtime() - t->last >= t->every)
        return start(t, completed, in_flight, false, err);
    return 0;
}

int mlpio_kv_tally_finish(struct mlpio_kv_tally *t, uint64_t completed, struct mlpio_error *err)
{
    for (;;) {
        if (t->pending) {
            if (mlpio_context_wait_idle(&t->req, err) < 0) {
                mlpio_error_prefix(err, "the job's request counts");
                return -1;
            }
            t->pending = false;
            t->have = true;
        }
        /* Every rank sees the same sums: all stop after the same reduction. */
        if (t->have && t->sum[MLPIO_KV_TALLY_DONE] == (uint64_t)t->size)
            return 0;
        if (start(t, completed, 0, true, err) < 0)
            return -1;
    }
}
