/* Training loader: files read once per epoch, batches released only when their samples are
 * read, reads never run further ahead than the prefetch window, errors reach the waiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app/workloads/training/loader.h"

#define MAXF 200

struct harness {
    pthread_mutex_t lock;
    uint64_t first[MAXF + 1];
    int reads[MAXF];
    bool done[MAXF];
    _Atomic uint64_t current; /* the batch the test is about to wait for */
    uint64_t batch;
    int prefetch;
    int fail_at; /* file index whose read fails, or -1 */
    int window_violations;
};

static int read_file(void *arg, int thread, uint32_t i, struct mlpio_error *err)
{
    struct harness *h = arg;
    uint64_t limit = (atomic_load(&h->current) + 1 + (uint64_t)h->prefetch) * h->batch;
    pthread_mutex_lock(&h->lock);
    if (h->first[i] >= limit)
        h->window_violations++;
    h->reads[i]++;
    pthread_mutex_unlock(&h->lock);
    if ((int)i == h->fail_at)
        return mlpio_error_set(err, MLPIO_ERR_IO, "file %u is truncated", i);
    pthread_mutex_lock(&h->lock);
    h->done[i] = true;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static void run_epoch(struct harness *h, struct mlpio_loader *l, uint32_t nfiles,
                      const uint64_t *samples)
{
    struct mlpio_error err = {0};
    memset(h->reads, 0, sizeof(h->reads));
    memset(h->done, 0, sizeof(h->done));
    h->first[0] = 0;
    for (uint32_t i = 0; i < nfiles; i++)
        h->first[i + 1] = h->first[i] + samples[i];
    atomic_store(&h->current, 0);
    assert_int_equal(mlpio_loader_start(l, nfiles, samples, &err), 0);
    uint64_t batches = h->first[nfiles] / h->batch;
    for (uint64_t b = 0; b < batches; b++) {
        atomic_store(&h->current, b);
        assert_int_equal(mlpio_loader_wait(l, b, &err), 0);
        /* Every file holding a sample of batches 0..b is read. */
        pthread_mutex_lock(&h->lock);
        for (uint32_t i = 0; i < nfiles && h->first[i] < (b + 1) * h->batch; i++)
            assert_true(h->done[i]);
        pthread_mutex_unlock(&h->lock);
    }
    mlpio_loader_end(l);
    pthread_mutex_lock(&h->lock);
    for (uint32_t i = 0; i < nfiles; i++)
        assert_true(h->reads[i] <= 1);
    assert_int_equal(h->window_violations, 0);
    pthread_mutex_unlock(&h->lock);
}

static void test_epochs(void **state)
{
    static const struct {
        int threads, prefetch;
        uint64_t batch, per_file;
        uint32_t files;
    } cases[] = {
        {4, 2, 7, 1, 100},     /* unet3d-like: one sample per file */
        {8, 2, 400, 1251, 12}, /* resnet50-like: batches span files */
        {1, 0, 3, 2, 50},      /* no prefetch, one thread */
        {3, 1, 1, 1, 60},      /* cosmoflow-like */
        {2, 2, 1000, 300, 10}, /* batches larger than files */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct harness h = {.batch = cases[c].batch, .prefetch = cases[c].prefetch, .fail_at = -1};
        pthread_mutex_init(&h.lock, NULL);
        struct mlpio_error err = {0};
        struct mlpio_loader *l = mlpio_loader_create(cases[c].threads, cases[c].prefetch,
                                                     cases[c].batch, read_file, &h, &err);
        assert_non_null(l);
        uint64_t samples[MAXF];
        for (uint32_t i = 0; i < cases[c].files; i++)
            samples[i] = cases[c].per_file;
        for (int epoch = 0; epoch < 3; epoch++)
            run_epoch(&h, l, cases[c].files, samples);
        /* Reads stop at the window: without waits beyond batch 0, the last file is unread. */
        atomic_store(&h.current, 0);
        memset(h.done, 0, sizeof(h.done));
        assert_int_equal(mlpio_loader_start(l, cases[c].files, samples, &err), 0);
        assert_int_equal(mlpio_loader_wait(l, 0, &err), 0);
        mlpio_loader_end(l);
        pthread_mutex_lock(&h.lock);
        if (h.first[cases[c].files - 1] >= (1 + (uint64_t)cases[c].prefetch) * cases[c].batch)
            assert_false(h.done[cases[c].files - 1]);
        assert_int_equal(h.window_violations, 0);
        pthread_mutex_unlock(&h.lock);
        mlpio_loader_destroy(&l);
        assert_null(l);
        pthread_mutex_destroy(&h.lock);
    }
}

static void test_error_reaches_waiter(void **state)
{
    struct harness h = {.batch = 2, .prefetch = 2, .fail_at = 5};
    pthread_mutex_init(&h.lock, NULL);
    struct mlpio_error err = {0};
    struct mlpio_loader *l = mlpio_loader_create(3, 2, 2, read_file, &h, &err);
    assert_non_null(l);
    uint64_t samples[20];
    for (int i = 0; i < 20; i++)
        samples[i] = 1;
    for (int i = 0; i <= 20; i++)
        h.first[i] = (uint64_t)i;
    assert_int_equal(mlpio_loader_start(l, 20, samples, &err), 0);
    int rc = 0;
    for (uint64_t b = 0; b < 10 && rc == 0; b++) {
        atomic_store(&h.current, b);
        rc = mlpio_loader_wait(l, b, &err);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "file 5 is truncated"));
    mlpio_loader_end(l);
    /* The loader is usable again after a failed epoch. */
    h.fail_at = -1;
    run_epoch(&h, l, 20, samples);
    mlpio_loader_destroy(&l);
    mlpio_loader_destroy(NULL);
    pthread_mutex_destroy(&h.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_error_reaches_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
