/* mlpio KV-cache workload (WORKLOADS.md section 3): shared pieces of its files. */
#ifndef MLPIO_KVCACHE_H
#define MLPIO_KVCACHE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "app/run.h"
#include "io/error.h"

#define MLPIO_KV_GIB (1024.0 * 1024.0 * 1024.0)

/* KV bytes per token of the configured model: layers x kv_heads x head_dim x 2 (K, V) x dtype. */
uint64_t mlpio_kvcache_bytes_per_token(const cJSON *config);
/* Bytes of a full block at this run's --scale (at least 1). */
uint64_t mlpio_kvcache_block_bytes(const struct mlpio_run *run);
/* Seconds per generated token of a generation mode ("none", "fast", "realistic"). */
double mlpio_kvcache_generation_seconds(const char *mode);

/* The run command (run.c). */
/* The cache dir exists, is a directory and this user may create files in it (trials.c). */
int mlpio_kvcache_check_cache_dir(const char *dir, struct mlpio_error *err);

int mlpio_kvcache_run(struct mlpio_run *run, struct mlpio_error *err);

#endif
