/* mlpio dedup-check: how much of a set of files a deduplicating or compressing storage system
 * could save.
 *
 * Every file is cut into 4 KiB blocks (a file's last, shorter block is a block of its own
 * length). Blocks are hashed in parallel over the ranks of a communicator, and duplicate blocks
 * are counted without gathering the hashes anywhere: each hash is sent to the rank that owns
 * its value range, which counts the repeats among what it owns. Compressibility is judged per
 * block by its byte entropy. Data written by mlpio should show no duplicates and ~8 bits/byte.
 */
#ifndef MLPIO_DEDUP_H
#define MLPIO_DEDUP_H

#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdint.h>

#include "io/error.h"

#define MLPIO_DEDUP_BLOCK 4096
/* A block below this many bits of entropy per byte would shrink under a general-purpose
 * compressor; random data of a 4 KiB block measures about 7.95. */
#define MLPIO_DEDUP_LOW_ENTROPY 7.0

struct mlpio_dedup_result {
    uint64_t files;              /* regular files examined (after expanding directories) */
    uint64_t bytes;              /* their total size */
    uint64_t blocks;             /* 4 KiB blocks, a short last block of a file included */
    uint64_t unique_blocks;      /* distinct block contents */
    uint64_t duplicate_blocks;   /* blocks - unique_blocks: occurrences beyond the first */
    uint64_t zero_blocks;        /* blocks of zero bytes only */
    uint64_t low_entropy_blocks; /* full blocks below MLPIO_DEDUP_LOW_ENTROPY bits/byte */
    double dedup_ratio;          /* blocks / unique_blocks (1 when there are no blocks) */
    /* Mean Shannon entropy of the full blocks, bits per byte (0 when there are none). A short
     * last block is left out of the entropy figures: too few bytes to reach 8 bits/byte. */
    double mean_entropy_bits_per_byte;
};

/* Collective over comm: examine the files named by paths (directories are walked recursively;
 * only regular files inside them are read, in sorted order; symbolic links inside directories
 * are not followed). paths and npaths matter on rank 0 only. On success *out is the same on
 * every rank. A missing or unreadable path, or a file that shrinks while being read, fails on
 * every rank with the same error naming the path. comm is duplicated internally. */
int mlpio_dedup_check(MPI_Comm comm, const char *const *paths, int npaths,
                      struct mlpio_dedup_result *out, struct mlpio_error *err) MLPIO_WUR;

/* {"files", "bytes", "blocks", "unique_blocks", "duplicate_blocks", "zero_blocks",
 *  "low_entropy_blocks", "dedup_ratio", "mean_entropy_bits_per_byte", "block_size",
 *  "low_entropy_threshold"}; NULL when out of memory. The caller frees with cJSON_Delete. */
cJSON *mlpio_dedup_result_to_json(const struct mlpio_dedup_result *r);

#endif
