/* mlpio KV-cache trials, see trial.h. */
#include "app/workloads/kvcache/trial.h"

#include <math.h>
#include <string.h>

double mlpio_kv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timespec mlpio_kv_abs_time(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void mlpio_kv_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
}

void mlpio_kv_trial_begin(struct mlpio_kv_trial *out, struct mlpio_kv_ending *e, double duration)
{
    memset(out, 0, sizeof(*out));
    mlpio_hist_init(&out->e2e);
    mlpio_hist_init(&out->lag);
    mlpio_hist_init(&out->storage_request);
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        mlpio_hist_init(&out->qos[q]);
    if (!e)
        return;
    memset(e, 0, sizeof(*e));
    mlpio_hist_init(&e->lag);
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        mlpio_hist_init(&e->cut_qos[q]);
    e->start = mlpio_kv_now();
    e->end = e->start + duration;
}

void mlpio_kv_trial_end(struct mlpio_kv_trial *out, const struct mlpio_kv_ending *e,
                        double duration, bool stopped, struct mlpio_kv_cache *cache)
{
    double t = mlpio_kv_now();
    out->stopped_early = stopped;
    /* Tokens per second divide by wall time: the duration, or longer while the last started
     * requests finish; shorter only when the trial was cut short. */
    out->wall_seconds = t - e->start;
    if (!stopped && out->wall_seconds < duration)
        out->wall_seconds = duration;
    out->drain_seconds = fmax(0, t - e->end);
    out->requests_unstarted = e->unstarted;
    out->requests_failed = e->failed;
    out->requests_abandoned = e->abandoned;
    out->requests_unfinished = e->unfinished;
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        mlpio_hist_merge(&out->qos[q], &e->cut_qos[q]);
    out->turns = e->turns;
    out->conversations = e->conversations;
    out->lag = e->lag;
    mlpio_kv_cache_stats(cache, &out->cache);
}

static struct mlpio_kv_worker *worker_at(void *workers, size_t size, uint32_t i)
{
    return (struct mlpio_kv_worker *)((char *)workers + (size_t)i * size);
}

int mlpio_kv_workers_start(void *workers, size_t size, uint32_t n, struct mlpio_kv_cache *cache,
                           const bool *halt, void *(*fn)(void *), uint32_t *started,
                           struct mlpio_error *err)
{
    for (*started = 0; *started < n; (*started)++) {
        struct mlpio_kv_worker *b = worker_at(workers, size, *started);
        mlpio_hist_init(&b->e2e);
        for (int q = 0; q < MLPIO_KV_NQOS; q++)
            mlpio_hist_init(&b->qos[q]);
        if (mlpio_kv_scratch_init(&b->scratch, cache, err) < 0)
            return -1;
        b->scratch.cancel = halt;
        if (pthread_create(&b->thread, NULL, fn, b) != 0) {
            mlpio_kv_scratch_fini(&b->scratch);
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "cannot start worker thread %u",
                                   *started);
        }
    }
    return 0;
}

void mlpio_kv_workers_join(void *workers, size_t size, uint32_t started, struct mlpio_kv_trial *out)
{
    for (uint32_t i = 0; i < started; i++) {
        struct mlpio_kv_worker *b = worker_at(workers, size, i);
        pthread_join(b->thread, NULL);
        mlpio_kv_scratch_fini(&b->scratch);
        mlpio_hist_merge(&out->e2e, &b->e2e);
        for (int q = 0; q < MLPIO_KV_NQOS; q++)
            mlpio_hist_merge(&out->qos[q], &b->qos[q]);
        out->requests_completed += b->completed;
    }
}
