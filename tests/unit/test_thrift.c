/* Tests of the Thrift compact protocol (io/thrift.c): the bytes the writer produces for each
 * kind of field, the same bytes read back, and malformed messages refused with what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "io/thrift.h"

struct sink {
    uint8_t buf[4096];
    size_t len;
    int fail_after; /* flushes accepted before failing (-1: never) */
};

static int collect(void *arg, const uint8_t *p, size_t len)
{
    struct sink *s = arg;
    if (s->fail_after == 0)
        return -1;
    if (s->fail_after > 0)
        s->fail_after--;
    memcpy(s->buf + s->len, p, len);
    s->len += len;
    return 0;
}

/* Field headers: short form (delta 1..15) and long form (zigzag id), values zigzag. */
static void test_encoding(void **state)
{
    (void)state;
    struct sink s = {.fail_after = -1};
    struct mlpio_thrift_out o;
    mlpio_thrift_out_init(&o, collect, &s);
    mlpio_thrift_i32(&o, 1, 3);       /* 0x15 0x06 */
    mlpio_thrift_string(&o, 4, "ab"); /* 0x38 0x02 a b */
    mlpio_thrift_bool(&o, 5, true);   /* 0x11 */
    mlpio_thrift_i64(&o, 40, -1);     /* long form: 0x06, id 40 -> 0x50, value -1 -> 0x01 */
    mlpio_thrift_begin(&o, 41);       /* 0x1c, nested ids start again from 0 */
    mlpio_thrift_byte(&o, 1, -2);     /* 0x13 0xfe */
    mlpio_thrift_end(&o);             /* 0x00 */
    mlpio_thrift_list(&o, 42, MLPIO_TC_I32, 20); /* 0x19 0xf5 0x14 */
    for (int i = 0; i < 20; i++)
        mlpio_thrift_elem_i32(&o, i - 10);
    mlpio_thrift_i32(&o, 43, 300); /* 0x15, 600 = 0xd8 0x04 */
    assert_int_equal(mlpio_thrift_out_finish(&o), 0);
    static const uint8_t head[] = {0x15, 0x06, 0x38, 0x02, 'a',  'b',  0x11, 0x06, 0x50,
                                   0x01, 0x1c, 0x13, 0xfe, 0x00, 0x19, 0xf5, 0x14};
    assert_true(s.len == sizeof(head) + 20 + 3);
    assert_memory_equal(s.buf, head, sizeof(head));
    assert_int_equal(s.buf[sizeof(head)], 19); /* zigzag(-10) */
    static const uint8_t tail[] = {0x15, 0xd8, 0x04};
    assert_memory_equal(s.buf + s.len - 3, tail, 3);
    assert_int_equal(o.total, s.len);

    /* Counting alone gives the same length; a failing flush is reported. */
    struct mlpio_thrift_out c;
    mlpio_thrift_out_init(&c, NULL, NULL);
    for (int i = 0; i < 300; i++)
        mlpio_thrift_string(&c, 1, "0123456789");
    assert_int_equal(c.total, 12 + 299 * 13); /* a repeated id takes the long form */
    struct sink f = {.fail_after = 1};
    mlpio_thrift_out_init(&o, collect, &f);
    for (int i = 0; i < 300; i++)
        mlpio_thrift_string(&o, 1, "0123456789");
    assert_int_equal(mlpio_thrift_out_finish(&o), -1);
}

static void test_decoding(void **state)
{
    (void)state;
    static const uint8_t msg[] = {0x15, 0x06, 0x38, 0x02, 'a',  'b',  0x11, 0x06, 0x50, 0x01,
                                  0x1c, 0x13, 0xfe, 0x00, 0x19, 0x35, 0x02, 0x04, 0x06, 0x00};
    struct mlpio_thrift_in in;
    mlpio_thrift_in_init(&in, msg, sizeof(msg));
    int16_t last = 0, id;
    uint8_t t, et;
    int32_t v32;
    int64_t v64;
    const uint8_t *p;
    uint32_t n;
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_true(id == 1 && t == MLPIO_TC_I32);
    assert_int_equal(mlpio_thrift_read_i32(&in, t, &v32), 0);
    assert_int_equal(v32, 3);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_int_equal(id, 4);
    assert_int_equal(mlpio_thrift_read_binary(&in, t, &p, &n), 0);
    assert_true(n == 2 && memcmp(p, "ab", 2) == 0);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_true(id == 5 && t == MLPIO_TC_TRUE);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_true(id == 40 && t == MLPIO_TC_I64);
    assert_int_equal(mlpio_thrift_read_i64(&in, t, &v64), 0);
    assert_int_equal(v64, -1);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_true(id == 41 && t == MLPIO_TC_STRUCT);
    assert_int_equal(mlpio_thrift_skip(&in, t), 0);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 1);
    assert_int_equal(mlpio_thrift_read_list(&in, t, &et, &n), 0);
    assert_true(id == 42 && et == MLPIO_TC_I32 && n == 3);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(mlpio_thrift_read_i32(&in, et, &v32), 0);
    assert_int_equal(v32, 3);
    assert_int_equal(mlpio_thrift_field(&in, &last, &id, &t), 0);
    assert_int_equal(in.pos, sizeof(msg));
}

/* Malformed messages: each refused at the byte at fault, saying what is wrong. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        uint8_t msg[16];
        size_t len, pos;
        const char *why;
    } cases[] = {
        {{0x15, 0x86}, 2, 2, "ends inside a varint"},
        {{0x18, 0x05, 'a'}, 3, 2, "runs past the end"},
        {{0x19, 0xf5, 0x7f}, 3, 3, "a list of 127 elements runs past"},
        {{0x1d}, 1, 0, "unknown field type 13"},
        {{0x15}, 1, 1, "ends inside a varint"},
        {{0x1c, 0x15, 0x02}, 3, 3, "ends inside a struct"},
        {{0x05, 0xff, 0xff, 0x07}, 4, 4, "out of range"},
        {{0x15, 0xff, 0xff, 0xff, 0xff, 0x7f}, 6, 6, "does not fit 32 bits"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_thrift_in in;
        mlpio_thrift_in_init(&in, cases[i].msg, cases[i].len);
        int16_t last = 0, id;
        uint8_t t;
        int rc = mlpio_thrift_field(&in, &last, &id, &t);
        if (rc == 1) {
            int32_t v;
            rc = t == MLPIO_TC_I32 ? mlpio_thrift_read_i32(&in, t, &v) : mlpio_thrift_skip(&in, t);
        }
        if (rc != -1 || !strstr(in.why, cases[i].why) || in.pos != cases[i].pos)
            fail_msg("case %zu: rc %d, pos %zu, '%s'", i, rc, in.pos, in.why);
    }
    /* Structs nested past the limit. */
    uint8_t deep[40];
    memset(deep, 0x1c, sizeof(deep));
    struct mlpio_thrift_in in;
    mlpio_thrift_in_init(&in, deep, sizeof(deep));
    assert_int_equal(mlpio_thrift_skip(&in, MLPIO_TC_STRUCT), -1);
    assert_non_null(strstr(in.why, "nested deeper"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
