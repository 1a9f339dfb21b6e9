/* mlpio KV-cache engine: one trial of inference traffic against a tier manager, on one rank.
 *
 * The calling thread schedules: it keeps a heap of timed events (a user's next arrival, a
 * request resuming after generation) and hands due requests to a FIFO served by `concurrency`
 * worker threads (the max-concurrent-allocations bound). A request's latency runs from its
 * scheduled arrival (queueing included) to its completion. Requests are state machines:
 * prefill (re-put evicted blocks of the conversation, append the turn's new blocks), then
 * decode reads of the whole conversation, separated by generation sleeps that hold no worker,
 * so sleeping requests never block storage traffic. Users run closed-loop: the next arrival is
 * think time after the previous completion. Arrivals stop at the duration; requests still
 * queued then are counted as unstarted. Requests already started get drain_seconds more to
 * finish (and count when they do); at that deadline the rest stop where they are: between
 * generation sleeps, or in a storage call, before its next block or transfer (the workers'
 * scratch cancel flag), and are counted as unfinished. So a trial lasts at most the duration
 * plus the drain bound plus one storage transfer. The engine makes no MPI calls.
 */
#ifndef MLPIO_KV_ENGINE_H
#define MLPIO_KV_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "app/histogram.h"
#include "app/workloads/kvcache/tier.h"
#include "app/workloads/kvcache/traffic.h"
#include "io/error.h"

struct mlpio_kv_engine_config {
    struct mlpio_kv_traffic_config traffic;
    uint32_t users;
    double duration;                     /* seconds of arrivals */
    double drain_seconds;                /* then at most this long for started requests (>= 0) */
    uint32_t concurrency;                /* worker threads (>= 1) */
    double generation_seconds_per_token; /* none 0, fast 0.002, realistic 0.030 */
    bool (*stop)(void);                  /* polled: true ends the trial early (may be NULL) */
    /* Called by the scheduling thread a few times a second (may be NULL): seconds since the
     * start, requests completed, requests started and not yet finished. */
    void (*progress)(void *arg, double elapsed, uint64_t completed, uint64_t in_flight);
    void *progress_arg;
};

struct mlpio_kv_trial {
    double wall_seconds;  /* from the start to the last completion (at least the duration) */
    double drain_seconds; /* from the end of the duration to the last completion or cut-off */
    bool stopped_early;   /* an error or stop() ended it */
    uint64_t requests_completed;
    uint64_t requests_unstarted; /* arrived before the end, never started */
    uint64_t requests_failed;
    uint64_t requests_abandoned;  /* started, then cut off by an error elsewhere or a stop */
    uint64_t requests_unfinished; /* started, still running at the drain deadline */
    uint64_t prefill_tokens;    /* context tokens of completed requests (shared prompts included) */
    uint64_t decode_tokens;     /* generated tokens of completed requests */
    uint64_t blocks_needed;     /* blocks of the conversations at prefill */
    uint64_t blocks_reused;     /* of those, already in the cache (prefix and earlier turns) */
    uint64_t blocks_recomputed; /* earlier blocks evicted from every tier and put again */
    uint64_t conversations, turns;
    struct mlpio_hist e2e;                /* request latency */
    struct mlpio_hist qos[MLPIO_KV_NQOS]; /* the same per QoS class, with each unfinished
                                             request at its age at the deadline (a lower
                                             bound): a class cannot meet its targets by having
                                             its slowest requests cut off */
    struct mlpio_hist lag;                /* scheduler lateness at each arrival */
    /* The reference model's (refmodel.h; 0 and empty for the block model): the storage time
     * of each completed request (all its reads and writes), summed and as a distribution. */
    double storage_io_seconds;
    struct mlpio_hist storage_request;
    struct mlpio_kv_stats cache; /* tier manager counters at the end */
};

/* Run one trial. On a storage or verification error the trial stops, out holds the figures up
 * to then (stopped_early), and -1 is returned with err from the failing request. */
int mlpio_kv_engine_run(struct mlpio_kv_cache *cache, const struct mlpio_kv_engine_config *cfg,
                        struct mlpio_kv_trial *out, struct mlpio_error *err) MLPIO_WUR;

#endif
