/* mlpio KV-cache trials: what the two engines (engine.h, refmodel.h) share, the clock of their
 * schedulers and how a trial's figures begin and end. */
#ifndef MLPIO_KV_TRIAL_H
#define MLPIO_KV_TRIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "app/workloads/kvcache/engine.h"

/* What a scheduler counts outside its workers, the same way in both engines. */
struct mlpio_kv_ending {
    double start, end;   /* CLOCK_MONOTONIC seconds: the trial's start, end of arrivals */
    uint64_t unstarted;  /* queued at the end, never started */
    uint64_t failed;     /* requests that failed */
    uint64_t abandoned;  /* cut off by a stop or another request's error */
    uint64_t unfinished; /* still running at the drain deadline */
    uint64_t turns, conversations;
    struct mlpio_hist lag;                    /* lateness of arrivals */
    struct mlpio_hist cut_qos[MLPIO_KV_NQOS]; /* unfinished requests' age at the deadline */
};

/* The part of a worker thread both engines have; the first member of their workers. */
struct mlpio_kv_worker {
    pthread_t thread;
    struct mlpio_kv_scratch scratch;
    struct mlpio_hist e2e, qos[MLPIO_KV_NQOS]; /* latencies of completed requests */
    uint64_t completed;
};

/* Start n workers of size bytes each (an array at workers, struct mlpio_kv_worker first),
 * each running fn(worker) with a scratch whose cancel flag is halt. *started: how many run
 * (join those). 0, or -1 with err. */
int mlpio_kv_workers_start(void *workers, size_t size, uint32_t n, struct mlpio_kv_cache *cache,
                           const bool *halt, void *(*fn)(void *), uint32_t *started,
                           struct mlpio_error *err);
/* Join them, free their scratch and add their latencies and completions to out. */
void mlpio_kv_workers_join(void *workers, size_t size, uint32_t started,
                           struct mlpio_kv_trial *out);

/* Seconds of CLOCK_MONOTONIC, and the timespec of such a time for a condition variable made
 * with mlpio_kv_cond_init (which waits on that clock). */
double mlpio_kv_now(void);
struct timespec mlpio_kv_abs_time(double t);
void mlpio_kv_cond_init(pthread_cond_t *c);

/* Empty figures, and (e not NULL) an ending that starts now, arrivals for duration seconds. */
void mlpio_kv_trial_begin(struct mlpio_kv_trial *out, struct mlpio_kv_ending *e, double duration);
/* The trial's end into out: wall time (at least the duration unless stopped early), drain
 * time, the scheduler's counts and the cache's figures. */
void mlpio_kv_trial_end(struct mlpio_kv_trial *out, const struct mlpio_kv_ending *e,
                        double duration, bool stopped, struct mlpio_kv_cache *cache);

#endif
