/* Unit tests of the KV-cache page allocator: contiguous first fit from a rotating cursor,
 * scattered pages when fragmented, all-or-nothing failure, partial last pages, idempotent
 * free, an empty arena, copies across runs, and a large budget that costs no memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/workloads/kvcache/pages.h"

#define PAGE 4096

static struct mlpio_kv_pages arena(uint32_t npages)
{
    struct mlpio_kv_pages p;
    assert_int_equal(mlpio_kv_pages_init(&p, (uint64_t)npages * PAGE + PAGE / 2, PAGE), 0);
    assert_int_equal(p.npages, npages); /* the half page is rounded away */
    return p;
}

static struct mlpio_kv_alloc take(struct mlpio_kv_pages *p, uint64_t bytes)
{
    struct mlpio_kv_alloc a;
    assert_int_equal(mlpio_kv_pages_alloc(p, bytes, &a), 0);
    return a;
}

static bool page_used(const struct mlpio_kv_pages *p, uint32_t i)
{
    return (p->bitmap[i / 64] >> (i % 64)) & 1;
}

static void test_contiguous_first_fit_rotates(void **state)
{
    struct mlpio_kv_pages p = arena(10);
    struct mlpio_kv_alloc a = take(&p, 3 * PAGE);
    struct mlpio_kv_alloc b = take(&p, 2 * PAGE);
    assert_true(mlpio_kv_alloc_contiguous(&a));
    assert_int_equal(a.run0.first, 0);
    assert_int_equal(a.run0.count, 3);
    assert_null(a.more);
    assert_int_equal(b.run0.first, 3);
    assert_int_equal(p.nfree, 5);
    assert_int_equal(mlpio_kv_pages_used_bytes(&p), 5 * PAGE);

    /* The hole a leaves is not taken while there is room after the cursor... */
    mlpio_kv_pages_free(&p, &a);
    struct mlpio_kv_alloc c = take(&p, 3 * PAGE);
    assert_int_equal(c.run0.first, 5);
    /* ...and is found again once the search wraps around. */
    struct mlpio_kv_alloc d = take(&p, 3 * PAGE);
    assert_true(mlpio_kv_alloc_contiguous(&d));
    assert_int_equal(d.run0.first, 0);
    assert_int_equal(p.nfree, 2); /* pages 8 and 9: too few for d after the cursor */
    mlpio_kv_pages_free(&p, &b);
    mlpio_kv_pages_free(&p, &c);
    mlpio_kv_pages_free(&p, &d);
    assert_int_equal(p.nfree, 10);
    mlpio_kv_pages_fini(&p);
}

static void test_scattered_when_fragmented(void **state)
{
    struct mlpio_kv_pages p = arena(8);
    struct mlpio_kv_alloc one[8];
    for (int i = 0; i < 8; i++)
        one[i] = take(&p, PAGE);
    /* Free pages 1, 3, 4 and 6: no run of 4, but 4 pages. */
    int holes[] = {1, 3, 4, 6};
    for (int i = 0; i < 4; i++)
        mlpio_kv_pages_free(&p, &one[holes[i]]);
    struct mlpio_kv_alloc s = take(&p, 4 * PAGE - 10);
    assert_false(mlpio_kv_alloc_contiguous(&s));
    assert_int_equal(s.npages, 4);
    assert_int_equal(s.nruns, 3); /* 1, 3-4, 6 */
    uint32_t got[4], n = 0;
    for (uint32_t r = 0; r < s.nruns; r++) {
        struct mlpio_kv_run run = mlpio_kv_alloc_run(&s, r);
        for (uint32_t k = 0; k < run.count; k++)
            got[n++] = run.first + k;
    }
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(got[i], holes[i]);
        assert_true(page_used(&p, got[i]));
    }
    assert_int_equal(p.nfree, 0);

    /* Bytes written across the runs come back in order. */
    uint8_t in[4 * PAGE], out[4 * PAGE];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    mlpio_kv_pages_write(&p, &s, 0, in, s.bytes);
    memset(out, 0, sizeof(out));
    mlpio_kv_pages_read(&p, &s, 0, out, s.bytes);
    assert_memory_equal(in, out, s.bytes);
    /* The second run starts at page 3 of the arena, offset PAGE of the allocation. */
    assert_memory_equal(p.arena + 3 * PAGE, in + PAGE, 2 * PAGE);
    size_t span;
    assert_ptr_equal(mlpio_kv_pages_span(&p, &s, PAGE + 5, &span), p.arena + 3 * PAGE + 5);
    assert_int_equal(span, 2 * PAGE - 5);
    assert_ptr_equal(mlpio_kv_pages_span(&p, &s, 3 * PAGE, &span), p.arena + 6 * PAGE);
    assert_int_equal(span, PAGE - 10); /* to the end of the allocation, not of the page */

    mlpio_kv_pages_free(&p, &s);
    for (int i = 0; i < 8; i++)
        mlpio_kv_pages_free(&p, &one[i]);
    assert_int_equal(p.nfree, 8);
    mlpio_kv_pages_fini(&p);
}

static void test_exhaustion_takes_nothing(void **state)
{
    struct mlpio_kv_pages p = arena(130); /* more than two bitmap words */
    struct mlpio_kv_alloc a = take(&p, 125 * PAGE);
    uint64_t before[3];
    memcpy(before, p.bitmap, sizeof(before));
    struct mlpio_kv_alloc fail;
    assert_int_equal(mlpio_kv_pages_alloc(&p, 6 * PAGE, &fail), -1);
    assert_int_equal(mlpio_kv_pages_alloc(&p, 5 * PAGE + 1, &fail), -1);
    assert_int_equal(fail.npages, 0);
    assert_int_equal(p.nfree, 5);
    assert_memory_equal(before, p.bitmap, sizeof(before));
    struct mlpio_kv_alloc b = take(&p, 5 * PAGE);
    assert_int_equal(b.run0.first, 125);
    assert_int_equal(p.nfree, 0);
    assert_int_equal(mlpio_kv_pages_alloc(&p, 1, &fail), -1);
    mlpio_kv_pages_free(&p, &a);
    mlpio_kv_pages_free(&p, &b);
    mlpio_kv_pages_fini(&p);
}

static void test_partial_last_page(void **state)
{
    struct mlpio_kv_pages p = arena(4);
    struct mlpio_kv_alloc a = take(&p, 2 * PAGE + 1);
    assert_int_equal(a.npages, 3);
    assert_int_equal(a.bytes, 2 * PAGE + 1);
    assert_int_equal(mlpio_kv_pages_used_bytes(&p), 3 * PAGE);
    struct mlpio_kv_alloc b = take(&p, 1);
    assert_int_equal(b.npages, 1);
    struct mlpio_kv_alloc none;
    assert_int_equal(mlpio_kv_pages_alloc(&p, 0, &none), -1);
    assert_int_equal(p.nfree, 0);
    mlpio_kv_pages_free(&p, &a);
    mlpio_kv_pages_free(&p, &b);
    mlpio_kv_pages_fini(&p);
}

static void test_free_is_idempotent(void **state)
{
    struct mlpio_kv_pages p = arena(4);
    struct mlpio_kv_alloc a = take(&p, PAGE);
    struct mlpio_kv_alloc b = take(&p, PAGE);
    mlpio_kv_pages_free(&p, &a);
    assert_int_equal(p.nfree, 3);
    mlpio_kv_pages_free(&p, &a);
    mlpio_kv_pages_free(&p, NULL);
    assert_int_equal(p.nfree, 3);
    assert_true(page_used(&p, b.run0.first)); /* a second free did not release b's page */
    mlpio_kv_pages_free(&p, &b);
    mlpio_kv_pages_fini(&p);
    mlpio_kv_pages_fini(&p);
}

static void test_capacity_zero(void **state)
{
    static const uint64_t capacities[] = {0, PAGE - 1};
    for (size_t i = 0; i < sizeof(capacities) / sizeof(capacities[0]); i++) {
        struct mlpio_kv_pages p;
        assert_int_equal(mlpio_kv_pages_init(&p, capacities[i], PAGE), 0);
        assert_int_equal(p.npages, 0);
        assert_int_equal(mlpio_kv_pages_capacity_bytes(&p), 0);
        assert_int_equal(mlpio_kv_pages_used_bytes(&p), 0);
        struct mlpio_kv_alloc a;
        assert_int_equal(mlpio_kv_pages_alloc(&p, 1, &a), -1);
        mlpio_kv_pages_fini(&p);
    }
}

static long resident_pages(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    assert_non_null(fp);
    long size, resident;
    assert_int_equal(fscanf(fp, "%ld %ld", &size, &resident), 2);
    fclose(fp);
    return resident;
}

static void test_untouched_budget_costs_nothing(void **state)
{
    long before = resident_pages();
    struct mlpio_kv_pages p;
    assert_int_equal(mlpio_kv_pages_init(&p, (uint64_t)4 << 30, 2 << 20), 0);
    assert_int_equal(mlpio_kv_pages_capacity_bytes(&p), (uint64_t)4 << 30);
    struct mlpio_kv_alloc a = take(&p, (uint64_t)4 << 30);
    long after = resident_pages();
    long page = sysconf(_SC_PAGESIZE);
    /* Allocating marks bits; only touched pages become resident. */
    assert_true((after - before) * page < (8 << 20));
    mlpio_kv_pages_free(&p, &a);
    mlpio_kv_pages_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_first_fit_rotates),
        cmocka_unit_test(test_scattered_when_fragmented),
        cmocka_unit_test(test_exhaustion_takes_nothing),
        cmocka_unit_test(test_partial_last_page),
        cmocka_unit_test(test_free_is_idempotent),
        cmocka_unit_test(test_capacity_zero),
        cmocka_unit_test(test_untouched_budget_costs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
