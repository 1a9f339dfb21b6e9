/* mlpio KV-cache traffic: templates, QoS classes, users and the blocks of their requests. */
#include "app/workloads/kvcache/traffic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct mlpio_kv_template mlpio_kv_templates[MLPIO_KV_NTEMPLATES] = {
    {"chatbot", 512, 4096, 50, 200, 0.1, 0.5},
    {"coding", 4096, 25000, 100, 500, 0.2, 1.0},
    {"document", 4096, 16384, 200, 800, 0.3, 1.5},
};

const struct mlpio_kv_qos mlpio_kv_qos_classes[MLPIO_KV_NQOS] = {
    {"interactive", 0.15, {0.050, 0.100, 0.150, 0.200}},
    {"responsive", 0.35, {0.100, 0.200, 0.350, 0.500}},
    {"batch", 0.50, {1.0, 5.0, 7.5, 10.0}},
};

const double mlpio_kv_qos_percentiles[MLPIO_KV_NQOS_TARGETS] = {95.0, 99.0, 99.9, 99.99};

/* Content tags of chained blocks: what distinguishes one block's tokens from another's. */
enum { TAG_SYSTEM = 1, TAG_USER = 2 };

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mlpio_kv_rng_seed(struct mlpio_kv_rng *r, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    r->state = mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

uint64_t mlpio_kv_rng_next(struct mlpio_kv_rng *r)
{
    r->state += 0x9e3779b97f4a7c15ULL;
    return mix64(r->state);
}

double mlpio_kv_rng_uniform(struct mlpio_kv_rng *r, double lo, double hi)
{
    double u = (double)(mlpio_kv_rng_next(r) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

uint32_t mlpio_kv_rng_range(struct mlpio_kv_rng *r, uint32_t lo, uint32_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (uint32_t)(mlpio_kv_rng_next(r) % ((uint64_t)hi - lo + 1));
}

struct mlpio_kv_id mlpio_kv_chain(const struct mlpio_kv_id *prev, uint64_t tag_a, uint64_t tag_b)
{
    uint64_t h = prev ? prev->hi : 0x6d6c70696f6b7663ULL; /* "mlpiokvc" */
    uint64_t l = prev ? prev->lo : 0;
    struct mlpio_kv_id id;
    id.hi = mix64(h ^ mix64(tag_a + 0x9e3779b97f4a7c15ULL) ^ mix64(l + tag_b));
    id.lo = mix64(l ^ mix64(tag_b ^ 0xd1b54a32d192ed03ULL) ^ mix64(h + tag_a));
    return id;
}

void mlpio_kv_user_init(struct mlpio_kv_user *u, const struct mlpio_kv_traffic_config *cfg,
                        uint32_t id)
{
    memset(u, 0, sizeof(*u));
    u->id = id;
    mlpio_kv_rng_seed(&u->rng, cfg->seed, cfg->trial, cfg->rank, id);
    u->template_index = (int)mlpio_kv_rng_range(&u->rng, 0, MLPIO_KV_NTEMPLATES - 1);
    double x = mlpio_kv_rng_uniform(&u->rng, 0.0, 1.0), acc = 0.0;
    u->qos = MLPIO_KV_NQOS - 1;
    for (int q = 0; q < MLPIO_KV_NQOS; q++) {
        acc += mlpio_kv_qos_classes[q].share;
        if (x < acc) {
            u->qos = q;
            break;
        }
    }
    mlpio_kv_conv_init(&u->conv);
}

void mlpio_kv_user_fini(struct mlpio_kv_user *u)
{
    mlpio_kv_conv_fini(&u->conv);
    free(u->pending);
    u->pending = NULL;
    u->npending = u->cap_pending = 0;
}

double mlpio_kv_user_think(struct mlpio_kv_user *u)
{
    const struct mlpio_kv_template *t = &mlpio_kv_templates[u->template_index];
    return mlpio_kv_rng_uniform(&u->rng, t->think_min, t->think_max);
}

static int pending_push(struct mlpio_kv_user *u, struct mlpio_kv_id id, uint32_t depth,
                        uint64_t bytes)
{
    if (u->npending == u->cap_pending) {
        size_t cap = u->cap_pending ? u->cap_pending * 2 : 64;
        struct mlpio_kv_block *b = realloc(u->pending, cap * sizeof(*b));
        if (!b)
            return -1;
        u->pending = b;
        u->cap_pending = cap;
    }
    u->pending[u->npending++] = (struct mlpio_kv_block){.id = id, .depth = depth, .bytes = bytes};
    return 0;
}

/* Split tokens into blocks chained after prev; every block but the last is full. */
static int add_blocks(const struct mlpio_kv_traffic_config *cfg, struct mlpio_kv_user *u,
                      struct mlpio_kv_id prev, bool has_prev, uint32_t depth, uint64_t tokens,
                      uint64_t tag_a, uint64_t tag_b)
{
    uint64_t per_token = cfg->block_bytes / cfg->block_tokens;
    for (uint64_t done = 0, i = 0; done < tokens; i++) {
        uint64_t n = tokens - done < cfg->block_tokens ? tokens - done : cfg->block_tokens;
        struct mlpio_kv_id id = mlpio_kv_chain(has_prev ? &prev : NULL, tag_a, tag_b + i);
        uint64_t bytes = n == cfg->block_tokens ? cfg->block_bytes : n * per_token;
        if (pending_push(u, id, depth++, bytes ? bytes : 1) < 0)
            return -1;
        prev = id;
        has_prev = true;
        done += n;
    }
    return 0;
}

int mlpio_kv_traffic_next(const struct mlpio_kv_traffic_config *cfg, struct mlpio_kv_user *u,
                          struct mlpio_kv_request *req)
{
    const struct mlpio_kv_template *t = &mlpio_kv_templates[u->template_index];
    memset(req, 0, sizeof(*req));
    req->user = u;
    req->system_prompt = -1;
    uint32_t ctx = mlpio_kv_rng_range(&u->rng, t->ctx_min, t->ctx_max);
    req->context_tokens = mlpio_kv_rng_range(&u->rng, ctx / 4, ctx);
    req->generated_tokens = mlpio_kv_rng_range(&u->rng, t->gen_min, t->gen_max);
    uint32_t per_read = cfg->decode_tokens_per_read ? cfg->decode_tokens_per_read : 32;
    req->decode_reads = 1 + (req->generated_tokens + per_read - 1) / per_read;
    double go_on = mlpio_kv_rng_uniform(&u->rng, 0.0, 1.0);
    double prompt_draw = mlpio_kv_rng_uniform(&u->rng, 0.0, 1.0);
    uint32_t prompt =
        cfg->system_prompts ? mlpio_kv_rng_range(&u->rng, 0, cfg->system_prompts - 1) : 0;
    bool cont = cfg->multi_turn && u->turn > 0 && u->conv.n > 0 && u->turn < cfg->max_turns &&
                go_on < cfg->continue_probability &&
                u->conv_tokens + req->context_tokens <= cfg->max_context_tokens;
    u->npending = 0;
    if (!cont) {
        u->conv.n = 0;
        u->conv_tokens = 0;
        u->turn = 0;
        u->conversations++;
        req->new_conversation = true;
        if (cfg->prefix_caching && cfg->system_prompts && cfg->system_prompt_tokens &&
            prompt_draw < cfg->prefix_probability) {
            req->system_prompt = (int)prompt;
            /* Prompt blocks are tagged by the prompt alone, so every user of this rank who
             * starts with it names the same blocks. */
            if (add_blocks(cfg, u, (struct mlpio_kv_id){0, 0}, false, 0, cfg->system_prompt_tokens,
                           TAG_SYSTEM, (uint64_t)prompt << 32) < 0)
                return -1;
            u->conv_tokens += cfg->system_prompt_tokens;
        }
    }
    bool has_prev = u->npending > 0 || u->conv.n > 0;
    struct mlpio_kv_id prev = u->npending ? u->pending[u->npending - 1].id
                              : u->conv.n ? u->conv.blocks[u->conv.n - 1].id
                                          : (struct mlpio_kv_id){0, 0};
    uint32_t depth = (uint32_t)(u->conv.n + u->npending);
    uint64_t tag_b = ((uint64_t)u->conversations << 40) ^ ((uint64_t)u->turn << 20);
    if (add_blocks(cfg, u, prev, has_prev, depth, req->context_tokens,
                   TAG_USER ^ ((uint64_t)u->id << 8), tag_b) < 0)
        return -1;
    u->conv_tokens += req->context_tokens;
    u->turn++;
    req->blocks = u->pending;
    req->nblocks = u->npending;
    return 0;
}
