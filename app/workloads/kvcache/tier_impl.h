/* Internals of the KV-cache tier manager, shared by tier.c (configuration, lock, public calls),
 * tier_index.c (index, LRU lists), tier_ops.c (put, get, demotion) and tier_store.c (the
 * storage tier's files). Not a public API.
 *
 * Locking: c->lock guards everything here except what a thread owns while an entry is pinned
 * (state WRITING or MOVING, or pins > 0): the entry's id, bytes, depth and locations stay fixed
 * then, so the data movement reads them without the lock. A segment slot belongs to the one
 * thread that took it until it gives it back.
 */
#ifndef MLPIO_KV_TIER_IMPL_H
#define MLPIO_KV_TIER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/workloads/kvcache/pages.h"
#include "app/workloads/kvcache/tier.h"

#define KV_VICTIM_CANDIDATES 16 /* how many of the least recently used a victim is chosen from */
#define KV_RECORD_HEADER 4096   /* a segment record's header, padded so the data stays aligned */
#define KV_SEGMENT_DEFAULT ((uint64_t)256 << 20)
#define KV_ID_HEX 33 /* 32 hex digits and NUL */

enum kv_state {
    KV_WRITING,  /* first put in progress: not readable yet; gets wait for it */
    KV_READY,    /* readable at tier, may be chosen as a victim when pins == 0 */
    KV_MOVING,   /* readable at tier while being copied to dst (demotion or promotion) */
    KV_REMOVING, /* evicted from storage, its file not yet removed: absent to gets, puts wait */
};

/* Where a tier holds a block: pages of a DRAM tier, or a storage record (SEGMENTS; OBJECTS
 * needs nothing, the path follows from the id). */
union kv_loc {
    struct mlpio_kv_alloc alloc;
    struct {
        uint64_t off;
        uint32_t seg;
        uint32_t crc; /* CRC-32C of the data, as in the record header */
    } rec;
};

struct kv_entry {
    struct mlpio_kv_id id;
    uint64_t bytes;
    uint64_t last_access; /* logical clock of the last call that used it */
    uint32_t access_count;
    uint32_t depth;
    uint32_t pins; /* readers copying from tier right now */
    int8_t tier;   /* where it is readable (WRITING: where it goes) */
    int8_t dst;    /* MOVING: where it goes */
    uint8_t state;
    bool listed;                  /* on tier's LRU list */
    struct kv_entry *prev, *next; /* LRU list of tier; next also links free and removal lists */
    union kv_loc loc, dst_loc;
};

struct kv_tier {
    bool present;
    struct mlpio_kv_pages pages; /* GPU and CPU */
    struct kv_entry lru;         /* sentinel: lru.next is the least recently used */
    uint64_t leaving;            /* DRAM bytes (whole pages) of blocks being demoted out */
    uint64_t high_water;         /* DRAM: bytes of pages above which demotion starts */
};

struct kv_segment {
    uint64_t size;  /* bytes appended (live and dead records) */
    uint32_t live;  /* records not dead (being written counts) */
    bool appending; /* held by a slot: more records may come */
    bool gone;      /* file removed (or never created) */
};

/* An append point: one open segment, written by one thread at a time. */
struct kv_slot {
    struct kv_slot *next_free, *next_all;
    struct mlpio_io_file *file; /* NULL until the holder opens the segment */
    uint32_t seg;
    bool has_seg;
    struct mlpio_io_file *retired; /* previous segment's file, closed by the next holder */
};

struct mlpio_kv_cache {
    struct mlpio_kv_config cfg; /* cfg.dir points to dir */
    char *dir;
    int fastest; /* fastest present tier */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint32_t waiters;
    uint64_t clock;
    struct kv_tier tier[MLPIO_KV_NTIERS];
    struct mlpio_kv_stats stats;

    /* Index: open addressing with linear probing over entry pointers; entries live in
     * fixed chunks so that their addresses never change. */
    struct kv_entry **table;
    size_t table_mask, count;
    struct kv_entry **chunks;
    size_t nchunks;
    struct kv_entry *free_entries;

    /* Storage. */
    uint64_t store_bytes;      /* footprint on storage: object bytes, or segment bytes */
    struct kv_entry *removals; /* KV_REMOVING entries whose files still exist */
    bool dir_made;             /* dir did not exist before create */
    uint8_t subdir[256];       /* OBJECTS: 0 not yet, 1 made here, 2 existed */
    struct kv_segment *segs;
    uint32_t nsegs, segs_cap;
    uint32_t *seg_deletes; /* segments to remove (no live record, no longer appended) */
    uint32_t ndeletes, deletes_cap;
    struct kv_slot *free_slots, *all_slots;
};

/* One public call: its logical time, what it did, and the thread CPU time of its locked work. */
struct kv_call {
    uint64_t tick;
    double cpu_start;
    struct mlpio_kv_result *res;
};

/* A block being stored, read or moved: what tier.c hands to tier_store.c. */
struct kv_io {
    struct mlpio_kv_id id;
    uint64_t bytes;
    uint32_t depth;
    union kv_loc loc; /* storage record (SEGMENTS) */
    const struct mlpio_data_object *obj;
    const struct mlpio_kv_pages *pages; /* NULL: the bytes come from / go to the generator */
    const struct mlpio_kv_alloc *alloc;
    struct kv_slot *slot; /* SEGMENTS write */
    uint32_t crc;         /* out: CRC-32C of the data written */
};

/* Whether the calling thread's call must stop now (see struct mlpio_kv_scratch). */
static inline bool kv_cancelled(const struct mlpio_kv_scratch *s)
{
    return s && s->cancel && __atomic_load_n(s->cancel, __ATOMIC_RELAXED);
}

/* tier.c (lock, helpers) and tier_index.c (index, LRU). */
/* Fills err for a call stopped by its scratch's cancel flag; returns -1. */
int kv_cancel_error(struct mlpio_error *err);
void kv_lock(struct mlpio_kv_cache *c, struct kv_call *k);
void kv_unlock(struct mlpio_kv_cache *c, struct kv_call *k);
void kv_wait(struct mlpio_kv_cache *c, struct kv_call *k);
void kv_wake(struct mlpio_kv_cache *c);
struct kv_entry *kv_index_find(const struct mlpio_kv_cache *c, struct mlpio_kv_id id);
struct kv_entry *kv_index_add(struct mlpio_kv_cache *c, struct mlpio_kv_id id);
void kv_index_remove(struct mlpio_kv_cache *c, struct kv_entry *e);
void kv_lru_append(struct mlpio_kv_cache *c, struct kv_entry *e, int tier);
void kv_lru_unlink(struct kv_entry *e);
void kv_touch(struct mlpio_kv_cache *c, struct kv_entry *e, struct kv_call *k);
struct kv_entry *kv_choose_victim(struct mlpio_kv_cache *c, int tier);
void kv_used_add(struct mlpio_kv_cache *c, int tier, uint64_t bytes);
void kv_used_sub(struct mlpio_kv_cache *c, int tier, uint64_t bytes);
void kv_id_hex(struct mlpio_kv_id id, char hex[KV_ID_HEX]);
double kv_now(void);

/* tier_ops.c. */
int kv_put_one(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, const struct mlpio_kv_block *b,
               struct kv_call *k, struct mlpio_error *err);
int kv_get_one(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, const struct mlpio_kv_block *b,
               struct kv_call *k, struct mlpio_error *err);

/* tier_store.c: the storage tier. Functions named _locked run under c->lock; the others
 * outside it. */
uint64_t kv_store_footprint(const struct mlpio_kv_cache *c, uint64_t bytes);
/* Reserve room for a block in storage: evicts storage victims (least recently used first)
 * while it would not fit, then fills *loc (SEGMENTS: the record's place in the segment of the
 * slot taken into *slot). *sub is the OBJECTS folder still to be made (kv_store_mkdir) or -1.
 * A block evicted here is queued for kv_store_drain. -1 only on ENOMEM. */
int kv_store_reserve_locked(struct mlpio_kv_cache *c, struct mlpio_kv_id id, uint64_t bytes,
                            union kv_loc *loc, struct kv_slot **slot, int *sub,
                            struct mlpio_error *err);
/* After the write of a reservation: gives the slot back and, when the write failed, frees the
 * record's room (the segment is closed to further records). */
void kv_store_release_locked(struct mlpio_kv_cache *c, uint64_t bytes, const union kv_loc *loc,
                             struct kv_slot *slot, bool failed);
/* The storage copy of a block goes away (promoted): its room is free again; a segment left
 * without live records is queued for removal. OBJECTS: the caller removes the file. */
void kv_store_forget_locked(struct mlpio_kv_cache *c, uint64_t bytes, const union kv_loc *loc);
/* Remove queued files (evicted objects, dead segments) outside the lock, then drop the evicted
 * entries from the index. */
int kv_store_drain(struct mlpio_kv_cache *c, struct kv_call *k, struct mlpio_error *err);
/* Make the OBJECTS folder sub (the first byte of an id). */
int kv_store_mkdir(struct mlpio_kv_cache *c, int sub, struct kv_call *k, struct mlpio_error *err);
/* Write a block (from io->pages/alloc, or generated from io->obj) to its object or record, then
 * sync. A failed object write removes its file. */
int kv_store_write(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_io *io,
                   struct mlpio_error *err);
/* Read a block into io->pages/alloc (or through the scratch when NULL), dropping cached pages
 * first unless O_DIRECT, checking the record's CRC-32C (SEGMENTS) and, with verify, the
 * bytes. */
int kv_store_read(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_io *io,
                  struct mlpio_error *err);
int kv_store_remove_object(struct mlpio_kv_cache *c, struct mlpio_kv_id id,
                           struct mlpio_error *err);
/* The object file of id, or the segment file of loc. */
void kv_store_path(const struct mlpio_kv_cache *c, struct mlpio_kv_id id, const union kv_loc *loc,
                   char *buf, size_t len);
/* At destroy (no call in flight): close segment files; with remove_objects remove every file
 * and the folders this cache made. */
int kv_store_remove_all(struct mlpio_kv_cache *c, bool remove_objects, struct mlpio_error *err);

#endif
