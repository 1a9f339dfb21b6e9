/* mlpio KV-cache reference model: the load and I/O model of MLPerf Storage's KV-cache
 * benchmark (mlcommons/storage kv_cache_benchmark/kv_cache: benchmark.py, cache.py,
 * backends.py, workload.py), run against mlpio's tier manager on one rank.
 *
 * Load (benchmark.py generate_requests): each user draws once its template (chatbot, coding,
 * document), QoS class, context length C, generation length G and think time; then, open
 * loop, it sends a request every think time x U(0.8, 1.2), whether or not the previous one
 * finished. A request's new context is uniform in [C/4, C], its generated tokens in [G/4, G].
 * Before each request a conversation ends with probability 1 - continue_probability, or after
 * max_turns turns. Requests wait in one unbounded queue, interactive first, then by arrival,
 * served by min(users, 500) workers.
 *
 * I/O per request (benchmark.py process_requests): with probability 0.2 a system-prompt hit
 * trims 5, 9 or 6 tokens off the turn (no I/O: the prompt is never stored); then every earlier
 * turn of the conversation is read whole (a turn not stored yet, or evicted, is a miss without
 * I/O); then one object of this turn's tokens is written: 128 bytes (the .npy header) +
 * tokens x bytes per token, at most max_concurrent_allocs writes at once (reads are not
 * bounded); then, when the new context is under 10000 tokens, the object is read whole
 * 1 + ceil(generated / decode_tokens_per_read) times. Placement, eviction, fsync after each
 * write and the page cache dropped before each read are the tier manager's (tier.h), as the
 * reference's cache.py places entries: DRAM tiers first up to their high water, storage
 * behind them.
 *
 * Arrivals stop at the duration and queued requests are dropped (unstarted); requests already
 * started get drain_seconds to finish, as in engine.h. The per-request storage time (the sum
 * of the request's reads and writes, wall time of each call) gives the reference's storage
 * throughput: generated tokens over the summed storage time.
 */
#ifndef MLPIO_KV_REFMODEL_H
#define MLPIO_KV_REFMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "app/workloads/kvcache/engine.h"

/* The reference's own figures (kv_cache_benchmark/kv_cache). */
#define MLPIO_KV_REF_HEADER_BYTES 128         /* .npy v1.0 header of every object (cache.py) */
#define MLPIO_KV_REF_MAX_WORKERS 500          /* benchmark.py run: min(users, 500) */
#define MLPIO_KV_REF_DECODE_MAX_CONTEXT 10000 /* new context at or above: no decode reads */
#define MLPIO_KV_REF_PREFIX_PROBABILITY 0.2   /* prefix_cache.py system_prompt_hit_probability */

/* One completed request's I/O, as the reference would do it. */
struct mlpio_kv_ref_io {
    uint32_t user, conversation, turn; /* turn 1 starts a conversation */
    uint32_t context_tokens;           /* new tokens of the turn, before the prefix trim */
    uint32_t written_tokens;           /* after it */
    uint32_t generated_tokens;
    uint64_t object_bytes;   /* of the one object written */
    uint32_t earlier_reads;  /* earlier turns read (hits) */
    uint32_t earlier_misses; /* earlier turns not found */
    uint32_t decode_reads;   /* reads of the object written */
    uint32_t writes;         /* 1, or 2 when the first decode read missed */
    double arrival_seconds;  /* since the trial's start: when the user sent it */
    double storage_seconds, latency_seconds;
};

struct mlpio_kv_ref_config {
    uint64_t seed;
    uint32_t trial, rank;
    uint32_t users;
    double duration, drain_seconds;
    uint32_t max_concurrent_allocs; /* writes at once (0: unbounded) */
    uint64_t bytes_per_token;
    double scale; /* of each object's bytes (--scale), > 0 */
    double generation_seconds_per_token;
    bool multi_turn, prefix_caching;
    double continue_probability;
    uint32_t max_turns;
    uint32_t decode_tokens_per_read;
    bool (*stop)(void);
    void (*progress)(void *arg, double elapsed, uint64_t completed, uint64_t in_flight);
    void *progress_arg;
    /* Called by a worker after each completed request (may be NULL): what it moved. */
    void (*on_request)(void *arg, const struct mlpio_kv_ref_io *io);
    void *on_request_arg;
};

/* The bytes of an object of tokens tokens. */
uint64_t mlpio_kv_ref_object_bytes(uint64_t tokens, uint64_t bytes_per_token, double scale);

/* Run one trial (figures into out as engine.h describes; blocks_needed counts earlier-turn
 * reads tried, blocks_reused those found, storage_io_seconds and storage_request are set). */
int mlpio_kv_ref_run(struct mlpio_kv_cache *cache, const struct mlpio_kv_ref_config *cfg,
                     struct mlpio_kv_trial *out, struct mlpio_error *err) MLPIO_WUR;

#endif
