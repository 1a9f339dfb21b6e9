/* mlpio dedup-check: see dedup.h.
 *
 * Rank 0 expands the paths into one sorted list of regular files and broadcasts it. The
 * concatenation of the files' blocks is split into contiguous, nearly equal ranges, one per
 * rank, so every rank reads a few large sequential extents. Duplicates are counted by routing
 * each 16-byte hash to the rank chosen by its leading bytes (hashes are uniform, so the load
 * is even): equal blocks meet on one rank whatever ranks read them, and no rank ever holds
 * more than about its share of all hashes.
 */
#include "app/dedup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/context.h"

#define HASH_BYTES 16
#define CHUNK_BYTES (4u << 20) /* one pread; a whole number of blocks */

_Static_assert(CHUNK_BYTES % MLPIO_DEDUP_BLOCK == 0, "chunks hold whole blocks");

static const char path_hint[] = "check that the path exists and that this user may read it";

struct file_list {
    uint64_t n, cap;
    char *blob; /* the paths, NUL-terminated, back to back */
    uint64_t blob_len, blob_cap;
    uint64_t *name_off; /* [n] offset of each path in blob */
    uint64_t *size;     /* [n] bytes */
    uint64_t *first;    /* [n + 1] index of each file's first block in the concatenation */
};

static void file_list_free(struct file_list *l)
{
    free(l->blob);
    free(l->name_off);
    free(l->size);
    free(l->first);
    memset(l, 0, sizeof(*l));
}

static const char *file_name(const struct file_list *l, uint64_t i)
{
    return l->blob + l->name_off[i];
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint64_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int list_add(struct file_list *l, const char *path, uint64_t size, struct mlpio_error *err)
{
    uint64_t len = strlen(path) + 1, cap = l->cap;
    if (grow((void **)&l->blob, &l->blob_cap, l->blob_len + len, 1) != 0 ||
        grow((void **)&l->name_off, &cap, l->n + 1, sizeof(uint64_t)) != 0 ||
        grow((void **)&l->size, &l->cap, l->n + 1, sizeof(uint64_t)) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "dedup-check: cannot hold the list of files");
    memcpy(l->blob + l->blob_len, path, len);
    l->name_off[l->n] = l->blob_len;
    l->size[l->n] = size;
    l->blob_len += len;
    l->n++;
    return 0;
}

static int add_regular(struct file_list *l, const char *path, const struct stat *st,
                       struct mlpio_error *err)
{
    /* Checked here so that an unreadable empty file, which no rank reads, is still reported. */
    if (access(path, R_OK) != 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "dedup-check: cannot read %s", path);
        return mlpio_error_hint(err, "%s", path_hint);
    }
    return list_add(l, path, (uint64_t)st->st_size, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct file_list *l, const char *dir, struct mlpio_error *err)
{
    char **names = NULL;
    uint64_t n = 0, cap = 0;
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "dedup-check: cannot open directory %s", dir);
        return mlpio_error_hint(err, "%s", path_hint);
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                rc = mlpio_error_errno(err, MLPIO_ERR_IO, errno,
                                       "dedup-check: cannot list directory %s", dir);
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (grow((void **)&names, &cap, n + 1, sizeof(*names)) != 0 ||
            !(names[n] = strdup(e->d_name))) {
            rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                   "dedup-check: cannot list directory %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n)
        qsort(names, n, sizeof(*names), cmp_str);
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        char *path = malloc(dlen + strlen(names[i]) + 2);
        struct stat st;
        if (!path) {
            rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "dedup-check: out of memory");
            break;
        }
        sprintf(path, "%s%s%s", dir, slash ? "" : "/", names[i]);
        if (lstat(path, &st) != 0) {
            rc =
                mlpio_error_errno(err, MLPIO_ERR_IO, errno, "dedup-check: cannot examine %s", path);
            mlpio_error_hint(err, "%s", path_hint);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(l, path, err);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_regular(l, path, &st, err);
        }
        free(path);
    }
    for (uint64_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int expand_paths(struct file_list *l, const char *const *paths, int npaths,
                        struct mlpio_error *err)
{
    for (int i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            mlpio_error_errno(err, MLPIO_ERR_IO, errno, "dedup-check: cannot examine %s", paths[i]);
            return mlpio_error_hint(err, "%s", path_hint);
        }
        if (S_ISDIR(st.st_mode)) {
            if (walk_dir(l, paths[i], err) != 0)
                return -1;
        } else if (S_ISREG(st.st_mode)) {
            if (add_regular(l, paths[i], &st, err) != 0)
                return -1;
        } else {
            mlpio_error_set(err, MLPIO_ERR_USAGE,
                            "dedup-check: %s is neither a regular file nor a directory", paths[i]);
            return mlpio_error_hint(err, "name files or directories of files to examine");
        }
    }
    if (l->blob_len > INT_MAX || l->n > INT_MAX)
        return mlpio_error_set(err, MLPIO_ERR_USAGE,
                               "dedup-check: %llu files (%llu bytes of names) are too many to "
                               "share between ranks",
                               (unsigned long long)l->n, (unsigned long long)l->blob_len);
    return 0;
}

/* Collective: every rank gets rank 0's list (name offsets and block indices recomputed). */
static int share_list(struct file_list *l, const struct mlpio_context *ctx, struct mlpio_error *err)
{
    uint64_t hdr[2] = {l->n, l->blob_len};
    MPI_Bcast(hdr, 2, MPI_UINT64_T, 0, ctx->comm);
    int rc = 0;
    if (ctx->rank != 0) {
        l->n = l->cap = hdr[0];
        l->blob_len = l->blob_cap = hdr[1];
        l->blob = malloc(hdr[1] ? hdr[1] : 1);
        l->name_off = malloc((hdr[0] ? hdr[0] : 1) * sizeof(uint64_t));
        l->size = malloc((hdr[0] ? hdr[0] : 1) * sizeof(uint64_t));
        if (!l->blob || !l->name_off || !l->size)
            rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                   "dedup-check: cannot hold the list of %llu files",
                                   (unsigned long long)hdr[0]);
    }
    l->first = malloc((l->n + 1) * sizeof(uint64_t));
    if (!l->first)
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "dedup-check: out of memory");
    if (mlpio_context_agree(ctx, rc, err) != 0)
        return -1;
    MPI_Bcast(l->blob, (int)l->blob_len, MPI_CHAR, 0, ctx->comm);
    MPI_Bcast(l->size, (int)l->n, MPI_UINT64_T, 0, ctx->comm);
    uint64_t off = 0;
    l->first[0] = 0;
    for (uint64_t i = 0; i < l->n; i++) {
        l->name_off[i] = off;
        off += strlen(l->blob + off) + 1;
        l->first[i + 1] = l->first[i] + (l->size[i] + MLPIO_DEDUP_BLOCK - 1) / MLPIO_DEDUP_BLOCK;
    }
    return 0;
}

struct block_stats {
    uint64_t blocks, zero, low_entropy, full;
    double entropy_sum; /* over full blocks */
};

/* clog[c] = c * log2(c): a full block's entropy is 12 - sum(clog[count]) / 4096. */
static double block_entropy(const unsigned char *p, const double *clog)
{
    /* Four tables: runs of one byte value would otherwise serialise on one counter. */
    uint32_t count[4][256];
    double s = 0.0;
    memset(count, 0, sizeof(count));
    for (int i = 0; i < MLPIO_DEDUP_BLOCK; i += 4) {
        count[0][p[i]]++;
        count[1][p[i + 1]]++;
        count[2][p[i + 2]]++;
        count[3][p[i + 3]]++;
    }
    for (int v = 0; v < 256; v++)
        s += clog[count[0][v] + count[1][v] + count[2][v] + count[3][v]];
    return log2((double)MLPIO_DEDUP_BLOCK) - s / MLPIO_DEDUP_BLOCK;
}

static int is_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static void examine(const unsigned char *buf, size_t len, uint8_t *hashes, const double *clog,
                    struct block_stats *st)
{
    for (size_t p = 0; p < len; p += MLPIO_DEDUP_BLOCK) {
        size_t n = len - p < MLPIO_DEDUP_BLOCK ? len - p : MLPIO_DEDUP_BLOCK;
        /* The length is part of what is hashed, so a short last block never equals a full one. */
        crypto_generichash(hashes + st->blocks * HASH_BYTES, HASH_BYTES, buf + p, n, NULL, 0);
        st->blocks++;
        if (is_zero(buf + p, n))
            st->zero++;
        if (n == MLPIO_DEDUP_BLOCK) {
            double h = block_entropy(buf + p, clog);
            st->full++;
            st->entropy_sum += h;
            if (h < MLPIO_DEDUP_LOW_ENTROPY)
                st->low_entropy++;
        }
    }
}

static int read_full(int fd, unsigned char *buf, size_t len, uint64_t off, const char *path,
                     struct mlpio_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mlpio_error_errno(err, MLPIO_ERR_IO, errno,
                                     "dedup-check: read of %s at offset %llu failed", path,
                                     (unsigned long long)(off + done));
        if (r == 0) {
            mlpio_error_set(err, MLPIO_ERR_IO,
                            "dedup-check: %s ended at offset %llu, shorter than when listed", path,
                            (unsigned long long)(off + done));
            return mlpio_error_hint(err, "run dedup-check on files that are not being written");
        }
        done += (size_t)r;
    }
    return 0;
}

/* Hash blocks [lo, hi) of the concatenation into hashes[0 .. hi-lo). */
static int hash_range(const struct file_list *l, uint64_t lo, uint64_t hi, uint8_t *hashes,
                      struct block_stats *st, struct mlpio_error *err)
{
    unsigned char *buf = malloc(CHUNK_BYTES);
    double *clog = malloc((MLPIO_DEDUP_BLOCK + 1) * sizeof(double));
    int rc = 0;
    if (!buf || !clog) {
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                               "dedup-check: cannot allocate a %u MiB read buffer",
                               CHUNK_BYTES >> 20);
        goto out;
    }
    clog[0] = 0.0;
    for (int c = 1; c <= MLPIO_DEDUP_BLOCK; c++)
        clog[c] = c * log2((double)c);
    /* The file holding block lo: the last one starting at or before it. */
    uint64_t f = 0, top = l->n;
    while (lo < hi && top - f > 1) {
        uint64_t mid = f + (top - f) / 2;
        if (l->first[mid] <= lo)
            f = mid;
        else
            top = mid;
    }
    for (uint64_t b = lo; rc == 0 && b < hi; f++) {
        if (l->first[f + 1] <= b)
            continue; /* empty file, or one that ends before b */
        uint64_t end_block = l->first[f + 1] < hi ? l->first[f + 1] : hi;
        uint64_t off = (b - l->first[f]) * MLPIO_DEDUP_BLOCK;
        uint64_t end = (end_block - l->first[f]) * MLPIO_DEDUP_BLOCK;
        if (end > l->size[f])
            end = l->size[f];
        const char *path = file_name(l, f);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = mlpio_error_errno(err, MLPIO_ERR_IO, errno, "dedup-check: cannot open %s", path);
            mlpio_error_hint(err, "%s", path_hint);
            break;
        }
        while (rc == 0 && off < end) {
            size_t len = end - off < CHUNK_BYTES ? (size_t)(end - off) : CHUNK_BYTES;
            rc = read_full(fd, buf, len, off, path, err);
            if (rc == 0)
                examine(buf, len, hashes, clog, st);
            off += len;
        }
        close(fd);
        b = end_block;
    }
out:
    free(buf);
    free(clog);
    return rc;
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, HASH_BYTES);
}

/* The rank that counts a hash: hashes are uniform, so any fixed bytes spread them evenly. */
static int owner(const uint8_t *h, int size)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | h[i];
    return (int)(v % (uint64_t)size);
}

/* Group the n hashes by owner into sendbuf; counts and displacements per destination. */
static void pack_by_owner(const uint8_t *hashes, uint64_t n, int size, int *sendcounts,
                          int *sdispls, int *scratch, uint8_t *sendbuf)
{
    for (uint64_t i = 0; i < n; i++)
        sendcounts[owner(hashes + i * HASH_BYTES, size)]++;
    for (int r = 1; r < size; r++)
        sdispls[r] = sdispls[r - 1] + sendcounts[r - 1];
    memcpy(scratch, sdispls, (size_t)size * sizeof(int));
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *h = hashes + i * HASH_BYTES;
        memcpy(sendbuf + (size_t)scratch[owner(h, size)]++ * HASH_BYTES, h, HASH_BYTES);
    }
}

/* Collective: how many distinct values the hashes of all ranks hold. Every rank gets the count
 * of the hashes it owns; the caller sums. */
static int count_unique(const struct mlpio_context *ctx, const uint8_t *hashes, uint64_t n,
                        uint64_t *unique, struct mlpio_error *err)
{
    int size = ctx->size, rc = 0;
    /* sendcounts, sdispls, recvcounts, rdispls: counted in hashes (see hash_type). */
    int *counts = calloc((size_t)size * 4, sizeof(int));
    uint8_t *sendbuf = malloc(n ? n * HASH_BYTES : 1), *recvbuf = NULL;
    uint64_t nrecv = 0;
    MPI_Datatype hash_type;

    if (!counts || !sendbuf || n > INT_MAX)
        rc =
            mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                              "dedup-check: cannot route %llu block hashes", (unsigned long long)n);
    if ((rc = mlpio_context_agree(ctx, rc, err)) != 0)
        goto out;
    int *sendcounts = counts, *sdispls = counts + size;
    int *recvcounts = counts + 2 * size, *rdispls = counts + 3 * size;
    pack_by_owner(hashes, n, size, sendcounts, sdispls, recvcounts, sendbuf);
    MPI_Alltoall(sendcounts, 1, MPI_INT, recvcounts, 1, MPI_INT, ctx->comm);
    for (int r = 0; r < size; r++)
        nrecv += (uint64_t)recvcounts[r];
    for (int r = 1; r < size && nrecv <= INT_MAX; r++)
        rdispls[r] = rdispls[r - 1] + recvcounts[r - 1];
    recvbuf = malloc(nrecv ? nrecv * HASH_BYTES : 1);
    if (!recvbuf || nrecv > INT_MAX)
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                               "dedup-check: cannot receive %llu block hashes",
                               (unsigned long long)nrecv);
    if ((rc = mlpio_context_agree(ctx, rc, err)) != 0)
        goto out;
    /* A 16-byte type keeps counts in hashes, not bytes: 16 times more fits in an int. */
    MPI_Type_contiguous(HASH_BYTES, MPI_BYTE, &hash_type);
    MPI_Type_commit(&hash_type);
    MPI_Alltoallv(sendbuf, sendcounts, sdispls, hash_type, recvbuf, recvcounts, rdispls, hash_type,
                  ctx->comm);
    MPI_Type_free(&hash_type);
    qsort(recvbuf, nrecv, HASH_BYTES, cmp_hash);
    *unique = 0;
    for (uint64_t i = 0; i < nrecv; i++)
        if (i == 0 ||
            memcmp(recvbuf + i * HASH_BYTES, recvbuf + (i - 1) * HASH_BYTES, HASH_BYTES) != 0)
            (*unique)++;
out:
    free(counts);
    free(sendbuf);
    free(recvbuf);
    return rc;
}

int mlpio_dedup_check(MPI_Comm comm, const char *const *paths, int npaths,
                      struct mlpio_dedup_result *out, struct mlpio_error *err)
{
    struct mlpio_context ctx;
    struct file_list list = {0};
    struct block_stats st = {0};
    uint8_t *hashes = NULL;
    uint64_t unique = 0;
    int rc = 0;

    if (mlpio_context_init(&ctx, comm, err) != 0)
        return -1;
    if (sodium_init() < 0)
        rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "dedup-check: libsodium failed to start");
    if (rc == 0 && ctx.rank == 0)
        rc = expand_paths(&list, paths, npaths, err);
    if ((rc = mlpio_context_agree(&ctx, rc, err)) != 0 || (rc = share_list(&list, &ctx, err)) != 0)
        goto out;

    /* Nearly equal contiguous ranges: the first (total % size) ranks take one block more. */
    uint64_t total = list.first[list.n], q = total / (uint64_t)ctx.size;
    uint64_t rem = total % (uint64_t)ctx.size, r = (uint64_t)ctx.rank;
    uint64_t lo = r * q + (r < rem ? r : rem), hi = lo + q + (r < rem ? 1 : 0);
    hashes = malloc(hi > lo ? (hi - lo) * HASH_BYTES : 1);
    if (!hashes)
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                               "dedup-check: cannot hold %llu block hashes",
                               (unsigned long long)(hi - lo));
    else
        rc = hash_range(&list, lo, hi, hashes, &st, err);
    if ((rc = mlpio_context_agree(&ctx, rc, err)) != 0 ||
        (rc = count_unique(&ctx, hashes, st.blocks, &unique, err)) != 0)
        goto out;

    uint64_t mine[5] = {st.blocks, unique, st.zero, st.low_entropy, st.full}, all[5];
    double esum = 0.0;
    MPI_Allreduce(mine, all, 5, MPI_UINT64_T, MPI_SUM, ctx.comm);
    MPI_Allreduce(&st.entropy_sum, &esum, 1, MPI_DOUBLE, MPI_SUM, ctx.comm);
    memset(out, 0, sizeof(*out));
    out->files = list.n;
    for (uint64_t i = 0; i < list.n; i++)
        out->bytes += list.size[i];
    out->blocks = all[0];
    out->unique_blocks = all[1];
    out->duplicate_blocks = all[0] - all[1];
    out->zero_blocks = all[2];
    out->low_entropy_blocks = all[3];
    out->dedup_ratio = all[1] ? (double)all[0] / (double)all[1] : 1.0;
    out->mean_entropy_bits_per_byte = all[4] ? esum / (double)all[4] : 0.0;
out:
    free(hashes);
    file_list_free(&list);
    mlpio_context_fini(&ctx);
    return rc;
}

cJSON *mlpio_dedup_result_to_json(const struct mlpio_dedup_result *r)
{
    const struct {
        const char *key;
        double value;
    } fields[] = {
        {"files", (double)r->files},
        {"bytes", (double)r->bytes},
        {"blocks", (double)r->blocks},
        {"unique_blocks", (double)r->unique_blocks},
        {"duplicate_blocks", (double)r->duplicate_blocks},
        {"zero_blocks", (double)r->zero_blocks},
        {"low_entropy_blocks", (double)r->low_entropy_blocks},
        {"dedup_ratio", r->dedup_ratio},
        {"mean_entropy_bits_per_byte", r->mean_entropy_bits_per_byte},
        {"block_size", MLPIO_DEDUP_BLOCK},
        {"low_entropy_threshold", MLPIO_DEDUP_LOW_ENTROPY},
    };
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!cJSON_AddNumberToObject(o, fields[i].key, fields[i].value)) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    return o;
}
