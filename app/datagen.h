/* mlpio data generator: unique, incompressible, reproducible, verifiable bytes.
 *
 * job salt (32 bytes, random or from --seed) -> rank key = generichash(salt, rank)
 * -> object = generichash(rank key, object name) -> content of any byte range is a pure
 * function of (object, offset). Every 4 KiB block starts from a distinct 128-bit value and is
 * filled by a fast non-cryptographic generator, so no two blocks are equal within a rank,
 * across ranks, objects or salts, the data is incompressible, and any block can be regenerated
 * to check what storage returned. All functions are thread-safe (no shared state).
 */
#ifndef MLPIO_DATAGEN_H
#define MLPIO_DATAGEN_H

#include <stddef.h>
#include <stdint.h>

#include "io/error.h"

#define MLPIO_DATA_BLOCK 4096
#define MLPIO_DATA_SALT_BYTES 32

struct mlpio_data_salt {
    uint8_t bytes[MLPIO_DATA_SALT_BYTES];
};

struct mlpio_data_rank_key {
    uint8_t bytes[32];
};

/* A named object's generator key (cheap to copy; no resources). */
struct mlpio_data_object {
    uint64_t k0, k1;
};

/* Random salt from libsodium's random source. -1 if libsodium cannot initialise. */
int mlpio_data_salt_random(struct mlpio_data_salt *salt, struct mlpio_error *err) MLPIO_WUR;
/* Salt derived from a user seed: the same seed always gives the same salt. */
void mlpio_data_salt_from_seed(uint64_t seed, struct mlpio_data_salt *salt);
/* Lower-case hex (65 bytes incl. NUL) and back; from_hex returns -1 on malformed input. */
void mlpio_data_salt_to_hex(const struct mlpio_data_salt *salt, char hex[65]);
int mlpio_data_salt_from_hex(const char *hex, struct mlpio_data_salt *salt);

void mlpio_data_rank_key(const struct mlpio_data_salt *salt, uint64_t rank,
                         struct mlpio_data_rank_key *out);
void mlpio_data_object_init(struct mlpio_data_object *obj, const struct mlpio_data_rank_key *key,
                            const char *name);

/* Fill buf with the object's bytes at [offset, offset+len). Any offset and length. */
void mlpio_data_fill(const struct mlpio_data_object *obj, uint64_t offset, void *buf, size_t len);

/* Compare buf with the object's bytes at [offset, offset+len). Returns 0 when equal; otherwise
 * -1 with *mismatch set to the absolute offset of the first differing byte (may be NULL). */
int mlpio_data_verify(const struct mlpio_data_object *obj, uint64_t offset, const void *buf,
                      size_t len, uint64_t *mismatch);

#endif
