/* mlpio latency histograms and phase timers.
 *
 * A fixed-size log-bucket histogram (no per-op arrays): buckets cover 100 ns .. ~3 hours with a
 * few percent relative error. Ranks record locally and merge with ONE MPI_Reduce using a
 * user-defined op, so rank 0's memory never grows with ranks x operations.
 */
#ifndef MLPIO_HISTOGRAM_H
#define MLPIO_HISTOGRAM_H

#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdint.h>

#include "io/error.h"

#define MLPIO_HIST_SUB_BITS 4 /* 16 sub-buckets per power of two: <= 6.25 % bucket width */
#define MLPIO_HIST_BUCKETS 576

struct mlpio_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns; /* UINT64_MAX when empty */
    uint64_t max_ns;
    uint64_t buckets[MLPIO_HIST_BUCKETS];
};

void mlpio_hist_init(struct mlpio_hist *h);
/* Record one latency in seconds (negative is recorded as 0). */
void mlpio_hist_add(struct mlpio_hist *h, double seconds);
void mlpio_hist_merge(struct mlpio_hist *dst, const struct mlpio_hist *src);
/* Collective: merge every rank's local into *out on root (out may be NULL elsewhere). */
int mlpio_hist_reduce(const struct mlpio_hist *local, struct mlpio_hist *out, int root,
                      MPI_Comm comm, struct mlpio_error *err) MLPIO_WUR;
/* The same for n histograms side by side (local[0..n), out[0..n)) in one reduction. */
int mlpio_hist_reduce_n(const struct mlpio_hist *local, struct mlpio_hist *out, int n, int root,
                        MPI_Comm comm, struct mlpio_error *err) MLPIO_WUR;
/* Percentile p in [0, 100] in seconds (0 when empty); within one bucket's width of exact. */
double mlpio_hist_percentile(const struct mlpio_hist *h, double p);
double mlpio_hist_mean(const struct mlpio_hist *h);
/* {"count", "mean", "min", "max", "p50", "p90", "p95", "p99", "p99_9", "p99_99"} in seconds. */
cJSON *mlpio_hist_to_json(const struct mlpio_hist *h);

/* Phase timers of a phase that every rank starts after one barrier: the phase lasts as long as
 * the longest of the ranks' own intervals (stop - start, each by its own clock: hosts' clocks
 * differ, app/clock.h). On root, *gstart is root's start and *gstop that plus the longest
 * interval. */
int mlpio_hist_phase_reduce(double start, double stop, double *gstart, double *gstop, int root,
                            MPI_Comm comm, struct mlpio_error *err) MLPIO_WUR;

/* Mean and sample standard deviation (n-1; 0 when n < 2) of n values. */
void mlpio_hist_mean_stdev(const double *v, int n, double *mean, double *stdev);

#endif
