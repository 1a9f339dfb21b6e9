/* tfrecord dataset files: spf records, each a serialized tf.train.Example, framed as
 *
 *   u64 length | u32 masked CRC-32C of the 8 length bytes | data | u32 masked CRC-32C of data
 *
 * (all little-endian), the framing TensorFlow's TFRecordReader checks. The Example holds two
 * features, in the sorted key order of deterministic serialisation:
 *   "image" -> bytes_list { value: the d1*d2 bytes of the sample }
 *   "size"  -> int64_list { value: d1*d2 } (packed)
 * Record i's image is the generator's bytes [i*d1*d2, (i+1)*d1*d2). The protobuf is written by
 * hand: every record of a file has the same length, so the bytes around the image are composed
 * once per file.
 *
 * Reading checks both CRCs of every record and parses the Example far enough to find the
 * image and size (other fields and features are skipped, as protobuf allows them). A record
 * that fits the read buffer is checked before its sample is handed out whole. A larger one is
 * checksummed as it streams through the buffer, and its CRC judged after its sample, which
 * comes in pieces (consecutive calls with the same index) when it is larger than the buffer.
 * tfrecord keeps only the image length, so the shape read back is d1 = length, d2 = 1.
 */
#include "io/format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/crc32c.h"
#include "io/format_stream.h"

#define FRAME_HEAD 12 /* length and its CRC */
#define FRAME_TAIL 4  /* CRC of the data */
#define VARINT_MAX 10

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Tag byte of field f with wire type w (fields < 16). */
#define TAG(f, w) ((uint8_t)((f) << 3 | (w)))

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* The bytes of a record's data before and after its image, and the data's length. */
struct tf_record {
    uint64_t sample;
    uint64_t data_len;
    uint8_t head[64];
    size_t head_len;
    uint8_t tail[64];
    size_t tail_len;
};

static int record_parts(const struct mlpio_format_shape *s, struct tf_record *r)
{
    uint64_t n;
    /* Far beyond any file system; keeps every sum below 2^64. */
    if (s->d1 == 0 || s->d2 == 0 || __builtin_mul_overflow(s->d1, s->d2, &n) || n > (1ull << 56))
        return -1;
    uint64_t int64_list = 2 + mlpio_fmt_varint_len(n);     /* value: packed, one varint */
    uint64_t size_feature = 2 + int64_list;                /* Feature.int64_list */
    uint64_t size_entry = 2 + 4 + 2 + size_feature;        /* key "size", value */
    uint64_t bytes_list = 1 + mlpio_fmt_varint_len(n) + n; /* value: the image */
    uint64_t image_feature = 1 + mlpio_fmt_varint_len(bytes_list) + bytes_list;
    uint64_t image_entry = 2 + 5 + 1 + mlpio_fmt_varint_len(image_feature) + image_feature;
    uint64_t features = 1 + mlpio_fmt_varint_len(image_entry) + image_entry + 1 +
                        mlpio_fmt_varint_len(size_entry) + size_entry;

    r->sample = n;
    r->data_len = 1 + mlpio_fmt_varint_len(features) + features;
    uint8_t *p = r->head;
    *p++ = TAG(1, WT_LEN); /* Example.features */
    p = put_varint(p, features);
    *p++ = TAG(1, WT_LEN); /* Features.feature map entry */
    p = put_varint(p, image_entry);
    *p++ = TAG(1, WT_LEN); /* key */
    *p++ = 5;
    memcpy(p, "image", 5);
    p += 5;
    *p++ = TAG(2, WT_LEN); /* value */
    p = put_varint(p, image_feature);
    *p++ = TAG(1, WT_LEN); /* Feature.bytes_list */
    p = put_varint(p, bytes_list);
    *p++ = TAG(1, WT_LEN); /* BytesList.value */
    p = put_varint(p, n);
    r->head_len = (size_t)(p - r->head);

    p = r->tail;
    *p++ = TAG(1, WT_LEN);
    p = put_varint(p, size_entry);
    *p++ = TAG(1, WT_LEN);
    *p++ = 4;
    memcpy(p, "size", 4);
    p += 4;
    *p++ = TAG(2, WT_LEN);
    p = put_varint(p, size_feature);
    *p++ = TAG(3, WT_LEN); /* Feature.int64_list */
    p = put_varint(p, int64_list);
    *p++ = TAG(1, WT_LEN); /* Int64List.value, packed */
    p = put_varint(p, mlpio_fmt_varint_len(n));
    p = put_varint(p, n);
    r->tail_len = (size_t)(p - r->tail);
    return 0;
}

static uint64_t tf_file_bytes(const struct mlpio_format_shape *shape)
{
    struct tf_record r;
    if (record_parts(shape, &r) != 0)
        return 0;
    return (FRAME_HEAD + r.data_len + FRAME_TAIL) * shape->samples;
}

static int tf_compose(const char *path, const struct mlpio_format_shape *shape,
                      mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                      const struct mlpio_format_sink *sink, struct mlpio_error *err)
{
    struct tf_record r;
    struct mlpio_fmt_writer w;
    uint8_t frame[FRAME_HEAD];
    if (record_parts(shape, &r) != 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "tfrecord file %s: cannot hold samples of %" PRIu64 " x %" PRIu64
                               " bytes",
                               path, shape->d1, shape->d2);
    if (mlpio_fmt_writer_init(&w, sink, buf, buflen, content, content_arg, err) != 0)
        return -1;
    mlpio_fmt_put64(frame, r.data_len);
    mlpio_fmt_put32(frame + 8, mlpio_crc32c_mask(mlpio_crc32c(0, frame, 8)));
    for (uint32_t i = 0; i < shape->samples; i++) {
        if (mlpio_fmt_put(&w, frame, FRAME_HEAD, err) != 0)
            return -1;
        mlpio_fmt_crc_begin(&w, mlpio_crc32c);
        if (mlpio_fmt_put(&w, r.head, r.head_len, err) != 0 ||
            mlpio_fmt_put_content(&w, i * r.sample, r.sample, err) != 0 ||
            mlpio_fmt_put(&w, r.tail, r.tail_len, err) != 0)
            return -1;
        uint8_t crc[FRAME_TAIL];
        mlpio_fmt_put32(crc, mlpio_crc32c_mask(mlpio_fmt_crc_end(&w)));
        if (mlpio_fmt_put(&w, crc, sizeof(crc), err) != 0)
            return -1;
    }
    return mlpio_fmt_flush(&w, err);
}

/* Reading. */

struct tf_reader {
    struct mlpio_fmt_reader r;
    const char *path;
    mlpio_format_sample_fn on_sample;
    void *arg;
    /* The record being parsed. */
    uint32_t index;
    uint64_t rec_off;
    uint64_t pos; /* next byte to parse */
    bool crc_on;  /* the data CRC is computed while parsing (records larger than the buffer) */
    uint32_t crc;
    bool have_image, have_size;
    uint64_t image_len, size_value;
};

MLPIO_PRINTF(4, 5)
static int bad(struct tf_reader *rd, uint64_t off, struct mlpio_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_IO,
                    "tfrecord file %s, record %" PRIu32 " at offset %" PRIu64
                    ": %s (offset %" PRIu64 ")",
                    rd->path, rd->index, rd->rec_off, what, off);
    return mlpio_error_hint(err, "the file is damaged or was not written by mlpio; generate the "
                                 "dataset again");
}

static const uint8_t *need(struct tf_reader *rd, uint64_t off, size_t len, struct mlpio_error *err)
{
    const uint8_t *p = mlpio_fmt_need(&rd->r, off, len, err);
    if (!p)
        mlpio_error_prefix(err, "reading tfrecord record %" PRIu32 " at offset %" PRIu64, rd->index,
                           rd->rec_off);
    return p;
}

/* Consume len bytes at rd->pos; with deliver, hand them out as a sample (whole if they fit). */
static int consume(struct tf_reader *rd, uint64_t len, bool deliver, struct mlpio_error *err)
{
    while (len > 0) {
        size_t got;
        const uint8_t *p = deliver && len <= mlpio_fmt_reader_span(&rd->r)
                               ? mlpio_fmt_need(&rd->r, rd->pos, got = (size_t)len, err)
                               : mlpio_fmt_peek(&rd->r, rd->pos, len, &got, err);
        if (!p)
            return mlpio_error_prefix(err, "reading tfrecord record %" PRIu32 " at offset %" PRIu64,
                                      rd->index, rd->rec_off);
        if (rd->crc_on)
            rd->crc = mlpio_crc32c(rd->crc, p, got);
        if (deliver && rd->on_sample(rd->arg, rd->index, rd->pos, p, got, err) != 0)
            return -1;
        rd->pos += got;
        len -= got;
    }
    return 0;
}

static int varint(struct tf_reader *rd, uint64_t end, uint64_t *v, struct mlpio_error *err)
{
    size_t n = end - rd->pos < VARINT_MAX ? (size_t)(end - rd->pos) : VARINT_MAX;
    const uint8_t *p = need(rd, rd->pos, n, err);
    if (!p)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (rd->crc_on)
                rd->crc = mlpio_crc32c(rd->crc, p, i + 1);
            rd->pos += i + 1;
            return 0;
        }
    }
    return bad(rd, rd->pos, err, "malformed protobuf varint");
}

/* Next field of a message ending at end: its number, wire type and, for length-delimited
 * fields, the length (checked against end). */
static int field(struct tf_reader *rd, uint64_t end, uint64_t *num, unsigned *wt, uint64_t *len,
                 struct mlpio_error *err)
{
    uint64_t tag;
    uint64_t at = rd->pos;
    if (varint(rd, end, &tag, err) != 0)
        return -1;
    *num = tag >> 3;
    *wt = (unsigned)(tag & 7);
    *len = *wt == WT_I64 ? 8 : *wt == WT_I32 ? 4 : 0;
    if (*wt == WT_LEN && varint(rd, end, len, err) != 0)
        return -1;
    if (*num == 0 || (*wt != WT_VARINT && *wt != WT_I64 && *wt != WT_LEN && *wt != WT_I32))
        return bad(rd, at, err, "malformed protobuf tag 0x%" PRIx64, tag);
    if (*len > end - rd->pos)
        return bad(rd, at, err,
                   "protobuf field %" PRIu64 " of %" PRIu64 " bytes runs past its "
                   "message",
                   *num, *len);
    return 0;
}

static int skip(struct tf_reader *rd, uint64_t end, unsigned wt, uint64_t len,
                struct mlpio_error *err)
{
    uint64_t v;
    return wt == WT_VARINT ? varint(rd, end, &v, err) : consume(rd, len, false, err);
}

/* BytesList of the "image" feature: its one value is the sample. */
static int image_feature(struct tf_reader *rd, uint64_t end, struct mlpio_error *err)
{
    while (rd->pos < end) {
        uint64_t num, len, lend;
        unsigned wt;
        uint64_t at = rd->pos;
        if (field(rd, end, &num, &wt, &len, err) != 0)
            return -1;
        if (num != 1 || wt != WT_LEN)
            return bad(rd, at, err, "feature \"image\" is not a bytes_list");
        for (lend = rd->pos + len; rd->pos < lend;) {
            at = rd->pos;
            if (field(rd, lend, &num, &wt, &len, err) != 0)
                return -1;
            if (num != 1 || wt != WT_LEN) {
                if (skip(rd, lend, wt, len, err) != 0)
                    return -1;
                continue;
            }
            if (rd->have_image)
                return bad(rd, at, err, "feature \"image\" holds more than one value");
            rd->have_image = true;
            rd->image_len = len;
            if (consume(rd, len, true, err) != 0)
                return -1;
        }
    }
    return 0;
}

/* Int64List of the "size" feature, packed or not: one value. */
static int size_feature(struct tf_reader *rd, uint64_t end, struct mlpio_error *err)
{
    while (rd->pos < end) {
        uint64_t num, len, lend, v;
        unsigned wt;
        uint64_t at = rd->pos;
        if (field(rd, end, &num, &wt, &len, err) != 0)
            return -1;
        if (num != 3 || wt != WT_LEN)
            return bad(rd, at, err, "feature \"size\" is not an int64_list");
        for (lend = rd->pos + len; rd->pos < lend;) {
            if (field(rd, lend, &num, &wt, &len, err) != 0)
                return -1;
            if (num != 1 || (wt != WT_LEN && wt != WT_VARINT)) {
                if (skip(rd, lend, wt, len, err) != 0)
                    return -1;
                continue;
            }
            for (uint64_t vend = wt == WT_LEN ? rd->pos + len : lend; rd->pos < vend;) {
                at = rd->pos;
                if (varint(rd, vend, &v, err) != 0)
                    return -1;
                if (rd->have_size)
                    return bad(rd, at, err, "feature \"size\" holds more than one value");
                rd->have_size = true;
                rd->size_value = v;
                if (wt == WT_VARINT)
                    break;
            }
        }
    }
    return 0;
}

/* A Features map entry. Serialisers write the key first; a value met before its key cannot
 * be told apart and is skipped. */
static int entry(struct tf_reader *rd, uint64_t end, struct mlpio_error *err)
{
    char key[8] = "";
    while (rd->pos < end) {
        uint64_t num, len;
        unsigned wt;
        if (field(rd, end, &num, &wt, &len, err) != 0)
            return -1;
        int rc;
        if (num == 1 && wt == WT_LEN && len < sizeof(key)) {
            const uint8_t *p = need(rd, rd->pos, (size_t)len, err);
            if (!p)
                return -1;
            memcpy(key, p, (size_t)len);
            key[len] = '\0';
            rc = consume(rd, len, false, err);
        } else if (num == 2 && wt == WT_LEN && strcmp(key, "image") == 0) {
            rc = image_feature(rd, rd->pos + len, err);
        } else if (num == 2 && wt == WT_LEN && strcmp(key, "size") == 0) {
            rc = size_feature(rd, rd->pos + len, err);
        } else {
            rc = skip(rd, end, wt, len, err);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Example { features: Features { feature: map } }: walks down to the map entries. */
static int example(struct tf_reader *rd, uint64_t end, int depth, struct mlpio_error *err)
{
    while (rd->pos < end) {
        uint64_t num, len;
        unsigned wt;
        if (field(rd, end, &num, &wt, &len, err) != 0)
            return -1;
        int rc = num != 1 || wt != WT_LEN ? skip(rd, end, wt, len, err)
                 : depth == 0             ? example(rd, rd->pos + len, 1, err)
                                          : entry(rd, rd->pos + len, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int check_crc(struct tf_reader *rd, uint64_t at, const uint8_t *stored, uint32_t crc,
                     const char *what, struct mlpio_error *err)
{
    uint32_t want = mlpio_fmt_le32(stored);
    if (mlpio_crc32c_mask(crc) == want)
        return 0;
    return bad(rd, at, err,
               "CRC-32C mismatch on the %s: stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
               " (masked)",
               what, want, mlpio_crc32c_mask(crc));
}

static int record(struct tf_reader *rd, uint64_t *next, struct mlpio_error *err)
{
    uint64_t off = rd->rec_off, left = rd->r.size - off;
    if (left < FRAME_HEAD)
        return bad(rd, off, err, "truncated record header: %" PRIu64 " bytes left", left);
    const uint8_t *p = need(rd, off, FRAME_HEAD, err);
    if (!p || check_crc(rd, off + 8, p + 8, mlpio_crc32c(0, p, 8), "record length", err) != 0)
        return -1;
    uint64_t len = mlpio_fmt_le64(p), data = off + FRAME_HEAD;
    if (len > left - FRAME_HEAD || left - FRAME_HEAD - len < FRAME_TAIL)
        return bad(rd, off, err,
                   "record of %" PRIu64 " bytes runs past the end of the file (%" PRIu64
                   " bytes left): truncated",
                   len, left - FRAME_HEAD);
    rd->pos = data;
    rd->crc = 0;
    rd->have_image = rd->have_size = false;
    rd->crc_on = len + FRAME_TAIL > mlpio_fmt_reader_span(&rd->r);
    if (!rd->crc_on) {
        /* The whole record is in the buffer: check it before handing out its sample. */
        if (!(p = need(rd, data, (size_t)len + FRAME_TAIL, err)) ||
            check_crc(rd, data + len, p + len, mlpio_crc32c(0, p, (size_t)len), "record data",
                      err) != 0)
            return -1;
    }
    if (example(rd, data + len, 0, err) != 0)
        return -1;
    if (rd->crc_on && (!(p = need(rd, data + len, FRAME_TAIL, err)) ||
                       check_crc(rd, data + len, p, rd->crc, "record data", err) != 0))
        return -1;
    if (!rd->have_image || !rd->have_size)
        return bad(rd, data, err, "the Example has no \"%s\" feature",
                   rd->have_image ? "size" : "image");
    if (rd->size_value != rd->image_len)
        return bad(rd, data, err,
                   "feature \"size\" is %" PRIu64 " but \"image\" has %" PRIu64 " bytes",
                   rd->size_value, rd->image_len);
    *next = data + len + FRAME_TAIL;
    return 0;
}

static int tf_read(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                   struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                   struct mlpio_error *err)
{
    struct tf_reader rd = {.path = f->path, .on_sample = on_sample, .arg = arg};
    uint64_t sample = 0;
    if (mlpio_fmt_reader_init(&rd.r, f, file_size, buf, buflen, err) != 0)
        return -1;
    for (uint64_t off = 0; off < file_size; rd.index++) {
        rd.rec_off = off;
        if (rd.index == UINT32_MAX)
            return bad(&rd, off, err, "more than %" PRIu32 " records", UINT32_MAX - 1);
        if (record(&rd, &off, err) != 0)
            return -1;
        if (rd.index == 0)
            sample = rd.image_len;
        else if (rd.image_len != sample)
            return bad(&rd, rd.rec_off, err,
                       "image of %" PRIu64 " bytes; record 0 has %" PRIu64
                       " (mlpio files hold samples of one size)",
                       rd.image_len, sample);
    }
    *shape = (struct mlpio_format_shape){.d1 = sample, .d2 = 1, .samples = rd.index};
    return 0;
}

const struct mlpio_format mlpio_format_tfrecord = {
    .name = "tfrecord",
    .ext = "tfrecord",
    .file_bytes = tf_file_bytes,
    .compose = tf_compose,
    .read = tf_read,
};
