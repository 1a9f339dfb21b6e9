/* mlpio KV-cache traffic: users, conversations and the KV blocks each request needs.
 *
 * Figures of WORKLOADS.md section 3: three user templates (context / generated tokens, think
 * time), three QoS classes with their latency targets, contexts drawn from uniform(ctx/4, ctx),
 * multi-turn conversations (continue with probability p, up to max_turns) and shared system
 * prompts. A request's context is split into blocks of block_tokens tokens whose ids chain the
 * hash of everything before them, so equal prefixes are equal blocks and a conversation is an
 * append-only list of blocks.
 *
 * Everything is drawn from per-user generators seeded from (seed, trial, rank, user): the same
 * seed replays the same traffic. No I/O, no threads, no MPI.
 */
#ifndef MLPIO_KV_TRAFFIC_H
#define MLPIO_KV_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/workloads/kvcache/tier.h"

enum { MLPIO_KV_NTEMPLATES = 3, MLPIO_KV_NQOS = 3, MLPIO_KV_NQOS_TARGETS = 4 };

struct mlpio_kv_template {
    const char *name;
    uint32_t ctx_min, ctx_max; /* a request's context: uniform(ctx / 4, ctx), ctx drawn here */
    uint32_t gen_min, gen_max;
    double think_min, think_max; /* seconds between a response and the user's next request */
};

struct mlpio_kv_qos {
    const char *name;
    double share;                         /* of users */
    double target[MLPIO_KV_NQOS_TARGETS]; /* seconds at p95, p99, p99.9, p99.99 */
};

extern const struct mlpio_kv_template mlpio_kv_templates[MLPIO_KV_NTEMPLATES];
extern const struct mlpio_kv_qos mlpio_kv_qos_classes[MLPIO_KV_NQOS];
extern const double mlpio_kv_qos_percentiles[MLPIO_KV_NQOS_TARGETS]; /* 95, 99, 99.9, 99.99 */

struct mlpio_kv_traffic_config {
    uint64_t seed;
    uint32_t trial, rank;
    uint32_t block_tokens;
    uint64_t block_bytes; /* bytes of a full block (bytes per token x block_tokens, scaled) */
    bool multi_turn;
    bool prefix_caching;
    double continue_probability;
    uint32_t max_turns;
    double prefix_probability;
    uint32_t system_prompts;
    uint32_t system_prompt_tokens;
    uint64_t max_context_tokens; /* a conversation longer than this starts over */
    uint32_t decode_tokens_per_read;
};

/* Deterministic generator (splitmix64). */
struct mlpio_kv_rng {
    uint64_t state;
};
void mlpio_kv_rng_seed(struct mlpio_kv_rng *r, uint64_t a, uint64_t b, uint64_t c, uint64_t d);
uint64_t mlpio_kv_rng_next(struct mlpio_kv_rng *r);
double mlpio_kv_rng_uniform(struct mlpio_kv_rng *r, double lo, double hi);     /* [lo, hi) */
uint32_t mlpio_kv_rng_range(struct mlpio_kv_rng *r, uint32_t lo, uint32_t hi); /* [lo, hi] */

/* The id of the block after prev (NULL: the first block of a chain) for the given content tag. */
struct mlpio_kv_id mlpio_kv_chain(const struct mlpio_kv_id *prev, uint64_t tag_a, uint64_t tag_b);

struct mlpio_kv_user {
    uint32_t id;
    int template_index;
    int qos;
    struct mlpio_kv_rng rng;
    struct mlpio_kv_conv conv; /* the current conversation's blocks (ids, not data) */
    uint64_t conv_tokens;
    uint32_t turn;                  /* turns taken in the current conversation */
    uint32_t conversations;         /* conversations started */
    struct mlpio_kv_block *pending; /* the next request's new blocks */
    size_t npending, cap_pending;
};

/* One request: what the tier manager must hold before decoding. */
struct mlpio_kv_request {
    struct mlpio_kv_user *user;
    bool new_conversation;
    int system_prompt;       /* index of the shared prompt it starts with, or -1 */
    uint32_t context_tokens; /* new tokens this turn (prompt excluded) */
    uint32_t generated_tokens;
    uint32_t decode_reads;               /* 1 + ceil(generated / decode_tokens_per_read) */
    const struct mlpio_kv_block *blocks; /* new blocks of this turn (user->pending), to append */
    size_t nblocks;
};

/* Users get templates round-robin-free: drawn by their own generator; QoS class by share. */
void mlpio_kv_user_init(struct mlpio_kv_user *u, const struct mlpio_kv_traffic_config *cfg,
                        uint32_t id);
void mlpio_kv_user_fini(struct mlpio_kv_user *u);
/* Seconds the user thinks before the next request. */
double mlpio_kv_user_think(struct mlpio_kv_user *u);
/* Draw the user's next request. A new conversation empties user->conv (the blocks stay in the
 * cache); req->blocks are the blocks this turn adds after user->conv (a shared prompt's blocks
 * first, then the new context), for the caller to append. Returns -1 only when memory runs
 * out. */
int mlpio_kv_traffic_next(const struct mlpio_kv_traffic_config *cfg, struct mlpio_kv_user *u,
                          struct mlpio_kv_request *req);

#endif
