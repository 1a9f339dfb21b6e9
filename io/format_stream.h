/* Buffered streaming shared by the dataset formats (internal to io/).
 *
 * A format composes or parses a file front to back through the caller's scratch buffer. The
 * writer fills the buffer with headers and generator bytes and hands it whole to a sink (which
 * writes it, or passes it to another thread and returns a second buffer to go on in), so every
 * piece but the last starts at a multiple of MLPIO_IO_ALIGN in an aligned buffer, as O_DIRECT
 * requires. The reader loads the file the same way and keeps what the parser still needs at
 * the front, placed so that the next read is aligned too; a span of up to
 * mlpio_fmt_reader_span() bytes can be asked for in one contiguous piece, longer data is
 * consumed in pieces. Neither allocates.
 */
#ifndef MLPIO_FORMAT_STREAM_H
#define MLPIO_FORMAT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "io/error.h"
#include "io/format.h"
#include "io/io.h"

typedef uint32_t (*mlpio_fmt_crc_fn)(uint32_t crc, const void *buf, size_t len);

struct mlpio_fmt_writer {
    const struct mlpio_format_sink *sink;
    uint8_t *buf; /* the buffer being composed (the sink may return another after each piece) */
    size_t cap;   /* buflen rounded down to MLPIO_IO_ALIGN */
    size_t fill;  /* bytes composed in buf */
    uint64_t pos; /* file offset of buf[0] */
    uint64_t cur; /* file offset of the next byte composed */
    uint64_t lo;  /* only the bytes of [lo, hi) are written (see mlpio_fmt_writer_window) */
    uint64_t hi;
    mlpio_io_fill_fn content;
    void *content_arg;
    mlpio_fmt_crc_fn crc_fn; /* checksum of the bytes composed since crc_begin, or NULL */
    uint32_t crc;
};

/* Start composing a file at offset 0 into buf, handing the pieces to sink. buflen must be at
 * least 2 * MLPIO_IO_ALIGN. */
int mlpio_fmt_writer_init(struct mlpio_fmt_writer *w, const struct mlpio_format_sink *sink,
                          void *buf, size_t buflen, mlpio_io_fill_fn content, void *content_arg,
                          struct mlpio_error *err) MLPIO_WUR;
/* The sink of a format's write: every piece written to f at once, the next composed in the same
 * buffer. *sink refers to f and stays valid as long as f. */
void mlpio_fmt_file_sink(struct mlpio_io_file *f, struct mlpio_format_sink *sink);
/* Compose again from offset 0 but write only the bytes of [lo, hi), lo a multiple of
 * MLPIO_IO_ALIGN: rewrites a header whose checksum was known only after its data. Generator
 * bytes outside the window are not produced, and no checksum is kept. */
void mlpio_fmt_writer_window(struct mlpio_fmt_writer *w, uint64_t lo, uint64_t hi);
/* Append bytes, or len generator bytes from content offset coff. */
int mlpio_fmt_put(struct mlpio_fmt_writer *w, const void *p, size_t len,
                  struct mlpio_error *err) MLPIO_WUR;
int mlpio_fmt_put_content(struct mlpio_fmt_writer *w, uint64_t coff, uint64_t len,
                          struct mlpio_error *err) MLPIO_WUR;
/* Hand what is composed to the sink (call once at the end). */
int mlpio_fmt_flush(struct mlpio_fmt_writer *w, struct mlpio_error *err) MLPIO_WUR;
/* Checksum the bytes appended from now on; crc_end returns it and stops. */
void mlpio_fmt_crc_begin(struct mlpio_fmt_writer *w, mlpio_fmt_crc_fn fn);
uint32_t mlpio_fmt_crc_end(struct mlpio_fmt_writer *w);

struct mlpio_fmt_reader {
    struct mlpio_io_file *f;
    uint8_t *buf;
    size_t cap;     /* buflen rounded down to MLPIO_IO_ALIGN */
    uint64_t size;  /* file size */
    uint64_t wbase; /* file offset that buf[0] stands for */
    uint64_t wend;  /* end of the loaded bytes: aligned, or the end of the file */
    uint64_t valid; /* first loaded byte still held */
};

int mlpio_fmt_reader_init(struct mlpio_fmt_reader *r, struct mlpio_io_file *f, uint64_t size,
                          void *buf, size_t buflen, struct mlpio_error *err) MLPIO_WUR;
/* Longest span mlpio_fmt_need can return in one piece. */
size_t mlpio_fmt_reader_span(const struct mlpio_fmt_reader *r);
/* The file's bytes [off, off+len) in one piece (len <= span), valid until the next call that
 * moves forward past them. Offsets must not go backwards past what was asked before. NULL on
 * a read error or when the file ends first (MLPIO_ERR_IO naming the path and offset). */
const uint8_t *mlpio_fmt_need(struct mlpio_fmt_reader *r, uint64_t off, size_t len,
                              struct mlpio_error *err);
/* Between 1 and max bytes starting at off (*got receives how many); NULL as need. */
const uint8_t *mlpio_fmt_peek(struct mlpio_fmt_reader *r, uint64_t off, uint64_t max, size_t *got,
                              struct mlpio_error *err);

/* Little-endian field access. */
static inline uint16_t mlpio_fmt_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t mlpio_fmt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mlpio_fmt_le64(const uint8_t *p)
{
    return (uint64_t)mlpio_fmt_le32(p) | (uint64_t)mlpio_fmt_le32(p + 4) << 32;
}

static inline uint8_t *mlpio_fmt_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static inline uint8_t *mlpio_fmt_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}

static inline uint8_t *mlpio_fmt_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

/* Bytes of v as a base-128 varint (protobuf, Thrift compact protocol). */
static inline size_t mlpio_fmt_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

#endif
