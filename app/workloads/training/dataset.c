/* Training dataset: see dataset.h. */
#include "app/workloads/training/dataset.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Domain-separation tags: the shape and shuffle streams of one seed must not coincide. */
#define TAG_SHAPE 0x7368617065000001ull
#define TAG_FILES 0x66696c6573000002ull
#define TAG_SAMPLES 0x73616d706c000003ull
#define GOLDEN 0x9e3779b97f4a7c15ull
#define FEISTEL_ROUNDS 6

/* ---- generator ------------------------------------------------------------------------------ */

/* SplitMix64's output function: a bijection of 64-bit values with good avalanche. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t splitmix_next(uint64_t *state)
{
    *state += GOLDEN;
    return mix(*state);
}

/* A key for (a, b). For a fixed a it is a bijection of b, so distinct files or epochs never
 * share a stream. */
static uint64_t derive(uint64_t a, uint64_t b)
{
    return mix(mix(a) ^ b);
}

/* Uniform in (0, 1]: never 0, so that log() in Box-Muller is finite. */
static double unit_open0(uint64_t x)
{
    return (double)((x >> 11) + 1) * 0x1.0p-53;
}

/* ---- datasize ------------------------------------------------------------------------------- */

static int bad_count(const char *what, long long value, struct mlpio_error *err)
{
    mlpio_error_set(err, MLPIO_ERR_CONFIG, "training dataset: %s must be at least 1, got %lld",
                    what, value);
    return mlpio_error_hint(err, "check the workload definition and the number of ranks");
}

int mlpio_train_datasize(const struct mlpio_train_datasize_rule *rule,
                         const uint64_t *host_mem_bytes, int nhosts, uint64_t declared_bytes,
                         int accelerators, int batch_size, int samples_per_file,
                         double record_length, struct mlpio_train_datasize *out,
                         struct mlpio_error *err)
{
    if (!(rule->memory_multiple > 0) || !isfinite(rule->memory_multiple) || rule->min_steps < 1) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "training dataset: the datasize rule needs a memory multiple above 0 "
                        "and at least 1 step per epoch, got %g and %" PRIu64,
                        rule->memory_multiple, rule->min_steps);
        return mlpio_error_hint(err, "check training.datasize in the rules edition");
    }
    if (nhosts < 1 || !host_mem_bytes)
        return bad_count("the number of hosts", nhosts, err);
    if (accelerators < 1)
        return bad_count("the number of accelerators", accelerators, err);
    if (batch_size < 1)
        return bad_count("reader.batch_size", batch_size, err);
    if (samples_per_file < 1)
        return bad_count("dataset.num_samples_per_file", samples_per_file, err);
    if (!isfinite(record_length) || record_length <= 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "training dataset: dataset.record_length_bytes must be a positive "
                        "number, got %g",
                        record_length);
        return mlpio_error_hint(err, "check the workload definition");
    }

    uint64_t total = 0;
    for (int i = 0; i < nhosts; i++) {
        uint64_t mem = host_mem_bytes[i] > declared_bytes ? host_mem_bytes[i] : declared_bytes;
        if (__builtin_add_overflow(total, mem, &total))
            return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                                   "training dataset: the hosts' memory adds up to more than "
                                   "2^64 bytes");
    }

    /* long double (a 64-bit mantissa) keeps a small integer multiple of the total exact, so the
     * floor is the true one. */
    long double file_bytes = (long double)samples_per_file * (long double)record_length;
    long double files_mem = floorl((long double)rule->memory_multiple * total / file_bytes);
    uint64_t step_samples;
    if (files_mem >= 0x1.0p64L ||
        __builtin_mul_overflow(rule->min_steps, (uint64_t)accelerators, &step_samples) ||
        __builtin_mul_overflow(step_samples, (uint64_t)batch_size, &step_samples))
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "training dataset: the required number of files does not fit in "
                               "64 bits");

    memset(out, 0, sizeof(*out));
    out->memory_multiple = rule->memory_multiple;
    out->min_steps = rule->min_steps;
    out->total_mem_bytes = total;
    out->file_bytes = (double)file_bytes;
    out->files_mem = (uint64_t)files_mem;
    out->files_step = step_samples / (uint64_t)samples_per_file;
    out->num_files_train = out->files_mem > out->files_step ? out->files_mem : out->files_step;
    out->total_disk_bytes = (double)((long double)out->num_files_train * file_bytes);
    if (out->num_files_train > MLPIO_TRAIN_MAX_FILES_PER_FOLDER)
        out->num_subfolders = (out->num_files_train + MLPIO_TRAIN_MAX_FILES_PER_FOLDER - 1) /
                              MLPIO_TRAIN_MAX_FILES_PER_FOLDER;
    return 0;
}

/* ---- record sizes --------------------------------------------------------------------------- */

/* Truncate toward zero as Python's int() does, then clamp to >= 1. */
static int side(double x, uint64_t *out)
{
    if (!(x < 0x1.0p32))
        return -1;
    *out = x < 1 ? 1 : (uint64_t)x;
    return 0;
}

int mlpio_train_file_shape(double record_length, double stdev, double scale, uint64_t seed,
                           uint64_t index, struct mlpio_train_shape *out, struct mlpio_error *err)
{
    if (!isfinite(record_length) || record_length <= 0 || !isfinite(scale) || scale <= 0 ||
        !isfinite(stdev) || stdev < 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "training dataset: record length %g, stdev %g and scale %g must be "
                        "positive (stdev may be 0)",
                        record_length, stdev, scale);
        return mlpio_error_hint(err, "check dataset.record_length_bytes, "
                                     "dataset.record_length_bytes_stdev and --scale");
    }
    double length = record_length * scale;
    double spread = stdev * scale;
    double d = floor(sqrt(length));
    double sigma = spread / 2.0 / sqrt(length);
    double x1 = d, x2 = d;
    if (sigma > 0) {
        uint64_t state = derive(seed ^ TAG_SHAPE, index);
        double u1 = unit_open0(splitmix_next(&state));
        double u2 = unit_open0(splitmix_next(&state));
        double r = sqrt(-2.0 * log(u1));
        x1 = d + sigma * r * cos(2.0 * M_PI * u2);
        x2 = d + sigma * r * sin(2.0 * M_PI * u2);
    }
    struct mlpio_train_shape s;
    if (side(x1, &s.d1) || side(x2, &s.d2))
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "training dataset: record length %g (stdev %g) at scale %g gives "
                               "a sample side beyond 2^32 bytes",
                               record_length, stdev, scale);
    s.sample_bytes = s.d1 * s.d2;
    *out = s;
    return 0;
}

/* ---- names and generation ------------------------------------------------------------------- */

int mlpio_train_file_name(uint64_t index, uint64_t num_files, uint64_t num_subfolders,
                          const char *ext, char *buf, size_t len, struct mlpio_error *err)
{
    char total[24];
    int n;
    if (index >= num_files)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "training dataset: file %" PRIu64 " of %" PRIu64 " does not exist",
                               index, num_files);
    if (!ext || !ext[0] || strchr(ext, '/'))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "training dataset: file extension \"%s\" is empty or holds a /",
                               ext ? ext : "(null)");
    int width = snprintf(total, sizeof(total), "%" PRIu64, num_files);
    if (num_subfolders > 0)
        n = snprintf(buf, len, "train/%" PRIu64 "/img_%0*" PRIu64 "_of_%s.%s",
                     index % num_subfolders, width, index, total, ext);
    else
        n = snprintf(buf, len, "train/img_%0*" PRIu64 "_of_%s.%s", width, index, total, ext);
    if (n < 0 || (size_t)n >= len)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "training dataset: the name of file %" PRIu64
                               " needs %d bytes, the buffer holds %zu",
                               index, n + 1, len);
    return 0;
}

uint64_t mlpio_train_datagen_count(uint64_t num_files, int rank, int ranks)
{
    uint64_t r = (uint64_t)rank, R = (uint64_t)ranks;
    return num_files / R + (r < num_files % R ? 1 : 0);
}

uint64_t mlpio_train_datagen_file(int rank, int ranks, uint64_t k)
{
    return (uint64_t)rank + k * (uint64_t)ranks;
}

int mlpio_train_datagen_owner(uint64_t index, int ranks)
{
    return (int)(index % (uint64_t)ranks);
}

/* ---- keyed permutation ---------------------------------------------------------------------- */

/* A balanced Feistel network on 2*half bits: a bijection for any round function. */
static uint64_t feistel(uint64_t x, unsigned half, uint64_t key)
{
    uint64_t mask = (1ull << half) - 1; /* half <= 32 */
    uint64_t left = x >> half, right = x & mask;
    for (uint64_t round = 0; round < FEISTEL_ROUNDS; round++) {
        uint64_t f = mix(right ^ mix(key + round * GOLDEN)) & mask;
        uint64_t next = left ^ f;
        left = right;
        right = next;
    }
    return (left << half) | right;
}

uint64_t mlpio_train_permute(uint64_t i, uint64_t n, uint64_t key)
{
    if (n <= 1 || i >= n)
        return i;
    unsigned bits = 64u - (unsigned)__builtin_clzll(n - 1);
    unsigned half = (bits + 1) / 2;
    /* Cycle walking: apply the permutation of [0, 2^(2*half)) until the value falls in [0, n).
     * The domain is less than 4n, so fewer than 4 rounds are expected. */
    uint64_t x = i;
    do {
        x = feistel(x, half, key);
    } while (x >= n);
    return x;
}

/* ---- reading -------------------------------------------------------------------------------- */

int mlpio_train_reading_check(const struct mlpio_train_reading *r, struct mlpio_error *err)
{
    uint64_t samples;
    if (r->num_files < 1)
        return bad_count("dataset.num_files_train", 0, err);
    if (r->samples_per_file < 1)
        return bad_count("dataset.num_samples_per_file", 0, err);
    if (r->batch_size < 1)
        return bad_count("reader.batch_size", 0, err);
    if (r->ranks < 1)
        return bad_count("the number of ranks", r->ranks, err);
    if (r->loader != MLPIO_TRAIN_LOADER_PYTORCH && r->loader != MLPIO_TRAIN_LOADER_TENSORFLOW)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "training dataset: unknown data loader %d",
                               (int)r->loader);
    if (__builtin_mul_overflow(r->num_files, (uint64_t)r->samples_per_file, &samples))
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "training dataset: %" PRIu64 " files of %" PRIu32
                               " samples are more than 2^64 samples",
                               r->num_files, r->samples_per_file);
    return 0;
}

uint64_t mlpio_train_steps_per_epoch(const struct mlpio_train_reading *r)
{
    /* floor(floor(a / b) / c) == floor(a / (b * c)) for positive integers. */
    return r->num_files * r->samples_per_file / r->batch_size / (uint64_t)r->ranks;
}

uint64_t mlpio_train_rank_file_count(const struct mlpio_train_reading *r, int rank)
{
    /* Contiguous blocks (the first N % R ranks take one more) and strides have the same sizes. */
    return mlpio_train_datagen_count(r->num_files, rank, r->ranks);
}

/* Position in the epoch's order of the k-th file of rank's share. */
static uint64_t share_position(const struct mlpio_train_reading *r, int rank, uint64_t k)
{
    uint64_t R = (uint64_t)r->ranks, rk = (uint64_t)rank;
    if (r->loader == MLPIO_TRAIN_LOADER_TENSORFLOW)
        return rk + k * R;
    uint64_t base = r->num_files / R, extra = r->num_files % R;
    return rk * base + (rk < extra ? rk : extra) + k;
}

static uint64_t order_to_file(const struct mlpio_train_reading *r, uint64_t epoch, uint64_t pos)
{
    if (!r->file_shuffle)
        return pos;
    return mlpio_train_permute(pos, r->num_files, derive(r->seed ^ TAG_FILES, epoch));
}

uint64_t mlpio_train_rank_file(const struct mlpio_train_reading *r, uint64_t epoch, int rank,
                               uint64_t k)
{
    return order_to_file(r, epoch, share_position(r, rank, k));
}

uint32_t mlpio_train_file_sample(const struct mlpio_train_reading *r, uint64_t epoch, uint64_t file,
                                 uint32_t j)
{
    if (!r->sample_shuffle)
        return j;
    uint64_t key = derive(derive(r->seed ^ TAG_SAMPLES, epoch), file);
    return (uint32_t)mlpio_train_permute(j, r->samples_per_file, key);
}

void mlpio_train_rank_sample(const struct mlpio_train_reading *r, uint64_t epoch, int rank,
                             uint64_t s, uint64_t *file, uint32_t *sample)
{
    uint64_t count = mlpio_train_rank_file_count(r, rank);
    uint64_t spf = r->samples_per_file;
    uint64_t pos;
    if (count == 0) {
        /* Fewer files than ranks: this rank has no share, it reads the epoch's order from
         * position rank % N onwards. */
        pos = ((uint64_t)rank % r->num_files + s / spf) % r->num_files;
    } else {
        uint64_t in_share = s % (count * spf);
        pos = share_position(r, rank, in_share / spf);
    }
    *file = order_to_file(r, epoch, pos);
    *sample = mlpio_train_file_sample(r, epoch, *file, (uint32_t)(s % spf));
}

/* ---- metrics -------------------------------------------------------------------------------- */

int mlpio_train_epoch_metrics(const double *compute, uint64_t steps, uint32_t batch_size,
                              double epoch_seconds, double step0_seconds,
                              struct mlpio_train_epoch_metrics *out, struct mlpio_error *err)
{
    if (!compute || steps < 3 || batch_size < 1) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "training metrics: an epoch of %" PRIu64 " steps of batch %" PRIu32
                        " has no utilisation figure (at least 3 steps are needed)",
                        steps, batch_size);
        return mlpio_error_hint(err, "use more files (dataset.num_files_train) or fewer ranks "
                                     "so that every epoch has at least 3 steps");
    }
    double span = epoch_seconds - step0_seconds;
    if (!isfinite(span) || !(span > 0)) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "training metrics: epoch of %g s is not longer than its first step "
                        "(%g s)",
                        epoch_seconds, step0_seconds);
        return mlpio_error_hint(err, "the timers of this epoch are inconsistent");
    }
    double busy = 0;
    for (uint64_t i = 1; i < steps; i++)
        busy += compute[i];
    out->au_percent = busy / span * 100.0;
    out->throughput = (double)(steps - 2) * batch_size / span;
    return 0;
}

void mlpio_train_combine_ranks(const struct mlpio_train_epoch_metrics *per_rank, int n,
                               struct mlpio_train_epoch_metrics *out)
{
    double au = 0, throughput = 0;
    for (int i = 0; i < n; i++) {
        au += per_rank[i].au_percent;
        throughput += per_rank[i].throughput;
    }
    out->au_percent = n > 0 ? au / n : 0;
    out->throughput = throughput;
}

void mlpio_train_mean_stdev(const double *x, int n, double *mean, double *stdev)
{
    double sum = 0, sq = 0;
    *mean = 0;
    *stdev = 0;
    if (n <= 0)
        return;
    for (int i = 0; i < n; i++)
        sum += x[i];
    *mean = sum / n;
    for (int i = 0; i < n; i++)
        sq += (x[i] - *mean) * (x[i] - *mean);
    *stdev = sqrt(sq / n);
}

double mlpio_train_io_mb_per_second(double throughput, double record_length)
{
    return throughput * record_length / (1024.0 * 1024.0);
}

bool mlpio_train_au_meets(double au_mean_percent, double au_min_fraction)
{
    /* 0.9 * 100 is not exactly 90 in binary: allow for that rounding, nothing more. */
    return au_mean_percent >= au_min_fraction * 100.0 - 1e-9;
}
