/* Unit tests for the data generator (app/datagen.c). */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "app/datagen.h"
#include "support/io_checks.h"

#define BLK MLPIO_DATA_BLOCK

static unsigned char *filled(const struct mlpio_data_object *obj, uint64_t offset, size_t len)
{
    unsigned char *p = malloc(len);
    assert_non_null(p);
    mlpio_data_fill(obj, offset, p, len);
    return p;
}

static void test_same_inputs_same_bytes(void **state)
{
    (void)state;
    struct mlpio_data_object a, b;
    object_for(7, 3, "dataset/file_0001.npz", &a);
    object_for(7, 3, "dataset/file_0001.npz", &b);
    assert_memory_equal(&a, &b, sizeof(a));
    unsigned char *x = filled(&a, 0, 64 * BLK), *y = filled(&b, 0, 64 * BLK);
    assert_memory_equal(x, y, 64 * BLK);
    free(x);
    free(y);
}

/* Changing any one input changes every block, not just some bytes. */
static void test_any_input_changes_every_block(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed, rank;
        const char *name;
    } variants[] = {
        {8, 3, "obj"},  /* salt */
        {7, 4, "obj"},  /* rank */
        {7, 3, "obj2"}, /* object name */
        {7, 3, "Obj"},  /* object name, one bit */
    };
    const size_t len = 32 * BLK;
    struct mlpio_data_object base;
    object_for(7, 3, "obj", &base);
    unsigned char *ref = filled(&base, 0, len);
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        struct mlpio_data_object o;
        object_for(variants[v].seed, variants[v].rank, variants[v].name, &o);
        unsigned char *p = filled(&o, 0, len);
        for (size_t b = 0; b < len / BLK; b++)
            assert_true(memcmp(ref + b * BLK, p + b * BLK, BLK) != 0);
        free(p);
    }
    free(ref);
}

/* Slices at odd offsets and lengths equal the matching bytes of one large fill, including
 * fills large enough to take the cache-bypassing path, into aligned and unaligned memory. */
static void test_fill_slices_match_large_fill(void **state)
{
    (void)state;
    static const struct {
        uint64_t offset;
        size_t len;
        size_t misalign;
    } cases[] = {
        {0, 1, 0},
        {1, 4095, 1},
        {4095, 2, 0},
        {3 * BLK + 17, 10000, 3},
        {123457, 5 * BLK + 1, 0},
        {7 * BLK, 4 * BLK, 0},
        {5000, (4u << 20) + 333, 5}, /* large, unaligned destination */
        {BLK, (5u << 20), 0},        /* large, aligned destination, block offset */
        {(9u << 20) - 100, 100, 0},  /* the very end */
    };
    const size_t total = 9u << 20;
    struct mlpio_data_object o;
    object_for(1, 0, "slices", &o);
    unsigned char *whole = aligned_alloc(4096, total);
    assert_non_null(whole);
    mlpio_data_fill(&o, 0, whole, total);
    unsigned char *buf = aligned_alloc(4096, total + 4096);
    assert_non_null(buf);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned char *dst = buf + cases[c].misalign;
        memset(buf, 0xa5, total + 64);
        mlpio_data_fill(&o, cases[c].offset, dst, cases[c].len);
        assert_memory_equal(dst, whole + cases[c].offset, cases[c].len);
        assert_int_equal(dst[cases[c].len], 0xa5); /* nothing written past the end */
        if (cases[c].misalign)
            assert_int_equal(dst[-1], 0xa5);
    }
    memset(buf, 0xa5, 16);
    mlpio_data_fill(&o, 0, buf, 0);
    assert_int_equal(buf[0], 0xa5);
    free(buf);
    free(whole);
}

static void test_verify_finds_first_difference(void **state)
{
    (void)state;
    static const struct {
        uint64_t offset;
        size_t len, flip; /* flip: index in the buffer of the corrupted byte */
    } cases[] = {
        {0, 16 * BLK, 0},
        {0, 16 * BLK, 16 * BLK - 1},
        {100, 3 * BLK, 5},                   /* in the partial first block */
        {100, 3 * BLK, 2 * BLK + 9},         /* in a middle block */
        {BLK - 1, 2 * BLK + 2, 2 * BLK + 1}, /* the last byte, in a partial last block */
    };
    struct mlpio_data_object o;
    object_for(2, 5, "verify", &o);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned char *p = filled(&o, cases[c].offset, cases[c].len);
        uint64_t where = 12345;
        assert_int_equal(mlpio_data_verify(&o, cases[c].offset, p, cases[c].len, &where), 0);
        assert_int_equal(where, 12345); /* untouched on success */
        p[cases[c].flip] ^= 0x10;
        assert_int_equal(mlpio_data_verify(&o, cases[c].offset, p, cases[c].len, &where), -1);
        assert_int_equal(where, cases[c].offset + cases[c].flip);
        assert_int_equal(mlpio_data_verify(&o, cases[c].offset, p, cases[c].len, NULL), -1);
        /* Data of another object is rejected at its first byte. */
        p[cases[c].flip] ^= 0x10;
        struct mlpio_data_object other;
        object_for(2, 5, "verify2", &other);
        assert_int_equal(mlpio_data_verify(&other, cases[c].offset, p, cases[c].len, &where), -1);
        assert_true(where < cases[c].offset + 8);
        free(p);
    }
}

/* The documented construction, written the slow and obvious way: lane i of block b starts from
 * splitmix64 images of the object key and k1 + b, then runs xorshift128+; words are stored
 * little-endian, lanes interleaved. Data written by one build must verify under another. */
static uint64_t ref_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void ref_block(const struct mlpio_data_object *o, uint64_t b, unsigned char *out)
{
    uint64_t s0[16], s1[16];
    for (uint64_t i = 0; i < 16; i++) {
        s0[i] = ref_mix(ref_mix(o->k0 + (2 * i + 1) * 0x9e3779b97f4a7c15ULL) ^ (o->k1 + b));
        s1[i] = ref_mix(ref_mix(o->k0 + (2 * i + 2) * 0x9e3779b97f4a7c15ULL) ^ (o->k1 + b));
    }
    for (int t = 0; t < BLK / 128; t++) {
        for (int i = 0; i < 16; i++) {
            uint64_t x = s0[i], y = s1[i];
            x ^= x << 23;
            x ^= y ^ (x >> 17) ^ (y >> 26);
            s0[i] = y;
            s1[i] = x;
            for (int k = 0; k < 8; k++)
                out[(t * 16 + i) * 8 + k] = (unsigned char)((x + y) >> (8 * k));
        }
    }
}

static void test_matches_reference_construction(void **state)
{
    (void)state;
    /* Large enough for the cache-bypassing path; starts at a block index above zero. */
    const size_t nblocks = 1300;
    const uint64_t first = 77;
    struct mlpio_data_object o;
    object_for(11, 2, "reference", &o);
    unsigned char *p = aligned_alloc(4096, nblocks * BLK);
    unsigned char want[BLK];
    assert_non_null(p);
    mlpio_data_fill(&o, first * BLK, p, nblocks * BLK);
    for (size_t b = 0; b < nblocks; b++) {
        ref_block(&o, first + b, want);
        assert_memory_equal(p + b * BLK, want, BLK);
    }
    free(p);
}

/* Pins the key derivation (seed -> salt -> rank key -> object): the same seed must give the same
 * bytes in every release, or data written earlier could no longer be verified. */
static void test_known_answer(void **state)
{
    (void)state;
    struct mlpio_data_salt salt;
    char hex[65];
    mlpio_data_salt_from_seed(42, &salt);
    mlpio_data_salt_to_hex(&salt, hex);
    assert_string_equal(hex, "9ce5f48b3a6425e0442ca4d54536bce2ebda6d69bbf9d6d5b238ebcc476fb070");
    struct mlpio_data_object o;
    object_for(42, 3, "golden", &o);
    unsigned char buf[2 * BLK], h[16];
    mlpio_data_fill(&o, 100, buf, sizeof(buf));
    crypto_generichash(h, sizeof(h), buf, sizeof(buf), NULL, 0);
    char got[33];
    for (int i = 0; i < 16; i++)
        snprintf(got + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(got, "c1308f2b4d316c901f5d9f8067bb540a");
}

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* 4 ranks x 4 objects x 2 MiB: every 4 KiB block is different from every other. */
static void test_no_two_blocks_equal(void **state)
{
    (void)state;
    enum { RANKS = 4, OBJECTS = 4, LEN = 2 << 20, PER = LEN / BLK };
    static const char *names[OBJECTS] = {"a", "b", "ckpt/layer_0", "ckpt/layer_1"};
    unsigned char *hashes = malloc((size_t)RANKS * OBJECTS * PER * 16);
    unsigned char *buf = malloc(LEN);
    assert_non_null(hashes);
    assert_non_null(buf);
    size_t n = 0;
    for (int r = 0; r < RANKS; r++) {
        for (int k = 0; k < OBJECTS; k++) {
            struct mlpio_data_object o;
            object_for(99, (uint64_t)r, names[k], &o);
            mlpio_data_fill(&o, 0, buf, LEN);
            for (size_t b = 0; b < PER; b++, n++)
                crypto_generichash(hashes + n * 16, 16, buf + b * BLK, BLK, NULL, 0);
        }
    }
    qsort(hashes, n, 16, cmp16);
    for (size_t i = 1; i < n; i++)
        assert_true(memcmp(hashes + (i - 1) * 16, hashes + i * 16, 16) != 0);
    free(buf);
    free(hashes);
}

static void test_bytes_have_full_entropy(void **state)
{
    (void)state;
    const size_t len = 8u << 20;
    struct mlpio_data_object o;
    object_for(3, 1, "entropy", &o);
    unsigned char *p = filled(&o, 0, len);
    uint64_t count[256] = {0};
    for (size_t i = 0; i < len; i++)
        count[p[i]]++;
    double h = 0.0;
    for (int v = 0; v < 256; v++) {
        double q = (double)count[v] / (double)len;
        if (q > 0)
            h -= q * log2(q);
    }
    assert_true(h > 7.99);
    free(p);
}

static void test_salt_from_seed(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 2, 1ull << 32, UINT64_MAX};
    enum { N = sizeof(seeds) / sizeof(seeds[0]) };
    struct mlpio_data_salt s[N], again;
    for (int i = 0; i < N; i++) {
        mlpio_data_salt_from_seed(seeds[i], &s[i]);
        mlpio_data_salt_from_seed(seeds[i], &again);
        assert_memory_equal(&s[i], &again, sizeof(again));
        for (int j = 0; j < i; j++)
            assert_true(memcmp(&s[i], &s[j], sizeof(s[i])) != 0);
    }
    /* Random salts differ from each other and from seeded ones. */
    struct mlpio_data_salt r1, r2;
    struct mlpio_error err;
    assert_int_equal(mlpio_data_salt_random(&r1, &err), 0);
    assert_int_equal(mlpio_data_salt_random(&r2, &err), 0);
    assert_true(memcmp(&r1, &r2, sizeof(r1)) != 0);
    assert_true(memcmp(&r1, &s[0], sizeof(r1)) != 0);
}

static void test_hex_round_trip(void **state)
{
    (void)state;
    struct mlpio_data_salt s, back;
    char hex[65];
    mlpio_data_salt_from_seed(42, &s);
    mlpio_data_salt_to_hex(&s, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 64);
    assert_int_equal(mlpio_data_salt_from_hex(hex, &back), 0);
    assert_memory_equal(&s, &back, sizeof(s));
    for (int i = 0; i < 64; i++)
        hex[i] = (char)toupper((unsigned char)hex[i]);
    memset(&back, 0, sizeof(back));
    assert_int_equal(mlpio_data_salt_from_hex(hex, &back), 0);
    assert_memory_equal(&s, &back, sizeof(s));
}

static void test_malformed_hex_rejected(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "00",
        "000000000000000000000000000000000000000000000000000000000000000",   /* 63 */
        "00000000000000000000000000000000000000000000000000000000000000000", /* 65 */
        "g000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000 ",
        "0x00000000000000000000000000000000000000000000000000000000000000",
        "-000000000000000000000000000000000000000000000000000000000000000",
        NULL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mlpio_data_salt s;
        memset(&s, 0x5a, sizeof(s));
        assert_int_equal(mlpio_data_salt_from_hex(bad[i], &s), -1);
        for (size_t j = 0; j < sizeof(s.bytes); j++)
            assert_int_equal(s.bytes[j], 0x5a); /* untouched */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_inputs_same_bytes),
        cmocka_unit_test(test_any_input_changes_every_block),
        cmocka_unit_test(test_fill_slices_match_large_fill),
        cmocka_unit_test(test_verify_finds_first_difference),
        cmocka_unit_test(test_matches_reference_construction),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_no_two_blocks_equal),
        cmocka_unit_test(test_bytes_have_full_entropy),
        cmocka_unit_test(test_salt_from_seed),
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_malformed_hex_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
