/* KV-cache tier manager: configuration, the lock, queries and the public calls (tier.h).
 *
 * The index and LRU lists live in tier_index.c, data movement in tier_ops.c, storage files in
 * tier_store.c. A call's blocks share one logical time, so that blocks used by one batch are
 * ordered among themselves by their access counts.
 */
#include "app/workloads/kvcache/tier_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TABLE_MIN 1024

static const char *const tier_names[MLPIO_KV_NTIERS] = {"gpu", "cpu", "storage"};

const char *mlpio_kv_tier_name(int tier)
{
    return tier >= 0 && tier < MLPIO_KV_NTIERS ? tier_names[tier] : "none";
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double kv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void kv_lock(struct mlpio_kv_cache *c, struct kv_call *k)
{
    pthread_mutex_lock(&c->lock);
    k->cpu_start = thread_cpu();
}

void kv_unlock(struct mlpio_kv_cache *c, struct kv_call *k)
{
    c->stats.manager_cpu_seconds += thread_cpu() - k->cpu_start;
    pthread_mutex_unlock(&c->lock);
}

void kv_wait(struct mlpio_kv_cache *c, struct kv_call *k)
{
    c->stats.manager_cpu_seconds += thread_cpu() - k->cpu_start;
    c->waiters++;
    pthread_cond_wait(&c->cond, &c->lock);
    c->waiters--;
    k->cpu_start = thread_cpu();
}

void kv_wake(struct mlpio_kv_cache *c)
{
    if (c->waiters)
        pthread_cond_broadcast(&c->cond);
}

void kv_id_hex(struct mlpio_kv_id id, char hex[KV_ID_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[i] = digits[(id.hi >> (60 - 4 * i)) & 15];
        hex[16 + i] = digits[(id.lo >> (60 - 4 * i)) & 15];
    }
    hex[32] = '\0';
}

/* ---- create / destroy ----------------------------------------------------------------- */

static int bad_config(struct mlpio_error *err, const char *field, const char *expected,
                      const char *actual_fmt, double actual, const char *hint)
{
    char actual_text[64];
    snprintf(actual_text, sizeof(actual_text), actual_fmt, actual);
    mlpio_error_set(err, MLPIO_ERR_CONFIG, "KV cache: %s must be %s, got %s", field, expected,
                    actual_text);
    return mlpio_error_hint(err, "%s", hint);
}

static int check_config(const struct mlpio_kv_config *cfg, struct mlpio_error *err)
{
    if (cfg->capacity[MLPIO_KV_STORAGE] == 0)
        return bad_config(err, "the storage capacity", "> 0 bytes", "%.0f", 0,
                          "give the storage tier a capacity (or leave it to 95 % of free space)");
    bool dram = cfg->capacity[MLPIO_KV_GPU] > 0 || cfg->capacity[MLPIO_KV_CPU] > 0;
    if (dram && cfg->page_bytes == 0)
        return bad_config(err, "the DRAM page size", "> 0 bytes when a GPU or CPU tier is set",
                          "%.0f", 0, "set the KV page size, e.g. one block's bytes");
    if (!(cfg->high_water > 0 && cfg->high_water <= 1))
        return bad_config(err, "the high-water mark", "in (0, 1]", "%g", cfg->high_water,
                          "use 0.8: tiers fill to 80 % before demoting");
    if (cfg->eviction != MLPIO_KV_EVICT_LRU && cfg->eviction != MLPIO_KV_EVICT_PREFIX)
        return bad_config(err, "the eviction policy", "lru or prefix", "%.0f", cfg->eviction,
                          "choose lru or prefix");
    if (cfg->layout != MLPIO_KV_LAYOUT_OBJECTS && cfg->layout != MLPIO_KV_LAYOUT_SEGMENTS)
        return bad_config(err, "the storage layout", "objects or segments", "%.0f", cfg->layout,
                          "choose objects or segments");
    if (cfg->transfer_bytes == 0 || cfg->transfer_bytes % MLPIO_IO_ALIGN != 0)
        return bad_config(err, "the storage transfer size", "a positive multiple of 4096 bytes",
                          "%.0f", (double)cfg->transfer_bytes,
                          "use a multiple of 4 KiB, e.g. 1 MiB, so that O_DIRECT works");
    if (!cfg->dir || !*cfg->dir || strlen(cfg->dir) > PATH_MAX - 64) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "KV cache: the storage folder must be a path of 1 to %d characters, got "
                        "%zu",
                        PATH_MAX - 64, cfg->dir ? strlen(cfg->dir) : 0);
        return mlpio_error_hint(err, "give the KV cache a folder on the storage under test");
    }
    const struct mlpio_io_backend *be = cfg->backend;
    if (!be) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "KV cache: no storage backend given");
        return mlpio_error_hint(err, "choose a backend: one of %s", mlpio_io_choices());
    }
    if (!(be->caps & MLPIO_IO_CAP_THREADS)) {
        char can[128];
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "KV cache: backend %s cannot be used from several threads, as the KV "
                        "cache does",
                        be->name);
        return mlpio_error_hint(
            err, "use the %s backend for the KV cache",
            mlpio_io_names(MLPIO_IO_CAP_THREADS, ", ", " or ", can, sizeof(can)));
    }
    if (cfg->io_options.collective) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "KV cache: collective I/O is not possible, each rank keeps its own blocks");
        return mlpio_error_hint(err, "turn collective I/O off for the KV cache");
    }
    if (mlpio_io_check(be, &cfg->io_options, err) < 0) {
        err->category = MLPIO_ERR_CONFIG;
        return mlpio_error_prefix(err, "KV cache");
    }
    return 0;
}

int mlpio_kv_scratch_init(struct mlpio_kv_scratch *s, const struct mlpio_kv_cache *c,
                          struct mlpio_error *err)
{
    s->len = c->cfg.transfer_bytes;
    s->cancel = NULL;
    s->buf = mlpio_io_buffer_alloc(s->len);
    if (!s->buf) {
        s->len = 0;
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "KV cache: allocating a %zu-byte transfer buffer",
                                 c->cfg.transfer_bytes);
    }
    return 0;
}

void mlpio_kv_scratch_fini(struct mlpio_kv_scratch *s)
{
    if (!s)
        return;
    mlpio_io_buffer_free(s->buf);
    s->buf = NULL;
    s->len = 0;
}

static void cache_free(struct mlpio_kv_cache *c)
{
    /* Scattered DRAM allocations own their run lists. */
    for (size_t i = 0; c->table && i <= c->table_mask; i++) {
        struct kv_entry *e = c->table[i];
        if (e && (e->tier == MLPIO_KV_GPU || e->tier == MLPIO_KV_CPU))
            free(e->loc.alloc.more);
    }
    for (int t = 0; t < MLPIO_KV_STORAGE; t++)
        mlpio_kv_pages_fini(&c->tier[t].pages);
    for (size_t i = 0; i < c->nchunks; i++)
        free(c->chunks[i]);
    free(c->chunks);
    free(c->table);
    free(c->segs);
    free(c->seg_deletes);
    for (struct kv_slot *s = c->all_slots, *next; s; s = next) {
        next = s->next_all;
        free(s);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c->dir);
    free(c);
}

int mlpio_kv_cache_create(const struct mlpio_kv_config *cfg, struct mlpio_kv_cache **out,
                          struct mlpio_error *err)
{
    *out = NULL;
    if (check_config(cfg, err) != 0)
        return -1;
    struct mlpio_kv_cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->dir = strdup(cfg->dir)) || !(c->table = calloc(TABLE_MIN, sizeof(*c->table)))) {
        if (c)
            free(c->dir);
        free(c);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "KV cache: creating the index");
    }
    c->table_mask = TABLE_MIN - 1;
    c->cfg = *cfg;
    c->cfg.dir = c->dir;
    if (c->cfg.layout == MLPIO_KV_LAYOUT_SEGMENTS && c->cfg.segment_bytes == 0) {
        /* Small enough that a few open segments never hold most of a small storage tier. */
        uint64_t seg = cfg->capacity[MLPIO_KV_STORAGE] / 16 & ~(uint64_t)(MLPIO_IO_ALIGN - 1);
        c->cfg.segment_bytes = seg < MLPIO_IO_ALIGN       ? MLPIO_IO_ALIGN
                               : seg > KV_SEGMENT_DEFAULT ? KV_SEGMENT_DEFAULT
                                                          : seg;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->fastest = MLPIO_KV_NONE;
    for (int t = 0; t < MLPIO_KV_NTIERS; t++) {
        struct kv_tier *T = &c->tier[t];
        T->lru.prev = T->lru.next = &T->lru;
        mlpio_hist_init(&c->stats.tier[t].read_latency);
        mlpio_hist_init(&c->stats.tier[t].write_latency);
        if (t == MLPIO_KV_STORAGE) {
            T->present = true;
            c->stats.tier[t].capacity_bytes = cfg->capacity[t];
            continue;
        }
        if (cfg->capacity[t] == 0)
            continue;
        if (mlpio_kv_pages_init(&T->pages, cfg->capacity[t], cfg->page_bytes) != 0) {
            mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                              "KV cache: mapping %" PRIu64 " bytes for the %s tier",
                              cfg->capacity[t], tier_names[t]);
            mlpio_error_hint(err, "lower the %s tier's budget", tier_names[t]);
            cache_free(c);
            return -1;
        }
        uint64_t cap = mlpio_kv_pages_capacity_bytes(&T->pages);
        if (cap == 0)
            continue; /* less than a page: a tier that can hold nothing is absent */
        T->present = true;
        T->high_water = (uint64_t)((double)cap * cfg->high_water);
        c->stats.tier[t].capacity_bytes = cap;
        if (c->fastest == MLPIO_KV_NONE)
            c->fastest = t;
    }
    /* Whether the folder is ours to remove later (only real storage has folders). */
    struct stat st;
    c->dir_made = (cfg->backend->caps & MLPIO_IO_CAP_STORAGE) && stat(c->dir, &st) != 0;
    if (mlpio_io_mkdirs(cfg->backend, c->dir, err) != 0) {
        mlpio_error_prefix(err, "KV cache storage folder: ");
        mlpio_error_hint(err, "choose a writable folder for the KV cache's storage tier");
        cache_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int mlpio_kv_cache_destroy(struct mlpio_kv_cache **pc, bool remove_objects, struct mlpio_error *err)
{
    if (!pc || !*pc)
        return 0;
    struct mlpio_kv_cache *c = *pc;
    *pc = NULL;
    int rc = kv_store_remove_all(c, remove_objects, err);
    cache_free(c);
    return rc;
}

/* ---- queries -------------------------------------------------------------------------- */

static bool present_locked(const struct mlpio_kv_cache *c, struct mlpio_kv_id id)
{
    const struct kv_entry *e = kv_index_find(c, id);
    return e && e->state != KV_REMOVING;
}

bool mlpio_kv_exists(struct mlpio_kv_cache *c, struct mlpio_kv_id id)
{
    struct kv_call k = {0};
    kv_lock(c, &k);
    bool found = present_locked(c, id);
    kv_unlock(c, &k);
    return found;
}

void mlpio_kv_exists_batch(struct mlpio_kv_cache *c, const struct mlpio_kv_id *ids, size_t n,
                           bool *out)
{
    struct kv_call k = {0};
    kv_lock(c, &k);
    for (size_t i = 0; i < n; i++)
        out[i] = present_locked(c, ids[i]);
    kv_unlock(c, &k);
}

size_t mlpio_kv_prefix_length(struct mlpio_kv_cache *c, const struct mlpio_kv_id *ids, size_t n)
{
    struct kv_call k = {0};
    size_t i = 0;
    kv_lock(c, &k);
    while (i < n && present_locked(c, ids[i]))
        i++;
    kv_unlock(c, &k);
    return i;
}

int mlpio_kv_where(struct mlpio_kv_cache *c, struct mlpio_kv_id id)
{
    struct kv_call k = {0};
    kv_lock(c, &k);
    const struct kv_entry *e = kv_index_find(c, id);
    int tier = e && e->state != KV_REMOVING ? e->tier : MLPIO_KV_NONE;
    kv_unlock(c, &k);
    return tier;
}

void mlpio_kv_cache_stats(struct mlpio_kv_cache *c, struct mlpio_kv_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

void mlpio_kv_cache_stats_reset(struct mlpio_kv_cache *c)
{
    pthread_mutex_lock(&c->lock);
    struct mlpio_kv_stats fresh;
    memset(&fresh, 0, sizeof(fresh));
    for (int t = 0; t < MLPIO_KV_NTIERS; t++) {
        const struct mlpio_kv_tier_stats *old = &c->stats.tier[t];
        struct mlpio_kv_tier_stats *n = &fresh.tier[t];
        n->capacity_bytes = old->capacity_bytes;
        n->used_bytes = n->peak_used_bytes = old->used_bytes;
        n->blocks = old->blocks;
        mlpio_hist_init(&n->read_latency);
        mlpio_hist_init(&n->write_latency);
    }
    c->stats = fresh;
    pthread_mutex_unlock(&c->lock);
}

const char *mlpio_kv_cache_policy(const struct mlpio_kv_cache *c)
{
    if (c->cfg.io_options.odirect)
        return "odirect";
    return c->cfg.backend->caps & MLPIO_IO_CAP_DROP_CACHE ? "fadvise" : "none";
}

int mlpio_kv_object_path(const struct mlpio_kv_cache *c, struct mlpio_kv_id id, char *buf,
                         size_t len)
{
    union kv_loc loc = {0};
    if (c->cfg.layout == MLPIO_KV_LAYOUT_SEGMENTS) {
        /* The lock is not part of the cache's logical state. */
        struct mlpio_kv_cache *mc = (struct mlpio_kv_cache *)c;
        pthread_mutex_lock(&mc->lock);
        const struct kv_entry *e = kv_index_find(c, id);
        bool stored = e && e->state != KV_REMOVING && e->tier == MLPIO_KV_STORAGE;
        if (stored)
            loc = e->loc;
        pthread_mutex_unlock(&mc->lock);
        if (!stored)
            return -1;
    }
    char path[PATH_MAX];
    kv_store_path(c, id, &loc, path, sizeof(path));
    if (strlen(path) >= len)
        return -1;
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

/* ---- single, batch and conversation calls --------------------------------------------- */

static void result_add(struct mlpio_kv_result *sum, const struct mlpio_kv_result *one, size_t i)
{
    if (one->tier > sum->tier)
        sum->tier = one->tier;
    sum->already_exists = (i == 0 || sum->already_exists) && one->already_exists;
    sum->bytes_moved += one->bytes_moved;
    sum->storage_bytes_read += one->storage_bytes_read;
    sum->storage_bytes_written += one->storage_bytes_written;
    sum->storage_seconds += one->storage_seconds;
}

typedef int (*one_fn)(struct mlpio_kv_cache *, struct mlpio_kv_scratch *,
                      const struct mlpio_kv_block *, struct kv_call *, struct mlpio_error *);

int kv_cancel_error(struct mlpio_error *err)
{
    return mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "KV cache: call cancelled by its caller");
}

/* Each block in order, all stamped with one logical time; stops at the first error or when
 * cancelled. *done says how many blocks completed. */
static int run_batch(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                     const struct mlpio_kv_block *b, size_t n, struct mlpio_kv_result *res,
                     one_fn fn, size_t *done, struct mlpio_error *err)
{
    struct mlpio_kv_result sum = {.tier = MLPIO_KV_NONE};
    struct kv_call k = {0};
    int rc = 0;
    size_t i = 0;
    for (; i < n && rc == 0; i++) {
        if (kv_cancelled(s)) {
            rc = kv_cancel_error(err);
            break;
        }
        struct mlpio_kv_result one = {.tier = MLPIO_KV_NONE};
        k.res = &one;
        rc = fn(c, s, &b[i], &k, err);
        result_add(&sum, &one, i);
        if (rc != 0)
            break;
    }
    if (done)
        *done = i;
    if (res)
        *res = sum;
    return rc;
}

int mlpio_kv_put(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                 const struct mlpio_kv_block *b, struct mlpio_kv_result *res,
                 struct mlpio_error *err)
{
    return run_batch(c, s, b, 1, res, kv_put_one, NULL, err);
}

int mlpio_kv_get(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                 const struct mlpio_kv_block *b, struct mlpio_kv_result *res,
                 struct mlpio_error *err)
{
    return run_batch(c, s, b, 1, res, kv_get_one, NULL, err);
}

int mlpio_kv_put_batch(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                       const struct mlpio_kv_block *b, size_t n, struct mlpio_kv_result *res,
                       struct mlpio_error *err)
{
    return run_batch(c, s, b, n, res, kv_put_one, NULL, err);
}

int mlpio_kv_get_batch(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                       const struct mlpio_kv_block *b, size_t n, struct mlpio_kv_result *res,
                       struct mlpio_error *err)
{
    return run_batch(c, s, b, n, res, kv_get_one, NULL, err);
}

void mlpio_kv_conv_init(struct mlpio_kv_conv *v)
{
    memset(v, 0, sizeof(*v));
}

void mlpio_kv_conv_fini(struct mlpio_kv_conv *v)
{
    if (!v)
        return;
    free(v->blocks);
    memset(v, 0, sizeof(*v));
}

int mlpio_kv_conv_append(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                         struct mlpio_kv_conv *v, const struct mlpio_kv_block *b, size_t n,
                         struct mlpio_kv_result *res, struct mlpio_error *err)
{
    /* Room first, so that a failed allocation leaves the cache untouched. */
    if (v->n + n > v->cap) {
        size_t cap = v->cap ? v->cap : 16;
        while (cap < v->n + n)
            cap *= 2;
        struct mlpio_kv_block *blocks = realloc(v->blocks, cap * sizeof(*blocks));
        if (!blocks)
            return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                     "KV cache: growing a conversation to %zu blocks", cap);
        v->blocks = blocks;
        v->cap = cap;
    }
    size_t done = 0;
    int rc = run_batch(c, s, b, n, res, kv_put_one, &done, err);
    /* done stops before a block whose put failed: that block is not part of the conversation. */
    memcpy(v->blocks + v->n, b, done * sizeof(*b));
    v->n += done;
    return rc;
}

int mlpio_kv_conv_read(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s,
                       const struct mlpio_kv_conv *v, struct mlpio_kv_result *res,
                       struct mlpio_error *err)
{
    return run_batch(c, s, v->blocks, v->n, res, kv_get_one, NULL, err);
}
