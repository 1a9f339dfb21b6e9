/* Prefill: chunks come in order with exactly the generator's bytes, whatever the chunk and
 * stream sizes; a stopped stream leaves the queue ready for the next one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "app/prefill.h"
#include "support/io_checks.h"

/* Take a whole stream and check every chunk against a direct fill. */
static void take_all(struct mlpio_prefill *p, const struct mlpio_data_object *obj, uint64_t bytes,
                     size_t chunk)
{
    char *want = malloc(chunk);
    assert_non_null(want);
    uint64_t expect_off = 0, seen = 0;
    const void *buf;
    uint64_t off;
    size_t len;
    while ((buf = mlpio_prefill_next(p, &off, &len))) {
        assert_int_equal(off, expect_off);
        size_t want_len = bytes - off < chunk ? (size_t)(bytes - off) : chunk;
        assert_int_equal(len, want_len);
        mlpio_data_fill(obj, off, want, len);
        assert_memory_equal(buf, want, len);
        expect_off += len;
        seen += len;
    }
    assert_int_equal(seen, bytes);
    assert_null(mlpio_prefill_next(p, &off, &len)); /* stays exhausted */
    free(want);
}

static void test_streams(void **state)
{
    static const struct {
        size_t chunk;
        int depth;
        uint64_t bytes;
    } cases[] = {
        {65536, 2, 65536 * 5},       /* whole chunks */
        {65536, 2, 65536 * 5 + 123}, /* partial last chunk */
        {4096, 3, 1},                /* one byte */
        {4096, 2, 0},                /* empty stream */
        {1 << 20, 4, (1 << 20) * 3 + 4095},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_error err = {0};
        struct mlpio_prefill *p = mlpio_prefill_create(cases[i].chunk, cases[i].depth, &err);
        assert_non_null(p);
        struct mlpio_data_object a, b;
        object_for(11, 3, "a", &a);
        object_for(11, 3, "b", &b);
        mlpio_prefill_start(p, &a, cases[i].bytes);
        take_all(p, &a, cases[i].bytes, cases[i].chunk);
        /* A second stream on the same queue gets the second object's bytes. */
        mlpio_prefill_start(p, &b, cases[i].bytes);
        take_all(p, &b, cases[i].bytes, cases[i].chunk);
        mlpio_prefill_destroy(&p);
        assert_null(p);
    }
}

static void test_stop_mid_stream(void **state)
{
    struct mlpio_error err = {0};
    struct mlpio_prefill *p = mlpio_prefill_create(8192, 2, &err);
    assert_non_null(p);
    struct mlpio_data_object a, b;
    object_for(11, 3, "first", &a);
    object_for(11, 3, "second", &b);
    for (int round = 0; round < 50; round++) {
        mlpio_prefill_start(p, &a, 8192 * 100);
        uint64_t off;
        size_t len;
        for (int k = 0; k <= round % 5; k++)
            assert_non_null(mlpio_prefill_next(p, &off, &len));
        mlpio_prefill_stop(p);
        uint64_t off2;
        size_t len2;
        assert_null(mlpio_prefill_next(p, &off2, &len2)); /* nothing left after stop */
        mlpio_prefill_start(p, &b, 8192 * 3 + 7);
        take_all(p, &b, 8192 * 3 + 7, 8192);
    }
    mlpio_prefill_destroy(&p);
    mlpio_prefill_destroy(&p); /* NULL-safe */
    mlpio_prefill_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_stop_mid_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
