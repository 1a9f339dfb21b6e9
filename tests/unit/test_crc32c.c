/* Unit tests of the checksums: published check values, incremental use over arbitrary splits,
 * the carry-less multiplication path against the tables and against a bit-at-a-time
 * reference written here, and the tfrecord mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "io/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

struct crc_case {
    const char *name;
    crc_fn fast, portable;
    uint32_t poly;  /* reversed */
    uint32_t check; /* of "123456789" */
};

static const struct crc_case crcs[] = {
    {"crc32c", mlpio_crc32c, mlpio_crc32c_portable, 0x82f63b78u, 0xe3069283u},
    {"crc32", mlpio_crc32, mlpio_crc32_portable, 0xedb88320u, 0xcbf43926u},
};

/* One bit at a time, straight from the definition. */
static uint32_t reference(uint32_t poly, uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (crc & 1 ? poly : 0);
    }
    return ~crc;
}

/* Deterministic bytes (splitmix64), so that a failure repeats. */
static void fill_random(uint8_t *p, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        p[i] = (uint8_t)(z ^ (z >> 31));
    }
}

static void test_check_values(void **state)
{
    uint8_t zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof(ones));
    for (size_t i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++) {
        const struct crc_case *c = &crcs[i];
        assert_int_equal(c->fast(0, "123456789", 9), c->check);
        assert_int_equal(c->portable(0, "123456789", 9), c->check);
        assert_int_equal(c->fast(0, NULL, 0), 0);
        assert_int_equal(c->fast(0x12345678u, "", 0), 0x12345678u);
    }
    /* iSCSI (RFC 3720, B.4) vectors for CRC-32C. */
    assert_int_equal(mlpio_crc32c(0, zeros, sizeof(zeros)), 0x8a9136aau);
    assert_int_equal(mlpio_crc32c(0, ones, sizeof(ones)), 0x62a8ab43u);
    uint8_t inc[32], dec[32];
    for (int i = 0; i < 32; i++) {
        inc[i] = (uint8_t)i;
        dec[i] = (uint8_t)(31 - i);
    }
    assert_int_equal(mlpio_crc32c(0, inc, sizeof(inc)), 0x46dd794eu);
    assert_int_equal(mlpio_crc32c(0, dec, sizeof(dec)), 0x113fdb5cu);
    assert_int_equal(mlpio_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
                     0x414fa339u);
}

/* Every length around the folding path's thresholds and every alignment, against the bitwise
 * reference; the fast and portable paths must agree byte for byte. */
static void test_paths_agree(void **state)
{
    size_t max = 1200;
    uint8_t *buf = malloc(max + 64);
    assert_non_null(buf);
    fill_random(buf, max + 64, 1);
    for (size_t i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++) {
        const struct crc_case *c = &crcs[i];
        for (size_t len = 0; len <= max; len += len < 300 ? 1 : 37) {
            for (size_t align = 0; align < 16; align += 5) {
                uint32_t want = reference(c->poly, 0x5a5a5a5au, buf + align, len);
                if (c->fast(0x5a5a5a5au, buf + align, len) != want ||
                    c->portable(0x5a5a5a5au, buf + align, len) != want)
                    fail_msg("%s: length %zu at +%zu differs from the reference", c->name, len,
                             align);
            }
        }
    }
    free(buf);
}

/* crc(crc(0, a), b) == crc(0, a || b) for random splits of a large buffer. */
static void test_incremental(void **state)
{
    size_t len = (1u << 20) + 333;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill_random(buf, len, 7);
    uint64_t rng = 12345;
    for (size_t i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++) {
        const struct crc_case *c = &crcs[i];
        uint32_t whole = c->fast(0, buf, len);
        assert_int_equal(whole, c->portable(0, buf, len));
        assert_int_equal(whole, reference(c->poly, 0, buf, len));
        for (int round = 0; round < 20; round++) {
            uint32_t crc = 0;
            for (size_t off = 0; off < len;) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                size_t n = (size_t)(rng >> 33) % (round < 10 ? 300 : 70000) + 1;
                if (n > len - off)
                    n = len - off;
                crc = (round & 1 ? c->portable : c->fast)(crc, buf + off, n);
                off += n;
            }
            assert_int_equal(crc, whole);
        }
    }
    free(buf);
}

static void test_mask(void **state)
{
    /* ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32. */
    assert_int_equal(mlpio_crc32c_mask(0), 0xa282ead8u);
    assert_int_equal(mlpio_crc32c_mask(0x12345678u), 0x4f730f40u);
    assert_int_equal(mlpio_crc32c_mask(0xffffffffu), 0xa282ead7u);
    /* The length field of a tfrecord record: CRC-32C 0x8c28b28a of 8 zero bytes, masked. */
    uint8_t len0[8] = {0};
    assert_int_equal(mlpio_crc32c(0, len0, 8), 0x8c28b28au);
    assert_int_equal(mlpio_crc32c_mask(mlpio_crc32c(0, len0, 8)), 0x07980329u);
}

static void test_accelerated_reported(void **state)
{
#if defined(__x86_64__)
    assert_int_equal(mlpio_crc_accelerated(), __builtin_cpu_supports("pclmul") != 0);
#else
    assert_false(mlpio_crc_accelerated());
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values),         cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_incremental),          cmocka_unit_test(test_mask),
        cmocka_unit_test(test_accelerated_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
