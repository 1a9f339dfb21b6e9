/* mlpio data generator: see datagen.h.
 *
 * Keys come from BLAKE2b (libsodium's crypto_generichash), so salts, ranks and object names
 * map to unrelated generator keys. Bytes come from xorshift128+: LANES independent generators
 * advanced in lock-step in vector registers (AVX-512, AVX2 or 128-bit vectors, chosen at run
 * time; the output is the same bytes whichever is used). Block b of an object starts from the
 * 128-bit value (k0, k1 + b), spread over the lanes' states by the splitmix64 finaliser, so every
 * block has its own generator state and any block can be produced (or checked) without
 * producing the ones before it.
 */
#include "app/datagen.h"

#include <sodium.h>
#include <string.h>

/* 16 lanes x 8 bytes = 128 bytes per step: enough independent work to hide the latency of the
 * xorshift dependency chain on 256- and 512-bit vector units. */
#define LANES 16
#define WORDS_PER_BLOCK (MLPIO_DATA_BLOCK / 8)
#define STEPS_PER_BLOCK (WORDS_PER_BLOCK / LANES)

_Static_assert(MLPIO_DATA_BLOCK % (LANES * 8) == 0, "a block is a whole number of steps");

static const char salt_domain[] = "mlpio data salt from seed v1";

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* splitmix64's output function: a bijection on 64 bits with full avalanche. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* For hashing, sodium_init only selects the fastest BLAKE2b code; without it the portable code
 * runs and gives identical output, so a failure is harmless here. */
static void sodium_best_effort(void)
{
    int rc = sodium_init();
    (void)rc;
}

int mlpio_data_salt_random(struct mlpio_data_salt *salt, struct mlpio_error *err)
{
    if (sodium_init() < 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "libsodium failed to initialise; cannot draw the job salt");
    randombytes_buf(salt->bytes, sizeof(salt->bytes));
    return 0;
}

void mlpio_data_salt_from_seed(uint64_t seed, struct mlpio_data_salt *salt)
{
    uint8_t msg[sizeof(salt_domain) - 1 + 8];
    memcpy(msg, salt_domain, sizeof(salt_domain) - 1);
    store_le64(msg + sizeof(salt_domain) - 1, seed);
    sodium_best_effort();
    crypto_generichash(salt->bytes, sizeof(salt->bytes), msg, sizeof(msg), NULL, 0);
}

void mlpio_data_salt_to_hex(const struct mlpio_data_salt *salt, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(salt->bytes); i++) {
        hex[2 * i] = digits[salt->bytes[i] >> 4];
        hex[2 * i + 1] = digits[salt->bytes[i] & 15];
    }
    hex[64] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mlpio_data_salt_from_hex(const char *hex, struct mlpio_data_salt *salt)
{
    struct mlpio_data_salt tmp;
    if (!hex || strlen(hex) != 2 * sizeof(tmp.bytes))
        return -1;
    for (size_t i = 0; i < sizeof(tmp.bytes); i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        tmp.bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    *salt = tmp; /* untouched on malformed input */
    return 0;
}

void mlpio_data_rank_key(const struct mlpio_data_salt *salt, uint64_t rank,
                         struct mlpio_data_rank_key *out)
{
    uint8_t msg[8];
    store_le64(msg, rank);
    sodium_best_effort();
    crypto_generichash(out->bytes, sizeof(out->bytes), msg, sizeof(msg), salt->bytes,
                       sizeof(salt->bytes));
}

void mlpio_data_object_init(struct mlpio_data_object *obj, const struct mlpio_data_rank_key *key,
                            const char *name)
{
    uint8_t h[16];
    sodium_best_effort();
    crypto_generichash(h, sizeof(h), (const unsigned char *)name, strlen(name), key->bytes,
                       sizeof(key->bytes));
    obj->k0 = load_le64(h);
    obj->k1 = load_le64(h + 8);
}

/* Per-object lane constants: each lane word gets its own bijective image of k0, so the lanes of
 * one block never share a state and block seeds depend on both halves of the object key. */
struct lane_base {
    uint64_t a[LANES], b[LANES];
};

static void lane_base_init(struct lane_base *lb, const struct mlpio_data_object *obj)
{
    for (uint64_t i = 0; i < LANES; i++) {
        lb->a[i] = mix64(obj->k0 + (2 * i + 1) * 0x9e3779b97f4a7c15ULL);
        lb->b[i] = mix64(obj->k0 + (2 * i + 2) * 0x9e3779b97f4a7c15ULL);
    }
}

/* The block kernel, written once and instantiated per instruction set: the lanes live in vector
 * registers of the target's native width (wider vectors on a narrower unit are split badly by
 * the compiler), STORE writes one vector to memory and FENCE runs after the last store. Block seeds
 * go through splitmix64 in the same registers so that a block costs no scalar work beyond its
 * index. */
#define DEFINE_GEN_BLOCKS(name, attrs, vtype, STORE, FENCE)                                        \
    attrs static void name(const struct lane_base *lb, uint64_t k1, uint64_t first,                \
                           size_t nblocks, unsigned char *restrict out)                            \
    {                                                                                              \
        enum { VB = sizeof(vtype), NV = LANES * 8 / sizeof(vtype) };                               \
        vtype a[NV], b[NV];                                                                        \
        memcpy(a, lb->a, sizeof(a));                                                               \
        memcpy(b, lb->b, sizeof(b));                                                               \
        for (size_t n = 0; n < nblocks; n++) {                                                     \
            vtype s0[NV], s1[NV];                                                                  \
            uint64_t block = k1 + first + n;                                                       \
            for (int i = 0; i < NV; i++) {                                                         \
                vtype z0 = a[i] ^ block, z1 = b[i] ^ block;                                        \
                MIX64(z0);                                                                         \
                MIX64(z1);                                                                         \
                s0[i] = z0;                                                                        \
                s1[i] = z1;                                                                        \
            }                                                                                      \
            unsigned char *p = out + n * MLPIO_DATA_BLOCK;                                         \
            for (int t = 0; t < STEPS_PER_BLOCK; t++) {                                            \
                for (int i = 0; i < NV; i++) {                                                     \
                    vtype x = s0[i], y = s1[i];                                                    \
                    x ^= x << 23;                                                                  \
                    x = x ^ y ^ (x >> 17) ^ (y >> 26);                                             \
                    s0[i] = y;                                                                     \
                    s1[i] = x;                                                                     \
                    vtype w = TO_LE(x + y);                                                        \
                    STORE(p + ((size_t)t * NV + i) * VB, w);                                       \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        FENCE();                                                                                   \
    }

/* mix64 in place on a vector of lanes. */
#define MIX64(z)                                                                                   \
    do {                                                                                           \
        (z) = ((z) ^ ((z) >> 30)) * 0xbf58476d1ce4e5b9ULL;                                         \
        (z) = ((z) ^ ((z) >> 27)) * 0x94d049bb133111ebULL;                                         \
        (z) ^= (z) >> 31;                                                                          \
    } while (0)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
/* The same bytes on every architecture, so a file written on one can be verified on another. */
#define TO_LE(v) bswap_lanes(v)
#else
#define TO_LE(v) (v)
#endif
#define STORE_PLAIN(p, w) memcpy((p), &(w), sizeof(w))
#define NO_FENCE() ((void)0)

typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef uint64_t u64x4 __attribute__((vector_size(32)));
typedef uint64_t u64x8 __attribute__((vector_size(64)));

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline u64x2 bswap_lanes(u64x2 v)
{
    return (u64x2){__builtin_bswap64(v[0]), __builtin_bswap64(v[1])};
}
#endif

typedef void gen_fn(const struct lane_base *, uint64_t, uint64_t, size_t, unsigned char *restrict);

DEFINE_GEN_BLOCKS(gen_portable, , u64x2, STORE_PLAIN, NO_FENCE)

#if defined(__x86_64__)
#include <immintrin.h>

DEFINE_GEN_BLOCKS(gen_avx2, __attribute__((target("avx2"))), u64x4, STORE_PLAIN, NO_FENCE)
DEFINE_GEN_BLOCKS(gen_avx512, __attribute__((target("avx512f"))), u64x8, STORE_PLAIN, NO_FENCE)

/* Streaming stores skip the read-for-ownership of every cache line and leave the caches alone:
 * about twice the speed when a fill is larger than a core's caches. The fence orders them
 * before whatever the caller does with the buffer next. */
#define STORE_NT256(p, w) _mm256_stream_si256((__m256i *)(void *)(p), (__m256i)(w))
#define STORE_NT512(p, w) _mm512_stream_si512((void *)(p), (__m512i)(w))
DEFINE_GEN_BLOCKS(gen_avx2_nt, __attribute__((target("avx2"))), u64x4, STORE_NT256, _mm_sfence)
DEFINE_GEN_BLOCKS(gen_avx512_nt, __attribute__((target("avx512f"))), u64x8, STORE_NT512, _mm_sfence)
#endif

/* Fills at least this large bypass the caches (when the CPU and the alignment allow it). */
#define STREAM_THRESHOLD (4u << 20)

/* The kernel for nblocks blocks at out: the widest the CPU has, streaming for large aligned
 * runs. */
static gen_fn *pick_gen(size_t nblocks, const void *out)
{
#if defined(__x86_64__)
    int stream = nblocks * MLPIO_DATA_BLOCK >= STREAM_THRESHOLD;
    uintptr_t align = (uintptr_t)out;
    if (__builtin_cpu_supports("avx512f"))
        return stream && align % 64 == 0 ? gen_avx512_nt : gen_avx512;
    if (__builtin_cpu_supports("avx2"))
        return stream && align % 32 == 0 ? gen_avx2_nt : gen_avx2;
#endif
    (void)nblocks;
    (void)out;
    return gen_portable;
}

/* One block into tmp (partial blocks and verification). */
static void gen_one(const struct lane_base *lb, const struct mlpio_data_object *obj, uint64_t block,
                    unsigned char tmp[MLPIO_DATA_BLOCK])
{
    pick_gen(1, tmp)(lb, obj->k1, block, 1, tmp);
}

void mlpio_data_fill(const struct mlpio_data_object *obj, uint64_t offset, void *buf, size_t len)
{
    struct lane_base lb;
    unsigned char *out = buf;
    uint64_t block = offset / MLPIO_DATA_BLOCK;
    size_t skip = (size_t)(offset % MLPIO_DATA_BLOCK);

    if (len == 0)
        return;
    lane_base_init(&lb, obj);
    if (skip != 0 || len < MLPIO_DATA_BLOCK) {
        unsigned char tmp[MLPIO_DATA_BLOCK];
        size_t n = MLPIO_DATA_BLOCK - skip < len ? MLPIO_DATA_BLOCK - skip : len;
        gen_one(&lb, obj, block, tmp);
        memcpy(out, tmp + skip, n);
        out += n;
        len -= n;
        block++;
    }
    size_t whole = len / MLPIO_DATA_BLOCK;
    if (whole) {
        pick_gen(whole, out)(&lb, obj->k1, block, whole, out);
        out += whole * MLPIO_DATA_BLOCK;
        len -= whole * MLPIO_DATA_BLOCK;
        block += whole;
    }
    if (len) {
        unsigned char tmp[MLPIO_DATA_BLOCK];
        gen_one(&lb, obj, block, tmp);
        memcpy(out, tmp, len);
    }
}

int mlpio_data_verify(const struct mlpio_data_object *obj, uint64_t offset, const void *buf,
                      size_t len, uint64_t *mismatch)
{
    struct lane_base lb;
    unsigned char tmp[MLPIO_DATA_BLOCK];
    const unsigned char *in = buf;
    uint64_t block = offset / MLPIO_DATA_BLOCK;
    size_t skip = (size_t)(offset % MLPIO_DATA_BLOCK);
    uint64_t pos = offset;

    lane_base_init(&lb, obj);
    while (len) {
        size_t n = MLPIO_DATA_BLOCK - skip < len ? MLPIO_DATA_BLOCK - skip : len;
        gen_one(&lb, obj, block, tmp);
        if (memcmp(in, tmp + skip, n) != 0) {
            size_t i = 0;
            while (in[i] == tmp[skip + i])
                i++;
            if (mismatch)
                *mismatch = pos + i;
            return -1;
        }
        in += n;
        pos += n;
        len -= n;
        skip = 0;
        block++;
    }
    return 0;
}
