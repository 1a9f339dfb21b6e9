/* Checksums of the dataset formats: CRC-32C (Castagnoli), which frames every tfrecord record, and
 * CRC-32 (the IEEE polynomial of zip, gzip and PNG), which zip stores for every npz member.
 *
 * Both are incremental: start with 0 and pass the previous result to continue, so that a record
 * larger than a buffer is checked piece by piece (crc(crc(0, a), b) == crc(0, a || b)). On x86-64
 * with PCLMULQDQ (checked at run time) blocks are folded with carry-less multiplication, many
 * times faster than tables; elsewhere slicing-by-8 tables are used. Both paths give identical
 * results; the _portable functions force the tables so that tests can compare them. Pure
 * functions, thread-safe.
 */
#ifndef MLPIO_CRC32C_H
#define MLPIO_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf, continuing from crc (0 to start). */
uint32_t mlpio_crc32c(uint32_t crc, const void *buf, size_t len);

/* The masked form that tfrecord stores, so that a CRC over bytes that themselves hold CRCs
 * does not degenerate: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t mlpio_crc32c_mask(uint32_t crc);

/* CRC-32 (IEEE 802.3, as in zip) of buf, continuing from crc (0 to start). */
uint32_t mlpio_crc32(uint32_t crc, const void *buf, size_t len);

/* The same functions without the carry-less multiplication path. */
uint32_t mlpio_crc32c_portable(uint32_t crc, const void *buf, size_t len);
uint32_t mlpio_crc32_portable(uint32_t crc, const void *buf, size_t len);

/* True when this CPU takes the carry-less multiplication path. */
bool mlpio_crc_accelerated(void);

#endif
