/* KV-cache page allocator: a bitmap over one lazily mapped arena (see pages.h).
 *
 * The arena is an anonymous MAP_NORESERVE mapping: the kernel backs a page only when it is
 * first written, so a large DRAM budget that a run never fills costs no memory. Searches skip
 * whole 64-page words of the bitmap (full words for free pages, empty words for runs), so an
 * allocation costs a few hundred word reads even in a large, fragmented arena.
 */
#include "app/workloads/kvcache/pages.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Set (or clear) bits [first, first+count). */
static void bits_assign(uint64_t *bm, uint32_t first, uint32_t count, bool value)
{
    while (count > 0) {
        uint32_t w = first / 64, b = first % 64;
        uint32_t n = 64 - b < count ? 64 - b : count;
        uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << b;
        bm[w] = value ? bm[w] | mask : bm[w] & ~mask;
        first += n;
        count -= n;
    }
}

/* The first page >= from whose bit equals value, or npages. */
static uint32_t find_bit(const struct mlpio_kv_pages *p, uint32_t from, bool value)
{
    uint32_t nwords = (p->npages + 63) / 64;
    uint32_t w = from / 64;
    if (w >= nwords)
        return p->npages;
    uint64_t word = value ? p->bitmap[w] : ~p->bitmap[w];
    word &= ~0ull << (from % 64);
    while (word == 0) {
        if (++w == nwords)
            return p->npages;
        word = value ? p->bitmap[w] : ~p->bitmap[w];
    }
    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(word);
    return i < p->npages ? i : p->npages;
}

/* First free run of n pages starting in [from, limit); UINT32_MAX when there is none. */
static uint32_t find_run(const struct mlpio_kv_pages *p, uint32_t from, uint32_t limit, uint32_t n)
{
    uint32_t i = from;
    while (i < limit) {
        uint32_t start = find_bit(p, i, false);
        if (start >= limit || p->npages - start < n)
            return UINT32_MAX;
        uint32_t end = find_bit(p, start, true);
        if (end - start >= n)
            return start;
        i = end;
    }
    return UINT32_MAX;
}

int mlpio_kv_pages_init(struct mlpio_kv_pages *p, uint64_t capacity_bytes, size_t page_bytes)
{
    memset(p, 0, sizeof(*p));
    p->page_bytes = page_bytes;
    uint64_t npages = page_bytes ? capacity_bytes / page_bytes : 0;
    if (npages > UINT32_MAX - 63)
        return -1;
    if (npages == 0)
        return 0;
    size_t len = (size_t)npages * page_bytes;
    void *arena =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED)
        return -1;
    p->bitmap = calloc((npages + 63) / 64, sizeof(uint64_t));
    if (!p->bitmap) {
        munmap(arena, len);
        return -1;
    }
    p->arena = arena;
    p->npages = (uint32_t)npages;
    p->nfree = (uint32_t)npages;
    return 0;
}

void mlpio_kv_pages_fini(struct mlpio_kv_pages *p)
{
    if (!p)
        return;
    if (p->arena)
        munmap(p->arena, (size_t)p->npages * p->page_bytes);
    free(p->bitmap);
    memset(p, 0, sizeof(*p));
}

/* The free runs that n pages take, from the cursor on (wrapping), in order: *nruns of them,
 * written to runs[] when runs is not NULL. Returns the pages found (< n: too few are free). */
static uint32_t free_runs(const struct mlpio_kv_pages *p, uint32_t n, struct mlpio_kv_run *runs,
                          uint32_t *nruns)
{
    uint32_t got = 0, r = 0;
    for (uint32_t pass = 0, i = p->cursor; pass < 2 && got < n; pass++, i = 0) {
        uint32_t limit = pass == 0 ? p->npages : p->cursor;
        while (got < n && i < limit) {
            uint32_t start = find_bit(p, i, false);
            if (start >= limit)
                break;
            uint32_t end = find_bit(p, start, true);
            end = end < limit ? end : limit;
            uint32_t take = end - start < n - got ? end - start : n - got;
            if (runs)
                runs[r] = (struct mlpio_kv_run){start, take};
            r++;
            got += take;
            i = start + take;
        }
    }
    *nruns = r;
    return got;
}

/* Take n free pages wherever they are, from the cursor on (wrapping), as runs. The runs are
 * counted first so that the run list is allocated once and nothing is taken when that
 * allocation fails. */
static int alloc_scattered(struct mlpio_kv_pages *p, uint32_t n, struct mlpio_kv_alloc *out)
{
    uint32_t nruns = 0;
    if (free_runs(p, n, NULL, &nruns) < n)
        return -1;
    struct mlpio_kv_run *all = malloc((size_t)nruns * sizeof(*all));
    if (!all)
        return -1;
    free_runs(p, n, all, &nruns);
    for (uint32_t k = 0; k < nruns; k++)
        bits_assign(p->bitmap, all[k].first, all[k].count, true);
    struct mlpio_kv_run last = all[nruns - 1];
    out->run0 = all[0];
    out->nruns = nruns;
    out->more = NULL;
    if (nruns > 1) {
        /* the first run lives inline; the rest move down one place */
        memmove(all, all + 1, (size_t)(nruns - 1) * sizeof(*all));
        out->more = all;
    } else {
        free(all);
    }
    p->cursor = last.first + last.count == p->npages ? 0 : last.first + last.count;
    return 0;
}

int mlpio_kv_pages_alloc(struct mlpio_kv_pages *p, uint64_t bytes, struct mlpio_kv_alloc *out)
{
    memset(out, 0, sizeof(*out));
    if (bytes == 0 || p->page_bytes == 0)
        return -1;
    uint64_t n64 = (bytes + p->page_bytes - 1) / p->page_bytes;
    if (n64 > p->nfree)
        return -1;
    uint32_t n = (uint32_t)n64;
    uint32_t start = find_run(p, p->cursor, p->npages, n);
    if (start == UINT32_MAX)
        start = find_run(p, 0, p->cursor, n);
    if (start != UINT32_MAX) {
        bits_assign(p->bitmap, start, n, true);
        out->run0 = (struct mlpio_kv_run){start, n};
        out->nruns = 1;
        p->cursor = start + n == p->npages ? 0 : start + n;
    } else if (alloc_scattered(p, n, out) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->npages = n;
    out->bytes = bytes;
    p->nfree -= n;
    return 0;
}

void mlpio_kv_pages_free(struct mlpio_kv_pages *p, struct mlpio_kv_alloc *a)
{
    if (!a || a->npages == 0)
        return;
    for (uint32_t i = 0; i < a->nruns; i++) {
        struct mlpio_kv_run run = mlpio_kv_alloc_run(a, i);
        bits_assign(p->bitmap, run.first, run.count, false);
    }
    p->nfree += a->npages;
    free(a->more);
    memset(a, 0, sizeof(*a));
}

bool mlpio_kv_alloc_contiguous(const struct mlpio_kv_alloc *a)
{
    return a->nruns == 1;
}

uint8_t *mlpio_kv_pages_span(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                             uint64_t off, size_t *len)
{
    uint64_t skip = off;
    for (uint32_t i = 0; i < a->nruns; i++) {
        struct mlpio_kv_run run = mlpio_kv_alloc_run(a, i);
        uint64_t run_bytes = (uint64_t)run.count * p->page_bytes;
        if (skip < run_bytes) {
            uint64_t left = a->bytes - off;
            uint64_t n = run_bytes - skip < left ? run_bytes - skip : left;
            *len = (size_t)n;
            return p->arena + (uint64_t)run.first * p->page_bytes + skip;
        }
        skip -= run_bytes;
    }
    *len = 0;
    return NULL;
}

void mlpio_kv_pages_write(struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a, uint64_t off,
                          const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len > 0) {
        size_t n;
        uint8_t *d = mlpio_kv_pages_span(p, a, off, &n);
        n = n < len ? n : len;
        memcpy(d, s, n);
        s += n;
        off += n;
        len -= n;
    }
}

void mlpio_kv_pages_read(const struct mlpio_kv_pages *p, const struct mlpio_kv_alloc *a,
                         uint64_t off, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len > 0) {
        size_t n;
        const uint8_t *s = mlpio_kv_pages_span(p, a, off, &n);
        n = n < len ? n : len;
        memcpy(d, s, n);
        d += n;
        off += n;
        len -= n;
    }
}

uint64_t mlpio_kv_pages_used_bytes(const struct mlpio_kv_pages *p)
{
    return (uint64_t)(p->npages - p->nfree) * p->page_bytes;
}

uint64_t mlpio_kv_pages_capacity_bytes(const struct mlpio_kv_pages *p)
{
    return (uint64_t)p->npages * p->page_bytes;
}
