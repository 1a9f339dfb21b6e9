/* CRC-32C and CRC-32: see crc32c.h.
 *
 * Both are reflected CRCs (the first byte's lowest bit is the highest power of x), so one
 * implementation serves both, parametrised by a polynomial's constants.
 *
 * Tables: slicing-by-8 needs tables[k][b] = the CRC register after byte b followed by k zero
 * bytes. A CRC is linear over GF(2), so an entry is the XOR of the entries of b's set bits: the
 * tables below are constant expressions built from eight single-bit rows per k, which keeps
 * them in read-only data with no run-time initialisation and no mutable state.
 *
 * Folding (x86-64 with PCLMULQDQ): the message, taken 16 bytes at a time, is kept as a 128-bit
 * remainder A congruent to it modulo P. Moving A forward by D bits is A * x^D mod P, done as two
 * 64x64 carry-less products with the constants x^(D+64) mod P and x^D mod P, then XORing the
 * next block in. Four remainders advance 64 bytes apart to keep the multiplier busy, then
 * merge. The last 128-bit remainder and the tail bytes go through the tables.
 */
#include "io/crc32c.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_CLMUL 1
#else
#define HAVE_CLMUL 0
#endif

/* Entry b of a table whose single-bit rows are c0 (bit 0) .. c7 (bit 7). */
#define CRC_E(b, c0, c1, c2, c3, c4, c5, c6, c7)                                                   \
    ((((b) >> 0 & 1) * (c0)) ^ (((b) >> 1 & 1) * (c1)) ^ (((b) >> 2 & 1) * (c2)) ^                 \
     (((b) >> 3 & 1) * (c3)) ^ (((b) >> 4 & 1) * (c4)) ^ (((b) >> 5 & 1) * (c5)) ^                 \
     (((b) >> 6 & 1) * (c6)) ^ (((b) >> 7 & 1) * (c7)))
#define CRC_R4(b, ...)                                                                             \
    CRC_E((b), __VA_ARGS__), CRC_E((b) + 1, __VA_ARGS__), CRC_E((b) + 2, __VA_ARGS__),             \
        CRC_E((b) + 3, __VA_ARGS__)
#define CRC_R16(b, ...)                                                                            \
    CRC_R4((b), __VA_ARGS__), CRC_R4((b) + 4, __VA_ARGS__), CRC_R4((b) + 8, __VA_ARGS__),          \
        CRC_R4((b) + 12, __VA_ARGS__)
#define CRC_R64(b, ...)                                                                            \
    CRC_R16((b), __VA_ARGS__), CRC_R16((b) + 16, __VA_ARGS__), CRC_R16((b) + 32, __VA_ARGS__),     \
        CRC_R16((b) + 48, __VA_ARGS__)
#define CRC_TABLE(...)                                                                             \
    {                                                                                              \
        CRC_R64(0, __VA_ARGS__), CRC_R64(64, __VA_ARGS__), CRC_R64(128, __VA_ARGS__),              \
            CRC_R64(192, __VA_ARGS__)                                                              \
    }

struct crc_poly {
    uint32_t table[8][256];
    /* Folding constants, bit-reflected into the top 32 bits of a 64-bit lane: x^(D+63) mod P
     * for the remainder's first (higher) half and x^(D-1) mod P for its second half. The
     * exponents are one short of D+64 and D because a carry-less product of two reflected
     * operands comes out one position too low. */
    uint64_t fold2048[2];
    uint64_t fold512[2];
    uint64_t fold128[2];
};

/* Castagnoli, reversed 0x82f63b78. */
static const struct crc_poly castagnoli = {
    .table =
        {
            CRC_TABLE(0xf26b8303u, 0xe13b70f7u, 0xc79a971fu, 0x8ad958cfu, 0x105ec76fu, 0x20bd8edeu,
                      0x417b1dbcu, 0x82f63b78u),
            CRC_TABLE(0x13a29877u, 0x274530eeu, 0x4e8a61dcu, 0x9d14c3b8u, 0x3fc5f181u, 0x7f8be302u,
                      0xff17c604u, 0xfbc3faf9u),
            CRC_TABLE(0xa541927eu, 0x4f6f520du, 0x9edea41au, 0x38513ec5u, 0x70a27d8au, 0xe144fb14u,
                      0xc76580d9u, 0x8b277743u),
            CRC_TABLE(0xdd45aab8u, 0xbf672381u, 0x7b2231f3u, 0xf64463e6u, 0xe964b13du, 0xd725148bu,
                      0xaba65fe7u, 0x52a0c93fu),
            CRC_TABLE(0x38116facu, 0x7022df58u, 0xe045beb0u, 0xc5670b91u, 0x8f2261d3u, 0x1ba8b557u,
                      0x37516aaeu, 0x6ea2d55cu),
            CRC_TABLE(0xef306b19u, 0xdb8ca0c3u, 0xb2f53777u, 0x6006181fu, 0xc00c303eu, 0x85f4168du,
                      0x0e045bebu, 0x1c08b7d6u),
            CRC_TABLE(0x68032cc8u, 0xd0065990u, 0xa5e0c5d1u, 0x4e2dfd53u, 0x9c5bfaa6u, 0x3d5b83bdu,
                      0x7ab7077au, 0xf56e0ef4u),
            CRC_TABLE(0x493c7d27u, 0x9278fa4eu, 0x211d826du, 0x423b04dau, 0x847609b4u, 0x0d006599u,
                      0x1a00cb32u, 0x34019664u),
        },
    .fold2048 = {0xe9a5d8be00000000ull, 0x1426a81500000000ull},
    .fold512 = {0x1c19243b00000000ull, 0x75bba45b00000000ull},
    .fold128 = {0x3743f7bd00000000ull, 0x3171d43000000000ull},
};

/* IEEE 802.3, reversed 0xedb88320. */
static const struct crc_poly ieee = {
    .table =
        {
            CRC_TABLE(0x77073096u, 0xee0e612cu, 0x076dc419u, 0x0edb8832u, 0x1db71064u, 0x3b6e20c8u,
                      0x76dc4190u, 0xedb88320u),
            CRC_TABLE(0x191b3141u, 0x32366282u, 0x646cc504u, 0xc8d98a08u, 0x4ac21251u, 0x958424a2u,
                      0xf0794f05u, 0x3b83984bu),
            CRC_TABLE(0x01c26a37u, 0x0384d46eu, 0x0709a8dcu, 0x0e1351b8u, 0x1c26a370u, 0x384d46e0u,
                      0x709a8dc0u, 0xe1351b80u),
            CRC_TABLE(0xb8bc6765u, 0xaa09c88bu, 0x8f629757u, 0xc5b428efu, 0x5019579fu, 0xa032af3eu,
                      0x9b14583du, 0xed59b63bu),
            CRC_TABLE(0x3d6029b0u, 0x7ac05360u, 0xf580a6c0u, 0x30704bc1u, 0x60e09782u, 0xc1c12f04u,
                      0x58f35849u, 0xb1e6b092u),
            CRC_TABLE(0xcb5cd3a5u, 0x4dc8a10bu, 0x9b914216u, 0xec53826du, 0x03d6029bu, 0x07ac0536u,
                      0x0f580a6cu, 0x1eb014d8u),
            CRC_TABLE(0xa6770bb4u, 0x979f1129u, 0xf44f2413u, 0x33ef4e67u, 0x67de9cceu, 0xcfbd399cu,
                      0x440b7579u, 0x8816eaf2u),
            CRC_TABLE(0xccaa009eu, 0x4225077du, 0x844a0efau, 0xd3e51bb5u, 0x7cbb312bu, 0xf9766256u,
                      0x299dc2edu, 0x533b85dau),
        },
    .fold2048 = {0x7cc8e1e700000000ull, 0x03f9f86300000000ull},
    .fold512 = {0x653d982200000000ull, 0xcad38e8f00000000ull},
    .fold128 = {0x65673b4600000000ull, 0x9ba54c6f00000000ull},
};

/* Advance the register (the inverted CRC) over len bytes. */
static uint32_t table_update(const struct crc_poly *p, uint32_t reg, const uint8_t *s, size_t len)
{
    const uint32_t(*t)[256] = p->table;
    while (len >= 8) {
        uint32_t lo = reg ^ ((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                             (uint32_t)s[3] << 24);
        reg = t[7][lo & 0xff] ^ t[6][lo >> 8 & 0xff] ^ t[5][lo >> 16 & 0xff] ^ t[4][lo >> 24] ^
              t[3][s[4]] ^ t[2][s[5]] ^ t[1][s[6]] ^ t[0][s[7]];
        s += 8;
        len -= 8;
    }
    while (len--)
        reg = t[0][(reg ^ *s++) & 0xff] ^ (reg >> 8);
    return reg;
}

#if HAVE_CLMUL
#define CLMUL_TARGET __attribute__((target("pclmul")))
#define VPCLMUL_TARGET __attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul")))

/* Below these the setup of a folding path costs more than it saves. */
#define CLMUL_MIN 128
#define VPCLMUL_MIN 512

static inline __m128i consts(const uint64_t k[2])
{
    return _mm_set_epi64x((long long)k[1], (long long)k[0]);
}

CLMUL_TARGET static inline __m128i fold(__m128i a, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00), _mm_clmulepi64_si128(a, k, 0x11));
}

/* Remainders of the bulk: four 128-bit remainders 64 bytes apart, merged into one. Returns the
 * remainder of s[0, *off), *off a multiple of 64 no larger than len (>= 64). */
CLMUL_TARGET static __m128i bulk128(const struct crc_poly *p, __m128i a0, const uint8_t *s,
                                    size_t len, size_t *off)
{
    const __m128i k512 = consts(p->fold512), k128 = consts(p->fold128);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(s + 16));
    __m128i a2 = _mm_loadu_si128((const __m128i *)(s + 32));
    __m128i a3 = _mm_loadu_si128((const __m128i *)(s + 48));
    size_t i;
    for (i = 64; len - i >= 64; i += 64) {
        a0 = _mm_xor_si128(fold(a0, k512), _mm_loadu_si128((const __m128i *)(s + i)));
        a1 = _mm_xor_si128(fold(a1, k512), _mm_loadu_si128((const __m128i *)(s + i + 16)));
        a2 = _mm_xor_si128(fold(a2, k512), _mm_loadu_si128((const __m128i *)(s + i + 32)));
        a3 = _mm_xor_si128(fold(a3, k512), _mm_loadu_si128((const __m128i *)(s + i + 48)));
    }
    *off = i;
    __m128i a = _mm_xor_si128(fold(a0, k128), a1);
    a = _mm_xor_si128(fold(a, k128), a2);
    return _mm_xor_si128(fold(a, k128), a3);
}

/* The same with four 512-bit registers (sixteen 128-bit remainders) 256 bytes apart; each lane
 * folds on its own, so the constants are the 128-bit ones broadcast. len >= 256. */
VPCLMUL_TARGET static __m128i bulk512(const struct crc_poly *p, __m128i first, const uint8_t *s,
                                      size_t len, size_t *off)
{
    const __m512i k2048 = _mm512_broadcast_i32x4(consts(p->fold2048));
    const __m512i k512 = _mm512_broadcast_i32x4(consts(p->fold512));
    const __m128i k128 = consts(p->fold128);
    __m512i z0 = _mm512_inserti32x4(_mm512_loadu_si512(s), first, 0);
    __m512i z1 = _mm512_loadu_si512(s + 64);
    __m512i z2 = _mm512_loadu_si512(s + 128);
    __m512i z3 = _mm512_loadu_si512(s + 192);
/* z * x^D + next, three-way XOR in one instruction. */
#define FOLD512(z, k, next)                                                                        \
    _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128((z), (k), 0x00),                            \
                              _mm512_clmulepi64_epi128((z), (k), 0x11), (next), 0x96)
    size_t i;
    for (i = 256; len - i >= 256; i += 256) {
        z0 = FOLD512(z0, k2048, _mm512_loadu_si512(s + i));
        z1 = FOLD512(z1, k2048, _mm512_loadu_si512(s + i + 64));
        z2 = FOLD512(z2, k2048, _mm512_loadu_si512(s + i + 128));
        z3 = FOLD512(z3, k2048, _mm512_loadu_si512(s + i + 192));
    }
    z0 = FOLD512(z0, k512, z1);
    z0 = FOLD512(z0, k512, z2);
    z0 = FOLD512(z0, k512, z3);
#undef FOLD512
    *off = i;
    /* The four lanes are consecutive 16-byte remainders. */
    __m128i a = _mm_xor_si128(fold(_mm512_extracti32x4_epi32(z0, 0), k128),
                              _mm512_extracti32x4_epi32(z0, 1));
    a = _mm_xor_si128(fold(a, k128), _mm512_extracti32x4_epi32(z0, 2));
    return _mm_xor_si128(fold(a, k128), _mm512_extracti32x4_epi32(z0, 3));
}

/* Register after len (>= CLMUL_MIN) bytes; returns the bytes consumed via *used (a multiple of
 * 16) so that the caller finishes the tail with the tables. */
CLMUL_TARGET static uint32_t clmul_update(const struct crc_poly *p, enum mlpio_crc_path path,
                                          uint32_t reg, const uint8_t *s, size_t len,
                                          size_t *used)
{
    const __m128i k128 = consts(p->fold128);
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)s), _mm_cvtsi32_si128((int)reg));
    size_t off = 16;

    if (path == MLPIO_CRC_VPCLMUL && len >= VPCLMUL_MIN)
        a = bulk512(p, a, s, len, &off);
    else if (len >= 128)
        a = bulk128(p, a, s, len, &off);
    for (; len - off >= 16; off += 16)
        a = _mm_xor_si128(fold(a, k128), _mm_loadu_si128((const __m128i *)(s + off)));

    uint8_t rest[16];
    _mm_storeu_si128((__m128i *)rest, a);
    *used = off;
    return table_update(p, 0, rest, sizeof(rest));
}
#endif

enum mlpio_crc_path mlpio_crc_best_path(void)
{
#if HAVE_CLMUL
    if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512vl"))
        return MLPIO_CRC_VPCLMUL;
    if (__builtin_cpu_supports("pclmul"))
        return MLPIO_CRC_CLMUL;
#endif
    return MLPIO_CRC_TABLES;
}

static uint32_t crc_update(const struct crc_poly *p, enum mlpio_crc_path path, uint32_t crc,
                           const void *buf, size_t len)
{
    const uint8_t *s = buf;
    uint32_t reg = ~crc;
#if HAVE_CLMUL
    if (path != MLPIO_CRC_TABLES && len >= CLMUL_MIN) {
        enum mlpio_crc_path best = mlpio_crc_best_path();
        if (best != MLPIO_CRC_TABLES) {
            size_t used = 0;
            reg = clmul_update(p, path < best ? path : best, reg, s, len, &used);
            s += used;
            len -= used;
        }
    }
#else
    (void)path;
#endif
    return ~table_update(p, reg, s, len);
}

uint32_t mlpio_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return crc_update(&castagnoli, MLPIO_CRC_VPCLMUL, crc, buf, len);
}

uint32_t mlpio_crc32(uint32_t crc, const void *buf, size_t len)
{
    return crc_update(&ieee, MLPIO_CRC_VPCLMUL, crc, buf, len);
}

uint32_t mlpio_crc32c_with(enum mlpio_crc_path path, uint32_t crc, const void *buf, size_t len)
{
    return crc_update(&castagnoli, path, crc, buf, len);
}

uint32_t mlpio_crc32_with(enum mlpio_crc_path path, uint32_t crc, const void *buf, size_t len)
{
    return crc_update(&ieee, path, crc, buf, len);
}

uint32_t mlpio_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
