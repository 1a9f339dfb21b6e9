/* KV-cache tier manager: the storage tier's files, through an io backend.
 *
 * OBJECTS: one file per block, <dir>/<2 hex>/<32 hex>.kv, holding exactly the block's bytes.
 * SEGMENTS: append-only files <dir>/segment_NNNNNN.kvlog of records. A record is a 4 KiB header
 * (magic, id, length, depth, CRC-32C of the data, CRC-32C of the header) and the data padded to
 * 4 KiB, so that every record starts aligned and O_DIRECT can read and write it. Room for a
 * record is reserved under the cache's lock in the segment of a slot, one open segment that
 * only the slot's holder writes; there are as many slots as threads writing at once. A record
 * that leaves storage is dead in memory only (the index is not persistent); a segment is
 * removed once it holds no live record and takes no more.
 *
 * Folders: the io backends have no stat or rmdir, so whether a folder existed before and its
 * removal at destroy use the system calls directly, and only on backends that really store
 * (MLPIO_IO_CAP_STORAGE); a null backend creates nothing.
 */
#include "app/workloads/kvcache/tier_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/crc32c.h"

#define ALIGN ((uint64_t)MLPIO_IO_ALIGN)
#define HEADER_FIELDS 44 /* encoded bytes at the start of a record header */

static const char record_magic[8] = {'M', 'L', 'P', 'I', 'O', 'K', 'V', '1'};

static bool segments(const struct mlpio_kv_cache *c)
{
    return c->cfg.layout == MLPIO_KV_LAYOUT_SEGMENTS;
}

static uint64_t round_up(uint64_t n)
{
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

uint64_t kv_store_footprint(const struct mlpio_kv_cache *c, uint64_t bytes)
{
    return segments(c) ? KV_RECORD_HEADER + round_up(bytes) : bytes;
}

void kv_store_path(const struct mlpio_kv_cache *c, struct mlpio_kv_id id, const union kv_loc *loc,
                   char *buf, size_t len)
{
    if (segments(c)) {
        snprintf(buf, len, "%s/segment_%06" PRIu32 ".kvlog", c->dir, loc->rec.seg);
        return;
    }
    char hex[KV_ID_HEX];
    kv_id_hex(id, hex);
    snprintf(buf, len, "%s/%.2s/%s.kv", c->dir, hex, hex);
}

static void segment_path(const struct mlpio_kv_cache *c, uint32_t seg, char *buf, size_t len)
{
    union kv_loc loc = {.rec = {.seg = seg}};
    kv_store_path(c, (struct mlpio_kv_id){0, 0}, &loc, buf, len);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The first HEADER_FIELDS bytes of a record header; the rest of the header is zeros. */
static void header_encode(uint8_t *h, const struct kv_io *io, uint32_t crc)
{
    memcpy(h, record_magic, 8);
    put_le64(h + 8, io->id.hi);
    put_le64(h + 16, io->id.lo);
    put_le64(h + 24, io->bytes);
    put_le32(h + 32, io->depth);
    put_le32(h + 36, crc);
    put_le32(h + 40, mlpio_crc32c(0, h, 40));
}

/* ---- reservations (under the lock) ---------------------------------------------------- */

/* Queue a segment for removal once it has no live record and takes no more. */
static void segment_check_locked(struct mlpio_kv_cache *c, uint32_t n)
{
    struct kv_segment *sg = &c->segs[n];
    if (sg->live || sg->appending || sg->gone)
        return;
    if (c->ndeletes == c->deletes_cap) {
        uint32_t cap = c->deletes_cap ? 2 * c->deletes_cap : 16;
        uint32_t *d = realloc(c->seg_deletes, cap * sizeof(*d));
        if (!d)
            return; /* the file stays until destroy; its room stays counted */
        c->seg_deletes = d;
        c->deletes_cap = cap;
    }
    c->seg_deletes[c->ndeletes++] = n;
    sg->gone = true;
    c->store_bytes -= sg->size;
}

static void evict_locked(struct mlpio_kv_cache *c, struct kv_entry *v)
{
    c->stats.tier[MLPIO_KV_STORAGE].evictions++;
    kv_used_sub(c, MLPIO_KV_STORAGE, v->bytes);
    kv_lru_unlink(v);
    if (segments(c)) {
        c->segs[v->loc.rec.seg].live--;
        segment_check_locked(c, v->loc.rec.seg);
        kv_index_remove(c, v);
        return;
    }
    /* The file goes outside the lock; meanwhile the block is absent and its id not reusable. */
    c->store_bytes -= v->bytes;
    v->state = KV_REMOVING;
    v->next = c->removals;
    c->removals = v;
}

/* The slot's segment takes no more records; its file is closed by the slot's next holder. */
static void retire_locked(struct mlpio_kv_cache *c, struct kv_slot *slot)
{
    if (!slot->has_seg)
        return;
    c->segs[slot->seg].appending = false;
    segment_check_locked(c, slot->seg);
    if (slot->file) {
        slot->retired = slot->file;
        slot->file = NULL;
    }
    slot->has_seg = false;
}

static int segment_new_locked(struct mlpio_kv_cache *c, struct kv_slot *slot,
                              struct mlpio_error *err)
{
    if (c->nsegs == c->segs_cap) {
        uint32_t cap = c->segs_cap ? 2 * c->segs_cap : 16;
        struct kv_segment *s = realloc(c->segs, cap * sizeof(*s));
        if (!s)
            return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                     "KV cache: growing the segment table to %" PRIu32, cap);
        c->segs = s;
        c->segs_cap = cap;
    }
    c->segs[c->nsegs] = (struct kv_segment){.appending = true};
    slot->seg = c->nsegs++;
    slot->has_seg = true;
    return 0;
}

int kv_store_reserve_locked(struct mlpio_kv_cache *c, struct mlpio_kv_id id, uint64_t bytes,
                            union kv_loc *loc, struct kv_slot **slot_out, int *sub,
                            struct mlpio_error *err)
{
    uint64_t need = kv_store_footprint(c, bytes), cap = c->cfg.capacity[MLPIO_KV_STORAGE];
    /* The last tier fills to 100 %. Blocks being read or moved cannot go; when only such
     * blocks are left the tier overshoots until they are done. */
    while (c->store_bytes + need > cap) {
        struct kv_entry *v = kv_choose_victim(c, MLPIO_KV_STORAGE);
        if (!v)
            break;
        evict_locked(c, v);
    }
    *slot_out = NULL;
    *sub = -1;
    memset(loc, 0, sizeof(*loc));
    if (!segments(c)) {
        int s = (int)(id.hi >> 56);
        if (!c->subdir[s])
            *sub = s;
        c->store_bytes += need;
        return 0;
    }
    struct kv_slot *slot = c->free_slots;
    if (slot) {
        c->free_slots = slot->next_free;
    } else {
        if (!(slot = calloc(1, sizeof(*slot))))
            return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "KV cache: a segment slot");
        slot->next_all = c->all_slots;
        c->all_slots = slot;
    }
    if (slot->has_seg && c->segs[slot->seg].size > 0 &&
        c->segs[slot->seg].size + need > c->cfg.segment_bytes)
        retire_locked(c, slot);
    if (!slot->has_seg && segment_new_locked(c, slot, err) != 0) {
        slot->next_free = c->free_slots;
        c->free_slots = slot;
        return -1;
    }
    struct kv_segment *sg = &c->segs[slot->seg];
    loc->rec.seg = slot->seg;
    loc->rec.off = sg->size;
    sg->size += need;
    sg->live++;
    c->store_bytes += need;
    *slot_out = slot;
    return 0;
}

void kv_store_release_locked(struct mlpio_kv_cache *c, uint64_t bytes, const union kv_loc *loc,
                             struct kv_slot *slot, bool failed)
{
    if (!segments(c)) {
        if (failed)
            c->store_bytes -= bytes;
        return;
    }
    if (failed) {
        /* The record's room is dead; a segment whose write failed takes no more records. */
        c->segs[loc->rec.seg].live--;
        retire_locked(c, slot);
    }
    slot->next_free = c->free_slots;
    c->free_slots = slot;
}

void kv_store_forget_locked(struct mlpio_kv_cache *c, uint64_t bytes, const union kv_loc *loc)
{
    if (!segments(c)) {
        c->store_bytes -= bytes;
        return;
    }
    c->segs[loc->rec.seg].live--;
    segment_check_locked(c, loc->rec.seg);
}

/* ---- files (outside the lock) --------------------------------------------------------- */

int kv_store_remove_object(struct mlpio_kv_cache *c, struct mlpio_kv_id id, struct mlpio_error *err)
{
    char path[PATH_MAX];
    kv_store_path(c, id, NULL, path, sizeof(path));
    if (mlpio_io_remove(c->cfg.backend, path, err) == 0)
        return 0;
    return mlpio_error_prefix(err, "removing an evicted KV block: ");
}

int kv_store_drain(struct mlpio_kv_cache *c, struct kv_call *k, struct mlpio_error *err)
{
    enum { BATCH = 16 };
    int rc = 0;
    for (;;) {
        struct kv_entry *ents[BATCH];
        uint32_t segs[BATCH];
        int ne = 0, ns = 0;
        kv_lock(c, k);
        for (; ne < BATCH && c->removals; ne++) {
            ents[ne] = c->removals;
            c->removals = c->removals->next;
        }
        for (; ns < BATCH && c->ndeletes; ns++)
            segs[ns] = c->seg_deletes[--c->ndeletes];
        kv_unlock(c, k);
        if (ne == 0 && ns == 0)
            return rc;
        /* The first error is kept; the rest of the queue is still removed. */
        char path[PATH_MAX];
        for (int i = 0; i < ne; i++)
            if (kv_store_remove_object(c, ents[i]->id, rc ? NULL : err) != 0)
                rc = -1;
        for (int i = 0; i < ns; i++) {
            segment_path(c, segs[i], path, sizeof(path));
            if (mlpio_io_remove(c->cfg.backend, path, rc ? NULL : err) != 0) {
                if (rc == 0)
                    mlpio_error_prefix(err, "removing a KV segment without live blocks: ");
                rc = -1;
            }
        }
        if (ne > 0) {
            kv_lock(c, k);
            for (int i = 0; i < ne; i++)
                kv_index_remove(c, ents[i]);
            kv_wake(c);
            kv_unlock(c, k);
        }
    }
}

static bool really_stores(const struct mlpio_kv_cache *c)
{
    return c->cfg.backend->caps & MLPIO_IO_CAP_STORAGE;
}

int kv_store_mkdir(struct mlpio_kv_cache *c, int sub, struct kv_call *k, struct mlpio_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%02x", c->dir, sub);
    struct stat st;
    bool existed = really_stores(c) && stat(path, &st) == 0;
    if (mlpio_io_mkdirs(c->cfg.backend, path, err) != 0)
        return mlpio_error_prefix(err, "KV cache storage folder: ");
    kv_lock(c, k);
    /* Two threads may race to make it: it is ours if either found it missing. */
    if (!existed)
        c->subdir[sub] = 1;
    else if (!c->subdir[sub])
        c->subdir[sub] = 2;
    kv_unlock(c, k);
    return 0;
}

/* Arena spans can be handed to the backend as they are unless O_DIRECT needs an alignment
 * that pages of this size do not keep. */
static bool spans_direct(const struct mlpio_kv_cache *c, const struct mlpio_kv_pages *p)
{
    return !c->cfg.io_options.odirect || p->page_bytes % ALIGN == 0;
}

int kv_store_write(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_io *io,
                   struct mlpio_error *err)
{
    const struct mlpio_io_backend *be = c->cfg.backend;
    bool seg = segments(c);
    char path[PATH_MAX];
    kv_store_path(c, io->id, &io->loc, path, sizeof(path));
    struct mlpio_io_file *obj_file = NULL, *f;
    int rc = 0;
    if (seg) {
        struct kv_slot *slot = io->slot;
        if (slot->retired)
            rc = mlpio_io_close(&slot->retired, err);
        if (rc == 0 && !slot->file)
            rc = mlpio_io_open(be, path, MLPIO_IO_WRITE, &c->cfg.io_options, &slot->file, err);
        f = slot->file;
    } else {
        rc = mlpio_io_open(be, path, MLPIO_IO_WRITE, &c->cfg.io_options, &obj_file, err);
        f = obj_file;
    }
    uint64_t base = seg ? io->loc.rec.off + KV_RECORD_HEADER : 0;
    bool direct = io->pages && spans_direct(c, io->pages);
    uint8_t *buf = s->buf;
    uint32_t crc = 0;
    for (uint64_t off = 0; rc == 0 && off < io->bytes;) {
        if (kv_cancelled(s)) {
            rc = kv_cancel_error(err);
            break;
        }
        size_t n = io->bytes - off < s->len ? (size_t)(io->bytes - off) : s->len;
        const uint8_t *p = NULL;
        if (direct) {
            size_t span;
            p = mlpio_kv_pages_span(io->pages, io->alloc, off, &span);
            n = span < n ? span : n;
        }
        size_t len = n;
        if (seg && off + n == io->bytes)
            len = (size_t)round_up(n); /* a record's data ends padded */
        if (!p || len != n) {
            if (p)
                memcpy(buf, p, n);
            else if (io->pages)
                mlpio_kv_pages_read(io->pages, io->alloc, off, buf, n);
            else
                mlpio_data_fill(io->obj, off, buf, n);
            memset(buf + n, 0, len - n);
            p = buf;
        }
        if (seg)
            crc = mlpio_crc32c(crc, p, n);
        rc = mlpio_io_write_at(f, p, len, base + off, err);
        off += n;
    }
    if (rc == 0 && seg) {
        memset(buf, 0, KV_RECORD_HEADER);
        header_encode(buf, io, crc);
        rc = mlpio_io_write_at(f, buf, KV_RECORD_HEADER, io->loc.rec.off, err);
    }
    if (rc == 0)
        rc = mlpio_io_sync(f, err);
    if (!seg) {
        int crc_close = mlpio_io_close(&obj_file, rc == 0 ? err : NULL);
        rc = rc ? rc : crc_close;
        /* A partial object must not be mistaken for a block later. */
        if (rc != 0)
            mlpio_io_remove(be, path, NULL);
    }
    io->crc = crc;
    if (rc != 0) {
        char hex[KV_ID_HEX];
        kv_id_hex(io->id, hex);
        mlpio_error_prefix(err, "storing KV block %s in %s: ", hex, path);
    }
    return rc;
}

/* What the null backend "reads": the block's generated bytes, and for a record its header. */
struct null_fill {
    const struct kv_io *io;
    bool seg;
};

static void null_fill(void *arg, void *buf, size_t len, uint64_t off)
{
    const struct null_fill *nf = arg;
    const struct kv_io *io = nf->io;
    uint8_t *b = buf;
    if (!nf->seg) {
        mlpio_data_fill(io->obj, off, b, len);
        return;
    }
    uint64_t head = io->loc.rec.off, data = head + KV_RECORD_HEADER;
    while (len > 0) {
        size_t n = len;
        if (off >= head && off < head + HEADER_FIELDS) {
            uint8_t h[HEADER_FIELDS];
            header_encode(h, io, io->loc.rec.crc);
            n = (size_t)(head + HEADER_FIELDS - off) < n ? (size_t)(head + HEADER_FIELDS - off) : n;
            memcpy(b, h + (off - head), n);
        } else if (off >= data && off < data + io->bytes) {
            n = (size_t)(data + io->bytes - off) < n ? (size_t)(data + io->bytes - off) : n;
            mlpio_data_fill(io->obj, off - data, b, n);
        } else {
            /* Zeros up to the next part: before the header, the header's tail, the padding. */
            uint64_t next = off < head ? head : off < data ? data : UINT64_MAX;
            n = next - off < n ? (size_t)(next - off) : n;
            memset(b, 0, n);
        }
        b += n;
        off += n;
        len -= n;
    }
}

static int bad_record(struct mlpio_error *err, const char *path, uint64_t off, const char *what,
                      const struct kv_io *io)
{
    char hex[KV_ID_HEX];
    kv_id_hex(io->id, hex);
    mlpio_error_set(err, MLPIO_ERR_VERIFY, "record of KV block %s at offset %" PRIu64 " of %s: %s",
                    hex, off, path, what);
    return mlpio_error_hint(err, "the segment file was changed or damaged after it was written; "
                                 "check the storage, and do not share the KV cache folder");
}

static int check_header(const uint8_t *h, const char *path, const struct kv_io *io, uint32_t *crc,
                        struct mlpio_error *err)
{
    uint64_t off = io->loc.rec.off;
    if (memcmp(h, record_magic, 8) != 0)
        return bad_record(err, path, off, "no record header (bad magic)", io);
    if (get_le32(h + 40) != mlpio_crc32c(0, h, 40))
        return bad_record(err, path, off, "bad CRC-32C of the record header", io);
    if (get_le64(h + 8) != io->id.hi || get_le64(h + 16) != io->id.lo)
        return bad_record(err, path, off, "the header names another block", io);
    if (get_le64(h + 24) != io->bytes) {
        char what[96];
        snprintf(what, sizeof(what), "the header says %" PRIu64 " bytes, expected %" PRIu64,
                 get_le64(h + 24), io->bytes);
        return bad_record(err, path, off, what, io);
    }
    *crc = get_le32(h + 36);
    return 0;
}

static int data_mismatch(struct mlpio_error *err, const char *path, const struct kv_io *io,
                         uint64_t bad, uint64_t file_off)
{
    char hex[KV_ID_HEX];
    kv_id_hex(io->id, hex);
    mlpio_error_set(err, MLPIO_ERR_VERIFY,
                    "KV block %s read from %s differs from its generated content at byte "
                    "offset %" PRIu64 " of the block (offset %" PRIu64 " of the file)",
                    hex, path, bad, file_off);
    return mlpio_error_hint(err, "the storage returned other bytes than were written: check the "
                                 "device and file system, and do not share the KV cache folder");
}

int kv_store_read(struct mlpio_kv_cache *c, struct mlpio_kv_scratch *s, struct kv_io *io,
                  struct mlpio_error *err)
{
    const struct mlpio_io_backend *be = c->cfg.backend;
    bool seg = segments(c);
    char path[PATH_MAX];
    kv_store_path(c, io->id, &io->loc, path, sizeof(path));
    struct mlpio_io_options opts = c->cfg.io_options;
    struct null_fill nf = {io, seg};
    if (!really_stores(c) && !opts.fill) {
        opts.fill = null_fill;
        opts.fill_arg = &nf;
    }
    struct mlpio_io_file *f = NULL;
    int rc = mlpio_io_open(be, path, MLPIO_IO_READ, &opts, &f, err);
    if (rc == 0 && !opts.odirect && (be->caps & MLPIO_IO_CAP_DROP_CACHE))
        rc = mlpio_io_drop_cache(f, err);
    uint8_t *buf = s->buf;
    uint64_t base = 0;
    uint32_t want_crc = 0, crc = 0;
    if (rc == 0 && seg) {
        rc = mlpio_io_read_at(f, buf, KV_RECORD_HEADER, io->loc.rec.off, err);
        if (rc == 0)
            rc = check_header(buf, path, io, &want_crc, err);
        base = io->loc.rec.off + KV_RECORD_HEADER;
    }
    bool direct = io->pages && spans_direct(c, io->pages);
    for (uint64_t off = 0; rc == 0 && off < io->bytes;) {
        if (kv_cancelled(s)) {
            rc = kv_cancel_error(err);
            break;
        }
        size_t n = io->bytes - off < s->len ? (size_t)(io->bytes - off) : s->len;
        uint8_t *p = buf;
        if (direct) {
            size_t span;
            p = mlpio_kv_pages_span(io->pages, io->alloc, off, &span);
            n = span < n ? span : n;
        }
        size_t len = n;
        if (seg && opts.odirect && n % ALIGN) {
            /* O_DIRECT reads the padded end of a record, which only the scratch has room for. */
            len = (size_t)round_up(n);
            p = buf;
        }
        rc = mlpio_io_read_at(f, p, len, base + off, err);
        if (rc != 0)
            break;
        if (seg)
            crc = mlpio_crc32c(crc, p, n);
        uint64_t bad;
        if (c->cfg.verify && mlpio_data_verify(io->obj, off, p, n, &bad) != 0) {
            rc = data_mismatch(err, path, io, bad, base + bad);
            break;
        }
        if (io->pages && p == buf)
            mlpio_kv_pages_write((struct mlpio_kv_pages *)io->pages, io->alloc, off, p, n);
        off += n;
    }
    if (rc == 0 && seg && crc != want_crc) {
        char what[96];
        snprintf(what, sizeof(what),
                 "bad CRC-32C of the data: stored %08" PRIx32 ", computed %08" PRIx32, want_crc,
                 crc);
        rc = bad_record(err, path, io->loc.rec.off, what, io);
    }
    int rc_close = mlpio_io_close(&f, rc == 0 ? err : NULL);
    rc = rc ? rc : rc_close;
    if (rc != 0 && err && err->category != MLPIO_ERR_VERIFY) {
        char hex[KV_ID_HEX];
        kv_id_hex(io->id, hex);
        mlpio_error_prefix(err, "reading KV block %s: ", hex);
    }
    return rc;
}

/* ---- destroy -------------------------------------------------------------------------- */

static int remove_dir(const char *path, struct mlpio_error *err)
{
    /* A folder that still holds files not made here stays. */
    if (rmdir(path) == 0 || errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST)
        return 0;
    return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "removing the KV cache folder %s", path);
}

int kv_store_remove_all(struct mlpio_kv_cache *c, bool remove_objects, struct mlpio_error *err)
{
    const struct mlpio_io_backend *be = c->cfg.backend;
    int rc = 0;
    for (struct kv_slot *s = c->all_slots; s; s = s->next_all) {
        if (mlpio_io_close(&s->file, rc ? NULL : err) != 0)
            rc = -1;
        if (mlpio_io_close(&s->retired, rc ? NULL : err) != 0)
            rc = -1;
    }
    if (!remove_objects)
        return rc;
    char path[PATH_MAX];
    if (segments(c)) {
        for (uint32_t n = 0; n < c->nsegs; n++) {
            /* Queued segments are gone only once removed; others gone were removed. */
            bool queued = false;
            for (uint32_t i = 0; i < c->ndeletes && !queued; i++)
                queued = c->seg_deletes[i] == n;
            if (c->segs[n].gone && !queued)
                continue;
            segment_path(c, n, path, sizeof(path));
            if (mlpio_io_remove(be, path, rc ? NULL : err) != 0)
                rc = -1;
        }
    } else {
        for (size_t i = 0; i <= c->table_mask; i++) {
            const struct kv_entry *e = c->table[i];
            if (!e || e->tier != MLPIO_KV_STORAGE)
                continue;
            if (kv_store_remove_object(c, e->id, rc ? NULL : err) != 0)
                rc = -1;
        }
    }
    if (!really_stores(c))
        return rc;
    for (int sub = 0; sub < 256; sub++) {
        if (c->subdir[sub] != 1)
            continue;
        snprintf(path, sizeof(path), "%s/%02x", c->dir, sub);
        if (remove_dir(path, rc ? NULL : err) != 0)
            rc = -1;
    }
    if (c->dir_made && remove_dir(c->dir, rc ? NULL : err) != 0)
        rc = -1;
    return rc;
}
