/* mlpio KV-cache workload (WORKLOADS.md section 3): shared pieces of its files. */
#ifndef MLPIO_KVCACHE_H
#define MLPIO_KVCACHE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/run.h"
#include "io/error.h"

#define MLPIO_KV_GIB (1024.0 * 1024.0 * 1024.0)

/* The workload's settings (run->settings): one member per parameter of the table in kvcache.c,
 * under the key's last component (model.name: model_name). Filled from the config, which holds
 * every key: there are no defaults here. Text members borrow the config's strings. */
struct mlpio_kvcache_settings {
    /* model */
    const char *model_name;
    int64_t num_layers, hidden_size, num_attention_heads, num_kv_heads, dtype_bytes;
    /* kvcache: traffic */
    int64_t num_users;
    double duration, drain_timeout; /* s */
    int64_t trials;
    const char *generation_mode;     /* none|fast|realistic */
    const char *performance_profile; /* latency|throughput */
    const char *io_model;            /* blocks|reference (refmodel.h) */
    int64_t max_concurrent_allocs;
    bool multi_turn, prefix_caching;
    double continue_probability;
    int64_t max_turns;
    double prefix_probability;
    int64_t system_prompts, system_prompt_tokens, max_context_tokens, decode_tokens_per_read;
    /* cache: tiers */
    double gpu_mem_gb, cpu_mem_gb; /* GiB per rank */
    const char *cache_dir;
    double storage_capacity_gb; /* GiB per rank; 0: measured */
    int64_t block_tokens;
    uint64_t page_size;
    const char *layout; /* objects|segments */
    uint64_t segment_size;
    const char *eviction; /* lru|prefix */
    double high_water;
    uint64_t transfer_size;
    bool keep, precondition;
    uint64_t precondition_size;
};

/* Fill s from a validated config through the parameter table (mlpio_params_settings): a key the
 * config lacks is an error naming it. 0, or -1 with err set. */
int mlpio_kvcache_settings_parse(const cJSON *config, struct mlpio_kvcache_settings *s,
                                 struct mlpio_error *err);

/* KV bytes per token of the configured model: layers x kv_heads x head_dim x 2 (K, V) x dtype. */
uint64_t mlpio_kvcache_bytes_per_token(const struct mlpio_kvcache_settings *s);
/* Bytes of a full block at this run's --scale (at least 1). */
uint64_t mlpio_kvcache_block_bytes(const struct mlpio_run *run);
/* Seconds per generated token of a generation mode ("none", "fast", "realistic"). */
double mlpio_kvcache_generation_seconds(const char *mode);

/* The run command (run.c). */
/* The cache dir exists, is a directory and this user may create files in it (trials.c). */
int mlpio_kvcache_check_cache_dir(const char *dir, struct mlpio_error *err);

int mlpio_kvcache_run(struct mlpio_run *run, struct mlpio_error *err);

#endif
