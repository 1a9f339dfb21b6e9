/* Training dataset: the pure arithmetic of the training workload (WORKLOADS.md section 1).
 *
 * - datasize: how many files a CLOSED dataset needs (5x the clients' memory, and at least 500
 *   steps per epoch);
 * - record sizes: the (d1, d2) shape of every file, drawn from the model's record-length
 *   distribution by a generator keyed on (seed, file index), so that any rank computes any
 *   file's shape without asking anyone;
 * - file names, which rank generates which file, which files a rank reads in an epoch and in
 *   what (seeded) order;
 * - the DLIO v2 metrics (accelerator utilisation, throughput) over plain arrays.
 *
 * Nothing here does I/O, MPI or allocation: every function is a function of its arguments.
 *
 * Random numbers: SplitMix64 (Steele, Lea and Flood 2014) as the generator and as the mixer that
 * derives a stream from a key; normal deviates by the Box-Muller transform. Shuffles are keyed
 * permutations computed index by index (a Feistel network with cycle walking), so that no rank
 * stores the permutation of a million-file dataset to find its share.
 */
#ifndef MLPIO_TRAIN_DATASET_H
#define MLPIO_TRAIN_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/error.h"

/* ---- datasize ------------------------------------------------------------------------------ */

/* More files than this in one directory: spread them over subfolders (MLPerf Storage's limit). */
#define MLPIO_TRAIN_MAX_FILES_PER_FOLDER 10000

/* The figures of the datasize rule, from the rules edition ("training.datasize"): the dataset is
 * at least memory_multiple times the clients' memory, so that it cannot sit in their page cache,
 * and an epoch lasts at least min_steps steps, so that start-up does not dominate. */
struct mlpio_train_datasize_rule {
    double memory_multiple; /* > 0 */
    uint64_t min_steps;     /* >= 1 */
};

struct mlpio_train_datasize {
    double memory_multiple; /* the rule's figures, as judged by */
    uint64_t min_steps;
    uint64_t total_mem_bytes; /* sum over hosts of max(declared, measured) */
    double file_bytes;        /* samples_per_file * record_length (may be fractional) */
    uint64_t files_mem;       /* floor(memory_multiple * total_mem / file_bytes) */
    uint64_t files_step;      /* floor(min_steps * accelerators * batch / samples_per_file) */
    uint64_t num_files_train; /* max(files_mem, files_step) */
    double total_disk_bytes;  /* num_files_train * file_bytes */
    uint64_t num_subfolders;  /* ceil(files / 10000) above 10000 files, else 0 */
};

/* The datasize formula under rule. host_mem_bytes holds the measured memory of each unique host
 * (nhosts >= 1); declared_bytes is the per-host memory the user declared (0: none), which replaces
 * a smaller measurement. record_length is the mean sample size in bytes (already scaled, if the
 * caller scales). Fails (MLPIO_ERR_CONFIG) on a non-positive count, record length or rule figure,
 * or on a result that does not fit in 64 bits. */
int mlpio_train_datasize(const struct mlpio_train_datasize_rule *rule,
                         const uint64_t *host_mem_bytes, int nhosts, uint64_t declared_bytes,
                         int accelerators, int batch_size, int samples_per_file,
                         double record_length, struct mlpio_train_datasize *out,
                         struct mlpio_error *err);

/* ---- record sizes -------------------------------------------------------------------------- */

struct mlpio_train_shape {
    uint64_t d1, d2;       /* each >= 1 */
    uint64_t sample_bytes; /* d1 * d2: every sample of the file has this many bytes */
};

/* Shape of file `index`: with L = scale * record_length and S = scale * stdev,
 * d = floor(sqrt(L)) and d1, d2 ~ Normal(d, S / 2 / sqrt(L)), truncated toward zero as DLIO's
 * int() does, then clamped to >= 1. S = 0 gives exactly d x d. The two normals are one
 * Box-Muller pair from the SplitMix64 stream keyed by (seed, index). Fails (MLPIO_ERR_CONFIG)
 * when record_length or scale is not positive or stdev is negative. */
int mlpio_train_file_shape(double record_length, double stdev, double scale, uint64_t seed,
                           uint64_t index, struct mlpio_train_shape *out, struct mlpio_error *err);

/* ---- names and generation ------------------------------------------------------------------ */

/* Name of file `index` of num_files, relative to the data folder:
 * "train/img_<index zero-padded to the digits of num_files>_of_<num_files>.<ext>", or with
 * subfolders "train/<index % num_subfolders>/img_...". Fails on index >= num_files, an empty
 * extension, or a buffer too small (MLPIO_ERR_INTERNAL, nothing useful in buf). */
int mlpio_train_file_name(uint64_t index, uint64_t num_files, uint64_t num_subfolders,
                          const char *ext, char *buf, size_t len, struct mlpio_error *err);

/* Generation is round-robin: rank r of R writes files r, r + R, r + 2R, ... */
uint64_t mlpio_train_datagen_count(uint64_t num_files, int rank, int ranks);
/* The k-th file rank writes (k < mlpio_train_datagen_count). */
uint64_t mlpio_train_datagen_file(int rank, int ranks, uint64_t k);
/* The rank that writes file index. */
int mlpio_train_datagen_owner(uint64_t index, int ranks);

/* ---- reading ------------------------------------------------------------------------------- */

enum mlpio_train_loader {
    MLPIO_TRAIN_LOADER_PYTORCH,    /* each rank reads a contiguous block of the epoch's files */
    MLPIO_TRAIN_LOADER_TENSORFLOW, /* rank r reads the epoch's files r, r + R, ... */
};

struct mlpio_train_reading {
    uint64_t num_files;
    uint32_t samples_per_file;
    uint32_t batch_size;
    int ranks;
    enum mlpio_train_loader loader;
    bool file_shuffle;   /* the order of files changes every epoch */
    bool sample_shuffle; /* the order of samples inside a file changes every epoch */
    uint64_t seed;
};

/* Check that every count is positive (MLPIO_ERR_CONFIG naming the field otherwise). The
 * functions below assume a checked description and 0 <= rank < ranks. */
int mlpio_train_reading_check(const struct mlpio_train_reading *r, struct mlpio_error *err);

/* floor(samples_per_file * num_files / batch_size / ranks). */
uint64_t mlpio_train_steps_per_epoch(const struct mlpio_train_reading *r);

/* How many files rank reads per epoch (its share; the shares cover every file once). */
uint64_t mlpio_train_rank_file_count(const struct mlpio_train_reading *r, int rank);

/* The k-th file (index into the dataset) rank reads in epoch (k < its file count). The order of
 * the whole dataset in an epoch is a permutation keyed by (seed, epoch) when file_shuffle is
 * set, and 0..N-1 otherwise; ranks take their share of that order. */
uint64_t mlpio_train_rank_file(const struct mlpio_train_reading *r, uint64_t epoch, int rank,
                               uint64_t k);

/* Which sample of `file` is read j-th (j < samples_per_file) in epoch: a permutation keyed by
 * (seed, epoch, file) when sample_shuffle is set, else j. */
uint32_t mlpio_train_file_sample(const struct mlpio_train_reading *r, uint64_t epoch, uint64_t file,
                                 uint32_t j);

/* The s-th sample rank reads in epoch (batch b holds s in [b*batch, (b+1)*batch)): its file and
 * the sample inside it. A rank whose share holds fewer than steps * batch samples (files not
 * divisible by ranks, several samples per file) starts its share again, as a repeating input
 * pipeline does. */
void mlpio_train_rank_sample(const struct mlpio_train_reading *r, uint64_t epoch, int rank,
                             uint64_t s, uint64_t *file, uint32_t *sample);

/* Element i of a permutation of [0, n) keyed by key (i >= n is returned unchanged). Exposed for
 * the tests and for any other seeded order a workload needs. */
uint64_t mlpio_train_permute(uint64_t i, uint64_t n, uint64_t key);

/* ---- metrics ------------------------------------------------------------------------------- */

struct mlpio_train_epoch_metrics {
    double au_percent; /* sum(compute[i], i >= 1) / (epoch - step0) * 100 */
    double throughput; /* (steps - 2) * batch / (epoch - step0), samples per second */
};

/* One rank's epoch, DLIO v2 definitions: compute[i] is the compute (sleep) time of step i,
 * epoch_seconds the epoch's wall time, step0_seconds the wall time of its first step, which both
 * figures leave out. Fails (MLPIO_ERR_CONFIG) with fewer than 3 steps (the throughput formula
 * drops two) or when the epoch is not longer than its first step. */
int mlpio_train_epoch_metrics(const double *compute, uint64_t steps, uint32_t batch_size,
                              double epoch_seconds, double step0_seconds,
                              struct mlpio_train_epoch_metrics *out, struct mlpio_error *err);

/* Across the ranks of one epoch: AU averaged, throughput summed (n >= 1). */
void mlpio_train_combine_ranks(const struct mlpio_train_epoch_metrics *per_rank, int n,
                               struct mlpio_train_epoch_metrics *out);

/* Mean and population standard deviation (numpy's default) of x[0..n-1]; 0 and 0 for n = 0. */
void mlpio_train_mean_stdev(const double *x, int n, double *mean, double *stdev);

/* train_io_mean_MB_per_second: throughput * record_length / 2^20. */
double mlpio_train_io_mb_per_second(double throughput, double record_length);

/* train_au_meet_expectation: mean AU (percent) >= the model's minimum (a fraction, 0.90). */
bool mlpio_train_au_meets(double au_mean_percent, double au_min_fraction);

#endif
