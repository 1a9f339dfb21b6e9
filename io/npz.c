/* npz dataset files: a zip archive of two stored NPY arrays, as numpy.savez writes them.
 *
 *   local header "x.npy" | NPY header | d1*d2*spf sample bytes, uint8 shape (d1, d2, spf)
 *   local header "y.npy" | NPY header | spf labels, int64 little-endian shape (spf,)
 *   central directory | [zip64 end record | zip64 locator] | end record
 *
 * Sample i is bytes [i*d1*d2, (i+1)*d1*d2) of the x payload, which are the generator's bytes at
 * the same offsets (the layout of the reference datasets, whose x is (d1, d2, spf)). The labels
 * are the 8*spf generator bytes that follow, read as int64 (arbitrary values). So every byte
 * outside the zip and NPY headers comes from the generator and can be verified.
 *
 * Zip keeps each member's CRC-32 in its local header, in front of the data it covers. The file
 * is written front to back with zero there, then the aligned block holding each local header
 * is composed again with the CRC and rewritten: at most one extra 4 KiB write per member and no
 * data descriptors, which streaming zip readers cannot use on stored members.
 *
 * Reading walks the archive front to back and checks everything a zip reader relies on: the
 * local headers, each member's NPY header (dtype, order, shape against the member's size) and
 * CRC-32, and the central directory and end records against what was read. Samples are handed
 * out whole, or in pieces (consecutive calls with the same index) when larger than the read
 * buffer; a member's CRC is judged after its samples.
 *
 * ZIP64: as soon as a member size or an offset would not fit the 32-bit fields (>= 0xffffffff),
 * every local header carries a zip64 extra field with both sizes, every central entry one with
 * sizes and offset (the 32-bit fields then hold 0xffffffff) and the archive ends with the zip64
 * end record and locator. Below that the archive is plain zip, as zipfile writes it.
 */
#include "io/format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/crc32c.h"
#include "io/format_stream.h"

#define LFH_LEN 30
#define CDH_LEN 46
#define EOCD_LEN 22
#define EOCD64_LEN 56
#define LOC64_LEN 20
#define Z64_LFH_EXTRA 20 /* id, size, uncompressed and compressed sizes */
#define Z64_CDH_EXTRA 28 /* id, size, both sizes, local header offset */
#define FIELD_MAX 0xffffffffu
/* Longest NPY header written; numpy itself refuses to parse headers above 10000 bytes. */
#define NPY_WRITE_MAX 192
#define NPY_READ_MAX 10000

#define SIG_LFH 0x04034b50u
#define SIG_CDH 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

/* 1980-01-01 00:00, the zip epoch: files are byte-identical whenever they are written. */
#define DOS_TIME 0
#define DOS_DATE 0x21

struct npz_member {
    const char *name;
    uint8_t npy[NPY_WRITE_MAX];
    size_t npy_len;
    uint64_t coff;    /* generator offset of the payload */
    uint64_t payload; /* bytes after the NPY header */
    uint64_t size;    /* npy_len + payload */
    uint64_t lfh_off;
};

struct npz_layout {
    bool zip64;
    struct npz_member m[2];
    uint64_t cd_off, cd_len, total;
};

static size_t lfh_len(const struct npz_layout *L)
{
    return LFH_LEN + 5 + (L->zip64 ? Z64_LFH_EXTRA : 0);
}

static size_t cdh_len(const struct npz_layout *L)
{
    return CDH_LEN + 5 + (L->zip64 ? Z64_CDH_EXTRA : 0);
}

/* NPY v1.0: magic, version, header length, then the dict padded with spaces and a newline so
 * that the array starts at a multiple of 64 bytes, as numpy writes it. */
static size_t npy_header(uint8_t *out, const char *descr, const char *shape)
{
    char *dict = (char *)out + 10;
    int n = snprintf(dict, NPY_WRITE_MAX - 10,
                     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64;
    memset(dict + n, ' ', total - 10 - (size_t)n - 1);
    out[total - 1] = '\n';
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    mlpio_fmt_put16(out + 8, (uint16_t)(total - 10));
    return total;
}

static int layout(const struct mlpio_format_shape *s, struct npz_layout *L)
{
    uint64_t sample, payload;
    /* Far beyond any file system; keeps every sum below 2^64. */
    const uint64_t limit = (uint64_t)1 << 60;
    if (s->d1 == 0 || s->d2 == 0 || __builtin_mul_overflow(s->d1, s->d2, &sample) ||
        __builtin_mul_overflow(sample, (uint64_t)s->samples, &payload) || payload > limit)
        return -1;
    char shape[96];
    memset(L, 0, sizeof(*L));
    snprintf(shape, sizeof(shape), "(%" PRIu64 ", %" PRIu64 ", %" PRIu32 ")", s->d1, s->d2,
             s->samples);
    L->m[0] = (struct npz_member){.name = "x.npy", .coff = 0, .payload = payload};
    L->m[0].npy_len = npy_header(L->m[0].npy, "|u1", shape);
    snprintf(shape, sizeof(shape), "(%" PRIu32 ",)", s->samples);
    L->m[1] =
        (struct npz_member){.name = "y.npy", .coff = payload, .payload = 8 * (uint64_t)s->samples};
    L->m[1].npy_len = npy_header(L->m[1].npy, "<i8", shape);

    for (int z = 0; z < 2; z++) {
        L->zip64 = z;
        uint64_t off = 0;
        bool fits = true;
        for (int i = 0; i < 2; i++) {
            struct npz_member *m = &L->m[i];
            m->size = m->npy_len + m->payload;
            m->lfh_off = off;
            off += lfh_len(L) + m->size;
            fits = fits && m->size < FIELD_MAX && m->lfh_off < FIELD_MAX;
        }
        L->cd_off = off;
        L->cd_len = 2 * cdh_len(L);
        L->total = off + L->cd_len + (L->zip64 ? EOCD64_LEN + LOC64_LEN : 0) + EOCD_LEN;
        if (fits && L->cd_off < FIELD_MAX)
            break;
    }
    return 0;
}

static size_t local_header(const struct npz_layout *L, int i, uint32_t crc, uint8_t *out)
{
    const struct npz_member *m = &L->m[i];
    uint32_t size32 = L->zip64 ? FIELD_MAX : (uint32_t)m->size;
    uint8_t *p = mlpio_fmt_put32(out, SIG_LFH);
    p = mlpio_fmt_put16(p, L->zip64 ? 45 : 20); /* version needed to extract */
    p = mlpio_fmt_put16(p, 0);                  /* flags */
    p = mlpio_fmt_put16(p, 0);                  /* method: stored */
    p = mlpio_fmt_put16(p, DOS_TIME);
    p = mlpio_fmt_put16(p, DOS_DATE);
    p = mlpio_fmt_put32(p, crc);
    p = mlpio_fmt_put32(p, size32); /* compressed */
    p = mlpio_fmt_put32(p, size32); /* uncompressed */
    p = mlpio_fmt_put16(p, 5);
    p = mlpio_fmt_put16(p, L->zip64 ? Z64_LFH_EXTRA : 0);
    memcpy(p, m->name, 5);
    p += 5;
    if (L->zip64) {
        p = mlpio_fmt_put16(p, 1);
        p = mlpio_fmt_put16(p, Z64_LFH_EXTRA - 4);
        p = mlpio_fmt_put64(p, m->size);
        p = mlpio_fmt_put64(p, m->size);
    }
    return (size_t)(p - out);
}

/* Central directory and end records. */
static size_t trailer(const struct npz_layout *L, const uint32_t crc[2], uint8_t *out)
{
    uint8_t *p = out;
    for (int i = 0; i < 2; i++) {
        const struct npz_member *m = &L->m[i];
        uint32_t size32 = L->zip64 ? FIELD_MAX : (uint32_t)m->size;
        p = mlpio_fmt_put32(p, SIG_CDH);
        p = mlpio_fmt_put16(p, 3 << 8 | (L->zip64 ? 45 : 20)); /* made by: unix */
        p = mlpio_fmt_put16(p, L->zip64 ? 45 : 20);
        p = mlpio_fmt_put16(p, 0);
        p = mlpio_fmt_put16(p, 0);
        p = mlpio_fmt_put16(p, DOS_TIME);
        p = mlpio_fmt_put16(p, DOS_DATE);
        p = mlpio_fmt_put32(p, crc[i]);
        p = mlpio_fmt_put32(p, size32);
        p = mlpio_fmt_put32(p, size32);
        p = mlpio_fmt_put16(p, 5);
        p = mlpio_fmt_put16(p, L->zip64 ? Z64_CDH_EXTRA : 0);
        p = mlpio_fmt_put16(p, 0);              /* comment */
        p = mlpio_fmt_put16(p, 0);              /* disk */
        p = mlpio_fmt_put16(p, 0);              /* internal attributes */
        p = mlpio_fmt_put32(p, 0100644u << 16); /* regular file, rw-r--r-- */
        p = mlpio_fmt_put32(p, L->zip64 ? FIELD_MAX : (uint32_t)m->lfh_off);
        memcpy(p, m->name, 5);
        p += 5;
        if (L->zip64) {
            p = mlpio_fmt_put16(p, 1);
            p = mlpio_fmt_put16(p, Z64_CDH_EXTRA - 4);
            p = mlpio_fmt_put64(p, m->size);
            p = mlpio_fmt_put64(p, m->size);
            p = mlpio_fmt_put64(p, m->lfh_off);
        }
    }
    if (L->zip64) {
        uint64_t rec = L->cd_off + L->cd_len;
        p = mlpio_fmt_put32(p, SIG_EOCD64);
        p = mlpio_fmt_put64(p, EOCD64_LEN - 12);
        p = mlpio_fmt_put16(p, 3 << 8 | 45);
        p = mlpio_fmt_put16(p, 45);
        p = mlpio_fmt_put32(p, 0);
        p = mlpio_fmt_put32(p, 0);
        p = mlpio_fmt_put64(p, 2);
        p = mlpio_fmt_put64(p, 2);
        p = mlpio_fmt_put64(p, L->cd_len);
        p = mlpio_fmt_put64(p, L->cd_off);
        p = mlpio_fmt_put32(p, SIG_LOC64);
        p = mlpio_fmt_put32(p, 0);
        p = mlpio_fmt_put64(p, rec);
        p = mlpio_fmt_put32(p, 1);
    }
    p = mlpio_fmt_put32(p, SIG_EOCD);
    p = mlpio_fmt_put16(p, 0);
    p = mlpio_fmt_put16(p, 0);
    p = mlpio_fmt_put16(p, 2);
    p = mlpio_fmt_put16(p, 2);
    p = mlpio_fmt_put32(p, (uint32_t)L->cd_len);
    p = mlpio_fmt_put32(p, L->zip64 ? FIELD_MAX : (uint32_t)L->cd_off);
    p = mlpio_fmt_put16(p, 0);
    return (size_t)(p - out);
}

/* The whole file, front to back. With record set, the members' CRCs are computed on the way
 * into crc[]; otherwise crc[] holds them already. */
static int emit(struct mlpio_fmt_writer *w, const struct npz_layout *L, uint32_t crc[2],
                bool record, struct mlpio_error *err)
{
    uint8_t hdr[2 * (CDH_LEN + 5 + Z64_CDH_EXTRA) + EOCD64_LEN + LOC64_LEN + EOCD_LEN];
    for (int i = 0; i < 2; i++) {
        const struct npz_member *m = &L->m[i];
        if (mlpio_fmt_put(w, hdr, local_header(L, i, crc[i], hdr), err) != 0)
            return -1;
        if (record)
            mlpio_fmt_crc_begin(w, mlpio_crc32);
        if (mlpio_fmt_put(w, m->npy, m->npy_len, err) != 0 ||
            mlpio_fmt_put_content(w, m->coff, m->payload, err) != 0)
            return -1;
        if (record)
            crc[i] = mlpio_fmt_crc_end(w);
    }
    if (mlpio_fmt_put(w, hdr, trailer(L, crc, hdr), err) != 0)
        return -1;
    return mlpio_fmt_flush(w, err);
}

static uint64_t npz_file_bytes(const struct mlpio_format_shape *shape)
{
    struct npz_layout L;
    return layout(shape, &L) == 0 ? L.total : 0;
}

static int npz_compose(const char *path, const struct mlpio_format_shape *shape,
                       mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                       const struct mlpio_format_sink *sink, struct mlpio_error *err)
{
    struct npz_layout L;
    struct mlpio_fmt_writer w;
    uint32_t crc[2] = {0, 0};
    if (layout(shape, &L) != 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "npz file %s: cannot hold %" PRIu32 " samples of %" PRIu64
                               " x %" PRIu64 " bytes",
                               path, shape->samples, shape->d1, shape->d2);
    if (mlpio_fmt_writer_init(&w, sink, buf, buflen, content, content_arg, err) != 0 ||
        emit(&w, &L, crc, true, err) != 0)
        return -1;
    /* Rewrite the aligned blocks that hold the local headers, now that their CRCs are known
     * (one block when both headers share it). */
    uint64_t done = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t lo = L.m[i].lfh_off & ~(uint64_t)(MLPIO_IO_ALIGN - 1);
        uint64_t hi =
            (L.m[i].lfh_off + lfh_len(&L) + MLPIO_IO_ALIGN - 1) & ~(uint64_t)(MLPIO_IO_ALIGN - 1);
        if (lo < done)
            lo = done;
        if (hi > L.total)
            hi = L.total;
        if (lo >= hi)
            continue;
        mlpio_fmt_writer_window(&w, lo, hi);
        if (emit(&w, &L, crc, false, err) != 0)
            return -1;
        done = hi;
    }
    return 0;
}

/* Reading. */

#define MAX_MEMBERS 8

struct npz_seen {
    char name[64];
    uint64_t lfh_off, size;
    uint32_t crc;
};

struct npz_reader {
    struct mlpio_fmt_reader r;
    const char *path;
    mlpio_format_sample_fn on_sample;
    void *arg;
    struct mlpio_format_shape shape;
    bool have_x, have_y;
    uint64_t labels;
    struct npz_seen seen[MAX_MEMBERS];
    unsigned nseen;
};

struct npy_info {
    char descr[16];
    bool fortran;
    unsigned ndim;
    uint64_t dims[4];
    size_t header_len;
};

MLPIO_PRINTF(4, 5)
static int bad(struct npz_reader *rd, uint64_t off, struct mlpio_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_IO, "npz file %s, offset %" PRIu64 ": %s", rd->path, off, what);
    return mlpio_error_hint(err, "the file is damaged or was not written by mlpio; generate the "
                                 "dataset again");
}

static const uint8_t *need(struct npz_reader *rd, uint64_t off, uint64_t len, const char *what,
                           struct mlpio_error *err)
{
    if (len > mlpio_fmt_reader_span(&rd->r)) {
        bad(rd, off, err, "%s of %" PRIu64 " bytes is larger than mlpio accepts", what, len);
        return NULL;
    }
    const uint8_t *p = mlpio_fmt_need(&rd->r, off, (size_t)len, err);
    if (!p)
        mlpio_error_prefix(err, "reading the npz %s", what);
    return p;
}

/* A tiny reader of the Python literal in NPY headers: {'key': value, ...} where a value is a
 * quoted string, True/False or a tuple of integers. */
struct scan {
    const char *s, *end;
};

static bool lit(struct scan *sc, char c)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t'))
        sc->s++;
    if (sc->s < sc->end && *sc->s == c) {
        sc->s++;
        return true;
    }
    return false;
}

static bool quoted(struct scan *sc, char *out, size_t cap)
{
    char q = lit(sc, '\'') ? '\'' : lit(sc, '"') ? '"' : 0;
    size_t n = 0;
    if (!q)
        return false;
    while (sc->s < sc->end && *sc->s != q) {
        if (n + 1 >= cap)
            return false;
        out[n++] = *sc->s++;
    }
    out[n] = '\0';
    return lit(sc, q);
}

static bool word(struct scan *sc, const char *w)
{
    size_t n = strlen(w);
    lit(sc, ' ');
    if ((size_t)(sc->end - sc->s) < n || memcmp(sc->s, w, n) != 0)
        return false;
    sc->s += n;
    return true;
}

static bool tuple(struct scan *sc, struct npy_info *in)
{
    if (!lit(sc, '('))
        return false;
    in->ndim = 0;
    while (!lit(sc, ')')) {
        uint64_t v = 0;
        const char *start = sc->s;
        while (sc->s < sc->end && *sc->s >= '0' && *sc->s <= '9') {
            if (__builtin_mul_overflow(v, 10, &v) ||
                __builtin_add_overflow(v, (uint64_t)(*sc->s - '0'), &v))
                return false;
            sc->s++;
        }
        if (sc->s == start || in->ndim == 4)
            return false;
        in->dims[in->ndim++] = v;
        if (!lit(sc, ',') && !lit(sc, ')'))
            return false;
        if (sc->s[-1] == ')')
            break;
    }
    return true;
}

static bool parse_dict(const char *text, size_t len, struct npy_info *in)
{
    struct scan sc = {text, text + len};
    unsigned seen = 0;
    if (!lit(&sc, '{'))
        return false;
    while (!lit(&sc, '}')) {
        char key[32];
        if (!quoted(&sc, key, sizeof(key)) || !lit(&sc, ':'))
            return false;
        if (strcmp(key, "descr") == 0 && quoted(&sc, in->descr, sizeof(in->descr)))
            seen |= 1;
        else if (strcmp(key, "fortran_order") == 0 && word(&sc, "True"))
            in->fortran = true, seen |= 2;
        else if (strcmp(key, "fortran_order") == 0 && word(&sc, "False"))
            in->fortran = false, seen |= 2;
        else if (strcmp(key, "shape") == 0 && tuple(&sc, in))
            seen |= 4;
        else
            return false;
        if (!lit(&sc, ',')) {
            if (!lit(&sc, '}'))
                return false;
            break;
        }
    }
    while (sc.s < sc.end && (*sc.s == ' ' || *sc.s == '\n'))
        sc.s++;
    return seen == 7 && sc.s == sc.end && text[len - 1] == '\n';
}

/* The NPY header at the start of a member of size bytes; its CRC-32 starts *crc. */
static int read_npy(struct npz_reader *rd, const char *name, uint64_t off, uint64_t size,
                    struct npy_info *in, uint32_t *crc, struct mlpio_error *err)
{
    if (size < 12)
        return bad(rd, off, err, "member %s of %" PRIu64 " bytes is too short for an NPY file",
                   name, size);
    const uint8_t *p = need(rd, off, 12, "NPY header", err);
    if (!p)
        return -1;
    if (memcmp(p, "\x93NUMPY", 6) != 0)
        return bad(rd, off, err, "member %s does not start with the NPY magic \\x93NUMPY", name);
    if ((p[6] != 1 && p[6] != 2) || p[7] != 0)
        return bad(rd, off, err, "member %s has NPY version %u.%u; mlpio reads 1.0 and 2.0", name,
                   p[6], p[7]);
    size_t prefix = p[6] == 1 ? 10 : 12;
    uint64_t hlen = p[6] == 1 ? mlpio_fmt_le16(p + 8) : mlpio_fmt_le32(p + 8);
    if (hlen == 0 || hlen > NPY_READ_MAX || prefix + hlen > size)
        return bad(rd, off, err,
                   "member %s: NPY header length %" PRIu64 " does not fit its %" PRIu64 " bytes",
                   name, hlen, size);
    if (!(p = need(rd, off, prefix + hlen, "NPY header", err)))
        return -1;
    memset(in, 0, sizeof(*in));
    in->header_len = prefix + (size_t)hlen;
    *crc = mlpio_crc32(0, p, in->header_len);
    if (!parse_dict((const char *)p + prefix, (size_t)hlen, in))
        return bad(rd, off + prefix, err, "member %s: malformed NPY header dict \"%.*s\"", name,
                   (int)(hlen < 120 ? hlen : 120), (const char *)p + prefix);
    if (in->fortran)
        return bad(rd, off + prefix, err, "member %s is in Fortran order; mlpio reads C order",
                   name);
    return 0;
}

/* Checksum len bytes at off, in pieces. */
static int crc_span(struct npz_reader *rd, uint64_t off, uint64_t len, uint32_t *crc,
                    struct mlpio_error *err)
{
    while (len > 0) {
        size_t got;
        const uint8_t *p = mlpio_fmt_peek(&rd->r, off, len, &got, err);
        if (!p)
            return mlpio_error_prefix(err, "reading npz member data");
        *crc = mlpio_crc32(*crc, p, got);
        off += got;
        len -= got;
    }
    return 0;
}

/* One sample: whole when it fits the buffer, otherwise in consecutive pieces. */
static int deliver(struct npz_reader *rd, uint32_t index, uint64_t off, uint64_t len, uint32_t *crc,
                   struct mlpio_error *err)
{
    size_t got = 0;
    for (; len > 0; off += got, len -= got) {
        const uint8_t *p = len <= mlpio_fmt_reader_span(&rd->r)
                               ? mlpio_fmt_need(&rd->r, off, got = (size_t)len, err)
                               : mlpio_fmt_peek(&rd->r, off, len, &got, err);
        if (!p)
            return mlpio_error_prefix(err, "reading npz sample %" PRIu32, index);
        *crc = mlpio_crc32(*crc, p, got);
        if (rd->on_sample(rd->arg, index, off, p, got, err) != 0)
            return -1;
    }
    return 0;
}

static int read_x(struct npz_reader *rd, uint64_t off, uint64_t size, uint32_t *crc,
                  struct mlpio_error *err)
{
    struct npy_info in;
    uint64_t sample, payload;
    if (read_npy(rd, "x.npy", off, size, &in, crc, err) != 0)
        return -1;
    if (strcmp(in.descr, "|u1") != 0)
        return bad(rd, off, err, "x.npy has dtype '%s'; mlpio samples are '|u1'", in.descr);
    if (in.ndim != 3 || in.dims[0] == 0 || in.dims[1] == 0 || in.dims[2] > UINT32_MAX ||
        __builtin_mul_overflow(in.dims[0], in.dims[1], &sample) ||
        __builtin_mul_overflow(sample, in.dims[2], &payload))
        return bad(rd, off, err, "x.npy shape is not (d1, d2, samples) with d1, d2 >= 1");
    if (payload != size - in.header_len)
        return bad(rd, off, err,
                   "x.npy shape (%" PRIu64 ", %" PRIu64 ", %" PRIu64 ") needs %" PRIu64
                   " bytes but the member holds %" PRIu64,
                   in.dims[0], in.dims[1], in.dims[2], payload, size - in.header_len);
    rd->shape = (struct mlpio_format_shape){in.dims[0], in.dims[1], (uint32_t)in.dims[2]};
    rd->have_x = true;
    off += in.header_len;
    for (uint32_t i = 0; i < rd->shape.samples; i++)
        if (deliver(rd, i, off + i * sample, sample, crc, err) != 0)
            return -1;
    return 0;
}

static int read_y(struct npz_reader *rd, uint64_t off, uint64_t size, uint32_t *crc,
                  struct mlpio_error *err)
{
    struct npy_info in;
    if (read_npy(rd, "y.npy", off, size, &in, crc, err) != 0)
        return -1;
    if (strcmp(in.descr, "<i8") != 0)
        return bad(rd, off, err, "y.npy has dtype '%s'; mlpio labels are '<i8'", in.descr);
    if (in.ndim != 1 || in.dims[0] > (size - in.header_len) / 8 ||
        in.dims[0] * 8 != size - in.header_len)
        return bad(rd, off, err, "y.npy shape does not match its %" PRIu64 " bytes of labels",
                   size - in.header_len);
    rd->labels = in.dims[0];
    rd->have_y = true;
    return crc_span(rd, off + in.header_len, size - in.header_len, crc, err);
}

/* The zip64 extra field's values, in the order the spec fixes, for the fields set to the
 * 32-bit maximum. */
static int zip64_extra(struct npz_reader *rd, uint64_t off, const uint8_t *x, size_t xlen,
                       uint64_t *vals[3], struct mlpio_error *err)
{
    bool want = false;
    for (int i = 0; i < 3; i++)
        want = want || (vals[i] && *vals[i] == FIELD_MAX);
    if (!want)
        return 0;
    for (size_t k = 0; k + 4 <= xlen;) {
        uint16_t id = mlpio_fmt_le16(x + k), n = mlpio_fmt_le16(x + k + 2);
        if (k + 4 + n > xlen)
            break;
        if (id == 1) {
            size_t used = 0;
            for (int i = 0; i < 3; i++) {
                if (!vals[i] || *vals[i] != FIELD_MAX)
                    continue;
                if (used + 8 > n)
                    return bad(rd, off, err, "zip64 extra field too short");
                *vals[i] = mlpio_fmt_le64(x + k + 4 + used);
                used += 8;
            }
            return 0;
        }
        k += 4 + (size_t)n;
    }
    return bad(rd, off, err, "sizes or offset set to 0xffffffff but no zip64 extra field");
}

static int read_member(struct npz_reader *rd, uint64_t off, uint64_t *next, struct mlpio_error *err)
{
    const uint8_t *p = need(rd, off, LFH_LEN, "local file header", err);
    if (!p)
        return -1;
    uint16_t flags = mlpio_fmt_le16(p + 6), method = mlpio_fmt_le16(p + 8);
    uint32_t crc = mlpio_fmt_le32(p + 14), got = 0;
    uint64_t csize = mlpio_fmt_le32(p + 18), usize = mlpio_fmt_le32(p + 22);
    size_t nlen = mlpio_fmt_le16(p + 26), xlen = mlpio_fmt_le16(p + 28);
    if (flags & 0x9)
        return bad(rd, off, err, "member is %s (zip flags 0x%04x); mlpio reads plain members",
                   flags & 1 ? "encrypted" : "followed by a data descriptor", flags);
    if (method != 0)
        return bad(rd, off, err, "member is compressed (method %u); npz datasets are stored",
                   method);
    if (rd->nseen == MAX_MEMBERS)
        return bad(rd, off, err, "more than %d members", MAX_MEMBERS);
    if (!(p = need(rd, off + LFH_LEN, nlen + xlen, "local file header name", err)))
        return -1;
    struct npz_seen *s = &rd->seen[rd->nseen++];
    if (nlen == 0 || nlen >= sizeof(s->name))
        return bad(rd, off, err, "member name of %zu bytes", nlen);
    memcpy(s->name, p, nlen);
    s->name[nlen] = '\0';
    s->lfh_off = off;
    s->crc = crc;
    if (zip64_extra(rd, off, p + nlen, xlen, (uint64_t *[3]){&usize, &csize, NULL}, err) != 0)
        return -1;
    if (csize != usize)
        return bad(rd, off, err,
                   "stored member %s has compressed size %" PRIu64 " and size %" PRIu64, s->name,
                   csize, usize);
    uint64_t data = off + LFH_LEN + nlen + xlen;
    if (data > rd->r.size || usize > rd->r.size - data)
        return bad(rd, off, err,
                   "member %s of %" PRIu64 " bytes runs past the end of the %" PRIu64
                   "-byte file (truncated)",
                   s->name, usize, rd->r.size);
    s->size = usize;
    int rc;
    if (strcmp(s->name, "x.npy") == 0 && !rd->have_x)
        rc = read_x(rd, data, usize, &got, err);
    else if (strcmp(s->name, "y.npy") == 0 && !rd->have_y)
        rc = read_y(rd, data, usize, &got, err);
    else
        rc = crc_span(rd, data, usize, &got, err);
    if (rc != 0)
        return -1;
    if (got != crc)
        return bad(rd, data, err,
                   "member %s has CRC-32 0x%08" PRIx32 ", its header says 0x%08" PRIx32, s->name,
                   got, crc);
    *next = data + usize;
    return 0;
}

/* Central directory entries must describe the members just read. */
static int read_central(struct npz_reader *rd, uint64_t off, uint64_t *end, struct mlpio_error *err)
{
    for (unsigned i = 0; i < rd->nseen; i++) {
        const struct npz_seen *s = &rd->seen[i];
        const uint8_t *p = need(rd, off, CDH_LEN, "central directory", err);
        if (!p)
            return -1;
        if (mlpio_fmt_le32(p) != SIG_CDH)
            return bad(rd, off, err, "central directory entry %u missing (found 0x%08" PRIx32 ")",
                       i, mlpio_fmt_le32(p));
        uint32_t crc = mlpio_fmt_le32(p + 16);
        uint64_t csize = mlpio_fmt_le32(p + 20), usize = mlpio_fmt_le32(p + 24);
        uint64_t lfh = mlpio_fmt_le32(p + 42);
        size_t nlen = mlpio_fmt_le16(p + 28), xlen = mlpio_fmt_le16(p + 30);
        size_t clen = mlpio_fmt_le16(p + 32);
        if (!(p = need(rd, off + CDH_LEN, nlen + xlen, "central directory entry", err)))
            return -1;
        if (zip64_extra(rd, off, p + nlen, xlen, (uint64_t *[3]){&usize, &csize, &lfh}, err) != 0)
            return -1;
        if (nlen != strlen(s->name) || memcmp(p, s->name, nlen) != 0 || crc != s->crc ||
            usize != s->size || csize != s->size || lfh != s->lfh_off)
            return bad(rd, off, err,
                       "central directory entry %u disagrees with the local header of %s at "
                       "offset %" PRIu64,
                       i, s->name, s->lfh_off);
        off += CDH_LEN + nlen + xlen + clen;
    }
    *end = off;
    return 0;
}

/* The end records, which must point back at the central directory and end the file. */
static int read_end(struct npz_reader *rd, uint64_t cd_off, uint64_t off, struct mlpio_error *err)
{
    uint64_t cd_len = off - cd_off, entries = 0, len = 0, start = 0;
    const uint8_t *p = need(rd, off, 4, "end of central directory", err);
    if (!p)
        return -1;
    bool zip64 = mlpio_fmt_le32(p) == SIG_EOCD64;
    if (zip64) {
        if (!(p = need(rd, off, EOCD64_LEN, "zip64 end record", err)))
            return -1;
        entries = mlpio_fmt_le64(p + 32);
        len = mlpio_fmt_le64(p + 40);
        start = mlpio_fmt_le64(p + 48);
        uint64_t loc = off + 12 + mlpio_fmt_le64(p + 4);
        if (loc < off + EOCD64_LEN || !(p = need(rd, loc, LOC64_LEN, "zip64 locator", err)))
            return p ? bad(rd, off, err, "zip64 end record too short") : -1;
        if (mlpio_fmt_le32(p) != SIG_LOC64 || mlpio_fmt_le64(p + 8) != off)
            return bad(rd, loc, err, "zip64 end locator missing or not pointing at offset %" PRIu64,
                       off);
        off = loc + LOC64_LEN;
    }
    if (!(p = need(rd, off, EOCD_LEN, "end of central directory", err)))
        return -1;
    if (mlpio_fmt_le32(p) != SIG_EOCD)
        return bad(rd, off, err, "end of central directory missing (found 0x%08" PRIx32 ")",
                   mlpio_fmt_le32(p));
    if (!zip64) {
        entries = mlpio_fmt_le16(p + 10);
        len = mlpio_fmt_le32(p + 12);
        start = mlpio_fmt_le32(p + 16);
    }
    if (entries != rd->nseen || len != cd_len || start != cd_off)
        return bad(rd, off, err,
                   "end record says %" PRIu64 " entries, %" PRIu64 " bytes at offset %" PRIu64
                   "; the central directory has %u, %" PRIu64 " bytes at offset %" PRIu64,
                   entries, len, start, rd->nseen, cd_len, cd_off);
    uint64_t end = off + EOCD_LEN + mlpio_fmt_le16(p + 20);
    if (end != rd->r.size)
        return bad(rd, off, err,
                   "the archive ends at offset %" PRIu64 " but the file has %" PRIu64 " bytes", end,
                   rd->r.size);
    return 0;
}

static int npz_read(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                    struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                    struct mlpio_error *err)
{
    struct npz_reader rd = {.path = f->path, .on_sample = on_sample, .arg = arg};
    uint64_t off = 0, end = 0;
    if (mlpio_fmt_reader_init(&rd.r, f, file_size, buf, buflen, err) != 0)
        return -1;
    for (;;) {
        const uint8_t *p = need(&rd, off, 4, "next zip header", err);
        if (!p)
            return -1;
        uint32_t sig = mlpio_fmt_le32(p);
        if (sig == SIG_CDH)
            break;
        if (sig != SIG_LFH)
            return bad(&rd, off, err, "expected a zip local file header, found 0x%08" PRIx32, sig);
        if (read_member(&rd, off, &off, err) != 0)
            return -1;
    }
    if (!rd.have_x || !rd.have_y)
        return bad(&rd, off, err, "no %s member", rd.have_x ? "y.npy" : "x.npy");
    if (rd.labels != rd.shape.samples)
        return bad(&rd, off, err, "y.npy holds %" PRIu64 " labels for %" PRIu32 " samples",
                   rd.labels, rd.shape.samples);
    if (read_central(&rd, off, &end, err) != 0 || read_end(&rd, off, end, err) != 0)
        return -1;
    *shape = rd.shape;
    return 0;
}

const struct mlpio_format mlpio_format_npz = {
    .name = "npz",
    .ext = "npz",
    .file_bytes = npz_file_bytes,
    .compose = npz_compose,
    .read = npz_read,
};
