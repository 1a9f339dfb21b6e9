/* KV-cache tier manager: the index and the LRU lists (see tier_impl.h).
 *
 * The index is an open-addressing table of entry pointers keyed by the block id (already a
 * hash, mixed once more so that ids differing in a few bits spread), with linear probing and
 * backward-shift deletion. Entries live in fixed chunks, so that a pinned entry's address
 * stays valid while the table grows. Each tier keeps its blocks on an intrusive list in order
 * of last use, stamped by a logical clock that advances once per call.
 */
#include "app/workloads/kvcache/tier_impl.h"

#include <stdlib.h>
#include <string.h>

#define ENTRY_CHUNK 1024
#define VICTIM_SCAN_MAX (KV_VICTIM_CANDIDATES + 64) /* pinned entries skipped on the way */

/* ---- index ---------------------------------------------------------------------------- */

static size_t id_hash(struct mlpio_kv_id id)
{
    uint64_t h = id.lo ^ (id.hi * 0x9e3779b97f4a7c15ull);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (size_t)h;
}

static bool id_equal(struct mlpio_kv_id a, struct mlpio_kv_id b)
{
    return a.hi == b.hi && a.lo == b.lo;
}

struct kv_entry *kv_index_find(const struct mlpio_kv_cache *c, struct mlpio_kv_id id)
{
    for (size_t i = id_hash(id) & c->table_mask;; i = (i + 1) & c->table_mask) {
        struct kv_entry *e = c->table[i];
        if (!e || id_equal(e->id, id))
            return e;
    }
}

static void table_insert(struct kv_entry **table, size_t mask, struct kv_entry *e)
{
    size_t i = id_hash(e->id) & mask;
    while (table[i])
        i = (i + 1) & mask;
    table[i] = e;
}

static int table_grow(struct mlpio_kv_cache *c)
{
    size_t cap = (c->table_mask + 1) * 2;
    struct kv_entry **t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (size_t i = 0; i <= c->table_mask; i++)
        if (c->table[i])
            table_insert(t, cap - 1, c->table[i]);
    free(c->table);
    c->table = t;
    c->table_mask = cap - 1;
    return 0;
}

static struct kv_entry *entry_new(struct mlpio_kv_cache *c)
{
    if (!c->free_entries) {
        struct kv_entry **chunks = realloc(c->chunks, (c->nchunks + 1) * sizeof(*chunks));
        if (!chunks)
            return NULL;
        c->chunks = chunks;
        struct kv_entry *chunk = calloc(ENTRY_CHUNK, sizeof(*chunk));
        if (!chunk)
            return NULL;
        c->chunks[c->nchunks++] = chunk;
        for (size_t i = ENTRY_CHUNK; i-- > 0;) {
            chunk[i].next = c->free_entries;
            c->free_entries = &chunk[i];
        }
    }
    struct kv_entry *e = c->free_entries;
    c->free_entries = e->next;
    memset(e, 0, sizeof(*e));
    return e;
}

/* A new entry for id (not in the index), or NULL on ENOMEM. */
struct kv_entry *kv_index_add(struct mlpio_kv_cache *c, struct mlpio_kv_id id)
{
    /* Keep the load under one half: probes stay short even for unlucky ids. */
    if ((c->count + 1) * 2 > c->table_mask + 1 && table_grow(c) != 0)
        return NULL;
    struct kv_entry *e = entry_new(c);
    if (!e)
        return NULL;
    e->id = id;
    e->tier = MLPIO_KV_NONE;
    e->dst = MLPIO_KV_NONE;
    table_insert(c->table, c->table_mask, e);
    c->count++;
    return e;
}

/* Remove e from the table (backward-shift deletion keeps probe chains whole) and free it. */
void kv_index_remove(struct mlpio_kv_cache *c, struct kv_entry *e)
{
    size_t mask = c->table_mask;
    size_t i = id_hash(e->id) & mask;
    while (c->table[i] != e)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; c->table[j]; j = (j + 1) & mask) {
        size_t home = id_hash(c->table[j]->id) & mask;
        /* Move j back to the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            c->table[i] = c->table[j];
            i = j;
        }
    }
    c->table[i] = NULL;
    c->count--;
    if (e->listed)
        kv_lru_unlink(e);
    e->next = c->free_entries;
    c->free_entries = e;
}

/* ---- LRU ------------------------------------------------------------------------------ */

void kv_lru_unlink(struct kv_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->listed = false;
}

void kv_lru_append(struct mlpio_kv_cache *c, struct kv_entry *e, int tier)
{
    struct kv_entry *head = &c->tier[tier].lru;
    e->prev = head->prev;
    e->next = head;
    head->prev->next = e;
    head->prev = e;
    e->listed = true;
}

void kv_touch(struct mlpio_kv_cache *c, struct kv_entry *e, struct kv_call *k)
{
    if (k->tick == 0)
        k->tick = ++c->clock;
    e->last_access = k->tick;
    e->access_count++;
    if (e->listed) {
        kv_lru_unlink(e);
        kv_lru_append(c, e, e->tier);
    }
}

static bool older(const struct kv_entry *a, const struct kv_entry *b)
{
    if (a->last_access != b->last_access)
        return a->last_access < b->last_access;
    return a->access_count < b->access_count;
}

/* The victim among the first KV_VICTIM_CANDIDATES evictable blocks of tier's list (oldest
 * first): the least recently and least often used, or with MLPIO_KV_EVICT_PREFIX the deepest
 * (the oldest of equal depth), so that the blocks of a shared prefix outlive the
 * continuations that depend on them. NULL when nothing can be evicted now. */
struct kv_entry *kv_choose_victim(struct mlpio_kv_cache *c, int tier)
{
    struct kv_entry *head = &c->tier[tier].lru, *best = NULL;
    bool prefix = c->cfg.eviction == MLPIO_KV_EVICT_PREFIX;
    int seen = 0, visited = 0;
    for (struct kv_entry *e = head->next;
         e != head && seen < KV_VICTIM_CANDIDATES && visited < VICTIM_SCAN_MAX;
         e = e->next, visited++) {
        if (e->state != KV_READY || e->pins)
            continue;
        seen++;
        if (!best || (prefix && e->depth > best->depth) ||
            ((!prefix || e->depth == best->depth) && older(e, best)))
            best = e;
    }
    return best;
}

void kv_used_add(struct mlpio_kv_cache *c, int tier, uint64_t bytes)
{
    struct mlpio_kv_tier_stats *t = &c->stats.tier[tier];
    t->used_bytes += bytes;
    t->blocks++;
    if (t->used_bytes > t->peak_used_bytes)
        t->peak_used_bytes = t->used_bytes;
}

void kv_used_sub(struct mlpio_kv_cache *c, int tier, uint64_t bytes)
{
    struct mlpio_kv_tier_stats *t = &c->stats.tier[tier];
    t->used_bytes -= bytes;
    t->blocks--;
}
