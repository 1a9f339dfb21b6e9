/* jpeg dataset files, as DLIO's JPEG generator writes them: one 8-bit grayscale baseline JPEG
 * (JFIF, SOF0, one component, quality 75, the standard Huffman tables) of d1 rows x d2 columns
 * per file. The pixels are the generator's bytes [0, d1*d2), row after row, so the image is
 * noise that no two files share (bytes 0..255, where DLIO draws 0..254); libjpeg-turbo
 * encodes it. The size of a file is whatever the encoder makes of its pixels, so file_bytes
 * cannot tell it in advance (it returns 0) and readers take the size of the file itself.
 *
 * Verifying: a JPEG does not hold its pixels' bytes, so its sample is the file's coded bytes.
 * The encoder is deterministic (integer DCT, fixed tables, no optimised Huffman coding), so
 * the same pixels give the same file byte for byte: --verify composes the file again from
 * the generator and compares every byte read with it (the format is marked `encoded`). This
 * holds between builds of the same libjpeg-turbo, whose integer DCT and SIMD paths give
 * identical output; a dataset written by another encoder fails --verify but still reads.
 *
 * Reading parses the JPEG framing without decoding the image: SOI, each marker segment and
 * its length, SOF0 with its dimensions, precision and one component, SOS, then the entropy-
 * coded data byte by byte (0xFF must be followed by a stuffed 0x00, a restart marker or EOI)
 * up to an EOI that ends the file. A damaged or foreign file is an MLPIO_ERR_IO error naming
 * the file, the offset and what is wrong; a valid JPEG of another kind (colour, progressive,
 * 12-bit) is named as such. The whole file is handed to on_sample as sample 0, in pieces
 * (consecutive calls, each with its file offset), and *shape receives the dimensions of SOF0,
 * which the caller compares with the ones it expects.
 */
#include "io/format.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "io/format_stream.h"

#define QUALITY 75               /* PIL's default, which DLIO's generator uses */
#define MAX_SIDE 65500u          /* the largest side libjpeg encodes */
#define OUT_CHUNK 16384          /* encoder output handed to the writer at a time */
#define ROWS_BYTES 65536u        /* pixel rows generated at a time */
#define HEADER_MAX (6 + 3 * 255) /* the longest SOF or SOS payload */

/* Markers (the byte after 0xFF). */
enum {
    M_SOF0 = 0xc0,
    M_DHT = 0xc4,
    M_JPG = 0xc8,
    M_DAC = 0xcc,
    M_RST0 = 0xd0,
    M_RST7 = 0xd7,
    M_SOI = 0xd8,
    M_EOI = 0xd9,
    M_SOS = 0xda,
    M_DQT = 0xdb,
    M_DRI = 0xdd,
    M_APP0 = 0xe0,
    M_APP15 = 0xef,
    M_COM = 0xfe,
};

/* ---- writing ------------------------------------------------------------------------------ */

struct jpg_out {
    struct jpeg_destination_mgr dest;
    struct jpeg_error_mgr jerr;
    jmp_buf fail;
    struct mlpio_fmt_writer w;
    struct mlpio_error *err;
    const char *path;
    JOCTET chunk[OUT_CHUNK];
};

static void out_init(j_compress_ptr c)
{
    struct jpg_out *o = (struct jpg_out *)c->dest;
    o->dest.next_output_byte = o->chunk;
    o->dest.free_in_buffer = OUT_CHUNK;
}

static boolean out_empty(j_compress_ptr c)
{
    struct jpg_out *o = (struct jpg_out *)c->dest;
    if (mlpio_fmt_put(&o->w, o->chunk, OUT_CHUNK, o->err) != 0)
        longjmp(o->fail, 1);
    out_init(c);
    return TRUE;
}

static void out_term(j_compress_ptr c)
{
    struct jpg_out *o = (struct jpg_out *)c->dest;
    if (mlpio_fmt_put(&o->w, o->chunk, OUT_CHUNK - o->dest.free_in_buffer, o->err) != 0)
        longjmp(o->fail, 1);
}

/* libjpeg's errors end the encoding with a message; its warnings are not printed (library
 * code never prints). */
static void jerr_exit(j_common_ptr c)
{
    struct jpg_out *o = c->client_data;
    char msg[JMSG_LENGTH_MAX];
    c->err->format_message(c, msg);
    mlpio_error_set(o->err, MLPIO_ERR_INTERNAL, "jpeg file %s: libjpeg: %s", o->path, msg);
    longjmp(o->fail, 1);
}

static void jerr_quiet(j_common_ptr c)
{
    (void)c;
}

static int check_shape(const char *path, const struct mlpio_format_shape *s,
                       struct mlpio_error *err)
{
    if (s->samples != 1) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "jpeg file %s: %" PRIu32 " samples per file, but a JPEG holds one image",
                        path, s->samples);
        return mlpio_error_hint(err, "use --params dataset.num_samples_per_file=1 with the jpeg "
                                     "format");
    }
    if (s->d1 == 0 || s->d2 == 0 || s->d1 > MAX_SIDE || s->d2 > MAX_SIDE) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "jpeg file %s: an image of %" PRIu64 " x %" PRIu64
                        " pixels; JPEG sides are 1 to %u",
                        path, s->d1, s->d2, MAX_SIDE);
        return mlpio_error_hint(err, "lower dataset.record_length_bytes (a side is the square "
                                     "root of the record length) or --scale");
    }
    return 0;
}

/* Encode the image, generating its rows in blocks of at least one row. */
static int encode(struct jpg_out *o, struct jpeg_compress_struct *c,
                  const struct mlpio_format_shape *s, mlpio_io_fill_fn content, void *content_arg,
                  uint8_t *rows, JDIMENSION nrows)
{
    if (setjmp(o->fail))
        return -1;
    jpeg_create_compress(c);
    c->dest = &o->dest;
    c->image_width = (JDIMENSION)s->d2;
    c->image_height = (JDIMENSION)s->d1;
    c->input_components = 1;
    c->in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, QUALITY, TRUE);
    /* The same pixels must give the same bytes: fixed method and tables. */
    c->dct_method = JDCT_ISLOW;
    c->optimize_coding = FALSE;
    jpeg_start_compress(c, TRUE);
    JSAMPROW ptr[64];
    while (c->next_scanline < c->image_height) {
        JDIMENSION y = c->next_scanline, n = c->image_height - y;
        if (n > nrows)
            n = nrows;
        content(content_arg, rows, (size_t)n * s->d2, (uint64_t)y * s->d2);
        for (JDIMENSION done = 0; done < n;) {
            JDIMENSION k = n - done < 64 ? n - done : 64;
            for (JDIMENSION i = 0; i < k; i++)
                ptr[i] = rows + (size_t)(done + i) * s->d2;
            done += jpeg_write_scanlines(c, ptr, k);
        }
    }
    jpeg_finish_compress(c);
    return 0;
}

static int jpg_compose(const char *path, const struct mlpio_format_shape *shape,
                       mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                       const struct mlpio_format_sink *sink, struct mlpio_error *err)
{
    if (check_shape(path, shape, err) != 0)
        return -1;
    JDIMENSION nrows = (JDIMENSION)(ROWS_BYTES / shape->d2 ? ROWS_BYTES / shape->d2 : 1);
    if (nrows > shape->d1)
        nrows = (JDIMENSION)shape->d1;
    struct jpg_out *o = calloc(1, sizeof(*o));
    uint8_t *rows = malloc((size_t)nrows * shape->d2);
    struct jpeg_compress_struct c;
    int rc = -1;
    if (!o || !rows) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory encoding jpeg file %s", path);
        goto out;
    }
    o->err = err;
    o->path = path;
    o->dest = (struct jpeg_destination_mgr){
        .init_destination = out_init,
        .empty_output_buffer = out_empty,
        .term_destination = out_term,
    };
    memset(&c, 0, sizeof(c));
    c.err = jpeg_std_error(&o->jerr);
    o->jerr.error_exit = jerr_exit;
    o->jerr.output_message = jerr_quiet;
    c.client_data = o;
    if (mlpio_fmt_writer_init(&o->w, sink, buf, buflen, content, content_arg, err) != 0)
        goto out;
    rc = encode(o, &c, shape, content, content_arg, rows, nrows);
    jpeg_destroy_compress(&c);
    if (rc == 0)
        rc = mlpio_fmt_flush(&o->w, err);
out:
    free(rows);
    free(o);
    return rc;
}

/* The encoder decides the size. */
static uint64_t jpg_file_bytes(const struct mlpio_format_shape *shape)
{
    (void)shape;
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct jpg_reader {
    struct mlpio_fmt_reader r;
    const char *path;
    mlpio_format_sample_fn on_sample;
    void *arg;
    uint64_t pos; /* bytes parsed and handed out */
    uint64_t width, height;
    bool have_sof;
};

MLPIO_PRINTF(4, 5)
static int bad(struct jpg_reader *rd, uint64_t off, struct mlpio_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_IO, "jpeg file %s, offset %" PRIu64 ": %s", rd->path, off, what);
    return mlpio_error_hint(err, "the file is damaged or was not written by mlpio; generate the "
                                 "dataset again");
}

/* The next len bytes (len <= span) in one piece; they are handed out when taken. */
static const uint8_t *look(struct jpg_reader *rd, size_t len, const char *what,
                           struct mlpio_error *err)
{
    if (len > rd->r.size - rd->pos) {
        bad(rd, rd->pos, err, "truncated in the %s: %zu bytes needed, %" PRIu64 " left", what, len,
            rd->r.size - rd->pos);
        return NULL;
    }
    const uint8_t *p = mlpio_fmt_need(&rd->r, rd->pos, len, err);
    if (!p)
        mlpio_error_prefix(err, "reading the %s of jpeg file %s", what, rd->path);
    return p;
}

static int take(struct jpg_reader *rd, const uint8_t *p, size_t len, struct mlpio_error *err)
{
    if (len && rd->on_sample(rd->arg, 0, rd->pos, p, len, err) != 0)
        return -1;
    rd->pos += len;
    return 0;
}

/* Hand out len bytes unparsed. */
static int skip(struct jpg_reader *rd, uint64_t len, struct mlpio_error *err)
{
    while (len > 0) {
        size_t got;
        const uint8_t *p = mlpio_fmt_peek(&rd->r, rd->pos, len, &got, err);
        if (!p || take(rd, p, got, err) != 0)
            return -1;
        len -= got;
    }
    return 0;
}

static const char *sof_kind(unsigned m)
{
    static const char *const kinds[16] = {"baseline",
                                          "extended sequential",
                                          "progressive",
                                          "lossless",
                                          NULL,
                                          "differential sequential",
                                          "differential progressive",
                                          "differential lossless",
                                          NULL,
                                          "arithmetic extended sequential",
                                          "arithmetic progressive",
                                          "arithmetic lossless",
                                          NULL,
                                          "arithmetic differential sequential",
                                          "arithmetic differential progressive",
                                          "arithmetic differential lossless"};
    return kinds[m - M_SOF0];
}

static int frame(struct jpg_reader *rd, unsigned m, const uint8_t *p, size_t len, uint64_t at,
                 struct mlpio_error *err)
{
    if (m != M_SOF0)
        return bad(rd, at, err, "a %s JPEG (SOF%u); mlpio's jpeg files are baseline (SOF0)",
                   sof_kind(m), m - M_SOF0);
    if (rd->have_sof)
        return bad(rd, at, err, "a second SOF0 frame header");
    if (len < 6 || len != 6 + 3u * p[5])
        return bad(rd, at, err, "SOF0 segment of %zu bytes for %u components", len + 2,
                   len < 6 ? 0 : p[5]);
    rd->height = (uint64_t)p[1] << 8 | p[2];
    rd->width = (uint64_t)p[3] << 8 | p[4];
    if (p[0] != 8)
        return bad(rd, at, err, "%u-bit samples; mlpio's jpeg files are 8-bit", p[0]);
    if (p[5] != 1)
        return bad(rd, at, err,
                   "%u components (%s) of %" PRIu64 " x %" PRIu64
                   " pixels (height x width); mlpio's jpeg files are grayscale (1 component)",
                   p[5], p[5] == 3 ? "colour" : "not grayscale", rd->height, rd->width);
    if (rd->height == 0 || rd->width == 0)
        return bad(rd, at, err, "image of %" PRIu64 " x %" PRIu64 " pixels", rd->height, rd->width);
    rd->have_sof = true;
    return 0;
}

static int scan_header(struct jpg_reader *rd, const uint8_t *p, size_t len, uint64_t at,
                       struct mlpio_error *err)
{
    if (!rd->have_sof)
        return bad(rd, at, err, "SOS before any SOF0 frame header");
    if (len < 1 || len != 4 + 2u * p[0])
        return bad(rd, at, err, "SOS segment of %zu bytes for %u components", len + 2,
                   len < 1 ? 0 : p[0]);
    if (p[0] != 1)
        return bad(rd, at, err, "scan of %u components; the frame has 1", p[0]);
    return 0;
}

/* Marker segments from after SOI up to and including SOS. */
static int segments(struct jpg_reader *rd, struct mlpio_error *err)
{
    for (;;) {
        uint64_t at = rd->pos;
        const uint8_t *p = look(rd, 2, "marker", err);
        if (!p)
            return -1;
        if (p[0] != 0xff)
            return bad(rd, at, err, "expected a marker (0xFF), found 0x%02x", p[0]);
        unsigned m = p[1];
        if (m == 0xff) { /* fill byte before a marker */
            if (take(rd, p, 1, err) != 0)
                return -1;
            continue;
        }
        if (m == M_SOI || m == M_EOI || (m >= M_RST0 && m <= M_RST7) || m == 0x01 || m == 0)
            return bad(rd, at, err, "marker 0xFF%02X before the image data", m);
        if (take(rd, p, 2, err) != 0 || !(p = look(rd, 2, "segment length", err)))
            return -1;
        size_t len = (size_t)p[0] << 8 | p[1];
        if (len < 2)
            return bad(rd, rd->pos, err, "segment 0xFF%02X has length %zu (at least 2)", m, len);
        if (len - 2 > rd->r.size - rd->pos - 2)
            return bad(rd, at, err,
                       "segment 0xFF%02X of %zu bytes runs past the end of the file (%" PRIu64
                       " bytes left): truncated",
                       m, len, rd->r.size - at - 2);
        if (take(rd, p, 2, err) != 0)
            return -1;
        len -= 2;
        bool sof = m >= M_SOF0 && m <= 0xcf && m != M_DHT && m != M_JPG && m != M_DAC;
        if ((sof || m == M_SOS) && len > HEADER_MAX)
            return bad(rd, at, err, "%s segment of %zu bytes (at most %d)",
                       m == M_SOS ? "SOS" : "SOF", len + 2, HEADER_MAX + 2);
        if (sof || m == M_SOS) {
            if (!(p = look(rd, len, m == M_SOS ? "scan header" : "frame header", err)))
                return -1;
            int rc = sof ? frame(rd, m, p, len, at, err) : scan_header(rd, p, len, at, err);
            if (rc != 0 || take(rd, p, len, err) != 0)
                return -1;
            if (m == M_SOS)
                return 0;
            continue;
        }
        if (m != M_DHT && m != M_DQT && m != M_DRI && m != M_COM && (m < M_APP0 || m > M_APP15))
            return bad(rd, at, err, "unexpected marker 0xFF%02X in the header", m);
        if (skip(rd, len, err) != 0)
            return -1;
    }
}

/* Entropy-coded data up to EOI: a 0xFF is a stuffed 0xFF00, a restart marker, fill, or EOI. */
static int entropy(struct jpg_reader *rd, struct mlpio_error *err)
{
    uint64_t start = rd->pos;
    bool pair = false; /* a 0xFF ended what was loaded: load what follows it */
    while (rd->pos < rd->r.size) {
        size_t got;
        if (pair && !mlpio_fmt_need(&rd->r, rd->pos, 2, err))
            return -1;
        const uint8_t *p = mlpio_fmt_peek(&rd->r, rd->pos, rd->r.size - rd->pos, &got, err);
        if (!p)
            return -1;
        pair = false;
        size_t i = 0;
        for (;;) {
            const uint8_t *ff = memchr(p + i, 0xff, got - i);
            if (!ff) {
                i = got;
                break;
            }
            i = (size_t)(ff - p);
            if (i + 1 == got) {
                if (rd->pos + got == rd->r.size)
                    return bad(rd, rd->pos + i, err,
                               "truncated: the file ends in a marker, without EOI");
                pair = true;
                break;
            }
            unsigned m = p[i + 1];
            if (m == 0 || (m >= M_RST0 && m <= M_RST7)) {
                i += 2;
                continue;
            }
            if (m == 0xff) {
                i += 1;
                continue;
            }
            uint64_t at = rd->pos + i;
            if (m != M_EOI)
                return bad(rd, at, err,
                           "marker 0xFF%02X in the entropy-coded data (which began at offset "
                           "%" PRIu64 "); a baseline grayscale JPEG has one scan",
                           m, start);
            if (take(rd, p, i + 2, err) != 0)
                return -1;
            if (rd->pos != rd->r.size)
                return bad(rd, rd->pos, err, "%" PRIu64 " bytes after the EOI marker",
                           rd->r.size - rd->pos);
            return 0;
        }
        if (take(rd, p, i, err) != 0)
            return -1;
    }
    return bad(rd, rd->r.size, err,
               "truncated: the file ends in the entropy-coded data (which began at offset "
               "%" PRIu64 "), without EOI",
               start);
}

static int jpg_read(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                    struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                    struct mlpio_error *err)
{
    struct jpg_reader rd = {.path = f->path, .on_sample = on_sample, .arg = arg};
    if (mlpio_fmt_reader_init(&rd.r, f, file_size, buf, buflen, err) != 0)
        return -1;
    if (file_size < 4)
        return bad(&rd, 0, err, "%" PRIu64 " bytes is too short for a JPEG", file_size);
    const uint8_t *p = look(&rd, 2, "SOI marker", err);
    if (!p)
        return -1;
    if (p[0] != 0xff || p[1] != M_SOI)
        return bad(&rd, 0, err, "not a JPEG: starts with 0x%02x%02x, not the SOI marker 0xFFD8",
                   p[0], p[1]);
    if (take(&rd, p, 2, err) != 0 || segments(&rd, err) != 0 || entropy(&rd, err) != 0)
        return -1;
    *shape = (struct mlpio_format_shape){.d1 = rd.height, .d2 = rd.width, .samples = 1};
    return 0;
}

const struct mlpio_format mlpio_format_jpeg = {
    .name = "jpeg",
    .ext = "jpeg", /* DLIO names files after the format: img_<i>_of_<N>.jpeg */
    .file_bytes = jpg_file_bytes,
    .compose = jpg_compose,
    .read = jpg_read,
    .encoded = true,
};
