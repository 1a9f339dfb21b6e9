/* mlpio KV-cache page allocator: fixed-size pages of one DRAM arena, tracked in a bitmap.
 *
 * An allocation of n bytes takes ceil(n / page) pages, all or nothing: first a contiguous run
 * (first fit from a rotating cursor), otherwise any free pages (scattered). The last page of an
 * allocation may be partly used. The allocator never evicts on its own: when too few pages are
 * free the allocation fails and the caller decides what to evict. Not thread-safe (the tier
 * manager holds its lock around it).
 */
#ifndef MLPIO_KV_PAGES_H
#define MLPIO_KV_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mlpio_kv_pages {
    uint8_t *arena;   /* npages * page_bytes, mapped lazily (untouched pages cost nothing) */
    uint64_t *bitmap; /* bit set = page in use */
    uint32_t npages;
    uint32_t nfree;
    uint32_t cursor; /* where the next contiguous search starts */
    size_t page_bytes;
};

/* An allocation: its pages in order (runs compress a contiguous allocation to one entry). */
struct mlpio_kv_run {
    uint32_t first;
    uint32_t count;
};

/* The first run is held inline, so that a contiguous allocation (the common case) costs no heap
 * allocation; only a scattered one owns an array for its further runs. A zeroed struct is an
 * empty allocation. */
struct mlpio_kv_alloc {
    struct mlpio_kv_run run0;  /* run 0 */
    struct mlpio_kv_run *more; /* runs 1 .. nruns-1; owned, NULL when nruns <= 1 */
    uint32_t nruns;
    uint32_t npages;
    uint64_t bytes; /* requested bytes (the last page may be partial) */
};

/* Run i (< a->nruns) of an allocation. */
static inline struct mlpio_kv_run mlpio_kv_alloc_run(const struct mlpio_kv_alloc *a, uint32_t i)
{
    return i == 0 ? a->run0 : a->more[i - 1];
}

/* capacity_bytes is rounded down to whole pages; 0 pages is a valid (always full) arena.
 * Returns -1 when the arena or bitmap cannot be mapped. */
int mlpio_kv_pages_init(struct mlpio_kv_pages *p, uint64_t capacity_bytes, size_t page_bytes);
void mlpio_kv_pages_fini(struct mlpio_kv_pages *p);

/* Allocate bytes (> 0): 0 and *out filled, or -1 with nothing taken (too few free pages or
 * no memory for the run list). */
int mlpio_kv_pages_alloc(struct mlpio_kv_pages *p, uint64_t bytes, struct mlpio_kv_alloc *out);
/* Return an allocation's pages and zero *a; a second free of the same (now empty) allocation is a
 * no-op. */
void mlpio_kv_pages_free(struct mlpio_kv_pages *p, struct mlpio_kv_alloc *a);
/* true when the allocation occupies one contiguous run. */
bool mlpio_kv_alloc_contiguous(const struct mlpio_kv_alloc *a);

/* Copy between an allocation's pages and a flat buffer: bytes [off, off+len) of the
 * allocation (off + len <= a->bytes). */
void mlpio_kv_pages_write(struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a, uint64_t off,
                          const void *src, size_t len);
void mlpio_kv_pages_read(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                         uint64_t off, void *dst, size_t len);

/* Where bytes [off, ...) of an allocation live: a pointer into the arena and how many bytes
 * follow it contiguously within the allocation (to the end of its run or of a->bytes). Lets
 * callers generate, verify and do I/O in place, without a bounce copy. off < a->bytes. */
uint8_t *mlpio_kv_pages_span(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                             uint64_t off, size_t *len);

/* Pages in use times the page size. */
uint64_t mlpio_kv_pages_used_bytes(const struct mlpio_kv_pages *p);
uint64_t mlpio_kv_pages_capacity_bytes(const struct mlpio_kv_pages *p);

#endif
