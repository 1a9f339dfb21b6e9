/* Checksums of the dataset formats: CRC-32C (Castagnoli), which frames every tfrecord record, and
 * CRC-32 (the IEEE polynomial of zip, gzip and PNG), which zip stores for every npz member.
 *
 * Both are incremental: start with 0 and pass the previous result to continue, so that a record
 * larger than a buffer is checked piece by piece (crc(crc(0, a), b) == crc(0, a || b)). On x86-64
 * blocks are folded with carry-less multiplication, 128 bits at a time with PCLMULQDQ or 512
 * bits at a time with VPCLMULQDQ and AVX-512 (both checked at run time), many times faster than
 * tables; elsewhere slicing-by-8 tables are used. All paths give identical results; the _with
 * functions pick one so that tests can compare them. Pure functions, thread-safe.
 */
#ifndef MLPIO_CRC32C_H
#define MLPIO_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf, continuing from crc (0 to start). */
uint32_t mlpio_crc32c(uint32_t crc, const void *buf, size_t len);

/* The masked form that tfrecord stores, so that a CRC over bytes that themselves hold CRCs
 * does not degenerate: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t mlpio_crc32c_mask(uint32_t crc);

/* CRC-32 (IEEE 802.3, as in zip) of buf, continuing from crc (0 to start). */
uint32_t mlpio_crc32(uint32_t crc, const void *buf, size_t len);

/* The ways of computing them, slowest first. */
enum mlpio_crc_path {
    MLPIO_CRC_TABLES,  /* slicing-by-8, everywhere */
    MLPIO_CRC_CLMUL,   /* x86-64 PCLMULQDQ, 64 bytes per round */
    MLPIO_CRC_VPCLMUL, /* x86-64 VPCLMULQDQ with AVX-512, 256 bytes per round */
};

/* The fastest path this CPU has; mlpio_crc32c and mlpio_crc32 take it. */
enum mlpio_crc_path mlpio_crc_best_path(void);

/* The same functions on a given path, or the best this CPU has when that one is faster. */
uint32_t mlpio_crc32c_with(enum mlpio_crc_path path, uint32_t crc, const void *buf, size_t len);
uint32_t mlpio_crc32_with(enum mlpio_crc_path path, uint32_t crc, const void *buf, size_t len);

#endif
