/* KV-cache tier manager: puts, gets, promotions and demotions (see tier.h).
 *
 * Every operation is three steps: decide under the lock (index, page allocation, storage
 * reservation, victim choice) and pin the entry; move the bytes without the lock; record the
 * outcome under the lock. A moving block stays readable where it was until the move is done,
 * and the old copy is released only when its last reader has finished.
 */
#include "app/workloads/kvcache/tier_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static bool is_dram(int tier)
{
    return tier == MLPIO_KV_GPU || tier == MLPIO_KV_CPU;
}

static uint64_t alloc_bytes(const struct mlpio_kv_cache *c, int tier,
                            const struct mlpio_kv_alloc *a)
{
    return (uint64_t)a->npages * c->tier[tier].pages.page_bytes;
}

/* The fastest present DRAM tier in [from, to) whose pages can hold bytes right now. */
static int place_dram_locked(struct mlpio_kv_cache *c, int from, int to, uint64_t bytes,
                             struct mlpio_kv_alloc *a)
{
    for (int t = from < 0 ? 0 : from; t < to && t < MLPIO_KV_STORAGE; t++)
        if (c->tier[t].present && mlpio_kv_pages_alloc(&c->tier[t].pages, bytes, a) == 0)
            return t;
    return MLPIO_KV_NONE;
}

static bool over_tier_locked(const struct mlpio_kv_cache *c, int t)
{
    const struct kv_tier *T = &c->tier[t];
    return T->present && mlpio_kv_pages_used_bytes(&T->pages) - T->leaving > T->high_water;
}

static bool over_locked(const struct mlpio_kv_cache *c)
{
    return over_tier_locked(c, MLPIO_KV_GPU) || over_tier_locked(c, MLPIO_KV_CPU);
}

static bool pending_locked(const struct mlpio_kv_cache *c)
{
    return c->removals || c->ndeletes;
}

static void block_object(const struct mlpio_kv_cache *c, struct mlpio_kv_id id,
                         struct mlpio_data_object *obj)
{
    char hex[KV_ID_HEX];
    kv_id_hex(id, hex);
    mlpio_data_object_init(obj, &c->cfg.key, hex);
}

static void record_write(struct mlpio_kv_cache *c, int tier, uint64_t bytes, double seconds)
{
    struct mlpio_kv_tier_stats *ts = &c->stats.tier[tier];
    ts->bytes_written += bytes;
    ts->objects_written++;
    mlpio_hist_add(&ts->write_latency, seconds);
}

static void record_read(struct mlpio_kv_cache *c, int tier, uint64_t bytes, double seconds)
{
    struct mlpio_kv_tier_stats *ts = &c->stats.tier[tier];
    ts->bytes_read += bytes;
    ts->objects_read++;
    mlpio_hist_add(&ts->read_latency, seconds);
}

/* ---- DRAM data ------------------------------------------------------------------------ */

static void dram_fill(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                      const struct mlpio_data_object *obj)
{
    for (uint64_t off = 0; off < a->bytes;) {
        size_t n;
        uint8_t *d = mlpio_kv_pages_span(p, a, off, &n);
        mlpio_data_fill(obj, off, d, n);
        off += n;
    }
}

static int dram_mismatch(struct mlpio_error *err, struct mlpio_kv_id id, int tier, uint64_t bad)
{
    char hex[KV_ID_HEX];
    kv_id_hex(id, hex);
    mlpio_error_set(err, MLPIO_ERR_VERIFY,
                    "KV block %s read from the %s tier differs from its generated content at "
                    "byte offset %" PRIu64,
                    hex, mlpio_kv_tier_name(tier), bad);
    return mlpio_error_hint(err, "the block's memory changed after it was stored: a memory fault "
                                 "or a bug in mlpio");
}

/* Copy a block between two page allocations, verifying the copy against obj when given. */
static int dram_copy(const struct mlpio_kv_pages *sp, const struct mlpio_kv_alloc *sa,
                     const struct mlpio_kv_pages *dp, const struct mlpio_kv_alloc *da,
                     const struct mlpio_data_object *obj, struct mlpio_kv_id id, int tier,
                     struct mlpio_error *err)
{
    for (uint64_t off = 0; off < sa->bytes;) {
        size_t ns, nd;
        const uint8_t *s = mlpio_kv_pages_span(sp, sa, off, &ns);
        uint8_t *d = mlpio_kv_pages_span(dp, da, off, &nd);
        size_t n = ns < nd ? ns : nd;
        memcpy(d, s, n);
        uint64_t bad;
        if (obj && mlpio_data_verify(obj, off, d, n, &bad) != 0)
            return dram_mismatch(err, id, tier, bad);
        off += n;
    }
    return 0;
}

/* Copy a block out to the scratch, chunk by chunk, as a reader consumes it. */
static int dram_read_out(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                         struct mlpio_kv_scratch *s, const struct mlpio_data_object *obj,
                         struct mlpio_kv_id id, int tier, struct mlpio_error *err)
{
    for (uint64_t off = 0; off < a->bytes;) {
        size_t n = a->bytes - off < s->len ? (size_t)(a->bytes - off) : s->len;
        mlpio_kv_pages_read(p, a, off, s->buf, n);
        uint64_t bad;
        if (obj && mlpio_data_verify(obj, off, s->buf, n, &bad) != 0)
            return dram_mismatch(err, id, tier, bad);
        off += n;
    }
    return 0;
}

/* ---- demotion ------------------------------------------------------------------------- */

/* Demote one victim of tier t when t is above its high-water mark: 1 when one moved, 0 when
 * there is nothing to do, -1 on error (the victim is then dropped from the cache). */
static int demote_one(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, int t,
                      struct kv_call *k, struct mlpio_error *err)
{
    struct kv_tier *T = &c->tier[t];
    kv_lock(c, k);
    struct kv_entry *v = over_tier_locked(c, t) ? kv_choose_victim(c, t) : NULL;
    if (!v) {
        kv_unlock(c, k);
        return 0;
    }
    struct kv_slot *slot = NULL;
    int sub = -1;
    int d = place_dram_locked(c, t + 1, MLPIO_KV_STORAGE, v->bytes, &v->dst_loc.alloc);
    if (d == MLPIO_KV_NONE) {
        d = MLPIO_KV_STORAGE;
        if (kv_store_reserve_locked(c, v->id, v->bytes, &v->dst_loc, &slot, &sub, err) != 0) {
            kv_unlock(c, k);
            return -1;
        }
    }
    bool drain = pending_locked(c);
    v->state = KV_MOVING;
    v->dst = (int8_t)d;
    uint64_t leaving = alloc_bytes(c, t, &v->loc.alloc);
    T->leaving += leaving;
    kv_used_add(c, d, v->bytes);
    struct kv_io io = {.id = v->id,
                       .bytes = v->bytes,
                       .depth = v->depth,
                       .loc = v->dst_loc,
                       .pages = &T->pages,
                       .alloc = &v->loc.alloc,
                       .slot = slot};
    kv_unlock(c, k);

    struct mlpio_error derr = {0};
    int rc = 0, drc = drain ? kv_store_drain(c, k, &derr) : 0;
    double t0 = kv_now();
    if (d == MLPIO_KV_STORAGE) {
        struct mlpio_data_object obj;
        block_object(c, v->id, &obj);
        io.obj = &obj;
        if (sub >= 0)
            rc = kv_store_mkdir(c, sub, k, err);
        if (rc == 0)
            rc = kv_store_write(c, s, &io, err);
        if (rc != 0)
            mlpio_error_prefix(err, "demoting from the %s tier: ", mlpio_kv_tier_name(t));
    } else {
        rc = dram_copy(&T->pages, &v->loc.alloc, &c->tier[d].pages, &v->dst_loc.alloc, NULL, v->id,
                       t, err);
    }
    double dt = kv_now() - t0;

    kv_lock(c, k);
    if (d == MLPIO_KV_STORAGE)
        kv_store_release_locked(c, v->bytes, &v->dst_loc, slot, rc != 0);
    /* Readers that started on the old copy finish before its pages go. */
    while (v->pins)
        kv_wait(c, k);
    T->leaving -= leaving;
    mlpio_kv_pages_free(&T->pages, &v->loc.alloc);
    kv_used_sub(c, t, v->bytes);
    c->stats.tier[t].evictions++;
    if (rc == 0) {
        kv_lru_unlink(v);
        v->loc = v->dst_loc;
        if (d == MLPIO_KV_STORAGE)
            v->loc.rec.crc = io.crc;
        v->tier = (int8_t)d;
        v->dst = MLPIO_KV_NONE;
        v->state = KV_READY;
        kv_lru_append(c, v, d);
        c->stats.tier[d].demotions++;
        record_write(c, d, v->bytes, dt);
    } else {
        /* The block leaves the cache: its old pages are gone and its new copy failed. */
        kv_used_sub(c, d, v->bytes);
        kv_index_remove(c, v);
    }
    drain = pending_locked(c);
    kv_wake(c);
    kv_unlock(c, k);

    if (rc == 0) {
        k->res->bytes_moved += io.bytes;
        if (d == MLPIO_KV_STORAGE)
            k->res->storage_bytes_written += io.bytes;
    }
    if (d == MLPIO_KV_STORAGE)
        k->res->storage_seconds += dt;
    if (drain && drc == 0)
        drc = kv_store_drain(c, k, &derr);
    if (rc == 0 && drc != 0) {
        if (err)
            *err = derr;
        rc = -1;
    }
    return rc == 0 ? 1 : -1;
}

/* Bring every DRAM tier back under its high-water mark, fastest first, so that blocks demoted
 * from the GPU tier can push CPU victims on to storage. */
static int evict(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_call *k,
                 struct mlpio_error *err)
{
    for (int t = MLPIO_KV_GPU; t < MLPIO_KV_STORAGE; t++) {
        int r;
        while ((r = demote_one(c, s, t, k, err)) > 0)
            ;
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ---- put ------------------------------------------------------------------------------ */

/* The end of a put or get: run the deferred storage removals, evict while a tier is over its
 * mark, and report a removal failure (derr) unless the call already failed. */
static int finish_call(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_call *k,
                       int rc, bool drain, bool over, int drc, struct mlpio_error *derr,
                       struct mlpio_error *err)
{
    if (drain && drc == 0)
        drc = kv_store_drain(c, k, derr);
    if (rc == 0 && over)
        rc = evict(c, s, k, err);
    if (rc == 0 && drc != 0) {
        if (err)
            *err = *derr;
        rc = -1;
    }
    return rc;
}

static int check_block(const struct mlpio_kv_cache *c, const struct mlpio_kv_block *b,
                       struct mlpio_error *err)
{
    char hex[KV_ID_HEX];
    if (b->bytes == 0) {
        kv_id_hex(b->id, hex);
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "KV block %s has 0 bytes", hex);
        return mlpio_error_hint(err, "a KV block holds at least one token: a bug in mlpio");
    }
    uint64_t need = kv_store_footprint(c, b->bytes), cap = c->cfg.capacity[MLPIO_KV_STORAGE];
    if (need > cap) {
        kv_id_hex(b->id, hex);
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "KV block %s needs %" PRIu64 " bytes of storage, more than the storage "
                        "tier's capacity of %" PRIu64 " bytes",
                        hex, need, cap);
        return mlpio_error_hint(err, "give the storage tier more capacity or use smaller blocks");
    }
    return 0;
}

int kv_put_one(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, const struct mlpio_kv_block *b,
               struct kv_call *k, struct mlpio_error *err)
{
    struct mlpio_kv_result *res = k->res;
    if (check_block(c, b, err) != 0)
        return -1;
    kv_lock(c, k);
    struct kv_entry *e;
    /* An evicted object's file must be gone before the block can be written again. */
    while ((e = kv_index_find(c, b->id)) && e->state == KV_REMOVING)
        kv_wait(c, k);
    c->stats.puts++;
    if (e) {
        /* First writer wins, even while it is still writing. */
        c->stats.tier[e->tier].already_exists++;
        kv_touch(c, e, k);
        res->tier = e->tier;
        res->already_exists = true;
        kv_unlock(c, k);
        return 0;
    }
    if (!(e = kv_index_add(c, b->id))) {
        kv_unlock(c, k);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "KV cache: growing the index past %zu blocks", c->count);
    }
    e->bytes = b->bytes;
    e->depth = b->depth;
    e->state = KV_WRITING;
    kv_touch(c, e, k);
    struct kv_slot *slot = NULL;
    int sub = -1;
    int t = place_dram_locked(c, MLPIO_KV_GPU, MLPIO_KV_STORAGE, b->bytes, &e->loc.alloc);
    if (t == MLPIO_KV_NONE) {
        t = MLPIO_KV_STORAGE;
        if (kv_store_reserve_locked(c, b->id, b->bytes, &e->loc, &slot, &sub, err) != 0) {
            kv_index_remove(c, e);
            kv_unlock(c, k);
            return -1;
        }
    }
    bool drain = pending_locked(c);
    e->tier = (int8_t)t;
    kv_used_add(c, t, b->bytes);
    struct kv_io io = {
        .id = b->id, .bytes = b->bytes, .depth = b->depth, .loc = e->loc, .slot = slot};
    kv_unlock(c, k);

    /* Evicted objects go first, so that a full file system has their room for this one. */
    struct mlpio_error derr = {0};
    int rc = 0, drc = drain ? kv_store_drain(c, k, &derr) : 0;
    double t0 = kv_now();
    struct mlpio_data_object obj;
    block_object(c, b->id, &obj);
    if (is_dram(t)) {
        dram_fill(&c->tier[t].pages, &e->loc.alloc, &obj);
    } else {
        io.obj = &obj;
        if (sub >= 0)
            rc = kv_store_mkdir(c, sub, k, err);
        if (rc == 0)
            rc = kv_store_write(c, s, &io, err);
    }
    double dt = kv_now() - t0;

    kv_lock(c, k);
    if (t == MLPIO_KV_STORAGE)
        kv_store_release_locked(c, b->bytes, &e->loc, slot, rc != 0);
    if (rc == 0) {
        if (t == MLPIO_KV_STORAGE)
            e->loc.rec.crc = io.crc;
        e->state = KV_READY;
        kv_lru_append(c, e, t);
        record_write(c, t, b->bytes, dt);
    } else {
        kv_used_sub(c, t, b->bytes);
        kv_index_remove(c, e);
    }
    kv_wake(c);
    drain = pending_locked(c);
    bool over = rc == 0 && over_locked(c);
    kv_unlock(c, k);

    if (rc == 0) {
        res->tier = t;
        res->bytes_moved += b->bytes;
        if (t == MLPIO_KV_STORAGE)
            res->storage_bytes_written += b->bytes;
    }
    if (t == MLPIO_KV_STORAGE)
        res->storage_seconds += dt;
    return finish_call(c, s, k, rc, drain, over, drc, &derr, err);
}

/* ---- get ------------------------------------------------------------------------------ */

int kv_get_one(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, const struct mlpio_kv_block *b,
               struct kv_call *k, struct mlpio_error *err)
{
    struct mlpio_kv_result *res = k->res;
    kv_lock(c, k);
    struct kv_entry *e;
    while ((e = kv_index_find(c, b->id)) && e->state == KV_WRITING)
        kv_wait(c, k);
    c->stats.gets++;
    if (!e || e->state == KV_REMOVING) {
        c->stats.misses++;
        for (int t = 0; t < MLPIO_KV_NTIERS; t++)
            if (c->tier[t].present)
                c->stats.tier[t].misses++;
        kv_unlock(c, k);
        res->tier = MLPIO_KV_NONE;
        return 0;
    }
    int t = e->tier;
    kv_touch(c, e, k);
    c->stats.tier[t].hits++;
    for (int f = 0; f < t; f++)
        if (c->tier[f].present)
            c->stats.tier[f].misses++;
    res->tier = t;
    if (t == c->fastest) {
        kv_unlock(c, k);
        return 0;
    }
    /* Promote into the fastest tier with room, unless the block is already on the move. */
    int d = e->state == KV_READY ? place_dram_locked(c, c->fastest, t, e->bytes, &e->dst_loc.alloc)
                                 : MLPIO_KV_NONE;
    if (d != MLPIO_KV_NONE) {
        e->state = KV_MOVING;
        e->dst = (int8_t)d;
        kv_used_add(c, d, e->bytes);
    } else {
        e->pins++;
    }
    struct kv_io io = {.id = e->id, .bytes = e->bytes, .depth = e->depth, .loc = e->loc};
    kv_unlock(c, k);

    double t0 = kv_now();
    struct mlpio_data_object obj;
    block_object(c, b->id, &obj);
    const struct mlpio_data_object *check = c->cfg.verify ? &obj : NULL;
    int rc;
    if (is_dram(t) && d != MLPIO_KV_NONE)
        rc = dram_copy(&c->tier[t].pages, &e->loc.alloc, &c->tier[d].pages, &e->dst_loc.alloc,
                       check, b->id, t, err);
    else if (is_dram(t))
        rc = dram_read_out(&c->tier[t].pages, &e->loc.alloc, s, check, b->id, t, err);
    else {
        io.obj = &obj;
        if (d != MLPIO_KV_NONE) {
            io.pages = &c->tier[d].pages;
            io.alloc = &e->dst_loc.alloc;
        }
        rc = kv_store_read(c, s, &io, err);
    }
    double dt = kv_now() - t0;

    bool drain = false, remove_file = false;
    kv_lock(c, k);
    if (rc == 0)
        record_read(c, t, io.bytes, dt);
    if (d == MLPIO_KV_NONE) {
        if (--e->pins == 0)
            kv_wake(c);
    } else if (rc != 0) {
        mlpio_kv_pages_free(&c->tier[d].pages, &e->dst_loc.alloc);
        kv_used_sub(c, d, io.bytes);
        e->state = KV_READY;
        e->dst = MLPIO_KV_NONE;
        kv_wake(c);
    } else {
        while (e->pins)
            kv_wait(c, k);
        if (is_dram(t)) {
            mlpio_kv_pages_free(&c->tier[t].pages, &e->loc.alloc);
        } else {
            kv_store_forget_locked(c, io.bytes, &e->loc);
            remove_file = c->cfg.layout == MLPIO_KV_LAYOUT_OBJECTS;
        }
        kv_used_sub(c, t, io.bytes);
        kv_lru_unlink(e);
        e->loc = e->dst_loc;
        e->tier = (int8_t)d;
        e->dst = MLPIO_KV_NONE;
        kv_lru_append(c, e, d);
        c->stats.tier[d].promotions++;
        record_write(c, d, io.bytes, dt);
        /* An object file is removed before the block may be demoted (and written) again. */
        if (!remove_file) {
            e->state = KV_READY;
            kv_wake(c);
        }
    }
    drain = pending_locked(c);
    bool over = d != MLPIO_KV_NONE && rc == 0 && over_locked(c);
    kv_unlock(c, k);

    if (rc == 0) {
        res->bytes_moved += io.bytes;
        if (t == MLPIO_KV_STORAGE)
            res->storage_bytes_read += io.bytes;
    }
    if (t == MLPIO_KV_STORAGE)
        res->storage_seconds += dt;
    if (remove_file) {
        double t1 = kv_now();
        rc = kv_store_remove_object(c, b->id, err);
        res->storage_seconds += kv_now() - t1;
        kv_lock(c, k);
        e->state = KV_READY;
        kv_wake(c);
        kv_unlock(c, k);
    }
    struct mlpio_error derr = {0};
    return finish_call(c, s, k, rc, drain, over, 0, &derr, err);
}
