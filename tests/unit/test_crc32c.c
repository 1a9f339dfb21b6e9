/* Unit tests of the checksums: published check values, incremental use over arbitrary splits,
 * every path this CPU has (tables, 128-bit and 512-bit carry-less folding) against a
 * bit-at-a-time reference written here, and the tfrecord mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "io/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);
typedef uint32_t (*crc_path_fn)(enum mlpio_crc_path, uint32_t, const void *, size_t);

struct crc_case {
    const char *name;
    crc_fn fast;
    crc_path_fn with;
    uint32_t poly;  /* reversed */
    uint32_t check; /* of "123456789" */
};

static const struct crc_case crcs[] = {
    {"crc32c", mlpio_crc32c, mlpio_crc32c_with, 0x82f63b78u, 0xe3069283u},
    {"crc32", mlpio_crc32, mlpio_crc32_with, 0xedb88320u, 0xcbf43926u},
};

static const char *const path_names[] = {"tables", "clmul", "vpclmul"};

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
        for (int path = MLPIO_CRC_TABLES; path <= MLPIO_CRC_VPCLMUL; path++)
            assert_int_equal(c->with(path, 0, "123456789", 9), c->check);
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

/* Every length around the folding paths' thresholds (128 and 512 bytes, rounds of 64 and 256)
 * and several alignments, against the bitwise reference, on every path: each must agree byte
 * for byte. */
static void test_paths_agree(void **state)
{
    size_t max = 2600;
    uint8_t *buf = malloc(max + 64);
    assert_non_null(buf);
    fill_random(buf, max + 64, 1);
    for (size_t i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++) {
        const struct crc_case *c = &crcs[i];
        for (size_t len = 0; len <= max; len += len < 1100 ? 1 : 37) {
            for (size_t align = 0; align < 64; align += 21) {
                uint32_t want = reference(c->poly, 0x5a5a5a5au, buf + align, len);
                if (c->fast(0x5a5a5a5au, buf + align, len) != want)
                    fail_msg("%s: length %zu at +%zu differs from the reference", c->name, len,
                             align);
                for (int path = MLPIO_CRC_TABLES; path <= MLPIO_CRC_VPCLMUL; path++)
                    if (c->with(path, 0x5a5a5a5au, buf + align, len) != want)
                        fail_msg("%s on the %s path: length %zu at +%zu differs from the "
                                 "reference",
                                 c->name, path_names[path], len, align);
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
        for (int path = MLPIO_CRC_TABLES; path <= MLPIO_CRC_VPCLMUL; path++)
            assert_int_equal(whole, c->with(path, 0, buf, len));
        assert_int_equal(whole, reference(c->poly, 0, buf, len));
        for (int round = 0; round < 20; round++) {
            uint32_t crc = 0;
            for (size_t off = 0; off < len;) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                size_t n = (size_t)(rng >> 33) % (round < 10 ? 300 : 70000) + 1;
                if (n > len - off)
                    n = len - off;
                crc = c->with(round % 3, crc, buf + off, n);
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

/* The path chosen is the fastest the CPU reports. */
static void test_best_path(void **state)
{
    enum mlpio_crc_path want = MLPIO_CRC_TABLES;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512vl"))
        want = MLPIO_CRC_VPCLMUL;
    else if (__builtin_cpu_supports("pclmul"))
        want = MLPIO_CRC_CLMUL;
#endif
    assert_int_equal(mlpio_crc_best_path(), want);
    print_message("this CPU: %s\n", path_names[want]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values), cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_incremental),  cmocka_unit_test(test_mask),
        cmocka_unit_test(test_best_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
