/* Throughput of the data generator on one core, next to memcpy on the same buffer.
 *
 * usage: bench_datagen [MiB [runs]]   (defaults: 64 MiB, 9 runs)
 *
 * Three sizes are timed: the requested buffer (larger than a core's caches, so stores go to
 * memory, as when a workload fills a large write buffer), and 256 KiB and 32 KiB buffers
 * refilled many times (resident in L2 and L1: the generator's own speed). Each run processes
 * the large size in total; each figure is the median of the runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/datagen.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum op { OP_FILL, OP_VERIFY, OP_MEMCPY };

/* Median GB/s of runs timings, each processing total bytes in chunks of len. */
static double measure(enum op op, const struct mlpio_data_object *obj, unsigned char *dst,
                      const unsigned char *src, size_t len, size_t total, int runs, unsigned *sink)
{
    double rates[64];
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (size_t done = 0; done < total; done += len) {
            if (op == OP_FILL) {
                mlpio_data_fill(obj, done, dst, len);
            } else if (op == OP_VERIFY) {
                uint64_t bad = 0;
                if (mlpio_data_verify(obj, 0, src, len, &bad) != 0) {
                    fprintf(stderr, "bench_datagen: verify failed at %" PRIu64 "\n", bad);
                    exit(1);
                }
            } else {
                memcpy(dst, src, len);
            }
            *sink += dst[done % len]; /* keeps the stores observable */
        }
        rates[r] = (double)total / (now() - t0) / 1e9;
    }
    qsort(rates, (size_t)runs, sizeof(rates[0]), cmp_double);
    return rates[runs / 2];
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    int runs = argc > 2 ? atoi(argv[2]) : 9;
    if (mib == 0 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: bench_datagen [MiB>0 [runs 1..64]]\n");
        return 2;
    }
    size_t big = mib << 20;
    unsigned char *a = aligned_alloc(4096, big), *b = aligned_alloc(4096, big);
    if (!a || !b) {
        fprintf(stderr, "bench_datagen: cannot allocate 2 x %zu MiB\n", mib);
        return 1;
    }
    struct mlpio_data_salt salt;
    struct mlpio_data_rank_key key;
    struct mlpio_data_object obj;
    mlpio_data_salt_from_seed(1, &salt);
    mlpio_data_rank_key(&salt, 0, &key);
    mlpio_data_object_init(&obj, &key, "bench");
    /* Touch every page first so page faults are not timed. */
    memset(b, 1, big);
    mlpio_data_fill(&obj, 0, a, big);

    unsigned sink = 0;
    struct {
        const char *name;
        size_t len, total;
    } sizes[] = {
        {"large", big, big},
        {"256KiB", 256u << 10, big},
        {"32KiB", 32u << 10, big},
    };
    printf("%-8s %10s %12s %12s %12s %10s\n", "buffer", "bytes", "fill GB/s", "verify GB/s",
           "memcpy GB/s", "fill/memcpy");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t len = sizes[s].len, total = sizes[s].total;
        double fill = measure(OP_FILL, &obj, b, a, len, total, runs, &sink);
        mlpio_data_fill(&obj, 0, a, len);
        double verify = measure(OP_VERIFY, &obj, b, a, len, total, runs, &sink);
        double copy = measure(OP_MEMCPY, &obj, b, a, len, total, runs, &sink);
        printf("%-8s %10zu %12.2f %12.2f %12.2f %10.2f\n", sizes[s].name, len, fill, verify, copy,
               fill / copy);
    }
    printf("(single thread, median of %d runs, %zu MiB processed per run; sink %u)\n", runs, mib,
           sink & 1);
    free(a);
    free(b);
    return 0;
}
