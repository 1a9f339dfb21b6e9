/* mlpio latency histograms and phase timers: see histogram.h.
 *
 * Bucket layout (values in nanoseconds): 36 powers of two from 2^7 ns (128 ns) to 2^43 ns
 * (about 2.4 hours), each split into 2^MLPIO_HIST_SUB_BITS equal sub-buckets, so a bucket is at
 * most 1/16 of its lower bound wide. Values below 128 ns share bucket 0 (their error is a few
 * tens of nanoseconds, below what MPI_Wtime resolves on most systems); values from 2^43 ns up
 * share the last bucket. min and max are kept exactly and bound every percentile.
 */
#include "app/histogram.h"

#include <math.h>
#include <string.h>

#define SUB (1u << MLPIO_HIST_SUB_BITS)
#define LOW_EXP 7 /* first power of two with its own sub-buckets */
#define TOP_EXP (LOW_EXP + MLPIO_HIST_BUCKETS / SUB)

_Static_assert(MLPIO_HIST_BUCKETS % SUB == 0, "whole powers of two");
_Static_assert(sizeof(struct mlpio_hist) == (4 + MLPIO_HIST_BUCKETS) * sizeof(uint64_t),
               "reduced as a plain array of uint64");

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int bucket_of(uint64_t ns)
{
    if (ns < (1ull << LOW_EXP))
        return 0;
    if (ns >= (1ull << TOP_EXP))
        return MLPIO_HIST_BUCKETS - 1;
    int e = 63 - __builtin_clzll(ns);
    int sub = (int)((ns >> (e - MLPIO_HIST_SUB_BITS)) & (SUB - 1));
    return (e - LOW_EXP) * (int)SUB + sub;
}

/* [lo, hi) of bucket i in nanoseconds. */
static void bucket_bounds(int i, double *lo, double *hi)
{
    int e = LOW_EXP + i / (int)SUB;
    double width = ldexp(1.0, e - MLPIO_HIST_SUB_BITS);
    *lo = ldexp(1.0, e) + (i % (int)SUB) * width;
    *hi = *lo + width;
    if (i == 0)
        *lo = 0.0;
}

void mlpio_hist_init(struct mlpio_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_ns = UINT64_MAX;
}

void mlpio_hist_add(struct mlpio_hist *h, double seconds)
{
    uint64_t ns;
    double v = seconds * 1e9;
    if (!(v > 0.0)) /* negative, zero and NaN */
        ns = 0;
    else if (v >= 18446744073709551615.0)
        ns = UINT64_MAX; /* a double this large does not convert to uint64 */
    else
        ns = (uint64_t)(v + 0.5);
    h->count++;
    h->sum_ns = sat_add(h->sum_ns, ns);
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    h->buckets[bucket_of(ns)]++;
}

void mlpio_hist_merge(struct mlpio_hist *dst, const struct mlpio_hist *src)
{
    dst->count += src->count;
    dst->sum_ns = sat_add(dst->sum_ns, src->sum_ns);
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    for (int i = 0; i < MLPIO_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

/* MPI_User_function: len elements of the contiguous histogram type. */
static void hist_op(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    for (int i = 0; i < *len; i++)
        mlpio_hist_merge((struct mlpio_hist *)inout + i, (const struct mlpio_hist *)in + i);
}

static int mpi_fail(struct mlpio_error *err, int rc, const char *what)
{
    int cls = 0;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_class(rc, &cls);
    MPI_Error_string(rc, msg, &len);
    mlpio_error_set(err, MLPIO_ERR_INTERNAL, "%s failed: %s", what, msg);
    mlpio_error_cause(err, MLPIO_SRC_MPI, cls);
    return -1;
}

int mlpio_hist_reduce(const struct mlpio_hist *local, struct mlpio_hist *out, int root,
                      MPI_Comm comm, struct mlpio_error *err)
{
    return mlpio_hist_reduce_n(local, out, 1, root, comm, err);
}

int mlpio_hist_reduce_n(const struct mlpio_hist *local, struct mlpio_hist *out, int n, int root,
                        MPI_Comm comm, struct mlpio_error *err)
{
    MPI_Datatype type = MPI_DATATYPE_NULL;
    MPI_Op op = MPI_OP_NULL;
    int rank, rc;

    if ((rc = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Comm_rank");
    if (rank == root && !out)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "histogram reduction: no output histogram on root %d", root);
    rc = MPI_Type_contiguous((int)(sizeof(*local) / sizeof(uint64_t)), MPI_UINT64_T, &type);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(&type);
    if (rc == MPI_SUCCESS)
        rc = MPI_Op_create(hist_op, 1, &op);
    if (rc == MPI_SUCCESS) {
        const void *send = local;
        if (rank == root && out == local)
            send = MPI_IN_PLACE;
        rc = MPI_Reduce(send, rank == root ? out : NULL, n, type, op, root, comm);
    }
    if (op != MPI_OP_NULL)
        MPI_Op_free(&op);
    if (type != MPI_DATATYPE_NULL)
        MPI_Type_free(&type);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, rc, "MPI_Reduce of latency histograms");
}

double mlpio_hist_percentile(const struct mlpio_hist *h, double p)
{
    if (h->count == 0)
        return 0.0;
    if (!(p > 0.0))
        return (double)h->min_ns * 1e-9;
    if (p >= 100.0)
        return (double)h->max_ns * 1e-9;
    /* The value of rank ceil(p% of count) in sorted order (nearest-rank definition). */
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (want < 1)
        want = 1;
    if (want > h->count)
        want = h->count;
    uint64_t seen = 0;
    int i = 0;
    for (; i < MLPIO_HIST_BUCKETS - 1; i++) {
        seen += h->buckets[i];
        if (seen >= want)
            break;
    }
    double lo, hi;
    bucket_bounds(i, &lo, &hi);
    double v = (lo + hi) / 2.0;
    if (v < (double)h->min_ns)
        v = (double)h->min_ns;
    if (v > (double)h->max_ns)
        v = (double)h->max_ns;
    return v * 1e-9;
}

double mlpio_hist_mean(const struct mlpio_hist *h)
{
    return h->count ? (double)h->sum_ns / (double)h->count * 1e-9 : 0.0;
}

cJSON *mlpio_hist_to_json(const struct mlpio_hist *h)
{
    static const struct {
        const char *key;
        double p;
    } pct[] = {{"p50", 50.0}, {"p90", 90.0},   {"p95", 95.0},
               {"p99", 99.0}, {"p99_9", 99.9}, {"p99_99", 99.99}};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = cJSON_AddNumberToObject(o, "count", (double)h->count) != NULL;
    ok = ok && cJSON_AddNumberToObject(o, "mean", mlpio_hist_mean(h)) != NULL;
    ok = ok && cJSON_AddNumberToObject(o, "min", h->count ? (double)h->min_ns * 1e-9 : 0.0) != NULL;
    ok = ok && cJSON_AddNumberToObject(o, "max", (double)h->max_ns * 1e-9) != NULL;
    for (size_t i = 0; ok && i < sizeof(pct) / sizeof(pct[0]); i++)
        ok = cJSON_AddNumberToObject(o, pct[i].key, mlpio_hist_percentile(h, pct[i].p)) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int mlpio_hist_phase_reduce(double start, double stop, double *gstart, double *gstop, int root,
                            MPI_Comm comm, struct mlpio_error *err)
{
    /* Each rank's own interval: clocks of different hosts are never compared. */
    double mine = stop - start, longest = 0;
    int rank, rc;
    if ((rc = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Comm_rank");
    rc = MPI_Reduce(&mine, &longest, 1, MPI_DOUBLE, MPI_MAX, root, comm);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Reduce of phase timers");
    if (rank == root) {
        if (gstart)
            *gstart = start;
        if (gstop)
            *gstop = start + longest;
    }
    return 0;
}

void mlpio_hist_mean_stdev(const double *v, int n, double *mean, double *stdev)
{
    /* Welford's update: no cancellation when values are large and close together. */
    double m = 0.0, m2 = 0.0;
    for (int i = 0; i < n; i++) {
        double d = v[i] - m;
        m += d / (i + 1);
        m2 += d * (v[i] - m);
    }
    if (mean)
        *mean = n > 0 ? m : 0.0;
    if (stdev)
        *stdev = n > 1 ? sqrt(m2 / (n - 1)) : 0.0;
}
